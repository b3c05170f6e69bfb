//! `soundsticker build`: a whole pack for every platform, checked with webpinfo, opusinfo, ffprobe and
//! unzip; byte-identical rebuilds; a bad manifest leaves the previous build untouched.

use crate::util::*;
use std::path::Path;

fn write_pack(dir: &Path) -> std::path::PathBuf {
    music_wav(&dir.join("m.wav"), 44_100, 2, 8.0, 0.4);
    ffmpeg_convert(&dir.join("m.wav"), &dir.join("master.flac"), &[]);
    std::fs::copy(demo("cover.png"), dir.join("cover.png")).expect("cover");
    let manifest = r#"{
      "name": "Build Test", "identifier": "build_test", "publisher": "Test Label",
      "cover": "cover.png", "platforms": ["whatsapp", "telegram", "signal", "discord"],
      "telegram": { "bot_username": "build_test_bot", "static_fallback": true },
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

pub(crate) fn tree_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
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
        let info = tool_stdout("webpinfo", &[p(&webp)]);
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
    let contents = read_json(&wa.join("contents.json"));
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
        let dur = ffprobe_duration(&probe);
        assert!(dur <= 3.0 + 0.05, "{id}: {dur} s");
        assert!(std::fs::metadata(&webm).expect("webm").len() <= 256 * 1024);
    }
    let set = read_json(&tg.join("set.json"));
    assert_eq!(set["name"], "build_test_by_build_test_bot");
    // The static fallback: a still 512 px WebP per sticker, listed in set.json.
    assert_eq!(set["stickers"][0]["static_sticker"], "static/one.webp");
    let still = tg.join("static/one.webp");
    let info = tool_stdout("webpinfo", &[p(&still)]);
    assert!(
        info.contains("No error detected")
            && info.contains("Canvas size 512 x 512")
            && !info.contains("ANIM"),
        "{info}"
    );
    assert!(std::fs::metadata(&still).expect("still").len() <= 512 * 1024);

    // Discord: soundboard sounds ≤ 5.2 s (the 6 s sticker is shortened) and ≤ 512 KB; 320 px APNG.
    let dc = out.join("discord");
    assert_eq!(
        opusdec_frames(&dc.join("three.ogg"), d),
        5_200 * 48,
        "shortened to 5.2 s"
    );
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

    // Every link of the preview page resolves, and it shows each sticker and its warnings.
    let preview = std::fs::read_to_string(out.join("preview.html")).expect("preview.html");
    let links = links_in(&preview);
    assert!(links.len() >= 3 * 5 * 2, "{} links", links.len());
    for l in &links {
        assert!(out.join(l).is_file(), "preview links to missing {l}");
    }
    for id in ["one", "two", "three"] {
        assert!(preview.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(
        preview.contains("<audio") && preview.contains("<video") && preview.contains("shortened")
    );

    // A forced rebuild (everything encoded again) is byte-identical.
    let first = tree_bytes(&out);
    let out2 = d.join("dist2");
    let forced = run_json(&[
        "build",
        p(&manifest),
        "--out",
        p(&out2),
        "--jobs",
        "1",
        "--force",
    ]);
    assert_eq!(forced["cache"]["hits"], 0);
    assert!(forced["cache"]["misses"].as_u64().expect("misses") >= 3 * 4);
    assert_same_tree(&first, &out2);

    cache_serves_unchanged_stickers(&manifest, &out, &first);
    shards_merge_into_the_same_packs(&manifest, &first);
    interrupted_builds_keep_the_previous_pack(&manifest, &out, &first);

    // A broken manifest: exit 2, and the previous build is untouched, with no staging left behind.
    std::fs::write(&manifest, r#"{"name": 1}"#).expect("write");
    let res = run(&["build", p(&manifest), "--out", p(&out)]);
    assert_refused(&res, 2, "/name");
    assert_eq!(tree_bytes(&out), first);
    assert_no_staging_left(d);
}

/// Relative `src="..."` links of a page.
fn links_in(html: &str) -> Vec<String> {
    html.split("src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|l| l.replace("%20", " "))
        .collect()
}

pub(crate) fn assert_same_tree(expected: &[(String, Vec<u8>)], dir: &Path) {
    let got = tree_bytes(dir);
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(expected),
        names(&got),
        "{}: other files",
        dir.display()
    );
    for (a, b) in expected.iter().zip(&got) {
        assert!(a == b, "{} differs in {}", a.0, dir.display());
    }
}

fn assert_no_staging_left(dir: &Path) {
    let leftovers: Vec<_> = files_in(dir)
        .into_iter()
        .filter(|f| {
            let n = f.to_string_lossy();
            n.contains(".soundsticker-build-") || n.contains(".soundsticker-old-")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Counts the stages a build goes through.
#[derive(Default)]
struct Stages(std::sync::Mutex<Vec<soundsticker::Stage>>);

impl soundsticker::Progress for Stages {
    fn stage(&self, _item: &str, stage: soundsticker::Stage) {
        self.0.lock().expect("lock").push(stage);
    }
}

impl Stages {
    fn count(&self, s: soundsticker::Stage) -> usize {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .filter(|&&x| x == s)
            .count()
    }
}

/// The first build filled the cache beside the manifest: building again decodes and encodes nothing
/// and gives the same bytes; changing one sticker's style re-renders only that sticker's images.
fn cache_serves_unchanged_stickers(manifest: &Path, out: &Path, first: &[(String, Vec<u8>)]) {
    use soundsticker::Stage;
    use soundsticker::pack::{BuildOptions, build};
    let d = manifest.parent().expect("dir");
    let out3 = d.join("dist3");
    let stages = Stages::default();
    let mut opts = BuildOptions::default();
    opts.out = Some(out3.clone());
    let report = build(manifest, &opts, &stages).expect("cached build");
    assert_eq!(report.cache.misses, 0, "nothing encoded");
    assert!(report.cache.hits >= 3 * 4);
    for s in [Stage::Decode, Stage::Encode, Stage::Render] {
        assert_eq!(stages.count(s), 0, "{s:?} during a cached build");
    }
    assert!(stages.count(Stage::Cached) >= 3 * 4);
    assert_same_tree(first, &out3);
    assert_same_tree(first, out);

    // Sticker `two` switches from vinyl to pulse: its sounds still come from the cache.
    let text = std::fs::read_to_string(manifest).expect("manifest");
    let changed = d.join("changed.json");
    std::fs::write(
        &changed,
        text.replace(r#""style": "vinyl""#, r#""style": "pulse""#),
    )
    .expect("write");
    let stages = Stages::default();
    let mut opts = BuildOptions::default();
    opts.out = Some(d.join("dist4"));
    let report = build(&changed, &opts, &stages).expect("changed build");
    let by_id = |id: &str| {
        report
            .stickers
            .iter()
            .find(|s| s.id == id)
            .expect("sticker")
            .clone()
    };
    assert_eq!(by_id("one").encoded, 0);
    assert_eq!(by_id("three").encoded, 0);
    let two = by_id("two");
    // Five targets, four distinct images (the canonical pack shares WhatsApp's).
    assert_eq!(two.encoded, 4, "only two's images: {two:?}");
    // Cover rendering loads art (its own Decode stage) but makes no sound: no resampling, no verify.
    assert_eq!(
        stages.count(Stage::Resample),
        0,
        "sounds came from the cache"
    );
    assert_eq!(stages.count(Stage::Verify), 0, "sounds came from the cache");
    let _ = std::fs::remove_dir_all(d.join("dist4"));
    let _ = std::fs::remove_dir_all(out3);
}

/// Two shards built apart and merged give the same packs as one build; a merge with a shard missing
/// fails and names the sticker. Shard 1 takes its stickers from this machine's warm cache and must
/// still carry them in its folder: the merge reads no cache, as on another CI machine.
fn shards_merge_into_the_same_packs(manifest: &Path, first: &[(String, Vec<u8>)]) {
    let d = manifest.parent().expect("dir");
    let (s1, s2, merged) = (d.join("shard1"), d.join("shard2"), d.join("merged"));
    let r1 = run_json(&["build", p(manifest), "--shard", "1/2", "--out", p(&s1)]);
    assert_eq!(r1["cache"]["misses"], 0, "shard 1 came from the warm cache");
    let r2 = run_json(&[
        "build",
        p(manifest),
        "--no-cache",
        "--shard",
        "2/2",
        "--out",
        p(&s2),
    ]);
    let ids = |r: &serde_json::Value| -> Vec<String> {
        r["stickers"]
            .as_array()
            .expect("stickers")
            .iter()
            .map(|s| s["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(ids(&r1), ["one", "three"]);
    assert_eq!(ids(&r2), ["two"]);
    assert!(s1.join("shard.json").is_file() && !s1.join("whatsapp").exists());

    let res = run(&[
        "build",
        p(manifest),
        "--no-cache",
        "--merge",
        p(&s1),
        "--out",
        p(&merged),
    ]);
    assert_eq!(res.status.code(), Some(1));
    let err = stderr(&res);
    assert!(err.contains("`two`") && err.contains("shard"), "{err}");
    assert!(!merged.exists(), "a failed merge writes nothing");

    let r = run_json(&[
        "build",
        p(manifest),
        "--no-cache",
        "--merge",
        p(&s1),
        p(&s2),
        "--out",
        p(&merged),
    ]);
    assert_eq!(r["cache"]["misses"], 0, "a merge encodes no sticker");
    assert_same_tree(first, &merged);

    let res = run(&["build", p(manifest), "--shard", "3/2"]);
    assert_eq!(res.status.code(), Some(2), "bad shard is a usage error");
    for dir in [s1, s2, merged] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// A build killed mid-way (SIGKILL) or interrupted (SIGINT, or twice: quit at once) leaves the previous
/// pack as it was; the interrupted ones clean up after themselves, and the next build removes what the
/// killed one left.
fn interrupted_builds_keep_the_previous_pack(
    manifest: &Path,
    out: &Path,
    first: &[(String, Vec<u8>)],
) {
    let d = manifest.parent().expect("dir");
    let staging_of = |d: &Path| {
        files_in(d)
            .into_iter()
            .filter(|f| f.to_string_lossy().contains(".soundsticker-build-"))
            .collect::<Vec<_>>()
    };
    for (signal, times) in [("KILL", 1), ("INT", 1), ("INT", 2)] {
        let mut child = bin()
            .args(["--quiet", "build", p(manifest), "--out", p(out), "--force"])
            .env("CI", "true")
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        // Wait until this build is writing stickers into its staging folder (named with its pid).
        let pid = format!("-{}-", child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline
            && !staging_of(d).iter().any(|s| {
                s.to_string_lossy().contains(&pid)
                    && std::fs::read_dir(s.join("whatsapp")).is_ok_and(|mut f| f.next().is_some())
            })
        {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        for _ in 0..times {
            tool("kill", &[&format!("-{signal}"), &child.id().to_string()]);
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let status = child.wait().expect("wait");
        assert_same_tree(first, out);
        if signal == "KILL" {
            assert_eq!(
                staging_of(d).len(),
                1,
                "the killed build's staging stays until the next"
            );
        } else {
            assert_eq!(status.code(), Some(130), "interrupted");
            assert!(
                staging_of(d).is_empty(),
                "an interrupted build removes its staging ({times} × INT)"
            );
        }
    }
    // The next build (from the cache) cleans up.
    run_ok(&["build", p(manifest), "--out", p(out)]);
    assert_same_tree(first, out);
    assert_no_staging_left(d);
}
