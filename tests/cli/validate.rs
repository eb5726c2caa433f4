//! `manifold validate`: findings, both report formats, exit codes,
//! configuration.

use crate::support::{DEPLOYMENT, Scratch};

#[test]
fn missing_required_label_fails_with_file_and_rule() {
    let scratch = Scratch::new().file("apps/web/deploy.yaml", DEPLOYMENT);
    scratch
        .run(&["validate", "apps", "--require-label", "team"])
        .code(1)
        .stdout_has("error[labels/required]: missing required label \"team\"")
        .stdout_has("--> apps/web/deploy.yaml:6 (Deployment prod/web, /metadata/labels)")
        .stdout_has("checked 1 file and 1 document: 1 error, 0 warnings");

    let json = scratch
        .run(&[
            "validate",
            "apps",
            "--require-label",
            "team",
            "--format",
            "json",
        ])
        .code(1)
        .json();
    assert_eq!(json["version"], 1);
    let d = &json["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["rule"], "labels/required");
    assert_eq!(d["plugin"], "labels");
    assert_eq!(d["file"], "apps/web/deploy.yaml");
    assert_eq!(d["document"], 0);
    assert_eq!(d["line"], 6);
    assert_eq!(d["path"], "/metadata/labels");
    assert_eq!(d["resource"]["kind"], "Deployment");
    assert_eq!(d["resource"]["namespace"], "prod");
    assert_eq!(d["resource"]["name"], "web");
    assert_eq!(
        json["summary"],
        serde_json::json!({"files": 1, "documents": 1, "errors": 1, "warnings": 0})
    );
}

#[test]
fn satisfied_requirements_exit_zero() {
    Scratch::new()
        .file("deploy.yaml", DEPLOYMENT)
        .run(&["validate", "deploy.yaml", "--require-label", "app=web|api"])
        .code(0)
        .stdout_has("0 errors");
}

#[test]
fn value_pattern_is_checked() {
    Scratch::new()
        .file("deploy.yaml", DEPLOYMENT)
        .run(&["validate", "deploy.yaml", "--require-label", "app=api"])
        .code(1)
        .stdout_has("labels/value")
        .stdout_has("deploy.yaml:7");
}

#[test]
fn rules_come_from_manifold_yaml_at_the_repository_root() {
    let scratch = Scratch::new()
        .file("manifold.yaml", "version: 1\nvalidators:\n  labels:\n    require:\n      - key: team\n        kinds: [Deployment]\n")
        .file("apps/deploy.yaml", DEPLOYMENT)
        .file("apps/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
    let json = scratch
        .run(&["validate", "apps", "--format", "json"])
        .code(1)
        .json();
    let rules: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["apps/deploy.yaml"]);
}

#[test]
fn bad_configuration_names_key_and_line() {
    Scratch::new()
        .file(
            "manifold.yaml",
            "validators:\n  labels:\n    require:\n      - key: team\n        pattrn: x\n",
        )
        .file("deploy.yaml", DEPLOYMENT)
        .run(&["validate", "deploy.yaml"])
        .code(2)
        .stderr_has("manifold.yaml:4: validators.labels.require[0]:")
        .stderr_has("pattrn");
    Scratch::new()
        .file("manifold.yaml", "validators:\n  nosuch: {}\n")
        .file("deploy.yaml", DEPLOYMENT)
        .run(&["validate", "deploy.yaml"])
        .code(2)
        .stderr_has(
            "manifold.yaml:2: validators.nosuch: there is no validator plugin named `nosuch`",
        );
    Scratch::new()
        .file("deploy.yaml", DEPLOYMENT)
        .run(&["validate", "deploy.yaml", "--require-label", "team=("])
        .code(2)
        .stderr_has(
            "--require-label: validators.labels.require[0].pattern: \"(\" is not a \"regex\"",
        );
}

#[test]
fn disabled_validator_does_not_run() {
    Scratch::new()
        .file("manifold.yaml", "validators:\n  labels: false\n")
        .file(
            "deploy.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    bad key: x\n",
        )
        .run(&["validate", "deploy.yaml"])
        .code(0);
}

#[test]
fn malformed_labels_are_found_without_configuration() {
    Scratch::new()
        .file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    bad key: x\n    version: 1.0\n")
        .run(&["validate", "cm.yaml"])
        .code(1)
        .stdout_has("labels/invalid-key")
        .stdout_has("cm.yaml:6")
        .stdout_has("labels/invalid-value")
        .stdout_has("cm.yaml:7");
}

#[test]
fn usage_errors_exit_two() {
    Scratch::new().run(&["validate"]).code(2);
    Scratch::new()
        .run(&["validate", "x.yaml", "--format", "xml"])
        .code(2);
    Scratch::new().run(&["frobnicate"]).code(2);
    Scratch::new()
        .file("d.yaml", DEPLOYMENT)
        .run(&["validate", "d.yaml", "--jobs", "0"])
        .code(2);
}
