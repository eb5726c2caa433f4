//! The `check` benchmark: `manifold check` over generated GitOps monorepos
//! (see `corpus.rs`), against the floor of reading the same files and the
//! tools manifold replaces.
//!
//! ```text
//! cargo bench -p manifold --bench check                         # small, then medium
//! cargo bench -p manifold --bench check -- large --runs 1 --peers 100
//! cargo bench -p manifold --bench check -- generate medium /tmp/corpus
//! ```
//!
//! End-to-end figures come from the built `manifold` binary (a child
//! process: wall, user+sys CPU and peak RSS from `wait4`); stage figures,
//! the floor and plugin instantiation from the library, in a child process
//! of this benchmark. Each size's corpus is generated afresh under Cargo's
//! target tmp folder and removed once its figures are printed.

// A benchmark stops at the first thing that goes wrong.
#![allow(clippy::expect_used, clippy::panic)]

mod corpus;
mod measure;
mod peers;
mod stages;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use measure::{Usage, duration, header, mib, row};

struct Options {
    sizes: Vec<String>,
    /// Runs of each repeated end-to-end measurement.
    runs: Option<usize>,
    /// Overlays built by the peers; `None`: all for small and medium, 200 for large.
    peers: Option<usize>,
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let [mode, root, cache, work] = args.as_slice()
        && mode == LIBRARY
    {
        library(Path::new(root), Path::new(cache), Path::new(work));
        return;
    }
    if args.first().is_some_and(|a| a == "generate") {
        let (Some(size), Some(dir)) = (args.get(1), args.get(2)) else {
            eprintln!(
                "usage: cargo bench -p manifold --bench check -- generate small|medium|large DIR"
            );
            std::process::exit(2);
        };
        let apps = corpus::applications(size).unwrap_or_else(|| usage(size));
        match corpus::generate(Path::new(dir), apps) {
            Ok(c) => println!(
                "{dir}: {} applications, {} targets, {} files, {} KiB, blake3 {}",
                c.apps.len(),
                c.targets(),
                c.files,
                c.bytes / 1024,
                c.digest
            ),
            Err(e) => {
                eprintln!("{dir}: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let mut options = Options {
        sizes: Vec::new(),
        runs: None,
        peers: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let number = |value: Option<String>| value.and_then(|v| v.parse().ok());
        match arg.as_str() {
            "--runs" => options.runs = number(args.next()).filter(|n| *n > 0),
            "--peers" => options.peers = number(args.next()),
            size if corpus::applications(size).is_some() => options.sizes.push(size.to_owned()),
            other => usage(other),
        }
    }
    if options.sizes.is_empty() {
        options.sizes = vec!["small".into(), "medium".into()];
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "manifold check benchmark: {} threads, load average {}",
        rayon::current_num_threads(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    for size in &options.sizes {
        bench(size, &options);
    }
}

fn usage(arg: &str) -> ! {
    eprintln!(
        "unknown argument {arg:?}: give sizes (small, medium, large), --runs N, --peers N, or generate SIZE DIR"
    );
    std::process::exit(2);
}

/// A `manifold check` run of the corpus (from its root, as pre-commit runs it).
fn manifold(root: &Path, cache: &Path, args: &[&str]) -> measure::Run {
    let run = measure::run(
        Command::new(env!("CARGO_BIN_EXE_manifold"))
            .current_dir(root)
            .args(args)
            .arg("--cache-dir")
            .arg(cache)
            .args(["--color", "never"]),
    )
    .expect("run manifold");
    // Warnings are fine; errors mean the corpus or manifold is broken.
    if run.code != Some(0) {
        eprintln!("{}\n{}", run.stdout, run.stderr);
        panic!("manifold {args:?} exited with {:?}", run.code);
    }
    run
}

/// The report's last line: `checked … targets and … documents: …`.
fn summary(run: &measure::Run) -> String {
    run.stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_owned()
}

fn repeated(runs: usize, mut one: impl FnMut(usize) -> measure::Run) -> (Usage, Duration, String) {
    let mut usages = Vec::new();
    let mut last = String::new();
    for round in 0..runs {
        let run = one(round);
        last = summary(&run);
        usages.push(run.usage);
    }
    let (median, fastest) = measure::median(usages);
    (median, fastest, last)
}

fn bench(size: &str, options: &Options) {
    let apps = corpus::applications(size).expect("known size");
    let large = size == "large";
    let runs = options.runs.unwrap_or(match size {
        "small" => 5,
        "medium" => 3,
        _ => 1,
    });
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("bench-check")
        .join(size);
    let _ = std::fs::remove_dir_all(&work);
    let started = Instant::now();
    let corpus = corpus::generate(&work.join("repo"), apps).expect("generate the corpus");
    let generated = started.elapsed();
    let root = &corpus.root;
    let cache = work.join("cache");
    let overlays = corpus.overlays();
    println!(
        "\n== {size}: {} applications ({} Kustomize with 3 overlays, {} charts with 3 environments), {} targets; {} files, {} KiB; blake3 {}; generated in {}",
        apps,
        apps - corpus.charts(),
        corpus.charts(),
        corpus.targets(),
        corpus.files,
        corpus.bytes / 1024,
        corpus.digest.get(..16).unwrap_or_default(),
        duration(generated),
    );
    header();

    let _ = std::fs::remove_dir_all(&cache);
    let first = manifold(root, &cache, &["check", "."]);
    row(
        "first run (plugins not compiled, cache empty)",
        &first.usage,
        "",
    );

    let (cold, cold_fastest, checked) = repeated(runs, |_| {
        stages::empty_results(&cache);
        manifold(root, &cache, &["check", "."])
    });
    row(
        &format!("cold check: plugins compiled, cache empty (median of {runs})"),
        &cold,
        &format!("fastest {}; {checked}", duration(cold_fastest)),
    );
    let per_target = cold.wall / u32::try_from(corpus.targets()).unwrap_or(1);
    if !large {
        stages::empty_results(&cache);
        let one = manifold(root, &cache, &["check", ".", "-j", "1"]);
        row("cold check -j 1", &one.usage, "");
    }

    let (warm, warm_fastest, _) = repeated(runs, |_| manifold(root, &cache, &["check", "."]));
    row(
        &format!("warm check, nothing changed (median of {runs})"),
        &warm,
        &format!("fastest {}", duration(warm_fastest)),
    );

    let edited = corpus::edited_file();
    let (incremental, incremental_fastest, _) = repeated(runs, |round| {
        corpus::edit(root, &edited, round).expect("edit the corpus");
        manifold(root, &cache, &["check", ".", "--files", edited.as_str()])
    });
    if runs % 2 == 1 {
        corpus::edit(root, &edited, runs).expect("restore the corpus");
    }
    row(
        &format!("incremental: --files one base file (median of {runs})"),
        &incremental,
        &format!(
            "fastest {}; {edited} (3 targets read it)",
            duration(incremental_fastest)
        ),
    );

    let hydrated = work.join("hydrated");
    let out = hydrated.to_string_lossy().into_owned();
    let render = manifold(root, &cache, &["render", ".", "--out", out.as_str()]);
    row("render --out (renders cached)", &render.usage, "");

    // The library's figures come from a child process of this benchmark: its
    // peak memory is its own, and this process stays small, so the peak
    // memory reported for later children is theirs (a child's maxrss
    // starts at its parent's, since exec records the old address space's).
    let library_run = measure::run(
        Command::new(std::env::current_exe().expect("this benchmark's path"))
            .args([LIBRARY])
            .arg(root)
            .arg(&cache)
            .arg(&work),
    )
    .expect("run the library measurements");
    let mut floor = Duration::ZERO;
    let mut slowest_call = None;
    for line in library_run.stdout.lines() {
        match line.strip_prefix(FIGURES) {
            Some(figures) => {
                let mut fields = figures.split_whitespace();
                let mut nanos = || {
                    fields
                        .next()
                        .and_then(|f| f.parse().ok())
                        .map(Duration::from_nanos)
                        .unwrap_or_default()
                };
                floor = nanos();
                let call = nanos();
                slowest_call = fields.next().map(|plugin| (call, plugin.to_owned()));
            }
            None => println!("{line}"),
        }
    }
    if library_run.code != Some(0) {
        eprintln!("{}", library_run.stderr);
        panic!("the library measurements failed");
    }

    let peer_count = options
        .peers
        .unwrap_or(if large { 200 } else { overlays.len() });
    let mut kustomize_per_overlay = None;
    if peer_count == 0 {
        println!("  peers: skipped (--peers 0)");
    } else if peers::available("kubectl", &["version", "--client"]) {
        let sample = peers::sample(&overlays, peer_count);
        let n = u32::try_from(sample.len()).unwrap_or(1).max(1);
        let all = u32::try_from(overlays.len()).unwrap_or(1);
        for workers in [1, 2] {
            let (usage, failures) = peers::kustomize(root, &sample, workers);
            let per = usage.wall / n;
            if workers == 1 {
                kustomize_per_overlay = Some(per);
            }
            row(
                &format!("kubectl kustomize, {workers} at a time"),
                &usage,
                &format!(
                    "{} of {} overlays{}: {} per overlay, {} for all {} (extrapolated){}",
                    sample.len(),
                    overlays.len(),
                    if sample.len() < overlays.len() {
                        " sampled"
                    } else {
                        ""
                    },
                    duration(per),
                    duration(per * all),
                    overlays.len(),
                    if failures > 0 {
                        format!("; {failures} FAILED")
                    } else {
                        String::new()
                    }
                ),
            );
        }
        println!(
            "    (kubectl renders the Kustomize overlays only: no charts, no validation; helm is {})",
            if peers::available("helm", &["version"]) {
                "not measured"
            } else {
                "absent"
            }
        );
    } else {
        println!("  peers: kubectl is absent");
    }
    if peers::available("kubeconform", &["-v"]) {
        match peers::kubeconform(&hydrated) {
            Ok(run) => row(
                "kubeconform -strict (hydrated tree)",
                &run.usage,
                &summary(&run),
            ),
            Err(e) => println!("  kubeconform: {e}"),
        }
    } else {
        println!("  kubeconform: absent on this machine");
    }

    println!("  against the targets (set for medium on 2 cores):");
    let goal = |name: &str, value: String, met: bool| {
        println!(
            "    {name:<44} {value:<28} {}",
            if met { "met" } else { "MISSED" }
        );
    };
    goal(
        "cold check per target < 7.5 ms",
        duration(per_target),
        per_target < Duration::from_micros(7500),
    );
    let share = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    goal(
        "warm check <= 5% of cold",
        format!("{:.1}%", 100.0 * share(warm.wall, cold.wall)),
        share(warm.wall, cold.wall) <= 0.05,
    );
    goal(
        "incremental --files <= 10% of cold",
        format!("{:.1}%", 100.0 * share(incremental.wall, cold.wall)),
        share(incremental.wall, cold.wall) <= 0.10,
    );
    goal(
        "cold <= 4x the floor",
        format!("{:.0}x", share(cold.wall, floor)),
        share(cold.wall, floor) <= 4.0,
    );
    if let Some((call, plugin)) = slowest_call {
        goal(
            "instantiation + trivial call < 100 µs (slowest)",
            format!("{} ({plugin})", duration(call)),
            call < Duration::from_micros(100),
        );
    }
    goal(
        "first run <= cold + 2 s",
        // Below cold when the cold runs pay for deleting the previous
        // cache (ext4 scans recently deleted inodes on the next creates).
        match first.usage.wall.checked_sub(cold.wall) {
            Some(above) => format!("+{}", duration(above)),
            None => format!("-{} (below cold)", duration(cold.wall - first.usage.wall)),
        },
        first.usage.wall <= cold.wall + Duration::from_secs(2),
    );
    goal(
        "peak memory < 1 GiB (set for large)",
        mib(cold.maxrss.max(first.usage.maxrss)),
        cold.maxrss.max(first.usage.maxrss) < 1 << 20,
    );
    if let Some(per) = kustomize_per_overlay {
        println!(
            "    cold check per target is {:.2}x kubectl kustomize per overlay",
            share(per_target, per)
        );
    }
    // A large corpus with its cache and hydrated trees takes gigabytes;
    // `generate` writes one to keep.
    if let Err(e) = std::fs::remove_dir_all(&work) {
        eprintln!("{}: not removed: {e}", work.display());
    }
}

/// The mode in which this benchmark runs its library measurements.
const LIBRARY: &str = "__library";
/// The last line of that mode's output: floor and slowest validator's call, in
/// nanoseconds, and that call's plugin.
const FIGURES: &str = "figures ";

/// Stages, floor and plugin instantiation of the corpus at `root`, through
/// the library in this process.
fn library(root: &Path, cache: &Path, work: &Path) {
    println!("  stages, through the library (render cache emptied first):");
    let (stages, counts) = stages::check_by_stage(root, cache, &work.join("hydrated-stages"))
        .expect("the stages of check");
    for stage in &stages {
        row(&format!("  {}", stage.name), &stage.usage, &stage.note);
    }
    println!(
        "    counts: {} targets, {} documents, {} errors, {} warnings",
        counts.targets, counts.documents, counts.errors, counts.warnings
    );
    assert_eq!(counts.errors, 0, "the corpus must check clean of errors");

    let floor = stages::floor(root).expect("the floor");
    row(
        "floor: read, parse, print every input (manifold-yaml)",
        &floor.usage,
        &format!(
            "{} files ({} YAML parsed, {} documents), {} KiB in and out",
            floor.files,
            floor.parsed,
            floor.documents,
            floor.bytes / 1024
        ),
    );

    let setup = stages::setup(root, cache).expect("load the plugins");
    let edited = root.join(corpus::edited_file());
    let deployment = std::fs::read_to_string(&edited).expect("read a Deployment");
    let deployment = manifold_yaml::from_str(&deployment).expect("parse a Deployment");
    println!("  plugin instantiation + one call, per call (library, one thread):");
    let costs = stages::instantiation(&setup, &deployment.to_string());
    for cost in &costs {
        println!(
            "    {:<10} empty batch, no configuration: {:>9}   corpus configuration, one Deployment: {:>9}   ({} calls){}",
            cost.plugin,
            duration(cost.empty),
            duration(cost.configured),
            cost.calls,
            cost.failed
                .as_ref()
                .map(|f| format!("; a call failed: {f}"))
                .unwrap_or_default()
        );
    }
    // The goal holds for every validator, so the slowest one is judged.
    if let Some(slowest) = costs.iter().max_by_key(|c| c.empty) {
        println!(
            "{FIGURES}{} {} {}",
            floor.usage.wall.as_nanos(),
            slowest.empty.as_nanos(),
            slowest.plugin
        );
    }
}
