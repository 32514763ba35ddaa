//! Writing canonical text (spec §1): the JSON document, without whitespace, whose
//! UTF-8 bytes are a row's identity. Numbers are formatted like ECMAScript's
//! `Number.prototype.toString` (via `ryu-js`) and strings escaped exactly like
//! `JSON.stringify`, so the TypeScript and Rust writers agree byte for byte.

use super::{JsString, Value};

impl Value {
    pub fn to_canonical(&self) -> String {
        let mut out = String::new();
        self.write_canonical(&mut out);
        out
    }

    pub fn write_canonical(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => write_number(n.get(), out),
            Value::BigInt(n) => {
                out.push_str("{\"$n\":\"");
                out.push_str(&n.to_string());
                out.push_str("\"}");
            }
            Value::String(s) => write_string(s, false, out),
            Value::Date(d) => {
                out.push_str("{\"$d\":");
                write_number(d.millis().get(), out);
                out.push('}');
            }
            Value::Array(items) => write_list(items, out),
            Value::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    // `$x` is written `$$x` so that no key clashes with the tags.
                    write_string(key, key.starts_with_dollar(), out);
                    out.push(':');
                    value.write_canonical(out);
                }
                out.push('}');
            }
            Value::Set(set) => {
                out.push_str("{\"$s\":");
                write_list(set.elements(), out);
                out.push('}');
            }
            Value::Empty => out.push_str("{\"$e\":0}"),
            Value::ZSet(zset) => {
                out.push_str("{\"$z\":[");
                for (i, (value, weight)) in zset.entries().iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    value.write_canonical(out);
                    out.push(',');
                    // Weights are safe integers, which JS prints as plain digits.
                    out.push_str(&weight.to_string());
                    out.push(']');
                }
                out.push_str("]}");
            }
        }
    }
}

fn write_list(items: &[Value], out: &mut String) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item.write_canonical(out);
    }
    out.push(']');
}

fn write_number(n: f64, out: &mut String) {
    if n == f64::INFINITY {
        out.push_str("{\"$f\":\"Infinity\"}");
    } else if n == f64::NEG_INFINITY {
        out.push_str("{\"$f\":\"-Infinity\"}");
    } else {
        out.push_str(ryu_js::Buffer::new().format_finite(n));
    }
}

/// `JSON.stringify(s)`, optionally with a `$` in front of the content.
fn write_string(s: &JsString, dollar_prefix: bool, out: &mut String) {
    out.push('"');
    if dollar_prefix {
        out.push('$');
    }
    match s.as_str() {
        Some(text) => write_escaped_str(text, out),
        None => {
            for decoded in char::decode_utf16(s.utf16_units()) {
                match decoded {
                    Ok(c) => write_escaped_str(c.encode_utf8(&mut [0; 4]), out),
                    Err(lone) => push_unicode_escape(lone.unpaired_surrogate(), out),
                }
            }
        }
    }
    out.push('"');
}

/// Escapes like `JSON.stringify` on well-formed text: quote, backslash and the
/// C0 controls; everything else (DEL, U+2028, non-ASCII) is written literally.
fn write_escaped_str(text: &str, out: &mut String) {
    let mut unescaped_from = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0C => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1F => "",
            _ => continue,
        };
        out.push_str(&text[unescaped_from..i]);
        if escape.is_empty() {
            push_unicode_escape(u16::from(byte), out);
        } else {
            out.push_str(escape);
        }
        unescaped_from = i + 1;
    }
    out.push_str(&text[unescaped_from..]);
}

/// `\uxxxx` with lowercase hex digits, as `JSON.stringify` writes it.
fn push_unicode_escape(unit: u16, out: &mut String) {
    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX_DIGITS[usize::from((unit >> shift) & 0xF)]));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{JsBigInt, JsDate, SetValue, ZSetValue};
    use super::*;
    use std::collections::BTreeMap;

    fn number(n: f64) -> String {
        Value::number(n).unwrap().to_canonical()
    }

    #[test]
    fn numbers_print_like_javascript() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (123456789012345680000.0, "123456789012345680000"),
            (f64::INFINITY, "{\"$f\":\"Infinity\"}"),
            (f64::NEG_INFINITY, "{\"$f\":\"-Infinity\"}"),
        ];
        for (n, text) in cases {
            assert_eq!(number(n), text, "{n:e}");
        }
    }

    #[test]
    fn strings_escape_like_json_stringify() {
        let cases = [
            ("plain", r#""plain""#),
            ("q\"b\\s/", r#""q\"b\\s/""#),
            ("\u{8}\u{c}\n\r\t", r#""\b\f\n\r\t""#),
            ("\u{0}\u{1f}\u{7f}", "\"\\u0000\\u001f\u{7f}\""),
            ("\u{2028}é😀", "\"\u{2028}é😀\""),
        ];
        for (s, text) in cases {
            assert_eq!(Value::string(s).to_canonical(), text);
        }
        let lone = Value::String(JsString::from_utf16(&[0x61, 0xDBFF, 0x0A, 0xDC00]));
        assert_eq!(lone.to_canonical(), r#""a\udbff\n\udc00""#);
    }

    #[test]
    fn tagged_values() {
        assert_eq!(Value::BigInt(JsBigInt::from(-12)).to_canonical(), r#"{"$n":"-12"}"#);
        let date = JsDate::from_millis(1_700_000_000_000.0).unwrap();
        assert_eq!(Value::Date(date).to_canonical(), r#"{"$d":1700000000000}"#);
        assert_eq!(Value::Empty.to_canonical(), r#"{"$e":0}"#);
        let set = SetValue::new(vec![Value::string("x"), Value::Bool(true)]);
        assert_eq!(Value::Set(set).to_canonical(), r#"{"$s":["x",true]}"#);
        let zset = ZSetValue::new([(Value::string("b"), -1), (Value::Null, 2)]).unwrap();
        assert_eq!(Value::ZSet(zset).to_canonical(), r#"{"$z":[["b",-1],[null,2]]}"#);
    }

    #[test]
    fn objects_sort_keys_and_escape_dollars() {
        let members: BTreeMap<JsString, Value> = [
            ("b", Value::Null),
            ("$d", Value::Bool(true)),
            ("a", Value::Array(vec![Value::number(1.0).unwrap(), Value::string("$")])),
            ("", Value::Bool(false)),
        ]
        .into_iter()
        .map(|(k, v)| (JsString::from(k), v))
        .collect();
        assert_eq!(Value::Object(members).to_canonical(), r#"{"":false,"$$d":true,"a":[1,"$"],"b":null}"#);
    }
}
