//! The result cache: a render or a validation is reused only when nothing
//! it depended on changed.
//!
//! A render entry is keyed on the tool version, the plugin's digest, its
//! configuration and the target folder, and holds the render's read set
//! (every file and folder the plugin read through the host, with content
//! hashes, misses included). A lookup first checks that read set against
//! the disk, so a change to any file the target used — and only such a
//! change — re-renders it.
//!
//! A verdict (what one validator said about one document) is keyed per
//! document and validator: the plugin's digest, its configuration, the
//! document's origin and JSON. It holds the findings about that document,
//! what the call read, and which kinds of the run it asked for through
//! `context` with a digest of what it was given; a lookup checks both, so a
//! verdict that looked at the run's CRDs is redone when a CRD changes.
//! Verdicts are stored in packs, one per target, so a run reads and
//! creates a file per target rather than one per document and validator.
//!
//! Entries carry a blake3 checksum and are verified on read: a corrupt or
//! truncated entry is a miss, never a wrong answer. They are written through
//! a temporary file and a rename, so concurrent runs never see half an
//! entry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::report::{Resource, Severity};
use crate::runtime::{ReadSet, Verifier};

/// Entry format tag; bumped when the layout changes.
const FORMAT: &str = "manifold-cache 5";

/// One cached render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub reads: ReadSet,
    /// The objects in the renderer's order.
    pub objects: Vec<Rendered>,
}

/// A rendered object and where it was found to come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendered {
    /// Its origin file.
    pub file: String,
    /// Compact JSON, stored as JSON rather than as a string of it, so reading
    /// an entry needs no unescaping and checks the text is JSON.
    #[serde(with = "raw_json")]
    pub json: String,
    /// Its source document in `file` and the line that starts on; when
    /// `located` is false (generated, templated) a running count and 0.
    pub document: u32,
    pub line: u32,
    pub located: bool,
    /// Its identity as [`Resource::of`] reads it, so a warm run need not
    /// scan the text for it.
    pub resource: Option<Resource>,
}

/// What one validator said about one document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Verdict {
    pub findings: Vec<Finding>,
    /// What the call that produced it read.
    pub reads: ReadSet,
    /// What the call asked of the run through `context`.
    pub context: Vec<Selection>,
}

/// A validator's finding as the plugin gave it, before the host places it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    pub rule: String,
    pub message: String,
    /// Whether it is about the document (else about a source position).
    pub about_document: bool,
    pub path: Option<String>,
    /// (file, line, column) of a finding about a source file.
    pub location: Option<(String, u32, u32)>,
}

/// The verdicts of every validator on one target's documents, as stored: a
/// row per document, a column per validator, each cell an index into the
/// distinct verdicts (most documents get the same one).
#[derive(Deserialize)]
struct Pack {
    verdicts: Vec<Verdict>,
    /// Each column's validator digest.
    validators: Vec<String>,
    /// (document digest, per column: its verdict)
    documents: Vec<(String, Vec<Option<usize>>)>,
}

#[derive(Serialize)]
struct PackRef<'a> {
    verdicts: Vec<&'a Verdict>,
    validators: &'a [String],
    documents: Vec<(&'a str, Vec<Option<usize>>)>,
}

/// A pack as read: verdicts by validator and document digest.
#[derive(Debug, Default)]
pub struct Verdicts {
    verdicts: Vec<Arc<Verdict>>,
    columns: HashMap<String, usize>,
    rows: HashMap<String, Vec<Option<usize>>>,
}

impl Verdicts {
    /// How many (document, validator) verdicts the pack holds.
    pub fn len(&self) -> usize {
        self.rows.values().flatten().flatten().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The verdict of `validator` on `document` (digests), with its index
    /// among the pack's distinct verdicts.
    pub fn get(&self, validator: &str, document: &str) -> Option<(usize, &Arc<Verdict>)> {
        let column = *self.columns.get(validator)?;
        let index = (*self.rows.get(document)?.get(column)?)?;
        Some((index, self.verdicts.get(index)?))
    }

    /// How many distinct verdicts the pack holds.
    pub fn distinct(&self) -> usize {
        self.verdicts.len()
    }
}

/// One `context.manifests(kinds)` request and a digest of its answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Selection {
    pub kinds: Vec<String>,
    pub digest: String,
}

/// Hits and misses of one kind of entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub hits: usize,
    pub misses: usize,
}

/// Hits and misses of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub renders: Counts,
    pub validations: Counts,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicUsize,
    misses: AtomicUsize,
}

impl Counters {
    fn count<T>(&self, entry: Option<T>) -> Option<T> {
        let counter = if entry.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        entry
    }

    fn get(&self) -> Counts {
        Counts {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

/// The folders entries of each kind live in.
const RENDERS: &str = "renders";
const VALIDATIONS: &str = "validations";

/// The on-disk cache of one run.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    renders: Counters,
    validations: Counters,
}

impl Cache {
    /// The cache under `dir`, or why it cannot be used (the run then goes
    /// on uncached).
    pub fn open(dir: &Path) -> std::io::Result<Cache> {
        for kind in [RENDERS, VALIDATIONS] {
            std::fs::create_dir_all(dir.join(kind))?;
        }
        // Writable? Find out now rather than on every entry.
        let probe = dir
            .join(RENDERS)
            .join(format!(".probe-{}", std::process::id()));
        std::fs::write(&probe, b"")?;
        let _ = std::fs::remove_file(&probe);
        Ok(Cache {
            dir: dir.to_owned(),
            renders: Counters::default(),
            validations: Counters::default(),
        })
    }

    pub fn stats(&self) -> Stats {
        Stats {
            renders: self.renders.get(),
            validations: self.validations.get(),
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
        hash_parts(&[
            RENDERS,
            &root.to_string_lossy(),
            plugin_digest,
            &config.to_string(),
            target,
        ])
    }

    /// The render for `key` if it is intact and its read set still holds.
    pub fn render(&self, key: &str, verifier: &Verifier) -> Option<Entry> {
        let entry = self
            .read::<Entry>(RENDERS, key)
            .filter(|e| verifier.unchanged(&e.reads));
        self.renders.count(entry)
    }

    /// The render for `key` as recorded, without checking its read set (to
    /// learn which files a target read last time).
    pub fn peek(&self, key: &str) -> Option<Entry> {
        self.read(RENDERS, key)
    }

    /// Stores a render; a failure to write only costs a later re-render.
    pub fn put(&self, key: &str, entry: &Entry) {
        self.write(RENDERS, key, entry);
    }

    /// The verdicts of a pack; none if it is absent, corrupt or truncated.
    pub fn verdicts(&self, pack: &str) -> Verdicts {
        let Some(stored) = self.read::<Pack>(VALIDATIONS, pack) else {
            return Verdicts::default();
        };
        let count = stored.verdicts.len();
        let width = stored.validators.len();
        // A cell naming no stored verdict, or a row of the wrong width, means
        // the pack is not what this version wrote: nothing, not a guess.
        let sound = stored
            .documents
            .iter()
            .all(|(_, row)| row.len() == width && row.iter().flatten().all(|index| *index < count));
        if !sound {
            return Verdicts::default();
        }
        Verdicts {
            verdicts: stored.verdicts.into_iter().map(Arc::new).collect(),
            columns: stored
                .validators
                .into_iter()
                .enumerate()
                .map(|(column, digest)| (digest, column))
                .collect(),
            rows: stored.documents.into_iter().collect(),
        }
    }

    /// Counts verdicts found (still holding) and not.
    pub fn count_verdicts(&self, hits: usize, misses: usize) {
        self.validations.hits.fetch_add(hits, Ordering::Relaxed);
        self.validations.misses.fetch_add(misses, Ordering::Relaxed);
    }

    /// Stores a pack: for each document (by digest), the verdict of each of
    /// `validators` (by digest) where there is one. A failure to write only
    /// costs a later re-validation.
    pub fn put_verdicts(
        &self,
        pack: &str,
        validators: &[String],
        documents: &[(&str, Vec<Option<&Verdict>>)],
    ) {
        // Most documents get the same verdict (nothing found, nothing read):
        // each distinct one is stored once.
        let mut distinct: Vec<&Verdict> = Vec::new();
        let mut index: HashMap<&Verdict, usize> = HashMap::new();
        let documents = documents
            .iter()
            .map(|(document, row)| {
                let row = row
                    .iter()
                    .map(|verdict| {
                        let verdict = (*verdict)?;
                        Some(*index.entry(verdict).or_insert_with(|| {
                            distinct.push(verdict);
                            distinct.len() - 1
                        }))
                    })
                    .collect();
                (*document, row)
            })
            .collect();
        let stored = PackRef {
            verdicts: distinct,
            validators,
            documents,
        };
        self.write(VALIDATIONS, pack, &stored);
    }

    fn path(&self, kind: &str, key: &str) -> PathBuf {
        self.dir
            .join(kind)
            .join(key.get(..2).unwrap_or("00"))
            .join(key)
    }

    fn read<T: DeserializeOwned>(&self, kind: &str, key: &str) -> Option<T> {
        let bytes = std::fs::read(self.path(kind, key)).ok()?;
        let newline = bytes.iter().position(|b| *b == b'\n')?;
        let header = std::str::from_utf8(bytes.get(..newline)?).ok()?;
        let body = bytes.get(newline + 1..)?;
        let checksum = header.strip_prefix(FORMAT)?.strip_prefix(' ')?;
        if blake3::hash(body).to_hex().as_str() != checksum {
            return None;
        }
        serde_json::from_slice(body).ok()
    }

    fn write<T: Serialize>(&self, kind: &str, key: &str, entry: &T) {
        let Ok(body) = serde_json::to_vec(entry) else {
            return;
        };
        let mut bytes = format!("{FORMAT} {}\n", blake3::hash(&body).to_hex()).into_bytes();
        bytes.extend_from_slice(&body);
        let _ = crate::output::write_atomically(&self.path(kind, key), &bytes);
    }

    /// Entries and bytes on disk, per kind (`renders`, `validations`).
    pub fn usage(dir: &Path) -> Vec<(&'static str, usize, u64)> {
        [RENDERS, VALIDATIONS]
            .into_iter()
            .map(|kind| {
                let mut entries = 0;
                let mut bytes = 0;
                let shards = std::fs::read_dir(dir.join(kind)).into_iter().flatten();
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
                (kind, entries, bytes)
            })
            .collect()
    }
}

/// A `String` of JSON text (de)serialised as the JSON it holds.
mod raw_json {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::value::RawValue;

    pub fn serialize<S: Serializer>(json: &str, serializer: S) -> Result<S::Ok, S::Error> {
        RawValue::from_string(json.to_owned())
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(Box::<str>::from(raw).into_string())
    }
}

/// A key from its parts, with the entry format and tool version that make
/// old entries unreachable after an upgrade.
pub fn hash_parts(parts: &[&str]) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in [FORMAT, env!("CARGO_PKG_VERSION")].iter().chain(parts) {
        hasher.update(part.as_bytes());
        hasher.update(b"\0");
    }
    hasher.finalize().to_hex().to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::runtime::RepoFs;

    /// A folder under the system's temporary folder, removed when dropped.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    impl std::ops::Deref for Scratch {
        type Target = Path;

        fn deref(&self) -> &Path {
            &self.0
        }
    }

    fn scratch(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("manifold-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    #[test]
    fn a_hit_needs_an_intact_entry_and_unchanged_reads() {
        let root = scratch("root");
        std::fs::write(root.join("a.yaml"), "a: 1\n").unwrap();
        let mut fs = RepoFs::new(&root).unwrap();
        fs.read("a.yaml").unwrap();
        let _ = fs.read("missing.yaml");
        // Each lookup judges the disk as it is now: a verifier per run.
        let now = || Verifier::new(&RepoFs::new(&root).unwrap());
        let entry = Entry {
            reads: fs.into_reads(),
            objects: vec![Rendered {
                file: "a.yaml".into(),
                json: "{}".into(),
                document: 0,
                line: 1,
                located: true,
                resource: None,
            }],
        };
        let folder = scratch("cache");
        let cache = Cache::open(&folder).unwrap();
        let key = Cache::key(&root, "digest", &serde_json::json!({}), "");
        cache.put(&key, &entry);
        assert_eq!(cache.render(&key, &now()), Some(entry.clone()));

        // A file that was absent appears: the render may differ.
        std::fs::write(root.join("missing.yaml"), "b: 1\n").unwrap();
        assert_eq!(cache.render(&key, &now()), None);
        std::fs::remove_file(root.join("missing.yaml")).unwrap();
        assert!(cache.render(&key, &now()).is_some());

        // A file read changes.
        std::fs::write(root.join("a.yaml"), "a: 2\n").unwrap();
        assert_eq!(cache.render(&key, &now()), None);
        std::fs::write(root.join("a.yaml"), "a: 1\n").unwrap();

        // Corruption and truncation are misses.
        let path = cache.path(RENDERS, &key);
        let good = std::fs::read(&path).unwrap();
        let mut flipped = good.clone();
        if let Some(last) = flipped.last_mut() {
            *last ^= 1;
        }
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(cache.render(&key, &now()), None);
        std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        assert_eq!(cache.render(&key, &now()), None);
        assert_eq!(cache.stats().renders, Counts { hits: 2, misses: 4 });
        assert_eq!(cache.stats().validations, Counts::default());
    }

    #[test]
    fn verdict_packs_keep_each_verdict_once_and_fail_closed() {
        let folder = scratch("verdicts");
        let cache = Cache::open(&folder).unwrap();
        let verdict = |message: &str| Verdict {
            findings: vec![Finding {
                severity: Severity::Warning,
                rule: "r".into(),
                message: message.into(),
                about_document: true,
                path: Some("/spec".into()),
                location: None,
            }],
            reads: ReadSet::default(),
            context: vec![Selection {
                kinds: vec!["CustomResourceDefinition".into()],
                digest: "d1".into(),
            }],
        };
        let (a, b) = (verdict("a"), verdict("b"));
        let pack = hash_parts(&["validator", "target"]);
        let validators = ["v1".to_owned(), "v2".to_owned()];
        cache.put_verdicts(
            &pack,
            &validators,
            &[
                ("doc1", vec![Some(&a), Some(&b)]),
                ("doc2", vec![Some(&b), None]),
                ("doc3", vec![Some(&a), Some(&a)]),
            ],
        );
        let stored = cache.verdicts(&pack);
        assert_eq!((stored.len(), stored.distinct()), (5, 2));
        let get = |v, d| stored.get(v, d).map(|(_, verdict)| &**verdict);
        assert_eq!(get("v1", "doc1"), Some(&a));
        assert_eq!(get("v2", "doc1"), Some(&b));
        assert_eq!(get("v1", "doc2"), Some(&b));
        assert_eq!(get("v2", "doc2"), None);
        assert_eq!(get("v2", "doc3"), Some(&a));
        assert_eq!(get("v3", "doc1"), None);
        assert_eq!(get("v1", "doc4"), None);
        let path = cache.path(VALIDATIONS, &pack);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("\"message\":\"a\"").count(), 1, "{text}");

        // Corrupt or truncated: nothing, never a wrong verdict.
        std::fs::write(&path, text.replace("\"b\"", "\"c\"")).unwrap();
        assert!(cache.verdicts(&pack).is_empty());
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        assert!(cache.verdicts(&pack).is_empty());
        // Intact but naming a verdict it does not hold: nothing.
        let lying = serde_json::json!({
            "verdicts": [], "validators": ["v1"], "documents": [["doc1", [0]]]
        });
        cache.write(VALIDATIONS, &pack, &lying);
        assert!(cache.verdicts(&pack).is_empty());
        // Renders and verdicts never answer for each other.
        assert!(cache.peek(&pack).is_none());
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
