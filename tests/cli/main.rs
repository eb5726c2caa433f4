//! Integration tests of the `manifold` binary and its plugin runtime.

// Tests stop at the first surprise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod bad_input;
mod check;
mod diff;
mod example;
mod example_plugin;
mod generated;
mod hostile;
mod plugin_commands;
mod render;
mod reports;
mod validate;
mod validators;
