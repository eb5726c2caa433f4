//! The run as a whole, for validators whose checks need more than the batch
//! they were given: custom resources against CustomResourceDefinitions
//! anywhere in the run, references between objects (Gatekeeper's
//! `data.inventory`).
//!
//! The host sends manifests in batches (and in parallel); these calls see
//! every manifest of the run, including the batch at hand, in run order.
//! Each call copies the selected manifests into the plugin, so ask for the
//! kinds you need, and only when you need them.

use crate::Manifest;
use crate::validator_bindings::manifold::plugin::context as host;

/// Every manifest of the run whose `apiVersion/kind` (`apps/v1/Deployment`)
/// or `kind` (`Deployment`) is in `kinds`; `"*"` selects all of them.
pub fn manifests(kinds: &[&str]) -> Vec<Manifest> {
    let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
    host::manifests(&kinds)
}
