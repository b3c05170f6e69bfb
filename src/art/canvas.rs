//! Fitting art onto a square sticker canvas: crop (`cover`) or letterbox (`contain`), resized with
//! Lanczos in linear light on premultiplied alpha, so edges neither darken nor halo.

use image::{DynamicImage, ImageBuffer, Rgba, RgbaImage};
use serde::Serialize;

/// How the art fills the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
#[non_exhaustive]
pub enum Fit {
    /// Fill the canvas and crop the overflow around `focus` (0..1 in each axis; 0.5,0.5 is the centre).
    Cover {
        /// Which part of the overflowing art is kept, as `(x, y)` each 0..1: 0 keeps the left
        /// (top) edge, 1 the right (bottom) edge; `(0.5, 0.5)`, the default, keeps the centre.
        focus: (f32, f32),
    },
    /// Show the whole art, with `background` around it.
    Contain {
        /// What fills the canvas around the art.
        background: Background,
    },
}

impl Default for Fit {
    fn default() -> Self {
        Fit::Cover { focus: (0.5, 0.5) }
    }
}

/// What fills the letterbox of `contain`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Background {
    /// Nothing: the letterbox stays transparent.
    #[default]
    Transparent,
    /// Straight RGBA.
    Color([u8; 4]),
    /// A blurred, enlarged copy of the art itself.
    Blur,
}

/// sRGB byte to linear light.
fn to_linear(v: u8) -> f32 {
    let c = f32::from(v) / 255.0;
    if c <= 0.040_45 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear light to an sRGB byte.
pub fn to_srgb(c: f32) -> u8 {
    let c = c.clamp(0.0, 1.0);
    let s = if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    };
    (s * 255.0 + 0.5) as u8
}

type Linear = ImageBuffer<Rgba<f32>, Vec<f32>>;

/// Straight sRGB RGBA to premultiplied linear RGBA.
fn linearise(img: &RgbaImage) -> Linear {
    let lut: Vec<f32> = (0..=255u8).map(to_linear).collect();
    ImageBuffer::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y).0;
        let a = f32::from(p[3]) / 255.0;
        Rgba([
            lut[p[0] as usize] * a,
            lut[p[1] as usize] * a,
            lut[p[2] as usize] * a,
            a,
        ])
    })
}

/// Premultiplied linear RGBA back to straight sRGB RGBA.
fn delinearise(img: &Linear) -> RgbaImage {
    ImageBuffer::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y).0;
        let a = p[3].clamp(0.0, 1.0);
        if a <= 1e-6 {
            return Rgba([0, 0, 0, 0]);
        }
        Rgba([
            to_srgb(p[0] / a),
            to_srgb(p[1] / a),
            to_srgb(p[2] / a),
            (a * 255.0 + 0.5) as u8,
        ])
    })
}

/// Halve an image with a 2×2 box filter in premultiplied linear light, staying in 8 bits so huge inputs
/// never need a float copy at full size.
fn halve_linear(img: &RgbaImage) -> RgbaImage {
    let lut: Vec<f32> = (0..=255u8).map(to_linear).collect();
    let (w, h) = (img.width() / 2, img.height() / 2);
    ImageBuffer::from_fn(w.max(1), h.max(1), |x, y| {
        let mut acc = [0f32; 4];
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let p = img
                .get_pixel(
                    (2 * x + dx).min(img.width() - 1),
                    (2 * y + dy).min(img.height() - 1),
                )
                .0;
            let a = f32::from(p[3]) / 255.0;
            for c in 0..3 {
                acc[c] += lut[p[c] as usize] * a;
            }
            acc[3] += a;
        }
        let a = acc[3] / 4.0;
        if a <= 1e-6 {
            return Rgba([0, 0, 0, 0]);
        }
        Rgba([
            to_srgb(acc[0] / 4.0 / a),
            to_srgb(acc[1] / 4.0 / a),
            to_srgb(acc[2] / 4.0 / a),
            (a * 255.0 + 0.5) as u8,
        ])
    })
}

/// Resize with Lanczos3 in premultiplied linear light. Very large images are first halved (box filter,
/// also in linear light) until within 3× of the target, which bounds the cost and memory of the Lanczos pass.
pub fn resize(img: &RgbaImage, width: u32, height: u32) -> RgbaImage {
    let mut halved: Option<RgbaImage> = None;
    loop {
        let src = halved.as_ref().unwrap_or(img);
        if src.width() <= width.saturating_mul(3) || src.height() <= height.saturating_mul(3) {
            break;
        }
        halved = Some(halve_linear(src));
    }
    let lin = linearise(halved.as_ref().unwrap_or(img));
    let out = image::imageops::resize(
        &lin,
        width.max(1),
        height.max(1),
        image::imageops::FilterType::Lanczos3,
    );
    delinearise(&out)
}

/// Place `art` on a `size`×`size` canvas as `fit` says.
pub fn fit_square(art: &DynamicImage, size: u32, fit: Fit) -> RgbaImage {
    let img = art.to_rgba8();
    let (w, h) = (img.width() as f32, img.height() as f32);
    match fit {
        Fit::Cover { focus } => {
            let scale = (size as f32 / w).max(size as f32 / h);
            let (sw, sh) = (
                (w * scale).round().max(size as f32) as u32,
                (h * scale).round().max(size as f32) as u32,
            );
            let scaled = resize(&img, sw, sh);
            let x = ((sw - size) as f32 * focus.0.clamp(0.0, 1.0)).round() as u32;
            let y = ((sh - size) as f32 * focus.1.clamp(0.0, 1.0)).round() as u32;
            image::imageops::crop_imm(&scaled, x, y, size, size).to_image()
        }
        Fit::Contain { background } => {
            let scale = (size as f32 / w).min(size as f32 / h);
            let (sw, sh) = (
                ((w * scale).round() as u32).clamp(1, size),
                ((h * scale).round() as u32).clamp(1, size),
            );
            let scaled = resize(&img, sw, sh);
            let mut canvas = match background {
                Background::Transparent => RgbaImage::new(size, size),
                Background::Color(c) => RgbaImage::from_pixel(size, size, Rgba(c)),
                Background::Blur => {
                    let filled = fit_square(art, size, Fit::Cover { focus: (0.5, 0.5) });
                    let small = resize(&filled, (size / 16).max(1), (size / 16).max(1));
                    let mut blurred = resize(&small, size, size);
                    // Darken a little so the art stands out from its own blur.
                    for p in blurred.pixels_mut() {
                        for c in &mut p.0[..3] {
                            *c = (f32::from(*c) * 0.7) as u8;
                        }
                    }
                    blurred
                }
            };
            let (x, y) = ((size - sw) / 2, (size - sh) / 2);
            image::imageops::overlay(&mut canvas, &scaled, i64::from(x), i64::from(y));
            canvas
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srgb_round_trips() {
        for v in 0..=255u8 {
            assert_eq!(to_srgb(to_linear(v)), v);
        }
    }

    #[test]
    fn downscaling_a_checkerboard_keeps_its_brightness() {
        // Black/white 1-px checkerboard: its true average is 50 % linear light = sRGB 188, not 128.
        let img = RgbaImage::from_fn(64, 64, |x, y| {
            let v = if (x + y) % 2 == 0 { 255 } else { 0 };
            Rgba([v, v, v, 255])
        });
        let small = resize(&img, 8, 8);
        let v = small.get_pixel(4, 4).0[0];
        assert!((185..=191).contains(&v), "got {v}");
    }

    #[test]
    fn cover_and_contain_make_square_canvases() {
        let art =
            DynamicImage::ImageRgba8(RgbaImage::from_pixel(300, 100, Rgba([200, 10, 10, 255])));
        let c = fit_square(&art, 64, Fit::default());
        assert_eq!(c.dimensions(), (64, 64));
        assert_eq!(c.get_pixel(0, 0).0[3], 255);
        let l = fit_square(
            &art,
            64,
            Fit::Contain {
                background: Background::Transparent,
            },
        );
        assert_eq!(l.get_pixel(32, 0).0[3], 0, "letterbox is transparent");
        assert_eq!(l.get_pixel(32, 32).0[3], 255);
    }
}
