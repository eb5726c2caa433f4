//! Micro benchmark: how long opening an embedded bundle takes (what every
//! fresh plugin instance pays), how long the first validation of a kind
//! takes (assembling and compiling its schema), and how many Deployments per
//! second are validated once compiled.
//!
//! `cargo run --release -p manifold-plugin-schema --example schema_bench [N]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use manifold_plugin_schema::embedded::{Bundle, strictify};
use manifold_plugin_schema::{Options, Validator};
use serde_json::{Value, json};

fn deployment(i: usize) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": format!("web-{i}"), "namespace": "prod",
                     "labels": {"app": "web", "tier": "frontend"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "serviceAccountName": "web",
                    "containers": [{
                        "name": "web",
                        "image": "nginx:1.27",
                        "ports": [{"containerPort": 80, "name": "http"}],
                        "env": [{"name": "MODE", "value": "prod"},
                                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"},
                                      "requests": {"cpu": 0.1, "memory": "128Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
                        // Every tenth one has a typo, so error reporting is measured too.
                        "imagePullPolicy": "IfNotPresent"
                    }],
                    "volumes": [{"name": "cache", "emptyDir": {}}]
                }
            }
        }
    })
}

fn per_op(total: Duration, n: usize) -> String {
    format!("{:.3} ms", total.as_secs_f64() * 1000.0 / n as f64)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);

    let rounds = 50;
    let start = Instant::now();
    for _ in 0..rounds {
        let bundle = Bundle::open((1, 37)).expect("bundle opens");
        std::hint::black_box(bundle);
    }
    println!(
        "bundle open (index frame: zstd decode + parse, 1.37): {}",
        per_op(start.elapsed(), rounds)
    );

    let start = Instant::now();
    for _ in 0..rounds {
        let mut bundle = Bundle::open((1, 37)).expect("bundle opens");
        std::hint::black_box(bundle.kind_schema("v1", "ConfigMap").expect("assembles"));
    }
    let elapsed = start.elapsed();
    let mut bundle = Bundle::open((1, 37)).expect("bundle opens");
    bundle.kind_schema("v1", "ConfigMap").expect("assembles");
    let (used, total) = bundle.chunks_decompressed();
    println!(
        "open + assemble ConfigMap schema ({used} of {total} chunks): {}",
        per_op(elapsed, rounds)
    );

    let start = Instant::now();
    for _ in 0..rounds {
        let mut bundle = Bundle::open((1, 37)).expect("bundle opens");
        std::hint::black_box(
            bundle
                .kind_schema("apps/v1", "Deployment")
                .expect("assembles"),
        );
    }
    let with_assembly = start.elapsed();
    let mut bundle = Bundle::open((1, 37)).expect("bundle opens");
    let mut schema = bundle
        .kind_schema("apps/v1", "Deployment")
        .expect("assembles")
        .expect("Deployment is shipped");
    println!(
        "open + assemble Deployment schema ({} definitions, {} of {} chunks): {}",
        schema["definitions"].as_object().map_or(0, |d| d.len()),
        bundle.chunks_decompressed().0,
        bundle.chunks_decompressed().1,
        per_op(with_assembly, rounds)
    );
    let start = Instant::now();
    for _ in 0..rounds {
        let mut copy = schema.clone();
        strictify(&mut copy);
        std::hint::black_box(copy);
    }
    println!("clone + strictify: {}", per_op(start.elapsed(), rounds));
    strictify(&mut schema);
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(jsonschema::draft4::new(&schema).expect("compiles"));
    }
    println!(
        "compile strict Deployment schema: {}",
        per_op(start.elapsed(), rounds)
    );
    let compiled = jsonschema::draft4::new(&schema).expect("compiles");
    let start = Instant::now();
    for _ in 0..rounds {
        let compiled = jsonschema::draft4::new(&schema).expect("compiles");
        std::hint::black_box(compiled.iter_errors(&deployment(0)).count());
    }
    println!(
        "compile + first validation: {}",
        per_op(start.elapsed(), rounds)
    );
    std::hint::black_box(compiled);

    let start = Instant::now();
    for _ in 0..rounds {
        let mut validator = Validator::new(Options::default()).expect("validator");
        std::hint::black_box(validator.validate(&deployment(0)));
    }
    println!(
        "fresh validator + first Deployment (open, assemble, strictify, compile, validate): {}",
        per_op(start.elapsed(), rounds)
    );

    let docs: Vec<Value> = (0..1000)
        .map(|i| {
            let mut d = deployment(i);
            if i % 10 == 0 {
                d["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = json!("Always");
            }
            d
        })
        .collect();
    for strict in [true, false] {
        let mut validator = Validator::new(Options {
            strict,
            ..Options::default()
        })
        .expect("validator");
        validator.validate(&docs[1]);
        let start = Instant::now();
        let mut findings = 0;
        for i in 0..n {
            findings += validator.validate(&docs[i % docs.len()]).len();
        }
        let elapsed = start.elapsed();
        println!(
            "validate Deployments (strict={strict}): {:.0} docs/s ({n} docs, {findings} findings)",
            n as f64 / elapsed.as_secs_f64()
        );
    }
}
