//! Sprig's list and dict functions (`list`, `append`, `uniq`, `dict`,
//! `merge`, `dig`, ...) and the URL parsing behind `urlParse`/`urlJoin`.

use std::collections::BTreeMap;

use super::convert::{strval, to_int64};
use super::{FuncError, FuncMap, FuncResult, arg_int, arg_str, call_err};
use crate::value::{MapRef, Value};

pub(crate) fn register() -> FuncMap {
    let mut m = FuncMap::new();
    m.insert("list", 0, None, |_, a| Ok(Value::list(a)));
    m.insert("tuple", 0, None, |_, a| Ok(Value::list(a)));
    m.insert("dict", 0, None, |_, a| {
        let mut d = BTreeMap::new();
        let mut it = a.chunks(2);
        for pair in it.by_ref() {
            let k = pair.first().map(strval).unwrap_or_default();
            let v = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
            d.insert(k, v);
        }
        Ok(Value::map(d))
    });
    m.insert("get", 2, Some(2), |_, a| {
        let d = arg_map(&a, 0)?;
        let k = arg_str(&a, 1)?;
        Ok(d.and_then(|d| d.get(k)).unwrap_or_else(|| Value::str("")))
    });
    m.insert("set", 3, Some(3), |_, a| {
        let d = arg_map(&a, 0)?.ok_or_else(|| call_err("assignment to entry in nil map"))?;
        let k = arg_str(&a, 1)?;
        d.insert(k.to_string(), a[2].clone());
        Ok(Value::Map(d))
    });
    m.insert("unset", 2, Some(2), |_, a| {
        let d = arg_map(&a, 0)?;
        let k = arg_str(&a, 1)?;
        match d {
            Some(d) => {
                d.remove(k);
                Ok(Value::Map(d))
            }
            None => Ok(Value::empty_map()),
        }
    });
    m.insert("hasKey", 2, Some(2), |_, a| {
        let d = arg_map(&a, 0)?;
        let k = arg_str(&a, 1)?;
        Ok(Value::Bool(d.is_some_and(|d| d.contains_key(k))))
    });
    m.insert("pluck", 1, None, |_, a| {
        let k = arg_str(&a, 0)?;
        let mut out = Vec::new();
        for i in 1..a.len() {
            if let Some(d) = arg_map(&a, i)?
                && let Some(v) = d.get(k)
            {
                out.push(v);
            }
        }
        Ok(Value::list(out))
    });
    m.insert("keys", 0, None, |_, a| {
        let mut out = Vec::new();
        for i in 0..a.len() {
            if let Some(d) = arg_map(&a, i)? {
                out.extend(d.keys().into_iter().map(Value::string));
            }
        }
        Ok(Value::list(out))
    });
    m.insert("values", 1, Some(1), |_, a| {
        let d = arg_map(&a, 0)?;
        Ok(Value::list(
            d.map(|d| d.entries().into_iter().map(|(_, v)| v).collect())
                .unwrap_or_default(),
        ))
    });
    m.insert("pick", 1, None, |_, a| {
        let d = arg_map(&a, 0)?;
        let mut out = BTreeMap::new();
        for i in 1..a.len() {
            let k = arg_str(&a, i)?;
            if let Some(v) = d.as_ref().and_then(|d| d.get(k)) {
                out.insert(k.to_string(), v);
            }
        }
        Ok(Value::map(out))
    });
    m.insert("omit", 1, None, |_, a| {
        let d = arg_map(&a, 0)?;
        let mut drop = Vec::new();
        for i in 1..a.len() {
            drop.push(arg_str(&a, i)?.to_string());
        }
        let out: BTreeMap<String, Value> = d
            .map(|d| {
                d.entries()
                    .into_iter()
                    .filter(|(k, _)| !drop.contains(k))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Value::map(out))
    });
    m.insert("merge", 1, None, |_, a| merge_fn(&a, false));
    m.insert("mustMerge", 1, None, |_, a| merge_fn(&a, false));
    m.insert("mergeOverwrite", 1, None, |_, a| merge_fn(&a, true));
    m.insert("mustMergeOverwrite", 1, None, |_, a| merge_fn(&a, true));
    m.insert("dig", 3, None, |_, a| {
        let n = a.len();
        let Some(Value::Map(d)) = a.last() else {
            return Err(call_err(format!(
                "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                a.last().map(Value::type_name).unwrap_or_default()
            )));
        };
        let def = a[n - 2].clone();
        let mut keys = Vec::new();
        for i in 0..n - 2 {
            keys.push(arg_str(&a, i)?.to_string());
        }
        let mut cur = d.clone();
        for (i, k) in keys.iter().enumerate() {
            let Some(step) = cur.get(k) else {
                return Ok(def);
            };
            if i + 1 == keys.len() {
                return Ok(step);
            }
            match step {
                Value::Map(m) => cur = m,
                other => {
                    return Err(call_err(format!(
                        "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                        other.type_name()
                    )));
                }
            }
        }
        Ok(def)
    });
    // Lists: the must* variants return errors where the plain ones panic;
    // both end up as template errors.
    for name in ["append", "push", "mustAppend", "mustPush"] {
        m.insert(name, 2, Some(2), |_, a| {
            let mut l = list_arg(&a[0], "push on")?;
            l.push(a[1].clone());
            Ok(Value::list(l))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        m.insert(name, 2, Some(2), |_, a| {
            let mut l = list_arg(&a[0], "prepend on")?;
            l.insert(0, a[1].clone());
            Ok(Value::list(l))
        });
    }
    for name in ["first", "mustFirst"] {
        m.insert(name, 1, Some(1), |_, a| {
            Ok(list_arg(&a[0], "find first on")?
                .first()
                .cloned()
                .unwrap_or(Value::Nil))
        });
    }
    for name in ["last", "mustLast"] {
        m.insert(name, 1, Some(1), |_, a| {
            Ok(list_arg(&a[0], "find last on")?
                .last()
                .cloned()
                .unwrap_or(Value::Nil))
        });
    }
    for name in ["rest", "mustRest"] {
        m.insert(name, 1, Some(1), |_, a| {
            // A nil []interface{} prints as [] (it is not an interface value).
            let l = list_arg(&a[0], "find rest on")?;
            if l.is_empty() {
                return Ok(Value::list(Vec::new()));
            }
            Ok(Value::list(l.get(1..).unwrap_or(&[]).to_vec()))
        });
    }
    for name in ["initial", "mustInitial"] {
        m.insert(name, 1, Some(1), |_, a| {
            let l = list_arg(&a[0], "find initial on")?;
            if l.is_empty() {
                return Ok(Value::list(Vec::new()));
            }
            Ok(Value::list(l.get(..l.len() - 1).unwrap_or(&[]).to_vec()))
        });
    }
    for name in ["reverse", "mustReverse"] {
        m.insert(name, 1, Some(1), |_, a| {
            let mut l = list_arg(&a[0], "find reverse on")?;
            l.reverse();
            Ok(Value::list(l))
        });
    }
    for name in ["compact", "mustCompact"] {
        m.insert(name, 1, Some(1), |_, a| {
            let l = list_arg(&a[0], "compact on")?;
            Ok(Value::list(l.into_iter().filter(Value::is_true).collect()))
        });
    }
    for name in ["uniq", "mustUniq"] {
        m.insert(name, 1, Some(1), |_, a| {
            let l = list_arg(&a[0], "find uniq on")?;
            let mut out: Vec<Value> = Vec::new();
            for v in l {
                if !out.iter().any(|x| x.deep_equal(&v)) {
                    out.push(v);
                }
            }
            Ok(Value::list(out))
        });
    }
    for name in ["without", "mustWithout"] {
        m.insert(name, 1, None, |_, a| {
            let l = list_arg(&a[0], "find without on")?;
            let omit = &a[1..];
            Ok(Value::list(
                l.into_iter()
                    .filter(|v| !omit.iter().any(|o| o.deep_equal(v)))
                    .collect(),
            ))
        });
    }
    for name in ["has", "mustHas"] {
        m.insert(name, 2, Some(2), |_, a| {
            if a[1].is_nil() {
                return Ok(Value::Bool(false));
            }
            let l = list_arg(&a[1], "find has on")?;
            Ok(Value::Bool(l.iter().any(|v| v.deep_equal(&a[0]))))
        });
    }
    for name in ["slice", "mustSlice"] {
        m.insert(name, 1, None, |_, a| {
            let l = list_arg(&a[0], "slice")?;
            if l.is_empty() {
                return Ok(Value::Nil);
            }
            let start = a.get(1).map(to_int64).unwrap_or(0);
            let end = a.get(2).map(to_int64).unwrap_or(l.len() as i64);
            if start < 0 || end < start || end > l.len() as i64 {
                return Err(call_err(format!(
                    "reflect: slice index out of range [{start}:{end}]"
                )));
            }
            Ok(Value::list(
                l.get(start as usize..end as usize).unwrap_or(&[]).to_vec(),
            ))
        });
    }
    m.insert("concat", 0, None, |_, a| {
        let mut out = Vec::new();
        for v in &a {
            out.extend(list_arg(v, "concat")?);
        }
        Ok(Value::list(out))
    });
    for name in ["chunk", "mustChunk"] {
        m.insert(name, 2, Some(2), |_, a| {
            let size = arg_int(&a, 0)?;
            let l = list_arg(&a[1], "chunk")?;
            if size <= 0 {
                return Err(call_err("runtime error: integer divide by zero"));
            }
            Ok(Value::list(
                l.chunks(size as usize)
                    .map(|c| Value::list(c.to_vec()))
                    .collect(),
            ))
        });
    }
    m
}

/// A `map[string]interface{}` parameter (nil allowed, as Go maps can be nil).
pub(crate) fn arg_map(args: &[Value], i: usize) -> Result<Option<MapRef>, FuncError> {
    match args.get(i) {
        Some(Value::Map(m)) => Ok(Some(m.clone())),
        Some(Value::Nil | Value::Missing) | None => Ok(None),
        Some(_) => Err(FuncError::Type {
            index: i,
            expected: "map[string]interface {}",
        }),
    }
}

fn list_arg(v: &Value, what: &str) -> Result<Vec<Value>, FuncError> {
    match v {
        Value::List(l) => Ok(l.as_ref().clone()),
        other => Err(call_err(format!(
            "Cannot {what} type {}",
            other.kind_name()
        ))),
    }
}

fn merge_fn(a: &[Value], overwrite: bool) -> FuncResult {
    let dst = arg_map(a, 0)?.unwrap_or_default();
    for i in 1..a.len() {
        if let Some(src) = arg_map(a, i)? {
            merge_into(&dst, &src, overwrite, 0);
        }
    }
    Ok(Value::Map(dst))
}

/// mergo's map merge: nested maps merge recursively; otherwise a key is set
/// when missing or empty in `dst`, or always with `overwrite`.
pub(crate) fn merge_into(dst: &MapRef, src: &MapRef, overwrite: bool, depth: usize) {
    if depth > 1000 || dst.ptr_eq(src) {
        return;
    }
    for (k, sv) in src.entries() {
        let dv = dst.get(&k);
        match (&dv, &sv) {
            (Some(Value::Map(dm)), Value::Map(sm)) => merge_into(dm, sm, overwrite, depth + 1),
            (Some(d), _) if d.is_true() && !overwrite => {}
            _ => dst.insert(k, sv),
        }
    }
}

// ---------------------------------------------------------------- URLs

/// Parses a URL into Sprig's dict (scheme, host, hostname, path, query,
/// opaque, fragment, userinfo), following net/url's structure.
pub(crate) fn parse_url(raw: &str) -> Result<Value, String> {
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, unescape(f)?),
        None => (raw, String::new()),
    };
    let mut scheme = String::new();
    let mut rest = rest.to_string();
    if let Some(i) = rest.find(':') {
        let cand = rest.get(..i).unwrap_or("");
        let valid = cand.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if valid {
            scheme = cand.to_ascii_lowercase();
            rest = rest.get(i + 1..).unwrap_or("").to_string();
        } else if i == 0 {
            return Err(format!("parse {raw:?}: missing protocol scheme"));
        }
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r.to_string(), q.to_string()),
        None => (rest, String::new()),
    };
    let mut opaque = String::new();
    let mut host = String::new();
    let mut userinfo = String::new();
    let mut path = String::new();
    if !scheme.is_empty() && !rest.starts_with('/') {
        opaque = rest;
    } else if let Some(after) = rest.strip_prefix("//") {
        let (authority, p) = match after.find('/') {
            Some(i) => (after.get(..i).unwrap_or(""), after.get(i..).unwrap_or("")),
            None => (after, ""),
        };
        match authority.rfind('@') {
            Some(i) => {
                userinfo = authority.get(..i).unwrap_or("").to_string();
                host = authority.get(i + 1..).unwrap_or("").to_string();
            }
            None => host = authority.to_string(),
        }
        path = unescape(p)?;
    } else {
        path = unescape(&rest)?;
    }
    let hostname = if host.starts_with('[') {
        host.split(']')
            .next()
            .unwrap_or("")
            .trim_start_matches('[')
            .to_string()
    } else {
        host.rsplit_once(':')
            .map_or(host.clone(), |(h, _)| h.to_string())
    };
    let mut d = BTreeMap::new();
    d.insert("scheme".to_string(), Value::string(scheme));
    d.insert("host".to_string(), Value::string(host));
    d.insert("hostname".to_string(), Value::string(hostname));
    d.insert("path".to_string(), Value::string(path));
    d.insert("query".to_string(), Value::string(query));
    d.insert("opaque".to_string(), Value::string(opaque));
    d.insert("fragment".to_string(), Value::string(fragment));
    d.insert("userinfo".to_string(), Value::string(userinfo));
    Ok(Value::map(d))
}

fn unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s
                .get(i + 1..i + 3)
                .ok_or_else(|| format!("invalid URL escape {:?}", s.get(i..).unwrap_or("")))?;
            let v =
                u8::from_str_radix(h, 16).map_err(|_| format!("invalid URL escape \"%{h}\""))?;
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Escapes a path the way net/url writes `URL.Path`.
pub(crate) fn escape_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/:@&=+$!*'(),;".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
