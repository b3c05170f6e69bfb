//! Entry points for fuzzing: one `pub fn(&[u8])` per parser of untrusted bytes, so the cargo-fuzz
//! targets in `fuzz/fuzz_targets/` reach the crate's internal parsers, and so the corpus-replay test
//! below runs the very same calls on stable in `cargo test`.
//!
//! Compiled only with the `fuzzing` feature (the fuzz crate turns it on) or under `cfg(test)`; not part
//! of the library's API. Each entry point takes any bytes, ignores every `Err`, and must return: a
//! panic, an abort, a hang or an unbounded allocation inside one is a bug in the parser it calls. A few
//! also assert properties the parser documents (noted on each), so a wrong answer is a finding too.
//!
//! Every parser reads from memory, except two that go through a file in a fresh temporary folder
//! (removed when the call returns): [`wastickers`] (the whole of `validate` on an archive file, the
//! way users call it; its reader alone takes bytes) and [`cover_art`] (`art::load` reads a path).

use crate::audio::source::ogg_opus::OpusSource;
use crate::audio::source::stream::Decode;
use crate::platform::Platform;
use crate::timecode::Timecode;
use std::path::{Path, PathBuf};

/// What every entry point is: any bytes in, nothing out (a bug shows as a panic, abort or hang).
pub type EntryPoint = fn(&[u8]);

/// Every entry point by the name of its fuzz target (`fuzz/fuzz_targets/<name>.rs`) and of its
/// corpus and regression folders (`fuzz/corpus/<name>/`, `fuzz/regressions/<name>/`).
pub const TARGETS: &[(&str, EntryPoint)] = &[
    ("inspect", inspect),
    ("ogg_opus", ogg_opus),
    ("mp4_edit", mp4_edit),
    ("manifest", manifest),
    ("json_pos", json_pos),
    ("wastickers", wastickers),
    ("timecode", timecode),
    ("probe", probe),
    ("cover_art", cover_art),
];

/// Extensions [`probe`] names its file with, chosen by the input's first byte (modulo 8): WAV, FLAC,
/// MP3, M4A (AAC), Ogg Vorbis, AIFF, Ogg Opus, M4A (ALAC). The rest of the input is the file.
pub const PROBE_EXTENSIONS: [&str; 8] = ["wav", "flac", "mp3", "m4a", "ogg", "aiff", "opus", "m4a"];

/// `bytes` written to `name` in a fresh temporary folder, which is removed when the guard drops.
struct TempInput {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl TempInput {
    fn new(name: &str, bytes: &[u8]) -> Option<TempInput> {
        let dir = tempfile::tempdir().ok()?;
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).ok()?;
        Some(TempInput { _dir: dir, path })
    }
}

/// The pack inspector (`pack::inspect`): RIFF/WebP, PNG/APNG, GIF and EBML/WebM headers, from memory.
///
/// Asserts what [`ImageFacts`](crate::pack::inspect::ImageFacts) documents for the formats whose total
/// is the sum of the frames' delays (WebP, APNG, GIF; a WebM declares its duration separately): the
/// total is at least the frame count times the shortest frame (unless the total is pinned at the
/// type's maximum), so a sum that wraps around is caught even where overflow checks are off.
pub fn inspect(data: &[u8]) {
    let Ok(facts) = crate::pack::inspect::inspect(data) else {
        return;
    };
    if facts.frames > 1 && facts.kind != crate::platform::ImageKind::Webm {
        let total = facts.duration_ms;
        let shortest = facts.min_frame_ms;
        let frames = facts.frames as u64;
        // PNG delays are fractions rounded to whole ms: allow half a ms per frame.
        let floor = shortest.saturating_mul(frames).saturating_sub(frames);
        let pinned = total == u64::from(u32::MAX) || total == u64::MAX;
        assert!(
            pinned || total >= floor,
            "{:?}: {frames} frames of at least {shortest} ms cannot last {total} ms in all",
            facts.kind
        );
    }
}

/// The Ogg Opus reader (`audio::source::ogg_opus`), from memory: OpusHead, OpusTags, then every
/// packet decoded to the end.
pub fn ogg_opus(data: &[u8]) {
    let Ok(mut source) = OpusSource::from_bytes(Path::new("fuzz.opus"), data.to_vec()) else {
        return;
    };
    let _ = source.info().clone();
    let _ = source.stream(0, None, &mut |_chunk: &[f32]| Ok(()));
}

/// The MP4 edit-list reader (`audio::mp4_edit`), from memory, then its frame conversions at two
/// rates.
pub fn mp4_edit(data: &[u8]) {
    if let Some(edit) = crate::audio::mp4_edit::read_from(&mut std::io::Cursor::new(data)) {
        for rate in [44_100, 48_000] {
            let _ = edit.priming_frames(rate);
            let _ = edit.frames(rate);
        }
    }
}

/// The manifest loader (`pack::load`: parse, every count and text rule, and the line:column of each
/// problem), from memory: the files it names resolve in a folder that does not exist.
pub fn manifest(data: &[u8]) {
    let _ = crate::pack::manifest::load_bytes(Path::new("/nonexistent/fuzz/pack.json"), data, &[]);
}

/// The line:column scanner (`pack::json_pos::locate_all`). The first line of the input is a JSON pointer,
/// the rest the JSON text; when the text is valid JSON, every pointer into it (up to 256) is located
/// too, and each position found must lie inside the text.
pub fn json_pos(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (pointer, text) = input.split_once('\n').unwrap_or(("", input));
    let lines = text.matches('\n').count() + 1;
    let mut pointers = vec![pointer.to_string()];
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        collect_pointers(&value, String::new(), &mut pointers, 257);
    }
    let asked: Vec<&str> = pointers.iter().map(String::as_str).collect();
    let found = crate::pack::json_pos::locate_all(text, &asked);
    assert_eq!(found.len(), asked.len(), "one answer per pointer");
    for (pointer, place) in asked.iter().zip(found) {
        if let Some((line, column)) = place {
            assert!(
                (1..=lines).contains(&line) && column >= 1,
                "{pointer:?} located at {line}:{column}, outside a text of {lines} lines"
            );
        }
    }
}

/// JSON pointers of `value` and everything in it, depth first, at most `max` of them.
fn collect_pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>, max: usize) {
    // Iterative, so deep JSON cannot overflow the stack here.
    let mut todo = vec![(value, at)];
    while let Some((v, at)) = todo.pop() {
        if out.len() >= max {
            return;
        }
        match v {
            serde_json::Value::Object(map) => {
                for (k, child) in map {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    todo.push((child, format!("{at}/{key}")));
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    todo.push((child, format!("{at}/{i}")));
                }
            }
            _ => {}
        }
        out.push(at);
    }
}

/// The zip / `.wastickers` reader and everything `validate` checks inside (`pack::validate`), through
/// a file (it reads from a path only). The first byte picks the platform (modulo 4: WhatsApp,
/// Telegram, Signal, Discord); the rest is the archive.
pub fn wastickers(data: &[u8]) {
    let Some((&first, archive)) = data.split_first() else {
        return;
    };
    let platform = Platform::ALL[usize::from(first) % Platform::ALL.len()];
    let Some(input) = TempInput::new("fuzz.wastickers", archive) else {
        return;
    };
    let _ = crate::pack::validate(&input.path, platform);
}

/// The timecode parser (`Timecode: FromStr`), from memory. Asserts the documented round trips: the
/// exact and the short text of a timecode parse back to the same time.
pub fn timecode(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(t) = text.parse::<Timecode>() else {
        return;
    };
    for shown in [t.to_exact_string(), t.to_short_string()] {
        assert_eq!(
            shown.parse::<Timecode>(),
            Ok(t),
            "{text:?} is shown as {shown:?}, which does not parse back"
        );
    }
    let _ = t.to_string();
    for rate in [8_000, 44_100, 48_000, 384_000] {
        let _ = t.to_frames(rate);
    }
}

/// `probe` on any bytes (open, decode to the end, measure), from memory, labelled with the extension
/// [`PROBE_EXTENSIONS`] picks by the first byte (the extension is the decoder's first hint).
pub fn probe(data: &[u8]) {
    let Some((&first, file)) = data.split_first() else {
        return;
    };
    let ext = PROBE_EXTENSIONS[usize::from(first) % PROBE_EXTENSIONS.len()];
    let label = PathBuf::from(format!("fuzz.{ext}"));
    let _ = crate::probe::probe_bytes(&label, file.to_vec(), &crate::progress::NoProgress);
}

/// Cover-art loading (`art::load::load`: format sniffing, decoder limits, EXIF orientation), through a
/// file with no extension (it reads from a path only), so the format is judged by content alone.
pub fn cover_art(data: &[u8]) {
    let Some(input) = TempInput::new("cover", data) else {
        return;
    };
    let _ = crate::art::load::load(&input.path);
}

#[cfg(test)]
mod tests {
    //! Corpus replay on stable: every file under `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/`
    //! goes through its entry point, each in a child process (this test binary again), so that an
    //! abort or a stack overflow is reported with the file's name instead of ending the test run, and a
    //! hang is killed after [`TIME_LIMIT`]. The child caps its own address space at [`MEMORY_LIMIT`].

    use super::TARGETS;
    use std::io::Read;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// Longest one input may take (the fuzzers run with `-timeout=10`).
    const TIME_LIMIT: Duration = Duration::from_secs(10);
    /// Address space of a child: a parser that wants more is a finding (the fuzzers use 1 GB of RSS).
    const MEMORY_LIMIT: u64 = 2 << 30;
    /// Set in a child: `<target>\n<file>` to replay.
    const CHILD_ENV: &str = "SOUNDSTICKER_FUZZ_REPLAY";

    fn fuzz_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
    }

    /// (target, file) for every file in `fuzz/<kind>/<target>/`; a folder named after no target is an
    /// error (a typo would otherwise silently skip its files).
    fn inputs(kind: &str, out: &mut Vec<(String, PathBuf)>, errors: &mut Vec<String>) {
        let Ok(dirs) = std::fs::read_dir(fuzz_dir().join(kind)) else {
            return;
        };
        for dir in dirs.filter_map(|e| e.ok()) {
            let target = dir.file_name().to_string_lossy().into_owned();
            if !dir.path().is_dir() {
                continue;
            }
            if !TARGETS.iter().any(|(name, _)| *name == target) {
                errors.push(format!("fuzz/{kind}/{target}: no fuzz target of that name"));
                continue;
            }
            let Ok(files) = std::fs::read_dir(dir.path()) else {
                continue;
            };
            let mut files: Vec<PathBuf> = files
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            out.extend(files.into_iter().map(|f| (target.clone(), f)));
        }
    }

    /// In a child: replay the one input named by [`CHILD_ENV`], catching a panic to report it in one line.
    fn replay_in_child(spec: &str) {
        let rlimit = libc::rlimit {
            rlim_cur: MEMORY_LIMIT,
            rlim_max: MEMORY_LIMIT,
        };
        // SAFETY: setrlimit reads the struct we pass and changes only this (child) process's limit.
        unsafe { libc::setrlimit(libc::RLIMIT_AS, &rlimit) };
        let (target, file) = spec
            .split_once('\n')
            .expect("invariant: the parent writes both");
        let run = TARGETS
            .iter()
            .find(|(name, _)| *name == target)
            .expect("invariant: the parent checked the target")
            .1;
        let data = std::fs::read(file).expect("read the input");
        if let Err(payload) = std::panic::catch_unwind(|| run(&data)) {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("REPLAY-PANIC {message}");
        }
    }

    /// Run one input in a child; `Err` says how it failed.
    fn replay(target: &str, file: &Path) -> Result<(), String> {
        let test_name = format!(
            "{}::replay_every_saved_input",
            module_path!().split_once("::").map_or("", |(_, rest)| rest)
        );
        let started = Instant::now();
        let mut child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
            .args([
                test_name.as_str(),
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, format!("{target}\n{}", file.display()))
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the replay: {e}"))?;
        let mut stderr = child.stderr.take().expect("invariant: stderr is piped");
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if started.elapsed() > TIME_LIMIT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(format!("cannot wait for the replay: {e}")),
            }
        };
        let stderr = reader.join().unwrap_or_default();
        let Some(status) = status else {
            return Err(format!("still running after {TIME_LIMIT:?} (killed)"));
        };
        if status.success() {
            return Ok(());
        }
        // The panic message when there is one, else the runtime's last word (stack overflow, abort).
        let why = stderr
            .lines()
            .find_map(|l| {
                l.split_once("REPLAY-PANIC ")
                    .map(|(_, m)| format!("panicked: {m}"))
            })
            .or_else(|| {
                stderr
                    .lines()
                    .rfind(|l| !l.trim().is_empty() && !l.starts_with("note:"))
                    .map(str::to_string)
            })
            .unwrap_or_default();
        Err(format!("{status}: {why}"))
    }

    #[test]
    fn replay_every_saved_input() {
        if let Ok(spec) = std::env::var(CHILD_ENV) {
            replay_in_child(&spec);
            return;
        }
        let (mut files, mut failures) = (Vec::new(), Vec::new());
        inputs("corpus", &mut files, &mut failures);
        let seeds = files.len();
        inputs("regressions", &mut files, &mut failures);
        // Every target has seeds, so the replay cannot pass by finding nothing.
        for (name, _) in TARGETS {
            if !files.iter().any(|(t, _)| t == name) {
                failures.push(format!("fuzz/corpus/{name}: no seed inputs"));
            }
        }
        for (target, file) in &files {
            if let Err(why) = replay(target, file) {
                let shown = file.strip_prefix(fuzz_dir()).unwrap_or(file);
                failures.push(format!("fuzz/{} ({target}): {why}", shown.display()));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} saved fuzz inputs ({seeds} in the corpus) fail:\n{}",
            failures.len(),
            files.len(),
            failures.join("\n")
        );
    }
}
