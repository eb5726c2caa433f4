//! The bad-input corpus: every folder of `tests/bad-input/` is a small
//! repository holding something manifold must survive, plus an `expected`
//! file saying what the run must report (see `tests/bad-input/README.md`).
//!
//! Each case runs in a scratch copy with a good target added beside the bad
//! input (`good/cm.yaml`, a ConfigMap missing the `team` label the run
//! requires): its output and its `labels/required` finding must appear
//! whatever the bad input does. Every run must also end on its own, without
//! a panic, and write nothing but its `--out` tree.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::support::{Scratch, cache_dir};

const GOOD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\ndata:\n  a: \"1\"\n";

/// A run that takes longer than this hangs: the slowest case (a Rego
/// policy that never ends, against a 2 s timeout) needs a few seconds.
const WATCHDOG: Duration = Duration::from_secs(120);

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/bad-input")
}

/// One expected finding: rule, file (`-` for none), line, message fragment.
#[derive(Debug)]
struct Finding {
    rule: String,
    file: Option<String>,
    line: Option<u64>,
    fragment: String,
}

#[derive(Debug, Default)]
struct Expected {
    args: Vec<String>,
    exit: i32,
    setup: Vec<Vec<String>>,
    findings: Vec<Finding>,
    /// Files with no input error (`manifold/*`): inputs at a limit, not over it.
    clean: Vec<String>,
    ok: Vec<String>,
    failed: Vec<String>,
    absent: Vec<String>,
    stderr: Vec<String>,
}

fn parse_expected(text: &str) -> Expected {
    let mut expected = Expected {
        args: [
            "render",
            ".",
            "--out",
            "hydrated",
            "--require-label",
            "team",
        ]
        .map(String::from)
        .to_vec(),
        exit: 1,
        ..Expected::default()
    };
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("expected: {line:?} is not `key: value`"));
        let value = value.trim();
        match key {
            "args" => expected.args = value.split_whitespace().map(String::from).collect(),
            "exit" => expected.exit = value.parse().unwrap(),
            "setup" => expected
                .setup
                .push(value.split_whitespace().map(String::from).collect()),
            "finding" => {
                let mut parts = value.splitn(3, ' ');
                let rule = parts.next().unwrap().to_owned();
                let place = parts.next().unwrap_or_else(|| panic!("{line}: no file"));
                let fragment = parts.next().unwrap_or("").to_owned();
                let (file, line) = match place.rsplit_once(':') {
                    Some((file, n)) if n.bytes().all(|b| b.is_ascii_digit()) => {
                        (file, Some(n.parse().unwrap()))
                    }
                    _ => (place, None),
                };
                expected.findings.push(Finding {
                    rule,
                    file: (file != "-").then(|| file.to_owned()),
                    line,
                    fragment,
                });
            }
            "clean" => expected.clean.push(value.to_owned()),
            "ok" => expected.ok.push(value.to_owned()),
            "failed" => expected.failed.push(value.to_owned()),
            "absent" => expected.absent.push(value.to_owned()),
            "stderr" => expected.stderr.push(value.to_owned()),
            other => panic!("expected: unknown key {other:?}"),
        }
    }
    expected
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&source, &target);
        } else {
            std::fs::copy(&source, &target).unwrap();
        }
    }
}

/// What the test makes rather than commits: symlinks (some pointing out of
/// the repository) and files too large to keep in git.
fn set_up(repo: &Path, step: &[String]) {
    let path = |p: &str| {
        let full = repo.join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        full
    };
    match step {
        [what, link, target] if what == "symlink" => {
            std::os::unix::fs::symlink(target, path(link)).unwrap();
        }
        // A sparse file: its size is what matters, and writing 200 MB on
        // every run would only cost time.
        [what, file, mib] if what == "sparse" => {
            let file = std::fs::File::create(path(file)).unwrap();
            file.set_len(mib.parse::<u64>().unwrap() << 20).unwrap();
        }
        // A document nested DEPTH levels deep in flow style.
        [what, file, depth] if what == "nested" => {
            let depth: usize = depth.parse().unwrap();
            let text = format!(
                "apiVersion: example.com/v1\nkind: Deep\nmetadata:\n  name: deep\nspec:\n  x: {}1{}\n",
                "[".repeat(depth),
                "]".repeat(depth)
            );
            std::fs::write(path(file), text).unwrap();
        }
        other => panic!("unknown setup {other:?}"),
    }
}

/// Every path under `dir`, symlinks not followed.
fn listing(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path.clone());
            }
            out.insert(path.strip_prefix(dir).unwrap().to_owned());
        }
    }
    out
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn run(dir: &Path, repo: &Path, args: &[String]) -> Run {
    let (stdout, stderr) = (dir.join("stdout"), dir.join("stderr"));
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(args)
        .arg("--cache-dir")
        .arg(cache_dir())
        .current_dir(repo)
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    let out = Run {
        code,
        stdout: read(&stdout),
        stderr: read(&stderr),
        took,
    };
    let _ = std::fs::remove_file(stdout);
    let _ = std::fs::remove_file(stderr);
    out
}

/// Runs one case; the problems found, or nothing.
fn check_case(name: &str) -> Vec<String> {
    let case = corpus().join(name);
    let expected = parse_expected(&std::fs::read_to_string(case.join("expected")).unwrap());
    let scratch = Scratch::new();
    let repo = scratch.dir.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    copy_tree(&case, &repo);
    std::fs::remove_file(repo.join("expected")).unwrap();
    let good = !expected.args.iter().any(|a| a == "--no-good") && expected.exit != 2;
    if good {
        std::fs::create_dir_all(repo.join("good")).unwrap();
        std::fs::write(repo.join("good/cm.yaml"), GOOD).unwrap();
    }
    for step in &expected.setup {
        set_up(&repo, step);
    }
    let before = listing(&scratch.dir);

    let mut args: Vec<String> = expected.args.clone();
    args.retain(|a| a != "--no-good");
    if !args.iter().any(|a| a == "--format") {
        args.extend(["--format".into(), "json".into()]);
    }
    let out = run(&scratch.dir, &repo, &args);
    let mut problems = Vec::new();
    let mut problem = |p: String| problems.push(p);
    if out.code.is_none() {
        problem(format!(
            "did not finish within {WATCHDOG:?} (or died of a signal)"
        ));
    }
    if out.code != Some(expected.exit) {
        problem(format!("exit code {:?}, want {}", out.code, expected.exit));
    }
    if out.stderr.contains("panicked") {
        problem("panicked".into());
    }
    for text in &expected.stderr {
        if !out.stderr.contains(text.as_str()) {
            problem(format!("stderr lacks {text:?}"));
        }
    }

    // Nothing written but the hydrated tree.
    let out_dir = args
        .iter()
        .position(|a| a == "--out")
        .map(|i| PathBuf::from("repo").join(&args[i + 1]));
    let after = listing(&scratch.dir);
    for new in after.difference(&before) {
        if !out_dir.as_ref().is_some_and(|o| new.starts_with(o)) {
            problem(format!("wrote {} outside --out", new.display()));
        }
    }

    let json: serde_json::Value = if expected.exit == 2 {
        serde_json::Value::Null
    } else {
        match serde_json::from_str(&out.stdout) {
            Ok(json) => json,
            Err(e) => {
                problem(format!("stdout is not JSON ({e})"));
                serde_json::Value::Null
            }
        }
    };
    let diagnostics: Vec<&serde_json::Value> = json["diagnostics"]
        .as_array()
        .map(|d| d.iter().collect())
        .unwrap_or_default();
    let mut wanted = expected.findings;
    if good {
        wanted.push(Finding {
            rule: "labels/required".into(),
            file: Some("good/cm.yaml".into()),
            line: None,
            fragment: "team".into(),
        });
    }
    for want in &wanted {
        let found = diagnostics.iter().any(|d| {
            d["rule"] == want.rule.as_str()
                && d["file"].as_str() == want.file.as_deref()
                && want.line.is_none_or(|l| d["line"] == l)
                && d["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(want.fragment.as_str()))
        });
        if !found {
            problem(format!(
                "no finding {} {}{} {:?}",
                want.rule,
                want.file.as_deref().unwrap_or("-"),
                want.line.map(|l| format!(":{l}")).unwrap_or_default(),
                want.fragment
            ));
        }
    }
    for file in &expected.clean {
        for d in diagnostics.iter().filter(|d| {
            d["file"] == file.as_str()
                && d["severity"] == "error"
                && d["rule"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("manifold/"))
        }) {
            problem(format!("{file} should be clean: {}", d["message"]));
        }
    }

    let targets: Vec<&serde_json::Value> = json["targets"]
        .as_array()
        .map(|t| t.iter().collect())
        .unwrap_or_default();
    let target = |name: &str| targets.iter().find(|t| t["name"] == name).copied();
    let mut ok = expected.ok.clone();
    if good && args.first().is_some_and(|c| c != "validate") {
        ok.push("good".into());
    }
    for name in &ok {
        match target(name) {
            Some(t) if t["status"] == "ok" && t["documents"].as_u64() > Some(0) => {}
            other => problem(format!("target {name} not rendered: {other:?}")),
        }
        if let Some(dir) = &out_dir {
            let manifest = scratch.dir.join(dir).join(name).join("manifest.yaml");
            if !std::fs::read_to_string(&manifest).is_ok_and(|m| m.contains("kind:")) {
                problem(format!("{} missing or empty", manifest.display()));
            }
        }
    }
    for name in &expected.failed {
        if !target(name).is_some_and(|t| t["status"] == "failed") {
            problem(format!(
                "target {name} should have failed: {:?}",
                target(name)
            ));
        }
    }
    for name in &expected.absent {
        if target(name).is_some() {
            problem(format!("target {name} should not exist"));
        }
    }
    if !problems.is_empty() {
        let findings: Vec<String> = diagnostics
            .iter()
            .map(|d| {
                format!(
                    "  {} {}:{} {}",
                    d["rule"].as_str().unwrap_or("?"),
                    d["file"].as_str().unwrap_or("-"),
                    d["line"],
                    d["message"].as_str().unwrap_or("")
                )
            })
            .collect();
        let targets: Vec<String> = targets
            .iter()
            .map(|t| format!("  {} {} {}", t["name"], t["status"], t["documents"]))
            .collect();
        problems.push(format!(
            "took {:?}\nfindings:\n{}\ntargets:\n{}\nstderr:\n{}",
            out.took,
            findings.join("\n"),
            targets.join("\n"),
            out.stderr
        ));
        if json.is_null() {
            problems.push(format!("stdout:\n{}", out.stdout));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch.dir);
    problems
}

#[test]
fn every_bad_input_is_named_and_the_rest_of_the_run_completes() {
    let mut cases: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "{cases:?}");
    let failures: Vec<String> = cases
        .par_iter()
        .filter_map(|case| {
            let problems = check_case(case);
            (!problems.is_empty()).then(|| format!("== {case}\n{}", problems.join("\n")))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
