//! Loose conversions Sprig applies to `interface{}` arguments (the `cast`
//! library's rules: strings are parsed, bools are 0/1, nil is zero) and
//! Go's comparison rules for `eq`, `lt` and friends.

use crate::gofmt;
use crate::value::Value;

/// Sprig's `strval`: strings as they are, everything else as `%v`.
pub fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => gofmt::sprint_value(other),
    }
}

/// `cast.ToInt64`: invalid input yields 0.
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Uint(u) => *u as i64,
        Value::Float(f) => {
            if f.is_nan() {
                0
            } else {
                *f as i64
            }
        }
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_int_base0(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// `cast.ToFloat64`: invalid input yields 0.
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Uint(u) => *u as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|_| !s.trim().is_empty() && s.trim() == s.as_ref())
            .unwrap_or(0.0),
        _ => 0.0,
    }
}

/// cast strips a trailing `.0...` so "12.0" converts to 12.
fn trim_zero_decimal(s: &str) -> &str {
    if let Some((int, frac)) = s.split_once('.')
        && !frac.is_empty()
        && frac.bytes().all(|b| b == b'0')
    {
        return int;
    }
    s
}

/// `strconv.ParseInt(s, 0, 64)`: base from prefix, underscores allowed with a prefix.
pub fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (base, digits) = if let Some(r) = lower.strip_prefix("0x") {
        (16, r.replace('_', ""))
    } else if let Some(r) = lower.strip_prefix("0o") {
        (8, r.replace('_', ""))
    } else if let Some(r) = lower.strip_prefix("0b") {
        (2, r.replace('_', ""))
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower.get(1..)?.replace('_', ""))
    } else {
        if lower.contains('_') {
            return None;
        }
        (10, lower.clone())
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let mag = u64::from_str_radix(&digits, base).ok()?;
    if neg {
        if mag > i64::MAX as u64 + 1 {
            None
        } else {
            Some((mag as i128).wrapping_neg() as i64)
        }
    } else {
        i64::try_from(mag).ok()
    }
}

/// Sprig's `strslice`: a list of strings (nil elements of lists dropped).
pub fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l.iter().filter(|x| !x.is_nil()).map(strval).collect(),
        Value::Nil | Value::Missing => Vec::new(),
        other => vec![strval(other)],
    }
}

/// Go's kinds as the comparison builtins see them.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    Complex,
    String,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Missing | Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Uint(_) => Kind::Uint,
        Value::Float(_) => Kind::Float,
        Value::Complex(..) => Kind::Complex,
        Value::String(_) => Kind::String,
        _ => Kind::Other,
    }
}

/// Go's `eq arg1 arg2...`: true if arg1 equals any of the others.
pub fn eq(a: &Value, others: &[Value]) -> Result<bool, String> {
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = kind(a);
    for b in others {
        let k2 = kind(b);
        let truth = if k1 != k2 {
            match (a, b) {
                (Value::Int(x), Value::Uint(y)) => *x >= 0 && *x as u64 == *y,
                (Value::Uint(x), Value::Int(y)) => *y >= 0 && *x == *y as u64,
                _ => {
                    if k1 != Kind::Invalid && k2 != Kind::Invalid {
                        return Err("incompatible types for comparison".into());
                    }
                    false
                }
            }
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Uint(x), Value::Uint(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Complex(a, b), Value::Complex(c, d)) => a == c && b == d,
                (Value::String(x), Value::String(y)) => x == y,
                _ if k1 == Kind::Invalid => true,
                (Value::List(_), _) | (_, Value::List(_)) => {
                    return Err(format!(
                        "non-comparable type {}: {}",
                        gofmt::sprint_value(a),
                        a.type_name()
                    ));
                }
                (Value::Map(_), _) | (_, Value::Map(_)) => {
                    return Err(format!(
                        "non-comparable type {}: {}",
                        gofmt::sprint_value(a),
                        a.type_name()
                    ));
                }
                (Value::Object(x), Value::Object(y)) => std::sync::Arc::ptr_eq(x, y),
                _ => false,
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (k1, k2) = (kind(a), kind(b));
    if k1 != k2 {
        return match (a, b) {
            (Value::Int(x), Value::Uint(y)) => Ok(*x < 0 || (*x as u64) < *y),
            (Value::Uint(x), Value::Int(y)) => Ok(*y >= 0 && *x < *y as u64),
            _ => Err("incompatible types for comparison".into()),
        };
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Uint(x), Value::Uint(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err("invalid type for comparison".into()),
    }
}
