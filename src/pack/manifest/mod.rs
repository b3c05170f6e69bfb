//! The pack manifest (`pack.json`): its types (the JSON Schema is derived from them), parsing with
//! errors that name the JSON pointer and line:column (with "did you mean" for unknown fields), and the
//! checks that need the files it names.

use super::json_pos::locate_all;
use crate::art::shape::Shape;
use crate::art::styles::Style;
use crate::audio::channels::ChannelMode;
use crate::audio::fade::FadeCurve;
use crate::bitrate::Bitrate;
pub use crate::error::ManifestIssue;
use crate::error::{Error, Result, Setting};
use crate::limits::{Capped, MAX_MANIFEST_BYTES, MAX_STICKERS, read_capped};
use crate::platform::Platform;
use crate::timecode::Timecode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

mod bounded;
mod check;
use check::check;

/// A sound-sticker pack. Paths are relative to the manifest's folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Where editors find this schema (ignored by soundsticker).
    #[serde(
        rename = "$schema",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::opt_text"
    )]
    pub schema: Option<String>,
    /// The pack's title as users see it (1–128 characters).
    #[serde(deserialize_with = "bounded::text")]
    pub name: String,
    /// A stable identifier: letters, digits, `_`, `-`, `.`, `'`, `,` and spaces, no `..` (1–128 characters).
    #[serde(deserialize_with = "bounded::text")]
    pub identifier: String,
    /// Who publishes the pack (1–128 characters).
    #[serde(deserialize_with = "bounded::text")]
    pub publisher: String,
    /// What the pack is, in a sentence (Telegram and Discord show it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::opt_text"
    )]
    pub description: Option<String>,
    /// The publisher's web site: a full http:// or https:// URL (WhatsApp's `publisher_website`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::opt_text"
    )]
    pub website: Option<String>,
    /// The publisher's e-mail address (WhatsApp's `publisher_email`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::opt_text"
    )]
    pub email: Option<String>,
    /// Licence of the pack's contents, e.g. an SPDX identifier.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::opt_text"
    )]
    pub license: Option<String>,
    /// Copyright notice of the pack's contents.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::opt_text"
    )]
    pub copyright: Option<String>,
    /// Image for the pack's tray icon and cover.
    #[serde(deserialize_with = "bounded::text")]
    pub cover: String,
    /// Platforms to build for.
    pub platforms: Vec<Platform>,
    /// Telegram specifics (needed when building for Telegram).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram: Option<TelegramSettings>,
    /// Settings every sticker starts from.
    #[serde(default)]
    pub defaults: StickerSettings,
    /// The stickers, in pack order.
    #[serde(deserialize_with = "bounded::stickers")]
    pub stickers: Vec<Sticker>,
}

impl Manifest {
    /// Whether Telegram stickers get a still WebP beside them (`telegram.static_fallback`).
    pub fn static_fallback(&self) -> bool {
        self.telegram.as_ref().is_some_and(|t| t.static_fallback)
    }
}

/// Telegram sticker-set settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    /// The bot that will own the set: set names end in `_by_<bot_username>`.
    #[serde(deserialize_with = "bounded::text")]
    pub bot_username: String,
    /// Also write a still 512 px WebP of each sticker's art in `telegram/static/` (listed in
    /// `set.json` as `static_sticker`), for sets or clients that take no video stickers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub static_fallback: bool,
}

/// Per-sticker settings; each field overrides the pack's `defaults`, which override built-in defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StickerSettings {
    /// Integrated loudness target, LUFS (−70..0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loudness: Option<f64>,
    /// True-peak ceiling, dBTP (−20..0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub true_peak: Option<f64>,
    /// Channels of the sound: mono, stereo or keep (platforms whose sounds are voice notes make them
    /// mono whatever this says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<ChannelMode>,
    /// Opus bitrate such as `96k`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<Bitrate>,
    /// Fade-in length, a timecode such as `10ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fade_in: Option<Timecode>,
    /// Fade-out length, a timecode such as `50ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fade_out: Option<Timecode>,
    /// Shape of both fades: linear, sine, scurve or exponential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fade_curve: Option<FadeCurve>,
    /// How the art moves with the sound: pulse, vinyl, wave or bars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<Style>,
    /// Animation frame rate (1–60; capped by each platform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// Outline of the art: square, rounded or circle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
    /// Die-cut outline width in px at 512 px.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outline: Option<u32>,
    /// Best image quality the fitter may use (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<f32>,
    /// SSIM (0–1, of the decoded sticker against its rendered frames) past which the fitter spends no
    /// more bytes: a sticker that would look better is encoded at the lowest quality that still reaches
    /// it (default 0.99; 1 fills each byte cap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enough_ssim: Option<f64>,
    /// Encoder effort 0–6 (default 4): higher is slower and, at one byte cap, better looking. WebP's
    /// method; VP9: 0–4 libvpx's realtime deadline at speed 8 to 4, 5 and 6 its good-quality deadline
    /// at speed 4 and 3; APNG: 0–1 zlib's balanced level, 2–6 its best.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<i32>,
}

/// One sound sticker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sticker {
    /// Unique within the pack; names its files: lower-case letters, digits, `_` and `-` (1–64).
    #[serde(deserialize_with = "bounded::text")]
    pub id: String,
    /// The master track the clip is cut from.
    #[serde(deserialize_with = "bounded::text")]
    pub master: String,
    /// Clip start: `83.5`, `1:23.5`, `01:23.500` or `83500ms`.
    pub start: Timecode,
    /// Clip end (exclusive); give this or `duration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timecode>,
    /// Clip length; give this or `end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Timecode>,
    /// Art for this sticker (default: the pack's cover).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::opt_text"
    )]
    pub cover: Option<String>,
    /// 1–3 emojis describing the sticker (Signal uses the first).
    #[serde(deserialize_with = "bounded::words")]
    pub emojis: Vec<String>,
    /// The sticker's name where a platform shows one (Discord: 2–30 characters; default: the id).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::opt_text"
    )]
    pub title: Option<String>,
    /// Accessibility text (WhatsApp: at most 255 characters for animated stickers).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::opt_text"
    )]
    pub alt: Option<String>,
    /// Search keywords (Telegram: at most 20, of 64 characters in all).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "bounded::words"
    )]
    pub keywords: Vec<String>,
    /// ISRC of the recording the clip comes from.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bounded::opt_text"
    )]
    pub isrc: Option<String>,
    /// Overrides of the pack's defaults for this sticker.
    #[serde(default)]
    pub settings: StickerSettings,
}

/// The JSON Schema of the manifest, as pretty JSON.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Manifest);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// A parsed manifest with the folder its paths are relative to.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    /// The manifest file.
    pub path: PathBuf,
    /// The folder its paths are relative to.
    pub dir: PathBuf,
    /// What it says, checked.
    pub manifest: Manifest,
    /// The text it was parsed from, for placing later problems (a sticker that failed) at the
    /// line:column of the file that was read.
    pub(crate) text: String,
}

impl LoadedManifest {
    /// Resolve a manifest path against the manifest's folder.
    pub fn resolve(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

/// Read, parse and check a manifest. All problems found are reported together.
pub fn load(path: &Path) -> Result<LoadedManifest> {
    load_for(path, &[])
}

/// [`load`], building for `platforms` instead of the manifest's own list when it is not empty (so
/// the platform rules checked are those of the platforms actually built).
///
/// A file over [`MAX_MANIFEST_BYTES`] is refused before more than that is read, and anything but a
/// regular file (a FIFO, a device) without reading it; lists and texts over their limits are refused
/// as they are parsed, and every count rule (stickers per pack, keywords, text lengths) is checked
/// here, before anything is rendered.
pub fn load_for(path: &Path, platforms: &[Platform]) -> Result<LoadedManifest> {
    let bytes = match read_capped(path, MAX_MANIFEST_BYTES).map_err(|e| Error::read(path, e))? {
        Capped::Whole(bytes) => bytes,
        Capped::Over => {
            return Err(Error::Refused {
                path: path.to_path_buf(),
                detail: format!(
                    "the manifest is larger than {} MB, which no pack needs (one of {MAX_STICKERS} stickers with every field is about 500 KB); give a soundsticker manifest",
                    MAX_MANIFEST_BYTES >> 20
                ),
            });
        }
    };
    load_bytes(path, &bytes, platforms)
}

/// [`load_for`] on the manifest's bytes, already read: `path` names it in errors, and its folder is
/// where the paths it holds are resolved. Callable without the file system for the fuzz target of the
/// manifest loader (give a `path` in a folder that does not exist: the checks of the files it names
/// then report them missing).
pub(crate) fn load_bytes(
    path: &Path,
    bytes: &[u8],
    platforms: &[Platform],
) -> Result<LoadedManifest> {
    let in_file = |issue| Error::Manifest {
        path: path.to_path_buf(),
        issues: vec![issue],
    };
    let text = text_of(bytes).map_err(in_file)?;
    let mut manifest = parse(text).map_err(in_file)?;
    if !platforms.is_empty() {
        // Platforms from the command line replace the manifest's: their problems are the command
        // line's, not the manifest's.
        if let Some(twice) = platforms
            .iter()
            .enumerate()
            .find_map(|(i, p)| platforms[..i].contains(p).then_some(p))
        {
            return Err(Error::setting(
                Setting::Platforms,
                format!("`{}` is listed twice", twice.name()),
            ));
        }
        manifest.platforms = platforms.to_vec();
    }
    let dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let loaded = LoadedManifest {
        path: path.to_path_buf(),
        dir,
        manifest,
        text: text.to_string(),
    };
    let mut found: Vec<(String, String)> = Vec::new();
    check(&loaded, &mut |pointer: String, detail: String| {
        found.push((pointer, detail));
    });
    if found.is_empty() {
        return Ok(loaded);
    }
    // One pass over the text places every problem, however many there are.
    let pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    let places = locate_all(text, &pointers);
    let issues = found
        .into_iter()
        .zip(places)
        .map(|((pointer, detail), at)| {
            let (line, column) = at.unwrap_or((1, 1));
            ManifestIssue {
                pointer,
                line,
                column,
                detail,
            }
        })
        .collect();
    Err(Error::Manifest {
        path: path.to_path_buf(),
        issues,
    })
}

/// The manifest's bytes as text: UTF-8, a leading byte-order mark (which some editors write) skipped.
fn text_of(bytes: &[u8]) -> std::result::Result<&str, ManifestIssue> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let before = String::from_utf8_lossy(&bytes[..e.valid_up_to()]);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ManifestIssue {
            pointer: String::new(),
            line,
            column,
            detail: "not UTF-8 text (this byte is not UTF-8); save the manifest as UTF-8".into(),
        }
    })
}

/// Parse JSON text into a manifest; the error names where and what.
pub fn parse(text: &str) -> std::result::Result<Manifest, ManifestIssue> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let pointer = pointer_of(err.path());
        let inner = err.into_inner();
        let (line, column) = (inner.line(), inner.column());
        let mut detail = inner.to_string();
        // serde_json appends " at line L column C"; we print the position ourselves.
        if let Some(cut) = detail.rfind(" at line ") {
            detail.truncate(cut);
        }
        if let Some(hint) = did_you_mean(&detail) {
            detail.push_str(&hint);
        }
        ManifestIssue {
            pointer,
            line,
            column,
            detail: shortened(&detail),
        }
    })
}

/// Longest parse error we print, in characters: serde quotes the value at fault, which may be a
/// whole text field or a key of any length.
const MAX_DETAIL_CHARS: usize = 300;

/// `detail` cut in its middle to [`MAX_DETAIL_CHARS`], keeping its start and its end (serde's
/// "expected ...").
fn shortened(detail: &str) -> String {
    let n = detail.chars().count();
    if n <= MAX_DETAIL_CHARS {
        return detail.to_string();
    }
    let head: String = detail.chars().take(MAX_DETAIL_CHARS / 2).collect();
    let tail: String = detail.chars().skip(n - MAX_DETAIL_CHARS / 3).collect();
    format!(
        "{head} … ({} characters left out) … {tail}",
        n - head.chars().count() - tail.chars().count()
    )
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                // A key of any length may be the unknown field at fault: shown by its start.
                let key = if key.chars().count() > 64 {
                    format!("{}…", key.chars().take(32).collect::<String>())
                } else {
                    key.clone()
                };
                out.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1")))
            }
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    out
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (or variant), suggest the closest name.
fn did_you_mean(detail: &str) -> Option<String> {
    let rest = detail
        .strip_prefix("unknown field `")
        .or_else(|| detail.strip_prefix("unknown variant `"))?;
    let (unknown, expected) = rest.split_once('`')?;
    // The distance costs time in the product of the lengths: a name much longer than any
    // field's is a typo of none.
    if unknown.chars().count() > 64 {
        return None;
    }
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&unknown.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .min()?;
    (best.0 <= 3).then(|| format!("; did you mean `{}`?", best.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
  "name": "T", "identifier": "t", "publisher": "L", "cover": "c.png",
  "platforms": ["whatsapp", "telegram"], "telegram": { "bot_username": "t_bot" },
  "defaults": { "fps": 10, "bitrate": "64k", "fade_in": "10ms" },
  "stickers": [
    { "id": "a", "master": "m.flac", "start": "1:02.5", "duration": "2", "emojis": ["🎵"],
      "keywords": ["x", "é"], "settings": { "style": "wave" } }
  ]
}"#;

    /// A small fuzz run on stable: mutations of a manifest through the loader (no files: its folder
    /// does not exist) and the line:column scanner. Nothing may panic, and every refusal names a
    /// place inside the text.
    #[test]
    fn mutated_manifests_never_panic() {
        let path = Path::new("/nonexistent-soundsticker-dir/pack.json");
        let alphabet: &[&[u8]] = &[
            b"{",
            b"}",
            b"[",
            b"]",
            b"\"",
            b":",
            b",",
            b"\\",
            b"\\u",
            b"1e999",
            b"-",
            b"\xC3",
            b"\xE9",
            b"\xEF\xBB\xBF",
            b"null",
            b" ",
            b"\n",
            b"~1",
            b"/",
            b"\"stickers\"",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pointers = [
            "",
            "/stickers",
            "/stickers/0/keywords/1",
            "/telegram/bot_username",
        ];
        for _ in 0..3000 {
            let mut bytes = GOOD.as_bytes().to_vec();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % (bytes.len() + 1);
                match next() % 3 {
                    0 => bytes.truncate(at),
                    1 => {
                        let piece = alphabet[(next() as usize) % alphabet.len()];
                        bytes.splice(at..at, piece.iter().copied());
                    }
                    _ => {
                        if at < bytes.len() {
                            bytes[at] ^= 1 << (next() % 8);
                        }
                    }
                }
            }
            if let Err(Error::Manifest { issues, .. }) = load_bytes(path, &bytes, &[]) {
                let lines = bytes.split(|&b| b == b'\n').count();
                for issue in issues {
                    assert!(issue.line <= lines.max(1), "{issue:?}");
                }
            }
            if let Ok(text) = std::str::from_utf8(&bytes) {
                let _ = locate_all(text, &pointers);
            }
        }
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_bad_utf8_is_placed() {
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(GOOD.as_bytes());
        assert!(parse(text_of(&bom).expect("text")).is_ok());
        let mut bad = GOOD.as_bytes().to_vec();
        let at = GOOD.find("\"t_bot\"").expect("bot") + 1;
        bad[at] = 0xFF;
        let issue = text_of(&bad).expect_err("not UTF-8");
        assert_eq!((issue.line, issue.column), (3, 73));
        assert!(issue.detail.contains("not UTF-8"));
    }
}
