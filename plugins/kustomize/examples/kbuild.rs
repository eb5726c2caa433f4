//! Command-line driver for manual checks: `cargo run --example kbuild -- <repo-root> <target> [none|legacy]`
//! prints the built objects as a YAML stream (or the error), for side-by-side
//! comparison with `kustomize build`.

use manifold_plugin_kustomize::{FileSystem, FsError, Options, Reorder, build};
use std::path::PathBuf;

struct DiskFs(PathBuf);

impl FileSystem for DiskFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let p = self.0.join(path);
        if p.is_dir() {
            return Err(FsError::NotFound(path.into()));
        }
        std::fs::read(p).map_err(|_| FsError::NotFound(path.into()))
    }
    fn list(&self, path: &str) -> Result<Vec<(String, bool)>, FsError> {
        let rd =
            std::fs::read_dir(self.0.join(path)).map_err(|_| FsError::NotFound(path.into()))?;
        let mut v: Vec<(String, bool)> = rd
            .filter_map(Result::ok)
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.path().is_dir(),
                )
            })
            .collect();
        v.sort();
        Ok(v)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(root), Some(target)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: kbuild <repo-root> <target> [none|legacy]");
        std::process::exit(2);
    };
    let reorder = if args.get(3).map(String::as_str) == Some("none") {
        Reorder::None
    } else {
        Reorder::Legacy
    };
    let opts = Options {
        reorder,
        ..Default::default()
    };
    match build(&DiskFs(PathBuf::from(root)), target, &opts) {
        Ok(res) => {
            let docs: Vec<serde_json::Value> = res.into_iter().map(|r| r.value).collect();
            print!("{}", manifold_yaml::to_string_stream(&docs));
        }
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
    }
}
