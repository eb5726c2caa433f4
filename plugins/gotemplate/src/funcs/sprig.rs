//! Sprig's string, math, conversion, default, encoding, path, regex, URL,
//! reflection and random functions (`sprig.TxtFuncMap`). Lists and dicts
//! live in `sprig_data`, dates in `date`, semver in `semver`, hashes and
//! passwords in `crypto`.

use regex::Regex;

use super::convert::{strslice, strval, to_float64, to_int64};
use super::{FuncError, FuncMap, FuncResult, arg, arg_int, arg_str, call_err, s};
use crate::exec::Ctx;
use crate::gofmt;
use crate::value::Value;

pub(crate) fn register() -> FuncMap {
    let mut m = FuncMap::new();
    m.insert("hello", 0, Some(0), |_, _| s("Hello!"));
    // Strings
    m.insert("abbrev", 2, Some(2), |_, a| {
        let w = arg_int(&a, 0)?;
        let st = arg_str(&a, 1)?;
        s(abbreviate_full(st, 0, w).unwrap_or_else(|| st.to_string()))
    });
    m.insert("abbrevboth", 3, Some(3), |_, a| {
        let (l, r) = (arg_int(&a, 0)?, arg_int(&a, 1)?);
        let st = arg_str(&a, 2)?;
        if r < 4 || (l > 0 && r < 7) {
            return s(st);
        }
        s(abbreviate_full(st, l, r).unwrap_or_else(|| st.to_string()))
    });
    m.insert("trunc", 2, Some(2), |_, a| {
        let c = arg_int(&a, 0)?;
        let st = arg_str(&a, 1)?;
        let n = st.len() as i64;
        let out = if c < 0 && n + c > 0 {
            byte_slice(st, (n + c) as usize, st.len())
        } else if c >= 0 && n > c {
            byte_slice(st, 0, c as usize)
        } else {
            st.to_string()
        };
        s(out)
    });
    m.insert("trim", 1, Some(1), |_, a| s(arg_str(&a, 0)?.trim()));
    m.insert(
        "upper",
        1,
        Some(1),
        |_, a| s(arg_str(&a, 0)?.to_uppercase()),
    );
    m.insert(
        "lower",
        1,
        Some(1),
        |_, a| s(arg_str(&a, 0)?.to_lowercase()),
    );
    m.insert("title", 1, Some(1), |_, a| s(title(arg_str(&a, 0)?)));
    m.insert("untitle", 1, Some(1), |_, a| s(untitle(arg_str(&a, 0)?)));
    m.insert("substr", 3, Some(3), |_, a| {
        let (start, end) = (arg_int(&a, 0)?, arg_int(&a, 1)?);
        let st = arg_str(&a, 2)?;
        let n = st.len() as i64;
        let (from, to) = if start < 0 {
            (0, end)
        } else if end < 0 || end > n {
            (start, n)
        } else {
            (start, end)
        };
        if from < 0 || to < from || to > n {
            return Err(call_err(format!(
                "runtime error: slice bounds out of range [{from}:{to}]"
            )));
        }
        s(byte_slice(st, from as usize, to as usize))
    });
    m.insert("repeat", 2, Some(2), |_, a| {
        let c = arg_int(&a, 0)?;
        let st = arg_str(&a, 1)?;
        if c < 0 {
            return Err(call_err("strings: negative Repeat count"));
        }
        if (st.len() as u128) * (c as u128) > MAX_OUTPUT as u128 {
            return Err(call_err("strings: Repeat output length overflow"));
        }
        s(st.repeat(c as usize))
    });
    m.insert("trimall", 2, Some(2), |_, a| {
        s(arg_str(&a, 1)?.trim_matches(|c| arg_str(&a, 0).unwrap_or("").contains(c)))
    });
    m.insert("trimAll", 2, Some(2), |_, a| {
        s(arg_str(&a, 1)?.trim_matches(|c| arg_str(&a, 0).unwrap_or("").contains(c)))
    });
    m.insert("trimSuffix", 2, Some(2), |_, a| {
        let (suf, st) = (arg_str(&a, 0)?, arg_str(&a, 1)?);
        s(st.strip_suffix(suf).unwrap_or(st))
    });
    m.insert("trimPrefix", 2, Some(2), |_, a| {
        let (pre, st) = (arg_str(&a, 0)?, arg_str(&a, 1)?);
        s(st.strip_prefix(pre).unwrap_or(st))
    });
    m.insert("nospace", 1, Some(1), |_, a| {
        s(arg_str(&a, 0)?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>())
    });
    m.insert("initials", 1, Some(1), |_, a| {
        s(arg_str(&a, 0)?
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .collect::<String>())
    });
    m.insert("randAlphaNum", 1, Some(1), |c, a| rand_string(c, &a, ALNUM));
    m.insert("randAlpha", 1, Some(1), |c, a| rand_string(c, &a, ALPHA));
    m.insert("randNumeric", 1, Some(1), |c, a| {
        rand_string(c, &a, "0123456789")
    });
    m.insert("randAscii", 1, Some(1), |c, a| {
        let n = arg_int(&a, 0)?;
        let mut out = String::new();
        for _ in 0..n.clamp(0, MAX_OUTPUT as i64) {
            out.push((32 + (c.next_u64() % 95) as u8) as char);
        }
        s(out)
    });
    m.insert("swapcase", 1, Some(1), |_, a| {
        s(arg_str(&a, 0)?
            .chars()
            .flat_map(|c| {
                if c.is_uppercase() {
                    c.to_lowercase().collect::<Vec<_>>()
                } else if c.is_lowercase() {
                    c.to_uppercase().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect::<String>())
    });
    m.insert("shuffle", 1, Some(1), |c, a| {
        let mut chars: Vec<char> = arg_str(&a, 0)?.chars().collect();
        for i in (1..chars.len()).rev() {
            let j = (c.next_u64() % (i as u64 + 1)) as usize;
            chars.swap(i, j);
        }
        s(chars.into_iter().collect::<String>())
    });
    m.insert("snakecase", 1, Some(1), |_, a| {
        s(delimited_case(arg_str(&a, 0)?, '_'))
    });
    m.insert("kebabcase", 1, Some(1), |_, a| {
        s(delimited_case(arg_str(&a, 0)?, '-'))
    });
    m.insert("camelcase", 1, Some(1), |_, a| {
        s(pascal_case(arg_str(&a, 0)?))
    });
    m.insert("wrap", 2, Some(2), |_, a| {
        s(wrap_custom(arg_str(&a, 1)?, arg_int(&a, 0)?, "\n", false))
    });
    m.insert("wrapWith", 3, Some(3), |_, a| {
        s(wrap_custom(
            arg_str(&a, 2)?,
            arg_int(&a, 0)?,
            arg_str(&a, 1)?,
            true,
        ))
    });
    m.insert("contains", 2, Some(2), |_, a| {
        Ok(Value::Bool(arg_str(&a, 1)?.contains(arg_str(&a, 0)?)))
    });
    m.insert("hasPrefix", 2, Some(2), |_, a| {
        Ok(Value::Bool(arg_str(&a, 1)?.starts_with(arg_str(&a, 0)?)))
    });
    m.insert("hasSuffix", 2, Some(2), |_, a| {
        Ok(Value::Bool(arg_str(&a, 1)?.ends_with(arg_str(&a, 0)?)))
    });
    m.insert("quote", 0, None, |_, a| {
        s(a.iter()
            .filter(|v| !v.is_nil())
            .map(|v| gofmt::quote(&strval(v)))
            .collect::<Vec<_>>()
            .join(" "))
    });
    m.insert("squote", 0, None, |_, a| {
        s(a.iter()
            .filter(|v| !v.is_nil())
            .map(|v| format!("'{}'", strval(v)))
            .collect::<Vec<_>>()
            .join(" "))
    });
    m.insert("cat", 0, None, |_, a| {
        s(a.iter()
            .filter(|v| !v.is_nil())
            .map(gofmt::sprint_value)
            .collect::<Vec<_>>()
            .join(" "))
    });
    m.insert("indent", 2, Some(2), |_, a| {
        s(indent(arg_int(&a, 0)?, arg_str(&a, 1)?))
    });
    m.insert("nindent", 2, Some(2), |_, a| {
        s(format!("\n{}", indent(arg_int(&a, 0)?, arg_str(&a, 1)?)))
    });
    m.insert("replace", 3, Some(3), |_, a| {
        let (old, new, src) = (arg_str(&a, 0)?, arg_str(&a, 1)?, arg_str(&a, 2)?);
        s(go_replace_all(src, old, new))
    });
    m.insert("plural", 3, Some(3), |_, a| {
        let (one, many) = (arg_str(&a, 0)?, arg_str(&a, 1)?);
        s(if arg_int(&a, 2)? == 1 { one } else { many })
    });
    m.insert("toString", 1, Some(1), |_, a| s(strval(&arg(&a, 0))));
    // Conversions
    m.insert("atoi", 1, Some(1), |_, a| {
        let st = arg_str(&a, 0)?;
        Ok(Value::Int(atoi(st).unwrap_or(0)))
    });
    m.insert("int64", 1, Some(1), |_, a| {
        Ok(Value::Int(to_int64(&arg(&a, 0))))
    });
    m.insert("int", 1, Some(1), |_, a| {
        Ok(Value::Int(to_int64(&arg(&a, 0))))
    });
    m.insert("float64", 1, Some(1), |_, a| {
        Ok(Value::Float(to_float64(&arg(&a, 0))))
    });
    m.insert("seq", 0, None, seq);
    m.insert("toDecimal", 1, Some(1), |_, a| {
        let txt = gofmt::sprint_value(&arg(&a, 0));
        Ok(Value::Int(i64::from_str_radix(&txt, 8).unwrap_or(0)))
    });
    m.insert("split", 2, Some(2), |_, a| {
        let (sep, orig) = (arg_str(&a, 0)?, arg_str(&a, 1)?);
        Ok(parts_dict(go_split(orig, sep, -1)))
    });
    m.insert("splitList", 2, Some(2), |_, a| {
        let (sep, orig) = (arg_str(&a, 0)?, arg_str(&a, 1)?);
        Ok(str_list(go_split(orig, sep, -1)))
    });
    m.insert("splitn", 3, Some(3), |_, a| {
        let (sep, n, orig) = (arg_str(&a, 0)?, arg_int(&a, 1)?, arg_str(&a, 2)?);
        Ok(parts_dict(go_split(orig, sep, n)))
    });
    m.insert("toStrings", 1, Some(1), |_, a| {
        Ok(str_list(strslice(&arg(&a, 0))))
    });
    m.insert("until", 1, Some(1), |_, a| {
        let n = arg_int(&a, 0)?;
        until_step(0, n, if n < 0 { -1 } else { 1 }).map(int_list)
    });
    m.insert("untilStep", 3, Some(3), |_, a| {
        until_step(arg_int(&a, 0)?, arg_int(&a, 1)?, arg_int(&a, 2)?).map(int_list)
    });
    // Integer math
    m.insert("add1", 1, Some(1), |_, a| {
        Ok(Value::Int(to_int64(&arg(&a, 0)).wrapping_add(1)))
    });
    m.insert("add", 0, None, |_, a| {
        Ok(Value::Int(
            a.iter().map(to_int64).fold(0i64, i64::wrapping_add),
        ))
    });
    m.insert("sub", 2, Some(2), |_, a| {
        Ok(Value::Int(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    });
    m.insert("div", 2, Some(2), |_, a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err(call_err("runtime error: integer divide by zero"));
        }
        Ok(Value::Int(to_int64(&a[0]).wrapping_div(d)))
    });
    m.insert("mod", 2, Some(2), |_, a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err(call_err("runtime error: integer divide by zero"));
        }
        Ok(Value::Int(to_int64(&a[0]).wrapping_rem(d)))
    });
    m.insert("mul", 1, None, |_, a| {
        Ok(Value::Int(
            a.iter().map(to_int64).fold(1i64, i64::wrapping_mul),
        ))
    });
    m.insert("randInt", 2, Some(2), |c, a| {
        let (lo, hi) = (arg_int(&a, 0)?, arg_int(&a, 1)?);
        if hi <= lo {
            return Err(call_err("invalid argument to Intn"));
        }
        let span = (hi as i128 - lo as i128) as u128;
        Ok(Value::Int(
            (lo as i128 + (c.next_u64() as u128 % span) as i128) as i64,
        ))
    });
    m.insert("biggest", 1, None, |_, a| {
        Ok(Value::Int(a.iter().map(to_int64).max().unwrap_or(0)))
    });
    m.insert("max", 1, None, |_, a| {
        Ok(Value::Int(a.iter().map(to_int64).max().unwrap_or(0)))
    });
    m.insert("min", 1, None, |_, a| {
        Ok(Value::Int(a.iter().map(to_int64).min().unwrap_or(0)))
    });
    m.insert("maxf", 1, None, |_, a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(f64::NEG_INFINITY, f64::max),
        ))
    });
    m.insert("minf", 1, None, |_, a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(f64::INFINITY, f64::min),
        ))
    });
    // Float math through decimals, as Sprig does with shopspring/decimal.
    m.insert("add1f", 1, Some(1), |_, a| {
        Ok(Value::Float(decimal_op(
            &a[0],
            &[Value::Int(1)],
            DecOp::Add,
        )))
    });
    m.insert("addf", 0, None, |_, a| {
        Ok(Value::Float(decimal_op(&Value::Float(0.0), &a, DecOp::Add)))
    });
    m.insert("subf", 1, None, |_, a| {
        Ok(Value::Float(decimal_op(&a[0], &a[1..], DecOp::Sub)))
    });
    m.insert("mulf", 1, None, |_, a| {
        Ok(Value::Float(decimal_op(&a[0], &a[1..], DecOp::Mul)))
    });
    m.insert("divf", 1, None, |_, a| {
        if a[1..].iter().any(|v| to_float64(v) == 0.0) {
            return Err(call_err("decimal division by 0"));
        }
        Ok(Value::Float(decimal_op(&a[0], &a[1..], DecOp::Div)))
    });
    m.insert("ceil", 1, Some(1), |_, a| {
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    });
    m.insert("floor", 1, Some(1), |_, a| {
        Ok(Value::Float(to_float64(&a[0]).floor()))
    });
    m.insert("round", 2, Some(3), |_, a| {
        let val = to_float64(&a[0]);
        let places = arg_int(&a, 1)? as f64;
        let round_on = match a.get(2) {
            Some(v) => to_float64(v),
            None => 0.5,
        };
        let pow = 10f64.powf(places);
        let digit = pow * val;
        let frac = digit.fract();
        let r = if frac >= round_on {
            digit.ceil()
        } else {
            digit.floor()
        };
        Ok(Value::Float(r / pow))
    });
    m.insert("join", 2, Some(2), |_, a| {
        let sep = arg_str(&a, 0)?;
        s(strslice(&a[1]).join(sep))
    });
    m.insert("sortAlpha", 1, Some(1), |_, a| match &a[0] {
        Value::List(_) => {
            let mut v = strslice(&a[0]);
            v.sort();
            Ok(str_list(v))
        }
        other => Ok(str_list(vec![strval(other)])),
    });
    // Defaults
    m.insert("default", 1, None, |_, a| {
        let d = a[0].clone();
        match a.get(1) {
            Some(g) if g.is_true() => Ok(g.clone()),
            _ => Ok(d),
        }
    });
    m.insert("empty", 1, Some(1), |_, a| Ok(Value::Bool(!a[0].is_true())));
    m.insert("coalesce", 0, None, |_, a| {
        Ok(a.iter()
            .find(|v| v.is_true())
            .cloned()
            .unwrap_or(Value::Nil))
    });
    m.insert("all", 0, None, |_, a| {
        Ok(Value::Bool(a.iter().all(Value::is_true)))
    });
    m.insert("any", 0, None, |_, a| {
        Ok(Value::Bool(a.iter().any(Value::is_true)))
    });
    m.insert("fromJson", 1, Some(1), |_, a| {
        Ok(serde_json::from_str::<serde_json::Value>(arg_str(&a, 0)?)
            .map(|j| Value::from_json(&j, crate::value::NumberMode::Float64))
            .unwrap_or(Value::Nil))
    });
    m.insert("mustFromJson", 1, Some(1), |_, a| {
        serde_json::from_str::<serde_json::Value>(arg_str(&a, 0)?)
            .map(|j| Value::from_json(&j, crate::value::NumberMode::Float64))
            .map_err(|e| call_err(e.to_string()))
    });
    m.insert("toJson", 1, Some(1), |_, a| s(go_json(&a[0], true, false)));
    m.insert("mustToJson", 1, Some(1), |_, a| {
        go_json_result(&a[0], true, false)
            .map(Value::string)
            .map_err(call_err)
    });
    m.insert("toPrettyJson", 1, Some(1), |_, a| {
        s(go_json(&a[0], true, true))
    });
    m.insert("mustToPrettyJson", 1, Some(1), |_, a| {
        go_json_result(&a[0], true, true)
            .map(Value::string)
            .map_err(call_err)
    });
    m.insert("toRawJson", 1, Some(1), |_, a| {
        s(go_json(&a[0], false, false))
    });
    m.insert("mustToRawJson", 1, Some(1), |_, a| {
        go_json_result(&a[0], false, false)
            .map(Value::string)
            .map_err(call_err)
    });
    m.insert("ternary", 3, Some(3), |_, a| {
        let b = super::arg_bool(&a, 2)?;
        Ok(if b { a[0].clone() } else { a[1].clone() })
    });
    m.insert("deepCopy", 1, Some(1), |_, a| Ok(a[0].deep_copy()));
    m.insert("mustDeepCopy", 1, Some(1), |_, a| {
        if a[0].is_nil() {
            return Err(call_err("copy: Copy called with nil value"));
        }
        Ok(a[0].deep_copy())
    });
    // Reflection
    m.insert("typeOf", 1, Some(1), |_, a| s(a[0].type_name()));
    m.insert("typeIs", 2, Some(2), |_, a| {
        Ok(Value::Bool(arg_str(&a, 0)? == a[1].type_name()))
    });
    m.insert("typeIsLike", 2, Some(2), |_, a| {
        let t = a[1].type_name();
        let target = arg_str(&a, 0)?;
        Ok(Value::Bool(target == t || format!("*{target}") == t))
    });
    m.insert("kindOf", 1, Some(1), |_, a| s(a[0].kind_name()));
    m.insert("kindIs", 2, Some(2), |_, a| {
        Ok(Value::Bool(arg_str(&a, 0)? == a[1].kind_name()))
    });
    m.insert("deepEqual", 2, Some(2), |_, a| {
        Ok(Value::Bool(a[0].deep_equal(&a[1])))
    });
    // The environment is not visible to sandboxed templates.
    m.insert("env", 1, Some(1), |_, a| {
        arg_str(&a, 0)?;
        s("")
    });
    m.insert("expandenv", 1, Some(1), |_, a| {
        s(expand_env(arg_str(&a, 0)?))
    });
    // No network access: behaves like Helm with DNS lookups disabled.
    m.insert("getHostByName", 1, Some(1), |_, a| {
        arg_str(&a, 0)?;
        s("")
    });
    // Paths
    for (name, f) in [
        ("base", path_base as fn(&str) -> String),
        ("dir", path_dir),
        ("clean", path_clean),
        ("ext", path_ext),
        ("osBase", path_base),
        ("osDir", path_dir),
        ("osClean", path_clean),
        ("osExt", path_ext),
    ] {
        let _ = f;
        m.insert(
            name,
            1,
            Some(1),
            match name {
                "base" | "osBase" => |_, a| s(path_base(arg_str(&a, 0)?)),
                "dir" | "osDir" => |_, a| s(path_dir(arg_str(&a, 0)?)),
                "clean" | "osClean" => |_, a| s(path_clean(arg_str(&a, 0)?)),
                _ => |_, a| s(path_ext(arg_str(&a, 0)?)),
            },
        );
    }
    m.insert("isAbs", 1, Some(1), |_, a| {
        Ok(Value::Bool(arg_str(&a, 0)?.starts_with('/')))
    });
    m.insert("osIsAbs", 1, Some(1), |_, a| {
        Ok(Value::Bool(arg_str(&a, 0)?.starts_with('/')))
    });
    // Encoding
    m.insert("b64enc", 1, Some(1), |_, a| {
        s(base64_encode(arg_str(&a, 0)?.as_bytes()))
    });
    m.insert("b64dec", 1, Some(1), |_, a| {
        let st = arg_str(&a, 0)?;
        s(match base64_decode(st) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => e,
        })
    });
    m.insert("b32enc", 1, Some(1), |_, a| {
        s(base32_encode(arg_str(&a, 0)?.as_bytes()))
    });
    m.insert("b32dec", 1, Some(1), |_, a| {
        let st = arg_str(&a, 0)?;
        s(match base32_decode(st) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => e,
        })
    });
    // UUIDs and random bytes
    m.insert("uuidv4", 0, Some(0), |c, _| {
        let mut b = [0u8; 16];
        for chunk in b.chunks_mut(8) {
            let r = c.next_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        s(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        ))
    });
    m.insert("randBytes", 1, Some(1), |c, a| {
        let n = arg_int(&a, 0)?.clamp(0, MAX_OUTPUT as i64) as usize;
        let bytes: Vec<u8> = (0..n).map(|_| (c.next_u64() & 0xff) as u8).collect();
        s(base64_encode(&bytes))
    });
    m.insert("fail", 1, Some(1), |_, a| Err(call_err(arg_str(&a, 0)?)));
    // Regular expressions (Go RE2 syntax; the regex crate shares its semantics).
    m.insert("regexMatch", 2, Some(2), |_, a| regex_match(&a));
    m.insert("mustRegexMatch", 2, Some(2), |_, a| regex_match(&a));
    m.insert("regexFindAll", 3, Some(3), |_, a| regex_find_all(&a));
    m.insert("mustRegexFindAll", 3, Some(3), |_, a| regex_find_all(&a));
    m.insert("regexFind", 2, Some(2), |_, a| {
        let re = compile(arg_str(&a, 0)?)?;
        s(re.find(arg_str(&a, 1)?).map_or("", |m| m.as_str()))
    });
    m.insert("mustRegexFind", 2, Some(2), |_, a| {
        let re = compile(arg_str(&a, 0)?)?;
        s(re.find(arg_str(&a, 1)?).map_or("", |m| m.as_str()))
    });
    m.insert("regexReplaceAll", 3, Some(3), |_, a| {
        regex_replace(&a, false)
    });
    m.insert("mustRegexReplaceAll", 3, Some(3), |_, a| {
        regex_replace(&a, false)
    });
    m.insert("regexReplaceAllLiteral", 3, Some(3), |_, a| {
        regex_replace(&a, true)
    });
    m.insert("mustRegexReplaceAllLiteral", 3, Some(3), |_, a| {
        regex_replace(&a, true)
    });
    m.insert("regexSplit", 3, Some(3), |_, a| regex_split(&a));
    m.insert("mustRegexSplit", 3, Some(3), |_, a| regex_split(&a));
    m.insert("regexQuoteMeta", 1, Some(1), |_, a| {
        s(quote_meta(arg_str(&a, 0)?))
    });
    // URLs
    m.insert("urlParse", 1, Some(1), |_, a| url_parse(arg_str(&a, 0)?));
    m.insert("urlJoin", 1, Some(1), |_, a| url_join(&a[0]));
    let m = m.merge(super::sprig_data::register());
    let m = m.merge(super::date::register());
    let m = m.merge(super::semver::register());
    m.merge(super::crypto::register())
}

/// Upper bound for strings and lists built from a count argument, so a
/// template cannot exhaust memory.
pub(crate) const MAX_OUTPUT: usize = 64 << 20;

fn byte_slice(st: &str, from: usize, to: usize) -> String {
    String::from_utf8_lossy(st.as_bytes().get(from..to).unwrap_or(&[])).into_owned()
}

pub(crate) fn str_list(v: Vec<String>) -> Value {
    Value::list(v.into_iter().map(Value::string).collect())
}

fn int_list(v: Vec<i64>) -> Value {
    Value::list(v.into_iter().map(Value::Int).collect())
}

fn parts_dict(parts: Vec<String>) -> Value {
    Value::map(
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("_{i}"), Value::string(p)))
            .collect(),
    )
}

/// `strings.SplitN` (n < 0: all parts).
fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<String> = s.chars().map(String::from).collect();
        if n > 0 && chars.len() > n as usize {
            let k = n as usize - 1;
            let mut out: Vec<String> = chars.get(..k).unwrap_or(&[]).to_vec();
            out.push(chars.get(k..).unwrap_or(&[]).concat());
            return out;
        }
        return chars;
    }
    if n < 0 {
        s.split(sep).map(String::from).collect()
    } else {
        s.splitn(n as usize, sep).map(String::from).collect()
    }
}

/// `strings.Replace(s, old, new, -1)`, including Go's rule for an empty `old`
/// (insert `new` around every rune).
fn go_replace_all(s: &str, old: &str, new: &str) -> String {
    if old.is_empty() {
        let mut out = String::from(new);
        for c in s.chars() {
            out.push(c);
            out.push_str(new);
        }
        return out;
    }
    s.replace(old, new)
}

fn atoi(s: &str) -> Option<i64> {
    let b = s.strip_prefix('+').unwrap_or(s);
    if b.is_empty() || b.contains('_') {
        return None;
    }
    s.parse::<i64>().ok()
}

pub(crate) fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, FuncError> {
    let mut v = Vec::new();
    let count = if stop < start {
        if step >= 0 {
            return Ok(v);
        }
        ((start as i128 - stop as i128) + (-step as i128) - 1) / (-step as i128)
    } else {
        if step <= 0 {
            return Ok(v);
        }
        ((stop as i128 - start as i128) + step as i128 - 1) / step as i128
    };
    if count > (MAX_OUTPUT / 8) as i128 {
        return Err(call_err(format!("too many elements: {count}")));
    }
    let mut i = start as i128;
    for _ in 0..count {
        v.push(i as i64);
        i += step as i128;
    }
    Ok(v)
}

fn seq(_: &mut Ctx<'_, '_>, a: Vec<Value>) -> FuncResult {
    let mut p = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        p.push(arg_int(&a, i)?);
    }
    let v = match p.as_slice() {
        [] => Vec::new(),
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            until_step(1, end.saturating_add(inc), inc)?
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step(*start, end.saturating_add(step), step)?
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if *step > 0 {
                    return s("");
                }
            }
            until_step(*start, end.saturating_add(inc), *step)?
        }
        _ => Vec::new(),
    };
    s(v.iter().map(i64::to_string).collect::<Vec<_>>().join(" "))
}

/// goutils.AbbreviateFull; `None` when the width is too small (Sprig then
/// returns the input unchanged).
fn abbreviate_full(st: &str, offset: i64, max_width: i64) -> Option<String> {
    if max_width < 4 {
        return None;
    }
    let len = st.len() as i64;
    if len <= max_width {
        return Some(st.to_string());
    }
    let mut offset = offset.min(len);
    if len - offset < max_width - 3 {
        offset = len - (max_width - 3);
    }
    if offset <= 4 {
        return Some(format!(
            "{}...",
            byte_slice(st, 0, (max_width - 3) as usize)
        ));
    }
    if max_width < 7 {
        return None;
    }
    if offset + max_width - 3 < len {
        let rest = byte_slice(st, offset as usize, st.len());
        return Some(format!("...{}", abbreviate_full(&rest, 0, max_width - 3)?));
    }
    Some(format!(
        "...{}",
        byte_slice(st, (len - (max_width - 3)) as usize, st.len())
    ))
}

/// strings.Title: upper-cases the first letter of every word.
fn title(st: &str) -> String {
    let mut out = String::with_capacity(st.len());
    let mut prev_sep = true;
    for c in st.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = is_separator(c);
    }
    out
}

fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

/// goutils.Uncapitalize: lower-cases the first letter of every
/// whitespace-separated word.
fn untitle(st: &str) -> String {
    let mut out = String::with_capacity(st.len());
    let mut prev_space = true;
    for c in st.chars() {
        if prev_space {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_space = c.is_whitespace();
    }
    out
}

/// Splits identifiers into words for snake/kebab case: at non-alphanumeric
/// characters, at lower-to-upper changes, and before the last capital of
/// an acronym followed by lower case ("HTTPServer" -> HTTP, Server).
fn delimited_case(st: &str, sep: char) -> String {
    let chars: Vec<char> = st.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(&p) = i.checked_sub(1).and_then(|j| chars.get(j)) {
            let next = chars.get(i + 1).copied();
            let boundary = (c.is_uppercase() && (p.is_lowercase() || p.is_ascii_digit()))
                || (c.is_uppercase() && p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()));
            if boundary && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words.join(&sep.to_string())
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || c.is_whitespace()
}

/// xstrings.ToPascalCase: connectors are dropped and the following letter
/// upper-cased; leading, trailing and doubled connectors are kept.
fn pascal_case(st: &str) -> String {
    let mut out = String::with_capacity(st.len());
    let mut chars = st.chars();
    let mut r0 = None;
    for c in chars.by_ref() {
        if !is_connector(c) {
            r0 = Some(c.to_uppercase().next().unwrap_or(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else { return out };
    for c in chars {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            r0 = r0.to_uppercase().next().unwrap_or(r0);
        } else {
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

/// goutils.WrapCustom on bytes.
fn wrap_custom(st: &str, width: i64, newline: &str, wrap_long: bool) -> String {
    if st.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let width = width.max(1) as usize;
    let b = st.as_bytes();
    let len = b.len();
    let mut offset = 0usize;
    let mut out: Vec<u8> = Vec::with_capacity(len + 8);
    while len - offset > width {
        if b.get(offset) == Some(&b' ') {
            offset += 1;
            continue;
        }
        let end = (width + offset + 1).min(len);
        let window = b.get(offset..end).unwrap_or(&[]);
        match window.iter().rposition(|&c| c == b' ') {
            Some(sp) => {
                let at = sp + offset;
                out.extend_from_slice(b.get(offset..at).unwrap_or(&[]));
                out.extend_from_slice(newline.as_bytes());
                offset = at + 1;
            }
            None => {
                let end = width + offset;
                if wrap_long {
                    out.extend_from_slice(b.get(offset..end).unwrap_or(&[]));
                    out.extend_from_slice(newline.as_bytes());
                    offset += width;
                } else {
                    match b.get(end..).unwrap_or(&[]).iter().position(|&c| c == b' ') {
                        None => {
                            out.extend_from_slice(b.get(offset..).unwrap_or(&[]));
                            offset = len;
                        }
                        Some(i) => {
                            let at = i + end;
                            out.extend_from_slice(b.get(offset..at).unwrap_or(&[]));
                            out.extend_from_slice(newline.as_bytes());
                            offset = at + 1;
                        }
                    }
                }
            }
        }
    }
    out.extend_from_slice(b.get(offset..).unwrap_or(&[]));
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn indent(spaces: i64, v: &str) -> String {
    let pad = " ".repeat(spaces.clamp(0, 1 << 16) as usize);
    let mut out = String::with_capacity(v.len() + pad.len());
    out.push_str(&pad);
    out.push_str(&v.replace('\n', &format!("\n{pad}")));
    out
}

fn expand_env(st: &str) -> String {
    // Without an environment every variable expands to the empty string.
    let re = Regex::new(r"\$\{[^}]*\}|\$[A-Za-z0-9_]+").ok();
    match re {
        Some(re) => re.replace_all(st, "").into_owned(),
        None => st.to_string(),
    }
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ALPHA: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn rand_string(c: &mut Ctx<'_, '_>, a: &[Value], alphabet: &str) -> FuncResult {
    let n = arg_int(a, 0)?;
    let chars: Vec<char> = alphabet.chars().collect();
    let mut out = String::new();
    for _ in 0..n.clamp(0, MAX_OUTPUT as i64) {
        let i = (c.next_u64() % chars.len() as u64) as usize;
        out.push(chars.get(i).copied().unwrap_or('a'));
    }
    s(out)
}

// ---------------------------------------------------------------- decimal math

#[derive(Clone, Copy)]
enum DecOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// A decimal `mant * 10^exp` built from a float's shortest representation,
/// as shopspring/decimal's NewFromFloat does.
#[derive(Clone, Copy)]
struct Dec {
    mant: i128,
    exp: i32,
}

impl Dec {
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let txt = format!("{:e}", f);
        let (m, e) = txt.split_once('e')?;
        let e: i32 = e.parse().ok()?;
        let neg = m.starts_with('-');
        let digits: String = m.chars().filter(|c| c.is_ascii_digit()).collect();
        let frac_len = m.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
        let mut mant: i128 = digits.parse().ok()?;
        if neg {
            mant = -mant;
        }
        Some(Dec {
            mant,
            exp: e - frac_len,
        })
    }

    fn align(a: Dec, b: Dec) -> Option<(i128, i128, i32)> {
        let exp = a.exp.min(b.exp);
        let am = a
            .mant
            .checked_mul(10i128.checked_pow((a.exp - exp) as u32)?)?;
        let bm = b
            .mant
            .checked_mul(10i128.checked_pow((b.exp - exp) as u32)?)?;
        Some((am, bm, exp))
    }

    fn op(self, other: Dec, op: DecOp) -> Option<Dec> {
        match op {
            DecOp::Add => {
                let (a, b, exp) = Dec::align(self, other)?;
                Some(Dec {
                    mant: a.checked_add(b)?,
                    exp,
                })
            }
            DecOp::Sub => {
                let (a, b, exp) = Dec::align(self, other)?;
                Some(Dec {
                    mant: a.checked_sub(b)?,
                    exp,
                })
            }
            DecOp::Mul => Some(Dec {
                mant: self.mant.checked_mul(other.mant)?,
                exp: self.exp + other.exp,
            }),
            DecOp::Div => {
                // shopspring divides to 16 fractional digits, rounding half away from zero.
                if other.mant == 0 {
                    return None;
                }
                let target = -16;
                let shift = self.exp - other.exp - target + 1;
                let (num, den) = if shift >= 0 {
                    (
                        self.mant.checked_mul(10i128.checked_pow(shift as u32)?)?,
                        other.mant,
                    )
                } else {
                    (
                        self.mant,
                        other
                            .mant
                            .checked_mul(10i128.checked_pow((-shift) as u32)?)?,
                    )
                };
                let full = num / den;
                let digit = (full % 10).abs();
                let mut q = full / 10;
                if digit >= 5 {
                    q += if (num < 0) != (den < 0) { -1 } else { 1 };
                }
                Some(Dec {
                    mant: q,
                    exp: target,
                })
            }
        }
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.mant, self.exp).parse().unwrap_or(0.0)
    }
}

fn decimal_op(first: &Value, rest: &[Value], op: DecOp) -> f64 {
    let mut acc_f = to_float64(first);
    let mut acc = Dec::from_f64(acc_f);
    for v in rest {
        let x = to_float64(v);
        acc = match (acc, Dec::from_f64(x)) {
            (Some(a), Some(b)) => a.op(b, op),
            _ => None,
        };
        acc_f = match op {
            DecOp::Add => acc_f + x,
            DecOp::Sub => acc_f - x,
            DecOp::Mul => acc_f * x,
            DecOp::Div => acc_f / x,
        };
    }
    // Falls back to float arithmetic when the decimal would overflow.
    acc.map_or(acc_f, Dec::to_f64)
}

// ---------------------------------------------------------------- JSON

/// `encoding/json.Marshal` (with `escape_html`, as toJson) or
/// `MarshalIndent(v, "", "  ")` when `pretty`.
/// Values JSON cannot hold (NaN, infinities, complex numbers, cycles) are
/// errors, worded as Go's encoder words them.
pub(crate) fn go_json_result(v: &Value, escape_html: bool, pretty: bool) -> Result<String, String> {
    let mut out = String::new();
    write_json(&mut out, v, escape_html, pretty, 0)?;
    Ok(out)
}

/// `toJson`: the empty string when the value cannot be encoded, as Sprig and
/// Helm ignore the encoder's error.
pub(crate) fn go_json(v: &Value, escape_html: bool, pretty: bool) -> String {
    go_json_result(v, escape_html, pretty).unwrap_or_default()
}

fn write_json(
    out: &mut String,
    v: &Value,
    esc: bool,
    pretty: bool,
    depth: usize,
) -> Result<(), String> {
    if depth > crate::value::MAX_DEPTH {
        return Err("json: unsupported value: encountered a cycle".into());
    }
    let nl = |out: &mut String, d: usize| {
        if pretty {
            out.push('\n');
            for _ in 0..d {
                out.push_str("  ");
            }
        }
    };
    match v {
        Value::Missing | Value::Nil => out.push_str("null"),
        Value::Complex(..) => return Err("json: unsupported type: complex128".into()),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!(
                    "json: unsupported value: {}",
                    gofmt::format_float(*f, 'g', None)
                ));
            }
            out.push_str(&json_float(*f))
        }
        Value::String(st) => json_string(out, st, esc),
        Value::List(l) => {
            if l.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                write_json(out, x, esc, pretty, depth + 1)?;
            }
            nl(out, depth);
            out.push(']');
        }
        Value::Map(m) => {
            let entries = m.entries();
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, x)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                json_string(out, k, esc);
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                write_json(out, x, esc, pretty, depth + 1)?;
            }
            nl(out, depth);
            out.push('}');
        }
        Value::Object(o) => {
            let j = o.to_json();
            out.push_str(&serde_json::to_string(&j).unwrap_or_else(|_| "null".into()));
        }
    }
    Ok(())
}

/// Go's float encoding in JSON: plain decimals, exponent form outside
/// [1e-6, 1e21).
pub(crate) fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = gofmt::format_float(f, 'e', None);
        // Go trims "e-07" to "e-7".
        if let Some((m, e)) = s.split_once('e') {
            let (sign, digits) = e.split_at(1);
            let digits = digits.trim_start_matches('0');
            return format!("{m}e{sign}{}", if digits.is_empty() { "0" } else { digits });
        }
        return s;
    }
    gofmt::format_float(f, 'f', None)
}

fn json_string(out: &mut String, st: &str, esc: bool) {
    out.push('"');
    for c in st.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if esc => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------- paths

fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

fn path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn path_dir(p: &str) -> String {
    let dir = match p.rfind('/') {
        Some(i) => p.get(..=i).unwrap_or(""),
        None => "",
    };
    path_clean(dir)
}

fn path_ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return p.get(i..).unwrap_or("").to_string();
        }
    }
    String::new()
}

// ---------------------------------------------------------------- encodings

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 with padding; errors read like Go's `illegal base64 data at input byte N`.
pub(crate) fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let bytes: Vec<u8> = s.bytes().filter(|b| *b != b'\n' && *b != b'\r').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    let mut pad = 0;
    for (i, &c) in bytes.iter().enumerate() {
        if c == b'=' {
            pad += 1;
            continue;
        }
        if pad > 0 {
            return Err(format!("illegal base64 data at input byte {i}"));
        }
        let Some(v) = B64.iter().position(|&x| x == c) else {
            return Err(format!("illegal base64 data at input byte {i}"));
        };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    if !(bytes.len()).is_multiple_of(4) {
        return Err(format!("illegal base64 data at input byte {}", bytes.len()));
    }
    Ok(out)
}

const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut b = [0u8; 5];
        b[..chunk.len()].copy_from_slice(chunk);
        let n = b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(B32[((n >> (35 - 5 * i)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base32_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut buf = 0u64;
    let mut bits = 0;
    for (i, c) in s.bytes().enumerate() {
        if c == b'=' {
            break;
        }
        let Some(v) = B32.iter().position(|&x| x == c) else {
            return Err(format!("illegal base32 data at input byte {i}"));
        };
        buf = (buf << 5) | v as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- regex

fn compile(expr: &str) -> Result<Regex, FuncError> {
    Regex::new(expr).map_err(|e| {
        call_err(format!(
            "error parsing regexp: {}",
            e.to_string().lines().last().unwrap_or("")
        ))
    })
}

fn regex_match(a: &[Value]) -> FuncResult {
    let re = compile(arg_str(a, 0)?)?;
    Ok(Value::Bool(re.is_match(arg_str(a, 1)?)))
}

fn regex_find_all(a: &[Value]) -> FuncResult {
    let re = compile(arg_str(a, 0)?)?;
    let st = arg_str(a, 1)?;
    let n = arg_int(a, 2)?;
    let it = re.find_iter(st).map(|m| m.as_str().to_string());
    let v: Vec<String> = if n < 0 {
        it.collect()
    } else {
        it.take(n as usize).collect()
    };
    Ok(str_list(v))
}

fn regex_replace(a: &[Value], literal: bool) -> FuncResult {
    let re = compile(arg_str(a, 0)?)?;
    let (st, repl) = (arg_str(a, 1)?, arg_str(a, 2)?);
    if literal {
        s(re.replace_all(st, regex::NoExpand(repl)).into_owned())
    } else {
        s(re.replace_all(st, repl).into_owned())
    }
}

/// Go's `Regexp.Split`.
fn regex_split(a: &[Value]) -> FuncResult {
    let re = compile(arg_str(a, 0)?)?;
    let st = arg_str(a, 1)?;
    let n = arg_int(a, 2)?;
    if n == 0 {
        return Ok(Value::list(Vec::new()));
    }
    if re.as_str().is_empty() && st.is_empty() {
        return Ok(str_list(vec![String::new()]));
    }
    if st.is_empty() {
        return Ok(str_list(vec![String::new()]));
    }
    let mut out = Vec::new();
    let mut beg = 0;
    let mut end = 0;
    for m in re.find_iter(st) {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            out.push(st.get(beg..end).unwrap_or("").to_string());
        }
        beg = m.end();
    }
    if end != st.len() {
        out.push(st.get(beg..).unwrap_or("").to_string());
    }
    Ok(str_list(out))
}

fn quote_meta(st: &str) -> String {
    let mut out = String::with_capacity(st.len());
    for c in st.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------- URLs

fn url_parse(st: &str) -> FuncResult {
    let u = crate::funcs::sprig_data::parse_url(st)
        .map_err(|e| call_err(format!("unable to parse url: {e}")))?;
    Ok(u)
}

fn url_join(d: &Value) -> FuncResult {
    let Value::Map(m) = d else {
        return Err(FuncError::Arg(format!(
            "wrong type for value; expected map[string]interface {{}}; got {}",
            d.type_name()
        )));
    };
    let get = |k: &str| m.get(k).map(|v| strval(&v)).unwrap_or_default();
    let mut out = String::new();
    let scheme = get("scheme");
    if !scheme.is_empty() {
        out.push_str(&scheme);
        out.push(':');
    }
    let opaque = get("opaque");
    if !opaque.is_empty() {
        out.push_str(&opaque);
    } else {
        let host = get("host");
        let user = get("userinfo");
        if !scheme.is_empty() || !host.is_empty() || !user.is_empty() {
            if !host.is_empty() || !get("path").is_empty() || !user.is_empty() {
                out.push_str("//");
            }
            if !user.is_empty() {
                out.push_str(&user);
                out.push('@');
            }
            out.push_str(&host);
        }
        let path = get("path");
        if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
            out.push('/');
        }
        out.push_str(&crate::funcs::sprig_data::escape_path(&path));
    }
    let q = get("query");
    if !q.is_empty() {
        out.push('?');
        out.push_str(&q);
    }
    let f = get("fragment");
    if !f.is_empty() {
        out.push('#');
        out.push_str(&crate::funcs::sprig_data::escape_path(&f));
    }
    s(out)
}
