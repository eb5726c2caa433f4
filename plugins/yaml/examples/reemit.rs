//! Re-emits YAML files in `kustomize build` form (or value order with
//! `--keep-order`), for comparing this crate's emitter with kustomize.
//!
//! Usage: `cargo run -p manifold-yaml --example reemit -- [--keep-order] FILE...`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use manifold_yaml::{EmitOptions, ParseOptions, parse_documents, to_string_stream_with};

fn main() {
    let mut opts = EmitOptions::kustomize();
    let mut status = 0;
    for arg in std::env::args().skip(1) {
        if arg == "--keep-order" {
            opts.sort_keys = false;
            continue;
        }
        let text = match std::fs::read_to_string(&arg) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{arg}: {e}");
                status = 1;
                continue;
            }
        };
        match parse_documents(&text, &ParseOptions::default()) {
            Ok(docs) => {
                let values: Vec<_> = docs.into_iter().map(|d| d.value).collect();
                print!("{}", to_string_stream_with(&values, &opts));
            }
            Err(e) => {
                eprintln!("{arg}: {e}");
                status = 1;
            }
        }
    }
    std::process::exit(status);
}
