//! manifold: hydrate and check GitOps repositories in one pass.
//!
//! The library behind the `manifold` binary. Layers, bottom up:
//! [`runtime`] runs sandboxed Wasm plugins; [`registry`] knows the built-in
//! and external plugins; [`config`] reads `manifold.yaml`; [`flags`] turns
//! the validators' flags into configuration; [`discover`] finds a
//! repository's targets; [`render`] runs a renderer on one target;
//! [`cache`] keeps renders by content; [`pipeline`] renders or reads every
//! target in parallel; [`manifest`] reads manifest files; [`validate`] runs
//! validators over objects; [`report`] shows findings; [`output`] writes
//! the hydrated tree and [`gitbranch`] commits it; [`diff`] compares
//! hydrated trees; [`cli`] ties them to the command line.

pub mod cache;
pub mod cli;
pub mod config;
pub mod diff;
pub mod discover;
pub mod flags;
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
