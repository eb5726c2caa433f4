//! Field specs: "apply this transformer to field path P of resources of kind K".
//! Walking a path visits every element of any sequence met on the way, and may
//! create missing intermediate maps, as kustomize's fieldspec filter does.

use crate::resid::Gvk;
use serde_json::{Map, Value};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub gvk: Gvk,
    pub path: String,
    pub create: bool,
}

impl FieldSpec {
    pub fn new(group: &str, version: &str, kind: &str, path: &str, create: bool) -> FieldSpec {
        FieldSpec {
            gvk: Gvk {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
            },
            path: path.into(),
            create,
        }
    }

    /// Parses one entry of a transformer configuration (`path`, `kind`, `group`, `version`, `create`).
    pub fn from_value(v: &Value) -> Option<FieldSpec> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let path = s("path");
        Some(FieldSpec {
            gvk: Gvk {
                group: s("group"),
                version: s("version"),
                kind: s("kind"),
            },
            path,
            create: v.get("create").and_then(Value::as_bool).unwrap_or(false),
        })
    }
}

/// Splits a field path on '/', honouring `\\/` as a literal slash (annotation
/// keys). Segments borrow from `path` unless they held an escape.
pub fn split_path(path: &str) -> Vec<Cow<'_, str>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped: Option<String> = None;
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if bytes.get(i + 1) == Some(&b'/') => {
                let seg = escaped.get_or_insert_with(String::new);
                seg.push_str(&path[start..i]);
                seg.push('/');
                i += 2;
                start = i;
                continue;
            }
            b'/' => {
                out.push(segment(&mut escaped, &path[start..i]));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(segment(&mut escaped, &path[start..]));
    out.retain(|s| !s.is_empty());
    out
}

/// The segment ending with `tail`, owned only if an escape came before it.
fn segment<'a>(escaped: &mut Option<String>, tail: &'a str) -> Cow<'a, str> {
    match escaped.take() {
        Some(mut seg) => {
            seg.push_str(tail);
            Cow::Owned(seg)
        }
        None => Cow::Borrowed(tail),
    }
}

/// The split paths of `specs`, in order: transformers split each once rather
/// than once per object.
pub fn split_paths(specs: &[FieldSpec]) -> Vec<Vec<Cow<'_, str>>> {
    specs.iter().map(|fs| split_path(&fs.path)).collect()
}

/// What to put at the end of the path when the field is missing and the spec says `create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Never create the leaf (the transformer only edits existing values).
    Never,
    Map,
    Scalar,
}

/// Calls `set` on every value found at `segments` below `node`.
/// Errors are messages; callers add the resource and field to them.
pub fn walk(
    node: &mut Value,
    segments: &[Cow<'_, str>],
    create: bool,
    leaf: Create,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some((first, rest)) = segments.split_first() else {
        return set(node);
    };
    match node {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for item in items {
                walk(item, segments, create, leaf, set)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            let (name, is_seq) = match first.strip_suffix("[]") {
                Some(n) => (n, true),
                None => (first.as_ref(), false),
            };
            if name.is_empty() {
                return Err("cannot set or create an empty field name".into());
            }
            let creating = create && !is_seq && leaf != Create::Never;
            if !map.contains_key(name) {
                if !creating {
                    return Ok(());
                }
                let fresh = if rest.is_empty() && leaf == Create::Scalar {
                    Value::Null
                } else {
                    Value::Object(Map::new())
                };
                map.insert(name.to_string(), fresh);
            }
            let Some(field) = map.get_mut(name) else {
                return Ok(());
            };
            if field.is_null() && creating && !(rest.is_empty() && leaf == Create::Scalar) {
                *field = Value::Object(Map::new());
            }
            walk(field, rest, create, leaf, set)
        }
        _ => Err("expected sequence or mapping node".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split() {
        assert_eq!(split_path("a/b\\/c/d"), vec!["a", "b/c", "d"]);
        assert_eq!(
            split_path("spec/containers[]/image"),
            vec!["spec", "containers[]", "image"]
        );
        let cases: [(&str, &[&str]); 6] = [
            ("/a//b/", &["a", "b"]),
            ("a\\/", &["a/"]),
            ("\\/a", &["/a"]),
            ("a\\/b\\/c", &["a/b/c"]),
            ("a\\b/c", &["a\\b", "c"]),
            ("", &[]),
        ];
        for (path, want) in cases {
            assert_eq!(split_path(path), want, "{path:?}");
        }
    }

    #[test]
    fn walks_sequences_and_creates() {
        let cases = [
            (
                json!({"spec": {"containers": [{"image": "a"}, {"image": "b"}]}}),
                "spec/containers/image",
                false,
                Create::Scalar,
                json!({"spec": {"containers": [{"image": "X"}, {"image": "X"}]}}),
            ),
            (
                json!({"metadata": {}}),
                "metadata/labels",
                true,
                Create::Map,
                json!({"metadata": {"labels": "X"}}),
            ),
            (
                json!({"metadata": {}}),
                "metadata/labels",
                false,
                Create::Map,
                json!({"metadata": {}}),
            ),
            (
                json!({"spec": {}}),
                "spec/template/metadata/labels",
                true,
                Create::Map,
                json!({"spec": {"template": {"metadata": {"labels": "X"}}}}),
            ),
        ];
        for (mut input, path, create, leaf, want) in cases {
            walk(&mut input, &split_path(path), create, leaf, &mut |v| {
                *v = json!("X");
                Ok(())
            })
            .unwrap();
            assert_eq!(input, want, "{path}");
        }
    }
}
