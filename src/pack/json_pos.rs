//! Where JSON pointers' values start in the source text, as line:column, so manifest errors found
//! after parsing can point into the file. Hand-written: serde_json keeps no spans, and a spanned JSON
//! crate would replace serde_json everywhere for this one lookup.
//!
//! One pass over the text finds every pointer asked for, so a manifest with many problems costs no
//! more than one scan. The scanner never recurses and keeps state only for the containers on the way
//! to a pointer asked for (others are skipped with a counter), so any text, however deep or damaged,
//! costs time linear in its length and memory bounded by the pointers: it is safe on arbitrary input
//! (the fuzz target is [`locate_all`]). On text that is not JSON it finds what it can and stops.

use std::collections::{HashMap, HashSet};

/// 1-based (line, column) in `text` of the value at each of `pointers` (e.g. `/stickers/2/emojis`),
/// where found, in one pass over `text`. Pointers are compared in their escaped form (`~0` for `~`,
/// `~1` for `/` in a key); columns count characters, not bytes.
pub(crate) fn locate_all(text: &str, pointers: &[&str]) -> Vec<Option<(usize, usize)>> {
    let mut found = vec![None; pointers.len()];
    let mut wanted: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut prefixes: HashSet<&str> = HashSet::new();
    for (i, p) in pointers.iter().enumerate() {
        wanted.entry(p).or_default().push(i);
        let mut rest = *p;
        while let Some(cut) = rest.rfind('/') {
            rest = &rest[..cut];
            prefixes.insert(rest);
        }
    }
    let mut scan = Scanner {
        b: text.as_bytes(),
        text,
        i: 0,
        line: 1,
        col: 1,
    };
    let mut record = |path: &str, at: (usize, usize)| {
        if let Some(list) = wanted.get(path) {
            for &k in list {
                found[k].get_or_insert(at);
            }
        }
    };
    // The containers being walked into: each is on the way to some wanted pointer.
    let mut stack: Vec<Frame> = Vec::new();
    let mut path = String::new();
    scan.skip_ws();
    // At a value whose pointer is `path` (its container, if any, is on the way to a wanted pointer).
    let mut at_value = true;
    loop {
        if at_value {
            at_value = false;
            record(&path, (scan.line, scan.col));
            match scan.peek() {
                // On the way to a wanted pointer: walk in.
                Some(open @ (b'{' | b'[')) if prefixes.contains(path.as_str()) => {
                    scan.bump();
                    stack.push(Frame {
                        object: open == b'{',
                        len: path.len(),
                        index: 0,
                    });
                    scan.skip_ws();
                    match scan.peek() {
                        Some(b'}' | b']') => {
                            scan.bump();
                            stack.pop();
                        }
                        Some(_) => {
                            if !enter_item(&mut scan, &mut stack, &mut path) {
                                break;
                            }
                            at_value = true;
                            continue;
                        }
                        None => break,
                    }
                }
                Some(_) => {
                    if !scan.skip_value() {
                        break;
                    }
                }
                None => break,
            }
        }
        // After a value inside the innermost frame (or at the top level).
        let Some(frame) = stack.last_mut() else {
            break;
        };
        path.truncate(frame.len);
        scan.skip_ws();
        match scan.peek() {
            Some(b',') => {
                scan.bump();
                scan.skip_ws();
                frame.index += 1;
                if !enter_item(&mut scan, &mut stack, &mut path) {
                    break;
                }
                at_value = true;
            }
            Some(b'}' | b']') => {
                scan.bump();
                stack.pop();
            }
            _ => break,
        }
    }
    found
}

/// A container on the way to a wanted pointer.
struct Frame {
    object: bool,
    /// Length of `path` at the container itself.
    len: usize,
    /// Index of the current element (arrays).
    index: usize,
}

/// At the start of the next member (key) or element of the innermost frame: extend `path` with its
/// token and move to its value. False when the text is not JSON there.
fn enter_item(scan: &mut Scanner, stack: &mut [Frame], path: &mut String) -> bool {
    let Some(frame) = stack.last() else {
        return false;
    };
    path.push('/');
    if !frame.object {
        path.push_str(&frame.index.to_string());
        return true;
    }
    if scan.peek() != Some(b'"') {
        return false;
    }
    let start = scan.i;
    if !scan.skip_string() {
        return false;
    }
    let raw = &scan.text[start..scan.i];
    let key = if raw.contains('\\') {
        match serde_json::from_str::<String>(raw) {
            Ok(k) => k,
            Err(_) => return false,
        }
    } else {
        raw[1..raw.len() - 1].to_string()
    };
    path.push_str(&key.replace('~', "~0").replace('/', "~1"));
    scan.skip_ws();
    if scan.peek() != Some(b':') {
        return false;
    }
    scan.bump();
    scan.skip_ws();
    true
}

/// A cursor over the text that keeps the line and column (in characters) of its position.
struct Scanner<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
    line: usize,
    col: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn bump(&mut self) {
        let Some(&c) = self.b.get(self.i) else {
            return;
        };
        self.i += 1;
        if c == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if c & 0xC0 != 0x80 {
            // The first byte of a character (UTF-8 continuation bytes are 10xxxxxx).
            self.col += 1;
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.bump();
        }
    }

    /// Past the string starting here (at its `"`); false if it never ends.
    fn skip_string(&mut self) -> bool {
        self.bump();
        while let Some(c) = self.peek() {
            self.bump();
            match c {
                b'\\' => self.bump(),
                b'"' => return true,
                _ => {}
            }
        }
        false
    }

    /// Past the value starting here, without looking inside; false if the text ends first.
    fn skip_value(&mut self) -> bool {
        match self.peek() {
            None => false,
            Some(b'"') => self.skip_string(),
            Some(b'{' | b'[') => {
                let mut depth: u64 = 0;
                while let Some(c) = self.peek() {
                    match c {
                        b'"' => {
                            if !self.skip_string() {
                                return false;
                            }
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                self.bump();
                                return true;
                            }
                        }
                        _ => {}
                    }
                    self.bump();
                }
                false
            }
            Some(_) => {
                let start = self.i;
                while self.peek().is_some_and(|c| {
                    !matches!(c, b',' | b'}' | b']' | b':') && !c.is_ascii_whitespace()
                }) {
                    self.bump();
                }
                // A stray closing bracket or colon where a value should be: not JSON.
                self.i > start
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
        locate_all(text, &[pointer]).pop().flatten()
    }

    #[test]
    fn finds_nested_values() {
        let text =
            "{\n  \"a\": 1,\n  \"list\": [\n    {\"x\": \"}\"},\n    {\"x\": [1, 2]}\n  ]\n}";
        assert_eq!(locate(text, "/a"), Some((2, 8)));
        assert_eq!(locate(text, "/list/1/x"), Some((5, 11)));
        assert_eq!(locate(text, "/list/0/x"), Some((4, 11)));
        assert_eq!(locate(text, "/list/1/x/1"), Some((5, 15)));
        assert_eq!(locate(text, "/missing"), None);
        assert_eq!(locate(text, "/list/2"), None);
        assert_eq!(locate(text, ""), Some((1, 1)));
        assert_eq!(
            locate_all(text, &["/list/1/x", "/a", "/nope", "/a"]),
            [Some((5, 11)), Some((2, 8)), None, Some((2, 8))]
        );
    }

    #[test]
    fn keys_are_compared_unescaped_and_columns_count_characters() {
        let text = r#"{"é": {"a/b": 1, "t\u007e": [true, "ü", 3]}}"#;
        assert_eq!(locate(text, "/é/a~1b"), Some((1, 15)));
        assert_eq!(locate(text, "/é/t~0/1"), Some((1, 36)));
        assert_eq!(locate(text, "/é/t~0/2"), Some((1, 41)));
    }

    /// Damaged or hostile text: no panic, time linear in the length, and what can be found is.
    #[test]
    fn survives_any_text() {
        let deep = "[".repeat(1_000_000);
        assert_eq!(locate(&deep, "/0/0"), Some((1, 3)));
        assert_eq!(locate(&deep, "/1"), None);
        let closing = "]".repeat(100_000);
        assert_eq!(locate(&closing, "/0"), None);
        let start = std::time::Instant::now();
        let wide = format!("[{}0]", "0,".repeat(1_000_000));
        let pointers: Vec<String> = (0..1000).map(|i| format!("/{}", i * 997)).collect();
        let refs: Vec<&str> = pointers.iter().map(String::as_str).collect();
        let found = locate_all(&wide, &refs);
        assert!(found.iter().all(Option::is_some));
        assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
        for text in [
            "{\"a\"é}",
            "{\"a\":",
            "{\"a\"",
            "{\"a\\",
            "{\"\\u12\": 1}",
            "[1,",
            "{,}",
            "{\"a\": 1 \"b\": 2}",
            "\u{feff}{\"a\": 1}",
            "[\"\\",
            "é",
            "",
            "}",
            "[:]",
        ] {
            for p in ["", "/a", "/0", "/a/0", "/b"] {
                let _ = locate(text, p);
            }
        }
    }
}
