//! Runs every `kind: render` case under `helm/` of the shared conformance
//! data through [`manifold_plugin_helm::render`] and compares with Helm's
//! golden `helm template` output: documents as parsed YAML in order (and,
//! as a looser figure, in any order); `expect: error` cases must fail (a
//! further figure counts those whose message equals Helm's). Prints the
//! figures overall and per feature, lists failing cases, and fails when a
//! figure drops below `tests/conformance-floor.txt`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use manifold_plugin_helm::{FileSystem, FsError, Options, render};
use serde_json::Value as J;

/// The case's `input/` folder as a [`FileSystem`].
struct DirFs(PathBuf);

impl FileSystem for DirFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        std::fs::read(self.0.join(path)).map_err(|e| FsError::Other {
            path: path.to_string(),
            message: e.to_string(),
        })
    }

    fn list(&self, path: &str) -> Result<Vec<(String, bool)>, FsError> {
        let rd = std::fs::read_dir(self.0.join(path)).map_err(|e| FsError::Other {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        let mut out = Vec::new();
        for entry in rd.flatten() {
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            out.push((entry.file_name().to_string_lossy().into_owned(), is_dir));
        }
        Ok(out)
    }
}

fn root() -> PathBuf {
    match std::env::var("MANIFOLD_CONFORMANCE_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/conformance"
        )),
    }
}

fn yaml(text: &str) -> Vec<J> {
    let opts = manifold_yaml::ParseOptions {
        schema: manifold_yaml::Schema::Yaml11,
        duplicate_keys: manifold_yaml::Duplicates::LastWins,
        ..Default::default()
    };
    manifold_yaml::parse_documents(text, &opts)
        .map(|d| {
            d.into_iter()
                .map(|d| d.value)
                .filter(|v| !v.is_null())
                .collect()
        })
        .unwrap_or_default()
}

fn strings(v: Option<&J>) -> Vec<String> {
    match v {
        Some(J::Array(a)) => a
            .iter()
            .map(|x| match x {
                J::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(J::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn options(args: &J) -> Options {
    let s = |k: &str| args.get(k).and_then(J::as_str).map(str::to_string);
    let b = |k: &str| args.get(k).and_then(J::as_bool).unwrap_or(false);
    let mut o = Options::default();
    if let Some(r) = s("release") {
        o.release_name = r;
    }
    if let Some(n) = s("namespace") {
        o.namespace = n;
    }
    o.name_template = s("name_template");
    o.kube_version = args.get("kube_version").map(|v| match v {
        J::String(s) => s.clone(),
        other => other.to_string(),
    });
    o.api_versions = strings(args.get("api_versions"));
    o.include_crds = b("include_crds");
    o.show_only = strings(args.get("show_only"));
    o.skip_tests = b("skip_tests");
    o.disable_hooks = b("no_hooks");
    o.is_upgrade = b("is_upgrade");
    o.skip_schema_validation = b("skip_schema_validation");
    o.values_files = strings(args.get("values"));
    o.set = strings(args.get("set"));
    o.set_string = strings(args.get("set_string"));
    o.set_json = strings(args.get("set_json"));
    o.set_file = strings(args.get("set_file"));
    o.set_literal = strings(args.get("set_literal"));
    o
}

/// Helm's error text without the `Error: ` prefix, the `--debug` hint or
/// the output printed before it.
fn expected_error(text: &str) -> String {
    let from = text.rfind("Error: ").map_or(0, |i| i + "Error: ".len());
    let t = text.get(from..).unwrap_or("");
    let t = t.split("\n\nUse --debug flag").next().unwrap_or(t);
    t.trim_end().to_string()
}

#[derive(Default)]
struct Tally {
    total: usize,
    ordered: usize,
    unordered: usize,
}

struct Outcome {
    /// The printed stream equals Helm's byte for byte.
    exact: bool,
    ordered: bool,
    unordered: bool,
    error_text: Option<bool>,
    detail: String,
}

fn run_case(dir: &Path, case: &J) -> Outcome {
    let target = case.get("target").and_then(J::as_str).unwrap_or(".");
    let args = case.get("args").cloned().unwrap_or(J::Null);
    let opts = options(&args);
    let fs = DirFs(dir.join("input"));
    let result = render(&fs, target, &opts);
    let expect_error = case.get("expect").and_then(J::as_str) == Some("error");
    if expect_error {
        let want = std::fs::read_to_string(dir.join("expected_error.txt"))
            .map(|t| expected_error(&t))
            .ok();
        return match result {
            Ok(_) => Outcome {
                exact: false,
                ordered: false,
                unordered: false,
                error_text: Some(false),
                detail: "rendered, but Helm fails".into(),
            },
            Err(e) => {
                let got = e.to_string();
                let same = want.as_deref().is_none_or(|w| w == got.trim_end());
                Outcome {
                    exact: same,
                    ordered: true,
                    unordered: true,
                    error_text: Some(same),
                    detail: if same {
                        String::new()
                    } else {
                        format!(
                            "error text differs:\n  got:  {got}\n  want: {}",
                            want.unwrap_or_default()
                        )
                    },
                }
            }
        };
    }
    let want_text = std::fs::read_to_string(dir.join("expected.yaml")).unwrap_or_default();
    let want = yaml(&want_text);
    match result {
        Err(e) => Outcome {
            exact: false,
            ordered: false,
            unordered: false,
            error_text: None,
            detail: format!("error: {e}"),
        },
        Ok(r) => {
            let got = yaml(&r.text);
            let ordered = got == want;
            let key = |v: &J| v.to_string();
            let mut a: Vec<String> = got.iter().map(key).collect();
            let mut b: Vec<String> = want.iter().map(key).collect();
            a.sort();
            b.sort();
            let unordered = a == b;
            let mut detail = String::new();
            if !ordered {
                detail = format!("{} documents, want {}", got.len(), want.len());
                for (i, w) in want.iter().enumerate() {
                    if got.get(i) != Some(w) {
                        detail.push_str(&format!(
                            "\n  first difference at document {i}:\n  got:  {}\n  want: {w}",
                            got.get(i).map_or("<none>".into(), |g| g.to_string())
                        ));
                        break;
                    }
                }
            }
            Outcome {
                exact: r.text == want_text,
                ordered,
                unordered,
                error_text: None,
                detail,
            }
        }
    }
}

#[test]
fn helm_golden_conformance() {
    let root = root();
    let suite = root.join("helm");
    if !suite.is_dir() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "conformance data not found at {} (CI=true)",
                suite.display()
            );
        }
        eprintln!(
            "conformance data not found at {}; skipping",
            suite.display()
        );
        return;
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&suite)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("case.yaml").is_file())
        .collect();
    dirs.sort();
    let mut overall = Tally::default();
    let mut by_feature: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut err_total, mut err_text, mut exact) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    let mut inexact = Vec::new();
    for dir in &dirs {
        let case = yaml(&std::fs::read_to_string(dir.join("case.yaml")).unwrap())
            .into_iter()
            .next()
            .unwrap_or(J::Null);
        if case.get("kind").and_then(J::as_str) != Some("render") {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let out = run_case(dir, &case);
        overall.total += 1;
        overall.ordered += usize::from(out.ordered);
        overall.unordered += usize::from(out.unordered);
        exact += usize::from(out.exact);
        if !out.exact && out.ordered && out.detail.is_empty() {
            inexact.push(name.clone());
        }
        if let Some(t) = out.error_text {
            err_total += 1;
            err_text += usize::from(t);
        }
        for f in strings(case.get("features")) {
            let t = by_feature.entry(f).or_default();
            t.total += 1;
            t.ordered += usize::from(out.ordered);
            t.unordered += usize::from(out.unordered);
        }
        if !out.ordered || !out.detail.is_empty() {
            failures.push(format!("{name}: {}", out.detail));
        }
    }
    println!(
        "conformance helm/golden: {}/{}",
        overall.ordered, overall.total
    );
    println!(
        "conformance helm/golden (any order): {}/{}",
        overall.unordered, overall.total
    );
    println!("conformance helm/golden error text: {err_text}/{err_total}");
    println!(
        "conformance helm/golden exact text: {exact}/{}",
        overall.total
    );
    for n in &inexact {
        println!("  not byte-identical: {n}");
    }
    for (f, t) in &by_feature {
        println!(
            "  {f}: {}/{} (any order {})",
            t.ordered, t.total, t.unordered
        );
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    let figures: BTreeMap<&str, usize> = [
        ("ordered", overall.ordered),
        ("unordered", overall.unordered),
        ("error_text", err_text),
        ("exact_text", exact),
    ]
    .into_iter()
    .collect();
    let floor = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance-floor.txt"
    ))
    .unwrap_or_default();
    for line in floor.lines() {
        let mut parts = line.split_whitespace();
        let (Some(key), Some(min)) = (parts.next(), parts.next()) else {
            continue;
        };
        let min: usize = min.parse().unwrap();
        let have = *figures
            .get(key)
            .unwrap_or_else(|| panic!("unknown floor figure {key}"));
        assert!(
            have >= min,
            "conformance figure '{key}' dropped to {have}, below the floor {min}"
        );
    }
}
