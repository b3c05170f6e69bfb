//! WebM/VP9 video stickers (Telegram): libvpx through env-libvpx-sys, constant-quality encoding (by
//! default at the realtime deadline, speed 4; see `speed_for_effort`), no audio track, and VP9 alpha as a
//! second stream stored in BlockAdditional (see `mkv`).

use super::Animation;
use super::DecodedFrames;
use super::mkv::{self, Block};
use super::vpx::{Decoder, Encoder, Packets, Speed, fail};
use super::yuv::rgba;
use crate::error::Result;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// VP9 constant-quality level (0 best .. 63 worst) for a quality of 0..=100.
pub fn cq_for_quality(quality: f32) -> u32 {
    (63.0 - quality.clamp(0.0, 100.0) * 0.59).round() as u32
}

/// Threads for VP9 encodes: a count shared with whoever may change it while encodes run, read as each
/// encoder starts (two unless set). A pack build whose workers keep every core busy encodes on one: a
/// second thread then only adds synchronisation and the bytes are the same (see docs/design.md); once a
/// worker runs out of stickers it raises the count, so the stickers still running use the free core.
/// Clones share the count.
#[derive(Debug, Clone)]
pub struct Threads(Arc<AtomicU32>);

impl Threads {
    /// A count of `n` threads, shared by every clone.
    pub fn new(n: u32) -> Threads {
        Threads(Arc::new(AtomicU32::new(n)))
    }

    /// Let encodes started from now on use `n` threads.
    pub fn set(&self, n: u32) {
        self.0.store(n, Ordering::Relaxed);
    }

    /// Threads for an encode starting now (at least one).
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed).max(1)
    }
}

impl Default for Threads {
    /// Two threads: VP9 stickers of 512 px code two tile columns.
    fn default() -> Self {
        Threads::new(2)
    }
}

impl PartialEq for Threads {
    /// Counts are equal when they hold the same number now.
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

/// Quality points the alpha stream sits below the colour stream.
const ALPHA_QUALITY_BELOW: f32 = 7.0;

/// One stream of `anim` (its colour, or its alpha in the luma plane) at constant `quality`.
fn stream(
    anim: &Animation,
    quality: f32,
    speed: Speed,
    alpha: bool,
    threads: &Threads,
) -> Result<Packets> {
    stream_first(anim, anim.frames.len(), quality, speed, alpha, threads)
}

/// `stream` of the first `count` frames of `anim`, at its frame rate.
fn stream_first(
    anim: &Animation,
    count: usize,
    quality: f32,
    speed: Speed,
    alpha: bool,
    threads: &Threads,
) -> Result<Packets> {
    let (w, h) = (anim.width(), anim.height());
    if w % 2 != 0 || h % 2 != 0 {
        return Err(fail(format!(
            "VP9 stickers need even dimensions, got {w}×{h}"
        )));
    }
    // Frame rate as a fraction of the loop: n frames over total_ms.
    let (fps_num, fps_den) = (anim.frames.len() as u32 * 1000, anim.total_ms().max(1));
    let frames = &anim.frames[..count.min(anim.frames.len())];
    let cq = cq_for_quality(quality);
    Encoder::new(w, h, fps_num, fps_den, cq, speed, threads.get())?.run(frames, alpha)
}

/// A quick stand-in for `encode(anim, quality, 4)`: the colour stream alone at libvpx's realtime
/// deadline (speed 8), which runs in about a third of the time. Its size leaves out the alpha stream and
/// the container (the fitter scales estimates by the ratio its full encodes measure); decoded, it tells
/// the SSIM that quality reaches (`frames`).
pub struct Estimate {
    packets: Packets,
}

impl Estimate {
    /// The estimate of the whole animation at `quality`, encoded on `threads`.
    pub fn new(anim: &Animation, quality: f32, threads: &Threads) -> Result<Estimate> {
        Estimate::first(anim, anim.frames.len(), quality, threads)
    }

    /// The estimate of the first `count` frames alone: the same as the first `count` frames of the whole
    /// one (the realtime deadline encodes each frame from the earlier ones alone), for a fraction of the
    /// time.
    pub fn first(
        anim: &Animation,
        count: usize,
        quality: f32,
        threads: &Threads,
    ) -> Result<Estimate> {
        Ok(Estimate {
            packets: stream_first(anim, count, quality, Speed::Realtime(8), false, threads)?,
        })
    }

    /// Bytes of the colour stream.
    pub fn len(&self) -> usize {
        self.packets.iter().map(|(_, _, data)| data.len()).sum()
    }

    /// The frames `keep` asks for, decoded, with their alpha taken from `anim` (the estimate has no
    /// alpha stream; the full encode's is coded close to lossless).
    pub fn frames(&self, anim: &Animation, keep: &dyn Fn(usize) -> bool) -> Result<DecodedFrames> {
        let mut colour = Decoder::new()?;
        let mut frames = DecodedFrames::default();
        let Some(last) = (0..anim.frames.len()).rev().find(|&i| keep(i)) else {
            return Ok(frames);
        };
        for (_, _, data) in &self.packets {
            // Nothing after the last frame kept is needed.
            if frames.count > last {
                break;
            }
            let Some(planes) = colour.decode(data)? else {
                continue;
            };
            let reference = anim.frames.get(frames.count);
            frames.offer(keep, || {
                Some(rgba(&planes, |k| {
                    reference.map_or(255, |f| f.as_raw().get(4 * k + 3).copied().unwrap_or(255))
                }))
            });
        }
        Ok(frames)
    }
}

/// libvpx's deadline and speed for an `effort` of 0..=6 (as WebP's method): 0 to 4 the realtime deadline
/// at speed 8 − effort, 5 and 6 the good-quality deadline at speeds 4 and 3.
///
/// The default, effort 4, is realtime speed 4: libvpx's full rate-distortion search with its realtime
/// speed features (speeds 5 and up switch to a non-RD mode choice that loses SSIM at a tight cap). It
/// takes a third less CPU than the good-quality deadline for a slightly lower SSIM; effort 5 keeps that
/// slower encode for whoever wants the last of it. Measurements: docs/design.md ("VP9").
fn speed_for_effort(effort: i32) -> Speed {
    match effort {
        ..=4 => Speed::Realtime((8 - effort).clamp(4, 8)),
        5 => Speed::Good(4),
        _ => Speed::Good(3),
    }
}

/// `encode_on` with the default two threads.
#[cfg(test)]
pub fn encode(anim: &Animation, quality: f32, effort: i32) -> Result<Vec<u8>> {
    encode_on(anim, quality, effort, &Threads::default())
}

/// Encode `anim` as WebM/VP9 at constant quality, with an alpha stream when any pixel is transparent;
/// `effort` as in `speed_for_effort`; each stream's encoder runs on as many threads as `threads` holds
/// when it starts.
pub fn encode_on(
    anim: &Animation,
    quality: f32,
    effort: i32,
    threads: &Threads,
) -> Result<Vec<u8>> {
    let speed = speed_for_effort(effort);
    let n = anim.frames.len() as u32;
    let total_ms = anim.total_ms();
    let has_alpha = anim.frames.iter().any(|f| f.pixels().any(|p| p.0[3] < 255));
    let colour = stream(anim, quality, speed, false, threads);
    let alpha = if has_alpha {
        // The alpha stream (a mask that changes only at its edges) at the realtime deadline, speed 5
        // (or the colour stream's, if faster), a few quality points lower: much less CPU for the same
        // colour quality and SSIM, at a few per cent more bytes (see docs/design.md, "VP9").
        let alpha_speed = match speed {
            Speed::Realtime(n) => Speed::Realtime(n.max(5)),
            Speed::Good(_) => Speed::Realtime(5),
        };
        stream(
            anim,
            quality - ALPHA_QUALITY_BELOW,
            alpha_speed,
            true,
            threads,
        )
        .map(Some)
    } else {
        Ok(None)
    };
    let (colour, alpha) = (colour?, alpha?);
    if colour.len() != anim.frames.len() || alpha.as_ref().is_some_and(|a| a.len() != colour.len())
    {
        return Err(fail(format!(
            "expected {} packets, got {} colour and {} alpha",
            anim.frames.len(),
            colour.len(),
            alpha.as_ref().map_or(0, Vec::len)
        )));
    }
    let mut start = 0u32;
    let mut starts = Vec::with_capacity(anim.frames.len());
    for d in &anim.durations_ms {
        starts.push(start);
        start += d;
    }
    let blocks: Vec<Block> = colour
        .iter()
        .enumerate()
        .map(|(i, (_, key, data))| Block {
            time_ms: starts[i],
            key: *key,
            data,
            alpha: alpha.as_ref().map(|a| a[i].2.as_slice()),
        })
        .collect();
    let frame_ms = f64::from(total_ms) / f64::from(n.max(1));
    Ok(mkv::write(
        anim.width(),
        anim.height(),
        frame_ms,
        total_ms,
        &blocks,
    ))
}

/// Decode a WebM we wrote back to RGBA frames (alpha from the alpha stream when present).
pub fn decode_frames(bytes: &[u8], keep: &dyn Fn(usize) -> bool) -> Result<DecodedFrames> {
    let mut colour = Decoder::new()?;
    let mut alpha = Decoder::new()?;
    let mut frames = DecodedFrames::default();
    for (data, alpha_data) in mkv::read_frames(bytes) {
        let Some(planes) = colour.decode(&data)? else {
            continue;
        };
        let a = match alpha_data {
            Some(ad) => alpha.decode(&ad)?.map(|p| p.y),
            None => None,
        };
        frames.offer(keep, || {
            Some(rgba(&planes, |i| a.as_ref().map_or(255, |a| a[i])))
        });
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::RgbaImage;

    /// Soft bands drifting across the frame, opaque but for a transparent corner.
    fn drifting(n: usize) -> Animation {
        let frames = (0..n)
            .map(|i| {
                RgbaImage::from_fn(96, 96, |x, y| {
                    let u = (x as f32 + 2.0 * i as f32) * 0.15;
                    let a = if x < 10 && y < 10 { 0 } else { 255 };
                    image::Rgba([
                        (128.0 + 90.0 * u.sin()) as u8,
                        (128.0 + 90.0 * (y as f32 * 0.1).cos()) as u8,
                        (x * 2) as u8,
                        a,
                    ])
                })
            })
            .collect();
        Animation::at_fps(frames, 30.0)
    }

    #[test]
    fn an_estimate_of_the_first_frames_is_the_start_of_the_whole_one() {
        let anim = drifting(20);
        let whole = Estimate::new(&anim, 60.0, &Threads::default()).expect("estimate");
        let first = Estimate::first(&anim, 8, 60.0, &Threads::default()).expect("first frames");
        assert_eq!(first.packets.len(), 8);
        assert_eq!(first.packets[..], whole.packets[..8]);
        // Decoded, with the rendered alpha: close to the frames, and only those asked for.
        let kept = first.frames(&anim, &|i| i == 2 || i == 7).expect("decode");
        assert_eq!(
            kept.kept.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [2, 7]
        );
        for (i, f) in &kept.kept {
            assert_eq!(f.get_pixel(3, 3).0[3], 0, "alpha from the animation");
            let s = crate::art::quality::ssim(&anim.frames[*i], f);
            assert!(s > 0.9, "frame {i}: SSIM {s}");
        }
    }
}
