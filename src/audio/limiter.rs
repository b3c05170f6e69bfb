//! A look-ahead true-peak limiter: offline, zero-latency, with smooth attack and release.
//!
//! Hand-written: no maintained Rust crate offers an oversampled true-peak limiter. The design is the
//! classic look-ahead one. The gain each sample needs is the ceiling over its 4×-oversampled peak; a
//! forward sliding minimum over the look-ahead window holds that gain early enough; an exponential
//! release lets it recover; two cascaded moving averages spanning the window turn the steps into
//! S-shaped ramps. Because every averaged value comes from a window that contains the sample, the
//! smoothed gain never exceeds what that sample needs: the ceiling holds by construction.

use super::pcm::{Pcm, db_to_linear, linear_to_db};
use super::true_peak::frame_peaks;
use serde::Serialize;
use std::collections::VecDeque;

/// Limiter timing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterSettings {
    /// Highest allowed true peak, dBTP.
    pub ceiling_dbtp: f64,
    /// How far ahead gain reduction starts, ms (also the attack time).
    pub lookahead_ms: f64,
    /// Time constant of the recovery, ms.
    pub release_ms: f64,
}

impl LimiterSettings {
    /// Gentle defaults for music: 5 ms look-ahead, 100 ms release.
    pub fn with_ceiling(ceiling_dbtp: f64) -> Self {
        LimiterSettings {
            ceiling_dbtp,
            lookahead_ms: 5.0,
            release_ms: 100.0,
        }
    }
}

/// What the limiter did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
#[non_exhaustive]
pub struct LimiterReport {
    /// Deepest gain reduction, dB (0 when the limiter never acted).
    pub max_gain_reduction_db: f64,
    /// Share of the clip with more than 0.1 dB of gain reduction, 0..1.
    pub active_fraction: f64,
}

/// Limit `pcm` in place so its 4×-oversampled peak stays at or under the ceiling.
pub fn limit(pcm: &mut Pcm, settings: LimiterSettings) -> LimiterReport {
    let frames = pcm.frames();
    let channels = pcm.channels();
    if frames == 0 {
        return LimiterReport::default();
    }
    let ceiling = db_to_linear(settings.ceiling_dbtp) as f32;
    let peaks = frame_peaks(&pcm.samples, channels);
    // Gain needed at each frame: covers the intervals on both sides of the sample.
    let need: Vec<f32> = (0..frames)
        .map(|n| {
            let p = peaks[n].max(if n > 0 { peaks[n - 1] } else { 0.0 });
            if p > ceiling { ceiling / p } else { 1.0 }
        })
        .collect();
    if need.iter().all(|&g| g >= 1.0) {
        return LimiterReport::default();
    }
    let rate = f64::from(pcm.rate);
    let half = ((settings.lookahead_ms / 1000.0 * rate / 2.0).round() as usize).max(1);
    let window = 2 * half; // spans both moving averages (2·half − 1 frames) with a frame to spare
    let held = forward_min(&need, window);
    let alpha = 1.0 - (-1.0 / (settings.release_ms / 1000.0 * rate)).exp();
    let mut env = Vec::with_capacity(frames);
    let mut e = 1.0f64;
    for &h in &held {
        e = (e + (1.0 - e) * alpha).min(f64::from(h));
        env.push(e);
    }
    let gain = moving_average(&moving_average(&env, half), half);
    let mut min_gain = 1.0f64;
    let mut active = 0usize;
    for (frame, &g) in pcm.samples.chunks_exact_mut(channels).zip(&gain) {
        min_gain = min_gain.min(g);
        if g < 0.9886 {
            active += 1; // more than 0.1 dB
        }
        frame
            .iter_mut()
            .for_each(|s| *s = (f64::from(*s) * g) as f32);
    }
    LimiterReport {
        max_gain_reduction_db: -linear_to_db(min_gain),
        active_fraction: active as f64 / frames as f64,
    }
}

/// out[n] = min(x[n..n+window]) with a monotonic deque, O(n).
fn forward_min(x: &[f32], window: usize) -> Vec<f32> {
    let n = x.len();
    let mut out = vec![1.0f32; n];
    let mut dq: VecDeque<usize> = VecDeque::new();
    // Walk backwards so the window [i, i+window) is the "past" of the walk.
    for i in (0..n).rev() {
        while dq.back().is_some_and(|&j| x[j] >= x[i]) {
            dq.pop_back();
        }
        dq.push_back(i);
        while dq.front().is_some_and(|&j| j >= i + window) {
            dq.pop_front();
        }
        out[i] = dq.front().map_or(1.0, |&j| x[j]);
    }
    out
}

/// Causal moving average of length `len`: out[n] = mean(x[n-len+1..=n]), with x[0] repeated before the
/// start (x[0] already holds the gain the first frames need, so the ceiling holds there too).
fn moving_average(x: &[f64], len: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    let first = x.first().copied().unwrap_or(1.0);
    let mut sum = len as f64 * first;
    for (n, &v) in x.iter().enumerate() {
        sum += v;
        sum -= if n >= len { x[n - len] } else { first };
        out.push(sum / len as f64);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::pcm::Speaker;

    fn burst() -> Pcm {
        // Quiet tone with a loud 20 ms burst in the middle, stereo.
        let rate = 48_000;
        let samples = (0..rate)
            .flat_map(|i| {
                let amp = if (24_000..24_960).contains(&i) {
                    1.5
                } else {
                    0.1
                };
                let s = (2.0 * std::f32::consts::PI * 997.0 * i as f32 / rate as f32).sin() * amp;
                [s, s * 0.8]
            })
            .collect();
        Pcm {
            rate: rate as u32,
            layout: Speaker::default_layout(2),
            samples,
        }
    }

    #[test]
    fn holds_the_ceiling_and_leaves_quiet_parts_alone() {
        let mut p = burst();
        let before = p.clone();
        let r = limit(&mut p, LimiterSettings::with_ceiling(-1.0));
        let tp = frame_peaks(&p.samples, 2).into_iter().fold(0f32, f32::max);
        assert!(
            linear_to_db(f64::from(tp)) <= -1.0 + 0.01,
            "true peak {}",
            linear_to_db(f64::from(tp))
        );
        assert!(r.max_gain_reduction_db > 4.0);
        // Far from the burst (more than look-ahead before, several release times after) nothing changes.
        assert_eq!(p.samples[..2 * 20_000], before.samples[..2 * 20_000]);
        let late = 2 * 47_000;
        let diff = (p.samples[late] - before.samples[late]).abs();
        assert!(diff < 1e-3, "tail still reduced by {diff}");
    }

    #[test]
    fn gain_changes_smoothly() {
        let mut p = burst();
        let before = p.clone();
        limit(&mut p, LimiterSettings::with_ceiling(-1.0));
        // Per-sample gain where the signal is large enough to read it; compare neighbouring samples only.
        let gains: Vec<(usize, f64)> = p
            .samples
            .iter()
            .zip(&before.samples)
            .step_by(2)
            .enumerate()
            .filter(|(_, (_, b))| b.abs() > 0.05)
            .map(|(i, (a, b))| (i, f64::from(a / b)))
            .collect();
        let max_step = gains
            .windows(2)
            .filter(|w| w[1].0 == w[0].0 + 1)
            .map(|w| (w[1].1 - w[0].1).abs())
            .fold(0.0, f64::max);
        // A 5 ms S-shaped attack of ~5 dB moves at most ~0.4 % per sample; a hard step would be ~40 %.
        assert!(max_step < 0.01, "gain jumps by {max_step} between samples");
    }

    #[test]
    fn forward_min_looks_ahead() {
        let x = [1.0, 1.0, 0.5, 1.0, 1.0, 1.0];
        assert_eq!(forward_min(&x, 3), vec![0.5, 0.5, 0.5, 1.0, 1.0, 1.0]);
    }
}
