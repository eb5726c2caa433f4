//! Helm's engine functions: `include`, `tpl`, `required`, `fail`, YAML,
//! JSON and TOML conversions, `lookup` (no cluster: always empty) and the
//! duration helpers.

use std::collections::BTreeMap;

use super::{FuncMap, FuncResult, arg, arg_str, call_err, s};
use crate::error::{WARN_END, WARN_START};
use crate::exec::Ctx;
use crate::value::{NumberMode, Value};

fn warn_wrap(msg: &str) -> String {
    format!("{WARN_START}{msg}{WARN_END}")
}

pub(crate) fn register() -> FuncMap {
    let mut m = FuncMap::new();
    m.insert("include", 2, Some(2), |c, a| {
        let name = arg_str(&a, 0)?.to_string();
        c.include(&name, a[1].clone())
            .map(Value::string)
            .map_err(call_err)
    });
    m.insert("tpl", 2, Some(2), |c, a| {
        let text = arg_str(&a, 0)?.to_string();
        c.tpl(&text, a[1].clone())
            .map(Value::string)
            .map_err(call_err)
    });
    m.insert("required", 2, Some(2), required);
    m.insert("fail", 1, Some(1), |c, a| {
        let msg = arg_str(&a, 0)?;
        if c.options().lint_mode {
            return s("");
        }
        Err(call_err(warn_wrap(msg)))
    });
    m.insert("toYaml", 1, Some(1), |_, a| s(to_yaml(&a[0])));
    m.insert("mustToYaml", 1, Some(1), |_, a| s(to_yaml(&a[0])));
    m.insert("toYamlPretty", 1, Some(1), |_, a| s(to_yaml_pretty(&a[0])));
    m.insert("fromYaml", 1, Some(1), |_, a| {
        Ok(from_yaml(arg_str(&a, 0)?))
    });
    m.insert("fromYamlArray", 1, Some(1), |_, a| {
        Ok(from_yaml_array(arg_str(&a, 0)?))
    });
    m.insert("toJson", 1, Some(1), |_, a| {
        s(super::sprig::go_json(&a[0], true, false))
    });
    m.insert("mustToJson", 1, Some(1), |_, a| {
        super::sprig::go_json_result(&a[0], true, false)
            .map(Value::string)
            .map_err(call_err)
    });
    m.insert("fromJson", 1, Some(1), |_, a| {
        let st = arg_str(&a, 0)?;
        Ok(match serde_json::from_str::<serde_json::Value>(st) {
            Ok(j @ serde_json::Value::Object(_)) => Value::from_json(&j, NumberMode::Float64),
            Ok(serde_json::Value::Null) => Value::empty_map(),
            Ok(other) => error_map(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            )),
            Err(e) => error_map(go_json_error(&e)),
        })
    });
    m.insert("fromJsonArray", 1, Some(1), |_, a| {
        let st = arg_str(&a, 0)?;
        Ok(match serde_json::from_str::<serde_json::Value>(st) {
            Ok(j @ serde_json::Value::Array(_)) => Value::from_json(&j, NumberMode::Float64),
            Ok(serde_json::Value::Null) => Value::list(Vec::new()),
            Ok(other) => Value::list(vec![Value::string(format!(
                "json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&other)
            ))]),
            Err(e) => Value::list(vec![Value::string(go_json_error(&e))]),
        })
    });
    m.insert("toToml", 1, Some(1), |_, a| {
        s(crate::toml::encode(&a[0]).unwrap_or_else(|e| e))
    });
    m.insert("mustToToml", 1, Some(1), |_, a| {
        crate::toml::encode(&a[0])
            .map(Value::string)
            .map_err(call_err)
    });
    m.insert("fromToml", 1, Some(1), |_, a| {
        Ok(match crate::toml::decode(arg_str(&a, 0)?) {
            Ok(v) => v,
            Err(e) => error_map(e),
        })
    });
    m.insert("lookup", 4, Some(4), |_, a| {
        for i in 0..4 {
            arg_str(&a, i)?;
        }
        Ok(Value::empty_map())
    });
    super::date::register_helm(&mut m);
    m
}

fn required(c: &mut Ctx<'_, '_>, a: Vec<Value>) -> FuncResult {
    let warn = arg_str(&a, 0)?;
    let val = arg(&a, 1);
    let missing = match &val {
        Value::Nil | Value::Missing => true,
        Value::String(st) => st.is_empty(),
        _ => false,
    };
    if missing {
        if c.options().lint_mode {
            return s("");
        }
        return Err(call_err(warn_wrap(warn)));
    }
    Ok(val)
}

fn error_map(msg: String) -> Value {
    let mut m = BTreeMap::new();
    m.insert("Error".to_string(), Value::string(msg));
    Value::map(m)
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// encoding/json's wording for the common syntax errors.
fn go_json_error(e: &serde_json::Error) -> String {
    if e.is_eof() {
        return "unexpected end of JSON input".into();
    }
    format!(
        "invalid character at line {} column {}: {}",
        e.line(),
        e.column(),
        e
    )
}

/// `sigs.k8s.io/yaml.Marshal` with the trailing newline removed (Helm's toYaml).
pub fn to_yaml(v: &Value) -> String {
    // sigs.k8s.io/yaml goes through encoding/json: values JSON cannot hold
    // make Marshal fail, and Helm's toYaml then prints nothing.
    if !json_encodable(v, 0) {
        return String::new();
    }
    let json = v.to_json();
    let out = manifold_yaml::to_string_with(&json, &manifold_yaml::EmitOptions::kustomize());
    out.strip_suffix('\n').unwrap_or(&out).to_string()
}

fn json_encodable(v: &Value, depth: usize) -> bool {
    if depth > crate::value::MAX_DEPTH {
        return false;
    }
    match v {
        Value::Float(f) => f.is_finite(),
        Value::Complex(..) => false,
        Value::List(l) => l.iter().all(|x| json_encodable(x, depth + 1)),
        Value::Map(m) => m
            .entries()
            .iter()
            .all(|(_, x)| json_encodable(x, depth + 1)),
        _ => true,
    }
}

/// go-yaml v3 with 2-space indent (Helm's toYamlPretty). It differs from
/// the v2 form only in indenting block sequences under their mapping key,
/// so the v2 text is re-indented: every sequence opened by a `key:` line
/// shifts its lines (and everything nested in them) two columns right.
fn to_yaml_pretty(v: &Value) -> String {
    let plain = to_yaml(v);
    let mut out: Vec<String> = Vec::new();
    // v2 columns of the sequences that get the extra indentation.
    let mut seqs: Vec<usize> = Vec::new();
    // Column of the key whose block the previous line opened, if any.
    let mut open_key: Option<usize> = None;
    // Inside a block scalar: lines deeper than this column are content.
    let mut scalar_owner: Option<usize> = None;
    for line in plain.lines() {
        let ind = line.len() - line.trim_start().len();
        let t = line.trim_start();
        if let Some(owner) = scalar_owner {
            if t.is_empty() || ind > owner {
                out.push(format!("{}{}", " ".repeat(2 * seqs.len()), line));
                continue;
            }
            scalar_owner = None;
        }
        let is_item = t.starts_with("- ") || t == "-";
        while let Some(&col) = seqs.last() {
            if ind < col || (ind == col && !is_item) {
                seqs.pop();
            } else {
                break;
            }
        }
        if is_item && open_key == Some(ind) {
            seqs.push(ind);
        }
        out.push(format!("{}{}", " ".repeat(ind + 2 * seqs.len()), t));
        // The key column of this line: past any "- " item markers.
        let mut key_col = ind;
        let mut rest = t;
        while let Some(r) = rest.strip_prefix("- ") {
            key_col += 2;
            rest = r;
        }
        open_key = rest.ends_with(':').then_some(key_col);
        let is_block_scalar = ["|", "|-", "|+", ">", ">-", ">+"]
            .iter()
            .any(|m| rest.ends_with(&format!(" {m}")) || rest == *m);
        if is_block_scalar {
            scalar_owner = Some(key_col);
        }
    }
    out.join("\n")
}

fn yaml_opts() -> manifold_yaml::ParseOptions {
    manifold_yaml::ParseOptions {
        schema: manifold_yaml::Schema::Yaml11,
        duplicate_keys: manifold_yaml::Duplicates::LastWins,
        ..Default::default()
    }
}

fn first_doc(text: &str) -> Result<serde_json::Value, String> {
    let docs = manifold_yaml::parse_documents(text, &yaml_opts()).map_err(|e| {
        format!(
            "error converting YAML to JSON: yaml: line {}: {}",
            e.line, e.message
        )
    })?;
    Ok(docs
        .into_iter()
        .next()
        .map(|d| d.value)
        .unwrap_or(serde_json::Value::Null))
}

/// Helm's fromYaml: a map; errors become `{"Error": MSG}`.
pub fn from_yaml(text: &str) -> Value {
    match first_doc(text) {
        Ok(j @ serde_json::Value::Object(_)) => Value::from_json(&j, NumberMode::Float64),
        Ok(serde_json::Value::Null) => Value::empty_map(),
        Ok(other) => error_map(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        )),
        Err(e) => error_map(e),
    }
}

/// Helm's fromYamlArray: a list; errors become `[MSG]`.
pub fn from_yaml_array(text: &str) -> Value {
    match first_doc(text) {
        Ok(j @ serde_json::Value::Array(_)) => Value::from_json(&j, NumberMode::Float64),
        Ok(serde_json::Value::Null) => Value::list(Vec::new()),
        Ok(other) => Value::list(vec![Value::string(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))]),
        Err(e) => Value::list(vec![Value::string(e)]),
    }
}
