//! A plugin that misbehaves on purpose: each misdeed fails its own call,
//! with an error naming the plugin and the input, within its bound, while
//! other calls — concurrent ones included — complete.

use std::time::Duration;

use manifold::runtime::{
    CallFailure, Limits, Manifest, Origin, Runtime, RuntimeOptions, Services, Source,
};
use rayon::prelude::*;

use crate::support::{DEPLOYMENT, Scratch, cache_dir, test_plugin};

fn runtime() -> Runtime {
    runtime_with(Duration::from_secs(1))
}

/// Every misdeed but `loop` gets a generous deadline, so that its outcome
/// depends on what it does, not on how busy the machine is.
fn roomy_runtime() -> Runtime {
    runtime_with(Duration::from_secs(120))
}

fn runtime_with(timeout: Duration) -> Runtime {
    let limits = Limits {
        timeout,
        memory: 256 << 20,
        output: 64 << 20,
    };
    Runtime::new(&RuntimeOptions {
        limits,
        precompiled_dir: Some(cache_dir().join("plugins")),
        max_instances: 64,
    })
    .unwrap()
}

fn batch() -> Vec<Manifest> {
    vec![Manifest {
        origin: Origin {
            file: "apps/x.yaml".into(),
            document: 0,
            line: 1,
        },
        json: r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#.into(),
    }]
}

/// What each mode must end in.
fn expect(mode: &str, result: Result<Vec<String>, CallFailure>) {
    match (mode, &result) {
        ("ok", Ok(messages)) => assert_eq!(messages, &["1 manifests"]),
        ("loop", Err(CallFailure::Timeout(t))) => assert_eq!(*t, Duration::from_secs(1)),
        ("alloc", Err(CallFailure::OutOfMemory(limit))) => assert_eq!(*limit, 256 << 20),
        ("recurse", Err(CallFailure::StackOverflow)) => {}
        ("recurse", Err(CallFailure::Trap { message, .. })) => {
            assert!(message.contains("stack overflow"), "{message}")
        }
        (
            "panic",
            Err(CallFailure::Trap {
                stderr: Some(stderr),
                ..
            }),
        ) => {
            assert!(
                stderr.contains("hostile plugin panics on purpose"),
                "{stderr}"
            )
        }
        ("trap", Err(CallFailure::Trap { .. })) => {}
        ("read-file", Err(CallFailure::Reported(f))) => {
            assert!(!f.message.contains("root:"), "{}", f.message)
        }
        ("network", Err(CallFailure::Reported(f))) => {
            assert!(f.message.starts_with("connect:"), "{}", f.message)
        }
        ("env", Ok(messages)) => assert_eq!(messages, &["[]"]),
        ("clock", Ok(messages)) => assert_eq!(messages, &["0"]),
        ("huge", Err(CallFailure::OutputTooLarge { limit, .. })) => assert_eq!(*limit, 64 << 20),
        ("bad-index", Err(CallFailure::Malformed(why))) => {
            assert!(why.contains("manifest 8 of a batch of 1"), "{why}")
        }
        ("fail", Err(CallFailure::Reported(f))) => {
            assert_eq!(f.message, "hostile plugin reports a failure")
        }
        _ => panic!("mode {mode}: unexpected {result:?}"),
    }
}

#[test]
fn every_misdeed_is_contained_and_others_complete() {
    let source = Source::File(test_plugin("manifold_test_hostile"));
    let (short, roomy) = (runtime(), roomy_runtime());
    let (short_plugin, roomy_plugin) = (short.load(&source).unwrap(), roomy.load(&source).unwrap());
    let modes = [
        "loop",
        "ok",
        "alloc",
        "ok",
        "recurse",
        "panic",
        "trap",
        "read-file",
        "network",
        "env",
        "clock",
        "huge",
        "bad-index",
        "fail",
        "ok",
    ];
    let batch = batch();
    let results: Vec<(&str, Result<Vec<String>, CallFailure>)> = modes
        .par_iter()
        .map(|mode| {
            let config = format!(r#"{{"mode":"{mode}"}}"#);
            let (runtime, plugin) = match *mode {
                "loop" => (&short, &short_plugin),
                _ => (&roomy, &roomy_plugin),
            };
            let result =
                runtime.validate(plugin, &batch, &config, "apps/x.yaml", &Services::default());
            let result = result
                .map(|v| v.diagnostics.into_iter().map(|d| d.message).collect())
                .map_err(|e| {
                    assert_eq!(e.plugin, "hostile");
                    assert_eq!(e.input, "apps/x.yaml");
                    e.failure
                });
            (*mode, result)
        })
        .collect();
    for (mode, result) in results {
        expect(mode, result);
    }
    // The runtimes are still sound after all that.
    for (runtime, plugin) in [(&short, &short_plugin), (&roomy, &roomy_plugin)] {
        let after = runtime
            .validate(
                plugin,
                &batch,
                r#"{"mode":"ok"}"#,
                "again",
                &Services::default(),
            )
            .unwrap();
        assert_eq!(after.diagnostics.len(), 1);
    }
}

#[test]
fn errors_read_well() {
    let runtime = runtime();
    let plugin = runtime
        .load(&Source::File(test_plugin("manifold_test_hostile")))
        .unwrap();
    let err = runtime
        .validate(
            &plugin,
            &batch(),
            r#"{"mode":"loop"}"#,
            "apps/x.yaml",
            &Services::default(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin `hostile` failed on apps/x.yaml: did not finish within 1.0 s; it may loop forever (raise --timeout if the input is just large)"
    );
}

#[test]
fn a_failing_plugin_fails_alone_in_a_run() {
    let hostile = test_plugin("manifold_test_hostile");
    let scratch = Scratch::new()
        .file("manifold.yaml", "validators:\n  hostile:\n    mode: loop\n")
        .file("d.yaml", DEPLOYMENT);
    let out = scratch.run(&[
        "validate",
        "d.yaml",
        "--plugin",
        hostile.to_str().unwrap(),
        "--timeout",
        "2",
        "--require-label",
        "team",
    ]);
    out.code(1)
        .stdout_has("error[manifold/plugin-failed]: plugin `hostile` failed on d.yaml: did not finish within 2.0 s")
        .stdout_has("error[labels/required]");
}
