//! Compiled plugins on disk, so only the first run pays for Cranelift.
//!
//! An entry is keyed by a blake3 hash of everything that makes compiled code
//! valid: the plugin's bytes, the wasmtime version and the engine's
//! configuration (`Engine::precompile_compatibility_hash`). The file holds a
//! blake3 hash of its payload before the payload, so a truncated or corrupt
//! entry is detected and recompiled instead of loaded. Entries are written to
//! a temporary file and renamed into place, so concurrent runs never see a
//! partial one.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

const FORMAT: &[u8] = b"manifold-precompiled-v1";
const DESCRIBED: &[u8] = b"manifold-described-v1";

/// What a plugin said of itself when it was last loaded whole, kept so the
/// next run need not compile it just to ask: a pure function of its bytes
/// (the plugin sees no clock, file or randomness while it answers).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Described {
    pub name: String,
    pub version: String,
    /// The world it exports: renderer, else validator.
    pub renderer: bool,
    pub description: String,
    /// JSON Schema text of its configuration.
    pub config_schema: String,
}

/// The folder of compiled plugins.
#[derive(Debug, Clone)]
pub struct Precompiled {
    dir: PathBuf,
}

/// Feeds `std::hash::Hash` output into blake3.
struct Blake3Hasher(blake3::Hasher);

impl Hasher for Blake3Hasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl Precompiled {
    /// Uses `dir` (created if needed). Fails when it cannot be created.
    pub fn open(dir: &Path) -> std::io::Result<Precompiled> {
        fs::create_dir_all(dir)?;
        Ok(Precompiled {
            dir: dir.to_owned(),
        })
    }

    /// The cache key of `bytes` for `engine`.
    pub fn key(engine: &Engine, bytes: &[u8]) -> String {
        let mut hasher = Blake3Hasher(blake3::Hasher::new());
        hasher.0.update(FORMAT);
        hasher.0.update(env!("CARGO_PKG_VERSION").as_bytes());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        hasher.0.update(&(bytes.len() as u64).to_le_bytes());
        hasher.0.update(bytes);
        hasher.0.finalize().to_hex().to_string()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.cwasm"))
    }

    /// The description of the plugin whose bytes have blake3 `digest`, if a
    /// sound entry exists.
    pub fn described(&self, digest: &str) -> Option<Described> {
        let data = fs::read(self.described_path(digest)).ok()?;
        let (hash, payload) = data.split_at_checked(32)?;
        if blake3::hash(payload).as_bytes() != hash {
            return None;
        }
        serde_json::from_slice(payload).ok()
    }

    /// Keeps a plugin's description. Best effort, as [`Precompiled::store`].
    pub fn store_described(&self, digest: &str, described: &Described) -> std::io::Result<()> {
        let payload = serde_json::to_vec(described).map_err(std::io::Error::other)?;
        let name = self.described_path(digest);
        self.write(&name, &payload)
    }

    fn described_path(&self, digest: &str) -> PathBuf {
        let mut hasher = blake3::Hasher::new();
        hasher.update(DESCRIBED);
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        hasher.update(digest.as_bytes());
        self.dir
            .join(format!("{}.described", hasher.finalize().to_hex()))
    }

    /// Loads the compiled component for `key`, if a sound entry exists.
    pub fn load(&self, engine: &Engine, key: &str) -> Option<Component> {
        let data = fs::read(self.path(key)).ok()?;
        let (hash, payload) = data.split_at_checked(32)?;
        if blake3::hash(payload).as_bytes() != hash {
            return None;
        }
        // SAFETY: the payload was produced by `Engine::precompile_component`
        // of an engine with the same configuration (the key covers it), and
        // its blake3 hash matches what was written, so these are the bytes
        // wasmtime produced. wasmtime also checks its own header.
        #[allow(unsafe_code)]
        unsafe {
            Component::deserialize(engine, payload).ok()
        }
    }

    /// Stores compiled bytes for `key`. Best effort: a failure only means the
    /// next run compiles again.
    pub fn store(&self, key: &str, compiled: &[u8]) -> std::io::Result<()> {
        self.write(&self.path(key), compiled)
    }

    /// Writes `payload` after its blake3 hash to `target`, through a
    /// temporary file and a rename.
    fn write(&self, target: &Path, payload: &[u8]) -> std::io::Result<()> {
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(blake3::hash(payload).as_bytes())?;
            file.write_all(payload)?;
            file.sync_all()?;
            fs::rename(&tmp, target)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}
