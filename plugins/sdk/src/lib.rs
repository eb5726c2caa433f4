//! The guest SDK for manifold plugins.
//!
//! A plugin is a Wasm component that implements one of the worlds in
//! `wit/manifold-plugin@0.1.0`: a **validator** checks manifests, a
//! **renderer** turns a folder of the repository into manifests. With this
//! crate a plugin is a type implementing [`Validator`] or [`Renderer`] and one
//! macro call:
//!
//! ```ignore
//! use manifold_plugin_sdk::{Diagnostic, Failure, Manifest, Metadata, Validator};
//!
//! struct NoLatest;
//!
//! impl Validator for NoLatest {
//!     fn metadata() -> Metadata {
//!         Metadata::validator("no-latest", env!("CARGO_PKG_VERSION"), "Images must be pinned.")
//!     }
//!     fn validate(manifests: Vec<Manifest>, config: String) -> Result<Vec<Diagnostic>, Failure> {
//!         Ok(Vec::new())
//!     }
//! }
//!
//! manifold_plugin_sdk::export_validator!(NoLatest);
//! ```
//!
//! Build it with `cargo build --target wasm32-wasip2 --release` and load the
//! `.wasm` with `manifold validate --plugin path/to/plugin.wasm`.
#![deny(missing_docs)]

// The generated bindings name this crate by its absolute path, also inside it.
extern crate self as manifold_plugin_sdk;

pub mod context;
mod diagnostics;
pub mod files;
pub mod log;
pub mod render;

pub use diagnostics::json_pointer;

/// Every plugin built with the SDK allocates through talc rather than the
/// dlmalloc of Rust's wasm targets: a render or a policy allocates hundreds
/// of thousands of small strings and maps, and in profiles of the built-in
/// plugins dlmalloc took about a quarter of their time. An instance serves
/// one call and is thrown away, so fragmentation over a long life, talc's
/// weaker side, never builds up.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Bindings generated from the `validator` world. Not a stable API: use the
/// re-exports at the crate root.
#[doc(hidden)]
#[allow(missing_docs, clippy::all, unsafe_code)]
pub mod validator_bindings {
    wit_bindgen::generate!({
        world: "validator",
        path: "../../wit/manifold-plugin@0.1.0",
        pub_export_macro: true,
        export_macro_name: "__export_validator_world",
        default_bindings_module: "::manifold_plugin_sdk::validator_bindings",
        runtime_path: "::manifold_plugin_sdk::__private::wit_bindgen::rt",
    });
}

/// Bindings generated from the `renderer` world; shares the `types`,
/// `files` and `log` interfaces with the validator bindings.
#[doc(hidden)]
#[allow(missing_docs, clippy::all, unsafe_code)]
pub mod renderer_bindings {
    wit_bindgen::generate!({
        world: "renderer",
        path: "../../wit/manifold-plugin@0.1.0",
        pub_export_macro: true,
        export_macro_name: "__export_renderer_world",
        default_bindings_module: "::manifold_plugin_sdk::renderer_bindings",
        runtime_path: "::manifold_plugin_sdk::__private::wit_bindgen::rt",
        with: {
            "manifold:plugin/types@0.1.0": crate::validator_bindings::manifold::plugin::types,
            "manifold:plugin/log@0.1.0": crate::validator_bindings::manifold::plugin::log,
            "manifold:plugin/files@0.1.0": crate::validator_bindings::manifold::plugin::files,
        },
    });
}

pub use validator_bindings::manifold::plugin::types::{
    Diagnostic, Failure, Location, Manifest, Origin, PluginKind, PluginMetadata as Metadata,
    Severity,
};

/// A plugin that checks manifests.
pub trait Validator {
    /// Name, version, description and configuration schema.
    fn metadata() -> Metadata;

    /// Checks a batch of manifests. `config` is the plugin's configuration as
    /// JSON text, already checked by the host against the schema in
    /// [`Validator::metadata`]. Findings are data: return them in `Ok`; use
    /// `Err` only when the batch cannot be checked at all.
    fn validate(manifests: Vec<Manifest>, config: String) -> Result<Vec<Diagnostic>, Failure>;
}

/// A plugin that turns a folder of the repository into manifests.
pub trait Renderer {
    /// Name, version, description and configuration schema.
    fn metadata() -> Metadata;

    /// Renders the folder `request.target`, reading files through [`files`].
    fn render(request: render::Request) -> Result<render::Output, Failure>;
}

impl Metadata {
    /// Metadata of a validator whose configuration schema accepts any object.
    pub fn validator(name: &str, version: &str, description: &str) -> Self {
        Self::new(PluginKind::Validator, name, version, description)
    }

    /// Metadata of a renderer whose configuration schema accepts any object.
    pub fn renderer(name: &str, version: &str, description: &str) -> Self {
        Self::new(PluginKind::Renderer, name, version, description)
    }

    fn new(kind: PluginKind, name: &str, version: &str, description: &str) -> Self {
        Metadata {
            name: name.to_owned(),
            version: version.to_owned(),
            kind,
            description: description.to_owned(),
            config_schema: r#"{"type":"object"}"#.to_owned(),
        }
    }

    /// Sets the JSON Schema of the configuration.
    pub fn with_config_schema(mut self, schema: &str) -> Self {
        self.config_schema = schema.to_owned();
        self
    }
}

impl Manifest {
    /// Parses the manifest's JSON. The host only sends valid JSON objects.
    pub fn value(&self) -> Result<serde_json::Value, Failure> {
        serde_json::from_str(&self.json).map_err(|e| {
            Failure::new(format!(
                "{}: document {}: the host sent invalid JSON: {e}",
                self.origin.file, self.origin.document
            ))
        })
    }
}

impl Failure {
    /// A failure with no source position.
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            location: None,
        }
    }

    /// A failure at a position in a source file.
    pub fn at(message: impl Into<String>, file: &str, line: u32, column: u32) -> Self {
        Failure {
            message: message.into(),
            location: Some(Location {
                file: file.to_owned(),
                line,
                column,
            }),
        }
    }
}

/// Exports a [`Validator`] implementation as the plugin's component exports.
#[macro_export]
macro_rules! export_validator {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __ManifoldValidatorExport;

        impl $crate::validator_bindings::exports::manifold::plugin::validate::Guest
            for __ManifoldValidatorExport
        {
            fn metadata() -> $crate::Metadata {
                <$plugin as $crate::Validator>::metadata()
            }

            fn validate(
                manifests: ::std::vec::Vec<$crate::Manifest>,
                config: ::std::string::String,
            ) -> ::std::result::Result<::std::vec::Vec<$crate::Diagnostic>, $crate::Failure> {
                <$plugin as $crate::Validator>::validate(manifests, config)
            }
        }

        // Component exports exist only in Wasm; a native build (tests,
        // `cargo check`) type-checks the glue without exporting symbols
        // whose names a native linker refuses.
        #[cfg(target_arch = "wasm32")]
        $crate::validator_bindings::__export_validator_world!(__ManifoldValidatorExport);
    };
}

/// Exports a [`Renderer`] implementation as the plugin's component exports.
#[macro_export]
macro_rules! export_renderer {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __ManifoldRendererExport;

        impl $crate::renderer_bindings::exports::manifold::plugin::render::Guest
            for __ManifoldRendererExport
        {
            fn metadata() -> $crate::Metadata {
                <$plugin as $crate::Renderer>::metadata()
            }

            fn render(
                request: $crate::render::Request,
            ) -> ::std::result::Result<$crate::render::Output, $crate::Failure> {
                <$plugin as $crate::Renderer>::render(request)
            }
        }

        // Component exports exist only in Wasm; a native build (tests,
        // `cargo check`) type-checks the glue without exporting symbols
        // whose names a native linker refuses.
        #[cfg(target_arch = "wasm32")]
        $crate::renderer_bindings::__export_renderer_world!(__ManifoldRendererExport);
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}
