//! A smoke test that a chart-sized workload renders in bounded time: parse
//! once, execute many times over a few thousand values (catches accidental
//! quadratic behaviour; generous bound so slow machines pass).

#![allow(clippy::panic)] // a failing smoke test reports by panicking

use std::collections::BTreeMap;
use std::time::Instant;

use manifold_gotemplate::{ExecOptions, TemplateSet, Value};

#[test]
fn parse_once_execute_many() {
    let helpers = r#"{{- define "labels" -}}
app: {{ .name | quote }}
tier: {{ .tier | default "web" }}
{{- end -}}"#;
    let main = r#"items:
{{- range $i, $item := .Values.items }}
- index: {{ $i }}
  {{- include "labels" $item | nindent 2 }}
  config: {{ $item.config | toJson }}
  upper: {{ upper $item.name }}
{{- end }}"#;
    let set = TemplateSet::parse(
        &[("_helpers.tpl", helpers), ("main.yaml", main)],
        manifold_gotemplate::helm(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let items: Vec<Value> = (0..2000)
        .map(|i| {
            let mut m = BTreeMap::new();
            m.insert("name".to_string(), Value::string(format!("item-{i}")));
            let mut c = BTreeMap::new();
            c.insert("n".to_string(), Value::Float(i as f64));
            m.insert("config".to_string(), Value::map(c));
            Value::map(m)
        })
        .collect();
    let mut values = BTreeMap::new();
    values.insert("items".to_string(), Value::list(items));
    let mut top = BTreeMap::new();
    top.insert("Values".to_string(), Value::map(values));
    let data = Value::map(top);
    let start = Instant::now();
    let mut total = 0;
    for _ in 0..10 {
        let out = set
            .execute("main.yaml", &data, &ExecOptions::helm())
            .unwrap_or_else(|e| panic!("{e}"));
        total += out.len();
    }
    let elapsed = start.elapsed();
    println!("10 renders of 2000 items: {elapsed:?}, {total} bytes");
    assert!(total > 1_000_000);
    assert!(elapsed.as_secs() < 60, "too slow: {elapsed:?}");
}
