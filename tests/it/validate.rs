//! `soundsticker validate`: a hand-made WhatsApp pack passes; each broken rule is reported with the
//! file and the rule's source, with exit status 1; archives are read too.

use crate::util::*;
use std::path::{Path, PathBuf};

/// `soundsticker cover` of the demo cover as a still image.
fn still(out: &Path) -> Cmd {
    cover(&demo("cover.png"), out).style("still")
}

/// A valid static WhatsApp pack of three stickers, made with our own `cover` command.
fn make_pack(dir: &Path) {
    for id in ["a", "b", "c"] {
        still(&dir.join(format!("{id}.webp")))
            .platform("whatsapp")
            .run_ok();
    }
    still(&dir.join("tray.png"))
        .size(96)
        .opt("--format", "png")
        .opt("--max-bytes", 50_000)
        .run_ok();
    write_contents(dir, "pack_id", &["a", "b", "c"], "🎵");
}

fn write_contents(dir: &Path, identifier: &str, ids: &[&str], emoji: &str) {
    let stickers: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| serde_json::json!({ "image_file": format!("{id}.webp"), "emojis": [emoji], "accessibility_text": "x" }))
        .collect();
    let contents = serde_json::json!({
        "android_play_store_link": "", "ios_app_store_link": "",
        "sticker_packs": [{
            "identifier": identifier, "name": "Pack", "publisher": "Label", "tray_image_file": "tray.png",
            "image_data_version": "1", "avoid_cache": false, "publisher_email": "", "publisher_website": "",
            "privacy_policy_website": "", "license_agreement_website": "", "animated_sticker_pack": false,
            "stickers": stickers
        }]
    });
    std::fs::write(
        dir.join("contents.json"),
        serde_json::to_vec_pretty(&contents).expect("json"),
    )
    .expect("write");
}

fn validate(dir: &Path) -> (i32, serde_json::Value) {
    validate_for(dir, "whatsapp")
}

/// `validate --json DIR --platform PLATFORM`: exit status and report.
fn validate_for(dir: &Path, platform: &str) -> (i32, serde_json::Value) {
    let out = run(&["--json", "validate", p(dir), "--platform", platform]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    (out.status.code().unwrap_or(-1), v)
}

/// Write a Telegram `set.json` with one sticker (`fields` added to its sticker file and emoji) and
/// validate `dir` for Telegram: exit status and violations.
fn validate_telegram_set(dir: &Path, fields: serde_json::Value) -> (i32, String) {
    let mut sticker = serde_json::json!({ "sticker": "a.webp", "emoji_list": ["🎵"] });
    for (k, v) in fields.as_object().into_iter().flatten() {
        sticker[k] = v.clone();
    }
    let set =
        serde_json::json!({ "name": "pack_by_label_bot", "title": "Pack", "stickers": [sticker] });
    std::fs::write(dir.join("set.json"), set.to_string()).expect("set.json");
    let (code, v) = validate_for(dir, "telegram");
    (code, rules(&v))
}

fn rules(v: &serde_json::Value) -> String {
    v["violations"].to_string()
}

/// `zip -qj ARCHIVE` of `files` in `dir` (stored without the folder).
fn zip(archive: &Path, dir: &Path, files: &[&str]) {
    let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    let mut args = vec!["-qj", p(archive)];
    args.extend(paths.iter().map(|f| p(f)));
    tool("zip", &args);
}

#[test]
fn a_valid_pack_passes_and_every_broken_rule_is_named() {
    let dir = tempdir();
    let d = dir.path();
    make_pack(d);
    let (code, v) = validate(d);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["violations"].as_array().expect("list").len(), 0);

    // Two stickers, a non-emoji and a bad identifier.
    write_contents(d, "bad..id", &["a", "b"], "x");
    let (code, v) = validate(d);
    assert_eq!(code, 1);
    let r = rules(&v);
    assert!(r.contains("has 2 stickers; a pack has 3 to 30"), "{r}");
    assert!(r.contains("is not an emoji"), "{r}");
    assert!(r.contains("identifier may hold only"), "{r}");
    assert!(
        r.contains("StickerPackValidator.java"),
        "names the rule's source: {r}"
    );

    // A 256 px sticker, an oversized static sticker and a wrong tray.
    write_contents(d, "pack_id", &["a", "b", "c"], "🎵");
    still(&d.join("b.webp")).size(256).run_ok();
    let mut seed = 7u32;
    let noise = image::RgbaImage::from_fn(512, 512, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgba([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8, 255])
    });
    let noise_png = d.join("noise.png");
    noise.save(&noise_png).expect("png");
    cover(&noise_png, &d.join("c.webp"))
        .style("still")
        .size(512)
        .args(&["--lossless", "--shape", "square"])
        .run_ok();
    still(&d.join("tray.png"))
        .size(100)
        .opt("--format", "png")
        .run_ok();
    let (code, v) = validate(d);
    assert_eq!(code, 1);
    let r = rules(&v);
    assert!(r.contains("b.webp") && r.contains("is 256×256"), "{r}");
    assert!(
        r.contains("c.webp") && r.contains("the limit is 100000"),
        "{r}"
    );
    assert!(r.contains("tray icon must be a still 96×96 PNG"), "{r}");
}

/// Links, e-mail and store hosts as WhatsApp's StickerPackValidator checks them; Telegram's keywords.
#[test]
fn links_e_mail_and_keywords_are_checked() {
    let dir = tempdir();
    let d = dir.path();
    make_pack(d);
    let contents = d.join("contents.json");
    edit_json(&contents, |v| {
        v["android_play_store_link"] = "https://play.google.com/store/apps/details?id=x".into();
        v["ios_app_store_link"] = "https://itunes.apple.com/app/id1".into();
        let pack = &mut v["sticker_packs"][0];
        pack["publisher_website"] = "https://label.example".into();
        pack["privacy_policy_website"] = "http://label.example/privacy".into();
        pack["publisher_email"] = "press@label.example".into();
    });
    let (code, v) = validate(d);
    assert_eq!(code, 0, "{v}");
    edit_json(&contents, |v| {
        v["android_play_store_link"] = "https://play.google.com.example/x".into();
        v["ios_app_store_link"] = "itunes.apple.com/app/id1".into();
        let pack = &mut v["sticker_packs"][0];
        pack["publisher_website"] = "www.label.example".into();
        pack["license_agreement_website"] = "ftp://label.example/licence".into();
        pack["publisher_email"] = "press at label.example".into();
    });
    let (code, v) = validate(d);
    assert_eq!(code, 1);
    let r = rules(&v);
    for says in [
        "android_play_store_link `https://play.google.com.example/x` must be an http(s) link on play.google.com",
        "ios_app_store_link `itunes.apple.com/app/id1` must be an http(s) link on itunes.apple.com",
        "publisher_website `www.label.example` must be an http",
        "license_agreement_website `ftp://label.example/licence` must be an http",
        "publisher_email `press at label.example` is not an e-mail address",
    ] {
        assert!(r.contains(says), "{says}: {r}");
    }
    assert_eq!(v["violations"].as_array().map(Vec::len), Some(5), "{r}");

    // Telegram: 21 keywords, and 65 characters in 2.
    let set = |keywords: serde_json::Value| {
        validate_telegram_set(d, serde_json::json!({ "keywords": keywords }))
    };
    let (code, r) = set(serde_json::json!(["drums", "intro"]));
    assert_eq!(code, 0, "{r}");
    let (code, r) = set(serde_json::json!(vec!["k"; 21]));
    assert_eq!(code, 1);
    assert!(r.contains("has 21 keywords of 21 characters"), "{r}");
    let (code, r) = set(serde_json::json!(["k".repeat(40), "k".repeat(25)]));
    assert_eq!(code, 1);
    assert!(r.contains("has 2 keywords of 65 characters"), "{r}");
}

/// contents.json as WhatsApp's parser reads it (unknown fields, types), and sound files on every
/// platform: a stereo WhatsApp voice note, a Telegram voice clip set.json names but the folder lacks, a
/// Signal voice file that is not audio.
#[test]
fn metadata_shapes_and_sounds_are_checked() {
    let dir = tempdir();
    let d = dir.path();
    make_pack(d);
    let wav = d.join("clip.wav");
    music_wav(&wav, 48_000, 2, 1.0, 0.3);
    ffmpeg_convert(&wav, &d.join("a.ogg"), &["-c:a", "libopus"]);
    edit_json(&d.join("contents.json"), |v| {
        v["extra"] = "x".into();
        v["sticker_packs"][0]["avoid_cache"] = "false".into();
        v["sticker_packs"][0]["stickers"][1]["tags"] = "x".into();
    });
    let (code, v) = validate(d);
    assert_eq!(code, 1);
    let r = rules(&v);
    for says in [
        "unknown field `extra`",
        "`avoid_cache` must be true or false",
        "stickers[1]\",\"rule\":\"unknown field `tags`",
        "a.ogg\",\"rule\":\"has 2 channels; a voice note is mono",
    ] {
        assert!(r.contains(says), "{says}: {r}");
    }
    assert!(r.contains("ContentFileParser.java"), "{r}");
    assert_eq!(v["violations"].as_array().map(Vec::len), Some(4), "{r}");

    let (_, r) = validate_telegram_set(d, serde_json::json!({ "voice": "gone.ogg" }));
    assert!(
        r.contains("gone.ogg") && r.contains("is not playable audio"),
        "{r}"
    );

    std::fs::write(
        d.join("manifest.json"),
        r#"{"title": "P", "author": "L", "stickers": []}"#,
    )
    .expect("manifest");
    std::fs::write(d.join("a.ogg"), "not audio").expect("garbage");
    let r = rules(&validate_for(d, "signal").1);
    assert!(
        r.contains("a.ogg") && r.contains("is not playable audio"),
        "{r}"
    );
}

/// A Telegram video sticker made by ffmpeg (its Segment and Void elements have 8-byte sizes) is read
/// like ours: a valid one passes, and one too long and with audio is reported for that.
#[test]
fn other_tools_webm_stickers_are_read() {
    let dir = tempdir();
    let d = dir.path();
    let make = |name: &str, seconds: &str, audio: bool| {
        let mut args = vec!["-f", "lavfi", "-i", "testsrc2=s=512x512:r=30"];
        if audio {
            args.extend(["-f", "lavfi", "-i", "sine=f=440"]);
        }
        args.extend([
            "-t",
            seconds,
            "-c:v",
            "libvpx-vp9",
            "-pix_fmt",
            "yuv420p",
            "-b:v",
            "300k",
        ]);
        if audio {
            args.extend(["-c:a", "libopus"]);
        }
        let out = d.join(name);
        args.push(p(&out));
        ffmpeg(&args);
    };
    make("a.webm", "2", false);
    let set = |file: &str| validate_telegram_set(d, serde_json::json!({ "sticker": file }));
    let (code, r) = set("a.webm");
    assert_eq!(code, 0, "{r}");
    make("b.webm", "4", true);
    let (code, r) = set("b.webm");
    assert_eq!(code, 1);
    assert!(
        r.contains("has an audio track") && r.contains("lasts 40"),
        "{r}"
    );
    assert!(
        !r.contains("runs at"),
        "audio blocks are not video frames: {r}"
    );
}

#[test]
fn archives_are_validated_too() {
    let dir = tempdir();
    let d = dir.path();
    let pack = d.join("pack");
    std::fs::create_dir(&pack).expect("dir");
    make_pack(&pack);
    std::fs::remove_file(pack.join("contents.json")).expect("rm");
    std::fs::write(pack.join("title.txt"), "Pack").expect("title");
    std::fs::write(pack.join("author.txt"), "Label").expect("author");
    let archive = d.join("pack.wastickers");
    zip(
        &archive,
        &pack,
        &[
            "a.webp",
            "b.webp",
            "c.webp",
            "tray.png",
            "title.txt",
            "author.txt",
        ],
    );
    let out = run(&["validate", p(&archive), "--platform", "whatsapp"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::remove_file(pack.join("title.txt")).expect("rm");
    let broken = d.join("broken.wastickers");
    zip(&broken, &pack, &["a.webp", "tray.png"]);
    let out = run(&["validate", p(&broken), "--platform", "whatsapp"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("title.txt") && err.contains("holds 1 stickers"),
        "{err}"
    );
}

#[test]
fn signal_rejects_palette_apngs() {
    let dir = tempdir();
    let d = dir.path();
    let audio = d.join("clip.wav");
    music_wav(&audio, 48_000, 2, 2.0, 0.4);
    std::fs::write(
        d.join("manifest.json"),
        r#"{"title": "Pack", "author": "Label", "stickers": [{"file": "a.png", "emoji": "🎵"}]}"#,
    )
    .expect("manifest");
    for colours in ["truecolour", "palette"] {
        cover(&demo("cover.png"), &d.join("a.png"))
            .audio(&audio)
            .platform("signal")
            .opt("--apng", colours)
            .run_ok();
        let (code, v) = validate_for(d, "signal");
        let r = rules(&v);
        if colours == "truecolour" {
            assert_eq!(code, 0, "{r}");
        } else {
            assert_eq!(code, 1, "{r}");
            assert!(r.contains("a.png") && r.contains("palette"), "{r}");
        }
    }
}
