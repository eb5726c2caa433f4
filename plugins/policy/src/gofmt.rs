//! `sprintf` with OPA's (Go `fmt`) behaviour, used in place of regorus'
//! builtin.
//!
//! regorus fails the whole expression when a format string has more verbs
//! than arguments, fewer, or a verb/type mismatch, which silently drops
//! violations: Gatekeeper's `k8shorizontalpodautoscaler` has six `%v` for
//! five arguments, and OPA prints `%!v(MISSING)` there. OPA converts
//! arguments before formatting: integers stay integers, other numbers
//! become float64, strings stay strings, and every other value is printed as
//! its Rego text first (so `%d` of `true` is `%!d(string=true)`).

use regorus::Value;

/// An argument after OPA's conversion.
enum Arg {
    Int(i128),
    Float(f64),
    Str(String),
}

impl Arg {
    fn from_value(value: &Value) -> Arg {
        match value {
            Value::Number(n) if n.is_integer() => match value.as_i128() {
                Ok(i) => Arg::Int(i),
                Err(_) => Arg::Str(n.format_decimal()),
            },
            Value::Number(_) => match value.as_f64() {
                Ok(f) => Arg::Float(f),
                Err(_) => Arg::Str(rego_text(value, false)),
            },
            Value::String(s) => Arg::Str(s.to_string()),
            other => Arg::Str(rego_text(other, false)),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Arg::Int(i) if i64::try_from(*i).is_ok() => "int",
            Arg::Int(_) => "*big.Int",
            Arg::Float(_) => "float64",
            Arg::Str(_) => "string",
        }
    }

    /// `%v` of the value, as Go prints it inside `%!verb(type=value)`.
    fn plain(&self) -> String {
        match self {
            Arg::Int(i) => i.to_string(),
            Arg::Float(f) => format_g(*f, None),
            Arg::Str(s) => s.clone(),
        }
    }
}

/// Rego's text form of a value: strings quoted inside collections, object
/// keys sorted, `, ` separators (what OPA's `Term.String()` prints).
pub(crate) fn rego_text(value: &Value, quote: bool) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) if quote => {
            serde_json::to_string(s.as_ref()).unwrap_or_else(|_| s.to_string())
        }
        Value::String(s) => s.to_string(),
        Value::Number(n) => n.format_decimal(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| rego_text(v, true))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Set(items) => {
            if items.is_empty() {
                return "set()".to_string();
            }
            format!(
                "{{{}}}",
                items
                    .iter()
                    .map(|v| rego_text(v, true))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Value::Object(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("{}: {}", rego_text(k, true), rego_text(v, true)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Undefined => "undefined".to_string(),
    }
}

#[derive(Default)]
struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    sharp: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// Go's `%e` exponent: sign and at least two digits.
fn go_exponent(rust: &str) -> String {
    match rust.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => rust.to_string(),
    }
}

fn format_e(f: f64, precision: Option<usize>) -> String {
    let rust = match precision {
        Some(p) => format!("{f:.p$e}"),
        None => format!("{f:.6e}"),
    };
    go_exponent(&rust)
}

/// `%g`/`%v` for floats: shortest representation, scientific when the
/// exponent is below -4 or at least the precision (6 when shortest).
fn format_g(f: f64, precision: Option<usize>) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".to_string()
        } else if f > 0.0 {
            "+Inf".to_string()
        } else {
            "-Inf".to_string()
        };
    }
    let sci = match precision {
        Some(p) => format!("{f:.prec$e}", prec = p.saturating_sub(1)),
        None => format!("{f:e}"),
    };
    let exp: i64 = sci
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let limit = precision.map_or(6, |p| p.max(1) as i64);
    if exp < -4 || exp >= limit {
        let (mantissa, _) = sci.split_once('e').unwrap_or((&sci, ""));
        let mantissa = if precision.is_some() && mantissa.contains('.') {
            mantissa.trim_end_matches('0').trim_end_matches('.')
        } else {
            mantissa
        };
        go_exponent(&format!("{mantissa}e{exp}"))
    } else {
        match precision {
            None => format!("{f}"),
            Some(p) => {
                let decimals = (p as i64 - 1 - exp).max(0) as usize;
                let s = format!("{f:.decimals$}");
                if s.contains('.') {
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    s
                }
            }
        }
    }
}

/// Go's `strconv.Quote`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn pad(spec: &Spec, body: String, numeric: bool) -> String {
    let Some(width) = spec.width else {
        return body;
    };
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if spec.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        // Zeros go between the sign and the digits.
        let (sign, digits) = match body.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (c.to_string(), body.get(1..).unwrap_or("").to_string()),
            _ => (String::new(), body.clone()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

fn signed(spec: &Spec, negative: bool, digits: String) -> String {
    if negative {
        format!("-{digits}")
    } else if spec.plus {
        format!("+{digits}")
    } else if spec.space {
        format!(" {digits}")
    } else {
        digits
    }
}

fn bad_verb(verb: char, arg: &Arg) -> String {
    format!("%!{verb}({}={})", arg.type_name(), arg.plain())
}

fn format_one(verb: char, spec: &Spec, arg: &Arg) -> String {
    match arg {
        Arg::Int(i) => {
            let negative = *i < 0;
            let magnitude = i.unsigned_abs();
            let body = match verb {
                'v' | 'd' => signed(spec, negative, magnitude.to_string()),
                'b' => signed(spec, negative, format!("{magnitude:b}")),
                'o' => {
                    let prefix = if spec.sharp { "0" } else { "" };
                    signed(spec, negative, format!("{prefix}{magnitude:o}"))
                }
                'O' => signed(spec, negative, format!("0o{magnitude:o}")),
                'x' => {
                    let prefix = if spec.sharp { "0x" } else { "" };
                    signed(spec, negative, format!("{prefix}{magnitude:x}"))
                }
                'X' => {
                    let prefix = if spec.sharp { "0X" } else { "" };
                    signed(spec, negative, format!("{prefix}{magnitude:X}"))
                }
                'c' => u32::try_from(*i)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{fffd}')
                    .to_string(),
                'q' => {
                    let c = u32::try_from(*i)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or('\u{fffd}');
                    format!("'{c}'")
                }
                'U' => format!("U+{magnitude:04X}"),
                _ => return bad_verb(verb, arg),
            };
            pad(spec, body, !matches!(verb, 'c' | 'q' | 'U'))
        }
        Arg::Float(f) => {
            let negative = f.is_sign_negative() && *f != 0.0;
            let magnitude = f.abs();
            let digits = match verb {
                'v' | 'g' => format_g(magnitude, spec.precision),
                'G' => format_g(magnitude, spec.precision).to_uppercase(),
                'e' => format_e(magnitude, spec.precision),
                'E' => format_e(magnitude, spec.precision).to_uppercase(),
                'f' | 'F' => {
                    let p = spec.precision.unwrap_or(6);
                    format!("{magnitude:.p$}")
                }
                _ => return bad_verb(verb, arg),
            };
            pad(spec, signed(spec, negative, digits), true)
        }
        Arg::Str(s) => {
            let truncated: String = match spec.precision {
                Some(p) => s.chars().take(p).collect(),
                None => s.clone(),
            };
            let body = match verb {
                'v' if spec.sharp => quote(&truncated),
                'v' | 's' => truncated,
                'q' => quote(&truncated),
                'x' => truncated.bytes().map(|b| format!("{b:02x}")).collect(),
                'X' => truncated.bytes().map(|b| format!("{b:02X}")).collect(),
                _ => return bad_verb(verb, arg),
            };
            pad(spec, body, false)
        }
    }
}

/// Formats like Go's `fmt.Sprintf` after OPA's argument conversion.
pub(crate) fn sprintf(format: &str, values: &[Value]) -> String {
    let args: Vec<Arg> = values.iter().map(Arg::from_value).collect();
    let mut out = String::with_capacity(format.len() + 16);
    let mut next = 0usize;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&flag) = chars.peek() {
            match flag {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                '#' => spec.sharp = true,
                _ => break,
            }
            chars.next();
        }
        let number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            let mut n: Option<usize> = None;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
                chars.next();
            }
            n
        };
        spec.width = number(&mut chars);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.precision = Some(number(&mut chars).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(next) {
            Some(arg) => {
                out.push_str(&format_one(verb, &spec, arg));
                next += 1;
            }
            None => out.push_str(&format!("%!{verb}(MISSING)")),
        }
    }
    if next < args.len() {
        let extra: Vec<String> = args
            .iter()
            .skip(next)
            .map(|a| format!("{}={}", a.type_name(), a.plain()))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

/// The extension regorus calls for `sprintf` after the source rewrite.
pub(crate) fn extension(args: Vec<Value>) -> anyhow::Result<Value> {
    match (args.first(), args.get(1)) {
        (Some(Value::String(format)), Some(Value::Array(values))) => {
            let values: Vec<Value> = values.iter().cloned().collect();
            Ok(Value::String(sprintf(format, &values).into()))
        }
        // OPA rejects these at type-check time; undefined is the closest
        // runtime behaviour and keeps other rules evaluating.
        _ => Ok(Value::Undefined),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn v(json: &str) -> Vec<Value> {
        match Value::from_json_str(json) {
            Ok(Value::Array(items)) => items.iter().cloned().collect(),
            _ => panic!("bad test input {json}"),
        }
    }

    #[test]
    fn matches_go_fmt() {
        // (format, arguments as JSON, Go/OPA output)
        let cases = [
            ("%v and %s", r#"["a", "b"]"#, "a and b"),
            ("%v", r#"[1]"#, "1"),
            ("%v", r#"[1.5]"#, "1.5"),
            ("%v", r#"[100000000.5]"#, "1.000000005e+08"),
            ("%v", r#"[0.00001]"#, "1e-05"),
            ("%d", r#"[42]"#, "42"),
            ("%5d|%-5d|%05d", r#"[42, 42, -42]"#, "   42|42   |-0042"),
            ("%+d", r#"[3]"#, "+3"),
            ("%x %X %o %b", r#"[255, 255, 8, 5]"#, "ff FF 10 101"),
            ("%.2f", r#"[3.14159]"#, "3.14"),
            // Go rounds the exact binary value half-to-even.
            ("%.1f", r#"[2.25]"#, "2.2"),
            ("%f", r#"[2.5]"#, "2.500000"),
            ("%e", r#"[1234.5678]"#, "1.234568e+03"),
            ("%q", r#"["a\"b"]"#, r#""a\"b""#),
            ("%10s|%-4s|", r#"["abc", "ab"]"#, "       abc|ab  |"),
            ("%.2s", r#"["abcdef"]"#, "ab"),
            ("%v", r#"[["a", 1]]"#, r#"["a", 1]"#),
            ("%v", r#"[{"b": 1, "a": "x"}]"#, r#"{"a": "x", "b": 1}"#),
            ("%v %v", r#"[true, null]"#, "true null"),
            ("100%% %v", r#"["done"]"#, "100% done"),
            // What regorus' builtin rejects:
            ("%v %v %v", r#"["a", "b"]"#, "a b %!v(MISSING)"),
            ("%v", r#"["a", "b", 3]"#, "a%!(EXTRA string=b, int=3)"),
            ("%d", r#"["x"]"#, "%!d(string=x)"),
            ("%d", r#"[true]"#, "%!d(string=true)"),
            ("%s", r#"[7]"#, "%!s(int=7)"),
            ("%d", r#"[1.5]"#, "%!d(float64=1.5)"),
            ("trailing %", r#"[]"#, "trailing %!(NOVERB)"),
            ("%٣d", r#"[1]"#, "%!٣(int=1)d"),
        ];
        for (format, args, expected) in cases {
            assert_eq!(sprintf(format, &v(args)), expected, "{format} {args}");
        }
    }

    #[test]
    fn sets_print_like_rego() {
        let set: std::collections::BTreeSet<Value> =
            [Value::from("b"), Value::from("a")].into_iter().collect();
        let set = Value::from(set);
        assert_eq!(rego_text(&set, false), r#"{"a", "b"}"#);
        assert_eq!(rego_text(&Value::new_set(), false), "set()");
    }
}
