//! `cover`: render an animated (or still) sticker from cover art, driven by a clip's audio, encoded and
//! fitted to a platform's limits.

use crate::art::canvas::{Fit, fit_square};
use crate::art::encode::Animation;
use crate::art::encode::webm::Threads;
use crate::art::fallback::{self, Degrade, Ladder};
use crate::art::features::analyse;
use crate::art::fit::{EncodeSettings, Fitted, fit};
use crate::art::load::{MAX_CANVAS, load};
use crate::art::shape::{self, Shape};
use crate::art::styles::{Renderer, Style};
use crate::audio::channels::{self, ChannelMode};
use crate::audio::pcm::Pcm;
use crate::audio::source::{Source, stream::Decode};
use crate::clip::FrameRange;
use crate::clip::range::decode_span;
use crate::error::{Error, Result, Setting};
use crate::output::{file_label, reserve};
use crate::platform::{ImageKind, Platform, StickerRules};
use crate::progress::{Progress, Stage};
use crate::timecode::Timecode;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The default `CoverOptions::enough_ssim`: block SSIM on luma of 0.99, the usual mark for "visually
/// lossless"; past it the fitter spends no more bytes (see `art::fit::fit`).
pub const DEFAULT_ENOUGH_SSIM: f64 = 0.99;

/// Settings of one cover sticker; unset values come from the platform, then from these defaults.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CoverOptions {
    /// How the art moves with the clip, or [`Style::Still`] for a static sticker.
    /// Default: [`Style::Pulse`].
    pub style: Style,
    /// Platform whose sticker rules supply the unset size, format, frame rate, loop length, byte
    /// cap and APNG palette choice; `None` leaves them to the defaults here. Default: `None`.
    pub platform: Option<Platform>,
    /// Output format; `None` = from the output extension, else the platform's.
    pub format: Option<ImageKind>,
    /// Canvas side in pixels.
    pub size: Option<u32>,
    /// Frame rate of the animation, frames per second (1..=60, at most the platform's limit);
    /// `None` takes the platform's, else 20. Default: `None`.
    pub fps: Option<f64>,
    /// Longest loop; the clip is cut to it.
    pub max_duration: Option<Timecode>,
    /// Byte cap of the sticker file; `None` takes the platform's cap (animated or still), else
    /// none. Default: `None`.
    pub max_bytes: Option<u64>,
    /// Highest quality the fitter may use, 0..=100 (WebP quality, APNG posterisation, GIF colours,
    /// VP9 quantiser); a byte cap or `enough_ssim` can settle lower. Default: `80`.
    pub quality: f32,
    /// Encode WebP losslessly; other formats ignore it. Default: `false`.
    pub lossless: bool,
    /// Encoder effort, 0 (fast) to 6 (best at a byte cap): WebP's method; VP9 0–4 realtime speed
    /// 8–4, 5–6 good-quality speed 4–3; APNG 0–1 zlib level 6, 2–6 level 9. Default: `4`.
    pub method: i32,
    /// APNG: one palette for the animation (`Some(true)`) or truecolour; `None` = a palette where the
    /// platform animates palette APNGs, else truecolour.
    pub palette: Option<bool>,
    /// SSIM past which the fitter spends no more bytes (`EncodeSettings::enough_ssim`); `None` fills the
    /// byte cap (or reaches `quality`).
    pub enough_ssim: Option<f64>,
    /// How the art fills the square canvas. Default: [`Fit::Cover`] around the centre (focus
    /// `(0.5, 0.5)`).
    pub fit: Fit,
    /// Outline of the sticker: square, rounded corners or a circle. Default: [`Shape::Rounded`].
    pub shape: Shape,
    /// White die-cut outline width, px at 512.
    pub outline: u32,
    /// Transparent margin, px at 512.
    pub margin: u32,
    /// Also write the rendered (unencoded) frames here as numbered PNGs, for previews and comparisons.
    pub frames_dir: Option<PathBuf>,
}

impl Default for CoverOptions {
    fn default() -> Self {
        // The encoder's own defaults: one place says what quality and effort a sticker starts from.
        let encoder = EncodeSettings::default();
        CoverOptions {
            style: Style::default(),
            platform: None,
            format: None,
            size: None,
            fps: None,
            max_duration: None,
            max_bytes: None,
            quality: encoder.quality,
            lossless: encoder.lossless,
            method: encoder.method,
            palette: None,
            enough_ssim: Some(DEFAULT_ENOUGH_SSIM),
            fit: Fit::default(),
            shape: Shape::default(),
            outline: 8,
            margin: 8,
            frames_dir: None,
        }
    }
}

/// One sticker to render.
#[derive(Debug, Clone)]
pub struct CoverRequest {
    /// The cover art (JPEG, PNG, WebP, GIF, BMP).
    pub cover: PathBuf,
    /// The clip whose audio drives the animation (not needed for `still`).
    pub audio: Option<PathBuf>,
    /// The sticker to write; its extension picks the format unless the options name one.
    pub output: PathBuf,
    /// How to render, encode and fit it.
    pub options: CoverOptions,
}

impl CoverRequest {
    /// A sticker of the art `cover` written to `output` with `options`, still until given audio
    /// ([`CoverRequest::with_audio`]).
    pub fn new(
        cover: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
        options: CoverOptions,
    ) -> Self {
        CoverRequest {
            cover: cover.into(),
            audio: None,
            output: output.into(),
            options,
        }
    }

    /// The same request, animated by the clip at `audio`.
    pub fn with_audio(self, audio: impl Into<PathBuf>) -> Self {
        CoverRequest {
            audio: Some(audio.into()),
            ..self
        }
    }
}

/// What was rendered.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CoverReport {
    /// The sticker file written ([`CoverRequest::output`]).
    pub output: PathBuf,
    /// The animation style rendered.
    pub style: Style,
    /// The platform whose rules filled the unset options; `None` when none was given.
    pub platform: Option<Platform>,
    /// The image format written (from the options, else the output extension, else the platform).
    pub format: ImageKind,
    /// Width of the sticker in pixels (below the canvas size when the size dropped to fit the byte
    /// cap).
    pub width: u32,
    /// Height of the sticker in pixels; stickers are square, so always `width`.
    pub height: u32,
    /// Length of the animation loop in milliseconds; 0 for a still.
    pub duration_ms: u32,
    /// Size of the written file in bytes.
    pub bytes: u64,
    /// Byte cap the sticker was fitted under (the option's, else the platform's); `None` when
    /// there was none.
    pub max_bytes: Option<u64>,
    /// How the fitter got there: quality, frame rate, frames, SSIM, encodes and what stopped it
    /// (serialised flat into the report).
    #[serde(flatten)]
    pub fitted: Fitted,
    /// Tempo estimated from the clip's audio, beats per minute (120 when it has no clear beat);
    /// `None` for a still.
    pub tempo_bpm: Option<f32>,
    /// Beats found in the part of the clip the animation follows; 0 for a still.
    pub beats: usize,
    /// Notes for the user about what was done differently from what was asked (a clip cut to the
    /// loop limit, a size lowered to fit, a low SSIM, …); empty when all went as asked.
    pub warnings: Vec<String>,
}

fn kind_from_path(path: &Path) -> Option<ImageKind> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "webp" => Some(ImageKind::Webp),
        "png" | "apng" => Some(ImageKind::Png),
        "gif" => Some(ImageKind::Gif),
        "webm" => Some(ImageKind::Webm),
        _ => None,
    }
}

/// Decode the start of the clip, up to `max_ms`, to mono for analysis, with the clip's whole length
/// in ms: `None` when it goes on past `max_ms` and its header does not say how long it is. Only what
/// the animation uses is decoded and held, whatever the clip's length.
fn load_audio(path: &Path, max_ms: u32) -> Result<(Pcm, Option<u32>)> {
    let mut source = Source::open(path)?;
    let info = source.info().clone();
    // One frame more than the animation uses tells whether the clip goes on past it.
    let want = Timecode::from_millis(u64::from(max_ms))
        .to_frames(info.rate)
        .saturating_add(1);
    let range = FrameRange {
        start_frame: 0,
        end_frame: Some(want),
        rate: info.rate,
    };
    let (pcm, _) = decode_span(&mut source, range, info.rate)?;
    if pcm.frames() == 0 {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    }
    let clip_ms = |frames: u64| {
        let ms = Timecode::from_frames(frames, info.rate).as_nanos() as f64 / 1e6;
        u32::try_from(ms.round() as u64).unwrap_or(u32::MAX)
    };
    let length = if (pcm.frames() as u64) < want {
        Some(clip_ms(pcm.frames() as u64))
    } else {
        info.declared_frames.map(clip_ms)
    };
    Ok((channels::convert(pcm, ChannelMode::Mono).0, length))
}

/// A request's settings with the platform's rules and the built-in fallbacks filled in, checked.
struct Resolved {
    rules: Option<&'static StickerRules>,
    animated: bool,
    format: ImageKind,
    /// Canvas side, px.
    size: u32,
    fps: f64,
    max_bytes: Option<u64>,
    /// Longest loop, ms.
    max_ms: u32,
}

/// Fill in `req`'s unset settings from its platform (else the built-in fallbacks) and check them.
fn resolve(req: &CoverRequest) -> Result<Resolved> {
    let o = &req.options;
    let rules = o.platform.map(Platform::sticker_rules);
    let animated = o.style != Style::Still;
    let format = o
        .format
        .or_else(|| kind_from_path(&req.output))
        .or_else(|| rules.map(|r| if animated { r.animated_format } else { r.static_format }))
        .ok_or_else(|| {
            Error::setting(
                Setting::Format,
                "give a format (webp, png, gif or webm), a platform, or an output ending in .webp/.png/.gif/.webm",
            )
        })?;
    if format == ImageKind::Webm && !animated {
        return Err(Error::setting(
            Setting::Style,
            "a WebM sticker must be animated; use .webp or .png for `still`",
        ));
    }
    let size = o.size.or(rules.map(|r| r.canvas)).unwrap_or(512);
    if !(16..=MAX_CANVAS).contains(&size) {
        return Err(Error::setting(
            Setting::Size,
            format!("{size} px is outside 16..{MAX_CANVAS}"),
        ));
    }
    let fps = o
        .fps
        .or(rules.map(|r| f64::from(r.default_fps)))
        .unwrap_or(20.0);
    if let Some(r) = rules
        && fps > f64::from(r.max_fps)
    {
        return Err(Error::setting(
            Setting::Fps,
            format!(
                "{fps} fps is over {}'s limit of {}",
                r.platform.name(),
                r.max_fps
            ),
        ));
    }
    if !(1.0..=60.0).contains(&fps) {
        return Err(Error::setting(
            Setting::Fps,
            format!("{fps} fps is outside 1..60"),
        ));
    }
    let max_bytes = o.max_bytes.or(rules.map(|r| {
        if animated {
            r.max_animated_bytes
        } else {
            r.max_static_bytes
        }
    }));
    let max_ms = o
        .max_duration
        .map(|t| (t.as_nanos() / 1_000_000) as u32)
        .or(rules.map(|r| r.max_duration_ms))
        .unwrap_or(10_000);
    Ok(Resolved {
        rules,
        animated,
        format,
        size,
        fps,
        max_bytes,
        max_ms,
    })
}

/// Render, encode, fit and write one cover sticker (its VP9 encodes on two threads each).
pub fn cover(req: &CoverRequest, progress: &dyn Progress) -> Result<CoverReport> {
    cover_on(req, progress, &Threads::default())
}

/// Render `req`'s sticker, its VP9 encodes on as many threads as `threads` holds when each starts.
///
/// Long because it is the sticker's one sequence (load, shape, measure the clip, render, fit,
/// write), whose steps share the resolved settings; each step is a call into `art`.
pub fn cover_on(
    req: &CoverRequest,
    progress: &dyn Progress,
    threads: &Threads,
) -> Result<CoverReport> {
    let o = &req.options;
    let Resolved {
        rules,
        animated,
        format,
        size,
        fps,
        max_bytes,
        max_ms,
    } = resolve(req)?;
    let mut inputs = vec![req.cover.as_path()];
    inputs.extend(req.audio.as_deref());
    let out_file = reserve(&req.output, &inputs)?;
    let item = file_label(&req.output);
    let mut warnings = Vec::new();

    progress.stage(&item, Stage::Decode);
    let art = load(&req.cover)?;
    let fitted = fit_square(&art, size, o.fit);
    let scale = size as f32 / 512.0;
    let shape_art = |art: &image::RgbaImage| {
        shape::apply(
            art,
            o.shape,
            (o.margin as f32 * scale).round() as u32,
            (o.outline as f32 * scale).round() as u32,
        )
    };
    let shaped = shape_art(&fitted);

    let (features, duration_ms) = match (&req.audio, animated) {
        (Some(audio), true) => {
            progress.stage(&item, Stage::Measure);
            let (pcm, length) = load_audio(audio, max_ms)?;
            let clip_ms = (pcm.duration_s() * 1000.0).round() as u32;
            let ms = clip_ms.min(max_ms).max(1);
            match length {
                Some(all) if all > max_ms => warnings.push(format!(
                    "the clip is {all} ms; the animation uses its first {ms} ms (the limit)"
                )),
                None => warnings.push(format!(
                    "the clip is longer than {max_ms} ms; the animation uses its first {ms} ms (the limit)"
                )),
                Some(_) => {}
            }
            let frames = ((f64::from(ms) / 1000.0) * fps).round().max(2.0) as usize;
            let keep =
                (f64::from(ms) / 1000.0 * f64::from(pcm.rate)).round() as usize * pcm.channels();
            let pcm = Pcm {
                samples: pcm.samples[..keep.min(pcm.samples.len())].to_vec(),
                ..pcm
            };
            (analyse(&pcm, fps, frames), ms)
        }
        (None, true) => {
            return Err(Error::setting(
                Setting::Audio,
                format!(
                    "the `{}` style follows a clip's audio; give the clip",
                    o.style
                ),
            ));
        }
        (_, false) => (
            analyse(
                &Pcm::empty(48_000, vec![crate::audio::pcm::Speaker::FrontCenter]),
                fps,
                1,
            ),
            0,
        ),
    };

    progress.stage(&item, Stage::Render);
    let duration_s = f64::from(duration_ms) / 1000.0;
    let frames = Renderer::new(o.style, &shaped, &fitted, &features, duration_s).frames();
    let anim = if animated {
        Animation::at_fps(frames, fps)
    } else {
        Animation {
            frames,
            durations_ms: vec![0],
        }
    };
    if let Some(dir) = &o.frames_dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
        for (i, f) in anim.frames.iter().enumerate() {
            let path = dir.join(format!("{i:04}.png"));
            f.save(&path)
                .map_err(|e| Error::write(&path, std::io::Error::other(e.to_string())))?;
        }
    }
    progress.stage(&item, Stage::Encode);
    let settings = EncodeSettings {
        quality: o.quality,
        lossless: o.lossless,
        method: o.method,
        palette: o
            .palette
            .unwrap_or_else(|| rules.is_some_and(|r| r.apng_palette)),
        enough_ssim: o.enough_ssim,
        threads: threads.clone(),
    };
    let min_side = rules.map_or(size, |r| r.min_animated_side.min(size));
    let min_side = if animated { min_side } else { size };
    // The animation drawn down the fallback ladder (`art::fallback`): smoothed art, calmer motion,
    // another style, or the art at rest in every frame (the file keeps its frames and timing).
    let draw = |d: &Degrade| -> Result<Animation> {
        let smoothed = fallback::smooth(&fitted, d.smooth);
        let calmed = features.calmed(d.motion);
        let style = if d.still {
            Style::Still
        } else {
            d.style.unwrap_or(o.style)
        };
        let mut frames =
            Renderer::new(style, &shape_art(&smoothed), &smoothed, &calmed, duration_s).frames();
        if d.still && animated {
            let n = anim.frames.len();
            frames = vec![frames.swap_remove(0); n];
            // The second half's corner pixel one step more (or less) opaque, which no one sees: an
            // encoder that merges repeated frames (libwebp) would otherwise write a still image, which
            // a pack of animated stickers may not hold. Half the frames, so that any frame step the
            // fitter takes (at most half the frames) keeps one of each.
            for f in &mut frames[n / 2..] {
                if let Some(px) = f.get_pixel_mut_checked(0, 0) {
                    px.0[3] = if px.0[3] == 0 { 1 } else { px.0[3] - 1 };
                }
            }
        }
        Ok(Animation {
            frames,
            durations_ms: anim.durations_ms.clone(),
        })
    };
    let fitted_out = match max_bytes {
        Some(cap) => Ladder {
            kind: format,
            settings: &settings,
            cap,
            min_side,
            original: &anim,
            style: o.style,
            size,
            render: &draw,
        }
        .fit()?,
        None => fit(format, &anim, settings, None, min_side)?,
    };
    if fitted_out.side < size {
        warnings.push(format!(
            "size lowered to {0}×{0} px to fit the byte cap",
            fitted_out.side
        ));
    }
    if let Some(cap) = max_bytes
        && fitted_out.bytes.len() as u64 > cap
    {
        return Err(Error::Encode {
            detail: format!(
                "internal: fitted file of {} bytes exceeds the {cap}-byte cap",
                fitted_out.bytes.len()
            ),
        });
    }
    warnings.extend(fitted_out.warnings.iter().cloned());
    out_file.commit(&fitted_out.bytes)?;
    Ok(CoverReport {
        output: req.output.clone(),
        style: o.style,
        platform: o.platform,
        format,
        width: fitted_out.side,
        height: fitted_out.side,
        duration_ms: if animated { anim.total_ms() } else { 0 },
        bytes: fitted_out.bytes.len() as u64,
        max_bytes,
        tempo_bpm: animated.then_some(features.tempo_bpm),
        beats: features.beats.len(),
        fitted: fitted_out,
        warnings,
    })
}
