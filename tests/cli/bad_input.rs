//! Inputs that are not good manifests: each is reported against its file
//! (and line where known), and the other files are still checked. The bulk
//! of the bad inputs are the corpus in `tests/bad-input` (`corpus.rs`).

use crate::support::{DEPLOYMENT, Scratch};

#[test]
fn missing_path_is_named_and_others_checked() {
    Scratch::new()
        .file("d.yaml", DEPLOYMENT)
        .run(&["validate", "nope.yaml", "d.yaml", "--require-label", "team"])
        .code(2)
        .stderr_has("nope.yaml: no such file or folder")
        .stdout_has("labels/required");
}

#[test]
fn messages_say_what_is_wrong() {
    Scratch::new()
        .file("nokind.yaml", "apiVersion: v1\nmetadata:\n  name: x\n")
        .run(&["validate", "nokind.yaml"])
        .code(1)
        .stdout_has("missing 'kind' key");
}
