//! soundsticker: turn master tracks and cover art into sound-sticker packs for messaging platforms.
//!
//! The library holds all the work; the `soundsticker` binary only parses arguments, reports progress
//! and prints. Stages are typed and flow one way:
//! [`audio::source::Source`] (decode) → [`audio::pcm::Pcm`] → [`clip::prepare`] (channels, rate,
//! fades) → [`clip::render`] (loudness, true-peak limiting, encoding, re-measuring) → bytes.

pub mod art;
pub mod audio;
pub mod clip;
pub mod cover;
pub mod error;
pub mod output;
pub mod pack;
pub mod platform;
pub mod probe;
pub mod progress;
pub mod timecode;

pub use clip::{ClipOptions, ClipReport, ClipRequest, clip};
pub use error::{Error, Result};
pub use probe::{ProbeReport, probe};
pub use progress::{NoProgress, Progress, Stage};
pub use timecode::Timecode;

/// This crate's version, as written into ENCODER tags.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
