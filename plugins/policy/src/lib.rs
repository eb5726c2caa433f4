//! Rego policy validation for manifold, evaluated with regorus (pure Rust,
//! builds for wasm32-wasip2).
//!
//! Two styles users already run are supported side by side in one
//! [`PolicySet`]:
//!
//! * **conftest**: `.rego` files whose `deny`/`violation`/`warn` rules (and
//!   `deny_*`-style variants) in package `main` (or chosen namespaces) are
//!   evaluated with the manifest as `input`; caller-supplied data documents
//!   are merged under `data`.
//! * **Gatekeeper**: `ConstraintTemplate` documents plus constraints of the
//!   kinds they define, evaluated with `input.review` shaped like an
//!   admission request, `input.parameters` from the constraint, the
//!   constraint's `spec.match` applied, and `data.inventory` built from the
//!   other manifests.
//!
//! Inputs are recognised by content: a source whose name ends in `.rego` is
//! conftest policy; YAML/JSON sources are split into documents, and
//! documents of kind `ConstraintTemplate` are templates while documents whose
//! kind a loaded template defines are constraints.
//!
//! Policies are compiled once by [`PolicySet::load`] (or
//! [`PolicySet::from_config`] from the plugin's JSON [`PolicyConfig`]);
//! [`PolicySet::evaluate`] then reuses the prepared engines for every
//! manifest. Rego `print` output is collected for [`PolicySet::take_prints`].
//!
//! Where regorus evaluates differently from OPA on real policies, sources
//! are rewritten before compiling (line numbers preserved) and `sprintf` is
//! replaced by a Go-`fmt` implementation; see the `compat` and `gofmt`
//! modules for the list.

mod builtins;
mod compat;
mod config;
mod conftest;
mod error;
mod gatekeeper;
mod gofmt;
pub mod plugin;
mod rego;

use std::time::Duration;

use serde_json::Value;

pub use config::PolicyConfig;
pub use conftest::Namespaces;
pub use error::{Error, Location};
pub use rego::RegoVersion;

use conftest::ConftestPolicies;
use gatekeeper::review::{self, Inventory};
use gatekeeper::{Constraint, Template};

/// A policy file as the caller has it: a name (used in every message about
/// it) and its text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// Rego by name, or by content when the caller's name carries no
    /// extension: the first line that is not blank or a comment declares a
    /// package (which no Kubernetes YAML document does).
    fn is_rego(&self) -> bool {
        self.name.ends_with(".rego")
            || self
                .text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .is_some_and(|l| l.starts_with("package ") || l.starts_with("package\t"))
    }
}

/// How loading and evaluation behave.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// conftest namespaces (packages) whose rules are queried; default
    /// `main`.
    pub namespaces: Namespaces,
    /// Syntax of `.rego` files. Gatekeeper templates are always Rego v0
    /// unless a `code[]` entry says `version: v1`.
    pub rego_version: RegoVersion,
    /// conftest `--data` documents (YAML or JSON), deep-merged under `data`.
    pub data: Vec<Source>,
    /// Wall-clock budget per rule evaluation, enforced by regorus. `None`
    /// leaves bounding runaway policies to the host's time limit (and keeps
    /// the library from reading the clock).
    pub execution_limit: Option<Duration>,
    /// Make builtin errors (e.g. `to_number("x")`) fail evaluation instead
    /// of leaving the expression undefined, like `opa eval --strict-builtin-errors`.
    pub strict_builtin_errors: bool,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// conftest `deny`/`violation`; Gatekeeper `enforcementAction: deny`.
    Error,
    /// conftest `warn`; Gatekeeper `enforcementAction: warn`.
    Warning,
    /// Gatekeeper `enforcementAction: dryrun`.
    Info,
}

/// One policy result for one manifest.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// `policy/<namespace>.<rule>` for conftest (e.g. `policy/main.deny`),
    /// `policy/<template name>` for Gatekeeper (e.g.
    /// `policy/k8srequiredlabels`).
    pub rule: String,
    pub message: String,
    /// The Gatekeeper constraint's `metadata.name`.
    pub constraint: Option<String>,
    /// Gatekeeper `details`, or the extra fields of a conftest result
    /// object; `Null` when there are none.
    pub details: Value,
}

/// Everything one manifest produced: findings of the rules that worked and
/// errors of those that failed.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub errors: Vec<Error>,
}

/// Something in the inputs that was understood but cannot be enforced;
/// worth showing to the user, not worth failing for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Notice {
    pub location: Location,
    pub message: String,
}

/// Compiled policies, ready to evaluate manifests.
///
/// ```
/// use manifold_plugin_policy::{LoadOptions, PolicySet, Severity, Source};
/// use serde_json::json;
///
/// let policy = Source::new(
///     "policy/labels.rego",
///     "package main\nimport rego.v1\n\
///      deny contains msg if {\n  not input.metadata.labels.team\n  \
///      msg := sprintf(\"%s has no team label\", [input.metadata.name])\n}\n",
/// );
/// let mut set = PolicySet::load(&[policy], &LoadOptions::default())?;
/// let manifests = [json!({"kind": "ConfigMap", "metadata": {"name": "settings"}})];
/// set.set_inventory(&manifests)?;
/// let findings = set.evaluate(&manifests[0])?;
/// assert_eq!(findings[0].severity, Severity::Error);
/// assert_eq!(findings[0].rule, "policy/main.deny");
/// assert_eq!(findings[0].message, "settings has no team label");
/// # Ok::<(), manifold_plugin_policy::Error>(())
/// ```
#[derive(Debug)]
pub struct PolicySet {
    conftest: Option<ConftestPolicies>,
    templates: Vec<Template>,
    constraints: Vec<Constraint>,
    inventory: Inventory,
    prints: Vec<String>,
    notices: Vec<Notice>,
}

/// A YAML/JSON document tagged with the file it came from.
#[derive(Debug, Clone)]
pub struct SourceDocument {
    pub file: String,
    pub document: manifold_yaml::Document,
}

fn parse_yaml(source: &Source, what: &'static str) -> Result<Vec<manifold_yaml::Document>, Error> {
    let options = manifold_yaml::ParseOptions {
        positions: true,
        ..manifold_yaml::ParseOptions::default()
    };
    manifold_yaml::parse_documents(&source.text, &options).map_err(|e| Error::Parse {
        location: Location {
            file: source.name.clone(),
            line: Some(e.line),
            column: Some(e.column),
        },
        what,
        message: e.message,
    })
}

impl PolicySet {
    /// Loads `.rego` files and YAML/JSON files holding ConstraintTemplates
    /// and constraints (other documents in them are ignored and reported as
    /// [`Notice`]s).
    pub fn load(sources: &[Source], opts: &LoadOptions) -> Result<PolicySet, Error> {
        let mut rego_files = Vec::new();
        let mut documents = Vec::new();
        for source in sources {
            if source.is_rego() {
                rego_files.push(source.clone());
            } else {
                for document in parse_yaml(source, "policy document")? {
                    documents.push(SourceDocument {
                        file: source.name.clone(),
                        document,
                    });
                }
            }
        }
        Self::from_parts(&rego_files, &documents, opts)
    }

    /// Like [`PolicySet::load`] for callers that already parsed the YAML
    /// (with `positions: true` for exact template line numbers).
    pub fn from_parts(
        rego_files: &[Source],
        documents: &[SourceDocument],
        opts: &LoadOptions,
    ) -> Result<PolicySet, Error> {
        let mut names = std::collections::BTreeSet::new();
        for source in rego_files {
            if !names.insert(source.name.as_str()) {
                return Err(Error::DuplicateSource {
                    name: source.name.clone(),
                });
            }
        }
        let settings = rego::EngineSettings {
            execution_limit: opts.execution_limit,
            strict_builtin_errors: opts.strict_builtin_errors,
        };
        let mut notices = Vec::new();

        let mut templates: Vec<Template> = Vec::new();
        let mut cel_only_kinds = Vec::new();
        for doc in documents {
            if review::str_at(&doc.document.value, "/kind") != "ConstraintTemplate" {
                continue;
            }
            let line = Some(doc.document.line);
            match Template::load(&doc.file, &doc.document, settings)? {
                Some(template) => {
                    if let Some(other) = templates.iter().find(|t| t.kind == template.kind) {
                        return Err(Error::Template {
                            location: Location::at(&doc.file, line),
                            name: template.name,
                            message: format!(
                                "defines constraint kind {} which template {} already \
                                 defines; keep one of them",
                                other.kind, other.name
                            ),
                        });
                    }
                    templates.push(template);
                }
                None => {
                    let kind = review::str_at(&doc.document.value, "/spec/crd/spec/names/kind");
                    cel_only_kinds.push(kind.to_string());
                    notices.push(Notice {
                        location: Location::at(&doc.file, line),
                        message: format!(
                            "ConstraintTemplate {} has no Rego code (only CEL, which this \
                             validator does not run); its constraints are not checked",
                            review::str_at(&doc.document.value, "/metadata/name")
                        ),
                    });
                }
            }
        }

        let mut constraints = Vec::new();
        for doc in documents {
            let value = &doc.document.value;
            let kind = review::str_at(value, "/kind");
            let line = Some(doc.document.line);
            if kind == "ConstraintTemplate" {
                continue;
            }
            if templates.iter().any(|t| t.kind == kind) {
                constraints.push(Constraint::load(&doc.file, &doc.document)?);
            } else if cel_only_kinds.iter().any(|k| k == kind) {
                continue;
            } else if review::group_version(review::str_at(value, "/apiVersion")).0
                == "constraints.gatekeeper.sh"
            {
                return Err(Error::Constraint {
                    location: Location::at(&doc.file, line),
                    kind: kind.to_string(),
                    name: review::str_at(value, "/metadata/name").to_string(),
                    message: format!(
                        "no loaded ConstraintTemplate defines kind {kind}; add its template \
                         to the policy files"
                    ),
                });
            } else if !value.is_null() {
                notices.push(Notice {
                    location: Location::at(&doc.file, line),
                    message: format!(
                        "document of kind {kind:?} is neither a ConstraintTemplate nor a \
                         constraint; ignored"
                    ),
                });
            }
        }

        let mut data = Vec::new();
        for source in &opts.data {
            for doc in parse_yaml(source, "data document")? {
                if doc.value.is_null() {
                    continue;
                }
                if !doc.value.is_object() {
                    return Err(Error::Data {
                        location: Location::at(&source.name, Some(doc.line)),
                        message: "a data document must be a mapping".to_string(),
                    });
                }
                data.push((source.name.clone(), doc.value));
            }
        }
        let conftest = if rego_files.is_empty() {
            None
        } else {
            let files: Vec<&Source> = rego_files.iter().collect();
            Some(ConftestPolicies::load(
                &files,
                &data,
                &opts.namespaces,
                opts.rego_version,
                settings,
            )?)
        };

        Ok(PolicySet {
            conftest,
            templates,
            constraints,
            inventory: Inventory::default(),
            prints: Vec::new(),
            notices,
        })
    }

    /// Replaces `data.inventory` (Gatekeeper's replicated cluster state)
    /// with these objects, typically every manifest of the render.
    pub fn set_inventory(&mut self, objects: &[Value]) -> Result<(), Error> {
        self.inventory = review::build_inventory(objects);
        for template in &mut self.templates {
            template.set_inventory(&self.inventory)?;
        }
        Ok(())
    }

    /// Evaluates every loaded policy against one manifest (an
    /// `AdmissionReview` is reviewed as its `request`). Fails with the first
    /// error if any rule failed; [`PolicySet::evaluate_all`] keeps going.
    pub fn evaluate(&mut self, manifest: &Value) -> Result<Vec<Finding>, Error> {
        let mut evaluation = self.evaluate_all(manifest);
        if evaluation.errors.is_empty() {
            Ok(evaluation.findings)
        } else {
            Err(evaluation.errors.swap_remove(0))
        }
    }

    /// Like [`PolicySet::evaluate`], but a rule or constraint that fails
    /// is reported in [`Evaluation::errors`] while every other one still
    /// produces its findings.
    pub fn evaluate_all(&mut self, manifest: &Value) -> Evaluation {
        let mut evaluation = Evaluation::default();
        if let Some(conftest) = self.conftest.as_mut().filter(|c| c.has_rules()) {
            match rego::to_regorus(manifest) {
                Ok(input) => conftest.evaluate(
                    &input,
                    &mut evaluation.findings,
                    &mut self.prints,
                    &mut evaluation.errors,
                ),
                Err(e) => evaluation.errors.push(e),
            }
        }
        if !self.constraints.is_empty() {
            match review::review_of(manifest) {
                Ok(review) => {
                    for template in &mut self.templates {
                        template.evaluate(
                            &self.constraints,
                            &review,
                            &self.inventory,
                            &mut evaluation.findings,
                            &mut self.prints,
                            &mut evaluation.errors,
                        );
                    }
                }
                Err(e) => evaluation.errors.push(e),
            }
        }
        evaluation
    }

    /// conftest `--combine`: evaluates the conftest rules once with every
    /// manifest as `input`, an array of `{"path": file, "contents": doc}`,
    /// for policies that compare manifests with each other. Gatekeeper
    /// constraints are not evaluated here (use `set_inventory`).
    pub fn evaluate_combined(
        &mut self,
        manifests: &[(String, Value)],
    ) -> Result<Vec<Finding>, Error> {
        let mut findings = Vec::new();
        if let Some(conftest) = &mut self.conftest {
            let combined = Value::Array(
                manifests
                    .iter()
                    .map(|(path, contents)| {
                        let mut entry = serde_json::Map::new();
                        entry.insert("path".to_string(), Value::String(path.clone()));
                        entry.insert("contents".to_string(), contents.clone());
                        Value::Object(entry)
                    })
                    .collect(),
            );
            let input = rego::to_regorus(&combined)?;
            let mut errors = Vec::new();
            conftest.evaluate(&input, &mut findings, &mut self.prints, &mut errors);
            if !errors.is_empty() {
                return Err(errors.swap_remove(0));
            }
        }
        Ok(findings)
    }

    /// Output of Rego `print` calls since the last call, in order.
    pub fn take_prints(&mut self) -> Vec<String> {
        std::mem::take(&mut self.prints)
    }

    /// Things noticed while loading that do not stop evaluation.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// Names of loaded ConstraintTemplates, in load order.
    pub fn template_names(&self) -> Vec<&str> {
        self.templates.iter().map(|t| t.name.as_str()).collect()
    }

    /// `(kind, name)` of loaded constraints, in load order.
    pub fn constraint_names(&self) -> Vec<(&str, &str)> {
        self.constraints
            .iter()
            .map(|c| (c.kind.as_str(), c.name.as_str()))
            .collect()
    }

    /// conftest rules that are queried, e.g. `data.main.deny`.
    pub fn conftest_rules(&self) -> Vec<String> {
        self.conftest
            .as_ref()
            .map(|c| c.rule_paths())
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::Source;

    #[test]
    fn rego_is_recognised_by_name_or_content() {
        let cases = [
            ("policy.rego", "anything", true),
            (
                "inline",
                "# comment\n\npackage main\ndeny[m] { m := 1 }",
                true,
            ),
            ("inline", "package\tmain", true),
            ("template.yaml", "apiVersion: v1\nkind: ConfigMap\n", false),
            ("x.yaml", "# package main\nkind: List\n", false),
            ("empty", "", false),
        ];
        for (name, text, expected) in cases {
            assert_eq!(
                Source::new(name, text).is_rego(),
                expected,
                "{name}: {text}"
            );
        }
    }
}
