//! The one place that runs `bindgen!` against `wit/`: host-side types for
//! both plugin worlds, sharing the `types`, `files` and `log` interfaces.

#![allow(missing_docs, clippy::all)]

pub mod validator {
    wasmtime::component::bindgen!({
        world: "validator",
        path: "../wit/manifold-plugin@0.1.0",
    });
}

pub mod renderer {
    wasmtime::component::bindgen!({
        world: "renderer",
        path: "../wit/manifold-plugin@0.1.0",
        with: {
            "manifold:plugin/types": super::validator::manifold::plugin::types,
            "manifold:plugin/log": super::validator::manifold::plugin::log,
            "manifold:plugin/files": super::validator::manifold::plugin::files,
        },
    });
}

pub use renderer::manifold::plugin::compose;
pub use validator::manifold::plugin::{context, files, log, types};
