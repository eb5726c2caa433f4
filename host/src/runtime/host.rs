//! The host's side of the imports plugins may call: repository files,
//! composition of renderers (renderers), the run's manifests (validators),
//! and the log.

use std::sync::Arc;
use std::time::Instant;

use super::Nesting;
use super::bindings::{compose, context, files, log, types};
use super::fs::{EntryKind, FsError, ReadSet, RepoFs};
use super::sandbox::State;

/// Log lines kept per call; past this a plugin's messages are dropped (and
/// the drop is reported once).
const MAX_LOG_LINES: usize = 1000;
/// Characters kept of one log line.
const MAX_LOG_LINE: usize = 4096;

/// How bad a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
}

/// One message a plugin logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
}

/// Runs another renderer on behalf of a plugin (`compose.render-with`).
pub trait Composer: Send + Sync {
    /// Renders with the named plugin; returns its output and what it read.
    /// `nesting` is where the new call stands (its depth, and the deadline
    /// it shares with the call that asked for it).
    fn render_with(
        &self,
        plugin: &str,
        request: types::RenderRequest,
        fs: RepoFs,
        nesting: Nesting,
    ) -> Result<(types::RenderOutput, ReadSet), types::Failure>;
}

/// Every manifest of a run, shared (not copied) by all validator calls; a
/// call copies out only what it asks for through `context.manifests`.
#[derive(Debug, Default)]
pub struct RunManifests {
    manifests: Vec<types::Manifest>,
    selections: Selections,
}

impl RunManifests {
    /// `selections` knows the kinds of `manifests`, in the same order.
    pub fn new(manifests: Vec<types::Manifest>, selections: Selections) -> RunManifests {
        RunManifests {
            manifests,
            selections,
        }
    }

    pub fn manifests(&self) -> &[types::Manifest] {
        &self.manifests
    }

    /// The manifests whose `apiVersion/kind` or `kind` is in `kinds` (`*`
    /// matches all), in run order.
    pub fn select(&self, kinds: &[String]) -> Vec<types::Manifest> {
        self.selections
            .indices(kinds)
            .filter_map(|i| self.manifests.get(i).cloned())
            .collect()
    }

    /// A digest of what [`select`](Self::select) answers for `kinds`.
    pub fn digest(&self, kinds: &[String]) -> String {
        self.selections.digest(kinds, |i| {
            self.manifests.get(i).map(|m| Parts {
                file: &m.origin.file,
                document: m.origin.document,
                line: m.origin.line,
                json: &m.json,
            })
        })
    }
}

/// A manifest as selections see it: its origin and JSON.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    pub file: &'a str,
    pub document: u32,
    pub line: u32,
    pub json: &'a str,
}

/// What `context.manifests` selects by, for the manifests of a run: each
/// one's kind, and the digests of selections already asked for (the
/// validation cache asks for the same few many times). Apart from the
/// manifests themselves, so that a run whose verdicts all come from the
/// cache can check them without copying every manifest for the plugins.
#[derive(Debug, Default)]
pub struct Selections {
    /// `(apiVersion/kind, kind)` of each manifest, so selecting needs no
    /// JSON parsing.
    keys: Vec<(String, String)>,
    digests: std::sync::Mutex<std::collections::HashMap<Vec<String>, String>>,
}

impl Selections {
    pub fn new(keys: Vec<(String, String)>) -> Selections {
        Selections {
            keys,
            digests: std::sync::Mutex::default(),
        }
    }

    /// The positions of the manifests `kinds` selects, in run order.
    fn indices<'a>(&'a self, kinds: &'a [String]) -> impl Iterator<Item = usize> + 'a {
        let all = kinds.iter().any(|k| k == "*");
        self.keys
            .iter()
            .enumerate()
            .filter(move |(_, (full, kind))| all || kinds.iter().any(|k| k == full || k == kind))
            .map(|(i, _)| i)
    }

    /// A digest of the selection for `kinds`: origins and JSON, in order;
    /// `parts(i)` gives manifest `i`'s.
    pub fn digest<'a>(
        &self,
        kinds: &[String],
        parts: impl Fn(usize) -> Option<Parts<'a>>,
    ) -> String {
        if let Some(known) = self.digests.lock().ok().and_then(|d| d.get(kinds).cloned()) {
            return known;
        }
        let mut hasher = blake3::Hasher::new();
        for m in self.indices(kinds).filter_map(parts) {
            hasher.update(m.file.as_bytes());
            hasher.update(&m.document.to_le_bytes());
            hasher.update(&m.line.to_le_bytes());
            hasher.update(&(m.json.len() as u64).to_le_bytes());
            hasher.update(m.json.as_bytes());
        }
        let digest = hasher.finalize().to_hex().to_string();
        if let Ok(mut d) = self.digests.lock() {
            d.insert(kinds.to_vec(), digest.clone());
        }
        digest
    }
}

/// Host services of one call.
pub struct Host {
    pub fs: Option<RepoFs>,
    /// The run's manifests (validators only).
    pub run: Option<Arc<RunManifests>>,
    /// The `kinds` of every `context.manifests` request, in call order.
    pub asked: Vec<Vec<String>>,
    pub logs: Vec<LogLine>,
    logs_dropped: usize,
    pub composer: Option<Arc<dyn Composer>>,
    /// How many renders deep this call is and when its time is up
    /// (composition is bounded in both).
    pub nesting: Nesting,
}

/// Composition deeper than this is refused: it can only be a cycle.
pub const MAX_COMPOSE_DEPTH: u32 = 8;

impl Host {
    pub fn new(composer: Option<Arc<dyn Composer>>, nesting: Nesting) -> Host {
        Host {
            fs: None,
            run: None,
            asked: Vec::new(),
            logs: Vec::new(),
            logs_dropped: 0,
            composer,
            nesting,
        }
    }

    /// The logs, with a note when some were dropped.
    pub fn take_logs(&mut self) -> Vec<LogLine> {
        let mut logs = std::mem::take(&mut self.logs);
        if self.logs_dropped > 0 {
            logs.push(LogLine {
                level: LogLevel::Warn,
                message: format!("{} more log lines were dropped", self.logs_dropped),
            });
        }
        logs
    }
}

impl log::Host for State {
    fn log(&mut self, level: log::Level, message: String) {
        let host = &mut self.host;
        if host.logs.len() >= MAX_LOG_LINES {
            host.logs_dropped += 1;
            return;
        }
        let level = match level {
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
        };
        let mut message = message;
        if message.len() > MAX_LOG_LINE {
            let mut end = MAX_LOG_LINE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push_str(" …");
        }
        host.logs.push(LogLine { level, message });
    }
}

impl types::Host for State {}

impl files::Host for State {
    fn read_file(&mut self, path: String) -> Result<Vec<u8>, files::FileError> {
        let fs = self.host.fs.as_mut().ok_or_else(no_files)?;
        fs.read(&path).map_err(to_wit)
    }

    fn list_dir(&mut self, path: String) -> Result<Vec<files::DirEntry>, files::FileError> {
        let fs = self.host.fs.as_mut().ok_or_else(no_files)?;
        let entries = fs.list(&path).map_err(to_wit)?;
        Ok(entries
            .into_iter()
            .map(|(name, kind)| files::DirEntry {
                name,
                kind: match kind {
                    EntryKind::File => files::EntryKind::File,
                    EntryKind::Directory => files::EntryKind::Directory,
                },
            })
            .collect())
    }
}

impl context::Host for State {
    fn manifests(&mut self, kinds: Vec<String>) -> Vec<types::Manifest> {
        let answer = self
            .host
            .run
            .as_ref()
            .map(|run| run.select(&kinds))
            .unwrap_or_default();
        if !self.host.asked.contains(&kinds) {
            self.host.asked.push(kinds);
        }
        answer
    }
}

impl compose::Host for State {
    fn render_with(
        &mut self,
        plugin: String,
        request: types::RenderRequest,
    ) -> Result<types::RenderOutput, types::Failure> {
        let failure = |message: String| types::Failure {
            message,
            location: None,
        };
        let composer = self
            .host
            .composer
            .clone()
            .ok_or_else(|| failure("this host cannot run other plugins".into()))?;
        let depth = self.host.nesting.depth + 1;
        if depth > MAX_COMPOSE_DEPTH {
            return Err(failure(format!(
                "renderers call each other more than {MAX_COMPOSE_DEPTH} deep (a cycle?) at {plugin} on {}",
                request.target
            )));
        }
        let deadline = self.host.nesting.deadline;
        if Instant::now() >= deadline {
            return Err(failure(format!(
                "no time is left of this call to run {plugin} on {}",
                request.target
            )));
        }
        let fs = self
            .host
            .fs
            .as_ref()
            .ok_or_else(|| failure("no repository is open".into()))?
            .fresh();
        let (output, reads) =
            composer.render_with(&plugin, request, fs, Nesting { depth, deadline })?;
        if let Some(fs) = self.host.fs.as_mut() {
            fs.reads_mut().merge(reads);
        }
        Ok(output)
    }
}

fn no_files() -> files::FileError {
    files::FileError::Denied("this plugin has not been granted access to any files".into())
}

fn to_wit(e: FsError) -> files::FileError {
    match e {
        FsError::NotFound(m) => files::FileError::NotFound(m),
        FsError::Denied(m) => files::FileError::Denied(m),
        FsError::Io(m) => files::FileError::Io(m),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn run_manifests_select_by_kind_or_api_version_and_kind() {
        let manifest = |file: &str| types::Manifest {
            origin: types::Origin {
                file: file.into(),
                document: 0,
                line: 1,
            },
            json: "{}".into(),
        };
        let run = RunManifests::new(
            vec![manifest("a"), manifest("b"), manifest("c")],
            Selections::new(vec![
                ("apps/v1/Deployment".into(), "Deployment".into()),
                ("v1/ConfigMap".into(), "ConfigMap".into()),
                ("apps/v1/Deployment".into(), "Deployment".into()),
            ]),
        );
        let files = |kinds: &[&str]| -> Vec<String> {
            let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
            run.select(&kinds)
                .into_iter()
                .map(|m| m.origin.file)
                .collect()
        };
        assert_eq!(files(&["Deployment"]), ["a", "c"]);
        assert_eq!(files(&["v1/ConfigMap"]), ["b"]);
        assert_eq!(files(&["apps/v1/ConfigMap"]), Vec::<String>::new());
        assert_eq!(files(&["*"]), ["a", "b", "c"]);
        assert_eq!(files(&[]), Vec::<String>::new());
    }
}
