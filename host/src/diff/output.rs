//! How a [`TreeDiff`] is shown: for a terminal, as versioned JSON for
//! tools, and as Markdown for a pull-request comment.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Change, FieldChange, ResourceDiff, Summary, TargetDiff, TreeDiff};

/// Values longer than this are cut in the human and Markdown outputs (the
/// JSON output keeps them whole).
const VALUE_CHARS: usize = 120;

/// GitHub refuses comments longer than 65536 characters; the Markdown stops
/// listing field changes before that, leaving room for its last lines.
const MARKDOWN_BUDGET: usize = 60_000;

/// Removals listed in the Markdown warning before "and N more".
const MARKDOWN_WARNINGS: usize = 50;

impl TreeDiff {
    /// The stable JSON output (`{"version": 1, "targets": [...], "summary": {...}}`).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }

    /// For people at a terminal: one line per resource (`+` added, `-`
    /// removed, `~` changed) under its target, field changes indented, then
    /// a summary line.
    pub fn to_human(&self, color: bool) -> String {
        let paint = |code: &str, text: &str| {
            if color {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        for target in &self.targets {
            let (sign, code, note) = marks(target.change, " (new target)", " (target removed)");
            let _ = writeln!(
                out,
                "{}",
                paint(
                    &format!("1;{code}"),
                    &format!("{sign} {}{note}", target.name)
                )
            );
            for resource in &target.resources {
                let (sign, code, _) = marks(resource.change, "", "");
                let line = format!(
                    "  {sign} {} ({})",
                    resource.id.describe(),
                    resource.api_version
                );
                let flag = if resource.is_dangerous() {
                    format!("  {}", paint("1;31", "DANGEROUS"))
                } else if resource.is_kept() {
                    format!("  {}", paint("36", "kept by annotation"))
                } else {
                    String::new()
                };
                let _ = writeln!(out, "{}{flag}{}", paint(code, &line), moved(resource));
                for field in &resource.fields {
                    let _ = writeln!(out, "      {}", field_line(field, "->"));
                }
                for reason in resource.removal.iter().flat_map(|r| &r.reasons) {
                    let mark = if resource.is_dangerous() {
                        paint("1;31", "!")
                    } else {
                        paint("36", "i")
                    };
                    let _ = writeln!(out, "      {mark} {reason}");
                }
            }
        }
        let mut summary = summary_line(&self.summary);
        if self.summary.dangerous_removals > 0 {
            let dangerous = plural(self.summary.dangerous_removals, "dangerous removal");
            summary = summary.replacen(&dangerous, &paint("1;31", &dangerous), 1);
        }
        let _ = writeln!(
            out,
            "{}{summary}",
            if self.targets.is_empty() { "" } else { "\n" }
        );
        out
    }

    /// A pull-request comment: a warning for dangerous removals first, a
    /// table per target, then the field changes in `<details>` blocks.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("### manifold diff\n\n");
        let s = &self.summary;
        if !self.has_differences() {
            let _ = writeln!(out, "{}", summary_line(s));
            return out;
        }
        let removals = |dangerous: bool| {
            self.targets.iter().flat_map(move |t| {
                t.resources
                    .iter()
                    .filter(move |r| {
                        if dangerous {
                            r.is_dangerous()
                        } else {
                            r.is_kept()
                        }
                    })
                    .map(move |r| (t, r))
            })
        };
        if s.dangerous_removals > 0 {
            let _ = writeln!(
                out,
                "> [!CAUTION]\n> **{}.** With pruning on, merging this deletes these live resources:\n>",
                capitalise(&plural(s.dangerous_removals, "dangerous removal"))
            );
            warning_list(&mut out, removals(true), s.dangerous_removals);
            out.push('\n');
        }
        if s.kept_by_annotation > 0 {
            let _ = writeln!(
                out,
                "> [!NOTE]\n> **{} kept by annotation.** These removed resources stay in the cluster, no longer managed from Git:\n>",
                s.kept_by_annotation
            );
            warning_list(&mut out, removals(false), s.kept_by_annotation);
            out.push('\n');
        }
        out.push_str(
            "| target | | added | changed | removed | dangerous |\n|---|---|--:|--:|--:|--:|\n",
        );
        for target in &self.targets {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                code(&target.name),
                match target.change {
                    Change::Added => "new target",
                    Change::Removed => "target removed",
                    Change::Changed => "changed",
                },
                target.count(Change::Added),
                target.count(Change::Changed),
                target.count(Change::Removed),
                match target.dangerous() {
                    0 => "0".to_owned(),
                    n => format!("**{n}** :warning:"),
                }
            );
        }
        out.push('\n');
        for (i, target) in self.targets.iter().enumerate() {
            let block = details(target);
            if out.len() + block.len() > MARKDOWN_BUDGET {
                let _ = writeln!(
                    out,
                    "The changes of {} are left out: GitHub comments hold 65536 characters. Run `manifold diff` to see them all.\n",
                    plural(self.targets.len() - i, "more target")
                );
                break;
            }
            out.push_str(&block);
        }
        let _ = writeln!(out, "{}", summary_line(s));
        out
    }
}

/// The sign, colour code and target note of a change.
fn marks(
    change: Change,
    added: &'static str,
    removed: &'static str,
) -> (char, &'static str, &'static str) {
    match change {
        Change::Added => ('+', "32", added),
        Change::Removed => ('-', "31", removed),
        Change::Changed => ('~', "33", ""),
    }
}

/// ` (moved to apps/db)`, ` (moved from apps/web)`, or nothing.
fn moved(resource: &ResourceDiff) -> String {
    match (&resource.moved_to, &resource.moved_from) {
        (Some(to), _) => format!(" (moved to {to})"),
        (_, Some(from)) => format!(" (moved from {from})"),
        _ => String::new(),
    }
}

/// `path: old -> new`, `path: + new` or `path: - old`.
fn field_line(field: &FieldChange, arrow: &str) -> String {
    match shown(field) {
        (path, Some(old), Some(new)) => format!("{path}: {old} {arrow} {new}"),
        (path, None, Some(new)) => format!("{path}: + {new}"),
        (path, Some(old), None) => format!("{path}: - {old}"),
        (path, None, None) => path,
    }
}

/// How a field change is shown: its path and the two values, cut when
/// long. Two multi-line strings (a configuration file in a ConfigMap) are
/// shown by their first differing line, as their cut beginnings would
/// look the same.
fn shown(field: &FieldChange) -> (String, Option<String>, Option<String>) {
    if let (Some(Value::String(old)), Some(Value::String(new))) = (&field.old, &field.new)
        && (old.contains('\n') || new.contains('\n'))
    {
        let (old, new): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
        if let Some(first) = (0..old.len().max(new.len())).find(|&i| old.get(i) != new.get(i)) {
            let line = |lines: &[&str]| {
                lines
                    .get(first)
                    .map(|l| show(&Value::String((*l).to_owned())))
            };
            let counts = if old.len() == new.len() {
                String::new()
            } else {
                format!("; {} -> {} lines", old.len(), new.len())
            };
            let path = format!("{} (line {}{counts})", field.path, first + 1);
            return (path, line(&old), line(&new));
        }
    }
    (
        field.path.clone(),
        field.old.as_ref().map(show),
        field.new.as_ref().map(show),
    )
}

/// A value as compact JSON (so `"1"` and `1` differ), cut when long.
fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= VALUE_CHARS {
        return text;
    }
    let cut: String = text.chars().take(VALUE_CHARS).collect();
    format!("{cut}...")
}

/// `1 target`, `2 targets`: the phrases used here pluralise on their end.
fn plural(n: usize, phrase: &str) -> String {
    if n == 1 {
        format!("{n} {phrase}")
    } else {
        format!("{n} {phrase}s")
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// `targets: 1 added, ...; resources: ...; 1 dangerous removal`, or the
/// size of what was compared when nothing differs.
fn summary_line(s: &Summary) -> String {
    let targets = s.targets_added + s.targets_removed + s.targets_changed + s.targets_unchanged;
    if s.targets_added + s.targets_removed + s.targets_changed == 0 {
        return format!(
            "no differences: {} and {} compared",
            plural(targets, "target"),
            plural(s.resources_unchanged, "resource")
        );
    }
    let mut line = format!(
        "targets: {} added, {} removed, {} changed, {} unchanged; resources: {} added, {} removed, {} changed, {} unchanged",
        s.targets_added,
        s.targets_removed,
        s.targets_changed,
        s.targets_unchanged,
        s.resources_added,
        s.resources_removed,
        s.resources_changed,
        s.resources_unchanged
    );
    if s.dangerous_removals > 0 {
        let _ = write!(
            line,
            "; {}",
            plural(s.dangerous_removals, "dangerous removal")
        );
    }
    if s.kept_by_annotation > 0 {
        let _ = write!(line, "; {} kept by annotation", s.kept_by_annotation);
    }
    line
}

/// The quoted list of a warning, cut after [`MARKDOWN_WARNINGS`] entries.
fn warning_list<'a>(
    out: &mut String,
    removals: impl Iterator<Item = (&'a TargetDiff, &'a ResourceDiff)>,
    total: usize,
) {
    for (target, resource) in removals.take(MARKDOWN_WARNINGS) {
        let reasons: Vec<String> = resource
            .removal
            .iter()
            .flat_map(|r| &r.reasons)
            .map(|reason| escape(reason))
            .collect();
        let _ = writeln!(
            out,
            "> - {} in {}: {}",
            resource_name(resource),
            code(&target.name),
            reasons.join("; ")
        );
    }
    if total > MARKDOWN_WARNINGS {
        let _ = writeln!(out, "> - and {} more", total - MARKDOWN_WARNINGS);
    }
}

/// `**Kind** <code>namespace/name</code>`.
fn resource_name(resource: &ResourceDiff) -> String {
    let id = &resource.id;
    let name = id.name.as_deref().unwrap_or("(unnamed)");
    let full = match &id.namespace {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_owned(),
    };
    format!("**{}** {}", escape(&id.kind), code(&full))
}

/// The `<details>` block of one target: its resources, and a table of
/// field changes under each changed one.
fn details(target: &TargetDiff) -> String {
    let mut counts = Vec::new();
    for (change, word) in [
        (Change::Added, "added"),
        (Change::Changed, "changed"),
        (Change::Removed, "removed"),
    ] {
        let n = target.count(change);
        if n > 0 {
            counts.push(format!("{n} {word}"));
        }
    }
    let mut out = format!(
        "<details><summary>{}: {}</summary>\n\n",
        code(&target.name),
        counts.join(", ")
    );
    for resource in &target.resources {
        let (sign, _, _) = marks(resource.change, "", "");
        let flag = if resource.is_dangerous() {
            " :warning: **dangerous removal**"
        } else if resource.is_kept() {
            " (kept by annotation)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{} {} ({}){flag}{}\n",
            code(&sign.to_string()),
            resource_name(resource),
            code(&resource.api_version),
            escape(&moved(resource))
        );
        if !resource.fields.is_empty() {
            out.push_str("| field | old | new |\n|---|---|---|\n");
            for field in &resource.fields {
                let (path, old, new) = shown(field);
                let cell = |v: Option<String>| v.map_or("<em>absent</em>".to_owned(), |v| code(&v));
                let _ = writeln!(out, "| {} | {} | {} |", code(&path), cell(old), cell(new));
            }
            out.push('\n');
        }
    }
    out.push_str("</details>\n\n");
    out
}

/// Text in `<code>`: an HTML element rather than backticks, so names and
/// values holding backticks or pipes cannot break the table around them.
fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(text))
}

/// Text safe in Markdown and in a table cell.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            '*' | '_' | '`' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markdown_stays_within_a_github_comment() {
        let resource = |i: usize| ResourceDiff {
            change: Change::Changed,
            id: super::super::ResourceId {
                group: String::new(),
                kind: "ConfigMap".into(),
                namespace: None,
                name: Some(format!("c{i}")),
            },
            api_version: "v1".into(),
            fields: (0..20)
                .map(|f| FieldChange {
                    path: format!("data.k{f}"),
                    old: Some(json!("o".repeat(200))),
                    new: Some(json!("n".repeat(200))),
                })
                .collect(),
            removal: None,
            moved_to: None,
            moved_from: None,
        };
        let targets: Vec<TargetDiff> = (0..100)
            .map(|t| TargetDiff {
                name: format!("apps/t{t:03}"),
                change: Change::Changed,
                resources: (0..5).map(resource).collect(),
            })
            .collect();
        let diff = TreeDiff {
            version: 1,
            summary: Summary {
                targets_changed: targets.len(),
                resources_changed: 500,
                ..Summary::default()
            },
            targets,
        };
        let text = diff.to_markdown();
        assert!(text.chars().count() < 65536, "{} characters", text.len());
        assert!(text.contains("| <code>apps/t099</code> | changed | 0 | 5 | 0 | 0 |"));
        assert!(text.contains("<details><summary><code>apps/t000</code>"));
        assert!(text.contains("more targets are left out"), "{text}");
        assert!(text.ends_with("0 unchanged\n"));
    }

    #[test]
    fn field_lines() {
        let long = "x".repeat(200);
        // (old, new, line)
        let cases = [
            (Some(json!(1)), Some(json!(2)), "f: 1 -> 2"),
            (None, Some(json!("a")), r#"f: + "a""#),
            (Some(json!(null)), None, "f: - null"),
            (
                Some(json!("a: 1\nb: 2\nc: 3\n")),
                Some(json!("a: 1\nb: 5\nc: 3\n")),
                r#"f (line 2): "b: 2" -> "b: 5""#,
            ),
            (
                Some(json!("a: 1\n")),
                Some(json!("a: 1\nb: 2\n")),
                r#"f (line 2; 1 -> 2 lines): + "b: 2""#,
            ),
            // Only the final line end differs: the whole values.
            (Some(json!("a\n")), Some(json!("a")), r#"f: "a\n" -> "a""#),
            (
                Some(json!(long)),
                Some(json!(1)),
                &format!("f: \"{}... -> 1", "x".repeat(VALUE_CHARS - 1)),
            ),
        ];
        for (old, new, want) in cases {
            let field = FieldChange {
                path: "f".into(),
                old,
                new,
            };
            assert_eq!(field_line(&field, "->"), want);
        }
    }
}
