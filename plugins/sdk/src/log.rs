//! Messages for the person running manifold.
//!
//! Plugins have no terminal: what they print to stdout is dropped and stderr
//! is kept only to explain a crash. These functions reach the host's log.

use crate::validator_bindings::manifold::plugin::log as host;

/// A message shown with `--verbose`.
pub fn debug(message: &str) {
    host::log(host::Level::Debug, message);
}

/// A message shown by default (for example Rego `print` output).
pub fn info(message: &str) {
    host::log(host::Level::Info, message);
}

/// A warning shown by default.
pub fn warn(message: &str) {
    host::log(host::Level::Warn, message);
}
