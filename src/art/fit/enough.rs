//! Enough SSIM: the lowest quality that still reaches the SSIM the settings call enough, searched on
//! a model of 1 − SSIM (`lowest_enough`), and the descent of a finished fit to it (`descend`).

use super::{
    EncodeSettings, Fitted, MIN_QUALITY, Scope, Settled, Stop, Work, decode_where, encode_once,
    ssim_picks,
};
use crate::art::encode::{Animation, codec};
use crate::art::quality::mean_ssim;
use crate::error::Result;
use crate::platform::ImageKind;

/// `lowest_enough` aims this far past the enough SSIM, in ln(1 − SSIM) (1 − SSIM at 90 % of the enough
/// one's), so that a measurement a little off the model still lands on the good side.
const LACK_AIM: f64 = -0.105;
/// A measurement with 1 − SSIM within this of the enough one's (in ln: 80 %) ends the search (and a
/// start so close makes none): lower would save little.
const LACK_CLOSE: f64 = -0.223;

/// The lowest quality below `q0` that `measure` finds reaching `enough` SSIM, given SSIM `ssim0`
/// (over `enough`) at `q0`, within `enough_probes(kind)` measurements; `None` if none does. The quality
/// is searched on a model of ln(1 − SSIM), linear in quality, from the first guess of `lack_slope`, then
/// by secant between the measurements either side.
pub(super) fn lowest_enough(
    kind: ImageKind,
    q0: f32,
    ssim0: f64,
    enough: f64,
    mut measure: impl FnMut(f32) -> Result<f64>,
) -> Result<Option<f32>> {
    let lack = |ssim: f64| (1.0 - ssim).max(1e-6).ln();
    let goal = lack(enough);
    // The lowest quality measured good enough, and the highest measured short of it: (quality, lack).
    let mut good = (q0, lack(ssim0));
    if good.1 >= goal + LACK_CLOSE {
        return Ok(None);
    }
    let mut short: Option<(f32, f64)> = None;
    let mut found = None;
    let tuning = codec(kind).tuning();
    for _ in 0..tuning.enough_probes {
        let slope = match short {
            Some((q, l)) if good.0 > q && l > good.1 => (good.1 - l) / f64::from(good.0 - q),
            _ => tuning.lack_slope,
        };
        let floor = short.map_or(MIN_QUALITY, |(q, _)| q + 1.0);
        if floor > good.0 - 1.0 {
            break;
        }
        let q = ((f64::from(good.0) + (goal + LACK_AIM - good.1) / slope) as f32)
            .round()
            .clamp(floor, good.0 - 1.0);
        let ssim = measure(q)?;
        if ssim >= enough {
            good = (q, lack(ssim));
            found = Some(q);
            if good.1 >= goal + LACK_CLOSE {
                break;
            }
        } else {
            short = Some((q, lack(ssim)));
        }
    }
    Ok(found)
}

/// The SSIM of a file of `a` at quality `q` (with `s`) against `reference` (`step` reference frames
/// per frame of `a`), from the frames it would store, when the format tells them without encoding
/// (`Codec::stored_frames`: APNG).
pub(super) fn stored_ssim(
    kind: ImageKind,
    reference: &Animation,
    a: &Animation,
    step: usize,
    q: f32,
    s: &EncodeSettings,
) -> Option<f64> {
    let picks = ssim_picks(a.frames.len());
    let stored = codec(kind).stored_frames(a, q, s, &|i| picks.contains(&i))?;
    Some(mean_ssim(&reference.frames, &stored.kept, step))
}

/// Lower a finished fit's quality to the lowest that still reaches `enough` SSIM, by full encodes: for
/// fits whose search could not tell SSIM from its estimates (WebP, GIF) or made none (no cap). Past
/// `enough`, the bytes a cap leaves room for buy nothing a viewer sees, and a chat app's users download
/// every sticker. The fit is kept when no lower quality reaches `enough`.
pub(super) fn descend(
    kind: ImageKind,
    anim: &Animation,
    s: &EncodeSettings,
    cap: Option<u64>,
    fitted: Fitted,
    scope: Scope,
    enough: f64,
) -> Result<Fitted> {
    if fitted.quality <= MIN_QUALITY || codec(kind).lossless(s) {
        return Ok(fitted);
    }
    let resized;
    let reference = if scope.side < anim.width() {
        resized = anim.resized(scope.side, scope.side);
        &resized
    } else {
        anim
    };
    let decimated;
    let a = if scope.step > 1 {
        decimated = reference.decimate(scope.step);
        &decimated
    } else {
        reference
    };
    let picks = ssim_picks(a.frames.len());
    let keep = |i: usize| picks.contains(&i);
    let at = |q: f32| EncodeSettings {
        quality: q,
        ..s.clone()
    };
    let mut work = Work {
        passes: fitted.passes,
        estimates: fitted.estimates,
    };
    // Every file measured, by quality.
    let mut files: Vec<(f32, Vec<u8>)> = Vec::new();
    let found = lowest_enough(kind, fitted.quality, fitted.ssim, enough, |q| {
        if let Some(ssim) = stored_ssim(kind, reference, a, scope.step, q, s) {
            work.estimates += 1;
            return Ok(ssim);
        }
        work.passes += 1;
        let bytes = encode_once(kind, a, at(q))?;
        let decoded = decode_where(kind, &bytes, Some(&a.durations_ms), &keep)?;
        files.push((q, bytes));
        Ok(mean_ssim(&reference.frames, &decoded.kept, scope.step))
    })?;
    let unchanged = |work: Work| Fitted {
        passes: work.passes,
        estimates: work.estimates,
        ..fitted.clone()
    };
    let Some(q) = found else {
        return Ok(unchanged(work));
    };
    let bytes = match files.into_iter().find(|(fq, _)| *fq == q) {
        Some((_, b)) => b,
        None => {
            work.passes += 1;
            encode_once(kind, a, at(q))?
        }
    };
    // Lower quality is smaller in practice; never trade the fit for a file that is not.
    if bytes.len() >= fitted.bytes.len() || cap.is_some_and(|c| bytes.len() as u64 > c) {
        return Ok(unchanged(work));
    }
    let settled = Settled {
        bytes,
        quality: q,
        step: scope.step,
        stop: Stop::Enough,
    };
    settled.finish(kind, reference, work, cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_enough_finds_the_threshold_of_a_monotone_curve() {
        // 1 − SSIM halves every 20 quality points: 0.99 is reached at quality 40 from 0.04 at 0.
        let curve = |q: f32| 1.0 - 0.04 * 0.5f64.powf(f64::from(q) / 20.0);
        for kind in [ImageKind::Png, ImageKind::Webm] {
            let mut seen = Vec::new();
            let found = lowest_enough(kind, 90.0, curve(90.0), 0.99, |q| {
                seen.push(q);
                Ok(curve(q))
            })
            .expect("search")
            .expect("found");
            assert!(curve(found) >= 0.99, "{kind:?}: {found}");
            assert!(found <= 46.0, "{kind:?}: {found} after {seen:?}");
            assert!(seen.len() <= codec(kind).tuning().enough_probes);
        }
        // Close enough already: no measurement.
        let found = lowest_enough(ImageKind::Png, 50.0, 0.991, 0.99, |_| panic!("measured"))
            .expect("search");
        assert_eq!(found, None);
    }
}
