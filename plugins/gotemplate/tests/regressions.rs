//! Inputs the fuzzer (`fuzz/`, target `gotemplate`) found faults with, one
//! template per file in `tests/regressions/`. Each file starts with a
//! comment saying what executing it with Helm's options must give:
//! `{{/* expect: error: TEXT */}}` (an error containing TEXT) or
//! `{{/* expect: ok */}}`; it must say so within the time bound, not hang,
//! exhaust memory or panic.

#![allow(clippy::panic, clippy::expect_used)] // a failing case fails the test

use std::sync::mpsc;
use std::time::Duration;

use manifold_gotemplate::{ExecOptions, TemplateSet, Value};

/// Far above what a bounded execution of these inputs takes in a debug build.
const TIME_BOUND: Duration = Duration::from_secs(60);

#[test]
fn fuzz_regressions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/regressions exists")
        .map(|e| e.expect("readable folder").path())
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("readable input");
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("{{/* expect: "))
            .and_then(|l| l.strip_suffix(" */}}"))
            .unwrap_or_else(|| panic!("{}: no expect comment on line 1", path.display()))
            .to_owned();
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let outcome = TemplateSet::parse(&[("t", text.as_str())], manifold_gotemplate::helm())
                .and_then(|set| set.execute("t", &Value::Missing, &ExecOptions::helm()));
            let _ = send.send(outcome);
        });
        let outcome = receive
            .recv_timeout(TIME_BOUND)
            .unwrap_or_else(|_| panic!("{}: no result within {TIME_BOUND:?}", path.display()));
        match (expect.strip_prefix("error: "), outcome) {
            (Some(fragment), Err(e)) => assert!(
                e.to_string().contains(fragment),
                "{}: error {e:?} does not contain {fragment:?}",
                path.display()
            ),
            (None, Ok(_)) if expect == "ok" => {}
            (_, outcome) => panic!("{}: expected {expect}, got {outcome:?}", path.display()),
        }
    }
}
