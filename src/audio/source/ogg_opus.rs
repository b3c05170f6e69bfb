//! The Ogg Opus backend of [`Source`](super::Source): reading Ogg Opus (RFC 7845) with the ogg crate and
//! libopus, for masters in .opus and for our own output when we re-measure it. Applies pre-skip, output
//! gain and end trimming, so lengths are exact.

use super::stream::{
    Decode, Sink, SourceInfo, StreamStats, Tags, check_format, deliver_overlap, owned, to_i64,
};
use crate::audio::pcm::Speaker;
use crate::audio::vorbis_comment::Comments;
use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Opus always decodes at 48 kHz here.
pub const OPUS_RATE: u32 = 48_000;
/// RFC 7845 §4.6: decode at least 80 ms before a seek target so the decoder converges.
const PREROLL_FRAMES: u64 = 3_840;
/// Largest Opus packet duration (120 ms at 48 kHz), per channel.
const MAX_PACKET_FRAMES: usize = 5_760;

/// The fields of an OpusHead packet we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusHead {
    /// Output channel count.
    pub channels: u8,
    /// Frames (at 48 kHz) to discard from the start of the decoder output.
    pub pre_skip: u16,
    /// Sample rate of the original input, in Hz (informational only).
    pub input_rate: u32,
    /// Output gain, Q7.8 dB.
    pub output_gain_q78: i16,
    /// Channel mapping family (0: mono or stereo; 1: up to 8 channels in Vorbis order).
    pub mapping_family: u8,
}

impl OpusHead {
    /// Parse an OpusHead packet (major version 0); `None` if it is not one.
    pub fn parse(packet: &[u8]) -> Option<OpusHead> {
        if packet.len() < 19 || &packet[..8] != b"OpusHead" || packet[8] >> 4 != 0 {
            return None;
        }
        Some(OpusHead {
            channels: packet[9],
            pre_skip: u16::from_le_bytes([packet[10], packet[11]]),
            input_rate: u32::from_le_bytes([packet[12], packet[13], packet[14], packet[15]]),
            output_gain_q78: i16::from_le_bytes([packet[16], packet[17]]),
            mapping_family: packet[18],
        })
    }
}

/// A readable Ogg Opus stream (file or memory).
trait ReadSeek: Read + Seek + Send + Sync {}
impl<T: Read + Seek + Send + Sync> ReadSeek for T {}

/// An Ogg Opus master.
pub struct OpusSource {
    path: PathBuf,
    info: SourceInfo,
    head: OpusHead,
    reader: ogg::PacketReader<Box<dyn ReadSeek>>,
    serial: u32,
}

impl OpusSource {
    /// Read the OpusHead and OpusTags of an Ogg Opus file opened at `path`.
    pub fn from_file(path: &Path, mut file: File) -> Result<Self> {
        let last_granule = last_page_granule(&mut file).map_err(|e| Error::read(path, e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::read(path, e))?;
        Self::from_reader(path, Box::new(BufReader::new(file)), last_granule)
    }

    /// Read an Ogg Opus file held in memory (`label` names it in errors).
    pub fn from_bytes(label: &Path, bytes: Vec<u8>) -> Result<Self> {
        let mut cur = Cursor::new(bytes);
        let last_granule = last_page_granule(&mut cur).map_err(|e| Error::read(label, e))?;
        cur.set_position(0);
        Self::from_reader(label, Box::new(cur), last_granule)
    }

    fn from_reader(
        path: &Path,
        inner: Box<dyn ReadSeek>,
        last_granule: Option<(u32, u64)>,
    ) -> Result<Self> {
        let corrupt = |detail: &str| Error::Corrupt {
            path: owned(path),
            detail: detail.to_string(),
        };
        let mut reader = ogg::PacketReader::new(inner);
        let first = reader
            .read_packet()
            .map_err(|e| ogg_error(path, e))?
            .ok_or_else(|| corrupt("no Ogg packets"))?;
        let head = OpusHead::parse(&first.data).ok_or_else(|| corrupt("bad OpusHead packet"))?;
        let serial = first.stream_serial();
        // The header's channel count is judged before anything uses it (the rate is always 48 kHz).
        check_format(path, OPUS_RATE, usize::from(head.channels))?;
        if head.mapping_family > 1 {
            return Err(Error::Unsupported {
                path: owned(path),
                detail: format!(
                    "Opus channel mapping family {}; only families 0 and 1 (mono and stereo) are decoded",
                    head.mapping_family
                ),
            });
        }
        if head.channels > 2 {
            return Err(Error::Unsupported {
                path: owned(path),
                detail: format!(
                    "Opus with {} channels; only mono and stereo Opus is decoded",
                    head.channels
                ),
            });
        }
        let tags_packet = reader
            .read_packet()
            .map_err(|e| ogg_error(path, e))?
            .ok_or_else(|| corrupt("OpusTags packet missing"))?;
        let comments = Comments::from_opus_tags(&tags_packet.data)
            .ok_or_else(|| corrupt("bad OpusTags packet"))?;
        let mut tags = Tags::default();
        for (k, v) in &comments.entries {
            tags.set_by_name(k, v);
        }
        let declared_frames = last_granule
            .filter(|(s, _)| *s == serial)
            .map(|(_, g)| g.saturating_sub(u64::from(head.pre_skip)));
        let info = SourceInfo {
            container: "ogg".into(),
            codec: "opus".into(),
            rate: OPUS_RATE,
            layout: Speaker::default_layout(usize::from(head.channels)),
            bits_per_sample: None,
            declared_frames,
            tags,
        };
        Ok(OpusSource {
            path: owned(path),
            info,
            head,
            reader,
            serial,
        })
    }
}

impl Decode for OpusSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Decode frames `start..end` at 48 kHz. Packets ending more than 80 ms before `start` are only
    /// demuxed, never decoded.
    ///
    /// Long because the demuxer's state (decoding or skipping, the pre-skip, the stream serial) is
    /// shared by every page of the loop; splitting it would pass that state around.
    fn stream(&mut self, start: u64, end: Option<u64>, sink: &mut Sink<'_>) -> Result<StreamStats> {
        let channels = usize::from(self.head.channels);
        let opus_channels = if channels == 1 {
            opus::Channels::Mono
        } else {
            opus::Channels::Stereo
        };
        let mut decoder =
            opus::Decoder::new(OPUS_RATE, opus_channels).map_err(|e| Error::Encode {
                detail: format!("libopus decoder: {e}"),
            })?;
        if self.head.output_gain_q78 != 0 {
            decoder
                .set_gain(i32::from(self.head.output_gain_q78))
                .map_err(|e| Error::Encode {
                    detail: format!("libopus gain: {e}"),
                })?;
        }
        let pre_skip = i64::from(self.head.pre_skip);
        let decode_from = to_i64(start.saturating_sub(PREROLL_FRAMES));
        let mut stats = StreamStats::default();
        let mut raw: i64 = 0; // decoder output samples (per channel) so far, pre-skip included
        let mut out = vec![0f32; MAX_PACKET_FRAMES * channels];
        let mut decoding = false;
        loop {
            let packet = match self.reader.read_packet() {
                Ok(Some(p)) => p,
                Ok(None) => {
                    stats.hit_end = true;
                    break;
                }
                Err(e) => return Err(ogg_error(&self.path, e)),
            };
            if packet.stream_serial() != self.serial {
                continue;
            }
            let n = opus::packet::get_nb_samples(&packet.data, OPUS_RATE).map_err(|e| {
                Error::Corrupt {
                    path: self.path.clone(),
                    detail: format!("bad Opus packet: {e}"),
                }
            })?;
            // libopus says at most 120 ms; a larger count would overrun the output buffer.
            let n = n.min(MAX_PACKET_FRAMES) as i64;
            let packet_first = raw - pre_skip;
            raw += n;
            // End trimming (RFC 7845 §4.4): the final page's granule position ends the stream.
            let mut valid = n;
            if packet.last_in_stream() {
                let end_raw = to_i64(packet.absgp_page());
                valid = n.saturating_sub(raw.saturating_sub(end_raw)).clamp(0, n);
            }
            if !decoding && raw - pre_skip <= decode_from {
                continue;
            }
            decoding = true;
            let got = decoder
                .decode_float(&packet.data, &mut out, false)
                .map_err(|e| Error::Corrupt {
                    path: self.path.clone(),
                    detail: format!("bad Opus packet: {e}"),
                })?;
            stats.decoded += got as u64;
            let keep = (valid as usize).min(got) * channels;
            stats.delivered +=
                deliver_overlap(&out[..keep], channels, packet_first, start, end, sink)?;
            if packet.last_in_stream() {
                stats.hit_end = true;
                break;
            }
            if let Some(e) = end
                && raw - pre_skip >= to_i64(e)
            {
                break;
            }
        }
        Ok(stats)
    }
}

/// An Ogg demuxing error, said the way a user can act on it.
fn ogg_error(path: &Path, e: ogg::OggReadError) -> Error {
    let detail = match e {
        ogg::OggReadError::ReadError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends early: an Ogg page is cut off".to_string()
        }
        ogg::OggReadError::ReadError(io) => return Error::read(path, io),
        ogg::OggReadError::HashMismatch(..) => {
            "an Ogg page's checksum does not match its content (damaged data)".to_string()
        }
        other => format!("Ogg: {other}"),
    };
    Error::Corrupt {
        path: owned(path),
        detail,
    }
}

/// The serial and granule position of the last Ogg page, found by scanning the file's tail.
fn last_page_granule<R: Read + Seek>(r: &mut R) -> std::io::Result<Option<(u32, u64)>> {
    let len = r.seek(SeekFrom::End(0))?;
    let tail = len.min(65_536 + 27 + 255);
    r.seek(SeekFrom::Start(len - tail))?;
    let mut buf = vec![0u8; tail as usize];
    r.read_exact(&mut buf)?;
    let mut best = None;
    let mut i = 0;
    while i + 27 <= buf.len() {
        if &buf[i..i + 4] == b"OggS" {
            let granule = u64::from_le_bytes(buf[i + 6..i + 14].try_into().unwrap_or([0; 8]));
            let serial = u32::from_le_bytes(buf[i + 14..i + 18].try_into().unwrap_or([0; 4]));
            if granule != u64::MAX {
                best = Some((serial, granule));
            }
        }
        i += 1;
    }
    Ok(best)
}
