//! The fallback ladder: what a sticker gives up, step by step, when quality, frame rate and size (the
//! fitter's own knobs, `art::fit`) cannot bring it under its byte cap. Each step keeps the sticker
//! recognisable and is named in the report; the steps add up, in this order:
//!
//! 1. **Smooth fine texture**: the art is blurred before it is drawn (the outline and shape stay
//!    sharp), at a strength chosen by the shortfall. Fine grain is what every codec spends most on and
//!    what the eye loses first at sticker size. The quality metric bounds it: a blur that takes the
//!    art's SSIM under [`SMOOTH_FLOOR`] would change the picture, not its grain, and is not used
//!    (uniform noise is all grain: it skips this step).
//! 2. **Hold frames** where little changes: a frame whose difference from the frame shown is small is
//!    replaced by it, so the encoders store it for almost nothing; how many are held is set by the
//!    shortfall, up to [`HOLD_MAX_DIFF`].
//! 3. **Calmer motion**: the same style with half, then a quarter of its movement.
//! 4. **A calmer style**: `wave`, whose art stands still under a moving waveform.
//! 5. **A still**: every frame the art at rest (the file stays animated, as packs that mix nothing
//!    else need), first sharp, then smoothed. Only a still over the cap is an error.
//!
//! Each step is tried with a full fit; a step that misses measures the new shortfall (its smallest
//! file against the cap), which sets the strength of the next. The SSIM reported for a fallback is
//! measured against the sticker as first drawn, not against the degraded drawing, so it says what was
//! lost. docs/design.md, "The fallback ladder", has the measurements.

use super::encode::Animation;
use super::fit::{EncodeSettings, Fitted, fit, ssim_against};
use super::quality::{luma, ssim};
use super::styles::Style;
use crate::error::{Error, Result};
use crate::platform::ImageKind;
use image::RgbaImage;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A step of the ladder taken to fit a sticker, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fallback {
    /// Fine texture smoothed: the art blurred by a Gaussian of this sigma (px of the canvas).
    Smooth {
        /// Blur sigma, px.
        sigma_px: f32,
    },
    /// Frames held where little changes: `kept` distinct frames of `frames`.
    Hold {
        /// Frames still drawn anew.
        kept: usize,
        /// Frames in all.
        frames: usize,
    },
    /// The style's movement scaled by `motion` (1 = as drawn).
    Calm {
        /// Share of the movement kept.
        motion: f32,
    },
    /// The animation drawn in a calmer style instead.
    Style {
        /// The style drawn.
        style: Style,
    },
    /// Every frame the art at rest.
    Still,
}

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fallback::Smooth { sigma_px } => write!(f, "fine texture smoothed ({sigma_px:.1} px)"),
            Fallback::Hold { kept, frames } => {
                write!(
                    f,
                    "frames held where little changes ({kept} of {frames} drawn)"
                )
            }
            Fallback::Calm { motion } => {
                write!(f, "calmer motion ({:.0} % of the movement)", motion * 100.0)
            }
            Fallback::Style { style } => write!(f, "calmer style ({style})"),
            Fallback::Still => f.write_str("still (the art at rest)"),
        }
    }
}

/// How a sticker is drawn down the ladder: what `cover` must change when it renders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Degrade {
    /// Gaussian blur of the art before it is drawn, sigma in px of the canvas (0: none).
    pub smooth: f32,
    /// Share of the style's movement (1: as drawn).
    pub motion: f32,
    /// Another style to draw.
    pub style: Option<Style>,
    /// Draw the art at rest in every frame.
    pub still: bool,
}

impl Default for Degrade {
    fn default() -> Self {
        Degrade {
            smooth: 0.0,
            motion: 1.0,
            style: None,
            still: false,
        }
    }
}

/// Blur sigmas of the smoothing step at a 512 px canvas (scaled with the canvas): each about doubles
/// the grain it removes.
const SMOOTH_SIGMAS: [f32; 3] = [0.8, 1.6, 3.2];
/// Smoothing stops where the art's SSIM against itself unsmoothed would fall under this: below it the
/// blur changes the picture, not its grain.
pub(crate) const SMOOTH_FLOOR: f64 = 0.6;
/// Largest mean absolute difference (0–255, luma of a quarter-size copy) between a frame and the
/// frame shown for it to be held.
pub(crate) const HOLD_MAX_DIFF: f32 = 6.0;
/// Movement kept by the calm steps.
const CALM_MOTIONS: [f32; 2] = [0.5, 0.25];
/// A step's strength aims the smallest file at this share of the cap, leaving the fitter room to
/// raise quality and frame rate again.
const AIM: f64 = 0.8;

/// Blur `art`'s colour (not its outline, which the shape draws afterwards) with a Gaussian of `sigma`
/// px.
pub(crate) fn smooth(art: &RgbaImage, sigma: f32) -> RgbaImage {
    if sigma <= 0.0 {
        return art.clone();
    }
    image::imageops::blur(art, sigma)
}

/// Luma of a quarter-size copy of `f`, for comparing frames as a person sees them at sticker size.
fn small_luma(f: &RgbaImage) -> Vec<f32> {
    let (w, h) = ((f.width() / 4).max(1), (f.height() / 4).max(1));
    luma(&image::imageops::resize(
        f,
        w,
        h,
        image::imageops::FilterType::Triangle,
    ))
}

/// `anim` with frames held where little changes: drawing at most about `keep` of its frames anew,
/// a frame is held (replaced by the frame shown) while its mean luma difference from it stays under
/// a threshold, the smallest that meets `keep`, and never over `HOLD_MAX_DIFF`. Returns the
/// animation and how many frames are still drawn anew.
pub(crate) fn hold(anim: &Animation, keep: f64) -> (Animation, usize) {
    let lumas: Vec<Vec<f32>> = anim.frames.iter().map(small_luma).collect();
    let diff = |a: &[f32], b: &[f32]| {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len().max(1) as f32
    };
    // The frames shown for a threshold: each frame's source.
    let shown = |threshold: f32| -> Vec<usize> {
        let mut out = Vec::with_capacity(lumas.len());
        let mut current = 0usize;
        for (i, l) in lumas.iter().enumerate() {
            if i == 0 || diff(l, &lumas[current]) > threshold {
                current = i;
            }
            out.push(current);
        }
        out
    };
    let distinct = |s: &[usize]| s.iter().enumerate().filter(|&(i, &c)| i == c).count();
    let want = ((anim.frames.len() as f64 * keep).ceil() as usize).max(2);
    // Bisect the threshold: the number of frames drawn falls as it rises.
    let (mut lo, mut hi) = (0.0f32, HOLD_MAX_DIFF);
    let mut best = shown(hi);
    if distinct(&best) < want {
        for _ in 0..12 {
            let mid = (lo + hi) / 2.0;
            let s = shown(mid);
            if distinct(&s) <= want {
                (hi, best) = (mid, s);
            } else {
                lo = mid;
            }
        }
    }
    let kept = distinct(&best);
    let frames = best.iter().map(|&c| anim.frames[c].clone()).collect();
    (
        Animation {
            frames,
            durations_ms: anim.durations_ms.clone(),
        },
        kept,
    )
}

/// Everything the ladder needs from `cover`: the format, settings and cap of the fit, the animation
/// as first drawn, and how to draw it degraded.
pub(crate) struct Ladder<'a> {
    pub kind: ImageKind,
    pub settings: &'a EncodeSettings,
    pub cap: u64,
    pub min_side: u32,
    /// The animation as first drawn (what the reported SSIM is measured against).
    pub original: &'a Animation,
    /// The style drawn.
    pub style: Style,
    /// Canvas side, px.
    pub size: u32,
    /// Draw the animation degraded by `Degrade`.
    pub render: &'a dyn Fn(&Degrade) -> Result<Animation>,
}

/// Where the ladder stands: the degradation so far and what it has tried.
#[derive(Clone)]
struct Descent {
    degrade: Degrade,
    steps: Vec<Fallback>,
    best_bytes: u64,
    tried: Vec<String>,
}

impl Ladder<'_> {
    /// Fit the sticker, going down the ladder when the first fit misses: the first step that fits
    /// wins. `Err(Error::TooBig)` only when even a still misses, with every step tried.
    pub(crate) fn fit(&self) -> Result<Fitted> {
        let (best_bytes, tried) = match fit(
            self.kind,
            self.original,
            self.settings.clone(),
            Some(self.cap),
            self.min_side,
        ) {
            Err(Error::TooBig {
                best_bytes, tried, ..
            }) => (best_bytes, tried),
            other => return other,
        };
        let mut d = Descent {
            degrade: Degrade::default(),
            steps: Vec::new(),
            best_bytes,
            tried,
        };
        let animated = self.original.frames.len() > 1;
        if let Some(f) = self.smooth_step(&mut d)? {
            return Ok(f);
        }
        // A sticker that does not move has nothing more to give up.
        if animated {
            for step in [
                Self::hold_step,
                Self::calm_step,
                Self::style_step,
                Self::still_step,
            ] {
                if let Some(f) = step(self, &mut d)? {
                    return Ok(f);
                }
            }
        }
        Err(Error::TooBig {
            cap: self.cap,
            best_bytes: d.best_bytes,
            tried: d.tried,
        })
    }

    /// The animation drawn with `degrade`: the one first drawn when nothing is degraded (it is not
    /// drawn again), else a new drawing.
    fn drawing(&self, degrade: &Degrade) -> Result<Cow<'_, Animation>> {
        if *degrade == Degrade::default() {
            Ok(Cow::Borrowed(self.original))
        } else {
            (self.render)(degrade).map(Cow::Owned)
        }
    }

    /// The shortfall: the smallest file so far against the cap.
    fn shortfall(&self, d: &Descent) -> f64 {
        d.best_bytes as f64 / self.cap as f64
    }

    /// Fit `anim` drawn with `degrade` and `steps`: the fitted file, or `None` with the descent moved
    /// on (its shortfall measured, the step noted as tried and kept for the steps after it).
    fn attempt(
        &self,
        d: &mut Descent,
        anim: &Animation,
        degrade: Degrade,
        step: Fallback,
    ) -> Result<Option<Fitted>> {
        let mut steps = d.steps.clone();
        steps.retain(|s| std::mem::discriminant(s) != std::mem::discriminant(&step));
        steps.push(step);
        let described = if step == Fallback::Still && degrade.smooth > 0.0 {
            format!("{step}, smoothed ({:.1} px)", degrade.smooth)
        } else {
            step.to_string()
        };
        d.degrade = degrade;
        d.steps = steps;
        match self.fit_measured(anim) {
            Ok(fitted) => {
                let fitted = self.relax(d, fitted)?;
                Ok(Some(self.finish(fitted)))
            }
            Err(Error::TooBig { best_bytes, .. }) => {
                d.best_bytes = d.best_bytes.min(best_bytes);
                d.tried.push(format!("{described} ({best_bytes} bytes)"));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Fit `anim` under the cap and measure the result against the sticker as first drawn.
    fn fit_measured(&self, anim: &Animation) -> Result<Fitted> {
        let mut fitted = fit(
            self.kind,
            anim,
            self.settings.clone(),
            Some(self.cap),
            self.min_side,
        )?;
        fitted.ssim = ssim_against(self.kind, &fitted, self.original)?;
        Ok(fitted)
    }

    /// The steps add up, so a later step that fits may leave room for an earlier one to be undone:
    /// with the later step taken, the fit without smoothing and the fit without holding are tried too,
    /// and the file closest to the sticker as first drawn (by SSIM) is kept.
    fn relax(&self, d: &Descent, found: Fitted) -> Result<Fitted> {
        let mut best = found;
        best.fallback = d.steps.clone();
        let last = d.steps.last().copied();
        let mut candidates: Vec<(Fallback, Degrade)> = Vec::new();
        if d.degrade.smooth > 0.0
            && !d.degrade.still
            && !matches!(last, Some(Fallback::Smooth { .. }))
        {
            let undone = Degrade {
                smooth: 0.0,
                ..d.degrade
            };
            let sigma_px = d.degrade.smooth;
            candidates.push((Fallback::Smooth { sigma_px }, undone));
        }
        if let Some(hold @ Fallback::Hold { .. }) = d
            .steps
            .iter()
            .copied()
            .find(|s| matches!(s, Fallback::Hold { .. }))
            && last != Some(hold)
        {
            candidates.push((hold, d.degrade));
        }
        for (undo, degrade) in candidates {
            let drawn = self.drawing(&degrade)?;
            // The steps as they would stand with `undo` undone (a hold counts this drawing's frames).
            let mut trial = d.clone();
            trial.steps.retain(|s| *s != undo);
            let anim = self.held_like(&mut trial, drawn);
            match self.fit_measured(&anim) {
                Ok(mut f) if f.ssim > best.ssim => {
                    f.fallback = trial.steps;
                    best = f;
                }
                Ok(_) | Err(Error::TooBig { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(best)
    }

    /// A fitted fallback with its warnings: the steps taken, and a still said plainly.
    fn finish(&self, mut fitted: Fitted) -> Fitted {
        let named: Vec<String> = fitted.fallback.iter().map(ToString::to_string).collect();
        fitted.warnings.retain(|w| !w.starts_with("image quality"));
        fitted.warnings.insert(
            0,
            format!(
                "to fit {} bytes after quality and frame rate ran out: {} (SSIM {:.3} against the sticker as drawn)",
                self.cap,
                named.join(", "),
                fitted.ssim
            ),
        );
        if fitted.fallback.contains(&Fallback::Still) {
            fitted.warnings.push(format!(
                "the sticker does not move: even the calmest motion did not fit {} bytes",
                self.cap
            ));
        }
        fitted
    }

    /// Step 1: smooth the art, from the sigma the shortfall calls for, while its SSIM stays over
    /// `SMOOTH_FLOOR`.
    fn smooth_step(&self, d: &mut Descent) -> Result<Option<Fitted>> {
        let scale = self.size as f32 / 512.0;
        // A small shortfall starts at the mildest blur; each doubling of it, one blur stronger.
        let start =
            (self.shortfall(d).max(1.0).log2().floor() as usize).min(SMOOTH_SIGMAS.len() - 1);
        for sigma in &SMOOTH_SIGMAS[start..] {
            let degrade = Degrade {
                smooth: sigma * scale,
                ..d.degrade
            };
            let anim = (self.render)(&degrade)?;
            let (Some(a), Some(o)) = (anim.frames.first(), self.original.frames.first()) else {
                break;
            };
            if ssim(a, o) < SMOOTH_FLOOR {
                break;
            }
            let step = Fallback::Smooth {
                sigma_px: degrade.smooth,
            };
            if let Some(f) = self.attempt(d, &anim, degrade, step)? {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }

    /// Step 2: hold frames, as many as the shortfall calls for (within `HOLD_MAX_DIFF`).
    fn hold_step(&self, d: &mut Descent) -> Result<Option<Fitted>> {
        let anim = self.drawing(&d.degrade)?;
        let keep = (AIM / self.shortfall(d)).clamp(0.1, 0.9);
        let (held, kept) = hold(&anim, keep);
        if kept >= anim.frames.len() {
            return Ok(None);
        }
        let step = Fallback::Hold {
            kept,
            frames: anim.frames.len(),
        };
        self.attempt(d, &held, d.degrade, step)
    }

    /// Step 3: calmer motion, held as step 2 held it.
    fn calm_step(&self, d: &mut Descent) -> Result<Option<Fitted>> {
        for motion in CALM_MOTIONS {
            let degrade = Degrade {
                motion,
                ..d.degrade
            };
            let drawn = self.drawing(&degrade)?;
            let anim = self.held_like(d, drawn);
            if let Some(f) = self.attempt(d, &anim, degrade, Fallback::Calm { motion })? {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }

    /// Step 4: the calmest style, `wave` (its art stands still), unless already drawn.
    fn style_step(&self, d: &mut Descent) -> Result<Option<Fitted>> {
        if self.style == Style::Wave {
            return Ok(None);
        }
        let degrade = Degrade {
            style: Some(Style::Wave),
            ..d.degrade
        };
        let drawn = self.drawing(&degrade)?;
        let anim = self.held_like(d, drawn);
        let step = Fallback::Style { style: Style::Wave };
        self.attempt(d, &anim, degrade, step)
    }

    /// Step 5: a still, sharp, then smoothed as step 1 smoothed it, then at the strongest blur.
    fn still_step(&self, d: &mut Descent) -> Result<Option<Fitted>> {
        let strongest = SMOOTH_SIGMAS[SMOOTH_SIGMAS.len() - 1] * self.size as f32 / 512.0;
        let mut blurs = vec![0.0, d.degrade.smooth, strongest];
        blurs.dedup();
        blurs.retain(|&b| b == 0.0 || b >= d.degrade.smooth);
        for smooth in blurs {
            let degrade = Degrade {
                smooth,
                still: true,
                ..Degrade::default()
            };
            let anim = (self.render)(&degrade)?;
            // Steps before the still no longer apply: it is drawn from the art alone.
            d.steps.clear();
            if smooth > 0.0 {
                d.steps.push(Fallback::Smooth { sigma_px: smooth });
            }
            if let Some(f) = self.attempt(d, &anim, degrade, Fallback::Still)? {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }

    /// `anim` held as the hold step held the animation before it, if it was taken; the hold step in
    /// `d.steps` then counts the frames of this animation.
    fn held_like<'x>(&self, d: &mut Descent, anim: Cow<'x, Animation>) -> Cow<'x, Animation> {
        let Some(Fallback::Hold { kept, frames }) = d
            .steps
            .iter_mut()
            .find(|s| matches!(s, Fallback::Hold { .. }))
        else {
            return anim;
        };
        let (held, now_kept) = hold(&anim, *kept as f64 / (*frames).max(1) as f64);
        (*kept, *frames) = (now_kept, anim.frames.len());
        Cow::Owned(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(values: &[u8]) -> Animation {
        Animation::at_fps(
            values
                .iter()
                .map(|&v| RgbaImage::from_pixel(16, 16, image::Rgba([v, v, v, 255])))
                .collect(),
            10.0,
        )
    }

    #[test]
    fn hold_keeps_frames_that_change_and_holds_those_that_barely_do() {
        // Two jumps (0 → 100 → 200) and small drifts between them.
        let anim = frames(&[0, 1, 2, 3, 100, 101, 102, 200, 201, 202]);
        let (held, kept) = hold(&anim, 0.3);
        assert_eq!(kept, 3, "one frame per level");
        let level = |i: usize| held.frames[i].get_pixel(0, 0).0[0];
        assert_eq!((level(3), level(6), level(9)), (0, 100, 200));
        assert_eq!(held.durations_ms, anim.durations_ms);
        // Big changes are never held, whatever is asked.
        let (_, kept) = hold(&frames(&[0, 50, 100, 150, 200]), 0.1);
        assert_eq!(kept, 5);
    }

    #[test]
    fn smoothing_blurs_grain_and_keeps_flat_art() {
        let flat = RgbaImage::from_pixel(32, 32, image::Rgba([40, 80, 120, 255]));
        assert_eq!(smooth(&flat, 1.6), flat);
        let grain = RgbaImage::from_fn(32, 32, |x, y| {
            let v = if (x + y) % 2 == 0 { 0 } else { 255 };
            image::Rgba([v, v, v, 255])
        });
        let p = smooth(&grain, 1.6).get_pixel(16, 16).0[0];
        assert!((100..=155).contains(&p), "{p}");
    }
}
