//! The Vorbis comment block that OpusTags carries (RFC 7845 §5.2): reading and writing.
//!
//! Written by hand: it is a dozen lines of length-prefixed strings, and no maintained crate writes the
//! Opus flavour (with the `OpusTags` magic) without pulling in a whole tagging library.

/// The vendor string and `KEY=value` comments of an OpusTags packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Comments {
    /// The vendor string (the encoder's name).
    pub vendor: String,
    /// `KEY=value` comments as (key, value) pairs, in file order.
    pub entries: Vec<(String, String)>,
}

const MAGIC: &[u8; 8] = b"OpusTags";

impl Comments {
    /// Serialise as an OpusTags packet.
    pub fn to_opus_tags(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(MAGIC);
        push_str(&mut out, self.vendor.as_bytes());
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for (k, v) in &self.entries {
            let mut entry = Vec::with_capacity(k.len() + 1 + v.len());
            entry.extend_from_slice(k.as_bytes());
            entry.push(b'=');
            entry.extend_from_slice(v.as_bytes());
            push_str(&mut out, &entry);
        }
        out
    }

    /// Parse an OpusTags packet; `None` if it is malformed.
    pub fn from_opus_tags(packet: &[u8]) -> Option<Comments> {
        let rest = packet.strip_prefix(MAGIC)?;
        let (vendor, mut rest) = take_str(rest)?;
        let count = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
        rest = &rest[4..];
        let mut entries = Vec::new();
        for _ in 0..count {
            let (entry, r) = take_str(rest)?;
            rest = r;
            let text = String::from_utf8_lossy(entry);
            if let Some((k, v)) = text.split_once('=') {
                entries.push((k.to_string(), v.to_string()));
            }
        }
        Some(Comments {
            vendor: String::from_utf8_lossy(vendor).into_owned(),
            entries,
        })
    }

    #[cfg(test)]
    /// The first value of `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

fn push_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s);
}

fn take_str(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_le_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let body = data.get(4..4 + len)?;
    Some((body, &data[4 + len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let c = Comments {
            vendor: "v".into(),
            entries: vec![("TITLE".into(), "Ünïcode = fine".into())],
        };
        let bytes = c.to_opus_tags();
        assert_eq!(&bytes[..8], b"OpusTags");
        let back = Comments::from_opus_tags(&bytes).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.get("title"), Some("Ünïcode = fine"));
    }

    #[test]
    fn rejects_truncated() {
        let bytes = Comments::default().to_opus_tags();
        assert!(Comments::from_opus_tags(&bytes[..bytes.len() - 1]).is_none());
    }
}
