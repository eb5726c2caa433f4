//! Turning manifests into what Gatekeeper policies see: the admission
//! request under `input.review`, and the `data.inventory` cache built from
//! other manifests.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::error::Error;

/// A manifest prepared for review.
#[derive(Debug)]
pub(crate) struct Review {
    /// `input.review`.
    pub request: Value,
    /// The same, converted for regorus once per manifest.
    pub rego_request: regorus::Value,
    /// The object `spec.match` is applied to.
    pub object: Value,
}

/// Splits `apiVersion` into group and version (`v1` is the core group).
pub(crate) fn group_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn is_admission_review(doc: &Value) -> bool {
    str_at(doc, "/kind") == "AdmissionReview"
        && group_version(str_at(doc, "/apiVersion")).0 == "admission.k8s.io"
}

/// Builds the review for one manifest. An `AdmissionReview` contributes its
/// `request` as-is (as gator does); any other object becomes a CREATE
/// request for itself.
pub(crate) fn review_of(doc: &Value) -> Result<Review, Error> {
    if is_admission_review(doc) {
        let Some(Value::Object(request)) = doc.get("request") else {
            return Err(Error::Manifest {
                message: "AdmissionReview has no `request` object; add the request to review"
                    .to_string(),
            });
        };
        let mut request = request.clone();
        // gator decodes the request into Kubernetes' typed AdmissionRequest
        // and serialises it again, so absent fields arrive with their zero
        // values.
        let defaults = [
            ("uid", json!("")),
            ("kind", json!({"group": "", "version": "", "kind": ""})),
            (
                "resource",
                json!({"group": "", "version": "", "resource": ""}),
            ),
            ("operation", json!("")),
            ("userInfo", json!({})),
            ("object", Value::Null),
            ("oldObject", Value::Null),
            ("options", Value::Null),
        ];
        for (key, value) in defaults {
            request.entry(key.to_string()).or_insert(value);
        }
        let deleting = request.get("operation").and_then(Value::as_str) == Some("DELETE");
        // Gatekeeper reviews the existing object on DELETE, where `object`
        // is null.
        if deleting {
            match request.get("oldObject").cloned() {
                Some(old) if old.is_object() => {
                    request.insert("object".to_string(), old);
                }
                _ => {
                    return Err(Error::Manifest {
                        message: "AdmissionReview for DELETE has no `request.oldObject`; \
                                  Gatekeeper needs the deleted object there"
                            .to_string(),
                    });
                }
            }
        }
        let object = request.get("object").cloned().unwrap_or(Value::Null);
        let request = Value::Object(request);
        return Ok(Review {
            rego_request: crate::rego::to_regorus(&request)?,
            request,
            object,
        });
    }
    let api_version = str_at(doc, "/apiVersion");
    let (group, version) = group_version(api_version);
    // The fields Gatekeeper's serialised AdmissionRequest always carries
    // (`uid`, `resource`, `userInfo`, null `oldObject`/`options`), so
    // policies see the same shape as under gator or audit.
    let mut request = Map::new();
    request.insert("uid".to_string(), json!(""));
    request.insert(
        "kind".to_string(),
        json!({"group": group, "version": version, "kind": str_at(doc, "/kind")}),
    );
    request.insert(
        "resource".to_string(),
        json!({"group": group, "version": version, "resource": ""}),
    );
    request.insert("name".to_string(), json!(str_at(doc, "/metadata/name")));
    let namespace = str_at(doc, "/metadata/namespace");
    if !namespace.is_empty() {
        request.insert("namespace".to_string(), json!(namespace));
    }
    request.insert("operation".to_string(), json!("CREATE"));
    request.insert("userInfo".to_string(), json!({}));
    request.insert("object".to_string(), doc.clone());
    request.insert("oldObject".to_string(), Value::Null);
    request.insert("options".to_string(), Value::Null);
    let request = Value::Object(request);
    Ok(Review {
        rego_request: crate::rego::to_regorus(&request)?,
        request,
        object: doc.clone(),
    })
}

/// `data.inventory` plus the Namespace labels `namespaceSelector` needs.
#[derive(Debug, Default, Clone)]
pub(crate) struct Inventory {
    pub data: Value,
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
}

/// Lays objects out as Gatekeeper's sync cache does:
/// `cluster[apiVersion][kind][name]` and
/// `namespace[ns][apiVersion][kind][name]`. Objects without apiVersion,
/// kind or name cannot be addressed there and are left out.
pub(crate) fn build_inventory(objects: &[Value]) -> Inventory {
    // apiVersion -> kind -> name -> object
    type ByVersion = BTreeMap<String, BTreeMap<String, Map<String, Value>>>;
    let mut cluster = ByVersion::new();
    let mut namespaced: BTreeMap<String, ByVersion> = BTreeMap::new();
    let mut namespace_labels = BTreeMap::new();
    for object in objects {
        let api_version = str_at(object, "/apiVersion");
        let kind = str_at(object, "/kind");
        let name = str_at(object, "/metadata/name");
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            continue;
        }
        let namespace = str_at(object, "/metadata/namespace");
        let root = if namespace.is_empty() {
            &mut cluster
        } else {
            namespaced.entry(namespace.to_string()).or_default()
        };
        root.entry(api_version.to_string())
            .or_default()
            .entry(kind.to_string())
            .or_default()
            .insert(name.to_string(), object.clone());
        if kind == "Namespace" && group_version(api_version).0.is_empty() {
            namespace_labels.insert(name.to_string(), super::matching::labels_of(object));
        }
    }
    let to_value = |tree: ByVersion| -> Value {
        Value::Object(
            tree.into_iter()
                .map(|(version, kinds)| {
                    let kinds = kinds
                        .into_iter()
                        .map(|(kind, names)| (kind, Value::Object(names)))
                        .collect();
                    (version, Value::Object(kinds))
                })
                .collect(),
        )
    };
    let namespaced: Map<String, Value> = namespaced
        .into_iter()
        .map(|(ns, tree)| (ns, to_value(tree)))
        .collect();
    let mut data = Map::new();
    data.insert("cluster".to_string(), to_value(cluster));
    data.insert("namespace".to_string(), Value::Object(namespaced));
    Inventory {
        data: Value::Object(data),
        namespace_labels,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn reviews() {
        let cases = [
            (
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"}}),
                json!({"uid": "", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"}, "resource": {"group": "apps", "version": "v1", "resource": ""}, "name": "d", "namespace": "n", "operation": "CREATE", "userInfo": {}, "oldObject": null, "options": null}),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}),
                json!({"uid": "", "kind": {"group": "", "version": "v1", "kind": "Namespace"}, "resource": {"group": "", "version": "v1", "resource": ""}, "name": "n", "operation": "CREATE", "userInfo": {}, "oldObject": null, "options": null}),
            ),
            (
                json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "UPDATE", "object": {"kind": "Pod"}}}),
                json!({"operation": "UPDATE", "object": {"kind": "Pod"}, "uid": "", "kind": {"group": "", "version": "", "kind": ""}, "resource": {"group": "", "version": "", "resource": ""}, "userInfo": {}, "oldObject": null, "options": null}),
            ),
            (
                json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"operation": "DELETE", "object": null, "oldObject": {"kind": "Pod"}}}),
                json!({"operation": "DELETE", "object": {"kind": "Pod"}, "oldObject": {"kind": "Pod"}, "uid": "", "kind": {"group": "", "version": "", "kind": ""}, "resource": {"group": "", "version": "", "resource": ""}, "userInfo": {}, "options": null}),
            ),
        ];
        for (doc, mut expected) in cases {
            let review = review_of(&doc).unwrap();
            if let (Value::Object(e), false) = (&mut expected, doc["kind"] == "AdmissionReview") {
                e.insert("object".into(), doc.clone());
            }
            assert_eq!(review.request, expected, "{doc}");
            assert_eq!(review.object, review.request["object"]);
        }
        let broken = [
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}),
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "DELETE"}}),
        ];
        for doc in broken {
            assert!(review_of(&doc).is_err(), "{doc}");
        }
    }

    #[test]
    fn inventory_layout() {
        let objects = [
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod", "labels": {"env": "prod"}}}),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i", "namespace": "prod"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
        ];
        let inv = build_inventory(&objects);
        assert_eq!(inv.data["cluster"]["v1"]["Namespace"]["prod"], objects[0]);
        assert_eq!(
            inv.data["namespace"]["prod"]["networking.k8s.io/v1"]["Ingress"]["i"],
            objects[1]
        );
        assert_eq!(inv.namespace_labels["prod"]["env"], "prod");
        assert_eq!(inv.data["cluster"].as_object().map(|m| m.len()), Some(1));
    }
}
