//! `init`: scaffold a `pack.json` from a folder of masters and images, one sticker per master starting
//! at its loudest window (until hook finding exists), so a label can start from a valid manifest.

use super::manifest::{self, Manifest, Sticker, StickerSettings, TelegramSettings};
use crate::audio::source::{Source, stream::Decode};
use crate::error::{Error, Result, Setting};
use crate::output::{AtomicFile, file_label};
use crate::platform::Platform;
use crate::timecode::Timecode;
use ebur128::{EbuR128, Mode};
use std::path::{Path, PathBuf};

const AUDIO_EXT: &[&str] = &[
    "wav", "flac", "mp3", "m4a", "mp4", "aac", "aif", "aiff", "ogg", "opus",
];
const IMAGE_EXT: &[&str] = &["png", "jpg", "jpeg", "webp", "gif", "bmp"];

/// What `init` does.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InitOptions {
    /// Clip length of each sticker.
    pub duration: Timecode,
    /// Platforms the manifest builds for. Default: all of them.
    pub platforms: Vec<Platform>,
    /// Replace an existing pack.json.
    pub force: bool,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            duration: Timecode::from_millis(4_000),
            platforms: Platform::ALL.to_vec(),
            force: false,
        }
    }
}

fn files_with(dir: &Path, exts: &[&str]) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::read(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| exts.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Where the loudest windows of a track start, and how long the track is.
pub struct Windows {
    pub starts: Vec<Timecode>,
    /// The track's length as measured (whole 100 ms blocks).
    pub length_ms: u64,
}

/// Starts of the `count` loudest windows of `window_ms`, by momentary loudness (BS.1770 K-weighting)
/// sampled every 100 ms: windows that do not overlap first, then, when the track is too short for that
/// many, the loudest others at least a second apart; fewer when even those run out (one at the start
/// of a track shorter than a window).
pub fn loudest_windows(path: &Path, window_ms: u64, count: usize) -> Result<Windows> {
    let mut source = Source::open(path)?;
    let info = source.info().clone();
    let channels = info.layout.len();
    let mut ebu =
        EbuR128::new(channels as u32, info.rate, Mode::M).map_err(|e| Error::Corrupt {
            path: path.to_path_buf(),
            detail: format!("cannot measure: {e}"),
        })?;
    let block = (info.rate / 10) as usize * channels;
    let mut pending: Vec<f32> = Vec::with_capacity(block);
    let mut energy: Vec<f64> = Vec::new(); // per 100 ms block, of the 400 ms ending with it
    source.stream(0, None, &mut |chunk| {
        let mut rest = chunk;
        while !rest.is_empty() {
            let take = (block - pending.len()).min(rest.len());
            pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if pending.len() == block {
                let _ = ebu.add_frames_f32(&pending);
                pending.clear();
                let m = ebu.loudness_momentary().unwrap_or(f64::NEG_INFINITY);
                energy.push(if m.is_finite() {
                    10f64.powf(m / 10.0)
                } else {
                    0.0
                });
            }
        }
        Ok(())
    })?;
    let length_ms = energy.len() as u64 * 100;
    let w = (window_ms / 100) as usize;
    if energy.len() < w || w == 0 {
        let starts = if energy.is_empty() {
            Vec::new()
        } else {
            vec![Timecode::default()]
        };
        return Ok(Windows { starts, length_ms });
    }
    // Mean energy of each window of w blocks starting at block b (block b covers b*100 ms + 100 ms).
    let mut sums: Vec<(f64, usize)> = Vec::new();
    let mut sum: f64 = energy[..w].iter().sum();
    sums.push((sum, 0));
    for b in 1..=energy.len() - w {
        sum += energy[b + w - 1] - energy[b - 1];
        sums.push((sum, b));
    }
    sums.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut picked: Vec<usize> = Vec::new();
    // Apart: not overlapping at all, then (short tracks) starting at least a second (10 blocks) apart.
    for apart in [w, 10.min(w)] {
        for &(_, b) in &sums {
            if picked.len() < count && picked.iter().all(|&p| b.abs_diff(p) >= apart) {
                picked.push(b);
            }
        }
    }
    picked.sort_unstable();
    let starts = picked
        .into_iter()
        .map(|b| Timecode::from_millis(b as u64 * 100))
        .collect();
    Ok(Windows { starts, length_ms })
}

/// Names an image may have to be taken for the pack's cover.
const COVER_NAMES: [&str; 5] = ["cover", "folder", "front", "artwork", "tray"];

/// A sticker's title: the master's name (numbered when it gives several stickers), at least 2
/// characters as Discord requires.
fn title_for(stem: &str, number: Option<usize>) -> String {
    let title = match number {
        Some(n) => format!("{stem} {n}"),
        None => stem.to_string(),
    };
    if title.chars().count() < 2 {
        format!("Track {title}")
    } else {
        title
    }
}

fn id_from(stem: &str, taken: &[String]) -> String {
    let mut id: String = stem
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    id = id.trim_matches('_').chars().take(56).collect();
    if id.is_empty() {
        id = "sticker".into();
    }
    let base = id.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    id
}

/// Write `dir/pack.json` and return its path. Masters are the audio files in `dir`; the first image is
/// the pack cover, and an image with a master's name becomes that sticker's cover.
///
/// Long because it is the scaffold's one pass: find masters and art, pick each master's windows,
/// name the stickers and check the result before writing; each step is a helper call or a refusal
/// with its message.
pub fn init(dir: &Path, opts: &InitOptions) -> Result<PathBuf> {
    let target = dir.join("pack.json");
    if target.exists() && !opts.force {
        return Err(Error::setting(
            Setting::Force,
            format!(
                "{} already exists; set this to replace it",
                target.display()
            ),
        ));
    }
    let stem_of = |p: &Path| {
        p.file_stem()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    };
    if opts.duration.as_nanos() < 100_000_000 {
        return Err(Error::setting(
            Setting::Duration,
            format!(
                "{} is too short for a clip; give at least 0.1 s (stickers are about 1 to 10 s)",
                opts.duration
            ),
        ));
    }
    if let Some(twice) = opts
        .platforms
        .iter()
        .enumerate()
        .find_map(|(i, p)| opts.platforms[..i].contains(p).then_some(p))
    {
        return Err(Error::setting(
            Setting::Platforms,
            format!("`{}` is listed twice", twice.name()),
        ));
    }
    let masters = files_with(dir, AUDIO_EXT)?;
    let images = files_with(dir, IMAGE_EXT)?;
    if masters.is_empty() {
        return Err(Error::invalid(
            "init",
            format!(
                "{}: no audio masters found ({})",
                dir.display(),
                AUDIO_EXT.join(", ")
            ),
        ));
    }
    // The pack cover: an image named like one, else the first that is no master's own art.
    let own_art = |i: &PathBuf| masters.iter().any(|m| stem_of(m) == stem_of(i));
    let named_cover =
        |i: &&PathBuf| COVER_NAMES.contains(&stem_of(i).to_ascii_lowercase().as_str());
    let cover = images
        .iter()
        .find(named_cover)
        .or_else(|| images.iter().find(|i| !own_art(i)))
        .or(images.first())
        .ok_or_else(|| {
            Error::invalid(
                "init",
                format!(
                    "{}: no cover image found ({})",
                    dir.display(),
                    IMAGE_EXT.join(", ")
                ),
            )
        })?;
    // WhatsApp needs at least 3 stickers: take several windows per master when there are few masters.
    let per_master = if opts.platforms.contains(&Platform::Whatsapp) {
        3usize.div_ceil(masters.len())
    } else {
        1
    };
    let window_ms = opts.duration.as_nanos() / 1_000_000;
    let mut stickers = Vec::new();
    let mut publisher = None;
    for m in &masters {
        let source = Source::open(m)?;
        publisher = publisher.or_else(|| source.info().tags.artist.clone());
        drop(source);
        let own_cover = images
            .iter()
            .find(|i| stem_of(i) == stem_of(m))
            .map(|i| file_label(i));
        let windows = loudest_windows(m, window_ms, per_master)?;
        // A master shorter than the clip length gives one clip of all of it.
        let duration = Timecode::from_millis(window_ms.min(windows.length_ms));
        let several = windows.starts.len() > 1;
        for (k, start) in windows.starts.into_iter().enumerate() {
            let taken: Vec<String> = stickers.iter().map(|s: &Sticker| s.id.clone()).collect();
            stickers.push(Sticker {
                id: id_from(&stem_of(m), &taken),
                master: file_label(m),
                start,
                end: None,
                duration: Some(duration),
                cover: own_cover.clone(),
                emojis: vec!["🎵".into()],
                title: Some(title_for(&stem_of(m), several.then_some(k + 1))),
                alt: None,
                keywords: Vec::new(),
                isrc: None,
                settings: StickerSettings::default(),
            });
        }
    }
    if opts.platforms.contains(&Platform::Whatsapp) && stickers.len() < 3 {
        return Err(Error::invalid(
            "init",
            format!(
                "{}: the masters give {} clip(s) of {}, and a WhatsApp pack needs 3; add masters, use a shorter duration, or leave whatsapp out of the platforms",
                dir.display(),
                stickers.len(),
                opts.duration
            ),
        ));
    }
    let folder = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "pack".into());
    let manifest = Manifest {
        schema: None,
        name: folder.clone(),
        identifier: id_from(&folder, &[]),
        publisher: publisher.unwrap_or_else(|| "Your label".into()),
        description: None,
        website: None,
        email: None,
        license: None,
        copyright: None,
        cover: file_label(cover),
        platforms: opts.platforms.clone(),
        telegram: opts
            .platforms
            .contains(&Platform::Telegram)
            .then(|| TelegramSettings {
                bot_username: "your_stickers_bot".into(),
                static_fallback: false,
            }),
        defaults: StickerSettings::default(),
        stickers,
    };
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Encode {
        detail: format!("JSON: {e}"),
    })?;
    let file = AtomicFile::create(&target)?;
    file.commit(format!("{json}\n").as_bytes())?;
    // What we wrote must load cleanly; otherwise say so (and keep the file for editing).
    manifest::load(&target)?;
    Ok(target)
}
