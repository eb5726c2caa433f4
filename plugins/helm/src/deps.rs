//! Dependency processing as Helm's `ProcessDependencies`: aliases copy
//! subcharts under new names, `tags` and `condition` switch them off, and
//! `import-values` lift subchart values into the parent.

use std::collections::BTreeSet;

use serde_json::{Map, Value as J};

use crate::chart::{Chart, Dependency};
use crate::values::{coalesce_tables, coalesce_values, path_value, table};

/// Runs condition/tag/alias processing, then import-values, on `chart`
/// with the user's values.
pub fn process(chart: &mut Chart, user: &Map<String, J>) -> Result<(), String> {
    process_enabled(chart, user, "", 0)?;
    process_imports(chart, 0)
}

/// Masterminds semver range check; anything unparsable is incompatible.
fn compatible(constraint: &str, version: &str) -> bool {
    manifold_gotemplate::funcs::semver::semver_compare(constraint, version).unwrap_or(false)
}

fn process_enabled(
    c: &mut Chart,
    v: &Map<String, J>,
    path: &str,
    depth: usize,
) -> Result<(), String> {
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    if depth > 64 {
        return Err(format!("dependencies of {} nest too deeply", c.name()));
    }
    let existing = std::mem::take(&mut c.dependencies);
    // Charts in charts/ that no dependency entry claims stay as they are.
    let mut deps: Vec<Chart> = existing
        .iter()
        .filter(|e| {
            !c.metadata
                .dependencies
                .iter()
                .any(|r| e.name() == r.name && compatible(&r.version, &e.metadata.version))
        })
        .cloned()
        .collect();
    for req in &mut c.metadata.dependencies {
        if let Some(found) = existing
            .iter()
            .find(|e| e.name() == req.name && compatible(&req.version, &e.metadata.version))
        {
            let mut copy = found.clone();
            if !req.alias.is_empty() {
                copy.metadata.name = req.alias.clone();
            }
            deps.push(copy);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    for req in &mut c.metadata.dependencies {
        req.enabled = true;
    }
    c.dependencies = deps;
    let cvals = coalesce_values(c, v, false)?;
    apply_tags(&mut c.metadata.dependencies, &cvals);
    apply_conditions(&mut c.metadata.dependencies, &cvals, path);
    let off: BTreeSet<String> = c
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    c.dependencies.retain(|d| !off.contains(d.name()));
    c.metadata.dependencies.retain(|r| !off.contains(&r.name));
    for t in &mut c.dependencies {
        let sub = format!("{path}{}.", t.name());
        process_enabled(t, &cvals, &sub, depth + 1)?;
    }
    Ok(())
}

fn apply_tags(reqs: &mut [Dependency], cvals: &Map<String, J>) {
    let Some(tags) = table(cvals, "tags") else {
        return;
    };
    for r in reqs {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            match tags.get(k) {
                Some(J::Bool(true)) => has_true = true,
                Some(J::Bool(false)) => has_false = true,
                _ => {}
            }
        }
        r.enabled = has_true || !has_false;
    }
}

fn apply_conditions(reqs: &mut [Dependency], cvals: &Map<String, J>, path: &str) {
    for r in reqs {
        for cond in r.condition.trim().split(',') {
            if cond.is_empty() {
                continue;
            }
            if let Some(J::Bool(b)) = path_value(cvals, &format!("{path}{cond}")) {
                r.enabled = *b;
                break;
            }
        }
    }
}

fn process_imports(c: &mut Chart, depth: usize) -> Result<(), String> {
    if depth > 64 {
        return Err(format!("dependencies of {} nest too deeply", c.name()));
    }
    for d in &mut c.dependencies {
        process_imports(d, depth + 1)?;
    }
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = coalesce_values(c, &Map::new(), true)?;
    let mut b: Map<String, J> = Map::new();
    for r in &mut c.metadata.dependencies {
        let mut normalized = Vec::new();
        for iv in &r.import_values {
            match iv {
                J::Object(m) => {
                    let child = go_print(m.get("child"));
                    let parent = go_print(m.get("parent"));
                    let mut n = Map::new();
                    n.insert("child".into(), J::String(child.clone()));
                    n.insert("parent".into(), J::String(parent.clone()));
                    normalized.push(J::Object(n));
                    if let Some(vv) = table(&cvals, &format!("{}.{child}", r.name)) {
                        coalesce_tables(&mut b, path_to_map(&parent, vv.clone()), true);
                    }
                }
                J::String(s) => {
                    let child = format!("exports.{s}");
                    let mut n = Map::new();
                    n.insert("child".into(), J::String(child.clone()));
                    n.insert("parent".into(), J::String(".".into()));
                    normalized.push(J::Object(n));
                    if let Some(vm) = table(&cvals, &format!("{}.{child}", r.name)) {
                        coalesce_tables(&mut b, vm.clone(), true);
                    }
                }
                _ => {}
            }
        }
        r.import_values = normalized;
    }
    let mut merged = cvals;
    coalesce_tables(&mut merged, b, true);
    c.values = merged;
    Ok(())
}

/// `fmt.Sprintf("%v", x)` for the scalars import-values entries hold.
fn go_print(v: Option<&J>) -> String {
    match v {
        None | Some(J::Null) => "<nil>".into(),
        Some(J::String(s)) => s.clone(),
        Some(J::Number(n)) => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e21)
            .map_or_else(|| n.to_string(), |f| format!("{}", f as i64)),
        Some(other) => other.to_string(),
    }
}

fn path_to_map(path: &str, data: Map<String, J>) -> Map<String, J> {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for seg in path.split('.').rev() {
        let mut m = Map::new();
        m.insert(seg.to_string(), J::Object(cur));
        cur = m;
    }
    cur
}
