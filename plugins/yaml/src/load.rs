//! Builds `serde_json` values from saphyr-parser events: anchors and aliases
//! (with an expansion budget), merge keys, duplicate keys, key stringification,
//! tags, the nesting bound and optional line positions.
//!
//! The builder keeps an explicit stack instead of recursing, so the nesting
//! bound is the only limit on depth and hostile input cannot overflow the
//! stack.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use crate::positions::{self, Positions};

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Value};

use crate::resolve::{Resolved, go_format_float, resolve};
use crate::{Document, Duplicates, Error, ParseOptions, Schema};

const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// A completed anchored node, kept so aliases can copy it.
struct Anchored {
    value: Value,
    /// Nodes in `value`, charged to the alias budget at each use.
    nodes: usize,
}

struct PendingKey {
    name: String,
    line: u32,
    col: u32,
    merge: bool,
}

enum Kind {
    Seq(Vec<Value>),
    Map {
        map: Map<String, Value>,
        key: Option<PendingKey>,
        /// Line of each key in insertion order, to report the first
        /// occurrence of a duplicate.
        key_lines: Vec<u32>,
        /// Keys that came from `<<` and may still be overridden explicitly.
        merged: Option<HashSet<String>>,
    },
}

struct Frame {
    kind: Kind,
    anchor: usize,
    nodes: usize,
    /// Pointer hash of the parent, restored when this node ends.
    ptr_saved: u64,
}

struct Loader<'o> {
    opts: &'o ParseOptions,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    alias_nodes: usize,
    root: Option<Value>,
    /// Hash of the current node's JSON pointer (see `positions`).
    ptr: u64,
    positions: Option<Positions>,
}

fn err(span: Span, message: impl Into<String>) -> Error {
    Error {
        message: message.into(),
        line: span.start.line() as u32,
        column: span.start.col() as u32 + 1,
    }
}

fn at(line: u32, col: u32, message: impl Into<String>) -> Error {
    Error {
        message: message.into(),
        line,
        column: col,
    }
}

/// saphyr's messages, reworded where a user deserves plainer words.
fn scan_error(e: &ScanError) -> Error {
    let info = e.info();
    let message = if info.contains("mapping values are not allowed") {
        "mapping values are not allowed here".to_owned()
    } else if info == "recursion limit exceeded" {
        // saphyr counts flow nesting in a u8 and stops at 255.
        "nesting deeper than 255 levels (flow collections)".to_owned()
    } else if info.starts_with("tabs disallowed") || info == "tab cannot be used as indentation" {
        "found a tab character where indentation is expected".to_owned()
    } else {
        info.to_owned()
    };
    Error {
        message,
        line: e.marker().line() as u32,
        column: e.marker().col() as u32 + 1,
    }
}

pub(crate) fn load(text: &str, opts: &ParseOptions) -> Result<Vec<Document>, Error> {
    match crate::fast::parse(text, opts) {
        Ok(docs) => Ok(docs),
        Err(crate::fast::Bail) => load_full(text, opts),
    }
}

/// The full parser: every YAML construct, and the error messages.
pub(crate) fn load_full(text: &str, opts: &ParseOptions) -> Result<Vec<Document>, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::new_from_str(text);
    let mut loader = Loader {
        opts,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        root: None,
        ptr: positions::ROOT,
        positions: None,
    };
    let mut docs = Vec::new();
    let mut doc_line: Option<u32> = None;
    let mut start_line = 1u32;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| scan_error(&e))?;
        let line = span.start.line() as u32;
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                loader.anchors.clear();
                loader.alias_nodes = 0;
                loader.root = None;
                loader.ptr = positions::ROOT;
                loader.positions = opts.positions.then(Positions::new);
                doc_line = None;
                start_line = line;
            }
            Event::DocumentEnd => {
                let value = loader.root.take().unwrap_or(Value::Null);
                if doc_line.is_none() {
                    // An empty document's placeholder scalar sits wherever
                    // the next token is; date it from the document start.
                    if let Some(p) = loader.positions.as_mut() {
                        *p = Positions::new();
                        p.record(positions::ROOT, start_line);
                    }
                }
                docs.push(Document {
                    value,
                    index: docs.len(),
                    line: doc_line.unwrap_or(start_line),
                    positions: loader.positions.take(),
                });
            }
            Event::Alias(id) => {
                doc_line.get_or_insert(line);
                loader.alias(id, span)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                // An empty document still yields an empty scalar, placed at
                // whatever follows; its line is the document start's.
                let empty_root = loader.stack.is_empty()
                    && text.is_empty()
                    && style == ScalarStyle::Plain
                    && anchor == 0
                    && tag.is_none();
                if !empty_root {
                    doc_line.get_or_insert(line);
                }
                loader.scalar(text, style, anchor, tag.as_deref(), span)?;
            }
            Event::SequenceStart(anchor, _) => {
                doc_line.get_or_insert(line);
                loader.start(Kind::Seq(Vec::new()), anchor, span)?;
            }
            Event::MappingStart(anchor, _) => {
                doc_line.get_or_insert(line);
                loader.start(
                    Kind::Map {
                        map: Map::new(),
                        key: None,
                        key_lines: Vec::new(),
                        merged: None,
                    },
                    anchor,
                    span,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => loader.end(span)?,
        }
    }
    Ok(docs)
}

impl Loader<'_> {
    fn awaiting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: Kind::Map { key: None, .. },
                ..
            })
        )
    }

    /// Moves the pointer hash to this node and records its line; returns
    /// the parent's hash to restore afterwards.
    fn enter(&mut self, line: u32) -> u64 {
        let saved = self.ptr;
        let Some(positions) = self.positions.as_mut() else {
            return saved;
        };
        match self.stack.last() {
            Some(Frame {
                kind: Kind::Seq(items),
                ..
            }) => self.ptr = positions::index(saved, items.len()),
            Some(Frame {
                kind: Kind::Map { key: Some(k), .. },
                ..
            }) => {
                self.ptr = positions::key(saved, &k.name);
                // A field is reported where its key stands: for a nested
                // mapping or a block scalar the value starts a line later.
                positions.record(self.ptr, k.line);
                return saved;
            }
            _ => {}
        }
        positions.record(self.ptr, line);
        saved
    }

    fn start(&mut self, kind: Kind, anchor: usize, span: Span) -> Result<(), Error> {
        if self.awaiting_key() {
            return Err(err(
                span,
                "a mapping key must be a scalar, not a collection",
            ));
        }
        if self.stack.len() >= self.opts.max_depth {
            return Err(err(
                span,
                format!("nesting deeper than {} levels", self.opts.max_depth),
            ));
        }
        let ptr_saved = self.enter(span.start.line() as u32);
        self.stack.push(Frame {
            kind,
            anchor,
            nodes: 1,
            ptr_saved,
        });
        Ok(())
    }

    fn end(&mut self, span: Span) -> Result<(), Error> {
        let Some(frame) = self.stack.pop() else {
            return Err(err(span, "unbalanced end of collection"));
        };
        self.ptr = frame.ptr_saved;
        let value = match frame.kind {
            Kind::Seq(items) => Value::Array(items),
            Kind::Map { map, key, .. } => {
                if let Some(k) = key {
                    return Err(at(k.line, k.col, format!("key {:?} has no value", k.name)));
                }
                Value::Object(map)
            }
        };
        if frame.anchor != 0 {
            self.anchors.insert(
                frame.anchor,
                Anchored {
                    value: value.clone(),
                    nodes: frame.nodes,
                },
            );
        }
        self.attach(value, frame.nodes, span)
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<(), Error> {
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(err(span, "alias to an unknown anchor"));
        };
        let nodes = anchored.nodes;
        self.alias_nodes = self.alias_nodes.saturating_add(nodes);
        if self.alias_nodes > self.opts.max_alias_nodes {
            return Err(err(
                span,
                format!(
                    "alias expansion exceeds {} nodes (a YAML bomb?)",
                    self.opts.max_alias_nodes
                ),
            ));
        }
        let value = anchored.value.clone();
        if self.awaiting_key() {
            let name = self.key_from_value(&value, span)?;
            return self.set_key(name, false, span);
        }
        self.ptr = self.enter(span.start.line() as u32);
        self.attach(value, nodes, span)
    }

    fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<(), Error> {
        let core = tag.map(core_tag);
        if self.awaiting_key() {
            let plain = style == ScalarStyle::Plain;
            let merge = plain && text == "<<" && matches!(core, None | Some(Some("merge")));
            let (name, value) = if plain && core.is_none() {
                let resolved = resolve(&text, self.opts.schema);
                let name = self.key_from_resolved(&resolved, &text, span)?;
                (name, resolved.into_value(&text))
            } else {
                let value = self.tagged(&text, style, core, span)?;
                (self.key_from_value(&value, span)?, value)
            };
            if anchor != 0 {
                self.anchors.insert(anchor, Anchored { value, nodes: 1 });
            }
            return self.set_key(name, merge, span);
        }
        let value = self.tagged(&text, style, core, span)?;
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    value: value.clone(),
                    nodes: 1,
                },
            );
        }
        self.ptr = self.enter(span.start.line() as u32);
        self.attach(value, 1, span)
    }

    /// The value of a scalar given its style and its tag (`core` is the
    /// core-schema name such as `int`, or `Some(None)` for any other tag).
    fn tagged(
        &self,
        text: &str,
        style: ScalarStyle,
        core: Option<Option<&str>>,
        span: Span,
    ) -> Result<Value, Error> {
        let Some(core) = core else {
            if style == ScalarStyle::Plain {
                return Ok(resolve(text, self.opts.schema).into_value(text));
            }
            return Ok(Value::String(text.to_owned()));
        };
        // go-yaml keeps the text of scalars with tags it does not know.
        let Some(name) = core else {
            return Ok(Value::String(text.to_owned()));
        };
        let resolved = resolve(text, self.opts.schema);
        let mismatch = || err(span, format!("cannot decode {text:?} as a !!{name}"));
        match name {
            "null" => match resolved {
                Resolved::Null => Ok(Value::Null),
                _ => Err(mismatch()),
            },
            "bool" => match resolved {
                Resolved::Bool(b) => Ok(Value::Bool(b)),
                _ => Err(mismatch()),
            },
            "int" => match resolved {
                Resolved::Int(_) | Resolved::Uint(_) => Ok(resolved.into_value(text)),
                _ => Err(mismatch()),
            },
            "float" => match resolved {
                Resolved::Int(i) => Ok(Resolved::Float(i as f64).into_value(text)),
                Resolved::Uint(u) => Ok(Resolved::Float(u as f64).into_value(text)),
                Resolved::Float(_) | Resolved::NonFinite => Ok(resolved.into_value(text)),
                _ => Err(mismatch()),
            },
            _ => Ok(Value::String(text.to_owned())),
        }
    }

    fn key_from_resolved(&self, r: &Resolved, text: &str, span: Span) -> Result<String, Error> {
        key_from_resolved(r, text, self.opts.schema)
            .ok_or_else(|| err(span, "a mapping key cannot be null"))
    }

    fn key_from_value(&self, v: &Value, span: Span) -> Result<String, Error> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Number(n) => Ok(match n.as_f64() {
                Some(f) if n.is_f64() => go_format_float(f, self.opts.schema == Schema::Yaml11),
                _ => n.to_string(),
            }),
            Value::Null => Err(err(span, "a mapping key cannot be null")),
            Value::Array(_) | Value::Object(_) => Err(err(
                span,
                "a mapping key must be a scalar, not a collection",
            )),
        }
    }

    fn set_key(&mut self, name: String, merge: bool, span: Span) -> Result<(), Error> {
        let line = span.start.line() as u32;
        let col = span.start.col() as u32 + 1;
        let dup_error = self.opts.duplicate_keys == Duplicates::Error;
        let Some(Frame {
            kind:
                Kind::Map {
                    map,
                    key,
                    key_lines,
                    merged,
                },
            ..
        }) = self.stack.last_mut()
        else {
            return Err(err(span, "internal: key outside a mapping"));
        };
        if !merge && dup_error && map.contains_key(&name) {
            let overrides_merge = merged.as_ref().is_some_and(|m| m.contains(&name));
            if !overrides_merge {
                let first = map
                    .keys()
                    .position(|k| *k == name)
                    .and_then(|i| key_lines.get(i))
                    .copied()
                    .unwrap_or(0);
                return Err(at(
                    line,
                    col,
                    format!("duplicate key {name:?} (first at line {first})"),
                ));
            }
        }
        *key = Some(PendingKey {
            name,
            line,
            col,
            merge,
        });
        Ok(())
    }

    fn attach(&mut self, value: Value, nodes: usize, span: Span) -> Result<(), Error> {
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(value);
            return Ok(());
        };
        top.nodes = top.nodes.saturating_add(nodes);
        match &mut top.kind {
            Kind::Seq(items) => items.push(value),
            Kind::Map {
                map,
                key,
                key_lines,
                merged,
            } => {
                let Some(k) = key.take() else {
                    return Err(err(span, "internal: value without a key"));
                };
                if k.merge {
                    merge_into(map, key_lines, merged, value, k.line)
                        .map_err(|m| at(k.line, k.col, m))?;
                } else {
                    if let Some(m) = merged.as_mut() {
                        m.remove(&k.name);
                    }
                    if map.insert(k.name, value).is_none() {
                        key_lines.push(k.line);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Map keys become strings the way each Go library does it: kyaml
/// (go-yaml v3) keeps the scalar's text, sigs.k8s.io/yaml (go-yaml v2)
/// formats the decoded value. `None` for a null key.
pub(crate) fn key_from_resolved(r: &Resolved, text: &str, schema: Schema) -> Option<String> {
    match (r, schema) {
        (Resolved::Null, _) => None,
        (_, Schema::Yaml12) => Some(text.to_owned()),
        (Resolved::Bool(b), Schema::Yaml11) => Some(b.to_string()),
        (Resolved::Int(i), Schema::Yaml11) => Some(i.to_string()),
        (Resolved::Uint(u), Schema::Yaml11) => Some(u.to_string()),
        (Resolved::Float(f), Schema::Yaml11) => Some(go_format_float(*f, true)),
        (_, Schema::Yaml11) => Some(text.to_owned()),
    }
}

/// Applies a `<<` value: explicit keys and earlier merges win, so only keys
/// not yet present are added (at the position of the `<<` key).
fn merge_into(
    map: &mut Map<String, Value>,
    key_lines: &mut Vec<u32>,
    merged: &mut Option<HashSet<String>>,
    value: Value,
    line: u32,
) -> Result<(), String> {
    let sources = match value {
        Value::Object(m) => vec![m],
        Value::Array(items) => {
            let mut maps = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Object(m) => maps.push(m),
                    _ => return Err("merge key (<<) needs a mapping or a list of mappings".into()),
                }
            }
            maps
        }
        _ => return Err("merge key (<<) needs a mapping or a list of mappings".into()),
    };
    let set = merged.get_or_insert_with(HashSet::new);
    for source in sources {
        for (k, v) in source {
            if !map.contains_key(&k) {
                set.insert(k.clone());
                map.insert(k, v);
                key_lines.push(line);
            }
        }
    }
    Ok(())
}

/// `Some(name)` for a core-schema tag (`!!int` -> `int`), `None` for others.
fn core_tag(tag: &Tag) -> Option<&str> {
    if tag.handle == CORE_TAG_PREFIX {
        return Some(tag.suffix.as_str());
    }
    if tag.handle.is_empty() || tag.handle == "!" {
        return tag.suffix.strip_prefix(CORE_TAG_PREFIX);
    }
    None
}
