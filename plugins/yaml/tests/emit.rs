//! Emitter tests: fixtures whose expected text was produced by
//! `kubectl kustomize` (v5.5.0) from the JSON input next to it, value ->
//! text tables, and parse(emit(v)) == v round trips over tricky strings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use manifold_yaml::{
    EmitOptions, ParseOptions, Schema, Value, from_str, parse_documents, to_string,
    to_string_stream, to_string_stream_with, to_string_with,
};
use serde_json::json;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

#[test]
fn fixtures_match_kustomize_byte_for_byte() {
    for name in ["strings", "structure", "random", "numbers"] {
        let input = std::fs::read_to_string(format!("{DATA}/{name}.json")).unwrap();
        let want = std::fs::read_to_string(format!("{DATA}/{name}.kustomize.yaml")).unwrap();
        let value = from_str(&input).unwrap();
        let got = to_string_with(&value, &EmitOptions::kustomize());
        if got != want {
            for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
                assert_eq!(g, w, "{name}: first difference at line {}", i + 1);
            }
            assert_eq!(got, want, "{name}");
        }
        // Kustomize's output must itself read back to the same value (up to
        // number types: it prints integral floats as integers).
        let reread = from_str(&want).unwrap();
        assert!(
            as_floats(reread) == as_floats(value),
            "{name}: re-read differs"
        );
    }
}

#[test]
fn values_print_as_go_yaml_does() {
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "{}\n"),
        (json!([]), "[]\n"),
        (Value::Null, "null\n"),
        (json!("plain"), "plain\n"),
        (json!(""), "\"\"\n"),
        (json!("a\nb"), "|-\n  a\n  b\n"),
        (json!(3), "3\n"),
        (json!({"b": 1, "a": 2}), "b: 1\na: 2\n"),
        (
            json!({"spec": {"containers": [{"name": "x", "ports": [{"containerPort": 80}]}]}}),
            "spec:\n  containers:\n  - name: x\n    ports:\n    - containerPort: 80\n",
        ),
        (
            json!([[1, 2], [], {}, {"a": []}]),
            "- - 1\n  - 2\n- []\n- {}\n- a: []\n",
        ),
        (
            json!({"t": "true", "y": "yes", "o": "0777", "e": "1e3", "n": "1", "nl": "null", "ts": "2024-01-01"}),
            "t: \"true\"\n\"y\": \"yes\"\no: \"0777\"\ne: \"1e3\"\n\"n\": \"1\"\nnl: \"null\"\nts: \"2024-01-01\"\n",
        ),
        (
            json!({"c": "a: b", "h": "a #b", "s": "*", "l": " x", "t": "x ", "q": "it's", "d": "say \"hi\""}),
            "c: 'a: b'\nh: 'a #b'\ns: '*'\nl: ' x'\nt: 'x '\nq: it's\nd: say \"hi\"\n",
        ),
        (
            json!({"k": "keep\n\n", "c": "clip\n", "s": " lead\n"}),
            "k: |+\n  keep\n\nc: |\n  clip\ns: |2\n   lead\n",
        ),
        (
            json!({"x": "trailing \nspace"}),
            "x: \"trailing \\nspace\"\n",
        ),
        (
            json!({"f": 1.5, "i": 1.0, "big": 1e10, "huge": 1e21, "tiny": 0.00001}),
            "f: 1.5\ni: 1\nbig: 10000000000\nhuge: 1e+21\ntiny: 1e-05\n",
        ),
        (
            json!({"emoji": "😀", "accent": "é"}),
            "emoji: \"\\U0001F600\"\naccent: é\n",
        ),
    ];
    for (value, want) in cases {
        assert_eq!(to_string(&value), want, "{value}");
    }
}

#[test]
fn sorting_uses_go_yaml_natural_order() {
    let v = json!({"b": 1, "a10": 1, "a2": 1, "A": 1, "a_b": 1, "aB": 1, "": 1, "1": 1});
    let got = to_string_with(&v, &EmitOptions::kustomize());
    let keys: Vec<&str> = got
        .lines()
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        keys,
        vec!["\"\"", "\"1\"", "A", "a_b", "a2", "a10", "aB", "b"]
    );
}

#[test]
fn folding_can_be_disabled() {
    let long = "word ".repeat(30);
    let v = json!({"k": long.trim()});
    assert!(to_string(&v).lines().count() > 1);
    let flat = to_string_with(
        &v,
        &EmitOptions {
            line_width: None,
            sort_keys: false,
        },
    );
    assert_eq!(flat.lines().count(), 1);
}

#[test]
fn streams_are_separated_like_kustomize_build() {
    let docs = vec![json!({"a": 1}), json!({"b": [1]}), json!("s")];
    assert_eq!(to_string_stream(&docs), "a: 1\n---\nb:\n- 1\n---\ns\n");
    assert_eq!(to_string_stream(&[]), "");
    let text = to_string_stream_with(&docs, &EmitOptions::kustomize());
    let back: Vec<Value> = parse_documents(&text, &ParseOptions::default())
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .collect();
    assert_eq!(back, docs);
}

/// Integral floats print as integers (as kustomize does), so compare
/// numbers by value.
fn normalize(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9e15 => json!(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, normalize(v))).collect()),
        other => other,
    }
}

/// Every number as f64, for comparisons where only numeric values count.
fn as_floats(v: Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.into_iter().map(as_floats).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, as_floats(v))).collect()),
        other => other,
    }
}

fn tricky_strings() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "a",
        "true",
        "False",
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "n",
        "~",
        "null",
        "0",
        "-1",
        "+1",
        "0777",
        "0o17",
        "0x1F",
        "1_000",
        "1e3",
        ".5",
        "5.",
        "08",
        "1:20",
        "-1:20:30.5",
        ".inf",
        "-.Inf",
        ".nan",
        "2024-01-01",
        "2001-12-14t21:59:43.10-05:00",
        "<<",
        "=",
        "-",
        "--",
        "---",
        "...",
        "?",
        "? a",
        ":",
        ": a",
        "a:",
        "a: b",
        "a:b",
        "a #b",
        "a#b",
        "#a",
        "*",
        "&a",
        "!a",
        "|",
        ">",
        "'",
        "\"",
        "%",
        "@",
        "`",
        ",",
        "[",
        "]",
        "{",
        "}",
        "[a]",
        "{a: b}",
        "- a",
        "-a",
        "x ",
        " x",
        "\tx",
        "x\t",
        "a\tb",
        "a\nb",
        "a\nb\n",
        "a\n\n",
        "\n",
        "\n\n",
        "\na",
        " a\nb",
        "a \nb",
        "a\n b",
        "a\n\nb",
        "a\r\nb",
        "\r",
        "é",
        "日本語",
        "😀",
        "a😀b",
        "\u{a0}",
        "\u{85}",
        "\u{2028}",
        "\u{feff}x",
        "\u{7}",
        "\u{1b}",
        "\0",
        "it's",
        "say \"hi\"",
        "back\\slash",
        "#!/bin/sh\necho hi\n",
        "  lead\n  more\n",
        "line   \nnext",
        "a\n   \n",
        "$(VAR)",
        "{{ .Values.x }}",
        "x: |\n  y\n",
        "- item\n- item\n",
        "key: value # comment",
        "a  b",
        "a   ",
        "...x",
        "---x",
        "%TAG",
        "!!str",
        "&anchor x",
        "*alias",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("word ".repeat(40));
    v.push("x".repeat(90) + " " + &"y".repeat(90));
    v.push("a".repeat(85) + "  " + "b");
    v.push(("long words here ".repeat(10)) + "\nand a second line " + &"z ".repeat(50) + "\n");
    v.push(" ".repeat(100) + "x");
    v.push("a ".repeat(60) + "\t" + &"b ".repeat(60));
    v.push("'".repeat(5) + &" ".repeat(90) + "'");
    v
}

#[test]
fn tricky_strings_round_trip_as_values_and_keys() {
    let strings = tricky_strings();
    for opts in [
        EmitOptions::default(),
        EmitOptions::kustomize(),
        EmitOptions {
            line_width: Some(20),
            sort_keys: false,
        },
    ] {
        for s in &strings {
            let cases = [
                json!(s),
                json!({"k": s}),
                json!([s, [s], {"n": {"m": s}}]),
                json!({ s.clone(): s }),
                json!({"outer": [{ s.clone(): [s] }]}),
            ];
            for v in cases {
                let text = to_string_with(&v, &opts);
                for schema in [Schema::Yaml12, Schema::Yaml11] {
                    let parsed = parse_documents(
                        &text,
                        &ParseOptions {
                            schema,
                            ..ParseOptions::default()
                        },
                    )
                    .unwrap_or_else(|e| panic!("{s:?}: {e}\n{text}"));
                    assert_eq!(parsed.len(), 1, "{s:?}:\n{text}");
                    assert_eq!(parsed[0].value, v, "{s:?} ({schema:?}) emitted as:\n{text}");
                }
            }
        }
    }
}

#[test]
fn numbers_and_scalars_round_trip() {
    let values = vec![
        json!(0),
        json!(-0.5),
        json!(i64::MIN),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1.5e300),
        json!(-2.5e-8),
        json!(0.1),
        json!(123456.789),
        json!(1e6),
        json!(true),
        json!(false),
        Value::Null,
        json!({"nested": {"deeper": [1, 2.5, null, true, "x", {"y": []}]}}),
    ];
    for v in values {
        let text = to_string(&v);
        let back = from_str(&text).unwrap_or_else(|e| panic!("{v}: {e}\n{text}"));
        assert_eq!(
            normalize(back),
            normalize(v.clone()),
            "{v} emitted as {text}"
        );
    }
}
