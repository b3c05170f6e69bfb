//! The animation styles. Each frame is drawn with tiny-skia (antialiased paths; bicubic sampling where the art shrinks a lot) from the
//! prepared art and the audio features of that frame; the same inputs always draw the same pixels.

mod draw;

use super::features::{BANDS, Features};
use image::RgbaImage;
use serde::Serialize;
use tiny_skia::{
    Color, FillRule, FilterQuality, GradientStop, LineCap, Paint, PathBuilder, Pixmap, PixmapPaint,
    Point, RadialGradient, Rect, SpreadMode, Stroke, Transform,
};

/// How the cover moves.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema, Default,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Style {
    /// The art breathes with the loudness envelope and kicks on beats.
    #[default]
    Pulse,
    /// The art is the label of a record spinning in time with the tempo.
    Vinyl,
    /// The clip's waveform over the art with a sweeping playhead.
    Wave,
    /// A circular spectrum equaliser around the art.
    Bars,
    /// A single still frame (the `cover` command; pack stickers move with their sound).
    Still,
}

impl std::str::FromStr for Style {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pulse" => Ok(Style::Pulse),
            "vinyl" => Ok(Style::Vinyl),
            "wave" => Ok(Style::Wave),
            "bars" => Ok(Style::Bars),
            "still" => Ok(Style::Still),
            _ => Err(format!(
                "`{s}` is not a style; use pulse, vinyl, wave, bars or still"
            )),
        }
    }
}

display_as_serde_name!(Style);

/// Straight RGBA to a premultiplied pixmap.
pub fn to_pixmap(img: &RgbaImage) -> Pixmap {
    let mut data = img.as_raw().clone();
    for px in data.chunks_exact_mut(4) {
        let a = u16::from(px[3]);
        for c in &mut px[..3] {
            *c = ((u16::from(*c) * a + 127) / 255) as u8;
        }
    }
    let size = tiny_skia::IntSize::from_wh(img.width(), img.height())
        .expect("invariant: art is at least 1×1");
    Pixmap::from_vec(data, size).expect("invariant: buffer matches its size")
}

/// A premultiplied pixmap to straight RGBA.
pub fn from_pixmap(p: &Pixmap) -> RgbaImage {
    let mut data = p.data().to_vec();
    for px in data.chunks_exact_mut(4) {
        let a = u16::from(px[3]);
        if a == 0 {
            px[..3].fill(0);
        } else if a < 255 {
            for c in &mut px[..3] {
                *c = ((u16::from(*c) * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
    RgbaImage::from_raw(p.width(), p.height(), data).expect("invariant: buffer matches its size")
}

/// Average colour of the opaque part of the art, as a glow and accent colour.
fn accent(art: &RgbaImage) -> Color {
    let (mut r, mut g, mut b, mut n) = (0f32, 0f32, 0f32, 0f32);
    for p in art.pixels().step_by(7) {
        let a = f32::from(p.0[3]) / 255.0;
        r += f32::from(p.0[0]) * a;
        g += f32::from(p.0[1]) * a;
        b += f32::from(p.0[2]) * a;
        n += a;
    }
    let n = n.max(1.0);
    // Brighten so the glow reads on dark and light art alike.
    let lift = |v: f32| ((v / n) / 255.0 * 0.6 + 0.4).min(1.0);
    Color::from_rgba(lift(r), lift(g), lift(b), 1.0).unwrap_or(Color::WHITE)
}

/// The pulse's art scale at silence, and how far the envelope and a kick add to it.
const PULSE_REST: f32 = 0.84;
const PULSE_ENVELOPE: f32 = 0.08;
const PULSE_KICK: f32 = 0.06;
/// The glow's strength at silence and how far the envelope adds to it, in `GLOW_LEVELS` steps.
const GLOW_REST: f32 = 0.15;
const GLOW_ENVELOPE: f32 = 0.55;
const GLOW_LEVELS: f32 = 24.0;
/// How far (in steps) a target must move from what is shown before the pulse follows it.
const PULSE_HOLD_STEPS: f32 = 1.0;

/// The pulse's art scale and glow strength for every frame.
///
/// Both are quantised, so that motion below what the eye sees draws identical frames, which the
/// encoders store almost for free (libwebp merges them, VP9 skips them, APNG stores a pixel). And
/// both hold still until their target has moved more than `PULSE_HOLD_STEPS` steps from what is
/// shown: the envelope's short-term jitter would otherwise flip the art between two neighbouring
/// scales nearly every frame, a shimmer that costs a whole frame of bytes each time.
fn pulse_track(features: &Features, size: u32) -> Vec<(f32, f32)> {
    let step = 4.0 / size as f32;
    let scales: Vec<f32> = features
        .envelope
        .iter()
        .zip(&features.kick)
        .map(|(env, kick)| (PULSE_REST + PULSE_ENVELOPE * env + PULSE_KICK * kick) / step)
        .collect();
    let glows: Vec<f32> = features
        .envelope
        .iter()
        .map(|env| (GLOW_REST + GLOW_ENVELOPE * env) * GLOW_LEVELS)
        .collect();
    hold(&scales, PULSE_HOLD_STEPS)
        .into_iter()
        .zip(hold(&glows, PULSE_HOLD_STEPS))
        .map(|(s, g)| (s * step, g / GLOW_LEVELS))
        .collect()
}

/// `targets` (in steps) rounded to whole steps, each held until its target is more than `dead` steps
/// away from it. The loop wraps: the track starts where one pass over it ends, so the last frame
/// leads into the first as any frame does into the next.
fn hold(targets: &[f32], dead: f32) -> Vec<f32> {
    let Some(&last) = targets.last() else {
        return Vec::new();
    };
    let mut shown = last.round();
    let mut out = Vec::with_capacity(targets.len());
    for pass in 0..2 {
        for &t in targets {
            if (t - shown).abs() > dead {
                shown = t.round();
            }
            if pass == 1 {
                out.push(shown);
            }
        }
    }
    out
}

/// Everything a style needs, prepared once per sticker.
pub struct Renderer<'a> {
    pub style: Style,
    pub size: u32,
    /// Art with shape and outline, canvas-sized.
    art: Pixmap,
    /// Art cut to a plain circle (vinyl's label; only that style draws it).
    label: Option<Pixmap>,
    accent: Color,
    features: &'a Features,
    duration_s: f64,
    /// The pulse's art scale and glow strength per frame (empty for other styles).
    pulse: Vec<(f32, f32)>,
}

impl<'a> Renderer<'a> {
    /// `shaped` is the art with shape and outline applied; `fitted` the plain square art.
    pub fn new(
        style: Style,
        shaped: &RgbaImage,
        fitted: &RgbaImage,
        features: &'a Features,
        duration_s: f64,
    ) -> Self {
        let label = (style == Style::Vinyl).then(|| {
            to_pixmap(&super::shape::apply(
                fitted,
                super::shape::Shape::Circle,
                0,
                0,
            ))
        });
        let size = shaped.width();
        let pulse = if style == Style::Pulse {
            pulse_track(features, size)
        } else {
            Vec::new()
        };
        Renderer {
            style,
            size,
            pulse,
            art: to_pixmap(shaped),
            label,
            accent: accent(fitted),
            features,
            duration_s,
        }
    }

    /// Number of frames of this style.
    pub fn frame_count(&self) -> usize {
        if self.style == Style::Still {
            1
        } else {
            self.features.frames().max(1)
        }
    }

    /// All frames, drawn in parallel. Frames a style draws from equal parameters (see `frame_key`) are
    /// drawn once and copied: the pulse's quantised motion repeats about half its frames.
    pub fn frames(&self) -> Vec<RgbaImage> {
        use rayon::prelude::*;
        let n = self.frame_count();
        let mut first_of = std::collections::HashMap::new();
        // For each frame, the first frame identical to it (itself when it is new).
        let source: Vec<usize> = (0..n)
            .map(|i| match self.frame_key(i) {
                Some(key) => *first_of.entry(key).or_insert(i),
                None => i,
            })
            .collect();
        // The pulse's art at each of its scales, drawn once (scales are quantised, so frames share them).
        let mut scales: Vec<u32> = match self.style {
            Style::Pulse => (0..n)
                .filter(|&i| source[i] == i)
                .map(|i| self.pulse_params(i).0.to_bits())
                .collect(),
            _ => Vec::new(),
        };
        scales.sort_unstable();
        scales.dedup();
        let arts: std::collections::HashMap<u32, Pixmap> = scales
            .into_par_iter()
            .map(|bits| (bits, self.art_at(f32::from_bits(bits))))
            .collect();
        let mut drawn: Vec<Option<RgbaImage>> = (0..n)
            .into_par_iter()
            .map(|i| (source[i] == i).then(|| self.frame_with(i, &arts)))
            .collect();
        let mut frames: Vec<RgbaImage> = Vec::with_capacity(n);
        for (i, &src) in source.iter().enumerate() {
            let frame = match drawn[i].take() {
                Some(f) => f,
                None => frames[src].clone(),
            };
            frames.push(frame);
        }
        frames
    }

    /// The parameters frame `i` is drawn from, for styles whose frames repeat: equal keys draw
    /// identical frames. `None` when every frame is its own.
    fn frame_key(&self, i: usize) -> Option<(u32, u32)> {
        match self.style {
            Style::Pulse => {
                let (scale, glow) = self.pulse_params(i);
                Some((scale.to_bits(), glow.to_bits()))
            }
            Style::Still => Some((0, 0)),
            Style::Vinyl | Style::Wave | Style::Bars => None,
        }
    }

    /// Draw frame `i`.
    #[cfg(test)]
    pub fn frame(&self, i: usize) -> RgbaImage {
        self.frame_with(i, &std::collections::HashMap::new())
    }

    /// Draw frame `i`, taking the pulse's art at its scale from `arts` (keyed by the scale's bits)
    /// when it is there.
    fn frame_with(&self, i: usize, arts: &std::collections::HashMap<u32, Pixmap>) -> RgbaImage {
        let mut canvas =
            Pixmap::new(self.size, self.size).expect("invariant: canvas size is non-zero");
        match self.style {
            Style::Still => self.draw_art(&mut canvas, 1.0),
            Style::Pulse => {
                let (scale, glow) = self.pulse_params(i);
                match arts.get(&scale.to_bits()) {
                    Some(art) => self.pulse(&mut canvas, glow, art),
                    None => self.pulse(&mut canvas, glow, &self.art_at(scale)),
                }
            }
            Style::Vinyl => self.vinyl(&mut canvas, i),
            Style::Wave => self.wave(&mut canvas, i),
            Style::Bars => self.bars(&mut canvas, i),
        }
        from_pixmap(&canvas)
    }

    fn centre(&self) -> f32 {
        self.size as f32 / 2.0
    }

    fn draw_art(&self, canvas: &mut Pixmap, scale: f32) {
        let c = self.centre();
        let t = Transform::from_translate(c, c)
            .pre_scale(scale, scale)
            .pre_translate(-c, -c);
        // Bilinear: the art is only ever shrunk a little here (0.84-0.98), where bicubic sampling drew
        // frames of SSIM 0.9993 against these at about twice the render time.
        let paint = PixmapPaint {
            quality: FilterQuality::Bilinear,
            ..PixmapPaint::default()
        };
        canvas.draw_pixmap(0, 0, self.art.as_ref(), &paint, t, None);
    }

    fn glow(&self, canvas: &mut Pixmap, radius: f32, strength: f32) {
        let c = self.centre();
        let mut inner = self.accent;
        inner.set_alpha(strength.clamp(0.0, 1.0));
        let mut outer = self.accent;
        outer.set_alpha(0.0);
        let Some(shader) = RadialGradient::new(
            Point::from_xy(c, c),
            Point::from_xy(c, c),
            radius,
            vec![
                GradientStop::new(0.55, inner),
                GradientStop::new(1.0, outer),
            ],
            SpreadMode::Pad,
            Transform::identity(),
        ) else {
            return;
        };
        let paint = Paint {
            shader,
            anti_alias: true,
            ..Paint::default()
        };
        if let Some(rect) = Rect::from_xywh(0.0, 0.0, self.size as f32, self.size as f32) {
            canvas.fill_rect(rect, &paint, Transform::identity(), None);
        }
    }

    /// The pulse's art scale and glow strength at frame `i`.
    fn pulse_params(&self, i: usize) -> (f32, f32) {
        self.pulse
            .get(i)
            .copied()
            .unwrap_or((PULSE_REST, GLOW_REST))
    }

    /// The art scaled by `scale` about the centre, alone on a transparent canvas.
    fn art_at(&self, scale: f32) -> Pixmap {
        let mut art =
            Pixmap::new(self.size, self.size).expect("invariant: canvas size is non-zero");
        self.draw_art(&mut art, scale);
        art
    }

    /// A pulse frame: the glow, and over it the art already scaled (`art_at`), composited without
    /// resampling: scaling is the costly part of a frame, and the pulse has a few scales for many
    /// frames. Frames come out at PSNR 56 dB against drawing the art straight onto the glow (8-bit
    /// rounding of the scaled art).
    fn pulse(&self, canvas: &mut Pixmap, glow: f32, art: &Pixmap) {
        self.glow(canvas, self.centre(), glow);
        canvas.draw_pixmap(
            0,
            0,
            art.as_ref(),
            &PixmapPaint::default(),
            Transform::identity(),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_drawn_once_per_pulse_position_equal_frames_drawn_alone() {
        // Envelope values that repeat (0.2, 0.8, 0.2, 0.2, 0.8, ...) and one beat: the pulse draws
        // only the distinct positions, and every frame must still be exactly what `frame` draws.
        let n = 12;
        let envelope: Vec<f32> = (0..n).map(|i| if i % 3 == 1 { 0.8 } else { 0.2 }).collect();
        let mut kick = vec![0.0; n];
        kick[7] = 1.0;
        let features = Features {
            fps: 10.0,
            envelope,
            kick,
            bands: vec![[0.0; BANDS]; n],
            tempo_bpm: 120.0,
            beats: vec![0.7],
            waveform: vec![0.5; 16],
        };
        let art = RgbaImage::from_fn(64, 64, |x, y| {
            image::Rgba([(x * 4) as u8, (y * 4) as u8, 90, 255])
        });
        let r = Renderer::new(Style::Pulse, &art, &art, &features, 1.2);
        let keys: std::collections::HashSet<_> = (0..n).map(|i| r.frame_key(i)).collect();
        assert_eq!(keys.len(), 3, "positions: low, high, and the beat");
        let frames = r.frames();
        assert_eq!(frames.len(), n);
        for (i, f) in frames.iter().enumerate() {
            assert!(*f == r.frame(i), "frame {i} differs from a fresh draw");
        }
        assert!(frames[0] != frames[1], "the pulse moves");
    }

    #[test]
    fn the_pulse_holds_still_through_jitter_and_follows_real_motion() {
        // Jitter around 10.5 steps, a swell to 14, and back.
        let mut targets: Vec<f32> = (0..20)
            .map(|i| 10.5 + if i % 2 == 0 { 0.3 } else { -0.3 })
            .collect();
        targets.extend([11.0, 12.0, 13.0, 14.0, 14.2, 13.9, 14.1, 12.0, 10.0]);
        let held = hold(&targets, PULSE_HOLD_STEPS);
        assert_eq!(held.len(), targets.len());
        // Rounding alone flips between 10 and 11 every frame; held, the jitter draws one position.
        let rounded: Vec<f32> = targets.iter().map(|t| t.round()).collect();
        assert!(rounded[..20].windows(2).all(|w| w[0] != w[1]));
        assert!(held[..20].windows(2).all(|w| w[0] == w[1]), "{held:?}");
        for (i, (&h, &t)) in held.iter().zip(&targets).enumerate() {
            assert_eq!(h, h.round(), "frame {i} is not on a step");
            assert!(
                (h - t).abs() <= PULSE_HOLD_STEPS,
                "frame {i}: shows {h} for {t}"
            );
        }
        // The swell is followed to its top.
        assert_eq!(held[23], 14.0);
        // The loop wraps like any other frame: the first frame follows the last by the same rule.
        let (first, last) = (held[0], held[held.len() - 1]);
        assert!(first == last || (targets[0] - last).abs() > PULSE_HOLD_STEPS);
    }
}
