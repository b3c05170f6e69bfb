//! One hard sticker must not sink the pack: covers no codec can squeeze (uniform noise, a busy
//! high-contrast pattern) go down the fitter's fallback ladder and fit every platform, and a sticker
//! that cannot fit even as a still fails alone, named, while the others are built and cached.

use crate::build::{assert_same_tree, tree_bytes};
use crate::util::*;
use std::path::Path;

/// Every platform's byte cap for animated stickers (platforms.md), and the image extension.
const CAPS: [(&str, &str, u64); 4] = [
    ("whatsapp", "webp", 500_000),
    ("telegram", "webm", 256 * 1024),
    ("signal", "png", 300 * 1024),
    ("discord", "png", 512 * 1024),
];

/// A 640×640 PNG of `pixel(x, y)`.
fn write_png(path: &Path, pixel: impl Fn(u32, u32) -> [u8; 3]) {
    let img = image::RgbImage::from_fn(640, 640, |x, y| image::Rgb(pixel(x, y)));
    img.save(path).expect("write png");
}

/// Uniform random RGB noise from a seeded xorshift: the worst case for every codec.
fn noise_png(path: &Path, seed: u32) {
    let state = std::cell::Cell::new(seed);
    let next = || {
        let mut s = state.get();
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        state.set(s);
        s
    };
    write_png(path, |_, _| {
        let v = next().to_le_bytes();
        [v[0], v[1], v[2]]
    });
}

#[test]
fn noise_and_busy_covers_pulse_under_every_cap_down_the_ladder() {
    let dir = tempdir();
    let d = dir.path();
    music_wav(&d.join("master.wav"), 44_100, 2, 6.0, 0.5);
    noise_png(&d.join("noise.png"), 0x9e37_79b9);
    // Two-pixel checks of saturated colours, crossed by fine diagonal stripes.
    write_png(&d.join("busy.png"), |x, y| {
        if (x / 2 + y / 2) % 2 == 0 {
            [255, ((x + y) % 3 * 120) as u8, 0]
        } else {
            [0, 40, if (x + 2 * y) % 5 < 2 { 255 } else { 0 }]
        }
    });
    noise_png(&d.join("noise2.png"), 0x0bad_cafe);
    let manifest = d.join("pack.json");
    std::fs::write(
        &manifest,
        r#"{
      "name": "Hard Art", "identifier": "hard_art", "publisher": "Test Label",
      "cover": "busy.png", "platforms": ["whatsapp", "telegram", "signal", "discord"],
      "telegram": { "bot_username": "hard_art_bot" },
      "defaults": { "style": "pulse" },
      "stickers": [
        { "id": "noise", "master": "master.wav", "start": "0.5", "duration": "4.5", "cover": "noise.png", "emojis": ["🎵"] },
        { "id": "busy", "master": "master.wav", "start": "1", "duration": "5", "emojis": ["🔥"] },
        { "id": "noise2", "master": "master.wav", "start": "0", "duration": "4", "cover": "noise2.png", "emojis": ["👋"] }
      ]
    }"#,
    )
    .expect("manifest");
    let out = d.join("dist");
    let report = run_json(&["build", p(&manifest), "--out", p(&out), "--no-cache"]);

    // Every image under its platform's cap, as the file system counts it; WhatsApp's stay animated
    // (webpmux counts their frames), since a pack is all animated or all still.
    for (platform, ext, cap) in CAPS {
        for id in ["noise", "busy", "noise2"] {
            let file = out.join(platform).join(format!("{id}.{ext}"));
            let bytes = std::fs::metadata(&file).expect("sticker").len();
            assert!(bytes <= cap, "{}: {bytes} > {cap}", file.display());
            if ext == "webp" {
                let info = tool_stdout("webpmux", &["-info", p(&file)]);
                let frames: usize = ffprobe_field(&info.replace(": ", "="), "Number of frames")
                    .and_then(|n| n.trim().parse().ok())
                    .unwrap_or(1);
                assert!(frames > 1, "{} is not animated:\n{info}", file.display());
            }
        }
    }

    // The ladder was needed, and every step taken is named in the report and in the preview.
    let preview = std::fs::read_to_string(out.join("preview.html")).expect("preview");
    let mut fallbacks = 0;
    for sticker in report["stickers"].as_array().expect("stickers") {
        let warnings: Vec<&str> = sticker["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .filter_map(|w| w.as_str())
            .collect();
        for o in sticker["outputs"].as_array().expect("outputs") {
            let Some(steps) = o["fallback"].as_array() else {
                continue;
            };
            fallbacks += 1;
            let target = o["target"].as_str().expect("target");
            let said = warnings
                .iter()
                .find(|w| w.starts_with(&format!("{target}: to fit")))
                .unwrap_or_else(|| panic!("{target}: no warning names the fallback: {warnings:?}"));
            for step in steps {
                let word = match step["step"].as_str().expect("step") {
                    "smooth" => "smoothed",
                    "hold" => "held",
                    "calm" => "calmer motion",
                    "style" => "calmer style",
                    "still" => "still",
                    other => panic!("unknown step {other}"),
                };
                assert!(said.contains(word), "{said} does not name {step}");
            }
            assert!(
                preview.contains(&said.replace('&', "&amp;").replace('\'', "&#39;")),
                "the preview does not show: {said}"
            );
            let ssim = o["ssim"].as_f64().expect("ssim");
            assert!(ssim > 0.0 && ssim < 1.0, "{ssim}");
        }
    }
    assert!(
        fallbacks > 0,
        "no sticker needed the ladder: the covers are too easy"
    );
}

#[test]
fn one_impossible_sticker_fails_alone_and_keep_going_leaves_it_out() {
    let dir = tempdir();
    let d = dir.path();
    music_wav(&d.join("m.wav"), 44_100, 2, 6.0, 0.4);
    std::fs::copy(demo("cover.png"), d.join("cover.png")).expect("cover");
    let manifest = d.join("pack.json");
    std::fs::write(
        &manifest,
        r#"{
      "name": "One Bad", "identifier": "one_bad", "publisher": "Test Label",
      "cover": "cover.png", "platforms": ["whatsapp", "discord"],
      "defaults": { "fps": 10, "style": "wave" },
      "stickers": [
        { "id": "one", "master": "m.wav", "start": "0.5", "duration": "1.5", "emojis": ["🎵"] },
        { "id": "two", "master": "m.wav", "start": "2",
          "duration": "1.5", "emojis": ["🔥"] },
        { "id": "three", "master": "m.wav", "start": "0", "duration": "2", "emojis": ["👋"] },
        { "id": "four", "master": "m.wav", "start": "3", "duration": "1.5", "emojis": ["🎸"] }
      ]
    }"#,
    )
    .expect("manifest");
    let out = d.join("dist");
    let cache = d.join("cache");
    run_ok(&["build", p(&manifest), "--out", p(&out), "--no-cache"]);
    let before = tree_bytes(&out);

    // A cap no still of sticker two fits on Discord (the test-only override): exit 1, the failure
    // names the sticker, its pointer and place, the platform, the file and what was tried.
    let impossible_for = |caps: &str, extra: &[&str]| {
        let mut args = vec!["--json", "build", p(&manifest), "--out", p(&out)];
        args.extend_from_slice(&["--cache", p(&cache)]);
        args.extend_from_slice(extra);
        bin()
            .args(&args)
            .env("CI", "true")
            .env("SOUNDSTICKER_TEST_IMAGE_CAP", caps)
            .output()
            .expect("run")
    };
    let impossible = |extra: &[&str]| impossible_for("two:discord:900", extra);
    let failed = impossible(&[]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let err = stderr(&failed);
    for said in ["/stickers/1", "`two`", "discord", "900 bytes", "still"] {
        assert!(err.contains(said), "{said} missing from: {err}");
    }
    let json: serde_json::Value = serde_json::from_slice(&failed.stdout).expect("json");
    let failures = json["error"]["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 1, "{failures:?}");
    let f = &failures[0];
    assert_eq!(
        (&f["id"], &f["target"], &f["pointer"]),
        (&"two".into(), &"discord".into(), &"/stickers/1".into())
    );
    // The sticker's object starts on line 7 of the manifest, column 9.
    assert_eq!(f["line_column"], serde_json::json!([7, 9]));
    assert_eq!(f["cap"], 900);
    assert!(f["best_bytes"].as_u64().expect("best") > 900);
    assert!(f["tried"].as_array().expect("tried").len() >= 3, "{f}");
    assert!(
        f["file"]
            .as_str()
            .expect("file")
            .ends_with("dist/discord/two.png")
    );
    // The previous output is untouched.
    assert_same_tree(&before, &out);

    // With --keep-going the packs are written without it: every other file comes from the cache the
    // failed build filled, and the status still says something is missing.
    let kept = impossible(&["--keep-going"]);
    assert_eq!(kept.status.code(), Some(1), "{}", stderr(&kept));
    let report: serde_json::Value = serde_json::from_slice(&kept.stdout).expect("report");
    for s in report["stickers"].as_array().expect("stickers") {
        assert_eq!(s["encoded"], 0, "rendered again: {s}");
    }
    let left_out = report["failed"].as_array().expect("failed");
    assert_eq!(left_out.len(), 1);
    assert_eq!(left_out[0]["id"], "two");
    assert!(!out.join("discord/two.png").exists());
    assert!(!out.join("discord/two.ogg").exists());
    assert!(out.join("whatsapp/two.webp").exists());
    let listing = read_json(&out.join("discord/discord.json"));
    let names: Vec<&str> = listing["stickers"]
        .as_array()
        .expect("stickers")
        .iter()
        .filter_map(|s| s["file"].as_str())
        .collect();
    assert_eq!(names, ["one.png", "three.png", "four.png"]);
    let validated = run(&["validate", p(&out.join("discord")), "--platform", "discord"]);
    assert!(validated.status.success(), "{}", stderr(&validated));
    let preview = std::fs::read_to_string(out.join("preview.html")).expect("preview");
    assert!(
        preview.contains("discord: not built"),
        "the preview hides the failure"
    );

    // Failing on WhatsApp, whose voice note also drives the canonical pack's image: neither pack keeps
    // any file of it, and WhatsApp's pack of the other three is valid.
    let kept = impossible_for("two:whatsapp:900", &["--keep-going"]);
    assert_eq!(kept.status.code(), Some(1), "{}", stderr(&kept));
    let report: serde_json::Value = serde_json::from_slice(&kept.stdout).expect("report");
    let targets: Vec<&str> = report["failed"]
        .as_array()
        .expect("failed")
        .iter()
        .filter_map(|f| f["target"].as_str())
        .collect();
    assert_eq!(targets, ["whatsapp", "pack"]);
    for file in [
        "whatsapp/two.webp",
        "whatsapp/two.ogg",
        "pack/two.webp",
        "pack/two.ogg",
    ] {
        assert!(!out.join(file).exists(), "{file} is left behind");
    }
    assert!(out.join("discord/two.png").exists());
    let contents = read_json(&out.join("whatsapp/contents.json"));
    let listed = contents["sticker_packs"][0]["stickers"].as_array();
    assert_eq!(listed.map(Vec::len), Some(3), "{contents}");
    let before = tree_bytes(&out);

    // Two of four failing on WhatsApp leave it two stickers, under its minimum of three: even with
    // --keep-going nothing is written, and the error names both failures and the pack's rule.
    let too_few = impossible_for("two:whatsapp:900,three:whatsapp:900", &["--keep-going"]);
    assert_eq!(too_few.status.code(), Some(1), "{}", stderr(&too_few));
    let json: serde_json::Value = serde_json::from_slice(&too_few.stdout).expect("json");
    let ids: Vec<&str> = json["error"]["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(ids, ["two", "two", "three", "three"]);
    let packs = json["error"]["packs"].as_str().expect("packs");
    assert!(
        packs.contains("whatsapp") || packs.contains("WhatsApp"),
        "{packs}"
    );
    assert_same_tree(&before, &out);
}
