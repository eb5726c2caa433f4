//! The command line: parses arguments, runs a command, and turns the
//! outcome into an exit code (0 clean, 1 findings at the `--fail-on`
//! severity or worse, 2 usage or internal error).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::config::{Config, ConfigError, ValidatorSetting};
use crate::flags::{self, FlagError, PolicyFlags, SchemaFlags};
use crate::registry::{self, PluginFile, Registry, RegistryError};
use crate::render::{self as rendering, Kind, RenderError, Target};
use crate::report::{Report, Severity};
use crate::runtime::{
    Limits, LogLevel, RepoFs, Runtime, RuntimeOptions, Verifier, default_cache_dir,
};
use crate::{manifest, output, validate};

/// Exit code: nothing at the `--fail-on` severity or worse.
pub const EXIT_OK: i32 = 0;
/// Exit code: at least one finding at the `--fail-on` severity or worse.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: bad usage, bad configuration, or an internal error.
pub const EXIT_USAGE: i32 = 2;

#[derive(Debug, Parser)]
#[command(name = "manifold", version, about = "Hydrate and check GitOps repositories in one pass.", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// When to colour the human report.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Show plugins' debug messages too.
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

/// Formats of `manifold validate`'s report (the plugin commands have only
/// human and JSON output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    /// For people, coloured on a terminal.
    Human,
    /// The JSON report, `{"version": 1, ...}`.
    Json,
    /// JUnit XML for CI test views: a suite per file, a test case per object.
    Junit,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions annotations (workflow commands).
    Github,
}

/// The least severe finding that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    /// Exit 1 on errors only.
    Error,
    /// Exit 1 on errors and warnings.
    Warning,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
        }
    }
}

fn print_report(report: &Report, format: ReportFormat, fail_on: Severity, color: bool) {
    let text = match format {
        ReportFormat::Human => report.to_human(color),
        ReportFormat::Json => report.to_json(),
        ReportFormat::Junit => report.to_junit(fail_on),
        ReportFormat::Sarif => report.to_sarif(),
        ReportFormat::Github => report.to_github(),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// The end of `manifold validate --help`: CI scripts branch on these.
const VALIDATE_EXIT_CODES: &str = "Exit codes: 0 no finding at the --fail-on severity or worse, \
     1 at least one, 2 usage, configuration or internal error.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifest files and folders with the configured validators.
    #[command(after_help = VALIDATE_EXIT_CODES)]
    Validate(ValidateArgs),
    /// Render a kustomization (as `kustomize build`) or a Helm chart (as
    /// `helm template`); on a repository, render every target and write the hydrated state.
    Render(RenderArgs),
    /// Discover every target of a repository, render it, validate the result and report.
    Check(CheckArgs),
    /// List and inspect plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Show or empty the cache of compiled plugins and renders.
    Cache {
        #[command(subcommand)]
        action: CacheCommand,
        /// The cache folder (default: $XDG_CACHE_HOME/manifold).
        #[arg(long, value_name = "DIR", global = true)]
        cache_dir: Option<PathBuf>,
    },
    /// Compare two hydrated trees (from `manifold render --out`): resources added, changed, removed.
    ///
    /// Removals that pruning turns into deleting something hard to get back
    /// (volumes, StatefulSets, Namespaces, CRDs, objects with finalizers) are
    /// flagged. Exit status, as `git diff --exit-code`: 0 no differences,
    /// 1 differences, 2 usage error or a tree that cannot be read.
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// The hydrated tree before the change (with --git: a revision).
    old: String,
    /// The hydrated tree after the change (with --git: a revision; default:
    /// the work tree as it is).
    new: Option<String>,
    /// Compare the sources at two git revisions of the repository in the
    /// current folder: each is rendered into a temporary hydrated tree.
    #[arg(long)]
    git: bool,
    /// With --git: where compiled plugins are kept (default: $XDG_CACHE_HOME/manifold).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Output: human, json (versioned, for tools) or markdown (a pull-request comment).
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    format: DiffFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DiffFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
struct ValidateArgs {
    /// Files and folders of manifests (folders are walked for .yaml, .yml and .json).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    flags: ValidationFlags,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The repository (default: the current folder).
    #[arg(default_value = ".")]
    repo: PathBuf,
    /// Check only the targets these changed files can affect (pre-commit
    /// passes them): found through the read sets recorded in the cache.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    flags: ValidationFlags,
}

/// How a run validates and reports.
#[derive(Debug, Args)]
struct CheckOptions {
    /// The configuration file (default: manifold.yaml at the repository
    /// root, or found from the first path upwards).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Require a label on every object: KEY, or KEY=REGEX for its value (repeatable).
    #[arg(long = "require-label", value_name = "KEY[=REGEX]")]
    require_label: Vec<String>,
    /// Load an extra plugin from a .wasm file (repeatable); with
    /// @blake3:DIGEST, only if its bytes have that digest.
    #[arg(long = "plugin", value_name = "PATH[@blake3:DIGEST]", value_parser = PluginFile::parse_flag)]
    plugins: Vec<PluginFile>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    /// Exit with 1 when a finding is at this severity or worse (a target
    /// that fails to render is an error).
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Error)]
    fail_on: FailOn,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

/// [`CheckOptions`] with the validators' own flags: `validate` and `check`.
/// (`render` has Helm's `--kube-version` and `--namespace`; there the
/// validators take their settings from manifold.yaml.)
#[derive(Debug, Args)]
struct ValidationFlags {
    #[command(flatten)]
    checks: CheckOptions,
    #[command(flatten)]
    schema: SchemaFlags,
    #[command(flatten)]
    policy: PolicyFlags,
}

#[derive(Debug, Args)]
struct RenderArgs {
    /// A kustomization or chart folder (its stream goes to stdout), or a
    /// repository (every target is rendered into --out).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// A target: write DIR/manifest.yaml. A repository: write the hydrated
    /// tree, one folder per target (the previous tree stays intact if anything fails).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    out: Option<PathBuf>,
    /// With a repository: write nothing; exit 1 when the tree in --out differs
    /// from what the sources produce now, listing the stale targets.
    #[arg(long)]
    check: bool,
    /// With a repository: commit the hydrated tree to this branch (work tree
    /// and index untouched; no commit when nothing changed).
    #[arg(long = "git-branch", value_name = "BRANCH")]
    git_branch: Option<String>,
    #[command(flatten)]
    kustomize: KustomizeArgs,
    #[command(flatten)]
    helm: HelmArgs,
    #[command(flatten)]
    checks: CheckOptions,
}

/// `kustomize build`'s flags, with their names and meaning.
#[derive(Debug, Args)]
#[command(next_help_heading = "Kustomize")]
struct KustomizeArgs {
    /// Output order: kustomize's legacy kind order, or input order (sortOptions in the kustomization win).
    #[arg(long, value_enum, value_name = "ORDER")]
    reorder: Option<Reorder>,
    /// Whether a kustomization may read files outside its folder (never outside the repository).
    #[arg(long = "load-restrictor", value_enum, value_name = "RESTRICTOR")]
    load_restrictor: Option<LoadRestrictor>,
    /// Render helmCharts with the Helm plugin.
    #[arg(long = "enable-helm")]
    enable_helm: bool,
    /// Add the app.kubernetes.io/managed-by label to every object.
    #[arg(long = "enable-managedby-label")]
    enable_managedby_label: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Reorder {
    Legacy,
    None,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LoadRestrictor {
    #[value(name = "LoadRestrictionsRootOnly")]
    RootOnly,
    #[value(name = "LoadRestrictionsNone")]
    None,
}

/// `helm template`'s flags, with their names and meaning.
#[derive(Debug, Args)]
#[command(next_help_heading = "Helm")]
struct HelmArgs {
    /// Release name.
    #[arg(long = "release", value_name = "NAME")]
    release: Option<String>,
    /// Release namespace.
    #[arg(short = 'n', long = "namespace", value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Values file (repeatable; later files win).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    values: Vec<String>,
    /// Set a value: a.b=v, list={a,b}, a[0]=v (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Set a value as a string (repeatable).
    #[arg(long = "set-string", value_name = "KEY=VALUE")]
    set_string: Vec<String>,
    /// Set a value from JSON (repeatable).
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    set_json: Vec<String>,
    /// Set a value from a file's content (repeatable).
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    set_file: Vec<String>,
    /// Set a value literally, no parsing of commas or brackets (repeatable).
    #[arg(long = "set-literal", value_name = "KEY=VALUE")]
    set_literal: Vec<String>,
    /// Kubernetes version for .Capabilities.KubeVersion.
    #[arg(long = "kube-version", value_name = "VERSION")]
    kube_version: Option<String>,
    /// API versions for .Capabilities.APIVersions (repeatable, comma-separated).
    #[arg(
        short = 'a',
        long = "api-versions",
        value_name = "VERSION",
        value_delimiter = ','
    )]
    api_versions: Vec<String>,
    /// Include the chart's crds/ in the output.
    #[arg(long = "include-crds")]
    include_crds: bool,
    /// Only these templates (repeatable).
    #[arg(short = 's', long = "show-only", value_name = "TEMPLATE")]
    show_only: Vec<String>,
    /// Leave out test hooks.
    #[arg(long = "skip-tests")]
    skip_tests: bool,
    /// Leave out hooks.
    #[arg(long = "no-hooks")]
    no_hooks: bool,
    /// Set .Release.IsUpgrade instead of .Release.IsInstall.
    #[arg(long = "is-upgrade")]
    is_upgrade: bool,
    /// Template for the release name.
    #[arg(long = "name-template", value_name = "TEMPLATE")]
    name_template: Option<String>,
    /// Do not check values against values.schema.json.
    #[arg(long = "skip-schema-validation")]
    skip_schema_validation: bool,
}

#[derive(Debug, Args)]
struct RuntimeArgs {
    /// Wall-time bound of one plugin call, in seconds.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Memory bound of one plugin instance, in MiB.
    #[arg(long, value_name = "MIB")]
    memory: Option<u64>,
    /// Where compiled plugins are kept (default: $XDG_CACHE_HOME/manifold).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile plugins in memory and keep nothing on disk.
    #[arg(long)]
    no_cache: bool,
    /// Threads (default: one per core).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Debug, Clone, Copy, Subcommand)]
enum CacheCommand {
    /// Entries and bytes on disk.
    Stats,
    /// Remove every entry (the next run compiles and renders again).
    Clean,
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// List the built-in plugins and those loaded with --plugin.
    List {
        /// Also load a plugin from a .wasm file (repeatable); with
        /// @blake3:DIGEST, only if its bytes have that digest.
        #[arg(long = "plugin", value_name = "PATH[@blake3:DIGEST]", value_parser = PluginFile::parse_flag)]
        plugins: Vec<PluginFile>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        runtime: RuntimeArgs,
    },
    /// Show a plugin's metadata and configuration schema.
    Inspect {
        /// A plugin name, or the path of a .wasm file.
        plugin: String,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        runtime: RuntimeArgs,
    },
}

/// Something that stops a command before it can report findings.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    #[error(transparent)]
    Flags(#[from] FlagError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Diff(#[from] crate::diff::DiffError),
    #[error(transparent)]
    Output(#[from] output::OutputError),
    #[error("{0}")]
    Usage(String),
}

/// Runs manifold with these arguments and returns the exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let result = match cli.command {
        Command::Validate(args) => validate_command(args, color, cli.verbose),
        Command::Render(args) => render_command(args, color, cli.verbose),
        Command::Check(args) => check_command(args, color, cli.verbose),
        Command::Cache { action, cache_dir } => cache_command(action, cache_dir),
        Command::Plugin(PluginCommand::List {
            plugins,
            format,
            runtime,
        }) => list_command(&plugins, format, &runtime),
        Command::Plugin(PluginCommand::Inspect {
            plugin,
            format,
            runtime,
        }) => inspect_command(&plugin, format, &runtime),
        Command::Diff(args) => diff_command(&args, color),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("manifold: {e}");
            EXIT_USAGE
        }
    }
}

fn registry(args: &RuntimeArgs, config: Option<&Config>) -> Result<Arc<Registry>, CliError> {
    if let Some(jobs) = args.jobs {
        if jobs == 0 {
            return Err(CliError::Usage("--jobs must be at least 1".into()));
        }
        // Only the first call configures the global pool; later ones (in
        // tests running several commands in one process) keep it.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build_global();
    }
    let defaults = Limits::default();
    let timeout = args.timeout.or(config.and_then(|c| c.timeout_seconds));
    if timeout.is_some_and(|t| !(t > 0.0 && t.is_finite())) {
        return Err(CliError::Usage(
            "--timeout must be a positive number of seconds".into(),
        ));
    }
    let memory = args.memory.or(config.and_then(|c| c.memory_mib));
    if memory.is_some_and(|m| !(16..=65536).contains(&m)) {
        return Err(CliError::Usage(
            "--memory must be between 16 and 65536 MiB".into(),
        ));
    }
    let limits = Limits {
        timeout: timeout.map_or(defaults.timeout, Duration::from_secs_f64),
        memory: memory.map_or(defaults.memory, |m| (m as usize) << 20),
        output: defaults.output,
    };
    let precompiled_dir = if args.no_cache {
        None
    } else {
        args.cache_dir
            .clone()
            .or_else(default_cache_dir)
            .map(|dir| dir.join("plugins"))
    };
    let threads = u32::try_from(rayon::current_num_threads()).unwrap_or(u32::MAX);
    let options = RuntimeOptions {
        limits,
        precompiled_dir: precompiled_dir.clone(),
        max_instances: threads.saturating_mul(4),
    };
    let runtime = Runtime::new(&options)?;
    if let (Some(dir), false) = (precompiled_dir, runtime.has_precompiled_cache()) {
        eprintln!(
            "manifold: warning: cannot use {} for compiled plugins; compiling in memory",
            dir.display()
        );
    }
    Ok(Registry::new(runtime))
}

fn cache_command(action: CacheCommand, dir: Option<PathBuf>) -> Result<i32, CliError> {
    let Some(dir) = dir.or_else(default_cache_dir) else {
        return Err(CliError::Usage(
            "no cache folder: set XDG_CACHE_HOME or HOME, or give --cache-dir".into(),
        ));
    };
    let results = crate::cache::Cache::usage(&dir);
    let (plugins, plugin_bytes) = std::fs::read_dir(dir.join("plugins"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .fold((0usize, 0u64), |(n, b), e| {
            (n + 1, b + e.metadata().map_or(0, |m| m.len()))
        });
    match action {
        CacheCommand::Stats => {
            println!("cache:       {}", dir.display());
            for (kind, entries, bytes) in &results {
                println!(
                    "{:<13}{entries} entries, {} KiB",
                    format!("{kind}:"),
                    bytes / 1024
                );
            }
            println!(
                "plugins:     {plugins} compiled, {} KiB",
                plugin_bytes / 1024
            );
        }
        CacheCommand::Clean => {
            for sub in ["renders", "validations", "plugins"] {
                match std::fs::remove_dir_all(dir.join(sub)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(CliError::Usage(format!(
                            "{}: cannot remove: {e}",
                            dir.join(sub).display()
                        )));
                    }
                }
            }
            let removed: Vec<String> = results
                .iter()
                .map(|(kind, entries, _)| format!("{entries} {kind}"))
                .collect();
            let bytes: u64 = results.iter().map(|(_, _, b)| b).sum::<u64>() + plugin_bytes;
            println!(
                "removed {}, {plugins} compiled plugins ({} KiB) from {}",
                removed.join(", "),
                bytes / 1024,
                dir.display()
            );
        }
    }
    Ok(EXIT_OK)
}

fn check_command(args: CheckArgs, color: bool, verbose: bool) -> Result<i32, CliError> {
    if !args.repo.is_dir() {
        return Err(CliError::Usage(format!(
            "{}: no such folder; give the repository's root",
            args.repo.display()
        )));
    }
    let scope = (!args.files.is_empty()).then_some(args.files.as_slice());
    repository_command(&args.repo, &args.flags, None, scope, color, verbose)
}

/// A whole repository: discover, render (through the cache), validate,
/// report; with `out`, write the hydrated tree (or, checking, compare with it).
fn repository_command(
    repo: &Path,
    validation: &ValidationFlags,
    out: Option<(&PathBuf, bool)>,
    files: Option<&[PathBuf]>,
    color: bool,
    verbose: bool,
) -> Result<i32, CliError> {
    let options = &validation.checks;
    let root = std::fs::canonicalize(repo)
        .map_err(|e| CliError::Usage(format!("{}: {e}", repo.display())))?;
    let config_path = options
        .config
        .clone()
        .or_else(|| Some(root.join(crate::config::FILE_NAME)).filter(|p| p.is_file()));
    let mut config = match &config_path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    add_required_labels(&mut config, &options.require_label)?;
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|e| CliError::Usage(format!("cannot read the working folder: {e}")))?;
    let applied = flags::apply(
        &mut config,
        &validation.schema,
        &validation.policy,
        &root,
        &cwd,
    )?;
    let registry = registry(&options.runtime, Some(&config))?;
    let mut plugin_files = config.plugins.clone();
    plugin_files.extend(options.plugins.iter().cloned());
    let validators = select_validators(&registry, &config, &plugin_files)?;
    let mut ignore = config.ignore.clone();
    // Policy and data files are context, not targets.
    ignore.extend(applied.excluded_under(&root));
    if let Some((dir, _)) = out
        && let Ok(relative) = std::fs::canonicalize(dir)
            .or_else(|_| std::path::absolute(dir))
            .map(|abs| abs.strip_prefix(&root).map(Path::to_path_buf))
        && let Ok(relative) = relative
    {
        ignore.push(relative.to_string_lossy().replace('\\', "/"));
    }
    config.ignore = ignore;
    let discovered =
        crate::discover::targets(&root, &config).map_err(|e| CliError::Usage(e.to_string()))?;
    let targets = discovered.targets;
    let cache = if options.runtime.no_cache {
        None
    } else {
        let dir = options.runtime.cache_dir.clone().or_else(default_cache_dir);
        match dir.map(|d| crate::cache::Cache::open(&d).map_err(|e| (d, e))) {
            Some(Ok(cache)) => Some(cache),
            Some(Err((d, e))) => {
                eprintln!(
                    "manifold: warning: cannot use {} as a cache ({e}); running uncached",
                    d.display()
                );
                None
            }
            None => None,
        }
    };
    let scope = match files {
        Some(files) => {
            // pre-commit runs hooks from the repository root with root-relative names.
            let changed: Vec<String> = files
                .iter()
                .map(|f| {
                    std::path::absolute(f)
                        .ok()
                        .and_then(|abs| {
                            let abs = std::fs::canonicalize(&abs).unwrap_or(abs);
                            abs.strip_prefix(&root).ok().map(Path::to_path_buf)
                        })
                        .unwrap_or_else(|| f.clone())
                        .to_string_lossy()
                        .replace('\\', "/")
                })
                .collect();
            let affected = crate::pipeline::affected(
                &registry,
                &root,
                targets.clone(),
                cache.as_ref(),
                &changed,
            );
            Some(affected.into_iter().map(|t| t.name).collect())
        }
        None => None,
    };
    // Every target is rendered even when only some are checked: the others'
    // objects are the context of the checks (a CRD in another folder, the
    // inventory), and on a warm cache they cost a lookup each.
    let in_scope = |name: &str| {
        scope
            .as_ref()
            .is_none_or(|s: &std::collections::HashSet<String>| s.contains(name))
    };
    // A progress line on a terminal once a run is more than a glance.
    let total = targets.len();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let progress = std::io::stderr().is_terminal() && total > 8;
    let tick = || {
        let n = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if progress {
            eprint!("\rrendering targets: {n}/{total}");
        }
    };
    // One view of the disk for every cache check of the run, starting from
    // what discovery already read.
    let fs = RepoFs::new(&root)
        .ok()
        .map(|fs| fs.with_grants(&applied.grants));
    let verifier = fs
        .as_ref()
        .map(|fs| Verifier::with_snapshot(fs, discovered.snapshot));
    let cached = cache.as_ref().zip(verifier.as_ref());
    let results = crate::pipeline::run(
        &registry,
        &root,
        targets,
        cached,
        applied.duplicate_keys,
        &tick,
    );
    if progress {
        eprint!("\r\x1b[2K");
    }

    let mut diagnostics = discovered.problems;
    let mut summaries = Vec::new();
    let mut files = std::collections::BTreeSet::new();
    for result in results.iter().filter(|r| in_scope(&r.target.name)) {
        for (plugin, line) in &result.logs {
            if verbose || line.level >= LogLevel::Info {
                eprintln!("{plugin}: {}", line.message);
            }
        }
        files.extend(result.reads.files.keys().cloned());
        diagnostics.extend(result.problems.iter().cloned());
        summaries.push(crate::report::TargetSummary {
            name: result.target.name.clone(),
            path: result.target.path.clone(),
            kind: format!("{:?}", result.target.kind).to_lowercase(),
            source: result.target.source.clone(),
            documents: result.objects.len(),
            status: if result.failed { "failed" } else { "ok" }.into(),
            cached: result.cached,
        });
    }
    let objects: Vec<&manifest::Object> = results.iter().flat_map(|r| &r.objects).collect();
    let checked: Vec<bool> = results
        .iter()
        .flat_map(|r| std::iter::repeat_n(in_scope(&r.target.name), r.objects.len()))
        .collect();
    let outcome = validate::run(
        registry.runtime(),
        &validators,
        &objects,
        scope.is_some().then_some(&checked[..]),
        fs,
        cached,
    );
    let objects: Vec<&manifest::Object> = objects
        .into_iter()
        .zip(&checked)
        .filter_map(|(o, checked)| checked.then_some(o))
        .collect();
    for (plugin, line) in &outcome.logs {
        if verbose || line.level >= LogLevel::Info {
            eprintln!("{plugin}: {}", line.message);
        }
    }
    diagnostics.extend(outcome.diagnostics);
    let stats = cache.as_ref().map(|c| c.stats()).unwrap_or_default();
    let report = Report::new(diagnostics, files.len(), objects.len())
        .with_targets(summaries, stats)
        .with_checked(objects.iter().map(|o| o.checked()).collect());
    let fail_on = options.fail_on.severity();
    let mut code = if report.fails(fail_on) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    if let Some((dir, check)) = out {
        let hydrated = hydrated_outputs(&root, &results);
        if check {
            let stale = output::stale(dir, &hydrated);
            if !stale.is_empty() {
                eprintln!(
                    "manifold: {} is stale; run `manifold render {} --out {}` and commit the result:",
                    dir.display(),
                    repo.display(),
                    dir.display()
                );
                for name in &stale {
                    eprintln!("  {name}");
                }
                code = EXIT_FINDINGS;
            }
        } else {
            let index = hydrated_index(&root, &results);
            output::write_tree(dir, &hydrated, &index)?;
        }
    }
    print_report(&report, options.format, fail_on, color);
    // The process ends next: freeing every object, read set and compiled
    // plugin one by one would cost a warm run about a tenth of its time.
    std::mem::forget((results, verifier, registry, report));
    Ok(code)
}

/// The source commit and remote of a repository, when it is a git work tree.
fn git_source(root: &Path) -> (Option<String>, Option<String>) {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    (
        git(&["rev-parse", "HEAD"]),
        git(&["config", "--get", "remote.origin.url"]),
    )
}

fn hydrated_outputs(
    root: &Path,
    results: &[crate::pipeline::TargetResult],
) -> Vec<output::TargetOutput> {
    let (dry_sha, repo_url) = git_source(root);
    results
        .iter()
        .map(|result| {
            let target = &result.target;
            let stream = manifold_yaml::to_string_stream_with(
                &result
                    .objects
                    .iter()
                    .map(|o| o.value().clone())
                    .collect::<Vec<_>>(),
                &manifold_yaml::EmitOptions::kustomize(),
            );
            let mut command = format!(
                "manifold render {}",
                if target.path.is_empty() {
                    "."
                } else {
                    &target.path
                }
            );
            command.push_str(&command_flags(&target.config));
            let mut metadata = json!({
                "commands": [command],
                "manifold": {
                    "version": env!("CARGO_PKG_VERSION"),
                    "target": target.name,
                    "path": target.path,
                    "kind": target.kind,
                    "source": target.source,
                    "inputHash": result.reads.digest(),
                    "plugins": result.plugin.iter().collect::<Vec<_>>(),
                }
            });
            if let Some(sha) = &dry_sha {
                metadata["drySha"] = json!(sha);
            }
            if let Some(url) = &repo_url {
                metadata["repoURL"] = json!(url);
            }
            output::TargetOutput {
                name: target.name.clone(),
                manifest: (!result.failed).then_some(stream),
                metadata,
            }
        })
        .collect()
}

/// A renderer's configuration as the `manifold render` flags that give it
/// (the command a person would run to reproduce the output).
fn command_flags(config: &Value) -> String {
    let Some(config) = config.as_object() else {
        return String::new();
    };
    let quote = |text: &str| {
        if !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@".contains(c))
        {
            text.to_owned()
        } else {
            format!("'{}'", text.replace('\'', r"'\''"))
        }
    };
    let mut flags = String::new();
    for (key, value) in config {
        let flag = match key.as_str() {
            "releaseName" => "--release",
            "valuesFiles" => "-f",
            "values" => {
                for (name, inner) in value.as_object().into_iter().flatten() {
                    flags.push_str(&format!(
                        " --set-json {}",
                        quote(&format!("{name}={inner}"))
                    ));
                }
                continue;
            }
            "reorder" => "--reorder",
            "loadRestrictor" => "--load-restrictor",
            other => {
                // camelCase option names are the flags' kebab-case names.
                let mut flag = String::from("--");
                for c in other.chars() {
                    if c.is_ascii_uppercase() {
                        flag.push('-');
                        flag.push(c.to_ascii_lowercase());
                    } else {
                        flag.push(c);
                    }
                }
                match value {
                    Value::Bool(true) => flags.push_str(&format!(" {flag}")),
                    Value::Bool(false) => {}
                    Value::String(text) => flags.push_str(&format!(" {flag} {}", quote(text))),
                    Value::Array(items) => {
                        for item in items.iter().filter_map(Value::as_str) {
                            flags.push_str(&format!(" {flag} {}", quote(item)));
                        }
                    }
                    other => flags.push_str(&format!(" {flag} {}", quote(&other.to_string()))),
                }
                continue;
            }
        };
        match value {
            Value::Array(items) => {
                for item in items.iter().filter_map(Value::as_str) {
                    flags.push_str(&format!(" {flag} {}", quote(item)));
                }
            }
            Value::String(text) => flags.push_str(&format!(" {flag} {}", quote(text))),
            _ => {}
        }
    }
    flags
}

fn hydrated_index(root: &Path, results: &[crate::pipeline::TargetResult]) -> Value {
    let (dry_sha, repo_url) = git_source(root);
    let targets: Vec<Value> = results
        .iter()
        .map(|r| {
            json!({
                "name": r.target.name,
                "path": r.target.path,
                "kind": r.target.kind,
                "documents": r.objects.len(),
                "status": if r.failed { "failed (previous output kept)" } else { "ok" },
            })
        })
        .collect();
    let mut index = json!({ "version": 1, "targets": targets });
    if let Some(sha) = dry_sha {
        index["drySha"] = json!(sha);
    }
    if let Some(url) = repo_url {
        index["repoURL"] = json!(url);
    }
    index
}

fn validate_command(args: ValidateArgs, color: bool, verbose: bool) -> Result<i32, CliError> {
    let config_path = match &args.flags.checks.config {
        Some(path) => Some(path.clone()),
        None => args
            .paths
            .first()
            .and_then(|p| Config::discover(p))
            .or_else(|| Config::discover(Path::new("."))),
    };
    let mut config = match &config_path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    add_required_labels(&mut config, &args.flags.checks.require_label)?;
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|e| CliError::Usage(format!("cannot read the working folder: {e}")))?;
    let root = flags::repository_root(config_path.as_deref(), &args.paths, &cwd);
    let applied = flags::apply(
        &mut config,
        &args.flags.schema,
        &args.flags.policy,
        &root,
        &cwd,
    )?;
    let registry = registry(&args.flags.checks.runtime, Some(&config))?;
    let mut plugin_files = config.plugins.clone();
    plugin_files.extend(args.flags.checks.plugins.iter().cloned());
    let validators = select_validators(&registry, &config, &plugin_files)?;

    let read_options = manifest::ReadOptions {
        duplicate_keys: applied.duplicate_keys,
        exclude: applied.exclude,
        ignore: applied.ignore,
    };
    let inputs = manifest::read(&args.paths, &read_options);
    let fs = RepoFs::new(&root)
        .ok()
        .map(|fs| fs.with_grants(&applied.grants));
    let objects: Vec<&manifest::Object> = inputs.objects.iter().collect();
    let outcome = validate::run(registry.runtime(), &validators, &objects, None, fs, None);
    for (plugin, line) in &outcome.logs {
        if verbose || line.level >= LogLevel::Info {
            eprintln!("{plugin}: {}", line.message);
        }
    }
    if verbose {
        for (path, hash) in &outcome.reads.files {
            let state = if hash.is_some() { "" } else { " (absent)" };
            eprintln!("manifold: validators read {path}{state}");
        }
    }
    let mut diagnostics = inputs.problems;
    diagnostics.extend(outcome.diagnostics);
    let report = Report::new(diagnostics, inputs.files, inputs.documents).with_checked(
        inputs
            .objects
            .iter()
            .map(manifest::Object::checked)
            .collect(),
    );
    let fail_on = args.flags.checks.fail_on.severity();
    print_report(&report, args.flags.checks.format, fail_on, color);
    for path in &inputs.missing {
        eprintln!("manifold: {}: no such file or folder", path.display());
    }
    Ok(if !inputs.missing.is_empty() {
        EXIT_USAGE
    } else if report.fails(fail_on) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

fn render_command(args: RenderArgs, color: bool, verbose: bool) -> Result<i32, CliError> {
    if Kind::of(&args.path).is_none() && args.path.is_dir() {
        refuse_flags(&args.path, "a repository", "Helm", &args.helm.given())?;
        refuse_flags(
            &args.path,
            "a repository",
            "kustomize",
            &args.kustomize.given(),
        )?;
        let scratch =
            std::env::temp_dir().join(format!("manifold-hydrated-{}", std::process::id()));
        let out = match (&args.out, &args.git_branch) {
            (Some(out), _) => out.clone(),
            (None, Some(_)) => scratch.clone(),
            (None, None) => {
                return Err(CliError::Usage(format!(
                    "{} is a repository, not a kustomization or chart: give --out DIR to write its hydrated state (or --out DIR --check to compare with it, or --git-branch BRANCH to commit it)",
                    args.path.display()
                )));
            }
        };
        let flags = ValidationFlags {
            checks: args.checks,
            schema: SchemaFlags::default(),
            policy: PolicyFlags::default(),
        };
        let code = repository_command(
            &args.path,
            &flags,
            Some((&out, args.check)),
            None,
            color,
            verbose,
        );
        let result = match (&args.git_branch, code) {
            // A failed target or an error finding must not reach the branch a
            // sync agent deploys (with pruning, a missing target is deleted).
            (Some(branch), Ok(code)) if !args.check && code != EXIT_OK => {
                eprintln!("manifold: the run found errors; nothing committed to {branch}");
                Ok(code)
            }
            (Some(branch), Ok(code)) if !args.check => {
                let root = std::fs::canonicalize(&args.path)
                    .map_err(|e| CliError::Usage(format!("{}: {e}", args.path.display())))?;
                let (source, _) = git_source(&root);
                match crate::gitbranch::commit(&root, &out, branch, source.as_deref()) {
                    Ok(crate::gitbranch::Committed::Commit(sha)) => {
                        eprintln!("manifold: committed the hydrated tree to {branch} ({sha})");
                        Ok(code)
                    }
                    Ok(crate::gitbranch::Committed::Unchanged) => {
                        eprintln!(
                            "manifold: {branch} already holds this hydrated tree; nothing committed"
                        );
                        Ok(code)
                    }
                    Err(e) => Err(CliError::Usage(e.to_string())),
                }
            }
            (_, result) => result,
        };
        if args.out.is_none() {
            let _ = std::fs::remove_dir_all(&scratch);
        }
        return result;
    }
    if args.check {
        return Err(CliError::Usage(
            "--check compares a repository's hydrated tree; PATH is a single target".into(),
        ));
    }
    let target = Target::locate(&args.path)?;
    let config = match target.kind {
        Kind::Kustomization => {
            refuse_flags(&args.path, "a kustomization", "Helm", &args.helm.given())?;
            kustomize_config(&args.kustomize)
        }
        Kind::Chart => {
            refuse_flags(
                &args.path,
                "a Helm chart",
                "kustomize",
                &args.kustomize.given(),
            )?;
            helm_config(&args.helm, &target)?
        }
    };
    let registry = registry(&args.checks.runtime, None)?;
    let rendered = rendering::render(&registry, &target, &config);
    let rendered = match rendered {
        Ok(rendered) => rendered,
        Err(e @ (RenderError::Plugin(_) | RenderError::TooDeep { .. })) => {
            eprintln!("manifold: {e}");
            return Ok(EXIT_FINDINGS);
        }
        Err(e) => return Err(e.into()),
    };
    for (plugin, line) in &rendered.logs {
        if verbose || line.level >= LogLevel::Info {
            eprintln!("{plugin}: {}", line.message);
        }
    }
    let mut failed = false;
    for d in &rendered.diagnostics {
        failed |= d.severity == crate::runtime::Severity::Error;
        eprintln!(
            "manifold: {}: {}: {}",
            target.kind.plugin(),
            d.rule,
            d.message
        );
    }
    let stream = rendering::to_stream(&target, &rendered.objects);
    match &args.out {
        Some(dir) => output::write_atomically(&dir.join(output::MANIFEST), stream.as_bytes())
            .map_err(|e| CliError::Usage(format!("{}: cannot write: {e}", dir.display())))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(stream.as_bytes());
            let _ = stdout.flush();
        }
    }
    Ok(if failed { EXIT_FINDINGS } else { EXIT_OK })
}

/// Flags of the other tool are a mistake worth stopping for, not ignoring.
fn refuse_flags(path: &Path, what: &str, tool: &str, given: &[&str]) -> Result<(), CliError> {
    match given.first() {
        Some(flag) => Err(CliError::Usage(format!(
            "{flag} is a {tool} flag, but {} is {what}",
            path.display()
        ))),
        None => Ok(()),
    }
}

impl KustomizeArgs {
    fn given(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        let flags = [
            (self.reorder.is_some(), "--reorder"),
            (self.load_restrictor.is_some(), "--load-restrictor"),
            (self.enable_helm, "--enable-helm"),
            (self.enable_managedby_label, "--enable-managedby-label"),
        ];
        given.extend(flags.iter().filter(|(set, _)| *set).map(|(_, f)| *f));
        given
    }
}

impl HelmArgs {
    fn given(&self) -> Vec<&'static str> {
        let flags = [
            (self.release.is_some(), "--release"),
            (self.namespace.is_some(), "--namespace"),
            (!self.values.is_empty(), "--values"),
            (!self.set.is_empty(), "--set"),
            (!self.set_string.is_empty(), "--set-string"),
            (!self.set_json.is_empty(), "--set-json"),
            (!self.set_file.is_empty(), "--set-file"),
            (!self.set_literal.is_empty(), "--set-literal"),
            (self.kube_version.is_some(), "--kube-version"),
            (!self.api_versions.is_empty(), "--api-versions"),
            (self.include_crds, "--include-crds"),
            (!self.show_only.is_empty(), "--show-only"),
            (self.skip_tests, "--skip-tests"),
            (self.no_hooks, "--no-hooks"),
            (self.is_upgrade, "--is-upgrade"),
            (self.name_template.is_some(), "--name-template"),
            (self.skip_schema_validation, "--skip-schema-validation"),
        ];
        flags
            .iter()
            .filter(|(set, _)| *set)
            .map(|(_, f)| *f)
            .collect()
    }
}

fn kustomize_config(args: &KustomizeArgs) -> Value {
    let mut config = json!({
        "enableHelm": args.enable_helm,
        "enableManagedbyLabel": args.enable_managedby_label,
    });
    if let Some(reorder) = args.reorder {
        config["reorder"] = json!(match reorder {
            Reorder::Legacy => "legacy",
            Reorder::None => "none",
        });
    }
    if let Some(restrictor) = args.load_restrictor {
        config["loadRestrictor"] = json!(match restrictor {
            LoadRestrictor::RootOnly => "LoadRestrictionsRootOnly",
            LoadRestrictor::None => "LoadRestrictionsNone",
        });
    }
    config
}

/// The helm plugin's configuration. Files named on the command line are
/// relative to the current folder; the plugin reads repository paths.
fn helm_config(args: &HelmArgs, target: &Target) -> Result<Value, CliError> {
    let values_files = args
        .values
        .iter()
        .map(|f| target.repository_path(f))
        .collect::<Result<Vec<_>, _>>()?;
    let set_file = args
        .set_file
        .iter()
        .map(|entry| match entry.split_once('=') {
            Some((key, path)) => Ok(format!("{key}={}", target.repository_path(path)?)),
            None => Err(CliError::Usage(format!(
                "--set-file {entry:?}: expected KEY=PATH"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut config = json!({
        "valuesFiles": values_files,
        "set": args.set,
        "setString": args.set_string,
        "setJson": args.set_json,
        "setFile": set_file,
        "setLiteral": args.set_literal,
        "apiVersions": args.api_versions,
        "includeCrds": args.include_crds,
        "showOnly": args.show_only,
        "skipTests": args.skip_tests,
        "noHooks": args.no_hooks,
        "isUpgrade": args.is_upgrade,
        "skipSchemaValidation": args.skip_schema_validation,
    });
    for (key, value) in [
        ("releaseName", &args.release),
        ("namespace", &args.namespace),
        ("kubeVersion", &args.kube_version),
        ("nameTemplate", &args.name_template),
    ] {
        if let Some(value) = value {
            config[key] = Value::String(value.clone());
        }
    }
    Ok(config)
}

/// Renders the repository in the current folder at two revisions (the
/// second defaulting to the work tree) into hydrated trees under `scratch`
/// and compares them.
fn diff_revisions(
    scratch: &Path,
    old: &str,
    new: Option<&str>,
    cache_dir: Option<&Path>,
) -> Result<crate::diff::TreeDiff, CliError> {
    let root = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|e| CliError::Usage(format!("cannot read the working folder: {e}")))?;
    let hydrate = |side: &str, revision: Option<&str>| -> Result<PathBuf, CliError> {
        let sources = match revision {
            Some(revision) => {
                let dir = scratch.join(format!("{side}-sources"));
                export_revision(&root, revision, &dir)?;
                dir
            }
            None => root.clone(),
        };
        let out = scratch.join(side);
        // The same binary renders each side, quietly, with the user's cache.
        let exe = std::env::current_exe()
            .map_err(|e| CliError::Usage(format!("cannot find the manifold binary: {e}")))?;
        let mut command = std::process::Command::new(exe);
        command
            .arg("render")
            .arg(&sources)
            .arg("--out")
            .arg(&out)
            .args(["--format", "json"]);
        if let Some(dir) = cache_dir {
            command.arg("--cache-dir").arg(dir);
        }
        let run = command
            .output()
            .map_err(|e| CliError::Usage(format!("cannot run manifold render: {e}")))?;
        if run.status.code() == Some(EXIT_USAGE) || !out.join(output::INDEX).is_file() {
            return Err(CliError::Usage(format!(
                "rendering {} failed: {}",
                revision.unwrap_or("the work tree"),
                String::from_utf8_lossy(&run.stderr).trim()
            )));
        }
        Ok(out)
    };
    let old_tree = hydrate("old", Some(old))?;
    let new_tree = hydrate("new", new)?;
    Ok(crate::diff::diff_trees(&old_tree, &new_tree)?)
}

/// The files of `revision` in a folder, through `git archive` (the
/// repository and its work tree are not touched).
fn export_revision(root: &Path, revision: &str, dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::Usage(format!("{}: {e}", dir.display())))?;
    let archive = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["archive", "--format=tar", revision])
        .output()
        .map_err(|e| CliError::Usage(format!("cannot run git: {e}")))?;
    if !archive.status.success() {
        return Err(CliError::Usage(format!(
            "git archive {revision}: {}",
            String::from_utf8_lossy(&archive.stderr).trim()
        )));
    }
    let mut tar = std::process::Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dir)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| CliError::Usage(format!("cannot run tar: {e}")))?;
    if let Some(mut stdin) = tar.stdin.take() {
        let _ = stdin.write_all(&archive.stdout);
    }
    match tar.wait() {
        Ok(status) if status.success() => Ok(()),
        _ => Err(CliError::Usage(format!("cannot unpack {revision}"))),
    }
}

/// Adds `--require-label KEY[=REGEX]` rules to the labels configuration.
fn add_required_labels(config: &mut Config, flags: &[String]) -> Result<(), CliError> {
    if flags.is_empty() {
        return Ok(());
    }
    let mut rules = Vec::new();
    for flag in flags {
        let (key, pattern) = match flag.split_once('=') {
            Some((key, pattern)) => (key, Some(pattern)),
            None => (flag.as_str(), None),
        };
        if key.is_empty() {
            return Err(CliError::Usage(format!(
                "--require-label {flag:?}: the label key is empty"
            )));
        }
        let mut rule = json!({ "key": key });
        if let Some(pattern) = pattern {
            rule["pattern"] = Value::String(pattern.to_owned());
        }
        rules.push(rule);
    }
    let entry = config
        .validators
        .entry("labels".to_owned())
        .or_insert_with(|| ValidatorSetting::Enabled(json!({})));
    match entry {
        ValidatorSetting::Enabled(Value::Object(section)) => {
            let require = section
                .entry("require")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = require {
                list.extend(rules);
            }
        }
        _ => *entry = ValidatorSetting::Enabled(json!({ "require": rules })),
    }
    Ok(())
}

/// The validators of this run, each with its checked configuration.
fn select_validators(
    registry: &Registry,
    config: &Config,
    plugin_files: &[PluginFile],
) -> Result<Vec<validate::Validator>, CliError> {
    let mut chosen: Vec<Arc<crate::runtime::Plugin>> = Vec::new();
    for result in registry.builtins(Some(registry::Kind::Validate)) {
        chosen.push(result?);
    }
    for file in plugin_files {
        let plugin = registry.load_file(file)?;
        if !plugin.is_renderer() {
            chosen.push(plugin);
        }
    }
    for name in config.validators.keys() {
        if !chosen.iter().any(|p| &p.metadata.name == name) {
            return Err(config
                .section_error(
                    name,
                    vec![(
                        String::new(),
                        format!("there is no validator plugin named `{name}`"),
                    )],
                )
                .into());
        }
    }
    let mut validators = Vec::new();
    for plugin in chosen {
        let section = match config.validators.get(&plugin.metadata.name) {
            Some(ValidatorSetting::Disabled) => continue,
            Some(ValidatorSetting::Enabled(section)) => section.clone(),
            None => json!({}),
        };
        plugin
            .check_config(&section)
            .map_err(|problems| config.section_error(&plugin.metadata.name, problems))?;
        validators.push(validate::Validator {
            plugin,
            config: section.to_string(),
        });
    }
    Ok(validators)
}

fn list_command(files: &[PluginFile], format: Format, args: &RuntimeArgs) -> Result<i32, CliError> {
    let registry = registry(args, None)?;
    let mut plugins = Vec::new();
    for result in registry.builtins(None) {
        plugins.push(result?);
    }
    for file in files {
        plugins.push(registry.load_file(file)?);
    }
    let mut out = String::new();
    match format {
        Format::Json => {
            let list: Vec<&crate::runtime::Metadata> =
                plugins.iter().map(|p| &p.metadata).collect();
            out = serde_json::to_string_pretty(&list).unwrap_or_default();
            out.push('\n');
        }
        Format::Human => {
            // The whole digest: it is what manifold.yaml pins.
            out.push_str(&format!(
                "{:<16} {:<10} {:<9} {:<71} {}\n",
                "NAME", "KIND", "VERSION", "DIGEST", "SOURCE"
            ));
            for p in &plugins {
                let m = &p.metadata;
                out.push_str(&format!(
                    "{:<16} {:<10} {:<9} blake3:{:<64} {}\n",
                    m.name, m.kind, m.version, m.digest, m.source
                ));
            }
        }
    }
    print!("{out}");
    Ok(EXIT_OK)
}

fn inspect_command(plugin: &str, format: Format, args: &RuntimeArgs) -> Result<i32, CliError> {
    let registry = registry(args, None)?;
    let path = Path::new(plugin);
    let plugin = if plugin.ends_with(".wasm")
        || (path.is_file() && !registry::builtin_names().any(|b| b == plugin))
    {
        registry.load_file(&PluginFile {
            path: path.to_owned(),
            pin: None,
        })?
    } else {
        registry.get(plugin)?
    };
    // Its description may come from the cache: show that it still compiles.
    registry
        .runtime()
        .prepare_now(&plugin)
        .map_err(CliError::Usage)?;
    let m = &plugin.metadata;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(m).unwrap_or_default()),
        Format::Human => {
            println!("name:        {}", m.name);
            println!("kind:        {}", m.kind);
            println!("version:     {}", m.version);
            println!("source:      {}", m.source);
            println!("digest:      blake3:{}", m.digest);
            println!("description: {}", m.description);
            println!("configuration schema:");
            let schema = serde_json::to_string_pretty(&m.config_schema).unwrap_or_default();
            for line in schema.lines() {
                println!("  {line}");
            }
        }
    }
    Ok(EXIT_OK)
}

/// Exits 1 when the trees differ, as `git diff --exit-code` does.
fn diff_command(args: &DiffArgs, color: bool) -> Result<i32, CliError> {
    let diff = if args.git {
        let scratch = std::env::temp_dir().join(format!("manifold-diff-{}", std::process::id()));
        let result = diff_revisions(
            &scratch,
            &args.old,
            args.new.as_deref(),
            args.cache_dir.as_deref(),
        );
        let _ = std::fs::remove_dir_all(&scratch);
        result?
    } else {
        let Some(new) = &args.new else {
            return Err(CliError::Usage(
                "give two hydrated trees (manifold diff OLD NEW), or --git OLD_REV [NEW_REV]"
                    .into(),
            ));
        };
        crate::diff::diff_trees(Path::new(&args.old), Path::new(new))?
    };
    let text = match args.format {
        DiffFormat::Human => diff.to_human(color),
        DiffFormat::Json => diff.to_json(),
        DiffFormat::Markdown => diff.to_markdown(),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    Ok(if diff.has_differences() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn configurations_become_the_flags_that_give_them() {
        let cases = [
            (json!({}), ""),
            (
                json!({"releaseName": "cache", "valuesFiles": ["a.yaml", "b c.yaml"], "includeCrds": true, "skipTests": false}),
                " --release cache -f a.yaml -f 'b c.yaml' --include-crds",
            ),
            (
                json!({"values": {"replicas": 3}, "set": ["image.tag=1.2"], "namespace": "shop"}),
                " --set-json replicas=3 --set image.tag=1.2 --namespace shop",
            ),
            (
                json!({"reorder": "none", "enableHelm": true, "enableManagedbyLabel": true}),
                " --reorder none --enable-helm --enable-managedby-label",
            ),
            (json!({"set": ["msg=it's"]}), r" --set 'msg=it'\''s'"),
        ];
        for (config, want) in cases {
            assert_eq!(super::command_flags(&config), want, "{config}");
        }
    }
}
