//! The audio track's edit list in MP4/M4A files (`moov/trak/edts/elst`), which says how many priming
//! samples to skip and how long the track really is.
//!
//! Hand-written because symphonia 0.6 parses the edit list but does not apply it, so AAC decodes with
//! its encoder priming (1024+ samples) in front; a full MP4 crate would be a large dependency for
//! reading four boxes.

use crate::limits::open_regular;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// What the edit list of the first sound track says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioEdit {
    /// Samples to skip at the start, in the media timescale.
    pub media_time: u64,
    /// Media timescale (usually the sample rate).
    pub media_timescale: u32,
    /// Presented length, in the movie timescale.
    pub segment_duration: u64,
    /// Movie timescale (ticks per second of `segment_duration`).
    pub movie_timescale: u32,
}

impl AudioEdit {
    /// Priming frames at `rate`.
    pub fn priming_frames(&self, rate: u32) -> u64 {
        scale(self.media_time, rate, self.media_timescale)
    }

    /// Presented length in frames at `rate` (exact when the movie timescale divides evenly).
    pub fn frames(&self, rate: u32) -> u64 {
        scale(self.segment_duration, rate, self.movie_timescale)
    }
}

/// Largest `moov` box read into memory (a long track's sample tables take a few MB).
const MAX_MOOV_BYTES: u64 = 64 << 20;

/// `v` ticks of `from` per second in ticks of `to`, rounded; saturating, and 0 for a timescale of 0.
fn scale(v: u64, to: u32, from: u32) -> u64 {
    let scaled = (u128::from(v) * u128::from(to) + u128::from(from) / 2)
        .checked_div(u128::from(from))
        .unwrap_or(0);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// Read the edit of the first sound track, if the file is MP4 and has one.
pub fn read(path: &Path) -> Option<AudioEdit> {
    read_from(&mut open_regular(path).ok()?)
}

/// Read the edit of the first sound track from any MP4 byte stream (a file, or bytes in memory
/// through a `Cursor`); `None` if it is not MP4 or has no such edit. Reads at most the `moov` box
/// ([`MAX_MOOV_BYTES`]), whatever the box sizes claim.
pub(crate) fn read_from<R: Read + Seek>(f: &mut R) -> Option<AudioEdit> {
    let len = f.seek(SeekFrom::End(0)).ok()?;
    // Find `moov` among the top-level boxes without reading `mdat`.
    let mut pos = 0u64;
    while pos.checked_add(8)? <= len {
        f.seek(SeekFrom::Start(pos)).ok()?;
        let (kind, header, size) = box_header(f, len - pos)?;
        if &kind == b"moov" {
            let body_len = size - header;
            if body_len > MAX_MOOV_BYTES || body_len > len - pos {
                return None;
            }
            let mut moov = vec![0u8; usize::try_from(body_len).ok()?];
            f.read_exact(&mut moov).ok()?;
            return parse_moov(&moov);
        }
        // A box size past the end of the file (or one that would wrap) ends the search.
        pos = pos.checked_add(size)?;
    }
    None
}

/// (type, header length, total size) of the box at the reader's position.
fn box_header<R: Read>(f: &mut R, remaining: u64) -> Option<([u8; 4], u64, u64)> {
    let mut h = [0u8; 8];
    f.read_exact(&mut h).ok()?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let kind = [h[4], h[5], h[6], h[7]];
    let (header, size) = match size32 {
        0 => (8, remaining),
        1 => {
            let mut big = [0u8; 8];
            f.read_exact(&mut big).ok()?;
            (16, u64::from_be_bytes(big))
        }
        n => (8, u64::from(n)),
    };
    (size >= header).then_some((kind, header, size))
}

/// Iterate the child boxes of a box body: (type, body).
fn children(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        if pos + 8 > data.len() {
            return None;
        }
        let size = u32::from_be_bytes(data[pos..pos + 4].try_into().ok()?) as usize;
        let kind: [u8; 4] = data[pos + 4..pos + 8].try_into().ok()?;
        let (header, size) = match size {
            0 => (8, data.len() - pos),
            1 => (
                16,
                usize::try_from(u64::from_be_bytes(
                    data.get(pos + 8..pos + 16)?.try_into().ok()?,
                ))
                .ok()?,
            ),
            n => (8, n),
        };
        if size < header || pos.checked_add(size)? > data.len() {
            return None;
        }
        let body = &data[pos + header..pos + size];
        pos += size;
        Some((kind, body))
    })
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(data).find(|(k, _)| k == kind).map(|(_, b)| b)
}

fn be_u32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

/// Timescale of an `mvhd` or `mdhd` body (same layout up to the timescale).
fn timescale(body: &[u8]) -> Option<u32> {
    match body.first()? {
        1 => be_u32(body, 20),
        _ => be_u32(body, 12),
    }
}

fn parse_moov(moov: &[u8]) -> Option<AudioEdit> {
    let movie_timescale = timescale(child(moov, b"mvhd")?)?;
    for (kind, trak) in children(moov) {
        if &kind != b"trak" {
            continue;
        }
        let Some(mdia) = child(trak, b"mdia") else {
            continue;
        };
        let is_sound = child(mdia, b"hdlr").and_then(|h| h.get(8..12)) == Some(b"soun".as_slice());
        if !is_sound {
            continue;
        }
        let media_timescale = timescale(child(mdia, b"mdhd")?)?;
        let elst = child(child(trak, b"edts")?, b"elst")?;
        let version = *elst.first()?;
        let count = be_u32(elst, 4)? as usize;
        let entry_len = if version == 1 { 20 } else { 12 };
        for i in 0..count {
            let at = 8 + i * entry_len;
            let (segment_duration, media_time) = if version == 1 {
                (be_u64(elst, at)?, be_u64(elst, at + 8)? as i64)
            } else {
                (
                    u64::from(be_u32(elst, at)?),
                    i64::from(be_u32(elst, at + 4)? as i32),
                )
            };
            // media_time −1 is an empty edit (a delay before the track starts); skip it.
            if media_time >= 0 {
                return Some(AudioEdit {
                    media_time: media_time as u64,
                    media_timescale,
                    segment_duration,
                    movie_timescale,
                });
            }
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A box of `kind` around `body`.
    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// `moov` with one sound track whose edit list skips 2112 priming samples at 44.1 kHz and
    /// presents 44100 of them (movie timescale 1000: 1000 ticks).
    fn moov() -> Vec<u8> {
        let mut mvhd = vec![0u8; 12];
        mvhd.extend_from_slice(&1_000u32.to_be_bytes());
        let mut mdhd = vec![0u8; 12];
        mdhd.extend_from_slice(&44_100u32.to_be_bytes());
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(b"soun");
        let mut elst = vec![0u8, 0, 0, 0];
        elst.extend_from_slice(&1u32.to_be_bytes());
        elst.extend_from_slice(&1_000u32.to_be_bytes());
        elst.extend_from_slice(&2_112u32.to_be_bytes());
        elst.extend_from_slice(&[0, 1, 0, 0]);
        let mdia = [mp4_box(b"mdhd", &mdhd), mp4_box(b"hdlr", &hdlr)].concat();
        let trak = [
            mp4_box(b"edts", &mp4_box(b"elst", &elst)),
            mp4_box(b"mdia", &mdia),
        ]
        .concat();
        mp4_box(
            b"moov",
            &[mp4_box(b"mvhd", &mvhd), mp4_box(b"trak", &trak)].concat(),
        )
    }

    #[test]
    fn reads_the_edit_of_the_sound_track() {
        let file = [mp4_box(b"ftyp", b"M4A "), moov()].concat();
        let edit = read_from(&mut Cursor::new(file)).expect("an edit");
        assert_eq!(edit.priming_frames(44_100), 2_112);
        assert_eq!(edit.frames(44_100), 44_100);
        assert_eq!(edit.frames(48_000), 48_000);
    }

    /// Box sizes that overflow a position (a 64-bit size near 2^64, at the top level or inside
    /// `moov`) end the search; they once wrapped around (a hang) or sliced backwards (a panic).
    #[test]
    fn box_sizes_that_overflow_end_the_search() {
        let mut huge = 1u32.to_be_bytes().to_vec();
        huge.extend_from_slice(b"free");
        huge.extend_from_slice(&(u64::MAX - 7).to_be_bytes());
        let file = [mp4_box(b"ftyp", b"M4A "), huge.clone(), moov()].concat();
        assert_eq!(read_from(&mut Cursor::new(file)), None);

        let inner = [huge, mp4_box(b"mvhd", &[0u8; 16])].concat();
        let file = mp4_box(b"moov", &inner);
        assert_eq!(read_from(&mut Cursor::new(file)), None);
        // A moov that claims more than the file holds is not read.
        let mut short = moov();
        short[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(read_from(&mut Cursor::new(short)), None);
    }

    #[test]
    fn zero_timescales_scale_to_zero() {
        assert_eq!(scale(1_000, 48_000, 0), 0);
        assert_eq!(scale(u64::MAX, u32::MAX, 1), u64::MAX);
    }
}
