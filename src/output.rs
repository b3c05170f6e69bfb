//! Writing results atomically: a temporary file beside the target, renamed into place only when complete,
//! so a failure never leaves a half-written output and never touches an existing file until the end.
//!
//! The temporary files of this process are also listed, so that a Ctrl-C handler that exits at once
//! (running no destructors) can remove them first: [`discard_pending_outputs`].

use crate::error::{Error, Result, Setting};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// A pending output file. Created up front (so an unwritable folder fails before any work), filled with
/// [`AtomicFile::commit`]; dropped without commit, it leaves nothing behind.
pub struct AtomicFile {
    target: PathBuf,
    temp: tempfile::NamedTempFile,
    /// Keeps the temporary file in [`PENDING`] while it lives (dropped after `temp`, which removes
    /// the file).
    listed: Listed,
}

/// Temporary files of outputs not yet committed, in this process.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// A temporary file's place in [`PENDING`], removed when dropped.
struct Listed(PathBuf);

impl Listed {
    fn new(path: &Path) -> Self {
        pending().push(path.to_path_buf());
        Listed(path.to_path_buf())
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        pending().retain(|p| p != &self.0);
    }
}

/// Remove the temporary files of every output not yet committed, and let no output be committed
/// after this call: for a Ctrl-C (or SIGTERM) handler about to exit at once, which runs no
/// destructors. An output being committed when it is called is finished first (it is complete).
pub fn discard_pending_outputs() {
    let mut list = pending();
    for path in list.drain(..) {
        let _ = std::fs::remove_file(path);
    }
    // Held until the process exits: a commit waiting for the list never starts.
    std::mem::forget(list);
}

impl AtomicFile {
    /// Reserve `target`. Refuses a target that is a directory.
    pub fn create(target: &Path) -> Result<Self> {
        if target.is_dir() {
            return Err(Error::write(
                target,
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a directory"),
            ));
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".soundsticker-")
            .suffix(".part")
            .tempfile_in(&dir)
            .map_err(|e| Error::write(target, e))?;
        let listed = Listed::new(temp.path());
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temp,
            listed,
        })
    }

    /// Write `bytes` and move the file into place. [`discard_pending_outputs`] comes before the
    /// rename (which then fails: nothing is written) or after it (the output is complete).
    pub fn commit(self, bytes: &[u8]) -> Result<()> {
        let AtomicFile {
            target,
            temp,
            listed,
        } = self;
        let done = write_and_persist(&target, temp, bytes);
        // Only now out of the list: on failure the temporary file is already gone.
        drop(listed);
        done
    }
}

/// Fill `temp` with `bytes` and rename it to `target`, holding the list of pending outputs for the
/// rename (a discarded temporary file is gone, so its rename fails).
fn write_and_persist(target: &Path, mut temp: tempfile::NamedTempFile, bytes: &[u8]) -> Result<()> {
    temp.write_all(bytes).map_err(|e| Error::write(target, e))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| Error::write(target, e))?;
    // Temp files are created 0600; give the result the usual permissions for a new file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = temp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    let _held = pending();
    temp.persist(target)
        .map_err(|e| Error::write(target, e.error))?;
    Ok(())
}

/// True when `a` and `b` name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Reserve `output` for a command reading `inputs`: refuses to overwrite any input, then creates the
/// pending file (so an unwritable folder fails before any work).
pub fn reserve(output: &Path, inputs: &[&Path]) -> Result<AtomicFile> {
    if inputs.iter().any(|i| same_file(i, output)) {
        return Err(Error::setting(
            Setting::Output,
            format!(
                "{} is an input file; choose another output path",
                output.display()
            ),
        ));
    }
    AtomicFile::create(output)
}

/// A path's file name for progress labels.
pub fn file_label(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}
