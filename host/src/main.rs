//! The `manifold` binary: everything lives in the library.

fn main() {
    std::process::exit(manifold::run(std::env::args_os()));
}
