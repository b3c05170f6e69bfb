//! Hostile validate input: packs made by hand as an attacker would (deep WebM nesting, durations
//! that wrap a u32, names and links out of the pack, FIFOs, files far over their caps, zip bombs,
//! random bytes). Every run must end in under 10 s with exit 1 (violations) or 2 (refused input),
//! name the file and the rule that refused it, and leave nothing in its temporary folder.

use crate::util::*;
use std::io::{Cursor, Write};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// How long one `validate` may take.
const DEADLINE: Duration = Duration::from_secs(10);

/// `soundsticker validate TARGET --platform PLATFORM` with a fresh TMPDIR of its own, killed if it
/// runs past [`DEADLINE`]. Asserts the deadline, an exit status of 1 or 2 (never a panic's 101 or
/// an abort's 134), and that the temporary folder is left empty; returns the output.
fn validate_bounded(target: &Path, platform: &str) -> Output {
    let tmp = tempdir();
    let logs = tempdir();
    let (out_path, err_path) = (logs.path().join("out"), logs.path().join("err"));
    let start = Instant::now();
    let mut child = bin()
        .args(["validate", p(target), "--platform", platform])
        .env("TMPDIR", tmp.path())
        .env("CI", "true")
        .stdout(Stdio::from(std::fs::File::create(&out_path).expect("out")))
        .stderr(Stdio::from(std::fs::File::create(&err_path).expect("err")))
        .spawn()
        .expect("spawn soundsticker");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "validate {} ran past {DEADLINE:?}: {}",
                target.display(),
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let out = Output {
        status,
        stdout: std::fs::read(&out_path).expect("stdout"),
        stderr: std::fs::read(&err_path).expect("stderr"),
    };
    let err = stderr(&out);
    assert!(
        matches!(status.code(), Some(1 | 2)),
        "exit {:?} (must be 1 or 2): {err}",
        status.code()
    );
    assert!(elapsed < DEADLINE, "took {elapsed:?}");
    assert!(
        files_in(tmp.path()).is_empty(),
        "left in TMPDIR: {:?}",
        files_in(tmp.path())
    );
    out
}

/// The one line of `out`'s stderr that names `file` and says `rule`.
fn line_with(out: &Output, file: &str, rule: &str) -> String {
    let err = stderr(out);
    err.lines()
        .find(|l| l.contains(&format!(": {file}: ")) && l.contains(rule))
        .unwrap_or_else(|| panic!("no line naming `{file}` with `{rule}`:\n{err}"))
        .to_string()
}

/// A Telegram set of one sticker per file name (and `extra` fields on the set).
fn telegram_set(dir: &Path, stickers: &[&str], extra: serde_json::Value) {
    let stickers: Vec<serde_json::Value> = stickers
        .iter()
        .map(|s| serde_json::json!({ "sticker": s, "emoji_list": ["🎵"] }))
        .collect();
    let mut set =
        serde_json::json!({ "name": "pack_by_label_bot", "title": "Pack", "stickers": stickers });
    for (k, v) in extra.as_object().into_iter().flatten() {
        set[k] = v.clone();
    }
    std::fs::write(dir.join("set.json"), set.to_string()).expect("set.json");
}

/// A RIFF chunk: id, little-endian size, body, pad byte.
fn riff_chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = id.to_vec();
    v.extend_from_slice(&(body.len() as u32).to_le_bytes());
    v.extend_from_slice(body);
    if body.len() % 2 == 1 {
        v.push(0);
    }
    v
}

/// An animated 512×512 WebP of `frames` frames of `ms` each (see [`webp_frames`]).
fn webp_animation(frames: usize, ms: u32) -> Vec<u8> {
    webp_frames(&vec![ms; frames])
}

/// An animated 512×512 WebP of frames lasting `durations` ms, made by hand: a VP8X canvas and one
/// ANMF header per frame (the validator reads headers only).
fn webp_frames(durations: &[u32]) -> Vec<u8> {
    let mut vp8x = vec![0x02, 0, 0, 0];
    vp8x.extend_from_slice(&[0xFF, 0x01, 0x00, 0xFF, 0x01, 0x00]);
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend(riff_chunk(b"ANIM", &[0; 6]));
    for ms in durations {
        let mut anmf = vec![0u8; 16];
        anmf[6..9].copy_from_slice(&[0xFF, 0x01, 0x00]);
        anmf[9..12].copy_from_slice(&[0xFF, 0x01, 0x00]);
        anmf[12..15].copy_from_slice(&ms.to_le_bytes()[..3]);
        body.extend(riff_chunk(b"ANMF", &anmf));
    }
    let mut riff = b"RIFF".to_vec();
    riff.extend_from_slice(&(body.len() as u32).to_le_bytes());
    riff.extend(body);
    riff
}

/// Item 1: a 400 KB WebM of 200 000 nested TrackEntry elements (2 bytes each: the ID and an
/// unknown size) overflowed the stack of a recursive walk (abort, 134). Now the walk stops at
/// MAX_EBML_DEPTH and says so for that sticker.
#[test]
fn deeply_nested_webm_is_a_violation_not_a_stack_overflow() {
    let dir = tempdir();
    let d = dir.path();
    let mut webm = vec![0x1A, 0x45, 0xDF, 0xA3, 0x80];
    for _ in 0..200_000 {
        webm.extend_from_slice(&[0xAE, 0xFF]);
    }
    assert!(webm.len() > 400_000);
    std::fs::write(d.join("a.webm"), &webm).expect("webm");
    telegram_set(d, &["a.webm"], serde_json::json!({}));
    let out = validate_bounded(d, "telegram");
    assert_eq!(out.status.code(), Some(1));
    let line = line_with(&out, "a.webm", "MAX_EBML_DEPTH");
    assert!(line.contains("more than 32 levels deep"), "{line}");
}

/// Item 2: 256 frames of 16 777 215 ms and one of 9 256 ms (49.7 days) summed in a u32 wrapped to
/// 9 000 ms, and the WhatsApp sticker (28.5 fps, under 10 s) passed. Now the sum is exact; the
/// same for GIF delays (6 554 frames whose sum wraps to 2 704 ms) and APNG delays (which saturated
/// at u32::MAX); and frames stop at MAX_ANIMATION_FRAMES.
#[test]
fn frame_durations_do_not_wrap_and_frames_are_capped() {
    let dir = tempdir();
    let d = dir.path();
    let mut durations = vec![0xFF_FFFF; 256];
    durations.push(9_256);
    let total: u64 = durations.iter().map(|&ms| u64::from(ms)).sum();
    assert_eq!(total % (1 << 32), 9_000, "wraps to 9 s in a u32");
    std::fs::write(d.join("a.webp"), webp_frames(&durations)).expect("webp");
    std::fs::write(d.join("title.txt"), "Pack").expect("title");
    std::fs::write(d.join("author.txt"), "Label").expect("author");
    let out = validate_bounded(d, "whatsapp");
    assert_eq!(out.status.code(), Some(1));
    line_with(
        &out,
        "a.webp",
        &format!("lasts {total} ms; the limit is 10000 ms"),
    );

    // GIF: 6 553 frames of 655.35 s and one of 461.45 s: 4 294 970 000 ms, 2 704 ms in a u32.
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[0x00, 0x02, 0x00, 0x02, 0x80, 0, 0]);
    gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    for i in 0..6554 {
        let delay: u16 = if i == 0 { 46_145 } else { 65_535 };
        gif.extend_from_slice(&[0x21, 0xF9, 0x04, 0x00]);
        gif.extend_from_slice(&delay.to_le_bytes());
        gif.extend_from_slice(&[0x00, 0x00]);
        gif.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
        gif.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00]);
    }
    gif.push(0x3B);
    std::fs::write(d.join("a.gif"), &gif).expect("gif");
    std::fs::write(
        d.join("discord.json"),
        r#"{"stickers": [{"file": "a.gif", "name": "ab"}], "soundboard_sounds": []}"#,
    )
    .expect("discord.json");
    let out = validate_bounded(d, "discord");
    assert_eq!(out.status.code(), Some(1));
    line_with(&out, "a.gif", "lasts 4294970000 ms; the limit is 5000 ms");

    // APNG: 70 frames of 65 535 s each.
    let png_chunk = |kind: &[u8; 4], body: &[u8]| {
        let mut v = (body.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v.extend_from_slice(&[0; 4]);
        v
    };
    let mut apng = b"\x89PNG\r\n\x1a\n".to_vec();
    apng.extend(png_chunk(b"IHDR", &[0, 0, 2, 0, 0, 0, 2, 0, 8, 6, 0, 0, 0]));
    apng.extend(png_chunk(b"acTL", &[0, 0, 0, 70, 0, 0, 0, 0]));
    for i in 0..70u32 {
        let mut fctl = i.to_be_bytes().to_vec();
        fctl.extend_from_slice(&[0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        fctl.extend_from_slice(&[0xFF, 0xFF, 0x00, 0x01, 0, 0]);
        apng.extend(png_chunk(b"fcTL", &fctl));
    }
    apng.extend(png_chunk(b"IEND", &[]));
    std::fs::write(d.join("a.png"), &apng).expect("apng");
    std::fs::write(
        d.join("manifest.json"),
        r#"{"title": "P", "author": "L", "stickers": [{"file": "a.png", "emoji": "🎵"}]}"#,
    )
    .expect("manifest.json");
    let out = validate_bounded(d, "signal");
    assert_eq!(out.status.code(), Some(1));
    line_with(&out, "a.png", "lasts 4587450000 ms; the limit is 3000 ms");

    // One frame more than MAX_ANIMATION_FRAMES (2.4 MB, under 10× Telegram's cap).
    std::fs::write(d.join("b.webp"), webp_animation(100_001, 40)).expect("webp");
    telegram_set(d, &["b.webp"], serde_json::json!({}));
    let out = validate_bounded(d, "telegram");
    assert_eq!(out.status.code(), Some(1));
    line_with(
        &out,
        "b.webp",
        "has more than 100000 frames (MAX_ANIMATION_FRAMES)",
    );
}

/// Item 3: names in a pack's JSON that lead out of it (absolute, `..`), symlinks to /dev/zero or
/// out of the pack, and a FIFO: each is reported with its JSON field and never opened (/dev/zero
/// grew without bound; the FIFO blocked forever).
#[test]
fn names_and_links_out_of_the_pack_are_refused_unopened() {
    let dir = tempdir();
    let d = dir.path().join("pack");
    std::fs::create_dir(&d).expect("pack");
    std::fs::write(dir.path().join("secret.webp"), webp_animation(2, 100)).expect("secret");
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.webp")).expect("symlink");
    std::os::unix::fs::symlink(dir.path().join("secret.webp"), d.join("out.webp"))
        .expect("symlink");
    tool("mkfifo", &[p(&d.join("fifo.webp"))]);
    tool("mkfifo", &[p(&dir.path().join("fifo-out"))]);
    std::os::unix::fs::symlink(dir.path().join("fifo-out"), d.join("fifo-link.ogg"))
        .expect("symlink");
    let named = [
        "/dev/zero",
        "../../dev/zero",
        "/etc/shadow",
        "../../etc/passwd",
        "zero.webp",
        "out.webp",
        "fifo.webp",
    ];
    telegram_set(
        &d,
        &named,
        serde_json::json!({ "thumbnail": "/etc/passwd" }),
    );
    edit_json(&d.join("set.json"), |v| {
        v["stickers"][0]["voice"] = "../../dev/zero".into();
        v["stickers"][1]["static_sticker"] = "fifo.webp".into();
    });
    let out = validate_bounded(&d, "telegram");
    assert_eq!(out.status.code(), Some(1));
    let relative = "a pack names its files relative to its folder";
    for (i, name) in named.iter().enumerate() {
        let rule = if *name == "fifo.webp" {
            "is not a regular file (a device, FIFO or socket); it is not read"
        } else {
            "is outside the pack ("
        };
        let line = line_with(
            &out,
            name,
            &format!("set.json stickers[{i}].sticker `{name}` {rule}"),
        );
        if *name != "fifo.webp" {
            assert!(line.contains(relative), "{line}");
        }
    }
    line_with(&out, "/dev/zero", "(an absolute path)");
    line_with(&out, "../../etc/passwd", "(`..` leaves the pack's folder)");
    line_with(&out, "zero.webp", "(a symbolic link to a file outside");
    line_with(
        &out,
        "/etc/passwd",
        "set.json thumbnail `/etc/passwd` is outside",
    );
    line_with(
        &out,
        "../../dev/zero",
        "set.json stickers[0].voice `../../dev/zero` is outside",
    );
    line_with(
        &out,
        "fifo.webp",
        "set.json stickers[1].static_sticker `fifo.webp` is not a regular file",
    );
    line_with(&out, "fifo-link.ogg", "is outside the pack");

    // A name with a newline and a terminal escape is shown escaped, on one line.
    telegram_set(&d, &["x\n\u{1b}[2Jy.webp"], serde_json::json!({}));
    let out = validate_bounded(&d, "telegram");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    line_with(&out, "x\\n\\u{1b}[2Jy.webp", "is missing");

    // WhatsApp's tray and stickers, in contents.json.
    let contents = serde_json::json!({
        "android_play_store_link": "", "ios_app_store_link": "",
        "sticker_packs": [{
            "identifier": "p", "name": "P", "publisher": "L", "tray_image_file": "/dev/zero",
            "image_data_version": "1", "avoid_cache": false, "animated_sticker_pack": false,
            "stickers": [
                { "image_file": "../../etc/passwd", "emojis": ["🎵"] },
                { "image_file": "zero.webp", "emojis": ["🎵"] },
                { "image_file": "fifo.webp", "emojis": ["🎵"] }
            ]
        }]
    });
    std::fs::write(d.join("contents.json"), contents.to_string()).expect("contents");
    let out = validate_bounded(&d, "whatsapp");
    assert_eq!(out.status.code(), Some(1));
    line_with(
        &out,
        "/dev/zero",
        "contents.json sticker_packs[0].tray_image_file `/dev/zero` is outside the pack",
    );
    line_with(
        &out,
        "../../etc/passwd",
        "contents.json sticker_packs[0].stickers[0].image_file `../../etc/passwd` is outside the pack",
    );
    line_with(&out, "zero.webp", "is outside the pack");
    line_with(&out, "fifo.webp", "is not a regular file");
}

/// Item 4: every read has a cap that follows from the rule: a sticker over 10× its cap, a JSON
/// file over 1 MB, a sound with no platform cap over 16 MB are reported from their size without
/// being read (each is an 8 GiB sparse file here: reading one whole would take far longer than the
/// deadline), and JSON nested past MAX_JSON_DEPTH is not parsed.
#[test]
fn files_far_over_their_caps_are_reported_unread() {
    let dir = tempdir();
    let d = dir.path();
    let sparse = |name: &str| {
        let f = std::fs::File::create(d.join(name)).expect("create");
        f.set_len(8 << 30).expect("sparse file");
    };
    sparse("a.webp");
    sparse("thumb.png");
    telegram_set(
        d,
        &["a.webp"],
        serde_json::json!({ "thumbnail": "thumb.png" }),
    );
    let out = validate_bounded(d, "telegram");
    assert_eq!(out.status.code(), Some(1));
    line_with(
        &out,
        "a.webp",
        "is 8589934592 bytes; the limit is 524288 (over 10× the limit, it is not read: OVER_CAP_FACTOR)",
    );
    line_with(
        &out,
        "thumb.png",
        "thumbnail is 8589934592 bytes; a pack's file is read up to 16777216 bytes (MAX_PACK_FILE_BYTES)",
    );

    // Signal: the manifest itself is 8 GiB, then nested 100 000 deep; a voice file of 8 GiB.
    sparse("manifest.json");
    let out = validate_bounded(d, "signal");
    assert_eq!(out.status.code(), Some(1));
    line_with(
        &out,
        "manifest.json",
        "is 8589934592 bytes; a pack's JSON file is read up to 1048576 bytes (MAX_PACK_JSON_BYTES)",
    );
    std::fs::write(d.join("manifest.json"), "[".repeat(100_000)).expect("deep");
    let out = validate_bounded(d, "signal");
    assert_eq!(out.status.code(), Some(1));
    line_with(
        &out,
        "manifest.json",
        "nests more than 64 levels deep (MAX_JSON_DEPTH)",
    );
    std::fs::write(
        d.join("manifest.json"),
        r#"{"title": "P", "author": "L", "stickers": []}"#,
    )
    .expect("manifest");
    sparse("voice.ogg");
    let out = validate_bounded(d, "signal");
    assert_eq!(out.status.code(), Some(1));
    line_with(
        &out,
        "voice.ogg",
        "a pack's sound is read up to 16777216 bytes (MAX_PACK_FILE_BYTES)",
    );
}

/// A zip of `(name, bytes)` members, deflated.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).expect("start");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

/// Item 5: a .wastickers holding a member of 1 GiB of zeros (about 1 MB compressed): validate
/// wrote it to the temporary folder and read it into memory. Now the archive is read in memory
/// and nothing is extracted; the bomb is refused from its declared size and ratio, a member that
/// lies about its size is stopped one byte past what it declares, too many members refuse the
/// archive, and members outside the pack or that are symlinks are reported and never read.
#[test]
fn zip_bombs_are_refused_from_memory_and_nothing_is_extracted() {
    let dir = tempdir();
    let d = dir.path();
    let small = webp_animation(2, 100);
    let mut w = zip::ZipWriter::new(std::io::BufWriter::new(
        std::fs::File::create(d.join("bomb.wastickers")).expect("bomb"),
    ));
    let deflate = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, data) in [
        ("title.txt", &b"Pack"[..]),
        ("author.txt", b"Label"),
        ("a.webp", &small),
        ("b.webp", &small),
    ] {
        w.start_file(name, deflate).expect("start");
        w.write_all(data).expect("write");
    }
    w.start_file("c.webp", deflate).expect("bomb member");
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        w.write_all(&zeros).expect("zeros");
    }
    w.finish().expect("finish");
    let bomb = d.join("bomb.wastickers");
    let on_disk = std::fs::metadata(&bomb).expect("bomb").len();
    assert!(on_disk < 3 << 20, "the bomb is small on disk: {on_disk}");
    let out = validate_bounded(&bomb, "whatsapp");
    assert_eq!(out.status.code(), Some(1));
    let declared = (1u64 << 30) + 4 + 5 + 2 * small.len() as u64;
    line_with(
        &out,
        ".",
        &format!(
            "the archive's members declare {declared} bytes uncompressed; an archive holds at most 67108864 (MAX_ARCHIVE_BYTES), so none is read"
        ),
    );

    // An archive file over MAX_ARCHIVE_BYTES (8 GiB, sparse) is refused from its size, unread.
    let huge = d.join("huge.wastickers");
    std::fs::File::create(&huge)
        .expect("huge")
        .set_len(8 << 30)
        .expect("sparse");
    let out = validate_bounded(&huge, "whatsapp");
    assert_eq!(out.status.code(), Some(1));
    line_with(
        &out,
        ".",
        "the archive is 8589934592 bytes; an archive is read up to 67108864 bytes (MAX_ARCHIVE_BYTES)",
    );

    // A smaller bomb, within the total: 32 MB of zeros, refused for its ratio, the rest still checked.
    let zeros = vec![0u8; 32 << 20];
    let ratio = d.join("ratio.wastickers");
    std::fs::write(
        &ratio,
        zip_of(&[
            ("title.txt", b"Pack"),
            ("author.txt", b"Label"),
            ("a.webp", &small),
            ("b.webp", &small),
            ("c.webp", &zeros),
        ]),
    )
    .expect("ratio");
    let out = validate_bounded(&ratio, "whatsapp");
    assert_eq!(out.status.code(), Some(1));
    let line = line_with(
        &out,
        "c.webp",
        "a member over 1 MB may expand at most 100:1 (MAX_COMPRESSION_RATIO), so it is not read",
    );
    assert!(line.contains("to 33554432 bytes"), "{line}");
    line_with(&out, "tray.png", "tray icon is missing");

    // A member that says 1 000 bytes but holds 4 MB of zeros (and so passes the ratio check).
    let mut lying = zip_of(&[
        ("title.txt", b"Pack"),
        ("author.txt", b"Label"),
        ("a.webp", &[0u8; 4 << 20]),
    ]);
    for sig in [&b"PK\x03\x04"[..], b"PK\x01\x02"] {
        let mut at = 0;
        while let Some(off) = lying[at..].windows(4).position(|w| w == sig) {
            let pos = at + off;
            let name_len = u16::from_le_bytes([
                lying[pos + if sig[2] == 3 { 26 } else { 28 }],
                lying[pos + if sig[2] == 3 { 27 } else { 29 }],
            ]);
            let name_at = pos + if sig[2] == 3 { 30 } else { 46 };
            if &lying[name_at..name_at + usize::from(name_len)] == b"a.webp" {
                let size_at = pos + if sig[2] == 3 { 22 } else { 24 };
                lying[size_at..size_at + 4].copy_from_slice(&1000u32.to_le_bytes());
            }
            at = pos + 4;
        }
    }
    let lie = d.join("lie.wastickers");
    std::fs::write(&lie, &lying).expect("lie");
    let out = validate_bounded(&lie, "whatsapp");
    assert_eq!(out.status.code(), Some(1));
    line_with(&out, "a.webp", "declare");

    // 1 001 members.
    let names: Vec<String> = (0..1001).map(|i| format!("{i}.webp")).collect();
    let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let crowd = d.join("crowd.wastickers");
    std::fs::write(&crowd, zip_of(&many)).expect("crowd");
    let out = validate_bounded(&crowd, "whatsapp");
    assert_eq!(out.status.code(), Some(1));
    line_with(
        &out,
        ".",
        "the archive holds more than 1000 members (MAX_ARCHIVE_MEMBERS)",
    );

    // Members named out of the pack, and a symlink: reported, never written anywhere.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for name in [
        "../../evil.webp",
        "/tmp/evil.webp",
        "title.txt",
        "author.txt",
    ] {
        w.start_file(name, opts).expect("start");
        w.write_all(&small).expect("write");
    }
    w.add_symlink("link.webp", "/dev/zero", opts)
        .expect("symlink");
    let escape = d.join("escape.wastickers");
    std::fs::write(&escape, w.finish().expect("finish").into_inner()).expect("escape");
    let out = validate_bounded(&escape, "whatsapp");
    assert_eq!(out.status.code(), Some(1));
    line_with(
        &out,
        "../../evil.webp",
        "archive member `../../evil.webp` is outside the pack (`..` leaves the pack's folder)",
    );
    line_with(
        &out,
        "/tmp/evil.webp",
        "archive member `/tmp/evil.webp` is outside the pack (an absolute path)",
    );
    line_with(
        &out,
        "link.webp",
        "archive member `link.webp` is a symbolic link, not a regular file",
    );
    assert!(!d.join("evil.webp").exists() && !dir.path().join("../evil.webp").exists());
}

/// Item 6: random bytes behind each format's magic, truncated files and a random archive never
/// panic or abort: each is a violation of its file (exit 1), or a refusal of the archive (exit 2).
#[test]
fn random_bytes_are_violations_never_panics() {
    let dir = tempdir();
    let d = dir.path();
    let mut seed = 0x2545_F491u32;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect()
    };
    let magics: [&[u8]; 5] = [
        b"RIFF\xff\xff\xff\xffWEBPVP8X",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
        b"GIF89a",
        b"\x1a\x45\xdf\xa3",
        b"",
    ];
    let mut names = Vec::new();
    for (m, magic) in magics.iter().enumerate() {
        for i in 0..20 {
            let name = format!("s{m}-{i}.webp");
            let mut bytes = magic.to_vec();
            bytes.extend(noise(i * 97));
            std::fs::write(d.join(&name), bytes).expect("noise");
            names.push(name);
        }
    }
    std::fs::write(d.join("v.ogg"), [b"OggS".to_vec(), noise(3000)].concat()).expect("ogg");
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    telegram_set(d, &refs, serde_json::json!({ "thumbnail": "s3-5.webp" }));
    let out = validate_bounded(d, "telegram");
    assert_eq!(out.status.code(), Some(1));
    line_with(&out, "v.ogg", "is not playable audio");
    line_with(
        &out,
        "s4-0.webp",
        "is not a WebP, PNG/APNG, GIF or WebM image",
    );

    let junk = d.join("junk.wastickers");
    std::fs::write(&junk, [b"PK\x03\x04".to_vec(), noise(5000)].concat()).expect("junk");
    let out = validate_bounded(&junk, "whatsapp");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("junk.wastickers") && err.contains("not a pack folder or zip archive"),
        "{err}"
    );
}
