//! `build`: every sticker of a manifest rendered for every platform (in parallel), each platform's
//! metadata and archive, all written to a staging folder and swapped into place only when complete, so
//! a failed build leaves the previous pack untouched.

use super::archive::write_zip;
use super::bundles::{self, Rendered};
use super::manifest::{self, LoadedManifest};
use super::settings::{clip_options, cover_options};
use crate::art::styles::Style;
use crate::clip::{ClipReport, ClipRequest, clip};
use crate::cover::{CoverOptions, CoverReport, CoverRequest, cover};
use crate::error::{Error, Result};
use crate::output::file_label;
use crate::platform::{ImageKind, Platform};
use crate::progress::{Progress, Stage};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Output folder (default: `dist` beside the manifest).
    pub out: Option<PathBuf>,
    /// Only these platforms (default: the manifest's).
    pub platforms: Vec<Platform>,
    /// Parallel stickers (default: one per core).
    pub jobs: Option<usize>,
}

/// One file written for one sticker.
#[derive(Debug, Clone, Serialize)]
pub struct OutputFile {
    /// `whatsapp`, `telegram`, `signal`, `discord` or `pack`.
    pub target: String,
    pub file: PathBuf,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lufs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dbtp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssim: Option<f64>,
}

/// Everything made for one sticker.
#[derive(Debug, Clone, Serialize)]
pub struct StickerReport {
    pub id: String,
    pub outputs: Vec<OutputFile>,
    pub warnings: Vec<String>,
}

/// The build's report.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub out: PathBuf,
    pub platforms: Vec<Platform>,
    pub stickers: Vec<StickerReport>,
    /// Pack-level files: metadata, tray icons, thumbnails, archives.
    pub files: Vec<PathBuf>,
}

/// One sticker's report and what each target (platform, or `None` for the canonical pack) got.
type StickerBuild = (StickerReport, Vec<(Option<Platform>, Rendered)>);

/// Where a target's files go inside the build folder.
fn target_name(p: Option<Platform>) -> &'static str {
    p.map_or("pack", Platform::name)
}

fn image_ext(kind: ImageKind) -> &'static str {
    match kind {
        ImageKind::Webp => "webp",
        ImageKind::Png => "png",
        ImageKind::Gif => "gif",
        ImageKind::Webm => "webm",
    }
}

fn sound_output(target: &str, file: &Path, r: &ClipReport) -> OutputFile {
    OutputFile {
        target: target.into(),
        file: file.to_path_buf(),
        bytes: r.encoding.bytes,
        duration_s: Some(r.duration_s),
        lufs: r.loudness.achieved_lufs,
        dbtp: r.loudness.achieved_true_peak_dbtp,
        ssim: None,
    }
}

fn image_output(target: &str, file: &Path, r: &CoverReport) -> OutputFile {
    OutputFile {
        target: target.into(),
        file: file.to_path_buf(),
        bytes: r.bytes,
        duration_s: Some(f64::from(r.duration_ms) / 1000.0),
        lufs: None,
        dbtp: None,
        ssim: Some(r.fitted.ssim),
    }
}

/// Render one sticker for every target: its sound clip, then its animation driven by that clip.
fn build_sticker(
    m: &LoadedManifest,
    index: usize,
    targets: &[Option<Platform>],
    staging: &Path,
    progress: &dyn Progress,
) -> Result<StickerBuild> {
    let s = &m.manifest.stickers[index];
    let mut report = StickerReport {
        id: s.id.clone(),
        outputs: Vec::new(),
        warnings: Vec::new(),
    };
    let mut rendered = Vec::new();
    let art = m.resolve(s.cover.as_deref().unwrap_or(&m.manifest.cover));
    for &target in targets {
        let dir = staging.join(target_name(target));
        // Sound: the canonical pack keeps the sticker's own channels (Telegram's rules); platforms
        // apply theirs.
        let sound_platform = target.unwrap_or(Platform::Telegram);
        let (clip_opts, warning) = clip_options(m, index, sound_platform)?;
        report.warnings.extend(warning);
        let sound_file = dir.join(format!("{}.ogg", s.id));
        progress.stage(&s.id, Stage::Encode);
        let clip_report = clip(
            &ClipRequest {
                input: m.resolve(&s.master),
                output: sound_file.clone(),
                options: clip_opts,
            },
            progress,
        )?;
        report.warnings.extend(clip_report.warnings.iter().cloned());
        report
            .outputs
            .push(sound_output(target_name(target), &sound_file, &clip_report));
        // Image: platform rules (the canonical pack uses WhatsApp's: 512 px animated WebP).
        let image_platform = target.unwrap_or(Platform::Whatsapp);
        let cover_opts = cover_options(m, index, image_platform);
        let kind = image_platform.sticker_rules().animated_format;
        let image_file = dir.join(format!("{}.{}", s.id, image_ext(kind)));
        let cover_report = cover(
            &CoverRequest {
                cover: art.clone(),
                audio: Some(sound_file.clone()),
                output: image_file.clone(),
                options: cover_opts,
            },
            progress,
        )?;
        report.warnings.extend(
            cover_report
                .warnings
                .iter()
                .map(|w| format!("{}: {w}", target_name(target))),
        );
        report.outputs.push(image_output(
            target_name(target),
            &image_file,
            &cover_report,
        ));
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
    }
    Ok((report, rendered))
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Encode {
        detail: format!("JSON: {e}"),
    })?;
    std::fs::write(path, format!("{text}\n")).map_err(|e| Error::write(path, e))
}

/// A still icon of the pack cover (tray icons, thumbnails).
fn icon(
    m: &LoadedManifest,
    out: &Path,
    size: u32,
    format: ImageKind,
    max_bytes: u64,
    audio: Option<&Path>,
) -> Result<()> {
    let style = if audio.is_some() {
        Style::Pulse
    } else {
        Style::Still
    };
    cover(
        &CoverRequest {
            cover: m.resolve(&m.manifest.cover),
            audio: audio.map(Path::to_path_buf),
            output: out.to_path_buf(),
            options: CoverOptions {
                style,
                format: Some(format),
                size: Some(size),
                max_bytes: Some(max_bytes),
                max_duration: audio.map(|_| crate::timecode::Timecode::from_millis(3_000)),
                fps: audio.map(|_| 30.0),
                outline: 0,
                margin: 0,
                ..CoverOptions::default()
            },
        },
        &crate::progress::NoProgress,
    )
    .map(|_| ())
}

/// Build the packs of the manifest at `manifest_path`.
pub fn build(
    manifest_path: &Path,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildReport> {
    let m = manifest::load(manifest_path)?;
    let platforms: Vec<Platform> = if opts.platforms.is_empty() {
        m.manifest.platforms.clone()
    } else {
        opts.platforms.clone()
    };
    let out = opts.out.clone().unwrap_or_else(|| m.dir.join("dist"));
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::write(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".soundsticker-build-")
        .tempdir_in(&parent)
        .map_err(|e| Error::write(&out, e))?;
    let mut targets: Vec<Option<Platform>> = platforms.iter().copied().map(Some).collect();
    targets.push(None);
    for t in &targets {
        let dir = staging.path().join(target_name(*t));
        std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Encode {
            detail: format!("thread pool: {e}"),
        })?;
    let n = m.manifest.stickers.len();
    let done = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<Result<StickerBuild>> = pool.install(|| {
        (0..n)
            .into_par_iter()
            .map(|i| {
                let r = build_sticker(&m, i, &targets, staging.path(), progress);
                let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress.advance(d, n as u64);
                r
            })
            .collect()
    });
    let mut stickers = Vec::with_capacity(n);
    let mut rendered: Vec<(Option<Platform>, Rendered)> = Vec::new();
    for r in results {
        let (report, items) = r?;
        stickers.push(report);
        rendered.extend(items);
    }
    let of = |t: Option<Platform>| -> Vec<Rendered> {
        rendered
            .iter()
            .filter(|(p, _)| *p == t)
            .map(|(_, r)| r.clone())
            .collect()
    };

    let mut files = Vec::new();
    let st = staging.path();
    for &p in &platforms {
        let dir = st.join(p.name());
        let items = of(Some(p));
        match p {
            Platform::Whatsapp => {
                icon(&m, &dir.join("tray.png"), 96, ImageKind::Png, 50_000, None)?;
                write_json(
                    &dir.join("contents.json"),
                    &bundles::whatsapp_contents(&m.manifest, &items),
                )?;
                std::fs::write(dir.join("title.txt"), &m.manifest.name)
                    .map_err(|e| Error::write(&dir, e))?;
                std::fs::write(dir.join("author.txt"), &m.manifest.publisher)
                    .map_err(|e| Error::write(&dir, e))?;
                let mut entries: Vec<(String, PathBuf)> = items
                    .iter()
                    .map(|r| (r.image_file.clone(), dir.join(&r.image_file)))
                    .collect();
                for f in ["tray.png", "title.txt", "author.txt"] {
                    entries.push((f.into(), dir.join(f)));
                }
                let refs: Vec<(String, &Path)> = entries
                    .iter()
                    .map(|(n, p)| (n.clone(), p.as_path()))
                    .collect();
                let archive = st.join(format!(
                    "{}.wastickers",
                    m.manifest.identifier.replace(' ', "_")
                ));
                write_zip(&archive, &refs)?;
                files.push(archive);
            }
            Platform::Telegram => {
                let first_sound = items.first().map(|r| dir.join(&r.sound_file));
                icon(
                    &m,
                    &dir.join("thumb.webm"),
                    100,
                    ImageKind::Webm,
                    32 * 1024,
                    first_sound.as_deref(),
                )?;
                write_json(
                    &dir.join("set.json"),
                    &bundles::telegram_set(&m.manifest, &items),
                )?;
            }
            Platform::Signal => write_json(
                &dir.join("manifest.json"),
                &bundles::signal_manifest(&m.manifest, &items),
            )?,
            Platform::Discord => {
                write_json(&dir.join("discord.json"), &bundles::discord_listing(&items))?
            }
        }
        files.push(dir);
    }
    // Every platform folder (and the WhatsApp archive) must pass the validator before we report success.
    for &p in &platforms {
        let mut targets = vec![st.join(p.name())];
        if p == Platform::Whatsapp {
            targets.push(st.join(format!(
                "{}.wastickers",
                m.manifest.identifier.replace(' ', "_")
            )));
        }
        for t in targets {
            let report = super::validate::validate(&t, p)?;
            if !report.violations.is_empty() {
                return Err(Error::PackInvalid {
                    platform: p.name().into(),
                    violations: report
                        .violations
                        .iter()
                        .map(|v| format!("  {}: {} [{}]", v.file, v.rule, v.source))
                        .collect(),
                });
            }
        }
    }
    let pack_dir = st.join("pack");
    let pack_items = of(None);
    write_json(
        &pack_dir.join("manifest.json"),
        &bundles::canonical(&m.manifest, &pack_items, &platforms),
    )?;
    let mut entries: Vec<(String, PathBuf)> =
        vec![("manifest.json".into(), pack_dir.join("manifest.json"))];
    for r in &pack_items {
        entries.push((r.image_file.clone(), pack_dir.join(&r.image_file)));
        entries.push((r.sound_file.clone(), pack_dir.join(&r.sound_file)));
    }
    let refs: Vec<(String, &Path)> = entries
        .iter()
        .map(|(n, p)| (n.clone(), p.as_path()))
        .collect();
    write_zip(&st.join("pack.zip"), &refs)?;

    // Swap the finished build into place; the old one is removed only after the new one is there.
    let staged = staging.keep();
    let old = parent.join(format!(".soundsticker-old-{}", std::process::id()));
    if out.exists() {
        std::fs::rename(&out, &old).map_err(|e| Error::write(&out, e))?;
    }
    if let Err(e) = std::fs::rename(&staged, &out) {
        let _ = std::fs::rename(&old, &out);
        let _ = std::fs::remove_dir_all(&staged);
        return Err(Error::write(&out, e));
    }
    if old.exists() {
        let _ = std::fs::remove_dir_all(&old);
    }
    // Report paths inside the final folder.
    let relocate = |p: &Path| out.join(p.strip_prefix(&staged).unwrap_or(p));
    for s in &mut stickers {
        for o in &mut s.outputs {
            o.file = relocate(&o.file);
        }
    }
    let files = files
        .iter()
        .map(|f| relocate(f))
        .chain([out.join("pack"), out.join("pack.zip")])
        .collect();
    Ok(BuildReport {
        out,
        platforms,
        stickers,
        files,
    })
}
