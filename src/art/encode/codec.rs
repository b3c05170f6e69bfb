//! One trait for the sticker image formats: what the fitter (`art::fit`) needs of a format is its
//! `Codec` — encode, decode our own output, the format's tuning constants as data (`Tuning`), how it is
//! estimated cheaply (`EstimateBy`) and the few knobs only some formats have (lossless, palette, frames
//! known without encoding). `codec(kind)` gives the one for an `ImageKind`.
//!
//! Trait objects rather than an enum: the formats share no data, each impl is a unit struct, and the
//! fitter holds a `&'static dyn Codec` for a whole fit, so the dispatch costs a virtual call per encode
//! (seconds of work each). Adding a format means implementing `Codec` here and adding its arm to `codec`.
//! Estimates are strategies, not formats (`EstimateBy`): a new format picks one that fits how it codes
//! frames, or none (every probe is then a full encode).
//!
//! The impls live here, beside each other, so that their constants can be compared at a glance; why
//! each constant has its value is in docs/design.md ("The fitter").

use super::{Animation, DecodedFrames, apng, gif, webm, webp};
use crate::error::Result;
use crate::platform::ImageKind;

/// Encoder settings common to all formats.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EncodeSettings {
    /// 0..=100: WebP quality, APNG posterisation, GIF colours, VP9 quantiser (inverted).
    pub quality: f32,
    /// WebP only: lossless mode.
    pub lossless: bool,
    /// WebP only: effort 0..=6.
    pub method: i32,
    /// APNG only: one palette for the animation instead of truecolour (see `apng::Mode`).
    pub palette: bool,
    /// Quality (mean SSIM against the rendered frames) past which more bytes buy nothing visible: a fit
    /// that would reach more takes the lowest quality that still reaches this (see `fit`). `None` spends
    /// the whole cap (or reaches the requested quality).
    pub enough_ssim: Option<f64>,
    /// VP9 only: threads for each encode, read as it starts (see `webm::Threads`).
    pub threads: webm::Threads,
}

impl EncodeSettings {
    /// How an APNG stores its frames.
    pub fn apng_mode(&self) -> apng::Mode {
        if self.palette {
            apng::Mode::Palette
        } else {
            apng::Mode::Truecolour
        }
    }
}

impl Default for EncodeSettings {
    fn default() -> Self {
        EncodeSettings {
            quality: 80.0,
            lossless: false,
            method: 4,
            palette: false,
            enough_ssim: None,
            threads: webm::Threads::default(),
        }
    }
}

/// A format's constants for the fitter, as data. docs/design.md gives the measurements behind each.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// First guess of d ln(bytes) / d quality, refined from the probes themselves.
    pub typical_slope: f64,
    /// A full encode checking an estimate settles the search from this share of the cap.
    pub settle: f64,
    /// First guess of d ln(1 − SSIM) / d quality for the enough-SSIM search.
    pub lack_slope: f64,
    /// SSIM measurements the enough-SSIM search may make.
    pub enough_probes: usize,
    /// How far below the requested quality a search on estimates starts.
    pub first_estimate_below: f32,
    /// Quality points a search on estimates must expect to gain to try above a full encode that fits.
    pub min_gain: f32,
    /// The highest effort probes use (the answer is encoded at the requested one); `None`: probes use
    /// the requested effort.
    pub probe_effort: Option<i32>,
    /// Whether the answer of a search by full encodes is encoded again at the requested effort, when
    /// that is above `probe_effort`.
    pub final_at_requested_effort: bool,
    /// Whether a smeared fit of every frame is compared with a fit of every second frame (formats
    /// that do not predict motion).
    pub halves_rate_when_smeared: bool,
}

/// How a format's cheap size estimates are made (see `art::fit`'s estimator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstimateBy {
    /// Frames are independent streams: a sample of them compressed at a fast level predicts the file,
    /// and the frames the file stores are known without encoding (APNG).
    Samples,
    /// A realtime encode of the colour stream, whose decode also tells the SSIM (VP9).
    Realtime,
    /// The animation encoded at a smaller size, scaled by a ratio sampled from still frames (WebP).
    Smaller,
}

/// One sticker image format, as the fitter sees it.
pub trait Codec: Sync {
    /// The format.
    fn kind(&self) -> ImageKind;

    /// Encode `anim` once with `s`.
    fn encode(&self, anim: &Animation, s: &EncodeSettings) -> Result<Vec<u8>>;

    /// Decode our own output back to frames, keeping those `keep` asks for. `slots`, the durations of
    /// the frames that were encoded, lines the decoded frames up with them where an encoder merged
    /// repeated frames.
    fn decode_where(
        &self,
        bytes: &[u8],
        slots: Option<&[u32]>,
        keep: &dyn Fn(usize) -> bool,
    ) -> Result<DecodedFrames>;

    /// The format's constants for the fitter.
    fn tuning(&self) -> &'static Tuning;

    /// How `anim` is estimated with `s`, or `None` when every probe is a full encode.
    fn estimate_by(&self, anim: &Animation, s: &EncodeSettings) -> Option<EstimateBy>;

    /// Whether `s` asks for a lossless file (no quality to search).
    fn lossless(&self, _s: &EncodeSettings) -> bool {
        false
    }

    /// Whether `s` asks for one palette for the animation.
    fn palette(&self, _s: &EncodeSettings) -> bool {
        false
    }

    /// The frames a file of `anim` at quality `q` would decode to, when the format can tell without
    /// encoding (keeping those `keep` asks for).
    fn stored_frames(
        &self,
        _anim: &Animation,
        _q: f32,
        _s: &EncodeSettings,
        _keep: &dyn Fn(usize) -> bool,
    ) -> Option<DecodedFrames> {
        None
    }
}

/// The codec of `kind`.
pub fn codec(kind: ImageKind) -> &'static dyn Codec {
    match kind {
        ImageKind::Webp => &Webp,
        ImageKind::Png => &Apng,
        ImageKind::Gif => &Gif,
        ImageKind::Webm => &Vp9,
    }
}

/// Animated WebP (libwebp).
pub struct Webp;

const WEBP: Tuning = Tuning {
    typical_slope: 0.015,
    settle: 0.85,
    lack_slope: -0.02,
    enough_probes: 3,
    first_estimate_below: 40.0,
    min_gain: 4.0,
    probe_effort: Some(2),
    final_at_requested_effort: true,
    halves_rate_when_smeared: true,
};

impl Codec for Webp {
    fn kind(&self) -> ImageKind {
        ImageKind::Webp
    }

    fn encode(&self, anim: &Animation, s: &EncodeSettings) -> Result<Vec<u8>> {
        let settings = webp::WebpSettings {
            quality: s.quality,
            lossless: s.lossless,
            method: s.method,
        };
        webp::encode(anim, settings)
    }

    fn decode_where(
        &self,
        bytes: &[u8],
        slots: Option<&[u32]>,
        keep: &dyn Fn(usize) -> bool,
    ) -> Result<DecodedFrames> {
        webp::decode_frames(bytes, slots, keep)
    }

    fn tuning(&self) -> &'static Tuning {
        &WEBP
    }

    /// Lossy WebP of 64 px and more, at a smaller size.
    fn estimate_by(&self, anim: &Animation, s: &EncodeSettings) -> Option<EstimateBy> {
        (!s.lossless && anim.width() >= 64).then_some(EstimateBy::Smaller)
    }

    fn lossless(&self, s: &EncodeSettings) -> bool {
        s.lossless
    }
}

/// APNG (png crate), truecolour or one palette.
pub struct Apng;

const APNG: Tuning = Tuning {
    typical_slope: 0.02,
    settle: 0.85,
    lack_slope: -0.025,
    enough_probes: 5,
    first_estimate_below: 25.0,
    min_gain: 2.0,
    probe_effort: Some(2),
    final_at_requested_effort: false,
    halves_rate_when_smeared: true,
};

impl Codec for Apng {
    fn kind(&self) -> ImageKind {
        ImageKind::Png
    }

    fn encode(&self, anim: &Animation, s: &EncodeSettings) -> Result<Vec<u8>> {
        apng::encode(anim, s.quality, s.method, s.apng_mode())
    }

    fn decode_where(
        &self,
        bytes: &[u8],
        _slots: Option<&[u32]>,
        keep: &dyn Fn(usize) -> bool,
    ) -> Result<DecodedFrames> {
        apng::decode_frames(bytes, keep)
    }

    fn tuning(&self) -> &'static Tuning {
        &APNG
    }

    fn estimate_by(&self, _anim: &Animation, _s: &EncodeSettings) -> Option<EstimateBy> {
        Some(EstimateBy::Samples)
    }

    fn palette(&self, s: &EncodeSettings) -> bool {
        s.palette
    }

    /// Quantising is APNG's only loss (see `apng::stored_frames`).
    fn stored_frames(
        &self,
        anim: &Animation,
        q: f32,
        s: &EncodeSettings,
        keep: &dyn Fn(usize) -> bool,
    ) -> Option<DecodedFrames> {
        Some(apng::stored_frames(anim, q, s.apng_mode(), keep))
    }
}

/// GIF (gif crate, NeuQuant palettes).
pub struct Gif;

const GIF: Tuning = Tuning {
    typical_slope: 0.01,
    settle: 0.85,
    lack_slope: -0.02,
    enough_probes: 3,
    first_estimate_below: 25.0,
    min_gain: 4.0,
    probe_effort: Some(2),
    final_at_requested_effort: false,
    halves_rate_when_smeared: false,
};

impl Codec for Gif {
    fn kind(&self) -> ImageKind {
        ImageKind::Gif
    }

    fn encode(&self, anim: &Animation, s: &EncodeSettings) -> Result<Vec<u8>> {
        gif::encode(anim, s.quality)
    }

    fn decode_where(
        &self,
        bytes: &[u8],
        _slots: Option<&[u32]>,
        keep: &dyn Fn(usize) -> bool,
    ) -> Result<DecodedFrames> {
        gif::decode_frames(bytes, keep)
    }

    fn tuning(&self) -> &'static Tuning {
        &GIF
    }

    /// No estimate: every probe is a full encode.
    fn estimate_by(&self, _anim: &Animation, _s: &EncodeSettings) -> Option<EstimateBy> {
        None
    }
}

/// WebM/VP9 (libvpx, our own muxer).
pub struct Vp9;

const VP9: Tuning = Tuning {
    typical_slope: 0.04,
    settle: 0.75,
    lack_slope: -0.025,
    enough_probes: 3,
    first_estimate_below: 25.0,
    min_gain: 4.0,
    probe_effort: None,
    final_at_requested_effort: false,
    halves_rate_when_smeared: false,
};

impl Codec for Vp9 {
    fn kind(&self) -> ImageKind {
        ImageKind::Webm
    }

    fn encode(&self, anim: &Animation, s: &EncodeSettings) -> Result<Vec<u8>> {
        webm::encode_on(anim, s.quality, s.method, &s.threads)
    }

    fn decode_where(
        &self,
        bytes: &[u8],
        _slots: Option<&[u32]>,
        keep: &dyn Fn(usize) -> bool,
    ) -> Result<DecodedFrames> {
        webm::decode_frames(bytes, keep)
    }

    fn tuning(&self) -> &'static Tuning {
        &VP9
    }

    fn estimate_by(&self, _anim: &Animation, _s: &EncodeSettings) -> Option<EstimateBy> {
        Some(EstimateBy::Realtime)
    }
}
