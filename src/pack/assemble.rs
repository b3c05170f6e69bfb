//! The pack-level files of each platform folder (metadata, tray icon, thumbnail), the archives, and
//! the validation every platform folder must pass before the build reports success.

use super::archive::write_zip;
use super::bundles::{self, Rendered};
use super::cache::{Cache, FileHashes, KeyBuilder, Restored};
use super::manifest::LoadedManifest;
use super::sticker::{Target, image_ext};
use crate::art::styles::Style;
use crate::cover::{CoverOptions, CoverRequest, cover};
use crate::error::{Error, Result};
use crate::platform::{ImageKind, Platform};
use crate::progress::NoProgress;
use crate::timecode::Timecode;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What the assembly works from.
pub struct Assembly<'a> {
    pub m: &'a LoadedManifest,
    pub platforms: &'a [Platform],
    /// The build folder (staging).
    pub dir: &'a Path,
    /// Every sticker-target's files, in manifest order.
    pub rendered: &'a [(Target, Rendered)],
    pub cache: Option<&'a Cache>,
    pub hashes: &'a FileHashes,
    /// Damaged cache entries found (and rendered again), for the build's warning.
    pub damaged: &'a Mutex<Vec<String>>,
}

impl Assembly<'_> {
    fn of(&self, t: Target) -> Vec<Rendered> {
        self.rendered
            .iter()
            .filter(|(p, _)| *p == t)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// One `.wastickers` archive per WhatsApp pack (a pack of more than 30 stickers is split).
    fn wastickers(&self) -> Vec<PathBuf> {
        let items = self.of(Some(Platform::Whatsapp));
        (0..bundles::whatsapp_chunks(&items).len())
            .map(|i| {
                let id = bundles::whatsapp_identifier(&self.m.manifest, i);
                self.dir
                    .join(format!("{}.wastickers", id.replace(' ', "_")))
            })
            .collect()
    }

    /// Write every platform folder's own files and the archives; returns the pack-level files.
    pub fn write(&self) -> Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        for &p in self.platforms {
            let dir = self.dir.join(p.name());
            let items = self.of(Some(p));
            let manifest = &self.m.manifest;
            match p {
                Platform::Whatsapp => {
                    self.icon(&dir.join("tray.png"), 96, ImageKind::Png, 50_000, None)?;
                    write_json(
                        &dir.join("contents.json"),
                        &bundles::whatsapp_contents(manifest, &items),
                    )?;
                    write_text(&dir.join("title.txt"), &manifest.name)?;
                    write_text(&dir.join("author.txt"), &manifest.publisher)?;
                    let archives = self.wastickers();
                    for (chunk, archive) in bundles::whatsapp_chunks(&items).iter().zip(archives) {
                        let mut entries: Vec<(String, PathBuf)> = chunk
                            .iter()
                            .map(|r| (r.image_file.clone(), dir.join(&r.image_file)))
                            .collect();
                        for f in ["tray.png", "title.txt", "author.txt"] {
                            entries.push((f.into(), dir.join(f)));
                        }
                        zip(&archive, &entries)?;
                        files.push(archive);
                    }
                }
                Platform::Telegram => {
                    let first_sound = items.first().map(|r| dir.join(&r.sound_file));
                    self.icon(
                        &dir.join("thumb.webm"),
                        100,
                        ImageKind::Webm,
                        32 * 1024,
                        first_sound.as_deref(),
                    )?;
                    write_json(
                        &dir.join("set.json"),
                        &bundles::telegram_set(manifest, &items),
                    )?;
                }
                Platform::Signal => write_json(
                    &dir.join("manifest.json"),
                    &bundles::signal_manifest(manifest, &items),
                )?,
                Platform::Discord => {
                    write_json(&dir.join("discord.json"), &bundles::discord_listing(&items))?
                }
            }
            files.push(dir);
        }
        let pack_dir = self.dir.join("pack");
        let pack_items = self.of(None);
        write_json(
            &pack_dir.join("manifest.json"),
            &bundles::canonical(&self.m.manifest, &pack_items, self.platforms),
        )?;
        let mut entries: Vec<(String, PathBuf)> =
            vec![("manifest.json".into(), pack_dir.join("manifest.json"))];
        for r in &pack_items {
            entries.push((r.image_file.clone(), pack_dir.join(&r.image_file)));
            entries.push((r.sound_file.clone(), pack_dir.join(&r.sound_file)));
        }
        zip(&self.dir.join("pack.zip"), &entries)?;
        files.push(pack_dir);
        files.push(self.dir.join("pack.zip"));
        Ok(files)
    }

    /// Every platform folder (and the WhatsApp archive) must pass the validator.
    pub fn validate(&self) -> Result<()> {
        for &p in self.platforms {
            let mut targets = vec![self.dir.join(p.name())];
            if p == Platform::Whatsapp {
                targets.extend(self.wastickers());
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
        Ok(())
    }

    /// A still (or, with `audio`, gently pulsing) icon of the pack cover: tray icons, thumbnails.
    /// Kept in the cache like the stickers, keyed by the cover's and the sound's bytes.
    fn icon(
        &self,
        out: &Path,
        size: u32,
        format: ImageKind,
        max_bytes: u64,
        audio: Option<&Path>,
    ) -> Result<()> {
        let art = self.m.resolve(&self.m.manifest.cover);
        let options = CoverOptions {
            style: if audio.is_some() {
                Style::Pulse
            } else {
                Style::Still
            },
            format: Some(format),
            size: Some(size),
            max_bytes: Some(max_bytes),
            max_duration: audio.map(|_| Timecode::from_millis(3_000)),
            fps: audio.map(|_| 30.0),
            outline: 0,
            margin: 0,
            ..CoverOptions::default()
        };
        let mut key = KeyBuilder::new("icon");
        key.text(&self.hashes.of(&art)?)
            .text(&format!("{options:?}"));
        if let Some(a) = audio {
            // The sound was written by this build, so its bytes are hashed afresh.
            key.bytes(&std::fs::read(a).map_err(|e| Error::read(a, e))?);
        }
        let key = key.finish();
        let role = format!("icon.{}", image_ext(format));
        let roles: [(&str, &Path); 1] = [(&role, out)];
        if let Some(cache) = self.cache {
            match cache.restore(&key, &roles)? {
                Restored::Hit(_) => return Ok(()),
                Restored::Damaged => {
                    let icon = out.strip_prefix(self.dir).unwrap_or(out);
                    self.damaged
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(format!(
                            "icon {} ({role} in {})",
                            icon.display(),
                            cache.dir().display()
                        ));
                }
                Restored::Miss => {}
            }
        }
        cover(
            &CoverRequest {
                cover: art,
                audio: audio.map(Path::to_path_buf),
                output: out.to_path_buf(),
                options,
            },
            &NoProgress,
        )?;
        if let Some(cache) = self.cache {
            cache.store(&key, &roles, &serde_json::json!({}))?;
        }
        Ok(())
    }
}

fn zip(archive: &Path, entries: &[(String, PathBuf)]) -> Result<()> {
    let refs: Vec<(String, &Path)> = entries
        .iter()
        .map(|(n, p)| (n.clone(), p.as_path()))
        .collect();
    write_zip(archive, &refs)
}

pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Encode {
        detail: format!("JSON: {e}"),
    })?;
    write_text(path, &format!("{text}\n"))
}

pub fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::write(path, e))
}
