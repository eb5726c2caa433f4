//! Name-reference fixing: after prefixes, suffixes, namespaces and hash
//! suffixes renamed objects, fields that refer to them by name (a Deployment's
//! configMapRef, a RoleBinding's roleRef and subjects, ...) are rewritten to the
//! new names, choosing the referral the way kustomize does (previous names,
//! kind, namespace, then matching prefix/suffix history).
//! Candidates are indexed by previous name so the pass stays linear.

use crate::config::TransformerConfig;
use crate::fieldspec::{Create, split_path, walk};
use crate::resid::{Gvk, ResId};
use crate::resource::Res;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// What the selection needs to know about a possible referral, frozen before rewriting.
struct Cand {
    cur: ResId,
    org_ns: String,
    prev: Vec<ResId>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

pub fn fix(res: &mut [Res], config: &TransformerConfig) -> Result<(), String> {
    let cands: Vec<Cand> = res
        .iter()
        .map(|r| Cand {
            cur: r.cur_id(),
            org_ns: r.org_id().effective_namespace().to_string(),
            prev: r.prev.clone(),
            prefixes: r.prefixes.clone(),
            suffixes: r.suffixes.clone(),
        })
        .collect();
    // Previous name -> resources that once had it.
    let mut by_prev_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in cands.iter().enumerate() {
        let mut seen = HashSet::new();
        for id in &c.prev {
            if seen.insert(id.name.as_str()) {
                by_prev_name.entry(id.name.as_str()).or_default().push(i);
            }
        }
    }
    let mut rb_ns = Vec::with_capacity(res.len());
    for r in res.iter() {
        rb_ns.push(rolebinding_namespaces(&r.value)?);
    }
    if by_prev_name.is_empty() {
        return Ok(());
    }
    // Referrers are looked up by original kind so each field spec only visits its kinds.
    let org_gvks: Vec<Gvk> = res.iter().map(|r| r.org_id().gvk).collect();
    let mut by_kind: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, g) in org_gvks.iter().enumerate() {
        by_kind.entry(g.kind.as_str()).or_default().push(i);
    }
    let all: Vec<usize> = (0..res.len()).collect();
    let empty = HashSet::new();
    for br in &config.name_reference {
        for fs in &br.referrers {
            let segs = split_path(&fs.path);
            let indices: &[usize] = if fs.gvk.kind.is_empty() {
                &all
            } else {
                by_kind
                    .get(fs.gvk.kind.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
            };
            for &ri in indices {
                if !org_gvks.get(ri).is_some_and(|g| g.is_selected_by(&fs.gvk)) {
                    continue;
                }
                let (Some(r), Some(me)) = (res.get_mut(ri), cands.get(ri)) else {
                    continue;
                };
                let ctx = Ctx {
                    cands: &cands,
                    by_prev_name: &by_prev_name,
                    target: &br.gvk,
                    referrer: me,
                    role_ref: if fs.path.ends_with("roleRef/name") {
                        role_ref_gvk(&r.value)
                    } else {
                        None
                    },
                    rb_namespaces: rb_ns.get(ri).unwrap_or(&empty),
                };
                walk(&mut r.value, &segs, false, Create::Never, &mut |node| {
                    ctx.set(node)
                })
                .map_err(|m| {
                    format!(
                        "updating name reference in '{}' field of '{}': {m}",
                        fs.path, me.cur
                    )
                })?;
            }
        }
    }
    Ok(())
}

struct Ctx<'a> {
    cands: &'a [Cand],
    by_prev_name: &'a HashMap<&'a str, Vec<usize>>,
    target: &'a Gvk,
    referrer: &'a Cand,
    role_ref: Option<Gvk>,
    rb_namespaces: &'a HashSet<String>,
}

fn role_ref_gvk(v: &Value) -> Option<Gvk> {
    let rr = v.get("roleRef")?;
    Some(Gvk {
        group: rr.get("apiGroup")?.as_str()?.to_string(),
        version: String::new(),
        kind: rr.get("kind")?.as_str()?.to_string(),
    })
}

/// Namespaces of a RoleBinding's ServiceAccount subjects (they widen what it may refer to).
fn rolebinding_namespaces(v: &Value) -> Result<HashSet<String>, String> {
    let mut out = HashSet::new();
    if v.get("kind").and_then(Value::as_str) != Some("RoleBinding") {
        return Ok(out);
    }
    for s in v
        .get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(ns) = s.get("namespace") else {
            continue;
        };
        if s.get("kind").and_then(Value::as_str) != Some("ServiceAccount") {
            continue;
        }
        match ns.as_str() {
            Some(n) => {
                out.insert(n.to_string());
            }
            None => {
                return Err(format!(
                    "Invalid Input: namespace is blank for resource {}: give the ServiceAccount subject a namespace or remove the field",
                    ResId::of(v)
                ));
            }
        }
    }
    Ok(out)
}

impl Ctx<'_> {
    fn set(&self, node: &mut Value) -> Result<(), String> {
        match node {
            Value::Null => Ok(()),
            Value::String(_) => self.set_scalar(node),
            Value::Object(_) => self.set_mapping(node),
            Value::Array(items) => {
                for it in items.iter_mut() {
                    match it {
                        Value::String(_) => self.set_scalar(it)?,
                        Value::Object(_) => self.set_mapping(it)?,
                        _ => {}
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Resources a namespaced referrer may point at: cluster-scoped ones, its own namespace,
    /// and for RoleBindings the namespaces its subjects name.
    fn reachable(&self, c: &Cand) -> bool {
        let me = &self.referrer.cur;
        if me.gvk.is_cluster_scoped() || c.cur.gvk.is_cluster_scoped() || c.cur.ns_equals(me) {
            return true;
        }
        self.rb_namespaces.contains(&c.cur.namespace)
    }

    fn base_candidates(&self, old: &str) -> Vec<usize> {
        self.by_prev_name
            .get(old)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|&i| self.cands.get(i).is_some_and(|c| self.reachable(c)))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn set_scalar(&self, node: &mut Value) -> Result<(), String> {
        let Value::String(old) = node else {
            return Ok(());
        };
        let cands = self.base_candidates(old);
        let Some(pick) = self.select(old, cands, false)? else {
            return Ok(());
        };
        if let Some(c) = self.cands.get(pick)
            && c.cur.name != *old
        {
            *node = Value::String(c.cur.name.clone());
        }
        Ok(())
    }

    fn set_mapping(&self, node: &mut Value) -> Result<(), String> {
        let Some(map) = node.as_object_mut() else {
            return Ok(());
        };
        let Some(old) = map.get("name").and_then(Value::as_str).map(String::from) else {
            if map.contains_key("name") {
                return Ok(());
            }
            return Err("path config error; no 'name' field in node".into());
        };
        let mut cands = self.base_candidates(&old);
        if let Some(ns) = map.get("namespace").and_then(Value::as_str) {
            let by_org: Vec<usize> = cands
                .iter()
                .copied()
                .filter(|&i| self.cands.get(i).is_some_and(|c| c.org_ns == ns))
                .collect();
            cands = if !by_org.is_empty() || self.any_org_ns(ns) {
                by_org
            } else {
                cands
                    .into_iter()
                    .filter(|&i| {
                        self.cands
                            .get(i)
                            .is_some_and(|c| c.cur.effective_namespace() == ns)
                    })
                    .collect()
            };
        }
        let Some(pick) = self.select(&old, cands, true)? else {
            return Ok(());
        };
        let Some(c) = self.cands.get(pick) else {
            return Ok(());
        };
        if c.cur.name == old && c.cur.namespace.is_empty() {
            return Ok(());
        }
        map.insert("name".into(), Value::String(c.cur.name.clone()));
        if !c.cur.namespace.is_empty() {
            map.insert("namespace".into(), Value::String(c.cur.namespace.clone()));
        }
        Ok(())
    }

    /// Whether any referable resource originally lived in `ns` (kustomize groups by original namespace first).
    fn any_org_ns(&self, ns: &str) -> bool {
        self.cands
            .iter()
            .any(|c| c.org_ns == ns && self.reachable(c))
    }

    fn select(&self, old: &str, cands: Vec<usize>, with_ns: bool) -> Result<Option<usize>, String> {
        let get = |i: &usize| self.cands.get(*i);
        let mut c: Vec<usize> = cands
            .into_iter()
            .filter(|i| get(i).is_some_and(|c| c.prev.iter().any(|p| p.name == old)))
            .filter(|i| {
                get(i).is_some_and(|c| c.prev.iter().any(|p| p.gvk.is_selected_by(self.target)))
            })
            .filter(|i| {
                self.role_ref.as_ref().is_none_or(|g| {
                    get(i).is_some_and(|c| c.prev.iter().any(|p| p.gvk.is_selected_by(g)))
                })
            })
            .filter(|i| {
                let me = &self.referrer.cur;
                me.gvk.is_cluster_scoped()
                    || get(i).is_some_and(|c| {
                        c.cur.gvk.is_cluster_scoped()
                            || c.cur.gvk.kind == "ServiceAccount"
                            || c.cur.ns_equals(me)
                    })
            })
            .collect();
        if c.len() == 1 {
            return Ok(c.first().copied());
        }
        c.retain(|i| get(i).is_some_and(|x| ps_equal(x, self.referrer, true)));
        if c.len() > 1 {
            c.retain(|i| get(i).is_some_and(|x| ps_equal(x, self.referrer, false)));
        }
        match c.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            [first, rest @ ..] => {
                let f = get(first);
                let same = rest.iter().all(|i| {
                    let (a, b) = (f, get(i));
                    match (a, b) {
                        (Some(a), Some(b)) => {
                            a.cur.name == b.cur.name
                                && (!with_ns || a.cur.namespace == b.cur.namespace)
                        }
                        _ => false,
                    }
                });
                if same {
                    Ok(Some(*first))
                } else {
                    let ids: Vec<String> = c
                        .iter()
                        .filter_map(|i| get(i).map(|x| x.cur.to_string()))
                        .collect();
                    Err(format!(
                        "found multiple possible referrals: {}; give the objects distinct names or namespaces",
                        ids.join(", ")
                    ))
                }
            }
        }
    }
}

fn ps_equal(a: &Cand, b: &Cand, allow_empty: bool) -> bool {
    let same = |x: &[String], y: &[String]| -> bool {
        if x.is_empty() && y.is_empty() {
            return true;
        }
        if x.is_empty() || y.is_empty() {
            return false;
        }
        if x.len() <= y.len() {
            y.ends_with(x)
        } else {
            x.ends_with(y)
        }
    };
    if allow_empty {
        let pe = a.prefixes.is_empty() || b.prefixes.is_empty();
        let se = a.suffixes.is_empty() || b.suffixes.is_empty();
        (pe || same(&a.prefixes, &b.prefixes)) && (se || same(&a.suffixes, &b.suffixes))
    } else {
        same(&a.prefixes, &b.prefixes) && same(&a.suffixes, &b.suffixes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renames_follow() {
        let mut cm = Res::new(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}),
            "a",
        );
        cm.store_previous_id();
        cm.set_name("p-cfg");
        let dep = Res::new(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                "spec": {"template": {"spec": {"containers": [{"name": "c", "envFrom": [{"configMapRef": {"name": "cfg"}}, {"configMapRef": {"name": "other"}}]}],
                "volumes": [{"name": "v", "configMap": {"name": "cfg"}}]}}}}),
            "b",
        );
        let mut res = vec![cm, dep];
        fix(&mut res, TransformerConfig::defaults()).unwrap();
        let spec = &res[1].value["spec"]["template"]["spec"];
        assert_eq!(
            spec["containers"][0]["envFrom"][0]["configMapRef"]["name"],
            "p-cfg"
        );
        assert_eq!(
            spec["containers"][0]["envFrom"][1]["configMapRef"]["name"],
            "other"
        );
        assert_eq!(spec["volumes"][0]["configMap"]["name"], "p-cfg");
    }
}
