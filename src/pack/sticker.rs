//! One sticker of a pack, for every target: its sound clip, then its animation driven by that clip.
//! The master's range is decoded once for all targets (platforms may only shorten it), and only if
//! some target is not in the cache.

use super::bundles::Rendered;
use super::cache::{Cache, FileHashes, Key, KeyBuilder, Restored};
use super::manifest::LoadedManifest;
use super::report::{OutputFile, StickerReport};
use super::settings::{clip_options, cover_options, field_of, range_options};
use crate::art::encode::webm::Threads;
use crate::art::styles::Style;
use crate::cancel::CancelToken;
use crate::clip::{ClipReport, ClipRequest, DecodedRange, clip_from};
use crate::cover::{CoverOptions, CoverReport, CoverRequest, cover_on};
use crate::error::{Error, Result, StickerFailure};
use crate::output::file_label;
use crate::platform::{ImageKind, Platform};
use crate::progress::{Progress, Scoped, Stage};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A target: a platform, or `None` for our canonical pack.
pub type Target = Option<Platform>;

/// Where a target's files go inside the build folder.
pub fn target_name(t: Target) -> &'static str {
    t.map_or("pack", Platform::name)
}

pub fn image_ext(kind: ImageKind) -> &'static str {
    match kind {
        ImageKind::Webp => "webp",
        ImageKind::Png => "png",
        ImageKind::Gif => "gif",
        ImageKind::Webm => "webm",
    }
}

/// The platform whose sound rules a target follows: the canonical pack keeps the sticker's own
/// channels, as Telegram does.
fn sound_platform(t: Target) -> Platform {
    t.unwrap_or(Platform::Telegram)
}

/// The platform whose image rules a target follows: the canonical pack uses WhatsApp's (512 px
/// animated WebP).
pub fn image_platform(t: Target) -> Platform {
    t.unwrap_or(Platform::Whatsapp)
}

/// Everything the sticker jobs share.
pub struct Job<'a> {
    pub m: &'a LoadedManifest,
    /// Test-only image caps (see `BuildOptions::test_image_caps`).
    pub test_image_caps: &'a [(String, Platform, u64)],
    pub targets: &'a [Target],
    /// Folder holding one sub-folder per target.
    pub dir: &'a Path,
    /// Caches to take results from, in order.
    pub sources: &'a [Cache],
    /// Caches to keep new results in.
    pub sinks: &'a [Cache],
    /// A merge: every result must come from `sources`.
    pub require_cached: bool,
    pub hashes: &'a FileHashes,
    pub progress: &'a dyn Progress,
    /// Checked before each target: a cancelled build stops there.
    pub cancel: &'a CancelToken,
    /// Sticker-targets finished so far, of `total`.
    pub done: &'a AtomicU64,
    pub total: u64,
    /// Damaged cache entries found (and rendered again), for the build's warning.
    pub damaged: &'a Mutex<Vec<String>>,
}

impl Job<'_> {
    /// Note a damaged cache entry: `what` names the sticker or icon and the file.
    pub fn note_damaged(&self, what: String) {
        self.damaged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(what);
    }
}

/// What the cache keeps beside one file: its figures (file named by role) and warnings.
#[derive(Clone, Serialize, Deserialize)]
struct FileMeta {
    output: OutputFile,
    warnings: Vec<String>,
}

/// One sticker's report, what each target got, and the targets that failed.
pub struct StickerBuild {
    pub report: StickerReport,
    pub rendered: Vec<(Target, Rendered)>,
    pub failures: Vec<StickerFailure>,
}

/// How a file was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Copied from the cache or a shard.
    Restored,
    /// Copied from another target of this build (same key).
    Reused,
    /// Encoded now.
    Encoded,
}

/// The files of one sticker made or restored so far in this build, by key: targets with identical
/// settings (WhatsApp and Signal voice notes, the canonical pack's WhatsApp-rules image) share them.
struct Sticker<'a> {
    job: &'a Job<'a>,
    index: usize,
    master: PathBuf,
    /// The sticker's cover art (its own, or the pack's).
    art: PathBuf,
    decoded: Option<DecodedRange>,
    made: HashMap<Key, (PathBuf, FileMeta)>,
    /// Images of this build that could not fit their cap (`Error::TooBig`'s cap, smallest bytes and
    /// steps tried), by key: another target with the same key (the canonical pack's WhatsApp-rules
    /// image) fails at once instead of trying the whole ladder again.
    too_big: HashMap<Key, (u64, u64, Vec<String>)>,
    /// Threads for this sticker's VP9 encodes (see `Threads`).
    threads: Threads,
}

impl Sticker<'_> {
    /// Get the file for `key` into `dest`: from this build, from a cache, or by calling `make`.
    fn obtain(
        &mut self,
        key: &Key,
        role: &str,
        dest: &Path,
        make: impl FnOnce(&mut Self) -> Result<FileMeta>,
    ) -> Result<(FileMeta, Origin)> {
        if let Some((path, meta)) = self.made.get(key) {
            if path != dest {
                std::fs::copy(path, dest).map_err(|e| Error::write(dest, e))?;
            }
            return Ok((meta.clone(), Origin::Reused));
        }
        let job = self.job;
        let keep = |meta: &FileMeta| -> Result<()> {
            let value = serde_json::to_value(meta).map_err(|e| Error::Encode {
                detail: format!("cache metadata: {e}"),
            })?;
            for sink in job.sinks {
                sink.store(key, &[(role, dest)], &value)?;
            }
            Ok(())
        };
        let s = &job.m.manifest.stickers[self.index];
        let (restored, damaged) = restore(job, key, role, dest, &s.id)?;
        let (meta, origin) = match restored {
            // Kept in every sink too: a shard folder must hold its stickers even when they came
            // from this machine's cache, or a merge on another machine would not find them.
            Some(meta) => {
                keep(&meta)?;
                (meta, Origin::Restored)
            }
            None if job.require_cached => {
                let state = if damaged {
                    "is damaged (its SHA-256 no longer matches) in"
                } else {
                    "is in none of"
                };
                return Err(Error::Incomplete {
                    detail: format!(
                        "sticker `{}` (number {} in the manifest) {state} the shard folders {}: build the missing shard again, or build without merging",
                        s.id,
                        self.index + 1,
                        job.sources
                            .iter()
                            .map(|c| c.dir().display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            None => {
                if let Some((cap, best_bytes, tried)) = self.too_big.get(key) {
                    return Err(Error::TooBig {
                        cap: *cap,
                        best_bytes: *best_bytes,
                        tried: tried.clone(),
                    });
                }
                let mut meta = match make(self) {
                    Err(Error::TooBig {
                        cap,
                        best_bytes,
                        tried,
                    }) => {
                        self.too_big
                            .insert(key.clone(), (cap, best_bytes, tried.clone()));
                        return Err(Error::TooBig {
                            cap,
                            best_bytes,
                            tried,
                        });
                    }
                    other => other?,
                };
                meta.output.file = role.into();
                keep(&meta)?;
                (meta, Origin::Encoded)
            }
        };
        self.made
            .insert(key.clone(), (dest.to_path_buf(), meta.clone()));
        Ok((meta, origin))
    }

    /// The sound of `platform`'s rules: its key and file (made if needed).
    fn sound(
        &mut self,
        platform: Platform,
        dest: &Path,
        item: &str,
    ) -> Result<(Key, FileMeta, Origin)> {
        let job = self.job;
        let m = job.m;
        let (opts, shortened) = clip_options(m, self.index, platform)?;
        let mut key = KeyBuilder::new("sound");
        key.text(&file_label(&self.master))
            .text(&job.hashes.of(&self.master)?)
            .text(&format!("{opts:?}"));
        let key = key.finish();
        let (meta, origin) = self.obtain(&key, "sound.ogg", dest, |st| {
            let progress = Scoped {
                inner: job.progress,
                item: item.to_string(),
            };
            let range = match st.decoded {
                Some(ref d) => d,
                None => {
                    progress.stage("", Stage::Decode);
                    let range = range_options(m, st.index);
                    st.decoded.insert(DecodedRange::read(&st.master, &range)?)
                }
            };
            let r = clip_from(
                range,
                &ClipRequest {
                    input: st.master.clone(),
                    output: dest.to_path_buf(),
                    options: opts,
                },
                &progress,
            )?;
            let mut warnings: Vec<String> = shortened.into_iter().collect();
            warnings.extend(r.warnings.iter().cloned());
            Ok(FileMeta {
                output: sound_output(&r),
                warnings,
            })
        })?;
        Ok((key, meta, origin))
    }

    /// The sticker's cover options for `platform`, with a test-only cap where one is set.
    fn cover_options(&self, platform: Platform) -> CoverOptions {
        let mut opts = cover_options(self.job.m, self.index, platform);
        let id = &self.job.m.manifest.stickers[self.index].id;
        if let Some((_, _, cap)) = self
            .job
            .test_image_caps
            .iter()
            .find(|(i, p, _)| i == id && *p == platform)
        {
            opts.max_bytes = Some(*cap);
        }
        opts
    }

    /// A still image of the art by `platform`'s static rules (Telegram's static fallback).
    fn still(&mut self, platform: Platform, dest: &Path, item: &str) -> Result<(FileMeta, Origin)> {
        let opts = CoverOptions {
            style: Style::Still,
            ..self.cover_options(platform)
        };
        self.render(opts, None, "image.webp", dest, item)
    }

    /// The animated image of `platform`'s rules driven by the sound `driver` (key and file).
    fn image(
        &mut self,
        platform: Platform,
        driver: (&Key, &Path),
        dest: &Path,
        item: &str,
    ) -> Result<(FileMeta, Origin)> {
        let opts = self.cover_options(platform);
        let ext = image_ext(platform.sticker_rules().animated_format);
        self.render(opts, Some(driver), &format!("image.{ext}"), dest, item)
    }

    /// The sticker's art rendered with `opts` (moving with the sound `driver`, when given) into `dest`,
    /// cached as `name` under a key of the art, the options and the driver's key.
    fn render(
        &mut self,
        opts: CoverOptions,
        driver: Option<(&Key, &Path)>,
        name: &str,
        dest: &Path,
        item: &str,
    ) -> Result<(FileMeta, Origin)> {
        let job = self.job;
        let art = self.art.clone();
        let threads = self.threads.clone();
        let mut key = KeyBuilder::new(if driver.is_some() { "image" } else { "still" });
        key.text(&job.hashes.of(&art)?).text(&format!("{opts:?}"));
        if let Some((driver_key, _)) = driver {
            key.text(driver_key.as_str());
        }
        let key = key.finish();
        self.obtain(&key, name, dest, |_| {
            let r = cover_on(
                &CoverRequest {
                    cover: art,
                    audio: driver.map(|(_, file)| file.to_path_buf()),
                    output: dest.to_path_buf(),
                    options: opts,
                },
                &Scoped {
                    inner: job.progress,
                    item: item.to_string(),
                },
                &threads,
            )?;
            Ok(FileMeta {
                output: image_output(&r),
                warnings: r.warnings.clone(),
            })
        })
    }
}

/// Build sticker `index` for every target of the job. The canonical pack's image follows WhatsApp's
/// rules and, when the build includes WhatsApp, is WhatsApp's image (driven by its voice note), so it
/// is made once. Its VP9 encodes run on as many threads as `threads` holds when each starts.
///
/// A target that fails does not stop the others: its files are removed from the build folder at the
/// end and the failure is kept in `StickerBuild::failures`, naming the sticker, its manifest pointer, the target
/// and the file. Only an error that stops the build ends it early: a cancel, a failed write to the
/// staging folder or cache, a merge missing a shard.
pub fn build_sticker(job: &Job, index: usize, threads: &Threads) -> Result<StickerBuild> {
    let m = job.m;
    let s = &m.manifest.stickers[index];
    let mut st = Sticker {
        job,
        index,
        master: m.resolve(&s.master),
        art: m.resolve(s.cover.as_deref().unwrap_or(&m.manifest.cover)),
        decoded: None,
        made: HashMap::new(),
        too_big: HashMap::new(),
        threads: threads.clone(),
    };
    let mut build = StickerBuild {
        report: StickerReport {
            id: s.id.clone(),
            outputs: Vec::new(),
            warnings: Vec::new(),
            encoded: 0,
            from_cache: 0,
        },
        rendered: Vec::new(),
        failures: Vec::new(),
    };
    for &target in job.targets {
        if job.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let name = target_name(target);
        let item = format!("{} → {name}", s.id);
        // The file being made, named by a failure.
        let mut at = PathBuf::new();
        match build_target(&mut st, &mut build.report, target, &mut at) {
            Ok(rendered) => build.rendered.push((target, rendered)),
            // Not this sticker's fault: the build cannot go on (cancelled, the staging folder or
            // cache cannot be written, a merge misses a shard).
            Err(e @ (Error::Cancelled | Error::Write { .. } | Error::Incomplete { .. })) => {
                return Err(e);
            }
            Err(e) => {
                let e = e.name_setting(|setting| field_of(m, index, setting));
                let failure =
                    StickerFailure::new(&s.id, format!("/stickers/{index}"), name, &at, &e);
                job.progress.stage(&item, Stage::Failed);
                build
                    .report
                    .warnings
                    .push(format!("{name}: not built: {e}"));
                build.failures.push(failure);
            }
        }
        let done = job.done.fetch_add(1, Ordering::Relaxed) + 1;
        job.progress.item_done(&item, done, job.total);
    }
    // What a failed target wrote is not part of any pack: its files are removed once every target has
    // run, since later targets may use them (the canonical pack's image is driven by WhatsApp's voice
    // note). Only files of the staging folder, which this build made, are removed.
    for f in &build.failures {
        if let Some(&target) = job.targets.iter().find(|t| target_name(**t) == f.target) {
            for file in target_files(job, target, &s.id) {
                let _ = std::fs::remove_file(file);
            }
        }
    }
    Ok(build)
}

/// The files a target of sticker `id` may write in the build folder.
fn target_files(job: &Job, target: Target, id: &str) -> [PathBuf; 3] {
    let dir = job.dir.join(target_name(target));
    let ext = image_ext(image_platform(target).sticker_rules().animated_format);
    [
        dir.join(format!("{id}.ogg")),
        dir.join(format!("{id}.{ext}")),
        dir.join("static").join(format!("{id}.webp")),
    ]
}

/// One target of `st`'s sticker: its sound, image and (Telegram's) still, reported into `report`;
/// `at` is set to each file as it is made, so that a failure names it.
fn build_target(
    st: &mut Sticker,
    report: &mut StickerReport,
    target: Target,
    at: &mut PathBuf,
) -> Result<Rendered> {
    let job = st.job;
    let m = job.m;
    let s = &m.manifest.stickers[st.index];
    let name = target_name(target);
    let item = format!("{} → {name}", s.id);
    let [sound_file, image_file, static_path] = target_files(job, target, &s.id);
    let tally = |origin: Origin, report: &mut StickerReport| match origin {
        Origin::Encoded => report.encoded += 1,
        Origin::Restored => report.from_cache += 1,
        Origin::Reused => {}
    };
    *at = sound_file.clone();
    let (sound_key, sound_meta, sound_origin) =
        st.sound(sound_platform(target), &sound_file, &item)?;
    tally(sound_origin, report);
    let whatsapp_sound = job
        .targets
        .contains(&Some(Platform::Whatsapp))
        .then(|| job.dir.join("whatsapp").join(format!("{}.ogg", s.id)));
    let driver = match (target, &whatsapp_sound) {
        (None, Some(wa)) => {
            *at = wa.clone();
            let (key, _, _) = st.sound(Platform::Whatsapp, wa, &item)?;
            (key, wa.clone())
        }
        _ => (sound_key, sound_file.clone()),
    };
    *at = image_file.clone();
    let (image_meta, origin) = st.image(
        image_platform(target),
        (&driver.0, &driver.1),
        &image_file,
        &item,
    )?;
    tally(origin, report);
    let mut files = vec![
        (sound_meta, sound_file.clone()),
        (image_meta, image_file.clone()),
    ];
    let static_file = if target == Some(Platform::Telegram) && m.manifest.static_fallback() {
        *at = static_path.clone();
        let (meta, still_origin) = st.still(Platform::Telegram, &static_path, &item)?;
        tally(still_origin, report);
        files.push((meta, static_path));
        Some(format!("static/{}.webp", s.id))
    } else {
        None
    };
    let origins = [sound_origin, origin];
    if origins.contains(&Origin::Restored) && !origins.contains(&Origin::Encoded) {
        job.progress.stage(&item, Stage::Cached);
    }
    for (meta, file) in files {
        let is_image = file != sound_file;
        report.outputs.push(OutputFile {
            target: name.into(),
            file,
            ..meta.output
        });
        for w in meta.warnings {
            let w = if is_image { format!("{name}: {w}") } else { w };
            if !report.warnings.contains(&w) {
                report.warnings.push(w);
            }
        }
    }
    Ok(Rendered {
        id: s.id.clone(),
        image_file: file_label(&image_file),
        sound_file: file_label(&sound_file),
        emojis: s.emojis.clone(),
        title: s.title.clone().unwrap_or_else(|| s.id.clone()),
        alt: s.alt.clone(),
        keywords: s.keywords.clone(),
        animated: true,
        static_file,
    })
}

/// The first source holding `key` intact, its file copied to `dest`, and whether some source held
/// it damaged (noted in the job for the build's warning, naming the sticker `id`).
fn restore(
    job: &Job,
    key: &Key,
    role: &str,
    dest: &Path,
    id: &str,
) -> Result<(Option<FileMeta>, bool)> {
    let mut damaged = false;
    for cache in job.sources {
        match cache.restore(key, &[(role, dest)])? {
            Restored::Hit(value) => {
                if let Ok(meta) = serde_json::from_value::<FileMeta>(value) {
                    return Ok((Some(meta), damaged));
                }
            }
            Restored::Damaged => {
                damaged = true;
                job.note_damaged(format!(
                    "sticker `{id}` ({role} in {})",
                    cache.dir().display()
                ));
            }
            Restored::Miss => {}
        }
    }
    Ok((None, damaged))
}

fn sound_output(r: &ClipReport) -> OutputFile {
    OutputFile {
        target: String::new(),
        file: PathBuf::new(),
        bytes: r.encoding.bytes,
        duration_s: Some(r.duration_s),
        lufs: r.loudness.achieved_lufs,
        dbtp: r.loudness.achieved_true_peak_dbtp,
        ssim: None,
        stop: None,
        fallback: Vec::new(),
    }
}

fn image_output(r: &CoverReport) -> OutputFile {
    OutputFile {
        target: String::new(),
        file: PathBuf::new(),
        bytes: r.bytes,
        duration_s: Some(f64::from(r.duration_ms) / 1000.0),
        lufs: None,
        dbtp: None,
        ssim: Some(r.fitted.ssim),
        stop: Some(r.fitted.stop),
        fallback: r.fitted.fallback.clone(),
    }
}
