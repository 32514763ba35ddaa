//! Parsing canonical text (spec §1) back into a [`Value`].
//!
//! The parser accepts the JSON subset canonical text is written in — no
//! whitespace, tagged objects (`$f $n $d $s $e $z`) and `$$`-escaped keys — and
//! rejects what canonical text can never contain (NaN or overflowing numbers,
//! invalid dates, non-canonical bigints, unescaped `$` keys, duplicate keys).
//! Whatever canonical text pins down but JSON leaves open (number spelling,
//! key and set order) is normalised, so writing a parsed value gives the
//! canonical form of the input, and the input itself when it was canonical.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::fmt;

use super::js_string::JsStringBuilder;
use super::{JsBigInt, JsDate, JsNumber, JsString, SetValue, Value, ZSetValue};
use crate::weight::weight_from_f64;

/// How deeply values may nest; deeper input is rejected rather than risking the stack.
pub const MAX_NESTING: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
    pub kind: ParseErrorKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    InvalidUtf8,
    UnexpectedEnd,
    UnexpectedCharacter,
    TrailingCharacters,
    InvalidNumber,
    /// A number too large for a double; canonical text writes infinities as `{"$f":..}`.
    NumberOutOfRange,
    InvalidEscape,
    ControlCharacterInString,
    DuplicateKey,
    /// An object key starting with a single `$` in an object that is not a tag.
    UnescapedDollarKey,
    UnknownTag,
    InvalidInfinity,
    InvalidBigInt,
    InvalidDate,
    InvalidEmpty,
    InvalidSet,
    InvalidZSet,
    TooDeep,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ParseErrorKind::*;
        let what = match self.kind {
            InvalidUtf8 => "invalid UTF-8",
            UnexpectedEnd => "unexpected end of text",
            UnexpectedCharacter => "unexpected character",
            TrailingCharacters => "characters after the value",
            InvalidNumber => "invalid number",
            NumberOutOfRange => "number out of range",
            InvalidEscape => "invalid escape sequence",
            ControlCharacterInString => "unescaped control character in a string",
            DuplicateKey => "duplicate object key",
            UnescapedDollarKey => "object key starting with an unescaped `$`",
            UnknownTag => "unknown `$` tag",
            InvalidInfinity => r#"`$f` must be "Infinity" or "-Infinity""#,
            InvalidBigInt => "`$n` must be a canonical decimal string",
            InvalidDate => "`$d` must be a valid time value",
            InvalidEmpty => "`$e` must be 0",
            InvalidSet => "`$s` must be an array",
            InvalidZSet => "`$z` must be an array of [value, safe integer] pairs",
            TooDeep => "values nested too deeply",
        };
        write!(f, "invalid canonical text at byte {}: {what}", self.offset)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    fn at(offset: usize, kind: ParseErrorKind) -> Self {
        ParseError { offset, kind }
    }
}

impl Value {
    pub fn parse_canonical(text: &[u8]) -> Result<Value, ParseError> {
        let text = std::str::from_utf8(text)
            .map_err(|e| ParseError { offset: e.valid_up_to(), kind: ParseErrorKind::InvalidUtf8 })?;
        let mut parser = Parser { text, pos: 0, depth: 0 };
        let value = parser.value()?;
        if parser.pos != text.len() {
            return Err(parser.error(ParseErrorKind::TrailingCharacters));
        }
        Ok(value)
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, kind: ParseErrorKind) -> ParseError {
        ParseError { offset: self.pos, kind }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn next_byte(&mut self) -> Result<u8, ParseError> {
        let byte = self.peek().ok_or_else(|| self.error(ParseErrorKind::UnexpectedEnd))?;
        self.pos += 1;
        Ok(byte)
    }

    fn expect(&mut self, expected: u8) -> Result<(), ParseError> {
        match self.peek() {
            Some(byte) if byte == expected => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.error(ParseErrorKind::UnexpectedCharacter)),
            None => Err(self.error(ParseErrorKind::UnexpectedEnd)),
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), ParseError> {
        word.bytes().try_for_each(|byte| self.expect(byte))
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        if self.depth == MAX_NESTING {
            return Err(self.error(ParseErrorKind::TooDeep));
        }
        self.depth += 1;
        let value = match self.peek() {
            None => Err(self.error(ParseErrorKind::UnexpectedEnd)),
            Some(b'n') => self.expect_word("null").map(|()| Value::Null),
            Some(b't') => self.expect_word("true").map(|()| Value::Bool(true)),
            Some(b'f') => self.expect_word("false").map(|()| Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => self.array().map(Value::Array),
            Some(b'{') => self.object(),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Some(_) => Err(self.error(ParseErrorKind::UnexpectedCharacter)),
        };
        self.depth -= 1;
        value
    }

    /// A JSON number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<JsNumber, ParseError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos > from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error(ParseErrorKind::InvalidNumber)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.error(ParseErrorKind::InvalidNumber));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error(ParseErrorKind::InvalidNumber));
            }
        }
        // Rust's float parsing rounds correctly, as JSON.parse does.
        let n: f64 =
            self.text[start..self.pos].parse().map_err(|_| ParseError::at(start, ParseErrorKind::InvalidNumber))?;
        if n.is_infinite() {
            return Err(ParseError::at(start, ParseErrorKind::NumberOutOfRange));
        }
        JsNumber::new(n).ok_or_else(|| ParseError::at(start, ParseErrorKind::InvalidNumber))
    }

    fn string(&mut self) -> Result<JsString, ParseError> {
        self.expect(b'"')?;
        let mut content = JsStringBuilder::new();
        loop {
            let run_start = self.pos;
            while matches!(self.peek(), Some(byte) if byte != b'"' && byte != b'\\' && byte >= 0x20) {
                self.pos += 1;
            }
            // The run ends at an ASCII byte, so it is whole UTF-8 characters.
            content.push_str(&self.text[run_start..self.pos]);
            match self.next_byte()? {
                b'"' => return Ok(content.finish()),
                b'\\' => self.escape(&mut content)?,
                _ => return Err(ParseError::at(self.pos - 1, ParseErrorKind::ControlCharacterInString)),
            }
        }
    }

    /// One escape, the backslash already consumed. A `\u` high surrogate followed
    /// by a `\u` low surrogate is one character; any other surrogate stays lone.
    fn escape(&mut self, content: &mut JsStringBuilder) -> Result<(), ParseError> {
        let escape_start = self.pos - 1;
        let simple = match self.next_byte()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex_unit(escape_start)?;
                match unit {
                    0xD800..=0xDBFF if self.text[self.pos..].starts_with("\\u") => {
                        let after_high = self.pos;
                        self.pos += 2;
                        let low = self.hex_unit(escape_start)?;
                        if (0xDC00..=0xDFFF).contains(&low) {
                            let code_point = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                            content.push_char(
                                char::from_u32(code_point).expect("a surrogate pair decodes to a scalar value"),
                            );
                        } else {
                            content.push_lone_surrogate(unit);
                            self.pos = after_high;
                        }
                    }
                    0xD800..=0xDFFF => content.push_lone_surrogate(unit),
                    _ => content
                        .push_char(char::from_u32(u32::from(unit)).expect("a non-surrogate unit is a scalar value")),
                }
                return Ok(());
            }
            _ => return Err(ParseError::at(escape_start, ParseErrorKind::InvalidEscape)),
        };
        content.push_char(simple);
        Ok(())
    }

    fn hex_unit(&mut self, escape_start: usize) -> Result<u16, ParseError> {
        let hex = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| ParseError::at(escape_start, ParseErrorKind::InvalidEscape))?;
        self.pos += 4;
        Ok(u16::from_str_radix(hex, 16).expect("four hex digits fit a u16"))
    }

    fn array(&mut self) -> Result<Vec<Value>, ParseError> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.value()?);
            match self.next_byte()? {
                b',' => {}
                b']' => return Ok(items),
                _ => return Err(ParseError::at(self.pos - 1, ParseErrorKind::UnexpectedCharacter)),
            }
        }
    }

    fn object(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        self.expect(b'{')?;
        let mut members: Vec<(JsString, usize, Value)> = Vec::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                let key_offset = self.pos;
                let key = self.string()?;
                self.expect(b':')?;
                members.push((key, key_offset, self.value()?));
                match self.next_byte()? {
                    b',' => {}
                    b'}' => break,
                    _ => return Err(ParseError::at(self.pos - 1, ParseErrorKind::UnexpectedCharacter)),
                }
            }
        }
        if let [(key, _, _)] = members.as_slice() {
            if let Some(tag) = key.as_str().filter(|k| k.starts_with('$') && !k.starts_with("$$")) {
                let tag = tag.to_owned();
                let (_, _, payload) = members.pop().expect("one member");
                return tagged(&tag, payload).map_err(|kind| ParseError::at(start, kind));
            }
        }
        let mut object = BTreeMap::new();
        for (key, key_offset, value) in members {
            let key = match key.strip_dollar() {
                None => key,
                Some(unescaped) if unescaped.starts_with_dollar() => unescaped,
                Some(_) => return Err(ParseError::at(key_offset, ParseErrorKind::UnescapedDollarKey)),
            };
            match object.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(_) => return Err(ParseError::at(key_offset, ParseErrorKind::DuplicateKey)),
            }
        }
        Ok(Value::Object(object))
    }
}

/// Interprets the payload of a one-member object whose key is a `$` tag.
fn tagged(tag: &str, payload: Value) -> Result<Value, ParseErrorKind> {
    use ParseErrorKind::*;
    match tag {
        "$f" => match &payload {
            Value::String(s) if s.as_str() == Some("Infinity") => Ok(Value::Number(infinity(f64::INFINITY))),
            Value::String(s) if s.as_str() == Some("-Infinity") => Ok(Value::Number(infinity(f64::NEG_INFINITY))),
            _ => Err(InvalidInfinity),
        },
        "$n" => match &payload {
            Value::String(s) => s.as_str().and_then(JsBigInt::parse).map(Value::BigInt).ok_or(InvalidBigInt),
            _ => Err(InvalidBigInt),
        },
        "$d" => match payload {
            Value::Number(n) => JsDate::from_millis(n.get()).map(Value::Date).ok_or(InvalidDate),
            _ => Err(InvalidDate),
        },
        "$e" => match payload {
            Value::Number(n) if n.get() == 0.0 => Ok(Value::Empty),
            _ => Err(InvalidEmpty),
        },
        "$s" => match payload {
            Value::Array(elements) => Ok(Value::Set(SetValue::new(elements))),
            _ => Err(InvalidSet),
        },
        "$z" => {
            let Value::Array(pairs) = payload else { return Err(InvalidZSet) };
            let entries = pairs
                .into_iter()
                .map(|pair| match pair {
                    Value::Array(mut pair) if pair.len() == 2 => {
                        let Some(Value::Number(weight)) = pair.pop() else { return Err(InvalidZSet) };
                        let weight = weight_from_f64(weight.get()).map_err(|_| InvalidZSet)?;
                        Ok((pair.pop().expect("two elements"), weight))
                    }
                    _ => Err(InvalidZSet),
                })
                .collect::<Result<Vec<_>, _>>()?;
            ZSetValue::new(entries).map(Value::ZSet).map_err(|_| InvalidZSet)
        }
        _ => Err(UnknownTag),
    }
}

fn infinity(n: f64) -> JsNumber {
    JsNumber::new(n).expect("infinity is not NaN")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParseErrorKind::*;

    fn round_trip(text: &str) -> String {
        Value::parse_canonical(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}")).to_canonical()
    }

    fn error(text: &str) -> ParseErrorKind {
        Value::parse_canonical(text.as_bytes()).expect_err(text).kind
    }

    #[test]
    fn canonical_text_round_trips() {
        for text in [
            "null",
            "true",
            "[]",
            "{}",
            "-0.5",
            "1e+21",
            "1.5e-7",
            r#""a\"\\\b\f\n\r\t\u0000\u001f""#,
            r#""\ud800x\udfff""#,
            "\"😀\u{2028}\"",
            r#"{"$f":"-Infinity"}"#,
            r#"{"$n":"-123456789012345678901234567890"}"#,
            r#"{"$d":-8640000000000000}"#,
            r#"{"$e":0}"#,
            r#"{"$s":["a",1,{"$e":0}]}"#,
            r#"{"$z":[["a",3],[{"$n":"1"},-2]]}"#,
            r#"{"":1,"$$":2,"$$$x":[{"b":{}}],"a":null}"#,
            r#"{"$$d":1}"#,
        ] {
            assert_eq!(round_trip(text), text);
        }
    }

    #[test]
    fn non_canonical_spellings_are_normalised() {
        assert_eq!(round_trip("-0"), "0");
        assert_eq!(round_trip("1.50E2"), "150");
        assert_eq!(round_trip(r#""\/\u00e9\ud83d\ude00""#), "\"/é😀\"");
        assert_eq!(round_trip(r#"{"b":1,"a":2}"#), r#"{"a":2,"b":1}"#);
        assert_eq!(round_trip(r#"{"$s":["b","a"]}"#), r#"{"$s":["a","b"]}"#);
        assert_eq!(round_trip(r#"{"$z":[["b",1],["a",2],["b",-1]]}"#), r#"{"$z":[["a",2]]}"#);
    }

    #[test]
    fn malformed_text_is_rejected() {
        let cases = [
            ("", UnexpectedEnd),
            (" null", UnexpectedCharacter),
            ("nul", UnexpectedEnd),
            ("[1,]", UnexpectedCharacter),
            ("[1 ]", UnexpectedCharacter),
            ("1 ", TrailingCharacters),
            ("01", TrailingCharacters),
            ("1.", InvalidNumber),
            ("-", InvalidNumber),
            ("1e", InvalidNumber),
            ("1e400", NumberOutOfRange),
            ("\"\u{1}\"", ControlCharacterInString),
            (r#""\x""#, InvalidEscape),
            (r#""\u12""#, InvalidEscape),
            ("\"abc", UnexpectedEnd),
            (r#"{"a":1,"a":2}"#, DuplicateKey),
            (r#"{"$a":1,"b":2}"#, UnescapedDollarKey),
            (r#"{"$q":1}"#, UnknownTag),
            (r#"{"$":1}"#, UnknownTag),
            (r#"{"$f":"NaN"}"#, InvalidInfinity),
            (r#"{"$n":"-0"}"#, InvalidBigInt),
            (r#"{"$n":12}"#, InvalidBigInt),
            (r#"{"$d":1.5}"#, InvalidDate),
            (r#"{"$d":{"$f":"Infinity"}}"#, InvalidDate),
            (r#"{"$e":1}"#, InvalidEmpty),
            (r#"{"$s":{}}"#, InvalidSet),
            (r#"{"$z":[["a",1.5]]}"#, InvalidZSet),
            (r#"{"$z":[["a"]]}"#, InvalidZSet),
        ];
        for (text, kind) in cases {
            assert_eq!(error(text), kind, "{text}");
        }
        assert_eq!(Value::parse_canonical(b"\"\xff\"").unwrap_err().kind, InvalidUtf8);
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = "[".repeat(MAX_NESTING) + &"]".repeat(MAX_NESTING);
        assert!(Value::parse_canonical(ok.as_bytes()).is_ok());
        let deep = "[".repeat(MAX_NESTING + 1) + &"]".repeat(MAX_NESTING + 1);
        assert_eq!(error(&deep), TooDeep);
    }

    #[test]
    fn lone_high_surrogate_before_a_non_low_escape_stays_lone() {
        let value = Value::parse_canonical(br#""\ud800\u0041""#).unwrap();
        let Value::String(s) = &value else { panic!() };
        assert_eq!(s.utf16_units().collect::<Vec<_>>(), [0xD800, 0x41]);
        assert_eq!(value.to_canonical(), r#""\ud800A""#);
    }
}
