//! manifold's YAML layer, shared by the host and the Wasm plugins: parses
//! YAML streams into `serde_json` values (go-yaml v3 or v2 scalar rules) and
//! prints values back the way kustomize does.
//!
//! Parsing has two paths. A byte-level fast path (`fast.rs`) handles the
//! YAML Kubernetes repositories are made of (block and flow collections,
//! plain/quoted/literal/folded scalars, comments, `---` streams) straight
//! into values. Anything else (anchors, aliases, merge keys, tags,
//! directives, complex keys, tabs, CR line ends) and every error goes to the
//! full parser: `saphyr-parser` events (pure Rust, YAML 1.2, spans) turned
//! into values with bounded depth and alias expansion, so hostile input
//! fails fast instead of exhausting memory or the stack. Differential and
//! mutation tests hold the two paths to the same values and lines.
//!
//! Printing (`emit.rs`) reproduces what `kustomize build` and Helm's
//! `toYaml` print (sigs.k8s.io/yaml: go-yaml v2 after a JSON hop). Use
//! [`EmitOptions::kustomize`] for byte-identical output (natural key order);
//! the default keeps the value's key order.

mod emit;
mod fast;
mod load;
mod positions;
mod resolve;

pub use emit::EmitOptions;
pub use serde_json::{Map, Number, Value};

/// How plain (unquoted) scalars become values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schema {
    /// go-yaml v3 as used by kustomize/kyaml: `true`/`false` only, `0777`,
    /// `0o17`, `0x1F`, `1_000` are numbers; map keys keep their text.
    #[default]
    Yaml12,
    /// go-yaml v2 as used by sigs.k8s.io/yaml (Helm, kubectl): also
    /// `yes`/`no`/`on`/`off`/`y`/`n` are booleans; map keys are formatted
    /// from their decoded value (`y: 1` has key `"true"`).
    Yaml11,
}

/// What to do when a mapping repeats a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Duplicates {
    /// Fail, naming both lines.
    #[default]
    Error,
    /// Keep the last value (at the first key's position).
    LastWins,
}

/// Parser settings.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// How plain scalars resolve.
    pub schema: Schema,
    /// Duplicate key policy.
    pub duplicate_keys: Duplicates,
    /// Deepest nesting of collections accepted.
    pub max_depth: usize,
    /// Budget of nodes copied by alias expansion, per document.
    pub max_alias_nodes: usize,
    /// Record node lines for [`Document::line_of`].
    pub positions: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            schema: Schema::Yaml12,
            duplicate_keys: Duplicates::Error,
            max_depth: 256,
            max_alias_nodes: 1_000_000,
            positions: false,
        }
    }
}

/// One document of a YAML stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The content; `Value::Null` for an empty document.
    pub value: Value,
    /// 0-based position in the stream; empty documents count.
    pub index: usize,
    /// 1-based line where the document's content starts.
    pub line: u32,
    positions: Option<positions::Positions>,
}

impl Document {
    /// A document without recorded positions.
    pub fn new(value: Value, index: usize, line: u32) -> Self {
        Document {
            value,
            index,
            line,
            positions: None,
        }
    }

    /// Line of the node at `json_pointer` (RFC 6901, `""` is the root), or
    /// of its nearest recorded ancestor. Needs `positions: true`. A mapping
    /// value is reported at its key's line (the first key if duplicated), a
    /// sequence item where it starts (a block scalar at its first line of
    /// text); nodes copied from aliases or merge keys report the alias.
    pub fn line_of(&self, json_pointer: &str) -> Option<u32> {
        let positions = self.positions.as_ref()?;
        Some(positions.lookup(json_pointer).unwrap_or(self.line))
    }
}

/// A YAML error with its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct Error {
    /// What went wrong.
    pub message: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// Parses every document of a YAML stream.
pub fn parse_documents(text: &str, opts: &ParseOptions) -> Result<Vec<Document>, Error> {
    load::load(text, opts)
}

/// Like [`parse_documents`] for raw bytes; invalid UTF-8 is an error at the
/// bad byte.
pub fn parse_bytes(bytes: &[u8], opts: &ParseOptions) -> Result<Vec<Document>, Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_documents(text, opts),
        Err(e) => {
            let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let line = good.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let col = String::from_utf8_lossy(good.get(line_start..).unwrap_or_default())
                .chars()
                .count() as u32
                + 1;
            Err(Error {
                message: "invalid UTF-8".into(),
                line,
                column: col,
            })
        }
    }
}

/// Parses exactly one document with default options (an empty stream is
/// `Null`; more than one document is an error).
pub fn from_str(text: &str) -> Result<Value, Error> {
    let mut docs = parse_documents(text, &ParseOptions::default())?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.pop().map(|d| d.value).unwrap_or(Value::Null)),
        _ => {
            let line = docs.get(1).map_or(1, |d| d.line);
            Err(Error {
                message: format!("expected one document, found {}", docs.len()),
                line,
                column: 1,
            })
        }
    }
}

/// Test hooks comparing the fast path with the full parser; not API.
#[doc(hidden)]
pub mod testing {
    use super::{Document, Error, ParseOptions};

    /// The fast path alone: `None` where it defers to the full parser.
    pub fn fast(text: &str, opts: &ParseOptions) -> Option<Vec<Document>> {
        crate::fast::parse(text, opts).ok()
    }

    /// The full (saphyr-based) parser alone.
    pub fn full(text: &str, opts: &ParseOptions) -> Result<Vec<Document>, Error> {
        crate::load::load_full(text, opts)
    }
}

/// Prints one document (no leading `---`, ends with a newline).
pub fn to_string(value: &Value) -> String {
    to_string_with(value, &EmitOptions::default())
}

/// [`to_string`] with explicit emitter settings.
pub fn to_string_with(value: &Value, opts: &EmitOptions) -> String {
    let mut e = emit::Emitter::new(opts, 256);
    e.document(value);
    e.finish()
}

/// Prints documents separated by `---` lines, as `kustomize build` does.
pub fn to_string_stream(docs: &[Value]) -> String {
    to_string_stream_with(docs, &EmitOptions::default())
}

/// [`to_string_stream`] with explicit emitter settings.
pub fn to_string_stream_with(docs: &[Value], opts: &EmitOptions) -> String {
    let mut e = emit::Emitter::new(opts, docs.len() * 512);
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            e.separator();
        }
        e.document(d);
    }
    e.finish()
}
