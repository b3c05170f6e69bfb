//! Sample-rate conversion with rubato's windowed-sinc resampler, keeping clip lengths exact.

use super::pcm::Pcm;
use crate::error::{Error, Result};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, Resampler, SincInterpolationParameters, WindowFunction};

/// Resample `pcm` to `rate` Hz. Returns the input untouched when it is already at that rate.
///
/// The output holds exactly `round(frames * rate / pcm.rate)` frames, so a clip cut to the sample at
/// the source rate keeps its exact duration (rubato's `process_all` trims the filter delay but may
/// give one frame more).
pub fn resample(pcm: Pcm, rate: u32) -> Result<Pcm> {
    if pcm.rate == rate || pcm.frames() == 0 {
        return Ok(Pcm { rate, ..pcm });
    }
    let channels = pcm.channels();
    let frames = pcm.frames();
    let ratio = f64::from(rate) / f64::from(pcm.rate);
    // 256 taps with a Blackman-Harris window: rubato's recommended high-quality setting.
    let params = SincInterpolationParameters::new(256, WindowFunction::BlackmanHarris2);
    let fail = |what: String| Error::Encode {
        detail: format!("resampling {} Hz to {rate} Hz: {what}", pcm.rate),
    };
    let mut resampler =
        Async::<f32>::new_sinc(ratio, 1.0, &params, 1024, channels, FixedAsync::Input)
            .map_err(|e| fail(e.to_string()))?;
    let input =
        InterleavedSlice::new(&pcm.samples, channels, frames).map_err(|e| fail(e.to_string()))?;
    let out = resampler
        .process_all(&input, frames, None)
        .map_err(|e| fail(e.to_string()))?;
    let mut samples = out.take_data();
    let want = (frames as u128 * u128::from(rate) + u128::from(pcm.rate) / 2)
        .checked_div(u128::from(pcm.rate))
        .and_then(|w| usize::try_from(w).ok())
        .ok_or_else(|| fail("no such rate".into()))?;
    samples.resize(want * channels, 0.0);
    Ok(Pcm {
        rate,
        layout: pcm.layout,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::pcm::Speaker;

    #[test]
    fn keeps_exact_length_and_level() {
        let rate = 44_100;
        let n = 44_100 * 2;
        let samples: Vec<f32> = (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate as f32).sin() * 0.5)
            .collect();
        let pcm = Pcm {
            rate,
            layout: Speaker::default_layout(1),
            samples,
        };
        let out = resample(pcm, 48_000).unwrap();
        assert_eq!(out.frames(), 96_000);
        // A 1 kHz tone keeps its amplitude within 0.1 dB (passband ripple of a 256-tap sinc is far lower).
        let peak = out.samples[1000..95_000]
            .iter()
            .fold(0f32, |m, s| m.max(s.abs()));
        assert!((peak - 0.5).abs() < 0.006, "peak {peak}");
    }
}
