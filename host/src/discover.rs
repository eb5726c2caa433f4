//! Finding what a repository deploys, with no configuration needed: its
//! targets. A target is a kustomization that no other kustomization includes,
//! a Helm chart (once per `values-<env>.yaml` beside it), a folder of plain
//! manifests, or what an Argo CD `Application` or a Flux `Kustomization` /
//! `HelmRelease` in the repository points at (with the options it names, so
//! manifold renders what the sync agent would deploy). `manifold.yaml` can
//! add targets and ignore paths.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::config::{Config, TargetSetting};
use crate::render::KUSTOMIZATION_FILES;
use crate::report::Diagnostic;
use crate::runtime::{Snapshot, merge};

/// How a target is turned into manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// Rendered by the `kustomize` plugin.
    Kustomization,
    /// Rendered by the `helm` plugin.
    Chart,
    /// Plain manifest files, read as they are.
    Manifests,
}

/// One thing the repository deploys.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Target {
    /// Unique, `/`-separated: the folder of its hydrated output.
    pub name: String,
    /// The folder it is rendered from, relative to the repository root.
    pub path: String,
    pub kind: TargetKind,
    /// The renderer's configuration (`null` for plain manifests).
    #[serde(skip_serializing_if = "Value::is_null")]
    pub config: Value,
    /// For plain manifests: whether sub-folders belong to it too.
    #[serde(skip)]
    pub recurse: bool,
    /// Why it is a target, for people.
    pub source: String,
}

/// A repository whose targets cannot be worked out.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{root}: cannot read the repository: {message}")]
    Read { root: String, message: String },
    #[error(
        "two targets are named `{name}` ({first}; {second}); give one a name in manifold.yaml `targets`"
    )]
    Duplicate {
        name: String,
        first: String,
        second: String,
    },
    #[error("{source_name}: target path `{path}` is not a folder in the repository")]
    MissingPath { source_name: String, path: String },
}

/// Folders never walked: version control and dependencies.
fn skipped(name: &str) -> bool {
    name.starts_with('.') || name == "node_modules"
}

/// Files that mark a folder as hydrated output (manifold's own or Argo CD's),
/// which would otherwise be found again as plain manifests.
const HYDRATED_MARKERS: &[&str] = &["manifold.index", "hydrator.metadata"];

/// What a walk of the repository found.
#[derive(Default)]
struct Tree {
    kustomizations: BTreeMap<String, Value>,
    charts: BTreeMap<String, Value>,
    /// Manifest files by folder.
    manifests: BTreeMap<String, Vec<String>>,
    /// Files that are regular files, not symlinks (all of their folders are:
    /// the walk does not follow symlinks).
    regular: HashSet<String>,
    /// Folders seen in a listing (not through a symlink).
    dirs: HashSet<String>,
    /// What was read, for the cache's checks.
    snapshot: Snapshot,
}

impl Tree {
    /// Takes in what the walk of a subfolder found.
    fn absorb(&mut self, other: Tree) {
        merge(
            &mut self.kustomizations,
            other.kustomizations,
            BTreeMap::len,
        );
        merge(&mut self.charts, other.charts, BTreeMap::len);
        merge(&mut self.manifests, other.manifests, BTreeMap::len);
        merge(&mut self.regular, other.regular, HashSet::len);
        merge(&mut self.dirs, other.dirs, HashSet::len);
        self.snapshot.absorb(other.snapshot);
    }

    /// Reads repository file `path`, recording it in the snapshot when it
    /// reads as the plugins' file system would serve it.
    fn read(&mut self, root: &Path, path: &str) -> Option<Vec<u8>> {
        let bytes = crate::runtime::read_walked(&root.join(path)).ok()?;
        if self.regular.contains(path) {
            self.snapshot.file(path, &bytes);
        }
        Some(bytes)
    }
}

/// What discovery found: the targets, sorted by name, and what it could not
/// turn into a target (each a finding at its file and line).
#[derive(Debug, Default)]
pub struct Discovered {
    pub targets: Vec<Target>,
    pub problems: Vec<Diagnostic>,
    /// What discovery read, for the cache's checks of the same run.
    pub snapshot: Snapshot,
}

/// The repository's targets, sorted by name.
pub fn targets(root: &Path, config: &Config) -> Result<Discovered, DiscoverError> {
    let mut problems = Vec::new();
    let mut tree = walk(root, "", &config.ignore).map_err(|e| DiscoverError::Read {
        root: root.display().to_string(),
        message: e.to_string(),
    })?;

    // Folders and files some kustomization uses: not targets of their own.
    let mut included_dirs = BTreeSet::new();
    let mut used_files = BTreeSet::new();
    for (dir, kustomization) in &tree.kustomizations {
        for reference in references(kustomization) {
            let Some(path) = join(dir, &reference) else {
                continue;
            };
            // The walk's listings answer for most paths without a stat.
            let is_dir = if tree.dirs.contains(&path) {
                true
            } else if tree.regular.contains(&path) {
                false
            } else {
                root.join(&path).is_dir()
            };
            if is_dir {
                included_dirs.insert(path);
            } else {
                used_files.insert(path);
            }
        }
    }
    // Asked of every folder: a lookup per ancestor, not a scan of every
    // kustomization (quadratic in a monorepo).
    let under_kustomization =
        |dir: &str| ancestors(dir).any(|a| tree.kustomizations.contains_key(a));

    let mut found: Vec<Target> = Vec::new();
    let reachable = reachable_kustomizations(&tree, &included_dirs);
    for (dir, kustomization) in &tree.kustomizations {
        let component = kustomization.get("kind").and_then(Value::as_str) == Some("Component");
        // Kustomizations that include each other in a cycle no target
        // reaches are targets of their own, so the cycle is reported rather
        // than silently rendering nothing.
        if component || (included_dirs.contains(dir) && reachable.contains(dir)) {
            continue;
        }
        found.push(Target {
            name: display_name(dir),
            path: dir.clone(),
            kind: TargetKind::Kustomization,
            config: json!({}),
            recurse: false,
            source: "kustomization".into(),
        });
    }
    for (dir, chart) in &tree.charts {
        if chart.get("type").and_then(Value::as_str) == Some("library") || under_kustomization(dir)
        {
            continue;
        }
        found.extend(chart_targets(root, dir, &mut problems));
    }
    for (dir, files) in &tree.manifests {
        let claimed = under_kustomization(dir)
            || files.iter().any(|f| used_files.contains(f))
            || included_dirs.contains(dir);
        if !claimed {
            found.push(Target {
                name: display_name(dir),
                path: dir.clone(),
                kind: TargetKind::Manifests,
                config: Value::Null,
                recurse: false,
                source: "folder of manifests".into(),
            });
        }
    }

    // What the sync agents and manifold.yaml name replaces what was guessed
    // for the same folder: they carry the options that are deployed.
    let mut named = sync_agent_targets(root, &mut tree, &mut problems);
    named.extend(configured_targets(root, config)?);
    let named_paths: BTreeSet<&str> = named.iter().map(|t| t.path.as_str()).collect();
    let recursive: Vec<&str> = named
        .iter()
        .filter(|t| t.recurse)
        .map(|t| t.path.as_str())
        .collect();
    found.retain(|t| {
        let covered =
            t.kind == TargetKind::Manifests && recursive.iter().any(|r| within(&t.path, r));
        !named_paths.contains(t.path.as_str()) && !covered
    });
    found.extend(named);

    found.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in found.windows(2) {
        if let [a, b] = pair
            && a.name == b.name
        {
            return Err(DiscoverError::Duplicate {
                name: a.name.clone(),
                first: a.source.clone(),
                second: b.source.clone(),
            });
        }
    }
    Ok(Discovered {
        targets: found,
        problems,
        snapshot: tree.snapshot,
    })
}

/// The kustomizations a root kustomization (one nothing includes) reaches
/// through its references.
fn reachable_kustomizations(tree: &Tree, included: &BTreeSet<String>) -> BTreeSet<String> {
    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<&String> = tree
        .kustomizations
        .keys()
        .filter(|dir| !included.contains(*dir))
        .collect();
    while let Some(dir) = queue.pop() {
        if !reached.insert(dir.clone()) {
            continue;
        }
        let Some(kustomization) = tree.kustomizations.get(dir) else {
            continue;
        };
        for reference in references(kustomization) {
            if let Some(path) = join(dir, &reference)
                && let Some((key, _)) = tree.kustomizations.get_key_value(&path)
            {
                queue.push(key);
            }
        }
    }
    reached
}

/// Whether `name` is a Kubernetes object name (a DNS-1123 subdomain): the
/// names of Argo CD and Flux objects become folders of the hydrated tree,
/// so anything else (`/`, `..`) is refused rather than written.
fn is_object_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn display_name(dir: &str) -> String {
    if dir.is_empty() {
        ".".into()
    } else {
        dir.to_owned()
    }
}

/// Walks folder `dir`, its subfolders in parallel.
fn walk(root: &Path, dir: &str, ignore: &[String]) -> std::io::Result<Tree> {
    use rayon::prelude::*;
    let mut tree = Tree::default();
    let full = if dir.is_empty() {
        root.to_owned()
    } else {
        root.join(dir)
    };
    let path_of = |name: &str| {
        if dir.is_empty() {
            name.to_owned()
        } else {
            format!("{dir}/{name}")
        }
    };
    let mut entries: Vec<(String, bool)> = Vec::new();
    // A listing the plugins' file system would hash the same way: no
    // symlinks (it follows them) and only UTF-8 names (it skips others).
    let mut plain_listing = true;
    for entry in std::fs::read_dir(&full)?.filter_map(Result::ok) {
        let file_type = entry.file_type().ok();
        let name = match entry.file_name().into_string() {
            Ok(name) => name,
            Err(raw) => {
                plain_listing = false;
                raw.to_string_lossy().into_owned()
            }
        };
        // Symlinked folders are not followed: they may leave the repository.
        let is_dir = file_type.is_some_and(|t| t.is_dir());
        if file_type.is_none_or(|t| t.is_symlink()) {
            plain_listing = false;
        } else if is_dir {
            tree.dirs.insert(path_of(&name));
        } else {
            tree.regular.insert(path_of(&name));
        }
        entries.push((name, is_dir));
    }
    entries.sort();
    if !dir.is_empty()
        && entries
            .iter()
            .any(|(n, d)| !d && HYDRATED_MARKERS.contains(&n.as_str()))
    {
        return Ok(tree);
    }
    if plain_listing {
        tree.snapshot.dir(
            dir,
            entries
                .iter()
                .map(|(name, is_dir)| (name.as_str(), *is_dir)),
        );
    }
    if entries.iter().any(|(n, d)| !d && n == "Chart.yaml") {
        let chart = read_yaml(&mut tree, root, &path_of("Chart.yaml")).unwrap_or(Value::Null);
        tree.charts.insert(dir.to_owned(), chart);
        return Ok(tree);
    }
    if let Some((name, _)) = entries
        .iter()
        .find(|(n, d)| !d && KUSTOMIZATION_FILES.contains(&n.as_str()))
    {
        let kustomization = read_yaml(&mut tree, root, &path_of(name)).unwrap_or(Value::Null);
        tree.kustomizations.insert(dir.to_owned(), kustomization);
    }
    let mut subfolders = Vec::new();
    for (name, is_dir) in entries {
        let path = path_of(&name);
        if ignore.iter().any(|i| within_ignored(&path, i)) {
            continue;
        }
        if is_dir {
            if !skipped(&name) {
                subfolders.push(path);
            }
        } else if is_manifest_file(&name) {
            tree.manifests.entry(dir.to_owned()).or_default().push(path);
        }
    }
    let found: Vec<std::io::Result<Tree>> = subfolders
        .par_iter()
        .map(|path| walk(root, path, ignore))
        .collect();
    // The first failure in name order, whatever the threads did.
    for subtree in found {
        tree.absorb(subtree?);
    }
    Ok(tree)
}

/// Whether repository path `path` is folder `dir` or inside it (`""` is the root).
fn within(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `path`, the folders it is in, and the root (`""`), innermost first.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let parents = path.rmatch_indices('/').map(|(at, _)| &path[..at]);
    std::iter::once(path)
        .chain(parents)
        .chain((!path.is_empty()).then_some(""))
}

fn within_ignored(path: &str, ignored: &str) -> bool {
    let ignored = ignored.trim_matches('/');
    !ignored.is_empty() && within(path, ignored)
}

/// Manifest files, as the folder walk of `manifest` sees them.
pub(crate) fn is_manifest_file(name: &str) -> bool {
    (name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json"))
        && !name.starts_with('.')
        && !KUSTOMIZATION_FILES.contains(&name)
        && !matches!(
            name,
            "Chart.yaml" | "manifold.yaml" | ".pre-commit-hooks.yaml" | ".pre-commit-config.yaml"
        )
}

fn read_yaml(tree: &mut Tree, root: &Path, path: &str) -> Option<Value> {
    let bytes = tree.read(root, path)?;
    manifold_yaml::from_str(std::str::from_utf8(&bytes).ok()?).ok()
}

/// Paths a kustomization uses: resources, bases, components, CRDs, patch and
/// generator files.
fn references(kustomization: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let strings = |value: Option<&Value>, out: &mut Vec<String>| {
        for item in value.and_then(Value::as_array).into_iter().flatten() {
            if let Some(s) = item.as_str() {
                out.push(s.to_owned());
            }
        }
    };
    for key in [
        "resources",
        "bases",
        "components",
        "crds",
        "patchesStrategicMerge",
        "configurations",
    ] {
        strings(kustomization.get(key), &mut out);
    }
    for key in ["patches", "patchesJson6902"] {
        for patch in kustomization
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(path) = patch.get("path").and_then(Value::as_str) {
                out.push(path.to_owned());
            }
        }
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for generator in kustomization
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for field in ["files", "envs"] {
                for file in generator
                    .get(field)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    // `key=path` names the key the file's content goes under.
                    out.push(file.rsplit_once('=').map_or(file, |(_, p)| p).to_owned());
                }
            }
            if let Some(env) = generator.get("env").and_then(Value::as_str) {
                out.push(env.to_owned());
            }
        }
    }
    out
}

/// `rel` joined onto folder `dir`, normalised; `None` if it leaves the root or is remote.
fn join(dir: &str, rel: &str) -> Option<String> {
    if rel.contains("://") || rel.starts_with("git@") || rel.starts_with("github.com/") {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    let base = if rel.starts_with('/') { "" } else { dir };
    for part in base.split('/').chain(rel.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// A chart's targets: one per `values-<env>.yaml` (or `values.<env>.yaml`)
/// beside its `values.yaml`, else one with the defaults. The release is
/// named after the chart's folder (Helm's `release-name` placeholder would
/// end up in the hydrated objects' names).
fn chart_targets(root: &Path, dir: &str, problems: &mut Vec<Diagnostic>) -> Vec<Target> {
    let full = root.join(dir);
    let release = full.file_name().map_or_else(
        || "release".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut environments: Vec<(String, String)> = std::fs::read_dir(&full)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let env = name
                .strip_prefix("values-")
                .or_else(|| name.strip_prefix("values."))?
                .strip_suffix(".yaml")
                .or_else(|| name.strip_suffix(".yml"))?
                .to_owned();
            (!env.is_empty() && env != "schema").then_some((env, name))
        })
        .collect();
    environments.retain(|(env, file)| {
        let safe = env != "." && env != "..";
        if !safe {
            problems.push(Diagnostic::input(
                "target-name",
                &join(dir, file).unwrap_or_else(|| file.clone()),
                None,
                format!(
                    "the environment name `{env}` would name the output folder {}/{env}, outside the chart's own; rename the file",
                    display_name(dir)
                ),
            ));
        }
        safe
    });
    environments.sort();
    if environments.is_empty() {
        return vec![Target {
            name: display_name(dir),
            path: dir.to_owned(),
            kind: TargetKind::Chart,
            config: json!({ "releaseName": release }),
            recurse: false,
            source: "chart".into(),
        }];
    }
    environments
        .into_iter()
        .map(|(env, file)| Target {
            name: if dir.is_empty() {
                env.clone()
            } else {
                format!("{dir}/{env}")
            },
            path: dir.to_owned(),
            kind: TargetKind::Chart,
            config: json!({
                "releaseName": release,
                "valuesFiles": [join(dir, &file).unwrap_or(file.clone())],
            }),
            recurse: false,
            source: format!("chart with {file}"),
        })
        .collect()
}

/// The kind of target a folder is, by its files.
fn kind_of(root: &Path, path: &str) -> Option<TargetKind> {
    let dir = root.join(path);
    if !dir.is_dir() {
        return None;
    }
    Some(match crate::render::Kind::of(&dir) {
        Some(crate::render::Kind::Kustomization) => TargetKind::Kustomization,
        Some(crate::render::Kind::Chart) => TargetKind::Chart,
        None => TargetKind::Manifests,
    })
}

/// A repository path as a sync agent writes it (`./apps/web/`); `None` when
/// it leaves the repository or is remote.
pub(crate) fn clean(path: &str) -> Option<String> {
    join("", path)
}

/// A manifest file, its hash when it joins the snapshot, and its bytes when
/// it may hold a sync agent's objects.
type ManifestRead<'a> = (&'a String, Option<String>, Option<Vec<u8>>);

/// Argo CD Applications and Flux Kustomizations/HelmReleases found among
/// the plain manifests, as targets.
fn sync_agent_targets(root: &Path, tree: &mut Tree, problems: &mut Vec<Diagnostic>) -> Vec<Target> {
    use rayon::prelude::*;
    // Every manifest is read, in parallel, and hashed for the snapshot; only
    // those that can hold a sync agent's objects are kept to be parsed.
    let read: Vec<ManifestRead> = tree
        .manifests
        .values()
        .flatten()
        .collect::<Vec<_>>()
        .into_par_iter()
        .filter_map(|file| {
            let read =
                crate::runtime::read_bounded(&root.join(file), crate::runtime::MAX_FILE_BYTES);
            let Ok(crate::runtime::Bounded::Bytes(bytes)) = read else {
                return None;
            };
            let hash = tree.regular.contains(file).then(|| Snapshot::hash(&bytes));
            // Cheap filter before parsing: most manifests are neither.
            let agent = std::str::from_utf8(&bytes)
                .is_ok_and(|t| t.contains("argoproj.io") || t.contains("toolkit.fluxcd.io"));
            Some((file, hash, agent.then_some(bytes)))
        })
        .collect();
    let mut out = Vec::new();
    for (file, hash, bytes) in read {
        if let Some(hash) = hash {
            tree.snapshot.hashed(file, hash);
        }
        let Some(Ok(text)) = bytes.as_deref().map(std::str::from_utf8) else {
            continue;
        };
        let Ok(documents) =
            manifold_yaml::parse_documents(text, &manifold_yaml::ParseOptions::default())
        else {
            continue;
        };
        for document in documents {
            let object = &document.value;
            let api = object
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("unnamed");
            let place = format!("{file}:{}", document.line);
            let at = Place {
                file,
                line: document.line,
                text: &place,
            };
            let group = api.split('/').next().unwrap_or("");
            match (group, kind) {
                ("argoproj.io", "Application") => {
                    out.extend(argo_application(root, object, name, &at, problems));
                }
                ("argoproj.io", "ApplicationSet") => {
                    for app in application_set(root, object) {
                        let app_name = app
                            .pointer("/metadata/name")
                            .and_then(Value::as_str)
                            .unwrap_or(name)
                            .to_owned();
                        let from = format!("{place}, ApplicationSet {name}");
                        let generated = Place { text: &from, ..at };
                        out.extend(argo_application(
                            root, &app, &app_name, &generated, problems,
                        ));
                    }
                }
                ("kustomize.toolkit.fluxcd.io", "Kustomization") => {
                    out.extend(flux_kustomization(root, object, name, &at, problems));
                }
                ("helm.toolkit.fluxcd.io", "HelmRelease") => {
                    out.extend(flux_helm_release(root, object, name, &at, problems));
                }
                _ => {}
            }
        }
    }
    out
}

/// Where a sync agent's object is: for findings and for people.
#[derive(Clone, Copy)]
struct Place<'a> {
    file: &'a str,
    line: u32,
    /// `file:line`, and what generated the object, if anything.
    text: &'a str,
}

impl Place<'_> {
    /// Whether every name is a Kubernetes object name; a finding for each
    /// that is not. Checked only for objects that would become targets: an
    /// ApplicationSet template whose parameters did not resolve is skipped
    /// like any source outside the repository.
    fn check_names(
        &self,
        problems: &mut Vec<Diagnostic>,
        kind: &str,
        names: &[(&str, &str)],
    ) -> bool {
        let mut ok = true;
        for (field, name) in names.iter().filter(|(_, n)| !is_object_name(n)) {
            ok = false;
            problems.push(Diagnostic::input(
                "target-name",
                self.file,
                Some(self.line),
                format!(
                    "{kind} {field} {name:?} is not a Kubernetes object name (lowercase letters, digits, '-' and '.'); it would name a folder of the hydrated tree, so the {kind} is not rendered"
                ),
            ));
        }
        ok
    }

    /// A finding: a source path that leaves the repository.
    fn outside(&self, problems: &mut Vec<Diagnostic>, kind: &str, name: &str, path: &str) {
        problems.push(Diagnostic::input(
            "target-path",
            self.file,
            Some(self.line),
            format!(
                "{kind} {name}: path {path:?} leaves the repository; manifold renders only folders inside it, so the {kind} is not rendered"
            ),
        ));
    }
}

/// An Application's sources that live in this repository (a `path`; remote
/// charts are not fetched).
fn argo_application(
    root: &Path,
    app: &Value,
    name: &str,
    at: &Place<'_>,
    problems: &mut Vec<Diagnostic>,
) -> Vec<Target> {
    let place = at.text;
    let spec = app.get("spec").unwrap_or(&Value::Null);
    let sources: Vec<&Value> = match spec.get("sources").and_then(Value::as_array) {
        Some(list) => list.iter().collect(),
        None => spec.get("source").into_iter().collect(),
    };
    let namespace = spec
        .pointer("/destination/namespace")
        .and_then(Value::as_str);
    let several = sources.len() > 1;
    let mut out = Vec::new();
    for (i, source) in sources.into_iter().enumerate() {
        let Some(raw) = source.get("path").and_then(Value::as_str) else {
            continue;
        };
        let Some(path) = clean(raw) else {
            if !raw.contains("://") {
                at.outside(problems, "Application", name, raw);
            }
            continue;
        };
        let Some(kind) = kind_of(root, &path) else {
            continue;
        };
        let config = match kind {
            TargetKind::Chart => argo_helm(source, &path, name, namespace),
            TargetKind::Kustomization => json!({}),
            TargetKind::Manifests => Value::Null,
        };
        let recurse = source
            .pointer("/directory/recurse")
            .and_then(Value::as_bool)
            == Some(true);
        if !at.check_names(problems, "Application", &[("name", name)]) {
            break;
        }
        out.push(Target {
            name: if several {
                format!("argocd/{name}/{i}")
            } else {
                format!("argocd/{name}")
            },
            path,
            kind,
            config,
            recurse,
            source: format!("Argo CD Application {name} ({place})"),
        });
    }
    out
}

/// The Applications an ApplicationSet generates from its `list` and git
/// `directories` generators (other generators need a cluster or a remote).
fn application_set(root: &Path, set: &Value) -> Vec<Value> {
    let Some(template) = set.pointer("/spec/template") else {
        return Vec::new();
    };
    let go = set.pointer("/spec/goTemplate").and_then(Value::as_bool) == Some(true);
    let mut params: Vec<Map<String, Value>> = Vec::new();
    for generator in set
        .pointer("/spec/generators")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(elements) = generator
            .pointer("/list/elements")
            .and_then(Value::as_array)
        {
            params.extend(elements.iter().filter_map(|e| e.as_object().cloned()));
        }
        if let Some(directories) = generator
            .pointer("/git/directories")
            .and_then(Value::as_array)
        {
            params.extend(git_directories(root, directories).into_iter().map(|dir| {
                let mut p = Map::new();
                let base = dir.rsplit('/').next().unwrap_or(&dir).to_owned();
                let segments: Vec<Value> = dir.split('/').map(|s| json!(s)).collect();
                if go {
                    p.insert(
                        "path".into(),
                        json!({"path": dir, "basename": base, "basenameNormalized": normalized(&base), "segments": segments}),
                    );
                } else {
                    p.insert("path".into(), json!(dir));
                    p.insert("path.basename".into(), json!(base));
                    p.insert("path.basenameNormalized".into(), json!(normalized(&base)));
                    for (i, segment) in dir.split('/').enumerate() {
                        p.insert(format!("path[{i}]"), json!(segment));
                    }
                }
                p
            }));
        }
    }
    params.iter().map(|p| substitute(template, p, go)).collect()
}

fn normalized(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Folders matching the generator's `path` globs, minus its `exclude: true` ones.
fn git_directories(root: &Path, patterns: &[Value]) -> Vec<String> {
    let mut all = Vec::new();
    list_dirs(root, "", &mut all);
    let (exclude, include): (Vec<&Value>, Vec<&Value>) = patterns
        .iter()
        .partition(|p| p.get("exclude").and_then(Value::as_bool) == Some(true));
    let matches = |list: &[&Value], dir: &str| {
        list.iter()
            .filter_map(|p| p.get("path").and_then(Value::as_str))
            .any(|glob| glob_match(glob, dir))
    };
    all.into_iter()
        .filter(|d| matches(&include, d) && !matches(&exclude, d))
        .collect()
}

fn list_dirs(root: &Path, dir: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let path = if dir.is_empty() {
            name
        } else {
            format!("{dir}/{name}")
        };
        out.push(path.clone());
        list_dirs(root, &path, out);
    }
}

/// Argo CD's directory globs: `*` within one segment, `**` across segments.
fn glob_match(glob: &str, path: &str) -> bool {
    fn matches(glob: &[&str], path: &[&str]) -> bool {
        match (glob.split_first(), path.split_first()) {
            (None, None) => true,
            (Some((&"**", rest)), _) => {
                matches(rest, path)
                    || path
                        .split_first()
                        .is_some_and(|(_, tail)| matches(glob, tail))
            }
            (Some((g, grest)), Some((p, prest))) => segment_match(g, p) && matches(grest, prest),
            _ => false,
        }
    }
    fn segment_match(glob: &str, name: &str) -> bool {
        match glob.split_once('*') {
            None => glob == name,
            Some((head, tail)) => {
                name.starts_with(head)
                    && (0..=name.len().saturating_sub(head.len())).any(|i| {
                        name.get(head.len() + i..)
                            .is_some_and(|rest| segment_match(tail, rest))
                    })
            }
        }
    }
    let glob: Vec<&str> = glob.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    matches(&glob, &path)
}

/// The template with `{{param}}` (or, with goTemplate, `{{.param.field}}`) filled in.
fn substitute(template: &Value, params: &Map<String, Value>, go: bool) -> Value {
    match template {
        Value::String(text) => {
            let mut out = text.clone();
            if go {
                let mut flat = Vec::new();
                flatten("", &Value::Object(params.clone()), &mut flat);
                for (key, value) in flat {
                    for pattern in [format!("{{{{.{key}}}}}"), format!("{{{{ .{key} }}}}")] {
                        out = out.replace(&pattern, &value);
                    }
                }
            } else {
                for (key, value) in params {
                    let value = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    for pattern in [format!("{{{{{key}}}}}"), format!("{{{{ {key} }}}}")] {
                        out = out.replace(&pattern, &value);
                    }
                }
            }
            Value::String(out)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| substitute(i, params, go)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, params, go)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// Argo CD's Helm source options as the helm plugin's configuration.
fn argo_helm(source: &Value, path: &str, app: &str, namespace: Option<&str>) -> Value {
    let helm = source.get("helm").unwrap_or(&Value::Null);
    let mut config = Map::new();
    let release = helm
        .get("releaseName")
        .and_then(Value::as_str)
        .unwrap_or(app);
    config.insert("releaseName".into(), json!(release));
    if let Some(ns) = namespace {
        config.insert("namespace".into(), json!(ns));
    }
    let files: Vec<String> = helm
        .get("valueFiles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|f| join(path, f))
        .collect();
    if !files.is_empty() {
        config.insert("valuesFiles".into(), json!(files));
    }
    let mut values = Map::new();
    if let Some(text) = helm.get("values").and_then(Value::as_str)
        && let Ok(Value::Object(map)) = manifold_yaml::from_str(text)
    {
        values.extend(map);
    }
    if let Some(Value::Object(map)) = helm.get("valuesObject") {
        values.extend(map.clone());
    }
    if !values.is_empty() {
        config.insert("values".into(), Value::Object(values));
    }
    let (mut set, mut set_string) = (Vec::new(), Vec::new());
    for parameter in helm
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = parameter.get("name").and_then(Value::as_str).unwrap_or("");
        let value = parameter.get("value").and_then(Value::as_str).unwrap_or("");
        let entry = format!("{key}={value}");
        if parameter.get("forceString").and_then(Value::as_bool) == Some(true) {
            set_string.push(entry);
        } else {
            set.push(entry);
        }
    }
    if !set.is_empty() {
        config.insert("set".into(), json!(set));
    }
    if !set_string.is_empty() {
        config.insert("setString".into(), json!(set_string));
    }
    // Argo CD renders CRDs unless told to skip them.
    let skip_crds = helm.get("skipCrds").and_then(Value::as_bool) == Some(true);
    config.insert("includeCrds".into(), json!(!skip_crds));
    Value::Object(config)
}

fn flux_kustomization(
    root: &Path,
    object: &Value,
    name: &str,
    at: &Place<'_>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Target> {
    let place = at.text;
    let raw = object
        .pointer("/spec/path")
        .and_then(Value::as_str)
        .unwrap_or("./");
    let Some(path) = clean(raw) else {
        at.outside(problems, "Kustomization", name, raw);
        return None;
    };
    let kind = kind_of(root, &path)?;
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("flux-system");
    if !at.check_names(
        problems,
        "Kustomization",
        &[("name", name), ("namespace", namespace)],
    ) {
        return None;
    }
    // Without a kustomization.yaml, Flux builds every manifest below the path.
    Some(Target {
        name: format!("flux/{namespace}/{name}"),
        path,
        kind,
        config: if kind == TargetKind::Manifests {
            Value::Null
        } else {
            json!({})
        },
        recurse: kind == TargetKind::Manifests,
        source: format!("Flux Kustomization {namespace}/{name} ({place})"),
    })
}

fn flux_helm_release(
    root: &Path,
    object: &Value,
    name: &str,
    at: &Place<'_>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Target> {
    let place = at.text;
    let chart = object.pointer("/spec/chart/spec")?;
    // Only charts in a Git source live in this repository; repository charts are not fetched.
    if chart.pointer("/sourceRef/kind").and_then(Value::as_str) != Some("GitRepository") {
        return None;
    }
    let path = clean(chart.get("chart").and_then(Value::as_str)?)?;
    if kind_of(root, &path)? != TargetKind::Chart {
        return None;
    }
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    if !at.check_names(
        problems,
        "HelmRelease",
        &[("name", name), ("namespace", namespace)],
    ) {
        return None;
    }
    let target_namespace = object
        .pointer("/spec/targetNamespace")
        .and_then(Value::as_str);
    let release = object
        .pointer("/spec/releaseName")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| match target_namespace {
            Some(ns) => format!("{ns}-{name}"),
            None => name.to_owned(),
        });
    let mut config = json!({
        "releaseName": release,
        "namespace": target_namespace.unwrap_or(namespace),
    });
    if let Some(values) = object.pointer("/spec/values").filter(|v| v.is_object()) {
        config["values"] = values.clone();
    }
    let files: Vec<String> = chart
        .get("valuesFiles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(clean)
        .collect();
    if !files.is_empty() {
        config["valuesFiles"] = json!(files);
    }
    Some(Target {
        name: format!("flux/{namespace}/{name}"),
        path,
        kind: TargetKind::Chart,
        config,
        recurse: false,
        source: format!("Flux HelmRelease {namespace}/{name} ({place})"),
    })
}

/// `targets` of manifold.yaml.
fn configured_targets(root: &Path, config: &Config) -> Result<Vec<Target>, DiscoverError> {
    let mut out = Vec::new();
    for (i, setting) in config.targets.iter().enumerate() {
        let TargetSetting { name, path, config } = setting;
        let source_name = format!("manifold.yaml targets[{i}]");
        let path = clean(path).unwrap_or_default();
        let kind = kind_of(root, &path).ok_or_else(|| DiscoverError::MissingPath {
            source_name: source_name.clone(),
            path: path.clone(),
        })?;
        out.push(Target {
            name: name.clone().unwrap_or_else(|| display_name(&path)),
            path,
            kind,
            config: if kind == TargetKind::Manifests {
                Value::Null
            } else {
                config.clone()
            },
            recurse: false,
            source: source_name,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::runtime::{RepoFs, Verifier};

    /// The snapshot stands in for the disk in the cache's checks, so each
    /// path it holds must hash exactly as the plugins' file system reads it;
    /// symlinked files and listings with symlinks are left to the disk.
    #[test]
    fn the_snapshot_agrees_with_the_plugins_file_system() {
        let root = std::env::temp_dir().join(format!("manifold-snapshot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in [
            (
                "apps/web/base/kustomization.yaml",
                "resources: [deploy.yaml]\n",
            ),
            ("apps/web/base/deploy.yaml", "kind: Deployment\n"),
            ("apps/web/prod/kustomization.yaml", "resources: [../base]\n"),
            ("charts/c/Chart.yaml", "name: c\n"),
            ("charts/c/templates/cm.yaml", "kind: ConfigMap\n"),
            ("apps/web/base/app.env", "A=1\n"),
            ("plain/cm.yaml", "kind: ConfigMap\n"),
            ("outside/secret.yaml", "kind: Secret\n"),
        ] {
            let file = root.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(
                root.join("outside/secret.yaml"),
                root.join("plain/link.yaml"),
            )
            .unwrap();
            std::os::unix::fs::symlink(root.join("outside"), root.join("apps/linked")).unwrap();
        }
        let root = std::fs::canonicalize(&root).unwrap();
        let discovered = targets(&root, &Config::default()).unwrap();
        let fs = RepoFs::new(&root).unwrap();
        let seeded = Verifier::with_snapshot(&fs, discovered.snapshot);
        let files = [
            "apps/web/base/kustomization.yaml",
            "apps/web/base/deploy.yaml",
            "apps/web/prod/kustomization.yaml",
            "charts/c/Chart.yaml",
            "plain/cm.yaml",
            "plain/link.yaml",
            "outside/secret.yaml",
            "missing.yaml",
            // Answered from the listings: a file discovery did not read, a
            // folder read as a file, an absent file, and beyond them.
            "apps/web/base/app.env",
            "apps/web/base",
            "apps/web/base/missing.yaml",
            "apps/linked/secret.yaml",
            "charts/c/templates/cm.yaml",
            "plain/cm.yaml/x",
        ];
        let dirs = [
            "",
            "apps",
            "apps/web",
            "apps/web/base",
            "plain",
            "charts/c",
            "apps/linked",
            "charts/c/templates",
            "plain/cm.yaml",
            "apps/missing",
        ];
        for path in files {
            let mut read = fs.fresh();
            let _ = read.read(path);
            assert!(seeded.unchanged(&read.into_reads()), "file {path}");
        }
        for path in dirs {
            let mut read = fs.fresh();
            let _ = read.list(path);
            assert!(seeded.unchanged(&read.into_reads()), "folder {path:?}");
        }
        // A change after discovery is not seen: the run judges one view.
        std::fs::write(root.join("plain/cm.yaml"), "kind: Secret\n").unwrap();
        let mut read = fs.fresh();
        let _ = read.read("plain/cm.yaml");
        assert!(!seeded.unchanged(&read.into_reads()));
        // So is a file that appears where the listing had none.
        let mut read = fs.fresh();
        let _ = read.read("apps/web/base/new.yaml");
        std::fs::write(root.join("apps/web/base/new.yaml"), "kind: Secret\n").unwrap();
        assert!(seeded.unchanged(&read.into_reads()));
        // A file discovery did not read is judged as it was when first asked.
        std::fs::write(root.join("apps/web/base/app.env"), "A=2\n").unwrap();
        let mut read = fs.fresh();
        let _ = read.read("apps/web/base/app.env");
        assert!(!seeded.unchanged(&read.into_reads()));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn ancestors_run_from_the_path_to_the_root() {
        let all = |p| ancestors(p).collect::<Vec<_>>();
        assert_eq!(
            all("apps/web/base"),
            ["apps/web/base", "apps/web", "apps", ""]
        );
        assert_eq!(all("apps"), ["apps", ""]);
        assert_eq!(all(""), [""]);
        assert!(within("apps/web", "apps") && within("apps", "apps") && within("x", ""));
        assert!(!within("apps-2/web", "apps") && !within("app", "apps"));
    }

    #[test]
    fn joins_stay_inside_the_repository() {
        let cases = [
            ("overlays/prod", "../../base", Some("base")),
            ("a", "./b/c.yaml", Some("a/b/c.yaml")),
            ("a", "../../x", None),
            ("a", "https://example.com/x.yaml", None),
            ("", "/abs/x", Some("abs/x")),
        ];
        for (dir, rel, want) in cases {
            assert_eq!(join(dir, rel).as_deref(), want, "{dir} + {rel}");
        }
    }

    #[test]
    fn argo_cd_globs() {
        let cases = [
            ("apps/*", "apps/web", true),
            ("apps/*", "apps/web/base", false),
            ("apps/**", "apps/web/base", true),
            ("apps/web-*", "apps/web-prod", true),
            ("apps/web-*", "apps/api", false),
            ("*/overlays/prod", "web/overlays/prod", true),
        ];
        for (glob, path, want) in cases {
            assert_eq!(glob_match(glob, path), want, "{glob} ~ {path}");
        }
    }

    #[test]
    fn application_set_templates_fill_in() {
        let params = json!({"name": "web", "path": "apps/web"});
        let template = json!({"metadata": {"name": "{{name}}-prod"}, "spec": {"source": {"path": "{{path}}/overlays/prod"}}});
        let got = substitute(&template, params.as_object().unwrap(), false);
        assert_eq!(
            got,
            json!({"metadata": {"name": "web-prod"}, "spec": {"source": {"path": "apps/web/overlays/prod"}}})
        );
        let params = json!({"path": {"path": "apps/web", "basename": "web"}});
        let template = json!({"metadata": {"name": "{{.path.basename}}"}});
        let got = substitute(&template, params.as_object().unwrap(), true);
        assert_eq!(got, json!({"metadata": {"name": "web"}}));
    }

    #[test]
    fn generator_and_patch_files_count_as_used() {
        let k = json!({
            "resources": ["a.yaml", "../base"],
            "patches": [{"path": "p.yaml"}, {"patch": "inline"}],
            "configMapGenerator": [{"files": ["key=conf/app.properties"], "envs": ["e.env"]}],
        });
        assert_eq!(
            references(&k),
            [
                "a.yaml",
                "../base",
                "p.yaml",
                "conf/app.properties",
                "e.env"
            ]
        );
    }
}
