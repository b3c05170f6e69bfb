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

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub file: String,
    pub rule: String,
    pub source: String,
}

/// The outcome of validating one pack.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ValidationReport {
    pub path: PathBuf,
    pub platform: Platform,
    pub files_checked: usize,
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

const WA_VOICE: SoundRule = SoundRule {
    max_bytes: Some(16 * 1024 * 1024),
    max_ms: None,
    vorbis_ok: false,
    mono: true,
    source: "WhatsApp voice notes: mono Ogg Opus, at most 16 MB (platforms.md)",
};
const TG_VOICE: SoundRule = SoundRule {
    max_bytes: Some(50 * 1024 * 1024),
    max_ms: None,
    vorbis_ok: false,
    mono: false,
    source: "Telegram Bot API sendVoice: Ogg Opus, bots send up to 50 MB",
};
/// Signal publishes no sound rules: its voice messages are Ogg Opus, as ours are.
const SIGNAL_VOICE: SoundRule = SoundRule {
    max_bytes: None,
    max_ms: None,
    vorbis_ok: false,
    mono: false,
    source: "Signal voice messages (Ogg Opus)",
};
const DC_SOUND: SoundRule = SoundRule {
    max_bytes: Some(512_000),
    max_ms: Some(5_200),
    vorbis_ok: true,
    mono: false,
    source: DISCORD_SOURCE,
};

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
        Platform::Whatsapp => whatsapp(&mut c),
        Platform::Telegram => telegram(&mut c),
        Platform::Signal => signal(&mut c),
        Platform::Discord => discord(&mut c),
    }
    Ok(ValidationReport {
        path: path.to_path_buf(),
        platform,
        files_checked: c.files,
        violations: c.out,
    })
}

fn whatsapp(c: &mut Checker) {
    if !c.root.join("contents.json").exists() {
        // A third-party .wastickers archive: stickers, tray.png, title.txt, author.txt.
        for f in ["title.txt", "author.txt"] {
            if !c.root.join(f).is_file() {
                c.fail(
                    f,
                    "is missing: a WhatsApp pack needs contents.json (the sample apps' layout) or title.txt and author.txt (a .wastickers archive)",
                    "third-party .wastickers layout",
                );
            }
        }
        tray(c, "tray.png");
        let mut names: Vec<String> = std::fs::read_dir(&c.root)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".webp"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        if !(3..=30).contains(&names.len()) {
            c.fail(
                ".",
                format!("holds {} stickers; a pack has 3 to 30", names.len()),
                WA_SOURCE,
            );
        }
        for n in names {
            c.image(&n);
        }
        return;
    }
    let Some(contents) = c.read_json("contents.json", WA_SOURCE) else {
        return;
    };
    let packs = contents["sticker_packs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if packs.is_empty() {
        c.fail("contents.json", "has no sticker_packs", WA_SOURCE);
    }
    shape_of_contents(c, &contents);
    // Store links must be on the store's own host (the validator's PLAY_STORE_DOMAIN and
    // APPLE_STORE_DOMAIN).
    for (key, host) in [
        ("android_play_store_link", "play.google.com"),
        ("ios_app_store_link", "itunes.apple.com"),
    ] {
        let link = contents[key].as_str().unwrap_or_default();
        if !link.is_empty() && links::http_host(link).as_deref() != Some(host) {
            c.fail(
                "contents.json",
                format!("{key} `{link}` must be an http(s) link on {host}"),
                WA_SOURCE,
            );
        }
    }
    for (i, pack) in packs.iter().enumerate() {
        let at = format!("contents.json sticker_packs[{i}]");
        for key in [
            "publisher_website",
            "privacy_policy_website",
            "license_agreement_website",
        ] {
            let link = pack[key].as_str().unwrap_or_default();
            if !link.is_empty() && links::http_host(link).is_none() {
                c.fail(
                    &at,
                    format!("{key} `{link}` must be an http:// or https:// URL"),
                    WA_SOURCE,
                );
            }
        }
        let email = pack["publisher_email"].as_str().unwrap_or_default();
        if !email.is_empty() && !links::is_email(email) {
            c.fail(
                &at,
                format!("publisher_email `{email}` is not an e-mail address"),
                WA_SOURCE,
            );
        }
        for key in ["identifier", "name", "publisher"] {
            let n = str_len(&pack[key]);
            if n == 0 || n > 128 {
                c.fail(&at, format!("{key} must be 1 to 128 characters"), WA_SOURCE);
            }
        }
        let id = pack["identifier"].as_str().unwrap_or_default();
        if id.contains("..")
            || !id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "_-.' ,".contains(ch))
        {
            c.fail(
                &at,
                "identifier may hold only letters, digits, `_-.' ,` and no `..`",
                WA_SOURCE,
            );
        }
        if pack["image_data_version"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            c.fail(&at, "image_data_version is required", WA_SOURCE);
        }
        tray(c, pack["tray_image_file"].as_str().unwrap_or("tray.png"));
        let stickers = pack["stickers"].as_array().cloned().unwrap_or_default();
        if !(3..=30).contains(&stickers.len()) {
            c.fail(
                &at,
                format!("has {} stickers; a pack has 3 to 30", stickers.len()),
                WA_SOURCE,
            );
        }
        let animated_pack = pack["animated_sticker_pack"].as_bool().unwrap_or(false);
        for s in &stickers {
            let file = s["image_file"].as_str().unwrap_or_default().to_string();
            let facts = c.image(&file);
            c.emojis(
                &file,
                s["emojis"].as_array().map_or(&[][..], |v| v.as_slice()),
                1,
                3,
                WA_SOURCE,
            );
            let alt_max = if animated_pack { 255 } else { 125 };
            if str_len(&s["accessibility_text"]) > alt_max {
                c.fail(
                    &file,
                    format!("accessibility_text is over {alt_max} characters"),
                    WA_SOURCE,
                );
            }
            if let Some(f) = facts
                && (f.frames > 1) != animated_pack
            {
                c.fail(
                    &file,
                    "a pack is all animated or all static, as animated_sticker_pack says",
                    WA_SOURCE,
                );
            }
        }
    }
    for_each_ogg(c, |c, n| c.sound(n, &WA_VOICE));
}

/// Fields of WhatsApp's `contents.json` and their types, as its sample apps' parser reads them
/// (`ContentFileParser.java`): it refuses unknown fields at the top and in a sticker, and a value of
/// the wrong type anywhere.
const WA_TOP: [&str; 3] = [
    "android_play_store_link",
    "ios_app_store_link",
    "sticker_packs",
];
const WA_PACK_TEXT: [&str; 9] = [
    "identifier",
    "name",
    "publisher",
    "tray_image_file",
    "image_data_version",
    "publisher_email",
    "publisher_website",
    "privacy_policy_website",
    "license_agreement_website",
];
const WA_PACK_FLAGS: [&str; 2] = ["avoid_cache", "animated_sticker_pack"];
const WA_STICKER: [&str; 3] = ["image_file", "emojis", "accessibility_text"];
const WA_PARSER: &str = "WhatsApp/stickers ContentFileParser.java";

/// Unknown fields and wrong types in `contents.json`.
fn shape_of_contents(c: &mut Checker, contents: &Value) {
    let file = "contents.json";
    let Some(top) = contents.as_object() else {
        c.fail(file, "must hold a JSON object", WA_PARSER);
        return;
    };
    for (key, value) in top {
        if !WA_TOP.contains(&key.as_str()) {
            c.fail(file, format!("unknown field `{key}`"), WA_PARSER);
        } else if key != "sticker_packs" && !value.is_string() {
            c.fail(file, format!("`{key}` must be a string"), WA_PARSER);
        }
    }
    let packs = contents["sticker_packs"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    for (i, pack) in packs.iter().enumerate() {
        let at = format!("{file} sticker_packs[{i}]");
        for key in WA_PACK_TEXT {
            if pack.get(key).is_some_and(|v| !v.is_string()) {
                c.fail(&at, format!("`{key}` must be a string"), WA_PARSER);
            }
        }
        for key in WA_PACK_FLAGS {
            if pack.get(key).is_some_and(|v| !v.is_boolean()) {
                c.fail(&at, format!("`{key}` must be true or false"), WA_PARSER);
            }
        }
        let stickers = pack["stickers"].as_array().map_or(&[][..], Vec::as_slice);
        for (j, sticker) in stickers.iter().enumerate() {
            let at = format!("{at} stickers[{j}]");
            for key in sticker.as_object().into_iter().flat_map(|o| o.keys()) {
                if !WA_STICKER.contains(&key.as_str()) {
                    c.fail(&at, format!("unknown field `{key}`"), WA_PARSER);
                }
            }
            let image = sticker["image_file"].as_str().unwrap_or_default();
            if !image.ends_with(".webp") || image.contains("..") || image.contains('/') {
                c.fail(
                    &at,
                    format!("image_file `{image}` must name a .webp file beside contents.json"),
                    WA_PARSER,
                );
            }
            if !sticker["emojis"].is_array() {
                c.fail(&at, "`emojis` must be a list", WA_PARSER);
            }
            if sticker
                .get("accessibility_text")
                .is_some_and(|v| !v.is_string())
            {
                c.fail(&at, "`accessibility_text` must be a string", WA_PARSER);
            }
        }
    }
}

fn tray(c: &mut Checker, name: &str) {
    let Ok(bytes) = std::fs::read(c.root.join(name)) else {
        c.fail(name, "tray icon is missing", WA_SOURCE);
        return;
    };
    c.files += 1;
    match inspect(&bytes) {
        Some(f) if f.kind == ImageKind::Png && f.width == 96 && f.height == 96 && f.frames == 1 => {
        }
        _ => c.fail(name, "tray icon must be a still 96×96 PNG", WA_SOURCE),
    }
    if bytes.len() > 50_000 {
        c.fail(
            name,
            format!("tray icon is {} bytes; the limit is 50 000", bytes.len()),
            WA_SOURCE,
        );
    }
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

fn telegram(c: &mut Checker) {
    let Some(set) = c.read_json("set.json", TG_SOURCE) else {
        return;
    };
    let name = set["name"].as_str().unwrap_or_default();
    let name_ok = (1..=64).contains(&name.len())
        && name.starts_with(|ch: char| ch.is_ascii_alphabetic())
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        && !name.contains("__")
        && name.contains("_by_");
    if !name_ok {
        c.fail("set.json", format!("set name `{name}` breaks the rules: 1–64 letters, digits and `_`, starting with a letter, no `__`, ending in `_by_<bot>`"), TG_SOURCE);
    }
    if !(1..=64).contains(&str_len(&set["title"])) {
        c.fail("set.json", "title must be 1 to 64 characters", TG_SOURCE);
    }
    let stickers = set["stickers"].as_array().cloned().unwrap_or_default();
    if !(1..=120).contains(&stickers.len()) {
        c.fail(
            "set.json",
            format!("has {} stickers; a set has 1 to 120", stickers.len()),
            TG_SOURCE,
        );
    }
    for s in &stickers {
        let file = s["sticker"].as_str().unwrap_or_default().to_string();
        c.image(&file);
        if let Some(still) = s["static_sticker"].as_str() {
            c.image(still);
        }
        c.emojis(
            &file,
            s["emoji_list"].as_array().map_or(&[][..], |v| v.as_slice()),
            1,
            20,
            TG_SOURCE,
        );
        let keywords = s["keywords"].as_array().map_or(&[][..], |v| v.as_slice());
        let chars: usize = keywords.iter().map(str_len).sum();
        if keywords.len() > TELEGRAM_MAX_KEYWORDS || chars > TELEGRAM_KEYWORD_CHARS {
            c.fail(
                &file,
                format!(
                    "has {} keywords of {chars} characters; Telegram takes up to {TELEGRAM_MAX_KEYWORDS} of {TELEGRAM_KEYWORD_CHARS} in all",
                    keywords.len()
                ),
                TG_SOURCE,
            );
        }
    }
    if let Some(thumb) = set["thumbnail"].as_str() {
        let bytes = std::fs::read(c.root.join(thumb)).unwrap_or_default();
        match inspect(&bytes) {
            Some(f) if f.width == 100 && f.height == 100 => {
                if f.kind == ImageKind::Webm && bytes.len() > 32 * 1024 {
                    c.fail(
                        thumb,
                        format!(
                            "thumbnail is {} bytes; WEBM thumbnails are limited to 32 KB",
                            bytes.len()
                        ),
                        TG_SOURCE,
                    );
                }
            }
            _ => c.fail(thumb, "thumbnail must be a 100×100 image", TG_SOURCE),
        }
    }
    // The voice clips set.json names, and any other beside them.
    let mut voices: Vec<String> = stickers
        .iter()
        .filter_map(|s| s["voice"].as_str().map(str::to_owned))
        .collect();
    for_each_ogg(c, |_, n| {
        if !voices.iter().any(|v| v == n) {
            voices.push(n.to_owned());
        }
    });
    for v in voices {
        c.sound(&v, &TG_VOICE);
    }
}

fn signal(c: &mut Checker) {
    let Some(m) = c.read_json("manifest.json", SIGNAL_SOURCE) else {
        return;
    };
    let stickers = m["stickers"].as_array().cloned().unwrap_or_default();
    if !(1..=200).contains(&stickers.len()) {
        c.fail(
            "manifest.json",
            format!("has {} stickers; a pack has 1 to 200", stickers.len()),
            SIGNAL_SOURCE,
        );
    }
    for s in &stickers {
        let file = s["file"].as_str().unwrap_or_default().to_string();
        c.image(&file);
        c.emojis(&file, &[s["emoji"].clone()], 1, 1, SIGNAL_SOURCE);
    }
    for_each_ogg(c, |c, n| c.sound(n, &SIGNAL_VOICE));
}

fn discord(c: &mut Checker) {
    let Some(d) = c.read_json("discord.json", DISCORD_SOURCE) else {
        return;
    };
    for s in d["stickers"].as_array().cloned().unwrap_or_default() {
        let file = s["file"].as_str().unwrap_or_default().to_string();
        c.image(&file);
        if !(2..=30).contains(&str_len(&s["name"])) {
            c.fail(
                &file,
                "sticker name must be 2 to 30 characters",
                DISCORD_SOURCE,
            );
        }
        let desc = str_len(&s["description"]);
        if desc != 0 && !(2..=100).contains(&desc) {
            c.fail(
                &file,
                "sticker description must be empty or 2 to 100 characters",
                DISCORD_SOURCE,
            );
        }
        if str_len(&s["tags"]) > 200 {
            c.fail(
                &file,
                "sticker tags are limited to 200 characters",
                DISCORD_SOURCE,
            );
        }
    }
    for s in d["soundboard_sounds"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let file = s["sound"].as_str().unwrap_or_default().to_string();
        c.sound(&file, &DC_SOUND);
        if !(2..=32).contains(&str_len(&s["name"])) {
            c.fail(
                &file,
                "soundboard name must be 2 to 32 characters",
                DISCORD_SOURCE,
            );
        }
        if !s["volume"]
            .as_f64()
            .is_some_and(|v| (0.0..=1.0).contains(&v))
        {
            c.fail(
                &file,
                "soundboard volume must be 0.0 to 1.0",
                DISCORD_SOURCE,
            );
        }
    }
}
