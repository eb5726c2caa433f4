//! `schema/`: kubeconform's acceptance tests and validator unit table,
//! through `manifold validate`. Each case is one run with kubeconform's
//! options as manifold flags (`--strict`/`--no-strict`, `--kube-version`,
//! `--schema-location`, `--skip`, `--reject`, `--missing-schemas error` or
//! `skip` as kubeconform has no warning), `--format json`; each resource's
//! verdict is read from the `schema` plugin's findings and manifold's own
//! (unparsable files, documents that are not objects) and compared with the
//! case's, with its kind and name.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{self, Case, Results, Tally};

/// One resource of an input file: its document, its `List` item, identity.
struct Resource {
    file: String,
    document: u64,
    item: Option<usize>,
    kind: Option<String>,
    name: Option<String>,
}

/// The resources kubeconform sees in a file: documents that are not empty,
/// the items of a `List` one by one. `None` when the file does not parse.
fn resources(input: &Path, file: &str) -> Option<Vec<Resource>> {
    let text = std::fs::read_to_string(input.join(file)).ok()?;
    let options = manifold_yaml::ParseOptions {
        duplicate_keys: manifold_yaml::Duplicates::LastWins,
        ..manifold_yaml::ParseOptions::default()
    };
    let documents = manifold_yaml::parse_documents(&text, &options).ok()?;
    let text_at = |v: &Value, pointer: &str| {
        v.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut out = Vec::new();
    for document in documents {
        let value = &document.value;
        if value.is_null() {
            continue;
        }
        let identity = |v: &Value, item| Resource {
            file: file.to_owned(),
            document: document.index as u64,
            item,
            kind: text_at(v, "/kind"),
            name: text_at(v, "/metadata/name").or_else(|| text_at(v, "/metadata/generateName")),
        };
        let is_list = text_at(value, "/kind").is_some_and(|k| k.eq_ignore_ascii_case("list"));
        match value.get("items").and_then(Value::as_array) {
            Some(items) if is_list => {
                out.extend(items.iter().enumerate().map(|(i, v)| identity(v, Some(i))));
            }
            _ if is_list => {}
            _ => out.push(identity(value, None)),
        }
    }
    Some(out)
}

/// Files named by `args.files` (folders walked for YAML and JSON), relative
/// to `input/`.
fn input_files(input: &Path, names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for name in names {
        let path = input.join(name);
        if !path.is_dir() {
            out.push(name.clone());
            continue;
        }
        let mut found = Vec::new();
        let mut stack = vec![path];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p
                    .extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
                    && let Ok(rel) = p.strip_prefix(input)
                {
                    found.push(rel.display().to_string());
                }
            }
        }
        found.sort();
        out.extend(found);
    }
    out
}

/// The unit table's registries give one answer for every resource: each
/// becomes a location naming one file, copied where it cannot be mistaken
/// for a folder (`registry1.txt` would be read as one).
fn registry_folder(case: &Case, registries: &[Value]) -> Result<(PathBuf, Vec<String>), String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("conformance-schema")
        .join(&case.name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let input = case.dir.join("input");
    for entry in std::fs::read_dir(&input)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).map_err(|e| e.to_string())?;
        }
    }
    let mut locations = Vec::new();
    for (i, registry) in registries.iter().enumerate() {
        let location = format!("registry-{i}.json");
        if let Some(file) = registry.get("schema").and_then(Value::as_str) {
            std::fs::copy(input.join(file), dir.join(&location))
                .map_err(|e| format!("{file}: {e}"))?;
        }
        locations.push(location);
    }
    Ok((dir, locations))
}

fn verdict(diagnostics: &[&Value]) -> &'static str {
    let errors: Vec<&&Value> = diagnostics
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    if errors.iter().any(|d| d["rule"] != "schema/invalid") {
        "error"
    } else if !errors.is_empty() {
        "invalid"
    } else if diagnostics
        .iter()
        .any(|d| d["rule"] == "schema/missing-schema" || d["rule"] == "schema/skipped")
    {
        "skipped"
    } else {
        "valid"
    }
}

/// Runs one case; `Err` says why it failed.
fn run_case(case: &Case) -> Result<(), String> {
    let args = case.args();
    let flag = |key: &str| args.get(key).and_then(Value::as_bool).unwrap_or(false);
    let mut dir = case.dir.join("input");
    let mut argv: Vec<String> = vec!["validate".into(), "--format".into(), "json".into()];
    argv.push(
        if flag("strict") {
            "--strict"
        } else {
            "--no-strict"
        }
        .into(),
    );
    argv.extend([
        "--missing-schemas".into(),
        if flag("ignore_missing_schemas") {
            "skip"
        } else {
            "error"
        }
        .into(),
    ]);
    if let Some(version) = args.get("kubernetes_version").and_then(Value::as_str) {
        argv.extend(["--kube-version".into(), version.into()]);
    }
    let mut locations = support::strings(args.get("schema_locations"));
    if let Some(registries) = args.get("registries").and_then(Value::as_array) {
        let (copy, registry_locations) = registry_folder(case, registries)?;
        dir = copy;
        locations = registry_locations;
    }
    for location in locations {
        argv.extend(["--schema-location".into(), location]);
    }
    for key in ["skip", "reject"] {
        let kinds = support::strings(args.get(key));
        if !kinds.is_empty() {
            argv.extend([format!("--{key}"), kinds.join(",")]);
        }
    }
    for pattern in support::strings(args.get("ignore_filename_patterns")) {
        argv.extend(["--ignore-filename-pattern".into(), pattern]);
    }
    let named = input_files(&dir, &support::strings(args.get("files")));
    argv.extend(named.iter().cloned());
    // kubeconform's ignored files yield no resources; the report's file
    // count shows that manifold left them out too.
    let ignore: Vec<regex::Regex> = support::strings(args.get("ignore_filename_patterns"))
        .iter()
        .map(|p| regex::Regex::new(p).map_err(|e| format!("pattern {p}: {e}")))
        .collect::<Result<_, _>>()?;
    let files: Vec<String> = named
        .into_iter()
        .filter(|f| !ignore.iter().any(|re| re.is_match(f)))
        .collect();

    let output = support::manifold(&dir, &argv);
    let report: Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    if report["summary"]["files"].as_u64() != Some(files.len() as u64) {
        return Err(format!(
            "checked {} files, want {}",
            report["summary"]["files"],
            files.len()
        ));
    }
    let diagnostics: Vec<&Value> = report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["plugin"] == "schema" || d["plugin"] == "manifold")
        .collect();

    // (file, verdict, kind, name) per resource, in file order.
    let mut got: Vec<(String, &'static str, Option<String>, Option<String>)> = Vec::new();
    for file in &files {
        let in_file: Vec<&Value> = diagnostics
            .iter()
            .copied()
            .filter(|d| d["file"] == file.as_str())
            .collect();
        let whole_file: Vec<&Value> = in_file
            .iter()
            .copied()
            .filter(|d| d["document"].is_null() && d["severity"] == "error")
            .collect();
        let Some(found) = resources(&dir, file) else {
            // kubeconform reports a file it cannot parse as one error.
            got.push((
                file.clone(),
                if whole_file.is_empty() {
                    "valid"
                } else {
                    "error"
                },
                None,
                None,
            ));
            continue;
        };
        for resource in found {
            let mine: Vec<&Value> = in_file
                .iter()
                .copied()
                .filter(|d| {
                    d["document"].is_null()
                        || (d["document"].as_u64() == Some(resource.document)
                            && resource.item.is_none_or(|i| {
                                let item = format!("/items/{i}");
                                d["path"].as_str().is_some_and(|p| {
                                    p == item || p.starts_with(&format!("{item}/"))
                                })
                            }))
                })
                .filter(|d| !(d["document"].is_null() && d["severity"] != "error"))
                .collect();
            got.push((resource.file, verdict(&mine), resource.kind, resource.name));
        }
    }

    let expected = case
        .spec
        .get("expect")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let describe = |g: &(String, &str, Option<String>, Option<String>)| {
        format!(
            "{} {} {}/{}",
            g.0,
            g.1,
            g.2.as_deref().unwrap_or("-"),
            g.3.as_deref().unwrap_or("-")
        )
    };
    if expected.len() != got.len() {
        return Err(format!(
            "expected {} resources, got {}: {}",
            expected.len(),
            got.len(),
            got.iter().map(describe).collect::<Vec<_>>().join(" | ")
        ));
    }
    for (want, g) in expected.iter().zip(&got) {
        let here = describe(g);
        if want["file"].as_str() != Some(g.0.as_str()) {
            return Err(format!(
                "expected a resource of {}, got {here}",
                want["file"]
            ));
        }
        if want["verdict"].as_str() != Some(g.1) {
            return Err(format!(
                "expected {}, got {here}; report: {}",
                want["verdict"], report["diagnostics"]
            ));
        }
        for (key, value) in [("kind", &g.2), ("name", &g.3)] {
            if let (Some(w), Some(v)) = (want[key].as_str(), value)
                && w != v
            {
                return Err(format!("expected {key} {w}, got {here}"));
            }
        }
    }
    Ok(())
}

/// Runs every case; figure `schema` (cases whose every verdict matches).
pub fn run(data: &Path) -> Results {
    let cases = support::cases(&data.join("schema"), "validate");
    let outcomes = support::parallel_map(&cases, run_case);
    let mut results = Results::default();
    let mut all = Tally::default();
    let mut features: std::collections::BTreeMap<String, Tally> = Default::default();
    for (case, outcome) in cases.iter().zip(outcomes) {
        all.add(outcome.is_ok());
        for feature in case.features() {
            features.entry(feature).or_default().add(outcome.is_ok());
        }
        if let Err(why) = outcome {
            let short: String = why.chars().take(600).collect();
            results
                .failures
                .push(format!("schema {}: {short}", case.name));
        }
    }
    results.figures.insert("schema".into(), all);
    for (feature, tally) in features {
        results.details.push((format!("schema/{feature}"), tally));
    }
    results
}
