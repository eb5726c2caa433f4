//! manifold: hydrate and check GitOps repositories in one pass.
//!
//! The library behind the `manifold` binary. Layers, bottom up:
//! [`runtime`] runs sandboxed Wasm plugins; [`registry`] knows the built-in
//! and external plugins; [`manifest`] reads manifest files; [`config`] reads
//! `manifold.yaml`; [`render`] runs a renderer on a target; [`validate`] runs validators over objects; [`report`]
//! shows findings; [`cli`] ties them to the command line.

pub mod cache;
pub mod cli;
pub mod config;
pub mod discover;
pub mod gitbranch;
pub mod manifest;
pub mod output;
pub mod pipeline;
pub mod registry;
pub mod render;
pub mod report;
pub mod runtime;
pub mod validate;

pub use cli::run;
