//! Table-driven behaviour tests of the public API: verdicts, findings and
//! paths for built-in kinds, CRDs, options, schema files and Lists.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use manifold_plugin_schema::{
    Error, MissingSchemas, Options, Severity, Validator, Verdict, expand_schema_location, rules,
};
use serde_json::{Value, json};

fn deployment(container: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]}
            }
        }
    })
}

fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [
                {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}},
                        "spec": {
                            "type": "object",
                            "required": ["size"],
                            "properties": {
                                "size": {"type": "string", "enum": ["small", "large"]},
                                "port": {"x-kubernetes-int-or-string": true},
                                "note": {"type": "string", "nullable": true},
                                "every": {"type": "string", "format": "duration"},
                                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                                          "properties": {"known": {"type": "string"}}}
                            }
                        }
                    }
                }}},
                {"name": "v0", "served": false, "storage": false, "schema": {"openAPIV3Schema": {"type": "object"}}}
            ]
        }
    })
}

fn widget(spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget",
           "metadata": {"name": "w", "labels": {"app": "w"}}, "spec": spec})
}

struct Case {
    name: &'static str,
    options: Options,
    doc: Value,
    verdict: Verdict,
    /// (rule, path, message substring) of every expected finding, in order.
    findings: &'static [(&'static str, Option<&'static str>, &'static str)],
}

fn opts(f: impl FnOnce(&mut Options)) -> Options {
    let mut o = Options::default();
    f(&mut o);
    o
}

#[test]
fn validation_table() {
    let container = json!({"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]});
    let cases = vec![
        Case {
            name: "valid deployment",
            options: Options::default(),
            doc: deployment(container.clone()),
            verdict: Verdict::Valid,
            findings: &[],
        },
        Case {
            name: "unknown field, strict",
            options: Options::default(),
            doc: deployment(json!({"name": "web", "image": "nginx", "imagePullPolcy": "Always"})),
            verdict: Verdict::Invalid,
            findings: &[(
                rules::INVALID,
                Some("/spec/template/spec/containers/0"),
                "additional properties 'imagePullPolcy' not allowed",
            )],
        },
        Case {
            name: "unknown field, not strict",
            options: opts(|o| o.strict = false),
            doc: deployment(json!({"name": "web", "image": "nginx", "imagePullPolcy": "Always"})),
            verdict: Verdict::Valid,
            findings: &[],
        },
        Case {
            name: "unknown top-level field, strict",
            options: Options::default(),
            doc: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "dta": {}}),
            verdict: Verdict::Invalid,
            findings: &[(
                rules::INVALID,
                Some(""),
                "additional properties 'dta' not allowed",
            )],
        },
        Case {
            name: "wrong type",
            options: Options::default(),
            doc: deployment(
                json!({"name": "web", "image": "nginx", "ports": [{"containerPort": "80"}]}),
            ),
            verdict: Verdict::Invalid,
            findings: &[(
                rules::INVALID,
                Some("/spec/template/spec/containers/0/ports/0/containerPort"),
                "got string, want integer",
            )],
        },
        Case {
            // kubeconform (santhosh-tekuri/jsonschema) takes an integral
            // float as an integer, whatever the draft.
            name: "integral float is an integer",
            options: Options::default(),
            doc: {
                let mut d = deployment(container.clone());
                d["spec"]["replicas"] = json!(2.0);
                d
            },
            verdict: Verdict::Valid,
            findings: &[],
        },
        Case {
            name: "fractional number is not an integer",
            options: Options::default(),
            doc: {
                let mut d = deployment(container.clone());
                d["spec"]["replicas"] = json!(2.5);
                d
            },
            verdict: Verdict::Invalid,
            findings: &[(
                rules::INVALID,
                Some("/spec/replicas"),
                "got number, want null or integer",
            )],
        },
        Case {
            name: "missing required",
            options: Options::default(),
            doc: deployment(json!({"image": "nginx"})),
            verdict: Verdict::Invalid,
            findings: &[(
                rules::INVALID,
                Some("/spec/template/spec/containers/0"),
                "missing property 'name'",
            )],
        },
        Case {
            name: "date-time format",
            options: Options::default(),
            doc: json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "c", "creationTimestamp": "yesterday"}}),
            verdict: Verdict::Invalid,
            findings: &[(
                rules::INVALID,
                Some("/metadata/creationTimestamp"),
                "'yesterday' is not valid date-time",
            )],
        },
        Case {
            name: "int-or-string accepts both",
            options: Options::default(),
            doc: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                        "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]}}),
            verdict: Verdict::Valid,
            findings: &[],
        },
        Case {
            name: "int-or-string rejects a boolean",
            options: Options::default(),
            doc: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                        "spec": {"ports": [{"port": 80, "targetPort": true}]}}),
            verdict: Verdict::Invalid,
            findings: &[(
                rules::INVALID,
                Some("/spec/ports/0/targetPort"),
                "got boolean, want null or integer or string",
            )],
        },
        Case {
            name: "missing kind",
            options: Options::default(),
            doc: json!({"apiVersion": "v1", "metadata": {"name": "x"}}),
            verdict: Verdict::Error,
            findings: &[(rules::MISSING_KIND, None, "missing 'kind' key")],
        },
        Case {
            name: "null kind",
            options: Options::default(),
            doc: json!({"kind": null, "key": "value"}),
            verdict: Verdict::Error,
            findings: &[(rules::MISSING_KIND, None, "missing 'kind' key")],
        },
        Case {
            name: "missing apiVersion",
            options: Options::default(),
            doc: json!({"kind": "Service", "metadata": {"name": "x"}}),
            verdict: Verdict::Error,
            findings: &[(rules::MISSING_API_VERSION, None, "missing 'apiVersion' key")],
        },
        Case {
            name: "not a mapping",
            options: Options::default(),
            doc: json!(["a", "b"]),
            verdict: Verdict::Error,
            findings: &[(rules::NOT_AN_OBJECT, None, "not a mapping")],
        },
        Case {
            name: "skip by kind",
            options: opts(|o| o.skip = vec!["Deployment".into()]),
            doc: deployment(json!({"bogus": 1})),
            verdict: Verdict::Skipped,
            findings: &[(rules::SKIPPED, None, "its kind is in skip")],
        },
        Case {
            name: "skip by apiVersion/kind",
            options: opts(|o| o.skip = vec!["apps/v1/Deployment".into()]),
            doc: deployment(json!({"bogus": 1})),
            verdict: Verdict::Skipped,
            findings: &[(rules::SKIPPED, None, "its kind is in skip")],
        },
        Case {
            name: "skip of another version does not apply",
            options: opts(|o| o.skip = vec!["apps/v2/Deployment".into()]),
            doc: deployment(container.clone()),
            verdict: Verdict::Valid,
            findings: &[],
        },
        Case {
            name: "reject",
            options: opts(|o| o.reject = vec!["Deployment".into()]),
            doc: deployment(container.clone()),
            verdict: Verdict::Error,
            findings: &[(
                rules::REJECTED_KIND,
                None,
                "prohibited resource kind Deployment",
            )],
        },
        Case {
            name: "missing schema warns by default",
            options: Options::default(),
            doc: widget(json!({"size": "small"})),
            verdict: Verdict::Skipped,
            findings: &[(
                rules::MISSING_SCHEMA,
                None,
                "could not find schema for Widget",
            )],
        },
        Case {
            name: "missing schema as error",
            options: opts(|o| o.missing_schemas = MissingSchemas::Error),
            doc: widget(json!({"size": "small"})),
            verdict: Verdict::Error,
            findings: &[(
                rules::MISSING_SCHEMA,
                None,
                "could not find schema for Widget",
            )],
        },
        Case {
            name: "missing schema skipped",
            options: opts(|o| o.missing_schemas = MissingSchemas::Skip),
            doc: widget(json!({"size": "small"})),
            verdict: Verdict::Skipped,
            findings: &[(rules::SKIPPED, None, "missing schemas are skipped")],
        },
        Case {
            name: "CRD: valid custom resource",
            options: opts(|o| o.crds = vec![crd()]),
            doc: widget(
                json!({"size": "small", "port": "http", "note": null, "every": "5m",
                               "extra": {"known": "k", "anything": [1, 2]}}),
            ),
            verdict: Verdict::Valid,
            findings: &[],
        },
        Case {
            name: "CRD: enum, required, unknown field, duration",
            options: opts(|o| o.crds = vec![crd()]),
            doc: widget(json!({"size": "medium", "colour": "red", "every": "often"})),
            verdict: Verdict::Invalid,
            findings: &[
                (
                    rules::INVALID,
                    Some("/spec"),
                    "additional properties 'colour' not allowed",
                ),
                (
                    rules::INVALID,
                    Some("/spec/every"),
                    "'often' is not valid duration: must start with P",
                ),
                (
                    rules::INVALID,
                    Some("/spec/size"),
                    "value must be one of 'small', 'large'",
                ),
            ],
        },
        Case {
            name: "CRD: metadata restrictions still apply",
            options: opts(|o| o.crds = vec![crd()]),
            doc: json!({"apiVersion": "example.com/v1", "kind": "Widget",
                        "metadata": {"name": "a-name-longer-than-twenty"}, "spec": {"size": "small"}}),
            verdict: Verdict::Invalid,
            findings: &[(
                rules::INVALID,
                Some("/metadata/name"),
                "maxLength: got 25, want 20",
            )],
        },
        Case {
            name: "CRD: required",
            options: opts(|o| o.crds = vec![crd()]),
            doc: widget(json!({})),
            verdict: Verdict::Invalid,
            findings: &[(rules::INVALID, Some("/spec"), "missing property 'size'")],
        },
        Case {
            name: "CRD: unknown field allowed when not strict",
            options: opts(|o| {
                o.crds = vec![crd()];
                o.strict = false;
            }),
            doc: widget(json!({"size": "small", "colour": "red"})),
            verdict: Verdict::Valid,
            findings: &[],
        },
        Case {
            name: "CRD: a version that is not served has no schema",
            options: opts(|o| {
                o.crds = vec![crd()];
                o.missing_schemas = MissingSchemas::Error;
            }),
            doc: json!({"apiVersion": "example.com/v0", "kind": "Widget", "metadata": {"name": "w"}}),
            verdict: Verdict::Error,
            findings: &[(
                rules::MISSING_SCHEMA,
                None,
                "could not find schema for Widget",
            )],
        },
        Case {
            name: "version 1.25 still has autoscaling/v2beta2",
            options: opts(|o| o.kubernetes_version = Some("1.25".into())),
            doc: json!({"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler",
                        "metadata": {"name": "h"},
                        "spec": {"maxReplicas": 3, "scaleTargetRef": {"kind": "Deployment", "name": "web"}}}),
            verdict: Verdict::Valid,
            findings: &[],
        },
        Case {
            name: "the newest version no longer has it",
            options: Options::default(),
            doc: json!({"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler",
                        "metadata": {"name": "h"}, "spec": {}}),
            verdict: Verdict::Skipped,
            findings: &[(
                rules::MISSING_SCHEMA,
                None,
                "could not find schema for HorizontalPodAutoscaler",
            )],
        },
    ];

    let mut failures = Vec::new();
    for case in cases {
        let mut validator = Validator::new(case.options).unwrap();
        let reports = validator.validate_resources(&case.doc);
        assert_eq!(reports.len(), 1, "{}", case.name);
        let report = &reports[0];
        let got: Vec<(&str, Option<&str>, &str)> = report
            .findings
            .iter()
            .map(|f| (f.rule.as_str(), f.path.as_deref(), f.message.as_str()))
            .collect();
        let matches = report.verdict == case.verdict
            && got.len() == case.findings.len()
            && got
                .iter()
                .zip(case.findings)
                .all(|(g, w)| g.0 == w.0 && g.1 == w.1 && g.2.contains(w.2));
        if !matches {
            failures.push(format!("{}: got {:?} {:?}", case.name, report.verdict, got));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn lists_are_validated_item_by_item() {
    let mut validator = Validator::new(Options::default()).unwrap();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}, "spec": {"finalizers": "x"}},
        {"kind": "Namespace"}
    ]});
    let reports = validator.validate_resources(&list);
    let verdicts: Vec<(Option<usize>, Verdict)> =
        reports.iter().map(|r| (r.item, r.verdict)).collect();
    assert_eq!(
        verdicts,
        vec![
            (Some(0), Verdict::Valid),
            (Some(1), Verdict::Invalid),
            (Some(2), Verdict::Error)
        ]
    );
    assert_eq!(
        reports[1].findings[0].path.as_deref(),
        Some("/items/1/spec/finalizers")
    );
    assert_eq!(reports[2].findings[0].path.as_deref(), Some("/items/2"));
    let empty = json!({"apiVersion": "v1", "kind": "List", "items": []});
    assert!(validator.validate_resources(&empty).is_empty());
    assert!(validator.validate_resources(&Value::Null).is_empty());
    let broken = json!({"apiVersion": "v1", "kind": "List", "items": "nope"});
    assert_eq!(
        validator.validate_resources(&broken)[0].verdict,
        Verdict::Error
    );
}

#[test]
fn crds_in_the_batch_validate_later_and_earlier_documents() {
    let mut validator = Validator::new(Options::default()).unwrap();
    let docs = vec![
        widget(json!({"size": "huge"})),
        crd(),
        widget(json!({"size": "small"})),
    ];
    let findings = validator.validate_batch(&docs);
    assert_eq!(findings[0].len(), 1);
    assert_eq!(findings[0][0].rule, rules::INVALID);
    assert!(findings[1].is_empty(), "{:?}", findings[1]);
    assert!(findings[2].is_empty(), "{:?}", findings[2]);

    let mut broken = crd();
    broken["spec"]["names"] = json!({});
    let reports = Validator::new(Options::default())
        .unwrap()
        .validate_batch_resources(&[broken]);
    assert_eq!(reports[0][0].verdict, Verdict::Error);
    let crd_finding = reports[0][0]
        .findings
        .iter()
        .find(|f| f.rule == rules::INVALID_CRD)
        .unwrap();
    assert!(crd_finding.message.contains("spec.names.kind"));
}

#[test]
fn schema_files_are_requested_and_used() {
    let options = opts(|o| {
        o.schema_locations = vec![
            "default".into(),
            "schemas/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json".into(),
        ];
        o.missing_schemas = MissingSchemas::Error;
    });
    let mut validator = Validator::new(options).unwrap();
    let doc = widget(json!({"size": 3}));
    assert_eq!(
        validator.schema_requests(&doc),
        vec!["schemas/example.com/widget_v1.json".to_owned()]
    );
    // Built-in kinds are found in `default` first: nothing to read.
    assert!(validator.schema_requests(&deployment(json!({}))).is_empty());
    assert_eq!(
        validator.validate_resources(&doc)[0].verdict,
        Verdict::Error
    );

    // Not JSON: passed over, as kubeconform does, and said so.
    validator.add_schema_file("schemas/example.com/widget_v1.json", b"<html>");
    let report = &validator.validate_resources(&doc)[0];
    assert_eq!(report.verdict, Verdict::Error);
    assert!(
        report.findings[0].message.contains("is not JSON"),
        "{:?}",
        report.findings
    );

    let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"size": {"type": "string"}}}}});
    validator.add_schema_file(
        "schemas/example.com/widget_v1.json",
        schema.to_string().as_bytes(),
    );
    let report = &validator.validate_resources(&doc)[0];
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(report.findings[0].path.as_deref(), Some("/spec/size"));
    assert!(validator.schema_requests(&doc).is_empty());

    // A kind defined by a CRD in the batch needs no file.
    let mut validator = Validator::new(opts(|o| {
        o.schema_locations = vec!["schemas/{{ .ResourceKind }}.json".into()];
    }))
    .unwrap();
    let other =
        json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}});
    assert_eq!(
        validator.schema_requests_batch(&[widget(json!({})), crd(), other.clone(), other]),
        vec![
            // Without `default`, even the CRD's own schema is a file.
            "schemas/customresourcedefinition.json".to_owned(),
            "schemas/gadget.json".to_owned()
        ]
    );
}

#[test]
fn locations_expand_like_kubeconform() {
    // (location, apiVersion, kind, kubernetes_version, strict, expected path)
    type Row<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        bool,
        Option<&'a str>,
    );
    let cases: &[Row] = &[
        ("default", "v1", "Service", None, true, None),
        (
            "https://host/k8s",
            "v1",
            "Service",
            None,
            true,
            Some("https://host/k8s/master-standalone-strict/service-v1.json"),
        ),
        (
            "dir",
            "apps/v1",
            "Deployment",
            Some("1.20.0"),
            false,
            Some("dir/v1.20.0-standalone/deployment-apps-v1.json"),
        ),
        (
            "reg/{{ .ResourceKind }}{{ .KindSuffix }}.json",
            "sagemaker.aws.amazon.com/v1",
            "TrainingJob",
            None,
            false,
            Some("reg/trainingjob-sagemaker-v1.json"),
        ),
    ];
    for (location, api_version, kind, version, strict, expected) in cases {
        let got = expand_schema_location(location, api_version, kind, *version, *strict).unwrap();
        assert_eq!(got.as_deref(), *expected, "{location}");
    }
}

#[test]
fn options_from_json() {
    let options = Options::from_json(&json!({
        "kubernetes_version": "1.30",
        "strict": false,
        "skip": ["Secret"],
        "missing_schemas": "error",
        "schema_files": {"a.json": "{}"}
    }))
    .unwrap();
    assert!(!options.strict);
    assert_eq!(options.missing_schemas, MissingSchemas::Error);
    assert_eq!(options.schema_files["a.json"], b"{}");
    let validator = Validator::new(options).unwrap();
    assert_eq!(validator.kubernetes_version(), "1.30");
    assert!(Options::from_json(&Value::Null).unwrap().strict);

    let bad: &[(Value, &str)] = &[
        (json!({"strikt": true}), "strikt"),
        (json!({"missing_schemas": "ignore"}), "ignore"),
    ];
    for (config, needle) in bad {
        let err = Options::from_json(config).unwrap_err();
        assert!(matches!(err, Error::InvalidOptions { .. }));
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn bad_options_are_errors_that_say_what_to_do() {
    let cases: Vec<(Options, &str)> = vec![
        (
            opts(|o| o.kubernetes_version = Some("one".into())),
            "write it as",
        ),
        (
            opts(|o| o.schema_locations = vec!["x/{{ .Kind }}.json".into()]),
            "unknown template action",
        ),
        (opts(|o| o.skip = vec!["".into()]), "write a kind"),
        (opts(|o| o.reject = vec!["apps/v1/".into()]), "write a kind"),
        (
            opts(|o| o.crds = vec![json!({"kind": "ConfigMap"})]),
            "CustomResourceDefinition",
        ),
        (
            opts(|o| {
                let mut c = crd();
                c["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = json!({"type": "object",
                    "properties": {"a": {"type": "string", "pattern": "(unclosed"}}});
                o.crds = vec![c];
            }),
            "not a valid JSON schema",
        ),
    ];
    for (options, needle) in cases {
        let err = Validator::new(options).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn severities_follow_the_verdict() {
    let mut validator = Validator::new(opts(|o| o.missing_schemas = MissingSchemas::Warn)).unwrap();
    let findings = validator.validate(&widget(json!({})));
    assert_eq!(findings[0].severity, Severity::Warning);
    let findings = validator.validate(&deployment(json!({"bogus": true})));
    assert!(findings.iter().all(|f| f.severity == Severity::Error));
}

#[test]
fn common_kinds_validate_in_every_shipped_version() {
    let docs = [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "prod"},
               "data": {"k": "v"}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque",
               "stringData": {"k": "v"}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
               "spec": {"rules": [{"host": "example.test", "http": {"paths": [{"path": "/", "pathType": "Prefix",
               "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cj"},
               "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
               "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}}}),
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
               "spec": {"maxReplicas": 5, "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
               "metrics": [{"type": "Resource", "resource": {"name": "cpu",
               "target": {"type": "Utilization", "averageUtilization": 80}}}]}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"},
               "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
               "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}}}),
        crd(),
    ];
    for version in manifold_plugin_schema::shipped_versions() {
        let mut validator = Validator::new(opts(|o| {
            o.kubernetes_version = Some(version.clone());
            o.missing_schemas = MissingSchemas::Error;
        }))
        .unwrap();
        assert_eq!(validator.kubernetes_version(), version);
        for doc in &docs {
            let reports = validator.validate_resources(doc);
            assert_eq!(
                reports[0].verdict,
                Verdict::Valid,
                "{version} {}: {:?}",
                doc["kind"],
                reports[0].findings
            );
        }
    }
}
