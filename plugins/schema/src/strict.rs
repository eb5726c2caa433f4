//! Schema rewrites applied before compiling: the strict variant (unknown
//! fields rejected) and the conversion of a CRD's OpenAPI v3 schema into a
//! JSON schema that behaves like the API server's structural schema.
//!
//! The strict rule is the one kubeconform's schemas are generated with
//! (`openapi2jsonschema --strict`): every schema object that declares
//! `properties` and says nothing about `additionalProperties` gets
//! `additionalProperties: false`. `schemas/generate.py` checks that this rule
//! reproduces the `-strict` schemas shipped in `kubernetes-validate` exactly.
//! Unlike the Python script, the walk here only visits schema positions (it
//! never mistakes a property *named* `properties` for the keyword), and it
//! leaves objects marked `x-kubernetes-preserve-unknown-fields: true` open,
//! because the API server keeps unknown fields there; the built-in schemas
//! never set that marker, so the exemption only matters for CRDs.

use serde_json::{Map, Value, json};

/// Keywords whose value is a single subschema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "items",
    "additionalItems",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
];
/// Keywords whose value is an array of subschemas.
const SCHEMA_ARRAY_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "items", "prefixItems"];
/// Keywords whose value maps names to subschemas.
const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "properties",
    "patternProperties",
    "definitions",
    "$defs",
    "dependentSchemas",
];

/// Apply `f` to every subschema directly below `schema` (not recursively).
fn for_each_subschema(schema: &mut Map<String, Value>, f: &mut impl FnMut(&mut Value)) {
    for (key, value) in schema.iter_mut() {
        let key = key.as_str();
        match value {
            Value::Object(_) if SCHEMA_KEYWORDS.contains(&key) => f(value),
            Value::Array(items) if SCHEMA_ARRAY_KEYWORDS.contains(&key) => {
                items.iter_mut().for_each(&mut *f)
            }
            Value::Object(map) if SCHEMA_MAP_KEYWORDS.contains(&key) => {
                map.values_mut().for_each(&mut *f)
            }
            _ => {}
        }
    }
}

fn preserves_unknown_fields(schema: &Map<String, Value>) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Make `schema` reject fields it does not declare (see the module docs).
pub fn strictify(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    if map.contains_key("properties")
        && !map.contains_key("additionalProperties")
        && !preserves_unknown_fields(map)
    {
        map.insert("additionalProperties".to_owned(), Value::Bool(false));
    }
    for_each_subschema(map, &mut strictify);
}

/// Rewrite a CRD version's `openAPIV3Schema` into the JSON schema the
/// validator compiles, so that documents the API server accepts pass:
///
/// - `nullable: true` admits `null` (JSON schema has no `nullable`);
/// - `x-kubernetes-int-or-string: true` and kubeconform's
///   `format: int-or-string` admit an integer or a string;
/// - `x-kubernetes-embedded-resource: true` and the root always admit
///   `apiVersion`, `kind` and `metadata`, which the API server adds to every
///   object schema of that sort even when the CRD does not list them.
///
/// Strictness is applied afterwards, by the caller, with [`strictify`].
pub fn convert_crd_schema(schema: &Value) -> Value {
    let mut out = schema.clone();
    convert_node(&mut out);
    if let Value::Object(map) = &mut out {
        add_resource_fields(map);
        // The document root is always an object, even where a CRD forgets to
        // say so, and never null.
        map.insert("type".to_owned(), Value::String("object".to_owned()));
    }
    out
}

fn convert_node(node: &mut Value) {
    let Value::Object(map) = node else { return };
    let int_or_string = map
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || map.get("format").and_then(Value::as_str) == Some("int-or-string");
    if int_or_string && !map.contains_key("anyOf") && !map.contains_key("oneOf") {
        map.remove("type");
        if map.get("format").and_then(Value::as_str) == Some("int-or-string") {
            map.remove("format");
        }
        map.insert(
            "anyOf".to_owned(),
            json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    if map.get("nullable").and_then(Value::as_bool) == Some(true) {
        allow_null(map);
    }
    if map
        .get("x-kubernetes-embedded-resource")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        add_resource_fields(map);
    }
    for_each_subschema(map, &mut convert_node);
}

fn allow_null(map: &mut Map<String, Value>) {
    match map.get_mut("type") {
        Some(Value::String(t)) if t != "null" => {
            let t = std::mem::take(t);
            map.insert("type".to_owned(), json!([t, "null"]));
        }
        Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => {
            types.push(Value::String("null".to_owned()));
        }
        _ => {}
    }
    if let Some(Value::Array(options)) = map.get_mut("enum")
        && !options.iter().any(Value::is_null)
    {
        options.push(Value::Null);
    }
    // A nullable int-or-string has no `type` but an `anyOf`.
    if let Some(Value::Array(branches)) = map.get_mut("anyOf")
        && !branches
            .iter()
            .any(|b| b.get("type") == Some(&json!("null")))
    {
        branches.push(json!({"type": "null"}));
    }
}

fn add_resource_fields(map: &mut Map<String, Value>) {
    let Some(Value::Object(properties)) = map.get_mut("properties") else {
        return;
    };
    for (name, schema) in [
        ("apiVersion", json!({"type": "string"})),
        ("kind", json!({"type": "string"})),
        ("metadata", json!({"type": "object"})),
    ] {
        properties.entry(name).or_insert(schema);
    }
    // A CRD may restrict `metadata.name`, but the API server always accepts
    // the rest of ObjectMeta (labels, annotations, ...): strictness must not
    // close `metadata` to the few fields a CRD happens to list.
    if let Some(Value::Object(metadata)) = properties.get_mut("metadata") {
        metadata.insert(
            "x-kubernetes-preserve-unknown-fields".to_owned(),
            Value::Bool(true),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strictify_table() {
        let cases = [
            // Declared properties close the object.
            (
                json!({"properties": {"a": {}}}),
                json!({"properties": {"a": {}}, "additionalProperties": false}),
            ),
            // An explicit choice is kept.
            (
                json!({"properties": {}, "additionalProperties": {"type": "string"}}),
                json!({"properties": {}, "additionalProperties": {"type": "string"}}),
            ),
            // No properties: nothing to close (maps stay maps).
            (
                json!({"type": "object", "additionalProperties": {"type": "string"}}),
                json!({"type": "object", "additionalProperties": {"type": "string"}}),
            ),
            // Nested schemas in every position.
            (
                json!({"items": {"properties": {}}, "anyOf": [{"properties": {}}],
                       "definitions": {"x": {"properties": {}}}}),
                json!({"items": {"properties": {}, "additionalProperties": false},
                       "anyOf": [{"properties": {}, "additionalProperties": false}],
                       "definitions": {"x": {"properties": {}, "additionalProperties": false}}}),
            ),
            // A property named `properties` is a name, not the keyword.
            (
                json!({"properties": {"properties": {"type": "string"}}}),
                json!({"properties": {"properties": {"type": "string"}}, "additionalProperties": false}),
            ),
            // The API server keeps unknown fields here.
            (
                json!({"properties": {"a": {}}, "x-kubernetes-preserve-unknown-fields": true}),
                json!({"properties": {"a": {}}, "x-kubernetes-preserve-unknown-fields": true}),
            ),
        ];
        for (mut input, expected) in cases {
            let original = input.clone();
            strictify(&mut input);
            assert_eq!(input, expected, "from {original}");
        }
    }

    #[test]
    fn crd_conversion_table() {
        let cases = [
            (
                json!({"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": true}}}),
                json!({"type": "object", "properties": {
                    "port": {"x-kubernetes-int-or-string": true,
                             "anyOf": [{"type": "integer"}, {"type": "string"}]},
                    "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                    "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}),
            ),
            (
                json!({"properties": {"a": {"type": "string", "nullable": true, "enum": ["x"]}}}),
                json!({"properties": {
                    "a": {"type": ["string", "null"], "nullable": true, "enum": ["x", null]},
                    "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                    "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}, "type": "object"}),
            ),
            (
                json!({"type": "object", "properties": {"apiVersion": {"type": "string", "enum": ["a/v1"]},
                        "spec": {"format": "int-or-string", "type": "string"}}}),
                json!({"type": "object", "properties": {
                    "apiVersion": {"type": "string", "enum": ["a/v1"]},
                    "spec": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                    "kind": {"type": "string"}, "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}),
            ),
            (
                json!({"type": "object", "properties": {"tpl": {"type": "object",
                    "x-kubernetes-embedded-resource": true, "properties": {"spec": {}}}}}),
                json!({"type": "object", "properties": {
                    "tpl": {"type": "object", "x-kubernetes-embedded-resource": true,
                            "properties": {"spec": {}, "apiVersion": {"type": "string"},
                                           "kind": {"type": "string"}, "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
                    "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                    "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(convert_crd_schema(&input), expected, "from {input}");
        }
    }
}
