//! The validator's JSON configuration, as the Wasm plugin receives it: the
//! policy files' contents (the plugin has no file system) plus conftest
//! options, turned into [`LoadOptions`] and a [`PolicySet`].

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, LoadOptions, Namespaces, PolicySet, RegoVersion, Source};

/// Configuration of the policy validator.
///
/// ```json
/// {"policies": [{"name": "policy/deny.rego", "text": "package main ..."}],
///  "data": [{"name": "data.yaml", "text": "registry: corp.io"}],
///  "namespaces": ["main", "k8s"], "regoVersion": "auto", "executionLimitMs": 2000}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyConfig {
    /// `.rego` files and YAML/JSON files with ConstraintTemplates and
    /// constraints.
    #[serde(default)]
    pub policies: Vec<Source>,
    /// conftest `--data` files, merged under `data`.
    #[serde(default)]
    pub data: Vec<Source>,
    /// Existing cluster state (Kubernetes objects given with `--data`): part
    /// of Gatekeeper's `data.inventory`, never validated themselves.
    #[serde(default)]
    pub inventory: Vec<Value>,
    /// conftest namespaces to query; `main` when absent.
    #[serde(default)]
    pub namespaces: Option<Vec<String>>,
    /// Query every package (conftest `--all-namespaces`).
    #[serde(default)]
    pub all_namespaces: bool,
    /// Syntax of `.rego` files: `auto` (default), `v0` or `v1`.
    #[serde(default)]
    pub rego_version: RegoVersion,
    /// Per-rule evaluation budget in milliseconds.
    #[serde(default)]
    pub execution_limit_ms: Option<u64>,
    /// Fail on builtin errors instead of treating them as undefined.
    #[serde(default)]
    pub strict_builtin_errors: bool,
}

impl PolicyConfig {
    pub fn from_json(value: &Value) -> Result<PolicyConfig, Error> {
        serde_json::from_value(value.clone()).map_err(|e| Error::Config {
            message: format!("{e}; see PolicyConfig for the accepted fields"),
        })
    }

    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            namespaces: match (&self.namespaces, self.all_namespaces) {
                (_, true) => Namespaces::All,
                (Some(list), false) => Namespaces::Only(list.clone()),
                (None, false) => Namespaces::default(),
            },
            rego_version: self.rego_version,
            data: self.data.clone(),
            execution_limit: self.execution_limit_ms.map(Duration::from_millis),
            strict_builtin_errors: self.strict_builtin_errors,
        }
    }
}

impl PolicySet {
    /// Loads the policies a [`PolicyConfig`] carries.
    pub fn from_config(config: &PolicyConfig) -> Result<PolicySet, Error> {
        PolicySet::load(&config.policies, &config.load_options())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_configs() {
        let cases = [
            (json!({}), Some(PolicyConfig::default())),
            (
                json!({"policies": [{"name": "a.rego", "text": "package main"}], "namespaces": ["k8s"], "regoVersion": "v0", "executionLimitMs": 50}),
                Some(PolicyConfig {
                    policies: vec![Source::new("a.rego", "package main")],
                    namespaces: Some(vec!["k8s".into()]),
                    rego_version: RegoVersion::V0,
                    execution_limit_ms: Some(50),
                    ..PolicyConfig::default()
                }),
            ),
            (json!({"policy": []}), None),
            (json!({"regoVersion": "v2"}), None),
            (json!({"policies": [{"name": "a.rego"}]}), None),
        ];
        for (value, expected) in cases {
            assert_eq!(PolicyConfig::from_json(&value).ok(), expected, "{value}");
        }
        let opts = PolicyConfig {
            all_namespaces: true,
            execution_limit_ms: Some(5),
            ..PolicyConfig::default()
        }
        .load_options();
        assert!(matches!(opts.namespaces, Namespaces::All));
        assert_eq!(opts.execution_limit, Some(Duration::from_millis(5)));
    }

    #[test]
    fn loads_from_config() {
        let config = PolicyConfig::from_json(&json!({
            "policies": [{"name": "p.rego", "text": "package main\nimport rego.v1\ndeny contains \"no\" if input.bad"}]
        }))
        .unwrap();
        let mut set = PolicySet::from_config(&config).unwrap();
        assert_eq!(set.evaluate(&json!({"bad": true})).unwrap().len(), 1);
        assert!(set.evaluate(&json!({})).unwrap().is_empty());
    }
}
