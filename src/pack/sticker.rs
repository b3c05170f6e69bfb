//! One sticker of a pack, for every target: its sound clip, then its animation driven by that clip.
//! The master's range is decoded once for all targets (platforms may only shorten it), and only if
//! some target is not in the cache.

use super::bundles::Rendered;
use super::cache::{Cache, FileHashes, Key, KeyBuilder};
use super::manifest::LoadedManifest;
use super::report::{OutputFile, StickerReport};
use super::settings::{clip_options, cover_options, range_options};
use crate::clip::{ClipReport, ClipRequest, DecodedRange, clip_from};
use crate::cover::{CoverReport, CoverRequest, cover};
use crate::error::{Error, Result};
use crate::output::file_label;
use crate::platform::{ImageKind, Platform};
use crate::progress::{Progress, Scoped, Stage};
use serde::{Deserialize, Serialize};
use std::path::Path;
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
    /// Sticker-targets finished so far, of `total`.
    pub done: &'a AtomicU64,
    pub total: u64,
}

/// What the cache keeps beside one target's two files.
#[derive(Serialize, Deserialize)]
struct TargetMeta {
    outputs: Vec<OutputFile>,
    warnings: Vec<String>,
}

/// One sticker's report and what each target got.
pub struct StickerBuild {
    pub report: StickerReport,
    pub rendered: Vec<(Target, Rendered)>,
}

/// Build sticker `index` for every target of the job.
pub fn build_sticker(job: &Job, index: usize) -> Result<StickerBuild> {
    let m = job.m;
    let s = &m.manifest.stickers[index];
    let master = m.resolve(&s.master);
    let art = m.resolve(s.cover.as_deref().unwrap_or(&m.manifest.cover));
    let mut report = StickerReport {
        id: s.id.clone(),
        outputs: Vec::new(),
        warnings: Vec::new(),
        from_cache: Vec::new(),
    };
    let mut rendered = Vec::new();
    let mut decoded: Option<DecodedRange> = None;
    for &target in job.targets {
        if job.progress.cancelled() {
            return Err(Error::Cancelled);
        }
        let name = target_name(target);
        let item = format!("{} → {name}", s.id);
        let dir = job.dir.join(name);
        let (clip_opts, shortened) = clip_options(m, index, sound_platform(target))?;
        let cover_opts = cover_options(m, index, image_platform(target));
        let ext = image_ext(image_platform(target).sticker_rules().animated_format);
        let sound_file = dir.join(format!("{}.ogg", s.id));
        let image_file = dir.join(format!("{}.{ext}", s.id));
        let image_role = format!("image.{ext}");
        let roles: [(&str, &Path); 2] = [("sound.ogg", &sound_file), (&image_role, &image_file)];

        let mut key = KeyBuilder::new("sticker");
        key.text(name)
            .text(&s.id)
            .text(&file_label(&master))
            .text(&job.hashes.of(&master)?)
            .text(&job.hashes.of(&art)?)
            .text(&format!("{clip_opts:?}"))
            .text(&format!("{cover_opts:?}"));
        let key = key.finish();

        let meta = match restore(job.sources, &key, &roles)? {
            Some(meta) => {
                job.progress.stage(&item, Stage::Cached);
                report.from_cache.push(name.to_string());
                meta
            }
            None if job.require_cached => {
                return Err(Error::Incomplete {
                    detail: format!(
                        "sticker `{}` ({name}) is in none of the shard folders {}: build the missing shard, or build without --merge",
                        s.id,
                        job.sources
                            .iter()
                            .map(|c| c.dir().display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            None => {
                let progress = Scoped {
                    inner: job.progress,
                    item: item.clone(),
                };
                let range = match decoded {
                    Some(ref d) => d,
                    None => {
                        progress.stage("", Stage::Decode);
                        decoded.insert(DecodedRange::read(&master, &range_options(m, index)?)?)
                    }
                };
                let clip_report = clip_from(
                    range,
                    &ClipRequest {
                        input: master.clone(),
                        output: sound_file.clone(),
                        options: clip_opts,
                    },
                    &progress,
                )?;
                let cover_report = cover(
                    &CoverRequest {
                        cover: art.clone(),
                        audio: Some(sound_file.clone()),
                        output: image_file.clone(),
                        options: cover_opts,
                    },
                    &progress,
                )?;
                let mut warnings: Vec<String> = shortened.into_iter().collect();
                warnings.extend(clip_report.warnings.iter().cloned());
                warnings.extend(cover_report.warnings.iter().map(|w| format!("{name}: {w}")));
                let meta = TargetMeta {
                    outputs: vec![
                        sound_output(name, "sound.ogg", &clip_report),
                        image_output(name, &image_role, &cover_report),
                    ],
                    warnings,
                };
                let value = serde_json::to_value(&meta).map_err(|e| Error::Encode {
                    detail: format!("cache metadata: {e}"),
                })?;
                for sink in job.sinks {
                    sink.store(&key, &roles, &value)?;
                }
                meta
            }
        };
        for mut o in meta.outputs {
            o.file = if o.file.to_string_lossy().starts_with("sound") {
                sound_file.clone()
            } else {
                image_file.clone()
            };
            report.outputs.push(o);
        }
        report.warnings.extend(meta.warnings);
        rendered.push((
            target,
            Rendered {
                id: s.id.clone(),
                image_file: file_label(&image_file),
                sound_file: file_label(&sound_file),
                emojis: s.emojis.clone(),
                title: s.title.clone().unwrap_or_else(|| s.id.clone()),
                alt: s.alt.clone(),
                keywords: s.keywords.clone(),
                animated: true,
            },
        ));
        let done = job.done.fetch_add(1, Ordering::Relaxed) + 1;
        job.progress.item_done(&item, done, job.total);
    }
    Ok(StickerBuild { report, rendered })
}

/// The first source holding `key`, its files copied to their places.
fn restore(sources: &[Cache], key: &Key, roles: &[(&str, &Path)]) -> Result<Option<TargetMeta>> {
    for cache in sources {
        if let Some(value) = cache.restore(key, roles)?
            && let Ok(meta) = serde_json::from_value::<TargetMeta>(value)
        {
            return Ok(Some(meta));
        }
    }
    Ok(None)
}

fn sound_output(target: &str, role: &str, r: &ClipReport) -> OutputFile {
    OutputFile {
        target: target.into(),
        file: role.into(),
        bytes: r.encoding.bytes,
        duration_s: Some(r.duration_s),
        lufs: r.loudness.achieved_lufs,
        dbtp: r.loudness.achieved_true_peak_dbtp,
        ssim: None,
    }
}

fn image_output(target: &str, role: &str, r: &CoverReport) -> OutputFile {
    OutputFile {
        target: target.into(),
        file: role.into(),
        bytes: r.bytes,
        duration_s: Some(f64::from(r.duration_ms) / 1000.0),
        lufs: None,
        dbtp: None,
        ssim: Some(r.fitted.ssim),
    }
}
