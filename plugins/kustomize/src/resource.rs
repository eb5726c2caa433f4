//! An object being built plus the bookkeeping kustomize keeps in build
//! annotations (previous ids, prefixes and suffixes applied, generator
//! behaviour, hash-suffix request), kept here as typed fields instead.

use crate::resid::{Gvk, ResId};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Res {
    pub value: Value,
    pub origin: String,
    /// Ids held before renames, oldest first; namespaces stored as effective namespaces.
    pub prev: Vec<ResId>,
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    pub needs_hash: bool,
    /// Generator `behavior` (create, merge, replace); empty for plain resources.
    pub behavior: String,
    /// Names of legacy vars bound to this object.
    pub ref_vars: Vec<String>,
    /// For generated objects: the generator kind and its configuration's name (may be empty).
    pub generated_by: Option<(String, String)>,
    /// Rendered `alpha.config.kubernetes.io/transformations` entries (build metadata tracking).
    pub transformations: String,
    /// Rendered by Helm: the namespace transformer leaves these alone, as kustomize does.
    pub helm_generated: bool,
}

impl Res {
    pub fn new(value: Value, origin: &str) -> Res {
        Res {
            value,
            origin: origin.to_string(),
            prev: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            needs_hash: false,
            behavior: String::new(),
            ref_vars: Vec::new(),
            generated_by: None,
            transformations: String::new(),
            helm_generated: false,
        }
    }

    pub fn cur_id(&self) -> ResId {
        ResId::of(&self.value)
    }

    pub fn gvk(&self) -> Gvk {
        Gvk::of(&self.value)
    }

    /// The id the resource had when it entered the build.
    pub fn org_id(&self) -> ResId {
        self.prev.first().cloned().unwrap_or_else(|| self.cur_id())
    }

    /// Previous ids then the current one.
    pub fn all_ids(&self) -> Vec<ResId> {
        let mut v = self.prev.clone();
        v.push(self.cur_id());
        v
    }

    pub fn store_previous_id(&mut self) {
        let mut id = self.cur_id();
        id.namespace = id.effective_namespace().to_string();
        self.prev.push(id);
    }

    pub fn name(&self) -> &str {
        self.meta_str("name")
    }

    pub fn namespace(&self) -> &str {
        self.meta_str("namespace")
    }

    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    fn meta_str(&self, key: &str) -> &str {
        self.value
            .get("metadata")
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        metadata_mut(&mut self.value)
    }

    pub fn set_name(&mut self, name: &str) {
        self.metadata_mut()
            .insert("name".into(), Value::String(name.to_string()));
    }

    pub fn set_namespace(&mut self, ns: &str) {
        let meta = self.metadata_mut();
        if ns.is_empty() {
            meta.remove("namespace");
        } else {
            meta.insert("namespace".into(), Value::String(ns.to_string()));
        }
    }

    pub fn set_kind(&mut self, kind: &str) {
        if let Some(m) = self.value.as_object_mut() {
            m.insert("kind".into(), Value::String(kind.to_string()));
        }
    }

    pub fn string_map(&self, key: &str) -> BTreeMap<String, String> {
        string_map(self.value.get("metadata").and_then(|m| m.get(key)))
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        self.string_map("labels")
    }

    pub fn annotations(&self) -> BTreeMap<String, String> {
        self.string_map("annotations")
    }

    pub fn set_string_map(&mut self, key: &str, map: &BTreeMap<String, String>) {
        let meta = self.metadata_mut();
        if map.is_empty() {
            meta.remove(key);
        } else {
            let m: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            meta.insert(key.into(), Value::Object(m));
        }
    }
}

pub fn metadata_mut(value: &mut Value) -> &mut Map<String, Value> {
    let obj = force_object(value);
    force_object(
        obj.entry("metadata")
            .or_insert_with(|| Value::Object(Map::new())),
    )
}

/// Turns `v` into an (empty) object unless it already is one.
pub fn force_object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("the value was made an object just above"),
    }
}

pub fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), crate::kustomization::scalar_string(v)))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_renames() {
        let mut r = Res::new(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}),
            "f.yaml",
        );
        r.store_previous_id();
        r.set_name("p-a");
        assert_eq!(r.org_id().name, "a");
        assert_eq!(r.org_id().namespace, "default");
        assert_eq!(r.cur_id().name, "p-a");
        assert_eq!(r.all_ids().len(), 2);
    }
}
