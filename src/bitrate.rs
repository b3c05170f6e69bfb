//! Bitrates as users type them (`64k`, `96000`, `0.5M`), in bits per second.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An audio bitrate in bits per second.
///
/// ```
/// use soundsticker::Bitrate;
/// let b: Bitrate = "96k".parse().unwrap();
/// assert_eq!(b.bps(), 96_000);
/// assert_eq!(b.to_string(), "96k");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bitrate(u32);

impl Bitrate {
    /// From bits per second.
    pub const fn from_bps(bps: u32) -> Self {
        Bitrate(bps)
    }

    /// Bits per second.
    pub const fn bps(self) -> u32 {
        self.0
    }
}

impl FromStr for Bitrate {
    type Err = String;

    /// `64k`, `96000` or `1.5M` (a positive number, optionally in thousands or millions).
    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        let (num, mult) = if let Some(n) = t.strip_suffix('k') {
            (n, 1_000.0)
        } else if let Some(n) = t.strip_suffix('m') {
            (n, 1_000_000.0)
        } else {
            (t.as_str(), 1.0)
        };
        let v: f64 = num
            .parse()
            .map_err(|_| format!("`{text}` is not a bitrate; write e.g. 64k or 96000"))?;
        if !(v.is_finite() && v > 0.0) {
            return Err(format!("`{text}` is not a positive bitrate"));
        }
        let bps = (v * mult).round();
        if bps > f64::from(u32::MAX) {
            return Err(format!(
                "`{text}` is too large a bitrate; write e.g. 64k or 96000"
            ));
        }
        Ok(Bitrate(bps as u32))
    }
}

impl fmt::Display for Bitrate {
    /// Whole thousands as `96k`, anything else in bit/s.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(1000) {
            write!(f, "{}k", self.0 / 1000)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl Serialize for Bitrate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Bitrate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::typed_str::deserialize(deserializer, "a bitrate such as 96k", str::parse)
    }
}

impl schemars::JsonSchema for Bitrate {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Bitrate".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bps(text: &str) -> Result<u32, String> {
        text.parse::<Bitrate>().map(Bitrate::bps)
    }

    #[test]
    fn bitrates() {
        assert_eq!(bps("64k"), Ok(64_000));
        assert_eq!(bps("96000"), Ok(96_000));
        assert_eq!(bps("0.5M"), Ok(500_000));
        assert!(bps("fast").is_err());
        assert!(bps("-5k").is_err());
        assert!(
            bps("1000000000000000000000").is_err(),
            "over u32: refused, not saturated"
        );
    }

    #[test]
    fn round_trips_through_json() {
        for text in ["96k", "12345"] {
            let b: Bitrate = serde_json::from_str(&format!("\"{text}\"")).expect("parse");
            assert_eq!(
                serde_json::to_string(&b).expect("json"),
                format!("\"{text}\"")
            );
        }
        let err = serde_json::from_str::<Bitrate>("\"fast\"").expect_err("not a bitrate");
        assert!(err.to_string().contains("`fast` is not a bitrate"), "{err}");
        let err = serde_json::from_str::<Bitrate>("96").expect_err("a number");
        assert!(err.to_string().contains("a bitrate such as 96k"), "{err}");
    }
}
