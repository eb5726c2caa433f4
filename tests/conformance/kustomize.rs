//! kustomize's build tests through `manifold render`: each case's target is
//! rendered with the flags its `args` name and compared with `expected.yaml`;
//! cases that expect an error must fail.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::{self, Case, Results, Tally};

/// kustomize's tests stamp `kustomize-(test)` where a release writes its version.
const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

pub fn run(data: &Path) -> Results {
    let cases = support::cases(&data.join("kustomize"), "render");
    let outcomes = support::parallel_map(&cases, run_case);
    let mut results = Results::default();
    let mut overall = Tally::default();
    let mut loose = Tally::default();
    let mut by_expectation: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut by_feature: BTreeMap<String, Tally> = BTreeMap::new();
    for (case, outcome) in cases.iter().zip(&outcomes) {
        overall.add(outcome.passed);
        loose.add(outcome.loosely);
        let expectation = if case.expects_error() { "error" } else { "ok" };
        by_expectation
            .entry(expectation)
            .or_default()
            .add(outcome.passed);
        for feature in case.features() {
            by_feature.entry(feature).or_default().add(outcome.passed);
        }
        if !outcome.passed {
            results
                .failures
                .push(format!("kustomize/{}: {}", case.name, outcome.detail));
        }
    }
    results.figures.insert("kustomize".into(), overall);
    for (expectation, tally) in by_expectation {
        results
            .figures
            .insert(format!("kustomize/{expectation}"), tally);
    }
    results
        .details
        .push(("ignoring document order".into(), loose));
    for (feature, tally) in by_feature {
        results.details.push((format!("feature {feature}"), tally));
    }
    results
}

struct Outcome {
    passed: bool,
    loosely: bool,
    detail: String,
}

fn run_case(case: &Case) -> Outcome {
    let args = case.args();
    let flag = |key: &str| args.get(key).and_then(Value::as_bool) == Some(true);
    let mut command = vec![
        "render".to_owned(),
        case.str("target").unwrap_or(".").to_owned(),
        "--reorder".to_owned(),
        args.get("reorder")
            .and_then(Value::as_str)
            .unwrap_or("none")
            .to_owned(),
    ];
    if let Some(restrictor) = args.get("load_restrictor").and_then(Value::as_str) {
        command.extend(["--load-restrictor".to_owned(), restrictor.to_owned()]);
    }
    if flag("enable_helm") {
        command.push("--enable-helm".to_owned());
    }
    if flag("enable_managedby_label") {
        command.push("--enable-managedby-label".to_owned());
    }
    let out = support::manifold(&case.dir.join("input"), &command);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let fail = |detail: String| Outcome {
        passed: false,
        loosely: false,
        detail,
    };
    if case.expects_error() {
        return if out.status.success() {
            fail(format!(
                "rendered, but kustomize fails: {}",
                case.str("error_contains").unwrap_or("")
            ))
        } else {
            Outcome {
                passed: true,
                loosely: true,
                detail: String::new(),
            }
        };
    }
    if !out.status.success() {
        return fail(format!("failed: {}", stderr.trim()));
    }
    let comparison = support::compare_output(case, &out.stdout, without_version);
    Outcome {
        passed: comparison.ordered,
        loosely: comparison.unordered,
        detail: comparison.detail,
    }
}

/// The managed-by label names the kustomize build; the version part is not behaviour.
fn without_version(mut doc: Value) -> Value {
    if let Some(Value::String(value)) = doc
        .pointer_mut("/metadata/labels")
        .and_then(|labels| labels.get_mut(MANAGED_BY))
        && value.starts_with("kustomize-")
    {
        *value = "kustomize-<version>".to_owned();
    }
    doc
}
