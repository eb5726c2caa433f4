//! Renders the templates of every chart directory (a folder with a
//! Chart.yaml) found under the given roots, each chart with its own
//! values.yaml, and prints execution errors: an exploratory check of the
//! engine against real charts (no subchart scoping, no hooks).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use manifold_gotemplate::helm_engine::{ApiVersions, Files, KubeVersion, RenderTemplate};
use manifold_gotemplate::{NumberMode, Value};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn go_name(k: &str) -> String {
    match k {
        "apiVersion" => "APIVersion".into(),
        "appVersion" => "AppVersion".into(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

fn main() {
    let mut files = Vec::new();
    for root in std::env::args().skip(1) {
        walk(Path::new(&root), &mut files);
    }
    let charts: Vec<PathBuf> = files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "Chart.yaml"))
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    let (mut ok, mut bad) = (0, 0);
    for chart in charts {
        let meta = std::fs::read_to_string(chart.join("Chart.yaml")).unwrap_or_default();
        let meta = manifold_yaml::from_str(&meta).unwrap_or(serde_json::Value::Null);
        let name = meta
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("chart")
            .to_string();
        let values = std::fs::read_to_string(chart.join("values.yaml")).unwrap_or_default();
        let opts = manifold_yaml::ParseOptions {
            schema: manifold_yaml::Schema::Yaml11,
            ..Default::default()
        };
        let values = manifold_yaml::parse_documents(&values, &opts)
            .ok()
            .and_then(|d| d.into_iter().next())
            .map(|d| d.value)
            .unwrap_or(serde_json::Value::Null);
        let mut chart_map = serde_json::Map::new();
        if let serde_json::Value::Object(m) = &meta {
            for (k, v) in m {
                chart_map.insert(go_name(k), v.clone());
            }
        }
        let mut all = Vec::new();
        walk(&chart, &mut all);
        let mut file_map = BTreeMap::new();
        let mut tpls = Vec::new();
        for p in &all {
            let Ok(rel) = p.strip_prefix(&chart) else {
                continue;
            };
            let rel = rel.to_string_lossy().to_string();
            if rel.starts_with("charts/") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(p) else {
                continue;
            };
            if rel.starts_with("templates/") {
                tpls.push((format!("{name}/{rel}"), text));
            } else {
                file_map.insert(rel, text.into_bytes());
            }
        }
        let mut top = BTreeMap::new();
        top.insert(
            "Values".to_string(),
            Value::from_json(&values, NumberMode::Float64),
        );
        top.insert(
            "Chart".to_string(),
            Value::from_json(&serde_json::Value::Object(chart_map), NumberMode::Float64),
        );
        top.insert(
            "Release".to_string(),
            Value::from_json(
                &serde_json::json!({"Name": "release-name", "Namespace": "default", "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1}),
                NumberMode::Float64,
            ),
        );
        let mut caps = BTreeMap::new();
        caps.insert(
            "APIVersions".to_string(),
            Value::Object(Arc::new(ApiVersions(vec!["v1".into()]))),
        );
        caps.insert(
            "KubeVersion".to_string(),
            Value::Object(Arc::new(KubeVersion {
                version: "v1.20.0".into(),
                major: "1".into(),
                minor: "20".into(),
            })),
        );
        top.insert("Capabilities".to_string(), Value::map(caps));
        top.insert("Files".to_string(), Files::new(file_map).into_value());
        let top = Value::map(top);
        let templates: Vec<RenderTemplate> = tpls
            .into_iter()
            .map(|(n, text)| RenderTemplate {
                name: n,
                text,
                values: top.clone(),
                base_path: format!("{name}/templates"),
            })
            .collect();
        match manifold_gotemplate::helm_engine::render(
            &templates,
            manifold_gotemplate::helm(),
            &Default::default(),
        ) {
            Ok(_) => ok += 1,
            Err(e) => {
                bad += 1;
                println!("{}: {}", chart.display(), e.message.replace('\n', " | "));
            }
        }
    }
    println!("{ok} charts rendered, {bad} failed");
}
