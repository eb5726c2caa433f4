//! The pipeline's promises on a generated repository of many targets: the
//! same bytes whatever the thread count, a warm run served wholly from the
//! cache, and a change re-rendering and re-checking exactly its readers.

use crate::support::{Scratch, cache_at, digests};

const APPS: usize = 12;
const ENVS: [&str; 3] = ["dev", "staging", "prod"];

/// A monorepo: each app a base with three overlays (prefix, namespace,
/// labels, image tag, replicas, a generator merge, a strategic-merge
/// patch), two charts with per-environment values, a CRD and a custom
/// resource in separate folders, and a policy.
fn repository() -> Scratch {
    let mut scratch = Scratch::new().file(
        "manifold.yaml",
        "version: 1\nvalidators:\n  labels:\n    require:\n      - key: app\n  policy:\n    policies: [policy/]\n",
    );
    scratch = scratch.file(
        "policy/limits.rego",
        "package main\n\nwarn contains msg if {\n  input.kind == \"Deployment\"\n  some c in input.spec.template.spec.containers\n  not c.resources.limits.memory\n  msg := sprintf(\"%s: no memory limit\", [c.name])\n}\n",
    );
    for i in 0..APPS {
        let app = format!("app{i:02}");
        let base = format!("apps/{app}/base");
        scratch = scratch
            .file(
                &format!("{base}/kustomization.yaml"),
                format!("resources:\n- deployment.yaml\n- service.yaml\nconfigMapGenerator:\n- name: {app}-config\n  literals: [MODE=base]\nlabels:\n- pairs:\n    app: {app}\n  includeSelectors: true\n"),
            )
            .file(
                &format!("{base}/deployment.yaml"),
                format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\nspec:\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n    spec:\n      containers:\n      - name: main\n        image: registry.example.com/{app}:1.0.0\n{}", if i % 4 == 0 { "" } else { "        resources:\n          limits: {memory: 128Mi}\n" }),
            )
            .file(
                &format!("{base}/service.yaml"),
                format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\nspec:\n  ports:\n  - port: 80\n"),
            );
        for (n, env) in ENVS.iter().enumerate() {
            scratch = scratch
                .file(
                    &format!("apps/{app}/overlays/{env}/kustomization.yaml"),
                    format!("resources:\n- ../../base\nnamespace: {app}-{env}\nnamePrefix: {env}-\nlabels:\n- pairs:\n    env: {env}\nimages:\n- name: registry.example.com/{app}\n  newTag: 1.{n}.0\nreplicas:\n- name: {app}\n  count: {}\nconfigMapGenerator:\n- name: {app}-config\n  behavior: merge\n  literals: [MODE={env}]\npatches:\n- path: patch.yaml\n", n + 1),
                )
                .file(
                    &format!("apps/{app}/overlays/{env}/patch.yaml"),
                    format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\nspec:\n  template:\n    spec:\n      containers:\n      - name: main\n        env:\n        - name: ENV\n          value: {env}\n"),
                );
        }
    }
    for chart in ["queue", "cache"] {
        scratch = scratch
            .file(
                &format!("charts/{chart}/Chart.yaml"),
                format!("apiVersion: v2\nname: {chart}\nversion: 1.0.0\n"),
            )
            .file(&format!("charts/{chart}/values.yaml"), "replicas: 1\n")
            .file(&format!("charts/{chart}/values-dev.yaml"), "replicas: 1\n")
            .file(&format!("charts/{chart}/values-prod.yaml"), "replicas: 3\n")
            .file(
                &format!("charts/{chart}/templates/configmap.yaml"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    app: {{ .Chart.Name }}\ndata:\n  replicas: {{ .Values.replicas | quote }}\n",
            );
    }
    scratch
        .file(
            "platform/crds/backup.yaml",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: backups.example.com\n  labels:\n    app: platform\nspec:\n  group: example.com\n  names: {kind: Backup, plural: backups}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              schedule: {type: string}\n",
        )
        .file(
            "platform/backups/nightly.yaml",
            "apiVersion: example.com/v1\nkind: Backup\nmetadata:\n  name: nightly\n  namespace: ops\n  labels:\n    app: platform\nspec:\n  schedule: \"0 3 * * *\"\n",
        )
}

/// Names of the targets a run rendered (not served from the cache).
fn rendered(json: &serde_json::Value) -> Vec<String> {
    json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] != "manifests" && t["cached"] == false)
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_generated_repository_renders_the_same_bytes_and_caches_exactly() {
    let scratch = repository();
    let cache = scratch.dir.join("cache");
    let mut trees = Vec::new();
    for jobs in ["1", "2"] {
        cache_at(&cache);
        let out = scratch.dir.join(format!("out-{jobs}"));
        scratch
            .run_with_cache(
                &["render", ".", "--out", out.to_str().unwrap(), "-j", jobs],
                &cache,
            )
            .code(0);
        trees.push(digests(&out));
    }
    assert_eq!(trees[0], trees[1]);
    let targets = APPS * ENVS.len() + 2 * 2 + 2;
    assert_eq!(
        trees[0]
            .keys()
            .filter(|k| k.ends_with("/manifest.yaml"))
            .count(),
        targets
    );

    let check = |args: &[&str]| {
        let mut all = vec!["check", ".", "--format", "json"];
        all.extend(args);
        scratch.run_with_cache(&all, &cache).json()
    };
    // Warm: nothing rendered or validated again, the same findings.
    let warm = check(&[]);
    assert_eq!(warm["targets"].as_array().unwrap().len(), targets);
    assert_eq!(warm["cache"]["renders"]["misses"], 0, "{}", warm["cache"]);
    assert_eq!(
        warm["cache"]["validations"]["misses"], 0,
        "{}",
        warm["cache"]
    );
    let warnings: Vec<&str> = warm["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["target"].as_str().unwrap())
        .collect();
    // The policy's warning on every overlay of every fourth app.
    assert_eq!(
        warnings.len(),
        APPS.div_ceil(4) * ENVS.len(),
        "{warnings:?}"
    );

    // A base changes: its three overlays render again, nothing else.
    std::fs::write(
        scratch.dir.join("apps/app05/base/service.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: app05\nspec:\n  ports:\n  - port: 8080\n",
    )
    .unwrap();
    let mut overlays: Vec<String> = ENVS
        .iter()
        .map(|e| format!("apps/app05/overlays/{e}"))
        .collect();
    overlays.sort();
    let documents = warm["summary"]["documents"].as_u64().unwrap();
    let validators = warm["cache"]["validations"]["hits"].as_u64().unwrap() / documents;
    let files = check(&["--files", "apps/app05/base/service.yaml"]);
    let names: Vec<&str> = files["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, overlays);
    assert_eq!(rendered(&files), overlays);
    assert_eq!(files["cache"]["renders"]["misses"], 3);
    // Only the three changed Services were judged again, by each validator.
    assert_eq!(files["cache"]["validations"]["misses"], 3 * validators);
    // And the whole repository is warm again.
    let after = check(&[]);
    assert!(rendered(&after).is_empty(), "{:?}", rendered(&after));
    assert_eq!(after["cache"]["validations"]["misses"], 0);
    assert_eq!(after["diagnostics"], warm["diagnostics"]);
}
