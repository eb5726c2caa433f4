//! The template-function tables under `helm/{sprig,helm-funcs,go-text-template}`
//! (Sprig's, Helm's and Go's own test tables), evaluated by the template
//! engine directly with the table's data typed as Go would type it: one
//! figure per table.

use std::collections::BTreeMap;
use std::path::Path;

use manifold_gotemplate::{ExecOptions, FuncMap, NumberMode, TemplateSet, Value};
use serde_json::Value as J;

use crate::support::{self, Results, Tally};

fn funcs_for(name: &str) -> FuncMap {
    match name {
        "go-builtins" => manifold_gotemplate::go_builtins(),
        "helm" => manifold_gotemplate::helm(),
        _ => manifold_gotemplate::sprig(),
    }
}

/// The outcome of one row: `Ok(())` or a short reason.
type Outcome = Result<(), String>;

fn check(result: Result<String, String>, row: &J) -> Outcome {
    let want_error = row.get("error").and_then(J::as_bool).unwrap_or(false);
    match (result, want_error) {
        (Ok(out), false) => {
            let expected = row.get("expected").and_then(J::as_str).unwrap_or("");
            if out == expected {
                Ok(())
            } else {
                Err(format!("got {out:?}, want {expected:?}"))
            }
        }
        (Ok(out), true) => Err(format!("expected an error, got {out:?}")),
        (Err(e), true) => {
            if let Some(msg) = row.get("error_message").and_then(J::as_str)
                && e != msg
            {
                return Err(format!("error {e:?}, want {msg:?}"));
            }
            if let Some(part) = row.get("error_contains").and_then(J::as_str)
                && !e.contains(part)
            {
                return Err(format!("error {e:?} lacks {part:?}"));
            }
            Ok(())
        }
        (Err(e), false) => Err(format!("error: {e}")),
    }
}

fn run_function_row(row: &J, funcs: &FuncMap, template_name: &str) -> Outcome {
    let name = if template_name == "row name" {
        row.get("name")
            .and_then(J::as_str)
            .unwrap_or("test")
            .to_string()
    } else {
        template_name.to_string()
    };
    let text = row.get("template").and_then(J::as_str).unwrap_or("");
    let data = match row.get("values") {
        None | Some(J::Null) => Value::Missing,
        Some(v) => Value::from_json(v, NumberMode::GoTyped),
    };
    let result = TemplateSet::parse(&[(&name, text)], funcs.clone())
        .and_then(|set| set.execute(&name, &data, &ExecOptions::default()))
        .map_err(|e| e.to_string());
    check(result, row)
}

/// Rows of Helm's engine tests given as a flat set of named templates:
/// parsed together, each executed with its own values, errors in Helm's form.
fn run_engine_templates(row: &J, templates: &serde_json::Map<String, J>) -> Outcome {
    let mut names: Vec<&String> = templates.keys().collect();
    names.sort();
    let files: Vec<(&str, &str)> = names
        .iter()
        .map(|n| {
            (
                n.as_str(),
                templates[*n]
                    .get("template")
                    .and_then(J::as_str)
                    .unwrap_or(""),
            )
        })
        .collect();
    let set = match TemplateSet::parse(&files, manifold_gotemplate::helm()) {
        Ok(s) => s,
        Err(e) => return check(Err(e.helm_message()), row),
    };
    let mut outputs = BTreeMap::new();
    for n in &names {
        let values = templates[*n].get("values").cloned().unwrap_or(J::Null);
        let data = Value::from_json(&values, NumberMode::Float64);
        match set.execute(n, &data, &ExecOptions::helm()) {
            Ok(out) => {
                outputs.insert(n.to_string(), out);
            }
            Err(e) => return check(Err(e.helm_message()), row),
        }
    }
    match row.get("expected") {
        Some(J::Object(exp)) => {
            for (k, v) in exp {
                let want = v.as_str().unwrap_or("");
                match outputs.get(k) {
                    Some(got) if got == want => {}
                    Some(got) => return Err(format!("{k}: got {got:?}, want {want:?}")),
                    None => return Err(format!("{k}: not rendered")),
                }
            }
            Ok(())
        }
        _ => check(Ok(String::new()), row),
    }
}

/// A chart without nulls from its defaults: Helm drops null defaults
/// when coalescing.
fn strip_nulls(v: &J) -> J {
    match v {
        J::Object(m) => J::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), strip_nulls(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// util.CoalesceValues for the test charts: user values win, chart
/// defaults fill in, a null user value deletes the key, subcharts get their
/// own section plus the parent's globals.
fn coalesce(chart: &J, v: &mut serde_json::Map<String, J>) {
    if let Some(J::Object(defaults)) = chart.get("values") {
        coalesce_tables(v, defaults);
    }
    let global = v.get("global").cloned();
    for sub in chart
        .get("dependencies")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        let name = sub
            .pointer("/metadata/name")
            .and_then(J::as_str)
            .unwrap_or("")
            .to_string();
        let entry = v
            .entry(name)
            .or_insert_with(|| J::Object(Default::default()));
        if let J::Object(sv) = entry {
            if let Some(J::Object(g)) = &global {
                let sg = sv
                    .entry("global")
                    .or_insert_with(|| J::Object(Default::default()));
                if let J::Object(sg) = sg {
                    for (k, x) in g {
                        sg.insert(k.clone(), x.clone());
                    }
                }
            }
            coalesce(sub, sv);
        }
    }
}

fn coalesce_tables(dst: &mut serde_json::Map<String, J>, src: &serde_json::Map<String, J>) {
    for (k, sv) in src {
        match dst.get_mut(k) {
            None => {
                if !sv.is_null() {
                    dst.insert(k.clone(), strip_nulls(sv));
                }
            }
            Some(J::Null) => {
                dst.remove(k);
            }
            Some(J::Object(d)) => {
                if let J::Object(s) = sv {
                    coalesce_tables(d, s);
                }
            }
            Some(_) => {}
        }
    }
}

fn go_field_name(k: &str) -> String {
    match k {
        "apiVersion" => "APIVersion".into(),
        "appVersion" => "AppVersion".into(),
        "kubeVersion" => "KubeVersion".into(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

/// Helm's recAllTpls: the top-level object of each chart and its templates.
fn collect_templates(
    chart: &J,
    vals: &serde_json::Map<String, J>,
    is_root: bool,
    parent_path: &str,
    out: &mut Vec<manifold_gotemplate::helm_engine::RenderTemplate>,
) -> Value {
    let name = chart
        .pointer("/metadata/name")
        .and_then(J::as_str)
        .unwrap_or("");
    let full = if is_root {
        name.to_string()
    } else {
        format!("{parent_path}/charts/{name}")
    };
    let mut meta = serde_json::Map::new();
    if let Some(J::Object(m)) = chart.get("metadata") {
        for (k, x) in m {
            meta.insert(go_field_name(k), x.clone());
        }
    }
    meta.insert("IsRoot".into(), J::Bool(is_root));
    let values = if is_root {
        vals.get("Values").cloned().unwrap_or(J::Null)
    } else {
        match vals.get("Values").and_then(|v| v.get(name)) {
            Some(J::Object(m)) => J::Object(m.clone()),
            _ => J::Object(Default::default()),
        }
    };
    let values = match values {
        J::Object(_) => values,
        _ => J::Object(Default::default()),
    };
    let mut files = BTreeMap::new();
    for f in chart
        .get("files")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        let n = f.get("name").and_then(J::as_str).unwrap_or("").to_string();
        let d = f
            .get("data")
            .and_then(J::as_str)
            .unwrap_or("")
            .as_bytes()
            .to_vec();
        files.insert(n, d);
    }
    let mut next_json = serde_json::Map::new();
    next_json.insert("Values".into(), values);
    for k in ["Release", "Capabilities"] {
        next_json.insert(k.into(), vals.get(k).cloned().unwrap_or(J::Null));
    }
    let mut subcharts = BTreeMap::new();
    for sub in chart
        .get("dependencies")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        let sub_name = sub
            .pointer("/metadata/name")
            .and_then(J::as_str)
            .unwrap_or("")
            .to_string();
        let v = collect_templates(sub, &next_json, false, &full, out);
        subcharts.insert(sub_name, v);
    }
    let mut next: BTreeMap<String, Value> = next_json
        .iter()
        .map(|(k, x)| (k.clone(), Value::from_json(x, NumberMode::Float64)))
        .collect();
    next.insert(
        "Chart".into(),
        Value::from_json(&J::Object(meta), NumberMode::Float64),
    );
    next.insert(
        "Files".into(),
        manifold_gotemplate::helm_engine::Files::new(files).into_value(),
    );
    next.insert("Subcharts".into(), Value::map(subcharts));
    let next = Value::map(next);
    for t in chart
        .get("templates")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        let tname = t.get("name").and_then(J::as_str).unwrap_or("");
        out.push(manifold_gotemplate::helm_engine::RenderTemplate {
            name: format!("{full}/{tname}"),
            text: t.get("data").and_then(J::as_str).unwrap_or("").to_string(),
            values: next.clone(),
            base_path: format!("{full}/templates"),
        });
    }
    next
}

/// Rows of Helm's engine tests that render a whole chart.
fn run_engine_chart(row: &J) -> Outcome {
    let chart = row.get("chart").cloned().unwrap_or(J::Null);
    let mut rv = match row.get("render_values") {
        Some(J::Object(m)) => m.clone(),
        _ => serde_json::Map::new(),
    };
    let values = match rv.get("Values") {
        Some(J::Object(m)) if m.contains_key("__coalesce__") => {
            let mut v = match m.get("__coalesce__") {
                Some(J::Object(x)) => x.clone(),
                _ => serde_json::Map::new(),
            };
            coalesce(&chart, &mut v);
            J::Object(v)
        }
        Some(J::Object(m)) => J::Object(m.clone()),
        _ => J::Object(Default::default()),
    };
    rv.insert("Values".into(), values);
    let mut templates = Vec::new();
    collect_templates(&chart, &rv, true, "", &mut templates);
    let engine = row.get("engine");
    let opts = manifold_gotemplate::helm_engine::EngineOptions {
        strict: engine
            .and_then(|e| e.get("strict"))
            .and_then(J::as_bool)
            .unwrap_or(false),
        lint_mode: engine
            .and_then(|e| e.get("lint_mode"))
            .and_then(J::as_bool)
            .unwrap_or(false),
        ..Default::default()
    };
    let outputs = match manifold_gotemplate::helm_engine::render(
        &templates,
        manifold_gotemplate::helm(),
        &opts,
    ) {
        Ok(o) => o,
        Err(e) => return check(Err(e.message), row),
    };
    match row.get("expected") {
        Some(J::Object(exp)) => {
            for (k, v) in exp {
                let want = v.as_str().unwrap_or("");
                match outputs.get(k) {
                    Some(got) if got == want => {}
                    Some(got) => return Err(format!("{k}: got {got:?}, want {want:?}")),
                    None => return Err(format!("{k}: not rendered")),
                }
            }
            Ok(())
        }
        _ => check(Ok(String::new()), row),
    }
}

/// Every table under `helm/{sprig,helm-funcs,go-text-template}`.
pub fn run(data: &Path) -> Results {
    let helm = data.join("helm");
    let mut results = Results::default();
    let mut features: BTreeMap<String, Tally> = BTreeMap::new();
    for group in ["sprig", "helm-funcs", "go-text-template"] {
        for case in support::cases(&helm.join(group), "template-function") {
            let args = case.args();
            let funcs = funcs_for(args.get("funcs").and_then(J::as_str).unwrap_or("sprig"));
            let template_name = args
                .get("template_name")
                .and_then(J::as_str)
                .unwrap_or("test")
                .to_string();
            let table = format!("helm/{group}/{}", case.name);
            let rows = support::load_yaml(&case.dir.join("cases.yaml"));
            let rows = rows.as_array().cloned().unwrap_or_default();
            for row in &rows {
                let outcome = if let Some(J::Object(t)) = row.get("templates") {
                    run_engine_templates(row, t)
                } else if row.get("chart").is_some() {
                    run_engine_chart(row)
                } else {
                    run_function_row(row, &funcs, &template_name)
                };
                results
                    .figures
                    .entry(table.clone())
                    .or_default()
                    .add(outcome.is_ok());
                for feature in case.features() {
                    features.entry(feature).or_default().add(outcome.is_ok());
                }
                if let Err(reason) = outcome {
                    let name = row.get("name").and_then(J::as_str).unwrap_or("?");
                    let mut reason = reason.replace('\n', "\\n");
                    if reason.len() > 1200 {
                        let mut end = 1200;
                        while !reason.is_char_boundary(end) {
                            end -= 1;
                        }
                        reason.truncate(end);
                        reason.push_str("...");
                    }
                    results.failures.push(format!("{table} {name}: {reason}"));
                }
            }
        }
    }
    for (feature, tally) in features {
        results.details.push((format!("feature {feature}"), tally));
    }
    results
}
