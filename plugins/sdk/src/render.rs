//! Types and host calls specific to renderers.

use crate::Failure;
use crate::renderer_bindings::manifold::plugin::compose;

pub use crate::validator_bindings::manifold::plugin::types::{
    RenderOutput as Output, RenderRequest as Request,
};

/// Asks the host to run another renderer (by plugin name) on a folder, as
/// Kustomize's `helmCharts` run Helm. The files it reads count as read by
/// the caller.
pub fn render_with(plugin: &str, request: &Request) -> Result<Output, Failure> {
    compose::render_with(plugin, request)
}
