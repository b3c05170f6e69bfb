//! Image quality of encoded frames against the rendered ones: mean SSIM on luma.
//!
//! Hand-written (about forty lines) because the maintained SSIM crates are AGPL-licensed (dssim) or pull
//! in a whole image-processing stack; block SSIM as libwebp's own tools compute it is enough to steer
//! the byte-cap search and to report a comparable figure.

use image::RgbaImage;

/// Luma of straight RGBA composited over mid-grey, so transparency errors count too.
pub(crate) fn luma(img: &RgbaImage) -> Vec<f32> {
    img.pixels()
        .map(|p| {
            let a = f32::from(p.0[3]) / 255.0;
            let y =
                0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2]);
            y * a + 128.0 * (1.0 - a)
        })
        .collect()
}

/// Mean SSIM over 8×8 windows (stride 4) of two equally sized images; 1.0 means identical.
pub fn ssim(a: &RgbaImage, b: &RgbaImage) -> f64 {
    if a.dimensions() != b.dimensions() {
        return 0.0;
    }
    let (w, h) = (a.width() as usize, a.height() as usize);
    let (la, lb) = (luma(a), luma(b));
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let mut total = 0f64;
    let mut count = 0usize;
    for y in (0..h.saturating_sub(7)).step_by(4) {
        for x in (0..w.saturating_sub(7)).step_by(4) {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0f64, 0f64, 0f64, 0f64, 0f64);
            for dy in 0..8 {
                let row = (y + dy) * w + x;
                for i in row..row + 8 {
                    let (p, q) = (f64::from(la[i]), f64::from(lb[i]));
                    sa += p;
                    sb += q;
                    saa += p * p;
                    sbb += q * q;
                    sab += p * q;
                }
            }
            let n = 64.0;
            let (ma, mb) = (sa / n, sb / n);
            let (va, vb, cov) = (saa / n - ma * ma, sbb / n - mb * mb, sab / n - ma * mb);
            total += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            count += 1;
        }
    }
    if count == 0 {
        1.0
    } else {
        total / count as f64
    }
}

/// Mean SSIM of decoded frames against the reference frames they stand for (`step` reference frames per
/// decoded frame); `decoded` holds the compared frames with their indices.
pub fn mean_ssim(reference: &[RgbaImage], decoded: &[(usize, RgbaImage)], step: usize) -> f64 {
    if decoded.is_empty() || reference.is_empty() {
        return 0.0;
    }
    let sum: f64 = decoded
        .iter()
        .map(|(i, f)| ssim(&reference[(i * step.max(1)).min(reference.len() - 1)], f))
        .sum();
    sum / decoded.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    #[test]
    fn identical_is_one_and_noise_is_less() {
        let a = RgbaImage::from_fn(64, 64, |x, y| {
            Rgba([(x * 4) as u8, (y * 4) as u8, 100, 255])
        });
        assert!((ssim(&a, &a) - 1.0).abs() < 1e-9);
        let mut b = a.clone();
        for (i, p) in b.pixels_mut().enumerate() {
            p.0[0] = p.0[0].wrapping_add(if i % 2 == 0 { 40 } else { 0 });
        }
        let s = ssim(&a, &b);
        assert!(s < 0.95 && s > 0.2, "{s}");
    }
}
