//! Z-sets (DBSP §2): finite maps from rows to non-zero integer weights, forming
//! an abelian group under pointwise addition. Every collection and every change
//! to one is a Z-set; incremental operators add deltas to state.
//!
//! Rows are keyed by identity (spec §2). Each row also gets a compact `u32`
//! [`Slot`] — the handle the JS side files its row object under — and keeps its
//! canonical bytes, which ordered indexes need to break ties. The multiset hash
//! (spec §3) is updated on every change, never recomputed;
//! [`ZSet::recompute_hash`] exists to check that.
//!
//! Additions are consolidating and all-or-nothing: deltas are summed per row
//! first, each row changes at most once (one [`Change`] per row), and if any
//! resulting weight would leave the safe range nothing changes at all.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::slice;
use std::sync::Arc;

use crate::batch::RowBatch;
use crate::hash::{BuildIdentityHasher, Identity, MultisetHash};
use crate::weight::{checked_weight, Weight, WeightOutOfRange};

/// A row's handle, stable while its weight stays non-zero. Freed slots are
/// reused, but never within the update that freed them.
pub type Slot = u32;

#[derive(Clone)]
struct Row {
    identity: Identity,
    weight: Weight,
    canonical: Arc<[u8]>,
}

/// A row of a Z-set, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct RowRef<'a> {
    pub slot: Slot,
    pub identity: Identity,
    pub weight: Weight,
    pub canonical: &'a Arc<[u8]>,
}

/// One row's contribution to an update.
#[derive(Clone, Copy, Debug)]
pub struct RowDelta<'a> {
    pub identity: Identity,
    pub canonical: &'a [u8],
    pub weight: Weight,
    /// Caller-chosen tag reported back in [`Change::origin`] (an input position,
    /// a slot in another Z-set), so the caller can find the row's object.
    pub origin: u32,
}

/// How one row's weight changed in an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub slot: Slot,
    /// The origin of the first delta that carried this row.
    pub origin: u32,
    pub old_weight: Weight,
    pub new_weight: Weight,
}

impl Change {
    /// The row was absent and now has a slot: its object must be stored.
    pub fn is_insertion(&self) -> bool {
        self.old_weight == 0
    }

    /// The row is gone and its slot freed.
    pub fn is_removal(&self) -> bool {
        self.new_weight == 0
    }
}

#[derive(Clone, Default)]
pub struct ZSet {
    rows: Vec<Option<Row>>,
    free_slots: Vec<Slot>,
    slot_of: HashMap<Identity, Slot, BuildIdentityHasher>,
    hash: MultisetHash,
}

/// A row's consolidated delta while an update is checked, before it is applied.
struct Staged<'a> {
    first: RowDelta<'a>,
    delta: i128,
    slot: Option<Slot>,
    old_weight: Weight,
    new_weight: Weight,
}

impl ZSet {
    pub fn new() -> Self {
        ZSet::default()
    }

    /// The sum of many batches (consolidated, zero weights dropped).
    pub fn from_batches(batches: &[RowBatch<'_>]) -> Result<Self, WeightOutOfRange> {
        let mut zset = ZSet::new();
        zset.add_batches(batches)?;
        Ok(zset)
    }

    /// Number of rows with a non-zero weight.
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// The multiset hash, as maintained incrementally.
    pub fn hash(&self) -> MultisetHash {
        self.hash
    }

    /// The multiset hash computed from scratch.
    pub fn recompute_hash(&self) -> MultisetHash {
        self.iter().map(|row| (row.identity, row.weight)).collect()
    }

    /// The row's weight; 0 if absent.
    pub fn weight(&self, identity: Identity) -> Weight {
        self.slot_of(identity).map_or(0, |slot| self.row_at(slot).weight)
    }

    pub fn slot_of(&self, identity: Identity) -> Option<Slot> {
        self.slot_of.get(&identity).copied()
    }

    pub fn row(&self, slot: Slot) -> Option<RowRef<'_>> {
        let row = self.rows.get(slot as usize)?.as_ref()?;
        Some(RowRef { slot, identity: row.identity, weight: row.weight, canonical: &row.canonical })
    }

    /// Rows in slot order.
    pub fn iter(&self) -> impl Iterator<Item = RowRef<'_>> + '_ {
        self.rows.iter().enumerate().filter_map(|(slot, row)| {
            row.as_ref().map(|row| RowRef {
                slot: slot as Slot,
                identity: row.identity,
                weight: row.weight,
                canonical: &row.canonical,
            })
        })
    }

    pub fn add_batch(&mut self, batch: &RowBatch<'_>) -> Result<Vec<Change>, WeightOutOfRange> {
        self.add_batches(slice::from_ref(batch))
    }

    /// Adds many batches as one update; a change's origin is the position of its
    /// first row, counting through the batches in order.
    pub fn add_batches(&mut self, batches: &[RowBatch<'_>]) -> Result<Vec<Change>, WeightOutOfRange> {
        let deltas = batches.iter().flat_map(RowBatch::iter).enumerate().map(|(position, (canonical, weight))| {
            RowDelta { identity: Identity::of_canonical(canonical), canonical, weight, origin: position as u32 }
        });
        self.apply(deltas)
    }

    /// Adds another Z-set; a change's origin is the row's slot in `other`.
    pub fn add_zset(&mut self, other: &ZSet) -> Result<Vec<Change>, WeightOutOfRange> {
        let deltas = other.iter().map(|row| RowDelta {
            identity: row.identity,
            canonical: row.canonical,
            weight: row.weight,
            origin: row.slot,
        });
        self.apply(deltas)
    }

    /// The consolidating add behind every update: sums the deltas per row,
    /// checks every resulting weight, then applies them all.
    pub fn apply<'a>(
        &mut self,
        deltas: impl IntoIterator<Item = RowDelta<'a>>,
    ) -> Result<Vec<Change>, WeightOutOfRange> {
        let mut staged: Vec<Staged<'a>> = Vec::new();
        let mut position_of: HashMap<Identity, usize, BuildIdentityHasher> = HashMap::default();
        for delta in deltas {
            match position_of.entry(delta.identity) {
                Entry::Occupied(position) => staged[*position.get()].delta += i128::from(delta.weight),
                Entry::Vacant(position) => {
                    position.insert(staged.len());
                    staged.push(Staged {
                        first: delta,
                        delta: delta.weight.into(),
                        slot: None,
                        old_weight: 0,
                        new_weight: 0,
                    });
                }
            }
        }
        for row in &mut staged {
            row.slot = self.slot_of(row.first.identity);
            row.old_weight = row.slot.map_or(0, |slot| self.row_at(slot).weight);
            row.new_weight = checked_weight(i128::from(row.old_weight) + row.delta)?;
        }

        let mut changes = Vec::with_capacity(staged.len());
        let mut freed_slots = Vec::new();
        for row in staged.into_iter().filter(|row| row.new_weight != row.old_weight) {
            let identity = row.first.identity;
            self.hash += MultisetHash::of_row(identity, row.new_weight - row.old_weight);
            let slot = match row.slot {
                None => self.insert_row(identity, row.first.canonical, row.new_weight),
                Some(slot) if row.new_weight == 0 => {
                    self.rows[slot as usize] = None;
                    self.slot_of.remove(&identity);
                    freed_slots.push(slot);
                    slot
                }
                Some(slot) => {
                    self.row_at_mut(slot).weight = row.new_weight;
                    slot
                }
            };
            changes.push(Change {
                slot,
                origin: row.first.origin,
                old_weight: row.old_weight,
                new_weight: row.new_weight,
            });
        }
        self.free_slots.extend(freed_slots);
        Ok(changes)
    }

    /// Negation, the group inverse: every weight flips sign. Slots are unchanged.
    pub fn negate(&mut self) {
        for row in self.rows.iter_mut().flatten() {
            row.weight = -row.weight;
        }
        self.hash = -self.hash;
    }

    /// Multiplies every weight by `factor`; 0 empties the Z-set (see [`ZSet::clear`]).
    pub fn scale(&mut self, factor: Weight) -> Result<(), WeightOutOfRange> {
        if factor == 0 {
            self.clear();
            return Ok(());
        }
        let largest = self.rows.iter().flatten().map(|row| row.weight.unsigned_abs()).max().unwrap_or(0);
        checked_weight(i128::from(largest) * i128::from(factor))?;
        for row in self.rows.iter_mut().flatten() {
            row.weight *= factor;
        }
        self.hash = self.hash.scaled(factor);
        Ok(())
    }

    /// Removes every row; slots are handed out from 0 again.
    pub fn clear(&mut self) {
        *self = ZSet::new();
    }

    fn insert_row(&mut self, identity: Identity, canonical: &[u8], weight: Weight) -> Slot {
        let row = Row { identity, weight, canonical: Arc::from(canonical) };
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.rows[slot as usize] = Some(row);
                slot
            }
            None => {
                let slot = Slot::try_from(self.rows.len()).expect("a Z-set holds at most 2^32 rows");
                self.rows.push(Some(row));
                slot
            }
        };
        self.slot_of.insert(identity, slot);
        slot
    }

    fn row_at(&self, slot: Slot) -> &Row {
        self.rows[slot as usize].as_ref().expect("slot_of points at live rows")
    }

    fn row_at_mut(&mut self, slot: Slot) -> &mut Row {
        self.rows[slot as usize].as_mut().expect("slot_of points at live rows")
    }
}

/// Equal as Z-sets: the same rows with the same weights, whatever the slots.
impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.hash == other.hash
            && self.iter().all(|row| other.weight(row.identity) == row.weight)
    }
}

impl Eq for ZSet {}

impl fmt::Debug for ZSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter().map(|row| (String::from_utf8_lossy(row.canonical), row.weight))).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Segments;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Builds a Z-set from `(canonical text, weight)` pairs.
    fn zset(rows: &[(&str, Weight)]) -> ZSet {
        let mut z = ZSet::new();
        z.apply(rows.iter().enumerate().map(|(i, (text, weight))| RowDelta {
            identity: Identity::of_canonical(text.as_bytes()),
            canonical: text.as_bytes(),
            weight: *weight,
            origin: i as u32,
        }))
        .unwrap();
        z
    }

    fn contents(z: &ZSet) -> BTreeMap<Vec<u8>, Weight> {
        z.iter().map(|row| (row.canonical.to_vec(), row.weight)).collect()
    }

    fn sum(a: &ZSet, b: &ZSet) -> ZSet {
        let mut total = a.clone();
        total.add_zset(b).unwrap();
        total
    }

    #[test]
    fn adds_consolidate_and_drop_zero_weights() {
        let mut z = zset(&[("1", 2), ("2", 1), ("1", 1), ("3", 0)]);
        assert_eq!(contents(&z), BTreeMap::from([(b"1".to_vec(), 3), (b"2".to_vec(), 1)]));
        let changes = z
            .apply([RowDelta { identity: Identity::of_canonical(b"2"), canonical: b"2", weight: -1, origin: 7 }])
            .unwrap();
        assert_eq!(changes.len(), 1);
        assert!(changes[0].is_removal());
        assert_eq!(changes[0].origin, 7);
        assert_eq!(z.len(), 1);
        assert_eq!(z.hash(), z.recompute_hash());
    }

    #[test]
    fn batches_report_one_change_per_row_with_the_first_origin() {
        let bytes = b"\"a\"\"b\"\"a\"\"c\"";
        let offsets = [0, 3, 6, 9, 12];
        let batch = RowBatch::new(Segments::new(bytes, &offsets).unwrap(), &[1, 2, 4, 0]).unwrap();
        let mut z = ZSet::new();
        let changes = z.add_batch(&batch).unwrap();
        let summary: Vec<(u32, Weight, Weight)> =
            changes.iter().map(|c| (c.origin, c.old_weight, c.new_weight)).collect();
        assert_eq!(summary, [(0, 0, 5), (1, 0, 2)]);
        assert_ne!(changes[0].slot, changes[1].slot);
    }

    #[test]
    fn freed_slots_are_reused_only_in_a_later_update() {
        let mut z = zset(&[("1", 1)]);
        let slot_of_1 = z.slot_of(Identity::of_canonical(b"1")).unwrap();
        let delta = |text: &'static str, weight| RowDelta {
            identity: Identity::of_canonical(text.as_bytes()),
            canonical: text.as_bytes(),
            weight,
            origin: 0,
        };
        let changes = z.apply([delta("1", -1), delta("2", 1)]).unwrap();
        assert_ne!(changes[0].slot, changes[1].slot);
        let changes = z.apply([delta("3", 1)]).unwrap();
        assert_eq!(changes[0].slot, slot_of_1);
    }

    #[test]
    fn out_of_range_updates_change_nothing() {
        use crate::weight::MAX_WEIGHT;
        let mut z = zset(&[("1", MAX_WEIGHT), ("2", 1)]);
        let before = z.clone();
        let delta = |text: &'static str, weight| RowDelta {
            identity: Identity::of_canonical(text.as_bytes()),
            canonical: text.as_bytes(),
            weight,
            origin: 0,
        };
        assert_eq!(z.apply([delta("2", 5), delta("1", 1)]), Err(WeightOutOfRange));
        assert_eq!(z, before);
        assert_eq!(contents(&z), contents(&before));
        assert_eq!(z.scale(2), Err(WeightOutOfRange));
        assert_eq!(contents(&z), contents(&before));
        // Intermediate sums may leave the range as long as the result does not.
        assert!(z.apply([delta("1", MAX_WEIGHT), delta("1", -MAX_WEIGHT - 1)]).is_ok());
        assert_eq!(z.weight(Identity::of_canonical(b"1")), MAX_WEIGHT - 1);
    }

    #[test]
    fn scaling() {
        let mut z = zset(&[("1", 2), ("2", -1)]);
        z.scale(-3).unwrap();
        assert_eq!(contents(&z), BTreeMap::from([(b"1".to_vec(), -6), (b"2".to_vec(), 3)]));
        assert_eq!(z.hash(), z.recompute_hash());
        z.scale(0).unwrap();
        assert!(z.is_empty());
        assert_eq!(z.hash(), MultisetHash::EMPTY);
    }

    #[test]
    fn merging_many_batches() {
        let first = RowBatch::new(Segments::new(b"12", &[0, 1, 2]).unwrap(), &[1, 1]).unwrap();
        let second = RowBatch::new(Segments::new(b"23", &[0, 1, 2]).unwrap(), &[-1, 4]).unwrap();
        let merged = ZSet::from_batches(&[first, second]).unwrap();
        assert_eq!(merged, zset(&[("1", 1), ("3", 4)]));
    }

    const ROW_POOL: [&str; 6] = ["null", "1", "\"a\"", "[1,2]", "{\"x\":true}", "{\"$e\":0}"];

    fn arb_zset() -> impl Strategy<Value = ZSet> {
        proptest::collection::vec((0..ROW_POOL.len(), -3i64..=3), 0..8)
            .prop_map(|rows| zset(&rows.iter().map(|&(i, w)| (ROW_POOL[i], w)).collect::<Vec<_>>()))
    }

    #[derive(Clone, Debug)]
    enum Operation {
        Add(Vec<(usize, Weight)>),
        Negate,
        Scale(Weight),
        Clear,
    }

    fn arb_operation() -> impl Strategy<Value = Operation> {
        prop_oneof![
            6 => proptest::collection::vec((0..ROW_POOL.len(), -3i64..=3), 0..6).prop_map(Operation::Add),
            1 => Just(Operation::Negate),
            1 => (-3i64..=3).prop_map(Operation::Scale),
            1 => Just(Operation::Clear),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn addition_is_commutative(a in arb_zset(), b in arb_zset()) {
            prop_assert_eq!(sum(&a, &b), sum(&b, &a));
        }

        #[test]
        fn addition_is_associative(a in arb_zset(), b in arb_zset(), c in arb_zset()) {
            prop_assert_eq!(sum(&sum(&a, &b), &c), sum(&a, &sum(&b, &c)));
        }

        #[test]
        fn adding_the_negation_gives_the_empty_zset(z in arb_zset()) {
            let mut negated = z.clone();
            negated.negate();
            let total = sum(&z, &negated);
            prop_assert!(total.is_empty());
            prop_assert_eq!(total.hash(), MultisetHash::EMPTY);
        }

        /// Against a plain map as the model, after any sequence of operations the
        /// contents agree and the incremental hash equals the recomputed one.
        #[test]
        fn incremental_hash_matches_recomputation(operations in proptest::collection::vec(arb_operation(), 0..20)) {
            let mut z = ZSet::new();
            let mut model: BTreeMap<Vec<u8>, Weight> = BTreeMap::new();
            for operation in operations {
                match operation {
                    Operation::Add(rows) => {
                        let mut seen_slots = std::collections::HashSet::new();
                        let changes = z.apply(rows.iter().map(|&(i, weight)| RowDelta {
                            identity: Identity::of_canonical(ROW_POOL[i].as_bytes()),
                            canonical: ROW_POOL[i].as_bytes(),
                            weight,
                            origin: i as u32,
                        })).unwrap();
                        prop_assert!(changes.iter().all(|c| seen_slots.insert(c.slot)));
                        for (i, weight) in rows {
                            *model.entry(ROW_POOL[i].as_bytes().to_vec()).or_default() += weight;
                        }
                    }
                    Operation::Negate => {
                        z.negate();
                        model.values_mut().for_each(|w| *w = -*w);
                    }
                    Operation::Scale(factor) => {
                        z.scale(factor).unwrap();
                        model.values_mut().for_each(|w| *w *= factor);
                    }
                    Operation::Clear => {
                        z.clear();
                        model.clear();
                    }
                }
                model.retain(|_, w| *w != 0);
                prop_assert_eq!(contents(&z), model.clone());
                prop_assert_eq!(z.hash(), z.recompute_hash());
            }
        }
    }
}
