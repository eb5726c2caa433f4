//! The built-in validators' command-line flags, as configuration.
//!
//! kubeconform's flags (`--kube-version`, `--strict`, `--schema-location`,
//! `--skip`, `--reject`, `--missing-schemas`) and conftest's (`--policy`,
//! `--data`, `--namespace`) become keys of the `schema` and `policy`
//! sections of `manifold.yaml`, which they override. Paths are resolved here,
//! in the host: flags relative to the working folder, configuration relative
//! to its file. Policy and data files are read here too (the policy plugin
//! reads no files); schema locations are handed to the schema plugin as
//! paths it reads through the sandbox — repository-relative, or absolute in
//! a folder outside the repository that the user named, which is granted.

use std::path::{Component, Path, PathBuf};

use clap::{Args, ValueEnum};
use manifold_yaml::{Duplicates, ParseOptions};
use serde_json::{Map, Value, json};

use crate::config::{Config, ValidatorSetting};
use crate::manifest::display;

/// A flag or a configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FlagError(String);

/// kubeconform's flags, for the `schema` validator.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Schema validation (kubeconform flags)")]
pub struct SchemaFlags {
    /// Kubernetes version of the schemas: 1.30, v1.30.2 or master (default: the newest embedded).
    #[arg(long = "kube-version", value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Reject fields a schema does not declare, and duplicate YAML keys (the default).
    #[arg(long, overrides_with = "no_strict")]
    pub strict: bool,
    /// Accept fields a schema does not declare; a duplicate YAML key keeps its last value.
    #[arg(long = "no-strict", overrides_with = "strict")]
    pub no_strict: bool,
    /// Where schemas are looked up, in order: `default` (embedded), a folder, or a path template with {{ .ResourceKind }}, {{ .ResourceAPIVersion }}, {{ .Group }}, {{ .KindSuffix }}, {{ .StrictSuffix }}, {{ .NormalizedKubernetesVersion }} (repeatable).
    #[arg(long = "schema-location", value_name = "LOCATION")]
    pub schema_locations: Vec<String>,
    /// Kinds not to validate: Kind or apiVersion/Kind, comma-separated (repeatable).
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Kinds that are an error wherever they appear: Kind or apiVersion/Kind, comma-separated (repeatable).
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    pub reject: Vec<String>,
    /// What a resource without a schema gets [default: warn].
    #[arg(long = "missing-schemas", value_enum, value_name = "WHAT")]
    pub missing_schemas: Option<MissingSchemas>,
    /// Leave out files whose path matches this regular expression (repeatable).
    #[arg(long = "ignore-filename-pattern", value_name = "REGEX")]
    pub ignore_filename_patterns: Vec<String>,
}

/// What a resource without a schema gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MissingSchemas {
    Error,
    Warn,
    Skip,
}

/// conftest's and Gatekeeper's flags, for the `policy` validator.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Policy (conftest and Gatekeeper)")]
pub struct PolicyFlags {
    /// A .rego file, a YAML file of ConstraintTemplates and constraints, or a folder of them (repeatable).
    #[arg(long = "policy", value_name = "PATH")]
    pub policies: Vec<PathBuf>,
    /// Data: Kubernetes objects are existing cluster state (Gatekeeper's data.inventory, not validated); other YAML/JSON is merged under `data` (repeatable).
    #[arg(long = "data", value_name = "PATH")]
    pub data: Vec<PathBuf>,
    /// conftest package whose deny/violation/warn rules are queried (repeatable; default: main).
    #[arg(long = "namespace", value_name = "PACKAGE")]
    pub namespaces: Vec<String>,
}

/// What the run needs besides the configuration sections.
#[derive(Debug, Default)]
pub struct Applied {
    /// Folders outside the repository that validators may read.
    pub grants: Vec<PathBuf>,
    /// Policy and data paths: not manifests to check.
    pub exclude: Vec<PathBuf>,
    /// Files whose path matches one of these are not read.
    pub ignore: Vec<regex::Regex>,
    /// Duplicate YAML keys: errors unless schema validation is not strict.
    pub duplicate_keys: Duplicates,
}

impl Applied {
    /// The policy and data paths inside `root` (canonical), as repository
    /// paths: folders discovery must not take for targets.
    pub fn excluded_under(&self, root: &Path) -> Vec<String> {
        self.exclude
            .iter()
            .filter_map(|p| std::fs::canonicalize(p).ok())
            .filter_map(|p| {
                p.strip_prefix(root)
                    .ok()
                    .map(|r| r.to_string_lossy().replace('\\', "/"))
            })
            .filter(|r| !r.is_empty())
            .collect()
    }
}

/// The repository root: the folder of the configuration file, else the
/// nearest folder holding `.git` above the first path, else the working
/// folder. Canonical.
pub fn repository_root(config: Option<&Path>, paths: &[PathBuf], cwd: &Path) -> PathBuf {
    if let Some(dir) = config
        .and_then(|c| std::fs::canonicalize(c).ok())
        .and_then(|c| c.parent().map(Path::to_owned))
    {
        return dir;
    }
    let start = paths
        .first()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .unwrap_or_else(|| cwd.to_owned());
    start
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map_or_else(|| cwd.to_owned(), Path::to_owned)
}

/// Resolves the `schema` and `policy` sections (paths, files) and lays the
/// flags over them. `root` and `cwd` are canonical.
pub fn apply(
    config: &mut Config,
    schema: &SchemaFlags,
    policy: &PolicyFlags,
    root: &Path,
    cwd: &Path,
) -> Result<Applied, FlagError> {
    let base = config
        .path
        .as_deref()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .and_then(|p| p.parent().map(Path::to_owned))
        .unwrap_or_else(|| root.to_owned());
    let mut applied = Applied::default();
    for pattern in &schema.ignore_filename_patterns {
        let regex = regex::Regex::new(pattern).map_err(|e| {
            FlagError(format!(
                "--ignore-filename-pattern {pattern:?}: not a regular expression: {e}"
            ))
        })?;
        applied.ignore.push(regex);
    }

    let schema_flags = schema.kube_version.is_some()
        || schema.strict
        || schema.no_strict
        || !schema.schema_locations.is_empty()
        || !schema.skip.is_empty()
        || !schema.reject.is_empty()
        || schema.missing_schemas.is_some();
    if let Some(section) = section(config, "schema", schema_flags) {
        if let Some(Value::Array(locations)) = section.get_mut("schemaLocations") {
            for location in locations.iter_mut() {
                if let Value::String(text) = location {
                    *text = resolve_location(text, &base, root, &mut applied.grants)?;
                }
            }
        }
        if let Some(version) = &schema.kube_version {
            section.insert("kubeVersion".into(), json!(version));
        }
        if schema.strict || schema.no_strict {
            section.insert("strict".into(), json!(schema.strict));
        }
        if !schema.schema_locations.is_empty() {
            let mut resolved = Vec::new();
            for location in &schema.schema_locations {
                resolved.push(resolve_location(location, cwd, root, &mut applied.grants)?);
            }
            section.insert("schemaLocations".into(), json!(resolved));
        }
        for (key, kinds) in [("skip", &schema.skip), ("reject", &schema.reject)] {
            if !kinds.is_empty() {
                section.insert(key.into(), json!(kinds));
            }
        }
        if let Some(missing) = schema.missing_schemas {
            let value = match missing {
                MissingSchemas::Error => "error",
                MissingSchemas::Warn => "warn",
                MissingSchemas::Skip => "skip",
            };
            section.insert("missingSchemas".into(), json!(value));
        }
        // kubeconform's -strict covers duplicate keys too; the YAML layer
        // is the one that sees them.
        if section.get("strict") == Some(&Value::Bool(false)) {
            applied.duplicate_keys = Duplicates::LastWins;
        }
    }

    let policy_flags =
        !policy.policies.is_empty() || !policy.data.is_empty() || !policy.namespaces.is_empty();
    if let Some(section) = section(config, "policy", policy_flags) {
        let mut policies = Vec::new();
        let mut configured_data = Vec::new();
        for (key, out) in [("policies", &mut policies), ("data", &mut configured_data)] {
            if let Some(Value::Array(entries)) = section.get(key) {
                out.extend(
                    entries
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|p| base.join(p)),
                );
            }
        }
        if !policy.policies.is_empty() {
            policies = policy.policies.clone();
        }
        if !policy.data.is_empty() {
            configured_data = policy.data.clone();
        }
        // Inline sources (`{name, text}`) in the configuration stay as they are.
        let inline = |key: &str| -> Vec<Value> {
            section
                .get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter(|v| !v.is_string()).cloned().collect())
                .unwrap_or_default()
        };
        let mut sources = inline("policies");
        for path in &policies {
            for file in files_under(path, &["rego", "yaml", "yml", "json"], "--policy")? {
                let text = read_text(&file, "--policy")?;
                sources.push(json!({"name": display(&relative(&file, root, cwd)), "text": text}));
            }
        }
        let mut data = inline("data");
        let mut inventory: Vec<Value> = section
            .get("inventory")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for path in &configured_data {
            for file in files_under(path, &["yaml", "yml", "json"], "--data")? {
                split_data(&file, root, cwd, &mut data, &mut inventory)?;
            }
        }
        if !sources.is_empty() || section.contains_key("policies") {
            section.insert("policies".into(), Value::Array(sources));
        }
        if !data.is_empty() || section.contains_key("data") {
            section.insert("data".into(), Value::Array(data));
        }
        if !inventory.is_empty() {
            section.insert("inventory".into(), Value::Array(inventory));
        }
        if !policy.namespaces.is_empty() {
            section.insert("namespaces".into(), json!(policy.namespaces));
        }
        applied.exclude.extend(policies);
        applied.exclude.extend(configured_data);
    }
    Ok(applied)
}

/// The configuration section of a validator as an object: created when
/// flags name it (flags also turn a disabled validator back on); `None` when
/// it is disabled, or not an object (the plugin's schema check reports that).
fn section<'a>(
    config: &'a mut Config,
    name: &str,
    flags: bool,
) -> Option<&'a mut Map<String, Value>> {
    let entry = config.validators.entry(name.to_owned());
    let setting = if flags {
        let setting = entry.or_insert_with(|| ValidatorSetting::Enabled(json!({})));
        if *setting == ValidatorSetting::Disabled {
            *setting = ValidatorSetting::Enabled(json!({}));
        }
        setting
    } else {
        match entry {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(_) => return None,
        }
    };
    match setting {
        ValidatorSetting::Enabled(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// A schema location for the plugin: `default` as it is; a path made
/// absolute from `base`, then repository-relative when inside `root`, else
/// kept absolute with its folder granted.
fn resolve_location(
    location: &str,
    base: &Path,
    root: &Path,
    grants: &mut Vec<PathBuf>,
) -> Result<String, FlagError> {
    if location == "default" {
        return Ok(location.to_owned());
    }
    if location.starts_with("http://") || location.starts_with("https://") {
        return Err(FlagError(format!(
            "schema location {location}: manifold does not use the network; download the schemas into a folder and name the folder (or a path template in it)"
        )));
    }
    let full = normalize(&base.join(location));
    if let Ok(inside) = full.strip_prefix(root) {
        let text = inside.to_string_lossy().replace('\\', "/");
        return Ok(if text.is_empty() { ".".into() } else { text });
    }
    let text = full.to_string_lossy().into_owned();
    // The part before the first template variable names the folder read.
    let fixed = text.split("{{").next().unwrap_or_default();
    let folder = if text.contains("{{") || text.ends_with("json") {
        fixed.rsplit_once('/').map_or(fixed, |(dir, _)| dir)
    } else {
        fixed
    };
    grants.push(PathBuf::from(folder));
    Ok(text)
}

/// Removes `.` and resolves `..` without touching the disk (the path may
/// hold template variables).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// How messages name a policy or data file: relative to the repository
/// root when it is inside it, like every other file of a report, else to
/// the working folder. Names reach the plugin's configuration, so a name
/// that changed with the working folder would also make every cached
/// verdict of the validator miss.
fn relative(path: &Path, root: &Path, cwd: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .ok()
        .and_then(|p| {
            p.strip_prefix(root)
                .or_else(|_| p.strip_prefix(cwd))
                .ok()
                .map(Path::to_owned)
        })
        .unwrap_or_else(|| path.to_owned())
}

/// A file, or the files with these extensions under a folder (sorted,
/// hidden entries left out).
fn files_under(path: &Path, extensions: &[&str], flag: &str) -> Result<Vec<PathBuf>, FlagError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| FlagError(format!("{flag} {}: {e}", path.display())))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| FlagError(format!("{flag} {}: {e}", dir.display())))?;
        for entry in entries.filter_map(Result::ok) {
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if extensions
                .iter()
                .any(|e| name.rsplit_once('.').is_some_and(|(_, ext)| ext == *e))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_text(path: &Path, flag: &str) -> Result<String, FlagError> {
    let bytes = std::fs::read(path)
        .map_err(|e| FlagError(format!("{flag} {}: cannot read it: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| FlagError(format!("{flag} {}: not UTF-8 text", path.display())))
}

/// Sorts a data file's documents: Kubernetes objects are cluster state
/// (`inventory`); anything else is conftest data, merged under `data`.
fn split_data(
    path: &Path,
    root: &Path,
    cwd: &Path,
    data: &mut Vec<Value>,
    inventory: &mut Vec<Value>,
) -> Result<(), FlagError> {
    let name = display(&relative(path, root, cwd));
    let text = read_text(path, "--data")?;
    let documents =
        manifold_yaml::parse_documents(&text, &ParseOptions::default()).map_err(|e| {
            FlagError(format!(
                "--data {name}:{}: not valid YAML: {}",
                e.line, e.message
            ))
        })?;
    let is_object = |v: &Value| {
        v.get("apiVersion").is_some_and(Value::is_string)
            && v.get("kind").is_some_and(Value::is_string)
    };
    let values: Vec<Value> = documents
        .into_iter()
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .collect();
    if !values.iter().any(is_object) {
        // Passed whole, so errors in it keep their lines.
        data.push(json!({"name": name, "text": text}));
        return Ok(());
    }
    for value in values {
        if is_object(&value) {
            inventory.push(value);
        } else {
            data.push(json!({"name": name, "text": value.to_string()}));
        }
    }
    Ok(())
}
