//! A Z-set kept together with its ordered indexes: the storage behind one
//! JS-side collection. The Z-set does the algebra; this layer turns each
//! [`Change`] it reports into index maintenance (insert on a row's first
//! non-zero weight, remove when it returns to zero).

use std::fmt;

use crate::batch::{BatchError, Items, RowBatch};
use crate::index::{Members, OrderedIndex, ScanStart};
use crate::weight::{Weight, WeightOutOfRange};
use crate::zset::{Change, Slot, ZSet};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateError {
    Batch(BatchError),
    Weight(WeightOutOfRange),
    /// Merging collections indexed differently.
    IndexCountMismatch {
        expected: usize,
        found: usize,
    },
}

impl fmt::Display for UpdateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateError::Batch(e) => e.fmt(f),
            UpdateError::Weight(e) => e.fmt(f),
            UpdateError::IndexCountMismatch { expected, found } => {
                write!(f, "cannot merge a collection with {found} indexes into one with {expected}")
            }
        }
    }
}

impl std::error::Error for UpdateError {}

impl From<BatchError> for UpdateError {
    fn from(e: BatchError) -> Self {
        UpdateError::Batch(e)
    }
}

impl From<WeightOutOfRange> for UpdateError {
    fn from(e: WeightOutOfRange) -> Self {
        UpdateError::Weight(e)
    }
}

#[derive(Clone, Debug, Default)]
pub struct IndexedZSet {
    rows: ZSet,
    indexes: Vec<OrderedIndex>,
    /// The changes of the latest update (kept to reuse the allocation).
    changes: Vec<Change>,
}

impl IndexedZSet {
    pub fn new(index_count: usize) -> Self {
        IndexedZSet { rows: ZSet::new(), indexes: vec![OrderedIndex::new(); index_count], changes: Vec::new() }
    }

    pub fn rows(&self) -> &ZSet {
        &self.rows
    }

    pub fn indexes(&self) -> &[OrderedIndex] {
        &self.indexes
    }

    /// Bytes allocated for the rows and the indexes (an estimate).
    pub fn allocated_bytes(&self) -> usize {
        self.rows.allocated_bytes() + self.indexes.iter().map(OrderedIndex::allocated_bytes).sum::<usize>()
    }

    /// Adds a batch. `keys` holds every row's key for every index, row by row:
    /// the key of row `i` in index `j` is item `i * index_count + j`. Returns
    /// one change per row whose weight moved (see [`ZSet::apply`]).
    pub fn add_batch<'k>(&mut self, batch: &RowBatch<'_>, keys: &impl Items<'k>) -> Result<&[Change], UpdateError> {
        let index_count = self.indexes.len();
        let expected = batch.len() * index_count;
        if keys.count() != expected {
            return Err(BatchError::LengthMismatch { expected, found: keys.count() }.into());
        }
        self.rows.add_batch(batch, &mut self.changes)?;
        update_indexes(&mut self.indexes, &self.changes, |change, index| {
            keys.item(change.origin as usize * index_count + index)
        });
        Ok(&self.changes)
    }

    /// Adds `factor ×` another collection with as many indexes (built with the
    /// same key functions); a change's origin is the row's slot in `other`, and
    /// its keys are taken from `other`.
    pub fn add_from(&mut self, other: &IndexedZSet, factor: Weight) -> Result<&[Change], UpdateError> {
        if other.indexes.len() != self.indexes.len() {
            return Err(UpdateError::IndexCountMismatch { expected: self.indexes.len(), found: other.indexes.len() });
        }
        self.rows.add_zset(&other.rows, factor, &mut self.changes)?;
        update_indexes(&mut self.indexes, &self.changes, |change, index| {
            other.indexes[index].key_of(change.origin).expect("every row of a collection is indexed")
        });
        Ok(&self.changes)
    }

    pub fn negate(&mut self) {
        self.rows.negate();
    }

    /// Multiplies every weight by `factor`; 0 empties the collection.
    pub fn scale(&mut self, factor: Weight) -> Result<(), WeightOutOfRange> {
        if factor == 0 {
            self.clear();
            Ok(())
        } else {
            self.rows.scale(factor)
        }
    }

    /// Removes every row; slots are handed out from 0 again.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.indexes.iter_mut().for_each(OrderedIndex::clear);
    }

    /// Rows whose key in index `index` is `key`, in no particular order.
    pub fn lookup(&self, index: usize, key: &[u8]) -> Members<'_> {
        self.indexes[index].lookup(key)
    }

    /// Rows whose key in index `index` is `key`, in identity order.
    pub fn lookup_sorted(&mut self, index: usize, key: &[u8]) -> Members<'_> {
        self.indexes[index].lookup_sorted(key, self.rows.identities())
    }

    /// Rows in the order of index `index` (see [`OrderedIndex::scan`]).
    pub fn scan(&mut self, index: usize, start: ScanStart<'_>, prefix: &[u8], visit: impl FnMut(&[u8], Slot) -> bool) {
        self.indexes[index].scan(self.rows.identities(), start, prefix, visit);
    }
}

fn update_indexes<'k>(indexes: &mut [OrderedIndex], changes: &[Change], key_of: impl Fn(&Change, usize) -> &'k [u8]) {
    for change in changes.iter().filter(|change| change.is_removal()) {
        for index in indexes.iter_mut() {
            index.remove(change.slot);
        }
    }
    let mut rows = Vec::new();
    for (position, index) in indexes.iter_mut().enumerate() {
        rows.clear();
        rows.extend(changes.iter().filter(|change| change.is_insertion()).map(|change| (change.slot, key_of(change, position))));
        index.insert_batch(&rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Segments, SegmentsBuilder};
    use crate::hash::Identity;
    use crate::key::{Direction, KeyLayout};
    use crate::value::Value;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn text(n: f64) -> String {
        Value::number(n).unwrap().to_canonical()
    }

    fn key(n: f64) -> Vec<u8> {
        KeyLayout::Single(Direction::Ascending).encode_to_vec(&Value::number(n).unwrap()).unwrap()
    }

    /// Rows are JSON numbers; index 0 is by the number, index 1 by its negation.
    fn add(collection: &mut IndexedZSet, rows: &[(f64, Weight)]) -> Result<Vec<Change>, UpdateError> {
        let mut canonical = SegmentsBuilder::default();
        let mut keys = SegmentsBuilder::default();
        for &(n, _) in rows {
            canonical.push(text(n).as_bytes());
            keys.push(&key(n));
            keys.push(&key(-n));
        }
        let (bytes, offsets) = canonical.into_parts();
        let (key_bytes, key_offsets) = keys.into_parts();
        let weights: Vec<Weight> = rows.iter().map(|&(_, w)| w).collect();
        let batch = RowBatch::new(Segments::new(&bytes, &offsets).unwrap(), &weights).unwrap();
        collection.add_batch(&batch, &Segments::new(&key_bytes, &key_offsets).unwrap()).map(<[Change]>::to_vec)
    }

    /// The canonical texts of the rows, in the order of an index: the test knows
    /// every row's text, the collection only identities.
    fn scan_texts(collection: &mut IndexedZSet, index: usize, known: &[f64]) -> Vec<String> {
        let by_identity: BTreeMap<Identity, String> =
            known.iter().map(|&n| (Identity::of_canonical(text(n).as_bytes()), text(n))).collect();
        let mut slots = Vec::new();
        collection.scan(index, ScanStart::First, b"", |_, slot| {
            slots.push(slot);
            true
        });
        slots.iter().map(|&slot| by_identity[&collection.rows().identity_at(slot)].clone()).collect()
    }

    #[test]
    fn indexes_follow_row_presence() {
        let mut collection = IndexedZSet::new(2);
        let known = [3.0, -1.0, 10.0];
        add(&mut collection, &[(3.0, 1), (-1.0, 2), (10.0, 1)]).unwrap();
        assert_eq!(scan_texts(&mut collection, 0, &known), ["-1", "3", "10"]);
        assert_eq!(scan_texts(&mut collection, 1, &known), ["10", "3", "-1"]);
        // A weight change that keeps the row present leaves the indexes alone.
        add(&mut collection, &[(3.0, 4), (-1.0, -2)]).unwrap();
        assert_eq!(scan_texts(&mut collection, 0, &known), ["3", "10"]);
        assert_eq!(collection.rows().len(), 2);
        assert_eq!(collection.lookup(0, &key(3.0)).len(), 1);
        assert_eq!(collection.lookup(0, &key(3.0)).to_vec(), collection.lookup_sorted(0, &key(3.0)).to_vec());
        assert!(collection.lookup(0, &key(-1.0)).is_empty());
    }

    #[test]
    fn key_counts_must_match() {
        let mut collection = IndexedZSet::new(2);
        let batch = RowBatch::new(Segments::new(b"1", &[0, 1]).unwrap(), &[1]).unwrap();
        let keys = Segments::new(b"k", &[0, 1]).unwrap();
        assert_eq!(
            collection.add_batch(&batch, &keys).map(<[Change]>::to_vec),
            Err(UpdateError::Batch(BatchError::LengthMismatch { expected: 2, found: 1 }))
        );
        assert!(collection.rows().is_empty());
    }

    #[test]
    fn out_of_range_batches_leave_the_indexes_alone() {
        let mut collection = IndexedZSet::new(2);
        add(&mut collection, &[(1.0, crate::weight::MAX_WEIGHT)]).unwrap();
        assert!(add(&mut collection, &[(2.0, 1), (1.0, 1)]).is_err());
        assert_eq!(collection.rows().len(), 1);
        assert!(collection.lookup(0, &key(2.0)).is_empty());
        assert_eq!(collection.indexes()[1].len(), 1);
    }

    #[test]
    fn merging_carries_keys_over() {
        let mut left = IndexedZSet::new(2);
        let mut right = IndexedZSet::new(2);
        let known = [1.0, 2.0, 5.0];
        add(&mut left, &[(1.0, 1), (2.0, 1)]).unwrap();
        add(&mut right, &[(2.0, -1), (5.0, 3)]).unwrap();
        let changes = left.add_from(&right, 1).unwrap().to_vec();
        assert_eq!(changes.len(), 2);
        assert_eq!(scan_texts(&mut left, 0, &known), ["1", "5"]);
        assert_eq!(scan_texts(&mut left, 1, &known), ["5", "1"]);
        assert_eq!(
            left.add_from(&IndexedZSet::new(1), 1).map(<[Change]>::to_vec),
            Err(UpdateError::IndexCountMismatch { expected: 2, found: 1 })
        );
        // Subtracting brings back what was there.
        left.add_from(&right, -1).unwrap();
        assert_eq!(scan_texts(&mut left, 0, &known), ["1", "2"]);
    }

    #[test]
    fn scaling_by_zero_clears_indexes() {
        let mut collection = IndexedZSet::new(1);
        let batch = RowBatch::new(Segments::new(b"1", &[0, 1]).unwrap(), &[1]).unwrap();
        collection.add_batch(&batch, &Segments::new(b"k", &[0, 1]).unwrap()).unwrap();
        collection.negate();
        assert_eq!(collection.rows().iter().next().unwrap().weight, -1);
        collection.scale(0).unwrap();
        assert!(collection.rows().is_empty());
        assert!(collection.indexes()[0].is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// After any sequence of batches, index 0 scans exactly the present rows
        /// ordered by (key, identity), ties included (many rows share a key), and
        /// sorted lookups agree with the scan.
        #[test]
        fn scans_follow_key_then_identity(batches in proptest::collection::vec(
            proptest::collection::vec((0u32..40, -2i64..=2), 0..30), 1..8)) {
            let mut collection = IndexedZSet::new(1);
            let mut model: BTreeMap<u32, Weight> = BTreeMap::new();
            for batch in &batches {
                let mut canonical = SegmentsBuilder::default();
                let mut keys = SegmentsBuilder::default();
                for &(row, _) in batch {
                    canonical.push(row.to_string().as_bytes());
                    keys.push(&key(f64::from(row % 5)));
                }
                let (bytes, offsets) = canonical.into_parts();
                let (key_bytes, key_offsets) = keys.into_parts();
                let weights: Vec<Weight> = batch.iter().map(|&(_, w)| w).collect();
                let rows = RowBatch::new(Segments::new(&bytes, &offsets).unwrap(), &weights).unwrap();
                collection.add_batch(&rows, &Segments::new(&key_bytes, &key_offsets).unwrap()).unwrap();
                for &(row, w) in batch {
                    *model.entry(row).or_default() += w;
                }
                model.retain(|_, w| *w != 0);
            }
            let mut expected: Vec<(Vec<u8>, Identity)> =
                model.keys().map(|&row| (key(f64::from(row % 5)), Identity::of_canonical(row.to_string().as_bytes()))).collect();
            expected.sort();
            let mut scanned = Vec::new();
            collection.scan(0, ScanStart::First, b"", |key, slot| {
                scanned.push((key.to_vec(), slot));
                true
            });
            let ids = collection.rows().identities().to_vec();
            let got: Vec<(Vec<u8>, Identity)> = scanned.iter().map(|(k, slot)| (k.clone(), ids[*slot as usize])).collect();
            prop_assert_eq!(&got, &expected);
            for group in 0..5u32 {
                let k = key(f64::from(group));
                let sorted: Vec<Identity> = collection.lookup_sorted(0, &k).iter().map(|s| ids[s as usize]).collect();
                let from_scan: Vec<Identity> = expected.iter().filter(|(kk, _)| *kk == k).map(|&(_, id)| id).collect();
                prop_assert_eq!(sorted, from_scan);
            }
        }
    }
}
