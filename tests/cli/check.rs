//! The repository pipeline: `manifold check` and `manifold render REPO --out`:
//! discovery, the render cache, the hydrated tree, `--check`, failures that
//! stay with their target. Kills, full disks and corrupt caches are in
//! `faults.rs`; thread counts and file order in `determinism.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{Scratch, cache_at, git};

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
";

pub(crate) const CONFIGMAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  labels:\n    app: plain\n";

/// A repository with a base and two overlays, a chart with two environments,
/// a plain folder, an Argo CD Application and a Flux Kustomization.
pub(crate) fn repository() -> Scratch {
    Scratch::new()
        .file("apps/web/base/kustomization.yaml", "resources:\n- deployment.yaml\n")
        .file("apps/web/base/deployment.yaml", DEPLOYMENT)
        .file(
            "apps/web/overlays/dev/kustomization.yaml",
            "resources:\n- ../../base\nnamePrefix: dev-\n",
        )
        .file(
            "apps/web/overlays/prod/kustomization.yaml",
            "resources:\n- ../../base\nnamePrefix: prod-\n",
        )
        .file("charts/cache/Chart.yaml", "apiVersion: v2\nname: cache\nversion: 1.0.0\n")
        .file("charts/cache/values.yaml", "size: 1\n")
        .file("charts/cache/values-dev.yaml", "size: 2\n")
        .file("charts/cache/values-prod.yaml", "size: 3\n")
        .file(
            "charts/cache/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cache\n  labels:\n    app: cache\ndata:\n  size: {{ .Values.size | quote }}\n",
        )
        .file("plain/cm.yaml", CONFIGMAP)
        .file(
            "deploy/argocd.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web-prod\n  labels:\n    app: argo\nspec:\n  source:\n    path: apps/web/overlays/prod\n  destination:\n    namespace: prod\n",
        )
        .file(
            "deploy/flux.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: plain\n  namespace: flux-system\n  labels:\n    app: flux\nspec:\n  path: ./plain\n",
        )
}

fn targets(scratch: &Scratch, extra: &[&str]) -> BTreeMap<String, serde_json::Value> {
    let mut args = vec!["check", ".", "--format", "json"];
    args.extend(extra);
    let json = scratch.run(&args).code(0).json();
    json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
        .collect()
}

pub(crate) fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn discovery_finds_what_the_repository_deploys() {
    let found = targets(&repository(), &[]);
    let names: Vec<&str> = found.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "apps/web/overlays/dev",
            "argocd/web-prod",
            "charts/cache/dev",
            "charts/cache/prod",
            "deploy",
            "flux/flux-system/plain",
        ]
    );
    assert_eq!(found["argocd/web-prod"]["path"], "apps/web/overlays/prod");
    assert_eq!(found["charts/cache/prod"]["kind"], "chart");
    assert_eq!(found["flux/flux-system/plain"]["kind"], "manifests");
    assert_eq!(found["apps/web/overlays/dev"]["documents"], 1);
}

#[test]
fn a_second_run_comes_from_the_cache_and_a_change_re_renders_only_its_readers() {
    let scratch = repository();
    let first = targets(&scratch, &[]);
    assert!(first.values().all(|t| t["cached"] == false), "{first:?}");
    let second = targets(&scratch, &[]);
    let cached: Vec<&str> = second
        .iter()
        .filter(|(_, t)| t["cached"] == true)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        cached,
        [
            "apps/web/overlays/dev",
            "argocd/web-prod",
            "charts/cache/dev",
            "charts/cache/prod"
        ]
    );
    // Helm loads every file of a chart (templates may read any through
    // .Files), so a values file re-renders both environments, and nothing else.
    let scratch = scratch.file("charts/cache/values-prod.yaml", "size: 4\n");
    let third = targets(&scratch, &[]);
    let rendered: Vec<&str> = third
        .iter()
        .filter(|(_, t)| t["kind"] != "manifests" && t["cached"] == false)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(rendered, ["charts/cache/dev", "charts/cache/prod"]);
    // The base feeds both overlays; a file that did not exist (a new
    // kustomization in the base) counts too.
    let scratch = scratch.file(
        "apps/web/base/deployment.yaml",
        DEPLOYMENT.replace("1.25", "1.26"),
    );
    let fourth = targets(&scratch, &[]);
    let rendered: Vec<&str> = fourth
        .iter()
        .filter(|(_, t)| t["kind"] != "manifests" && t["cached"] == false)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(rendered, ["apps/web/overlays/dev", "argocd/web-prod"]);
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: backups.example.com
  labels:
    app: plain
spec:
  group: example.com
  names: {kind: Backup, plural: backups}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              schedule: {type: string}
";

#[test]
fn verdicts_are_cached_per_document_and_redone_when_what_they_saw_changes() {
    let scratch = repository()
        .file(
            "plain/backup.yaml",
            "apiVersion: example.com/v1\nkind: Backup\nmetadata:\n  name: nightly\n  labels:\n    app: plain\nspec:\n  schedule: 3\n",
        )
        // A finding on a field of a rendered object: its line must be the
        // same whether the render and the verdict come from the cache or not.
        .file(
            "apps/web/base/deployment.yaml",
            DEPLOYMENT.replace("  selector:", "  replicas: two\n  selector:"),
        );
    let cache = own_cache(&scratch);
    let check = |scratch: &Scratch| {
        let json = scratch
            .run_with_cache(&["check", ".", "--format", "json"], &cache)
            .json();
        let fresh = cache_at(&scratch.dir.join("fresh-cache"));
        let uncached = scratch
            .run_with_cache(&["check", ".", "--format", "json"], &fresh)
            .json();
        assert_eq!(uncached["cache"]["validations"]["hits"], 0);
        // Whatever came from the cache, the findings are those of a fresh run.
        assert_eq!(json["diagnostics"], uncached["diagnostics"]);
        let counts = &json["cache"]["validations"];
        let replicas: Vec<&serde_json::Value> = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["path"] == "/spec/replicas")
            .collect();
        assert_eq!(replicas.len(), 2, "one per overlay: {json}");
        for d in replicas {
            assert_eq!(d["file"], "apps/web/base/deployment.yaml");
            assert_eq!(d["line"], 8, "{d}");
        }
        let rules: Vec<String> = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d["rule"].as_str().unwrap(),
                    d["file"].as_str().unwrap()
                )
            })
            .collect();
        (
            counts["hits"].as_u64().unwrap(),
            counts["misses"].as_u64().unwrap(),
            rules,
        )
    };
    let (hits, cold, rules) = check(&scratch);
    assert_eq!(hits, 0);
    let unknown = "schema/missing-schema plain/backup.yaml".to_owned();
    assert!(rules.contains(&unknown), "{rules:?}");
    let documents = repository_documents(&scratch, &cache);
    assert_eq!(cold % documents, 0, "every validator judges every document");
    let validators = cold / documents;

    let (hits, misses, again) = check(&scratch);
    assert_eq!((hits, misses), (cold, 0));
    assert_eq!(again, rules);

    // One document changes: only its verdicts are redone.
    let scratch = scratch.file(
        "plain/cm.yaml",
        CONFIGMAP.replace("app: plain", "app: other"),
    );
    let (_, misses, _) = check(&scratch);
    assert_eq!(misses, validators);

    // A CRD appears: every verdict of the schema validator (which asks the
    // run for CRDs) is redone, and the custom resource is now checked
    // against it.
    let scratch = scratch.file("plain/crd.yaml", CRD);
    let (_, misses, rules) = check(&scratch);
    assert_eq!(
        misses,
        documents + validators,
        "schema for each old document, all for the new"
    );
    assert!(
        rules.contains(&"schema/invalid plain/backup.yaml".to_owned()),
        "{rules:?}"
    );
    assert!(!rules.contains(&unknown), "{rules:?}");
}

fn repository_documents(scratch: &Scratch, cache: &Path) -> u64 {
    let json = scratch
        .run_with_cache(&["check", ".", "--format", "json"], cache)
        .json();
    json["summary"]["documents"].as_u64().unwrap()
}

/// A cache folder of the test's own, empty.
pub(crate) fn own_cache(scratch: &Scratch) -> std::path::PathBuf {
    cache_at(&scratch.dir.join("own-cache"))
}

#[test]
fn concurrent_runs_share_a_cache_safely() {
    let scratch = repository();
    let cache = own_cache(&scratch);
    let reference = scratch.dir.join("reference");
    scratch
        .run_with_cache(
            &["render", ".", "--out", reference.to_str().unwrap()],
            &cache,
        )
        .code(0);
    std::fs::remove_dir_all(cache.join("renders")).unwrap();
    std::fs::remove_dir_all(cache.join("validations")).unwrap();
    // Four runs at once fill the same entries; each gets a whole answer.
    let runs: Vec<(std::path::PathBuf, std::process::Child)> = (0..4)
        .map(|n| {
            let out = scratch.dir.join(format!("out-{n}"));
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_manifold"))
                .args(["render", ".", "--out"])
                .arg(&out)
                .arg("--cache-dir")
                .arg(&cache)
                .current_dir(&scratch.dir)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            (out, child)
        })
        .collect();
    for (out, mut child) in runs {
        assert!(child.wait().unwrap().success());
        assert_eq!(tree(&out), tree(&reference));
    }
    let json = scratch
        .run_with_cache(&["check", ".", "--format", "json"], &cache)
        .code(0)
        .json();
    assert_eq!(json["cache"]["renders"]["misses"], 0, "{json}");
    assert_eq!(json["cache"]["validations"]["misses"], 0, "{json}");
}

#[test]
fn render_check_lists_stale_targets() {
    let scratch = repository();
    scratch.run(&["render", ".", "--out", "hydrated"]).code(0);
    scratch
        .run(&["render", ".", "--out", "hydrated", "--check"])
        .code(0);
    let scratch = scratch.file("charts/cache/values-dev.yaml", "size: 9\n");
    scratch
        .run(&["render", ".", "--out", "hydrated", "--check"])
        .code(1)
        .stderr_has("charts/cache/dev");
    // A removed target is stale too, and a re-render removes its folder.
    std::fs::remove_dir_all(scratch.dir.join("plain")).unwrap();
    std::fs::remove_file(scratch.dir.join("deploy/flux.yaml")).unwrap();
    scratch
        .run(&["render", ".", "--out", "hydrated", "--check"])
        .code(1)
        .stderr_has("flux/flux-system/plain (removed)");
    scratch.run(&["render", ".", "--out", "hydrated"]).code(0);
    assert!(!scratch.dir.join("hydrated/flux").exists());
}

#[test]
fn a_failing_target_fails_alone_and_keeps_its_last_good_output() {
    let scratch = repository();
    scratch.run(&["render", ".", "--out", "hydrated"]).code(0);
    let before =
        std::fs::read(scratch.dir.join("hydrated/charts/cache/dev/manifest.yaml")).unwrap();
    let scratch = scratch.file(
        "charts/cache/templates/broken.yaml",
        "{{ required \"size is required\" .Values.nothing }}\n",
    );
    let out = scratch.run(&["render", ".", "--out", "hydrated", "--format", "json"]);
    out.code(1);
    let json = out.json();
    let failed: Vec<&str> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "failed")
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["charts/cache/dev", "charts/cache/prod"]);
    let finding = &json["diagnostics"][0];
    assert_eq!(finding["rule"], "manifold/render-failed");
    assert_eq!(finding["file"], "charts/cache/Chart.yaml");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("size is required")
    );
    let after = std::fs::read(scratch.dir.join("hydrated/charts/cache/dev/manifest.yaml")).unwrap();
    assert_eq!(before, after);
    assert!(
        scratch
            .dir
            .join("hydrated/apps/web/overlays/dev/manifest.yaml")
            .is_file()
    );
}

#[test]
fn an_unwritable_cache_runs_uncached_with_a_warning() {
    let scratch = repository();
    let cache = own_cache(&scratch);
    std::fs::write(cache.join("renders"), "not a folder").unwrap();
    scratch
        .run_with_cache(&["check", "."], &cache)
        .code(0)
        .stderr_has("running uncached");
}

#[test]
fn out_refuses_a_folder_that_is_not_hydrated_output() {
    let scratch = repository().file("docs/readme.md", "keep me\n");
    scratch
        .run(&["render", ".", "--out", "docs"])
        .code(2)
        .stderr_has("not hydrated output");
    assert!(scratch.dir.join("docs/readme.md").is_file());
}

#[test]
fn configured_targets_and_ignores_apply() {
    let scratch = repository().file(
        "manifold.yaml",
        "version: 1\nignore: [deploy]\ntargets:\n  - name: cache-staging\n    path: charts/cache\n    config:\n      releaseName: stg\n      set: [size=7]\n",
    );
    let found = targets(&scratch, &[]);
    assert!(found.contains_key("cache-staging"), "{:?}", found.keys());
    assert!(!found.contains_key("argocd/web-prod"));
    assert!(found.contains_key("apps/web/overlays/prod"));
}

#[test]
fn files_limit_the_check_to_the_targets_they_affect() {
    let scratch = repository();
    targets(&scratch, &[]);
    let only = |files: &[&str]| -> Vec<String> {
        let mut args = vec!["--files"];
        args.extend(files);
        targets(&scratch, &args).into_keys().collect()
    };
    assert_eq!(
        only(&["apps/web/base/deployment.yaml"]),
        ["apps/web/overlays/dev", "argocd/web-prod"]
    );
    assert_eq!(only(&["plain/cm.yaml"]), ["flux/flux-system/plain"]);
    // A new file in a folder a renderer listed may change its output; one
    // beside a kustomization that does not name it cannot.
    assert_eq!(
        only(&["charts/cache/templates/new.yaml"]),
        ["charts/cache/dev", "charts/cache/prod"]
    );
    assert_eq!(
        only(&["apps/web/overlays/dev/extra.yaml"]),
        Vec::<String>::new()
    );
    assert_eq!(only(&["README.md"]), Vec::<String>::new());
    assert_eq!(only(&["manifold.yaml"]).len(), 6);
}

#[test]
fn git_branch_commits_the_tree_without_touching_the_work_tree() {
    let scratch = repository();
    std::fs::remove_dir_all(scratch.dir.join(".git")).unwrap();
    git(&scratch.dir, &["init", "-q", "-b", "main"]);
    git(&scratch.dir, &["add", "-A"]);
    git(&scratch.dir, &["commit", "-q", "-m", "sources"]);
    let source = git(&scratch.dir, &["rev-parse", "HEAD"]);

    scratch
        .run(&["render", ".", "--git-branch", "hydrated"])
        .code(0)
        .stderr_has("committed the hydrated tree to hydrated");
    let files = git(&scratch.dir, &["ls-tree", "-r", "--name-only", "hydrated"]);
    assert!(
        files.lines().any(|f| f == "argocd/web-prod/manifest.yaml"),
        "{files}"
    );
    assert!(files.lines().any(|f| f == "manifold.index"), "{files}");
    let message = git(&scratch.dir, &["log", "-1", "--format=%s", "hydrated"]);
    assert_eq!(message, format!("manifold: hydrate {source}"));
    assert_eq!(git(&scratch.dir, &["status", "--porcelain"]), "");
    assert_eq!(
        git(&scratch.dir, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "main"
    );

    let first = git(&scratch.dir, &["rev-parse", "hydrated"]);
    scratch
        .run(&["render", ".", "--git-branch", "hydrated"])
        .code(0)
        .stderr_has("nothing committed");
    assert_eq!(git(&scratch.dir, &["rev-parse", "hydrated"]), first);
}

#[test]
fn application_sets_expand_their_list_and_git_directory_generators() {
    let scratch = repository().file(
        "deploy/argocd.yaml",
        "apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: web
  labels:
    app: argo
spec:
  generators:
  - git:
      directories:
      - path: apps/web/overlays/*
      - path: apps/web/overlays/prod
        exclude: true
  - list:
      elements:
      - env: prod
        ns: production
  template:
    metadata:
      name: 'web-{{path.basename}}'
    spec:
      source:
        path: '{{path}}'
      destination:
        namespace: '{{ns}}'
",
    );
    // The list element has no path of its own: `{{path}}` stays a literal and is skipped.
    let found = targets(&scratch, &[]);
    let names: Vec<&str> = found.keys().map(String::as_str).collect();
    assert!(names.contains(&"argocd/web-dev"), "{names:?}");
    assert!(!names.contains(&"argocd/web-prod"), "{names:?}");
    assert_eq!(found["argocd/web-dev"]["path"], "apps/web/overlays/dev");
}

#[test]
fn cache_stats_and_clean() {
    let scratch = repository();
    let cache = own_cache(&scratch);
    scratch.run_with_cache(&["check", "."], &cache).code(0);
    let stats = scratch.run_with_cache(&["cache", "stats"], &cache);
    stats.code(0).stdout_has("renders:     4 entries");
    scratch
        .run_with_cache(&["cache", "clean"], &cache)
        .code(0)
        .stdout_has("removed 4 renders");
    assert!(!cache.join("renders").exists());
    scratch
        .run_with_cache(&["cache", "stats"], &cache)
        .code(0)
        .stdout_has("renders:     0 entries");
}

/// A plugin is compiled on its first call, and its description is kept
/// beside its compiled code: a run that takes every result from the cache
/// compiles nothing, so a compiled plugin removed after a run is not back
/// after a warm one, and comes back with the first call that needs it.
#[test]
fn a_warm_run_compiles_no_plugin() {
    let scratch = repository();
    let cache = scratch.dir.join("lazy-cache");
    let plugin = crate::support::test_plugin("manifold_example_image_tag");
    let plugin = plugin.to_str().unwrap();
    let compiled = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(cache.join("plugins"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".cwasm"))
            .collect();
        names.sort();
        names
    };
    let check = || {
        scratch
            .run_with_cache(
                &["check", ".", "--format", "json", "--plugin", plugin],
                &cache,
            )
            .code(0)
            .json()
    };
    let cold = check();
    let first = compiled();
    assert!(!first.is_empty());
    for name in &first {
        std::fs::remove_file(cache.join("plugins").join(name)).unwrap();
    }
    let warm = check();
    assert_eq!(warm["cache"]["renders"]["misses"], 0, "{warm}");
    assert_eq!(warm["cache"]["validations"]["misses"], 0, "{warm}");
    assert_eq!(warm["diagnostics"], cold["diagnostics"]);
    assert_eq!(compiled(), Vec::<String>::new());
    // A changed document needs every validator again, the example's too.
    let scratch = scratch.file("plain/cm.yaml", CONFIGMAP.replace("plain", "plain2"));
    let changed = scratch
        .run_with_cache(
            &["check", ".", "--format", "json", "--plugin", plugin],
            &cache,
        )
        .code(0)
        .json();
    assert!(
        changed["cache"]["validations"]["misses"].as_u64().unwrap() > 0,
        "{changed}"
    );
    assert!(!compiled().is_empty());
}

/// Where `check` is run from is not an input: a policy is named relative to
/// the repository, so a run from another folder reuses every verdict.
#[test]
fn a_run_from_another_folder_reuses_every_verdict() {
    let scratch = Scratch::new()
        .file(
            "manifold.yaml",
            "version: 1\nvalidators:\n  policy:\n    policies: [policy/]\n",
        )
        .file("apps/deploy.yaml", DEPLOYMENT)
        .file("policy/deny.rego", crate::validators::REGO_DENY)
        .file("elsewhere/.keep", "");
    let cache = own_cache(&scratch);
    let check = |from: &Path| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_manifold"))
            .arg("check")
            .arg(&scratch.dir)
            .args(["--format", "json", "--cache-dir"])
            .arg(&cache)
            .current_dir(from)
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let first = check(&scratch.dir);
    let elsewhere = check(&scratch.dir.join("elsewhere"));
    assert_eq!(
        elsewhere["cache"]["validations"]["misses"], 0,
        "{elsewhere}"
    );
    assert_eq!(elsewhere["diagnostics"], first["diagnostics"]);
    let denied = first["diagnostics"].to_string();
    assert!(denied.contains("policy"), "{first}");
}
