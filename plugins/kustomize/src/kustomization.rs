//! The kustomization file model (`kustomize.config.k8s.io/v1beta1` Kustomization
//! and `v1alpha1` Component), its loading rules and the legacy-field fix-ups
//! kustomize applies before building.

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::BTreeMap;

pub const KUSTOMIZATION_VERSION: &str = "kustomize.config.k8s.io/v1beta1";
pub const COMPONENT_VERSION: &str = "kustomize.config.k8s.io/v1alpha1";

/// The file names kustomize recognises, in its lookup order.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Accepts any YAML scalar where kustomize wants a string (YAML may type `true` or `1`).
fn string_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let raw: Option<BTreeMap<String, Value>> = Option::deserialize(d)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, scalar_string(&v)))
        .collect())
}

fn opt_string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let raw: Option<BTreeMap<String, Value>> = Option::deserialize(d)?;
    Ok(raw.map(|m| m.into_iter().map(|(k, v)| (k, scalar_string(&v))).collect()))
}

fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let raw: Option<Vec<Value>> = Option::deserialize(d)?;
    Ok(raw.unwrap_or_default().iter().map(scalar_string).collect())
}

fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let raw: Option<Value> = Option::deserialize(d)?;
    Ok(raw.as_ref().map(scalar_string).unwrap_or_default())
}

pub fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Kustomization {
    #[serde(default, deserialize_with = "opt_string")]
    pub api_version: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub kind: String,
    /// Accepted (kustomize allows it) but has no effect on the build.
    #[allow(dead_code)]
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default, deserialize_with = "string_map")]
    pub openapi: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub name_prefix: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub name_suffix: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub namespace: String,
    #[serde(default, deserialize_with = "string_map")]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: Option<Vec<Label>>,
    #[serde(default, deserialize_with = "string_map")]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "string_list")]
    pub patches_strategic_merge: Vec<String>,
    #[serde(default)]
    pub patches_json6902: Option<Vec<Patch>>,
    #[serde(default)]
    pub patches: Option<Vec<Patch>>,
    #[serde(default)]
    pub images: Option<Vec<Image>>,
    #[serde(default)]
    pub image_tags: Option<Vec<Image>>,
    #[serde(default)]
    pub replacements: Option<Vec<Value>>,
    #[serde(default)]
    pub replicas: Option<Vec<Replica>>,
    #[serde(default)]
    pub vars: Option<Vec<Var>>,
    #[serde(default)]
    pub sort_options: Option<SortOptions>,
    #[serde(default, deserialize_with = "string_list")]
    pub resources: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub components: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub crds: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub bases: Vec<String>,
    #[serde(default)]
    pub config_map_generator: Option<Vec<GeneratorArgs>>,
    #[serde(default)]
    pub secret_generator: Option<Vec<GeneratorArgs>>,
    #[serde(default)]
    pub helm_globals: Option<Value>,
    #[serde(default)]
    pub helm_charts: Option<Vec<Value>>,
    #[serde(default)]
    pub helm_chart_inflation_generator: Option<Vec<Value>>,
    #[serde(default)]
    pub generator_options: Option<GeneratorOptions>,
    #[serde(default, deserialize_with = "string_list")]
    pub configurations: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub generators: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub transformers: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub validators: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub build_metadata: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Label {
    #[serde(default, deserialize_with = "string_map")]
    pub pairs: BTreeMap<String, String>,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
    #[serde(default)]
    pub include_volume_claim_templates: bool,
    #[serde(default)]
    pub fields: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    #[serde(default, deserialize_with = "opt_string")]
    pub group: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub version: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub kind: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub name: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub namespace: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub label_selector: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub annotation_selector: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchOptions {
    #[serde(default)]
    pub allow_name_change: bool,
    #[serde(default)]
    pub allow_kind_change: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Patch {
    #[serde(default, deserialize_with = "opt_string")]
    pub path: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub patch: String,
    #[serde(default)]
    pub target: Option<Selector>,
    #[serde(default)]
    pub options: Option<PatchOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    #[serde(default, deserialize_with = "opt_string")]
    pub name: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub new_name: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub new_tag: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub digest: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub tag_suffix: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replica {
    #[serde(default, deserialize_with = "opt_string")]
    pub name: String,
    #[serde(default)]
    pub count: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VarTarget {
    #[serde(default, deserialize_with = "opt_string")]
    pub group: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub version: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub kind: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub name: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub namespace: String,
    #[serde(default, alias = "apiversion", deserialize_with = "opt_string")]
    pub api_version: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldRef {
    // Go's JSON decoding matches keys case-insensitively; `fieldpath` is common in the wild.
    #[serde(default, alias = "fieldpath", deserialize_with = "opt_string")]
    pub field_path: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Var {
    #[serde(default, deserialize_with = "opt_string")]
    pub name: String,
    #[serde(default)]
    pub objref: VarTarget,
    #[serde(default)]
    pub fieldref: FieldRef,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacySortOptions {
    #[serde(default, deserialize_with = "string_list")]
    pub order_first: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub order_last: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SortOptions {
    #[serde(default, deserialize_with = "opt_string")]
    pub order: String,
    #[serde(default)]
    pub legacy_sort_options: Option<LegacySortOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorOptions {
    #[serde(default, deserialize_with = "opt_string_map")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "opt_string_map")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub disable_name_suffix_hash: Option<bool>,
    #[serde(default)]
    pub immutable: Option<bool>,
}

impl GeneratorOptions {
    /// Local options win over the kustomization-wide ones; maps are unioned (local keys win).
    pub fn merged_over(
        local: Option<&GeneratorOptions>,
        global: Option<&GeneratorOptions>,
    ) -> GeneratorOptions {
        let mut out = GeneratorOptions::default();
        let union = |g: Option<&BTreeMap<String, String>>, l: Option<&BTreeMap<String, String>>| {
            if g.is_none() && l.is_none() {
                return None;
            }
            let mut m = g.cloned().unwrap_or_default();
            m.extend(l.cloned().unwrap_or_default());
            Some(m)
        };
        out.labels = union(
            global.and_then(|g| g.labels.as_ref()),
            local.and_then(|l| l.labels.as_ref()),
        );
        out.annotations = union(
            global.and_then(|g| g.annotations.as_ref()),
            local.and_then(|l| l.annotations.as_ref()),
        );
        out.disable_name_suffix_hash = Some(
            global
                .and_then(|g| g.disable_name_suffix_hash)
                .unwrap_or(false)
                || local
                    .and_then(|l| l.disable_name_suffix_hash)
                    .unwrap_or(false),
        );
        out.immutable = Some(
            global.and_then(|g| g.immutable).unwrap_or(false)
                || local.and_then(|l| l.immutable).unwrap_or(false),
        );
        out
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorArgs {
    #[serde(default, deserialize_with = "opt_string")]
    pub namespace: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub name: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub behavior: String,
    #[serde(default, deserialize_with = "string_list")]
    pub literals: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub files: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub envs: Vec<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub env: String,
    #[serde(default)]
    pub options: Option<GeneratorOptions>,
    /// Secrets only.
    #[serde(default, rename = "type", deserialize_with = "opt_string")]
    pub type_: String,
}

/// Field names of the kustomization and of its nested entries. Go's JSON decoding, which
/// kustomize uses, matches keys case-insensitively, so `nameprefix` means `namePrefix`.
const TOP_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "openapi",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "images",
    "imageTags",
    "replacements",
    "replicas",
    "vars",
    "sortOptions",
    "resources",
    "components",
    "crds",
    "bases",
    "configMapGenerator",
    "secretGenerator",
    "helmGlobals",
    "helmCharts",
    "helmChartInflationGenerator",
    "generatorOptions",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "buildMetadata",
];

/// The fields of the structs that sit under a kustomization key (maps of user data are not listed).
fn nested_fields(key: &str) -> Option<&'static [&'static str]> {
    Some(match key {
        "labels" => &[
            "pairs",
            "includeSelectors",
            "includeTemplates",
            "includeVolumeClaimTemplates",
            "fields",
        ],
        "patchesJson6902" | "patches" => &["path", "patch", "target", "options"],
        "target" => &[
            "group",
            "version",
            "kind",
            "name",
            "namespace",
            "labelSelector",
            "annotationSelector",
        ],
        "options" => &[
            "allowNameChange",
            "allowKindChange",
            "labels",
            "annotations",
            "disableNameSuffixHash",
            "immutable",
        ],
        "images" | "imageTags" => &["name", "newName", "newTag", "digest", "tagSuffix"],
        "replicas" => &["name", "count"],
        "vars" => &["name", "objref", "fieldref"],
        "objref" => &[
            "group",
            "version",
            "kind",
            "name",
            "namespace",
            "apiVersion",
        ],
        "fieldref" => &["fieldPath"],
        "sortOptions" => &["order", "legacySortOptions"],
        "legacySortOptions" => &["orderFirst", "orderLast"],
        "configMapGenerator" | "secretGenerator" => &[
            "namespace",
            "name",
            "behavior",
            "literals",
            "files",
            "envs",
            "env",
            "options",
            "type",
        ],
        "generatorOptions" => &[
            "labels",
            "annotations",
            "disableNameSuffixHash",
            "immutable",
        ],
        _ => return None,
    })
}

fn normalize_keys(v: &mut Value, fields: &[&str], depth: usize) {
    if depth > 4 {
        return;
    }
    let items: Vec<&mut Value> = match v {
        Value::Array(a) => a.iter_mut().collect(),
        other => vec![other],
    };
    for item in items {
        let Some(map) = item.as_object_mut() else {
            continue;
        };
        let renames: Vec<(String, &str)> = map
            .keys()
            .filter(|k| !fields.contains(&k.as_str()))
            .filter_map(|k| {
                fields
                    .iter()
                    .find(|f| f.eq_ignore_ascii_case(k))
                    .map(|f| (k.clone(), *f))
            })
            .collect();
        for (from, to) in renames {
            if let Some(val) = map.remove(&from) {
                map.entry(to.to_string()).or_insert(val);
            }
        }
        for (key, child) in map.iter_mut() {
            // `labels`/`annotations` inside options are user maps, not structs.
            if depth > 0 && (key == "labels" || key == "annotations") {
                continue;
            }
            if let Some(sub) = nested_fields(key) {
                normalize_keys(child, sub, depth + 1);
            }
        }
    }
}

impl Kustomization {
    /// Parses one kustomization document. Errors are plain messages; the caller adds the file.
    pub fn from_value(v: &Value) -> Result<Kustomization, String> {
        if v.is_null() {
            return Err("kustomization.yaml is empty".into());
        }
        if v.as_object()
            .is_some_and(|m| m.keys().all(|k| k == "apiVersion" || k == "kind"))
        {
            return Err("kustomization.yaml is empty".into());
        }
        let mut v = v.clone();
        normalize_keys(&mut v, TOP_FIELDS, 0);
        let mut k: Kustomization =
            Kustomization::deserialize(&v).map_err(|e| format!("invalid Kustomization: {e}"))?;
        k.fix();
        k.enforce()?;
        Ok(k)
    }

    fn fix(&mut self) {
        if self.kind.is_empty() {
            self.kind = "Kustomization".into();
        }
        if self.api_version.is_empty() {
            self.api_version = if self.kind == "Component" {
                COMPONENT_VERSION.into()
            } else {
                KUSTOMIZATION_VERSION.into()
            };
        }
        let bases = std::mem::take(&mut self.bases);
        self.resources.extend(bases);
        if let Some(tags) = self.image_tags.take() {
            self.images.get_or_insert_with(Vec::new).extend(tags);
        }
        for g in self
            .config_map_generator
            .iter_mut()
            .flatten()
            .chain(self.secret_generator.iter_mut().flatten())
        {
            if !g.env.is_empty() {
                let e = std::mem::take(&mut g.env);
                g.envs.push(e);
            }
        }
    }

    fn enforce(&self) -> Result<(), String> {
        let mut errs = Vec::new();
        if self.kind != "Kustomization" && self.kind != "Component" {
            errs.push("kind should be Kustomization or Component".to_string());
        }
        let required = if self.kind == "Component" {
            COMPONENT_VERSION
        } else {
            KUSTOMIZATION_VERSION
        };
        if self.api_version != required {
            errs.push(format!("apiVersion for {} should be {required}", self.kind));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("; "))
        }
    }

    pub fn is_component(&self) -> bool {
        self.kind == "Component"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_fixes() {
        let cases = [
            (
                json!({"resources": ["a.yaml"], "bases": ["../b"]}),
                Ok(vec!["a.yaml", "../b"]),
            ),
            (
                json!({"kind": "Component", "apiVersion": KUSTOMIZATION_VERSION, "resources": ["x"]}),
                Err("apiVersion for Component"),
            ),
            (json!({"resourcez": ["a"]}), Err("unknown field")),
            (
                json!({"apiVersion": KUSTOMIZATION_VERSION, "kind": "Kustomization"}),
                Err("is empty"),
            ),
        ];
        for (input, want) in cases {
            match (Kustomization::from_value(&input), want) {
                (Ok(k), Ok(res)) => assert_eq!(k.resources, res),
                (Err(e), Err(frag)) => assert!(e.contains(frag), "{e}"),
                (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn keys_match_case_insensitively_like_go() {
        let k = Kustomization::from_value(&json!({
            "nameprefix": "p-",
            "commonLabels": {"Name": "x"},
            "vars": [{"name": "V", "objref": {"kind": "Service", "name": "s", "apiversion": "v1"}, "fieldref": {"fieldpath": "spec.x"}}],
            "configmapgenerator": [{"name": "c", "options": {"labels": {"DisableNameSuffixHash": "kept"}}}]
        }))
        .unwrap();
        assert_eq!(k.name_prefix, "p-");
        assert!(k.common_labels.contains_key("Name"));
        let v = &k.vars.unwrap()[0];
        assert_eq!(
            (
                v.objref.api_version.as_str(),
                v.fieldref.field_path.as_str()
            ),
            ("v1", "spec.x")
        );
        let g = &k.config_map_generator.unwrap()[0];
        assert!(
            g.options
                .as_ref()
                .unwrap()
                .labels
                .as_ref()
                .unwrap()
                .contains_key("DisableNameSuffixHash")
        );
    }

    #[test]
    fn generator_options_merge() {
        let g = GeneratorOptions {
            disable_name_suffix_hash: Some(true),
            ..Default::default()
        };
        let l = GeneratorOptions {
            labels: Some([("a".to_string(), "b".to_string())].into()),
            ..Default::default()
        };
        let m = GeneratorOptions::merged_over(Some(&l), Some(&g));
        assert_eq!(m.disable_name_suffix_hash, Some(true));
        assert_eq!(m.labels.unwrap().get("a").map(String::as_str), Some("b"));
    }
}
