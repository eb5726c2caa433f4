//! In-process measurements through the library: `manifold check` stage by
//! stage, plugin instantiation, and the floor (reading and re-printing the
//! corpus with no rendering or checking at all).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use manifold::cache::Cache;
use manifold::config::{Config, ValidatorSetting};
use manifold::flags::{self, PolicyFlags, SchemaFlags};
use manifold::manifest::Object;
use manifold::registry::{self, Registry};
use manifold::report::{Report, Severity};
use manifold::runtime::{
    Limits, Manifest, Origin, RepoFs, RunManifests, Runtime, RuntimeOptions, Selections, Services,
    Verifier,
};
use manifold::{discover, output, pipeline, validate};
use rayon::prelude::*;

use crate::measure::{Usage, timed};

pub type Error = Box<dyn std::error::Error>;

/// A loaded repository: what `manifold check` has before it discovers.
pub struct Setup {
    root: PathBuf,
    config: Config,
    applied: flags::Applied,
    pub registry: Arc<Registry>,
    pub validators: Vec<validate::Validator>,
}

/// The compiled-plugin cache lives in `<cache>/plugins`, as the CLI keeps it.
pub fn setup(root: &Path, cache: &Path) -> Result<Setup, Error> {
    let root = std::fs::canonicalize(root)?;
    let mut config = Config::load(&root.join("manifold.yaml"))?;
    let applied = flags::apply(
        &mut config,
        &SchemaFlags::default(),
        &PolicyFlags::default(),
        &root,
        &root,
    )?;
    // As the CLI does: policy and data folders are context, not targets.
    config.ignore.extend(applied.excluded_under(&root));
    let threads = u32::try_from(rayon::current_num_threads()).unwrap_or(u32::MAX);
    let registry = Registry::new(Runtime::new(&RuntimeOptions {
        limits: Limits::default(),
        precompiled_dir: Some(cache.join("plugins")),
        max_instances: threads.saturating_mul(4),
    })?);
    // As `manifold check` chooses them: every built-in validator that
    // manifold.yaml does not turn off, with its section.
    let mut validators = Vec::new();
    for plugin in registry.builtins(Some(registry::Kind::Validate)) {
        let plugin = plugin?;
        let section = match config.validators.get(&plugin.metadata.name) {
            Some(ValidatorSetting::Disabled) => continue,
            Some(ValidatorSetting::Enabled(section)) => section.clone(),
            None => serde_json::json!({}),
        };
        validators.push(validate::Validator {
            plugin,
            config: section.to_string(),
        });
    }
    for result in registry.builtins(Some(registry::Kind::Render)) {
        result?;
    }
    Ok(Setup {
        root,
        config,
        applied,
        registry,
        validators,
    })
}

/// One stage's cost and what it handled.
pub struct Stage {
    pub name: String,
    pub usage: Usage,
    pub note: String,
}

/// What the stage run found, to compare with the CLI's.
pub struct Counts {
    pub targets: usize,
    pub documents: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// `manifold check` then `render --out`, stage by stage, as the CLI runs
/// them, with an empty result cache under `cache` (compiled plugins kept):
/// discovery, render, validate (all validators, then each alone and
/// uncached), report, write; then render and validate again with the cache
/// warm, which is what a no-change `check` does.
pub fn check_by_stage(
    root: &Path,
    cache: &Path,
    out: &Path,
) -> Result<(Vec<Stage>, Counts), Error> {
    empty_results(cache);
    let _ = std::fs::remove_dir_all(out);
    let mut stages = Vec::new();
    let (setup, usage) = timed(|| setup(root, cache));
    let setup = setup?;
    stages.push(Stage {
        name: "setup: config, load plugins (compiled)".into(),
        usage,
        note: format!("{} validators, 2 renderers", setup.validators.len()),
    });
    let root = &setup.root;

    let (discovered, usage) = timed(|| discover::targets(root, &setup.config));
    let discovered = discovered?;
    let targets = discovered.targets;
    let count = targets.len();
    stages.push(Stage {
        name: "discover".into(),
        usage,
        note: format!("{count} targets"),
    });

    let fs = || {
        RepoFs::new(root)
            .ok()
            .map(|fs| fs.with_grants(&setup.applied.grants))
    };
    let render_cache = Cache::open(cache)?;
    // As the CLI does: one view of the disk per run, seeded by discovery.
    let verifier = Verifier::with_snapshot(
        &fs().ok_or("the repository cannot be read")?,
        discovered.snapshot,
    );
    let (results, usage) = timed(|| {
        pipeline::run(
            &setup.registry,
            root,
            targets.clone(),
            Some((&render_cache, &verifier)),
            setup.applied.duplicate_keys,
            &|| {},
        )
    });
    let objects: Vec<Object> = results.iter().flat_map(|r| r.objects.clone()).collect();
    let failed = results.iter().filter(|r| r.failed).count();
    stages.push(Stage {
        name: "render (cache empty)".into(),
        usage,
        note: format!("{} documents, {failed} targets failed", objects.len()),
    });

    let objects: Vec<&Object> = objects.iter().collect();
    let (outcome, usage) = timed(|| {
        validate::run(
            setup.registry.runtime(),
            &setup.validators,
            &objects,
            None,
            fs(),
            Some((&render_cache, &verifier)),
        )
    });
    stages.push(Stage {
        name: "validate (all validators, cache empty)".into(),
        usage,
        note: format!(
            "{} validators, batches of {} documents",
            setup.validators.len(),
            validate::batch_size(objects.len())
        ),
    });
    for validator in &setup.validators {
        let (_, usage) = timed(|| {
            validate::run(
                setup.registry.runtime(),
                std::slice::from_ref(validator),
                &objects,
                None,
                fs(),
                None,
            )
        });
        stages.push(Stage {
            name: format!("  validate: {} alone", validator.plugin.metadata.name),
            usage,
            note: String::new(),
        });
    }

    let mut diagnostics: Vec<_> = results
        .iter()
        .flat_map(|r| r.problems.iter().cloned())
        .collect();
    diagnostics.extend(outcome.diagnostics);
    let files: std::collections::BTreeSet<&String> =
        results.iter().flat_map(|r| r.reads.files.keys()).collect();
    let (report, usage) = timed(|| {
        let report = Report::new(diagnostics, files.len(), objects.len())
            .with_checked(objects.iter().map(|o| o.checked()).collect());
        let text = report.to_human(false);
        (report, text.len())
    });
    let (report, bytes) = report;
    stages.push(Stage {
        name: "report (sort, human text)".into(),
        usage,
        note: format!(
            "{} findings, {} KiB",
            report.diagnostics.len(),
            bytes / 1024
        ),
    });

    // The CLI's hydrated tree, less the metadata's git lookups: the same
    // emitter over the same objects, the same atomic tree swap.
    let (written, usage) = timed(|| {
        let outputs: Vec<output::TargetOutput> = results
            .par_iter()
            .map(|r| output::TargetOutput {
                name: r.target.name.clone(),
                manifest: Some(manifold_yaml::to_string_stream_with(
                    &r.objects.iter().map(|o| o.value().clone()).collect::<Vec<_>>(),
                    &manifold_yaml::EmitOptions::kustomize(),
                )),
                metadata: serde_json::json!({"manifold": {"target": r.target.name, "inputHash": r.reads.digest()}}),
            })
            .collect();
        let bytes: usize = outputs
            .iter()
            .filter_map(|o| o.manifest.as_ref())
            .map(String::len)
            .sum();
        output::write_tree(out, &outputs, &serde_json::json!({"version": 1})).map(|()| bytes)
    });
    let written = written?;
    stages.push(Stage {
        name: "write (render --out: emit YAML, write tree)".into(),
        usage,
        note: format!("{} KiB of manifests", written >> 10),
    });

    // A second run: its own discovery and view of the disk.
    let again = discover::targets(root, &setup.config)?;
    let verifier = Verifier::with_snapshot(
        &fs().ok_or("the repository cannot be read")?,
        again.snapshot,
    );
    let (warm, usage) = timed(|| {
        pipeline::run(
            &setup.registry,
            root,
            targets,
            Some((&render_cache, &verifier)),
            setup.applied.duplicate_keys,
            &|| {},
        )
    });
    stages.push(Stage {
        name: "render again (cache warm)".into(),
        usage,
        note: format!(
            "{} of {count} from the cache",
            warm.iter().filter(|r| r.cached).count()
        ),
    });
    let warm_objects: Vec<&Object> = warm.iter().flat_map(|r| &r.objects).collect();
    let (_, usage) = timed(|| {
        validate::run(
            setup.registry.runtime(),
            &setup.validators,
            &warm_objects,
            None,
            fs(),
            Some((&render_cache, &verifier)),
        )
    });
    let stats = render_cache.stats();
    stages.push(Stage {
        name: "validate again (cache warm)".into(),
        usage,
        note: format!(
            "cache over both passes: renders {} hits {} misses, verdicts {} hits {} misses",
            stats.renders.hits,
            stats.renders.misses,
            stats.validations.hits,
            stats.validations.misses
        ),
    });

    Ok((
        stages,
        Counts {
            targets: count,
            documents: objects.len(),
            errors: report
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count(),
            warnings: report
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .count(),
        },
    ))
}

/// Per-call cost of instantiating a validator and calling it: with no
/// configuration and no manifests (the sandbox's floor), and with the
/// corpus's configuration and one Deployment (the plugin's own set-up:
/// a schema bundle, compiled policies).
pub struct CallCost {
    pub plugin: String,
    pub empty: Duration,
    pub configured: Duration,
    pub calls: u32,
    pub failed: Option<String>,
}

pub fn instantiation(setup: &Setup, deployment: &str) -> Vec<CallCost> {
    let runtime = setup.registry.runtime();
    let manifest = Manifest {
        origin: Origin {
            file: "deployment.yaml".into(),
            document: 0,
            line: 1,
        },
        json: deployment.to_owned(),
    };
    let services = Services {
        fs: RepoFs::new(&setup.root).ok(),
        run: Some(Arc::new(RunManifests::new(
            vec![manifest.clone()],
            Selections::new(vec![("apps/v1/Deployment".into(), "Deployment".into())]),
        ))),
    };
    let batch = [manifest];
    setup
        .validators
        .iter()
        .map(|validator| {
            let plugin = &validator.plugin;
            // Plugins compile on their first call: not part of a call's cost.
            let mut failed = runtime.prepare_now(plugin).err();
            // Until a second has passed (and at least 20 calls): a mean over
            // many calls, whatever one call costs.
            let mut per_call = |manifests: &[Manifest], config: &str| {
                let started = Instant::now();
                let mut calls = 0;
                while calls < 20 || (started.elapsed() < Duration::from_secs(1) && calls < 20_000) {
                    if let Err(e) = runtime.validate(plugin, manifests, config, "bench", &services)
                    {
                        failed.get_or_insert_with(|| e.to_string());
                    }
                    calls += 1;
                }
                (started.elapsed() / calls, calls)
            };
            let (empty, calls) = per_call(&[], "{}");
            let (configured, _) = per_call(&batch, &validator.config);
            CallCost {
                plugin: plugin.metadata.name.clone(),
                empty,
                configured,
                calls,
                failed,
            }
        })
        .collect()
}

/// The floor: every input file of the corpus read, each YAML document
/// parsed with manifold-yaml (the parser the host and plugins use) and
/// printed again, on rayon's pool (the folder walk included, as `check`'s
/// discovery is). Chart templates and other non-YAML files
/// are read only: they are Go templates, not YAML.
pub struct Floor {
    pub files: usize,
    pub parsed: usize,
    pub documents: usize,
    pub bytes: u64,
    pub usage: Usage,
}

pub fn floor(root: &Path) -> Result<Floor, Error> {
    let (result, usage) = timed(|| {
        let mut files = Vec::new();
        list(root, &mut files)?;
        let counts = files
            .par_iter()
            .map(|path| {
                let Ok(bytes) = std::fs::read(path) else {
                    return (0, 0, 0);
                };
                let yaml = path.extension().is_some_and(|e| e == "yaml")
                    && !path.components().any(|c| c.as_os_str() == "templates");
                if !yaml {
                    return (0, 0, bytes.len() as u64);
                }
                let documents =
                    manifold_yaml::parse_bytes(&bytes, &manifold_yaml::ParseOptions::default())
                        .map(|docs| docs.into_iter().map(|d| d.value).collect::<Vec<_>>())
                        .unwrap_or_default();
                let printed = manifold_yaml::to_string_stream(&documents);
                (1, documents.len(), (bytes.len() + printed.len()) as u64)
            })
            .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
        Ok::<_, std::io::Error>((files.len(), counts))
    });
    let (files, (parsed, documents, bytes)) = result?;
    Ok(Floor {
        files,
        parsed,
        documents,
        bytes,
        usage,
    })
}

fn list(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        if entry.file_type()?.is_dir() {
            list(&entry.path(), out)?;
        } else {
            out.push(entry.path());
        }
    }
    Ok(())
}

/// Empties the result cache (renders and validation verdicts) under
/// `cache`, keeping the compiled plugins: what "cold" means here.
pub fn empty_results(cache: &Path) {
    for kind in ["renders", "validations"] {
        let _ = std::fs::remove_dir_all(cache.join(kind));
    }
}
