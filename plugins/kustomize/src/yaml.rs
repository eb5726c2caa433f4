//! YAML reading for the builder: multi-document streams through `manifold-yaml`,
//! with kustomize's conventions (empty documents dropped, `kind: List` expanded
//! into its items) and errors that name the file and line.

use crate::Error;
use serde_json::Value;

/// Parses a YAML stream; returns each non-empty document with its line.
pub fn parse_stream(text: &str, file: &str) -> Result<Vec<(Value, u32)>, Error> {
    let docs = manifold_yaml::parse_documents(text, &manifold_yaml::ParseOptions::default())
        .map_err(|e| Error::Yaml {
            file: crate::fs::display(file).to_string(),
            line: e.line as usize,
            column: e.column as usize,
            message: e.message,
        })?;
    Ok(docs
        .into_iter()
        .filter(|d| !d.value.is_null())
        .map(|d| (d.value, d.line))
        .collect())
}

/// Parses one YAML document (empty text is null). Repeated keys: the last wins,
/// as with the JSON decoding kustomize applies to kustomization files.
pub fn parse_one(text: &str, file: &str) -> Result<Value, Error> {
    let opts = manifold_yaml::ParseOptions {
        duplicate_keys: manifold_yaml::Duplicates::LastWins,
        ..Default::default()
    };
    let docs = manifold_yaml::parse_documents(text, &opts).map_err(|e| Error::Yaml {
        file: crate::fs::display(file).to_string(),
        line: e.line as usize,
        column: e.column as usize,
        message: e.message,
    })?;
    let mut docs: Vec<(Value, u32)> = docs
        .into_iter()
        .filter(|d| !d.value.is_null())
        .map(|d| (d.value, d.line))
        .collect();
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.pop().map(|d| d.0).unwrap_or(Value::Null)),
        n => Err(Error::invalid(
            file,
            format!("expected one YAML document, found {n}"),
        )),
    }
}

/// Reads the objects of a resource file: `kind: *List` documents contribute their items.
/// Every object must be a mapping with a `kind`, as kustomize requires.
pub fn resources_from(text: &str, file: &str) -> Result<Vec<Value>, Error> {
    resources_of(parse_stream(text, file)?, file)
}

/// The objects of already parsed documents (with their lines), by the rules of [`resources_from`].
pub fn resources_of(docs: Vec<(Value, u32)>, file: &str) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for (doc, line) in docs {
        let Value::Object(map) = &doc else {
            return Err(Error::Yaml {
                file: crate::fs::display(file).to_string(),
                line: line as usize,
                column: 1,
                message: "a resource document must be a mapping".into(),
            });
        };
        let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind.ends_with("List") && map.get("items").is_some() {
            if let Some(Value::Array(items)) = map.get("items") {
                for item in items {
                    if item.is_object() {
                        out.push(stringify_annotations(item.clone()));
                    }
                }
            }
            continue;
        }
        if map.is_empty() {
            continue;
        }
        if kind.is_empty() {
            return Err(Error::invalid(
                file,
                format!(
                    "line {line}: missing Resource metadata: the document has no 'kind'; every resource needs apiVersion, kind and metadata.name"
                ),
            ));
        }
        if doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(Error::invalid(
                file,
                format!(
                    "line {line}: missing metadata.name in a '{kind}' object; every resource needs a name"
                ),
            ));
        }
        out.push(stringify_annotations(doc));
    }
    Ok(out)
}

/// kustomize reads annotations as strings: `port: 8080` comes out as `"8080"`.
fn stringify_annotations(mut doc: Value) -> Value {
    if let Some(Value::Object(ann)) = doc.pointer_mut("/metadata/annotations") {
        for (_, v) in ann.iter_mut() {
            if !v.is_string() {
                let text = match &*v {
                    Value::Null => "null".to_string(),
                    other => crate::kustomization::scalar_string(other),
                };
                *v = Value::String(text);
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_expand_and_empties_drop() {
        let cases = [
            ("a: 1\n", Err("no 'kind'")),
            ("---\n---\nkind: A\nmetadata:\n  name: a\n", Ok(1)),
            ("kind: A\nmetadata: {}\n", Err("missing metadata.name")),
            ("kind: List\nitems:\n- kind: A\n- kind: B\n", Ok(2)),
            ("kind: A\n: :\n  - [", Err("")),
        ];
        for (text, want) in cases {
            match (resources_from(text, "f.yaml"), want) {
                (Ok(v), Ok(n)) => assert_eq!(v.len(), n, "{text}"),
                (Err(e), Err(frag)) => assert!(e.to_string().contains(frag), "{e}"),
                (got, want) => panic!("{text}: {got:?} vs {want:?}"),
            }
        }
    }
}
