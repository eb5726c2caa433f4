//! Running validators over objects: batches on rayon's pool, findings mapped
//! back to files and lines. Every call can see the whole run through the
//! `context` import (one shared list), so checks that span batches —
//! custom resources against CRDs, Gatekeeper's `data.inventory` — do not
//! depend on where the batches split.
//!
//! With a cache, each validator's verdict on each document is looked up
//! first; only the documents without a verdict that still holds are sent to
//! the plugin, and what it says about each is stored for the next run.

use std::collections::HashSet;
use std::sync::Arc;

use rayon::prelude::*;

use crate::cache::{self, Cache, Finding, Selection, Verdict};
use crate::manifest::Object;
use crate::report::{Diagnostic, Severity};
use crate::runtime::{
    self, Location, LogLine, Manifest, Origin, Plugin, ReadSet, RepoFs, RunManifests, Runtime,
    Services, Verifier,
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
    cache: Option<&Cache>,
) -> Outcome {
    let wire: Vec<Manifest> = objects.par_iter().map(to_wire).collect();
    let keys = objects
        .iter()
        .map(|o| match o.resource() {
            Some(r) => (format!("{}/{}", r.api_version, r.kind), r.kind),
            None => (String::new(), String::new()),
        })
        .collect();
    let verifier = fs.as_ref().map(Verifier::new);
    let run = Arc::new(RunManifests::new(wire, keys));
    let services = Services {
        fs,
        run: Some(run.clone()),
    };
    let wire = run.manifests();
    let mut outcome = Outcome::default();

    // Per validator, the documents it still has to look at.
    let mut pending: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut verdict_keys: Vec<Vec<String>> = Vec::new();
    for (v, validator) in validators.iter().enumerate() {
        let Some(cache) = cache else {
            pending.push((v, (0..objects.len()).collect()));
            continue;
        };
        let keys: Vec<String> = wire.par_iter().map(|m| verdict_key(validator, m)).collect();
        let holds = |verdict: &Verdict| {
            verdict
                .context
                .iter()
                .all(|s| run.digest(&s.kinds) == s.digest)
                && (is_empty(&verdict.reads)
                    || verifier
                        .as_ref()
                        .is_some_and(|f| f.unchanged(&verdict.reads)))
        };
        let found: Vec<Option<Verdict>> = keys
            .par_iter()
            .map(|key| cache.verdict(key, holds))
            .collect();
        let mut misses = Vec::new();
        let mut replayed = HashSet::new();
        for (i, verdict) in found.into_iter().enumerate() {
            match verdict {
                Some(verdict) => {
                    replay(validator, &objects[i], verdict, &mut replayed, &mut outcome)
                }
                None => misses.push(i),
            }
        }
        pending.push((v, misses));
        verdict_keys.push(keys);
    }

    let jobs: Vec<(usize, &[usize])> = pending
        .iter()
        .flat_map(|(v, misses)| misses.chunks(BATCH).map(move |chunk| (*v, chunk)))
        .collect();
    let results: Vec<Outcome> = jobs
        .par_iter()
        .map(|(v, indices)| {
            let store = cache.map(|c| (c, &*run, verdict_keys[*v].as_slice()));
            call(
                runtime,
                &validators[*v],
                objects,
                wire,
                indices,
                &services,
                store,
            )
        })
        .collect();
    for result in results {
        outcome.diagnostics.extend(result.diagnostics);
        outcome.logs.extend(result.logs);
        outcome.reads.merge(result.reads);
    }
    outcome
}

/// A verdict's key: the validator (plugin bytes and configuration) and the
/// document as the plugin is given it.
fn verdict_key(validator: &Validator, manifest: &Manifest) -> String {
    let origin = &manifest.origin;
    cache::hash_parts(&[
        "validation",
        &validator.plugin.metadata.digest,
        &validator.config,
        &origin.file,
        &origin.document.to_string(),
        &origin.line.to_string(),
        &manifest.json,
    ])
}

fn is_empty(reads: &ReadSet) -> bool {
    reads.files.is_empty() && reads.dirs.is_empty()
}

/// A cached verdict's findings, placed on the document as they are now.
/// Findings about a source file (not a document) were stored with every
/// document of their batch; they are reported once.
fn replay(
    validator: &Validator,
    object: &Object,
    verdict: Verdict,
    replayed: &mut HashSet<String>,
    outcome: &mut Outcome,
) {
    let name = &validator.plugin.metadata.name;
    for finding in verdict.findings {
        if !finding.about_document
            && !replayed.insert(serde_json::to_string(&finding).unwrap_or_default())
        {
            continue;
        }
        let diagnostic = runtime::Diagnostic {
            severity: match finding.severity {
                Severity::Error => runtime::Severity::Error,
                Severity::Warning => runtime::Severity::Warning,
                Severity::Info => runtime::Severity::Info,
            },
            rule: finding.rule,
            message: finding.message,
            manifest: finding.about_document.then_some(0),
            path: finding.path,
            location: finding
                .location
                .map(|(file, line, column)| Location { file, line, column }),
        };
        outcome
            .diagnostics
            .push(convert(name, &[object], diagnostic));
    }
    outcome.reads.merge(verdict.reads);
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

/// Validates the objects at `indices`; with `store`, keeps each one's
/// verdict under its key.
fn call(
    runtime: &Runtime,
    validator: &Validator,
    objects: &[Object],
    wire: &[Manifest],
    indices: &[usize],
    services: &Services,
    store: Option<(&Cache, &RunManifests, &[String])>,
) -> Outcome {
    let name = &validator.plugin.metadata.name;
    let batch: Vec<&Object> = indices.iter().map(|i| &objects[*i]).collect();
    // A run of consecutive documents (every batch of an uncached run) is
    // passed as it is; a gathered one is copied.
    let gathered: Vec<Manifest>;
    let manifests = match (indices.first(), indices.last()) {
        (Some(first), Some(last)) if last - first + 1 == indices.len() => &wire[*first..=*last],
        _ => {
            gathered = indices.iter().map(|i| wire[*i].clone()).collect();
            &gathered
        }
    };
    let input = describe(&batch);
    match runtime.validate(
        &validator.plugin,
        manifests,
        &validator.config,
        &input,
        services,
    ) {
        Ok(answer) => {
            if let Some((cache, run, keys)) = store {
                remember(cache, run, keys, indices, &answer);
            }
            Outcome {
                diagnostics: answer
                    .diagnostics
                    .into_iter()
                    .map(|d| convert(name, &batch, d))
                    .collect(),
                logs: answer.logs.into_iter().map(|l| (name.clone(), l)).collect(),
                reads: answer.reads,
            }
        }
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

/// Stores what a call said about each document of its batch. A failed call
/// stores nothing: failures (a timeout, a memory cap) are retried.
fn remember(
    cache: &Cache,
    run: &RunManifests,
    keys: &[String],
    indices: &[usize],
    answer: &runtime::Validated,
) {
    let context: Vec<Selection> = answer
        .asked
        .iter()
        .map(|kinds| Selection {
            kinds: kinds.clone(),
            digest: run.digest(kinds),
        })
        .collect();
    let finding = |d: &runtime::Diagnostic| Finding {
        severity: match d.severity {
            runtime::Severity::Error => Severity::Error,
            runtime::Severity::Warning => Severity::Warning,
            runtime::Severity::Info => Severity::Info,
        },
        rule: d.rule.clone(),
        message: d.message.clone(),
        about_document: d.manifest.is_some(),
        path: d.path.clone(),
        location: d
            .location
            .as_ref()
            .map(|l| (l.file.clone(), l.line, l.column)),
    };
    let general: Vec<Finding> = answer
        .diagnostics
        .iter()
        .filter(|d| d.manifest.is_none())
        .map(finding)
        .collect();
    for (position, index) in indices.iter().enumerate() {
        let Some(key) = keys.get(*index) else {
            continue;
        };
        let mut findings: Vec<Finding> = answer
            .diagnostics
            .iter()
            .filter(|d| d.manifest == u32::try_from(position).ok())
            .map(finding)
            .collect();
        findings.extend(general.iter().cloned());
        cache.put_verdict(
            key,
            &Verdict {
                findings,
                reads: answer.reads.clone(),
                context: context.clone(),
            },
        );
    }
}

/// Names a batch in an error: its files.
fn describe(batch: &[&Object]) -> String {
    let mut files: Vec<&str> = batch.iter().map(|o| &*o.file).collect();
    files.dedup();
    match files.as_slice() {
        [] => "an empty batch".into(),
        [one] => (*one).to_owned(),
        [first, rest @ ..] => format!("{first} and {} more files", rest.len()),
    }
}

/// A plugin's diagnostic, placed in its file.
fn convert(plugin: &str, batch: &[&Object], d: runtime::Diagnostic) -> Diagnostic {
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
    let object = d.manifest.and_then(|i| batch.get(i as usize)).copied();
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
