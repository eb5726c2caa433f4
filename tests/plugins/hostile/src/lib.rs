//! A validator that misbehaves on purpose, chosen by its configuration's
//! `mode`, so the tests can check that the host contains each misdeed to the
//! one call. `mode: "ok"` behaves, to show the plugin itself works.

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
            other => Err(Failure::new(format!("unknown mode {other:?}"))),
        }
    }
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let buffer = std::hint::black_box([depth; 64]);
    recurse(depth + 1) + buffer[0]
}

manifold_plugin_sdk::export_validator!(Hostile);
