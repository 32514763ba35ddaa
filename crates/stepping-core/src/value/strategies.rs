//! Proptest strategies for values (test support): every kind of value the spec
//! names, with the edge cases that matter to canonical text and key order
//! (signed zeros, infinities, subnormals, NUL and astral characters, lone
//! surrogates, `$` keys, bigints past 128 bits).

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{JsBigInt, JsDate, JsNumber, JsString, SetValue, Value, ZSetValue};

pub fn number() -> impl Strategy<Value = JsNumber> {
    prop_oneof![
        any::<f64>(),
        Just(0.0),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        (-1000i32..1000).prop_map(f64::from),
        (-1e6f64..1e6).prop_map(|x| (x * 100.0).round() / 100.0),
    ]
    .prop_filter_map("NaN is not a value", JsNumber::new)
}

pub fn bigint() -> impl Strategy<Value = JsBigInt> {
    prop_oneof![
        any::<i128>().prop_map(JsBigInt::from),
        (-300i128..300).prop_map(JsBigInt::from),
        ("[1-9][0-9]{30,80}", any::<bool>()).prop_map(|(digits, negative)| {
            let text = if negative { format!("-{digits}") } else { digits };
            JsBigInt::parse(&text).expect("canonical digits")
        }),
    ]
}

/// Well-formed strings, weighted towards characters that are escaped or sort specially.
pub fn well_formed_string() -> impl Strategy<Value = JsString> {
    let character = prop_oneof![
        4 => proptest::char::range('a', 'e'),
        1 => Just('\0'),
        1 => Just('"'),
        1 => Just('\\'),
        1 => Just('$'),
        1 => proptest::char::range('\u{1}', '\u{1f}'),
        1 => Just('\u{ffff}'),
        1 => Just('\u{e000}'),
        1 => Just('😀'),
        2 => any::<char>(),
    ];
    proptest::collection::vec(character, 0..6).prop_map(|chars| JsString::from(chars.into_iter().collect::<String>()))
}

pub fn string() -> impl Strategy<Value = JsString> {
    prop_oneof![
        4 => well_formed_string(),
        1 => proptest::collection::vec(prop_oneof![0x20u16..0x80, 0xD800u16..0xE000, any::<u16>()], 0..5)
            .prop_map(|units| JsString::from_utf16(&units)),
    ]
}

pub fn date() -> impl Strategy<Value = JsDate> {
    prop_oneof![
        (-8_640_000_000_000_000i64..=8_640_000_000_000_000).prop_map(|ms| ms as f64),
        (-5000i64..5000).prop_map(|ms| ms as f64),
    ]
    .prop_map(|ms| JsDate::from_millis(ms).expect("in range"))
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        bigint().prop_map(Value::BigInt),
        string().prop_map(Value::String),
        date().prop_map(Value::Date),
        Just(Value::Empty),
    ]
}

/// Any value, nested a few levels deep.
pub fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((string(), inner.clone()), 0..4)
                .prop_map(|members| Value::Object(members.into_iter().collect::<BTreeMap<_, _>>())),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|items| Value::Set(SetValue::new(items))),
            proptest::collection::vec((inner, -3i64..=3), 0..4)
                .prop_map(|entries| Value::ZSet(ZSetValue::new(entries).expect("small weights"))),
        ]
    })
}

/// Values that can be key components: like [`value`] but without lone surrogates
/// in strings that are encoded as text (objects may still hold them).
pub fn key_component() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        bigint().prop_map(Value::BigInt),
        well_formed_string().prop_map(Value::String),
        date().prop_map(Value::Date),
        Just(Value::Empty),
        proptest::collection::vec((string(), scalar()), 0..3)
            .prop_map(|members| Value::Object(members.into_iter().collect::<BTreeMap<_, _>>())),
        proptest::collection::vec(scalar(), 0..3).prop_map(|items| Value::Set(SetValue::new(items))),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| proptest::collection::vec(inner, 0..4).prop_map(Value::Array))
}
