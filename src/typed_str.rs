//! Serde glue for values written as strings and parsed by our own parsers (timecodes, bitrates): one
//! visitor, so a manifest's bad value reads the same for each, with the parser's own explanation.

use serde::Deserializer;
use serde::de::{Error, Visitor};
use std::fmt;

/// Deserialize a `T` from a string with `parse`, whose error is the whole message; `expecting` names
/// what is wanted (e.g. "a timecode such as 1:23.5") for values of another JSON type.
pub(crate) fn deserialize<'de, D, T>(
    deserializer: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct Parsed<T> {
        expecting: &'static str,
        parse: fn(&str) -> Result<T, String>,
    }

    impl<T> Visitor<'_> for Parsed<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }

        fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
            (self.parse)(v).map_err(E::custom)
        }
    }

    deserializer.deserialize_str(Parsed { expecting, parse })
}
