//! `soundsticker probe`: format, exact length, tags and loudness, cross-checked with ffmpeg.

use crate::util::*;

#[test]
fn probe_reports_format_length_tags_and_loudness_like_ffmpeg() {
    let dir = tempdir();
    let d = dir.path();
    let src = d.join("m.wav");
    music_wav(&src, 96_000, 2, 12.0, 0.35);
    let flac = d.join("m.flac");
    ffmpeg_convert(
        &src,
        &flac,
        &[
            "-sample_fmt",
            "s32",
            "-metadata",
            "TITLE=Probe Me",
            "-metadata",
            "ARTIST=Meter",
            "-metadata",
            "ALBUM=Tests",
            "-metadata",
            "ISRC=GBABC2600001",
        ],
    );
    let v = run_json(&["probe", p(&flac)]);
    let r = &v[0];
    assert_eq!(r["container"], "flac");
    assert_eq!(r["codec"], "flac");
    assert_eq!(r["sample_rate"], 96_000);
    assert_eq!(r["channels"], 2);
    assert_eq!(r["bits_per_sample"], 24);
    assert_eq!(r["duration_frames"], 12 * 96_000);
    assert_eq!(r["duration"], "00:12.000");
    assert_eq!(r["tags"]["title"], "Probe Me");
    assert_eq!(r["tags"]["artist"], "Meter");
    assert_eq!(r["tags"]["album"], "Tests");
    assert_eq!(r["tags"]["isrc"], "GBABC2600001");
    let l = &r["loudness"];
    let (i, tp) = ffmpeg_loudness(&flac);
    let num = |k: &str| l[k].as_f64().unwrap_or_else(|| panic!("{k} missing: {l}"));
    // Same standard, independent implementations: integrated within 0.1 LU, LRA within 0.5 LU,
    // true peak within 0.3 dB (the meters oversample differently).
    assert!(
        (num("integrated_lufs") - i).abs() <= 0.1,
        "I {} vs ffmpeg {i}",
        num("integrated_lufs")
    );
    assert!((num("range_lu") - ffmpeg_ebur128(&flac, "LRA:")).abs() <= 0.5);
    assert!(
        (num("true_peak_dbtp") - tp).abs() <= 0.3,
        "TP {} vs ffmpeg {tp}",
        num("true_peak_dbtp")
    );
    assert!(num("sample_peak_dbfs") <= num("true_peak_dbtp") + 1e-9);
    assert!(num("max_momentary_lufs") >= num("max_short_term_lufs") - 0.01);
    assert!(num("max_short_term_lufs") >= num("integrated_lufs") - 0.5);

    // Human output names the same figures.
    let out = run(&["probe", p(&flac)]);
    let text = stderr(&out);
    assert!(out.status.success());
    assert!(
        text.contains("flac in flac, 96000 Hz, 2 ch (FL FR), 24-bit"),
        "{text}"
    );
    assert!(text.contains("00:12.000 (1152000 frames)"), "{text}");
}
