//! The Wasm validator plugin `schema`: kubeconform's checks behind manifold's
//! component interface.
//!
//! Custom resources are checked against the CustomResourceDefinitions of the
//! whole run (asked of the host through `context`, since a CRD may sit in
//! another batch) and against schema files read through `files` (the host
//! confines reads to the repository and the folders the user named).

use manifold_plugin_sdk::{Diagnostic, Failure, Manifest, Metadata, Validator as Plugin, context};
use serde::Deserialize;
use serde_json::Value;

use crate::{MissingSchemas, Options, Validator};

const SCHEMA: &str = r##"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "kubeVersion": {
      "description": "Kubernetes version of the embedded schemas (1.30, 1.30.2, v1.30.0 or master); default: the newest shipped. A version that is not shipped uses the nearest one.",
      "type": "string"
    },
    "strict": {
      "description": "Reject fields the schema does not declare and duplicate YAML keys (kubeconform -strict). Default true.",
      "type": "boolean"
    },
    "schemaLocations": {
      "description": "Tried in order: `default` (the embedded schemas), a folder, or a kubeconform path template with {{ .ResourceKind }}, {{ .ResourceAPIVersion }}, {{ .Group }}, {{ .KindSuffix }}, {{ .StrictSuffix }}, {{ .NormalizedKubernetesVersion }}. Default: [default].",
      "type": "array",
      "items": { "type": "string", "minLength": 1 }
    },
    "skip": {
      "description": "Kinds not to validate: `Kind` or `apiVersion/Kind`.",
      "type": "array",
      "items": { "type": "string" }
    },
    "reject": {
      "description": "Kinds that are an error wherever they appear: `Kind` or `apiVersion/Kind`.",
      "type": "array",
      "items": { "type": "string" }
    },
    "missingSchemas": {
      "description": "What a resource without any schema gets (default warn; kubeconform's default is error).",
      "enum": ["error", "warn", "skip"]
    }
  }
}"##;

/// The plugin's configuration, as the schema above describes it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct Config {
    kube_version: Option<String>,
    strict: Option<bool>,
    schema_locations: Vec<String>,
    skip: Vec<String>,
    reject: Vec<String>,
    missing_schemas: MissingSchemas,
}

/// The plugin.
pub struct Schema;

impl Plugin for Schema {
    fn metadata() -> Metadata {
        Metadata::validator(
            "schema",
            env!("CARGO_PKG_VERSION"),
            "Validates every manifest against the schema of its apiVersion and kind, like kubeconform -strict: embedded Kubernetes 1.25–1.37 schemas, CustomResourceDefinitions found in the run, and schema folders.",
        )
        .with_config_schema(SCHEMA)
    }

    fn validate(manifests: Vec<Manifest>, config: String) -> Result<Vec<Diagnostic>, Failure> {
        let config: Config = serde_json::from_str(&config)
            .map_err(|e| Failure::new(format!("schema configuration: {e}")))?;
        let options = Options {
            kubernetes_version: config.kube_version,
            strict: config.strict.unwrap_or(true),
            schema_locations: config.schema_locations,
            skip: config.skip,
            reject: config.reject,
            missing_schemas: config.missing_schemas,
            ..Options::default()
        };
        let mut validator = Validator::new(options).map_err(|e| Failure::new(e.to_string()))?;
        let documents = manifests
            .iter()
            .map(Manifest::value)
            .collect::<Result<Vec<Value>, _>>()?;

        // CRDs of other batches. Those that cannot be used are reported by
        // the batch that holds them (below, through `validate_batch`).
        for crd in context::manifests(&["CustomResourceDefinition"]) {
            if let Ok(value) = crd.value() {
                let _ = validator.add_crd(&value);
            }
        }
        // Files the validator would consult; absent ones are passed over as
        // kubeconform passes over a location without the schema.
        for location in validator.schema_requests_batch(&documents) {
            if let Ok(bytes) = manifold_plugin_sdk::files::read(&location) {
                validator.add_schema_file(&location, &bytes);
            }
        }

        let mut out = Vec::new();
        for (index, findings) in validator.validate_batch(&documents).into_iter().enumerate() {
            out.extend(findings.into_iter().map(|f| f.on_manifest(index)));
        }
        Ok(out)
    }
}

manifold_plugin_sdk::export_validator!(Schema);
