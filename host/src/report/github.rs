//! GitHub Actions workflow commands: one `::error`, `::warning` or
//! `::notice` line per finding, which Actions turns into an annotation on
//! the file and line of the pull request, then a plain summary line.
//!
//! File paths are taken as given on the command line: GitHub resolves them
//! against the checkout, so run manifold from the repository root.

use std::fmt::Write as _;

use super::{Report, Severity};

impl Report {
    pub fn to_github(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            let command = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut properties = Vec::new();
            if let Some(file) = &d.file {
                properties.push(format!("file={}", property(file)));
                if let Some(line) = d.line {
                    properties.push(format!("line={line}"));
                    if let Some(column) = d.column {
                        properties.push(format!("col={column}"));
                    }
                }
            }
            properties.push(format!("title={}", property(&d.rule)));
            let _ = writeln!(
                out,
                "::{command} {}::{}",
                properties.join(","),
                data(&format!("{}{}", d.message, d.context()))
            );
        }
        let (checked, verdict) = self.counts();
        let _ = writeln!(out, "manifold: {checked}: {verdict}");
        out
    }
}

/// Escapes a command's message: without it a line break in a message would
/// end the command, and the next line could be read as a command of its own.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value, where `,` separates properties and `:` ends
/// them.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

// In tests a panic is a failing test, which is what unwrapping means there.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn escaping() {
        // (input, as data, as property)
        let cases = [
            ("plain text", "plain text", "plain text"),
            ("100%", "100%25", "100%25"),
            ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
            ("k: v, w", "k: v, w", "k%3A v%2C w"),
            ("%0A", "%250A", "%250A"),
            ("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax"),
        ];
        for (input, as_data, as_property) in cases {
            assert_eq!(data(input), as_data, "{input:?}");
            assert_eq!(property(input), as_property, "{input:?}");
        }
    }

    /// Splits a workflow command as the Actions runner does: command name,
    /// `key=value` properties separated by commas, then `::` and the message;
    /// values unescaped.
    fn parse(line: &str) -> (String, Vec<(String, String)>, String) {
        let unescape = |s: &str| {
            s.replace("%2C", ",")
                .replace("%3A", ":")
                .replace("%0A", "\n")
                .replace("%0D", "\r")
                .replace("%25", "%")
        };
        let rest = line.strip_prefix("::").unwrap();
        let (head, message) = rest.split_once("::").unwrap();
        let (command, props) = head.split_once(' ').unwrap_or((head, ""));
        let props = props
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), unescape(v))
            })
            .collect();
        (command.to_owned(), props, unescape(message))
    }

    #[test]
    fn one_command_per_finding_in_report_order_then_summary() {
        let text = fixture::report().to_github();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6);
        let parsed: Vec<_> = lines[..5].iter().map(|l| parse(l)).collect();
        let props = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            parsed[0],
            (
                "error".into(),
                props(&[("title", "manifold/plugin-failed")]),
                "timed out".into()
            )
        );
        assert_eq!(
            parsed[1],
            (
                "error".into(),
                props(&[
                    ("file", "apps/a b,c:d.yaml"),
                    ("line", "2"),
                    ("title", "manifold/yaml")
                ]),
                "not valid YAML".into()
            )
        );
        assert_eq!(
            parsed[2],
            (
                "notice".into(),
                props(&[("file", "apps/web/deploy.yaml"), ("title", "labels/note")]),
                "looks fine (Deployment prod/web)".into()
            )
        );
        assert_eq!(
            parsed[3].2,
            "missing required label \"team\" (Deployment prod/web, /metadata/labels)"
        );
        assert_eq!(
            parsed[4],
            (
                "warning".into(),
                props(&[
                    ("file", "policy/deny.rego"),
                    ("line", "3"),
                    ("col", "7"),
                    ("title", "policy/deny")
                ]),
                "50% of <replicas> & \"more\":\nsecond line\r\u{1b}[31m".into()
            )
        );
        assert_eq!(
            lines[5],
            "manifold: checked 3 files and 3 documents: 3 errors, 1 warning"
        );
    }
}
