//! Discord's rules: `discord.json`'s stickers (names, descriptions, tags) and soundboard sounds.

use super::*;

const DC_SOUND: SoundRule = SoundRule {
    max_bytes: Some(512_000),
    max_ms: Some(5_200),
    vorbis_ok: true,
    mono: false,
    source: DISCORD_SOURCE,
};

pub(super) fn check(c: &mut Checker) {
    let Some(d) = c.read_json("discord.json", DISCORD_SOURCE) else {
        return;
    };
    let stickers = d["stickers"].as_array().cloned().unwrap_or_default();
    for (i, s) in stickers.iter().enumerate() {
        let file = s["file"].as_str().unwrap_or_default().to_string();
        c.image(&format!("discord.json stickers[{i}].file"), &file);
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
    let sounds = d["soundboard_sounds"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, s) in sounds.iter().enumerate() {
        let file = s["sound"].as_str().unwrap_or_default().to_string();
        c.sound(
            &format!("discord.json soundboard_sounds[{i}].sound"),
            &file,
            &DC_SOUND,
        );
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
