//! Shared test vectors (docs/encoding.md): the TypeScript implementation writes
//! `testdata/vectors/{values,multiset,keys}.json`, and the native core must agree
//! with every entry byte for byte. A missing file fails the test: passing
//! without the vectors would prove nothing.

use std::path::PathBuf;

use serde_json::Value as Json;
use stepping_core::batch::{RowBatch, Segments, SegmentsBuilder};
use stepping_core::hash::{Identity, MultisetHash};
use stepping_core::key::{Direction, KeyLayout};
use stepping_core::value::Value;
use stepping_core::weight::weight_from_f64;
use stepping_core::zset::ZSet;

fn load(name: &str) -> Json {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "shared vectors {} are missing ({e}); they are written by the TypeScript side, \
             and this test cannot pass without them",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

fn text<'a>(json: &'a Json, field: &str) -> &'a str {
    json[field].as_str().unwrap_or_else(|| panic!("vector field {field:?} must be a string in {json}"))
}

fn list<'a>(json: &'a Json, field: &str) -> &'a [Json] {
    json[field].as_array().unwrap_or_else(|| panic!("vector field {field:?} must be an array in {json}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fails once, listing every disagreement, after all vectors were checked.
fn report(file: &str, checked: usize, failures: Vec<String>) {
    assert!(checked > 0, "{file} holds no vectors");
    assert!(
        failures.is_empty(),
        "{} of {checked} vectors in {file} disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn layout(json: &Json) -> KeyLayout {
    let directions: Vec<Direction> = list(json, "ascending")
        .iter()
        .map(|flag| Direction::from_ascending(flag.as_bool().expect("ascending flags are booleans")))
        .collect();
    match json["composite"].as_bool().expect("composite is a boolean") {
        true => KeyLayout::Composite(directions),
        false => {
            assert_eq!(directions.len(), 1, "a single key has one direction: {json}");
            KeyLayout::Single(directions[0])
        }
    }
}

fn encode_key(layout: &KeyLayout, key_text: &str) -> Result<Vec<u8>, String> {
    let key = Value::parse_canonical(key_text.as_bytes()).map_err(|e| format!("{key_text}: {e}"))?;
    layout.encode_to_vec(&key).map_err(|e| format!("{key_text}: {e}"))
}

#[test]
fn values_round_trip_and_hash() {
    let vectors = load("values.json");
    let vectors = vectors.as_array().expect("values.json is an array");
    let mut failures = Vec::new();
    for vector in vectors {
        let canonical = text(vector, "canonical");
        match Value::parse_canonical(canonical.as_bytes()) {
            Ok(value) if value.to_canonical() != canonical => {
                failures.push(format!("{canonical}: rewritten as {}", value.to_canonical()))
            }
            Ok(_) => {}
            Err(e) => failures.push(format!("{canonical}: {e}")),
        }
        let identity = Identity::of_canonical(canonical.as_bytes()).to_string();
        if identity != text(vector, "hash") {
            failures.push(format!("{canonical}: hash {identity}, expected {}", text(vector, "hash")));
        }
    }
    report("values.json", vectors.len(), failures);
}

#[test]
fn multiset_hashes() {
    let vectors = load("multiset.json");
    let vectors = vectors.as_array().expect("multiset.json is an array");
    let mut failures = Vec::new();
    for vector in vectors {
        let mut canonical = SegmentsBuilder::default();
        let mut weights = Vec::new();
        for row in list(vector, "rows") {
            let [text, weight] = row.as_array().map(Vec::as_slice).unwrap_or_default() else {
                panic!("a row is [canonical, weight]: {row}");
            };
            canonical.push(text.as_str().expect("canonical text").as_bytes());
            let weight = weight.as_f64().expect("weight is a number");
            weights.push(weight_from_f64(weight).expect("weight is a safe integer"));
        }
        let (bytes, offsets) = canonical.into_parts();
        let segments = Segments::new(&bytes, &offsets).expect("built from parts");
        let from_terms: MultisetHash =
            segments.iter().zip(&weights).map(|(text, &weight)| (Identity::of_canonical(text), weight)).collect();
        let zset = ZSet::from_batches(&[RowBatch::new(segments, &weights).expect("one weight per row")])
            .expect("weights in range");
        let expected = text(vector, "hash");
        if from_terms.to_string() != expected || zset.hash().to_string() != expected {
            failures.push(format!(
                "{}: terms give {from_terms}, the Z-set {}, expected {expected}",
                vector["rows"],
                zset.hash()
            ));
        }
    }
    report("multiset.json", vectors.len(), failures);
}

#[test]
fn key_encodings() {
    let vectors = load("keys.json");
    let encodings = list(&vectors, "encodings");
    let mut failures = Vec::new();
    for vector in encodings {
        let key_text = text(vector, "key");
        match encode_key(&layout(vector), key_text) {
            Ok(bytes) if hex(&bytes) == text(vector, "hex") => {}
            Ok(bytes) => failures.push(format!("{key_text}: {} expected {}", hex(&bytes), text(vector, "hex"))),
            Err(e) => failures.push(e),
        }
    }
    report("keys.json encodings", encodings.len(), failures);
}

#[test]
fn key_orders() {
    let vectors = load("keys.json");
    let orders = list(&vectors, "orders");
    let mut failures = Vec::new();
    for order in orders {
        let layout = layout(order);
        let keys: Vec<&str> = list(order, "sorted").iter().map(|key| key.as_str().expect("key text")).collect();
        let encoded: Result<Vec<Vec<u8>>, String> = keys.iter().map(|key| encode_key(&layout, key)).collect();
        match encoded {
            Err(e) => failures.push(e),
            Ok(encoded) => {
                for (pair, texts) in encoded.windows(2).zip(keys.windows(2)) {
                    if pair[0] > pair[1] {
                        failures.push(format!("{layout:?}: {} sorts after {}", texts[0], texts[1]));
                    }
                }
            }
        }
    }
    report("keys.json orders", orders.len(), failures);
}
