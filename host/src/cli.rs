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
use crate::flags::{self, FlagError, PolicyFlags, SchemaFlags};
use crate::registry::{self, Registry, RegistryError};
use crate::report::Report;
use crate::runtime::{Limits, LogLevel, RepoFs, Runtime, RuntimeOptions, default_cache_dir};
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
    /// List and inspect plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
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
    schema: SchemaFlags,
    #[command(flatten)]
    policy: PolicyFlags,
    #[command(flatten)]
    runtime: RuntimeArgs,
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
    Flags(#[from] FlagError),
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
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|e| CliError::Usage(format!("cannot read the working folder: {e}")))?;
    let root = flags::repository_root(config_path.as_deref(), &args.paths, &cwd);
    let applied = flags::apply(&mut config, &args.schema, &args.policy, &root, &cwd)?;
    let registry = registry(&args.runtime, Some(&config))?;
    let mut plugin_paths = config.plugins.clone();
    plugin_paths.extend(args.plugins.iter().cloned());
    let validators = select_validators(&registry, &config, &plugin_paths)?;

    let read_options = manifest::ReadOptions {
        duplicate_keys: applied.duplicate_keys,
        exclude: applied.exclude,
    };
    let inputs = manifest::read(&args.paths, &read_options);
    let fs = RepoFs::new(&root)
        .ok()
        .map(|fs| fs.with_grants(&applied.grants));
    let outcome = validate::run(registry.runtime(), &validators, &inputs.objects, fs);
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
    for result in registry.builtins() {
        let plugin = result?;
        if !plugin.is_renderer() {
            chosen.push(plugin);
        }
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
    for result in registry.builtins() {
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
