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
    for (i, s) in stickers.iter().enumerate() {
        let file = s["sticker"].as_str().unwrap_or_default().to_string();
        c.image(&format!("set.json stickers[{i}].sticker"), &file);
        if let Some(still) = s["static_sticker"].as_str() {
            c.image(&format!("set.json stickers[{i}].static_sticker"), still);
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
        thumbnail(c, thumb);
    }
    // The voice clips set.json names, and any other beside them.
    let mut voices: Vec<(String, String)> = stickers
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let v = s["voice"].as_str()?;
            Some((format!("set.json stickers[{i}].voice"), v.to_owned()))
        })
        .collect();
    for_each_ogg(c, |_, n| {
        if !voices.iter().any(|(_, v)| v == n) {
            voices.push((String::new(), n.to_owned()));
        }
    });
    for (by, v) in voices {
        c.sound(&by, &v, &TG_VOICE);
    }
}

/// Check the set's thumbnail: a 100×100 image (a WebM one at most 32 KB), read up to
/// [`MAX_PACK_FILE_BYTES`].
fn thumbnail(c: &mut Checker, thumb: &str) {
    const BY: &str = "set.json thumbnail";
    let wrong = "thumbnail must be a 100×100 image";
    let Some(at) = c.first_look(BY, thumb, "thumbnail", wrong, TG_SOURCE) else {
        return;
    };
    let bytes = match c.pack.read(&at, MAX_PACK_FILE_BYTES) {
        Ok(bytes) => bytes,
        Err(Refusal::TooBig { bytes }) => {
            let size = bytes.map_or_else(|| "over".into(), |n| n.to_string());
            c.fail(
                thumb,
                format!(
                    "thumbnail is {size} bytes; a pack's file is read up to {MAX_PACK_FILE_BYTES} bytes (MAX_PACK_FILE_BYTES), so it is not read"
                ),
                TG_SOURCE,
            );
            return;
        }
        Err(why) => {
            c.refused(BY, thumb, why, wrong, TG_SOURCE);
            return;
        }
    };
    match inspect(&bytes) {
        Ok(f) if f.width == 100 && f.height == 100 => {
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
        Err(Unfit::Refused(why)) => c.fail(thumb, format!("thumbnail {why}"), TG_SOURCE),
        _ => c.fail(thumb, wrong, TG_SOURCE),
    }
}
