//! `replacements`: copy a value from one object's field (or a literal) into
//! fields of selected objects, with kustomize's dotted field paths
//! (`spec.containers.[name=app].image`, `*`, indexes), delimiter/index options
//! and `create`.

use crate::Error;
use crate::build::Loader;
use crate::kustomization::scalar_string;
use crate::patches::LabelSelector;
use crate::pattern::{Anchored, accepts};
use crate::resid::{Gvk, ResId};
use crate::resource::Res;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Options {
    #[serde(default)]
    delimiter: String,
    #[serde(default)]
    index: i64,
    #[serde(default)]
    create: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SelectorSpec {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    label_selector: String,
    #[serde(default)]
    annotation_selector: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    #[serde(flatten)]
    sel: SelectorSpec,
    #[serde(default)]
    field_path: String,
    #[serde(default)]
    options: Option<Options>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    #[serde(default)]
    select: Option<SelectorSpec>,
    #[serde(default)]
    reject: Vec<SelectorSpec>,
    #[serde(default)]
    field_paths: Vec<String>,
    #[serde(default)]
    options: Option<Options>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    #[serde(default)]
    path: String,
    #[serde(default)]
    source: Option<Source>,
    #[serde(default)]
    source_value: Option<Value>,
    #[serde(default)]
    targets: Option<Vec<Target>>,
}

/// Runs a kustomization's `replacements` list (entries inline or `path:` files).
pub fn run(ldr: &Loader<'_>, entries: &[Value], res: &mut [Res]) -> Result<(), Error> {
    let mut list: Vec<(Replacement, String)> = Vec::new();
    for e in entries {
        let r = Replacement::deserialize(e)
            .map_err(|x| Error::invalid(&ldr.kfile, format!("replacements: {x}")))?;
        if !r.path.is_empty() {
            if r.source.is_some() || r.targets.is_some() {
                return Err(Error::invalid(
                    &ldr.kfile,
                    "cannot specify both path and inline replacement",
                ));
            }
            let (path, text) = ldr.load(&r.path)?;
            for (doc, _) in crate::yaml::parse_stream(&text, &path)? {
                let items = match doc {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                for it in items {
                    let r = Replacement::deserialize(&it)
                        .map_err(|x| Error::invalid(&path, format!("replacement: {x}")))?;
                    list.push((r, path.clone()));
                }
            }
        } else {
            list.push((r, ldr.kfile.clone()));
        }
    }
    for (r, src) in list {
        apply(&r, res).map_err(|m| Error::invalid(&src, format!("replacements: {m}")))?;
    }
    Ok(())
}

fn ids_of(r: &Res) -> Vec<ResId> {
    let mut ids = vec![r.cur_id()];
    ids.extend(r.prev.iter().cloned());
    ids
}

fn apply(r: &Replacement, res: &mut [Res]) -> Result<(), String> {
    let Some(targets) = &r.targets else {
        return Err("replacements must specify a source and at least one target".into());
    };
    let value = match (&r.source, &r.source_value) {
        (Some(_), Some(_)) => {
            return Err("value and resource selectors are mutually exclusive".into());
        }
        (None, None) => {
            return Err("replacements must specify a source and at least one target".into());
        }
        (None, Some(v)) => v.clone(),
        (Some(s), None) => source_value(s, res)?,
    };
    for t in targets {
        let Some(sel) = &t.select else {
            return Err("target must specify resources to select".into());
        };
        let sel_re = RegexSel::new(sel)?;
        let rejects: Vec<RegexSel> = t
            .reject
            .iter()
            .map(RegexSel::new)
            .collect::<Result<_, _>>()?;
        let paths: Vec<String> = if t.field_paths.is_empty() {
            vec!["metadata.name".into()]
        } else {
            t.field_paths.clone()
        };
        for target in res.iter_mut() {
            if !sel_re.meta_matches(target) {
                continue;
            }
            if t.reject.iter().zip(&rejects).any(|(spec, re)| {
                (!spec.label_selector.is_empty() || !spec.annotation_selector.is_empty())
                    && re.meta_matches(target)
            }) {
                continue;
            }
            let ids = ids_of(target);
            if t.reject.iter().zip(&rejects).any(|(spec, re)| {
                !(spec.group.is_empty()
                    && spec.version.is_empty()
                    && spec.kind.is_empty()
                    && spec.name.is_empty()
                    && spec.namespace.is_empty())
                    && ids.iter().any(|id| re.id_matches(id))
            }) {
                continue;
            }
            if !ids.iter().any(|id| sel_re.id_matches(id)) {
                continue;
            }
            for fp in &paths {
                let opts = t.options.clone().unwrap_or_default();
                let segs = split_dotted(fp);
                let mut hits = 0usize;
                set_path(&mut target.value, &segs, opts.create, &mut |slot| {
                    hits += 1;
                    set_field(slot, &value, &opts)
                })?;
                if hits == 0 {
                    let what = if opts.create {
                        "unable to find or create field"
                    } else {
                        "unable to find field"
                    };
                    return Err(format!(
                        "{what} \"{fp}\" in replacement target {}",
                        target.cur_id()
                    ));
                }
            }
        }
    }
    Ok(())
}

fn source_value(s: &Source, res: &[Res]) -> Result<Value, String> {
    let sel_gvk = Gvk {
        group: s.sel.group.clone(),
        version: s.sel.version.clone(),
        kind: s.sel.kind.clone(),
    };
    let mut found: Option<&Res> = None;
    for r in res {
        let hit = ids_of(r).iter().any(|id| {
            (s.sel.name.is_empty() || s.sel.name == id.name)
                && (s.sel.namespace.is_empty() || {
                    let sid = ResId {
                        gvk: id.gvk.clone(),
                        name: String::new(),
                        namespace: s.sel.namespace.clone(),
                    };
                    sid.effective_namespace() == id.effective_namespace()
                })
                && id.gvk.is_selected_by(&sel_gvk)
        });
        if hit {
            if found.is_some() {
                return Err(format!(
                    "multiple matches for selector {}",
                    describe(&s.sel)
                ));
            }
            found = Some(r);
        }
    }
    let Some(src) = found else {
        return Err(format!("nothing selected by {}", describe(&s.sel)));
    };
    let fp = if s.field_path.is_empty() {
        "metadata.name"
    } else {
        &s.field_path
    };
    let v = lookup(&src.value, &split_dotted(fp));
    let v = match v {
        Some(v) if !is_empty(v) => v.clone(),
        _ => {
            return Err(format!(
                "fieldPath `{fp}` is missing for replacement source {}",
                describe(&s.sel)
            ));
        }
    };
    match &s.options {
        Some(o) if !o.delimiter.is_empty() => {
            let text = match &v {
                Value::Object(_) | Value::Array(_) => {
                    return Err("delimiter option can only be used with scalar nodes".into());
                }
                other => scalar_string(other),
            };
            let parts: Vec<&str> = text.split(o.delimiter.as_str()).collect();
            let idx = usize::try_from(o.index).ok().filter(|i| *i < parts.len());
            match idx.and_then(|i| parts.get(i)) {
                Some(p) => Ok(Value::String((*p).to_string())),
                None => Err(format!(
                    "options.index {} is out of bounds for value {text}",
                    o.index
                )),
            }
        }
        _ => Ok(v),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn describe(s: &SelectorSpec) -> String {
    let id = ResId {
        gvk: Gvk {
            group: s.group.clone(),
            version: s.version.clone(),
            kind: s.kind.clone(),
        },
        name: s.name.clone(),
        namespace: s.namespace.clone(),
    };
    id.to_string()
}

struct RegexSel {
    group: Option<Anchored>,
    version: Option<Anchored>,
    kind: Option<Anchored>,
    name: Option<Anchored>,
    namespace: Option<Anchored>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

impl RegexSel {
    fn new(s: &SelectorSpec) -> Result<RegexSel, String> {
        Ok(RegexSel {
            group: Anchored::new(&s.group)?,
            version: Anchored::new(&s.version)?,
            kind: Anchored::new(&s.kind)?,
            name: Anchored::new(&s.name)?,
            namespace: Anchored::new(&s.namespace)?,
            labels: if s.label_selector.is_empty() {
                None
            } else {
                Some(LabelSelector::parse(&s.label_selector)?)
            },
            annotations: if s.annotation_selector.is_empty() {
                None
            } else {
                Some(LabelSelector::parse(&s.annotation_selector)?)
            },
        })
    }

    fn id_matches(&self, id: &ResId) -> bool {
        accepts(&self.group, &id.gvk.group)
            && accepts(&self.version, &id.gvk.version)
            && accepts(&self.kind, &id.gvk.kind)
            && accepts(&self.name, &id.name)
            && accepts(&self.namespace, &id.namespace)
    }

    fn meta_matches(&self, r: &Res) -> bool {
        self.labels.as_ref().is_none_or(|s| s.matches(&r.labels()))
            && self
                .annotations
                .as_ref()
                .is_none_or(|s| s.matches(&r.annotations()))
    }
}

/// Splits `a.b.[k=v.x].c` on dots outside brackets.
pub fn split_dotted(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// Reads the value at a dotted path (first match).
pub fn lookup<'a>(v: &'a Value, segs: &[String]) -> Option<&'a Value> {
    let Some((first, rest)) = segs.split_first() else {
        return Some(v);
    };
    match v {
        Value::Object(m) => lookup(m.get(first.as_str())?, rest),
        Value::Array(items) => {
            if let Some((k, want)) = bracket(first) {
                let item = items.iter().find(|i| element_matches(i, &k, &want))?;
                lookup(item, rest)
            } else if let Ok(i) = first.parse::<usize>() {
                lookup(items.get(i)?, rest)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn bracket(seg: &str) -> Option<(String, String)> {
    let inner = seg.strip_prefix('[')?.strip_suffix(']')?;
    let (k, v) = inner.split_once('=')?;
    Some((k.to_string(), v.to_string()))
}

fn element_matches(item: &Value, key: &str, want: &str) -> bool {
    if key.is_empty() {
        return !item.is_object() && !item.is_array() && scalar_string(item) == want;
    }
    item.get(key)
        .is_some_and(|v| !v.is_object() && !v.is_array() && scalar_string(v) == want)
}

/// Visits every value at a dotted path, creating missing fields when asked.
fn set_path(
    v: &mut Value,
    segs: &[String],
    create: bool,
    f: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some((first, rest)) = segs.split_first() else {
        return f(v);
    };
    if first == "*" {
        match v {
            Value::Array(items) => {
                for it in items {
                    set_path(it, rest, create, f)?;
                }
            }
            Value::Object(m) => {
                for (_, it) in m.iter_mut() {
                    set_path(it, rest, create, f)?;
                }
            }
            _ => {}
        }
        return Ok(());
    }
    if v.is_null() && create {
        *v = if bracket(first).is_some() || first == "-" {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        };
    }
    match v {
        Value::Object(m) => {
            if !m.contains_key(first.as_str()) {
                if !create {
                    return Ok(());
                }
                m.insert(first.clone(), Value::Null);
            }
            match m.get_mut(first.as_str()) {
                Some(child) => set_path(child, rest, create, f),
                None => Ok(()),
            }
        }
        Value::Array(items) => {
            if let Some((k, want)) = bracket(first) {
                let mut any = false;
                for it in items.iter_mut() {
                    if element_matches(it, &k, &want) {
                        any = true;
                        set_path(it, rest, create, f)?;
                    }
                }
                if !any && create {
                    let mut fresh = if k.is_empty() {
                        Value::String(want.clone())
                    } else {
                        Value::Object(Map::new())
                    };
                    if let Value::Object(m) = &mut fresh {
                        m.insert(k.clone(), Value::String(want.clone()));
                    }
                    set_path(&mut fresh, rest, create, f)?;
                    items.push(fresh);
                }
                Ok(())
            } else if first == "-" {
                if create {
                    let mut fresh = Value::Null;
                    set_path(&mut fresh, rest, create, f)?;
                    items.push(fresh);
                }
                Ok(())
            } else if let Ok(i) = first.parse::<usize>() {
                match items.get_mut(i) {
                    Some(it) => set_path(it, rest, create, f),
                    None => Ok(()),
                }
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// Writes `value` into a target field; scalars keep the target's type, as kyaml keeps the node tag.
fn set_field(slot: &mut Value, value: &Value, opts: &Options) -> Result<(), String> {
    let mut value = value.clone();
    if !opts.delimiter.is_empty() {
        if slot.is_object() || slot.is_array() {
            return Err("delimiter option can only be used with scalar nodes".into());
        }
        let cur = scalar_string(slot);
        let mut parts: Vec<String> = cur
            .split(opts.delimiter.as_str())
            .map(String::from)
            .collect();
        let v = scalar_string(&value);
        if opts.index < 0 {
            parts.insert(0, v);
        } else if let Some(p) = usize::try_from(opts.index)
            .ok()
            .and_then(|i| parts.get_mut(i))
        {
            *p = v;
        } else {
            parts.push(v);
        }
        value = Value::String(parts.join(&opts.delimiter));
    }
    let scalar_value = !value.is_object() && !value.is_array();
    *slot = match (&*slot, scalar_value) {
        (Value::String(_), true) => Value::String(scalar_string(&value)),
        (Value::Number(_), true) => {
            let text = scalar_string(&value);
            text.parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| {
                    text.parse::<f64>()
                        .ok()
                        .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                })
                .unwrap_or(Value::String(text))
        }
        (Value::Bool(_), true) => match scalar_string(&value).as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_string()),
        },
        _ => value,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_paths() {
        assert_eq!(
            split_dotted("spec.containers.[name=a.b].image"),
            vec!["spec", "containers", "[name=a.b]", "image"]
        );
        let v = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        assert_eq!(
            lookup(&v, &split_dotted("spec.containers.[name=b].image")),
            Some(&json!("y"))
        );
        assert_eq!(
            lookup(&v, &split_dotted("spec.containers.0.name")),
            Some(&json!("a"))
        );
    }

    #[test]
    fn typed_set_and_create() {
        let mut v = json!({"spec": {"port": 80, "host": "h"}});
        let opts = Options {
            create: true,
            ..Default::default()
        };
        let mut n = 0;
        set_path(&mut v, &split_dotted("spec.port"), false, &mut |s| {
            n += 1;
            set_field(s, &json!("8080"), &Options::default())
        })
        .unwrap();
        set_path(&mut v, &split_dotted("spec.new.deep"), true, &mut |s| {
            set_field(s, &json!("z"), &opts)
        })
        .unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            v,
            json!({"spec": {"port": 8080, "host": "h", "new": {"deep": "z"}}})
        );
    }
}
