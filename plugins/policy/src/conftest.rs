//! conftest-style policies: `.rego` files whose `deny`/`violation`/`warn`
//! rules (and `_`-suffixed variants such as `deny_privileged`) in the chosen
//! namespaces are evaluated with the manifest as `input`.
//!
//! Semantics follow conftest's engine: a rule's value must be a collection
//! (set or array) of strings or of objects carrying a string `msg`; other
//! values mean "passed". `exception` rules in the same namespace that name a
//! rule's suffix (`exception contains rules if { rules := ["privileged"] }`)
//! silence `deny_privileged`/`warn_privileged`.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::Value;

use crate::error::{Error, Location};
use crate::rego::{self, EngineSettings, RegoVersion};
use crate::{Finding, Severity, Source};

/// One rule conftest would query, e.g. `deny_root` in namespace `main`.
#[derive(Debug, Clone)]
struct RuleRef {
    namespace: String,
    name: String,
    severity: Severity,
    /// A file declaring the rule, for error messages.
    file: String,
}

/// The compiled `.rego` files plus the rules to query.
#[derive(Debug)]
pub(crate) struct ConftestPolicies {
    engine: regorus::Engine,
    rules: Vec<RuleRef>,
    /// Namespaces that declare an `exception` rule, with a declaring file.
    exceptions: Vec<(String, String)>,
}

/// conftest's rule-name grammar after the severity prefix:
/// `(_[a-zA-Z0-9]+)*`.
fn valid_suffix(rest: &str) -> bool {
    rest.is_empty()
        || rest.strip_prefix('_').is_some_and(|r| {
            r.split('_')
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
        })
}

pub(crate) fn severity_of(rule: &str) -> Option<Severity> {
    let suffix_after = |prefix: &str| rule.strip_prefix(prefix).is_some_and(valid_suffix);
    if suffix_after("deny") || suffix_after("violation") {
        Some(Severity::Error)
    } else if suffix_after("warn") {
        Some(Severity::Warning)
    } else {
        None
    }
}

/// Identifiers (`[A-Za-z_][A-Za-z0-9_]*`) appearing in `text`.
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            w.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        })
}

/// conftest matches exceptions on the rule name without its severity prefix.
fn exception_key(rule: &str) -> &str {
    if matches!(rule, "deny" | "violation" | "warn") {
        return "";
    }
    ["violation_", "deny_", "warn_"]
        .iter()
        .find_map(|p| rule.strip_prefix(p))
        .unwrap_or(rule)
}

/// Which packages' rules are queried.
#[derive(Debug, Clone)]
pub enum Namespaces {
    /// Packages matching any of these patterns (conftest `--namespace`,
    /// default `main`): Go `path.Match` globs, so `main.*` selects
    /// `main.gke` and a name without metacharacters matches only itself.
    Only(Vec<String>),
    /// Every package of every file (conftest `--all-namespaces`).
    All,
}

impl Default for Namespaces {
    fn default() -> Self {
        Namespaces::Only(vec!["main".to_string()])
    }
}

/// Translates a Go `path.Match` pattern (`*`, `?`, `[...]` with `^`
/// negation, `\\` escapes) into an anchored regex.
fn glob_regex(pattern: &str) -> Result<Regex, String> {
    let mut re = String::from("^");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '\\' => match chars.next() {
                Some(escaped) => re.push_str(&regex::escape(&escaped.to_string())),
                None => return Err("pattern ends with a lone backslash".to_string()),
            },
            '[' => {
                re.push('[');
                if chars.as_str().starts_with('^') {
                    chars.next();
                    re.push('^');
                }
                let mut closed = false;
                let mut empty = true;
                while let Some(k) = chars.next() {
                    match k {
                        ']' if !empty => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some(escaped) => re.push_str(&regex::escape(&escaped.to_string())),
                            None => return Err("unterminated character class".to_string()),
                        },
                        '-' => re.push('-'),
                        other => re.push_str(&regex::escape(&other.to_string())),
                    }
                    empty = false;
                }
                if !closed {
                    return Err("unterminated character class".to_string());
                }
                re.push(']');
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).map_err(|e| e.to_string())
}

impl ConftestPolicies {
    pub(crate) fn load(
        files: &[&Source],
        data: &[(String, Value)],
        namespaces: &Namespaces,
        version: RegoVersion,
        settings: EngineSettings,
    ) -> Result<Self, Error> {
        let patterns = match namespaces {
            Namespaces::All => None,
            Namespaces::Only(list) => Some(
                list.iter()
                    .map(|p| {
                        glob_regex(p).map_err(|e| Error::Config {
                            message: format!(
                                "namespace pattern {p:?}: {e}; use a package name or a glob \
                                 such as \"main.*\""
                            ),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let mut engine = rego::new_engine(settings);
        let mut candidates: Vec<(String, String, String)> = Vec::new();
        for file in files {
            let package = rego::add_module(&mut engine, &file.name, &file.text, version)
                .map_err(|f| rego::syntax_error(&file.name, String::new(), f))?;
            let namespace = package
                .strip_prefix("data.")
                .unwrap_or(&package)
                .to_string();
            let wanted = patterns
                .as_ref()
                .is_none_or(|list| list.iter().any(|re| re.is_match(&namespace)));
            if !wanted {
                continue;
            }
            // Rule heads are identifiers in the text; regorus confirms which
            // of the candidates really are declared rules of this module.
            let names: BTreeSet<&str> = identifiers(&file.text)
                .filter(|n| severity_of(n).is_some() || *n == "exception")
                .collect();
            for name in names {
                if engine
                    .has_declared_rule_rooted_at(&file.name, name)
                    .unwrap_or(false)
                {
                    candidates.push((namespace.clone(), name.to_string(), file.name.clone()));
                }
            }
        }
        for (file, doc) in data {
            let value = rego::to_regorus(doc)?;
            engine.add_data(value).map_err(|e| Error::Data {
                location: Location::file(file.clone()),
                message: rego::parse_failure(&e).message,
            })?;
        }
        rego::prepare(&mut engine).map_err(|f| {
            // regorus names the module (our source name) it blames.
            let file = f
                .module
                .clone()
                .or_else(|| files.first().map(|s| s.name.clone()))
                .unwrap_or_default();
            rego::syntax_error(&file, String::new(), f)
        })?;

        let mut rules: Vec<RuleRef> = Vec::new();
        let mut exceptions: Vec<(String, String)> = Vec::new();
        for (namespace, name, file) in candidates {
            if name == "exception" {
                if !exceptions.iter().any(|(n, _)| *n == namespace) {
                    exceptions.push((namespace, file));
                }
                continue;
            }
            let duplicate = rules
                .iter()
                .any(|r| r.namespace == namespace && r.name == name);
            if let (false, Some(severity)) = (duplicate, severity_of(&name)) {
                rules.push(RuleRef {
                    namespace,
                    name,
                    severity,
                    file,
                });
            }
        }
        Ok(ConftestPolicies {
            engine,
            rules,
            exceptions,
        })
    }

    pub(crate) fn has_rules(&self) -> bool {
        !self.rules.is_empty()
    }

    /// Rule paths this set queries, e.g. `data.main.deny`.
    pub(crate) fn rule_paths(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|r| format!("data.{}.{}", r.namespace, r.name))
            .collect()
    }

    /// Evaluates every rule; a rule that fails adds to `errors` without
    /// stopping the others.
    pub(crate) fn evaluate(
        &mut self,
        input: &regorus::Value,
        findings: &mut Vec<Finding>,
        prints: &mut Vec<String>,
        errors: &mut Vec<Error>,
    ) {
        if self.rules.is_empty() {
            return;
        }
        self.engine.set_input(input.clone());
        let mut exception_values: Vec<(String, BTreeSet<String>)> = Vec::new();
        for (namespace, file) in &self.exceptions {
            let path = format!("data.{namespace}.exception");
            let value = rego::eval_rule(&mut self.engine, &path, file);
            rego::take_prints(&mut self.engine, prints);
            match value.and_then(|v| v.map(|v| rego::to_json(&v)).transpose()) {
                Ok(Some(value)) => {
                    exception_values.push((namespace.clone(), exception_names(&value)));
                }
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        for rule in &self.rules {
            let path = format!("data.{}.{}", rule.namespace, rule.name);
            let value = rego::eval_rule(&mut self.engine, &path, &rule.file);
            rego::take_prints(&mut self.engine, prints);
            let value = match value.and_then(|v| v.map(|v| rego::to_json(&v)).transpose()) {
                Ok(Some(value)) => value,
                Ok(None) => continue,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let excepted = exception_values.iter().any(|(ns, names)| {
                *ns == rule.namespace && names.contains(exception_key(&rule.name))
            });
            if excepted {
                continue;
            }
            let id = format!("policy/{}.{}", rule.namespace, rule.name);
            if let Err(e) = collect(&value, rule, &path, &id, findings) {
                errors.push(e);
            }
        }
    }
}

/// Flattens `exception` (a set of rule-name collections) into names.
fn exception_names(value: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    if let Value::Array(outer) = value {
        for inner in outer {
            if let Value::Array(items) = inner {
                names.extend(items.iter().filter_map(|v| v.as_str().map(str::to_string)));
            }
        }
    }
    names
}

fn collect(
    value: &Value,
    rule: &RuleRef,
    path: &str,
    id: &str,
    findings: &mut Vec<Finding>,
) -> Result<(), Error> {
    // Sets arrive as arrays; anything else (`deny := true`) is not a
    // message collection and conftest counts it as a pass.
    let Value::Array(items) = value else {
        return Ok(());
    };
    for item in items {
        match item {
            Value::String(message) => findings.push(Finding {
                severity: rule.severity,
                rule: id.to_string(),
                message: message.clone(),
                constraint: None,
                details: Value::Null,
            }),
            Value::Object(object) => {
                let Some(Value::String(message)) = object.get("msg") else {
                    return Err(Error::InvalidResult {
                        rule: path.to_string(),
                        policy_file: rule.file.clone(),
                        message: format!(
                            "an object without a string `msg` field ({}); return \
                             {{\"msg\": \"...\", ...}} or a plain string",
                            truncate(&item.to_string(), 120)
                        ),
                    });
                };
                let mut details = object.clone();
                details.remove("msg");
                findings.push(Finding {
                    severity: rule.severity,
                    rule: id.to_string(),
                    message: message.clone(),
                    constraint: None,
                    details: if details.is_empty() {
                        Value::Null
                    } else {
                        Value::Object(details)
                    },
                });
            }
            // conftest silently skips other element types.
            _ => {}
        }
    }
    Ok(())
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", text.get(..i).unwrap_or(text)),
        None => text.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_classified_like_conftest() {
        let cases = [
            ("deny", Some(Severity::Error)),
            ("violation", Some(Severity::Error)),
            ("deny_privileged", Some(Severity::Error)),
            ("violation_no_owner_label", Some(Severity::Error)),
            ("warn", Some(Severity::Warning)),
            ("warn_latest_tag", Some(Severity::Warning)),
            ("denied", None),
            ("deny_", None),
            ("allow", None),
            ("warning", None),
            ("exception", None),
        ];
        for (name, expected) in cases {
            assert_eq!(severity_of(name), expected, "{name}");
        }
    }

    #[test]
    fn namespace_globs_follow_go_path_match() {
        // (pattern, namespace, matches)
        let cases = [
            ("main", "main", true),
            ("main", "main.gke", false),
            ("main.*", "main.gke", true),
            ("main.*", "main", false),
            ("*.gke", "kubernetes.gke", true),
            ("*", "anything.at.all", true),
            ("main.?", "main.a", true),
            ("main.?", "main.ab", false),
            ("main.[ab]", "main.b", true),
            ("main.[ab]", "main.c", false),
            ("main.[^ab]", "main.c", true),
            ("main.[a-c]", "main.b", true),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
        ];
        for (pattern, namespace, expected) in cases {
            let re = glob_regex(pattern).unwrap();
            assert_eq!(re.is_match(namespace), expected, "{pattern} vs {namespace}");
        }
        for bad in ["main.[ab", "x\\"] {
            assert!(glob_regex(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exception_keys_drop_the_severity_prefix() {
        let cases = [
            ("deny", ""),
            ("warn", ""),
            ("deny_root", "root"),
            ("violation_no_limits", "no_limits"),
            ("warn_latest", "latest"),
        ];
        for (rule, key) in cases {
            assert_eq!(exception_key(rule), key, "{rule}");
        }
    }
}
