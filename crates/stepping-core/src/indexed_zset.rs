//! A Z-set kept together with its ordered indexes: the storage behind one
//! JS-side collection. The Z-set does the algebra; this layer turns each
//! [`Change`] it reports into index maintenance (insert on a row's first
//! non-zero weight, remove when it returns to zero).

use std::fmt;
use std::sync::Arc;

use crate::batch::{BatchError, RowBatch, Segments};
use crate::index::OrderedIndex;
use crate::weight::{Weight, WeightOutOfRange};
use crate::zset::{Change, ZSet};

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
}

impl IndexedZSet {
    pub fn new(index_count: usize) -> Self {
        IndexedZSet { rows: ZSet::new(), indexes: vec![OrderedIndex::new(); index_count] }
    }

    pub fn rows(&self) -> &ZSet {
        &self.rows
    }

    pub fn indexes(&self) -> &[OrderedIndex] {
        &self.indexes
    }

    /// Adds a batch. `keys` holds every row's key for every index, row by row:
    /// the key of row `i` in index `j` is item `i * index_count + j`.
    pub fn add_batch(&mut self, batch: &RowBatch<'_>, keys: &Segments<'_>) -> Result<Vec<Change>, UpdateError> {
        let index_count = self.indexes.len();
        let expected = batch.len() * index_count;
        if keys.len() != expected {
            return Err(BatchError::LengthMismatch { expected, found: keys.len() }.into());
        }
        let changes = self.rows.add_batch(batch)?;
        self.update_indexes(&changes, |change, index| {
            Arc::from(keys.get(change.origin as usize * index_count + index))
        });
        Ok(changes)
    }

    /// Adds another collection with the same indexes; a change's origin is the
    /// row's slot in `other`, and its keys are taken from `other`.
    pub fn add_from(&mut self, other: &IndexedZSet) -> Result<Vec<Change>, UpdateError> {
        if other.indexes.len() != self.indexes.len() {
            return Err(UpdateError::IndexCountMismatch { expected: self.indexes.len(), found: other.indexes.len() });
        }
        let changes = self.rows.add_zset(&other.rows)?;
        self.update_indexes(&changes, |change, index| {
            Arc::clone(other.indexes[index].key_of(change.origin).expect("every row of a collection is indexed"))
        });
        Ok(changes)
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

    fn update_indexes(&mut self, changes: &[Change], key_of: impl Fn(&Change, usize) -> Arc<[u8]>) {
        for change in changes {
            if change.is_removal() {
                for index in &mut self.indexes {
                    index.remove(change.slot);
                }
            } else if change.is_insertion() {
                let row = self.rows.row(change.slot).expect("an inserted row is live");
                for (position, index) in self.indexes.iter_mut().enumerate() {
                    index.insert(change.slot, key_of(change, position), Arc::clone(row.canonical));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::SegmentsBuilder;
    use crate::key::{Direction, KeyLayout};
    use crate::value::Value;
    use crate::zset::Slot;

    /// Rows are JSON numbers; index 0 is by the number, index 1 by its negation.
    fn add(collection: &mut IndexedZSet, rows: &[(f64, Weight)]) -> Result<Vec<Change>, UpdateError> {
        let mut canonical = SegmentsBuilder::default();
        let mut keys = SegmentsBuilder::default();
        let layout = KeyLayout::Single(Direction::Ascending);
        for &(n, _) in rows {
            canonical.push(Value::number(n).unwrap().to_canonical().as_bytes());
            for key in [n, -n] {
                layout.encode(&Value::number(key).unwrap(), keys.buffer()).unwrap();
                keys.end_item();
            }
        }
        let (bytes, offsets) = canonical.into_parts();
        let (key_bytes, key_offsets) = keys.into_parts();
        let weights: Vec<Weight> = rows.iter().map(|&(_, w)| w).collect();
        let batch = RowBatch::new(Segments::new(&bytes, &offsets).unwrap(), &weights).unwrap();
        collection.add_batch(&batch, &Segments::new(&key_bytes, &key_offsets).unwrap())
    }

    fn scan_texts(collection: &IndexedZSet, index: usize) -> Vec<String> {
        collection.indexes()[index]
            .scan()
            .map(|slot: Slot| String::from_utf8(collection.rows().row(slot).unwrap().canonical.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn indexes_follow_row_presence() {
        let mut collection = IndexedZSet::new(2);
        add(&mut collection, &[(3.0, 1), (-1.0, 2), (10.0, 1)]).unwrap();
        assert_eq!(scan_texts(&collection, 0), ["-1", "3", "10"]);
        assert_eq!(scan_texts(&collection, 1), ["10", "3", "-1"]);
        // A weight change that keeps the row present leaves the indexes alone.
        add(&mut collection, &[(3.0, 4), (-1.0, -2)]).unwrap();
        assert_eq!(scan_texts(&collection, 0), ["3", "10"]);
        assert_eq!(collection.rows().len(), 2);
    }

    #[test]
    fn key_counts_must_match() {
        let mut collection = IndexedZSet::new(2);
        let batch = RowBatch::new(Segments::new(b"1", &[0, 1]).unwrap(), &[1]).unwrap();
        let keys = Segments::new(b"k", &[0, 1]).unwrap();
        assert_eq!(
            collection.add_batch(&batch, &keys),
            Err(UpdateError::Batch(BatchError::LengthMismatch { expected: 2, found: 1 }))
        );
        assert!(collection.rows().is_empty());
    }

    #[test]
    fn merging_carries_keys_over() {
        let mut left = IndexedZSet::new(2);
        let mut right = IndexedZSet::new(2);
        add(&mut left, &[(1.0, 1), (2.0, 1)]).unwrap();
        add(&mut right, &[(2.0, -1), (5.0, 3)]).unwrap();
        let changes = left.add_from(&right).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(scan_texts(&left, 0), ["1", "5"]);
        assert_eq!(scan_texts(&left, 1), ["5", "1"]);
        assert_eq!(left.add_from(&IndexedZSet::new(1)), Err(UpdateError::IndexCountMismatch { expected: 2, found: 1 }));
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
}
