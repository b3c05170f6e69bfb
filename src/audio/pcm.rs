//! `Pcm`: interleaved 32-bit float audio with its rate and channel layout, the value every audio stage passes on;
//! and `Speaker`, the role of each channel in that layout.

use serde::Serialize;

/// Interleaved float samples (nominal range ±1.0) at a known rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    /// Sample rate in Hz.
    pub rate: u32,
    /// The speaker of each channel, in interleaving order; its length is the channel count.
    pub layout: Vec<Speaker>,
    /// `frames * channels` samples, frame after frame.
    pub samples: Vec<f32>,
}

impl Pcm {
    /// An empty buffer with the given format.
    pub fn empty(rate: u32, layout: Vec<Speaker>) -> Self {
        Pcm {
            rate,
            layout,
            samples: Vec::new(),
        }
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.layout.len()
    }

    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels().max(1)
    }

    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / f64::from(self.rate)
    }

    /// Multiply every sample by a linear gain.
    pub fn apply_gain_db(&mut self, gain_db: f64) {
        let g = db_to_linear(gain_db) as f32;
        self.samples.iter_mut().for_each(|s| *s *= g);
    }

    /// The largest absolute sample value (0.0 for silence).
    pub fn sample_peak(&self) -> f32 {
        self.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()))
    }
}

/// The role of one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Speaker {
    /// Front left (`FL`).
    FrontLeft,
    /// Front right (`FR`).
    FrontRight,
    /// Front centre (`FC`); also the one channel of mono.
    FrontCenter,
    /// Low-frequency effects (`LFE`).
    Lfe,
    /// Rear (back) left (`BL`).
    RearLeft,
    /// Rear (back) right (`BR`).
    RearRight,
    /// Side left (`SL`).
    SideLeft,
    /// Side right (`SR`).
    SideRight,
    /// Rear (back) centre (`BC`).
    RearCenter,
    /// A channel with no known position (e.g. a discrete channel).
    Other,
}

impl Speaker {
    /// The conventional layout for a channel count when the file names none (WAVE order).
    pub fn default_layout(channels: usize) -> Vec<Speaker> {
        use Speaker::*;
        match channels {
            1 => vec![FrontCenter],
            2 => vec![FrontLeft, FrontRight],
            3 => vec![FrontLeft, FrontRight, FrontCenter],
            4 => vec![FrontLeft, FrontRight, RearLeft, RearRight],
            5 => vec![FrontLeft, FrontRight, FrontCenter, RearLeft, RearRight],
            6 => vec![FrontLeft, FrontRight, FrontCenter, Lfe, RearLeft, RearRight],
            7 => vec![
                FrontLeft,
                FrontRight,
                FrontCenter,
                Lfe,
                RearCenter,
                SideLeft,
                SideRight,
            ],
            8 => vec![
                FrontLeft,
                FrontRight,
                FrontCenter,
                Lfe,
                RearLeft,
                RearRight,
                SideLeft,
                SideRight,
            ],
            n => vec![Other; n],
        }
    }

    /// A short label such as `FL`.
    pub fn label(self) -> &'static str {
        use Speaker::*;
        match self {
            FrontLeft => "FL",
            FrontRight => "FR",
            FrontCenter => "FC",
            Lfe => "LFE",
            RearLeft => "BL",
            RearRight => "BR",
            SideLeft => "SL",
            SideRight => "SR",
            RearCenter => "BC",
            Other => "?",
        }
    }
}

/// Decibels to a linear amplitude factor.
pub fn db_to_linear(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// A linear amplitude to decibels (−∞ for 0).
pub fn linear_to_db(lin: f64) -> f64 {
    20.0 * lin.log10()
}
