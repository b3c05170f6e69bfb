//! What the validator checks: a pack folder on disk or an archive held in memory, behind one
//! interface. The rules name files by the names a pack's JSON gives; [`Pack`] resolves each inside
//! the pack (or says why not) and reads it with a byte cap, so no rule ever opens a path itself.

use super::contained::Folder;
use super::zipped::ZipPack;
use std::path::PathBuf;

/// Why a named file is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No such file in the pack (or an empty name).
    Missing,
    /// The name leads out of the pack; the text says how (an absolute path, `..`, a link out).
    Outside(&'static str),
    /// Not a regular file; the text says what it is instead.
    NotRegular(&'static str),
    /// Over the byte cap of the read; its size when known (from the file system or the archive's
    /// declaration) without reading it.
    TooBig {
        /// The size found, bytes.
        bytes: Option<u64>,
    },
    /// A member the archive cannot give as declared (damaged, or more bytes than it says).
    Archive(String),
    /// A member refused when the archive was opened, and reported then.
    Reported,
    /// The system could not read it; its words.
    Io(String),
}

/// A file found in a pack, ready to read: a canonical path inside the folder, or an archive
/// member. Two names for the same file locate the same value, so a file is checked once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Located {
    /// A regular file inside the pack folder.
    File(PathBuf),
    /// An archive member: its index and declared size.
    Member(usize, u64),
}

/// A pack being validated.
pub(crate) enum Pack {
    /// A folder on disk.
    Folder(Folder),
    /// A zip archive, in memory.
    Zip(ZipPack),
}

impl Pack {
    /// The file `name` names, or why it cannot be read.
    pub(crate) fn locate(&self, name: &str) -> Result<Located, Refusal> {
        match self {
            Pack::Folder(f) => f.locate(name).map(Located::File),
            Pack::Zip(z) => z.locate(name).map(|(i, size)| Located::Member(i, size)),
        }
    }

    /// The bytes of a located file if it holds at most `cap` bytes.
    pub(crate) fn read(&mut self, at: &Located, cap: u64) -> Result<Vec<u8>, Refusal> {
        match (self, at) {
            (Pack::Folder(f), Located::File(path)) => f.read(path, cap),
            (Pack::Zip(z), &Located::Member(i, size)) => z.read((i, size), cap),
            _ => Err(Refusal::Missing),
        }
    }

    /// Locate `name` and read it with a cap of `cap` bytes.
    pub(crate) fn read_named(&mut self, name: &str, cap: u64) -> Result<Vec<u8>, Refusal> {
        let at = self.locate(name)?;
        self.read(&at, cap)
    }

    /// Names of the files at the top of the pack ending with `suffix`, sorted.
    pub(crate) fn list(&self, suffix: &str) -> Vec<String> {
        match self {
            Pack::Folder(f) => f.list(suffix),
            Pack::Zip(z) => z.list(suffix),
        }
    }
}
