//! The archive format that packs several files into one fuzz input, shared
//! by the targets (which read it) and the `seed` step (which writes it).
//!
//! A line `-- name --` starts a file, as in Go's txtar: a kustomization, a
//! chart or a policy set is one corpus entry that libFuzzer mutates as a
//! whole, and a plain YAML file is an archive of one file.

/// The files of an archive, in order. Text before the first header belongs
/// to a file named `first`; names are kept as written (each target decides
/// what a name means); invalid UTF-8 is replaced.
pub fn unpack(data: &[u8], first: &str) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(data);
    let mut files: Vec<(String, String)> = Vec::new();
    let mut current = (first.to_owned(), String::new());
    for line in text.split_inclusive('\n') {
        match header(line) {
            Some(name) => {
                let done = std::mem::replace(&mut current, (name.to_owned(), String::new()));
                // An archive that starts with a header has no unnamed file.
                if !(files.is_empty() && done.1.is_empty()) {
                    files.push(done);
                }
            }
            None => current.1.push_str(line),
        }
    }
    files.push(current);
    files
}

/// Files as one archive; [`unpack`] gives them back (as long as no line of
/// a file looks like a header).
pub fn pack<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, text) in files {
        out.push_str("-- ");
        out.push_str(name);
        out.push_str(" --\n");
        out.push_str(text);
        if !text.is_empty() && !text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn header(line: &str) -> Option<&str> {
    line.trim_end_matches('\n')
        .strip_prefix("-- ")?
        .strip_suffix(" --")
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::{pack, unpack};

    fn owned(files: &[(&str, &str)]) -> Vec<(String, String)> {
        files
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect()
    }

    #[test]
    fn unpacks() {
        let cases: [(&str, &[(&str, &str)]); 5] = [
            ("", &[("f", "")]),
            ("a: 1\n", &[("f", "a: 1\n")]),
            ("-- x --\nb\n-- y/z --\nc", &[("x", "b\n"), ("y/z", "c")]),
            ("a\n-- x --\n", &[("f", "a\n"), ("x", "")]),
            ("-- x\n--x --\n", &[("f", "-- x\n--x --\n")]),
        ];
        for (text, expected) in cases {
            assert_eq!(unpack(text.as_bytes(), "f"), owned(expected), "{text:?}");
        }
    }

    #[test]
    fn round_trip() {
        let files = [
            ("kustomization.yaml", "resources: [a.yaml]\n"),
            ("a.yaml", "kind: A"),
        ];
        let packed = pack(files);
        assert_eq!(
            unpack(packed.as_bytes(), "f"),
            owned(&[
                ("kustomization.yaml", "resources: [a.yaml]\n"),
                ("a.yaml", "kind: A\n"),
            ])
        );
    }
}
