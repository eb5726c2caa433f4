//! Fills `fuzz/corpus/<target>/` from the repository's `examples/` and, when
//! present, the conformance cases (`$MANIFOLD_CONFORMANCE_DIR`, default
//! `../shared/conformance` beside the repository root):
//!
//!     cargo run --manifest-path fuzz/Cargo.toml -p manifold-fuzz-seed
//!
//! Entries are named by a hash of their bytes, so running it again adds
//! nothing twice. The corpora are generated, never committed.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use manifold_fuzz_seed::pack;
use serde_json::Value;

/// Seeds larger than this are left out: libFuzzer's speed falls with input
/// size, and mutations of a small file reach the same code.
const MAX_SEED: usize = 32 * 1024;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let conformance = std::env::var_os("MANIFOLD_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/conformance"));
    let mut corpus = Corpus {
        dir: root.join("fuzz/corpus"),
        added: Default::default(),
    };
    let mut sources = vec![root.join("examples")];
    if conformance.is_dir() {
        sources.push(conformance.clone());
    } else {
        eprintln!(
            "seed: no conformance cases at {} (set MANIFOLD_CONFORMANCE_DIR); seeding from examples/ only",
            conformance.display()
        );
    }
    let result = (|| -> std::io::Result<()> {
        for source in &sources {
            let mut files = Vec::new();
            walk(source, &mut files);
            for file in &files {
                seed_file(&mut corpus, file)?;
            }
            for dir in folders(source) {
                seed_folder(&mut corpus, &dir)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!(
            "seed: cannot write the corpus under {}: {e}",
            corpus.dir.display()
        );
        return ExitCode::FAILURE;
    }
    for (target, count) in &corpus.added {
        println!("seed: {target}: {count} entries");
    }
    ExitCode::SUCCESS
}

struct Corpus {
    dir: PathBuf,
    added: std::collections::BTreeMap<&'static str, usize>,
}

impl Corpus {
    fn add(&mut self, target: &'static str, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() || bytes.len() > MAX_SEED {
            return Ok(());
        }
        let dir = self.dir.join(target);
        fs::create_dir_all(&dir)?;
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        let path = dir.join(format!("seed-{:016x}", hasher.finish()));
        if !path.exists() {
            fs::write(path, bytes)?;
            *self.added.entry(target).or_default() += 1;
        }
        Ok(())
    }
}

/// Every file under `dir`, sorted.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every folder under `dir` (itself included).
fn folders(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_owned()];
    let mut i = 0;
    while let Some(d) = out.get(i).cloned() {
        if let Ok(entries) = fs::read_dir(&d) {
            let mut subs: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            subs.sort();
            out.extend(subs);
        }
        i += 1;
    }
    out
}

fn extension(path: &Path) -> &str {
    path.extension().and_then(|e| e.to_str()).unwrap_or("")
}

/// One file: YAML manifests (yaml, answers), Rego (rego), template-function
/// tables (gotemplate, one entry a row), Gatekeeper templates (rego, their
/// embedded Rego too).
fn seed_file(corpus: &mut Corpus, path: &Path) -> std::io::Result<()> {
    let Ok(text) = fs::read_to_string(path) else {
        return Ok(());
    };
    match extension(path) {
        "rego" => corpus.add("rego", text.as_bytes())?,
        "yaml" | "yml" | "json" => {
            corpus.add("yaml", text.as_bytes())?;
            let documents: Vec<Value> = manifold_yaml::parse_documents(&text, &Default::default())
                .map(|docs| docs.into_iter().map(|d| d.value).collect())
                .unwrap_or_default();
            if documents.iter().any(|d| d.get("kind").is_some()) {
                corpus.add("answers", answers(&text, &documents).as_bytes())?;
            }
            for document in &documents {
                seed_document(corpus, document)?;
            }
            if path.file_name().is_some_and(|n| n == "cases.yaml") {
                seed_rows(corpus, &documents)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Gatekeeper templates: the template alone, and each Rego module in it.
fn seed_document(corpus: &mut Corpus, document: &Value) -> std::io::Result<()> {
    if document.get("kind").and_then(Value::as_str) != Some("ConstraintTemplate") {
        return Ok(());
    }
    let yaml = manifold_yaml::to_string(document);
    corpus.add("rego", pack([("template.yaml", yaml.as_str())]).as_bytes())?;
    let targets = document.pointer("/spec/targets").and_then(Value::as_array);
    for target in targets.into_iter().flatten() {
        if let Some(rego) = target.get("rego").and_then(Value::as_str) {
            corpus.add("rego", pack([("template.rego", rego)]).as_bytes())?;
        }
    }
    Ok(())
}

/// Template-function tables: each row's template with its values.
fn seed_rows(corpus: &mut Corpus, documents: &[Value]) -> std::io::Result<()> {
    let rows = documents.iter().filter_map(Value::as_array).flatten();
    for row in rows {
        let Some(template) = row.get("template").and_then(Value::as_str) else {
            continue;
        };
        let values = row
            .get("values")
            .map(manifold_yaml::to_string)
            .unwrap_or_default();
        let entry = pack([
            ("template.yaml", template),
            ("values.yaml", values.as_str()),
        ]);
        corpus.add("gotemplate", entry.as_bytes())?;
    }
    Ok(())
}

/// A manifest file as a validator's batch, with an answer naming each
/// document and its fields, and the documents as a renderer's output.
fn answers(text: &str, documents: &[Value]) -> String {
    let mut diagnostics = String::new();
    let mut render = String::new();
    for (i, document) in documents.iter().enumerate() {
        let field = document
            .as_object()
            .and_then(|m| m.keys().last())
            .map_or(String::new(), |k| format!("/{k}"));
        diagnostics.push_str(&format!("error\t{i}\tp/rule\t{field}\tmessage {i}\n"));
        render.push_str(&format!("file.yaml\t{document}\n"));
    }
    diagnostics.push_str("warning\t-\trule\tfile.yaml\tabout a source file\n");
    pack([
        ("batch.yaml", text),
        ("diagnostics", diagnostics.as_str()),
        ("render", render.as_str()),
    ])
}

/// A kustomization (the files of its repository, its kustomization
/// first) or a chart (templates and values) as one archive.
fn seed_folder(corpus: &mut Corpus, dir: &Path) -> std::io::Result<()> {
    let kustomization = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .into_iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file());
    if let Some(kustomization) = kustomization {
        // The repository: a case's input/ folder, the example repository
        // (it has a manifold.yaml), else the folder itself.
        let base = dir
            .ancestors()
            .find(|a| {
                a.file_name().is_some_and(|n| n == "input") || a.join("manifold.yaml").is_file()
            })
            .unwrap_or(dir);
        let mut files = Vec::new();
        walk(base, &mut files);
        let relative = |p: &Path| {
            p.strip_prefix(base)
                .ok()
                .map(|r| r.to_string_lossy().into_owned())
        };
        let mut texts: Vec<(String, String)> = Vec::new();
        if let (Some(name), Ok(text)) =
            (relative(&kustomization), fs::read_to_string(&kustomization))
        {
            texts.push((name, text));
        }
        for file in files.iter().filter(|f| **f != kustomization) {
            if let (Some(name), Ok(text)) = (relative(file), fs::read_to_string(file)) {
                texts.push((name, text));
            }
        }
        let entry = pack(texts.iter().map(|(n, t)| (n.as_str(), t.as_str())));
        corpus.add("kustomize", entry.as_bytes())?;
    }
    if dir.join("Chart.yaml").is_file() {
        let mut files = Vec::new();
        walk(&dir.join("templates"), &mut files);
        let mut texts: Vec<(String, String)> = Vec::new();
        for file in &files {
            if let Ok(text) = fs::read_to_string(file) {
                let name = file
                    .strip_prefix(dir)
                    .map_or(String::new(), |r| r.to_string_lossy().into_owned());
                texts.push((name, text));
            }
        }
        if let Ok(values) = fs::read_to_string(dir.join("values.yaml")) {
            texts.push(("values.yaml".into(), values));
        }
        let entry = pack(texts.iter().map(|(n, t)| (n.as_str(), t.as_str())));
        corpus.add("gotemplate", entry.as_bytes())?;
    }
    Ok(())
}
