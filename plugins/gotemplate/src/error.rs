//! Errors of parsing and executing templates, worded like Go's text/template
//! so messages match what Helm users see, plus Helm's reformatting of them.

/// Marks the user's own message in `required`/`fail` errors, as Helm does, so
/// the message can be recovered from a chain of nested template errors.
pub(crate) const WARN_START: &str = "HELM_ERR_START";
pub(crate) const WARN_END: &str = "HELM_ERR_END";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A syntax error: `template: NAME:LINE: MESSAGE`.
    #[error("template: {name}:{line}: {message}")]
    Parse {
        name: String,
        line: usize,
        message: String,
    },
    /// A failure while executing: `template: FILE:LINE:COL: executing "NAME" at <NODE>: MESSAGE`.
    #[error("template: {location}: executing \"{template}\" at <{context}>: {message}")]
    Exec {
        /// `FILE:LINE:COL`.
        location: String,
        template: String,
        /// The source form of the node being evaluated.
        context: String,
        message: String,
    },
    /// Executing a template name that does not exist.
    #[error("template: no template \"{name}\" associated with template \"{set}\"")]
    NoTemplate { name: String, set: String },
}

impl Error {
    /// The message in the form Helm's engine reports it: `parse error at
    /// (FILE:LINE): MSG` for syntax errors, and for execution errors
    /// `execution error at (FILE:LINE:COL): MSG` when the error came from
    /// `required`/`fail`, otherwise the location, the failing node and the
    /// innermost message on separate lines.
    pub fn helm_message(&self) -> String {
        match self {
            Error::Parse {
                name,
                line,
                message,
            } => {
                // Helm keeps only the last ": "-separated part of the message.
                let last = message.rsplit(": ").next().unwrap_or(message);
                format!("parse error at ({name}:{line}): {last}")
            }
            Error::Exec {
                location,
                template,
                context,
                message,
            } => {
                if let Some(user) = extract_warning(message) {
                    return format!("execution error at ({location}): {user}");
                }
                let mut out =
                    format!("{location}\n  executing \"{template}\" at <{context}>:\n    ");
                let inner = message.split(" template:").next().unwrap_or(message);
                out.push_str(inner);
                out.trim().to_string()
            }
            Error::NoTemplate { .. } => self.to_string(),
        }
    }
}

/// The text between Helm's warning markers, if any.
pub(crate) fn extract_warning(message: &str) -> Option<&str> {
    let start = message.find(WARN_START)? + WARN_START.len();
    let end = message.rfind(WARN_END)?;
    message.get(start..end)
}
