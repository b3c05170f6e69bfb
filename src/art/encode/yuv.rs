//! Colour conversion between RGBA frames and VP9's I420 planes (BT.601, limited range): the encoder's
//! fixed-point conversion and the decoder's way back.

use image::RgbaImage;

/// BT.601 limited-range planes (Y, U, V) of an RGBA frame with even sides, written into `out` (resized to
/// fit, so one buffer serves a whole stream); `alpha_plane` puts alpha in Y with grey chroma, as the
/// alpha stream expects. Fixed-point (8-bit coefficients, as libyuv uses) and written row pair by row
/// pair without bounds clamps, so it vectorises: every probe of a fit converts every frame.
pub(super) fn to_i420_into(img: &RgbaImage, alpha_plane: bool, out: &mut Vec<u8>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    debug_assert!(w % 2 == 0 && h % 2 == 0, "VP9 frames have even sides");
    let (cw, ch) = (w / 2, h / 2);
    out.clear();
    out.resize(w * h + 2 * cw * ch, 128);
    let px = img.as_raw();
    let (luma, chroma) = out.split_at_mut(w * h);
    if alpha_plane {
        for (y_out, p) in luma.iter_mut().zip(px.chunks_exact(4)) {
            *y_out = p[3];
        }
        return;
    }
    // 16-bit lanes (the sum stays under 2^16) in blocks of eight pixels, so it vectorises on plain
    // SSE2: a Telegram fit converts some 360 frames (docs/design.md, "Encoders").
    let luma_of = |p: &[u8]| {
        let (r, g, b) = (u16::from(p[0]), u16::from(p[1]), u16::from(p[2]));
        (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8
    };
    let mut blocks = luma.chunks_exact_mut(8);
    let mut pixels = px.chunks_exact(32);
    for (out, p) in (&mut blocks).zip(&mut pixels) {
        for (o, p) in out.iter_mut().zip(p.chunks_exact(4)) {
            *o = luma_of(p);
        }
    }
    for (o, p) in blocks
        .into_remainder()
        .iter_mut()
        .zip(pixels.remainder().chunks_exact(4))
    {
        *o = luma_of(p);
    }
    let (u_plane, v_plane) = chroma.split_at_mut(cw * ch);
    let rows = px.chunks_exact(8 * cw).collect::<Vec<_>>();
    for (cy, pair) in rows.chunks_exact(2).enumerate() {
        let (u_row, v_row) = (
            &mut u_plane[cy * cw..(cy + 1) * cw],
            &mut v_plane[cy * cw..(cy + 1) * cw],
        );
        for (((u, v), top), bottom) in u_row
            .iter_mut()
            .zip(v_row.iter_mut())
            .zip(pair[0].chunks_exact(8))
            .zip(pair[1].chunks_exact(8))
        {
            let sum = |c: usize| {
                i32::from(top[c])
                    + i32::from(top[c + 4])
                    + i32::from(bottom[c])
                    + i32::from(bottom[c + 4])
            };
            let (r, g, b) = (sum(0), sum(1), sum(2));
            // Sums of four pixels: the coefficients are scaled by 4 more (>> 10).
            *u = (128 + ((-38 * r - 74 * g + 112 * b + 512) >> 10)) as u8;
            *v = (128 + ((112 * r - 94 * g - 18 * b + 512) >> 10)) as u8;
        }
    }
}

/// The planes of `to_i420_into` in a new buffer.
#[cfg(test)]
fn to_i420(img: &RgbaImage, alpha_plane: bool) -> Vec<u8> {
    let mut out = Vec::new();
    to_i420_into(img, alpha_plane, &mut out);
    out
}

/// A decoded I420 picture: width, height and the Y, U, V planes (tightly packed).
pub(super) struct Planes {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) y: Vec<u8>,
    pub(super) u: Vec<u8>,
    pub(super) v: Vec<u8>,
}

/// RGBA of decoded planes (BT.601, studio range, as we encode), with each pixel's alpha from `alpha`
/// (by pixel index).
pub(super) fn rgba(p: &Planes, alpha: impl Fn(usize) -> u8) -> RgbaImage {
    let (w, cw) = (p.w, p.w.div_ceil(2));
    RgbaImage::from_fn(p.w as u32, p.h as u32, |x, yy| {
        let (x, yy) = (x as usize, yy as usize);
        let luma = f32::from(p.y[yy * w + x]) - 16.0;
        let cu = f32::from(p.u[(yy / 2) * cw + x / 2]) - 128.0;
        let cv = f32::from(p.v[(yy / 2) * cw + x / 2]) - 128.0;
        let r = 1.164 * luma + 1.596 * cv;
        let g = 1.164 * luma - 0.392 * cu - 0.813 * cv;
        let b = 1.164 * luma + 2.017 * cu;
        image::Rgba([
            r.round().clamp(0.0, 255.0) as u8,
            g.round().clamp(0.0, 255.0) as u8,
            b.round().clamp(0.0, 255.0) as u8,
            alpha(yy * w + x),
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i420_planes_follow_bt601_limited_range() {
        // Frames of varied colours (10×6 leaves a remainder after the blocks of eight pixels): every
        // luma sample and every 2×2 chroma average is checked against the BT.601 formulas in floating
        // point (within the fixed point's rounding).
        for (w, h) in [(6u32, 4u32), (10, 6)] {
            let img = RgbaImage::from_fn(w, h, |x, y| {
                image::Rgba([
                    (x * 25 + y * 7) as u8,
                    (255 - y * 40) as u8,
                    (x * y * 6) as u8,
                    200,
                ])
            });
            let planes = to_i420(&img, false);
            let (cw, ch) = (w / 2, h / 2);
            assert_eq!(planes.len() as u32, w * h + 2 * cw * ch);
            let f = |x: u32, y: u32| img.get_pixel(x, y).0.map(f64::from);
            for y in 0..h {
                for x in 0..w {
                    let [r, g, b, _] = f(x, y);
                    let want = 16.0 + (65.738 * r + 129.057 * g + 25.064 * b) / 256.0;
                    let got = f64::from(planes[(y * w + x) as usize]);
                    assert!(
                        (got - want).abs() <= 1.0,
                        "Y at {x},{y} of {w}×{h}: {got} vs {want}"
                    );
                }
            }
            for cy in 0..ch {
                for cx in 0..cw {
                    let mut avg = [0.0; 3];
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let p = f(2 * cx + dx, 2 * cy + dy);
                        for c in 0..3 {
                            avg[c] += p[c] / 4.0;
                        }
                    }
                    let [r, g, b] = avg;
                    let u_want = 128.0 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256.0;
                    let v_want = 128.0 + (112.439 * r - 94.154 * g - 18.285 * b) / 256.0;
                    let i = (w * h + cy * cw + cx) as usize;
                    let (u, v) = (
                        f64::from(planes[i]),
                        f64::from(planes[i + (cw * ch) as usize]),
                    );
                    assert!((u - u_want).abs() <= 1.0, "U at {cx},{cy}: {u} vs {u_want}");
                    assert!((v - v_want).abs() <= 1.0, "V at {cx},{cy}: {v} vs {v_want}");
                }
            }
        }
        let img = RgbaImage::from_pixel(6, 4, image::Rgba([10, 20, 30, 200]));
        let alpha = to_i420(&img, true);
        assert!(alpha[..24].iter().all(|&a| a == 200));
        assert!(alpha[24..].iter().all(|&c| c == 128));
    }
}
