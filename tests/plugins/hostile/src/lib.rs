//! A validator that misbehaves on purpose, chosen by its configuration's
//! `mode`, so the tests can check that the host contains each misdeed to the
//! one call. `mode: "ok"` behaves, to show the plugin itself works.
//!
//! Modes that probe what the plugin can reach (`read-paths`, `wasi-fs`)
//! answer with one `hostile/probe` finding per attempt, `PATH -> outcome`,
//! so the tests see every attempt and not only the first refusal.

use manifold_plugin_sdk::files::{self, FileError};
use manifold_plugin_sdk::{Diagnostic, Failure, Manifest, Metadata, Validator};

struct Hostile;

impl Validator for Hostile {
    fn metadata() -> Metadata {
        Metadata::validator("hostile", "0.0.0", "Misbehaves on purpose (tests only).")
    }

    fn validate(manifests: Vec<Manifest>, config: String) -> Result<Vec<Diagnostic>, Failure> {
        let config: serde_json::Value =
            serde_json::from_str(&config).map_err(|e| Failure::new(e.to_string()))?;
        let mode = config.get("mode").and_then(|m| m.as_str()).unwrap_or("ok");
        match mode {
            "ok" => Ok(vec![Diagnostic::info(
                "hostile/seen",
                format!("{} manifests", manifests.len()),
            )]),
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "recurse" => Ok(vec![Diagnostic::info(
                "hostile/depth",
                recurse(0).to_string(),
            )]),
            "panic" => panic!("hostile plugin panics on purpose"),
            "trap" => std::process::abort(),
            "read-file" => match std::fs::read_to_string("/etc/passwd") {
                Ok(text) => Ok(vec![Diagnostic::error("hostile/leak", text)]),
                Err(e) => Err(Failure::new(format!("read /etc/passwd: {e}"))),
            },
            "network" => match std::net::TcpStream::connect("127.0.0.1:9") {
                Ok(_) => Ok(vec![Diagnostic::error("hostile/leak", "connected")]),
                Err(e) => Err(Failure::new(format!("connect: {e}"))),
            },
            "env" => Ok(vec![Diagnostic::info(
                "hostile/env",
                format!("{:?}", std::env::vars().collect::<Vec<_>>()),
            )]),
            "clock" => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(u64::MAX);
                Ok(vec![Diagnostic::info("hostile/clock", now.to_string())])
            }
            "huge" => Ok(vec![Diagnostic::error(
                "hostile/huge",
                "x".repeat(100 << 20),
            )]),
            "bad-index" => Ok(vec![
                Diagnostic::error("hostile/index", "out of range").on_manifest(manifests.len() + 7),
            ]),
            "fail" => Err(Failure::new("hostile plugin reports a failure")),
            "read-paths" => Ok(strings(&config, "paths")
                .iter()
                .flat_map(|path| {
                    [
                        probe(path, "read", files::read(path).map(leak)),
                        probe(
                            path,
                            "list",
                            files::list(path)
                                .map(|entries| entries.into_iter().map(|e| e.name).collect()),
                        ),
                    ]
                })
                .collect()),
            "wasi-fs" => Ok(wasi_fs(&strings(&config, "paths"))),
            "many-reads" => {
                // Distinct misses, each of which the host would have to remember.
                let count = config.get("count").and_then(|c| c.as_u64()).unwrap_or(0);
                let refused = (0..count)
                    .filter(|i| {
                        files::read(&format!("missing/{i}"))
                            .is_err_and(|e| !matches!(e, FileError::NotFound(_)))
                    })
                    .count();
                Ok(vec![Diagnostic::info(
                    "hostile/refused",
                    refused.to_string(),
                )])
            }
            "long-path" => {
                let path = "a/".repeat(8 << 20);
                let outcome = match files::read(&path) {
                    Ok(_) => "read".to_owned(),
                    Err(e) => describe(&e),
                };
                Ok(vec![Diagnostic::info("hostile/long-path", outcome)])
            }
            "log-flood" => {
                let line = "x".repeat(64 << 10);
                for _ in 0..10_000 {
                    manifold_plugin_sdk::log::info(&line);
                }
                Ok(Vec::new())
            }
            other => Err(Failure::new(format!("unknown mode {other:?}"))),
        }
    }
}

fn strings(config: &serde_json::Value, key: &str) -> Vec<String> {
    config
        .get(key)
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// What a successful read returned, so a leak shows in the test's output.
fn leak(bytes: Vec<u8>) -> Vec<String> {
    vec![String::from_utf8_lossy(&bytes).into_owned()]
}

fn describe(e: &FileError) -> String {
    match e {
        FileError::NotFound(m) => format!("not-found: {m}"),
        FileError::Denied(m) => format!("denied: {m}"),
        FileError::Io(m) => format!("io: {m}"),
    }
}

fn probe(path: &str, op: &str, result: Result<Vec<String>, FileError>) -> Diagnostic {
    let outcome = match result {
        Ok(found) => format!("ok: {}", found.join(", ")),
        Err(e) => describe(&e),
    };
    Diagnostic::info("hostile/probe", format!("{op} {path} -> {outcome}"))
}

/// Tries the file system the way any program would, through WASI: the host
/// grants no preopened folder, so every attempt must fail.
fn wasi_fs(paths: &[String]) -> Vec<Diagnostic> {
    use std::io::Write as _;
    let mut out = Vec::new();
    let mut report = |op: &str, path: &str, result: std::io::Result<String>| {
        let outcome = match result {
            Ok(what) => format!("ok: {what}"),
            Err(e) => format!("error: {e}"),
        };
        out.push(Diagnostic::info(
            "hostile/probe",
            format!("{op} {path} -> {outcome}"),
        ));
    };
    for dir in [".", "/", "/tmp"] {
        report(
            "read-dir",
            dir,
            std::fs::read_dir(dir).map(|entries| entries.count().to_string()),
        );
    }
    report(
        "current-dir",
        "",
        std::env::current_dir().map(|d| d.display().to_string()),
    );
    for path in paths {
        report(
            "write",
            path,
            std::fs::write(path, b"written by the hostile plugin").map(|()| String::new()),
        );
        report(
            "create-dir",
            path,
            std::fs::create_dir_all(format!("{path}/hostile")).map(|()| String::new()),
        );
        report(
            "append",
            path,
            std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(b"appended"))
                .map(|()| String::new()),
        );
        report(
            "read",
            path,
            std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()),
        );
        report(
            "remove",
            path,
            std::fs::remove_file(path).map(|()| String::new()),
        );
    }
    out
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let buffer = std::hint::black_box([depth; 64]);
    recurse(depth + 1) + buffer[0]
}

manifold_plugin_sdk::export_validator!(Hostile);
