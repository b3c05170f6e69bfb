//! What a build reports (also the `--json` output of `soundsticker build`).

use crate::art::fit::Stop;
use crate::platform::Platform;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One file written for one sticker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputFile {
    /// `whatsapp`, `telegram`, `signal`, `discord` or `pack`.
    pub target: String,
    pub file: PathBuf,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lufs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbtp: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssim: Option<f64>,
    /// Images: what set the quality (`cap`, `quality` or `enough`; see the manifest's `enough_ssim`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
}

/// Everything made for one sticker.
#[derive(Debug, Clone, Serialize)]
pub struct StickerReport {
    pub id: String,
    pub outputs: Vec<OutputFile>,
    pub warnings: Vec<String>,
    /// Files encoded by this build (a file shared by several targets counts once).
    pub encoded: usize,
    /// Files copied from the build cache or a shard instead.
    pub from_cache: usize,
}

/// How the cache served the build.
#[derive(Debug, Clone, Serialize, Default)]
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
    pub out: PathBuf,
    pub platforms: Vec<Platform>,
    /// `I/N` when this run built one shard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub stickers: Vec<StickerReport>,
    /// Pack-level files: metadata, tray icons, thumbnails, archives, the preview page.
    pub files: Vec<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<PathBuf>,
    pub cache: CacheReport,
}
