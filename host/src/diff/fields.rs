//! The field-level diff of two versions of one object, as a list of dotted
//! paths with the old and new values.
//!
//! Mapping keys are visited in sorted order and list items are matched by
//! their `name` when every item on both sides has a distinct one (how
//! Kubernetes merges containers, ports, volumes, env), else by index, so the
//! same pair of objects always gives the same list.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::FieldChange;

/// The fields that differ between `old` and `new`.
pub(super) fn diff(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", old, new, &mut out);
    out
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = key_path(path, key);
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => walk(&child, x, y, out),
                    (x, y) => out.push(change(child, x, y)),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => match (names(a), names(b)) {
            (Some(old_names), Some(new_names)) => {
                by_name(path, (a, &old_names), (b, &new_names), out);
            }
            _ => by_index(path, a, b, out),
        },
        _ if old != new => out.push(change(path.to_owned(), Some(old), Some(new))),
        _ => {}
    }
}

fn change(path: String, old: Option<&Value>, new: Option<&Value>) -> FieldChange {
    FieldChange {
        path,
        old: old.cloned(),
        new: new.cloned(),
    }
}

/// The `name` of every item, when each item has one and no two share it.
fn names(items: &[Value]) -> Option<Vec<&str>> {
    let names: Vec<&str> = items
        .iter()
        .map(|item| item.get("name").and_then(Value::as_str))
        .collect::<Option<_>>()?;
    let distinct: BTreeSet<&&str> = names.iter().collect();
    (distinct.len() == names.len()).then_some(names)
}

fn by_name(
    path: &str,
    (old, old_names): (&[Value], &[&str]),
    (new, new_names): (&[Value], &[&str]),
    out: &mut Vec<FieldChange>,
) {
    let position: HashMap<&str, usize> = new_names
        .iter()
        .enumerate()
        .map(|(i, name)| (*name, i))
        .collect();
    for (item, name) in old.iter().zip(old_names) {
        let child = item_path(path, name);
        match position.get(name).and_then(|&i| new.get(i)) {
            Some(other) => walk(&child, item, other, out),
            None => out.push(change(child, Some(item), None)),
        }
    }
    for (item, name) in new.iter().zip(new_names) {
        if !old_names.contains(name) {
            out.push(change(item_path(path, name), None, Some(item)));
        }
    }
    // Order matters for some named lists (init containers run in order, env
    // entries refer to earlier ones), so a reordering is a change; it is
    // shown as the sequence of names.
    let kept = |names: &[&str], other: &[&str]| -> Vec<Value> {
        names
            .iter()
            .filter(|n| other.contains(n))
            .map(|n| Value::String((*n).to_owned()))
            .collect()
    };
    let (before, after) = (kept(old_names, new_names), kept(new_names, old_names));
    if before != after {
        out.push(FieldChange {
            path: format!("{path}[*].name"),
            old: Some(Value::Array(before)),
            new: Some(Value::Array(after)),
        });
    }
}

fn by_index(path: &str, old: &[Value], new: &[Value], out: &mut Vec<FieldChange>) {
    for i in 0..old.len().max(new.len()) {
        let child = format!("{path}[{i}]");
        match (old.get(i), new.get(i)) {
            (Some(x), Some(y)) => walk(&child, x, y, out),
            (x, y) => out.push(change(child, x, y)),
        }
    }
}

/// `parent.key`, or `parent["key"]` when the key is not a plain word (label
/// and annotation keys hold dots and slashes).
fn key_path(parent: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (plain, parent.is_empty()) {
        (true, true) => key.to_owned(),
        (true, false) => format!("{parent}.{key}"),
        (false, _) => format!("{parent}[{}]", quote(key)),
    }
}

/// `parent[name=web]`; names that could be misread are quoted.
fn item_path(parent: &str, name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/'));
    if plain {
        format!("{parent}[name={name}]")
    } else {
        format!("{parent}[name={}]", quote(name))
    }
}

fn quote(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// (what, old, new, expected "path: old -> new" lines; `_` for absent)
    fn cases() -> Vec<(&'static str, Value, Value, Vec<&'static str>)> {
        let pod =
            |containers: Value| json!({"spec": {"template": {"spec": {"containers": containers}}}});
        vec![
            ("equal", json!({"a": 1}), json!({"a": 1}), vec![]),
            (
                "image by container name",
                pod(
                    json!([{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "fluent"}]),
                ),
                pod(
                    json!([{"name": "web", "image": "nginx:1.28"}, {"name": "log", "image": "fluent"}]),
                ),
                vec![
                    r#"spec.template.spec.containers[name=web].image: "nginx:1.27" -> "nginx:1.28""#,
                ],
            ),
            (
                "a container added in front is not a change of the others",
                pod(json!([{"name": "web", "image": "a"}])),
                pod(json!([{"name": "proxy", "image": "b"}, {"name": "web", "image": "a"}])),
                vec![
                    r#"spec.template.spec.containers[name=proxy]: _ -> {"name":"proxy","image":"b"}"#,
                ],
            ),
            (
                "a reordering is a change",
                json!({"initContainers": [{"name": "a"}, {"name": "b"}]}),
                json!({"initContainers": [{"name": "b"}, {"name": "a"}]}),
                vec![r#"initContainers[*].name: ["a","b"] -> ["b","a"]"#],
            ),
            (
                "removed item",
                json!({"ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]}),
                json!({"ports": [{"name": "http", "port": 80}]}),
                vec![r#"ports[name=https]: {"name":"https","port":443} -> _"#],
            ),
            (
                "items without names go by index",
                json!({"args": ["--a", "--b"]}),
                json!({"args": ["--a", "--c", "--d"]}),
                vec![r#"args[1]: "--b" -> "--c""#, r#"args[2]: _ -> "--d""#],
            ),
            (
                "names only on one side: by index",
                json!({"rules": [{"name": "x", "v": 1}]}),
                json!({"rules": [{"v": 2}]}),
                vec![r#"rules[0].name: "x" -> _"#, "rules[0].v: 1 -> 2"],
            ),
            (
                "duplicate names: by index",
                json!({"l": [{"name": "x", "v": 1}, {"name": "x", "v": 2}]}),
                json!({"l": [{"name": "x", "v": 1}, {"name": "x", "v": 3}]}),
                vec!["l[1].v: 2 -> 3"],
            ),
            (
                "keys with dots are quoted, keys are sorted",
                json!({"metadata": {"labels": {"app.kubernetes.io/name": "web", "tier": "a"}}}),
                json!({"metadata": {"labels": {"tier": "b", "app.kubernetes.io/name": "api"}}}),
                vec![
                    r#"metadata.labels["app.kubernetes.io/name"]: "web" -> "api""#,
                    r#"metadata.labels.tier: "a" -> "b""#,
                ],
            ),
            (
                "odd names are quoted",
                json!({"env": [{"name": "A B", "value": "1"}]}),
                json!({"env": [{"name": "A B", "value": "2"}]}),
                vec![r#"env[name="A B"].value: "1" -> "2""#],
            ),
            (
                "a type change and a null",
                json!({"replicas": "3", "x": null}),
                json!({"replicas": 3}),
                vec![r#"replicas: "3" -> 3"#, "x: null -> _"],
            ),
        ]
    }

    #[test]
    fn field_paths() {
        let show = |v: &Option<Value>| v.as_ref().map_or("_".to_owned(), Value::to_string);
        for (what, old, new, want) in cases() {
            let got: Vec<String> = diff(&old, &new)
                .iter()
                .map(|f| format!("{}: {} -> {}", f.path, show(&f.old), show(&f.new)))
                .collect();
            assert_eq!(got, want, "{what}");
        }
    }
}
