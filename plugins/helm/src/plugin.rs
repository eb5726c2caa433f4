//! The Wasm render plugin `helm`: renders the chart in the target folder
//! through the host's confined, recorded file access, with `helm template`'s
//! options as configuration.

use manifold_plugin_sdk::files::{self, EntryKind, FileError};
use manifold_plugin_sdk::render::{Output, Request};
use manifold_plugin_sdk::{Failure, Manifest, Metadata, Origin, Renderer};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{FileSystem, FsError, Options};

const SCHEMA: &str = r##"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "releaseName": { "type": "string", "description": "Release name (default release-name)." },
    "namespace": { "type": "string", "description": "Release namespace (default `default`)." },
    "nameTemplate": { "type": "string" },
    "kubeVersion": { "type": "string", "description": "Kubernetes version for .Capabilities (e.g. 1.30.0)." },
    "apiVersions": { "type": "array", "items": { "type": "string" } },
    "includeCrds": { "type": "boolean" },
    "showOnly": { "type": "array", "items": { "type": "string" } },
    "skipTests": { "type": "boolean" },
    "noHooks": { "type": "boolean" },
    "isUpgrade": { "type": "boolean" },
    "skipSchemaValidation": { "type": "boolean" },
    "valuesFiles": { "type": "array", "items": { "type": "string" }, "description": "Values files relative to the repository root; later ones win." },
    "values": { "type": "object", "description": "Inline values, merged after valuesFiles." },
    "set": { "type": "array", "items": { "type": "string" } },
    "setString": { "type": "array", "items": { "type": "string" } },
    "setJson": { "type": "array", "items": { "type": "string" } },
    "setFile": { "type": "array", "items": { "type": "string" } },
    "setLiteral": { "type": "array", "items": { "type": "string" } }
  }
}"##;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Config {
    release_name: Option<String>,
    namespace: Option<String>,
    name_template: Option<String>,
    kube_version: Option<String>,
    #[serde(default)]
    api_versions: Vec<String>,
    #[serde(default)]
    include_crds: bool,
    #[serde(default)]
    show_only: Vec<String>,
    #[serde(default)]
    skip_tests: bool,
    #[serde(default)]
    no_hooks: bool,
    #[serde(default)]
    is_upgrade: bool,
    #[serde(default)]
    skip_schema_validation: bool,
    #[serde(default)]
    values_files: Vec<String>,
    values: Option<Map<String, Value>>,
    #[serde(default)]
    set: Vec<String>,
    #[serde(default)]
    set_string: Vec<String>,
    #[serde(default)]
    set_json: Vec<String>,
    #[serde(default)]
    set_file: Vec<String>,
    #[serde(default)]
    set_literal: Vec<String>,
}

/// The repository, through the host.
struct HostFs;

impl FileSystem for HostFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        files::read(path).map_err(|e| to_fs_error(path, e))
    }

    fn list(&self, path: &str) -> Result<Vec<(String, bool)>, FsError> {
        let entries = files::list(path).map_err(|e| to_fs_error(path, e))?;
        Ok(entries
            .into_iter()
            .map(|e| (e.name, matches!(e.kind, EntryKind::Directory)))
            .collect())
    }
}

fn to_fs_error(path: &str, e: FileError) -> FsError {
    let message = match e {
        FileError::NotFound(_) => {
            return FsError::NotFound {
                path: path.to_owned(),
            };
        }
        FileError::Denied(message) | FileError::Io(message) => message,
    };
    // The host's message starts with the path, which FsError shows already.
    let message = message
        .strip_prefix(path)
        .and_then(|rest| rest.strip_prefix(": "))
        .map_or_else(|| message.clone(), str::to_owned);
    FsError::Other {
        path: path.to_owned(),
        message,
    }
}

/// The plugin.
pub struct Helm;

impl Renderer for Helm {
    fn metadata() -> Metadata {
        Metadata::renderer(
            "helm",
            env!("CARGO_PKG_VERSION"),
            "Renders a Helm chart as `helm template` does: values, subcharts, dependencies, hooks, Helm's ordering.",
        )
        .with_config_schema(SCHEMA)
    }

    fn render(request: Request) -> Result<Output, Failure> {
        let config: Config = serde_json::from_str(&request.config)
            .map_err(|e| Failure::new(format!("helm configuration: {e}")))?;
        let defaults = Options::default();
        let options = Options {
            release_name: config.release_name.unwrap_or(defaults.release_name.clone()),
            namespace: config.namespace.unwrap_or(defaults.namespace.clone()),
            name_template: config.name_template,
            kube_version: config.kube_version,
            api_versions: config.api_versions,
            include_crds: config.include_crds,
            show_only: config.show_only,
            skip_tests: config.skip_tests,
            disable_hooks: config.no_hooks,
            is_upgrade: config.is_upgrade,
            skip_schema_validation: config.skip_schema_validation,
            values_files: config.values_files,
            values: config.values.into_iter().collect(),
            set_json: config.set_json,
            set: config.set,
            set_string: config.set_string,
            set_file: config.set_file,
            set_literal: config.set_literal,
            ..defaults
        };
        let rendered = crate::render(&HostFs, &request.target, &options)
            .map_err(|e| Failure::new(e.to_string()))?;
        let mut per_file: std::collections::BTreeMap<String, u32> = Default::default();
        let manifests = rendered
            .documents
            .into_iter()
            .filter(|d| d.value.is_object())
            .map(|d| {
                let file = repository_path(&request.target, &d.source);
                let counter = per_file.entry(file.clone()).or_default();
                let document = *counter;
                *counter += 1;
                Manifest {
                    origin: Origin {
                        file,
                        document,
                        line: 0,
                    },
                    json: d.value.to_string(),
                }
            })
            .collect();
        Ok(Output {
            manifests,
            diagnostics: Vec::new(),
        })
    }
}

/// `mychart/templates/x.yaml` (Helm's source name) as a repository path:
/// the chart's name stands for the target folder.
fn repository_path(target: &str, source: &str) -> String {
    let rest = source.split_once('/').map_or(source, |(_, rest)| rest);
    if target.is_empty() || target == "." {
        rest.to_owned()
    } else {
        format!("{}/{rest}", target.trim_end_matches('/'))
    }
}

manifold_plugin_sdk::export_renderer!(Helm);

#[cfg(test)]
mod tests {
    #[test]
    fn sources_map_to_repository_paths() {
        assert_eq!(
            super::repository_path("charts/web", "web/templates/a.yaml"),
            "charts/web/templates/a.yaml"
        );
        assert_eq!(
            super::repository_path("", "web/charts/db/templates/b.yaml"),
            "charts/db/templates/b.yaml"
        );
    }
}
