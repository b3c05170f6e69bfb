//! `probe`: what a master is (container, codec, format, exact length, tags) and how loud it is.

use crate::audio::loudness::{LoudnessStats, Meter};
use crate::audio::source::Source;
use crate::audio::source::stream::{Decode, Tags};
use crate::error::{Error, Result};
use crate::output::file_label;
use crate::progress::{Progress, Stage};
use crate::timecode::Timecode;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The probe of one file.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ProbeReport {
    /// The file probed.
    pub path: PathBuf,
    /// Container, as its short name (`flac`, `wave`, `ogg`, `isomp4`, …).
    pub container: String,
    /// Codec, as its short name (`flac`, `mp3`, `aac`, `opus`, …).
    pub codec: String,
    /// Decoded sample rate in Hz.
    pub sample_rate: u32,
    /// Number of decoded channels.
    pub channels: usize,
    /// Speaker of each channel in order, as short labels (`FL`, `FR`, `FC`, `LFE`, …; `?` when
    /// unknown).
    pub channel_layout: Vec<&'static str>,
    /// Bits per sample of the coded audio; `None` for formats without one (lossy codecs).
    pub bits_per_sample: Option<u32>,
    /// Exact decoded length in frames (delay and padding removed).
    pub duration_frames: u64,
    /// Exact decoded length in seconds.
    pub duration_s: f64,
    /// `MM:SS.mmm` or `HH:MM:SS.mmm`.
    pub duration: String,
    /// Title, artist, album and ISRC as tagged in the file.
    pub tags: Tags,
    /// Loudness of the whole file: integrated, range, sample and true peak, momentary and
    /// short-term maxima.
    pub loudness: LoudnessStats,
}

/// Decode `path` completely, measuring as it goes (memory stays constant whatever the length).
pub fn probe(path: &Path, progress: &dyn Progress) -> Result<ProbeReport> {
    let item = file_label(path);
    progress.stage(&item, Stage::Measure);
    let mut source = Source::open(path)?;
    let info = source.info().clone();
    let mut meter = Meter::new(&info.layout, info.rate);
    let total = info.declared_frames.unwrap_or(0);
    let channels = info.layout.len();
    let mut done = 0u64;
    let stats = source.stream(0, None, &mut |chunk| {
        meter.push(chunk);
        done += (chunk.len() / channels) as u64;
        progress.advance(done, total);
        Ok(())
    })?;
    if stats.delivered == 0 {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    }
    if let Some(declared) = info.declared_frames
        && stats.delivered < declared
        && declared - stats.delivered > u64::from(info.rate / 10)
    {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            detail: format!(
                "audio stops at {} although the header promises {}; the file is truncated",
                Timecode::from_frames(stats.delivered, info.rate),
                Timecode::from_frames(declared, info.rate)
            ),
        });
    }
    Ok(ProbeReport {
        path: path.to_path_buf(),
        container: info.container,
        codec: info.codec,
        sample_rate: info.rate,
        channels,
        channel_layout: info.layout.iter().map(|s| s.label()).collect(),
        bits_per_sample: info.bits_per_sample,
        duration_frames: stats.delivered,
        duration_s: stats.delivered as f64 / f64::from(info.rate),
        duration: Timecode::from_frames(stats.delivered, info.rate).to_string(),
        tags: info.tags,
        loudness: meter.finish(),
    })
}
