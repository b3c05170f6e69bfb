//! Fade-in and fade-out envelopes with selectable curve shapes.

use super::pcm::Pcm;
use serde::Serialize;

/// The shape of a fade.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema, Default,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FadeCurve {
    /// Straight line in amplitude.
    Linear,
    /// Quarter sine: equal-power, the usual choice for music.
    #[default]
    Sine,
    /// Raised cosine (S-curve): gentle at both ends.
    Scurve,
    /// Exponential in amplitude (≈ linear in dB): sounds even for long fade-outs.
    Exponential,
}

impl std::str::FromStr for FadeCurve {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "linear" => Ok(FadeCurve::Linear),
            "sine" => Ok(FadeCurve::Sine),
            "scurve" => Ok(FadeCurve::Scurve),
            "exp" | "exponential" => Ok(FadeCurve::Exponential),
            _ => Err(format!(
                "`{s}` is not a fade curve; use linear, sine, scurve or exp"
            )),
        }
    }
}

display_as_serde_name!(FadeCurve);

impl FadeCurve {
    /// Gain at position `x` in 0..=1 of a fade-in.
    pub fn gain(self, x: f64) -> f64 {
        let x = x.clamp(0.0, 1.0);
        match self {
            FadeCurve::Linear => x,
            FadeCurve::Sine => (x * std::f64::consts::FRAC_PI_2).sin(),
            FadeCurve::Scurve => 0.5 - 0.5 * (x * std::f64::consts::PI).cos(),
            // −60 dB at the start, 0 dB at the end, with the start pinned to true silence.
            FadeCurve::Exponential => {
                if x == 0.0 {
                    0.0
                } else {
                    10f64.powf(3.0 * (x - 1.0))
                }
            }
        }
    }
}

/// Apply a fade-in of `in_frames` and a fade-out of `out_frames`. When both do not fit, they are shrunk
/// in proportion so they meet without overlapping.
pub fn apply_fades(pcm: &mut Pcm, in_frames: usize, out_frames: usize, curve: FadeCurve) {
    let frames = pcm.frames();
    let (mut fi, mut fo) = (in_frames, out_frames);
    if fi + fo > frames && fi + fo > 0 {
        let scale = frames as f64 / (fi + fo) as f64;
        fi = (fi as f64 * scale).floor() as usize;
        fo = (fo as f64 * scale).floor() as usize;
    }
    let ch = pcm.channels();
    for i in 0..fi {
        // Sample i sits at (i + 0.5)/fi of the ramp: the first sample is near silence, never exactly skipped.
        let g = curve.gain((i as f64 + 0.5) / fi as f64) as f32;
        pcm.samples[i * ch..(i + 1) * ch]
            .iter_mut()
            .for_each(|s| *s *= g);
    }
    for i in 0..fo {
        let g = curve.gain((i as f64 + 0.5) / fo as f64) as f32;
        let f = frames - 1 - i;
        pcm.samples[f * ch..(f + 1) * ch]
            .iter_mut()
            .for_each(|s| *s *= g);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::pcm::Speaker;

    fn ones(frames: usize) -> Pcm {
        Pcm {
            rate: 48_000,
            layout: Speaker::default_layout(2),
            samples: vec![1.0; frames * 2],
        }
    }

    #[test]
    fn curves_run_from_silence_to_unity() {
        for c in [
            FadeCurve::Linear,
            FadeCurve::Sine,
            FadeCurve::Scurve,
            FadeCurve::Exponential,
        ] {
            assert_eq!(c.gain(0.0), 0.0, "{c:?}");
            assert!((c.gain(1.0) - 1.0).abs() < 1e-12, "{c:?}");
            assert!(c.gain(0.3) < c.gain(0.6), "{c:?} rises");
        }
    }

    #[test]
    fn fades_touch_only_their_ends() {
        let mut p = ones(1000);
        apply_fades(&mut p, 100, 200, FadeCurve::Linear);
        assert!(p.samples[0] < 0.01);
        assert_eq!(p.samples[2 * 100], 1.0);
        assert_eq!(p.samples[2 * 799], 1.0);
        assert!(p.samples[2 * 999] < 0.01);
    }

    #[test]
    fn overlong_fades_shrink_to_fit() {
        let mut p = ones(100);
        apply_fades(&mut p, 100, 100, FadeCurve::Linear);
        assert!(p.samples[0] < 0.05 && p.samples[199] < 0.05);
        assert!(p.samples[2 * 49] > 0.9);
    }
}
