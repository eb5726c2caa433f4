//! The Wasm validator plugin `policy`: the library behind manifold's
//! component interface. The host passes the policy files' contents in the
//! configuration (the plugin reads no files). Gatekeeper's `data.inventory`
//! is the cluster state given in the configuration plus every manifest of
//! the run, asked of the host through `context` (batches split the run).

use manifold_plugin_sdk::{
    Diagnostic, Failure, Manifest, Metadata, Severity as Level, Validator, context, log,
};
use serde_json::Value;

use crate::{PolicyConfig, PolicySet, Severity};

const SCHEMA: &str = r##"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "policies": {
      "description": "Policy sources: .rego files (conftest style) and YAML with ConstraintTemplates and constraints (Gatekeeper style). The host fills this from --policy.",
      "type": "array",
      "items": { "$ref": "#/$defs/source" }
    },
    "data": {
      "description": "Documents merged under `data` (conftest --data).",
      "type": "array",
      "items": { "$ref": "#/$defs/source" }
    },
    "inventory": {
      "description": "Existing cluster state: Kubernetes objects that join Gatekeeper's data.inventory and are not validated. The host fills this from --data.",
      "type": "array",
      "items": { "type": "object" }
    },
    "namespaces": { "description": "conftest packages to query (default: main).", "type": "array", "items": { "type": "string" } },
    "allNamespaces": { "description": "Query every package.", "type": "boolean" },
    "regoVersion": { "enum": ["auto", "v0", "v1"] },
    "executionLimitMs": { "type": "integer", "minimum": 1 },
    "strictBuiltinErrors": { "type": "boolean" }
  },
  "$defs": {
    "source": {
      "type": "object",
      "additionalProperties": false,
      "required": ["name", "text"],
      "properties": { "name": { "type": "string" }, "text": { "type": "string" } }
    }
  }
}"##;

/// The plugin.
pub struct Policy;

impl Validator for Policy {
    fn metadata() -> Metadata {
        Metadata::validator(
            "policy",
            env!("CARGO_PKG_VERSION"),
            "Rego policies as conftest (deny/violation/warn rules) and Gatekeeper (ConstraintTemplates and constraints) run them, evaluated by regorus.",
        )
        .with_config_schema(SCHEMA)
    }

    fn validate(manifests: Vec<Manifest>, config: String) -> Result<Vec<Diagnostic>, Failure> {
        let config: Value = serde_json::from_str(&config)
            .map_err(|e| Failure::new(format!("policy configuration: {e}")))?;
        let config = PolicyConfig::from_json(&config).map_err(|e| Failure::new(e.to_string()))?;
        if config.policies.is_empty() {
            return Ok(Vec::new());
        }
        let mut set = PolicySet::from_config(&config).map_err(located)?;
        let objects = manifests
            .iter()
            .map(Manifest::value)
            .collect::<Result<Vec<_>, _>>()?;
        // The whole run crosses the boundary only for policies that can
        // look at it.
        let mut inventory = config.inventory.clone();
        if config.policies.iter().any(|p| p.text.contains("inventory")) {
            for manifest in context::manifests(&["*"]) {
                inventory.push(manifest.value()?);
            }
        }
        set.set_inventory(&inventory)
            .map_err(|e| Failure::new(e.to_string()))?;
        let mut out = Vec::new();
        for (index, object) in objects.iter().enumerate() {
            let evaluation = set.evaluate_all(object);
            for finding in evaluation.findings {
                let level = match finding.severity {
                    Severity::Error => Level::Error,
                    Severity::Warning => Level::Warning,
                    Severity::Info => Level::Info,
                };
                let message = match &finding.constraint {
                    Some(constraint) => format!("{} (constraint {constraint})", finding.message),
                    None => finding.message,
                };
                out.push(Diagnostic::new(level, finding.rule, message).on_manifest(index));
            }
            for error in evaluation.errors {
                out.push(
                    Diagnostic::error("policy/evaluation", error.to_string()).on_manifest(index),
                );
            }
            for line in set.take_prints() {
                log::info(&line);
            }
        }
        Ok(out)
    }
}

/// A failure at the policy file and line it is about, so the host reports
/// it there (once) rather than on the first manifest of every batch.
fn located(e: crate::error::Error) -> Failure {
    let text = e.to_string();
    match e.location() {
        Some(location) => {
            let message = text
                .strip_prefix(&format!("{location}: "))
                .map_or_else(|| text.clone(), str::to_owned);
            Failure::at(
                message,
                &location.file,
                location.line.unwrap_or(0),
                location.column.unwrap_or(0),
            )
        }
        None => Failure::new(text),
    }
}

manifold_plugin_sdk::export_validator!(Policy);
