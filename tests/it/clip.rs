//! `soundsticker clip`: sample-accurate cuts, loudness and true peak checked with ffmpeg, short clips,
//! channel handling, seeking in long masters, byte caps, tags, pictures and reproducible bytes.

use crate::util::*;
use std::path::Path;

/// A silent 48 kHz/`rate` mono 16-bit WAV with one full-scale click at `click`.
fn click_wav(path: &Path, rate: u32, frames: usize, click: usize) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for i in 0..frames {
        w.write_sample(if i == click { 30_000i16 } else { 0 })
            .expect("sample");
    }
    w.finalize().expect("finish");
}

fn argmax(samples: &[f32], ch: usize) -> usize {
    (0..samples.len() / ch)
        .max_by(|&a, &b| samples[a * ch].abs().total_cmp(&samples[b * ch].abs()))
        .expect("non-empty")
}

const RAW: &[&str] = &[
    "--loudness",
    "off",
    "--true-peak",
    "off",
    "--fade-in",
    "0",
    "--fade-out",
    "0",
];

#[test]
fn a_click_lands_on_the_exact_sample() {
    let dir = tempdir();
    let d = dir.path();
    // 48 kHz: click at 2 s + 4 800 samples; a cut from 2 s puts it at sample 4 800 exactly.
    let m48 = d.join("click48.wav");
    click_wav(&m48, 48_000, 240_000, 96_000 + 4_800);
    let out = d.join("c48.wav");
    let mut args = vec![
        "clip",
        p(&m48),
        "-o",
        p(&out),
        "--start",
        "2",
        "--duration",
        "0.5",
        "--bits",
        "16",
    ];
    args.extend_from_slice(RAW);
    run_ok(&args);
    let (s, ch) = read_wav(&out);
    assert_eq!(s.len(), 24_000);
    assert_eq!(argmax(&s, usize::from(ch)), 4_800);
    // 16-bit TPDF dither moves a sample by at most 2 LSB.
    assert!(
        (s[4_800] - 30_000.0 / 32_768.0).abs() < 3.0 / 32_768.0,
        "click value {}",
        s[4_800]
    );

    // 44.1 kHz kept at 44.1 kHz: the click at 2 s + 441 samples lands on 441.
    let m44 = d.join("click44.wav");
    click_wav(&m44, 44_100, 220_500, 88_200 + 441);
    let out = d.join("c44.wav");
    let mut args = vec![
        "clip",
        p(&m44),
        "-o",
        p(&out),
        "--start",
        "0:02.000",
        "--end",
        "2500ms",
        "--sample-rate",
        "44100",
    ];
    args.extend_from_slice(RAW);
    run_ok(&args);
    let (s, ch) = read_wav(&out);
    assert_eq!(s.len(), 22_050);
    assert_eq!(argmax(&s, usize::from(ch)), 441);

    // Through resampling and Opus: 441 samples at 44.1 kHz is 10 ms, sample 480 at 48 kHz (±2 samples:
    // the click is smeared by the codec, the peak stays put).
    let ogg = d.join("c44.ogg");
    let mut args = vec![
        "clip",
        p(&m44),
        "-o",
        p(&ogg),
        "--start",
        "2",
        "--duration",
        "0.5",
        "--bitrate",
        "256k",
    ];
    args.extend_from_slice(RAW);
    run_ok(&args);
    let (s, ch) = opusdec(&ogg, d);
    assert_eq!(s.len() / usize::from(ch), 24_000);
    let at = argmax(&s, usize::from(ch));
    assert!(at.abs_diff(480) <= 2, "click at {at}, expected 480");
}

#[test]
fn short_clips_reach_the_target_where_loudnorm_gives_up() {
    let dir = tempdir();
    let d = dir.path();
    let src = d.join("m.wav");
    music_wav(&src, 44_100, 2, 8.0, 0.1);
    for (dur, frames) in [("1", 48_000), ("0.6", 28_800), ("2.5", 120_000)] {
        let out = d.join(format!("c{dur}.ogg"));
        let r = run_json(&[
            "clip",
            p(&src),
            "-o",
            p(&out),
            "--start",
            "3",
            "--duration",
            dur,
            "--loudness",
            "-18",
        ]);
        assert_eq!(r["frames"], frames);
        assert_opusinfo_clean(&out);
        let (lufs, tp) = ffmpeg_loudness(&out);
        assert!((lufs + 18.0).abs() <= 0.5, "{dur} s clip: {lufs} LUFS");
        assert!(tp <= -1.0 + 0.1, "{dur} s clip: {tp} dBTP");
        // Our own re-measurement of the shipped file agrees with ffmpeg's (±0.2 LU: same standard).
        let ours = r["loudness"]["achieved_lufs"].as_f64().expect("achieved");
        assert!((ours - lufs).abs() <= 0.2, "ours {ours} vs ffmpeg {lufs}");
    }
}

#[test]
fn a_clipping_master_is_limited_under_the_ceiling() {
    let dir = tempdir();
    let d = dir.path();
    // A float master whose peaks go 4 dB over full scale: true peak well above 0 dBTP.
    let src = d.join("hot.wav");
    music_wav(&src, 48_000, 2, 6.0, 1.6);
    let probe = run_json(&["probe", p(&src)]);
    assert!(probe[0]["loudness"]["true_peak_dbtp"].as_f64().expect("tp") > 0.5);
    for (target, ceiling) in [("-14", "-1"), ("-16", "-2"), ("-20", "-1")] {
        let out = d.join(format!("hot{target}.ogg"));
        let r = run_json(&[
            "clip",
            p(&src),
            "-o",
            p(&out),
            "--start",
            "1",
            "--duration",
            "4",
            "--loudness",
            target,
            "--true-peak",
            ceiling,
        ]);
        let (lufs, tp) = ffmpeg_loudness(&out);
        let (target, ceiling): (f64, f64) =
            (target.parse().expect("n"), ceiling.parse().expect("n"));
        assert!((lufs - target).abs() <= 0.5, "{target}: {lufs} LUFS");
        assert!(tp <= ceiling + 0.1, "{target}/{ceiling}: {tp} dBTP");
        assert!(r["loudness"]["passes"].as_u64().expect("passes") <= 3);
    }
    // WAV output holds the ceiling exactly as well (no codec in between).
    let wav = d.join("hot.wav.out.wav");
    run_ok(&[
        "clip",
        p(&src),
        "-o",
        p(&wav),
        "--start",
        "1",
        "--duration",
        "4",
        "--loudness",
        "-12",
    ]);
    let (_, tp) = ffmpeg_loudness(&wav);
    assert!(tp <= -1.0 + 0.1, "WAV true peak {tp}");
}

#[test]
fn channels_mono_stereo_and_surround() {
    let dir = tempdir();
    let d = dir.path();
    let stereo = d.join("st.wav");
    music_wav(&stereo, 48_000, 2, 3.0, 0.3);
    let surround = d.join("51.wav");
    music_wav(&surround, 48_000, 6, 3.0, 0.3);
    let mono = d.join("mono.wav");
    music_wav(&mono, 48_000, 1, 3.0, 0.3);
    let cases: &[(&Path, &str, &str, u32)] = &[
        (&stereo, "mono", "ogg", 1),
        (&stereo, "keep", "ogg", 2),
        (&mono, "stereo", "ogg", 2),
        (&mono, "keep", "ogg", 1),
        (&surround, "keep", "ogg", 2),
        (&surround, "mono", "ogg", 1),
        (&surround, "keep", "wav", 6),
    ];
    for (i, (src, mode, ext, want)) in cases.iter().enumerate() {
        let out = d.join(format!("c{i}.{ext}"));
        let r = run_json(&[
            "clip",
            p(src),
            "-o",
            p(&out),
            "--duration",
            "2",
            "--channels",
            mode,
        ]);
        let (_, _, channels) = ffprobe_stream(&out);
        assert_eq!(
            channels,
            *want,
            "{} --channels {mode} → .{ext}",
            src.display()
        );
        if *want != 6 {
            let (lufs, _) = ffmpeg_loudness(&out);
            assert!((lufs + 16.0).abs() <= 0.5, "case {i}: {lufs}");
        }
        if src.ends_with("51.wav") && *mode == "keep" && *ext == "ogg" {
            assert!(
                r["warnings"][0]
                    .as_str()
                    .expect("warning")
                    .contains("downmixed to stereo")
            );
        }
    }
}

#[test]
fn seeking_decodes_only_the_clip_of_a_long_master() {
    let dir = tempdir();
    let d = dir.path();
    let long = d.join("long.flac");
    // 20 minutes, generated.
    tool(
        "sox",
        &[
            "-n",
            "-r",
            "44100",
            "-c",
            "2",
            "-b",
            "16",
            p(&long),
            "synth",
            "1200",
            "sine",
            "440",
            "sine",
            "554",
            "gain",
            "-12",
        ],
    );
    let out = d.join("late.ogg");
    let r = run_json(&[
        "clip",
        p(&long),
        "-o",
        p(&out),
        "--start",
        "19:30",
        "--duration",
        "4",
    ]);
    let decoded = r["decoded_frames"].as_u64().expect("decoded_frames");
    let clip_frames = 4 * 44_100;
    // Seek, then decode at most a few FLAC blocks before the start: far less than the 52.9 M frames.
    assert!(
        decoded >= clip_frames && decoded < clip_frames + 3 * 8_192,
        "decoded {decoded} frames"
    );
    assert_eq!(r["range"]["start_frame"], 1170 * 44_100);
    let (s, ch) = opusdec(&out, d);
    assert_eq!(s.len() / usize::from(ch), 4 * 48_000);
}

#[test]
fn loudness_reference_master_keeps_relative_levels() {
    let dir = tempdir();
    let d = dir.path();
    // Quiet first half, loud second half (+8 dB).
    let quiet = d.join("q.wav");
    music_wav(&quiet, 48_000, 2, 5.0, 0.1);
    let loud = d.join("l.wav");
    music_wav(&loud, 48_000, 2, 5.0, 0.25);
    let master = d.join("master.flac");
    tool("sox", &[p(&quiet), p(&loud), "-b", "24", p(&master)]);
    let a = d.join("a.ogg");
    let b = d.join("b.ogg");
    let ra = run_json(&[
        "clip",
        p(&master),
        "-o",
        p(&a),
        "--start",
        "1",
        "--duration",
        "3",
        "--loudness-ref",
        "master",
    ]);
    let rb = run_json(&[
        "clip",
        p(&master),
        "-o",
        p(&b),
        "--start",
        "6",
        "--duration",
        "3",
        "--loudness-ref",
        "master",
    ]);
    assert_eq!(
        ra["loudness"]["gain_db"], rb["loudness"]["gain_db"],
        "one gain for the whole master"
    );
    let (la, _) = ffmpeg_loudness(&a);
    let (lb, _) = ffmpeg_loudness(&b);
    let expected = 20.0 * (0.25f64 / 0.1).log10();
    assert!(
        ((lb - la) - expected).abs() <= 0.5,
        "difference {} LU, expected {expected}",
        lb - la
    );
}

#[test]
fn byte_caps_hold_and_are_used_well() {
    let dir = tempdir();
    let d = dir.path();
    let src = d.join("m.wav");
    music_wav(&src, 48_000, 2, 8.0, 0.3);
    for (cap, dur, ch) in [
        (20_000u64, "3", "stereo"),
        (8_000, "2", "mono"),
        (60_000, "5", "stereo"),
    ] {
        let out = d.join(format!("cap{cap}.ogg"));
        let r = run_json(&[
            "clip",
            p(&src),
            "-o",
            p(&out),
            "--duration",
            dur,
            "--channels",
            ch,
            "--max-bytes",
            &cap.to_string(),
        ]);
        let size = std::fs::metadata(&out).expect("out").len();
        assert!(size <= cap, "{size} > {cap}");
        // The bitrate is chosen from the budget, not left low: at least 85 % of it is used.
        assert!(
            size * 100 >= cap * 85,
            "{size} bytes uses too little of {cap}"
        );
        assert_eq!(r["encoding"]["bytes"], size);
        assert_opusinfo_clean(&out);
    }
    let out = d.join("impossible.ogg");
    let res = run(&[
        "clip",
        p(&src),
        "-o",
        p(&out),
        "--duration",
        "5",
        "--max-bytes",
        "1000",
    ]);
    assert_eq!(res.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&res.stderr).contains("cannot fit"));
    assert!(!out.exists());
}

#[test]
fn tags_picture_and_byte_identical_rebuilds() {
    let dir = tempdir();
    let d = dir.path();
    let src = d.join("m.wav");
    music_wav(&src, 44_100, 2, 4.0, 0.3);
    let master = d.join("m.flac");
    ffmpeg_convert(
        &src,
        &master,
        &[
            "-metadata",
            "TITLE=Original Title",
            "-metadata",
            "ARTIST=Label Act",
            "-metadata",
            "ALBUM=The Album",
        ],
    );
    let picture = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/cover-thumb.jpg");
    let a = d.join("a.ogg");
    let b = d.join("b.ogg");
    for out in [&a, &b] {
        run_ok(&[
            "clip",
            p(&master),
            "-o",
            p(out),
            "--start",
            "1",
            "--duration",
            "2",
            "--title",
            "Sticker Title",
            "--picture",
            p(&picture),
        ]);
    }
    assert_eq!(
        std::fs::read(&a).expect("a"),
        std::fs::read(&b).expect("b"),
        "rebuilds are byte-identical"
    );
    let info = tool("opusinfo", &[p(&a)]);
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("TITLE=Sticker Title"), "{text}");
    assert!(text.contains("ARTIST=Label Act") && text.contains("ALBUM=The Album"));
    assert!(text.contains("SOURCE_RANGE=00:01.000-00:03.000"));
    assert!(text.contains("Playback gain: 0 dB"));
    assert!(!text.contains("REPLAYGAIN"));
    // ffmpeg sees the embedded cover as an attached picture stream.
    let streams = ffprobe_show(&a, &[], "stream=codec_name,width,height", "csv=p=0");
    assert!(
        streams.contains("mjpeg,256,256"),
        "picture stream missing: {streams}"
    );
    // A different clip gets a different stream serial.
    let c = d.join("c.ogg");
    run_ok(&[
        "clip",
        p(&master),
        "-o",
        p(&c),
        "--start",
        "1.5",
        "--duration",
        "2",
    ]);
    assert_ne!(
        std::fs::read(&a).expect("a")[14..18],
        std::fs::read(&c).expect("c")[14..18]
    );
}
