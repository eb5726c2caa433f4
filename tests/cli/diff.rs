//! `manifold diff`: two hydrated trees compared, with dangerous removals
//! flagged, in each output format, and the exit codes of `git diff
//! --exit-code`.

use std::process::Command;

use crate::support::{DEPLOYMENT, Output, Scratch, git};

/// Runs `manifold ARGS` in the scratch folder. `Scratch::run` adds
/// `--cache-dir`, which `diff` has no use for (it runs no plugin).
fn run(scratch: &Scratch, args: &[&str]) -> std::io::Result<Output> {
    let output = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(args)
        .current_dir(&scratch.dir)
        .env_remove("NO_COLOR")
        .output()?;
    Ok(Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

const STATEFULSET: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: prod
spec:
  serviceName: db
  template:
    spec:
      containers:
      - name: postgres
        image: postgres:16
";

const INDEX: &str =
    r#"{"version":1,"targets":[{"name":"apps/web","path":"apps/web","kind":"kustomization"}]}"#;

/// A scratch repository with `old/` and `new/` hydrated trees holding the
/// one target `apps/web`.
fn trees(old: &str, new: &str) -> Scratch {
    Scratch::new()
        .file("old/manifold.index", INDEX)
        .file("old/apps/web/manifest.yaml", old)
        .file("old/apps/web/hydrator.metadata", "{}")
        .file("new/manifold.index", INDEX)
        .file("new/apps/web/manifest.yaml", new)
        .file("new/apps/web/hydrator.metadata", "{}")
}

fn with_statefulset() -> String {
    format!("{DEPLOYMENT}---\n{STATEFULSET}")
}

#[test]
fn a_removed_statefulset_is_flagged_and_exits_1() -> std::io::Result<()> {
    let scratch = trees(&with_statefulset(), DEPLOYMENT);
    let out = run(&scratch, &["diff", "old", "new", "--color", "never"])?;
    out.code(1)
        .stdout_has("~ apps/web\n")
        .stdout_has("  - StatefulSet prod/db (apps/v1)  DANGEROUS\n")
        .stdout_has("      ! deleting a StatefulSet deletes its pods")
        .stdout_has("; 1 dangerous removal\n");
    // The Deployment did not change, so it is not listed.
    assert!(!out.stdout.contains("Deployment"), "{}", out.stdout);

    let json = run(&scratch, &["diff", "old", "new", "--format", "json"])?;
    let json = json.code(1).json();
    assert_eq!(json["version"], 1);
    assert_eq!(json["summary"]["dangerousRemovals"], 1);
    assert_eq!(json["summary"]["resourcesUnchanged"], 1);
    let removed = &json["targets"][0]["resources"][0];
    assert_eq!(removed["change"], "removed");
    assert_eq!(removed["group"], "apps");
    assert_eq!(removed["kind"], "StatefulSet");
    assert_eq!(removed["removal"]["risk"], "dangerous");
    Ok(())
}

#[test]
fn a_changed_image_shows_its_field_path() -> std::io::Result<()> {
    let changed = DEPLOYMENT.replace("nginx:1.27", "nginx:1.28");
    let out = run(
        &trees(DEPLOYMENT, &changed),
        &["diff", "old", "new", "--color", "never"],
    )?;
    out.code(1)
        .stdout_has("  ~ Deployment prod/web (apps/v1)\n")
        .stdout_has(
            "      spec.template.spec.containers[name=web].image: \"nginx:1.27\" -> \"nginx:1.28\"\n",
        );
    assert!(!out.stdout.contains("dangerous"), "{}", out.stdout);
    Ok(())
}

#[test]
fn identical_trees_exit_0() -> std::io::Result<()> {
    // The same objects in another order and with noise that is not desired
    // state: no differences.
    let noisy = format!(
        "{}---\n{DEPLOYMENT}status:\n  replicas: 3\n",
        STATEFULSET.replace("metadata:\n", "metadata:\n  creationTimestamp: null\n")
    );
    run(&trees(&with_statefulset(), &noisy), &["diff", "old", "new"])?
        .code(0)
        .stdout_has("no differences: 1 target and 2 resources compared\n");
    Ok(())
}

#[test]
fn markdown_puts_the_warning_first() -> std::io::Result<()> {
    let scratch = trees(&with_statefulset(), &DEPLOYMENT.replace("1.27", "1.28"));
    let out = run(&scratch, &["diff", "old", "new", "--format", "markdown"])?;
    out.code(1);
    let caution = out.stdout.find("> [!CAUTION]");
    let table = out.stdout.find("| target |");
    assert!(
        caution.is_some() && caution < table,
        "no warning before the table:\n{}",
        out.stdout
    );
    out.stdout_has("> **1 dangerous removal.** With pruning on")
        .stdout_has("> - **StatefulSet** <code>prod/db</code> in <code>apps/web</code>: deleting a StatefulSet")
        .stdout_has("<details><summary><code>apps/web</code>: 1 changed, 1 removed</summary>")
        .stdout_has("| <code>spec.template.spec.containers\\[name=web\\].image</code> | <code>\"nginx:1.27\"</code> | <code>\"nginx:1.28\"</code> |");
    Ok(())
}

#[test]
fn whole_targets_added_and_removed_and_kept_resources() -> std::io::Result<()> {
    let kept = "apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  namespace: prod
  annotations:
    argocd.argoproj.io/sync-options: Prune=false
";
    // Plain folders without an index: one target per folder.
    let scratch = Scratch::new()
        .file("old/apps/db/manifest.yaml", kept)
        .file("old/apps/web/manifest.yaml", DEPLOYMENT)
        .file("new/apps/web/manifest.yaml", DEPLOYMENT)
        .file(
            "new/apps/cache/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cache\n",
        );
    let out = run(&scratch, &["diff", "old", "new", "--color", "never"])?;
    out.code(1)
        .stdout_has("+ apps/cache (new target)\n  + ConfigMap cache (v1)\n")
        .stdout_has("- apps/db (target removed)\n  - PersistentVolumeClaim prod/data (v1)  kept by annotation\n")
        .stdout_has("      i kept by annotation argocd.argoproj.io/sync-options: Prune=false (Argo CD does not prune it)\n")
        .stdout_has("targets: 1 added, 1 removed, 0 changed, 1 unchanged;")
        .stdout_has("; 1 kept by annotation\n");
    assert!(!out.stdout.contains("dangerous"), "{}", out.stdout);
    Ok(())
}

#[test]
fn colour_on_request() -> std::io::Result<()> {
    run(
        &trees(&with_statefulset(), DEPLOYMENT),
        &["diff", "old", "new", "--color", "always"],
    )?
    .code(1)
    .stdout_has("\x1b[1;31mDANGEROUS\x1b[0m");
    Ok(())
}

#[test]
fn bad_inputs_exit_2_with_the_place_named() -> std::io::Result<()> {
    let scratch = trees(DEPLOYMENT, DEPLOYMENT).file(
        "broken/x/manifest.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n",
    );
    // (arguments, what stderr must say)
    let cases: [(&[&str], &str); 3] = [
        (
            &["diff", "old", "nowhere"],
            "manifold: nowhere: no such folder; give two folders written by `manifold render --out`",
        ),
        (
            &["diff", "old", "broken"],
            "broken/x/manifest.yaml:4: not valid YAML",
        ),
        (
            &["diff", "old"],
            "give two hydrated trees (manifold diff OLD NEW)",
        ),
    ];
    for (args, message) in cases {
        let out = run(&scratch, args)?;
        out.code(2).stderr_has(message);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    Ok(())
}

#[test]
fn a_resource_moving_between_targets_is_linked() -> std::io::Result<()> {
    let scratch = Scratch::new()
        .file("old/apps/db/manifest.yaml", STATEFULSET)
        .file("new/apps/data/manifest.yaml", STATEFULSET);
    let out = run(&scratch, &["diff", "old", "new", "--color", "never"])?;
    out.code(1)
        .stdout_has(
            "+ apps/data (new target)\n  + StatefulSet prod/db (apps/v1) (moved from apps/db)\n",
        )
        .stdout_has("  - StatefulSet prod/db (apps/v1)  DANGEROUS (moved to apps/data)\n")
        .stdout_has("      ! it moves to target apps/data: if this target syncs first");
    Ok(())
}

#[test]
fn git_revisions_are_rendered_and_compared() {
    let scratch = Scratch::new()
        .file(
            "db/kustomization.yaml",
            "resources:\n- statefulset.yaml\n- deployment.yaml\n",
        )
        .file("db/statefulset.yaml", STATEFULSET)
        .file("db/deployment.yaml", DEPLOYMENT);
    std::fs::remove_dir_all(scratch.dir.join(".git")).unwrap();
    git(&scratch.dir, &["init", "-q"]);
    git(&scratch.dir, &["add", "-A"]);
    git(&scratch.dir, &["commit", "-q", "-m", "with db"]);
    let scratch = scratch.file("db/kustomization.yaml", "resources:\n- deployment.yaml\n");
    // Against the work tree: the StatefulSet is gone.
    scratch
        .run(&["diff", "--git", "HEAD"])
        .code(1)
        .stdout_has("StatefulSet prod/db")
        .stdout_has("DANGEROUS");
    git(&scratch.dir, &["commit", "-q", "-am", "drop db"]);
    scratch.run(&["diff", "--git", "HEAD", "HEAD"]).code(0);
    scratch
        .run(&["diff", "--git", "HEAD~1", "HEAD", "--format", "markdown"])
        .code(1)
        .stdout_has("[!CAUTION]");
    scratch
        .run(&["diff", "--git", "no-such-revision"])
        .code(2)
        .stderr_has("no-such-revision");
}
