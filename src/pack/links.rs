//! Web links and e-mail addresses as the platforms accept them: WhatsApp's sample apps refuse a pack
//! whose links are not http(s) URLs (store links must be on the store's own host) or whose publisher
//! e-mail does not match Android's `Patterns.EMAIL_ADDRESS` (`StickerPackValidator.java`).

/// The host of `text` if it is an http or https URL as WhatsApp's validator accepts one: it parses
/// (`java.net.URL`; here the url crate) and starts with `http://` or `https://` in any case
/// (`URLUtil.isHttpUrl` / `isHttpsUrl`).
pub fn http_host(text: &str) -> Option<String> {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return None;
    }
    let url = url::Url::parse(text).ok()?;
    url.host_str().filter(|h| !h.is_empty()).map(str::to_owned)
}

/// Whether `text` is an e-mail address by Android's `Patterns.EMAIL_ADDRESS`, which WhatsApp's
/// validator applies: 1–256 of `A-Za-z0-9+._%-`, `@`, a label of 1–65 of `A-Za-z0-9-` starting with a
/// letter or digit, then one or more `.` labels of 1–26 such characters. Written here because the
/// e-mail crates check RFC 5322, which accepts addresses this pattern (and so WhatsApp) refuses.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let local_ok = (1..=256).contains(&local.len())
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+._%-".contains(c));
    let label_ok = |label: &str, max: usize| {
        (1..=max).contains(&label.len())
            && label.starts_with(|c: char| c.is_ascii_alphanumeric())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let mut labels = domain.split('.');
    let first_ok = labels.next().is_some_and(|l| label_ok(l, 65));
    let rest: Vec<&str> = labels.collect();
    local_ok && first_ok && !rest.is_empty() && rest.iter().all(|l| label_ok(l, 26))
}

/// What is wrong with `text` as a web link (`None`: nothing).
pub fn link_problem(text: &str) -> Option<String> {
    if http_host(text).is_some() {
        None
    } else {
        Some(format!(
            "`{text}` is not a web link: give a full http:// or https:// URL"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_http_urls_with_a_host() {
        assert_eq!(
            http_host("https://label.example/stickers").as_deref(),
            Some("label.example")
        );
        assert_eq!(
            http_host("HTTP://Label.Example:8080/").as_deref(),
            Some("label.example")
        );
        assert_eq!(
            http_host("https://user@play.google.com/store").as_deref(),
            Some("play.google.com")
        );
        for bad in [
            "",
            "label.example",
            "www.label.example/stickers",
            "ftp://label.example/",
            "http:label.example",
            "mailto:a@b.example",
            "https://",
            "https://exa mple.com/",
        ] {
            assert_eq!(http_host(bad), None, "{bad:?}");
            assert!(link_problem(bad).is_some(), "{bad:?}");
        }
        assert_eq!(link_problem("https://label.example"), None);
    }

    #[test]
    fn e_mail_follows_androids_pattern() {
        for good in [
            "press@label.example",
            "a.b+c_d%e-f@mail-1.label.co",
            "x@y.z",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "",
            "press",
            "press@label",
            "@label.example",
            "press@.example",
            "press@label..example",
            "press@label.example.",
            "pr ess@label.example",
            "press@-label.example",
            "press@label_x.example",
            "\"q\"@label.example",
            "press@label.example@x.y",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
