//! Go's `text/template` engine in pure Rust, with the Sprig function
//! library and Helm's template functions: the template engine of manifold's
//! Helm plugin.
//!
//! Parse once with [`TemplateSet::parse`], execute many times with
//! [`TemplateSet::execute`]. Data is a [`Value`] (convert JSON/YAML data
//! with [`Value::from_json`]); function maps compose from [`go_builtins`],
//! [`sprig`] and [`helm`].

pub mod error;
pub mod exec;
pub mod funcs;
pub mod gofmt;
pub mod helm_engine;
pub mod parse;
mod toml;
pub mod value;

pub use error::Error;
pub use exec::{Ctx, ExecOptions, MissingKey, TemplateSet};
pub use funcs::date::Time;
pub use funcs::semver::Version as SemVersion;
pub use funcs::{ClosureFn, FuncError, FuncMap, FuncResult, NativeFn, go_builtins, helm, sprig};
pub use value::{MapRef, NumberMode, Object, Value};

/// Helm's `toYaml`: YAML as sigs.k8s.io/yaml prints it, without the final newline.
pub fn to_yaml(v: &Value) -> String {
    funcs::helm::to_yaml(v)
}

/// Parses a single template text with `funcs` and executes it: a shortcut
/// for one-off templates (`tpl`-like use and tests).
pub fn render(
    name: &str,
    text: &str,
    data: &Value,
    funcs: FuncMap,
    opts: &ExecOptions,
) -> Result<String, Error> {
    let set = TemplateSet::parse(&[(name, text)], funcs)?;
    set.execute(name, data, opts)
}
