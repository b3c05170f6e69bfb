//! Names of files inside a pack, kept inside it. A pack's JSON (or an archive's member list) names
//! its files; those names come from whoever made the pack, so each is checked before anything is
//! opened: no absolute path, no `..` that leaves the pack, no symbolic link that points out of its
//! folder, nothing but regular files. Then a file is read with a byte cap
//! ([`read_capped`]), so a device or FIFO never blocks or grows.

use super::source::Refusal;
use crate::limits::{Capped, read_capped};
use std::path::{Component, Path, PathBuf};

/// `name` as a path relative to the pack, with `.` dropped and `a/../` folded: `a/./b/../c.webp` is
/// `a/c.webp`. Refused: an absolute path, a `..` that climbs out of the pack, a NUL byte. An empty
/// name (or `.`) is [`Refusal::Missing`].
pub(crate) fn relative(name: &str) -> Result<String, Refusal> {
    if name.contains('\0') {
        return Err(Refusal::Outside("a NUL byte in its name"));
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(name).components() {
        match c {
            Component::Prefix(_) | Component::RootDir => {
                return Err(Refusal::Outside("an absolute path"));
            }
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(Refusal::Outside("`..` leaves the pack's folder"));
                }
            }
            Component::Normal(part) => parts.push(part.to_str().unwrap_or_default()),
        }
    }
    if parts.is_empty() {
        return Err(Refusal::Missing);
    }
    Ok(parts.join("/"))
}

/// A pack folder on disk. Every name resolves inside it, or is refused.
#[derive(Debug)]
pub(crate) struct Folder {
    /// The folder, canonical (symbolic links resolved), so a file's canonical path can be checked
    /// against it.
    root: PathBuf,
}

impl Folder {
    /// The pack folder at `path`.
    pub(crate) fn open(path: &Path) -> std::io::Result<Folder> {
        Ok(Folder {
            root: path.canonicalize()?,
        })
    }

    /// The canonical path of the regular file `name` names inside the pack, or why not. Nothing is
    /// opened: a FIFO or device is recognised from its metadata.
    pub(crate) fn locate(&self, name: &str) -> Result<PathBuf, Refusal> {
        let rel = relative(name)?;
        let joined = self.root.join(&rel);
        let real = match joined.canonicalize() {
            Ok(real) => real,
            // A missing file, or a symbolic link to one.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Refusal::Missing),
            Err(e) => return Err(Refusal::Io(e.to_string())),
        };
        if !real.starts_with(&self.root) {
            return Err(Refusal::Outside(
                "a symbolic link to a file outside the pack's folder",
            ));
        }
        let meta = std::fs::metadata(&real).map_err(|e| Refusal::Io(e.to_string()))?;
        if meta.is_dir() {
            return Err(Refusal::NotRegular("a folder"));
        }
        if !meta.is_file() {
            return Err(Refusal::NotRegular("a device, FIFO or socket"));
        }
        Ok(real)
    }

    /// The bytes of a file [`locate`](Self::locate) found, if it holds at most `cap` bytes; its size
    /// is checked before it is read, and the read stops at the cap whatever the size said.
    pub(crate) fn read(&self, real: &Path, cap: u64) -> Result<Vec<u8>, Refusal> {
        let len = std::fs::metadata(real)
            .map_err(|e| Refusal::Io(e.to_string()))?
            .len();
        if len > cap {
            return Err(Refusal::TooBig { bytes: Some(len) });
        }
        match read_capped(real, cap) {
            Ok(Capped::Whole(bytes)) => Ok(bytes),
            Ok(Capped::Over) => Err(Refusal::TooBig { bytes: None }),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                Err(Refusal::NotRegular("a device, FIFO or socket"))
            }
            Err(e) => Err(Refusal::Io(e.to_string())),
        }
    }

    /// Names of the regular files directly in the pack folder whose names end with `suffix`, sorted.
    /// A symbolic link is listed by its own name (and refused when read if it leads out).
    pub(crate) fn list(&self, suffix: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.root)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| n.ends_with(suffix))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside() {
        assert_eq!(relative("a.webp"), Ok("a.webp".into()));
        assert_eq!(relative("./x/../a.webp"), Ok("a.webp".into()));
        assert_eq!(relative("x/./y/a.webp"), Ok("x/y/a.webp".into()));
        for outside in [
            "/dev/zero",
            "/etc/shadow",
            "../../dev/zero",
            "../../etc/passwd",
            "x/../../a",
            "a\0b",
        ] {
            assert!(
                matches!(relative(outside), Err(Refusal::Outside(_))),
                "{outside}"
            );
        }
        assert_eq!(relative(""), Err(Refusal::Missing));
        assert_eq!(relative("."), Err(Refusal::Missing));
    }

    #[test]
    fn links_out_devices_and_fifos_are_refused_unopened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pack = dir.path().join("pack");
        std::fs::create_dir(&pack).expect("pack");
        std::fs::write(dir.path().join("secret.txt"), "secret").expect("secret");
        std::fs::write(pack.join("a.webp"), "a").expect("a");
        std::fs::create_dir(pack.join("sub")).expect("sub");
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, pack.join(name)).expect("symlink")
        };
        link(Path::new("/dev/zero"), "zero.webp");
        link(&dir.path().join("secret.txt"), "secret.webp");
        link(Path::new("a.webp"), "alias.webp");
        link(Path::new("gone.webp"), "dangling.webp");
        let fifo = pack.join("fifo.webp");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);

        let f = Folder::open(&pack).expect("open");
        let real = f.locate("a.webp").expect("inside");
        assert_eq!(f.read(&real, 10), Ok(b"a".to_vec()));
        assert_eq!(f.read(&real, 0), Err(Refusal::TooBig { bytes: Some(1) }));
        assert_eq!(f.locate("alias.webp").expect("a link inside"), real);
        for outside in ["zero.webp", "secret.webp", "/dev/zero", "../secret.txt"] {
            assert!(
                matches!(f.locate(outside), Err(Refusal::Outside(_))),
                "{outside}"
            );
        }
        assert_eq!(
            f.locate("fifo.webp"),
            Err(Refusal::NotRegular("a device, FIFO or socket"))
        );
        assert_eq!(f.locate("sub"), Err(Refusal::NotRegular("a folder")));
        assert_eq!(f.locate("dangling.webp"), Err(Refusal::Missing));
        assert_eq!(f.locate("none.webp"), Err(Refusal::Missing));
        assert_eq!(
            f.list(".webp"),
            [
                "a.webp",
                "alias.webp",
                "dangling.webp",
                "fifo.webp",
                "secret.webp",
                "zero.webp"
            ]
        );
    }
}
