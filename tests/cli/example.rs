//! The bundled example, run the way the README says: its output is the one
//! the README shows, a second run comes from the cache with the same
//! findings, and its hydrated state is the same bytes whatever the thread
//! count.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Output, Scratch, cache_at, digests};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `manifold ARGS` from the workspace root, as a reader of the README runs it.
fn manifold(args: &[&str], cache: &Path) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .current_dir(workspace())
        .output()
        .unwrap();
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The block of text the README shows for its main command.
fn readme_output() -> String {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let after = readme
        .split_once("The first command prints:")
        .expect("the README shows the main command's output")
        .1;
    let block = after.split_once("```text\n").unwrap().1;
    block.split_once("```").unwrap().0.to_owned()
}

#[test]
fn the_readme_shows_what_the_main_command_prints() {
    let scratch = Scratch::new();
    let cache = cache_at(&scratch.dir.join("cache"));
    let cold = manifold(&["check", "examples/gitops"], &cache);
    cold.code(0);
    assert_eq!(
        cold.stdout,
        readme_output(),
        "update the README's example output"
    );

    let warm = manifold(&["check", "examples/gitops", "--format", "json"], &cache);
    let json = warm.code(0).json();
    let cache_figures = &json["cache"];
    assert_eq!(cache_figures["renders"]["misses"], 0, "{json}");
    assert_eq!(cache_figures["validations"]["misses"], 0, "{json}");
    assert!(cache_figures["validations"]["hits"].as_u64().unwrap() > 0);
    // The same findings as the cold run printed.
    let messages: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 5, "{messages:#?}");
    for message in messages {
        assert!(
            cold.stdout.contains(message),
            "{message} is not in:\n{}",
            cold.stdout
        );
    }
}

#[test]
fn the_hydrated_example_is_the_same_bytes_with_one_or_two_threads() {
    let scratch = Scratch::new();
    let mut trees = Vec::new();
    for (jobs, name) in [("1", "one"), ("2", "two"), ("2", "warm")] {
        let cache = scratch.dir.join("cache");
        if name != "warm" {
            cache_at(&cache);
        }
        let out = scratch.dir.join(name);
        manifold(
            &[
                "render",
                "examples/gitops",
                "--out",
                out.to_str().unwrap(),
                "-j",
                jobs,
            ],
            &cache,
        )
        .code(0);
        trees.push(digests(&out));
    }
    assert!(trees[0].len() > 9, "{:?}", trees[0].keys());
    assert_eq!(trees[0], trees[1]);
    assert_eq!(trees[0], trees[2]);
}

#[test]
fn files_check_their_targets_against_the_whole_repository() {
    let scratch = Scratch::new();
    let cache = cache_at(&scratch.dir.join("cache"));
    // With no record of what a rendered target read, it counts as affected.
    manifold(&["check", "examples/gitops"], &cache).code(0);
    // The custom resource's CRD lives in another target: checking only the
    // resource's target must still find it, as a whole run does.
    let json = manifold(
        &[
            "check",
            "examples/gitops",
            "--files",
            "examples/gitops/platform/backups/nightly.yaml",
            "--format",
            "json",
        ],
        &cache,
    )
    .code(0)
    .json();
    let names: Vec<&str> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["platform/backups"]);
    assert_eq!(json["summary"]["documents"], 1);
    assert_eq!(json["diagnostics"], serde_json::json!([]), "{json}");
}

/// The first run after installation compiles no built-in plugin: the build
/// embedded their compiled code, so only an external plugin reaches the
/// cache of compiled plugins.
#[cfg(feature = "precompile-builtins")]
#[test]
fn a_first_run_compiles_only_external_plugins() {
    let plugin = crate::support::test_plugin("manifold_example_image_tag");
    let scratch = Scratch::new();
    // (extra arguments, compiled plugins in the cache afterwards).
    let cases: [(&[&str], usize); 2] = [(&[], 0), (&["--plugin", plugin.to_str().unwrap()], 1)];
    for (extra, cached) in cases {
        let cache = scratch.dir.join("cache");
        let _ = std::fs::remove_dir_all(&cache);
        let run = manifold(&[&["check", "examples/gitops"], extra].concat(), &cache);
        assert!(matches!(run.code, 0 | 1), "{extra:?}: {run:?}");
        let compiled: Vec<String> = std::fs::read_dir(cache.join("plugins"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".cwasm"))
            .collect();
        assert_eq!(compiled.len(), cached, "{extra:?}: {compiled:?}");
    }
}
