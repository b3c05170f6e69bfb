//! The build's output folder is replaced atomically: everything is written to a staging folder beside
//! it and swapped into place only when complete. A build killed at any moment leaves the previous
//! output untouched; the hidden folders it leaves behind carry its process id, and the next build
//! removes those whose process is gone (and puts back a previous output if a kill fell between the
//! two renames of the fallback swap).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

const STAGING: &str = ".soundsticker-build-";
const OLD: &str = ".soundsticker-old-";

/// A staging folder; removed on drop unless it was swapped into place.
pub struct Staging {
    dir: tempfile::TempDir,
    out: PathBuf,
    parent: PathBuf,
}

/// The folder that holds `out`.
fn parent_of(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn name_of(out: &Path) -> String {
    out.file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned())
}

impl Staging {
    /// Create the staging folder for `out`, after cleaning up what killed builds left beside it.
    pub fn create(out: &Path) -> Result<Self> {
        let parent = parent_of(out);
        std::fs::create_dir_all(&parent).map_err(|e| Error::write(&parent, e))?;
        recover(out, &parent);
        let dir = tempfile::Builder::new()
            .prefix(&format!(
                "{STAGING}{}-{}-",
                name_of(out),
                std::process::id()
            ))
            .tempdir_in(&parent)
            .map_err(|e| Error::write(out, e))?;
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
            parent,
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Put the staged folder in place of the output folder; the previous output is removed after.
    pub fn commit(self) -> Result<()> {
        let Staging { dir, out, parent } = self;
        let staged = dir.keep();
        let result = swap(&staged, &out, &parent);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staged);
        }
        result
    }
}

/// Move `staged` to `out`. With an existing `out`, Linux swaps the two in one atomic step
/// (`renameat2(RENAME_EXCHANGE)`); elsewhere, or on file systems without it, the old folder is moved
/// aside first and restored if the second rename fails.
fn swap(staged: &Path, out: &Path, parent: &Path) -> Result<()> {
    if !out.exists() {
        return std::fs::rename(staged, out).map_err(|e| Error::write(out, e));
    }
    if exchange(staged, out) {
        // `staged` now holds the previous output.
        let _ = std::fs::remove_dir_all(staged);
        return Ok(());
    }
    let old = parent.join(format!("{OLD}{}-{}", name_of(out), std::process::id()));
    std::fs::rename(out, &old).map_err(|e| Error::write(out, e))?;
    if let Err(e) = std::fs::rename(staged, out) {
        let _ = std::fs::rename(&old, out);
        return Err(Error::write(out, e));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let (Ok(ca), Ok(cb)) = (
        std::ffi::CString::new(a.as_os_str().as_bytes()),
        std::ffi::CString::new(b.as_os_str().as_bytes()),
    ) else {
        return false;
    };
    // SAFETY: both pointers are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    rc == 0
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> bool {
    false
}

/// Whether process `pid` is still running (on other systems than Unix: assume it is).
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The process id in a leftover's name: `<prefix><out name>-<pid>[-<random>]`.
fn pid_in(rest: &str, out_name: &str) -> Option<u32> {
    let tail = rest.strip_prefix(out_name)?.strip_prefix('-')?;
    tail.split('-').next()?.parse().ok()
}

/// Clean up after builds of `out` that were killed: restore a moved-aside output if the new one never
/// arrived, remove staging folders of dead processes.
fn recover(out: &Path, parent: &Path) {
    let Ok(list) = std::fs::read_dir(parent) else {
        return;
    };
    let out_name = name_of(out);
    for e in list.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if let Some(pid) = name.strip_prefix(OLD).and_then(|r| pid_in(r, &out_name)) {
            if alive(pid) {
                continue;
            }
            if !out.exists() {
                let _ = std::fs::rename(&path, out);
            } else {
                let _ = std::fs::remove_dir_all(&path);
            }
        } else if let Some(pid) = name
            .strip_prefix(STAGING)
            .and_then(|r| pid_in(r, &out_name))
            && !alive(pid)
        {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_in_place_and_cleans_leftovers_of_dead_builds() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("packs");
        std::fs::create_dir(&out).expect("out");
        std::fs::write(out.join("old.txt"), "old").expect("old");
        // Leftovers of a killed build (pid far beyond pid_max) and of this live process.
        let dead = dir.path().join(format!("{STAGING}packs-4999999-abc"));
        let live = dir
            .path()
            .join(format!("{STAGING}packs-{}-xyz", std::process::id()));
        let other = dir.path().join(format!("{STAGING}elsewhere-4999999-abc"));
        for d in [&dead, &live, &other] {
            std::fs::create_dir(d).expect("leftover");
        }
        let staging = Staging::create(&out).expect("staging");
        assert!(!dead.exists(), "dead build's staging removed");
        assert!(live.exists(), "a running build's staging is left alone");
        assert!(other.exists(), "another output's staging is left alone");
        std::fs::write(staging.path().join("new.txt"), "new").expect("new");
        let staged = staging.path().to_path_buf();
        staging.commit().expect("commit");
        assert!(out.join("new.txt").is_file());
        assert!(!out.join("old.txt").exists());
        assert!(!staged.exists());
    }

    #[test]
    fn restores_the_previous_output_when_a_kill_fell_between_renames() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("packs");
        let old = dir.path().join(format!("{OLD}packs-4999999"));
        std::fs::create_dir(&old).expect("old");
        std::fs::write(old.join("a.txt"), "a").expect("a");
        drop(Staging::create(&out).expect("staging"));
        assert!(out.join("a.txt").is_file());
        assert!(!old.exists());
    }

    #[test]
    fn dropped_staging_leaves_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("packs");
        let staging = Staging::create(&out).expect("staging");
        let p = staging.path().to_path_buf();
        drop(staging);
        assert!(!p.exists());
        assert!(!out.exists());
    }
}
