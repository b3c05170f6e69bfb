//! Stopping a long job from outside: a token the caller owns and cancels (say, on Ctrl-C), which the
//! job checks between pieces of work, and which knows the job's unfinished staging folders so that a
//! caller exiting at once can remove them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A shared "please stop" flag plus the staging folders that jobs holding it have not finished. Clones
/// share one state. The default token is never cancelled unless someone calls [`CancelToken::cancel`].
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    requested: AtomicBool,
    unfinished: Mutex<Vec<PathBuf>>,
}

impl CancelToken {
    /// A token nobody has cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask every job holding this token to stop after the pieces in flight; the jobs then return
    /// [`crate::Error::Cancelled`] and leave their previous output untouched. Returns whether it had
    /// been asked already (a second request usually means "quit now").
    pub fn cancel(&self) -> bool {
        self.inner.requested.swap(true, Ordering::SeqCst)
    }

    /// Whether [`CancelToken::cancel`] has been called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.requested.load(Ordering::SeqCst)
    }

    /// Remove the staging folders of jobs still running: for a caller about to exit at once (which
    /// runs no destructors). Best effort.
    pub fn remove_unfinished(&self) {
        for dir in self.folders().clone() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Record `dir` as unfinished until the returned guard drops.
    pub(crate) fn track(&self, dir: &Path) -> Tracked {
        self.folders().push(dir.to_path_buf());
        Tracked {
            token: self.clone(),
            dir: dir.to_path_buf(),
        }
    }

    fn folders(&self) -> std::sync::MutexGuard<'_, Vec<PathBuf>> {
        self.inner
            .unfinished
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// Keeps a folder in its token's unfinished list while it lives.
#[derive(Debug)]
pub(crate) struct Tracked {
    token: CancelToken,
    dir: PathBuf,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.token.folders().retain(|p| p != &self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_request_and_the_unfinished_folders() {
        let token = CancelToken::new();
        let held = token.clone();
        assert!(!held.is_cancelled());
        assert!(!token.cancel(), "first request");
        assert!(held.is_cancelled() && token.cancel(), "second request");

        let root = tempfile::tempdir().expect("temp dir");
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        for d in [&a, &b] {
            std::fs::create_dir(d).expect("mkdir");
        }
        let guard_a = held.track(&a);
        let guard_b = held.track(&b);
        drop(guard_b);
        token.remove_unfinished();
        assert!(!a.exists(), "unfinished: removed");
        assert!(b.exists(), "finished (guard dropped): kept");
        drop(guard_a);
        assert!(token.folders().is_empty());
    }
}
