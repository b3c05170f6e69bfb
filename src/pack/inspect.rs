//! What a sticker file is, read from its own bytes: format, size, frames and timing. Used by the
//! validator on any pack, ours or anyone's. Container headers are walked by hand (RIFF, PNG chunks,
//! EBML): only a few fields are needed, and decoding whole animations would be slow for large packs.

use crate::art::encode::mkv::{read_element, read_vint};
use crate::platform::ImageKind;

/// The facts the platform rules are about.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFacts {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
    pub frames: usize,
    /// Sum of frame durations, ms (0 for a still image).
    pub duration_ms: u32,
    /// Shortest frame duration, ms (0 for a still image).
    pub min_frame_ms: u32,
    /// WebM: an audio track is present.
    pub has_audio: bool,
    /// WebM: the video codec ID, e.g. `V_VP9`.
    pub codec: Option<String>,
    /// Indexed colour: a PNG of colour type 3, and every GIF.
    pub palette: bool,
}

impl ImageFacts {
    /// Facts of a still image of `kind` with no size known yet.
    fn empty(kind: ImageKind) -> Self {
        ImageFacts {
            kind,
            width: 0,
            height: 0,
            frames: 1,
            duration_ms: 0,
            min_frame_ms: 0,
            has_audio: false,
            codec: None,
            palette: false,
        }
    }
}

fn le24(b: &[u8]) -> u32 {
    u32::from(b[0]) | (u32::from(b[1]) << 8) | (u32::from(b[2]) << 16)
}

/// Inspect WebP, PNG/APNG, GIF or WebM bytes; `None` if the format is not recognised or truncated.
pub fn inspect(bytes: &[u8]) -> Option<ImageFacts> {
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return webp(bytes);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return png(bytes);
    }
    if bytes.starts_with(b"GIF8") {
        return gif(bytes);
    }
    if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return webm(bytes);
    }
    None
}

fn webp(b: &[u8]) -> Option<ImageFacts> {
    let mut facts = ImageFacts::empty(ImageKind::Webp);
    facts.frames = 0;
    let mut pos = 12;
    let mut min = u32::MAX;
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let size = u32::from_le_bytes(b[pos + 4..pos + 8].try_into().ok()?) as usize;
        let body = b.get(pos + 8..pos + 8 + size)?;
        match id {
            b"VP8X" if body.len() >= 10 => {
                facts.width = le24(&body[4..7]) + 1;
                facts.height = le24(&body[7..10]) + 1;
            }
            b"ANMF" if body.len() >= 16 => {
                let d = le24(&body[12..15]);
                facts.frames += 1;
                facts.duration_ms += d;
                min = min.min(d);
            }
            b"VP8 " if body.len() >= 10 && facts.width == 0 => {
                facts.width = u32::from(u16::from_le_bytes([body[6], body[7]]) & 0x3FFF);
                facts.height = u32::from(u16::from_le_bytes([body[8], body[9]]) & 0x3FFF);
            }
            b"VP8L" if body.len() >= 5 && facts.width == 0 => {
                let bits = u32::from_le_bytes(body[1..5].try_into().ok()?);
                facts.width = (bits & 0x3FFF) + 1;
                facts.height = ((bits >> 14) & 0x3FFF) + 1;
            }
            _ => {}
        }
        pos += 8 + size + (size & 1);
    }
    if facts.frames == 0 {
        facts.frames = 1;
    } else {
        facts.min_frame_ms = min;
    }
    (facts.width > 0).then_some(facts)
}

fn png(b: &[u8]) -> Option<ImageFacts> {
    let mut facts = ImageFacts::empty(ImageKind::Png);
    let mut pos = 8;
    let mut fctl = 0usize;
    let mut total_ms = 0f64;
    let mut min = f64::MAX;
    while pos + 8 <= b.len() {
        let len = u32::from_be_bytes(b[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &b[pos + 4..pos + 8];
        let body = b.get(pos + 8..pos + 8 + len)?;
        match kind {
            b"IHDR" if body.len() >= 10 => {
                facts.width = u32::from_be_bytes(body[0..4].try_into().ok()?);
                facts.height = u32::from_be_bytes(body[4..8].try_into().ok()?);
                facts.palette = body[9] == 3;
            }
            b"fcTL" if body.len() >= 24 => {
                fctl += 1;
                let num = f64::from(u16::from_be_bytes([body[20], body[21]]));
                let den = match u16::from_be_bytes([body[22], body[23]]) {
                    0 => 100.0,
                    d => f64::from(d),
                };
                let ms = num * 1000.0 / den;
                total_ms += ms;
                min = min.min(ms);
            }
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + len;
    }
    if fctl > 0 {
        facts.frames = fctl;
        facts.duration_ms = total_ms.round() as u32;
        facts.min_frame_ms = min.round() as u32;
    }
    (facts.width > 0).then_some(facts)
}

fn gif(b: &[u8]) -> Option<ImageFacts> {
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    let mut dec = opts.read_info(std::io::Cursor::new(b)).ok()?;
    let (width, height) = (u32::from(dec.width()), u32::from(dec.height()));
    let (mut frames, mut total, mut min) = (0usize, 0u32, u32::MAX);
    while let Ok(Some(f)) = dec.next_frame_info() {
        let d = u32::from(f.delay) * 10;
        frames += 1;
        total += d;
        min = min.min(d);
    }
    Some(ImageFacts {
        kind: ImageKind::Gif,
        width,
        height,
        frames,
        duration_ms: if frames > 1 { total } else { 0 },
        min_frame_ms: if frames > 1 { min } else { 0 },
        has_audio: false,
        codec: None,
        palette: true,
    })
}

fn uint(d: &[u8]) -> u64 {
    d.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b))
}

/// One TrackEntry's fields.
#[derive(Default)]
struct Track {
    number: u64,
    kind: u64,
    default_ns: u64,
    codec: String,
    width: u32,
    height: u32,
    blocks: usize,
}

fn webm(b: &[u8]) -> Option<ImageFacts> {
    let mut scale_ns = 1_000_000f64;
    let mut duration_units = 0f64;
    let mut tracks: Vec<Track> = Vec::new();
    // Blocks by track number (a SimpleBlock or Block starts with its track number as a vint).
    let mut blocks: Vec<u64> = Vec::new();
    walk(b, 0, b.len(), &mut |id, body| {
        let track = tracks.last_mut();
        match (id, track) {
            (0x2A_D7B1, _) => scale_ns = uint(body) as f64,
            (0x4489, _) => {
                duration_units = match body.len() {
                    4 => f64::from(f32::from_be_bytes(body.try_into().unwrap_or([0; 4]))),
                    8 => f64::from_be_bytes(body.try_into().unwrap_or([0; 8])),
                    _ => 0.0,
                }
            }
            (0xAE, _) => tracks.push(Track::default()),
            (0xD7, Some(t)) => t.number = uint(body),
            (0x83, Some(t)) => t.kind = uint(body),
            (0x86, Some(t)) => t.codec = String::from_utf8_lossy(body).into_owned(),
            (0xB0, Some(t)) => t.width = uint(body) as u32,
            (0xBA, Some(t)) => t.height = uint(body) as u32,
            (0x23_E383, Some(t)) => t.default_ns = uint(body),
            (0xA3 | 0xA1, _) => blocks.extend(read_vint(body, 0).map(|(number, ..)| number)),
            _ => {}
        }
    });
    for t in &mut tracks {
        t.blocks = blocks.iter().filter(|&&n| n == t.number).count();
    }
    // The video track: type 1, else the first with a picture size.
    let video = tracks
        .iter()
        .find(|t| t.kind == 1)
        .or_else(|| tracks.iter().find(|t| t.width > 0))?;
    let mut facts = ImageFacts::empty(ImageKind::Webm);
    facts.width = video.width;
    facts.height = video.height;
    facts.frames = video.blocks;
    facts.codec = video.codec.starts_with("V_").then(|| video.codec.clone());
    facts.has_audio = tracks.iter().any(|t| t.kind == 2);
    facts.duration_ms = (duration_units * scale_ns / 1_000_000.0).round() as u32;
    facts.min_frame_ms = (video.default_ns / 1_000_000) as u32;
    (facts.width > 0).then_some(facts)
}

/// Visit every element, descending into the masters that hold what we read.
fn walk(d: &[u8], mut pos: usize, end: usize, visit: &mut dyn FnMut(u32, &[u8])) {
    const MASTERS: [u32; 8] = [
        0x1853_8067,
        0x1549_A966,
        0x1654_AE6B,
        0xAE,
        0xE0,
        0x1F43_B675,
        0xA0,
        0x75A1,
    ];
    while pos < end {
        let Some((id, s, e)) = read_element(d, pos) else {
            return;
        };
        if MASTERS.contains(&id) {
            // Masters are announced before their children (a TrackEntry starts a new track).
            visit(id, &[]);
            walk(d, s, e, visit);
        } else if id != 0xA1 || s < e {
            visit(id, &d[s..e]);
        }
        if e <= pos {
            return;
        }
        pos = e;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::art::encode::{Animation, apng, gif as gif_enc, webm as webm_enc, webp as webp_enc};
    use image::{Rgba, RgbaImage};

    fn anim() -> Animation {
        let frames = (0..6)
            .map(|i| RgbaImage::from_pixel(64, 64, Rgba([i * 40, 100, 200, 255])))
            .collect();
        Animation::at_fps(frames, 20.0)
    }

    #[test]
    fn reads_our_own_files() {
        let a = anim();
        let w = inspect(&webp_enc::encode(&a, webp_enc::WebpSettings::default()).expect("webp"))
            .expect("facts");
        assert_eq!(
            (w.kind, w.width, w.height, w.frames, w.duration_ms),
            (ImageKind::Webp, 64, 64, 6, 300)
        );
        let p = inspect(&apng::encode(&a, 100.0, 4, apng::Mode::Truecolour).expect("apng"))
            .expect("facts");
        assert_eq!(
            (p.width, p.frames, p.duration_ms, p.min_frame_ms),
            (64, 6, 300, 50)
        );
        let g = inspect(&gif_enc::encode(&a, 80.0).expect("gif")).expect("facts");
        assert_eq!((g.width, g.frames, g.duration_ms), (64, 6, 300));
        let m = inspect(&webm_enc::encode(&a, 60.0, 4).expect("webm")).expect("facts");
        assert_eq!(
            (m.width, m.height, m.frames, m.duration_ms, m.has_audio),
            (64, 64, 6, 300, false)
        );
        assert_eq!(m.codec.as_deref(), Some("V_VP9"));
        assert!(inspect(b"not an image").is_none());
    }
}
