//! Go's `fmt` printing rules for template values: `print`, `println`,
//! `printf` verbs with flags, width and precision, `%v` of maps and lists,
//! float formatting as `strconv.FormatFloat`, and `strconv.Quote`.

use crate::value::{MAX_DEPTH, Value};

/// `fmt.Sprint`: spaces between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = true;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        write_value(&mut out, a, 0);
        prev_string = is_string;
    }
    out
}

/// `fmt.Sprintln`: always spaces, and a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_value(&mut out, a, 0);
    }
    out.push('\n');
    out
}

/// `%v` of one value.
pub fn sprint_value(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v, 0);
    s
}

/// Writes `v` with `%v` (or `%+v` when `plus`) semantics.
pub fn write_value(out: &mut String, v: &Value, depth: usize) {
    let mut path = Vec::with_capacity(depth);
    write_path(out, v, &mut path);
}

/// `path` holds the maps being printed; Go would recurse forever into a
/// map that contains itself, here it prints `<cycle>`.
fn write_path(out: &mut String, v: &Value, path: &mut Vec<usize>) {
    if path.len() > MAX_DEPTH {
        out.push_str("...");
        return;
    }
    match v {
        Value::Missing | Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&format_float(*f, 'g', None)),
        Value::Complex(re, im) => out.push_str(&format_complex(*re, *im, 'g', None)),
        Value::String(s) => out.push_str(s),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_path(out, x, path);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let addr = m.addr();
            if path.contains(&addr) {
                out.push_str("<cycle>");
                return;
            }
            path.push(addr);
            out.push_str("map[");
            for (i, (k, x)) in m.entries().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_path(out, x, path);
            }
            out.push(']');
            path.pop();
        }
        Value::Object(o) => out.push_str(&crate::exec::object_display(o.as_ref())),
    }
}

/// Go's `(re+imi)` form of a complex number.
fn format_complex(re: f64, im: f64, verb: char, prec: Option<usize>) -> String {
    let r = format_float(re, verb, prec);
    let mut i = format_float(im, verb, prec);
    if !i.starts_with(['-', '+']) {
        i.insert(0, '+');
    }
    format!("({r}{i}i)")
}

/// `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn is_go_printable(c: char) -> bool {
    !c.is_control()
        && !matches!(c as u32, 0x80..=0x9f | 0xad | 0x2028 | 0x2029 | 0xfeff | 0xfff9..=0xfffb)
}

/// Shortest decimal digits and decimal exponent of a finite positive float:
/// value = 0.DIGITS * 10^dp.
fn shortest_digits(f: f64) -> (String, i32) {
    let s = format!("{:e}", f);
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0').to_string();
    let digits = if digits.is_empty() {
        "0".to_string()
    } else {
        digits
    };
    (digits, exp + 1)
}

/// Digits rounded to `n` significant digits (n >= 1), returning (digits, dp).
fn round_sig(f: f64, n: usize) -> (String, i32) {
    let s = format!("{:.*e}", n.saturating_sub(1), f);
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits, exp + 1)
}

/// `strconv.FormatFloat(f, fmt, prec, 64)` for fmt in e, E, f, g, G
/// (prec `None` = shortest representation that round-trips).
pub fn format_float(f: f64, fmt: char, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // Fast path for the common case of whole numbers printed with %v (Helm
    // values are float64): below 1e6 Go prints them as plain integers.
    if fmt == 'g' && prec.is_none() && f.fract() == 0.0 && f.abs() < 1e6 && f != 0.0 {
        return (f as i64).to_string();
    }
    let neg = f.is_sign_negative();
    let a = f.abs();
    let body = match fmt {
        'f' | 'F' => match prec {
            Some(p) => format!("{:.*}", p, a),
            None => {
                let (d, dp) = if a == 0.0 {
                    ("0".to_string(), 1)
                } else {
                    shortest_digits(a)
                };
                fixed_from_digits(&d, dp, None)
            }
        },
        'e' | 'E' => {
            let (d, dp) = if a == 0.0 {
                ("0".repeat(prec.unwrap_or(0) + 1), 1)
            } else {
                match prec {
                    Some(p) => round_sig(a, p + 1),
                    None => shortest_digits(a),
                }
            };
            let s = exp_from_digits(&d, dp, prec);
            if fmt == 'E' { s.to_uppercase() } else { s }
        }
        _ => {
            // %g: shortest unless a precision is given.
            let (d, dp, eprec) = if a == 0.0 {
                ("0".to_string(), 1, 6)
            } else {
                match prec {
                    None => {
                        let (d, dp) = shortest_digits(a);
                        (d, dp, 6)
                    }
                    Some(p) => {
                        let p = p.max(1);
                        let (d, dp) = round_sig(a, p);
                        let d = d.trim_end_matches('0').to_string();
                        let d = if d.is_empty() { "0".into() } else { d };
                        let mut eprec = p as i32;
                        if eprec > d.len() as i32 && d.len() as i32 >= dp {
                            eprec = d.len() as i32;
                        }
                        (d, dp, eprec.max(0) as usize)
                    }
                }
            };
            let mut eprec = eprec as i32;
            if prec.is_none() {
                eprec = 6;
            }
            let exp = dp - 1;
            let s = if exp < -4 || exp >= eprec {
                exp_from_digits(&d, dp, Some(d.len().saturating_sub(1)))
            } else {
                fixed_from_digits(&d, dp, Some((d.len() as i32 - dp).max(0) as usize))
            };
            if fmt == 'G' { s.to_uppercase() } else { s }
        }
    };
    if neg { format!("-{body}") } else { body }
}

fn fixed_from_digits(d: &str, dp: i32, frac: Option<usize>) -> String {
    let mut int_part = String::new();
    let mut frac_part = String::new();
    if dp <= 0 {
        int_part.push('0');
        frac_part.push_str(&"0".repeat((-dp) as usize));
        frac_part.push_str(d);
    } else {
        let dpu = dp as usize;
        if d.len() <= dpu {
            int_part.push_str(d);
            int_part.push_str(&"0".repeat(dpu - d.len()));
        } else {
            int_part.push_str(d.get(..dpu).unwrap_or(""));
            frac_part.push_str(d.get(dpu..).unwrap_or(""));
        }
    }
    if let Some(n) = frac {
        while frac_part.len() < n {
            frac_part.push('0');
        }
        frac_part.truncate(n);
    }
    if frac_part.is_empty() {
        int_part
    } else {
        format!("{int_part}.{frac_part}")
    }
}

fn exp_from_digits(d: &str, dp: i32, prec: Option<usize>) -> String {
    let mut s = String::new();
    let mut chars = d.chars();
    s.push(chars.next().unwrap_or('0'));
    let rest: String = chars.collect();
    let mut frac = rest;
    if let Some(p) = prec {
        while frac.len() < p {
            frac.push('0');
        }
        frac.truncate(p);
    }
    if !frac.is_empty() {
        s.push('.');
        s.push_str(&frac);
    }
    let exp = if d == "0" || d.chars().all(|c| c == '0') {
        0
    } else {
        dp - 1
    };
    let (sign, e) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
    s.push('e');
    s.push(sign);
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
    s
}

/// Go's fmt rejects widths and precisions beyond a million.
const MAX_WIDTH: usize = 1_000_000;

#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf` over template values.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argi = 0;
    // Explicit argument indexes (`%[2]d`) turn off the EXTRA report.
    let mut reordered = false;
    let mut chars = format.chars().peekable();
    // `[n]` before a width, precision or verb selects argument n (1-based).
    let arg_index = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
                     argi: &mut usize,
                     reordered: &mut bool,
                     good: &mut bool| {
        if chars.peek() != Some(&'[') {
            return;
        }
        chars.next();
        *reordered = true;
        let mut n = String::new();
        for c in chars.by_ref() {
            if c == ']' {
                match n.parse::<usize>() {
                    Ok(i) if i >= 1 && i <= args.len() => *argi = i - 1,
                    _ => *good = false,
                }
                return;
            }
            n.push(c);
        }
        *good = false;
    };
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut good = true;
        let mut fl = Flags::default();
        loop {
            match chars.peek() {
                Some('+') => fl.plus = true,
                Some('-') => fl.minus = true,
                Some('#') => fl.sharp = true,
                Some(' ') => fl.space = true,
                Some('0') => fl.zero = true,
                _ => break,
            }
            chars.next();
        }
        // width
        arg_index(&mut chars, &mut argi, &mut reordered, &mut good);
        if chars.peek() == Some(&'*') {
            chars.next();
            match args.get(argi) {
                Some(Value::Int(w)) if w.unsigned_abs() <= MAX_WIDTH as u64 => {
                    fl.width = Some(w.unsigned_abs() as usize);
                    if *w < 0 {
                        fl.minus = true;
                    }
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            argi += 1;
        } else {
            let mut w = String::new();
            while let Some(d) = chars.peek().filter(|c| c.is_ascii_digit()) {
                w.push(*d);
                chars.next();
            }
            if !w.is_empty() {
                fl.width = w.parse().ok();
                if fl.width.is_none_or(|x| x > MAX_WIDTH) {
                    // Go gives up on the rest of the format.
                    out.push_str("%!(NOVERB)");
                    break;
                }
            }
        }
        if chars.peek() == Some(&'.') {
            chars.next();
            arg_index(&mut chars, &mut argi, &mut reordered, &mut good);
            if chars.peek() == Some(&'*') {
                chars.next();
                match args.get(argi) {
                    Some(Value::Int(p)) if *p >= 0 && *p <= MAX_WIDTH as i64 => {
                        fl.prec = Some(*p as usize);
                    }
                    _ => out.push_str("%!(BADPREC)"),
                }
                argi += 1;
            } else {
                let mut p = String::new();
                while let Some(d) = chars.peek().filter(|c| c.is_ascii_digit()) {
                    p.push(*d);
                    chars.next();
                }
                fl.prec = Some(p.parse().unwrap_or(usize::MAX));
                if fl.prec.is_some_and(|x| x > MAX_WIDTH) {
                    out.push_str("%!(NOVERB)");
                    break;
                }
            }
        }
        arg_index(&mut chars, &mut argi, &mut reordered, &mut good);
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !good {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
            continue;
        }
        let Some(arg) = args.get(argi) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        argi += 1;
        let s = format_one(verb, &fl, arg, &mut Vec::new());
        out.push_str(&s);
    }
    if !reordered && argi < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args
            .get(argi..)
            .unwrap_or(&[])
            .iter()
            .map(|a| format!("{}={}", a.type_name(), sprint_value(a)))
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

fn pad(s: String, fl: &Flags, numeric: bool) -> String {
    let Some(w) = fl.width else { return s };
    let len = s.chars().count();
    if len >= w {
        return s;
    }
    let n = w - len;
    if fl.minus {
        format!("{s}{}", " ".repeat(n))
    } else if fl.zero && numeric {
        // Zero padding goes after the sign.
        let (sign, rest) = match s.strip_prefix(['-', '+']) {
            Some(r) => (s.get(..1).unwrap_or(""), r),
            None => ("", s.as_str()),
        };
        format!("{sign}{}{rest}", "0".repeat(n))
    } else if fl.zero {
        format!("{}{s}", "0".repeat(n))
    } else {
        format!("{}{s}", " ".repeat(n))
    }
}

fn bad_verb(verb: char, v: &Value) -> String {
    match v {
        Value::Nil | Value::Missing => format!("%!{verb}(<nil>)"),
        _ => format!("%!{verb}({}={})", v.type_name(), sprint_value(v)),
    }
}

fn format_int_verb(verb: char, fl: &Flags, neg: bool, mag: u128) -> Option<String> {
    let digits = match verb {
        'd' | 'v' => mag.to_string(),
        'x' => format!("{mag:x}"),
        'X' => format!("{mag:X}"),
        'o' | 'O' => format!("{mag:o}"),
        'b' => format!("{mag:b}"),
        'c' => return char::from_u32(mag as u32).map(|c| c.to_string()),
        'q' => return char::from_u32(mag as u32).map(|c| format!("'{c}'")),
        'U' => return Some(format!("U+{mag:04X}")),
        _ => return None,
    };
    let mut digits = digits;
    if let Some(p) = fl.prec {
        while digits.len() < p {
            digits.insert(0, '0');
        }
        if p == 0 && mag == 0 {
            digits.clear();
        }
    }
    let prefix = match (verb, fl.sharp) {
        ('x', true) => "0x",
        ('X', true) => "0X",
        ('o', true) => "0",
        ('O', _) => "0o",
        ('b', true) => "0b",
        _ => "",
    };
    let sign = if neg {
        "-"
    } else if fl.plus {
        "+"
    } else if fl.space {
        " "
    } else {
        ""
    };
    Some(format!("{sign}{prefix}{digits}"))
}

/// `path` holds the maps being formatted, so a map inside itself prints
/// `<cycle>` instead of recursing forever.
fn format_one(verb: char, fl: &Flags, v: &Value, path: &mut Vec<usize>) -> String {
    if path.len() > MAX_DEPTH {
        return "...".into();
    }
    if let Value::Map(m) = v
        && path.contains(&m.addr())
    {
        return "<cycle>".into();
    }
    match verb {
        'T' => return pad(v.type_name(), fl, false),
        'v' => {
            if fl.sharp {
                return pad(go_syntax(v, &mut Vec::new()), fl, false);
            }
            match v {
                Value::Int(_) | Value::Uint(_) | Value::Float(_) | Value::Complex(..) => {}
                Value::List(l) => {
                    let parts: Vec<String> =
                        l.iter().map(|x| format_one('v', fl, x, path)).collect();
                    return format!("[{}]", parts.join(" "));
                }
                _ => {
                    let mut s = String::new();
                    write_value(&mut s, v, 0);
                    return pad(s, fl, false);
                }
            }
        }
        _ => {}
    }
    match v {
        Value::List(l) => format!(
            "[{}]",
            l.iter()
                .map(|x| format_one(verb, fl, x, path))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Value::Bool(b) => match verb {
            't' | 'v' => pad(b.to_string(), fl, false),
            _ => bad_verb(verb, v),
        },
        Value::Int(i) => match verb {
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => bad_verb(verb, v),
            _ => match format_int_verb(verb, fl, *i < 0, i.unsigned_abs() as u128) {
                Some(s) => pad(s, fl, true),
                None => bad_verb(verb, v),
            },
        },
        Value::Uint(u) => match format_int_verb(verb, fl, false, *u as u128) {
            Some(s) => pad(s, fl, true),
            None => bad_verb(verb, v),
        },
        Value::Float(f) => {
            let s = match verb {
                'v' | 'g' | 'G' => format_float(*f, if verb == 'G' { 'G' } else { 'g' }, fl.prec),
                'e' | 'E' => format_float(*f, verb, Some(fl.prec.unwrap_or(6))),
                'f' | 'F' => format_float(*f, 'f', Some(fl.prec.unwrap_or(6))),
                _ => return bad_verb(verb, v),
            };
            let s = if fl.plus && !s.starts_with('-') {
                format!("+{s}")
            } else if fl.space && !s.starts_with('-') {
                format!(" {s}")
            } else {
                s
            };
            pad(s, fl, f.is_finite())
        }
        Value::String(s) => match verb {
            's' | 'v' => {
                let t: String = match fl.prec {
                    Some(p) => s.chars().take(p).collect(),
                    None => s.to_string(),
                };
                pad(t, fl, false)
            }
            'q' => pad(
                if fl.sharp && !s.contains('`') {
                    format!("`{s}`")
                } else {
                    quote(s)
                },
                fl,
                false,
            ),
            'x' | 'X' => {
                let mut h = String::new();
                for (i, b) in s.bytes().enumerate() {
                    if fl.space && i > 0 {
                        h.push(' ');
                    }
                    if verb == 'x' {
                        h.push_str(&format!("{b:02x}"));
                    } else {
                        h.push_str(&format!("{b:02X}"));
                    }
                }
                pad(h, fl, false)
            }
            _ => bad_verb(verb, v),
        },
        Value::Complex(re, im) => match verb {
            'v' | 'g' | 'G' | 'e' | 'E' | 'f' | 'F' => {
                let prec = match verb {
                    'v' | 'g' | 'G' => fl.prec,
                    _ => Some(fl.prec.unwrap_or(6)),
                };
                let v2 = if verb == 'v' { 'g' } else { verb };
                pad(format_complex(*re, *im, v2, prec), fl, false)
            }
            _ => bad_verb(verb, v),
        },
        Value::Nil | Value::Missing => format!("%!{verb}(<nil>)"),
        Value::Map(m) => {
            path.push(m.addr());
            let mut s = String::from("map[");
            for (i, (k, x)) in m.entries().iter().enumerate() {
                if i > 0 {
                    s.push(' ');
                }
                s.push_str(&format_one(verb, fl, &Value::str(k), path));
                s.push(':');
                s.push_str(&format_one(verb, fl, x, path));
            }
            s.push(']');
            path.pop();
            s
        }
        Value::Object(o) => match verb {
            's' | 'v' | 'q' => {
                let d = o.display();
                if verb == 'q' {
                    quote(&d)
                } else {
                    pad(d, fl, false)
                }
            }
            _ => bad_verb(verb, v),
        },
    }
}

/// `%#v`: Go syntax representation.
fn go_syntax(v: &Value, path: &mut Vec<usize>) -> String {
    if path.len() > MAX_DEPTH {
        return "...".into();
    }
    match v {
        Value::Missing | Value::Nil => "<nil>".into(),
        Value::String(s) => quote(s),
        Value::Float(f) => format_float(*f, 'g', None),
        Value::List(l) => format!(
            "[]interface {{}}{{{}}}",
            l.iter()
                .map(|x| go_syntax(x, path))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Map(m) => {
            if path.contains(&m.addr()) {
                return "<cycle>".into();
            }
            path.push(m.addr());
            let inner = m
                .entries()
                .iter()
                .map(|(k, x)| format!("{}:{}", quote(k), go_syntax(x, path)))
                .collect::<Vec<_>>()
                .join(", ");
            path.pop();
            format!("map[string]interface {{}}{{{inner}}}")
        }
        other => sprint_value(other),
    }
}
