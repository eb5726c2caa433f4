//! Conformance against kubeconform's own expectations: runs every case under
//! `<conformance>/schema/` (acceptance tests and the validator unit table)
//! through the validator the way the host will (YAML parsed by
//! `manifold-yaml`, schema files read on the validator's request) and
//! compares each resource's verdict, kind, name and messages.
//!
//! The folder is `MANIFOLD_CONFORMANCE_DIR` or `../shared/conformance` from
//! the repository root; without it the test passes with a note, except under
//! `CI=true`. Pass counts may not fall below `tests/conformance-floor.txt`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use manifold_plugin_schema::{MissingSchemas, Options, ResourceReport, Validator, Verdict};
use manifold_yaml::{Duplicates, ParseOptions, Schema};
use serde_json::Value;

fn conformance_dir() -> PathBuf {
    std::env::var_os("MANIFOLD_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/conformance"
            ))
        })
}

/// One resource as the validator reported it.
struct Got {
    file: String,
    index: usize,
    report: ResourceReport,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::Error => "error",
        Verdict::Skipped => "skipped",
    }
}

/// Files named by `args.files` (folders walked for YAML/JSON), relative to `input/`.
fn input_files(input: &Path, names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for name in names {
        let path = input.join(name);
        if path.is_dir() {
            let mut stack = vec![path];
            let mut found = Vec::new();
            while let Some(dir) = stack.pop() {
                for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let p = entry.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p
                        .extension()
                        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
                    {
                        found.push(p.strip_prefix(input).unwrap().display().to_string());
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(name.clone());
        }
    }
    out
}

/// Run one case; `Err` says why it failed.
fn run_case(dir: &Path, case: &Value) -> Result<(), String> {
    let args = &case["args"];
    let input = dir.join("input");
    let strict = args["strict"].as_bool().unwrap_or(false);
    let mut options = Options {
        strict,
        kubernetes_version: args["kubernetes_version"].as_str().map(str::to_owned),
        skip: strings(args, "skip"),
        reject: strings(args, "reject"),
        // kubeconform's default is an error, not our warning.
        missing_schemas: if args["ignore_missing_schemas"].as_bool().unwrap_or(false) {
            MissingSchemas::Skip
        } else {
            MissingSchemas::Error
        },
        schema_locations: strings(args, "schema_locations"),
        ..Options::default()
    };
    // The unit table's registries give one fixed answer for every resource:
    // model each as a location naming one file.
    if let Some(registries) = args["registries"].as_array() {
        options.schema_locations.clear();
        for (i, registry) in registries.iter().enumerate() {
            let location = format!("registry-{i}.json");
            if let Some(file) = registry["schema"].as_str() {
                let bytes = fs::read(input.join(file)).map_err(|e| format!("{file}: {e}"))?;
                options.schema_files.insert(location.clone(), bytes);
            }
            options.schema_locations.push(location);
        }
    }
    let mut validator = Validator::new(options).map_err(|e| format!("setup: {e}"))?;

    let ignore: Vec<regex::Regex> = strings(args, "ignore_filename_patterns")
        .iter()
        .map(|p| regex::Regex::new(p).map_err(|e| format!("pattern {p}: {e}")))
        .collect::<Result<_, _>>()?;
    let parse = ParseOptions {
        // sigs.k8s.io/yaml, which kubeconform uses, is go-yaml v2; only its
        // strict mode rejects duplicate keys.
        schema: Schema::Yaml11,
        duplicate_keys: if strict {
            Duplicates::Error
        } else {
            Duplicates::LastWins
        },
        ..ParseOptions::default()
    };

    let mut got: Vec<Got> = Vec::new();
    for file in input_files(&input, &strings(args, "files")) {
        if ignore.iter().any(|re| re.is_match(&file)) {
            continue;
        }
        let text = fs::read_to_string(input.join(&file)).map_err(|e| format!("{file}: {e}"))?;
        let docs = match manifold_yaml::parse_documents(&text, &parse) {
            Ok(docs) => docs,
            Err(e) => {
                // kubeconform reports an unparsable document as one error,
                // named from a lenient parse (its `Signature()` ignores
                // duplicate keys) when there is one.
                let lenient = ParseOptions {
                    duplicate_keys: Duplicates::LastWins,
                    ..parse.clone()
                };
                let identity = manifold_yaml::parse_documents(&text, &lenient)
                    .ok()
                    .and_then(|docs| docs.into_iter().next())
                    .map(|d| d.value)
                    .unwrap_or(Value::Null);
                let field =
                    |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
                got.push(Got {
                    file: file.clone(),
                    index: 0,
                    report: ResourceReport {
                        item: None,
                        api_version: field(&identity, "apiVersion"),
                        kind: field(&identity, "kind"),
                        name: identity.get("metadata").and_then(|m| field(m, "name")),
                        verdict: Verdict::Error,
                        findings: vec![manifold_plugin_schema::Finding {
                            severity: manifold_plugin_schema::Severity::Error,
                            rule: "yaml/parse",
                            message: format!("error unmarshalling resource: {e}"),
                            path: None,
                        }],
                    },
                });
                continue;
            }
        };
        let values: Vec<Value> = docs.into_iter().map(|d| d.value).collect();
        // The host does this: read the files the validator asks for.
        for request in validator.schema_requests_batch(&values) {
            if let Ok(bytes) = fs::read(input.join(&request)) {
                validator.add_schema_file(&request, &bytes);
            }
        }
        let reports = validator.validate_batch_resources(&values);
        for (index, report) in reports.into_iter().flatten().enumerate() {
            got.push(Got {
                file: file.clone(),
                index,
                report,
            });
        }
    }

    let expected = case["expect"].as_array().cloned().unwrap_or_default();
    let describe_got = |g: &Got| {
        format!(
            "{}#{} {} {}",
            g.file,
            g.index,
            verdict_name(g.report.verdict),
            g.report
                .findings
                .iter()
                .map(|f| format!("[{}] {}", f.path.as_deref().unwrap_or("-"), f.message))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    if expected.len() != got.len() {
        return Err(format!(
            "expected {} resources, got {}: {}",
            expected.len(),
            got.len(),
            got.iter().map(describe_got).collect::<Vec<_>>().join(" | ")
        ));
    }
    for (want, g) in expected.iter().zip(&got) {
        let here = describe_got(g);
        if want["file"].as_str() != Some(g.file.as_str())
            || want["index"].as_u64() != Some(g.index as u64)
        {
            return Err(format!(
                "expected {}#{}, got {here}",
                want["file"], want["index"]
            ));
        }
        let verdict = want["verdict"].as_str().unwrap_or("");
        if verdict != verdict_name(g.report.verdict) {
            return Err(format!("expected {verdict}, got {here}"));
        }
        // A document that does not parse at all has no kind or name to
        // compare; the YAML layer, not this validator, reports it.
        let unparsable =
            g.report.findings.iter().any(|f| f.rule == "yaml/parse") && g.report.kind.is_none();
        for (key, value) in [("kind", &g.report.kind), ("name", &g.report.name)] {
            if let (Some(w), false) = (want[key].as_str(), unparsable)
                && value.as_deref() != Some(w)
            {
                return Err(format!("expected {key} {w}, got {value:?} ({here})"));
            }
        }
        if let Some(needle) = want["message_contains"].as_str()
            && !g.report.findings.iter().any(|f| f.message.contains(needle))
        {
            return Err(format!("no message contains {needle:?}: {here}"));
        }
        if let Some(path) = want["error_path"].as_str()
            && !g
                .report
                .findings
                .iter()
                .any(|f| f.path.as_deref() == Some(path))
        {
            return Err(format!("no finding at {path}: {here}"));
        }
        for error in want["errors"].as_array().into_iter().flatten() {
            let path = error["path"].as_str().unwrap_or("");
            let msg = error["msg"].as_str().unwrap_or("");
            if !g
                .report
                .findings
                .iter()
                .any(|f| f.path.as_deref() == Some(path) && f.message.contains(msg))
            {
                return Err(format!("no finding {path:?}: {msg:?}: {here}"));
            }
        }
    }
    Ok(())
}

fn read_floor() -> BTreeMap<String, usize> {
    let text = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance-floor.txt"
    ))
    .unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, n) = l.split_once(' ').unwrap();
            (name.to_owned(), n.trim().parse().unwrap())
        })
        .collect()
}

#[test]
fn conformance_schema() {
    let root = conformance_dir().join("schema");
    if !root.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "conformance data missing at {} under CI",
            root.display()
        );
        println!(
            "conformance schema: skipped, {} not found (set MANIFOLD_CONFORMANCE_DIR)",
            root.display()
        );
        return;
    }
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("case.yaml").is_file())
        .collect();
    cases.sort();

    let mut passed = 0;
    let mut by_feature: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(dir.join("case.yaml")).unwrap();
        let case = manifold_yaml::from_str(&text).unwrap();
        let result = run_case(dir, &case);
        let ok = result.is_ok();
        if ok {
            passed += 1;
        }
        for feature in strings(&case, "features") {
            let entry = by_feature.entry(feature).or_default();
            entry.1 += 1;
            if ok {
                entry.0 += 1;
            }
        }
        if let Err(reason) = result {
            failures.push(format!("  {name}: {reason}"));
        }
    }
    println!("conformance schema: {passed}/{}", cases.len());
    for (feature, (p, t)) in &by_feature {
        println!("conformance schema/{feature}: {p}/{t}");
    }
    for failure in &failures {
        println!("{failure}");
    }
    let floor = read_floor();
    let minimum = floor.get("schema").copied().unwrap_or(0);
    assert!(
        passed >= minimum,
        "conformance schema fell to {passed}, below the floor of {minimum}"
    );
}
