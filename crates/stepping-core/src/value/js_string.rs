//! JavaScript strings (spec §1, "string" and "plain object" rows).
//!
//! A JS string is a sequence of UTF-16 code units and may hold lone surrogates,
//! which canonical text writes as `\udxxx` escapes and which Rust's `str` cannot
//! hold. [`JsString`] keeps well-formed strings (nearly all of them) as UTF-8 and
//! falls back to UTF-16 code units only when a lone surrogate is present.
//!
//! Its order is code point order, the order the spec sorts object keys in. For
//! well-formed strings that is plain UTF-8 byte order. For lone surrogates it
//! follows the TypeScript implementation's comparator: UTF-16 code units with
//! every surrogate unit ranked above U+FFFF, which agrees with code point order
//! on every well-formed string.

use std::cmp::Ordering;
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JsString(Repr);

/// Invariant: `WellFormed` exactly when the string has no lone surrogate, so
/// derived equality is string equality.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    WellFormed(Box<str>),
    LoneSurrogates(Box<[u16]>),
}

impl JsString {
    /// Builds a string from UTF-16 code units, as JS holds it.
    pub fn from_utf16(units: &[u16]) -> Self {
        match String::from_utf16(units) {
            Ok(s) => JsString(Repr::WellFormed(s.into_boxed_str())),
            Err(_) => JsString(Repr::LoneSurrogates(units.into())),
        }
    }

    /// The string as UTF-8, or `None` if it holds a lone surrogate.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::WellFormed(s) => Some(s),
            Repr::LoneSurrogates(_) => None,
        }
    }

    pub fn is_well_formed(&self) -> bool {
        matches!(self.0, Repr::WellFormed(_))
    }

    /// The UTF-16 code units, as JS sees the string.
    pub fn utf16_units(&self) -> Utf16Units<'_> {
        match &self.0 {
            Repr::WellFormed(s) => Utf16Units::Encoded(s.encode_utf16()),
            Repr::LoneSurrogates(units) => Utf16Units::Stored(units.iter()),
        }
    }

    pub fn starts_with_dollar(&self) -> bool {
        self.utf16_units().next() == Some(u16::from(b'$'))
    }

    /// The string without its leading `$`, if it has one.
    pub fn strip_dollar(&self) -> Option<JsString> {
        match &self.0 {
            Repr::WellFormed(s) => s.strip_prefix('$').map(JsString::from),
            Repr::LoneSurrogates(units) => match units.split_first() {
                Some((&first, rest)) if first == u16::from(b'$') => Some(JsString::from_utf16(rest)),
                _ => None,
            },
        }
    }
}

impl From<&str> for JsString {
    fn from(s: &str) -> Self {
        JsString(Repr::WellFormed(s.into()))
    }
}

impl From<String> for JsString {
    fn from(s: String) -> Self {
        JsString(Repr::WellFormed(s.into_boxed_str()))
    }
}

impl fmt::Debug for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::WellFormed(s) => fmt::Debug::fmt(s, f),
            Repr::LoneSurrogates(units) => write!(f, "utf16{units:04x?}"),
        }
    }
}

impl Ord for JsString {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            (Repr::WellFormed(a), Repr::WellFormed(b)) => a.as_bytes().cmp(b.as_bytes()),
            _ => {
                let ranked = self.utf16_units().map(code_point_rank);
                ranked.cmp(other.utf16_units().map(code_point_rank))
            }
        }
    }
}

impl PartialOrd for JsString {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Maps a UTF-16 code unit so that comparing mapped units compares code points:
/// surrogates (which encode U+10000 and up) move above U+E000..U+FFFF.
fn code_point_rank(unit: u16) -> u16 {
    match unit {
        0xD800..=0xDFFF => unit + 0x2000,
        0xE000..=0xFFFF => unit - 0x800,
        _ => unit,
    }
}

/// Iterator over a [`JsString`]'s UTF-16 code units.
pub enum Utf16Units<'a> {
    Encoded(std::str::EncodeUtf16<'a>),
    Stored(std::slice::Iter<'a, u16>),
}

impl Iterator for Utf16Units<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        match self {
            Utf16Units::Encoded(units) => units.next(),
            Utf16Units::Stored(units) => units.next().copied(),
        }
    }
}

/// Accumulates string content while parsing; switches to UTF-16 on the first
/// lone surrogate.
pub(crate) enum JsStringBuilder {
    Utf8(String),
    Utf16(Vec<u16>),
}

impl JsStringBuilder {
    pub(crate) fn new() -> Self {
        JsStringBuilder::Utf8(String::new())
    }

    pub(crate) fn push_str(&mut self, s: &str) {
        match self {
            JsStringBuilder::Utf8(text) => text.push_str(s),
            JsStringBuilder::Utf16(units) => units.extend(s.encode_utf16()),
        }
    }

    pub(crate) fn push_char(&mut self, c: char) {
        match self {
            JsStringBuilder::Utf8(text) => text.push(c),
            JsStringBuilder::Utf16(units) => units.extend(c.encode_utf16(&mut [0; 2]).iter()),
        }
    }

    pub(crate) fn push_lone_surrogate(&mut self, unit: u16) {
        if let JsStringBuilder::Utf8(text) = self {
            *self = JsStringBuilder::Utf16(text.encode_utf16().collect());
        }
        if let JsStringBuilder::Utf16(units) = self {
            units.push(unit);
        }
    }

    pub(crate) fn finish(self) -> JsString {
        match self {
            JsStringBuilder::Utf8(text) => JsString::from(text),
            JsStringBuilder::Utf16(units) => JsString::from_utf16(&units),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn well_formed_utf16_is_stored_as_utf8() {
        let s = JsString::from_utf16(&utf16("héllo 😀"));
        assert_eq!(s.as_str(), Some("héllo 😀"));
        assert_eq!(s, JsString::from("héllo 😀"));
    }

    #[test]
    fn lone_surrogates_survive() {
        let units = [0x61, 0xD800, 0x62];
        let s = JsString::from_utf16(&units);
        assert!(!s.is_well_formed());
        assert_eq!(s.utf16_units().collect::<Vec<_>>(), units);
    }

    #[test]
    fn order_is_code_point_order() {
        // UTF-16 unit order would put U+1F600 (D83D DE00) before U+FF61.
        assert!(JsString::from("\u{FF61}") < JsString::from("😀"));
        assert!(JsString::from("a") < JsString::from("ab"));
        assert!(JsString::from("") < JsString::from("\0"));
    }

    #[test]
    fn lone_surrogates_rank_like_the_typescript_comparator() {
        let lone_high = JsString::from_utf16(&[0xD800]);
        let lone_low = JsString::from_utf16(&[0xDC00]);
        // Above every BMP character, interleaved with pairs by code unit.
        assert!(JsString::from("\u{FFFF}") < lone_high);
        assert!(lone_high < JsString::from("😀"));
        assert!(JsString::from("😀") < lone_low);
    }

    #[test]
    fn builder_switches_to_utf16_on_a_lone_surrogate() {
        let mut b = JsStringBuilder::new();
        b.push_str("ab");
        b.push_lone_surrogate(0xDABC);
        b.push_char('é');
        let s = b.finish();
        assert_eq!(s.utf16_units().collect::<Vec<_>>(), [0x61, 0x62, 0xDABC, 0xE9]);
    }

    #[test]
    fn dollar_prefix() {
        assert!(JsString::from("$x").starts_with_dollar());
        assert!(!JsString::from("x$").starts_with_dollar());
        assert!(!JsString::from("").starts_with_dollar());
        assert_eq!(JsString::from("$$x").strip_dollar(), Some(JsString::from("$x")));
        assert_eq!(JsString::from("x").strip_dollar(), None);
        let lone = JsString::from_utf16(&[0x24, 0xD800]);
        assert_eq!(lone.strip_dollar(), Some(JsString::from_utf16(&[0xD800])));
    }
}
