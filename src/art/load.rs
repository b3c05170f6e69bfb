//! Loading cover art: JPEG, PNG (alpha, 16-bit), WebP, GIF (first frame), BMP, with EXIF orientation
//! applied and decoder limits so huge or hostile files are refused before they exhaust memory.

use crate::art::canvas::halve_linear;
use crate::error::{Error, Result};
use crate::limits::{MAX_IMAGE_BYTES, MAX_IMAGE_SIDE};
use image::metadata::Orientation;
use image::{ColorType, DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage, RgbaImage};
use std::path::Path;

/// Largest sticker canvas, px (`cover --size` takes 16..=2048).
pub(crate) const MAX_CANVAS: u32 = 2_048;
/// Art whose shorter side is over this is halved as soon as it is decoded: no canvas needs more (a
/// cover crop keeps the shorter side, which stays above [`MAX_CANVAS`]).
const SHRINK_ABOVE: u32 = 2 * MAX_CANVAS;

/// Decode `path` into straight sRGB RGBA with its orientation applied, at most twice
/// [`MAX_CANVAS`] on its shorter side (larger art is halved as it loads).
///
/// Memory is planned before the decoder runs: the decoded buffer, its RGBA copy, the first
/// halving and the turn of a rotated photo together must fit [`MAX_IMAGE_BYTES`] (through
/// `image::Limits`), so a decompression bomb is refused from its header, and the peak stays under
/// the limit plus what the decoder needs for itself.
pub fn load(path: &Path) -> Result<RgbaImage> {
    let bad = |detail: String| Error::Image {
        path: path.to_path_buf(),
        detail,
    };
    let mut reader = open(path)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_IMAGE_BYTES);
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(|e| describe(path, e))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(bad(format!("{w}×{h} pixels: the image has no area")));
    }
    let orientation = decoder.orientation().map_err(|e| describe(path, e))?;
    let color = decoder.color_type();
    let peak = planned_peak(w, h, color, orientation);
    if limits.reserve(peak).is_err() {
        return Err(bad(format!(
            "{w}×{h} pixels at {} bits a pixel need {} MB to decode and fit; the limit is {} MB \
             (a decompression bomb?): scale the image down first",
            color.bits_per_pixel(),
            peak.div_ceil(1 << 20),
            MAX_IMAGE_BYTES >> 20
        )));
    }
    let decoded = DynamicImage::from_decoder(decoder).map_err(|e| describe(path, e))?;
    let mut img = into_rgba8(decoded);
    while img.width().min(img.height()) > SHRINK_ABOVE {
        img = halve_linear(&img);
    }
    let mut turned = DynamicImage::ImageRgba8(img);
    turned.apply_orientation(orientation);
    Ok(turned.into_rgba8())
}

/// Peak bytes [`load`] holds for a `w`×`h` image decoded as `color`: the largest of the decode with
/// its RGBA copy, the first halving (the full image and its quarter), and a turn by 90° (the shrunk
/// image twice).
fn planned_peak(w: u32, h: u32, color: ColorType, orientation: Orientation) -> u64 {
    let rgba = |w: u32, h: u32| u64::from(w) * u64::from(h) * 4;
    let full = rgba(w, h);
    let decoded = u64::from(w) * u64::from(h) * u64::from(color.bytes_per_pixel());
    // RGBA8 needs no copy and RGB8 widens in place ([`into_rgba8`]); other types are converted.
    let convert = match color {
        ColorType::Rgba8 | ColorType::Rgb8 => full,
        _ => decoded + full,
    };
    let (mut sw, mut sh) = (w, h);
    let mut halve = 0;
    while sw.min(sh) > SHRINK_ABOVE {
        halve = halve.max(rgba(sw, sh) + rgba(sw / 2, sh / 2));
        (sw, sh) = (sw / 2, sh / 2);
    }
    let turns = !matches!(
        orientation,
        Orientation::NoTransforms
            | Orientation::Rotate180
            | Orientation::FlipHorizontal
            | Orientation::FlipVertical
    );
    let turn = rgba(sw, sh) * if turns { 2 } else { 1 };
    convert.max(halve).max(turn)
}

/// Straight RGBA8 of a decoded image: no copy for RGBA8, RGB8 widened in its own buffer (growing a
/// large allocation remaps its pages rather than copying them), a converted copy otherwise.
fn into_rgba8(img: DynamicImage) -> RgbaImage {
    match img {
        DynamicImage::ImageRgba8(rgba) => rgba,
        DynamicImage::ImageRgb8(rgb) => widen(rgb),
        other => other.to_rgba8(),
    }
}

/// RGB8 to opaque RGBA8 in the same buffer, moving pixels from the last one back so none is
/// overwritten before it is read.
fn widen(rgb: RgbImage) -> RgbaImage {
    let (w, h) = rgb.dimensions();
    let mut buf = rgb.into_raw();
    let n = buf.len() / 3;
    buf.resize(n * 4, 255);
    for i in (0..n).rev() {
        let (r, g, b) = (buf[3 * i], buf[3 * i + 1], buf[3 * i + 2]);
        buf[4 * i..4 * i + 4].copy_from_slice(&[r, g, b, 255]);
    }
    RgbaImage::from_raw(w, h, buf).expect("invariant: 4 bytes per pixel of a w×h image")
}

/// An image reader for `path`, its format judged by content, refusing files that are empty, not
/// an image, or a JPEG cut short.
fn open(path: &Path) -> Result<ImageReader<std::io::BufReader<std::fs::File>>> {
    let bad = |detail: String| Error::Image {
        path: path.to_path_buf(),
        detail,
    };
    let file = crate::limits::open_regular(path).map_err(|e| Error::read(path, e))?;
    let meta = file.metadata().map_err(|e| Error::read(path, e))?;
    if meta.len() == 0 {
        return Err(bad("the file is empty".into()));
    }
    let reader = ImageReader::new(std::io::BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| Error::read(path, e))?;
    // Judge by content, not by name: a text file called .png is not a PNG.
    match reader.format() {
        None => Err(bad(
            "not a recognised image: its content is not JPEG, PNG, WebP, GIF or BMP".into(),
        )),
        // The JPEG decoder pads a cut-off file with grey instead of failing: insist on the end marker.
        Some(image::ImageFormat::Jpeg) if !jpeg_has_end(path)? => Err(bad(
            "corrupt or truncated image: the JPEG end marker is missing; re-export the file".into(),
        )),
        Some(_) => Ok(reader),
    }
}

fn describe(path: &Path, e: image::ImageError) -> Error {
    let detail = match &e {
        image::ImageError::Limits(_) => format!(
            "too large to decode safely (over {MAX_IMAGE_SIDE} pixels a side or {} MB; a decompression bomb?): {e}",
            MAX_IMAGE_BYTES >> 20
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
    let mut f = crate::limits::open_regular(path).map_err(|e| Error::read(path, e))?;
    let len = f.seek(SeekFrom::End(0)).map_err(|e| Error::read(path, e))?;
    let tail = len.min(1024);
    f.seek(SeekFrom::Start(len - tail))
        .map_err(|e| Error::read(path, e))?;
    let mut buf = vec![0u8; tail as usize];
    f.read_exact(&mut buf).map_err(|e| Error::read(path, e))?;
    Ok(buf.windows(2).any(|w| w == [0xFF, 0xD9]))
}
