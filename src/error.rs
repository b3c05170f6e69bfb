//! The library's one error type: every variant names the file, field or value at fault and says what to do.

use std::fmt;
use std::path::{Path, PathBuf};

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, phrased for the person who has to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input file does not exist.
    #[error("{path}: file not found; check the path")]
    NotFound {
        /// The file asked for.
        path: PathBuf,
    },

    /// The input could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file being read.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },

    /// The input is not audio we can decode.
    #[error(
        "{path}: unsupported or unrecognised audio ({detail}); supported: WAV, FLAC, MP3, AAC/M4A, ALAC, Ogg Vorbis, AIFF, Ogg Opus"
    )]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What the decoder found instead.
        detail: String,
    },

    /// The input starts like audio but is damaged.
    #[error("{path}: corrupt or truncated audio ({detail}); re-export the file")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where and how it is damaged.
        detail: String,
    },

    /// The input holds no audio samples.
    #[error("{path}: contains no audio samples")]
    Empty {
        /// The file.
        path: PathBuf,
    },

    /// A requested range does not fit the track.
    #[error("{path}: {detail}")]
    Range {
        /// The master.
        path: PathBuf,
        /// The range against the track's length, and what to change.
        detail: String,
    },

    /// A command-line option or manifest field has a bad value; `field` is the name the user wrote
    /// (`--fps`, `/stickers/3/settings/fps`).
    #[error("{field}: {detail}")]
    InvalidValue {
        /// The option or JSON pointer at fault.
        field: String,
        /// What is wrong with its value and what to give instead.
        detail: String,
    },

    /// A setting of a library operation has a bad value, or settings conflict. The library names the
    /// setting as it knows it; front ends turn it into their own name with [`Error::name_setting`]
    /// (the command line into its flag, a pack build into the manifest field's JSON pointer).
    #[error("{setting}: {detail}")]
    Setting {
        /// The setting at fault.
        setting: Setting,
        /// What is wrong with its value and what to give instead.
        detail: String,
    },

    /// The output could not be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The file or folder being written.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },

    /// An image given for embedding or rendering is unusable.
    #[error("{path}: unusable image ({detail})")]
    Image {
        /// The image file.
        path: PathBuf,
        /// Why it cannot be used.
        detail: String,
    },

    /// The encoder refused its input or settings.
    #[error("encoding failed: {detail}")]
    Encode {
        /// What failed, and what to change where something can be.
        detail: String,
    },

    /// A pack manifest has problems; each names its JSON pointer and line:column.
    #[error("{path}: {}", format_issues(issues))]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// Every problem found, in document order.
        issues: Vec<ManifestIssue>,
    },

    /// A built pack breaks its platform's rules (found by the validator before reporting success).
    #[error("the {platform} pack breaks the platform's rules:\n{}", violations.join("\n"))]
    PackInvalid {
        /// The platform's name.
        platform: String,
        /// One line per rule broken.
        violations: Vec<String>,
    },

    /// A merge found rendered stickers missing from every shard folder.
    #[error("{detail}")]
    Incomplete {
        /// Which sticker is missing, from which folders, and what to do.
        detail: String,
    },

    /// The caller asked to stop (Ctrl-C); nothing was written.
    #[error("interrupted; the previous output is untouched")]
    Cancelled,

    /// The requested output cannot fit the byte budget.
    #[error(
        "cannot fit {duration_s:.3} s of audio into {max_bytes} bytes (needs at least {needed_bytes} bytes at the lowest Opus bitrate); raise the byte cap or shorten the clip"
    )]
    Budget {
        /// The cap asked for, bytes.
        max_bytes: u64,
        /// The smallest file this clip can be, bytes.
        needed_bytes: u64,
        /// The clip's length, seconds.
        duration_s: f64,
    },

    /// A sticker image cannot fit its byte cap even as a still frame, the last step of the fitter's
    /// ladder (quality, frame rate, size, then the fallbacks of `art::fallback`).
    #[error(
        "cannot fit the sticker into {cap} bytes: the smallest file was {best_bytes} bytes; tried {}; use simpler art for this sticker (a flatter, less detailed image)",
        tried.join("; ")
    )]
    TooBig {
        /// The byte cap.
        cap: u64,
        /// The smallest file any step reached, bytes.
        best_bytes: u64,
        /// What was tried, in order.
        tried: Vec<String>,
    },

    /// Some stickers of a build could not be made; every other sticker was built (and kept in the
    /// cache), and the previous output was left as it was. A usage error (exit status 2) when every
    /// failure is one, else exit status 1.
    #[error("{}", format_failures(failures, packs.as_deref()))]
    StickersFailed {
        /// Every sticker file that could not be made, in manifest order.
        failures: Vec<StickerFailure>,
        /// With `--keep-going`: why the packs without them could not be written either (a pack left
        /// with too few stickers).
        packs: Option<String>,
    },

    /// The input is not a regular file (a device such as `/dev/zero`, a FIFO, a socket, a folder),
    /// or is larger than a limit in [`crate::limits`]: refused without reading it.
    #[error("{path}: {detail}")]
    Refused {
        /// The file.
        path: PathBuf,
        /// What it is and what to give instead.
        detail: String,
    },
}

fn format_issues(issues: &[ManifestIssue]) -> String {
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

fn format_failures(failures: &[StickerFailure], packs: Option<&str>) -> String {
    let lines: Vec<String> = failures.iter().map(|f| format!("  {f}")).collect();
    let packs = packs.map_or(String::new(), |p| {
        format!("\nand the packs without them could not be written: {p}")
    });
    format!(
        "{} sticker file{} could not be made; every other sticker was built and cached, and the previous output is untouched (--keep-going writes the packs without {}):\n{}",
        failures.len(),
        if failures.len() == 1 { "" } else { "s" },
        if failures.len() == 1 { "it" } else { "them" },
        lines.join("\n")
    ) + &packs
}

/// A sticker file a build could not make: which sticker (its id and manifest pointer), for which
/// target, where it would have gone, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct StickerFailure {
    /// The sticker's id.
    pub id: String,
    /// JSON pointer of the sticker in the manifest (`/stickers/13`).
    pub pointer: String,
    /// 1-based line:column of the sticker in the manifest's text, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_column: Option<(usize, usize)>,
    /// The target (`whatsapp`, `telegram`, `signal`, `discord` or `pack`).
    pub target: String,
    /// The file it would have been.
    pub file: PathBuf,
    /// What went wrong and what to do.
    pub message: String,
    /// The byte cap missed, when the image did not fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap: Option<u64>,
    /// The smallest file reached, when the image did not fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_bytes: Option<u64>,
    /// What the fitter tried, when the image did not fit.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tried: Vec<String>,
    /// Whether the inputs or settings must change (a missing cover, a bad value): see
    /// [`Error::is_usage`].
    #[serde(skip)]
    pub usage: bool,
}

impl StickerFailure {
    /// A failure of sticker `id` (at `pointer`) for `target` at `file`, from `error`.
    pub(crate) fn new(id: &str, pointer: String, target: &str, file: &Path, error: &Error) -> Self {
        let (cap, best_bytes, tried) = match error {
            Error::TooBig {
                cap,
                best_bytes,
                tried,
            } => (Some(*cap), Some(*best_bytes), tried.clone()),
            _ => (None, None, Vec::new()),
        };
        StickerFailure {
            id: id.to_string(),
            pointer,
            line_column: None,
            target: target.to_string(),
            file: file.to_path_buf(),
            message: error.to_string(),
            cap,
            best_bytes,
            tried,
            usage: error.is_usage(),
        }
    }
}

impl fmt::Display for StickerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((line, column)) = self.line_column {
            write!(f, "{line}:{column} ")?;
        }
        write!(
            f,
            "{} sticker `{}` for {} ({}): {}",
            self.pointer,
            self.id,
            self.target,
            self.file.display(),
            self.message
        )
    }
}

/// One problem found in a pack manifest, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ManifestIssue {
    /// JSON pointer of the field at fault (`""` for the whole document).
    pub pointer: String,
    /// 1-based line of the field in the manifest's text.
    pub line: usize,
    /// 1-based column of the field in the manifest's text.
    pub column: usize,
    /// What is wrong and what to do.
    pub detail: String,
}

impl fmt::Display for ManifestIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{}:{} {at}: {}", self.line, self.column, self.detail)
    }
}

/// A setting of a library operation (clip, cover, build, init), named as the library knows it: the
/// field of its options struct. The command line shows it as its flag and a pack build as the manifest
/// field's JSON pointer (see [`Error::name_setting`]); the library's own messages never name either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// Where a clip starts in its master.
    Start,
    /// Where a clip ends in its master.
    End,
    /// How long a clip is.
    Duration,
    /// The fade-in's length.
    FadeIn,
    /// The fade-out's length.
    FadeOut,
    /// The integrated loudness target.
    Loudness,
    /// The true-peak ceiling.
    TruePeak,
    /// The Opus bitrate.
    Bitrate,
    /// Bits per sample of WAV output.
    WavBits,
    /// The output sample rate.
    SampleRate,
    /// The output file.
    Output,
    /// The cap on an output file's size.
    MaxBytes,
    /// The image format of a sticker.
    Format,
    /// The animation style of a sticker.
    Style,
    /// The canvas side of a sticker.
    Size,
    /// The animation's frame rate.
    Fps,
    /// The clip whose audio drives an animation.
    Audio,
    /// The longest animation loop.
    MaxDuration,
    /// The output folder of a build.
    Out,
    /// The shard folders a build assembles.
    Merge,
    /// The platforms to build for.
    Platforms,
    /// Permission to replace what exists.
    Force,
}

impl Setting {
    /// The library's name of the setting: its options field, in snake case.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Start => "start",
            Setting::End => "end",
            Setting::Duration => "duration",
            Setting::FadeIn => "fade_in",
            Setting::FadeOut => "fade_out",
            Setting::Loudness => "loudness",
            Setting::TruePeak => "true_peak",
            Setting::Bitrate => "bitrate",
            Setting::WavBits => "wav_bits",
            Setting::SampleRate => "sample_rate",
            Setting::Output => "output",
            Setting::MaxBytes => "max_bytes",
            Setting::Format => "format",
            Setting::Style => "style",
            Setting::Size => "size",
            Setting::Fps => "fps",
            Setting::Audio => "audio",
            Setting::MaxDuration => "max_duration",
            Setting::Out => "out",
            Setting::Merge => "merge",
            Setting::Platforms => "platforms",
            Setting::Force => "force",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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
        if let Error::StickersFailed { failures, .. } = self {
            return failures.iter().all(|f| f.usage);
        }
        matches!(
            self,
            Error::NotFound { .. }
                | Error::Unsupported { .. }
                | Error::Corrupt { .. }
                | Error::Empty { .. }
                | Error::Range { .. }
                | Error::InvalidValue { .. }
                | Error::Setting { .. }
                | Error::Image { .. }
                | Error::Manifest { .. }
                | Error::Refused { .. }
        )
    }

    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound {
                path: path.to_path_buf(),
            }
        } else if source.kind() == std::io::ErrorKind::InvalidInput {
            // Only open_regular makes this kind on a read: not a regular file.
            Error::Refused {
                path: path.to_path_buf(),
                detail: source.to_string(),
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

    /// A bad value of a library setting (see [`Error::Setting`]).
    pub(crate) fn setting(setting: Setting, detail: impl Into<String>) -> Self {
        Error::Setting {
            setting,
            detail: detail.into(),
        }
    }

    /// The setting this error blames, if any: for a front end to name it its own way (a byte budget
    /// that cannot be met blames the cap).
    pub fn blamed_setting(&self) -> Option<Setting> {
        match self {
            Error::Setting { setting, .. } => Some(*setting),
            Error::Budget { .. } => Some(Setting::MaxBytes),
            _ => None,
        }
    }

    /// This error with its setting named as the front end names it: `name(setting)` gives the
    /// command line's flag or the manifest field's JSON pointer, or `None` to keep the library's name.
    /// Other errors are returned unchanged.
    pub fn name_setting(self, name: impl FnOnce(Setting) -> Option<String>) -> Self {
        match self {
            Error::Setting { setting, detail } => match name(setting) {
                Some(field) => Error::InvalidValue { field, detail },
                None => Error::Setting { setting, detail },
            },
            other => other,
        }
    }

    pub(crate) fn range(path: &Path, detail: impl Into<String>) -> Self {
        Error::Range {
            path: path.to_path_buf(),
            detail: detail.into(),
        }
    }
}
