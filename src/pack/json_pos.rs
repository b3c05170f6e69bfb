//! Where a JSON pointer's value starts in the source text, as line:column, so manifest errors found
//! after parsing can point into the file. Hand-written: serde_json keeps no spans, and a spanned JSON
//! crate would replace serde_json everywhere for this one lookup.

/// 1-based (line, column) of the value at `pointer` (e.g. `/stickers/2/emojis`) in `text`, if found.
pub fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    for token in &tokens {
        pos = match bytes.get(pos)? {
            b'{' => find_member(bytes, pos, token)?,
            b'[' => find_element(bytes, pos, token.parse().ok()?)?,
            _ => return None,
        };
    }
    Some(line_col(text, pos))
}

fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// End of the string starting at `i` (which holds `"`), and its raw contents.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// Index just past the value starting at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0i32;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace()
            {
                j += 1;
            }
            Some(j)
        }
    }
}

fn find_member(b: &[u8], open: usize, key: &str) -> Option<usize> {
    let mut i = skip_ws(b, open + 1);
    while i < b.len() && b[i] != b'}' {
        let key_end = string_end(b, i)?;
        let raw = std::str::from_utf8(&b[i + 1..key_end - 1]).ok()?;
        let name: String = serde_json::from_str(&format!("\"{raw}\"")).ok()?;
        let colon = skip_ws(b, key_end);
        let value = skip_ws(b, colon + 1);
        if name == key {
            return Some(value);
        }
        i = skip_ws(b, value_end(b, value)?);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
    }
    None
}

fn find_element(b: &[u8], open: usize, index: usize) -> Option<usize> {
    let mut i = skip_ws(b, open + 1);
    let mut n = 0;
    while i < b.len() && b[i] != b']' {
        if n == index {
            return Some(i);
        }
        i = skip_ws(b, value_end(b, i)?);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        n += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let text =
            "{\n  \"a\": 1,\n  \"list\": [\n    {\"x\": \"}\"},\n    {\"x\": [1, 2]}\n  ]\n}";
        assert_eq!(locate(text, "/a"), Some((2, 8)));
        assert_eq!(locate(text, "/list/1/x"), Some((5, 11)));
        assert_eq!(locate(text, "/list/0/x"), Some((4, 11)));
        assert_eq!(locate(text, "/missing"), None);
        assert_eq!(locate(text, ""), Some((1, 1)));
    }
}
