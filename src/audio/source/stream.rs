//! What every decoding backend shares: the tags and header facts of a master, the chunk sink, the
//! [`Decode`] trait a backend implements, and the helper that trims decoded chunks to a frame range.
//!
//! The backends ([`super::symphonia`], [`super::ogg_opus`]) import from here only, and the dispatcher
//! ([`super::Source`]) imports from them, so the three never import each other in a circle.

use crate::audio::pcm::Speaker;
use crate::error::{Error, Result};
use crate::limits::{
    MAX_AUDIO_SAMPLES, MAX_AUDIO_SECONDS, MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE,
};
use crate::timecode::Timecode;
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

impl SourceInfo {
    /// Longest a master may be, in frames at its rate: [`MAX_AUDIO_SECONDS`], or fewer when its
    /// channels would exceed [`MAX_AUDIO_SAMPLES`] first.
    pub(crate) fn max_frames(&self) -> u64 {
        let channels = self.layout.len().max(1) as u64;
        u64::from(self.rate)
            .saturating_mul(MAX_AUDIO_SECONDS)
            .min(MAX_AUDIO_SAMPLES / channels)
    }

    /// Judge every header fact against the limits: the rate and channel count
    /// ([`check_format`]), the bits per sample, and the declared length against
    /// [`MAX_AUDIO_SECONDS`]. `file_len` (bytes) tells a lying PCM header from a long file.
    pub(crate) fn check(&self, path: &Path, file_len: Option<u64>) -> Result<()> {
        let channels = self.layout.len();
        check_format(path, self.rate, channels)?;
        if let Some(bits) = self.bits_per_sample
            && !(1..=64).contains(&bits)
        {
            return Err(Error::Corrupt {
                path: owned(path),
                detail: format!("{bits} bits per sample; a sample has 1 to 64 bits"),
            });
        }
        let Some(declared) = self.declared_frames else {
            return Ok(());
        };
        if declared <= self.max_frames() {
            return Ok(());
        }
        let said = Timecode::from_frames(declared, self.rate);
        // Uncompressed audio cannot hold more frames than the file has bytes for: such a header lies.
        let frame_bytes =
            u64::from(self.bits_per_sample.unwrap_or(0).div_ceil(8)) * channels as u64;
        if self.codec.starts_with("pcm")
            && frame_bytes > 0
            && let Some(len) = file_len
            && declared > len / frame_bytes
        {
            return Err(Error::Corrupt {
                path: owned(path),
                detail: format!(
                    "the header promises {said} of audio but the file holds at most {}; the file is truncated",
                    Timecode::from_frames(len / frame_bytes, self.rate)
                ),
            });
        }
        Err(too_long(path, Some(said), self))
    }
}

/// Refuse a sample rate or channel count outside the limits: the first thing a backend does with
/// the numbers a header gives, before a decoder, a meter or any arithmetic uses them.
pub(crate) fn check_format(path: &Path, rate: u32, channels: usize) -> Result<()> {
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        return Err(Error::Unsupported {
            path: owned(path),
            detail: format!(
                "sample rate {rate} Hz; we take {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz"
            ),
        });
    }
    if !(1..=MAX_CHANNELS).contains(&channels) {
        return Err(Error::Unsupported {
            path: owned(path),
            detail: format!("{channels} channels; we take 1–{MAX_CHANNELS}"),
        });
    }
    Ok(())
}

/// The refusal of a master longer than [`SourceInfo::max_frames`]: `said` is the length its
/// header gives, `None` when decoding found it.
pub(crate) fn too_long(path: &Path, said: Option<Timecode>, info: &SourceInfo) -> Error {
    let hours = MAX_AUDIO_SECONDS / 3_600;
    let what = match said {
        Some(t) => format!("the header says the audio lasts {t}"),
        None => "the audio goes on past that".to_string(),
    };
    let max = info.max_frames();
    let detail = if max < u64::from(info.rate).saturating_mul(MAX_AUDIO_SECONDS) {
        format!(
            "longer than {} at {} Hz × {} channels ({what}); a master holds at most {} million samples (6 hours of 96 kHz stereo): cut the part you need first",
            Timecode::from_frames(max, info.rate),
            info.rate,
            info.layout.len(),
            MAX_AUDIO_SAMPLES / 1_000_000,
        )
    } else {
        format!(
            "longer than {hours} hours ({what}); masters are limited to {hours} hours: cut the part you need first"
        )
    };
    Error::Refused {
        path: owned(path),
        detail,
    }
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
    let frames = (chunk.len() / channels.max(1)) as i64;
    let chunk_end = chunk_first.saturating_add(frames);
    let lo = to_i64(start).max(chunk_first);
    let hi = end.map_or(chunk_end, |e| to_i64(e).min(chunk_end));
    if hi <= lo {
        return Ok(0);
    }
    let a = ((lo - chunk_first) as usize) * channels;
    let b = ((hi - chunk_first) as usize) * channels;
    sink(&chunk[a..b])?;
    Ok((hi - lo) as u64)
}

/// A frame index as a signed one, saturating (no track comes near `i64::MAX` frames).
pub(super) fn to_i64(frames: u64) -> i64 {
    i64::try_from(frames).unwrap_or(i64::MAX)
}

/// Turn a path into an owned buffer for error messages.
pub(super) fn owned(path: &Path) -> PathBuf {
    path.to_path_buf()
}
