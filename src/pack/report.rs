//! What a build reports (also the `--json` output of `soundsticker build`).

use crate::art::fit::Stop;
use crate::platform::Platform;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One file written for one sticker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputFile {
    /// `whatsapp`, `telegram`, `signal`, `discord` or `pack`.
    pub target: String,
    /// Where the file is (inside the output folder once the build is done).
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Sounds: length in seconds, measured on the encoded file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// Sounds: integrated loudness of the encoded file, LUFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lufs: Option<f64>,
    /// Sounds: true peak of the encoded file, dBTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbtp: Option<f64>,
    /// Images: SSIM of the decoded file against its rendered frames (1 is identical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssim: Option<f64>,
    /// Images: what set the quality (`cap`, `quality` or `enough`; see the manifest's `enough_ssim`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Images: the steps of the fallback ladder taken to fit the cap (smoothing, held frames, calmer
    /// motion or style, a still); empty when quality, frame rate and size were enough.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<crate::art::fallback::Fallback>,
}

/// Everything made for one sticker.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct StickerReport {
    /// The sticker's id in the manifest.
    pub id: String,
    /// Every file made for it, per target.
    pub outputs: Vec<OutputFile>,
    /// What was given up or changed to meet a platform's rules (each once).
    pub warnings: Vec<String>,
    /// Files encoded by this build (a file shared by several targets counts once).
    pub encoded: usize,
    /// Files copied from the build cache or a shard instead.
    pub from_cache: usize,
}

/// How the cache served the build.
#[derive(Debug, Clone, Serialize, Default)]
#[non_exhaustive]
pub struct CacheReport {
    /// The cache folder, if any.
    pub dir: Option<PathBuf>,
    /// Sticker files copied from the cache or shards.
    pub hits: usize,
    /// Sticker files encoded by this build.
    pub misses: usize,
    /// Set when the cache folder could not be written (the build went on without keeping results).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The build's report.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct BuildReport {
    /// The output folder.
    pub out: PathBuf,
    /// The platforms built.
    pub platforms: Vec<Platform>,
    /// `I/N` when this run built one shard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Each sticker, in manifest order.
    pub stickers: Vec<StickerReport>,
    /// Pack-level files: metadata, tray icons, thumbnails, archives, the preview page.
    pub files: Vec<PathBuf>,
    /// The preview page (`None` for a shard).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<PathBuf>,
    /// How the cache served the build.
    pub cache: CacheReport,
    /// Sticker files that could not be made and were left out of their packs (only with
    /// `--keep-going`; without it such a build fails and writes nothing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<crate::error::StickerFailure>,
}
