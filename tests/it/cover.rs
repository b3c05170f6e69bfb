//! `soundsticker cover`: every style and format is valid for independent tools (webpinfo, webpmux,
//! ffprobe), animations follow the audio, byte caps hold for every platform on hard and easy art, and
//! bad images fail cleanly.

use crate::util::*;
use std::path::{Path, PathBuf};

/// A detailed "photo" (noise, gradients, edges) and a flat logo, generated.
fn covers(dir: &Path) -> (PathBuf, PathBuf) {
    let mut seed = 0x2545_f491u32;
    let photo = image::RgbImage::from_fn(1200, 900, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed % 64) as f32;
        let r = (x as f32 / 1200.0 * 200.0 + n) as u8;
        let g = ((((x / 37) ^ (y / 23)) % 7) as f32 * 30.0 + n) as u8;
        let b = (y as f32 / 900.0 * 220.0 + n * 0.5) as u8;
        image::Rgb([r, g, b])
    });
    let photo_path = dir.join("photo.jpg");
    photo.save(&photo_path).expect("save photo");
    let logo = image::RgbaImage::from_fn(600, 600, |x, y| {
        let (dx, dy) = (x as f32 - 300.0, y as f32 - 300.0);
        if dx * dx + dy * dy < 200.0 * 200.0 {
            image::Rgba([250, 200, 40, 255])
        } else {
            image::Rgba([30, 30, 120, 255])
        }
    });
    let logo_path = dir.join("logo.png");
    logo.save(&logo_path).expect("save logo");
    (photo_path, logo_path)
}

fn ffprobe_video(path: &Path) -> (String, u32, u32, usize, usize) {
    let text = ffprobe_show(
        path,
        &["-count_frames"],
        "stream=codec_type,codec_name,width,height,nb_read_frames",
        "csv=p=0",
    );
    let audio = text.lines().filter(|l| l.contains("audio")).count();
    let line = text
        .lines()
        .find(|l| l.contains("video"))
        .unwrap_or_else(|| panic!("no video stream in {}: {text}", path.display()));
    let f: Vec<&str> = line.split(',').collect();
    (
        f[0].to_string(),
        f[2].parse().unwrap_or(0),
        f[3].parse().unwrap_or(0),
        f[4].trim().parse().unwrap_or(0),
        audio,
    )
}

fn webpinfo_ok(path: &Path) -> String {
    let text = tool_stdout("webpinfo", &[p(path)]);
    assert!(
        text.contains("No error detected"),
        "webpinfo on {}:\n{text}",
        path.display()
    );
    assert!(
        !text.to_lowercase().contains("warning"),
        "webpinfo warns on {}:\n{text}",
        path.display()
    );
    text
}

/// One stored frame of an animated WebP as `webpmux -info` lists it.
struct WebpmuxFrame {
    x: u32,
    y: u32,
    duration: u32,
    dispose_to_background: bool,
    blend: bool,
}

/// Canvas size and stored frames from `webpmux -info` (a still image lists no frames).
fn webpmux_info(path: &Path) -> ((u32, u32), Vec<WebpmuxFrame>) {
    let text = tool_stdout("webpmux", &["-info", p(path)]);
    let mut canvas = (0, 0);
    let mut frames = Vec::new();
    for line in text.lines() {
        if let Some(size) = line.strip_prefix("Canvas size: ") {
            let mut it = size
                .split(" x ")
                .map(|v| v.trim().parse::<u32>().expect("canvas size"));
            canvas = (it.next().expect("width"), it.next().expect("height"));
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        // Frame rows: "No.: width height alpha x_offset y_offset duration dispose blend image_size
        // compression", e.g. "  1:   512   512   yes     0     0    50   none   no   14512   lossy".
        if cols.len() > 8 && cols[0].trim_end_matches(':').parse::<u32>().is_ok() {
            let num = |i: usize| cols[i].parse::<u32>().expect("number");
            frames.push(WebpmuxFrame {
                x: num(4),
                y: num(5),
                duration: num(6),
                dispose_to_background: cols[7] == "background",
                blend: cols[8] == "yes",
            });
        }
    }
    (canvas, frames)
}

/// (frames, total duration ms) from webpmux -info.
fn webpmux_frames(path: &Path) -> (usize, u32) {
    let (_, frames) = webpmux_info(path);
    (frames.len(), frames.iter().map(|f| f.duration).sum())
}

/// `soundsticker cover ART --audio AUDIO --platform PLATFORM [extra] --save-frames FRAMES -o OUT`,
/// its JSON report.
fn cover_with_frames(
    art: &Path,
    audio: &Path,
    platform: &str,
    extra: &[&str],
    out: &Path,
    frames: &Path,
) -> serde_json::Value {
    cover(art, out)
        .audio(audio)
        .platform(platform)
        .args(extra)
        .opt("--save-frames", p(frames))
        .run_json()
}

#[test]
fn every_style_and_format_is_valid_for_independent_tools() {
    let dir = tempdir();
    let d = dir.path();
    let (photo, _) = covers(d);
    let audio = d.join("beat.wav");
    music_wav(&audio, 48_000, 2, 2.0, 0.4);
    // style, file, size, fps: cover each encoder and each style at least once.
    let cases = [
        ("pulse", "pulse.webp", 512, 20),
        ("vinyl", "vinyl.png", 320, 15),
        ("wave", "wave.gif", 256, 10),
        ("bars", "bars.webm", 512, 30),
        ("still", "still.webp", 512, 1),
        ("still", "still.png", 96, 1),
    ];
    for (style, file, size, fps) in cases {
        let out = d.join(file);
        let r = cover(&photo, &out)
            .audio(&audio)
            .style(style)
            .size(size)
            .opt("--fps", fps)
            .run_json();
        let animated = style != "still";
        let frames = if animated { 2 * fps as usize } else { 1 };
        assert_eq!(r["width"], size, "{file}");
        assert_eq!(
            r["bytes"],
            std::fs::metadata(&out).expect("output").len(),
            "{file}"
        );
        if file.ends_with(".webp") {
            let info = webpinfo_ok(&out);
            assert!(
                info.contains(&format!("Canvas size {size} x {size}"))
                    || info.contains(&format!("Width: {size}")),
                "{info}"
            );
            if animated {
                let (n, total) = webpmux_frames(&out);
                // Identical neighbouring frames may be merged by libwebp; the loop length is exact.
                assert!(n >= frames / 2 && n <= frames, "{file}: {n} frames");
                assert_eq!(total, 2_000, "{file}: loop length");
            }
        } else {
            let (codec, w, h, n, audio_streams) = ffprobe_video(&out);
            let want = match &file[file.len() - 4..] {
                ".png" => {
                    if animated {
                        "apng"
                    } else {
                        "png"
                    }
                }
                ".gif" => "gif",
                _ => "vp9",
            };
            assert_eq!(codec, want, "{file}");
            assert_eq!((w, h), (size, size), "{file}");
            assert_eq!(n, frames, "{file}: frame count");
            assert_eq!(audio_streams, 0, "{file}: no audio stream");
        }
    }
    // WebM: duration 2 s and 30 fps as ffprobe sees them.
    let text = ffprobe_show(
        &d.join("bars.webm"),
        &[],
        "format=duration:stream=r_frame_rate",
        "default=nw=1",
    );
    assert!(text.contains("r_frame_rate=30/1"), "{text}");
    let dur = ffprobe_duration(&text);
    assert!((dur - 2.0).abs() < 0.04, "WebM duration {dur}");
}

/// Every frame of `path` as ffmpeg decodes it, as raw RGBA.
fn ffmpeg_rgba(path: &Path) -> Vec<u8> {
    let args = [
        "-v",
        "error",
        "-i",
        p(path),
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgba",
        "-",
    ];
    tool("ffmpeg", &args).stdout
}

/// Mean absolute difference between consecutive frames of an APNG, decoded by ffmpeg (0–255 scale).
fn motion(path: &Path) -> f64 {
    let out = ffmpeg_rgba(path);
    let frame = 160 * 160 * 4;
    let frames: Vec<&[u8]> = out.chunks_exact(frame).collect();
    assert!(frames.len() > 10);
    let mut sum = 0f64;
    for w in frames.windows(2) {
        sum += w[0]
            .iter()
            .zip(w[1])
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / frame as f64;
    }
    sum / (frames.len() - 1) as f64
}

#[test]
fn pulse_and_bars_follow_the_audio() {
    let dir = tempdir();
    let d = dir.path();
    let (_, logo) = covers(d);
    let silent = d.join("silent.wav");
    music_wav(&silent, 48_000, 1, 2.0, 0.0);
    let beats = d.join("beats.wav");
    music_wav(&beats, 48_000, 1, 2.0, 0.5);
    for style in ["pulse", "bars"] {
        let mut m = Vec::new();
        for audio in [&silent, &beats] {
            let out = d.join(format!(
                "{style}-{}.png",
                audio.file_stem().and_then(|s| s.to_str()).unwrap_or("x")
            ));
            cover(&logo, &out)
                .audio(audio)
                .style(style)
                .size(160)
                .opt("--fps", 20)
                .opt("--quality", 100)
                .run_ok();
            m.push(motion(&out));
        }
        // Silence: a still picture (no pixel changes). Beats: clearly moving (measured about 1.0 for
        // bars, whose motion is confined to the ring, and more for pulse, which moves the whole art).
        assert!(m[0] < 0.05, "{style}: silent clip moves by {}", m[0]);
        assert!(
            m[1] > 0.4,
            "{style}: beat-heavy clip moves by only {}",
            m[1]
        );
    }
}

#[test]
fn byte_caps_hold_for_every_platform_on_hard_and_easy_art() {
    let dir = tempdir();
    let d = dir.path();
    let (photo, logo) = covers(d);
    let audio = d.join("clip.wav");
    music_wav(&audio, 48_000, 2, 3.0, 0.4);
    for (platform, ext, size, cap) in [
        ("whatsapp", "webp", 512, 500_000u64),
        ("telegram", "webm", 512, 262_144),
        ("signal", "png", 512, 307_200),
        ("discord", "png", 320, 524_288),
    ] {
        for art in [&photo, &logo] {
            let out = d.join(format!(
                "{platform}-{}.{ext}",
                art.file_stem().and_then(|s| s.to_str()).unwrap_or("x")
            ));
            let r = cover(art, &out).audio(&audio).platform(platform).run_json();
            let bytes = std::fs::metadata(&out).expect("out").len();
            assert!(
                bytes <= cap,
                "{platform} {}: {bytes} > {cap}",
                art.display()
            );
            assert_eq!(r["max_bytes"], cap);
            assert!(r["ssim"].as_f64().expect("ssim") > 0.5);
            if ext == "webp" {
                webpinfo_ok(&out);
            } else {
                let (_, w, h, _, audio_streams) = ffprobe_video(&out);
                assert_eq!(w, h, "square");
                assert_eq!(r["width"], w, "the report states the size written");
                if platform == "signal" {
                    // Signal accepts animated APNG from 10 to 512 px: the fitter may step the size down.
                    assert!((10..=size).contains(&w), "signal size {w}");
                } else {
                    assert_eq!(w, size, "{platform} needs exactly {size} px");
                }
                assert_eq!(audio_streams, 0);
            }
        }
    }
    // Static WhatsApp sticker: 100 000 bytes.
    let out = d.join("static.webp");
    cover(&photo, &out)
        .style("still")
        .platform("whatsapp")
        .run_ok();
    assert!(std::fs::metadata(&out).expect("out").len() <= 100_000);
    webpinfo_ok(&out);
}

/// PSNR (dB) of the frames ffmpeg decodes from `path` against the rendered frames in `frames_dir`, each
/// decoded frame matched to the rendered one it stands for (`step` = rendered frames per kept frame),
/// over visible pixels.
fn psnr_against_render(path: &Path, frames_dir: &Path, side: u32, step: usize) -> f64 {
    let out = ffmpeg_rgba(path);
    let size = (side * side * 4) as usize;
    let decoded: Vec<&[u8]> = out.chunks_exact(size).collect();
    assert!(decoded.len() > 1, "{} decoded frames", decoded.len());
    let (mut se, mut n) = (0f64, 0f64);
    for (i, got) in decoded.iter().enumerate() {
        let want = image::open(frames_dir.join(format!("{:04}.png", i * step)))
            .expect("rendered frame")
            .to_rgba8();
        for (g, w) in got.chunks_exact(4).zip(want.as_raw().chunks_exact(4)) {
            if w[3] > 0 {
                for c in 0..4 {
                    se += (f64::from(g[c]) - f64::from(w[c])).powi(2);
                }
                n += 4.0;
            }
        }
    }
    10.0 * (255f64.powi(2) / (se / n)).log10()
}

#[test]
fn discord_stickers_are_palette_apngs_closer_to_the_render_than_truecolour() {
    let dir = tempdir();
    let d = dir.path();
    let (photo, _) = covers(d);
    let audio = d.join("clip.wav");
    music_wav(&audio, 48_000, 2, 3.0, 0.4);
    let mut psnr = Vec::new();
    for colours in ["palette", "truecolour"] {
        let (out, frames) = (d.join(format!("{colours}.png")), d.join(colours));
        let r = cover_with_frames(
            &photo,
            &audio,
            "discord",
            &["--apng", colours],
            &out,
            &frames,
        );
        let bytes = std::fs::read(&out).expect("sticker");
        assert!(bytes.len() <= 524_288, "{colours}: {} bytes", bytes.len());
        // IHDR's colour type: 3 indexed, 6 RGBA.
        assert_eq!(
            bytes[25],
            if colours == "palette" { 3 } else { 6 },
            "{colours}"
        );
        let step = (20.0 / r["fps"].as_f64().expect("fps")).round() as usize;
        psnr.push(psnr_against_render(&out, &frames, 320, step));
    }
    // The photo's noise forces truecolour to posterise and blur; one palette keeps more of it (26.6
    // against 23.1 dB measured). Margin: 2 dB.
    assert!(
        psnr[0] > psnr[1] + 2.0,
        "palette {:.1} dB, truecolour {:.1} dB",
        psnr[0],
        psnr[1]
    );
    // Without a platform the default stays truecolour, and Signal's palette-free rule holds.
    let out = d.join("signal.png");
    cover(&photo, &out)
        .audio(&audio)
        .platform("signal")
        .run_ok();
    assert_eq!(std::fs::read(&out).expect("signal")[25], 6);
}

/// Mean SSIM (our block SSIM on luma over mid-grey) of every frame ffmpeg decodes from `path` (VP9
/// through libvpx, for its alpha) against the rendered frames it stands for (`step` rendered frames per
/// decoded one).
fn ssim_against_render(path: &Path, frames_dir: &Path, side: u32, step: usize) -> f64 {
    let mut args = vec!["-v", "error"];
    if path.extension().is_some_and(|e| e == "webm") {
        args.extend(["-c:v", "libvpx-vp9"]);
    }
    args.extend(["-i", p(path), "-f", "rawvideo", "-pix_fmt", "rgba", "-"]);
    let out = tool("ffmpeg", &args).stdout;
    let decoded: Vec<(usize, image::RgbaImage)> = out
        .chunks_exact((side * side * 4) as usize)
        .map(|f| image::RgbaImage::from_raw(side, side, f.to_vec()).expect("frame"))
        .enumerate()
        .collect();
    assert!(decoded.len() > 1, "{} decoded frames", decoded.len());
    let rendered: Vec<image::RgbaImage> = (0..decoded.len() * step)
        .map(|i| {
            image::open(frames_dir.join(format!("{i:04}.png")))
                .expect("rendered frame")
                .to_rgba8()
        })
        .collect();
    soundsticker::art::mean_ssim(&rendered, &decoded, step)
}

/// By default a sticker that would look better than SSIM 0.99 is encoded at the lowest quality that
/// reaches it, in fewer bytes; `--enough-ssim 1` fills the cap. ffmpeg's decode of the file agrees
/// with the SSIM reported.
#[test]
fn stickers_better_than_enough_spend_fewer_bytes() {
    let dir = tempdir();
    let d = dir.path();
    let (_, logo) = covers(d);
    let audio = d.join("clip.wav");
    music_wav(&audio, 48_000, 2, 3.0, 0.4);
    for (platform, ext, side) in [("telegram", "webm", 512), ("discord", "png", 320)] {
        let fit = |enough: &str| {
            let (out, frames) = (
                d.join(format!("{platform}-{enough}.{ext}")),
                d.join(format!("{platform}-{enough}")),
            );
            let r = cover_with_frames(
                &logo,
                &audio,
                platform,
                &["--enough-ssim", enough],
                &out,
                &frames,
            );
            let bytes = std::fs::metadata(&out).expect("sticker").len();
            (out, frames, r, bytes)
        };
        let (_, _, full, full_bytes) = fit("1");
        let (out, frames, r, bytes) = fit("0.99");
        assert_ne!(full["stop"], "enough", "{platform}: {full}");
        assert_eq!(r["stop"], "enough", "{platform}: {r}");
        assert!(
            r["quality"].as_f64() < full["quality"].as_f64(),
            "{platform}"
        );
        // At least a tenth smaller.
        assert!(
            bytes * 10 < full_bytes * 9,
            "{platform}: {bytes} against {full_bytes} bytes"
        );
        // VP9's search predicts SSIM from a faster encode: the file may land a little under 0.99.
        let reported = r["ssim"].as_f64().expect("ssim");
        assert!(reported >= 0.988, "{platform}: SSIM {reported}");
        let rendered = std::fs::read_dir(&frames).expect("frames").count() as f64;
        let step = (rendered / r["frames"].as_f64().expect("frames")).round() as usize;
        let measured = ssim_against_render(&out, &frames, side, step);
        // Reported over 8 frames, measured over all: within 0.005.
        assert!(
            (measured - reported).abs() < 0.005,
            "{platform}: ffmpeg's decode {measured:.4}, reported {reported:.4}"
        );
    }
}

/// The frames of an animated WebP as libwebp's own tools show them: each frame taken out by `webpmux`,
/// decoded by `dwebp`, and composited by its offset, blend and dispose modes (WebP container spec),
/// with its start and end in ms. An independent path to our decoder's: ffmpeg 5.1 cannot decode
/// animated WebP.
fn webp_frames_by_libwebp_tools(path: &Path, dir: &Path) -> Vec<(u32, u32, image::RgbaImage)> {
    let ((w, h), rows) = webpmux_info(path);
    let mut canvas = image::RgbaImage::new(w, h);
    let (mut out, mut t) = (Vec::new(), 0u32);
    let mut dispose: Option<(u32, u32, u32, u32)> = None;
    for (i, row) in rows.iter().enumerate() {
        let (x, y) = (row.x, row.y);
        if let Some((dx, dy, dw, dh)) = dispose.take() {
            for yy in dy..dy + dh {
                for xx in dx..dx + dw {
                    canvas.put_pixel(xx, yy, image::Rgba([0, 0, 0, 0]));
                }
            }
        }
        let (one, png) = (dir.join("frame.webp"), dir.join("frame.png"));
        tool(
            "webpmux",
            &[
                "-get",
                "frame",
                &(i + 1).to_string(),
                p(path),
                "-o",
                p(&one),
            ],
        );
        tool("dwebp", &[p(&one), "-o", p(&png)]);
        let frame = image::open(&png).expect("dwebp's frame").to_rgba8();
        for (fx, fy, px) in frame.enumerate_pixels() {
            let dst = canvas.get_pixel_mut(x + fx, y + fy);
            if !row.blend || px[3] == 255 {
                *dst = *px;
                continue;
            }
            // Blending: source over destination, in straight alpha.
            let (sa, da) = (f64::from(px[3]) / 255.0, f64::from(dst[3]) / 255.0);
            let a = sa + da * (1.0 - sa);
            let mut c = [0u8; 4];
            for k in 0..3 {
                if a > 0.0 {
                    let v = (f64::from(px[k]) * sa + f64::from(dst[k]) * da * (1.0 - sa)) / a;
                    c[k] = v.round() as u8;
                }
            }
            c[3] = (a * 255.0).round() as u8;
            *dst = image::Rgba(c);
        }
        out.push((t, t + row.duration, canvas.clone()));
        t += row.duration;
        if row.dispose_to_background {
            dispose = Some((x, y, frame.width(), frame.height()));
        }
    }
    out
}

/// The SSIM a WhatsApp sticker reports is what libwebp's own tools show, frame for frame in time,
/// though libwebp stores a frame that repeats the one before as a longer one.
#[test]
fn webp_ssim_agrees_with_libwebps_own_tools() {
    let dir = tempdir();
    let d = dir.path();
    let (_, logo) = covers(d);
    let audio = d.join("clip.wav");
    music_wav(&audio, 48_000, 2, 3.0, 0.4);
    let (out, frames) = (d.join("sticker.webp"), d.join("frames"));
    let r = cover_with_frames(&logo, &audio, "whatsapp", &[], &out, &frames);
    let shown = webp_frames_by_libwebp_tools(&out, d);
    let encoded = r["frames"].as_u64().expect("frames") as usize;
    assert!(
        shown.len() < encoded,
        "no repeated frames were merged ({} stored, {encoded} encoded): the check would not tell",
        shown.len()
    );
    let fps = r["fps"].as_f64().expect("fps");
    let rendered = std::fs::read_dir(&frames).expect("frames").count();
    let step = (rendered as f64 / encoded as f64).round() as usize;
    let mut sum = 0.0;
    for k in 0..encoded {
        // The middle of encoded frame k, and the frame libwebp's tools show then.
        let at = ((k as f64 + 0.5) * 1000.0 / fps) as u32;
        let (_, _, img) = shown
            .iter()
            .find(|(start, end, _)| (*start..*end).contains(&at))
            .unwrap_or_else(|| shown.last().expect("a frame"));
        let want = image::open(frames.join(format!("{:04}.png", k * step)))
            .expect("rendered frame")
            .to_rgba8();
        sum += soundsticker::art::ssim(&want, img);
    }
    let measured = sum / encoded as f64;
    let reported = r["ssim"].as_f64().expect("ssim");
    // Reported over 8 frames, measured over all: within 0.005.
    assert!(
        (measured - reported).abs() < 0.005,
        "libwebp's tools {measured:.4}, reported {reported:.4}"
    );
}

#[test]
fn rendering_is_reproducible() {
    let dir = tempdir();
    let d = dir.path();
    let (photo, _) = covers(d);
    let audio = d.join("a.wav");
    music_wav(&audio, 48_000, 2, 1.5, 0.4);
    for file in ["a.webp", "a.webm"] {
        let (x, y) = (d.join(format!("1{file}")), d.join(format!("2{file}")));
        for out in [&x, &y] {
            cover(&photo, out)
                .audio(&audio)
                .style("bars")
                .size(256)
                .run_ok();
        }
        assert_eq!(
            std::fs::read(&x).expect("x"),
            std::fs::read(&y).expect("y"),
            "{file} differs between runs"
        );
    }
}

#[test]
fn bad_images_fail_cleanly() {
    let dir = tempdir();
    let d = dir.path();
    let (photo, _) = covers(d);
    let out_dir = d.join("out");
    std::fs::create_dir(&out_dir).expect("dir");
    let out = out_dir.join("s.webp");
    let jpeg = std::fs::read(&photo).expect("jpeg");
    let truncated = d.join("truncated.jpg");
    std::fs::write(&truncated, &jpeg[..jpeg.len() / 3]).expect("write");
    let empty = d.join("empty.png");
    std::fs::write(&empty, b"").expect("write");
    let text = d.join("notes.png");
    std::fs::write(&text, b"not an image at all").expect("write");
    // A valid PNG signature and IHDR claiming 20000x20000, with no pixel data after it.
    let mut bomb = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    let ihdr = [
        &20_000u32.to_be_bytes()[..],
        &20_000u32.to_be_bytes()[..],
        &[8, 6, 0, 0, 0],
    ]
    .concat();
    let mut crc_input = b"IHDR".to_vec();
    crc_input.extend_from_slice(&ihdr);
    bomb.extend_from_slice(&ihdr);
    bomb.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    let huge = d.join("huge.png");
    std::fs::write(&huge, &bomb).expect("write");
    for (file, says) in [
        (&truncated, "corrupt or truncated"),
        (&empty, "empty"),
        (&text, "not a recognised image"),
        (&huge, "too large"),
    ] {
        let res = cover(file, &out).style("still").run();
        let err = stderr(&res);
        assert_eq!(res.status.code(), Some(2), "{}: {err}", file.display());
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(
            err.contains(name) && err.contains(says),
            "{}: {err}",
            file.display()
        );
        assert!(
            files_in(&out_dir).is_empty(),
            "nothing written for {}",
            file.display()
        );
    }
    // An animated style without audio is a usage error too.
    let res = cover(&photo, &out).style("pulse").run();
    assert_refused(&res, 2, "--audio");
}

/// CRC-32 (PNG chunk checksum), for crafting the oversized header above.
fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[test]
fn cmyk_jpeg_covers_are_converted_to_rgb() {
    // tests/fixtures/cmyk.jpg: 300×200 CMYK JPEG of one colour, C=0 M=128 Y=255 K=0, made with Pillow
    // (`Image.new("CMYK", (300, 200), (0, 128, 255, 0)).save(...)`); none of our build tools writes CMYK.
    let dir = tempdir();
    let out = dir.path().join("cmyk.png");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cmyk.jpg");
    cover(&fixture, &out)
        .style("still")
        .size(64)
        .args(&["--shape", "square", "--outline", "0", "--margin", "0"])
        .run_ok();
    let img = image::open(&out).expect("png").to_rgba8();
    let px = img.get_pixel(32, 32).0;
    // Orange: R 255, G 127, B 0 (±3 for JPEG rounding).
    for (got, want) in px[..3].iter().zip([255u8, 127, 0]) {
        assert!(got.abs_diff(want) <= 3, "pixel {px:?}");
    }
}
