//! The libvpx VP9 encoder and decoder behind safe handles: one encoder per stream (constant quality,
//! a chosen deadline and speed), one decoder per stream; every `unsafe` block says why it is sound.

use super::yuv::{Planes, to_i420_into};
use crate::error::{Error, Result};
use image::RgbaImage;
use std::os::raw::{c_int, c_long, c_uint, c_ulong};
use vpx_sys as vpx;

/// An encode error from libvpx.
pub(super) fn fail(what: impl std::fmt::Display) -> Error {
    Error::Encode {
        detail: format!("libvpx: {what}"),
    }
}

/// Coded frames: (pts, key frame, bytes).
pub(super) type Packets = Vec<(i64, bool, Vec<u8>)>;

/// How hard libvpx works.
#[derive(Debug, Clone, Copy)]
pub(super) enum Speed {
    /// Good-quality deadline at this cpu-used.
    Good(c_int),
    /// Realtime deadline at this cpu-used (5 to 8).
    Realtime(c_int),
}

/// One VP9 encoder instance.
pub(super) struct Encoder {
    ctx: vpx::vpx_codec_ctx_t,
    width: u32,
    height: u32,
    deadline: c_ulong,
}

impl Encoder {
    /// An encoder of `width`×`height` frames at `fps_num`/`fps_den` frames per second, constant quality
    /// level `cq`, on `threads` threads.
    ///
    /// Long because libvpx's configuration is a list of fields and controls set one by one on its C
    /// structs, each checked; nothing in it branches much.
    pub(super) fn new(
        width: u32,
        height: u32,
        fps_num: u32,
        fps_den: u32,
        cq: u32,
        speed: Speed,
        threads: u32,
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
            // (see `webm::Threads`): VP9 tiles are independent, so the bytes depend on the tile layout,
            // never on the threads (row-based threading stays off).
            cfg.g_threads = threads;
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
    pub(super) fn run(mut self, frames: &[RgbaImage], alpha: bool) -> Result<Packets> {
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

/// One VP9 decoder instance.
pub(super) struct Decoder {
    ctx: vpx::vpx_codec_ctx_t,
}

impl Decoder {
    /// A single-threaded VP9 decoder.
    pub(super) fn new() -> Result<Self> {
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
    pub(super) fn decode(&mut self, data: &[u8]) -> Result<Option<Planes>> {
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
