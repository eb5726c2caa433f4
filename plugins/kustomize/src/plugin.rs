//! The Wasm render plugin `kustomize`: builds the kustomization in the target
//! folder through the host's confined, recorded file access, with
//! `kustomize build`'s flags as configuration. `helmCharts` are rendered by
//! the host's `helm` plugin through the compose import, so a chart inflated
//! here is rendered exactly as `manifold render CHART` would render it.

use manifold_plugin_sdk::files::{self, EntryKind, FileError};
use manifold_plugin_sdk::render::{self, Output, Request};
use manifold_plugin_sdk::{Failure, Manifest, Metadata, Origin, Renderer};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{FileSystem, FsError, HelmRenderer, HelmRequest, LoadRestrictor, Options, Reorder};

const SCHEMA: &str = r##"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "reorder": {
      "enum": ["legacy", "none", "fifo"],
      "description": "Output order: kustomize's legacy kind order (default) or input order (none, fifo); a kustomization's sortOptions wins."
    },
    "loadRestrictor": {
      "enum": ["LoadRestrictionsRootOnly", "LoadRestrictionsNone"],
      "description": "Whether a kustomization may read files outside its own folder (never outside the repository)."
    },
    "enableHelm": { "type": "boolean", "description": "Render helmCharts with the helm plugin." },
    "enableManagedbyLabel": { "type": "boolean", "description": "Add app.kubernetes.io/managed-by to every object." }
  }
}"##;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Config {
    reorder: Option<String>,
    load_restrictor: Option<String>,
    #[serde(default)]
    enable_helm: bool,
    #[serde(default)]
    enable_managedby_label: bool,
}

impl Config {
    fn options(self) -> Result<Options, Failure> {
        let reorder = match self.reorder.as_deref() {
            None | Some("legacy") => Reorder::Legacy,
            Some("none" | "fifo") => Reorder::None,
            Some(other) => {
                return Err(Failure::new(format!(
                    "kustomize configuration: reorder `{other}` must be `legacy` or `none`"
                )));
            }
        };
        let load_restrictor = match self.load_restrictor.as_deref() {
            None | Some("LoadRestrictionsRootOnly") => LoadRestrictor::RootOnly,
            Some("LoadRestrictionsNone") => LoadRestrictor::None,
            Some(other) => {
                return Err(Failure::new(format!(
                    "kustomize configuration: loadRestrictor `{other}` must be `LoadRestrictionsRootOnly` or `LoadRestrictionsNone`"
                )));
            }
        };
        Ok(Options {
            reorder,
            load_restrictor,
            enable_helm: self.enable_helm,
            enable_managedby_label: self.enable_managedby_label,
            helm: Some(Box::new(ComposedHelm)),
            ..Options::default()
        })
    }
}

/// The repository, through the host.
struct HostFs;

impl FileSystem for HostFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        files::read(path).map_err(|e| to_fs_error(path, e))
    }

    fn list(&self, path: &str) -> Result<Vec<(String, bool)>, FsError> {
        let entries = files::list(path).map_err(|e| to_fs_error(path, e))?;
        let mut out: Vec<(String, bool)> = entries
            .into_iter()
            .map(|e| (e.name, matches!(e.kind, EntryKind::Directory)))
            .collect();
        out.sort();
        Ok(out)
    }
}

fn to_fs_error(path: &str, e: FileError) -> FsError {
    match e {
        FileError::NotFound(_) => FsError::NotFound(path.to_owned()),
        FileError::Denied(message) => FsError::Denied(format!("{path} ({message})")),
        FileError::Io(message) => FsError::Io(format!("{path}: {message}")),
    }
}

/// `helmCharts` through the host's `helm` plugin.
struct ComposedHelm;

impl HelmRenderer for ComposedHelm {
    fn render(&self, fs: &dyn FileSystem, req: &HelmRequest) -> Result<Vec<Value>, String> {
        let config = helm_config(fs, req)?;
        let request = Request {
            target: req.chart_dir.clone(),
            config: config.to_string(),
        };
        let output = render::render_with("helm", &request).map_err(|f| f.message)?;
        output
            .manifests
            .iter()
            .map(|m| {
                serde_json::from_str(&m.json)
                    .map_err(|e| format!("the helm plugin returned a malformed object: {e}"))
            })
            .collect()
    }
}

/// The helm plugin's configuration for one `helmCharts` entry. kustomize hands
/// Helm its prepared values first and `additionalValuesFiles` after them, so
/// those files are merged here, in order, as Helm merges `-f` files.
fn helm_config(fs: &dyn FileSystem, req: &HelmRequest) -> Result<Value, String> {
    let mut values = match &req.values {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    for path in &req.additional_values_files {
        let bytes = fs.read(path).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&bytes);
        match crate::yaml::parse_one(&text, path).map_err(|e| e.to_string())? {
            Value::Object(layer) => merge_values(&mut values, layer),
            Value::Null => {}
            _ => return Err(format!("{path}: a values file must hold a map")),
        }
    }
    let mut config = json!({
        "values": values,
        "includeCrds": req.include_crds,
        "skipTests": req.skip_tests,
        "noHooks": req.skip_hooks,
    });
    let mut put = |key: &str, value: &str| {
        if !value.is_empty() {
            config[key] = Value::String(value.to_owned());
        }
    };
    put("releaseName", &req.release_name);
    put("namespace", &req.namespace);
    put("nameTemplate", &req.name_template);
    put("kubeVersion", &req.kube_version);
    if !req.api_versions.is_empty() {
        config["apiVersions"] = json!(req.api_versions);
    }
    Ok(config)
}

/// Helm's merge of `-f` files: maps merge key by key, anything else is replaced.
fn merge_values(base: &mut Map<String, Value>, layer: Map<String, Value>) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(into)), Value::Object(from)) => merge_values(into, from),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// The plugin.
pub struct Kustomize;

impl Renderer for Kustomize {
    fn metadata() -> Metadata {
        Metadata::renderer(
            "kustomize",
            env!("CARGO_PKG_VERSION"),
            "Builds a kustomization as `kustomize build` (v5) does: overlays, components, generators, patches, replacements, helmCharts.",
        )
        .with_config_schema(SCHEMA)
    }

    fn render(request: Request) -> Result<Output, Failure> {
        let config: Config = if request.config.trim().is_empty() {
            Config::default()
        } else {
            serde_json::from_str(&request.config)
                .map_err(|e| Failure::new(format!("kustomize configuration: {e}")))?
        };
        let options = config.options()?;
        let resources = crate::build(&HostFs, &request.target, &options)
            .map_err(|e| Failure::new(e.to_string()))?;
        let mut per_file: std::collections::BTreeMap<String, u32> = Default::default();
        let manifests = resources
            .into_iter()
            .map(|r| {
                let counter = per_file.entry(r.origin.clone()).or_default();
                let document = *counter;
                *counter += 1;
                Manifest {
                    origin: Origin {
                        file: r.origin,
                        document,
                        line: 0,
                    },
                    json: r.value.to_string(),
                }
            })
            .collect();
        Ok(Output {
            manifests,
            diagnostics: Vec::new(),
        })
    }
}

manifold_plugin_sdk::export_renderer!(Kustomize);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_files_merge_maps_and_replace_the_rest() {
        let mut base = json!({"a": {"b": 1, "c": [1]}, "d": 1})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let layer = json!({"a": {"c": [2], "e": null}, "d": {"x": 1}});
        merge_values(&mut base, layer.as_object().cloned().unwrap_or_default());
        assert_eq!(
            Value::Object(base),
            json!({"a": {"b": 1, "c": [2], "e": null}, "d": {"x": 1}})
        );
    }

    #[test]
    fn unknown_reorder_is_refused() {
        let config = Config {
            reorder: Some("alphabetical".into()),
            ..Config::default()
        };
        assert!(config.options().is_err());
    }
}
