//! Go templates: the input is an archive of template files plus, in a file
//! named `values.yaml`, the data. Every template is parsed into one set with
//! Helm's function map and each file is executed with Helm's options. The
//! library bounds the work itself; a hang or an OOM here is a bug in it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use manifold_fuzz_seed::unpack;
use manifold_gotemplate::{ExecOptions, NumberMode, TemplateSet, Value};

fuzz_target!(|data: &[u8]| {
    let files = unpack(data, "template.yaml");
    let values = files
        .iter()
        .find(|(name, _)| name == "values.yaml")
        .and_then(|(_, text)| manifold_yaml::from_str(text).ok())
        .map(|json| Value::from_json(&json, NumberMode::Float64))
        .unwrap_or(Value::Missing);
    let templates: Vec<(&str, &str)> = files
        .iter()
        .filter(|(name, _)| name != "values.yaml")
        .map(|(name, text)| (name.as_str(), text.as_str()))
        .collect();
    let Ok(set) = TemplateSet::parse(&templates, manifold_gotemplate::helm()) else {
        return;
    };
    for (name, _) in &templates {
        let _ = set.execute(name, &values, &ExecOptions::helm());
    }
});
