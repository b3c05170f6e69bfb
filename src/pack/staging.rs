//! The build's output folder is replaced atomically: everything is written to a staging folder beside
//! it and swapped into place only when complete. A build killed at any moment leaves the previous
//! output untouched; the hidden folders it leaves behind carry its process id, and the next build
//! removes those whose process is gone (and puts back a previous output if a kill fell between the
//! two renames of the fallback swap).

use crate::cancel::{CancelToken, Tracked};
use crate::error::{Error, Result, Setting};
use std::path::{Path, PathBuf};

const STAGING: &str = ".soundsticker-build-";
const OLD: &str = ".soundsticker-old-";
/// Marks a folder a build wrote. A build replaces its whole output folder, so it replaces only a
/// folder that is new, empty or so marked (see `check_out`).
pub const MARKER: &str = ".soundsticker-output";
const MARKER_TEXT: &str =
    "Written by `soundsticker build`: each build replaces this whole folder.\n";

/// Refuse an output folder whose replacement would lose what soundsticker did not write: a file, a
/// folder holding anything else than an earlier build's output, or one holding any of `inputs` (the
/// manifest, its masters and images, the cache). A new or empty folder is fine.
pub fn check_out(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    let Ok(meta) = std::fs::metadata(out) else {
        return Ok(());
    };
    let shown = out.display();
    if !meta.is_dir() {
        return Err(Error::setting(
            Setting::Out,
            format!("{shown} is a file; the packs go into a folder: give a new one"),
        ));
    }
    let root = std::fs::canonicalize(out).map_err(|e| Error::read(out, e))?;
    for input in inputs {
        if let Some(path) = resolved(input)
            && path.starts_with(&root)
        {
            let place = if path == root { "is" } else { "is inside" };
            return Err(Error::setting(
                Setting::Out,
                format!(
                    "{} {place} the output folder {shown}, which a build replaces; choose another output folder",
                    input.display()
                ),
            ));
        }
    }
    // A folder in use as the current directory cannot be renamed away (EBUSY), which would fail only
    // after the whole build.
    if let Some(cwd) = std::env::current_dir().ok().and_then(|d| resolved(&d))
        && cwd.starts_with(&root)
    {
        return Err(Error::setting(
            Setting::Out,
            format!(
                "{shown} holds the current directory, and a folder in use cannot be replaced; run from outside it"
            ),
        ));
    }
    let empty = std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_none());
    if !empty && !ours(out) {
        return Err(Error::setting(
            Setting::Out,
            format!(
                "{shown} holds files soundsticker did not write, and a build replaces its whole output folder; give a new or empty folder, or an earlier build's (marked by {MARKER})"
            ),
        ));
    }
    Ok(())
}

/// `path` made absolute with its nearest existing ancestor's links resolved, so that a path not
/// created yet (a cache folder) compares with canonical ones.
fn resolved(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let mut base = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(base) {
            return Some(rest.iter().rev().fold(real, |p, part| p.join(part)));
        }
        rest.push(base.file_name()?.to_owned());
        base = base.parent()?;
    }
}

/// Whether `dir` is an earlier build's output: marked, or (written before the mark) holding nothing
/// but what a build or a shard writes: platform folders, the canonical pack, archives, the preview
/// page, a shard's `shard.json` and cache entries (folders named by a hex key).
fn ours(dir: &Path) -> bool {
    if dir.join(MARKER).is_file() {
        return true;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let written = |name: &str, is_dir: bool| {
        if is_dir {
            ["whatsapp", "telegram", "signal", "discord", "pack"].contains(&name)
                || (name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()))
        } else {
            ["preview.html", "shard.json"].contains(&name)
                || name.ends_with(".zip")
                || name.ends_with(".wastickers")
        }
    };
    entries.flatten().all(|e| {
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        written(&e.file_name().to_string_lossy(), is_dir)
    })
}

/// A staging folder; removed on drop unless it was swapped into place.
pub struct Staging {
    dir: tempfile::TempDir,
    out: PathBuf,
    parent: PathBuf,
    _tracked: Tracked,
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
    /// Create the staging folder for `out`, after cleaning up what killed builds left beside it; it is
    /// on `cancel`'s unfinished list until committed or dropped.
    pub fn create(out: &Path, cancel: &CancelToken) -> Result<Self> {
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
        let marker = dir.path().join(MARKER);
        std::fs::write(&marker, MARKER_TEXT).map_err(|e| Error::write(&marker, e))?;
        let tracked = cancel.track(dir.path());
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
            parent,
            _tracked: tracked,
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Put the staged folder in place of the output folder; the previous output is removed after.
    pub fn commit(self) -> Result<()> {
        let Staging {
            dir, out, parent, ..
        } = self;
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
        let staging = Staging::create(&out, &CancelToken::new()).expect("staging");
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
        drop(Staging::create(&out, &CancelToken::new()).expect("staging"));
        assert!(out.join("a.txt").is_file());
        assert!(!old.exists());
    }

    #[test]
    fn only_new_empty_or_earlier_outputs_are_replaced() {
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        let fine = |out: &Path| check_out(out, &[d.join("pack.json")]).is_ok();
        assert!(fine(&d.join("new")), "a new folder");
        std::fs::create_dir(d.join("empty")).expect("empty");
        assert!(fine(&d.join("empty")));
        // A build's output is marked; the output folder of the next build of it is accepted.
        let out = d.join("dist");
        let staging = Staging::create(&out, &CancelToken::new()).expect("staging");
        std::fs::write(staging.path().join("preview.html"), "page").expect("page");
        staging.commit().expect("commit");
        assert!(out.join(MARKER).is_file());
        assert!(fine(&out));
        // Outputs of builds before the mark: a shard folder, or the preview page and canonical pack.
        let legacy = d.join("legacy");
        std::fs::create_dir_all(legacy.join("pack")).expect("pack");
        std::fs::write(legacy.join("preview.html"), "page").expect("page");
        assert!(fine(&legacy));
        std::fs::write(legacy.join("notes.txt"), "mine").expect("notes");
        assert!(!fine(&legacy), "a file no build writes");
        // A shard.json beside other files is no shard folder.
        let shard = d.join("shard");
        std::fs::create_dir(&shard).expect("shard");
        std::fs::write(shard.join("shard.json"), "{}").expect("shard.json");
        assert!(fine(&shard));
        std::fs::write(shard.join("important.txt"), "x").expect("important");
        assert!(!fine(&shard));
        // A cache folder that does not exist yet inside the output folder.
        assert!(check_out(&out, &[out.join("cache")]).is_err());
        // An output folder that holds an input, even a marked one.
        std::fs::write(out.join("pack.json"), "{}").expect("manifest");
        assert!(check_out(&out, &[out.join("pack.json")]).is_err());
    }

    #[test]
    fn dropped_staging_leaves_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("packs");
        let staging = Staging::create(&out, &CancelToken::new()).expect("staging");
        let p = staging.path().to_path_buf();
        drop(staging);
        assert!(!p.exists());
        assert!(!out.exists());
    }
}
