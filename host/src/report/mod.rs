//! Findings and how they are shown: the human report and the JSON report
//! (`{"version": 1, ...}`, a contract for CI users).

use std::fmt::Write as _;

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl Resource {
    /// Reads the identity of a Kubernetes object, if it has one.
    pub fn of(object: &serde_json::Value) -> Option<Resource> {
        let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
        let metadata = object.get("metadata");
        Some(Resource {
            api_version: text(object.get("apiVersion"))?,
            kind: text(object.get("kind"))?,
            namespace: text(metadata.and_then(|m| m.get("namespace"))),
            name: text(metadata.and_then(|m| m.get("name"))),
        })
    }

    fn describe(&self) -> String {
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => format!("{} {ns}/{name}", self.kind),
            (None, Some(name)) => format!("{} {name}", self.kind),
            _ => self.kind.clone(),
        }
    }
}

/// One finding, from a plugin or from manifold itself (plugin `manifold`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub rule: String,
    pub plugin: String,
    pub message: String,
    pub file: Option<String>,
    /// 0-based index of the document in its file.
    pub document: Option<u32>,
    /// 1-based line; of the field when known, else of the document.
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// JSON pointer of the offending field.
    pub path: Option<String>,
    pub resource: Option<Resource>,
}

impl Diagnostic {
    /// A finding of manifold itself about a file (unreadable, not YAML …).
    pub fn input(rule: &str, file: &str, line: Option<u32>, message: String) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            rule: format!("manifold/{rule}"),
            plugin: "manifold".into(),
            message,
            file: Some(file.to_owned()),
            document: None,
            line,
            column: None,
            path: None,
            resource: None,
        }
    }

    /// Sort key: by file, then position, then rule, so reports are stable
    /// whatever order the parallel work finished in.
    fn key(&self) -> impl Ord + '_ {
        (
            &self.file,
            self.document,
            self.line,
            self.path.as_deref(),
            &self.plugin,
            &self.rule,
            &self.message,
        )
    }
}

/// Counts for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub documents: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// Everything a run found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub version: u32,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
}

impl Report {
    /// Builds a report, sorting the findings and counting them.
    pub fn new(mut diagnostics: Vec<Diagnostic>, files: usize, documents: usize) -> Report {
        diagnostics.sort_by(|a, b| a.key().cmp(&b.key()));
        diagnostics.dedup();
        let count = |s: Severity| diagnostics.iter().filter(|d| d.severity == s).count();
        let summary = Summary {
            files,
            documents,
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
        };
        Report {
            version: 1,
            diagnostics,
            summary,
        }
    }

    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }

    /// The report for people: one block per finding, then a summary line.
    pub fn to_human(&self, color: bool) -> String {
        let paint = |code: &str, text: &str| {
            if color {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        for d in &self.diagnostics {
            let (code, label) = match d.severity {
                Severity::Error => ("1;31", "error"),
                Severity::Warning => ("1;33", "warning"),
                Severity::Info => ("1;36", "info"),
            };
            let _ = writeln!(
                out,
                "{}{} {}",
                paint(code, &format!("{label}[{}]", d.rule)),
                paint("1", ":"),
                d.message
            );
            let mut place = String::new();
            if let Some(file) = &d.file {
                place.push_str(file);
                if let Some(line) = d.line {
                    let _ = write!(place, ":{line}");
                    if let Some(column) = d.column {
                        let _ = write!(place, ":{column}");
                    }
                }
            }
            let mut context = Vec::new();
            if let Some(resource) = &d.resource {
                context.push(resource.describe());
            }
            if let Some(path) = &d.path {
                context.push(path.clone());
            }
            if !place.is_empty() || !context.is_empty() {
                let context = if context.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", context.join(", "))
                };
                let _ = writeln!(out, "  {} {place}{context}", paint("34", "-->"));
            }
        }
        let s = &self.summary;
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        let verdict = format!(
            "{}, {}",
            plural(s.errors, "error"),
            plural(s.warnings, "warning")
        );
        let verdict = if s.errors > 0 {
            paint("1;31", &verdict)
        } else {
            paint("1;32", &verdict)
        };
        let _ = writeln!(
            out,
            "{}checked {} and {}: {verdict}",
            if self.diagnostics.is_empty() {
                ""
            } else {
                "\n"
            },
            plural(s.files, "file"),
            plural(s.documents, "document")
        );
        out
    }
}
