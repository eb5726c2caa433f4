//! The repository as a renderer sees it: read-only, confined to the root,
//! and recorded.
//!
//! Paths from plugins are relative and `/`-separated. They are normalised
//! lexically (a `..` that would climb above the root is refused) and then
//! resolved on disk; a symlink that leads outside the root is refused too.
//! Every answer — including "not found" — joins the read set, because a file
//! that appears later changes what a render would produce.
//!
//! Folders outside the root can be granted explicitly (a schema folder the
//! user named on the command line); plugins name paths in them absolutely.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Files larger than this are refused: no manifest source is that big, and
/// reading it would only exhaust memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Longer paths are refused unrecorded: no file system opens them, and a
/// plugin could otherwise fill the host's memory with read-set keys.
pub const MAX_PATH_BYTES: usize = 4096;

/// Distinct files and folders one call may read. The read set lives in the
/// host's memory, so a plugin naming endless distinct paths is stopped here
/// (and its call fails, since its read set is no longer complete).
pub const MAX_RECORDED: usize = 100_000;

/// What a render read, with content hashes (`None`: it was absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ReadSet {
    pub files: BTreeMap<String, Option<String>>,
    pub dirs: BTreeMap<String, Option<String>>,
}

impl ReadSet {
    pub fn merge(&mut self, other: ReadSet) {
        self.files.extend(other.files);
        self.dirs.extend(other.dirs);
    }

    /// One hash of the whole set: what a render's output depends on.
    pub fn digest(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for (kind, map) in [("f", &self.files), ("d", &self.dirs)] {
            for (path, hash) in map {
                hasher.update(kind.as_bytes());
                hasher.update(path.as_bytes());
                hasher.update(b"\0");
                hasher.update(hash.as_deref().unwrap_or("-").as_bytes());
                hasher.update(b"\n");
            }
        }
        hasher.finalize().to_hex().to_string()
    }
}

/// Checks recorded read sets against the disk for one run. Each path is
/// hashed at most once however many entries name it (an overlay's base is
/// read by every overlay, a schema folder by every validation batch), and
/// every entry of the run is judged against the same view of the disk.
#[derive(Debug)]
pub struct Verifier {
    fs: RepoFs,
    /// What each path reads as now: `None` when the read was refused.
    files: Mutex<HashMap<String, Option<Option<String>>>>,
    dirs: Mutex<HashMap<String, Option<Option<String>>>>,
    /// The folders the snapshot listed, and their entries: a path in one of
    /// them is reached through no symlink, so it needs no confinement check.
    listed: HashSet<String>,
    entries: HashMap<String, bool>,
}

/// Moves the entries of `other` into `into`, the smaller collection into the
/// larger whichever side that is. Discovery absorbs each folder's findings
/// into its parent's: always inserting the child's would insert every path
/// once for each folder above it.
pub fn merge<C>(into: &mut C, mut other: C, len: fn(&C) -> usize)
where
    C: IntoIterator + Extend<<C as IntoIterator>::Item>,
{
    if len(into) < len(&other) {
        std::mem::swap(into, &mut other);
    }
    into.extend(other);
}

/// Files and folders already read this run, hashed as [`RepoFs`] hashes
/// them. Discovery reads every manifest of the repository; recording what
/// it saw lets the cache check read sets without reading those files again.
/// Only what [`RepoFs`] would serve the same way belongs here: regular files
/// and folders reached from the root through no symlink.
#[derive(Debug, Default)]
pub struct Snapshot {
    files: HashMap<String, String>,
    dirs: HashMap<String, String>,
    /// Every entry of the folders in `dirs`, by path: whether a folder.
    entries: HashMap<String, bool>,
}

impl Snapshot {
    /// `key` (a normalised repository path) read as `bytes`. Files over the
    /// read limit are left out: [`RepoFs`] refuses them.
    pub fn file(&mut self, key: &str, bytes: &[u8]) {
        if bytes.len() as u64 <= MAX_FILE_BYTES {
            self.hashed(key, Snapshot::hash(bytes));
        }
    }

    /// Takes in what another snapshot of the same root recorded (of other
    /// paths: which side's entry wins a shared path is not defined).
    pub fn absorb(&mut self, other: Snapshot) {
        merge(&mut self.files, other.files, HashMap::len);
        merge(&mut self.dirs, other.dirs, HashMap::len);
        merge(&mut self.entries, other.entries, HashMap::len);
    }

    /// [`Snapshot::file`] with the hash already taken by [`Snapshot::hash`].
    pub fn hashed(&mut self, key: &str, hash: String) {
        self.files.insert(key.to_owned(), hash);
    }

    /// A file's content hash, as read sets record it.
    pub fn hash(bytes: &[u8]) -> String {
        blake3::hash(bytes).to_hex().to_string()
    }

    /// Folder `key` listed as `entries` (name, whether a folder), sorted by
    /// name, with no symlink among them.
    pub fn dir<'a>(&mut self, key: &str, entries: impl IntoIterator<Item = (&'a str, bool)>) {
        let entries: Vec<(&str, bool)> = entries.into_iter().collect();
        for (name, is_dir) in &entries {
            let path = if key.is_empty() {
                (*name).to_owned()
            } else {
                format!("{key}/{name}")
            };
            self.entries.insert(path, *is_dir);
        }
        self.dirs.insert(
            key.to_owned(),
            listing_digest(entries.into_iter().map(|(name, is_dir)| {
                let kind = if is_dir {
                    EntryKind::Directory
                } else {
                    EntryKind::File
                };
                (name, kind)
            })),
        );
    }
}

impl Verifier {
    /// Judges paths the way `fs` serves them (its root and grants).
    pub fn new(fs: &RepoFs) -> Verifier {
        Verifier::with_snapshot(fs, Snapshot::default())
    }

    /// [`Verifier::new`], taking what `snapshot` recorded as the disk's
    /// answer for its paths. The snapshot must come from `fs`'s root.
    pub fn with_snapshot(fs: &RepoFs, snapshot: Snapshot) -> Verifier {
        let known = |map: HashMap<String, String>| {
            map.into_iter()
                .map(|(key, hash)| (key, Some(Some(hash))))
                .collect()
        };
        Verifier {
            fs: fs.fresh(),
            listed: snapshot.dirs.keys().cloned().collect(),
            entries: snapshot.entries,
            files: Mutex::new(known(snapshot.files)),
            dirs: Mutex::new(known(snapshot.dirs)),
        }
    }

    /// Whether every file and folder in the set still reads the same (an
    /// absent one still absent): the condition for reusing a result.
    pub fn unchanged(&self, reads: &ReadSet) -> bool {
        reads
            .files
            .iter()
            .all(|(path, hash)| self.now(&self.files, path, true) == Some(hash.clone()))
            && reads
                .dirs
                .iter()
                .all(|(path, hash)| self.now(&self.dirs, path, false) == Some(hash.clone()))
    }

    fn now(
        &self,
        memo: &Mutex<HashMap<String, Option<Option<String>>>>,
        path: &str,
        file: bool,
    ) -> Option<Option<String>> {
        if let Some(known) = memo.lock().ok().and_then(|m| m.get(path).cloned()) {
            return known;
        }
        // Hashed outside the lock: two threads may both hash a path, and
        // both get the same answer.
        let current = match self.in_listing(path, file) {
            Some(current) => current,
            None => {
                let mut fs = self.fs.fresh();
                if file {
                    let _ = fs.read(path);
                    fs.reads.files.remove(path)
                } else {
                    let _ = fs.list(path);
                    fs.reads.dirs.remove(path)
                }
            }
        };
        if let Ok(mut m) = memo.lock() {
            m.insert(path.to_owned(), current.clone());
        }
        current
    }
}

impl Verifier {
    /// What [`RepoFs`] would record for `path` when its folder is one the
    /// snapshot listed: absent or a folder (for a file) without a system
    /// call, else read with no confinement check (no symlink leads there).
    /// `None` when the listing cannot tell, or the read fails (the slow path
    /// then gives the exact answer).
    fn in_listing(&self, path: &str, file: bool) -> Option<Option<Option<String>>> {
        let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
        if path.is_empty() || path.starts_with('/') || !self.listed.contains(parent) {
            return None;
        }
        let full = self.fs.root.join(path);
        match (self.entries.get(path), file) {
            (None, _) | (Some(true), true) => Some(Some(None)),
            (Some(false), false) => Some(Some(None)),
            (Some(false), true) => {
                let bytes = read_file(open_nonblocking(&full), path).ok()?;
                Some(Some(Some(Snapshot::hash(&bytes))))
            }
            (Some(true), false) => {
                let entries = list_dir(&full, path).ok()?;
                Some(Some(Some(listing_digest(
                    entries.iter().map(|(n, k)| (n.as_str(), *k)),
                ))))
            }
        }
    }
}

/// Why a path cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsError {
    NotFound(String),
    Denied(String),
    Io(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    File,
    Directory,
}

/// A repository root and the read set of one render.
#[derive(Debug, Clone)]
pub struct RepoFs {
    root: PathBuf,
    /// The root, open, for `openat2` (see [`RepoFs::open_beneath`]).
    #[cfg(target_os = "linux")]
    root_dir: Option<std::sync::Arc<std::os::fd::OwnedFd>>,
    /// Canonical folders outside the root that the user named explicitly.
    grants: Vec<PathBuf>,
    reads: ReadSet,
    /// Set once a read was refused for [`MAX_RECORDED`].
    overflow: bool,
}

impl RepoFs {
    /// `root` must exist; it is canonicalised so symlink checks are exact.
    pub fn new(root: &Path) -> io::Result<RepoFs> {
        let root = fs::canonicalize(root)?;
        Ok(RepoFs {
            #[cfg(target_os = "linux")]
            root_dir: rustix::fs::open(
                &root,
                rustix::fs::OFlags::PATH
                    | rustix::fs::OFlags::DIRECTORY
                    | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .ok()
            .map(std::sync::Arc::new),
            root,
            grants: Vec::new(),
            reads: ReadSet::default(),
            overflow: false,
        })
    }

    /// Also serves absolute paths inside these folders; folders that do not
    /// exist grant nothing.
    pub fn with_grants(mut self, folders: &[PathBuf]) -> RepoFs {
        self.grants = folders
            .iter()
            .filter_map(|f| fs::canonicalize(f).ok())
            .collect();
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn into_reads(self) -> ReadSet {
        self.reads
    }

    pub fn reads_mut(&mut self) -> &mut ReadSet {
        &mut self.reads
    }

    /// A view of the same root with an empty read set (for a nested render).
    pub fn fresh(&self) -> RepoFs {
        RepoFs {
            root: self.root.clone(),
            #[cfg(target_os = "linux")]
            root_dir: self.root_dir.clone(),
            grants: self.grants.clone(),
            reads: ReadSet::default(),
            overflow: false,
        }
    }

    /// `Some(limit)` once a read was refused because the call had read
    /// [`MAX_RECORDED`] distinct paths: its read set is incomplete.
    pub fn overflowed(&self) -> Option<usize> {
        self.overflow.then_some(MAX_RECORDED)
    }

    /// Refuses a new entry once the read set is full.
    fn room_for(&mut self, key: &str, dir: bool) -> Result<(), FsError> {
        let known = if dir {
            self.reads.dirs.contains_key(key)
        } else {
            self.reads.files.contains_key(key)
        };
        if known || self.reads.files.len() + self.reads.dirs.len() < MAX_RECORDED {
            return Ok(());
        }
        self.overflow = true;
        Err(FsError::Io(format!(
            "{key}: this call has already read {MAX_RECORDED} distinct files and folders"
        )))
    }

    pub fn read(&mut self, path: &str) -> Result<Vec<u8>, FsError> {
        let (key, file) = match self.open_beneath(path, false) {
            Some(found) => found,
            None => {
                let (key, full) = self.resolve(path)?;
                let file = open_nonblocking(&full);
                (key, file)
            }
        };
        self.room_for(&key, false)?;
        let result = read_file(file, &key);
        let hash = result.as_ref().ok().map(|bytes| Snapshot::hash(bytes));
        if !matches!(result, Err(FsError::Denied(_))) {
            self.reads.files.insert(key, hash);
        }
        result
    }

    pub fn list(&mut self, path: &str) -> Result<Vec<(String, EntryKind)>, FsError> {
        // The shortcut only checks: a folder is listed through its path.
        let (key, full) = match self.open_beneath(path, true) {
            Some((key, opened)) => {
                let full = opened.map(|_| self.root.join(&key));
                (key, full)
            }
            None => {
                let (key, full) = self.resolve(path)?;
                (key, Ok(full))
            }
        };
        self.room_for(&key, true)?;
        let result = full
            .map_err(|e| io_error(e, &key))
            .and_then(|full| list_dir(&full, &key));
        let hash = result
            .as_ref()
            .ok()
            .map(|entries| listing_digest(entries.iter().map(|(n, k)| (n.as_str(), *k))));
        if !matches!(result, Err(FsError::Denied(_))) {
            self.reads.dirs.insert(key, hash);
        }
        result
    }

    /// A shortcut for [`RepoFs::resolve`] and the open after it, taken by
    /// nearly every read and listing: one `openat2` below the open root with
    /// `RESOLVE_BENEATH`, which the kernel refuses for any path that would
    /// leave it, symlinks included. `resolve` canonicalises instead, one
    /// `readlink` per path component (3% of a cold `check`), and for an
    /// absent file once more per folder above it. So a path that opens, or
    /// that is absent with every folder on the way inside the root (the
    /// kernel's `ENOENT` under `RESOLVE_BENEATH`), is answered here. `None`
    /// for anything else (an absolute symlink, a granted folder, another
    /// error, another system): `resolve` then decides, and words the refusal.
    /// A `folder` is opened only to be checked (`O_PATH`), a file to be read.
    #[cfg(target_os = "linux")]
    fn open_beneath(&self, path: &str, folder: bool) -> Option<(String, io::Result<fs::File>)> {
        use rustix::fs::{Mode, OFlags, ResolveFlags};
        let root = self.root_dir.as_ref()?;
        if path.len() > MAX_PATH_BYTES || path.starts_with('/') {
            return None;
        }
        let key = normalize(path).ok().filter(|k| !k.is_empty())?;
        let flags = if folder {
            OFlags::PATH | OFlags::DIRECTORY
        } else {
            OFlags::RDONLY | OFlags::NONBLOCK
        };
        let opened = rustix::fs::openat2(
            root.as_ref(),
            key.as_str(),
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
        );
        match opened {
            Ok(fd) => Some((key, Ok(fs::File::from(fd)))),
            Err(rustix::io::Errno::NOENT) => Some((key, Err(io::ErrorKind::NotFound.into()))),
            Err(_) => None,
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn open_beneath(&self, _path: &str, _folder: bool) -> Option<(String, io::Result<fs::File>)> {
        None
    }

    /// Normalises `path` and checks that it stays inside the root, following
    /// symlinks. Returns the normalised key and the path on disk.
    fn resolve(&self, path: &str) -> Result<(String, PathBuf), FsError> {
        if path.len() > MAX_PATH_BYTES {
            return Err(FsError::Denied(format!(
                "{}…: a path of {} bytes; paths may be at most {MAX_PATH_BYTES} bytes",
                path.get(..64).unwrap_or(""),
                path.len()
            )));
        }
        if path.starts_with('/') && !self.grants.is_empty() {
            return self.resolve_granted(path);
        }
        let key = normalize(path)?;
        let full = if key.is_empty() {
            self.root.clone()
        } else {
            self.root.join(&key)
        };
        let escapes = || {
            FsError::Denied(format!(
                "{path}: a symlink leads outside the repository root; plugins may only read inside it"
            ))
        };
        match fs::canonicalize(&full) {
            Ok(real) if real.starts_with(&self.root) => Ok((key, real)),
            Ok(_) => Err(escapes()),
            // Absent (or a dangling symlink): not found, but only if the part
            // that exists stays inside the root. Otherwise "not found" against
            // "denied" would tell a plugin which files exist outside it.
            Err(_) => {
                let inside = full
                    .ancestors()
                    .skip(1)
                    .find_map(|a| fs::canonicalize(a).ok())
                    .is_some_and(|real| real.starts_with(&self.root));
                if inside {
                    Ok((key, full))
                } else {
                    Err(escapes())
                }
            }
        }
    }
}

impl RepoFs {
    /// An absolute path: served only inside a granted folder, symlinks
    /// followed.
    fn resolve_granted(&self, path: &str) -> Result<(String, PathBuf), FsError> {
        let denied = || {
            FsError::Denied(format!(
                "{path}: outside the repository and the folders named on the command line"
            ))
        };
        if path.contains('\0') || path.split('/').any(|part| part == "..") {
            return Err(denied());
        }
        let full = PathBuf::from(path);
        let real = fs::canonicalize(&full).unwrap_or_else(|_| full.clone());
        if self.grants.iter().any(|g| real.starts_with(g)) {
            Ok((path.to_owned(), real))
        } else {
            Err(denied())
        }
    }
}

/// The hash of a folder listing (sorted by name).
fn listing_digest<'a>(entries: impl Iterator<Item = (&'a str, EntryKind)>) -> String {
    let mut hasher = blake3::Hasher::new();
    for (name, kind) in entries {
        hasher.update(name.as_bytes());
        hasher.update(if kind == EntryKind::File {
            b"\0f\n"
        } else {
            b"\0d\n"
        });
    }
    hasher.finalize().to_hex().to_string()
}

/// Lexical normalisation of a plugin-supplied path.
pub fn normalize(path: &str) -> Result<String, FsError> {
    if path.starts_with('/') || path.contains('\0') || path.contains('\\') {
        return Err(FsError::Denied(format!(
            "{path:?}: only relative paths with '/' separators inside the repository can be read"
        )));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(FsError::Denied(format!(
                        "{path}: leaves the repository root; plugins may only read inside it"
                    )));
                }
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

fn read_file(file: io::Result<fs::File>, key: &str) -> Result<Vec<u8>, FsError> {
    let bounded = file.and_then(|file| read_open(file, MAX_FILE_BYTES));
    match bounded.map_err(|e| io_error(e, key))? {
        Bounded::Bytes(bytes) => Ok(bytes),
        Bounded::Folder => Err(FsError::Io(format!("{key}: is a folder, not a file"))),
        Bounded::Special => Err(FsError::Io(format!(
            "{key}: is a pipe, socket or device, not a file; plugins read only files"
        ))),
        Bounded::TooLarge(len) => Err(FsError::Io(format!(
            "{key}: {len} bytes is more than the {} MiB a plugin may read at once",
            MAX_FILE_BYTES >> 20
        ))),
    }
}

/// What [`read_bounded`] found at a path.
pub enum Bounded {
    Bytes(Vec<u8>),
    Folder,
    /// A pipe, socket or device: reading one could wait forever.
    Special,
    TooLarge(u64),
}

/// A file's bytes if it holds at most `max`. One open and one `fstat`:
/// `fs::metadata` then `fs::read` would stat it twice, and a warm run
/// checks thousands of files. The open does not wait on a pipe (a FIFO
/// in a repository would otherwise hang the run), and only regular files
/// are read.
pub fn read_bounded(full: &Path, max: u64) -> std::io::Result<Bounded> {
    read_open(open_nonblocking(full)?, max)
}

fn open_nonblocking(full: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    options.open(full)
}

/// [`read_bounded`] of a file already open.
fn read_open(file: fs::File, max: u64) -> io::Result<Bounded> {
    use std::io::Read;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Ok(Bounded::Folder);
    }
    if !meta.is_file() {
        return Ok(Bounded::Special);
    }
    if meta.len() > max {
        return Ok(Bounded::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0) + 1);
    // Bounded here too: the file may grow between the stat and the read.
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Ok(Bounded::TooLarge(bytes.len() as u64));
    }
    Ok(Bounded::Bytes(bytes))
}

/// A repository file found by a walk: its bytes, or why it cannot be read
/// (a folder, pipe, socket or device reads as an error, never as a wait).
pub fn read_walked(full: &Path) -> std::io::Result<Vec<u8>> {
    let refuse = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
    match read_bounded(full, u64::MAX)? {
        Bounded::Bytes(bytes) => Ok(bytes),
        Bounded::Folder => Err(refuse("a folder, not a file")),
        Bounded::Special => Err(refuse(
            "a pipe, socket or device, not a file; remove it or list it under ignore in manifold.yaml",
        )),
        Bounded::TooLarge(_) => Err(refuse("too large")),
    }
}

fn list_dir(full: &Path, key: &str) -> Result<Vec<(String, EntryKind)>, FsError> {
    let display = if key.is_empty() { "." } else { key };
    let mut entries = Vec::new();
    for entry in fs::read_dir(full).map_err(|e| io_error(e, display))? {
        let entry = entry.map_err(|e| io_error(e, display))?;
        // A name that is not UTF-8 cannot be named through the interface.
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // Follow symlinks to tell files from folders; a dangling one lists as a file.
        let kind = match fs::metadata(entry.path()) {
            Ok(meta) if meta.is_dir() => EntryKind::Directory,
            _ => EntryKind::File,
        };
        entries.push((name, kind));
    }
    entries.sort();
    Ok(entries)
}

fn io_error(e: io::Error, key: &str) -> FsError {
    match e.kind() {
        io::ErrorKind::NotFound => FsError::NotFound(key.to_owned()),
        io::ErrorKind::NotADirectory => FsError::Io(format!("{key}: not a folder")),
        _ => FsError::Io(format!("{key}: {e}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn normalize_paths() {
        for (input, want) in [
            ("a/b", "a/b"),
            ("./a//b/", "a/b"),
            ("a/../b", "b"),
            ("", ""),
            (".", ""),
        ] {
            assert_eq!(normalize(input).unwrap(), want, "{input}");
        }
        for input in [
            "/etc/passwd",
            "..",
            "a/../../b",
            "../../../etc/passwd",
            "a\\b",
            "a\0b",
        ] {
            assert!(
                matches!(normalize(input), Err(FsError::Denied(_))),
                "{input}"
            );
        }
    }

    #[test]
    fn confined_and_recorded() {
        let dir = std::env::temp_dir().join(format!("manifold-fs-{}", std::process::id()));
        let root = dir.join("repo");
        fs::create_dir_all(root.join("app")).unwrap();
        fs::write(root.join("app/a.yaml"), "x: 1").unwrap();
        fs::write(dir.join("secret"), "s").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("secret"), root.join("app/escape")).unwrap();

        let mut repo = RepoFs::new(&root).unwrap();
        assert_eq!(repo.read("app/a.yaml").unwrap(), b"x: 1");
        assert!(matches!(
            repo.read("app/missing.yaml"),
            Err(FsError::NotFound(_))
        ));
        #[cfg(unix)]
        assert!(matches!(repo.read("app/escape"), Err(FsError::Denied(_))));
        // Symlinks that stay inside are followed, relative (the kernel's
        // RESOLVE_BENEATH takes them) or absolute (it refuses those, and
        // the canonicalising path takes over).
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("a.yaml", root.join("app/relative")).unwrap();
            std::os::unix::fs::symlink(root.join("app/a.yaml"), root.join("app/absolute")).unwrap();
            assert_eq!(repo.read("app/relative").unwrap(), b"x: 1");
            assert_eq!(repo.read("./app/../app/absolute").unwrap(), b"x: 1");
        }
        assert!(matches!(repo.read("app"), Err(FsError::Io(m)) if m.contains("is a folder")));
        // Below a symlink to a folder outside: refused whether or not the
        // file exists there, so existence outside cannot be probed.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&dir, root.join("app/out")).unwrap();
            assert!(matches!(
                repo.read("app/out/secret"),
                Err(FsError::Denied(_))
            ));
            assert!(matches!(
                repo.read("app/out/absent"),
                Err(FsError::Denied(_))
            ));
            assert!(matches!(
                repo.list("app/out/absent"),
                Err(FsError::Denied(_))
            ));
        }
        assert!(matches!(repo.read("../secret"), Err(FsError::Denied(_))));
        #[cfg(target_os = "linux")]
        {
            // Opened (true), absent (false), or left to `resolve` (None).
            let shortcut = |path: &str| {
                repo.open_beneath(path, false)
                    .map(|(key, file)| (key, file.is_ok()))
            };
            let answered = |key: &str, opened: bool| Some((key.to_owned(), opened));
            assert_eq!(shortcut("./app//a.yaml"), answered("app/a.yaml", true));
            assert_eq!(shortcut("app/relative"), answered("app/relative", true));
            assert_eq!(
                shortcut("app/missing.yaml"),
                answered("app/missing.yaml", false)
            );
            assert_eq!(
                shortcut("app/no/such/file"),
                answered("app/no/such/file", false)
            );
            for refused in [
                "app/absolute",
                "app/escape",
                "app/out/secret",
                "app/out/absent",
            ] {
                assert_eq!(shortcut(refused), None, "{refused}");
            }
        }
        let listing = repo.list("app").unwrap();
        assert!(listing.contains(&("a.yaml".to_owned(), EntryKind::File)));

        let reads = repo.into_reads();
        assert!(reads.files.get("app/a.yaml").unwrap().is_some());
        #[cfg(unix)]
        assert!(reads.files.get("app/absolute").unwrap().is_some());
        assert_eq!(reads.files.get("app/missing.yaml"), Some(&None));
        assert!(!reads.files.contains_key("app/escape"));
        assert!(reads.dirs.contains_key("app"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn long_paths_and_endless_reads_are_refused() {
        let dir = std::env::temp_dir().join(format!("manifold-caps-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mut repo = RepoFs::new(&dir).unwrap();
        let long = "a/".repeat(MAX_PATH_BYTES);
        assert!(matches!(repo.read(&long), Err(FsError::Denied(_))));
        assert!(repo.overflowed().is_none());
        for i in 0..MAX_RECORDED {
            assert!(matches!(
                repo.read(&format!("m/{i}")),
                Err(FsError::NotFound(_))
            ));
        }
        // A path already recorded is still served; a new one is not.
        assert!(matches!(repo.read("m/7"), Err(FsError::NotFound(_))));
        assert!(repo.overflowed().is_none());
        assert!(matches!(repo.list("m"), Err(FsError::Io(_))));
        assert_eq!(repo.overflowed(), Some(MAX_RECORDED));
        assert_eq!(repo.into_reads().files.len(), MAX_RECORDED);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn granted_folders_serve_absolute_paths_only_inside_them() {
        let dir = std::env::temp_dir().join(format!("manifold-grant-{}", std::process::id()));
        let root = dir.join("repo");
        let schemas = dir.join("schemas");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&schemas).unwrap();
        fs::write(schemas.join("a.json"), "{}").unwrap();
        fs::write(dir.join("secret"), "s").unwrap();
        let plain = RepoFs::new(&root).unwrap();
        let mut granted = plain.clone().with_grants(std::slice::from_ref(&schemas));
        let inside = schemas.join("a.json").display().to_string();
        let outside = dir.join("secret").display().to_string();
        let climbing = format!("{}/../secret", schemas.display());
        assert_eq!(granted.read(&inside).unwrap(), b"{}");
        assert!(matches!(granted.read(&outside), Err(FsError::Denied(_))));
        assert!(matches!(granted.read(&climbing), Err(FsError::Denied(_))));
        assert!(matches!(
            plain.clone().read(&inside),
            Err(FsError::Denied(_))
        ));
        assert!(granted.into_reads().files.contains_key(&inside));
        fs::remove_dir_all(&dir).unwrap();
    }
}
