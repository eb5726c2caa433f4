//! `configMapGenerator` and `secretGenerator` (plus `helmCharts` through the
//! host's renderer): key/value sources (env files, literals, files) loaded as
//! kustomize's kv loader does, objects shaped like kustomize's, hash-suffix requests.

use crate::Error;
use crate::Options;
use crate::build::Loader;
use crate::kustomization::{GeneratorArgs, GeneratorOptions, Kustomization};
use crate::resource::Res;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Runs the built-in generators of one kustomization, in kustomize's order.
pub fn generate(ldr: &Loader<'_>, k: &Kustomization, opts: &Options) -> Result<Vec<Res>, Error> {
    let mut out = Vec::new();
    for args in k.config_map_generator.iter().flatten() {
        let o = GeneratorOptions::merged_over(args.options.as_ref(), k.generator_options.as_ref());
        out.push(
            make(ldr, args, &o, false)
                .map_err(|e| e.context(format!("configMapGenerator '{}'", args.name)))?,
        );
    }
    for args in k.secret_generator.iter().flatten() {
        let o = GeneratorOptions::merged_over(args.options.as_ref(), k.generator_options.as_ref());
        out.push(
            make(ldr, args, &o, true)
                .map_err(|e| e.context(format!("secretGenerator '{}'", args.name)))?,
        );
    }
    out.extend(crate::generators::helm(ldr, k, opts)?);
    Ok(out)
}

/// Builds one ConfigMap or Secret.
pub fn make(
    ldr: &Loader<'_>,
    args: &GeneratorArgs,
    o: &GeneratorOptions,
    secret: bool,
) -> Result<Res, Error> {
    let kind = if secret { "Secret" } else { "ConfigMap" };
    if args.name.is_empty() {
        return Err(Error::invalid(
            &ldr.kfile,
            format!("a {} generator entry must have a name", kind.to_lowercase()),
        ));
    }
    let pairs = load_pairs(ldr, args)?;
    let mut data: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (k, v) in pairs {
        if data.contains_key(&k) {
            return Err(Error::invalid(
                &ldr.kfile,
                format!(
                    "{} {} illegally repeats the key `{k}`",
                    kind.to_lowercase(),
                    args.name
                ),
            ));
        }
        data.insert(k, v);
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!("v1"));
    obj.insert("kind".into(), json!(kind));
    let mut meta = Map::new();
    meta.insert("name".into(), json!(args.name));
    if !args.namespace.is_empty() {
        meta.insert("namespace".into(), json!(args.namespace));
    }
    if let Some(l) = o.labels.as_ref().filter(|l| !l.is_empty()) {
        meta.insert(
            "labels".into(),
            Value::Object(l.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
        );
    }
    if let Some(a) = o.annotations.as_ref().filter(|a| !a.is_empty()) {
        meta.insert(
            "annotations".into(),
            Value::Object(a.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
        );
    }
    obj.insert("metadata".into(), Value::Object(meta));
    if secret {
        let t = if args.type_.is_empty() {
            "Opaque"
        } else {
            &args.type_
        };
        obj.insert("type".into(), json!(t));
        let d: Map<String, Value> = data
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(base64_wrapped(v))))
            .collect();
        obj.insert("data".into(), Value::Object(d));
    } else {
        let mut text = Map::new();
        let mut binary = Map::new();
        for (k, v) in &data {
            match std::str::from_utf8(v) {
                Ok(t) => text.insert(k.clone(), Value::String(t.to_string())),
                Err(_) => binary.insert(k.clone(), Value::String(base64_wrapped(v))),
            };
        }
        if !text.is_empty() {
            obj.insert("data".into(), Value::Object(text));
        }
        if !binary.is_empty() {
            obj.insert("binaryData".into(), Value::Object(binary));
        }
    }
    if o.immutable == Some(true) {
        obj.insert("immutable".into(), Value::Bool(true));
    }
    let mut r = Res::new(Value::Object(obj), &ldr.kfile);
    r.generated_by = Some((format!("{kind}Generator"), String::new()));
    r.needs_hash = o.disable_name_suffix_hash != Some(true);
    r.behavior = if args.behavior.is_empty() {
        "create".into()
    } else {
        args.behavior.clone()
    };
    if !matches!(r.behavior.as_str(), "create" | "merge" | "replace") {
        return Err(Error::invalid(
            &ldr.kfile,
            format!(
                "generator '{}': unknown behavior '{}'; use create, merge or replace",
                args.name, args.behavior
            ),
        ));
    }
    Ok(r)
}

/// Key/value pairs in kustomize's source order: env files, literals, files.
/// Values are bytes: file contents need not be UTF-8 (they become binaryData).
fn load_pairs(ldr: &Loader<'_>, args: &GeneratorArgs) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut out = Vec::new();
    for env in &args.envs {
        let (path, bytes) = ldr.load_bytes(env)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::invalid(&path, "env file has invalid UTF-8"))?;
        for (i, raw) in text.split('\n').enumerate() {
            let mut line = raw.strip_suffix('\r').unwrap_or(raw);
            if i == 0 {
                line = line.strip_prefix('\u{feff}').unwrap_or(line);
            }
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = match line.split_once('=') {
                Some((k, v)) => (k, v),
                None => (line, ""),
            };
            // kustomize keeps keys as written (its default validator accepts any name)
            // and silently drops lines whose key is empty.
            if key.is_empty() {
                continue;
            }
            out.push((key.to_string(), value.as_bytes().to_vec()));
        }
    }
    for lit in &args.literals {
        let Some((k, v)) = lit.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(Error::invalid(
                &ldr.kfile,
                format!("invalid literal source {lit}, expected key=value"),
            ));
        };
        out.push((k.to_string(), remove_quotes(v).as_bytes().to_vec()));
    }
    for src in &args.files {
        let (key, path) = parse_file_source(src).map_err(|m| Error::invalid(&ldr.kfile, m))?;
        let (_, bytes) = ldr.load_bytes(&path)?;
        out.push((key, bytes));
    }
    Ok(out)
}

fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

fn parse_file_source(src: &str) -> Result<(String, String), String> {
    let n = src.matches('=').count();
    match n {
        0 => Ok((crate::fs::base_name(src).to_string(), src.to_string())),
        1 if src.starts_with('=') => {
            Err(format!("missing key name for file path in source {src:?}"))
        }
        1 if src.ends_with('=') => Err(format!("missing file path for key name in source {src:?}")),
        1 => {
            let (k, p) = src.split_once('=').unwrap_or((src, ""));
            Ok((k.to_string(), p.to_string()))
        }
        _ => Err(format!("source {src:?} key name or file path contains '='")),
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let idx = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for (i, x) in idx.iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(B64[*x as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// kustomize's secret encoding: standard base64, broken into 70-character lines
/// (each followed by a newline) once it is longer than one line.
pub fn base64_wrapped(data: &[u8]) -> String {
    let enc = base64(data);
    if enc.len() < 70 {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / 70 + 1);
    for chunk in enc.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out
}

/// `helmCharts`: values prepared as kustomize's HelmChartInflationGenerator does,
/// rendered by the host's renderer, parsed as resources.
pub fn helm(ldr: &Loader<'_>, k: &Kustomization, opts: &Options) -> Result<Vec<Res>, Error> {
    let mut charts: Vec<Value> = k.helm_charts.clone().unwrap_or_default();
    let legacy = k.helm_chart_inflation_generator.clone().unwrap_or_default();
    charts.extend(legacy.iter().map(legacy_chart));
    if charts.is_empty() {
        return Ok(Vec::new());
    }
    if !opts.enable_helm {
        return Err(Error::invalid(
            &ldr.kfile,
            "must specify --enable-helm to use helmCharts (set Options::enable_helm)",
        ));
    }
    let Some(renderer) = opts.helm.as_ref() else {
        return Err(Error::invalid(
            &ldr.kfile,
            "helmCharts need a Helm renderer, and none was configured for this build",
        ));
    };
    // Legacy entries may carry chartHome; kustomize uses it when helmGlobals is absent.
    let globals = k.helm_globals.clone().unwrap_or_else(|| {
        legacy
            .iter()
            .find_map(|l| l.get("chartHome").cloned())
            .map(|h| json!({"chartHome": h}))
            .unwrap_or(Value::Null)
    });
    let mut out = Vec::new();
    for mut chart in charts {
        let s = |v: &Value, key: &str| v.get(key).map(scalar).unwrap_or_default();
        let mut namespace = s(&chart, "namespace");
        if namespace.is_empty() {
            namespace = if k.namespace.is_empty() {
                ldr.helm_root_ns.clone()
            } else {
                k.namespace.clone()
            };
            if let Some(obj) = chart.as_object_mut()
                && !namespace.is_empty()
            {
                obj.insert("namespace".into(), json!(namespace));
            }
        }
        let name = s(&chart, "name");
        if name.is_empty() {
            return Err(Error::invalid(
                &ldr.kfile,
                "helmCharts: chart name cannot be empty",
            ));
        }
        let req = helm_request(ldr, chart, &globals, namespace)
            .map_err(|e| e.context(format!("helm chart '{name}'")))?;
        let objects = renderer
            .render(ldr.fs, &req)
            .map_err(|m| Error::invalid(&ldr.kfile, format!("helm chart '{name}': {m}")))?;
        let documents = objects.into_iter().map(|v| (v, 0)).collect();
        for v in crate::yaml::resources_of(documents, &ldr.kfile)? {
            let mut r = Res::new(v, &ldr.kfile);
            r.generated_by = Some(("HelmChartInflationGenerator".into(), String::new()));
            r.helm_generated = true;
            out.push(r);
        }
    }
    Ok(out)
}

/// Converts a legacy `helmChartInflationGenerator` entry to the `helmCharts` form.
fn legacy_chart(l: &Value) -> Value {
    let mut out = Map::new();
    for (from, to) in [
        ("chartName", "name"),
        ("chartVersion", "version"),
        ("chartRepoUrl", "repo"),
        ("values", "valuesFile"),
        ("valuesLocal", "valuesInline"),
        ("valuesMerge", "valuesMerge"),
        ("releaseName", "releaseName"),
        ("releaseNamespace", "namespace"),
    ] {
        if let Some(v) = l.get(from) {
            out.insert(to.into(), v.clone());
        }
    }
    Value::Object(out)
}

fn scalar(v: &Value) -> String {
    crate::kustomization::scalar_string(v)
}

fn helm_request(
    ldr: &Loader<'_>,
    chart: Value,
    globals: &Value,
    namespace: String,
) -> Result<crate::HelmRequest, Error> {
    let s = |key: &str| chart.get(key).map(scalar).unwrap_or_default();
    let b = |key: &str| chart.get(key).and_then(Value::as_bool).unwrap_or(false);
    let name = s("name");
    let (version, repo) = (s("version"), s("repo"));
    let home = globals
        .get("chartHome")
        .map(scalar)
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "charts".into());
    let mut home_dir = ldr.resolve(&home)?;
    if !version.is_empty() && !repo.is_empty() {
        home_dir = crate::fs::join(&home_dir, &format!("{name}-{version}")).unwrap_or(home_dir);
    }
    let chart_dir = crate::fs::join(&home_dir, &name).unwrap_or_default();
    let merge_mode = match s("valuesMerge").as_str() {
        "" | "override" => "override",
        "merge" => "merge",
        "replace" => "replace",
        other => {
            return Err(Error::invalid(
                &ldr.kfile,
                format!("valuesMerge '{other}' must be one of [merge override replace]"),
            ));
        }
    };
    let values_file = s("valuesFile");
    let load_values = || -> Result<Value, Error> {
        let (path, text) = if values_file.is_empty() {
            let p = crate::fs::join(&chart_dir, "values.yaml").unwrap_or_default();
            match ldr.fs.read(&p) {
                Ok(bytes) => (p, String::from_utf8_lossy(&bytes).into_owned()),
                Err(_) => return Ok(Value::Object(Map::new())),
            }
        } else {
            ldr.load(&values_file)?
        };
        let v = crate::yaml::parse_one(&text, &path)?;
        Ok(if v.is_null() {
            Value::Object(Map::new())
        } else {
            v
        })
    };
    let inline = chart
        .get("valuesInline")
        .cloned()
        .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()));
    let values = match inline {
        None => load_values()?,
        Some(inline) => match merge_mode {
            "replace" => inline,
            mode => {
                let file = load_values()?;
                let (base, over) = if mode == "override" {
                    (file, inline)
                } else {
                    (inline, file)
                };
                crate::smp::merge(&base, &over)
                    .map_err(|m| {
                        Error::invalid(&ldr.kfile, format!("could not merge values: {m}"))
                    })?
                    .unwrap_or(Value::Object(Map::new()))
            }
        },
    };
    let mut additional = Vec::new();
    for f in chart
        .get("additionalValuesFiles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let f = scalar(f);
        let (path, _) = ldr
            .load(&f)
            .map_err(|e| e.context("could not load additionalValuesFile"))?;
        additional.push(path);
    }
    let list = |key: &str| -> Vec<String> {
        chart
            .get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(scalar).collect())
            .unwrap_or_default()
    };
    Ok(crate::HelmRequest {
        globals: globals.clone(),
        kustomization_dir: ldr.dir.clone(),
        chart_dir,
        release_name: s("releaseName"),
        namespace,
        values,
        additional_values_files: additional,
        include_crds: b("includeCRDs"),
        skip_tests: b("skipTests"),
        skip_hooks: b("skipHooks"),
        api_versions: list("apiVersions"),
        kube_version: s("kubeVersion"),
        name_template: s("nameTemplate"),
        repo,
        version,
        chart,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_go() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (i, o) in cases {
            assert_eq!(base64(i.as_bytes()), o);
        }
        let long = "x".repeat(60);
        let w = base64_wrapped(long.as_bytes());
        assert_eq!(w.lines().next().map(str::len), Some(70));
        assert!(w.ends_with('\n'));
    }

    #[test]
    fn file_sources_and_quotes() {
        assert_eq!(
            parse_file_source("a/b.txt").unwrap(),
            ("b.txt".into(), "a/b.txt".into())
        );
        assert_eq!(
            parse_file_source("k=a/b.txt").unwrap(),
            ("k".into(), "a/b.txt".into())
        );
        assert!(parse_file_source("=x").is_err());
        assert_eq!(remove_quotes("'a'"), "a");
        assert_eq!(remove_quotes("\"a"), "\"a");
    }
}
