//! Signal's pack rules: `manifest.json`, every sticker image and its emoji, and the voice notes.

use super::*;

/// Signal publishes no sound rules: its voice messages are Ogg Opus, as ours are.
const SIGNAL_VOICE: SoundRule = SoundRule {
    max_bytes: None,
    max_ms: None,
    vorbis_ok: false,
    mono: false,
    source: "Signal voice messages (Ogg Opus)",
};

pub(super) fn check(c: &mut Checker) {
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
    for (i, s) in stickers.iter().enumerate() {
        let file = s["file"].as_str().unwrap_or_default().to_string();
        c.image(&format!("manifest.json stickers[{i}].file"), &file);
        c.emojis(&file, &[s["emoji"].clone()], 1, 1, SIGNAL_SOURCE);
    }
    for_each_ogg(c, |c, n| c.sound("", n, &SIGNAL_VOICE));
}
