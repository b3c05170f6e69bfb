//! Audio: decoding masters, editing clips, loudness, limiting and encoding.
//!
//! Public as a namespace for tools that decode masters themselves: [`Source`] opens any supported
//! file and streams a frame range through [`Decode`]; [`Pcm`] is the buffer every stage passes on.

pub(crate) mod channels;
pub(crate) mod fade;
pub(crate) mod limiter;
pub(crate) mod loudness;
pub(crate) mod mp4_edit;
pub(crate) mod ogg_opus_write;
pub(crate) mod pcm;
pub(crate) mod picture;
pub(crate) mod resample;
pub(crate) mod source;
pub(crate) mod true_peak;
pub(crate) mod vorbis_comment;
pub(crate) mod wav;

pub use channels::{ChannelMode, ChannelReport};
pub use fade::FadeCurve;
pub use limiter::LimiterReport;
pub use pcm::{Pcm, Speaker};
pub use source::Source;
pub use source::stream::{Decode, Sink, SourceInfo, StreamStats, Tags};
