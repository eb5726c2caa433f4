//! Comparing two hydrated trees: what a merge would change in the cluster.
//!
//! A hydrated tree is what `manifold render --out` writes (one folder per
//! target with a `manifest.yaml`, and a `manifold.index`), or any folder of
//! manifests. [`diff_trees`] reads two of them and reports, per target, the
//! resources added, changed (with a field-level diff) and removed. Removals
//! are what hurt with pruning on: a deleted manifest deletes the live
//! object, so removals of stateful or cluster-wide objects are flagged, and
//! removals an annotation keeps in the cluster are told apart.
//!
//! Both sides are plain folders, so comparing Git revisions is hydrating
//! each into a temporary folder and calling [`diff_trees`] on the two.

mod fields;
mod output;
mod tree;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

/// Version of the JSON output (`{"version": 1, ...}`), a contract for CI users.
pub const FORMAT_VERSION: u32 = 1;

/// Why two trees could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{path}: no such folder; give two folders written by `manifold render --out`")]
    Missing { path: String },
    #[error("{path}: not a folder; give two folders written by `manifold render --out`")]
    NotAFolder { path: String },
    /// A file of a tree that cannot be read or is not what a hydrated tree
    /// holds; `location` is `file` or `file:line`.
    #[error("{location}: {message}")]
    Input { location: String, message: String },
}

/// What identifies a resource across both trees. The version is left out on
/// purpose: `apps/v1beta1` to `apps/v1` is the same object, changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ResourceId {
    /// The API group, `""` for the core group.
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ResourceId {
    /// The identity of an object with `apiVersion` and `kind`.
    pub fn of(object: &Value) -> Option<ResourceId> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let kind = object.get("kind")?.as_str()?;
        let metadata = object.get("metadata");
        let text = |key: &str| {
            metadata
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Some(ResourceId {
            group: group_of(api_version).to_owned(),
            kind: kind.to_owned(),
            namespace: text("namespace"),
            name: text("name"),
        })
    }

    /// `Kind namespace/name`, as people name objects.
    pub fn describe(&self) -> String {
        let name = self.name.as_deref().unwrap_or("(unnamed)");
        match &self.namespace {
            Some(namespace) => format!("{} {namespace}/{name}", self.kind),
            None => format!("{} {name}", self.kind),
        }
    }

    fn is(&self, group: &str, kind: &str) -> bool {
        self.group == group && self.kind == kind
    }
}

/// The group of an `apiVersion`: `apps/v1` → `apps`, `v1` → `""` (core).
fn group_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map_or("", |(group, _version)| group)
}

/// How a resource or a target differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Changed,
    Removed,
}

/// One field that differs, at a dotted path such as
/// `spec.template.spec.containers[name=web].image`. `old` is absent for an
/// added field, `new` for a removed one (a YAML `null` is `Some(Null)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// What removing a resource from Git does to the live one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Pruning deletes something hard to get back.
    Dangerous,
    /// An annotation tells the sync agent not to prune it: the live object
    /// stays, no longer managed from Git.
    Kept,
}

/// Why a removal deserves attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removal {
    pub risk: Risk,
    pub reasons: Vec<String>,
}

/// One resource that differs between the trees.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDiff {
    pub change: Change,
    #[serde(flatten)]
    pub id: ResourceId,
    /// The new side's `apiVersion`, or the old one's for a removal.
    pub api_version: String,
    /// For a change, the fields that differ (empty otherwise).
    pub fields: Vec<FieldChange>,
    /// For a removal that is dangerous or kept by annotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removal: Option<Removal>,
    /// For a removal, the target that adds the same resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
    /// For an addition, the target that removes the same resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
}

impl ResourceDiff {
    pub fn is_dangerous(&self) -> bool {
        self.removal
            .as_ref()
            .is_some_and(|r| r.risk == Risk::Dangerous)
    }

    pub fn is_kept(&self) -> bool {
        self.removal.as_ref().is_some_and(|r| r.risk == Risk::Kept)
    }
}

/// One target with differences: added or removed entirely (every resource
/// listed), or changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetDiff {
    pub name: String,
    pub change: Change,
    pub resources: Vec<ResourceDiff>,
}

impl TargetDiff {
    /// How many of its resources were added, changed, removed.
    pub fn count(&self, change: Change) -> usize {
        self.resources.iter().filter(|r| r.change == change).count()
    }

    pub fn dangerous(&self) -> usize {
        self.resources.iter().filter(|r| r.is_dangerous()).count()
    }
}

/// Counts for summary lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub targets_added: usize,
    pub targets_removed: usize,
    pub targets_changed: usize,
    pub targets_unchanged: usize,
    pub resources_added: usize,
    pub resources_changed: usize,
    pub resources_removed: usize,
    pub resources_unchanged: usize,
    /// Removals that delete something hard to get back.
    pub dangerous_removals: usize,
    /// Removals an annotation keeps in the cluster.
    pub kept_by_annotation: usize,
}

/// Everything that differs between two trees, sorted by target name and
/// resource identity so the output does not depend on the file system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeDiff {
    pub version: u32,
    /// Only targets with differences.
    pub targets: Vec<TargetDiff>,
    pub summary: Summary,
}

impl TreeDiff {
    pub fn has_differences(&self) -> bool {
        !self.targets.is_empty()
    }
}

/// Reads the hydrated trees `old` and `new` and compares them.
pub fn diff_trees(old: &Path, new: &Path) -> Result<TreeDiff, DiffError> {
    let old = tree::read(old)?;
    let new = tree::read(new)?;
    let names: BTreeSet<&String> = old.targets.keys().chain(new.targets.keys()).collect();
    let empty = tree::Target::default();
    let mut targets = Vec::new();
    let mut summary = Summary::default();
    for name in names {
        let (before, after) = (old.targets.get(name), new.targets.get(name));
        let change = match (before, after) {
            (None, _) => Change::Added,
            (_, None) => Change::Removed,
            _ => Change::Changed,
        };
        let (resources, unchanged) = diff_target(before.unwrap_or(&empty), after.unwrap_or(&empty));
        summary.resources_unchanged += unchanged;
        // A target added or removed with no resources still differs.
        if resources.is_empty() && change == Change::Changed {
            summary.targets_unchanged += 1;
            continue;
        }
        let target = TargetDiff {
            name: name.clone(),
            change,
            resources,
        };
        match change {
            Change::Added => summary.targets_added += 1,
            Change::Removed => summary.targets_removed += 1,
            Change::Changed => summary.targets_changed += 1,
        }
        summary.resources_added += target.count(Change::Added);
        summary.resources_changed += target.count(Change::Changed);
        summary.resources_removed += target.count(Change::Removed);
        summary.dangerous_removals += target.dangerous();
        summary.kept_by_annotation += target.resources.iter().filter(|r| r.is_kept()).count();
        targets.push(target);
    }
    link_moves(&mut targets);
    Ok(TreeDiff {
        version: FORMAT_VERSION,
        targets,
        summary,
    })
}

/// Links a resource removed from one target to the target that adds it: a
/// move between targets (sync agent applications) is a prune on one side
/// and a creation on the other, and for stateful objects the order matters.
fn link_moves(targets: &mut [TargetDiff]) {
    let mut added: HashMap<ResourceId, String> = HashMap::new();
    let mut removed: HashMap<ResourceId, String> = HashMap::new();
    for target in targets.iter() {
        for resource in &target.resources {
            let side = match resource.change {
                Change::Added => &mut added,
                Change::Removed => &mut removed,
                Change::Changed => continue,
            };
            // Targets come sorted, so the first one named is stable.
            side.entry(resource.id.clone())
                .or_insert_with(|| target.name.clone());
        }
    }
    for target in targets.iter_mut() {
        for resource in &mut target.resources {
            match resource.change {
                Change::Removed => resource.moved_to = added.get(&resource.id).cloned(),
                Change::Added => resource.moved_from = removed.get(&resource.id).cloned(),
                Change::Changed => {}
            }
            if let (Some(to), Some(removal)) = (&resource.moved_to, &mut resource.removal)
                && removal.risk == Risk::Dangerous
            {
                removal.reasons.push(format!(
                    "it moves to target {to}: if this target syncs first, pruning deletes the live object before {to} creates it again"
                ));
            }
        }
    }
}

/// The resources of one target that differ, and how many did not.
fn diff_target(old: &tree::Target, new: &tree::Target) -> (Vec<ResourceDiff>, usize) {
    let ids: BTreeSet<&ResourceId> = old.resources.keys().chain(new.resources.keys()).collect();
    let mut out = Vec::new();
    let mut unchanged = 0;
    for id in ids {
        let diff = match (old.resources.get(id), new.resources.get(id)) {
            (Some(before), Some(after)) => {
                let fields = fields::diff(&desired(&before.value), &desired(&after.value));
                if fields.is_empty() {
                    unchanged += 1;
                    continue;
                }
                ResourceDiff {
                    change: Change::Changed,
                    id: id.clone(),
                    api_version: after.api_version.clone(),
                    fields,
                    removal: None,
                    moved_to: None,
                    moved_from: None,
                }
            }
            (None, Some(after)) => ResourceDiff {
                change: Change::Added,
                id: id.clone(),
                api_version: after.api_version.clone(),
                fields: Vec::new(),
                removal: None,
                moved_to: None,
                moved_from: None,
            },
            (Some(before), None) => ResourceDiff {
                change: Change::Removed,
                id: id.clone(),
                api_version: before.api_version.clone(),
                fields: Vec::new(),
                removal: removal(id, &before.value),
                moved_to: None,
                moved_from: None,
            },
            (None, None) => continue,
        };
        out.push(diff);
    }
    (out, unchanged)
}

/// The object without what is not desired state: `status` is written by
/// controllers, and `creationTimestamp: null` is an artefact of Go clients
/// serialising an empty timestamp (kustomize and Helm outputs carry it).
fn desired(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(Value::Object(metadata)) = map.get_mut("metadata")
            && metadata.get("creationTimestamp") == Some(&Value::Null)
        {
            metadata.remove("creationTimestamp");
        }
    }
    object
}

/// An annotation that stops a sync agent from pruning an object.
struct KeepAnnotation {
    key: &'static str,
    /// The agent that honours it.
    agent: &'static str,
    /// Whether a value of the annotation keeps the object.
    keeps: fn(&str) -> bool,
}

const KEEP_ANNOTATIONS: [KeepAnnotation; 2] = [
    KeepAnnotation {
        key: "argocd.argoproj.io/sync-options",
        agent: "Argo CD",
        // A comma-separated list of options.
        keeps: |v| v.split(',').any(|o| o.trim() == "Prune=false"),
    },
    KeepAnnotation {
        key: "kustomize.toolkit.fluxcd.io/prune",
        agent: "Flux",
        keeps: |v| v.trim() == "disabled",
    },
];

/// Helm's own keep annotation. Only Helm honours it when an upgrade drops
/// an object, and no Helm runs on a hydrated tree: Argo CD treats it as
/// `Delete=false` (it keeps the object when the Application is deleted,
/// not when the object leaves Git: argoproj/argo-cd#17819), and Flux's
/// kustomize-controller ignores it. So it protects nothing here, but says
/// the object was meant to outlive its chart.
const HELM_KEEP: &str = "helm.sh/resource-policy";

/// Whether removing `object` from Git is dangerous, or harmless because an
/// annotation keeps it; `None` for an ordinary removal.
fn removal(id: &ResourceId, object: &Value) -> Option<Removal> {
    let metadata = object.get("metadata");
    let annotations = metadata.and_then(|m| m.get("annotations"));
    let annotation = |key: &str| annotations?.get(key)?.as_str();
    let keeps: Vec<String> = KEEP_ANNOTATIONS
        .iter()
        .filter_map(|keep| {
            let value = annotation(keep.key)?;
            (keep.keeps)(value).then(|| {
                format!(
                    "kept by annotation {}: {value} ({} does not prune it)",
                    keep.key, keep.agent
                )
            })
        })
        .collect();
    // A kept object is not deleted, whatever its kind: what operators need
    // to know is that it stays in the cluster with nothing managing it.
    if !keeps.is_empty() {
        let mut reasons = keeps;
        reasons.push(
            "the live object stays, no longer managed from Git; delete it by hand if it is not wanted".into(),
        );
        return Some(Removal {
            risk: Risk::Kept,
            reasons,
        });
    }
    let mut reasons = Vec::new();
    let kinds: [(&str, &str, &str); 5] = [
        (
            "",
            "PersistentVolumeClaim",
            "deleting a PersistentVolumeClaim releases its volume; with reclaim policy Delete the data is destroyed",
        ),
        (
            "",
            "PersistentVolume",
            "deleting a PersistentVolume with reclaim policy Delete destroys the storage behind it",
        ),
        (
            "apps",
            "StatefulSet",
            "deleting a StatefulSet deletes its pods; its volume claims go too when persistentVolumeClaimRetentionPolicy.whenDeleted is Delete",
        ),
        (
            "",
            "Namespace",
            "deleting a Namespace deletes every object in it",
        ),
        (
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            "deleting a CustomResourceDefinition deletes every custom resource of its kind in the cluster",
        ),
    ];
    if let Some((_, _, why)) = kinds.iter().find(|(g, k, _)| id.is(g, k)) {
        reasons.push((*why).to_owned());
    }
    let finalizers: Vec<&str> = metadata
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !finalizers.is_empty() {
        reasons.push(format!(
            "it has finalizers ({}): deleting it runs their clean-up, and the deletion waits until they finish",
            finalizers.join(", ")
        ));
    }
    if annotation(HELM_KEEP).is_some_and(|v| v.trim() == "keep") {
        reasons.push(format!(
            "it is annotated {HELM_KEEP}: keep, but that does not stop pruning: no Helm runs on hydrated manifests, and Argo CD honours it only when the Application is deleted; to keep it, annotate argocd.argoproj.io/sync-options: Prune=false or kustomize.toolkit.fluxcd.io/prune: disabled"
        ));
    }
    (!reasons.is_empty()).then_some(Removal {
        risk: Risk::Dangerous,
        reasons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(group: &str, kind: &str, namespace: Option<&str>, name: Option<&str>) -> ResourceId {
        ResourceId {
            group: group.into(),
            kind: kind.into(),
            namespace: namespace.map(Into::into),
            name: name.map(Into::into),
        }
    }

    #[test]
    fn identity_leaves_the_version_out() {
        // (object, identity)
        let cases = [
            (
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod"}}),
                Some(id("apps", "Deployment", Some("prod"), Some("web"))),
            ),
            (
                json!({"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod"}}),
                Some(id("apps", "Deployment", Some("prod"), Some("web"))),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}}),
                Some(id("", "Namespace", None, Some("prod"))),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "job-"}}),
                Some(id("", "Pod", None, None)),
            ),
            (json!({"kind": "Pod"}), None),
            (json!({"apiVersion": "v1", "kind": 3}), None),
            (json!("text"), None),
        ];
        for (object, want) in cases {
            assert_eq!(ResourceId::of(&object), want, "{object}");
        }
    }

    #[test]
    fn noise_is_not_a_change() {
        // (old, new, changed paths)
        let cases: [(Value, Value, Vec<&str>); 4] = [
            (
                json!({"metadata": {"name": "a", "creationTimestamp": null}, "spec": {"x": 1}}),
                json!({"metadata": {"name": "a"}, "spec": {"x": 1}, "status": {"ready": true}}),
                vec![],
            ),
            (
                json!({"metadata": {"name": "a", "creationTimestamp": "2024-01-01T00:00:00Z"}}),
                json!({"metadata": {"name": "a"}}),
                vec!["metadata.creationTimestamp"],
            ),
            (
                json!({"spec": {"status": "on"}}),
                json!({"spec": {"status": "off"}}),
                vec!["spec.status"],
            ),
            (
                json!({"apiVersion": "apps/v1beta1"}),
                json!({"apiVersion": "apps/v1"}),
                vec!["apiVersion"],
            ),
        ];
        for (old, new, want) in cases {
            let got = fields::diff(&desired(&old), &desired(&new));
            let paths: Vec<&str> = got.iter().map(|f| f.path.as_str()).collect();
            assert_eq!(paths, want, "{old} -> {new}");
        }
    }

    #[test]
    fn dangerous_and_kept_removals() {
        // (apiVersion, kind, metadata, expected risk, a word the reason must hold)
        let cases: [(&str, &str, Value, Option<Risk>, &str); 13] = [
            (
                "v1",
                "PersistentVolumeClaim",
                json!({}),
                Some(Risk::Dangerous),
                "PersistentVolumeClaim",
            ),
            (
                "v1",
                "PersistentVolume",
                json!({}),
                Some(Risk::Dangerous),
                "storage",
            ),
            (
                "apps/v1",
                "StatefulSet",
                json!({}),
                Some(Risk::Dangerous),
                "pods",
            ),
            (
                "v1",
                "Namespace",
                json!({}),
                Some(Risk::Dangerous),
                "every object",
            ),
            (
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                json!({}),
                Some(Risk::Dangerous),
                "custom resource",
            ),
            (
                "v1",
                "ConfigMap",
                json!({"finalizers": ["example.com/cleanup"]}),
                Some(Risk::Dangerous),
                "example.com/cleanup",
            ),
            ("v1", "ConfigMap", json!({}), None, ""),
            // Same kind, another group: not the built-in one.
            ("example.com/v1", "Namespace", json!({}), None, ""),
            (
                "apps/v1",
                "StatefulSet",
                json!({"annotations": {"argocd.argoproj.io/sync-options": "ServerSideApply=true, Prune=false"}}),
                Some(Risk::Kept),
                "Prune=false",
            ),
            (
                "v1",
                "PersistentVolumeClaim",
                json!({"annotations": {"kustomize.toolkit.fluxcd.io/prune": "disabled"}}),
                Some(Risk::Kept),
                "fluxcd",
            ),
            (
                "v1",
                "Secret",
                json!({"annotations": {"argocd.argoproj.io/sync-options": "Prune=false"}}),
                Some(Risk::Kept),
                "no longer managed",
            ),
            // Helm's keep annotation does not stop a sync agent's pruning.
            (
                "v1",
                "Secret",
                json!({"annotations": {"helm.sh/resource-policy": "keep"}}),
                Some(Risk::Dangerous),
                "does not stop pruning",
            ),
            (
                "v1",
                "Namespace",
                json!({"annotations": {"argocd.argoproj.io/sync-options": "Prune=true"}}),
                Some(Risk::Dangerous),
                "every object",
            ),
        ];
        for (api_version, kind, metadata, risk, word) in cases {
            let object = json!({"apiVersion": api_version, "kind": kind, "metadata": metadata});
            let Some(resource) = ResourceId::of(&object) else {
                unreachable!("test object without identity: {object}")
            };
            let got = removal(&resource, &object);
            assert_eq!(got.as_ref().map(|r| r.risk), risk, "{object}");
            if let Some(got) = got {
                assert!(
                    got.reasons.iter().any(|r| r.contains(word)),
                    "{object}: {:?} lacks {word:?}",
                    got.reasons
                );
            }
        }
    }
}
