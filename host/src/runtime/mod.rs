//! The plugin runtime: manifold's one narrow wrapper around wasmtime.
//!
//! A [`Runtime`] owns the engine (component model, epoch interruption, the
//! pooling allocator when the address space allows it) and a linker per
//! plugin world. [`Runtime::load`] reads a plugin's metadata (from the
//! on-disk cache when this plugin was loaded before); its code is compiled
//! (or taken from the cache) and prepared as an `InstancePre` on its first
//! call, so a run answered from the result cache compiles nothing. Each call
//! then instantiates into a fresh [`Store`] with its own deadline
//! and memory cap: nothing survives from one call to the next, and a plugin
//! that traps, loops, exhausts its memory or answers nonsense fails that call
//! only, with a [`CallError`] saying which plugin, on what input and why.

pub mod answer;
mod bindings;
mod engine;
mod epoch;
mod fs;
mod host;
mod precompiled;
mod sandbox;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, Trap};

pub use bindings::types::{
    Diagnostic, Failure, Location, Manifest, Origin, PluginKind, RenderOutput, RenderRequest,
    Severity,
};
pub use fs::{
    Bounded, MAX_FILE_BYTES, ReadSet, RepoFs, Snapshot, Verifier, merge, read_bounded, read_walked,
};
pub use host::{Composer, LogLevel, LogLine, Parts, RunManifests, Selections};

use bindings::renderer::RendererPre;
use bindings::validator::ValidatorPre;
use precompiled::Precompiled;
use sandbox::State;

/// Bounds applied to every call.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall time of one call.
    pub timeout: Duration,
    /// Linear memory of one instance, in bytes.
    pub memory: usize,
    /// Total bytes of strings in one answer.
    pub output: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            timeout: Duration::from_secs(10),
            memory: engine::DEFAULT_MEMORY,
            output: 64 << 20,
        }
    }
}

/// Where a composed render stands: how many renders deep, and when the
/// outermost call's time runs out. Nested calls share that deadline, so a
/// renderer that has the host start renderers (itself included) cannot
/// stretch its call beyond `--timeout`.
#[derive(Debug, Clone, Copy)]
pub struct Nesting {
    pub depth: u32,
    pub deadline: Instant,
}

/// How to set the runtime up.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    pub limits: Limits,
    /// Folder for compiled plugins; `None` compiles in memory every time.
    pub precompiled_dir: Option<PathBuf>,
    /// How many instances may be live at once (sizes the pooling allocator).
    pub max_instances: u32,
}

/// The engine could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot set up the Wasm engine: {0:#}")]
    Engine(wasmtime::Error),
    #[error("cannot start the timer thread that bounds plugin calls: {0}")]
    Ticker(std::io::Error),
}

/// A plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plugin {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{source_name} is not a Wasm component manifold can run: {message}")]
    Compile {
        source_name: String,
        message: String,
    },
    #[error(
        "{source_name} is not a manifold plugin: it exports neither `manifold:plugin/validate@0.1.0` nor `manifold:plugin/render@0.1.0` (it exports: {exports}); build it with manifold-plugin-sdk or against wit/manifold-plugin@0.1.0"
    )]
    NotAPlugin {
        source_name: String,
        exports: String,
    },
    #[error(
        "{source_name}: cannot link the plugin's imports (it may need a capability manifold does not grant): {message}"
    )]
    Link {
        source_name: String,
        message: String,
    },
    #[error(
        "{source_name}: its digest is blake3:{actual}, but blake3:{expected} is pinned; it was not loaded"
    )]
    DigestMismatch {
        source_name: String,
        expected: String,
        actual: String,
    },
    #[error("{source_name}: its metadata call failed: {error}")]
    Metadata {
        source_name: String,
        // Boxed: a call error is large, and every load result carries this type.
        error: Box<CallError>,
    },
    #[error(
        "{source_name}: the configuration schema in its metadata is not valid JSON Schema: {message}"
    )]
    ConfigSchema {
        source_name: String,
        message: String,
    },
}

/// Why one call of a plugin produced no answer.
#[derive(Debug, Clone)]
pub enum CallFailure {
    Timeout(Duration),
    OutOfMemory(usize),
    StackOverflow,
    Trap {
        message: String,
        stderr: Option<String>,
    },
    OutputTooLarge {
        bytes: usize,
        limit: usize,
    },
    Malformed(String),
    /// It named more distinct files and folders than one call may read.
    TooManyReads(usize),
    /// The plugin answered with its own failure (bad configuration, a
    /// template error …); not a crash.
    Reported(Failure),
    Instantiate(String),
}

/// A failed call: the plugin, what it was given, and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("plugin `{plugin}` failed on {input}: {failure}")]
pub struct CallError {
    pub plugin: String,
    pub input: String,
    pub failure: CallFailure,
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallFailure::Timeout(t) => write!(
                f,
                "did not finish within {:.1} s; it may loop forever (raise --timeout if the input is just large)",
                t.as_secs_f64()
            ),
            CallFailure::OutOfMemory(limit) => write!(
                f,
                "exceeded its memory limit of {} MiB (raise --memory if the input is just large)",
                limit >> 20
            ),
            CallFailure::StackOverflow => write!(f, "overflowed its stack (unbounded recursion?)"),
            CallFailure::Trap { message, stderr } => {
                write!(f, "crashed: {message}")?;
                if let Some(stderr) = stderr {
                    write!(f, "\n  its stderr:\n    {}", stderr.replace('\n', "\n    "))?;
                }
                Ok(())
            }
            CallFailure::OutputTooLarge { bytes, limit } => write!(
                f,
                "answered with {} MiB, more than the {} MiB limit",
                bytes >> 20,
                limit >> 20
            ),
            CallFailure::Malformed(why) => write!(f, "gave a malformed answer: {why}"),
            CallFailure::TooManyReads(limit) => write!(
                f,
                "read more than {limit} distinct files and folders; a render that large is more likely a plugin walking in circles"
            ),
            CallFailure::Reported(failure) => {
                // 0 is the interface's "unknown": `file:0:0` would send
                // people looking for a line zero.
                if let Some(loc) = &failure.location {
                    f.write_str(&loc.file)?;
                    if loc.line > 0 {
                        write!(f, ":{}", loc.line)?;
                        if loc.column > 0 {
                            write!(f, ":{}", loc.column)?;
                        }
                    }
                    f.write_str(": ")?;
                }
                f.write_str(&failure.message)
            }
            CallFailure::Instantiate(why) => write!(f, "could not be started: {why}"),
        }
    }
}

/// Where a plugin's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Embedded in the binary.
    Builtin {
        name: &'static str,
        bytes: &'static [u8],
        /// blake3 of `bytes` (hex), computed when the binary was built.
        digest: &'static str,
        /// `bytes` compiled by the build for this engine configuration, when
        /// the build could (see host/build.rs).
        compiled: Option<&'static [u8]>,
    },
    /// A `.wasm` file.
    File(PathBuf),
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Builtin { name, .. } => format!("built-in plugin `{name}`"),
            Source::File(path) => path.display().to_string(),
        }
    }
}

/// What a plugin says about itself, plus what the host knows of it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    pub kind: &'static str,
    pub description: String,
    pub config_schema: serde_json::Value,
    /// blake3 of the plugin's bytes.
    pub digest: String,
    /// `builtin` or the path it was loaded from.
    pub source: String,
}

enum Prepared {
    Validator(ValidatorPre<State>),
    Renderer(RendererPre<State>),
}

/// A loaded plugin: what it says about itself, and its code, compiled and
/// prepared on its first call. Once a plugin has been loaded, its metadata
/// is kept beside its compiled code, so a run whose every result comes from
/// the cache compiles, maps and instantiates no plugin at all.
pub struct Plugin {
    pub metadata: Metadata,
    renderer: bool,
    code: Code,
    prepared: std::sync::OnceLock<Result<Prepared, String>>,
    config_schema: jsonschema::Validator,
}

/// A plugin's component bytes, and for a built-in, the code the build
/// compiled them to.
enum Code {
    Embedded {
        bytes: &'static [u8],
        compiled: Option<&'static [u8]>,
    },
    Read(Vec<u8>),
}

impl Code {
    fn bytes(&self) -> &[u8] {
        match self {
            Code::Embedded { bytes, .. } => bytes,
            Code::Read(bytes) => bytes,
        }
    }

    fn compiled(&self) -> Option<&'static [u8]> {
        match self {
            Code::Embedded { compiled, .. } => *compiled,
            Code::Read(_) => None,
        }
    }
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

/// The engine, linkers and caches shared by every call.
pub struct Runtime {
    engine: Engine,
    validator_linker: Linker<State>,
    renderer_linker: Linker<State>,
    limits: Limits,
    precompiled: Option<Precompiled>,
}

/// What a validator call may reach beyond its batch.
#[derive(Debug, Clone, Default)]
pub struct Services {
    /// Files it may read (`files`): the repository and granted folders.
    pub fs: Option<RepoFs>,
    /// The run's manifests (`context`).
    pub run: Option<Arc<RunManifests>>,
}

/// One answer of a validator.
#[derive(Debug)]
pub struct Validated {
    pub diagnostics: Vec<Diagnostic>,
    pub logs: Vec<LogLine>,
    /// What it read through `files`.
    pub reads: ReadSet,
    /// The `kinds` it asked for through `context`.
    pub asked: Vec<Vec<String>>,
}

/// One answer of a renderer.
#[derive(Debug)]
pub struct Rendered {
    pub output: RenderOutput,
    pub reads: ReadSet,
    pub logs: Vec<LogLine>,
}

impl Runtime {
    pub fn new(options: &RuntimeOptions) -> Result<Runtime, RuntimeError> {
        let limits = options.limits;
        let engine = match Engine::new(&engine_config(
            &limits,
            Some(options.max_instances.max(engine::MIN_POOLED_INSTANCES)),
        )) {
            Ok(engine) => engine,
            // Pooling reserves address space up front; where that is refused
            // (a ulimit -v), allocate per instance instead.
            Err(_) => Engine::new(&engine_config(&limits, None)).map_err(RuntimeError::Engine)?,
        };
        epoch::start(&engine).map_err(RuntimeError::Ticker)?;

        let mut validator_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut validator_linker)
            .map_err(RuntimeError::Engine)?;
        bindings::validator::Validator::add_to_linker::<State, HasSelf<State>>(
            &mut validator_linker,
            |s| s,
        )
        .map_err(RuntimeError::Engine)?;
        let mut renderer_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut renderer_linker)
            .map_err(RuntimeError::Engine)?;
        bindings::renderer::Renderer::add_to_linker::<State, HasSelf<State>>(
            &mut renderer_linker,
            |s| s,
        )
        .map_err(RuntimeError::Engine)?;

        let precompiled = options
            .precompiled_dir
            .as_deref()
            .and_then(|dir| Precompiled::open(dir).ok());
        Ok(Runtime {
            engine,
            validator_linker,
            renderer_linker,
            limits,
            precompiled,
        })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether compiled plugins are kept on disk.
    pub fn has_precompiled_cache(&self) -> bool {
        self.precompiled.is_some()
    }

    /// Compiles (or fetches from the cache) and prepares a plugin.
    pub fn load(&self, source: &Source) -> Result<Plugin, LoadError> {
        self.load_pinned(source, None)
    }

    /// [`Runtime::load`], refusing the plugin unless the blake3 hash of its
    /// bytes is `expected` (hex). The bytes checked are the bytes compiled:
    /// the file is read once.
    pub fn load_pinned(
        &self,
        source: &Source,
        expected: Option<&str>,
    ) -> Result<Plugin, LoadError> {
        let source_name = source.describe();
        // Hashing the built-ins' megabytes on every run would cost more than
        // loading their compiled code: the build hashed them.
        let (code, digest) = match source {
            Source::Builtin {
                bytes,
                digest,
                compiled,
                ..
            } => (
                Code::Embedded {
                    bytes,
                    compiled: *compiled,
                },
                (*digest).to_owned(),
            ),
            Source::File(path) => {
                let bytes = std::fs::read(path).map_err(|e| LoadError::Read {
                    path: path.clone(),
                    source: e,
                })?;
                let digest = blake3::hash(&bytes).to_hex().to_string();
                (Code::Read(bytes), digest)
            }
        };
        if let Some(expected) = expected
            && !expected.eq_ignore_ascii_case(&digest)
        {
            return Err(LoadError::DigestMismatch {
                source_name,
                expected: expected.to_owned(),
                actual: digest,
            });
        }
        let source_label = match source {
            Source::Builtin { .. } => "builtin".to_owned(),
            Source::File(path) => path.display().to_string(),
        };
        let known = self
            .precompiled
            .as_ref()
            .and_then(|cache| cache.described(&digest));
        let (described, prepared) = match known {
            Some(described) => (described, None),
            None => {
                let prepared = self.prepare(&code, &source_name)?;
                let raw = self.metadata(&prepared, &source_name).map_err(|error| {
                    LoadError::Metadata {
                        source_name: source_name.clone(),
                        error: Box::new(error),
                    }
                })?;
                let renderer = matches!(prepared, Prepared::Renderer(_));
                if renderer != (raw.kind == PluginKind::Renderer) {
                    return Err(LoadError::Metadata {
                        source_name: source_name.clone(),
                        error: Box::new(CallError {
                            plugin: raw.name.clone(),
                            input: "metadata".into(),
                            failure: CallFailure::Malformed(
                                "its metadata names a different kind than the world it exports"
                                    .into(),
                            ),
                        }),
                    });
                }
                let described = precompiled::Described {
                    name: raw.name,
                    version: raw.version,
                    renderer,
                    description: raw.description,
                    config_schema: raw.config_schema,
                };
                (described, Some(prepared))
            }
        };
        let config_schema: serde_json::Value = serde_json::from_str(&described.config_schema)
            .map_err(|e| LoadError::ConfigSchema {
                source_name: source_name.clone(),
                message: e.to_string(),
            })?;
        let compiled_schema = jsonschema::options()
            .should_validate_formats(true)
            .build(&config_schema)
            .map_err(|e| LoadError::ConfigSchema {
                source_name: source_name.clone(),
                message: e.to_string(),
            })?;
        // Kept only for a plugin that loaded whole, so a cached description
        // always belongs to a plugin that compiles, links and describes itself.
        if let (Some(cache), Some(_)) = (&self.precompiled, &prepared) {
            let _ = cache.store_described(&digest, &described);
        }
        let plugin = Plugin {
            metadata: Metadata {
                name: described.name,
                version: described.version,
                kind: if described.renderer {
                    "renderer"
                } else {
                    "validator"
                },
                description: described.description,
                config_schema,
                digest,
                source: source_label,
            },
            renderer: described.renderer,
            code,
            prepared: std::sync::OnceLock::new(),
            config_schema: compiled_schema,
        };
        if let Some(prepared) = prepared {
            let _ = plugin.prepared.set(Ok(prepared));
        }
        Ok(plugin)
    }

    /// Compiles `bytes` (or takes them from the disk cache) and links them
    /// against the world they export.
    fn prepare(&self, code: &Code, source_name: &str) -> Result<Prepared, LoadError> {
        let component =
            self.compile(code.bytes(), code.compiled())
                .map_err(|e| LoadError::Compile {
                    source_name: source_name.to_owned(),
                    message: format!("{e:#}"),
                })?;
        let exports: Vec<String> = component
            .component_type()
            .exports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let has = |name: &str| exports.iter().any(|e| e == name);
        let link_error = |e: wasmtime::Error| LoadError::Link {
            source_name: source_name.to_owned(),
            message: format!("{e:#}"),
        };
        if has("manifold:plugin/render@0.1.0") {
            let pre = self
                .renderer_linker
                .instantiate_pre(&component)
                .map_err(link_error)?;
            Ok(Prepared::Renderer(
                RendererPre::new(pre).map_err(link_error)?,
            ))
        } else if has("manifold:plugin/validate@0.1.0") {
            let pre = self
                .validator_linker
                .instantiate_pre(&component)
                .map_err(link_error)?;
            Ok(Prepared::Validator(
                ValidatorPre::new(pre).map_err(link_error)?,
            ))
        } else {
            Err(LoadError::NotAPlugin {
                source_name: source_name.to_owned(),
                exports: exports.join(", "),
            })
        }
    }

    /// Compiles and links `plugin` now rather than on its first call (to
    /// show that it can be), or says why it cannot be.
    pub fn prepare_now(&self, plugin: &Plugin) -> Result<(), String> {
        self.prepared(plugin).map(|_| ()).map_err(|e| match e {
            CallFailure::Instantiate(why) => why,
            other => other.to_string(),
        })
    }

    /// A plugin's prepared code, compiled on its first call.
    fn prepared<'p>(&self, plugin: &'p Plugin) -> Result<&'p Prepared, CallFailure> {
        plugin
            .prepared
            .get_or_init(|| {
                self.prepare(&plugin.code, &plugin.metadata.name)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| CallFailure::Instantiate(e.clone()))
    }

    /// The component for `bytes`: from `embedded` (the build's compiled
    /// code) when this engine accepts it, else from the disk cache, else
    /// compiled now.
    fn compile(&self, bytes: &[u8], embedded: Option<&[u8]>) -> wasmtime::Result<Component> {
        if let Some(embedded) = embedded {
            // SAFETY: `embedded` is what `Engine::precompile_component` of
            // this very build produced (host/build.rs, from runtime/engine.rs),
            // included read-only in the binary. wasmtime checks its header,
            // its version and its compatibility with this engine and CPU, and
            // returns an error on a mismatch, which falls through to
            // compiling: a binary copied to a CPU lacking a feature the build
            // machine had still runs.
            #[allow(unsafe_code)]
            let component = unsafe { Component::deserialize(&self.engine, embedded) };
            if let Ok(component) = component {
                return Ok(component);
            }
        }
        let Some(cache) = &self.precompiled else {
            return Component::new(&self.engine, bytes);
        };
        let key = Precompiled::key(&self.engine, bytes);
        if let Some(component) = cache.load(&self.engine, &key) {
            return Ok(component);
        }
        let compiled = self.engine.precompile_component(bytes)?;
        // Best effort: an unwritable cache only costs the next run a compile.
        let _ = cache.store(&key, &compiled);
        // SAFETY: `compiled` was just produced by this engine.
        #[allow(unsafe_code)]
        unsafe {
            Component::deserialize(&self.engine, &compiled)
        }
    }

    fn store(
        &self,
        fs: Option<RepoFs>,
        composer: Option<Arc<dyn Composer>>,
        nesting: Option<Nesting>,
    ) -> Store<State> {
        let now = Instant::now();
        let own = now + self.limits.timeout;
        let nesting = match nesting {
            Some(outer) => Nesting {
                depth: outer.depth,
                deadline: outer.deadline.min(own),
            },
            None => Nesting {
                depth: 0,
                deadline: own,
            },
        };
        let state = State::new(self.limits.memory, fs, host::Host::new(composer, nesting));
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(epoch::ticks(
            nesting.deadline.saturating_duration_since(now),
        ));
        store.epoch_deadline_trap();
        store
    }

    fn metadata(
        &self,
        prepared: &Prepared,
        source_name: &str,
    ) -> Result<bindings::types::PluginMetadata, CallError> {
        let mut store = self.store(None, None, None);
        let result = match prepared {
            Prepared::Validator(pre) => pre
                .instantiate(&mut store)
                .and_then(|p| p.manifold_plugin_validate().call_metadata(&mut store)),
            Prepared::Renderer(pre) => pre
                .instantiate(&mut store)
                .and_then(|p| p.manifold_plugin_render().call_metadata(&mut store)),
        };
        result.map_err(|e| self.classify(e, &store, source_name, "its metadata"))
    }

    /// Turns a wasmtime error into a [`CallError`].
    fn classify(
        &self,
        error: wasmtime::Error,
        store: &Store<State>,
        plugin: &str,
        input: &str,
    ) -> CallError {
        let state = store.data();
        let failure = match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => CallFailure::Timeout(self.limits.timeout),
            Some(Trap::StackOverflow) => CallFailure::StackOverflow,
            _ if state.limiter.memory_refused => CallFailure::OutOfMemory(self.limits.memory),
            // Rust and C keep their stack in linear memory, below the data:
            // overflowing it is an access below address zero.
            Some(Trap::MemoryOutOfBounds) => CallFailure::Trap {
                message:
                    "out of bounds memory access (often a stack overflow from unbounded recursion)"
                        .into(),
                stderr: state.stderr_tail(),
            },
            Some(trap) => CallFailure::Trap {
                message: trap.to_string(),
                stderr: state.stderr_tail(),
            },
            None => {
                let message = format!("{error:#}");
                if message.contains("instance") && message.contains("limit") {
                    CallFailure::Instantiate(message)
                } else {
                    CallFailure::Trap {
                        message,
                        stderr: state.stderr_tail(),
                    }
                }
            }
        };
        CallError {
            plugin: plugin.to_owned(),
            input: input.to_owned(),
            failure,
        }
    }

    /// Runs a validator on a batch. `input` names the batch in errors.
    pub fn validate(
        &self,
        plugin: &Plugin,
        manifests: &[Manifest],
        config: &str,
        input: &str,
        services: &Services,
    ) -> Result<Validated, CallError> {
        let name = &plugin.metadata.name;
        let error = |failure| CallError {
            plugin: name.clone(),
            input: input.to_owned(),
            failure,
        };
        let Prepared::Validator(pre) = self.prepared(plugin).map_err(error)? else {
            return Err(error(CallFailure::Malformed(
                "it is a renderer, not a validator".into(),
            )));
        };
        let mut store = self.store(services.fs.clone(), None, None);
        store.data_mut().host.run = services.run.clone();
        let result = pre.instantiate(&mut store).and_then(|p| {
            p.manifold_plugin_validate()
                .call_validate(&mut store, manifests, config)
        });
        let answer = result.map_err(|e| self.classify(e, &store, name, input))?;
        if let Some(limit) = store.data().host.fs.as_ref().and_then(RepoFs::overflowed) {
            return Err(error(CallFailure::TooManyReads(limit)));
        }
        let diagnostics = answer.map_err(|f| error(CallFailure::Reported(f)))?;
        answer::check_validated(&diagnostics, manifests.len(), self.limits.output)
            .map_err(error)?;
        let state = store.data_mut();
        let logs = state.host.take_logs();
        let reads = state
            .host
            .fs
            .take()
            .map(RepoFs::into_reads)
            .unwrap_or_default();
        let asked = std::mem::take(&mut state.host.asked);
        Ok(Validated {
            diagnostics,
            logs,
            reads,
            asked,
        })
    }

    /// Runs a renderer on a folder of the repository; `nesting` is `None`
    /// for a call of its own, or where a composing call stands.
    pub fn render(
        &self,
        plugin: &Plugin,
        fs: RepoFs,
        request: &RenderRequest,
        composer: Option<Arc<dyn Composer>>,
        nesting: Option<Nesting>,
    ) -> Result<Rendered, CallError> {
        let name = &plugin.metadata.name;
        let input = if request.target.is_empty() {
            ".".to_owned()
        } else {
            request.target.clone()
        };
        let error = |failure| CallError {
            plugin: name.clone(),
            input: input.clone(),
            failure,
        };
        let Prepared::Renderer(pre) = self.prepared(plugin).map_err(error)? else {
            return Err(error(CallFailure::Malformed(
                "it is a validator, not a renderer".into(),
            )));
        };
        let mut store = self.store(Some(fs), composer, nesting);
        let result = pre
            .instantiate(&mut store)
            .and_then(|p| p.manifold_plugin_render().call_render(&mut store, request));
        let answer = result.map_err(|e| self.classify(e, &store, name, &input))?;
        // A read set with gaps would let the cache answer for a render whose
        // inputs changed: such a render is not an answer at all.
        if let Some(limit) = store.data().host.fs.as_ref().and_then(RepoFs::overflowed) {
            return Err(error(CallFailure::TooManyReads(limit)));
        }
        let output = answer.map_err(|f| error(CallFailure::Reported(f)))?;
        answer::check_rendered(&output, self.limits.output).map_err(error)?;
        let state = store.data_mut();
        let logs = state.host.take_logs();
        let reads = state
            .host
            .fs
            .take()
            .map(RepoFs::into_reads)
            .unwrap_or_default();
        Ok(Rendered {
            output,
            reads,
            logs,
        })
    }
}

impl Plugin {
    /// Checks a configuration against the plugin's schema. Each problem is
    /// `(JSON pointer of the offending value, message)`.
    pub fn check_config(&self, config: &serde_json::Value) -> Result<(), Vec<(String, String)>> {
        let problems: Vec<(String, String)> = self
            .config_schema
            .iter_errors(config)
            .map(|e| (e.instance_path().to_string(), e.to_string()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    pub fn is_renderer(&self) -> bool {
        self.renderer
    }
}

fn engine_config(limits: &Limits, pooled_instances: Option<u32>) -> Config {
    engine::config(limits.memory, pooled_instances, cfg!(feature = "perfmap"))
}

/// The default place for compiled plugins and other caches.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(Path::new(&dir).join("manifold"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|home| Path::new(&home).join(".cache").join("manifold"))
}
