//! Resource identity: group/version/kind plus name and namespace, the selector
//! matching kustomize uses for field specs, and which kinds are cluster scoped.

use serde_json::Value;
use std::fmt;

/// A group/version/kind. Empty strings mean "unset" when used as a selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = split_api_version(api_version);
        Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    pub fn of(value: &Value) -> Gvk {
        let api = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
        Gvk::from_api_version(api, kind)
    }

    /// Whether `self` is selected by `selector`: unset selector fields match anything.
    pub fn is_selected_by(&self, selector: &Gvk) -> bool {
        (selector.group.is_empty() || selector.group == self.group)
            && (selector.version.is_empty() || selector.version == self.version)
            && (selector.kind.is_empty() || selector.kind == self.kind)
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Cluster-scoped per the built-in Kubernetes schema kustomize ships; unknown
    /// kinds (custom resources) count as namespaced, as in kustomize.
    pub fn is_cluster_scoped(&self) -> bool {
        CLUSTER_SCOPED.iter().any(|(g, vs, k)| {
            *k == self.kind && *g == self.group && vs.split(',').any(|v| v == self.version)
        })
    }
}

/// (group, versions, kind) of the built-in cluster-scoped types.
const CLUSTER_SCOPED: &[(&str, &str, &str)] = &[
    (
        "admissionregistration.k8s.io",
        "v1,v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "v1,v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicy",
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "apiextensions.k8s.io",
        "v1,v1beta1",
        "CustomResourceDefinition",
    ),
    ("apiregistration.k8s.io", "v1,v1beta1", "APIService"),
    (
        "certificates.k8s.io",
        "v1,v1beta1",
        "CertificateSigningRequest",
    ),
    ("flowcontrol.apiserver.k8s.io", "v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io",
        "v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io", "v1,v1beta1", "IngressClass"),
    ("node.k8s.io", "v1,v1beta1", "RuntimeClass"),
    ("policy", "v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io", "v1,v1beta1", "ClusterRole"),
    (
        "rbac.authorization.k8s.io",
        "v1,v1beta1",
        "ClusterRoleBinding",
    ),
    ("scheduling.k8s.io", "v1,v1beta1", "PriorityClass"),
    ("storage.k8s.io", "v1,v1beta1", "CSIDriver"),
    ("storage.k8s.io", "v1,v1beta1", "CSINode"),
    ("storage.k8s.io", "v1,v1beta1", "StorageClass"),
    ("storage.k8s.io", "v1,v1beta1", "VolumeAttachment"),
    ("", "v1", "ComponentStatus"),
    ("", "v1", "Namespace"),
    ("", "v1", "Node"),
    ("", "v1", "NodeProxyOptions"),
    ("", "v1", "PersistentVolume"),
];

pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rfind('/') {
        Some(i) => (&api_version[..i], &api_version[i + 1..]),
        None => ("", api_version),
    }
}

/// A resource's identity at one point of the build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ResId {
    pub gvk: Gvk,
    pub name: String,
    pub namespace: String,
}

impl ResId {
    pub fn of(value: &Value) -> ResId {
        let meta = value.get("metadata");
        let s = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        ResId {
            gvk: Gvk::of(value),
            name: s("name"),
            namespace: s("namespace"),
        }
    }

    /// The namespace a namespaced object really lands in: unset means "default".
    pub fn effective_namespace(&self) -> &str {
        if self.gvk.is_cluster_scoped() {
            ""
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    pub fn ns_equals(&self, other: &ResId) -> bool {
        self.effective_namespace() == other.effective_namespace()
    }
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = if self.gvk.group.is_empty() {
            "[noGrp]"
        } else {
            &self.gvk.group
        };
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        if self.gvk.version.is_empty() {
            write!(f, "{}.{}/{}.{}", self.gvk.kind, g, self.name, ns)
        } else {
            write!(
                f,
                "{}.{}.{}/{}.{}",
                self.gvk.kind, self.gvk.version, g, self.name, ns
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection() {
        let d = Gvk::from_api_version("apps/v1", "Deployment");
        let cases = [
            (Gvk::default(), true),
            (
                Gvk {
                    kind: "Deployment".into(),
                    ..Default::default()
                },
                true,
            ),
            (
                Gvk {
                    group: "apps".into(),
                    ..Default::default()
                },
                true,
            ),
            (
                Gvk {
                    group: "".into(),
                    version: "v2".into(),
                    kind: "".into(),
                },
                false,
            ),
            (
                Gvk {
                    kind: "Service".into(),
                    ..Default::default()
                },
                false,
            ),
        ];
        for (sel, want) in cases {
            assert_eq!(d.is_selected_by(&sel), want, "{sel:?}");
        }
    }

    #[test]
    fn display_and_scope() {
        let v =
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}});
        let id = ResId::of(&v);
        assert_eq!(id.to_string(), "Namespace.v1.[noGrp]/x.[noNs]");
        assert!(id.gvk.is_cluster_scoped());
        let v = serde_json::json!({"apiVersion": "example.com/v1", "kind": "Namespace", "metadata": {"name": "x"}});
        assert!(!ResId::of(&v).gvk.is_cluster_scoped());
    }
}
