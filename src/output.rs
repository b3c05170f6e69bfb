//! Writing results atomically: a temporary file beside the target, renamed into place only when complete,
//! so a failure never leaves a half-written output and never touches an existing file until the end.

use crate::error::{Error, Result, Setting};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A pending output file. Created up front (so an unwritable folder fails before any work), filled with
/// [`AtomicFile::commit`]; dropped without commit, it leaves nothing behind.
pub struct AtomicFile {
    target: PathBuf,
    temp: tempfile::NamedTempFile,
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
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temp,
        })
    }

    /// Write `bytes` and move the file into place.
    pub fn commit(mut self, bytes: &[u8]) -> Result<()> {
        let target = self.target.clone();
        self.temp
            .write_all(bytes)
            .map_err(|e| Error::write(&target, e))?;
        self.temp
            .as_file()
            .sync_all()
            .map_err(|e| Error::write(&target, e))?;
        // Temp files are created 0600; give the result the usual permissions for a new file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = self
                .temp
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644));
        }
        self.temp
            .persist(&target)
            .map_err(|e| Error::write(&target, e.error))?;
        Ok(())
    }
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
