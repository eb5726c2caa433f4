//! Scalar resolution: turns the text of a plain scalar into a JSON value the
//! way go-yaml does (v3 for [`Schema::Yaml12`], v2 for [`Schema::Yaml11`]),
//! and tells the emitter which strings would not read back as strings.
//!
//! go-yaml's rules are looser than the YAML 1.2 core schema (it drops `_` in
//! numbers, reads `0777` as octal and `08` as a float); users compare our
//! output with kustomize/helm, so the Go behaviour is the reference here.

use serde_json::{Number, Value};

use crate::Schema;

/// What a plain scalar resolves to, before it becomes a JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// `.inf`, `.nan` and friends: floats JSON cannot hold.
    NonFinite,
    Timestamp,
    Merge,
    Str,
}

/// Resolves an untagged plain scalar.
pub(crate) fn resolve(s: &str, schema: Schema) -> Resolved {
    let Some(&first) = s.as_bytes().first() else {
        return Resolved::Null;
    };
    match first {
        b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'y' | b'Y' | b'o' | b'O' => {
            resolve_word(s, schema)
        }
        b'<' if s == "<<" => Resolved::Merge,
        b'.' => match s {
            ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" => Resolved::NonFinite,
            _ => match parse_go_float(s) {
                Some(f) => Resolved::Float(f),
                None => Resolved::Str,
            },
        },
        b'+' | b'-' | b'0'..=b'9' => resolve_number(s),
        _ => Resolved::Str,
    }
}

fn resolve_word(s: &str, schema: Schema) -> Resolved {
    match s {
        "~" | "null" | "Null" | "NULL" => Resolved::Null,
        "true" | "True" | "TRUE" => Resolved::Bool(true),
        "false" | "False" | "FALSE" => Resolved::Bool(false),
        _ if schema == Schema::Yaml11 => match s {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Resolved::Bool(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Resolved::Bool(false),
            _ => Resolved::Str,
        },
        _ => Resolved::Str,
    }
}

fn resolve_number(s: &str) -> Resolved {
    match s {
        "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" => return Resolved::NonFinite,
        _ => {}
    }
    if is_timestamp(s) {
        return Resolved::Timestamp;
    }
    // go-yaml strips every underscore before trying the number parsers.
    let owned;
    let plain = if s.contains('_') {
        owned = s.replace('_', "");
        owned.as_str()
    } else {
        s
    };
    if let Some(r) = parse_go_int(plain) {
        return r;
    }
    if let Some(f) = is_yaml_style_float(plain)
        .then(|| parse_go_float(plain))
        .flatten()
    {
        return Resolved::Float(f);
    }
    Resolved::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)` then `ParseUint(s, 0, 64)`: optional
/// sign, then `0x`/`0o`/`0b` prefixes, or a leading `0` for octal.
fn parse_go_int(s: &str) -> Option<Resolved> {
    let (neg, signed, body) = match s.as_bytes().first()? {
        b'-' => (true, true, &s[1..]),
        b'+' => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let b = body.as_bytes();
    let (radix, digits) = if b.len() >= 2 && b[0] == b'0' {
        match b[1] {
            b'x' | b'X' => (16, &body[2..]),
            b'o' | b'O' => (8, &body[2..]),
            b'b' | b'B' => (2, &body[2..]),
            _ => (8, &body[1..]),
        }
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.bytes().all(|c| (c as char).is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if magnitude <= i64::MAX as u64 + 1 {
            return Some(Resolved::Int((magnitude as i128).wrapping_neg() as i64));
        }
        return None;
    }
    if let Ok(i) = i64::try_from(magnitude) {
        return Some(Resolved::Int(i));
    }
    // ParseUint refuses any sign, even "+".
    if signed {
        None
    } else {
        Some(Resolved::Uint(magnitude))
    }
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == frac_start {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// A decimal float as Go's `ParseFloat` reads it; only finite results count
/// (Go turns overflow into an error, and JSON cannot hold infinities).
fn parse_go_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        && b.iter().any(u8::is_ascii_digit);
    if !ok {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

/// go-yaml's timestamp check: `YYYY-M-D`, optionally followed by a time
/// (`T`/`t` with a `Z` or `±hh:mm` zone, or a space and no zone).
pub(crate) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut i = 5;
    let Some(month) = take_digits(b, &mut i, 1, 2) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = take_digits(b, &mut i, 1, 2) else {
        return false;
    };
    let year = (b[0] - b'0') as u32 * 1000
        + (b[1] - b'0') as u32 * 100
        + (b[2] - b'0') as u32 * 10
        + (b[3] - b'0') as u32;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let zoned = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    let Some(hour) = take_digits(b, &mut i, 1, 2) else {
        return false;
    };
    if b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(min) = take_digits(b, &mut i, 1, 2) else {
        return false;
    };
    if b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(sec) = take_digits(b, &mut i, 1, 2) else {
        return false;
    };
    if hour > 23 || min > 59 || sec > 59 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if !zoned {
        return i == b.len();
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let z = &b[i + 1..];
            z.len() == 5
                && z[0].is_ascii_digit()
                && z[1].is_ascii_digit()
                && z[2] == b':'
                && z[3].is_ascii_digit()
                && z[4].is_ascii_digit()
                && (z[0] - b'0') * 10 + (z[1] - b'0') <= 24
                && (z[3] - b'0') * 10 + (z[4] - b'0') <= 59
        }
        _ => false,
    }
}

fn take_digits(b: &[u8], i: &mut usize, min: usize, max: usize) -> Option<u32> {
    let start = *i;
    let mut v = 0u32;
    while *i < b.len() && *i - start < max && b[*i].is_ascii_digit() {
        v = v * 10 + (b[*i] - b'0') as u32;
        *i += 1;
    }
    (*i - start >= min).then_some(v)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Resolved {
    /// The JSON value of a resolved plain scalar; `text` is kept for what
    /// JSON cannot hold (timestamps, infinities, NaN, the merge key).
    pub(crate) fn into_value(self, text: &str) -> Value {
        match self {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Number(i.into()),
            Resolved::Uint(u) => Value::Number(u.into()),
            Resolved::Float(f) => Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(text.to_owned())),
            Resolved::NonFinite | Resolved::Timestamp | Resolved::Merge | Resolved::Str => {
                Value::String(text.to_owned())
            }
        }
    }
}

/// Go's shortest decimal for a finite, non-zero float: sign, significant
/// digits and the decimal exponent of the first digit.
///
/// Rust's shortest formatting breaks exact ties upward where Go rounds
/// half to even (74852917977837.125 is `...37.13` in Rust, `...37.12` in
/// Go), so the length comes from the shortest form and the digits from
/// Rust's exact formatting, which rounds half to even.
pub(crate) fn go_shortest(f: f64, bits32: bool) -> (bool, String, i32) {
    let shortest = if bits32 {
        format!("{:e}", f as f32)
    } else {
        format!("{f:e}")
    };
    let mantissa = shortest
        .split_once('e')
        .map_or(shortest.as_str(), |(m, _)| m);
    let n = mantissa.bytes().filter(u8::is_ascii_digit).count().max(1);
    let exact = if bits32 {
        format!("{:.*e}", n - 1, f as f32)
    } else {
        format!("{:.*e}", n - 1, f)
    };
    let (mantissa, exp) = exact.split_once('e').unwrap_or((exact.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (neg, digits, exp)
}

/// Formats a float as Go's `strconv.FormatFloat(f, 'g', -1, bits)`:
/// the shortest digits that read back, exponent form below 1e-4 and from
/// 1e6 on (`1e+06`, `1e-05`).
pub(crate) fn go_format_float(f: f64, bits32: bool) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (neg, digits, exp) = go_shortest(f, bits32);
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    // Go's 'g' with shortest precision switches to %e when exp < -4 || exp >= 6.
    if !(-4..6).contains(&exp) {
        let (lead, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(lead);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            let (int, frac) = digits.split_at(int_len);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_like_go_yaml() {
        let cases: &[(&str, Schema, Resolved)] = &[
            ("", Schema::Yaml12, Resolved::Null),
            ("~", Schema::Yaml12, Resolved::Null),
            ("NULL", Schema::Yaml12, Resolved::Null),
            ("True", Schema::Yaml12, Resolved::Bool(true)),
            ("yes", Schema::Yaml12, Resolved::Str),
            ("yes", Schema::Yaml11, Resolved::Bool(true)),
            ("off", Schema::Yaml11, Resolved::Bool(false)),
            ("n", Schema::Yaml11, Resolved::Bool(false)),
            ("0777", Schema::Yaml12, Resolved::Int(511)),
            ("0o17", Schema::Yaml12, Resolved::Int(15)),
            ("0x1F", Schema::Yaml12, Resolved::Int(31)),
            ("-0x10", Schema::Yaml12, Resolved::Int(-16)),
            ("0b101", Schema::Yaml12, Resolved::Int(5)),
            ("1_000", Schema::Yaml12, Resolved::Int(1000)),
            ("+12", Schema::Yaml12, Resolved::Int(12)),
            ("08", Schema::Yaml12, Resolved::Float(8.0)),
            (
                "-9223372036854775808",
                Schema::Yaml12,
                Resolved::Int(i64::MIN),
            ),
            (
                "18446744073709551615",
                Schema::Yaml12,
                Resolved::Uint(u64::MAX),
            ),
            (
                "+18446744073709551615",
                Schema::Yaml12,
                Resolved::Float(1.8446744073709552e19),
            ),
            (
                "99999999999999999999",
                Schema::Yaml12,
                Resolved::Float(1e20),
            ),
            ("1e3", Schema::Yaml12, Resolved::Float(1000.0)),
            ("1.", Schema::Yaml12, Resolved::Float(1.0)),
            (".5", Schema::Yaml12, Resolved::Float(0.5)),
            ("-.5", Schema::Yaml12, Resolved::Float(-0.5)),
            ("1e400", Schema::Yaml12, Resolved::Str),
            (".inf", Schema::Yaml12, Resolved::NonFinite),
            ("-.Inf", Schema::Yaml12, Resolved::NonFinite),
            (".NaN", Schema::Yaml12, Resolved::NonFinite),
            ("2001-12-14", Schema::Yaml12, Resolved::Timestamp),
            (
                "2001-12-14t21:59:43.10-05:00",
                Schema::Yaml12,
                Resolved::Timestamp,
            ),
            (
                "2001-12-14 21:59:43.10",
                Schema::Yaml12,
                Resolved::Timestamp,
            ),
            ("2001-02-30", Schema::Yaml12, Resolved::Str),
            ("2001-12-14 21:59:43.10 -5", Schema::Yaml12, Resolved::Str),
            ("1.2.3", Schema::Yaml12, Resolved::Str),
            ("0x", Schema::Yaml12, Resolved::Str),
            ("-", Schema::Yaml12, Resolved::Str),
            ("<<", Schema::Yaml12, Resolved::Merge),
            ("1:20", Schema::Yaml12, Resolved::Str),
            ("v1", Schema::Yaml12, Resolved::Str),
        ];
        for (text, schema, want) in cases {
            assert_eq!(&resolve(text, *schema), want, "{text:?} with {schema:?}");
        }
    }

    #[test]
    fn floats_format_like_go() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (100000.0, "100000"),
            (999999.0, "999999"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.2345e-7, "1.2345e-07"),
            (123456789.0, "1.23456789e+08"),
            (0.1, "0.1"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.0, "0"),
        ];
        for (f, want) in cases {
            assert_eq!(go_format_float(*f, false), *want, "{f}");
        }
        assert_eq!(go_format_float(0.1, true), "0.1");
        // An exact tie: Go rounds the last digit half to even.
        assert_eq!(
            go_format_float(74_852_917_977_837.0 + 0.125, false),
            "7.485291797783712e+13"
        );
    }
}
