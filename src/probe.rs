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
    progress.stage(&file_label(path), Stage::Measure);
    let source = Source::open(path)?;
    probe_source(path, source, progress)
}

/// [`probe`] a file held in memory (`label` names it in errors and in the report): the entry point
/// for the fuzz targets, which have bytes, not files.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn probe_bytes(
    label: &Path,
    bytes: Vec<u8>,
    progress: &dyn Progress,
) -> Result<ProbeReport> {
    let source = Source::from_bytes(label, bytes)?;
    probe_source(label, source, progress)
}

/// Decode an opened `source` completely, measuring as it goes.
fn probe_source(path: &Path, mut source: Source, progress: &dyn Progress) -> Result<ProbeReport> {
    let info = source.info().clone();
    let mut meter = Meter::new(path, &info.layout, info.rate)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;

    /// A 16-bit mono WAV of `secs` of a 440 Hz tone at 44.1 kHz, in memory.
    fn wav(secs: f64) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = std::io::Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut out, spec).expect("wav writer");
        for i in 0..(secs * 44_100.0) as usize {
            let t = i as f64 / 44_100.0;
            let s = (2.0 * std::f64::consts::PI * 440.0 * t).sin() * 8_000.0;
            w.write_sample(s as i16).expect("sample");
        }
        w.finalize().expect("finish");
        out.into_inner()
    }

    /// The `fmt ` chunk's offset in a WAV.
    fn fmt_at(bytes: &[u8]) -> usize {
        bytes
            .windows(4)
            .position(|w| w == b"fmt ")
            .expect("fmt chunk")
    }

    #[test]
    fn probes_bytes_in_memory() {
        let report = probe_bytes(Path::new("mem.wav"), wav(0.5), &NoProgress).expect("probe");
        assert_eq!(report.duration_frames, 22_050);
        assert_eq!(report.sample_rate, 44_100);
        assert!(report.loudness.integrated_lufs.is_some());
    }

    /// Every sample rate outside 8000..=384000 Hz is refused by name, never reaches the meter.
    #[test]
    fn refuses_rates_outside_the_limits() {
        let good = wav(0.2);
        let at = fmt_at(&good) + 12;
        for rate in [0u32, 1, 7_999, 384_001, u32::MAX] {
            let mut bad = good.clone();
            bad[at..at + 4].copy_from_slice(&rate.to_le_bytes());
            let err = probe_bytes(Path::new("mem.wav"), bad, &NoProgress).expect_err("refused");
            let text = err.to_string();
            assert!(
                text.contains(&format!("sample rate {rate} Hz; we take 8000–384000 Hz")),
                "{rate}: {text}"
            );
            assert_eq!(err.exit_code(), 2);
        }
    }
}
