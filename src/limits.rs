//! Every limit on untrusted input, in one place. A file from anywhere (a master, cover art, a
//! manifest, someone else's pack) is checked against these before its numbers are trusted, so any
//! input costs bounded time and memory. `docs/limits.md` lists each with the error a user sees; a
//! unit test keeps the two in step.
//!
//! Also here: [`read_capped`], the one way to read a whole untrusted file (regular files only, never
//! blocking on a FIFO, never reading past a cap).

use std::io::Read;
use std::path::Path;

/// Largest width or height of an image we decode (cover art, or a sticker being validated).
pub const MAX_IMAGE_SIDE: u32 = 16_384;
/// Largest decoded image buffer, in bytes (an 8000×8000 RGBA image is 256 MB). Enforced by the
/// decoder through `image::Limits` before it allocates.
pub const MAX_IMAGE_BYTES: u64 = 320 << 20;
/// Lowest sample rate we take, Hz (telephone audio).
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// Highest sample rate we take, Hz (DXD).
pub const MAX_SAMPLE_RATE: u32 = 384_000;
/// Most channels we take (7.1).
pub const MAX_CHANNELS: usize = 8;
/// Longest audio `probe` and `clip` read, seconds (6 hours: longer than any album or DJ mix master).
pub const MAX_AUDIO_SECONDS: u64 = 6 * 3_600;
/// Most decoded audio one clip holds in memory, bytes of 32-bit samples counted at the higher of
/// the master's rate and the output's (`clip`, `cover`'s clip, each sticker of `build`): 512 MB is
/// 23 minutes of 48 kHz stereo. A clip's stages keep a few copies, so its peak is a few times this.
pub const MAX_CLIP_BYTES: u64 = 512 << 20;
/// Most samples (all channels together) `probe` and `clip` read from one master: 6 hours of
/// 96 kHz stereo, so a small silent file of many hi-res channels cannot cost hours of CPU either
/// (at 384 kHz × 8 channels this allows 22:30 of audio; decoding it all takes about 100 s here).
pub const MAX_AUDIO_SAMPLES: u64 = MAX_AUDIO_SECONDS * 96_000 * 2;
/// Largest picture `clip --picture` embeds, bytes (the Ogg comment carries it base64, in memory).
pub const MAX_PICTURE_BYTES: u64 = 16 << 20;
/// Largest manifest, bytes (a 120-sticker manifest with every field is about 60 KB).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Most stickers in one manifest.
pub const MAX_STICKERS: usize = 1_000;
/// Most keywords (or emoji) on one sticker, before any platform's own, smaller rule.
pub const MAX_KEYWORDS: usize = 64;
/// Longest text field in a manifest, characters (names, titles, keywords).
pub const MAX_TEXT_CHARS: usize = 1_024;
/// Largest `.soundsticker-output` list of an earlier build's output folder read before replacing it
/// (a build of 1000 stickers for every platform lists about 15 000 paths, well under 1 MB).
pub const MAX_OUTPUT_LIST_BYTES: u64 = 4 << 20;
/// Largest JSON file of a pack being validated, bytes (`contents.json`, `meta.json`, …).
pub const MAX_PACK_JSON_BYTES: u64 = 1 << 20;
/// Deepest JSON nesting anywhere (serde_json's own recursion limit is 128).
pub const MAX_JSON_DEPTH: usize = 64;
/// A sticker over this many times its platform's byte cap is reported as too big without being
/// read whole.
pub const OVER_CAP_FACTOR: u64 = 10;
/// Largest file of a pack read whole when no platform cap applies (a tray icon, an unknown file).
pub const MAX_PACK_FILE_BYTES: u64 = 16 << 20;
/// Most members in an archive being validated (a WhatsApp pack has at most 31).
pub const MAX_ARCHIVE_MEMBERS: usize = 1_000;
/// Most uncompressed bytes in all of an archive's members together.
pub const MAX_ARCHIVE_BYTES: u64 = 64 << 20;
/// Highest compression ratio of an archive member over 1 MB (stickers are already compressed;
/// a zip bomb reaches 1000:1).
pub const MAX_COMPRESSION_RATIO: u64 = 100;
/// Size over which an archive member's compression ratio is checked, bytes (small text files such
/// as a JSON of spaces compress further, harmlessly).
pub const COMPRESSION_RATIO_FLOOR: u64 = 1 << 20;
/// Deepest element nesting in a WebM (Matroska files nest about 6 deep).
pub const MAX_EBML_DEPTH: usize = 32;
/// Most frames in an animation being validated (every platform's rule is far below).
pub const MAX_ANIMATION_FRAMES: usize = 100_000;

/// What [`read_capped`] found.
#[derive(Debug)]
pub(crate) enum Capped {
    /// The whole file, at most the cap.
    Whole(Vec<u8>),
    /// The file holds more than the cap; no more than the cap was read.
    Over,
}

/// Read all of the regular file at `path` if it holds at most `cap` bytes. Refuses anything that is
/// not a regular file (a FIFO, a device such as `/dev/zero`, a folder) with `InvalidInput`, without
/// blocking: the file is opened non-blocking and checked on the open handle, so it cannot be
/// swapped between the check and the read.
pub(crate) fn read_capped(path: &Path, cap: u64) -> std::io::Result<Capped> {
    let mut file = open_regular(path)?;
    let mut buf = Vec::new();
    let read = (&mut file)
        .take(cap.saturating_add(1))
        .read_to_end(&mut buf)?;
    if read as u64 > cap {
        return Ok(Capped::Over);
    }
    Ok(Capped::Whole(buf))
}

/// Open `path` for reading if it is a regular file (following symlinks), never blocking on a FIFO.
pub(crate) fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file (a device, FIFO or socket)"
        };
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{kind}; give a regular file"),
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every limit is documented, with its value, in docs/limits.md.
    #[test]
    fn every_limit_is_documented() {
        let doc = include_str!("../docs/limits.md");
        let src = include_str!("limits.rs");
        let mut seen = 0;
        for line in src.lines() {
            let Some(rest) = line.strip_prefix("pub const ") else {
                continue;
            };
            let name = rest.split(':').next().unwrap_or_default();
            assert!(
                doc.contains(&format!("`{name}`")),
                "docs/limits.md does not list {name}"
            );
            seen += 1;
        }
        assert!(seen >= 20, "found only {seen} limits");
    }

    #[test]
    fn refuses_devices_and_fifos_without_blocking() {
        let err = read_capped(Path::new("/dev/zero"), 10).expect_err("a device");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_capped(&fifo, 10).expect_err("a FIFO");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        let err = read_capped(dir.path(), 10).expect_err("a folder");
        assert!(err.to_string().contains("folder"));
    }

    #[test]
    fn stops_at_the_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("f");
        std::fs::write(&f, [7u8; 100]).expect("write");
        assert!(matches!(read_capped(&f, 100), Ok(Capped::Whole(v)) if v.len() == 100));
        assert!(matches!(read_capped(&f, 99), Ok(Capped::Over)));
    }
}
