//! OPA builtins that regorus lacks but policies still call, registered as
//! regorus extensions on every engine: the deprecated `any`, `all`,
//! `re_match`, `set_diff` and `cast_*` of Rego v0, plus
//! `regex.find_all_string_submatch_n` and `net.cidr_intersects`.
//!
//! As in OPA without strict builtin errors, a wrong argument type makes the
//! call undefined rather than failing the evaluation.

use std::collections::BTreeSet;

use regorus::Value;

type Builtin = fn(Vec<Value>) -> anyhow::Result<Value>;

/// `(name, number of arguments, implementation)`.
pub(crate) const DEPRECATED: &[(&str, u8, Builtin)] = &[
    ("any", 1, any),
    ("all", 1, all),
    ("re_match", 2, re_match),
    ("set_diff", 2, set_diff),
    ("cast_array", 1, cast_array),
    ("cast_set", 1, cast_set),
    ("cast_string", 1, cast_string),
    ("cast_boolean", 1, cast_boolean),
    ("cast_null", 1, cast_null),
    ("cast_object", 1, cast_object),
    (
        "regex.find_all_string_submatch_n",
        3,
        find_all_string_submatch_n,
    ),
    ("net.cidr_intersects", 2, cidr_intersects),
];

/// The elements of an array or set.
fn elements(value: Option<&Value>) -> Option<Vec<Value>> {
    match value? {
        Value::Array(items) => Some(items.iter().cloned().collect()),
        Value::Set(items) => Some(items.iter().cloned().collect()),
        _ => None,
    }
}

fn any(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(match elements(args.first()) {
        Some(items) => Value::Bool(items.contains(&Value::Bool(true))),
        None => Value::Undefined,
    })
}

fn all(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(match elements(args.first()) {
        Some(items) => Value::Bool(items.iter().all(|v| *v == Value::Bool(true))),
        None => Value::Undefined,
    })
}

fn re_match(args: Vec<Value>) -> anyhow::Result<Value> {
    let (Some(Value::String(pattern)), Some(Value::String(value))) = (args.first(), args.get(1))
    else {
        return Ok(Value::Undefined);
    };
    Ok(match regex::Regex::new(pattern) {
        Ok(re) => Value::Bool(re.is_match(value)),
        Err(_) => Value::Undefined,
    })
}

fn set_diff(args: Vec<Value>) -> anyhow::Result<Value> {
    let (Some(Value::Set(a)), Some(Value::Set(b))) = (args.first(), args.get(1)) else {
        return Ok(Value::Undefined);
    };
    let diff: BTreeSet<Value> = a.iter().filter(|v| !b.contains(v)).cloned().collect();
    Ok(Value::from(diff))
}

fn cast_array(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(match args.first() {
        Some(v @ Value::Array(_)) => v.clone(),
        Some(Value::Set(items)) => Value::from(items.iter().cloned().collect::<Vec<_>>()),
        _ => Value::Undefined,
    })
}

fn cast_set(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(match elements(args.first()) {
        Some(items) => Value::from(items.into_iter().collect::<BTreeSet<_>>()),
        None => Value::Undefined,
    })
}

/// The argument itself when `keep` accepts it, otherwise undefined.
fn identity_if(args: &[Value], keep: fn(&Value) -> bool) -> Value {
    match args.first() {
        Some(v) if keep(v) => v.clone(),
        _ => Value::Undefined,
    }
}

fn cast_string(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(identity_if(&args, |v| matches!(v, Value::String(_))))
}

fn cast_boolean(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(identity_if(&args, |v| matches!(v, Value::Bool(_))))
}

fn cast_null(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(identity_if(&args, |v| matches!(v, Value::Null)))
}

fn cast_object(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(identity_if(&args, |v| matches!(v, Value::Object(_))))
}

/// Go's `FindAllStringSubmatch`: each match with its groups, `""` for a
/// group that did not participate; `n < 0` means all matches.
fn find_all_string_submatch_n(args: Vec<Value>) -> anyhow::Result<Value> {
    let (Some(Value::String(pattern)), Some(Value::String(value)), Some(n)) =
        (args.first(), args.get(1), args.get(2))
    else {
        return Ok(Value::Undefined);
    };
    let (Ok(n), Ok(re)) = (n.as_i64(), regex::Regex::new(pattern)) else {
        return Ok(Value::Undefined);
    };
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    let matches: Vec<Value> = re
        .captures_iter(value)
        .take(limit)
        .map(|caps| {
            Value::from(
                caps.iter()
                    .map(|g| Value::from(g.map_or("", |m| m.as_str())))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    Ok(Value::from(matches))
}

/// An IPv4 or IPv6 network as (address bits, prefix length, bit width).
fn parse_cidr(text: &str) -> Option<(u128, u32, u32)> {
    let (addr, prefix) = text.split_once('/')?;
    let prefix: u32 = prefix.parse().ok()?;
    match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) if prefix <= 32 => Some((u128::from(u32::from(a)), prefix, 32)),
        std::net::IpAddr::V6(a) if prefix <= 128 => Some((u128::from(a), prefix, 128)),
        _ => None,
    }
}

fn cidr_intersects(args: Vec<Value>) -> anyhow::Result<Value> {
    let (Some(Value::String(a)), Some(Value::String(b))) = (args.first(), args.get(1)) else {
        return Ok(Value::Undefined);
    };
    let (Some((a, a_len, a_bits)), Some((b, b_len, b_bits))) = (parse_cidr(a), parse_cidr(b))
    else {
        return Ok(Value::Undefined);
    };
    if a_bits != b_bits {
        return Ok(Value::Bool(false));
    }
    // Two networks overlap exactly when they agree on the shorter prefix.
    let ones = |bits: u32| 1u128.checked_shl(bits).map_or(u128::MAX, |v| v - 1);
    let host_bits = a_bits - a_len.min(b_len);
    let mask = ones(a_bits) & !ones(host_bits);
    Ok(Value::Bool(a & mask == b & mask))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::rego::{self, EngineSettings, RegoVersion};

    #[test]
    fn deprecated_builtins_evaluate_like_opa() {
        // (expression, expected JSON value or None for undefined)
        let cases = [
            ("any([false, true])", Some("true")),
            ("any({false})", Some("false")),
            ("any([])", Some("false")),
            ("all([true, true])", Some("true")),
            ("all([true, false])", Some("false")),
            ("all(set())", Some("true")),
            ("any(\"x\")", None),
            ("re_match(\"^a+$\", \"aaa\")", Some("true")),
            ("re_match(\"^a+$\", \"ab\")", Some("false")),
            ("re_match(\"(\", \"ab\")", None),
            ("set_diff({1, 2, 3}, {2})", Some("[1,3]")),
            ("cast_array({2, 1})", Some("[1,2]")),
            ("cast_set([2, 1, 2])", Some("[1,2]")),
            ("cast_string(\"s\")", Some("\"s\"")),
            ("cast_string(1)", None),
            ("cast_boolean(true)", Some("true")),
            ("cast_null(null)", Some("null")),
            ("cast_object({\"a\": 1})", Some("{\"a\":1}")),
            (
                "regex.find_all_string_submatch_n(\"a(x*)(y)?\", \"axxay\", -1)",
                Some("[[\"axx\",\"xx\",\"\"],[\"ay\",\"\",\"y\"]]"),
            ),
            (
                "regex.find_all_string_submatch_n(\"[0-9]\", \"1 2 3\", 2)",
                Some("[[\"1\"],[\"2\"]]"),
            ),
            (
                "net.cidr_intersects(\"10.0.0.0/8\", \"10.1.0.0/16\")",
                Some("true"),
            ),
            (
                "net.cidr_intersects(\"10.0.0.0/16\", \"10.1.0.0/16\")",
                Some("false"),
            ),
            (
                "net.cidr_intersects(\"0.0.0.0/0\", \"192.168.1.0/24\")",
                Some("true"),
            ),
            (
                "net.cidr_intersects(\"192.168.1.1/32\", \"192.168.1.1/32\")",
                Some("true"),
            ),
            (
                "net.cidr_intersects(\"fd00::/8\", \"fd12::/16\")",
                Some("true"),
            ),
            (
                "net.cidr_intersects(\"fd00::/16\", \"fe00::/16\")",
                Some("false"),
            ),
            (
                "net.cidr_intersects(\"10.0.0.0/8\", \"fd00::/8\")",
                Some("false"),
            ),
            ("net.cidr_intersects(\"10.0.0.0/33\", \"10.0.0.0/8\")", None),
        ];
        for (expression, expected) in cases {
            let mut engine = rego::new_engine(EngineSettings::default());
            let source = format!("package t\nx := {expression}\n");
            rego::add_module(&mut engine, "t.rego", &source, RegoVersion::V0).unwrap();
            let value = rego::eval_rule(&mut engine, "data.t.x", "t.rego").unwrap();
            let json = value.map(|v| serde_json::to_string(&rego::to_json(&v).unwrap()).unwrap());
            assert_eq!(json.as_deref(), expected, "{expression}");
        }
        // A policy's own function of the same name wins.
        let mut engine = rego::new_engine(EngineSettings::default());
        let source = "package t\nall(a) = \"mine\" { true }\nx := all([false])\n";
        rego::add_module(&mut engine, "t.rego", source, RegoVersion::V0).unwrap();
        let value = rego::eval_rule(&mut engine, "data.t.x", "t.rego").unwrap();
        assert_eq!(
            value.map(|v| rego::to_json(&v).unwrap()),
            Some(serde_json::json!("mine"))
        );
    }
}
