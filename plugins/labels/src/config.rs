//! The `labels` configuration: what `manifold.yaml` and `--require-label` say.

use regex::Regex;
use serde::Deserialize;

/// JSON Schema of the configuration, shown by `manifold plugin inspect labels`
/// and enforced by the host before any call.
pub const SCHEMA: &str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "labels",
  "description": "Required labels and annotations, and well-formed keys and values.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "require": {
      "description": "Labels every matching object must carry.",
      "type": "array",
      "items": { "$ref": "#/$defs/rule" }
    },
    "requireAnnotations": {
      "description": "Annotations every matching object must carry.",
      "type": "array",
      "items": { "$ref": "#/$defs/rule" }
    },
    "wellFormed": {
      "description": "Check label and annotation keys and values against Kubernetes' syntax (default true).",
      "type": "boolean"
    },
    "podTemplates": {
      "description": "Also require the labels on the pod templates of workloads (default false).",
      "type": "boolean"
    }
  },
  "$defs": {
    "rule": {
      "type": "object",
      "additionalProperties": false,
      "required": ["key"],
      "properties": {
        "key": { "type": "string", "minLength": 1 },
        "pattern": { "description": "Regular expression the whole value must match.", "type": "string", "format": "regex" },
        "kinds": {
          "description": "Kinds the rule applies to (`Deployment` or `apps/v1/Deployment`); all when absent.",
          "type": "array",
          "items": { "type": "string" }
        },
        "severity": { "enum": ["error", "warning", "info"] }
      }
    }
  }
}"##;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    require: Vec<RawRule>,
    #[serde(default)]
    require_annotations: Vec<RawRule>,
    #[serde(default = "yes")]
    well_formed: bool,
    #[serde(default)]
    pod_templates: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    key: String,
    pattern: Option<String>,
    #[serde(default)]
    kinds: Vec<String>,
    severity: Option<String>,
}

/// A checked configuration.
#[derive(Debug)]
pub struct Config {
    pub labels: Vec<Rule>,
    pub annotations: Vec<Rule>,
    pub well_formed: bool,
    pub pod_templates: bool,
}

/// One required key.
#[derive(Debug)]
pub struct Rule {
    pub key: String,
    /// Anchored: the whole value must match.
    pub pattern: Option<(String, Regex)>,
    pub kinds: Vec<String>,
    pub severity: Severity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Rule {
    /// Whether the rule applies to an object of this apiVersion and kind.
    pub fn applies_to(&self, api_version: &str, kind: &str) -> bool {
        self.kinds.is_empty()
            || self.kinds.iter().any(|k| {
                k == kind
                    || k.rsplit_once('/')
                        .is_some_and(|(group_version, k)| k == kind && group_version == api_version)
            })
    }
}

impl Config {
    /// Parses the JSON configuration; errors name the offending key.
    pub fn parse(json: &str) -> Result<Config, String> {
        let raw: RawConfig = if json.trim().is_empty() {
            RawConfig {
                well_formed: true,
                ..RawConfig::default()
            }
        } else {
            serde_json::from_str(json).map_err(|e| format!("labels configuration: {e}"))?
        };
        let rules = |rules: Vec<RawRule>, field: &str| -> Result<Vec<Rule>, String> {
            rules
                .into_iter()
                .enumerate()
                .map(|(i, r)| {
                    Rule::from_raw(r)
                        .map_err(|e| format!("labels configuration: {field}[{i}]: {e}"))
                })
                .collect()
        };
        Ok(Config {
            labels: rules(raw.require, "require")?,
            annotations: rules(raw.require_annotations, "requireAnnotations")?,
            well_formed: raw.well_formed,
            pod_templates: raw.pod_templates,
        })
    }
}

impl Rule {
    fn from_raw(raw: RawRule) -> Result<Rule, String> {
        let pattern = match raw.pattern {
            None => None,
            Some(p) => {
                let anchored = format!("^(?:{p})$");
                let regex = Regex::new(&anchored)
                    .map_err(|e| format!("pattern {p:?} is not a valid regular expression: {e}"))?;
                Some((p, regex))
            }
        };
        let severity = match raw.severity.as_deref() {
            None | Some("error") => Severity::Error,
            Some("warning") => Severity::Warning,
            Some("info") => Severity::Info,
            Some(other) => {
                return Err(format!(
                    "severity {other:?} is not one of error, warning, info"
                ));
            }
        };
        Ok(Rule {
            key: raw.key,
            pattern,
            kinds: raw.kinds,
            severity,
        })
    }
}
