//! Fitting art onto a square sticker canvas: crop (`cover`) or letterbox (`contain`), resized with
//! Lanczos in linear light on premultiplied alpha, so edges neither darken nor halo.

use image::{GenericImageView, ImageBuffer, Rgba, RgbaImage};
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
fn linearise<V: GenericImageView<Pixel = Rgba<u8>>>(img: &V) -> Linear {
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

/// Halve an image (or a view of one) with a 2×2 box filter in premultiplied linear light, staying in
/// 8 bits so huge inputs never need a float copy at full size.
pub(crate) fn halve_linear<V: GenericImageView<Pixel = Rgba<u8>>>(img: &V) -> RgbaImage {
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
    resize_view(img, width, height)
}

/// [`resize`] any view of an image (a crop of one, without copying it first).
fn resize_view<V: GenericImageView<Pixel = Rgba<u8>>>(
    img: &V,
    width: u32,
    height: u32,
) -> RgbaImage {
    let within = |w: u32, h: u32| w <= width.saturating_mul(3) || h <= height.saturating_mul(3);
    if within(img.width(), img.height()) {
        return lanczos(img, width, height);
    }
    let mut halved = halve_linear(img);
    while !within(halved.width(), halved.height()) {
        halved = halve_linear(&halved);
    }
    lanczos(&halved, width, height)
}

/// The Lanczos3 pass of [`resize`], in premultiplied linear light.
fn lanczos<V: GenericImageView<Pixel = Rgba<u8>>>(img: &V, width: u32, height: u32) -> RgbaImage {
    let lin = linearise(img);
    let out = image::imageops::resize(
        &lin,
        width.max(1),
        height.max(1),
        image::imageops::FilterType::Lanczos3,
    );
    delinearise(&out)
}

/// Place `art` on a `size`×`size` canvas as `fit` says.
pub fn fit_square(img: &RgbaImage, size: u32, fit: Fit) -> RgbaImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    match fit {
        Fit::Cover { focus } => {
            // Only the square that shows is resized, cut from the art before scaling: scaling the
            // whole art first made a 16384×1 image 8388608×512 px (68 GB) on a 512 canvas.
            let side = img.width().min(img.height());
            let x = ((img.width() - side) as f32 * focus.0.clamp(0.0, 1.0)).round() as u32;
            let y = ((img.height() - side) as f32 * focus.1.clamp(0.0, 1.0)).round() as u32;
            let square = image::imageops::crop_imm(img, x, y, side, side);
            resize_view(&*square, size, size)
        }
        Fit::Contain { background } => {
            let scale = (size as f32 / w).min(size as f32 / h);
            let (sw, sh) = (
                ((w * scale).round() as u32).clamp(1, size),
                ((h * scale).round() as u32).clamp(1, size),
            );
            let scaled = resize(img, sw, sh);
            let mut canvas = match background {
                Background::Transparent => RgbaImage::new(size, size),
                Background::Color(c) => RgbaImage::from_pixel(size, size, Rgba(c)),
                Background::Blur => {
                    let filled = fit_square(img, size, Fit::Cover { focus: (0.5, 0.5) });
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
        let art = RgbaImage::from_pixel(300, 100, Rgba([200, 10, 10, 255]));
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
