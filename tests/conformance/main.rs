//! The conformance harness: runs the reference tools' own cases (see
//! `../shared/conformance/README.md`) through manifold, prints
//! `conformance <suite>[/<table>]: <passed>/<total>` per figure and the
//! failing cases, and fails when a figure drops below its floor in
//! `tests/conformance/floors.txt` (floors only ever rise).
//!
//! Without the data the harness skips with a message, except in CI
//! (`CI=true`), where missing data is a failure.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod functions;
mod helm;
mod kustomize;
mod policy;
mod schema;
mod support;

use std::process::ExitCode;

/// Runs one suite over the data folder.
type Suite = fn(&std::path::Path) -> support::Results;

fn main() -> ExitCode {
    let data = support::data_dir();
    if !data.is_dir() {
        if std::env::var("CI").as_deref() == Ok("true") {
            eprintln!(
                "conformance: no data at {} (set MANIFOLD_CONFORMANCE_DIR); CI requires it",
                data.display()
            );
            return ExitCode::FAILURE;
        }
        println!(
            "conformance: skipped, no data at {} (set MANIFOLD_CONFORMANCE_DIR)",
            data.display()
        );
        return ExitCode::SUCCESS;
    }
    support::warm_up();
    // `cargo test --test conformance -- schema policy` runs only those suites.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let all: [(&str, Suite); 5] = [
        ("kustomize", kustomize::run),
        ("helm", helm::run),
        ("functions", functions::run),
        ("schema", schema::run),
        ("policy", policy::run),
    ];
    let suites: Vec<support::Results> = all
        .iter()
        .filter(|(name, _)| wanted.is_empty() || wanted.iter().any(|w| w == name))
        .map(|(_, run)| run(&data))
        .collect();
    let mut below = Vec::new();
    let floors = support::floors();
    for results in &suites {
        results.print();
        for (figure, tally) in &results.figures {
            let floor = floors.get(figure).copied().unwrap_or(0);
            if tally.passed < floor {
                below.push(format!("{figure}: {} passed, floor {floor}", tally.passed));
            }
        }
    }
    for figure in floors.keys().filter(|_| wanted.is_empty()) {
        if !suites.iter().any(|s| s.figures.contains_key(figure)) {
            below.push(format!("{figure}: has a floor but was not measured"));
        }
    }
    if below.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("conformance below floor:\n  {}", below.join("\n  "));
        ExitCode::FAILURE
    }
}
