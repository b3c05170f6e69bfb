//! APNG (animated) and PNG (static) with the png crate. Always truecolour RGBA: palette APNGs reportedly
//! do not animate on Signal for iOS. The quality knob posterises each channel to fewer levels, which
//! DEFLATE then compresses far better; 100 is lossless.

use super::Animation;
use super::DecodedFrames;
use crate::error::{Error, Result};

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

/// The bounding box (x, y, w, h) of pixels that differ between two RGBA buffers; 1×1 when none do
/// (APNG frames cannot be empty).
fn changed_rect(a: &[u8], b: &[u8], w: u32, h: u32) -> (u32, u32, u32, u32) {
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0u32, 0u32);
    for y in 0..h {
        let row = (y * w * 4) as usize..((y + 1) * w * 4) as usize;
        if a[row.clone()] == b[row.clone()] {
            continue;
        }
        for x in 0..w {
            let i = ((y * w + x) * 4) as usize;
            if a[i..i + 4] != b[i..i + 4] {
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

/// The pixels of `rect` from a full RGBA buffer `w` wide.
fn crop(data: &[u8], w: u32, rect: (u32, u32, u32, u32)) -> Vec<u8> {
    let (x, y, rw, rh) = rect;
    let mut out = Vec::with_capacity((rw * rh * 4) as usize);
    for row in y..y + rh {
        let start = ((row * w + x) * 4) as usize;
        out.extend_from_slice(&data[start..start + (rw * 4) as usize]);
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

/// A frame as it is stored: smoothed and posterised for `quality`.
fn prepare(frame: &image::RgbaImage, quality: f32) -> Vec<u8> {
    let smoothed = box_blur(
        frame.as_raw(),
        frame.width(),
        frame.height(),
        blur_radius_for_quality(quality),
    );
    posterise(&smoothed, levels_for_quality(quality))
}

/// Encode `anim` (one frame: a plain PNG). `effort` as WebP's method: 0 and 1 use zlib's balanced
/// level, 2 and above the high level.
pub fn encode(anim: &Animation, quality: f32, effort: i32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, anim.width(), anim.height());
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(compression(effort));
        if anim.frames.len() > 1 {
            enc.set_animated(anim.frames.len() as u32, 0)
                .map_err(fail)?;
        }
        let mut writer = enc.write_header().map_err(fail)?;
        let (w, h) = (anim.width(), anim.height());
        let mut previous: Option<Vec<u8>> = None;
        for (frame, &d) in anim.frames.iter().zip(&anim.durations_ms) {
            let data = prepare(frame, quality);
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
                .map_or((0, 0, w, h), |p| changed_rect(p, &data, w, h));
            if anim.frames.len() > 1 {
                // Move to the origin first so the new size never overhangs the old position.
                writer.set_frame_position(0, 0).map_err(fail)?;
                writer.set_frame_dimension(rect.2, rect.3).map_err(fail)?;
                writer.set_frame_position(rect.0, rect.1).map_err(fail)?;
            }
            writer
                .write_image_data(&crop(&data, w, rect))
                .map_err(fail)?;
            previous = Some(data);
        }
        writer.finish().map_err(fail)?;
    }
    Ok(out)
}

/// Bytes of a standalone PNG beyond its image data: signature, IHDR and IEND.
const PNG_OVERHEAD: usize = 8 + 25 + 12;
/// Bytes an APNG spends per frame beyond its image data: fcTL, and fdAT's chunk frame and sequence number.
const FRAME_OVERHEAD: usize = 38 + 16;

/// Compressed image data of one `w`×`h` RGBA rectangle, as `encode` stores it.
fn data_size(data: &[u8], w: u32, h: u32, effort: i32) -> Result<usize> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(compression(effort));
    let mut writer = enc.write_header().map_err(fail)?;
    writer.write_image_data(data).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out.len().saturating_sub(PNG_OVERHEAD))
}

/// The size `encode` would give, estimated from the first frame and `samples` later frames spread over
/// the animation, each stored against its own predecessor. Written here because APNG frames are
/// independent DEFLATE streams: the file is the sum of its frames, so a stratified sample predicts it
/// (9 % low on the test's zoom, whose still stretch is over-sampled) at a fraction of the cost, which
/// makes quality search cheap; `fit` then encodes the chosen quality in full, checks it and calibrates
/// later estimates with it. Animations of up to twice `samples` frames (plus the first) are encoded
/// whole: sampling them saved little and cost accuracy.
pub fn estimate(anim: &Animation, quality: f32, effort: i32, samples: usize) -> Result<usize> {
    let n = anim.frames.len();
    if samples == 0 || n <= 2 * samples + 1 {
        return encode(anim, quality, effort).map(|b| b.len());
    }
    let (w, h) = (anim.width(), anim.height());
    let mut total = PNG_OVERHEAD + 20 + FRAME_OVERHEAD; // acTL, and the first frame's fcTL
    total += data_size(&prepare(&anim.frames[0], quality), w, h, effort)?;
    let mut later = 0usize;
    for j in 0..samples {
        // The middle of each of `samples` equal strata of frames 1..n.
        let i = 1 + ((2 * j + 1) * (n - 1)) / (2 * samples);
        let (before, data) = (
            prepare(&anim.frames[i - 1], quality),
            prepare(&anim.frames[i], quality),
        );
        let rect = changed_rect(&before, &data, w, h);
        later += data_size(&crop(&data, w, rect), rect.2, rect.3, effort)? + FRAME_OVERHEAD;
    }
    Ok(total + later * (n - 1) / samples)
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
        for q in [20.0, 60.0, 100.0] {
            let full = encode(&anim, q, 2).expect("encode").len() as f64;
            let est = estimate(&anim, q, 2, 10).expect("estimate") as f64;
            // Tolerance: 10 % (the fit aims estimates at 85 % of a cap and checks them in full).
            assert!(
                (est / full - 1.0).abs() < 0.10,
                "quality {q}: estimate {est} vs {full}"
            );
        }
        // Too few frames to sample: the estimate is the encode.
        let short = zooming(11);
        assert_eq!(
            estimate(&short, 50.0, 2, 10).expect("estimate"),
            encode(&short, 50.0, 2).expect("encode").len()
        );
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
