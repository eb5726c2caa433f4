//! Runs every kustomize conformance `expected.yaml` through parse -> emit ->
//! parse: the values must survive unchanged, and we count how many files
//! re-emit byte-identical in kustomize form.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use manifold_yaml::{EmitOptions, ParseOptions, Value, parse_documents, to_string_stream_with};

fn conformance_dir() -> PathBuf {
    std::env::var_os("MANIFOLD_CONFORMANCE_DIR").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/conformance"
            ))
        },
        PathBuf::from,
    )
}

fn values(text: &str) -> Vec<Value> {
    parse_documents(text, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|d| d.value)
        .collect()
}

#[test]
fn kustomize_expected_outputs_round_trip() {
    let root = conformance_dir().join("kustomize");
    let Ok(entries) = std::fs::read_dir(&root) else {
        eprintln!("skipped: no conformance cases at {}", root.display());
        return;
    };
    let mut cases: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path().join("expected.yaml"))
        .filter(|p| p.is_file())
        .collect();
    cases.sort();
    assert!(
        !cases.is_empty(),
        "no expected.yaml under {}",
        root.display()
    );

    let mut identical = 0;
    let mut identical_default = 0;
    let mut identical_unfolded = 0;
    let mut differing = Vec::new();
    for path in &cases {
        let text = std::fs::read_to_string(path).unwrap();
        let docs = values(&text);
        let emitted = to_string_stream_with(&docs, &EmitOptions::kustomize());
        let again = values(&emitted);
        assert_eq!(
            again,
            docs,
            "{} changed through emit:\n{emitted}",
            path.display()
        );
        if manifold_yaml::to_string_stream(&docs) == text {
            identical_default += 1;
        }
        let unfolded = EmitOptions {
            line_width: None,
            ..EmitOptions::kustomize()
        };
        if to_string_stream_with(&docs, &unfolded) == text {
            identical_unfolded += 1;
        }
        if emitted == text {
            identical += 1;
        } else {
            differing.push(path.clone());
        }
    }
    eprintln!(
        "conformance: {identical}/{n} expected.yaml files re-emit byte-identical \
         (value key order: {identical_default}/{n}, never folding: {identical_unfolded}/{n})",
        n = cases.len()
    );
    for p in &differing {
        eprintln!("  differs: {}", p.display());
    }
}
