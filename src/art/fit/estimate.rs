//! Cheap size estimates standing in for full encodes while the quality search runs: APNG frame
//! samples, VP9 realtime encodes of the colour stream, and smaller WebP animations scaled by a ratio
//! sampled from still frames.

use super::enough::stored_ssim;
use super::{EncodeSettings, Work, encode_with, ssim_picks};
use crate::art::encode::{self, Animation, EstimateBy, codec};
use crate::art::quality::mean_ssim;
use crate::error::Result;
use crate::platform::ImageKind;

// The measurements behind each constant here are in docs/design.md ("The fitter", "Estimates").

/// Frames sampled by an APNG size estimate (shorter animations are estimated by a whole encode at the
/// fast level; see `apng::estimate`).
const APNG_SAMPLES: usize = 10;
/// APNG estimates compress at zlib's balanced level (effort 1), far faster than the final encode's best
/// level.
const APNG_ESTIMATE_EFFORT: i32 = 1;
/// First guess of an APNG at zlib's best level over its estimate at the balanced level (the median
/// measured for truecolour and for palette frames).
fn apng_estimate_ratio(palette: bool) -> f64 {
    if palette { 0.98 } else { 0.92 }
}
/// First guess of a VP9 sticker (colour and alpha) at effort `effort` over its estimate, the colour
/// stream alone at libvpx's realtime speed 8 (the median measured at each deadline); the first full
/// encode replaces it with the measured ratio.
fn vp9_estimate_ratio(effort: i32) -> f64 {
    if effort >= 5 { 0.6 } else { 0.68 }
}
/// Frames a VP9 SSIM measurement decodes: a second at Telegram's 30 fps, cheap to encode alone.
const VP9_SSIM_FRAMES: usize = 30;
/// 1 − SSIM of a VP9 sticker at the default effort over that of its estimate at the same quality
/// (realtime speed 8, colour alone, with the rendered alpha), both over the first `VP9_SSIM_FRAMES`
/// frames: a little above the median measured, so that a fit lands on the good side of enough more
/// often than not.
const VP9_LACK_RATIO: f64 = 0.8;
/// WebP estimates encode the animation at a quarter of its side where that leaves 128 px or more (a
/// 512 px sticker), else at half: 2 or 1 halvings. The quarter size is the cheaper and, with its own
/// sampled ratio, as good a predictor.
fn webp_estimate_halvings(side: u32) -> u32 {
    if side >= 512 { 2 } else { 1 }
}
/// WebP's full-over-estimate ratios by halvings: the lowest to expect, under which an estimate over the
/// cap needs no sample of its own, and the fallback when none was sampled. Only bounds: each
/// animation's own ratio is sampled (`WEBP_RATIO_SAMPLES`).
fn webp_ratio_bounds(halvings: u32) -> (f64, f64) {
    if halvings >= 2 {
        (3.3, 5.0)
    } else {
        (1.5, 2.2)
    }
}
/// Frames encoded as still images at full size and at the estimates' size to measure an animation's own
/// WebP full-over-estimate ratio before any full encode: a fixed first guess sends the search astray,
/// and a second search with a second full encode costs more than the sample.
const WEBP_RATIO_SAMPLES: usize = 6;
/// The ratio drifts with quality, fastest at the lowest qualities: it is sampled again when an estimate
/// is further than this from every earlier sample, in quality points (half the lower quality, from 3 to
/// 8).
fn webp_ratio_span(q: f32) -> f32 {
    (q / 2.0).clamp(3.0, 8.0)
}

/// Cheap stand-ins for full encodes of one animation, when its format has them: APNG frames are
/// independent DEFLATE streams, so a sample of frames compressed at a fast level predicts the file;
/// VP9's colour stream at the realtime deadline and a smaller WebP predict full sizes up to a ratio.
pub(super) struct Estimator<'a> {
    pub(super) kind: ImageKind,
    pub(super) anim: &'a Animation,
    /// How the format estimates this animation, if it does (see `Codec::estimate_by`).
    by: Option<EstimateBy>,
    /// Settings of the estimates (WebP: the fast probe method).
    pub(super) probe_s: EncodeSettings,
    /// Effort (WebP method, VP9 speed) of the full encodes.
    full_method: i32,
    /// WebP: the animation at the estimates' size.
    small: std::cell::OnceCell<Animation>,
    /// WebP: the sampled (quality, full-over-estimate ratio) pairs, shared by the frame rates of one size
    /// (a lower frame rate keeps a subset of the same frames).
    webp_ratios: &'a std::cell::RefCell<Vec<(f32, f64)>>,
    /// VP9: the latest estimate and its quality, kept to measure its SSIM without encoding it again.
    last_vp9: std::cell::RefCell<Option<(f32, encode::webm::Estimate)>>,
}

impl<'a> Estimator<'a> {
    pub(super) fn new(
        kind: ImageKind,
        anim: &'a Animation,
        probe_s: EncodeSettings,
        full_method: i32,
        webp_ratios: &'a std::cell::RefCell<Vec<(f32, f64)>>,
    ) -> Self {
        Estimator {
            kind,
            anim,
            by: codec(kind).estimate_by(anim, &probe_s),
            probe_s,
            full_method,
            small: std::cell::OnceCell::new(),
            webp_ratios,
            last_vp9: std::cell::RefCell::new(None),
        }
    }

    /// Whether probes of this animation are estimates (all but GIF and lossless or tiny WebP).
    pub(super) fn estimates(&self) -> bool {
        self.by.is_some()
    }

    /// Whether the search can tell the SSIM a quality reaches from estimates (`ssim`): sampled (APNG)
    /// and realtime (VP9) ones. A smaller animation (WebP) cannot.
    pub(super) fn tells_ssim(&self) -> bool {
        matches!(self.by, Some(EstimateBy::Samples | EstimateBy::Realtime))
    }

    /// The SSIM a full encode at `q` is predicted to reach (see `tells_ssim`). APNG's stored frames are
    /// exactly what the file decodes to. VP9's is measured on the first `VP9_SSIM_FRAMES` frames of an
    /// estimate (the latest one's when it is at `q`, else an encode of those frames alone), which decode
    /// a little worse than the full encode's (`VP9_LACK_RATIO`).
    pub(super) fn ssim(&self, q: f32, work: &mut Work) -> Result<f64> {
        let a = self.anim;
        if self.by == Some(EstimateBy::Samples) {
            work.estimates += 1;
            return Ok(stored_ssim(self.kind, a, a, 1, q, &self.probe_s)
                .expect("invariant: a sampled format stores frames known without encoding"));
        }
        let count = a.frames.len().min(VP9_SSIM_FRAMES);
        let picks = ssim_picks(count);
        let keep = |i: usize| picks.contains(&i);
        let cached = self.last_vp9.borrow();
        let frames = match cached.as_ref() {
            Some((q0, estimate)) if *q0 == q => estimate.frames(a, &keep)?,
            _ => {
                work.estimates += 1;
                encode::webm::Estimate::first(a, count, q, &self.probe_s.threads)?
                    .frames(a, &keep)?
            }
        };
        Ok(1.0 - VP9_LACK_RATIO * (1.0 - mean_ssim(&a.frames, &frames.kept, 1)))
    }

    /// Whether estimates are trusted as calibrated before any full encode (so they aim as close to the
    /// cap as calibrated ones): smaller WebPs carry this animation's own sampled ratio, and APNG's first
    /// guess is close to the measured ratio; VP9's ratio spreads wider (see docs/design.md).
    pub(super) fn trusted_uncalibrated(&self) -> bool {
        matches!(self.by, Some(EstimateBy::Smaller | EstimateBy::Samples))
    }

    /// The raw figure of an estimate at `q`: the fitter turns it into a predicted file size by the
    /// ratio its last full encode measured, or else by `first_guess`.
    pub(super) fn raw(&self, q: f32) -> Result<f64> {
        let a = self.anim;
        Ok(match self.by {
            Some(EstimateBy::Samples) => {
                let mode = self.probe_s.apng_mode();
                encode::apng::estimate(a, q, APNG_ESTIMATE_EFFORT, mode, APNG_SAMPLES)? as f64
            }
            Some(EstimateBy::Realtime) => {
                let estimate = encode::webm::Estimate::new(a, q, &self.probe_s.threads)?;
                let len = estimate.len() as f64;
                *self.last_vp9.borrow_mut() = Some((q, estimate));
                len
            }
            _ => {
                let s = EncodeSettings {
                    quality: q,
                    ..self.probe_s.clone()
                };
                encode_with(self.kind, self.small(), &s)?.len() as f64
            }
        })
    }

    /// The full-size-over-estimate factor to use for an estimate of `raw` at `q` before any full encode
    /// has measured one. A WebP one is sampled only where it can matter: an estimate over `cap` even at
    /// the lowest ratio seen on sticker art is over whatever this animation's ratio is, so it takes the
    /// nearest ratio sampled so far (or the fallback) for the model's next guess, whose own estimate
    /// then samples near the cap.
    pub(super) fn first_guess(&self, q: f32, raw: f64, cap: f64) -> Result<f64> {
        Ok(match self.by {
            Some(EstimateBy::Samples) => apng_estimate_ratio(self.probe_s.palette),
            Some(EstimateBy::Realtime) => vp9_estimate_ratio(self.full_method),
            _ => {
                let (lowest, fallback) = self.webp_bounds();
                if raw * lowest > cap {
                    self.nearest_webp_ratio(q).map_or(fallback, |r| r.1)
                } else {
                    self.webp_ratio(q)?
                }
            }
        })
    }

    /// The sampled (quality, WebP ratio) pair nearest to `q`, if any.
    fn nearest_webp_ratio(&self, q: f32) -> Option<(f32, f64)> {
        self.webp_ratios
            .borrow()
            .iter()
            .min_by(|x, y| (x.0 - q).abs().total_cmp(&(y.0 - q).abs()))
            .copied()
    }

    /// The lowest and fallback WebP ratios for this animation's estimate size.
    fn webp_bounds(&self) -> (f64, f64) {
        webp_ratio_bounds(webp_estimate_halvings(self.anim.width()))
    }

    /// The animation at the WebP estimates' size, made once.
    fn small(&self) -> &Animation {
        self.small.get_or_init(|| {
            let half = self.anim.halved();
            if webp_estimate_halvings(self.anim.width()) >= 2 {
                half.halved()
            } else {
                half
            }
        })
    }

    /// This animation's WebP full-over-estimate ratio near quality `q`, from still encodes of a few
    /// frames.
    fn webp_ratio(&self, q: f32) -> Result<f64> {
        if let Some((q0, r)) = self.nearest_webp_ratio(q)
            && (q - q0).abs() <= webp_ratio_span(q.min(q0))
        {
            return Ok(r);
        }
        let small = self.small();
        let n = self.anim.frames.len().min(small.frames.len());
        let k = WEBP_RATIO_SAMPLES.min(n);
        let settings = |method| encode::webp::WebpSettings {
            quality: q,
            lossless: false,
            method,
        };
        let (mut full, mut reduced) = (0usize, 0usize);
        for j in 0..k {
            let i = j * n / k;
            full += encode::webp::encode_static(&self.anim.frames[i], settings(self.full_method))?
                .len();
            reduced +=
                encode::webp::encode_static(&small.frames[i], settings(self.probe_s.method))?.len();
        }
        let r = if reduced > 0 {
            full as f64 / reduced as f64
        } else {
            self.webp_bounds().1
        };
        self.webp_ratios.borrow_mut().push((q, r));
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::super::encode_once;
    use super::super::tests::zooming;
    use super::*;

    #[test]
    fn webp_estimates_scaled_by_the_sampled_ratio_predict_the_full_size() {
        // 128 px estimates at half size, 512 px at a quarter.
        for (side, small) in [(128, 64), (512, 128)] {
            let anim = zooming(side, 24);
            let ratios = std::cell::RefCell::new(Vec::new());
            let probe_s = EncodeSettings {
                method: 2,
                ..EncodeSettings::default()
            };
            let est = Estimator::new(ImageKind::Webp, &anim, probe_s, 4, &ratios);
            assert_eq!(est.small().width(), small);
            for q in [30.0, 70.0] {
                let raw = est.raw(q).expect("estimate");
                let ratio = est.first_guess(q, raw, f64::INFINITY).expect("ratio");
                let full = encode_once(
                    ImageKind::Webp,
                    &anim,
                    EncodeSettings {
                        quality: q,
                        ..EncodeSettings::default()
                    },
                )
                .expect("encode")
                .len() as f64;
                // The fixed first guess is not what is used: the sample measured this animation.
                assert_ne!(ratio, est.webp_bounds().1);
                let err = (raw * ratio / full - 1.0).abs();
                assert!(
                    err < 0.1,
                    "{side} px, q {q}: predicted {:.0}, full {full}",
                    raw * ratio
                );
            }
            // Two qualities far apart: two samples, each kept for later estimates near it.
            assert_eq!(ratios.borrow().len(), 2);
            est.first_guess(33.0, 1000.0, f64::INFINITY).expect("ratio");
            assert_eq!(ratios.borrow().len(), 2);
            // Far from both, but over the cap at any plausible ratio: no sample, the nearest one
            // stands in.
            let near_70 = ratios.borrow()[1].1;
            let over = est.first_guess(95.0, 1000.0, 1000.0).expect("ratio");
            assert_eq!((over, ratios.borrow().len()), (near_70, 2));
            // Where the ratio decides whether it fits, the estimate samples its own.
            let decides = 1000.0 * est.webp_bounds().0 * 1.05;
            est.first_guess(95.0, 1000.0, decides).expect("ratio");
            assert_eq!(ratios.borrow().len(), 3);
        }
    }
}
