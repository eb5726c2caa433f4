//! `helm template` from the command line, for trying charts by hand:
//! `cargo run -p manifold-plugin-helm --example template -- ROOT CHART
//! [--set k=v] [-f file] [--show-only path] [--include-crds]
//! [--kube-version v] [--api-versions v] [--release name] [--namespace ns]`.
//! Paths are relative to ROOT.

use std::path::PathBuf;

use manifold_plugin_helm::{FileSystem, FsError, Options, render};

struct DirFs(PathBuf);

impl FileSystem for DirFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        std::fs::read(self.0.join(path)).map_err(|e| FsError::Other {
            path: path.to_string(),
            message: e.to_string(),
        })
    }

    fn list(&self, path: &str) -> Result<Vec<(String, bool)>, FsError> {
        let mut out = Vec::new();
        let rd = std::fs::read_dir(self.0.join(path)).map_err(|e| FsError::Other {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        for e in rd.flatten() {
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            out.push((e.file_name().to_string_lossy().into_owned(), is_dir));
        }
        Ok(out)
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(root), Some(chart)) = (args.next(), args.next()) else {
        eprintln!("usage: template ROOT CHART [flags]");
        std::process::exit(2);
    };
    let mut o = Options::default();
    while let Some(flag) = args.next() {
        let mut val = || args.next().unwrap_or_default();
        match flag.as_str() {
            "--set" => o.set.push(val()),
            "--set-string" => o.set_string.push(val()),
            "--set-json" => o.set_json.push(val()),
            "--set-file" => o.set_file.push(val()),
            "-f" | "--values" => o.values_files.push(val()),
            "--show-only" | "-s" => o.show_only.push(val()),
            "--include-crds" => o.include_crds = true,
            "--skip-tests" => o.skip_tests = true,
            "--no-hooks" => o.disable_hooks = true,
            "--is-upgrade" => o.is_upgrade = true,
            "--kube-version" => o.kube_version = Some(val()),
            "--api-versions" | "-a" => o.api_versions.push(val()),
            "--release" => o.release_name = val(),
            "--namespace" | "-n" => o.namespace = val(),
            other => {
                eprintln!("unknown flag {other}");
                std::process::exit(2);
            }
        }
    }
    match render(&DirFs(PathBuf::from(root)), &chart, &o) {
        Ok(r) => print!("{}", r.text),
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
    }
}
