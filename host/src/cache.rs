//! The render cache: a render is reused only when nothing it depended on
//! changed.
//!
//! An entry is keyed on the tool version, the plugin's digest, its
//! configuration and the target folder, and holds the render's read set
//! (every file and folder the plugin read through the host, with content
//! hashes, misses included). A lookup first checks that read set against
//! the disk, so a change to any file the target used — and only such a
//! change — re-renders it. Entries carry a blake3 checksum and are verified
//! on read: a corrupt or truncated entry is a miss, never a wrong answer.
//! They are written through a temporary file and a rename, so concurrent
//! runs never see half an entry.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::runtime::ReadSet;

/// Entry format tag; bumped when the layout changes.
const FORMAT: &str = "manifold-render-cache 1";

/// One cached render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub reads: ReadSet,
    /// (origin file, object JSON) in the renderer's order.
    pub objects: Vec<(String, String)>,
}

/// Hits and misses of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub hits: usize,
    pub misses: usize,
}

/// The on-disk cache of one run.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    hits: AtomicUsize,
    misses: AtomicUsize,
}

impl Cache {
    /// The cache under `dir`, or why it cannot be used (the run then goes
    /// on uncached).
    pub fn open(dir: &Path) -> std::io::Result<Cache> {
        let dir = dir.join("renders");
        std::fs::create_dir_all(&dir)?;
        // Writable? Find out now rather than on every entry.
        let probe = dir.join(format!(".probe-{}", std::process::id()));
        std::fs::write(&probe, b"")?;
        let _ = std::fs::remove_file(&probe);
        Ok(Cache {
            dir,
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
        })
    }

    pub fn stats(&self) -> Stats {
        Stats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// The key of a render. The repository's location is part of it: entries
    /// of one checkout never answer for another, so each can be reasoned about alone.
    pub fn key(
        root: &Path,
        plugin_digest: &str,
        config: &serde_json::Value,
        target: &str,
    ) -> String {
        let mut hasher = blake3::Hasher::new();
        for part in [
            FORMAT,
            env!("CARGO_PKG_VERSION"),
            &root.to_string_lossy(),
            plugin_digest,
            &config.to_string(),
            target,
        ] {
            hasher.update(part.as_bytes());
            hasher.update(b"\0");
        }
        hasher.finalize().to_hex().to_string()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(key.get(..2).unwrap_or("00")).join(key)
    }

    /// The entry for `key` if it is intact and its read set still holds under `root`.
    pub fn get(&self, key: &str, root: &Path) -> Option<Entry> {
        let entry = self.read(key).filter(|e| e.reads.unchanged(root));
        let counter = if entry.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        entry
    }

    /// The entry for `key` as recorded, without checking its read set (to
    /// learn which files a target read last time).
    pub fn peek(&self, key: &str) -> Option<Entry> {
        self.read(key)
    }

    fn read(&self, key: &str) -> Option<Entry> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let newline = bytes.iter().position(|b| *b == b'\n')?;
        let header = std::str::from_utf8(bytes.get(..newline)?).ok()?;
        let body = bytes.get(newline + 1..)?;
        let checksum = header.strip_prefix(FORMAT)?.strip_prefix(' ')?;
        if blake3::hash(body).to_hex().as_str() != checksum {
            return None;
        }
        serde_json::from_slice(body).ok()
    }

    /// Stores an entry; a failure to write only costs a later re-render.
    pub fn put(&self, key: &str, entry: &Entry) {
        let Ok(body) = serde_json::to_vec(entry) else {
            return;
        };
        let mut bytes = format!("{FORMAT} {}\n", blake3::hash(&body).to_hex()).into_bytes();
        bytes.extend_from_slice(&body);
        let _ = crate::output::write_atomically(&self.path(key), &bytes);
    }

    /// Entries and bytes on disk.
    pub fn usage(dir: &Path) -> (usize, u64) {
        let mut entries = 0;
        let mut bytes = 0;
        let shards = std::fs::read_dir(dir.join("renders")).into_iter().flatten();
        for shard in shards.filter_map(Result::ok) {
            for file in std::fs::read_dir(shard.path())
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
            {
                entries += 1;
                bytes += file.metadata().map_or(0, |m| m.len());
            }
        }
        (entries, bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("manifold-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_hit_needs_an_intact_entry_and_unchanged_reads() {
        let root = scratch("root");
        std::fs::write(root.join("a.yaml"), "a: 1\n").unwrap();
        let mut fs = crate::runtime::RepoFs::new(&root).unwrap();
        fs.read("a.yaml").unwrap();
        let _ = fs.read("missing.yaml");
        let entry = Entry {
            reads: fs.into_reads(),
            objects: vec![("a.yaml".into(), "{}".into())],
        };
        let cache = Cache::open(&scratch("cache")).unwrap();
        let key = Cache::key(&root, "digest", &serde_json::json!({}), "");
        cache.put(&key, &entry);
        assert_eq!(cache.get(&key, &root), Some(entry.clone()));

        // A file that was absent appears: the render may differ.
        std::fs::write(root.join("missing.yaml"), "b: 1\n").unwrap();
        assert_eq!(cache.get(&key, &root), None);
        std::fs::remove_file(root.join("missing.yaml")).unwrap();
        assert!(cache.get(&key, &root).is_some());

        // A file read changes.
        std::fs::write(root.join("a.yaml"), "a: 2\n").unwrap();
        assert_eq!(cache.get(&key, &root), None);
        std::fs::write(root.join("a.yaml"), "a: 1\n").unwrap();

        // Corruption and truncation are misses.
        let path = cache.path(&key);
        let good = std::fs::read(&path).unwrap();
        let mut flipped = good.clone();
        if let Some(last) = flipped.last_mut() {
            *last ^= 1;
        }
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(cache.get(&key, &root), None);
        std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        assert_eq!(cache.get(&key, &root), None);
        assert_eq!(cache.stats(), Stats { hits: 2, misses: 4 });
    }

    #[test]
    fn keys_change_with_every_input() {
        let root = Path::new("/repo");
        let base = Cache::key(root, "d", &serde_json::json!({"a": 1}), "t");
        assert_ne!(
            base,
            Cache::key(root, "e", &serde_json::json!({"a": 1}), "t")
        );
        assert_ne!(
            base,
            Cache::key(root, "d", &serde_json::json!({"a": 2}), "t")
        );
        assert_ne!(
            base,
            Cache::key(root, "d", &serde_json::json!({"a": 1}), "u")
        );
        assert_ne!(
            base,
            Cache::key(Path::new("/other"), "d", &serde_json::json!({"a": 1}), "t")
        );
    }
}
