//! Findings and how they are shown. One [`Report`] holds the findings in one
//! deterministic order; each format module writes that same order:
//! [`human`] for people, [`json`] (`{"version": 1, ...}`, a contract for CI
//! users), [`junit`] for CI test-report views, [`sarif`] for code scanning,
//! [`github`] for GitHub Actions annotations.

mod github;
mod human;
mod json;
mod junit;
mod sarif;

use rayon::slice::ParallelSliceMut;
use serde::{Deserialize, Serialize};

/// How bad a finding is. The order (error first) is the order of gravity:
/// `a <= b` means `a` is at least as bad as `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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

    /// [`Resource::of`] read straight from JSON text, skipping everything
    /// but the four fields; `None` when the text has a shape this reading
    /// does not cover (a `metadata` that is not an object), for the caller to
    /// parse it whole.
    pub fn of_json(json: &str) -> Option<Option<Resource>> {
        #[derive(serde::Deserialize)]
        struct Head {
            #[serde(rename = "apiVersion")]
            api_version: Option<serde_json::Value>,
            kind: Option<serde_json::Value>,
            metadata: Option<Metadata>,
        }
        #[derive(serde::Deserialize)]
        struct Metadata {
            namespace: Option<serde_json::Value>,
            name: Option<serde_json::Value>,
        }
        let head: Head = serde_json::from_str(json).ok()?;
        let text = |v: Option<serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        };
        let (namespace, name) = head
            .metadata
            .map_or((None, None), |m| (text(m.namespace), text(m.name)));
        Some((|| {
            Some(Resource {
                api_version: text(head.api_version)?,
                kind: text(head.kind)?,
                namespace,
                name,
            })
        })())
    }

    /// `Kind namespace/name`, as `kubectl` users name objects.
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
    /// The target whose output the object belongs to (`manifold check`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
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
            target: None,
        }
    }

    /// Sort key: by file, then position, then rule, so reports are stable
    /// whatever order the parallel work finished in. Every format lists
    /// findings in this order.
    fn key(&self) -> impl Ord + '_ {
        (
            &self.target,
            &self.file,
            self.document,
            self.line,
            self.path.as_deref(),
            &self.plugin,
            &self.rule,
            &self.message,
        )
    }

    /// `file:line:column`, as far as known; empty without a file.
    fn place(&self) -> String {
        let mut place = String::new();
        if let Some(file) = &self.file {
            place.push_str(file);
            if let Some(line) = self.line {
                place.push_str(&format!(":{line}"));
                if let Some(column) = self.column {
                    place.push_str(&format!(":{column}"));
                }
            }
        }
        place
    }

    /// `(Kind namespace/name, /json/pointer)` with a leading space, or empty:
    /// the object and field, which a line alone does not name.
    fn context(&self) -> String {
        let mut context = Vec::new();
        if let Some(target) = &self.target {
            context.push(format!("target {target}"));
        }
        if let Some(resource) = &self.resource {
            context.push(resource.describe());
        }
        if let Some(path) = &self.path {
            context.push(path.clone());
        }
        if context.is_empty() {
            String::new()
        } else {
            format!(" ({})", context.join(", "))
        }
    }
}

/// An object that was checked, found or not: a JUnit test case needs the
/// objects that passed as well as those with findings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Checked {
    pub file: String,
    /// 0-based index of the document in its file.
    pub document: u32,
    /// 1-based line the document starts on.
    pub line: u32,
    pub resource: Option<Resource>,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub documents: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// One target of a repository run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetSummary {
    pub name: String,
    pub path: String,
    pub kind: String,
    /// Why it is a target.
    pub source: String,
    pub documents: usize,
    /// `ok`, or `failed` when it could not be rendered or read.
    pub status: String,
    pub cached: bool,
}

/// Everything a run found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub version: u32,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// Repository runs: the targets, in name order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<TargetSummary>>,
    /// Repository runs: cache hits and misses of renders and validations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<crate::cache::Stats>,
    /// Not part of JSON report version 1 (whose shape is a contract); the
    /// JUnit report lists these objects as test cases.
    #[serde(skip)]
    pub checked: Vec<Checked>,
}

impl Report {
    /// Builds a report, sorting the findings and counting them.
    pub fn new(mut diagnostics: Vec<Diagnostic>, files: usize, documents: usize) -> Report {
        // A run of a large repository has tens of thousands of each.
        diagnostics.par_sort_by(|a, b| a.key().cmp(&b.key()));
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
            targets: None,
            cache: None,
            checked: Vec::new(),
        }
    }

    /// Adds what a repository run did.
    pub fn with_targets(
        mut self,
        targets: Vec<TargetSummary>,
        cache: crate::cache::Stats,
    ) -> Report {
        self.targets = Some(targets);
        self.cache = Some(cache);
        self
    }

    /// Adds the objects that were checked, in a stable order.
    pub fn with_checked(mut self, mut checked: Vec<Checked>) -> Report {
        checked.par_sort_unstable();
        checked.dedup();
        self.checked = checked;
        self
    }

    /// Whether any finding is at `threshold` or worse (`--fail-on`).
    pub fn fails(&self, threshold: Severity) -> bool {
        self.diagnostics.iter().any(|d| d.severity <= threshold)
    }

    /// `checked 3 files and 4 documents: 0 errors, 1 warning`, uncoloured;
    /// the human report paints its parts.
    fn counts(&self) -> (String, String) {
        let s = &self.summary;
        let scope = match &self.targets {
            Some(targets) => {
                let failed = targets.iter().filter(|t| t.status != "ok").count();
                let mut scope = plural(targets.len(), "target");
                if failed > 0 {
                    scope.push_str(&format!(" ({failed} failed)"));
                }
                scope
            }
            None => plural(s.files, "file"),
        };
        let mut checked = format!("checked {scope} and {}", plural(s.documents, "document"));
        if let Some(cache) = self.cache {
            let parts: Vec<String> = [(cache.renders, "renders"), (cache.validations, "checks")]
                .iter()
                .filter(|(counts, _)| counts.hits > 0)
                .map(|(c, what)| format!("{} of {} {what}", c.hits, c.hits + c.misses))
                .collect();
            if !parts.is_empty() {
                checked.push_str(&format!(" (from cache: {})", parts.join(", ")));
            }
        }
        let verdict = format!(
            "{}, {}",
            plural(s.errors, "error"),
            plural(s.warnings, "warning")
        );
        (checked, verdict)
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The fixed findings every format's tests render: an error with a
/// resource and field, a warning with a column, an info without a line, a
/// finding without a file, and messages full of characters that need
/// escaping in XML, JSON and workflow commands.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;

    pub fn report() -> Report {
        let web = Resource {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("prod".into()),
            name: Some("web".into()),
        };
        let diagnostics = vec![
            Diagnostic {
                severity: Severity::Warning,
                rule: "policy/deny".into(),
                plugin: "policy".into(),
                message: "50% of <replicas> & \"more\":\nsecond line\r\u{1b}[31m".into(),
                file: Some("policy/deny.rego".into()),
                document: None,
                line: Some(3),
                column: Some(7),
                path: None,
                resource: None,
                target: None,
            },
            Diagnostic {
                severity: Severity::Error,
                rule: "labels/required".into(),
                plugin: "labels".into(),
                message: "missing required label \"team\"".into(),
                file: Some("apps/web/deploy.yaml".into()),
                document: Some(0),
                line: Some(6),
                column: None,
                path: Some("/metadata/labels".into()),
                resource: Some(web.clone()),
                target: None,
            },
            Diagnostic {
                severity: Severity::Info,
                rule: "labels/note".into(),
                plugin: "labels".into(),
                message: "looks fine".into(),
                file: Some("apps/web/deploy.yaml".into()),
                document: Some(0),
                line: None,
                column: None,
                path: None,
                resource: Some(web.clone()),
                target: None,
            },
            Diagnostic {
                plugin: "image-tag".into(),
                file: None,
                ..Diagnostic::input("plugin-failed", "", None, "timed out".into())
            },
            Diagnostic::input(
                "yaml",
                "apps/a b,c:d.yaml",
                Some(2),
                "not valid YAML".into(),
            ),
        ];
        let checked = vec![
            Checked {
                file: "apps/web/deploy.yaml".into(),
                document: 0,
                line: 1,
                resource: Some(web),
            },
            Checked {
                file: "apps/web/deploy.yaml".into(),
                document: 1,
                line: 20,
                resource: Some(Resource {
                    api_version: "v1".into(),
                    kind: "Service".into(),
                    namespace: None,
                    name: Some("web".into()),
                }),
            },
        ];
        Report::new(diagnostics, 3, 3).with_checked(checked)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_identity_read_from_text_is_the_one_read_from_the_value() {
        let cases = [
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"b"},"data":{"k":"v"}}"#,
            r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}}"#,
            r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":7,"namespace":null}}"#,
            r#"{"apiVersion":"v1","kind":"Namespace","metadata":null}"#,
            r#"{"apiVersion":"v1","kind":"Namespace"}"#,
            r#"{"apiVersion":"v1","metadata":{"name":"no-kind"}}"#,
            r#"{"apiVersion":2,"kind":"Pod"}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":"text"}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"name":"x"},"name":"y"}}"#,
            r#"[1,2]"#,
            r#""text""#,
        ];
        for json in cases {
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let expected = Resource::of(&value);
            // A shape the head reading leaves to the full parse must say so.
            if let Some(found) = Resource::of_json(json) {
                assert_eq!(found, expected, "{json}");
            }
        }
        assert!(
            Resource::of_json(r#"{"apiVersion":"v1","kind":"Pod","metadata":"text"}"#).is_none()
        );
        assert!(Resource::of_json(r#"{"apiVersion":"v1","kind":"Pod"}"#).is_some());
    }

    #[test]
    fn order_is_by_file_then_position_whatever_the_input_order() {
        let report = fixture::report();
        let mut reversed = report.diagnostics.clone();
        reversed.reverse();
        let again = Report::new(reversed, 3, 3);
        assert_eq!(again.diagnostics, report.diagnostics);
        let rules: Vec<&str> = report.diagnostics.iter().map(|d| &*d.rule).collect();
        assert_eq!(
            rules,
            [
                "manifold/plugin-failed",
                "manifold/yaml",
                "labels/note",
                "labels/required",
                "policy/deny"
            ]
        );
    }

    #[test]
    fn fail_on_threshold() {
        let report = fixture::report();
        assert!(report.fails(Severity::Error));
        let warnings_only = Report::new(
            report
                .diagnostics
                .iter()
                .filter(|d| d.severity != Severity::Error)
                .cloned()
                .collect(),
            1,
            1,
        );
        assert!(!warnings_only.fails(Severity::Error));
        assert!(warnings_only.fails(Severity::Warning));
        let info_only = Report::new(
            report
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Info)
                .cloned()
                .collect(),
            1,
            1,
        );
        assert!(!info_only.fails(Severity::Warning));
    }
}
