//! Order-preserving key encoding (spec §4): the bytes of an index key, such that
//! comparing keys bytewise (memcmp, SQLite `BLOB`, PostgreSQL `bytea`) compares
//! them logically: null < false < true < numbers < bigints < strings < dates <
//! tuples < other values, each in natural order, and descending components
//! inverted. Indexed Z-sets in DBSP are keyed this way.

use std::fmt;

use crate::value::{JsBigInt, JsNumber, JsString, Value};

const TAG_NULL: u8 = 0x01;
const TAG_FALSE: u8 = 0x02;
const TAG_TRUE: u8 = 0x03;
const TAG_NUMBER: u8 = 0x10;
const TAG_BIGINT: u8 = 0x14;
const TAG_STRING: u8 = 0x20;
const TAG_DATE: u8 = 0x30;
const TAG_TUPLE: u8 = 0x40;
const TAG_OTHER: u8 = 0x50;
const TUPLE_END: u8 = 0x00;
/// Ends escaped text; sorts below the `00 FF` escape of a `00` byte.
const TEXT_END: [u8; 2] = [0x00, 0x01];
/// The length byte of a bigint must stay clear of `00` and `FF`, so magnitudes
/// are limited to 126 bytes (as in the TypeScript encoder).
pub const MAX_BIGINT_KEY_BYTES: usize = 126;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Ascending,
    Descending,
}

impl Direction {
    pub fn from_ascending(ascending: bool) -> Self {
        if ascending {
            Direction::Ascending
        } else {
            Direction::Descending
        }
    }
}

/// How a key value maps to components: one component, or a tuple of components
/// (a composite index) with a direction each.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyLayout {
    Single(Direction),
    Composite(Vec<Direction>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// A string holding a lone surrogate has no UTF-8 bytes to order by.
    LoneSurrogate,
    /// A bigint whose magnitude needs more than [`MAX_BIGINT_KEY_BYTES`] bytes.
    BigIntTooLarge,
    /// A composite key must be an array with one element per component.
    CompositeArity { expected: usize, found: Option<usize> },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::LoneSurrogate => f.write_str("a string with a lone surrogate cannot be an index key"),
            KeyError::BigIntTooLarge => {
                write!(f, "bigint too large for an index key (over {MAX_BIGINT_KEY_BYTES} bytes)")
            }
            KeyError::CompositeArity { expected, found: Some(found) } => {
                write!(f, "composite key has {found} components, the index has {expected}")
            }
            KeyError::CompositeArity { expected, found: None } => {
                write!(f, "composite key must be an array of {expected} components")
            }
        }
    }
}

impl std::error::Error for KeyError {}

impl KeyLayout {
    /// Appends the encoding of `key` to `out`. On error `out` is left as it was.
    pub fn encode(&self, key: &Value, out: &mut Vec<u8>) -> Result<(), KeyError> {
        let start = out.len();
        let result = match self {
            KeyLayout::Single(direction) => encode_component(key, *direction, out),
            KeyLayout::Composite(directions) => match key {
                Value::Array(parts) if parts.len() == directions.len() => parts
                    .iter()
                    .zip(directions)
                    .try_for_each(|(part, direction)| encode_component(part, *direction, out)),
                Value::Array(parts) => {
                    Err(KeyError::CompositeArity { expected: directions.len(), found: Some(parts.len()) })
                }
                _ => Err(KeyError::CompositeArity { expected: directions.len(), found: None }),
            },
        };
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    pub fn encode_to_vec(&self, key: &Value) -> Result<Vec<u8>, KeyError> {
        let mut out = Vec::new();
        self.encode(key, &mut out)?;
        Ok(out)
    }
}

/// Appends one key component; a descending component has every byte inverted.
pub fn encode_component(value: &Value, direction: Direction, out: &mut Vec<u8>) -> Result<(), KeyError> {
    let start = out.len();
    encode_ascending(value, out)?;
    if direction == Direction::Descending {
        out[start..].iter_mut().for_each(|byte| *byte = !*byte);
    }
    Ok(())
}

fn encode_ascending(value: &Value, out: &mut Vec<u8>) -> Result<(), KeyError> {
    match value {
        Value::Null => out.push(TAG_NULL),
        Value::Bool(false) => out.push(TAG_FALSE),
        Value::Bool(true) => out.push(TAG_TRUE),
        Value::Number(n) => {
            out.push(TAG_NUMBER);
            out.extend(ordered_number_bytes(*n));
        }
        Value::BigInt(n) => {
            out.push(TAG_BIGINT);
            encode_bigint(n, out)?;
        }
        Value::String(s) => {
            out.push(TAG_STRING);
            push_escaped_text(string_bytes(s)?, out);
        }
        Value::Date(d) => {
            out.push(TAG_DATE);
            out.extend(ordered_number_bytes(d.millis()));
        }
        Value::Array(items) => {
            out.push(TAG_TUPLE);
            for item in items {
                encode_ascending(item, out)?;
            }
            out.push(TUPLE_END);
        }
        Value::Object(_) | Value::Set(_) | Value::Empty | Value::ZSet(_) => {
            out.push(TAG_OTHER);
            push_escaped_text(value.to_canonical().as_bytes(), out);
        }
    }
    Ok(())
}

/// IEEE-754 big-endian with the sign bit flipped for non-negative numbers and
/// every bit flipped for negative ones, so byte order is numeric order.
fn ordered_number_bytes(n: JsNumber) -> [u8; 8] {
    // JsNumber has no -0, which would otherwise sort below 0.
    let bits = n.get().to_bits();
    let ordered = if bits >> 63 == 0 { bits ^ (1 << 63) } else { !bits };
    ordered.to_be_bytes()
}

/// Length-prefixed magnitude; the length byte (`80+len`, or `7F-len` with the
/// magnitude inverted for negatives) orders by sign, then size, then bytes.
fn encode_bigint(n: &JsBigInt, out: &mut Vec<u8>) -> Result<(), KeyError> {
    let magnitude = n.magnitude_be_bytes();
    if magnitude.len() > MAX_BIGINT_KEY_BYTES {
        return Err(KeyError::BigIntTooLarge);
    }
    let len = magnitude.len() as u8;
    if n.is_negative() {
        out.push(0x7F - len);
        out.extend(magnitude.iter().map(|byte| !byte));
    } else {
        out.push(0x80 + len);
        out.extend(magnitude);
    }
    Ok(())
}

fn string_bytes(s: &JsString) -> Result<&[u8], KeyError> {
    s.as_str().map(str::as_bytes).ok_or(KeyError::LoneSurrogate)
}

/// Bytes with each `00` written `00 FF`, then `00 01`, so that a text that is a
/// prefix of another sorts first and no text can run into what follows it.
fn push_escaped_text(bytes: &[u8], out: &mut Vec<u8>) {
    for &byte in bytes {
        out.push(byte);
        if byte == 0x00 {
            out.push(0xFF);
        }
    }
    out.extend(TEXT_END);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::strategies;
    use crate::value::{JsBigInt, JsDate, SetValue};
    use proptest::prelude::*;
    use std::cmp::Ordering;
    use std::collections::BTreeMap;

    /// The order the spec promises, written independently of the encoder:
    /// null < false < true < numbers < bigints < strings (code points) < dates
    /// < tuples (lexicographic) < other values (by canonical text).
    fn logical_cmp(a: &Value, b: &Value) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Bool(false) => 1,
                Value::Bool(true) => 2,
                Value::Number(_) => 3,
                Value::BigInt(_) => 4,
                Value::String(_) => 5,
                Value::Date(_) => 6,
                Value::Array(_) => 7,
                Value::Object(_) | Value::Set(_) | Value::Empty | Value::ZSet(_) => 8,
            }
        }
        rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.get().partial_cmp(&y.get()).unwrap(),
            (Value::BigInt(x), Value::BigInt(y)) => {
                // Sign, then digit count, then digits; negatives reversed.
                let parts = |n: &JsBigInt| {
                    let text = n.to_string();
                    let digits = text.trim_start_matches('-').to_owned();
                    (text.starts_with('-'), digits.len(), digits)
                };
                let ((x_negative, x_len, x_digits), (y_negative, y_len, y_digits)) = (parts(x), parts(y));
                match (x_negative, y_negative) {
                    (false, true) => Ordering::Greater,
                    (true, false) => Ordering::Less,
                    (false, false) => (x_len, x_digits).cmp(&(y_len, y_digits)),
                    (true, true) => (y_len, y_digits).cmp(&(x_len, x_digits)),
                }
            }
            (Value::String(x), Value::String(y)) => x.as_str().unwrap().chars().cmp(y.as_str().unwrap().chars()),
            (Value::Date(x), Value::Date(y)) => x.millis().get().partial_cmp(&y.millis().get()).unwrap(),
            (Value::Array(x), Value::Array(y)) => x
                .iter()
                .zip(y)
                .map(|(p, q)| logical_cmp(p, q))
                .find(|o| o.is_ne())
                .unwrap_or_else(|| x.len().cmp(&y.len())),
            _ => a.to_canonical().as_bytes().cmp(b.to_canonical().as_bytes()),
        })
    }

    fn directed(order: Ordering, direction: Direction) -> Ordering {
        match direction {
            Direction::Ascending => order,
            Direction::Descending => order.reverse(),
        }
    }

    fn direction() -> impl Strategy<Value = Direction> {
        any::<bool>().prop_map(Direction::from_ascending)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn byte_order_is_logical_order(a in strategies::key_component(), b in strategies::key_component(), direction in direction()) {
            let layout = KeyLayout::Single(direction);
            let (ka, kb) = (layout.encode_to_vec(&a).unwrap(), layout.encode_to_vec(&b).unwrap());
            prop_assert_eq!(ka.cmp(&kb), directed(logical_cmp(&a, &b), direction));
        }

        #[test]
        fn composite_byte_order_is_lexicographic(
            parts in proptest::collection::vec((strategies::key_component(), strategies::key_component(), direction()), 1..4)
        ) {
            let directions: Vec<Direction> = parts.iter().map(|p| p.2).collect();
            let layout = KeyLayout::Composite(directions);
            let a = Value::Array(parts.iter().map(|p| p.0.clone()).collect());
            let b = Value::Array(parts.iter().map(|p| p.1.clone()).collect());
            let expected = parts
                .iter()
                .map(|(x, y, direction)| directed(logical_cmp(x, y), *direction))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal);
            prop_assert_eq!(layout.encode_to_vec(&a).unwrap().cmp(&layout.encode_to_vec(&b).unwrap()), expected);
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn asc(value: &Value) -> String {
        hex(&KeyLayout::Single(Direction::Ascending).encode_to_vec(value).unwrap())
    }

    fn num(n: f64) -> Value {
        Value::number(n).unwrap()
    }

    #[test]
    fn component_bytes_follow_the_spec() {
        assert_eq!(asc(&Value::Null), "01");
        assert_eq!(asc(&Value::Bool(false)), "02");
        assert_eq!(asc(&Value::Bool(true)), "03");
        assert_eq!(asc(&num(0.0)), "108000000000000000");
        assert_eq!(asc(&num(-0.0)), "108000000000000000");
        assert_eq!(asc(&num(1.0)), "10bff0000000000000");
        assert_eq!(asc(&num(-1.0)), "10400fffffffffffff");
        assert_eq!(asc(&num(f64::INFINITY)), "10fff0000000000000");
        assert_eq!(asc(&Value::BigInt(JsBigInt::from(0))), "1480");
        assert_eq!(asc(&Value::BigInt(JsBigInt::from(258))), "14820102");
        assert_eq!(asc(&Value::BigInt(JsBigInt::from(-258))), "147dfefd");
        assert_eq!(asc(&Value::string("a\0b")), "206100ff620001");
        assert_eq!(asc(&Value::string("")), "200001");
        assert_eq!(asc(&Value::Date(JsDate::from_millis(1.0).unwrap())), "30bff0000000000000");
        assert_eq!(asc(&Value::Array(vec![Value::Null, Value::Bool(true)])), "40010300");
        let set = Value::Set(SetValue::new(vec![]));
        assert_eq!(asc(&set), format!("50{}0001", hex(br#"{"$s":[]}"#)));
        assert_eq!(asc(&Value::Object(BTreeMap::new())), "507b7d0001");
    }

    #[test]
    fn descending_inverts_every_byte() {
        let bytes = KeyLayout::Single(Direction::Descending).encode_to_vec(&Value::string("a")).unwrap();
        assert_eq!(hex(&bytes), "df9efffe");
    }

    #[test]
    fn composite_keys_concatenate_components() {
        let layout = KeyLayout::Composite(vec![Direction::Ascending, Direction::Descending]);
        let key = Value::Array(vec![Value::Null, Value::Bool(true)]);
        assert_eq!(hex(&layout.encode_to_vec(&key).unwrap()), "01fc");
        assert_eq!(
            layout.encode_to_vec(&Value::Array(vec![Value::Null])),
            Err(KeyError::CompositeArity { expected: 2, found: Some(1) })
        );
        assert_eq!(layout.encode_to_vec(&Value::Null), Err(KeyError::CompositeArity { expected: 2, found: None }));
    }

    #[test]
    fn unencodable_keys_are_rejected_and_leave_output_untouched() {
        let mut out = vec![0xAA];
        let lone = Value::Array(vec![Value::Null, Value::String(JsString::from_utf16(&[0xD800]))]);
        let layout = KeyLayout::Single(Direction::Ascending);
        assert_eq!(layout.encode(&lone, &mut out), Err(KeyError::LoneSurrogate));
        assert_eq!(out, [0xAA]);
        let huge = JsBigInt::parse(&"9".repeat(400)).unwrap();
        assert_eq!(layout.encode(&Value::BigInt(huge), &mut out), Err(KeyError::BigIntTooLarge));
        let largest = JsBigInt::parse(&format!("-{}", "9".repeat(300))).unwrap();
        assert_eq!(largest.magnitude_be_bytes().len(), 125);
        assert!(layout.encode(&Value::BigInt(largest), &mut out).is_ok());
    }
}
