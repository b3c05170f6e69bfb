//! The symphonia backend of [`Source`](super::Source): WAV, AIFF, FLAC, MP3, AAC/ALAC in MP4, Vorbis.

use super::stream::{
    Decode, Sink, SourceInfo, StreamStats, Tags, check_format, deliver_overlap, owned, to_i64,
};
use crate::audio::mp4_edit;
use crate::audio::pcm::Speaker;
use crate::error::{Error, Result};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use symphonia::core::audio::{Channels, Position};
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::{MetadataOptions, StandardTag};
use symphonia::core::units::{TimeBase, Timestamp};

/// Frames decoded before the start after a seek in lossy formats, so the decoder has settled
/// (MP3's bit reservoir and the MDCT overlap of MP3/AAC/Vorbis need a few frames).
const LOSSY_PREROLL_FRAMES: u64 = 8192;

/// A master opened with symphonia.
pub struct SymphoniaSource {
    path: PathBuf,
    info: SourceInfo,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    time_base: Option<TimeBase>,
    lossless: bool,
    /// Frames added to symphonia's positions to get true positions in the track (AAC priming).
    offset: i64,
    /// Where the presented track ends: the decoder delivers encoder padding after it.
    end_limit: Option<u64>,
}

impl SymphoniaSource {
    /// Probe the file opened at `path` with symphonia and open its default audio track.
    pub fn from_file(path: &Path, file: std::fs::File) -> Result<Self> {
        // The edit list is read through a handle of its own: symphonia owns the first one's position.
        let edit = || mp4_edit::read(path);
        Self::from_media(path, Box::new(file), &edit)
    }

    /// Probe a file held in memory (`label` names it in errors) and open its default audio track.
    pub fn from_bytes(label: &Path, bytes: Arc<[u8]>) -> Result<Self> {
        let edit = || mp4_edit::read_from(&mut Cursor::new(&bytes[..]));
        Self::from_media(label, Box::new(Cursor::new(bytes.clone())), &edit)
    }

    /// Probe `media` with symphonia and open its default audio track for decoding; `edit` reads an
    /// MP4's edit list when the container is MP4.
    ///
    /// Long because symphonia's probe, track choice, decoder set-up and the edit lists of MP4 files
    /// each need their own error message; it reads top to bottom as those steps.
    fn from_media(
        path: &Path,
        media: Box<dyn MediaSource>,
        edit: &dyn Fn() -> Option<mp4_edit::AudioEdit>,
    ) -> Result<Self> {
        let mss = MediaSourceStream::new(media, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let mut format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| classify(path, e, "not a recognised audio container"))?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| Error::Unsupported {
                path: owned(path),
                detail: "no audio track".into(),
            })?
            .clone();
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| Error::Unsupported {
                path: owned(path),
                detail: "audio track without codec parameters".into(),
            })?
            .clone();
        // The header's rate and channels are judged before a decoder or anything else uses them.
        let rate = params.sample_rate.ok_or_else(|| Error::Unsupported {
            path: owned(path),
            detail: "unknown sample rate".into(),
        })?;
        let Some(channels) = &params.channels else {
            return Err(Error::Unsupported {
                path: owned(path),
                detail: "unknown channel count".into(),
            });
        };
        check_format(path, rate, channels.count())?;
        let layout = layout_of(channels);
        check_format(path, rate, layout.len())?;
        let registry = symphonia::default::get_codecs();
        let codec_name = registry
            .get_audio_decoder(params.codec)
            .map(|d| d.codec.info.short_name.to_string())
            .unwrap_or_else(|| "unknown".to_string());
        // We place every decoded frame by its packet's timestamp ourselves (frames before 0 are encoder
        // delay, frames past the track length are padding), so the decoder must not trim: trimming
        // shifts the frames away from the packet timestamp, and codecs disagree on how.
        let mut dec_opts = AudioDecoderOptions::default();
        dec_opts.gapless = false;
        let decoder = registry
            .make_audio_decoder(&params, &dec_opts)
            .map_err(|e| classify(path, e, "unsupported audio codec"))?;
        let tags = read_tags(format.as_mut());
        let lossless =
            matches!(codec_name.as_str(), "flac" | "alac") || codec_name.starts_with("pcm");
        let container = format.format_info().short_name.to_string();
        let mut declared_frames = track.num_frames;
        let mut offset = 0i64;
        if container == "isomp4"
            && !lossless
            && let Some(edit) = edit()
        {
            // AAC priming is not trimmed by symphonia: apply the edit list ourselves.
            offset = -to_i64(edit.priming_frames(rate));
            declared_frames = Some(edit.frames(rate));
        }
        let end_limit = declared_frames;
        let info = SourceInfo {
            container,
            codec: codec_name,
            rate,
            layout,
            bits_per_sample: params.bits_per_sample,
            declared_frames,
            tags,
        };
        Ok(SymphoniaSource {
            path: owned(path),
            info,
            format,
            decoder,
            track_id: track.id,
            time_base: track.time_base,
            lossless,
            offset,
            end_limit,
        })
    }

    /// Frames at the decoded rate to the track's timestamp units.
    fn frames_to_ts(&self, frames: u64) -> i64 {
        match self.time_base {
            Some(tb) => {
                let (num, den) = (i128::from(tb.numer.get()), i128::from(tb.denom.get()));
                clamp_i64(i128::from(frames) * den / (num * i128::from(self.info.rate)))
            }
            None => frames as i64,
        }
    }

    fn ts_to_frames(&self, ts: Timestamp) -> i64 {
        let ts = i128::from(ts.get());
        match self.time_base {
            Some(tb) => {
                let (num, den) = (i128::from(tb.numer.get()), i128::from(tb.denom.get()));
                let n = ts * num * i128::from(self.info.rate);
                // Round to nearest: container timebases (e.g. MP4's) may not divide the sample rate.
                clamp_i64((n + den / 2).div_euclid(den))
            }
            None => clamp_i64(ts),
        }
    }
}

impl Decode for SymphoniaSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn stream(&mut self, start: u64, end: Option<u64>, sink: &mut Sink<'_>) -> Result<StreamStats> {
        let mut stats = StreamStats::default();
        let preroll = if self.lossless {
            0
        } else {
            LOSSY_PREROLL_FRAMES
        };
        // Never past the presented track: the decoder delivers encoder padding after it.
        let end = match (end, self.end_limit) {
            (Some(e), Some(limit)) => Some(e.min(limit)),
            (e, limit) => e.or(limit),
        };
        let seek_to = to_i64(start.saturating_sub(preroll))
            .saturating_sub(self.offset)
            .max(0) as u64;
        if seek_to > 0 {
            let ts = Timestamp::from(self.frames_to_ts(seek_to));
            // A failed seek is not fatal: decoding from the current position and discarding still
            // gives the right samples, only slower.
            if self
                .format
                .seek(
                    SeekMode::Accurate,
                    SeekTo::Timestamp {
                        ts,
                        track_id: self.track_id,
                    },
                )
                .is_ok()
            {
                self.decoder.reset();
            }
        }
        let channels = self.info.layout.len();
        let mut buf: Vec<f32> = Vec::new();
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => {
                    stats.hit_end = true;
                    break;
                }
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    stats.hit_end = true;
                    break;
                }
                Err(e) => return Err(classify(&self.path, e, "cannot read the next packet")),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let first = self.ts_to_frames(packet.pts).saturating_add(self.offset);
            let valid = to_i64(packet.dur.get());
            if let Some(e) = end
                && first >= to_i64(e)
            {
                break;
            }
            // Lossless packets wholly before the start need no decoding at all.
            if self.lossless && first.saturating_add(valid) <= to_i64(start) && valid > 0 {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymError::DecodeError(msg)) => {
                    return Err(Error::Corrupt {
                        path: self.path.clone(),
                        detail: msg.to_string(),
                    });
                }
                Err(e) => return Err(classify(&self.path, e, "decoding failed")),
            };
            let got = decoded.frames() as u64;
            // A packet may not change the channel count the header gave (a damaged FLAC frame
            // header can): its samples would be interleaved wrongly.
            let packet_channels = decoded.spec().channels().count();
            if packet_channels != channels {
                return Err(Error::Corrupt {
                    path: self.path.clone(),
                    detail: format!(
                        "a packet holds {packet_channels} channels although the header says {channels}"
                    ),
                });
            }
            decoded.copy_to_vec_interleaved(&mut buf);
            stats.decoded += got;
            let chunk = &buf[..];
            stats.delivered += deliver_overlap(chunk, channels, first, start, end, sink)?;
            if let Some(e) = end
                && first.saturating_add((chunk.len() / channels) as i64) >= to_i64(e)
            {
                break;
            }
        }
        Ok(stats)
    }
}

/// An `i128` position as an `i64`, saturating (a hostile timestamp must not wrap around).
fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// Map a symphonia error to ours, with `context` used when the error says nothing useful.
fn classify(path: &Path, err: SymError, context: &str) -> Error {
    match err {
        SymError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Error::Corrupt {
            path: owned(path),
            detail: "the file ends early".into(),
        },
        SymError::IoError(e) => Error::read(path, e),
        SymError::Unsupported(what) => Error::Unsupported {
            path: owned(path),
            detail: format!("{context}: {what}"),
        },
        SymError::DecodeError(what) => Error::Corrupt {
            path: owned(path),
            detail: what.to_string(),
        },
        other => Error::Corrupt {
            path: owned(path),
            detail: format!("{context}: {other}"),
        },
    }
}

fn layout_of(ch: &Channels) -> Vec<Speaker> {
    match ch {
        Channels::Positioned(pos) => {
            let mut out = Vec::new();
            for bit in 0..64 {
                let Some(p) = Position::from_bits(1u64 << bit) else {
                    continue;
                };
                if pos.contains(p) {
                    out.push(speaker_of(p));
                }
            }
            out
        }
        other => Speaker::default_layout(other.count()),
    }
}

fn speaker_of(p: Position) -> Speaker {
    if p == Position::FRONT_LEFT {
        Speaker::FrontLeft
    } else if p == Position::FRONT_RIGHT {
        Speaker::FrontRight
    } else if p == Position::FRONT_CENTER {
        Speaker::FrontCenter
    } else if p == Position::LFE1 || p == Position::LFE2 {
        Speaker::Lfe
    } else if p == Position::REAR_LEFT {
        Speaker::RearLeft
    } else if p == Position::REAR_RIGHT {
        Speaker::RearRight
    } else if p == Position::SIDE_LEFT {
        Speaker::SideLeft
    } else if p == Position::SIDE_RIGHT {
        Speaker::SideRight
    } else if p == Position::REAR_CENTER {
        Speaker::RearCenter
    } else {
        Speaker::Other
    }
}

fn read_tags(format: &mut dyn FormatReader) -> Tags {
    let mut tags = Tags::default();
    let mut meta = format.metadata();
    let Some(rev) = meta.skip_to_latest() else {
        return tags;
    };
    let all = rev
        .media
        .tags
        .iter()
        .chain(rev.per_track.iter().flat_map(|t| t.metadata.tags.iter()));
    for tag in all {
        match &tag.std {
            Some(StandardTag::TrackTitle(v)) => tags.set_by_name("TITLE", v),
            Some(StandardTag::Artist(v)) => tags.set_by_name("ARTIST", v),
            Some(StandardTag::Album(v)) => tags.set_by_name("ALBUM", v),
            Some(StandardTag::IdentIsrc(v)) => tags.set_by_name("ISRC", v),
            _ => {}
        }
    }
    tags
}
