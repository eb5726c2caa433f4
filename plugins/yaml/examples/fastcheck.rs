//! Lists the files the fast path defers to the full parser, to find common
//! constructs worth supporting. Usage: `fastcheck FILE...`

use manifold_yaml::ParseOptions;
use manifold_yaml::testing::fast;

fn main() {
    for arg in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&arg) else {
            continue;
        };
        if fast(&text, &ParseOptions::default()).is_none() {
            println!("{arg}");
        }
    }
}
