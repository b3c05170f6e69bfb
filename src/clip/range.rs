//! Turning timecodes into an exact frame range of a master and decoding just that range.

use super::options::ClipOptions;
use crate::audio::pcm::Pcm;
use crate::audio::source::Source;
use crate::audio::source::stream::{Decode, SourceInfo, StreamStats};
use crate::error::{Error, Result};
use crate::limits::MAX_CLIP_BYTES;
use crate::timecode::Timecode;
use serde::Serialize;
use std::path::Path;

/// A frame range at the master's own rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FrameRange {
    pub start_frame: u64,
    /// Exclusive; `None` until the end of the track.
    pub end_frame: Option<u64>,
    pub rate: u32,
}

/// Resolve `--start` and `--end`/`--duration` against a master's rate and declared length.
pub fn resolve(info: &SourceInfo, path: &Path, opts: &ClipOptions) -> Result<FrameRange> {
    let rate = info.rate;
    let start_frame = opts.start.to_frames(rate);
    let end_frame = match (opts.end, opts.duration) {
        (Some(e), _) => Some(e.to_frames(rate)),
        (None, Some(d)) => Some(start_frame.saturating_add(d.to_frames(rate))),
        (None, None) => None,
    };
    if let Some(e) = end_frame
        && e <= start_frame
    {
        let what = if opts.end.is_some() {
            format!(
                "end {} is not after start {}",
                Timecode::from_frames(e, rate),
                opts.start
            )
        } else {
            "zero-length clip; give a longer duration".to_string()
        };
        return Err(Error::range(path, what));
    }
    if let Some(total) = info.declared_frames {
        let len = Timecode::from_frames(total, rate);
        if start_frame >= total {
            return Err(Error::range(
                path,
                format!(
                    "start {} is beyond the end of the track ({len})",
                    opts.start
                ),
            ));
        }
        if let Some(e) = end_frame
            && e > total
        {
            return Err(Error::range(
                path,
                format!(
                    "end {} is beyond the end of the track ({len}); use an earlier end or a shorter duration",
                    Timecode::from_frames(e, rate)
                ),
            ));
        }
    }
    let range = FrameRange {
        start_frame,
        end_frame,
        rate,
    };
    if let Some(end) = end_frame.or(info.declared_frames)
        && end.saturating_sub(start_frame) > range.max_frames(info, out_rate(opts))
    {
        return Err(too_big(path, info, range, Some(end), out_rate(opts)));
    }
    Ok(range)
}

/// The rate a clip is made at: the one asked for, else 48 kHz.
pub(crate) fn out_rate(opts: &ClipOptions) -> u32 {
    opts.sample_rate.unwrap_or(48_000)
}

impl FrameRange {
    /// Most frames of `info` one clip may hold: [`MAX_CLIP_BYTES`] of 32-bit samples for all its
    /// channels, at the higher of the master's rate and `out_rate` (resampling up makes more).
    pub(crate) fn max_frames(&self, info: &SourceInfo, out_rate: u32) -> u64 {
        let samples = MAX_CLIP_BYTES / 4;
        let channels = info.layout.len().max(1) as u64;
        let rate = u64::from(self.rate.max(1));
        let worst = rate.max(u64::from(out_rate));
        (u128::from(samples) * u128::from(rate) / (u128::from(channels) * u128::from(worst))) as u64
    }
}

/// The refusal of a clip too long to hold in memory (`end` where it is known).
fn too_big(
    path: &Path,
    info: &SourceInfo,
    range: FrameRange,
    end: Option<u64>,
    out_rate: u32,
) -> Error {
    let from = Timecode::from_frames(range.start_frame, range.rate);
    let to = end.map_or("the end of the track".to_string(), |e| {
        Timecode::from_frames(e, range.rate).to_string()
    });
    let most = Timecode::from_frames(range.max_frames(info, out_rate), range.rate);
    Error::range(
        path,
        format!(
            "the clip from {from} to {to} is too long to work on in memory: {} channels at {} Hz \
             allow at most {most} per clip ({} MB of decoded audio); give a shorter duration or an \
             earlier end",
            info.layout.len(),
            info.rate,
            MAX_CLIP_BYTES >> 20
        ),
    )
}

/// Decode the range into memory, made at `out_rate`. Errors when the track turns out shorter than
/// the range, and when it turns out longer than a clip may be ([`FrameRange::max_frames`]).
pub fn decode(source: &mut Source, range: FrameRange, out_rate: u32) -> Result<(Pcm, StreamStats)> {
    let (pcm, stats) = decode_span(source, range, out_rate)?;
    let info = source.info();
    let path = source.path();
    check_span(&pcm, range, info, path)?;
    Ok((pcm, stats))
}

/// Decode what the track holds of the range into memory (less if it ends first), refusing more
/// than a clip made at `out_rate` may hold ([`FrameRange::max_frames`]).
pub(crate) fn decode_span(
    source: &mut Source,
    range: FrameRange,
    out_rate: u32,
) -> Result<(Pcm, StreamStats)> {
    let info = source.info().clone();
    let path = source.path().to_path_buf();
    let mut pcm = Pcm::empty(info.rate, info.layout.clone());
    let channels = info.layout.len().max(1);
    let max_samples = usize::try_from(range.max_frames(&info, out_rate))
        .unwrap_or(usize::MAX)
        .saturating_mul(channels);
    if let Some(e) = range.end_frame {
        let want = usize::try_from(e.saturating_sub(range.start_frame)).unwrap_or(usize::MAX);
        pcm.samples
            .reserve(want.saturating_mul(channels).min(max_samples));
    }
    let stats = source.stream(range.start_frame, range.end_frame, &mut |chunk| {
        // A header that hid the length (or lied about it) is caught here, before memory runs out.
        if pcm.samples.len().saturating_add(chunk.len()) > max_samples {
            return Err(too_big(&path, &info, range, range.end_frame, out_rate));
        }
        pcm.samples.extend_from_slice(chunk);
        Ok(())
    })?;
    Ok((pcm, stats))
}

/// A decoded span that is empty or ends before the range does is an error: the track is shorter
/// than the range (or, when the header promised more, truncated).
fn check_span(pcm: &Pcm, range: FrameRange, info: &SourceInfo, path: &Path) -> Result<()> {
    let got = pcm.frames() as u64;
    let track_len = Timecode::from_frames(range.start_frame + got, info.rate);
    if got == 0 {
        return Err(Error::range(
            path,
            format!(
                "start {} is beyond the end of the audio ({track_len})",
                Timecode::from_frames(range.start_frame, info.rate)
            ),
        ));
    }
    if let Some(e) = range.end_frame
        && range.start_frame + got < e
    {
        if info.declared_frames.is_some_and(|d| d >= e) {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                detail: format!(
                    "audio stops at {track_len} although the header promises more; the file is truncated"
                ),
            });
        }
        return Err(Error::range(
            path,
            format!(
                "end {} is beyond the end of the track ({track_len})",
                Timecode::from_frames(e, info.rate)
            ),
        ));
    }
    Ok(())
}
