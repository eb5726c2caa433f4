//! The report for people: one block per finding, then a summary line.

use std::fmt::Write as _;

use super::{Report, Severity};

impl Report {
    /// The human report, with ANSI colours when `color` is set.
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
            let (place, context) = (d.place(), d.context());
            if !place.is_empty() || !context.is_empty() {
                let _ = writeln!(out, "  {} {place}{context}", paint("34", "-->"));
            }
        }
        let (checked, verdict) = self.counts();
        let verdict = if self.summary.errors > 0 {
            paint("1;31", &verdict)
        } else {
            paint("1;32", &verdict)
        };
        let _ = writeln!(
            out,
            "{}{checked}: {verdict}",
            if self.diagnostics.is_empty() {
                ""
            } else {
                "\n"
            },
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture;

    #[test]
    fn blocks_then_summary() {
        let text = fixture::report().to_human(false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "error[manifold/plugin-failed]: timed out");
        assert_eq!(lines[1], "error[manifold/yaml]: not valid YAML");
        assert_eq!(lines[2], "  --> apps/a b,c:d.yaml:2");
        assert_eq!(lines[3], "info[labels/note]: looks fine");
        assert_eq!(lines[4], "  --> apps/web/deploy.yaml (Deployment prod/web)");
        assert_eq!(
            lines[6],
            "  --> apps/web/deploy.yaml:6 (Deployment prod/web, /metadata/labels)"
        );
        assert_eq!(
            lines.last().copied(),
            Some("checked 3 files and 3 documents: 3 errors, 1 warning")
        );
    }
}
