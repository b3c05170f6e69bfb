//! Every supported input format: probed to its exact length, cut sample-accurately, and encoded to Ogg
//! Opus that opusinfo, opusdec and ffmpeg accept, at the requested loudness.

use crate::util::*;
use std::path::Path;

struct Format {
    name: &'static str,
    file: &'static str,
    ffmpeg: &'static [&'static str],
    codec: &'static str,
    /// Largest sample difference from the source after decoding (quantisation of the format), or None
    /// for lossy codecs, which are checked by alignment instead.
    lossless_tolerance: Option<f32>,
}

const FORMATS: &[Format] = &[
    Format {
        name: "WAV 16-bit",
        file: "s16.wav",
        ffmpeg: &["-c:a", "pcm_s16le"],
        codec: "pcm_s16le",
        lossless_tolerance: Some(1.0 / 16384.0),
    },
    Format {
        name: "WAV 24-bit",
        file: "s24.wav",
        ffmpeg: &["-c:a", "pcm_s24le"],
        codec: "pcm_s24le",
        lossless_tolerance: Some(1e-5),
    },
    Format {
        name: "WAV 32-bit int",
        file: "s32.wav",
        ffmpeg: &["-c:a", "pcm_s32le"],
        codec: "pcm_s32le",
        lossless_tolerance: Some(1e-5),
    },
    Format {
        name: "WAV float",
        file: "f32.wav",
        ffmpeg: &["-c:a", "pcm_f32le"],
        codec: "pcm_f32le",
        lossless_tolerance: Some(1e-5),
    },
    Format {
        name: "FLAC 16-bit",
        file: "s16.flac",
        ffmpeg: &["-c:a", "flac", "-sample_fmt", "s16"],
        codec: "flac",
        lossless_tolerance: Some(1.0 / 16384.0),
    },
    Format {
        name: "FLAC 24-bit",
        file: "s24.flac",
        ffmpeg: &["-c:a", "flac", "-sample_fmt", "s32"],
        codec: "flac",
        lossless_tolerance: Some(1e-5),
    },
    Format {
        name: "AIFF",
        file: "s16.aiff",
        ffmpeg: &["-c:a", "pcm_s16be"],
        codec: "pcm_s16be",
        lossless_tolerance: Some(1.0 / 16384.0),
    },
    Format {
        name: "ALAC",
        file: "alac.m4a",
        ffmpeg: &["-c:a", "alac"],
        codec: "alac",
        lossless_tolerance: Some(1e-5),
    },
    Format {
        name: "MP3",
        file: "lame.mp3",
        ffmpeg: &["-c:a", "libmp3lame", "-b:a", "192k"],
        codec: "mp3",
        lossless_tolerance: None,
    },
    Format {
        name: "AAC in M4A",
        file: "aac.m4a",
        ffmpeg: &["-c:a", "aac", "-b:a", "192k"],
        codec: "aac",
        lossless_tolerance: None,
    },
    Format {
        name: "Ogg Vorbis",
        file: "vorbis.ogg",
        ffmpeg: &["-c:a", "libvorbis", "-q:a", "6"],
        codec: "vorbis",
        lossless_tolerance: None,
    },
    Format {
        name: "Ogg Opus",
        file: "master.opus",
        ffmpeg: &["-c:a", "libopus", "-b:a", "160k"],
        codec: "opus",
        lossless_tolerance: None,
    },
];

/// Where `clip` best lines up with `reference` (samples of channel 0), searching ±`span` frames.
fn best_alignment(
    clip: &[f32],
    clip_ch: usize,
    reference: &[f32],
    ref_ch: usize,
    at: usize,
    span: i64,
) -> i64 {
    let n = 4_000.min(clip.len() / clip_ch - 100);
    let mut best = (f64::MAX, 0i64);
    for off in -span..=span {
        let mut err = 0.0;
        for i in 100..n {
            let r = (at as i64 + i as i64 + off) as usize;
            let d = f64::from(clip[i * clip_ch]) - f64::from(reference[r * ref_ch]);
            err += d * d;
        }
        if err < best.0 {
            best = (err, off);
        }
    }
    best.1
}

#[test]
fn every_format_probes_exactly_cuts_on_the_sample_and_encodes_cleanly() {
    let dir = tempdir();
    let d = dir.path();
    let src = d.join("source.wav");
    music_wav(&src, 48_000, 2, 6.0, 0.5);
    let (reference, _) = read_wav(&src);
    for f in FORMATS {
        let master = d.join(f.file);
        ffmpeg_convert(&src, &master, f.ffmpeg);

        // probe: codec and exact length (6 s at 48 kHz).
        let probe = run_json(&["probe", p(&master)]);
        let entry = &probe[0];
        assert_eq!(entry["codec"], f.codec, "{}: codec", f.name);
        assert_eq!(entry["sample_rate"], 48_000, "{}", f.name);
        assert_eq!(entry["channels"], 2, "{}", f.name);
        assert_eq!(
            entry["duration_frames"], 288_000,
            "{}: exact decoded length",
            f.name
        );

        // A cut at 2.000 s, level untouched, lands on the source's sample 96 000.
        let raw = d.join(format!("{}.cut.wav", f.file));
        clip(&master, &raw)
            .start("2")
            .duration("1")
            .untouched()
            .opt("--bits", 24)
            .run_ok();
        let (cut, ch) = read_wav(&raw);
        assert_eq!(
            cut.len(),
            48_000 * 2,
            "{}: 1 s cut has 48 000 frames",
            f.name
        );
        match f.lossless_tolerance {
            Some(tol) => {
                let worst = cut
                    .iter()
                    .zip(&reference[96_000 * 2..])
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                assert!(
                    worst <= tol,
                    "{}: differs from the source by {worst} (tolerance {tol})",
                    f.name
                );
            }
            // Lossy codecs: the waveform must line up with the source exactly (no delay or priming left).
            None => assert_eq!(
                best_alignment(&cut, usize::from(ch), &reference, 2, 96_000, 200),
                0,
                "{}: cut is shifted against the source",
                f.name
            ),
        }

        // The Opus sound sticker: conformant, exact length, on target.
        let ogg = d.join(format!("{}.ogg", f.file));
        clip(&master, &ogg).start("1.5").duration("3").run_ok();
        assert_opusinfo_clean(&ogg);
        assert_eq!(
            opusdec_frames(&ogg, d),
            144_000,
            "{}: decoded length",
            f.name
        );
        // Loudness ±0.5 LU, true peak at most 0.1 dB over (see LUFS_TOLERANCE, TRUE_PEAK_MARGIN).
        assert_on_target(&ogg, -16.0, -1.0, f.name);
        assert_eq!(
            ffprobe_stream(&ogg),
            ("opus".to_string(), 48_000, 2),
            "{}",
            f.name
        );
    }
}

#[test]
fn sample_rates_from_22k_to_192k_give_exact_48k_clips() {
    let dir = tempdir();
    let d = dir.path();
    for rate in [22_050u32, 44_100, 48_000, 96_000, 192_000] {
        let src = d.join(format!("m{rate}.wav"));
        music_wav(&src, rate, 2, 4.0, 0.4);
        let flac = d.join(format!("m{rate}.flac"));
        ffmpeg_convert(&src, &flac, &["-c:a", "flac", "-sample_fmt", "s32"]);
        let out = d.join(format!("c{rate}.ogg"));
        let report = clip(&flac, &out).start("0.25").end("2.75").run_json();
        assert_eq!(report["range"]["source_rate"], rate);
        assert_eq!(report["frames"], 120_000, "{rate} Hz");
        // Within one sample at 48 kHz of the 2.5 s asked for.
        assert!(opusdec_frames(&out, d).abs_diff(120_000) <= 1, "{rate} Hz");
        assert_lufs_near(&out, -16.0, &format!("{rate} Hz"));
    }
}

#[test]
fn opus_masters_keep_their_tags() {
    let dir = tempdir();
    let d = dir.path();
    let src = d.join("s.wav");
    music_wav(&src, 48_000, 1, 3.0, 0.4);
    let master = d.join("tagged.opus");
    ffmpeg_convert(
        &src,
        &master,
        &[
            "-af",
            "aformat=channel_layouts=mono",
            "-c:a",
            "libopus",
            "-metadata",
            "title=Hook Line",
            "-metadata",
            "artist=The Testers",
        ],
    );
    let probe = run_json(&["probe", p(&master)]);
    assert_eq!(probe[0]["tags"]["title"], "Hook Line");
    assert_eq!(probe[0]["tags"]["artist"], "The Testers");
    assert_eq!(probe[0]["channels"], 1);
    let out = d.join("c.ogg");
    clip(&master, &out).start("1").duration("1").run_ok();
    let tags = ffprobe_tags(&out);
    assert!(tags.contains("Hook Line"), "title copied: {tags}");
}

fn ffprobe_tags(path: &Path) -> String {
    ffprobe_show(path, &[], "stream_tags:format_tags", "default=nw=1")
}
