//! The read-only file-system interface the builder loads kustomizations through,
//! and the path arithmetic (joining, `..` normalisation, root checks) kustomize's
//! loader performs, done on repository-relative '/'-separated strings.

use std::fmt;

/// Why a file or folder could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsError {
    NotFound(String),
    Denied(String),
    Io(String),
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsError::NotFound(p) => write!(f, "'{p}' does not exist"),
            FsError::Denied(p) => write!(f, "access to '{p}' was denied"),
            FsError::Io(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for FsError {}

/// Read-only access to the repository the kustomization lives in.
pub trait FileSystem {
    /// Read a whole file. `path` is relative to the repository root, '/'-separated, already normalised.
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError>;
    /// List a folder: (name, is_dir), sorted by name.
    fn list(&self, path: &str) -> Result<Vec<(String, bool)>, FsError>;
}

/// Joins `rel` onto the folder `base` and normalises `.`/`..`.
/// Returns `None` when the result climbs above the repository root.
/// The root itself is the empty string.
pub fn join(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    // An absolute path inside the plugin has no meaning other than "from the repository root".
    let base_parts = if rel.starts_with('/') { "" } else { base };
    for p in base_parts.split('/').chain(rel.split('/')) {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// Whether `path` is `root` or lies below it.
pub fn is_within(root: &str, path: &str) -> bool {
    root.is_empty() || path == root || path.strip_prefix(root).is_some_and(|r| r.starts_with('/'))
}

/// The folder holding `path` ("" for a top-level file).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// The last segment of `path`.
pub fn base_name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Shown to users: the repository root prints as ".".
pub fn display(path: &str) -> &str {
    if path.is_empty() { "." } else { path }
}

/// Whether a resource entry names something that would have to be fetched
/// over the network (URLs, git repositories), which this builder refuses.
pub fn is_remote(entry: &str) -> bool {
    let e = entry.trim();
    e.starts_with("https://")
        || e.starts_with("http://")
        || e.starts_with("git::")
        || e.starts_with("git@")
        || e.starts_with("ssh://")
        || e.starts_with("github.com/")
        || e.starts_with("gitlab.com/")
        || e.starts_with("bitbucket.org/")
        || e.contains("?ref=")
        || e.contains(".git//")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_normalises() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("a/b", "c.yaml", Some("a/b/c.yaml")),
            ("a/b", "../c", Some("a/c")),
            ("a/b", "../../c", Some("c")),
            ("a/b", "../../../c", None),
            ("", "./x/./y", Some("x/y")),
            ("a", "/x", Some("x")),
            ("a", ".", Some("a")),
        ];
        for (base, rel, want) in cases {
            assert_eq!(join(base, rel).as_deref(), *want, "{base} + {rel}");
        }
    }

    #[test]
    fn within() {
        let cases = [
            ("a", "a/b", true),
            ("a", "ab", false),
            ("", "x", true),
            ("a/b", "a", false),
            ("a", "a", true),
        ];
        for (root, p, want) in cases {
            assert_eq!(is_within(root, p), want, "{root} {p}");
        }
    }

    #[test]
    fn remote_detection() {
        let cases = [
            ("https://github.com/x/y", true),
            (
                "github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v1.0.6",
                true,
            ),
            ("git@github.com:x/y.git", true),
            ("../base", false),
            ("deployment.yaml", false),
        ];
        for (e, want) in cases {
            assert_eq!(is_remote(e), want, "{e}");
        }
    }
}
