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
                let _ = (template, context);
                helm_trace(&self.to_string())
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

/// Helm's multi-line trace of a chain of nested template errors: for each
/// level the location, the node being executed and that level's message.
fn helm_trace(full: &str) -> String {
    let mut out = String::new();
    let mut rest = full;
    let mut seen: Vec<(String, String, String)> = Vec::new();
    while let Some(body) = rest.strip_prefix("template: ") {
        if body.starts_with("no template ") {
            seen.push((String::new(), String::new(), rest.to_string()));
            break;
        }
        let entry = match body.split_once(": executing \"") {
            Some((loc, after)) => {
                let Some((func, after_func)) = after.split_once('"') else {
                    break;
                };
                let Some(after_at) = after_func.strip_prefix(" at <") else {
                    break;
                };
                let Some((node, msg)) = after_at.split_once(">: ") else {
                    break;
                };
                let (msg, next) = match msg.find(" template:") {
                    Some(i) => (msg.get(..i).unwrap_or(msg), msg.get(i + 1..)),
                    None => (msg, None),
                };
                let e = (
                    loc.to_string(),
                    format!("executing \"{func}\" at <{node}>:"),
                    msg.to_string(),
                );
                if seen.last() != Some(&e) {
                    seen.push(e);
                }
                match next {
                    Some(n) => {
                        rest = n;
                        continue;
                    }
                    None => break,
                }
            }
            None => match body.rsplit_once(": ") {
                Some((loc, msg)) => (loc.to_string(), String::new(), msg.to_string()),
                None => break,
            },
        };
        seen.push(entry);
        break;
    }
    if seen.is_empty() {
        return full.to_string();
    }
    for (loc, exec, msg) in seen {
        if !loc.is_empty() {
            out.push_str(&loc);
            out.push_str("\n  ");
        }
        if !exec.is_empty() {
            out.push_str(&exec);
            out.push_str("\n    ");
        }
        if !msg.is_empty() {
            out.push_str(&msg);
            out.push('\n');
        }
    }
    out.trim().to_string()
}
