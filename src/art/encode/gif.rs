//! GIF with the gif crate: a NeuQuant palette per frame (color_quant), Floyd–Steinberg dithering, and
//! 1-bit transparency (GIF has no partial alpha). Delays are kept exact over the loop in 1/100 s units.

use super::Animation;
use super::DecodedFrames;
use crate::error::{Error, Result};
use color_quant::NeuQuant;
use std::borrow::Cow;

/// Colours for a quality of 0..=100 (16 to 255; one palette entry is kept for transparency).
pub fn colours_for_quality(quality: f32) -> usize {
    (16.0 + 239.0 * (quality.clamp(0.0, 100.0) / 100.0)).round() as usize
}

/// Alpha below this is transparent in GIF.
const ALPHA_CUT: u8 = 128;

/// Encode `anim` as an infinitely looping GIF.
pub fn encode(anim: &Animation, quality: f32) -> Result<Vec<u8>> {
    let fail = |e: gif::EncodingError| Error::Encode {
        detail: format!("GIF: {e}"),
    };
    let (w, h) = (anim.width(), anim.height());
    if w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
        return Err(Error::Encode {
            detail: "GIF frames are limited to 65535 pixels a side".into(),
        });
    }
    let colours = colours_for_quality(quality);
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, w as u16, h as u16, &[]).map_err(fail)?;
        enc.set_repeat(gif::Repeat::Infinite).map_err(fail)?;
        let mut elapsed_ms = 0u32;
        for (frame, &d) in anim.frames.iter().zip(&anim.durations_ms) {
            // Centiseconds from the exact running time, so rounding errors never accumulate.
            let delay = ((elapsed_ms + d + 5) / 10 - (elapsed_ms + 5) / 10) as u16;
            elapsed_ms += d;
            let (palette, indices, transparent) = quantise(frame, colours);
            let f = gif::Frame {
                width: w as u16,
                height: h as u16,
                delay,
                dispose: gif::DisposalMethod::Background,
                transparent,
                palette: Some(palette),
                buffer: Cow::Owned(indices),
                ..gif::Frame::default()
            };
            enc.write_frame(&f).map_err(fail)?;
        }
    }
    Ok(out)
}

/// Palette (RGB triples), indices and the transparent index of one frame.
fn quantise(frame: &image::RgbaImage, colours: usize) -> (Vec<u8>, Vec<u8>, Option<u8>) {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let opaque: Vec<u8> = frame
        .pixels()
        .filter(|p| p.0[3] >= ALPHA_CUT)
        .flat_map(|p| [p.0[0], p.0[1], p.0[2], 255])
        .collect();
    let has_transparency = opaque.len() / 4 < w * h;
    let n = if has_transparency {
        colours.min(255)
    } else {
        colours.min(256)
    };
    let source: &[u8] = if opaque.is_empty() {
        &[0, 0, 0, 255]
    } else {
        &opaque
    };
    // samplefac 10: NeuQuant's recommended quality/speed balance.
    let nq = NeuQuant::new(10, n.max(2), source);
    let mut palette = nq.color_map_rgb();
    let transparent = has_transparency.then(|| {
        palette.extend_from_slice(&[0, 0, 0]);
        (palette.len() / 3 - 1) as u8
    });
    // Floyd–Steinberg error diffusion on the opaque pixels.
    let mut err = vec![[0f32; 3]; w * h];
    let mut indices = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let p = frame.as_raw()[i * 4..i * 4 + 4].to_vec();
            if p[3] < ALPHA_CUT {
                indices[i] = transparent.unwrap_or(0);
                continue;
            }
            let want = [0, 1, 2].map(|c| (f32::from(p[c]) + err[i][c]).clamp(0.0, 255.0));
            let px = [want[0] as u8, want[1] as u8, want[2] as u8, 255];
            let idx = nq.index_of(&px);
            indices[i] = idx as u8;
            let got = [palette[idx * 3], palette[idx * 3 + 1], palette[idx * 3 + 2]];
            for c in 0..3 {
                let e = want[c] - f32::from(got[c]);
                let mut spread = |dx: isize, dy: usize, k: f32| {
                    let nx = x as isize + dx;
                    if nx >= 0 && (nx as usize) < w && y + dy < h {
                        err[(y + dy) * w + nx as usize][c] += e * k;
                    }
                };
                spread(1, 0, 7.0 / 16.0);
                spread(-1, 1, 3.0 / 16.0);
                spread(0, 1, 5.0 / 16.0);
                spread(1, 1, 1.0 / 16.0);
            }
        }
    }
    (palette, indices, transparent)
}

/// Decode a GIF into full RGBA frames, for measuring quality.
pub fn decode_frames(bytes: &[u8], keep: &dyn Fn(usize) -> bool) -> Result<DecodedFrames> {
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::RGBA);
    let fail = |e: gif::DecodingError| Error::Encode {
        detail: format!("GIF re-read: {e}"),
    };
    let mut dec = opts.read_info(std::io::Cursor::new(bytes)).map_err(fail)?;
    let (w, h) = (u32::from(dec.width()), u32::from(dec.height()));
    let mut frames = DecodedFrames::default();
    while let Some(f) = dec.read_next_frame().map_err(fail)? {
        // We always write full-canvas frames.
        frames.offer(keep, || image::RgbaImage::from_raw(w, h, f.buffer.to_vec()));
    }
    Ok(frames)
}
