//! Reading the repository from a renderer or a validator.
//!
//! Paths are relative to the repository root and `/`-separated. The host
//! refuses anything that leaves the root (validators may also read absolute
//! paths inside folders the user named on the command line), and records
//! every file read and every folder listed: that read set decides when a
//! cached result is stale, so read through these functions only.

use crate::validator_bindings::manifold::plugin::files as host;

pub use host::{DirEntry, EntryKind, FileError};

/// Reads a whole file.
pub fn read(path: &str) -> Result<Vec<u8>, FileError> {
    host::read_file(path)
}

/// Reads a whole file as UTF-8 text.
pub fn read_to_string(path: &str) -> Result<String, FileError> {
    let bytes = host::read_file(path)?;
    String::from_utf8(bytes).map_err(|e| {
        FileError::Io(format!(
            "{path}: not valid UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Lists a folder, sorted by name.
pub fn list(path: &str) -> Result<Vec<DirEntry>, FileError> {
    host::list_dir(path)
}
