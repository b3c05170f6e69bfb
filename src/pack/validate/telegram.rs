//! Telegram's set rules: `set.json` (name, title, stickers, emojis, keywords), every sticker file, the
//! thumbnail and the voice messages it names.

use super::*;

const TG_VOICE: SoundRule = SoundRule {
    max_bytes: Some(50 * 1024 * 1024),
    max_ms: None,
    vorbis_ok: false,
    mono: false,
    source: "Telegram Bot API sendVoice: Ogg Opus, bots send up to 50 MB",
};

/// Long because Telegram's set rules are a list (name, title, count, per-sticker emojis and
/// keywords), each a `fail` with its source.
pub(super) fn check(c: &mut Checker) {
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
