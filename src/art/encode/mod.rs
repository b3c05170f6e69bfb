//! Image encoders for sticker animations: WebP (libwebp), APNG/PNG (png crate), GIF (gif crate with
//! NeuQuant and Floyd–Steinberg dithering) and WebM/VP9 (libvpx with our own WebM muxer), each behind
//! the `Codec` trait the fitter uses (see `codec`).

pub mod apng;
pub mod codec;
pub mod gif;
pub mod mkv;
pub mod palette;
mod vpx;
pub mod webm;
pub mod webp;
mod yuv;

pub use codec::{Codec, EncodeSettings, EstimateBy, Tuning, codec};
use image::RgbaImage;

/// Frames decoded from a file: how many it has, and those asked for with their indices (checking a
/// fit compares a few frames; keeping every decoded frame would double the memory of a sticker).
#[derive(Debug, Default)]
pub struct DecodedFrames {
    /// Frames the file holds.
    pub count: usize,
    /// The frames asked for, with their indices.
    pub kept: Vec<(usize, RgbaImage)>,
}

impl DecodedFrames {
    /// Record frame number `count`, made by `make` only if `keep` wants it.
    pub(crate) fn offer(
        &mut self,
        keep: &dyn Fn(usize) -> bool,
        make: impl FnOnce() -> Option<RgbaImage>,
    ) {
        let i = self.count;
        self.count += 1;
        if keep(i)
            && let Some(img) = make()
        {
            self.kept.push((i, img));
        }
    }
}

/// Frames to encode, all the same size, each with its display time.
#[derive(Debug, Clone)]
pub struct Animation {
    /// The frames, all the same size.
    pub frames: Vec<RgbaImage>,
    /// Display time of each frame in milliseconds.
    pub durations_ms: Vec<u32>,
}

impl Animation {
    /// Frames at `fps` for a loop of `total_ms`: durations are whole milliseconds whose sum is exact.
    pub fn at_fps(frames: Vec<RgbaImage>, fps: f64) -> Self {
        let durations_ms = Self::durations_at_fps(frames.len(), fps);
        Animation {
            frames,
            durations_ms,
        }
    }

    /// The durations `at_fps` gives `n` frames: whole milliseconds whose sum is exact.
    pub fn durations_at_fps(n: usize, fps: f64) -> Vec<u32> {
        (0..n)
            .map(|i| {
                let a = (i as f64 * 1000.0 / fps).round() as u32;
                let b = ((i + 1) as f64 * 1000.0 / fps).round() as u32;
                b - a
            })
            .collect()
    }

    /// Width of the frames (0 without frames).
    pub fn width(&self) -> u32 {
        self.frames.first().map_or(0, |f| f.width())
    }

    /// Height of the frames (0 without frames).
    pub fn height(&self) -> u32 {
        self.frames.first().map_or(0, |f| f.height())
    }

    /// Total loop length, ms.
    pub fn total_ms(&self) -> u32 {
        self.durations_ms.iter().sum()
    }

    /// Keep every `step`-th frame, each lasting as long as the frames it replaces (lower frame rate,
    /// same loop length).
    pub fn decimate(&self, step: usize) -> Animation {
        Animation {
            frames: self.frames.iter().step_by(step.max(1)).cloned().collect(),
            durations_ms: self.decimated_durations(step),
        }
    }

    /// The frame durations `decimate(step)` gives, without copying frames.
    pub fn decimated_durations(&self, step: usize) -> Vec<u32> {
        Self::decimate_durations(&self.durations_ms, step)
    }

    /// `durations` of every `step` frames summed: the durations of every `step`-th frame kept.
    pub fn decimate_durations(durations: &[u32], step: usize) -> Vec<u32> {
        durations
            .chunks(step.max(1))
            .map(|d| d.iter().sum())
            .collect()
    }

    /// The same animation with every frame resized to `width`×`height`.
    pub fn resized(&self, width: u32, height: u32) -> Animation {
        Animation {
            frames: self
                .frames
                .iter()
                .map(|f| crate::art::canvas::resize(f, width.max(1), height.max(1)))
                .collect(),
            durations_ms: self.durations_ms.clone(),
        }
    }

    /// Every frame at half the width and height, each pixel the plain average of a 2×2 block of
    /// stored bytes. Only for size estimates: a tenth of the cost of `resized` (Lanczos in linear
    /// light), and an encoder's bytes barely depend on the filter.
    pub fn halved(&self) -> Animation {
        let half = |f: &RgbaImage| {
            let (w, h) = (
                (f.width() / 2).max(1) as usize,
                (f.height() / 2).max(1) as usize,
            );
            let (sw, sh) = (f.width() as usize, f.height() as usize);
            let src = f.as_raw();
            let row = |y: usize| &src[y.min(sh - 1) * sw * 4..(y.min(sh - 1) + 1) * sw * 4];
            let mut out = Vec::with_capacity(w * h * 4);
            // Row pairs and column pairs by index (edges repeat the last row or column): a WebP fit
            // halves every frame of each frame rate it estimates.
            for y in 0..h {
                let (top, bottom) = (row(2 * y), row(2 * y + 1));
                for x in 0..w {
                    let (l, r) = (8 * x, 4 * (2 * x + 1).min(sw - 1));
                    for c in 0..4 {
                        let sum = 2 // rounds to nearest
                            + u16::from(top[l + c])
                            + u16::from(top[r + c])
                            + u16::from(bottom[l + c])
                            + u16::from(bottom[r + c]);
                        out.push((sum / 4) as u8);
                    }
                }
            }
            RgbaImage::from_raw(w as u32, h as u32, out)
                .expect("invariant: the buffer holds w × h pixels")
        };
        Animation {
            frames: self.frames.iter().map(half).collect(),
            durations_ms: self.durations_ms.clone(),
        }
    }

    /// Frames per second, from the average frame duration.
    pub fn fps(&self) -> f64 {
        if self.total_ms() == 0 {
            return 0.0;
        }
        self.frames.len() as f64 * 1000.0 / f64::from(self.total_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_sum_exactly_and_decimation_keeps_length() {
        let frames = vec![RgbaImage::new(2, 2); 60];
        let a = Animation::at_fps(frames, 30.0);
        assert_eq!(a.total_ms(), 2000);
        assert!(a.durations_ms.iter().all(|&d| d == 33 || d == 34));
        let half = a.decimate(2);
        assert_eq!(half.frames.len(), 30);
        assert_eq!(half.total_ms(), 2000);
        assert!((half.fps() - 15.0).abs() < 1e-9);
    }

    #[test]
    fn halving_averages_two_by_two_blocks_and_keeps_timing() {
        // A 5×3 frame: odd sides round down, and the last column/row is not read past the edge.
        let frame = RgbaImage::from_fn(5, 3, |x, y| {
            image::Rgba([(x * 40) as u8, (y * 100) as u8, 7, 255])
        });
        let a = Animation::at_fps(vec![frame; 3], 10.0);
        let h = a.halved();
        assert_eq!((h.width(), h.height()), (2, 1));
        assert_eq!(h.durations_ms, a.durations_ms);
        // (0+40+0+40)/4 = 20 and (0+0+100+100)/4 = 50; (80+120+80+120)/4 = 100.
        assert_eq!(h.frames[0].get_pixel(0, 0).0, [20, 50, 7, 255]);
        assert_eq!(h.frames[0].get_pixel(1, 0).0, [100, 50, 7, 255]);
        // A single pixel stays itself (every tap is the edge).
        let one = Animation::at_fps(
            vec![RgbaImage::from_pixel(1, 1, image::Rgba([9, 99, 199, 77]))],
            10.0,
        );
        assert_eq!(one.halved().frames[0].get_pixel(0, 0).0, [9, 99, 199, 77]);
    }
}
