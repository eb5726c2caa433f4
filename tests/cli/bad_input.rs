//! Inputs that are not good manifests: each is reported against its file
//! (and line where known), and the other files are still checked.

use crate::support::{DEPLOYMENT, Scratch};

fn bomb() -> String {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1u8..12 {
        let (prev, name) = ((b'a' + level - 1) as char, (b'a' + level) as char);
        let refs = vec![format!("*{prev}"); 10].join(", ");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    text
}

#[test]
fn each_bad_file_is_named_and_the_rest_still_checked() {
    let scratch = Scratch::new()
        .file(
            "in/malformed.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n",
        )
        .file("in/empty.yaml", "")
        .file("in/list.yaml", "- just\n- a list\n")
        .file("in/nokind.yaml", "apiVersion: v1\nmetadata:\n  name: x\n")
        .file("in/binary.yaml", b"apiVersion: v1\nkind: \xff\xfe\n")
        .file("in/bomb.yaml", bomb())
        .file(
            "in/dup.yaml",
            "apiVersion: v1\nkind: ConfigMap\nkind: Secret\n",
        )
        .file("in/z-good.yaml", DEPLOYMENT);
    let out = scratch.run(&[
        "validate",
        "in",
        "--require-label",
        "team",
        "--format",
        "json",
    ]);
    out.code(1);
    let json = out.json();
    let found: Vec<String> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d["file"].as_str().unwrap(),
                d["rule"].as_str().unwrap(),
                d["line"]
            )
        })
        .collect();
    for want in [
        "in/malformed.yaml manifold/yaml 4", // the flow is still open at the end of the file
        "in/empty.yaml manifold/empty null",
        "in/list.yaml manifold/not-kubernetes 1",
        "in/nokind.yaml manifold/not-kubernetes 1",
        "in/binary.yaml manifold/yaml 2",
        "in/dup.yaml manifold/yaml 3",
        "in/z-good.yaml labels/required 6",
    ] {
        assert!(
            found.iter().any(|f| f == want),
            "missing {want:?} in {found:#?}"
        );
    }
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("in/bomb.yaml manifold/yaml")),
        "{found:#?}"
    );
    assert_eq!(json["summary"]["files"], 8);
}

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
