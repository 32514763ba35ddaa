//! Node.js binding of `stepping-core` (napi-rs v3): Z-set storage, identity,
//! multiset hash and key encoding for the TypeScript library, batch by batch.
//!
//! # Data layout
//!
//! JS keeps the row objects; the native side keeps per row its identity,
//! canonical bytes, weight, key bytes per index and a `u32` slot, and JS files
//! its object under that slot. Every call takes and returns whole batches:
//!
//! - byte strings (canonical texts, keys) are one concatenated `Uint8Array`
//!   (a `Buffer` will do) plus `Uint32Array` offsets with one entry more than
//!   there are items: item `i` is `bytes[offsets[i] .. offsets[i + 1]]`,
//!   `offsets[0] = 0`, and the last offset is `bytes.length`;
//! - weights are `Float64Array`s of safe integers (|w| ≤ 2^53 − 1);
//! - keys for `addBatch` are row-major: the key of row `i` for index `j` is
//!   item `i * indexCount + j`.
//!
//! # API (TypeScript view)
//!
//! ```ts
//! class NativeZSet {
//!   constructor(indexCount: number)
//!   readonly size: number        // rows with a non-zero weight
//!   readonly indexCount: number
//!   addBatch(canonical: Uint8Array, offsets: Uint32Array, weights: Float64Array,
//!            keys: Uint8Array, keyOffsets: Uint32Array): ChangeBatch
//!   mergeFrom(other: NativeZSet): ChangeBatch      // origins are slots in `other`
//!   negate(): void
//!   scale(factor: number): void                    // 0 clears
//!   clear(): void                                  // slots restart at 0
//!   hash(): string                                 // 32 hex digits, spec §3
//!   equals(other: NativeZSet): boolean
//!   findRows(canonical: Uint8Array, offsets: Uint32Array): SlotWeights
//!   entries(): SlotWeights                         // every row, in slot order
//!   lookupByKeys(index: number, keys: Uint8Array, offsets: Uint32Array): KeyedRows
//!   scanPrefix(index: number, prefix: Uint8Array, limit?: number): SlotWeights
//!   scanOrdered(index: number, limit?: number, reverse?: boolean): SlotWeights
//!   canonicalOf(slots: Uint32Array): EncodedBatch
//! }
//! interface ChangeBatch { origins: Uint32Array; slots: Uint32Array;
//!                         oldWeights: Float64Array; newWeights: Float64Array }
//! interface SlotWeights { slots: Uint32Array; weights: Float64Array }
//! interface KeyedRows   { offsets: Uint32Array; slots: Uint32Array; weights: Float64Array }
//! interface EncodedBatch { bytes: Buffer; offsets: Uint32Array }
//! function identityHashes(canonical: Uint8Array, offsets: Uint32Array): Buffer  // 16 bytes per row
//! function multisetHash(canonical: Uint8Array, offsets: Uint32Array, weights: Float64Array): string
//! function encodeKeysFromCanonical(canonical: Uint8Array, offsets: Uint32Array,
//!                                  ascending: boolean[], composite: boolean): EncodedBatch
//! ```
//!
//! `addBatch` and `mergeFrom` consolidate first and report one change per row
//! whose weight moved: `origins[k]` is the input position of the row's first
//! occurrence (or its slot in `other`). If `oldWeights[k]` is 0 the row is new
//! and JS stores its object at `slots[k]`; if `newWeights[k]` is 0 the row is
//! gone and its slot free. A slot appears at most once per batch, and a batch
//! that would push a weight out of range raises and changes nothing.

use std::cell::RefCell;
use std::fmt::Display;
use std::ptr;

use napi::bindgen_prelude::{Buffer, Float64Array, Uint32Array};
use napi::{Error, Result, Status};
use napi_derive::napi;
use stepping_core::batch::{RowBatch, Segments, SegmentsBuilder};
use stepping_core::hash::{Identity, MultisetHash};
use stepping_core::index::OrderedIndex;
use stepping_core::indexed_zset::IndexedZSet;
use stepping_core::key::{Direction, KeyLayout};
use stepping_core::value::Value;
use stepping_core::weight::{weight_from_f64, Weight};
use stepping_core::zset::{Change, Slot, ZSet};

/// The slot reported by `findRows` for a row that is not present.
const ABSENT_SLOT: Slot = Slot::MAX;

fn invalid_arg(message: impl Display) -> Error {
    Error::new(Status::InvalidArg, message.to_string())
}

fn segments<'a>(bytes: &'a [u8], offsets: &'a [u32]) -> Result<Segments<'a>> {
    Segments::new(bytes, offsets).map_err(invalid_arg)
}

fn weights_from_js(weights: &[f64]) -> Result<Vec<Weight>> {
    weights
        .iter()
        .enumerate()
        .map(|(row, &w)| weight_from_f64(w).map_err(|e| invalid_arg(format!("row {row}: weight {w}: {e}"))))
        .collect()
}

/// Weights are kept within the safe integers, so this is exact.
fn weight_to_js(weight: Weight) -> f64 {
    weight as f64
}

/// Weight changes of one update; see the crate docs for how JS applies them.
#[napi(object)]
pub struct ChangeBatch {
    pub origins: Uint32Array,
    pub slots: Uint32Array,
    pub old_weights: Float64Array,
    pub new_weights: Float64Array,
}

impl ChangeBatch {
    fn from_changes(changes: &[Change]) -> Self {
        ChangeBatch {
            origins: Uint32Array::new(changes.iter().map(|c| c.origin).collect()),
            slots: Uint32Array::new(changes.iter().map(|c| c.slot).collect()),
            old_weights: Float64Array::new(changes.iter().map(|c| weight_to_js(c.old_weight)).collect()),
            new_weights: Float64Array::new(changes.iter().map(|c| weight_to_js(c.new_weight)).collect()),
        }
    }
}

/// Rows as slots with their weights.
#[napi(object)]
pub struct SlotWeights {
    pub slots: Uint32Array,
    pub weights: Float64Array,
}

impl SlotWeights {
    fn collect(zset: &ZSet, slots: impl Iterator<Item = Slot>) -> Self {
        let slots: Vec<Slot> = slots.collect();
        let weights = slots.iter().map(|&slot| zset.row(slot).map_or(0.0, |row| weight_to_js(row.weight))).collect();
        SlotWeights { slots: Uint32Array::new(slots), weights: Float64Array::new(weights) }
    }
}

/// Results of several key lookups: those of key `i` are
/// `slots[offsets[i] .. offsets[i + 1]]` (and the same range of `weights`).
#[napi(object)]
pub struct KeyedRows {
    pub offsets: Uint32Array,
    pub slots: Uint32Array,
    pub weights: Float64Array,
}

/// Byte strings in the batch layout.
#[napi(object)]
pub struct EncodedBatch {
    pub bytes: Buffer,
    pub offsets: Uint32Array,
}

impl From<SegmentsBuilder> for EncodedBatch {
    fn from(builder: SegmentsBuilder) -> Self {
        let (bytes, offsets) = builder.into_parts();
        EncodedBatch { bytes: bytes.into(), offsets: Uint32Array::new(offsets) }
    }
}

/// A Z-set with ordered indexes, holding per-row identity, weight, keys and slot.
#[napi]
pub struct NativeZSet {
    // `RefCell` lets every method take `&self`, so `a.mergeFrom(a)` aliases
    // only shared references and is detected instead of being undefined behaviour.
    inner: RefCell<IndexedZSet>,
}

#[napi]
impl NativeZSet {
    #[napi(constructor)]
    pub fn new(index_count: u32) -> Self {
        NativeZSet { inner: RefCell::new(IndexedZSet::new(index_count as usize)) }
    }

    /// Number of rows with a non-zero weight.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.inner.borrow().rows().len() as u32
    }

    #[napi(getter)]
    pub fn index_count(&self) -> u32 {
        self.inner.borrow().indexes().len() as u32
    }

    /// Adds a batch of rows (not necessarily consolidated) with their keys.
    #[napi]
    pub fn add_batch(
        &self,
        canonical: &[u8],
        offsets: &[u32],
        weights: &[f64],
        keys: &[u8],
        key_offsets: &[u32],
    ) -> Result<ChangeBatch> {
        let weights = weights_from_js(weights)?;
        let batch = RowBatch::new(segments(canonical, offsets)?, &weights).map_err(invalid_arg)?;
        let keys = segments(keys, key_offsets)?;
        let changes = self.inner.borrow_mut().add_batch(&batch, &keys).map_err(invalid_arg)?;
        Ok(ChangeBatch::from_changes(&changes))
    }

    /// Adds every row of `other` (which must have as many indexes); a change's
    /// origin is the row's slot in `other`.
    #[napi]
    pub fn merge_from(&self, other: &NativeZSet) -> Result<ChangeBatch> {
        if ptr::eq(self, other) {
            return self.double();
        }
        let source = other.inner.borrow();
        let changes = self.inner.borrow_mut().add_from(&source).map_err(invalid_arg)?;
        Ok(ChangeBatch::from_changes(&changes))
    }

    /// Negates every weight (the group inverse); slots are unchanged.
    #[napi]
    pub fn negate(&self) {
        self.inner.borrow_mut().negate();
    }

    /// Multiplies every weight by an integer `factor`; 0 clears the Z-set.
    #[napi]
    pub fn scale(&self, factor: f64) -> Result<()> {
        let factor = weight_from_f64(factor).map_err(|e| invalid_arg(format!("factor {factor}: {e}")))?;
        self.inner.borrow_mut().scale(factor).map_err(invalid_arg)
    }

    /// Removes every row; slots are handed out from 0 again.
    #[napi]
    pub fn clear(&self) {
        self.inner.borrow_mut().clear();
    }

    /// The multiset hash (spec §3) as 32 lowercase hex digits.
    #[napi]
    pub fn hash(&self) -> String {
        self.inner.borrow().rows().hash().to_string()
    }

    /// Equal as Z-sets (same rows, same weights), whatever the slots.
    #[napi]
    pub fn equals(&self, other: &NativeZSet) -> bool {
        ptr::eq(self, other) || *self.inner.borrow().rows() == *other.inner.borrow().rows()
    }

    /// Slot and weight of each given row; absent rows get slot 4294967295 and weight 0.
    #[napi]
    pub fn find_rows(&self, canonical: &[u8], offsets: &[u32]) -> Result<SlotWeights> {
        let inner = self.inner.borrow();
        let rows = inner.rows();
        let (slots, weights): (Vec<Slot>, Vec<f64>) = segments(canonical, offsets)?
            .iter()
            .map(|text| match rows.slot_of(Identity::of_canonical(text)).and_then(|slot| rows.row(slot)) {
                Some(row) => (row.slot, weight_to_js(row.weight)),
                None => (ABSENT_SLOT, 0.0),
            })
            .unzip();
        Ok(SlotWeights { slots: Uint32Array::new(slots), weights: Float64Array::new(weights) })
    }

    /// Every row, in slot order.
    #[napi]
    pub fn entries(&self) -> SlotWeights {
        let inner = self.inner.borrow();
        SlotWeights::collect(inner.rows(), inner.rows().iter().map(|row| row.slot))
    }

    /// Rows whose key in index `index` equals each of the given keys.
    #[napi]
    pub fn lookup_by_keys(&self, index: u32, keys: &[u8], offsets: &[u32]) -> Result<KeyedRows> {
        let inner = self.inner.borrow();
        let ordered = index_at(&inner, index)?;
        let mut result_offsets = vec![0u32];
        let mut slots = Vec::new();
        for key in segments(keys, offsets)?.iter() {
            slots.extend(ordered.lookup(key));
            let end =
                u32::try_from(slots.len()).map_err(|_| invalid_arg("more than 2^32 results in one lookup batch"))?;
            result_offsets.push(end);
        }
        let SlotWeights { slots, weights } = SlotWeights::collect(inner.rows(), slots.into_iter());
        Ok(KeyedRows { offsets: Uint32Array::new(result_offsets), slots, weights })
    }

    /// Rows whose key in index `index` starts with `prefix`, in index order.
    #[napi]
    pub fn scan_prefix(&self, index: u32, prefix: &[u8], limit: Option<u32>) -> Result<SlotWeights> {
        let inner = self.inner.borrow();
        let ordered = index_at(&inner, index)?;
        Ok(SlotWeights::collect(inner.rows(), ordered.prefix_scan(prefix).take(limit_of(limit))))
    }

    /// Rows in the order of index `index` (key bytes, then canonical bytes),
    /// or the reverse order.
    #[napi]
    pub fn scan_ordered(&self, index: u32, limit: Option<u32>, reverse: Option<bool>) -> Result<SlotWeights> {
        let inner = self.inner.borrow();
        let ordered = index_at(&inner, index)?;
        let limit = limit_of(limit);
        Ok(if reverse.unwrap_or(false) {
            SlotWeights::collect(inner.rows(), ordered.scan().rev().take(limit))
        } else {
            SlotWeights::collect(inner.rows(), ordered.scan().take(limit))
        })
    }

    /// The canonical bytes of the rows in `slots`.
    #[napi]
    pub fn canonical_of(&self, slots: &[u32]) -> Result<EncodedBatch> {
        let inner = self.inner.borrow();
        let mut out = SegmentsBuilder::default();
        for &slot in slots {
            let row = inner.rows().row(slot).ok_or_else(|| invalid_arg(format!("slot {slot} holds no row")))?;
            out.push(row.canonical);
        }
        Ok(out.into())
    }
}

impl NativeZSet {
    /// `z.mergeFrom(z)`: every weight doubles; each row is its own origin.
    fn double(&self) -> Result<ChangeBatch> {
        let mut inner = self.inner.borrow_mut();
        let before: Vec<(Slot, Weight)> = inner.rows().iter().map(|row| (row.slot, row.weight)).collect();
        inner.scale(2).map_err(invalid_arg)?;
        let changes: Vec<Change> = before
            .into_iter()
            .map(|(slot, weight)| Change { slot, origin: slot, old_weight: weight, new_weight: 2 * weight })
            .collect();
        Ok(ChangeBatch::from_changes(&changes))
    }
}

fn index_at(collection: &IndexedZSet, index: u32) -> Result<&OrderedIndex> {
    collection
        .indexes()
        .get(index as usize)
        .ok_or_else(|| invalid_arg(format!("no index {index}: the collection has {}", collection.indexes().len())))
}

fn limit_of(limit: Option<u32>) -> usize {
    limit.map_or(usize::MAX, |n| n as usize)
}

/// Each row's identity (spec §2) as 16 bytes `h1‖h2‖h3‖h4`, rows back to back.
#[napi]
pub fn identity_hashes(canonical: &[u8], offsets: &[u32]) -> Result<Buffer> {
    let rows = segments(canonical, offsets)?;
    let mut out = Vec::with_capacity(16 * rows.len());
    for text in rows.iter() {
        out.extend(Identity::of_canonical(text).to_be_bytes());
    }
    Ok(out.into())
}

/// The multiset hash (spec §3) of rows with weights, as 32 lowercase hex digits.
#[napi]
pub fn multiset_hash(canonical: &[u8], offsets: &[u32], weights: &[f64]) -> Result<String> {
    let weights = weights_from_js(weights)?;
    let rows = RowBatch::new(segments(canonical, offsets)?, &weights).map_err(invalid_arg)?;
    let hash: MultisetHash = rows.iter().map(|(text, weight)| (Identity::of_canonical(text), weight)).collect();
    Ok(hash.to_string())
}

/// Key bytes (spec §4) of keys given as canonical text. A composite key's text
/// is the array of its components, with one `ascending` flag per component; a
/// single key has exactly one flag.
#[napi]
pub fn encode_keys_from_canonical(
    canonical: &[u8],
    offsets: &[u32],
    ascending: Vec<bool>,
    composite: bool,
) -> Result<EncodedBatch> {
    let mut directions = ascending.into_iter().map(Direction::from_ascending);
    let layout = if composite {
        KeyLayout::Composite(directions.collect())
    } else {
        match (directions.next(), directions.next()) {
            (Some(direction), None) => KeyLayout::Single(direction),
            _ => return Err(invalid_arg("a single (non-composite) key takes exactly one ascending flag")),
        }
    };
    let mut out = SegmentsBuilder::default();
    for (row, text) in segments(canonical, offsets)?.iter().enumerate() {
        let key = Value::parse_canonical(text).map_err(|e| invalid_arg(format!("key {row}: {e}")))?;
        layout.encode(&key, out.buffer()).map_err(|e| invalid_arg(format!("key {row}: {e}")))?;
        out.end_item();
    }
    Ok(out.into())
}
