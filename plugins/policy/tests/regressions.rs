//! Inputs the fuzzer (`fuzz/`, target `rego`) found faults with, one policy
//! file per file in `tests/regressions/`, loaded as `manifold validate
//! --policy` loads it. The first line is a comment saying what loading must
//! give: `# expect: error: TEXT` (an error containing TEXT) or
//! `# expect: ok`; it must say so within the time bound, not hang, exhaust
//! memory or panic. Files are read as the fuzz target reads its input
//! (invalid UTF-8 replaced).

#![allow(clippy::panic, clippy::expect_used)] // a failing case fails the test

use std::sync::mpsc;
use std::time::Duration;

use manifold_plugin_policy::{LoadOptions, PolicySet, Source};

/// Far above what loading these inputs takes in a debug build.
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
        let bytes = std::fs::read(&path).expect("readable input");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: no expect comment on line 1", path.display()))
            .to_owned();
        let name = path
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let outcome = PolicySet::load(&[Source::new(name, text)], &LoadOptions::default());
            let _ = send.send(outcome.map(|_| ()));
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
            (None, Ok(())) if expect == "ok" => {}
            (_, outcome) => panic!("{}: expected {expect}, got {outcome:?}", path.display()),
        }
    }
}
