//! The quality search at one frame rate and size: probes (cheap estimates where the format has them,
//! else full encodes) steered by the size model, then the answer encoded in full.

use super::enough::lowest_enough;
use super::estimate::Estimator;
use super::model::SizeModel;
use super::{CLOSE, EncodeSettings, MAX_PROBES, MIN_QUALITY, Work, encode_with};
use crate::art::encode::{Tuning, codec};
use crate::error::Result;
use crate::platform::ImageKind;

/// Only a final encode under this share of the cap searches again: above it, another search gains
/// too little for its CPU (see docs/design.md).
const ROOMY: f64 = 0.75;

/// The share of the cap an estimate no full encode has checked may fill and count as fitting: its
/// ratio runs a few per cent off, and a full encode that misses costs several estimates.
const UNCHECKED_ROOM: f64 = 0.97;
/// One quality search at one frame rate and size: what `fit` passes it (the estimator of the animation
/// at that frame rate and size, the requested settings, the cap and the size normaliser) and what it
/// carries across frame rates and sizes (the size model and the work done).
pub(super) struct Search<'s, 'a> {
    /// Estimates (and full encodes) of the animation searched.
    pub(super) estimator: &'s Estimator<'a>,
    /// The requested settings: the highest quality searched, the final effort, enough SSIM.
    pub(super) s: &'s EncodeSettings,
    /// The byte cap.
    pub(super) cap: u64,
    /// Frame step times area reduction of this animation against the full one (see `SizeModel`).
    pub(super) norm: f64,
    /// What the encodes so far say about sizes.
    pub(super) model: &'s mut SizeModel,
    /// Encodes and estimates made, for the report.
    pub(super) work: &'s mut Work,
}

/// What a search found: the quality, the file, and whether enough SSIM (not the cap or the requested
/// quality) set it.
pub(super) struct Found {
    pub(super) quality: f32,
    pub(super) bytes: Vec<u8>,
    pub(super) enough: bool,
}

/// A probe's outcome: its size, and the file when it was encoded in full. Estimates (see `estimate`)
/// carry their raw figure, which the full encode that checks them calibrates.
struct Probe {
    q: f32,
    len: f64,
    raw: f64,
    bytes: Option<Vec<u8>>,
}

impl Probe {
    /// A probe at `q` still to make.
    fn unmade(q: f32) -> Probe {
        Probe {
            q,
            len: 0.0,
            raw: 0.0,
            bytes: None,
        }
    }
}

impl Search<'_, '_> {
    fn kind(&self) -> ImageKind {
        self.estimator.kind
    }

    fn cap_f(&self) -> f64 {
        self.cap as f64
    }

    fn tuning(&self) -> &'static Tuning {
        codec(self.kind()).tuning()
    }

    /// Whether probes are estimates (see `Estimator::estimates`).
    fn estimated(&self) -> bool {
        self.estimator.estimates()
    }

    /// A lossless file has no quality to search: its one encode fits or not.
    fn lossless(&self) -> bool {
        codec(self.kind()).lossless(self.s)
    }

    /// Find the highest quality whose file fits the cap at this frame rate and size, starting where
    /// the model predicts: `Some` at the requested effort, or `None` when even the lowest quality would
    /// not fit. Where the format has a cheap estimate, the search runs on estimates and only its answer
    /// is encoded in full (and stepped down if it misses). Where estimates also tell SSIM
    /// (`Estimator::tells_ssim`), an answer better than `s.enough_ssim` first gives way to the lowest
    /// quality that is enough (`enough` is then true).
    ///
    /// Long because it is one loop whose probes share the bounds (`lo`, `hi`) and the previous probe;
    /// each step's decisions are methods (`probe`, `ends`, `limit`, `confirm`, `enough_instead`).
    pub(super) fn quality(&mut self) -> Result<Option<Found>> {
        let (s, norm, cap_f) = (self.s, self.norm, self.cap_f());
        let estimated = self.estimated();
        let lossless = self.lossless();
        let mut q = if lossless {
            s.quality
        } else {
            // With nothing seen yet, estimates start below the requested quality: sticker caps are
            // tight, and an estimate that fits with room costs little to step up from.
            let first = if estimated {
                (s.quality - self.tuning().first_estimate_below).max(MIN_QUALITY)
            } else {
                s.quality
            };
            self.model
                .quality_for(self.aim(true, false), norm)
                .map_or(first, |p| p.round().clamp(MIN_QUALITY, s.quality))
        };
        let mut enough_hit = false;
        let mut lo: Option<Probe> = None;
        let mut hi: Option<f32> = None;
        // The previous probe here: (quality, size, raw figure).
        let mut last: Option<(f32, f64, f64)> = None;
        for probes_here in 1..=MAX_PROBES {
            let calibrated = self.is_calibrated();
            let mut p = self.probe(q, self.model.calibration_at(q))?;
            self.work.passes += u32::from(p.bytes.is_some());
            self.work.estimates += u32::from(p.bytes.is_none());
            // Two estimates measure the slope from their raw figures: their factors may differ (a WebP
            // ratio sampled for one and not the other), and the model's next guess needs the slope of
            // the encoder, not the difference between two ratios.
            let same_norm = last.map(|(q0, len0, raw0)| {
                if p.bytes.is_none() && raw0 > 0.0 && p.raw > 0.0 {
                    (q0, raw0 * p.len / p.raw)
                } else {
                    (q0, len0)
                }
            });
            self.model.observe(q, p.len, norm, same_norm);
            last = Some((q, p.len, p.raw));
            if p.len <= self.limit(&p) && p.bytes.is_none() && self.ends(&p, calibrated, hi) {
                if let Some(mut lower) = self.enough_instead(p.q)? {
                    // Below an estimate that fits, so it fits too, nearly always: a palette's size is
                    // not strictly monotone in its colours. If not, the estimate stands.
                    self.confirm(&mut lower)?;
                    if lower.len <= cap_f {
                        lo = Some(lower);
                        enough_hit = true;
                        break;
                    }
                }
                self.confirm(&mut p)?;
                self.model.observe(q, p.len, norm, None);
                // The calibration changed: slopes from older estimates no longer apply, but later
                // estimates are calibrated to this full size, so slopes are measured from it.
                last = Some((q, p.len, p.raw));
            }
            if p.len <= self.limit(&p) {
                let done = self.ends(&p, calibrated, hi);
                lo = Some(p);
                if done {
                    break;
                }
            } else {
                hi = Some(q);
                if q <= MIN_QUALITY || lossless {
                    break;
                }
            }
            // Scale the best estimate so far by the latest calibration: after a full encode that
            // missed, it may no longer fit.
            if let Some(l) = lo.as_mut()
                && l.bytes.is_none()
                && let Some(c) = self.model.calibration_at(l.q)
            {
                l.len = l.raw * c;
                if l.len > cap_f {
                    hi = Some(hi.map_or(l.q, |h| h.min(l.q)));
                    lo = None;
                }
            }
            let floor = lo.as_ref().map_or(MIN_QUALITY, |l| l.q + 1.0);
            let ceiling = hi.map_or(s.quality, |h| h - 1.0);
            if ceiling < floor {
                break;
            }
            // Give up on this frame rate and size when even the lowest quality is predicted well over
            // (only once the slope is measured here: sizes flatten at low qualities).
            if lo.is_none()
                && probes_here >= 2
                && let Some(l) = self.model.size_at(MIN_QUALITY, norm)
                && l > cap_f * 1.25
            {
                self.model.smallest_norm = self.model.smallest_norm.min(l * norm);
                break;
            }
            let exact = lo.as_ref().is_none_or(|l| l.bytes.is_some()) && !estimated;
            q = self
                .model
                .quality_for(self.aim(exact, self.is_calibrated()), norm)
                .map_or(floor, |g| g.round().max(floor).min(ceiling));
            // A full encode that fits is kept unless the next try promises a real gain: every try
            // above it costs another full encode.
            if estimated
                && let Some(l) = &lo
                && l.bytes.is_some()
                && q - l.q < self.tuning().min_gain
            {
                break;
            }
        }
        let Some(mut best) = lo else {
            return Ok(None);
        };
        if !enough_hit
            && best.bytes.is_none()
            && let Some(mut lower) = self.enough_instead(best.q)?
        {
            self.confirm(&mut lower)?;
            if lower.len <= cap_f {
                best = lower;
                enough_hit = true;
            }
        }
        self.encode_answer(best, enough_hit)
    }

    /// The best probe may be an estimate still unchecked: encode it, and step down if it misses (up to
    /// three times).
    fn encode_answer(&mut self, mut best: Probe, mut enough_hit: bool) -> Result<Option<Found>> {
        for _ in 0..3 {
            self.confirm(&mut best)?;
            if best.len <= self.cap_f()
                && let Some(bytes) = best.bytes.take()
            {
                // A full encode checking an estimate already used the requested effort.
                let bytes = if self.estimated() {
                    bytes
                } else {
                    self.final_encode(best.q, bytes)?
                };
                return Ok(Some(Found {
                    quality: best.q,
                    bytes,
                    enough: enough_hit,
                }));
            }
            if best.q <= MIN_QUALITY {
                break;
            }
            let lower = (f64::from(best.q)
                - (best.len / self.aim(false, false)).ln() / self.model.slope)
                .floor() as f32;
            // The cap, not enough SSIM, sets this quality.
            enough_hit = false;
            best = Probe::unmade(lower.clamp(MIN_QUALITY, best.q - 1.0));
        }
        Ok(None)
    }

    /// A search whose probes ran out on estimates that overshot (uncalibrated ones, e.g. a WebP ratio
    /// sampled from stills that runs high for spinning art) ends on a full encode far under the cap
    /// below the requested quality. That encode calibrates the estimates, so a second search from it
    /// finds the quality the cap allows; the better of the two files is kept. Only under `ROOMY`.
    pub(super) fn again_if_roomy(&mut self, found: Found) -> Result<Found> {
        let roomy = (found.bytes.len() as f64) < ROOMY * self.cap_f();
        if found.enough || found.quality >= self.s.quality || !roomy || !self.estimated() {
            return Ok(found);
        }
        self.model
            .observe(found.quality, found.bytes.len() as f64, self.norm, None);
        match self.quality()? {
            Some(again)
                if again.quality > found.quality && again.bytes.len() > found.bytes.len() =>
            {
                Ok(again)
            }
            _ => Ok(found),
        }
    }

    /// A full encode at `q`: with the requested settings where it checks an estimate (it is final),
    /// else at the probe effort (see `final_encode`).
    fn full(&self, q: f32) -> Result<Vec<u8>> {
        let full_s = if self.estimated() {
            self.s
        } else {
            &self.estimator.probe_s
        };
        let at_q = EncodeSettings {
            quality: q,
            ..full_s.clone()
        };
        encode_with(self.kind(), self.estimator.anim, &at_q)
    }

    /// Probe quality `q`: an estimate scaled by `calibration` (or the estimator's first guess before a
    /// full encode has measured the ratio; a WebP one costs six still encodes), else a full encode.
    fn probe(&self, q: f32, calibration: Option<f64>) -> Result<Probe> {
        if self.estimated() {
            let raw = self.estimator.raw(q)?;
            let factor = match calibration {
                Some(c) => c,
                None => self.estimator.first_guess(q, raw, self.cap_f())?,
            };
            return Ok(Probe {
                q,
                len: raw * factor,
                raw,
                bytes: None,
            });
        }
        let bytes = self.full(q)?;
        Ok(Probe {
            q,
            len: bytes.len() as f64,
            raw: bytes.len() as f64,
            bytes: Some(bytes),
        })
    }

    /// The size to aim at: a little under the cap; estimates aim lower still (less so once a full
    /// encode has calibrated them), so the full encode that checks them rarely misses.
    fn aim(&self, exact: bool, calibrated: bool) -> f64 {
        self.cap_f()
            * if exact {
                0.95
            } else if calibrated {
                0.92
            } else {
                0.85
            }
    }

    /// Whether `p` is close enough to the cap to stop. Estimates are close from lower down, calibrated
    /// ones less so (they aim at 92 % of the cap and land within about 5 % of their full encode).
    fn close(&self, p: &Probe, calibrated: bool) -> bool {
        p.len
            >= self.cap_f()
                * if p.bytes.is_some() {
                    CLOSE
                } else if calibrated {
                    CLOSE - 0.03
                } else {
                    CLOSE - 0.1
                }
    }

    /// Whether a probe that fits ends the search: close to the cap, settled (see `settle`), at the
    /// requested quality, or within two points of the lowest quality that missed (`hi`).
    fn ends(&self, p: &Probe, calibrated: bool, hi: Option<f32>) -> bool {
        // Where probes are estimates, a full encode that fits within `settle` of the cap ends the
        // search: one more quality step would cost another full encode for a barely visible gain.
        let settled =
            self.estimated() && p.bytes.is_some() && p.len >= self.cap_f() * self.tuning().settle;
        self.close(p, calibrated)
            || settled
            || p.q >= self.s.quality
            || hi.is_some_and(|h| h - p.q <= 2.0)
    }

    /// The size under which `p` counts as fitting. An estimate no full encode has checked yet fits
    /// only with some room: its ratio runs a few per cent off, and a full encode that misses costs many
    /// estimates (at the lowest quality there is no lower one to try instead).
    fn limit(&self, p: &Probe) -> f64 {
        if p.bytes.is_none() && self.model.checks.is_empty() && p.q > MIN_QUALITY {
            self.cap_f() * UNCHECKED_ROOM
        } else {
            self.cap_f()
        }
    }

    /// Whether estimates count as calibrated: after a full encode has checked one, or from the start
    /// where the format trusts them (see `Estimator::trusted_uncalibrated`).
    fn is_calibrated(&self) -> bool {
        !self.model.checks.is_empty() || (self.estimated() && self.estimator.trusted_uncalibrated())
    }

    /// Replace an estimate by the full encode it stands for, and calibrate later estimates with it.
    fn confirm(&mut self, p: &mut Probe) -> Result<()> {
        if p.bytes.is_none() {
            let bytes = self.full(p.q)?;
            self.work.passes += 1;
            p.len = bytes.len() as f64;
            p.bytes = Some(bytes);
            if p.raw > 0.0 {
                self.model.calibrate(p.q, p.len / p.raw);
            }
        }
        Ok(())
    }

    /// An unchecked answer at `q` that looks better than enough gives way to the lowest quality that
    /// is enough, when estimates tell: that quality's probe, still to encode.
    fn enough_instead(&mut self, q: f32) -> Result<Option<Probe>> {
        let Some(enough) = self.s.enough_ssim.filter(|_| self.estimator.tells_ssim()) else {
            return Ok(None);
        };
        let ssim = self.estimator.ssim(q, self.work)?;
        if ssim <= enough {
            return Ok(None);
        }
        let (kind, estimator, work) = (self.kind(), self.estimator, &mut *self.work);
        let found = lowest_enough(kind, q, ssim, enough, |q| estimator.ssim(q, work))?;
        Ok(found.map(Probe::unmade))
    }

    /// Re-encode the chosen quality at the requested WebP method when the probes used a faster one;
    /// keep the probe's bytes if the final encode would not fit (or is no smaller). VP9 and APNG probes
    /// already use the requested effort.
    fn final_encode(&mut self, quality: f32, probe: Vec<u8>) -> Result<Vec<u8>> {
        let s = self.s;
        let tuning = self.tuning();
        let Some(probe_effort) = tuning.probe_effort else {
            return Ok(probe);
        };
        if !tuning.final_at_requested_effort || s.method <= probe_effort {
            return Ok(probe);
        }
        let at_q = EncodeSettings {
            quality,
            ..s.clone()
        };
        let bytes = encode_with(self.kind(), self.estimator.anim, &at_q)?;
        self.work.passes += 1;
        Ok(if bytes.len() as u64 <= self.cap {
            bytes
        } else {
            probe
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::encode_once;
    use super::super::tests::zooming;
    use super::*;

    #[test]
    fn a_search_that_ended_far_under_the_cap_searches_again() {
        // As if estimates had overshot: the first search ended on a full encode at quality 30, far
        // under a cap that quality 80 fits.
        let anim = zooming(128, 24);
        let ratios = std::cell::RefCell::new(Vec::new());
        let s = EncodeSettings::default();
        let probe_s = EncodeSettings {
            method: 2,
            ..s.clone()
        };
        let est = Estimator::new(ImageKind::Webp, &anim, probe_s, s.method, &ratios);
        let at = |q: f32| {
            let s = EncodeSettings {
                quality: q,
                ..s.clone()
            };
            encode_once(ImageKind::Webp, &anim, s).expect("encode")
        };
        let cap = at(80.0).len() as u64 * 11 / 10;
        let low = at(30.0);
        assert!((low.len() as f64) < ROOMY * cap as f64);
        let (mut model, mut work) = (SizeModel::new(ImageKind::Webp), Work::default());
        let found = |quality: f32, bytes: &[u8], enough| Found {
            quality,
            bytes: bytes.to_vec(),
            enough,
        };
        let again = Search {
            estimator: &est,
            s: &s,
            cap,
            norm: 1.0,
            model: &mut model,
            work: &mut work,
        }
        .again_if_roomy(found(30.0, &low, false))
        .expect("search");
        let (q, bytes) = (again.quality, again.bytes);
        assert!(q > 60.0 && !again.enough, "quality {q}");
        assert!(bytes.len() as u64 <= cap && bytes.len() > low.len());
        assert!(work.passes >= 1);
        // Close to the cap, or found by enough SSIM: kept as it is.
        let near = at(78.0);
        let kept = Search {
            estimator: &est,
            s: &s,
            cap: near.len() as u64 * 21 / 20,
            norm: 1.0,
            model: &mut model,
            work: &mut work,
        }
        .again_if_roomy(found(78.0, &near, false))
        .expect("search");
        assert_eq!((kept.quality, kept.bytes), (78.0, near));
        let kept = Search {
            estimator: &est,
            s: &s,
            cap,
            norm: 1.0,
            model: &mut model,
            work: &mut work,
        }
        .again_if_roomy(found(30.0, &low, true))
        .expect("search");
        assert_eq!(kept.quality, 30.0);
    }
}
