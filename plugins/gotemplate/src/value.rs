//! The Go-like value model templates operate on: Go's dynamic `interface{}`
//! values as they appear in Helm (nil, bool, int, uint, float64, string,
//! `[]interface{}`, `map[string]interface{}`) plus host objects with methods
//! (`.Files`, `.Capabilities`).
//!
//! Maps are shared and mutable like Go maps (Sprig's `set`, `unset` and
//! `merge` change them in place and every holder sees the change); lists and
//! strings are immutable and shared, so passing big values around is cheap.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// A template value.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Go's invalid `reflect.Value`: the result of a missing map key or of a
    /// pipeline that produced nil. Prints as `<no value>`; becomes `Nil` when
    /// handed to a function.
    #[default]
    Missing,
    /// A nil interface value.
    Nil,
    Bool(bool),
    /// Go `int` (64 bits on every platform Helm runs on).
    Int(i64),
    /// Go `uint`.
    Uint(u64),
    Float(f64),
    /// Go `complex128` (only from complex literals such as `1+2i`).
    Complex(f64, f64),
    String(Arc<str>),
    List(Arc<Vec<Value>>),
    Map(MapRef),
    /// A host object with fields and methods.
    Object(Arc<dyn Object>),
}

/// A Go `map[string]interface{}`: shared by reference, iterated in key order.
#[derive(Clone, Default)]
pub struct MapRef(Arc<Mutex<BTreeMap<String, Value>>>);

impl fmt::Debug for MapRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.lock().iter()).finish()
    }
}

impl MapRef {
    pub fn new(map: BTreeMap<String, Value>) -> MapRef {
        MapRef(Arc::new(Mutex::new(map)))
    }

    /// Locks the map. Callers keep the guard short and never call template
    /// code while holding it, so a map reachable from itself cannot deadlock.
    pub fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Value>> {
        // A poisoned lock only means a panic elsewhere; the data is intact.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<Value> {
        self.lock().get(key).cloned()
    }

    pub fn insert(&self, key: String, value: Value) {
        self.lock().insert(key, value);
    }

    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.lock().contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// A snapshot of the entries, in key order.
    pub fn entries(&self) -> Vec<(String, Value)> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// Identity of the shared map, for cycle detection.
    pub(crate) fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }

    pub fn ptr_eq(&self, other: &MapRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A host object reachable from templates (Helm's `.Files`, `.Capabilities`,
/// a parsed semver...). Fields are read with `.Name`; methods are called with
/// `.Name arg...` and may take arguments.
pub trait Object: fmt::Debug + Send + Sync {
    /// The Go type name `%T` and `typeOf` print (e.g. `chartutil.Files`).
    fn type_name(&self) -> &str;
    /// A field or zero-argument value; `None` if there is no such field.
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    /// Whether `name` is a method (methods take precedence over fields, as in Go).
    fn has_method(&self, _name: &str) -> bool {
        false
    }
    /// Calls a method; errors are reported as `error calling NAME: MSG`.
    fn call_method(&self, name: &str, _args: &[Value]) -> Result<Value, String> {
        Err(format!("can't evaluate field {name}"))
    }
    /// How `%v` and plain output print the object.
    fn display(&self) -> String;
    /// The JSON form (`toJson`, `toYaml`); objects are null unless they say otherwise.
    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    /// `len` of the object, if it has one.
    fn len(&self) -> Option<usize> {
        None
    }
    /// Whether the object counts as empty (`if`, `default`).
    fn is_empty(&self) -> bool {
        false
    }
    /// What `range` iterates: (index or key, element) pairs; `None` when
    /// the object cannot be ranged over.
    fn range_entries(&self) -> Option<Vec<(Value, Value)>> {
        None
    }
    /// Access to the concrete type, for functions that take specific
    /// objects (dates, versions).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// How numbers from JSON/YAML data become Go values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NumberMode {
    /// Every number is a float64, as values that went through
    /// `sigs.k8s.io/yaml` or `encoding/json` into `interface{}` are in Helm.
    #[default]
    Float64,
    /// Integers become Go `int`, other numbers `float64` (Go test data with
    /// concrete types, `typed_values` rows).
    GoTyped,
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::String(Arc::from(s))
    }

    pub fn string(s: String) -> Value {
        Value::String(Arc::from(s))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    pub fn map(map: BTreeMap<String, Value>) -> Value {
        Value::Map(MapRef::new(map))
    }

    pub fn empty_map() -> Value {
        Value::Map(MapRef::default())
    }

    /// `Missing` turns into `Nil`: what a function parameter of type
    /// `interface{}` receives for an invalid value.
    pub fn or_nil(self) -> Value {
        match self {
            Value::Missing => Value::Nil,
            v => v,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil | Value::Missing)
    }

    pub fn as_map(&self) -> Option<&MapRef> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The entry `key` of a map value.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Go's truth rule for `if`, `with`, `and`, `or`, `not`: zero values,
    /// nil and empty collections are false.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Uint(u) => *u != 0,
            Value::Float(f) => *f != 0.0,
            Value::Complex(re, im) => *re != 0.0 || *im != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(o) => !o.is_empty(),
        }
    }

    /// The Go type name, as `%T` prints it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Missing | Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Uint(_) => "uint".into(),
            Value::Float(_) => "float64".into(),
            Value::Complex(..) => "complex128".into(),
            Value::String(_) => "string".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Object(o) => o.type_name().into(),
        }
    }

    /// The `reflect.Kind` name, as Sprig's `kindOf` prints it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Missing | Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Uint(_) => "uint",
            Value::Float(_) => "float64",
            Value::Complex(..) => "complex128",
            Value::String(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(_) => "struct",
        }
    }

    /// Converts JSON data (values files, YAML documents) into template values.
    pub fn from_json(json: &serde_json::Value, mode: NumberMode) -> Value {
        match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match mode {
                NumberMode::Float64 => Value::Float(n.as_f64().unwrap_or(0.0)),
                NumberMode::GoTyped => {
                    if let Some(i) = n.as_i64() {
                        Value::Int(i)
                    } else if let Some(u) = n.as_u64() {
                        Value::Uint(u)
                    } else {
                        Value::Float(n.as_f64().unwrap_or(0.0))
                    }
                }
            },
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(a) => {
                Value::list(a.iter().map(|v| Value::from_json(v, mode)).collect())
            }
            serde_json::Value::Object(o) => Value::map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v, mode)))
                    .collect(),
            ),
        }
    }

    /// Converts back to JSON data, the way `encoding/json` marshals Go values
    /// (maps with sorted keys; NaN and infinities have no JSON form and
    /// become null here, where Go reports an error).
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_path(&mut Vec::new())
    }

    /// `path` holds the maps being converted: a map inside itself becomes null.
    fn to_json_path(&self, path: &mut Vec<usize>) -> serde_json::Value {
        use serde_json::Value as J;
        if path.len() > MAX_DEPTH {
            return J::Null;
        }
        match self {
            // JSON has no complex numbers (Go's encoder fails on them).
            Value::Missing | Value::Nil | Value::Complex(..) => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Uint(u) => J::from(*u),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    // Go's encoder writes integral floats without a fraction.
                    J::from(*f as i64)
                } else {
                    serde_json::Number::from_f64(*f).map_or(J::Null, J::Number)
                }
            }
            Value::String(s) => J::String(s.to_string()),
            Value::List(l) => J::Array(l.iter().map(|v| v.to_json_path(path)).collect()),
            Value::Map(m) => {
                let addr = m.addr();
                if path.contains(&addr) {
                    return J::Null;
                }
                path.push(addr);
                let obj = m
                    .entries()
                    .into_iter()
                    .map(|(k, v)| (k, v.to_json_path(path)))
                    .collect();
                path.pop();
                J::Object(obj)
            }
            Value::Object(o) => o.to_json(),
        }
    }

    /// A structural copy: maps are duplicated so changes to the copy do not
    /// show through the original (Sprig's `deepCopy`).
    pub fn deep_copy(&self) -> Value {
        self.deep_copy_path(&mut Vec::new())
    }

    /// A map inside itself is copied as nil at the point it recurs.
    fn deep_copy_path(&self, path: &mut Vec<usize>) -> Value {
        if path.len() > MAX_DEPTH {
            return Value::Nil;
        }
        match self {
            Value::List(l) => Value::list(l.iter().map(|v| v.deep_copy_path(path)).collect()),
            Value::Map(m) => {
                let addr = m.addr();
                if path.contains(&addr) {
                    return Value::Nil;
                }
                path.push(addr);
                let copy = m
                    .entries()
                    .into_iter()
                    .map(|(k, v)| (k, v.deep_copy_path(path)))
                    .collect();
                path.pop();
                Value::map(copy)
            }
            v => v.clone(),
        }
    }

    /// Go's `reflect.DeepEqual` on interface values.
    pub fn deep_equal(&self, other: &Value) -> bool {
        self.deep_equal_depth(other, 0)
    }

    fn deep_equal_depth(&self, other: &Value, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            // Only a structure that contains itself gets here.
            return false;
        }
        match (self, other) {
            (Value::Missing | Value::Nil, Value::Missing | Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Uint(a), Value::Uint(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Complex(a, b), Value::Complex(c, d)) => a == c && b == d,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| x.deep_equal_depth(y, depth + 1))
            }
            (Value::Map(a), Value::Map(b)) => {
                if a.ptr_eq(b) {
                    return true;
                }
                let (ea, eb) = (a.entries(), b.entries());
                ea.len() == eb.len()
                    && ea
                        .iter()
                        .zip(eb.iter())
                        .all(|((ka, va), (kb, vb))| ka == kb && va.deep_equal_depth(vb, depth + 1))
            }
            (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Nesting beyond this is treated as a cycle (a map that holds itself).
pub(crate) const MAX_DEPTH: usize = 1_000;

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::string(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::list(v)
    }
}
