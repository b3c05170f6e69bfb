//! What a pack's sound file is, read from its bytes in memory (a folder's file or an archive's
//! member alike): container, codec, channels and declared length. Ogg Opus goes through our Opus
//! reader, anything else through symphonia's probe; only headers are read, nothing is decoded.

use crate::audio::source::ogg_opus::OpusSource;
use crate::audio::source::stream::Decode;
use std::io::Cursor;
use std::path::Path;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// The facts the sound rules are about.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SoundFacts {
    /// Container short name (`ogg`, `wave`, …).
    pub container: String,
    /// Codec short name (`opus`, `vorbis`, …).
    pub codec: String,
    /// Channels.
    pub channels: usize,
    /// Length the container declares, ms, when it declares one.
    pub ms: Option<u64>,
}

/// An Ogg stream whose first packet is an OpusHead (RFC 7845).
fn is_ogg_opus(b: &[u8]) -> bool {
    if b.len() < 28 || !b.starts_with(b"OggS") {
        return false;
    }
    let body = 27 + usize::from(b[26]);
    b.get(body..body + 8) == Some(b"OpusHead")
}

/// Milliseconds of `frames` at `rate` Hz, saturating; `None` at a rate of 0.
fn ms_of(frames: u64, rate: u32) -> Option<u64> {
    frames.saturating_mul(1000).checked_div(u64::from(rate))
}

/// The facts of the sound in `bytes` (`name` labels its errors), or what is wrong with it.
pub(crate) fn sound_facts(name: &str, bytes: Vec<u8>) -> Result<SoundFacts, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if is_ogg_opus(&bytes) {
        let src = OpusSource::from_bytes(Path::new(name), bytes).map_err(|e| e.to_string())?;
        let info = src.info();
        return Ok(SoundFacts {
            container: info.container.clone(),
            codec: info.codec.clone(),
            channels: info.layout.len(),
            ms: info.declared_frames.and_then(|f| ms_of(f, info.rate)),
        });
    }
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = Path::new(name).extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| format!("not a recognised audio container ({e})"))?;
    let container = format.format_info().short_name.to_string();
    let track = format
        .default_track(TrackType::Audio)
        .ok_or("no audio track")?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or("an audio track without codec parameters")?;
    let codec = symphonia::default::get_codecs()
        .get_audio_decoder(params.codec)
        .map_or_else(|| "unknown".into(), |d| d.codec.info.short_name.to_string());
    Ok(SoundFacts {
        container,
        codec,
        channels: params.channels.as_ref().map_or(0, |c| c.count()),
        ms: track
            .num_frames
            .zip(params.sample_rate)
            .and_then(|(f, rate)| ms_of(f, rate)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_empty_are_errors_not_panics() {
        assert!(sound_facts("a.ogg", Vec::new()).is_err());
        assert!(sound_facts("a.ogg", b"not audio".to_vec()).is_err());
        let mut fake = b"OggS".to_vec();
        fake.resize(27, 0);
        fake.push(1);
        fake.push(19);
        fake.extend_from_slice(b"OpusHead");
        assert!(sound_facts("a.ogg", fake).is_err());
        assert_eq!(ms_of(u64::MAX, 48_000), Some(u64::MAX / 48_000));
        assert_eq!(ms_of(10, 0), None);
    }
}
