//! What a sticker file is, read from its own bytes: format, size, frames and timing. Used by the
//! validator on any pack, ours or anyone's. Container headers are walked by hand (RIFF, PNG chunks,
//! EBML): only a few fields are needed, and decoding whole animations would be slow for large packs.
//!
//! Every parser here takes bytes only (no file system), so each can be fuzzed alone: [`inspect`],
//! [`webp`], [`png`], [`gif`] and [`webm`]. None of them panics, recurses or allocates by a number the
//! file claims: sums of durations are `u64` and saturate, frames stop at
//! [`MAX_ANIMATION_FRAMES`](crate::limits::MAX_ANIMATION_FRAMES), and the EBML walk is a loop with
//! an explicit stack no deeper than [`MAX_EBML_DEPTH`](crate::limits::MAX_EBML_DEPTH).

use crate::art::encode::mkv::{read_element, read_vint};
use crate::limits::{MAX_ANIMATION_FRAMES, MAX_EBML_DEPTH};
use crate::platform::ImageKind;

/// The facts the platform rules are about.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFacts {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
    pub frames: usize,
    /// Sum of frame durations, ms (0 for a still image).
    pub duration_ms: u64,
    /// Shortest frame duration, ms (0 for a still image).
    pub min_frame_ms: u64,
    /// WebM: an audio track is present.
    pub has_audio: bool,
    /// WebM: the video codec ID, e.g. `V_VP9` (at most [`MAX_CODEC_CHARS`] characters kept).
    pub codec: Option<String>,
    /// Indexed colour: a PNG of colour type 3, and every GIF.
    pub palette: bool,
}

/// Why the inspector gives no facts.
#[derive(Debug, Clone, PartialEq)]
pub enum Unfit {
    /// Not a WebP, PNG/APNG, GIF or WebM, or too truncated to find its size.
    Unrecognised,
    /// The file breaks a limit on untrusted input, or holds a value no real file has; the text
    /// says which (it follows the file's name in a violation).
    Refused(String),
}

/// Longest codec ID kept from a WebM (real ones are a few characters: `V_VP9`).
const MAX_CODEC_CHARS: usize = 32;

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

/// Frame durations as they are read: a count that stops at [`MAX_ANIMATION_FRAMES`], a saturating
/// sum and the shortest.
#[derive(Debug)]
struct Timing {
    frames: usize,
    total_ms: u64,
    min_ms: u64,
}

impl Timing {
    fn new() -> Self {
        Timing {
            frames: 0,
            total_ms: 0,
            min_ms: u64::MAX,
        }
    }

    /// One more frame of `ms` milliseconds.
    fn add(&mut self, ms: u64) -> Result<(), Unfit> {
        count_frame(&mut self.frames)?;
        self.total_ms = self.total_ms.saturating_add(ms);
        self.min_ms = self.min_ms.min(ms);
        Ok(())
    }

    /// Write the timing of an animation (two frames or more) into `facts`; a single frame is a
    /// still image, whose timing stays 0.
    fn apply(&self, facts: &mut ImageFacts) {
        facts.frames = self.frames.max(1);
        if self.frames > 1 {
            facts.duration_ms = self.total_ms;
            facts.min_frame_ms = self.min_ms;
        }
    }
}

/// Count one more frame, refusing more than [`MAX_ANIMATION_FRAMES`].
fn count_frame(frames: &mut usize) -> Result<(), Unfit> {
    if *frames >= MAX_ANIMATION_FRAMES {
        return Err(too_many_frames());
    }
    *frames += 1;
    Ok(())
}

fn too_many_frames() -> Unfit {
    Unfit::Refused(format!(
        "has more than {MAX_ANIMATION_FRAMES} frames (MAX_ANIMATION_FRAMES); no platform takes nearly so many"
    ))
}

fn le24(b: &[u8]) -> u32 {
    match b {
        [a, b, c, ..] => u32::from(*a) | (u32::from(*b) << 8) | (u32::from(*c) << 16),
        _ => 0,
    }
}

/// The `len` bytes at `pos`, if the data holds them.
fn slice(b: &[u8], pos: usize, len: usize) -> Option<&[u8]> {
    b.get(pos..pos.checked_add(len)?)
}

fn be32(b: &[u8], pos: usize) -> Option<u32> {
    Some(u32::from_be_bytes(slice(b, pos, 4)?.try_into().ok()?))
}

fn le32(b: &[u8], pos: usize) -> Option<u32> {
    Some(u32::from_le_bytes(slice(b, pos, 4)?.try_into().ok()?))
}

/// Inspect WebP, PNG/APNG, GIF or WebM bytes.
pub fn inspect(bytes: &[u8]) -> Result<ImageFacts, Unfit> {
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
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
    Err(Unfit::Unrecognised)
}

/// A WebP (RIFF): the canvas from VP8X (or the VP8/VP8L bitstream), frames and timing from ANMF.
pub fn webp(b: &[u8]) -> Result<ImageFacts, Unfit> {
    let mut facts = ImageFacts::empty(ImageKind::Webp);
    let mut timing = Timing::new();
    let mut pos = 12usize;
    while let Some(header) = slice(b, pos, 8) {
        let id = &header[..4];
        let size = le32(header, 4).map_or(0, |s| s as usize);
        let Some(body) = slice(b, pos + 8, size) else {
            break;
        };
        match id {
            b"VP8X" if body.len() >= 10 => {
                facts.width = le24(&body[4..7]) + 1;
                facts.height = le24(&body[7..10]) + 1;
            }
            b"ANMF" if body.len() >= 16 => timing.add(u64::from(le24(&body[12..15])))?,
            b"VP8 " if body.len() >= 10 && facts.width == 0 => {
                facts.width = u32::from(u16::from_le_bytes([body[6], body[7]]) & 0x3FFF);
                facts.height = u32::from(u16::from_le_bytes([body[8], body[9]]) & 0x3FFF);
            }
            b"VP8L" if body.len() >= 5 && facts.width == 0 => {
                let bits = le32(body, 1).unwrap_or(0);
                facts.width = (bits & 0x3FFF) + 1;
                facts.height = ((bits >> 14) & 0x3FFF) + 1;
            }
            _ => {}
        }
        // Chunks are padded to an even size; a size near usize::MAX cannot wrap.
        let Some(next) = (pos + 8).checked_add(size + (size & 1)) else {
            break;
        };
        pos = next;
    }
    timing.apply(&mut facts);
    sized(facts)
}

/// Facts with a known picture size; else the file is not one we recognise.
fn sized(facts: ImageFacts) -> Result<ImageFacts, Unfit> {
    if facts.width > 0 {
        Ok(facts)
    } else {
        Err(Unfit::Unrecognised)
    }
}

/// A PNG: its size and colour type from IHDR, frames and timing from the APNG fcTL chunks.
pub fn png(b: &[u8]) -> Result<ImageFacts, Unfit> {
    let mut facts = ImageFacts::empty(ImageKind::Png);
    let mut pos = 8usize;
    let mut frames = 0usize;
    // Sums in f64 are exact here: at most MAX_ANIMATION_FRAMES frames of at most 65 535 s each.
    let mut total_ms = 0f64;
    let mut min = f64::MAX;
    while let Some(len) = be32(b, pos) {
        let len = len as usize;
        let Some(kind) = slice(b, pos + 4, 4) else {
            break;
        };
        let Some(body) = slice(b, pos + 8, len) else {
            break;
        };
        match kind {
            b"IHDR" if body.len() >= 10 => {
                facts.width = be32(body, 0).unwrap_or(0);
                facts.height = be32(body, 4).unwrap_or(0);
                facts.palette = body[9] == 3;
            }
            b"fcTL" if body.len() >= 24 => {
                count_frame(&mut frames)?;
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
        let Some(next) = (pos + 12).checked_add(len) else {
            break;
        };
        pos = next;
    }
    if frames > 0 {
        facts.frames = frames;
        // `as` saturates: these are finite and non-negative.
        facts.duration_ms = total_ms.round() as u64;
        facts.min_frame_ms = min.round() as u64;
    }
    sized(facts)
}

/// A GIF: its screen size, and every frame's delay (frame data is skipped, not decoded).
pub fn gif(b: &[u8]) -> Result<ImageFacts, Unfit> {
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    opts.skip_frame_decoding(true);
    let mut dec = opts
        .read_info(std::io::Cursor::new(b))
        .map_err(|_| Unfit::Unrecognised)?;
    let mut facts = ImageFacts::empty(ImageKind::Gif);
    facts.width = u32::from(dec.width());
    facts.height = u32::from(dec.height());
    facts.palette = true;
    let mut timing = Timing::new();
    while let Ok(Some(f)) = dec.next_frame_info() {
        timing.add(u64::from(f.delay) * 10)?;
    }
    timing.apply(&mut facts);
    Ok(facts)
}

fn uint(d: &[u8]) -> u64 {
    d.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b))
}

/// An unsigned EBML value as a u32, saturating (a width of 2^32 + 512 is not 512).
fn uint32(d: &[u8]) -> u32 {
    u32::try_from(uint(d)).unwrap_or(u32::MAX)
}

/// One TrackEntry's fields.
#[derive(Default, Clone)]
struct Track {
    number: u64,
    kind: u64,
    default_ns: u64,
    codec: String,
    width: u32,
    height: u32,
}

/// The tracks as they are read, kept in constant space however many a file declares: the one being
/// read, the first video track, the first with a picture size, and whether any is audio.
#[derive(Default)]
struct Tracks {
    current: Option<Track>,
    first_video: Option<Track>,
    first_sized: Option<Track>,
    has_audio: bool,
}

impl Tracks {
    /// The track being read is complete.
    fn close(&mut self) {
        let Some(t) = self.current.take() else {
            return;
        };
        self.has_audio |= t.kind == 2;
        if t.kind == 1 && self.first_video.is_none() {
            self.first_video = Some(t.clone());
        }
        if t.width > 0 && self.first_sized.is_none() {
            self.first_sized = Some(t);
        }
    }
}

/// A WebM (Matroska): the video track's size, codec and frame count, the file's duration, and
/// whether it has an audio track.
///
/// Long because it maps each EBML element it reads to its fact, one line each.
pub fn webm(b: &[u8]) -> Result<ImageFacts, Unfit> {
    let mut scale_ns = 1_000_000f64;
    let mut duration_units = 0f64;
    let mut tracks = Tracks::default();
    // Blocks by track number (a SimpleBlock or Block starts with its track number as a vint).
    let mut blocks: Vec<u64> = Vec::new();
    walk(b, &mut |id, body| {
        match id {
            0x2A_D7B1 => scale_ns = uint(body) as f64,
            0x4489 => {
                duration_units = match body.len() {
                    4 => f64::from(f32::from_be_bytes(body.try_into().unwrap_or([0; 4]))),
                    8 => f64::from_be_bytes(body.try_into().unwrap_or([0; 8])),
                    _ => 0.0,
                }
            }
            0xAE => {
                tracks.close();
                tracks.current = Some(Track::default());
            }
            0xA3 | 0xA1 => {
                if let Some((number, ..)) = read_vint(body, 0) {
                    if blocks.len() >= MAX_ANIMATION_FRAMES {
                        return Err(too_many_frames());
                    }
                    blocks.push(number);
                }
            }
            _ => {
                if let Some(t) = tracks.current.as_mut() {
                    match id {
                        0xD7 => t.number = uint(body),
                        0x83 => t.kind = uint(body),
                        0x86 => {
                            t.codec = String::from_utf8_lossy(body)
                                .chars()
                                .take(MAX_CODEC_CHARS)
                                .collect()
                        }
                        0xB0 => t.width = uint32(body),
                        0xBA => t.height = uint32(body),
                        0x23_E383 => t.default_ns = uint(body),
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    })?;
    tracks.close();
    // The video track: type 1, else the first with a picture size.
    let video = tracks
        .first_video
        .or(tracks.first_sized)
        .ok_or(Unfit::Unrecognised)?;
    let duration_ms = duration_units * scale_ns / 1_000_000.0;
    if !duration_ms.is_finite() || duration_ms < 0.0 {
        return Err(Unfit::Refused(format!(
            "declares a duration of {duration_ms} ms (Segment Duration × TimecodeScale); a WebM's duration is a finite length"
        )));
    }
    let mut facts = ImageFacts::empty(ImageKind::Webm);
    facts.width = video.width;
    facts.height = video.height;
    facts.frames = blocks.iter().filter(|&&n| n == video.number).count();
    facts.codec = video.codec.starts_with("V_").then(|| video.codec.clone());
    facts.has_audio = tracks.has_audio;
    // `as` saturates: finite and non-negative here.
    facts.duration_ms = duration_ms.round() as u64;
    facts.min_frame_ms = video.default_ns / 1_000_000;
    sized(facts)
}

/// The EBML masters we descend into: Segment, Info, Tracks, TrackEntry, Video, Cluster,
/// BlockGroup, BlockAdditions.
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

/// What [`walk`] calls for each element: its ID and body; an error stops the walk.
type Visit<'a> = dyn FnMut(u32, &[u8]) -> Result<(), Unfit> + 'a;

/// Visit every element in document order, descending into [`MASTERS`] (a master is announced,
/// with no body, before its children). A loop with an explicit stack of open masters' ends, no
/// deeper than [`MAX_EBML_DEPTH`]; a child never reaches past its parent's end. `visit` may stop
/// the walk with an error.
fn walk(d: &[u8], visit: &mut Visit<'_>) -> Result<(), Unfit> {
    let mut open: Vec<usize> = vec![d.len()];
    let mut pos = 0usize;
    while let Some(&end) = open.last() {
        if pos >= end {
            open.pop();
            continue;
        }
        let Some((id, start, stop)) = read_element(d, pos) else {
            // Unreadable here: skip the rest of this master, as a reader resynchronising would.
            pos = end;
            continue;
        };
        // `start` is past `pos` (an ID and a size are at least a byte each), so the walk advances.
        let stop = stop.min(end).max(start);
        if MASTERS.contains(&id) {
            visit(id, &[])?;
            if open.len() > MAX_EBML_DEPTH {
                return Err(Unfit::Refused(format!(
                    "nests elements more than {MAX_EBML_DEPTH} levels deep (MAX_EBML_DEPTH); a WebM nests about 6"
                )));
            }
            open.push(stop);
            pos = start;
        } else {
            if id != 0xA1 || start < stop {
                visit(id, d.get(start..stop).unwrap_or_default())?;
            }
            pos = stop;
        }
    }
    Ok(())
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
        assert_eq!(inspect(b"not an image"), Err(Unfit::Unrecognised));
    }

    /// A RIFF chunk: id, little-endian size, body, pad byte.
    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = id.to_vec();
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend_from_slice(body);
        if body.len() % 2 == 1 {
            v.push(0);
        }
        v
    }

    /// An animated WebP of `frames` ANMF chunks of `ms` each (frame data left empty: the inspector
    /// reads only the headers).
    fn webp_frames(frames: usize, ms: u32) -> Vec<u8> {
        let mut vp8x = vec![0x02, 0, 0, 0];
        vp8x.extend_from_slice(&[0xFF, 0x01, 0x00, 0xFF, 0x01, 0x00]);
        let mut body = b"WEBP".to_vec();
        body.extend(chunk(b"VP8X", &vp8x));
        let mut anmf = vec![0u8; 16];
        anmf[12..15].copy_from_slice(&ms.to_le_bytes()[..3]);
        for _ in 0..frames {
            body.extend(chunk(b"ANMF", &anmf));
        }
        let mut riff = b"RIFF".to_vec();
        riff.extend_from_slice(&(body.len() as u32).to_le_bytes());
        riff.extend(body);
        riff
    }

    /// 257 frames of the longest delay a WebP holds (16 777 215 ms): 49.9 days, which a u32 sum
    /// wrapped to a few seconds.
    #[test]
    fn webp_durations_do_not_wrap() {
        let f = webp(&webp_frames(257, 0xFF_FFFF)).expect("facts");
        assert_eq!((f.width, f.height, f.frames), (512, 512, 257));
        assert_eq!(f.duration_ms, 257 * 0xFF_FFFF);
        assert_eq!(f.min_frame_ms, 0xFF_FFFF);
    }

    #[test]
    fn frames_stop_at_the_limit() {
        let ok = webp(&webp_frames(MAX_ANIMATION_FRAMES, 10)).expect("facts");
        assert_eq!(ok.frames, MAX_ANIMATION_FRAMES);
        let Err(Unfit::Refused(why)) = webp(&webp_frames(MAX_ANIMATION_FRAMES + 1, 10)) else {
            panic!("more frames than the limit must be refused");
        };
        assert!(why.contains("MAX_ANIMATION_FRAMES"), "{why}");
    }

    /// EBML: an element of `id` (1 to 4 bytes as written) with an 8-byte size.
    fn ebml(id: &[u8], body: &[u8]) -> Vec<u8> {
        let mut v = id.to_vec();
        v.push(0x01);
        v.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn deep_ebml_is_refused_not_recursed() {
        // 200 000 nested Segments: a recursive walk overflows the stack.
        let mut doc = Vec::new();
        for _ in 0..200_000 {
            // A Segment of unknown size (a 1-byte size of all ones).
            doc.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0xFF]);
        }
        let mut file = ebml(&[0x1A, 0x45, 0xDF, 0xA3], &[]);
        file.extend(doc);
        let Err(Unfit::Refused(why)) = inspect(&file) else {
            panic!("deep nesting must be refused");
        };
        assert!(why.contains("MAX_EBML_DEPTH"), "{why}");
        // As deep as the limit is fine (and unrecognised here: no video track).
        let mut file = ebml(&[0x1A, 0x45, 0xDF, 0xA3], &[]);
        for _ in 0..MAX_EBML_DEPTH {
            file.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0xFF]);
        }
        assert_eq!(inspect(&file), Err(Unfit::Unrecognised));
    }

    #[test]
    fn webm_widths_saturate_and_nan_durations_are_refused() {
        let head = ebml(&[0x1A, 0x45, 0xDF, 0xA3], &[]);
        let video = [
            ebml(&[0xB0], &(4_294_967_808u64).to_be_bytes()),
            ebml(&[0xBA], &[0x02, 0x00]),
        ]
        .concat();
        let entry = [
            ebml(&[0xD7], &[1]),
            ebml(&[0x83], &[1]),
            ebml(&[0x86], b"V_VP9"),
            ebml(&[0xE0], &video),
        ]
        .concat();
        let tracks = ebml(&[0x16, 0x54, 0xAE, 0x6B], &ebml(&[0xAE], &entry));
        let info = |duration: f64| {
            ebml(
                &[0x15, 0x49, 0xA9, 0x66],
                &ebml(&[0x44, 0x89], &duration.to_be_bytes()),
            )
        };
        let file = |duration: f64| {
            [
                head.clone(),
                ebml(
                    &[0x18, 0x53, 0x80, 0x67],
                    &[info(duration), tracks.clone()].concat(),
                ),
            ]
            .concat()
        };
        let f = inspect(&file(2000.0)).expect("facts");
        assert_eq!((f.width, f.height, f.duration_ms), (u32::MAX, 512, 2000));
        for bad in [f64::NAN, f64::INFINITY, -5.0] {
            assert!(
                matches!(inspect(&file(bad)), Err(Unfit::Refused(_))),
                "{bad}"
            );
        }
    }

    /// Truncations and bit flips of every format never panic (a cheap, deterministic stand-in
    /// for the fuzz targets).
    #[test]
    fn damaged_files_never_panic() {
        let a = anim();
        let files = [
            webp_enc::encode(&a, webp_enc::WebpSettings::default()).expect("webp"),
            apng::encode(&a, 100.0, 4, apng::Mode::Truecolour).expect("apng"),
            gif_enc::encode(&a, 80.0).expect("gif"),
            webm_enc::encode(&a, 60.0, 4).expect("webm"),
        ];
        let mut seed = 0x9E37_79B9u32;
        for file in &files {
            for cut in (0..file.len()).step_by(7) {
                let _ = inspect(&file[..cut]);
            }
            for _ in 0..400 {
                let mut f = file.clone();
                for _ in 0..4 {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    let at = seed as usize % f.len();
                    f[at] ^= (seed >> 24) as u8 | 1;
                }
                let _ = inspect(&f);
            }
        }
    }
}
