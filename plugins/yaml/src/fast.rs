//! Fast path for the YAML that Kubernetes repositories are made of: block
//! mappings and sequences, plain and quoted scalars, literal blocks, simple
//! flow collections and comments, parsed straight into values.
//!
//! saphyr-parser runs at roughly 10 MB/s and allocates per event; this byte
//! scanner is several times faster. It gives up ([`Bail`]) on anything it
//! does not handle exactly like the full parser (anchors, aliases, tags,
//! folded blocks, directives, complex keys, merge keys, tabs, CR line ends)
//! and on every error, and the caller then re-parses with the full parser,
//! which also produces the error messages. Differential tests hold the two
//! paths to the same values.

use serde_json::{Map, Value};

use crate::load::key_from_resolved;
use crate::positions::{self, Positions};
use crate::resolve::resolve;
use crate::{Document, Duplicates, ParseOptions};

/// The fast path cannot handle this input; use the full parser.
#[derive(Debug)]
pub(crate) struct Bail;

type R<T> = Result<T, Bail>;

/// Recursion guard independent of `max_depth`, so a large configured bound
/// cannot overflow the stack here (the full parser has no recursion).
const MAX_RECURSION: usize = 400;

/// Longest implicit key YAML allows.
const MAX_KEY_LEN: usize = 1024;

pub(crate) fn parse(text: &str, opts: &ParseOptions) -> R<Vec<Document>> {
    if !plain_characters(text.as_bytes()) {
        return Err(Bail);
    }
    let mut p = Fast {
        b: text.as_bytes(),
        s: text,
        pos: 0,
        line: 1,
        line_start: 0,
        depth: 0,
        max_depth: opts.max_depth.min(MAX_RECURSION),
        opts,
        ptr: positions::ROOT,
        positions: None,
        entries: Vec::new(),
        items: Vec::new(),
        root_block_line: None,
    };
    p.documents()
}

/// No CR (line ends the fast path does not track) and nothing YAML counts
/// as unprintable: C0/C1 controls other than tab and LF, DEL, U+FFFE/FFFF,
/// and a byte-order mark past the start.
fn plain_characters(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x20 {
            if c != b'\n' && c != b'\t' {
                return false;
            }
        } else if c == 0x7f {
            return false;
        } else if c == 0xc2 {
            if matches!(b.get(i + 1), Some(&n) if (0x80..=0x9f).contains(&n) && n != 0x85) {
                return false;
            }
        } else if c == 0xef {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(0xbf), Some(0xbe | 0xbf)) => return false,
                (Some(0xbb), Some(0xbf)) if i > 0 => return false,
                _ => {}
            }
        }
        i += 1;
    }
    true
}

struct Fast<'a> {
    b: &'a [u8],
    s: &'a str,
    pos: usize,
    /// 1-based line of `pos`.
    line: u32,
    line_start: usize,
    depth: usize,
    max_depth: usize,
    opts: &'a ParseOptions,
    /// Hash of the current node's JSON pointer (see `positions`).
    ptr: u64,
    positions: Option<Positions>,
    /// Scratch stacks: collections gather their children here and are
    /// then built with their exact size, saving the growth reallocations.
    entries: Vec<(String, Value)>,
    items: Vec<Value>,
    /// Where a block scalar that is a whole document starts its text: the
    /// full parser dates such documents from there.
    root_block_line: Option<u32>,
}

/// How a node may start where it was found.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    /// Alone on its line or after `- `: may open a block collection.
    Block,
    /// After `key: `: only a scalar or flow collection may follow.
    Value,
}

impl<'a> Fast<'a> {
    #[inline]
    fn peek(&self, k: usize) -> u8 {
        self.b.get(self.pos + k).copied().unwrap_or(0)
    }

    #[inline]
    fn col(&self) -> usize {
        self.pos - self.line_start
    }

    #[inline]
    fn at_eol(&self) -> bool {
        matches!(self.b.get(self.pos), None | Some(b'\n'))
    }

    fn skip_spaces(&mut self) -> R<()> {
        while let Some(&c) = self.b.get(self.pos) {
            match c {
                b' ' => self.pos += 1,
                b'\t' => return Err(Bail),
                _ => break,
            }
        }
        Ok(())
    }

    /// Consumes the newline at `pos` (which must be at a line end).
    fn newline(&mut self) {
        if self.pos < self.b.len() {
            self.pos += 1;
            self.line += 1;
            self.line_start = self.pos;
        }
    }

    /// The rest of the line must be blank or a comment; moves to the next
    /// line's start.
    fn finish_line(&mut self) -> R<()> {
        self.skip_spaces()?;
        match self.b.get(self.pos) {
            None => Ok(()),
            Some(b'\n') => {
                self.newline();
                Ok(())
            }
            Some(b'#') if self.pos > self.line_start && self.b[self.pos - 1] == b' ' => {
                self.skip_to_eol();
                self.newline();
                Ok(())
            }
            Some(b'#') if self.pos == self.line_start => {
                self.skip_to_eol();
                self.newline();
                Ok(())
            }
            _ => Err(Bail),
        }
    }

    fn skip_to_eol(&mut self) {
        match self.b[self.pos..].iter().position(|&c| c == b'\n') {
            Some(i) => self.pos += i,
            None => self.pos = self.b.len(),
        }
    }

    /// From a line start, skips blank and comment lines; leaves `pos` at the
    /// first non-space byte of the next content line and returns its indent,
    /// or `None` at the end of input.
    fn next_content(&mut self) -> R<Option<usize>> {
        loop {
            self.skip_spaces()?;
            match self.b.get(self.pos) {
                None => return Ok(None),
                Some(b'\n') => self.newline(),
                Some(b'#') => {
                    self.skip_to_eol();
                    self.newline();
                }
                Some(_) => return Ok(Some(self.col())),
            }
        }
    }

    fn at_doc_marker(&self) -> bool {
        let rest = &self.b[self.pos..];
        self.col() == 0
            && (rest.starts_with(b"---") || rest.starts_with(b"..."))
            && matches!(rest.get(3), None | Some(b' ' | b'\n' | b'\t'))
    }

    fn documents(&mut self) -> R<Vec<Document>> {
        if self.s.starts_with('\u{feff}') {
            self.pos = 3;
            self.line_start = 3;
        }
        let mut docs = Vec::new();
        let mut indent = self.next_content()?;
        while let Some(i) = indent {
            self.positions = self.opts.positions.then(Positions::new);
            self.ptr = positions::ROOT;
            if i == 0 && self.at_doc_marker() {
                if self.b[self.pos] == b'.' {
                    return Err(Bail);
                }
                let start_line = self.line;
                self.pos += 3;
                self.finish_line()?;
                indent = self.next_content()?;
                let empty = match indent {
                    None => true,
                    Some(0) if self.at_doc_marker() => true,
                    Some(_) => false,
                };
                if empty {
                    self.push_doc(&mut docs, Value::Null, start_line);
                    continue;
                }
            }
            let line = self.line;
            self.root_block_line = None;
            let value = self.node(-1, Place::Block)?;
            let line = self.root_block_line.unwrap_or(line);
            self.record(line);
            self.push_doc(&mut docs, value, line);
            indent = self.current_indent();
            match indent {
                None => {}
                Some(0) if self.at_doc_marker() => {}
                Some(_) => return Err(Bail),
            }
        }
        Ok(docs)
    }

    fn push_doc(&mut self, docs: &mut Vec<Document>, value: Value, line: u32) {
        docs.push(Document {
            value,
            index: docs.len(),
            line,
            positions: self.positions.take(),
        });
    }

    /// Indent of the content line `pos` sits on, `None` at the end.
    fn current_indent(&self) -> Option<usize> {
        (self.pos < self.b.len()).then(|| self.col())
    }

    fn record(&mut self, line: u32) {
        if let Some(p) = self.positions.as_mut() {
            p.record(self.ptr, line);
        }
    }

    /// Moves the pointer hash to child `seg`; returns the parent's hash.
    fn push_segment(&mut self, seg: &str) -> u64 {
        let saved = self.ptr;
        if self.positions.is_some() {
            self.ptr = positions::key(saved, seg);
        }
        saved
    }

    fn push_index(&mut self, i: usize) -> u64 {
        let saved = self.ptr;
        if self.positions.is_some() {
            self.ptr = positions::index(saved, i);
        }
        saved
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(Bail);
        }
        Ok(())
    }

    /// A node starting at `pos`; `parent` is the indent of the enclosing
    /// block collection (-1 at the top). Leaves `pos` on the next content
    /// line.
    fn node(&mut self, parent: isize, place: Place) -> R<Value> {
        let c = self.peek(0);
        let next = self.b.get(self.pos + 1).copied();
        if next == Some(b'\t') {
            return Err(Bail);
        }
        let next_blank = matches!(next, None | Some(b' ' | b'\n'));
        match c {
            b'-' if next_blank => {
                if place != Place::Block {
                    return Err(Bail);
                }
                let indent = self.col();
                self.block_seq(indent)
            }
            b'[' | b'{' => {
                let v = self.flow_node(parent)?;
                self.skip_spaces()?;
                if self.peek(0) == b':' {
                    return Err(Bail);
                }
                self.finish_line()?;
                self.next_content()?;
                Ok(v)
            }
            b'"' | b'\'' => {
                let indent = self.col();
                let start = (self.pos, self.line, self.line_start);
                let s = self.quoted(parent)?;
                self.skip_spaces()?;
                if self.peek(0) == b':' && matches!(self.peek(1), b' ' | b'\n' | 0) {
                    if place != Place::Block || self.line != start.1 {
                        return Err(Bail);
                    }
                    (self.pos, self.line, self.line_start) = start;
                    return self.block_map(indent);
                }
                self.finish_line()?;
                self.next_content()?;
                Ok(Value::String(s))
            }
            b'|' | b'>' => {
                let v = self.block_scalar(parent)?;
                Ok(Value::String(v))
            }
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b'#' | b',' | b']' | b'}' => Err(Bail),
            b':' if next_blank => Err(Bail),
            _ => {
                if self.line_has_key()? {
                    if place != Place::Block {
                        return Err(Bail);
                    }
                    let indent = self.col();
                    return self.block_map(indent);
                }
                self.plain_value(parent)
            }
        }
    }

    /// Whether the plain text starting at `pos` is a mapping key (a `:`
    /// followed by a space or the line end comes before the line ends).
    fn line_has_key(&self) -> R<bool> {
        let mut i = self.pos;
        let b = self.b;
        while i < b.len() {
            match b[i] {
                b'\n' => return Ok(false),
                b':' if matches!(b.get(i + 1), None | Some(b' ' | b'\n')) => return Ok(true),
                b':' if b.get(i + 1) == Some(&b'\t') => return Err(Bail),
                b'#' if i > self.pos && matches!(b[i - 1], b' ' | b'\t') => return Ok(false),
                _ => i += 1,
            }
        }
        Ok(false)
    }

    /// Scans plain text on the current line from `pos`: returns its end
    /// (trailing blanks trimmed) and leaves `pos` at the line end or at the
    /// comment. Bails on a `: ` inside (an error in value position).
    fn plain_line(&mut self) -> R<usize> {
        let b = self.b;
        let mut i = self.pos;
        while i < b.len() {
            match b[i] {
                b'\n' => break,
                b':' if matches!(b.get(i + 1), None | Some(b' ' | b'\n' | b'\t')) => {
                    return Err(Bail);
                }
                b'#' if i > self.pos && matches!(b[i - 1], b' ' | b'\t') => break,
                _ => i += 1,
            }
        }
        let mut end = i;
        while end > self.pos && matches!(b[end - 1], b' ' | b'\t') {
            end -= 1;
        }
        self.pos = i;
        Ok(end)
    }

    fn plain_value(&mut self, parent: isize) -> R<Value> {
        let start = self.pos;
        let end = self.plain_line()?;
        let mut owned: Option<String> = None;
        // Continuation lines: more indented than the parent collection.
        loop {
            if self.b.get(self.pos) != Some(&b'\n') {
                break;
            }
            let save = (self.pos, self.line, self.line_start);
            let mut empty = 0usize;
            self.newline();
            let indent = loop {
                let line_begin = self.pos;
                while self.b.get(self.pos) == Some(&b' ') {
                    self.pos += 1;
                }
                match self.b.get(self.pos) {
                    Some(b'\n') => {
                        empty += 1;
                        self.newline();
                    }
                    Some(b'\t') => return Err(Bail),
                    None => break None,
                    Some(_) => break Some(self.pos - line_begin),
                }
            };
            let continues = match indent {
                Some(i) => i as isize > parent && self.b[self.pos] != b'#' && !self.at_doc_marker(),
                None => false,
            };
            if !continues {
                (self.pos, self.line, self.line_start) = save;
                break;
            }
            let seg_start = self.pos;
            let seg_end = self.plain_line()?;
            let s = owned.get_or_insert_with(|| self.s[start..end].to_owned());
            if empty == 0 {
                s.push(' ');
            } else {
                for _ in 0..empty {
                    s.push('\n');
                }
            }
            s.push_str(&self.s[seg_start..seg_end]);
        }
        self.finish_line()?;
        self.next_content()?;
        let text = owned.as_deref().unwrap_or(&self.s[start..end]);
        Ok(resolve(text, self.opts.schema).into_value(text))
    }

    /// A quoted scalar at `pos` (on the quote); continuation lines must be
    /// indented past `parent`.
    fn quoted(&mut self, parent: isize) -> R<String> {
        let double = self.b[self.pos] == b'"';
        self.pos += 1;
        let mut out = String::new();
        // Escapes write into `out` below this mark, so folding must not
        // trim whitespace they produced.
        let mut protect = 0usize;
        loop {
            let rest = &self.b[self.pos..];
            let stop = if double {
                rest.iter()
                    .position(|&c| c == b'\n' || c == b'"' || c == b'\\')
            } else {
                rest.iter().position(|&c| c == b'\n' || c == b'\'')
            }
            .ok_or(Bail)?;
            out.push_str(&self.s[self.pos..self.pos + stop]);
            self.pos += stop;
            match self.b[self.pos] {
                b'\'' if !double => {
                    if self.peek(1) == b'\'' {
                        out.push('\'');
                        self.pos += 2;
                        protect = out.len();
                    } else {
                        self.pos += 1;
                        return Ok(out);
                    }
                }
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    if self.peek(0) == b'\n' {
                        // Escaped line break: join without a space.
                        self.newline();
                        self.continuation_indent(parent)?;
                        let _ = self.fold_blank_lines(&mut out, parent)?;
                        protect = out.len();
                        continue;
                    }
                    self.escape(&mut out)?;
                    protect = out.len();
                }
                _ => {
                    // A line break folds to a space, blank lines to breaks.
                    while out.len() > protect && out.ends_with([' ', '\t']) {
                        out.pop();
                    }
                    self.newline();
                    self.continuation_indent(parent)?;
                    if !self.fold_blank_lines(&mut out, parent)? {
                        out.push(' ');
                    }
                    protect = out.len();
                }
            }
        }
    }

    /// Skips a continuation line's indentation, which must pass `parent`.
    fn continuation_indent(&mut self, parent: isize) -> R<()> {
        while self.b.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        match self.b.get(self.pos) {
            None | Some(b'\t') => Err(Bail),
            Some(b'\n') => Ok(()),
            Some(_) => {
                // saphyr accepts quoted continuation lines at the parent's
                // own indent (as go-yaml does), not less.
                if (self.col() as isize) < parent || self.at_doc_marker() {
                    return Err(Bail);
                }
                Ok(())
            }
        }
    }

    /// Blank lines inside a quoted scalar become line breaks; returns
    /// whether there were any.
    fn fold_blank_lines(&mut self, out: &mut String, parent: isize) -> R<bool> {
        let mut any = false;
        while self.b.get(self.pos) == Some(&b'\n') {
            out.push('\n');
            any = true;
            self.newline();
            self.continuation_indent(parent)?;
        }
        Ok(any)
    }

    fn escape(&mut self, out: &mut String) -> R<()> {
        let c = self.peek(0);
        self.pos += 1;
        let ch = match c {
            b'0' => '\0',
            b'a' => '\u{7}',
            b'b' => '\u{8}',
            b't' | b'\t' => '\t',
            b'n' => '\n',
            b'v' => '\u{b}',
            b'f' => '\u{c}',
            b'r' => '\r',
            b'e' => '\u{1b}',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' | b'u' | b'U' => {
                let n = match c {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = self.s.get(self.pos..self.pos + n).ok_or(Bail)?;
                if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                    return Err(Bail);
                }
                let v = u32::from_str_radix(hex, 16).map_err(|_| Bail)?;
                self.pos += n;
                char::from_u32(v).ok_or(Bail)?
            }
            _ => return Err(Bail),
        };
        out.push(ch);
        Ok(())
    }

    /// A literal (`|`) or folded (`>`) block scalar, with optional chomping
    /// and indent indicators, whose parent collection is indented `parent`.
    fn block_scalar(&mut self, parent: isize) -> R<String> {
        let folded = self.b[self.pos] == b'>';
        self.pos += 1;
        let mut chomp = b' ';
        let mut digit = 0usize;
        for _ in 0..2 {
            match self.peek(0) {
                c @ (b'+' | b'-') if chomp == b' ' => {
                    chomp = c;
                    self.pos += 1;
                }
                c @ b'1'..=b'9' if digit == 0 => {
                    digit = (c - b'0') as usize;
                    self.pos += 1;
                }
                _ => break,
            }
        }
        if !matches!(self.peek(0), b' ' | b'\n') || self.pos >= self.b.len() {
            return Err(Bail);
        }
        self.finish_line()?;
        let indent = if digit > 0 {
            if parent < 0 {
                return Err(Bail);
            }
            parent as usize + digit
        } else {
            // The first non-blank line sets the indent; leading blank lines
            // may not be longer than it.
            let mut i = self.pos;
            let mut longest_blank = 0;
            loop {
                let begin = i;
                while self.b.get(i) == Some(&b' ') {
                    i += 1;
                }
                match self.b.get(i) {
                    Some(b'\n') => {
                        longest_blank = longest_blank.max(i - begin);
                        i += 1;
                    }
                    None | Some(b'\t') => return Err(Bail),
                    Some(_) => {
                        let n = i - begin;
                        if n as isize <= parent || n == 0 || longest_blank > n {
                            return Err(Bail);
                        }
                        break n;
                    }
                }
            }
        };
        let mut out = String::new();
        let mut pending_breaks = 0usize;
        let mut any_content = false;
        let mut prev_spaced = false;
        // The full parser places a block scalar at its first non-blank line.
        let mut text_line = self.line;
        for line in self.b[self.pos..].split(|&c| c == b'\n') {
            if line.iter().any(|&c| c != b' ') {
                break;
            }
            text_line += 1;
        }
        self.record(text_line);
        if self.depth == 0 {
            self.root_block_line = Some(text_line);
        }
        loop {
            let begin = self.pos;
            let mut i = begin;
            while i < self.b.len() && self.b[i] == b' ' && i - begin < indent {
                i += 1;
            }
            let line_end = self.b[i..].iter().position(|&c| c == b'\n').map(|k| i + k);
            let blank_rest = self.b[i..line_end.unwrap_or(self.b.len())]
                .iter()
                .all(|&c| c == b' ');
            if i - begin < indent {
                if !blank_rest || i == self.b.len() {
                    // Less indented content (or the end) closes the block.
                    break;
                }
                if line_end.is_none() {
                    return Err(Bail);
                }
            } else if blank_rest && line_end.is_some_and(|e| e > i) {
                // Whitespace-only lines longer than the indent are rare and
                // subtle; leave them to the full parser.
                return Err(Bail);
            }
            let Some(end) = line_end else {
                // Content running into the end of input without a break.
                return Err(Bail);
            };
            if i == end {
                pending_breaks += 1;
            } else {
                let line = &self.s[i..end];
                let spaced = matches!(line.as_bytes().first(), Some(b' ' | b'\t'));
                if !any_content {
                    for _ in 0..pending_breaks {
                        out.push('\n');
                    }
                } else if folded && !spaced && !prev_spaced {
                    // Folding: a single break between text lines is a
                    // space; with blank lines between, only those count.
                    if pending_breaks == 0 {
                        out.push(' ');
                    }
                    for _ in 0..pending_breaks {
                        out.push('\n');
                    }
                } else {
                    for _ in 0..=pending_breaks {
                        out.push('\n');
                    }
                }
                pending_breaks = 0;
                prev_spaced = spaced;
                out.push_str(line);
                any_content = true;
            }
            self.pos = end;
            self.newline();
        }
        if !any_content {
            return Err(Bail);
        }
        match chomp {
            b'-' => {}
            b'+' => {
                out.push('\n');
                for _ in 0..pending_breaks {
                    out.push('\n');
                }
            }
            _ => out.push('\n'),
        }
        self.next_content()?;
        Ok(out)
    }

    fn block_map(&mut self, indent: usize) -> R<Value> {
        self.enter()?;
        let base = self.entries.len();
        loop {
            let key_line = self.line;
            let key = self.key()?;
            self.skip_spaces()?;
            let seg = self.push_segment(&key);
            // A field is reported where its key stands, as the full parser
            // does (a nested mapping or block scalar starts a line later);
            // with duplicate keys the first one counts.
            self.record(key_line);
            let value = if self.at_eol() || self.peek(0) == b'#' {
                self.finish_line()?;
                match self.next_content()? {
                    Some(j) if j > indent => self.node(indent as isize, Place::Block)?,
                    Some(j) if j == indent && self.at_dash() => self.block_seq(indent)?,
                    _ => Value::Null,
                }
            } else {
                self.node(indent as isize, Place::Value)?
            };
            self.ptr = seg;
            self.entries.push((key, value));
            match self.current_indent() {
                Some(j) if j == indent && !(j == 0 && self.at_doc_marker()) => {
                    if self.at_dash() {
                        return Err(Bail);
                    }
                }
                Some(j) if j > indent => return Err(Bail),
                _ => break,
            }
        }
        self.depth -= 1;
        self.finish_map(base)
    }

    /// Builds the mapping from the entries gathered since `base`.
    fn finish_map(&mut self, base: usize) -> R<Value> {
        let mut map = Map::with_capacity(self.entries.len() - base);
        for (k, v) in self.entries.drain(base..) {
            if map.insert(k, v).is_some() && self.opts.duplicate_keys == Duplicates::Error {
                return Err(Bail);
            }
        }
        Ok(Value::Object(map))
    }

    fn finish_seq(&mut self, base: usize) -> Value {
        Value::Array(self.items.drain(base..).collect())
    }

    fn at_dash(&self) -> bool {
        self.peek(0) == b'-'
            && (matches!(self.peek(1), b' ' | b'\n') || self.pos + 1 == self.b.len())
    }

    /// A block mapping key at `pos`, through its `:`.
    fn key(&mut self) -> R<String> {
        let line = self.line;
        let key = match self.peek(0) {
            b'"' | b'\'' => {
                let s = self.quoted(-1)?;
                if self.line != line {
                    return Err(Bail);
                }
                self.skip_spaces()?;
                s
            }
            b'&' | b'*' | b'!' | b'?' | b'[' | b'{' | b'|' | b'>' | b'%' | b'@' | b'`' | b'#'
            | b',' | b']' | b'}' => return Err(Bail),
            b'-' | b':' if matches!(self.peek(1), b' ' | b'\n' | b'\t') => return Err(Bail),
            _ => {
                let start = self.pos;
                let b = self.b;
                let mut i = start;
                while i < b.len()
                    && !(b[i] == b':' && matches!(b.get(i + 1), None | Some(b' ' | b'\n')))
                {
                    if b[i] == b'\n'
                        || (b[i] == b'#' && i > start && matches!(b[i - 1], b' ' | b'\t'))
                        || (b[i] == b':' && b.get(i + 1) == Some(&b'\t'))
                    {
                        return Err(Bail);
                    }
                    i += 1;
                }
                let mut end = i;
                while end > start && matches!(b[end - 1], b' ' | b'\t') {
                    end -= 1;
                }
                self.pos = i;
                let text = &self.s[start..end];
                if text == "<<" || text.is_empty() {
                    return Err(Bail);
                }
                let r = resolve(text, self.opts.schema);
                key_from_resolved(&r, text, self.opts.schema).ok_or(Bail)?
            }
        };
        if key.len() > MAX_KEY_LEN || self.peek(0) != b':' {
            return Err(Bail);
        }
        self.pos += 1;
        Ok(key)
    }

    fn block_seq(&mut self, indent: usize) -> R<Value> {
        self.enter()?;
        let base = self.items.len();
        loop {
            // On the dash.
            self.pos += 1;
            let seg = self.push_index(self.items.len() - base);
            self.skip_spaces()?;
            let item = if self.at_eol() || self.peek(0) == b'#' {
                let dash_line = self.line;
                self.finish_line()?;
                match self.next_content()? {
                    Some(j) if j > indent => {
                        // Recorded after the node, so a block scalar can
                        // claim its first text line first (as saphyr does).
                        let line = self.line;
                        let v = self.node(indent as isize, Place::Block)?;
                        self.record(line);
                        v
                    }
                    _ => {
                        self.record(dash_line);
                        Value::Null
                    }
                }
            } else {
                let line = self.line;
                let v = self.node(indent as isize, Place::Block)?;
                self.record(line);
                v
            };
            self.ptr = seg;
            self.items.push(item);
            match self.current_indent() {
                Some(j) if j == indent && self.at_dash() && !(j == 0 && self.at_doc_marker()) => {}
                Some(j) if j > indent => return Err(Bail),
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(self.finish_seq(base))
    }

    /// Skips blanks, line breaks and comments inside a flow collection;
    /// new lines must be indented past `parent`.
    fn flow_space(&mut self, parent: isize) -> R<()> {
        loop {
            match self.b.get(self.pos) {
                Some(b' ') => self.pos += 1,
                Some(b'\n') => {
                    self.newline();
                    while self.b.get(self.pos) == Some(&b' ') {
                        self.pos += 1;
                    }
                    match self.b.get(self.pos) {
                        Some(b'\n') => {}
                        None | Some(b'\t') => return Err(Bail),
                        Some(_) => {
                            if self.col() as isize <= parent || self.at_doc_marker() {
                                return Err(Bail);
                            }
                        }
                    }
                }
                Some(b'#') if self.pos == self.line_start || self.b[self.pos - 1] == b' ' => {
                    self.skip_to_eol()
                }
                Some(b'\t') => return Err(Bail),
                _ => return Ok(()),
            }
        }
    }

    fn flow_node(&mut self, parent: isize) -> R<Value> {
        match self.peek(0) {
            b'[' => {
                self.enter()?;
                self.pos += 1;
                let base = self.items.len();
                loop {
                    self.flow_space(parent)?;
                    if self.peek(0) == b']' {
                        self.pos += 1;
                        break;
                    }
                    let seg = self.push_index(self.items.len() - base);
                    let line = self.line;
                    self.record(line);
                    let v = self.flow_node(parent)?;
                    self.ptr = seg;
                    self.items.push(v);
                    self.flow_space(parent)?;
                    match self.peek(0) {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(Bail),
                    }
                }
                self.depth -= 1;
                Ok(self.finish_seq(base))
            }
            b'{' => {
                self.enter()?;
                self.pos += 1;
                let base = self.entries.len();
                loop {
                    self.flow_space(parent)?;
                    if self.peek(0) == b'}' {
                        self.pos += 1;
                        break;
                    }
                    let key_line = self.line;
                    let key = match self.flow_node(parent)? {
                        Value::String(s) => s,
                        _ => return Err(Bail),
                    };
                    self.flow_space(parent)?;
                    let seg = self.push_segment(&key);
                    self.record(key_line);
                    let value = if self.peek(0) == b':' {
                        self.pos += 1;
                        self.flow_space(parent)?;
                        if matches!(self.peek(0), b',' | b'}') {
                            Value::Null
                        } else {
                            self.flow_node(parent)?
                        }
                    } else {
                        Value::Null
                    };

                    self.ptr = seg;
                    self.entries.push((key, value));
                    self.flow_space(parent)?;
                    match self.peek(0) {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(Bail),
                    }
                }
                self.depth -= 1;
                self.finish_map(base)
            }
            b'"' | b'\'' => Ok(Value::String(self.quoted(parent)?)),
            b'&' | b'*' | b'!' | b'?' | b'|' | b'>' | b'%' | b'@' | b'`' | b'#' | b',' | b']'
            | b'}' | b':' | b'-' | 0 => Err(Bail),
            _ => {
                let start = self.pos;
                let b = self.b;
                let mut i = start;
                while i < b.len() {
                    match b[i] {
                        b'\n' | b',' | b'[' | b']' | b'{' | b'}' | b':' => break,
                        b'#' if matches!(b[i - 1], b' ' | b'\t') => break,
                        _ => i += 1,
                    }
                }
                // `:` ends the text only before a blank or flow indicator;
                // a `:` inside flow plain text, or text running on to the
                // next line, is left to the full parser.
                if b.get(i) == Some(&b':')
                    && !matches!(
                        b.get(i + 1),
                        None | Some(b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}')
                    )
                {
                    return Err(Bail);
                }
                let mut end = i;
                while end > start && matches!(b[end - 1], b' ' | b'\t') {
                    end -= 1;
                }
                self.pos = i;
                if b.get(i) == Some(&b'\n') || b.get(i) == Some(&b'#') {
                    let save = (self.pos, self.line, self.line_start);
                    self.flow_space(parent)?;
                    if !matches!(self.peek(0), b',' | b']' | b'}') {
                        return Err(Bail);
                    }
                    (self.pos, self.line, self.line_start) = save;
                }
                let text = &self.s[start..end];
                if text.is_empty() {
                    return Err(Bail);
                }
                // Indicators after inner spaces (`a -]`) are parsed in
                // surprising ways; leave them to the full parser.
                if text
                    .as_bytes()
                    .windows(2)
                    .any(|w| w[0] == b' ' && b"-?:,[]{}#&*!|>'\"%@`".contains(&w[1]))
                {
                    return Err(Bail);
                }
                Ok(resolve(text, self.opts.schema).into_value(text))
            }
        }
    }
}
