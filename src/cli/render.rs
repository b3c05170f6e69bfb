//! Human and JSON rendering of reports.

use serde::Serialize;
use soundsticker::CoverReport;
use soundsticker::art::Stop;
use soundsticker::pack::BuildReport;
use soundsticker::pack::ValidationReport;
use soundsticker::{ClipReport, Error, ProbeReport};
use std::path::PathBuf;

fn db(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| format!("-inf {unit}"), |x| format!("{x:.1} {unit}"))
}

pub fn print_json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: cannot render JSON: {e}"),
    }
}

pub fn probe_json(files: &[PathBuf], results: &[Result<ProbeReport, Error>]) {
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Entry<'a> {
        Ok(&'a ProbeReport),
        Err { path: &'a PathBuf, error: String },
    }
    let entries: Vec<Entry> = files
        .iter()
        .zip(results)
        .map(|(f, r)| match r {
            Ok(p) => Entry::Ok(p),
            Err(e) => Entry::Err {
                path: f,
                error: e.to_string(),
            },
        })
        .collect();
    print_json(&entries);
}

pub fn probe_human(results: &[Result<ProbeReport, Error>]) {
    for r in results {
        match r {
            Err(e) => eprintln!("error: {e}"),
            Ok(p) => {
                let bits = p
                    .bits_per_sample
                    .map_or_else(String::new, |b| format!(", {b}-bit"));
                eprintln!("{}", p.path.display());
                eprintln!(
                    "  format    {} in {}, {} Hz, {} ch ({}){bits}",
                    p.codec,
                    p.container,
                    p.sample_rate,
                    p.channels,
                    p.channel_layout.join(" ")
                );
                eprintln!("  duration  {} ({} frames)", p.duration, p.duration_frames);
                let t = &p.tags;
                let tags: Vec<String> = [
                    ("title", &t.title),
                    ("artist", &t.artist),
                    ("album", &t.album),
                    ("isrc", &t.isrc),
                ]
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} \"{v}\"")))
                .collect();
                if !tags.is_empty() {
                    eprintln!("  tags      {}", tags.join(", "));
                }
                let l = &p.loudness;
                eprintln!(
                    "  loudness  {} integrated, range {}, true peak {}, sample peak {}",
                    db(l.integrated_lufs, "LUFS"),
                    l.range_lu
                        .map_or_else(|| "n/a".into(), |v| format!("{v:.1} LU")),
                    db(l.true_peak_dbtp, "dBTP"),
                    db(l.sample_peak_dbfs, "dBFS"),
                );
                eprintln!(
                    "            max momentary {}, max short-term {}",
                    db(l.max_momentary_lufs, "LUFS"),
                    db(l.max_short_term_lufs, "LUFS")
                );
            }
        }
    }
}

pub fn clip_human(r: &ClipReport) {
    let l = &r.loudness;
    let target = l.target_lufs.map_or_else(
        || "level kept".to_string(),
        |t| format!("target {t:.1} LUFS"),
    );
    let rate = r
        .encoding
        .bitrate_bps
        .map_or_else(String::new, |b| format!(", {} kb/s", b / 1000));
    eprintln!(
        "{}  {}–{} ({:.3} s, {} ch)  {target} → {} / {} (gain {:+.1} dB, limiter {:.1} dB, {} pass{})  {} bytes{rate}",
        r.output.display(),
        r.range.start,
        r.range.end,
        r.duration_s,
        r.channels.to,
        db(l.achieved_lufs, "LUFS"),
        db(l.achieved_true_peak_dbtp, "dBTP"),
        l.gain_db,
        l.limiter.max_gain_reduction_db,
        l.passes,
        if l.passes == 1 { "" } else { "es" },
        r.encoding.bytes,
    );
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
}

/// " (what held the quality)" after an image's figures, or nothing.
fn stop_note(stop: Option<Stop>) -> String {
    stop.and_then(Stop::label)
        .map_or_else(String::new, |label| format!(" ({label})"))
}

pub fn cover_human(r: &CoverReport) {
    let f = &r.fitted;
    let cap = r.max_bytes.map_or_else(String::new, |c| format!(" of {c}"));
    eprintln!(
        "{}  {:?} {:?} {}×{}, {} frame{} at {:.1} fps, {} ms  {} bytes{cap}  quality {:.0}{}, SSIM {:.3}, {} encode{}{}",
        r.output.display(),
        r.style,
        r.format,
        r.width,
        r.height,
        f.frames,
        if f.frames == 1 { "" } else { "s" },
        f.fps,
        r.duration_ms,
        r.bytes,
        f.quality,
        stop_note(Some(f.stop)),
        f.ssim,
        f.passes,
        if f.passes == 1 { "" } else { "s" },
        match f.estimates {
            0 => String::new(),
            1 => " + 1 estimate".to_string(),
            n => format!(" + {n} estimates"),
        },
    );
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
}

pub fn build_human(r: &BuildReport) {
    for s in &r.stickers {
        eprintln!("{}", s.id);
        let mut targets: Vec<&str> = s.outputs.iter().map(|o| o.target.as_str()).collect();
        targets.dedup();
        for t in targets {
            let parts: Vec<String> = s
                .outputs
                .iter()
                .filter(|o| o.target == t)
                .map(|o| {
                    let mut f = format!(
                        "{} {:.1} KB",
                        o.file
                            .file_name()
                            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                        o.bytes as f64 / 1000.0
                    );
                    if let Some(v) = o.ssim {
                        f += &format!(" SSIM {v:.3}{}", stop_note(o.stop));
                    }
                    if let (Some(l), Some(p)) = (o.lufs, o.dbtp) {
                        f += &format!(" {l:.1} LUFS {p:.1} dBTP");
                    }
                    if let (Some(d), None) = (o.duration_s, o.ssim) {
                        f += &format!(" {d:.2} s");
                    }
                    f
                })
                .collect();
            eprintln!("  {t:<9} {}", parts.join(" · "));
        }
        for w in &s.warnings {
            eprintln!("  warning: {w}");
        }
    }
    let names: Vec<&str> = r.platforms.iter().map(|p| p.name()).collect();
    let cache = format!(
        "{} files encoded, {} from the cache",
        r.cache.misses, r.cache.hits
    );
    if let Some(w) = &r.cache.warning {
        eprintln!("warning: {w}");
    }
    if let Some(shard) = &r.shard {
        eprintln!(
            "built shard {shard} ({} stickers; {cache}) in {}; assemble the packs with `soundsticker build MANIFEST --merge SHARD_FOLDERS...`",
            r.stickers.len(),
            r.out.display()
        );
        return;
    }
    eprintln!(
        "built {} stickers for {} (+ canonical pack) in {} ({cache})",
        r.stickers.len(),
        names.join(", "),
        r.out.display()
    );
    if let Some(p) = &r.preview {
        eprintln!("preview: {}", p.display());
    }
    if !r.failed.is_empty() {
        eprintln!(
            "error: {} sticker file{} could not be made and {} left out of the packs (--keep-going):",
            r.failed.len(),
            if r.failed.len() == 1 { "" } else { "s" },
            if r.failed.len() == 1 { "is" } else { "are" },
        );
        for f in &r.failed {
            eprintln!("  {f}");
        }
    }
}

pub fn validate_human(r: &ValidationReport) {
    for v in &r.violations {
        eprintln!(
            "{}: {}: {} [{}]",
            r.path.display(),
            v.file,
            v.rule,
            v.source
        );
    }
    let verdict = if r.violations.is_empty() {
        "valid"
    } else {
        "INVALID"
    };
    eprintln!(
        "{} for {}: {verdict} ({} files checked, {} violations)",
        r.path.display(),
        r.platform.name(),
        r.files_checked,
        r.violations.len()
    );
}

/// A failure as `--json` prints it: `{"error": {"message", "exit_code", "issues"?}}`, where `issues`
/// lists a manifest's problems with their JSON pointers and positions.
pub fn error_json(err: &soundsticker::Error) -> serde_json::Value {
    let mut e = serde_json::json!({
        "message": err.to_string(),
        "exit_code": err.exit_code(),
    });
    if let soundsticker::Error::Manifest { path, issues } = err {
        e["file"] = serde_json::json!(path);
        e["issues"] = serde_json::json!(issues);
    }
    if let soundsticker::Error::StickersFailed { failures, packs } = err {
        e["failures"] = serde_json::json!(failures);
        if let Some(p) = packs {
            e["packs"] = serde_json::json!(p);
        }
    }
    if let soundsticker::Error::TooBig {
        cap,
        best_bytes,
        tried,
    } = err
    {
        e["cap"] = serde_json::json!(cap);
        e["best_bytes"] = serde_json::json!(best_bytes);
        e["tried"] = serde_json::json!(tried);
    }
    serde_json::json!({ "error": e })
}
