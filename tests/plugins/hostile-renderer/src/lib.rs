//! A renderer that misbehaves on purpose, chosen by its configuration's
//! `mode`: the renderer side of the sandbox tests (the `hostile` validator
//! has the rest). Renderers differ from validators in two ways worth
//! attacking: they read the repository with no granted folders beside it,
//! and they can make the host run other renderers (`compose`), themselves
//! included.

use manifold_plugin_sdk::files::{self, FileError};
use manifold_plugin_sdk::render::{self, Output, Request};
use manifold_plugin_sdk::{Diagnostic, Failure, Manifest, Metadata, Origin, Renderer};

struct HostileRenderer;

impl Renderer for HostileRenderer {
    fn metadata() -> Metadata {
        Metadata::renderer(
            "hostile-renderer",
            "0.0.0",
            "Misbehaves on purpose (tests only).",
        )
    }

    fn render(request: Request) -> Result<Output, Failure> {
        let config: serde_json::Value =
            serde_json::from_str(&request.config).map_err(|e| Failure::new(e.to_string()))?;
        let number = |key: &str| config.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
        let mode = config.get("mode").and_then(|m| m.as_str()).unwrap_or("ok");
        match mode {
            "ok" => Ok(Output {
                manifests: vec![Manifest {
                    origin: Origin {
                        file: format!("{}/x.yaml", request.target),
                        document: 0,
                        line: 1,
                    },
                    json: r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#
                        .into(),
                }],
                diagnostics: Vec::new(),
            }),
            // Busy work of a known size: the tests time it to calibrate `chain`.
            "spin" => {
                spin(number("spin"));
                Ok(empty())
            }
            // Works for a while, then has the host start itself again, one
            // level deeper; the deepest level loops forever. Each level's
            // work would get a fresh time budget if nested calls did not
            // share the outermost call's deadline.
            "chain" => {
                spin(number("spin"));
                let depth = number("depth");
                if depth == 0 {
                    let mut n: u64 = 0;
                    loop {
                        n = std::hint::black_box(n.wrapping_add(1));
                    }
                }
                let mut next = config.clone();
                next["depth"] = serde_json::json!(depth - 1);
                render::render_with(
                    "hostile-renderer",
                    &Request {
                        target: request.target.clone(),
                        config: next.to_string(),
                    },
                )
            }
            "read-paths" => {
                let paths: Vec<String> = config
                    .get("paths")
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                let mut diagnostics = Vec::new();
                for path in &paths {
                    let read = match files::read(path) {
                        Ok(bytes) => format!("ok: {}", String::from_utf8_lossy(&bytes)),
                        Err(e) => describe(&e),
                    };
                    diagnostics.push(Diagnostic::info(
                        "hostile/probe",
                        format!("read {path} -> {read}"),
                    ));
                    let list = match files::list(path) {
                        Ok(entries) => format!(
                            "ok: {}",
                            entries
                                .into_iter()
                                .map(|e| e.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        Err(e) => describe(&e),
                    };
                    diagnostics.push(Diagnostic::info(
                        "hostile/probe",
                        format!("list {path} -> {list}"),
                    ));
                }
                Ok(Output {
                    manifests: Vec::new(),
                    diagnostics,
                })
            }
            // 100 MiB of answer, built in place: the point is the host's
            // cap on answers, not the plugin's own memory bound.
            "huge" => {
                let mut json = String::with_capacity((100 << 20) + 16);
                json.push_str("{\"data\":\"");
                json.extend(std::iter::repeat_n('x', 100 << 20));
                json.push_str("\"}");
                Ok(Output {
                    manifests: vec![Manifest {
                        origin: Origin {
                            file: "x.yaml".into(),
                            document: 0,
                            line: 1,
                        },
                        json,
                    }],
                    diagnostics: Vec::new(),
                })
            }
            other => Err(Failure::new(format!("unknown mode {other:?}"))),
        }
    }
}

fn empty() -> Output {
    Output {
        manifests: Vec::new(),
        diagnostics: Vec::new(),
    }
}

fn spin(iterations: u64) {
    let mut n: u64 = 0;
    for i in 0..iterations {
        n = std::hint::black_box(n.wrapping_add(i));
    }
}

fn describe(e: &FileError) -> String {
    match e {
        FileError::NotFound(m) => format!("not-found: {m}"),
        FileError::Denied(m) => format!("denied: {m}"),
        FileError::Io(m) => format!("io: {m}"),
    }
}

manifold_plugin_sdk::export_renderer!(HostileRenderer);
