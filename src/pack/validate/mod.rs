//! `validate`: check a pack folder or archive (ours or anyone's) against a platform's rules, listing
//! every violation with the file and the rule's source. Image rules come from the platform table.

use super::inspect::{ImageFacts, inspect};
use super::links;
use crate::audio::source::{Source, stream::Decode};
use crate::error::{Error, Result};
use crate::platform::{
    ImageKind, Platform, SizeRule, TELEGRAM_KEYWORD_CHARS, TELEGRAM_MAX_KEYWORDS,
};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

mod discord;
mod signal;
mod telegram;
mod whatsapp;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Violation {
    /// The file that breaks it, relative to the pack (or the pack itself).
    pub file: String,
    /// The rule and what the file has instead.
    pub rule: String,
    /// Where the rule is documented.
    pub source: String,
}

/// The outcome of validating one pack.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ValidationReport {
    /// The pack folder or archive checked.
    pub path: PathBuf,
    /// The platform whose rules were applied.
    pub platform: Platform,
    /// Files read and checked.
    pub files_checked: usize,
    /// Every rule broken; empty when the pack is valid.
    pub violations: Vec<Violation>,
}

const WA_SOURCE: &str = "WhatsApp/stickers StickerPackValidator.java";
const TG_SOURCE: &str = "Telegram Bot API: createNewStickerSet, InputSticker";
const SIGNAL_SOURCE: &str = "Signal sticker guidelines (sticker-convert presets)";
const DISCORD_SOURCE: &str = "Discord developer docs: Sticker and Soundboard resources";

/// What a platform's sound files must be.
struct SoundRule {
    max_bytes: Option<u64>,
    max_ms: Option<u64>,
    /// Ogg Vorbis is accepted as well as Ogg Opus.
    vorbis_ok: bool,
    mono: bool,
    source: &'static str,
}

struct Checker {
    root: PathBuf,
    platform: Platform,
    files: usize,
    out: Vec<Violation>,
}

impl Checker {
    fn fail(&mut self, file: &str, rule: impl Into<String>, source: &str) {
        self.out.push(Violation {
            file: file.into(),
            rule: rule.into(),
            source: source.into(),
        });
    }

    fn read_json(&mut self, name: &str, source: &str) -> Option<Value> {
        let path = self.root.join(name);
        match std::fs::read(&path)
            .ok()
            .map(|b| serde_json::from_slice::<Value>(&b))
        {
            Some(Ok(v)) => Some(v),
            Some(Err(e)) => {
                self.fail(name, format!("is not valid JSON: {e}"), source);
                None
            }
            None => {
                self.fail(name, "is missing", source);
                None
            }
        }
    }

    /// Check a sticker image against the platform table.
    ///
    /// Long because the platform table has many rules per image (format, size, bytes, frames,
    /// duration, frame rate, palette), each a `fail` with the figures found.
    fn image(&mut self, name: &str) -> Option<ImageFacts> {
        let rules = self.platform.sticker_rules();
        let src = rules.source;
        let path = self.root.join(name);
        let Ok(bytes) = std::fs::read(&path) else {
            self.fail(name, "is missing", src);
            return None;
        };
        self.files += 1;
        let Some(f) = inspect(&bytes) else {
            self.fail(name, "is not a WebP, PNG/APNG, GIF or WebM image", src);
            return None;
        };
        let animated = f.frames > 1;
        let allowed: &[ImageKind] = match self.platform {
            Platform::Whatsapp => &[ImageKind::Webp],
            Platform::Telegram => &[ImageKind::Webm, ImageKind::Webp, ImageKind::Png],
            Platform::Signal => &[ImageKind::Png, ImageKind::Webp],
            Platform::Discord => &[ImageKind::Png, ImageKind::Gif],
        };
        if !allowed.contains(&f.kind) {
            self.fail(
                name,
                format!("{:?} is not accepted (use {:?})", f.kind, allowed),
                src,
            );
        }
        let size_ok = match (rules.size, self.platform, animated) {
            (_, Platform::Signal, true) => {
                f.width == f.height && (rules.min_animated_side..=rules.canvas).contains(&f.width)
            }
            (SizeRule::Exact { width, height }, ..) => f.width == width && f.height == height,
            (SizeRule::OneSide { side }, ..) => {
                f.width.max(f.height) == side && f.width.min(f.height) <= side
            }
        };
        if !size_ok {
            self.fail(
                name,
                format!("is {}×{}; it must be {}", f.width, f.height, rules.size),
                src,
            );
        }
        let cap = if animated {
            rules.max_animated_bytes
        } else {
            rules.max_static_bytes
        };
        if bytes.len() as u64 > cap {
            self.fail(
                name,
                format!("is {} bytes; the limit is {cap}", bytes.len()),
                src,
            );
        }
        if animated || f.kind == ImageKind::Webm {
            if f.duration_ms > rules.max_duration_ms {
                self.fail(
                    name,
                    format!(
                        "lasts {} ms; the limit is {} ms",
                        f.duration_ms, rules.max_duration_ms
                    ),
                    src,
                );
            }
            if f.min_frame_ms < rules.min_frame_ms {
                self.fail(
                    name,
                    format!(
                        "has a {} ms frame; frames must last at least {} ms",
                        f.min_frame_ms, rules.min_frame_ms
                    ),
                    src,
                );
            }
            if f.duration_ms > 0 {
                let fps = f.frames as f64 * 1000.0 / f64::from(f.duration_ms);
                if fps > f64::from(rules.max_fps) + 0.5 {
                    self.fail(
                        name,
                        format!("runs at {fps:.1} fps; the limit is {}", rules.max_fps),
                        src,
                    );
                }
            }
        }
        if animated
            && f.kind == ImageKind::Png
            && rules.animated_format == ImageKind::Png
            && f.palette
            && !rules.apng_palette
        {
            self.fail(
                name,
                "is a palette (indexed-colour) APNG; use truecolour, palette APNGs reportedly do not animate on Signal for iOS",
                src,
            );
        }
        if f.kind == ImageKind::Webm {
            if f.has_audio {
                self.fail(name, "has an audio track; video stickers must not", src);
            }
            if f.codec.as_deref() != Some("V_VP9") {
                self.fail(
                    name,
                    format!(
                        "uses codec {}; video stickers must be VP9",
                        f.codec.as_deref().unwrap_or("(none)")
                    ),
                    src,
                );
            }
        }
        Some(f)
    }

    /// Check a sound file: Ogg with Opus (or Vorbis where allowed), its bytes and its length.
    fn sound(&mut self, name: &str, rule: &SoundRule) {
        let source = rule.source;
        let path = self.root.join(name);
        self.files += 1;
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        match Source::open(&path) {
            Err(e) => self.fail(name, format!("is not playable audio: {e}"), source),
            Ok(src) => {
                let info = src.info();
                let codec_ok = info.container == "ogg"
                    && (info.codec == "opus" || (rule.vorbis_ok && info.codec == "vorbis"));
                if !codec_ok {
                    self.fail(
                        name,
                        format!(
                            "is {} in {}; Ogg Opus is required",
                            info.codec, info.container
                        ),
                        source,
                    );
                }
                if rule.mono && info.layout.len() != 1 {
                    self.fail(
                        name,
                        format!("has {} channels; a voice note is mono", info.layout.len()),
                        source,
                    );
                }
                if let (Some(max), Some(frames)) = (rule.max_ms, info.declared_frames) {
                    let ms = frames * 1000 / u64::from(info.rate);
                    if ms > max {
                        self.fail(
                            name,
                            format!("lasts {ms} ms; the limit is {max} ms"),
                            source,
                        );
                    }
                }
            }
        }
        if let Some(max) = rule.max_bytes
            && bytes > max
        {
            self.fail(
                name,
                format!("is {bytes} bytes; the limit is {max}"),
                source,
            );
        }
    }

    fn emojis(&mut self, name: &str, list: &[Value], min: usize, max: usize, source: &str) {
        if !(min..=max).contains(&list.len()) {
            self.fail(
                name,
                format!("has {} emojis; {min} to {max} are required", list.len()),
                source,
            );
        }
        for e in list {
            if e.as_str().and_then(emojis::get).is_none() {
                self.fail(name, format!("{e} is not an emoji"), source);
            }
        }
    }
}

fn str_len(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// Validate a pack folder or a zip archive (`.wastickers`, `.zip`) for `platform`.
pub fn validate(path: &Path, platform: Platform) -> Result<ValidationReport> {
    let _extracted;
    let root = if path.is_dir() {
        path.to_path_buf()
    } else {
        let file = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| {
            Error::invalid(
                path.display().to_string(),
                format!("not a pack folder or zip archive ({e}); give the platform's folder or its .wastickers / .zip"),
            )
        })?;
        let dir =
            tempfile::tempdir().map_err(|e| Error::write(Path::new("temporary folder"), e))?;
        zip.extract(dir.path()).map_err(|e| {
            Error::invalid(
                path.display().to_string(),
                format!("cannot extract the archive: {e}"),
            )
        })?;
        let root = dir.path().to_path_buf();
        _extracted = dir;
        root
    };
    let mut c = Checker {
        root,
        platform,
        files: 0,
        out: Vec::new(),
    };
    match platform {
        Platform::Whatsapp => whatsapp::check(&mut c),
        Platform::Telegram => telegram::check(&mut c),
        Platform::Signal => signal::check(&mut c),
        Platform::Discord => discord::check(&mut c),
    }
    Ok(ValidationReport {
        path: path.to_path_buf(),
        platform,
        files_checked: c.files,
        violations: c.out,
    })
}

fn for_each_ogg(c: &mut Checker, mut f: impl FnMut(&mut Checker, &str)) {
    let mut names: Vec<String> = std::fs::read_dir(&c.root)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".ogg"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for n in names {
        f(c, &n);
    }
}
