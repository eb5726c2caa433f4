//! Chart loading as Helm's `pkg/chart/v2/loader` does it: a folder (with
//! `.helmignore`) or a `.tgz` archive becomes a [`Chart`] with metadata,
//! default values, schema, templates, other files and subcharts.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::{Map, Value as J};

use crate::Error;
use crate::fs::{FileSystem, join};
use crate::ignore::Rules;

/// Largest file accepted from an archive, as Helm's `MaxDecompressedFileSize`.
const MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;
/// Largest whole archive after decompression (Helm's `MaxDecompressedChartSize`).
const MAX_CHART_SIZE: u64 = 100 * 1024 * 1024;
/// Subcharts nest this deep at most: deeper trees are almost surely loops.
const MAX_DEPTH: usize = 64;

/// A chart maintainer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// One entry of `dependencies:` in Chart.yaml (or requirements.yaml).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub import_values: Vec<J>,
    pub alias: String,
}

/// Chart.yaml.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub icon: String,
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    pub app_version: String,
    pub deprecated: bool,
    pub annotations: Option<BTreeMap<String, String>>,
    pub kube_version: String,
    pub dependencies: Vec<Dependency>,
    pub chart_type: String,
}

/// A loaded chart and its subcharts.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub metadata: Metadata,
    /// Default values (`values.yaml`), numbers as float64 like Helm's.
    pub values: Map<String, J>,
    /// `values.schema.json`, raw.
    pub schema: Option<Vec<u8>>,
    /// `templates/...` files, relative to the chart.
    pub templates: Vec<(String, Vec<u8>)>,
    /// Every other file (what `.Files` sees), relative to the chart.
    pub files: Vec<(String, Vec<u8>)>,
    pub dependencies: Vec<Chart>,
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    pub fn is_library(&self) -> bool {
        self.metadata.chart_type.eq_ignore_ascii_case("library")
    }
}

/// Loads the chart at `dir` (a folder, or a `.tgz` file) from `fs`.
pub fn load(fs: &dyn FileSystem, dir: &str) -> Result<Chart, Error> {
    if dir.ends_with(".tgz") || dir.ends_with(".tar.gz") {
        let data = fs.read(dir)?;
        return load_archive(&data, dir, 0);
    }
    let mut rules = match fs.read(&join(dir, ".helmignore")) {
        Ok(bytes) => {
            Rules::parse(&String::from_utf8_lossy(&bytes)).map_err(|(line, msg)| Error::Load {
                path: format!("{}:{line}", join(dir, ".helmignore")),
                message: format!("{msg}; fix or remove this line"),
            })?
        }
        Err(_) => Rules::default(),
    };
    rules.add_defaults();
    let mut files = Vec::new();
    walk(fs, dir, "", &rules, &mut files, 0)?;
    load_files(files, dir, 0)
}

fn walk(
    fs: &dyn FileSystem,
    root: &str,
    rel: &str,
    rules: &Rules,
    out: &mut Vec<(String, Vec<u8>)>,
    depth: usize,
) -> Result<(), Error> {
    if depth > MAX_DEPTH * 4 {
        return Err(Error::Load {
            path: join(root, rel),
            message: "folders nest too deeply; is there a link loop?".into(),
        });
    }
    let mut entries = fs.list(&join(root, rel))?;
    entries.sort();
    for (name, is_dir) in entries {
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if rules.ignore(&path, is_dir) {
            continue;
        }
        if is_dir {
            walk(fs, root, &path, rules, out, depth + 1)?;
        } else {
            let data = fs.read(&join(root, &path))?;
            out.push((path, strip_bom(data)));
        }
    }
    Ok(())
}

fn strip_bom(mut data: Vec<u8>) -> Vec<u8> {
    if data.starts_with(&[0xEF, 0xBB, 0xBF]) {
        data.drain(..3);
    }
    data
}

/// Loads a gzipped tar chart: the first path element (the chart's folder)
/// is dropped from every name.
pub fn load_archive(data: &[u8], origin: &str, depth: usize) -> Result<Chart, Error> {
    let bad = |message: String| Error::Load {
        path: origin.to_string(),
        message,
    };
    let gz = flate2::read::GzDecoder::new(data);
    let mut archive = tar::Archive::new(gz.take(MAX_CHART_SIZE));
    let entries = archive.entries().map_err(|e| {
        bad(format!(
            "does not appear to be a valid chart file (details: {e})"
        ))
    })?;
    // Keyed by name: a later entry of the same name replaces the earlier
    // one, as extracting the archive would.
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            bad(format!(
                "does not appear to be a valid chart file (details: {e})"
            ))
        })?;
        let kind = entry.header().entry_type();
        if !kind.is_file() {
            continue;
        }
        let name = entry
            .path()
            .map_err(|e| bad(format!("bad file name in archive: {e}")))?
            .to_string_lossy()
            .replace('\\', "/");
        let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
        if parts.first() == Some(&"Chart.yaml") {
            return Err(bad("chart yaml not in base directory".into()));
        }
        if parts.contains(&"..") {
            return Err(bad(
                "chart illegally contains content outside the base directory".into(),
            ));
        }
        let rel = parts.get(1..).unwrap_or(&[]).join("/");
        if rel.is_empty() {
            continue;
        }
        if entry.size() > MAX_FILE_SIZE {
            return Err(bad(format!(
                "decompressed chart file {rel:?} is larger than the maximum file size {MAX_FILE_SIZE}"
            )));
        }
        let mut buf = Vec::new();
        entry
            .read_to_end(&mut buf)
            .map_err(|e| bad(format!("cannot read {rel}: {e}")))?;
        files.insert(rel, strip_bom(buf));
    }
    load_files(files.into_iter().collect(), origin, depth)
}

/// Builds a chart from its files, as `loader.LoadFiles`.
fn load_files(files: Vec<(String, Vec<u8>)>, origin: &str, depth: usize) -> Result<Chart, Error> {
    if depth > MAX_DEPTH {
        return Err(Error::Load {
            path: origin.to_string(),
            message: "subcharts nest too deeply".into(),
        });
    }
    let load_err = |file: &str, message: String| Error::Load {
        path: join(origin, file),
        message,
    };
    let mut chart = Chart::default();
    let mut meta: Option<Map<String, J>> = None;
    if let Some((_, data)) = files.iter().find(|(n, _)| n == "Chart.yaml") {
        let mut v = parse_yaml_map(data)
            .map_err(|m| load_err("Chart.yaml", format!("cannot load Chart.yaml: {m}")))?;
        keep_scalar_text(&mut v, &String::from_utf8_lossy(data));
        meta = Some(v);
    }
    let api_v1 = meta
        .as_ref()
        .and_then(|m| m.get("apiVersion"))
        .and_then(J::as_str)
        .is_none_or(|v| v.is_empty() || v == "v1");
    let mut subcharts: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    for (name, data) in files {
        match name.as_str() {
            "Chart.yaml" | "Chart.lock" => {}
            "values.yaml" => {
                chart.values = load_values(&data).map_err(|m| {
                    load_err("values.yaml", format!("cannot load values.yaml: {m}"))
                })?;
            }
            "values.schema.json" => chart.schema = Some(data),
            "requirements.yaml" => {
                let req = parse_yaml_map(&data).map_err(|m| {
                    load_err(
                        "requirements.yaml",
                        format!("cannot load requirements.yaml: {m}"),
                    )
                })?;
                let m = meta.get_or_insert_with(Map::new);
                for (k, v) in req {
                    m.insert(k, v);
                }
                if api_v1 {
                    chart.files.push((name, data));
                }
            }
            "requirements.lock" => {
                if api_v1 {
                    chart.files.push((name, data));
                }
            }
            // Helm's YAML parser refuses such bytes in a template's output;
            // replacing them would change the manifests without a word.
            n if n.starts_with("templates/") => {
                if let Err(e) = std::str::from_utf8(&data) {
                    return Err(load_err(
                        n,
                        format!(
                            "not valid UTF-8 (at byte {}); templates must be UTF-8 text",
                            e.valid_up_to()
                        ),
                    ));
                }
                chart.templates.push((name, data))
            }
            n if n.starts_with("charts/") => {
                if n.ends_with(".prov") {
                    chart.files.push((name, data));
                    continue;
                }
                let rest = n.trim_start_matches("charts/");
                let cname = rest.split('/').next().unwrap_or(rest).to_string();
                let rest = rest.to_string();
                subcharts.entry(cname).or_default().push((rest, data));
            }
            _ => chart.files.push((name, data)),
        }
    }
    let Some(meta) = meta else {
        return Err(Error::Load {
            path: origin.to_string(),
            message: "Chart.yaml file is missing; every chart needs one".into(),
        });
    };
    chart.metadata = metadata_from(&meta);
    if chart.metadata.api_version.is_empty() {
        chart.metadata.api_version = "v1".into();
    }
    validate(&mut chart.metadata)?;
    for (n, files) in subcharts {
        if n.starts_with('_') || n.starts_with('.') {
            continue;
        }
        let sub_origin = join(origin, &format!("charts/{n}"));
        let sc = if n.ends_with(".tgz") {
            let Some((fname, data)) = files.first() else {
                continue;
            };
            if fname != &n {
                return Err(Error::Load {
                    path: sub_origin,
                    message: format!(
                        "error unpacking subchart tar in {}: expected {n}, got {fname}",
                        chart.name()
                    ),
                });
            }
            load_archive(data, &sub_origin, depth + 1)
        } else {
            let inner: Vec<(String, Vec<u8>)> = files
                .into_iter()
                .filter_map(|(f, d)| f.split_once('/').map(|(_, r)| (r.to_string(), d)))
                .collect();
            load_files(inner, &sub_origin, depth + 1)
        };
        let sc = sc.map_err(|e| match e {
            Error::Validation(m) => Error::Load {
                path: sub_origin.clone(),
                message: format!(
                    "error unpacking subchart {n} in {}: validation: {m}",
                    chart.name()
                ),
            },
            other => other,
        })?;
        chart.dependencies.push(sc);
    }
    Ok(chart)
}

/// Parses a YAML file that must hold a map (or nothing).
pub(crate) fn parse_yaml_map(data: &[u8]) -> Result<Map<String, J>, String> {
    let docs = parse_yaml(data)?;
    match docs.into_iter().next() {
        None | Some(J::Null) => Ok(Map::new()),
        Some(J::Object(m)) => Ok(m),
        Some(other) => Err(format!(
            "error unmarshaling JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        )),
    }
}

fn parse_yaml(data: &[u8]) -> Result<Vec<J>, String> {
    let opts = manifold_yaml::ParseOptions {
        schema: manifold_yaml::Schema::Yaml11,
        duplicate_keys: manifold_yaml::Duplicates::LastWins,
        ..Default::default()
    };
    manifold_yaml::parse_bytes(data, &opts)
        .map(|docs| docs.into_iter().map(|d| floatify(d.value)).collect())
        .map_err(|e| {
            format!(
                "error converting YAML to JSON: yaml: line {}: {}",
                e.line,
                crate::manifest::go_yaml_message(&e.message)
            )
        })
}

/// A values file: every document must be a map; documents merge in order.
pub(crate) fn load_values(data: &[u8]) -> Result<Map<String, J>, String> {
    let mut out = Map::new();
    for doc in parse_yaml(data)? {
        match doc {
            J::Null => {}
            J::Object(m) => out = crate::values::merge_maps(out, m),
            other => {
                return Err(format!(
                    "cannot unmarshal yaml document: error unmarshaling JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&other)
                ));
            }
        }
    }
    Ok(out)
}

pub(crate) fn json_kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

/// Numbers decoded from YAML become float64, as they do in Helm (YAML is
/// converted to JSON and decoded into `interface{}`).
pub(crate) fn floatify(v: J) -> J {
    match v {
        J::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(J::Number(n), J::Number),
        J::Array(a) => J::Array(a.into_iter().map(floatify).collect()),
        J::Object(m) => J::Object(m.into_iter().map(|(k, v)| (k, floatify(v))).collect()),
        other => other,
    }
}

/// Helm's YAML layer decodes a scalar into a `string` field from its text
/// (`appVersion: 1.0` stays `1.0`, not `1`): restore the text of the
/// top-level string fields that parsed as numbers or booleans.
fn keep_scalar_text(m: &mut Map<String, J>, text: &str) {
    const STRING_FIELDS: &[&str] = &[
        "name",
        "version",
        "appVersion",
        "kubeVersion",
        "description",
        "home",
        "icon",
        "condition",
        "tags",
        "type",
        "apiVersion",
    ];
    for key in STRING_FIELDS {
        if !matches!(m.get(*key), Some(J::Number(_) | J::Bool(_))) {
            continue;
        }
        let prefix = format!("{key}:");
        let raw = text.lines().find_map(|l| {
            let rest = l.strip_prefix(&prefix)?;
            let rest = rest.split(" #").next().unwrap_or(rest).trim();
            (!rest.is_empty()).then(|| rest.to_string())
        });
        if let Some(raw) = raw {
            m.insert((*key).to_string(), J::String(raw));
        }
    }
}

/// A scalar as the string Go would decode into a `string` field; charts
/// often write `appVersion: 1.0`, which Helm's YAML layer keeps as text.
fn text(v: Option<&J>) -> String {
    match v {
        Some(J::String(s)) => s.clone(),
        Some(J::Number(n)) => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map_or_else(|| n.to_string(), |f| format!("{}", f as i64)),
        Some(J::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn texts(v: Option<&J>) -> Vec<String> {
    match v {
        Some(J::Array(a)) => a.iter().map(|x| text(Some(x))).collect(),
        _ => Vec::new(),
    }
}

fn metadata_from(m: &Map<String, J>) -> Metadata {
    let maintainers = match m.get("maintainers") {
        Some(J::Array(a)) => a
            .iter()
            .map(|x| Maintainer {
                name: text(x.get("name")),
                email: text(x.get("email")),
                url: text(x.get("url")),
            })
            .collect(),
        _ => Vec::new(),
    };
    let dependencies = match m.get("dependencies") {
        Some(J::Array(a)) => a
            .iter()
            .map(|d| Dependency {
                name: text(d.get("name")),
                version: text(d.get("version")),
                repository: text(d.get("repository")),
                condition: text(d.get("condition")),
                tags: texts(d.get("tags")),
                enabled: d.get("enabled").and_then(J::as_bool).unwrap_or(false),
                import_values: match d.get("import-values") {
                    Some(J::Array(a)) => a.clone(),
                    _ => Vec::new(),
                },
                alias: text(d.get("alias")),
            })
            .collect(),
        _ => Vec::new(),
    };
    let annotations = match m.get("annotations") {
        Some(J::Object(a)) => Some(a.iter().map(|(k, v)| (k.clone(), text(Some(v)))).collect()),
        _ => None,
    };
    Metadata {
        name: text(m.get("name")),
        home: text(m.get("home")),
        sources: texts(m.get("sources")),
        version: text(m.get("version")),
        description: text(m.get("description")),
        keywords: texts(m.get("keywords")),
        maintainers,
        icon: text(m.get("icon")),
        api_version: text(m.get("apiVersion")),
        condition: text(m.get("condition")),
        tags: text(m.get("tags")),
        app_version: text(m.get("appVersion")),
        deprecated: m.get("deprecated").and_then(J::as_bool).unwrap_or(false),
        annotations,
        kube_version: text(m.get("kubeVersion")),
        dependencies,
        chart_type: text(m.get("type")),
    }
}

/// Go's `unicode.IsSpace` to a space, non-printables dropped.
fn sanitize(s: &mut String) {
    *s = s
        .chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() {
                None
            } else {
                Some(c)
            }
        })
        .collect();
}

/// `Metadata.Validate`: Helm's checks and wording (`validation: ...`).
fn validate(md: &mut Metadata) -> Result<(), Error> {
    for s in [
        &mut md.name,
        &mut md.description,
        &mut md.home,
        &mut md.icon,
        &mut md.condition,
        &mut md.tags,
        &mut md.app_version,
        &mut md.kube_version,
    ] {
        sanitize(s);
    }
    md.sources.iter_mut().for_each(sanitize);
    md.keywords.iter_mut().for_each(sanitize);
    let v = |m: String| Err(Error::Validation(m));
    if md.api_version.is_empty() {
        return v("chart.metadata.apiVersion is required".into());
    }
    if md.name.is_empty() {
        return v("chart.metadata.name is required".into());
    }
    if md.name == "." || md.name == ".." {
        return v(format!("chart.metadata.name {:?} is not allowed", md.name));
    }
    if md.name.contains('/') {
        return v(format!("chart.metadata.name {:?} is invalid", md.name));
    }
    if md.version.is_empty() {
        return v("chart.metadata.version is required".into());
    }
    if manifold_gotemplate::SemVersion::parse(&md.version).is_err() {
        return v(format!(
            "chart.metadata.version {:?} is invalid",
            md.version
        ));
    }
    if !matches!(md.chart_type.as_str(), "" | "application" | "library") {
        return v("chart.metadata.type must be application or library".into());
    }
    for m in &mut md.maintainers {
        sanitize(&mut m.name);
        sanitize(&mut m.email);
        sanitize(&mut m.url);
    }
    let mut seen = std::collections::BTreeSet::new();
    for d in &mut md.dependencies {
        sanitize(&mut d.name);
        sanitize(&mut d.version);
        sanitize(&mut d.repository);
        sanitize(&mut d.condition);
        d.tags.iter_mut().for_each(sanitize);
        if !d.alias.is_empty()
            && !d
                .alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return v(format!(
                "dependency {:?} has disallowed characters in the alias",
                d.name
            ));
        }
        let key = if d.alias.is_empty() {
            d.name.clone()
        } else {
            d.alias.clone()
        };
        if !seen.insert(key.clone()) {
            return v(format!(
                "more than one dependency with name or alias {key:?}"
            ));
        }
    }
    Ok(())
}

/// `.Chart` as templates see it: every Metadata field under its Go name
/// (Helm converts the struct to a map), plus `IsRoot`.
pub(crate) fn metadata_map(md: &Metadata, is_root: bool) -> Map<String, J> {
    let strs = |v: &[String]| J::Array(v.iter().map(|s| J::String(s.clone())).collect());
    let mut m = Map::new();
    m.insert("Name".into(), J::String(md.name.clone()));
    m.insert("Home".into(), J::String(md.home.clone()));
    m.insert("Sources".into(), strs(&md.sources));
    m.insert("Version".into(), J::String(md.version.clone()));
    m.insert("Description".into(), J::String(md.description.clone()));
    m.insert("Keywords".into(), strs(&md.keywords));
    m.insert(
        "Maintainers".into(),
        J::Array(
            md.maintainers
                .iter()
                .map(|x| {
                    let mut o = Map::new();
                    o.insert("Name".into(), J::String(x.name.clone()));
                    o.insert("Email".into(), J::String(x.email.clone()));
                    o.insert("URL".into(), J::String(x.url.clone()));
                    J::Object(o)
                })
                .collect(),
        ),
    );
    m.insert("Icon".into(), J::String(md.icon.clone()));
    m.insert("APIVersion".into(), J::String(md.api_version.clone()));
    m.insert("Condition".into(), J::String(md.condition.clone()));
    m.insert("Tags".into(), J::String(md.tags.clone()));
    m.insert("AppVersion".into(), J::String(md.app_version.clone()));
    m.insert("Deprecated".into(), J::Bool(md.deprecated));
    m.insert(
        "Annotations".into(),
        md.annotations.as_ref().map_or(J::Null, |a| {
            J::Object(
                a.iter()
                    .map(|(k, v)| (k.clone(), J::String(v.clone())))
                    .collect(),
            )
        }),
    );
    m.insert("KubeVersion".into(), J::String(md.kube_version.clone()));
    m.insert(
        "Dependencies".into(),
        J::Array(
            md.dependencies
                .iter()
                .map(|d| {
                    let mut o = Map::new();
                    o.insert("Name".into(), J::String(d.name.clone()));
                    o.insert("Version".into(), J::String(d.version.clone()));
                    o.insert("Repository".into(), J::String(d.repository.clone()));
                    o.insert("Condition".into(), J::String(d.condition.clone()));
                    o.insert("Tags".into(), strs(&d.tags));
                    o.insert("Enabled".into(), J::Bool(d.enabled));
                    o.insert("ImportValues".into(), J::Array(d.import_values.clone()));
                    o.insert("Alias".into(), J::String(d.alias.clone()));
                    J::Object(o)
                })
                .collect(),
        ),
    );
    m.insert("Type".into(), J::String(md.chart_type.clone()));
    m.insert("IsRoot".into(), J::Bool(is_root));
    m
}
