//! Lexer and parser for Go's `text/template` language: turns template text
//! into a tree of nodes, collecting `define`/`block` definitions. Errors use
//! Go's wording (`template: NAME:LINE: ...`).

use std::collections::HashSet;
use std::sync::Arc;

use crate::error::Error;

/// A parsed number literal with the interpretations Go's parser allows.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub uint: Option<u64>,
    pub float: Option<f64>,
    pub is_complex: bool,
    /// Imaginary part of a complex constant (the real part is in `float`).
    pub imag: f64,
    /// A character constant such as `'a'`.
    pub is_char: bool,
}

#[derive(Clone, Debug)]
pub enum Arg {
    /// `.` itself.
    Dot,
    Nil,
    Bool(bool),
    Number(Number),
    String(Arc<str>),
    /// `.A.B`
    Field(Vec<String>),
    /// `$x.A.B` (the name includes the `$`).
    Variable(String, Vec<String>),
    /// A function name.
    Ident(String),
    /// `(pipeline)` optionally followed by `.A.B`.
    Pipe(Box<Pipe>, Vec<String>),
}

#[derive(Clone, Debug)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<(usize, Arg)>,
}

#[derive(Clone, Debug)]
pub struct Pipe {
    pub pos: usize,
    /// `=` rather than `:=`.
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

#[derive(Clone, Debug)]
pub enum Node {
    Text(Arc<str>),
    Action(Pipe),
    If(Branch),
    With(Branch),
    Range(Branch),
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break(usize),
    Continue(usize),
}

#[derive(Clone, Debug)]
pub struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

/// One named template: its body and the text it came from (for positions).
#[derive(Debug)]
pub struct Tree {
    pub name: String,
    /// The file the definition lives in (Go's ParseName).
    pub parse_name: String,
    pub text: Arc<str>,
    pub root: Vec<Node>,
}

impl Tree {
    /// `NAME:LINE:COL` of a byte offset, the way Go's ErrorContext reports it.
    pub fn location(&self, pos: usize) -> String {
        let (line, col) = line_col(&self.text, pos);
        format!("{}:{}:{}", self.parse_name, line, col)
    }
}

/// 1-based line and 0-based byte column of `pos`.
pub fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(text.len());
    let before = text.get(..pos).unwrap_or("");
    let line = 1 + before.matches('\n').count();
    let col = match before.rfind('\n') {
        Some(nl) => pos - nl - 1,
        None => pos,
    };
    (line, col)
}

// ---------------------------------------------------------------- lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Text(String),
    LeftDelim,
    RightDelim,
    Space,
    Ident(String),
    Keyword(&'static str),
    Field(String),
    Variable(String),
    Dot,
    Str(String),
    RawStr(String),
    Char(String),
    Number(String),
    Bool(bool),
    Nil,
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
    Eof,
}

const KEYWORDS: &[&str] = &[
    "block", "break", "continue", "define", "else", "end", "if", "range", "template", "with",
];

struct Lexer<'a> {
    name: &'a str,
    src: &'a str,
    pos: usize,
    toks: Vec<(usize, Tok)>,
    paren_depth: usize,
}

type PResult<T> = Result<T, Error>;

impl<'a> Lexer<'a> {
    fn err(&self, pos: usize, msg: impl Into<String>) -> Error {
        let (line, _) = line_col(self.src, pos);
        Error::Parse {
            name: self.name.to_string(),
            line,
            message: msg.into(),
        }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn run(mut self) -> PResult<Vec<(usize, Tok)>> {
        loop {
            let rest = self.rest();
            match rest.find("{{") {
                None => {
                    if !rest.is_empty() {
                        self.toks.push((self.pos, Tok::Text(rest.to_string())));
                    }
                    self.toks.push((self.src.len(), Tok::Eof));
                    return Ok(self.toks);
                }
                Some(i) => {
                    let after = rest.get(i + 2..).unwrap_or("");
                    let trim_left = after.starts_with("- ")
                        || after.starts_with("-\t")
                        || after.starts_with("-\r")
                        || after.starts_with("-\n");
                    let mut text = rest.get(..i).unwrap_or("");
                    if trim_left {
                        text = text.trim_end_matches([' ', '\t', '\r', '\n']);
                    }
                    if !text.is_empty() {
                        self.toks.push((self.pos, Tok::Text(text.to_string())));
                    }
                    self.pos += i + 2;
                    let delim_pos = self.pos - 2;
                    if trim_left {
                        self.pos += 2;
                    }
                    self.lex_action(delim_pos)?;
                }
            }
        }
    }

    /// After the closing delimiter: applies ` -}}` trimming to following text.
    fn close_action(&mut self, trim_right: bool) {
        if trim_right {
            let rest = self.rest();
            let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
            self.pos += rest.len() - trimmed.len();
        }
    }

    fn at_right_delim(&self) -> Option<bool> {
        let rest = self.rest();
        if rest.starts_with("}}") {
            return Some(false);
        }
        for sp in [" -}}", "\t-}}", "\r-}}", "\n-}}"] {
            if rest.starts_with(sp) {
                return Some(true);
            }
        }
        None
    }

    fn lex_action(&mut self, delim_pos: usize) -> PResult<()> {
        // Comments: {{/* ... */}} possibly with trim markers around them.
        {
            let rest = self.rest();
            if rest.starts_with("/*") {
                let Some(end) = rest.find("*/") else {
                    return Err(self.err(delim_pos, "unclosed comment"));
                };
                self.pos += end + 2;
                return match self.at_right_delim() {
                    Some(trim) => {
                        self.pos += if trim { 4 } else { 2 };
                        self.close_action(trim);
                        Ok(())
                    }
                    None => Err(self.err(delim_pos, "comment ends before closing delimiter")),
                };
            }
        }
        self.toks.push((delim_pos, Tok::LeftDelim));
        self.paren_depth = 0;
        loop {
            if let Some(trim) = self.at_right_delim() {
                if trim {
                    self.toks.push((self.pos, Tok::Space));
                    self.pos += 4;
                } else {
                    self.pos += 2;
                }
                self.toks.push((self.pos, Tok::RightDelim));
                self.close_action(trim);
                return Ok(());
            }
            let start = self.pos;
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                return Err(self.err(delim_pos, "unclosed action"));
            };
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    let n = rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
                    // A space right before " -}}" belongs to the delimiter.
                    let after = rest.get(n..).unwrap_or("");
                    if after.starts_with("-}}") && n >= 1 {
                        self.pos += n - 1;
                        if n > 1 {
                            self.toks.push((start, Tok::Space));
                        }
                        continue;
                    }
                    self.pos += n;
                    self.toks.push((start, Tok::Space));
                }
                '/' if rest.starts_with("/*") => {
                    return Err(self.err(start, "comment must be the whole action"));
                }
                '|' => {
                    self.pos += 1;
                    self.toks.push((start, Tok::Pipe));
                }
                '(' => {
                    self.pos += 1;
                    self.paren_depth += 1;
                    self.toks.push((start, Tok::LParen));
                }
                ')' => {
                    if self.paren_depth == 0 {
                        return Err(self.err(start, "unexpected right paren"));
                    }
                    self.paren_depth -= 1;
                    self.pos += 1;
                    self.toks.push((start, Tok::RParen));
                }
                ',' => {
                    self.pos += 1;
                    self.toks.push((start, Tok::Comma));
                }
                ':' => {
                    if rest.starts_with(":=") {
                        self.pos += 2;
                        self.toks.push((start, Tok::Declare));
                    } else {
                        return Err(self.err(start, "expected :="));
                    }
                }
                '=' => {
                    self.pos += 1;
                    self.toks.push((start, Tok::Assign));
                }
                '"' => {
                    let s = self.lex_quote(start)?;
                    self.toks.push((start, Tok::Str(s)));
                }
                '`' => {
                    let body = rest.get(1..).unwrap_or("");
                    let Some(end) = body.find('`') else {
                        return Err(self.err(start, "unterminated raw quoted string"));
                    };
                    // Like strconv.Unquote, raw strings drop carriage returns.
                    let s = body.get(..end).unwrap_or("").replace('\r', "");
                    self.pos += end + 2;
                    self.toks.push((start, Tok::RawStr(s)));
                }
                '\'' => {
                    let mut escaped = false;
                    let mut end = None;
                    for (i, ch) in rest.char_indices().skip(1) {
                        if escaped {
                            escaped = false;
                        } else if ch == '\\' {
                            escaped = true;
                        } else if ch == '\'' {
                            end = Some(i);
                            break;
                        } else if ch == '\n' {
                            break;
                        }
                    }
                    let Some(end) = end else {
                        return Err(self.err(start, "unterminated character constant"));
                    };
                    let s = rest.get(..=end).unwrap_or("").to_string();
                    self.pos += end + 1;
                    self.toks.push((start, Tok::Char(s)));
                }
                '$' => {
                    let n = 1 + ident_len(rest.get(1..).unwrap_or(""));
                    let name = rest.get(..n).unwrap_or("$").to_string();
                    self.pos += n;
                    self.toks.push((start, Tok::Variable(name)));
                }
                '.' => {
                    let next = rest.get(1..).unwrap_or("");
                    if next.starts_with(|c: char| c.is_ascii_digit()) {
                        let n = number_len(rest);
                        self.pos += n;
                        self.toks
                            .push((start, Tok::Number(rest.get(..n).unwrap_or("").into())));
                    } else {
                        let n = ident_len(next);
                        self.pos += 1 + n;
                        if n == 0 {
                            self.toks.push((start, Tok::Dot));
                        } else {
                            self.toks
                                .push((start, Tok::Field(next.get(..n).unwrap_or("").into())));
                        }
                    }
                }
                '+' | '-' | '0'..='9' => {
                    let n = number_len(rest);
                    if n == 0 || (n == 1 && (c == '+' || c == '-')) {
                        return Err(self.err(start, format!("bad number syntax: {:?}", c)));
                    }
                    let text = rest.get(..n).unwrap_or("");
                    // An alphanumeric right after a number is a malformed number.
                    if rest
                        .get(n..)
                        .and_then(|r| r.chars().next())
                        .is_some_and(|c| c.is_alphanumeric())
                    {
                        let bad_len = n + ident_len(rest.get(n..).unwrap_or(""));
                        return Err(self.err(
                            start,
                            format!("bad number syntax: {:?}", rest.get(..bad_len).unwrap_or("")),
                        ));
                    }
                    self.pos += n;
                    self.toks.push((start, Tok::Number(text.into())));
                }
                c if c.is_alphabetic() || c == '_' => {
                    let n = ident_len(rest);
                    let word = rest.get(..n).unwrap_or("");
                    self.pos += n;
                    let tok = if let Some(k) = KEYWORDS.iter().find(|k| **k == word) {
                        Tok::Keyword(k)
                    } else if word == "true" || word == "false" {
                        Tok::Bool(word == "true")
                    } else if word == "nil" {
                        Tok::Nil
                    } else {
                        Tok::Ident(word.to_string())
                    };
                    self.toks.push((start, tok));
                }
                _ => {
                    return Err(self.err(start, format!("unrecognized character in action: {c:?}")));
                }
            }
        }
    }

    fn lex_quote(&mut self, start: usize) -> PResult<String> {
        let rest = self.rest();
        let mut escaped = false;
        for (i, ch) in rest.char_indices().skip(1) {
            if escaped {
                escaped = false;
                continue;
            }
            match ch {
                '\\' => escaped = true,
                '\n' => break,
                '"' => {
                    let raw = rest.get(..=i).unwrap_or("");
                    self.pos += i + 1;
                    return unquote(raw)
                        .ok_or_else(|| self.err(start, format!("invalid syntax: {raw}")));
                }
                _ => {}
            }
        }
        Err(self.err(start, "unterminated quoted string"))
    }
}

fn ident_len(s: &str) -> usize {
    s.char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(s.len(), |(i, _)| i)
}

/// Length of a Go number literal at the start of `s` (sign, base prefixes,
/// underscores, fraction, exponent, imaginary suffix).
fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let mut digits: &[u8] = b"0123456789_";
    let mut exp: &[u8] = b"eE";
    if i + 1 < b.len() && b[i] == b'0' {
        match b[i + 1] {
            b'x' | b'X' => {
                i += 2;
                digits = b"0123456789abcdefABCDEF_";
                exp = b"pP";
            }
            b'o' | b'O' => {
                i += 2;
                digits = b"01234567_";
            }
            b'b' | b'B' => {
                i += 2;
                digits = b"01_";
            }
            _ => {}
        }
    }
    while i < b.len() && digits.contains(&b[i]) {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && digits.contains(&b[i]) {
            i += 1;
        }
    }
    if i < b.len() && exp.contains(&b[i]) {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    if i < b.len() && b[i] == b'i' {
        return i + 1;
    }
    // A complex constant `1+2i`: a signed second number ending in `i`.
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') && i > 0 {
        let rest = number_len(s.get(i..).unwrap_or(""));
        if rest > 1 && b.get(i + rest - 1) == Some(&b'i') {
            return i + rest;
        }
    }
    i
}

/// Interprets a Go double-quoted string literal.
pub(crate) fn unquote(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    let mut bytes: Vec<u8> = Vec::new();
    while let Some(c) = chars.next() {
        if c != '\\' {
            flush_bytes(&mut bytes, &mut out);
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => return None,
            'x' => {
                let h: String = [chars.next()?, chars.next()?].iter().collect();
                bytes.push(u8::from_str_radix(&h, 16).ok()?);
                continue;
            }
            'u' | 'U' => {
                let n = if e == 'u' { 4 } else { 8 };
                let mut h = String::new();
                for _ in 0..n {
                    h.push(chars.next()?);
                }
                out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?)?);
            }
            '0'..='7' => {
                let h: String = [e, chars.next()?, chars.next()?].iter().collect();
                bytes.push(u8::from_str_radix(&h, 8).ok()?);
                continue;
            }
            _ => return None,
        }
        flush_bytes(&mut bytes, &mut out);
    }
    flush_bytes(&mut bytes, &mut out);
    Some(out)
}

fn flush_bytes(bytes: &mut Vec<u8>, out: &mut String) {
    if !bytes.is_empty() {
        out.push_str(&String::from_utf8_lossy(bytes));
        bytes.clear();
    }
}

/// Parses a Go number literal the way text/template's parser does.
pub(crate) fn parse_number(text: &str) -> Option<Number> {
    let mut n = Number {
        text: text.to_string(),
        int: None,
        uint: None,
        float: None,
        is_complex: false,
        imag: 0.0,
        is_char: false,
    };
    if text.starts_with('\'') {
        let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
        let c = if let Some(esc) = inner.strip_prefix('\\') {
            match esc {
                "n" => '\n',
                "t" => '\t',
                "r" => '\r',
                "\\" => '\\',
                "'" => '\'',
                "a" => '\u{7}',
                "b" => '\u{8}',
                "f" => '\u{c}',
                "v" => '\u{b}',
                "0" => '\0',
                _ => {
                    let s = unquote(&format!("\"\\{esc}\""))?;
                    let mut cs = s.chars();
                    let c = cs.next()?;
                    if cs.next().is_some() {
                        return None;
                    }
                    c
                }
            }
        } else {
            let mut cs = inner.chars();
            let c = cs.next()?;
            if cs.next().is_some() {
                return None;
            }
            c
        };
        let v = c as i64;
        n.int = Some(v);
        n.uint = Some(v as u64);
        n.float = Some(v as f64);
        n.is_char = true;
        return Some(n);
    }
    if let Some(body) = text.strip_suffix('i') {
        n.is_complex = true;
        // `1+2i`: a real part, then a signed imaginary part.
        let split = body
            .char_indices()
            .skip(1)
            .filter(|(i, c)| {
                (*c == '+' || *c == '-')
                    && !matches!(body.as_bytes().get(i - 1), Some(b'e' | b'E' | b'p' | b'P'))
            })
            .map(|(i, _)| i)
            .last();
        let (re, im) = match split {
            Some(i) => (
                parse_go_float(body.get(..i)?)?,
                parse_go_float(body.get(i..)?)?,
            ),
            None => (0.0, parse_go_float(body)?),
        };
        n.float = Some(re);
        n.imag = im;
        if im == 0.0 {
            // Go also treats a complex constant with no imaginary part as a
            // real number where one is needed.
            if re.fract() == 0.0 && re.abs() < 9.2e18 {
                n.int = Some(re as i64);
            }
        }
        return Some(n);
    }
    n.uint = parse_go_uint(text);
    n.int = parse_go_int(text);
    if let Some(i) = n.int {
        n.float = Some(i as f64);
    } else if let Some(u) = n.uint {
        n.float = Some(u as f64);
    } else {
        let f = parse_go_float(text)?;
        n.float = Some(f);
        if f.fract() == 0.0 && !text.contains(['x', 'X']) {
            if f.abs() < 9.2e18 {
                n.int = Some(f as i64);
            }
            if (0.0..1.8e19).contains(&f) {
                n.uint = Some(f as u64);
            }
        }
    }
    Some(n)
}

fn split_base(text: &str) -> (bool, u32, &str) {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..).unwrap_or("")),
        Some(b'+') => (false, text.get(1..).unwrap_or("")),
        _ => (false, text),
    };
    let lower = body.get(..2).map(|p| p.to_ascii_lowercase());
    match lower.as_deref() {
        Some("0x") => (neg, 16, body.get(2..).unwrap_or("")),
        Some("0o") => (neg, 8, body.get(2..).unwrap_or("")),
        Some("0b") => (neg, 2, body.get(2..).unwrap_or("")),
        _ if body.len() > 1 && body.starts_with('0') => (neg, 8, body.get(1..).unwrap_or("")),
        _ => (neg, 10, body),
    }
}

/// Go allows `_` only between digits (or after a base prefix).
fn strip_underscores(digits: &str, prefixed: bool) -> Option<String> {
    if digits.is_empty() {
        return None;
    }
    if digits.contains('_') {
        let b = digits.as_bytes();
        if (!prefixed && b.first() == Some(&b'_'))
            || b.last() == Some(&b'_')
            || digits.contains("__")
        {
            return None;
        }
    }
    Some(digits.replace('_', ""))
}

fn parse_go_uint(text: &str) -> Option<u64> {
    let (neg, base, digits) = split_base(text);
    if neg || text.starts_with('+') {
        return None;
    }
    let d = strip_underscores(digits, base != 10)?;
    u64::from_str_radix(&d, base).ok()
}

fn parse_go_int(text: &str) -> Option<i64> {
    let (neg, base, digits) = split_base(text);
    let d = strip_underscores(digits, true)?;
    let mag = u64::from_str_radix(&d, base).ok()?;
    if neg {
        if mag <= i64::MAX as u64 + 1 {
            Some(-(mag as i128) as i64)
        } else {
            None
        }
    } else {
        i64::try_from(mag).ok()
    }
}

fn parse_go_float(text: &str) -> Option<f64> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    let v = if body.len() > 2 && (body.starts_with("0x") || body.starts_with("0X")) {
        let b = body.get(2..)?.replace('_', "");
        let (mant, exp) = match b.find(['p', 'P']) {
            Some(i) => (
                b.get(..i)?.to_string(),
                b.get(i + 1..)?.parse::<i32>().ok()?,
            ),
            None => return None,
        };
        let (ip, fp) = match mant.find('.') {
            Some(i) => (mant.get(..i)?.to_string(), mant.get(i + 1..)?.to_string()),
            None => (mant.clone(), String::new()),
        };
        let mut v = 0f64;
        for c in ip.chars().chain(fp.chars()) {
            v = v * 16.0 + c.to_digit(16)? as f64;
        }
        v * 2f64.powi(exp - 4 * fp.len() as i32)
    } else {
        let b = body.replace('_', "");
        if b.is_empty() || !b.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return None;
        }
        if b.contains(['x', 'X', 'o', 'O', 'b', 'B']) {
            return None;
        }
        b.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

// ---------------------------------------------------------------- parser

/// Which function names exist: Go rejects unknown functions at parse time.
pub trait FuncNames {
    fn has_func(&self, name: &str) -> bool;
}

pub struct Parsed {
    /// The body of the file itself.
    pub main: Tree,
    /// `define`/`block` definitions found in the file.
    pub defines: Vec<Tree>,
}

struct Parser<'a> {
    name: &'a str,
    text: Arc<str>,
    toks: Vec<(usize, Tok)>,
    i: usize,
    funcs: &'a dyn FuncNames,
    defines: Vec<Tree>,
    vars: Vec<String>,
    range_depth: usize,
    /// Nesting of blocks and parentheses, bounded so that hostile input
    /// cannot exhaust the stack (the executor recurses as deep).
    depth: usize,
}

/// Deepest nesting of `if`/`range`/`with`/`define` blocks and parentheses.
const MAX_NESTING: usize = 100;

/// Parses one file. `name` is the template name the errors mention.
pub fn parse(name: &str, text: &str, funcs: &dyn FuncNames) -> Result<Parsed, Error> {
    let lexer = Lexer {
        name,
        src: text,
        pos: 0,
        toks: Vec::new(),
        paren_depth: 0,
    };
    let toks = lexer.run()?;
    let mut p = Parser {
        name,
        text: Arc::from(text),
        toks,
        i: 0,
        funcs,
        defines: Vec::new(),
        vars: vec!["$".to_string()],
        range_depth: 0,
        depth: 0,
    };
    let mut root = Vec::new();
    loop {
        match p.peek_tok() {
            Tok::Eof => break,
            Tok::LeftDelim if matches!(p.peek_nonspace_at(1), Tok::Keyword("define")) => {
                p.parse_define()?;
            }
            _ => match p.parse_node()? {
                Item::Node(n) => root.push(n),
                Item::End(pos) => return Err(p.err(pos, "unexpected {{end}}")),
                Item::Else(pos, _) => return Err(p.err(pos, "unexpected {{else}}")),
            },
        }
    }
    if !is_empty_tree(&root)
        && let Some(d) = p
            .defines
            .iter()
            .find(|d| d.name == name && !is_empty_tree(&d.root))
    {
        return Err(p.err(
            p.text.len(),
            format!("template: multiple definition of template {:?}", d.name),
        ));
    }
    Ok(Parsed {
        main: Tree {
            name: name.to_string(),
            parse_name: name.to_string(),
            text: p.text.clone(),
            root,
        },
        defines: p.defines,
    })
}

enum Item {
    Node(Node),
    End(usize),
    /// `{{else}}` or `{{else if ...}}` / `{{else with ...}}` (keyword kept).
    Else(usize, Option<&'static str>),
}

impl<'a> Parser<'a> {
    fn err(&self, pos: usize, msg: impl Into<String>) -> Error {
        let (line, _) = line_col(&self.text, pos);
        Error::Parse {
            name: self.name.to_string(),
            line,
            message: msg.into(),
        }
    }

    fn peek(&self) -> (usize, Tok) {
        self.toks
            .get(self.i)
            .cloned()
            .unwrap_or((self.text.len(), Tok::Eof))
    }

    fn peek_tok(&self) -> Tok {
        self.peek().1
    }

    fn peek_nonspace_at(&self, mut offset: usize) -> Tok {
        loop {
            match self.toks.get(self.i + offset) {
                Some((_, Tok::Space)) => offset += 1,
                Some((_, t)) => return t.clone(),
                None => return Tok::Eof,
            }
        }
    }

    fn next(&mut self) -> (usize, Tok) {
        let t = self.peek();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn next_nonspace(&mut self) -> (usize, Tok) {
        loop {
            let t = self.next();
            if t.1 != Tok::Space {
                return t;
            }
        }
    }

    fn peek_nonspace(&mut self) -> (usize, Tok) {
        let save = self.i;
        let t = self.next_nonspace();
        self.i = save;
        t
    }

    fn expect_right(&mut self, context: &str) -> PResult<()> {
        let (pos, t) = self.next_nonspace();
        if t != Tok::RightDelim {
            return Err(self.err(pos, format!("unexpected {} in {}", describe(&t), context)));
        }
        Ok(())
    }

    fn parse_define(&mut self) -> PResult<()> {
        self.next(); // {{
        let (pos, _) = self.next_nonspace(); // define
        let (npos, t) = self.next_nonspace();
        let name = match t {
            Tok::Str(s) | Tok::RawStr(s) => s,
            other => {
                return Err(self.err(
                    npos,
                    format!("unexpected {} in define clause", describe(&other)),
                ));
            }
        };
        self.expect_right("define clause")?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let (list, end) = self.parse_list()?;
        self.vars = saved_vars;
        if let Item::Else(p, _) = end {
            return Err(self.err(p, "unexpected {{else}}"));
        }
        let _ = pos;
        let end_pos = self
            .toks
            .get(self.i.saturating_sub(1))
            .map_or(npos, |t| t.0);
        self.add_define(
            Tree {
                name,
                parse_name: self.name.to_string(),
                text: self.text.clone(),
                root: list,
            },
            end_pos,
        )
    }

    /// Go's rule within one parse: an empty definition never replaces a
    /// non-empty one, and two non-empty definitions of a name are an error.
    fn add_define(&mut self, tree: Tree, pos: usize) -> PResult<()> {
        match self.defines.iter().position(|d| d.name == tree.name) {
            None => self.defines.push(tree),
            Some(i) => {
                let old_empty = self.defines.get(i).is_some_and(|d| is_empty_tree(&d.root));
                if old_empty {
                    if let Some(slot) = self.defines.get_mut(i) {
                        *slot = tree;
                    }
                } else if !is_empty_tree(&tree.root) {
                    return Err(self.err(
                        pos,
                        format!("template: multiple definition of template {:?}", tree.name),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Parses nodes until `{{end}}` or `{{else}}`.
    fn parse_list(&mut self) -> PResult<(Vec<Node>, Item)> {
        let mut list = Vec::new();
        loop {
            if self.peek_tok() == Tok::Eof {
                let pos = self.peek().0;
                return Err(self.err(pos, "unexpected EOF"));
            }
            if self.peek_tok() == Tok::LeftDelim
                && matches!(self.peek_nonspace_at(1), Tok::Keyword("define"))
            {
                let pos = self.peek().0;
                return Err(self.err(pos, "unexpected <define> in command"));
            }
            match self.parse_node()? {
                Item::Node(n) => list.push(n),
                other => return Ok((list, other)),
            }
        }
    }

    fn parse_node(&mut self) -> PResult<Item> {
        let (pos, t) = self.next();
        match t {
            Tok::Text(s) => Ok(Item::Node(Node::Text(Arc::from(s)))),
            Tok::LeftDelim => self.parse_action(pos),
            other => Err(self.err(pos, format!("unexpected {}", describe(&other)))),
        }
    }

    fn parse_action(&mut self, delim_pos: usize) -> PResult<Item> {
        let (pos, t) = self.peek_nonspace();
        match t {
            Tok::Keyword("if") => {
                self.next_nonspace();
                self.parse_branch(pos, "if")
                    .map(|b| Item::Node(Node::If(b)))
            }
            Tok::Keyword("with") => {
                self.next_nonspace();
                self.parse_branch(pos, "with")
                    .map(|b| Item::Node(Node::With(b)))
            }
            Tok::Keyword("range") => {
                self.next_nonspace();
                self.range_depth += 1;
                let r = self.parse_branch(pos, "range");
                self.range_depth -= 1;
                r.map(|b| Item::Node(Node::Range(b)))
            }
            Tok::Keyword("end") => {
                self.next_nonspace();
                self.expect_right("end")?;
                Ok(Item::End(pos))
            }
            Tok::Keyword("else") => {
                self.next_nonspace();
                let (_, t2) = self.peek_nonspace();
                match t2 {
                    Tok::Keyword("if") => Ok(Item::Else(pos, Some("if"))),
                    Tok::Keyword("with") => Ok(Item::Else(pos, Some("with"))),
                    _ => {
                        self.expect_right("else")?;
                        Ok(Item::Else(pos, None))
                    }
                }
            }
            Tok::Keyword("break") | Tok::Keyword("continue") => {
                self.next_nonspace();
                let is_break = t == Tok::Keyword("break");
                let kw = if is_break { "break" } else { "continue" };
                if self.range_depth == 0 {
                    return Err(self.err(pos, format!("{{{{{kw}}}}} outside {{{{range}}}}")));
                }
                let (p2, t2) = self.next_nonspace();
                if t2 != Tok::RightDelim {
                    return Err(
                        self.err(p2, format!("unexpected {} in {{{{{kw}}}}}", describe(&t2)))
                    );
                }
                Ok(Item::Node(if is_break {
                    Node::Break(pos)
                } else {
                    Node::Continue(pos)
                }))
            }
            Tok::Keyword("template") | Tok::Keyword("block") => {
                self.next_nonspace();
                let is_block = t == Tok::Keyword("block");
                let ctx = if is_block {
                    "block clause"
                } else {
                    "template clause"
                };
                let (npos, nt) = self.next_nonspace();
                let name = match nt {
                    Tok::Str(s) | Tok::RawStr(s) => s,
                    other => {
                        return Err(
                            self.err(npos, format!("unexpected {} in {}", describe(&other), ctx))
                        );
                    }
                };
                let pipe = if self.peek_nonspace().1 == Tok::RightDelim {
                    self.next_nonspace();
                    None
                } else {
                    Some(self.parse_pipeline(ctx, true)?)
                };
                if is_block {
                    // A block body is its own template: no outer variables or range.
                    let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
                    let saved_range = std::mem::replace(&mut self.range_depth, 0);
                    let body = self.parse_list();
                    self.vars = saved_vars;
                    self.range_depth = saved_range;
                    let (list, end) = body?;
                    if let Item::Else(p, _) = end {
                        return Err(self.err(p, "unexpected {{else}}"));
                    }
                    let end_pos = self.toks.get(self.i.saturating_sub(1)).map_or(pos, |t| t.0);
                    self.add_define(
                        Tree {
                            name: name.clone(),
                            parse_name: self.name.to_string(),
                            text: self.text.clone(),
                            root: list,
                        },
                        end_pos,
                    )?;
                }
                // Go positions the node at its name.
                Ok(Item::Node(Node::Template {
                    pos: npos,
                    name,
                    pipe,
                }))
            }
            Tok::Keyword("define") => Err(self.err(pos, "unexpected <define> in command")),
            _ => {
                let _ = delim_pos;
                let pipe = self.parse_pipeline("command", true)?;
                Ok(Item::Node(Node::Action(pipe)))
            }
        }
    }

    fn parse_branch(&mut self, pos: usize, kind: &'static str) -> PResult<Branch> {
        if self.depth >= MAX_NESTING {
            return Err(self.err(
                pos,
                format!("{kind} nested more than {MAX_NESTING} levels deep"),
            ));
        }
        self.depth += 1;
        let r = self.parse_branch_inner(pos, kind);
        self.depth -= 1;
        r
    }

    fn parse_branch_inner(&mut self, pos: usize, kind: &'static str) -> PResult<Branch> {
        let mark = self.vars.len();
        let pipe = self.parse_pipeline(kind, true)?;
        if kind == "range" && pipe.decl.len() > 2 {
            return Err(self.err(pos, "too many declarations in range"));
        }
        if kind != "range" && pipe.decl.len() > 1 {
            return Err(self.err(pos, format!("too many declarations in {kind}")));
        }
        let (list, end) = self.parse_list()?;
        let else_list = match end {
            Item::End(_) => None,
            Item::Else(epos, None) => {
                let (el, end2) = self.parse_list()?;
                if let Item::Else(p, _) = end2 {
                    return Err(self.err(p, "expected end; found {{else}}"));
                }
                let _ = epos;
                Some(el)
            }
            Item::Else(epos, Some(k)) => {
                if kind == "range" || (kind == "if" && k != "if") || (kind == "with" && k != "with")
                {
                    return Err(self.err(epos, format!("expected end; found {{{{else {k}}}}}")));
                }
                // `{{else if x}}` is `{{else}}{{if x}}...{{end}}{{end}}` with one shared end.
                let (kpos, _) = self.next_nonspace();
                let inner = self.parse_branch(kpos, kind)?;
                Some(vec![if kind == "if" {
                    Node::If(inner)
                } else {
                    Node::With(inner)
                }])
            }
            Item::Node(_) => return Err(self.err(pos, "internal parser state")),
        };
        self.vars.truncate(mark);
        // Go positions control nodes at their pipeline.
        Ok(Branch {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    /// Parses `[decl :=] cmd | cmd ...` up to the closing delimiter (or `)`
    /// when `in_paren`).
    fn parse_pipeline(&mut self, context: &str, top: bool) -> PResult<Pipe> {
        let (pos, _) = self.peek_nonspace();
        let mut decl = Vec::new();
        let mut is_assign = false;
        // Declarations: $x := / $x = / $i, $v :=
        let save = self.i;
        if let (_, Tok::Variable(v)) = self.peek_nonspace() {
            self.next_nonspace();
            let (_, t2) = self.peek_nonspace();
            match t2 {
                Tok::Declare | Tok::Assign => {
                    self.next_nonspace();
                    is_assign = t2 == Tok::Assign;
                    decl.push(v);
                }
                Tok::Comma if context == "range" => {
                    self.next_nonspace();
                    if let (_, Tok::Variable(v2)) = self.next_nonspace() {
                        let (p3, t3) = self.next_nonspace();
                        match t3 {
                            Tok::Declare | Tok::Assign => {
                                is_assign = t3 == Tok::Assign;
                                decl.push(v);
                                decl.push(v2);
                            }
                            other => {
                                return Err(self
                                    .err(p3, format!("unexpected {} in range", describe(&other))));
                            }
                        }
                    } else {
                        return Err(self.err(pos, "range can only initialize variables"));
                    }
                }
                _ => self.i = save,
            }
        }
        // Go makes declared (and assigned) names known before the commands;
        // an assignment to an undeclared name fails when executed.
        self.vars.extend(decl.iter().cloned());
        let mut cmds = Vec::new();
        loop {
            let (p, t) = self.peek_nonspace();
            match t {
                Tok::RightDelim if top => {
                    self.next_nonspace();
                    break;
                }
                Tok::RParen if !top => {
                    self.next_nonspace();
                    break;
                }
                Tok::RightDelim | Tok::RParen | Tok::Eof => {
                    return Err(self.err(p, format!("unexpected {} in {}", describe(&t), context)));
                }
                _ => {
                    let cmd = self.parse_command(context)?;
                    cmds.push(cmd);
                }
            }
        }
        if cmds.is_empty() {
            return Err(self.err(pos, format!("missing value for {context}")));
        }
        for (i, c) in cmds.iter().enumerate().skip(1) {
            if let Some((p, a)) = c.args.first()
                && matches!(
                    a,
                    Arg::Bool(_) | Arg::Dot | Arg::Nil | Arg::Number(_) | Arg::String(_)
                )
            {
                let _ = i;
                return Err(self.err(
                    *p,
                    format!("non executable command in pipeline stage {}", i + 1),
                ));
            }
        }
        Ok(Pipe {
            pos,
            is_assign,
            decl,
            cmds,
        })
    }

    fn parse_command(&mut self, context: &str) -> PResult<Command> {
        let (pos, _) = self.peek_nonspace();
        let mut args = Vec::new();
        loop {
            // Operands are separated by spaces.
            let (p, t) = self.peek();
            match t {
                Tok::Space => {
                    self.next();
                    continue;
                }
                Tok::RightDelim | Tok::RParen => break,
                Tok::Pipe => {
                    self.next();
                    if args.is_empty() {
                        return Err(self.err(p, "missing command"));
                    }
                    return Ok(Command { pos, args });
                }
                _ => {}
            }
            let operand = self.parse_operand()?;
            match operand {
                Some(a) => args.push(a),
                None => {
                    let (p, t) = self.peek();
                    return Err(self.err(p, format!("unexpected {} in operand", describe(&t))));
                }
            }
            // After an operand: space, pipe, or end.
            let (p2, t2) = self.peek();
            match t2 {
                Tok::Space | Tok::RightDelim | Tok::RParen | Tok::Pipe => {}
                other => {
                    return Err(self.err(p2, format!("unexpected {} in operand", describe(&other))));
                }
            }
        }
        if args.is_empty() {
            return Err(self.err(pos, format!("empty command in {context}")));
        }
        Ok(Command { pos, args })
    }

    fn parse_operand(&mut self) -> PResult<Option<(usize, Arg)>> {
        let (pos, t) = self.next();
        let term = match t {
            Tok::Ident(name) => {
                if !self.funcs.has_func(&name) {
                    return Err(self.err(pos, format!("function \"{name}\" not defined")));
                }
                Arg::Ident(name)
            }
            Tok::Dot => Arg::Dot,
            Tok::Nil => Arg::Nil,
            Tok::Bool(b) => Arg::Bool(b),
            Tok::Variable(v) => {
                if !self.vars.contains(&v) {
                    return Err(self.err(pos, format!("undefined variable \"{v}\"")));
                }
                Arg::Variable(v, Vec::new())
            }
            Tok::Field(f) => Arg::Field(vec![f]),
            Tok::Str(s) | Tok::RawStr(s) => Arg::String(Arc::from(s)),
            Tok::Number(text) | Tok::Char(text) => match parse_number(&text) {
                Some(n) => Arg::Number(n),
                None => return Err(self.err(pos, format!("bad number syntax: \"{text}\""))),
            },
            Tok::LParen => {
                if self.depth >= MAX_NESTING {
                    return Err(self.err(
                        pos,
                        format!("parentheses nested more than {MAX_NESTING} levels deep"),
                    ));
                }
                self.depth += 1;
                let pipe = self.parse_pipeline("parenthesized pipeline", false);
                self.depth -= 1;
                let pipe = pipe?;
                Arg::Pipe(Box::new(pipe), Vec::new())
            }
            _ => {
                self.i -= 1;
                return Ok(None);
            }
        };
        // Field chains: .A.B after a term.
        let mut chain = Vec::new();
        // Go positions a chain at its second element (`.B` in `.A.B`).
        let chain_pos = self.peek().0;
        while let (_, Tok::Field(f)) = self.peek() {
            self.next();
            chain.push(f);
        }
        if chain.is_empty() {
            return Ok(Some((pos, term)));
        }
        let pos = chain_pos;
        let arg = match term {
            Arg::Field(mut first) => {
                first.extend(chain);
                Arg::Field(first)
            }
            Arg::Variable(v, _) => Arg::Variable(v, chain),
            Arg::Pipe(p, _) => Arg::Pipe(p, chain),
            Arg::Dot => Arg::Field(chain),
            Arg::Bool(_) | Arg::String(_) | Arg::Number(_) | Arg::Nil => {
                return Err(self.err(
                    pos,
                    format!("unexpected . after term {:?}", describe_arg(&term)),
                ));
            }
            Arg::Ident(name) => {
                // A function call result cannot be followed by fields without parens.
                return Err(self.err(pos, format!("unexpected . after term \"{name}\"")));
            }
        };
        Ok(Some((pos, arg)))
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Text(_) => "text".into(),
        Tok::LeftDelim => "\"{{\"".into(),
        Tok::RightDelim => "\"}}\"".into(),
        Tok::Space => "space".into(),
        Tok::Ident(s) | Tok::Field(s) | Tok::Variable(s) | Tok::Number(s) | Tok::Char(s) => {
            format!("<{s}>")
        }
        Tok::Keyword(k) => format!("<{k}>"),
        Tok::Dot => "<.>".into(),
        Tok::Str(s) => format!("{s:?}"),
        Tok::RawStr(s) => format!("`{s}`"),
        Tok::Bool(b) => format!("<{b}>"),
        Tok::Nil => "<nil>".into(),
        Tok::Pipe => "\"|\"".into(),
        Tok::LParen => "\"(\"".into(),
        Tok::RParen => "\")\"".into(),
        Tok::Declare => "\":=\"".into(),
        Tok::Assign => "\"=\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Eof => "EOF".into(),
    }
}

fn describe_arg(a: &Arg) -> String {
    crate::exec::arg_string(a)
}

/// Go's IsEmptyTree: only blank text.
pub(crate) fn is_empty_tree(nodes: &[Node]) -> bool {
    nodes.iter().all(|n| match n {
        Node::Text(t) => t.trim().is_empty(),
        _ => false,
    })
}

/// Names every template defined in `parsed`, for duplicate checks.
pub fn defined_names(parsed: &Parsed) -> HashSet<&str> {
    parsed.defines.iter().map(|t| t.name.as_str()).collect()
}
