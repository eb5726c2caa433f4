//! Running the binary in a scratch folder and reading what it printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Compiled external plugins (the example and hostile ones) are shared by
/// every test: compiling them once is enough.
pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("manifold-cache")
}

/// An empty cache at `cache`. A run with it starts cold without compiling
/// the built-in plugins: the build embedded their compiled code.
pub fn cache_at(cache: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(cache);
    std::fs::create_dir_all(cache).unwrap();
    cache.to_path_buf()
}

/// The blake3 digest of every file under `dir`, by relative path.
pub fn digests(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(
                    name,
                    blake3::hash(&std::fs::read(&path).unwrap()).to_string(),
                );
            }
        }
    }
    out
}

/// Where the build put the example and test plugins.
pub fn test_plugin(name: &str) -> PathBuf {
    Path::new(env!("MANIFOLD_TEST_PLUGIN_DIR")).join(format!("{name}.wasm"))
}

/// A scratch folder with files in it, removed when dropped unless the test
/// failed (its folder is then kept to look at).
pub struct Scratch {
    pub dir: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Scratch {
    pub fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("scratch")
            .join(format!(
                "{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst)
            ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // A repository root, so configuration discovery stops here.
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        Scratch { dir }
    }

    pub fn file(self, path: &str, content: impl AsRef<[u8]>) -> Scratch {
        let full = self.dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
        self
    }

    /// Runs `manifold ARGS` in the folder with the shared plugin cache.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_cache(args, &cache_dir())
    }

    /// Runs `manifold ARGS` in the folder with its cache in `cache`.
    pub fn run_with_cache(&self, args: &[&str], cache: &Path) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_manifold"))
            .args(args)
            .arg("--cache-dir")
            .arg(cache)
            .current_dir(&self.dir)
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }

    #[track_caller]
    pub fn code(&self, code: i32) -> &Output {
        assert_eq!(
            self.code, code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, text: &str) -> &Output {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Output {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }
}

pub const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  labels:
    app: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
";

/// Runs git in `dir` with a throwaway identity; its output, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
