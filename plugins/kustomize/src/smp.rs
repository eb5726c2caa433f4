//! Strategic merge patch on JSON values, with the semantics of kustomize v5
//! (kyaml's merge2 walker with list-prepend): maps merge key by key, `null`
//! deletes, lists with a Kubernetes patch merge key merge element-wise (patched
//! elements first, in patch order, then the untouched originals), other lists are
//! replaced. Directives: `$patch: delete|replace|merge`, `$retainKeys`,
//! `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`.

use crate::resid::Gvk;
use serde_json::{Map, Value};

/// How a list field merges, from the built-in schema table below.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListMerge {
    /// No merge strategy: the patch replaces the list.
    Replace,
    /// Associative list keyed by these fields (first is the primary key).
    Keys(Vec<String>),
    /// A list of scalars merged as a set (e.g. finalizers).
    Primitive,
}

/// Error from a malformed patch.
pub type SmpError = String;

/// Merges `patch` into `target`. Returns `None` when the patch deletes the whole object.
pub fn merge(target: &Value, patch: &Value) -> Result<Option<Value>, SmpError> {
    merge_with_schema(target, patch, None)
}

/// Like [`merge`], consulting a custom OpenAPI schema (kustomization `openapi:`) first.
pub fn merge_with_schema(
    target: &Value,
    patch: &Value,
    schema: Option<&Schema>,
) -> Result<Option<Value>, SmpError> {
    let gvk = Gvk::of(target);
    let custom = schema.and_then(|s| s.root_for(&gvk).map(|r| (s, r)));
    let ctx = Ctx {
        root: schema_root(&gvk),
        custom,
    };
    let mut path = Vec::new();
    merge_value(Some(target), Some(patch), &ctx, &mut path)
}

/// What decides list merging for the object being patched.
struct Ctx<'a> {
    root: Option<&'static [&'static str]>,
    custom: Option<(&'a Schema, String)>,
}

fn keys(k: &[&str]) -> Vec<String> {
    k.iter().map(|s| s.to_string()).collect()
}

/// A user-supplied OpenAPI document (`definitions` with `x-kubernetes-group-version-kind`).
#[derive(Debug, Clone, Default)]
pub struct Schema {
    defs: serde_json::Map<String, Value>,
    roots: Vec<(Gvk, String)>,
}

impl Schema {
    pub fn from_value(doc: &Value) -> Schema {
        let defs = doc
            .get("definitions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut roots = Vec::new();
        for (name, def) in &defs {
            for g in def
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                roots.push((
                    Gvk {
                        group: s("group"),
                        version: s("version"),
                        kind: s("kind"),
                    },
                    name.clone(),
                ));
            }
        }
        Schema { defs, roots }
    }

    fn root_for(&self, gvk: &Gvk) -> Option<String> {
        self.roots
            .iter()
            .find(|(g, _)| g == gvk)
            .map(|(_, n)| n.clone())
    }

    /// The list strategy of the field at `path` below definition `root`, if the schema describes it.
    /// References to Kubernetes pod types the document does not define fall back to the
    /// built-in table, as kustomize layers custom schemas over its Kubernetes schema.
    fn list_merge(&self, root: &str, path: &[String]) -> Option<ListMerge> {
        let mut node = self.defs.get(root)?;
        for (i, seg) in path.iter().enumerate() {
            node = match self.resolve_or_builtin(node, path.get(i..).unwrap_or(&[]))? {
                Ok(n) => n,
                Err(lm) => return Some(lm),
            };
            if let Some(items) = node.get("items") {
                node = match self.resolve_or_builtin(items, path.get(i..).unwrap_or(&[]))? {
                    Ok(n) => n,
                    Err(lm) => return Some(lm),
                };
            }
            let props = node.get("properties");
            node = match props.and_then(|p| p.get(seg)) {
                Some(n) => n,
                None => node.get("additionalProperties")?,
            };
        }
        let node = match self.resolve_or_builtin(node, &[])? {
            Ok(n) => n,
            Err(lm) => return Some(lm),
        };
        let strategy = node
            .get("x-kubernetes-patch-strategy")
            .and_then(Value::as_str)?;
        if !strategy.split(',').any(|s| s == "merge") {
            return Some(ListMerge::Replace);
        }
        if let Some(list) = node
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
        {
            return Some(ListMerge::Keys(
                list.iter()
                    .filter_map(|k| k.as_str().map(String::from))
                    .collect(),
            ));
        }
        match node
            .get("x-kubernetes-patch-merge-key")
            .and_then(Value::as_str)
        {
            Some(k) => Some(ListMerge::Keys(vec![k.to_string()])),
            None => Some(ListMerge::Primitive),
        }
    }

    /// Follows `$ref`s; an unknown Kubernetes pod type answers from the built-in table (`Err`).
    fn resolve_or_builtin<'a>(
        &'a self,
        mut node: &'a Value,
        rest: &[String],
    ) -> Option<Result<&'a Value, ListMerge>> {
        for _ in 0..32 {
            let Some(r) = node.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let name = r.strip_prefix("#/definitions/").unwrap_or(r);
            match self.defs.get(name) {
                Some(next) => node = next,
                None => {
                    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
                    let lm = match name {
                        "io.k8s.api.core.v1.PodTemplateSpec" => match rest.split_first() {
                            Some((&"spec", tail)) => pod_spec_list(tail),
                            _ => ListMerge::Replace,
                        },
                        "io.k8s.api.core.v1.PodSpec" => pod_spec_list(&rest),
                        "io.k8s.api.core.v1.Container" => {
                            let mut p = vec!["containers"];
                            p.extend(rest);
                            pod_spec_list(&p)
                        }
                        _ => return None,
                    };
                    return Some(Err(lm));
                }
            }
        }
        Some(Ok(node))
    }
}

/// Where pod specs sit inside the built-in workload kinds (kyaml's schema is Kubernetes 1.21).
fn schema_root(gvk: &Gvk) -> Option<&'static [&'static str]> {
    let api = gvk.api_version();
    let known = match (api.as_str(), gvk.kind.as_str()) {
        ("apps/v1", "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet") => {
            &["spec", "template", "spec"][..]
        }
        ("v1", "ReplicationController") => &["spec", "template", "spec"][..],
        ("batch/v1", "Job") => &["spec", "template", "spec"][..],
        ("batch/v1" | "batch/v1beta1", "CronJob") => {
            &["spec", "jobTemplate", "spec", "template", "spec"][..]
        }
        ("v1", "Pod") => &["spec"][..],
        ("v1", "PodTemplate") => &["template", "spec"][..],
        ("v1", "Service") => &["<service>"][..],
        ("v1", "ServiceAccount") => &["<serviceaccount>"][..],
        ("admissionregistration.k8s.io/v1" | "admissionregistration.k8s.io/v1beta1", _)
            if gvk.kind.ends_with("WebhookConfiguration") =>
        {
            &["<webhooks>"][..]
        }
        (_, _) if is_builtin_group(&gvk.group) => &["<meta>"][..],
        _ => return None,
    };
    Some(known)
}

fn is_builtin_group(group: &str) -> bool {
    group.is_empty() || (!group.contains('.') && !group.is_empty()) || group.ends_with(".k8s.io")
}

fn list_merge(ctx: &Ctx<'_>, path: &[String]) -> ListMerge {
    if let Some((schema, root)) = &ctx.custom
        && let Some(lm) = schema.list_merge(root, path)
    {
        return lm;
    }
    let Some(root) = ctx.root else {
        return ListMerge::Replace;
    };
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    if matches!(p.last(), Some(&"finalizers")) && p.len() >= 2 && p[p.len() - 2] == "metadata" {
        return ListMerge::Primitive;
    }
    if matches!(p.last(), Some(&"ownerReferences")) && p.len() >= 2 && p[p.len() - 2] == "metadata"
    {
        return ListMerge::Keys(keys(&["uid"]));
    }
    match root.first() {
        Some(&"<service>") => {
            return if p == ["spec", "ports"] {
                ListMerge::Keys(keys(&["port", "protocol"]))
            } else {
                ListMerge::Replace
            };
        }
        Some(&"<serviceaccount>") => {
            return if p == ["secrets"] {
                ListMerge::Keys(keys(&["name"]))
            } else {
                ListMerge::Replace
            };
        }
        Some(&"<webhooks>") => {
            return if p == ["webhooks"] {
                ListMerge::Keys(keys(&["name"]))
            } else {
                ListMerge::Replace
            };
        }
        Some(&"<meta>") => return ListMerge::Replace,
        _ => {}
    }
    let Some(rest) = p.strip_prefix(root) else {
        return ListMerge::Replace;
    };
    pod_spec_list(rest)
}

fn pod_spec_list(rest: &[&str]) -> ListMerge {
    match rest {
        ["containers" | "initContainers" | "ephemeralContainers"] => {
            ListMerge::Keys(keys(&["name"]))
        }
        ["volumes"] | ["imagePullSecrets"] | ["resourceClaims"] | ["schedulingGates"] => {
            ListMerge::Keys(keys(&["name"]))
        }
        ["hostAliases"] => ListMerge::Keys(keys(&["ip"])),
        ["topologySpreadConstraints"] => {
            ListMerge::Keys(keys(&["topologyKey", "whenUnsatisfiable"]))
        }
        [
            "containers" | "initContainers" | "ephemeralContainers",
            field,
        ] => match *field {
            "env" => ListMerge::Keys(keys(&["name"])),
            "ports" => ListMerge::Keys(keys(&["containerPort", "protocol"])),
            "volumeMounts" => ListMerge::Keys(keys(&["mountPath"])),
            "volumeDevices" => ListMerge::Keys(keys(&["devicePath"])),
            _ => ListMerge::Replace,
        },
        _ => ListMerge::Replace,
    }
}

/// Reads and strips a `$patch` directive from a map.
fn take_directive(m: &mut Map<String, Value>) -> Result<Option<String>, SmpError> {
    match m.remove("$patch") {
        None => Ok(None),
        Some(Value::String(s)) if s == "delete" || s == "replace" || s == "merge" => Ok(Some(s)),
        Some(other) => Err(format!(
            "unknown patch strategy '{}'",
            crate::kustomization::scalar_string(&other)
        )),
    }
}

fn merge_value(
    dest: Option<&Value>,
    patch: Option<&Value>,
    ctx: &Ctx<'_>,
    path: &mut Vec<String>,
) -> Result<Option<Value>, SmpError> {
    match (dest, patch) {
        (d, None) => Ok(d.cloned()),
        (_, Some(Value::Null)) => Ok(None),
        (Some(Value::Object(d)), Some(Value::Object(p))) => merge_map(Some(d), p, ctx, path),
        (None | Some(Value::Null), Some(Value::Object(p))) => merge_map(None, p, ctx, path),
        (Some(Value::Array(d)), Some(Value::Array(p))) => {
            merge_list(Some(d), p, ctx, path).map(Some)
        }
        (None | Some(Value::Null), Some(Value::Array(p))) => {
            merge_list(None, p, ctx, path).map(Some)
        }
        (_, Some(p)) => Ok(Some(p.clone())),
    }
}

fn merge_map(
    dest: Option<&Map<String, Value>>,
    patch: &Map<String, Value>,
    ctx: &Ctx<'_>,
    path: &mut Vec<String>,
) -> Result<Option<Value>, SmpError> {
    let mut patch = patch.clone();
    let directive = take_directive(&mut patch)?;
    let retain: Option<Vec<String>> = patch.remove("$retainKeys").and_then(|v| {
        v.as_array().map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
    });
    match directive.as_deref() {
        Some("delete") => return Ok(None),
        Some("replace") => return merge_map(None, &patch, ctx, path),
        _ => {}
    }
    // The keys the patch merges are all set or removed below: copying their
    // old values first would copy every patched subtree once per level.
    let merged_below = |key: &str| {
        patch.contains_key(key)
            && !key.starts_with("$setElementOrder/")
            && !key.starts_with("$deleteFromPrimitiveList/")
    };
    let mut out: Map<String, Value> = dest
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            (
                k.clone(),
                if merged_below(k) {
                    Value::Null
                } else {
                    v.clone()
                },
            )
        })
        .collect();
    // Directives about sibling lists are applied after the lists themselves merged.
    let mut orders: Vec<(String, Vec<Value>)> = Vec::new();
    let mut deletions: Vec<(String, Vec<Value>)> = Vec::new();
    for (key, pv) in &patch {
        if let Some(list) = key.strip_prefix("$setElementOrder/") {
            orders.push((list.to_string(), pv.as_array().cloned().unwrap_or_default()));
            continue;
        }
        if let Some(list) = key.strip_prefix("$deleteFromPrimitiveList/") {
            deletions.push((list.to_string(), pv.as_array().cloned().unwrap_or_default()));
            continue;
        }
        path.push(key.clone());
        let merged = merge_value(dest.and_then(|d| d.get(key)), Some(pv), ctx, path);
        path.pop();
        match merged? {
            Some(v) => {
                out.insert(key.clone(), v);
            }
            None => {
                out.remove(key);
            }
        }
    }
    for (list, remove) in deletions {
        if let Some(Value::Array(items)) = out.get_mut(&list) {
            items.retain(|i| !remove.contains(i));
        }
    }
    for (list, order) in orders {
        path.push(list.clone());
        let keys = match list_merge(ctx, path) {
            ListMerge::Keys(k) => k.first().cloned(),
            _ => None,
        };
        path.pop();
        if let Some(Value::Array(items)) = out.get_mut(&list) {
            reorder(items, &order, keys.as_deref());
        }
    }
    if let Some(keep) = retain {
        out.retain(|k, _| keep.iter().any(|r| r == k));
    }
    Ok(Some(Value::Object(out)))
}

/// Applies `$setElementOrder`: listed elements first in the given order, the rest after in their order.
fn reorder(items: &mut Vec<Value>, order: &[Value], key: Option<&str>) {
    let id = |v: &Value| -> Option<Value> {
        match key {
            Some(k) => v.get(k).cloned(),
            None => Some(v.clone()),
        }
    };
    let mut rest: Vec<Value> = std::mem::take(items);
    for o in order {
        let want = match key {
            Some(k) => o.get(k).cloned(),
            None => Some(o.clone()),
        };
        if let Some(pos) = rest.iter().position(|v| id(v).is_some() && id(v) == want) {
            items.push(rest.remove(pos));
        }
    }
    items.extend(rest);
}

fn element_keys(v: &Value, keys: &[String]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            v.get(k.as_str())
                .map(crate::kustomization::scalar_string)
                .unwrap_or_default()
        })
        .collect()
}

/// Two key tuples denote the same element when they agree wherever both are set
/// and share at least one value (a port without protocol matches the TCP one).
fn keys_match(a: &[String], b: &[String]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut common = false;
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
        } else if !x.is_empty() && !y.is_empty() {
            return false;
        }
    }
    common
}

fn merge_list(
    dest: Option<&Vec<Value>>,
    patch: &[Value],
    ctx: &Ctx<'_>,
    path: &mut Vec<String>,
) -> Result<Value, SmpError> {
    // A `- $patch: replace|delete|merge` element steers the whole list.
    let mut patch: Vec<Value> = patch.to_vec();
    let mut directive = None;
    if let Some(pos) = patch.iter().position(|e| {
        e.as_object()
            .is_some_and(|m| m.len() == 1 && m.contains_key("$patch"))
    }) {
        directive = patch
            .remove(pos)
            .get("$patch")
            .and_then(Value::as_str)
            .map(String::from);
    }
    match directive.as_deref() {
        // Replaced lists are still walked so nested directives and nulls are resolved.
        Some("replace") => return merge_list(None, &patch, ctx, path),
        Some("delete") => return Ok(Value::Array(Vec::new())),
        Some("merge") | None => {}
        Some(other) => return Err(format!("unknown patch strategy '{other}'")),
    }
    let strategy = list_merge(ctx, path);
    if strategy == ListMerge::Replace && directive.is_none() {
        // kyaml takes non-associative lists from the patch verbatim.
        return Ok(Value::Array(patch));
    }
    let Some(dest) = dest else {
        // Nothing to merge into: drop element-level delete directives and nulls.
        let mut out = Vec::new();
        for p in &patch {
            if let Some(v) = merge_value(None, Some(p), ctx, path)?
                && !(v.as_object().is_some_and(Map::is_empty) && p.get("$patch").is_some())
            {
                out.push(v);
            }
        }
        return Ok(Value::Array(out));
    };
    match strategy {
        ListMerge::Replace => Ok(Value::Array(patch)),
        ListMerge::Primitive => {
            let mut out: Vec<Value> = Vec::new();
            for v in patch.iter().chain(dest.iter()) {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Ok(Value::Array(out))
        }
        ListMerge::Keys(keys) => {
            let mut dest_items: Vec<Option<Value>> = dest.iter().cloned().map(Some).collect();
            let dest_keys: Vec<Vec<String>> = dest.iter().map(|d| element_keys(d, &keys)).collect();
            let mut added: Vec<Value> = Vec::new();
            for p in &patch {
                let pk = element_keys(p, &keys);
                let pos = dest_keys.iter().position(|dk| keys_match(dk, &pk));
                let existing = pos.and_then(|i| dest_items.get(i).cloned().flatten());
                let merged = merge_value(existing.as_ref(), Some(p), ctx, path)?;
                if let Some(i) = pos
                    && let Some(slot) = dest_items.get_mut(i)
                {
                    *slot = None;
                }
                match merged {
                    Some(v) if !v.as_object().is_some_and(Map::is_empty) => added.push(v),
                    _ => {}
                }
            }
            added.extend(dest_items.into_iter().flatten());
            Ok(Value::Array(added))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": spec}}})
    }

    #[test]
    fn merges_like_kustomize() {
        let cases = vec![
            (
                "containers merge by name, patched first",
                deploy(
                    json!({"containers": [{"name": "a", "image": "A"}, {"name": "b", "image": "B", "env": [{"name": "X", "value": "x"}, {"name": "Y", "value": "y"}]}]}),
                ),
                deploy(
                    json!({"containers": [{"name": "b", "image": "B2", "env": [{"name": "Z", "value": "z"}, {"name": "X", "value": "x2"}]}, {"name": "c", "image": "C"}]}),
                ),
                Some(deploy(
                    json!({"containers": [{"name": "b", "image": "B2", "env": [{"name": "Z", "value": "z"}, {"name": "X", "value": "x2"}, {"name": "Y", "value": "y"}]}, {"name": "c", "image": "C"}, {"name": "a", "image": "A"}]}),
                )),
            ),
            (
                "delete element and null field",
                deploy(
                    json!({"containers": [{"name": "a", "image": "A"}], "volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]}),
                ),
                deploy(
                    json!({"volumes": [{"name": "v", "$patch": "delete"}], "containers": [{"name": "a", "image": null}]}),
                ),
                Some(deploy(
                    json!({"containers": [{"name": "a"}], "volumes": [{"name": "w", "emptyDir": {}}]}),
                )),
            ),
            (
                "port without protocol matches",
                deploy(
                    json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}),
                ),
                deploy(
                    json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "name": "http"}]}]}),
                ),
                Some(deploy(
                    json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}]}]}),
                )),
            ),
            (
                "custom resources replace lists",
                json!({"apiVersion": "x.io/v1", "kind": "Foo", "spec": {"items": [{"name": "a", "v": 1}]}}),
                json!({"apiVersion": "x.io/v1", "kind": "Foo", "spec": {"items": [{"name": "b"}]}}),
                Some(
                    json!({"apiVersion": "x.io/v1", "kind": "Foo", "spec": {"items": [{"name": "b"}]}}),
                ),
            ),
            (
                "whole object delete",
                deploy(json!({})),
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "$patch": "delete"}),
                None,
            ),
            (
                "replace directive on map",
                deploy(json!({"securityContext": {"a": 1, "b": 2}})),
                deploy(json!({"securityContext": {"$patch": "replace", "c": 3}})),
                Some(deploy(json!({"securityContext": {"c": 3}}))),
            ),
            (
                "retainKeys and primitive list deletion",
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"finalizers": ["a", "b"]}, "spec": {"volumes": [{"name": "v", "emptyDir": {}}]}}),
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}, "spec": {"volumes": [{"name": "v", "hostPath": {"path": "/x"}, "$retainKeys": ["name", "hostPath"]}]}}),
                Some(
                    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"finalizers": ["b"]}, "spec": {"volumes": [{"name": "v", "hostPath": {"path": "/x"}}]}}),
                ),
            ),
        ];
        for (name, target, patch, want) in cases {
            assert_eq!(merge(&target, &patch).unwrap(), want, "{name}");
        }
    }

    #[test]
    fn set_element_order() {
        let target = deploy(json!({"containers": [{"name": "a"}, {"name": "b"}]}));
        let patch = deploy(json!({"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}));
        let got = merge(&target, &patch).unwrap().unwrap();
        assert_eq!(
            got["spec"]["template"]["spec"]["containers"],
            json!([{"name": "b"}, {"name": "a"}])
        );
    }
}
