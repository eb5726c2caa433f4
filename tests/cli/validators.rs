//! The built-in `schema`, `secrets` and `policy` validators through the
//! command line: kubeconform's and conftest's flags, CRDs and
//! `data.inventory` across batches, errors that name their file and line.

use serde_json::Value;

use crate::support::{DEPLOYMENT, Scratch};

/// One run: files of a scratch repository, arguments, exit code and the
/// findings expected, each `severity rule@file:line`, in report order
/// (info findings left out).
struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    code: i32,
    findings: &'static [&'static str],
}

fn findings(json: &Value) -> Vec<String> {
    json["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["severity"] != "info")
        .map(|d| {
            format!(
                "{} {}@{}:{}",
                d["severity"].as_str().unwrap_or("?"),
                d["rule"].as_str().unwrap_or("?"),
                d["file"].as_str().unwrap_or("-"),
                d["line"].as_u64().unwrap_or(0)
            )
        })
        .collect()
}

const SECRET: &str = "apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
data:
  password: aHVudGVyMg==
";

const SEALED: &str = "apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: db
  namespace: prod
spec:
  encryptedData:
    password: AgBy3i4OJSWK+PiTySYZZA==
";

const CONFIGMAP_WITH_KEY: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  token: AKIAIOSFODNN7EXAMPLE
";

const UNKNOWN_FIELD: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  replicaz: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
";

const WRONG_TYPE: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: \"80\"
";

const DUPLICATE_KEY: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  name: b
";

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    plural: widgets
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: integer
";

const WIDGET_OK: &str = "apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  size: 3
";

const WIDGET_BAD: &str = "apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  size: big
";

pub(crate) const REGO_DENY: &str = "package main
import rego.v1

deny contains msg if {
  input.kind == \"Deployment\"
  not input.metadata.labels.team
  msg := sprintf(\"%s has no team label\", [input.metadata.name])
}
";

const REGO_OTHER_PACKAGE: &str = "package k8s.images
import rego.v1

warn contains msg if {
  some c in input.spec.template.spec.containers
  endswith(c.image, \":latest\")
  msg := sprintf(\"%s uses a latest tag\", [c.name])
}
";

const TEMPLATE: &str = "apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
      validation:
        openAPIV3Schema:
          type: object
          properties:
            labels:
              type: array
              items:
                type: string
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8srequiredlabels
      violation[{\"msg\": msg}] {
        required := input.parameters.labels[_]
        not input.review.object.metadata.labels[required]
        msg := sprintf(\"missing label %v\", [required])
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: need-owner
spec:
  match:
    kinds:
    - apiGroups: [apps]
      kinds: [Deployment]
  parameters:
    labels: [owner]
";

const CASES: &[Case] = &[
    Case {
        name: "a Secret with data fails at its data",
        files: &[("secret.yaml", SECRET)],
        args: &["secret.yaml"],
        code: 1,
        findings: &["error secrets/plaintext@secret.yaml:6"],
    },
    Case {
        name: "an allow-listed Secret passes",
        files: &[
            ("secret.yaml", SECRET),
            (
                "manifold.yaml",
                "validators:\n  secrets:\n    allow:\n    - namespace: prod\n      name: db\n",
            ),
        ],
        args: &["secret.yaml"],
        code: 0,
        findings: &[],
    },
    Case {
        name: "an allow-list for another name does not cover it",
        files: &[
            ("secret.yaml", SECRET),
            (
                "manifold.yaml",
                "validators:\n  secrets:\n    allow:\n    - name: web\n",
            ),
        ],
        args: &["secret.yaml"],
        code: 1,
        findings: &["error secrets/plaintext@secret.yaml:6"],
    },
    Case {
        name: "a SealedSecret passes (its missing schema is a warning)",
        files: &[("sealed.yaml", SEALED)],
        args: &["sealed.yaml"],
        code: 0,
        findings: &["warning schema/missing-schema@sealed.yaml:1"],
    },
    Case {
        name: "a credential in a ConfigMap is a warning",
        files: &[("cm.yaml", CONFIGMAP_WITH_KEY)],
        args: &["cm.yaml"],
        code: 0,
        findings: &["warning secrets/credential-shape@cm.yaml:6"],
    },
    Case {
        name: "an unknown field fails in strict mode, at its line",
        files: &[("deploy.yaml", UNKNOWN_FIELD)],
        args: &["deploy.yaml"],
        code: 1,
        findings: &["error schema/invalid@deploy.yaml:5"],
    },
    Case {
        name: "an unknown field passes with --no-strict",
        files: &[("deploy.yaml", UNKNOWN_FIELD)],
        args: &["deploy.yaml", "--no-strict"],
        code: 0,
        findings: &[],
    },
    Case {
        name: "a wrong type fails whatever the strictness",
        files: &[("svc.yaml", WRONG_TYPE)],
        args: &["svc.yaml", "--no-strict", "--kube-version", "1.30"],
        code: 1,
        findings: &["error schema/invalid@svc.yaml:7"],
    },
    Case {
        name: "a duplicate key is an error in strict mode",
        files: &[("cm.yaml", DUPLICATE_KEY)],
        args: &["cm.yaml"],
        code: 1,
        findings: &["error manifold/yaml@cm.yaml:5"],
    },
    Case {
        name: "a duplicate key keeps its last value with --no-strict",
        files: &[("cm.yaml", DUPLICATE_KEY)],
        args: &["cm.yaml", "--no-strict"],
        code: 0,
        findings: &[],
    },
    Case {
        name: "a custom resource validates against its CRD in the repository",
        files: &[("crds/widget.yaml", CRD), ("apps/w.yaml", WIDGET_OK)],
        args: &[".", "--missing-schemas", "error"],
        code: 0,
        findings: &[],
    },
    Case {
        name: "a custom resource that breaks its CRD's schema fails",
        files: &[("crds/widget.yaml", CRD), ("apps/w.yaml", WIDGET_BAD)],
        args: &[".", "--missing-schemas", "error"],
        code: 1,
        findings: &["error schema/invalid@apps/w.yaml:6"],
    },
    Case {
        name: "a custom resource without its CRD is an error with --missing-schemas error",
        files: &[("apps/w.yaml", WIDGET_OK)],
        args: &["apps", "--missing-schemas", "error"],
        code: 1,
        findings: &["error schema/missing-schema@apps/w.yaml:1"],
    },
    Case {
        name: "--missing-schemas skip says nothing",
        files: &[("apps/w.yaml", WIDGET_OK)],
        args: &["apps", "--missing-schemas", "skip"],
        code: 0,
        findings: &[],
    },
    Case {
        name: "--skip leaves a kind unchecked",
        files: &[("deploy.yaml", UNKNOWN_FIELD)],
        args: &["deploy.yaml", "--skip", "ConfigMap,apps/v1/Deployment"],
        code: 0,
        findings: &[],
    },
    Case {
        name: "--reject makes a kind an error",
        files: &[("deploy.yaml", DEPLOYMENT), ("secret.yaml", SEALED)],
        args: &[".", "--reject", "Deployment", "--skip", "SealedSecret"],
        code: 1,
        findings: &["error schema/rejected-kind@deploy.yaml:1"],
    },
    Case {
        name: "schema: false in manifold.yaml turns schema validation off",
        files: &[
            ("deploy.yaml", UNKNOWN_FIELD),
            ("manifold.yaml", "validators:\n  schema: false\n"),
        ],
        args: &["deploy.yaml"],
        code: 0,
        findings: &[],
    },
    Case {
        name: "manifold.yaml's schema section takes the flags' keys; flags win",
        files: &[
            ("deploy.yaml", UNKNOWN_FIELD),
            (
                "manifold.yaml",
                "validators:\n  schema:\n    strict: false\n",
            ),
        ],
        args: &["deploy.yaml", "--strict"],
        code: 1,
        findings: &["error schema/invalid@deploy.yaml:5"],
    },
    Case {
        name: "a Rego policy folder with a deny rule",
        files: &[
            ("apps/deploy.yaml", DEPLOYMENT),
            ("policy/labels.rego", REGO_DENY),
        ],
        args: &["apps", "--policy", "policy"],
        code: 1,
        findings: &["error policy/main.deny@apps/deploy.yaml:1"],
    },
    Case {
        name: "policy paths in manifold.yaml are relative to it",
        files: &[
            ("apps/deploy.yaml", DEPLOYMENT),
            ("checks/labels.rego", REGO_DENY),
            (
                "manifold.yaml",
                "validators:\n  policy:\n    policies: [checks]\n",
            ),
        ],
        args: &["."],
        code: 1,
        findings: &["error policy/main.deny@apps/deploy.yaml:1"],
    },
    Case {
        name: "--namespace picks the conftest package",
        files: &[
            (
                "apps/deploy.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - {name: web, image: \"nginx:latest\"}\n",
            ),
            ("policy/labels.rego", REGO_DENY),
            ("policy/images.rego", REGO_OTHER_PACKAGE),
        ],
        args: &["apps", "--policy", "policy", "--namespace", "k8s.images"],
        code: 0,
        findings: &["warning policy/k8s.images.warn@apps/deploy.yaml:1"],
    },
    Case {
        name: "a Gatekeeper template and constraint",
        files: &[
            ("apps/deploy.yaml", DEPLOYMENT),
            (
                "apps/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
            ("gatekeeper/required.yaml", TEMPLATE),
        ],
        args: &["apps", "--policy", "gatekeeper/required.yaml"],
        code: 1,
        findings: &["error policy/k8srequiredlabels@apps/deploy.yaml:1"],
    },
    Case {
        name: "policies in the walked folder are not validated as manifests",
        files: &[
            ("deploy.yaml", DEPLOYMENT),
            ("gatekeeper/required.yaml", TEMPLATE),
        ],
        args: &[".", "--policy", "gatekeeper", "--missing-schemas", "error"],
        code: 1,
        findings: &["error policy/k8srequiredlabels@deploy.yaml:1"],
    },
];

#[test]
fn table() {
    for case in CASES {
        let mut scratch = Scratch::new();
        for (path, content) in case.files {
            scratch = scratch.file(path, content);
        }
        let mut args = vec!["validate", "--format", "json"];
        args.extend(case.args);
        let output = scratch.run(&args);
        let got = findings(&output.json());
        assert_eq!(
            (
                output.code,
                got.iter().map(String::as_str).collect::<Vec<_>>()
            ),
            (case.code, case.findings.to_vec()),
            "{}\nstdout:\n{}\nstderr:\n{}",
            case.name,
            output.stdout,
            output.stderr
        );
    }
}

#[test]
fn messages_read_like_kubeconform() {
    Scratch::new()
        .file("deploy.yaml", UNKNOWN_FIELD)
        .file("svc.yaml", WRONG_TYPE)
        .run(&["validate", "."])
        .code(1)
        .stdout_has("error[schema/invalid]: additional properties 'replicaz' not allowed")
        .stdout_has("--> deploy.yaml:5 (Deployment web, /spec)")
        .stdout_has("error[schema/invalid]: got string, want integer")
        .stdout_has("--> svc.yaml:7 (Service web, /spec/ports/0/port)");
}

/// A Gatekeeper template that compares each ConfigMap with every other one
/// in `data.inventory`: two ConfigMaps may not hold the same value.
const UNIQUE_VALUE: &str = "apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8suniquevalue
spec:
  crd:
    spec:
      names:
        kind: K8sUniqueValue
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8suniquevalue
      violation[{\"msg\": msg}] {
        value := input.review.object.data.value
        other := data.inventory.namespace[ns][_][\"ConfigMap\"][name]
        other.data.value == value
        not same(other, ns, name)
        msg := sprintf(\"value %v is also in ConfigMap %v/%v\", [value, ns, name])
      }
      same(other, ns, name) {
        ns == input.review.object.metadata.namespace
        name == input.review.object.metadata.name
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sUniqueValue
metadata:
  name: unique-values
spec:
  match:
    kinds:
    - apiGroups: [\"\"]
      kinds: [ConfigMap]
";

fn configmap(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: prod\ndata:\n  value: {value}\n"
    )
}

#[test]
fn inventory_spans_batches_and_cluster_state() {
    // 300 documents: more than one batch (see validate::batch_size). The first and the last
    // share a value, so each sees the other only through the whole run.
    let mut stream = Vec::new();
    for i in 0..300 {
        let value = if i == 299 {
            "v0".to_owned()
        } else {
            format!("v{i}")
        };
        stream.push(configmap(&format!("cm{i}"), &value));
    }
    let scratch = Scratch::new()
        .file("apps/all.yaml", stream.join("---\n"))
        .file("policy/unique.yaml", UNIQUE_VALUE)
        .file("cluster/existing.yaml", configmap("live", "v7"));
    let json = scratch
        .run(&["validate", "apps", "--policy", "policy", "--format", "json"])
        .code(1)
        .json();
    let flagged: Vec<(u64, String)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "policy/k8suniquevalue")
        .map(|d| {
            (
                d["document"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        flagged,
        [
            (
                0,
                "value v0 is also in ConfigMap prod/cm299 (constraint unique-values)".to_owned()
            ),
            (
                299,
                "value v0 is also in ConfigMap prod/cm0 (constraint unique-values)".to_owned()
            ),
        ]
    );

    // Cluster state from --data joins the inventory; it is not validated.
    let json = scratch
        .run(&[
            "validate", "apps", "--policy", "policy", "--data", "cluster", "--format", "json",
        ])
        .code(1)
        .json();
    let documents: Vec<u64> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "policy/k8suniquevalue")
        .map(|d| d["document"].as_u64().unwrap())
        .collect();
    assert_eq!(documents, [0, 7, 299]);
    assert!(
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["file"] == "apps/all.yaml"),
        "{json}"
    );
}

#[test]
fn rego_syntax_error_names_file_and_line() {
    Scratch::new()
        .file("deploy.yaml", DEPLOYMENT)
        .file(
            "policy/broken.rego",
            "package main\nimport rego.v1\n\ndeny contains msg if {\n  msg := \n}\n",
        )
        .run(&["validate", "deploy.yaml", "--policy", "policy"])
        .code(1)
        .stdout_has("error[manifold/plugin-failed]: plugin `policy`: policy/broken.rego:");
    let output = Scratch::new()
        .file("deploy.yaml", DEPLOYMENT)
        .file(
            "policy/broken.rego",
            "package main\nimport rego.v1\n\ndeny contains msg if {\n  msg := \n}\n",
        )
        .run(&[
            "validate",
            "deploy.yaml",
            "--policy",
            "policy",
            "--format",
            "json",
        ]);
    let json = output.json();
    let failures: Vec<&Value> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "manifold/plugin-failed")
        .collect();
    assert_eq!(failures.len(), 1, "{json}");
    let message = failures[0]["message"].as_str().unwrap();
    assert!(
        message.contains("policy/broken.rego:5") || message.contains("policy/broken.rego:6"),
        "{message}"
    );
}

#[test]
fn rego_print_reaches_the_user() {
    Scratch::new()
        .file("deploy.yaml", DEPLOYMENT)
        .file(
            "policy/debug.rego",
            "package main\nimport rego.v1\n\ndeny contains msg if {\n  print(\"checking\", input.metadata.name)\n  false\n  msg := \"never\"\n}\n",
        )
        .run(&["validate", "deploy.yaml", "--policy", "policy"])
        .code(0)
        .stderr_has("policy: policy/debug.rego:5: checking web");
}

#[test]
fn schema_folders_inside_and_outside_the_repository() {
    let schema = r#"{"type": "object", "required": ["spec"], "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}"#;
    let scratch = Scratch::new()
        .file("apps/w.yaml", WIDGET_BAD)
        .file("schemas/widget-example-v1.json", schema);
    // A path template inside the repository, tried after the embedded set.
    let json = scratch
        .run(&[
            "validate",
            "apps",
            "--schema-location",
            "default",
            "--schema-location",
            "schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json",
            "--format",
            "json",
        ])
        .code(1)
        .json();
    assert_eq!(findings(&json), ["error schema/invalid@apps/w.yaml:6"]);

    // A folder outside the repository, named on the command line.
    let outside = Scratch::new().file("widget-example-v1.json", schema);
    let template = format!(
        "{}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
        outside.dir.display()
    );
    let json = scratch
        .run(&[
            "validate",
            "apps",
            "--schema-location",
            &template,
            "--format",
            "json",
        ])
        .code(1)
        .json();
    assert_eq!(findings(&json), ["error schema/invalid@apps/w.yaml:6"]);

    scratch
        .run(&[
            "validate",
            "apps",
            "--schema-location",
            "https://example.com/schemas",
        ])
        .code(2)
        .stderr_has("manifold does not use the network");
}
