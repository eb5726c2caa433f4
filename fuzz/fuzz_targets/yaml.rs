//! YAML ingestion of manifests: manifold-yaml's parser with positions (both
//! scalar schemas, both duplicate-key policies), the host's reading of a
//! manifest file into objects and findings, field lines for every node, and
//! the kustomize-style printer on whatever parsed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use manifold::manifest::{Inputs, parse_into};
use manifold_yaml::{Duplicates, EmitOptions, ParseOptions, Schema, Value};

fuzz_target!(|data: &[u8]| {
    let mut inputs = Inputs::default();
    parse_into("fuzz.yaml", data, Duplicates::Error, &mut inputs);
    for object in &inputs.objects {
        let mut pointers = Vec::new();
        collect_pointers(object.value(), String::new(), &mut pointers);
        for pointer in pointers {
            // A field's line is never before its document's.
            let line = object.line_of(Some(&pointer));
            assert!(
                line >= object.line || line == 0,
                "{pointer}: {line} < {}",
                object.line
            );
        }
    }

    for (schema, duplicate_keys) in [
        (Schema::Yaml12, Duplicates::LastWins),
        (Schema::Yaml11, Duplicates::Error),
    ] {
        let options = ParseOptions {
            schema,
            duplicate_keys,
            positions: true,
            ..ParseOptions::default()
        };
        let Ok(documents) = manifold_yaml::parse_bytes(data, &options) else {
            continue;
        };
        let values: Vec<Value> = documents.into_iter().map(|d| d.value).collect();
        // What manifold prints must read back: hydrated trees are re-read
        // by sync agents and by manifold itself.
        let printed = manifold_yaml::to_string_stream_with(&values, &EmitOptions::kustomize());
        if let Err(e) = manifold_yaml::parse_documents(&printed, &ParseOptions::default()) {
            panic!("printed YAML does not parse: {e}\n{printed}");
        }
    }
});

/// JSON pointers of every node (bounded: the parser caps depth, and a wide
/// document is capped here so one input stays fast).
fn collect_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    if out.len() > 10_000 {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                collect_pointers(child, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}
