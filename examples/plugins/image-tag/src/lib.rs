//! An example third-party validator written with the manifold SDK.
//!
//! It flags containers whose image has no tag or uses a moving tag
//! (`latest` by default), since a sync agent cannot tell what such a
//! manifest deploys. Build it with
//! `cargo build --target wasm32-wasip2 --release -p manifold-example-image-tag`
//! and run it with `manifold validate --plugin <path to the .wasm> FILES`.

use manifold_plugin_sdk::{Diagnostic, Failure, Manifest, Metadata, Validator, json_pointer};
use serde_json::Value;

const SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "forbiddenTags": {
      "description": "Tags that do not pin an image (default: [\"latest\"]).",
      "type": "array",
      "items": { "type": "string" }
    },
    "requireDigest": {
      "description": "Require `@sha256:` digests instead of tags (default false).",
      "type": "boolean"
    }
  }
}"#;

struct ImageTag;

impl Validator for ImageTag {
    fn metadata() -> Metadata {
        Metadata::validator(
            "image-tag",
            env!("CARGO_PKG_VERSION"),
            "Container images must be pinned to a tag or digest.",
        )
        .with_config_schema(SCHEMA)
    }

    fn validate(manifests: Vec<Manifest>, config: String) -> Result<Vec<Diagnostic>, Failure> {
        let config: Value = serde_json::from_str(&config)
            .map_err(|e| Failure::new(format!("configuration: {e}")))?;
        let forbidden: Vec<String> = match config.get("forbiddenTags").and_then(Value::as_array) {
            Some(tags) => tags
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            None => vec!["latest".to_owned()],
        };
        let require_digest = config
            .get("requireDigest")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut out = Vec::new();
        for (index, manifest) in manifests.iter().enumerate() {
            let object = manifest.value()?;
            for (pointer, image) in images(&object) {
                let problem = match split_image(image) {
                    (_, _, Some(_)) => None,
                    _ if require_digest => Some(format!("image {image:?} is not pinned by digest")),
                    (_, None, None) => {
                        Some(format!("image {image:?} has no tag, so it means `latest`"))
                    }
                    (_, Some(tag), None) if forbidden.iter().any(|f| f == tag) => {
                        Some(format!("image {image:?} uses the moving tag {tag:?}"))
                    }
                    _ => None,
                };
                if let Some(message) = problem {
                    out.push(
                        Diagnostic::error("image-tag/unpinned", message)
                            .on_manifest(index)
                            .at_path(pointer),
                    );
                }
            }
        }
        Ok(out)
    }
}

/// Splits `registry/name:tag@digest` into (name, tag, digest).
fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    // A colon after the last slash is a tag; before it, a registry port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].rfind(':') {
        Some(colon) => (
            &rest[..last_slash + colon],
            Some(&rest[last_slash + colon + 1..]),
            digest,
        ),
        None => (rest, None, digest),
    }
}

/// Every container image of a pod-bearing object, with its JSON pointer.
fn images(object: &Value) -> Vec<(String, &str)> {
    let pod_specs: [&[&str]; 3] = [
        &["spec"],
        &["spec", "template", "spec"],
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ];
    let mut found = Vec::new();
    for path in pod_specs {
        let Some(spec) = path.iter().try_fold(object, |v, k| v.get(k)) else {
            continue;
        };
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            let Some(containers) = spec.get(list).and_then(Value::as_array) else {
                continue;
            };
            for (i, container) in containers.iter().enumerate() {
                if let Some(image) = container.get("image").and_then(Value::as_str) {
                    let index = i.to_string();
                    let mut segments: Vec<&str> = path.to_vec();
                    segments.extend([list, index.as_str(), "image"]);
                    found.push((json_pointer(segments), image));
                }
            }
        }
    }
    found
}

manifold_plugin_sdk::export_validator!(ImageTag);

#[cfg(test)]
mod tests {
    use super::split_image;

    #[test]
    fn splits_images() {
        for (image, want) in [
            ("nginx", ("nginx", None, None)),
            ("nginx:1.25", ("nginx", Some("1.25"), None)),
            ("registry:5000/app", ("registry:5000/app", None, None)),
            (
                "registry:5000/app:v1",
                ("registry:5000/app", Some("v1"), None),
            ),
            ("app@sha256:abc", ("app", None, Some("sha256:abc"))),
        ] {
            assert_eq!(split_image(image), want, "{image}");
        }
    }
}
