//! Shards: a CI matrix splits a pack's stickers across machines with `build --shard I/N`, each writing
//! its rendered stickers as cache entries plus a `shard.json`, and `build --merge DIR...` assembles the
//! packs from them, byte-identical to a single build.

use super::manifest::LoadedManifest;
use crate::error::{Error, Result, Setting};
use crate::limits::{Capped, MAX_PACK_JSON_BYTES, read_capped};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::str::FromStr;

/// Shard `index` (1-based) of `count`: stickers `index`, `index + count`, ... in manifest order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 1.
    pub index: usize,
    /// How many shards the stickers are split into.
    pub count: usize,
}

impl Shard {
    /// Whether the sticker at 0-based `position` belongs to this shard.
    pub fn holds(self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("`{s}` is not a shard: write I/N with 1 <= I <= N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// `shard.json`: which manifest and which stickers a shard folder holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardInfo {
    pub identifier: String,
    pub shard: String,
    pub stickers: Vec<String>,
}

pub const SHARD_FILE: &str = "shard.json";

/// Check that `dir` is a shard folder of this manifest.
pub fn check_shard_dir(dir: &Path, m: &LoadedManifest) -> Result<ShardInfo> {
    let file = dir.join(SHARD_FILE);
    // Read capped and only if a regular file: a shard folder may come from another machine.
    let text = match read_capped(&file, MAX_PACK_JSON_BYTES) {
        Ok(Capped::Whole(bytes)) => bytes,
        Ok(Capped::Over) => {
            return Err(Error::setting(
                Setting::Merge,
                format!(
                    "{}: damaged (larger than {} MB)",
                    file.display(),
                    MAX_PACK_JSON_BYTES >> 20
                ),
            ));
        }
        Err(_) => {
            return Err(Error::setting(
                Setting::Merge,
                format!(
                    "{} is not a shard folder (it has no {SHARD_FILE}); give the output folders of shard builds",
                    dir.display()
                ),
            ));
        }
    };
    let info: ShardInfo = serde_json::from_slice(&text).map_err(|e| {
        Error::setting(Setting::Merge, format!("{}: damaged ({e})", file.display()))
    })?;
    if info.identifier != m.manifest.identifier {
        return Err(Error::setting(
            Setting::Merge,
            format!(
                "{} is a shard of pack `{}`, not of `{}`",
                dir.display(),
                info.identifier,
                m.manifest.identifier
            ),
        ));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_partitions() {
        let s: Shard = "2/3".parse().expect("shard");
        assert_eq!(s, Shard { index: 2, count: 3 });
        let held: Vec<usize> = (0..7).filter(|&p| s.holds(p)).collect();
        assert_eq!(held, [1, 4]);
        for bad in ["0/3", "4/3", "1/0", "x/2", "3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        // Every sticker is in exactly one shard.
        for p in 0..10 {
            let n = (1..=3)
                .filter(|&i| Shard { index: i, count: 3 }.holds(p))
                .count();
            assert_eq!(n, 1);
        }
    }
}
