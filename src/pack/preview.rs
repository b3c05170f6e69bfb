//! `preview.html`: one page to review a build before publishing: every sticker's animation for every
//! platform beside its sound (an `<audio>` player), with the figures and warnings of the build. All
//! links are relative and there is no script, so it opens from the file system with no server, and it
//! holds no timestamp, so rebuilds stay byte-identical.

use super::manifest::Manifest;
use super::report::{OutputFile, StickerReport};
use crate::platform::Platform;
use std::fmt::Write;
use std::path::Path;

/// Escape text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A path relative to the build folder, with `/` separators, escaped for an attribute.
fn href(file: &Path, root: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    let parts: Vec<String> = rel
        .components()
        .map(|c| percent(&c.as_os_str().to_string_lossy()))
        .collect();
    esc(&parts.join("/"))
}

/// Percent-encode what may not appear raw in a relative URL path segment.
fn percent(seg: &str) -> String {
    let mut out = String::new();
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn figures(o: &OutputFile) -> String {
    let mut parts = vec![format!("{:.1} KB", o.bytes as f64 / 1000.0)];
    if let Some(d) = o.duration_s {
        parts.push(format!("{d:.2} s"));
    }
    if let Some(l) = o.lufs {
        parts.push(format!("{l:.1} LUFS"));
    }
    if let Some(p) = o.dbtp {
        parts.push(format!("{p:.1} dBTP"));
    }
    if let Some(s) = o.ssim {
        parts.push(match o.stop.and_then(|t| t.label()) {
            Some(held) => format!("SSIM {s:.3} ({held})"),
            None => format!("SSIM {s:.3}"),
        });
    }
    parts.join(" · ")
}

const STYLE: &str = "body{font:15px/1.4 system-ui,sans-serif;margin:2em;background:#f4f4f6;color:#222}\
h1{margin:0 0 .2em}.meta{color:#666;margin-bottom:1.5em}\
section{background:#fff;border-radius:10px;padding:1em 1.2em;margin:0 0 1.2em;box-shadow:0 1px 3px #0002}\
h2{margin:0 0 .6em;font-size:1.15em}.emoji{font-size:1.3em}\
.targets{display:flex;flex-wrap:wrap;gap:1.2em}\
figure{margin:0;width:260px}figure .art{width:256px;height:256px;display:flex;align-items:center;\
justify-content:center;background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) 0 0/20px 20px;border-radius:6px}\
figure img,figure video{max-width:256px;max-height:256px}audio{width:256px;margin-top:.4em}\
figcaption{font-size:.85em;color:#444}figcaption b{text-transform:capitalize}\
.warn{color:#8a4b00;background:#fff4e0;border-radius:6px;padding:.4em .8em;margin:.8em 0 0}";

/// The page for a build in `root`.
///
/// Long because it is the page's HTML, written in order; the per-sticker cards are a helper.
pub fn page(
    manifest: &Manifest,
    platforms: &[Platform],
    stickers: &[StickerReport],
    root: &Path,
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{} — sticker preview</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"meta\">{} · <code>{}</code> · {} stickers · {}</p>\n",
        esc(&manifest.name),
        esc(&manifest.name),
        esc(&manifest.publisher),
        esc(&manifest.identifier),
        stickers.len(),
        platforms
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for s in stickers {
        let own = manifest.stickers.iter().find(|m| m.id == s.id);
        let emojis = own.map(|m| m.emojis.join(" ")).unwrap_or_default();
        let title = own
            .and_then(|m| m.title.clone())
            .unwrap_or_else(|| s.id.clone());
        let _ = write!(
            h,
            "<section id=\"{}\">\n<h2><span class=\"emoji\">{}</span> {} <small><code>{}</code></small></h2>\n<div class=\"targets\">\n",
            esc(&s.id),
            esc(&emojis),
            esc(&title),
            esc(&s.id)
        );
        let mut targets: Vec<&str> = s.outputs.iter().map(|o| o.target.as_str()).collect();
        targets.dedup();
        for t in targets {
            let of_target: Vec<&OutputFile> = s.outputs.iter().filter(|o| o.target == t).collect();
            let image = of_target
                .iter()
                .find(|o| o.file.extension().is_some_and(|e| e != "ogg"));
            let sound = of_target
                .iter()
                .find(|o| o.file.extension().is_some_and(|e| e == "ogg"));
            h.push_str("<figure>\n<div class=\"art\">");
            if let Some(img) = image {
                let src = href(&img.file, root);
                if img.file.extension().is_some_and(|e| e == "webm") {
                    let _ = write!(
                        h,
                        "<video src=\"{src}\" autoplay loop muted playsinline></video>"
                    );
                } else {
                    let _ = write!(h, "<img src=\"{src}\" alt=\"{}\">", esc(&title));
                }
            }
            h.push_str("</div>\n");
            if let Some(snd) = sound {
                let _ = writeln!(
                    h,
                    "<audio controls preload=\"none\" src=\"{}\"></audio>",
                    href(&snd.file, root)
                );
            }
            let _ = write!(h, "<figcaption><b>{}</b>", esc(t));
            for o in image.iter().chain(sound.iter()) {
                let _ = write!(
                    h,
                    "<br>{}: {}",
                    esc(&o.file.file_name().unwrap_or_default().to_string_lossy()),
                    esc(&figures(o))
                );
            }
            h.push_str("</figcaption>\n</figure>\n");
        }
        h.push_str("</div>\n");
        for w in &s.warnings {
            let _ = writeln!(h, "<p class=\"warn\">⚠ {}</p>", esc(w));
        }
        h.push_str("</section>\n");
    }
    h.push_str("</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_encodes_links() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            href(Path::new("/b/whatsapp/a b#1.webp"), Path::new("/b")),
            "whatsapp/a%20b%231.webp"
        );
    }
}
