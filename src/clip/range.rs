//! Turning timecodes into an exact frame range of a master and decoding just that range.

use super::options::ClipOptions;
use crate::audio::pcm::Pcm;
use crate::audio::source::Source;
use crate::audio::source::stream::{Decode, SourceInfo, StreamStats};
use crate::error::{Error, Result};
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
    Ok(FrameRange {
        start_frame,
        end_frame,
        rate,
    })
}

/// Decode the range into memory. Errors when the track turns out shorter than the range.
pub fn decode(source: &mut Source, range: FrameRange) -> Result<(Pcm, StreamStats)> {
    let info = source.info().clone();
    let mut pcm = Pcm::empty(info.rate, info.layout.clone());
    if let Some(e) = range.end_frame {
        pcm.samples
            .reserve(((e - range.start_frame) as usize).saturating_mul(info.layout.len()));
    }
    let stats = source.stream(range.start_frame, range.end_frame, &mut |chunk| {
        pcm.samples.extend_from_slice(chunk);
        Ok(())
    })?;
    let path = source.path();
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
    Ok((pcm, stats))
}
