//! Table-driven tests of the checks, run natively.

#![allow(clippy::unwrap_used)]

use serde_json::json;

use crate::{Config, check};

/// (name, config, object, expected `rule path` lines)
fn cases() -> Vec<(
    &'static str,
    serde_json::Value,
    serde_json::Value,
    Vec<&'static str>,
)> {
    let deployment = |labels: serde_json::Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "labels": labels},
               "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {}}}})
    };
    vec![
        (
            "present",
            json!({"require": [{"key": "team"}]}),
            deployment(json!({"team": "a"})),
            vec![],
        ),
        (
            "missing",
            json!({"require": [{"key": "team"}]}),
            deployment(json!({"app": "web"})),
            vec!["labels/required /metadata/labels"],
        ),
        (
            "no labels at all",
            json!({"require": [{"key": "team"}]}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
            vec!["labels/required /metadata"],
        ),
        (
            "pattern mismatch",
            json!({"require": [{"key": "team", "pattern": "[a-z]+"}]}),
            deployment(json!({"team": "Team-A"})),
            vec!["labels/value /metadata/labels/team"],
        ),
        (
            "pattern is anchored",
            json!({"require": [{"key": "env", "pattern": "prod|dev"}]}),
            deployment(json!({"env": "production"})),
            vec!["labels/value /metadata/labels/env"],
        ),
        (
            "kind filter skips others",
            json!({"require": [{"key": "team", "kinds": ["StatefulSet"]}]}),
            deployment(json!({})),
            vec![],
        ),
        (
            "kind filter with group version",
            json!({"require": [{"key": "team", "kinds": ["apps/v1/Deployment"]}]}),
            deployment(json!({})),
            vec!["labels/required /metadata/labels"],
        ),
        (
            "pod templates",
            json!({"require": [{"key": "team"}], "podTemplates": true}),
            deployment(json!({"team": "a"})),
            vec!["labels/required /spec/template/metadata/labels"],
        ),
        (
            "severity warning",
            json!({"require": [{"key": "team", "severity": "warning"}]}),
            deployment(json!({})),
            vec!["labels/required /metadata/labels"],
        ),
        (
            "annotation required",
            json!({"requireAnnotations": [{"key": "owner"}]}),
            deployment(json!({})),
            vec!["labels/annotation-required /metadata"],
        ),
        (
            "malformed key and value",
            json!({}),
            deployment(json!({"Bad Key": "ok", "good": "-bad", "app.kubernetes.io/name": "x"})),
            vec![
                "labels/invalid-key /metadata/labels/Bad Key",
                "labels/invalid-value /metadata/labels/good",
            ],
        ),
        (
            "non-string value",
            json!({}),
            deployment(json!({"replicas": 3})),
            vec!["labels/invalid-value /metadata/labels/replicas"],
        ),
        (
            "selector checked",
            json!({}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"selector": {"app": "a b"}}}),
            vec!["labels/invalid-value /spec/selector/app"],
        ),
        (
            "key with slash is escaped in the pointer",
            json!({"require": [{"key": "app.kubernetes.io/name", "pattern": "x"}]}),
            deployment(json!({"app.kubernetes.io/name": "y"})),
            vec!["labels/value /metadata/labels/app.kubernetes.io~1name"],
        ),
        (
            "well-formedness off",
            json!({"wellFormed": false}),
            deployment(json!({"Bad Key": 1})),
            vec![],
        ),
    ]
}

#[test]
fn table() {
    for (name, config, object, want) in cases() {
        let config = Config::parse(&config.to_string()).unwrap();
        let got: Vec<String> = check(&config, 0, &object)
            .iter()
            .map(|d| format!("{} {}", d.rule, d.path.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(got, want, "case {name:?}");
    }
}

#[test]
fn bad_configuration_names_the_key() {
    for (config, want) in [
        (
            json!({"require": [{"key": "a", "pattern": "("}]}),
            "require[0]: pattern \"(\"",
        ),
        (
            json!({"require": [{"key": "a", "severity": "fatal"}]}),
            "require[0]: severity \"fatal\"",
        ),
        (json!({"requires": []}), "unknown field `requires`"),
    ] {
        let err = Config::parse(&config.to_string()).unwrap_err();
        assert!(err.contains(want), "{err:?} lacks {want:?}");
    }
}
