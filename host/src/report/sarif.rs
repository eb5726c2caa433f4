//! The SARIF 2.1.0 report, for GitHub code scanning and other SARIF viewers.
//!
//! One run; one rule per rule id seen (sorted by id, so `ruleIndex` is
//! stable); one result per finding, in the report's order. Locations are
//! relative to `%SRCROOT%`, which is what code scanning resolves against the
//! checkout: paths as given on the command line, so run manifold from the
//! repository root for findings to show inline on the right lines.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Diagnostic, Report, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where people learn about manifold: the repository in the package's
/// metadata, when it has one (`informationUri` must be an absolute URI, so
/// nothing is invented when there is none).
const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

impl Report {
    pub fn to_sarif(&self) -> String {
        let mut rules: BTreeMap<&str, &str> = BTreeMap::new();
        for d in &self.diagnostics {
            rules.entry(&d.rule).or_insert(&d.plugin);
        }
        let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, r)| (*r, i)).collect();
        let results: Vec<Value> = self
            .diagnostics
            .iter()
            .map(|d| result(d, index.get(d.rule.as_str()).copied().unwrap_or(0)))
            .collect();
        let mut driver = Map::new();
        driver.insert("name".into(), "manifold".into());
        driver.insert("version".into(), env!("CARGO_PKG_VERSION").into());
        if !INFORMATION_URI.is_empty() {
            driver.insert("informationUri".into(), INFORMATION_URI.into());
        }
        driver.insert(
            "rules".into(),
            rules
                .iter()
                .map(|(rule, plugin)| descriptor(rule, plugin))
                .collect(),
        );
        let log = json!({
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": driver },
                // Columns from the YAML reader count characters.
                "columnKind": "unicodeCodePoints",
                "results": results,
            }],
        });
        let mut text = serde_json::to_string_pretty(&log)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }
}

fn result(d: &Diagnostic, rule_index: usize) -> Value {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let mut result = Map::new();
    result.insert("ruleId".into(), d.rule.clone().into());
    result.insert("ruleIndex".into(), rule_index.into());
    result.insert("level".into(), level.into());
    // The object and field go into the text: code scanning shows the
    // message and the line, not property bags.
    result.insert(
        "message".into(),
        json!({ "text": format!("{}{}", d.message, d.context()) }),
    );
    if let Some(file) = &d.file {
        let mut physical = Map::new();
        physical.insert("artifactLocation".into(), artifact(file));
        if let Some(line) = d.line {
            let mut region = Map::new();
            region.insert("startLine".into(), line.into());
            if let Some(column) = d.column {
                region.insert("startColumn".into(), column.into());
            }
            physical.insert("region".into(), region.into());
        }
        let mut location = Map::new();
        location.insert("physicalLocation".into(), physical.into());
        if let Some(resource) = &d.resource {
            location.insert(
                "logicalLocations".into(),
                json!([{ "fullyQualifiedName": resource.describe(), "kind": "resource" }]),
            );
        }
        result.insert("locations".into(), json!([location]));
    }
    let mut properties = Map::new();
    properties.insert("plugin".into(), d.plugin.clone().into());
    if let Some(path) = &d.path {
        properties.insert("jsonPointer".into(), path.clone().into());
    }
    if let Some(document) = d.document {
        properties.insert("document".into(), document.into());
    }
    result.insert("properties".into(), properties.into());
    result.into()
}

/// An artifact location: relative to `%SRCROOT%` when the path is relative,
/// else an absolute `file:` URI (which viewers cannot map to the checkout,
/// but which is at least correct).
fn artifact(file: &str) -> Value {
    let path = file.replace('\\', "/");
    if path.starts_with('/') {
        json!({ "uri": format!("file://{}", uri_path(&path)) })
    } else if let (Some(drive), Some(rest)) = (path.get(..2), path.get(2..))
        && drive.ends_with(':')
        && drive.starts_with(|c: char| c.is_ascii_alphabetic())
        && rest.starts_with('/')
    {
        // `C:` stays as it is: it is the drive, not a scheme.
        json!({ "uri": format!("file:///{drive}{}", uri_path(rest)) })
    } else {
        json!({ "uri": uri_path(&path), "uriBaseId": "%SRCROOT%" })
    }
}

/// Percent-encodes a path for a URI: everything but unreserved characters
/// and `/` (RFC 3986), so spaces, `%`, `#` and `?` do not change its meaning.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A rule's description: real help for manifold's own rules; for a
/// plugin's, which plugin reports it and where its settings live.
fn descriptor(rule: &str, plugin: &str) -> Value {
    let (short, help) = match rule {
        "manifold/read" => (
            "A manifest file could not be read.",
            "manifold could not read this file: it is unreadable, or larger than the 64 MiB \
             manifold reads. Make it readable, split it, or leave it out of the paths given \
             to `manifold validate`.",
        ),
        "manifold/yaml" => (
            "A manifest file is not valid YAML.",
            "The file does not parse as YAML (the message says why and where): a syntax \
             error, invalid UTF-8, a duplicate key, or an alias expansion too large to be \
             safe. Fix the YAML at the reported line; nothing else in the file was checked.",
        ),
        "manifold/empty" => (
            "A manifest file holds no documents.",
            "The file is empty or holds only comments, so it declares nothing. Delete it, \
             or add the objects it was meant to hold.",
        ),
        "manifold/not-kubernetes" => (
            "A document is not a Kubernetes object.",
            "Every document in a manifest file must be a mapping with string `apiVersion` \
             and `kind` keys (and every item of a `List` too). Add them, or move data that \
             is not a manifest out of the folders manifold checks.",
        ),
        "manifold/plugin-failed" => (
            "A validator plugin could not check a batch of objects.",
            "The plugin timed out, ran out of memory, crashed or answered nonsense; the \
             message names the failure and the files of the batch. Its objects were not \
             checked by that plugin. Raise `--timeout` or `--memory` (or `limits` in \
             manifold.yaml) if the input is large; otherwise report it to the plugin's author.",
        ),
        _ => ("", ""),
    };
    let (short, help) = if short.is_empty() {
        (
            format!("`{rule}`, reported by the {plugin} plugin."),
            format!(
                "This finding comes from the `{plugin}` plugin (rule `{rule}`); the message \
                 says what is wrong and the location where. Fix the manifest, or change the \
                 plugin's settings in the `validators.{plugin}` section of manifold.yaml \
                 (`manifold plugin inspect {plugin}` shows them)."
            ),
        )
    } else {
        (short.to_owned(), help.to_owned())
    };
    json!({
        "id": rule,
        "shortDescription": { "text": short },
        "fullDescription": { "text": help },
        "help": { "text": help },
        "properties": { "tags": [plugin] },
    })
}

// In tests a panic is a failing test, which is what unwrapping means there.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::Value;

    use super::super::fixture;
    use super::*;

    fn sarif() -> Value {
        serde_json::from_str(&fixture::report().to_sarif()).unwrap()
    }

    #[test]
    fn log_and_driver() {
        let log = sarif();
        assert_eq!(log["$schema"], SCHEMA);
        assert_eq!(log["version"], "2.1.0");
        let runs = log["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1);
        let driver = &runs[0]["tool"]["driver"];
        assert_eq!(driver["name"], "manifold");
        assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
        let ids: Vec<&str> = driver["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "labels/note",
                "labels/required",
                "manifold/plugin-failed",
                "manifold/yaml",
                "policy/deny"
            ]
        );
        for rule in driver["rules"].as_array().unwrap() {
            for key in ["shortDescription", "fullDescription", "help"] {
                let text = rule[key]["text"].as_str().unwrap();
                assert!(text.len() > 20, "{key} of {}: {text:?}", rule["id"]);
            }
        }
        let plugin_failed = &driver["rules"][2];
        assert!(
            plugin_failed["help"]["text"]
                .as_str()
                .unwrap()
                .contains("--timeout")
        );
        assert!(
            driver["rules"][1]["help"]["text"]
                .as_str()
                .unwrap()
                .contains("`labels` plugin")
        );
    }

    #[test]
    fn results_in_report_order_with_locations() {
        let log = sarif();
        let run = &log["runs"][0];
        let results = run["results"].as_array().unwrap();
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(results.len(), 5);
        for r in results {
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(
                rules[index]["id"], r["ruleId"],
                "ruleIndex points at ruleId"
            );
        }
        let got: Vec<(&str, &str)> = results
            .iter()
            .map(|r| (r["ruleId"].as_str().unwrap(), r["level"].as_str().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("manifold/plugin-failed", "error"),
                ("manifold/yaml", "error"),
                ("labels/note", "note"),
                ("labels/required", "error"),
                ("policy/deny", "warning"),
            ]
        );
        assert!(
            results[0].get("locations").is_none(),
            "no file, no location"
        );
        let yaml = &results[1]["locations"][0]["physicalLocation"];
        assert_eq!(
            yaml["artifactLocation"],
            json!({"uri": "apps/a%20b%2Cc%3Ad.yaml", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(yaml["region"], json!({"startLine": 2}));
        assert!(
            results[2]["locations"][0]["physicalLocation"]
                .get("region")
                .is_none(),
            "no line, no region"
        );
        let required = &results[3];
        assert_eq!(
            required["message"]["text"],
            "missing required label \"team\" (Deployment prod/web, /metadata/labels)"
        );
        assert_eq!(
            required["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "Deployment prod/web"
        );
        assert_eq!(required["properties"]["jsonPointer"], "/metadata/labels");
        let policy = &results[4];
        assert_eq!(
            policy["locations"][0]["physicalLocation"]["region"],
            json!({"startLine": 3, "startColumn": 7})
        );
        assert_eq!(
            policy["message"]["text"],
            "50% of <replicas> & \"more\":\nsecond line\r\u{1b}[31m"
        );
    }

    #[test]
    fn uris() {
        // (path as reported, artifact location)
        let cases = [
            (
                "apps/web/deploy.yaml",
                json!({"uri": "apps/web/deploy.yaml", "uriBaseId": "%SRCROOT%"}),
            ),
            (
                "apps\\win\\d.yaml",
                json!({"uri": "apps/win/d.yaml", "uriBaseId": "%SRCROOT%"}),
            ),
            (
                "a/100%#?é.yaml",
                json!({"uri": "a/100%25%23%3F%C3%A9.yaml", "uriBaseId": "%SRCROOT%"}),
            ),
            ("/abs/x y.yaml", json!({"uri": "file:///abs/x%20y.yaml"})),
            ("C:\\r\\x.yaml", json!({"uri": "file:///C:/r/x.yaml"})),
            (
                "c:d.yaml",
                json!({"uri": "c%3Ad.yaml", "uriBaseId": "%SRCROOT%"}),
            ),
        ];
        for (path, want) in cases {
            assert_eq!(artifact(path), want, "{path}");
        }
    }

    /// Checks the fixture's SARIF against the OASIS SARIF 2.1.0 schema when
    /// `MANIFOLD_SARIF_SCHEMA` names a copy of it (tests never fetch it).
    #[test]
    fn matches_the_sarif_schema_when_given() {
        let Some(path) = std::env::var_os("MANIFOLD_SARIF_SCHEMA") else {
            eprintln!("MANIFOLD_SARIF_SCHEMA is not set; skipping the schema check");
            return;
        };
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let log = sarif();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}
