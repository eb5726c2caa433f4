//! Failure injection: runs killed at any moment, caches corrupted on disk,
//! output on a full or read-only file system. Whatever happens, `--out`
//! holds either the previous complete tree or the new complete tree, and
//! a cache entry is either sound or ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::check::{CONFIGMAP, own_cache, repository, tree};
use crate::support::{Scratch, cache_dir};

/// The two states the kill test moves the repository between: several
/// targets change (a plain folder, a chart environment, a base two
/// overlays use), so a half-written tree would show.
fn set_state(scratch: &Scratch, new: bool) {
    let (cm, size, image) = if new {
        (
            CONFIGMAP.replace("plain", "changed"),
            "size: 30\n",
            "nginx:1.27",
        )
    } else {
        (CONFIGMAP.to_owned(), "size: 3\n", "nginx:1.25")
    };
    let write = |path: &str, text: &str| std::fs::write(scratch.dir.join(path), text).unwrap();
    write("plain/cm.yaml", &cm);
    write("charts/cache/values-prod.yaml", size);
    let base = std::fs::read_to_string(scratch.dir.join("apps/web/base/deployment.yaml")).unwrap();
    let base = base
        .replace("nginx:1.25", image)
        .replace("nginx:1.27", image);
    write("apps/web/base/deployment.yaml", &base);
}

fn render(scratch: &Scratch, cache: &Path) -> Duration {
    let started = Instant::now();
    scratch
        .run_with_cache(&["render", ".", "--out", "hydrated"], cache)
        .code(0);
    started.elapsed()
}

/// Leftovers of killed runs beside the tree (`.hydrated.new-PID` …).
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".hydrated."))
        .collect()
}

#[test]
fn fifty_kills_leave_the_previous_tree_or_the_new_one() {
    let scratch = repository();
    let cache = own_cache(&scratch);
    // Both trees, rendered once each: later runs find every render cached,
    // so a run is short and fifty of them stay well inside a minute.
    set_state(&scratch, false);
    render(&scratch, &cache);
    let old = tree(&scratch.dir.join("hydrated"));
    set_state(&scratch, true);
    render(&scratch, &cache);
    let new = tree(&scratch.dir.join("hydrated"));
    assert_ne!(old, new);
    set_state(&scratch, false);
    let run = (0..3).map(|_| render(&scratch, &cache)).max().unwrap();
    assert_eq!(tree(&scratch.dir.join("hydrated")), old);

    // Deterministic pseudo-random delays (an LCG), spread over the whole
    // run and a little past it, so kills land in start-up, discovery,
    // validation, building the new tree and swapping it in.
    let span = (run.as_millis() as u64 * 6 / 5).max(1);
    let mut seed: u64 = 0x6d61_6e69_666f_6c64;
    let (mut kept, mut replaced) = (0, 0);
    for i in 0..50 {
        set_state(&scratch, i % 2 == 0);
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = Duration::from_millis((seed >> 33) % span);
        let mut child = Command::new(env!("CARGO_BIN_EXE_manifold"))
            .args(["render", ".", "--out", "hydrated", "--cache-dir"])
            .arg(&cache)
            .current_dir(&scratch.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        // SIGKILL: nothing of the process runs after it.
        let _ = child.kill();
        let _ = child.wait();
        let now = tree(&scratch.dir.join("hydrated"));
        if now == old {
            kept += 1;
        } else if now == new {
            replaced += 1;
        } else {
            let differ: Vec<&String> = now
                .keys()
                .chain(old.keys())
                .filter(|k| now.get(*k) != old.get(*k) && now.get(*k) != new.get(*k))
                .collect();
            panic!("kill {i} after {delay:?}: a tree that is neither; differing: {differ:?}");
        }
    }
    eprintln!("50 kills over {span} ms: {kept} left the previous tree, {replaced} the new one");
    // The next run clears what killed runs left beside the tree.
    set_state(&scratch, false);
    render(&scratch, &cache);
    assert_eq!(tree(&scratch.dir.join("hydrated")), old);
    assert_eq!(leftovers(&scratch.dir), Vec::<String>::new());
}

/// One byte in the middle changed: a checksum must catch it.
fn flip(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(path, bytes).unwrap();
}

/// The first third kept, as a write cut short would leave it.
fn truncate(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 3]).unwrap();
}

/// Every other file flipped, the rest truncated.
fn flip_and_truncate(files: &[PathBuf]) {
    for (i, path) in files.iter().enumerate() {
        if i % 2 == 0 {
            flip(path)
        } else {
            truncate(path)
        }
    }
}

#[test]
fn corrupt_or_truncated_cache_entries_are_misses_not_wrong_answers() {
    let scratch = repository();
    let cache = own_cache(&scratch);
    let out = scratch.dir.join("out-a");
    scratch
        .run_with_cache(&["render", ".", "--out", out.to_str().unwrap()], &cache)
        .code(0);
    let entries = |kind: &str| -> Vec<PathBuf> {
        tree(&cache.join(kind))
            .into_keys()
            .map(|name| cache.join(kind).join(name))
            .collect()
    };
    let (renders, verdicts) = (entries("renders"), entries("validations"));
    assert_eq!(renders.len(), 4);
    assert!(!verdicts.is_empty());
    flip_and_truncate(&renders);
    flip_and_truncate(&verdicts);
    let again = scratch.dir.join("out-b");
    let json = scratch
        .run_with_cache(
            &[
                "render",
                ".",
                "--out",
                again.to_str().unwrap(),
                "--format",
                "json",
            ],
            &cache,
        )
        .code(0)
        .json();
    assert_eq!(json["cache"]["renders"]["hits"], 0, "{json}");
    assert_eq!(json["cache"]["validations"]["hits"], 0, "{json}");
    assert_eq!(tree(&out), tree(&again));
    // Recomputed entries replace the bad ones and serve the next run.
    let third = scratch
        .run_with_cache(&["check", ".", "--format", "json"], &cache)
        .code(0)
        .json();
    assert_eq!(third["cache"]["renders"]["hits"], 4, "{third}");
    assert_eq!(third["cache"]["validations"]["misses"], 0, "{third}");
}

/// Whether a compiled plugin's file holds the blake3 of its payload first.
fn sound(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.len() > 32 && blake3::hash(&bytes[32..]).as_bytes() == &bytes[..32]
}

#[test]
fn corrupt_or_truncated_compiled_plugins_are_compiled_again() {
    // A cache of its own holding one small plugin, so exactly one entry
    // exists and recompiling it is quick.
    let scratch = Scratch::new();
    let cache = scratch.dir.join("cache");
    let plugin = crate::support::test_plugin("manifold_example_image_tag");
    let inspect = || {
        scratch
            .run_with_cache(&["plugin", "inspect", plugin.to_str().unwrap()], &cache)
            .code(0)
            .stdout_has("name:        image-tag");
    };
    inspect();
    let entries: Vec<PathBuf> = std::fs::read_dir(cache.join("plugins"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    let good = std::fs::read(entry).unwrap();
    assert!(sound(entry));
    // A flipped byte, then a truncation: each is detected, compiled again
    // and written back whole.
    for (what, damage) in [("flipped", flip as fn(&Path)), ("truncated", truncate)] {
        damage(entry);
        assert!(!sound(entry));
        inspect();
        assert!(sound(entry), "{what}: not compiled again");
        assert_eq!(std::fs::read(entry).unwrap().len(), good.len());
    }
}

/// How the file-system tests get a small or read-only file system of their
/// own: a tmpfs mounted in a private mount namespace (as root, or as root
/// of a new user namespace), so nothing leaks into the machine's mounts.
fn namespace_command() -> Result<Vec<&'static str>, String> {
    let works = |args: &[&str]| {
        Command::new("unshare")
            .args(args)
            .args(["sh", "-c", "mount -t tmpfs -o size=64k probe /mnt"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    for candidate in [vec!["-m"], vec!["-r", "-m"]] {
        if works(&candidate) {
            return Ok(candidate);
        }
    }
    Err("`unshare -m` and `unshare -rm` cannot mount a tmpfs here (no CAP_SYS_ADMIN, no user namespaces)".into())
}

/// What one run in the script printed and how it ended.
struct Step {
    code: i32,
    stderr: String,
}

/// The trees before and after the faulty run, that run, what is left
/// beside the tree, and the scratch folder holding the script's files.
struct Outcome {
    before: BTreeMap<String, Vec<u8>>,
    after: BTreeMap<String, Vec<u8>>,
    second: Step,
    beside: String,
    work: Scratch,
}

/// Runs `fault` (shell, with `$MNT` the tmpfs) between a good render into
/// `$MNT/hydrated` and a second render of changed sources. Returns both
/// trees, the second run, and what is left beside the tree; `None` (with
/// the reason printed) when no mechanism is available.
fn in_small_file_system(fault: &str, extra: &str) -> Option<Outcome> {
    let unshare = match namespace_command() {
        Ok(args) => args,
        Err(why) => {
            eprintln!("skipped: {why}");
            return None;
        }
    };
    let scratch = repository();
    let work = Scratch::new();
    let mnt = work.dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    std::fs::write(
        work.dir.join("changed.yaml"),
        CONFIGMAP.replace("plain", "changed"),
    )
    .unwrap();
    let script = format!(
        r#"set -u
mount -t tmpfs -o size=1m manifold-test "$MNT" || exit 77
cd "$REPO"
"$BIN" render . --out "$MNT/hydrated" --cache-dir "$CACHE" >/dev/null 2>"$WORK/first.err" || exit 78
cp -a "$MNT/hydrated" "$WORK/before"
cp "$WORK/changed.yaml" plain/cm.yaml
{fault}
"$BIN" render . --out "$MNT/hydrated" --cache-dir "$CACHE" >/dev/null 2>"$WORK/second.err"
echo $? >"$WORK/second.code"
cp -a "$MNT/hydrated" "$WORK/after"
ls -A "$MNT" >"$WORK/beside"
{extra}
"#
    );
    let status = Command::new("unshare")
        .args(&unshare)
        .args(["sh", "-c", &script])
        .env("MNT", &mnt)
        .env("REPO", &scratch.dir)
        .env("WORK", &work.dir)
        .env("BIN", env!("CARGO_BIN_EXE_manifold"))
        .env("CACHE", cache_dir())
        .status()
        .unwrap();
    let read = |name: &str| std::fs::read_to_string(work.dir.join(name)).unwrap_or_default();
    match status.code() {
        Some(77) => {
            eprintln!("skipped: cannot mount a tmpfs in the namespace");
            return None;
        }
        Some(78) => panic!("the first render failed:\n{}", read("first.err")),
        _ => {}
    }
    let step = Step {
        code: read("second.code").trim().parse().unwrap(),
        stderr: read("second.err"),
    };
    Some(Outcome {
        before: tree(&work.dir.join("before")),
        after: tree(&work.dir.join("after")),
        second: step,
        beside: read("beside"),
        work,
    })
}

#[test]
fn a_full_disk_is_a_clear_error_and_leaves_the_previous_tree() {
    // Fill the file system, then free 16 KiB: the new tree starts and
    // runs out of space part-way through.
    let fault =
        r#"dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null; truncate -s -16K "$MNT/filler""#;
    let Some(Outcome {
        before,
        after,
        second,
        beside,
        ..
    }) = in_small_file_system(fault, "")
    else {
        return;
    };
    assert_eq!(second.code, 2, "{}", second.stderr);
    for text in [
        "cannot write the hydrated tree",
        "No space left on device",
        "the previous tree, if any, is unchanged",
        "the disk is full",
    ] {
        assert!(
            second.stderr.contains(text),
            "{text:?} not in {}",
            second.stderr
        );
    }
    assert_eq!(before, after);
    assert_eq!(
        beside.split_whitespace().collect::<Vec<_>>(),
        ["filler", "hydrated"]
    );
}

#[test]
fn a_read_only_output_folder_is_a_clear_error_and_writes_nothing() {
    let fault = r#"mount -o remount,ro "$MNT""#;
    // And a tree that does not exist yet, on the same read-only file system.
    let extra = r#""$BIN" render . --out "$MNT/fresh" --cache-dir "$CACHE" >/dev/null 2>"$WORK/third.err"
echo $? >"$WORK/third.code"
ls -A "$MNT" >"$WORK/beside-fresh""#;
    let Some(Outcome {
        before,
        after,
        second,
        beside,
        work,
    }) = in_small_file_system(fault, extra)
    else {
        return;
    };
    assert_eq!(second.code, 2, "{}", second.stderr);
    for text in ["Read-only file system", "the file system is read-only"] {
        assert!(
            second.stderr.contains(text),
            "{text:?} not in {}",
            second.stderr
        );
    }
    assert_eq!(before, after);
    assert_eq!(beside.trim(), "hydrated");
    let third = std::fs::read_to_string(work.dir.join("third.code")).unwrap();
    assert_eq!(third.trim(), "2");
    let third_err = std::fs::read_to_string(work.dir.join("third.err")).unwrap();
    assert!(third_err.contains("Read-only file system"), "{third_err}");
    let fresh = std::fs::read_to_string(work.dir.join("beside-fresh")).unwrap();
    assert_eq!(fresh.trim(), "hydrated");
}

/// A named pipe in the repository (a folder of manifests, or a file a
/// kustomization uses) is reported, never waited on: nothing writes to it.
#[test]
fn a_named_pipe_in_the_repository_is_a_finding_not_a_hang() {
    let scratch = Scratch::new()
        .file("plain/cm.yaml", CONFIGMAP)
        .file(
            "app/kustomization.yaml",
            "resources:\n- cm.yaml\n- pipe.yaml\n",
        )
        .file("app/cm.yaml", CONFIGMAP);
    for pipe in ["plain/pipe.yaml", "app/pipe.yaml"] {
        let made = Command::new("mkfifo")
            .arg(scratch.dir.join(pipe))
            .status()
            .unwrap();
        assert!(made.success());
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(["check", ".", "--format", "json", "--cache-dir"])
        .arg(own_cache(&scratch))
        .current_dir(&scratch.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("check waited on a named pipe");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let diagnostics = json["diagnostics"].as_array().unwrap();
    for file in ["plain/pipe.yaml", "app/kustomization.yaml"] {
        assert!(
            diagnostics
                .iter()
                .any(|d| d["file"] == file && d["message"].as_str().unwrap().contains("pipe")),
            "{file}: {json}"
        );
    }
}
