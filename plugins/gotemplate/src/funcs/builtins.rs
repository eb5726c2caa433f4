//! Go text/template's builtin functions: and, or, not, len, index, slice,
//! print, printf, println, html, js, urlquery, eq, ne, lt, le, gt, ge, call.

use super::convert::{eq, lt};
use super::{FuncError, FuncKind, FuncMap, FuncResult, call_err};
use crate::exec::Ctx;
use crate::gofmt;
use crate::value::Value;

pub(crate) fn register() -> FuncMap {
    let mut m = FuncMap::new();
    m.insert_kind("and", 1, None, FuncKind::And);
    m.insert_kind("or", 1, None, FuncKind::Or);
    m.insert("not", 1, Some(1), |_, a| {
        Ok(Value::Bool(!a.first().is_some_and(Value::is_true)))
    });
    m.insert("len", 1, Some(1), len);
    m.insert("index", 1, None, index);
    m.insert("slice", 1, None, slice);
    m.insert("print", 0, None, |_, a| {
        Ok(Value::string(gofmt::sprint(&a)))
    });
    m.insert("println", 0, None, |_, a| {
        Ok(Value::string(gofmt::sprintln(&a)))
    });
    m.insert("printf", 1, None, printf);
    m.insert("html", 0, None, |_, a| {
        Ok(Value::string(html_escape(&eval_args(&a))))
    });
    m.insert("js", 0, None, |_, a| {
        Ok(Value::string(js_escape(&eval_args(&a))))
    });
    m.insert("urlquery", 0, None, |_, a| {
        Ok(Value::string(query_escape(&eval_args(&a))))
    });
    m.insert("eq", 1, None, |_, a| {
        let (first, rest) = a
            .split_first()
            .ok_or_else(|| call_err("missing argument for comparison"))?;
        eq(first, rest).map(Value::Bool).map_err(FuncError::Call)
    });
    m.insert("ne", 2, Some(2), |_, a| {
        eq(&a[0], &a[1..])
            .map(|b| Value::Bool(!b))
            .map_err(FuncError::Call)
    });
    m.insert("lt", 2, Some(2), |_, a| {
        lt(&a[0], &a[1]).map(Value::Bool).map_err(FuncError::Call)
    });
    m.insert("le", 2, Some(2), |_, a| {
        let l = lt(&a[0], &a[1]).map_err(FuncError::Call)?;
        if l {
            return Ok(Value::Bool(true));
        }
        eq(&a[0], &a[1..]).map(Value::Bool).map_err(FuncError::Call)
    });
    m.insert("gt", 2, Some(2), |_, a| {
        let l = lt(&a[0], &a[1]).map_err(FuncError::Call)?;
        if l {
            return Ok(Value::Bool(false));
        }
        eq(&a[0], &a[1..])
            .map(|e| Value::Bool(!e))
            .map_err(FuncError::Call)
    });
    m.insert("ge", 2, Some(2), |_, a| {
        lt(&a[0], &a[1])
            .map(|l| Value::Bool(!l))
            .map_err(FuncError::Call)
    });
    m.insert("call", 1, None, |_, a| {
        Err(call_err(format!(
            "non-function {} of type {}",
            gofmt::sprint_value(&a[0]),
            a[0].type_name()
        )))
    });
    m
}

fn printf(_: &mut Ctx<'_, '_>, a: Vec<Value>) -> FuncResult {
    let f = super::arg_str(&a, 0)?;
    Ok(Value::string(gofmt::sprintf(f, &a[1..])))
}

fn len(_: &mut Ctx<'_, '_>, a: Vec<Value>) -> FuncResult {
    match &a[0] {
        Value::String(s) => Ok(Value::Int(s.len() as i64)),
        Value::List(l) => Ok(Value::Int(l.len() as i64)),
        Value::Map(m) => Ok(Value::Int(m.len() as i64)),
        Value::Object(o) => match o.len() {
            Some(n) => Ok(Value::Int(n as i64)),
            None => Err(call_err(format!("len of type {}", o.type_name()))),
        },
        Value::Nil | Value::Missing => Err(call_err("len of nil pointer")),
        v => Err(call_err(format!("len of type {}", v.type_name()))),
    }
}

/// Go's indexArg: an integer within [0, cap].
fn index_arg(v: &Value, cap: usize) -> Result<usize, FuncError> {
    let x = match v {
        Value::Int(i) => *i,
        Value::Uint(u) => i64::try_from(*u).unwrap_or(i64::MAX),
        Value::Nil | Value::Missing => return Err(call_err("cannot index slice/array with nil")),
        other => {
            return Err(call_err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(call_err(format!("index out of range: {x}")));
    }
    Ok(x as usize)
}

fn index(_: &mut Ctx<'_, '_>, a: Vec<Value>) -> FuncResult {
    let mut item = a[0].clone();
    if item.is_nil() {
        return Err(call_err("index of untyped nil"));
    }
    for idx in &a[1..] {
        item = match &item {
            Value::Nil | Value::Missing => return Err(call_err("index of nil pointer")),
            Value::List(l) => {
                let i = index_arg(idx, l.len())?;
                match l.get(i) {
                    Some(v) => v.clone(),
                    None => return Err(call_err(format!("index out of range: {i}"))),
                }
            }
            Value::String(s) => {
                let i = index_arg(idx, s.len())?;
                match s.as_bytes().get(i) {
                    Some(b) => Value::Int(i64::from(*b)),
                    None => return Err(call_err(format!("index out of range: {i}"))),
                }
            }
            Value::Map(m) => match idx {
                Value::String(k) => m.get(k).unwrap_or(Value::Nil),
                Value::Nil | Value::Missing => {
                    return Err(call_err("value is nil; should be of type string"));
                }
                other => {
                    return Err(call_err(format!(
                        "value has type {}; should be string",
                        other.type_name()
                    )));
                }
            },
            Value::Object(o) => match idx {
                Value::String(k) => o.field(k).unwrap_or(Value::Nil),
                other => {
                    return Err(call_err(format!(
                        "can't index item of type {} with {}",
                        o.type_name(),
                        other.type_name()
                    )));
                }
            },
            other => {
                return Err(call_err(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(item)
}

fn slice(_: &mut Ctx<'_, '_>, a: Vec<Value>) -> FuncResult {
    let item = &a[0];
    if item.is_nil() {
        return Err(call_err("slice of untyped nil"));
    }
    let idxs = &a[1..];
    if idxs.len() > 3 {
        return Err(call_err(format!("too many slice indexes: {}", idxs.len())));
    }
    let len = match item {
        Value::String(s) => {
            if idxs.len() == 3 {
                return Err(call_err("cannot 3-index slice a string"));
            }
            s.len()
        }
        Value::List(l) => l.len(),
        other => {
            return Err(call_err(format!(
                "can't slice item of type {}",
                other.type_name()
            )));
        }
    };
    let mut idx = [0usize, len, len];
    for (i, v) in idxs.iter().enumerate() {
        idx[i] = index_arg(v, len)?;
    }
    if idx[0] > idx[1] {
        return Err(call_err(format!(
            "invalid slice index: {} > {}",
            idx[0], idx[1]
        )));
    }
    if idxs.len() == 3 && idx[1] > idx[2] {
        return Err(call_err(format!(
            "invalid slice index: {} > {}",
            idx[1], idx[2]
        )));
    }
    match item {
        Value::String(s) => match s.as_bytes().get(idx[0]..idx[1]) {
            Some(b) => Ok(Value::string(String::from_utf8_lossy(b).into_owned())),
            None => Err(call_err("slice bounds out of range")),
        },
        Value::List(l) => Ok(Value::list(l.get(idx[0]..idx[1]).unwrap_or(&[]).to_vec())),
        _ => Err(call_err("can't slice")),
    }
}

/// The text html/js/urlquery escape: one string argument as is, otherwise
/// `fmt.Sprint` with invalid values shown as `<no value>`.
fn eval_args(a: &[Value]) -> String {
    if let [Value::String(s)] = a {
        return s.to_string();
    }
    let shown: Vec<Value> = a
        .iter()
        .map(|v| {
            if v.is_nil() {
                Value::str("<no value>")
            } else {
                v.clone()
            }
        })
        .collect();
    gofmt::sprint(&shown)
}

pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            // Go writes every other ASCII control character as \u00XX.
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if (c as u32) >= 0x80 && c.is_control() => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
