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
    // A build that embeds no plugin (cargo fuzz) names no kind.
    #[allow(unused_imports)]
    use super::{Builtin, Kind};
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
}

/// A plugin embedded in the binary, as host/build.rs describes it.
#[derive(Debug)]
struct Builtin {
    name: &'static str,
    kind: Kind,
    /// The component's bytes.
    wasm: &'static [u8],
    /// blake3 of `wasm`, hex.
    digest: &'static str,
    /// `wasm` compiled for this binary's engine configuration; `None` where
    /// the build could not (a cross build, or the `precompile-builtins`
    /// feature off).
    compiled: Option<&'static [u8]>,
}

impl Builtin {
    fn source(&self) -> Source {
        Source::Builtin {
            name: self.name,
            bytes: self.wasm,
            digest: self.digest,
            compiled: self.compiled,
        }
    }
}

/// What a built-in plugin is, known before it is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Render,
    Validate,
}

/// Names of the built-in plugins, in a stable order.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    embedded::BUILTIN.iter().map(|builtin| builtin.name)
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
        let builtin = embedded::BUILTIN
            .iter()
            .find(|builtin| builtin.name == name)
            .ok_or_else(|| RegistryError::Unknown {
                name: name.to_owned(),
            })?;
        let plugin = Arc::new(self.runtime.load(&builtin.source())?);
        if plugin.is_renderer() != (builtin.kind == Kind::Render) {
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
            .filter(|builtin| kind.is_none_or(|kind| kind == builtin.kind))
            .map(|builtin| builtin.name)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::runtime::RuntimeOptions;
    use std::path::Path;

    /// The smallest built-in, the quickest to compile.
    fn smallest() -> &'static Builtin {
        embedded::BUILTIN
            .iter()
            .min_by_key(|builtin| builtin.wasm.len())
            .unwrap()
    }

    /// The compiled plugins in a cache folder.
    fn entries(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
                    .count()
            })
            .unwrap_or(0)
    }

    #[test]
    fn the_embedded_digests_are_the_blake3_of_the_embedded_bytes() {
        for builtin in embedded::BUILTIN {
            assert_eq!(
                builtin.digest,
                blake3::hash(builtin.wasm).to_hex().as_str(),
                "{}",
                builtin.name
            );
        }
    }

    #[test]
    fn unusable_embedded_code_falls_back_to_compiling() {
        let builtin = smallest();
        // Valid compiled code, but for an engine without epoch interruption:
        // the runtime's engine must refuse it, not run it without deadlines.
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        // Leaked: a built-in's code lives as long as the program.
        let other: &'static [u8] = wasmtime::Engine::new(&config)
            .unwrap()
            .precompile_component(builtin.wasm)
            .unwrap()
            .leak();
        let embedded = builtin.compiled.unwrap_or_default();
        let truncated = &embedded[..embedded.len() / 2];
        let dir = std::env::temp_dir().join(format!("manifold-embedded-{}", std::process::id()));
        // (case, embedded code, compiled plugins in the cache afterwards).
        // The cache is shared: the first fallback compiles and stores the
        // plugin, the later ones may load it from there. The code as built
        // comes first and must load without compiling; a build without it
        // (a cross build, or the feature off) leaves that case out.
        let cases: Vec<(&str, Option<&[u8]>, usize)> = [
            builtin.compiled.map(|code| ("as built", Some(code), 0)),
            Some(("none", None, 1)),
            Some(("garbage", Some(b"not compiled code".as_slice()), 1)),
            Some(("empty", Some([].as_slice()), 1)),
            Some(("truncated", Some(truncated), 1)),
            Some(("another engine", Some(other), 1)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let _ = std::fs::remove_dir_all(&dir);
        let runtime = Runtime::new(&RuntimeOptions {
            precompiled_dir: Some(dir.clone()),
            ..RuntimeOptions::default()
        })
        .unwrap();
        assert!(runtime.has_precompiled_cache());
        for (case, compiled, cached) in cases {
            let plugin = runtime
                .load(&Source::Builtin {
                    name: builtin.name,
                    bytes: builtin.wasm,
                    digest: builtin.digest,
                    compiled,
                })
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            // Its description is cached after the first case: the code is
            // loaded on the first call.
            runtime
                .prepare_now(&plugin)
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(plugin.metadata.name, builtin.name, "{case}");
            assert_eq!(plugin.metadata.digest, builtin.digest, "{case}");
            assert_eq!(entries(&dir), cached, "{case}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
