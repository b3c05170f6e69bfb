//! Cover pictures for OpusTags: a FLAC picture block, base64-encoded as METADATA_BLOCK_PICTURE
//! (RFC 7845 §5.2 refers to the Vorbis/FLAC convention).

use crate::error::{Error, Result};
use crate::limits::{Capped, MAX_PICTURE_BYTES, read_capped};
use base64::Engine;
use image::ImageDecoder;
use std::path::Path;

/// The value of a METADATA_BLOCK_PICTURE comment holding `path` as the front cover.
pub fn metadata_block_picture(path: &Path) -> Result<String> {
    let bad = |detail: String| Error::Image {
        path: path.to_path_buf(),
        detail,
    };
    let data = match read_capped(path, MAX_PICTURE_BYTES).map_err(|e| Error::read(path, e))? {
        Capped::Whole(data) => data,
        Capped::Over => {
            return Err(bad(format!(
                "larger than {} MB; use a smaller picture",
                MAX_PICTURE_BYTES >> 20
            )));
        }
    };
    let reader = image::ImageReader::new(std::io::Cursor::new(&data))
        .with_guessed_format()
        .map_err(|e| bad(e.to_string()))?;
    let format = reader
        .format()
        .ok_or_else(|| bad("not a recognised image format (use PNG or JPEG)".into()))?;
    let mime = match format {
        image::ImageFormat::Png => "image/png",
        image::ImageFormat::Jpeg => "image/jpeg",
        image::ImageFormat::Gif => "image/gif",
        image::ImageFormat::WebP => "image/webp",
        image::ImageFormat::Bmp => "image/bmp",
        other => {
            return Err(bad(format!(
                "{other:?} pictures are not embedded; use PNG or JPEG"
            )));
        }
    };
    let decoder = reader.into_decoder().map_err(|e| bad(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    let depth = u32::from(decoder.color_type().bits_per_pixel());
    let mut block = Vec::with_capacity(data.len() + 64);
    let mut put = |v: u32| block.extend_from_slice(&v.to_be_bytes());
    put(3); // picture type: front cover
    put(mime.len() as u32);
    block.extend_from_slice(mime.as_bytes());
    block.extend_from_slice(&0u32.to_be_bytes()); // empty description
    for v in [width, height, depth, 0, data.len() as u32] {
        block.extend_from_slice(&v.to_be_bytes());
    }
    block.extend_from_slice(&data);
    Ok(base64::engine::general_purpose::STANDARD.encode(block))
}
