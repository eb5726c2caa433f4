//! `policy/`: Gatekeeper library templates with gator's expected violation
//! counts, through `manifold validate`. Each expectation is one run:
//! `manifold validate OBJECT --policy TEMPLATE --policy CONSTRAINT
//! [--data INVENTORY]... --format json`, counting the `policy` plugin's
//! findings (those whose message holds `message_contains`, when given). An
//! evaluation error fails the expectation.

use std::path::Path;

use serde_json::Value;

use crate::support::{self, Case, Results, Tally};

/// `violations`: `N` exactly, or `">=N"` at least.
fn count_ok(expected: &Value, actual: usize) -> Result<bool, String> {
    let text = match expected {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => return Err(format!("bad violations {other}")),
    };
    let (at_least, number) = match text.trim().strip_prefix(">=") {
        Some(rest) => (true, rest.trim()),
        None => (false, text.trim()),
    };
    let n: usize = number
        .parse()
        .map_err(|e| format!("bad violations {text:?}: {e}"))?;
    Ok(if at_least { actual >= n } else { actual == n })
}

/// One expectation of a case: `Err` says why it failed.
fn run_expect(case: &Case, expect: &Value) -> Result<(), String> {
    let args = case.args();
    let mut argv: Vec<String> = vec!["validate".into()];
    argv.push(
        expect
            .get("object")
            .and_then(Value::as_str)
            .ok_or("an expectation without `object`")?
            .to_owned(),
    );
    for key in ["template", "constraint"] {
        for path in support::strings(args.get(key)) {
            argv.extend(["--policy".into(), path]);
        }
    }
    let inventory = match expect.get("inventory") {
        Some(list) => support::strings(Some(list)),
        None => support::strings(args.get("inventory")),
    };
    for path in inventory {
        argv.extend(["--data".into(), path]);
    }
    argv.extend(["--format".into(), "json".into()]);
    let output = support::manifold(&case.dir.join("input"), &argv);
    let report: Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    let diagnostics = report["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut messages = Vec::new();
    for d in diagnostics.iter().filter(|d| d["plugin"] == "policy") {
        let rule = d["rule"].as_str().unwrap_or("");
        let message = d["message"].as_str().unwrap_or("");
        // gator's message is the template's; manifold names the constraint
        // after it.
        let message = match message.rsplit_once(" (constraint ") {
            Some((text, _)) if message.ends_with(')') => text.to_owned(),
            _ => message.to_owned(),
        };
        if rule == "manifold/plugin-failed" || rule == "policy/evaluation" {
            return Err(format!("{rule}: {message}"));
        }
        messages.push(message);
    }
    let needle = expect.get("message_contains").and_then(Value::as_str);
    let count = messages
        .iter()
        .filter(|m| needle.is_none_or(|n| m.contains(n)))
        .count();
    let expected = expect.get("violations").cloned().unwrap_or(Value::Null);
    if count_ok(&expected, count)? {
        Ok(())
    } else {
        Err(format!(
            "expected {expected} violations{}, got {count}: {messages:?}",
            needle
                .map(|n| format!(" containing {n:?}"))
                .unwrap_or_default()
        ))
    }
}

/// Runs every case; figures `policy` (cases whose every expectation holds)
/// and `policy/assertions` (expectations).
pub fn run(data: &Path) -> Results {
    let cases = support::cases(&data.join("policy"), "validate");
    let work: Vec<(usize, Value)> = cases
        .iter()
        .enumerate()
        .flat_map(|(i, case)| {
            case.spec
                .get("expect")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |e| (i, e))
        })
        .collect();
    let outcomes = support::parallel_map(&work, |(i, expect)| run_expect(&cases[*i], expect));

    let mut results = Results::default();
    let mut by_case = Tally::default();
    let mut assertions = Tally::default();
    let mut features: std::collections::BTreeMap<String, Tally> = Default::default();
    for (i, case) in cases.iter().enumerate() {
        let mine: Vec<(&Value, &Result<(), String>)> = work
            .iter()
            .zip(&outcomes)
            .filter(|((c, _), _)| *c == i)
            .map(|((_, e), o)| (e, o))
            .collect();
        let ok = !mine.is_empty() && mine.iter().all(|(_, o)| o.is_ok());
        by_case.add(ok);
        for feature in case.features() {
            features.entry(feature).or_default().add(ok);
        }
        for (expect, outcome) in mine {
            assertions.add(outcome.is_ok());
            if let Err(why) = outcome {
                let label = expect.get("name").and_then(Value::as_str).unwrap_or("?");
                let short: String = why.chars().take(400).collect();
                results
                    .failures
                    .push(format!("policy {} {label}: {short}", case.name));
            }
        }
    }
    results.figures.insert("policy".into(), by_case);
    results
        .figures
        .insert("policy/assertions".into(), assertions);
    for (feature, tally) in features {
        results.details.push((format!("policy/{feature}"), tally));
    }
    results
}
