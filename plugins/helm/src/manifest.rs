//! Rendered files to manifests as `pkg/release/v1/util` does it: split each
//! file on `---` lines, read each document's head (kind, name, hook
//! annotations), separate hooks, and sort both by Helm's install order.

use std::collections::BTreeMap;

use serde_json::Value as J;

use crate::Error;

/// Helm's `InstallOrder`: kinds not listed sort after these, by name.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The hook events Helm knows (`test-success` is Helm 2's name for `test`).
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// One document of a rendered template.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// `chart/templates/file.yaml`.
    pub path: String,
    /// The document text as Helm prints it.
    pub content: String,
    pub kind: String,
    /// Hook events (lowercased); empty for ordinary manifests.
    pub events: Vec<String>,
    pub weight: i64,
}

impl Manifest {
    pub fn is_test(&self) -> bool {
        self.events
            .iter()
            .any(|e| e == "test" || e == "test-success")
    }
}

/// `SplitManifests`: documents separated by lines starting with `---`,
/// leading blanks dropped, blank documents skipped.
pub fn split(text: &str) -> Vec<String> {
    let text = text.trim_start();
    let mut docs = Vec::new();
    let mut cur = String::new();
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("---") {
            // The separator eats `---` and following spaces/tabs only; the
            // rest of the line starts the next document.
            docs.push(std::mem::take(&mut cur));
            cur.push_str(rest.trim_start_matches([' ', '\t']));
        } else {
            cur.push_str(line);
        }
    }
    docs.push(cur);
    docs.into_iter()
        .filter(|d| !d.trim().is_empty())
        .map(|d| d.trim_start().to_string())
        .collect()
}

fn kind_rank(kind: &str) -> Option<usize> {
    INSTALL_ORDER.iter().position(|k| *k == kind)
}

/// Helm's `lessByKind`: listed kinds by position, unknown kinds last and
/// among themselves by name; ties keep their order (the sort is stable).
pub fn cmp_kind(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (kind_rank(a), kind_rank(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// `SortManifests`: files in path order, documents in file order, hooks
/// apart; both lists sorted by kind. Partials and blank files are skipped.
pub fn sort(files: &BTreeMap<String, String>) -> Result<(Vec<Manifest>, Vec<Manifest>), Error> {
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || content.trim().is_empty() {
            continue;
        }
        for doc in split(content) {
            let head = read_head(&doc).map_err(|message| Error::YamlParse {
                file: path.clone(),
                message,
            })?;
            let m = Manifest {
                path: path.clone(),
                content: doc,
                kind: head.kind,
                events: Vec::new(),
                weight: 0,
            };
            let Some(hook) = head.hook else {
                generic.push(m);
                continue;
            };
            let events: Vec<String> = hook
                .split(',')
                .map(|e| e.trim().to_ascii_lowercase())
                .collect();
            // Unknown hook types make Helm drop the document altogether.
            if events.iter().any(|e| !HOOK_EVENTS.contains(&e.as_str())) {
                continue;
            }
            hooks.push(Manifest {
                events,
                weight: head.weight,
                ..m
            });
        }
    }
    hooks.sort_by(|a, b| cmp_kind(&a.kind, &b.kind));
    generic.sort_by(|a, b| cmp_kind(&a.kind, &b.kind));
    Ok((hooks, generic))
}

struct Head {
    kind: String,
    hook: Option<String>,
    weight: i64,
}

/// Parses a document far enough to know its kind and hook annotations,
/// failing where Helm's strict decoding into `SimpleHead` fails.
fn read_head(doc: &str) -> Result<Head, String> {
    let value = parse_doc(doc)?;
    let mut head = Head {
        kind: String::new(),
        hook: None,
        weight: 0,
    };
    let map = match value {
        J::Null => return Ok(head),
        J::Object(m) => m,
        other => {
            return Err(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type releaseutil.SimpleHead",
                crate::chart::json_kind(&other)
            ));
        }
    };
    for field in ["kind", "apiVersion"] {
        match map.get(field) {
            None | Some(J::Null) | Some(J::String(_)) => {}
            Some(other) => {
                return Err(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field SimpleHead.{field} of type string",
                    crate::chart::json_kind(other)
                ));
            }
        }
    }
    head.kind = map
        .get("kind")
        .and_then(J::as_str)
        .unwrap_or_default()
        .to_string();
    let annotations = match map.get("metadata") {
        Some(J::Object(md)) => md.get("annotations"),
        Some(J::Null) | None => None,
        Some(other) => {
            return Err(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field SimpleHead.metadata of type struct {{ Name string \"json:\\\"name\\\"\"; Annotations map[string]string \"json:\\\"annotations\\\"\" }}",
                crate::chart::json_kind(other)
            ));
        }
    };
    if let Some(J::Object(ann)) = annotations {
        for (k, v) in ann {
            match v {
                J::String(_) | J::Null => {}
                other => {
                    return Err(format!(
                        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field .metadata.annotations of type string (annotation {k:?}; quote the value)",
                        crate::chart::json_kind(other)
                    ));
                }
            }
        }
        if let Some(J::String(h)) = ann.get("helm.sh/hook") {
            head.hook = Some(h.clone());
        }
        head.weight = ann
            .get("helm.sh/hook-weight")
            .and_then(J::as_str)
            .and_then(|w| w.trim().parse().ok())
            .unwrap_or(0);
    }
    Ok(head)
}

/// One document as a value (Helm's YAML 1.1 rules); `Null` when empty.
pub fn parse_doc(doc: &str) -> Result<J, String> {
    let opts = manifold_yaml::ParseOptions {
        schema: manifold_yaml::Schema::Yaml11,
        duplicate_keys: manifold_yaml::Duplicates::LastWins,
        ..Default::default()
    };
    let docs = manifold_yaml::parse_documents(doc, &opts).map_err(|e| {
        format!(
            "error converting YAML to JSON: yaml: line {}: {}",
            e.line,
            go_yaml_message(&e.message)
        )
    })?;
    Ok(docs.into_iter().next().map_or(J::Null, |d| d.value))
}

/// The YAML parser's wording turned into go-yaml's (libyaml's), which
/// Helm users know and Helm's own tests check: the problem without the
/// "while parsing ..." context.
pub fn go_yaml_message(msg: &str) -> String {
    let problem = msg
        .strip_prefix("while ")
        .and_then(|rest| rest.split_once(", ").map(|(_, p)| p))
        .unwrap_or(msg);
    let mapped = match problem {
        "simple key expect ':'" => "could not find expected ':'",
        "unexpected eof" => "found unexpected end of stream",
        "expected ',' or ']'" => "did not find expected ',' or ']'",
        "tab cannot be used as indentation"
        | "tabs disallowed in this context"
        | "tabs disallowed within this context (block indentation)" => {
            "found character that cannot start any token"
        }
        p if p.starts_with("unexpected character") => "found character that cannot start any token",
        p => p,
    };
    mapped.to_string()
}

/// Every document of a stream as values (for CRD files).
pub fn parse_stream(text: &str) -> Result<Vec<J>, String> {
    let opts = manifold_yaml::ParseOptions {
        schema: manifold_yaml::Schema::Yaml11,
        duplicate_keys: manifold_yaml::Duplicates::LastWins,
        ..Default::default()
    };
    manifold_yaml::parse_documents(text, &opts)
        .map(|docs| {
            docs.into_iter()
                .map(|d| d.value)
                .filter(|v| !v.is_null())
                .collect()
        })
        .map_err(|e| format!("yaml: line {}: {}", e.line, go_yaml_message(&e.message)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn split_table() {
        let rows: &[(&str, &[&str])] = &[
            ("a: 1\n---\nb: 2\n", &["a: 1\n", "b: 2\n"]),
            ("---\na: 1\n", &["a: 1\n"]),
            ("\n\n---\n\n---\na: 1", &["a: 1"]),
            ("a: 1\n---apiVersion: v1\n", &["a: 1\n", "apiVersion: v1\n"]),
            ("# only a comment\n", &["# only a comment\n"]),
            ("a: |\n  x\n  ---\n", &["a: |\n  x\n  ---\n"]),
        ];
        for (text, want) in rows {
            let got = split(text);
            assert_eq!(
                got,
                want.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn yaml_messages_read_like_go_yaml() {
        let rows = [
            ("simple key expect ':'", "could not find expected ':'"),
            (
                "while parsing a block mapping, did not find expected key",
                "did not find expected key",
            ),
            (
                "mapping values are not allowed in this context",
                "mapping values are not allowed in this context",
            ),
            (
                "unexpected character: `@'",
                "found character that cannot start any token",
            ),
        ];
        for (ours, go) in rows {
            assert_eq!(go_yaml_message(ours), go);
        }
    }

    #[test]
    fn kind_order() {
        let mut kinds = vec!["Zed", "Deployment", "Alpha", "Namespace", "Service"];
        kinds.sort_by(|a, b| cmp_kind(a, b));
        assert_eq!(
            kinds,
            ["Namespace", "Service", "Deployment", "Alpha", "Zed"]
        );
    }
}
