//! Sticker packs: the manifest, the build (stickers through the cache, platform folders, archives,
//! preview), shards, and the validator.

pub mod archive;
pub mod assemble;
pub mod build;
pub mod bundles;
pub mod cache;
pub mod init;
pub mod inspect;
pub mod json_pos;
pub mod links;
pub mod manifest;
pub mod preview;
pub mod report;
pub mod settings;
pub mod shard;
pub mod staging;
pub mod sticker;
pub mod validate;
