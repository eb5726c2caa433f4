//! Builds the plugins for `wasm32-wasip2` and embeds the built-in ones.
//!
//! The built-in plugins are ordinary workspace crates. This script runs a
//! nested `cargo build` for them (and for the example and test plugins the
//! integration tests load from their paths) with its own target folder, so
//! it never waits on the outer build's lock, then writes `builtin.rs` into
//! `OUT_DIR` with one `include_bytes!` per built-in plugin. The
//! `wasm32-wasip2` target is installed through rustup when it is missing, so
//! a fresh checkout needs no manual step.
//!
//! With the `precompile-builtins` feature (on by default) it also compiles
//! each built-in to native code with wasmtime, configured by the runtime's
//! own `src/runtime/engine.rs`, and embeds that too: an installed binary
//! never spends its first run in Cranelift. Each built-in's blake3 digest is
//! computed here as well, so no run hashes the embedded megabytes.

// A build script reports failure by panicking; cargo shows the message.
#![allow(clippy::expect_used, clippy::panic)]

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

// The runtime's engine configuration, shared so the compiled code embedded
// here is code the runtime accepts.
#[cfg(feature = "precompile-builtins")]
#[path = "src/runtime/engine.rs"]
mod engine;

/// (plugin name, package, library name, kind) of the plugins embedded in
/// `manifold`. The kind lets a command compile only the plugins it runs (a
/// `validate` never pays for the renderers); loading checks it against the
/// plugin's own metadata.
const BUILTIN: &[(&str, &str, &str, &str)] = &[
    (
        "helm",
        "manifold-plugin-helm",
        "manifold_plugin_helm",
        "Render",
    ),
    (
        "kustomize",
        "manifold-plugin-kustomize",
        "manifold_plugin_kustomize",
        "Render",
    ),
    (
        "labels",
        "manifold-plugin-labels",
        "manifold_plugin_labels",
        "Validate",
    ),
    (
        "policy",
        "manifold-plugin-policy",
        "manifold_plugin_policy",
        "Validate",
    ),
    (
        "schema",
        "manifold-plugin-schema",
        "manifold_plugin_schema",
        "Validate",
    ),
    (
        "secrets",
        "manifold-plugin-secrets",
        "manifold_plugin_secrets",
        "Validate",
    ),
];

/// Plugins built for the tests, loaded from their paths, never embedded.
const EXTRA: &[(&str, &str)] = &[
    ("example-image-tag", "manifold-example-image-tag"),
    ("hostile", "manifold-test-hostile"),
    ("hostile-renderer", "manifold-test-hostile-renderer"),
];

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root")
        .to_owned();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for watched in [
        "plugins",
        "wit",
        "examples/plugins",
        "tests/plugins",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/runtime/engine.rs");
    println!("cargo:rerun-if-env-changed=MANIFOLD_PLUGIN_PROFILE");

    // Fuzz targets (cargo fuzz builds with `--cfg fuzzing`) reach the
    // host's pure code and never run a plugin: embedding none spares them
    // the nested Wasm build and the wasm32 target.
    if env::var_os("CARGO_CFG_FUZZING").is_some() {
        fs::write(
            out_dir.join("builtin.rs"),
            "/// No built-in plugins in a fuzzing build.\npub const BUILTIN: &[Builtin] = &[];\n",
        )
        .expect("cannot write builtin.rs");
        return;
    }

    ensure_target();

    let target_dir = plugin_target_dir(&root, &out_dir);
    let profile = env::var("MANIFOLD_PLUGIN_PROFILE").unwrap_or_else(|_| "plugin".to_owned());
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args([
            "build",
            "--locked",
            "--target",
            TARGET,
            "--profile",
            &profile,
            "--target-dir",
        ])
        .arg(&target_dir);
    for (_, package, _, _) in BUILTIN {
        command.args(["-p", package]);
    }
    for (_, package) in EXTRA {
        command.args(["-p", package]);
    }
    // The outer build's flags are for the host, not for Wasm.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        command.env_remove(var);
    }
    let status = command
        .status()
        .expect("cannot run cargo to build the plugins");
    if !status.success() {
        panic!("building the Wasm plugins failed (see the cargo output above)");
    }

    let artifacts = target_dir.join(TARGET).join(&profile);
    let wasm: Vec<Vec<u8>> = BUILTIN
        .iter()
        .map(|(name, _, lib, _)| {
            let built = artifacts.join(format!("{lib}.wasm"));
            let bytes =
                fs::read(&built).unwrap_or_else(|e| panic!("cannot read {}: {e}", built.display()));
            fs::write(out_dir.join(format!("{name}.wasm")), &bytes)
                .unwrap_or_else(|e| panic!("cannot write {name}.wasm into OUT_DIR: {e}"));
            bytes
        })
        .collect();
    let compiled = precompile(&wasm, &out_dir);

    let mut generated =
        String::from("/// The built-in plugins.\npub const BUILTIN: &[Builtin] = &[\n");
    for (((name, _, _, kind), bytes), compiled) in BUILTIN.iter().zip(&wasm).zip(&compiled) {
        let include = |file: &Path| format!("include_bytes!({:?})", file.display().to_string());
        let compiled = compiled.as_deref().map_or_else(
            || "None".to_owned(),
            |file| format!("Some({})", include(file)),
        );
        writeln!(
            generated,
            "    Builtin {{ name: {name:?}, kind: Kind::{kind}, wasm: {}, digest: {:?}, compiled: {compiled} }},",
            include(&out_dir.join(format!("{name}.wasm"))),
            blake3::hash(bytes).to_hex().as_str(),
        )
        .expect("write to String");
    }
    generated.push_str("];\n");
    fs::write(out_dir.join("builtin.rs"), generated).expect("cannot write builtin.rs");
    println!(
        "cargo:rustc-env=MANIFOLD_TEST_PLUGIN_DIR={}",
        artifacts.display()
    );
}

/// Compiles each built-in for the engine the runtime builds, writing
/// `<name>.cwasm` into `out_dir`; the files, in `wasm`'s order, or `None`
/// each where the binary could not use them.
#[cfg(feature = "precompile-builtins")]
fn precompile(wasm: &[Vec<u8>], out_dir: &Path) -> Vec<Option<PathBuf>> {
    // Code compiled for the build machine is no use to a binary built for
    // another target; that binary compiles its built-ins on first use.
    if env::var("TARGET").ok() != env::var("HOST").ok() {
        return vec![None; wasm.len()];
    }
    // As `Runtime::new` builds its engine for a default run (pooling with
    // the smallest pool, else on demand, default memory, no profiler);
    // engine.rs explains why neither the pool nor the memory limit can
    // make the code incompatible.
    let memory = engine::DEFAULT_MEMORY;
    let engine = wasmtime::Engine::new(&engine::config(
        memory,
        Some(engine::MIN_POOLED_INSTANCES),
        false,
    ))
    .or_else(|_| wasmtime::Engine::new(&engine::config(memory, None, false)))
    .unwrap_or_else(|e| panic!("cannot set up wasmtime to precompile the built-in plugins: {e:#}"));
    let started = std::time::Instant::now();
    // wasmtime compiles a component's functions on rayon's pool; one thread
    // per plugin also overlaps the serial parts (parsing, validation,
    // linking the object), which the two large renderers are dominated by.
    let compiled: Vec<Option<PathBuf>> = std::thread::scope(|scope| {
        let tasks: Vec<_> = BUILTIN
            .iter()
            .zip(wasm)
            .map(|((name, ..), bytes)| {
                let engine = &engine;
                scope.spawn(move || {
                    let started = std::time::Instant::now();
                    let code = engine.precompile_component(bytes).unwrap_or_else(|e| {
                        panic!("cannot compile built-in plugin `{name}`: {e:#}")
                    });
                    let file = out_dir.join(format!("{name}.cwasm"));
                    fs::write(&file, &code)
                        .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
                    // In the build script's output file, for whoever tunes this.
                    eprintln!(
                        "precompiled {name}: {} -> {} bytes in {:.1} s",
                        bytes.len(),
                        code.len(),
                        started.elapsed().as_secs_f64()
                    );
                    Some(file)
                })
            })
            .collect();
        tasks
            .into_iter()
            .map(|task| task.join().expect("a precompiling thread panicked"))
            .collect()
    });
    eprintln!(
        "precompiled {} built-in plugins in {:.1} s",
        compiled.len(),
        started.elapsed().as_secs_f64()
    );
    compiled
}

/// Without the `precompile-builtins` feature every built-in is compiled by
/// the binary on first use (and cached on disk).
#[cfg(not(feature = "precompile-builtins"))]
fn precompile(wasm: &[Vec<u8>], _out_dir: &Path) -> Vec<Option<PathBuf>> {
    vec![None; wasm.len()]
}

/// `<target>/wasm-plugins`, next to the outer build's profile folders.
fn plugin_target_dir(root: &Path, out_dir: &Path) -> PathBuf {
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out, or one level
    // deeper with --target; find the folder that holds the profile.
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").exists())
        .map(|target| target.join("wasm-plugins"))
        .unwrap_or_else(|| root.join("target").join("wasm-plugins"))
}

/// Installs the Wasm target through rustup when the toolchain lacks it.
fn ensure_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if sysroot.is_some_and(|s| s.join("lib/rustlib").join(TARGET).exists()) {
        return;
    }
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", TARGET]);
    if let Ok(toolchain) = env::var("RUSTUP_TOOLCHAIN") {
        rustup.args(["--toolchain", &toolchain]);
    }
    match rustup.status() {
        Ok(status) if status.success() => {}
        _ => panic!(
            "the {TARGET} target is missing and `rustup target add {TARGET}` failed: install it by hand, or install rustup"
        ),
    }
}
