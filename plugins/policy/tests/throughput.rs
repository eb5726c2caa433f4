//! Throughput measurement (ignored by default): how many manifests per
//! second a prepared policy set evaluates. Run with
//! `cargo test -p manifold-plugin-policy --release --test throughput -- --ignored --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use manifold_plugin_policy::{LoadOptions, PolicySet, Source};
use serde_json::json;

const TEMPLATE: &str = r#"apiVersion: templates.gatekeeper.sh/v1
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
        violation[{"msg": msg}] {
          provided := {label | input.review.object.metadata.labels[label]}
          required := {label | label := input.parameters.labels[_]}
          missing := required - provided
          count(missing) > 0
          msg := sprintf("you must provide labels: %v", [missing])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: need-owner
spec:
  match:
    kinds:
      - apiGroups: ["apps"]
        kinds: ["Deployment"]
  parameters:
    labels: ["owner", "team"]
"#;

const CONFTEST: &str = r#"package main
import rego.v1
deny contains msg if {
  some c in input.spec.template.spec.containers
  endswith(c.image, ":latest")
  msg := sprintf("container %s uses latest", [c.name])
}
warn contains "no resources" if {
  some c in input.spec.template.spec.containers
  not c.resources
}
"#;

#[test]
#[ignore = "measurement, not a check"]
fn documents_per_second() {
    let sources = [
        Source::new("policy.yaml", TEMPLATE),
        Source::new("policy.rego", CONFTEST),
    ];
    let mut set = PolicySet::load(&sources, &LoadOptions::default()).unwrap();
    let docs: Vec<_> = (0..2000)
        .map(|i| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("d{i}"), "namespace": "default", "labels": {"owner": "x"}},
            "spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": if i % 2 == 0 { "nginx:latest" } else { "nginx:1.27" }},
                {"name": "sidecar", "image": "envoy:1.30", "resources": {}}
            ]}}}})
        })
        .collect();
    set.set_inventory(&docs).unwrap();
    let start = Instant::now();
    let mut findings = 0;
    for doc in &docs {
        findings += set.evaluate(doc).unwrap().len();
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "throughput: {} documents in {elapsed:.3}s = {:.0} documents/second ({findings} findings)",
        docs.len(),
        docs.len() as f64 / elapsed
    );
    // Every document misses `team`, half use :latest, all lack resources on one container.
    assert_eq!(findings, 2000 + 1000 + 2000);
}
