//! The library's one error type: every variant names the file, field or value at fault and says what to do.

use std::path::{Path, PathBuf};

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, phrased for the person who has to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input file does not exist.
    #[error("{path}: file not found; check the path")]
    NotFound { path: PathBuf },

    /// The input could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The input is not audio we can decode.
    #[error(
        "{path}: unsupported or unrecognised audio ({detail}); supported: WAV, FLAC, MP3, AAC/M4A, ALAC, Ogg Vorbis, AIFF, Ogg Opus"
    )]
    Unsupported { path: PathBuf, detail: String },

    /// The input starts like audio but is damaged.
    #[error("{path}: corrupt or truncated audio ({detail}); re-export the file")]
    Corrupt { path: PathBuf, detail: String },

    /// The input holds no audio samples.
    #[error("{path}: contains no audio samples")]
    Empty { path: PathBuf },

    /// A requested range does not fit the track.
    #[error("{path}: {detail}")]
    Range { path: PathBuf, detail: String },

    /// A command-line option or manifest field has a bad value.
    #[error("{field}: {detail}")]
    InvalidValue { field: String, detail: String },

    /// The output could not be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An image given for embedding or rendering is unusable.
    #[error("{path}: unusable image ({detail})")]
    Image { path: PathBuf, detail: String },

    /// The encoder refused its input or settings.
    #[error("encoding failed: {detail}")]
    Encode { detail: String },

    /// A pack manifest has problems; each names its JSON pointer and line:column.
    #[error("{path}: {}", format_issues(issues))]
    Manifest {
        path: PathBuf,
        issues: Vec<crate::pack::manifest::ManifestIssue>,
    },

    /// A built pack breaks its platform's rules (found by the validator before reporting success).
    #[error("the {platform} pack breaks the platform's rules:\n{}", violations.join("\n"))]
    PackInvalid {
        platform: String,
        violations: Vec<String>,
    },

    /// A merge found rendered stickers missing from every shard folder.
    #[error("{detail}")]
    Incomplete { detail: String },

    /// The caller asked to stop (Ctrl-C); nothing was written.
    #[error("interrupted; the previous output is untouched")]
    Cancelled,

    /// The requested output cannot fit the byte budget.
    #[error(
        "cannot fit {duration_s:.3} s of audio into {max_bytes} bytes (needs at least {needed_bytes} bytes at the lowest Opus bitrate); raise --max-bytes or shorten the clip"
    )]
    Budget {
        max_bytes: u64,
        needed_bytes: u64,
        duration_s: f64,
    },
}

fn format_issues(issues: &[crate::pack::manifest::ManifestIssue]) -> String {
    match issues {
        [one] => one.to_string(),
        many => {
            let lines: Vec<String> = many.iter().map(|i| format!("  {i}")).collect();
            format!(
                "{} problems in the manifest:\n{}",
                many.len(),
                lines.join("\n")
            )
        }
    }
}

impl Error {
    /// The process exit status for this error: 2 when the user must fix the invocation or the
    /// inputs, 130 when interrupted, 1 when processing failed.
    pub fn exit_code(&self) -> u8 {
        if self.is_usage() {
            2
        } else if matches!(self, Error::Cancelled) {
            130
        } else {
            1
        }
    }

    /// True when the user must fix the invocation or the inputs (exit status 2), false when processing
    /// failed (exit status 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::NotFound { .. }
                | Error::Unsupported { .. }
                | Error::Corrupt { .. }
                | Error::Empty { .. }
                | Error::Range { .. }
                | Error::InvalidValue { .. }
                | Error::Image { .. }
                | Error::Manifest { .. }
        )
    }

    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            Error::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    }

    pub(crate) fn write(path: &Path, source: std::io::Error) -> Self {
        Error::Write {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A bad option or field value.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::InvalidValue {
            field: field.into(),
            detail: detail.into(),
        }
    }

    pub(crate) fn range(path: &Path, detail: impl Into<String>) -> Self {
        Error::Range {
            path: path.to_path_buf(),
            detail: detail.into(),
        }
    }
}
