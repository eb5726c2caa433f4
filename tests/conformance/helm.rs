//! `helm template` golden outputs through `manifold render`: each case's
//! chart is rendered with the flags its `args` name and compared with
//! `expected.yaml`; cases that expect an error must fail, and the figure
//! `helm/error-text` counts those whose message holds Helm's.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::{self, Case, Results, Tally};

pub fn run(data: &Path) -> Results {
    let cases = support::cases(&data.join("helm"), "render");
    let outcomes = support::parallel_map(&cases, run_case);
    let mut results = Results::default();
    let mut ordered = Tally::default();
    let mut unordered = Tally::default();
    let mut error_text = Tally::default();
    let mut by_feature: BTreeMap<String, Tally> = BTreeMap::new();
    for (case, outcome) in cases.iter().zip(&outcomes) {
        ordered.add(outcome.passed);
        unordered.add(outcome.loosely);
        if let Some(matched) = outcome.error_text {
            error_text.add(matched);
        }
        for feature in case.features() {
            by_feature.entry(feature).or_default().add(outcome.passed);
        }
        if !outcome.passed || outcome.error_text == Some(false) {
            results
                .failures
                .push(format!("helm/{}: {}", case.name, outcome.detail));
        }
    }
    results.figures.insert("helm/golden".into(), ordered);
    results.figures.insert("helm/error-text".into(), error_text);
    results
        .details
        .push(("ignoring document order".into(), unordered));
    for (feature, tally) in by_feature {
        results.details.push((format!("feature {feature}"), tally));
    }
    results
}

struct Outcome {
    passed: bool,
    loosely: bool,
    /// For error cases: whether the message holds Helm's (`error_contains`).
    error_text: Option<bool>,
    detail: String,
}

fn run_case(case: &Case) -> Outcome {
    let args = case.args();
    let text = |key: &str| {
        args.get(key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    let mut command = vec![
        "render".to_owned(),
        case.str("target").unwrap_or(".").to_owned(),
    ];
    for (key, flag) in [
        ("release", "--release"),
        ("namespace", "--namespace"),
        ("kube_version", "--kube-version"),
        ("name_template", "--name-template"),
    ] {
        if let Some(value) = text(key) {
            command.extend([flag.to_owned(), value]);
        }
    }
    for (key, flag) in [
        ("values", "--values"),
        ("set", "--set"),
        ("set_string", "--set-string"),
        ("set_json", "--set-json"),
        ("set_file", "--set-file"),
        ("set_literal", "--set-literal"),
        ("api_versions", "--api-versions"),
        ("show_only", "--show-only"),
    ] {
        for value in support::strings(args.get(key)) {
            command.extend([flag.to_owned(), value]);
        }
    }
    for (key, flag) in [
        ("include_crds", "--include-crds"),
        ("skip_tests", "--skip-tests"),
        ("no_hooks", "--no-hooks"),
        ("is_upgrade", "--is-upgrade"),
        ("skip_schema_validation", "--skip-schema-validation"),
    ] {
        if args.get(key).and_then(Value::as_bool) == Some(true) {
            command.push(flag.to_owned());
        }
    }
    let out = support::manifold(&case.dir.join("input"), &command);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let fail = |detail: String| Outcome {
        passed: false,
        loosely: false,
        error_text: None,
        detail,
    };
    if case.expects_error() {
        if out.status.success() {
            return Outcome {
                error_text: Some(false),
                ..fail("rendered, but Helm fails".to_owned())
            };
        }
        let wanted = case.str("error_contains").unwrap_or("");
        let matched = stderr.contains(wanted);
        return Outcome {
            passed: true,
            loosely: true,
            error_text: Some(matched),
            detail: format!("error {:?} lacks Helm's {wanted:?}", stderr.trim()),
        };
    }
    if !out.status.success() {
        return fail(format!("failed: {}", stderr.trim()));
    }
    let comparison = support::compare_output(case, &out.stdout, |doc| doc);
    Outcome {
        passed: comparison.ordered,
        loosely: comparison.unordered,
        error_text: None,
        detail: comparison.detail,
    }
}
