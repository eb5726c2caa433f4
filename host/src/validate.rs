//! Running validators over objects: batches on rayon's pool, findings mapped
//! back to files and lines. Every call can see the whole run through the
//! `context` import (one shared list), so checks that span batches —
//! custom resources against CRDs, Gatekeeper's `data.inventory` — do not
//! depend on where the batches split.

use std::sync::Arc;

use rayon::prelude::*;

use crate::manifest::Object;
use crate::report::{Diagnostic, Severity};
use crate::runtime::{
    self, LogLine, Manifest, Origin, Plugin, ReadSet, RepoFs, RunManifests, Runtime, Services,
};

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

/// What the validators said, with the plugins' log lines and what they read.
#[derive(Debug, Default)]
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    pub logs: Vec<(String, LogLine)>,
    pub reads: ReadSet,
}

/// Runs every validator over every object; `fs` is what they may read.
pub fn run(
    runtime: &Runtime,
    validators: &[Validator],
    objects: &[Object],
    fs: Option<RepoFs>,
) -> Outcome {
    let wire: Vec<Manifest> = objects.par_iter().map(to_wire).collect();
    let keys = objects
        .iter()
        .map(|o| match o.resource() {
            Some(r) => (format!("{}/{}", r.api_version, r.kind), r.kind),
            None => (String::new(), String::new()),
        })
        .collect();
    let services = Services {
        fs,
        run: Some(Arc::new(RunManifests::new(wire, keys))),
    };
    let wire = services.run.as_ref().map_or(&[][..], |r| r.manifests());
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
            call(runtime, validator, batch, wire, &services)
        })
        .collect();
    let mut outcome = Outcome::default();
    for result in results {
        outcome.diagnostics.extend(result.diagnostics);
        outcome.logs.extend(result.logs);
        outcome.reads.merge(result.reads);
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

fn call(
    runtime: &Runtime,
    validator: &Validator,
    batch: &[Object],
    wire: &[Manifest],
    services: &Services,
) -> Outcome {
    let name = &validator.plugin.metadata.name;
    let input = describe(batch);
    match runtime.validate(&validator.plugin, wire, &validator.config, &input, services) {
        Ok(answer) => Outcome {
            diagnostics: answer
                .diagnostics
                .into_iter()
                .map(|d| convert(name, batch, d))
                .collect(),
            logs: answer.logs.into_iter().map(|l| (name.clone(), l)).collect(),
            reads: answer.reads,
        },
        Err(error) => {
            // A failure the plugin reports itself (bad configuration, a
            // policy that does not compile) is the same for every batch:
            // placed at its own location, not at a batch's first file, it
            // shows once after the report's deduplication.
            let (file, line, message) = match &error.failure {
                runtime::CallFailure::Reported(failure) => (
                    failure.location.as_ref().map(|l| l.file.clone()),
                    failure.location.as_ref().map(|l| l.line).filter(|l| *l > 0),
                    format!("plugin `{name}`: {}", error.failure),
                ),
                _ => (
                    batch.first().map(|o| o.file.to_string()),
                    None,
                    error.to_string(),
                ),
            };
            let diagnostic = Diagnostic {
                severity: Severity::Error,
                rule: "manifold/plugin-failed".into(),
                plugin: name.clone(),
                message,
                file,
                document: None,
                line,
                column: None,
                path: None,
                resource: None,
                target: None,
            };
            Outcome {
                diagnostics: vec![diagnostic],
                ..Outcome::default()
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

/// A plugin's diagnostic about `batch`, placed in its file; `d.manifest`
/// was checked to be inside the batch ([`runtime::answer::check_validated`]).
pub fn convert(plugin: &str, batch: &[Object], d: runtime::Diagnostic) -> Diagnostic {
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
    // Paths are reported within the document: an item of a `List` is
    // `/items/N` in its file.
    let path = match object {
        Some(o) if !o.prefix.is_empty() => {
            Some(format!("{}{}", o.prefix, d.path.as_deref().unwrap_or("")))
        }
        _ => d.path.clone(),
    };
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
        path,
        resource,
        target: object.and_then(|o| o.target.as_deref().map(str::to_owned)),
    }
}
