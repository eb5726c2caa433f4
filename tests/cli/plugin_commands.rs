//! `manifold plugin list` and `manifold plugin inspect`.

use crate::support::{Scratch, test_plugin};

#[test]
fn list_shows_builtins_with_digests() {
    let out = Scratch::new().run(&["plugin", "list"]);
    out.code(0)
        .stdout_has("labels")
        .stdout_has("validator")
        .stdout_has("builtin");
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
