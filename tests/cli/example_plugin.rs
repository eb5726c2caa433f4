//! The example third-party plugin in examples/plugins/image-tag, built by
//! the ordinary build and loaded from its path.

use crate::support::{DEPLOYMENT, Scratch, test_plugin};

#[test]
fn loads_from_its_path_and_reports() {
    let plugin = test_plugin("manifold_example_image_tag");
    let scratch = Scratch::new()
        .file("ok.yaml", DEPLOYMENT)
        .file(
            "latest.yaml",
            DEPLOYMENT.replace("nginx:1.27", "nginx:latest"),
        )
        .file(
            "untagged.yaml",
            DEPLOYMENT.replace("nginx:1.27", "registry:5000/nginx"),
        );
    let json = scratch
        .run(&[
            "validate",
            ".",
            "--plugin",
            plugin.to_str().unwrap(),
            "--format",
            "json",
        ])
        .code(1)
        .json();
    let found: Vec<String> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {} {} {}",
                d["plugin"].as_str().unwrap(),
                d["rule"].as_str().unwrap(),
                d["file"].as_str().unwrap(),
                d["line"]
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            "image-tag image-tag/unpinned latest.yaml 19",
            "image-tag image-tag/unpinned untagged.yaml 19"
        ]
    );
}

#[test]
fn its_configuration_is_checked_against_its_schema() {
    let plugin = test_plugin("manifold_example_image_tag");
    Scratch::new()
        .file(
            "manifold.yaml",
            "validators:\n  image-tag:\n    forbiddenTags: stable\n",
        )
        .file("d.yaml", DEPLOYMENT)
        .run(&["validate", "d.yaml", "--plugin", plugin.to_str().unwrap()])
        .code(2)
        .stderr_has("manifold.yaml:3: validators.image-tag.forbiddenTags:");
}
