//! The checks themselves, on one object.

use manifold_plugin_sdk::{Diagnostic, Severity as Level, json_pointer};
use serde_json::{Map, Value};

use crate::config::{Config, Rule, Severity};
use crate::syntax;

/// Kubernetes refuses objects whose annotations exceed this many bytes.
const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

/// Findings for the object at `index` of the batch.
pub fn check(config: &Config, index: usize, object: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");

    let templates = pod_template_metadata(object);
    let mut required_on: Vec<&[&str]> = vec![&["metadata"]];
    if config.pod_templates {
        required_on.extend(templates.iter().copied());
    }
    for place in &required_on {
        let metadata = lookup(object, place);
        for rule in config
            .labels
            .iter()
            .filter(|r| r.applies_to(api_version, kind))
        {
            require(
                &mut out, index, place, metadata, "labels", "label", "required", "value", rule,
            );
        }
    }
    for rule in config
        .annotations
        .iter()
        .filter(|r| r.applies_to(api_version, kind))
    {
        let metadata = lookup(object, &["metadata"]);
        require(
            &mut out,
            index,
            &["metadata"],
            metadata,
            "annotations",
            "annotation",
            "annotation-required",
            "annotation-value",
            rule,
        );
    }

    if config.well_formed {
        let mut label_maps: Vec<Vec<&str>> = vec![vec!["metadata", "labels"]];
        for template in &templates {
            let mut path = template.to_vec();
            path.push("labels");
            label_maps.push(path);
        }
        label_maps.push(vec!["spec", "selector", "matchLabels"]);
        if kind == "Service" {
            label_maps.push(vec!["spec", "selector"]);
        }
        for path in &label_maps {
            if let Some(Value::Object(labels)) = lookup(object, path) {
                well_formed_labels(&mut out, index, path, labels);
            }
        }
        let mut annotation_maps: Vec<Vec<&str>> = vec![vec!["metadata", "annotations"]];
        for template in &templates {
            let mut path = template.to_vec();
            path.push("annotations");
            annotation_maps.push(path);
        }
        for path in &annotation_maps {
            if let Some(Value::Object(annotations)) = lookup(object, path) {
                well_formed_annotations(&mut out, index, path, annotations);
            }
        }
    }
    out
}

/// Where the pod templates of a workload keep their metadata.
fn pod_template_metadata(object: &Value) -> Vec<&'static [&'static str]> {
    let mut places: Vec<&'static [&'static str]> = Vec::new();
    if lookup(object, &["spec", "template", "spec"]).is_some() {
        places.push(&["spec", "template", "metadata"]);
    }
    if lookup(object, &["spec", "jobTemplate", "spec", "template", "spec"]).is_some() {
        places.push(&["spec", "jobTemplate", "spec", "template", "metadata"]);
    }
    places
}

fn lookup<'a>(object: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(object, |v, key| v.get(key))
}

#[allow(clippy::too_many_arguments)]
fn require(
    out: &mut Vec<Diagnostic>,
    index: usize,
    metadata_path: &[&str],
    metadata: Option<&Value>,
    field: &str,
    noun: &str,
    missing_rule: &str,
    value_rule: &str,
    rule: &Rule,
) {
    let map = metadata.and_then(|m| m.get(field));
    let mut map_path = metadata_path.to_vec();
    map_path.push(field);
    let where_ = if metadata_path == ["metadata"] {
        String::new()
    } else {
        format!(" on {}", metadata_path.join("."))
    };
    match map.and_then(|m| m.get(&rule.key)) {
        None => {
            let (pointer, hint) = match map {
                Some(_) => (json_pointer(&map_path), String::new()),
                None => (
                    json_pointer(metadata_path),
                    format!(" (there is no {})", map_path.join(".")),
                ),
            };
            out.push(
                diagnostic(
                    rule.severity,
                    missing_rule,
                    format!("missing required {noun} {:?}{where_}{hint}", rule.key),
                )
                .on_manifest(index)
                .at_path(pointer),
            );
        }
        Some(value) => {
            let Some((pattern, regex)) = &rule.pattern else {
                return;
            };
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !regex.is_match(&text) {
                let mut path = map_path.clone();
                path.push(&rule.key);
                out.push(
                    diagnostic(
                        rule.severity,
                        value_rule,
                        format!(
                            "{noun} {:?} is {text:?}{where_}, which does not match {pattern:?}",
                            rule.key
                        ),
                    )
                    .on_manifest(index)
                    .at_path(json_pointer(&path)),
                );
            }
        }
    }
}

fn well_formed_labels(
    out: &mut Vec<Diagnostic>,
    index: usize,
    path: &[&str],
    labels: &Map<String, Value>,
) {
    let place = path.join(".");
    for (key, value) in labels {
        let mut key_path = path.to_vec();
        key_path.push(key);
        let pointer = json_pointer(&key_path);
        if let Some(why) = syntax::key_error(key) {
            out.push(
                Diagnostic::error(
                    "labels/invalid-key",
                    format!("{place}: key {key:?} is not a valid label key: {why}"),
                )
                .on_manifest(index)
                .at_path(pointer.clone()),
            );
        }
        match value {
            Value::String(s) => {
                if let Some(why) = syntax::value_error(s) {
                    out.push(
                        Diagnostic::error(
                            "labels/invalid-value",
                            format!(
                                "{place}: value {s:?} of {key:?} is not a valid label value: {why}"
                            ),
                        )
                        .on_manifest(index)
                        .at_path(pointer),
                    );
                }
            }
            other => out.push(
                Diagnostic::error(
                    "labels/invalid-value",
                    format!("{place}: value of {key:?} is {other}, not a string: quote it in YAML"),
                )
                .on_manifest(index)
                .at_path(pointer),
            ),
        }
    }
}

fn well_formed_annotations(
    out: &mut Vec<Diagnostic>,
    index: usize,
    path: &[&str],
    annotations: &Map<String, Value>,
) {
    let place = path.join(".");
    let mut total = 0;
    for (key, value) in annotations {
        let mut key_path = path.to_vec();
        key_path.push(key);
        total += key.len();
        if let Some(why) = syntax::key_error(key) {
            out.push(
                Diagnostic::error(
                    "labels/invalid-annotation-key",
                    format!("{place}: key {key:?} is not a valid annotation key: {why}"),
                )
                .on_manifest(index)
                .at_path(json_pointer(&key_path)),
            );
        }
        match value {
            Value::String(s) => total += s.len(),
            other => out.push(
                Diagnostic::error(
                    "labels/invalid-annotation-value",
                    format!("{place}: value of {key:?} is {other}, not a string: quote it in YAML"),
                )
                .on_manifest(index)
                .at_path(json_pointer(&key_path)),
            ),
        }
    }
    if total > MAX_ANNOTATIONS_BYTES {
        out.push(
            Diagnostic::error(
                "labels/annotations-too-large",
                format!("{place}: annotations take {total} bytes; Kubernetes allows at most {MAX_ANNOTATIONS_BYTES}"),
            )
            .on_manifest(index)
            .at_path(json_pointer(path)),
        );
    }
}

fn diagnostic(severity: Severity, rule: &str, message: String) -> Diagnostic {
    let level = match severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Info,
    };
    Diagnostic::new(level, format!("labels/{rule}"), message)
}
