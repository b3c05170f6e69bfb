//! Opening a master track and streaming a frame range out of it, whatever the container and codec.
//!
//! Two backends sit behind [`Source`]: symphonia for everything it decodes, and our own Ogg demuxer with
//! libopus for Ogg Opus, which symphonia 0.6 cannot decode.

use super::ogg_opus_read::OpusSource;
use super::pcm::Speaker;
use super::symphonia_source::SymphoniaSource;
use crate::error::{Error, Result};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Descriptive tags copied from a master.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tags {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
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

/// Work done by one [`Source::stream`] call.
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

/// An open master track.
pub enum Source {
    Symphonia(Box<SymphoniaSource>),
    Opus(Box<OpusSource>),
}

impl Source {
    /// Open `path`, recognising the format from its content (the extension is only a hint).
    pub fn open(path: &Path) -> Result<Source> {
        let meta = std::fs::metadata(path).map_err(|e| Error::read(path, e))?;
        if meta.is_dir() {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                detail: "it is a directory".into(),
            });
        }
        if meta.len() == 0 {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        let source = if is_ogg_opus(path)? {
            Source::Opus(Box::new(OpusSource::open(path)?))
        } else {
            Source::Symphonia(Box::new(SymphoniaSource::open(path)?))
        };
        if source.info().declared_frames == Some(0) {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(source)
    }

    /// What the headers say.
    pub fn info(&self) -> &SourceInfo {
        match self {
            Source::Symphonia(s) => s.info(),
            Source::Opus(s) => s.info(),
        }
    }

    /// The file this source reads.
    pub fn path(&self) -> &Path {
        match self {
            Source::Symphonia(s) => s.path(),
            Source::Opus(s) => s.path(),
        }
    }

    /// Decode frames `start..end` (or `start..` the end of the track) and hand them to `sink` in order.
    ///
    /// Seeks in the container rather than decoding from the beginning where the format allows, then
    /// decodes and discards up to the exact start frame. Call once per opened source.
    pub fn stream(
        &mut self,
        start: u64,
        end: Option<u64>,
        sink: &mut Sink<'_>,
    ) -> Result<StreamStats> {
        match self {
            Source::Symphonia(s) => s.stream(start, end, sink),
            Source::Opus(s) => s.stream(start, end, sink),
        }
    }
}

/// Hand on the part of a decoded chunk that falls inside `[start, end)`. `chunk_first` is the frame
/// index of the chunk's first frame (negative for decoder delay frames). Returns frames delivered.
pub(crate) fn deliver_overlap(
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

/// Ogg files whose first packet is an OpusHead go to the libopus backend.
fn is_ogg_opus(path: &Path) -> Result<bool> {
    let mut head = [0u8; 64];
    let mut f = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(Error::read(path, e)),
        }
    }
    let head = &head[..n];
    if n < 28 || &head[..4] != b"OggS" {
        return Ok(false);
    }
    let segments = usize::from(head[26]);
    let body = 27 + segments;
    Ok(head.len() >= body + 8 && &head[body..body + 8] == b"OpusHead")
}

/// Turn a path into an owned buffer for error messages.
pub(crate) fn owned(path: &Path) -> PathBuf {
    path.to_path_buf()
}
