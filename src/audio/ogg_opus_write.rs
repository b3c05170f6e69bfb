//! Encoding to Ogg Opus per RFC 7845 with libopus (opus crate) and the ogg crate: exact pre-skip from the
//! encoder's look-ahead, end trimming through the last granule position, pages closed about every
//! second, OpusTags on their own page(s), and a stream serial derived from the content so identical
//! inputs give identical bytes.

use super::pcm::Pcm;
use super::vorbis_comment::Comments;
use crate::error::{Error, Result};
use ogg::writing::{PacketWriteEndInfo, PacketWriter};

/// 20 ms frames at 48 kHz.
pub const FRAME_SAMPLES: usize = 960;
/// Packets per Ogg page: one second of audio keeps the muxing delay low (opusinfo warns above ~1 s).
const PACKETS_PER_PAGE: usize = 50;
/// Lowest bitrate libopus accepts, bit/s.
pub const MIN_BITRATE: u32 = 6_000;
/// Highest bitrate libopus accepts, bit/s.
pub const MAX_BITRATE: u32 = 510_000;
/// libopus's recommended output buffer for one packet.
const MAX_PACKET_BYTES: usize = 4_000;

/// How to spend bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusSettings {
    /// Target bitrate, bit/s.
    pub bitrate: u32,
    /// Constrained VBR (used when a byte cap must hold) instead of free VBR.
    pub constrained: bool,
    /// 0..=10.
    pub complexity: i32,
}

/// An encoded Ogg Opus file.
#[derive(Debug, Clone)]
pub struct OggOpus {
    /// The whole file.
    pub bytes: Vec<u8>,
    /// Audio packets written (read by the tests, which check the page layout against it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub packets: usize,
    /// Serial of the logical stream (read by the tests: one clip's serial differs from another's).
    #[cfg_attr(not(test), allow(dead_code))]
    pub serial: u32,
}

/// Encode 48 kHz mono or stereo `pcm` with the given comments (vendor string included).
///
/// Long because the Ogg page layout (header pages, one page a second, the end granule that trims the
/// padding) is one sequence over the encoder's packets; each step is a few lines of it.
pub fn encode(pcm: &Pcm, settings: OpusSettings, comments: &Comments) -> Result<OggOpus> {
    let channels = pcm.channels();
    if pcm.rate != 48_000 || !(1..=2).contains(&channels) {
        return Err(Error::Encode {
            detail: format!(
                "Opus needs 48 kHz mono or stereo, got {} Hz with {channels} channels",
                pcm.rate
            ),
        });
    }
    let fail = |what: &str, e: opus::Error| Error::Encode {
        detail: format!("libopus {what}: {e}"),
    };
    let layout = if channels == 1 {
        opus::Channels::Mono
    } else {
        opus::Channels::Stereo
    };
    let mut enc = opus::Encoder::new(48_000, layout, opus::Application::Audio)
        .map_err(|e| fail("init", e))?;
    enc.set_bitrate(opus::Bitrate::Bits(
        settings.bitrate.clamp(MIN_BITRATE, MAX_BITRATE) as i32,
    ))
    .map_err(|e| fail("bitrate", e))?;
    enc.set_vbr(true).map_err(|e| fail("vbr", e))?;
    enc.set_vbr_constraint(settings.constrained)
        .map_err(|e| fail("vbr constraint", e))?;
    enc.set_complexity(settings.complexity)
        .map_err(|e| fail("complexity", e))?;
    let lookahead = enc.get_lookahead().map_err(|e| fail("lookahead", e))?;
    let pre_skip = u16::try_from(lookahead).map_err(|_| Error::Encode {
        detail: format!("libopus reported an impossible look-ahead of {lookahead} samples"),
    })?;

    // Feed the clip plus pre-skip worth of silence, padded to whole frames, so the decoder can output
    // every real sample after discarding the pre-skip.
    let total = pcm.frames();
    let needed = total + usize::from(pre_skip);
    let n_packets = needed.div_ceil(FRAME_SAMPLES).max(1);
    let mut input = pcm.samples.clone();
    input.resize(n_packets * FRAME_SAMPLES * channels, 0.0);
    let mut packets = Vec::with_capacity(n_packets);
    let mut out = vec![0u8; MAX_PACKET_BYTES];
    for frame in input.chunks_exact(FRAME_SAMPLES * channels) {
        let n = enc
            .encode_float(frame, &mut out)
            .map_err(|e| fail("encode", e))?;
        packets.push(out[..n].to_vec());
    }

    let head = opus_head(channels as u8, pre_skip);
    let tags = comments.to_opus_tags();
    let serial = content_serial(&head, &tags, &packets);
    let mut writer = PacketWriter::new(Vec::with_capacity(
        packets.iter().map(Vec::len).sum::<usize>() + 4096,
    ));
    let io = |e: std::io::Error| Error::Encode {
        detail: format!("Ogg muxing: {e}"),
    };
    writer
        .write_packet(head, serial, PacketWriteEndInfo::EndPage, 0)
        .map_err(io)?;
    writer
        .write_packet(tags, serial, PacketWriteEndInfo::EndPage, 0)
        .map_err(io)?;
    let end_granule = (total + usize::from(pre_skip)) as u64;
    let count = packets.len();
    for (i, p) in packets.into_iter().enumerate() {
        let last = i + 1 == count;
        // Granule positions count 48 kHz samples including the pre-skip; the last one trims the padding.
        let granule = if last {
            end_granule
        } else {
            ((i + 1) * FRAME_SAMPLES) as u64
        };
        let info = if last {
            PacketWriteEndInfo::EndStream
        } else if (i + 1) % PACKETS_PER_PAGE == 0 {
            PacketWriteEndInfo::EndPage
        } else {
            PacketWriteEndInfo::NormalPacket
        };
        writer.write_packet(p, serial, info, granule).map_err(io)?;
    }
    Ok(OggOpus {
        bytes: writer.into_inner(),
        packets: count,
        serial,
    })
}

/// The 19-byte OpusHead for channel mapping family 0 with output gain 0 (gain is applied before encoding).
fn opus_head(channels: u8, pre_skip: u16) -> Vec<u8> {
    let mut h = Vec::with_capacity(19);
    h.extend_from_slice(b"OpusHead");
    h.push(1); // version
    h.push(channels);
    h.extend_from_slice(&pre_skip.to_le_bytes());
    h.extend_from_slice(&48_000u32.to_le_bytes()); // input rate: we always encode 48 kHz
    h.extend_from_slice(&0i16.to_le_bytes()); // output gain
    h.push(0); // mapping family
    h
}

/// A stream serial that depends only on the content (FNV-1a over headers and packets), so rebuilds are
/// byte-identical. Hand-written: eight lines, and a hashing crate would add nothing.
fn content_serial(head: &[u8], tags: &[u8], packets: &[Vec<u8>]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(head);
    eat(tags);
    for p in packets {
        eat(p);
    }
    (h ^ (h >> 32)) as u32
}

/// Bytes of Ogg framing for `packets` audio packets of about `avg_packet` bytes each, plus the two header
/// pages, so a byte budget can be turned into a bitrate before encoding.
pub fn container_overhead(packets: usize, avg_packet: usize, tags_len: usize) -> u64 {
    let pages = packets.div_ceil(PACKETS_PER_PAGE).max(1);
    let lacing_per_packet = avg_packet / 255 + 1;
    let head_page = 27 + 1 + 19;
    let tags_pages = tags_len / (255 * 255) + 1;
    let tags_page = 27 * tags_pages + tags_len / 255 + 1 + tags_len;
    (head_page + tags_page + pages * 27 + packets * lacing_per_packet) as u64
}

/// Number of audio packets a clip of `frames` 48 kHz frames needs with the given pre-skip.
pub fn packet_count(frames: usize, pre_skip: usize) -> usize {
    (frames + pre_skip).div_ceil(FRAME_SAMPLES).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::pcm::Speaker;
    use crate::audio::source::ogg_opus::OpusSource;
    use crate::audio::source::stream::Decode;
    use std::path::Path;

    fn tone(frames: usize) -> Pcm {
        let samples = (0..frames)
            .flat_map(|i| {
                let s = (i as f32 * 0.05).sin() * 0.3;
                [s, s]
            })
            .collect();
        Pcm {
            rate: 48_000,
            layout: Speaker::default_layout(2),
            samples,
        }
    }

    fn settings() -> OpusSettings {
        OpusSettings {
            bitrate: 96_000,
            constrained: false,
            complexity: 10,
        }
    }

    #[test]
    fn decodes_back_to_the_exact_length() {
        for frames in [1, 959, 960, 48_000, 48_017] {
            let enc = encode(&tone(frames), settings(), &Comments::default()).unwrap();
            let mut src = OpusSource::from_bytes(Path::new("mem.ogg"), enc.bytes).unwrap();
            let mut n = 0usize;
            src.stream(0, None, &mut |c| {
                n += c.len() / 2;
                Ok(())
            })
            .unwrap();
            assert_eq!(n, frames, "clip of {frames} frames");
        }
    }

    #[test]
    fn identical_input_gives_identical_bytes() {
        let a = encode(&tone(10_000), settings(), &Comments::default()).unwrap();
        let b = encode(&tone(10_000), settings(), &Comments::default()).unwrap();
        assert_eq!(a.bytes, b.bytes);
        let c = encode(&tone(10_001), settings(), &Comments::default()).unwrap();
        assert_ne!(a.serial, c.serial);
    }

    #[test]
    fn overhead_estimate_matches_real_framing() {
        let pcm = tone(48_000 * 3);
        let comments = Comments {
            vendor: "x".into(),
            entries: vec![],
        };
        let enc = encode(&pcm, settings(), &comments).unwrap();
        let tags_len = comments.to_opus_tags().len();
        // Reconstruct payload size from the pages: total minus framing must be close to our estimate.
        let payload: usize = {
            let mut r = ogg::PacketReader::new(std::io::Cursor::new(enc.bytes.clone()));
            let mut sum = 0;
            while let Some(p) = r.read_packet().unwrap() {
                sum += p.data.len();
            }
            sum
        };
        let real = enc.bytes.len() - payload + 19 + tags_len;
        let audio_payload = payload - 19 - tags_len;
        let est = container_overhead(enc.packets, audio_payload / enc.packets, tags_len) as usize;
        assert!(real.abs_diff(est) <= 8, "real {real} vs estimated {est}");
    }
}
