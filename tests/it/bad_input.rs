//! Bad input gets a one-line error naming the file and the problem, a non-zero exit status, no output
//! file (not even a temporary one) and an untouched input.

use crate::util::*;
use std::path::Path;

/// Run a clip that must fail with `code`; the message must name `names` and say `says`.
fn fails(clip: Cmd, code: i32, names: &str, says: &str, out_dir: &Path) {
    let before = files_in(out_dir);
    let res = clip.run();
    let err = stderr(&res);
    assert_eq!(
        res.status.code(),
        Some(code),
        "{clip:?}: status, stderr:\n{err}"
    );
    let first = err.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{clip:?}: {err}");
    assert!(
        first.contains(names),
        "{clip:?}: error should name `{names}`: {first}"
    );
    assert!(
        first.contains(says),
        "{clip:?}: error should say `{says}`: {first}"
    );
    assert!(res.stdout.is_empty(), "nothing on stdout");
    assert_eq!(files_in(out_dir), before, "{clip:?} left files behind");
}

#[test]
fn bad_inputs_fail_cleanly_and_write_nothing() {
    let dir = tempdir();
    let d = dir.path();
    let out_dir = d.join("out");
    std::fs::create_dir(&out_dir).expect("out dir");
    let out = out_dir.join("clip.ogg");

    let good = d.join("good.flac");
    let src = d.join("src.wav");
    music_wav(&src, 44_100, 2, 4.0, 0.3);
    ffmpeg_convert(&src, &good, &[]);
    let good_bytes = std::fs::read(&good).expect("read");

    // Missing file.
    fails(
        clip(&d.join("nope.flac"), &out),
        2,
        "nope.flac",
        "not found",
        &out_dir,
    );

    // A PNG named .mp3.
    let fake = d.join("cover.mp3");
    std::fs::copy(demo("cover.png"), &fake).expect("copy");
    fails(clip(&fake, &out), 2, "cover.mp3", "unsupported", &out_dir);

    // Truncated FLAC: the first 40 % of the bytes; a range in the missing part.
    let cut = d.join("truncated.flac");
    std::fs::write(&cut, &good_bytes[..good_bytes.len() * 2 / 5]).expect("write");
    fails(
        clip(&cut, &out).start("3").duration("0.5"),
        2,
        "truncated.flac",
        "truncated",
        &out_dir,
    );
    assert_refused(&run(&["probe", p(&cut)]), 2, "truncated");

    // A WAV with a header and no samples.
    let empty = d.join("empty.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    hound::WavWriter::create(&empty, spec)
        .expect("wav")
        .finalize()
        .expect("finish");
    fails(clip(&empty, &out), 2, "empty.wav", "no audio", &out_dir);

    // A zero-byte file.
    let zero = d.join("zero.wav");
    std::fs::write(&zero, b"").expect("write");
    fails(clip(&zero, &out), 2, "zero.wav", "no audio", &out_dir);

    // Ranges.
    fails(
        clip(&good, &out).start("5"),
        2,
        "good.flac",
        "beyond the end of the track (00:04.000)",
        &out_dir,
    );
    fails(
        clip(&good, &out).start("2").end("1"),
        2,
        "good.flac",
        "is not after start",
        &out_dir,
    );
    fails(
        clip(&good, &out).start("2").end("2"),
        2,
        "good.flac",
        "is not after start",
        &out_dir,
    );
    fails(
        clip(&good, &out).duration("0"),
        2,
        "--duration",
        "zero-length",
        &out_dir,
    );
    fails(
        clip(&good, &out).start("3").duration("2"),
        2,
        "good.flac",
        "beyond the end of the track",
        &out_dir,
    );
    fails(
        clip(&good, &out).start("1:75"),
        2,
        "--start",
        "not a timecode",
        &out_dir,
    );
    fails(
        clip(&good, &out).opt("--loudness", "loud"),
        2,
        "--loudness",
        "not a number",
        &out_dir,
    );

    // Outputs.
    fails(
        clip(&good, &out_dir.join("clip.mp3")),
        2,
        "clip.mp3",
        "unknown output type",
        &out_dir,
    );
    fails(
        clip(&good, &d.join("no/such/dir/clip.ogg")),
        1,
        "clip.ogg",
        "cannot write",
        &out_dir,
    );
    let src_bytes = std::fs::read(&src).expect("read");
    fails(clip(&src, &src), 2, "src.wav", "is an input file", &out_dir);
    assert_eq!(std::fs::read(&src).expect("read"), src_bytes);
    let not_image = d.join("notes.png");
    std::fs::write(&not_image, b"these are liner notes, not a picture").expect("write");
    fails(
        clip(&good, &out).opt("--picture", p(&not_image)),
        2,
        "notes.png",
        "unusable image",
        &out_dir,
    );

    // Nothing above touched the input.
    assert_eq!(std::fs::read(&good).expect("read"), good_bytes);
}

#[test]
fn an_existing_output_survives_a_failed_run() {
    let dir = tempdir();
    let d = dir.path();
    let src = d.join("src.wav");
    music_wav(&src, 48_000, 2, 2.0, 0.3);
    let out = d.join("keep.ogg");
    clip(&src, &out).duration("1").run_ok();
    let before = std::fs::read(&out).expect("out");
    let res = clip(&src, &out).start("9").run();
    assert_eq!(res.status.code(), Some(2));
    assert_eq!(
        std::fs::read(&out).expect("out"),
        before,
        "failed run must not replace the old output"
    );
}

#[test]
fn probe_reports_each_file_and_fails_for_the_bad_one() {
    let dir = tempdir();
    let d = dir.path();
    let src = d.join("ok.wav");
    music_wav(&src, 48_000, 2, 1.0, 0.3);
    let res = run(&["--json", "probe", p(&src), p(&d.join("missing.wav"))]);
    assert_eq!(res.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&res.stdout).expect("json");
    assert_eq!(v[0]["duration_frames"], 48_000);
    assert!(
        v[1]["error"]
            .as_str()
            .expect("error")
            .contains("missing.wav")
    );
}
