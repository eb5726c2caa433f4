//! Stack use: the deepest input the default options accept must parse and
//! print on a small stack (Wasm instances get 1 MiB by default), on both
//! parse paths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use manifold_yaml::testing::{fast, full};
use manifold_yaml::{EmitOptions, ParseOptions, to_string_with};

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn deepest_accepted_nesting_fits_a_small_stack() {
    on_small_stack(|| {
        let opts = ParseOptions::default();
        let depth = opts.max_depth;
        let block: String = (0..depth)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        let seqs: String = (0..depth)
            .map(|i| format!("{}-\n", " ".repeat(i)))
            .collect();
        let flow = "[".repeat(250) + &"]".repeat(250);
        let mixed = "a: ".to_string() + &"{b: [".repeat(120) + &"]}".repeat(120);
        for text in [block, seqs, flow, mixed] {
            let f = fast(&text, &opts).expect("fast path takes it");
            let s = full(&text, &opts).unwrap();
            assert_eq!(f[0].value, s[0].value);
            let out = to_string_with(&s[0].value, &EmitOptions::kustomize());
            assert!(!out.is_empty());
        }
    });
}
