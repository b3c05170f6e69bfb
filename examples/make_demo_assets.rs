//! Synthesises the demo master (`assets/demo/master.wav`, then FLAC-encoded by `make assets`) and the demo
//! cover (`assets/demo/cover.png`). Everything is generated from code, so the assets are ours to ship.
//!
//! Run: `cargo run --release --example make_demo_assets -- assets/demo`

use std::f64::consts::PI;
use std::path::PathBuf;

const RATE: u32 = 44_100;
const BPM: f64 = 112.0;
const BARS: usize = 14;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

fn midi_hz(n: f64) -> f64 {
    440.0 * 2f64.powf((n - 69.0) / 12.0)
}

fn add(buf: &mut [[f64; 2]], at: usize, sig: &[f64], pan: f64, gain: f64) {
    let (l, r) = ((1.0 - pan).sqrt() * gain, (1.0 + pan).sqrt() * gain);
    for (i, s) in sig.iter().enumerate() {
        if let Some(f) = buf.get_mut(at + i) {
            f[0] += s * l;
            f[1] += s * r;
        }
    }
}

fn tone(freq: f64, secs: f64, harmonics: &[f64], attack: f64, decay: f64) -> Vec<f64> {
    let n = (secs * f64::from(RATE)) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            let env =
                (t / attack).min(1.0) * (-t / decay).exp() * (1.0 - (i as f64 / n as f64).powi(8));
            let s: f64 = harmonics
                .iter()
                .enumerate()
                .map(|(k, a)| a * (2.0 * PI * freq * (k + 1) as f64 * t).sin())
                .sum();
            s * env
        })
        .collect()
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "assets/demo".into()),
    );
    std::fs::create_dir_all(&dir).expect("create output dir");
    let beat = 60.0 / BPM;
    let beat_n = (beat * f64::from(RATE)) as usize;
    let total = beat_n * 4 * BARS + RATE as usize * 2;
    let mut mix = vec![[0f64; 2]; total];
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    // C – Am – F – G, as MIDI roots with triads.
    let chords: [[f64; 3]; 4] = [
        [60.0, 64.0, 67.0],
        [57.0, 60.0, 64.0],
        [53.0, 57.0, 60.0],
        [55.0, 59.0, 62.0],
    ];
    let melody = [72.0, 74.0, 76.0, 79.0, 76.0, 74.0, 72.0, 69.0];
    for bar in 0..BARS {
        let chord = chords[bar % 4];
        let bar_at = bar * 4 * beat_n;
        let full = bar >= 2;
        // Pad: slow, detuned, wide.
        for (k, &n) in chord.iter().enumerate() {
            let pad = tone(midi_hz(n), beat * 4.0, &[0.5, 0.2, 0.1, 0.05], 0.4, 6.0);
            let pad2 = tone(
                midi_hz(n) * 1.004,
                beat * 4.0,
                &[0.5, 0.2, 0.1, 0.05],
                0.5,
                6.0,
            );
            add(&mut mix, bar_at, &pad, -0.6 + 0.3 * k as f64, 0.10);
            add(&mut mix, bar_at, &pad2, 0.6 - 0.3 * k as f64, 0.10);
        }
        for step in 0..8 {
            let at = bar_at + step * beat_n / 2;
            // Hi-hat on eighths.
            let hat: Vec<f64> = {
                let mut prev = 0.0;
                (0..2_000)
                    .map(|i| {
                        let w = rng.next();
                        let hp = w - prev;
                        prev = w;
                        hp * (-(i as f64) / 300.0).exp()
                    })
                    .collect()
            };
            add(
                &mut mix,
                at,
                &hat,
                0.3,
                if step % 2 == 1 { 0.12 } else { 0.07 },
            );
            if !full {
                continue;
            }
            // Bass on eighths.
            let bass = tone(
                midi_hz(chord[0] - 24.0),
                beat * 0.45,
                &[0.8, 0.4, 0.2, 0.1],
                0.005,
                0.25,
            );
            add(&mut mix, at, &bass, 0.0, 0.35);
            // Lead: a pluck every eighth from the melody, from bar 6 on.
            if bar >= 6 {
                let note =
                    melody[(bar * 8 + step) % melody.len()] - if bar % 4 == 3 { 2.0 } else { 0.0 };
                let lead = tone(
                    midi_hz(note),
                    beat * 0.5,
                    &[0.6, 0.25, 0.15, 0.08, 0.04],
                    0.003,
                    0.18,
                );
                add(
                    &mut mix,
                    at,
                    &lead,
                    if step % 2 == 0 { -0.25 } else { 0.25 },
                    0.22,
                );
            }
        }
        if !full {
            continue;
        }
        for b in 0..4 {
            let at = bar_at + b * beat_n;
            // Kick: falling sine.
            let kick: Vec<f64> = (0..(RATE as usize / 4))
                .map(|i| {
                    let t = i as f64 / f64::from(RATE);
                    let f = 45.0 + 110.0 * (-t * 30.0).exp();
                    (2.0 * PI * f * t).sin() * (-t * 9.0).exp()
                })
                .collect();
            add(&mut mix, at, &kick, 0.0, 0.9);
            if b % 2 == 1 {
                let snare: Vec<f64> = (0..(RATE as usize / 5))
                    .map(|i| {
                        let t = i as f64 / f64::from(RATE);
                        (0.7 * rng.next() + 0.5 * (2.0 * PI * 190.0 * t).sin()) * (-t * 22.0).exp()
                    })
                    .collect();
                add(&mut mix, at, &snare, -0.1, 0.45);
            }
        }
    }
    // Gentle master: soft-clip and scale to peak about −0.3 dBFS.
    let peak = mix
        .iter()
        .flat_map(|f| f.iter())
        .fold(0f64, |m, s| m.max(s.abs()));
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let wav = dir.join("master.wav");
    let mut w = hound::WavWriter::create(&wav, spec).expect("create master.wav");
    for f in &mix {
        for s in f {
            let x = (s / peak * 1.4).tanh() / 1.4f64.tanh() * 0.966;
            w.write_sample((x * 32767.0).round() as i16)
                .expect("write sample");
        }
    }
    w.finalize().expect("finish master.wav");

    // Cover: a warm gradient with a record-like disc and a bright sticker dot.
    let size = 640u32;
    let img = image::RgbaImage::from_fn(size, size, |x, y| {
        let (fx, fy) = (x as f64 / size as f64, y as f64 / size as f64);
        let (dx, dy) = (fx - 0.5, fy - 0.5);
        let r = (dx * dx + dy * dy).sqrt();
        let mut c = [
            220.0 - 120.0 * fy + 30.0 * fx,
            80.0 + 60.0 * fx,
            140.0 + 100.0 * fy,
        ];
        if r < 0.36 {
            let groove = 0.85 + 0.15 * (r * 260.0).sin();
            c = [25.0 * groove, 22.0 * groove, 30.0 * groove];
        }
        if r < 0.12 {
            c = [250.0, 200.0, 70.0];
        }
        if r < 0.015 {
            c = [20.0, 20.0, 20.0];
        }
        image::Rgba([c[0] as u8, c[1] as u8, c[2] as u8, 255])
    });
    img.save(dir.join("cover.png")).expect("write cover.png");
    // A small JPEG for embedding in Ogg Opus tags, where every byte counts against platform caps.
    let thumb = image::imageops::resize(&img, 256, 256, image::imageops::FilterType::Lanczos3);
    image::DynamicImage::ImageRgba8(thumb)
        .to_rgb8()
        .save(dir.join("cover-thumb.jpg"))
        .expect("write cover-thumb.jpg");
    println!("wrote {}, cover.png and cover-thumb.jpg", wav.display());
}
