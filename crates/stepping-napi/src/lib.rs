//! Node.js binding of `stepping-core` (napi-rs v3): Z-set storage, identity,
//! multiset hash and key encoding for the TypeScript library, batch by batch.
//!
//! # Data layout
//!
//! JS keeps the row objects in an array indexed by slot; the native side keeps
//! per row its identity, weight, slot and key bytes per index. Every call takes
//! and returns whole batches, and results are written into typed arrays the
//! caller reuses (for the per-iteration `table*` calls, the exchange arrays
//! registered once: see `Exchange`), so a call allocates no JS objects at all:
//!
//! - input strings travel joined: JS joins a batch's canonical texts into one
//!   string and writes it with a single `Buffer.write` (UTF-8), and passes each
//!   text's `string.length` (UTF-16 units) in a `Uint32Array`; keys are binary
//!   strings (one char per byte), joined and written as latin1, with byte
//!   lengths. ASCII batches (the usual case) are recognised by their total length;
//!   otherwise the native side finds the boundaries by walking the UTF-8.
//! - weights are `Float64Array`s of safe integers (|w| ≤ 2^53 − 1);
//! - keys for `apply` are row-major: the key of row `i` for index `j` is item
//!   `i * indexCount + j`.
//!
//! # API (TypeScript view)
//!
//! ```ts
//! class NativeZSet {
//!   constructor(indexCount: number)
//!   readonly size: number        // rows with a non-zero weight
//!   readonly handle: number      // for the table* functions, while this object lives
//!   readonly indexCount: number
//!   mergeFrom(other: NativeZSet, factor: number, out: Uint32Array): number
//!   copy(): NativeZSet
//!   negate(): void
//!   scale(factor: number): void                    // 0 clears
//!   clear(): void                                  // slots restart at 0
//!   hash(): string                                 // 32 hex digits, spec §3, kept incrementally
//!   recomputeHash(): string                        // the same, from scratch (for checks)
//!   equals(other: NativeZSet): boolean
//!   entries(outSlots: Uint32Array, outWeights: Float64Array): number
//!   scan(index: number, after: Uint8Array, prefix: Uint8Array, limit: number,
//!        outSlots: Uint32Array, outWeights: Float64Array, outKeyLengths: Uint32Array,
//!        outBytes: Uint8Array): number
//! }
//! function identityHashes(canonical: Uint8Array, offsets: Uint32Array): Buffer  // 16 bytes per row
//! function multisetHash(canonical: Uint8Array, offsets: Uint32Array, weights: Float64Array): string
//! function encodeKeysFromCanonical(canonical: Uint8Array, offsets: Uint32Array,
//!                                  ascending: boolean[], composite: boolean): EncodedBatch
//! interface EncodedBatch { bytes: Buffer; offsets: Uint32Array }
//! // The calls made every iteration take the table's handle (see `Handles`) and
//! // pass their data through the exchange arrays (see `Exchange`):
//! function setExchange(exchange: { rowBytes: Uint8Array, keyBytes: Uint8Array,
//!                      rowLengths: Uint32Array, keyLengths: Uint32Array, weights: Float64Array,
//!                      slots: Uint32Array, slotWeights: Float64Array, counts: Uint32Array }): void
//! function tableApply(handle: number, rows: number, rowBytes: number, keyBytes: number): number
//! function tableWeightsOf(handle: number, rows: number, rowBytes: number): void
//! function tableLookup(handle: number, index: number, keys: number, keyBytes: number,
//!                      sorted: boolean, withCounts: boolean): number
//! function tableSize(handle: number): number       // = size
//! class NativeCompactor {
//!   constructor(tokens: string[])
//!   setNames(names: string[] | null, full: boolean): void
//!   compact(texts: Uint8Array, textLengths: Uint32Array, keyTexts: Uint8Array,
//!           keyLengths: Uint32Array, outLengths: Uint32Array): string | null
//! }
//! ```
//!
//! - `setExchange` registers the arrays the `table*` calls read and write; they
//!   must not share memory. Each call names how many items (rows, keys) and
//!   bytes of the exchange it uses; more than an array holds is an error.
//! - `tableApply` adds a batch (not necessarily consolidated): `rows` texts
//!   (`rowBytes`, `rowLengths`), `weights`, and `rows × indexCount` keys (`keyBytes`,
//!   `keyLengths`). It writes into `slots` (at least 2 × rows long) one pair per
//!   row that appeared or disappeared:
//!   `(slot, origin)` for a new row, where `origin` is the input position of the
//!   row's first occurrence — JS stores that row's object at `slot` — and
//!   `(slot, 0xFFFFFFFF)` for a row whose weight returned to 0 (its slot is free).
//!   Rows whose weight merely changed are not reported. Returns the number of
//!   pairs. A slot appears at most once per call, a freed slot is not reused in
//!   the same call, and a batch that would push a weight out of range raises and
//!   changes nothing.
//! - `mergeFrom` adds `factor ×` another table with the same indexes; the same
//!   pairs, with `origin` the row's slot in `other` (`out` at least 2 × other.size).
//! - `copy` is an independent copy with the same slots.
//! - `tableWeightsOf` writes each given row's weight (0 if absent) into `slotWeights`.
//! - `tableLookup` finds the rows under each of `keys` keys of index `index` and
//!   writes their slots and weights into `slots` and `slotWeights`, key after key
//!   (within a key in identity order when `sorted`, else in storage order), and,
//!   `withCounts`, the number of rows of each key into `counts`. Returns the
//!   total; when that exceeds `slots.length` or `slotWeights.length` what they
//!   hold is not the answer and the caller retries with bigger arrays.
//! - `entries` writes every row's slot and weight (slot order) into the arrays
//!   it is given; the same protocol.
//! - `scan` writes rows in index order — key bytes, then identity — whose key
//!   starts with `prefix`, starting after the cursor `after` (key bytes followed
//!   by the 16 identity bytes of the last row seen; empty to start at the
//!   beginning), at most `limit` rows. Per row: slot, weight, key length, and in
//!   `outBytes` the key bytes followed by the identity as 32 lowercase hex
//!   digits. Returns the number of rows `n` written, or `-(n + 1)` when it
//!   stopped early because `outBytes` was full (more rows may follow).
//! - `NativeCompactor.compact` turns a batch of canonical texts (lengths in
//!   UTF-16 units) into their stored form (`stepping_core::stored_form`): each
//!   row's first key's text is given in `keyTexts` by byte length (0: none;
//!   `0xFFFFFFFF`: the previous row's). Returns the stored forms joined, with
//!   each one's UTF-16 length in `outLengths`, or null when a text holds a field
//!   name the dictionary of `setNames` lacks and could still take.

use std::cell::{Cell, RefCell};
use std::fmt::Display;
use std::rc::Rc;

use napi::bindgen_prelude::{
    Buffer, Float64Array, Float64ArraySlice, ObjectFinalize, Uint32Array, Uint32ArraySlice, Uint8Array, Uint8ArraySlice,
};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;
use stepping_core::batch::utf16_units;
use stepping_core::batch::{
    key_slices_from_lengths, offsets_from_lengths, LengthUnit, RowBatch, Segments, SegmentsBuilder,
};
use stepping_core::hash::{Identity, MultisetHash};
use stepping_core::index::ScanStart;
use stepping_core::indexed_zset::IndexedZSet;
use stepping_core::key::{Direction, KeyLayout};
use stepping_core::stored_form::{Compactor, Names};
use stepping_core::value::Value;
use stepping_core::weight::{weight_from_f64, Weight};
use stepping_core::zset::Change;

/// The origin reported for a row that disappeared.
const REMOVED: u32 = u32::MAX;

fn invalid_arg(message: impl Display) -> Error {
    Error::new(Status::InvalidArg, message.to_string())
}

fn segments<'a>(bytes: &'a [u8], offsets: &'a [u32]) -> Result<Segments<'a>> {
    Segments::new(bytes, offsets).map_err(invalid_arg)
}

fn weights_from_js(weights: &[f64], out: &mut Vec<Weight>) -> Result<()> {
    out.clear();
    out.reserve(weights.len());
    for (row, &w) in weights.iter().enumerate() {
        out.push(weight_from_f64(w).map_err(|e| invalid_arg(format!("row {row}: weight {w}: {e}")))?);
    }
    Ok(())
}

/// Weights are kept within the safe integers, so this is exact.
fn weight_to_js(weight: Weight) -> f64 {
    weight as f64
}

/// Writes the appear/disappear pairs of an update into `out`; returns their number.
fn write_changes(changes: &[Change], out: &mut [u32]) -> u32 {
    let mut pairs = 0;
    for change in changes {
        let origin = if change.is_removal() {
            REMOVED
        } else if change.is_insertion() {
            change.origin
        } else {
            continue;
        };
        out[2 * pairs] = change.slot;
        out[2 * pairs + 1] = origin;
        pairs += 1;
    }
    pairs as u32
}

fn write_hex(identity: Identity, out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (k, byte) in identity.to_be_bytes().iter().enumerate() {
        out[2 * k] = DIGITS[(byte >> 4) as usize];
        out[2 * k + 1] = DIGITS[(byte & 15) as usize];
    }
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

/// Reused buffers for turning lengths into offsets and JS weights into weights.
#[derive(Default)]
struct Scratch {
    row_offsets: Vec<u32>,
    key_offsets: Vec<u32>,
    key_ranges: Vec<(u32, u32)>,
    weights: Vec<Weight>,
}

/// A table's data, shared by its class object and its handle.
struct Table {
    // `RefCell` lets every call take `&self`, so `a.mergeFrom(a)` aliases
    // only shared references and is detected instead of being undefined behaviour.
    inner: RefCell<IndexedZSet>,
    scratch: RefCell<Scratch>,
    /// Bytes reported to V8 as kept alive by this object (so that garbage tables
    /// are collected as promptly as their real size deserves).
    reported: Cell<i64>,
}

/// A Z-set with ordered indexes, holding per-row identity, weight, keys and slot.
#[napi(custom_finalize)]
pub struct NativeZSet {
    table: Rc<Table>,
    /// The table's number for the `table*` functions, until this object is collected.
    handle: u32,
}

/// Tables by handle. The calls JS makes every iteration (`tableApply`,
/// `tableLookup`, `tableWeightsOf`, `tableSize`) are plain functions taking a
/// handle: napi-rs 3 roots `this` and registers a borrow of it for every class
/// method, ~175 ns a call on the bench machine, where a function costs ~25 ns.
/// A handle stays valid while its `NativeZSet` lives; the finalizer frees it
/// for a later table to reuse, so JS keeps the object alongside its handle.
/// An unknown handle is an error: a wrong handle never reaches freed memory.
#[derive(Default)]
struct Handles {
    tables: Vec<Option<Rc<Table>>>,
    free: Vec<u32>,
}

thread_local! {
    // Per thread, as each worker thread has its own JS objects.
    static HANDLES: RefCell<Handles> = RefCell::default();
}

fn register(table: &Rc<Table>) -> u32 {
    HANDLES.with_borrow_mut(|h| match h.free.pop() {
        Some(handle) => {
            h.tables[handle as usize] = Some(Rc::clone(table));
            handle
        }
        None => {
            h.tables.push(Some(Rc::clone(table)));
            (h.tables.len() - 1) as u32
        }
    })
}

fn unregister(handle: u32) {
    HANDLES.with_borrow_mut(|h| {
        if let Some(slot @ Some(_)) = h.tables.get_mut(handle as usize) {
            *slot = None;
            h.free.push(handle);
        }
    })
}

fn by_handle(handle: u32) -> Result<Rc<Table>> {
    HANDLES
        .with_borrow(|h| h.tables.get(handle as usize).and_then(|t| t.clone()))
        .ok_or_else(|| invalid_arg(format!("no table has handle {handle}")))
}

/// Memory is reported to V8 in steps of this many bytes. Reporting every
/// megabyte kept RSS lowest when big tables were created and dropped in a loop,
/// but made V8 run full collections of the JS heap while a table grew (25%
/// slower integration of a million rows); in steps this large only tables
/// that big are reported, so V8 still learns that dropping one frees memory.
const REPORT_STEP: i64 = 256 << 20;

impl NativeZSet {
    fn wrap(inner: IndexedZSet) -> Self {
        let table = Rc::new(Table { inner: RefCell::new(inner), scratch: RefCell::default(), reported: Cell::new(0) });
        let handle = register(&table);
        NativeZSet { table, handle }
    }
}

impl Table {
    /// Tells V8 how much memory the table holds, when that changed noticeably.
    fn report_memory(&self, env: &Env) {
        let now = self.inner.borrow().allocated_bytes() as i64;
        let delta = now - self.reported.get();
        if delta.abs() >= REPORT_STEP || (now == 0 && delta != 0) {
            // A failure only means V8 schedules its collections less well.
            if env.adjust_external_memory(delta).is_ok() {
                self.reported.set(now);
            }
        }
    }

    fn size(&self) -> u32 {
        self.inner.borrow().rows().len() as u32
    }

    fn check_index(&self, index: u32) -> Result<usize> {
        let count = self.inner.borrow().indexes().len();
        if (index as usize) < count {
            Ok(index as usize)
        } else {
            Err(invalid_arg(format!("no index {index}: the table has {count}")))
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        env: &Env,
        rows: &[u8],
        row_lengths: &[u32],
        weights: &[f64],
        keys: &[u8],
        key_lengths: &[u32],
        out: &mut [u32],
    ) -> Result<u32> {
        if out.len() < 2 * row_lengths.len() {
            return Err(invalid_arg("out must hold two entries per row"));
        }
        let scratch = &mut *self.scratch.borrow_mut();
        offsets_from_lengths(rows, row_lengths, LengthUnit::Utf16, &mut scratch.row_offsets)
            .map_err(|e| invalid_arg(format!("rows: {e}")))?;
        weights_from_js(weights, &mut scratch.weights)?;
        let batch = RowBatch::new(segments(rows, &scratch.row_offsets)?, &scratch.weights).map_err(invalid_arg)?;
        let per_row = if row_lengths.is_empty() { 0 } else { key_lengths.len() / row_lengths.len() };
        let keys = key_slices_from_lengths(keys, key_lengths, per_row, &mut scratch.key_ranges)
            .map_err(|e| invalid_arg(format!("keys: {e}")))?;
        let pairs = {
            let mut inner = self.inner.borrow_mut();
            let changes = inner.add_batch(&batch, &keys).map_err(invalid_arg)?;
            write_changes(changes, out)
        };
        self.report_memory(env);
        Ok(pairs)
    }

    fn weights_of(&self, rows: &[u8], row_lengths: &[u32], out: &mut [f64]) -> Result<()> {
        if out.len() < row_lengths.len() {
            return Err(invalid_arg("out must hold one entry per row"));
        }
        let scratch = &mut *self.scratch.borrow_mut();
        offsets_from_lengths(rows, row_lengths, LengthUnit::Utf16, &mut scratch.row_offsets)
            .map_err(|e| invalid_arg(format!("rows: {e}")))?;
        let inner = self.inner.borrow();
        for (k, text) in segments(rows, &scratch.row_offsets)?.iter().enumerate() {
            out[k] = weight_to_js(inner.rows().weight(Identity::of_canonical(text)));
        }
        Ok(())
    }

    fn lookup(
        &self,
        index: u32,
        keys: &[u8],
        key_lengths: &[u32],
        sorted: bool,
        (out_slots, out_weights, out_counts): (&mut [u32], &mut [f64], &mut [u32]),
    ) -> Result<u32> {
        let index = self.check_index(index)?;
        if !out_counts.is_empty() && out_counts.len() < key_lengths.len() {
            return Err(invalid_arg("outCounts must be empty or hold one entry per key"));
        }
        let scratch = &mut *self.scratch.borrow_mut();
        offsets_from_lengths(keys, key_lengths, LengthUnit::Bytes, &mut scratch.key_offsets)
            .map_err(|e| invalid_arg(format!("keys: {e}")))?;
        let keys = segments(keys, &scratch.key_offsets)?;
        let capacity = out_slots.len().min(out_weights.len());
        let mut total = 0usize;
        let mut inner = self.inner.borrow_mut();
        for (k, key) in keys.iter().enumerate() {
            let members = if sorted { inner.lookup_sorted(index, key) } else { inner.lookup(index, key) };
            let end = total + members.len();
            if end <= capacity {
                members.copy_to(&mut out_slots[total..end]);
            }
            if !out_counts.is_empty() {
                out_counts[k] = members.len() as u32;
            }
            total = end;
        }
        if total <= capacity {
            let rows = inner.rows();
            for (slot, weight) in out_slots[..total].iter().zip(out_weights.iter_mut()) {
                *weight = weight_to_js(rows.weight_at(*slot));
            }
        }
        u32::try_from(total).map_err(|_| invalid_arg("more than 2^32 rows in one lookup"))
    }
}

impl ObjectFinalize for NativeZSet {
    fn finalize(self, env: Env) -> Result<()> {
        unregister(self.handle);
        let reported = self.table.reported.get();
        if reported != 0 {
            env.adjust_external_memory(-reported)?;
        }
        Ok(())
    }
}

#[napi]
impl NativeZSet {
    #[napi(constructor)]
    pub fn new(index_count: u32) -> Self {
        NativeZSet::wrap(IndexedZSet::new(index_count as usize))
    }

    /// Number of rows with a non-zero weight.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.table.size()
    }

    /// This table's number for the `table*` functions (valid while this object lives).
    #[napi(getter)]
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// Bytes the table holds (an estimate), as reported to V8.
    #[napi(getter)]
    pub fn allocated_bytes(&self) -> f64 {
        self.table.inner.borrow().allocated_bytes() as f64
    }

    #[napi(getter)]
    pub fn index_count(&self) -> u32 {
        self.table.inner.borrow().indexes().len() as u32
    }

    /// Adds `factor ×` every row of `other` (which must have as many indexes);
    /// a reported origin is the row's slot in `other`.
    #[napi]
    pub fn merge_from(&self, env: Env, other: &NativeZSet, factor: f64, mut out: Uint32ArraySlice<'_>) -> Result<u32> {
        let out = unsafe { out.as_mut() };
        let factor = weight_from_f64(factor).map_err(|e| invalid_arg(format!("factor {factor}: {e}")))?;
        let copy;
        let source = if Rc::ptr_eq(&self.table, &other.table) {
            copy = self.table.inner.borrow().clone();
            &copy
        } else {
            &*other.table.inner.borrow()
        };
        if out.len() < 2 * source.rows().len() {
            return Err(invalid_arg("out must hold two entries per row of other"));
        }
        let pairs = {
            let mut inner = self.table.inner.borrow_mut();
            let changes = inner.add_from(source, factor).map_err(invalid_arg)?;
            write_changes(changes, out)
        };
        self.table.report_memory(&env);
        Ok(pairs)
    }

    /// An independent copy, with the same slots.
    #[napi]
    pub fn copy(&self, env: Env) -> NativeZSet {
        let copy = NativeZSet::wrap(self.table.inner.borrow().clone());
        copy.table.report_memory(&env);
        copy
    }

    /// Negates every weight (the group inverse); slots are unchanged.
    #[napi]
    pub fn negate(&self) {
        self.table.inner.borrow_mut().negate();
    }

    /// Multiplies every weight by an integer `factor`; 0 clears the Z-set.
    #[napi]
    pub fn scale(&self, env: Env, factor: f64) -> Result<()> {
        let factor = weight_from_f64(factor).map_err(|e| invalid_arg(format!("factor {factor}: {e}")))?;
        self.table.inner.borrow_mut().scale(factor).map_err(invalid_arg)?;
        self.table.report_memory(&env);
        Ok(())
    }

    /// Removes every row; slots are handed out from 0 again.
    #[napi]
    pub fn clear(&self, env: Env) {
        self.table.inner.borrow_mut().clear();
        self.table.report_memory(&env);
    }

    /// The multiset hash (spec §3) as 32 lowercase hex digits, kept up to date by every change.
    #[napi]
    pub fn hash(&self) -> String {
        self.table.inner.borrow().rows().hash().to_string()
    }

    /// The multiset hash computed from every row (to check the incremental one).
    #[napi]
    pub fn recompute_hash(&self) -> String {
        self.table.inner.borrow().rows().recompute_hash().to_string()
    }

    /// Equal as Z-sets (same rows, same weights), whatever the slots.
    #[napi]
    pub fn equals(&self, other: &NativeZSet) -> bool {
        Rc::ptr_eq(&self.table, &other.table) || *self.table.inner.borrow().rows() == *other.table.inner.borrow().rows()
    }

    /// Every row's slot and weight, in slot order; returns the row count (nothing
    /// is written if the arrays are shorter).
    #[napi]
    pub fn entries(&self, mut out_slots: Uint32ArraySlice<'_>, mut out_weights: Float64ArraySlice<'_>) -> u32 {
        let (out_slots, out_weights) = unsafe { (out_slots.as_mut(), out_weights.as_mut()) };
        let inner = self.table.inner.borrow();
        let rows = inner.rows();
        if rows.len() <= out_slots.len().min(out_weights.len()) {
            for (k, row) in rows.iter().enumerate() {
                out_slots[k] = row.slot;
                out_weights[k] = weight_to_js(row.weight);
            }
        }
        rows.len() as u32
    }

    /// Rows in the order of index `index`, from a cursor; see the crate docs.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn scan(
        &self,
        index: u32,
        after: &[u8],
        prefix: &[u8],
        limit: u32,
        mut out_slots: Uint32ArraySlice<'_>,
        mut out_weights: Float64ArraySlice<'_>,
        mut out_key_lengths: Uint32ArraySlice<'_>,
        mut out_bytes: Uint8ArraySlice<'_>,
    ) -> Result<i64> {
        let (out_slots, out_weights, out_key_lengths, out_bytes) =
            unsafe { (out_slots.as_mut(), out_weights.as_mut(), out_key_lengths.as_mut(), out_bytes.as_mut()) };
        let index = self.table.check_index(index)?;
        let start = match after.len() {
            0 => ScanStart::First,
            n if n >= 16 => {
                let (key, id) = after.split_at(n - 16);
                ScanStart::After(key, Identity::from(u128::from_be_bytes(id.try_into().expect("16 bytes"))))
            }
            _ => return Err(invalid_arg("after must be a key followed by 16 identity bytes")),
        };
        let limit = (limit as usize).min(out_slots.len()).min(out_weights.len()).min(out_key_lengths.len());
        let mut inner = self.table.inner.borrow_mut();
        let mut found = Vec::with_capacity(limit.min(4096));
        let mut used = 0usize;
        let mut full = false;
        if limit > 0 {
            inner.scan(index, start, prefix, |key, slot| {
                if used + key.len() + 32 > out_bytes.len() {
                    full = true;
                    return false;
                }
                out_bytes[used..used + key.len()].copy_from_slice(key);
                out_key_lengths[found.len()] = key.len() as u32;
                used += key.len() + 32;
                found.push(slot);
                found.len() < limit
            });
        }
        let rows = inner.rows();
        let mut at = 0usize;
        for (k, &slot) in found.iter().enumerate() {
            out_slots[k] = slot;
            out_weights[k] = weight_to_js(rows.weight_at(slot));
            at += out_key_lengths[k] as usize;
            write_hex(rows.identity_at(slot), &mut out_bytes[at..at + 32]);
            at += 32;
        }
        let n = found.len() as i64;
        Ok(if full { -(n + 1) } else { n })
    }
}

/// The arrays through which the per-iteration table calls pass their data.
/// JS registers them once (`setExchange`), and again after it grows one; a
/// call then takes only numbers (how many rows, how many bytes): each typed
/// array argument costs napi ~50 ns to read, and an apply used to take six.
/// Holding them here (each holds a reference) keeps them alive; their memory
/// lives outside V8's heap and does not move.
#[napi(object, object_to_js = false)]
pub struct Exchange {
    pub row_bytes: Uint8Array,
    pub key_bytes: Uint8Array,
    pub row_lengths: Uint32Array,
    pub key_lengths: Uint32Array,
    pub weights: Float64Array,
    /// `tableApply`'s (slot, origin) pairs, `tableLookup`'s slots.
    pub slots: Uint32Array,
    /// `tableLookup`'s and `tableWeightsOf`'s weights.
    pub slot_weights: Float64Array,
    pub counts: Uint32Array,
}

thread_local! {
    static EXCHANGE: RefCell<Option<Exchange>> = const { RefCell::new(None) };
}

/// The first `len` items of an exchange array, or an error naming it.
fn first<'a, T>(items: &'a [T], len: usize, name: &str) -> Result<&'a [T]> {
    items
        .get(..len)
        .ok_or_else(|| invalid_arg(format!("{name}: {len} wanted, the exchange array holds {}", items.len())))
}

fn first_mut<'a, T>(items: &'a mut [T], len: usize, name: &str) -> Result<&'a mut [T]> {
    let held = items.len();
    items.get_mut(..len).ok_or_else(|| invalid_arg(format!("{name}: {len} wanted, the exchange array holds {held}")))
}

/// Runs `f` with the registered exchange arrays.
fn with_exchange<R>(f: impl FnOnce(&mut Exchange) -> Result<R>) -> Result<R> {
    EXCHANGE.with_borrow_mut(|x| match x.as_mut() {
        Some(x) => f(x),
        None => Err(invalid_arg("no exchange arrays: call setExchange first")),
    })
}

/// Registers the exchange arrays (see `Exchange`). They must not share memory:
/// a call writes some while it reads others.
#[napi]
pub fn set_exchange(exchange: Exchange) -> Result<()> {
    fn span<T>(items: &[T]) -> (usize, usize) {
        let start = items.as_ptr() as usize;
        (start, start + std::mem::size_of_val(items))
    }
    let x = &exchange;
    let spans = [
        span(&x.row_bytes),
        span(&x.key_bytes),
        span(&x.row_lengths),
        span(&x.key_lengths),
        span(&x.weights),
        span(&x.slots),
        span(&x.slot_weights),
        span(&x.counts),
    ];
    for (i, a) in spans.iter().enumerate() {
        for b in &spans[i + 1..] {
            if a.0 < b.1 && b.0 < a.1 {
                return Err(invalid_arg("the exchange arrays must not share memory"));
            }
        }
    }
    // The arrays replaced are released here, on the JS thread.
    EXCHANGE.with_borrow_mut(|x| *x = Some(exchange));
    Ok(())
}

/// Adds a batch of `rows` rows (not necessarily consolidated) with their keys to
/// the table with this handle, from the exchange arrays: `rowBytes` bytes of
/// texts, `keyBytes` bytes of keys; see the crate docs. A key length of
/// `0xFFFFFFFF` repeats the previous row's key for the same index.
#[napi]
pub fn table_apply(env: Env, handle: u32, rows: u32, row_bytes: u32, key_bytes: u32) -> Result<u32> {
    let table = by_handle(handle)?;
    let n = rows as usize;
    let per_row = table.inner.borrow().indexes().len();
    with_exchange(|x| {
        let texts = first(&x.row_bytes, row_bytes as usize, "row bytes")?;
        let row_lengths = first(&x.row_lengths, n, "row lengths")?;
        let weights = first(&x.weights, n, "weights")?;
        let keys = first(&x.key_bytes, key_bytes as usize, "key bytes")?;
        let key_lengths = first(&x.key_lengths, n * per_row, "key lengths")?;
        // Safety: JS is blocked in this call, and `setExchange` made sure the arrays share no memory.
        let out = first_mut(unsafe { x.slots.as_mut() }, 2 * n, "changes")?;
        table.apply(&env, texts, row_lengths, weights, keys, key_lengths, out)
    })
}

/// Rows under each of `keys` keys (`keyBytes` bytes, in the exchange) of index
/// `index`: slots, weights and, `withCounts`, each key's count, into the exchange;
/// see the crate docs.
#[napi]
pub fn table_lookup(
    handle: u32,
    index: u32,
    keys: u32,
    key_bytes: u32,
    sorted: bool,
    with_counts: bool,
) -> Result<u32> {
    let table = by_handle(handle)?;
    with_exchange(|x| {
        let key_texts = first(&x.key_bytes, key_bytes as usize, "key bytes")?;
        let key_lengths = first(&x.key_lengths, keys as usize, "key lengths")?;
        // Safety: as in `table_apply`.
        let counts =
            if with_counts { first_mut(unsafe { x.counts.as_mut() }, keys as usize, "counts")? } else { &mut [] };
        let out = unsafe { (x.slots.as_mut(), x.slot_weights.as_mut(), counts) };
        table.lookup(index, key_texts, key_lengths, sorted, out)
    })
}

/// The weight of each of `rows` rows (`rowBytes` bytes, in the exchange; 0 if
/// absent), into the exchange's slot weights.
#[napi]
pub fn table_weights_of(handle: u32, rows: u32, row_bytes: u32) -> Result<()> {
    let table = by_handle(handle)?;
    with_exchange(|x| {
        let texts = first(&x.row_bytes, row_bytes as usize, "row bytes")?;
        let row_lengths = first(&x.row_lengths, rows as usize, "row lengths")?;
        // Safety: as in `table_apply`.
        let out = first_mut(unsafe { x.slot_weights.as_mut() }, rows as usize, "weights")?;
        table.weights_of(texts, row_lengths, out)
    })
}

/// `NativeZSet.size` by handle.
#[napi]
pub fn table_size(handle: u32) -> Result<u32> {
    Ok(by_handle(handle)?.size())
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
    let mut parsed = Vec::new();
    weights_from_js(weights, &mut parsed)?;
    let rows = RowBatch::new(segments(canonical, offsets)?, &parsed).map_err(invalid_arg)?;
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

/// The stored form of canonical texts (see `stepping_core::stored_form`), batch by batch.
#[napi]
pub struct NativeCompactor {
    compactor: Compactor,
    out: Vec<u8>,
    offsets: Vec<u32>,
    key_ranges: Vec<(u32, u32)>,
}

#[napi]
impl NativeCompactor {
    /// Token `i` becomes the control character `i + 1`.
    #[napi(constructor)]
    pub fn new(tokens: Vec<String>) -> Result<Self> {
        let tokens: Vec<&[u8]> = tokens.iter().map(|t| t.as_bytes()).collect();
        let compactor = Compactor::new(&tokens).map_err(invalid_arg)?;
        Ok(NativeCompactor { compactor, out: Vec::new(), offsets: Vec::new(), key_ranges: Vec::new() })
    }

    /// The field-name dictionary, names in id order (null: names stay as they are).
    #[napi]
    pub fn set_names(&mut self, names: Option<Vec<String>>, full: bool) {
        self.compactor.set_names(names.map(|names| Names::new(names.iter().map(|n| n.as_bytes()), full)));
    }

    /// The stored forms of a batch, joined (see the module docs); null when a name must be noted first.
    #[napi]
    pub fn compact(
        &mut self,
        texts: &[u8],
        text_lengths: &[u32],
        key_texts: &[u8],
        key_lengths: &[u32],
        mut out_lengths: Uint32ArraySlice<'_>,
    ) -> Result<Option<String>> {
        // Safety: JS is blocked in this call, and outLengths shares no memory with the inputs.
        let out_lengths = unsafe { out_lengths.as_mut() };
        if key_lengths.len() != text_lengths.len() || out_lengths.len() < text_lengths.len() {
            return Err(invalid_arg("keyLengths must have one entry per text, and outLengths at least one"));
        }
        offsets_from_lengths(texts, text_lengths, LengthUnit::Utf16, &mut self.offsets)
            .map_err(|e| invalid_arg(format!("texts: {e}")))?;
        let rows = segments(texts, &self.offsets)?;
        let keys = key_slices_from_lengths(key_texts, key_lengths, 1, &mut self.key_ranges)
            .map_err(|e| invalid_arg(format!("keyTexts: {e}")))?;
        self.out.clear();
        self.out.reserve(texts.len());
        for (i, text) in rows.iter().enumerate() {
            let start = self.out.len();
            // A key of length 0 (none) is one the compactor leaves alone, like any of one unit.
            if self.compactor.compact(text, Some(keys.get(i)), &mut self.out).is_err() {
                return Ok(None);
            }
            out_lengths[i] = utf16_units(&self.out[start..]) as u32;
        }
        let joined = std::str::from_utf8(&self.out)
            .map_err(|e| invalid_arg(format!("internal: stored form is not UTF-8: {e}")))?;
        Ok(Some(joined.to_owned()))
    }
}
