//! Using soundsticker as a library: cut a 3 s mono voice-note clip under 24 000 bytes and print the
//! figures measured on the encoded file.
//!
//! Run: `cargo run --release --example clip_with_library -- assets/demo/master.flac /tmp/note.ogg`

use soundsticker::audio::ChannelMode;
use soundsticker::{ClipOptions, ClipRequest, NoProgress, Timecode, clip};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = args
        .next()
        .unwrap_or_else(|| "assets/demo/master.flac".into());
    let output = args.next().unwrap_or_else(|| "note.ogg".into());
    // Every option starts at its recommended default; set only what this clip needs.
    let mut options = ClipOptions::default();
    options.start = "0:23.5".parse::<Timecode>()?;
    options.duration = Some(Timecode::from_millis(3_000));
    options.channels = ChannelMode::Mono;
    options.max_bytes = Some(24_000);
    let report = clip(&ClipRequest::new(input, output, options), &NoProgress)?;
    println!(
        "{}: {:.3} s, {:?} LUFS, {:?} dBTP, {} bytes",
        report.output.display(),
        report.duration_s,
        report.loudness.achieved_lufs,
        report.loudness.achieved_true_peak_dbtp,
        report.encoding.bytes
    );
    Ok(())
}
