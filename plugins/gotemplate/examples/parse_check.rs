//! Parses every file given on the command line with Helm's function map and
//! reports parse errors: a quick check of the engine against real charts.

fn main() {
    let funcs = manifold_gotemplate::helm();
    let mut failed = 0;
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("{path}: unreadable");
            continue;
        };
        if let Err(e) = manifold_gotemplate::TemplateSet::parse(&[(&path, &text)], funcs.clone()) {
            failed += 1;
            println!("{e}");
        }
    }
    println!("{failed} files failed to parse");
}
