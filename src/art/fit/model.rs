//! The size model: how bytes grow with quality, frame rate and area, predicted from the encodes seen,
//! and the calibration of estimates against the full encodes that checked them.

use crate::art::encode::codec;
use crate::platform::ImageKind;

/// What the encodes so far say about sizes. Bytes grow about exponentially with quality and about
/// linearly with the number of frames and the area, so a size seen at one frame rate and size predicts
/// the others: `ln(bytes × norm) ≈ anchor + slope × (quality − anchor quality)`, where `norm` is the
/// frame step times the area reduction.
pub(super) struct SizeModel {
    pub(super) slope: f64,
    /// The latest encode: (quality, ln(bytes × norm)).
    pub(super) anchor: Option<(f32, f64)>,
    /// The smallest encode seen, normalised: no lower frame rate or size needs less than this / norm
    /// (bytes shrink less than linearly with frames).
    pub(super) smallest_norm: f64,
    /// Every estimate checked by a full encode so far: (quality, full size over estimate), one per
    /// quality, the latest last.
    pub(super) checks: Vec<(f32, f64)>,
}

/// How far (in ln) a ratio extrapolated from two checks may go past the ratios seen: 1.2×.
const RATIO_REACH: f64 = 0.18;

impl SizeModel {
    pub(super) fn new(kind: ImageKind) -> Self {
        SizeModel {
            slope: codec(kind).tuning().typical_slope,
            anchor: None,
            smallest_norm: f64::INFINITY,
            checks: Vec::new(),
        }
    }

    /// Record a full encode that checked an estimate at quality `q`: full size over estimate.
    pub(super) fn calibrate(&mut self, q: f32, ratio: f64) {
        self.checks.retain(|&(q0, _)| (q0 - q).abs() > 0.5);
        self.checks.push((q, ratio.max(1e-9)));
    }

    /// Full size over estimate at quality `q`: the latest check's, or, once two checks at different
    /// qualities are known, log-linear in quality through the two nearest `q`. The ratio drifts with
    /// quality where the estimate's smaller canvas loses what the full one keeps, and a single ratio
    /// then sends every probe astray. Extrapolation goes no further than `RATIO_REACH` past the ratios
    /// seen.
    pub(super) fn calibration_at(&self, q: f32) -> Option<f64> {
        let mut near: Vec<(f32, f64)> = self.checks.clone();
        if near.len() < 2 {
            return self.checks.last().map(|&(_, r)| r);
        }
        near.sort_by(|a, b| (a.0 - q).abs().total_cmp(&(b.0 - q).abs()));
        let ((q1, r1), (q2, r2)) = (near[0], near[1]);
        let (l1, l2) = (r1.ln(), r2.ln());
        let (lo, hi) = self
            .checks
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, r)| {
                (lo.min(r.ln()), hi.max(r.ln()))
            });
        let l = l1 + (l2 - l1) / f64::from(q2 - q1) * f64::from(q - q1);
        Some(l.clamp(lo - RATIO_REACH, hi + RATIO_REACH).exp())
    }

    /// Record an encode of `len` bytes at quality `q`; `same_norm` is the previous encode at the same
    /// frame rate and size, if any, from which the slope is measured.
    pub(super) fn observe(&mut self, q: f32, len: f64, norm: f64, same_norm: Option<(f32, f64)>) {
        let len = len.max(1.0);
        if let Some((q0, len0)) = same_norm
            && (q - q0).abs() > 0.5
        {
            self.slope = ((len.ln() - len0.max(1.0).ln()) / f64::from(q - q0)).clamp(0.005, 0.5);
        }
        self.anchor = Some((q, (len * norm).ln()));
        self.smallest_norm = self.smallest_norm.min(len * norm);
    }

    /// The quality predicted to give `target` bytes at `norm`.
    pub(super) fn quality_for(&self, target: f64, norm: f64) -> Option<f32> {
        self.anchor
            .map(|(q, l)| (f64::from(q) + ((target * norm).ln() - l) / self.slope) as f32)
    }

    /// The size predicted at quality `q` and `norm`.
    pub(super) fn size_at(&self, q: f32, norm: f64) -> Option<f64> {
        self.anchor
            .map(|(q0, l)| (l + self.slope * f64::from(q - q0)).exp() / norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_model_predicts_across_qualities_and_frame_rates() {
        let mut m = SizeModel::new(ImageKind::Webp);
        m.observe(80.0, 400_000.0, 1.0, None);
        m.observe(40.0, 100_000.0, 1.0, Some((80.0, 400_000.0)));
        // Four times the bytes over 40 quality points.
        assert!((m.slope - 4f64.ln() / 40.0).abs() < 1e-9);
        let q = m.quality_for(200_000.0, 1.0).expect("anchored");
        assert!((q - 60.0).abs() < 1e-3, "{q}");
        // Half the frames: half the bytes at one quality.
        let at_half = m.size_at(40.0, 2.0).expect("anchored");
        assert!((at_half - 50_000.0).abs() < 1.0, "{at_half}");
        assert_eq!(m.smallest_norm, 100_000.0);
    }

    #[test]
    fn calibration_follows_a_ratio_that_drifts_with_quality() {
        let mut m = SizeModel::new(ImageKind::Webp);
        assert_eq!(m.calibration_at(20.0), None);
        m.calibrate(7.0, 8.0);
        // One check: its ratio everywhere.
        assert_eq!(m.calibration_at(30.0), Some(8.0));
        m.calibrate(33.0, 11.3);
        let at = |q: f32| m.calibration_at(q).expect("calibrated");
        // Log-linear between the checks: the geometric mean half-way.
        assert!(
            (at(20.0) - (8.0f64 * 11.3).sqrt()).abs() < 1e-6,
            "{}",
            at(20.0)
        );
        assert!((at(7.0) - 8.0).abs() < 1e-9 && (at(33.0) - 11.3).abs() < 1e-9);
        // Extrapolation stops RATIO_REACH past the ratios seen.
        assert!(
            (at(90.0) - 11.3 * RATIO_REACH.exp()).abs() < 1e-6,
            "{}",
            at(90.0)
        );
        assert!(
            (at(-50.0) - 8.0 / RATIO_REACH.exp()).abs() < 1e-6,
            "{}",
            at(-50.0)
        );
        // A new check at a quality already checked replaces it.
        m.calibrate(33.0, 9.0);
        assert_eq!(m.checks.len(), 2);
        assert_eq!(m.calibration_at(33.0).map(|r| (r * 1e6).round()), Some(9e6));
    }
}
