//! `labels`: manifold's built-in validator for required labels and
//! annotations and for their well-formedness as Kubernetes defines it.
//!
//! It is an ordinary plugin built on the guest SDK: the host runs it in the
//! same sandbox, through the same interface, as any third-party validator.

mod check;
mod config;
mod syntax;

use manifold_plugin_sdk::{Diagnostic, Failure, Manifest, Metadata, Validator};

pub use check::check;
pub use config::Config;

/// The plugin.
pub struct Labels;

impl Validator for Labels {
    fn metadata() -> Metadata {
        Metadata::validator(
            "labels",
            env!("CARGO_PKG_VERSION"),
            "Required labels and annotations (keys, value patterns, per kind) and their well-formedness as Kubernetes defines it.",
        )
        .with_config_schema(config::SCHEMA)
    }

    fn validate(manifests: Vec<Manifest>, config: String) -> Result<Vec<Diagnostic>, Failure> {
        let config = Config::parse(&config).map_err(Failure::new)?;
        let mut out = Vec::new();
        for (index, manifest) in manifests.iter().enumerate() {
            out.extend(check(&config, index, &manifest.value()?));
        }
        Ok(out)
    }
}

manifold_plugin_sdk::export_validator!(Labels);

#[cfg(test)]
mod tests;
