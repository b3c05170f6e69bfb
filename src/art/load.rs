//! Loading cover art: JPEG, PNG (alpha, 16-bit), WebP, GIF (first frame), BMP, with EXIF orientation
//! applied and decoder limits so huge or hostile files are refused before they exhaust memory.

use crate::error::{Error, Result};
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use std::path::Path;

/// Largest width or height we decode.
pub const MAX_SIDE: u32 = 16_384;
/// Largest decoded buffer we allow (an 8000×8000 RGBA image is 256 MB).
pub const MAX_ALLOC: u64 = 320 << 20;

/// Decode `path` into an image with orientation applied.
pub fn load(path: &Path) -> Result<DynamicImage> {
    let bad = |detail: String| Error::Image {
        path: path.to_path_buf(),
        detail,
    };
    let meta = std::fs::metadata(path).map_err(|e| Error::read(path, e))?;
    if meta.len() == 0 {
        return Err(bad("the file is empty".into()));
    }
    let mut reader = ImageReader::open(path)
        .map_err(|e| Error::read(path, e))?
        .with_guessed_format()
        .map_err(|e| Error::read(path, e))?;
    // Judge by content, not by name: a text file called .png is not a PNG.
    let mut head = [0u8; 64];
    let n = std::io::Read::read(
        &mut std::fs::File::open(path).map_err(|e| Error::read(path, e))?,
        &mut head,
    )
    .map_err(|e| Error::read(path, e))?;
    if image::guess_format(&head[..n]).is_err() {
        return Err(bad(
            "not a recognised image: its content is not JPEG, PNG, WebP, GIF or BMP".into(),
        ));
    }
    match reader.format() {
        None => {
            return Err(bad(
                "not a recognised image (use JPEG, PNG, WebP, GIF or BMP)".into(),
            ));
        }
        // The JPEG decoder pads a cut-off file with grey instead of failing: insist on the end marker.
        Some(image::ImageFormat::Jpeg) if !jpeg_has_end(path)? => {
            return Err(bad(
                "corrupt or truncated image: the JPEG end marker is missing; re-export the file"
                    .into(),
            ));
        }
        Some(_) => {}
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| describe(path, e))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(bad(format!("{w}×{h} pixels: the image has no area")));
    }
    let orientation = decoder.orientation().map_err(|e| describe(path, e))?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| describe(path, e))?;
    img.apply_orientation(orientation);
    Ok(img)
}

fn describe(path: &Path, e: image::ImageError) -> Error {
    let detail = match &e {
        image::ImageError::Limits(_) => format!(
            "too large to decode safely (over {MAX_SIDE} pixels a side or {} MB; a decompression bomb?): {e}",
            MAX_ALLOC >> 20
        ),
        image::ImageError::Unsupported(u) => format!("unsupported image: {u}"),
        image::ImageError::Decoding(d) => format!("corrupt or truncated image: {d}"),
        other => other.to_string(),
    };
    Error::Image {
        path: path.to_path_buf(),
        detail,
    }
}

/// True when the JPEG's last kilobyte holds an end-of-image marker (FF D9). Entropy-coded data never
/// contains FF D9 (0xFF is byte-stuffed), so a truncated file lacks it; trailing padding after it is fine.
fn jpeg_has_end(path: &Path) -> Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    let len = f.seek(SeekFrom::End(0)).map_err(|e| Error::read(path, e))?;
    let tail = len.min(1024);
    f.seek(SeekFrom::Start(len - tail))
        .map_err(|e| Error::read(path, e))?;
    let mut buf = vec![0u8; tail as usize];
    f.read_exact(&mut buf).map_err(|e| Error::read(path, e))?;
    Ok(buf.windows(2).any(|w| w == [0xFF, 0xD9]))
}
