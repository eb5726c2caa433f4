//! Conformance harness over the shared `policy/` suite: Gatekeeper library
//! templates and constraints with gator's expected violation counts.
//!
//! Reads `MANIFOLD_CONFORMANCE_DIR` (default `../shared/conformance` from
//! the repository root), prints `conformance policy: passed/total` for
//! cases, assertions and each feature tag, lists failing cases, and fails
//! when a figure drops below `tests/conformance-floor.txt`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use manifold_plugin_policy::{LoadOptions, PolicySet, Source};
use serde_json::Value;

fn conformance_dir() -> PathBuf {
    match std::env::var_os("MANIFOLD_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/conformance"
        )),
    }
}

fn find_cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            find_cases(&path, out);
        } else if path.file_name().is_some_and(|n| n == "case.yaml") {
            out.push(path);
        }
    }
}

fn read_source(input: &Path, rel: &str) -> Result<Source, String> {
    std::fs::read_to_string(input.join(rel))
        .map(|text| Source::new(rel, text))
        .map_err(|e| format!("cannot read {rel}: {e}"))
}

fn read_objects(input: &Path, rel: &str) -> Result<Vec<Value>, String> {
    let source = read_source(input, rel)?;
    let docs = manifold_yaml::parse_documents(&source.text, &Default::default())
        .map_err(|e| format!("{rel}: {e}"))?;
    Ok(docs
        .into_iter()
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .collect())
}

/// `violations`: `N` exactly or `">=N"` at least.
fn count_ok(expected: &Value, actual: usize) -> Result<bool, String> {
    match expected {
        Value::Number(n) => n
            .as_u64()
            .map(|n| n as usize == actual)
            .ok_or_else(|| format!("bad violations {n}")),
        Value::String(s) => match s.strip_prefix(">=") {
            Some(n) => n
                .trim()
                .parse::<usize>()
                .map(|n| actual >= n)
                .map_err(|e| format!("bad violations {s:?}: {e}")),
            None => s
                .trim()
                .parse::<usize>()
                .map(|n| n == actual)
                .map_err(|e| format!("bad violations {s:?}: {e}")),
        },
        other => Err(format!("bad violations {other}")),
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Default)]
struct Tally {
    passed: usize,
    total: usize,
}

struct CaseResult {
    name: String,
    features: Vec<String>,
    assertions: usize,
    passed_assertions: usize,
    failures: Vec<String>,
}

fn run_case(case_file: &Path) -> CaseResult {
    let dir = case_file.parent().unwrap_or(Path::new("."));
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut result = CaseResult {
        name,
        features: Vec::new(),
        assertions: 0,
        passed_assertions: 0,
        failures: Vec::new(),
    };
    let case = match std::fs::read_to_string(case_file)
        .map_err(|e| e.to_string())
        .and_then(|t| manifold_yaml::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            result.assertions = 1;
            result.failures.push(format!("case.yaml: {e}"));
            return result;
        }
    };
    result.features = string_list(case.get("features"));
    let expects = case
        .get("expect")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    result.assertions = expects.len();
    let input = dir.join("input");
    let args = case.get("args").cloned().unwrap_or(Value::Null);
    let sources: Result<Vec<Source>, String> = ["template", "constraint"]
        .iter()
        .filter_map(|k| args.get(*k).and_then(Value::as_str))
        .map(|rel| read_source(&input, rel))
        .collect();
    let mut set = match sources.and_then(|s| {
        PolicySet::load(&s, &LoadOptions::default()).map_err(|e| format!("load: {e}"))
    }) {
        Ok(set) => set,
        Err(e) => {
            result.failures.push(e);
            return result;
        }
    };
    let default_inventory = string_list(args.get("inventory"));
    for expect in &expects {
        let object = expect.get("object").and_then(Value::as_str).unwrap_or("");
        let label = format!(
            "{} ({object})",
            expect.get("name").and_then(Value::as_str).unwrap_or("?")
        );
        let outcome = (|| -> Result<(), String> {
            let inventory_files = match expect.get("inventory") {
                Some(v) => string_list(Some(v)),
                None => default_inventory.clone(),
            };
            let mut inventory = Vec::new();
            for file in &inventory_files {
                inventory.extend(read_objects(&input, file)?);
            }
            set.set_inventory(&inventory).map_err(|e| e.to_string())?;
            let mut findings = Vec::new();
            for doc in read_objects(&input, object)? {
                findings.extend(set.evaluate(&doc).map_err(|e| format!("evaluate: {e}"))?);
            }
            let pattern = expect
                .get("message_regex")
                .or_else(|| expect.get("message_contains"))
                .and_then(Value::as_str);
            let count = match pattern {
                Some(p) => {
                    let re = regex::Regex::new(p).map_err(|e| format!("bad regexp {p:?}: {e}"))?;
                    findings.iter().filter(|f| re.is_match(&f.message)).count()
                }
                None => findings.len(),
            };
            let expected = expect.get("violations").cloned().unwrap_or(Value::Null);
            if count_ok(&expected, count)? {
                Ok(())
            } else {
                let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
                Err(format!(
                    "expected {expected} violations{}, got {count}: {messages:?}",
                    pattern
                        .map(|p| format!(" matching {p:?}"))
                        .unwrap_or_default()
                ))
            }
        })();
        match outcome {
            Ok(()) => result.passed_assertions += 1,
            Err(e) => result.failures.push(format!("{label}: {e}")),
        }
    }
    result
}

fn read_floor() -> BTreeMap<String, usize> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance-floor.txt");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.trim().to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn policy_conformance() {
    let root = conformance_dir().join("policy");
    if !root.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "conformance data missing at {} (required when CI=true)",
            root.display()
        );
        println!("conformance policy: skipped, {} not found", root.display());
        return;
    }
    let mut case_files = Vec::new();
    find_cases(&root, &mut case_files);
    let results: Vec<CaseResult> = case_files.iter().map(|c| run_case(c)).collect();

    let mut cases = Tally::default();
    let mut assertions = Tally::default();
    let mut features: BTreeMap<String, Tally> = BTreeMap::new();
    for r in &results {
        let ok = r.failures.is_empty();
        cases.total += 1;
        cases.passed += usize::from(ok);
        assertions.total += r.assertions;
        assertions.passed += r.passed_assertions;
        for f in &r.features {
            let t = features.entry(f.clone()).or_default();
            t.total += 1;
            t.passed += usize::from(ok);
        }
    }
    println!("conformance policy: {}/{}", cases.passed, cases.total);
    println!(
        "conformance policy/assertions: {}/{}",
        assertions.passed, assertions.total
    );
    for (feature, t) in &features {
        println!("conformance policy/{feature}: {}/{}", t.passed, t.total);
    }
    for r in results.iter().filter(|r| !r.failures.is_empty()) {
        println!("FAIL {}", r.name);
        for f in &r.failures {
            let short: String = f.chars().take(400).collect();
            println!("    {short}");
        }
    }

    let floor = read_floor();
    let figures = [("policy", &cases), ("policy/assertions", &assertions)];
    for (key, tally) in figures {
        if let Some(&min) = floor.get(key) {
            assert!(
                tally.passed >= min,
                "conformance {key} dropped to {} below the floor {min}",
                tally.passed
            );
        }
    }
}
