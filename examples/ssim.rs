//! Mean SSIM of an encoded sticker (WebP, APNG, GIF, WebM, decoded with the same libraries we encode
//! with) against a folder of reference PNG frames; used by `make bench` to compare encoders at equal
//! quality, since ffmpeg 5.1 cannot decode animated WebP.
//!
//! Run: `cargo run --release --example ssim -- FRAMES_DIR FILE`

use soundsticker::art::fit::decode;
use soundsticker::art::quality::ssim;
use soundsticker::platform::ImageKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: ssim FRAMES_DIR FILE")?);
    let file = args.next().ok_or("usage: ssim FRAMES_DIR FILE")?;
    let kind = match file.rsplit('.').next().unwrap_or_default() {
        "webp" => ImageKind::Webp,
        "png" | "apng" => ImageKind::Png,
        "gif" => ImageKind::Gif,
        "webm" => ImageKind::Webm,
        other => return Err(format!("unknown extension .{other}").into()),
    };
    let decoded = decode(kind, &std::fs::read(&file)?)?;
    let mut names: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    let reference: Vec<_> = names
        .iter()
        .map(|p| image::open(p).map(|i| i.to_rgba8()))
        .collect::<Result<_, _>>()?;
    if decoded.is_empty() || reference.is_empty() {
        return Err("no frames".into());
    }
    // Compare each decoded frame with the reference frame at the same point of the loop.
    let mut sum = 0.0;
    for (i, f) in decoded.iter().enumerate() {
        let r = i * reference.len() / decoded.len();
        sum += ssim(&reference[r], f);
    }
    println!("{:.4}", sum / decoded.len() as f64);
    Ok(())
}
