//! The sticker look: square, rounded or circular masks with antialiased edges, a transparent margin,
//! and a die-cut outline (a white stroke that follows the opaque shape, like a hand-cut sticker).

use image::{Rgba, RgbaImage};
use serde::Serialize;

/// The outline of the art.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema, Default,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Shape {
    /// A plain square with sharp corners.
    Square,
    /// A square with rounded corners (radius 18% of the side).
    #[default]
    Rounded,
    /// A circle inscribed in the canvas.
    Circle,
}

impl std::str::FromStr for Shape {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "square" => Ok(Shape::Square),
            "rounded" => Ok(Shape::Rounded),
            "circle" => Ok(Shape::Circle),
            _ => Err(format!(
                "`{s}` is not a shape; use square, rounded or circle"
            )),
        }
    }
}

display_as_serde_name!(Shape);

/// Coverage (0..1) of the pixel centred at (x, y) by `shape` inscribed in [0, size)², by signed distance.
fn coverage(shape: Shape, size: f32, x: f32, y: f32) -> f32 {
    let c = size / 2.0;
    let (dx, dy) = ((x - c).abs(), (y - c).abs());
    let dist = match shape {
        Shape::Square => dx.max(dy) - c,
        Shape::Circle => (dx * dx + dy * dy).sqrt() - c,
        Shape::Rounded => {
            let r = size * 0.18;
            let (qx, qy) = (dx - (c - r), dy - (c - r));
            let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
            outside + qx.max(qy).min(0.0) - r
        }
    };
    (0.5 - dist).clamp(0.0, 1.0)
}

/// Apply `shape` to `art` (already canvas-sized) shrunk by `margin` px on each side, then add a white
/// outline `outline` px wide around whatever is opaque. Returns a new canvas of the same size.
pub fn apply(art: &RgbaImage, shape: Shape, margin: u32, outline: u32) -> RgbaImage {
    let size = art.width();
    let inner = size.saturating_sub(2 * (margin + outline)).max(1);
    let scaled = if inner == size {
        art.clone()
    } else {
        super::canvas::resize(art, inner, inner)
    };
    let offset = (size - inner) / 2;
    let mut out = RgbaImage::new(size, size);
    for (x, y, p) in scaled.enumerate_pixels() {
        let cov = coverage(shape, inner as f32, x as f32 + 0.5, y as f32 + 0.5);
        let a = (f32::from(p.0[3]) * cov + 0.5) as u8;
        out.put_pixel(x + offset, y + offset, Rgba([p.0[0], p.0[1], p.0[2], a]));
    }
    if outline == 0 {
        return out;
    }
    let alpha: Vec<f32> = out.pixels().map(|p| f32::from(p.0[3]) / 255.0).collect();
    let stroke = stroke(&alpha, size as i32, outline);
    // Composite the art over the white stroke.
    let mut result = RgbaImage::new(size, size);
    for (i, (p, o)) in out.pixels().zip(result.pixels_mut()).enumerate() {
        let fa = f32::from(p.0[3]) / 255.0;
        let ba = stroke[i];
        let a = fa + ba * (1.0 - fa);
        if a <= 0.0 {
            continue;
        }
        let mix = |c: u8| ((f32::from(c) * fa + 255.0 * ba * (1.0 - fa)) / a + 0.5) as u8;
        *o = Rgba([
            mix(p.0[0]),
            mix(p.0[1]),
            mix(p.0[2]),
            (a * 255.0 + 0.5) as u8,
        ]);
    }
    result
}

/// Die-cut stroke coverage of an `n`×`n` alpha mask: white wherever an opaque pixel lies within
/// `outline` px (distance from the alpha edge by a brute-force disc search; fine at sticker sizes).
fn stroke(alpha: &[f32], n: i32, outline: u32) -> Vec<f32> {
    let r = outline as i32;
    let mut stroke = vec![0f32; alpha.len()];
    let offsets: Vec<(i32, i32, f32)> = (-r - 1..=r + 1)
        .flat_map(|dy| (-r - 1..=r + 1).map(move |dx| (dx, dy)))
        .filter_map(|(dx, dy)| {
            let d = ((dx * dx + dy * dy) as f32).sqrt();
            let w = (outline as f32 + 0.5 - d).clamp(0.0, 1.0);
            (w > 0.0).then_some((dx, dy, w))
        })
        .collect();
    // Each row's span of pixels with any alpha: a pixel further than the disc's reach from every such
    // pixel in the rows it reaches gets no stroke, so the search skips it (the corners of a circle and
    // the margin: a third of a 512 px circle sticker).
    let spans: Vec<Option<(i32, i32)>> = alpha
        .chunks_exact(n as usize)
        .map(|row| {
            let first = row.iter().position(|&a| a > 0.0)?;
            let last = row.iter().rposition(|&a| a > 0.0)?;
            Some((first as i32, last as i32))
        })
        .collect();
    let reach = r + 1;
    for y in 0..n {
        let rows = (y - reach).max(0) as usize..=(y + reach).min(n - 1) as usize;
        let (lo, hi) = spans[rows]
            .iter()
            .flatten()
            .fold((n, -1), |(lo, hi), &(a, b)| (lo.min(a), hi.max(b)));
        if hi < lo {
            continue; // no shape pixel within reach of this row
        }
        for x in (lo - reach).max(0)..=(hi + reach).min(n - 1) {
            let mut s = 0f32;
            for &(dx, dy, w) in &offsets {
                let (sx, sy) = (x + dx, y + dy);
                if sx >= 0 && sy >= 0 && sx < n && sy < n {
                    s = s.max(alpha[(sy * n + sx) as usize] * w);
                    if s >= 1.0 {
                        break;
                    }
                }
            }
            stroke[(y * n + x) as usize] = s;
        }
    }
    stroke
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circle_is_transparent_in_the_corners_and_outlined_in_white() {
        let art = RgbaImage::from_pixel(64, 64, Rgba([10, 20, 200, 255]));
        let out = apply(&art, Shape::Circle, 2, 4);
        assert_eq!(out.get_pixel(0, 0).0[3], 0);
        assert_eq!(out.get_pixel(32, 32).0, [10, 20, 200, 255]);
        // Just inside the outer edge at the top: the white stroke.
        let p = out.get_pixel(32, 4).0;
        assert!(
            p[0] > 240 && p[1] > 240 && p[2] > 240 && p[3] > 200,
            "{p:?}"
        );
    }

    #[test]
    fn stroke_skipping_far_pixels_equals_the_search_everywhere() {
        // A circle with a margin and an off-centre blob: the skipped pixels (corners, margin, beside
        // the blob) must come out exactly as a search at every pixel gives them.
        let n = 48;
        let art = RgbaImage::from_pixel(n as u32, n as u32, Rgba([10, 20, 200, 255]));
        let mut shaped = apply(&art, Shape::Circle, 6, 0);
        for y in 2..5 {
            for x in 40..44 {
                shaped.put_pixel(x, y, Rgba([0, 0, 0, 90]));
            }
        }
        let alpha: Vec<f32> = shaped.pixels().map(|p| f32::from(p.0[3]) / 255.0).collect();
        let outline = 3u32;
        let r = outline as i32 + 1;
        let direct: Vec<f32> = (0..n * n)
            .map(|i| {
                let (x, y) = (i % n, i / n);
                let mut s = 0f32;
                for dy in -r..=r {
                    for dx in -r..=r {
                        let (sx, sy) = (x + dx, y + dy);
                        let d = ((dx * dx + dy * dy) as f32).sqrt();
                        let w = (outline as f32 + 0.5 - d).clamp(0.0, 1.0);
                        if w > 0.0 && sx >= 0 && sy >= 0 && sx < n && sy < n {
                            s = s.max(alpha[(sy * n + sx) as usize] * w);
                        }
                    }
                }
                s.min(1.0)
            })
            .collect();
        let got = stroke(&alpha, n, outline);
        assert_eq!(got.len(), direct.len());
        for (i, (g, d)) in got.iter().zip(&direct).enumerate() {
            assert_eq!(g.min(1.0), *d, "pixel {},{}", i as i32 % n, i as i32 / n);
        }
        assert!(
            direct.iter().filter(|&&d| d == 0.0).count() > 100,
            "nothing was skipped"
        );
    }
}
