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
    self, Location, LogLine, Manifest, Origin, Parts, Plugin, ReadSet, RepoFs, RunManifests,
    Runtime, Selections, Services, Verifier,
};

/// Most objects per call: large enough to amortise instantiation and a
/// plugin's set-up (a schema bundle, compiled policies, and for policies
/// that read `data.inventory`, the whole run parsed again), small enough
/// that a call stays well inside its time bound.
pub const MAX_BATCH: usize = 2048;

/// Fewest objects per call, but for the last.
const MIN_BATCH: usize = 64;

/// Objects per call for `documents` documents: each validator's share in
/// at least two calls per thread of the pool, so the pool stays busy, and
/// otherwise as few calls as [`MAX_BATCH`] allows. Where batches split
/// changes no answer (every call sees the whole run through `context`).
pub fn batch_size(documents: usize) -> usize {
    documents
        .div_ceil(2 * rayon::current_num_threads().max(1))
        .clamp(MIN_BATCH, MAX_BATCH)
}

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

/// Runs every validator over the objects of the run, or those `checked`
/// marks (the others are still seen through `context`); `fs` is what the
/// validators may read.
pub fn run(
    runtime: &Runtime,
    validators: &[Validator],
    objects: &[&Object],
    checked: Option<&[bool]>,
    fs: Option<RepoFs>,
    cache: Option<(&Cache, &Verifier)>,
) -> Outcome {
    let in_scope = |i: usize| checked.is_none_or(|c| c.get(i).copied().unwrap_or(false));
    let selections = Selections::new(
        objects
            .par_iter()
            .map(|o| match o.resource() {
                Some(r) => (format!("{}/{}", r.api_version, r.kind), r.kind),
                None => (String::new(), String::new()),
            })
            .collect(),
    );
    let root = fs.as_ref().map(|f| f.root().to_string_lossy().into_owned());
    let mut outcome = Outcome::default();

    let recall = cache.map(|(cache, verifier)| {
        Recall::load(
            cache,
            root.as_deref().unwrap_or(""),
            validators,
            objects,
            &in_scope,
            |verdict: &Verdict| {
                verdict.context.iter().all(|s| {
                    selections.digest(&s.kinds, |i| objects.get(i).map(|o| parts(o))) == s.digest
                }) && (is_empty(&verdict.reads) || verifier.unchanged(&verdict.reads))
            },
        )
    });

    // Per validator, the documents it still has to look at.
    let mut pending: Vec<(usize, Vec<usize>)> = Vec::new();
    for (v, validator) in validators.iter().enumerate() {
        let Some(recall) = &recall else {
            pending.push((v, (0..objects.len()).filter(|i| in_scope(*i)).collect()));
            continue;
        };
        let mut misses = Vec::new();
        let mut replayed = HashSet::new();
        for (i, verdict) in recall.known[v].iter().enumerate() {
            if !in_scope(i) {
                continue;
            }
            match verdict {
                Some(verdict) => {
                    replay(validator, objects[i], verdict, &mut replayed, &mut outcome)
                }
                None => misses.push(i),
            }
        }
        pending.push((v, misses));
    }

    let jobs: Vec<(usize, &[usize])> = pending
        .iter()
        .flat_map(|(v, misses)| {
            misses
                .chunks(batch_size(misses.len()))
                .map(move |chunk| (*v, chunk))
        })
        .collect();
    let results: Vec<(usize, Outcome, Learned)> = if jobs.is_empty() {
        Vec::new()
    } else {
        // Only now, with calls to make, is every manifest copied for the plugins.
        let wire: Vec<Manifest> = objects.par_iter().map(|o| to_wire(o)).collect();
        let run = Arc::new(RunManifests::new(wire, selections));
        let services = Services {
            fs,
            run: Some(run.clone()),
        };
        let remember = recall.is_some().then_some(&*run);
        jobs.par_iter()
            .map(|(v, indices)| {
                let (outcome, verdicts) = call(
                    runtime,
                    &validators[*v],
                    objects,
                    run.manifests(),
                    indices,
                    &services,
                    remember,
                );
                (*v, outcome, verdicts)
            })
            .collect()
    };
    let mut learned: Vec<Learned> = vec![Vec::new(); validators.len()];
    for (v, result, verdicts) in results {
        outcome.diagnostics.extend(result.diagnostics);
        outcome.logs.extend(result.logs);
        outcome.reads.merge(result.reads);
        learned[v].extend(verdicts);
    }
    if let Some(recall) = recall {
        recall.store(learned);
    }
    outcome
}

/// What the cache knows of a run's verdicts. The verdicts of all validators
/// on one target's documents are kept in one pack (a warm run of a large
/// repository reads a file per target, and a cold one creates as few);
/// inside a pack each is keyed by its validator's digest and its document's,
/// so a pack answers only for documents and validators that are unchanged.
struct Recall<'a> {
    cache: &'a Cache,
    /// Each validator's digest.
    validators: Vec<String>,
    /// Each object's digest (empty when out of scope).
    documents: Vec<String>,
    /// Per validator: each object's verdict, where one still holds.
    known: Vec<Vec<Option<Arc<Verdict>>>>,
    /// The objects of each target, with their packs.
    groups: Vec<Group>,
}

/// Verdicts of a call or replayed, by object index.
type Learned = Vec<(usize, Verdict)>;

/// Per validator, the verdicts found for a target's objects.
type Found = Vec<Vec<(usize, Arc<Verdict>)>>;

/// The objects of one target.
struct Group {
    members: Vec<usize>,
    pack: String,
    /// Whether the pack already holds exactly these objects' verdicts.
    exact: bool,
}

impl<'a> Recall<'a> {
    fn load(
        cache: &'a Cache,
        root: &str,
        validators: &[Validator],
        objects: &[&Object],
        in_scope: &(dyn Fn(usize) -> bool + Sync),
        holds: impl Fn(&Verdict) -> bool + Sync,
    ) -> Recall<'a> {
        let mut by_target: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
        for (i, object) in objects.iter().enumerate().filter(|(i, _)| in_scope(*i)) {
            by_target
                .entry(object.target.as_deref().unwrap_or(""))
                .or_default()
                .push(i);
        }
        let documents: Vec<String> = objects
            .par_iter()
            .enumerate()
            .map(|(i, o)| {
                if in_scope(i) {
                    document_digest(parts(o))
                } else {
                    String::new()
                }
            })
            .collect();
        let validators: Vec<String> = validators.iter().map(validator_digest).collect();
        let found: Vec<(Group, Found)> = by_target
            .into_par_iter()
            .map(|(target, members)| {
                let pack = cache::hash_parts(&["verdicts", root, target]);
                let stored = cache.verdicts(&pack);
                // A pack holds few distinct verdicts: each is judged once.
                let mut held: Vec<Option<bool>> = vec![None; stored.distinct()];
                let hits: Found = validators
                    .iter()
                    .map(|validator| {
                        members
                            .iter()
                            .filter_map(|i| {
                                let (index, verdict) = stored.get(validator, &documents[*i])?;
                                let holds =
                                    *held.get_mut(index)?.get_or_insert_with(|| holds(verdict));
                                holds.then(|| (*i, verdict.clone()))
                            })
                            .collect()
                    })
                    .collect();
                let found: usize = hits.iter().map(Vec::len).sum();
                let wanted = members.len() * validators.len();
                cache.count_verdicts(found, wanted - found);
                // Every verdict found, and nothing else in the pack.
                let exact = found == stored.len() && found == wanted;
                let group = Group {
                    members,
                    pack,
                    exact,
                };
                (group, hits)
            })
            .collect();
        let mut known: Vec<Vec<Option<Arc<Verdict>>>> =
            vec![vec![None; objects.len()]; validators.len()];
        let mut groups = Vec::with_capacity(found.len());
        for (group, hits) in found {
            for (v, hits) in hits.into_iter().enumerate() {
                for (i, verdict) in hits {
                    known[v][i] = Some(verdict);
                }
            }
            groups.push(group);
        }
        Recall {
            cache,
            validators,
            documents,
            known,
            groups,
        }
    }

    /// Writes back every pack that changed: new verdicts, or documents that
    /// are gone. A document whose call failed has no verdict and is asked
    /// again next time.
    fn store(mut self, learned: Vec<Learned>) {
        for (v, verdicts) in learned.into_iter().enumerate() {
            for (i, verdict) in verdicts {
                self.known[v][i] = Some(Arc::new(verdict));
            }
        }
        self.groups
            .par_iter()
            .filter(|group| !group.exact)
            .for_each(|group| {
                let rows: Vec<(&str, Vec<Option<&Verdict>>)> = group
                    .members
                    .iter()
                    .map(|i| {
                        let row = self.known.iter().map(|known| known[*i].as_deref());
                        (self.documents[*i].as_str(), row.collect())
                    })
                    .collect();
                self.cache
                    .put_verdicts(&group.pack, &self.validators, &rows);
            });
    }
}

/// What a verdict's key says of the validator: its plugin's bytes and its
/// configuration.
fn validator_digest(validator: &Validator) -> String {
    cache::hash_parts(&[
        "validator",
        &validator.plugin.metadata.digest,
        &validator.config,
    ])
}

/// What a verdict's key says of the document: the document as the plugin
/// is given it.
fn document_digest(document: Parts<'_>) -> String {
    cache::hash_parts(&[
        "document",
        document.file,
        &document.document.to_string(),
        &document.line.to_string(),
        document.json,
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
    verdict: &Verdict,
    replayed: &mut HashSet<String>,
    outcome: &mut Outcome,
) {
    let name = &validator.plugin.metadata.name;
    for finding in &verdict.findings {
        if !finding.about_document
            && !replayed.insert(serde_json::to_string(finding).unwrap_or_default())
        {
            continue;
        }
        let diagnostic = runtime::Diagnostic {
            severity: match finding.severity {
                Severity::Error => runtime::Severity::Error,
                Severity::Warning => runtime::Severity::Warning,
                Severity::Info => runtime::Severity::Info,
            },
            rule: finding.rule.clone(),
            message: finding.message.clone(),
            manifest: finding.about_document.then_some(0),
            path: finding.path.clone(),
            location: finding
                .location
                .clone()
                .map(|(file, line, column)| Location { file, line, column }),
        };
        outcome
            .diagnostics
            .push(convert(name, &[object], diagnostic));
    }
}

/// An object as [`to_wire`] hands it to the plugins, without a copy: digests
/// of what plugins are given are taken from it.
fn parts(object: &Object) -> Parts<'_> {
    Parts {
        file: &object.file,
        document: object.document,
        line: object.line,
        json: object.json(),
    }
}

fn to_wire(object: &Object) -> Manifest {
    Manifest {
        origin: Origin {
            file: object.file.to_string(),
            document: object.document,
            line: object.line,
        },
        json: object.json().to_owned(),
    }
}

/// Validates the objects at `indices`; with `remember` (the run, for
/// digests of what the call asked of it), also returns each one's verdict.
fn call(
    runtime: &Runtime,
    validator: &Validator,
    objects: &[&Object],
    wire: &[Manifest],
    indices: &[usize],
    services: &Services,
    remember: Option<&RunManifests>,
) -> (Outcome, Vec<(usize, Verdict)>) {
    let name = &validator.plugin.metadata.name;
    let batch: Vec<&Object> = indices.iter().map(|i| objects[*i]).collect();
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
            let verdicts = remember
                .map(|run| verdicts(run, indices, &answer))
                .unwrap_or_default();
            let outcome = Outcome {
                diagnostics: answer
                    .diagnostics
                    .into_iter()
                    .map(|d| convert(name, &batch, d))
                    .collect(),
                logs: answer.logs.into_iter().map(|l| (name.clone(), l)).collect(),
                reads: answer.reads,
            };
            (outcome, verdicts)
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
            let outcome = Outcome {
                diagnostics: vec![diagnostic],
                ..Outcome::default()
            };
            (outcome, Vec::new())
        }
    }
}

/// What a call said about each document of its batch. A failed call gives
/// none: failures (a timeout, a memory cap) are retried next time.
fn verdicts(
    run: &RunManifests,
    indices: &[usize],
    answer: &runtime::Validated,
) -> Vec<(usize, Verdict)> {
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
    indices
        .iter()
        .enumerate()
        .map(|(position, index)| {
            let mut findings: Vec<Finding> = answer
                .diagnostics
                .iter()
                .filter(|d| d.manifest == u32::try_from(position).ok())
                .map(finding)
                .collect();
            findings.extend(general.iter().cloned());
            let verdict = Verdict {
                findings,
                reads: answer.reads.clone(),
                context: context.clone(),
            };
            (*index, verdict)
        })
        .collect()
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

/// A plugin's diagnostic about `batch`, placed in its file; `d.manifest`
/// was checked to be inside the batch ([`runtime::answer::check_validated`]).
pub fn convert(plugin: &str, batch: &[&Object], d: runtime::Diagnostic) -> Diagnostic {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A warm run checks verdicts against digests taken from the objects; a
    /// cold one records them from the copies the plugins were given. They
    /// must agree, or no verdict would ever be replayed.
    #[test]
    fn selection_digests_from_objects_match_those_from_the_wire() {
        let objects: Vec<Object> = [
            (
                "a.yaml",
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}}),
            ),
            (
                "b.yaml",
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}),
            ),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (file, value))| Object::new(Arc::from(file), i as u32, 3, value))
        .collect();
        let keys = || {
            vec![
                ("apps/v1/Deployment".to_string(), "Deployment".to_string()),
                ("v1/ConfigMap".to_string(), "ConfigMap".to_string()),
            ]
        };
        let run = RunManifests::new(
            objects.iter().map(to_wire).collect(),
            Selections::new(keys()),
        );
        let from_objects = Selections::new(keys());
        for kinds in [vec!["*"], vec!["Deployment"], vec!["v1/ConfigMap"], vec![]] {
            let kinds: Vec<String> = kinds.into_iter().map(String::from).collect();
            assert_eq!(
                from_objects.digest(&kinds, |i| objects.get(i).map(parts)),
                run.digest(&kinds),
                "{kinds:?}"
            );
        }
        for (object, manifest) in objects.iter().zip(run.manifests()) {
            let wire = Parts {
                file: &manifest.origin.file,
                document: manifest.origin.document,
                line: manifest.origin.line,
                json: &manifest.json,
            };
            assert_eq!(document_digest(parts(object)), document_digest(wire));
        }
    }
}
