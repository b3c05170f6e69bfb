//! The styles drawn over the art (vinyl, wave, bars) and the shapes they share.

use super::*;

impl Renderer<'_> {
    pub(super) fn vinyl(&self, canvas: &mut Pixmap, i: usize) {
        let c = self.centre();
        let f = self.features;
        let disc_r = c * 0.94;
        // One turn per bar, rounded to whole turns over the loop so it repeats seamlessly.
        let bars = f64::from(f.tempo_bpm) / 60.0 * self.duration_s / 4.0;
        let turns = bars.round().max(1.0);
        let angle = 360.0 * turns * i as f64 / self.frame_count() as f64;
        // The disc, its grooves and the light's reflection stay still, as on a real turntable: only the
        // label turns. Frames then differ only inside the label, which encoders store as small updates.
        let mut paint = Paint {
            anti_alias: true,
            ..Paint::default()
        };
        paint.set_color_rgba8(18, 18, 22, 255);
        fill_circle(canvas, c, c, disc_r, &paint);
        let mut groove = paint.clone();
        groove.set_color(Color::from_rgba(1.0, 1.0, 1.0, 0.07).unwrap_or(Color::WHITE));
        let stroke = Stroke {
            width: 1.0,
            ..Stroke::default()
        };
        let mut r = disc_r * 0.45;
        while r < disc_r * 0.96 {
            stroke_circle(canvas, c, c, r, &groove, &stroke);
            r += (self.size as f32 / 128.0).max(2.0);
        }
        let mut sheen = paint.clone();
        sheen.set_color(Color::from_rgba(1.0, 1.0, 1.0, 0.10).unwrap_or(Color::WHITE));
        let mut pb = PathBuilder::new();
        pb.move_to(c, c);
        for k in 0..=8 {
            let a = (-60.0 + 3.0 * k as f32).to_radians();
            pb.line_to(c + disc_r * 0.95 * a.cos(), c + disc_r * 0.95 * a.sin());
        }
        pb.close();
        if let Some(path) = pb.finish() {
            canvas.fill_path(
                &path,
                &sheen,
                FillRule::Winding,
                Transform::identity(),
                None,
            );
            let opposite = Transform::from_rotate_at(180.0, c, c);
            canvas.fill_path(&path, &sheen, FillRule::Winding, opposite, None);
        }
        let rim = Stroke {
            width: (self.size as f32 / 64.0).max(2.0),
            ..Stroke::default()
        };
        let mut white = paint.clone();
        white.set_color(Color::WHITE);
        stroke_circle(canvas, c, c, disc_r - rim.width / 2.0, &white, &rim);
        // The label: the art, turning, with a small bump on each beat (quantised to 2 px).
        let step = 2.0 / self.size as f32;
        let label_scale = ((0.42 + 0.03 * f.kick[i]) * disc_r / c / step).round() * step;
        let t = Transform::from_rotate_at(angle as f32, c, c)
            .pre_translate(c, c)
            .pre_scale(label_scale, label_scale)
            .pre_translate(-c, -c);
        let pp = PixmapPaint {
            quality: FilterQuality::Bicubic,
            ..PixmapPaint::default()
        };
        if let Some(label) = &self.label {
            canvas.draw_pixmap(0, 0, label.as_ref(), &pp, t, None);
        }
        paint.set_color_rgba8(18, 18, 22, 255);
        fill_circle(canvas, c, c, disc_r * 0.03, &paint);
    }

    pub(super) fn wave(&self, canvas: &mut Pixmap, i: usize) {
        self.draw_art(canvas, 1.0);
        let s = self.size as f32;
        let f = self.features;
        let progress = (i as f32 + 0.5) / self.frame_count() as f32;
        // A dark band across the lower third for contrast.
        let (left, right, mid, h) = (s * 0.1, s * 0.9, s * 0.74, s * 0.16);
        let mut paint = Paint {
            anti_alias: true,
            ..Paint::default()
        };
        paint.set_color(Color::from_rgba(0.0, 0.0, 0.0, 0.45).unwrap_or(Color::BLACK));
        if let Some(path) = rounded_rect(
            left - s * 0.03,
            mid - h * 0.65,
            right - left + s * 0.06,
            h * 1.3,
            s * 0.04,
        ) {
            canvas.fill_path(
                &path,
                &paint,
                FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
        let columns = 48usize;
        let step = (right - left) / columns as f32;
        let stroke = Stroke {
            width: step * 0.6,
            line_cap: LineCap::Round,
            ..Stroke::default()
        };
        for col in 0..columns {
            let a = col * f.waveform.len() / columns;
            let b = ((col + 1) * f.waveform.len() / columns).max(a + 1);
            let level = f.waveform[a..b.min(f.waveform.len())]
                .iter()
                .copied()
                .fold(0f32, f32::max);
            let x = left + (col as f32 + 0.5) * step;
            let half = (h / 2.0) * (0.08 + 0.92 * level.sqrt());
            let played = (col as f32 + 0.5) / columns as f32 <= progress;
            // Bars just passed by the playhead light up with the current loudness.
            let glow = if played {
                0.75 + 0.25 * f.envelope[i]
            } else {
                0.35
            };
            paint.set_color(Color::from_rgba(1.0, 1.0, 1.0, glow).unwrap_or(Color::WHITE));
            let mut pb = PathBuilder::new();
            pb.move_to(x, mid - half);
            pb.line_to(x, mid + half);
            if let Some(path) = pb.finish() {
                canvas.stroke_path(&path, &paint, &stroke, Transform::identity(), None);
            }
        }
        // Playhead.
        let x = left + progress * (right - left);
        paint.set_color(self.accent);
        let head = Stroke {
            width: (s / 128.0).max(2.0),
            line_cap: LineCap::Round,
            ..Stroke::default()
        };
        let mut pb = PathBuilder::new();
        pb.move_to(x, mid - h * 0.6);
        pb.line_to(x, mid + h * 0.6);
        if let Some(path) = pb.finish() {
            canvas.stroke_path(&path, &paint, &head, Transform::identity(), None);
        }
    }

    pub(super) fn bars(&self, canvas: &mut Pixmap, i: usize) {
        let c = self.centre();
        let f = self.features;
        let levels = &f.bands[i];
        // The art stays still; only the bars move.
        self.draw_art(canvas, 0.6);
        let inner = c * 0.64;
        let max_len = c * 0.3;
        let count = BANDS * 2;
        let stroke = Stroke {
            width: (2.0 * std::f32::consts::PI * inner / count as f32) * 0.55,
            line_cap: LineCap::Round,
            ..Stroke::default()
        };
        let mut paint = Paint {
            anti_alias: true,
            ..Paint::default()
        };
        for k in 0..count {
            // Mirror the spectrum so low frequencies sit at the top and bottom, symmetric left/right.
            let band = if k < BANDS { k } else { count - 1 - k };
            // Quantised to whole pixels of bar length, so silent or steady bands do not redraw.
            let level = (levels[band] * max_len).round() / max_len;
            let angle =
                (k as f32 / count as f32) * std::f32::consts::TAU - std::f32::consts::FRAC_PI_2;
            let len = max_len * (0.06 + 0.94 * level);
            let (dx, dy) = (angle.cos(), angle.sin());
            let mut pb = PathBuilder::new();
            pb.move_to(c + dx * inner, c + dy * inner);
            pb.line_to(c + dx * (inner + len), c + dy * (inner + len));
            let mut col = self.accent;
            col.set_alpha(0.55 + 0.45 * level);
            paint.set_color(col);
            if let Some(path) = pb.finish() {
                canvas.stroke_path(&path, &paint, &stroke, Transform::identity(), None);
            }
        }
    }
}

fn fill_circle(canvas: &mut Pixmap, x: f32, y: f32, r: f32, paint: &Paint) {
    if let Some(path) = PathBuilder::from_circle(x, y, r) {
        canvas.fill_path(&path, paint, FillRule::Winding, Transform::identity(), None);
    }
}

fn stroke_circle(canvas: &mut Pixmap, x: f32, y: f32, r: f32, paint: &Paint, stroke: &Stroke) {
    if let Some(path) = PathBuilder::from_circle(x, y, r) {
        canvas.stroke_path(&path, paint, stroke, Transform::identity(), None);
    }
}

fn rounded_rect(x: f32, y: f32, w: f32, h: f32, r: f32) -> Option<tiny_skia::Path> {
    let mut pb = PathBuilder::new();
    pb.move_to(x + r, y);
    pb.line_to(x + w - r, y);
    pb.quad_to(x + w, y, x + w, y + r);
    pb.line_to(x + w, y + h - r);
    pb.quad_to(x + w, y + h, x + w - r, y + h);
    pb.line_to(x + r, y + h);
    pb.quad_to(x, y + h, x, y + h - r);
    pb.line_to(x, y + r);
    pb.quad_to(x, y, x + r, y);
    pb.close();
    pb.finish()
}
