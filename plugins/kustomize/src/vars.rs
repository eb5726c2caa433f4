//! Legacy `vars`: each var is bound to one object when declared, and once
//! names are final its field value replaces `$(NAME)` in the varReference fields.

use crate::build::norm_id;
use crate::config::TransformerConfig;
use crate::fieldspec::{Create, split_paths, walk};
use crate::kustomization::{Var, scalar_string};
use crate::resid::{Gvk, ResId};
use crate::resource::Res;
use serde_json::Value;
use std::collections::HashMap;

/// Binds a newly declared var to the object it names (kustomize's MergeVars).
pub fn bind(res: &mut [Res], v: &Var) -> Result<(), String> {
    let o = &v.objref;
    let (mut group, mut version) = (o.group.clone(), o.version.clone());
    if !o.api_version.is_empty() {
        let (g, ver) = crate::resid::split_api_version(&o.api_version);
        group = g.to_string();
        version = ver.to_string();
    }
    let want = ResId {
        gvk: Gvk {
            group,
            version,
            kind: o.kind.clone(),
        },
        name: o.name.clone(),
        namespace: o.namespace.clone(),
    };
    let with_ns = !want.namespace.is_empty() || want.gvk.is_cluster_scoped();
    let nwant = norm_id(want.clone());
    let hits: Vec<usize> = res
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.all_ids().into_iter().any(|id| {
                id.gvk == want.gvk
                    && id.name == want.name
                    && (!with_ns || norm_id(id.clone()).namespace == nwant.namespace)
            })
        })
        .map(|(i, _)| i)
        .collect();
    match hits.as_slice() {
        [] => Ok(()),
        [i] => {
            if let Some(r) = res.get_mut(*i) {
                r.ref_vars.push(v.name.clone());
            }
            Ok(())
        }
        many => Err(format!(
            "found {} resId matches for var {} (unable to disambiguate)",
            many.len(),
            v.name
        )),
    }
}

/// Replaces `$(VAR)` references everywhere the varReference config points.
pub fn resolve(res: &mut [Res], vars: &[Var], config: &TransformerConfig) -> Result<(), String> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values: HashMap<String, Value> = HashMap::new();
    for v in vars {
        let fp = if v.fieldref.field_path.is_empty() {
            "metadata.name"
        } else {
            &v.fieldref.field_path
        };
        let Some(r) = res.iter().find(|r| r.ref_vars.contains(&v.name)) else {
            return Err(format!(
                "var '{}' cannot be mapped to a field in the set of known resources",
                v.name
            ));
        };
        let segs = crate::replacements::split_dotted(&normalize_field_path(fp));
        let Some(val) = crate::replacements::lookup(&r.value, &segs) else {
            return Err(format!(
                "field specified in var '{}' ({fp}) not found in corresponding resource",
                v.name
            ));
        };
        values.insert(v.name.clone(), val.clone());
    }
    let paths = split_paths(&config.var_reference);
    for r in res.iter_mut() {
        let gvk = r.gvk();
        for (fs, path) in config.var_reference.iter().zip(&paths) {
            if !gvk.is_selected_by(&fs.gvk) {
                continue;
            }
            walk(&mut r.value, path, false, Create::Never, &mut |node| {
                replace_in(node, &values);
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// `a[0].b` is written by users for what kyaml reads as `a.0.b`.
fn normalize_field_path(p: &str) -> String {
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '[' {
            let mut inner = String::new();
            for d in chars.by_ref() {
                if d == ']' {
                    break;
                }
                inner.push(d);
            }
            if inner.chars().all(|x| x.is_ascii_digit()) {
                out.push('.');
                out.push_str(&inner);
            } else {
                out.push_str(".[");
                out.push_str(&inner);
                out.push(']');
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn replace_in(node: &mut Value, values: &HashMap<String, Value>) {
    match node {
        Value::String(s) => *node = expand(s, values),
        Value::Object(m) => {
            for (_, v) in m.iter_mut() {
                if let Value::String(s) = v {
                    *v = expand(s, values);
                }
            }
        }
        Value::Array(items) => {
            for it in items.iter_mut() {
                if let Value::String(s) = it {
                    *it = expand(s, values);
                }
            }
        }
        _ => {}
    }
}

/// kustomize's `$(VAR)` expansion: `$$` escapes, a whole-field reference keeps the value's type.
pub fn expand(input: &str, values: &HashMap<String, Value>) -> Value {
    let mapped = |name: &str| -> Option<Value> {
        values
            .get(name)
            .filter(|v| !v.is_object() && !v.is_array() && !v.is_null())
            .cloned()
    };
    let bytes = input.as_bytes();
    let mut out = String::new();
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes.get(cursor) == Some(&b'$') && cursor + 1 < bytes.len() {
            out.push_str(input.get(checkpoint..cursor).unwrap_or(""));
            let rest = input.get(cursor + 1..).unwrap_or("");
            let (read, is_var, advance) = read_var(rest);
            if is_var {
                let m = mapped(&read);
                if input.len() == read.len() + 3 && input.starts_with("$(") {
                    return m.unwrap_or_else(|| Value::String(input.to_string()));
                }
                match m {
                    Some(v) => out.push_str(&scalar_string(&v)),
                    None => out.push_str(&format!("$({read})")),
                }
            } else {
                out.push_str(&read);
            }
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.push_str(input.get(checkpoint.min(input.len())..).unwrap_or(""));
    Value::String(out)
}

fn read_var(input: &str) -> (String, bool, usize) {
    let b = input.as_bytes();
    match b.first() {
        Some(b'$') => ("$".into(), false, 1),
        Some(b'(') => {
            for (i, c) in input.char_indices().skip(1) {
                if c == ')' {
                    return (input.get(1..i).unwrap_or("").to_string(), true, i + 1);
                }
            }
            ("$(".into(), false, 1)
        }
        _ => {
            let c = input.chars().next().map(String::from).unwrap_or_default();
            let n = c.len();
            (format!("${c}"), false, n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expansion() {
        let vals: HashMap<String, Value> =
            [("A".to_string(), json!("x")), ("N".to_string(), json!(5))].into();
        let cases = [
            ("$(A)", json!("x")),
            ("$(N)", json!(5)),
            ("pre-$(A)-$(N)", json!("pre-x-5")),
            ("$$(A)", json!("$(A)")),
            ("$(B)", json!("$(B)")),
            ("cost $5", json!("cost $5")),
        ];
        for (i, want) in cases {
            assert_eq!(expand(i, &vals), want, "{i}");
        }
    }

    #[test]
    fn field_paths() {
        assert_eq!(
            normalize_field_path("spec.ports[0].port"),
            "spec.ports.0.port"
        );
        assert_eq!(normalize_field_path("metadata.name"), "metadata.name");
    }
}
