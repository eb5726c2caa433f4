//! The validator: options, schema lookup (CRDs, embedded schemas, schema
//! files supplied by the host), one compiled schema per `(apiVersion, kind)`
//! reused across documents, and the verdict and findings of each resource.

use std::collections::{BTreeMap, HashMap, HashSet};

use manifold_plugin_sdk::{Diagnostic, Severity};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::bundle::{Bundle, ResolvedVersion, resolve_version};
use crate::duration::check_duration;
use crate::error::Error;
use crate::location::{
    DEFAULT_LOCATION, TemplateValues, check_location, expand_template, location_template,
};
use crate::messages::violations;
use crate::strict::{convert_crd_schema, strictify};

/// Rule identifiers of the findings this validator produces.
pub mod rules {
    /// The resource does not match its schema.
    pub const INVALID: &str = "schema/invalid";
    /// No schema was found for the resource's `apiVersion` and `kind`.
    pub const MISSING_SCHEMA: &str = "schema/missing-schema";
    /// The document has no `kind`.
    pub const MISSING_KIND: &str = "schema/missing-kind";
    /// The document has no `apiVersion`.
    pub const MISSING_API_VERSION: &str = "schema/missing-api-version";
    /// The kind is listed in `reject`.
    pub const REJECTED_KIND: &str = "schema/rejected-kind";
    /// The document is not a mapping (or a `List`'s `items` is not a sequence).
    pub const NOT_AN_OBJECT: &str = "schema/not-an-object";
    /// A CustomResourceDefinition in the batch could not be used.
    pub const INVALID_CRD: &str = "schema/invalid-crd";
    /// The resource was not checked (its kind is in `skip`, or it has no
    /// schema and missing schemas are skipped); an info finding, so reports
    /// can tell skipped resources from valid ones.
    pub const SKIPPED: &str = "schema/skipped";
}

/// A finding about a document: the plugin interface's own diagnostic, so
/// the plugin glue passes findings on unchanged. `rule` is one of [`rules`],
/// the message is worded like kubeconform's, `path` is a JSON pointer to the
/// offending value within the document (`""` is the whole document), `None`
/// when the finding is about a document as a whole (no schema, no kind),
/// `/items/N` when about a whole List item. `manifest` is left for the
/// caller to set.
fn finding(severity: Severity, rule: &str, message: String, path: Option<String>) -> Diagnostic {
    let diagnostic = Diagnostic::new(severity, rule, message);
    match path {
        Some(path) => diagnostic.at_path(path),
        None => diagnostic,
    }
}

/// kubeconform's verdict on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The resource matches its schema.
    Valid,
    /// The resource does not match its schema.
    Invalid,
    /// The resource could not be checked (no kind, rejected kind, missing
    /// schema with `missing_schemas: error`).
    Error,
    /// The resource was not checked (skipped kind, missing schema with
    /// `warn` or `skip`).
    Skipped,
}

/// The outcome for one resource: a document, or one item of a `List`.
#[derive(Debug, Clone)]
pub struct ResourceReport {
    /// Index within the `List`'s `items`, or `None` for a plain document.
    pub item: Option<usize>,
    /// `apiVersion`, if the resource has one.
    pub api_version: Option<String>,
    /// `kind`, if the resource has one.
    pub kind: Option<String>,
    /// `metadata.name`, or `metadata.generateName`.
    pub name: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// What was found; paths are relative to the whole document.
    pub findings: Vec<Diagnostic>,
}

/// What to do with a resource for which no schema is found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingSchemas {
    /// An error finding; the resource's verdict is `error`.
    Error,
    /// A warning finding; the resource is skipped.
    #[default]
    Warn,
    /// No finding; the resource is skipped (kubeconform `-ignore-missing-schemas`).
    Skip,
}

/// Validator options; the JSON form (plugin config) uses the same snake_case
/// names and rejects unknown ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Kubernetes version of the embedded schemas (`1.30`, `v1.30.2`,
    /// `master`); `None` means the newest shipped. A version that is not
    /// shipped uses the nearest one that is.
    pub kubernetes_version: Option<String>,
    /// Reject fields the schema does not declare (kubeconform `-strict`).
    /// Defaults to `true`.
    pub strict: bool,
    /// kubeconform `-schema-location` values, tried in order: `default` (the
    /// embedded schemas) or a path template. Empty means `["default"]`.
    pub schema_locations: Vec<String>,
    /// Contents of schema files by expanded location, as read by the host
    /// (see [`Validator::schema_requests`]). In JSON, the values are the
    /// files' text.
    #[serde(deserialize_with = "text_map")]
    pub schema_files: BTreeMap<String, Vec<u8>>,
    /// Kinds not to validate: `Kind` or `apiVersion/Kind`.
    pub skip: Vec<String>,
    /// Kinds that are an error wherever they appear: `Kind` or `apiVersion/Kind`.
    pub reject: Vec<String>,
    /// What a resource without a schema gets.
    pub missing_schemas: MissingSchemas,
    /// CustomResourceDefinition manifests whose schemas validate custom resources.
    pub crds: Vec<Value>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kubernetes_version: None,
            strict: true,
            schema_locations: Vec::new(),
            schema_files: BTreeMap::new(),
            skip: Vec::new(),
            reject: Vec::new(),
            missing_schemas: MissingSchemas::Warn,
            crds: Vec::new(),
        }
    }
}

impl Options {
    /// Options from the plugin's JSON configuration (`null` means defaults).
    pub fn from_json(config: &Value) -> Result<Options, Error> {
        if config.is_null() {
            return Ok(Options::default());
        }
        Options::deserialize(config).map_err(|e| Error::InvalidOptions {
            reason: e.to_string(),
        })
    }
}

fn text_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<u8>>, D::Error> {
    let texts = BTreeMap::<String, String>::deserialize(d)?;
    Ok(texts
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect())
}

/// Where schemas are looked up, in order.
#[derive(Debug, Clone)]
enum Location {
    Embedded,
    Template(String),
}

/// `Kind` and `apiVersion/Kind` entries of `skip` or `reject`.
#[derive(Debug, Default)]
struct KindFilter(HashSet<String>);

impl KindFilter {
    fn new(option: &'static str, entries: &[String]) -> Result<Self, Error> {
        let mut set = HashSet::new();
        for entry in entries {
            let trimmed = entry.trim();
            if trimmed.is_empty()
                || trimmed.starts_with('/')
                || trimmed.ends_with('/')
                || trimmed.contains(char::is_whitespace)
            {
                return Err(Error::InvalidKindFilter {
                    option,
                    given: entry.clone(),
                });
            }
            set.insert(trimmed.to_owned());
        }
        Ok(KindFilter(set))
    }

    /// kubeconform matches the exact `apiVersion/Kind` or the bare kind.
    fn matches(&self, api_version: &str, kind: &str) -> bool {
        !self.0.is_empty()
            && (self.0.contains(kind) || self.0.contains(&format!("{api_version}/{kind}")))
    }
}

type Key = (String, String);

/// The result of looking a kind up once.
#[derive(Debug)]
enum Lookup {
    Found(jsonschema::Validator),
    /// Not found; the notes say which candidates were unusable and why.
    Missing(Vec<String>),
}

/// Validates Kubernetes manifests against JSON schemas like kubeconform.
/// Compiled schemas are cached per `(apiVersion, kind)`, so reuse one
/// validator for a whole batch.
#[derive(Debug)]
pub struct Validator {
    strict: bool,
    version: ResolvedVersion,
    locations: Vec<Location>,
    files: HashMap<String, Vec<u8>>,
    skip: KindFilter,
    reject: KindFilter,
    missing: MissingSchemas,
    bundle: Option<Bundle>,
    crds: HashMap<Key, jsonschema::Validator>,
    cache: HashMap<Key, Lookup>,
}

impl Validator {
    /// A validator for these options. The embedded schemas are decoded on
    /// first use, not here.
    pub fn new(options: Options) -> Result<Validator, Error> {
        let version = resolve_version(options.kubernetes_version.as_deref())?;
        let raw_locations = if options.schema_locations.is_empty() {
            vec![DEFAULT_LOCATION.to_owned()]
        } else {
            options.schema_locations
        };
        let mut locations = Vec::with_capacity(raw_locations.len());
        for location in raw_locations {
            check_location(&location)?;
            locations.push(if location == DEFAULT_LOCATION {
                Location::Embedded
            } else {
                Location::Template(location_template(&location))
            });
        }
        let mut validator = Validator {
            strict: options.strict,
            version,
            locations,
            files: options.schema_files.into_iter().collect(),
            skip: KindFilter::new("skip", &options.skip)?,
            reject: KindFilter::new("reject", &options.reject)?,
            missing: options.missing_schemas,
            bundle: None,
            crds: HashMap::new(),
            cache: HashMap::new(),
        };
        for crd in &options.crds {
            validator.add_crd(crd)?;
        }
        Ok(validator)
    }

    /// The Kubernetes version of the embedded schemas in use, e.g. `1.37`.
    pub fn kubernetes_version(&self) -> String {
        self.version.shipped_string()
    }

    /// Supply the contents of a schema file at an expanded location (one of
    /// [`Validator::schema_requests`]). Kinds that had no schema are looked
    /// up again.
    pub fn add_schema_file(&mut self, location: &str, contents: &[u8]) {
        self.files.insert(location.to_owned(), contents.to_vec());
        self.cache
            .retain(|_, lookup| matches!(lookup, Lookup::Found(_)));
    }

    /// Register the schemas of a CustomResourceDefinition: one per served
    /// version, from `openAPIV3Schema` (a version without one accepts any
    /// object, as the API server does). Returns the `(apiVersion, kind)`
    /// pairs registered. A CRD's schema wins over every schema location.
    pub fn add_crd(&mut self, crd: &Value) -> Result<Vec<(String, String)>, Error> {
        let parsed = parse_crd(crd)?;
        let mut registered = Vec::with_capacity(parsed.versions.len());
        for (version, schema) in parsed.versions {
            let api_version = format!("{}/{version}", parsed.group);
            let mut converted = convert_crd_schema(&schema);
            if self.strict {
                strictify(&mut converted);
            }
            let compiled = compile(&converted, true).map_err(|reason| Error::InvalidSchema {
                api_version: api_version.clone(),
                kind: parsed.kind.clone(),
                origin: format!("CustomResourceDefinition {}", parsed.name),
                reason,
            })?;
            let key = (api_version, parsed.kind.clone());
            self.crds.insert(key.clone(), compiled);
            registered.push(key);
        }
        Ok(registered)
    }

    /// The schema files the validator would read for this document (and the
    /// items of a `List`) and has not been given: expanded
    /// `schema_locations`, in order, up to the first location that already
    /// has the schema. The host reads those that exist and passes them to
    /// [`Validator::add_schema_file`].
    pub fn schema_requests(&mut self, doc: &Value) -> Vec<String> {
        let mut out = Vec::new();
        for (_, resource) in resources_of(doc) {
            let (Some(api_version), Some(kind)) = (
                non_empty_str(resource, "apiVersion"),
                non_empty_str(resource, "kind"),
            ) else {
                continue;
            };
            if self.skip.matches(api_version, kind)
                || self.reject.matches(api_version, kind)
                || self
                    .crds
                    .contains_key(&(api_version.to_owned(), kind.to_owned()))
            {
                continue;
            }
            let values = self.template_values(api_version, kind);
            for location in self.locations.clone() {
                match location {
                    Location::Embedded => {
                        if self
                            .bundle()
                            .map(|b| b.has_kind(api_version, kind))
                            .unwrap_or(false)
                        {
                            break;
                        }
                    }
                    Location::Template(template) => {
                        let Ok(path) = expand_template(&template, &values) else {
                            continue;
                        };
                        if !self.files.contains_key(&path) && !out.contains(&path) {
                            out.push(path);
                        }
                    }
                }
            }
        }
        out
    }

    /// Validate one document and return its findings (for a `List`, those of
    /// every item, with paths into the whole document).
    pub fn validate(&mut self, doc: &Value) -> Vec<Diagnostic> {
        self.validate_resources(doc)
            .into_iter()
            .flat_map(|r| r.findings)
            .collect()
    }

    /// Validate a batch of documents: CustomResourceDefinitions in the batch
    /// are registered first, so custom resources anywhere in it are checked
    /// against them. Returns the findings of each document, in order.
    pub fn validate_batch(&mut self, docs: &[Value]) -> Vec<Vec<Diagnostic>> {
        self.validate_batch_resources(docs)
            .into_iter()
            .map(|reports| reports.into_iter().flat_map(|r| r.findings).collect())
            .collect()
    }

    /// Like [`Validator::validate_batch`], with each resource's verdict.
    pub fn validate_batch_resources(&mut self, docs: &[Value]) -> Vec<Vec<ResourceReport>> {
        let mut crd_errors = self.register_batch_crds(docs);
        docs.iter()
            .enumerate()
            .map(|(index, doc)| {
                let mut reports = self.validate_resources(doc);
                if let Some(findings) = crd_errors.remove(&index)
                    && let Some(first) = reports.first_mut()
                {
                    first.verdict = Verdict::Error;
                    first.findings.extend(findings);
                }
                reports
            })
            .collect()
    }

    /// Like [`Validator::schema_requests`] for a whole batch, after
    /// registering the batch's CustomResourceDefinitions, so that no file is
    /// requested for a kind a CRD in the batch defines.
    pub fn schema_requests_batch(&mut self, docs: &[Value]) -> Vec<String> {
        self.register_batch_crds(docs);
        let mut out: Vec<String> = Vec::new();
        for doc in docs {
            for path in self.schema_requests(doc) {
                if !out.contains(&path) {
                    out.push(path);
                }
            }
        }
        out
    }

    /// Register every CRD in the batch (also inside `List`s); the findings
    /// of those that cannot be used, by document index.
    fn register_batch_crds(&mut self, docs: &[Value]) -> HashMap<usize, Vec<Diagnostic>> {
        let mut crd_errors: HashMap<usize, Vec<Diagnostic>> = HashMap::new();
        for (index, doc) in docs.iter().enumerate() {
            for (item, resource) in resources_of(doc) {
                if !is_crd(resource) {
                    continue;
                }
                if let Err(error) = self.add_crd(resource) {
                    crd_errors.entry(index).or_default().push(finding(
                        Severity::Error,
                        rules::INVALID_CRD,
                        error.to_string(),
                        item.map(|i| format!("/items/{i}")),
                    ));
                }
            }
        }
        crd_errors
    }

    /// Validate one document and report each resource in it: one report for
    /// a plain document, one per item for a `List`, none for an empty
    /// document (`null`) or an empty `List`.
    pub fn validate_resources(&mut self, doc: &Value) -> Vec<ResourceReport> {
        if doc.is_null() {
            return Vec::new();
        }
        let Some(map) = doc.as_object() else {
            return vec![report_error(
                None,
                doc,
                rules::NOT_AN_OBJECT,
                format!(
                    "document is a {}, not a mapping: a Kubernetes resource is a mapping with apiVersion and kind",
                    type_name(doc)
                ),
                None,
            )];
        };
        // kubeconform expands lists only once kind and apiVersion are known.
        if non_empty_str(doc, "kind").is_some_and(|k| k.eq_ignore_ascii_case("list"))
            && non_empty_str(doc, "apiVersion").is_some()
        {
            return match map.get("items") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.validate_one(item, Some(i)))
                    .collect(),
                Some(other) => vec![report_error(
                    None,
                    doc,
                    rules::NOT_AN_OBJECT,
                    format!(
                        "'items' of a List is a {}: it must be a sequence of resources",
                        type_name(other)
                    ),
                    Some("/items".to_owned()),
                )],
            };
        }
        vec![self.validate_one(doc, None)]
    }

    fn validate_one(&mut self, resource: &Value, item: Option<usize>) -> ResourceReport {
        let prefix = item.map(|i| format!("/items/{i}")).unwrap_or_default();
        // Findings about a whole resource point at the List item, if any.
        let whole = item.map(|_| prefix.clone());
        if !resource.is_object() {
            return report_error(
                item,
                resource,
                rules::NOT_AN_OBJECT,
                format!(
                    "resource is a {}, not a mapping with apiVersion and kind",
                    type_name(resource)
                ),
                Some(prefix),
            );
        }
        let Some(kind) = non_empty_str(resource, "kind") else {
            return report_error(
                item,
                resource,
                rules::MISSING_KIND,
                "missing 'kind' key: every resource needs a kind, e.g. `kind: Deployment`"
                    .to_owned(),
                whole.clone(),
            );
        };
        let Some(api_version) = non_empty_str(resource, "apiVersion") else {
            return report_error(
                item,
                resource,
                rules::MISSING_API_VERSION,
                format!(
                    "missing 'apiVersion' key: add the apiVersion of {kind}, e.g. `apiVersion: v1`"
                ),
                whole.clone(),
            );
        };
        let mut report = ResourceReport {
            item,
            api_version: Some(api_version.to_owned()),
            kind: Some(kind.to_owned()),
            name: resource_name(resource),
            verdict: Verdict::Valid,
            findings: Vec::new(),
        };
        if self.skip.matches(api_version, kind) {
            report.verdict = Verdict::Skipped;
            report.findings.push(finding(
                Severity::Info,
                rules::SKIPPED,
                format!("skipped {kind} ({api_version}): its kind is in skip"),
                whole,
            ));
            return report;
        }
        if self.reject.matches(api_version, kind) {
            report.verdict = Verdict::Error;
            report.findings.push(finding(
                Severity::Error,
                rules::REJECTED_KIND,
                format!("prohibited resource kind {kind}"),
                whole.clone(),
            ));
            return report;
        }
        let key = (api_version.to_owned(), kind.to_owned());
        let schema = match self.crds.get(&key) {
            Some(compiled) => Ok(compiled),
            None => {
                if !self.cache.contains_key(&key) {
                    let lookup = self.lookup(api_version, kind);
                    self.cache.insert(key.clone(), lookup);
                }
                match self.cache.get(&key) {
                    Some(Lookup::Found(compiled)) => Ok(compiled),
                    Some(Lookup::Missing(notes)) => Err(notes.as_slice()),
                    None => Err(&[][..]),
                }
            }
        };
        match schema {
            Ok(compiled) => {
                let normalized = integral_floats_as_integers(resource);
                let found = violations(compiled, normalized.as_ref().unwrap_or(resource));
                if !found.is_empty() {
                    report.verdict = Verdict::Invalid;
                    report.findings = found
                        .into_iter()
                        .map(|v| {
                            finding(
                                Severity::Error,
                                rules::INVALID,
                                v.message,
                                Some(format!("{prefix}{}", v.path)),
                            )
                        })
                        .collect();
                }
            }
            Err(notes) => {
                let mut message = format!(
                    "could not find schema for {kind} ({api_version}, Kubernetes {})",
                    self.version.shipped_string()
                );
                for note in notes {
                    message.push_str("; ");
                    message.push_str(note);
                }
                message.push_str(
                    ": add its CustomResourceDefinition to the repository, or a `schemaLocations` entry (--schema-location) that has it; `skip` (--skip) leaves the kind out",
                );
                let severity = match self.missing {
                    MissingSchemas::Error => Some(Severity::Error),
                    MissingSchemas::Warn => Some(Severity::Warning),
                    MissingSchemas::Skip => None,
                };
                report.verdict = if self.missing == MissingSchemas::Error {
                    Verdict::Error
                } else {
                    Verdict::Skipped
                };
                report.findings.push(match severity {
                    Some(severity) => finding(severity, rules::MISSING_SCHEMA, message, whole),
                    None => finding(
                        Severity::Info,
                        rules::SKIPPED,
                        format!("skipped {kind} ({api_version}): no schema found and missing schemas are skipped"),
                        whole,
                    ),
                });
            }
        }
        report
    }

    fn template_values(&self, api_version: &str, kind: &str) -> TemplateValues {
        TemplateValues::new(api_version, kind, &self.version.normalized, self.strict)
    }

    fn bundle(&mut self) -> Result<&mut Bundle, Error> {
        if self.bundle.is_none() {
            self.bundle = Some(Bundle::open(self.version.shipped)?);
        }
        self.bundle.as_mut().ok_or(Error::NoEmbeddedSchemas)
    }

    /// Try every location in order, as kubeconform does: a location without
    /// the file, with a file that is not JSON, or with a schema that does not
    /// compile is passed over.
    fn lookup(&mut self, api_version: &str, kind: &str) -> Lookup {
        let mut notes = Vec::new();
        let values = self.template_values(api_version, kind);
        let strict = self.strict;
        for location in self.locations.clone() {
            match location {
                Location::Embedded => {
                    let schema = match self.bundle().and_then(|b| b.kind_schema(api_version, kind))
                    {
                        Ok(Some(schema)) => schema,
                        Ok(None) => continue,
                        Err(error) => {
                            notes.push(error.to_string());
                            continue;
                        }
                    };
                    let mut schema = schema;
                    if strict {
                        strictify(&mut schema);
                    }
                    match compile(&schema, true) {
                        Ok(compiled) => return Lookup::Found(compiled),
                        Err(reason) => notes.push(format!(
                            "the embedded schema does not compile ({reason}): please report this"
                        )),
                    }
                }
                Location::Template(template) => {
                    let Ok(path) = expand_template(&template, &values) else {
                        continue;
                    };
                    let Some(bytes) = self.files.get(&path) else {
                        continue;
                    };
                    let Ok(schema) = serde_json::from_slice::<Value>(bytes) else {
                        notes.push(format!("{path} is not JSON"));
                        continue;
                    };
                    match compile(&schema, !has_schema_keyword(&schema)) {
                        Ok(compiled) => return Lookup::Found(compiled),
                        Err(reason) => {
                            notes.push(format!("{path} is not a usable JSON schema ({reason})"))
                        }
                    }
                }
            }
        }
        Lookup::Missing(notes)
    }
}

/// Expand one `schema_locations` entry for a resource, as
/// [`Validator::schema_requests`] does: `None` for `default` (the embedded
/// schemas). `kubernetes_version` is the option as given (`None` expands
/// `{{ .NormalizedKubernetesVersion }}` to `master`).
pub fn expand_schema_location(
    location: &str,
    api_version: &str,
    kind: &str,
    kubernetes_version: Option<&str>,
    strict: bool,
) -> Result<Option<String>, Error> {
    if location == DEFAULT_LOCATION {
        return Ok(None);
    }
    let version = resolve_version(kubernetes_version)?;
    let values = TemplateValues::new(api_version, kind, &version.normalized, strict);
    expand_template(&location_template(location), &values).map(Some)
}

fn has_schema_keyword(schema: &Value) -> bool {
    schema.get("$schema").and_then(Value::as_str).is_some()
}

/// Compile a schema the way kubeconform does: draft 4 unless the schema says
/// otherwise, formats asserted, `duration` accepting Go durations.
fn compile(schema: &Value, force_draft4: bool) -> Result<jsonschema::Validator, String> {
    let mut options = jsonschema::options()
        .with_format("duration", |s: &str| check_duration(s).is_ok())
        .should_validate_formats(true);
    if force_draft4 {
        options = options.with_draft(jsonschema::Draft::Draft4);
    }
    options.build(schema).map_err(|e| e.to_string())
}

/// kubeconform's validator counts `2.0` as an integer whatever the draft;
/// draft 4 (which the schemas need for boolean `exclusiveMinimum`) does not.
/// Rewriting integral floats as integers gives kubeconform's verdicts; the
/// copy is only made when the document has such a number.
fn integral_floats_as_integers(doc: &Value) -> Option<Value> {
    fn integral(n: &serde_json::Number) -> Option<serde_json::Number> {
        let f = n.as_f64().filter(|_| n.is_f64())?;
        if f.fract() != 0.0 || !f.is_finite() {
            return None;
        }
        // Exact conversions only: past 2^63 an f64 is no longer a usable i64.
        if f.abs() < 9.2e18 {
            return Some(serde_json::Number::from(f as i64));
        }
        None
    }
    fn has(v: &Value) -> bool {
        match v {
            Value::Number(n) => integral(n).is_some(),
            Value::Array(items) => items.iter().any(has),
            Value::Object(map) => map.values().any(has),
            _ => false,
        }
    }
    fn rewrite(v: &mut Value) {
        match v {
            Value::Number(n) => {
                if let Some(i) = integral(n) {
                    *n = i;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(rewrite),
            Value::Object(map) => map.values_mut().for_each(rewrite),
            _ => {}
        }
    }
    if !has(doc) {
        return None;
    }
    let mut copy = doc.clone();
    rewrite(&mut copy);
    Some(copy)
}

fn non_empty_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn resource_name(v: &Value) -> Option<String> {
    let metadata = v.get("metadata")?;
    non_empty_str(metadata, "name")
        .or_else(|| non_empty_str(metadata, "generateName"))
        .map(str::to_owned)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "sequence",
        Value::Object(_) => "mapping",
    }
}

fn report_error(
    item: Option<usize>,
    resource: &Value,
    rule: &'static str,
    message: String,
    path: Option<String>,
) -> ResourceReport {
    ResourceReport {
        item,
        api_version: non_empty_str(resource, "apiVersion").map(str::to_owned),
        kind: non_empty_str(resource, "kind").map(str::to_owned),
        name: resource_name(resource),
        verdict: Verdict::Error,
        findings: vec![finding(Severity::Error, rule, message, path)],
    }
}

/// A document's resources: the items of a `List`, or the document itself.
fn resources_of(doc: &Value) -> Vec<(Option<usize>, &Value)> {
    let is_list = non_empty_str(doc, "kind").is_some_and(|k| k.eq_ignore_ascii_case("list"));
    match (is_list, doc.get("items")) {
        (true, Some(Value::Array(items))) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Some(i), v))
            .collect(),
        (true, _) => Vec::new(),
        (false, _) => vec![(None, doc)],
    }
}

fn is_crd(v: &Value) -> bool {
    non_empty_str(v, "kind") == Some("CustomResourceDefinition")
        && non_empty_str(v, "apiVersion").is_some_and(|av| av.starts_with("apiextensions.k8s.io/"))
}

struct ParsedCrd {
    name: String,
    group: String,
    kind: String,
    versions: Vec<(String, Value)>,
}

fn parse_crd(crd: &Value) -> Result<ParsedCrd, Error> {
    let name = resource_name(crd).unwrap_or_else(|| "<unnamed>".to_owned());
    let fail = |reason: &str| Error::InvalidCrd {
        name: name.clone(),
        reason: reason.to_owned(),
    };
    if !is_crd(crd) {
        return Err(fail(
            "kind must be CustomResourceDefinition and apiVersion apiextensions.k8s.io/v1",
        ));
    }
    let spec = crd
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or_else(|| fail("spec is missing"))?;
    let group = non_empty_str(spec, "group").ok_or_else(|| fail("spec.group is missing"))?;
    let kind = spec
        .get("names")
        .and_then(|n| non_empty_str(n, "kind"))
        .ok_or_else(|| fail("spec.names.kind is missing"))?;
    // apiextensions.k8s.io/v1beta1 could put one schema for all versions here.
    let shared_schema = spec
        .get("validation")
        .and_then(|v| v.get("openAPIV3Schema"))
        .filter(|s| s.is_object());
    let permissive = || serde_json::json!({"type": "object"});
    let mut versions = Vec::new();
    match spec.get("versions") {
        Some(Value::Array(list)) if !list.is_empty() => {
            for (i, entry) in list.iter().enumerate() {
                let version = non_empty_str(entry, "name")
                    .ok_or_else(|| fail(&format!("spec.versions[{i}].name is missing")))?;
                if entry.get("served").and_then(Value::as_bool) == Some(false) {
                    continue;
                }
                let schema = entry
                    .get("schema")
                    .and_then(|s| s.get("openAPIV3Schema"))
                    .filter(|s| s.is_object())
                    .or(shared_schema)
                    .cloned()
                    .unwrap_or_else(permissive);
                versions.push((version.to_owned(), schema));
            }
        }
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            let version = non_empty_str(spec, "version").ok_or_else(|| {
                fail("spec.versions is empty: list the versions with their schemas")
            })?;
            versions.push((
                version.to_owned(),
                shared_schema.cloned().unwrap_or_else(permissive),
            ));
        }
        Some(_) => return Err(fail("spec.versions must be a sequence")),
    }
    Ok(ParsedCrd {
        name: name.clone(),
        group: group.to_owned(),
        kind: kind.to_owned(),
        versions,
    })
}
