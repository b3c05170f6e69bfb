//! How the library reports progress without knowing about terminals: a small trait the caller implements.

/// A step of the clip pipeline, reported as it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Reading the input: decoding a master's range for a clip, or loading cover art.
    Decode,
    /// Converting the clip's channels, resampling it to the output rate and applying the fades.
    Resample,
    /// Applying the clip's gain and true-peak limiting (again on each correction pass).
    Normalise,
    /// Encoding the output: a clip's Ogg Opus or WAV, or a cover's image fitted under its byte
    /// cap.
    Encode,
    /// Decoding the encoded clip and measuring its loudness and true peak against the targets.
    Verify,
    /// Measuring audio: a whole master's loudness (`probe`, or a clip normalised to the master),
    /// or the clip features that drive a cover's animation.
    Measure,
    /// Drawing the animated cover.
    Render,
    /// Copying a result from the build cache.
    Cached,
    /// A piece of a build (a sticker for one platform) could not be made; the build goes on and
    /// lists it at the end.
    Failed,
}

impl Stage {
    /// A short human label.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Decode => "decoding",
            Stage::Resample => "resampling",
            Stage::Normalise => "normalising",
            Stage::Encode => "encoding",
            Stage::Verify => "verifying",
            Stage::Measure => "measuring",
            Stage::Render => "rendering",
            Stage::Cached => "from cache",
            Stage::Failed => "failed",
        }
    }
}

/// Receives progress from long operations. All methods default to doing nothing.
pub trait Progress: Sync {
    /// A new stage starts for the item named `item` (usually a file name).
    fn stage(&self, _item: &str, _stage: Stage) {}
    /// `done` of `total` units of the current stage are finished (units are the stage's own, e.g. frames).
    fn advance(&self, _done: u64, _total: u64) {}
    /// A whole piece of a larger job (a sticker for one platform in a pack build) is finished:
    /// `done` of `total` pieces.
    fn item_done(&self, _item: &str, _done: u64, _total: u64) {}
}

/// Reports another operation's stages under one item name and keeps its fine-grained `advance` calls
/// (frames of one clip) out of a caller that counts bigger pieces.
pub struct Scoped<'a> {
    pub inner: &'a dyn Progress,
    pub item: String,
}

impl Progress for Scoped<'_> {
    fn stage(&self, _item: &str, stage: Stage) {
        self.inner.stage(&self.item, stage);
    }
}

/// A `Progress` that ignores everything.
pub struct NoProgress;

impl Progress for NoProgress {}
