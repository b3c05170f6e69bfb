//! What every decoding backend shares: the tags and header facts of a master, the chunk sink, the
//! [`Decode`] trait a backend implements, and the helper that trims decoded chunks to a frame range.
//!
//! The backends ([`super::symphonia`], [`super::ogg_opus`]) import from here only, and the dispatcher
//! ([`super::Source`]) imports from them, so the three never import each other in a circle.

use crate::audio::pcm::Speaker;
use crate::error::Result;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Descriptive tags copied from a master.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tags {
    /// Track title (`TITLE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Track artist (`ARTIST`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    /// Album (`ALBUM`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
    /// International Standard Recording Code (`ISRC`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isrc: Option<String>,
}

impl Tags {
    /// Record a tag under its Vorbis-comment style name (TITLE, ARTIST, ALBUM, ISRC); others are ignored.
    pub fn set_by_name(&mut self, name: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        let slot = match name.to_ascii_uppercase().as_str() {
            "TITLE" => &mut self.title,
            "ARTIST" => &mut self.artist,
            "ALBUM" => &mut self.album,
            "ISRC" => &mut self.isrc,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(value.to_string());
        }
    }
}

/// What a master is, as far as its headers tell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceInfo {
    /// Container short name, e.g. `flac`, `wave`, `ogg`, `isomp4`.
    pub container: String,
    /// Codec short name, e.g. `flac`, `mp3`, `aac`, `opus`.
    pub codec: String,
    /// Decoded sample rate in Hz.
    pub rate: u32,
    /// Channel layout of the decoded audio.
    pub layout: Vec<Speaker>,
    /// Bits per sample of the coded audio, when the format has such a thing.
    pub bits_per_sample: Option<u32>,
    /// Playable frames as declared by the container (delay and padding excluded), when it declares them.
    pub declared_frames: Option<u64>,
    /// Title, artist, album, ISRC.
    pub tags: Tags,
}

/// Work done by one [`Decode::stream`] call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Frames handed to the sink.
    pub delivered: u64,
    /// Frames the codec decoded (delivered plus those decoded only to reach the start).
    pub decoded: u64,
    /// True when the stream ended before the requested end (or no end was requested).
    pub hit_end: bool,
}

/// Receives decoded interleaved samples, chunk by chunk.
pub type Sink<'a> = dyn FnMut(&[f32]) -> Result<()> + 'a;

/// A decoding backend: an opened master that can stream a frame range out of itself.
///
/// `Send + Sync` so an open [`super::Source`] can be handed to, or shared with, worker threads, as it
/// could when it was an enum of the two backends.
pub trait Decode: Send + Sync {
    /// What the headers say.
    fn info(&self) -> &SourceInfo;

    /// The file this source reads.
    fn path(&self) -> &Path;

    /// Decode frames `start..end` (or `start..` the end of the track) and hand them to `sink` in order.
    ///
    /// Seeks in the container rather than decoding from the beginning where the format allows, then
    /// decodes and discards up to the exact start frame. Call once per opened source.
    fn stream(&mut self, start: u64, end: Option<u64>, sink: &mut Sink<'_>) -> Result<StreamStats>;
}

/// Hand on the part of a decoded chunk that falls inside `[start, end)`. `chunk_first` is the frame
/// index of the chunk's first frame (negative for decoder delay frames). Returns frames delivered.
pub(super) fn deliver_overlap(
    chunk: &[f32],
    channels: usize,
    chunk_first: i64,
    start: u64,
    end: Option<u64>,
    sink: &mut Sink<'_>,
) -> Result<u64> {
    let frames = (chunk.len() / channels) as i64;
    let lo = (start as i64).max(chunk_first);
    let hi = end.map_or(chunk_first + frames, |e| {
        (e as i64).min(chunk_first + frames)
    });
    if hi <= lo {
        return Ok(0);
    }
    let a = ((lo - chunk_first) as usize) * channels;
    let b = ((hi - chunk_first) as usize) * channels;
    sink(&chunk[a..b])?;
    Ok((hi - lo) as u64)
}

/// Turn a path into an owned buffer for error messages.
pub(super) fn owned(path: &Path) -> PathBuf {
    path.to_path_buf()
}
