//! The built-in transformers of one kustomization, run in kustomize's order:
//! strategic-merge patches, patches, namespace, name prefix, name suffix,
//! labels, annotations, JSON 6902 patches, replicas, images, replacements.
//! Also the `transformers:`/`generators:` entries that configure built-ins.

use crate::Error;
use crate::build::{Acc, Loader};
use crate::config::{TransformerConfig, push_unique};
use crate::fieldspec::{Create, FieldSpec, split_path, split_paths, walk};
use crate::kustomization::{
    GeneratorArgs, GeneratorOptions, Image, Kustomization, Patch, Replica, scalar_string,
};
use crate::resid::{Gvk, ResId};
use crate::resource::Res;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub fn run_builtin(ldr: &Loader<'_>, k: &Kustomization, acc: &mut Acc) -> Result<(), Error> {
    if !k.patches_strategic_merge.is_empty() {
        crate::patches::strategic_merge_entries(ldr, &k.patches_strategic_merge, &mut acc.res)
            .map_err(|e| e.context("patchesStrategicMerge"))?;
        record(ldr, acc, "PatchStrategicMergeTransformer", None);
    }
    for p in k.patches.iter().flatten() {
        crate::patches::patch_entry(ldr, p, &mut acc.res, false)
            .map_err(|e| e.context("patches"))?;
        record(ldr, acc, "PatchTransformer", None);
    }
    if !k.namespace.is_empty() {
        namespace(&mut acc.res, &k.namespace, &acc.config.namespace)
            .map_err(|m| Error::invalid(&ldr.kfile, m))?;
        record(ldr, acc, "NamespaceTransformer", None);
    }
    if !k.name_prefix.is_empty() {
        prefix_suffix(&mut acc.res, &k.name_prefix, "", &acc.config.name_prefix)
            .map_err(|m| Error::invalid(&ldr.kfile, m))?;
        record(ldr, acc, "PrefixTransformer", None);
    }
    if !k.name_suffix.is_empty() {
        prefix_suffix(&mut acc.res, "", &k.name_suffix, &acc.config.name_suffix)
            .map_err(|m| Error::invalid(&ldr.kfile, m))?;
        record(ldr, acc, "SuffixTransformer", None);
    }
    for l in k.labels.iter().flatten() {
        let mut specs: Vec<FieldSpec> = l
            .fields
            .iter()
            .flatten()
            .filter_map(FieldSpec::from_value)
            .collect();
        for fs in &acc.config.labels {
            push_unique(&mut specs, fs.clone());
        }
        if l.include_selectors {
            for fs in &acc.config.common_labels {
                push_unique(&mut specs, fs.clone());
            }
        } else {
            if l.include_templates {
                for fs in &acc.config.template_labels {
                    push_unique(&mut specs, fs.clone());
                }
            }
            if l.include_volume_claim_templates {
                for fs in &acc.config.volume_claim_template_labels {
                    push_unique(&mut specs, fs.clone());
                }
            }
            push_unique(
                &mut specs,
                FieldSpec::new("", "", "", "metadata/labels", true),
            );
        }
        let pairs: Vec<(String, String)> = l
            .pairs
            .iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        add_map_entries(&mut acc.res, &pairs, &specs).map_err(|m| Error::invalid(&ldr.kfile, m))?;
        record(ldr, acc, "LabelTransformer", None);
    }
    // kustomize runs one label transformer for commonLabels whenever any labels are configured.
    if !k.common_labels.is_empty() || k.labels.as_ref().is_some_and(|l| !l.is_empty()) {
        let pairs: Vec<(String, String)> = k
            .common_labels
            .iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        add_map_entries(&mut acc.res, &pairs, &acc.config.common_labels)
            .map_err(|m| Error::invalid(&ldr.kfile, m))?;
        record(ldr, acc, "LabelTransformer", None);
    }
    if !k.common_annotations.is_empty() {
        let pairs: Vec<(String, String)> = k
            .common_annotations
            .iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        add_map_entries(&mut acc.res, &pairs, &acc.config.common_annotations)
            .map_err(|m| Error::invalid(&ldr.kfile, m))?;
        record(ldr, acc, "AnnotationsTransformer", None);
    }
    for p in k.patches_json6902.iter().flatten() {
        crate::patches::patch_entry(ldr, p, &mut acc.res, true)
            .map_err(|e| e.context("patchesJson6902"))?;
        record(ldr, acc, "PatchJson6902Transformer", None);
    }
    for r in k.replicas.iter().flatten() {
        replicas(&mut acc.res, r, &acc.config.replicas)
            .map_err(|m| Error::invalid(&ldr.kfile, m))?;
        record(ldr, acc, "ReplicaCountTransformer", None);
    }
    for img in k.images.iter().flatten() {
        images(&mut acc.res, img, &acc.config.images).map_err(|m| Error::invalid(&ldr.kfile, m))?;
        record(ldr, acc, "ImageTagTransformer", None);
    }
    if let Some(reps) = &k.replacements {
        crate::replacements::run(ldr, reps, &mut acc.res)?;
        record(ldr, acc, "ReplacementTransformer", None);
    }
    Ok(())
}

/// With build metadata tracking on, notes on every object that this transformer ran
/// (kustomize's `alpha.config.kubernetes.io/transformations` annotation).
fn record(ldr: &Loader<'_>, acc: &mut Acc, kind: &str, conf: Option<(&Value, &str)>) {
    let Some(root) = &ldr.track else { return };
    let configured_in = conf.map(|(_, src)| src).unwrap_or(&ldr.kfile);
    let mut entry = format!(
        "- configuredIn: {}\n  configuredBy:\n    apiVersion: builtin\n    kind: {kind}\n",
        crate::build::relative(root, configured_in)
    );
    if let Some((doc, _)) = conf {
        for key in ["name", "namespace"] {
            if let Some(v) = doc
                .pointer(&format!("/metadata/{key}"))
                .and_then(Value::as_str)
            {
                entry.push_str(&format!("    {key}: {v}\n"));
            }
        }
    }
    for r in &mut acc.res {
        r.transformations.push_str(&entry);
    }
}

/// Sets `key: value` entries into the map at each field spec (labels, annotations).
pub fn add_map_entries(
    res: &mut [Res],
    pairs: &[(String, String)],
    specs: &[FieldSpec],
) -> Result<(), String> {
    if pairs.is_empty() {
        return Ok(());
    }
    let paths = split_paths(specs);
    for r in res.iter_mut() {
        let gvk = r.gvk();
        for (fs, path) in specs.iter().zip(&paths) {
            if !gvk.is_selected_by(&fs.gvk) {
                continue;
            }
            let id = r.cur_id();
            walk(&mut r.value, path, fs.create, Create::Map, &mut |v| {
                let m = crate::resource::force_object(v);
                for (k, val) in pairs {
                    m.insert(k.clone(), Value::String(val.clone()));
                }
                Ok(())
            })
            .map_err(|m| format!("considering field '{}' of object {id}: {m}", fs.path))?;
        }
    }
    Ok(())
}

/// Sets entries into `metadata.<key>` of one resource.
pub fn set_map_entries(r: &mut Res, key: &str, pairs: &[(String, String)]) {
    let meta = r.metadata_mut();
    let m =
        crate::resource::force_object(meta.entry(key).or_insert_with(|| Value::Object(Map::new())));
    for (k, v) in pairs {
        m.insert(k.clone(), Value::String(v.clone()));
    }
}

fn namespace(res: &mut [Res], ns: &str, specs: &[FieldSpec]) -> Result<(), String> {
    let paths = split_paths(specs);
    for r in res.iter_mut() {
        if r.helm_generated {
            continue;
        }
        r.store_previous_id();
        let gvk = r.gvk();
        if !gvk.is_cluster_scoped() {
            r.metadata_mut()
                .insert("namespace".into(), Value::String(ns.to_string()));
        }
        let api = r
            .value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let is_binding = gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding";
        if is_binding && let Some(Value::Array(subjects)) = r.value.get_mut("subjects") {
            for s in subjects.iter_mut() {
                if s.get("name").and_then(Value::as_str) == Some("default")
                    && let Some(o) = s.as_object_mut()
                {
                    o.insert("namespace".into(), Value::String(ns.to_string()));
                }
            }
        }
        for (fs, path) in specs.iter().zip(&paths) {
            if fs.path == "metadata/namespace" || (fs.path == "metadata/name" && api != "v1") {
                continue;
            }
            if is_binding
                && fs.path == "subjects/namespace"
                && (fs.gvk.kind == "RoleBinding" || fs.gvk.kind == "ClusterRoleBinding")
            {
                continue;
            }
            if !gvk.is_selected_by(&fs.gvk) {
                continue;
            }
            walk(&mut r.value, path, fs.create, Create::Scalar, &mut |v| {
                *v = Value::String(ns.to_string());
                Ok(())
            })
            .map_err(|m| {
                format!(
                    "namespace field specs must target scalar nodes ('{}'): {m}",
                    fs.path
                )
            })?;
        }
    }
    Ok(())
}

fn prefix_suffix(
    res: &mut [Res],
    prefix: &str,
    suffix: &str,
    specs: &[FieldSpec],
) -> Result<(), String> {
    let skip = [
        Gvk {
            kind: "CustomResourceDefinition".into(),
            ..Default::default()
        },
        Gvk {
            group: "apiregistration.k8s.io".into(),
            kind: "APIService".into(),
            ..Default::default()
        },
        Gvk {
            kind: "Namespace".into(),
            ..Default::default()
        },
    ];
    let paths = split_paths(specs);
    for r in res.iter_mut() {
        let org = r.org_id();
        if skip.iter().any(|s| org.gvk.is_selected_by(s)) {
            continue;
        }
        for (fs, path) in specs.iter().zip(&paths) {
            if !org.gvk.is_selected_by(&fs.gvk) {
                continue;
            }
            if fs.path == "metadata/name" {
                if !prefix.is_empty() {
                    r.prefixes.push(prefix.to_string());
                }
                if !suffix.is_empty() {
                    r.suffixes.push(suffix.to_string());
                }
                r.store_previous_id();
            }
            if !r.gvk().is_selected_by(&fs.gvk) {
                continue;
            }
            walk(&mut r.value, path, false, Create::Never, &mut |v| {
                if let Value::String(s) = v {
                    *s = format!("{prefix}{s}{suffix}");
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

fn replicas(res: &mut [Res], rep: &Replica, specs: &[FieldSpec]) -> Result<(), String> {
    let mut found = false;
    // Each object's ids, worked out again only after a walk changed the object.
    let mut ids: Vec<Option<Vec<ResId>>> = vec![None; res.len()];
    for fs in specs {
        let path = split_path(&fs.path);
        for (r, ids) in res.iter_mut().zip(&mut ids) {
            if !ids
                .get_or_insert_with(|| r.all_ids())
                .iter()
                .any(|id| id.name == rep.name && id.gvk.is_selected_by(&fs.gvk))
            {
                continue;
            }
            found = true;
            *ids = None;
            walk(&mut r.value, &path, fs.create, Create::Scalar, &mut |v| {
                *v = Value::from(rep.count);
                Ok(())
            })?;
        }
    }
    if !found {
        return Err(format!(
            "replicas: resource with name {} does not match a config with the following GVK {:?}",
            rep.name,
            specs
                .iter()
                .map(|f| f.gvk.kind.as_str())
                .collect::<Vec<_>>()
        ));
    }
    Ok(())
}

fn images(res: &mut [Res], img: &Image, specs: &[FieldSpec]) -> Result<(), String> {
    let re = crate::pattern::ImageName::new(&img.name);
    let update = |v: &mut Value| {
        if let Value::String(s) = v
            && re.is_match(s)
        {
            *s = new_image(s, img);
        }
    };
    let paths = split_paths(specs);
    for r in res.iter_mut() {
        if r.kind() == "CustomResourceDefinition" {
            continue;
        }
        legacy_containers(&mut r.value, &update);
        let gvk = r.gvk();
        for (fs, path) in specs.iter().zip(&paths) {
            if !gvk.is_selected_by(&fs.gvk) {
                continue;
            }
            walk(&mut r.value, path, false, Create::Never, &mut |v| {
                update(v);
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// kustomize also rewrites `image` of every `containers`/`initContainers` list anywhere in the object.
fn legacy_containers(v: &mut Value, update: &dyn Fn(&mut Value)) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                legacy_containers(child, update);
                if (k == "containers" || k == "initContainers")
                    && let Value::Array(items) = child
                {
                    for it in items {
                        if let Some(img) = it.get_mut("image") {
                            update(img);
                        }
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| legacy_containers(i, update)),
        _ => {}
    }
}

fn split_image(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = image.get(slash..).unwrap_or("");
    let id = search.find('@');
    let ic = search.find(':');
    match (id, ic) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (Some(d), c) if c.is_none_or(|c| d < c) => {
            let d = d + slash;
            (
                image[..d].to_string(),
                String::new(),
                image[d + 1..].to_string(),
            )
        }
        (Some(d), Some(c)) => {
            let (d, c) = (d + slash, c + slash);
            (
                image[..c].to_string(),
                image[c + 1..d].to_string(),
                image[d + 1..].to_string(),
            )
        }
        (None, Some(c)) => {
            let c = c + slash;
            (
                image[..c].to_string(),
                image[c + 1..].to_string(),
                String::new(),
            )
        }
        (Some(_), None) => (image.to_string(), String::new(), String::new()),
    }
}

fn new_image(old: &str, img: &Image) -> String {
    let (mut name, mut tag, mut digest) = split_image(old);
    if !img.new_name.is_empty() {
        name = img.new_name.clone();
    }
    if !img.new_tag.is_empty() && !img.digest.is_empty() {
        tag = img.new_tag.clone();
        digest = img.digest.clone();
    } else if !img.new_tag.is_empty() {
        tag = img.new_tag.clone();
        digest.clear();
    } else if !img.digest.is_empty() {
        tag.clear();
        digest = img.digest.clone();
    } else if !img.tag_suffix.is_empty() {
        tag.push_str(&img.tag_suffix);
        digest.clear();
    }
    if !tag.is_empty() {
        name = format!("{name}:{tag}");
    }
    if !digest.is_empty() {
        name = format!("{name}@{digest}");
    }
    name
}

/// `crds:` files: OpenAPI definition maps (type name -> {Schema}) whose `x-kubernetes-*`
/// extensions declare annotation, label-selector, identity and object-reference fields.
pub fn config_from_crd(doc: &Value, config: &mut TransformerConfig) {
    let Some(map) = doc.as_object() else { return };
    for (name, def) in map {
        let props = def.pointer("/Schema/properties");
        let is_type = ["kind", "apiVersion", "metadata"]
            .iter()
            .all(|k| props.and_then(|p| p.get(*k)).is_some());
        if !is_type {
            continue;
        }
        let kind = name.rsplit('.').next().unwrap_or(name).to_string();
        let gvk = Gvk {
            kind,
            ..Default::default()
        };
        crd_type_into_config(config, &gvk, map, name, &mut Vec::new(), 0);
    }
}

fn crd_type_into_config(
    config: &mut TransformerConfig,
    gvk: &Gvk,
    defs: &Map<String, Value>,
    type_name: &str,
    path: &mut Vec<String>,
    depth: usize,
) {
    // Recursive schemas would otherwise never end.
    if depth > 32 {
        return;
    }
    let Some(props) = defs
        .get(type_name)
        .and_then(|d| d.pointer("/Schema/properties"))
        .and_then(Value::as_object)
    else {
        return;
    };
    let fs = |parts: &[String]| FieldSpec {
        gvk: Gvk {
            kind: gvk.kind.clone(),
            ..Default::default()
        },
        path: parts.join("/"),
        create: false,
    };
    for (prop, schema) in props {
        path.push(prop.clone());
        let ext = |k: &str| schema.get(k).and_then(Value::as_str);
        if ext("x-kubernetes-annotation").is_some() {
            push_unique(&mut config.common_annotations, fs(path));
        }
        if ext("x-kubernetes-label-selector").is_some() {
            push_unique(&mut config.common_labels, fs(path));
        }
        if ext("x-kubernetes-identity").is_some() {
            push_unique(&mut config.name_prefix, fs(path));
        }
        if let (Some(version), Some(kind)) = (
            ext("x-kubernetes-object-ref-api-version"),
            ext("x-kubernetes-object-ref-kind"),
        ) {
            let key = ext("x-kubernetes-object-ref-name-key")
                .unwrap_or("name")
                .to_string();
            let mut p = path.clone();
            p.push(key);
            config.add_name_ref(
                Gvk {
                    kind: kind.to_string(),
                    version: version.to_string(),
                    ..Default::default()
                },
                fs(&p),
            );
        }
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            crd_type_into_config(config, gvk, defs, r, path, depth + 1);
        }
        path.pop();
    }
}

/// Documents named in `transformers:` / `generators:`: inline YAML or files holding
/// builtin plugin configurations (`apiVersion: builtin`).
/// Folders are handled by the caller (they are built as kustomizations).
pub fn plugin_docs(ldr: &Loader<'_>, entry: &str) -> Result<Vec<(Value, String)>, Error> {
    if entry.contains('\n') {
        let docs = crate::yaml::parse_stream(entry, &ldr.kfile)?;
        return Ok(docs.into_iter().map(|d| (d.0, ldr.kfile.clone())).collect());
    }
    let (path, text) = ldr.load(entry)?;
    let docs = crate::yaml::parse_stream(&text, &path)?;
    Ok(docs.into_iter().map(|d| (d.0, path.clone())).collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PluginConf {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    suffix: Option<String>,
    #[serde(default)]
    field_specs: Option<Vec<Value>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    image_tag: Option<Image>,
    #[serde(default)]
    replica: Option<Replica>,
    #[serde(default)]
    replacements: Option<Vec<Value>>,
    #[serde(default)]
    paths: Option<Vec<Value>>,
    #[serde(default)]
    patches: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    patch: Option<String>,
    #[serde(default)]
    target: Option<crate::kustomization::Selector>,
    #[serde(default)]
    json_op: Option<String>,
    #[serde(default)]
    options: Option<crate::kustomization::PatchOptions>,
    #[serde(default)]
    metadata: Option<Value>,
}

fn specs_of(conf: &PluginConf) -> Vec<FieldSpec> {
    conf.field_specs
        .iter()
        .flatten()
        .filter_map(FieldSpec::from_value)
        .collect()
}

fn string_pairs(m: &Option<BTreeMap<String, Value>>) -> Vec<(String, String)> {
    m.iter()
        .flatten()
        .map(|(k, v)| (k.clone(), scalar_string(v)))
        .collect()
}

/// One `transformers:` entry.
pub fn run_transformer_entry(
    ldr: &Loader<'_>,
    docs: Vec<(Value, String)>,
    acc: &mut Acc,
) -> Result<(), Error> {
    for (doc, src) in docs {
        let kind = doc
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        if api != "builtin" {
            return Err(Error::invalid(
                &src,
                format!(
                    "transformer '{kind}' ({api}) is an external plugin; only builtin transformers can run in this sandbox"
                ),
            ));
        }
        let conf = PluginConf::deserialize(&doc)
            .map_err(|e| Error::invalid(&src, format!("{kind}: {e}")))?;
        let bad = |m: String| Error::invalid(&src, m);
        match kind.as_str() {
            "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
                let specs = specs_of(&conf);
                prefix_suffix(
                    &mut acc.res,
                    conf.prefix.as_deref().unwrap_or(""),
                    conf.suffix.as_deref().unwrap_or(""),
                    &specs,
                )
                .map_err(bad)?;
            }
            "LabelTransformer" => {
                add_map_entries(&mut acc.res, &string_pairs(&conf.labels), &specs_of(&conf))
                    .map_err(bad)?
            }
            "AnnotationsTransformer" => add_map_entries(
                &mut acc.res,
                &string_pairs(&conf.annotations),
                &specs_of(&conf),
            )
            .map_err(bad)?,
            "NamespaceTransformer" => {
                let ns = conf
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get("namespace"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !ns.is_empty() {
                    namespace(&mut acc.res, ns, &specs_of(&conf)).map_err(bad)?;
                }
            }
            "ImageTagTransformer" => {
                if let Some(img) = &conf.image_tag {
                    images(&mut acc.res, img, &specs_of(&conf)).map_err(bad)?;
                }
            }
            "ReplicaCountTransformer" => {
                if let Some(rep) = &conf.replica {
                    replicas(&mut acc.res, rep, &specs_of(&conf)).map_err(bad)?;
                }
            }
            "ReplacementTransformer" => {
                crate::replacements::run(
                    ldr,
                    conf.replacements.as_deref().unwrap_or(&[]),
                    &mut acc.res,
                )?;
            }
            "PatchTransformer" | "PatchJson6902Transformer" => {
                let p = Patch {
                    path: conf.path.clone().unwrap_or_default(),
                    patch: conf
                        .patch
                        .clone()
                        .or(conf.json_op.clone())
                        .unwrap_or_default(),
                    target: conf.target.clone(),
                    options: conf.options.clone(),
                };
                crate::patches::patch_entry(
                    ldr,
                    &p,
                    &mut acc.res,
                    kind == "PatchJson6902Transformer",
                )?;
            }
            "PatchStrategicMergeTransformer" => {
                let mut entries: Vec<String> =
                    conf.paths.iter().flatten().map(scalar_string).collect();
                if let Some(p) = &conf.patches {
                    entries.push(p.clone());
                }
                crate::patches::strategic_merge_entries(ldr, &entries, &mut acc.res)?;
            }
            other => {
                return Err(Error::invalid(
                    &src,
                    format!("unable to load builtin {other}: not supported by this builder"),
                ));
            }
        }
        record(ldr, acc, &kind, Some((&doc, &src)));
    }
    Ok(())
}

/// One `generators:` entry.
pub fn run_generator_entry(
    ldr: &Loader<'_>,
    k: &Kustomization,
    docs: Vec<(Value, String)>,
    acc: &mut Acc,
) -> Result<(), Error> {
    for (doc, src) in docs {
        let kind = doc
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        if api != "builtin" {
            return Err(Error::invalid(
                &src,
                format!(
                    "generator '{kind}' ({api}) is an external plugin; only builtin generators can run in this sandbox"
                ),
            ));
        }
        let secret = match kind.as_str() {
            "ConfigMapGenerator" => false,
            "SecretGenerator" => true,
            "IAMPolicyGenerator" => {
                let r = iam_policy(&doc, &src)?;
                crate::build::absorb(&mut acc.res, r).map_err(|m| Error::invalid(&src, m))?;
                continue;
            }
            other => {
                return Err(Error::invalid(
                    &src,
                    format!("unable to load builtin {other}: not supported by this builder"),
                ));
            }
        };
        let mut flat = doc.clone();
        if let Some(obj) = flat.as_object_mut() {
            obj.remove("apiVersion");
            obj.remove("kind");
            if let Some(Value::Object(meta)) = obj.remove("metadata") {
                // The generator's own `name`/`namespace` win; metadata only fills gaps.
                for key in ["name", "namespace"] {
                    if let Some(v) = meta.get(key) {
                        obj.entry(key).or_insert_with(|| v.clone());
                    }
                }
            }
            // Plugin configurations are read leniently (unlike kustomization files).
            const KNOWN: [&str; 9] = [
                "namespace",
                "name",
                "behavior",
                "literals",
                "files",
                "envs",
                "env",
                "options",
                "type",
            ];
            obj.retain(|k, _| KNOWN.contains(&k.as_str()));
        }
        let args = GeneratorArgs::deserialize(&flat)
            .map_err(|e| Error::invalid(&src, format!("{kind}: {e}")))?;
        let o = GeneratorOptions::merged_over(args.options.as_ref(), k.generator_options.as_ref());
        let mut r = crate::generators::make(ldr, &args, &o, secret)?;
        let conf_name = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        r.origin = src.clone();
        r.generated_by = Some((kind.clone(), conf_name));
        crate::build::absorb(&mut acc.res, r).map_err(|m| Error::invalid(&src, m))?;
    }
    Ok(())
}

/// The builtin IAMPolicyGenerator: a GKE workload-identity ServiceAccount.
fn iam_policy(doc: &Value, src: &str) -> Result<Res, Error> {
    let cloud = doc.get("cloud").and_then(Value::as_str).unwrap_or("");
    if cloud != "gke" {
        return Err(Error::invalid(
            src,
            format!("IAMPolicyGenerator: cloud provider '{cloud}' not supported yet (only gke)"),
        ));
    }
    let s = |p: &str| {
        doc.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (gsa, project, ksa, ns) = (
        s("/serviceAccount/name"),
        s("/serviceAccount/projectId"),
        s("/kubernetesService/name"),
        s("/kubernetesService/namespace"),
    );
    let mut meta = Map::new();
    meta.insert(
        "annotations".into(),
        serde_json::json!({"iam.gke.io/gcp-service-account": format!("{gsa}@{project}.iam.gserviceaccount.com")}),
    );
    meta.insert("name".into(), Value::String(ksa));
    if !ns.is_empty() {
        meta.insert("namespace".into(), Value::String(ns));
    }
    let v = serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": Value::Object(meta)});
    let mut r = Res::new(v, src);
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    r.generated_by = Some(("IAMPolicyGenerator".into(), name));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_rewrites() {
        let img = |name: &str, nn: &str, tag: &str, digest: &str| Image {
            name: name.into(),
            new_name: nn.into(),
            new_tag: tag.into(),
            digest: digest.into(),
            tag_suffix: String::new(),
        };
        let cases = [
            ("nginx", img("nginx", "", "1.2", ""), "nginx:1.2"),
            (
                "nginx:1.0",
                img("nginx", "my/nginx", "", ""),
                "my/nginx:1.0",
            ),
            (
                "nginx:1.0@sha256:abc",
                img("nginx", "", "", "sha256:def"),
                "nginx@sha256:def",
            ),
            (
                "localhost:5000/app:v1",
                img("localhost:5000/app", "", "v2", ""),
                "localhost:5000/app:v2",
            ),
        ];
        for (old, i, want) in cases {
            assert_eq!(new_image(old, &i), want, "{old}");
        }
    }

    #[test]
    fn crd_definitions_feed_config() {
        let doc = serde_json::json!({
            "x.v1.Bee": {"Schema": {"properties": {
                "apiVersion": {}, "kind": {}, "metadata": {},
                "spec": {"$ref": "x.v1.BeeSpec"}}}},
            "x.v1.BeeSpec": {"Schema": {"properties": {
                "secretRef": {"x-kubernetes-object-ref-api-version": "v1", "x-kubernetes-object-ref-kind": "Secret"},
                "sel": {"x-kubernetes-label-selector": ""}}}}
        });
        let mut tc = TransformerConfig::default();
        config_from_crd(&doc, &mut tc);
        let cases = [
            (
                tc.common_labels
                    .iter()
                    .any(|f| f.path == "spec/sel" && f.gvk.kind == "Bee"),
                "label selector",
            ),
            (
                tc.name_reference.iter().any(|b| {
                    b.gvk.kind == "Secret"
                        && b.referrers.iter().any(|f| f.path == "spec/secretRef/name")
                }),
                "object ref",
            ),
        ];
        for (ok, what) in cases {
            assert!(ok, "{what}");
        }
    }
}
