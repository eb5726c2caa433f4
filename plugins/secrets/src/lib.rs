//! Secrets hygiene for GitOps repositories, as pure Rust that builds for
//! `wasm32-wasip2`:
//!
//! - `secrets/plaintext` (error): a `Secret` whose `data` or `stringData` is
//!   not empty is committed in the clear (base64 is an encoding, not
//!   encryption). Encrypted forms pass: `SealedSecret`, `ExternalSecret` and
//!   any SOPS-encrypted document (a top-level `sops` map with a `mac`).
//! - `secrets/credential-shape` (warning): a value that looks like a
//!   credential (PEM private key, AWS access key id, GitHub or Slack token)
//!   in a `ConfigMap` or in a container's `env`.
//!
//! Both honour an allow-list of `kind`/`namespace`/`name` patterns (`*`
//! matches any run of characters). Messages never repeat a secret value.
//!
//! ```
//! use manifold_plugin_secrets::{Checker, Options, rules};
//! use serde_json::json;
//!
//! let checker = Checker::new(Options::default()).unwrap();
//! let secret = json!({"apiVersion": "v1", "kind": "Secret",
//!                     "metadata": {"name": "db", "namespace": "prod"},
//!                     "data": {"password": "aHVudGVyMg=="}});
//! let findings = checker.check(&secret);
//! assert_eq!(findings[0].rule, rules::PLAINTEXT);
//! assert_eq!(findings[0].path.as_deref(), Some("/data"));
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod plugin;
mod shapes;

pub use manifold_plugin_sdk::{Diagnostic, Severity};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use shapes::{Shape, find_shape};

/// Rule identifiers of the findings.
pub mod rules {
    /// A Secret carries plaintext (base64) values.
    pub const PLAINTEXT: &str = "secrets/plaintext";
    /// A value looks like a credential.
    pub const CREDENTIAL_SHAPE: &str = "secrets/credential-shape";
}

/// A finding about a document: the plugin interface's own diagnostic, so
/// the plugin glue passes findings on unchanged. `rule` is one of [`rules`];
/// the message says what is wrong and what to do (never the secret itself);
/// `path` is the JSON pointer of the offending value.
fn finding(severity: Severity, rule: &str, message: String, path: String) -> Diagnostic {
    Diagnostic::new(severity, rule, message).at_path(path)
}

/// Why the checker could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The plugin configuration JSON does not match [`Options`].
    #[error(
        "invalid secrets configuration: {reason}; expected {{\"allow\": [{{\"kind\", \"namespace\", \"name\"}}], \"credentialShapes\": true|false}}"
    )]
    InvalidOptions {
        /// What serde said.
        reason: String,
    },
    /// An allow-list entry names nothing, so it would allow everything.
    #[error(
        "allow entry {index} names no kind, namespace or name and would allow every document: give at least one (use \"*\" patterns deliberately)"
    )]
    EmptyAllowEntry {
        /// Position in `allow`.
        index: usize,
    },
}

/// One allow-list entry: every field given must match (`*` is a wildcard).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AllowEntry {
    /// Kind pattern, e.g. `Secret`.
    pub kind: Option<String>,
    /// Namespace pattern, e.g. `kube-system`, `team-*`.
    pub namespace: Option<String>,
    /// Name pattern, e.g. `*-tls`.
    pub name: Option<String>,
}

/// Checker options; the JSON form (the plugin's configuration) uses
/// camelCase names (`credentialShapes`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Options {
    /// Documents that are never reported.
    pub allow: Vec<AllowEntry>,
    /// Look for credential-shaped values in ConfigMaps and `env`. Default true.
    pub credential_shapes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            allow: Vec::new(),
            credential_shapes: true,
        }
    }
}

impl Options {
    /// Options from the plugin's JSON configuration (`null` means defaults).
    pub fn from_json(config: &Value) -> Result<Options, Error> {
        if config.is_null() {
            return Ok(Options::default());
        }
        Options::deserialize(config).map_err(|e| Error::InvalidOptions {
            reason: e.to_string(),
        })
    }
}

/// Checks documents; build once, use for a whole batch.
#[derive(Debug, Clone)]
pub struct Checker {
    options: Options,
}

impl Checker {
    /// A checker for these options.
    pub fn new(options: Options) -> Result<Checker, Error> {
        for (index, entry) in options.allow.iter().enumerate() {
            if entry.kind.is_none() && entry.namespace.is_none() && entry.name.is_none() {
                return Err(Error::EmptyAllowEntry { index });
            }
        }
        Ok(Checker { options })
    }

    /// The findings of one document (a `List`'s items are checked one by
    /// one, with paths into the whole document).
    pub fn check(&self, doc: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        self.check_at(doc, "", &mut out);
        out
    }

    fn check_at(&self, doc: &Value, prefix: &str, out: &mut Vec<Diagnostic>) {
        let Some(map) = doc.as_object() else { return };
        if is_sops_encrypted(map) {
            return;
        }
        let kind = str_field(map, "kind").unwrap_or("");
        if kind == "List" {
            if let Some(Value::Array(items)) = map.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.check_at(item, &format!("{prefix}/items/{i}"), out);
                }
            }
            return;
        }
        let metadata = map.get("metadata").and_then(Value::as_object);
        let name = metadata.and_then(|m| str_field(m, "name")).unwrap_or("");
        let namespace = metadata
            .and_then(|m| str_field(m, "namespace"))
            .unwrap_or("");
        if self.allowed(kind, namespace, name) {
            return;
        }
        let who = describe(kind, namespace, name);
        match kind {
            // Encrypted at rest in git by construction.
            "SealedSecret" | "ExternalSecret" | "ClusterExternalSecret" => {}
            "Secret" => {
                for field in ["data", "stringData"] {
                    let count = map
                        .get(field)
                        .and_then(Value::as_object)
                        .map_or(0, Map::len);
                    if count > 0 {
                        out.push(finding(Severity::Error, rules::PLAINTEXT, format!(
                                "{who} has {count} plaintext value{} in {field} (base64 is not encryption): \
                                 commit a SealedSecret, an ExternalSecret or a SOPS-encrypted file instead, \
                                 or add the Secret to the allow-list",
                                if count == 1 { "" } else { "s" }
                            ), format!("{prefix}/{field}")));
                    }
                }
            }
            "ConfigMap" if self.options.credential_shapes => {
                if let Some(data) = map.get("data").and_then(Value::as_object) {
                    for (key, value) in data {
                        if let Some(text) = value.as_str() {
                            let path = format!("{prefix}/data/{}", escape_pointer(key));
                            self.report_shape(&who, &format!("data key '{key}'"), text, path, out);
                        }
                    }
                }
            }
            _ => {}
        }
        if self.options.credential_shapes && kind != "Secret" {
            self.check_env(doc, prefix.to_owned(), &who, out);
        }
    }

    /// Every `env: [{name, value}]` below `node`: pods, pod templates, jobs,
    /// cron jobs and custom resources that embed containers alike.
    fn check_env(&self, node: &Value, path: String, who: &str, out: &mut Vec<Diagnostic>) {
        match node {
            Value::Object(map) => {
                for (key, child) in map {
                    let child_path = format!("{path}/{}", escape_pointer(key));
                    if key == "env"
                        && let Value::Array(vars) = child
                    {
                        for (i, var) in vars.iter().enumerate() {
                            let (Some(name), Some(value)) = (
                                var.get("name").and_then(Value::as_str),
                                var.get("value").and_then(Value::as_str),
                            ) else {
                                continue;
                            };
                            self.report_shape(
                                who,
                                &format!("env variable {name}"),
                                value,
                                format!("{child_path}/{i}/value"),
                                out,
                            );
                        }
                        continue;
                    }
                    self.check_env(child, child_path, who, out);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_env(item, format!("{path}/{i}"), who, out);
                }
            }
            _ => {}
        }
    }

    fn report_shape(
        &self,
        who: &str,
        what: &str,
        text: &str,
        path: String,
        out: &mut Vec<Diagnostic>,
    ) {
        if let Some(shape) = find_shape(text) {
            out.push(finding(
                Severity::Warning,
                rules::CREDENTIAL_SHAPE,
                format!(
                    "{who}: {what} looks like {}: keep credentials in a Secret managed by \
                     SealedSecrets, ExternalSecrets or SOPS and reference it (secretKeyRef), \
                     or add the resource to the allow-list if this is not a credential",
                    shape.description()
                ),
                path,
            ));
        }
    }

    fn allowed(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.options.allow.iter().any(|entry| {
            let fits = |pattern: &Option<String>, value: &str| {
                pattern.as_deref().is_none_or(|p| glob_match(p, value))
            };
            fits(&entry.kind, kind) && fits(&entry.namespace, namespace) && fits(&entry.name, name)
        })
    }
}

/// SOPS writes its metadata, including the MAC over the encrypted values,
/// under a top-level `sops` key.
fn is_sops_encrypted(map: &Map<String, Value>) -> bool {
    map.get("sops")
        .and_then(Value::as_object)
        .is_some_and(|sops| sops.contains_key("mac"))
}

fn str_field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

fn describe(kind: &str, namespace: &str, name: &str) -> String {
    let kind = if kind.is_empty() { "resource" } else { kind };
    let name = if name.is_empty() { "<unnamed>" } else { name };
    if namespace.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {namespace}/{name}")
    }
}

/// RFC 6901 escaping of one pointer segment.
fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// `*` matches any run of characters (including none); everything else
/// matches itself.
fn glob_match(pattern: &str, value: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == value;
    };
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = rest.split_at(at + part.len()).1,
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_table() {
        let cases = [
            ("*", "anything", true),
            ("*", "", true),
            ("kube-system", "kube-system", true),
            ("kube-system", "kube-public", false),
            ("team-*", "team-a", true),
            ("team-*", "xteam-a", false),
            ("*-tls", "web-tls", true),
            ("*-tls", "web-tls-old", false),
            ("a*b*c", "a-x-b-y-c", true),
            ("a*b*c", "a-c-b", false),
            ("ab*ba", "aba", false),
        ];
        for (pattern, value, expected) in cases {
            assert_eq!(glob_match(pattern, value), expected, "{pattern} vs {value}");
        }
    }

    #[test]
    fn pointer_escaping() {
        assert_eq!(escape_pointer("a/b~c"), "a~1b~0c");
    }
}
