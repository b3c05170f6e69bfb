//! The manifest's checks beyond its JSON shape: identifiers, emojis, keywords, links, each platform's
//! text rules, settings in range, and each sticker's range against its master's length.

use super::{LoadedManifest, Manifest, Sticker, StickerSettings};
use crate::art::styles::Style;
use crate::audio::source::{Source, stream::Decode};
use crate::pack::links;
use crate::platform::{Platform, TELEGRAM_KEYWORD_CHARS, TELEGRAM_MAX_KEYWORDS};
use crate::timecode::Timecode;

/// Why `still` is refused in a manifest, wherever it is set.
const STILL_IN_A_PACK: &str = "`still` makes a static image, but a sound sticker's image moves with its sound; use pulse, vinyl, wave or bars";

/// Checks that need more than the JSON's shape.
///
/// Long because it is the list of the manifest's rules, one `report` each, in the order of the
/// document; settings, images and ranges have their own functions.
pub(super) fn check(m: &LoadedManifest, report: &mut dyn FnMut(String, String)) {
    let man = &m.manifest;
    let text_field = |value: &str, pointer: &str, report: &mut dyn FnMut(String, String)| {
        let n = value.chars().count();
        if n == 0 || n > 128 {
            report(
                pointer.into(),
                format!("must be 1 to 128 characters (has {n})"),
            );
        }
    };
    text_field(&man.name, "/name", report);
    text_field(&man.publisher, "/publisher", report);
    text_field(&man.identifier, "/identifier", report);
    if man.identifier.contains("..")
        || !man
            .identifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.' ,".contains(c))
    {
        report(
            "/identifier".into(),
            "use only letters, digits, `_`, `-`, `.`, `'`, `,` and spaces, and no `..`".into(),
        );
    }
    // WhatsApp's contents.json carries both, and its validator refuses a pack whose link is not an
    // http(s) URL or whose e-mail does not look like one (links.rs).
    if let Some(problem) = man.website.as_deref().and_then(links::link_problem) {
        report("/website".into(), problem);
    }
    if let Some(email) = &man.email
        && !links::is_email(email)
    {
        report(
            "/email".into(),
            format!("`{email}` is not an e-mail address (name@domain.example)"),
        );
    }
    check_image(m, &man.cover, "/cover", report);
    if man.platforms.is_empty() {
        report(
            "/platforms".into(),
            "name at least one platform (whatsapp, telegram, signal, discord)".into(),
        );
    }
    for (i, p) in man.platforms.iter().enumerate() {
        if man.platforms[..i].contains(p) {
            report(
                format!("/platforms/{i}"),
                format!("`{}` is listed twice", p.name()),
            );
        }
    }
    if man.platforms.contains(&Platform::Telegram) {
        match &man.telegram {
            None => report(
                "/platforms".into(),
                "building for Telegram needs `telegram.bot_username` (set names end in `_by_<bot>`)".into(),
            ),
            Some(t) => {
                let name = &t.bot_username;
                let ok = (5..=32).contains(&name.len())
                    && name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.contains("__")
                    && name.to_ascii_lowercase().ends_with("bot");
                if !ok {
                    report(
                        "/telegram/bot_username".into(),
                        "a Telegram bot username: 5 to 32 letters, digits and single `_`, starting with a letter and ending in `bot`".into(),
                    );
                }
            }
        }
    }
    if man.stickers.is_empty() {
        report(
            "/stickers".into(),
            "a pack needs at least one sticker".into(),
        );
    }
    check_counts(man, report);
    check_settings(&man.defaults, "/defaults", report);
    if man.defaults.style == Some(Style::Still) {
        report("/defaults/style".into(), STILL_IN_A_PACK.into());
    }
    for (i, s) in man.stickers.iter().enumerate() {
        let at = format!("/stickers/{i}");
        let id_ok = !s.id.is_empty()
            && s.id.len() <= 64
            && s.id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            && !s.id.starts_with('-');
        if !id_ok {
            report(
                format!("{at}/id"),
                format!(
                    "`{}` is not a sticker id: use 1–64 lower-case letters, digits, `_` and `-` (it names files)",
                    s.id
                ),
            );
        }
        if man.stickers[..i].iter().any(|o| o.id == s.id) {
            report(
                format!("{at}/id"),
                format!("the id `{}` is used by an earlier sticker", s.id),
            );
        }
        if !(1..=3).contains(&s.emojis.len()) {
            report(
                format!("{at}/emojis"),
                format!("give 1 to 3 emojis (has {})", s.emojis.len()),
            );
        }
        for (k, e) in s.emojis.iter().enumerate() {
            if emojis::get(e).is_none() {
                report(
                    format!("{at}/emojis/{k}"),
                    format!("`{e}` is not a single emoji"),
                );
            }
        }
        for (k, word) in s.keywords.iter().enumerate() {
            if word.trim().is_empty() {
                report(
                    format!("{at}/keywords/{k}"),
                    "a keyword cannot be empty".into(),
                );
            }
        }
        let keyword_chars: usize = s.keywords.iter().map(|k| k.chars().count()).sum();
        if man.platforms.contains(&Platform::Telegram)
            && (s.keywords.len() > TELEGRAM_MAX_KEYWORDS || keyword_chars > TELEGRAM_KEYWORD_CHARS)
        {
            report(
                format!("{at}/keywords"),
                format!(
                    "Telegram takes up to {TELEGRAM_MAX_KEYWORDS} keywords of {TELEGRAM_KEYWORD_CHARS} characters in all (has {} of {keyword_chars}); keep the ones people search for",
                    s.keywords.len()
                ),
            );
        }
        if let Some(alt) = &s.alt
            && alt.chars().count() > 255
        {
            report(
                format!("{at}/alt"),
                "accessibility text is limited to 255 characters".into(),
            );
        }
        if let Some(c) = &s.cover {
            check_image(m, c, &format!("{at}/cover"), report);
        }
        // Discord names come from the title, or the id when the title is too short (bundles.rs).
        let long_enough = |t: &str| t.chars().count() >= 2;
        if man.platforms.contains(&Platform::Discord)
            && !s.title.as_deref().is_some_and(long_enough)
            && !long_enough(&s.id)
        {
            let field = if s.title.is_some() { "title" } else { "id" };
            report(
                format!("{at}/{field}"),
                "Discord names stickers and sounds with 2 to 30 characters; give a `title` of at least 2".into(),
            );
        }
        if s.settings.style == Some(Style::Still) {
            report(format!("{at}/settings/style"), STILL_IN_A_PACK.into());
        }
        check_settings(&s.settings, &format!("{at}/settings"), report);
        check_range(m, s, &at, report);
    }
}

/// Each platform's rule on how many stickers a pack holds (a Telegram set at most 120, ...), so that
/// a list too long is refused before hours of rendering.
fn check_counts(man: &Manifest, report: &mut dyn FnMut(String, String)) {
    let n = man.stickers.len();
    if n == 0 {
        // Reported once above, whatever the platforms.
        return;
    }
    for p in &man.platforms {
        let rules = p.pack_rules();
        let (title, unit) = (rules.title, rules.unit);
        if n < rules.min_stickers {
            report(
                "/stickers".into(),
                format!(
                    "{title} {unit}s need at least {} stickers (has {n})",
                    rules.min_stickers
                ),
            );
        }
        if let Some(max) = rules.max_stickers
            && n > max
            && !rules.splits
        {
            report(
                "/stickers".into(),
                format!(
                    "{n} stickers, but a {title} {unit} holds at most {max}; remove some, or split them into several manifests"
                ),
            );
        }
    }
}

fn check_image(
    m: &LoadedManifest,
    rel: &str,
    pointer: &str,
    report: &mut dyn FnMut(String, String),
) {
    let p = m.resolve(rel);
    if !p.is_file() {
        report(
            pointer.into(),
            format!(
                "{} not found (paths are relative to the manifest)",
                p.display()
            ),
        );
        return;
    }
    // Images are read to their header here, so that one the build could not use is reported with its
    // field rather than after the encoding has started.
    let header = image::ImageReader::open(&p)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| e.to_string())
        .and_then(|r| r.into_dimensions().map_err(|e| e.to_string()));
    if let Err(e) = header {
        report(
            pointer.into(),
            format!(
                "{} is not an image soundsticker reads (PNG, JPEG, WebP, GIF, BMP): {e}",
                p.display()
            ),
        );
    }
}

fn check_settings(s: &StickerSettings, at: &str, report: &mut dyn FnMut(String, String)) {
    if let Some(l) = s.loudness
        && !(-70.0..=0.0).contains(&l)
    {
        report(
            format!("{at}/loudness"),
            format!("{l} LUFS is outside −70..0"),
        );
    }
    if let Some(t) = s.true_peak
        && !(-20.0..=0.0).contains(&t)
    {
        report(
            format!("{at}/true_peak"),
            format!("{t} dBTP is outside −20..0"),
        );
    }
    if let Some(b) = s.bitrate
        && !(6_000..=510_000).contains(&b.bps())
    {
        report(
            format!("{at}/bitrate"),
            format!(
                "{} bit/s is outside what Opus encodes (6k to 510k)",
                b.bps()
            ),
        );
    }
    if let Some(f) = s.fps
        && !(1.0..=60.0).contains(&f)
    {
        report(format!("{at}/fps"), format!("{f} fps is outside 1..60"));
    }
    if let Some(q) = s.quality
        && !(0.0..=100.0).contains(&q)
    {
        report(format!("{at}/quality"), format!("{q} is outside 0..100"));
    }
    if let Some(e) = s.enough_ssim
        && !(e > 0.0 && e <= 1.0)
    {
        report(
            format!("{at}/enough_ssim"),
            format!("{e} is outside 0..1 (1 fills each byte cap)"),
        );
    }
    if let Some(e) = s.effort
        && !(0..=6).contains(&e)
    {
        report(format!("{at}/effort"), format!("{e} is outside 0..6"));
    }
}

/// The range is not empty, and it lies inside the master (read from its header).
fn check_range(m: &LoadedManifest, s: &Sticker, at: &str, report: &mut dyn FnMut(String, String)) {
    let (start, end, duration) = (s.start, s.end, s.duration);
    if s.end.is_some() && s.duration.is_some() {
        report(
            format!("{at}/duration"),
            "give `end` or `duration`, not both".into(),
        );
    }
    if s.end.is_none() && s.duration.is_none() {
        report(at.into(), "give the clip's `end` or `duration`".into());
    }
    let master = m.resolve(&s.master);
    if !master.is_file() {
        report(
            format!("{at}/master"),
            format!(
                "{} not found (paths are relative to the manifest)",
                master.display()
            ),
        );
        return;
    }
    let end = match (end, duration) {
        (Some(e), _) => e,
        (None, Some(d)) => Timecode::from_nanos(start.as_nanos().saturating_add(d.as_nanos())),
        _ => return,
    };
    if end <= start {
        report(
            format!("{at}/{}", if s.end.is_some() { "end" } else { "duration" }),
            "the clip is empty: end must be after start".into(),
        );
        return;
    }
    match Source::open(&master) {
        Err(e) => report(format!("{at}/master"), e.to_string()),
        Ok(src) => {
            let info = src.info();
            if let Some(total) = info.declared_frames {
                let len = Timecode::from_frames(total, info.rate);
                if start.to_frames(info.rate) >= total {
                    report(
                        format!("{at}/start"),
                        format!("{start} is beyond the end of {} ({len})", s.master),
                    );
                } else if end.to_frames(info.rate) > total {
                    let field = if s.end.is_some() { "end" } else { "duration" };
                    report(
                        format!("{at}/{field}"),
                        format!(
                            "the clip ends at {end}, after the end of {} ({len})",
                            s.master
                        ),
                    );
                }
            }
        }
    }
}
