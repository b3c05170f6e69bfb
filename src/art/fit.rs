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
    /// Also in the cover report's own `warnings`, which is what is serialised.
    #[serde(skip)]
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
        ImageKind::Png => encode::apng::encode(anim, s.quality, s.method),
        ImageKind::Gif => encode::gif::encode(anim, s.quality),
        ImageKind::Webm => encode::webm::encode(anim, s.quality, s.method),
    }
}

/// Decode our own output back to frames, keeping those `keep` asks for.
pub fn decode_where(
    kind: ImageKind,
    bytes: &[u8],
    keep: &dyn Fn(usize) -> bool,
) -> Result<encode::DecodedFrames> {
    match kind {
        ImageKind::Webp => encode::webp::decode_frames(bytes, keep),
        ImageKind::Png => encode::apng::decode_frames(bytes, keep),
        ImageKind::Gif => encode::gif::decode_frames(bytes, keep),
        ImageKind::Webm => encode::webm::decode_frames(bytes, keep),
    }
}

/// Decode our own output back to all its frames.
pub fn decode(kind: ImageKind, bytes: &[u8]) -> Result<Vec<image::RgbaImage>> {
    Ok(decode_where(kind, bytes, &|_| true)?
        .kept
        .into_iter()
        .map(|(_, f)| f)
        .collect())
}

/// Frames compared when checking a fit: 8 spread over the animation.
const SSIM_PICKS: usize = 8;

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
    let Some(cap) = max_bytes else {
        let bytes = encode_once(kind, anim, s)?;
        return finish(kind, anim, bytes, s.quality, 1, 1, None);
    };
    // Search probes use a faster effort (WebP method, VP9 speed; sizes track the final effort's
    // closely); the chosen quality is then encoded once more at the requested effort.
    let probe_s = EncodeSettings {
        method: s.method.min(2),
        ..s
    };
    let mut passes = 0u32;
    // How many times too big the smallest encode tried so far was, normalised to full size and frame
    // rate (bytes grow about linearly with frames and with area): steps that cannot close that gap are
    // skipped instead of encoded.
    let mut shortfall = 1.0f64;
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
        let area_gain = 1.0 / f64::from(scale * scale);
        for step in FPS_STEPS {
            if step > 1 && anim.frames.len() / step < 2 {
                break;
            }
            if (step as f64 * area_gain) < shortfall * 0.7 {
                continue;
            }
            let decimated;
            let a = if step == 1 {
                anim
            } else {
                decimated = anim.decimate(step);
                &decimated
            };
            let found = search_quality(kind, a, s, probe_s, cap, &mut passes)?;
            match found {
                Ok((q, bytes)) => {
                    let (bytes, passes) = final_encode(kind, a, s, q, bytes, cap, passes)?;
                    return finish(kind, anim, bytes, q, step, passes, Some(cap));
                }
                Err(smallest) => {
                    shortfall =
                        shortfall.max(smallest as f64 / cap as f64 * step as f64 * area_gain);
                }
            }
        }
    }
    Err(Error::Encode {
        detail: format!(
            "cannot fit the animation into {cap} bytes even at quality {MIN_QUALITY}, a sixth of the frame rate and the smallest size allowed; shorten it, lower --fps or use a calmer style (vinyl, wave)"
        ),
    })
}

/// Find the highest quality whose probe fits `cap`: `Ok((quality, bytes))`, or `Err(smallest size seen)`.
fn search_quality(
    kind: ImageKind,
    a: &Animation,
    s: EncodeSettings,
    probe_s: EncodeSettings,
    cap: u64,
    passes: &mut u32,
) -> Result<std::result::Result<(f32, Vec<u8>), usize>> {
    let probe = |q: f32| {
        encode_once(
            kind,
            a,
            EncodeSettings {
                quality: q,
                ..probe_s
            },
        )
    };
    // The first round encodes the requested quality and a lower guess side by side (each encoder is
    // single-threaded), so one round usually brackets the answer.
    let guess_q = (s.quality - 30.0).max(MIN_QUALITY);
    let lossless = kind == ImageKind::Webp && s.lossless;
    let (top, guess) = rayon::join(
        || probe(s.quality),
        || (guess_q < s.quality && !lossless).then(|| probe(guess_q)),
    );
    let (top, guess) = (top?, guess.transpose()?);
    *passes += 1 + u32::from(guess.is_some());
    if top.len() as u64 <= cap {
        return Ok(Ok((s.quality, top)));
    }
    if lossless {
        return Ok(Err(top.len())); // lossless has no quality to trade
    }
    // Sizes grow roughly exponentially with quality: predict from the slope between the closest probes.
    let target = cap as f64 * 0.95;
    let mut hi = (s.quality, top.len() as f64);
    let mut lo: Option<(f32, Vec<u8>)> = None;
    let mut slope = typical_slope(kind);
    let mut smallest = top.len();
    if let Some(g) = guess {
        let len = g.len() as f64;
        smallest = smallest.min(g.len());
        if len > 0.0 && hi.1 > len {
            slope = ((hi.1.ln() - len.ln()) / f64::from(s.quality - guess_q)).clamp(0.005, 0.5);
        }
        if g.len() as u64 <= cap {
            lo = Some((guess_q, g));
        } else {
            hi = (guess_q, len);
        }
    }
    if lo.is_none() && hi.0 <= MIN_QUALITY {
        return Ok(Err(smallest));
    }
    for _ in 0..MAX_PROBES {
        let from = lo.as_ref().map_or(hi, |(q, b)| (*q, b.len() as f64));
        let floor = lo.as_ref().map_or(MIN_QUALITY, |(lq, _)| lq + 1.0);
        let ceiling = hi.0 - 1.0;
        if ceiling < floor {
            break;
        }
        let guess = (f64::from(from.0) + (target.ln() - from.1.ln()) / slope).round() as f32;
        let q = guess.max(floor).min(ceiling);
        let bytes = probe(q)?;
        *passes += 1;
        let len = bytes.len() as f64;
        smallest = smallest.min(bytes.len());
        if (q - from.0).abs() > 0.5 && len > 0.0 && from.1 > 0.0 {
            slope = ((len.ln() - from.1.ln()) / f64::from(q - from.0)).clamp(0.005, 0.5);
        }
        if bytes.len() as u64 <= cap {
            let close = len >= cap as f64 * 0.9;
            lo = Some((q, bytes));
            if close || hi.0 - q <= 2.0 {
                break;
            }
        } else {
            hi = (q, len);
            if q <= MIN_QUALITY {
                break;
            }
        }
    }
    Ok(lo.ok_or(smallest))
}

/// Re-encode the chosen quality at the requested WebP method when the probes used a faster one; keep the
/// probe's bytes if the final encode would not fit (or is no smaller). VP9 is not re-encoded: at the same
/// constant quality a slower libvpx speed gave no smaller files in our measurements (the Telegram bench
/// sticker came out larger and over the cap), so the pass cost about a quarter of the fit for nothing.
fn final_encode(
    kind: ImageKind,
    anim: &Animation,
    s: EncodeSettings,
    quality: f32,
    probe: Vec<u8>,
    cap: u64,
    passes: u32,
) -> Result<(Vec<u8>, u32)> {
    if kind != ImageKind::Webp || s.method <= 2 {
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
    // Encoders emit one frame per input frame (WebP may merge identical ones, which only thins the picks).
    let expected = reference.frames.len().div_ceil(step.max(1));
    let picks: Vec<usize> = (0..SSIM_PICKS.min(expected))
        .map(|k| k * expected / SSIM_PICKS.min(expected))
        .collect();
    let decoded = decode_where(kind, &bytes, &|i| picks.contains(&i))?;
    let ssim = mean_ssim(&reference.frames, &decoded.kept, step);
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
        side: decoded.kept.first().map_or(0, |(_, f)| f.width()),
        bytes,
        quality,
        fps,
        frames: decoded.count,
        ssim,
        passes,
        warnings,
    })
}
