//! Opening a master track and streaming a frame range out of it, whatever the container and codec.
//!
//! Two backends sit behind [`Source`], each implementing [`Decode`]: [`symphonia`] for
//! everything it decodes, and [`ogg_opus`], our own Ogg demuxer with libopus, for Ogg Opus, which
//! symphonia 0.6 cannot decode. The types they share live in [`stream`].

pub mod ogg_opus;
pub mod stream;
pub mod symphonia;

use self::ogg_opus::OpusSource;
use self::stream::{Decode, Sink, SourceInfo, StreamStats, too_long};
use self::symphonia::SymphoniaSource;
use crate::error::{Error, Result};
use crate::limits::open_regular;
use std::io::{Read, Seek, SeekFrom};
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
    ///
    /// The one place a master is opened: every header fact the backend read is checked here
    /// (`SourceInfo::check`) against the limits of [`crate::limits`] before anything uses it, and a
    /// master over [`crate::limits::MAX_AUDIO_SECONDS`] is refused by its header where it declares
    /// its length (and by [`Decode::stream`] when decoding reaches the limit otherwise).
    pub fn open(path: &Path) -> Result<Source> {
        // Regular files only: a FIFO or a device (`/dev/zero`) is refused at once, never read.
        let mut file = open_regular(path).map_err(|e| Error::read(path, e))?;
        let len = file.metadata().map_err(|e| Error::read(path, e))?.len();
        if len == 0 {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        let head = read_head(&mut file).map_err(|e| Error::read(path, e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::read(path, e))?;
        let backend: Box<dyn Decode> = if is_ogg_opus(&head) {
            Box::new(OpusSource::from_file(path, file)?)
        } else {
            Box::new(SymphoniaSource::from_file(path, file)?)
        };
        Self::checked(path, backend, len)
    }

    /// Open a master held in memory, as [`Source::open`] opens a file (`label` names it in
    /// errors): for tools and fuzzing that have bytes, not a file.
    pub(crate) fn from_bytes(label: &Path, bytes: Vec<u8>) -> Result<Source> {
        let len = bytes.len() as u64;
        if len == 0 {
            return Err(Error::Empty {
                path: label.to_path_buf(),
            });
        }
        let backend: Box<dyn Decode> = if is_ogg_opus(&bytes[..bytes.len().min(HEAD_BYTES)]) {
            Box::new(OpusSource::from_bytes(label, bytes)?)
        } else {
            Box::new(SymphoniaSource::from_bytes(label, bytes.into())?)
        };
        Self::checked(label, backend, len)
    }

    /// Judge what the backend read ([`SourceInfo::check`]) before anyone uses it.
    fn checked(path: &Path, backend: Box<dyn Decode>, file_len: u64) -> Result<Source> {
        let source = Source { backend };
        source.info().check(path, Some(file_len))?;
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

    /// Streams as the backend does, but never past [`crate::limits::MAX_AUDIO_SECONDS`]: a master
    /// whose header did not give its length (or lied about it) is refused when decoding reaches the
    /// limit, so no input costs unbounded time.
    fn stream(&mut self, start: u64, end: Option<u64>, sink: &mut Sink<'_>) -> Result<StreamStats> {
        let limit = self.info().max_frames();
        if start >= limit {
            return Err(too_long(self.path(), None, self.info()));
        }
        let path = self.path().to_path_buf();
        let info = self.info().clone();
        let channels = self.info().layout.len().max(1);
        // One frame past the limit is enough to know the master is too long.
        let stop = end.map_or(limit + 1, |e| e.min(limit + 1));
        let mut at = start;
        self.backend.stream(start, Some(stop), &mut |chunk| {
            at += (chunk.len() / channels) as u64;
            if at > limit {
                return Err(too_long(&path, None, &info));
            }
            sink(chunk)
        })
    }
}

/// Bytes at the start of a file enough to recognise Ogg Opus.
const HEAD_BYTES: usize = 64;

/// The first [`HEAD_BYTES`] of a file (fewer if it is shorter).
fn read_head(f: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    f.take(HEAD_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Ogg files whose first packet is an OpusHead go to the libopus backend.
fn is_ogg_opus(head: &[u8]) -> bool {
    if head.len() < 28 || &head[..4] != b"OggS" {
        return false;
    }
    let segments = usize::from(head[26]);
    let body = 27 + segments;
    head.len() >= body + 8 && &head[body..body + 8] == b"OpusHead"
}
