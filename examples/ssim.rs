//! Mean SSIM of an encoded sticker (WebP, APNG, GIF, WebM, decoded with the same libraries we encode
//! with) against a folder of reference PNG frames; used by `make bench` to compare encoders at equal
//! quality, since ffmpeg 5.1 cannot decode animated WebP.
//!
//! Run: `cargo run --release --example ssim -- FRAMES_DIR FILE_OR_FRAMES_DIR`

use soundsticker::art::fit::decode;
use soundsticker::art::quality::ssim;
use soundsticker::platform::ImageKind;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: ssim FRAMES_DIR FILE")?;
    let file = args.next().ok_or("usage: ssim FRAMES_DIR FILE")?;
    let reference = read_dir_frames(Path::new(&dir))?;
    // FILE may also be a folder of decoded PNG frames (another tool's output decoded by ffmpeg).
    let decoded = if Path::new(&file).is_dir() {
        read_dir_frames(Path::new(&file))?
    } else {
        let kind = match file.rsplit('.').next().unwrap_or_default() {
            "webp" => ImageKind::Webp,
            "png" | "apng" => ImageKind::Png,
            "gif" => ImageKind::Gif,
            "webm" => ImageKind::Webm,
            other => return Err(format!("unknown extension .{other}").into()),
        };
        decode(kind, &std::fs::read(&file)?)?
    };
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

fn read_dir_frames(dir: &Path) -> Result<Vec<image::RgbaImage>, Box<dyn std::error::Error>> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    Ok(names
        .iter()
        .map(|p| image::open(p).map(|i| i.to_rgba8()))
        .collect::<Result<_, _>>()?)
}
