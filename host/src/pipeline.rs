//! The repository pipeline: every target rendered (or read) on rayon's pool,
//! through the render cache, into objects that keep the file (and, where it
//! can be found, the line) they came from. A target that fails, fails alone.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;

use crate::cache::{Cache, Entry, Rendered};
use crate::discover::{Target, TargetKind};
use crate::manifest::{self, DeferredFile, Inputs, Object, Source};
use crate::registry::Registry;
use crate::render;
use crate::report::{Diagnostic, Severity};
use crate::runtime::{LogLine, ReadSet, Verifier};

/// The plugin that rendered a target.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginUse {
    pub name: String,
    pub version: String,
    pub digest: String,
}

/// What became of one target.
#[derive(Debug)]
pub struct TargetResult {
    pub target: Target,
    pub objects: Vec<Object>,
    /// Findings about the target's inputs, and its failure if it failed.
    pub problems: Vec<Diagnostic>,
    pub failed: bool,
    pub cached: bool,
    pub reads: ReadSet,
    pub plugin: Option<PluginUse>,
    pub logs: Vec<(String, LogLine)>,
    /// Manifest files read (plain-manifest targets).
    pub files: usize,
}

/// Renders or reads every target, in parallel; results in the targets'
/// order. `done` is told each time a target finishes (a progress bar).
pub fn run(
    registry: &Registry,
    root: &Path,
    targets: Vec<Target>,
    cache: Option<(&Cache, &Verifier)>,
    duplicate_keys: manifold_yaml::Duplicates,
    done: &(dyn Fn() + Sync),
) -> Vec<TargetResult> {
    targets
        .into_par_iter()
        .map(|target| {
            let result = match target.kind {
                TargetKind::Manifests => read_manifests(root, target, duplicate_keys),
                TargetKind::Kustomization | TargetKind::Chart => {
                    render_target(registry, root, target, cache)
                }
            };
            done();
            result
        })
        .collect()
}

/// The targets a change to `files` (repository paths) can affect: a plain
/// folder holding one of them; a rendered target whose recorded read set
/// holds one (or lists the folder a new file appeared in), or that has no
/// record yet. A change to `manifold.yaml` affects every target.
pub fn affected(
    registry: &Registry,
    root: &Path,
    targets: Vec<Target>,
    cache: Option<&Cache>,
    files: &[String],
) -> Vec<Target> {
    if files.iter().any(|f| f == crate::config::FILE_NAME) {
        return targets;
    }
    let inside = |file: &str, dir: &str, recurse: bool| {
        let parent = file.rsplit_once('/').map_or("", |(p, _)| p);
        parent == dir || (recurse && (dir.is_empty() || parent.starts_with(&format!("{dir}/"))))
    };
    targets
        .into_iter()
        .filter(|target| match target.kind {
            TargetKind::Manifests => files
                .iter()
                .any(|f| inside(f, &target.path, target.recurse)),
            TargetKind::Kustomization | TargetKind::Chart => {
                let plugin = match target.kind {
                    TargetKind::Chart => "helm",
                    _ => "kustomize",
                };
                let recorded = registry.get(plugin).ok().and_then(|p| {
                    cache?.peek(&Cache::key(
                        root,
                        &p.metadata.digest,
                        &target.config,
                        &target.path,
                    ))
                });
                match recorded {
                    None => true,
                    Some(entry) => files.iter().any(|f| {
                        let parent = f.rsplit_once('/').map_or("", |(p, _)| p);
                        entry.reads.files.contains_key(f) || entry.reads.dirs.contains_key(parent)
                    }),
                }
            }
        })
        .collect()
}

fn read_manifests(
    root: &Path,
    target: Target,
    duplicate_keys: manifold_yaml::Duplicates,
) -> TargetResult {
    let mut files = Vec::new();
    list_manifests(root, &target.path, target.recurse, &mut files);
    let mut inputs = Inputs::default();
    let mut reads = ReadSet::default();
    for file in &files {
        // Plain files get the same confinement as plugins' reads: a symlink
        // leaving the repository is refused, a dangling one is unreadable.
        match std::fs::canonicalize(root.join(file)) {
            Ok(real) if !real.starts_with(root) => {
                inputs.problems.push(Diagnostic::input(
                    "read",
                    file,
                    None,
                    "a symlink leading outside the repository; manifold reads only files inside it"
                        .into(),
                ));
                continue;
            }
            Err(e) => {
                inputs.problems.push(Diagnostic::input(
                    "read",
                    file,
                    None,
                    format!("cannot read the file ({e}); a dangling symlink?"),
                ));
                continue;
            }
            Ok(real) => {
                if let Some(problem) = manifest::too_large(file, &real) {
                    inputs.problems.push(problem);
                    continue;
                }
            }
        }
        match crate::runtime::read_walked(&root.join(file)) {
            Ok(bytes) => {
                reads.files.insert(
                    file.clone(),
                    Some(blake3::hash(&bytes).to_hex().to_string()),
                );
                manifest::parse_into(file, &bytes, duplicate_keys, &mut inputs);
            }
            Err(e) => inputs.problems.push(Diagnostic::input(
                "read",
                file,
                None,
                format!("cannot read the file: {e}"),
            )),
        }
    }
    let name: Arc<str> = Arc::from(target.name.as_str());
    for object in &mut inputs.objects {
        object.target = Some(name.clone());
    }
    TargetResult {
        objects: inputs.objects,
        problems: with_target(inputs.problems, &target.name),
        failed: false,
        cached: false,
        reads,
        plugin: None,
        logs: Vec::new(),
        files: files.len(),
        target,
    }
}

/// Manifest files of a folder (and its sub-folders with `recurse`), sorted.
fn list_manifests(root: &Path, dir: &str, recurse: bool, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    let mut entries: Vec<(String, bool)> = entries
        .filter_map(Result::ok)
        .map(|e| {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            (e.file_name().to_string_lossy().into_owned(), is_dir)
        })
        .collect();
    entries.sort();
    for (name, is_dir) in entries {
        let path = if dir.is_empty() {
            name.clone()
        } else {
            format!("{dir}/{name}")
        };
        if is_dir {
            if recurse && !name.starts_with('.') {
                list_manifests(root, &path, recurse, out);
            }
        } else if crate::discover::is_manifest_file(&name) {
            out.push(path);
        }
    }
}

fn render_target(
    registry: &Registry,
    root: &Path,
    target: Target,
    cache: Option<(&Cache, &Verifier)>,
) -> TargetResult {
    let kind = match target.kind {
        TargetKind::Chart => render::Kind::Chart,
        _ => render::Kind::Kustomization,
    };
    let mut result = TargetResult {
        objects: Vec::new(),
        problems: Vec::new(),
        failed: false,
        cached: false,
        reads: ReadSet::default(),
        plugin: None,
        logs: Vec::new(),
        files: 0,
        target,
    };
    let plugin = match registry.get(kind.plugin()) {
        Ok(plugin) => plugin,
        Err(e) => return failed(result, kind, e.to_string()),
    };
    result.plugin = Some(PluginUse {
        name: plugin.metadata.name.clone(),
        version: plugin.metadata.version.clone(),
        digest: plugin.metadata.digest.clone(),
    });
    let key = Cache::key(
        root,
        &plugin.metadata.digest,
        &result.target.config,
        &result.target.path,
    );
    let name: Arc<str> = Arc::from(result.target.name.as_str());
    result.objects = match cache.and_then(|(c, v)| c.render(&key, v)) {
        Some(entry) => {
            result.cached = true;
            result.reads = entry.reads;
            from_cache(root, &name, entry.objects)
        }
        None => {
            let folder = render::Target {
                root: root.to_owned(),
                path: result.target.path.clone(),
                kind,
            };
            let out = match render::render(registry, &folder, &result.target.config) {
                Ok(out) => out,
                Err(e) => return failed(result, kind, e.to_string()),
            };
            let plugin = kind.plugin();
            let has_findings = !out.diagnostics.is_empty();
            for d in out.diagnostics {
                let severity = match d.severity {
                    crate::runtime::Severity::Error => Severity::Error,
                    crate::runtime::Severity::Warning => Severity::Warning,
                    crate::runtime::Severity::Info => Severity::Info,
                };
                result.failed |= severity == Severity::Error;
                result.problems.push(Diagnostic {
                    severity,
                    rule: format!("{plugin}/{}", d.rule),
                    plugin: plugin.into(),
                    message: d.message,
                    file: Some(entry_file(root, &result.target.path, kind)),
                    document: None,
                    line: None,
                    column: None,
                    path: None,
                    resource: None,
                    target: Some(result.target.name.clone()),
                });
            }
            result.logs = out.logs;
            result.reads = out.reads;
            let rendered = out.objects.into_iter().map(|o| (o.file, o.value)).collect();
            let objects = locate(root, &name, kind, rendered);
            // Findings are not replayed from the cache, so only clean renders are kept.
            if let (Some((cache, _)), false) = (cache, has_findings) {
                let objects = objects
                    .iter()
                    .map(|o| Rendered {
                        file: o.file.to_string(),
                        json: o.json().to_owned(),
                        document: o.document,
                        line: o.line,
                        located: matches!(o.source, Source::Parsed(_)),
                        resource: o.resource(),
                    })
                    .collect();
                let entry = Entry {
                    reads: result.reads.clone(),
                    objects,
                };
                cache.put(&key, &entry);
            }
            objects
        }
    };
    result
}

/// A cached render's objects. Their sources were read by the render and
/// are unchanged (the entry's read set says so), so the lines found then
/// hold; a source is parsed again only if a finding needs a field's line.
fn from_cache(root: &Path, target: &Arc<str>, rendered: Vec<Rendered>) -> Vec<Object> {
    let mut files: HashMap<String, Arc<DeferredFile>> = HashMap::new();
    rendered
        .into_iter()
        .map(|r| {
            let source = if r.located {
                let file = files
                    .entry(r.file.clone())
                    .or_insert_with(|| Arc::new(DeferredFile::new(root, &r.file)));
                Source::Deferred {
                    file: file.clone(),
                    document: r.document as usize,
                }
            } else {
                Source::Unknown
            };
            let mut object =
                Object::from_json(Arc::from(r.file.as_str()), r.document, r.line, r.json)
                    .with_resource(r.resource);
            object.source = source;
            object.target = Some(target.clone());
            object
        })
        .collect()
}

fn failed(mut result: TargetResult, kind: render::Kind, message: String) -> TargetResult {
    let root_file = entry_file(Path::new(""), &result.target.path, kind);
    result.failed = true;
    result.problems.push(Diagnostic {
        plugin: kind.plugin().into(),
        target: Some(result.target.name.clone()),
        ..Diagnostic::input("render-failed", &root_file, None, message)
    });
    result
}

/// The file that makes a folder a target: where a render failure is reported.
fn entry_file(root: &Path, dir: &str, kind: render::Kind) -> String {
    let name = match kind {
        render::Kind::Chart => "Chart.yaml",
        render::Kind::Kustomization => render::KUSTOMIZATION_FILES
            .iter()
            .find(|f| root.join(dir).join(f).is_file())
            .copied()
            .unwrap_or("kustomization.yaml"),
    };
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn with_target(mut problems: Vec<Diagnostic>, target: &str) -> Vec<Diagnostic> {
    for p in &mut problems {
        p.target = Some(target.to_owned());
    }
    problems
}

/// Rendered objects as [`Object`]s. A kustomization's objects come from
/// YAML files, so each is matched to its source document (same kind, a name
/// the prefix and suffix were added to) and findings get that file's lines.
/// A chart's sources are templates: their objects carry the file only.
fn locate(
    root: &Path,
    target: &Arc<str>,
    kind: render::Kind,
    rendered: Vec<(String, Value)>,
) -> Vec<Object> {
    let mut sources: HashMap<String, Vec<Arc<manifold_yaml::Document>>> = HashMap::new();
    let mut counters: HashMap<String, u32> = HashMap::new();
    rendered
        .into_iter()
        .map(|(file, value)| {
            let found = if kind == render::Kind::Kustomization {
                let documents = sources
                    .entry(file.clone())
                    .or_insert_with(|| parse_source(root, &file));
                best_match(documents, &value)
            } else {
                None
            };
            let (document, line, source) = match found {
                Some(doc) => (
                    u32::try_from(doc.index).unwrap_or(u32::MAX),
                    doc.line,
                    Source::Parsed(doc),
                ),
                None => {
                    let counter = counters.entry(file.clone()).or_default();
                    let index = *counter;
                    *counter += 1;
                    (index, 0, Source::Unknown)
                }
            };
            // Kept as text: a check needs only the identity of most objects.
            let mut object =
                Object::from_json(Arc::from(file.as_str()), document, line, value.to_string());
            object.source = source;
            object.target = Some(target.clone());
            object
        })
        .collect()
}

/// The documents of a rendered object's source file (see
/// [`manifest::parse_with_positions`] for why it is read confined).
fn parse_source(root: &Path, file: &str) -> Vec<Arc<manifold_yaml::Document>> {
    manifest::parse_with_positions(root, file)
        .into_iter()
        .map(Arc::new)
        .collect()
}

fn best_match(
    documents: &[Arc<manifold_yaml::Document>],
    object: &Value,
) -> Option<Arc<manifold_yaml::Document>> {
    let kind = object.get("kind")?;
    let name = object.pointer("/metadata/name")?.as_str()?;
    documents
        .iter()
        .filter(|d| d.value.get("kind") == Some(kind))
        .filter_map(|d| {
            let original = d.value.pointer("/metadata/name")?.as_str()?;
            name.contains(original).then_some((original.len(), d))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, d)| d.clone())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn source_files_named_by_a_plugin_are_read_only_inside_the_repository() {
        let dir = std::env::temp_dir().join(format!("manifold-locate-{}", std::process::id()));
        let root = dir.join("repo");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("cm.yaml"), "kind: ConfigMap\n").unwrap();
        std::fs::write(dir.join("outside.yaml"), "kind: Secret\n").unwrap();
        assert_eq!(parse_source(&root, "cm.yaml").len(), 1);
        let outside = dir.join("outside.yaml").display().to_string();
        for file in [
            "../outside.yaml",
            outside.as_str(),
            "/dev/zero",
            "a/../../outside.yaml",
        ] {
            assert!(parse_source(&root, file).is_empty(), "{file}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
