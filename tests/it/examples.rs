//! The examples run: each is built as `cargo build` builds it and run as its doc comment says, and its
//! result is judged with independent tools. Only the built program is used (no code of the example is
//! compiled into the tests), so an example may change how it calls the library and stay covered.

use crate::util::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The example `name`, built for the profile of the binary under test, where cargo puts it: the
/// `examples` folder beside that binary. `cargo test` builds the examples already (then this is a
/// no-op); `cargo test --test it` does not, so it is built here, which also keeps it from being stale.
fn built_example(name: &str) -> PathBuf {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_soundsticker"))
        .parent()
        .expect("the binary's folder");
    let profile = match bin_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => panic!("no profile folder in {}", bin_dir.display()),
    };
    let target_dir = bin_dir.parent().expect("the target folder");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--profile", profile, "--example", name])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo build --example {name} failed:\n{}",
        stderr(&out)
    );
    let example = bin_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(example.is_file(), "{} was not built", example.display());
    example
}

/// `examples/clip_with_library.rs` cuts 3 s at 0:23.5 of the demo master into a mono Ogg Opus voice note
/// under 24 000 bytes, at the library's default loudness (-16 LUFS, -1 dBTP).
#[test]
fn clip_with_library_makes_a_mono_voice_note_on_target() {
    let example = built_example("clip_with_library");
    let dir = tempdir();
    let d = dir.path();
    let out = d.join("note.ogg");
    let res = Command::new(&example)
        .arg(demo("master.flac"))
        .arg(&out)
        .output()
        .expect("run the example");
    let said = String::from_utf8_lossy(&res.stdout);
    assert!(res.status.success(), "{said}{}", stderr(&res));
    assert!(
        said.contains("note.ogg") && said.contains("bytes"),
        "{said}"
    );

    assert_opusinfo_clean(&out);
    assert_eq!(ffprobe_stream(&out), ("opus".to_string(), 48_000, 1));
    // Length: 3 s as ffprobe reads it from the granule positions (±10 ms: it prints microseconds and
    // rounds pre-skip and end trim its own way), and exactly 144 000 samples as opusdec decodes it (the
    // cut is sample-exact, as in the `clip` tests).
    let text = ffprobe_show(&out, &[], "format=duration", "default=nw=1");
    let seconds = ffprobe_duration(&text);
    assert!((seconds - 3.0).abs() <= 0.01, "ffprobe: {seconds} s");
    assert_eq!(opusdec_frames(&out, d), 3 * 48_000);
    let bytes = std::fs::metadata(&out).expect("note").len();
    assert!(bytes <= 24_000, "{bytes} bytes");
    // Loudness within ±0.5 LU of -16 LUFS and true peak at most 0.1 dB over -1 dBTP, by ffmpeg's
    // ebur128 filter: the tolerances of the `clip` tests (LUFS_TOLERANCE, TRUE_PEAK_MARGIN).
    assert_on_target(&out, -16.0, -1.0, "clip_with_library");
}
