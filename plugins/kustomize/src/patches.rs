//! Patches: `patchesStrategicMerge`, `patches` (strategic merge or JSON 6902,
//! inline or from files, with `target` selectors) and `patchesJson6902`;
//! target selection by regex on gvk/name/namespace plus label and annotation
//! selectors, matching original or current ids as kustomize does.

use crate::Error;
use crate::build::{Loader, norm_id};
use crate::kustomization::{Patch, Selector};
use crate::pattern::{Anchored, accepts};
use crate::resid::{Gvk, ResId};
use crate::resource::Res;
use serde_json::Value;
use std::collections::BTreeMap;

/// A patch loaded from a kustomization entry.
enum Loaded {
    Strategic(Vec<Value>),
    Json(json_patch::Patch),
    Empty,
}

/// Parses patch text: a YAML list (or JSON array) of operations is JSON 6902, mappings are strategic merge.
fn parse_patch(text: &str, file: &str) -> Result<Loaded, Error> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(Loaded::Empty);
    }
    let docs = crate::yaml::parse_stream(text, file)?;
    if docs.is_empty() {
        return Ok(Loaded::Empty);
    }
    if docs.len() == 1 && docs.first().is_some_and(|d| d.0.is_array()) {
        let ops = docs.into_iter().next().map(|d| d.0).unwrap_or(Value::Null);
        let p: json_patch::Patch = serde_json::from_value(ops)
            .map_err(|e| Error::invalid(file, format!("malformed JSON 6902 patch: {e}")))?;
        return Ok(Loaded::Json(p));
    }
    let mut out = Vec::new();
    for (d, line) in docs {
        if !d.is_object() {
            return Err(Error::invalid(
                file,
                format!(
                    "line {line}: a strategic merge patch must be a mapping (or a list of JSON 6902 operations)"
                ),
            ));
        }
        let kind = d.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = d
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if kind.is_empty() || name.is_empty() {
            return Err(Error::invalid(
                file,
                format!(
                    "line {line}: unable to parse SM or JSON patch: a strategic merge patch needs 'kind' and 'metadata.name' (with a target, any name will do)"
                ),
            ));
        }
        out.push(d);
    }
    Ok(Loaded::Strategic(out))
}

/// `patchesStrategicMerge`: each entry is a file path or inline YAML.
pub fn strategic_merge_entries(
    ldr: &Loader<'_>,
    entries: &[String],
    res: &mut Vec<Res>,
) -> Result<(), Error> {
    let mut patches: Vec<(Value, String)> = Vec::new();
    for entry in entries {
        let inline = entry.contains('\n') || entry.trim_start().starts_with('{');
        let (src, loaded) = if inline {
            (ldr.kfile.clone(), parse_patch(entry, &ldr.kfile)?)
        } else {
            let (path, text) = ldr.load(entry)?;
            let parsed = parse_patch(&text, &path)?;
            (path, parsed)
        };
        match loaded {
            Loaded::Strategic(docs) => patches.extend(docs.into_iter().map(|d| (d, src.clone()))),
            Loaded::Empty => {}
            Loaded::Json(_) => {
                return Err(Error::invalid(
                    &src,
                    "patchesStrategicMerge entries must be strategic merge patches; list JSON 6902 patches under 'patches' with a target",
                ));
            }
        }
    }
    if patches.is_empty() {
        return Err(Error::invalid(
            &ldr.kfile,
            format!(
                "patch appears to be empty; files={entries:?}: patchesStrategicMerge needs at least one non-empty patch"
            ),
        ));
    }
    for (p, src) in patches {
        apply_untargeted(ldr.schema.as_deref(), res, &p, &src, false, false)?;
    }
    Ok(())
}

/// Applies a strategic merge patch to the one resource whose (current or previous) id it names.
fn apply_untargeted(
    schema: Option<&crate::smp::Schema>,
    res: &mut Vec<Res>,
    patch: &Value,
    src: &str,
    allow_name: bool,
    allow_kind: bool,
) -> Result<(), Error> {
    let pid = norm_id(ResId::of(patch));
    let hits: Vec<usize> = res
        .iter()
        .enumerate()
        .filter(|(_, r)| r.all_ids().into_iter().any(|i| norm_id(i) == pid))
        .map(|(i, _)| i)
        .collect();
    let idx = match hits.as_slice() {
        [i] => *i,
        [] => {
            return Err(Error::invalid(
                src,
                format!(
                    "no matches for Id {}; failed to find unique target for patch {}: check the patch's apiVersion, kind, name and namespace",
                    ResId::of(patch),
                    ResId::of(patch)
                ),
            ));
        }
        _ => {
            return Err(Error::invalid(
                src,
                format!(
                    "multiple matches for Id {}; failed to find unique target for patch {}",
                    ResId::of(patch),
                    ResId::of(patch)
                ),
            ));
        }
    };
    apply_sm_at(schema, res, idx, patch, src, allow_name, allow_kind)
}

fn apply_sm_at(
    schema: Option<&crate::smp::Schema>,
    res: &mut Vec<Res>,
    idx: usize,
    patch: &Value,
    src: &str,
    allow_name: bool,
    allow_kind: bool,
) -> Result<(), Error> {
    let Some(r) = res.get_mut(idx) else {
        return Ok(());
    };
    let mut p = patch.clone();
    // The patch takes the target's apiVersion (kustomize copies the target's gvk, keeping the patch's kind).
    if let Some(obj) = p.as_object_mut()
        && let Some(api) = r.value.get("apiVersion").cloned()
    {
        obj.insert("apiVersion".into(), api);
    }
    let (name, ns, kind) = (
        r.name().to_string(),
        r.namespace().to_string(),
        r.kind().to_string(),
    );
    if allow_name || allow_kind {
        r.store_previous_id();
    }
    let merged = crate::smp::merge_with_schema(&r.value, &p, schema)
        .map_err(|m| Error::invalid(src, format!("strategic merge patch: {m}")))?;
    match merged {
        None => {
            res.remove(idx);
        }
        Some(v) if v.as_object().is_some_and(|m| m.is_empty()) => {
            res.remove(idx);
        }
        Some(v) => {
            r.value = v;
            if !allow_kind {
                r.set_kind(&kind);
            }
            if !allow_name {
                r.set_name(&name);
            }
            r.set_namespace(&ns);
        }
    }
    Ok(())
}

/// One `patches` (or `patchesJson6902`) entry.
pub fn patch_entry(
    ldr: &Loader<'_>,
    p: &Patch,
    res: &mut Vec<Res>,
    json_only: bool,
) -> Result<(), Error> {
    let text = p.patch.trim();
    let (src, loaded) = match (text.is_empty(), p.path.is_empty()) {
        (true, true) => {
            return Err(Error::invalid(
                &ldr.kfile,
                "a patch entry must specify one of 'patch' and 'path'",
            ));
        }
        (false, false) => {
            return Err(Error::invalid(
                &ldr.kfile,
                "a patch entry cannot set both 'patch' and 'path'",
            ));
        }
        (false, true) => (ldr.kfile.clone(), parse_patch(text, &ldr.kfile)?),
        (true, false) => {
            let (path, t) = ldr.load(&p.path)?;
            let parsed = parse_patch(&t, &path)?;
            (path, parsed)
        }
    };
    let opts = p.options.clone().unwrap_or_default();
    match loaded {
        Loaded::Empty => Ok(()),
        Loaded::Json(ops) => {
            let Some(target) = &p.target else {
                return Err(Error::invalid(
                    &src,
                    "a JSON 6902 patch needs a 'target' naming the resources it applies to",
                ));
            };
            let sel = CompiledSelector::new(target).map_err(|m| Error::invalid(&ldr.kfile, m))?;
            for i in select(res, &sel).map_err(|m| Error::invalid(&ldr.kfile, m))? {
                let Some(r) = res.get_mut(i) else { continue };
                r.store_previous_id();
                json_patch::patch(&mut r.value, &ops).map_err(|e| {
                    Error::invalid(
                        &src,
                        format!("JSON 6902 patch failed on {}: {e}", r.cur_id()),
                    )
                })?;
            }
            Ok(())
        }
        Loaded::Strategic(docs) => {
            if json_only {
                return Err(Error::invalid(
                    &src,
                    "patchesJson6902 entries must be JSON 6902 operation lists",
                ));
            }
            match &p.target {
                None => {
                    for d in docs {
                        apply_untargeted(
                            ldr.schema.as_deref(),
                            res,
                            &d,
                            &src,
                            opts.allow_name_change,
                            opts.allow_kind_change,
                        )?;
                    }
                    Ok(())
                }
                Some(target) => {
                    let [doc] = docs.as_slice() else {
                        return Err(Error::invalid(
                            &src,
                            "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field",
                        ));
                    };
                    let sel =
                        CompiledSelector::new(target).map_err(|m| Error::invalid(&ldr.kfile, m))?;
                    let picked = select(res, &sel).map_err(|m| Error::invalid(&ldr.kfile, m))?;
                    // Indices shift when a patch deletes; walk backwards.
                    for i in picked.into_iter().rev() {
                        let d = doc.clone();
                        apply_sm_at(
                            ldr.schema.as_deref(),
                            res,
                            i,
                            &d,
                            &src,
                            opts.allow_name_change,
                            opts.allow_kind_change,
                        )?;
                    }
                    Ok(())
                }
            }
        }
    }
}

/// A target selector with its regexes compiled.
pub struct CompiledSelector {
    group: Option<Anchored>,
    version: Option<Anchored>,
    kind: Option<Anchored>,
    name: Option<Anchored>,
    namespace: Option<Anchored>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

impl CompiledSelector {
    pub fn new(s: &Selector) -> Result<CompiledSelector, String> {
        Ok(CompiledSelector {
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

    pub fn matches_gvk(&self, g: &Gvk) -> bool {
        accepts(&self.group, &g.group)
            && accepts(&self.version, &g.version)
            && accepts(&self.kind, &g.kind)
    }

    pub fn matches(&self, r: &Res) -> bool {
        let cur = r.cur_id();
        let org = r.org_id();
        let m = |re: &Option<Anchored>, a: &str, b: &str| {
            re.as_ref()
                .is_none_or(|re| re.is_match(a) || re.is_match(b))
        };
        let ns_of = |id: &ResId| -> String {
            if id.gvk.is_cluster_scoped() {
                "~X".to_string()
            } else {
                id.effective_namespace().to_string()
            }
        };
        m(&self.namespace, &ns_of(&org), &ns_of(&cur))
            && m(&self.name, &org.name, &cur.name)
            && self.matches_gvk(&cur.gvk)
            && self.labels.as_ref().is_none_or(|s| s.matches(&r.labels()))
            && self
                .annotations
                .as_ref()
                .is_none_or(|s| s.matches(&r.annotations()))
    }
}

pub fn select(res: &[Res], sel: &CompiledSelector) -> Result<Vec<usize>, String> {
    Ok(res
        .iter()
        .enumerate()
        .filter(|(_, r)| sel.matches(r))
        .map(|(i, _)| i)
        .collect())
}

/// Kubernetes label selector syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`.
#[derive(Debug, Clone)]
pub struct LabelSelector {
    reqs: Vec<Req>,
}

#[derive(Debug, Clone)]
enum Req {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let words: Vec<&str> = part.split_whitespace().collect();
            let req = if let Some((k, v)) = part.split_once("!=") {
                Req::Ne(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once("==") {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once('=') {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if words.len() >= 2
                && (words.get(1) == Some(&"in") || words.get(1) == Some(&"notin"))
            {
                let key = words.first().copied().unwrap_or("").to_string();
                let open = part
                    .find('(')
                    .ok_or_else(|| format!("label selector '{s}': expected '(' after in/notin"))?;
                let close = part
                    .rfind(')')
                    .ok_or_else(|| format!("label selector '{s}': missing ')'"))?;
                let vals: Vec<String> = part
                    .get(open + 1..close)
                    .unwrap_or("")
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect();
                if words.get(1) == Some(&"in") {
                    Req::In(key, vals)
                } else {
                    Req::NotIn(key, vals)
                }
            } else if let Some(k) = part.strip_prefix('!') {
                Req::NotExists(k.trim().into())
            } else {
                Req::Exists(part.into())
            };
            reqs.push(req);
        }
        Ok(LabelSelector { reqs })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.reqs.iter().all(|r| match r {
            Req::Eq(k, v) => labels.get(k) == Some(v),
            Req::Ne(k, v) => labels.get(k) != Some(v),
            Req::In(k, vs) => labels.get(k).is_some_and(|x| vs.contains(x)),
            Req::NotIn(k, vs) => labels.get(k).is_none_or(|x| !vs.contains(x)),
            Req::Exists(k) => labels.contains_key(k),
            Req::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors() {
        let labels: BTreeMap<String, String> = [
            ("app".to_string(), "web".to_string()),
            ("tier".to_string(), "fe".to_string()),
        ]
        .into();
        let cases = [
            ("app=web", true),
            ("app==web,tier=fe", true),
            ("app!=web", false),
            ("app in (web, api)", true),
            ("tier notin (fe)", false),
            ("app", true),
            ("!app", false),
            ("!missing,app in (x,web)", true),
        ];
        for (sel, want) in cases {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&labels),
                want,
                "{sel}"
            );
        }
    }

    #[test]
    fn patch_kinds() {
        assert!(matches!(
            parse_patch("- op: add\n  path: /a\n  value: 1\n", "p").unwrap(),
            Loaded::Json(_)
        ));
        assert!(matches!(
            parse_patch("[{\"op\": \"remove\", \"path\": \"/a\"}]", "p").unwrap(),
            Loaded::Json(_)
        ));
        assert!(matches!(
            parse_patch("kind: A\nmetadata:\n  name: x\n", "p").unwrap(),
            Loaded::Strategic(_)
        ));
        assert!(matches!(
            parse_patch("# only a comment\n", "p").unwrap(),
            Loaded::Empty
        ));
        assert!(parse_patch("metadata:\n  name: x\ndata: {}\n", "p").is_err());
    }
}
