//! The value model of rows and its canonical text (spec §1).
//!
//! A row is an immutable JS value. Two rows are the same row exactly when their
//! canonical texts are equal, which is what Z-sets consolidate on. Every type
//! here is normalised on construction the way canonical text is (object keys and
//! set elements sorted, Z-set entries consolidated, `-0` folded into `0`), so
//! equality of [`Value`]s is equality of their canonical texts.
//!
//! Parsing ([`Value::parse_canonical`]) lives in `parse`, writing
//! ([`Value::to_canonical`]) in `write`.

mod bigint;
mod js_string;
mod number;
mod parse;
#[cfg(test)]
pub(crate) mod strategies;
mod write;

use std::collections::BTreeMap;

pub use bigint::JsBigInt;
pub use js_string::{JsString, Utf16Units};
pub use number::{JsDate, JsNumber};
pub use parse::{ParseError, ParseErrorKind, MAX_NESTING};

use crate::weight::{checked_weight, Weight, WeightOutOfRange};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Bool(bool),
    Number(JsNumber),
    BigInt(JsBigInt),
    String(JsString),
    Date(JsDate),
    Array(Vec<Value>),
    /// A plain object; keys in code point order (see [`JsString`]).
    Object(BTreeMap<JsString, Value>),
    Set(SetValue),
    /// The outer join's "no match".
    Empty,
    /// A Z-set used as a value (nested relations, group results).
    ZSet(ZSetValue),
}

impl Value {
    /// A number value; `None` for NaN.
    pub fn number(n: f64) -> Option<Value> {
        JsNumber::new(n).map(Value::Number)
    }

    pub fn string(s: &str) -> Value {
        Value::String(JsString::from(s))
    }
}

/// A JS `Set`: elements sorted by canonical text. Duplicates are kept, because a
/// JS Set can hold two distinct objects with equal contents.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SetValue(Vec<Value>);

impl SetValue {
    pub fn new(mut elements: Vec<Value>) -> Self {
        elements.sort_by_cached_key(Value::to_canonical);
        SetValue(elements)
    }

    pub fn elements(&self) -> &[Value] {
        &self.0
    }
}

/// A Z-set as a value: entries sorted by the value's canonical text, one entry
/// per distinct value, no zero weights.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ZSetValue(Vec<(Value, Weight)>);

impl ZSetValue {
    /// Consolidates `entries`: weights of equal values are summed, zeros dropped.
    pub fn new(entries: impl IntoIterator<Item = (Value, Weight)>) -> Result<Self, WeightOutOfRange> {
        let mut keyed: Vec<(String, Value, Weight)> =
            entries.into_iter().map(|(value, weight)| (value.to_canonical(), value, weight)).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut consolidated: Vec<(Value, Weight)> = Vec::with_capacity(keyed.len());
        let mut keyed = keyed.into_iter().peekable();
        while let Some((text, value, weight)) = keyed.next() {
            let mut total = i128::from(weight);
            while let Some((_, _, more)) = keyed.next_if(|next| next.0 == text) {
                total += i128::from(more);
            }
            let total = checked_weight(total)?;
            if total != 0 {
                consolidated.push((value, total));
            }
        }
        Ok(ZSetValue(consolidated))
    }

    pub fn entries(&self) -> &[(Value, Weight)] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn set_elements_sort_by_canonical_text() {
        let set = SetValue::new(vec![Value::string("b"), Value::number(10.0).unwrap(), Value::Null]);
        let texts: Vec<String> = set.elements().iter().map(Value::to_canonical).collect();
        assert_eq!(texts, ["\"b\"", "10", "null"]);
    }

    #[test]
    fn zset_values_consolidate() {
        let a = Value::string("a");
        let b = Value::string("b");
        let z = ZSetValue::new([(b.clone(), 2), (a.clone(), 1), (b.clone(), -2), (a.clone(), 3)]).unwrap();
        assert_eq!(z.entries(), &[(a, 4)]);
        assert_eq!(ZSetValue::new([(Value::Null, crate::weight::MAX_WEIGHT), (Value::Null, 1)]), Err(WeightOutOfRange));
    }

    #[test]
    fn equality_is_canonical_equality() {
        let one = Value::number(1.0).unwrap();
        let left = Value::Set(SetValue::new(vec![one.clone(), Value::Null]));
        let right = Value::Set(SetValue::new(vec![Value::Null, one]));
        assert_eq!(left, right);
        assert_eq!(Value::number(-0.0), Value::number(0.0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn canonical_text_round_trips(value in strategies::value()) {
            let text = value.to_canonical();
            let parsed = Value::parse_canonical(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(parsed.to_canonical(), text);
            prop_assert_eq!(parsed, value);
        }

        /// Canonical text is JSON: an independent parser reads strings back intact.
        #[test]
        fn strings_are_valid_json(s in strategies::well_formed_string()) {
            let text = Value::String(s.clone()).to_canonical();
            let decoded: String = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(Some(decoded.as_str()), s.as_str());
        }

        /// Numbers print as the shortest text that reads back as the same double.
        #[test]
        fn numbers_read_back_exactly(n in strategies::number()) {
            let text = Value::Number(n).to_canonical();
            let reparsed = Value::parse_canonical(text.as_bytes()).unwrap();
            prop_assert_eq!(reparsed, Value::Number(n));
        }
    }
}
