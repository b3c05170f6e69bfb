//! Audio: decoding masters, editing clips, loudness, limiting and encoding.

pub mod channels;
pub mod fade;
pub mod limiter;
pub mod loudness;
pub mod mp4_edit;
pub mod ogg_opus_write;
pub mod pcm;
pub mod picture;
pub mod resample;
pub mod source;
pub mod true_peak;
pub mod vorbis_comment;
pub mod wav;
