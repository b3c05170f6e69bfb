//! What a clip should be: range, edits, loudness and encoding settings, with recommended defaults.

use crate::audio::channels::ChannelMode;
use crate::audio::fade::FadeCurve;
use crate::error::{Error, Result, Setting};
use crate::timecode::Timecode;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Where the normalisation gain is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LoudnessRef {
    /// The clip itself reaches the target.
    #[default]
    Clip,
    /// The whole master is measured and its gain applied to the clip: clips of one track keep their
    /// relative levels.
    Master,
}

display_as_serde_name!(LoudnessRef);

/// The file format written, chosen from the output extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutputFormat {
    /// RFC 7845 Ogg Opus (`.ogg`, `.opus`).
    OggOpus,
    /// PCM WAV (`.wav`) with this many bits per sample (16 or 24).
    Wav {
        /// Bits per sample, 16 or 24 (from [`ClipOptions::wav_bits`]).
        bits: u16,
    },
}

impl OutputFormat {
    /// Pick the format from a path's extension.
    pub fn from_path(path: &Path, wav_bits: u16) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match ext.as_str() {
            "ogg" | "opus" => Ok(OutputFormat::OggOpus),
            "wav" => Ok(OutputFormat::Wav { bits: wav_bits }),
            _ => Err(Error::setting(
                Setting::Output,
                format!(
                    "{}: unknown output type `.{ext}`; use .ogg or .opus (Ogg Opus) or .wav",
                    path.display()
                ),
            )),
        }
    }
}

/// Every setting of a clip. `Default` is the recommended setting.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClipOptions {
    /// First instant of the clip in the master.
    pub start: Timecode,
    /// End instant (exclusive); `None` with no `duration` means the end of the track.
    pub end: Option<Timecode>,
    /// Length, as an alternative to `end`.
    pub duration: Option<Timecode>,
    /// Length of the fade-in at the start of the clip (shrunk with `fade_out` to fit a short
    /// clip). Default: 10 ms.
    pub fade_in: Timecode,
    /// Length of the fade-out at the end of the clip. Default: 50 ms.
    pub fade_out: Timecode,
    /// Shape of both fades. Default: [`FadeCurve::Sine`].
    pub fade_curve: FadeCurve,
    /// Channel count of the output: mono, stereo, or as the master. `Keep` of a surround master
    /// becomes stereo for Ogg Opus, with a warning. Default: [`ChannelMode::Keep`].
    pub channels: ChannelMode,
    /// Integrated loudness target in LUFS; `None` leaves the level alone.
    pub loudness_lufs: Option<f64>,
    /// Whether `loudness_lufs` is reached by the clip itself or by the whole master (keeping clips
    /// of one track at their relative levels). Default: [`LoudnessRef::Clip`].
    pub loudness_ref: LoudnessRef,
    /// True-peak ceiling in dBTP; `None` turns the limiter off.
    pub true_peak_dbtp: Option<f64>,
    /// Output rate for WAV (Opus is always 48 kHz); `None` = 48 kHz.
    pub sample_rate: Option<u32>,
    /// Bits per sample for WAV output.
    pub wav_bits: u16,
    /// Opus bitrate, bit/s; `None` picks 96 kb/s stereo, 64 kb/s mono (or what fits `max_bytes`).
    pub bitrate: Option<u32>,
    /// Hard cap on the output file size.
    pub max_bytes: Option<u64>,
    /// TITLE tag written into the clip (Ogg Opus only; a WAV carries no tags); `None` copies the
    /// master's. Default: `None`.
    pub title: Option<String>,
    /// ARTIST tag written into the clip (Ogg Opus only); `None` copies the master's.
    /// Default: `None`.
    pub artist: Option<String>,
    /// ALBUM tag written into the clip (Ogg Opus only); `None` copies the master's.
    /// Default: `None`.
    pub album: Option<String>,
    /// Cover picture to embed in OpusTags.
    pub picture: Option<PathBuf>,
}

impl Default for ClipOptions {
    fn default() -> Self {
        ClipOptions {
            start: Timecode::default(),
            end: None,
            duration: None,
            fade_in: Timecode::from_millis(10),
            fade_out: Timecode::from_millis(50),
            fade_curve: FadeCurve::default(),
            channels: ChannelMode::Keep,
            loudness_lufs: Some(-16.0),
            loudness_ref: LoudnessRef::Clip,
            true_peak_dbtp: Some(-1.0),
            sample_rate: None,
            wav_bits: 24,
            bitrate: None,
            max_bytes: None,
            title: None,
            artist: None,
            album: None,
            picture: None,
        }
    }
}

impl ClipOptions {
    /// Check values that do not depend on the master.
    pub fn validate(&self) -> Result<()> {
        if self.end.is_some() && self.duration.is_some() {
            return Err(Error::setting(
                Setting::End,
                "give an end or a duration, not both",
            ));
        }
        if let Some(d) = self.duration
            && d.as_nanos() == 0
        {
            return Err(Error::setting(
                Setting::Duration,
                "zero-length clip; give a positive duration",
            ));
        }
        if let Some(l) = self.loudness_lufs
            && !(-70.0..=0.0).contains(&l)
        {
            return Err(Error::setting(
                Setting::Loudness,
                format!("{l} LUFS is outside −70..0"),
            ));
        }
        if let Some(tp) = self.true_peak_dbtp
            && !(-20.0..=0.0).contains(&tp)
        {
            return Err(Error::setting(
                Setting::TruePeak,
                format!("{tp} dBTP is outside −20..0"),
            ));
        }
        if let Some(b) = self.bitrate
            && !(6_000..=510_000).contains(&b)
        {
            return Err(Error::setting(
                Setting::Bitrate,
                format!("{b} bit/s is outside Opus's 6k..510k"),
            ));
        }
        if !matches!(self.wav_bits, 16 | 24) {
            return Err(Error::setting(
                Setting::WavBits,
                "WAV output is 16 or 24 bits",
            ));
        }
        if let Some(r) = self.sample_rate
            && !(8_000..=192_000).contains(&r)
        {
            return Err(Error::setting(
                Setting::SampleRate,
                format!("{r} Hz is outside 8000..192000"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_format_from_extension() {
        assert_eq!(
            OutputFormat::from_path(Path::new("a.OGG"), 24).unwrap(),
            OutputFormat::OggOpus
        );
        assert_eq!(
            OutputFormat::from_path(Path::new("a.wav"), 16).unwrap(),
            OutputFormat::Wav { bits: 16 }
        );
        assert!(OutputFormat::from_path(Path::new("a.mp3"), 16).is_err());
    }

    #[test]
    fn rejects_conflicting_range() {
        let o = ClipOptions {
            end: Some(Timecode::from_millis(10)),
            duration: Some(Timecode::from_millis(10)),
            ..Default::default()
        };
        assert!(o.validate().is_err());
    }
}
