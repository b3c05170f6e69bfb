//! The build's output folder is replaced atomically: everything is written to a staging folder beside
//! it and swapped into place only when complete. A build killed at any moment leaves the previous
//! output untouched; the hidden folders it leaves behind carry its process id, and the next build
//! removes those whose process is gone (and puts back a previous output if a kill fell between the
//! two renames of the fallback swap).
//!
//! A build deletes only what a build wrote. Its output folder holds a marker, `.soundsticker-output`,
//! listing every path that build wrote; the next build replaces the folder only if it holds nothing
//! else (checked before rendering, and again just before the swap), and removes the previous output
//! by that list, entry by entry, never following a link out of the folder. A folder without the
//! marker is replaced only when it is empty. One build at a time writes an output folder: a lock file
//! beside it, held with `flock` (released by the kernel however the build ends).

use crate::cancel::{CancelToken, Tracked};
use crate::error::{Error, Result, Setting};
use crate::limits::{Capped, MAX_OUTPUT_LIST_BYTES, read_capped};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const STAGING: &str = ".soundsticker-build-";
const OLD: &str = ".soundsticker-old-";
/// Marks a folder a build wrote and lists what it wrote. A build replaces its whole output folder, so
/// it replaces only a folder that is new, empty, or holds nothing but what its marker lists.
pub const MARKER: &str = ".soundsticker-output";
/// The first line of a marker that lists what its build wrote.
const MARKER_HEADER: &str = "# soundsticker build output, format 2";
const MARKER_NOTE: &str = "# The next build replaces this folder only if it holds nothing but the paths below (folders\n\
     # end in /); anything else stops it, so nothing you put here is lost.\n";
/// How markers of builds before the list began (which listed nothing).
const OLD_MARKER_START: &str = "Written by `soundsticker build`";
/// How many names of files a build did not write its refusal shows.
const SHOWN: usize = 5;
/// Entries looked at, at most, to name and count what a folder holds besides a build's output (only
/// the message depends on it: one such entry is enough to refuse).
const LOOKED_AT: usize = 10_000;

/// Refuse an output folder whose replacement would lose what soundsticker did not write: a file, a
/// folder holding anything else than what its marker says an earlier build wrote, or one holding any
/// of `inputs` (the manifest, its masters and images, the cache). A new or empty folder is fine.
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
    check_contents(out)
}

/// Refuse `out` unless it is missing, empty, or holds nothing but what its marker lists.
fn check_contents(out: &Path) -> Result<()> {
    if std::fs::symlink_metadata(out).is_err() {
        return Ok(());
    }
    let shown = out.display();
    let marker = read_marker(out);
    let listed = match &marker {
        Marker::Listing(list) => list.clone(),
        _ => HashSet::new(),
    };
    // The marker file itself is ours unless it is not one soundsticker writes.
    let ours = matches!(marker, Marker::Listing(_) | Marker::Old);
    let found = foreign(out, &listed, ours);
    if found.names.is_empty() {
        return Ok(());
    }
    let what = found.describe();
    let detail = match marker {
        Marker::Listing(_) => format!(
            "{shown} holds files soundsticker did not write ({what}), which its {MARKER} does not list, and a build replaces its whole output folder; move them out, or give another output folder"
        ),
        Marker::Old => format!(
            "{shown} was written by an older soundsticker, whose {MARKER} does not list what it wrote, so this build cannot tell its files from yours ({what}); delete or empty the folder yourself if nothing in it is yours, or give another output folder"
        ),
        Marker::Missing | Marker::Unknown => format!(
            "{shown} holds files soundsticker did not write ({what}) and no {MARKER} listing what a build wrote, and a build replaces its whole output folder; give a new or empty folder"
        ),
    };
    Err(Error::setting(Setting::Out, detail))
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

/// What an output folder's marker says.
#[derive(Debug)]
enum Marker {
    /// The paths its build wrote (relative, `/`-separated, folders ending in `/`).
    Listing(HashSet<String>),
    /// A marker of a build before markers listed anything.
    Old,
    /// No marker.
    Missing,
    /// Something else at the marker's name: a folder, a link, another text, one too large.
    Unknown,
}

fn read_marker(dir: &Path) -> Marker {
    let path = dir.join(MARKER);
    match std::fs::symlink_metadata(&path) {
        Err(_) => return Marker::Missing,
        Ok(m) if !m.is_file() => return Marker::Unknown,
        Ok(_) => {}
    }
    let Ok(Capped::Whole(bytes)) = read_capped(&path, MAX_OUTPUT_LIST_BYTES) else {
        return Marker::Unknown;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Marker::Unknown;
    };
    if text.starts_with(OLD_MARKER_START) {
        return Marker::Old;
    }
    let mut lines = text.lines();
    if lines.next() != Some(MARKER_HEADER) {
        return Marker::Unknown;
    }
    Marker::Listing(
        lines
            .filter(|l| !l.starts_with('#') && is_inside(l))
            .map(str::to_string)
            .collect(),
    )
}

/// Whether a listed path stays inside its folder: relative, no `.` or `..`, no empty part (a folder
/// may end in `/`). Others are ignored: they name nothing a walk of the folder can meet, so they
/// authorise nothing.
fn is_inside(entry: &str) -> bool {
    let path = entry.strip_suffix('/').unwrap_or(entry);
    !path.is_empty()
        && !path.contains('\0')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// What a folder holds besides what its marker lists.
struct Foreign {
    /// Relative paths, sorted.
    names: Vec<String>,
    /// The walk stopped at [`LOOKED_AT`] entries: there may be more.
    more: bool,
}

impl Foreign {
    /// "3 files (a.zip, b/c.docx, d)" or "more than 10000 files (first few …)".
    fn describe(&self) -> String {
        let n = self.names.len();
        let count = if self.more {
            format!("more than {n} files")
        } else if n == 1 {
            "1 file".to_string()
        } else {
            format!("{n} files")
        };
        let shown: Vec<&str> = self.names.iter().take(SHOWN).map(String::as_str).collect();
        let rest = n - shown.len();
        let tail = if rest > 0 {
            format!(" and {rest} more")
        } else {
            String::new()
        };
        format!("{count}: {}{tail}", shown.join(", "))
    }
}

/// Walk `root` (never following links) and collect what `listed` does not name: files, links and
/// folders it does not list (and what they hold), things of another type than listed. With `marker`,
/// the marker file at the top is ours and not reported.
fn foreign(root: &Path, listed: &HashSet<String>, marker: bool) -> Foreign {
    let mut found = Foreign {
        names: Vec::new(),
        more: false,
    };
    let mut looked = 0usize;
    // (folder, its relative path with a trailing `/` or empty, whether the folder itself is listed)
    let mut stack = vec![(root.to_path_buf(), String::new(), true)];
    while let Some((dir, rel, ours)) = stack.pop() {
        let Ok(list) = std::fs::read_dir(&dir) else {
            if !rel.is_empty() {
                found.names.push(rel);
            }
            continue;
        };
        // (name, is a folder, is a regular file, path); links are neither: a build writes none.
        let mut entries: Vec<(String, bool, bool, PathBuf)> = Vec::new();
        for e in list.flatten() {
            looked += 1;
            if looked > LOOKED_AT {
                found.more = true;
                return found;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let kind = e.file_type().ok();
            let is_dir = kind.is_some_and(|t| t.is_dir());
            let is_file = kind.is_some_and(|t| t.is_file());
            entries.push((name, is_dir, is_file, e.path()));
        }
        entries.sort();
        let mut subdirs = Vec::new();
        for (name, is_dir, is_file, path) in entries {
            if marker && rel.is_empty() && name == MARKER {
                continue;
            }
            let child = format!("{rel}{name}");
            if is_dir {
                let child_dir = format!("{child}/");
                let listed_dir = ours && listed.contains(&child_dir);
                let empty = std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none());
                if !listed_dir && empty {
                    found.names.push(child_dir);
                } else {
                    subdirs.push((path, child_dir, listed_dir));
                }
            } else if !(ours && is_file && listed.contains(&child)) {
                found.names.push(child);
            }
        }
        stack.extend(subdirs);
    }
    found.names.sort();
    found
}

/// The marker of the finished build in `dir`: the header, a note, then every path in it, sorted (so
/// two builds of the same pack write the same bytes).
fn write_marker(dir: &Path) -> Result<()> {
    let mut paths = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, rel)) = stack.pop() {
        for e in std::fs::read_dir(&folder).map_err(|e| Error::read(&folder, e))? {
            let e = e.map_err(|e| Error::read(&folder, e))?;
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                return Err(Error::write(
                    &e.path(),
                    std::io::Error::other("a name that is not UTF-8"),
                ));
            };
            if rel.is_empty() && name == MARKER {
                continue;
            }
            if name.contains('\n') {
                return Err(Error::write(
                    &e.path(),
                    std::io::Error::other("a name with a line break"),
                ));
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                let child = format!("{rel}{name}/");
                paths.push(child.clone());
                stack.push((e.path(), child));
            } else {
                paths.push(format!("{rel}{name}"));
            }
        }
    }
    paths.sort();
    let mut text = format!("{MARKER_HEADER}\n{MARKER_NOTE}");
    for p in paths {
        text.push_str(&p);
        text.push('\n');
    }
    let marker = dir.join(MARKER);
    std::fs::write(&marker, text).map_err(|e| Error::write(&marker, e))
}

/// Remove an earlier output by its marker's list: listed files, then listed folders once empty, then
/// the marker and `dir` itself. Walks the folder as it is (never following a link), so nothing outside
/// it is touched and nothing it does not list is removed. Returns whether `dir` is gone.
fn remove_output(dir: &Path) -> bool {
    let listed = match read_marker(dir) {
        Marker::Listing(list) => list,
        // Nothing listed, but the marker (of the old kind) is ours.
        Marker::Missing | Marker::Old => HashSet::new(),
        Marker::Unknown => return false,
    };
    let mut folders = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, rel)) = stack.pop() {
        let Ok(list) = std::fs::read_dir(&folder) else {
            continue;
        };
        for e in list.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(kind) = e.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let child = format!("{rel}{name}/");
                if listed.contains(&child) {
                    folders.push(e.path());
                    stack.push((e.path(), child));
                }
            } else if kind.is_file() && listed.contains(&format!("{rel}{name}")) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    // Deepest first: a folder comes after the folders holding it.
    for folder in folders.iter().rev() {
        let _ = std::fs::remove_dir(folder);
    }
    let _ = std::fs::remove_file(dir.join(MARKER));
    std::fs::remove_dir(dir).is_ok()
}

/// Put aside, under a name no build removes, a previous output that still holds what its marker
/// did not list (dropped in during the last instants of a build): `<out>.kept-<pid>` beside it.
fn keep_aside(dir: &Path, out: &Path, parent: &Path) {
    let kept = parent.join(format!("{}.kept-{}", name_of(out), std::process::id()));
    let _ = std::fs::rename(dir, kept);
}

/// Remove a previous output by its list; keep what it did not list.
fn dispose(dir: &Path, out: &Path, parent: &Path) {
    // An output folder given as a link: the link was swapped out; what it points to stays.
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        let _ = std::fs::remove_file(dir);
        return;
    }
    if !remove_output(dir) {
        keep_aside(dir, out, parent);
    }
}

/// The lock one build at a time holds on an output folder: `.<name>.soundsticker-lock` beside it,
/// locked with `flock`, which the kernel releases when the process ends however it ends, so a killed
/// build leaves no stale lock. The file is removed when the lock is dropped.
pub struct OutLock {
    path: PathBuf,
    _file: std::fs::File,
}

impl OutLock {
    /// Take the lock on `out`, or refuse at once naming the build that holds it.
    pub fn acquire(out: &Path) -> Result<Self> {
        use std::io::{Read, Seek, Write};
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        let parent = parent_of(out);
        std::fs::create_dir_all(&parent).map_err(|e| Error::write(&parent, e))?;
        let path = parent.join(format!(".{}.soundsticker-lock", name_of(out)));
        // A build releasing the lock removes the file; one that opened it just before then holds a
        // removed file's lock, so it checks that the path still names the file it locked.
        for _ in 0..100 {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::write(&path, e))?;
            // SAFETY: flock on a file descriptor this function owns.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc != 0 {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                    return Err(Error::write(&path, err));
                }
                let mut text = String::new();
                let _ = (&file).take(32).read_to_string(&mut text);
                let who = match text.trim().parse::<u32>() {
                    Ok(pid) => format!("another build (pid {pid})"),
                    Err(_) => "another build".to_string(),
                };
                return Err(Error::setting(
                    Setting::Out,
                    format!(
                        "{who} is writing {}; wait for it to finish, or give another output folder",
                        out.display()
                    ),
                ));
            }
            let same = match (file.metadata(), std::fs::metadata(&path)) {
                (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                _ => false,
            };
            if !same {
                continue;
            }
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = writeln!(file, "{}", std::process::id());
            return Ok(OutLock { path, _file: file });
        }
        Err(Error::write(
            &path,
            std::io::Error::other("the lock file keeps being replaced"),
        ))
    }
}

impl Drop for OutLock {
    fn drop(&mut self) {
        // Removed while still locked (the file closes after this), so no other build can lock it
        // in between and then lose it.
        let _ = std::fs::remove_file(&self.path);
    }
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
    /// on `cancel`'s unfinished list until committed or dropped. The caller holds `out`'s [`OutLock`].
    pub fn create(out: &Path, cancel: &CancelToken) -> Result<Self> {
        let parent = parent_of(out);
        std::fs::create_dir_all(&parent).map_err(|e| Error::write(&parent, e))?;
        recover(out, &parent);
        let dir = tempfile::Builder::new()
            .prefix(&format!(
                "{STAGING}{}-{}-",
                std::process::id(),
                name_of(out)
            ))
            .tempdir_in(&parent)
            .map_err(|e| Error::write(out, e))?;
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

    /// Mark the staged folder with the list of what it holds and put it in place of the output
    /// folder, if that still holds nothing but an earlier build's output (a file dropped into it
    /// during the build stops the swap); the previous output is then removed by its own list.
    pub fn commit(self) -> Result<()> {
        let Staging {
            dir, out, parent, ..
        } = self;
        write_marker(dir.path())?;
        check_contents(&out)?;
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
    if std::fs::symlink_metadata(out).is_err() {
        return std::fs::rename(staged, out).map_err(|e| Error::write(out, e));
    }
    if exchange(staged, out) {
        // `staged` now holds the previous output.
        dispose(staged, out, parent);
        return Ok(());
    }
    let old = parent.join(format!("{OLD}{}-{}", std::process::id(), name_of(out)));
    std::fs::rename(out, &old).map_err(|e| Error::write(out, e))?;
    if let Err(e) = std::fs::rename(staged, out) {
        let _ = std::fs::rename(&old, out);
        return Err(Error::write(out, e));
    }
    dispose(&old, out, parent);
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

/// The process id in a leftover's name (after its prefix): `<pid>-<out name>` for a moved-aside
/// output, `<pid>-<out name>-<random>` for a staging folder; `None` if it is another output's.
fn pid_in(rest: &str, out_name: &str, random_tail: bool) -> Option<u32> {
    let (pid, name) = rest.split_once('-')?;
    let name = if random_tail {
        name.rsplit_once('-')?.0
    } else {
        name
    };
    (name == out_name).then(|| pid.parse().ok()).flatten()
}

/// Clean up after builds of `out` that were killed: restore a moved-aside output if the new one never
/// arrived, remove what they left (a staging folder, or the previous output swapped out of place).
fn recover(out: &Path, parent: &Path) {
    let Ok(list) = std::fs::read_dir(parent) else {
        return;
    };
    let out_name = name_of(out);
    for e in list.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if let Some(pid) = name
            .strip_prefix(OLD)
            .and_then(|r| pid_in(r, &out_name, false))
        {
            if alive(pid) {
                continue;
            }
            if std::fs::symlink_metadata(out).is_err() {
                let _ = std::fs::rename(&path, out);
            } else {
                dispose(&path, out, parent);
            }
        } else if let Some(pid) = name
            .strip_prefix(STAGING)
            .and_then(|r| pid_in(r, &out_name, true))
            && !alive(pid)
        {
            match read_marker(&path) {
                // A finished staging folder, or the previous output a kill left where it was swapped.
                Marker::Listing(_) => dispose(&path, out, parent),
                // Unfinished: a folder only the killed build wrote into.
                _ => {
                    let _ = std::fs::remove_dir_all(&path);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finished build's output at `out` holding `files` (relative paths).
    fn output(out: &Path, files: &[&str]) {
        let staging = Staging::create(out, &CancelToken::new()).expect("staging");
        for f in files {
            let path = staging.path().join(f);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
            std::fs::write(&path, f).expect("file");
        }
        staging.commit().expect("commit");
    }

    fn refusal(out: &Path) -> String {
        check_out(out, &[]).expect_err("refused").to_string()
    }

    #[test]
    fn swaps_in_place_and_cleans_leftovers_of_dead_builds() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("packs");
        output(&out, &["old.txt"]);
        // Leftovers of a killed build (pid far beyond pid_max) and of this live process.
        let staging_of =
            |pid: u32, name: &str| dir.path().join(format!("{STAGING}{pid}-{name}-abc"));
        let dead = staging_of(4_999_999, "packs");
        let live = staging_of(std::process::id(), "packs");
        let other = staging_of(4_999_999, "elsewhere");
        let similar = staging_of(4_999_999, "packs-2");
        for d in [&dead, &live, &other, &similar] {
            std::fs::create_dir(d).expect("leftover");
            std::fs::write(d.join("x.webp"), "x").expect("file");
        }
        let staging = Staging::create(&out, &CancelToken::new()).expect("staging");
        assert!(!dead.exists(), "dead build's staging removed");
        assert!(live.exists(), "a running build's staging is left alone");
        assert!(other.exists(), "another output's staging is left alone");
        assert!(
            similar.exists(),
            "so is one of an output whose name starts alike"
        );
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
        let old = dir.path().join(format!("{OLD}4999999-packs"));
        std::fs::create_dir(&old).expect("old");
        std::fs::write(old.join("a.txt"), "a").expect("a");
        drop(Staging::create(&out, &CancelToken::new()).expect("staging"));
        assert!(out.join("a.txt").is_file());
        assert!(!old.exists());
    }

    #[test]
    fn the_marker_lists_every_path_in_a_stable_order() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("dist");
        output(
            &out,
            &[
                "b.zip",
                "pack/z.ogg",
                "pack/a.webp",
                "whatsapp/static/s.webp",
            ],
        );
        let text = std::fs::read_to_string(out.join(MARKER)).expect("marker");
        let listed: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            listed,
            [
                "b.zip",
                "pack/",
                "pack/a.webp",
                "pack/z.ogg",
                "whatsapp/",
                "whatsapp/static/",
                "whatsapp/static/s.webp"
            ]
        );
        assert!(text.starts_with(MARKER_HEADER));
        write_marker(&out).expect("again");
        assert_eq!(std::fs::read_to_string(out.join(MARKER)).expect("m"), text);
        assert!(
            check_out(&out, &[]).is_ok(),
            "an earlier output is replaced"
        );
    }

    /// The data loss of issue 17: a folder of a user's archives and documents has files named like a
    /// build's (`*.zip`, `pack/`, `signal/`) but no marker.
    #[test]
    fn only_new_empty_or_listed_outputs_are_replaced() {
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        let fine = |out: &Path| check_out(out, &[d.join("pack.json")]).is_ok();
        assert!(fine(&d.join("new")), "a new folder");
        std::fs::create_dir(d.join("empty")).expect("empty");
        assert!(fine(&d.join("empty")));

        let user = d.join("user");
        for f in [
            "taxes-2025.zip",
            "family-photos.zip",
            "pack/thesis.docx",
            "signal/notes.txt",
        ] {
            let path = user.join(f);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
            std::fs::write(&path, f).expect("file");
        }
        let err = refusal(&user);
        assert!(
            err.contains(
                "4 files: family-photos.zip, pack/thesis.docx, signal/notes.txt, taxes-2025.zip"
            ),
            "{err}"
        );
        assert!(
            err.contains("did not write") && err.contains(MARKER),
            "{err}"
        );
        // An empty folder of the user's is named too.
        std::fs::create_dir(user.join("drafts")).expect("drafts");
        assert!(refusal(&user).contains("5 files: drafts/, family-photos.zip"));

        // An earlier output with one file dropped into it, one replaced by a link, one by a folder.
        let out = d.join("dist");
        output(&out, &["pack.zip", "pack/a.ogg", "pack/a.webp"]);
        std::fs::write(out.join("pack").join("mine.txt"), "mine").expect("mine");
        let err = refusal(&out);
        assert!(
            err.contains("1 file: pack/mine.txt") && err.contains("move them out"),
            "{err}"
        );
        std::fs::remove_file(out.join("pack").join("mine.txt")).expect("rm");
        std::fs::remove_file(out.join("pack").join("a.ogg")).expect("rm");
        std::os::unix::fs::symlink(d.join("user"), out.join("pack").join("a.ogg")).expect("link");
        assert!(refusal(&out).contains("pack/a.ogg"));
        std::fs::remove_file(out.join("pack").join("a.ogg")).expect("rm");
        std::fs::create_dir(out.join("pack.zip.d")).expect("dir");
        std::fs::write(out.join("pack.zip.d").join("x"), "x").expect("x");
        assert!(refusal(&out).contains("pack.zip.d/x"));
        std::fs::remove_dir_all(out.join("pack.zip.d")).expect("rm");
        assert!(fine(&out), "a listed file the user removed is fine");

        // An output of a build before the list: refused unless it holds nothing else.
        let old = d.join("old");
        std::fs::create_dir(&old).expect("old");
        std::fs::write(
            old.join(MARKER),
            format!("{OLD_MARKER_START}: each build replaces this whole folder.\n"),
        )
        .expect("m");
        assert!(fine(&old), "an old marker alone");
        std::fs::write(old.join("preview.html"), "page").expect("page");
        let err = refusal(&old);
        assert!(
            err.contains("older soundsticker") && err.contains("preview.html"),
            "{err}"
        );
        // A marker that is not one of ours is reported with the rest.
        let odd = d.join("odd");
        std::fs::create_dir(&odd).expect("odd");
        std::fs::write(odd.join(MARKER), "my notes").expect("m");
        assert!(refusal(&odd).contains(MARKER));

        // A cache folder that does not exist yet inside the output folder.
        assert!(check_out(&out, &[out.join("cache")]).is_err());
        // An output folder that holds an input, even a marked one.
        assert!(check_out(&out, &[out.join("pack.zip")]).is_err());
    }

    /// A marker lists relative paths only: `..`, absolute paths and links never lead the removal of
    /// a previous output out of its folder.
    #[test]
    fn a_marker_authorises_nothing_outside_its_folder() {
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        let victim = d.join("victim.txt");
        std::fs::write(&victim, "keep").expect("victim");
        let elsewhere = d.join("elsewhere");
        std::fs::create_dir(&elsewhere).expect("elsewhere");
        std::fs::write(elsewhere.join("a.ogg"), "keep").expect("a");
        let out = d.join("dist");
        std::fs::create_dir(&out).expect("out");
        std::fs::write(out.join("a.ogg"), "ours").expect("a");
        let list = [
            "../victim.txt",
            &victim.display().to_string(),
            "pack/../../victim.txt",
            "./a.ogg",
            "link/",
            "link/a.ogg",
            "a.ogg",
        ];
        std::fs::write(
            out.join(MARKER),
            format!("{MARKER_HEADER}\n{}\n", list.join("\n")),
        )
        .expect("m");
        assert!(check_out(&out, &[]).is_ok());
        // A link where the list names a folder is refused before the build...
        std::os::unix::fs::symlink(&elsewhere, out.join("link")).expect("link");
        assert!(refusal(&out).contains("link"));
        // ... and removal by the list does not follow it either.
        assert!(
            !remove_output(&out),
            "the link is not listed as a file: it stays"
        );
        assert!(victim.is_file() && elsewhere.join("a.ogg").is_file());
        assert!(!out.join("a.ogg").exists(), "the listed file went");
        std::fs::remove_file(out.join("link")).expect("rm link");
        std::fs::write(
            out.join(MARKER),
            format!("{MARKER_HEADER}\n../victim.txt\n"),
        )
        .expect("m");
        output(&out, &["new.txt"]);
        assert!(victim.is_file() && elsewhere.join("a.ogg").is_file());
        assert!(out.join("new.txt").is_file());
    }

    /// Files dropped into the output folder while a build runs stop its swap.
    #[test]
    fn the_swap_checks_the_folder_again() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("dist");
        output(&out, &["a.txt"]);
        let staging = Staging::create(&out, &CancelToken::new()).expect("staging");
        std::fs::write(staging.path().join("b.txt"), "b").expect("b");
        std::fs::write(out.join("late.txt"), "mine").expect("late");
        let staged = staging.path().to_path_buf();
        let err = staging.commit().expect_err("refused").to_string();
        assert!(err.contains("late.txt"), "{err}");
        assert!(out.join("late.txt").is_file() && out.join("a.txt").is_file());
        assert!(!staged.exists(), "the staging folder went");
    }

    #[test]
    fn one_build_at_a_time_holds_an_output_folder() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("dist");
        let lock = OutLock::acquire(&out).expect("first");
        let file = dir.path().join(".dist.soundsticker-lock");
        assert!(file.is_file());
        let err = OutLock::acquire(&out).err().expect("second").to_string();
        assert!(
            err.contains(&format!(
                "another build (pid {}) is writing",
                std::process::id()
            )),
            "{err}"
        );
        assert!(
            OutLock::acquire(&dir.path().join("other")).is_ok(),
            "another folder"
        );
        drop(lock);
        assert!(!file.exists(), "removed when released");
        // A lock file a killed build left (unlocked) is taken over.
        std::fs::write(&file, "4999999\n").expect("stale");
        let lock = OutLock::acquire(&out).expect("after a kill");
        drop(lock);
        assert!(!file.exists());
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
