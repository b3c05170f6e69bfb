//! Fitting an animation under a byte cap: search quality first (predicting from the sizes already seen,
//! then bisecting), then lower the frame rate, with few encodes; report the quality reached as SSIM.

use super::encode::{self, Animation};
use super::quality::mean_ssim;
use crate::error::{Error, Result};
use crate::platform::ImageKind;
use serde::Serialize;

/// Encoder settings common to all formats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncodeSettings {
    /// 0..=100: WebP quality, APNG posterisation, GIF colours, VP9 quantiser (inverted).
    pub quality: f32,
    /// WebP only: lossless mode.
    pub lossless: bool,
    /// WebP only: effort 0..=6.
    pub method: i32,
}

impl Default for EncodeSettings {
    fn default() -> Self {
        EncodeSettings {
            quality: 80.0,
            lossless: false,
            method: 4,
        }
    }
}

/// The result of fitting.
#[derive(Debug, Clone, Serialize)]
pub struct Fitted {
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Side of the encoded frames (smaller than the canvas when size had to drop to fit).
    pub side: u32,
    pub quality: f32,
    pub fps: f64,
    pub frames: usize,
    /// Mean SSIM of the decoded file against the rendered frames.
    pub ssim: f64,
    /// Encodes made.
    pub passes: u32,
    pub warnings: Vec<String>,
}

/// Below this SSIM the result is visibly degraded: warn.
pub const SSIM_WARNING: f64 = 0.90;
const MIN_QUALITY: f32 = 5.0;
/// Quality probes per frame rate after the first encode.
const MAX_PROBES: usize = 4;
/// A first guess of d ln(bytes) / d quality per format (measured on sticker animations: WebP doubles
/// in size over ~45 quality points, VP9 over ~10), refined from the probes themselves.
fn typical_slope(kind: ImageKind) -> f64 {
    match kind {
        ImageKind::Webp => 0.015,
        ImageKind::Webm => 0.07,
        ImageKind::Png => 0.02,
        ImageKind::Gif => 0.01,
    }
}
/// Frame-rate steps tried when quality alone cannot fit: every frame, then every 2nd, 3rd, 4th, 6th.
const FPS_STEPS: [usize; 5] = [1, 2, 3, 4, 6];

/// Encode once with `kind`.
pub fn encode_once(kind: ImageKind, anim: &Animation, s: EncodeSettings) -> Result<Vec<u8>> {
    match kind {
        ImageKind::Webp => encode::webp::encode(
            anim,
            encode::webp::WebpSettings {
                quality: s.quality,
                lossless: s.lossless,
                method: s.method,
            },
        ),
        ImageKind::Png => encode::apng::encode(anim, s.quality),
        ImageKind::Gif => encode::gif::encode(anim, s.quality),
        ImageKind::Webm => encode::webm::encode(anim, s.quality, s.method),
    }
}

/// Decode our own output back to frames.
pub fn decode(kind: ImageKind, bytes: &[u8]) -> Result<Vec<image::RgbaImage>> {
    match kind {
        ImageKind::Webp => encode::webp::decode_frames(bytes),
        ImageKind::Png => encode::apng::decode_frames(bytes),
        ImageKind::Gif => encode::gif::decode_frames(bytes),
        ImageKind::Webm => encode::webm::decode_frames(bytes),
    }
}

/// Sizes tried, as fractions of the canvas, when quality and frame rate alone cannot fit and the
/// platform accepts smaller stickers (`min_side`).
const SCALES: [f32; 3] = [1.0, 0.75, 0.5];

/// Encode `anim` at the best quality (up to `s.quality`) that fits `max_bytes`: quality first, then frame
/// rate, then size (never below `min_side` pixels).
pub fn fit(
    kind: ImageKind,
    anim: &Animation,
    s: EncodeSettings,
    max_bytes: Option<u64>,
    min_side: u32,
) -> Result<Fitted> {
    let mut passes = 0u32;
    // Search probes use a faster effort (WebP method, VP9 speed; sizes track the final effort's
    // closely); the chosen quality is then encoded once more at the requested effort.
    let probe_method = s.method.min(2);
    let mut encode_at = |a: &Animation, q: f32| -> Result<Vec<u8>> {
        passes += 1;
        encode_once(
            kind,
            a,
            EncodeSettings {
                quality: q,
                method: probe_method,
                ..s
            },
        )
    };
    let Some(cap) = max_bytes else {
        let bytes = encode_once(kind, anim, s)?;
        return finish(kind, anim, bytes, s.quality, 1, 1, None);
    };
    let lossless_webp = kind == ImageKind::Webp && s.lossless;
    for scale in SCALES {
        let side = (anim.width() as f32 * scale).round() as u32 & !1;
        if scale < 1.0 && side < min_side.max(2) {
            break;
        }
        let scaled;
        let anim = if scale < 1.0 {
            scaled = Animation {
                frames: anim
                    .frames
                    .iter()
                    .map(|f| super::canvas::resize(f, side, side))
                    .collect(),
                durations_ms: anim.durations_ms.clone(),
            };
            &scaled
        } else {
            anim
        };
        for step in FPS_STEPS {
            if step > 1 && anim.frames.len() / step < 2 {
                break;
            }
            let a = if step == 1 {
                anim.clone()
            } else {
                anim.decimate(step)
            };
            let top = encode_at(&a, s.quality)?;
            if top.len() as u64 <= cap {
                let (bytes, passes) = final_encode(kind, &a, s, s.quality, top, cap, passes)?;
                return finish(kind, anim, bytes, s.quality, step, passes, Some(cap));
            }
            if lossless_webp {
                continue; // lossless has no quality to trade; only the frame rate can drop
            }
            // Predict the quality that fits from the first size (sizes grow roughly exponentially with
            // quality), then refine with the slope between the two closest probes: usually 2–4 encodes.
            let target = cap as f64 * 0.95;
            let mut hi = (s.quality, top.len() as f64);
            let mut lo: Option<(f32, Vec<u8>)> = None;
            let mut slope = typical_slope(kind);
            for _ in 0..MAX_PROBES {
                let from = lo.as_ref().map_or(hi, |(q, b)| (*q, b.len() as f64));
                let floor = lo.as_ref().map_or(MIN_QUALITY, |(lq, _)| lq + 1.0);
                let ceiling = hi.0 - 1.0;
                if ceiling < floor {
                    break;
                }
                let guess =
                    (f64::from(from.0) + (target.ln() - from.1.ln()) / slope).round() as f32;
                let q = guess.max(floor).min(ceiling);
                let bytes = encode_at(&a, q)?;
                let len = bytes.len() as f64;
                let (pq, plen) = from;
                if (q - pq).abs() > 0.5 && len > 0.0 && plen > 0.0 {
                    slope = ((len.ln() - plen.ln()) / f64::from(q - pq)).clamp(0.005, 0.5);
                }
                if bytes.len() as u64 <= cap {
                    let close = len >= cap as f64 * 0.9;
                    lo = Some((q, bytes));
                    if close || hi.0 - q <= 2.0 {
                        break;
                    }
                } else {
                    hi = (q, len);
                }
            }
            let (lo, lo_bytes) = match lo {
                Some(found) => found,
                None => {
                    let bottom = encode_at(&a, MIN_QUALITY)?;
                    if bottom.len() as u64 > cap {
                        continue;
                    }
                    (MIN_QUALITY, bottom)
                }
            };
            let (bytes, passes) = final_encode(kind, &a, s, lo, lo_bytes, cap, passes)?;
            return finish(kind, anim, bytes, lo, step, passes, Some(cap));
        }
    }
    Err(Error::Encode {
        detail: format!(
            "cannot fit the animation into {cap} bytes even at quality {MIN_QUALITY}, a sixth of the frame rate and the smallest size allowed; shorten it, lower --fps or use a calmer style (vinyl, wave)"
        ),
    })
}

/// Re-encode the chosen quality at the requested WebP method when the probes used a faster one; keep the
/// probe's bytes if the final encode would not fit (or is no smaller).
fn final_encode(
    kind: ImageKind,
    anim: &Animation,
    s: EncodeSettings,
    quality: f32,
    probe: Vec<u8>,
    cap: u64,
    passes: u32,
) -> Result<(Vec<u8>, u32)> {
    if !matches!(kind, ImageKind::Webp | ImageKind::Webm) || s.method <= 2 {
        return Ok((probe, passes));
    }
    let bytes = encode_once(kind, anim, EncodeSettings { quality, ..s })?;
    if bytes.len() as u64 <= cap {
        Ok((bytes, passes + 1))
    } else {
        Ok((probe, passes + 1))
    }
}

fn finish(
    kind: ImageKind,
    reference: &Animation,
    bytes: Vec<u8>,
    quality: f32,
    step: usize,
    passes: u32,
    cap: Option<u64>,
) -> Result<Fitted> {
    let decoded = decode(kind, &bytes)?;
    let ssim = mean_ssim(&reference.frames, &decoded, step);
    let mut warnings = Vec::new();
    if ssim < SSIM_WARNING {
        warnings.push(format!(
            "image quality is low (SSIM {ssim:.3}){}",
            cap.map_or(String::new(), |c| format!(" to fit {c} bytes"))
        ));
    }
    if step > 1 {
        warnings.push(format!(
            "frame rate lowered to 1/{step} to fit the byte cap"
        ));
    }

    let fps = reference.fps() / step as f64;
    Ok(Fitted {
        side: decoded.first().map_or(0, |f| f.width()),
        bytes,
        quality,
        fps,
        frames: decoded.len(),
        ssim,
        passes,
        warnings,
    })
}
