//! `clip`: cut a range from a master, edit it, normalise it and encode it, with a report of what shipped.

pub mod options;
pub mod range;
pub mod render;

pub use options::{ClipOptions, LoudnessRef, OutputFormat};
pub use range::FrameRange;
pub use render::{EncodingReport, LoudnessReport};

use crate::audio::channels::{self, ChannelMode, ChannelReport};
use crate::audio::fade::apply_fades;
use crate::audio::loudness::Meter;
use crate::audio::pcm::Pcm;
use crate::audio::picture::metadata_block_picture;
use crate::audio::resample::resample;
use crate::audio::source::Source;
use crate::audio::source::stream::{Decode, SourceInfo};
use crate::audio::vorbis_comment::Comments;
use crate::error::{Error, Result, Setting};
use crate::output::{file_label, reserve};
use crate::progress::{Progress, Stage};
use crate::timecode::Timecode;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One clip to make.
#[derive(Debug, Clone)]
pub struct ClipRequest {
    /// The master track.
    pub input: PathBuf,
    /// The clip to write: `.ogg`/`.opus` for Ogg Opus, `.wav` for WAV.
    pub output: PathBuf,
    /// How to cut, edit, normalise and encode it.
    pub options: ClipOptions,
}

impl ClipRequest {
    /// A clip of `input` written to `output` with `options`.
    pub fn new(
        input: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
        options: ClipOptions,
    ) -> Self {
        ClipRequest {
            input: input.into(),
            output: output.into(),
            options,
        }
    }
}

/// Where the clip came from.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RangeReport {
    /// Start of the clip in the master, as a timecode (`MM:SS.mmm`, or `HH:MM:SS.mmm` from an
    /// hour on).
    pub start: String,
    /// End of the clip in the master (exclusive), as a timecode like `start`.
    pub end: String,
    /// First frame of the clip in the master, at `source_rate`.
    pub start_frame: u64,
    /// Frame just after the clip's last one in the master (exclusive), at `source_rate`.
    pub end_frame: u64,
    /// Sample rate of the master in Hz, the rate `start_frame` and `end_frame` count at.
    pub source_rate: u32,
}

/// Everything a clip run produced and measured.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ClipReport {
    /// The master the clip was cut from ([`ClipRequest::input`]).
    pub source: PathBuf,
    /// The clip file written ([`ClipRequest::output`]).
    pub output: PathBuf,
    /// Container of the master, as its short name (`flac`, `wave`, `ogg`, `isomp4`, …).
    pub container: String,
    /// Codec of the master, as its short name (`flac`, `mp3`, `aac`, `opus`, …).
    pub codec: String,
    /// Where in the master the clip was cut.
    pub range: RangeReport,
    /// Output duration in seconds and frames at the output rate.
    pub duration_s: f64,
    /// Output length in frames at `sample_rate`.
    pub frames: u64,
    /// Sample rate of the output file in Hz (always 48000 for Ogg Opus).
    pub sample_rate: u32,
    /// Channel counts in and out, and whether an out-of-phase stereo master fell back to one
    /// channel.
    pub channels: ChannelReport,
    /// Frames the decoder produced to get the clip (shows that seeking skipped the rest of the master).
    pub decoded_frames: u64,
    /// Loudness targets, gain, limiting and what the decoded output measured.
    pub loudness: LoudnessReport,
    /// Format, bitrate and size of the written file.
    pub encoding: EncodingReport,
    /// Notes for the user about what was done differently from what was asked (a silent master,
    /// a missed loudness target, a surround downmix, …); empty when all went as asked.
    pub warnings: Vec<String>,
}

/// A stretch of a master decoded into memory once, to cut one or more clips from (a pack cuts each
/// sticker's range for several platforms from one read of the master).
#[derive(Debug, Clone)]
pub struct DecodedRange {
    pub input: PathBuf,
    pub info: SourceInfo,
    /// The span held in `pcm`, at the master's rate.
    pub range: FrameRange,
    pub pcm: Pcm,
    /// Frames the decoder produced to get the span.
    pub decoded_frames: u64,
}

impl DecodedRange {
    /// Decode the range that `opts` (start, end or duration) asks for.
    pub fn read(input: &Path, opts: &ClipOptions) -> Result<Self> {
        let mut source = Source::open(input)?;
        let info = source.info().clone();
        let range = range::resolve(&info, input, opts)?;
        let (pcm, stats) = range::decode(&mut source, range, range::out_rate(opts))?;
        Ok(DecodedRange {
            input: input.to_path_buf(),
            info,
            range,
            pcm,
            decoded_frames: stats.decoded,
        })
    }

    /// First frame after the decoded span.
    fn end_frame(&self) -> u64 {
        self.range.start_frame + self.pcm.frames() as u64
    }

    /// The frames of `range`, which must lie inside the decoded span.
    fn cut(&self, range: FrameRange) -> Result<Pcm> {
        let end = range.end_frame.unwrap_or(self.end_frame());
        let reaches_end = range.end_frame.is_some() || self.range.end_frame.is_none();
        if range.start_frame < self.range.start_frame || end > self.end_frame() || !reaches_end {
            return Err(Error::range(
                &self.input,
                format!(
                    "{}-{} lies outside the decoded span {}-{}",
                    Timecode::from_frames(range.start_frame, range.rate),
                    Timecode::from_frames(end, range.rate),
                    Timecode::from_frames(self.range.start_frame, range.rate),
                    Timecode::from_frames(self.end_frame(), range.rate)
                ),
            ));
        }
        let ch = self.pcm.channels();
        let from = (range.start_frame - self.range.start_frame) as usize * ch;
        let to = (end - self.range.start_frame) as usize * ch;
        Ok(Pcm {
            rate: self.pcm.rate,
            layout: self.pcm.layout.clone(),
            samples: self.pcm.samples[from..to].to_vec(),
        })
    }
}

/// Make one clip file. Nothing is written unless everything succeeds.
pub fn clip(req: &ClipRequest, progress: &dyn Progress) -> Result<ClipReport> {
    check(req)?;
    // Claim the output before decoding, so a clash with the input is reported before any work.
    reserve(&req.output, &[&req.input])?;
    progress.stage(&file_label(&req.input), Stage::Decode);
    let decoded = DecodedRange::read(&req.input, &req.options)?;
    clip_from(&decoded, req, progress)
}

fn check(req: &ClipRequest) -> Result<OutputFormat> {
    let opts = &req.options;
    opts.validate()?;
    let format = OutputFormat::from_path(&req.output, opts.wav_bits)?;
    if format == OutputFormat::OggOpus && opts.sample_rate.is_some_and(|r| r != 48_000) {
        return Err(Error::setting(
            Setting::SampleRate,
            "Ogg Opus output is always 48000 Hz",
        ));
    }
    Ok(format)
}

/// Make one clip file from a range already decoded (`req.input` must be the file `decoded` came from,
/// and the clip's range must lie inside the decoded span).
pub fn clip_from(
    decoded: &DecodedRange,
    req: &ClipRequest,
    progress: &dyn Progress,
) -> Result<ClipReport> {
    let opts = &req.options;
    let format = check(req)?;
    let out_file = reserve(&req.output, &[&req.input])?;
    let item = file_label(&req.input);
    let info = &decoded.info;
    let range = range::resolve(info, &req.input, opts)?;
    let pcm = decoded.cut(range)?;
    let end_frame = range.start_frame + pcm.frames() as u64;

    let mut warnings = Vec::new();
    if opts.picture.is_some() && format != OutputFormat::OggOpus {
        warnings.push("the picture is embedded in Ogg Opus output only; the WAV has none".into());
    }
    let mode = effective_channel_mode(opts.channels, info.layout.len(), format, &mut warnings);
    let rate = range::out_rate(opts);
    progress.stage(&item, Stage::Resample);
    let (pcm, channel_report) = prepare(pcm, mode, rate, opts)?;
    if let Some(note) = &channel_report.phase_fallback {
        warnings.push(note.clone());
    }

    let master_lufs = match (opts.loudness_lufs, opts.loudness_ref) {
        (Some(_), LoudnessRef::Master) => {
            progress.stage(&item, Stage::Measure);
            master_loudness(&req.input, mode)?
        }
        _ => None,
    };
    let comments = build_comments(info, &req.input, range, end_frame, opts)?;
    let rendered = render::render(&pcm, opts, format, master_lufs, &comments, progress, &item)?;
    warnings.extend(rendered.warnings);
    out_file.commit(&rendered.bytes)?;

    Ok(ClipReport {
        source: req.input.clone(),
        output: req.output.clone(),
        container: info.container.clone(),
        codec: info.codec.clone(),
        range: RangeReport {
            start: Timecode::from_frames(range.start_frame, range.rate).to_string(),
            end: Timecode::from_frames(end_frame, range.rate).to_string(),
            start_frame: range.start_frame,
            end_frame,
            source_rate: range.rate,
        },
        duration_s: pcm_duration(end_frame - range.start_frame, range.rate),
        frames: out_frames(end_frame - range.start_frame, range.rate, rate),
        sample_rate: rate,
        channels: channel_report,
        decoded_frames: decoded.decoded_frames,
        loudness: rendered.loudness,
        encoding: rendered.encoding,
        warnings,
    })
}

fn pcm_duration(frames: u64, rate: u32) -> f64 {
    frames as f64 / f64::from(rate)
}

fn out_frames(frames: u64, from: u32, to: u32) -> u64 {
    let scaled = (u128::from(frames) * u128::from(to) + u128::from(from) / 2)
        .checked_div(u128::from(from))
        .unwrap_or(0);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// Opus carries mono or stereo here: `keep` of a surround master becomes stereo, with a note.
fn effective_channel_mode(
    asked: ChannelMode,
    source_channels: usize,
    format: OutputFormat,
    warnings: &mut Vec<String>,
) -> ChannelMode {
    if format == OutputFormat::OggOpus && asked == ChannelMode::Keep && source_channels > 2 {
        warnings.push(format!(
            "{source_channels}-channel master downmixed to stereo (Ogg Opus output is mono or stereo)"
        ));
        return ChannelMode::Stereo;
    }
    asked
}

/// Channels, rate and fades: the clip as it will be normalised.
pub fn prepare(
    pcm: Pcm,
    mode: ChannelMode,
    rate: u32,
    opts: &ClipOptions,
) -> Result<(Pcm, ChannelReport)> {
    let (pcm, report) = channels::convert(pcm, mode);
    let mut pcm = resample(pcm, rate)?;
    let fade_in = opts.fade_in.to_frames(rate) as usize;
    let fade_out = opts.fade_out.to_frames(rate) as usize;
    apply_fades(&mut pcm, fade_in, fade_out, opts.fade_curve);
    Ok((pcm, report))
}

/// Integrated loudness of the whole master after the same channel conversion as the clip.
fn master_loudness(path: &Path, mode: ChannelMode) -> Result<Option<f64>> {
    let mut source = Source::open(path)?;
    let info = source.info().clone();
    let mut meter: Option<Meter> = None;
    source.stream(0, None, &mut |chunk| {
        let pcm = Pcm {
            rate: info.rate,
            layout: info.layout.clone(),
            samples: chunk.to_vec(),
        };
        let (converted, _) = channels::convert(pcm, mode);
        let meter = match &mut meter {
            Some(m) => m,
            None => meter.insert(Meter::new(path, &converted.layout, converted.rate)?),
        };
        meter.push(&converted.samples);
        Ok(())
    })?;
    Ok(meter.and_then(|m| m.finish().integrated_lufs))
}

/// OpusTags for the clip: tags from the master (or overrides), encoder, source and range, picture.
fn build_comments(
    info: &SourceInfo,
    input: &Path,
    range: FrameRange,
    end_frame: u64,
    opts: &ClipOptions,
) -> Result<Comments> {
    let mut entries = Vec::new();
    let pick = |over: &Option<String>, from: &Option<String>| over.clone().or_else(|| from.clone());
    for (key, value) in [
        ("TITLE", pick(&opts.title, &info.tags.title)),
        ("ARTIST", pick(&opts.artist, &info.tags.artist)),
        ("ALBUM", pick(&opts.album, &info.tags.album)),
        ("ISRC", info.tags.isrc.clone()),
    ] {
        if let Some(v) = value {
            entries.push((key.to_string(), v));
        }
    }
    entries.push(("ENCODER".into(), format!("soundsticker {}", crate::VERSION)));
    if let Some(name) = input.file_name() {
        entries.push(("SOURCE".into(), name.to_string_lossy().into_owned()));
    }
    entries.push((
        "SOURCE_RANGE".into(),
        format!(
            "{}-{}",
            Timecode::from_frames(range.start_frame, range.rate),
            Timecode::from_frames(end_frame, range.rate)
        ),
    ));
    if let Some(pic) = &opts.picture {
        entries.push((
            "METADATA_BLOCK_PICTURE".into(),
            metadata_block_picture(pic)?,
        ));
    }
    Ok(Comments {
        vendor: format!("soundsticker {} ({})", crate::VERSION, opus::version()),
        entries,
    })
}
