//! Mean SSIM of an encoded sticker (WebP, APNG, GIF, WebM, decoded with the same libraries we encode
//! with) against a folder of reference PNG frames; used by `make bench` to compare encoders at equal
//! quality, since ffmpeg 5.1 cannot decode animated WebP.
//!
//! Run: `cargo run --release --example ssim -- FRAMES_DIR FILE_OR_FRAMES_DIR [FPS STEP]`
//!
//! FPS is the reference frames' rate and STEP how many of them each encoded frame stands for (2 at half
//! the frame rate). A WebP needs them: libwebp's animation encoder merges a frame that repeats the one
//! before into it, and the decoded frames are lined up with the encoded ones by their display times.

use soundsticker::ImageKind;
use soundsticker::art::Animation;
use soundsticker::art::ssim;
use soundsticker::art::{decode, decode_where};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: ssim FRAMES_DIR FILE")?;
    let file = args.next().ok_or("usage: ssim FRAMES_DIR FILE")?;
    let timing: Option<(f64, usize)> = match (args.next(), args.next()) {
        (Some(fps), Some(step)) => Some((fps.parse()?, step.parse()?)),
        _ => None,
    };
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
        let bytes = std::fs::read(&file)?;
        match timing {
            Some((fps, step)) if kind == ImageKind::Webp => {
                let slots = Animation::decimate_durations(
                    &Animation::durations_at_fps(reference.len(), fps),
                    step,
                );
                decode_where(kind, &bytes, Some(&slots), &|_| true)?
                    .kept
                    .into_iter()
                    .map(|(_, f)| f)
                    .collect()
            }
            None if kind == ImageKind::Webp => {
                return Err("a WebP needs FPS and STEP to line its frames up".into());
            }
            _ => decode(kind, &bytes)?,
        }
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
