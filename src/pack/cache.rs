//! The build cache: rendered files kept under a key that hashes everything they were made from (the
//! bytes of the master and the cover art, the resolved settings, the target and this version of
//! soundsticker), so an unchanged sticker is copied instead of being decoded and encoded again.
//!
//! An entry is a folder `<key>/` holding the files under their role names, `meta.json` (the figures
//! the build reports for them) and `sha256sums` (the SHA-256 and size of each of them). Entries are
//! written to a temporary folder and renamed into place, so a killed build never leaves a half-written
//! entry; two builds racing on the same key both write identical bytes, and the loser's rename simply
//! fails harmlessly. A shard folder uses the same layout, which is how `build --merge` reads shards.
//!
//! No cached file is trusted: each is checked against its SHA-256 as it is copied out, and an entry
//! that does not match (a flipped bit on disk, a file edited by hand) is reported as damaged, so the
//! build renders it again, says so, and replaces the entry.

use crate::error::{Error, Result};
use crate::limits::{Capped, MAX_PACK_JSON_BYTES, open_regular, read_capped};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Bumped whenever the meaning of an entry changes, or the encoders make different files from the same
/// settings, so that no build copies a file an older version made. Each version's reason is in
/// `docs/design.md` ("The build cache").
const FORMAT: &str = "soundsticker-cache-6";

/// The file of an entry listing each of its files as `<sha256 hex> <bytes> <name>`, one a line.
const SUMS: &str = "sha256sums";
/// The file of an entry holding its metadata.
const META: &str = "meta.json";

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
        let mut file = open_regular(path).map_err(|e| Error::read(path, e))?;
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
    best_effort: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Entries this build found damaged: `store` replaces them.
    damaged: Arc<Mutex<HashSet<Key>>>,
}

/// What [`Cache::restore`] found.
#[derive(Debug, PartialEq)]
pub enum Restored {
    /// The entry's files, checked and copied out, and its metadata.
    Hit(serde_json::Value),
    /// No such entry (or one without checksums, written before entries had them, or without the
    /// file asked for).
    Miss,
    /// The entry is damaged: a file differs from its SHA-256 or size, or cannot be read.
    Damaged,
}

impl Cache {
    /// A folder every entry must reach (a shard).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache {
            dir: dir.into(),
            best_effort: None,
            damaged: Arc::default(),
        }
    }

    /// A build cache: entries that cannot be written are skipped (see [`Cache::failed`]).
    pub fn best_effort(dir: impl Into<PathBuf>) -> Self {
        Cache {
            dir: dir.into(),
            best_effort: Some(Default::default()),
            damaged: Arc::default(),
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

    fn damaged(&self) -> std::sync::MutexGuard<'_, HashSet<Key>> {
        // A panic elsewhere cannot leave the set half-updated, so a poisoned lock is still usable.
        self.damaged.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the cache holds `key` whole (with its checksums) and not known to be damaged.
    fn intact(&self, key: &Key) -> bool {
        let entry = self.entry(key);
        entry.join(META).is_file() && entry.join(SUMS).is_file() && !self.damaged().contains(key)
    }

    /// Copy the entry's files (`(role, destination)`) out, each checked against its SHA-256 on the
    /// way, and return its metadata (checked too). A damaged entry copies nothing (a destination
    /// written in part is removed); only a destination that cannot be written is an error.
    pub fn restore(&self, key: &Key, files: &[(&str, &Path)]) -> Result<Restored> {
        let entry = self.entry(key);
        if std::fs::symlink_metadata(entry.join(META)).is_err() {
            return Ok(Restored::Miss);
        }
        if std::fs::symlink_metadata(entry.join(SUMS)).is_err() {
            // Written before entries had checksums: nothing to check it by, so it is rendered again.
            return Ok(Restored::Miss);
        }
        let damaged = || {
            self.damaged().insert(key.clone());
            Ok(Restored::Damaged)
        };
        let Some(sums) = read_small(&entry.join(SUMS)).and_then(|b| parse_sums(&b)) else {
            return damaged();
        };
        let meta = read_small(&entry.join(META))
            .filter(|bytes| sums.get(META) == Some(&sum_of(bytes)))
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let Some(meta) = meta else {
            return damaged();
        };
        if !files.iter().all(|(role, _)| sums.contains_key(*role)) {
            return Ok(Restored::Miss);
        }
        for (role, dest) in files {
            if !copy_checked(&entry.join(role), dest, &sums[*role])? {
                let _ = std::fs::remove_file(dest);
                return damaged();
            }
        }
        touch(&entry);
        Ok(Restored::Hit(meta))
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
        if self.intact(key) {
            touch(&entry);
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::write(&self.dir, e))?;
        let temp = tempfile::Builder::new()
            .prefix(".entry-")
            .tempdir_in(&self.dir)
            .map_err(|e| Error::write(&self.dir, e))?;
        let mut sums = Vec::new();
        for (role, src) in files {
            let dest = temp.path().join(role);
            sums.push((role.to_string(), copy_summed(src, &dest)?));
        }
        let text = serde_json::to_string_pretty(meta).map_err(|e| Error::Encode {
            detail: format!("cache metadata: {e}"),
        })?;
        let meta_path = temp.path().join(META);
        std::fs::write(&meta_path, &text).map_err(|e| Error::write(&meta_path, e))?;
        sums.push((META.to_string(), sum_of(text.as_bytes())));
        sums.sort();
        let list: String = sums
            .iter()
            .map(|(name, sum)| format!("{} {} {name}\n", sum.sha256, sum.bytes))
            .collect();
        let sums_path = temp.path().join(SUMS);
        std::fs::write(&sums_path, list).map_err(|e| Error::write(&sums_path, e))?;
        let staged = temp.keep();
        if std::fs::symlink_metadata(&entry).is_ok() {
            // Damaged, or without checksums: moved aside (so no build copies from it half-removed)
            // and removed.
            if let Ok(aside) = tempfile::Builder::new()
                .prefix(".entry-replaced-")
                .tempdir_in(&self.dir)
            {
                // Renamed over the empty temporary folder, whose drop removes it.
                let _ = std::fs::rename(&entry, aside.path());
            }
        }
        if std::fs::rename(&staged, &entry).is_err() {
            // Another build stored the same key first: its entry has the same bytes.
            let _ = std::fs::remove_dir_all(&staged);
        }
        self.damaged().remove(key);
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

/// A file's SHA-256 (hex) and size, as an entry's `sha256sums` lists them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Sum {
    sha256: String,
    bytes: u64,
}

fn sum_of(bytes: &[u8]) -> Sum {
    Sum {
        sha256: hex(&Sha256::digest(bytes)),
        bytes: bytes.len() as u64,
    }
}

/// A small file of an entry (`meta.json`, `sha256sums`), if it is a regular file within the cap.
fn read_small(path: &Path) -> Option<Vec<u8>> {
    match read_capped(path, MAX_PACK_JSON_BYTES) {
        Ok(Capped::Whole(bytes)) => Some(bytes),
        _ => None,
    }
}

/// `sha256sums` read back; `None` if any line is not `<64 hex> <bytes> <name>`.
fn parse_sums(bytes: &[u8]) -> Option<HashMap<String, Sum>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut sums = HashMap::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ' ');
        let (sha256, size, name) = (parts.next()?, parts.next()?, parts.next()?);
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let sum = Sum {
            sha256: sha256.to_ascii_lowercase(),
            bytes: size.parse().ok()?,
        };
        sums.insert(name.to_string(), sum);
    }
    Some(sums)
}

/// Copy `src` to `dest`, returning the SHA-256 and size of what was copied.
fn copy_summed(src: &Path, dest: &Path) -> Result<Sum> {
    let mut from = open_regular(src).map_err(|e| Error::read(src, e))?;
    let mut to = std::fs::File::create(dest).map_err(|e| Error::write(dest, e))?;
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = from.read(&mut buf).map_err(|e| Error::read(src, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n]).map_err(|e| Error::write(dest, e))?;
        bytes += n as u64;
    }
    Ok(Sum {
        sha256: hex(&hasher.finalize()),
        bytes,
    })
}

/// Copy the cached file `src` to `dest` if it is what `sum` says: false (`dest` possibly written in
/// part) when it is not, is no regular file, or cannot be read. Never reads more than `sum.bytes`
/// and one byte.
fn copy_checked(src: &Path, dest: &Path, sum: &Sum) -> Result<bool> {
    let Ok(from) = open_regular(src) else {
        return Ok(false);
    };
    if from.metadata().map(|m| m.len()).ok() != Some(sum.bytes) {
        return Ok(false);
    }
    let mut to = std::fs::File::create(dest).map_err(|e| Error::write(dest, e))?;
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    let mut from = from.take(sum.bytes.saturating_add(1));
    loop {
        let Ok(n) = from.read(&mut buf) else {
            return Ok(false);
        };
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n]).map_err(|e| Error::write(dest, e))?;
        bytes += n as u64;
    }
    Ok(bytes == sum.bytes && hex(&hasher.finalize()) == sum.sha256)
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
    fn stores_restores_and_finds_damaged_entries() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = Cache::new(dir.path().join("cache"));
        let src = dir.path().join("x.ogg");
        std::fs::write(&src, b"sound").expect("write");
        let key = KeyBuilder::new("t").finish();
        assert!(!cache.intact(&key));
        let meta = serde_json::json!({"bytes": 5});
        cache
            .store(&key, &[("sound.ogg", &src)], &meta)
            .expect("store");
        assert!(cache.intact(&key));
        let dest = dir.path().join("y.ogg");
        let restore =
            |role: &str, dest: &Path| cache.restore(&key, &[(role, dest)]).expect("restore");
        assert_eq!(restore("sound.ogg", &dest), Restored::Hit(meta.clone()));
        assert_eq!(std::fs::read(&dest).expect("read"), b"sound");
        // A role the entry lacks is a miss, not an error.
        assert_eq!(
            restore("image.webp", &dir.path().join("z.webp")),
            Restored::Miss
        );

        // Each kind of damage: found, nothing left at the destination, and the next store replaces
        // the entry.
        let entry = cache.entry(&key);
        type Damage<'a> = (&'a str, &'a dyn Fn(&Path));
        let damages: [Damage; 6] = [
            ("a flipped byte", &|e| {
                std::fs::write(e.join("sound.ogg"), b"sounD").expect("w")
            }),
            ("a longer file", &|e| {
                std::fs::write(e.join("sound.ogg"), b"sounds").expect("w")
            }),
            ("a missing file", &|e| {
                std::fs::remove_file(e.join("sound.ogg")).expect("rm")
            }),
            ("edited metadata", &|e| {
                std::fs::write(e.join(META), "{\"bytes\": 6}").expect("w")
            }),
            ("broken sums", &|e| {
                std::fs::write(e.join(SUMS), "not a sum").expect("w")
            }),
            ("a link to a device", &|e| {
                std::fs::remove_file(e.join("sound.ogg")).expect("rm");
                std::os::unix::fs::symlink("/dev/zero", e.join("sound.ogg")).expect("link");
            }),
        ];
        for (what, damage) in damages {
            damage(&entry);
            let _ = std::fs::remove_file(&dest);
            assert_eq!(restore("sound.ogg", &dest), Restored::Damaged, "{what}");
            assert!(!dest.exists(), "{what}");
            assert!(!cache.intact(&key), "{what}");
            cache
                .store(&key, &[("sound.ogg", &src)], &meta)
                .expect("store");
            assert_eq!(
                restore("sound.ogg", &dest),
                Restored::Hit(meta.clone()),
                "{what}: replaced"
            );
            assert_eq!(std::fs::read(&dest).expect("read"), b"sound");
        }
        // An entry from before checksums is a miss, and is replaced.
        std::fs::remove_file(entry.join(SUMS)).expect("rm");
        assert_eq!(restore("sound.ogg", &dest), Restored::Miss);
        cache
            .store(&key, &[("sound.ogg", &src)], &meta)
            .expect("store");
        assert_eq!(restore("sound.ogg", &dest), Restored::Hit(meta));
        let left: Vec<_> = std::fs::read_dir(cache.dir())
            .expect("dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "nothing left aside: {left:?}");
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
        assert!(cache.failed() && !cache.intact(&key));
        let shard = Cache::new(blocker.join("shard"));
        assert!(shard.store(&key, &[("sound.ogg", &src)], &meta).is_err());
    }
}
