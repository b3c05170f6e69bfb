//! Tests of whole fits: the palette retry, enough SSIM, the half frame rate, and searches on estimates.

use super::*;

/// A detailed pattern that zooms a little every frame, as `pulse` does.
pub(super) fn zooming(side: u32, n: usize) -> Animation {
    let frames = (0..n)
        .map(|i| {
            let zoom = 1.0 + 0.004 * i as f32;
            image::RgbaImage::from_fn(side, side, |x, y| {
                let c = side as f32 / 2.0;
                let (u, v) = ((x as f32 - c) / zoom, (y as f32 - c) / zoom);
                let grain = ((u * 12.9898 + v * 78.233).sin() * 43758.547).fract().abs();
                image::Rgba([
                    (128.0 + 100.0 * (u * 0.3).sin() + 25.0 * grain) as u8,
                    (128.0 + 100.0 * (v * 0.2).cos()) as u8,
                    (255.0 * grain) as u8,
                    255,
                ])
            })
        })
        .collect();
    Animation::at_fps(frames, 20.0)
}

#[test]
fn a_roomy_low_ssim_palette_fit_is_checked_against_truecolour() {
    // Smooth hue ramps in every direction: bands that a palette cannot hide.
    let frames = (0..12)
        .map(|i| {
            image::RgbaImage::from_fn(128, 128, |x, y| {
                let (u, v) = (x as f32 + i as f32, y as f32);
                image::Rgba([(u * 2.0) as u8, (v * 2.0) as u8, ((u + v) * 1.0) as u8, 255])
            })
        })
        .collect();
    let anim = Animation::at_fps(frames, 20.0);
    let s = EncodeSettings {
        palette: true,
        ..EncodeSettings::default()
    };
    let one = |palette| {
        let s = EncodeSettings {
            palette,
            ..s.clone()
        };
        fit_one(ImageKind::Png, &anim, &s, Some(1 << 20), 128)
            .expect("fit")
            .0
    };
    let (palette, truecolour) = (one(true), one(false));
    // The palette reaches the requested quality far under the cap, with visible bands (SSIM 0.82
    // measured); PNG's row filters code these ramps almost for free in truecolour (0.998).
    assert!(palette.quality >= s.quality && palette.bytes.len() < (1 << 19));
    assert!(palette.ssim < PALETTE_RETRY_SSIM && truecolour.ssim > palette.ssim);
    let f = fit(ImageKind::Png, &anim, s.clone(), Some(1 << 20), 128).expect("fit");
    assert_eq!(f.bytes, truecolour.bytes);
    assert_eq!(f.bytes[25], 6, "truecolour RGBA");
    assert_eq!(f.passes, palette.passes + truecolour.passes);
    // A palette fit that looks good (flat colours) is kept without a second fit.
    let flat = (0..12)
        .map(|i| {
            image::RgbaImage::from_fn(128, 128, |x, y| {
                let (dx, dy) = (x as i32 - 64 - i, y as i32 - 64);
                match (dx * dx + dy * dy) / 400 {
                    0 => image::Rgba([250, 200, 40, 255]),
                    1..=3 => image::Rgba([200, 30, 90, 255]),
                    _ => image::Rgba([30, 30, 120, 255]),
                }
            })
        })
        .collect();
    let flat = Animation::at_fps(flat, 20.0);
    let f = fit(ImageKind::Png, &flat, s, Some(1 << 20), 128).expect("fit");
    assert!(f.ssim >= PALETTE_RETRY_SSIM, "{}", f.ssim);
    assert_eq!((f.bytes[25], f.passes), (3, 1));
}

#[test]
fn enough_ssim_lowers_quality_to_the_lowest_that_is_enough() {
    let anim = zooming(128, 30);
    let cases = [
        (ImageKind::Png, true),
        (ImageKind::Png, false),
        (ImageKind::Webm, false),
        (ImageKind::Webp, false),
    ];
    for (kind, palette) in cases {
        let s = EncodeSettings {
            palette,
            ..EncodeSettings::default()
        };
        let one = |enough: Option<f64>, cap: Option<u64>| {
            let s = EncodeSettings {
                enough_ssim: enough,
                ..s.clone()
            };
            fit(kind, &anim, s, cap, 128).expect("fit")
        };
        // With room under a cap, and with none: the requested quality, then the lowest enough one.
        for cap in [Some(1 << 24), None] {
            let full = one(None, cap);
            assert_eq!(full.stop, Stop::Quality, "{kind:?} palette {palette}");
            // Halfway between the full fit's shortfall and perfect is far below its quality.
            let enough = full.ssim - (1.0 - full.ssim);
            let lower = one(Some(enough), cap);
            let at = format!(
                "{kind:?} palette {palette} cap {cap:?}: quality {} SSIM {} {:?} {} B (full: {} B)",
                lower.quality,
                lower.ssim,
                lower.stop,
                lower.bytes.len(),
                full.bytes.len()
            );
            assert_eq!(lower.stop, Stop::Enough, "{at}");
            assert!(lower.quality < full.quality, "{at}");
            assert!(lower.bytes.len() < full.bytes.len(), "{at}");
            // VP9's search predicts SSIM from a faster encode: within 0.002 (the file's own SSIM is
            // what the fit reports, measured on its decode).
            let slack = if kind == ImageKind::Webm { 0.002 } else { 0.0 };
            assert!(lower.ssim >= enough - slack, "{at}: wanted {enough}");
            assert_eq!(decode(kind, &lower.bytes).expect("decode").len(), 30);
            // Already below what is enough: the same file as without.
            let unreached = one(Some(full.ssim + (1.0 - full.ssim) / 2.0), cap);
            assert_eq!(unreached.bytes, full.bytes, "{kind:?} palette {palette}");
        }
    }
    // Under a tight cap, the cap sets the quality.
    let tight = fit(
        ImageKind::Webm,
        &anim,
        EncodeSettings {
            enough_ssim: Some(0.99),
            ..EncodeSettings::default()
        },
        Some(8_000),
        128,
    )
    .expect("fit");
    assert_eq!(tight.stop, Stop::Cap, "quality {}", tight.quality);
}

#[test]
fn a_smeared_fit_of_every_frame_gives_way_to_a_sharper_half_rate() {
    for kind in [ImageKind::Webp, ImageKind::Png] {
        smeared_fit_gives_way(kind);
    }
}

fn smeared_fit_gives_way(kind: ImageKind) {
    let anim = zooming(128, 40);
    let at = |q: f32| EncodeSettings {
        quality: q,
        ..EncodeSettings::default()
    };
    let measure = |q: f32, cap: u64| {
        let bytes = encode_once(kind, &anim, at(q)).expect("encode");
        let settled = Settled {
            bytes,
            quality: q,
            step: 1,
            stop: Stop::Cap,
        };
        settled
            .finish(kind, &anim, Work::default(), Some(cap))
            .expect("measure")
    };
    // A cap that every frame fits only at the bottom of the scale.
    let cap = (encode_once(kind, &anim, at(MIN_QUALITY))
        .expect("encode")
        .len() as f64
        * 1.05) as u64;
    let smeared = measure(MIN_QUALITY, cap);
    assert!(smeared.ssim < HALF_RATE_SSIM, "{}", smeared.ssim);
    let f = fit(kind, &anim, EncodeSettings::default(), Some(cap), 128).expect("fit");
    assert!(f.bytes.len() as u64 <= cap);
    assert_eq!(f.fps, 10.0);
    assert!(
        f.ssim > smeared.ssim + HALF_RATE_GAIN,
        "{} against {}",
        f.ssim,
        smeared.ssim
    );

    // A cap every frame fits sharply keeps them all.
    let roomy = encode_once(kind, &anim, at(60.0)).expect("encode").len() as u64;
    assert!(measure(60.0, roomy).ssim > HALF_RATE_SSIM);
    let f = fit(kind, &anim, EncodeSettings::default(), Some(roomy), 128).expect("fit");
    assert_eq!(f.fps, 20.0);
}

#[test]
fn fits_search_on_estimates_and_stay_under_the_cap() {
    let anim = zooming(128, 40);
    for kind in [ImageKind::Png, ImageKind::Webp, ImageKind::Webm] {
        let unfitted = encode_once(kind, &anim, EncodeSettings::default())
            .expect("encode")
            .len() as u64;
        // A cap well under the unfitted size forces a search.
        let cap = unfitted / 3;
        let f = fit(kind, &anim, EncodeSettings::default(), Some(cap), 128).expect("fit");
        assert!(
            f.bytes.len() as u64 <= cap,
            "{kind:?}: {} > {cap}",
            f.bytes.len()
        );
        assert!(f.estimates >= 1, "{kind:?} searched without estimates");
        // The full encodes are few: the answer, and at most a few corrections.
        assert!(f.passes <= 4, "{kind:?}: {} full encodes", f.passes);
        assert!(f.quality < 80.0, "{kind:?}");
    }
}

#[test]
fn the_bottom_of_the_ladder_is_encoded_before_giving_up() {
    let anim = zooming(96, 24);
    for kind in [ImageKind::Png, ImageKind::Webp, ImageKind::Webm] {
        // The file at the floor: the lowest quality, every 6th frame (24 / 6 = 4 frames left).
        let s = EncodeSettings {
            quality: MIN_QUALITY,
            ..EncodeSettings::default()
        };
        let floor = encode_once(kind, &anim.decimate(6), s)
            .expect("encode")
            .len() as u64;
        // Under it, nothing fits: the error gives the floor's size and says what was tried.
        match fit(kind, &anim, EncodeSettings::default(), Some(floor - 1), 96) {
            Err(Error::TooBig {
                cap,
                best_bytes,
                tried,
            }) => {
                assert_eq!((cap, best_bytes), (floor - 1, floor), "{kind:?}");
                assert!(tried[0].contains("1/6 of the frame rate"), "{tried:?}");
            }
            other => panic!("{kind:?}: {:?}", other.map(|f| f.bytes.len())),
        }
        // At it, the fit succeeds, however pessimistic the searches' predictions were.
        let f = fit(kind, &anim, EncodeSettings::default(), Some(floor), 96).expect("fit");
        assert!(f.bytes.len() as u64 <= floor, "{kind:?}");
    }
}
