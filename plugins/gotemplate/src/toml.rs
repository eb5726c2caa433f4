//! A small TOML encoder and decoder for Helm's `toToml` and `fromToml`,
//! following BurntSushi/toml's output layout (scalars first, then tables
//! with two-space indented keys) and its error wording for common mistakes.

use crate::value::{MapRef, Value};

/// Encodes a map as a TOML document.
pub fn encode(v: &Value) -> Result<String, String> {
    let Value::Map(m) = v else {
        return Err(format!(
            "toml: top-level values must be Go maps or structs, not {}",
            v.type_name()
        ));
    };
    let mut out = String::new();
    encode_table(&mut out, m, &[], 0)?;
    Ok(out)
}

fn bare_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        crate::gofmt::quote(k)
    }
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Map(_))
}

fn is_table_array(v: &Value) -> bool {
    matches!(v, Value::List(l) if !l.is_empty() && l.iter().all(is_table))
}

fn encode_table(out: &mut String, m: &MapRef, path: &[String], depth: usize) -> Result<(), String> {
    if depth > 100 {
        return Err("toml: nesting too deep".into());
    }
    let entries = m.entries();
    let indent = "  ".repeat(path.len());
    for (k, v) in &entries {
        if is_table(v) || is_table_array(v) || v.is_nil() {
            continue;
        }
        out.push_str(&indent);
        out.push_str(&bare_key(k));
        out.push_str(" = ");
        out.push_str(&scalar(v)?);
        out.push('\n');
    }
    for (k, v) in &entries {
        let mut p = path.to_vec();
        p.push(bare_key(k));
        let header_indent = "  ".repeat(path.len());
        match v {
            Value::Map(sub) => {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&format!("{header_indent}[{}]\n", p.join(".")));
                encode_table(out, sub, &p, depth + 1)?;
            }
            Value::List(l) if is_table_array(v) => {
                for item in l.iter() {
                    if let Value::Map(sub) = item {
                        if !out.is_empty() {
                            out.push('\n');
                        }
                        out.push_str(&format!("{header_indent}[[{}]]\n", p.join(".")));
                        encode_table(out, sub, &p, depth + 1)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn scalar(v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => {
            if f.is_nan() {
                "nan".into()
            } else if f.is_infinite() {
                if *f > 0.0 {
                    "inf".into()
                } else {
                    "-inf".into()
                }
            } else if f.fract() == 0.0 && f.abs() < 1e16 {
                format!("{f:.1}")
            } else {
                crate::gofmt::format_float(*f, 'g', None)
            }
        }
        Value::String(s) => crate::gofmt::quote(s),
        Value::List(l) => {
            let parts: Result<Vec<String>, String> = l.iter().map(scalar).collect();
            format!("[{}]", parts?.join(", "))
        }
        Value::Map(m) => {
            let parts: Result<Vec<String>, String> = m
                .entries()
                .iter()
                .map(|(k, v)| Ok(format!("{} = {}", bare_key(k), scalar(v)?)))
                .collect();
            format!("{{{}}}", parts?.join(", "))
        }
        Value::Nil | Value::Missing => return Err("toml: cannot encode a nil value".into()),
        Value::Complex(..) => return Err("toml: unsupported type: complex128".into()),
        Value::Object(o) => crate::gofmt::quote(&o.display()),
    })
}

// ---------------------------------------------------------------- decoding

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
}

/// Decodes a TOML document into a map.
pub fn decode(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        src: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    let root = MapRef::default();
    let mut current = root.clone();
    loop {
        p.skip_ws_comments_newlines();
        let Some(c) = p.peek() else { break };
        if c == b'[' {
            let array = p.src.get(p.pos + 1) == Some(&b'[');
            p.pos += if array { 2 } else { 1 };
            let keys = p.key_path()?;
            p.skip_ws();
            if !p.eat(b']') || (array && !p.eat(b']')) {
                return Err(p.err("expected ']' after table name"));
            }
            current = p.open_table(&root, &keys, array)?;
        } else {
            let keys = p.key_path()?;
            p.skip_ws();
            if !p.eat(b'=') {
                if p.peek().is_none() {
                    return Err(p.err("unexpected EOF; expected key separator '='"));
                }
                return Err(p.err(&format!(
                    "expected key separator '=', but got '{}' instead",
                    p.peek().map_or(' ', char::from)
                )));
            }
            p.skip_ws();
            let v = p.value(0)?;
            let (last, parents) = keys.split_last().ok_or_else(|| p.err("empty key"))?;
            let target = p.open_table(&current, parents, false)?;
            if target.contains_key(last) {
                return Err(p.err(&format!("key '{last}' is already defined")));
            }
            target.insert(last.clone(), v);
            p.skip_ws();
            if p.peek() == Some(b'#') {
                p.skip_comment();
            }
            match p.peek() {
                None | Some(b'\n') | Some(b'\r') => {}
                Some(c) => {
                    return Err(p.err(&format!(
                        "expected a top-level item to end with a newline, comment, or EOF, but got '{}' instead",
                        char::from(c)
                    )));
                }
            }
        }
    }
    Ok(Value::Map(root))
}

impl Parser<'_> {
    fn err(&self, msg: &str) -> String {
        format!("toml: line {}: {}", self.line, msg)
    }
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }
    fn skip_comment(&mut self) {
        while !matches!(self.peek(), None | Some(b'\n')) {
            self.pos += 1;
        }
    }
    fn skip_ws_comments_newlines(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                }
                Some(b'#') => self.skip_comment(),
                _ => return,
            }
        }
    }
    fn key_path(&mut self) -> Result<Vec<String>, String> {
        let mut keys = Vec::new();
        loop {
            self.skip_ws();
            let k = match self.peek() {
                Some(b'"') => self.basic_string()?,
                Some(b'\'') => self.literal_string()?,
                _ => {
                    let start = self.pos;
                    while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                    {
                        self.pos += 1;
                    }
                    if start == self.pos {
                        return Err(match self.peek() {
                            None => self.err("unexpected EOF; expected key"),
                            Some(c) => {
                                self.err(&format!("bare keys cannot contain '{}'", char::from(c)))
                            }
                        });
                    }
                    String::from_utf8_lossy(self.src.get(start..self.pos).unwrap_or(&[]))
                        .into_owned()
                }
            };
            keys.push(k);
            self.skip_ws();
            if !self.eat(b'.') {
                return Ok(keys);
            }
        }
    }
    fn open_table(&self, root: &MapRef, keys: &[String], array: bool) -> Result<MapRef, String> {
        let mut cur = root.clone();
        for (i, k) in keys.iter().enumerate() {
            let last = i + 1 == keys.len();
            let next = match cur.get(k) {
                Some(Value::Map(m)) if !(last && array) => m,
                Some(Value::List(l)) => {
                    if last && array {
                        let m = MapRef::default();
                        let mut items = l.as_ref().clone();
                        items.push(Value::Map(m.clone()));
                        cur.insert(k.clone(), Value::list(items));
                        m
                    } else {
                        match l.last() {
                            Some(Value::Map(m)) => m.clone(),
                            _ => return Err(self.err(&format!("key '{k}' is not a table"))),
                        }
                    }
                }
                Some(_) => return Err(self.err(&format!("key '{k}' is already defined"))),
                None => {
                    let m = MapRef::default();
                    if last && array {
                        cur.insert(k.clone(), Value::list(vec![Value::Map(m.clone())]));
                    } else {
                        cur.insert(k.clone(), Value::Map(m.clone()));
                    }
                    m
                }
            };
            cur = next;
        }
        Ok(cur)
    }
    fn basic_string(&mut self) -> Result<String, String> {
        let start = self.pos;
        self.pos += 1;
        let mut escaped = false;
        while let Some(c) = self.peek() {
            self.pos += 1;
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                let raw = String::from_utf8_lossy(self.src.get(start..self.pos).unwrap_or(&[]))
                    .into_owned();
                return crate::parse::unquote(&raw)
                    .ok_or_else(|| self.err("invalid escape in string"));
            } else if c == b'\n' {
                break;
            }
        }
        Err(self.err("unexpected EOF; expected '\"'"))
    }
    fn literal_string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == b'\'' {
                let s = String::from_utf8_lossy(self.src.get(start..self.pos).unwrap_or(&[]))
                    .into_owned();
                self.pos += 1;
                return Ok(s);
            }
            if c == b'\n' {
                break;
            }
            self.pos += 1;
        }
        Err(self.err("unexpected EOF; expected \"'\""))
    }
    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > 100 {
            return Err(self.err("nesting too deep"));
        }
        match self.peek() {
            Some(b'"') => Ok(Value::string(self.basic_string()?)),
            Some(b'\'') => Ok(Value::string(self.literal_string()?)),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws_comments_newlines();
                    if self.eat(b']') {
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    self.skip_ws_comments_newlines();
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b']') {
                        break;
                    }
                    return Err(self.err("expected ',' or ']' in array"));
                }
                Ok(Value::list(items))
            }
            Some(b'{') => {
                self.pos += 1;
                let m = MapRef::default();
                loop {
                    self.skip_ws();
                    if self.eat(b'}') {
                        break;
                    }
                    let keys = self.key_path()?;
                    self.skip_ws();
                    if !self.eat(b'=') {
                        return Err(self.err("expected key separator '='"));
                    }
                    self.skip_ws();
                    let v = self.value(depth + 1)?;
                    let (last, parents) = keys.split_last().ok_or_else(|| self.err("empty key"))?;
                    let t = self.open_table(&m, parents, false)?;
                    t.insert(last.clone(), v);
                    self.skip_ws();
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b'}') {
                        break;
                    }
                    return Err(self.err("expected ',' or '}' in inline table"));
                }
                Ok(Value::Map(m))
            }
            _ => {
                let start = self.pos;
                while matches!(self.peek(), Some(c) if !matches!(c, b',' | b']' | b'}' | b'\n' | b'\r' | b'#' | b' ' | b'\t'))
                {
                    self.pos += 1;
                }
                let word = String::from_utf8_lossy(self.src.get(start..self.pos).unwrap_or(&[]))
                    .into_owned();
                match word.as_str() {
                    "" => Err(self.err("unexpected EOF; expected value")),
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "inf" | "+inf" => Ok(Value::Float(f64::INFINITY)),
                    "-inf" => Ok(Value::Float(f64::NEG_INFINITY)),
                    "nan" | "+nan" | "-nan" => Ok(Value::Float(f64::NAN)),
                    w => {
                        let clean = w.replace('_', "");
                        if let Some(i) =
                            crate::funcs::convert::parse_int_base0(&clean).filter(|_| {
                                !clean.starts_with('0')
                                    || clean.len() == 1
                                    || clean.starts_with("0x")
                                    || clean.starts_with("0o")
                                    || clean.starts_with("0b")
                            })
                        {
                            Ok(Value::Int(i))
                        } else if let Ok(f) = clean.parse::<f64>() {
                            Ok(Value::Float(f))
                        } else {
                            // Dates and times stay strings here.
                            Ok(Value::string(w.to_string()))
                        }
                    }
                }
            }
        }
    }
}
