//! Behaviour of `PolicySet` through its public API: conftest rules,
//! Gatekeeper templates and constraints, error locations, `print` capture
//! and the execution limit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use manifold_plugin_policy::{Error, LoadOptions, Namespaces, PolicySet, Severity, Source};
use serde_json::{Value, json};

fn load(sources: &[(&str, &str)], opts: &LoadOptions) -> Result<PolicySet, Error> {
    let sources: Vec<Source> = sources.iter().map(|(n, t)| Source::new(*n, *t)).collect();
    PolicySet::load(&sources, opts)
}

/// (severity, rule, message) triples, sorted for stable comparison.
fn summary(set: &mut PolicySet, doc: &Value) -> Vec<(Severity, String, String)> {
    let mut out: Vec<_> = set
        .evaluate(doc)
        .unwrap()
        .into_iter()
        .map(|f| (f.severity, f.rule, f.message))
        .collect();
    out.sort();
    out
}

fn pod(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx:latest"}]}})
}

#[test]
fn conftest_rules() {
    let v0 = r#"package main
deny[msg] {
  not input.metadata.labels.app
  msg := sprintf("%s has no app label", [input.metadata.name])
}
warn[msg] {
  endswith(input.spec.containers[_].image, ":latest")
  msg := "latest tag"
}
violation_owner[{"msg": "no owner", "owner": "team"}] {
  not input.metadata.labels.owner
}
helper := 1
"#;
    let v1 = r#"package main
import rego.v1
deny_kind contains msg if {
  input.kind == "Pod"
  msg := "bare pod"
}
"#;
    let other = "package other\ndeny contains \"other namespace\" if { true }\n";
    let mut set = load(
        &[("a.rego", v0), ("b.rego", v1), ("c.rego", other)],
        &LoadOptions::default(),
    )
    .unwrap();
    let e = Severity::Error;
    let w = Severity::Warning;
    let cases = [
        (
            pod("p", json!({})),
            vec![
                (e, "policy/main.deny", "p has no app label"),
                (e, "policy/main.deny_kind", "bare pod"),
                (e, "policy/main.violation_owner", "no owner"),
                (w, "policy/main.warn", "latest tag"),
            ],
        ),
        (
            pod("q", json!({"app": "x", "owner": "y"})),
            vec![
                (e, "policy/main.deny_kind", "bare pod"),
                (w, "policy/main.warn", "latest tag"),
            ],
        ),
        (
            json!({"kind": "ConfigMap", "metadata": {"name": "m", "labels": {"app": "a", "owner": "o"}}}),
            vec![],
        ),
    ];
    for (doc, expected) in cases {
        let expected: Vec<(Severity, String, String)> = expected
            .into_iter()
            .map(|(s, r, m)| (s, r.to_string(), m.to_string()))
            .collect();
        assert_eq!(summary(&mut set, &doc), expected, "{doc}");
    }
    let details = set
        .evaluate(&pod("p", json!({"app": "a"})))
        .unwrap()
        .into_iter()
        .find(|f| f.rule == "policy/main.violation_owner")
        .map(|f| f.details);
    assert_eq!(details, Some(json!({"owner": "team"})));
}

#[test]
fn conftest_namespaces_data_and_exceptions() {
    let policy = r#"package k8s
import rego.v1
deny_registry contains msg if {
  some c in input.spec.containers
  not startswith(c.image, data.registry.allowed)
  msg := sprintf("image %s not from %s", [c.image, data.registry.allowed])
}
deny_latest contains "latest" if { endswith(input.spec.containers[_].image, ":latest") }
exception contains rules if {
  input.metadata.labels.legacy == "true"
  rules := ["latest"]
}
"#;
    let opts = LoadOptions {
        namespaces: Namespaces::Only(vec!["k8s".into()]),
        data: vec![Source::new(
            "registry.yaml",
            "registry:\n  allowed: corp.io/\n",
        )],
        ..LoadOptions::default()
    };
    let mut set = load(&[("k8s.rego", policy)], &opts).unwrap();
    let cases = [
        (
            pod("a", json!({})),
            vec!["policy/k8s.deny_latest", "policy/k8s.deny_registry"],
        ),
        (
            pod("b", json!({"legacy": "true"})),
            vec!["policy/k8s.deny_registry"],
        ),
    ];
    for (doc, expected) in cases {
        let rules: Vec<String> = summary(&mut set, &doc).into_iter().map(|f| f.1).collect();
        assert_eq!(rules, expected, "{doc}");
    }
    // The default namespace `main` has no rules in this file.
    let mut default_ns = load(&[("k8s.rego", policy)], &LoadOptions::default()).unwrap();
    assert!(default_ns.conftest_rules().is_empty());
    assert!(
        default_ns
            .evaluate(&pod("a", json!({})))
            .unwrap()
            .is_empty()
    );
    let mut all = load(
        &[("k8s.rego", policy)],
        &LoadOptions {
            namespaces: Namespaces::All,
            ..opts.clone()
        },
    )
    .unwrap();
    assert_eq!(all.evaluate(&pod("a", json!({}))).unwrap().len(), 2);
}

#[test]
fn v0_multi_body_rules_mean_separate_definitions() {
    let policy = r#"package main
name(x) = y { x == 1; y := "one" } { x == 2; y := "two" }
deny[msg] { msg := name(input.n) } { input.n > 5; msg := "big" }
"#;
    let mut set = load(&[("multi.rego", policy)], &LoadOptions::default()).unwrap();
    let cases = [
        (json!({"n": 1}), vec!["one"]),
        (json!({"n": 2}), vec!["two"]),
        (json!({"n": 7}), vec!["big"]),
        (json!({"n": 3}), vec![]),
    ];
    for (doc, expected) in cases {
        let mut messages: Vec<String> = set
            .evaluate(&doc)
            .unwrap()
            .into_iter()
            .map(|f| f.message)
            .collect();
        messages.sort();
        assert_eq!(messages, expected, "{doc}");
    }
}

#[test]
fn conftest_combined_input() {
    let policy = r#"package main
import rego.v1
violation contains msg if {
  some entry in input
  entry.contents.kind == "Deployment"
  app := entry.contents.spec.selector.matchLabels.app
  not service_selects(app)
  msg := sprintf("Deployment '%v' in %v has no matching service", [entry.contents.metadata.name, entry.path])
}
service_selects(app) if {
  some entry in input
  entry.contents.kind == "Service"
  entry.contents.spec.selector.app == app
}
"#;
    let mut set = load(&[("combine.rego", policy)], &LoadOptions::default()).unwrap();
    let deployment = |name: &str, app: &str| json!({"kind": "Deployment", "metadata": {"name": name}, "spec": {"selector": {"matchLabels": {"app": app}}}});
    let service =
        json!({"kind": "Service", "metadata": {"name": "s"}, "spec": {"selector": {"app": "web"}}});
    let manifests = vec![
        ("a.yaml".to_string(), deployment("web", "web")),
        ("b.yaml".to_string(), deployment("db", "db")),
        ("c.yaml".to_string(), service),
    ];
    let messages: Vec<String> = set
        .evaluate_combined(&manifests)
        .unwrap()
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert_eq!(
        messages,
        vec!["Deployment 'db' in b.yaml has no matching service"]
    );
}

#[test]
fn load_errors_name_file_and_line() {
    let template_with_error = "\
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: broken
spec:
  crd:
    spec:
      names:
        kind: Broken
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package broken

        violation[{\"msg\": msg}] {
          msg := \"unterminated
        }
";
    // regorus' parse time doubles with each level of `[`/`{`; too deep a
    // nesting is refused before it parses.
    let template_too_nested =
        template_with_error.replace("msg := \"unterminated", "msg := [[[[[[[[[\"x\"]]]]]]]]]");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![(
                "policy/bad.rego",
                "package main\n\ndeny[msg] {\n  msg := \"open\n}\n",
            )],
            "policy/bad.rego:4:",
        ),
        (vec![("t.yaml", template_with_error)], "t.yaml:16: "),
        (
            vec![("t.yaml", &template_too_nested)],
            "t.yaml:16: Rego error in ConstraintTemplate broken spec.targets[0].rego line 4: \
             `[` and `{` are nested more than 8 deep here",
        ),
        (
            vec![(
                "policy/deep.rego",
                "package main\n\ndeny[msg] {\n  msg := {\"a\": {\"b\": [[[[[[1]]]]]]}}\n}\n",
            )],
            "policy/deep.rego:4:27: Rego error: `[` and `{` are nested more than 8 deep here",
        ),
        (
            vec![(
                "c.yaml",
                "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Unknown\nmetadata:\n  name: x\n",
            )],
            "c.yaml:1: constraint Unknown/x: no loaded ConstraintTemplate",
        ),
        (vec![("y.yaml", "a: [1,\n")], "y.yaml:"),
        // Unsafe variables are found by analysis after parsing; the file
        // blamed is the one holding the rule.
        (
            vec![
                ("ok.rego", "package main\nimport rego.v1\nallow if true\n"),
                (
                    "unsafe.rego",
                    "package main\nimport rego.v1\n\ndeny contains msg if {\n  x == 1\n}\n",
                ),
            ],
            "unsafe.rego:",
        ),
        (
            vec![("a.rego", "package main\n"), ("a.rego", "package main\n")],
            "a.rego: two policy sources",
        ),
    ];
    for (sources, expected) in cases {
        let err = load(&sources, &LoadOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with(expected), "{sources:?}: {err}");
    }
}

const REQUIRED_LABELS: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8srequiredlabels
        import data.lib.helpers.missing

        violation[{"msg": msg, "details": {"missing_labels": m}}] {
          provided := {label | input.review.object.metadata.labels[label]}
          required := {label | label := input.parameters.labels[_]}
          m := missing(required, provided)
          count(m) > 0
          print("checked", input.review.name)
          msg := sprintf("you must provide labels: %v", [m])
        }
      libs:
        - |
          package lib.helpers
          missing(required, provided) = required - provided
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: need-owner
spec:
  enforcementAction: warn
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Pod"]
    excludedNamespaces: ["kube-*"]
  parameters:
    labels: ["owner"]
"#;

#[test]
fn gatekeeper_constraints() {
    let mut set = load(&[("policy.yaml", REQUIRED_LABELS)], &LoadOptions::default()).unwrap();
    assert_eq!(set.template_names(), vec!["k8srequiredlabels"]);
    assert_eq!(
        set.constraint_names(),
        vec![("K8sRequiredLabels", "need-owner")]
    );
    let mut kube_pod = pod("k", json!({}));
    kube_pod["metadata"]["namespace"] = json!("kube-system");
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"operation": "CREATE", "name": "r", "object": pod("r", json!({}))}});
    // (document, expected violation count)
    let cases = [
        (pod("a", json!({})), 1),
        (pod("b", json!({"owner": "me"})), 0),
        (kube_pod, 0),
        (
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
            0,
        ),
        (review, 1),
    ];
    for (doc, expected) in cases {
        let findings = set.evaluate(&doc).unwrap();
        assert_eq!(findings.len(), expected, "{doc}");
        for f in findings {
            assert_eq!(f.severity, Severity::Warning);
            assert_eq!(f.rule, "policy/k8srequiredlabels");
            assert_eq!(f.constraint.as_deref(), Some("need-owner"));
            assert_eq!(f.message, "you must provide labels: {\"owner\"}");
            assert_eq!(f.details, json!({"missing_labels": ["owner"]}));
        }
    }
    assert_eq!(set.take_prints().len(), 2);
    assert!(set.take_prints().is_empty());
}

#[test]
fn gatekeeper_inventory_and_namespace_selector() {
    let template = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: uniquehost
spec:
  crd:
    spec:
      names:
        kind: UniqueHost
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
        - engine: K8sNativeValidation
          source:
            validations: []
        - engine: Rego
          source:
            rego: |
              package uniquehost
              violation[{"msg": msg}] {
                host := input.review.object.spec.host
                other := data.inventory.namespace[ns][_]["Route"][name]
                other.spec.host == host
                name != input.review.object.metadata.name
                msg := sprintf("host %v used by %v/%v", [host, ns, name])
              }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: UniqueHost
metadata:
  name: unique
spec:
  match:
    namespaceSelector:
      matchLabels:
        team: web
"#;
    let mut set = load(&[("t.yaml", template)], &LoadOptions::default()).unwrap();
    let route = |name: &str, ns: &str, host: &str| json!({"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": name, "namespace": ns}, "spec": {"host": host}});
    let namespace = |name: &str, team: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"team": team}}});
    let inventory = [
        namespace("web", "web"),
        namespace("ops", "ops"),
        route("a", "web", "a.example.com"),
        route("b", "ops", "b.example.com"),
    ];
    set.set_inventory(&inventory).unwrap();
    let cases = [
        (
            route("a2", "web", "a.example.com"),
            vec!["host a.example.com used by web/a"],
        ),
        (
            route("b2", "web", "b.example.com"),
            vec!["host b.example.com used by ops/b"],
        ),
        (route("a", "web", "a.example.com"), vec![]),
        // Namespace not selected by the constraint.
        (route("a3", "ops", "a.example.com"), vec![]),
        // Namespace unknown: the selector cannot match.
        (route("a4", "nowhere", "a.example.com"), vec![]),
    ];
    for (doc, expected) in cases {
        let messages: Vec<String> = set
            .evaluate(&doc)
            .unwrap()
            .into_iter()
            .map(|f| f.message)
            .collect();
        assert_eq!(messages, expected, "{doc}");
    }
    set.set_inventory(&[]).unwrap();
    assert!(
        set.evaluate(&route("a2", "web", "a.example.com"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn rego_v1_templates() {
    let text = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: noprivileged
spec:
  crd:
    spec:
      names:
        kind: NoPrivileged
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
        - engine: Rego
          source:
            version: "v1"
            rego: |
              package noprivileged
              violation contains {"msg": msg} if {
                some c in input.review.object.spec.containers
                c.securityContext.privileged
                msg := sprintf("%v is privileged", [c.name])
              }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: NoPrivileged
metadata:
  name: none
"#;
    let mut set = load(&[("v1.yaml", text)], &LoadOptions::default()).unwrap();
    let mut privileged = pod("p", json!({}));
    privileged["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    let cases = [
        (privileged, vec!["c is privileged"]),
        (pod("q", json!({})), vec![]),
    ];
    for (doc, expected) in cases {
        let messages: Vec<String> = set
            .evaluate(&doc)
            .unwrap()
            .into_iter()
            .map(|f| f.message)
            .collect();
        assert_eq!(messages, expected, "{doc}");
    }
    // The same Rego without `version: "v1"` is v0, where it does not parse.
    let v0 = text.replace("            version: \"v1\"\n", "");
    assert!(load(&[("v0.yaml", &v0)], &LoadOptions::default()).is_err());
}

#[test]
fn cel_only_templates_are_noticed_and_skipped() {
    let text = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: celonly
spec:
  crd:
    spec:
      names:
        kind: CelOnly
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
        - engine: K8sNativeValidation
          source:
            validations: []
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: CelOnly
metadata:
  name: c
"#;
    let mut set = load(&[("cel.yaml", text)], &LoadOptions::default()).unwrap();
    assert_eq!(set.notices().len(), 1);
    assert!(set.notices()[0].message.contains("celonly"));
    assert!(set.evaluate(&pod("p", json!({}))).unwrap().is_empty());
}

#[test]
fn runtime_errors_and_limits() {
    let conflict = "package main\nimport rego.v1\nx := 1 if input.a\nx := 2 if input.a\ndeny contains \"c\" if x == 1\n";
    let mut set = load(&[("conflict.rego", conflict)], &LoadOptions::default()).unwrap();
    let err = set.evaluate(&json!({"a": true})).unwrap_err().to_string();
    assert!(
        err.contains("data.main.deny") && err.contains("conflict.rego"),
        "{err}"
    );

    // evaluate_all keeps the findings of rules that work.
    let mixed = "package main\nimport rego.v1\nx := 1 if input.a\nx := 2 if input.a\n\
                 deny_conflict contains \"c\" if x == 1\ndeny_fine contains \"fine\" if true\n";
    let mut set = load(&[("mixed.rego", mixed)], &LoadOptions::default()).unwrap();
    let evaluation = set.evaluate_all(&json!({"a": true}));
    let messages: Vec<&str> = evaluation
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(messages, vec!["fine"]);
    assert_eq!(evaluation.errors.len(), 1);
    assert!(
        evaluation.errors[0]
            .to_string()
            .contains("data.main.deny_conflict")
    );

    let bad_result =
        "package main\nimport rego.v1\ndeny contains {\"message\": \"no msg key\"} if true\n";
    let mut set = load(&[("bad.rego", bad_result)], &LoadOptions::default()).unwrap();
    let err = set.evaluate(&json!({})).unwrap_err().to_string();
    assert!(err.contains("msg"), "{err}");

    // 27 million iterations that allocate nothing: slow without the limit
    // (so a broken limit fails the test) but never unbounded.
    let runaway = "package main\nimport rego.v1\ndeny contains \"slow\" if {\n  some i, j, k\n  numbers.range(1, 300)[i]\n  numbers.range(1, 300)[j]\n  numbers.range(1, 300)[k]\n  i + j + k < 0\n}\n";
    let opts = LoadOptions {
        execution_limit: Some(std::time::Duration::from_millis(50)),
        ..LoadOptions::default()
    };
    let mut set = load(&[("slow.rego", runaway)], &opts).unwrap();
    let started = std::time::Instant::now();
    let err = set.evaluate(&json!({})).unwrap_err().to_string();
    assert!(
        err.contains("time limit"),
        "the limit should stop the loop: {err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
