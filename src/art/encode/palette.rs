//! One colour palette for a whole animation, for palette APNGs: NeuQuant (color_quant) learns it from a
//! few frames, and a cache maps pixels to it.
//!
//! The cache is written here because color_quant's `index_of` searches the palette for every pixel, and
//! a fit maps every frame of every probe: pixels are looked up by their colour at 6 bits a channel, each
//! distinct key searched once. The key's rounding (at most 2 levels a channel) is far below the
//! palette's own spacing.

use color_quant::NeuQuant;
use image::RgbaImage;

/// Frames spread over the animation that the palette learns from (more cost time and barely changed
/// it: the frames of one sticker share their colours).
const LEARN_FRAMES: usize = 6;
/// Partly transparent pixels the edge entries learn from, at most (spread evenly over all of them).
const EDGE_SAMPLES: usize = 8_192;
/// Rounds of k-means for the edge entries (the assignment rarely changes after a handful).
const EDGE_ROUNDS: usize = 10;
/// NeuQuant's sampling factor: 1 learns from every pixel, 30 from every 30th; 10 is its authors'
/// recommended balance.
const SAMPLE_FACTOR: i32 = 10;
/// Fewest pixels NeuQuant learns from: its learning rate decays over one pass through its samples, so
/// the few thousand of a small frame leave it half-trained (the unit test's 128 px ramp came back up to
/// 44 levels off, against 35 with its pixels repeated). Fewer are repeated up to this.
const MIN_LEARN_PIXELS: usize = 16_384;
/// Marks a cache entry not yet looked up.
const UNSET: u16 = u16::MAX;

/// A palette of up to 256 entries: entry 0 is fully transparent and every pixel with alpha 0 maps to
/// it (the RGB of invisible pixels is noise to a quantiser); then the opaque colours (NeuQuant); then,
/// when the frames have partly transparent pixels (antialiased edges), a few entries learnt from those
/// alone by k-means. (Learnt with the opaque ones, edges were too rare to get an entry: a
/// half-transparent border came back up to 93 levels off. NeuQuant on the edges alone left most of a
/// few neurons dead at their starting grey, far from any edge's alpha: 91 levels off.)
pub struct Palette {
    opaque: NeuQuant,
    /// The edge entries (RGBA) and the index of the first.
    edges: Option<(Vec<[u8; 4]>, usize)>,
    /// RGB triples, entry 0 first.
    pub rgb: Vec<u8>,
    /// Alpha of each entry (PNG's tRNS).
    pub alpha: Vec<u8>,
    /// Opaque pixels' entries by 6-bit RGB key.
    cache: Vec<u16>,
}

/// Squared RGBA distance.
fn distance(a: &[u8], b: &[u8]) -> u32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (i32::from(x) - i32::from(y)).unsigned_abs().pow(2))
        .sum()
}

/// The index of the centre nearest to `p` (the first of equals).
fn nearest(centres: &[[u8; 4]], p: &[u8]) -> usize {
    (0..centres.len())
        .min_by_key(|&i| distance(&centres[i], p))
        .unwrap_or(0)
}

/// `k` colours for RGBA `pixels` by k-means (Lloyd's rounds), started from pixels spread along their
/// order by alpha, then luma. Deterministic. Written here because color_quant has only NeuQuant, and
/// the edges are a few thousand pixels, where a plain k-means is quick and exact.
fn k_means(pixels: &[u8], k: usize) -> Vec<[u8; 4]> {
    let all = pixels.len() / 4;
    let step = all.div_ceil(EDGE_SAMPLES).max(1);
    let mut sample: Vec<[u8; 4]> = pixels
        .chunks_exact(4)
        .step_by(step)
        .map(|p| [p[0], p[1], p[2], p[3]])
        .collect();
    let key = |p: &[u8; 4]| {
        let luma = 299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]);
        (p[3], luma)
    };
    sample.sort_by_key(key);
    let n = sample.len();
    let k = k.min(n).max(1);
    let mut centres: Vec<[u8; 4]> = (0..k).map(|j| sample[(2 * j + 1) * n / (2 * k)]).collect();
    for _ in 0..EDGE_ROUNDS {
        let mut sums = vec![[0u64; 5]; k];
        for p in &sample {
            let s = &mut sums[nearest(&centres, p)];
            for c in 0..4 {
                s[c] += u64::from(p[c]);
            }
            s[4] += 1;
        }
        let moved: Vec<[u8; 4]> = centres
            .iter()
            .zip(&sums)
            .map(|(old, s)| match s[4] {
                0 => *old,
                m => [0, 1, 2, 3].map(|c| ((s[c] + m / 2) / m) as u8),
            })
            .collect();
        if moved == centres {
            break;
        }
        centres = moved;
    }
    centres
}

/// A NeuQuant network of `colours` learnt from RGBA `pixels` (repeated up to `MIN_LEARN_PIXELS`).
fn network(pixels: &[u8], colours: usize) -> NeuQuant {
    let n = pixels.len() / 4;
    if n >= MIN_LEARN_PIXELS {
        return NeuQuant::new(SAMPLE_FACTOR, colours, pixels);
    }
    let repeated = pixels.repeat(MIN_LEARN_PIXELS.div_ceil(n.max(1)));
    NeuQuant::new(SAMPLE_FACTOR, colours, &repeated)
}

/// Entries for partly transparent pixels, out of a palette of `colours`: an eighth, 4 to 32.
fn edge_entries(colours: usize) -> usize {
    (colours / 8).clamp(4, 32)
}

impl Palette {
    /// Learn a palette of `colours` entries (4..=256, the transparent one included) from `frames`.
    pub fn learn(frames: &[RgbaImage], colours: usize) -> Palette {
        let colours = colours.clamp(4, 256);
        let n = frames.len();
        let k = LEARN_FRAMES.min(n);
        let (mut solid, mut edge) = (Vec::new(), Vec::new());
        for j in 0..k {
            for p in frames[j * n / k].as_raw().chunks_exact(4) {
                match p[3] {
                    0 => {}
                    255 => solid.extend_from_slice(p),
                    _ => edge.extend_from_slice(p),
                }
            }
        }
        let edge_count = if edge.is_empty() {
            0
        } else {
            edge_entries(colours)
        };
        if solid.is_empty() {
            solid.extend_from_slice(&[0, 0, 0, 255]);
        }
        let opaque = network(&solid, colours - 1 - edge_count);
        let mut rgb = vec![0u8; 3];
        let mut alpha = vec![0u8];
        // Opaque entries are opaque whatever alpha a neuron kept from its start (one that never won a
        // pixel keeps NeuQuant's initial grey ramp, alpha included).
        for c in opaque.color_map_rgba().chunks_exact(4) {
            rgb.extend_from_slice(&c[..3]);
            alpha.push(255);
        }
        let edges = (edge_count > 0).then(|| {
            let centres = k_means(&edge, edge_count);
            for c in &centres {
                rgb.extend_from_slice(&c[..3]);
                alpha.push(c[3]);
            }
            (centres, colours - edge_count)
        });
        Palette {
            opaque,
            edges,
            rgb,
            alpha,
            cache: vec![UNSET; 1 << 18],
        }
    }

    /// Entries in the palette (never 0: entry 0 always exists).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.alpha.len()
    }

    /// The palette index of every pixel of `frame`, nearest colour without dithering (dithering would
    /// make each frame's noise differ, which DEFLATE and the changed-rectangle cropping pay for).
    pub fn map(&mut self, frame: &RgbaImage) -> Vec<u8> {
        let (opaque, edges, cache) = (&self.opaque, &self.edges, &mut self.cache);
        frame
            .as_raw()
            .chunks_exact(4)
            .map(|p| match (p[3], edges) {
                (0, _) => 0,
                // Opaque, or partly transparent in a frame the palette did not learn from when none of
                // those it learnt from had such pixels: the nearest opaque colour.
                (255, _) | (_, None) => {
                    let key = (usize::from(p[0] >> 2) << 12)
                        | (usize::from(p[1] >> 2) << 6)
                        | usize::from(p[2] >> 2);
                    match cache[key] {
                        UNSET => {
                            // The key's centre stands for every colour that shares it.
                            let [r, g, b] = [p[0], p[1], p[2]].map(|v| (v & !3) | 2);
                            let i = (opaque.index_of(&[r, g, b, 255]) + 1) as u8;
                            cache[key] = u16::from(i);
                            i
                        }
                        i => i as u8,
                    }
                }
                // Partly transparent pixels are few: searched exactly among the edge entries.
                (_, Some((centres, first))) => (nearest(centres, p) + first) as u8,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_to_nearby_entries_and_keeps_transparency() {
        // A colour ramp with a transparent corner and two partly transparent edges.
        let frame = RgbaImage::from_fn(128, 128, |x, y| {
            let a = match (x, y) {
                _ if x + y < 16 => 0,
                (127, _) => 128,
                (_, 127) => 64,
                _ => 255,
            };
            image::Rgba([(x * 2) as u8, (y * 2) as u8, 100, a])
        });
        let mut pal = Palette::learn(std::slice::from_ref(&frame), 64);
        assert_eq!(pal.len(), 64);
        assert_eq!((&pal.rgb[..3], pal.alpha[0]), (&[0u8, 0, 0][..], 0));
        // Entries 1-55 opaque; an eighth of the palette for the edges.
        assert!(
            pal.alpha[1..56].iter().all(|&a| a == 255),
            "{:?}",
            pal.alpha
        );
        let idx = pal.map(&frame);
        // Worst channel errors of opaque pixels, and of the edges' colour and alpha.
        let (mut opaque, mut edge_rgb, mut edge_alpha) = (0i32, 0i32, 0i32);
        for (p, &i) in frame.as_raw().chunks_exact(4).zip(&idx) {
            let i = usize::from(i);
            if p[3] == 0 {
                assert_eq!(i, 0);
                continue;
            }
            assert_ne!(i, 0, "a visible pixel mapped to the transparent entry");
            let got = [
                pal.rgb[3 * i],
                pal.rgb[3 * i + 1],
                pal.rgb[3 * i + 2],
                pal.alpha[i],
            ];
            let err = |c: usize| (i32::from(p[c]) - i32::from(got[c])).abs();
            let rgb = err(0).max(err(1)).max(err(2));
            if p[3] == 255 {
                opaque = opaque.max(rgb.max(err(3)));
            } else {
                edge_rgb = edge_rgb.max(rgb);
                edge_alpha = edge_alpha.max(err(3));
            }
        }
        // 55 opaque colours over a 256 × 256 ramp are about 35 levels apart: no channel should be much
        // further than half that from its entry (NeuQuant's are spread unevenly: up to 35 off here).
        // The edges' 8 entries cover two alphas exactly and a 254-level ramp in 4 steps each: about
        // 32 levels off at most.
        assert!(opaque <= 40, "opaque pixels up to {opaque} off");
        assert!(edge_alpha == 0, "edge alpha up to {edge_alpha} off");
        assert!(edge_rgb <= 40, "edge colours up to {edge_rgb} off");
        // Mapping is deterministic and the cache gives what a fresh palette gives.
        let mut again = Palette::learn(std::slice::from_ref(&frame), 64);
        assert_eq!(again.map(&frame), idx);
        assert_eq!(pal.map(&frame), idx);
    }
}
