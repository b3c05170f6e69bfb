//! Limits applied while a manifest is parsed (`#[serde(deserialize_with = ...)]` on its fields): a list
//! longer than its limit is refused at the element past it, without reading the rest, and a text
//! longer than `MAX_TEXT_CHARS` as soon as it is read. The error carries serde_json's line:column and
//! serde_path_to_error's JSON pointer, like every other parse error. The JSON Schema is unchanged
//! (schemars ignores `deserialize_with`).

use super::Sticker;
use crate::limits::{MAX_KEYWORDS, MAX_STICKERS, MAX_TEXT_CHARS};
use serde::de::{Deserialize, Deserializer, Error, SeqAccess, Visitor};
use std::marker::PhantomData;

/// A text field of at most [`MAX_TEXT_CHARS`] characters.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() > MAX_TEXT_CHARS {
            let n = s.chars().count();
            if n > MAX_TEXT_CHARS {
                return Err(D::Error::custom(format!(
                    "{n} characters; a text field of a manifest holds at most {MAX_TEXT_CHARS}"
                )));
            }
        }
        Ok(Text(s))
    }
}

/// A list of at most `max` items, refused at the item past it.
struct Bounded<T> {
    max: usize,
    /// What the list holds, and where the limit applies ("keywords or emojis on a sticker").
    what: &'static str,
    item: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Bounded<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a list of at most {} {}", self.max, self.what)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        // The length the input claims is not trusted: the list grows as its items arrive.
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            if items.len() == self.max {
                return Err(A::Error::custom(format!(
                    "more than {} items; at most {} {}",
                    self.max, self.max, self.what
                )));
            }
            items.push(item);
        }
        Ok(items)
    }
}

fn bounded<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    max: usize,
    what: &'static str,
) -> Result<Vec<T>, D::Error> {
    d.deserialize_seq(Bounded {
        max,
        what,
        item: PhantomData,
    })
}

/// A text field.
pub(super) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Text::deserialize(d).map(|t| t.0)
}

/// An optional text field.
pub(super) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<Text>::deserialize(d).map(|t| t.map(|t| t.0))
}

/// A sticker's keywords or emojis: at most [`MAX_KEYWORDS`] texts.
pub(super) fn words<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list: Vec<Text> = bounded(d, MAX_KEYWORDS, "keywords or emojis on a sticker")?;
    Ok(list.into_iter().map(|t| t.0).collect())
}

/// The stickers: at most [`MAX_STICKERS`].
pub(super) fn stickers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Sticker>, D::Error> {
    bounded(
        d,
        MAX_STICKERS,
        "stickers in a manifest (split the pack into several manifests)",
    )
}
