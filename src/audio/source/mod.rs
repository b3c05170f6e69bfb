//! Opening a master track and streaming a frame range out of it, whatever the container and codec.
//!
//! Two backends sit behind [`Source`], each implementing [`Decode`]: [`symphonia`] for
//! everything it decodes, and [`ogg_opus`], our own Ogg demuxer with libopus, for Ogg Opus, which
//! symphonia 0.6 cannot decode. The types they share live in [`stream`].

pub mod ogg_opus;
pub mod stream;
pub mod symphonia;

use self::ogg_opus::OpusSource;
use self::stream::{Decode, Sink, SourceInfo, StreamStats};
use self::symphonia::SymphoniaSource;
use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// An open master track: one of the backends, chosen by [`Source::open`] from the file's content.
///
/// Read it through [`Decode`]: [`info`](Decode::info), [`path`](Decode::path) and
/// [`stream`](Decode::stream).
pub struct Source {
    backend: Box<dyn Decode>,
}

impl Source {
    /// Open `path`, recognising the format from its content (the extension is only a hint).
    pub fn open(path: &Path) -> Result<Source> {
        let meta = std::fs::metadata(path).map_err(|e| Error::read(path, e))?;
        if meta.is_dir() {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                detail: "it is a directory".into(),
            });
        }
        if meta.len() == 0 {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        let backend: Box<dyn Decode> = if is_ogg_opus(path)? {
            Box::new(OpusSource::open(path)?)
        } else {
            Box::new(SymphoniaSource::open(path)?)
        };
        let source = Source { backend };
        if source.info().declared_frames == Some(0) {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(source)
    }
}

/// A `Source` decodes through the backend it opened.
impl Decode for Source {
    fn info(&self) -> &SourceInfo {
        self.backend.info()
    }

    fn path(&self) -> &Path {
        self.backend.path()
    }

    fn stream(&mut self, start: u64, end: Option<u64>, sink: &mut Sink<'_>) -> Result<StreamStats> {
        self.backend.stream(start, end, sink)
    }
}

/// Ogg files whose first packet is an OpusHead go to the libopus backend.
fn is_ogg_opus(path: &Path) -> Result<bool> {
    let mut head = [0u8; 64];
    let mut f = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(Error::read(path, e)),
        }
    }
    let head = &head[..n];
    if n < 28 || &head[..4] != b"OggS" {
        return Ok(false);
    }
    let segments = usize::from(head[26]);
    let body = 27 + segments;
    Ok(head.len() >= body + 8 && &head[body..body + 8] == b"OpusHead")
}
