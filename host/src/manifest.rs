//! Reading manifest files: paths to documents, with their origins.
//!
//! Every problem with an input — a missing path, unreadable bytes, invalid
//! UTF-8, malformed YAML, a YAML bomb, a document that is not a Kubernetes
//! object — becomes a finding that names the file (and line where known);
//! the other files are read regardless.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use manifold_yaml::{Duplicates, ParseOptions};
use serde_json::Value;

use crate::report::{Checked, Diagnostic, Resource};

/// Manifest files larger than this are refused rather than parsed.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Documents nested deeper than this are refused. Deep CRD schemas reach
/// about half of it; beyond it, plugins' JSON parsers (serde_json stops at
/// 128) could not read the object, and one such object would fail a
/// validator's whole batch.
pub const MAX_DEPTH: usize = 100;

/// One Kubernetes object read from a file or rendered.
///
/// It is kept as its JSON text, which is what validators are sent and what
/// the render cache stores; the value is parsed from it only when needed
/// (writing YAML, a finding's resource), so a warm run that serves objects
/// from the cache never builds most of them.
#[derive(Debug, Clone)]
pub struct Object {
    pub file: Arc<str>,
    /// Index of the YAML document in its file.
    pub document: u32,
    /// Line the document starts on.
    pub line: u32,
    /// JSON pointer of this object inside its document: empty, or
    /// `/items/N` for the items of a `List`.
    pub prefix: String,
    /// Compact JSON, as serde_json writes it (keys in document order).
    json: String,
    value: OnceLock<Value>,
    resource: OnceLock<Option<Resource>>,
    /// Its source document, for mapping field paths to lines.
    pub source: Source,
    /// The target it belongs to, in a repository run.
    pub target: Option<Arc<str>>,
}

impl Object {
    /// An object at `file`'s document `document` (starting on `line`),
    /// with no source lines and no target yet.
    pub fn new(file: Arc<str>, document: u32, line: u32, value: Value) -> Object {
        Object {
            json: value.to_string(),
            value: OnceLock::from(value),
            ..Object::from_json(file, document, line, String::new())
        }
    }

    /// [`Object::new`] from JSON text that serde_json wrote (a cached
    /// render's), parsed only when its value is asked for.
    pub fn from_json(file: Arc<str>, document: u32, line: u32, json: String) -> Object {
        Object {
            file,
            document,
            line,
            prefix: String::new(),
            json,
            value: OnceLock::new(),
            resource: OnceLock::new(),
            source: Source::Unknown,
            target: None,
        }
    }

    /// [`Object::from_json`] whose identity is already known (a cached
    /// render records it), so it is not read from the text again.
    pub fn with_resource(self, resource: Option<Resource>) -> Object {
        Object {
            resource: OnceLock::from(resource),
            ..self
        }
    }

    /// Its compact JSON text.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Its value, parsed on first use.
    pub fn value(&self) -> &Value {
        // The text is serde_json's own output (or checked JSON from the
        // cache), so parsing cannot fail short of a broken invariant.
        self.value
            .get_or_init(|| serde_json::from_str(&self.json).unwrap_or(Value::Null))
    }

    /// The line of a field of this object, or of the document.
    pub fn line_of(&self, pointer: Option<&str>) -> u32 {
        let full = format!("{}{}", self.prefix, pointer.unwrap_or(""));
        let document = match &self.source {
            Source::Parsed(document) => Some(&**document),
            Source::Deferred { file, document } => file.documents().get(*document),
            Source::Unknown => None,
        };
        document.and_then(|d| d.line_of(&full)).unwrap_or(self.line)
    }

    /// Its identity, read from the text without building its value.
    pub fn resource(&self) -> Option<Resource> {
        self.resource
            .get_or_init(|| match self.value.get() {
                Some(value) => Resource::of(value),
                None => Resource::of_json(&self.json).unwrap_or_else(|| Resource::of(self.value())),
            })
            .clone()
    }

    /// What the report needs to list this object, found or not.
    pub fn checked(&self) -> Checked {
        Checked {
            file: self.file.to_string(),
            document: self.document,
            line: self.line,
            resource: self.resource(),
        }
    }
}

/// Where the lines of an object's fields come from.
#[derive(Debug, Clone)]
pub enum Source {
    Parsed(Arc<manifold_yaml::Document>),
    /// A document of a file parsed only if a finding needs a line: objects
    /// served from the render cache, whose sources are known unchanged.
    Deferred {
        file: Arc<DeferredFile>,
        document: usize,
    },
    /// Generated, or from a template: no source lines.
    Unknown,
}

/// A source file, parsed with positions on first use.
#[derive(Debug)]
pub struct DeferredFile {
    root: PathBuf,
    file: String,
    documents: std::sync::OnceLock<Vec<manifold_yaml::Document>>,
}

impl DeferredFile {
    pub fn new(root: &Path, file: &str) -> DeferredFile {
        DeferredFile {
            root: root.to_path_buf(),
            file: file.to_owned(),
            documents: std::sync::OnceLock::new(),
        }
    }

    /// Its documents; none if it can no longer be read or parsed.
    pub fn documents(&self) -> &[manifold_yaml::Document] {
        self.documents
            .get_or_init(|| parse_with_positions(&self.root, &self.file))
    }
}

/// The documents of a repository file, with the positions of their fields;
/// none if it cannot be read or parsed. The name comes from a plugin's
/// answer, so it is read as the plugin itself reads: confined to the
/// repository and size-capped (a `/dev/zero` would otherwise fill the
/// host's memory).
pub fn parse_with_positions(root: &Path, file: &str) -> Vec<manifold_yaml::Document> {
    let Ok(bytes) = crate::runtime::RepoFs::new(root).and_then(|mut fs| {
        fs.read(file)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::NotFound))
    }) else {
        return Vec::new();
    };
    let options = ParseOptions {
        positions: true,
        ..ParseOptions::default()
    };
    manifold_yaml::parse_bytes(&bytes, &options).unwrap_or_default()
}

/// What reading the inputs produced.
#[derive(Debug, Default)]
pub struct Inputs {
    pub objects: Vec<Object>,
    /// Problems with the inputs themselves.
    pub problems: Vec<Diagnostic>,
    /// Paths given that do not exist (a usage error).
    pub missing: Vec<PathBuf>,
    pub files: usize,
    pub documents: usize,
}

/// Files a folder walk leaves out: they configure tools, they are not
/// manifests (named explicitly, they are read like any file).
fn is_tool_file(name: &str) -> bool {
    matches!(
        name,
        "kustomization.yaml"
            | "kustomization.yml"
            | "Kustomization"
            | "Chart.yaml"
            | "manifold.yaml"
            | ".pre-commit-hooks.yaml"
            | ".pre-commit-config.yaml"
    )
}

/// How inputs are read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Duplicate mapping keys: an error (kubeconform `-strict`, the
    /// default) or the last one wins.
    pub duplicate_keys: Duplicates,
    /// Files and folders that are not manifests to check (policies, data:
    /// cluster state), left out of folder walks.
    pub exclude: Vec<PathBuf>,
    /// Files whose path (as shown in reports) matches one of these are left
    /// out (kubeconform `--ignore-filename-pattern`).
    pub ignore: Vec<regex::Regex>,
}

/// Lists the manifest files under `paths`, in a stable order, leaving out
/// those under `exclude`.
pub fn discover(paths: &[PathBuf], exclude: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut files),
            Ok(_) => files.push(path.clone()),
            Err(_) => missing.push(path.clone()),
        }
    }
    let excluded: Vec<PathBuf> = exclude
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    if !excluded.is_empty() {
        files.retain(|f| {
            std::fs::canonicalize(f).map_or(true, |f| !excluded.iter().any(|e| f.starts_with(e)))
        });
    }
    (files, missing)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    // A Helm chart's templates are not manifests until rendered.
    if entries
        .iter()
        .any(|p| p.file_name().is_some_and(|n| n == "Chart.yaml"))
    {
        return;
    }
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, files);
        } else if (name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json"))
            && !is_tool_file(name)
        {
            files.push(path);
        }
    }
}

/// Reads and parses every file under `paths`.
pub fn read(paths: &[PathBuf], options: &ReadOptions) -> Inputs {
    let (mut files, missing) = discover(paths, &options.exclude);
    files.retain(|f| {
        let shown = display(f);
        !options.ignore.iter().any(|re| re.is_match(&shown))
    });
    let mut inputs = Inputs {
        missing,
        files: files.len(),
        ..Inputs::default()
    };
    for path in &files {
        let name = display(path);
        if let Some(problem) = too_large(&name, path) {
            inputs.problems.push(problem);
            continue;
        }
        match std::fs::read(path) {
            Ok(bytes) => parse_into(&name, &bytes, options.duplicate_keys, &mut inputs),
            Err(e) => inputs.problems.push(Diagnostic::input(
                "read",
                &name,
                None,
                format!("cannot read the file: {e}"),
            )),
        }
    }
    inputs
}

/// A finding when the file at `path` is over [`MAX_FILE_BYTES`]: checked
/// before reading, so a huge file costs no memory.
pub(crate) fn too_large(name: &str, path: &Path) -> Option<Diagnostic> {
    let meta = std::fs::metadata(path).ok()?;
    (meta.len() > MAX_FILE_BYTES).then(|| {
        Diagnostic::input(
            "read",
            name,
            None,
            format!(
                "the file is {} MiB; manifold reads manifests of up to {} MiB (is it generated output that belongs in .gitignore or manifold.yaml `ignore`?)",
                meta.len() >> 20,
                MAX_FILE_BYTES >> 20
            ),
        )
    })
}

/// Parses one file's bytes into objects and problems.
pub fn parse_into(name: &str, bytes: &[u8], duplicate_keys: Duplicates, inputs: &mut Inputs) {
    let options = ParseOptions {
        duplicate_keys,
        positions: true,
        max_depth: MAX_DEPTH,
        ..ParseOptions::default()
    };
    let documents = match manifold_yaml::parse_bytes(bytes, &options) {
        Ok(documents) => documents,
        Err(e) => {
            inputs.problems.push(Diagnostic {
                column: Some(e.column),
                ..Diagnostic::input(
                    "yaml",
                    name,
                    Some(e.line),
                    format!("not valid YAML: {}", e.message),
                )
            });
            return;
        }
    };
    let file: Arc<str> = Arc::from(name);
    if documents.iter().all(|d| d.value.is_null()) {
        inputs.problems.push(Diagnostic {
            severity: crate::report::Severity::Warning,
            ..Diagnostic::input("empty", name, None, "the file holds no documents".into())
        });
        return;
    }
    for document in documents {
        if document.value.is_null() {
            continue;
        }
        inputs.documents += 1;
        let index = u32::try_from(document.index).unwrap_or(u32::MAX);
        let line = document.line;
        let source = Arc::new(document);
        let problem = |message: String| Diagnostic {
            document: Some(index),
            ..Diagnostic::input("not-kubernetes", name, Some(line), message)
        };
        let value = &source.value;
        let Some(map) = value.as_object() else {
            inputs.problems.push(problem(format!(
                "document {index} is {}, not a Kubernetes object (a mapping with apiVersion and kind)",
                kind_of(value)
            )));
            continue;
        };
        let mut missing: Vec<&str> = ["apiVersion", "kind"]
            .into_iter()
            .filter(|k| !map.get(*k).is_some_and(Value::is_string))
            .collect();
        if !missing.is_empty() {
            missing.iter_mut().for_each(|k| {
                *k = if *k == "apiVersion" {
                    "'apiVersion'"
                } else {
                    "'kind'"
                }
            });
            inputs.problems.push(problem(format!(
                "document {index} is not a Kubernetes object: missing {} key",
                missing.join(" and ")
            )));
            continue;
        }
        let is_list = map
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k == "List" || k.ends_with("List"))
            && map.get("items").is_some_and(Value::is_array);
        if is_list {
            let items = map
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (i, item) in items.into_iter().enumerate() {
                let mut object = Object::new(file.clone(), index, line, item);
                object.prefix = format!("/items/{i}");
                object.source = Source::Parsed(source.clone());
                if object.resource().is_none() {
                    inputs.problems.push(problem(format!(
                        "item {i} of the list in document {index} lacks apiVersion or kind"
                    )));
                    continue;
                }
                inputs.objects.push(object);
            }
            continue;
        }
        let mut object = Object::new(file.clone(), index, line, source.value.clone());
        object.source = Source::Parsed(source.clone());
        inputs.objects.push(object);
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A path as the user would write it: relative paths stay relative.
pub fn display(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./")
        .map(str::to_owned)
        .unwrap_or_else(|| text.into_owned())
}

/// How deeply `value` nests (a scalar is 0), counted without recursion so
/// that measuring a hostile object cannot overflow the stack.
pub fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((value, level)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        deepest = deepest.max(level + 1);
        stack.extend(children.map(|child| (child, level + 1)));
    }
    deepest
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_object_from_text_is_the_object_from_its_value() {
        let value = serde_json::json!({
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"z": "1", "a": "2"}},
            "spec": {"replicas": 3, "ratio": 0.5, "big": 18446744073709551615u64, "s": "é\"\n"}
        });
        let parsed = Object::new(Arc::from("a.yaml"), 1, 7, value.clone());
        let text = Object::from_json(Arc::from("a.yaml"), 1, 7, parsed.json().to_owned());
        assert_eq!(text.json(), parsed.json());
        assert_eq!(text.resource(), parsed.resource());
        assert_eq!(text.resource().unwrap().name.as_deref(), Some("web"));
        assert_eq!(text.value(), &value);
        // Keys keep their order through the text.
        assert!(text.json().find("\"kind\"") < text.json().find("\"apiVersion\""));
    }

    #[test]
    fn depth_counts_nested_collections() {
        assert_eq!(depth(&serde_json::json!(1)), 0);
        assert_eq!(depth(&serde_json::json!({"a": 1})), 1);
        assert_eq!(depth(&serde_json::json!({"a": [1, {"b": []}], "c": {}})), 4);
    }

    #[test]
    fn documents_deeper_than_the_bound_are_findings() {
        // The object itself and `spec`'s levels - 1 lists.
        let nested = |levels: usize| {
            format!(
                "apiVersion: v1\nkind: X\nspec: {}1{}\n",
                "[".repeat(levels - 1),
                "]".repeat(levels - 1)
            )
        };
        let mut inputs = Inputs::default();
        parse_into(
            "ok.yaml",
            nested(MAX_DEPTH).as_bytes(),
            Duplicates::Error,
            &mut inputs,
        );
        assert_eq!(inputs.objects.len(), 1);
        assert!(inputs.problems.is_empty(), "{:?}", inputs.problems);
        parse_into(
            "deep.yaml",
            nested(MAX_DEPTH + 1).as_bytes(),
            Duplicates::Error,
            &mut inputs,
        );
        assert_eq!(inputs.objects.len(), 1);
        assert!(
            inputs.problems[0]
                .message
                .contains("nesting deeper than 100 levels")
        );
    }

    fn parse(text: &[u8]) -> Inputs {
        let mut inputs = Inputs::default();
        parse_into("f.yaml", text, Duplicates::Error, &mut inputs);
        inputs
    }

    #[test]
    fn table() {
        // (input, objects, problem rules with lines)
        let cases: Vec<(&[u8], usize, Vec<&str>)> = vec![
            (b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", 1, vec![]),
            (b"---\napiVersion: v1\nkind: A\n---\n---\napiVersion: v1\nkind: B\n", 2, vec![]),
            (b"", 0, vec!["manifold/empty"]),
            (b"# only a comment\n", 0, vec!["manifold/empty"]),
            (b"a: [1\n", 0, vec!["manifold/yaml@2"]),
            (b"apiVersion: v1\nkind: A\nkind: B\n", 0, vec!["manifold/yaml@3"]),
            (b"\xff\xfe", 0, vec!["manifold/yaml@1"]),
            (b"- a\n- b\n", 0, vec!["manifold/not-kubernetes@1"]),
            (b"just a string\n", 0, vec!["manifold/not-kubernetes@1"]),
            (b"kind: A\n", 0, vec!["manifold/not-kubernetes@1"]),
            (b"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: A}\n- {apiVersion: v1, kind: B}\n", 2, vec![]),
            (b"apiVersion: v1\nkind: List\nitems:\n- {kind: A}\n", 0, vec!["manifold/not-kubernetes@1"]),
        ];
        for (text, objects, problems) in cases {
            let inputs = parse(text);
            let got: Vec<String> = inputs
                .problems
                .iter()
                .map(|d| match d.line {
                    Some(line) if d.rule != "manifold/empty" => format!("{}@{line}", d.rule),
                    _ => d.rule.clone(),
                })
                .collect();
            assert_eq!(
                (inputs.objects.len(), got),
                (objects, problems.iter().map(|s| s.to_string()).collect()),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let prev = (b'a' + level - 1) as char;
            let name = (b'a' + level) as char;
            bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let inputs = parse(bomb.as_bytes());
        assert_eq!(inputs.objects.len(), 0);
        assert_eq!(inputs.problems.len(), 1);
        assert_eq!(inputs.problems[0].rule, "manifold/yaml");
    }

    #[test]
    fn field_lines() {
        let inputs =
            parse(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    x: y\n");
        let object = &inputs.objects[0];
        assert_eq!(object.line_of(Some("/metadata/labels")), 5);
        assert_eq!(object.line_of(None), 1);
    }
}
