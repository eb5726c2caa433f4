//! Mutation testing for robustness: thousands of corrupted variants of
//! realistic YAML must give a value or an error, never a panic, on both the
//! fast path and the full parser; whatever parses must also re-emit and
//! read back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use manifold_yaml::testing::{fast, full};
use manifold_yaml::{EmitOptions, ParseOptions, Schema, Value, parse_bytes, to_string_with};

/// Every JSON pointer below `v` (nulls included).
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
        _ => {}
    }
    out.push(prefix);
}

/// Integral floats print as integers (as kustomize does), so compare
/// numbers by value.
fn normalize(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, normalize(v))).collect()),
        other => other,
    }
}

const SEEDS: &[&str] = &[
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: b, 'c': \"d\"}\ndata:\n  k: |\n    line\n  f: >-\n    folded\n    text\n  q: \"esc\\t\\u00e9\"\n",
    "- a\n- - b\n  - c\n- d: [1, 2.5, true, null]\n  e: 'x''y'\n---\n- |+\n  keep\n\n",
    "base: &b {x: 1}\nder:\n  <<: *b\n  y: !!str 2\nlist: &l [*b, *b]\nagain: *l\n",
    "spec:\n  containers:\n  - name: app\n    args: [\"--a\", \"--b=c\"]\n    env:\n    - name: X\n      value: \"1\"\n",
    "%YAML 1.2\n--- !tag\n? complex\n: value\n...\n",
];

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const ALPHABET: &[u8] = b" \n\t-:?,[]{}#&*!|>'\"%@`~0123456789abcxyz.\\";

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(5) {
            0 if at < b.len() => {
                b.remove(at);
            }
            1 => b.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
            2 if at < b.len() => b[at] = ALPHABET[rng.below(ALPHABET.len())],
            3 => {
                let len = rng.below(12);
                let from = rng.below(b.len());
                let chunk: Vec<u8> = b.iter().skip(from).take(len).copied().collect();
                for (i, c) in chunk.into_iter().enumerate() {
                    b.insert((at + i).min(b.len()), c);
                }
            }
            _ => b.insert(at, [0xff, 0xc3, 0x80, b'\r', 0][rng.below(5)]),
        }
    }
    b
}

#[test]
fn corrupted_inputs_never_panic() {
    // MANIFOLD_FUZZ_ROUNDS and MANIFOLD_FUZZ_SEED allow longer local runs.
    let rounds: usize = std::env::var("MANIFOLD_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    let seed: u64 = std::env::var("MANIFOLD_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut rng = Rng(seed | 1);
    let mut parsed = 0;
    let mut rejected = 0;
    let mut agreed = 0;
    // Real files make better seeds; take a spread of the conformance corpus.
    let mut seeds: Vec<String> = SEEDS.iter().map(|s| s.to_string()).collect();
    let dir = std::env::var_os("MANIFOLD_CONFORMANCE_DIR").map_or_else(
        || {
            std::path::PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/conformance"
            ))
        },
        std::path::PathBuf::from,
    );
    if let Ok(entries) = std::fs::read_dir(dir.join("kustomize")) {
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path().join("expected.yaml"))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files.iter().step_by(7) {
            if let Some(t) = std::fs::read_to_string(f).ok().filter(|t| t.len() < 4000) {
                seeds.push(t);
            }
        }
    }
    for round in 0..rounds {
        let seed = seeds[round % seeds.len()].as_bytes();
        let input = mutate(&mut rng, seed);
        for schema in [Schema::Yaml12, Schema::Yaml11] {
            let opts = ParseOptions {
                schema,
                positions: round % 2 == 0,
                ..ParseOptions::default()
            };
            match parse_bytes(&input, &opts) {
                Ok(docs) => {
                    parsed += 1;
                    for d in docs {
                        let _ = d.line_of("/a/0/b");
                        let _ = to_string_with(&d.value, &EmitOptions::default());
                        let text = to_string_with(&d.value, &EmitOptions::kustomize());
                        let back = manifold_yaml::from_str(&text).unwrap_or_else(|e| {
                            panic!(
                                "re-emit of {:?} failed: {e}\n{text}",
                                String::from_utf8_lossy(&input)
                            )
                        });
                        assert_eq!(normalize(back), normalize(d.value), "{text}");
                    }
                }
                Err(e) => {
                    rejected += 1;
                    assert!(e.line >= 1 && e.column >= 1, "{e}");
                }
            }
            // The fast path must agree with the full parser wherever it
            // answers (see fast_vs_full.rs for the one tolerated difference).
            if let Ok(text) = std::str::from_utf8(&input) {
                let f = fast(text, &opts);
                let s = full(text, &opts);
                if let Some(f) = f {
                    match s {
                        Ok(s) => {
                            let fv: Vec<_> =
                                f.iter().map(|d| (&d.value, d.index, d.line)).collect();
                            let sv: Vec<_> =
                                s.iter().map(|d| (&d.value, d.index, d.line)).collect();
                            assert_eq!(fv, sv, "fast and full differ on {text:?}");
                            for (a, b) in f.iter().zip(&s) {
                                let mut ptrs = Vec::new();
                                pointers(&b.value, String::new(), &mut ptrs);
                                for p in ptrs {
                                    assert_eq!(
                                        a.line_of(&p),
                                        b.line_of(&p),
                                        "line of {p:?} in {text:?}"
                                    );
                                }
                            }
                            agreed += 1;
                        }
                        Err(e) if e.message.contains("invalid indentation in quoted scalar") => {}
                        Err(e) => panic!("fast accepted, full rejected ({e}): {text:?}"),
                    }
                }
            }
        }
    }
    eprintln!("mutations: {parsed} parsed, {rejected} rejected, fast path agreed on {agreed}");
    assert!(parsed > 0 && rejected > 0);
}
