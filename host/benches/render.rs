//! Render benchmark: a generated overlay of thousands of resources, built
//! through `manifold render`'s library path (the kustomize Wasm plugin, warm
//! compiled-plugin cache), with `kubectl kustomize` as the baseline when
//! the machine has it.
//!
//! `cargo bench -p manifold --bench render [-- RESOURCES_PER_KIND [ITERATIONS]]`

// A benchmark stops at the first thing that goes wrong.
#![allow(clippy::expect_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use manifold::registry::Registry;
use manifold::render::{self, Target};
use manifold::runtime::{Limits, Runtime, RuntimeOptions};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let per_kind: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let iterations: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);

    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-render");
    let _ = std::fs::remove_dir_all(&root);
    generate(&root, per_kind);
    let overlay = root.join("overlays/prod");

    let options = RuntimeOptions {
        limits: Limits::default(),
        precompiled_dir: Some(root.join(".cache")),
        max_instances: 16,
    };
    let registry = Registry::new(Runtime::new(&options).expect("runtime"));
    let target = Target::locate(&overlay).expect("target");
    let config = serde_json::json!({});

    let started = Instant::now();
    registry.get("kustomize").expect("kustomize plugin");
    let load = started.elapsed();

    let mut times = Vec::new();
    let mut objects = 0;
    let mut bytes = 0;
    for _ in 0..iterations {
        let started = Instant::now();
        let rendered = render::render(&registry, &target, &config).expect("render");
        let stream = render::to_stream(&target, &rendered.objects);
        times.push(started.elapsed());
        objects = rendered.objects.len();
        bytes = stream.len();
    }
    println!(
        "render overlay: {objects} objects, {} KiB out, plugin load {:.1} ms",
        bytes / 1024,
        ms(load)
    );
    println!("  manifold render:    {}", summary(&mut times));

    let mut baseline = Vec::new();
    for _ in 0..iterations {
        let started = Instant::now();
        let ok = Command::new("kubectl")
            .args(["kustomize"])
            .arg(&overlay)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            println!("  kubectl kustomize:  not available");
            return;
        }
        baseline.push(started.elapsed());
    }
    println!("  kubectl kustomize:  {}", summary(&mut baseline));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(times: &mut [Duration]) -> String {
    times.sort();
    let median = times[times.len() / 2];
    format!(
        "median {:.1} ms, min {:.1} ms ({} runs)",
        ms(median),
        ms(times[0]),
        times.len()
    )
}

/// A base of `n` Deployments, Services and ConfigMaps, and a prod overlay
/// with the transformers real overlays use.
fn generate(root: &Path, n: usize) {
    let write = |path: PathBuf, text: &str| {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    std::fs::create_dir_all(root.join(".git")).expect("mkdir");
    let mut resources = String::from("resources:\n");
    for i in 0..n {
        let mut text = String::new();
        let _ = write!(
            text,
            "apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  labels:
    app: app-{i}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      serviceAccountName: runner
      containers:
      - name: main
        image: registry.example.com/app:1.0.0
        ports:
        - containerPort: 8080
        envFrom:
        - configMapRef:
            name: config-{i}
        volumeMounts:
        - name: settings
          mountPath: /etc/settings
      volumes:
      - name: settings
        configMap:
          name: config-{i}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
spec:
  selector:
    app: app-{i}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-{i}
data:
  LOG_LEVEL: info
  INDEX: \"{i}\"
"
        );
        write(root.join(format!("base/app-{i}.yaml")), &text);
        let _ = writeln!(resources, "- app-{i}.yaml");
    }
    write(root.join("base/kustomization.yaml"), &resources);
    write(
        root.join("overlays/prod/kustomization.yaml"),
        "resources:
- ../../base
namespace: prod
namePrefix: prod-
commonLabels:
  env: prod
commonAnnotations:
  team: platform
images:
- name: registry.example.com/app
  newTag: 2.0.0
replicas:
- name: app-0
  count: 3
configMapGenerator:
- name: shared
  literals:
  - REGION=eu-west-1
patches:
- target:
    kind: Deployment
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: any
    spec:
      template:
        spec:
          containers:
          - name: main
            resources:
              limits:
                memory: 256Mi
",
    );
}
