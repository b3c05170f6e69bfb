//! WebP through libwebp (libwebp-sys builds the vendored libwebp 1.6, so no system library is needed):
//! animated WebP with the WebPAnimEncoder API, static WebP with WebPEncode. A thin safe wrapper written
//! here because the safe crates either ignore `method` (webp-animation) or hide the anim options (webp).

use super::Animation;
use super::DecodedFrames;
use crate::error::{Error, Result};
use image::RgbaImage;
use libwebp_sys as sys;
use std::ffi::CStr;

/// WebP encoder settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WebpSettings {
    /// 0..=100.
    pub quality: f32,
    pub lossless: bool,
    /// 0 (fast) ..= 6 (small); 4 is the sensible default.
    pub method: i32,
}

impl Default for WebpSettings {
    fn default() -> Self {
        WebpSettings {
            quality: 80.0,
            lossless: false,
            method: 4,
        }
    }
}

fn fail(what: &str) -> Error {
    Error::Encode {
        detail: format!("libwebp: {what}"),
    }
}

fn config(s: WebpSettings) -> Result<sys::WebPConfig> {
    let mut cfg = std::mem::MaybeUninit::<sys::WebPConfig>::uninit();
    // SAFETY: WebPConfigInitInternal fully initialises the struct when it returns non-zero.
    let mut cfg = unsafe {
        if sys::WebPConfigInitInternal(
            cfg.as_mut_ptr(),
            sys::WebPPreset::WEBP_PRESET_DEFAULT,
            s.quality,
            sys::WEBP_ENCODER_ABI_VERSION as i32,
        ) == 0
        {
            return Err(fail("config init (ABI mismatch)"));
        }
        cfg.assume_init()
    };
    cfg.lossless = i32::from(s.lossless);
    cfg.quality = s.quality.clamp(0.0, 100.0);
    cfg.method = s.method.clamp(0, 6);
    cfg.thread_level = 0; // single-threaded: identical bytes on every machine
    if !s.lossless {
        // Lossy alpha at a quality tied to the colour quality: soft edges and glows are most of the
        // bytes of a sticker with transparency, and ffmpeg's libwebp wrapper never lowers it.
        cfg.alpha_quality = (s.quality + 25.0).clamp(40.0, 100.0) as i32;
        // Fast alpha filtering (one predictor, chosen by estimate) rather than best (every predictor):
        // the same files for far less time (docs/design.md, "Encoders"). At alpha qualities up to 70
        // libwebp quantises alpha to at most 16 levels, where its fast filtering always picks no
        // filter (alpha_enc.c, GetFilterMap): asking for none there makes the same file without
        // counting the plane's colours first.
        cfg.alpha_filtering = if cfg.alpha_quality <= 70 { 0 } else { 1 };
    }
    // SAFETY: cfg is a valid, initialised config.
    if unsafe { sys::WebPValidateConfig(&cfg) } == 0 {
        return Err(fail("invalid config"));
    }
    Ok(cfg)
}

/// A WebPPicture holding a copy of `img`, freed on drop.
struct Picture(sys::WebPPicture);

impl Picture {
    fn new(img: &RgbaImage) -> Result<Self> {
        let mut pic = std::mem::MaybeUninit::<sys::WebPPicture>::uninit();
        // SAFETY: WebPPictureInitInternal initialises the struct when it returns non-zero.
        let mut pic = unsafe {
            if sys::WebPPictureInitInternal(pic.as_mut_ptr(), sys::WEBP_ENCODER_ABI_VERSION as i32)
                == 0
            {
                return Err(fail("picture init"));
            }
            pic.assume_init()
        };
        pic.use_argb = 1;
        pic.width = img.width() as i32;
        pic.height = img.height() as i32;
        // SAFETY: the buffer holds width*height RGBA pixels with the given stride; libwebp copies it.
        let ok = unsafe {
            sys::WebPPictureImportRGBA(&mut pic, img.as_raw().as_ptr(), (img.width() * 4) as i32)
        };
        if ok == 0 {
            // SAFETY: pic was initialised above.
            unsafe { sys::WebPPictureFree(&mut pic) };
            return Err(fail("out of memory importing a frame"));
        }
        Ok(Picture(pic))
    }
}

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: the picture was initialised and imported by `new`.
        unsafe { sys::WebPPictureFree(&mut self.0) };
    }
}

/// Encode one frame as a static WebP.
pub fn encode_static(img: &RgbaImage, s: WebpSettings) -> Result<Vec<u8>> {
    let cfg = config(s)?;
    let mut pic = Picture::new(img)?;
    let mut writer = std::mem::MaybeUninit::<sys::WebPMemoryWriter>::uninit();
    // SAFETY: WebPMemoryWriterInit initialises the writer; the picture writes through it during
    // WebPEncode; we copy the bytes out and clear the writer before it goes out of scope.
    unsafe {
        sys::WebPMemoryWriterInit(writer.as_mut_ptr());
        let mut writer = writer.assume_init();
        pic.0.writer = Some(sys::WebPMemoryWrite);
        pic.0.custom_ptr = (&mut writer as *mut sys::WebPMemoryWriter).cast();
        let ok = sys::WebPEncode(&cfg, &mut pic.0);
        let out = if ok != 0 && !writer.mem.is_null() {
            Ok(std::slice::from_raw_parts(writer.mem, writer.size).to_vec())
        } else {
            Err(fail(&format!(
                "encoding failed (error {:?})",
                pic.0.error_code
            )))
        };
        sys::WebPMemoryWriterClear(&mut writer);
        out
    }
}

/// Encode an animation (a single frame gives a static WebP, as WhatsApp expects of static stickers).
pub fn encode(anim: &Animation, s: WebpSettings) -> Result<Vec<u8>> {
    if anim.frames.len() == 1 {
        return encode_static(&anim.frames[0], s);
    }
    let cfg = config(s)?;
    let mut opts = std::mem::MaybeUninit::<sys::WebPAnimEncoderOptions>::uninit();
    // SAFETY: the init call fills the options struct when it returns non-zero.
    let mut opts = unsafe {
        if sys::WebPAnimEncoderOptionsInitInternal(
            opts.as_mut_ptr(),
            sys::WEBP_MUX_ABI_VERSION as i32,
        ) == 0
        {
            return Err(fail("anim options init"));
        }
        opts.assume_init()
    };
    opts.anim_params.loop_count = 0; // loop forever
    opts.anim_params.bgcolor = 0x0000_0000; // transparent
    opts.allow_mixed = 0;
    // SAFETY: valid options and dimensions; the encoder is deleted on every path below.
    let enc = unsafe {
        sys::WebPAnimEncoderNewInternal(
            anim.width() as i32,
            anim.height() as i32,
            &opts,
            sys::WEBP_MUX_ABI_VERSION as i32,
        )
    };
    if enc.is_null() {
        return Err(fail("cannot create the animation encoder"));
    }
    let result = (|| {
        let mut ts = 0i32;
        for (frame, &d) in anim.frames.iter().zip(&anim.durations_ms) {
            let mut pic = Picture::new(frame)?;
            // SAFETY: enc is live; pic and cfg are valid for the call.
            if unsafe { sys::WebPAnimEncoderAdd(enc, &mut pic.0, ts, &cfg) } == 0 {
                return Err(fail(&anim_error(enc)));
            }
            ts += d as i32;
        }
        let mut data = sys::WebPData {
            bytes: std::ptr::null(),
            size: 0,
        };
        // SAFETY: a null frame with the end timestamp finishes the last frame's duration; Assemble
        // fills `data` with a buffer we copy and then free.
        unsafe {
            if sys::WebPAnimEncoderAdd(enc, std::ptr::null_mut(), ts, std::ptr::null()) == 0
                || sys::WebPAnimEncoderAssemble(enc, &mut data) == 0
            {
                return Err(fail(&anim_error(enc)));
            }
            let bytes = std::slice::from_raw_parts(data.bytes, data.size).to_vec();
            sys::WebPFree(data.bytes as *mut std::ffi::c_void);
            Ok(bytes)
        }
    })();
    // SAFETY: enc was created above and is not used after this.
    unsafe { sys::WebPAnimEncoderDelete(enc) };
    result
}

fn anim_error(enc: *mut sys::WebPAnimEncoder) -> String {
    // SAFETY: enc is live; the returned string is owned by the encoder and copied here.
    unsafe {
        let p = sys::WebPAnimEncoderGetError(enc);
        if p.is_null() {
            "animation encoding failed".into()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

/// Decode a WebP (static or animated) into full frames, for measuring quality.
///
/// libwebp's animation encoder merges a frame that (nearly, when lossy) repeats the one before into
/// that frame, lengthening it, so a file can hold fewer frames than were encoded. Given `slots`, the
/// durations (ms) of the frames that were encoded, each decoded frame is offered once for every slot
/// that starts while it shows, so that frame `i` is what a player shows in place of encoded frame `i`.
/// Without `slots`, the file's own frames.
pub fn decode_frames(
    bytes: &[u8],
    slots: Option<&[u32]>,
    keep: &dyn Fn(usize) -> bool,
) -> Result<DecodedFrames> {
    let data = sys::WebPData {
        bytes: bytes.as_ptr(),
        size: bytes.len(),
    };
    // Start times of the encoded frames, ms.
    let slot_starts: Option<Vec<u64>> = slots.map(|d| {
        d.iter()
            .scan(0u64, |t, &d| {
                let start = *t;
                *t += u64::from(d);
                Some(start)
            })
            .collect()
    });
    let mut opts = std::mem::MaybeUninit::<sys::WebPAnimDecoderOptions>::uninit();
    // SAFETY: init fills the options; the decoder reads `bytes`, which outlive it; frames are copied.
    unsafe {
        if sys::WebPAnimDecoderOptionsInitInternal(
            opts.as_mut_ptr(),
            sys::WEBP_DEMUX_ABI_VERSION as i32,
        ) == 0
        {
            return Err(fail("decoder options init"));
        }
        let mut opts = opts.assume_init();
        opts.color_mode = sys::WEBP_CSP_MODE::MODE_RGBA;
        opts.use_threads = 0;
        let dec = sys::WebPAnimDecoderNewInternal(&data, &opts, sys::WEBP_DEMUX_ABI_VERSION as i32);
        if dec.is_null() {
            return Err(fail("cannot decode our own WebP"));
        }
        let mut info = std::mem::MaybeUninit::<sys::WebPAnimInfo>::uninit();
        let mut frames = DecodedFrames::default();
        if sys::WebPAnimDecoderGetInfo(dec, info.as_mut_ptr()) != 0 {
            let info = info.assume_init();
            let (w, h) = (info.canvas_width, info.canvas_height);
            // The next slot to offer, and where the frame before this one ended (ms).
            let (mut slot, mut shown_from) = (0usize, 0u64);
            while sys::WebPAnimDecoderHasMoreFrames(dec) != 0 {
                let mut buf: *mut u8 = std::ptr::null_mut();
                // The time this frame ends, ms.
                let mut ts = 0i32;
                if sys::WebPAnimDecoderGetNext(dec, &mut buf, &mut ts) == 0 || buf.is_null() {
                    break;
                }
                let image = || {
                    let px = std::slice::from_raw_parts(buf, (w * h * 4) as usize).to_vec();
                    RgbaImage::from_raw(w, h, px)
                };
                let shown_to = u64::try_from(ts).unwrap_or(0).max(shown_from);
                match &slot_starts {
                    None => frames.offer(keep, image),
                    Some(starts) => {
                        // Every slot starting before this frame ends; the last frame takes the rest.
                        let last = sys::WebPAnimDecoderHasMoreFrames(dec) == 0;
                        while slot < starts.len() && (last || starts[slot] < shown_to) {
                            frames.offer(keep, image);
                            slot += 1;
                        }
                    }
                }
                shown_from = shown_to;
            }
        }
        sys::WebPAnimDecoderDelete(dec);
        Ok(frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::art::quality::ssim;
    use image::Rgba;

    /// A frame with a bright square at `x` on a gradient.
    fn frame(x: u32) -> RgbaImage {
        RgbaImage::from_fn(64, 64, |px, py| {
            if (x..x + 16).contains(&px) && (24..40).contains(&py) {
                Rgba([250, 240, 40, 255])
            } else {
                Rgba([(px * 4) as u8, (py * 4) as u8, 90, 255])
            }
        })
    }

    #[test]
    fn repeated_frames_merged_by_the_encoder_decode_into_their_own_slots() {
        // Frames 1-3 repeat frame 1; libwebp stores them as one frame lasting three times as long.
        let xs = [0, 10, 10, 10, 30, 40];
        let anim = Animation::at_fps(xs.iter().map(|&x| frame(x)).collect(), 10.0);
        let bytes = encode(&anim, WebpSettings::default()).expect("encode");
        let stored = decode_frames(&bytes, None, &|_| true).expect("decode");
        assert_eq!(stored.count, 4, "the encoder merges the repeats");

        let slotted = decode_frames(&bytes, Some(&anim.durations_ms), &|i| i != 2).expect("decode");
        assert_eq!(slotted.count, xs.len());
        let indices: Vec<usize> = slotted.kept.iter().map(|(i, _)| *i).collect();
        assert_eq!(indices, [0, 1, 3, 4, 5]);
        for (i, decoded) in &slotted.kept {
            // Each slot shows its own frame, not a neighbour's (the square moves 10+ px between them).
            let own = ssim(&anim.frames[*i], decoded);
            assert!(own > 0.95, "slot {i}: SSIM {own} against its own frame");
            for (j, other) in anim.frames.iter().enumerate() {
                if xs[j] != xs[*i] {
                    assert!(
                        ssim(other, decoded) < own - 0.05,
                        "slot {i} looks like frame {j}"
                    );
                }
            }
        }
    }
}
