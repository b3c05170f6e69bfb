//! Conversion between channel layouts ([`Speaker`]s live with [`Pcm`]): mono, stereo and surround downmixes.

use super::pcm::{Pcm, Speaker};
use serde::Serialize;

/// What channel count the output should have.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema, Default,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChannelMode {
    /// One channel.
    Mono,
    /// Two channels.
    #[default]
    Stereo,
    /// As the source.
    Keep,
}

impl std::str::FromStr for ChannelMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mono" => Ok(ChannelMode::Mono),
            "stereo" => Ok(ChannelMode::Stereo),
            "keep" => Ok(ChannelMode::Keep),
            _ => Err(format!(
                "`{s}` is not a channel mode; use mono, stereo or keep"
            )),
        }
    }
}

display_as_serde_name!(ChannelMode);

/// What a conversion did, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ChannelReport {
    /// Channel count of the input.
    pub from: usize,
    /// Channel count of the output.
    pub to: usize,
    /// Set when a stereo source was so out of phase that a mid downmix would cancel it, and one channel was used.
    pub phase_fallback: Option<String>,
}

/// Convert `pcm` to the requested channel count.
///
/// Surround goes to stereo with BS.775 weights (LFE dropped), normalised so the mix cannot exceed the
/// loudest input; stereo goes to mono as the mid signal (L+R)/2, unless the two channels largely cancel
/// (side energy well above mid energy, as with phase-inverted or extreme-width masters), in which case the
/// louder channel alone is kept, so a mono phone speaker still hears the music.
pub fn convert(pcm: Pcm, mode: ChannelMode) -> (Pcm, ChannelReport) {
    let from = pcm.channels();
    let target = match mode {
        ChannelMode::Mono => 1,
        ChannelMode::Stereo => 2,
        ChannelMode::Keep => from,
    };
    let mut report = ChannelReport {
        from,
        to: target,
        phase_fallback: None,
    };
    if target == from {
        return (pcm, report);
    }
    let stereo = if from == 1 {
        let samples = pcm.samples.iter().flat_map(|&s| [s, s]).collect();
        Pcm {
            rate: pcm.rate,
            layout: Speaker::default_layout(2),
            samples,
        }
    } else if from == 2 {
        pcm
    } else {
        downmix_to_stereo(&pcm)
    };
    if target == 2 {
        return (stereo, report);
    }
    let (mono, fallback) = stereo_to_mono(&stereo);
    report.phase_fallback = fallback;
    (mono, report)
}

/// ITU-R BS.775 downmix weights of a speaker into (left, right).
fn stereo_weights(speaker: Speaker) -> (f32, f32) {
    use Speaker::*;
    const M3DB: f32 = std::f32::consts::FRAC_1_SQRT_2;
    match speaker {
        FrontLeft => (1.0, 0.0),
        FrontRight => (0.0, 1.0),
        FrontCenter | RearCenter | Other => (M3DB, M3DB),
        RearLeft | SideLeft => (M3DB, 0.0),
        RearRight | SideRight => (0.0, M3DB),
        // BS.775 drops the LFE from downmixes.
        Lfe => (0.0, 0.0),
    }
}

fn downmix_to_stereo(pcm: &Pcm) -> Pcm {
    let weights: Vec<(f32, f32)> = pcm.layout.iter().map(|&s| stereo_weights(s)).collect();
    let norm_l: f32 = weights.iter().map(|w| w.0).sum::<f32>().max(1e-6);
    let norm_r: f32 = weights.iter().map(|w| w.1).sum::<f32>().max(1e-6);
    let norm = norm_l.max(norm_r);
    let ch = pcm.channels();
    let mut out = Vec::with_capacity(pcm.frames() * 2);
    for frame in pcm.samples.chunks_exact(ch) {
        let (mut l, mut r) = (0.0f32, 0.0f32);
        for (s, w) in frame.iter().zip(&weights) {
            l += s * w.0;
            r += s * w.1;
        }
        out.push(l / norm);
        out.push(r / norm);
    }
    Pcm {
        rate: pcm.rate,
        layout: Speaker::default_layout(2),
        samples: out,
    }
}

/// Side energy this many times the mid energy means the channels mostly cancel when summed (about −6 dB).
const CANCELLATION_RATIO: f64 = 4.0;

fn stereo_to_mono(pcm: &Pcm) -> (Pcm, Option<String>) {
    let (mut mid_e, mut side_e, mut l_e, mut r_e) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for f in pcm.samples.chunks_exact(2) {
        let (l, r) = (f64::from(f[0]), f64::from(f[1]));
        mid_e += (l + r) * (l + r);
        side_e += (l - r) * (l - r);
        l_e += l * l;
        r_e += r * r;
    }
    let mono_layout = Speaker::default_layout(1);
    if side_e > CANCELLATION_RATIO * mid_e && side_e > 0.0 {
        let pick = usize::from(r_e > l_e);
        let samples = pcm.samples.chunks_exact(2).map(|f| f[pick]).collect();
        let db = 10.0 * (side_e / mid_e.max(1e-30)).log10();
        let note = format!(
            "left and right cancel when summed (side {db:.1} dB above mid); used the {} channel alone for mono",
            if pick == 0 { "left" } else { "right" }
        );
        return (
            Pcm {
                rate: pcm.rate,
                layout: mono_layout,
                samples,
            },
            Some(note),
        );
    }
    let samples = pcm
        .samples
        .chunks_exact(2)
        .map(|f| 0.5 * (f[0] + f[1]))
        .collect();
    (
        Pcm {
            rate: pcm.rate,
            layout: mono_layout,
            samples,
        },
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm(layout: Vec<Speaker>, samples: Vec<f32>) -> Pcm {
        Pcm {
            rate: 48_000,
            layout,
            samples,
        }
    }

    #[test]
    fn stereo_to_mono_is_the_mid_signal() {
        let p = pcm(Speaker::default_layout(2), vec![0.5, 0.3, -0.2, -0.4]);
        let (m, r) = convert(p, ChannelMode::Mono);
        assert_eq!(m.samples, vec![0.4, -0.3]);
        assert!(r.phase_fallback.is_none());
    }

    #[test]
    fn phase_inverted_stereo_falls_back_to_one_channel() {
        let samples: Vec<f32> = (0..1000)
            .flat_map(|i| {
                let s = (i as f32 * 0.1).sin() * 0.5;
                [s, -s * 0.9]
            })
            .collect();
        let (m, r) = convert(pcm(Speaker::default_layout(2), samples), ChannelMode::Mono);
        assert!(r.phase_fallback.is_some());
        assert!(
            m.sample_peak() > 0.45,
            "mono kept the signal: {}",
            m.sample_peak()
        );
    }

    #[test]
    fn surround_downmix_cannot_clip() {
        let frame = vec![1.0f32; 6];
        let (s, _) = convert(pcm(Speaker::default_layout(6), frame), ChannelMode::Stereo);
        assert_eq!(s.channels(), 2);
        assert!(s.sample_peak() <= 1.0 + 1e-6);
        assert!(s.sample_peak() > 0.99);
    }

    #[test]
    fn mono_to_stereo_duplicates() {
        let (s, _) = convert(
            pcm(Speaker::default_layout(1), vec![0.1, 0.2]),
            ChannelMode::Stereo,
        );
        assert_eq!(s.samples, vec![0.1, 0.1, 0.2, 0.2]);
    }
}
