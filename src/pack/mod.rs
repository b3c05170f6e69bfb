//! Sticker packs: the manifest (and later the per-platform bundles and the validator).

pub mod archive;
pub mod build;
pub mod bundles;
pub mod init;
pub mod inspect;
pub mod json_pos;
pub mod manifest;
pub mod settings;
pub mod validate;
