//! Writing the hydrated state a sync agent consumes: one folder per target
//! holding `manifest.yaml` (every document, in a stable order) and
//! `hydrator.metadata` (JSON, the fields Argo CD's Source Hydrator writes
//! plus manifold's own) and a `kustomization.yaml` naming only
//! `manifest.yaml` (so Flux and Argo CD take exactly that folder's
//! documents even when target folders nest), and `manifold.index` at the
//! top. Neither metadata file ends in `.yaml` or `.json`, so tools reading
//! manifests skip them.
//!
//! The tree is built beside the output folder and swapped in with renames:
//! a failed or interrupted run leaves the previous tree as it was.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The top-level index of a hydrated tree.
pub const INDEX: &str = "manifold.index";
/// Per-target metadata, named as Argo CD's Source Hydrator names it.
pub const METADATA: &str = "hydrator.metadata";
/// Per-target manifests.
pub const MANIFEST: &str = "manifest.yaml";
/// Per-target kustomization naming only `manifest.yaml`: Flux builds a
/// folder without one recursively, which would take in nested targets.
pub const KUSTOMIZATION: &str = "kustomization.yaml";
const KUSTOMIZATION_TEXT: &str = "# Written by manifold: this target's hydrated manifests, and nothing below.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - manifest.yaml\n";

/// Writes through a temporary file in the same folder and a rename, so a
/// reader never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Unique per process and call: threads may write the same path at once.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
    let result = std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// One target's hydrated output.
#[derive(Debug, Clone)]
pub struct TargetOutput {
    pub name: String,
    /// `None` when the target failed: its previous output, if any, is kept.
    pub manifest: Option<String>,
    pub metadata: Value,
}

/// Why the hydrated tree was not written. In every case the folder holds
/// what it held before (or nothing, if it did not exist).
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "{}: cannot write the hydrated tree: {action} {}: {source}; the previous tree, if any, is unchanged{}",
        out.display(),
        path.display(),
        hint(source)
    )]
    Io {
        out: PathBuf,
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "{}: holds files that are not hydrated output (no {INDEX}); choose an empty or new folder for --out",
        out.display()
    )]
    NotHydrated { out: PathBuf },
    #[error("{}: is a file; --out needs a folder", out.display())]
    NotAFolder { out: PathBuf },
    #[error(
        "{}: target `{name}` cannot be written: its name would leave its own folder (empty, `.` or `..` parts); nothing was written",
        out.display()
    )]
    UnsafeName { out: PathBuf, name: String },
}

/// What to do about a write that failed, for the kinds people can act on.
fn hint(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            " (the disk is full: free some space or choose another --out)"
        }
        io::ErrorKind::ReadOnlyFilesystem => {
            " (the file system is read-only: choose another --out)"
        }
        io::ErrorKind::PermissionDenied => {
            " (check the permissions of the folder holding --out: the new tree is built beside it)"
        }
        _ => "",
    }
}

/// Whether a target name stays inside the tree as a folder of its own: `.`
/// (the repository root's target) or `/`-separated parts that are neither
/// empty, `.` nor `..`.
pub fn is_safe_name(name: &str) -> bool {
    name == "."
        || (!name.contains(['\\', '\0'])
            && name
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != ".."))
}

/// Replaces the tree at `out` with `targets` and `index`. Targets that are
/// gone from the repository disappear; a failed target keeps its last
/// good output.
pub fn write_tree(out: &Path, targets: &[TargetOutput], index: &Value) -> Result<(), OutputError> {
    if let Some(bad) = targets.iter().find(|t| !is_safe_name(&t.name)) {
        return Err(OutputError::UnsafeName {
            out: out.to_owned(),
            name: bad.name.clone(),
        });
    }
    if out.is_file() {
        return Err(OutputError::NotAFolder {
            out: out.to_owned(),
        });
    }
    if out.is_dir() && !out.join(INDEX).is_file() && non_empty(out) {
        return Err(OutputError::NotHydrated {
            out: out.to_owned(),
        });
    }
    let io = |action: &'static str, path: &Path| {
        let out = out.to_owned();
        let path = path.to_owned();
        move |source| OutputError::Io {
            out,
            action,
            path,
            source,
        }
    };
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
    let base = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hydrated".into());
    clear_leftovers(out, parent, &base);
    let staging = parent.join(format!(".{base}.new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    if let Err((action, path, source)) = build(&staging, out, targets, index) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(io(action, &path)(source));
    }
    swap(out, &staging, parent, &base).map_err(|source| {
        let _ = std::fs::remove_dir_all(&staging);
        io("putting the new tree in place of", out)(source)
    })
}

fn non_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

/// A failed step of building the new tree: what, where, why.
type Failed = (&'static str, PathBuf, io::Error);

fn build(
    staging: &Path,
    previous: &Path,
    targets: &[TargetOutput],
    index: &Value,
) -> Result<(), Failed> {
    let write = |path: PathBuf, bytes: &[u8]| {
        std::fs::write(&path, bytes).map_err(|e| ("writing", path, e))
    };
    std::fs::create_dir_all(staging).map_err(|e| ("creating", staging.to_owned(), e))?;
    for target in targets {
        let dir = staging.join(&target.name);
        std::fs::create_dir_all(&dir).map_err(|e| ("creating", dir.clone(), e))?;
        match &target.manifest {
            Some(manifest) => {
                write(dir.join(MANIFEST), manifest.as_bytes())?;
                write(dir.join(METADATA), pretty(&target.metadata).as_bytes())?;
                write(dir.join(KUSTOMIZATION), KUSTOMIZATION_TEXT.as_bytes())?;
            }
            None => {
                for file in [MANIFEST, METADATA, KUSTOMIZATION] {
                    let old = previous.join(&target.name).join(file);
                    if old.is_file() {
                        std::fs::copy(&old, dir.join(file))
                            .map_err(|e| ("copying the last good output to", dir.join(file), e))?;
                    }
                }
            }
        }
    }
    write(staging.join(INDEX), pretty(index).as_bytes())
}

/// Puts `staging` where `out` is. On Linux the two trade places in one
/// `renameat2(RENAME_EXCHANGE)`, so `out` is never missing, even for a
/// process killed at any instruction; the old tree is deleted afterwards.
/// Elsewhere (or on a file system without the exchange) `out` is briefly
/// absent between two renames, and [`clear_leftovers`] puts the old tree
/// back if the process died in between.
fn swap(out: &Path, staging: &Path, parent: &Path, base: &str) -> io::Result<()> {
    if !out.exists() {
        return std::fs::rename(staging, out);
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        use rustix::io::Errno;
        match renameat_with(CWD, staging, CWD, out, RenameFlags::EXCHANGE) {
            Ok(()) => {
                let _ = std::fs::remove_dir_all(staging);
                return Ok(());
            }
            Err(e) if [Errno::INVAL, Errno::NOSYS, Errno::NOTSUP].contains(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let old: PathBuf = parent.join(format!(".{base}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&old);
    std::fs::rename(out, &old)?;
    if let Err(e) = std::fs::rename(staging, out) {
        let _ = std::fs::rename(&old, out);
        return Err(e);
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Removes what killed runs left beside `out` (a half-built tree, or an
/// old one not yet deleted); if one died between the two renames of
/// [`swap`], its old tree becomes `out` again. Folders of live processes
/// (a concurrent run) are left alone; without `/proc` nothing is removed.
fn clear_leftovers(out: &Path, parent: &Path, base: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let (new, old) = (format!(".{base}.new-"), format!(".{base}.old-"));
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(&new)
            .or_else(|| name.strip_prefix(&old))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || !Path::new("/proc/self").exists() {
            continue;
        }
        if Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        if name.starts_with(&old) && !out.exists() && path.join(INDEX).is_file() {
            let _ = std::fs::rename(&path, out);
        } else {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Targets whose committed `manifest.yaml` under `out` differs from what the
/// sources produce now, and committed targets that no longer exist.
pub fn stale(out: &Path, targets: &[TargetOutput]) -> Vec<String> {
    let mut stale: Vec<String> = targets
        .iter()
        .filter(|t| {
            let committed = std::fs::read_to_string(out.join(&t.name).join(MANIFEST)).ok();
            t.manifest.is_some() && committed != t.manifest
        })
        .map(|t| t.name.clone())
        .collect();
    if let Some(index) = std::fs::read(out.join(INDEX))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    {
        for name in index
            .get("targets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("name").and_then(Value::as_str))
        {
            if !targets.iter().any(|t| t.name == name) {
                stale.push(format!("{name} (removed)"));
            }
        }
    }
    stale.sort();
    stale
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("manifold-out-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn target(name: &str, text: &str) -> TargetOutput {
        TargetOutput {
            name: name.into(),
            manifest: Some(text.into()),
            metadata: Value::Null,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_new_tree_replaces_the_old_one_and_nothing_is_left_beside_it() {
        let dir = scratch("replace");
        let out = dir.join("hydrated");
        write_tree(
            &out,
            &[target("a", "a: 1\n"), target("b", "b: 1\n")],
            &Value::Null,
        )
        .unwrap();
        write_tree(&out, &[target("a", "a: 2\n")], &Value::Null).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("a/manifest.yaml")).unwrap(),
            "a: 2\n"
        );
        assert!(!out.join("b").exists());
        assert_eq!(names(&dir), ["hydrated"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_that_leave_their_folder_write_nothing() {
        let dir = scratch("names");
        let out = dir.join("hydrated");
        for name in [
            "..", "a/../..", "../x", "a//b", "a/./b", "", "/abs", "a\\..\\b",
        ] {
            let err = write_tree(
                &out,
                &[target("ok", "x: 1\n"), target(name, "x: 1\n")],
                &Value::Null,
            )
            .unwrap_err();
            assert!(
                matches!(err, OutputError::UnsafeName { .. }),
                "{name}: {err}"
            );
        }
        assert_eq!(names(&dir), Vec::<String>::new());
        for name in [".", "argocd/web", "charts/cache/prod", "a..b", ".hidden"] {
            assert!(is_safe_name(name), "{name}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn leftovers_of_dead_runs_are_cleared_and_an_orphaned_old_tree_comes_back() {
        let dir = scratch("leftovers");
        let out = dir.join("hydrated");
        // A pid no process has: Linux pids stay below 2^22.
        let dead = 1u32 << 23;
        // Killed between the two renames of the fallback swap: the tree
        // is only in `.hydrated.old-PID`.
        let old = dir.join(format!(".hydrated.old-{dead}"));
        std::fs::create_dir_all(old.join("a")).unwrap();
        std::fs::write(old.join(INDEX), "{}\n").unwrap();
        std::fs::write(old.join("a").join(MANIFEST), "a: old\n").unwrap();
        let half = dir.join(format!(".hydrated.new-{dead}"));
        std::fs::create_dir_all(half.join("half")).unwrap();
        // A process that is alive (pid 1 always is) may be a concurrent
        // run: its folder is left alone.
        let live = dir.join(".hydrated.new-1");
        std::fs::create_dir_all(&live).unwrap();
        clear_leftovers(&out, &dir, "hydrated");
        assert_eq!(
            std::fs::read_to_string(out.join("a").join(MANIFEST)).unwrap(),
            "a: old\n"
        );
        assert!(!half.exists());
        assert!(live.exists());
        std::fs::remove_dir_all(&live).unwrap();
        // A failed target keeps the output the restored tree had.
        let failed = TargetOutput {
            name: "a".into(),
            manifest: None,
            metadata: Value::Null,
        };
        write_tree(&out, &[failed], &Value::Null).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("a").join(MANIFEST)).unwrap(),
            "a: old\n"
        );
        assert_eq!(names(&dir), ["hydrated"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_folder_of_other_files_or_a_file_is_refused_untouched() {
        let dir = scratch("refuse");
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        std::fs::write(dir.join("docs/readme.md"), "keep\n").unwrap();
        std::fs::write(dir.join("file"), "keep\n").unwrap();
        let err =
            write_tree(&dir.join("docs"), &[target("a", "a: 1\n")], &Value::Null).unwrap_err();
        assert!(matches!(err, OutputError::NotHydrated { .. }), "{err}");
        let err =
            write_tree(&dir.join("file"), &[target("a", "a: 1\n")], &Value::Null).unwrap_err();
        assert!(matches!(err, OutputError::NotAFolder { .. }), "{err}");
        assert_eq!(names(&dir), ["docs", "file"]);
        assert_eq!(
            std::fs::read_to_string(dir.join("docs/readme.md")).unwrap(),
            "keep\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
