//! The objects templates see (`.Values`, `.Release`, `.Chart`, `.Files`,
//! `.Capabilities`, `.Subcharts`), built per chart as Helm's engine does,
//! and the call into `manifold-gotemplate`'s Helm engine. Also schema
//! validation and CRD collection, which walk the same chart tree.

use std::collections::BTreeMap;
use std::sync::Arc;

use manifold_gotemplate::helm_engine::{self, ApiVersions, EngineOptions, Files, RenderTemplate};
use manifold_gotemplate::{NumberMode, Object, Value};
use serde_json::{Map, Value as J};

use crate::chart::{Chart, metadata_map};
use crate::{Error, Options};

/// Kubernetes version Helm assumes without `--kube-version`: one minor
/// ahead of the client-go it was built with (client-go v0.36 here).
pub const DEFAULT_KUBE_VERSION: &str = "v1.36.0";

/// Helm version reported in `.Capabilities.HelmVersion`.
pub const HELM_VERSION: &str = "v4.1.0";
/// Go version reported in `.Capabilities.HelmVersion.GoVersion`.
pub const GO_VERSION: &str = "go1.25.0";

/// API versions registered in client-go's scheme (plus apiextensions),
/// which `helm template` reports as available without a cluster.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1beta1",
    "admissionregistration.k8s.io/v1alpha1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta2",
    "apps/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1beta1",
    "authentication.k8s.io/v1alpha1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "extensions/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1alpha1",
    "coordination.k8s.io/v1",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1alpha2",
    "node.k8s.io/v1",
    "node.k8s.io/v1beta1",
    "node.k8s.io/v1alpha1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "storagemigration.k8s.io/v1alpha1",
    "apiextensions.k8s.io/v1",
    "apiextensions.k8s.io/v1beta1",
];

/// `.Capabilities` inputs.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// As given (`v1.33.4-gke.1`), with a `v` prefix.
    pub version: String,
    /// `vMAJOR.MINOR.PATCH`, for constraint checks.
    pub normalized: String,
    pub major: String,
    pub minor: String,
    pub api_versions: Vec<String>,
}

impl Capabilities {
    pub fn new(opts: &Options) -> Result<Capabilities, Error> {
        let given = opts.kube_version.as_deref().unwrap_or(DEFAULT_KUBE_VERSION);
        let (major, minor, normalized) =
            parse_kube_version(given).ok_or_else(|| Error::KubeVersion {
                version: given.to_string(),
            })?;
        let version = if given.starts_with('v') {
            given.to_string()
        } else {
            format!("v{given}")
        };
        let mut api_versions: Vec<String> =
            DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect();
        api_versions.extend(opts.api_versions.iter().cloned());
        Ok(Capabilities {
            version,
            normalized,
            major,
            minor,
            api_versions,
        })
    }

    fn to_value(&self) -> Value {
        let mut m = BTreeMap::new();
        m.insert(
            "KubeVersion".to_string(),
            Value::Object(Arc::new(KubeVersion {
                version: self.version.clone(),
                normalized: self.normalized.clone(),
                major: self.major.clone(),
                minor: self.minor.clone(),
            })),
        );
        m.insert(
            "APIVersions".to_string(),
            Value::Object(Arc::new(ApiVersions(self.api_versions.clone()))),
        );
        m.insert(
            "HelmVersion".to_string(),
            Value::Object(Arc::new(BuildInfo)),
        );
        Value::map(m)
    }
}

/// `.Capabilities.KubeVersion` as Helm 4 has it: `Version` is the text
/// given (`v1.33.4-gke.1`), `String` (and printing) the normalized
/// `v1.33.4` used for constraint checks.
#[derive(Debug, Clone)]
struct KubeVersion {
    version: String,
    normalized: String,
    major: String,
    minor: String,
}

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "*common.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::str(&self.version)),
            "Major" => Some(Value::str(&self.major)),
            "Minor" => Some(Value::str(&self.minor)),
            _ => None,
        }
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(name, "String" | "GitVersion")
    }
    fn call_method(&self, name: &str, _args: &[Value]) -> Result<Value, String> {
        match name {
            "String" => Ok(Value::str(&self.normalized)),
            "GitVersion" => Ok(Value::str(&self.version)),
            _ => Err(format!(
                "can't evaluate field {name} in type *common.KubeVersion"
            )),
        }
    }
    fn display(&self) -> String {
        self.normalized.clone()
    }
    fn to_json(&self) -> J {
        serde_json::json!({"Version": self.version, "Major": self.major, "Minor": self.minor})
    }
}

/// `.Capabilities.HelmVersion` (Go's `version.BuildInfo`).
#[derive(Debug, Clone)]
struct BuildInfo;

impl Object for BuildInfo {
    fn type_name(&self) -> &str {
        "version.BuildInfo"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::str(HELM_VERSION)),
            "GitCommit" | "GitTreeState" => Some(Value::str("")),
            "GoVersion" => Some(Value::str(GO_VERSION)),
            _ => None,
        }
    }
    fn display(&self) -> String {
        format!("{{{HELM_VERSION}   {GO_VERSION}}}")
    }
    fn to_json(&self) -> J {
        serde_json::json!({"version": HELM_VERSION, "git_commit": "", "git_tree_state": "", "go_version": GO_VERSION})
    }
}

/// Kubernetes' `ParseGeneric`: `v?MAJOR.MINOR[.PATCH...]` with anything
/// after the numbers ignored. Returns (major, minor, normalized).
fn parse_kube_version(s: &str) -> Option<(String, String, String)> {
    let t = s.trim();
    let t = t.strip_prefix('v').unwrap_or(t);
    let end = t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(t.len(), |(i, _)| i);
    let nums = t.get(..end)?.trim_end_matches('.');
    let parts: Vec<u64> = nums
        .split('.')
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<Vec<_>>>()?;
    if parts.len() < 2 {
        return None;
    }
    let (major, minor) = (*parts.first()?, *parts.get(1)?);
    let patch = parts.get(2).copied().unwrap_or(0);
    Some((
        major.to_string(),
        minor.to_string(),
        format!("v{major}.{minor}.{patch}"),
    ))
}

/// `.Release`.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    pub namespace: String,
    pub is_upgrade: bool,
}

impl Release {
    fn to_value(&self) -> Value {
        let mut m = BTreeMap::new();
        m.insert("Name".to_string(), Value::str(&self.name));
        m.insert("Namespace".to_string(), Value::str(&self.namespace));
        m.insert("IsUpgrade".to_string(), Value::Bool(self.is_upgrade));
        m.insert("IsInstall".to_string(), Value::Bool(!self.is_upgrade));
        m.insert("Revision".to_string(), Value::Int(1));
        m.insert("Service".to_string(), Value::str("Helm"));
        Value::map(m)
    }
}

/// Values as Go sees them: float64 for numbers from YAML/JSON, int64 for
/// `--set` integers.
fn to_value(v: &J) -> Value {
    Value::from_json(v, NumberMode::GoTyped)
}

/// Renders every template of the chart tree; keys are full template names.
pub fn render_chart(
    chart: &Chart,
    values: Map<String, J>,
    release: &Release,
    caps: &Capabilities,
    opts: &Options,
) -> Result<BTreeMap<String, String>, Error> {
    let shared = Shared {
        release: release.to_value(),
        caps: caps.to_value(),
    };
    let root_values = to_value(&J::Object(values));
    let mut templates = Vec::new();
    collect(
        chart,
        chart.name(),
        true,
        root_values,
        &shared,
        &mut templates,
    );
    let engine_opts = EngineOptions {
        strict: false,
        lint_mode: false,
        now: opts.now,
        random_seed: opts.random_seed,
    };
    helm_engine::render(&templates, manifold_gotemplate::helm(), &engine_opts).map_err(|e| {
        Error::Template {
            template: e.template.clone(),
            message: e.message,
        }
    })
}

struct Shared {
    release: Value,
    caps: Value,
}

/// Helm's `recAllTpls`: builds this chart's top-level object, recursing
/// into subcharts first so `.Subcharts` can hold theirs.
fn collect(
    chart: &Chart,
    full_path: &str,
    is_root: bool,
    values: Value,
    shared: &Shared,
    out: &mut Vec<RenderTemplate>,
) -> Value {
    let mut subcharts = BTreeMap::new();
    for sub in &chart.dependencies {
        let sub_values = match &values {
            Value::Map(m) => match m.get(sub.name()) {
                Some(v @ Value::Map(_)) => v,
                _ => Value::empty_map(),
            },
            _ => Value::empty_map(),
        };
        let sub_path = format!("{full_path}/charts/{}", sub.name());
        let top = collect(sub, &sub_path, false, sub_values, shared, out);
        subcharts.insert(sub.name().to_string(), top);
    }
    let files: BTreeMap<String, Vec<u8>> = chart.files.iter().cloned().collect();
    let mut top = BTreeMap::new();
    top.insert(
        "Chart".to_string(),
        to_value(&J::Object(metadata_map(&chart.metadata, is_root))),
    );
    top.insert("Files".to_string(), Files::new(files).into_value());
    top.insert("Release".to_string(), shared.release.clone());
    top.insert("Capabilities".to_string(), shared.caps.clone());
    top.insert("Values".to_string(), values);
    top.insert("Subcharts".to_string(), Value::map(subcharts));
    let top = Value::map(top);
    let library = chart.is_library();
    for (name, data) in &chart.templates {
        let base = name.rsplit('/').next().unwrap_or(name);
        if library && !base.starts_with('_') {
            continue;
        }
        out.push(RenderTemplate {
            name: format!("{full_path}/{name}"),
            text: String::from_utf8_lossy(data).into_owned(),
            values: top.clone(),
            base_path: format!("{full_path}/templates"),
        });
    }
    top
}

/// `crds/*.{yaml,yml,json}` of the chart and its subcharts, with their
/// `# Source:` paths.
pub fn crd_files(chart: &Chart, full_path: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, data) in &chart.files {
        let lower = name.to_ascii_lowercase();
        if name.starts_with("crds/")
            && (lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json"))
        {
            out.push((format!("{full_path}/{name}"), data.clone()));
        }
    }
    for sub in &chart.dependencies {
        out.extend(crd_files(
            sub,
            &format!("{full_path}/charts/{}", sub.name()),
        ));
    }
    out
}

/// Validates values against each chart's `values.schema.json`; returns
/// Helm's report (empty when valid).
pub fn validate_schema(chart: &Chart, values: &Map<String, J>) -> String {
    let mut report = String::new();
    if let Some(schema) = &chart.schema {
        let problems = validate_single(schema, values);
        if !problems.is_empty() {
            report.push_str(&format!("{}:\n{problems}", chart.name()));
        }
    }
    for sub in &chart.dependencies {
        match values.get(sub.name()) {
            None | Some(J::Null) => {}
            Some(J::Object(m)) => report.push_str(&validate_schema(sub, m)),
            Some(other) => report.push_str(&format!(
                "{}:\ninvalid type for values: expected object (map), got {}\n",
                sub.name(),
                crate::chart::json_kind(other)
            )),
        }
    }
    report
}

fn validate_single(schema: &[u8], values: &Map<String, J>) -> String {
    let schema: J = match serde_json::from_slice(schema) {
        Ok(s) => s,
        Err(e) => {
            return format!(
                "values.schema.json is not valid JSON: line {}, column {}: {e}\n",
                e.line(),
                e.column()
            );
        }
    };
    let validator = match jsonschema::validator_for(&schema) {
        Ok(v) => v,
        Err(e) => return format!("values.schema.json is not a valid JSON schema: {e}\n"),
    };
    let instance = J::Object(values.clone());
    let mut lines = Vec::new();
    for err in validator.iter_errors(&instance) {
        lines.push(format!(
            "- at '{}': {}",
            err.instance_path(),
            schema_message(&err)
        ));
    }
    if lines.is_empty() {
        String::new()
    } else {
        format!("{}\n", lines.join("\n"))
    }
}

/// JSON type name as Helm's validator (santhosh-tekuri/jsonschema) says it.
fn json_type(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "boolean",
        J::Number(n) => {
            if n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                "integer"
            } else {
                "number"
            }
        }
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

/// A number as Go prints it (`-5`, not `-5.0`).
fn go_num(v: &J) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{}", f as i64),
        Some(f) => format!("{f}"),
        None => v.to_string(),
    }
}

fn quoted(items: impl IntoIterator<Item = String>) -> String {
    items
        .into_iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The common validation failures in the wording of the validator Helm
/// uses; others keep this validator's own message.
fn schema_message(err: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    let inst = err.instance();
    let got = json_type(inst);
    match err.kind() {
        K::Type { kind } => {
            let want = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            format!("got {got}, want {want}")
        }
        K::Required { property } => {
            let p = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_string);
            format!("missing property '{p}'")
        }
        K::AdditionalProperties { unexpected } => {
            format!(
                "additional properties {} not allowed",
                quoted(unexpected.iter().cloned())
            )
        }
        K::Enum { options } => {
            let opts = match options.as_ref() {
                J::Array(a) => a
                    .iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            format!("value must be one of {opts}")
        }
        K::Constant { expected_value } => format!("value must be {expected_value}"),
        K::Minimum { limit } => format!("minimum: got {}, want {}", go_num(inst), go_num(limit)),
        K::Maximum { limit } => format!("maximum: got {}, want {}", go_num(inst), go_num(limit)),
        K::ExclusiveMinimum { limit } => format!(
            "exclusiveMinimum: got {}, want {}",
            go_num(inst),
            go_num(limit)
        ),
        K::ExclusiveMaximum { limit } => format!(
            "exclusiveMaximum: got {}, want {}",
            go_num(inst),
            go_num(limit)
        ),
        K::MinLength { limit } => format!(
            "minLength: got {}, want {limit}",
            inst.as_str().map_or(0, |s| s.chars().count())
        ),
        K::MaxLength { limit } => format!(
            "maxLength: got {}, want {limit}",
            inst.as_str().map_or(0, |s| s.chars().count())
        ),
        K::MinItems { limit } => format!(
            "minItems: got {}, want {limit}",
            inst.as_array().map_or(0, Vec::len)
        ),
        K::MaxItems { limit } => format!(
            "maxItems: got {}, want {limit}",
            inst.as_array().map_or(0, Vec::len)
        ),
        K::Pattern { pattern } => format!(
            "'{}' does not match pattern '{pattern}'",
            inst.as_str().unwrap_or_default()
        ),
        _ => err.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn kube_versions() {
        let rows = [
            ("1.20.0", Some(("1", "20", "v1.20.0"))),
            ("v1.33.4-gke.1245000", Some(("1", "33", "v1.33.4"))),
            ("1.20", Some(("1", "20", "v1.20.0"))),
            ("1", None),
            ("abc", None),
        ];
        for (input, want) in rows {
            let got = parse_kube_version(input);
            let want = want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
            assert_eq!(got, want, "{input}");
        }
    }
}
