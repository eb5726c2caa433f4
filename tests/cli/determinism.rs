//! The hydrated tree is a function of the sources alone: thread count,
//! a cold or warm cache, and the order in which files were created (which
//! decides the order a folder lists in on many file systems) change
//! nothing, down to the last byte.

use std::path::Path;

use crate::check::{own_cache, tree};
use crate::support::Scratch;

const FILES: &[(&str, &str)] = &[
    (
        "apps/web/base/kustomization.yaml",
        "resources:\n- deployment.yaml\n- service.yaml\nconfigMapGenerator:\n- name: web\n  literals: [mode=base, level=1]\n",
    ),
    (
        "apps/web/base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n        envFrom:\n        - configMapRef: {name: web}\n",
    ),
    (
        "apps/web/base/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n",
    ),
    (
        "apps/web/overlays/dev/kustomization.yaml",
        "resources:\n- ../../base\nnamePrefix: dev-\nnamespace: dev\n",
    ),
    (
        "apps/web/overlays/prod/kustomization.yaml",
        "resources:\n- ../../base\nnamePrefix: prod-\nnamespace: prod\nreplicas:\n- name: web\n  count: 3\nimages:\n- name: nginx\n  newTag: \"1.27\"\n",
    ),
    (
        "charts/cache/Chart.yaml",
        "apiVersion: v2\nname: cache\nversion: 1.0.0\n",
    ),
    ("charts/cache/values.yaml", "size: 1\nzones: [a, b, c]\n"),
    ("charts/cache/values-dev.yaml", "size: 2\n"),
    ("charts/cache/values-prod.yaml", "size: 3\n"),
    (
        "charts/cache/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cache\ndata:\n  size: {{ .Values.size | quote }}\n  zones: {{ join \",\" .Values.zones | quote }}\n",
    ),
    (
        "charts/cache/templates/sts.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {{ .Release.Name }}-cache\nspec:\n  replicas: {{ .Values.size }}\n  serviceName: cache\n  selector:\n    matchLabels: {app: cache}\n  template:\n    metadata:\n      labels: {app: cache}\n    spec:\n      containers:\n      - name: redis\n        image: redis:7\n",
    ),
    (
        "plain/a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    ),
    (
        "plain/b.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    ),
    (
        "plain/z.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: z\n",
    ),
    (
        "deploy/argocd.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web-prod\nspec:\n  source:\n    path: apps/web/overlays/prod\n  destination:\n    namespace: prod\n",
    ),
    (
        "deploy/flux.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: plain\n  namespace: flux-system\nspec:\n  path: ./plain\n",
    ),
];

/// A repository with `FILES` created in the given order.
fn repository(order: impl Iterator<Item = &'static (&'static str, &'static str)>) -> Scratch {
    order.fold(Scratch::new(), |scratch, (path, text)| {
        scratch.file(path, text)
    })
}

/// blake3 of the whole tree: every path and its bytes, in path order.
fn digest(dir: &Path) -> String {
    let mut hasher = blake3::Hasher::new();
    for (path, bytes) in tree(dir) {
        hasher.update(path.as_bytes());
        hasher.update(b"\0");
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    hasher.finalize().to_hex().to_string()
}

/// Renders into a fresh folder; the tree's digest and the cache hits.
fn render(scratch: &Scratch, cache: &Path, out: &str, jobs: &str) -> (String, u64) {
    let json = scratch
        .run_with_cache(
            &["render", ".", "--out", out, "-j", jobs, "--format", "json"],
            cache,
        )
        .code(0)
        .json();
    let hits = json["cache"]["renders"]["hits"].as_u64().unwrap();
    (digest(&scratch.dir.join(out)), hits)
}

#[test]
fn the_tree_is_the_same_bytes_whatever_the_threads_cache_and_file_order() {
    let forward = repository(FILES.iter());
    let backward = repository(FILES.iter().rev());
    let mut runs = Vec::new();
    for (name, scratch) in [("forward", &forward), ("backward", &backward)] {
        let cache = own_cache(scratch);
        let cold_one = render(scratch, &cache, "cold-1", "1");
        let warm_two = render(scratch, &cache, "warm-2", "2");
        let warm_one = render(scratch, &cache, "warm-1", "1");
        std::fs::remove_dir_all(cache.join("renders")).unwrap();
        let cold_two = render(scratch, &cache, "cold-2", "2");
        // The runs really were cold and warm: 4 rendered targets (the dev
        // overlay, prod through Argo CD, 2 chart environments).
        assert_eq!(
            [cold_one.1, warm_two.1, warm_one.1, cold_two.1],
            [0, 4, 4, 0]
        );
        for (run, (digest, _)) in [
            ("cold -j 1", cold_one),
            ("warm -j 2", warm_two),
            ("warm -j 1", warm_one),
            ("cold -j 2", cold_two),
        ] {
            runs.push((format!("{name}, {run}"), digest));
        }
    }
    let first = &runs[0].1;
    assert!(
        runs.iter().all(|(_, d)| d == first),
        "digests differ: {runs:#?}"
    );
    let files = tree(&forward.dir.join("cold-1"));
    for expected in [
        "argocd/web-prod/manifest.yaml",
        "apps/web/overlays/dev/manifest.yaml",
        "charts/cache/prod/manifest.yaml",
        "flux/flux-system/plain/manifest.yaml",
        "manifold.index",
    ] {
        assert!(
            files.contains_key(expected),
            "{expected}: {:?}",
            files.keys()
        );
    }
}
