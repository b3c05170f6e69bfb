//! Sticker packs: the manifest (and later the per-platform bundles and the validator).

pub mod init;
pub mod json_pos;
pub mod manifest;
pub mod settings;
