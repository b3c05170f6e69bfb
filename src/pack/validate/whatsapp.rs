//! WhatsApp's pack rules: `contents.json` as WhatsApp's own parser reads it (or a third-party
//! `.wastickers` layout), the tray icon, every sticker image, and the voice notes.

use super::*;

const WA_VOICE: SoundRule = SoundRule {
    max_bytes: Some(16 * 1024 * 1024),
    max_ms: None,
    vorbis_ok: false,
    mono: true,
    source: "WhatsApp voice notes: mono Ogg Opus, at most 16 MB (platforms.md)",
};

/// Long because WhatsApp's own validator is a list of rules (counts, lengths, identifiers, links,
/// flags), each a `fail` with its source, for both layouts; the contents' JSON shape and the tray have
/// their own functions.
pub(super) fn check(c: &mut Checker) {
    if c.pack.locate("contents.json") == Err(Refusal::Missing) {
        // A third-party .wastickers archive: stickers, tray.png, title.txt, author.txt.
        for f in ["title.txt", "author.txt"] {
            if let Err(why) = c.pack.locate(f) {
                c.refused(
                    "",
                    f,
                    why,
                    "is missing: a WhatsApp pack needs contents.json (the sample apps' layout) or title.txt and author.txt (a .wastickers archive)",
                    "third-party .wastickers layout",
                );
            }
        }
        tray(c, "", "tray.png");
        let names = c.pack.list(".webp");
        if !(3..=30).contains(&names.len()) {
            c.fail(
                ".",
                format!("holds {} stickers; a pack has 3 to 30", names.len()),
                WA_SOURCE,
            );
        }
        for n in names {
            c.image("", &n);
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
        tray(
            c,
            &format!("{at}.tray_image_file"),
            pack["tray_image_file"].as_str().unwrap_or("tray.png"),
        );
        let stickers = pack["stickers"].as_array().cloned().unwrap_or_default();
        if !(3..=30).contains(&stickers.len()) {
            c.fail(
                &at,
                format!("has {} stickers; a pack has 3 to 30", stickers.len()),
                WA_SOURCE,
            );
        }
        let animated_pack = pack["animated_sticker_pack"].as_bool().unwrap_or(false);
        for (j, s) in stickers.iter().enumerate() {
            let file = s["image_file"].as_str().unwrap_or_default().to_string();
            let facts = c.image(&format!("{at}.stickers[{j}].image_file"), &file);
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
    for_each_ogg(c, |c, n| c.sound("", n, &WA_VOICE));
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

/// The tray icon's platform cap, bytes.
const TRAY_BYTES: u64 = 50_000;

/// Check the tray icon `name` (given by the JSON field `by`): a still 96×96 PNG of at most 50 000
/// bytes, read up to [`read_cap`] of that.
fn tray(c: &mut Checker, by: &str, name: &str) {
    let Some(at) = c.first_look(by, name, "tray", "tray icon is missing", WA_SOURCE) else {
        return;
    };
    let bytes = match c.pack.read(&at, read_cap(TRAY_BYTES)) {
        Ok(bytes) => bytes,
        Err(Refusal::TooBig { bytes }) => {
            let size = bytes.map_or_else(|| "over".into(), |n| n.to_string());
            c.fail(
                name,
                format!(
                    "tray icon is {size} bytes; the limit is 50 000 (over {OVER_CAP_FACTOR}× the limit, it is not read: OVER_CAP_FACTOR)"
                ),
                WA_SOURCE,
            );
            return;
        }
        Err(why) => {
            c.refused(by, name, why, "tray icon is missing", WA_SOURCE);
            return;
        }
    };
    c.files += 1;
    match inspect(&bytes) {
        Ok(f) if f.kind == ImageKind::Png && f.width == 96 && f.height == 96 && f.frames == 1 => {}
        Err(Unfit::Refused(why)) => c.fail(name, format!("tray icon {why}"), WA_SOURCE),
        _ => c.fail(name, "tray icon must be a still 96×96 PNG", WA_SOURCE),
    }
    if bytes.len() as u64 > TRAY_BYTES {
        c.fail(
            name,
            format!("tray icon is {} bytes; the limit is 50 000", bytes.len()),
            WA_SOURCE,
        );
    }
}
