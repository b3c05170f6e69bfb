//! What the animation follows in the audio, sampled at the output frame rate: the loudness envelope,
//! beats (spectral-flux onsets) and tempo, a log-frequency spectrum, and the waveform.

use crate::audio::pcm::Pcm;
use rustfft::{FftPlanner, num_complex::Complex};
use serde::Serialize;

/// Number of spectrum bands.
pub const BANDS: usize = 24;
/// Columns of the waveform overview.
pub const WAVE_COLUMNS: usize = 256;

/// Per-frame audio features, each in 0..1 unless stated.
#[derive(Debug, Clone, Serialize)]
pub struct Features {
    pub fps: f64,
    /// Short-term loudness envelope.
    pub envelope: Vec<f32>,
    /// A decaying kick after each detected beat.
    pub kick: Vec<f32>,
    /// Smoothed log-frequency band levels, `BANDS` per frame.
    pub bands: Vec<[f32; BANDS]>,
    /// Estimated tempo (120 when the clip has no clear beat).
    pub tempo_bpm: f32,
    /// Beat times, seconds.
    pub beats: Vec<f64>,
    /// Peak level of each of `WAVE_COLUMNS` slices of the clip.
    pub waveform: Vec<f32>,
}

impl Features {
    pub fn frames(&self) -> usize {
        self.envelope.len()
    }

    /// The same features with the movement they drive scaled by `motion` (0..=1): the envelope, the
    /// kicks and the band levels; the waveform and the beats stay (they place things, not move them).
    pub fn calmed(&self, motion: f32) -> Features {
        let m = motion.clamp(0.0, 1.0);
        Features {
            fps: self.fps,
            envelope: self.envelope.iter().map(|v| v * m).collect(),
            kick: self.kick.iter().map(|v| v * m).collect(),
            bands: self.bands.iter().map(|b| b.map(|v| v * m)).collect(),
            tempo_bpm: self.tempo_bpm,
            beats: self.beats.clone(),
            waveform: self.waveform.clone(),
        }
    }
}

/// Below this RMS the clip counts as silent (−60 dBFS).
const SILENCE_RMS: f32 = 1e-3;

/// Analyse mono `pcm` for `frames` frames at `fps`.
pub fn analyse(pcm: &Pcm, fps: f64, frames: usize) -> Features {
    let samples: Vec<f32> = if pcm.channels() == 1 {
        pcm.samples.clone()
    } else {
        let ch = pcm.channels();
        pcm.samples
            .chunks_exact(ch)
            .map(|f| f.iter().sum::<f32>() / ch as f32)
            .collect()
    };
    let rate = f64::from(pcm.rate);
    let at = |i: usize| ((i as f64 / fps) * rate) as isize;

    // Envelope: RMS over 100 ms around each frame, in dB, mapped onto the clip's top 24 dB.
    let half = (rate * 0.05) as isize;
    let rms: Vec<f32> = (0..frames)
        .map(|i| window_rms(&samples, at(i) - half, at(i) + half))
        .collect();
    let peak = rms.iter().copied().fold(0f32, f32::max);
    let envelope: Vec<f32> = if peak < SILENCE_RMS {
        vec![0.0; frames]
    } else {
        let top = 20.0 * peak.log10();
        rms.iter()
            .map(|r| ((20.0 * r.max(1e-9).log10() - (top - 24.0)) / 24.0).clamp(0.0, 1.0))
            .collect()
    };

    let (flux, hop) = spectral_flux(&samples, peak < SILENCE_RMS);
    let beats = pick_beats(&flux, hop as f64 / rate);
    let tempo_bpm = estimate_tempo(&flux, rate / hop as f64);
    let kick = (0..frames)
        .map(|i| {
            let t = i as f64 / fps;
            beats
                .iter()
                .filter(|&&b| b <= t + 0.5 / fps)
                .map(|&b| (-(t - b).max(0.0) / 0.12).exp() as f32)
                .fold(0.0, f32::max)
        })
        .collect();
    let bands = spectrum(&samples, rate, fps, frames, peak < SILENCE_RMS);
    let waveform = (0..WAVE_COLUMNS)
        .map(|c| {
            let (a, b) = (
                c * samples.len() / WAVE_COLUMNS,
                (c + 1) * samples.len() / WAVE_COLUMNS,
            );
            samples[a..b.max(a)]
                .iter()
                .fold(0f32, |m, s| m.max(s.abs()))
                .min(1.0)
        })
        .collect();
    let mut f = Features {
        fps,
        envelope,
        kick,
        bands,
        tempo_bpm,
        beats,
        waveform,
    };
    make_loopable(&mut f);
    f
}

fn window_rms(s: &[f32], a: isize, b: isize) -> f32 {
    let (a, b) = (a.max(0) as usize, (b.max(0) as usize).min(s.len()));
    if b <= a {
        return 0.0;
    }
    (s[a..b].iter().map(|x| x * x).sum::<f32>() / (b - a) as f32).sqrt()
}

/// Half-wave-rectified log-magnitude spectral flux, 1024-point frames every 256 samples.
fn spectral_flux(s: &[f32], silent: bool) -> (Vec<f32>, usize) {
    const N: usize = 1024;
    const HOP: usize = 256;
    if silent || s.len() < N {
        return (vec![0.0; s.len() / HOP + 1], HOP);
    }
    let fft = FftPlanner::<f32>::new().plan_fft_forward(N);
    let window: Vec<f32> = (0..N)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / N as f32).cos())
        .collect();
    let mut prev = vec![0f32; N / 2];
    let mut flux = Vec::new();
    let mut buf = vec![Complex::new(0f32, 0f32); N];
    for start in (0..=s.len() - N).step_by(HOP) {
        for (i, c) in buf.iter_mut().enumerate() {
            *c = Complex::new(s[start + i] * window[i], 0.0);
        }
        fft.process(&mut buf);
        let mut f = 0f32;
        for (k, p) in prev.iter_mut().enumerate() {
            let m = (1.0 + 100.0 * buf[k].norm()).ln();
            f += (m - *p).max(0.0);
            *p = m;
        }
        flux.push(f);
    }
    if let Some(first) = flux.first_mut() {
        *first = 0.0; // the jump from silence before the clip is not a beat
    }
    (flux, HOP)
}

/// Beats: flux peaks above the local mean plus 1.5 standard deviations, at least 100 ms apart.
fn pick_beats(flux: &[f32], hop_s: f64) -> Vec<f64> {
    let w = (0.5 / hop_s) as usize;
    let min_gap = (0.1 / hop_s) as usize;
    let global_max = flux.iter().copied().fold(0f32, f32::max);
    let mut beats = Vec::new();
    let mut last: Option<usize> = None;
    for i in 1..flux.len().saturating_sub(1) {
        if flux[i] < flux[i - 1]
            || flux[i] < flux[i + 1]
            || flux[i] < 0.1 * global_max
            || global_max <= 0.0
        {
            continue;
        }
        let (a, b) = (i.saturating_sub(w), (i + w).min(flux.len()));
        let local = &flux[a..b];
        let mean = local.iter().sum::<f32>() / local.len() as f32;
        let var = local.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / local.len() as f32;
        if flux[i] > mean + 1.5 * var.sqrt() && last.is_none_or(|l| i - l >= min_gap) {
            beats.push(i as f64 * hop_s);
            last = Some(i);
        }
    }
    beats
}

/// Tempo from the autocorrelation of the flux between 70 and 180 BPM.
fn estimate_tempo(flux: &[f32], flux_rate: f64) -> f32 {
    let mean = flux.iter().sum::<f32>() / flux.len().max(1) as f32;
    let x: Vec<f32> = flux.iter().map(|v| v - mean).collect();
    let energy: f32 = x.iter().map(|v| v * v).sum();
    if energy <= 0.0 {
        return 120.0;
    }
    let lag_of = |bpm: f64| (60.0 / bpm * flux_rate).round() as usize;
    let (lo, hi) = (
        lag_of(180.0).max(1),
        lag_of(70.0).min(x.len().saturating_sub(1)),
    );
    let mut best = (0f32, 0usize);
    for lag in lo..=hi {
        let r: f32 = x.iter().zip(&x[lag..]).map(|(a, b)| a * b).sum();
        if r > best.0 {
            best = (r, lag);
        }
    }
    if best.1 == 0 || best.0 < 0.1 * energy {
        120.0
    } else {
        (60.0 * flux_rate / best.1 as f64) as f32
    }
}

/// Log-frequency band levels at each frame (2048-point FFT), mapped onto the clip's top 40 dB, with fast
/// attack and a ~250 ms release so bars fall smoothly.
fn spectrum(s: &[f32], rate: f64, fps: f64, frames: usize, silent: bool) -> Vec<[f32; BANDS]> {
    const N: usize = 2048;
    if silent {
        return vec![[0.0; BANDS]; frames];
    }
    let fft = FftPlanner::<f32>::new().plan_fft_forward(N);
    let window: Vec<f32> = (0..N)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / N as f32).cos())
        .collect();
    let top_hz = (rate / 2.0).min(16_000.0);
    let edges: Vec<usize> = (0..=BANDS)
        .map(|b| {
            let hz = 50.0 * (top_hz / 50.0).powf(b as f64 / BANDS as f64);
            ((hz / rate * N as f64).round() as usize).clamp(1, N / 2)
        })
        .collect();
    let mut raw = Vec::with_capacity(frames);
    let mut buf = vec![Complex::new(0f32, 0f32); N];
    for i in 0..frames {
        let centre = (i as f64 / fps * rate) as isize;
        for (k, c) in buf.iter_mut().enumerate() {
            let idx = centre - (N / 2) as isize + k as isize;
            let v = if idx >= 0 && (idx as usize) < s.len() {
                s[idx as usize]
            } else {
                0.0
            };
            *c = Complex::new(v * window[k], 0.0);
        }
        fft.process(&mut buf);
        let mut levels = [0f32; BANDS];
        for (b, level) in levels.iter_mut().enumerate() {
            let (a, z) = (edges[b], edges[b + 1].max(edges[b] + 1));
            let power = buf[a..z].iter().map(|c| c.norm_sqr()).sum::<f32>() / (z - a) as f32;
            *level = 10.0 * power.max(1e-12).log10();
        }
        raw.push(levels);
    }
    let top = raw
        .iter()
        .flat_map(|l| l.iter())
        .copied()
        .fold(f32::MIN, f32::max);
    let release = (-1.0 / (0.25 * fps)).exp() as f32;
    let mut out = Vec::with_capacity(frames);
    let mut state = [0f32; BANDS];
    for levels in raw {
        for (s, l) in state.iter_mut().zip(levels) {
            let v = ((l - (top - 40.0)) / 40.0).clamp(0.0, 1.0);
            *s = if v > *s {
                v
            } else {
                *s * release + v * (1.0 - release)
            };
        }
        out.push(state);
    }
    out
}

/// Blend the last frames toward the first so the loop has no jump.
fn make_loopable(f: &mut Features) {
    let n = f.frames();
    let l = (n / 6).min((f.fps / 2.0) as usize);
    if l == 0 {
        return;
    }
    for k in 0..l {
        let i = n - l + k;
        let w = (k + 1) as f32 / (l + 1) as f32;
        f.envelope[i] = f.envelope[i] * (1.0 - w) + f.envelope[0] * w;
        f.kick[i] = f.kick[i] * (1.0 - w) + f.kick[0] * w;
        let first = f.bands[0];
        for (b, v) in f.bands[i].iter_mut().enumerate() {
            *v = *v * (1.0 - w) + first[b] * w;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::pcm::Speaker;

    fn pcm(samples: Vec<f32>) -> Pcm {
        Pcm {
            rate: 48_000,
            layout: Speaker::default_layout(1),
            samples,
        }
    }

    fn beats_at(bpm: f64, secs: f64) -> Pcm {
        let rate = 48_000.0;
        let period = 60.0 / bpm;
        let samples = (0..(secs * rate) as usize)
            .map(|i| {
                let t = i as f64 / rate;
                let tb = t % period;
                ((2.0 * std::f64::consts::PI * 60.0 * tb).sin() * (-tb * 25.0).exp() * 0.8) as f32
            })
            .collect();
        pcm(samples)
    }

    #[test]
    fn silence_gives_flat_features() {
        let f = analyse(&pcm(vec![0.0; 96_000]), 20.0, 40);
        assert!(f.envelope.iter().all(|&v| v == 0.0));
        assert!(f.kick.iter().all(|&v| v == 0.0));
        assert!(f.bands.iter().all(|b| b.iter().all(|&v| v == 0.0)));
        assert!(f.beats.is_empty());
    }

    #[test]
    fn finds_beats_and_tempo() {
        let f = analyse(&beats_at(120.0, 4.0), 20.0, 80);
        assert!((7..=9).contains(&f.beats.len()), "{} beats", f.beats.len());
        assert!((f.tempo_bpm - 120.0).abs() < 4.0, "tempo {}", f.tempo_bpm);
        let spread = f.envelope.iter().copied().fold(0f32, f32::max)
            - f.envelope.iter().copied().fold(1f32, f32::min);
        assert!(spread > 0.3, "envelope moves with the beats: {spread}");
    }
}
