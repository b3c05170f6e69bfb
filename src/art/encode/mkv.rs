//! A minimal WebM (Matroska) muxer and demuxer for one VP9 video track, with the alpha channel as
//! BlockAdditional 1 (AlphaMode 1), the layout browsers and Telegram read for transparent VP9.
//!
//! Hand-written: the `webm` crate wraps libwebm without its alpha (BlockAdditional) API and writes
//! random UIDs, so its files could be neither transparent nor byte-identical across builds. One track,
//! one cluster and fixed UIDs make this a few dozen lines of EBML.

/// One coded frame, with its optional alpha-plane frame.
pub struct Block<'a> {
    pub time_ms: u32,
    pub key: bool,
    pub data: &'a [u8],
    pub alpha: Option<&'a [u8]>,
}

fn vint_size(n: u64) -> Vec<u8> {
    // Smallest length whose all-ones value is reserved ("unknown"), hence the `- 1`.
    for len in 1..=8u32 {
        if n < (1u64 << (7 * len)) - 1 {
            let marked = n | (1u64 << (7 * len));
            return marked.to_be_bytes()[(8 - len as usize)..].to_vec();
        }
    }
    let mut v = vec![0x01];
    v.extend_from_slice(&n.to_be_bytes()[1..]);
    v
}

fn id_bytes(id: u32) -> Vec<u8> {
    let b = id.to_be_bytes();
    let skip = b.iter().take_while(|&&x| x == 0).count().min(3);
    b[skip..].to_vec()
}

fn element(id: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = id_bytes(id);
    out.extend(vint_size(payload.len() as u64));
    out.extend_from_slice(payload);
    out
}

fn uint(id: u32, v: u64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let skip = b.iter().take_while(|&&x| x == 0).count().min(7);
    element(id, &b[skip..])
}

fn float(id: u32, v: f64) -> Vec<u8> {
    element(id, &v.to_be_bytes())
}

fn string(id: u32, s: &str) -> Vec<u8> {
    element(id, s.as_bytes())
}

fn master(id: u32, children: &[Vec<u8>]) -> Vec<u8> {
    element(id, &children.concat())
}

/// Write a WebM file.
pub fn write(
    width: u32,
    height: u32,
    frame_ms: f64,
    total_ms: u32,
    blocks: &[Block<'_>],
) -> Vec<u8> {
    let has_alpha = blocks.iter().any(|b| b.alpha.is_some());
    let header = master(
        0x1A45_DFA3,
        &[
            uint(0x4286, 1),
            uint(0x42F7, 1),
            uint(0x42F2, 4),
            uint(0x42F3, 8),
            string(0x4282, "webm"),
            uint(0x4287, 4),
            uint(0x4285, 2),
        ],
    );
    let app = format!("soundsticker {}", crate::VERSION);
    let info = master(
        0x1549_A966,
        &[
            uint(0x2A_D7B1, 1_000_000),
            float(0x4489, f64::from(total_ms)),
            string(0x4D80, &app),
            string(0x5741, &app),
        ],
    );
    let mut video = vec![uint(0xB0, u64::from(width)), uint(0xBA, u64::from(height))];
    if has_alpha {
        video.push(uint(0x53C0, 1));
    }
    let mut track = vec![
        uint(0xD7, 1),
        uint(0x73C5, 1),
        uint(0x83, 1),
        uint(0x9C, 0),
        string(0x86, "V_VP9"),
        uint(0x23_E383, (frame_ms * 1_000_000.0).round() as u64),
    ];
    if has_alpha {
        track.push(uint(0x55EE, 1));
    }
    track.push(master(0xE0, &video));
    let tracks = master(0x1654_AE6B, &[master(0xAE, &track)]);
    let mut cluster = vec![uint(0xE7, 0)];
    let mut prev_ms: Option<u32> = None;
    for b in blocks {
        let mut block = vec![0x81];
        block.extend_from_slice(&(b.time_ms.min(i16::MAX as u32) as i16).to_be_bytes());
        match b.alpha {
            None => {
                block.push(if b.key { 0x80 } else { 0x00 });
                block.extend_from_slice(b.data);
                cluster.push(element(0xA3, &block));
            }
            Some(alpha) => {
                block.push(0x00);
                block.extend_from_slice(b.data);
                let more = master(0xA6, &[uint(0xEE, 1), element(0xA5, alpha)]);
                let mut group = vec![element(0xA1, &block), master(0x75A1, &[more])];
                if let (false, Some(p)) = (b.key, prev_ms) {
                    // ReferenceBlock: relative time of the previous frame (negative), marks a non-key frame.
                    let rel = i64::from(p) - i64::from(b.time_ms);
                    group.push(element(0xFB, &rel.to_be_bytes()[6..]));
                }
                cluster.push(master(0xA0, &group));
            }
        }
        prev_ms = Some(b.time_ms);
    }
    let segment = master(0x1853_8067, &[info, tracks, master(0x1F43_B675, &cluster)]);
    [header, segment].concat()
}

/// Read an EBML element header at `pos`: (id, payload start, payload end). An unknown size (all ones,
/// as live muxers write) runs to the end of `data`.
/// The EBML variable-size integer at `pos`: its value without the length marker, its length in
/// bytes, and whether every value bit is set (an element size so written means "unknown").
pub(crate) fn read_vint(data: &[u8], pos: usize) -> Option<(u64, usize, bool)> {
    let first = *data.get(pos)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    // The length marker's own bits are not part of the value (all of the first byte for an 8-byte
    // integer, which ffmpeg writes for the sizes of the Segment and Void elements).
    let first_bits = (0xFFu16 >> len) as u8;
    let mut value = u64::from(first & first_bits);
    let mut all_ones = value == u64::from(first_bits);
    for i in 1..len {
        let byte = *data.get(pos + i)?;
        all_ones &= byte == 0xFF;
        value = (value << 8) | u64::from(byte);
    }
    Some((value, len, all_ones))
}

pub(crate) fn read_element(data: &[u8], pos: usize) -> Option<(u32, usize, usize)> {
    let first = *data.get(pos)?;
    let id_len = first.leading_zeros() as usize + 1;
    if id_len > 4 {
        return None;
    }
    let mut id = 0u32;
    for i in 0..id_len {
        id = (id << 8) | u32::from(*data.get(pos + i)?);
    }
    let p = pos + id_len;
    let (size, size_len, unknown) = read_vint(data, p)?;
    let start = p + size_len;
    let end = if unknown {
        data.len()
    } else {
        start
            .checked_add(usize::try_from(size).ok()?)?
            .min(data.len())
    };
    Some((id, start, end))
}

/// The video frames (data, alpha) of a WebM we wrote, in order.
pub fn read_frames(data: &[u8]) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mut frames = Vec::new();
    walk(data, 0, data.len(), &mut frames);
    frames
}

fn walk(data: &[u8], mut pos: usize, end: usize, out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>) {
    while pos < end {
        let Some((id, s, e)) = read_element(data, pos) else {
            return;
        };
        match id {
            0x1853_8067 | 0x1F43_B675 => walk(data, s, e, out),
            0xA3 if e >= s + 4 => out.push((data[s + 4..e].to_vec(), None)),
            0xA0 => {
                let (mut frame, mut alpha) = (None, None);
                let mut q = s;
                while q < e {
                    let Some((cid, cs, ce)) = read_element(data, q) else {
                        break;
                    };
                    if cid == 0xA1 && ce >= cs + 4 {
                        frame = Some(data[cs + 4..ce].to_vec());
                    } else if cid == 0x75A1 {
                        alpha = find_additional(data, cs, ce);
                    }
                    q = ce;
                }
                if let Some(f) = frame {
                    out.push((f, alpha));
                }
            }
            _ => {}
        }
        pos = e;
    }
}

fn find_additional(data: &[u8], mut pos: usize, end: usize) -> Option<Vec<u8>> {
    while pos < end {
        let (id, s, e) = read_element(data, pos)?;
        if id == 0xA6 {
            return find_additional(data, s, e);
        }
        if id == 0xA5 {
            return Some(data[s..e].to_vec());
        }
        pos = e;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_byte_and_unknown_sizes_are_read() {
        // A Void element with an 8-byte size of 2 (as ffmpeg writes), then one byte of something else.
        let void = [0xEC, 0x01, 0, 0, 0, 0, 0, 0, 2, 0xAA, 0xBB, 0x9F];
        assert_eq!(read_element(&void, 0), Some((0xEC, 9, 11)));
        // A Segment of unknown size (all ones) runs to the end of the data.
        let segment = [
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2,
        ];
        assert_eq!(read_element(&segment, 0), Some((0x1853_8067, 12, 14)));
    }

    #[test]
    fn sizes_use_the_shortest_vint() {
        assert_eq!(vint_size(5), vec![0x85]);
        assert_eq!(vint_size(200), vec![0x40, 200]);
        assert_eq!(id_bytes(0x1A45_DFA3), vec![0x1A, 0x45, 0xDF, 0xA3]);
        assert_eq!(id_bytes(0xA3), vec![0xA3]);
    }

    #[test]
    fn frames_round_trip_with_alpha() {
        let blocks = [
            Block {
                time_ms: 0,
                key: true,
                data: b"one",
                alpha: Some(b"a1"),
            },
            Block {
                time_ms: 33,
                key: false,
                data: b"two",
                alpha: Some(b"a2"),
            },
        ];
        let file = write(16, 16, 33.3, 67, &blocks);
        let frames = read_frames(&file);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].0, b"two");
        assert_eq!(frames[1].1.as_deref(), Some(&b"a2"[..]));
        let plain = [Block {
            time_ms: 0,
            key: true,
            data: b"x",
            alpha: None,
        }];
        assert_eq!(read_frames(&write(16, 16, 33.3, 33, &plain))[0].0, b"x");
    }
}
