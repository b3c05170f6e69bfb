//! WAV output with hound: 16-bit with TPDF dither, or 24-bit.

use super::pcm::Pcm;
use crate::error::{Error, Result};

/// Encode `pcm` as a WAV file in memory with `bits` (16 or 24) per sample.
///
/// 16-bit output is dithered with triangular (TPDF) noise of ±1 LSB from a fixed-seed generator, so the
/// quantisation error is noise rather than distortion and the bytes are reproducible.
pub fn encode(pcm: &Pcm, bits: u16) -> Result<Vec<u8>> {
    let spec = hound::WavSpec {
        channels: pcm.channels() as u16,
        sample_rate: pcm.rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let fail = |e: hound::Error| Error::Encode {
        detail: format!("WAV: {e}"),
    };
    let mut cursor = std::io::Cursor::new(Vec::with_capacity(
        pcm.samples.len() * usize::from(bits / 8) + 64,
    ));
    let mut w = hound::WavWriter::new(&mut cursor, spec).map_err(fail)?;
    let scale = f64::from(1u32 << (bits - 1));
    let (lo, hi) = (-scale, scale - 1.0);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for &s in &pcm.samples {
        let dither = if bits <= 16 {
            rng.unit() - rng.unit()
        } else {
            0.0
        };
        let v = (f64::from(s) * scale + dither).round().clamp(lo, hi) as i32;
        w.write_sample(v).map_err(fail)?;
    }
    w.finalize().map_err(fail)?;
    Ok(cursor.into_inner())
}

/// Decode a WAV produced by [`encode`] back to float samples (for re-measuring what we ship).
pub fn decode(bytes: &[u8]) -> Result<Pcm> {
    let fail = |e: hound::Error| Error::Encode {
        detail: format!("WAV re-read: {e}"),
    };
    let mut r = hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(fail)?;
    let spec = r.spec();
    let scale = f64::from(1u32 << (spec.bits_per_sample - 1));
    let samples = r
        .samples::<i32>()
        .map(|s| s.map(|v| (f64::from(v) / scale) as f32))
        .collect::<std::result::Result<Vec<f32>, _>>()
        .map_err(fail)?;
    Ok(Pcm {
        rate: spec.sample_rate,
        layout: super::pcm::Speaker::default_layout(usize::from(spec.channels)),
        samples,
    })
}

/// Small deterministic generator for dither (quality needs are modest: white, uniform, repeatable).
struct XorShift(u64);

impl XorShift {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::pcm::Speaker;

    #[test]
    fn round_trips_within_one_lsb() {
        let pcm = Pcm {
            rate: 48_000,
            layout: Speaker::default_layout(2),
            samples: (0..2000).map(|i| ((i as f32) * 0.01).sin() * 0.9).collect(),
        };
        for bits in [16u16, 24] {
            let back = decode(&encode(&pcm, bits).unwrap()).unwrap();
            assert_eq!(back.frames(), 1000);
            let lsb = 1.0 / f32::from(1u16 << (bits - 9)) / 256.0;
            let err = pcm
                .samples
                .iter()
                .zip(&back.samples)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(err <= 2.0 * lsb, "{bits}-bit error {err} > 2 LSB");
        }
    }
}
