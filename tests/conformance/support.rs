//! What every suite shares: where the data is, reading cases, running
//! `manifold`, comparing YAML streams, tallies, floors and the printed figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// The conformance data: `MANIFOLD_CONFORMANCE_DIR`, else `../shared/conformance`
/// beside the repository.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("MANIFOLD_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"),
    }
}

/// Parses a YAML file of the data set; broken data stops the harness.
pub fn load_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()));
    manifold_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One case folder and its `case.yaml`.
pub struct Case {
    pub dir: PathBuf,
    pub name: String,
    pub spec: Value,
}

impl Case {
    pub fn str(&self, key: &str) -> Option<&str> {
        self.spec.get(key).and_then(Value::as_str)
    }

    pub fn args(&self) -> &Value {
        self.spec.get("args").unwrap_or(&Value::Null)
    }

    pub fn expects_error(&self) -> bool {
        self.str("expect") == Some("error")
    }

    pub fn features(&self) -> Vec<String> {
        strings(self.spec.get("features"))
    }
}

/// A string or a list of strings as a list.
pub fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The cases of a suite with the given `kind`, sorted by folder, found by walking for `case.yaml`.
pub fn cases(suite: &Path, kind: &str) -> Vec<Case> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            if dir.join("case.yaml").is_file() {
                out.push(dir);
            } else {
                walk(&dir, out);
            }
        }
    }
    let mut dirs = Vec::new();
    walk(suite, &mut dirs);
    dirs.into_iter()
        .map(|dir| Case {
            name: dir
                .strip_prefix(suite)
                .unwrap_or(&dir)
                .display()
                .to_string(),
            spec: load_yaml(&dir.join("case.yaml")),
            dir,
        })
        .filter(|case| case.str("kind") == Some(kind))
        .collect()
}

/// Runs `f` over `items` on as many threads as the machine has, keeping order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| panic!("a harness thread panicked"))
            })
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Where compiled plugins are kept across the harness's runs of `manifold`.
fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance-cache")
}

/// Runs the built `manifold` in `dir` with `args` (and the harness's plugin cache).
pub fn manifold(dir: &Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_manifold"))
        .current_dir(dir)
        .args(args)
        .arg("--cache-dir")
        .arg(cache_dir())
        .arg("--color=never")
        .output()
        .unwrap_or_else(|e| panic!("cannot run manifold: {e}"))
}

/// Compiles the built-in plugins once, so parallel cases do not each compile them.
pub fn warm_up() {
    let out = manifold(Path::new("."), &["plugin".into(), "list".into()]);
    assert!(
        out.status.success(),
        "manifold plugin list failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The documents of a YAML stream (empty documents dropped).
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    manifold_yaml::parse_documents(text, &manifold_yaml::ParseOptions::default())
        .map(|docs| {
            docs.into_iter()
                .map(|d| d.value)
                .filter(|v| !v.is_null())
                .collect()
        })
        .map_err(|e| format!("line {}: {}", e.line, e.message))
}

/// A render's stdout against the case's `expected.yaml`, both through
/// `normalize` (a value the reference tool stamps that is not behaviour).
pub fn compare_output(case: &Case, stdout: &[u8], normalize: fn(Value) -> Value) -> Comparison {
    let parse = |text: &str, what: &str| {
        documents(text)
            .map(|docs| docs.into_iter().map(normalize).collect::<Vec<_>>())
            .map_err(|e| format!("{what}: {e}"))
    };
    let expected = std::fs::read_to_string(case.dir.join("expected.yaml")).unwrap_or_default();
    match (
        parse(&String::from_utf8_lossy(stdout), "output is not YAML"),
        parse(&expected, "expected.yaml"),
    ) {
        (Ok(got), Ok(want)) => compare(&got, &want),
        (Err(detail), _) | (_, Err(detail)) => Comparison {
            ordered: false,
            unordered: false,
            detail,
        },
    }
}

/// How a rendered stream compares with the expected one.
pub struct Comparison {
    pub ordered: bool,
    pub unordered: bool,
    pub detail: String,
}

/// Compares documents as parsed values: in order, and as a multiset.
pub fn compare(got: &[Value], want: &[Value]) -> Comparison {
    let ordered = got == want;
    let canonical = |docs: &[Value]| {
        let mut all: Vec<String> = docs.iter().map(Value::to_string).collect();
        all.sort();
        all
    };
    let unordered = ordered || canonical(got) == canonical(want);
    let detail = if ordered {
        String::new()
    } else if got.len() != want.len() {
        format!("{} documents, want {}", got.len(), want.len())
    } else if unordered {
        "same documents in another order".to_owned()
    } else {
        let i = got.iter().zip(want).position(|(g, w)| g != w).unwrap_or(0);
        let mut text = format!(
            "document {}: got {} want {}",
            i + 1,
            got.get(i).map(Value::to_string).unwrap_or_default(),
            want.get(i).map(Value::to_string).unwrap_or_default()
        );
        if text.len() > 600 {
            let mut end = 600;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push('…');
        }
        text
    };
    Comparison {
        ordered,
        unordered,
        detail,
    }
}

/// Passed and total of one suite, table or feature.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub passed: usize,
    pub total: usize,
}

impl Tally {
    pub fn add(&mut self, passed: bool) {
        self.total += 1;
        self.passed += usize::from(passed);
    }
}

/// A suite's figures: `conformance <name>: p/t` lines (which floors apply to),
/// further figures shown under them, and the failing cases.
#[derive(Default)]
pub struct Results {
    pub figures: BTreeMap<String, Tally>,
    pub details: Vec<(String, Tally)>,
    pub failures: Vec<String>,
}

impl Results {
    pub fn print(&self) {
        for (name, tally) in &self.figures {
            println!("conformance {name}: {}/{}", tally.passed, tally.total);
        }
        for (name, tally) in &self.details {
            println!("  {name}: {}/{}", tally.passed, tally.total);
        }
        for failure in &self.failures {
            println!("  FAIL {failure}");
        }
    }
}

/// `tests/conformance/floors.txt`: `<figure> <minimum passed>` per line.
pub fn floors() -> BTreeMap<String, usize> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/floors.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (name, min) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("floors.txt: {line:?} is not `<figure> <count>`"));
            let min = min
                .parse()
                .unwrap_or_else(|_| panic!("floors.txt: {line:?}: {min:?} is not a count"));
            (name.trim().to_owned(), min)
        })
        .collect()
}
