//! Platform rules as data: one table read by the cover renderer, the fitter and (later) the pack builder
//! and validator. Numbers and sources come from `shared/platforms.md`; change them here and only here.

use serde::Serialize;

/// A messaging platform we publish to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Platform {
    /// WhatsApp: sticker packs of animated WebP with voice-note sounds.
    Whatsapp,
    /// Telegram: video (WebM) sticker sets with voice-message sounds.
    Telegram,
    /// Signal: APNG sticker packs with voice-note sounds.
    Signal,
    /// Discord: guild stickers (APNG) and soundboard sounds.
    Discord,
}

/// The image format a sticker file uses.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ImageKind {
    /// Animated WebP (or a static one when there is a single frame).
    Webp,
    /// APNG (or a static PNG with a single frame).
    Png,
    /// GIF (palette of up to 256 colours, dithered).
    Gif,
    /// WebM with VP9 video and no audio.
    Webm,
}

/// How the canvas must be sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SizeRule {
    /// Exactly this width and height.
    Exact {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// One side exactly `side`, the other at most `side`.
    OneSide {
        /// The exact side in pixels.
        side: u32,
    },
}

impl std::fmt::Display for SizeRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SizeRule::Exact { width, height } => write!(f, "exactly {width}×{height}"),
            SizeRule::OneSide { side } => {
                write!(f, "one side exactly {side} px, the other at most {side}")
            }
        }
    }
}

/// Everything a sticker image must satisfy on one platform.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StickerRules {
    /// The platform these rules are for.
    pub platform: Platform,
    /// How the image must be sized.
    pub size: SizeRule,
    /// The canvas we render (a size that satisfies `size`).
    pub canvas: u32,
    /// Smallest side an animated sticker may have (equal to `canvas` where the size is fixed).
    pub min_animated_side: u32,
    /// The format of animated stickers.
    pub animated_format: ImageKind,
    /// The format of still stickers.
    pub static_format: ImageKind,
    /// Largest animated sticker file, bytes.
    pub max_animated_bytes: u64,
    /// Largest still sticker file, bytes.
    pub max_static_bytes: u64,
    /// Longest animation loop, milliseconds.
    pub max_duration_ms: u32,
    /// Highest frame rate, frames per second.
    pub max_fps: u32,
    /// The frame rate we render by default (at most `max_fps`).
    pub default_fps: u32,
    /// Shortest frame display time, milliseconds.
    pub min_frame_ms: u32,
    /// Whether an animated PNG may use a palette (indexed colour). Signal's may not: palette APNGs
    /// reportedly do not animate on Signal for iOS (platforms.md).
    pub apng_palette: bool,
    /// Where the numbers come from.
    pub source: &'static str,
}

/// The table. "KB" limits use the safe byte counts from platforms.md.
pub const STICKER_RULES: &[StickerRules] = &[
    StickerRules {
        platform: Platform::Whatsapp,
        size: SizeRule::Exact {
            width: 512,
            height: 512,
        },
        canvas: 512,
        min_animated_side: 512,
        animated_format: ImageKind::Webp,
        static_format: ImageKind::Webp,
        max_animated_bytes: 500_000,
        max_static_bytes: 100_000,
        max_duration_ms: 10_000,
        max_fps: 30,
        default_fps: 20,
        min_frame_ms: 8,
        apng_palette: false,
        source: "WhatsApp/stickers StickerPackValidator.java; iOS rejects files over 500 000 bytes (issues #742, #746)",
    },
    StickerRules {
        platform: Platform::Telegram,
        size: SizeRule::OneSide { side: 512 },
        canvas: 512,
        min_animated_side: 512,
        animated_format: ImageKind::Webm,
        static_format: ImageKind::Webp,
        max_animated_bytes: 256 * 1024,
        max_static_bytes: 512 * 1024,
        max_duration_ms: 3_000,
        max_fps: 30,
        default_fps: 30,
        min_frame_ms: 1,
        apng_palette: false,
        source: "core.telegram.org/stickers (video stickers: WEBM VP9, no audio, 512 px side, <= 3 s, <= 30 fps, <= 256 KB)",
    },
    StickerRules {
        platform: Platform::Signal,
        size: SizeRule::Exact {
            width: 512,
            height: 512,
        },
        canvas: 512,
        // platforms.md: animated APNG is "square, 10–512 px".
        min_animated_side: 10,
        animated_format: ImageKind::Png,
        static_format: ImageKind::Png,
        max_animated_bytes: 300 * 1024,
        max_static_bytes: 300 * 1024,
        max_duration_ms: 3_000,
        max_fps: 30,
        default_fps: 20,
        min_frame_ms: 1,
        apng_palette: false,
        source: "sticker-convert compression.json (signal) and Signal's sticker guidelines: APNG 512x512, <= 300 KiB, <= 3 s",
    },
    StickerRules {
        platform: Platform::Discord,
        size: SizeRule::Exact {
            width: 320,
            height: 320,
        },
        canvas: 320,
        min_animated_side: 320,
        animated_format: ImageKind::Png,
        static_format: ImageKind::Png,
        max_animated_bytes: 512 * 1024,
        max_static_bytes: 512 * 1024,
        max_duration_ms: 5_000,
        max_fps: 30,
        default_fps: 20,
        min_frame_ms: 1,
        apng_palette: true,
        source: "Discord developer docs (Sticker resource) and sticker-convert presets: APNG 320x320, <= 512 KiB, <= 5 s",
    },
];

/// How many stickers one pack of a platform holds (a Telegram "set"). A manifest is checked against
/// these when it is loaded, before anything is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PackRules {
    /// The platform these rules are for.
    pub platform: Platform,
    /// The platform's name as its users write it.
    pub title: &'static str,
    /// What the platform calls a pack.
    pub unit: &'static str,
    /// Fewest stickers in one pack.
    pub min_stickers: usize,
    /// Most stickers in one pack, where the platform has such a rule.
    pub max_stickers: Option<usize>,
    /// Whether a build splits a longer list into several packs of at most `max_stickers` (WhatsApp)
    /// instead of refusing it.
    pub splits: bool,
    /// Where the numbers come from.
    pub source: &'static str,
}

/// WhatsApp: at most this many stickers per pack; a build splits bigger lists into numbered packs.
pub(crate) const WHATSAPP_PACK_MAX: usize = 30;

/// The table, in the order of [`Platform::ALL`].
pub(crate) const PACK_RULES: &[PackRules] = &[
    PackRules {
        platform: Platform::Whatsapp,
        title: "WhatsApp",
        unit: "pack",
        min_stickers: 3,
        max_stickers: Some(WHATSAPP_PACK_MAX),
        splits: true,
        source: "WhatsApp/stickers StickerPackValidator.java: 3 to 30 stickers per pack",
    },
    PackRules {
        platform: Platform::Telegram,
        title: "Telegram",
        unit: "set",
        min_stickers: 1,
        max_stickers: Some(120),
        splits: false,
        source: "Bot API addStickerToSet: a sticker set holds at most 120 stickers",
    },
    PackRules {
        platform: Platform::Signal,
        title: "Signal",
        unit: "pack",
        min_stickers: 1,
        max_stickers: Some(200),
        splits: false,
        source: "Signal's sticker creator: up to 200 stickers per pack",
    },
    PackRules {
        platform: Platform::Discord,
        // A server's sticker slots (5 to 60 by boost level) are a quota of the server, which may hold
        // stickers already, not a rule of the listing we write.
        title: "Discord",
        unit: "listing",
        min_stickers: 1,
        max_stickers: None,
        splits: false,
        source: "Discord developer docs (Sticker resource): no per-listing limit; server slots vary",
    },
];

/// Telegram's search keywords per sticker: at most this many (Bot API, InputSticker.keywords)...
pub const TELEGRAM_MAX_KEYWORDS: usize = 20;
/// ... of at most this many characters in all.
pub const TELEGRAM_KEYWORD_CHARS: usize = 64;

impl Platform {
    /// Every platform, in table order.
    pub const ALL: [Platform; 4] = [
        Platform::Whatsapp,
        Platform::Telegram,
        Platform::Signal,
        Platform::Discord,
    ];

    /// The sticker rules of this platform.
    pub fn sticker_rules(self) -> &'static StickerRules {
        STICKER_RULES
            .iter()
            .find(|r| r.platform == self)
            .expect("invariant: every Platform has a row in STICKER_RULES")
    }

    /// How many stickers one pack of this platform holds.
    pub(crate) fn pack_rules(self) -> &'static PackRules {
        PACK_RULES
            .iter()
            .find(|r| r.platform == self)
            .expect("invariant: every Platform has a row in PACK_RULES")
    }

    /// The lower-case name used on the command line and in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Whatsapp => "whatsapp",
            Platform::Telegram => "telegram",
            Platform::Signal => "signal",
            Platform::Discord => "discord",
        }
    }
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Platform::ALL
            .into_iter()
            .find(|p| p.name() == s.to_ascii_lowercase())
            .ok_or_else(|| {
                format!("`{s}` is not a platform; use whatsapp, telegram, signal or discord")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_has_consistent_rules() {
        for p in Platform::ALL {
            let r = p.sticker_rules();
            assert!(r.default_fps <= r.max_fps, "{p:?}");
            assert!(1000 / r.default_fps >= r.min_frame_ms, "{p:?}");
            let fits = match r.size {
                SizeRule::Exact { width, height } => width == r.canvas && height == r.canvas,
                SizeRule::OneSide { side } => side == r.canvas,
            };
            assert!(fits, "{p:?} canvas must satisfy its size rule");
            assert_eq!(p.name().parse::<Platform>(), Ok(p));
            let pack = p.pack_rules();
            assert!(pack.max_stickers.is_none_or(|max| max >= pack.min_stickers));
            assert!(
                !pack.splits || pack.max_stickers.is_some(),
                "{p:?} splits by a maximum"
            );
        }
    }
}
