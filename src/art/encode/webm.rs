//! WebM/VP9 video stickers (Telegram): libvpx through env-libvpx-sys, constant-quality encoding (by
//! default at the realtime deadline, speed 4; see `speed_for_effort`), no audio track, and VP9 alpha as a
//! second stream stored in BlockAdditional (see `mkv`).

use super::Animation;
use super::DecodedFrames;
use super::mkv::{self, Block};
use crate::error::{Error, Result};
use image::RgbaImage;
use std::os::raw::{c_int, c_long, c_uint, c_ulong};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use vpx_sys as vpx;

fn fail(what: impl std::fmt::Display) -> Error {
    Error::Encode {
        detail: format!("libvpx: {what}"),
    }
}

/// VP9 constant-quality level (0 best .. 63 worst) for a quality of 0..=100.
pub fn cq_for_quality(quality: f32) -> u32 {
    (63.0 - quality.clamp(0.0, 100.0) * 0.59).round() as u32
}

/// BT.601 limited-range planes (Y, U, V) of an RGBA frame with even sides, written into `out` (resized to
/// fit, so one buffer serves a whole stream); `alpha_plane` puts alpha in Y with grey chroma, as the
/// alpha stream expects. Fixed-point (8-bit coefficients, as libyuv uses) and written row pair by row
/// pair without bounds clamps, so it vectorises: every probe of a fit converts every frame.
fn to_i420_into(img: &RgbaImage, alpha_plane: bool, out: &mut Vec<u8>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    debug_assert!(w % 2 == 0 && h % 2 == 0, "VP9 frames have even sides");
    let (cw, ch) = (w / 2, h / 2);
    out.clear();
    out.resize(w * h + 2 * cw * ch, 128);
    let px = img.as_raw();
    let (luma, chroma) = out.split_at_mut(w * h);
    if alpha_plane {
        for (y_out, p) in luma.iter_mut().zip(px.chunks_exact(4)) {
            *y_out = p[3];
        }
        return;
    }
    // 16-bit lanes (the sum stays under 2^16) in blocks of eight pixels, so it vectorises on plain
    // SSE2 (0.9 -> 0.5 ms a 512 px frame, the same bytes): a Telegram fit converts some 360 frames.
    let luma_of = |p: &[u8]| {
        let (r, g, b) = (u16::from(p[0]), u16::from(p[1]), u16::from(p[2]));
        (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8
    };
    let mut blocks = luma.chunks_exact_mut(8);
    let mut pixels = px.chunks_exact(32);
    for (out, p) in (&mut blocks).zip(&mut pixels) {
        for (o, p) in out.iter_mut().zip(p.chunks_exact(4)) {
            *o = luma_of(p);
        }
    }
    for (o, p) in blocks
        .into_remainder()
        .iter_mut()
        .zip(pixels.remainder().chunks_exact(4))
    {
        *o = luma_of(p);
    }
    let (u_plane, v_plane) = chroma.split_at_mut(cw * ch);
    let rows = px.chunks_exact(8 * cw).collect::<Vec<_>>();
    for (cy, pair) in rows.chunks_exact(2).enumerate() {
        let (u_row, v_row) = (
            &mut u_plane[cy * cw..(cy + 1) * cw],
            &mut v_plane[cy * cw..(cy + 1) * cw],
        );
        for (((u, v), top), bottom) in u_row
            .iter_mut()
            .zip(v_row.iter_mut())
            .zip(pair[0].chunks_exact(8))
            .zip(pair[1].chunks_exact(8))
        {
            let sum = |c: usize| {
                i32::from(top[c])
                    + i32::from(top[c + 4])
                    + i32::from(bottom[c])
                    + i32::from(bottom[c + 4])
            };
            let (r, g, b) = (sum(0), sum(1), sum(2));
            // Sums of four pixels: the coefficients are scaled by 4 more (>> 10).
            *u = (128 + ((-38 * r - 74 * g + 112 * b + 512) >> 10)) as u8;
            *v = (128 + ((112 * r - 94 * g - 18 * b + 512) >> 10)) as u8;
        }
    }
}

/// The planes of `to_i420_into` in a new buffer.
#[cfg(test)]
fn to_i420(img: &RgbaImage, alpha_plane: bool) -> Vec<u8> {
    let mut out = Vec::new();
    to_i420_into(img, alpha_plane, &mut out);
    out
}

thread_local! {
    /// Threads for VP9 encodes started on this thread (two when unset), read as each encode starts.
    static THREADS: std::cell::RefCell<Option<Arc<AtomicU32>>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` with VP9 encodes started on this thread using as many threads as `threads` holds when each
/// starts. A pack build whose workers keep every core busy encodes on one: a second thread then only
/// adds synchronisation (2-3 % more CPU for a 10-sticker pack) and the bytes are the same; once a worker
/// runs out of stickers it raises the count, so the stickers still running use the free core.
pub fn with_threads<R>(threads: Arc<AtomicU32>, f: impl FnOnce() -> R) -> R {
    let before = THREADS.replace(Some(threads));
    let out = f();
    THREADS.set(before);
    out
}

fn threads() -> u32 {
    THREADS.with_borrow(|t| t.as_ref().map_or(2, |n| n.load(Ordering::Relaxed).max(1)))
}

/// Coded frames: (pts, key frame, bytes).
type Packets = Vec<(i64, bool, Vec<u8>)>;

/// How hard libvpx works.
#[derive(Debug, Clone, Copy)]
enum Speed {
    /// Good-quality deadline at this cpu-used.
    Good(c_int),
    /// Realtime deadline at this cpu-used (5 to 8).
    Realtime(c_int),
}

/// One VP9 encoder instance.
struct Encoder {
    ctx: vpx::vpx_codec_ctx_t,
    width: u32,
    height: u32,
    deadline: c_ulong,
}

impl Encoder {
    fn new(
        width: u32,
        height: u32,
        fps_num: u32,
        fps_den: u32,
        cq: u32,
        speed: Speed,
    ) -> Result<Self> {
        // SAFETY: the config is filled by libvpx's defaults, then adjusted; ctx is initialised by
        // vpx_codec_enc_init_ver and destroyed in Drop.
        unsafe {
            let iface = vpx::vpx_codec_vp9_cx();
            let mut cfg = std::mem::MaybeUninit::<vpx::vpx_codec_enc_cfg_t>::zeroed();
            if vpx::vpx_codec_enc_config_default(iface, cfg.as_mut_ptr(), 0) != vpx::VPX_CODEC_OK {
                return Err(fail("default config"));
            }
            let mut cfg = cfg.assume_init();
            cfg.g_w = width;
            cfg.g_h = height;
            cfg.g_timebase.num = fps_den as c_int;
            cfg.g_timebase.den = fps_num as c_int;
            // Two tile columns, coded on two threads unless the caller already keeps the cores busy
            // (see `with_threads`): VP9 tiles are independent, so the bytes depend on the tile layout,
            // never on the threads (row-based threading stays off).
            cfg.g_threads = threads();
            cfg.g_lag_in_frames = 16;
            cfg.rc_end_usage = vpx::vpx_rc_mode::VPX_Q;
            cfg.rc_min_quantizer = 0;
            cfg.rc_max_quantizer = 63;
            cfg.kf_max_dist = 9999; // one key frame: stickers are short and loop from the start
            let mut ctx = std::mem::MaybeUninit::<vpx::vpx_codec_ctx_t>::zeroed();
            if vpx::vpx_codec_enc_init_ver(
                ctx.as_mut_ptr(),
                iface,
                &cfg,
                0,
                vpx::VPX_ENCODER_ABI_VERSION as c_int,
            ) != vpx::VPX_CODEC_OK
            {
                return Err(fail("encoder init"));
            }
            let (deadline, cpu_used) = match speed {
                Speed::Good(n) => (vpx::VPX_DL_GOOD_QUALITY, n),
                Speed::Realtime(n) => (vpx::VPX_DL_REALTIME, n),
            };
            let mut enc = Encoder {
                ctx: ctx.assume_init(),
                width,
                height,
                deadline: deadline as c_ulong,
            };
            let ctl = |e: &mut Encoder, id: u32, v: c_int| {
                vpx::vpx_codec_control_(&mut e.ctx, id as c_int, v)
            };
            if ctl(
                &mut enc,
                vpx::vp8e_enc_control_id::VP8E_SET_CQ_LEVEL as u32,
                cq as c_int,
            ) != vpx::VPX_CODEC_OK
                || ctl(
                    &mut enc,
                    vpx::vp8e_enc_control_id::VP8E_SET_CPUUSED as u32,
                    cpu_used,
                ) != vpx::VPX_CODEC_OK
                || ctl(
                    &mut enc,
                    vpx::vp8e_enc_control_id::VP9E_SET_TILE_COLUMNS as u32,
                    if width >= 512 { 1 } else { 0 },
                ) != vpx::VPX_CODEC_OK
                || ctl(
                    &mut enc,
                    vpx::vp8e_enc_control_id::VP8E_SET_ENABLEAUTOALTREF as u32,
                    1,
                ) != vpx::VPX_CODEC_OK
            {
                return Err(fail("encoder controls"));
            }
            Ok(enc)
        }
    }

    /// Encode one I420 frame (or flush with `None`), collecting (pts, key, data) packets.
    fn encode(
        &mut self,
        frame: Option<(&mut [u8], i64)>,
        out: &mut Vec<(i64, bool, Vec<u8>)>,
    ) -> Result<()> {
        // SAFETY: the wrapped image points into `frame`'s buffer, which outlives the encode call;
        // packets are copied out before the next call.
        unsafe {
            let mut img = std::mem::MaybeUninit::<vpx::vpx_image_t>::zeroed();
            let (img_ptr, pts) = match frame {
                Some((buf, pts)) => {
                    let p = vpx::vpx_img_wrap(
                        img.as_mut_ptr(),
                        vpx::vpx_img_fmt::VPX_IMG_FMT_I420,
                        self.width as c_uint,
                        self.height as c_uint,
                        1,
                        buf.as_mut_ptr(),
                    );
                    if p.is_null() {
                        return Err(fail("image wrap"));
                    }
                    (p as *const vpx::vpx_image_t, pts)
                }
                None => (std::ptr::null(), 0),
            };
            let err = vpx::vpx_codec_encode(&mut self.ctx, img_ptr, pts, 1, 0, self.deadline);
            if err != vpx::VPX_CODEC_OK {
                return Err(fail(format!("encode error {err:?}")));
            }
            let mut iter: vpx::vpx_codec_iter_t = std::ptr::null();
            loop {
                let pkt = vpx::vpx_codec_get_cx_data(&mut self.ctx, &mut iter);
                if pkt.is_null() {
                    break;
                }
                if (*pkt).kind == vpx::vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                    let f = (*pkt).data.frame;
                    let data =
                        std::slice::from_raw_parts(f.buf as *const u8, f.sz as usize).to_vec();
                    out.push((f.pts, f.flags & vpx::VPX_FRAME_IS_KEY != 0, data));
                }
            }
        }
        Ok(())
    }

    /// Encode all frames (converted one at a time into one buffer: holding all their planes would cost
    /// 1.5 bytes per pixel per frame on top of the RGBA frames) and flush.
    fn run(mut self, frames: &[RgbaImage], alpha: bool) -> Result<Packets> {
        let mut out = Vec::new();
        let mut planes = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            to_i420_into(frame, alpha, &mut planes);
            self.encode(Some((&mut planes, i as i64)), &mut out)?;
        }
        // Flush until the encoder has nothing left (lagged frames come out here).
        for _ in 0..64 {
            let before = out.len();
            self.encode(None, &mut out)?;
            if out.len() == before {
                break;
            }
        }
        Ok(out)
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: ctx was initialised in `new`.
        unsafe {
            vpx::vpx_codec_destroy(&mut self.ctx);
        }
    }
}

/// Quality points the alpha stream sits below the colour stream.
const ALPHA_QUALITY_BELOW: f32 = 7.0;

/// One stream of `anim` (its colour, or its alpha in the luma plane) at constant `quality`.
fn stream(anim: &Animation, quality: f32, speed: Speed, alpha: bool) -> Result<Packets> {
    stream_first(anim, anim.frames.len(), quality, speed, alpha)
}

/// `stream` of the first `count` frames of `anim`, at its frame rate.
fn stream_first(
    anim: &Animation,
    count: usize,
    quality: f32,
    speed: Speed,
    alpha: bool,
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
    Encoder::new(w, h, fps_num, fps_den, cq_for_quality(quality), speed)?.run(frames, alpha)
}

/// A quick stand-in for `encode(anim, quality, 4)`: the colour stream alone at libvpx's realtime
/// deadline (speed 8), which runs in about a third of the time. Its size leaves out the alpha stream and
/// the container (the fitter scales estimates by the ratio its full encodes measure); decoded, it tells
/// the SSIM that quality reaches (`frames`).
pub struct Estimate {
    packets: Packets,
}

impl Estimate {
    pub fn new(anim: &Animation, quality: f32) -> Result<Estimate> {
        Estimate::first(anim, anim.frames.len(), quality)
    }

    /// The estimate of the first `count` frames alone: the same as the first `count` frames of the whole
    /// one (the realtime deadline encodes each frame from the earlier ones alone), for a fraction of the
    /// time.
    pub fn first(anim: &Animation, count: usize, quality: f32) -> Result<Estimate> {
        Ok(Estimate {
            packets: stream_first(anim, count, quality, Speed::Realtime(8), false)?,
        })
    }

    /// Bytes of the colour stream.
    pub fn len(&self) -> usize {
        self.packets.iter().map(|(_, _, data)| data.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
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
/// speed features (speeds 5 and up switch to a non-RD mode choice that lost up to 0.02 SSIM at the
/// Telegram cap). On eight bench covers fitted to Telegram's 256 KB, realtime speed 4 took a third less
/// CPU than the good-quality deadline at speed 4 (22.1 against 32.8 s for the eight fits: each full
/// encode runs in half the time) for a mean SSIM 0.0025 lower (0.9871 against 0.9896; at most 0.009,
/// on the noisiest cover). Effort 5 keeps that slower encode for whoever wants the last of it.
/// (libvpx 1.12's good-quality speeds 5 and up took longer than speed 4 on sticker animations.)
fn speed_for_effort(effort: i32) -> Speed {
    match effort {
        ..=4 => Speed::Realtime((8 - effort).clamp(4, 8)),
        5 => Speed::Good(4),
        _ => Speed::Good(3),
    }
}

/// Encode `anim` as WebM/VP9 at constant quality, with an alpha stream when any pixel is transparent;
/// `effort` as in `speed_for_effort`.
pub fn encode(anim: &Animation, quality: f32, effort: i32) -> Result<Vec<u8>> {
    let speed = speed_for_effort(effort);
    let n = anim.frames.len() as u32;
    let total_ms = anim.total_ms();
    let has_alpha = anim.frames.iter().any(|f| f.pixels().any(|p| p.0[3] < 255));
    let colour = stream(anim, quality, speed, false);
    let alpha = if has_alpha {
        // The alpha stream (a mask that changes only at its edges) at the realtime deadline, speed 5
        // (or the colour stream's, if faster), a few quality points lower: with the colour stream at
        // the good-quality deadline this cut the CPU of Telegram fits of ten bench covers by a seventh
        // (50.6 -> 43.3 s) at the same colour quality and SSIM, for alpha 2.5-3.8 dB lower in PSNR
        // (44-48 dB, against 48-50 dB at the colour stream's settings) and 0.6-3 % more bytes.
        let alpha_speed = match speed {
            Speed::Realtime(n) => Speed::Realtime(n.max(5)),
            Speed::Good(_) => Speed::Realtime(5),
        };
        stream(anim, quality - ALPHA_QUALITY_BELOW, alpha_speed, true).map(Some)
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

/// A decoded I420 picture: width, height and the Y, U, V planes (tightly packed).
struct Planes {
    w: usize,
    h: usize,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

/// One VP9 decoder instance.
struct Decoder {
    ctx: vpx::vpx_codec_ctx_t,
}

impl Decoder {
    fn new() -> Result<Self> {
        // SAFETY: ctx is initialised by vpx_codec_dec_init_ver and destroyed in Drop.
        unsafe {
            let mut ctx = std::mem::MaybeUninit::<vpx::vpx_codec_ctx_t>::zeroed();
            let mut cfg = std::mem::MaybeUninit::<vpx::vpx_codec_dec_cfg_t>::zeroed().assume_init();
            cfg.threads = 1;
            if vpx::vpx_codec_dec_init_ver(
                ctx.as_mut_ptr(),
                vpx::vpx_codec_vp9_dx(),
                &cfg,
                0,
                vpx::VPX_DECODER_ABI_VERSION as c_int,
            ) != vpx::VPX_CODEC_OK
            {
                return Err(fail("decoder init"));
            }
            Ok(Decoder {
                ctx: ctx.assume_init(),
            })
        }
    }

    /// Decode one packet into its planes.
    fn decode(&mut self, data: &[u8]) -> Result<Option<Planes>> {
        // SAFETY: the decoder reads `data` during the call; the returned image is copied before the
        // next call.
        unsafe {
            if vpx::vpx_codec_decode(
                &mut self.ctx,
                data.as_ptr(),
                data.len() as c_uint,
                std::ptr::null_mut(),
                0 as c_long,
            ) != vpx::VPX_CODEC_OK
            {
                return Err(fail("cannot decode our own VP9"));
            }
            let mut iter: vpx::vpx_codec_iter_t = std::ptr::null();
            let img = vpx::vpx_codec_get_frame(&mut self.ctx, &mut iter);
            if img.is_null() {
                return Ok(None);
            }
            let img = &*img;
            let (w, h) = (img.d_w as usize, img.d_h as usize);
            let plane = |k: usize, pw: usize, ph: usize| {
                let stride = img.stride[k] as usize;
                let mut v = Vec::with_capacity(pw * ph);
                for y in 0..ph {
                    v.extend_from_slice(std::slice::from_raw_parts(
                        img.planes[k].add(y * stride),
                        pw,
                    ));
                }
                v
            };
            let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
            Ok(Some(Planes {
                w,
                h,
                y: plane(0, w, h),
                u: plane(1, cw, ch),
                v: plane(2, cw, ch),
            }))
        }
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: ctx was initialised in `new`.
        unsafe {
            vpx::vpx_codec_destroy(&mut self.ctx);
        }
    }
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

/// RGBA of decoded planes (BT.601, studio range, as we encode), with each pixel's alpha from `alpha`
/// (by pixel index).
fn rgba(p: &Planes, alpha: impl Fn(usize) -> u8) -> RgbaImage {
    let (w, cw) = (p.w, p.w.div_ceil(2));
    RgbaImage::from_fn(p.w as u32, p.h as u32, |x, yy| {
        let (x, yy) = (x as usize, yy as usize);
        let luma = f32::from(p.y[yy * w + x]) - 16.0;
        let cu = f32::from(p.u[(yy / 2) * cw + x / 2]) - 128.0;
        let cv = f32::from(p.v[(yy / 2) * cw + x / 2]) - 128.0;
        let r = 1.164 * luma + 1.596 * cv;
        let g = 1.164 * luma - 0.392 * cu - 0.813 * cv;
        let b = 1.164 * luma + 2.017 * cu;
        image::Rgba([
            r.round().clamp(0.0, 255.0) as u8,
            g.round().clamp(0.0, 255.0) as u8,
            b.round().clamp(0.0, 255.0) as u8,
            alpha(yy * w + x),
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i420_planes_follow_bt601_limited_range() {
        // Frames of varied colours (10×6 leaves a remainder after the blocks of eight pixels): every
        // luma sample and every 2×2 chroma average is checked against the BT.601 formulas in floating
        // point (within the fixed point's rounding).
        for (w, h) in [(6u32, 4u32), (10, 6)] {
            let img = RgbaImage::from_fn(w, h, |x, y| {
                image::Rgba([
                    (x * 25 + y * 7) as u8,
                    (255 - y * 40) as u8,
                    (x * y * 6) as u8,
                    200,
                ])
            });
            let planes = to_i420(&img, false);
            let (cw, ch) = (w / 2, h / 2);
            assert_eq!(planes.len() as u32, w * h + 2 * cw * ch);
            let f = |x: u32, y: u32| img.get_pixel(x, y).0.map(f64::from);
            for y in 0..h {
                for x in 0..w {
                    let [r, g, b, _] = f(x, y);
                    let want = 16.0 + (65.738 * r + 129.057 * g + 25.064 * b) / 256.0;
                    let got = f64::from(planes[(y * w + x) as usize]);
                    assert!(
                        (got - want).abs() <= 1.0,
                        "Y at {x},{y} of {w}×{h}: {got} vs {want}"
                    );
                }
            }
            for cy in 0..ch {
                for cx in 0..cw {
                    let mut avg = [0.0; 3];
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let p = f(2 * cx + dx, 2 * cy + dy);
                        for c in 0..3 {
                            avg[c] += p[c] / 4.0;
                        }
                    }
                    let [r, g, b] = avg;
                    let u_want = 128.0 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256.0;
                    let v_want = 128.0 + (112.439 * r - 94.154 * g - 18.285 * b) / 256.0;
                    let i = (w * h + cy * cw + cx) as usize;
                    let (u, v) = (
                        f64::from(planes[i]),
                        f64::from(planes[i + (cw * ch) as usize]),
                    );
                    assert!((u - u_want).abs() <= 1.0, "U at {cx},{cy}: {u} vs {u_want}");
                    assert!((v - v_want).abs() <= 1.0, "V at {cx},{cy}: {v} vs {v_want}");
                }
            }
        }
        let img = RgbaImage::from_pixel(6, 4, image::Rgba([10, 20, 30, 200]));
        let alpha = to_i420(&img, true);
        assert!(alpha[..24].iter().all(|&a| a == 200));
        assert!(alpha[24..].iter().all(|&c| c == 128));
    }

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
        let whole = Estimate::new(&anim, 60.0).expect("estimate");
        let first = Estimate::first(&anim, 8, 60.0).expect("first frames");
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
