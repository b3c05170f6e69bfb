//! Fitting an animation under a byte cap: search quality first (predicting from the sizes already seen,
//! then bisecting), then lower the frame rate, with few encodes; report the quality reached as SSIM.
//!
//! `fit` (here) drives a `Search` (search.rs) per frame rate and size, on the `SizeModel` (model.rs)
//! and an `Estimator` (estimate.rs); enough SSIM is enough.rs. What differs between formats comes from
//! their `Codec` (`art::encode::codec`). docs/design.md, "The fitter", explains the whole.

mod enough;
mod estimate;
mod model;
mod search;
#[cfg(test)]
mod tests;

pub use super::encode::EncodeSettings;
use super::encode::{self, Animation, codec};
use super::quality::mean_ssim;
use crate::error::{Error, Result};
use crate::platform::ImageKind;
use enough::descend;
use estimate::Estimator;
use model::SizeModel;
use search::{Found, Search};
use serde::Serialize;

/// The result of fitting.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Fitted {
    /// The encoded file.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Side of the encoded frames (smaller than the canvas when size had to drop to fit).
    pub side: u32,
    /// Quality (0..=100) of the file.
    pub quality: f32,
    /// Frame rate of the file.
    pub fps: f64,
    /// Frames encoded (at `fps`; a WebP may store fewer, merging repeats into longer frames).
    pub frames: usize,
    /// Mean SSIM of the decoded file against the rendered frames.
    pub ssim: f64,
    /// Full encodes made.
    pub passes: u32,
    /// Cheap size estimates made while searching (APNG frame samples, VP9 realtime encodes, WebP
    /// quarter- or half-size encodes).
    pub estimates: u32,
    /// What set the quality.
    pub stop: Stop,
    /// Steps of the fallback ladder taken because quality, frame rate and size could not fit the cap
    /// (`art::fallback`); empty when none was needed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<crate::art::fallback::Fallback>,
    /// Also in the cover report's own `warnings`, which is what is serialised.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// What ended a fit's search for quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stop {
    /// The byte cap: a higher quality would not fit.
    Cap,
    /// The requested quality was reached under the cap (or there is no cap).
    Quality,
    /// The SSIM the settings call enough was reached, below the cap and the requested quality.
    Enough,
}

impl Stop {
    /// What held the quality, for people; `None` when the requested quality was reached.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Stop::Cap => Some("byte cap"),
            Stop::Quality => None,
            Stop::Enough => Some("enough SSIM"),
        }
    }
}

/// Below this SSIM the result is visibly degraded: warn.
pub const SSIM_WARNING: f64 = 0.90;
const MIN_QUALITY: f32 = 5.0;
/// Probes per frame rate and size (a probe that lands close to the cap ends the search sooner).
const MAX_PROBES: usize = 6;
/// A probe between this share of the cap and the cap is close enough: a higher quality would gain
/// little and cost another encode.
const CLOSE: f64 = 0.9;
/// Frame-rate steps tried when quality alone cannot fit: every frame, then every 2nd, 3rd, 4th, 6th.
const FPS_STEPS: [usize; 5] = [1, 2, 3, 4, 6];
/// A fit of every frame below this SSIM, in a format that does not predict motion
/// (`Tuning::halves_rate_when_smeared`), is compared with a fit of every second frame: half the frames
/// buy a far higher quality, and at the bottom of the scale a frame is visibly smeared (WebP) or
/// posterised (a palette of a few colours). See docs/design.md for the measurements.
const HALF_RATE_SSIM: f64 = 0.95;
/// How much sharper (SSIM) half the frame rate must be to give up the smoother motion.
const HALF_RATE_GAIN: f64 = 0.01;

/// Encode once with `kind`.
pub fn encode_once(kind: ImageKind, anim: &Animation, s: EncodeSettings) -> Result<Vec<u8>> {
    encode_with(kind, anim, &s)
}

/// `encode_once` with borrowed settings.
fn encode_with(kind: ImageKind, anim: &Animation, s: &EncodeSettings) -> Result<Vec<u8>> {
    codec(kind).encode(anim, s)
}

/// Decode our own output back to frames, keeping those `keep` asks for. `slots`, the durations of the
/// frames that were encoded, lines the decoded frames up with them where an encoder merged repeated
/// frames (WebP; the other encoders store every frame).
pub fn decode_where(
    kind: ImageKind,
    bytes: &[u8],
    slots: Option<&[u32]>,
    keep: &dyn Fn(usize) -> bool,
) -> Result<encode::DecodedFrames> {
    codec(kind).decode_where(bytes, slots, keep)
}

/// Decode our own output back to all the frames it stores.
pub fn decode(kind: ImageKind, bytes: &[u8]) -> Result<Vec<image::RgbaImage>> {
    Ok(decode_where(kind, bytes, None, &|_| true)?
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

/// Work done by a fit, for the report.
#[derive(Debug, Clone, Copy, Default)]
struct Work {
    /// Full encodes.
    passes: u32,
    /// Cheap size estimates.
    estimates: u32,
}

/// Below this SSIM a palette APNG that reached the requested quality with room under its cap is
/// checked against truecolour (see `fit`).
const PALETTE_RETRY_SSIM: f64 = 0.95;

/// Where a fit ended: the size and frame step of the animation it encoded, and whether its search
/// already held quality to `enough_ssim` (see `Estimator::tells_ssim`).
#[derive(Debug, Clone, Copy)]
struct Scope {
    side: u32,
    step: usize,
    checked: bool,
}

/// Encode `anim` at the best quality (up to `s.quality`) that fits `max_bytes`: quality first, then frame
/// rate, then size (never below `min_side` pixels). With `s.enough_ssim`, a result better than that
/// takes the lowest quality that is still as good: APNG and VP9 searches tell SSIM from their estimates
/// and stop there (`Estimator::ssim`); other fits come down afterwards by full encodes (`descend`).
///
/// A palette APNG that reached the requested quality under the cap with room to spare has no knob left
/// to turn, and on smooth gradients its bands can cost more than truecolour's posterising at a lower
/// frame rate. Such a fit is checked against a truecolour fit, and the higher SSIM is kept.
///
/// How the fitter works, and why its constants are what they are: docs/design.md, "The fitter".
pub fn fit(
    kind: ImageKind,
    anim: &Animation,
    mut s: EncodeSettings,
    max_bytes: Option<u64>,
    min_side: u32,
) -> Result<Fitted> {
    let (mut fitted, mut scope) = fit_one(kind, anim, &s, max_bytes, min_side)?;
    let roomy = max_bytes.is_some_and(|cap| (fitted.bytes.len() as f64) < CLOSE * cap as f64);
    if codec(kind).palette(&s)
        && anim.frames.len() > 1
        && fitted.quality >= s.quality
        && roomy
        && fitted.ssim < PALETTE_RETRY_SSIM
    {
        let truecolour_s = EncodeSettings {
            palette: false,
            ..s.clone()
        };
        let (truecolour, truecolour_scope) =
            fit_one(kind, anim, &truecolour_s, max_bytes, min_side)?;
        let work = (
            fitted.passes + truecolour.passes,
            fitted.estimates + truecolour.estimates,
        );
        if truecolour.ssim > fitted.ssim {
            (fitted, scope, s) = (truecolour, truecolour_scope, truecolour_s);
        }
        (fitted.passes, fitted.estimates) = work;
    }
    match s.enough_ssim {
        Some(enough) if fitted.ssim > enough && !scope.checked => {
            descend(kind, anim, &s, max_bytes, fitted, scope, enough)
        }
        _ => Ok(fitted),
    }
}

/// `fit` in one mode, and where it ended.
///
/// Long because it is the loop over sizes and frame steps whose state (the size model, the work done,
/// the WebP ratios of a size, the full-rate fit held for comparison) spans every iteration; each
/// iteration's search is a `Search`.
fn fit_one(
    kind: ImageKind,
    anim: &Animation,
    s: &EncodeSettings,
    max_bytes: Option<u64>,
    min_side: u32,
) -> Result<(Fitted, Scope)> {
    let full_scope = Scope {
        side: anim.width(),
        step: 1,
        checked: false,
    };
    let Some(cap) = max_bytes else {
        let bytes = encode_with(kind, anim, s)?;
        let work = Work {
            passes: 1,
            estimates: 0,
        };
        let settled = Settled {
            bytes,
            quality: s.quality,
            step: 1,
            stop: Stop::Quality,
        };
        let fitted = settled.finish(kind, anim, work, None)?;
        return Ok((fitted, full_scope));
    };
    // Estimates and exact probes use a faster WebP method (sizes track the final method's closely); the
    // answer is encoded at the requested one. VP9 keeps its effort (its estimates are realtime encodes
    // of their own, and its full encodes are final).
    let probe_s = EncodeSettings {
        method: codec(kind)
            .tuning()
            .probe_effort
            .map_or(s.method, |m| s.method.min(m)),
        ..s.clone()
    };
    let mut work = Work::default();
    let mut model = SizeModel::new(kind);
    for scale in SCALES {
        let side = (anim.width() as f32 * scale).round() as u32 & !1;
        if scale < 1.0 && side < min_side.max(2) {
            break;
        }
        let scaled;
        let anim = if scale < 1.0 {
            scaled = anim.resized(side, side);
            &scaled
        } else {
            anim
        };
        let area_gain = 1.0 / f64::from(scale * scale);
        let webp_ratios = std::cell::RefCell::new(Vec::new());
        // A WebP or APNG fit of every frame below `HALF_RATE_SSIM`, held until the next frame rate's
        // fit is compared with it.
        let mut full_rate: Option<(Fitted, Scope)> = None;
        for step in FPS_STEPS {
            if step > 1 && anim.frames.len() / step < 2 {
                break;
            }
            let norm = step as f64 * area_gain;
            // Skip steps that cannot close the gap the smallest encode so far leaves.
            if model.smallest_norm.is_finite() && model.smallest_norm / norm > cap as f64 / 0.7 {
                continue;
            }
            let decimated;
            let a = if step == 1 {
                anim
            } else {
                decimated = anim.decimate(step);
                &decimated
            };
            let estimator = Estimator::new(kind, a, probe_s.clone(), s.method, &webp_ratios);
            let mut search = Search {
                estimator: &estimator,
                s,
                cap,
                norm,
                model: &mut model,
                work: &mut work,
            };
            if let Some(found) = search.quality()? {
                let Found {
                    quality: q,
                    bytes,
                    enough,
                } = search.again_if_roomy(found)?;
                let stop = if enough {
                    Stop::Enough
                } else if q >= s.quality && step == 1 && scale >= 1.0 {
                    Stop::Quality
                } else {
                    Stop::Cap
                };
                let settled = Settled {
                    bytes,
                    quality: q,
                    step,
                    stop,
                };
                let fitted = settled.finish(kind, anim, work, Some(cap))?;
                let scope = Scope {
                    side: anim.width(),
                    step,
                    checked: s.enough_ssim.is_some() && estimator.tells_ssim(),
                };
                if let Some((full, full_scope)) = full_rate.take() {
                    // Half the frame rate against every frame: keep the clearly sharper one.
                    let mut best = if fitted.ssim > full.ssim + HALF_RATE_GAIN {
                        (fitted, scope)
                    } else {
                        (full, full_scope)
                    };
                    (best.0.passes, best.0.estimates) = (work.passes, work.estimates);
                    return Ok(best);
                }
                if codec(kind).tuning().halves_rate_when_smeared
                    && step == 1
                    && fitted.ssim < HALF_RATE_SSIM
                    && anim.frames.len() >= 4
                {
                    full_rate = Some((fitted, scope));
                    continue;
                }
                return Ok((fitted, scope));
            }
        }
        if let Some(found) = full_rate {
            return Ok(found);
        }
    }
    floor(kind, anim, s, cap, min_side, work)
}

/// The last resort of `fit_one` once every search missed: one encode at the bottom of the ladder
/// (the lowest quality, the coarsest frame step, the smallest size allowed). Searches give up on
/// predictions, which run high at the bottom of the scale, so this encode may still fit; if not, its
/// size is the shortfall reported in [`Error::TooBig`].
fn floor(
    kind: ImageKind,
    anim: &Animation,
    s: &EncodeSettings,
    cap: u64,
    min_side: u32,
    mut work: Work,
) -> Result<(Fitted, Scope)> {
    let smallest = SCALES
        .iter()
        .map(|scale| (anim.width() as f32 * scale).round() as u32 & !1)
        .filter(|&side| side == anim.width() || side >= min_side.max(2))
        .min()
        .unwrap_or(anim.width());
    let scaled;
    let sized = if smallest < anim.width() {
        scaled = anim.resized(smallest, smallest);
        &scaled
    } else {
        anim
    };
    let step = FPS_STEPS
        .into_iter()
        .filter(|&step| step == 1 || sized.frames.len() / step >= 2)
        .max()
        .unwrap_or(1);
    let decimated;
    let a = if step > 1 {
        decimated = sized.decimate(step);
        &decimated
    } else {
        sized
    };
    let at_floor = EncodeSettings {
        quality: MIN_QUALITY.min(s.quality),
        ..s.clone()
    };
    let bytes = encode_with(kind, a, &at_floor)?;
    work.passes += 1;
    if bytes.len() as u64 <= cap {
        let settled = Settled {
            bytes,
            quality: at_floor.quality,
            step,
            stop: Stop::Cap,
        };
        let fitted = settled.finish(kind, sized, work, Some(cap))?;
        let scope = Scope {
            side: smallest,
            step,
            checked: false,
        };
        return Ok((fitted, scope));
    }
    let mut floor = format!("quality {MIN_QUALITY}");
    if step > 1 {
        floor += &format!(", 1/{step} of the frame rate");
    }
    if smallest < anim.width() {
        floor += &format!(", {smallest}×{smallest} px");
    }
    Err(Error::TooBig {
        cap,
        best_bytes: bytes.len() as u64,
        tried: vec![format!("{floor} ({} bytes)", bytes.len())],
    })
}

/// Frames compared when checking a fit of `n` encoded frames: `SSIM_PICKS` spread over them.
fn ssim_picks(n: usize) -> Vec<usize> {
    let k = SSIM_PICKS.min(n);
    (0..k).map(|j| j * n / k).collect()
}

/// A file a fit settled on, before it is measured (see `Settled::finish`).
struct Settled {
    bytes: Vec<u8>,
    quality: f32,
    /// Frame step of the animation encoded (every `step`-th frame of the reference).
    step: usize,
    stop: Stop,
}

impl Settled {
    /// The fit's result: decode the file back, measure its SSIM against `reference` (the animation at
    /// the size encoded, every frame) and note what was given up to fit `cap`.
    fn finish(
        self,
        kind: ImageKind,
        reference: &Animation,
        work: Work,
        cap: Option<u64>,
    ) -> Result<Fitted> {
        let Settled {
            bytes,
            quality,
            step,
            stop,
        } = self;
        // The frames encoded: every `step`-th of the reference, each as long as the frames it stands
        // for.
        let (ssim, decoded) = measure(kind, &bytes, reference, step)?;
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
            passes: work.passes,
            estimates: work.estimates,
            stop,
            fallback: Vec::new(),
            warnings,
        })
    }
}

/// Decode `bytes` (every `step`-th frame of `reference`, at its size) and measure its mean SSIM
/// against `reference` on `SSIM_PICKS` frames; also the decoded picks and the count of frames stored.
fn measure(
    kind: ImageKind,
    bytes: &[u8],
    reference: &Animation,
    step: usize,
) -> Result<(f64, encode::DecodedFrames)> {
    let slots = reference.decimated_durations(step);
    let picks = ssim_picks(slots.len());
    let decoded = decode_where(kind, bytes, Some(&slots), &|i| picks.contains(&i))?;
    Ok((mean_ssim(&reference.frames, &decoded.kept, step), decoded))
}

/// The SSIM of a fitted file against `reference`, the animation it stands for at its full size and
/// frame rate (resized and decimated as the fit was): what a fallback drawing lost against the
/// sticker as first drawn.
pub(crate) fn ssim_against(kind: ImageKind, fitted: &Fitted, reference: &Animation) -> Result<f64> {
    let step = if fitted.fps > 0.0 {
        (reference.fps() / fitted.fps).round().max(1.0) as usize
    } else {
        1
    };
    let resized;
    let at_side = if fitted.side > 0 && fitted.side < reference.width() {
        resized = reference.resized(fitted.side, fitted.side);
        &resized
    } else {
        reference
    };
    Ok(measure(kind, &fitted.bytes, at_side, step)?.0)
}
