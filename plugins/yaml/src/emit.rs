//! Block-style YAML emitter that prints a `serde_json::Value` the way
//! `kustomize build` and Helm's `toYaml` do.
//!
//! Both print through sigs.k8s.io/yaml's `JSONToYAML`, i.e. go-yaml v2's
//! emitter after a JSON hop: 2-space indent, sequences in a mapping at the
//! key's column, map keys in go-yaml's "natural" order (optional here, since
//! callers may want the value's order), long scalars folded past column 80,
//! and integral floats printed as integers.
//!
//! Scalar style choice follows go-yaml: its encoder picks literal for
//! multi-line strings, plain when the text reads back as the same string,
//! double quotes otherwise; its emitter then downgrades plain to single
//! quotes and literal to double quotes when the text's characters demand it.

use serde_json::{Map, Value};

use crate::Schema;
use crate::resolve::{Resolved, go_format_float, go_shortest, resolve};

/// Emitter settings.
#[derive(Debug, Clone)]
pub struct EmitOptions {
    /// Fold long plain and quoted scalars at a space once the line passes
    /// this column; `None` never folds. kustomize and Helm fold at 80.
    pub line_width: Option<usize>,
    /// Print map keys in go-yaml's natural order (`a2` before `a10`) as
    /// kustomize and Helm do, instead of the value's order.
    pub sort_keys: bool,
}

impl Default for EmitOptions {
    /// The value's key order, folding at 80.
    fn default() -> Self {
        EmitOptions {
            line_width: Some(80),
            sort_keys: false,
        }
    }
}

impl EmitOptions {
    /// Byte-for-byte what `kustomize build` (and Helm's `toYaml`) print.
    pub fn kustomize() -> Self {
        EmitOptions {
            line_width: Some(80),
            sort_keys: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

pub(crate) struct Emitter {
    out: String,
    /// Column in characters, as go-yaml counts it for folding.
    column: usize,
    width: usize,
    sort_keys: bool,
    /// Set after `- `: the next collection entry continues this line.
    inline: bool,
}

impl Emitter {
    pub(crate) fn new(opts: &EmitOptions, capacity: usize) -> Self {
        Emitter {
            out: String::with_capacity(capacity),
            column: 0,
            width: opts.line_width.unwrap_or(usize::MAX),
            inline: false,
            sort_keys: opts.sort_keys,
        }
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }

    pub(crate) fn separator(&mut self) {
        self.out.push_str("---\n");
        self.column = 0;
    }

    pub(crate) fn document(&mut self, v: &Value) {
        match v {
            Value::Object(m) if !m.is_empty() => self.block_map(m, 0),
            Value::Array(a) if !a.is_empty() => self.block_seq(a, 0),
            _ => self.inline_value(v, 2),
        }
        if self.column > 0 {
            self.newline();
        }
    }

    #[inline]
    fn ascii(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.len();
    }

    #[inline]
    fn ch(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    #[inline]
    fn newline(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// Starts a new line at `indent` unless the cursor already sits there
    /// (the first entry of a collection nested inline after `- `).
    fn line_start(&mut self, indent: usize) {
        if std::mem::take(&mut self.inline) {
            return;
        }
        if self.column > 0 {
            self.newline();
        }
        while self.column < indent {
            self.out.push(' ');
            self.column += 1;
        }
    }

    fn block_map(&mut self, m: &Map<String, Value>, indent: usize) {
        if self.sort_keys && m.len() > 1 {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| natural_cmp(a.0, b.0));
            for (k, v) in entries {
                self.line_start(indent);
                self.entry(k, v, indent);
            }
            return;
        }
        for (k, v) in m {
            self.line_start(indent);
            self.entry(k, v, indent);
        }
    }

    fn map_value(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                self.newline();
                self.block_map(m, indent + 2);
            }
            // kyaml's compact sequence indent: `key:\n- item`.
            Value::Array(a) if !a.is_empty() => {
                self.newline();
                self.block_seq(a, indent);
            }
            _ => {
                self.ch(' ');
                self.inline_value(v, indent + 2);
            }
        }
    }

    fn block_seq(&mut self, a: &[Value], indent: usize) {
        for item in a {
            self.line_start(indent);
            self.ascii("- ");
            self.inline = true;
            match item {
                Value::Object(m) if !m.is_empty() => self.block_map(m, indent + 2),
                Value::Array(inner) if !inner.is_empty() => self.block_seq(inner, indent + 2),
                _ => {
                    self.inline = false;
                    self.inline_value(item, indent + 2);
                }
            }
        }
    }

    /// A scalar or empty collection written at the cursor; `indent` is where
    /// continuation lines (folds, literal block content) go.
    fn inline_value(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Null => self.ascii("null"),
            Value::Bool(true) => self.ascii("true"),
            Value::Bool(false) => self.ascii("false"),
            Value::Number(n) => {
                let s = match n.as_f64() {
                    Some(f) if n.is_f64() => format_float(f),
                    _ => n.to_string(),
                };
                self.ascii(&s);
            }
            Value::String(s) => self.string(s, indent, false),
            Value::Array(_) => self.ascii("[]"),
            Value::Object(_) => self.ascii("{}"),
        }
    }

    fn entry(&mut self, k: &str, v: &Value, indent: usize) {
        // go-yaml writes `? key` for keys that are multi-line or longer
        // than 128 bytes; the value then follows `: ` on the next line,
        // a collection starting right there like a sequence item.
        if k.len() > 128 || k.chars().any(is_break) {
            self.ascii("? ");
            self.string(k, indent + 2, false);
            self.line_start(indent);
            self.ascii(": ");
            match v {
                Value::Object(m) if !m.is_empty() => {
                    self.inline = true;
                    self.block_map(m, indent + 2);
                }
                Value::Array(a) if !a.is_empty() => {
                    self.inline = true;
                    self.block_seq(a, indent + 2);
                }
                _ => self.inline_value(v, indent + 2),
            }
            return;
        }
        // A plain `<<` key would read back as a merge key.
        if k == "<<" {
            self.ascii("\"<<\":");
        } else {
            self.string(k, indent + 2, true);
            self.ch(':');
        }
        self.map_value(v, indent);
    }

    fn string(&mut self, s: &str, indent: usize, simple_key: bool) {
        if simple_text(s) {
            if plain_reads_back(s) {
                self.plain(s, indent, !simple_key);
            } else {
                self.double(s, indent, !simple_key);
            }
            return;
        }
        let facts = analyze(s);
        let mut style = if s.contains('\n') {
            Style::Literal
        } else if plain_reads_back(s) {
            Style::Plain
        } else {
            Style::Double
        };
        if simple_key && facts.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && !facts.block_plain {
            style = Style::Single;
        }
        if style == Style::Single && !facts.single_quoted {
            style = Style::Double;
        }
        if style == Style::Literal && (!facts.block || simple_key) {
            style = Style::Double;
        }
        let breaks = !simple_key;
        match style {
            Style::Plain => self.plain(s, indent, breaks),
            Style::Single => self.single(s, indent, breaks),
            Style::Double => self.double(s, indent, breaks),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn fold(&mut self, indent: usize) {
        self.newline();
        for _ in 0..indent {
            self.out.push(' ');
        }
        self.column = indent;
    }

    fn plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        if !allow_breaks || self.column + s.len() <= self.width || !s.contains(' ') {
            self.out.push_str(s);
            self.column += width(s);
            return;
        }
        let mut spaces = false;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ' ' {
                let next_space = chars.peek() == Some(&' ');
                if !spaces && self.column > self.width && !next_space {
                    self.fold(indent);
                } else {
                    self.ch(' ');
                }
                spaces = true;
            } else {
                self.ch(c);
                spaces = false;
            }
        }
    }

    fn single(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.ch('\'');
        let mut spaces = false;
        let n = s.chars().count();
        let mut chars = s.chars().enumerate().peekable();
        while let Some((i, c)) = chars.next() {
            if c == ' ' {
                let next_space = chars.peek().is_some_and(|&(_, n)| n == ' ');
                if allow_breaks
                    && !spaces
                    && self.column > self.width
                    && i > 0
                    && i + 1 < n
                    && !next_space
                {
                    self.fold(indent);
                } else {
                    self.ch(' ');
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.ch('\'');
                }
                self.ch(c);
                spaces = false;
            }
        }
        self.ch('\'');
    }

    fn double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.ch('"');
        let mut spaces = false;
        let n = s.chars().count();
        let mut chars = s.chars().enumerate().peekable();
        while let Some((i, c)) = chars.next() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.escape(c);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > self.width && i > 0 && i + 1 < n {
                    self.fold(indent);
                    if chars.peek().is_some_and(|&(_, n)| n == ' ') {
                        self.ch('\\');
                    }
                } else {
                    self.ch(' ');
                }
                spaces = true;
            } else {
                self.ch(c);
                spaces = false;
            }
        }
        self.ch('"');
    }

    fn escape(&mut self, c: char) {
        self.ch('\\');
        let short = match c {
            '\0' => Some('0'),
            '\u{7}' => Some('a'),
            '\u{8}' => Some('b'),
            '\t' => Some('t'),
            '\n' => Some('n'),
            '\u{b}' => Some('v'),
            '\u{c}' => Some('f'),
            '\r' => Some('r'),
            '\u{1b}' => Some('e'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            '\u{85}' => Some('N'),
            '\u{a0}' => Some('_'),
            '\u{2028}' => Some('L'),
            '\u{2029}' => Some('P'),
            _ => None,
        };
        if let Some(e) = short {
            self.ch(e);
            return;
        }
        let v = c as u32;
        let (prefix, width) = if v <= 0xFF {
            ('x', 2)
        } else if v <= 0xFFFF {
            ('u', 4)
        } else {
            ('U', 8)
        };
        self.ch(prefix);
        for k in (0..width).rev() {
            let digit = (v >> (k * 4)) & 0xF;
            let d = char::from_digit(digit, 16)
                .unwrap_or('0')
                .to_ascii_uppercase();
            self.ch(d);
        }
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.ch('|');
        if s.starts_with(' ') || s.starts_with('\n') {
            self.ch('2');
        }
        let mut rev = s.chars().rev();
        match (rev.next(), rev.next()) {
            (Some('\n'), None) | (Some('\n'), Some('\n')) => self.ch('+'),
            (Some('\n'), Some(_)) => {}
            _ => self.ch('-'),
        }
        // The header always ends its line; each break in the content then
        // ends one more, and only non-empty lines get indented.
        self.newline();
        let mut at_line_start = true;
        for c in s.chars() {
            if c == '\n' {
                self.newline();
                at_line_start = true;
            } else {
                if at_line_start {
                    for _ in 0..indent {
                        self.out.push(' ');
                    }
                    self.column = indent;
                    at_line_start = false;
                }
                self.out.push(c);
                self.column += 1;
            }
        }
    }
}

/// A float as it comes out of Go's JSON hop: `encoding/json` writes
/// integral values below 1e21 as digits (Go's shortest digits, zero
/// padded), which go-yaml v2 reads back as an integer when it fits; all
/// else prints as `strconv.FormatFloat(f, 'g', -1, 64)`.
fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 && f != 0.0 {
        let (neg, digits, exp) = go_shortest(f, false);
        let int_len = exp.max(0) as usize + 1;
        if digits.len() <= int_len {
            let mut s = String::with_capacity(int_len + 1);
            if neg {
                s.push('-');
            }
            s.push_str(&digits);
            for _ in digits.len()..int_len {
                s.push('0');
            }
            if s.parse::<i64>().is_ok() || s.parse::<u64>().is_ok() {
                return s;
            }
        }
    } else if f == 0.0 {
        return "0".into();
    }
    go_format_float(f, false)
}

/// go-yaml v2's key order (`keyList.Less`): letters compare by code point,
/// non-letters sort before letters, and digit runs compare as numbers.
pub(crate) fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    if a == b {
        return Ordering::Equal;
    }
    let (lt, gt) = if a.is_ascii() && b.is_ascii() {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let letter = |c: u8| c.is_ascii_alphabetic();
        (natural_less(a, b, letter), natural_less(b, a, letter))
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        let letter = |c: char| c.is_alphabetic();
        (natural_less(&a, &b, letter), natural_less(&b, &a, letter))
    };
    match (lt, gt) {
        (true, _) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => Ordering::Equal,
    }
}

fn natural_less<C>(a: &[C], b: &[C], letter: impl Fn(C) -> bool) -> bool
where
    C: Copy + Ord + Into<u32>,
{
    let digit = |c: C| {
        let v: u32 = c.into();
        (b'0' as u32..=b'9' as u32)
            .contains(&v)
            .then(|| (v - b'0' as u32) as i64)
    };
    let zero = |c: C| digit(c) == Some(0);
    for i in 0..a.len().min(b.len()) {
        if a[i] == b[i] {
            continue;
        }
        let al = letter(a[i]);
        let bl = letter(b[i]);
        if al && bl {
            return a[i] < b[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if zero(a[i]) || zero(b[i]) {
            // A zero inside a number (after a non-zero digit) is
            // significant, so both sides start from 1.
            let mut j = i;
            while j > 0 && digit(a[j - 1]).is_some() {
                if !zero(a[j - 1]) {
                    an = 1;
                    bn = 1;
                    break;
                }
                j -= 1;
            }
        }
        let mut ai = i;
        while let Some(d) = a.get(ai).and_then(|&c| digit(c)) {
            an = an.wrapping_mul(10).wrapping_add(d);
            ai += 1;
        }
        let mut bi = i;
        while let Some(d) = b.get(bi).and_then(|&c| digit(c)) {
            bn = bn.wrapping_mul(10).wrapping_add(d);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return a[i] < b[i];
    }
    a.len() < b.len()
}

/// Printable ASCII without spaces at the ends, no `:`/`#` and a harmless
/// first byte: nothing in go-yaml's analysis can object to plain style.
fn simple_text(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    (first.is_ascii_alphanumeric() || first == b'/' || first == b'_')
        && last != b' '
        && b.iter()
            .all(|&c| (b' '..=b'~').contains(&c) && c != b':' && c != b'#')
}

/// Characters in `s`, which is how go-yaml counts columns.
fn width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// What go-yaml's `yaml_emitter_analyze_scalar` learns about a string,
/// reduced to block context (we never emit flow collections).
#[derive(Debug, Clone, Copy)]
struct Facts {
    multiline: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        && c != '\u{feff}'
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn analyze(s: &str) -> Facts {
    if s.is_empty() {
        return Facts {
            multiline: false,
            block_plain: true,
            single_quoted: true,
            block: false,
        };
    }
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let mut line_breaks = false;
    let mut special = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut preceded_by_ws = true;
    let mut previous_space = false;
    let mut previous_break = false;

    let mut chars = s.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let followed_by_ws = matches!(next, None | Some(' ' | '\t'));
        let last = next.is_none();
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        // go-yaml v2 (unlike v3) counts tabs as special characters, which
        // rules out literal blocks for them.
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if first {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if first {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t') || is_break(c);
        first = false;
    }
    let mut facts = Facts {
        multiline: line_breaks,
        block_plain: true,
        single_quoted: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        facts.block_plain = false;
    }
    if trailing_space {
        facts.block = false;
    }
    if break_space || space_break || special {
        facts.block_plain = false;
        facts.single_quoted = false;
    }
    if space_break || special {
        facts.block = false;
    }
    if line_breaks || block_indicators {
        facts.block_plain = false;
    }
    facts
}

/// go-yaml's `canUsePlain`: the text must resolve back to a string under
/// YAML 1.1 rules (so `yes`, `on`, `y` are quoted too) and not look like a
/// base-60 number.
fn plain_reads_back(s: &str) -> bool {
    // go-yaml resolves `<<` to its merge tag, yet kustomize prints the
    // string `<<` plain; as a value it reads back as a string.
    matches!(resolve(s, Schema::Yaml11), Resolved::Str | Resolved::Merge) && !is_base60_float(s)
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        if i < b.len()
            && (b'0'..=b'5').contains(&b[i])
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            i += 2;
        } else if i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}
