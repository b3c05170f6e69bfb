//! `soundsticker build`: a whole pack for every platform, checked with webpinfo, opusinfo, ffprobe and
//! unzip; byte-identical rebuilds; a bad manifest leaves the previous build untouched.

mod common;
use common::*;
use std::path::Path;

fn write_pack(dir: &Path) -> std::path::PathBuf {
    music_wav(&dir.join("m.wav"), 44_100, 2, 8.0, 0.4);
    ffmpeg_convert(&dir.join("m.wav"), &dir.join("master.flac"), &[]);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/cover.png"),
        dir.join("cover.png"),
    )
    .expect("cover");
    let manifest = r#"{
      "name": "Build Test", "identifier": "build_test", "publisher": "Test Label",
      "cover": "cover.png", "platforms": ["whatsapp", "telegram", "signal", "discord"],
      "telegram": { "bot_username": "build_test_bot" },
      "defaults": { "fps": 10, "style": "wave" },
      "stickers": [
        { "id": "one", "master": "master.flac", "start": "0.5", "duration": "1.5", "emojis": ["🎵"] },
        { "id": "two", "master": "master.flac", "start": "2", "duration": "1.5", "emojis": ["🔥"], "settings": { "style": "vinyl" } },
        { "id": "three", "master": "master.flac", "start": "0", "duration": "6", "emojis": ["👋"], "settings": { "style": "bars" } }
      ]
    }"#;
    let path = dir.join("pack.json");
    std::fs::write(&path, manifest).expect("manifest");
    path
}

fn tree_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).expect("prefix").display().to_string(),
                    std::fs::read(&p).expect("read"),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn builds_every_platform_reproducibly_and_keeps_the_old_build_on_failure() {
    let dir = tempdir();
    let d = dir.path();
    let manifest = write_pack(d);
    let out = d.join("dist");
    let report = run_json(&["build", p(&manifest), "--out", p(&out), "--jobs", "2"]);
    assert_eq!(report["stickers"].as_array().expect("stickers").len(), 3);

    // WhatsApp: animated WebP 512 ≤ 500 000 B, tray PNG 96×96 ≤ 50 000 B, contents.json, mono voice notes.
    let wa = out.join("whatsapp");
    for id in ["one", "two", "three"] {
        let webp = wa.join(format!("{id}.webp"));
        let info = String::from_utf8_lossy(&tool("webpinfo", &[p(&webp)]).stdout).into_owned();
        assert!(
            info.contains("No error detected") && info.contains("Canvas size 512 x 512"),
            "{info}"
        );
        assert!(std::fs::metadata(&webp).expect("webp").len() <= 500_000);
        let ogg = wa.join(format!("{id}.ogg"));
        assert_opusinfo_clean(&ogg);
        assert_eq!(ffprobe_stream(&ogg).2, 1, "WhatsApp voice notes are mono");
    }
    let tray = image::open(wa.join("tray.png")).expect("tray");
    assert_eq!((tray.width(), tray.height()), (96, 96));
    assert!(std::fs::metadata(wa.join("tray.png")).expect("tray").len() <= 50_000);
    let contents: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wa.join("contents.json")).expect("contents"))
            .expect("json");
    let pack = &contents["sticker_packs"][0];
    assert_eq!(pack["identifier"], "build_test");
    assert_eq!(pack["tray_image_file"], "tray.png");
    assert_eq!(pack["image_data_version"], "1");
    assert_eq!(pack["animated_sticker_pack"], true);
    assert_eq!(pack["stickers"][1]["image_file"], "two.webp");
    assert_eq!(pack["stickers"][1]["emojis"][0], "🔥");

    // Telegram: WebM VP9, no audio, ≤ 3 s, ≤ 256 KiB; set name per the Bot API.
    let tg = out.join("telegram");
    for id in ["one", "three"] {
        let webm = tg.join(format!("{id}.webm"));
        let probe = ffprobe_show(
            &webm,
            &[],
            "stream=codec_type,codec_name,width:format=duration",
            "default=nw=1",
        );
        assert!(
            probe.contains("codec_name=vp9")
                && probe.contains("width=512")
                && !probe.contains("codec_type=audio"),
            "{probe}"
        );
        let dur: f64 = probe
            .lines()
            .find_map(|l| l.strip_prefix("duration="))
            .and_then(|v| v.parse().ok())
            .expect("duration");
        assert!(dur <= 3.0 + 0.05, "{id}: {dur} s");
        assert!(std::fs::metadata(&webm).expect("webm").len() <= 256 * 1024);
    }
    let set: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tg.join("set.json")).expect("set")).expect("json");
    assert_eq!(set["name"], "build_test_by_build_test_bot");

    // Discord: soundboard sounds ≤ 5.2 s (the 6 s sticker is shortened) and ≤ 512 KB; 320 px APNG.
    let dc = out.join("discord");
    let (s, ch) = opusdec(&dc.join("three.ogg"), d);
    assert_eq!(s.len() / usize::from(ch), 5_200 * 48, "shortened to 5.2 s");
    let (codec, ..) = ffprobe_stream(&dc.join("three.ogg"));
    assert_eq!(codec, "opus");
    assert!(
        report["stickers"][2]["warnings"]
            .to_string()
            .contains("shortened")
    );
    let probe = ffprobe_show(
        &dc.join("one.png"),
        &[],
        "stream=codec_name,width",
        "csv=p=0",
    );
    assert_eq!(probe.trim(), "apng,320");

    // Archives.
    for archive in ["build_test.wastickers", "pack.zip"] {
        tool("unzip", &["-tq", p(&out.join(archive))]);
    }

    // A second build is byte-identical.
    let first = tree_bytes(&out);
    let out2 = d.join("dist2");
    run_ok(&["build", p(&manifest), "--out", p(&out2), "--jobs", "1"]);
    let second = tree_bytes(&out2);
    assert_eq!(first.len(), second.len());
    for (a, b) in first.iter().zip(&second) {
        assert!(a == b, "{} differs between builds", a.0);
    }

    // A broken manifest: exit 2, and the previous build is untouched, with no staging left behind.
    std::fs::write(&manifest, r#"{"name": 1}"#).expect("write");
    let res = run(&["build", p(&manifest), "--out", p(&out)]);
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("/name"));
    assert_eq!(tree_bytes(&out), first);
    let leftovers: Vec<_> = files_in(d)
        .into_iter()
        .filter(|f| f.to_string_lossy().contains(".soundsticker-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
