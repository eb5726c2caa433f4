//! Conformance harness: builds every case of the shared `kustomize/` suite
//! with a disk-backed FileSystem, compares with the reference output (in order,
//! and ignoring order), prints figures overall and per feature, lists failures,
//! and fails when a figure drops below `tests/conformance-floor.txt`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use manifold_plugin_kustomize::{FileSystem, FsError, LoadRestrictor, Options, Reorder, build};
#[cfg(feature = "helm-conformance")]
use manifold_plugin_kustomize::{HelmRenderer, HelmRequest};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Reads a folder on disk as the repository root.
struct DiskFs {
    root: PathBuf,
}

impl FileSystem for DiskFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let p = self.root.join(path);
        if p.is_dir() {
            return Err(FsError::NotFound(path.to_string()));
        }
        std::fs::read(&p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FsError::NotFound(path.to_string()),
            std::io::ErrorKind::PermissionDenied => FsError::Denied(path.to_string()),
            _ => FsError::Io(format!("{path}: {e}")),
        })
    }

    fn list(&self, path: &str) -> Result<Vec<(String, bool)>, FsError> {
        let p = self.root.join(path);
        let rd = std::fs::read_dir(&p).map_err(|_| FsError::NotFound(path.to_string()))?;
        let mut out: Vec<(String, bool)> = rd
            .filter_map(Result::ok)
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.path().is_dir(),
                )
            })
            .collect();
        out.sort();
        Ok(out)
    }
}

/// Renders `helmCharts` with the workspace's Helm library, the way the host wires it:
/// kustomize's prepared values are served as a virtual values file, then `-f` extras.
/// Enabled by the `helm-conformance` feature; without it Helm cases fail with a clear error.
#[cfg(feature = "helm-conformance")]
struct HelmAdapter;

#[cfg(feature = "helm-conformance")]
const VALUES_PATH: &str = "__kustomize_helm_values__.yaml";

#[cfg(feature = "helm-conformance")]
struct ValuesOverlay<'a> {
    inner: &'a dyn FileSystem,
    values: Vec<u8>,
}

#[cfg(feature = "helm-conformance")]
impl manifold_plugin_helm::FileSystem for ValuesOverlay<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, manifold_plugin_helm::FsError> {
        if path == VALUES_PATH {
            return Ok(self.values.clone());
        }
        self.inner.read(path).map_err(|e| match e {
            FsError::NotFound(_) => manifold_plugin_helm::FsError::NotFound {
                path: path.to_string(),
            },
            other => manifold_plugin_helm::FsError::Other {
                path: path.to_string(),
                message: other.to_string(),
            },
        })
    }

    fn list(&self, path: &str) -> Result<Vec<(String, bool)>, manifold_plugin_helm::FsError> {
        self.inner
            .list(path)
            .map_err(|_| manifold_plugin_helm::FsError::NotFound {
                path: path.to_string(),
            })
    }
}

#[cfg(feature = "helm-conformance")]
impl HelmRenderer for HelmAdapter {
    fn render(&self, fs: &dyn FileSystem, req: &HelmRequest) -> Result<String, String> {
        let overlay = ValuesOverlay {
            inner: fs,
            values: serde_json::to_vec(&req.values).map_err(|e| e.to_string())?,
        };
        let mut opts = manifold_plugin_helm::Options::default();
        if !req.release_name.is_empty() {
            opts.release_name = req.release_name.clone();
        }
        if !req.namespace.is_empty() {
            opts.namespace = req.namespace.clone();
        }
        if !req.name_template.is_empty() {
            opts.name_template = Some(req.name_template.clone());
        }
        if !req.kube_version.is_empty() {
            opts.kube_version = Some(req.kube_version.clone());
        }
        opts.api_versions = req.api_versions.clone();
        opts.include_crds = req.include_crds;
        opts.skip_tests = req.skip_tests;
        opts.disable_hooks = req.skip_hooks;
        opts.values_files = std::iter::once(VALUES_PATH.to_string())
            .chain(req.additional_values_files.iter().cloned())
            .collect();
        manifold_plugin_helm::render(&overlay, &req.chart_dir, &opts)
            .map(|r| r.text)
            .map_err(|e| e.to_string())
    }
}

fn conformance_dir() -> PathBuf {
    match std::env::var("MANIFOLD_CONFORMANCE_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/conformance"
        )),
    }
}

fn find_cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.join("case.yaml").is_file() {
                out.push(p);
            } else {
                find_cases(&p, out);
            }
        }
    }
}

#[derive(Default)]
struct Tally {
    strict: usize,
    loose: usize,
    total: usize,
}

enum Outcome {
    Pass,
    LoosePass(String),
    Fail(String),
}

fn run_case(dir: &Path) -> (Outcome, Vec<String>, bool) {
    let case: Value = manifold_yaml::from_str(
        &std::fs::read_to_string(dir.join("case.yaml")).unwrap_or_default(),
    )
    .unwrap_or(Value::Null);
    let features: Vec<String> = case
        .get("features")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let expect_error = case.get("expect").and_then(Value::as_str) == Some("error");
    let target = case.get("target").and_then(Value::as_str).unwrap_or(".");
    let args = case.get("args").cloned().unwrap_or(Value::Null);
    let mut opts = Options {
        reorder: Reorder::None,
        managed_by_value: "kustomize-(test)".into(),
        ..Default::default()
    };
    if args.get("reorder").and_then(Value::as_str) == Some("legacy") {
        opts.reorder = Reorder::Legacy;
    }
    if args.get("load_restrictor").and_then(Value::as_str) == Some("LoadRestrictionsNone") {
        opts.load_restrictor = LoadRestrictor::None;
    }
    if args.get("enable_helm").and_then(Value::as_bool) == Some(true) {
        opts.enable_helm = true;
        #[cfg(feature = "helm-conformance")]
        {
            opts.helm = Some(Box::new(HelmAdapter));
        }
    }
    if args.get("enable_managedby_label").and_then(Value::as_bool) == Some(true) {
        opts.enable_managedby_label = true;
    }
    let fs = DiskFs {
        root: dir.join("input"),
    };
    let result = build(&fs, target, &opts);
    let outcome = match (result, expect_error) {
        (Err(_), true) => Outcome::Pass,
        (Ok(_), true) => Outcome::Fail("expected an error, build succeeded".into()),
        (Err(e), false) => Outcome::Fail(format!("error: {}", first_line(&e.to_string()))),
        (Ok(res), false) => {
            let text = std::fs::read_to_string(dir.join("expected.yaml")).unwrap_or_default();
            let expected: Vec<Value> = manifold_yaml::parse_documents(&text, &Default::default())
                .map(|d| {
                    d.into_iter()
                        .map(|d| d.value)
                        .filter(|v| !v.is_null())
                        .collect()
                })
                .unwrap_or_default();
            let got: Vec<Value> = res.into_iter().map(|r| r.value).collect();
            compare(&got, &expected)
        }
    };
    (outcome, features, expect_error)
}

fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or("");
    if l.len() > 300 {
        format!("{}...", &l[..300])
    } else {
        l.to_string()
    }
}

fn compare(got: &[Value], want: &[Value]) -> Outcome {
    if got == want {
        return Outcome::Pass;
    }
    let mut remaining: Vec<&Value> = want.iter().collect();
    let mut loose = got.len() == want.len();
    if loose {
        for g in got {
            match remaining.iter().position(|w| *w == g) {
                Some(i) => {
                    remaining.remove(i);
                }
                None => {
                    loose = false;
                    break;
                }
            }
        }
    }
    let detail = if got.len() != want.len() {
        format!("{} documents, expected {}", got.len(), want.len())
    } else {
        let i = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0);
        let name = |v: &Value| {
            format!(
                "{}/{}",
                v["kind"].as_str().unwrap_or(""),
                v["metadata"]["name"].as_str().unwrap_or("")
            )
        };
        format!(
            "document {i} differs: got {} want {}: {}",
            name(&got[i]),
            name(&want[i]),
            diff(&got[i], &want[i], "")
        )
    };
    if loose {
        Outcome::LoosePass(format!("order only: {detail}"))
    } else {
        Outcome::Fail(detail)
    }
}

fn diff(a: &Value, b: &Value, path: &str) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) if w == v => {}
                    Some(w) => return diff(v, w, &format!("{path}/{k}")),
                    None => return format!("{path}/{k} unexpected"),
                }
            }
            for k in y.keys() {
                if !x.contains_key(k) {
                    return format!("{path}/{k} missing");
                }
            }
            String::new()
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                if v != w {
                    return diff(v, w, &format!("{path}/{i}"));
                }
            }
            String::new()
        }
        _ => {
            let s = |v: &Value| {
                let t = v.to_string();
                if t.len() > 120 {
                    format!("{}...", &t[..120])
                } else {
                    t
                }
            };
            format!("{path}: got {} want {}", s(a), s(b))
        }
    }
}

#[test]
fn kustomize_conformance() {
    let root = conformance_dir().join("kustomize");
    if !root.is_dir() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("conformance data not found at {} (CI=true)", root.display());
        }
        println!(
            "conformance kustomize: skipped, {} not found",
            root.display()
        );
        return;
    }
    let mut cases = Vec::new();
    find_cases(&root, &mut cases);
    let mut overall = Tally::default();
    let mut ok_cases = Tally::default();
    let mut err_cases = Tally::default();
    let mut per_feature: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    for dir in &cases {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (outcome, features, is_err) = run_case(dir);
        let (strict, loose) = match &outcome {
            Outcome::Pass => (true, true),
            Outcome::LoosePass(_) => (false, true),
            Outcome::Fail(_) => (false, false),
        };
        let mut tallies: Vec<&mut Tally> = vec![&mut overall];
        tallies.push(if is_err {
            &mut err_cases
        } else {
            &mut ok_cases
        });
        for t in tallies {
            t.total += 1;
            t.strict += usize::from(strict);
            t.loose += usize::from(loose);
        }
        let feats = if features.is_empty() {
            vec!["(none)".to_string()]
        } else {
            features
        };
        for f in feats {
            let t = per_feature.entry(f).or_default();
            t.total += 1;
            t.strict += usize::from(strict);
            t.loose += usize::from(loose);
        }
        match outcome {
            Outcome::Pass => {}
            Outcome::LoosePass(r) | Outcome::Fail(r) => failures.push(format!("{name}: {r}")),
        }
    }
    println!(
        "conformance kustomize: {}/{} (order-insensitive {}/{})",
        overall.strict, overall.total, overall.loose, overall.total
    );
    println!(
        "conformance kustomize/ok: {}/{}",
        ok_cases.strict, ok_cases.total
    );
    println!(
        "conformance kustomize/error: {}/{}",
        err_cases.strict, err_cases.total
    );
    for (f, t) in &per_feature {
        println!(
            "conformance kustomize/{f}: {}/{} (order-insensitive {})",
            t.strict, t.total, t.loose
        );
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    let floor_text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance-floor.txt"
    ))
    .unwrap_or_default();
    for line in floor_text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(key), Some(min)) = (
            parts.next(),
            parts.next().and_then(|n| n.parse::<usize>().ok()),
        ) else {
            continue;
        };
        let have = match key {
            "overall" => overall.strict,
            "overall-loose" => overall.loose,
            "ok" => ok_cases.strict,
            "error" => err_cases.strict,
            _ => continue,
        };
        assert!(
            have >= min,
            "conformance figure '{key}' dropped to {have}, below the floor {min}"
        );
    }
}
