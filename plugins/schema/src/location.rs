//! kubeconform's `-schema-location` templates: expanding one for a resource,
//! so that a host with a file system (the plugin has none) can read the file
//! the validator would look for and hand its bytes back.

use crate::error::Error;

/// The location that names the embedded schemas.
pub const DEFAULT_LOCATION: &str = "default";

/// What kubeconform appends to a location that does not end in `json`:
/// the layout of the `kubernetes-json-schema` repositories.
const STANDALONE_SUFFIX: &str = "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json";

/// The template a location stands for: a location not ending in `json` is a
/// folder laid out like `kubernetes-json-schema`, as in kubeconform.
pub fn location_template(location: &str) -> String {
    if location.ends_with("json") {
        location.to_owned()
    } else {
        format!("{}{STANDALONE_SUFFIX}", location.trim_end_matches('/'))
    }
}

/// The values a template is expanded with for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateValues {
    /// `{{ .ResourceKind }}`: the kind, lower-cased.
    pub resource_kind: String,
    /// `{{ .ResourceAPIVersion }}`: the version part of `apiVersion`.
    pub resource_api_version: String,
    /// `{{ .Group }}`: the group part of `apiVersion` (the whole `apiVersion`
    /// for the core group, as kubeconform does).
    pub group: String,
    /// `{{ .KindSuffix }}`: `-<first label of the group>-<version>`, or
    /// `-<version>` for the core group.
    pub kind_suffix: String,
    /// `{{ .NormalizedKubernetesVersion }}`: `v1.20.0` or `master`.
    pub normalized_kubernetes_version: String,
    /// `{{ .StrictSuffix }}`: `-strict` in strict mode, else empty.
    pub strict_suffix: String,
}

impl TemplateValues {
    /// The values for a resource of this `apiVersion` and `kind`.
    pub fn new(api_version: &str, kind: &str, normalized_version: &str, strict: bool) -> Self {
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group, Some(version)),
            None => (api_version, None),
        };
        let first_label = group.split('.').next().unwrap_or(group);
        let mut kind_suffix = format!("-{}", first_label.to_lowercase());
        if let Some(version) = version {
            kind_suffix.push('-');
            kind_suffix.push_str(&version.to_lowercase());
        }
        TemplateValues {
            resource_kind: kind.to_lowercase(),
            // kubeconform takes the last `/`-separated part.
            resource_api_version: api_version.rsplit('/').next().unwrap_or("").to_owned(),
            group: group.to_owned(),
            kind_suffix,
            normalized_kubernetes_version: normalized_version.to_owned(),
            strict_suffix: if strict { "-strict" } else { "" }.to_owned(),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "ResourceKind" => &self.resource_kind,
            "ResourceAPIVersion" => &self.resource_api_version,
            "Group" => &self.group,
            "KindSuffix" => &self.kind_suffix,
            "NormalizedKubernetesVersion" => &self.normalized_kubernetes_version,
            "StrictSuffix" => &self.strict_suffix,
            _ => return None,
        })
    }
}

/// Expand a kubeconform location (after [`location_template`]) for one
/// resource. Only `{{ .Field }}` actions are understood, which is all that
/// kubeconform's documentation and users' configs use.
pub fn expand_template(template: &str, values: &TemplateValues) -> Result<String, Error> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let (before, from_action) = rest.split_at(start);
        out.push_str(before);
        let inner_and_after = from_action.split_at(2).1;
        let Some(end) = inner_and_after.find("}}") else {
            return Err(Error::InvalidSchemaLocation {
                location: template.to_owned(),
                reason: "a `{{` is never closed by `}}`".to_owned(),
            });
        };
        let (inner, after) = inner_and_after.split_at(end);
        let field = inner.trim();
        let value = field
            .strip_prefix('.')
            .and_then(|name| values.get(name))
            .ok_or_else(|| Error::InvalidSchemaLocation {
                location: template.to_owned(),
                reason: format!("unknown template action `{{{{{inner}}}}}`"),
            })?;
        out.push_str(value);
        rest = after.split_at(2).1;
    }
    out.push_str(rest);
    Ok(out)
}

/// Check that a location's template is well formed, as kubeconform does
/// before validating anything.
pub fn check_location(location: &str) -> Result<(), Error> {
    if location == DEFAULT_LOCATION {
        return Ok(());
    }
    let probe = TemplateValues::new("apps/v1", "Deployment", "master", true);
    expand_template(&location_template(location), &probe).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_values_table() {
        // (apiVersion, kind, group, ResourceAPIVersion, KindSuffix)
        let cases = [
            ("v1", "Service", "v1", "v1", "-v1"),
            ("apps/v1", "Deployment", "apps", "v1", "-apps-v1"),
            (
                "sagemaker.aws.amazon.com/v1",
                "TrainingJob",
                "sagemaker.aws.amazon.com",
                "v1",
                "-sagemaker-v1",
            ),
            (
                "projectcontour.io/v1",
                "HTTPProxy",
                "projectcontour.io",
                "v1",
                "-projectcontour-v1",
            ),
        ];
        for (api_version, kind, group, version, suffix) in cases {
            let v = TemplateValues::new(api_version, kind, "master", false);
            assert_eq!(v.group, group);
            assert_eq!(v.resource_api_version, version);
            assert_eq!(v.kind_suffix, suffix);
            assert_eq!(v.resource_kind, kind.to_lowercase());
        }
    }

    #[test]
    fn expansion_table() {
        let values = TemplateValues::new("apps/v1", "Deployment", "v1.30.0", true);
        let cases = [
            (
                "schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json",
                "schemas/deployment-apps-v1.json",
            ),
            (
                "crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json",
                "crds/apps/deployment_v1.json",
            ),
            (
                "https://example.test/k8s",
                "https://example.test/k8s/v1.30.0-standalone-strict/deployment-apps-v1.json",
            ),
            (
                "foo/",
                "foo/v1.30.0-standalone-strict/deployment-apps-v1.json",
            ),
            ("plain.json", "plain.json"),
        ];
        for (location, expected) in cases {
            let got = expand_template(&location_template(location), &values).unwrap();
            assert_eq!(got, expected, "{location}");
        }
    }

    #[test]
    fn malformed_templates_are_errors() {
        for bad in [
            "x/{{ .Nope }}.json",
            "x/{{ .ResourceKind .json",
            "x/{{ ResourceKind }}.json",
        ] {
            let err = check_location(bad).unwrap_err();
            assert!(
                matches!(err, Error::InvalidSchemaLocation { .. }),
                "{bad}: {err}"
            );
        }
        check_location("default").unwrap();
        check_location("foo").unwrap();
    }
}
