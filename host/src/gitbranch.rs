//! Committing a hydrated tree to a branch of the repository (the
//! dry-branch / hydrated-branch pattern) with git's plumbing: a private
//! index, `write-tree`, `commit-tree`, `update-ref`. The work tree, the
//! index and the checked-out branch are never touched.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why the hydrated tree could not be committed.
#[derive(Debug, thiserror::Error)]
#[error("--git-branch {branch}: {message}")]
pub struct GitError {
    branch: String,
    message: String,
}

/// What happened to the branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed {
    /// A new commit on the branch.
    Commit(String),
    /// The branch already holds this tree: nothing was committed.
    Unchanged,
}

/// Commits the files under `tree` as the whole content of `branch` in the
/// repository at `root`. `source` (the dry commit) goes in the message.
pub fn commit(
    root: &Path,
    tree: &Path,
    branch: &str,
    source: Option<&str>,
) -> Result<Committed, GitError> {
    let fail = |message: String| GitError {
        branch: branch.to_owned(),
        message,
    };
    let reference = format!("refs/heads/{branch}");
    let valid = git(root, None, &["check-ref-format", &reference], &[]).is_ok();
    if !valid {
        return Err(fail("not a valid branch name".into()));
    }
    let git_dir = git(root, None, &["rev-parse", "--absolute-git-dir"], &[]).map_err(|e| {
        fail(format!(
            "{} is not in a git repository ({e})",
            root.display()
        ))
    })?;
    let index = PathBuf::from(&git_dir).join(format!("manifold-index-{}", std::process::id()));
    let with_index = [("GIT_INDEX_FILE", index.as_os_str())];
    let work_tree = format!("--work-tree={}", tree.display());
    let result = (|| {
        git(
            root,
            Some(&git_dir),
            &[&work_tree, "add", "--all", "--force", "."],
            &with_index,
        )?;
        let new_tree = git(root, Some(&git_dir), &["write-tree"], &with_index)?;
        let parent = git(
            root,
            Some(&git_dir),
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{reference}^{{commit}}"),
            ],
            &[],
        )
        .ok();
        if let Some(parent) = &parent {
            let old_tree = git(
                root,
                Some(&git_dir),
                &["rev-parse", &format!("{parent}^{{tree}}")],
                &[],
            )?;
            if old_tree == new_tree {
                return Ok(Committed::Unchanged);
            }
        }
        let message = match source {
            Some(sha) => format!(
                "manifold: hydrate {sha}\n\nRendered by manifold {} from commit {sha}.",
                env!("CARGO_PKG_VERSION")
            ),
            None => format!(
                "manifold: hydrate\n\nRendered by manifold {} from an uncommitted work tree.",
                env!("CARGO_PKG_VERSION")
            ),
        };
        let mut args: Vec<String> = Vec::new();
        // Committing needs an identity; CI machines often have none.
        if git(root, Some(&git_dir), &["config", "user.email"], &[]).is_err() {
            args.extend([
                "-c".into(),
                "user.name=manifold".into(),
                "-c".into(),
                "user.email=manifold@localhost".into(),
            ]);
        }
        args.extend(["commit-tree".into(), new_tree.clone(), "-m".into(), message]);
        if let Some(parent) = &parent {
            args.extend(["-p".into(), parent.clone()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let commit = git(root, Some(&git_dir), &refs, &[])?;
        // Compare-and-swap: a concurrent update of the branch fails this one.
        let old = parent.unwrap_or_else(|| "0".repeat(40));
        git(
            root,
            Some(&git_dir),
            &[
                "update-ref",
                "-m",
                "manifold render --git-branch",
                &reference,
                &commit,
                &old,
            ],
            &[],
        )?;
        Ok(Committed::Commit(commit))
    })();
    let _ = std::fs::remove_file(&index);
    result.map_err(fail)
}

fn git(
    root: &Path,
    git_dir: Option<&str>,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> Result<String, String> {
    let mut command = Command::new("git");
    command.arg("-C").arg(root);
    if let Some(dir) = git_dir {
        command.arg(format!("--git-dir={dir}"));
    }
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}
