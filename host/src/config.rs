//! `manifold.yaml`: the repository's configuration (format version 1).
//!
//! The file is checked against `schemas/manifold.schema.json`; each problem
//! is reported with the file, the line and the dotted path of the offending
//! key, so a typo is one glance away from its fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use manifold_yaml::ParseOptions;
use serde::Deserialize;
use serde_json::Value;

use crate::registry::{Pin, PluginFile};

/// The configuration file's name, at the repository root.
pub const FILE_NAME: &str = "manifold.yaml";

/// The JSON schema of the configuration file.
pub const SCHEMA: &str = include_str!("../../schemas/manifold.schema.json");

/// A bad configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not valid YAML: {message}")]
    Yaml {
        path: PathBuf,
        line: u32,
        column: u32,
        message: String,
    },
    #[error("{}", problems.iter().map(|p| p.located(path)).collect::<Vec<_>>().join("\n"))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u32,
    /// Dotted path of the offending key (`validators.labels.require[0]`).
    pub key: String,
    pub message: String,
}

impl Problem {
    /// `file:line: key: message`, without a line when there is none (a
    /// problem in a command-line flag).
    fn located(&self, path: &Path) -> String {
        match self.line {
            0 => format!("{}: {}: {}", path.display(), self.key, self.message),
            line => format!("{}:{line}: {}: {}", path.display(), self.key, self.message),
        }
    }
}

/// Per-validator setting.
#[derive(Debug, Clone, PartialEq)]
pub enum ValidatorSetting {
    Enabled(Value),
    Disabled,
}

/// A target named in the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSetting {
    pub name: Option<String>,
    /// Folder relative to the repository root.
    pub path: String,
    /// The renderer's configuration (checked against its schema when rendering).
    pub config: Value,
}

/// The parsed configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it was read from, if anywhere.
    pub path: Option<PathBuf>,
    pub validators: BTreeMap<String, ValidatorSetting>,
    /// External plugins, paths resolved against the file's folder.
    pub plugins: Vec<PluginFile>,
    pub targets: Vec<TargetSetting>,
    /// Repository paths discovery leaves out.
    pub ignore: Vec<String>,
    pub timeout_seconds: Option<f64>,
    pub memory_mib: Option<u64>,
    /// The parsed document, to place later problems (a plugin's own schema).
    document: Option<manifold_yaml::Document>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(default)]
    validators: BTreeMap<String, Value>,
    #[serde(default)]
    plugins: Vec<RawPlugin>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    targets: Vec<RawTarget>,
    #[serde(default)]
    ignore: Vec<String>,
}

#[derive(Deserialize)]
struct RawTarget {
    name: Option<String>,
    path: String,
    #[serde(default)]
    config: Option<Value>,
}

#[derive(Deserialize)]
struct RawPlugin {
    path: String,
    digest: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawLimits {
    timeout_seconds: Option<f64>,
    #[serde(rename = "memoryMiB")]
    memory_mib: Option<u64>,
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            source: e,
        })?;
        Config::parse(path, &text)
    }

    /// Parses configuration text; `path` is used in messages and to resolve
    /// plugin paths.
    pub fn parse(path: &Path, text: &[u8]) -> Result<Config, ConfigError> {
        let options = ParseOptions {
            positions: true,
            ..ParseOptions::default()
        };
        let yaml_error = |e: manifold_yaml::Error| ConfigError::Yaml {
            path: path.to_owned(),
            line: e.line,
            column: e.column,
            message: e.message,
        };
        let mut documents = manifold_yaml::parse_bytes(text, &options).map_err(yaml_error)?;
        documents.retain(|d| !d.value.is_null());
        if documents.len() > 1 {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                problems: vec![Problem {
                    line: documents.get(1).map_or(1, |d| d.line),
                    key: "(file)".into(),
                    message: "holds several YAML documents; put the configuration in one".into(),
                }],
            });
        }
        let Some(document) = documents.pop() else {
            return Ok(Config {
                path: Some(path.to_owned()),
                ..Config::default()
            });
        };
        let schema: Value = serde_json::from_str(SCHEMA).unwrap_or(Value::Bool(true));
        let validator = jsonschema::validator_for(&schema).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            problems: vec![Problem {
                line: 0,
                key: "(schema)".into(),
                message: e.to_string(),
            }],
        })?;
        let problems: Vec<Problem> = validator
            .iter_errors(&document.value)
            .map(|e| {
                let pointer = e.instance_path().to_string();
                Problem {
                    line: document.line_of(&pointer).unwrap_or(document.line),
                    key: dotted(&pointer),
                    message: e.to_string(),
                }
            })
            .collect();
        if !problems.is_empty() {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                problems,
            });
        }
        let raw: Raw =
            serde_json::from_value(document.value.clone()).map_err(|e| ConfigError::Invalid {
                path: path.to_owned(),
                problems: vec![Problem {
                    line: document.line,
                    key: "(file)".into(),
                    message: e.to_string(),
                }],
            })?;
        let problems = target_problems(&raw.targets, &document);
        if !problems.is_empty() {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                problems,
            });
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let mut plugins = Vec::new();
        let mut problems = Vec::new();
        for (i, plugin) in raw.plugins.into_iter().enumerate() {
            let pointer = format!("/plugins/{i}/digest");
            let line = document.line_of(&pointer).unwrap_or(document.line);
            let pin = match plugin.digest.as_deref().map(Pin::parse_digest) {
                None => None,
                Some(Ok(blake3)) => Some(Pin {
                    blake3,
                    named_in: format!("{}:{line}", path.display()),
                }),
                Some(Err(message)) => {
                    problems.push(Problem {
                        line,
                        key: dotted(&pointer),
                        message,
                    });
                    None
                }
            };
            plugins.push(PluginFile {
                path: base.join(plugin.path),
                pin,
            });
        }
        if !problems.is_empty() {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                problems,
            });
        }
        Ok(Config {
            path: Some(path.to_owned()),
            validators: raw
                .validators
                .into_iter()
                .map(|(name, v)| {
                    let setting = match v {
                        Value::Bool(false) => ValidatorSetting::Disabled,
                        Value::Bool(true) => {
                            ValidatorSetting::Enabled(Value::Object(Default::default()))
                        }
                        v => ValidatorSetting::Enabled(v),
                    };
                    (name, setting)
                })
                .collect(),
            plugins,
            targets: raw
                .targets
                .into_iter()
                .map(|t| TargetSetting {
                    name: t.name,
                    path: t.path,
                    config: t
                        .config
                        .unwrap_or_else(|| Value::Object(Default::default())),
                })
                .collect(),
            ignore: raw.ignore,
            timeout_seconds: raw.limits.timeout_seconds,
            memory_mib: raw.limits.memory_mib,
            document: Some(document),
        })
    }

    /// Finds `manifold.yaml` in `start` or its parents, stopping at the
    /// repository root (a folder holding `.git`).
    pub fn discover(start: &Path) -> Option<PathBuf> {
        let start = std::fs::canonicalize(start).ok()?;
        let mut dir = if start.is_dir() {
            start.as_path()
        } else {
            start.parent()?
        };
        loop {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
            if dir.join(".git").exists() {
                return None;
            }
            dir = dir.parent()?;
        }
    }

    /// Turns problems found in a validator's section (pointers relative to
    /// it) into a located error.
    pub fn section_error(&self, validator: &str, problems: Vec<(String, String)>) -> ConfigError {
        let path = self
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from("--require-label"));
        let escaped = validator.replace('~', "~0").replace('/', "~1");
        let problems = problems
            .into_iter()
            .map(|(pointer, message)| {
                let full = format!("/validators/{escaped}{pointer}");
                let line = self
                    .document
                    .as_ref()
                    .map_or(0, |d| d.line_of(&full).unwrap_or(d.line));
                Problem {
                    line,
                    key: dotted(&full),
                    message,
                }
            })
            .collect();
        ConfigError::Invalid { path, problems }
    }
}

/// Target names become folders of the hydrated tree and paths are read by
/// plugins: neither may leave its tree.
fn target_problems(targets: &[RawTarget], document: &manifold_yaml::Document) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let mut problem = |field: &str, message: String| {
            let pointer = format!("/targets/{i}/{field}");
            problems.push(Problem {
                line: document.line_of(&pointer).unwrap_or(document.line),
                key: dotted(&pointer),
                message,
            });
        };
        if let Some(name) = &target.name
            && !crate::output::is_safe_name(name)
        {
            problem(
                "name",
                format!(
                    "{name:?} would put the target's output outside its own folder of the hydrated tree; use `/`-separated folder names without empty, `.` or `..` parts"
                ),
            );
        }
        if target.path.starts_with('/') || crate::discover::clean(&target.path).is_none() {
            problem(
                "path",
                format!(
                    "{:?} is outside the repository; target paths are relative to the repository root",
                    target.path
                ),
            );
        }
    }
    problems
}

/// `/validators/labels/require/0` → `validators.labels.require[0]`.
pub fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    if out.is_empty() {
        "(top level)".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn good_configuration() {
        let text = b"version: 1\nvalidators:\n  labels:\n    require:\n      - key: team\n  secrets: false\nplugins:\n  - path: p/x.wasm\n";
        let config = Config::parse(Path::new("repo/manifold.yaml"), text).unwrap();
        assert!(matches!(
            config.validators.get("secrets"),
            Some(ValidatorSetting::Disabled)
        ));
        assert_eq!(
            config.plugins,
            vec![PluginFile {
                path: PathBuf::from("repo/p/x.wasm"),
                pin: None
            }]
        );
    }

    #[test]
    fn problems_name_key_and_line() {
        for (text, want) in [
            (
                &b"version: 1\nvalidaters: {}\n"[..],
                "manifold.yaml:1: (top level): ",
            ),
            (b"version: 2\n", "manifold.yaml:1: version: "),
            (
                b"plugins:\n  - path: a\n    digest: 3\n",
                "manifold.yaml:3: plugins[0].digest: ",
            ),
            (
                b"plugins:\n  - path: a\n    digest: sha256:00\n",
                "manifold.yaml:3: plugins[0].digest: ",
            ),
            (
                b"plugins:\n  - path: a\n    pin: x\n",
                "manifold.yaml:2: plugins[0]: ",
            ),
            (
                b"targets:\n  - path: apps\n    name: ../../etc\n",
                "manifold.yaml:3: targets[0].name: ",
            ),
            (
                b"targets:\n  - path: apps\n    name: a//b\n",
                "manifold.yaml:3: targets[0].name: ",
            ),
            (
                b"targets:\n  - path: apps/../../x\n",
                "manifold.yaml:2: targets[0].path: ",
            ),
            (
                b"targets:\n  - path: /etc\n",
                "manifold.yaml:2: targets[0].path: ",
            ),
            (
                b"limits:\n  timeoutSeconds: fast\n",
                "manifold.yaml:2: limits.timeoutSeconds: ",
            ),
            (
                b"validators:\n  labels: [a]\n",
                "manifold.yaml:2: validators.labels: ",
            ),
            (b"validators: {\n", "manifold.yaml:"),
        ] {
            let err = Config::parse(Path::new("manifold.yaml"), text)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }

    #[test]
    fn pinned_plugins_keep_their_digest_and_where_it_was_written() {
        let hex = "ab".repeat(32);
        let text = format!(
            "plugins:\n  - path: p/x.wasm\n    digest: blake3:{}\n",
            hex.to_uppercase()
        );
        let config = Config::parse(Path::new("repo/manifold.yaml"), text.as_bytes()).unwrap();
        assert_eq!(
            config.plugins[0].pin,
            Some(Pin {
                blake3: hex,
                named_in: "repo/manifold.yaml:3".into()
            })
        );
    }

    #[test]
    fn dotted_paths() {
        assert_eq!(
            dotted("/validators/labels/require/0/key"),
            "validators.labels.require[0].key"
        );
        assert_eq!(dotted("/a~1b"), "a/b");
        assert_eq!(dotted(""), "(top level)");
    }
}
