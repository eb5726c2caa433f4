//! Gatekeeper-style policies: ConstraintTemplates (Rego in
//! `spec.targets[].rego` + `libs`, or in `spec.targets[].code[]` with
//! `engine: Rego`) and the constraints that instantiate them.
//!
//! Each template gets its own regorus engine, as Gatekeeper isolates
//! templates: two templates may ship different libraries under the same
//! `lib.*` package. A constraint is evaluated by querying the template's
//! `violation` set with `input = {"review": ..., "parameters": ...}`.

pub(crate) mod matching;
pub(crate) mod review;

use manifold_yaml::Document;
use serde_json::{Value, json};

use crate::error::{Error, Location};
use crate::rego::{self, EngineSettings, RegoVersion};
use crate::{Finding, Severity};
use matching::{Match, Target};
use review::{Inventory, group_version, str_at};

/// Where one module of a template came from, to map Rego lines back to the
/// YAML file.
#[derive(Debug, Clone)]
struct ModuleOrigin {
    module: String,
    /// JSON-pointer-ish field path shown to users, e.g. `spec.targets[0].rego`.
    field: String,
    /// File line of the Rego text's first line, when known.
    first_line: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct Template {
    pub name: String,
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    pub kind: String,
    file: String,
    violation_path: String,
    engine: regorus::Engine,
}

#[derive(Debug)]
pub(crate) struct Constraint {
    pub kind: String,
    pub name: String,
    matcher: Match,
    /// `spec.parameters`, converted once for every evaluation.
    parameters: regorus::Value,
    severity: Severity,
}

/// Everything a template needs from its YAML document.
struct RegoSource {
    field: String,
    pointer: String,
    text: String,
}

/// Line of a Rego string's first line in its YAML file. The parser records
/// a field at its key's line; a multi-line Rego source is, in practice, a
/// block scalar (`rego: |`), whose content starts on the next line.
fn first_line(doc: &Document, pointer: &str, text: &str) -> Option<u32> {
    let key_line = doc.line_of(pointer)?;
    Some(if text.contains('\n') {
        key_line + 1
    } else {
        key_line
    })
}

fn template_sources(
    value: &Value,
) -> Result<Option<(RegoSource, Vec<RegoSource>, RegoVersion)>, String> {
    let Some(targets) = value.pointer("/spec/targets").and_then(Value::as_array) else {
        return Err("has no spec.targets list; add a target with Rego".to_string());
    };
    let libs_of =
        |libs: Option<&Value>, field: &str, pointer: &str| -> Result<Vec<RegoSource>, String> {
            match libs {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(j, lib)| match lib {
                        Value::String(text) => Ok(RegoSource {
                            field: format!("{field}[{j}]"),
                            pointer: format!("{pointer}/{j}"),
                            text: text.clone(),
                        }),
                        _ => Err(format!("{field}[{j}] is not a string of Rego")),
                    })
                    .collect(),
                Some(_) => Err(format!("{field} is not a list of Rego strings")),
            }
        };
    for (i, target) in targets.iter().enumerate() {
        if let Some(rego) = target.get("rego") {
            let Some(text) = rego.as_str() else {
                return Err(format!("spec.targets[{i}].rego is not a string"));
            };
            let main = RegoSource {
                field: format!("spec.targets[{i}].rego"),
                pointer: format!("/spec/targets/{i}/rego"),
                text: text.to_string(),
            };
            let libs = libs_of(
                target.get("libs"),
                &format!("spec.targets[{i}].libs"),
                &format!("/spec/targets/{i}/libs"),
            )?;
            // Gatekeeper compiles `spec.targets[].rego` as Rego v0.
            return Ok(Some((main, libs, RegoVersion::V0)));
        }
        let Some(code) = target.get("code").and_then(Value::as_array) else {
            continue;
        };
        for (k, entry) in code.iter().enumerate() {
            if entry.get("engine").and_then(Value::as_str) != Some("Rego") {
                continue;
            }
            let base = format!("spec.targets[{i}].code[{k}].source");
            let pointer = format!("/spec/targets/{i}/code/{k}/source");
            let Some(text) = entry.pointer("/source/rego").and_then(Value::as_str) else {
                return Err(format!("{base}.rego is missing or not a string"));
            };
            let version = match entry.pointer("/source/version").and_then(Value::as_str) {
                Some("v1") => RegoVersion::V1,
                None | Some("v0") => RegoVersion::V0,
                Some(other) => {
                    return Err(format!("{base}.version {other:?} is not \"v0\" or \"v1\""));
                }
            };
            let main = RegoSource {
                field: format!("{base}.rego"),
                pointer: format!("{pointer}/rego"),
                text: text.to_string(),
            };
            let libs = libs_of(
                entry.pointer("/source/libs"),
                &format!("{base}.libs"),
                &format!("{pointer}/libs"),
            )?;
            return Ok(Some((main, libs, version)));
        }
    }
    Ok(None)
}

impl Template {
    /// Compiles a ConstraintTemplate document. `Ok(None)` means it carries no
    /// Rego (a CEL-only template), which this validator cannot run.
    pub(crate) fn load(
        file: &str,
        doc: &Document,
        settings: EngineSettings,
    ) -> Result<Option<Template>, Error> {
        let value = &doc.value;
        let doc_line = Some(doc.line);
        let name = str_at(value, "/metadata/name").to_string();
        let template_error = |line: Option<u32>, message: String| Error::Template {
            location: Location::at(file, line),
            name: if name.is_empty() {
                "<unnamed>".to_string()
            } else {
                name.clone()
            },
            message,
        };
        if name.is_empty() {
            return Err(template_error(
                doc_line,
                "has no metadata.name; name the template".into(),
            ));
        }
        let kind = str_at(value, "/spec/crd/spec/names/kind").to_string();
        if kind.is_empty() {
            return Err(template_error(
                doc_line,
                "has no spec.crd.spec.names.kind; set the constraint kind it defines".into(),
            ));
        }
        let Some((main, libs, version)) =
            template_sources(value).map_err(|m| template_error(doc_line, m))?
        else {
            return Ok(None);
        };

        let mut engine = rego::new_engine(settings);
        let mut origins = Vec::new();
        let mut package = String::new();
        for (index, source) in std::iter::once(&main).chain(libs.iter()).enumerate() {
            let module = format!("{name}/{}", source.field);
            let origin = ModuleOrigin {
                module: module.clone(),
                field: source.field.clone(),
                first_line: first_line(doc, &source.pointer, &source.text),
            };
            match rego::add_module(&mut engine, &module, &source.text, version) {
                Ok(p) if index == 0 => package = p,
                Ok(_) => {}
                Err(failure) => return Err(located(file, &name, &[origin], failure)),
            }
            origins.push(origin);
        }
        rego::prepare(&mut engine).map_err(|f| located(file, &name, &origins, f))?;

        let main_module = format!("{name}/{}", main.field);
        if !engine
            .has_declared_rule_rooted_at(&main_module, "violation")
            .unwrap_or(false)
        {
            return Err(template_error(
                origins.first().and_then(|o| o.first_line).or(doc_line),
                format!(
                    "{} declares no `violation` rule in {package}; Gatekeeper reads \
                     violations from `violation[{{\"msg\": msg}}]`",
                    main.field
                ),
            ));
        }
        Ok(Some(Template {
            name,
            kind,
            file: file.to_string(),
            violation_path: format!("{package}.violation"),
            engine,
        }))
    }

    pub(crate) fn set_inventory(&mut self, inventory: &Inventory) -> Result<(), Error> {
        self.engine.clear_data();
        let data = rego::to_regorus(&json!({"inventory": inventory.data}))?;
        self.engine
            .add_data(data)
            .map_err(|e| Error::Engine(format!("cannot load inventory: {e}")))
    }

    /// Evaluates every constraint of this template against one review.
    /// Evaluates every constraint of this template against one review; a
    /// constraint that fails adds to `errors` without stopping the others.
    pub(crate) fn evaluate(
        &mut self,
        constraints: &[Constraint],
        review: &review::Review,
        inventory: &Inventory,
        findings: &mut Vec<Finding>,
        prints: &mut Vec<String>,
        errors: &mut Vec<Error>,
    ) {
        let object = &review.object;
        let (group, _) = group_version(str_at(object, "/apiVersion"));
        // An AdmissionReview may carry the namespace only on the request.
        let namespace = match str_at(object, "/metadata/namespace") {
            "" => str_at(&review.request, "/namespace"),
            ns => ns,
        };
        let target = Target {
            group,
            kind: str_at(object, "/kind"),
            name: str_at(object, "/metadata/name"),
            generate_name: str_at(object, "/metadata/generateName"),
            namespace,
            labels: matching::labels_of(object),
            namespace_labels: inventory.namespace_labels.get(namespace).cloned(),
        };
        for constraint in constraints {
            if constraint.kind != self.kind || !constraint.matcher.matches(&target) {
                continue;
            }
            if let Err(e) = self.evaluate_constraint(constraint, review, findings, prints) {
                errors.push(e);
            }
        }
    }

    fn evaluate_constraint(
        &mut self,
        constraint: &Constraint,
        review: &review::Review,
        findings: &mut Vec<Finding>,
        prints: &mut Vec<String>,
    ) -> Result<(), Error> {
        let mut input = regorus::Value::new_object();
        if let Ok(fields) = input.as_object_mut() {
            fields.insert(regorus::Value::from("review"), review.rego_request.clone());
            fields.insert(
                regorus::Value::from("parameters"),
                constraint.parameters.clone(),
            );
        }
        self.engine.set_input(input);
        let result = rego::eval_rule(&mut self.engine, &self.violation_path, &self.file);
        rego::take_prints(&mut self.engine, prints);
        let Some(value) = result? else {
            return Ok(());
        };
        let rule = format!("policy/{}", self.name);
        let Value::Array(items) = rego::to_json(&value)? else {
            return Err(self.invalid("a value that is not a set"));
        };
        for item in items {
            let Some(Value::String(message)) = item.get("msg") else {
                return Err(self.invalid(&format!(
                    "a violation without a string `msg` ({item}); emit \
                     violation[{{\"msg\": msg}}]"
                )));
            };
            findings.push(Finding {
                severity: constraint.severity,
                rule: rule.clone(),
                message: message.clone(),
                constraint: Some(constraint.name.clone()),
                details: item.get("details").cloned().unwrap_or(Value::Null),
            });
        }
        Ok(())
    }

    fn invalid(&self, message: &str) -> Error {
        Error::InvalidResult {
            rule: self.violation_path.clone(),
            policy_file: format!("{} (ConstraintTemplate {})", self.file, self.name),
            message: message.to_string(),
        }
    }
}

/// Maps a failure inside one of a template's modules to the YAML file line.
fn located(
    file: &str,
    template: &str,
    origins: &[ModuleOrigin],
    failure: rego::RegoFailure,
) -> Error {
    let origin = failure
        .module
        .as_deref()
        .and_then(|m| origins.iter().find(|o| o.module == m))
        .or(origins.first());
    let (line, context) = match origin {
        Some(o) => {
            let rego_line = failure.line.unwrap_or(1);
            let line = o
                .first_line
                .map(|l| l.saturating_add(rego_line).saturating_sub(1));
            let context = match failure.line {
                Some(rl) => format!(" in ConstraintTemplate {template} {} line {rl}", o.field),
                None => format!(" in ConstraintTemplate {template} {}", o.field),
            };
            (line, context)
        }
        None => (None, format!(" in ConstraintTemplate {template}")),
    };
    // Columns inside a block scalar are shifted by its indentation, so only
    // the (exact) line is reported.
    Error::RegoSyntax {
        location: Location {
            file: file.to_string(),
            line,
            column: None,
        },
        context,
        message: failure.message,
    }
}

fn severity_of_action(value: &Value) -> Result<Severity, String> {
    let rank = |action: &str| match action.to_ascii_lowercase().as_str() {
        "deny" => Ok(Severity::Error),
        "warn" => Ok(Severity::Warning),
        "dryrun" => Ok(Severity::Info),
        other => Err(format!(
            "enforcementAction {other:?} is not deny, warn, dryrun or scoped"
        )),
    };
    match value
        .pointer("/spec/enforcementAction")
        .and_then(Value::as_str)
    {
        None | Some("") => Ok(Severity::Error),
        Some(action) if action.eq_ignore_ascii_case("scoped") => {
            // Scoped constraints list actions per enforcement point; a
            // pre-deploy check reports the strictest of them.
            let actions = value
                .pointer("/spec/scopedEnforcementActions")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|a| a.get("action").and_then(Value::as_str))
                        .map(rank)
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?
                .unwrap_or_default();
            Ok(actions.into_iter().min().unwrap_or(Severity::Error))
        }
        Some(action) => rank(action),
    }
}

impl Constraint {
    pub(crate) fn load(file: &str, doc: &Document) -> Result<Constraint, Error> {
        let value = &doc.value;
        let kind = str_at(value, "/kind").to_string();
        let name = str_at(value, "/metadata/name").to_string();
        let error = |pointer: &str, message: String| Error::Constraint {
            location: Location::at(file, doc.line_of(pointer).or(Some(doc.line))),
            kind: kind.clone(),
            name: if name.is_empty() {
                "<unnamed>".to_string()
            } else {
                name.clone()
            },
            message,
        };
        if name.is_empty() {
            return Err(error(
                "",
                "has no metadata.name; name the constraint".into(),
            ));
        }
        let matcher: Match = match value.pointer("/spec/match") {
            None | Some(Value::Null) => Match::default(),
            Some(m) => serde_json::from_value(m.clone())
                .map_err(|e| error("/spec/match", format!("spec.match is malformed: {e}")))?,
        };
        matcher.validate().map_err(|e| error("/spec/match", e))?;
        let severity =
            severity_of_action(value).map_err(|e| error("/spec/enforcementAction", e))?;
        let parameters = rego::to_regorus(value.pointer("/spec/parameters").unwrap_or(&json!({})))?;
        Ok(Constraint {
            kind,
            name,
            matcher,
            parameters,
            severity,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn enforcement_actions() {
        let cases = [
            (json!({}), Ok(Severity::Error)),
            (
                json!({"spec": {"enforcementAction": "deny"}}),
                Ok(Severity::Error),
            ),
            (
                json!({"spec": {"enforcementAction": "warn"}}),
                Ok(Severity::Warning),
            ),
            (
                json!({"spec": {"enforcementAction": "dryrun"}}),
                Ok(Severity::Info),
            ),
            (
                json!({"spec": {"enforcementAction": "scoped", "scopedEnforcementActions": [{"action": "warn"}, {"action": "deny"}]}}),
                Ok(Severity::Error),
            ),
            (
                json!({"spec": {"enforcementAction": "scoped", "scopedEnforcementActions": [{"action": "dryrun"}]}}),
                Ok(Severity::Info),
            ),
        ];
        for (doc, expected) in cases {
            assert_eq!(severity_of_action(&doc).map_err(|_| ()), expected, "{doc}");
        }
        assert!(severity_of_action(&json!({"spec": {"enforcementAction": "block"}})).is_err());
    }
}
