//! Shared helpers for the integration tests: run the real binary, make fixtures with ffmpeg/sox and
//! Rust code at test time, and read results back with independent tools (ffmpeg, opusinfo, opusdec).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// ±0.5 LU around a loudness target: BS.1770 meters agree within 0.1 LU and Opus moves loudness a
/// little.
pub const LUFS_TOLERANCE: f64 = 0.5;
/// How far over a ceiling ffmpeg's true-peak meter may read (it reads up to a few tenths high on some
/// content): 0.1 dB.
pub const TRUE_PEAK_MARGIN: f64 = 0.1;

/// The binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_soundsticker"))
}

/// Run the binary with `args`; returns the output whatever the status.
pub fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .env("CI", "true")
        .output()
        .expect("run soundsticker")
}

/// Run and insist on success, returning stdout.
pub fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "soundsticker {args:?} failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run with `--json` and parse stdout.
pub fn run_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let s = run_ok(&all);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{s}"))
}

/// A `soundsticker` command line built option by option, then run: `clip(&master, &out).start("2")
/// .duration("1").run_json()`.
#[derive(Debug)]
pub struct Cmd {
    args: Vec<String>,
}

/// Run an external tool, insisting on success; its stdout as text.
pub fn tool_stdout(cmd: &str, args: &[&str]) -> String {
    String::from_utf8_lossy(&tool(cmd, args).stdout).into_owned()
}

/// `soundsticker clip INPUT -o OUT`.
pub fn clip(input: &Path, out: &Path) -> Cmd {
    Cmd::new(&["clip", p(input), "-o", p(out)])
}

/// `soundsticker cover ART -o OUT`.
pub fn cover(art: &Path, out: &Path) -> Cmd {
    Cmd::new(&["cover", p(art), "-o", p(out)])
}

impl Cmd {
    pub fn new(args: &[&str]) -> Self {
        Cmd {
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// More arguments as they are.
    pub fn args(mut self, more: &[&str]) -> Self {
        self.args.extend(more.iter().map(|a| a.to_string()));
        self
    }

    /// `FLAG VALUE`.
    pub fn opt(self, flag: &str, value: impl ToString) -> Self {
        self.args(&[flag, &value.to_string()])
    }

    pub fn start(self, at: &str) -> Self {
        self.opt("--start", at)
    }

    pub fn duration(self, length: &str) -> Self {
        self.opt("--duration", length)
    }

    pub fn end(self, at: &str) -> Self {
        self.opt("--end", at)
    }

    /// A clip's samples as the master has them: no loudness target, limiter or fades.
    pub fn untouched(self) -> Self {
        self.args(&[
            "--loudness",
            "off",
            "--true-peak",
            "off",
            "--fade-in",
            "0",
            "--fade-out",
            "0",
        ])
    }

    pub fn audio(self, path: &Path) -> Self {
        self.opt("--audio", p(path))
    }

    pub fn style(self, style: &str) -> Self {
        self.opt("--style", style)
    }

    pub fn platform(self, platform: &str) -> Self {
        self.opt("--platform", platform)
    }

    pub fn size(self, px: u32) -> Self {
        self.opt("--size", px)
    }

    fn argv(&self) -> Vec<&str> {
        self.args.iter().map(String::as_str).collect()
    }

    /// See [`run`].
    pub fn run(&self) -> Output {
        run(&self.argv())
    }

    /// See [`run_ok`].
    pub fn run_ok(&self) -> String {
        run_ok(&self.argv())
    }

    /// See [`run_json`].
    pub fn run_json(&self) -> serde_json::Value {
        run_json(&self.argv())
    }
}

/// A run's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The run exited with `code` and its stderr says `says`.
pub fn assert_refused(out: &Output, code: i32, says: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.contains(says), "should say `{says}`: {err}");
}

/// A file of the demo assets (`assets/demo/FILE`).
pub fn demo(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/demo")
        .join(file)
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Change a JSON file with `f`.
pub fn edit_json(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v = read_json(path);
    f(&mut v);
    std::fs::write(path, serde_json::to_vec(&v).expect("json")).expect("write");
}

/// A fresh temporary folder.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Run an external tool, insisting on success.
pub fn tool(cmd: &str, args: &[&str]) -> Output {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} not available ({e}); run `make deps`"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// A music-like test signal: a chord with a rhythmic envelope, a noise hi-hat and a kick on each beat,
/// `secs` long, written as 32-bit float WAV so any format can be made from it without loss.
pub fn music_wav(path: &Path, rate: u32, channels: u16, secs: f64, level: f32) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    let n = (secs * f64::from(rate)) as usize;
    let mut seed: u32 = 0x1234_5678;
    let beat = f64::from(rate) * 0.5;
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        let in_beat = (i as f64 % beat) / f64::from(rate);
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed as f64 / u32::MAX as f64) * 2.0 - 1.0;
        let chord: f64 = [220.0, 277.18, 329.63, 440.0]
            .iter()
            .map(|f| (2.0 * std::f64::consts::PI * f * t).sin())
            .sum::<f64>()
            * 0.15
            * (0.6 + 0.4 * (2.0 * std::f64::consts::PI * 0.5 * t).sin());
        let kick = (2.0 * std::f64::consts::PI * (50.0 + 80.0 * (-in_beat * 30.0).exp()) * in_beat)
            .sin()
            * (-in_beat * 10.0).exp()
            * 0.6;
        let hat = noise * (-(((i as f64) % (beat / 2.0)) / f64::from(rate)) * 60.0).exp() * 0.15;
        for c in 0..channels {
            let pan = if c % 2 == 0 { 1.0 } else { 0.8 };
            let s =
                (chord * pan + kick + hat * if c % 2 == 0 { 0.7 } else { 1.0 }) * f64::from(level);
            w.write_sample(s as f32).expect("write");
        }
    }
    w.finalize().expect("finish wav");
}

/// A master of `music_wav` sections, one after the other, each (seconds, level), joined by sox (`sox_args`
/// go before the output, e.g. `-b 24`).
pub fn music_sections(
    path: &Path,
    rate: u32,
    channels: u16,
    sections: &[(f64, f32)],
    sox_args: &[&str],
) {
    let parts = tempdir();
    let files: Vec<PathBuf> = sections
        .iter()
        .enumerate()
        .map(|(i, &(secs, level))| {
            let part = parts.path().join(format!("{i}.wav"));
            music_wav(&part, rate, channels, secs, level);
            part
        })
        .collect();
    let mut args: Vec<&str> = files.iter().map(|f| p(f)).collect();
    args.extend_from_slice(sox_args);
    args.push(p(path));
    tool("sox", &args);
}

/// Run ffmpeg quietly, overwriting its output (`args` are the rest of its command line).
pub fn ffmpeg(args: &[&str]) {
    let mut all = vec!["-v", "error", "-y"];
    all.extend_from_slice(args);
    tool("ffmpeg", &all);
}

/// Convert with ffmpeg (`args` go between input and output).
pub fn ffmpeg_convert(input: &Path, output: &Path, args: &[&str]) {
    let mut all = vec!["-i", p(input)];
    all.extend_from_slice(args);
    all.push(p(output));
    ffmpeg(&all);
}

/// The figures of ffmpeg's ebur128 summary (`I:`, `LRA:`, `Peak:` ...) as (label, value) pairs.
pub fn ffmpeg_ebur128_summary(path: &Path) -> Vec<(String, f64)> {
    let out = tool(
        "ffmpeg",
        &[
            "-nostats",
            "-hide_banner",
            "-i",
            p(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
    );
    let text = String::from_utf8_lossy(&out.stderr);
    let summary = text.rsplit("Summary:").next().expect("ebur128 summary");
    summary
        .lines()
        .filter_map(|l| {
            let (label, rest) = l.trim().split_once(':')?;
            let value = rest.split_whitespace().next()?.parse().ok()?;
            Some((format!("{label}:"), value))
        })
        .collect()
}

/// One figure of ffmpeg's ebur128 summary.
pub fn ffmpeg_ebur128(path: &Path, label: &str) -> f64 {
    pick(&ffmpeg_ebur128_summary(path), label)
}

fn pick(summary: &[(String, f64)], label: &str) -> f64 {
    summary
        .iter()
        .find(|(l, _)| l == label)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no `{label}` in ebur128 summary: {summary:?}"))
}

/// Integrated loudness (LUFS) and true peak (dBTP) as ffmpeg's ebur128 filter measures them.
pub fn ffmpeg_loudness(path: &Path) -> (f64, f64) {
    let summary = ffmpeg_ebur128_summary(path);
    (pick(&summary, "I:"), pick(&summary, "Peak:"))
}

/// ffmpeg's integrated loudness and true peak of `path`, asserting the loudness is within
/// [`LUFS_TOLERANCE`] of `target` (`what` names the case in the message).
pub fn assert_lufs_near(path: &Path, target: f64, what: &str) -> (f64, f64) {
    let (lufs, tp) = ffmpeg_loudness(path);
    assert!(
        (lufs - target).abs() <= LUFS_TOLERANCE,
        "{what}: {lufs} LUFS, target {target}"
    );
    (lufs, tp)
}

/// A true peak (dBTP, as ffmpeg measures it) under `ceiling`, give or take [`TRUE_PEAK_MARGIN`].
pub fn assert_under_ceiling(tp: f64, ceiling: f64, what: &str) {
    assert!(
        tp <= ceiling + TRUE_PEAK_MARGIN,
        "{what}: true peak {tp} dBTP, ceiling {ceiling}"
    );
}

/// [`assert_lufs_near`] `target` and [`assert_under_ceiling`] `ceiling`.
pub fn assert_on_target(path: &Path, target: f64, ceiling: f64, what: &str) -> (f64, f64) {
    let (lufs, tp) = assert_lufs_near(path, target, what);
    assert_under_ceiling(tp, ceiling, what);
    (lufs, tp)
}

/// `opusinfo` must accept the file without warnings or errors.
pub fn assert_opusinfo_clean(path: &Path) {
    let out = Command::new("opusinfo")
        .arg(path)
        .output()
        .expect("opusinfo (opus-tools)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "opusinfo failed on {}:\n{text}",
        path.display()
    );
    assert!(
        !text.contains("WARNING") && !text.contains("ERROR"),
        "opusinfo complains about {}:\n{text}",
        path.display()
    );
}

/// Decode an Ogg Opus file with opusdec (pre-skip and end trim applied) into 48 kHz float samples.
pub fn opusdec(path: &Path, dir: &Path) -> (Vec<f32>, u16) {
    let wav = dir.join(format!(
        "{}.opusdec.wav",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    ));
    tool(
        "opusdec",
        &["--quiet", "--float", "--rate", "48000", p(path), p(&wav)],
    );
    read_wav(&wav)
}

/// How many frames (samples per channel) opusdec decodes from an Ogg Opus file.
pub fn opusdec_frames(path: &Path, dir: &Path) -> usize {
    let (samples, channels) = opusdec(path, dir);
    samples.len() / usize::from(channels)
}

/// Interleaved float samples and channel count of a WAV.
pub fn read_wav(path: &Path) -> (Vec<f32>, u16) {
    let mut r = hound::WavReader::open(path).expect("open wav");
    let spec = r.spec();
    let samples = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(|s| s.expect("sample")).collect(),
        hound::SampleFormat::Int => {
            let scale = (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.expect("sample") as f32 / scale)
                .collect()
        }
    };
    (samples, spec.channels)
}

/// ffprobe's `-show_entries ENTRIES` for `path`, printed with `-of FORMAT` (`extra` goes before them,
/// e.g. `-count_frames`).
pub fn ffprobe_show(path: &Path, extra: &[&str], entries: &str, format: &str) -> String {
    let mut args = vec!["-v", "error"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-show_entries", entries, "-of", format, p(path)]);
    tool_stdout("ffprobe", &args)
}

/// The value of `key=value` in ffprobe's `default` output.
pub fn ffprobe_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

/// `format=duration` (seconds) in ffprobe's `default` output.
pub fn ffprobe_duration(text: &str) -> f64 {
    ffprobe_field(text, "duration")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no duration in {text}"))
}

/// ffprobe's view of the first audio stream: (codec_name, sample_rate, channels).
pub fn ffprobe_stream(path: &Path) -> (String, u32, u32) {
    let text = ffprobe_show(
        path,
        &["-select_streams", "a:0"],
        "stream=codec_name,sample_rate,channels",
        "default=nw=1",
    );
    let get = |k: &str| ffprobe_field(&text, k).unwrap_or_default().to_string();
    (
        get("codec_name"),
        get("sample_rate").parse().unwrap_or(0),
        get("channels").parse().unwrap_or(0),
    )
}

/// Files left in a folder (to prove nothing half-written stays behind).
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}
