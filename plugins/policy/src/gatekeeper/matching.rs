//! A constraint's `spec.match`: which objects it applies to (kinds, scope,
//! namespaces, excludedNamespaces, labelSelector, namespaceSelector, name),
//! with Gatekeeper's semantics, including its `prefix*`/`*suffix`/`*infix*`
//! wildcards and the rule that namespace filters never disqualify a
//! cluster-scoped object (a `Namespace` is matched by its own name).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// `spec.match` of a constraint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Match {
    #[serde(default)]
    pub kinds: Vec<KindSelector>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub excluded_namespaces: Vec<String>,
    #[serde(default)]
    pub label_selector: Option<LabelSelector>,
    #[serde(default)]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KindSelector {
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<String>,
}

/// A Kubernetes `metav1.LabelSelector`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// Checks what the API server would reject, so a bad selector fails at
    /// load time with its constraint named rather than matching nothing.
    pub fn validate(&self) -> Result<(), String> {
        for r in &self.match_expressions {
            match r.operator {
                Operator::In | Operator::NotIn if r.values.is_empty() => {
                    return Err(format!(
                        "matchExpressions key {:?}: operator {:?} needs at least one value",
                        r.key, r.operator
                    ));
                }
                Operator::Exists | Operator::DoesNotExist if !r.values.is_empty() => {
                    return Err(format!(
                        "matchExpressions key {:?}: operator {:?} takes no values",
                        r.key, r.operator
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let labels_ok = self
            .match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v));
        labels_ok
            && self.match_expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator {
                    Operator::In => value.is_some_and(|v| r.values.contains(v)),
                    Operator::NotIn => value.is_none_or(|v| !r.values.contains(v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }
}

/// Gatekeeper's wildcard: `*` at either or both ends.
pub fn wildcard_matches(pattern: &str, candidate: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(rest), Some(_)) if !rest.is_empty() => {
            candidate.contains(rest.strip_suffix('*').unwrap_or(rest))
        }
        // A lone "*" is both prefix and suffix wildcard with nothing between.
        (Some(_), Some(_)) => true,
        (Some(suffix), None) => candidate.ends_with(suffix),
        (None, Some(prefix)) => candidate.starts_with(prefix),
        (None, None) => pattern == candidate,
    }
}

/// `generateName` only matches prefix or infix patterns (the random suffix
/// is unknown).
fn wildcard_matches_generate_name(pattern: &str, candidate: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(rest), Some(_)) => candidate.contains(rest.strip_suffix('*').unwrap_or(rest)),
        (None, Some(prefix)) => candidate.starts_with(prefix),
        _ => false,
    }
}

/// What matching needs to know about an object.
#[derive(Debug)]
pub struct Target<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub generate_name: &'a str,
    /// `metadata.namespace`, empty for cluster-scoped objects.
    pub namespace: &'a str,
    pub labels: BTreeMap<String, String>,
    /// Labels of the object's Namespace when it is known (inventory).
    pub namespace_labels: Option<BTreeMap<String, String>>,
}

impl Target<'_> {
    fn is_namespace(&self) -> bool {
        self.kind == "Namespace" && self.group.is_empty()
    }

    /// The namespace the namespace filters compare against, if any.
    fn filter_namespace(&self) -> Option<&str> {
        if self.is_namespace() {
            Some(self.name)
        } else if !self.namespace.is_empty() {
            Some(self.namespace)
        } else {
            None
        }
    }
}

pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Match {
    pub fn validate(&self) -> Result<(), String> {
        if let Some(s) = &self.label_selector {
            s.validate()
                .map_err(|e| format!("spec.match.labelSelector: {e}"))?;
        }
        if let Some(s) = &self.namespace_selector {
            s.validate()
                .map_err(|e| format!("spec.match.namespaceSelector: {e}"))?;
        }
        match self.scope.as_deref() {
            None | Some("*") | Some("Cluster") | Some("Namespaced") => Ok(()),
            Some(other) => Err(format!(
                "spec.match.scope {other:?} is not one of \"*\", \"Cluster\", \"Namespaced\""
            )),
        }
    }

    pub fn matches(&self, t: &Target<'_>) -> bool {
        self.kinds_match(t)
            && self.scope_match(t)
            && self.namespaces_match(t)
            && self.excluded_namespaces_match(t)
            && self
                .label_selector
                .as_ref()
                .is_none_or(|s| s.matches(&t.labels))
            && self.namespace_selector_match(t)
            && self.name_match(t)
    }

    fn kinds_match(&self, t: &Target<'_>) -> bool {
        let has = |set: &[String], item: &str| {
            set.is_empty() || set.iter().any(|s| s == "*" || s == item)
        };
        self.kinds.is_empty()
            || self
                .kinds
                .iter()
                .any(|k| has(&k.kinds, t.kind) && has(&k.api_groups, t.group))
    }

    fn scope_match(&self, t: &Target<'_>) -> bool {
        let has_namespace = !t.namespace.is_empty();
        match self.scope.as_deref() {
            Some("Cluster") => t.is_namespace() || !has_namespace,
            Some("Namespaced") => !t.is_namespace() && has_namespace,
            _ => true,
        }
    }

    fn namespaces_match(&self, t: &Target<'_>) -> bool {
        if self.namespaces.is_empty() {
            return true;
        }
        match t.filter_namespace() {
            Some(ns) => self.namespaces.iter().any(|p| wildcard_matches(p, ns)),
            None => true,
        }
    }

    fn excluded_namespaces_match(&self, t: &Target<'_>) -> bool {
        match t.filter_namespace() {
            Some(ns) => !self
                .excluded_namespaces
                .iter()
                .any(|p| wildcard_matches(p, ns)),
            None => true,
        }
    }

    fn namespace_selector_match(&self, t: &Target<'_>) -> bool {
        let Some(selector) = &self.namespace_selector else {
            return true;
        };
        if t.is_namespace() {
            return selector.matches(&t.labels);
        }
        if t.namespace.is_empty() {
            return true;
        }
        // Gatekeeper errors when the Namespace is unknown; without the
        // cluster we cannot prove a match, so the constraint does not apply.
        t.namespace_labels
            .as_ref()
            .is_some_and(|labels| selector.matches(labels))
    }

    fn name_match(&self, t: &Target<'_>) -> bool {
        match self.name.as_deref() {
            None | Some("") => true,
            Some(p) => {
                wildcard_matches(p, t.name) || wildcard_matches_generate_name(p, t.generate_name)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_follow_gatekeeper() {
        let cases = [
            ("kube-system", "kube-system", true),
            ("kube-system", "kube-systems", false),
            ("kube-*", "kube-public", true),
            ("kube-*", "my-kube-public", false),
            ("*-system", "gatekeeper-system", true),
            ("*-system", "system-x", false),
            ("*prod*", "team-prod-eu", true),
            ("*prod*", "staging", false),
            ("*", "anything", true),
            ("", "", true),
        ];
        for (pattern, candidate, expected) in cases {
            assert_eq!(
                wildcard_matches(pattern, candidate),
                expected,
                "{pattern} vs {candidate}"
            );
        }
    }

    fn target<'a>(
        group: &'a str,
        kind: &'a str,
        name: &'a str,
        ns: &'a str,
        labels: Value,
    ) -> Target<'a> {
        Target {
            group,
            kind,
            name,
            generate_name: "",
            namespace: ns,
            labels: labels_of(&json!({"metadata": {"labels": labels}})),
            namespace_labels: Some(BTreeMap::from([("env".to_string(), "prod".to_string())])),
        }
    }

    #[test]
    fn match_cases() {
        // (match, (group, kind, name, namespace, labels), expected)
        let cases = [
            (json!({}), ("", "Pod", "p", "default", json!({})), true),
            (
                json!({"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}),
                ("", "Pod", "p", "a", json!({})),
                true,
            ),
            (
                json!({"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}),
                ("apps", "Deployment", "d", "a", json!({})),
                false,
            ),
            (
                json!({"kinds": [{"apiGroups": ["*"], "kinds": ["Deployment"]}]}),
                ("apps", "Deployment", "d", "a", json!({})),
                true,
            ),
            (
                json!({"kinds": [{"kinds": ["Deployment"]}]}),
                ("apps", "Deployment", "d", "a", json!({})),
                true,
            ),
            (
                json!({"kinds": [{"apiGroups": ["apps"], "kinds": []}]}),
                ("apps", "StatefulSet", "d", "a", json!({})),
                true,
            ),
            (
                json!({"namespaces": ["prod-*"]}),
                ("", "Pod", "p", "prod-eu", json!({})),
                true,
            ),
            (
                json!({"namespaces": ["prod-*"]}),
                ("", "Pod", "p", "dev", json!({})),
                false,
            ),
            (
                json!({"namespaces": ["prod"]}),
                ("", "ClusterRole", "r", "", json!({})),
                true,
            ),
            (
                json!({"namespaces": ["prod"]}),
                ("", "Namespace", "prod", "", json!({})),
                true,
            ),
            (
                json!({"namespaces": ["prod"]}),
                ("", "Namespace", "dev", "", json!({})),
                false,
            ),
            (
                json!({"excludedNamespaces": ["kube-*"]}),
                ("", "Pod", "p", "kube-system", json!({})),
                false,
            ),
            (
                json!({"excludedNamespaces": ["kube-*"]}),
                ("", "Pod", "p", "default", json!({})),
                true,
            ),
            (
                json!({"excludedNamespaces": ["kube-system"]}),
                ("", "Namespace", "kube-system", "", json!({})),
                false,
            ),
            (
                json!({"scope": "Cluster"}),
                ("", "Pod", "p", "default", json!({})),
                false,
            ),
            (
                json!({"scope": "Cluster"}),
                ("", "Namespace", "n", "", json!({})),
                true,
            ),
            (
                json!({"scope": "Namespaced"}),
                ("", "Pod", "p", "default", json!({})),
                true,
            ),
            (
                json!({"scope": "Namespaced"}),
                (
                    "rbac.authorization.k8s.io",
                    "ClusterRole",
                    "r",
                    "",
                    json!({}),
                ),
                false,
            ),
            (
                json!({"labelSelector": {"matchLabels": {"app": "web"}}}),
                ("", "Pod", "p", "d", json!({"app": "web"})),
                true,
            ),
            (
                json!({"labelSelector": {"matchLabels": {"app": "web"}}}),
                ("", "Pod", "p", "d", json!({"app": "db"})),
                false,
            ),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}}),
                ("", "Pod", "p", "d", json!({"tier": "b"})),
                true,
            ),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}}),
                ("", "Pod", "p", "d", json!({})),
                true,
            ),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}}),
                ("", "Pod", "p", "d", json!({})),
                false,
            ),
            (
                json!({"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}}),
                ("", "Pod", "p", "d", json!({})),
                true,
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}}),
                ("", "Pod", "p", "d", json!({})),
                true,
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "dev"}}}),
                ("", "Pod", "p", "d", json!({})),
                false,
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "dev"}}}),
                ("", "Namespace", "n", "", json!({"env": "dev"})),
                true,
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "dev"}}}),
                ("", "ClusterRole", "r", "", json!({})),
                true,
            ),
            (
                json!({"name": "web-*"}),
                ("", "Pod", "web-1", "d", json!({})),
                true,
            ),
            (
                json!({"name": "web-*"}),
                ("", "Pod", "db-1", "d", json!({})),
                false,
            ),
        ];
        for (m, (group, kind, name, ns, labels), expected) in cases {
            let parsed: Match = serde_json::from_value(m.clone()).unwrap();
            assert!(parsed.validate().is_ok(), "{m}");
            let t = target(group, kind, name, ns, labels);
            assert_eq!(parsed.matches(&t), expected, "{m} vs {kind} {ns}/{name}");
        }
    }

    #[test]
    fn invalid_selectors_are_rejected() {
        let cases = [
            json!({"labelSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}),
            json!({"namespaceSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}}),
            json!({"scope": "Global"}),
        ];
        for m in cases {
            let parsed: Match = serde_json::from_value(m.clone()).unwrap();
            assert!(parsed.validate().is_err(), "{m}");
        }
        assert!(
            serde_json::from_value::<Match>(
                json!({"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Like"}]}})
            )
            .is_err()
        );
    }
}
