//! The build cache: rendered files kept under a key that hashes everything they were made from (the
//! bytes of the master and the cover art, the resolved settings, the target and this version of
//! soundsticker), so an unchanged sticker is copied instead of being decoded and encoded again.
//!
//! An entry is a folder `<key>/` holding the files under their role names plus `meta.json` (the
//! figures the build reports for them). Entries are written to a temporary folder and renamed into
//! place, so a killed build never leaves a half-written entry; two builds racing on the same key both
//! write identical bytes, and the loser's rename simply fails harmlessly. A shard folder uses the same
//! layout, which is how `build --merge` reads shards.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Bumped whenever the meaning of an entry changes, or the encoders make different files from the same
/// settings, so that no build copies a file an older version made. Each version's reason is in
/// `docs/design.md` ("The build cache").
const FORMAT: &str = "soundsticker-cache-6";

/// Entries unused for this long are removed at the end of a build.
const KEEP_UNUSED: Duration = Duration::from_secs(30 * 24 * 3600);

/// A finished cache key: a SHA-256 in hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Accumulates what a rendered file depends on. Every part is length-prefixed, so no two different
/// lists of parts can hash alike.
pub struct KeyBuilder(Sha256);

impl KeyBuilder {
    pub fn new(kind: &str) -> Self {
        let mut k = KeyBuilder(Sha256::new());
        k.text(FORMAT);
        k.text(crate::VERSION);
        k.text(kind);
        k
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.0.update((value.len() as u64).to_le_bytes());
        self.0.update(value);
        self
    }

    pub fn finish(self) -> Key {
        Key(hex(&self.0.finalize()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file's bytes, each file read once per build however many stickers use it.
#[derive(Default)]
pub struct FileHashes(Mutex<HashMap<PathBuf, String>>);

impl FileHashes {
    pub fn of(&self, path: &Path) -> Result<String> {
        if let Some(h) = self.lock().get(path) {
            return Ok(h.clone());
        }
        let mut file = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(|e| Error::read(path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let h = hex(&hasher.finalize());
        self.lock().insert(path.to_path_buf(), h.clone());
        Ok(h)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, String>> {
        // A panic elsewhere cannot leave the map half-updated, so a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A cache folder.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    /// A build cache only saves time: failing to write it (a read-only checkout) must not fail the
    /// build, so `store` then does nothing and remembers it. Shard folders are not best-effort.
    best_effort: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Cache {
    /// A folder every entry must reach (a shard).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache {
            dir: dir.into(),
            best_effort: None,
        }
    }

    /// A build cache: entries that cannot be written are skipped (see [`Cache::failed`]).
    pub fn best_effort(dir: impl Into<PathBuf>) -> Self {
        Cache {
            dir: dir.into(),
            best_effort: Some(Default::default()),
        }
    }

    /// Whether a best-effort cache failed to keep an entry.
    pub fn failed(&self) -> bool {
        self.best_effort
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry(&self, key: &Key) -> PathBuf {
        self.dir.join(key.as_str())
    }

    /// Whether the cache holds `key`.
    pub fn has(&self, key: &Key) -> bool {
        self.entry(key).join("meta.json").is_file()
    }

    /// Copy the entry's files (`(role, destination)`) out and return its metadata; `None` when the
    /// cache does not hold `key` (or holds it damaged, which is treated as absent).
    pub fn restore(&self, key: &Key, files: &[(&str, &Path)]) -> Result<Option<serde_json::Value>> {
        let entry = self.entry(key);
        let Ok(text) = std::fs::read_to_string(entry.join("meta.json")) else {
            return Ok(None);
        };
        let Ok(meta) = serde_json::from_str(&text) else {
            return Ok(None);
        };
        if !files.iter().all(|(role, _)| entry.join(role).is_file()) {
            return Ok(None);
        }
        for (role, dest) in files {
            std::fs::copy(entry.join(role), dest).map_err(|e| Error::write(dest, e))?;
        }
        touch(&entry);
        Ok(Some(meta))
    }

    /// Keep copies of `files` (`(role, source)`) and `meta` under `key`.
    pub fn store(
        &self,
        key: &Key,
        files: &[(&str, &Path)],
        meta: &serde_json::Value,
    ) -> Result<()> {
        match (self.store_entry(key, files, meta), &self.best_effort) {
            (Err(_), Some(failed)) => {
                failed.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            (result, _) => result,
        }
    }

    fn store_entry(
        &self,
        key: &Key,
        files: &[(&str, &Path)],
        meta: &serde_json::Value,
    ) -> Result<()> {
        let entry = self.entry(key);
        if self.has(key) {
            touch(&entry);
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::write(&self.dir, e))?;
        let temp = tempfile::Builder::new()
            .prefix(".entry-")
            .tempdir_in(&self.dir)
            .map_err(|e| Error::write(&self.dir, e))?;
        for (role, src) in files {
            let dest = temp.path().join(role);
            std::fs::copy(src, &dest).map_err(|e| Error::write(&dest, e))?;
        }
        let text = serde_json::to_string_pretty(meta).map_err(|e| Error::Encode {
            detail: format!("cache metadata: {e}"),
        })?;
        let meta_path = temp.path().join("meta.json");
        std::fs::write(&meta_path, text).map_err(|e| Error::write(&meta_path, e))?;
        let staged = temp.keep();
        if std::fs::rename(&staged, &entry).is_err() {
            // Another build stored the same key first: its entry has the same bytes.
            let _ = std::fs::remove_dir_all(&staged);
        }
        Ok(())
    }

    /// Remove entries unused for 30 days and leftovers of killed builds; returns how many went.
    pub fn prune(&self) -> usize {
        let Ok(list) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let now = SystemTime::now();
        let mut removed = 0;
        for e in list.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let age = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .unwrap_or_default();
            let leftover = name.starts_with(".entry-") && age > Duration::from_secs(24 * 3600);
            let stale = name.len() == 64 && age > KEEP_UNUSED;
            if path.is_dir() && (leftover || stale) && std::fs::remove_dir_all(&path).is_ok() {
                removed += 1;
            }
        }
        removed
    }
}

/// Mark an entry as used now (its folder's modification time), for pruning.
fn touch(entry: &Path) {
    if let Ok(f) = std::fs::File::open(entry) {
        let _ = f.set_modified(SystemTime::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_every_part_and_its_boundaries() {
        let key = |parts: &[&str]| {
            let mut k = KeyBuilder::new("t");
            for p in parts {
                k.text(p);
            }
            k.finish()
        };
        assert_eq!(key(&["a", "b"]), key(&["a", "b"]));
        assert_ne!(key(&["a", "b"]), key(&["ab"]));
        assert_ne!(key(&["a", "b"]), key(&["a", "c"]));
        assert_eq!(key(&["a"]).as_str().len(), 64);
    }

    #[test]
    fn stores_restores_and_treats_damaged_entries_as_absent() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = Cache::new(dir.path().join("cache"));
        let src = dir.path().join("x.ogg");
        std::fs::write(&src, b"sound").expect("write");
        let key = KeyBuilder::new("t").finish();
        assert!(!cache.has(&key));
        let meta = serde_json::json!({"bytes": 5});
        cache
            .store(&key, &[("sound.ogg", &src)], &meta)
            .expect("store");
        assert!(cache.has(&key));
        let dest = dir.path().join("y.ogg");
        let got = cache
            .restore(&key, &[("sound.ogg", &dest)])
            .expect("restore");
        assert_eq!(got, Some(meta));
        assert_eq!(std::fs::read(&dest).expect("read"), b"sound");
        // A role the entry lacks is a miss, not an error.
        let other = dir.path().join("z.webp");
        assert_eq!(
            cache
                .restore(&key, &[("image.webp", &other)])
                .expect("restore"),
            None
        );
        std::fs::write(cache.entry(&key).join("meta.json"), "{").expect("damage");
        assert_eq!(
            cache.restore(&key, &[("sound.ogg", &dest)]).expect("r"),
            None
        );
    }

    #[test]
    fn a_build_cache_that_cannot_be_written_is_skipped_but_a_shard_fails() {
        let dir = tempfile::tempdir().expect("dir");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"not a folder").expect("write");
        let src = dir.path().join("x.ogg");
        std::fs::write(&src, b"sound").expect("write");
        let key = KeyBuilder::new("t").finish();
        let meta = serde_json::json!({});
        let cache = Cache::best_effort(blocker.join("cache"));
        assert!(cache.store(&key, &[("sound.ogg", &src)], &meta).is_ok());
        assert!(cache.failed() && !cache.has(&key));
        let shard = Cache::new(blocker.join("shard"));
        assert!(shard.store(&key, &[("sound.ogg", &src)], &meta).is_err());
    }
}
