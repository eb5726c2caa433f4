//! Table-driven parser tests: YAML text -> expected JSON value, or expected
//! error substring and line, under both schemas.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use manifold_yaml::{
    Duplicates, ParseOptions, Schema, Value, from_str, parse_bytes, parse_documents,
};
use serde_json::json;

fn opts(schema: Schema) -> ParseOptions {
    ParseOptions {
        schema,
        ..ParseOptions::default()
    }
}

/// (input, expected value of the single document)
fn value_cases() -> Vec<(&'static str, Value)> {
    vec![
        ("a: b\n", json!({"a": "b"})),
        ("", Value::Null),
        ("# only a comment\n", Value::Null),
        ("42\n", json!(42)),
        ("- a\n- b\n", json!(["a", "b"])),
        ("just a string", json!("just a string")),
        (
            "{a: 1, b: [x, y], c: {}}",
            json!({"a": 1, "b": ["x", "y"], "c": {}}),
        ),
        (
            r#"{"json": [1, 2.5, true, null, "s"]}"#,
            json!({"json": [1, 2.5, true, null, "s"]}),
        ),
        (
            "a: ~\nb: null\nc:\n",
            json!({"a": null, "b": null, "c": null}),
        ),
        (
            "t: true\nf: False\ny: yes\nn: no\non: on\n",
            json!({"t": true, "f": false, "y": "yes", "n": "no", "on": "on"}),
        ),
        (
            "oct: 0777\no2: 0o17\nhex: 0x1F\nu: 1_000\nneg: -12\nplus: +3\n",
            json!({"oct": 511, "o2": 15, "hex": 31, "u": 1000, "neg": -12, "plus": 3}),
        ),
        (
            "f: 1.5\ne: 1e3\nd: .5\nz: 08\n",
            json!({"f": 1.5, "e": 1000.0, "d": 0.5, "z": 8.0}),
        ),
        (
            "big: 18446744073709551615\nbigger: 123456789012345678901234\n",
            json!({"big": 18446744073709551615u64, "bigger": 1.2345678901234568e23}),
        ),
        (
            "inf: .inf\nninf: -.Inf\nnan: .NaN\n",
            json!({"inf": ".inf", "ninf": "-.Inf", "nan": ".NaN"}),
        ),
        (
            "d: 2024-01-01\nts: 2001-12-14t21:59:43.10-05:00\n",
            json!({"d": "2024-01-01", "ts": "2001-12-14t21:59:43.10-05:00"}),
        ),
        (
            "q: \"true\"\ns: '1'\nv: \"0777\"\n",
            json!({"q": "true", "s": "1", "v": "0777"}),
        ),
        (
            "s: !!str 123\ni: !!int \"42\"\nf: !!float 3\nb: !!bool \"true\"\nn: !!null ''\n",
            json!({"s": "123", "i": 42, "f": 3.0, "b": true, "n": null}),
        ),
        (
            "custom: !foo 12\nbare: ! 12\nverb: !<tag:yaml.org,2002:str> 7\n",
            json!({"custom": "12", "bare": "12", "verb": "7"}),
        ),
        (
            "m: !!map {a: 1}\ns: !!seq [1]\nx: !mytag {a: 1}\n",
            json!({"m": {"a": 1}, "s": [1], "x": {"a": 1}}),
        ),
        (
            "1: a\ntrue: b\n1.50: c\n0x10: d\n",
            json!({"1": "a", "true": "b", "1.50": "c", "0x10": "d"}),
        ),
        (
            "lit: |\n  line1\n  line2\nstrip: |-\n  x\nkeep: |+\n  y\n\nfold: >\n  a\n  b\n\n  c\n",
            json!({"lit": "line1\nline2\n", "strip": "x", "keep": "y\n\n", "fold": "a b\nc\n"}),
        ),
        (
            "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n",
            json!({"base": {"x": 1, "y": 2}, "derived": {"x": 1, "y": 3}}),
        ),
        (
            "a: &a {x: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n  w: 0\n",
            json!({"a": {"x": 1}, "b": {"x": 2, "z": 2}, "c": {"x": 1, "z": 2, "w": 0}}),
        ),
        (
            "a: {x: 1}\nc:\n  x: 5\n  <<: {x: 1, y: 2}\n",
            json!({"a": {"x": 1}, "c": {"x": 5, "y": 2}}),
        ),
        ("\"<<\": 1\n", json!({"<<": 1})),
        (
            "anchor: &v hello\nuse: *v\nlist: &l [1, 2]\nl2: *l\n",
            json!({"anchor": "hello", "use": "hello", "list": [1, 2], "l2": [1, 2]}),
        ),
        (
            "%YAML 1.2\n%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
            json!({"a": "1"}),
        ),
        ("? complex\n: value\n", json!({"complex": "value"})),
        (
            "k: 'it''s'\nd: \"tab\\there\\u00e9\"\n",
            json!({"k": "it's", "d": "tab\there\u{e9}"}),
        ),
        (
            "multi: this is\n  a plain\n  scalar\n",
            json!({"multi": "this is a plain scalar"}),
        ),
        ("a:\n- x\n- y\nb: 1\n", json!({"a": ["x", "y"], "b": 1})),
        (
            "- - a\n  - b\n- c: d\n  e: f\n",
            json!([["a", "b"], {"c": "d", "e": "f"}]),
        ),
        ("\u{feff}a: 1\n", json!({"a": 1})),
        (
            "a: 1 # comment\n# c\nb: \"#not\"\n",
            json!({"a": 1, "b": "#not"}),
        ),
        ("url: http://x:80/a#b\n", json!({"url": "http://x:80/a#b"})),
        ("key with spaces: v\n", json!({"key with spaces": "v"})),
        // go-yaml accepts a quoted scalar continued at its key's indent
        // (gatekeeper's policy library relies on it).
        ("a:\n  b: \"x\n  y\"\n", json!({"a": {"b": "x y"}})),
        (
            "d: >-\n  folded\n  text\n\n  para\n",
            json!({"d": "folded text\npara"}),
        ),
    ]
}

#[test]
fn values_parse_as_go_yaml_v3() {
    for (input, want) in value_cases() {
        let got = from_str(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(got, want, "input {input:?}");
    }
}

#[test]
fn yaml11_schema_matches_sigs_k8s_yaml() {
    let cases: Vec<(&str, Value)> = vec![
        (
            "a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: n\n",
            json!({"a": true, "b": false, "c": true, "d": false, "e": true, "f": false}),
        ),
        (
            "y: 1\nno: 2\n1: 3\n1.5: 4\n0x10: 5\n",
            json!({"true": 1, "false": 2, "1": 3, "1.5": 4, "16": 5}),
        ),
        ("v: 0777\nw: 1_000\n", json!({"v": 511, "w": 1000})),
        ("q: 'yes'\n", json!({"q": "yes"})),
    ];
    for (input, want) in cases {
        let docs = parse_documents(input, &opts(Schema::Yaml11)).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].value, want, "input {input:?}");
    }
}

#[test]
fn streams_count_documents_and_lines() {
    let text = "a: 1\n---\n---\n# c\n\nb: 2\n...\n--- x\n";
    let docs = parse_documents(text, &ParseOptions::default()).unwrap();
    let got: Vec<(usize, u32, Value)> = docs
        .into_iter()
        .map(|d| (d.index, d.line, d.value))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 1, json!({"a": 1})),
            (1, 2, Value::Null),
            (2, 6, json!({"b": 2})),
            (3, 8, json!("x"))
        ]
    );
    assert!(
        parse_documents("", &ParseOptions::default())
            .unwrap()
            .is_empty()
    );
    let e = from_str("a: 1\n---\nb: 2\n").unwrap_err();
    assert!(e.message.contains("one document"), "{e}");
}

/// (input, options tweak, error substring, line)
#[test]
fn errors_name_line_and_cause() {
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    let deep = "[".repeat(300) + &"]".repeat(300);
    let deep_block: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    let cases: Vec<(&str, &str, u32)> = vec![
        ("a: b: c\n", "mapping values are not allowed here", 1),
        (
            "name: a\nx: 1\nname: b\n",
            "duplicate key \"name\" (first at line 1)",
            3,
        ),
        (
            "a:\n  k: 1\n  j: 2\n  k: 3\n",
            "duplicate key \"k\" (first at line 2)",
            4,
        ),
        (
            bomb,
            "alias expansion exceeds 1000000 nodes (a YAML bomb?)",
            6,
        ),
        (&deep, "nesting deeper than 255 levels", 1),
        (&deep_block, "nesting deeper than 256 levels", 257),
        ("a:\n\tb: 1\n", "tab", 2),
        ("~: 1\n", "key cannot be null", 1),
        ("[a]: 1\n", "must be a scalar", 1),
        ("? {a: 1}\n: x\n", "must be a scalar", 1),
        ("a: *nope\n", "unknown anchor", 1),
        ("a: !!int abc\n", "cannot decode", 1),
        ("a: 'unterminated\n", "quoted scalar", 1),
        ("a: [1, 2\n", "", 2),
        ("x: 1\n<<: 5\n", "merge key", 2),
        ("- a\nb: c\n", "", 2),
    ];
    for (input, needle, line) in cases {
        let e = from_str(input).expect_err(input);
        assert!(e.message.contains(needle), "{input:?}: got {e}");
        assert_eq!(e.line, line, "{input:?}: got {e}");
        assert!(e.column >= 1);
        assert!(
            e.to_string().starts_with(&format!("line {line}, column ")),
            "{e}"
        );
    }
}

#[test]
fn duplicates_can_be_allowed() {
    let o = ParseOptions {
        duplicate_keys: Duplicates::LastWins,
        ..ParseOptions::default()
    };
    let docs = parse_documents("a: 1\nb: 2\na: 3\n", &o).unwrap();
    assert_eq!(docs[0].value, json!({"a": 3, "b": 2}));
    assert_eq!(
        serde_json::to_string(&docs[0].value).unwrap(),
        r#"{"a":3,"b":2}"#
    );
}

#[test]
fn merged_keys_may_be_overridden_once() {
    let e = from_str("b: &b {x: 1}\nc:\n  <<: *b\n  x: 2\n  x: 3\n").unwrap_err();
    assert!(e.message.contains("duplicate key \"x\""), "{e}");
    assert_eq!(e.line, 5);
}

#[test]
fn invalid_utf8_names_the_line() {
    let e = parse_bytes(b"a: 1\nb: \xff\xfe\n", &ParseOptions::default()).unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.line, e.column),
        ("invalid UTF-8", 2, 4)
    );
    let ok = parse_bytes("a: é\n".as_bytes(), &ParseOptions::default()).unwrap();
    assert_eq!(ok[0].value, json!({"a": "é"}));
}

#[test]
fn small_alias_budget_is_enforced() {
    let o = ParseOptions {
        max_alias_nodes: 5,
        ..ParseOptions::default()
    };
    assert!(parse_documents("a: &a [1, 2]\nb: *a\n", &o).is_ok());
    let e = parse_documents("a: &a [1, 2]\nb: *a\nc: *a\n", &o).unwrap_err();
    assert!(e.message.contains("exceeds 5 nodes"), "{e}");
    assert_eq!(e.line, 3);
}

#[test]
fn positions_point_at_nodes() {
    let o = ParseOptions {
        positions: true,
        ..ParseOptions::default()
    };
    let text = "---\nkind: Pod\nmetadata:\n  name: x\n  labels:\n    a/b: c\nspec:\n  containers:\n  - name: c\n    image: i\n";
    let docs = parse_documents(text, &o).unwrap();
    let d = &docs[0];
    assert_eq!(d.line, 2);
    let cases = [
        ("", 2),
        ("/kind", 2),
        ("/metadata/name", 4),
        ("/metadata/labels/a~1b", 6),
        ("/spec/containers/0", 9),
        ("/spec/containers/0/image", 10),
        ("/spec/containers/0/missing/deeper", 9),
        ("/nothing", 2),
    ];
    for (ptr, line) in cases {
        assert_eq!(d.line_of(ptr), Some(line), "{ptr}");
    }
    let plain = parse_documents(text, &ParseOptions::default()).unwrap();
    assert_eq!(plain[0].line_of("/kind"), None);
}

#[test]
fn scalar_and_list_documents() {
    let docs =
        parse_documents("--- 5\n--- [1]\n--- |\n  text\n", &ParseOptions::default()).unwrap();
    let values: Vec<Value> = docs.into_iter().map(|d| d.value).collect();
    assert_eq!(values, vec![json!(5), json!([1]), json!("text\n")]);
}
