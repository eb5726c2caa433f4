//! `manifold plugin list` and `manifold plugin inspect`.

use crate::support::{Scratch, test_plugin};

#[test]
fn list_shows_builtins_with_digests() {
    let out = Scratch::new().run(&["plugin", "list"]);
    out.code(0)
        .stdout_has("labels")
        .stdout_has("validator")
        .stdout_has("builtin");
    // Whole digests, in the form manifold.yaml pins them, for every built-in.
    for name in ["helm", "kustomize", "labels", "policy", "schema", "secrets"] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{}", out.stdout));
        let digest = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("blake3:"))
            .unwrap_or_else(|| panic!("no digest: {line}"));
        assert_eq!(digest.len(), 64, "{line}");
        assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()), "{line}");
    }
    let json = Scratch::new()
        .run(&["plugin", "list", "--format", "json"])
        .json();
    let labels = json
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "labels")
        .unwrap();
    assert_eq!(labels["kind"], "validator");
    assert_eq!(labels["digest"].as_str().unwrap().len(), 64);
}

#[test]
fn inspect_shows_configuration_schema() {
    Scratch::new()
        .run(&["plugin", "inspect", "labels"])
        .code(0)
        .stdout_has("name:        labels")
        .stdout_has("\"requireAnnotations\"");
}

#[test]
fn inspect_loads_a_path() {
    let path = test_plugin("manifold_example_image_tag");
    Scratch::new()
        .run(&["plugin", "inspect", path.to_str().unwrap()])
        .code(0)
        .stdout_has("name:        image-tag")
        .stdout_has("forbiddenTags");
}

#[test]
fn unknown_plugin_is_a_usage_error() {
    Scratch::new()
        .run(&["plugin", "inspect", "nope"])
        .code(2)
        .stderr_has("no plugin named `nope`");
}

#[test]
fn a_file_that_is_not_a_component_is_refused() {
    let scratch = Scratch::new().file("junk.wasm", b"\0asm\x01\0\0\0");
    scratch
        .run(&["plugin", "inspect", "junk.wasm"])
        .code(2)
        .stderr_has("junk.wasm");
    let scratch = Scratch::new().file("text.wasm", "hello");
    scratch
        .run(&["plugin", "inspect", "text.wasm"])
        .code(2)
        .stderr_has("is not a Wasm component");
}

fn digest_of(path: &std::path::Path) -> String {
    blake3::hash(&std::fs::read(path).unwrap())
        .to_hex()
        .to_string()
}

#[test]
fn a_pinned_plugin_loads_only_with_its_digest() {
    let path = test_plugin("manifold_example_image_tag");
    let actual = digest_of(&path);
    let wrong = "0".repeat(64);
    let config = |digest: &str| {
        format!(
            "version: 1\nplugins:\n  - path: {}\n    digest: blake3:{digest}\n",
            path.display()
        )
    };
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:latest\n";
    Scratch::new()
        .file("manifold.yaml", config(&actual))
        .file("pod.yaml", manifest)
        .run(&["validate", "pod.yaml"])
        .code(1)
        .stdout_has("image-tag/");
    let out = Scratch::new()
        .file("manifold.yaml", config(&wrong))
        .file("pod.yaml", manifest)
        .run(&["validate", "pod.yaml"]);
    out.code(2)
        .stderr_has("manifold.yaml:4: plugin ")
        .stderr_has(&path.display().to_string())
        .stderr_has(&format!("has digest blake3:{actual}"))
        .stderr_has(&format!("but blake3:{wrong} is pinned"));
    assert_eq!(out.stdout, "");
    // The same pin on the command line.
    let flag = format!("{}@blake3:{wrong}", path.display());
    Scratch::new()
        .file("pod.yaml", manifest)
        .run(&["validate", "pod.yaml", "--plugin", &flag])
        .code(2)
        .stderr_has("--plugin: plugin ")
        .stderr_has(&format!("has digest blake3:{actual}"));
    let flag = format!("{}@blake3:{actual}", path.display());
    Scratch::new()
        .file("pod.yaml", manifest)
        .run(&["plugin", "list", "--plugin", &flag])
        .code(0)
        .stdout_has(&format!("blake3:{actual}"));
    // A malformed pin is a usage error before anything loads.
    let flag = format!("{}@blake3:xyz", path.display());
    Scratch::new()
        .run(&["plugin", "list", "--plugin", &flag])
        .code(2)
        .stderr_has("64 hex digits");
}
