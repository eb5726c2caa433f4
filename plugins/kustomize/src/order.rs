//! Output order: input (fifo) order, or kustomize's legacy order (by kind
//! priority lists, then group/version/kind, namespace and name).
//! `sortOptions` in the top kustomization wins over the `reorder` option.

use crate::Reorder;
use crate::kustomization::Kustomization;
use crate::resid::Gvk;
use crate::resource::Res;
use std::cmp::Ordering;
use std::collections::HashMap;

const DEFAULT_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const DEFAULT_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Order {
    Fifo,
    Legacy {
        first: Vec<String>,
        last: Vec<String>,
    },
}

/// Decides the order from the kustomization's `sortOptions` and the build option.
pub fn sort_mode(k: &Kustomization, reorder: Reorder) -> Result<Order, String> {
    let Some(so) = &k.sort_options else {
        return Ok(match reorder {
            Reorder::Legacy => Order::Legacy {
                first: DEFAULT_FIRST.iter().map(|s| s.to_string()).collect(),
                last: DEFAULT_LAST.iter().map(|s| s.to_string()).collect(),
            },
            Reorder::None => Order::Fifo,
        });
    };
    match so.order.as_str() {
        "fifo" => {
            if so.legacy_sort_options.is_some() {
                return Err("the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'".into());
            }
            Ok(Order::Fifo)
        }
        "legacy" => Ok(match &so.legacy_sort_options {
            Some(l) => Order::Legacy {
                first: l.order_first.clone(),
                last: l.order_last.clone(),
            },
            None => Order::Legacy {
                first: DEFAULT_FIRST.iter().map(|s| s.to_string()).collect(),
                last: DEFAULT_LAST.iter().map(|s| s.to_string()).collect(),
            },
        }),
        _ => Err("the field 'sortOptions.order' must be one of [fifo, legacy]".into()),
    }
}

fn gvk_key(g: &Gvk) -> String {
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{}_{}_{}",
        or(&g.group, "~G"),
        or(&g.version, "~V"),
        or(&g.kind, "~K")
    )
}

pub fn apply(res: &mut Vec<Res>, order: &Order) {
    let Order::Legacy { first, last } = order else {
        return;
    };
    let mut rank: HashMap<&str, i64> = HashMap::new();
    let n = first.len() as i64;
    for (i, k) in first.iter().enumerate() {
        rank.insert(k.as_str(), -n + i as i64);
    }
    for (i, k) in last.iter().enumerate() {
        rank.insert(k.as_str(), 1 + i as i64);
    }
    let mut keyed: Vec<(i64, String, bool, String, usize)> = Vec::new();
    for (at, r) in res.iter().enumerate() {
        let id = r.cur_id();
        let ns = if id.namespace.is_empty() {
            "~X".to_string()
        } else {
            id.namespace.clone()
        };
        let name = if id.name.is_empty() {
            "~N".to_string()
        } else {
            id.name.clone()
        };
        keyed.push((
            rank.get(id.gvk.kind.as_str()).copied().unwrap_or(0),
            gvk_key(&id.gvk),
            id.gvk.kind == "Namespace" && id.gvk.group.is_empty(),
            format!("{ns}|{name}"),
            at,
        ));
    }
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| {
                if a.1 == b.1 {
                    return Ordering::Equal;
                }
                // kustomize puts core Namespaces after same-rank namespaced-group ones.
                let both_ns = res[a.4].kind() == "Namespace"
                    && res[b.4].kind() == "Namespace"
                    && (a.2 || b.2);
                if both_ns {
                    b.1.cmp(&a.1)
                } else {
                    a.1.cmp(&b.1)
                }
            })
            .then_with(|| a.3.cmp(&b.3))
    });
    let mut unsorted: Vec<Option<Res>> = std::mem::take(res).into_iter().map(Some).collect();
    // Each index is in `keyed` once, so every `take` finds its object.
    res.extend(keyed.into_iter().filter_map(|k| unsorted[k.4].take()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn legacy_order() {
        let mk = |api: &str, kind: &str, name: &str| {
            Res::new(
                json!({"apiVersion": api, "kind": kind, "metadata": {"name": name}}),
                "f",
            )
        };
        let mut res = vec![
            mk("apps/v1", "Deployment", "b"),
            mk(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "w",
            ),
            mk("v1", "ConfigMap", "z"),
            mk("x.io/v1", "Foo", "f"),
            mk("v1", "Namespace", "ns"),
            mk("v1", "ConfigMap", "a"),
        ];
        let order = sort_mode(&Kustomization::default(), Reorder::Legacy).unwrap();
        apply(&mut res, &order);
        let names: Vec<&str> = res.iter().map(|r| r.name()).collect();
        assert_eq!(names, vec!["ns", "a", "z", "b", "f", "w"]);
    }
}
