//! The file access the renderer needs, behind a trait: the plugin has no
//! file system of its own, so the host (or a test) hands files in.

use std::collections::BTreeMap;

/// Why a file or folder could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    #[error("{path}: {message}")]
    Other { path: String, message: String },
}

/// Read-only access to a tree of files with `/`-separated relative paths.
pub trait FileSystem {
    /// The content of a file.
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError>;
    /// The entries of a folder: (name, is_dir), names without the folder.
    fn list(&self, path: &str) -> Result<Vec<(String, bool)>, FsError>;
}

/// An in-memory tree: the form the Wasm plugin receives files in, and
/// handy for tests.
#[derive(Debug, Clone, Default)]
pub struct MemFs {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemFs {
    pub fn new() -> MemFs {
        MemFs::default()
    }

    /// Adds a file; `path` is relative, `/`-separated.
    pub fn insert(&mut self, path: &str, data: impl Into<Vec<u8>>) {
        self.files.insert(normalize(path), data.into());
    }
}

/// Drops `./`, empty segments and trailing slashes so lookups agree.
pub(crate) fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// `a/b` joined the way paths are in charts, tolerating empty parts.
pub(crate) fn join(a: &str, b: &str) -> String {
    normalize(&format!("{a}/{b}"))
}

impl FileSystem for MemFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| FsError::NotFound {
                path: path.to_string(),
            })
    }

    fn list(&self, path: &str) -> Result<Vec<(String, bool)>, FsError> {
        let dir = normalize(path);
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut out: BTreeMap<String, bool> = BTreeMap::new();
        for key in self.files.keys() {
            if let Some(rest) = key.strip_prefix(&prefix) {
                match rest.split_once('/') {
                    Some((d, _)) => {
                        out.insert(d.to_string(), true);
                    }
                    None => {
                        out.entry(rest.to_string()).or_insert(false);
                    }
                }
            }
        }
        if out.is_empty() && !dir.is_empty() {
            return Err(FsError::NotFound {
                path: path.to_string(),
            });
        }
        Ok(out.into_iter().collect())
    }
}
