//! Hostile audio input, pictures and cover art: headers that lie about rates, channels and
//! lengths, a picture that never ends, images that decompress to gigabytes, Ctrl-C mid-run, and
//! random bit-flips in every audio format. Fixtures are made at test time and stay small on disk.

use crate::util::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Every hostile run must end within this.
const BOUNDED: Duration = Duration::from_secs(10);

/// Run the binary with `args`, killing it past [`BOUNDED`] (a hang fails the test by name).
fn run_bounded(args: &[&str]) -> Output {
    let started = Instant::now();
    let mut child = bin()
        .args(args)
        .env("CI", "true")
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run soundsticker");
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > BOUNDED {
            let _ = child.kill();
            panic!("soundsticker {args:?} hangs: still running after {BOUNDED:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().expect("output")
}

/// The run was refused as an input error (exit 2) in one line naming `file` and saying `rule`.
fn assert_input_error(out: &Output, file: &Path, rule: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{}: {err}", file.display());
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    let name = file.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(err.contains(name), "names {name}: {err}");
    assert!(err.contains(rule), "says `{rule}`: {err}");
}

/// `probe FILE` and `clip FILE -o DIR/out.ogg` are both refused with `rule`, leaving `dir` as it was.
fn assert_probe_and_clip_refuse(file: &Path, dir: &Path, rule: &str) {
    let before = files_in(dir);
    assert_input_error(&run_bounded(&["probe", p(file)]), file, rule);
    let out = dir.join("out.ogg");
    assert_input_error(&run_bounded(&["clip", p(file), "-o", p(&out)]), file, rule);
    assert_eq!(files_in(dir), before, "nothing left behind");
}

/// A 16-bit mono WAV of `secs` of a tone at 44.1 kHz.
fn tone_wav(path: &Path, secs: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for i in 0..(secs * 44_100.0) as usize {
        let t = i as f64 / 44_100.0;
        w.write_sample(((2.0 * std::f64::consts::PI * 440.0 * t).sin() * 9_000.0) as i16)
            .expect("sample");
    }
    w.finalize().expect("finish");
}

/// Where `tag` starts in `bytes`.
fn find(bytes: &[u8], tag: &[u8]) -> usize {
    bytes
        .windows(tag.len())
        .position(|w| w == tag)
        .unwrap_or_else(|| panic!("no {}", String::from_utf8_lossy(tag)))
}

/// A copy of `src` at `dst` with `patch` applied to its bytes.
fn patched(src: &Path, dst: &Path, patch: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(src).expect("read");
    patch(&mut bytes);
    std::fs::write(dst, bytes).expect("write");
    dst.to_path_buf()
}

/// Rewrite a FLAC's STREAMINFO fields (sample rate, channels − 1, bits − 1, total samples), each
/// kept when `None`.
fn flac_streaminfo(bytes: &mut [u8], rate: Option<u64>, bits: Option<u64>, total: Option<u64>) {
    let at = 8 + 10;
    let mut v = u64::from_be_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let mut set = |shift: u32, width: u32, value: Option<u64>| {
        if let Some(x) = value {
            let mask = ((1u64 << width) - 1) << shift;
            v = (v & !mask) | ((x << shift) & mask);
        }
    };
    set(44, 20, rate);
    set(36, 5, bits);
    set(0, 36, total);
    bytes[at..at + 8].copy_from_slice(&v.to_be_bytes());
}

/// An Ogg Opus file (made by `clip`) rewritten packet by packet with its OpusHead changed by `edit`.
fn opus_with_head(good: &Path, dst: &Path, edit: impl Fn(&mut Vec<u8>)) -> PathBuf {
    let file = std::fs::File::open(good).expect("open");
    let mut reader = ogg::PacketReader::new(std::io::BufReader::new(file));
    let mut writer = ogg::PacketWriter::new(Vec::new());
    let mut first = true;
    while let Some(packet) = reader.read_packet().expect("ogg packet") {
        let mut data = packet.data.clone();
        if first {
            edit(&mut data);
            first = false;
        }
        let end = if packet.last_in_stream() {
            ogg::PacketWriteEndInfo::EndStream
        } else if packet.last_in_page() {
            ogg::PacketWriteEndInfo::EndPage
        } else {
            ogg::PacketWriteEndInfo::NormalPacket
        };
        writer
            .write_packet(data, packet.stream_serial(), end, packet.absgp_page())
            .expect("write packet");
    }
    std::fs::write(dst, writer.into_inner()).expect("write");
    dst.to_path_buf()
}

/// Masters of every container we read, 1 s of tone each, made from one WAV.
fn masters(dir: &Path) -> Vec<PathBuf> {
    let wav = dir.join("m.wav");
    tone_wav(&wav, 1.0);
    let mut all = vec![wav.clone()];
    for (name, args) in [
        ("m.flac", &[][..]),
        ("m.mp3", &["-b:a", "64k"][..]),
        ("m.m4a", &["-c:a", "aac", "-b:a", "64k"][..]),
        ("alac.m4a", &["-c:a", "alac"][..]),
        ("m.oga", &["-c:a", "libvorbis"][..]),
        ("m.aiff", &[][..]),
    ] {
        let out = dir.join(name);
        ffmpeg_convert(&wav, &out, args);
        all.push(out);
    }
    let opus = dir.join("m.opus");
    clip(&wav, &opus).untouched().run_ok();
    all.push(opus);
    all
}

/// Item 1: a header field out of range (a rate of 0, 1 or 4294967295 Hz, 0 or 65535 channels, 0
/// bits) is refused by name in every container, before a decoder, the meter or the frame
/// arithmetic sees it; `build` says so for its master instead of dividing by zero.
#[test]
fn bogus_header_fields_are_refused_by_name() {
    let dir = tempdir();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let good = dir.path().join("good.wav");
    tone_wav(&good, 1.0);
    let fmt = find(&std::fs::read(&good).expect("read"), b"fmt ") + 8;
    let wav = |name: &str, at: usize, value: &[u8]| {
        let value = value.to_vec();
        patched(&good, &dir.path().join(name), move |b| {
            b[fmt + at..fmt + at + value.len()].copy_from_slice(&value)
        })
    };
    for (name, rate) in [("r0.wav", 0u32), ("r1.wav", 1), ("rmax.wav", u32::MAX)] {
        let f = wav(name, 4, &rate.to_le_bytes());
        assert_probe_and_clip_refuse(
            &f,
            &work,
            &format!("sample rate {rate} Hz; we take 8000–384000 Hz"),
        );
    }
    for (name, at, value, rule) in [
        ("c0.wav", 2, 0u16, "channel count"),
        ("c65535.wav", 2, u16::MAX, "channel count"),
        ("b0.wav", 14, 0, "bits per sample"),
    ] {
        assert_probe_and_clip_refuse(&wav(name, at, &value.to_le_bytes()), &work, rule);
    }
    // A block alignment of 0 is recomputed by the decoder: the audio is read as it is.
    let ba0 = wav("ba0.wav", 12, &0u16.to_le_bytes());
    let report = run_json(&["probe", p(&ba0)]);
    assert_eq!(report[0]["duration_frames"], 44_100, "{report}");

    // AIFF: COMM holds channels (i16), frames (u32), bits (i16) and an 80-bit float rate.
    let aiff = dir.path().join("good.aiff");
    ffmpeg_convert(&good, &aiff, &[]);
    let comm = find(&std::fs::read(&aiff).expect("read"), b"COMM") + 8;
    let one_hz = [0x3F, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
    let f = patched(&aiff, &dir.path().join("r1.aiff"), |b| {
        b[comm + 8..comm + 18].copy_from_slice(&one_hz)
    });
    assert_probe_and_clip_refuse(&f, &work, "sample rate 1 Hz; we take 8000–384000 Hz");
    let f = patched(&aiff, &dir.path().join("c255.aiff"), |b| {
        b[comm..comm + 2].copy_from_slice(&255u16.to_be_bytes())
    });
    assert_probe_and_clip_refuse(&f, &work, "255 channels; we take 1–8");

    // FLAC: STREAMINFO's 20-bit rate reaches 1048575 Hz.
    let flac = dir.path().join("good.flac");
    ffmpeg_convert(&good, &flac, &[]);
    let f = patched(&flac, &dir.path().join("rmax.flac"), |b| {
        flac_streaminfo(b, Some(0xF_FFFF), None, None)
    });
    assert_probe_and_clip_refuse(&f, &work, "sample rate");
    let f = patched(&flac, &dir.path().join("b0.flac"), |b| {
        flac_streaminfo(b, None, Some(0), None)
    });
    assert_probe_and_clip_refuse(&f, &work, "bits per sample");

    // Ogg Opus: channel count 0 or 255, mapping family 255 with bogus stream counts.
    let opus = dir.path().join("good.opus");
    clip(&good, &opus).untouched().run_ok();
    let f = opus_with_head(&opus, &dir.path().join("c0.opus"), |h| h[9] = 0);
    assert_probe_and_clip_refuse(&f, &work, "0 channels; we take 1–8");
    let f = opus_with_head(&opus, &dir.path().join("c255.opus"), |h| h[9] = 255);
    assert_probe_and_clip_refuse(&f, &work, "255 channels; we take 1–8");
    let f = opus_with_head(&opus, &dir.path().join("fam255.opus"), |h| {
        h[18] = 255;
        h.extend_from_slice(&[0, 7, 0xFF, 0xFF]);
    });
    assert_probe_and_clip_refuse(&f, &work, "mapping family 255");
    // A pre-skip longer than the whole stream leaves no audio at all.
    let f = opus_with_head(&opus, &dir.path().join("preskip.opus"), |h| {
        h[10..12].copy_from_slice(&u16::MAX.to_le_bytes())
    });
    assert_probe_and_clip_refuse(&f, &work, "contains no audio samples");

    // build: the master's header is judged when the manifest is checked.
    let r0 = dir.path().join("r0.wav");
    std::fs::copy(demo("cover.png"), dir.path().join("art.png")).expect("cover");
    let manifest = dir.path().join("pack.json");
    std::fs::write(
        &manifest,
        r#"{ "name": "Hostile", "identifier": "hostile_pack", "publisher": "Test",
             "cover": "art.png", "platforms": ["discord"],
             "stickers": [ { "id": "one", "master": "r0.wav", "start": "0", "duration": "0.5",
                             "emojis": ["🎵"] } ] }"#,
    )
    .expect("manifest");
    let out = dir.path().join("out");
    let res = run_bounded(&["build", p(&manifest), "--out", p(&out)]);
    let err = stderr(&res);
    assert_eq!(res.status.code(), Some(2), "{err}");
    assert!(
        err.contains("sample rate 0 Hz; we take 8000–384000 Hz") && err.contains("r0.wav"),
        "{err}"
    );
    assert!(!out.exists(), "no output for a refused build");
    assert!(r0.exists(), "the input is untouched");
}

/// Item 2: lengths that lie. A WAV header claiming 10 hours over 1 s of audio is reported
/// truncated; a FLAC claiming 10 hours is refused from its header; an Ogg page claiming 65 KB of
/// lacing over a short file is reported cut off; all at once and in little memory. A master really
/// over 6 hours whose header hides its length is refused when decoding reaches the limit.
#[test]
fn lying_lengths_are_caught_in_bounded_time_and_memory() {
    let dir = tempdir();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let good = dir.path().join("good.wav");
    tone_wav(&good, 1.0);
    let ten_hours: u32 = 44_100 * 2 * 36_000;
    let wav = patched(&good, &dir.path().join("tenh.wav"), |b| {
        let data = find(b, b"data");
        b[data + 4..data + 8].copy_from_slice(&ten_hours.to_le_bytes());
        let riff = (ten_hours + data as u32).to_le_bytes();
        b[4..8].copy_from_slice(&riff);
    });
    assert_probe_and_clip_refuse(
        &wav,
        &work,
        "the header promises 10:00:00.000 of audio but the file holds at most 00:01.000",
    );

    let flac = dir.path().join("good.flac");
    ffmpeg_convert(&good, &flac, &[]);
    let f = patched(&flac, &dir.path().join("tenh.flac"), |b| {
        flac_streaminfo(b, None, None, Some(44_100 * 36_000))
    });
    assert_probe_and_clip_refuse(
        &f,
        &work,
        "longer than 6 hours (the header says the audio lasts 10:00:00.000)",
    );

    // Half an hour of 384 kHz 8-channel audio is under 6 hours but over the sample budget
    // (MAX_AUDIO_SAMPLES: 6 hours of 96 kHz stereo), which bounds the time a small file can cost.
    let hires = dir.path().join("hires8.flac");
    let made = Command::new("sox")
        .args(["-n", "-r", "384000", "-c", "8", "-b", "16"])
        .arg(&hires)
        .args(["trim", "0", "0.1"])
        .status()
        .expect("sox");
    assert!(made.success());
    let f = patched(&hires, &dir.path().join("hires.flac"), |b| {
        flac_streaminfo(b, None, None, Some(384_000 * 1_800))
    });
    assert_probe_and_clip_refuse(
        &f,
        &work,
        "longer than 22:30.000 at 384000 Hz × 8 channels (the header says the audio lasts 30:00.000)",
    );

    let opus = dir.path().join("good.opus");
    clip(&good, &opus).untouched().run_ok();
    let f = patched(&opus, &dir.path().join("lacing.opus"), |b| {
        // In place of the last page, a page header (granule -1: no packet ends on it) whose 255
        // lacing values of 255 promise 65 025 bytes, followed by 100.
        let last = b.windows(4).rposition(|w| w == b"OggS").expect("a page");
        b.truncate(last);
        let serial = b[14..18].to_vec();
        b.extend_from_slice(b"OggS\0\0");
        b.extend_from_slice(&[0xFF; 8]);
        b.extend_from_slice(&serial);
        b.extend_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0, 255]);
        b.extend_from_slice(&[255; 255]);
        b.extend_from_slice(&[0; 100]);
    });
    assert_probe_and_clip_refuse(&f, &work, "an Ogg page is cut off");

    for file in [&wav, &f] {
        let kb = peak_rss_kb(&["probe", p(file)]);
        assert!(kb < 100_000, "{}: peak {kb} KB", file.display());
    }

    // Over 6 hours at 8 kHz, its length left out of STREAMINFO: clip past 5:59 stops at the limit.
    let long = dir.path().join("long.flac");
    silent_flac(&long, 8_000, 6 * 3_600 + 60);
    let started = Instant::now();
    let res = run_bounded(&[
        "clip",
        p(&long),
        "-o",
        p(&work.join("end.ogg")),
        "--start",
        "5:59:00",
    ]);
    assert_input_error(
        &res,
        &long,
        "longer than 6 hours (the audio goes on past that)",
    );
    assert!(started.elapsed() < BOUNDED);
    assert!(files_in(&work).is_empty(), "nothing left behind");
}

/// Peak resident memory of a run of the binary, KB, as GNU time reports it.
fn peak_rss_kb(args: &[&str]) -> u64 {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_soundsticker"))
        .args(args)
        .env("CI", "true")
        .output()
        .expect("/usr/bin/time (GNU time); run `make deps`");
    let text = stderr(&out);
    text.lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in {text}"))
}

/// A FLAC of `secs` of digital silence, mono 16-bit at `rate` (8 kHz here), with no total length
/// in STREAMINFO and no seek table: frames of 65535 samples, each one constant subframe. Written
/// by hand because it is a few hundred bytes per hour, where an encoder would read gigabytes.
fn silent_flac(path: &Path, rate: u32, secs: u64) {
    assert_eq!(rate, 8_000, "the frame header below codes 8 kHz");
    const BLOCK: u64 = 65_535;
    let mut out = b"fLaC".to_vec();
    // Last metadata block, STREAMINFO, 34 bytes.
    out.extend_from_slice(&[0x80, 0, 0, 34]);
    out.extend_from_slice(&(BLOCK as u16).to_be_bytes());
    out.extend_from_slice(&(BLOCK as u16).to_be_bytes());
    out.extend_from_slice(&[0; 6]); // frame sizes unknown
    let info = (u64::from(rate) << 44) | (15 << 36); // mono, 16 bits, total samples 0 (unknown)
    out.extend_from_slice(&info.to_be_bytes());
    out.extend_from_slice(&[0; 16]); // no MD5
    let frames = (secs * u64::from(rate)).div_ceil(BLOCK);
    for n in 0..frames {
        let start = out.len();
        // Sync, fixed blocksize; blocksize from the end of the header (0111), 8 kHz (0100);
        // mono (0000), 16 bits (100).
        out.extend_from_slice(&[0xFF, 0xF8, 0x74, 0x08]);
        out.extend_from_slice(&utf8_number(n));
        out.extend_from_slice(&((BLOCK - 1) as u16).to_be_bytes());
        let crc = crc8(&out[start..]);
        out.push(crc);
        out.extend_from_slice(&[0x00, 0x00, 0x00]); // constant subframe of 0
        let crc = crc16(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    std::fs::write(path, out).expect("write flac");
}

/// A frame number as FLAC codes it (UTF-8 style, up to 3 bytes here).
fn utf8_number(n: u64) -> Vec<u8> {
    match n {
        0..0x80 => vec![n as u8],
        0x80..0x800 => vec![0xC0 | (n >> 6) as u8, 0x80 | (n & 0x3F) as u8],
        _ => vec![
            0xE0 | (n >> 12) as u8,
            0x80 | ((n >> 6) & 0x3F) as u8,
            0x80 | (n & 0x3F) as u8,
        ],
    }
}

/// FLAC's frame header CRC-8 (polynomial 0x07).
fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |mut crc, &b| {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// FLAC's frame CRC-16 (polynomial 0x8005).
fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |mut crc, &b| {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// Item 3: `clip --picture` refuses a device, a FIFO and a picture over 16 MB at once, and leaves
/// no output.
#[test]
fn clip_pictures_that_never_end_are_refused_at_once() {
    let dir = tempdir();
    let master = dir.path().join("m.wav");
    tone_wav(&master, 0.5);
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let fifo = dir.path().join("cover.fifo");
    let c = std::ffi::CString::new(p(&fifo)).expect("path");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let sparse = dir.path().join("huge.png");
    let f = std::fs::File::create(&sparse).expect("create");
    f.set_len(17 << 20).expect("sparse file");
    for (picture, rule) in [
        (Path::new("/dev/zero"), "not a regular file"),
        (fifo.as_path(), "not a regular file"),
        (sparse.as_path(), "larger than 16 MB; use a smaller picture"),
    ] {
        let out = work.join("out.ogg");
        let res = run_bounded(&["clip", p(&master), "-o", p(&out), "--picture", p(picture)]);
        assert_input_error(&res, picture, rule);
        assert!(files_in(&work).is_empty(), "nothing left behind");
    }
}

/// Wait until `dir` holds a hidden `.part` file (the output being made), or fail.
fn wait_for_part(dir: &Path, child: &mut Child) {
    let started = Instant::now();
    loop {
        let part = files_in(dir)
            .iter()
            .any(|f| f.to_string_lossy().ends_with(".part"));
        if part {
            return;
        }
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("finished ({status}) before its .part appeared");
        }
        assert!(started.elapsed() < BOUNDED, "no .part file appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Send `signal` to `child` once its `.part` is in `dir`: it exits 130 leaving nothing there.
fn interrupt(mut child: Child, dir: &Path, signal: i32) {
    wait_for_part(dir, &mut child);
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill only sends a signal to the child we started.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let started = Instant::now();
    let out = child.wait_with_output().expect("wait");
    assert!(started.elapsed() < BOUNDED);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(files_in(dir).is_empty(), "left behind: {:?}", files_in(dir));
}

/// Item 4: Ctrl-C (SIGINT) during `clip` and SIGTERM during `cover` remove the output's hidden
/// `.part` file and exit 130.
#[test]
fn interrupted_clip_and_cover_leave_no_part_file() {
    let dir = tempdir();
    let master = dir.path().join("long.wav");
    music_wav(&master, 48_000, 1, 60.0, 0.5);
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let spawn = |args: &[&str]| {
        bin()
            .args(args)
            .env("CI", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let child = spawn(&["clip", p(&master), "-o", p(&work.join("all.ogg"))]);
    interrupt(child, &work, libc::SIGINT);

    let art = dir.path().join("art.png");
    std::fs::copy(demo("cover.png"), &art).expect("cover");
    let child = spawn(&[
        "cover",
        p(&art),
        "-o",
        p(&work.join("sticker.webp")),
        "--audio",
        p(&master),
        "--max-duration",
        "10",
        "--fps",
        "30",
    ]);
    interrupt(child, &work, libc::SIGTERM);
}

/// A PNG of `width`×`height` pixels of zeros (16-bit RGBA when `deep`, else 8-bit RGBA), written
/// row by row so a bomb never exists whole in memory.
fn zero_png(path: &Path, width: u32, height: u32, deep: bool) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut enc = png::Encoder::new(file, width, height);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(if deep {
        png::BitDepth::Sixteen
    } else {
        png::BitDepth::Eight
    });
    enc.set_compression(png::Compression::Balanced);
    let mut writer = enc.write_header().expect("header");
    let mut stream = writer.stream_writer().expect("stream");
    let row = vec![0u8; width as usize * if deep { 8 } else { 4 }];
    for _ in 0..height {
        stream.write_all(&row).expect("row");
    }
    stream.finish().expect("finish");
}

/// Item 5: a 16384×16384 16-bit PNG (2 MB on disk, 2 GB decoded) is refused from its header with
/// little memory; a 16384×1 PNG fills a sticker without being scaled up whole.
#[test]
fn image_bombs_are_refused_or_fitted_in_bounded_memory() {
    let dir = tempdir();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let bomb = dir.path().join("bomb.png");
    let started = Instant::now();
    zero_png(&bomb, 16_384, 16_384, true);
    let size = std::fs::metadata(&bomb).expect("bomb").len();
    eprintln!("bomb: {size} bytes in {:?}", started.elapsed());
    assert!(size < 8 << 20, "{size} bytes");
    let out = work.join("sticker.webp");
    let args = ["cover", p(&bomb), "-o", p(&out), "--style", "still"];
    assert_input_error(
        &run_bounded(&args),
        &bomb,
        "16384×16384 pixels at 64 bits a pixel need 3072 MB to decode and fit; the limit is 320 MB",
    );
    let kb = peak_rss_kb(&args);
    assert!(kb < 600_000, "peak {kb} KB");
    assert!(files_in(&work).is_empty(), "nothing left behind");

    let wide = dir.path().join("wide.png");
    zero_png(&wide, 16_384, 1, false);
    let args = ["cover", p(&wide), "-o", p(&out), "--style", "still"];
    let started = Instant::now();
    let kb = peak_rss_kb(&args);
    assert!(started.elapsed() < BOUNDED);
    assert!(kb < 600_000, "peak {kb} KB");
    let (w, h) = image_size(&out);
    assert_eq!((w, h), (512, 512));
}

/// Width and height of an image file.
fn image_size(path: &Path) -> (u32, u32) {
    let text = ffprobe_show(path, &[], "stream=width,height", "default=nw=1");
    let get = |k: &str| {
        ffprobe_field(&text, k)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {k} in {text}"))
    };
    (get("width"), get("height"))
}

/// Item 6: random bit-flips in all 8 formats never crash (101, 134, 70) or hang `probe` or `clip`.
#[test]
fn bit_flipped_masters_never_crash_or_hang() {
    let dir = tempdir();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let started = Instant::now();
    let mut runs = 0;
    for master in masters(dir.path()) {
        let good = std::fs::read(&master).expect("read");
        let ext = master.extension().and_then(|e| e.to_str()).expect("ext");
        for i in 0..25 {
            let mut bytes = good.clone();
            // Flip 1 to 8 bits, mostly in the first kilobyte where the headers are.
            for _ in 0..1 + next() % 8 {
                let span = if next() % 4 == 0 { bytes.len() } else { 1024 };
                let at = (next() as usize) % span.min(bytes.len());
                bytes[at] ^= 1 << (next() % 8);
            }
            let f = dir.path().join(format!("flip{i}.{ext}"));
            std::fs::write(&f, &bytes).expect("write");
            let out = work.join("out.ogg");
            for args in [
                vec!["probe", p(&f)],
                vec!["clip", p(&f), "-o", p(&out), "--duration", "0.5"],
            ] {
                let res = run_bounded(&args);
                let code = res.status.code();
                assert!(
                    matches!(code, Some(0..=2)),
                    "{args:?} on {} flipped: exit {code:?}: {}",
                    master.display(),
                    stderr(&res)
                );
                runs += 1;
            }
            let _ = std::fs::remove_file(&out);
            assert!(
                files_in(&work).is_empty(),
                "left behind: {:?}",
                files_in(&work)
            );
        }
    }
    assert_eq!(runs, 8 * 25 * 2);
    eprintln!("{runs} runs in {:?}", started.elapsed());
}
