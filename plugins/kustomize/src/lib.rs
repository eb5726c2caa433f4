//! Builds a kustomization the way `kustomize build` (v5) does, as pure Rust:
//! resources, bases and components, generators with content-hash suffixes,
//! name prefixes/suffixes with name-reference fixing, labels, annotations,
//! namespaces, images, replicas, strategic-merge and JSON 6902 patches,
//! replacements, legacy vars, and kustomize's output ordering.
//! Files are read only through the [`FileSystem`] trait so the library runs
//! unchanged inside a sandboxed Wasm plugin.

// Tests may unwrap and panic; library code may not.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod build;
mod config;
mod fieldspec;
pub mod fs;
mod generators;
pub mod hash;
mod kustomization;
mod nameref;
mod order;
mod patches;
mod pattern;
pub mod plugin;
mod replacements;
mod resid;
mod resource;
pub mod smp;
mod transform;
mod vars;
mod yaml;

pub use fs::{FileSystem, FsError};

use serde_json::Value;

/// Output ordering (`kustomize build --reorder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reorder {
    /// kustomize's legacy kind order (Namespace first, webhooks last).
    #[default]
    Legacy,
    /// Input order.
    None,
}

/// `--load-restrictor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadRestrictor {
    /// A kustomization may only read files within its own folder.
    #[default]
    RootOnly,
    None,
}

/// One `helmCharts` entry to render (`helm template`), with kustomize's defaults
/// and values handling already applied, so a renderer only has to template a local chart.
#[derive(Debug, Clone, PartialEq)]
pub struct HelmRequest {
    /// The `helmCharts` entry as written (namespace filled in as kustomize does).
    pub chart: Value,
    /// The kustomization's `helmGlobals` (or null).
    pub globals: Value,
    /// Repository-relative folder of the kustomization that declares the chart.
    pub kustomization_dir: String,
    /// Repository-relative chart folder: `<kustomization>/<chartHome or "charts">/<name>`
    /// (`<name>-<version>/<name>` under chartHome when both `version` and `repo` are set).
    pub chart_dir: String,
    /// `releaseName`; empty means kustomize's `helm template --generate-name`.
    pub release_name: String,
    /// Chart `namespace`, else the kustomization's, else an enclosing kustomization's.
    pub namespace: String,
    /// Values after kustomize's `valuesFile`/`valuesInline`/`valuesMerge` handling.
    pub values: Value,
    /// `additionalValuesFiles`, repository-relative, applied by helm after `values` in order.
    pub additional_values_files: Vec<String>,
    pub include_crds: bool,
    pub skip_tests: bool,
    pub skip_hooks: bool,
    pub api_versions: Vec<String>,
    pub kube_version: String,
    pub name_template: String,
    /// Remote `repo` and `version`: a renderer that cannot fetch should fail when the chart folder is absent.
    pub repo: String,
    pub version: String,
}

/// Renders Helm charts for `helmCharts` (the host plugs in its Helm renderer).
pub trait HelmRenderer {
    /// Returns the rendered objects in Helm's order, or a message saying what went wrong.
    fn render(&self, fs: &dyn FileSystem, request: &HelmRequest) -> Result<Vec<Value>, String>;
}

/// Build options (the `kustomize build` flags).
pub struct Options {
    pub reorder: Reorder,
    pub load_restrictor: LoadRestrictor,
    pub enable_helm: bool,
    pub enable_managedby_label: bool,
    /// Value of the `app.kubernetes.io/managed-by` label (kustomize writes `kustomize-<version>`).
    pub managed_by_value: String,
    pub helm: Option<Box<dyn HelmRenderer>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            reorder: Reorder::Legacy,
            load_restrictor: LoadRestrictor::RootOnly,
            enable_helm: false,
            enable_managedby_label: false,
            managed_by_value: "kustomize-v5.5.0".to_string(),
            helm: None,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("reorder", &self.reorder)
            .field("load_restrictor", &self.load_restrictor)
            .field("enable_helm", &self.enable_helm)
            .field("enable_managedby_label", &self.enable_managedby_label)
            .field("helm", &self.helm.is_some())
            .finish()
    }
}

/// One output object.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub value: Value,
    /// Repository-relative file the object came from, or the kustomization file that generated it.
    pub origin: String,
}

/// Why a build failed. Messages name the kustomization file and the entry at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem in a kustomization or in a file it references.
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    /// A YAML syntax error.
    #[error("{file}:{line}:{column}: MalformedYAMLError: {message}")]
    Yaml {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// An error with the chain of kustomizations that led to it.
    #[error("{context}: {source}")]
    Context {
        context: String,
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    pub(crate) fn invalid(file: &str, message: impl Into<String>) -> Error {
        Error::Invalid {
            file: fs::display(file).to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn context(self, context: impl Into<String>) -> Error {
        Error::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }
}

/// Builds the kustomization in folder `target` (repository-relative) and returns the objects.
pub fn build(fs: &dyn FileSystem, target: &str, opts: &Options) -> Result<Vec<Resource>, Error> {
    build::run(fs, target, opts)
}
