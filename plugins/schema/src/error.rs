//! Errors of the schema validator's setup: bad options, bad CRDs, bad
//! schema files. Problems with the manifests being validated are not errors
//! but findings ([`crate::Diagnostic`]s).

/// Why the validator could not be set up or a schema could not be added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The requested Kubernetes version does not parse.
    #[error(
        "kubernetes version {given:?} is not a version: write it as 1.30, 1.30.2, v1.30.0 or master"
    )]
    InvalidKubernetesVersion {
        /// The text given.
        given: String,
    },
    /// A `schema_locations` entry is not a usable kubeconform template.
    #[error(
        "schema location {location:?} is invalid: {reason}; use `default` or a path template with \
         {{{{ .ResourceKind }}}}, {{{{ .ResourceAPIVersion }}}}, {{{{ .Group }}}}, {{{{ .KindSuffix }}}}, \
         {{{{ .StrictSuffix }}}} or {{{{ .NormalizedKubernetesVersion }}}}"
    )]
    InvalidSchemaLocation {
        /// The location as given.
        location: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `skip`/`reject` entry is neither `Kind` nor `apiVersion/Kind`.
    #[error(
        "{option} entry {given:?} is invalid: write a kind (`Deployment`) or apiVersion/kind (`apps/v1/Deployment`)"
    )]
    InvalidKindFilter {
        /// `skip` or `reject`.
        option: &'static str,
        /// The entry as given.
        given: String,
    },
    /// The plugin configuration JSON does not match [`crate::Options`].
    #[error(
        "invalid schema validator configuration: {reason}; see the option names in the plugin's README"
    )]
    InvalidOptions {
        /// What serde said.
        reason: String,
    },
    /// A manifest passed as a CRD is not a usable CustomResourceDefinition.
    #[error("{name}: not a usable CustomResourceDefinition: {reason}")]
    InvalidCrd {
        /// The CRD's `metadata.name`, or `<unnamed>`.
        name: String,
        /// What is missing or malformed, and so what to fix.
        reason: String,
    },
    /// A schema (from a CRD or a schema file) does not compile.
    #[error(
        "schema for {api_version}/{kind} from {origin} is not a valid JSON schema: {reason}; fix or remove that schema"
    )]
    InvalidSchema {
        /// `apiVersion` of the resources it is for.
        api_version: String,
        /// `kind` of the resources it is for.
        kind: String,
        /// Where the schema came from (a location or a CRD name).
        origin: String,
        /// The compiler's message.
        reason: String,
    },
    /// An embedded schema bundle does not decode: the build is broken.
    #[error(
        "embedded Kubernetes schema bundle is corrupt ({reason}); regenerate it with schemas/generate.py and rebuild"
    )]
    CorruptBundle {
        /// What failed.
        reason: String,
    },
    /// The crate was built without any schema bundle.
    #[error("no Kubernetes schemas are embedded; run schemas/generate.py and rebuild")]
    NoEmbeddedSchemas,
}
