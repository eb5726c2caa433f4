//! Errors a policy set reports while loading policies or evaluating a manifest.
//!
//! Every variant a user can cause names the file (and line where known) and
//! says what to change, because the message is shown as-is in diagnostics.

use std::fmt;

/// A place in a user file: the file name as supplied and, when known, a
/// 1-based line (and column).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Location {
    pub fn file(file: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            line: None,
            column: None,
        }
    }

    pub fn at(file: impl Into<String>, line: Option<u32>) -> Self {
        Location {
            file: file.into(),
            line,
            column: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

impl Error {
    /// Where in the user's files the error is, when it is in one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::RegoSyntax { location, .. }
            | Error::Parse { location, .. }
            | Error::Template { location, .. }
            | Error::Constraint { location, .. }
            | Error::Data { location, .. } => Some(location),
            _ => None,
        }
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Rego module does not parse (or fails regorus' compile-time checks).
    #[error("{location}: Rego error{context}: {message}; fix the policy source")]
    RegoSyntax {
        location: Location,
        /// Extra context such as the template field the Rego came from.
        context: String,
        message: String,
    },

    /// The validator's JSON configuration is malformed.
    #[error("policy validator configuration: {message}")]
    Config { message: String },

    /// Two sources share a name, which would make error locations ambiguous.
    #[error("{name}: two policy sources have this name; give each source a unique name")]
    DuplicateSource { name: String },

    /// A YAML or JSON file could not be parsed.
    #[error("{location}: cannot parse {what}: {message}")]
    Parse {
        location: Location,
        what: &'static str,
        message: String,
    },

    /// A ConstraintTemplate is malformed.
    #[error("{location}: ConstraintTemplate {name}: {message}")]
    Template {
        location: Location,
        name: String,
        message: String,
    },

    /// A constraint document is malformed.
    #[error("{location}: constraint {kind}/{name}: {message}")]
    Constraint {
        location: Location,
        kind: String,
        name: String,
        message: String,
    },

    /// Caller-supplied `data` documents do not merge.
    #[error("{location}: cannot merge data document: {message}; remove the conflicting key")]
    Data { location: Location, message: String },

    /// The manifest under review cannot be reviewed as given.
    #[error("manifest: {message}")]
    Manifest { message: String },

    /// A policy failed while evaluating a manifest (builtin error, conflict,
    /// time limit, ...).
    #[error("evaluating {rule} (from {policy_file}) failed: {message}")]
    Evaluation {
        rule: String,
        policy_file: String,
        message: String,
    },

    /// A rule produced a value this validator cannot turn into a finding.
    #[error("{rule} (from {policy_file}) produced {message}")]
    InvalidResult {
        rule: String,
        policy_file: String,
        message: String,
    },

    /// Setting up the regorus engine failed for a reason that is not the
    /// user's policy (for example converting a document).
    #[error("policy engine: {0}")]
    Engine(String),
}
