//! The pack manifest: the demo manifest loads; bad manifests give every problem with its JSON pointer
//! and line:column; the published JSON Schema matches the types (golden file).

use crate::util::*;
use soundsticker::Error;
use soundsticker::{ManifestIssue, pack::load};
use std::path::{Path, PathBuf};

/// A folder with copies of the demo master and cover and `json` as its pack.json.
fn pack_with(json: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempdir();
    for f in ["master.flac", "cover.png"] {
        std::fs::copy(demo(f), dir.path().join(f)).expect("copy");
    }
    let path = dir.path().join("pack.json");
    std::fs::write(&path, json).expect("write");
    (dir, path)
}

/// Write `json` as pack.json beside copies of the demo master and cover; return the issues.
fn issues_of(json: &str) -> Vec<ManifestIssue> {
    let (_dir, path) = pack_with(json);
    match load(&path) {
        Ok(_) => Vec::new(),
        Err(Error::Manifest { path: p, issues }) => {
            assert_eq!(p, path);
            issues
        }
        Err(other) => panic!("unexpected error {other}"),
    }
}

fn has(issues: &[ManifestIssue], pointer: &str, line: usize, says: &str) {
    assert!(
        issues
            .iter()
            .any(|i| i.pointer == pointer && i.line == line && i.detail.contains(says)),
        "expected {pointer} at line {line} saying `{says}`, got {issues:#?}"
    );
}

const GOOD: &str = r#"{
  "name": "Test pack",
  "identifier": "test_pack",
  "publisher": "Label",
  "cover": "cover.png",
  "platforms": ["whatsapp", "signal"],
  "stickers": [
    { "id": "a", "master": "master.flac", "start": "1", "duration": "2", "emojis": ["🎵"] },
    { "id": "b", "master": "master.flac", "start": "0:05", "end": "0:07.5", "emojis": ["🔥", "🥁"] },
    { "id": "c", "master": "master.flac", "start": "10s", "duration": "1500ms", "emojis": ["👋"] }
  ]
}"#;

#[test]
fn the_demo_manifest_and_a_minimal_one_load() {
    let m = load(&demo("pack.json")).expect("demo manifest");
    assert!(m.manifest.stickers.len() >= 4);
    assert!(issues_of(GOOD).is_empty());
}

#[test]
fn unknown_fields_and_wrong_types_name_the_pointer_and_position() {
    let typo = GOOD.replace(r#""emojis": ["👋"]"#, r#""emoji": ["👋"]"#);
    let issues = issues_of(&typo);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].pointer, "/stickers/2/emoji");
    assert_eq!(issues[0].line, 10);
    assert!(
        issues[0].detail.contains("unknown field `emoji`")
            && issues[0].detail.contains("did you mean `emojis`"),
        "{:?}",
        issues[0]
    );

    let wrong_type = GOOD.replace(
        r#""platforms": ["whatsapp", "signal"]"#,
        r#""platforms": "whatsapp""#,
    );
    let issues = issues_of(&wrong_type);
    assert_eq!(issues[0].pointer, "/platforms");
    assert_eq!(issues[0].line, 6);
    assert!(issues[0].detail.contains("invalid type"), "{:?}", issues[0]);

    let bad_platform = GOOD.replace(r#""signal"]"#, r#""signl"]"#);
    let issues = issues_of(&bad_platform);
    assert_eq!(issues[0].pointer, "/platforms/1");
    assert!(
        issues[0].detail.contains("did you mean `signal`"),
        "{:?}",
        issues[0]
    );
}

#[test]
fn semantic_problems_are_all_reported_with_their_positions() {
    let bad = GOOD
        .replace(r#""id": "b""#, r#""id": "../b""#)
        .replace(r#""id": "c""#, r#""id": "a""#)
        .replace(r#"["🔥", "🥁"]"#, r#"["🔥", "x"]"#)
        .replace(
            r#""start": "1", "duration": "2""#,
            r#""start": "1", "duration": "99""#,
        )
        .replace(r#""cover": "cover.png""#, r#""cover": "missing.png""#);
    let issues = issues_of(&bad);
    has(&issues, "/cover", 5, "not found");
    has(
        &issues,
        "/stickers/0/duration",
        8,
        "after the end of master.flac (00:32.000)",
    );
    has(&issues, "/stickers/1/id", 9, "is not a sticker id");
    has(&issues, "/stickers/1/emojis/1", 9, "not a single emoji");
    has(&issues, "/stickers/2/id", 10, "used by an earlier sticker");
    assert_eq!(issues.len(), 5, "{issues:#?}");
}

#[test]
fn platform_rules_apply_to_the_pack() {
    let two = GOOD.replace(
        r#",
    { "id": "c", "master": "master.flac", "start": "10s", "duration": "1500ms", "emojis": ["👋"] }"#,
        "",
    );
    has(
        &issues_of(&two),
        "/stickers",
        7,
        "WhatsApp packs need at least 3 stickers (has 2)",
    );
    let telegram = GOOD.replace(r#"["whatsapp", "signal"]"#, r#"["telegram"]"#);
    has(
        &issues_of(&telegram),
        "/platforms",
        6,
        "telegram.bot_username",
    );
    for bad in ["my__bot", "1st_bot", "bot", "label_robots"] {
        let named = telegram.replacen(
            r#""cover": "cover.png","#,
            &format!(r#""cover": "cover.png", "telegram": {{ "bot_username": "{bad}" }},"#),
            1,
        );
        has(
            &issues_of(&named),
            "/telegram/bot_username",
            5,
            "a Telegram bot username",
        );
    }
    let beyond = GOOD.replace(r#""start": "10s""#, r#""start": "40""#);
    has(
        &issues_of(&beyond),
        "/stickers/2/start",
        10,
        "beyond the end of master.flac",
    );
    let missing_master = GOOD.replace(
        r#""id": "a", "master": "master.flac""#,
        r#""id": "a", "master": "nope.flac""#,
    );
    has(
        &issues_of(&missing_master),
        "/stickers/0/master",
        8,
        "not found",
    );
}

#[test]
fn new_rules_and_the_schema_key() {
    let with_schema = GOOD.replacen(
        '{',
        r#"{ "$schema": "https://example.org/pack.schema.json","#,
        1,
    );
    assert!(issues_of(&with_schema).is_empty(), "`$schema` is allowed");
    // Discord names need 2+ characters: one-letter ids need a title there.
    let discord = GOOD.replace(r#"["whatsapp", "signal"]"#, r#"["discord"]"#);
    let issues = issues_of(&discord);
    has(&issues, "/stickers/0/id", 8, "2 to 30 characters");
    let titled = discord.replace(r#""id": "a","#, r#""id": "a", "title": "Ahh","#);
    assert!(
        !issues_of(&titled)
            .iter()
            .any(|i| i.pointer.starts_with("/stickers/0")),
        "a title fixes it"
    );
    let still = GOOD.replace(
        r#""cover": "cover.png","#,
        r#""cover": "cover.png", "defaults": { "style": "still" },"#,
    );
    has(&issues_of(&still), "/defaults/style", 5, "static image");
    // Even when every sticker sets its own style: the default is still wrong (docs/manifest.md).
    let own = still.replace(
        r#""emojis": ["#,
        r#""settings": { "style": "wave" }, "emojis": ["#,
    );
    let issues = issues_of(&own);
    has(&issues, "/defaults/style", 5, "static image");
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let rate = GOOD.replace(
        r#""emojis": ["👋"]"#,
        r#""emojis": ["👋"], "settings": { "bitrate": "900k" }"#,
    );
    has(
        &issues_of(&rate),
        "/stickers/2/settings/bitrate",
        10,
        "6k to 510k",
    );
    let effort = GOOD.replace(
        r#""cover": "cover.png","#,
        r#""cover": "cover.png", "defaults": { "effort": 7 },"#,
    );
    has(&issues_of(&effort), "/defaults/effort", 5, "outside 0..6");
    let effort_ok = effort.replace(r#""effort": 7"#, r#""effort": 6"#);
    assert!(issues_of(&effort_ok).is_empty(), "effort 6 is allowed");
    let enough = GOOD.replace(
        r#""cover": "cover.png","#,
        r#""cover": "cover.png", "defaults": { "enough_ssim": 1.5 },"#,
    );
    has(
        &issues_of(&enough),
        "/defaults/enough_ssim",
        5,
        "outside 0..1",
    );
    let enough_ok = enough.replace("1.5", "1");
    assert!(issues_of(&enough_ok).is_empty(), "enough_ssim 1 is allowed");
    // A cover that is no image is reported with its field before anything is encoded.
    let (dir, path) =
        pack_with(&GOOD.replace(r#""id": "a","#, r#""id": "a", "cover": "art.png","#));
    std::fs::write(dir.path().join("art.png"), "not a picture").expect("art");
    match load(&path) {
        Err(Error::Manifest { issues, .. }) => has(
            &issues,
            "/stickers/0/cover",
            8,
            "is not an image soundsticker reads",
        ),
        other => panic!("expected a manifest error, got {other:?}"),
    }
}

/// Links and e-mail as WhatsApp's validator accepts them, and Telegram's keyword limits.
#[test]
fn links_e_mail_and_keywords_follow_the_platforms() {
    let contact = |website: &str, email: &str| {
        GOOD.replacen(
            r#""publisher": "Label","#,
            &format!(r#""publisher": "Label", "website": "{website}", "email": "{email}","#),
            1,
        )
    };
    let ok = contact("https://label.example/stickers", "press@label.example");
    assert!(issues_of(&ok).is_empty(), "{:#?}", issues_of(&ok));
    let bad = issues_of(&contact("label.example", "press@label"));
    has(&bad, "/website", 4, "not a web link");
    has(&bad, "/email", 4, "not an e-mail address");
    assert_eq!(bad.len(), 2, "{bad:#?}");

    let keywords = |list: &str| {
        GOOD.replace(r#"["whatsapp", "signal"]"#, r#"["whatsapp", "telegram"]"#)
            .replacen(
                r#""cover": "cover.png","#,
                r#""cover": "cover.png", "telegram": { "bot_username": "label_bot" },"#,
                1,
            )
            .replace(
                r#""emojis": ["👋"]"#,
                &format!(r#""emojis": ["👋"], "keywords": {list}"#),
            )
    };
    // 64 characters in all is the limit: 4 × 16.
    let sixteen = format!(r#""{}""#, "k".repeat(16));
    let at_limit = format!("[{}]", [sixteen.as_str(); 4].join(", "));
    assert!(issues_of(&keywords(&at_limit)).is_empty());
    let over = at_limit.replacen(']', r#", "x"]"#, 1);
    has(
        &issues_of(&keywords(&over)),
        "/stickers/2/keywords",
        10,
        "up to 20 keywords of 64 characters in all (has 5 of 65)",
    );
    let many = format!("[{}]", [r#""a""#; 21].join(", "));
    has(
        &issues_of(&keywords(&many)),
        "/stickers/2/keywords",
        10,
        "(has 21 of 21)",
    );
    has(
        &issues_of(&keywords(r#"["drums", " "]"#)),
        "/stickers/2/keywords/1",
        10,
        "cannot be empty",
    );
    // Without Telegram the limit does not apply.
    let no_telegram = GOOD.replace(
        r#""emojis": ["👋"]"#,
        &format!(r#""emojis": ["👋"], "keywords": {many}"#),
    );
    assert!(issues_of(&no_telegram).is_empty());
}

/// A build replaces its whole output folder, so it refuses one it did not write: the manifest's own
/// folder (which holds the manifest, master and cover), a folder of other files, a file. Each refusal
/// exits 2, names the problem and changes nothing (no staging folder either).
#[test]
fn build_never_replaces_what_it_did_not_write() {
    let (dir, manifest) = pack_with(GOOD);
    let d = dir.path();
    let mine = d.join("mine");
    std::fs::create_dir(&mine).expect("mine");
    std::fs::write(mine.join("precious.txt"), "keep me").expect("precious");
    let afile = d.join("afile");
    std::fs::write(&afile, "a file").expect("afile");
    let snapshot = || -> Vec<(PathBuf, Vec<u8>)> {
        let mut all = Vec::new();
        for path in files_in(d) {
            if path.is_dir() {
                for inner in files_in(&path) {
                    all.push((inner.clone(), std::fs::read(&inner).expect("read")));
                }
            } else {
                all.push((path.clone(), std::fs::read(&path).expect("read")));
            }
        }
        all
    };
    let before = snapshot();
    for (out, says) in [
        (d, "is inside the output folder"),
        (mine.as_path(), "holds files soundsticker did not write"),
        (afile.as_path(), "is a file"),
    ] {
        let res = run(&["build", p(&manifest), "--out", p(out)]);
        let err = stderr(&res);
        assert_eq!(res.status.code(), Some(2), "{out:?}: {err}");
        assert!(
            err.contains("--out") && err.contains(says),
            "{out:?}: {err}"
        );
        assert_eq!(snapshot(), before, "{out:?}: nothing may change");
    }
    // Run from inside the output folder: refused up front (a folder in use cannot be replaced).
    let inside = d.join("inside");
    std::fs::create_dir(&inside).expect("inside");
    let res = bin()
        .current_dir(&inside)
        .args(["build", p(&manifest), "--out", "."])
        .output()
        .expect("run");
    assert_refused(&res, 2, "holds the current directory");
    assert!(files_in(&inside).is_empty());
}

/// The command line: every kind of bad manifest exits 2, names the JSON pointer and line on stderr
/// and in the `--json` error, and writes nothing at all (no output, staging or cache folder).
#[test]
fn build_refuses_bad_manifests_with_exit_2_and_writes_nothing() {
    let two = GOOD.replace(
        r#",
    { "id": "c", "master": "master.flac", "start": "10s", "duration": "1500ms", "emojis": ["👋"] }"#,
        "",
    );
    let cases: Vec<(String, &str, &str)> = vec![
        (
            GOOD.replace(r#""emojis": ["👋"]"#, r#""emoji": ["👋"]"#),
            "/stickers/2/emoji",
            "did you mean `emojis`",
        ),
        (
            GOOD.replace(r#"["whatsapp", "signal"]"#, r#""whatsapp""#),
            "/platforms",
            "invalid type",
        ),
        (
            GOOD.replace(
                r#""id": "a", "master": "master.flac""#,
                r#""id": "a", "master": "nope.flac""#,
            ),
            "/stickers/0/master",
            "not found",
        ),
        (
            GOOD.replace(r#""start": "10s""#, r#""start": "40""#),
            "/stickers/2/start",
            "beyond the end",
        ),
        (two, "/stickers", "at least 3 stickers"),
        (
            GOOD.replace(r#""id": "c""#, r#""id": "a""#),
            "/stickers/2/id",
            "used by an earlier sticker",
        ),
        (
            GOOD.replace(r#""id": "b""#, r#""id": "../b""#),
            "/stickers/1/id",
            "not a sticker id",
        ),
        (
            GOOD.replace(r#""id": "b""#, r#""id": "x/b""#),
            "/stickers/1/id",
            "not a sticker id",
        ),
        (
            GOOD.replace(r#"["🔥", "🥁"]"#, r#"["🔥", ":)"]"#),
            "/stickers/1/emojis/1",
            "not a single emoji",
        ),
    ];
    for (json, pointer, says) in cases {
        let (dir, manifest) = pack_with(&json);
        let d = dir.path();
        let before = files_in(d);
        let out = d.join("dist");
        let res = run(&["--json", "build", p(&manifest), "--out", p(&out)]);
        assert_eq!(res.status.code(), Some(2), "{pointer}: exit status");
        let stderr = stderr(&res);
        assert!(
            stderr.contains(pointer) && stderr.contains(says),
            "{pointer}: {stderr}"
        );
        let report: serde_json::Value =
            serde_json::from_slice(&res.stdout).expect("--json error on stdout");
        assert_eq!(report["error"]["exit_code"], 2);
        let issues = report["error"]["issues"].as_array().expect("issues");
        assert!(
            issues
                .iter()
                .any(|i| i["pointer"] == pointer && i["line"].as_u64() > Some(0)),
            "{pointer}: {report}"
        );
        assert_eq!(files_in(d), before, "{pointer}: nothing written");
        assert_eq!(
            std::fs::read_to_string(&manifest).expect("read"),
            json,
            "input untouched"
        );
    }

    // Building for a platform the manifest does not list checks that platform's rules too.
    let (dir, _) = pack_with(GOOD);
    let d = dir.path();
    let res = run(&[
        "build",
        p(&d.join("pack.json")),
        "--platform",
        "telegram",
        "--out",
        p(&d.join("o")),
    ]);
    assert_refused(&res, 2, "telegram.bot_username");
    assert!(!d.join("o").exists());
    // A platform named twice on the command line is the command line's mistake.
    let res = run(&[
        "build",
        p(&d.join("pack.json")),
        "--platform",
        "whatsapp,whatsapp",
        "--out",
        p(&d.join("o")),
    ]);
    assert_eq!(res.status.code(), Some(2));
    let err = stderr(&res);
    assert!(
        err.contains("--platform: `whatsapp` is listed twice") && !err.contains("pack.json"),
        "{err}"
    );
    assert!(!d.join("o").exists());
}

#[test]
fn the_published_schema_matches_the_types() {
    let out = run_ok(&["schema"]);
    let golden = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/manifest.schema.json"),
    )
    .expect("golden");
    assert_eq!(
        out.trim_end(),
        golden.trim_end(),
        "regenerate with `soundsticker schema > tests/golden/manifest.schema.json` and review"
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("schema is JSON");
    assert_eq!(v["properties"]["stickers"]["type"], "array");
}

#[test]
fn init_scaffolds_a_valid_manifest_at_the_loudest_part() {
    let dir = tempdir();
    let d = dir.path();
    // 12 s master: quiet, with a loud passage from 6 s to 10 s.
    let pack = d.join("pack-src");
    std::fs::create_dir(&pack).expect("dir");
    music_sections(
        &pack.join("single.flac"),
        48_000,
        2,
        &[(6.0, 0.05), (4.0, 0.5), (2.0, 0.05)],
        &[],
    );
    std::fs::copy(demo("cover.png"), pack.join("art.png")).expect("copy");
    let out = run_ok(&["--json", "init", p(&pack), "--platforms", "signal,discord"]);
    assert!(out.contains("pack.json"));
    let m = load(&pack.join("pack.json")).expect("the scaffold loads cleanly");
    let s = &m.manifest.stickers[0];
    assert_eq!(s.master, "single.flac");
    assert_eq!(m.manifest.cover, "art.png");
    let start: soundsticker::Timecode = s.start;
    // The 4 s window with the most energy is the loud passage: it starts at 6.0 s (±0.3 s).
    assert!(
        (start.as_secs_f64() - 6.0).abs() <= 0.3,
        "start {}",
        s.start
    );
    // A second run does not overwrite it.
    let again = run(&["init", p(&pack)]);
    assert_refused(&again, 2, "--force");
    // Short masters, one-letter names, a master's own art and a named pack cover: the scaffold for
    // every platform still loads cleanly.
    let mixed = d.join("mixed");
    std::fs::create_dir(&mixed).expect("dir");
    music_wav(&mixed.join("a.wav"), 48_000, 2, 2.0, 0.3);
    music_wav(&mixed.join("b.wav"), 48_000, 2, 6.0, 0.3);
    for art in ["b.png", "cover.png"] {
        std::fs::copy(demo("cover.png"), mixed.join(art)).expect("copy");
    }
    run_ok(&["init", p(&mixed)]);
    let m = load(&mixed.join("pack.json")).expect("the scaffold loads cleanly");
    assert_eq!(m.manifest.cover, "cover.png");
    let a = &m.manifest.stickers[0];
    let length: soundsticker::Timecode = a.duration.expect("duration");
    assert!(
        length.as_secs_f64() <= 2.0,
        "a 2 s master gives at most 2 s: {length}"
    );
    assert_eq!(a.title.as_deref(), Some("Track a"));
    let b: Vec<_> = m
        .manifest
        .stickers
        .iter()
        .filter(|s| s.master == "b.wav")
        .collect();
    assert_eq!(
        b.len(),
        2,
        "two stickers from b make the three WhatsApp needs"
    );
    assert_eq!(b[0].cover.as_deref(), Some("b.png"));
    assert_eq!(b[1].title.as_deref(), Some("b 2"));
    // One short master cannot make a WhatsApp pack: a clear error, and no pack.json.
    let short = d.join("short");
    std::fs::create_dir(&short).expect("dir");
    music_wav(&short.join("only.wav"), 48_000, 2, 2.0, 0.3);
    std::fs::copy(demo("cover.png"), short.join("cover.png")).expect("copy");
    let res = run(&["init", p(&short)]);
    assert_refused(&res, 2, "a WhatsApp pack needs 3");
    assert!(!short.join("pack.json").exists());
    let res = run(&[
        "init",
        p(&short),
        "--duration",
        "0",
        "--platforms",
        "telegram",
    ]);
    assert_refused(&res, 2, "--duration");
    assert!(!short.join("pack.json").exists());
    // A folder without masters is a clear error.
    let empty = d.join("empty");
    std::fs::create_dir(&empty).expect("dir");
    let res = run(&["init", p(&empty)]);
    assert_refused(&res, 2, "no audio masters");
}

#[test]
fn init_refuses_a_platform_listed_twice_before_writing() {
    let dir = tempdir();
    let d = dir.path();
    for f in ["master.flac", "cover.png"] {
        std::fs::copy(demo(f), d.join(f)).expect("copy");
    }
    let p = |path: &Path| path.to_str().expect("utf-8 path").to_string();
    let out = run(&[
        "init",
        &p(d),
        "--platforms",
        "signal,discord,signal",
        "--force",
    ]);
    assert_refused(&out, 2, "--platforms: `signal` is listed twice");
    assert!(!d.join("pack.json").exists(), "nothing written");
}
