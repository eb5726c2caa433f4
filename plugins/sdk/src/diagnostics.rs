//! Building diagnostics: constructors and JSON pointers.

use crate::{Diagnostic, Location, Severity};

impl Diagnostic {
    /// A finding of the given severity; `rule` is `<plugin>/<rule>`.
    pub fn new(severity: Severity, rule: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            rule: rule.into(),
            message: message.into(),
            manifest: None,
            path: None,
            location: None,
        }
    }

    /// An error: fails the run.
    pub fn error(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, rule, message)
    }

    /// A warning: reported, fails the run only with `--fail-on warning`.
    pub fn warning(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, rule, message)
    }

    /// A note for the reader.
    pub fn info(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Info, rule, message)
    }

    /// Names the manifest (its index in the batch) the finding is about.
    pub fn on_manifest(mut self, index: usize) -> Self {
        self.manifest = Some(u32::try_from(index).unwrap_or(u32::MAX));
        self
    }

    /// Sets the JSON pointer of the offending field.
    pub fn at_path(mut self, pointer: impl Into<String>) -> Self {
        self.path = Some(pointer.into());
        self
    }

    /// Sets a source position (for findings about a source file).
    pub fn at_location(mut self, file: &str, line: u32, column: u32) -> Self {
        self.location = Some(Location {
            file: file.to_owned(),
            line,
            column,
        });
        self
    }
}

/// Joins path segments into an RFC 6901 JSON pointer, escaping `~` and `/`.
///
/// ```
/// assert_eq!(
///     manifold_plugin_sdk::json_pointer(["metadata", "labels", "app.kubernetes.io/name"]),
///     "/metadata/labels/app.kubernetes.io~1name"
/// );
/// ```
pub fn json_pointer<I, S>(segments: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut pointer = String::new();
    for segment in segments {
        pointer.push('/');
        for c in segment.as_ref().chars() {
            match c {
                '~' => pointer.push_str("~0"),
                '/' => pointer.push_str("~1"),
                c => pointer.push(c),
            }
        }
    }
    pointer
}
