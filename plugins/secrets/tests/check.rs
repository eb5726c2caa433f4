//! Table-driven tests of the secrets checker's public API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use manifold_plugin_secrets::{AllowEntry, Checker, Error, Options, Severity, rules};
use serde_json::{Value, json};

const GITHUB: &str = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
const AWS: &str = "AKIAIOSFODNN7EXAMPLE";

fn secret(extra: Value) -> Value {
    let mut doc = json!({"apiVersion": "v1", "kind": "Secret",
                         "metadata": {"name": "db", "namespace": "prod"}, "type": "Opaque"});
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        doc.extend(extra.clone());
    }
    doc
}

fn deployment_with_env(env: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "prod"},
           "spec": {"template": {"spec": {"containers": [
               {"name": "web", "image": "nginx", "env": env}]}}}})
}

fn allow(kind: Option<&str>, namespace: Option<&str>, name: Option<&str>) -> AllowEntry {
    AllowEntry {
        kind: kind.map(str::to_owned),
        namespace: namespace.map(str::to_owned),
        name: name.map(str::to_owned),
    }
}

#[test]
fn check_table() {
    // (case, options, document, expected (rule, severity, path) in order)
    type Expected = &'static [(&'static str, Severity, &'static str)];
    let cases: Vec<(&str, Options, Value, Expected)> = vec![
        (
            "secret with data",
            Options::default(),
            secret(json!({"data": {"password": "aHVudGVyMg=="}})),
            &[(rules::PLAINTEXT, Severity::Error, "/data")],
        ),
        (
            "secret with data and stringData",
            Options::default(),
            secret(json!({"data": {"a": "YQ=="}, "stringData": {"b": "b"}})),
            &[
                (rules::PLAINTEXT, Severity::Error, "/data"),
                (rules::PLAINTEXT, Severity::Error, "/stringData"),
            ],
        ),
        (
            "secret with empty data",
            Options::default(),
            secret(json!({"data": {}, "stringData": null})),
            &[],
        ),
        (
            "secret without data (filled by a controller)",
            Options::default(),
            secret(json!({"type": "kubernetes.io/service-account-token"})),
            &[],
        ),
        (
            "allow-listed by namespace and name",
            Options {
                allow: vec![allow(None, Some("prod"), Some("db"))],
                ..Options::default()
            },
            secret(json!({"data": {"a": "YQ=="}})),
            &[],
        ),
        (
            "allow-list by name glob",
            Options {
                allow: vec![allow(Some("Secret"), None, Some("d*"))],
                ..Options::default()
            },
            secret(json!({"data": {"a": "YQ=="}})),
            &[],
        ),
        (
            "allow-list for another namespace does not apply",
            Options {
                allow: vec![allow(None, Some("dev"), Some("db"))],
                ..Options::default()
            },
            secret(json!({"data": {"a": "YQ=="}})),
            &[(rules::PLAINTEXT, Severity::Error, "/data")],
        ),
        (
            "SOPS-encrypted secret",
            Options::default(),
            secret(
                json!({"data": {"password": "ENC[AES256_GCM,data:abc,type:str]"},
                          "sops": {"mac": "ENC[AES256_GCM,data:xyz]", "version": "3.8.1"}}),
            ),
            &[],
        ),
        (
            "a sops key without mac is not encryption",
            Options::default(),
            secret(json!({"data": {"a": "YQ=="}, "sops": {"version": "3"}})),
            &[(rules::PLAINTEXT, Severity::Error, "/data")],
        ),
        (
            "SealedSecret",
            Options::default(),
            json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
                   "metadata": {"name": "db"}, "spec": {"encryptedData": {"password": "AgBy3i4OJSWK+PiTySYZZA=="}}}),
            &[],
        ),
        (
            "ExternalSecret",
            Options::default(),
            json!({"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret",
                   "metadata": {"name": "db"}, "spec": {"data": [{"secretKey": "password",
                   "remoteRef": {"key": "prod/db"}}]}}),
            &[],
        ),
        (
            "ConfigMap with a GitHub token",
            Options::default(),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ci"},
                   "data": {"plain": "hello", "GITHUB/TOKEN": GITHUB}}),
            &[(
                rules::CREDENTIAL_SHAPE,
                Severity::Warning,
                "/data/GITHUB~1TOKEN",
            )],
        ),
        (
            "ConfigMap with a PEM key",
            Options::default(),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tls"},
                   "data": {"key.pem": "-----BEGIN EC PRIVATE KEY-----\nMHc...\n-----END EC PRIVATE KEY-----\n",
                            "cert.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}}),
            &[(rules::CREDENTIAL_SHAPE, Severity::Warning, "/data/key.pem")],
        ),
        (
            "env value with an AWS key and a Slack token",
            Options::default(),
            deployment_with_env(json!([
                {"name": "MODE", "value": "prod"},
                {"name": "AWS_ACCESS_KEY_ID", "value": AWS},
                {"name": "SLACK", "value": "xoxb-123456789012-abcdefABCDEF"},
                {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
            ])),
            &[
                (
                    rules::CREDENTIAL_SHAPE,
                    Severity::Warning,
                    "/spec/template/spec/containers/0/env/1/value",
                ),
                (
                    rules::CREDENTIAL_SHAPE,
                    Severity::Warning,
                    "/spec/template/spec/containers/0/env/2/value",
                ),
            ],
        ),
        (
            "credential shapes can be turned off",
            Options {
                credential_shapes: false,
                ..Options::default()
            },
            deployment_with_env(json!([{"name": "AWS_ACCESS_KEY_ID", "value": AWS}])),
            &[],
        ),
        (
            "List items are checked with their paths",
            Options::default(),
            json!({"apiVersion": "v1", "kind": "List", "items": [
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok"}, "data": {"a": "b"}},
                secret(json!({"stringData": {"a": "b"}}))
            ]}),
            &[(rules::PLAINTEXT, Severity::Error, "/items/1/stringData")],
        ),
        ("not a mapping", Options::default(), json!("text"), &[]),
        ("empty document", Options::default(), Value::Null, &[]),
    ];
    let mut failures = Vec::new();
    for (name, options, doc, expected) in cases {
        let findings = Checker::new(options).unwrap().check(&doc);
        let got: Vec<(&str, Severity, &str)> = findings
            .iter()
            .map(|f| (f.rule.as_str(), f.severity, f.path.as_deref().unwrap_or("")))
            .collect();
        if got != expected {
            failures.push(format!("{name}: got {got:?}"));
        }
        for f in &findings {
            if f.message.contains(GITHUB)
                || f.message.contains(AWS)
                || f.message.contains("aHVudGVyMg")
            {
                failures.push(format!("{name}: message leaks the secret: {}", f.message));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn messages_say_what_to_do() {
    let checker = Checker::new(Options::default()).unwrap();
    let findings = checker.check(&secret(json!({"data": {"a": "YQ==", "b": "Yg=="}})));
    let message = &findings[0].message;
    assert!(
        message.contains("Secret prod/db has 2 plaintext values in data"),
        "{message}"
    );
    assert!(message.contains("SealedSecret"), "{message}");
    let findings = checker.check(&deployment_with_env(
        json!([{"name": "T", "value": GITHUB}]),
    ));
    assert!(
        findings[0]
            .message
            .contains("env variable T looks like a GitHub token")
    );
}

#[test]
fn options_table() {
    let options = Options::from_json(&json!({
        "allow": [{"namespace": "kube-system"}],
        "credentialShapes": false
    }))
    .unwrap();
    assert_eq!(options.allow, vec![allow(None, Some("kube-system"), None)]);
    assert!(!options.credential_shapes);
    assert_eq!(
        Options::from_json(&Value::Null).unwrap(),
        Options::default()
    );

    for (config, needle) in [
        (json!({"allowlist": []}), "allowlist"),
        (json!({"allow": [{"nmae": "x"}]}), "nmae"),
        (json!({"credentialShapes": "yes"}), "invalid type"),
    ] {
        let err = Options::from_json(&config).unwrap_err();
        assert!(matches!(err, Error::InvalidOptions { .. }));
        assert!(err.to_string().contains(needle), "{err}");
    }
    let err = Checker::new(Options {
        allow: vec![allow(None, None, None)],
        ..Options::default()
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("would allow every document"),
        "{err}"
    );
}
