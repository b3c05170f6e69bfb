//! Timecodes as users type them (`83.5`, `1:23.5`, `01:23.500`, `83500ms`), kept exact to the nanosecond.

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// A non-negative point or length in time, exact to the nanosecond.
///
/// ```
/// use soundsticker::Timecode;
/// let t: Timecode = "1:23.5".parse().unwrap();
/// assert_eq!(t.to_frames(44_100), 3_682_350);
/// assert_eq!(t, "83500ms".parse().unwrap());
/// assert_eq!(t.to_string(), "01:23.500");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timecode {
    nanos: u64,
}

const NANOS_PER_SEC: u64 = 1_000_000_000;

impl Timecode {
    /// From a count of nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        Timecode { nanos }
    }

    /// From whole milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Timecode {
            nanos: ms * 1_000_000,
        }
    }

    /// From a number of frames at `rate` Hz (rounded to the nearest nanosecond). Total: a time past
    /// the longest timecode saturates to it, and so does any frame at a rate of 0 Hz (which no
    /// opened master has) rather than dividing by zero.
    pub fn from_frames(frames: u64, rate: u32) -> Self {
        let nanos = (u128::from(frames) * u128::from(NANOS_PER_SEC) + u128::from(rate) / 2)
            .checked_div(u128::from(rate))
            .unwrap_or(if frames == 0 { 0 } else { u128::MAX });
        Timecode {
            nanos: u64::try_from(nanos).unwrap_or(u64::MAX),
        }
    }

    /// Nanoseconds.
    pub fn as_nanos(self) -> u64 {
        self.nanos
    }

    /// Seconds as a float, for display and arithmetic that tolerates rounding.
    pub fn as_secs_f64(self) -> f64 {
        self.nanos as f64 / NANOS_PER_SEC as f64
    }

    /// The frame index at `rate` Hz nearest to this time (exact for any timecode typed to the sample).
    /// Total: cannot overflow (the product is taken in 128 bits) and saturates to `u64::MAX`.
    pub fn to_frames(self, rate: u32) -> u64 {
        let frames = (u128::from(self.nanos) * u128::from(rate) + u128::from(NANOS_PER_SEC) / 2)
            / u128::from(NANOS_PER_SEC);
        u64::try_from(frames).unwrap_or(u64::MAX)
    }

    /// Parse, naming `field` (e.g. `--start`) in the error.
    pub fn parse_field(text: &str, field: &str) -> Result<Self> {
        parse_explained(text).map_err(|detail| Error::invalid(field, detail))
    }

    /// The shortest usual way to type this time: whole seconds as `4`, under a second as `10ms`,
    /// anything else as [`Timecode::to_exact_string`] (for showing defaults).
    pub fn to_short_string(self) -> String {
        if self.nanos.is_multiple_of(NANOS_PER_SEC) {
            format!("{}", self.nanos / NANOS_PER_SEC)
        } else if self.nanos < NANOS_PER_SEC && self.nanos.is_multiple_of(1_000_000) {
            format!("{}ms", self.nanos / 1_000_000)
        } else {
            self.to_exact_string()
        }
    }

    /// Exact text for this time: the clock form where it is exact to the millisecond, else decimal
    /// seconds to the nanosecond (what serialisation writes, so a manifest round-trips unchanged).
    pub fn to_exact_string(self) -> String {
        if self.nanos.is_multiple_of(1_000_000) {
            return self.to_string();
        }
        let secs = format!(
            "{}.{:09}",
            self.nanos / NANOS_PER_SEC,
            self.nanos % NANOS_PER_SEC
        );
        secs.trim_end_matches('0').to_string()
    }
}

/// Parse, with the whole message (what was written, why it is not a timecode, what to write).
fn parse_explained(text: &str) -> Result<Timecode, String> {
    parse(text).map_err(|why| {
        format!("`{text}` is not a timecode ({why}); write e.g. 83.5, 1:23.5, 01:23.500 or 83500ms")
    })
}

impl serde::Serialize for Timecode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_exact_string())
    }
}

impl<'de> serde::Deserialize<'de> for Timecode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::typed_str::deserialize(deserializer, "a timecode such as 1:23.5", parse_explained)
    }
}

impl schemars::JsonSchema for Timecode {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timecode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

impl FromStr for Timecode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse(s)
    }
}

impl fmt::Display for Timecode {
    /// `HH:MM:SS.mmm`, or `MM:SS.mmm` under an hour (milliseconds rounded).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms_total = self.nanos / 1_000_000 + u64::from(self.nanos % 1_000_000 >= 500_000);
        let (h, rem) = (ms_total / 3_600_000, ms_total % 3_600_000);
        let (m, rem) = (rem / 60_000, rem % 60_000);
        let (s, ms) = (rem / 1000, rem % 1000);
        if h > 0 {
            write!(f, "{h:02}:{m:02}:{s:02}.{ms:03}")
        } else {
            write!(f, "{m:02}:{s:02}.{ms:03}")
        }
    }
}

/// Parse a decimal number of seconds with up to nine fractional digits into nanoseconds.
fn parse_decimal_seconds(s: &str) -> Result<u64, String> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return Err("empty number".into());
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err("only digits, `:` and one `.` are allowed".into());
    }
    if frac.len() > 9 {
        return Err("more than nine decimal places".into());
    }
    let whole: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| "number too large".to_string())?
    };
    let mut frac_nanos: u64 = 0;
    for (i, c) in frac.chars().enumerate() {
        frac_nanos += u64::from(c as u8 - b'0') * 10u64.pow(8 - i as u32);
    }
    whole
        .checked_mul(NANOS_PER_SEC)
        .and_then(|n| n.checked_add(frac_nanos))
        .ok_or_else(|| "number too large".to_string())
}

fn parse(text: &str) -> Result<Timecode, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty".into());
    }
    if s.starts_with('-') {
        return Err("negative times are not allowed".into());
    }
    if let Some(ms) = s.strip_suffix("ms") {
        let nanos = parse_decimal_seconds(ms.trim())?;
        // `nanos` holds the value as if it were seconds; scale down to milliseconds.
        if nanos % 1_000 != 0 {
            return Err("milliseconds with more than six decimal places".into());
        }
        return Ok(Timecode::from_nanos(nanos / 1_000));
    }
    let s = s.strip_suffix('s').unwrap_or(s);
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 3 {
        return Err("too many `:` parts (at most HH:MM:SS.sss)".into());
    }
    let (last, leading) = parts.split_last().ok_or("empty")?;
    let seconds = parse_decimal_seconds(last)?;
    if !leading.is_empty() && seconds >= 60 * NANOS_PER_SEC {
        return Err("seconds must be below 60 after a `:`".into());
    }
    let mut total = seconds;
    for (i, p) in leading.iter().rev().enumerate() {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("`{p}` is not a whole number of minutes or hours"));
        }
        let v: u64 = p.parse().map_err(|_| "number too large".to_string())?;
        if i == 0 && leading.len() == 2 && v >= 60 {
            return Err("minutes must be below 60 after hours".into());
        }
        let unit = if i == 0 { 60 } else { 3600 };
        total = v
            .checked_mul(unit * NANOS_PER_SEC)
            .and_then(|n| n.checked_add(total))
            .ok_or("number too large")?;
    }
    Ok(Timecode::from_nanos(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc(s: &str) -> u64 {
        s.parse::<Timecode>().unwrap().as_nanos()
    }

    #[test]
    fn accepts_every_documented_form() {
        assert_eq!(tc("83.5"), 83_500_000_000);
        assert_eq!(tc("1:23.5"), 83_500_000_000);
        assert_eq!(tc("01:23.500"), 83_500_000_000);
        assert_eq!(tc("83500ms"), 83_500_000_000);
        assert_eq!(tc("1:02:03.25"), 3_723_250_000_000);
        assert_eq!(tc("4s"), 4_000_000_000);
        assert_eq!(tc(".5"), 500_000_000);
        assert_eq!(tc("0.000000001"), 1);
        assert_eq!(tc("12.5ms"), 12_500_000);
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            "",
            "-1",
            "1:60",
            "1:2:3:4",
            "abc",
            "1..2",
            "1:60:00",
            "0.0000000001",
            "1e3",
            ":5",
        ] {
            assert!(bad.parse::<Timecode>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn converts_to_exact_frames() {
        assert_eq!(tc("83.5").to_frames_checked(44_100), 3_682_350);
        let t = Timecode::from_frames(3_682_350, 44_100);
        assert_eq!(t.to_frames(44_100), 3_682_350);
        assert_eq!(Timecode::from_millis(1).to_frames(48_000), 48);
    }

    /// Frame arithmetic is total: no rate, frame count or time panics or wraps.
    #[test]
    fn frame_arithmetic_is_total() {
        assert_eq!(Timecode::from_frames(0, 0), Timecode::from_nanos(0));
        assert_eq!(Timecode::from_frames(1, 0), Timecode::from_nanos(u64::MAX));
        assert_eq!(
            Timecode::from_frames(u64::MAX, 1),
            Timecode::from_nanos(u64::MAX)
        );
        assert_eq!(
            Timecode::from_frames(u64::MAX, u32::MAX).as_nanos(),
            4_294_967_297_000_000_000
        );
        assert_eq!(Timecode::from_nanos(u64::MAX).to_frames(0), 0);
        assert_eq!(Timecode::from_nanos(u64::MAX).to_frames(u32::MAX), u64::MAX);
    }

    #[test]
    fn serialises_exactly_and_explains_bad_values() {
        for (text, json) in [("83.5", "\"01:23.500\""), ("19.2851234", "\"19.2851234\"")] {
            let t: Timecode = text.parse().expect("timecode");
            assert_eq!(serde_json::to_string(&t).expect("json"), json);
            let back: Timecode = serde_json::from_str(json).expect("parse");
            assert_eq!(back, t);
        }
        let err = serde_json::from_str::<Timecode>("\"1:60\"").expect_err("bad");
        assert!(
            err.to_string().contains("`1:60` is not a timecode"),
            "{err}"
        );
        let err = serde_json::from_str::<Timecode>("5").expect_err("a number");
        assert!(
            err.to_string().contains("a timecode such as 1:23.5"),
            "{err}"
        );
    }

    #[test]
    fn short_strings_parse_back() {
        for (ms, short) in [(0, "0"), (10, "10ms"), (4_000, "4"), (1_500, "00:01.500")] {
            let t = Timecode::from_millis(ms);
            assert_eq!(t.to_short_string(), short);
            assert_eq!(short.parse::<Timecode>(), Ok(t));
        }
    }

    #[test]
    fn displays_as_clock() {
        assert_eq!(Timecode::from_millis(83_500).to_string(), "01:23.500");
        // The longest time shows as itself (rounding to the millisecond once wrapped it to zero).
        assert_eq!(
            Timecode::from_nanos(u64::MAX).to_string(),
            "5124095:34:33.710"
        );
        assert_eq!(Timecode::from_millis(3_723_250).to_string(), "01:02:03.250");
    }

    trait Frames {
        fn to_frames_checked(self, rate: u32) -> u64;
    }
    impl Frames for u64 {
        fn to_frames_checked(self, rate: u32) -> u64 {
            Timecode::from_nanos(self).to_frames(rate)
        }
    }
}
