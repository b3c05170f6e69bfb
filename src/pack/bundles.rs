//! The metadata each platform's pack folder carries, built from the manifest and what was rendered:
//! WhatsApp's `contents.json` (the sample apps' format), Telegram's set description for
//! createNewStickerSet, Signal's and Discord's listings, and our canonical `manifest.json`.

use super::manifest::Manifest;
use crate::platform::{Platform, WHATSAPP_PACK_MAX};
use serde_json::{Value, json};

/// One rendered sticker as the bundles see it.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub id: String,
    pub image_file: String,
    pub sound_file: String,
    pub emojis: Vec<String>,
    pub title: String,
    pub alt: Option<String>,
    pub keywords: Vec<String>,
    pub animated: bool,
    /// A still WebP beside the animation (Telegram's static fallback), relative to the folder.
    pub static_file: Option<String>,
}

/// How a WhatsApp pack of `n` stickers is split: as few packs as the 30-sticker limit allows, of
/// near-equal size (so 31 stickers become 16 + 15, not 30 + an invalid 1).
pub fn whatsapp_chunks<T>(stickers: &[T]) -> Vec<&[T]> {
    let n = stickers.len();
    let packs = n.div_ceil(WHATSAPP_PACK_MAX).max(1);
    let (base, extra) = (n / packs, n % packs);
    let mut out = Vec::with_capacity(packs);
    let mut at = 0;
    for i in 0..packs {
        let len = base + usize::from(i < extra);
        out.push(&stickers[at..at + len]);
        at += len;
    }
    out
}

/// The identifier of split pack `i` (0-based): the manifest's, then `_2`, `_3`, ...
pub fn whatsapp_identifier(m: &Manifest, i: usize) -> String {
    if i == 0 {
        m.identifier.clone()
    } else {
        format!("{}_{}", m.identifier, i + 1)
    }
}

/// `contents.json` as WhatsApp's sample apps read it (Android's parser rejects unknown keys).
pub fn whatsapp_contents(m: &Manifest, stickers: &[Rendered]) -> Value {
    let packs: Vec<Value> = whatsapp_chunks(stickers)
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let suffix = if i == 0 {
                String::new()
            } else {
                format!(" {}", i + 1)
            };
            json!({
                "identifier": whatsapp_identifier(m, i),
                "name": format!("{}{suffix}", m.name),
                "publisher": m.publisher,
                "tray_image_file": "tray.png",
                "image_data_version": "1",
                "avoid_cache": false,
                "publisher_email": m.email.clone().unwrap_or_default(),
                "publisher_website": m.website.clone().unwrap_or_default(),
                "privacy_policy_website": "",
                "license_agreement_website": "",
                "animated_sticker_pack": chunk.iter().all(|s| s.animated),
                "stickers": chunk.iter().map(|s| json!({
                    "image_file": s.image_file,
                    "emojis": s.emojis,
                    "accessibility_text": s.alt.clone().unwrap_or_else(|| s.title.clone()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "android_play_store_link": "", "ios_app_store_link": "", "sticker_packs": packs })
}

/// Telegram: the arguments of createNewStickerSet (name must end in `_by_<bot>`).
pub fn telegram_set(m: &Manifest, stickers: &[Rendered]) -> Value {
    let bot = m.telegram.as_ref().map_or("", |t| t.bot_username.as_str());
    let mut base: String = m
        .identifier
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    while base.contains("__") {
        base = base.replace("__", "_");
    }
    let base = base.trim_matches('_');
    let base = if base.starts_with(|c: char| c.is_ascii_alphabetic()) {
        base.to_string()
    } else {
        format!("s{base}")
    };
    let suffix = format!("_by_{bot}");
    let keep = 64usize.saturating_sub(suffix.len());
    // Cut to fit 64 characters, never leaving an `_` before the suffix's (`__` is not allowed).
    let cut = base[..base.len().min(keep)].trim_end_matches('_');
    let name = format!("{cut}{suffix}");
    json!({
        "name": name,
        "title": m.name.chars().take(64).collect::<String>(),
        "sticker_type": "regular",
        "stickers": stickers.iter().map(|s| {
            let mut v = json!({
                "sticker": s.image_file,
                "format": "video",
                "emoji_list": s.emojis,
                "keywords": s.keywords,
                "voice": s.sound_file,
            });
            if let Some(f) = &s.static_file {
                v["static_sticker"] = json!(f);
            }
            v
        }).collect::<Vec<_>>(),
        "thumbnail": "thumb.webm",
    })
}

/// Signal: title, author, cover and one emoji per sticker.
pub fn signal_manifest(m: &Manifest, stickers: &[Rendered]) -> Value {
    json!({
        "title": m.name,
        "author": m.publisher,
        "cover": stickers.first().map(|s| s.image_file.clone()),
        "stickers": stickers.iter().map(|s| json!({
            "file": s.image_file,
            "emoji": s.emojis.first(),
            "sound": s.sound_file,
        })).collect::<Vec<_>>(),
    })
}

fn discord_name(title: &str, id: &str, max: usize) -> String {
    let t: String = title.chars().take(max).collect();
    if t.chars().count() >= 2 {
        t
    } else {
        id.chars().take(max).collect()
    }
}

/// Discord sticker descriptions are empty or 2–100 characters: longer accessibility text is cut at a
/// word boundary with an ellipsis, a single character is dropped.
fn discord_description(alt: Option<&str>) -> String {
    let alt = alt.unwrap_or_default().trim();
    let n = alt.chars().count();
    if n < 2 {
        return String::new();
    }
    if n <= 100 {
        return alt.to_string();
    }
    let head: String = alt.chars().take(99).collect();
    let cut = head.rfind(' ').filter(|&i| i >= 50).unwrap_or(head.len());
    format!("{}…", head[..cut].trim_end())
}

/// Discord: stickers and soundboard sounds as the API takes them.
pub fn discord_listing(stickers: &[Rendered]) -> Value {
    json!({
        "stickers": stickers.iter().map(|s| json!({
            "name": discord_name(&s.title, &s.id, 30),
            "description": discord_description(s.alt.as_deref()),
            "tags": s.emojis.first().cloned().unwrap_or_default(),
            "file": s.image_file,
        })).collect::<Vec<_>>(),
        "soundboard_sounds": stickers.iter().map(|s| json!({
            "name": discord_name(&s.title, &s.id, 32),
            "sound": s.sound_file,
            "volume": 1.0,
            "emoji_name": s.emojis.first(),
        })).collect::<Vec<_>>(),
    })
}

/// Our canonical pack: the manifest's pack fields and each sticker's files and figures.
pub fn canonical(m: &Manifest, stickers: &[Rendered], platforms: &[Platform]) -> Value {
    json!({
        "format": "soundsticker-pack/1",
        "name": m.name,
        "identifier": m.identifier,
        "publisher": m.publisher,
        "description": m.description,
        "license": m.license,
        "copyright": m.copyright,
        "platforms": platforms,
        "stickers": stickers.iter().map(|s| json!({
            "id": s.id,
            "title": s.title,
            "emojis": s.emojis,
            "keywords": s.keywords,
            "image": s.image_file,
            "sound": s.sound_file,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sticker(i: usize) -> Rendered {
        Rendered {
            id: format!("s{i}"),
            image_file: format!("s{i}.webp"),
            sound_file: format!("s{i}.ogg"),
            emojis: vec!["🎵".into()],
            title: format!("Sticker {i}"),
            alt: None,
            keywords: vec![],
            animated: true,
            static_file: None,
        }
    }

    #[test]
    fn discord_descriptions_fit_two_to_a_hundred_characters() {
        assert_eq!(discord_description(None), "");
        assert_eq!(discord_description(Some("x")), "");
        assert_eq!(discord_description(Some("A drum fill")), "A drum fill");
        let long = "word ".repeat(40);
        let d = discord_description(Some(&long));
        assert!(d.chars().count() <= 100 && d.ends_with("word…"), "{d}");
    }

    fn manifest() -> Manifest {
        serde_json::from_str(
            r#"{"name":"Pack","identifier":"my pack","publisher":"Label","cover":"c.png","platforms":["whatsapp"],
                "telegram":{"bot_username":"label_bot"},"stickers":[]}"#,
        )
        .expect("manifest")
    }

    #[test]
    fn whatsapp_splits_packs_of_thirty_with_the_sample_app_fields() {
        let stickers: Vec<Rendered> = (0..31).map(sticker).collect();
        let v = whatsapp_contents(&manifest(), &stickers);
        let packs = v["sticker_packs"].as_array().expect("packs");
        assert_eq!(packs.len(), 2);
        assert_eq!(packs[0]["stickers"].as_array().expect("s").len(), 16);
        assert_eq!(packs[1]["stickers"].as_array().expect("s").len(), 15);
        let sizes = |n: usize| -> Vec<usize> {
            whatsapp_chunks(&vec![0; n])
                .iter()
                .map(|c| c.len())
                .collect()
        };
        assert_eq!(sizes(3), [3]);
        assert_eq!(sizes(30), [30]);
        assert_eq!(sizes(61), [21, 20, 20]);
        assert_eq!(packs[1]["identifier"], "my pack_2");
        let keys: Vec<&String> = packs[0].as_object().expect("obj").keys().collect();
        for k in [
            "identifier",
            "name",
            "publisher",
            "tray_image_file",
            "image_data_version",
            "avoid_cache",
            "animated_sticker_pack",
            "stickers",
        ] {
            assert!(keys.iter().any(|x| *x == k), "missing {k}");
        }
    }

    #[test]
    fn telegram_set_names_follow_the_bot_api_rules() {
        let v = telegram_set(&manifest(), &[sticker(1)]);
        let name = v["name"].as_str().expect("name");
        assert_eq!(name, "my_pack_by_label_bot");
        assert!(name.len() <= 64 && !name.contains("__"));
        // A long identifier cut where an `_` falls just before the suffix.
        let mut m = manifest();
        m.identifier =
            "a-very-long identifier, with 'quotes' and spaces and more text to exceed the limits ok"
                .into();
        m.telegram = Some(crate::pack::manifest::TelegramSettings {
            bot_username: "My_Sticker_Bot".into(),
            static_fallback: false,
        });
        let v = telegram_set(&m, &[sticker(1)]);
        let name = v["name"].as_str().expect("name");
        assert!(name.len() <= 64 && !name.contains("__"), "{name}");
        assert!(name.ends_with("_spaces_by_My_Sticker_Bot"), "{name}");
    }
}
