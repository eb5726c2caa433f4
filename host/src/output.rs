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

/// Replaces the tree at `out` with `targets` and `index`. Targets that are
/// gone from the repository disappear; a failed target keeps its last
/// good output.
pub fn write_tree(out: &Path, targets: &[TargetOutput], index: &Value) -> io::Result<()> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let base = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hydrated".into());
    let staging = parent.join(format!(".{base}.new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let built = build(&staging, out, targets, index);
    if let Err(e) = built {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    swap(out, &staging, parent, &base)
}

fn build(
    staging: &Path,
    previous: &Path,
    targets: &[TargetOutput],
    index: &Value,
) -> io::Result<()> {
    std::fs::create_dir_all(staging)?;
    for target in targets {
        let dir = staging.join(&target.name);
        std::fs::create_dir_all(&dir)?;
        match &target.manifest {
            Some(manifest) => {
                std::fs::write(dir.join(MANIFEST), manifest)?;
                std::fs::write(dir.join(METADATA), pretty(&target.metadata))?;
                std::fs::write(dir.join(KUSTOMIZATION), KUSTOMIZATION_TEXT)?;
            }
            None => {
                for file in [MANIFEST, METADATA, KUSTOMIZATION] {
                    let old = previous.join(&target.name).join(file);
                    if old.is_file() {
                        std::fs::copy(&old, dir.join(file))?;
                    }
                }
            }
        }
    }
    std::fs::write(staging.join(INDEX), pretty(index))
}

/// Puts `staging` where `out` is. Between the two renames `out` is briefly
/// absent; the old tree is only deleted once the new one is in place.
fn swap(out: &Path, staging: &Path, parent: &Path, base: &str) -> io::Result<()> {
    if !out.exists() {
        return std::fs::rename(staging, out);
    }
    if out.is_dir() && !out.join(INDEX).is_file() && std::fs::read_dir(out)?.next().is_some() {
        let _ = std::fs::remove_dir_all(staging);
        return Err(io::Error::other(format!(
            "{} holds files that are not hydrated output (no {INDEX}); choose an empty or new folder for --out",
            out.display()
        )));
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
