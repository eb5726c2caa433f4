//! Optional run of gator `suite.yaml` files (the Gatekeeper library's own
//! tests) against this crate: set `MANIFOLD_GATEKEEPER_LIBRARY` to a
//! checkout's `library/` folder. Skipped (and passing) when unset; the
//! committed conformance suite is `tests/conformance.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use manifold_plugin_policy::{LoadOptions, PolicySet, Source};
use serde_json::Value;

fn suites(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            suites(&p, out);
        } else if p.file_name().is_some_and(|n| n == "suite.yaml") {
            out.push(p);
        }
    }
}

fn objects(dir: &Path, rel: &str) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(dir.join(rel)).map_err(|e| format!("{rel}: {e}"))?;
    let docs = manifold_yaml::parse_documents(&text, &Default::default())
        .map_err(|e| format!("{rel}: {e}"))?;
    Ok(docs
        .into_iter()
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .collect())
}

/// gator's `violations`: `yes` (at least one), `no` (none) or a count.
fn expected_ok(expected: &Value, count: usize) -> bool {
    match expected {
        Value::String(s) if s == "yes" => count >= 1,
        Value::String(s) if s == "no" => count == 0,
        Value::Number(n) => n.as_u64() == Some(count as u64),
        Value::Null => count >= 1,
        _ => false,
    }
}

fn run_case(set: &mut PolicySet, dir: &Path, case: &Value) -> Result<(), String> {
    let mut inventory = Vec::new();
    for file in case["inventory"].as_array().into_iter().flatten() {
        inventory.extend(objects(dir, file.as_str().unwrap_or_default())?);
    }
    set.set_inventory(&inventory).map_err(|e| e.to_string())?;
    let mut findings = Vec::new();
    for object in objects(dir, case["object"].as_str().unwrap_or_default())? {
        findings.extend(set.evaluate(&object).map_err(|e| e.to_string())?);
    }
    for assertion in case["assertions"].as_array().into_iter().flatten() {
        let count = match assertion["message"].as_str() {
            Some(m) => {
                let re = regex::Regex::new(m).map_err(|e| e.to_string())?;
                findings.iter().filter(|f| re.is_match(&f.message)).count()
            }
            None => findings.len(),
        };
        if !expected_ok(&assertion["violations"], count) {
            let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
            return Err(format!("{assertion}: got {count} {messages:?}"));
        }
    }
    Ok(())
}

#[test]
fn gator_suites() {
    let Some(root) = std::env::var_os("MANIFOLD_GATEKEEPER_LIBRARY") else {
        println!("conformance gatekeeper-library: skipped, MANIFOLD_GATEKEEPER_LIBRARY not set");
        return;
    };
    let mut files = Vec::new();
    suites(Path::new(&root), &mut files);
    let (mut passed, mut total) = (0usize, 0usize);
    let mut failures = Vec::new();
    for file in files {
        let dir = file.parent().unwrap_or(Path::new("."));
        let suite = manifold_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for test in suite["tests"].as_array().into_iter().flatten() {
            let cases: Vec<&Value> = test["cases"].as_array().into_iter().flatten().collect();
            total += cases.len();
            let sources: Vec<Source> = ["template", "constraint"]
                .iter()
                .filter_map(|k| test[*k].as_str())
                .map(|rel| {
                    Source::new(
                        rel,
                        std::fs::read_to_string(dir.join(rel)).unwrap_or_default(),
                    )
                })
                .collect();
            let mut set = match PolicySet::load(&sources, &LoadOptions::default()) {
                Ok(set) => set,
                Err(e) => {
                    failures.push(format!("{}: {e}", dir.display()));
                    continue;
                }
            };
            for case in cases {
                match run_case(&mut set, dir, case) {
                    Ok(()) => passed += 1,
                    Err(e) => failures.push(format!("{} {}: {e}", dir.display(), case["name"])),
                }
            }
        }
    }
    println!("conformance gatekeeper-library: {passed}/{total}");
    for f in &failures {
        println!("    {}", f.chars().take(300).collect::<String>());
    }
}
