//! Turning `jsonschema` errors into findings worded like kubeconform's (which
//! prints the messages of the Go `santhosh-tekuri/jsonschema` library):
//! `got string, want integer`, `missing property 'spec'`,
//! `additional properties 'foo' not allowed`, `value must be one of ...`.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::duration::check_duration;

/// A schema violation at a JSON pointer into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer of the offending value (`""` for the document root).
    pub path: String,
    /// kubeconform-style message.
    pub message: String,
}

/// Go's `%q` with the double quotes swapped for single ones, as the Go
/// library's `quote` does.
pub fn quote(s: &str) -> String {
    let escaped = serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""));
    let inner = escaped
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(&escaped);
    format!("'{}'", inner.replace("\\\"", "\""))
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Array(_) | Value::Object(_) => "value".to_owned(),
        other => other.to_string(),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        // The Go library reports every number as `number`, even `6379`.
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_names(kind: &TypeKind) -> Vec<&'static str> {
    match kind {
        TypeKind::Single(t) => vec![t.as_str()],
        TypeKind::Multiple(set) => set.iter().map(|t| t.as_str()).collect(),
    }
}

fn join_quoted<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    items
        .into_iter()
        .map(|s| quote(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The kubeconform wording of one error.
pub fn describe(error: &jsonschema::ValidationError<'_>) -> String {
    let instance: &Value = error.instance();
    match error.kind() {
        ValidationErrorKind::Type { kind } => {
            format!(
                "got {}, want {}",
                json_type(instance),
                type_names(kind).join(" or ")
            )
        }
        ValidationErrorKind::Required { property } => match property {
            Value::String(name) => format!("missing property {}", quote(name)),
            other => format!("missing property {other}"),
        },
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            format!(
                "additional properties {} not allowed",
                join_quoted(unexpected)
            )
        }
        ValidationErrorKind::Enum { options } => match options.as_ref() {
            Value::Array(items)
                if items
                    .iter()
                    .all(|i| !matches!(i, Value::Array(_) | Value::Object(_))) =>
            {
                match items.as_slice() {
                    [only] => format!("value must be {}", display(only)),
                    _ => format!(
                        "value must be one of {}",
                        items.iter().map(display).collect::<Vec<_>>().join(", ")
                    ),
                }
            }
            _ => "enum failed".to_owned(),
        },
        ValidationErrorKind::Constant { expected_value } => match expected_value.as_ref() {
            Value::Array(_) | Value::Object(_) => "const failed".to_owned(),
            other => format!("value must be {}", display(other)),
        },
        ValidationErrorKind::Format { format } => {
            let reason = match (format.as_str(), instance.as_str()) {
                ("duration", Some(s)) => check_duration(s).err(),
                _ => None,
            };
            match reason {
                Some(reason) => format!("{} is not valid {format}: {reason}", display(instance)),
                None => format!("{} is not valid {format}", display(instance)),
            }
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            merged_type_error(instance, context).unwrap_or_else(|| {
                if matches!(error.kind(), ValidationErrorKind::AnyOf { .. }) {
                    "anyOf failed".to_owned()
                } else {
                    "oneOf failed, none matched".to_owned()
                }
            })
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            "oneOf failed, more than one subschema matched".to_owned()
        }
        ValidationErrorKind::Pattern { pattern } => {
            let got = instance.as_str().map_or_else(|| display(instance), quote);
            format!("{got} does not match pattern {}", quote(pattern))
        }
        ValidationErrorKind::MinLength { limit } => {
            format!("minLength: got {}, want {limit}", str_len(instance))
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("maxLength: got {}, want {limit}", str_len(instance))
        }
        ValidationErrorKind::MinItems { limit } => {
            format!("minItems: got {}, want {limit}", arr_len(instance))
        }
        ValidationErrorKind::MaxItems { limit } => {
            format!("maxItems: got {}, want {limit}", arr_len(instance))
        }
        ValidationErrorKind::MinProperties { limit } => {
            format!("minProperties: got {}, want {limit}", obj_len(instance))
        }
        ValidationErrorKind::MaxProperties { limit } => {
            format!("maxProperties: got {}, want {limit}", obj_len(instance))
        }
        ValidationErrorKind::Minimum { limit } => format!("minimum: got {instance}, want {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("maximum: got {instance}, want {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("exclusiveMinimum: got {instance}, want {limit}")
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("exclusiveMaximum: got {instance}, want {limit}")
        }
        ValidationErrorKind::FalseSchema => "false schema".to_owned(),
        ValidationErrorKind::UniqueItems => "items are not unique".to_owned(),
        ValidationErrorKind::Not { .. } => "not failed".to_owned(),
        // Anything rarer keeps the library's own wording.
        _ => error.to_string(),
    }
}

fn str_len(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}
fn arr_len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}
fn obj_len(v: &Value) -> usize {
    v.as_object().map_or(0, serde_json::Map::len)
}

/// Kubernetes writes int-or-string and quantities as `oneOf` of two types;
/// "oneOf failed" would hide that the fix is simply a different type, so
/// when every branch failed on its type alone, say which types fit.
fn merged_type_error(
    instance: &Value,
    context: &[Vec<jsonschema::ValidationError<'static>>],
) -> Option<String> {
    let mut wanted: Vec<&'static str> = Vec::new();
    for branch in context {
        let [only] = branch.as_slice() else {
            return None;
        };
        let ValidationErrorKind::Type { kind } = only.kind() else {
            return None;
        };
        for name in type_names(kind) {
            if !wanted.contains(&name) {
                wanted.push(name);
            }
        }
    }
    if wanted.is_empty() {
        return None;
    }
    // The Go library lists types in this order.
    const ORDER: [&str; 7] = [
        "null", "boolean", "number", "integer", "string", "array", "object",
    ];
    wanted.sort_by_key(|name| ORDER.iter().position(|o| o == name));
    Some(format!(
        "got {}, want {}",
        json_type(instance),
        wanted.join(" or ")
    ))
}

/// Every violation of `instance` against `validator`, in document order,
/// without repeating one (path, message) pair.
pub fn violations(validator: &jsonschema::Validator, instance: &Value) -> Vec<Violation> {
    let mut out: Vec<Violation> = Vec::new();
    for error in validator.iter_errors(instance) {
        let violation = Violation {
            path: error.instance_path().as_str().to_owned(),
            message: describe(&error),
        };
        if !out.contains(&violation) {
            out.push(violation);
        }
    }
    // The library reports in schema keyword order; readers expect the
    // document's order, which sorting by path approximates (stable, so
    // several findings at one path keep their order).
    out.sort_by(|a, b| pointer_order(&a.path, &b.path));
    out
}

/// Order JSON pointers segment by segment, array indexes numerically
/// (`/items/2` before `/items/10`).
fn pointer_order(a: &str, b: &str) -> std::cmp::Ordering {
    let mut left = a.split('/');
    let mut right = b.split('/');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    _ => x.cmp(y),
                };
                if order.is_ne() {
                    return order;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_order_table() {
        let mut paths = vec!["/items/10/a", "/items/2", "", "/items/2/b", "/b", "/a"];
        paths.sort_by(|a, b| pointer_order(a, b));
        assert_eq!(
            paths,
            vec!["", "/a", "/b", "/items/2", "/items/2/b", "/items/10/a"]
        );
    }

    #[test]
    fn quote_table() {
        for (input, expected) in [
            ("abc", "'abc'"),
            ("a\"b", "'a\"b'"),
            ("line\nbreak", "'line\\nbreak'"),
        ] {
            assert_eq!(quote(input), expected);
        }
    }

    #[test]
    fn messages_table() {
        let schema = json!({
            "type": "object",
            "required": ["name"],
            "additionalProperties": false,
            "properties": {
                "name": {"type": "string"},
                "port": {"type": ["integer", "null"]},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "one": {"type": "string", "enum": ["only"]},
                "target": {"oneOf": [{"type": ["string", "null"]}, {"type": ["integer", "null"]}]},
                "interval": {"type": "string", "format": "duration"},
                "short": {"type": "string", "maxLength": 2},
                "id": {"type": "string", "pattern": "^[a-z]+$"},
                "replicas": {"type": "integer", "minimum": 0}
            }
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .with_format("duration", |s: &str| check_duration(s).is_ok())
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let cases = [
            (
                json!({"name": "x", "port": "80"}),
                "/port",
                "got string, want null or integer",
            ),
            (json!({}), "", "missing property 'name'"),
            (
                json!({"name": "x", "extra": 1}),
                "",
                "additional properties 'extra' not allowed",
            ),
            (
                json!({"name": "x", "mode": "c"}),
                "/mode",
                "value must be one of 'a', 'b'",
            ),
            (
                json!({"name": "x", "one": "c"}),
                "/one",
                "value must be 'only'",
            ),
            (
                json!({"name": "x", "target": true}),
                "/target",
                "got boolean, want null or integer or string",
            ),
            (
                json!({"name": "x", "interval": "test"}),
                "/interval",
                "'test' is not valid duration: must start with P",
            ),
            (
                json!({"name": "x", "short": "abc"}),
                "/short",
                "maxLength: got 3, want 2",
            ),
            (
                json!({"name": "x", "id": "A"}),
                "/id",
                "'A' does not match pattern '^[a-z]+$'",
            ),
            (
                json!({"name": "x", "replicas": -1}),
                "/replicas",
                "minimum: got -1, want 0",
            ),
            (json!({"name": 5}), "/name", "got number, want string"),
        ];
        for (doc, path, message) in cases {
            let got = violations(&validator, &doc);
            assert_eq!(
                got,
                vec![Violation {
                    path: path.to_owned(),
                    message: message.to_owned()
                }],
                "{doc}"
            );
        }
    }
}
