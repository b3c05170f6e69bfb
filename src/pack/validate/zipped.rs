//! A zip archive (`.wastickers`, `.zip`) read in memory, never extracted: the validator reads each
//! member it checks straight out of the archive's bytes, with limits on the members' count, names,
//! declared and actual sizes, and compression ratio.
//!
//! [`ZipPack::open`] and [`ZipPack::read`] take bytes only (no file system), so the reader can be
//! fuzzed alone.

use super::contained::relative;
use super::source::Refusal;
use crate::limits::{
    COMPRESSION_RATIO_FLOOR, MAX_ARCHIVE_BYTES, MAX_ARCHIVE_MEMBERS, MAX_COMPRESSION_RATIO,
};
use std::collections::HashMap;
use std::io::{Cursor, Read};
use zip::ZipArchive;

/// Why an archive is not read at all.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ArchiveError {
    /// Not a zip archive; the zip reader's words.
    NotZip(String),
    /// A zip that breaks a limit on untrusted input as a whole; the text says which.
    Refused(String),
}

/// One member the archive refuses (its name as written, and why); the validator reports each.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MemberProblem {
    /// The member's name as the archive has it.
    pub name: String,
    /// The rule it breaks.
    pub rule: String,
}

/// A member's place in the archive, under its name relative to the pack.
#[derive(Debug, Clone, Copy)]
struct Member {
    index: usize,
    /// The uncompressed size the archive declares; reads stop one byte past it.
    size: u64,
    /// Refused when the archive was opened (and reported then).
    refused: bool,
}

/// An archive held in memory, its members checked and indexed by name.
pub(crate) struct ZipPack {
    zip: ZipArchive<Cursor<Vec<u8>>>,
    members: HashMap<String, Member>,
    /// Names in archive order, for listing.
    order: Vec<String>,
}

/// Bytes that start a central directory header. Each member the zip reader lists has one, so
/// counting them bounds the members before the reader allocates for them.
const CENTRAL_HEADER: &[u8; 4] = b"PK\x01\x02";

/// `name (unix mode)` of a member that is not a regular file or folder, if it is one.
fn special_kind(mode: Option<u32>) -> Option<&'static str> {
    const S_IFMT: u32 = 0o170_000;
    match mode? & S_IFMT {
        0 | 0o100_000 | 0o040_000 => None,
        0o120_000 => Some("a symbolic link"),
        _ => Some("a device, FIFO or socket"),
    }
}

impl ZipPack {
    /// Read the archive in `bytes`: at most [`MAX_ARCHIVE_MEMBERS`] members declaring at most
    /// [`MAX_ARCHIVE_BYTES`] in all. A member that is outside the pack, not a regular file,
    /// encrypted, or expands more than [`MAX_COMPRESSION_RATIO`] : 1 is refused (listed in the
    /// problems, never read); the rest are read on demand by [`read`](Self::read).
    ///
    /// Long because each member passes a list of checks, each with its own message.
    pub(crate) fn open(bytes: Vec<u8>) -> Result<(ZipPack, Vec<MemberProblem>), ArchiveError> {
        let headers = bytes
            .windows(CENTRAL_HEADER.len())
            .filter(|w| w == CENTRAL_HEADER)
            .take(MAX_ARCHIVE_MEMBERS + 1)
            .count();
        if headers > MAX_ARCHIVE_MEMBERS {
            return Err(too_many_members());
        }
        let zip =
            ZipArchive::new(Cursor::new(bytes)).map_err(|e| ArchiveError::NotZip(e.to_string()))?;
        if zip.len() > MAX_ARCHIVE_MEMBERS {
            return Err(too_many_members());
        }
        let mut members = HashMap::new();
        let mut order = Vec::new();
        let mut problems = Vec::new();
        let mut total = 0u64;
        for index in 0..zip.len() {
            let entry = zip
                .by_index_data(index)
                .map_err(|e| ArchiveError::NotZip(e.to_string()))?;
            let Ok(name) = entry.name().map(|n| n.into_owned()) else {
                problems.push(MemberProblem {
                    name: String::from_utf8_lossy(entry.name_raw()).into_owned(),
                    rule: "archive member has a name that is not text (UTF-8 or CP437)".into(),
                });
                continue;
            };
            let mut refuse = |rule: String| {
                problems.push(MemberProblem {
                    name: name.clone(),
                    rule,
                })
            };
            if entry.is_dir() && special_kind(entry.unix_mode()).is_none() {
                continue;
            }
            let rel = match relative(&name) {
                Ok(rel) => rel,
                Err(Refusal::Outside(why)) => {
                    refuse(format!(
                        "archive member `{name}` is outside the pack ({why}); a pack names its files relative to its folder"
                    ));
                    continue;
                }
                Err(_) => continue,
            };
            let (size, packed) = (entry.size(), entry.compressed_size());
            total = total.saturating_add(size);
            let refused = if let Some(kind) = special_kind(entry.unix_mode()) {
                refuse(format!(
                    "archive member `{name}` is {kind}, not a regular file; a pack holds regular files only"
                ));
                true
            } else if entry.encrypted() {
                refuse(format!(
                    "archive member `{name}` is encrypted; a pack's files are not"
                ));
                true
            } else if size > COMPRESSION_RATIO_FLOOR
                && size > packed.saturating_mul(MAX_COMPRESSION_RATIO)
            {
                refuse(format!(
                    "archive member `{name}` expands from {packed} to {size} bytes ({}:1); a member over 1 MB may expand at most {MAX_COMPRESSION_RATIO}:1 (MAX_COMPRESSION_RATIO), so it is not read",
                    size / packed.max(1)
                ));
                true
            } else {
                false
            };
            if members.contains_key(&rel) {
                refuse(format!(
                    "archive member `{name}` is in the archive twice; the first is read"
                ));
                continue;
            }
            members.insert(
                rel.clone(),
                Member {
                    index,
                    size,
                    refused,
                },
            );
            order.push(rel);
        }
        if total > MAX_ARCHIVE_BYTES {
            return Err(ArchiveError::Refused(format!(
                "the archive's members declare {total} bytes uncompressed; an archive holds at most {MAX_ARCHIVE_BYTES} (MAX_ARCHIVE_BYTES), so none is read"
            )));
        }
        Ok((
            ZipPack {
                zip,
                members,
                order,
            },
            problems,
        ))
    }

    /// The member `name` names (its index and declared size), or why not ([`Refusal::Reported`]
    /// for one refused at opening).
    pub(crate) fn locate(&self, name: &str) -> Result<(usize, u64), Refusal> {
        let rel = relative(name)?;
        match self.members.get(&rel) {
            None => Err(Refusal::Missing),
            Some(m) if m.refused => Err(Refusal::Reported),
            Some(m) => Ok((m.index, m.size)),
        }
    }

    /// The bytes of the member [`locate`](Self::locate) found, if it holds at most `cap`: refused
    /// unread when its declared size is over `cap`, and refused when it holds more than it declares
    /// (the read stops one byte past the declared size, so a lying header costs nothing).
    pub(crate) fn read(
        &mut self,
        (index, size): (usize, u64),
        cap: u64,
    ) -> Result<Vec<u8>, Refusal> {
        if size > cap {
            return Err(Refusal::TooBig { bytes: Some(size) });
        }
        let file = self
            .zip
            .by_index(index)
            .map_err(|e| Refusal::Archive(format!("archive member cannot be read: {e}")))?;
        let mut bytes = Vec::new();
        file.take(size.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| Refusal::Archive(format!("archive member is damaged: {e}")))?;
        if bytes.len() as u64 > size {
            return Err(Refusal::Archive(format!(
                "archive member holds more than the {size} bytes its entry declares (a zip bomb's trick); it is not read further"
            )));
        }
        Ok(bytes)
    }

    /// Names of the members directly in the archive (not in a folder) ending with `suffix`, sorted.
    pub(crate) fn list(&self, suffix: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .order
            .iter()
            .filter(|n| !n.contains('/') && n.ends_with(suffix))
            .cloned()
            .collect();
        names.sort();
        names
    }
}

/// Open `bytes` as an archive and read every member it indexes with a cap of `cap` bytes: the
/// whole reader on one input with no file system (the entry point for fuzzing). Returns how many
/// members were read whole.
#[allow(
    dead_code,
    reason = "the fuzz target's entry point (issue 17); only the tests call it until that lands"
)]
pub(crate) fn read_all(bytes: Vec<u8>, cap: u64) -> Result<usize, ArchiveError> {
    let (mut zip, _) = ZipPack::open(bytes)?;
    let mut whole = 0;
    for name in zip.order.clone() {
        if let Ok(at) = zip.locate(&name)
            && zip.read(at, cap).is_ok()
        {
            whole += 1;
        }
    }
    Ok(whole)
}

fn too_many_members() -> ArchiveError {
    ArchiveError::Refused(format!(
        "the archive holds more than {MAX_ARCHIVE_MEMBERS} members (MAX_ARCHIVE_MEMBERS); a pack has a few dozen files"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    /// A zip of `(name, bytes, deflated)` members.
    fn zip_of(members: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data, deflate) in members {
            let method = if *deflate {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            w.start_file(
                *name,
                SimpleFileOptions::default().compression_method(method),
            )
            .expect("start");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    #[test]
    fn reads_members_in_memory() {
        let bytes = zip_of(&[("a.webp", b"aaa", false), ("sub/b.txt", b"bb", true)]);
        let (mut z, problems) = ZipPack::open(bytes).expect("open");
        assert!(problems.is_empty(), "{problems:?}");
        let a = z.locate("a.webp").expect("a");
        assert_eq!(z.read(a, 10), Ok(b"aaa".to_vec()));
        assert_eq!(z.read(a, 2), Err(Refusal::TooBig { bytes: Some(3) }));
        let b = z.locate("./sub/x/../b.txt").expect("b");
        assert_eq!(z.read(b, 10), Ok(b"bb".to_vec()));
        assert_eq!(z.locate("c.webp"), Err(Refusal::Missing));
        assert!(matches!(z.locate("/a.webp"), Err(Refusal::Outside(_))));
        assert_eq!(z.list(".webp"), ["a.webp"]);
    }

    #[test]
    fn members_outside_the_pack_and_bombs_are_refused() {
        let zeros = vec![0u8; 4 << 20];
        let bytes = zip_of(&[
            ("../evil.webp", b"x", false),
            ("/etc/evil.webp", b"x", false),
            ("bomb.webp", &zeros, true),
            ("ok.webp", b"ok", false),
        ]);
        let (mut z, problems) = ZipPack::open(bytes).expect("open");
        let rules: Vec<&str> = problems.iter().map(|p| p.rule.as_str()).collect();
        assert_eq!(problems.len(), 3, "{rules:?}");
        assert!(rules[0].contains("outside the pack"), "{rules:?}");
        assert!(rules[1].contains("outside the pack"), "{rules:?}");
        assert!(rules[2].contains("MAX_COMPRESSION_RATIO"), "{rules:?}");
        assert_eq!(z.locate("bomb.webp"), Err(Refusal::Reported));
        let ok = z.locate("ok.webp").expect("ok");
        assert_eq!(z.read(ok, 10), Ok(b"ok".to_vec()));
    }

    /// Patch every declared uncompressed size of the (single) member to `size`.
    fn declare(bytes: &mut [u8], size: u32) {
        let le = size.to_le_bytes();
        let mut at = 0;
        while let Some(off) = bytes[at..].windows(4).position(|w| w == b"PK\x03\x04") {
            let p = at + off;
            bytes[p + 22..p + 26].copy_from_slice(&le);
            at = p + 4;
        }
        let cd = bytes
            .windows(4)
            .position(|w| w == b"PK\x01\x02")
            .expect("central header");
        bytes[cd + 24..cd + 28].copy_from_slice(&le);
    }

    #[test]
    fn a_member_that_lies_about_its_size_is_stopped() {
        let mut bytes = zip_of(&[("a.webp", &[0u8; 100_000], true)]);
        declare(&mut bytes, 1000);
        let (mut z, _) = ZipPack::open(bytes).expect("open");
        let a = z.locate("a.webp").expect("a");
        let Err(Refusal::Archive(why)) = z.read(a, 1 << 20) else {
            panic!("a lying member must be refused");
        };
        assert!(why.contains("declare"), "{why}");
    }

    /// Bit flips and truncations of an archive never panic (a cheap stand-in for the fuzz target).
    #[test]
    fn damaged_archives_never_panic() {
        let zeros = vec![0u8; 2 << 20];
        let good = zip_of(&[
            ("a.webp", b"aaaa", false),
            ("b.json", b"{\"x\": 1}", true),
            ("c.webp", &zeros, true),
        ]);
        assert_eq!(read_all(good.clone(), 1 << 20), Ok(2));
        let mut seed = 0x1234_5678u32;
        for round in 0..2000 {
            let mut bytes = good.clone();
            for _ in 0..1 + round % 6 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let at = seed as usize % bytes.len();
                bytes[at] = (seed >> 8) as u8;
            }
            if round % 5 == 0 {
                bytes.truncate(seed as usize % bytes.len());
            }
            let _ = read_all(bytes, 1 << 20);
        }
    }

    #[test]
    fn too_many_members_or_bytes_refuse_the_archive() {
        let names: Vec<String> = (0..=MAX_ARCHIVE_MEMBERS).map(|i| format!("{i}")).collect();
        let members: Vec<(&str, &[u8], bool)> = names
            .iter()
            .map(|n| (n.as_str(), &b""[..], false))
            .collect();
        let Err(ArchiveError::Refused(why)) = ZipPack::open(zip_of(&members)) else {
            panic!("too many members");
        };
        assert!(why.contains("MAX_ARCHIVE_MEMBERS"), "{why}");

        let mut bytes = zip_of(&[("a.webp", b"a", false)]);
        declare(&mut bytes, u32::MAX);
        let Err(ArchiveError::Refused(why)) = ZipPack::open(bytes) else {
            panic!("too many bytes");
        };
        assert!(why.contains("MAX_ARCHIVE_BYTES"), "{why}");
        assert!(matches!(
            ZipPack::open(b"not a zip".to_vec()),
            Err(ArchiveError::NotZip(_))
        ));
    }
}
