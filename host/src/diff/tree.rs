//! Reading a hydrated tree into targets and their resources.
//!
//! With a `manifold.index` (what `manifold render --out` writes) the targets
//! are the ones it lists, each read from `<name>/manifest.yaml`. Without
//! one, every folder holding a `manifest.yaml` is a target, and so is every
//! other folder holding `.yaml`/`.yml` files (all of them), so a plain
//! folder of manifests can be compared too.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::{DiffError, ResourceId};
use crate::manifest::{self, Inputs, MAX_FILE_BYTES};
use crate::report::Severity;

/// The index of a hydrated tree, at its top.
const INDEX_FILE: &str = "manifold.index";
/// The stream of one target, in the target's folder.
const MANIFEST_FILE: &str = "manifest.yaml";

/// Files a folder walk leaves out: they configure tools, they are not
/// manifests.
const TOOL_FILES: [&str; 6] = [
    "kustomization.yaml",
    "kustomization.yml",
    "Chart.yaml",
    "values.yaml",
    "manifold.yaml",
    ".pre-commit-config.yaml",
];

/// A tree: targets by name (`/`-separated, `.` for the top folder).
#[derive(Debug, Default)]
pub(super) struct Tree {
    pub targets: BTreeMap<String, Target>,
}

#[derive(Debug, Default)]
pub(super) struct Target {
    pub resources: BTreeMap<ResourceId, Entry>,
}

/// One resource of a target, with where it was read.
#[derive(Debug)]
pub(super) struct Entry {
    pub api_version: String,
    pub value: Value,
    location: String,
}

#[derive(Debug, Deserialize)]
struct Index {
    version: u32,
    targets: Vec<IndexTarget>,
}

#[derive(Debug, Deserialize)]
struct IndexTarget {
    name: String,
}

/// Reads the tree at `root`.
pub(super) fn read(root: &Path) -> Result<Tree, DiffError> {
    let shown = manifest::display(root);
    match std::fs::metadata(root) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(DiffError::NotAFolder { path: shown }),
        Err(_) => return Err(DiffError::Missing { path: shown }),
    }
    let index = root.join(INDEX_FILE);
    let targets = if index.is_file() {
        indexed_targets(root, &index)?
    } else {
        let mut targets = Vec::new();
        walk(root, root, &mut targets)?;
        targets
    };
    let mut tree = Tree::default();
    for (name, files) in targets {
        let mut target = Target::default();
        for file in files {
            read_file(&name, &file, &mut target)?;
        }
        if tree.targets.insert(name.clone(), target).is_some() {
            return Err(DiffError::Input {
                location: manifest::display(&index),
                message: format!(
                    "lists target {name:?} twice; render the tree again with `manifold render --out`"
                ),
            });
        }
    }
    Ok(tree)
}

/// The targets `manifold.index` lists, each with its manifest file.
fn indexed_targets(root: &Path, index: &Path) -> Result<Vec<(String, Vec<PathBuf>)>, DiffError> {
    let location = manifest::display(index);
    let input = |message: String| DiffError::Input {
        location: location.clone(),
        message,
    };
    let text = read_text(index)?;
    let parsed: Index = serde_json::from_str(&text).map_err(|e| {
        input(format!(
            "not a manifold index ({e}); render the tree again with `manifold render --out`"
        ))
    })?;
    if parsed.version != 1 {
        return Err(input(format!(
            "index version {} is not one this manifold reads (1); use the manifold that wrote the tree",
            parsed.version
        )));
    }
    let mut targets = Vec::new();
    for target in parsed.targets {
        // The index decides which files are read: a name must stay inside
        // the tree, whoever wrote the index.
        let inside = !target.name.is_empty()
            && !target.name.contains('\\')
            && Path::new(&target.name)
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if !inside {
            return Err(input(format!(
                "target name {:?} is not a relative path inside the tree",
                target.name
            )));
        }
        let file = root.join(&target.name).join(MANIFEST_FILE);
        if !file.is_file() {
            return Err(DiffError::Input {
                location: manifest::display(&file),
                message: format!(
                    "missing, but {INDEX_FILE} lists target {:?}; render the tree again with `manifold render --out`",
                    target.name
                ),
            });
        }
        targets.push((target.name, vec![file]));
    }
    Ok(targets)
}

/// Collects the targets of a tree without an index, in path order.
fn walk(
    root: &Path,
    dir: &Path,
    targets: &mut Vec<(String, Vec<PathBuf>)>,
) -> Result<(), DiffError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DiffError::Input {
        location: manifest::display(dir),
        message: format!("cannot list the folder: {e}"),
    })?;
    let mut files = Vec::new();
    let mut folders = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // Symbolic links are not followed: a link to a parent would loop.
        match entry.file_type() {
            Ok(t) if t.is_dir() => folders.push(entry.path()),
            Ok(t)
                if t.is_file()
                    && (name.ends_with(".yaml") || name.ends_with(".yml"))
                    && !TOOL_FILES.contains(&name.as_str()) =>
            {
                files.push(entry.path())
            }
            _ => {}
        }
    }
    files.sort();
    folders.sort();
    // A rendered target folder holds its stream in manifest.yaml; anything
    // beside it is not part of the target.
    if let Some(stream) = files
        .iter()
        .find(|f| f.file_name().is_some_and(|n| n == MANIFEST_FILE))
    {
        files = vec![stream.clone()];
    }
    if !files.is_empty() {
        let name = dir
            .strip_prefix(root)
            .unwrap_or(dir)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let name = if name.is_empty() {
            ".".to_owned()
        } else {
            name
        };
        targets.push((name, files));
    }
    for folder in folders {
        walk(root, &folder, targets)?;
    }
    Ok(())
}

fn read_text(path: &Path) -> Result<String, DiffError> {
    let location = manifest::display(path);
    let too_large = std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_FILE_BYTES);
    if too_large {
        return Err(DiffError::Input {
            location,
            message: format!(
                "larger than {} MiB, the most manifold reads",
                MAX_FILE_BYTES >> 20
            ),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| DiffError::Input {
        location: location.clone(),
        message: format!("cannot read the file: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|e| DiffError::Input {
        location,
        message: format!("not UTF-8 text ({e})"),
    })
}

/// Adds the objects of one manifest file to a target.
fn read_file(target_name: &str, path: &Path, target: &mut Target) -> Result<(), DiffError> {
    let name = manifest::display(path);
    let text = read_text(path)?;
    let mut inputs = Inputs::default();
    manifest::parse_into(
        &name,
        text.as_bytes(),
        manifold_yaml::Duplicates::Error,
        &mut inputs,
    );
    // An empty stream is a target without resources (the reader warns
    // about it); every other problem means the file is not a tree's.
    if let Some(problem) = inputs
        .problems
        .iter()
        .find(|p| p.severity == Severity::Error)
    {
        return Err(DiffError::Input {
            location: match problem.line {
                Some(line) => format!("{name}:{line}"),
                None => name,
            },
            message: problem.message.clone(),
        });
    }
    for object in inputs.objects {
        let location = format!("{}:{}", object.file, object.line);
        let (Some(id), Some(api_version)) = (
            ResourceId::of(object.value()),
            object.value().get("apiVersion").and_then(Value::as_str),
        ) else {
            return Err(DiffError::Input {
                location,
                message: "not a Kubernetes object: apiVersion and kind must be strings".into(),
            });
        };
        let entry = Entry {
            api_version: api_version.to_owned(),
            value: object.value().clone(),
            location: location.clone(),
        };
        if let Some(first) = target.resources.get(&id) {
            return Err(DiffError::Input {
                location,
                message: format!(
                    "{} is also at {}: a target holds each object once (target {target_name}); remove one",
                    id.describe(),
                    first.location
                ),
            });
        }
        target.resources.insert(id, entry);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch folder under the system's temporary folder.
    fn scratch(name: &str, files: &[(&str, &str)]) -> std::io::Result<PathBuf> {
        let dir = std::env::temp_dir()
            .join("manifold-diff-tree")
            .join(format!("{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let full = dir.join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(full, text)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";

    /// Target names and resource counts, or the error's text with the
    /// scratch folder left out.
    fn outline(name: &str, files: &[(&str, &str)]) -> std::io::Result<Result<String, String>> {
        let dir = scratch(name, files)?;
        Ok(match read(&dir) {
            Ok(tree) => Ok(tree
                .targets
                .iter()
                .map(|(t, target)| format!("{t}:{}", target.resources.len()))
                .collect::<Vec<_>>()
                .join(" ")),
            Err(e) => Err(e
                .to_string()
                .replace(&format!("{}/", manifest::display(&dir)), "")),
        })
    }

    /// (what, files, targets or the start of the error)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Result<&'a str, &'a str>);

    #[test]
    fn layouts_and_bad_trees() -> std::io::Result<()> {
        let twice = format!("{CM}---\n{CM}");
        let two = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n";
        let cases: Vec<Case<'_>> = vec![
            (
                "index",
                vec![
                    (
                        "manifold.index",
                        r#"{"version":1,"targets":[{"name":"apps/web","path":"apps/web","kind":"kustomization"},{"name":"charts/web/prod"}]}"#,
                    ),
                    ("apps/web/manifest.yaml", two),
                    ("apps/web/hydrator.metadata", "{}"),
                    ("charts/web/prod/manifest.yaml", ""),
                    ("unlisted/manifest.yaml", CM),
                ],
                Ok("apps/web:2 charts/web/prod:0"),
            ),
            (
                "no index: manifest.yaml folders, nested, and plain folders",
                vec![
                    ("apps/web/manifest.yaml", CM),
                    ("apps/web/extra.yaml", CM),
                    ("apps/web/prod/manifest.yaml", two),
                    ("plain/a.yaml", CM),
                    (
                        "plain/b.yml",
                        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n",
                    ),
                    ("plain/kustomization.yaml", "resources: [a.yaml]\n"),
                    (".git/x.yaml", "not: [a manifest"),
                ],
                Ok("apps/web:1 apps/web/prod:2 plain:2"),
            ),
            ("top folder", vec![("manifest.yaml", CM)], Ok(".:1")),
            (
                "bad YAML",
                vec![(
                    "a/manifest.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n",
                )],
                Err("a/manifest.yaml:4: not valid YAML"),
            ),
            (
                "not an object",
                vec![("a/manifest.yaml", "- a\n")],
                Err("a/manifest.yaml:1: document 0 is a list, not a Kubernetes object"),
            ),
            (
                "duplicate",
                vec![("a/manifest.yaml", &twice)],
                Err("a/manifest.yaml:6: ConfigMap a is also at"),
            ),
            (
                "index version",
                vec![("manifold.index", r#"{"version":2,"targets":[]}"#)],
                Err("manifold.index: index version 2"),
            ),
            (
                "index escaping the tree",
                vec![(
                    "manifold.index",
                    r#"{"version":1,"targets":[{"name":"../x"}]}"#,
                )],
                Err(r#"manifold.index: target name "../x" is not a relative path"#),
            ),
            (
                "index naming a missing target",
                vec![(
                    "manifold.index",
                    r#"{"version":1,"targets":[{"name":"gone"}]}"#,
                )],
                Err("gone/manifest.yaml: missing, but manifold.index lists target \"gone\""),
            ),
            (
                "index not JSON",
                vec![("manifold.index", "{")],
                Err("manifold.index: not a manifold index"),
            ),
        ];
        for (i, (what, files, want)) in cases.into_iter().enumerate() {
            let got = outline(&format!("case{i}"), &files)?;
            match (&got, want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{what}"),
                (Err(got), Err(want)) => assert!(got.starts_with(want), "{what}: {got}"),
                _ => assert_eq!(format!("{got:?}"), format!("{want:?}"), "{what}"),
            }
        }
        Ok(())
    }
}
