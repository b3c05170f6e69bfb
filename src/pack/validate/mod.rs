//! `validate`: check a pack folder or archive (ours or anyone's) against a platform's rules, listing
//! every violation with the file and the rule's source. Image rules come from the platform table.
//!
//! Anyone's pack is untrusted: every file is reached through [`source::Pack`], which resolves the
//! names a pack's JSON gives inside the pack (a folder on disk, or an archive read in memory and
//! never extracted) and reads each with a byte cap that follows from the rule being checked
//! ([`crate::limits`]). Anything refused is a violation naming the rule that refused it.

use super::inspect::{ImageFacts, Unfit, inspect};
use super::links;
use crate::error::{Error, Result};
use crate::limits::{
    Capped, MAX_ARCHIVE_BYTES, MAX_JSON_DEPTH, MAX_PACK_FILE_BYTES, MAX_PACK_JSON_BYTES,
    OVER_CAP_FACTOR, read_capped,
};
use crate::platform::{
    ImageKind, Platform, SizeRule, StickerRules, TELEGRAM_KEYWORD_CHARS, TELEGRAM_MAX_KEYWORDS,
};
use serde::Serialize;
use serde_json::Value;
use source::{Located, Pack, Refusal};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub(crate) mod contained;
mod discord;
mod signal;
pub(crate) mod sound;
pub(crate) mod source;
mod telegram;
mod whatsapp;
pub(crate) mod zipped;

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

/// Where the rules that keep a pack's files inside it are written down.
const CONTAINED_SOURCE: &str =
    "soundsticker: a pack's files stay inside its folder, read with limits (docs/limits.md)";

/// What a platform's sound files must be.
struct SoundRule {
    max_bytes: Option<u64>,
    max_ms: Option<u64>,
    /// Ogg Vorbis is accepted as well as Ogg Opus.
    vorbis_ok: bool,
    mono: bool,
    source: &'static str,
}

/// The most bytes read of a file whose platform caps it at `cap` bytes: [`OVER_CAP_FACTOR`] times
/// the cap (a sticker far over its cap is reported too big without being read whole), but no more
/// than [`MAX_PACK_FILE_BYTES`] unless the cap itself is larger (a 50 MB voice message is read to
/// check it, not 500 MB).
fn read_cap(cap: u64) -> u64 {
    cap.saturating_mul(OVER_CAP_FACTOR)
        .min(MAX_PACK_FILE_BYTES.max(cap))
}

/// `by ` for a message naming the JSON field that gave a file's name (nothing when the file was
/// found by listing the pack).
fn named_by(by: &str) -> String {
    if by.is_empty() {
        String::new()
    } else {
        format!("{by} ")
    }
}

/// The JSON nesting in `bytes` goes deeper than [`MAX_JSON_DEPTH`]: a scan of brackets outside
/// strings, before any parser recurses.
pub(crate) fn too_deep(bytes: &[u8]) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

struct Checker {
    pack: Pack,
    platform: Platform,
    files: usize,
    out: Vec<Violation>,
    /// Stickers already checked, and their facts: a file named twice is read and reported once.
    images: HashMap<Located, Option<ImageFacts>>,
    /// Other files already checked, by role (`tray`, `thumbnail`, `sound`).
    checked: HashSet<(Located, &'static str)>,
}

impl Checker {
    /// Record a broken rule. Names in a pack come from anyone: control characters in them (a
    /// newline, a terminal escape) are shown escaped, so each violation stays one harmless line.
    fn fail(&mut self, file: &str, rule: impl Into<String>, source: &str) {
        self.out.push(Violation {
            file: printable(file),
            rule: printable(&rule.into()),
            source: source.into(),
        });
    }

    /// Report why `name` (given by the JSON field `by`) is not read; `missing` is the rule's own
    /// words for a file that is not there.
    fn refused(&mut self, by: &str, name: &str, why: Refusal, missing: &str, source: &str) {
        let by = named_by(by);
        match why {
            Refusal::Missing => self.fail(name, missing, source),
            Refusal::Outside(how) => self.fail(
                name,
                format!(
                    "{by}`{name}` is outside the pack ({how}); a pack names its files relative to its folder"
                ),
                CONTAINED_SOURCE,
            ),
            Refusal::NotRegular(what) => self.fail(
                name,
                format!("{by}`{name}` is not a regular file ({what}); it is not read"),
                CONTAINED_SOURCE,
            ),
            Refusal::TooBig { bytes } => self.fail(
                name,
                match bytes {
                    Some(n) => format!("is {n} bytes, too big to read"),
                    None => "is too big to read".into(),
                },
                source,
            ),
            Refusal::Archive(rule) => self.fail(name, rule, CONTAINED_SOURCE),
            Refusal::Reported => {}
            Refusal::Io(e) => self.fail(name, format!("cannot be read: {e}"), source),
        }
    }

    /// Locate `name` for the role `role`, unless a file it names was already checked for it.
    fn first_look(
        &mut self,
        by: &str,
        name: &str,
        role: &'static str,
        missing: &str,
        source: &str,
    ) -> Option<Located> {
        match self.pack.locate(name) {
            Ok(at) => self.checked.insert((at.clone(), role)).then_some(at),
            Err(why) => {
                self.refused(by, name, why, missing, source);
                None
            }
        }
    }

    /// Read and parse the pack's JSON file `name`: at most [`MAX_PACK_JSON_BYTES`] bytes and
    /// [`MAX_JSON_DEPTH`] levels deep.
    fn read_json(&mut self, name: &str, source: &str) -> Option<Value> {
        let bytes = match self.pack.read_named(name, MAX_PACK_JSON_BYTES) {
            Ok(bytes) => bytes,
            Err(Refusal::TooBig { bytes }) => {
                let size = bytes.map_or_else(|| "over".into(), |n| format!("{n}"));
                self.fail(
                    name,
                    format!(
                        "is {size} bytes; a pack's JSON file is read up to {MAX_PACK_JSON_BYTES} bytes (MAX_PACK_JSON_BYTES), so it is not read"
                    ),
                    source,
                );
                return None;
            }
            Err(why) => {
                self.refused("", name, why, "is missing", source);
                return None;
            }
        };
        if too_deep(&bytes) {
            self.fail(
                name,
                format!(
                    "nests more than {MAX_JSON_DEPTH} levels deep (MAX_JSON_DEPTH); it is not parsed"
                ),
                source,
            );
            return None;
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(name, format!("is not valid JSON: {e}"), source);
                None
            }
        }
    }

    /// Check the sticker image `name` (given by the JSON field `by`) against the platform table;
    /// its facts, if it could be read. A file named twice is checked once.
    fn image(&mut self, by: &str, name: &str) -> Option<ImageFacts> {
        let rules = self.platform.sticker_rules();
        let at = match self.pack.locate(name) {
            Ok(at) => at,
            Err(why) => {
                self.refused(by, name, why, "is missing", rules.source);
                return None;
            }
        };
        if let Some(done) = self.images.get(&at) {
            return done.clone();
        }
        let facts = self.image_at(name, &at, rules);
        self.images.insert(at, facts.clone());
        facts
    }

    /// Check the located sticker `name`: read up to [`read_cap`] of the platform's larger byte
    /// cap, then every rule of the table.
    ///
    /// Long because the platform table has many rules per image (format, size, bytes, frames,
    /// duration, frame rate, palette), each a `fail` with the figures found.
    fn image_at(&mut self, name: &str, at: &Located, rules: &StickerRules) -> Option<ImageFacts> {
        let src = rules.source;
        let largest = rules.max_animated_bytes.max(rules.max_static_bytes);
        let bytes = match self.pack.read(at, read_cap(largest)) {
            Ok(bytes) => bytes,
            Err(Refusal::TooBig { bytes }) => {
                let size =
                    bytes.map_or_else(|| format!("over {}", read_cap(largest)), |n| n.to_string());
                self.fail(
                    name,
                    format!(
                        "is {size} bytes; the limit is {largest} (over {OVER_CAP_FACTOR}× the limit, it is not read: OVER_CAP_FACTOR)"
                    ),
                    src,
                );
                return None;
            }
            Err(why) => {
                self.refused("", name, why, "is missing", src);
                return None;
            }
        };
        self.files += 1;
        let f = match inspect(&bytes) {
            Ok(f) => f,
            Err(Unfit::Unrecognised) => {
                self.fail(
                    name,
                    "is not a WebP, PNG/APNG, GIF or WebM image, or is truncated",
                    src,
                );
                return None;
            }
            Err(Unfit::Refused(why)) => {
                self.fail(name, why, src);
                return None;
            }
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
            if f.duration_ms > u64::from(rules.max_duration_ms) {
                self.fail(
                    name,
                    format!(
                        "lasts {} ms; the limit is {} ms",
                        f.duration_ms, rules.max_duration_ms
                    ),
                    src,
                );
            }
            if f.min_frame_ms < u64::from(rules.min_frame_ms) {
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
                let fps = f.frames as f64 * 1000.0 / f.duration_ms as f64;
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

    /// Check a sound file (named by the JSON field `by`): Ogg with Opus (or Vorbis where allowed),
    /// its bytes and its length. Read up to [`read_cap`] of the platform's cap (or
    /// [`MAX_PACK_FILE_BYTES`] where there is none).
    fn sound(&mut self, by: &str, name: &str, rule: &SoundRule) {
        let source = rule.source;
        let Some(at) = self.first_look(
            by,
            name,
            "sound",
            "is not playable audio: the file is missing",
            source,
        ) else {
            return;
        };
        self.files += 1;
        let bytes = match self
            .pack
            .read(&at, rule.max_bytes.map_or(MAX_PACK_FILE_BYTES, read_cap))
        {
            Ok(bytes) => bytes,
            Err(Refusal::TooBig { bytes }) => {
                let size = bytes.map_or_else(|| "over".into(), |n| n.to_string());
                let rule_text = match rule.max_bytes {
                    Some(max) => format!(
                        "is {size} bytes; the limit is {max} (over {OVER_CAP_FACTOR}× the limit, it is not read: OVER_CAP_FACTOR)"
                    ),
                    None => format!(
                        "is {size} bytes; a pack's sound is read up to {MAX_PACK_FILE_BYTES} bytes (MAX_PACK_FILE_BYTES), so it is not read"
                    ),
                };
                self.fail(name, rule_text, source);
                return;
            }
            Err(why) => {
                self.refused(
                    by,
                    name,
                    why,
                    "is not playable audio: the file is missing",
                    source,
                );
                return;
            }
        };
        let len = bytes.len() as u64;
        match sound::sound_facts(name, bytes) {
            Err(e) => self.fail(name, format!("is not playable audio: {e}"), source),
            Ok(info) => {
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
                if rule.mono && info.channels != 1 {
                    self.fail(
                        name,
                        format!("has {} channels; a voice note is mono", info.channels),
                        source,
                    );
                }
                if let (Some(max), Some(ms)) = (rule.max_ms, info.ms)
                    && ms > max
                {
                    self.fail(
                        name,
                        format!("lasts {ms} ms; the limit is {max} ms"),
                        source,
                    );
                }
            }
        }
        if let Some(max) = rule.max_bytes
            && len > max
        {
            self.fail(name, format!("is {len} bytes; the limit is {max}"), source);
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

/// `s` with every control character escaped (`\n`, `\u{1b}`).
fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn str_len(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// Validate a pack folder or a zip archive (`.wastickers`, `.zip`) for `platform`. An archive is
/// read into memory (at most [`MAX_ARCHIVE_BYTES`]) and never extracted.
pub fn validate(path: &Path, platform: Platform) -> Result<ValidationReport> {
    let report = |files_checked, violations| ValidationReport {
        path: path.to_path_buf(),
        platform,
        files_checked,
        violations,
    };
    let refuse_archive = |rule: String| {
        Ok(report(
            0,
            vec![Violation {
                file: ".".into(),
                rule,
                source: CONTAINED_SOURCE.into(),
            }],
        ))
    };
    let meta = std::fs::metadata(path).map_err(|e| Error::read(path, e))?;
    let (pack, problems) = if meta.is_dir() {
        let folder = contained::Folder::open(path).map_err(|e| Error::read(path, e))?;
        (Pack::Folder(folder), Vec::new())
    } else {
        let too_big = |size: String| {
            refuse_archive(format!(
                "the archive is {size} bytes; an archive is read up to {MAX_ARCHIVE_BYTES} bytes (MAX_ARCHIVE_BYTES), so it is not read"
            ))
        };
        if meta.is_file() && meta.len() > MAX_ARCHIVE_BYTES {
            return too_big(meta.len().to_string());
        }
        let bytes = match read_capped(path, MAX_ARCHIVE_BYTES) {
            Ok(Capped::Whole(bytes)) => bytes,
            Ok(Capped::Over) => return too_big("over".into()),
            Err(e) => return Err(Error::read(path, e)),
        };
        match zipped::ZipPack::open(bytes) {
            Ok((zip, problems)) => (Pack::Zip(zip), problems),
            Err(zipped::ArchiveError::Refused(rule)) => return refuse_archive(rule),
            Err(zipped::ArchiveError::NotZip(e)) => {
                return Err(Error::invalid(
                    path.display().to_string(),
                    format!(
                        "not a pack folder or zip archive ({e}); give the platform's folder or its .wastickers / .zip"
                    ),
                ));
            }
        }
    };
    let mut c = Checker {
        pack,
        platform,
        files: 0,
        out: Vec::new(),
        images: HashMap::new(),
        checked: HashSet::new(),
    };
    for p in problems {
        c.fail(&p.name, p.rule, CONTAINED_SOURCE);
    }
    match platform {
        Platform::Whatsapp => whatsapp::check(&mut c),
        Platform::Telegram => telegram::check(&mut c),
        Platform::Signal => signal::check(&mut c),
        Platform::Discord => discord::check(&mut c),
    }
    Ok(report(c.files, c.out))
}

fn for_each_ogg(c: &mut Checker, mut f: impl FnMut(&mut Checker, &str)) {
    for n in c.pack.list(".ogg") {
        f(c, &n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_depth_is_counted_outside_strings() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(!too_deep(deep(MAX_JSON_DEPTH).as_bytes()));
        assert!(too_deep(deep(MAX_JSON_DEPTH + 1).as_bytes()));
        let quoted = format!(r#"{{"a": "{}\"{}"}}"#, "[".repeat(500), "{".repeat(500));
        assert!(!too_deep(quoted.as_bytes()));
    }

    #[test]
    fn names_are_shown_on_one_line_without_escapes() {
        assert_eq!(printable("a.webp"), "a.webp");
        assert_eq!(printable("a\n\u{1b}[2Jb"), "a\\n\\u{1b}[2Jb");
    }

    #[test]
    fn read_caps_follow_the_platform_cap() {
        assert_eq!(read_cap(100_000), 1_000_000);
        assert_eq!(read_cap(16 << 20), 16 << 20);
        assert_eq!(read_cap(50 << 20), 50 << 20);
        assert_eq!(read_cap(u64::MAX), u64::MAX);
    }
}
