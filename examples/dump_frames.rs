//! Decode a sticker we wrote (WebP, APNG, GIF or WebM) into numbered PNG frames, to look at them.
//!
//! Run: `cargo run --release --example dump_frames -- sticker.webp out_dir`

use soundsticker::ImageKind;
use soundsticker::art::decode;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = args.next().ok_or("usage: dump_frames FILE OUT_DIR")?;
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: dump_frames FILE OUT_DIR")?);
    let kind = match input.rsplit('.').next().unwrap_or_default() {
        "webp" => ImageKind::Webp,
        "png" => ImageKind::Png,
        "gif" => ImageKind::Gif,
        "webm" => ImageKind::Webm,
        other => return Err(format!("unknown extension .{other}").into()),
    };
    std::fs::create_dir_all(&dir)?;
    let frames = decode(kind, &std::fs::read(&input)?)?;
    for (i, f) in frames.iter().enumerate() {
        f.save(dir.join(format!("{i:04}.png")))?;
    }
    println!("{} frames written to {}", frames.len(), dir.display());
    Ok(())
}
