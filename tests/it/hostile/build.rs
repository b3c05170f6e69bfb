//! Hostile build input: an output folder of someone's files, manifests that would render for hours or
//! take gigabytes, a damaged build cache, two builds into one folder and a build killed mid-way.

use crate::util::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A one-sticker Signal pack (a build of it takes about two seconds): `stickers` copies of its sticker
/// (ids `s0`, `s1`, ...) and `extra` JSON members at the top. Returns the manifest's path.
fn small_pack(dir: &Path, stickers: usize, extra: &str) -> PathBuf {
    music_wav(&dir.join("m.wav"), 44_100, 2, 3.0, 0.4);
    std::fs::copy(demo("cover.png"), dir.join("cover.png")).expect("cover");
    let list: Vec<String> = (0..stickers)
        .map(|i| {
            format!(
                r#"{{ "id": "s{i}", "master": "m.wav", "start": "0.5", "duration": "1", "emojis": ["🎵"] }}"#
            )
        })
        .collect();
    let manifest = format!(
        r#"{{
  "name": "Hostile", "identifier": "hostile", "publisher": "Test", "cover": "cover.png",
  "platforms": ["signal"], "defaults": {{ "fps": 5 }},{extra}
  "stickers": [
    {}
  ]
}}"#,
        list.join(",\n    ")
    );
    let path = dir.join("pack.json");
    std::fs::write(&path, manifest).expect("manifest");
    path
}

/// Every file under `dir` with its bytes, by relative path (links as their target).
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let path = e.expect("entry").path();
            let rel = path
                .strip_prefix(dir)
                .expect("inside")
                .display()
                .to_string();
            if path.is_symlink() {
                let target = std::fs::read_link(&path).expect("link");
                out.push((rel, target.display().to_string().into_bytes()));
            } else if path.is_dir() {
                out.push((format!("{rel}/"), Vec::new()));
                stack.push(path);
            } else {
                out.push((rel, std::fs::read(&path).expect("read")));
            }
        }
    }
    out.sort();
    out
}

/// Names in `dir` a build writes beside its output and must not leave: staging folders, the lock.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    files_in(dir)
        .into_iter()
        .filter(|f| {
            let n = f.file_name().expect("name").to_string_lossy().into_owned();
            n.starts_with(".soundsticker-build-")
                || n.starts_with(".soundsticker-old-")
                || n.ends_with(".soundsticker-lock")
                || n.contains(".kept-")
        })
        .collect()
}

/// Run the binary and time it.
fn timed(args: &[&str]) -> (std::process::Output, Duration) {
    let start = Instant::now();
    let res = run(args);
    (res, start.elapsed())
}

/// A refusal: `code`, one line on stderr that says each of `says`, within `limit`.
fn assert_one_line_refusal(
    res: &std::process::Output,
    took: Duration,
    limit: Duration,
    code: i32,
    says: &[&str],
) -> String {
    let err = stderr(res);
    assert_eq!(res.status.code(), Some(code), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for s in says {
        assert!(err.contains(s), "should say `{s}`: {err}");
    }
    assert!(took < limit, "took {took:?}: {err}");
    err
}

/// Issue 17's data loss: an `--out` folder holding a user's archives and documents (named like what a
/// build writes) was deleted. Now a folder is replaced only if its marker lists everything in it: this
/// one is refused with exit 2, every file kept byte for byte, and the message names them.
#[test]
fn build_refuses_a_folder_of_user_files_and_deletes_nothing() {
    let dir = tempdir();
    let d = dir.path();
    let manifest = small_pack(d, 1, "");
    let user = d.join("backup");
    for (file, bytes) in [
        ("taxes-2025.zip", b"PK\x03\x04 taxes".as_slice()),
        ("family-photos.zip", b"PK\x03\x04 photos"),
        ("pack/thesis.docx", b"PK\x03\x04 thesis"),
        ("signal/notes.txt", b"notes"),
    ] {
        let path = user.join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
        std::fs::write(&path, bytes).expect("file");
    }
    let before = tree(&user);
    let (res, took) = timed(&["build", p(&manifest), "--out", p(&user)]);
    assert_one_line_refusal(
        &res,
        took,
        Duration::from_secs(5),
        2,
        &[
            "--out",
            p(&user),
            "4 files: family-photos.zip, pack/thesis.docx, signal/notes.txt, taxes-2025.zip",
            "soundsticker did not write",
            ".soundsticker-output",
        ],
    );
    assert_eq!(tree(&user), before, "every file kept as it was");
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
    assert!(!d.join(".soundsticker-cache").exists(), "nothing rendered");

    // An output of a build before markers listed files: refused, telling the user what to do.
    let old = d.join("old-dist");
    std::fs::create_dir_all(old.join("signal")).expect("old");
    std::fs::write(
        old.join(".soundsticker-output"),
        "Written by `soundsticker build`: each build replaces this whole folder.\n",
    )
    .expect("marker");
    std::fs::write(old.join("signal").join("s0.png"), b"png").expect("png");
    let before = tree(&old);
    let (res, took) = timed(&["build", p(&manifest), "--out", p(&old)]);
    assert_one_line_refusal(
        &res,
        took,
        Duration::from_secs(5),
        2,
        &[
            "older soundsticker",
            "signal/s0.png",
            "delete or empty the folder yourself",
        ],
    );
    assert_eq!(tree(&old), before);
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
}

/// A file dropped into an earlier build's output (at the top, or inside one of its folders) stops
/// the next build, which keeps it; once moved out, the build replaces the folder.
#[test]
fn build_keeps_a_user_file_dropped_into_an_earlier_output() {
    let dir = tempdir();
    let d = dir.path();
    let manifest = small_pack(d, 1, "");
    let out = d.join("dist");
    run_ok(&["build", p(&manifest), "--out", p(&out)]);
    let built = tree(&out);
    let marker = std::fs::read_to_string(out.join(".soundsticker-output")).expect("marker");
    for listed in ["signal/", "signal/s0.png", "pack.zip", "preview.html"] {
        assert!(marker.lines().any(|l| l == listed), "{listed} in {marker}");
    }
    for (file, says) in [
        ("notes.txt", "1 file: notes.txt"),
        ("signal/mine.png", "1 file: signal/mine.png"),
    ] {
        std::fs::write(out.join(file), "mine").expect("drop");
        let mut expected = built.clone();
        expected.push((file.to_string(), b"mine".to_vec()));
        expected.sort();
        let (res, took) = timed(&["build", p(&manifest), "--out", p(&out)]);
        assert_one_line_refusal(
            &res,
            took,
            Duration::from_secs(5),
            2,
            &[p(&out), says, "did not write", "move them out"],
        );
        assert_eq!(tree(&out), expected, "{file} kept, the output untouched");
        assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
        std::fs::remove_file(out.join(file)).expect("move out");
    }
    let start = Instant::now();
    run_ok(&["build", p(&manifest), "--out", p(&out)]);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(tree(&out), built, "rebuilt byte for byte");
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
}

/// Every count rule is checked when the manifest is loaded, before anything renders: 121 Telegram
/// stickers rendered for 87 s before being refused. Lists and texts over the manifest's limits are
/// refused as they are parsed, and a manifest over 4 MB before it is read (a 200 MB one took 10 GB).
#[test]
fn build_checks_counts_and_sizes_before_rendering() {
    let dir = tempdir();
    let d = dir.path();
    let telegram = small_pack(d, 121, r#" "telegram": { "bot_username": "hostile_bot" },"#);
    let text = std::fs::read_to_string(&telegram)
        .expect("manifest")
        .replace(r#"["signal"]"#, r#"["telegram"]"#);
    std::fs::write(&telegram, text).expect("telegram");
    let out = d.join("dist");
    let (res, took) = timed(&["build", p(&telegram), "--out", p(&out)]);
    assert_one_line_refusal(
        &res,
        took,
        Duration::from_secs(2),
        2,
        &[
            "pack.json:",
            "/stickers",
            "121 stickers",
            "a Telegram set holds at most 120",
        ],
    );

    let manifest = small_pack(d, 1, "");
    let good = std::fs::read_to_string(&manifest).expect("manifest");
    let made = std::cell::Cell::new(0);
    let with = |from: &str, to: &str| {
        assert!(good.contains(from), "{from}");
        made.set(made.get() + 1);
        let path = d.join(format!("bad{}.json", made.get()));
        std::fs::write(&path, good.replace(from, to)).expect("write");
        path
    };
    let words = |n: usize| {
        let list: Vec<String> = (0..n).map(|i| format!("\"w{i}\"")).collect();
        format!(r#""keywords": [{}], "emojis""#, list.join(", "))
    };
    let cases: Vec<(&str, PathBuf, Vec<&str>)> = vec![
        (
            "65 keywords",
            with(r#""emojis""#, &words(65)),
            vec![
                "bad1.json:",
                "/stickers/0/keywords",
                "more than 64",
                "at most 64 keywords",
            ],
        ),
        (
            "1001 stickers",
            {
                let one = r#"{ "id": "s0", "master": "m.wav", "start": "0.5", "duration": "1", "emojis": ["🎵"] }"#;
                let many = vec![one; 1001].join(",");
                with(one, &many)
            },
            vec!["/stickers", "more than 1000 items; at most 1000 stickers"],
        ),
        (
            "a name of 2000 characters",
            with(
                r#""name": "Hostile""#,
                &format!(r#""name": "{}""#, "é".repeat(2000)),
            ),
            vec![
                "/name",
                "2000 characters; a text field of a manifest holds at most 1024",
            ],
        ),
        (
            "a keyword of 100 000 characters",
            with(
                r#""emojis""#,
                &format!(r#""keywords": ["{}"], "emojis""#, "k".repeat(100_000)),
            ),
            vec!["/stickers/0/keywords/0", "at most 1024"],
        ),
    ];
    for (what, path, says) in cases {
        let (res, took) = timed(&["build", p(&path), "--out", p(&out)]);
        let err = assert_one_line_refusal(&res, took, Duration::from_secs(2), 2, &says);
        assert!(
            err.len() < 1000,
            "{what}: a short message: {}",
            err.chars().take(1000).collect::<String>()
        );
    }

    // Larger than 4 MB: a 5 MB manifest of keywords, and a 200 MB one (sparse: nothing on disk).
    let big = d.join("big.json");
    let mut text = String::from(r#"{"name": "x", "stickers": [{"keywords": ["#);
    while text.len() < 5 << 20 {
        text.push_str("\"kw\",");
    }
    text.push_str("\"kw\"]}]}");
    std::fs::write(&big, text).expect("big");
    let huge = d.join("huge.json");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(200 << 20))
        .expect("sparse");
    for path in [&big, &huge] {
        let (res, took) = timed(&["build", p(path), "--out", p(&out)]);
        assert_one_line_refusal(
            &res,
            took,
            Duration::from_secs(1),
            2,
            &[p(path), "larger than 4 MB"],
        );
    }
    assert!(!out.exists(), "nothing written");
    assert!(!d.join(".soundsticker-cache").exists(), "nothing rendered");
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
}

/// The manifest loader on hostile bytes: a byte-order mark is skipped, and text that is not UTF-8,
/// nesting 100 000 deep, numbers beyond any type, a key of a million characters are each refused
/// with exit 2 in one short line naming the file and the place: never a panic or a long wait.
#[test]
fn build_refuses_hostile_manifest_bytes() {
    let dir = tempdir();
    let d = dir.path();
    let manifest = small_pack(d, 1, "");
    let good = std::fs::read(&manifest).expect("manifest");
    let good_text = String::from_utf8(good.clone()).expect("utf-8");
    let out = d.join("dist");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(
        good_text
            .replace(r#""publisher": "Test""#, r#""publisher": """#)
            .as_bytes(),
    );
    let mut latin1 = good.clone();
    let at = good_text.find("Hostile").expect("name");
    latin1[at] = 0xE9;
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "a byte-order mark",
            bom,
            vec!["/publisher", "1 to 128 characters"],
        ),
        ("Latin-1 text", latin1, vec!["2:12 /: not UTF-8 text"]),
        (
            "nesting 100 000 deep",
            good_text
                .replacen(
                    r#""name": "Hostile""#,
                    &format!(r#""name": {}"#, "[".repeat(100_000)),
                    1,
                )
                .into_bytes(),
            vec!["/name"],
        ),
        (
            "a number beyond any type",
            good_text
                .replace(
                    r#""fps": 5"#,
                    r#""fps": 1e999, "outline": 123456789012345678901234567890"#,
                )
                .into_bytes(),
            vec!["/defaults/fps", "number out of range"],
        ),
        (
            "an outline beyond u32",
            good_text
                .replace(
                    r#""fps": 5"#,
                    r#""outline": 123456789012345678901234567890"#,
                )
                .into_bytes(),
            vec!["/defaults/outline"],
        ),
        (
            "a start of a million digits",
            good_text
                .replace(
                    r#""start": "0.5""#,
                    &format!(r#""start": "{}""#, "9".repeat(1_000_000)),
                )
                .into_bytes(),
            vec!["/stickers/0/start"],
        ),
        (
            "an unknown key of a million characters",
            good_text
                .replace(
                    r#""publisher""#,
                    &format!(r#""{}": 1, "publisher""#, "p".repeat(1_000_000)),
                )
                .into_bytes(),
            vec!["unknown field", "characters left out"],
        ),
        (
            "an empty file",
            Vec::new(),
            vec!["1:0 /: EOF while parsing"],
        ),
    ];
    for (what, bytes, says) in cases {
        let path = d.join("hostile.json");
        std::fs::write(&path, &bytes).expect("write");
        let mut says = says;
        says.push("hostile.json:");
        let (res, took) = timed(&["build", p(&path), "--out", p(&out)]);
        let err = assert_one_line_refusal(&res, took, Duration::from_secs(2), 2, &says);
        assert!(
            err.len() < 1000,
            "{what}: a short message: {}",
            err.chars().take(1000).collect::<String>()
        );
    }
    assert!(!out.exists(), "nothing written");
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
}

/// A cached file with 64 bytes flipped was copied into every archive. Now each cached file is checked
/// against its SHA-256: the damaged one is rendered again, with a warning naming the sticker, and
/// the output is byte-identical to the first build's.
#[test]
fn build_renders_a_damaged_cache_file_again() {
    let dir = tempdir();
    let d = dir.path();
    let manifest = small_pack(d, 1, "");
    let (first, second) = (d.join("first"), d.join("second"));
    run_ok(&["build", p(&manifest), "--out", p(&first)]);
    let built = tree(&first);
    // The largest cached file: an image.
    let cache = d.join(".soundsticker-cache");
    let (victim, _) = tree(&cache)
        .into_iter()
        .filter(|(name, _)| !name.ends_with('/'))
        .max_by_key(|(_, bytes)| bytes.len())
        .expect("a cached file");
    let victim = cache.join(victim);
    let mut bytes = std::fs::read(&victim).expect("read");
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0xA5;
    }
    std::fs::write(&victim, &bytes).expect("flip");

    let start = Instant::now();
    let res = run(&["build", p(&manifest), "--out", p(&second)]);
    let err = stderr(&res);
    assert_eq!(res.status.code(), Some(0), "{err}");
    assert!(start.elapsed() < Duration::from_secs(10));
    let warning = err
        .lines()
        .find(|l| l.starts_with("warning:") && l.contains("damaged"))
        .unwrap_or_else(|| panic!("a warning: {err}"));
    assert!(
        warning.contains("sticker `s0`") && warning.contains("SHA-256"),
        "{warning}"
    );
    assert_eq!(tree(&second), built, "byte-identical to the first build");
    // The entry was replaced: the next build takes everything from the cache, without a warning.
    let report = run_json(&["build", p(&manifest), "--out", p(&second)]);
    assert_eq!(report["cache"]["misses"], 0, "{report}");
    assert!(report["cache"]["warning"].is_null(), "{report}");
    assert_eq!(tree(&second), built);
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
}

/// Two builds into one output folder: the second is refused at once naming the first (exit 2: the
/// invocation is the mistake; shards go to different folders), and the first finishes a whole
/// output. A build killed with SIGKILL leaves the previous output intact and its lock free; the next
/// build cleans up after it.
#[test]
fn build_into_a_busy_folder_is_refused_and_a_killed_build_is_cleaned_up() {
    let dir = tempdir();
    let d = dir.path();
    let manifest = small_pack(d, 2, "");
    let out = d.join("dist");
    let lock = d.join(".dist.soundsticker-lock");
    let start_build = |extra: &[&str]| {
        bin()
            .args([
                "--quiet",
                "build",
                p(&manifest),
                "--out",
                p(&out),
                "--jobs",
                "1",
            ])
            .args(extra)
            .env("CI", "true")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "waited too long for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let first = start_build(&[]);
    wait_for("the first build's lock", &|| lock.exists());
    let (res, took) = timed(&["build", p(&manifest), "--out", p(&out)]);
    assert_one_line_refusal(
        &res,
        took,
        Duration::from_secs(2),
        2,
        &[
            &format!("another build (pid {}) is writing {}", first.id(), p(&out)),
            "wait for it",
        ],
    );
    let status = first.wait_with_output().expect("first");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let built = tree(&out);
    assert!(
        built.iter().any(|(n, _)| n == "signal/s1.png"),
        "a whole output"
    );
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));

    // Killed while rendering (no cache, so it renders).
    let staging = || {
        files_in(d)
            .into_iter()
            .filter(|f| f.to_string_lossy().contains(".soundsticker-build-"))
            .collect::<Vec<_>>()
    };
    let mut killed = start_build(&["--no-cache"]);
    let pid = format!("-{}-", killed.id());
    wait_for("the killed build's first sticker", &|| {
        staging().iter().any(|s| {
            s.to_string_lossy().contains(&pid)
                && std::fs::read_dir(s.join("signal")).is_ok_and(|mut f| f.next().is_some())
        })
    });
    killed.kill().expect("SIGKILL");
    killed.wait().expect("wait");
    assert_eq!(tree(&out), built, "the previous output intact");
    assert_eq!(staging().len(), 1, "its staging stays until the next build");
    let start = Instant::now();
    run_ok(&["build", p(&manifest), "--out", p(&out)]);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(tree(&out), built, "rebuilt byte for byte");
    assert!(leftovers(d).is_empty(), "cleaned up: {:?}", leftovers(d));
}
