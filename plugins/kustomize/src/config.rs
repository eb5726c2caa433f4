//! Transformer configuration: which fields each built-in transformer touches.
//! Starts from kustomize's defaults (kept as a compact table in
//! `default_config.txt`) and grows with `configurations` files and `crds`.

use crate::fieldspec::FieldSpec;
use crate::resid::Gvk;
use serde_json::Value;

/// "Resources of kind `gvk` are referred to by name from these fields."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameBackRef {
    pub gvk: Gvk,
    pub referrers: Vec<FieldSpec>,
}

/// Every list is only ever grown through [`push_unique`] (and [`TransformerConfig::add_name_ref`]),
/// so pushing a list's own entries again through it drops nothing: [`TransformerConfig::merge`]
/// relies on that to copy a list into an empty one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransformerConfig {
    pub name_prefix: Vec<FieldSpec>,
    pub name_suffix: Vec<FieldSpec>,
    pub namespace: Vec<FieldSpec>,
    pub common_labels: Vec<FieldSpec>,
    pub labels: Vec<FieldSpec>,
    pub template_labels: Vec<FieldSpec>,
    pub volume_claim_template_labels: Vec<FieldSpec>,
    pub common_annotations: Vec<FieldSpec>,
    pub var_reference: Vec<FieldSpec>,
    pub images: Vec<FieldSpec>,
    pub replicas: Vec<FieldSpec>,
    pub name_reference: Vec<NameBackRef>,
}

const DEFAULT_TABLE: &str = include_str!("default_config.txt");

/// kustomize's FsSlice merge: an incoming spec is dropped when an existing one for the same
/// path is selected by the incoming gvk (so a kind-specific spec shadows a later generic one).
pub fn push_unique(list: &mut Vec<FieldSpec>, fs: FieldSpec) {
    if !list
        .iter()
        .any(|x| x.path == fs.path && x.gvk.is_selected_by(&fs.gvk))
    {
        list.push(fs);
    }
}

impl TransformerConfig {
    /// kustomize's built-in configuration, built once per instance: every
    /// kustomization of a build merges it, and building it is quadratic.
    pub fn defaults() -> &'static TransformerConfig {
        static DEFAULTS: std::sync::OnceLock<TransformerConfig> = std::sync::OnceLock::new();
        DEFAULTS.get_or_init(TransformerConfig::parse_defaults)
    }

    fn parse_defaults() -> TransformerConfig {
        let mut tc = TransformerConfig::default();
        for line in DEFAULT_TABLE.lines() {
            let cols: Vec<&str> = line.split('|').collect();
            match cols.as_slice() {
                ["nameReference", g, v, k, rg, rv, rk, path] => {
                    let gvk = Gvk {
                        group: (*g).into(),
                        version: (*v).into(),
                        kind: (*k).into(),
                    };
                    tc.add_name_ref(gvk, FieldSpec::new(rg, rv, rk, path, false));
                }
                [section, g, v, k, path, create] => {
                    let fs = FieldSpec::new(g, v, k, path, *create == "c");
                    if let Some(list) = tc.section_mut(section) {
                        push_unique(list, fs);
                    }
                }
                _ => {}
            }
        }
        tc
    }

    fn section_mut(&mut self, name: &str) -> Option<&mut Vec<FieldSpec>> {
        Some(match name {
            "namePrefix" => &mut self.name_prefix,
            "nameSuffix" => &mut self.name_suffix,
            "namespace" => &mut self.namespace,
            "commonLabels" => &mut self.common_labels,
            "labels" => &mut self.labels,
            "templateLabels" => &mut self.template_labels,
            "volumeClaimTemplateLabels" => &mut self.volume_claim_template_labels,
            "commonAnnotations" => &mut self.common_annotations,
            "varReference" => &mut self.var_reference,
            "images" => &mut self.images,
            "replicas" => &mut self.replicas,
            _ => return None,
        })
    }

    pub fn add_name_ref(&mut self, gvk: Gvk, fs: FieldSpec) {
        if let Some(br) = self.name_reference.iter_mut().find(|b| b.gvk == gvk) {
            push_unique(&mut br.referrers, fs);
        } else {
            self.name_reference.push(NameBackRef {
                gvk,
                referrers: vec![fs],
            });
        }
    }

    /// Adds the entries of one `configurations` document.
    pub fn merge_document(&mut self, doc: &Value) -> Result<(), String> {
        let Some(map) = doc.as_object() else {
            return Err("a transformer configuration must be a mapping".into());
        };
        for (key, entries) in map {
            let Some(items) = entries.as_array() else {
                if entries.is_null() {
                    continue;
                }
                return Err(format!("'{key}' must be a list of field specs"));
            };
            if key == "nameReference" {
                for item in items {
                    let gvk = Gvk {
                        group: str_of(item, "group"),
                        version: str_of(item, "version"),
                        kind: str_of(item, "kind"),
                    };
                    for fs in item
                        .get("fieldSpecs")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(fs) = FieldSpec::from_value(fs) {
                            self.add_name_ref(gvk.clone(), fs);
                        }
                    }
                }
                continue;
            }
            let Some(list) = self.section_mut(key) else {
                // kustomize ignores sections it has no transformer for (e.g. nameSpace spellings).
                continue;
            };
            for item in items {
                if let Some(fs) = FieldSpec::from_value(item) {
                    push_unique(list, fs);
                }
            }
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        *self == TransformerConfig::default()
    }

    /// [`TransformerConfig::merge`], without a copy when this one is empty.
    pub fn merge_owned(&mut self, other: TransformerConfig) {
        if self.is_empty() {
            *self = other;
        } else {
            self.merge(&other);
        }
    }

    /// Adds `other`'s entries that no entry here shadows (kustomize's merge of
    /// two configurations).
    pub fn merge(&mut self, other: &TransformerConfig) {
        // Both shortcuts give what the loops below would: merging a
        // configuration into itself adds nothing, and into an empty one
        // copies it (see the type's invariant).
        if *self == *other {
            return;
        }
        if self.is_empty() {
            self.clone_from(other);
            return;
        }
        for (mine, theirs) in [
            (&mut self.name_prefix, &other.name_prefix),
            (&mut self.name_suffix, &other.name_suffix),
            (&mut self.namespace, &other.namespace),
            (&mut self.common_labels, &other.common_labels),
            (&mut self.labels, &other.labels),
            (&mut self.template_labels, &other.template_labels),
            (
                &mut self.volume_claim_template_labels,
                &other.volume_claim_template_labels,
            ),
            (&mut self.common_annotations, &other.common_annotations),
            (&mut self.var_reference, &other.var_reference),
            (&mut self.images, &other.images),
            (&mut self.replicas, &other.replicas),
        ] {
            for fs in theirs {
                push_unique(mine, fs.clone());
            }
        }
        for br in &other.name_reference {
            for fs in &br.referrers {
                self.add_name_ref(br.gvk.clone(), fs.clone());
            }
        }
    }
}

fn str_of(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load() {
        let tc = TransformerConfig::defaults();
        assert_eq!(tc.name_prefix.len(), 1);
        assert!(
            tc.common_labels
                .iter()
                .any(|f| f.path == "spec/selector/matchLabels" && f.gvk.kind == "Deployment")
        );
        let cm = tc
            .name_reference
            .iter()
            .find(|b| b.gvk.kind == "ConfigMap")
            .unwrap();
        assert!(
            cm.referrers
                .iter()
                .any(|f| f.path == "spec/template/spec/containers/envFrom/configMapRef/name")
        );
    }

    #[test]
    fn merge_user_document() {
        let mut tc = TransformerConfig::default();
        let doc = serde_json::json!({
            "commonLabels": [{"path": "spec/x", "kind": "Foo", "create": true}],
            "nameReference": [{"kind": "Bar", "fieldSpecs": [{"path": "spec/barRef", "kind": "Foo"}]}]
        });
        tc.merge_document(&doc).unwrap();
        tc.merge_document(&doc).unwrap();
        assert_eq!(tc.common_labels.len(), 1);
        assert_eq!(tc.name_reference[0].referrers.len(), 1);
    }
}
