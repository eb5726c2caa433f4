//! Helm's engine around the template language: renders a set of template
//! files together the way `pkg/engine` does (parse order, partials,
//! `.Template`, `<no value>` removal, Helm's error wording), and the host
//! objects charts see: `.Files`, `.Capabilities.APIVersions`,
//! `.Capabilities.KubeVersion`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::Error;
use crate::exec::{ExecOptions, MissingKey, TemplateSet};
use crate::funcs::FuncMap;
use crate::gofmt;
use crate::value::{Object, Value};

/// One template file to render: its full name (`chart/templates/x.yaml`),
/// its text, the top-level object it sees (`.Values`, `.Release`, ...) and
/// its base path (`chart/templates`).
#[derive(Debug, Clone)]
pub struct RenderTemplate {
    pub name: String,
    pub text: String,
    pub values: Value,
    pub base_path: String,
}

/// Engine switches (Helm's `Engine.Strict`, `Engine.LintMode`).
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Missing keys are errors.
    pub strict: bool,
    /// `required` and `fail` do not fail.
    pub lint_mode: bool,
    /// Clock and random seed for the functions that need them.
    pub now: (i64, u32),
    pub random_seed: u64,
}

/// A failed render: the template that failed, the engine error, and the
/// message in Helm's words (what `helm template` prints after `Error: `).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct RenderError {
    pub template: String,
    pub message: String,
    pub source: Box<Error>,
}

impl RenderError {
    fn new(template: &str, source: Error) -> RenderError {
        RenderError {
            template: template.to_string(),
            message: source.helm_message(),
            source: Box::new(source),
        }
    }
}

/// Helm's parse order: deeper paths first, then reverse lexical order, so
/// that parent charts' definitions replace their subcharts'.
pub fn sort_templates(names: &mut [String]) {
    names.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
}

/// Renders every non-partial template (names whose base does not start
/// with `_`). Errors are Helm's messages (`parse error at (...)`,
/// `execution error at (...)` or the multi-line trace).
pub fn render(
    templates: &[RenderTemplate],
    funcs: FuncMap,
    opts: &EngineOptions,
) -> Result<BTreeMap<String, String>, RenderError> {
    let mut names: Vec<String> = templates.iter().map(|t| t.name.clone()).collect();
    sort_templates(&mut names);
    let by_name: BTreeMap<&str, &RenderTemplate> =
        templates.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut set = TemplateSet::new(funcs);
    for n in &names {
        if let Some(t) = by_name.get(n.as_str()) {
            set.add_file(n, &t.text)
                .map_err(|e| RenderError::new(n, e))?;
        }
    }
    let exec = ExecOptions {
        missing_key: if opts.strict {
            MissingKey::Error
        } else {
            MissingKey::Zero
        },
        now: opts.now,
        random_seed: opts.random_seed,
        strip_no_value: true,
        lint_mode: opts.lint_mode,
        ..ExecOptions::default()
    };
    let mut out = BTreeMap::new();
    for n in &names {
        let base = n.rsplit('/').next().unwrap_or(n);
        if base.starts_with('_') {
            continue;
        }
        let Some(t) = by_name.get(n.as_str()) else {
            continue;
        };
        let data = with_template_info(&t.values, n, &t.base_path);
        let rendered = set
            .execute(n, &data, &exec)
            .map_err(|e: Error| RenderError::new(n, e))?;
        out.insert(n.clone(), rendered);
    }
    Ok(out)
}

/// A shallow copy of the top-level object with `.Template` set.
fn with_template_info(values: &Value, name: &str, base: &str) -> Value {
    let mut top: BTreeMap<String, Value> = match values {
        Value::Map(m) => m.entries().into_iter().collect(),
        _ => BTreeMap::new(),
    };
    let mut t = BTreeMap::new();
    t.insert("Name".to_string(), Value::str(name));
    t.insert("BasePath".to_string(), Value::str(base));
    top.insert("Template".to_string(), Value::map(t));
    Value::map(top)
}

// ---------------------------------------------------------------- .Files

/// A chart's non-template files (Helm's `Files`, a `map[string][]byte`).
#[derive(Debug, Clone, Default)]
pub struct Files {
    files: BTreeMap<String, Arc<[u8]>>,
}

impl Files {
    pub fn new(files: BTreeMap<String, Vec<u8>>) -> Files {
        Files {
            files: files.into_iter().map(|(k, v)| (k, Arc::from(v))).collect(),
        }
    }

    pub fn into_value(self) -> Value {
        Value::Object(Arc::new(self))
    }

    fn text(&self, name: &str) -> String {
        self.files
            .get(name)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }

    fn glob(&self, pattern: &str) -> Files {
        Files {
            files: self
                .files
                .iter()
                .filter(|(k, _)| glob_match(pattern.as_bytes(), k.as_bytes()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

fn base_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "files.Files"
    }
    fn field(&self, name: &str) -> Option<Value> {
        // Field syntax reads a file by name, as on Go's map type.
        Some(self.files.get(name).map_or(Value::Nil, |b| {
            Value::string(String::from_utf8_lossy(b).into_owned())
        }))
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Get" | "GetBytes" | "Glob" | "Lines" | "AsConfig" | "AsSecrets"
        )
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let arg = |i: usize| -> Result<&str, String> {
            match args.get(i) {
                Some(Value::String(s)) => Ok(s),
                Some(v) => Err(format!(
                    "wrong type for value; expected string; got {}",
                    v.type_name()
                )),
                None => Err(format!("wrong number of args for {name}: want 1 got 0")),
            }
        };
        Ok(match name {
            "Get" | "GetBytes" => Value::string(self.text(arg(0)?)),
            "Glob" => self.glob(arg(0)?).into_value(),
            "Lines" => {
                let text = self.text(arg(0)?);
                if text.is_empty() {
                    Value::list(Vec::new())
                } else {
                    Value::list(text.split('\n').map(Value::str).collect())
                }
            }
            "AsConfig" | "AsSecrets" => {
                if self.files.is_empty() {
                    return Ok(Value::str(""));
                }
                let mut m = BTreeMap::new();
                for (k, v) in &self.files {
                    let content = if name == "AsSecrets" {
                        Value::string(crate::funcs::sprig::base64_encode(v))
                    } else {
                        Value::string(String::from_utf8_lossy(v).into_owned())
                    };
                    m.insert(base_name(k).to_string(), content);
                }
                Value::string(crate::to_yaml(&Value::map(m)))
            }
            _ => return Err(format!("can't evaluate field {name}")),
        })
    }
    fn display(&self) -> String {
        let inner: Vec<String> = self
            .files
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}:{}",
                    gofmt::sprint_value(&Value::list(
                        v.iter().map(|b| Value::Int(i64::from(*b))).collect()
                    ))
                )
            })
            .collect();
        format!("map[{}]", inner.join(" "))
    }
    fn len(&self) -> Option<usize> {
        Some(self.files.len())
    }
    /// Ranging gives (path, content); Go gives the content as `[]byte`,
    /// which charts pass on to functions that accept strings alike.
    fn range_entries(&self) -> Option<Vec<(Value, Value)>> {
        Some(
            self.files
                .iter()
                .map(|(k, v)| {
                    (
                        Value::str(k),
                        Value::string(String::from_utf8_lossy(v).into_owned()),
                    )
                })
                .collect(),
        )
    }
    fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Glob with `/` as separator: `*` within a segment, `**` across segments,
/// `?` one character, `[...]` classes.
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') => {
            if p.get(1) == Some(&b'*') {
                let rest = p.get(2..).unwrap_or(&[]);
                (0..=s.len()).any(|i| glob_match(rest, s.get(i..).unwrap_or(&[])))
            } else {
                let rest = p.get(1..).unwrap_or(&[]);
                let mut i = 0;
                loop {
                    if glob_match(rest, s.get(i..).unwrap_or(&[])) {
                        return true;
                    }
                    match s.get(i) {
                        Some(b'/') | None => return false,
                        _ => i += 1,
                    }
                }
            }
        }
        Some(b'?') => {
            s.first().is_some_and(|c| *c != b'/')
                && glob_match(p.get(1..).unwrap_or(&[]), s.get(1..).unwrap_or(&[]))
        }
        Some(b'[') => {
            let Some(end) = p.iter().position(|c| *c == b']') else {
                return false;
            };
            let class = p.get(1..end).unwrap_or(&[]);
            let Some(&c) = s.first() else { return false };
            let (neg, class) = match class.first() {
                Some(b'!' | b'^') => (true, class.get(1..).unwrap_or(&[])),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if class.get(i + 1) == Some(&b'-') && i + 2 < class.len() {
                    if class[i] <= c && c <= class[i + 2] {
                        hit = true;
                    }
                    i += 3;
                } else {
                    if class[i] == c {
                        hit = true;
                    }
                    i += 1;
                }
            }
            hit != neg && glob_match(p.get(end + 1..).unwrap_or(&[]), s.get(1..).unwrap_or(&[]))
        }
        Some(&c) => {
            s.first() == Some(&c)
                && glob_match(p.get(1..).unwrap_or(&[]), s.get(1..).unwrap_or(&[]))
        }
    }
}

// ---------------------------------------------------------------- .Capabilities

/// `.Capabilities.APIVersions`: a list with a `Has` method.
#[derive(Debug, Clone, Default)]
pub struct ApiVersions(pub Vec<String>);

impl Object for ApiVersions {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn has_method(&self, name: &str) -> bool {
        name == "Has"
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        match (name, args.first()) {
            ("Has", Some(Value::String(s))) => {
                Ok(Value::Bool(self.0.iter().any(|v| v == s.as_ref())))
            }
            ("Has", _) => Err("wrong type for value; expected string".into()),
            _ => Err(format!("can't evaluate field {name}")),
        }
    }
    fn range_entries(&self) -> Option<Vec<(Value, Value)>> {
        Some(
            self.0
                .iter()
                .enumerate()
                .map(|(i, s)| (Value::Int(i as i64), Value::str(s)))
                .collect(),
        )
    }
    fn display(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.0
                .iter()
                .map(|s| serde_json::Value::String(s.clone()))
                .collect(),
        )
    }
    fn len(&self) -> Option<usize> {
        Some(self.0.len())
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `.Capabilities.KubeVersion`: prints as its version (`v1.20.0`).
#[derive(Debug, Clone)]
pub struct KubeVersion {
    pub version: String,
    pub major: String,
    pub minor: String,
}

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "*common.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" | "GitVersion" => Some(Value::str(&self.version)),
            "Major" => Some(Value::str(&self.major)),
            "Minor" => Some(Value::str(&self.minor)),
            _ => None,
        }
    }
    fn has_method(&self, name: &str) -> bool {
        name == "String"
    }
    fn call_method(&self, _name: &str, _args: &[Value]) -> Result<Value, String> {
        Ok(Value::str(&self.version))
    }
    fn display(&self) -> String {
        self.version.clone()
    }
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"version": self.version, "major": self.major, "minor": self.minor})
    }
}
