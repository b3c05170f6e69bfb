//! Sticker packs: the manifest, the build (stickers through the cache, platform folders, archives,
//! preview), shards, and the validator.

pub(crate) mod archive;
pub(crate) mod assemble;
pub(crate) mod build;
pub(crate) mod bundles;
pub(crate) mod cache;
pub(crate) mod init;
pub(crate) mod inspect;
pub(crate) mod json_pos;
pub(crate) mod links;
pub(crate) mod manifest;
pub(crate) mod preview;
pub(crate) mod report;
pub(crate) mod settings;
pub(crate) mod shard;
pub(crate) mod staging;
pub(crate) mod sticker;
pub(crate) mod validate;

pub use build::{BuildOptions, DEFAULT_CACHE, build};
pub use init::{InitOptions, init};
pub use manifest::{
    LoadedManifest, Manifest, Sticker, StickerSettings, TelegramSettings, load, load_for,
    schema_json,
};
pub use report::{BuildReport, CacheReport, OutputFile, StickerReport};
pub use shard::Shard;
pub use validate::{ValidationReport, Violation, validate};
