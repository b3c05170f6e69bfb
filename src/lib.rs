//! soundsticker: turn master tracks and cover art into sound-sticker packs for messaging platforms.
//!
//! The library holds all the work; the `soundsticker` binary only parses arguments, reports progress
//! and prints. Stages are typed and flow one way:
//! [`audio::source::Source`] (decode) → [`audio::pcm::Pcm`] → [`clip::prepare`] (channels, rate,
//! fades) → [`clip::render`] (loudness, true-peak limiting, encoding, re-measuring) → bytes.

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
pub mod bitrate;
pub mod cancel;
pub mod clip;
pub mod cover;
pub mod error;
pub mod output;
pub mod pack;
pub mod platform;
pub mod probe;
pub mod progress;
pub mod timecode;
mod typed_str;

pub use bitrate::Bitrate;
pub use cancel::CancelToken;
pub use clip::{ClipOptions, ClipReport, ClipRequest, clip};
pub use error::{Error, Result};
pub use probe::{ProbeReport, probe};
pub use progress::{NoProgress, Progress, Stage};
pub use timecode::Timecode;

/// This crate's version, as written into ENCODER tags.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
