//! Loudness measurement per ITU-R BS.1770-4 / EBU R128 with the ebur128 crate: integrated loudness,
//! loudness range, sample and true peak, and the maxima of momentary and short-term loudness.

use super::pcm::{Pcm, Speaker, linear_to_db};
use crate::error::{Error, Result};
use ebur128::{Channel, EbuR128, Mode};
use serde::Serialize;
use std::path::Path;

/// Loudness figures of a signal. `None` where the measure is undefined (silence, or too short).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct LoudnessStats {
    /// Gated integrated loudness, LUFS.
    pub integrated_lufs: Option<f64>,
    /// Loudness range, LU (needs at least 3 s).
    pub range_lu: Option<f64>,
    /// Highest absolute sample, dBFS.
    pub sample_peak_dbfs: Option<f64>,
    /// Highest 4×-oversampled peak, dBTP.
    pub true_peak_dbtp: Option<f64>,
    /// Highest momentary (400 ms) loudness, LUFS.
    pub max_momentary_lufs: Option<f64>,
    /// Highest short-term (3 s) loudness, LUFS.
    pub max_short_term_lufs: Option<f64>,
}

/// A streaming meter: push interleaved chunks of any size, then `finish`.
pub struct Meter {
    ebu: EbuR128,
    channels: usize,
    rate: u32,
    /// Samples waiting to complete a 100 ms block (momentary/short-term maxima are read every 100 ms,
    /// as EBU Tech 3341 and ffmpeg's ebur128 filter do).
    pending: Vec<f32>,
    block_frames: usize,
    fed_frames: u64,
    max_momentary: f64,
    max_short_term: f64,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn channel_of(s: Speaker, channels: usize) -> Channel {
    match s {
        _ if channels == 1 => Channel::Center,
        Speaker::FrontLeft => Channel::Left,
        Speaker::FrontRight => Channel::Right,
        Speaker::FrontCenter | Speaker::RearCenter | Speaker::Other => Channel::Center,
        Speaker::RearLeft | Speaker::SideLeft => Channel::LeftSurround,
        Speaker::RearRight | Speaker::SideRight => Channel::RightSurround,
        Speaker::Lfe => Channel::Unused,
    }
}

impl Meter {
    /// A meter for audio of `path` with this layout and rate. A rate or channel count the meter
    /// cannot take (which [`crate::audio::Source::open`] already refuses) is an error naming `path`.
    pub fn new(path: &Path, layout: &[Speaker], rate: u32) -> Result<Self> {
        let channels = layout.len().max(1);
        let mode = Mode::I | Mode::LRA | Mode::M | Mode::S | Mode::SAMPLE_PEAK | Mode::TRUE_PEAK;
        let mut ebu = u32::try_from(channels)
            .ok()
            .and_then(|n| EbuR128::new(n, rate, mode).ok())
            .ok_or_else(|| Error::Unsupported {
                path: path.to_path_buf(),
                detail: format!("cannot measure the loudness of {channels} channels at {rate} Hz"),
            })?;
        let map: Vec<Channel> = layout.iter().map(|s| channel_of(*s, channels)).collect();
        if !map.is_empty() {
            let _ = ebu.set_channel_map(&map);
        }
        Ok(Meter {
            ebu,
            channels,
            rate,
            pending: Vec::new(),
            block_frames: (rate as usize / 10).max(1),
            fed_frames: 0,
            max_momentary: f64::NEG_INFINITY,
            max_short_term: f64::NEG_INFINITY,
        })
    }

    /// Add interleaved samples.
    pub fn push(&mut self, samples: &[f32]) {
        let block = self.block_frames * self.channels;
        let mut rest = samples;
        if !self.pending.is_empty() {
            let take = (block - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == block {
                let full = std::mem::take(&mut self.pending);
                self.feed_block(&full);
            }
        }
        let mut chunks = rest.chunks_exact(block);
        for c in chunks.by_ref() {
            self.feed_block(c);
        }
        self.pending.extend_from_slice(chunks.remainder());
    }

    fn feed_block(&mut self, block: &[f32]) {
        let _ = self.ebu.add_frames_f32(block);
        self.fed_frames += (block.len() / self.channels) as u64;
        if self.fed_frames * 10 >= u64::from(self.rate) * 4
            && let Ok(m) = self.ebu.loudness_momentary()
        {
            self.max_momentary = self.max_momentary.max(m);
        }
        if self.fed_frames >= u64::from(self.rate) * 3
            && let Ok(s) = self.ebu.loudness_shortterm()
        {
            self.max_short_term = self.max_short_term.max(s);
        }
    }

    /// All figures for what was pushed.
    pub fn finish(mut self) -> LoudnessStats {
        if !self.pending.is_empty() {
            let last = std::mem::take(&mut self.pending);
            self.feed_block(&last);
        }
        let peak = |f: &dyn Fn(&EbuR128, u32) -> Result<f64, ebur128::Error>| {
            let mut m = 0f64;
            for c in 0..self.channels as u32 {
                m = m.max(f(&self.ebu, c).unwrap_or(0.0));
            }
            finite(linear_to_db(m))
        };
        LoudnessStats {
            integrated_lufs: self.ebu.loudness_global().ok().and_then(finite),
            range_lu: if self.fed_frames >= u64::from(self.rate) * 3 {
                self.ebu.loudness_range().ok().and_then(finite)
            } else {
                None
            },
            sample_peak_dbfs: peak(&|e, c| e.sample_peak(c)),
            true_peak_dbtp: peak(&|e, c| e.true_peak(c)),
            max_momentary_lufs: finite(self.max_momentary),
            max_short_term_lufs: finite(self.max_short_term),
        }
    }
}

#[cfg(test)]
/// Measure a whole buffer.
pub fn measure(pcm: &Pcm) -> LoudnessStats {
    let mut m = Meter::new(Path::new("(test)"), &pcm.layout, pcm.rate).expect("a valid meter");
    m.push(&pcm.samples);
    m.finish()
}

/// Integrated loudness of a clip, defined for any length.
///
/// BS.1770 gating needs at least one 400 ms block. A shorter clip is measured as if played in a loop
/// until it fills 400 ms (its steady-state loudness), which is what a listener of a looping sound
/// sticker hears; ffmpeg and libebur128 report −∞ instead.
pub fn integrated_lufs(pcm: &Pcm) -> Option<f64> {
    let frames = pcm.frames();
    if frames == 0 {
        return None;
    }
    let min_frames = (pcm.rate as usize * 4).div_ceil(10);
    if frames >= min_frames {
        return measure_integrated(pcm);
    }
    let mut looped = Pcm::empty(pcm.rate, pcm.layout.clone());
    while looped.frames() < min_frames {
        looped.samples.extend_from_slice(&pcm.samples);
    }
    measure_integrated(&looped)
}

fn measure_integrated(pcm: &Pcm) -> Option<f64> {
    let mut ebu = EbuR128::new(pcm.channels() as u32, pcm.rate, Mode::I).ok()?;
    let map: Vec<Channel> = pcm
        .layout
        .iter()
        .map(|s| channel_of(*s, pcm.channels()))
        .collect();
    ebu.set_channel_map(&map).ok()?;
    ebu.add_frames_f32(&pcm.samples).ok()?;
    ebu.loudness_global().ok().and_then(finite)
}

/// Highest true peak (dBTP) of a buffer, by the ebur128 crate's BS.1770-4 Annex 2 meter.
pub fn true_peak_dbtp(pcm: &Pcm) -> Option<f64> {
    let mut ebu = EbuR128::new(pcm.channels() as u32, pcm.rate, Mode::TRUE_PEAK).ok()?;
    ebu.add_frames_f32(&pcm.samples).ok()?;
    let mut m = 0f64;
    for c in 0..pcm.channels() as u32 {
        m = m.max(ebu.true_peak(c).ok()?);
    }
    finite(linear_to_db(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, amp: f32, secs: f32, channels: usize) -> Pcm {
        let rate = 48_000;
        let n = (rate as f32 * secs) as usize;
        let samples = (0..n)
            .flat_map(|i| {
                let s = (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * amp;
                std::iter::repeat_n(s, channels)
            })
            .collect();
        Pcm {
            rate,
            layout: Speaker::default_layout(channels),
            samples,
        }
    }

    #[test]
    fn full_scale_1k_stereo_sine_reads_0_lufs() {
        // EBU Tech 3341 case 1 scaled: a 1 kHz sine at −23 dBFS in both channels reads −23 LUFS, so at
        // 0 dBFS it reads 0 LUFS (each channel's mean square is −3.01 dB; the two channels sum).
        let s = measure(&sine(1000.0, 1.0, 5.0, 2));
        let i = s.integrated_lufs.unwrap();
        assert!(i.abs() < 0.1, "got {i}");
        assert!(s.true_peak_dbtp.unwrap().abs() < 0.1);
        assert!(s.range_lu.is_some());
    }

    #[test]
    fn short_clips_are_measured() {
        let long = integrated_lufs(&sine(1000.0, 0.5, 2.0, 1)).unwrap();
        let short = integrated_lufs(&sine(1000.0, 0.5, 0.25, 1)).unwrap();
        assert!((long - short).abs() < 0.1, "{long} vs {short}");
    }

    #[test]
    fn silence_has_no_loudness() {
        let s = measure(&sine(1000.0, 0.0, 1.0, 2));
        assert_eq!(s.integrated_lufs, None);
        assert_eq!(integrated_lufs(&sine(1000.0, 0.0, 1.0, 2)), None);
    }
}
