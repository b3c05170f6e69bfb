//! Turning a manifest sticker into the exact clip and cover settings for each platform: built-in
//! defaults, then the pack's `defaults`, then the sticker's `settings`, then what the platform imposes
//! (mono voice notes, duration and byte limits, sizes, formats).

use super::manifest::{LoadedManifest, Sticker, StickerSettings};
use crate::audio::channels::ChannelMode;
use crate::clip::ClipOptions;
use crate::cover::CoverOptions;
use crate::error::{Result, Setting};
use crate::platform::Platform;
use crate::timecode::Timecode;

/// What a platform's sound travels as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoundRules {
    /// Mono (voice notes) or as the sticker asks.
    pub mono: bool,
    /// Longest sound, if limited.
    pub max_duration_ms: Option<u32>,
    /// Largest file, bytes.
    pub max_bytes: u64,
}

/// Sound rules per platform (shared/platforms.md): WhatsApp voice notes are mono and play inline up to
/// 512 KB; Telegram voice messages are Ogg Opus (kept under the same 512 KB for quick loading); Signal
/// has no sound stickers, so its pack carries the same voice-note clips; Discord soundboard sounds are
/// at most 512 KB and 5.2 s.
pub fn sound_rules(p: Platform) -> SoundRules {
    match p {
        Platform::Whatsapp => SoundRules {
            mono: true,
            max_duration_ms: None,
            max_bytes: 512 * 1024,
        },
        Platform::Telegram => SoundRules {
            mono: false,
            max_duration_ms: None,
            max_bytes: 512 * 1024,
        },
        Platform::Signal => SoundRules {
            mono: true,
            max_duration_ms: None,
            max_bytes: 512 * 1024,
        },
        Platform::Discord => SoundRules {
            mono: false,
            max_duration_ms: Some(5_200),
            max_bytes: 512 * 1000,
        },
    }
}

/// Opus bitrates of pack sounds without a `bitrate` setting (lowered when the byte cap needs it).
pub const PACK_STEREO_BPS: u32 = 128_000;
pub const PACK_MONO_BPS: u32 = 96_000;

/// The sticker's settings layered over the pack's defaults.
pub fn merged(defaults: &StickerSettings, own: &StickerSettings) -> StickerSettings {
    macro_rules! pick {
        ($($f:ident),*) => { StickerSettings { $($f: own.$f.clone().or_else(|| defaults.$f.clone())),* } };
    }
    pick!(
        loudness,
        true_peak,
        channels,
        bitrate,
        fade_in,
        fade_out,
        fade_curve,
        style,
        fps,
        shape,
        outline,
        quality,
        enough_ssim,
        effort
    )
}

/// The sticker's own range (start, end or duration) and nothing else: what a build decodes once for
/// all platforms, which may only shorten it.
pub fn range_options(m: &LoadedManifest, index: usize) -> ClipOptions {
    let s: &Sticker = &m.manifest.stickers[index];
    ClipOptions {
        start: s.start,
        end: s.end,
        duration: s.duration,
        ..ClipOptions::default()
    }
}

/// Clip settings of `sticker` for `platform`, plus a warning when the platform shortens the clip.
pub fn clip_options(
    m: &LoadedManifest,
    index: usize,
    platform: Platform,
) -> Result<(ClipOptions, Option<String>)> {
    let s: &Sticker = &m.manifest.stickers[index];
    let set = merged(&m.manifest.defaults, &s.settings);
    let rules = sound_rules(platform);
    let mut o = ClipOptions {
        max_bytes: Some(rules.max_bytes),
        title: s.title.clone(),
        ..range_options(m, index)
    };
    if let Some(v) = set.loudness {
        o.loudness_lufs = Some(v);
    }
    if let Some(v) = set.true_peak {
        o.true_peak_dbtp = Some(v);
    }
    if let Some(v) = set.channels {
        o.channels = v;
    }
    if rules.mono {
        o.channels = ChannelMode::Mono;
    }
    o.bitrate = Some(match set.bitrate {
        Some(b) => b.bps(),
        // Without a setting: rates at which Opus is transparent for music, not the most the byte cap
        // allows (which would be 256k for a 3 s clip): chat sounds should download fast.
        None if o.channels == ChannelMode::Mono => PACK_MONO_BPS,
        None => PACK_STEREO_BPS,
    });
    if let Some(f) = set.fade_in {
        o.fade_in = f;
    }
    if let Some(f) = set.fade_out {
        o.fade_out = f;
    }
    if let Some(c) = set.fade_curve {
        o.fade_curve = c;
    }
    let mut warning = None;
    if let Some(max_ms) = rules.max_duration_ms {
        let length_ms = match (o.end, o.duration) {
            (Some(e), _) => e.as_nanos().saturating_sub(o.start.as_nanos()) / 1_000_000,
            (None, Some(d)) => d.as_nanos() / 1_000_000,
            (None, None) => u64::MAX,
        };
        if length_ms > u64::from(max_ms) {
            o.end = None;
            o.duration = Some(Timecode::from_millis(u64::from(max_ms)));
            // A longer fade-out so the cut does not sound like one.
            o.fade_out = o.fade_out.max(Timecode::from_millis(300));
            warning = Some(format!(
                "`{}` is {:.1} s; {} allows {:.1} s, so it is shortened with a 300 ms fade-out",
                s.id,
                length_ms as f64 / 1000.0,
                platform.name(),
                f64::from(max_ms) / 1000.0
            ));
        }
    }
    Ok((o, warning))
}

/// The manifest field behind library setting `setting` of sticker `index`, as a JSON pointer: the
/// sticker's own field, else the pack default it inherits. `None` when the manifest does not set it
/// (a built-in default or the platform's rules did).
pub fn field_of(m: &LoadedManifest, index: usize, setting: Setting) -> Option<String> {
    let s = &m.manifest.stickers[index];
    let at = format!("/stickers/{index}");
    let name = match setting {
        Setting::Start => return Some(format!("{at}/start")),
        Setting::End => return s.end.as_ref().map(|_| format!("{at}/end")),
        Setting::Duration => return s.duration.as_ref().map(|_| format!("{at}/duration")),
        Setting::FadeIn => "fade_in",
        Setting::FadeOut => "fade_out",
        Setting::Loudness => "loudness",
        Setting::TruePeak => "true_peak",
        Setting::Bitrate => "bitrate",
        Setting::Style => "style",
        Setting::Fps => "fps",
        _ => return None,
    };
    // Settings serialise only the fields that are set.
    let sets = |set: &StickerSettings| {
        serde_json::to_value(set)
            .ok()
            .is_some_and(|v| v.get(name).is_some())
    };
    if sets(&s.settings) {
        Some(format!("{at}/settings/{name}"))
    } else if sets(&m.manifest.defaults) {
        Some(format!("/defaults/{name}"))
    } else {
        None
    }
}

/// Cover settings of `sticker` for `platform` (size, format, fps and caps come from the rules table).
pub fn cover_options(m: &LoadedManifest, index: usize, platform: Platform) -> CoverOptions {
    let s = &m.manifest.stickers[index];
    let set = merged(&m.manifest.defaults, &s.settings);
    let rules = platform.sticker_rules();
    let mut o = CoverOptions {
        platform: Some(platform),
        ..CoverOptions::default()
    };
    if let Some(v) = set.style {
        o.style = v;
    }
    if let Some(f) = set.fps {
        o.fps = Some(f.min(f64::from(rules.max_fps)));
    }
    if let Some(v) = set.shape {
        o.shape = v;
    }
    if let Some(v) = set.outline {
        o.outline = v;
    }
    if let Some(v) = set.quality {
        o.quality = v;
    }
    if let Some(v) = set.effort {
        o.method = v;
    }
    if let Some(v) = set.enough_ssim {
        o.enough_ssim = Some(v);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::art::styles::Style;
    use crate::pack::manifest::Manifest;

    fn loaded(json: &str) -> LoadedManifest {
        let manifest: Manifest = serde_json::from_str(json).expect("manifest");
        LoadedManifest {
            path: "pack.json".into(),
            dir: ".".into(),
            manifest,
            text: json.to_string(),
        }
    }

    const PACK: &str = r#"{
        "name": "n", "identifier": "i", "publisher": "p", "cover": "c.png",
        "platforms": ["whatsapp", "discord", "telegram"],
        "defaults": { "loudness": -18, "style": "bars", "fps": 60, "channels": "stereo", "effort": 6 },
        "stickers": [
          { "id": "a", "master": "m.flac", "start": "1", "duration": "8", "emojis": ["🎵"],
            "settings": { "loudness": -14, "style": "vinyl", "fade_out": "100ms", "effort": 2 } },
          { "id": "b", "master": "m.flac", "start": "1", "end": "3", "emojis": ["🎵"] }
        ]
    }"#;

    #[test]
    fn sticker_overrides_pack_defaults_over_built_ins() {
        let m = loaded(PACK);
        let (a, _) = clip_options(&m, 0, Platform::Telegram).expect("a");
        assert_eq!(a.loudness_lufs, Some(-14.0));
        assert_eq!(a.channels, ChannelMode::Stereo);
        assert_eq!(a.fade_out, Timecode::from_millis(100));
        let (b, _) = clip_options(&m, 1, Platform::Telegram).expect("b");
        assert_eq!(b.loudness_lufs, Some(-18.0));
        assert_eq!(b.true_peak_dbtp, Some(-1.0), "built-in default");
        assert_eq!(cover_options(&m, 0, Platform::Whatsapp).style, Style::Vinyl);
        assert_eq!(cover_options(&m, 1, Platform::Whatsapp).style, Style::Bars);
        // The encoders' effort travels as the cover's method (which the cache key includes).
        assert_eq!(cover_options(&m, 0, Platform::Telegram).method, 2);
        assert_eq!(cover_options(&m, 1, Platform::Telegram).method, 6);
        let plain = loaded(&PACK.replace(r#", "effort": 6"#, ""));
        assert_eq!(
            cover_options(&plain, 1, Platform::Telegram).method,
            CoverOptions::default().method
        );
    }

    #[test]
    fn platforms_impose_their_rules() {
        let m = loaded(PACK);
        let (wa, warn) = clip_options(&m, 0, Platform::Whatsapp).expect("wa");
        assert_eq!(wa.channels, ChannelMode::Mono, "voice notes are mono");
        assert!(warn.is_none());
        let (dc, warn) = clip_options(&m, 0, Platform::Discord).expect("dc");
        assert_eq!(
            dc.duration,
            Some(Timecode::from_millis(5_200)),
            "soundboard limit"
        );
        assert!(dc.fade_out >= Timecode::from_millis(300));
        assert!(warn.expect("warned").contains("shortened"));
        let (dc_b, warn) = clip_options(&m, 1, Platform::Discord).expect("dc b");
        assert_eq!(dc_b.end, Some(Timecode::from_millis(3_000)));
        assert!(warn.is_none());
        assert_eq!(
            cover_options(&m, 0, Platform::Telegram).fps,
            Some(30.0),
            "fps capped at 30"
        );
    }
}
