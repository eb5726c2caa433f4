//! The Wasm validator plugin `secrets`: the checker behind manifold's
//! component interface.

use manifold_plugin_sdk::{Diagnostic, Failure, Manifest, Metadata, Validator};
use serde_json::Value;

use crate::{Checker, Options};

const SCHEMA: &str = r##"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "allow": {
      "description": "Resources never reported: every field given must match; `*` matches any run of characters.",
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "minProperties": 1,
        "properties": {
          "kind": { "type": "string" },
          "namespace": { "type": "string" },
          "name": { "type": "string" }
        }
      }
    },
    "credentialShapes": {
      "description": "Warn about credential-shaped values (private keys, cloud and chat tokens) in ConfigMaps and container env. Default true.",
      "type": "boolean"
    }
  }
}"##;

/// The plugin.
pub struct Secrets;

impl Validator for Secrets {
    fn metadata() -> Metadata {
        Metadata::validator(
            "secrets",
            env!("CARGO_PKG_VERSION"),
            "Finds Secrets committed in plaintext (SealedSecret, ExternalSecret and SOPS-encrypted files pass) and credential-shaped values in ConfigMaps and container env.",
        )
        .with_config_schema(SCHEMA)
    }

    fn validate(manifests: Vec<Manifest>, config: String) -> Result<Vec<Diagnostic>, Failure> {
        let config: Value = serde_json::from_str(&config)
            .map_err(|e| Failure::new(format!("secrets configuration: {e}")))?;
        let options = Options::from_json(&config).map_err(|e| Failure::new(e.to_string()))?;
        let checker = Checker::new(options).map_err(|e| Failure::new(e.to_string()))?;
        let mut out = Vec::new();
        for (index, manifest) in manifests.iter().enumerate() {
            let findings = checker.check(&manifest.value()?);
            out.extend(findings.into_iter().map(|f| f.on_manifest(index)));
        }
        Ok(out)
    }
}

manifold_plugin_sdk::export_validator!(Secrets);
