//! Reproducible zip archives: entries in a fixed order, with fixed times and permissions, media stored
//! as is (already compressed), text deflated. Two builds of the same pack give identical archives.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime};

/// Write `entries` (name in the archive, file on disk) to `dest` as a zip.
pub fn write_zip(dest: &Path, entries: &[(String, &Path)]) -> Result<()> {
    let file = std::fs::File::create(dest).map_err(|e| Error::write(dest, e))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let fail = |e: zip::result::ZipError| Error::write(dest, std::io::Error::other(e.to_string()));
    let mut sorted: Vec<&(String, &Path)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, path) in sorted {
        let text = name.ends_with(".json") || name.ends_with(".txt") || name.ends_with(".html");
        let opts = SimpleFileOptions::default()
            .compression_method(if text {
                CompressionMethod::Deflated
            } else {
                CompressionMethod::Stored
            })
            .last_modified_time(DateTime::default())
            .unix_permissions(0o644);
        let data = std::fs::read(path).map_err(|e| Error::read(path, e))?;
        zip.start_file(name.as_str(), opts).map_err(fail)?;
        zip.write_all(&data).map_err(|e| Error::write(dest, e))?;
    }
    let mut inner = zip.finish().map_err(fail)?;
    inner.flush().map_err(|e| Error::write(dest, e))?;
    Ok(())
}
