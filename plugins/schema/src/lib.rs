//! Kubernetes manifest validation against JSON schemas, like kubeconform
//! (`-strict`, `-schema-location`, `-skip`, `-reject`,
//! `-ignore-missing-schemas`, `-kubernetes-version`), as pure Rust that
//! builds for `wasm32-wasip2`.
//!
//! The Kubernetes schemas of versions 1.25–1.37 are embedded (see
//! `schemas/README.md`); custom resources are checked against the schemas of
//! CustomResourceDefinitions in the batch or the options, or against schema
//! files that the host reads for the validator (it has no file system):
//!
//! ```
//! use manifold_plugin_schema::{Options, Validator, Verdict};
//! use serde_json::json;
//!
//! let mut validator = Validator::new(Options::default()).unwrap();
//! let doc = json!({"apiVersion": "v1", "kind": "Service",
//!                  "metadata": {"name": "web"},
//!                  "spec": {"ports": [{"port": "80"}]}});
//! let findings = validator.validate(&doc);
//! assert_eq!(findings[0].path.as_deref(), Some("/spec/ports/0/port"));
//! assert_eq!(findings[0].message, "got string, want integer");
//! assert_eq!(validator.validate_resources(&doc)[0].verdict, Verdict::Invalid);
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod bundle;
mod duration;
mod error;
mod location;
mod messages;
pub mod plugin;
mod strict;
mod validator;

pub use bundle::shipped_versions;
pub use error::Error;
pub use manifold_plugin_sdk::{Diagnostic, Severity};
pub use validator::{
    MissingSchemas, Options, ResourceReport, Validator, Verdict, expand_schema_location, rules,
};

/// Measuring and inspecting the embedded bundles (benchmarks, diagnostics).
pub mod embedded {
    pub use crate::bundle::{Bundle, compressed};
    pub use crate::strict::strictify;
}
