#![warn(missing_docs)]
//! soundsticker: turn master tracks and cover art into sound-sticker packs for messaging platforms.
//!
//! The library holds all the work; the `soundsticker` binary only parses arguments, reports progress
//! and prints. Each stage is usable on its own:
//! - [`probe()`] reads what a master is; [`clip()`] cuts, normalises and encodes a sound sticker from it
//!   ([`ClipRequest`], [`ClipOptions`]);
//! - [`cover()`] renders an animated sticker from cover art driven by a clip's audio, fitted under a
//!   platform's limits ([`CoverRequest`], [`CoverOptions`]);
//! - [`pack::build()`] makes every platform's pack from a manifest, [`pack::validate()`] checks any pack,
//!   [`pack::init()`] scaffolds a manifest.
//!
//! The lower stages are public as namespaces for tools that need them: [`audio`] (decoding and the
//! PCM they pass on) and [`art`] (animations, image encoders, the byte-cap fitter, SSIM).
//! `docs/architecture.md` draws the whole pipeline.
//!
//! ```no_run
//! use soundsticker::{ClipOptions, ClipRequest, NoProgress, Timecode, clip};
//! let mut options = ClipOptions::default();
//! options.start = "0:15".parse::<Timecode>()?;
//! options.duration = Some("4".parse::<Timecode>()?);
//! let report = clip(&ClipRequest::new("master.flac", "hook.ogg", options), &NoProgress)?;
//! println!("{} bytes at {:?} LUFS", report.encoding.bytes, report.loudness.achieved_lufs);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// `Display` for a unit-variant enum as its serde name (what the manifest and `FromStr` take), so
/// front ends can show a library default (`pulse`, `sine`) without a second list of names.
macro_rules! display_as_serde_name {
    ($t:ty) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match serde_json::to_value(self) {
                    Ok(serde_json::Value::String(name)) => f.write_str(&name),
                    _ => write!(f, "{self:?}"),
                }
            }
        }
    };
}

pub mod art;
pub mod audio;
mod bitrate;
mod cancel;
mod clip;
mod cover;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
mod output;
pub mod pack;
mod platform;
mod probe;
mod progress;
mod timecode;
mod typed_str;

pub use bitrate::Bitrate;
pub use cancel::CancelToken;
pub use clip::{
    ClipOptions, ClipReport, ClipRequest, EncodingReport, LoudnessRef, LoudnessReport,
    OutputFormat, RangeReport, clip,
};
pub use cover::{CoverOptions, CoverReport, CoverRequest, DEFAULT_ENOUGH_SSIM, cover};
pub use error::{Error, ManifestIssue, Result, Setting, StickerFailure};
pub use output::discard_pending_outputs;
pub use platform::{ImageKind, Platform, SizeRule, StickerRules};
pub use probe::{ProbeReport, probe};
pub use progress::{NoProgress, Progress, Stage};
pub use timecode::Timecode;

/// This crate's version, as written into ENCODER tags.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
