//! The JUnit XML report, for the test views of GitLab, Jenkins and the
//! GitHub test-report actions.
//!
//! One `<testsuite>` per file, one `<testcase>` per checked object. Suites
//! per file rather than per plugin because these tools show a test case
//! under its suite (GitLab's "Suite" column is the `classname`, Jenkins
//! groups by it), and a file is what a reader fixes: a document with
//! findings from three plugins is one failing object in one file, not three
//! unrelated failures. Findings that no object owns (a file that is not
//! YAML, a document that is not a Kubernetes object, a plugin that failed)
//! get a test case of their own: named after the file, `file#document`, or
//! the plugin.
//!
//! Findings at or above `--fail-on` make the case a `<failure>`; a plugin
//! that could not run makes it an `<error>` (JUnit's "the test itself broke").
//! The others go to `<system-out>`: Jenkins shows it on the test page;
//! GitLab and the GitHub actions show only failures and errors, so there a
//! warning on a passing object is invisible (use `--fail-on warning` to see
//! them as failures). No timestamps or host names: the output is a function
//! of the findings.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Diagnostic, Report, Severity};

/// A plugin that could not check its batch: an error, not a failure.
const PLUGIN_FAILED: &str = "manifold/plugin-failed";

/// One test case: its name, line, and findings in report order.
#[derive(Default)]
struct Case<'a> {
    line: Option<u32>,
    findings: Vec<&'a Diagnostic>,
}

/// What a case's outcome element is.
enum Outcome {
    Pass,
    Failure,
    Error,
}

/// File → (document, case name) → case. `BTreeMap`s keep the findings'
/// order: no file first, then files by name; in a file whole-file cases,
/// then documents by index.
type Suites<'a> = BTreeMap<Option<&'a str>, BTreeMap<(Option<u32>, String), Case<'a>>>;

/// The suite named for findings that are about no file.
const NO_FILE: &str = "manifold";

impl Report {
    /// The JUnit report; findings at `fail_on` or worse fail their case.
    pub fn to_junit(&self, fail_on: Severity) -> String {
        let mut suites: Suites = BTreeMap::new();
        for c in &self.checked {
            let name = match &c.resource {
                Some(resource) => resource.describe(),
                None => format!("{}#{}", c.file, c.document),
            };
            let case = suites
                .entry(Some(&c.file))
                .or_default()
                .entry((Some(c.document), name))
                .or_default();
            case.line = Some(c.line);
        }
        for d in &self.diagnostics {
            let file = d.file.as_deref();
            let name = match (d.document, &d.resource, file) {
                (Some(_), Some(resource), _) => resource.describe(),
                (Some(document), None, file) => {
                    format!("{}#{document}", file.unwrap_or(NO_FILE))
                }
                (None, _, Some(file)) => file.to_owned(),
                (None, _, None) => d.plugin.clone(),
            };
            let case = suites
                .entry(file)
                .or_default()
                .entry((d.document, name))
                .or_default();
            case.line = case.line.or(d.line);
            case.findings.push(d);
        }

        let outcome = |case: &Case| {
            let failing = || case.findings.iter().filter(|d| d.severity <= fail_on);
            if failing().any(|d| d.rule == PLUGIN_FAILED) {
                Outcome::Error
            } else if failing().next().is_some() {
                Outcome::Failure
            } else {
                Outcome::Pass
            }
        };
        let count = |cases: &BTreeMap<_, Case>| {
            let (mut failures, mut errors) = (0, 0);
            for case in cases.values() {
                match outcome(case) {
                    Outcome::Failure => failures += 1,
                    Outcome::Error => errors += 1,
                    Outcome::Pass => {}
                }
            }
            (cases.len(), failures, errors)
        };

        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let (mut tests, mut failures, mut errors) = (0, 0, 0);
        for cases in suites.values() {
            let (t, f, e) = count(cases);
            tests += t;
            failures += f;
            errors += e;
        }
        let _ = writeln!(
            out,
            "<testsuites name=\"manifold\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"0\">"
        );
        for (file, cases) in &suites {
            let suite = file.unwrap_or(NO_FILE);
            let (tests, failures, errors) = count(cases);
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"0\">",
                attr(suite)
            );
            for ((_, name), case) in cases {
                let _ = write!(
                    out,
                    "    <testcase name=\"{}\" classname=\"{}\"",
                    attr(name),
                    attr(suite)
                );
                if let Some(file) = file {
                    let _ = write!(out, " file=\"{}\"", attr(file));
                }
                if let Some(line) = case.line {
                    let _ = write!(out, " line=\"{line}\"");
                }
                out.push_str(" time=\"0\"");
                let (failing, rest): (Vec<&Diagnostic>, Vec<&Diagnostic>) = case
                    .findings
                    .iter()
                    .copied()
                    .partition(|d| d.severity <= fail_on);
                let element = match outcome(case) {
                    Outcome::Pass => None,
                    Outcome::Failure => Some("failure"),
                    Outcome::Error => Some("error"),
                };
                if element.is_none() && rest.is_empty() {
                    out.push_str("/>\n");
                    continue;
                }
                out.push_str(">\n");
                if let (Some(element), Some(first)) = (element, failing.first()) {
                    let mut message = first.message.clone();
                    if failing.len() > 1 {
                        let _ = write!(message, " (and {} more)", failing.len() - 1);
                    }
                    let _ = writeln!(
                        out,
                        "      <{element} message=\"{}\" type=\"{}\">{}</{element}>",
                        attr(&message),
                        attr(&first.rule),
                        text(&blocks(&failing))
                    );
                }
                if !rest.is_empty() {
                    let _ = writeln!(
                        out,
                        "      <system-out>{}</system-out>",
                        text(&blocks(&rest))
                    );
                }
                out.push_str("    </testcase>\n");
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

/// Findings as the human report writes them, uncoloured.
fn blocks(findings: &[&Diagnostic]) -> String {
    let mut out = String::new();
    for d in findings {
        let _ = writeln!(out, "{}[{}]: {}", d.severity.as_str(), d.rule, d.message);
        let (place, context) = (d.place(), d.context());
        if !place.is_empty() || !context.is_empty() {
            let _ = writeln!(out, "  --> {place}{context}");
        }
    }
    out
}

/// Escapes character data. Line feeds and tabs stay as they are; a carriage
/// return becomes a reference, which parsers would otherwise turn into a
/// line feed.
fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value. Line feeds and tabs become references too:
/// parsers normalise them to spaces in attributes.
fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            // XML 1.0 has no way to write these, not even as references:
            // show them the way Rust escapes them, so the text stays legible
            // and the document stays well-formed.
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
    out
}

// In tests a panic is a failing test, which is what unwrapping means there.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn escaping() {
        // (input, as text, as attribute)
        let cases = [
            ("plain", "plain", "plain"),
            ("a<b>&c", "a&lt;b&gt;&amp;c", "a&lt;b&gt;&amp;c"),
            (
                "\"q\" 'a'",
                "&quot;q&quot; &apos;a&apos;",
                "&quot;q&quot; &apos;a&apos;",
            ),
            ("l1\nl2\tx", "l1\nl2\tx", "l1&#10;l2&#9;x"),
            ("cr\r", "cr&#13;", "cr&#13;"),
            ("\u{1b}[31m\u{0}", "\\u{1b}[31m\\u{0}", "\\u{1b}[31m\\u{0}"),
            ("\u{ffff}é✓", "\\u{ffff}é✓", "\\u{ffff}é✓"),
            ("]]>", "]]&gt;", "]]&gt;"),
        ];
        for (input, as_text, as_attr) in cases {
            assert_eq!(text(input), as_text, "{input:?}");
            assert_eq!(attr(input), as_attr, "{input:?}");
        }
    }

    /// A minimal reader of the XML this module writes: elements with their
    /// attributes and text, enough to compare structure rather than bytes.
    #[derive(Debug, Default)]
    struct Element {
        name: String,
        attrs: Vec<(String, String)>,
        children: Vec<Element>,
        text: String,
    }

    impl Element {
        fn attr(&self, name: &str) -> &str {
            self.attrs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("<{}> lacks {name}", self.name))
        }
        fn has(&self, name: &str) -> bool {
            self.attrs.iter().any(|(k, _)| k == name)
        }
        fn child(&self, name: &str) -> Option<&Element> {
            self.children.iter().find(|c| c.name == name)
        }
    }

    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&#10;", "\n")
            .replace("&#13;", "\r")
            .replace("&#9;", "\t")
            .replace("&amp;", "&")
    }

    fn parse(xml: &str) -> Element {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .expect("XML declaration");
        for c in body.chars() {
            assert!(
                !c.is_control() || matches!(c, '\n' | '\t'),
                "raw control character {c:?} in the XML"
            );
        }
        let mut stack = vec![Element::default()];
        let mut rest = body;
        while let Some(start) = rest.find('<') {
            stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&unescape(&rest[..start]));
            let end = rest[start..].find('>').unwrap() + start;
            let tag = &rest[start + 1..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let done = stack.pop().unwrap();
                assert_eq!(done.name, name, "mismatched end tag");
                stack.last_mut().unwrap().children.push(done);
                continue;
            }
            let closed = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            let mut element = Element {
                name: name.to_owned(),
                ..Element::default()
            };
            while let Some((key, after)) = attrs.trim_start().split_once("=\"") {
                let close = after.find('"').unwrap();
                assert!(!after[..close].contains('<'), "unescaped < in attribute");
                element
                    .attrs
                    .push((key.to_owned(), unescape(&after[..close])));
                attrs = &after[close + 1..];
            }
            if closed {
                stack.last_mut().unwrap().children.push(element);
            } else {
                stack.push(element);
            }
        }
        assert_eq!(stack.len(), 1, "unclosed elements");
        let mut root = stack.pop().unwrap();
        assert_eq!(root.children.len(), 1, "one root element");
        root.children.pop().unwrap()
    }

    fn count(e: &Element, key: &str) -> usize {
        e.attr(key).parse().unwrap()
    }

    #[test]
    fn suites_cases_and_counts() {
        let report = fixture::report();
        let xml = report.to_junit(Severity::Error);
        let root = parse(&xml);
        assert_eq!(root.name, "testsuites");
        let suites: Vec<(&str, Vec<&str>)> = root
            .children
            .iter()
            .map(|s| {
                (
                    s.attr("name"),
                    s.children.iter().map(|c| c.attr("name")).collect(),
                )
            })
            .collect();
        assert_eq!(
            suites,
            [
                ("manifold", vec!["image-tag"]),
                ("apps/a b,c:d.yaml", vec!["apps/a b,c:d.yaml"]),
                (
                    "apps/web/deploy.yaml",
                    vec!["Deployment prod/web", "Service web"]
                ),
                ("policy/deny.rego", vec!["policy/deny.rego"]),
            ]
        );
        // Counts add up, per suite and in total.
        let (mut tests, mut failures, mut errors) = (0, 0, 0);
        for suite in &root.children {
            let cases = &suite.children;
            assert_eq!(count(suite, "tests"), cases.len());
            let with = |name: &str| cases.iter().filter(|c| c.child(name).is_some()).count();
            assert_eq!(count(suite, "failures"), with("failure"));
            assert_eq!(count(suite, "errors"), with("error"));
            tests += cases.len();
            failures += with("failure");
            errors += with("error");
        }
        assert_eq!(
            (tests, failures, errors),
            (5, 2, 1),
            "two failing objects, one plugin error, two passing"
        );
        assert_eq!(count(&root, "tests"), tests);
        assert_eq!(count(&root, "failures"), failures);
        assert_eq!(count(&root, "errors"), errors);

        let deploy = &root.children[2].children[0];
        assert_eq!(deploy.attr("classname"), "apps/web/deploy.yaml");
        assert_eq!(deploy.attr("file"), "apps/web/deploy.yaml");
        assert_eq!(deploy.attr("line"), "1");
        let failure = deploy.child("failure").unwrap();
        assert_eq!(failure.attr("type"), "labels/required");
        assert_eq!(failure.attr("message"), "missing required label \"team\"");
        assert!(
            failure
                .text
                .contains("--> apps/web/deploy.yaml:6 (Deployment prod/web, /metadata/labels)"),
            "{}",
            failure.text
        );
        // The info finding is output, not a failure.
        assert!(
            deploy
                .child("system-out")
                .unwrap()
                .text
                .starts_with("info[labels/note]: looks fine")
        );
        let service = &root.children[2].children[1];
        assert!(service.children.is_empty() && service.attr("line") == "20");

        let plugin = &root.children[0].children[0];
        assert!(!plugin.has("file"), "no file for a finding about none");
        assert_eq!(
            plugin.child("error").unwrap().attr("type"),
            "manifold/plugin-failed"
        );

        // A warning passes at --fail-on error, its text intact.
        let policy = &root.children[3].children[0];
        assert!(policy.child("failure").is_none());
        let out = &policy.child("system-out").unwrap().text;
        assert!(
            out.contains("50% of <replicas> & \"more\":\nsecond line\r\\u{1b}[31m"),
            "{out:?}"
        );
        assert_eq!(policy.attr("line"), "3");
    }

    #[test]
    fn fail_on_warning_fails_the_warning_and_keeps_info_as_output() {
        let root = parse(&fixture::report().to_junit(Severity::Warning));
        assert_eq!(count(&root, "failures"), 3);
        let policy = &root.children[3].children[0];
        let failure = policy.child("failure").unwrap();
        assert_eq!(failure.attr("type"), "policy/deny");
        assert_eq!(
            failure.attr("message"),
            "50% of <replicas> & \"more\":\nsecond line\r\\u{1b}[31m"
        );
        let deploy = &root.children[2].children[0];
        assert!(deploy.child("system-out").is_some());
    }

    #[test]
    fn several_failing_findings_make_one_failure() {
        let mut report = fixture::report();
        let mut second = report.diagnostics[3].clone();
        second.rule = "labels/value".into();
        second.message = "bad value".into();
        second.line = Some(7);
        report.diagnostics.push(second);
        let root = parse(&report.to_junit(Severity::Error));
        let deploy = &root.children[2].children[0];
        let failures: Vec<&Element> = deploy
            .children
            .iter()
            .filter(|c| c.name == "failure")
            .collect();
        assert_eq!(failures.len(), 1);
        assert_eq!(
            failures[0].attr("message"),
            "missing required label \"team\" (and 1 more)"
        );
        assert!(failures[0].text.contains("error[labels/value]: bad value"));
    }

    #[test]
    fn deterministic() {
        let report = fixture::report();
        assert_eq!(
            report.to_junit(Severity::Error),
            report.clone().to_junit(Severity::Error)
        );
        let empty = super::super::Report::new(Vec::new(), 0, 0);
        let root = parse(&empty.to_junit(Severity::Error));
        assert_eq!(root.attr("tests"), "0");
        assert!(root.children.is_empty());
    }
}
