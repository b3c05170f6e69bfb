//! `build`: every sticker of a manifest rendered for every platform (in parallel, through the build
//! cache), each platform's metadata and archive, a preview page, all written to a staging folder and
//! swapped into place only when complete and valid, so a failed or interrupted build leaves the
//! previous output untouched.

use super::assemble::{Assembly, write_json};
use super::cache::{Cache, FileHashes};
use super::manifest;
pub use super::report::BuildReport;
use super::report::CacheReport;
use super::shard::{SHARD_FILE, Shard, ShardInfo, check_shard_dir};
use super::staging::{OutLock, Staging, check_out};
use super::sticker::{Job, StickerBuild, Target, build_sticker, target_name};
use crate::art::encode::webm::Threads;
use crate::cancel::CancelToken;
use crate::error::{Error, Result, Setting};
use crate::platform::Platform;
use crate::progress::Progress;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The cache folder used unless `--cache` says otherwise, beside the manifest.
pub const DEFAULT_CACHE: &str = ".soundsticker-cache";

/// How to build.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct BuildOptions {
    /// Output folder (default: `dist` beside the manifest).
    pub out: Option<PathBuf>,
    /// Only these platforms (default: the manifest's).
    pub platforms: Vec<Platform>,
    /// Parallel stickers (default: one per core).
    pub jobs: Option<usize>,
    /// Cache folder (default: [`DEFAULT_CACHE`] beside the manifest).
    pub cache: Option<PathBuf>,
    /// Use no cache at all.
    pub no_cache: bool,
    /// Encode everything again (and refresh the cache).
    pub force: bool,
    /// Build one shard only: its rendered stickers, no packs.
    pub shard: Option<Shard>,
    /// Assemble the packs from these shard folders.
    pub merge: Vec<PathBuf>,
    /// Like `make -k`: when some stickers fail, still replace the output with packs of the others
    /// (each failed sticker left out of the platforms it failed for, and listed in
    /// [`BuildReport::failed`]). Without it a failed sticker fails the build and the previous output
    /// stays. A shard build ignores it (a shard with stickers missing could not be merged).
    pub keep_going: bool,
    /// Test-only: image byte caps for some stickers and platforms (sticker id, platform, cap), in
    /// place of the platform's. Set by the command line from `SOUNDSTICKER_TEST_IMAGE_CAP` for the
    /// tests of failing stickers; nothing else should set it.
    #[doc(hidden)]
    pub test_image_caps: Vec<(String, Platform, u64)>,
    /// Cancelled by the caller to stop the build after the pieces in flight (default: a token nobody
    /// cancels). The build then returns [`Error::Cancelled`] and leaves the previous output untouched.
    pub cancel: CancelToken,
}

/// Build the packs of the manifest at `manifest_path`.
///
/// Long because it is the build's one sequence (check, stage, render, assemble or shard, validate,
/// swap into place), which shares the staging folder and the cache between its steps; each step is a
/// call into its own module.
pub fn build(
    manifest_path: &Path,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildReport> {
    let m = manifest::load_for(manifest_path, &opts.platforms)?;
    if opts.shard.is_some() && !opts.merge.is_empty() {
        return Err(Error::setting(
            Setting::Merge,
            "a shard build makes one shard and a merge assembles shards; use one or the other",
        ));
    }
    let platforms = m.manifest.platforms.clone();
    for dir in &opts.merge {
        check_shard_dir(dir, &m)?;
    }
    let out = opts.out.clone().unwrap_or_else(|| m.dir.join("dist"));
    let cache_dir = opts
        .cache
        .clone()
        .unwrap_or_else(|| m.dir.join(DEFAULT_CACHE));
    let mut inputs = vec![
        m.path.clone(),
        m.resolve(&m.manifest.cover),
        cache_dir.clone(),
    ];
    for s in &m.manifest.stickers {
        inputs.push(m.resolve(&s.master));
        inputs.extend(s.cover.as_deref().map(|c| m.resolve(c)));
    }
    inputs.extend(opts.merge.iter().cloned());
    check_out(&out, &inputs)?;
    // One build at a time per output folder (a second one is refused at once); then the folder is
    // checked again, as another build may have replaced it meanwhile.
    let _lock = OutLock::acquire(&out)?;
    check_out(&out, &inputs)?;
    let staging = Staging::create(&out, &opts.cancel)?;
    let st = staging.path();
    // A shard renders into a scratch folder and keeps the results as cache entries.
    let work = match opts.shard {
        Some(_) => st.join(".work"),
        None => st.to_path_buf(),
    };
    let mut targets: Vec<Target> = platforms.iter().copied().map(Some).collect();
    targets.push(None);
    for t in &targets {
        let dir = work.join(target_name(*t));
        std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
    }
    if platforms.contains(&Platform::Telegram) && m.manifest.static_fallback() {
        let dir = work.join("telegram").join("static");
        std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
    }

    let cache = (!opts.no_cache).then(|| Cache::best_effort(cache_dir));
    let mut sources: Vec<Cache> = opts.merge.iter().map(Cache::new).collect();
    let mut sinks: Vec<Cache> = Vec::new();
    if let Some(c) = &cache {
        if !opts.force {
            sources.push(c.clone());
        }
        sinks.push(c.clone());
    }
    if opts.shard.is_some() {
        sinks.push(Cache::new(st));
    }
    let hashes = FileHashes::default();
    let chosen: Vec<usize> = (0..m.manifest.stickers.len())
        .filter(|&i| opts.shard.is_none_or(|s| s.holds(i)))
        .collect();
    let done = AtomicU64::new(0);
    let damaged = Mutex::new(Vec::new());
    let job = Job {
        m: &m,
        test_image_caps: &opts.test_image_caps,
        targets: &targets,
        dir: &work,
        sources: &sources,
        sinks: &sinks,
        require_cached: !opts.merge.is_empty(),
        hashes: &hashes,
        progress,
        cancel: &opts.cancel,
        done: &done,
        total: (chosen.len() * targets.len()) as u64,
        damaged: &damaged,
    };
    let built = render_all(&job, &chosen, opts.jobs)?;
    if opts.cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }

    let mut stickers = Vec::with_capacity(built.len());
    let mut rendered = Vec::new();
    let mut failed = Vec::new();
    for b in built {
        stickers.push(b.report);
        rendered.extend(b.rendered);
        failed.extend(b.failures);
    }
    if !failed.is_empty() {
        locate_failures(&m, &mut failed, st, &out);
        if !opts.keep_going || opts.shard.is_some() {
            return Err(Error::StickersFailed {
                failures: failed,
                packs: None,
            });
        }
    }
    let (files, preview) = if let Some(shard) = opts.shard {
        let info = ShardInfo {
            identifier: m.manifest.identifier.clone(),
            shard: shard.to_string(),
            stickers: stickers.iter().map(|s| s.id.clone()).collect(),
        };
        let value = serde_json::to_value(&info).map_err(|e| Error::Encode {
            detail: format!("{SHARD_FILE}: {e}"),
        })?;
        write_json(&st.join(SHARD_FILE), &value)?;
        std::fs::remove_dir_all(&work).map_err(|e| Error::write(&work, e))?;
        for s in &mut stickers {
            for o in &mut s.outputs {
                o.file = o.file.file_name().map(PathBuf::from).unwrap_or_default();
            }
        }
        (vec![st.join(SHARD_FILE)], None)
    } else {
        let assembly = Assembly {
            m: &m,
            platforms: &platforms,
            dir: st,
            rendered: &rendered,
            cache: cache.as_ref(),
            hashes: &hashes,
            damaged: &damaged,
        };
        let assembled = assembly.write().and_then(|files| {
            assembly.validate()?;
            Ok(files)
        });
        let mut files = match assembled {
            Ok(files) => files,
            // Without the failed stickers a pack may break its platform's rules (too few stickers):
            // the failures are what to fix, so they are what the build reports.
            Err(e) if !failed.is_empty() => {
                return Err(Error::StickersFailed {
                    failures: failed,
                    packs: Some(e.to_string()),
                });
            }
            Err(e) => return Err(e),
        };
        let preview = st.join("preview.html");
        super::assemble::write_text(
            &preview,
            &super::preview::page(&m.manifest, &platforms, &stickers, st),
        )?;
        files.push(preview.clone());
        (files, Some(preview))
    };
    if opts.cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }

    let mut warnings: Vec<String> = Vec::new();
    if let Some(c) = cache.as_ref().filter(|c| c.failed()) {
        warnings.push(format!(
            "could not write the cache folder {}; this build kept nothing for the next (choose another cache folder)",
            c.dir().display()
        ));
    }
    let mut damaged = damaged.into_inner().unwrap_or_else(|p| p.into_inner());
    if !damaged.is_empty() {
        damaged.sort();
        warnings.push(format!(
            "damaged cached files (their SHA-256 no longer matched what was stored) were rendered again: {}",
            damaged.join(", ")
        ));
    }
    let cache_report = CacheReport {
        dir: cache.as_ref().map(|c| c.dir().to_path_buf()),
        hits: stickers.iter().map(|s| s.from_cache).sum(),
        misses: stickers.iter().map(|s| s.encoded).sum(),
        warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
    };

    // Report paths inside the final folder.
    let staged = st.to_path_buf();
    let relocate = |p: &Path| relocated(p, &staged, &out);
    for s in &mut stickers {
        for o in &mut s.outputs {
            o.file = relocate(&o.file);
        }
    }
    let files = files.iter().map(|f| relocate(f)).collect();
    let preview = preview.map(|p| relocate(&p));
    staging.commit()?;
    if let Some(c) = &cache {
        c.prune();
    }
    Ok(BuildReport {
        out,
        platforms,
        shard: opts.shard.map(|s| s.to_string()),
        stickers,
        files,
        preview,
        cache: cache_report,
        failed,
    })
}

/// Name each failure's place in the manifest (line:column of its sticker, in the text that was
/// loaded) and its file in the output folder rather than the staging folder.
fn locate_failures(
    m: &manifest::LoadedManifest,
    failed: &mut [crate::error::StickerFailure],
    staged: &Path,
    out: &Path,
) {
    let pointers: Vec<&str> = failed.iter().map(|f| f.pointer.as_str()).collect();
    let places = super::json_pos::locate_all(&m.text, &pointers);
    for (f, place) in failed.iter_mut().zip(places) {
        f.line_column = place;
        f.file = relocated(&f.file, staged, out);
    }
}

/// `p` inside the final output folder `out` when it is inside the staging folder `staged`.
fn relocated(p: &Path, staged: &Path, out: &Path) -> PathBuf {
    match p.strip_prefix(staged) {
        Ok(rel) => out.join(rel),
        Err(_) => p.to_path_buf(),
    }
}

/// Build the chosen stickers, `jobs` at a time (default: one per core). A sticker's own failures
/// are in its `StickerBuild`; an error here is one that stops the build (see `build_sticker`), the
/// first in manifest order. Each sticker runs on its own worker thread and its inner work (frames,
/// encodes) on rayon's pool. Stickers are not rayon tasks themselves: a rayon thread waiting inside one sticker would steal
/// and start others, so any number could be in flight at once, each holding its frames in memory.
fn render_all(job: &Job, chosen: &[usize], jobs: Option<usize>) -> Result<Vec<StickerBuild>> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = jobs
        .filter(|&j| j > 0)
        .unwrap_or(cores)
        .min(chosen.len().max(1));
    // With a worker on every core, each VP9 encode runs on its worker's thread alone, until a worker
    // runs out of stickers and leaves its core to the others.
    let vp9_threads = Threads::new(if workers >= cores { 1 } else { 2 });
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<StickerBuild>>>> =
        chosen.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&index) = chosen.get(k) else {
                        break;
                    };
                    let result = build_sticker(job, index, &vp9_threads);
                    *slots[k].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                }
                vp9_threads.set(2);
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or(Err(Error::Cancelled))
        })
        .collect()
}
