//! Robustness: templates assembled at random from template-language tokens
//! (valid and broken) are parsed and executed with Helm's function map; any
//! outcome is fine except a panic.

#![allow(clippy::panic)] // a found panic is reported by failing the test

use std::panic::{AssertUnwindSafe, catch_unwind};

use manifold_gotemplate::{ExecOptions, NumberMode, TemplateSet, Value};

const TOKENS: &[&str] = &[
    "{{",
    "}}",
    "{{- ",
    " -}}",
    " ",
    "\n",
    ".",
    ".a",
    ".b.c",
    "$",
    "$x",
    "$x :=",
    "$x =",
    "|",
    "(",
    ")",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "\"t\"",
    "`raw`",
    "'c'",
    "1",
    "-2",
    "3.5",
    "0x1F",
    "1e3",
    "2i",
    "nil",
    "true",
    "/*",
    "*/",
    ",",
    ":=",
    "=",
    "printf",
    "\"%d %s %v %5.2f %q %x\"",
    "index",
    "slice",
    "len",
    "eq",
    "lt",
    "and",
    "or",
    "not",
    "default",
    "dict",
    "list",
    "set",
    "get",
    "merge",
    "toYaml",
    "fromYaml",
    "toJson",
    "fromJson",
    "include",
    "tpl",
    "required",
    "fail",
    "quote",
    "upper",
    "trunc",
    "substr",
    "nindent",
    "b64dec",
    "regexFind",
    "\"[\"",
    "semverCompare",
    "\">=1.0\"",
    "until",
    "seq",
    "add",
    "div",
    "mod",
    "0",
    "splitList",
    "join",
    "first",
    "rest",
    "dig",
    "toToml",
    "fromToml",
    "date",
    "now",
    "duration",
    "keys",
    "values",
    "pluck",
    "uniq",
    "sortAlpha",
    "htmlDate",
    "urlParse",
    "typeOf",
    "kindIs",
];

fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn random_templates_never_panic() {
    let data = Value::from_json(
        &serde_json::json!({"a": 1, "b": {"c": [1, "x", null, {"d": 2.5}]}, "s": "text"}),
        NumberMode::Float64,
    );
    let funcs = manifold_gotemplate::helm();
    let mut seed: u64 = std::env::var("ROBUSTNESS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let mut parsed = 0;
    let rounds: usize = std::env::var("ROBUSTNESS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    for _ in 0..rounds {
        let n = 3 + (next(&mut seed) % 25) as usize;
        let mut text = String::new();
        for _ in 0..n {
            let t = TOKENS[(next(&mut seed) % TOKENS.len() as u64) as usize];
            text.push_str(t);
            if next(&mut seed).is_multiple_of(3) {
                text.push(' ');
            }
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            match TemplateSet::parse(&[("t", text.as_str())], funcs.clone()) {
                Ok(set) => {
                    let _ = set.execute("t", &data, &ExecOptions::helm());
                    let _ = set.execute("t", &Value::Missing, &ExecOptions::default());
                    true
                }
                Err(_) => false,
            }
        }));
        match outcome {
            Ok(true) => parsed += 1,
            Ok(false) => {}
            Err(_) => panic!("panicked on template {text:?}"),
        }
    }
    assert!(
        parsed > 100,
        "too few random templates parsed ({parsed}) to exercise the executor"
    );
}

/// Every function of Helm's map, called with its minimum number of
/// arguments (and a few more) of every kind, returns a value or an error
/// but never panics.
#[test]
fn every_function_survives_any_arguments() {
    let funcs = manifold_gotemplate::helm();
    let data = Value::from_json(
        &serde_json::json!({
            "n": null, "i": 3, "f": -2.5, "s": "a-b", "l": [1, "x"], "m": {"k": "v"}, "b": true, "e": ""
        }),
        NumberMode::GoTyped,
    );
    let kinds = [".n", ".i", ".f", ".s", ".l", ".m", ".b", ".e", ".missing"];
    let mut calls = 0;
    for name in funcs.names() {
        // Functions that recurse into the template set or need a clock are
        // exercised elsewhere; they take the same argument checks.
        let Some(f) = funcs.get(name) else { continue };
        let min = f.min_args;
        let max = f.max_args.unwrap_or(min + 2).min(min + 2);
        for n in min..=max {
            for k in 0..kinds.len() {
                let args: Vec<&str> = (0..n).map(|j| kinds[(k + j) % kinds.len()]).collect();
                let text = format!("{{{{ {name} {} }}}}", args.join(" "));
                calls += 1;
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    if let Ok(set) = TemplateSet::parse(&[("t", text.as_str())], funcs.clone()) {
                        let _ = set.execute("t", &data, &ExecOptions::helm());
                    }
                }));
                if outcome.is_err() {
                    panic!("panicked on {text:?}");
                }
            }
        }
    }
    assert!(calls > 1000, "only {calls} calls");
}

/// A map that contains itself can be printed, compared, copied and
/// encoded without exhausting the stack.
#[test]
fn self_containing_maps_are_survivable() {
    let text = r#"{{ $a := dict }}{{ $_ := set $a "self" $a }}{{ $_ := set $a "again" $a }}{{ $b := dict }}{{ $_ := set $b "self" $b }}{{ len (printf "%v %d %#v" $a $a $a) | lt 0 }} {{ has $a (list $b) }} {{ toJson $a }}|{{ toYaml $a }}|{{ len (deepCopy $a) }}"#;
    let set = TemplateSet::parse(&[("t", text)], manifold_gotemplate::helm())
        .unwrap_or_else(|e| panic!("{e}"));
    let out = set
        .execute("t", &Value::Missing, &ExecOptions::helm())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out, "true false ||2");
}
