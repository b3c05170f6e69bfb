//! APNG (animated) and PNG (static) with the png crate, in one of two ways:
//! - truecolour RGBA, whose quality knob posterises each channel to fewer levels (and blurs at low
//!   qualities), which DEFLATE then compresses far better; 100 is lossless. Signal needs this: palette
//!   APNGs reportedly do not animate on Signal for iOS.
//! - one palette for the whole animation (`palette`), whose knob is the number of colours. Under a byte
//!   cap it usually keeps far more detail (docs/design.md, "Encoders"); the fitter still checks a roomy
//!   palette fit of smooth gradients against truecolour.

use super::Animation;
use super::DecodedFrames;
use super::palette::Palette;
use crate::error::{Error, Result};

/// How frames are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// RGBA, posterised and blurred by quality.
    Truecolour,
    /// Indexed colour, one palette for every frame of an animation (a still image stays truecolour).
    Palette,
}

/// Channel levels for a quality of 0..=100: 256 (lossless) at 95 and above, down to 8.
pub fn levels_for_quality(quality: f32) -> u32 {
    if quality >= 95.0 {
        return 256;
    }
    let bits = 3.0 + 5.0 * (quality.clamp(0.0, 95.0) / 95.0);
    (2f32.powf(bits).round() as u32).clamp(8, 256)
}

/// Smoothing radius for a quality: photo grain is what DEFLATE compresses worst, so low qualities trade
/// a little sharpness (a 3×3 or 5×5 box blur) for far smaller frames.
fn blur_radius_for_quality(quality: f32) -> u32 {
    if quality >= 40.0 {
        0
    } else if quality >= 20.0 {
        1
    } else {
        2
    }
}

/// Box blur of radius `r` on straight RGBA (separable, edges clamped). Running sums make each pass
/// cost the same at any radius, and the vertical pass runs along rows, so it vectorises: every probe of
/// a fit prepares the frames it encodes.
fn box_blur(data: &[u8], w: u32, h: u32, r: u32) -> Vec<u8> {
    if r == 0 || w == 0 || h == 0 {
        return data.to_vec();
    }
    let (w, h, r) = (w as usize, h as usize, r as isize);
    let taps = (2 * r + 1) as u32;
    // floor(sum / taps) for sums up to taps × 255, as a multiply and shift (exact there: the rounding
    // up of the reciprocal adds under 0.02 to a fraction of at most (taps − 1) / taps).
    let inv = 65536u32.div_ceil(taps);
    let mean = |sum: u32| ((sum * inv) >> 16) as u8;
    let clamp = |i: isize, len: usize| i.clamp(0, len as isize - 1) as usize;
    let row = w * 4;
    // Horizontal: a running sum per channel along each row.
    let mut across = vec![0u8; data.len()];
    for (src, out) in data.chunks_exact(row).zip(across.chunks_exact_mut(row)) {
        let mut acc = [0u32; 4];
        for k in -r..=r {
            let x = clamp(k, w);
            for (c, a) in acc.iter_mut().enumerate() {
                *a += u32::from(src[x * 4 + c]);
            }
        }
        for x in 0..w {
            let (add, sub) = (clamp(x as isize + r + 1, w), clamp(x as isize - r, w));
            for (c, a) in acc.iter_mut().enumerate() {
                out[x * 4 + c] = mean(*a);
                *a = *a + u32::from(src[add * 4 + c]) - u32::from(src[sub * 4 + c]);
            }
        }
    }
    // Vertical: a running sum per byte of a row, moved down one row at a time.
    let mut out = vec![0u8; data.len()];
    let mut acc = vec![0u32; row];
    for k in -r..=r {
        let y = clamp(k, h);
        for (a, &v) in acc.iter_mut().zip(&across[y * row..(y + 1) * row]) {
            *a += u32::from(v);
        }
    }
    for y in 0..h {
        let (add, sub) = (clamp(y as isize + r + 1, h), clamp(y as isize - r, h));
        let (add_row, sub_row) = (
            &across[add * row..(add + 1) * row],
            &across[sub * row..(sub + 1) * row],
        );
        for (((o, a), &plus), &minus) in out[y * row..(y + 1) * row]
            .iter_mut()
            .zip(acc.iter_mut())
            .zip(add_row)
            .zip(sub_row)
        {
            *o = mean(*a);
            *a = *a + u32::from(plus) - u32::from(minus);
        }
    }
    out
}

/// Posterise straight RGBA bytes to `levels` per channel (alpha too, so edges stay consistent).
fn posterise(data: &[u8], levels: u32) -> Vec<u8> {
    if levels >= 256 {
        return data.to_vec();
    }
    let step = 255.0 / (levels - 1) as f32;
    let lut: Vec<u8> = (0..=255u8)
        .map(|v| ((f32::from(v) / step).round() * step).round().min(255.0) as u8)
        .collect();
    data.iter().map(|&v| lut[v as usize]).collect()
}

/// The bounding box (x, y, w, h) of pixels that differ between two buffers of `bpp` bytes a pixel;
/// 1×1 when none do (APNG frames cannot be empty).
fn changed_rect(a: &[u8], b: &[u8], w: u32, h: u32, bpp: usize) -> (u32, u32, u32, u32) {
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0u32, 0u32);
    let row_len = w as usize * bpp;
    for y in 0..h {
        let row = y as usize * row_len..(y as usize + 1) * row_len;
        if a[row.clone()] == b[row.clone()] {
            continue;
        }
        for x in 0..w {
            let i = (y * w + x) as usize * bpp;
            if a[i..i + bpp] != b[i..i + bpp] {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
    }
    if x1 < x0 {
        (0, 0, 1, 1)
    } else {
        (x0, y0, x1 - x0 + 1, y1 - y0 + 1)
    }
}

/// The pixels of `rect` from a full buffer `w` wide, of `bpp` bytes a pixel.
fn crop(data: &[u8], w: u32, rect: (u32, u32, u32, u32), bpp: usize) -> Vec<u8> {
    let (x, y, rw, rh) = rect;
    let mut out = Vec::with_capacity(rw as usize * rh as usize * bpp);
    for row in y..y + rh {
        let start = (row * w + x) as usize * bpp;
        out.extend_from_slice(&data[start..start + rw as usize * bpp]);
    }
    out
}

/// The zlib level of an effort (as WebP's method): 0 and 1 zlib's balanced level 6, 2 and above its
/// best level 9 (5–9 % smaller files on sticker art, at two to four times the time).
fn compression(effort: i32) -> png::Compression {
    if effort <= 1 {
        png::Compression::Balanced
    } else {
        png::Compression::High
    }
}

fn fail(e: png::EncodingError) -> Error {
    Error::Encode {
        detail: format!("PNG: {e}"),
    }
}

/// Colours of a palette for a quality of 0..=100: 16 to 256, the transparent entry included. The floor
/// of 16 lets photographs fit Discord's cap (docs/design.md, "Encoders").
pub fn colours_for_quality(quality: f32) -> usize {
    (16.0 + 240.0 * (quality.clamp(0.0, 100.0) / 100.0)).round() as usize
}

/// Frames as they are stored, for one encode: the knob's settings, and the palette when there is one.
enum Store {
    Truecolour { quality: f32 },
    Palette(Box<Palette>),
}

impl Store {
    /// The store of `anim` at `quality` (a palette is learnt from the animation's own frames).
    fn new(anim: &Animation, quality: f32, mode: Mode) -> Store {
        if mode == Mode::Palette && anim.frames.len() > 1 {
            Store::Palette(Box::new(Palette::learn(
                &anim.frames,
                colours_for_quality(quality),
            )))
        } else {
            Store::Truecolour { quality }
        }
    }

    /// Bytes a stored pixel takes.
    fn bpp(&self) -> usize {
        match self {
            Store::Truecolour { .. } => 4,
            Store::Palette(_) => 1,
        }
    }

    /// A frame as it is stored: smoothed and posterised for the quality, or as palette indices.
    fn prepare(&mut self, frame: &image::RgbaImage) -> Vec<u8> {
        match self {
            Store::Truecolour { quality } => {
                let smoothed = box_blur(
                    frame.as_raw(),
                    frame.width(),
                    frame.height(),
                    blur_radius_for_quality(*quality),
                );
                posterise(&smoothed, levels_for_quality(*quality))
            }
            Store::Palette(p) => p.map(frame),
        }
    }

    /// A PNG encoder for `w`×`h` images in this store's colour type.
    fn encoder<'a>(
        &self,
        out: &'a mut Vec<u8>,
        w: u32,
        h: u32,
        effort: i32,
    ) -> png::Encoder<'a, &'a mut Vec<u8>> {
        let mut enc = png::Encoder::new(out, w, h);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(compression(effort));
        match self {
            Store::Truecolour { .. } => enc.set_color(png::ColorType::Rgba),
            Store::Palette(p) => {
                enc.set_color(png::ColorType::Indexed);
                enc.set_palette(p.rgb.clone());
                enc.set_trns(p.alpha.clone());
                // No row filter: differences of palette indices mean nothing, and the PNG spec advises
                // filter type 0 for indexed images. Adaptive filtering made sticker frames 1-26 %
                // bigger (six covers, two qualities), and took longer.
                enc.set_filter(png::Filter::NoFilter);
            }
        }
        enc
    }

    /// Bytes of the colour chunks (PLTE and tRNS) beyond PNG_OVERHEAD.
    fn colour_chunks(&self) -> usize {
        match self {
            Store::Truecolour { .. } => 0,
            Store::Palette(p) => 12 + p.rgb.len() + 12 + p.alpha.len(),
        }
    }
}

/// Encode `anim` (one frame: a plain PNG). `effort` as WebP's method: 0 and 1 use zlib's balanced
/// level, 2 and above the high level.
pub fn encode(anim: &Animation, quality: f32, effort: i32, mode: Mode) -> Result<Vec<u8>> {
    let mut store = Store::new(anim, quality, mode);
    let bpp = store.bpp();
    let (w, h) = (anim.width(), anim.height());
    let mut out = Vec::new();
    {
        let mut enc = store.encoder(&mut out, w, h, effort);
        if anim.frames.len() > 1 {
            enc.set_animated(anim.frames.len() as u32, 0)
                .map_err(fail)?;
        }
        let mut writer = enc.write_header().map_err(fail)?;
        let mut previous: Option<Vec<u8>> = None;
        for (frame, &d) in anim.frames.iter().zip(&anim.durations_ms) {
            let data = store.prepare(frame);
            if anim.frames.len() > 1 {
                writer
                    .set_frame_delay(d.min(u32::from(u16::MAX)) as u16, 1000)
                    .map_err(fail)?;
                writer.set_blend_op(png::BlendOp::Source).map_err(fail)?;
                writer.set_dispose_op(png::DisposeOp::None).map_err(fail)?;
            }
            // After the first frame, store only the rectangle that changed: with blend "source" and
            // dispose "none" the rest of the canvas keeps the previous frame, which is identical there.
            let rect = previous
                .as_ref()
                .map_or((0, 0, w, h), |p| changed_rect(p, &data, w, h, bpp));
            if anim.frames.len() > 1 {
                // Move to the origin first so the new size never overhangs the old position.
                writer.set_frame_position(0, 0).map_err(fail)?;
                writer.set_frame_dimension(rect.2, rect.3).map_err(fail)?;
                writer.set_frame_position(rect.0, rect.1).map_err(fail)?;
            }
            writer
                .write_image_data(&crop(&data, w, rect, bpp))
                .map_err(fail)?;
            previous = Some(data);
        }
        writer.finish().map_err(fail)?;
    }
    Ok(out)
}

/// Bytes of a standalone PNG beyond its image data and colour chunks: signature, IHDR and IEND.
const PNG_OVERHEAD: usize = 8 + 25 + 12;
/// Bytes an APNG spends per frame beyond its image data: fcTL, and fdAT's chunk frame and sequence number.
const FRAME_OVERHEAD: usize = 38 + 16;

/// Compressed image data of one `w`×`h` rectangle in `store`'s colour type, as `encode` stores it.
fn data_size(store: &Store, data: &[u8], w: u32, h: u32, effort: i32) -> Result<usize> {
    let mut out = Vec::new();
    let mut writer = store
        .encoder(&mut out, w, h, effort)
        .write_header()
        .map_err(fail)?;
    writer.write_image_data(data).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out
        .len()
        .saturating_sub(PNG_OVERHEAD + store.colour_chunks()))
}

/// The size `encode` would give, estimated from the first frame and `samples` later frames spread over
/// the animation, each stored against its own predecessor. Written here because APNG frames are
/// independent DEFLATE streams: the file is the sum of its frames, so a stratified sample predicts it
/// (9 % low on the test's zoom, whose still stretch is over-sampled) at a fraction of the cost, which
/// makes quality search cheap; `fit` then encodes the chosen quality in full, checks it and calibrates
/// later estimates with it. Animations of up to twice `samples` frames (plus the first) are encoded
/// whole: sampling them saved little and cost accuracy.
pub fn estimate(
    anim: &Animation,
    quality: f32,
    effort: i32,
    mode: Mode,
    samples: usize,
) -> Result<usize> {
    let n = anim.frames.len();
    if samples == 0 || n <= 2 * samples + 1 {
        return encode(anim, quality, effort, mode).map(|b| b.len());
    }
    let (w, h) = (anim.width(), anim.height());
    let mut store = Store::new(anim, quality, mode);
    // acTL, the colour chunks and the first frame's fcTL.
    let mut total = PNG_OVERHEAD + 20 + store.colour_chunks() + FRAME_OVERHEAD;
    let first = store.prepare(&anim.frames[0]);
    total += data_size(&store, &first, w, h, effort)?;
    let bpp = store.bpp();
    let mut later = 0usize;
    for j in 0..samples {
        // The middle of each of `samples` equal strata of frames 1..n.
        let i = 1 + ((2 * j + 1) * (n - 1)) / (2 * samples);
        let (before, data) = (
            store.prepare(&anim.frames[i - 1]),
            store.prepare(&anim.frames[i]),
        );
        let rect = changed_rect(&before, &data, w, h, bpp);
        let cropped = crop(&data, w, rect, bpp);
        later += data_size(&store, &cropped, rect.2, rect.3, effort)? + FRAME_OVERHEAD;
    }
    Ok(total + later * (n - 1) / samples)
}

/// The frames `encode` would store, as a decoder shows them, without compressing anything: quantising
/// is APNG's only loss (DEFLATE is lossless), so the fitter measures a quality's SSIM from these for the
/// cost of learning a palette and mapping a few frames, where WebP and VP9 need a whole encode.
pub fn stored_frames(
    anim: &Animation,
    quality: f32,
    mode: Mode,
    keep: &dyn Fn(usize) -> bool,
) -> DecodedFrames {
    let mut store = Store::new(anim, quality, mode);
    let mut frames = DecodedFrames::default();
    for frame in &anim.frames {
        frames.offer(keep, || {
            let data = store.prepare(frame);
            let rgba = match &store {
                Store::Truecolour { .. } => data,
                // PNG decoders expand an index to its PLTE colour and tRNS alpha (opaque past tRNS).
                Store::Palette(p) => data
                    .iter()
                    .flat_map(|&i| {
                        let i = usize::from(i);
                        let rgb = p.rgb.get(3 * i..3 * i + 3).unwrap_or(&[0, 0, 0]);
                        [
                            rgb[0],
                            rgb[1],
                            rgb[2],
                            p.alpha.get(i).copied().unwrap_or(255),
                        ]
                    })
                    .collect(),
            };
            image::RgbaImage::from_raw(frame.width(), frame.height(), rgba)
        });
    }
    frames
}

/// Decode the frames of an APNG or PNG we wrote (blend source, dispose none), composited onto the
/// canvas, for measuring quality.
pub fn decode_frames(bytes: &[u8], keep: &dyn Fn(usize) -> bool) -> Result<DecodedFrames> {
    let fail = |e: png::DecodingError| Error::Encode {
        detail: format!("PNG re-read: {e}"),
    };
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().map_err(fail)?;
    let (w, h) = (reader.info().width, reader.info().height);
    let mut canvas = image::RgbaImage::new(w, h);
    let mut frames = DecodedFrames::default();
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap_or(0)];
    while let Ok(out) = reader.next_frame(&mut buf) {
        let (fx, fy) = reader
            .info()
            .frame_control
            .map_or((0, 0), |fc| (fc.x_offset, fc.y_offset));
        let data = &buf[..out.buffer_size()];
        for y in 0..out.height {
            for x in 0..out.width {
                let i = ((y * out.width + x) * 4) as usize;
                if let Some(px) = data.get(i..i + 4) {
                    canvas.put_pixel(fx + x, fy + y, image::Rgba([px[0], px[1], px[2], px[3]]));
                }
            }
        }
        frames.offer(keep, || Some(canvas.clone()));
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_blur_averages_the_clamped_neighbourhood() {
        // Against the definition: each pass takes the floor of the mean of 2r + 1 samples, indices
        // clamped to the image; sizes smaller than the window included.
        let direct = |data: &[u8], w: usize, h: usize, r: isize| {
            let pass = |src: &[u8], horizontal: bool| {
                let mut out = vec![0u8; src.len()];
                for y in 0..h as isize {
                    for x in 0..w as isize {
                        for c in 0..4 {
                            let sum: u32 = (-r..=r)
                                .map(|k| {
                                    let (sx, sy) = if horizontal {
                                        ((x + k).clamp(0, w as isize - 1), y)
                                    } else {
                                        (x, (y + k).clamp(0, h as isize - 1))
                                    };
                                    u32::from(src[(sy as usize * w + sx as usize) * 4 + c])
                                })
                                .sum();
                            out[(y as usize * w + x as usize) * 4 + c] =
                                (sum / (2 * r as u32 + 1)) as u8;
                        }
                    }
                }
                out
            };
            pass(&pass(data, true), false)
        };
        for (w, h) in [(7usize, 5usize), (1, 1), (2, 3), (16, 2)] {
            let data: Vec<u8> = (0..w * h * 4)
                .map(|i| ((i * 97 + i / 7 * 31) % 256) as u8)
                .collect();
            for r in 1..=2 {
                assert_eq!(
                    box_blur(&data, w as u32, h as u32, r),
                    direct(&data, w, h, r as isize),
                    "{w}x{h} radius {r}"
                );
            }
            assert_eq!(box_blur(&data, w as u32, h as u32, 0), data);
        }
    }

    #[test]
    fn quality_maps_to_levels() {
        assert_eq!(levels_for_quality(100.0), 256);
        assert_eq!(levels_for_quality(0.0), 8);
        assert!(levels_for_quality(50.0) > levels_for_quality(20.0));
    }

    /// A pattern that zooms a little each frame (as `pulse` does), with a still stretch in the middle.
    fn zooming(n: usize) -> Animation {
        let frames = (0..n)
            .map(|i| {
                let zoom = 1.0 + 0.01 * (i.min(n / 3) + i.saturating_sub(2 * n / 3)) as f32;
                image::RgbaImage::from_fn(96, 96, |x, y| {
                    let (u, v) = ((x as f32 - 48.0) / zoom, (y as f32 - 48.0) / zoom);
                    let grain = ((u * 12.9898 + v * 78.233).sin() * 43758.547).fract().abs();
                    let r = (128.0 + 100.0 * (u * 0.2).sin() + 20.0 * grain) as u8;
                    let g = (128.0 + 100.0 * (v * 0.15).cos()) as u8;
                    let b = (255.0 * grain) as u8;
                    let a = if u * u + v * v < 40.0 * 40.0 { 255 } else { 0 };
                    image::Rgba([r, g, b, a])
                })
            })
            .collect();
        Animation::at_fps(frames, 20.0)
    }

    #[test]
    fn estimate_is_close_to_the_full_encode() {
        let anim = zooming(60);
        for mode in [Mode::Truecolour, Mode::Palette] {
            for q in [20.0, 60.0, 100.0] {
                let full = encode(&anim, q, 2, mode).expect("encode").len() as f64;
                let est = estimate(&anim, q, 2, mode, 10).expect("estimate") as f64;
                // Tolerance: 10 % (the fit aims estimates at 85 % of a cap and checks them in full).
                assert!(
                    (est / full - 1.0).abs() < 0.10,
                    "{mode:?} quality {q}: estimate {est} vs {full}"
                );
            }
            // Too few frames to sample: the estimate is the encode.
            let short = zooming(11);
            assert_eq!(
                estimate(&short, 50.0, 2, mode, 10).expect("estimate"),
                encode(&short, 50.0, 2, mode).expect("encode").len()
            );
        }
    }

    #[test]
    fn palette_mode_decodes_close_to_the_frames_and_is_smaller() {
        let anim = zooming(20);
        let psnr = |bytes: &[u8]| {
            let decoded = decode_frames(bytes, &|_| true).expect("decode");
            assert_eq!(decoded.count, anim.frames.len());
            let (mut se, mut n) = (0f64, 0f64);
            for ((_, got), want) in decoded.kept.iter().zip(&anim.frames) {
                for (g, w) in got.pixels().zip(want.pixels()) {
                    // Transparent pixels' colour is invisible; compare it only where alpha is not 0.
                    let channels = if w.0[3] == 0 { 3..4 } else { 0..4 };
                    for c in channels {
                        se += (f64::from(g.0[c]) - f64::from(w.0[c])).powi(2);
                        n += 1.0;
                    }
                }
            }
            10.0 * (255f64.powi(2) / (se / n)).log10()
        };
        let palette = encode(&anim, 100.0, 2, Mode::Palette).expect("palette");
        let lossless = encode(&anim, 100.0, 2, Mode::Truecolour).expect("truecolour");
        // Colour type 3 (indexed) in IHDR, with PLTE and tRNS.
        assert_eq!(palette[8 + 8 + 9], 3);
        assert!(palette.windows(4).any(|w| w == b"tRNS"));
        let (p, t20) = (
            psnr(&palette),
            encode(&anim, 20.0, 2, Mode::Truecolour).expect("quality 20"),
        );
        // The art's blue channel is pure noise, which no palette keeps: 27 dB here, against 17 dB for
        // truecolour at quality 20 (which posterises and blurs) in more bytes.
        assert!(p > psnr(&t20) + 6.0, "palette PSNR {p:.1} dB");
        assert!(palette.len() < t20.len());
        assert!(psnr(&lossless).is_infinite());
        // Far smaller than lossless.
        assert!(
            palette.len() * 2 < lossless.len(),
            "{} vs {}",
            palette.len(),
            lossless.len()
        );
        // Fewer colours, fewer bytes.
        let few = encode(&anim, 0.0, 2, Mode::Palette).expect("16 colours");
        assert!(few.len() < palette.len());
        // A still image stays truecolour.
        let still = Animation {
            frames: vec![anim.frames[0].clone()],
            durations_ms: vec![0],
        };
        assert_eq!(
            encode(&still, 100.0, 2, Mode::Palette).expect("still")[8 + 8 + 9],
            6
        );
    }

    #[test]
    fn stored_frames_are_what_the_file_decodes_to() {
        let anim = zooming(24);
        let keep = |i: usize| i % 5 == 1;
        for mode in [Mode::Truecolour, Mode::Palette] {
            for q in [10.0, 55.0] {
                let decoded = decode_frames(&encode(&anim, q, 1, mode).expect("encode"), &keep)
                    .expect("decode");
                let stored = stored_frames(&anim, q, mode, &keep);
                assert_eq!(stored.count, anim.frames.len());
                assert_eq!(stored.kept.len(), 5);
                assert!(
                    stored.kept == decoded.kept,
                    "{mode:?} quality {q}: stored frames differ from the decoded file"
                );
            }
        }
    }

    #[test]
    fn posterise_is_idempotent_and_keeps_extremes() {
        let data: Vec<u8> = (0..=255).collect();
        let p = posterise(&data, 16);
        assert_eq!(posterise(&p, 16), p);
        assert_eq!(p[0], 0);
        assert_eq!(p[255], 255);
    }
}
