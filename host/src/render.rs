//! Rendering one target: finds what a folder is (a kustomization or a Helm
//! chart) and the repository it belongs to, runs the matching render plugin
//! on it, and prints the result as the reference tool prints it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::registry::{Registry, RegistryError};
use crate::runtime::{
    CallError, CallFailure, Diagnostic, LogLine, Manifest, ReadSet, RenderRequest, RepoFs,
};

/// The file names that make a folder a kustomization, in kustomize's order.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// What a target folder holds, and so which plugin renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Kustomization,
    Chart,
}

impl Kind {
    /// Name of the built-in plugin that renders this kind of target.
    pub fn plugin(self) -> &'static str {
        match self {
            Kind::Kustomization => "kustomize",
            Kind::Chart => "helm",
        }
    }

    /// What a folder is, from the files it holds.
    pub fn of(dir: &Path) -> Option<Kind> {
        if KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file()) {
            Some(Kind::Kustomization)
        } else if dir.join("Chart.yaml").is_file() {
            Some(Kind::Chart)
        } else {
            None
        }
    }
}

/// A folder to render, inside the repository whose files plugins may read.
#[derive(Debug, Clone)]
pub struct Target {
    /// Canonical repository root: plugins read nothing outside it.
    pub root: PathBuf,
    /// The folder, relative to the root, `/`-separated (`""` for the root).
    pub path: String,
    pub kind: Kind,
}

/// Why a target could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{path}: no such folder")]
    Missing { path: String },
    #[error(
        "{path}: not a kustomization (kustomization.yaml) or a Helm chart (Chart.yaml); give the folder that holds one"
    )]
    NotATarget { path: String },
    #[error("{path}: {message}")]
    Outside { path: String, message: String },
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Plugin(#[from] CallError),
    #[error("configuration for `{plugin}`: {message}")]
    Config { plugin: String, message: String },
}

impl Target {
    /// The target at `path`, in the repository that holds it: the nearest
    /// folder above with `.git` or `manifold.yaml`, else the current folder
    /// when `path` lies in it, else `path` itself.
    pub fn locate(path: &Path) -> Result<Target, RenderError> {
        let shown = path.display().to_string();
        let dir = std::fs::canonicalize(path)
            .ok()
            .filter(|d| d.is_dir())
            .ok_or_else(|| RenderError::Missing {
                path: shown.clone(),
            })?;
        let kind = Kind::of(&dir).ok_or(RenderError::NotATarget { path: shown })?;
        let root = repository_root(&dir);
        Ok(Target {
            path: relative(&root, &dir).unwrap_or_default(),
            root,
            kind,
        })
    }

    /// A path given on the command line (relative to the current folder)
    /// as a repository path, for plugin options that name files.
    pub fn repository_path(&self, given: &str) -> Result<String, RenderError> {
        let outside = |message: &str| RenderError::Outside {
            path: given.to_owned(),
            message: message.to_owned(),
        };
        let absolute = std::fs::canonicalize(given).map_err(|_| outside("no such file"))?;
        relative(&self.root, &absolute).ok_or_else(|| {
            outside(&format!(
                "outside the repository {}: plugins read only files inside it; move the file into the repository",
                self.root.display()
            ))
        })
    }
}

fn repository_root(dir: &Path) -> PathBuf {
    if let Some(root) = dir
        .ancestors()
        .find(|d| d.join(".git").exists() || d.join(crate::config::FILE_NAME).is_file())
    {
        return root.to_owned();
    }
    match std::env::current_dir().and_then(std::fs::canonicalize) {
        Ok(cwd) if dir.starts_with(&cwd) => cwd,
        _ => dir.to_owned(),
    }
}

/// `path` relative to `root`, `/`-separated, or `None` when it is not inside.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let rest = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rest
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// One rendered object and the repository file it came from.
#[derive(Debug, Clone)]
pub struct Object {
    pub file: String,
    pub value: Value,
}

/// What a render produced.
#[derive(Debug)]
pub struct Rendered {
    pub objects: Vec<Object>,
    pub diagnostics: Vec<Diagnostic>,
    pub logs: Vec<(String, LogLine)>,
    pub reads: ReadSet,
}

/// Renders `target` with its plugin and `config` (the plugin's configuration).
pub fn render(
    registry: &Registry,
    target: &Target,
    config: &Value,
) -> Result<Rendered, RenderError> {
    let name = target.kind.plugin();
    let plugin = registry.get(name)?;
    plugin
        .check_config(config)
        .map_err(|problems| RenderError::Config {
            plugin: name.to_owned(),
            message: problems
                .into_iter()
                .map(|(pointer, message)| format!("{pointer}: {message}"))
                .collect::<Vec<_>>()
                .join("; "),
        })?;
    let fs = RepoFs::new(&target.root).map_err(|e| RenderError::Outside {
        path: target.root.display().to_string(),
        message: e.to_string(),
    })?;
    let request = RenderRequest {
        target: target.path.clone(),
        config: config.to_string(),
    };
    let rendered = registry.render(&plugin, fs, &request, 0)?;
    let objects = decode(&rendered.output.manifests).map_err(|failure| CallError {
        plugin: name.to_owned(),
        input: request.target.clone(),
        failure,
    })?;
    Ok(Rendered {
        objects,
        diagnostics: rendered.output.diagnostics,
        logs: rendered
            .logs
            .into_iter()
            .map(|line| (name.to_owned(), line))
            .collect(),
        reads: rendered.reads,
    })
}

/// A renderer's manifests as objects: each must be JSON.
pub fn decode(manifests: &[Manifest]) -> Result<Vec<Object>, CallFailure> {
    manifests
        .iter()
        .map(|manifest| {
            let value = serde_json::from_str(&manifest.json)
                .map_err(|e| CallFailure::Malformed(format!("an object is not JSON: {e}")))?;
            Ok(Object {
                file: manifest.origin.file.clone(),
                value,
            })
        })
        .collect()
}

/// The YAML stream as the reference tool prints it: `kustomize build`'s
/// `---`-separated documents, or `helm template`'s with a `# Source:`
/// comment naming each document's template.
pub fn to_stream(target: &Target, objects: &[Object]) -> String {
    let emit = manifold_yaml::EmitOptions::kustomize();
    match target.kind {
        Kind::Kustomization => {
            let values: Vec<Value> = objects.iter().map(|o| o.value.clone()).collect();
            manifold_yaml::to_string_stream_with(&values, &emit)
        }
        Kind::Chart => {
            let chart = chart_name(target);
            let mut out = String::new();
            for object in objects {
                let within = if target.path.is_empty() {
                    object.file.as_str()
                } else {
                    object
                        .file
                        .strip_prefix(&target.path)
                        .and_then(|rest| rest.strip_prefix('/'))
                        .unwrap_or(&object.file)
                };
                let _ = write!(out, "---\n# Source: {chart}/{within}\n");
                out.push_str(&manifold_yaml::to_string_with(&object.value, &emit));
            }
            out
        }
    }
}

/// The chart's name from `Chart.yaml` (Helm's `# Source:` prefix), else the folder's.
fn chart_name(target: &Target) -> String {
    let dir = target.root.join(&target.path);
    std::fs::read_to_string(dir.join("Chart.yaml"))
        .ok()
        .and_then(|text| manifold_yaml::from_str(&text).ok())
        .and_then(|chart| chart.get("name").and_then(Value::as_str).map(str::to_owned))
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}
