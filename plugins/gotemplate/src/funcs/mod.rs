//! Function maps: Go's builtins, Sprig's `TxtFuncMap` and Helm's engine
//! functions, composable with `FuncMap::merge`. Also the argument
//! conversions Go applies when a template calls a typed Go function.

use std::collections::HashMap;

use crate::exec::Ctx;
use crate::value::Value;

pub mod builtins;
pub mod convert;
pub mod crypto;
pub mod date;
pub mod helm;
pub mod semver;
pub mod sprig;
pub mod sprig_data;

/// Why a function failed.
#[derive(Debug, Clone, PartialEq)]
pub enum FuncError {
    /// The function returned an error: reported as `error calling NAME: MSG`.
    Call(String),
    /// An argument had the wrong type for the Go signature: reported as is
    /// (`wrong type for value; expected string; got int`).
    Arg(String),
    /// Argument `index` is not of the parameter's Go type `expected`; the
    /// executor words the error as Go does for that argument's node
    /// (`expected string; found 1`, `invalid value; expected string`, ...).
    Type {
        index: usize,
        expected: &'static str,
    },
}

pub type FuncResult = Result<Value, FuncError>;

/// A native template function. Arguments arrive evaluated, with invalid
/// values already turned into nil.
pub type NativeFn = fn(&mut Ctx<'_, '_>, Vec<Value>) -> FuncResult;

/// A function that captures state (a cluster snapshot for `lookup`, ...).
pub type ClosureFn =
    std::sync::Arc<dyn Fn(&mut Ctx<'_, '_>, Vec<Value>) -> FuncResult + Send + Sync>;

#[derive(Clone)]
pub enum FuncKind {
    Native(NativeFn),
    Closure(ClosureFn),
    /// Go's short-circuiting builtins.
    And,
    Or,
}

impl std::fmt::Debug for FuncKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FuncKind::Native(_) => f.write_str("Native"),
            FuncKind::Closure(_) => f.write_str("Closure"),
            FuncKind::And => f.write_str("And"),
            FuncKind::Or => f.write_str("Or"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Func {
    pub kind: FuncKind,
    pub min_args: usize,
    /// `None` for variadic functions.
    pub max_args: Option<usize>,
}

/// A set of named functions.
#[derive(Clone, Debug, Default)]
pub struct FuncMap {
    funcs: HashMap<String, Func>,
}

impl FuncMap {
    pub fn new() -> FuncMap {
        FuncMap::default()
    }

    pub fn get(&self, name: &str) -> Option<&Func> {
        self.funcs.get(name)
    }

    /// Adds (or replaces) a function taking between `min` and `max` arguments
    /// (`max = None`: variadic).
    pub fn insert(&mut self, name: &str, min: usize, max: Option<usize>, f: NativeFn) {
        self.funcs.insert(
            name.to_string(),
            Func {
                kind: FuncKind::Native(f),
                min_args: min,
                max_args: max,
            },
        );
    }

    /// Adds a function that captures state.
    pub fn insert_closure(
        &mut self,
        name: &str,
        min: usize,
        max: Option<usize>,
        f: impl Fn(&mut Ctx<'_, '_>, Vec<Value>) -> FuncResult + Send + Sync + 'static,
    ) {
        self.funcs.insert(
            name.to_string(),
            Func {
                kind: FuncKind::Closure(std::sync::Arc::new(f)),
                min_args: min,
                max_args: max,
            },
        );
    }

    pub(crate) fn insert_kind(
        &mut self,
        name: &str,
        min: usize,
        max: Option<usize>,
        kind: FuncKind,
    ) {
        self.funcs.insert(
            name.to_string(),
            Func {
                kind,
                min_args: min,
                max_args: max,
            },
        );
    }

    pub fn remove(&mut self, name: &str) {
        self.funcs.remove(name);
    }

    /// `self` with `other`'s functions added on top (other wins on clashes,
    /// as user functions shadow Go's builtins).
    pub fn merge(mut self, other: FuncMap) -> FuncMap {
        self.funcs.extend(other.funcs);
        self
    }

    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.funcs.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
}

/// Go text/template's builtin functions.
pub fn go_builtins() -> FuncMap {
    builtins::register()
}

/// Go's builtins plus Sprig's `TxtFuncMap`.
pub fn sprig() -> FuncMap {
    go_builtins().merge(sprig::register())
}

/// The function map of Helm's engine: Go builtins, Sprig without `env` and
/// `expandenv`, and Helm's own functions.
pub fn helm() -> FuncMap {
    let mut m = sprig();
    m.remove("env");
    m.remove("expandenv");
    m.merge(helm::register())
}

// ---------------------------------------------------------------- argument helpers

pub(crate) fn call_err(msg: impl Into<String>) -> FuncError {
    FuncError::Call(msg.into())
}

/// A `string` parameter.
pub(crate) fn arg_str(args: &[Value], i: usize) -> Result<&str, FuncError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(FuncError::Type {
            index: i,
            expected: "string",
        }),
    }
}

/// An `int` parameter.
pub(crate) fn arg_int(args: &[Value], i: usize) -> Result<i64, FuncError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        _ => Err(FuncError::Type {
            index: i,
            expected: "int",
        }),
    }
}

/// A `bool` parameter.
pub(crate) fn arg_bool(args: &[Value], i: usize) -> Result<bool, FuncError> {
    match args.get(i) {
        Some(Value::Bool(b)) => Ok(*b),
        _ => Err(FuncError::Type {
            index: i,
            expected: "bool",
        }),
    }
}

/// An `interface{}` parameter.
pub(crate) fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Nil).or_nil()
}

pub(crate) fn s(v: impl Into<String>) -> FuncResult {
    Ok(Value::string(v.into()))
}
