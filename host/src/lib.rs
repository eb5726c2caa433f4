//! manifold: hydrate and check GitOps repositories in one pass.
//!
//! The library behind the `manifold` binary. Layers, bottom up:
//! [`runtime`] runs sandboxed Wasm plugins; [`registry`] knows the built-in
//! and external plugins; [`manifest`] reads manifest files; [`config`] reads
//! `manifold.yaml`; [`render`] runs a renderer on a target; [`validate`] runs validators over objects; [`report`]
//! shows findings; [`diff`] compares hydrated trees; [`cli`] ties them to
//! the command line.

pub mod cli;
pub mod config;
pub mod diff;
pub mod manifest;
pub mod registry;
pub mod render;
pub mod report;
pub mod runtime;
pub mod validate;

pub use cli::run;
