//! The stored form of a row's canonical text, as the SQL stores write it (a
//! state table's `val`, a log chunk's rows): storage, not algebra. It is the
//! canonical text with its first key's text left out (the key column holds
//! it), frequent pieces of the encoding replaced by one control character each
//! (tokens), and field names the store's dictionary holds replaced by a mark
//! and a one-character id. The TS store (`src/stores/sql.ts`, `compactText`)
//! defines the form and decodes it; this is the same transformation, byte for
//! byte, for whole batches, because scanning every character in JS is the
//! largest single cost of writing meter reads.
//!
//! Unlike the TS version this never adds to the dictionary: a name it lacks
//! and could still take is reported ([`UnknownName`]), and the caller then
//! encodes the batch in TS, which notes the name so that it is stored first.

use rustc_hash::FxHashMap;

use crate::batch::utf16_units;

/// Stands for the row's first key's text.
pub const KEY_MARK: u8 = 0x1f;
/// A dictionary name follows a comma, a brace, or stands alone (`,"name":`, `{"name":`, `"name":`).
const NAME_AFTER_COMMA: u8 = 0x13;
const NAME_AFTER_BRACE: u8 = 0x14;
const NAME_ALONE: u8 = 0x15;
/// Name ids are characters from this code on (after the control characters, so never marks).
const FIRST_ID_CHAR: u32 = 0x20;
/// Names shorter or longer than these are never taken into the dictionary.
const MIN_NAME_UNITS: usize = 2;
const MAX_NAME_UNITS: usize = 64;

const QUOTE: u8 = b'"';
const COMMA: u8 = b',';
const BRACE: u8 = b'{';
const BRACKET: u8 = b'[';
const BACKSLASH: u8 = b'\\';
const COLON: u8 = b':';

/// A name the dictionary lacks and could still take: the batch must be encoded by the TS store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownName;

/// The store's field-name dictionary: names (as they appear between quotes) and their ids.
#[derive(Debug, Default)]
pub struct Names {
    // Fx, not SipHash: a lookup per field name of every row, of short keys from our own dictionary.
    ids: FxHashMap<Vec<u8>, u32>,
    full: bool,
}

impl Names {
    /// Names with ids 0, 1, ...; `full`: the dictionary takes no more names.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a [u8]>, full: bool) -> Self {
        let ids = names.into_iter().enumerate().map(|(id, name)| (name.to_vec(), id as u32)).collect();
        Names { ids, full }
    }
}

/// Why a token list cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    TooMany,
    NotAscii,
    NamesNotFirst,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenError::TooMany => "at most 18 tokens (their marks end before the name marks)",
            TokenError::NotAscii => "tokens must be non-empty ASCII",
            TokenError::NamesNotFirst => {
                "tokens that spell a name must come first among those of their first character"
            }
        })
    }
}

/// Compacts canonical texts into the stored form.
#[derive(Debug)]
pub struct Compactor {
    /// Tokens (and their marks) by first byte, in list order.
    by_first: Vec<Vec<(Vec<u8>, u8)>>,
    /// How many of a first byte's tokens spell a field name (`{"left":`, `,"sum":`): tried before the dictionary.
    before_names: [u8; 128],
    names: Option<Names>,
}

/// `,"x..":` or `{"x..":`: a token that spells a field name of its own.
fn spells_name(token: &[u8]) -> bool {
    token.len() > 2 && (token[0] == COMMA || token[0] == BRACE) && token[1] == QUOTE
}

/// Whether `text` is at `at` of `s`, ending by `to`; its first byte is known to match.
/// Compared byte by byte: tokens are a few bytes, and most candidates differ at the second.
#[inline]
fn text_at(s: &[u8], at: usize, to: usize, text: &[u8]) -> bool {
    at + text.len() <= to && text[1..].iter().zip(&s[at + 1..]).all(|(a, b)| a == b)
}

impl Compactor {
    /// Token `i` of `tokens` becomes the control character `i + 1`.
    pub fn new(tokens: &[&[u8]]) -> Result<Self, TokenError> {
        if tokens.len() >= usize::from(NAME_AFTER_COMMA) {
            return Err(TokenError::TooMany);
        }
        let mut by_first: Vec<Vec<(Vec<u8>, u8)>> = vec![Vec::new(); 128];
        for (i, token) in tokens.iter().enumerate() {
            if token.is_empty() || !token.is_ascii() {
                return Err(TokenError::NotAscii);
            }
            by_first[usize::from(token[0])].push((token.to_vec(), i as u8 + 1));
        }
        let mut before_names = [0u8; 128];
        for (c, list) in by_first.iter().enumerate() {
            let n = list.iter().take_while(|(t, _)| spells_name(t)).count();
            if list[n..].iter().any(|(t, _)| spells_name(t)) {
                return Err(TokenError::NamesNotFirst);
            }
            before_names[c] = n as u8;
        }
        Ok(Compactor { by_first, before_names, names: None })
    }

    /// The dictionary to use (`None`: names stay as they are).
    pub fn set_names(&mut self, names: Option<Names>) {
        self.names = names;
    }

    /// Appends the stored form of `canonical` to `out`. `key_text`: the first key's
    /// text (its first occurrence becomes [`KEY_MARK`], when it is longer than one unit).
    pub fn compact(&self, canonical: &[u8], key_text: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), UnknownName> {
        let at = key_text.filter(|k| utf16_units(k) > 1).and_then(|k| find(canonical, k).map(|at| (at, k.len())));
        match at {
            None => self.compact_range(canonical, 0, canonical.len(), out),
            Some((at, len)) => {
                self.compact_range(canonical, 0, at, out)?;
                out.push(KEY_MARK);
                self.compact_range(canonical, at + len, canonical.len(), out)
            }
        }
    }

    /// `s[from..to]` with tokens and names replaced, appended to `out`. Reads just outside
    /// the range (a quote's backslash, a bracket's brace) look at `s` itself, as the TS scan does.
    fn compact_range(&self, s: &[u8], from: usize, to: usize, out: &mut Vec<u8>) -> Result<(), UnknownName> {
        let mut copied = from;
        let mut i = from;
        'scan: while i < to {
            let c = s[i];
            if c > 127 || self.by_first[usize::from(c)].is_empty() {
                i += 1;
                continue;
            }
            let candidates = &self.by_first[usize::from(c)];
            let next = s.get(i + 1).copied();
            let before = usize::from(self.before_names[usize::from(c)]);
            for (token, mark) in &candidates[..before] {
                if text_at(s, i, to, token) {
                    out.extend_from_slice(&s[copied..i]);
                    out.push(*mark);
                    i += token.len();
                    copied = i;
                    continue 'scan;
                }
            }
            if self.names.is_some() {
                let quote_alone = c == QUOTE && (i == 0 || s[i - 1] != BACKSLASH);
                if quote_alone || ((c == COMMA || c == BRACE) && next == Some(QUOTE)) {
                    let open = if c == QUOTE { i } else { i + 1 };
                    if let Some((id, name_end)) = self.name_at(s, open, to)? {
                        out.extend_from_slice(&s[copied..i]);
                        out.push(match c {
                            COMMA => NAME_AFTER_COMMA,
                            BRACE => NAME_AFTER_BRACE,
                            _ => NAME_ALONE,
                        });
                        push_char(out, FIRST_ID_CHAR + id);
                        i = name_end + 1;
                        copied = i;
                        continue;
                    }
                }
            }
            let rest = &candidates[before..];
            // `[{"key":` is `[` and one mark, `[{"name":` `[` and a name: `[{` leaves them their `{`.
            let leaves_brace = !rest.is_empty()
                && c == BRACKET
                && next == Some(BRACE)
                && s.get(i + 2) == Some(&QUOTE)
                && self.brace_takes(s, i + 1, to)?;
            let found = if leaves_brace { None } else { rest.iter().find(|(token, _)| text_at(s, i, to, token)) };
            match found {
                Some((token, mark)) => {
                    out.extend_from_slice(&s[copied..i]);
                    out.push(*mark);
                    i += token.len();
                    copied = i;
                }
                None => i += 1,
            }
        }
        out.extend_from_slice(&s[copied..to]);
        Ok(())
    }

    /// The id of the name in the `"name":` at `open` (ending before `to`) and where it ends
    /// (its colon); `None` when there is none or the dictionary lacks it for good.
    fn name_at(&self, s: &[u8], open: usize, to: usize) -> Result<Option<(u32, usize)>, UnknownName> {
        let Some(names) = &self.names else { return Ok(None) };
        let Some(close) =
            s.get(open + 1..).and_then(|rest| rest.iter().position(|&b| b == QUOTE)).map(|p| open + 1 + p)
        else {
            return Ok(None);
        };
        // An escaped quote ends no name: such a key stays as it is.
        if close <= open + 1 || close + 1 >= to || s[close + 1] != COLON || s[close - 1] == BACKSLASH {
            return Ok(None);
        }
        let name = &s[open + 1..close];
        match names.ids.get(name) {
            Some(&id) => Ok(Some((id, close + 1))),
            None if !names.full && (MIN_NAME_UNITS..=MAX_NAME_UNITS).contains(&utf16_units(name)) => Err(UnknownName),
            None => Ok(None),
        }
    }

    /// Whether the `{"` at `at` starts a token that spells a name, or a name the dictionary holds.
    fn brace_takes(&self, s: &[u8], at: usize, to: usize) -> Result<bool, UnknownName> {
        let candidates = &self.by_first[usize::from(BRACE)];
        let before = usize::from(self.before_names[usize::from(BRACE)]);
        if candidates[..before].iter().any(|(token, _)| text_at(s, at, to, token)) {
            return Ok(true);
        }
        Ok(self.name_at(s, at + 1, to)?.is_some())
    }
}

/// The first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while from + needle.len() <= haystack.len() {
        let p = from + haystack[from..=haystack.len() - needle.len()].iter().position(|&b| b == first)?;
        if haystack[p + 1..p + needle.len()] == *rest {
            return Some(p);
        }
        from = p + 1;
    }
    None
}

/// Appends a character (an id, below the surrogates) as UTF-8.
fn push_char(out: &mut Vec<u8>, code: u32) {
    let c = char::from_u32(code).expect("name ids stay below the surrogates");
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKENS: [&str; 18] = [
        "{\"left\":",
        ",\"right\":",
        "{\"$z\":[",
        "{\"$e\":0}",
        "{\"count\":",
        ",\"sum\":",
        "{\"key\":",
        ",\"",
        "\":\"",
        "\":",
        "[[",
        "]]",
        "],[",
        "},{",
        "\"]",
        "\"}",
        "[{",
        "}]",
    ];

    fn compactor(names: Option<(&[&str], bool)>) -> Compactor {
        let tokens: Vec<&[u8]> = TOKENS.iter().map(|t| t.as_bytes()).collect();
        let mut c = Compactor::new(&tokens).unwrap();
        c.set_names(names.map(|(n, full)| Names::new(n.iter().map(|s| s.as_bytes()), full)));
        c
    }

    fn compact(c: &Compactor, text: &str, key: Option<&str>) -> Result<String, UnknownName> {
        let mut out = Vec::new();
        c.compact(text.as_bytes(), key.map(str::as_bytes), &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn tokens_become_their_marks() {
        let c = compactor(None);
        // `{"left":` is token 1, `,"right":` token 2, `":` token 10 and `,"` token 8.
        assert_eq!(compact(&c, r#"{"left":1,"right":2}"#, None).unwrap(), "\u{1}1\u{2}2}");
        assert_eq!(compact(&c, r#"{"a":1,"b":2}"#, None).unwrap(), "{\"a\u{a}1\u{8}b\u{a}2}");
    }

    #[test]
    fn names_in_the_dictionary_become_a_mark_and_an_id() {
        let c = compactor(Some((&["meter_id", "value"], false)));
        // `{"meter_id":` after a brace is mark 0x14 then id 0x20; `,"value":` 0x13 then 0x21.
        assert_eq!(compact(&c, r#"{"meter_id":"m1","value":5}"#, None).unwrap(), "\u{14} \"m1\"\u{13}!5}");
    }

    #[test]
    fn the_first_key_is_left_out() {
        let c = compactor(Some((&["meter_id", "value"], false)));
        assert_eq!(compact(&c, r#"{"meter_id":"m1","value":5}"#, Some("\"m1\"")).unwrap(), "\u{14} \u{1f}\u{13}!5}");
        // A one-character key stays.
        assert_eq!(compact(&c, r#"{"value":5}"#, Some("5")).unwrap(), "\u{14}!5}");
    }

    #[test]
    fn a_name_the_dictionary_could_take_is_reported() {
        let c = compactor(Some((&["value"], false)));
        assert_eq!(compact(&c, r#"{"other":1}"#, None), Err(UnknownName));
        // Too short to be taken, or the dictionary is full: it stays literal.
        assert_eq!(compact(&c, r#"{"x":1}"#, None).unwrap(), "{\"x\u{a}1}");
        let full = compactor(Some((&["value"], true)));
        assert_eq!(compact(&full, r#"{"other":1}"#, None).unwrap(), "{\"other\u{a}1}");
    }

    #[test]
    fn an_escaped_quote_ends_no_name() {
        let c = compactor(Some((&["value"], true)));
        assert_eq!(compact(&c, r#"["a\":1"]"#, None).unwrap(), "[\"a\\\u{a}1\u{f}");
    }
}
