//! The plugins of a run: the built-in ones embedded in the binary, loaded on
//! first use, and external ones loaded from `.wasm` paths.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use crate::runtime::{
    CallError, Composer, Failure, LoadError, Nesting, Plugin, ReadSet, RenderOutput, RenderRequest,
    RepoFs, Runtime, Source,
};

mod embedded {
    use super::Kind;
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
}

/// What a built-in plugin is, known before it is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Render,
    Validate,
}

/// Names of the built-in plugins, in a stable order.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    embedded::BUILTIN.iter().map(|(name, _, _)| *name)
}

/// The digest an external plugin must have, and where it was pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// blake3 of the plugin's bytes, 64 lowercase hex digits (shown and
    /// written as `blake3:<hex>`).
    pub blake3: String,
    /// Where the pin was written, for messages: `manifold.yaml:7` or `--plugin`.
    pub named_in: String,
}

impl Pin {
    /// The hex digits of `blake3:<64 hex digits>`, lowercased, or why not.
    pub fn parse_digest(text: &str) -> Result<String, String> {
        let hex = text.strip_prefix("blake3:").ok_or_else(|| {
            format!(
                "digest {text:?}: expected blake3:<64 hex digits>, as `manifold plugin list` shows"
            )
        })?;
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(hex.to_ascii_lowercase())
        } else {
            Err(format!(
                "digest {text:?}: expected blake3: and 64 hex digits, as `manifold plugin list` shows"
            ))
        }
    }
}

/// An external plugin to load: its `.wasm` file and, if pinned, its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginFile {
    pub path: PathBuf,
    pub pin: Option<Pin>,
}

impl PluginFile {
    /// `PATH` or `PATH@blake3:<hex>`, as `--plugin` takes it.
    pub fn parse_flag(text: &str) -> Result<PluginFile, String> {
        match text.rsplit_once("@blake3:") {
            Some((path, hex)) => Ok(PluginFile {
                path: PathBuf::from(path),
                pin: Some(Pin {
                    blake3: Pin::parse_digest(&format!("blake3:{hex}"))?,
                    named_in: "--plugin".into(),
                }),
            }),
            None => Ok(PluginFile {
                path: PathBuf::from(text),
                pin: None,
            }),
        }
    }
}

/// A plugin could not be found or loaded.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("no plugin named `{name}`: the built-in plugins are {}; load others with --plugin PATH", builtin_names().collect::<Vec<_>>().join(", "))]
    Unknown { name: String },
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(
        "{named_in}: plugin {path} has digest blake3:{actual}, but blake3:{expected} is pinned; it was not loaded. If the plugin changed on purpose, pin its new digest (`manifold plugin inspect {path}` shows it)"
    )]
    DigestMismatch {
        named_in: String,
        path: String,
        expected: String,
        actual: String,
    },
    #[error(
        "built-in plugin `{name}` is not the kind of plugin this build of manifold says it is; rebuild manifold"
    )]
    KindMismatch { name: String },
    #[error(
        "{path}: its plugin is named `{name}`, like a plugin already loaded; plugin names must be unique"
    )]
    Duplicate { path: String, name: String },
}

/// Loaded plugins by name.
pub struct Registry {
    runtime: Runtime,
    loaded: Mutex<BTreeMap<String, Arc<Plugin>>>,
    this: Weak<Registry>,
}

impl Registry {
    pub fn new(runtime: Runtime) -> Arc<Registry> {
        Arc::new_cyclic(|this| Registry {
            runtime,
            loaded: Mutex::new(BTreeMap::new()),
            this: this.clone(),
        })
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    fn cached(&self, name: &str) -> Option<Arc<Plugin>> {
        self.loaded
            .lock()
            .ok()
            .and_then(|loaded| loaded.get(name).cloned())
    }

    /// A plugin by name: one loaded from a path, or a built-in one.
    pub fn get(&self, name: &str) -> Result<Arc<Plugin>, RegistryError> {
        if let Some(plugin) = self.cached(name) {
            return Ok(plugin);
        }
        let (builtin, kind, bytes) = embedded::BUILTIN
            .iter()
            .find(|(builtin, _, _)| *builtin == name)
            .ok_or_else(|| RegistryError::Unknown {
                name: name.to_owned(),
            })?;
        let plugin = Arc::new(self.runtime.load(&Source::Builtin {
            name: builtin,
            bytes,
        })?);
        if plugin.is_renderer() != (*kind == Kind::Render) {
            return Err(RegistryError::KindMismatch {
                name: name.to_owned(),
            });
        }
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded
                .entry(name.to_owned())
                .or_insert_with(|| plugin.clone());
        }
        Ok(plugin)
    }

    /// Loads a plugin from a `.wasm` file and registers it under its name;
    /// a pinned one only if its bytes have the pinned digest.
    pub fn load_file(&self, file: &PluginFile) -> Result<Arc<Plugin>, RegistryError> {
        let path = &file.path;
        let source = Source::File(path.to_owned());
        let expected = file.pin.as_ref().map(|p| p.blake3.as_str());
        let plugin = match self.runtime.load_pinned(&source, expected) {
            Ok(plugin) => Arc::new(plugin),
            Err(LoadError::DigestMismatch {
                expected, actual, ..
            }) => {
                return Err(RegistryError::DigestMismatch {
                    named_in: file
                        .pin
                        .as_ref()
                        .map_or_else(String::new, |p| p.named_in.clone()),
                    path: path.display().to_string(),
                    expected,
                    actual,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let name = plugin.metadata.name.clone();
        if builtin_names().any(|b| b == name) || self.cached(&name).is_some() {
            return Err(RegistryError::Duplicate {
                path: path.display().to_string(),
                name,
            });
        }
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.insert(name, plugin.clone());
        }
        Ok(plugin)
    }

    /// The built-in plugins of one kind, or all of them, compiled in parallel on first use.
    pub fn builtins(&self, kind: Option<Kind>) -> Vec<Result<Arc<Plugin>, RegistryError>> {
        use rayon::prelude::*;
        let names: Vec<&str> = embedded::BUILTIN
            .iter()
            .filter(|(_, k, _)| kind.is_none_or(|kind| kind == *k))
            .map(|(name, _, _)| *name)
            .collect();
        names.par_iter().map(|name| self.get(name)).collect()
    }

    /// Renders `request` with the named renderer; `nesting` as in
    /// [`Runtime::render`].
    pub fn render(
        &self,
        plugin: &Plugin,
        fs: RepoFs,
        request: &RenderRequest,
        nesting: Option<Nesting>,
    ) -> Result<crate::runtime::Rendered, CallError> {
        let composer = self.this.upgrade().map(|this| this as Arc<dyn Composer>);
        self.runtime.render(plugin, fs, request, composer, nesting)
    }
}

impl Composer for Registry {
    fn render_with(
        &self,
        name: &str,
        request: RenderRequest,
        fs: RepoFs,
        nesting: Nesting,
    ) -> Result<(RenderOutput, ReadSet), Failure> {
        let failure = |message: String| Failure {
            message,
            location: None,
        };
        let plugin = self.get(name).map_err(|e| failure(e.to_string()))?;
        if !plugin.is_renderer() {
            return Err(failure(format!(
                "plugin `{name}` is a validator, not a renderer"
            )));
        }
        let config: serde_json::Value = serde_json::from_str(&request.config)
            .map_err(|e| failure(format!("configuration for `{name}` is not JSON: {e}")))?;
        if let Err(problems) = plugin.check_config(&config) {
            let list: Vec<String> = problems
                .into_iter()
                .map(|(p, m)| format!("{p}: {m}"))
                .collect();
            return Err(failure(format!(
                "configuration for `{name}`: {}",
                list.join("; ")
            )));
        }
        let rendered = self
            .render(&plugin, fs, &request, Some(nesting))
            .map_err(|e| failure(e.to_string()))?;
        Ok((rendered.output, rendered.reads))
    }
}
