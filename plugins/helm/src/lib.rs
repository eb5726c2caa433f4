//! Renders a Helm chart the way `helm template` (Helm 3/4) does: loads the
//! chart and its subcharts through a [`FileSystem`], combines values
//! (`values.yaml`, `-f` files, `--set*` flags), processes dependencies,
//! validates against `values.schema.json`, renders the templates with
//! `manifold-gotemplate`, and prints the manifest stream with Helm's
//! `# Source:` headers, kind order and hook handling.
//!
//! ```no_run
//! # use manifold_plugin_helm::{render, MemFs, Options};
//! let mut fs = MemFs::new();
//! fs.insert("mychart/Chart.yaml", "apiVersion: v2\nname: mychart\nversion: 0.1.0\n");
//! let out = render(&fs, "mychart", &Options::default()).unwrap();
//! print!("{}", out.text);
//! ```

pub mod chart;
pub mod deps;
mod engine;
pub mod fs;
pub mod ignore;
pub mod manifest;
pub mod plugin;
pub mod strvals;
pub mod values;

use serde_json::{Map, Value as J};

pub use chart::{Chart, Dependency, Metadata};
pub use fs::{FileSystem, FsError, MemFs};

/// `helm template`'s flags.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--release-name` / the NAME argument (Helm's default `release-name`).
    pub release_name: String,
    /// `--namespace` (default `default`).
    pub namespace: String,
    /// `--name-template`: a template whose output becomes the release name.
    pub name_template: Option<String>,
    /// `--kube-version` (`1.20.0`, `v1.20`); Helm's built-in default if unset.
    pub kube_version: Option<String>,
    /// `--api-versions`: added to the default API versions.
    pub api_versions: Vec<String>,
    /// `--include-crds`: print `crds/` files first.
    pub include_crds: bool,
    /// `--show-only`: globs on `chart/templates/x.yaml`-style paths
    /// (without the root chart's name).
    pub show_only: Vec<String>,
    /// `--skip-tests`: drop `test` hooks.
    pub skip_tests: bool,
    /// `--no-hooks`: drop all hooks.
    pub disable_hooks: bool,
    /// `--is-upgrade`.
    pub is_upgrade: bool,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
    /// `-f` files, read through the file system, later ones win.
    pub values_files: Vec<String>,
    /// Values maps given inline, merged after `values_files` as if they
    /// were further `-f` files (numbers become float64 as from YAML).
    pub values: Vec<Map<String, J>>,
    /// `--set-json` arguments.
    pub set_json: Vec<String>,
    /// `--set` arguments.
    pub set: Vec<String>,
    /// `--set-string` arguments.
    pub set_string: Vec<String>,
    /// `--set-file` arguments (`key=path`, path read through the file system).
    pub set_file: Vec<String>,
    /// `--set-literal` arguments.
    pub set_literal: Vec<String>,
    /// Clock for `now` and date functions: (unix seconds, nanoseconds).
    /// Library code has no clock; the host passes one in.
    pub now: (i64, u32),
    /// Seed for the random functions (`randAlphaNum`, `uuidv4`...).
    pub random_seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            release_name: "release-name".into(),
            namespace: "default".into(),
            name_template: None,
            kube_version: None,
            api_versions: Vec::new(),
            include_crds: false,
            show_only: Vec::new(),
            skip_tests: false,
            disable_hooks: false,
            is_upgrade: false,
            skip_schema_validation: false,
            values_files: Vec::new(),
            values: Vec::new(),
            set_json: Vec::new(),
            set: Vec::new(),
            set_string: Vec::new(),
            set_file: Vec::new(),
            set_literal: Vec::new(),
            now: (0, 0),
            random_seed: 0,
        }
    }
}

/// One output document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The `# Source:` path (`mychart/templates/x.yaml`, `mychart/crds/y.yaml`).
    pub source: String,
    /// The parsed document.
    pub value: J,
    /// Whether it is a hook (printed after the manifests).
    pub hook: bool,
}

/// What `helm template` prints, as text and as parsed documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Exactly `helm template`'s standard output.
    pub text: String,
    /// The documents of `text`, in order.
    pub documents: Vec<Document>,
    /// The rendered NOTES.txt of the root chart (not part of `text`).
    pub notes: String,
}

/// Why rendering failed; messages follow Helm's wording.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Fs(#[from] FsError),
    /// A chart file is unreadable or malformed.
    #[error("{path}: {message}")]
    Load { path: String, message: String },
    /// Chart.yaml breaks Helm's rules.
    #[error("validation: {0}")]
    Validation(String),
    /// A `-f` file is not a YAML map.
    #[error("failed to parse {file}: {message}")]
    ValuesFile { file: String, message: String },
    /// A `--set*` argument does not parse.
    #[error("failed parsing {flag} data: {message}")]
    Set { flag: String, message: String },
    /// A `--set-json` argument does not parse (Helm's wording, then why).
    #[error("failed parsing --set-json data {0}")]
    SetJson(String),
    /// `--kube-version` does not parse.
    #[error(
        "invalid kube version '{version}': could not parse {version:?} as version; use a form like 1.30.0"
    )]
    KubeVersion { version: String },
    /// The release name is not a DNS-1123 subdomain of at most 53 characters.
    #[error(
        "release name check failed: release name {0:?}: invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"
    )]
    ReleaseName(String),
    /// `--name-template` failed to render.
    #[error("name template: {0}")]
    NameTemplate(String),
    /// The chart is a library chart.
    #[error("{0} charts are not installable")]
    NotInstallable(String),
    /// Chart.yaml `kubeVersion` excludes the target version.
    #[error(
        "chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {version}"
    )]
    IncompatibleKube { constraint: String, version: String },
    /// Chart.yaml lists dependencies that `charts/` does not hold.
    #[error(
        "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {0}"
    )]
    MissingDependencies(String),
    /// Values coalescing or dependency processing failed.
    #[error("chart dependencies processing failed: {0}")]
    Dependencies(String),
    /// Values violate `values.schema.json`.
    #[error(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{0}"
    )]
    Schema(String),
    /// Template parse or execution error: the template that failed and
    /// Helm's text (with file:line:col where the engine knows them).
    #[error("{message}")]
    Template { template: String, message: String },
    /// A rendered document is not valid YAML.
    #[error("YAML parse error on {file}: {message}")]
    YamlParse { file: String, message: String },
    /// A `--show-only` path matched nothing.
    #[error("could not find template {0} in chart")]
    ShowOnly(String),
}

/// Renders the chart at `chart_dir` (a folder or `.tgz`) like
/// `helm template`.
pub fn render(fs: &dyn FileSystem, chart_dir: &str, opts: &Options) -> Result<Rendered, Error> {
    let caps = engine::Capabilities::new(opts)?;
    let release_name = release_name(opts)?;
    let user = user_values(fs, opts)?;
    let mut chart = chart::load(fs, chart_dir)?;
    if !matches!(chart.metadata.chart_type.as_str(), "" | "application") {
        return Err(Error::NotInstallable(chart.metadata.chart_type.clone()));
    }
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !chart.dependencies.iter().any(|d| d.name() == r.name))
        .map(|r| r.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingDependencies(missing.join(", ")));
    }
    deps::process(&mut chart, &user).map_err(Error::Dependencies)?;
    let vals = values::coalesce_values(&chart, &user, false).map_err(Error::Dependencies)?;
    if !opts.skip_schema_validation {
        let msg = engine::validate_schema(&chart, &vals);
        if !msg.is_empty() {
            return Err(Error::Schema(msg));
        }
    }
    if !chart.metadata.kube_version.is_empty()
        && !manifold_gotemplate::funcs::semver::semver_compare(
            &chart.metadata.kube_version,
            &caps.normalized,
        )
        .unwrap_or(false)
    {
        return Err(Error::IncompatibleKube {
            constraint: chart.metadata.kube_version.clone(),
            version: caps.version.clone(),
        });
    }
    let release = engine::Release {
        name: release_name,
        namespace: opts.namespace.clone(),
        is_upgrade: opts.is_upgrade,
    };
    let mut files = engine::render_chart(&chart, vals, &release, &caps, opts)?;
    let notes_key = format!("{}/templates/NOTES.txt", chart.name());
    let notes = files.get(&notes_key).cloned().unwrap_or_default();
    files.retain(|k, _| !k.ends_with("NOTES.txt"));
    let (hooks, manifests) = manifest::sort(&files)?;
    output(&chart, &hooks, &manifests, opts, notes)
}

fn release_name(opts: &Options) -> Result<String, Error> {
    let name = match &opts.name_template {
        Some(t) => manifold_gotemplate::render(
            "name-template",
            t,
            &manifold_gotemplate::Value::Nil,
            manifold_gotemplate::sprig(),
            &manifold_gotemplate::ExecOptions {
                now: opts.now,
                random_seed: opts.random_seed,
                ..Default::default()
            },
        )
        .map_err(|e| Error::NameTemplate(e.to_string()))?,
        None => opts.release_name.clone(),
    };
    if !valid_release_name(&name) {
        return Err(Error::ReleaseName(name));
    }
    Ok(name)
}

/// DNS-1123 subdomain, at most 53 characters (Helm's release name rule).
fn valid_release_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 53 {
        return false;
    }
    name.split('.').all(|label| {
        let b = label.as_bytes();
        let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        match (b.first(), b.last()) {
            (Some(f), Some(l)) => ok(f) && ok(l) && b.iter().all(|c| ok(c) || *c == b'-'),
            _ => false,
        }
    })
}

/// The user-supplied values, in Helm's order: `-f` files, `--set-json`,
/// `--set`, `--set-string`, `--set-file`, `--set-literal`.
fn user_values(fs: &dyn FileSystem, opts: &Options) -> Result<Map<String, J>, Error> {
    let mut base = Map::new();
    for f in &opts.values_files {
        let data = fs.read(f)?;
        let m = chart::load_values(&data).map_err(|message| Error::ValuesFile {
            file: f.clone(),
            message,
        })?;
        base = values::merge_maps(base, m);
    }
    for m in &opts.values {
        if let J::Object(m) = chart::floatify(J::Object(m.clone())) {
            base = values::merge_maps(base, m);
        }
    }
    for v in &opts.set_json {
        let t = v.trim();
        if t.starts_with('{') {
            match serde_json::from_str::<J>(t) {
                Ok(J::Object(m)) => {
                    base = values::merge_maps(
                        base,
                        chart::floatify(J::Object(m))
                            .as_object()
                            .cloned()
                            .unwrap_or_default(),
                    );
                }
                Ok(_) => {
                    return Err(Error::SetJson(format!(
                        "JSON: {v} (expected a JSON object)"
                    )));
                }
                Err(e) => {
                    return Err(Error::SetJson(format!(
                        "JSON: {v} (line {}, column {}: {e})",
                        e.line(),
                        e.column()
                    )));
                }
            }
        } else {
            strvals::parse_into(v, &mut base, strvals::Reader::Json)
                .map_err(|e| Error::SetJson(format!("{v} ({e})")))?;
        }
    }
    let set_err = |flag: &str| {
        let flag = flag.to_string();
        move |message: String| Error::Set {
            flag: flag.clone(),
            message,
        }
    };
    for v in &opts.set {
        strvals::parse_into(v, &mut base, strvals::Reader::Typed).map_err(set_err("--set"))?;
    }
    for v in &opts.set_string {
        strvals::parse_into(v, &mut base, strvals::Reader::Str).map_err(set_err("--set-string"))?;
    }
    let read_file = |path: &str| -> Result<J, String> {
        fs.read(path)
            .map(|b| J::String(String::from_utf8_lossy(&b).into_owned()))
            .map_err(|e| e.to_string())
    };
    for v in &opts.set_file {
        strvals::parse_into(v, &mut base, strvals::Reader::File(&read_file))
            .map_err(set_err("--set-file"))?;
    }
    for v in &opts.set_literal {
        strvals::parse_literal_into(v, &mut base).map_err(set_err("--set-literal"))?;
    }
    Ok(base)
}

fn output(
    chart: &Chart,
    hooks: &[manifest::Manifest],
    manifests: &[manifest::Manifest],
    opts: &Options,
    notes: String,
) -> Result<Rendered, Error> {
    // Pieces in print order: (source, content, is_hook).
    let mut pieces: Vec<(String, String, bool)> = Vec::new();
    if opts.include_crds {
        for (source, data) in engine::crd_files(chart, chart.name()) {
            pieces.push((source, String::from_utf8_lossy(&data).into_owned(), false));
        }
    }
    for m in manifests {
        pieces.push((m.path.clone(), m.content.clone(), false));
    }
    if !opts.disable_hooks {
        for h in hooks {
            if opts.skip_tests && h.is_test() {
                continue;
            }
            pieces.push((h.path.clone(), h.content.clone(), true));
        }
    }
    // helm template trims the release manifest, then appends hooks.
    let mut manifest_text = String::new();
    let mut hook_text = String::new();
    for (source, content, hook) in &pieces {
        let t = if *hook {
            &mut hook_text
        } else {
            &mut manifest_text
        };
        t.push_str(&format!("---\n# Source: {source}\n{content}\n"));
    }
    let mut text = format!("{}\n{hook_text}", manifest_text.trim());
    let mut selected: Vec<(String, String, bool)> = pieces.clone();
    if !opts.show_only.is_empty() {
        // Helm re-splits the printed stream and matches each document's
        // source path without its first element against each pattern.
        let docs = manifest::split(&text);
        let mut out = String::new();
        selected.clear();
        let hook_sources: Vec<(String, String)> = pieces
            .iter()
            .filter(|p| p.2)
            .map(|p| (p.0.clone(), p.1.trim().to_string()))
            .collect();
        for pattern in &opts.show_only {
            let pattern = pattern.replace('\\', "/");
            let mut missing = true;
            for d in &docs {
                let Some(name) = source_of(d) else { continue };
                let Some((_, rest)) = name.split_once('/') else {
                    continue;
                };
                if !ignore::go_match(&pattern, rest).unwrap_or(false) {
                    continue;
                }
                out.push_str(&format!("---\n{d}\n"));
                let body = d.split_once('\n').map_or("", |x| x.1).to_string();
                let hook = hook_sources
                    .iter()
                    .any(|(s, c)| *s == name && c.trim() == body.trim());
                selected.push((name, body, hook));
                missing = false;
            }
            if missing {
                return Err(Error::ShowOnly(pattern));
            }
        }
        text = out;
    }
    let mut documents = Vec::new();
    for (source, content, hook) in selected {
        let values = manifest::parse_stream(&content).map_err(|message| Error::YamlParse {
            file: source.clone(),
            message,
        })?;
        for value in values {
            documents.push(Document {
                source: source.clone(),
                value,
                hook,
            });
        }
    }
    Ok(Rendered {
        text,
        documents,
        notes,
    })
}

/// The path of a `# Source: chart/...` line at the top of a document.
fn source_of(doc: &str) -> Option<String> {
    let line = doc.lines().find(|l| l.starts_with("# Source: "))?;
    line.strip_prefix("# Source: ")
        .map(|s| s.trim_end().to_string())
}
