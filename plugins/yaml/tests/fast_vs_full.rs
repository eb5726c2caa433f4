//! Differential tests: wherever the fast path accepts an input, it must give
//! exactly what the full parser gives (values, document index and line, and
//! node lines). The corpus is every YAML file of the shared conformance
//! cases, our emitter's output for tricky values, and hand-written snippets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use manifold_yaml::testing::{fast, full};
use manifold_yaml::{Duplicates, EmitOptions, ParseOptions, Schema, Value, to_string_with};
use serde_json::json;

fn conformance_dir() -> PathBuf {
    std::env::var_os("MANIFOLD_CONFORMANCE_DIR").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/conformance"
            ))
        },
        PathBuf::from,
    )
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

fn pointers(v: &Value, prefix: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1"));
                pointers(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{prefix}/{i}"), out);
            }
        }
        Value::Null => return,
        _ => {}
    }
    out.push(prefix);
}

/// Checks one input under several option sets; returns whether the fast
/// path took it.
fn check(name: &str, text: &str) -> bool {
    let mut took = false;
    for schema in [Schema::Yaml12, Schema::Yaml11] {
        for positions in [false, true] {
            for duplicate_keys in [Duplicates::Error, Duplicates::LastWins] {
                let opts = ParseOptions {
                    schema,
                    positions,
                    duplicate_keys,
                    ..ParseOptions::default()
                };
                let Some(f) = fast(text, &opts) else {
                    continue;
                };
                took = true;
                let s = match full(text, &opts) {
                    Ok(s) => s,
                    // go-yaml (and so kubectl, kustomize, helm, gatekeeper's
                    // own policy library) accepts quoted scalars continued at
                    // the key's indent; saphyr does not. The fast path sides
                    // with go-yaml.
                    Err(e) if e.message.contains("invalid indentation in quoted scalar") => {
                        continue;
                    }
                    Err(e) => panic!(
                        "{name}: fast path accepted what the full parser rejects ({e}):\n{text}"
                    ),
                };
                assert_eq!(f.len(), s.len(), "{name}: document count\n{text}");
                for (a, b) in f.iter().zip(&s) {
                    assert_eq!(
                        a.value, b.value,
                        "{name}: doc {} ({schema:?})\n{text}",
                        b.index
                    );
                    assert_eq!(
                        (a.index, a.line),
                        (b.index, b.line),
                        "{name}: doc position\n{text}"
                    );
                    if positions {
                        let mut ptrs = Vec::new();
                        pointers(&b.value, String::new(), &mut ptrs);
                        for p in ptrs {
                            assert_eq!(
                                a.line_of(&p),
                                b.line_of(&p),
                                "{name}: line of {p:?}\n{text}"
                            );
                        }
                    }
                }
            }
        }
    }
    took
}

#[test]
fn conformance_files_parse_the_same_on_both_paths() {
    let mut files = Vec::new();
    yaml_files(&conformance_dir(), &mut files);
    if files.is_empty() {
        eprintln!(
            "skipped: no conformance files under {}",
            conformance_dir().display()
        );
        return;
    }
    files.sort();
    let mut fast_count = 0;
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        if check(&f.display().to_string(), &text) {
            fast_count += 1;
        }
    }
    eprintln!(
        "fast path took {fast_count} of {} conformance YAML files",
        files.len()
    );
    assert!(
        fast_count * 10 >= files.len() * 8,
        "fast path took only {fast_count} of {}",
        files.len()
    );
}

#[test]
fn emitted_text_parses_the_same_on_both_paths() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut took = 0;
    let mut total = 0;
    for name in ["strings", "structure", "random", "numbers"] {
        let input = std::fs::read_to_string(format!("{data}/{name}.json")).unwrap();
        let kust = std::fs::read_to_string(format!("{data}/{name}.kustomize.yaml")).unwrap();
        let v: Value = serde_json::from_str(&input).unwrap();
        for (label, text) in [
            ("json", input.clone()),
            ("kustomize", kust),
            ("emitted", to_string_with(&v, &EmitOptions::default())),
            (
                "narrow",
                to_string_with(
                    &v,
                    &EmitOptions {
                        line_width: Some(20),
                        sort_keys: false,
                    },
                ),
            ),
        ] {
            total += 1;
            if check(&format!("{name}/{label}"), &text) {
                took += 1;
            }
        }
        // Each entry alone, so one unsupported string does not hide the rest.
        if let Value::Object(spec) = &v["spec"] {
            for (k, item) in spec {
                let doc = json!({ k.clone(): item });
                for width in [Some(80), Some(10)] {
                    let text = to_string_with(
                        &doc,
                        &EmitOptions {
                            line_width: width,
                            sort_keys: false,
                        },
                    );
                    total += 1;
                    if check(&format!("{name}/{k}"), &text) {
                        took += 1;
                    }
                }
            }
        }
    }
    eprintln!("fast path took {took} of {total} emitted texts");
}

#[test]
fn snippets_parse_the_same_on_both_paths() {
    let snippets = [
        "a: b\n",
        "",
        "# c\n",
        "---\n",
        "---\n---\n",
        "--- # c\na: 1\n",
        "a: 1\n---\nb: 2\n",
        "a: 1\n--- \n\n# x\nb: 2\n---\n",
        "42",
        "just a string\n",
        "multi\nline\n\n\nplain\n",
        "  indented: root\n  more: x\n",
        "- a\n- b\n-\n- - c\n  - d\n-   e\n",
        "- name: x\n  image: y\n- name: z\n",
        "a:\n- x\n- y: 1\n  z: 2\nb: 1\n",
        "a:\n  - x\n  - y\nb:\n    c: d\n",
        "k: v # comment\n# c\nk2: 'q' # c\nk3: \"d\"   \n",
        "k: a#b\nk2: a #b\nk3: 'a #b'\n",
        "url: http://x:80/a#b\nt: 12:30\nc: a:b\n",
        "key: word\n  continued\n\n  after blank\nnext: 1\n",
        "- item\n  continued\n- x\n",
        "e:\nf: ~\ng: null\nh: \"\"\n",
        "t: true\nf: False\ny: yes\nn: No\no: on\n",
        "i: 0777\nj: 0x1F\nk: 1_000\nl: +3\nm: -0o17\nn: 08\no: 1e3\np: .5\nq: .inf\nr: 2024-01-01\n",
        "big: 18446744073709551615\nbigger: 99999999999999999999\n",
        "1: a\ntrue: b\n1.50: c\n0x10: d\ny: e\n",
        "s: 'it''s'\nd: \"a\\tb\\u00e9\\x41\\U0001F600\\\\ \\\" \\/ \\N\\_\\L\\P\\0\\a\\b\\e\\f\\v\\r\"\n",
        "d: \"folded\n  line\n\n  blank\"\ns: 'single\n  folded\n\n\n  more'\n",
        "d: \"escaped \\\n  break\"\ne: \"trail   \n  x\"\nf: \"esc\\t\n  y\"\n",
        "lit: |\n  a\n  b\nstrip: |-\n  x\n\nkeep: |+\n  y\n\n\nn: 1\n",
        "lit: |\n    indented more\n  base\n",
        "lit: |2\n    two extra\n  base\n",
        "lit: |\n\n  after blank\n",
        "lit: |\n  a\n\n  b\n  # not a comment\n# comment\nn: 2\n",
        "- |\n  in seq\n- |-\n  x\n-\n  y: 1\n",
        "root: |+\n  keep at end\n\n",
        "f: [a, b, 'c', \"d\", 1, true, null, [x], {k: v}]\ng: {a: 1, b: [2], 'c': \"d\", e: }\nh: []\ni: {}\n",
        "f: [\n  a,\n  b, # c\n  c\n]\n",
        "f: [\n  a,\n  b\n  ]\n",
        "args: [\"--a=1\", \"--b\"]\nm: {\"a\":1}\n",
        "k: [a, b]   # c\n",
        "k: {a: 1, a: 2}\n",
        "dup: 1\ndup: 2\n",
        "a: b: c\n",
        "a:\n\tb: 1\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "<<: {a: 1}\n",
        "? a\n: b\n",
        "a: >\n  folded\n  text\n",
        "a:\n  b: \"x\n  y\"\n",
        "a:\n  b: \"x\n y\"\n",
        "a:\n  b: \"x\ny\"\n",
        "a:\n  b: 'x\n  y'\n",
        "a:\n  b: 'x\n y'\n",
        "- \"x\n  y\"\n- 'a\n b'\n- \"c\nd\"\n",
        "a:\n  b: [x,\n  y]\n",
        "a:\n  b: [x,\n y]\n",
        "a:\n  b: {x: 1,\n  y: 2}\n",
        "a:\n  b: plain\n  c\n",
        "\"root\nquoted\"\n",
        "a: >-\n  folded\n  text\n\n  para\n\n\n  three\n",
        "a: >\n  text\n    spaced\n    more\n  back\n\n  para\n    sp\n\n  end\n",
        "a: >+\n\n  lead blank\n  x\n\n",
        "- >\n  in seq\n  folded\n- >2\n    lead\n  text\n",
        "a: >\n  \ttab start\n  text\n",
        "d: >-\n  Description of a field that wraps\n  across lines. For example: `x-*`.\nn: 1\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: 1\n...\n",
        "- a\nb: c\n",
        "a: 1\n  b: 2\n",
        "a:\n  b: 1\n c: 2\n",
        "\"quoted key\": 1\n'single': 2\n\"\": 3\n",
        "\"a\" : 1\n",
        "é: ü\n日本: 語\n",
        "\u{feff}a: 1\n",
        "a: 1\r\nb: 2\r\n",
        "---\n- a\n---\n- b\n...\n",
        "k: -1\nl: - x\n",
        "- -1\n- --flag\n- -\n",
        "a:    spaced\nb:\n\n\n  late\n",
        "a: 'unterminated\n",
        "a: \"bad \\q escape\"\n",
        "a: [1, 2\n",
        "x: \"a\"b\n",
        "x: {a: 1}}\n",
        "---a: 1\n",
        "--- \na: 1\n",
        "a: |\n  x\n y\n",
        "a: |\n  x\nb",
        "a: |-\n  x",
        "a: |\n   \n  x\n",
        "a:\n  - b\n  -\n  - c\n",
        "- a: 1\n  - b\n",
        "- a: 1\n b: 2\n",
        "[a, b]: c\n",
        "{a: 1}\n",
        "[1, 2]\n",
        "- [a, b]\n- {c: d}\n",
        "key:value\nk2: v:w\n",
        "a: 'x' y\n",
        "a: \"x\" # c\n",
        "- \"x\": 1\n  y: 2\n",
        "a:\n  \"x\": 1\n",
        "a: b\n#c\n  #d\nc: d\n",
        "a: b\n  # indented comment\nc: d\n",
        "s: a  b   c\n",
        "s: trailing   \n",
        "- \n- x\n",
        "a: [a\n  b]\n",
        "a: {b: [c, {d: e}]}\n",
        "a: [{b: c}, [d, [e]]]\n",
        "a: ['x', \"y\", ]\n",
        "a: [,]\n",
        "a: {b}\n",
        "a: [a:b]\n",
        "a: {a:b}\n",
        "a: [a: b]\n",
    ];
    let mut took = 0;
    for (i, s) in snippets.iter().enumerate() {
        if check(&format!("snippet {i}"), s) {
            took += 1;
        }
    }
    eprintln!("fast path took {took} of {} snippets", snippets.len());
}

#[test]
fn deep_nesting_defers_to_the_full_parser() {
    let deep: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    assert!(fast(&deep, &ParseOptions::default()).is_none());
    let flow = "[".repeat(300) + &"]".repeat(300);
    assert!(fast(&flow, &ParseOptions::default()).is_none());
    let ok: String = (0..100).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    assert!(fast(&ok, &ParseOptions::default()).is_some());
}
