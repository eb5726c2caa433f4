//! Running validators over objects: batches on rayon's pool, findings mapped
//! back to files and lines.

use std::sync::Arc;

use rayon::prelude::*;

use crate::manifest::Object;
use crate::report::{Diagnostic, Severity};
use crate::runtime::{self, LogLine, Manifest, Origin, Plugin, Runtime};

/// Objects per call: large enough to amortise instantiation and a plugin's
/// set-up (a schema bundle, compiled policies), small enough that a call
/// stays well inside its time bound and the pool stays busy.
pub const BATCH: usize = 256;

/// A validator with its configuration.
#[derive(Debug, Clone)]
pub struct Validator {
    pub plugin: Arc<Plugin>,
    /// JSON text, already checked against the plugin's schema.
    pub config: String,
}

/// What the validators said, with the plugins' log lines.
#[derive(Debug, Default)]
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    pub logs: Vec<(String, LogLine)>,
}

/// Runs every validator over every object.
pub fn run(runtime: &Runtime, validators: &[Validator], objects: &[Object]) -> Outcome {
    let wire: Vec<Manifest> = objects.par_iter().map(to_wire).collect();
    let jobs: Vec<(&Validator, usize)> = validators
        .iter()
        .flat_map(|v| (0..objects.len().div_ceil(BATCH)).map(move |chunk| (v, chunk)))
        .collect();
    let results: Vec<Outcome> = jobs
        .par_iter()
        .map(|(validator, chunk)| {
            let start = chunk * BATCH;
            let end = (start + BATCH).min(objects.len());
            let batch = objects.get(start..end).unwrap_or_default();
            let wire = wire.get(start..end).unwrap_or_default();
            call(runtime, validator, batch, wire)
        })
        .collect();
    let mut outcome = Outcome::default();
    for result in results {
        outcome.diagnostics.extend(result.diagnostics);
        outcome.logs.extend(result.logs);
    }
    outcome
}

fn to_wire(object: &Object) -> Manifest {
    Manifest {
        origin: Origin {
            file: object.file.to_string(),
            document: object.document,
            line: object.line,
        },
        json: serde_json::to_string(&object.value).unwrap_or_else(|_| "{}".to_owned()),
    }
}

fn call(runtime: &Runtime, validator: &Validator, batch: &[Object], wire: &[Manifest]) -> Outcome {
    let name = &validator.plugin.metadata.name;
    let input = describe(batch);
    match runtime.validate(&validator.plugin, wire, &validator.config, &input) {
        Ok(answer) => Outcome {
            diagnostics: answer
                .diagnostics
                .into_iter()
                .map(|d| convert(name, batch, d))
                .collect(),
            logs: answer.logs.into_iter().map(|l| (name.clone(), l)).collect(),
        },
        Err(error) => {
            let first = batch.first();
            let diagnostic = Diagnostic {
                severity: Severity::Error,
                rule: "manifold/plugin-failed".into(),
                plugin: name.clone(),
                message: error.to_string(),
                file: first.map(|o| o.file.to_string()),
                document: None,
                line: None,
                column: None,
                path: None,
                resource: None,
                target: None,
            };
            Outcome {
                diagnostics: vec![diagnostic],
                logs: Vec::new(),
            }
        }
    }
}

/// Names a batch in an error: its files.
fn describe(batch: &[Object]) -> String {
    let mut files: Vec<&str> = batch.iter().map(|o| &*o.file).collect();
    files.dedup();
    match files.as_slice() {
        [] => "an empty batch".into(),
        [one] => (*one).to_owned(),
        [first, rest @ ..] => format!("{first} and {} more files", rest.len()),
    }
}

/// A plugin's diagnostic, placed in its file.
fn convert(plugin: &str, batch: &[Object], d: runtime::Diagnostic) -> Diagnostic {
    let severity = match d.severity {
        runtime::Severity::Error => Severity::Error,
        runtime::Severity::Warning => Severity::Warning,
        runtime::Severity::Info => Severity::Info,
    };
    // Rule ids are namespaced by the plugin that emits them; a plugin cannot
    // speak in another one's name.
    let rule = if d
        .rule
        .strip_prefix(plugin)
        .is_some_and(|rest| rest.starts_with('/'))
    {
        d.rule
    } else {
        format!("{plugin}/{}", d.rule)
    };
    let object = d.manifest.and_then(|i| batch.get(i as usize));
    let (file, document, line, column, resource) = match (object, &d.location) {
        (Some(o), _) => (
            Some(o.file.to_string()),
            Some(o.document),
            // Line 0: a rendered object whose source has no lines (a template).
            Some(o.line_of(d.path.as_deref())).filter(|line| *line > 0),
            None,
            o.resource(),
        ),
        (None, Some(loc)) => (
            Some(loc.file.clone()),
            None,
            (loc.line > 0).then_some(loc.line),
            (loc.column > 0).then_some(loc.column),
            None,
        ),
        (None, None) => (None, None, None, None, None),
    };
    Diagnostic {
        severity,
        rule,
        plugin: plugin.to_owned(),
        message: d.message,
        file,
        document,
        line,
        column,
        path: d.path,
        resource,
        target: object.and_then(|o| o.target.as_deref().map(str::to_owned)),
    }
}
