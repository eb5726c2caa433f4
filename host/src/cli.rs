//! The command line: parses arguments, runs a command, and turns the
//! outcome into an exit code (0 clean, 1 findings at error severity,
//! 2 usage or internal error).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::config::{Config, ConfigError, ValidatorSetting};
use crate::registry::{self, Registry, RegistryError};
use crate::render::{self as rendering, Kind, RenderError, Target};
use crate::report::Report;
use crate::runtime::{Limits, LogLevel, Runtime, RuntimeOptions, default_cache_dir};
use crate::{manifest, validate};

/// Exit code: nothing at error severity.
pub const EXIT_OK: i32 = 0;
/// Exit code: at least one finding at error severity.
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

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifest files and folders with the configured validators.
    Validate(ValidateArgs),
    /// Render a kustomization (as `kustomize build`) or a Helm chart (as `helm template`).
    Render(RenderArgs),
    /// List and inspect plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
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
    /// The hydrated tree before the change.
    old: PathBuf,
    /// The hydrated tree after the change.
    new: PathBuf,
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
    /// The configuration file (default: manifold.yaml found from the first path up to the repository root).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Require a label on every object: KEY, or KEY=REGEX for its value (repeatable).
    #[arg(long = "require-label", value_name = "KEY[=REGEX]")]
    require_label: Vec<String>,
    /// Load an extra plugin from a .wasm file (repeatable).
    #[arg(long = "plugin", value_name = "PATH")]
    plugins: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

#[derive(Debug, Args)]
struct RenderArgs {
    /// A folder holding a kustomization.yaml or a Chart.yaml.
    path: PathBuf,
    /// Write the stream to DIR/manifest.yaml (atomically) instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    kustomize: KustomizeArgs,
    #[command(flatten)]
    helm: HelmArgs,
    #[command(flatten)]
    runtime: RuntimeArgs,
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

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// List the built-in plugins and those loaded with --plugin.
    List {
        #[arg(long = "plugin", value_name = "PATH")]
        plugins: Vec<PathBuf>,
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
    Render(#[from] RenderError),
    #[error(transparent)]
    Diff(#[from] crate::diff::DiffError),
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
        Command::Render(args) => render_command(args, cli.verbose),
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
        Command::Diff(args) => diff_command(&args, color).map_err(CliError::from),
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

fn validate_command(args: ValidateArgs, color: bool, verbose: bool) -> Result<i32, CliError> {
    let config_path = match &args.config {
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
    add_required_labels(&mut config, &args.require_label)?;
    let registry = registry(&args.runtime, Some(&config))?;
    let mut plugin_paths = config.plugins.clone();
    plugin_paths.extend(args.plugins.iter().cloned());
    let validators = select_validators(&registry, &config, &plugin_paths)?;

    let inputs = manifest::read(&args.paths);
    let outcome = validate::run(registry.runtime(), &validators, &inputs.objects);
    for (plugin, line) in &outcome.logs {
        if verbose || line.level >= LogLevel::Info {
            eprintln!("{plugin}: {}", line.message);
        }
    }
    let mut diagnostics = inputs.problems;
    diagnostics.extend(outcome.diagnostics);
    let report = Report::new(diagnostics, inputs.files, inputs.documents);
    let text = match args.format {
        Format::Human => report.to_human(color),
        Format::Json => report.to_json(),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    for path in &inputs.missing {
        eprintln!("manifold: {}: no such file or folder", path.display());
    }
    Ok(if !inputs.missing.is_empty() {
        EXIT_USAGE
    } else if report.has_errors() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

fn render_command(args: RenderArgs, verbose: bool) -> Result<i32, CliError> {
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
    let registry = registry(&args.runtime, None)?;
    let rendered = rendering::render(&registry, &target, &config);
    let rendered = match rendered {
        Ok(rendered) => rendered,
        Err(RenderError::Plugin(e)) => {
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
        Some(dir) => write_atomically(&dir.join("manifest.yaml"), stream.as_bytes())
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

/// Writes through a temporary file in the same folder and a rename, so a
/// reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
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
    plugin_paths: &[PathBuf],
) -> Result<Vec<validate::Validator>, CliError> {
    let mut chosen: Vec<Arc<crate::runtime::Plugin>> = Vec::new();
    for result in registry.builtins(Some(registry::Kind::Validate)) {
        chosen.push(result?);
    }
    for path in plugin_paths {
        let plugin = registry.load_file(path)?;
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

fn list_command(paths: &[PathBuf], format: Format, args: &RuntimeArgs) -> Result<i32, CliError> {
    let registry = registry(args, None)?;
    let mut plugins = Vec::new();
    for result in registry.builtins(None) {
        plugins.push(result?);
    }
    for path in paths {
        plugins.push(registry.load_file(path)?);
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
            out.push_str(&format!(
                "{:<12} {:<10} {:<9} {:<14} {}\n",
                "NAME", "KIND", "VERSION", "DIGEST", "SOURCE"
            ));
            for p in &plugins {
                let m = &p.metadata;
                let digest: String = m.digest.chars().take(12).collect();
                out.push_str(&format!(
                    "{:<12} {:<10} {:<9} {:<14} {}\n",
                    m.name, m.kind, m.version, digest, m.source
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
        registry.load_file(path)?
    } else {
        registry.get(plugin)?
    };
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
fn diff_command(args: &DiffArgs, color: bool) -> Result<i32, crate::diff::DiffError> {
    let diff = crate::diff::diff_trees(&args.old, &args.new)?;
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
