//! `manifold render`: a kustomization as `kustomize build` prints it, a chart
//! as `helm template` prints it, and each way a render can go wrong.

use crate::support::Scratch;

const CONFIGMAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n";

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25
        envFrom:
        - configMapRef:
            name: settings
";

const CHART: &str = "apiVersion: v2\nname: web\nversion: 1.0.0\n";

const CHART_TEMPLATE: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-web
  namespace: {{ .Release.Namespace }}
data:
  replicas: {{ .Values.replicas | quote }}
";

fn overlay() -> Scratch {
    Scratch::new()
        .file("base/kustomization.yaml", "resources:\n- deployment.yaml\n- configmap.yaml\n")
        .file("base/deployment.yaml", DEPLOYMENT)
        .file("base/configmap.yaml", CONFIGMAP)
        .file(
            "overlays/prod/kustomization.yaml",
            "resources:\n- ../../base\nnamePrefix: prod-\nnamespace: prod\nimages:\n- name: nginx\n  newTag: \"1.26\"\n",
        )
}

fn chart() -> Scratch {
    Scratch::new()
        .file("charts/web/Chart.yaml", CHART)
        .file("charts/web/values.yaml", "replicas: 1\n")
        .file("charts/web/templates/configmap.yaml", CHART_TEMPLATE)
}

#[test]
fn an_overlay_renders_as_kustomize_build_prints_it() {
    let out = overlay().run(&["render", "overlays/prod"]);
    out.code(0);
    // Legacy order puts the ConfigMap first; references follow the prefix.
    assert_eq!(
        out.stdout,
        "apiVersion: v1
data:
  a: \"1\"
kind: ConfigMap
metadata:
  name: prod-settings
  namespace: prod
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: prod-web
  namespace: prod
spec:
  template:
    spec:
      containers:
      - envFrom:
        - configMapRef:
            name: prod-settings
        image: nginx:1.26
        name: web
"
    );
    let none = overlay().run(&["render", "overlays/prod", "--reorder", "none"]);
    none.code(0);
    assert!(
        none.stdout
            .starts_with("apiVersion: apps/v1\nkind: Deployment"),
        "{}",
        none.stdout
    );
}

#[test]
fn a_chart_renders_as_helm_template_prints_it() {
    let out = chart().run(&[
        "render",
        "charts/web",
        "--release",
        "shop",
        "-n",
        "prod",
        "--set",
        "replicas=3",
    ]);
    out.code(0);
    assert_eq!(
        out.stdout,
        "---
# Source: web/templates/configmap.yaml
apiVersion: v1
data:
  replicas: \"3\"
kind: ConfigMap
metadata:
  name: shop-web
  namespace: prod
"
    );
}

#[test]
fn values_files_are_relative_to_the_current_folder_and_later_ones_win() {
    let scratch = chart()
        .file("env/prod.yaml", "replicas: 5\n")
        .file("env/more.yaml", "replicas: 7\n");
    scratch
        .run(&[
            "render",
            "charts/web",
            "-f",
            "env/prod.yaml",
            "-f",
            "env/more.yaml",
        ])
        .code(0)
        .stdout_has("replicas: \"7\"");
}

#[test]
fn helm_charts_in_a_kustomization_render_through_the_helm_plugin() {
    let scratch = chart().file(
        "kustomization.yaml",
        "helmCharts:\n- name: web\n  releaseName: shop\n  valuesInline:\n    replicas: 2\nhelmGlobals:\n  chartHome: charts\n",
    );
    scratch
        .run(&["render", ".", "--enable-helm"])
        .code(0)
        .stdout_has("name: shop-web")
        .stdout_has("replicas: \"2\"");
    scratch
        .run(&["render", "."])
        .code(1)
        .stderr_has("--enable-helm");
}

#[test]
fn out_writes_the_stream_to_a_file_in_the_folder() {
    let scratch = overlay();
    scratch
        .run(&["render", "overlays/prod", "--out", "hydrated/prod"])
        .code(0);
    let written = std::fs::read_to_string(scratch.dir.join("hydrated/prod/manifest.yaml")).unwrap();
    assert!(written.contains("name: prod-web"), "{written}");
    let leftovers: Vec<_> = std::fs::read_dir(scratch.dir.join("hydrated/prod"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");
}

/// (what, extra files, arguments, exit code, what stderr must say)
type Failure = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
    i32,
    &'static str,
);

const FAILURES: &[Failure] = &[
    (
        "a folder that is neither",
        &[("plain/cm.yaml", CONFIGMAP)],
        &["render", "plain"],
        2,
        "plain is a repository, not a kustomization or chart: give --out DIR",
    ),
    (
        "a missing folder",
        &[],
        &["render", "nowhere"],
        2,
        "nowhere: no such folder",
    ),
    (
        "a Helm flag on a kustomization",
        &[],
        &["render", "overlays/prod", "--set", "a=1"],
        2,
        "--set is a Helm flag",
    ),
    (
        "a missing resource",
        &[("bad/kustomization.yaml", "resources:\n- missing.yaml\n")],
        &["render", "bad"],
        1,
        "bad/kustomization.yaml",
    ),
    (
        "a resource outside the repository",
        &[(
            "escape/kustomization.yaml",
            "resources:\n- ../../../outside.yaml\n",
        )],
        &[
            "render",
            "escape",
            "--load-restrictor",
            "LoadRestrictionsNone",
        ],
        1,
        "escape/kustomization.yaml",
    ),
    (
        "a remote resource",
        &[(
            "remote/kustomization.yaml",
            "resources:\n- https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.0.0\n",
        )],
        &["render", "remote"],
        1,
        "network",
    ),
    (
        "a cycle",
        &[
            ("a/kustomization.yaml", "resources:\n- ../b\n"),
            ("b/kustomization.yaml", "resources:\n- ../a\n"),
        ],
        &["render", "a", "--load-restrictor", "LoadRestrictionsNone"],
        1,
        "cycle",
    ),
    (
        "a malformed patch",
        &[(
            "patched/kustomization.yaml",
            "resources:\n- ../base\npatches:\n- patch: \"- op: replace\\n  path: [\"\n  target:\n    kind: Deployment\n",
        )],
        &[
            "render",
            "patched",
            "--load-restrictor",
            "LoadRestrictionsNone",
        ],
        1,
        "patched/kustomization.yaml",
    ),
];

#[test]
fn each_failure_names_its_cause() {
    for (what, files, args, code, message) in FAILURES {
        let mut scratch = overlay();
        for (path, content) in *files {
            scratch = scratch.file(path, content);
        }
        let out = scratch.run(args);
        assert_eq!(
            out.code, *code,
            "{what}: exit code; stderr:\n{}",
            out.stderr
        );
        assert!(
            out.stderr.contains(message),
            "{what}: stderr lacks {message:?}:\n{}",
            out.stderr
        );
    }
}

#[test]
fn chart_failures_name_their_cause() {
    let scratch = chart()
        .file("charts/bad/Chart.yaml", CHART)
        .file(
            "charts/bad/templates/x.yaml",
            "{{ required \"replicas is required\" .Values.nope }}\n",
        )
        .file("outside.yaml", "replicas: 1\n");
    scratch
        .run(&["render", "charts/bad"])
        .code(1)
        .stderr_has("replicas is required");
    scratch
        .run(&["render", "charts/web", "--set", "a[=1"])
        .code(1);
    scratch
        .run(&["render", "charts/web", "-f", "/etc/hostname"])
        .code(2)
        .stderr_has("outside the repository");
}
