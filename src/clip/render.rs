//! From a prepared 48 kHz clip to shipped bytes: gain, true-peak limiting, encoding, then decoding our own
//! output and re-measuring it, correcting and encoding again when the result misses the targets.

use super::options::{ClipOptions, LoudnessRef, OutputFormat};
use crate::audio::limiter::{self, LimiterReport, LimiterSettings};
use crate::audio::loudness::{integrated_lufs, true_peak_dbtp};
use crate::audio::ogg_opus_write::{self, MAX_BITRATE, MIN_BITRATE, OpusSettings};
use crate::audio::pcm::Pcm;
use crate::audio::source::ogg_opus::OpusSource;
use crate::audio::source::stream::Decode;
use crate::audio::vorbis_comment::Comments;
use crate::audio::wav;
use crate::error::{Error, Result};
use crate::progress::{Progress, Stage};
use serde::Serialize;
use std::path::Path;

/// Integrated loudness may miss the target by this much before we correct and encode again (LU).
/// Tighter than the ±0.5 LU promise so an independent meter's small disagreement stays inside it.
const LOUDNESS_TOLERANCE_LU: f64 = 0.25;
/// Gain search on the PCM (limiter + meter, no encoding): steps and precision.
const GAIN_SEARCH_STEPS: usize = 6;
const GAIN_SEARCH_TOLERANCE_LU: f64 = 0.05;
/// No single search step raises the gain more than this (a flat slope could otherwise run away).
const MAX_SEARCH_STEP_DB: f64 = 6.0;
/// At most this much gain beyond the plain loudness gain is added to make up for what the limiter takes:
/// past that, limiting turns destructive and the target is reported as missed instead.
const MAX_MAKEUP_DB: f64 = 6.0;
/// Corrections after the first encode, at most.
const MAX_CORRECTIONS: u32 = 2;
/// Opus raises true peak by about 0.3–0.5 dB on music; the first limiter pass leaves this much room.
const OPUS_PEAK_HEADROOM_DB: f64 = 0.3;
/// Highest bitrates worth spending when only a byte cap is given (transparent for music).
const CAP_STEREO_BPS: u32 = 256_000;
const CAP_MONO_BPS: u32 = 128_000;

/// Loudness figures of the finished clip.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LoudnessReport {
    /// Integrated loudness target, LUFS ([`ClipOptions::loudness_lufs`]); `None` when the level
    /// was left alone.
    pub target_lufs: Option<f64>,
    /// Whether the target was reached by the clip or by the whole master
    /// ([`ClipOptions::loudness_ref`]).
    pub reference: LoudnessRef,
    /// The clip's loudness before any gain.
    pub clip_lufs: Option<f64>,
    /// The whole master's loudness, with `reference: master`.
    pub master_lufs: Option<f64>,
    /// Gain applied to the clip before the limiter, dB (the loudness gain plus any make-up for
    /// what the limiter takes); 0 with no target.
    pub gain_db: f64,
    /// True-peak ceiling the limiter held, dBTP ([`ClipOptions::true_peak_dbtp`]); `None` when
    /// the limiter was off.
    pub true_peak_ceiling_dbtp: Option<f64>,
    /// How hard the limiter worked on the final pass.
    pub limiter: LimiterReport,
    /// Measured on the decoded output file.
    pub achieved_lufs: Option<f64>,
    /// True peak of the decoded output file, dBTP; `None` when it is silent.
    pub achieved_true_peak_dbtp: Option<f64>,
    /// Encodes made (1 + corrections).
    pub passes: u32,
}

/// Encoding figures of the finished clip.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct EncodingReport {
    /// The format written, from the output file's extension.
    pub format: OutputFormat,
    /// Opus bitrate of the final encode, bit/s; `None` for WAV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bitrate_bps: Option<u32>,
    /// Opus VBR mode: `"constrained"` under a byte cap, `"free"` without one; `None` for WAV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vbr: Option<&'static str>,
    /// Size of the written file in bytes.
    pub bytes: u64,
    /// The byte cap the file was held under ([`ClipOptions::max_bytes`]); `None` when there was
    /// none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

/// The finished file in memory, with what was measured on it.
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub loudness: LoudnessReport,
    pub encoding: EncodingReport,
    pub warnings: Vec<String>,
}

/// Normalise, limit, encode and verify `pcm` (already at the output rate, channels and fades).
///
/// Long because normalising, limiting, encoding and re-measuring share the figures the report
/// collects; each step is a call into `audio`.
pub fn render(
    pcm: &Pcm,
    opts: &ClipOptions,
    format: OutputFormat,
    master_lufs: Option<f64>,
    comments: &Comments,
    progress: &dyn Progress,
    item: &str,
) -> Result<Rendered> {
    let mut warnings = Vec::new();
    let clip_lufs = integrated_lufs(pcm);
    let base_gain_db = match (opts.loudness_lufs, opts.loudness_ref) {
        (None, _) => 0.0,
        (Some(t), LoudnessRef::Clip) => match clip_lufs {
            Some(l) => t - l,
            None => {
                warnings.push("the clip is silent; no loudness gain applied".into());
                0.0
            }
        },
        (Some(t), LoudnessRef::Master) => match master_lufs {
            Some(l) => t - l,
            None => {
                warnings.push("the master is silent; no loudness gain applied".into());
                0.0
            }
        },
    };
    let headroom = match format {
        OutputFormat::OggOpus => OPUS_PEAK_HEADROOM_DB,
        OutputFormat::Wav { .. } => 0.0,
    };
    let mut limiter_ceiling = opts.true_peak_dbtp.map(|c| c - headroom);
    // What the PCM must measure so the decoded file lands on the target (moves by the codec's shift).
    let mut pcm_target = match opts.loudness_ref {
        LoudnessRef::Clip => opts.loudness_lufs,
        LoudnessRef::Master => None,
    };
    let mut bitrate = initial_bitrate(pcm, opts, comments)?;
    let mut passes = 0;
    loop {
        passes += 1;
        progress.stage(item, Stage::Normalise);
        let (p, gain_db, limiter) = fit_gain(pcm, base_gain_db, pcm_target, limiter_ceiling);
        progress.stage(item, Stage::Encode);
        let (bytes, decoded, used_bitrate) =
            encode_within_budget(&p, opts, format, comments, &mut bitrate)?;
        progress.stage(item, Stage::Verify);
        let achieved_lufs = integrated_lufs(&decoded);
        let achieved_tp = true_peak_dbtp(&decoded);
        let loud_miss = match (opts.loudness_lufs, opts.loudness_ref, achieved_lufs) {
            (Some(t), LoudnessRef::Clip, Some(a)) if (a - t).abs() > LOUDNESS_TOLERANCE_LU => {
                Some(t - a)
            }
            _ => None,
        };
        let peak_over = match (opts.true_peak_dbtp, achieved_tp) {
            (Some(c), Some(a)) if a > c => Some(a - c),
            _ => None,
        };
        let done = (loud_miss.is_none() && peak_over.is_none()) || passes > MAX_CORRECTIONS;
        if done {
            if let (Some(miss), Some(t)) = (loud_miss, opts.loudness_lufs) {
                warnings.push(format!(
                    "loudness {:.2} LUFS misses the {t:.1} LUFS target by {:.2} LU after {passes} passes (the true-peak ceiling limits it)",
                    t - miss,
                    miss.abs()
                ));
            }
            if let Some(over) = peak_over {
                warnings.push(format!(
                    "true peak exceeds the ceiling by {over:.2} dB after {passes} passes"
                ));
            }
            if limiter.max_gain_reduction_db > 6.0 {
                warnings.push(format!(
                    "the limiter reduced peaks by up to {:.1} dB; consider a lower loudness target",
                    limiter.max_gain_reduction_db
                ));
            }
            let encoding = EncodingReport {
                format,
                bitrate_bps: used_bitrate,
                vbr: used_bitrate.map(|_| {
                    if opts.max_bytes.is_some() {
                        "constrained"
                    } else {
                        "free"
                    }
                }),
                bytes: bytes.len() as u64,
                max_bytes: opts.max_bytes,
            };
            let loudness = LoudnessReport {
                target_lufs: opts.loudness_lufs,
                reference: opts.loudness_ref,
                clip_lufs,
                master_lufs,
                gain_db,
                true_peak_ceiling_dbtp: opts.true_peak_dbtp,
                limiter,
                achieved_lufs,
                achieved_true_peak_dbtp: achieved_tp,
                passes,
            };
            return Ok(Rendered {
                bytes,
                loudness,
                encoding,
                warnings,
            });
        }
        // The codec moved the peak or the loudness: aim the PCM stage off by what it moved.
        if let (Some(over), Some(c)) = (peak_over, limiter_ceiling.as_mut()) {
            *c -= 1.5 * over + 0.1;
        }
        if let (Some(m), Some(t)) = (loud_miss, pcm_target.as_mut()) {
            *t += m;
        }
    }
}

/// Apply gain and limit; when `target` is set, search the gain (secant steps on the limited signal's
/// measured loudness) so the limited clip reaches it. Cheap: no encoding inside.
fn fit_gain(
    pcm: &Pcm,
    start_gain: f64,
    target: Option<f64>,
    ceiling: Option<f64>,
) -> (Pcm, f64, LimiterReport) {
    let run = |gain: f64| {
        let mut p = pcm.clone();
        p.apply_gain_db(gain);
        let report = match ceiling {
            Some(c) => limiter::limit(&mut p, LimiterSettings::with_ceiling(c)),
            None => LimiterReport::default(),
        };
        (p, report)
    };
    let mut gain = start_gain;
    let (mut p, mut report) = run(gain);
    let Some(t) = target else {
        return (p, gain, report);
    };
    let mut prev: Option<(f64, f64)> = None;
    for _ in 0..GAIN_SEARCH_STEPS {
        let Some(a) = integrated_lufs(&p) else { break };
        if (a - t).abs() <= GAIN_SEARCH_TOLERANCE_LU {
            break;
        }
        // Slope of loudness against gain: 1 without limiting, less as the limiter works harder.
        let slope = match prev {
            Some((g0, a0)) if (gain - g0).abs() > 1e-6 => ((a - a0) / (gain - g0)).clamp(0.1, 1.0),
            _ => 1.0,
        };
        prev = Some((gain, a));
        let next = (gain + ((t - a) / slope).clamp(-24.0, MAX_SEARCH_STEP_DB))
            .min(start_gain + MAX_MAKEUP_DB);
        if (next - gain).abs() < 1e-3 {
            break;
        }
        gain = next;
        (p, report) = run(gain);
    }
    (p, gain, report)
}

/// Encode once, keeping under `max_bytes` (lowering the bitrate if constrained VBR overshoots), and decode
/// the result. Returns bytes, decoded audio and the bitrate used (Opus only).
fn encode_within_budget(
    pcm: &Pcm,
    opts: &ClipOptions,
    format: OutputFormat,
    comments: &Comments,
    bitrate: &mut u32,
) -> Result<(Vec<u8>, Pcm, Option<u32>)> {
    match format {
        OutputFormat::Wav { bits } => {
            let bytes = wav::encode(pcm, bits)?;
            if let Some(max) = opts.max_bytes
                && bytes.len() as u64 > max
            {
                return Err(Error::Encode {
                    detail: format!(
                        "the WAV is {} bytes, over the byte cap of {max}; use .ogg output",
                        bytes.len()
                    ),
                });
            }
            let decoded = wav::decode(&bytes)?;
            Ok((bytes, decoded, None))
        }
        OutputFormat::OggOpus => {
            for _ in 0..4 {
                let settings = OpusSettings {
                    bitrate: *bitrate,
                    constrained: opts.max_bytes.is_some(),
                    complexity: 10,
                };
                let enc = ogg_opus_write::encode(pcm, settings, comments)?;
                match opts.max_bytes {
                    Some(max) if enc.bytes.len() as u64 > max => {
                        if *bitrate <= MIN_BITRATE {
                            break;
                        }
                        let scale = max as f64 / enc.bytes.len() as f64 * 0.98;
                        *bitrate = ((f64::from(*bitrate) * scale) as u32).max(MIN_BITRATE);
                    }
                    _ => {
                        let decoded = decode_opus(&enc.bytes, pcm)?;
                        return Ok((enc.bytes, decoded, Some(*bitrate)));
                    }
                }
            }
            let max = opts.max_bytes.unwrap_or(0);
            Err(Error::Budget {
                max_bytes: max,
                needed_bytes: max + 1,
                duration_s: pcm.duration_s(),
            })
        }
    }
}

fn decode_opus(bytes: &[u8], like: &Pcm) -> Result<Pcm> {
    let mut src = OpusSource::from_bytes(Path::new("(encoded clip)"), bytes.to_vec())?;
    let mut out = Pcm::empty(48_000, like.layout.clone());
    src.stream(0, None, &mut |c| {
        out.samples.extend_from_slice(c);
        Ok(())
    })?;
    if out.frames() != like.frames() {
        return Err(Error::Encode {
            detail: format!(
                "our Ogg Opus decodes to {} frames instead of {}; please report this",
                out.frames(),
                like.frames()
            ),
        });
    }
    Ok(out)
}

/// The first bitrate to try: the requested one, or the default, lowered to what `max_bytes` allows.
fn initial_bitrate(pcm: &Pcm, opts: &ClipOptions, comments: &Comments) -> Result<u32> {
    let mono = pcm.channels() == 1;
    let default = if mono { 64_000 } else { 96_000 };
    let Some(max_bytes) = opts.max_bytes else {
        return Ok(opts.bitrate.unwrap_or(default));
    };
    let cap = opts
        .bitrate
        .unwrap_or(if mono { CAP_MONO_BPS } else { CAP_STEREO_BPS });
    let tags_len = comments.to_opus_tags().len();
    // 312 is libopus's look-ahead at 48 kHz; the exact value only shifts the estimate by a packet.
    let packets = ogg_opus_write::packet_count(pcm.frames(), 312);
    let seconds = packets as f64 * ogg_opus_write::FRAME_SAMPLES as f64 / 48_000.0;
    let mut rate = f64::from(MAX_BITRATE);
    for _ in 0..3 {
        let avg_packet = (rate / 8.0 * seconds / packets as f64) as usize;
        let overhead = ogg_opus_write::container_overhead(packets, avg_packet, tags_len);
        rate = (max_bytes as f64 - overhead as f64).max(0.0) * 8.0 / seconds;
    }
    // Constrained VBR lands within a few percent of the target; aim 3 % low so the first encode fits.
    let rate = (rate * 0.97).floor();
    if rate < f64::from(MIN_BITRATE) {
        let min_bytes = (f64::from(MIN_BITRATE) / 8.0 * seconds) as u64
            + ogg_opus_write::container_overhead(packets, 15, tags_len);
        return Err(Error::Budget {
            max_bytes,
            needed_bytes: min_bytes,
            duration_s: pcm.duration_s(),
        });
    }
    Ok((rate as u32).min(cap))
}
