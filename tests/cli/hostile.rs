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

/// The messages of the `hostile/probe` findings a call answered with.
fn probes(
    result: Result<manifold::runtime::Validated, manifold::runtime::CallError>,
) -> Vec<String> {
    result
        .unwrap()
        .diagnostics
        .into_iter()
        .filter(|d| d.rule == "hostile/probe")
        .map(|d| d.message)
        .collect()
}

/// A repository, a folder granted beside it, and a secret next to both,
/// reachable from inside only through `..`, absolute paths and symlinks.
struct Layout {
    _scratch: Scratch,
    repo: std::path::PathBuf,
    granted: std::path::PathBuf,
    secret: std::path::PathBuf,
}

const SECRET: &str = "SECRET-CONTENT-OUTSIDE";

fn layout() -> Layout {
    let scratch = Scratch::new()
        .file("repo/app/a.yaml", "inside: true\n")
        .file("granted/schema.json", "{}")
        .file("secret.txt", SECRET);
    let repo = scratch.dir.join("repo");
    let granted = scratch.dir.join("granted");
    let secret = scratch.dir.join("secret.txt");
    let link = |target: &std::path::Path, at: &str| {
        std::os::unix::fs::symlink(target, scratch.dir.join(at)).unwrap();
    };
    link(&secret, "repo/escape");
    link(&scratch.dir, "repo/up");
    link(&secret, "granted/escape");
    Layout {
        _scratch: scratch,
        repo,
        granted,
        secret,
    }
}

impl Layout {
    /// Every way out we know of, and the two ways in.
    fn attempts(&self) -> Vec<String> {
        let secret = self.secret.display().to_string();
        let granted = self.granted.display().to_string();
        let repo = self.repo.display().to_string();
        vec![
            "../secret.txt".into(),
            "app/../../secret.txt".into(),
            "./../secret.txt".into(),
            "app/..//../secret.txt".into(),
            secret.clone(),
            format!("/{secret}"),
            format!("{repo}/../secret.txt"),
            format!("{granted}/../secret.txt"),
            format!("{granted}/escape"),
            "escape".into(),
            "up/secret.txt".into(),
            "up/absent.txt".into(),
            "up".into(),
            "app\\..\\..\\secret.txt".into(),
            "app/a.yaml\0/../../secret.txt".into(),
            "/etc/passwd".into(),
            "/proc/self/environ".into(),
            "/".into(),
            "..".into(),
        ]
    }
}

#[test]
fn reads_stay_inside_what_the_host_grants() {
    let layout = layout();
    let runtime = roomy_runtime();
    let mut attempts = layout.attempts();
    let inside = "app/a.yaml".to_owned();
    let granted = layout.granted.join("schema.json").display().to_string();
    attempts.extend([inside.clone(), granted.clone()]);
    let config = serde_json::json!({"mode": "read-paths", "paths": attempts}).to_string();

    // A validator, with a granted folder beside the repository.
    let validator = runtime
        .load(&Source::File(test_plugin("manifold_test_hostile")))
        .unwrap();
    let fs = manifold::runtime::RepoFs::new(&layout.repo)
        .unwrap()
        .with_grants(std::slice::from_ref(&layout.granted));
    let services = Services {
        fs: Some(fs),
        ..Services::default()
    };
    let validated = probes(runtime.validate(&validator, &batch(), &config, "x", &services));
    // A renderer: the repository and nothing else.
    let renderer = runtime
        .load(&Source::File(test_plugin("manifold_test_hostile_renderer")))
        .unwrap();
    let request = manifold::runtime::RenderRequest {
        target: "app".into(),
        config: config.clone(),
    };
    let rendered = runtime
        .render(
            &renderer,
            manifold::runtime::RepoFs::new(&layout.repo).unwrap(),
            &request,
            None,
            None,
        )
        .unwrap();
    let rendered: Vec<String> = rendered
        .output
        .diagnostics
        .into_iter()
        .map(|d| d.message)
        .collect();

    for (who, messages) in [("validator", &validated), ("renderer", &rendered)] {
        assert_eq!(messages.len(), 2 * attempts.len(), "{who}: {messages:#?}");
        for message in messages.iter() {
            assert!(!message.contains(SECRET), "{who} leaked: {message}");
            assert!(!message.contains("root:"), "{who} leaked: {message}");
            let path = message
                .split_once(' ')
                .and_then(|(_, rest)| rest.rsplit_once(" -> "))
                .map(|(path, _)| path)
                .unwrap();
            let allowed = path == inside || (who == "validator" && path == granted);
            let outcome = message.rsplit_once(" -> ").unwrap().1;
            if allowed {
                assert!(
                    outcome.starts_with("ok") || outcome.starts_with("io"),
                    "{who}: {message}"
                );
            } else {
                assert!(
                    outcome.starts_with("denied") || outcome.starts_with("not-found"),
                    "{who}: {message}"
                );
            }
        }
        // What probing could tell: nothing about files outside. A path
        // under a symlink that leaves the root is refused whether or not
        // the file exists there.
        for probe in [
            "read up/secret.txt -> denied",
            "read up/absent.txt -> denied",
        ] {
            assert!(
                messages.iter().any(|m| m.starts_with(probe)),
                "{who}: no {probe:?} in {messages:#?}"
            );
        }
    }
}

#[test]
fn a_plugin_has_no_file_system_of_its_own() {
    let layout = layout();
    let out = layout.repo.join("hydrated");
    let cache = layout.repo.join("cache");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(out.join("manifest.yaml"), "kept: true\n").unwrap();
    let targets = [
        out.join("manifest.yaml").display().to_string(),
        out.join("new.yaml").display().to_string(),
        cache.join("entry").display().to_string(),
        layout.secret.display().to_string(),
        "hydrated/manifest.yaml".into(),
        "relative.txt".into(),
    ];
    let config = serde_json::json!({"mode": "wasi-fs", "paths": targets}).to_string();
    let runtime = roomy_runtime();
    let plugin = runtime
        .load(&Source::File(test_plugin("manifold_test_hostile")))
        .unwrap();
    // Even with the repository open to it through `files`: WASI is another door.
    let services = Services {
        fs: Some(manifold::runtime::RepoFs::new(&layout.repo).unwrap()),
        ..Services::default()
    };
    let messages = probes(runtime.validate(&plugin, &batch(), &config, "x", &services));
    assert_eq!(messages.len(), 4 + 5 * targets.len(), "{messages:#?}");
    for message in messages.iter().filter(|m| !m.starts_with("current-dir")) {
        assert!(message.contains(" -> error: "), "{message}");
    }
    assert_eq!(
        std::fs::read_to_string(out.join("manifest.yaml")).unwrap(),
        "kept: true\n"
    );
    assert!(!out.join("new.yaml").exists());
    assert!(!cache.join("entry").exists());
    assert!(!layout.repo.join("relative.txt").exists());
    assert_eq!(std::fs::read_to_string(&layout.secret).unwrap(), SECRET);
}

#[test]
fn a_plugin_in_a_run_cannot_touch_the_output_tree_or_the_cache() {
    let scratch = Scratch::new().file("plain/cm.yaml", DEPLOYMENT);
    let cache = crate::check::own_cache(&scratch);
    scratch
        .run_with_cache(&["render", ".", "--out", "hydrated"], &cache)
        .code(0);
    let before = crate::check::tree(&scratch.dir.join("hydrated"));
    let paths = [
        scratch.dir.join("hydrated/plain/manifest.yaml"),
        scratch.dir.join("hydrated/manifold.index"),
        scratch.dir.join("hydrated/plain/planted.yaml"),
        cache.join("renders/planted"),
    ];
    let config =
        serde_json::json!({"validators": {"hostile": {"mode": "wasi-fs", "paths": paths}}});
    let scratch = scratch.file("manifold.yaml", config.to_string());
    let hostile = test_plugin("manifold_test_hostile");
    let out = scratch.run_with_cache(
        &[
            "render",
            ".",
            "--out",
            "hydrated",
            "--plugin",
            hostile.to_str().unwrap(),
            "--format",
            "json",
        ],
        &cache,
    );
    out.code(0);
    let messages: Vec<String> = out.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "hostile/probe")
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect();
    assert!(messages.len() > 20, "{messages:#?}");
    for m in messages.iter().filter(|m| !m.starts_with("current-dir")) {
        assert!(m.contains(" -> error: "), "{m}");
    }
    // The run wrote its tree (the same bytes: manifold.yaml is no target)
    // and nothing of the plugin's.
    assert_eq!(crate::check::tree(&scratch.dir.join("hydrated")), before);
    assert!(!cache.join("renders/planted").exists());
    assert!(
        crate::check::tree(&cache)
            .keys()
            .all(|k| !k.contains("planted"))
    );
}

#[test]
fn host_memory_is_bounded_against_endless_reads_long_paths_and_logs() {
    let layout = layout();
    let runtime = roomy_runtime();
    let plugin = runtime
        .load(&Source::File(test_plugin("manifold_test_hostile")))
        .unwrap();
    let services = || Services {
        fs: Some(manifold::runtime::RepoFs::new(&layout.repo).unwrap()),
        ..Services::default()
    };
    let call = |config: serde_json::Value| {
        runtime.validate(&plugin, &batch(), &config.to_string(), "x", &services())
    };
    // Distinct misses past the read-set cap: the call fails, since what
    // it read can no longer be recorded in full.
    let err = call(serde_json::json!({"mode": "many-reads", "count": 120_000})).unwrap_err();
    assert!(
        matches!(err.failure, CallFailure::TooManyReads(100_000)),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("read more than 100000 distinct files"),
        "{err}"
    );
    // A 16 MiB path is refused before it is normalised or recorded.
    let long = call(serde_json::json!({"mode": "long-path"})).unwrap();
    assert!(
        long.diagnostics[0]
            .message
            .contains("paths may be at most 4096 bytes"),
        "{:?}",
        long.diagnostics
    );
    assert!(long.reads.files.is_empty());
    // 10,000 log lines of 64 KiB: a thousand kept, each cut short.
    let flood = call(serde_json::json!({"mode": "log-flood"})).unwrap();
    assert_eq!(flood.logs.len(), 1001);
    assert!(flood.logs.iter().all(|l| l.message.len() <= 4100));
    assert_eq!(flood.logs[1000].message, "9000 more log lines were dropped");
}

#[test]
fn composed_renders_share_the_outermost_deadline() {
    let layout = layout();
    let runtime = runtime();
    let registry = manifold::registry::Registry::new(runtime);
    let plugin = registry
        .load_file(&manifold::registry::PluginFile {
            path: test_plugin("manifold_test_hostile_renderer"),
            pin: None,
        })
        .unwrap();
    let render = |config: serde_json::Value| {
        let request = manifold::runtime::RenderRequest {
            target: "app".into(),
            config: config.to_string(),
        };
        let started = std::time::Instant::now();
        let result = registry.render(
            &plugin,
            manifold::runtime::RepoFs::new(&layout.repo).unwrap(),
            &request,
            None,
        );
        (result, started.elapsed())
    };
    // Calibrate: how many iterations of busy work take about 0.4 s here.
    // Two probes, so that starting a call (a fixed cost) cancels out.
    let timed = |spin: u64| {
        let (result, took) = render(serde_json::json!({"mode": "spin", "spin": spin}));
        result.unwrap();
        took.as_secs_f64()
    };
    let probe = 20_000_000u64;
    let per_iteration = ((timed(10 * probe) - timed(probe)) / (9 * probe) as f64).max(1e-12);
    let spin = (0.4 / per_iteration) as u64;
    // Eight levels (the most composition allows), each working 0.4 s
    // before starting the next, the last looping forever. With a fresh 1 s
    // budget per nested call this would run for about 8 × 0.4 + 1 s;
    // sharing the first call's, about 1 s.
    let (result, took) = render(serde_json::json!({"mode": "chain", "spin": spin, "depth": 8}));
    let err = result.unwrap_err();
    assert!(
        took < Duration::from_millis(2500),
        "a chain of composed calls ran for {took:?} under a 1 s timeout: {err}"
    );
    assert_eq!(err.plugin, "hostile-renderer");
}

#[test]
fn a_renderer_answer_over_the_size_cap_is_refused() {
    let layout = layout();
    let runtime = roomy_runtime();
    let plugin = runtime
        .load(&Source::File(test_plugin("manifold_test_hostile_renderer")))
        .unwrap();
    let request = manifold::runtime::RenderRequest {
        target: "app".into(),
        config: r#"{"mode":"huge"}"#.into(),
    };
    let err = runtime
        .render(
            &plugin,
            manifold::runtime::RepoFs::new(&layout.repo).unwrap(),
            &request,
            None,
            None,
        )
        .unwrap_err();
    assert!(
        matches!(err.failure, CallFailure::OutputTooLarge { limit, .. } if limit == 64 << 20),
        "{err}"
    );
}
