//! `manifold validate --format junit|sarif|github` and `--fail-on`: the
//! file and line of a finding reach each CI format, and the exit code
//! follows the chosen threshold.

// In tests a panic is a failing test, which is what unwrapping means there.
#![allow(clippy::unwrap_used)]

use crate::support::{DEPLOYMENT, Scratch};

const MISSING_TEAM: [&str; 4] = ["validate", "apps", "--require-label", "team"];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    MISSING_TEAM.iter().chain(extra).copied().collect()
}

/// A repository whose only finding is a warning (a missing annotation).
fn warning_only() -> Scratch {
    Scratch::new()
        .file(
            "manifold.yaml",
            "validators:\n  labels:\n    requireAnnotations:\n      - key: owner\n        severity: warning\n",
        )
        .file("apps/web/deploy.yaml", DEPLOYMENT)
}

#[test]
fn junit_has_a_failing_case_for_the_object() {
    let scratch = Scratch::new()
        .file("apps/web/deploy.yaml", DEPLOYMENT)
        .file(
            "apps/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    team: a\n",
        );
    let out = scratch.run(&with(&["--format", "junit"]));
    out.code(1)
        .stdout_has("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"manifold\" tests=\"2\" failures=\"1\" errors=\"0\"")
        .stdout_has("<testsuite name=\"apps/cm.yaml\" tests=\"1\" failures=\"0\" errors=\"0\"")
        .stdout_has("<testcase name=\"ConfigMap c\" classname=\"apps/cm.yaml\" file=\"apps/cm.yaml\" line=\"1\" time=\"0\"/>")
        .stdout_has("<testsuite name=\"apps/web/deploy.yaml\" tests=\"1\" failures=\"1\" errors=\"0\"")
        .stdout_has("<testcase name=\"Deployment prod/web\" classname=\"apps/web/deploy.yaml\" file=\"apps/web/deploy.yaml\" line=\"1\" time=\"0\">")
        .stdout_has("<failure message=\"missing required label &quot;team&quot;\" type=\"labels/required\">error[labels/required]: missing required label &quot;team&quot;\n  --&gt; apps/web/deploy.yaml:6 (Deployment prod/web, /metadata/labels)");
    // Suites follow the report's file order.
    let cm = out.stdout.find("apps/cm.yaml").unwrap();
    let web = out.stdout.find("apps/web/deploy.yaml").unwrap();
    assert!(cm < web);
}

#[test]
fn sarif_places_the_finding_on_its_line() {
    let scratch = Scratch::new().file("apps/web/deploy.yaml", DEPLOYMENT);
    let sarif = scratch.run(&with(&["--format", "sarif"])).code(1).json();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "manifold");
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "labels/required");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["ruleId"], "labels/required");
    assert_eq!(r["ruleIndex"], 0);
    assert_eq!(r["level"], "error");
    let physical = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"],
        serde_json::json!({"uri": "apps/web/deploy.yaml", "uriBaseId": "%SRCROOT%"})
    );
    assert_eq!(physical["region"]["startLine"], 6);
}

#[test]
fn github_annotates_file_and_line() {
    let scratch = Scratch::new().file("apps/web/deploy.yaml", DEPLOYMENT);
    let out = scratch.run(&with(&["--format", "github"]));
    out.code(1);
    assert_eq!(
        out.stdout,
        "::error file=apps/web/deploy.yaml,line=6,title=labels/required::missing required label \"team\" (Deployment prod/web, /metadata/labels)\n\
         manifold: checked 1 file and 1 document: 1 error, 0 warnings\n"
    );
}

#[test]
fn fail_on_warning_turns_a_warning_into_exit_1() {
    let scratch = warning_only();
    scratch
        .run(&["validate", "apps", "--format", "github"])
        .code(0)
        .stdout_has(
            "::warning file=apps/web/deploy.yaml,line=3,title=labels/annotation-required::",
        );
    scratch
        .run(&["validate", "apps", "--fail-on", "warning"])
        .code(1)
        .stdout_has("warning[labels/annotation-required]");
    scratch
        .run(&["validate", "apps", "--fail-on", "error"])
        .code(0);
    // In JUnit the threshold decides what a failure is.
    scratch
        .run(&["validate", "apps", "--format", "junit"])
        .code(0)
        .stdout_has("failures=\"0\"")
        .stdout_has("<system-out>warning[labels/annotation-required]");
    scratch
        .run(&[
            "validate",
            "apps",
            "--format",
            "junit",
            "--fail-on",
            "warning",
        ])
        .code(1)
        .stdout_has("<failure message=\"missing required annotation");
}

#[test]
fn fail_on_is_checked_and_documented() {
    Scratch::new()
        .file("d.yaml", DEPLOYMENT)
        .run(&["validate", "d.yaml", "--fail-on", "info"])
        .code(2)
        .stderr_has("--fail-on");
    Scratch::new()
        .run(&["validate", "--help"])
        .code(0)
        .stdout_has("--fail-on <SEVERITY>")
        .stdout_has("junit")
        .stdout_has("sarif")
        .stdout_has("Exit codes: 0 no finding at the --fail-on severity or worse");
}

#[test]
fn missing_path_still_exits_2_whatever_the_format() {
    let scratch = Scratch::new().file("apps/web/deploy.yaml", DEPLOYMENT);
    for format in ["junit", "sarif", "github"] {
        scratch
            .run(&[
                "validate",
                "apps",
                "nosuch",
                "--format",
                format,
                "--fail-on",
                "warning",
            ])
            .code(2)
            .stderr_has("nosuch: no such file or folder");
    }
}
