//! Z-sets (DBSP §2): finite maps from rows to non-zero integer weights, forming
//! an abelian group under pointwise addition. Every collection and every change
//! to one is a Z-set; incremental operators add deltas to state.
//!
//! Rows are keyed by identity (spec §2) and nothing else: the JS side keeps the
//! row objects, so a row here is its 128-bit identity and its weight. Each row
//! gets a compact `u32` [`Slot`], the handle JS files its object under. Per-slot
//! data lives in parallel vectors (identity, weight), a freed slot has weight 0,
//! and `slot_of` maps identities to slots with the identity's own bits as hash.
//!
//! The multiset hash (spec §3) is updated on every change, never recomputed;
//! [`ZSet::recompute_hash`] exists to check that.
//!
//! Additions are consolidating and all-or-nothing: deltas are summed per row,
//! each row changes at most once (one [`Change`] per row), and if any resulting
//! weight would leave the safe range nothing changes at all. An update is applied
//! in one pass and rolled back in the (rare) out-of-range case, so the common case
//! costs one hash-map probe per delta and no allocation beyond the change list.

use std::fmt;
use std::slice;

use crate::batch::RowBatch;
use crate::hash::{Identity, MultisetHash};
use crate::probe::{ProbeKey, ProbeMap};
use crate::weight::{checked_weight, Weight, WeightOutOfRange, MAX_WEIGHT};

/// How many rows ahead an update prefetches the `slot_of` entry it will probe.
const PREFETCH_AHEAD: usize = 16;

/// An identity as a hash-map key: two words, so an entry with its slot takes 24 bytes.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct IdKey {
    low: u64,
    high: u64,
}

impl From<Identity> for IdKey {
    fn from(identity: Identity) -> Self {
        let bits = identity.as_u128();
        IdKey { low: bits as u64, high: (bits >> 64) as u64 }
    }
}

impl ProbeKey for IdKey {
    /// Identities are MurmurHash3 output: their bits are the hash.
    fn bits(&self) -> u64 {
        self.low
    }
}

/// A row's handle, stable while its weight stays non-zero. Freed slots are
/// reused, but never within the update that freed them.
pub type Slot = u32;

/// A row of a Z-set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowRef {
    pub slot: Slot,
    pub identity: Identity,
    pub weight: Weight,
}

/// One row's contribution to an update.
#[derive(Clone, Copy, Debug)]
pub struct RowDelta {
    pub identity: Identity,
    pub weight: Weight,
    /// Caller-chosen tag reported back in [`Change::origin`] (an input position,
    /// a slot in another Z-set), so the caller can find the row's object.
    pub origin: u32,
}

/// How one row's weight changed in an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub slot: Slot,
    /// The origin of the first non-zero delta that carried this row.
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
    /// Per slot: the row's identity (stale in a free slot).
    ids: Vec<Identity>,
    /// Per slot: the row's weight; 0 marks a free slot.
    weights: Vec<Weight>,
    /// Per slot, used only during an update: 1 + the index of the slot's change, or 0.
    pending: Vec<u32>,
    free_slots: Vec<Slot>,
    slot_of: ProbeMap<IdKey>,
    hash: MultisetHash,
}

impl ZSet {
    pub fn new() -> Self {
        ZSet::default()
    }

    /// The sum of many batches (consolidated, zero weights dropped).
    pub fn from_batches(batches: &[RowBatch<'_>]) -> Result<Self, WeightOutOfRange> {
        let mut zset = ZSet::new();
        zset.add_batches(batches, &mut Vec::new())?;
        Ok(zset)
    }

    /// Number of rows with a non-zero weight.
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// One more than the highest slot ever handed out (slots are below this).
    pub fn slot_bound(&self) -> usize {
        self.weights.len()
    }

    /// Bytes allocated for the rows (an estimate from capacities).
    pub fn allocated_bytes(&self) -> usize {
        self.ids.capacity() * std::mem::size_of::<Identity>()
            + self.weights.capacity() * std::mem::size_of::<Weight>()
            + (self.pending.capacity() + self.free_slots.capacity()) * std::mem::size_of::<u32>()
            + self.slot_of.allocated_bytes()
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
        self.slot_of(identity).map_or(0, |slot| self.weights[slot as usize])
    }

    pub fn slot_of(&self, identity: Identity) -> Option<Slot> {
        self.slot_of.get(&identity.into())
    }

    /// The row in `slot`, if the slot is live.
    pub fn row(&self, slot: Slot) -> Option<RowRef> {
        let weight = *self.weights.get(slot as usize)?;
        (weight != 0).then(|| RowRef { slot, identity: self.ids[slot as usize], weight })
    }

    /// The weight in `slot` (0 for a free or unknown slot).
    pub fn weight_at(&self, slot: Slot) -> Weight {
        self.weights.get(slot as usize).copied().unwrap_or(0)
    }

    /// The identity in `slot`; meaningful only for a live slot.
    pub fn identity_at(&self, slot: Slot) -> Identity {
        self.ids[slot as usize]
    }

    /// Identities by slot (entries of free slots are stale).
    pub fn identities(&self) -> &[Identity] {
        &self.ids
    }

    /// Rows in slot order.
    pub fn iter(&self) -> impl Iterator<Item = RowRef> + '_ {
        self.weights.iter().zip(&self.ids).enumerate().filter(|(_, (&weight, _))| weight != 0).map(
            |(slot, (&weight, &identity))| RowRef { slot: slot as Slot, identity, weight },
        )
    }

    pub fn add_batch(&mut self, batch: &RowBatch<'_>, changes: &mut Vec<Change>) -> Result<(), WeightOutOfRange> {
        self.add_batches(slice::from_ref(batch), changes)
    }

    /// Adds many batches as one update; a change's origin is the position of its
    /// first row, counting through the batches in order.
    pub fn add_batches(&mut self, batches: &[RowBatch<'_>], changes: &mut Vec<Change>) -> Result<(), WeightOutOfRange> {
        let deltas: Vec<RowDelta> = batches
            .iter()
            .flat_map(RowBatch::iter)
            .enumerate()
            .map(|(position, (canonical, weight))| RowDelta {
                identity: Identity::of_canonical(canonical),
                weight,
                origin: position as u32,
            })
            .collect();
        self.apply(&deltas, changes)
    }

    /// Adds `factor ×` another Z-set; a change's origin is the row's slot in `other`.
    pub fn add_zset(&mut self, other: &ZSet, factor: Weight, changes: &mut Vec<Change>) -> Result<(), WeightOutOfRange> {
        if factor != 0 {
            let largest = other.weights.iter().map(|w| w.unsigned_abs()).max().unwrap_or(0);
            checked_weight(i128::from(largest) * i128::from(factor))?;
        }
        let deltas: Vec<RowDelta> =
            other.iter().map(|row| RowDelta { identity: row.identity, weight: row.weight * factor, origin: row.slot }).collect();
        self.apply(&deltas, changes)
    }

    /// The consolidating add behind every update: applies the deltas in one
    /// pass, then checks every touched row; out of range, it undoes them all.
    /// `changes` is cleared and receives one [`Change`] per row whose weight moved.
    pub fn apply(&mut self, deltas: &[RowDelta], changes: &mut Vec<Change>) -> Result<(), WeightOutOfRange> {
        changes.clear();
        let slots_before = self.weights.len();
        let mut overflow = false;
        for (k, delta) in deltas.iter().enumerate() {
            if let Some(ahead) = deltas.get(k + PREFETCH_AHEAD) {
                self.slot_of.prefetch(&ahead.identity.into());
            }
            if delta.weight == 0 {
                continue;
            }
            let (ids, weights, pending, free_slots) =
                (&mut self.ids, &mut self.weights, &mut self.pending, &mut self.free_slots);
            let (slot, _) = self.slot_of.get_or_insert_with(delta.identity.into(), || match free_slots.pop() {
                Some(slot) => {
                    ids[slot as usize] = delta.identity;
                    slot
                }
                None => {
                    let slot = Slot::try_from(weights.len())
                        .ok()
                        .filter(|&slot| slot != Slot::MAX)
                        .expect("a Z-set holds fewer than 2^32 - 1 rows");
                    ids.push(delta.identity);
                    weights.push(0);
                    pending.push(0);
                    slot
                }
            });
            let position = slot as usize;
            if self.pending[position] == 0 {
                changes.push(Change { slot, origin: delta.origin, old_weight: self.weights[position], new_weight: 0 });
                self.pending[position] = changes.len() as u32;
            }
            // Weights are within ±2^53 and deltas too, so only absurdly long
            // batches can overflow i64; that too is reported as out of range.
            match self.weights[position].checked_add(delta.weight) {
                Some(weight) => self.weights[position] = weight,
                None => overflow = true,
            }
        }

        for change in changes.iter_mut() {
            let position = change.slot as usize;
            self.pending[position] = 0;
            change.new_weight = self.weights[position];
            overflow |= change.new_weight.unsigned_abs() > MAX_WEIGHT as u64;
        }
        if overflow {
            self.roll_back(changes, slots_before);
            changes.clear();
            return Err(WeightOutOfRange);
        }

        let mut kept = 0;
        for k in 0..changes.len() {
            let change = changes[k];
            let identity = self.ids[change.slot as usize];
            if change.new_weight == change.old_weight {
                if change.new_weight == 0 {
                    // A new row whose deltas cancelled: give its slot back.
                    self.slot_of.remove(&identity.into());
                    self.free_slots.push(change.slot);
                }
                continue;
            }
            self.hash += MultisetHash::of_row(identity, change.new_weight - change.old_weight);
            if change.new_weight == 0 {
                self.slot_of.remove(&identity.into());
                // Pushed after every slot of this update was handed out, so it
                // is reused only from the next update on.
                self.free_slots.push(change.slot);
            }
            changes[kept] = change;
            kept += 1;
        }
        changes.truncate(kept);
        Ok(())
    }

    /// Undoes an update applied by [`ZSet::apply`] (changes hold the old weights).
    fn roll_back(&mut self, changes: &[Change], slots_before: usize) {
        for change in changes.iter().rev() {
            let position = change.slot as usize;
            self.weights[position] = change.old_weight;
            if change.old_weight == 0 {
                self.slot_of.remove(&self.ids[position].into());
                if position < slots_before {
                    // Popped from the free list; pushing back in reverse order restores it.
                    self.free_slots.push(change.slot);
                }
            }
        }
        self.ids.truncate(slots_before);
        self.weights.truncate(slots_before);
        self.pending.truncate(slots_before);
    }

    /// Negation, the group inverse: every weight flips sign. Slots are unchanged.
    pub fn negate(&mut self) {
        for weight in &mut self.weights {
            *weight = -*weight;
        }
        self.hash = -self.hash;
    }

    /// Multiplies every weight by `factor`; 0 empties the Z-set (see [`ZSet::clear`]).
    pub fn scale(&mut self, factor: Weight) -> Result<(), WeightOutOfRange> {
        if factor == 0 {
            self.clear();
            return Ok(());
        }
        let largest = self.weights.iter().map(|w| w.unsigned_abs()).max().unwrap_or(0);
        checked_weight(i128::from(largest) * i128::from(factor))?;
        for weight in &mut self.weights {
            *weight *= factor;
        }
        self.hash = self.hash.scaled(factor);
        Ok(())
    }

    /// Removes every row; slots are handed out from 0 again.
    pub fn clear(&mut self) {
        *self = ZSet::new();
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
        f.debug_map().entries(self.iter().map(|row| (row.identity, row.weight))).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Segments;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn id(text: &str) -> Identity {
        Identity::of_canonical(text.as_bytes())
    }

    fn delta(text: &str, weight: Weight) -> RowDelta {
        RowDelta { identity: id(text), weight, origin: 0 }
    }

    fn apply(z: &mut ZSet, deltas: impl IntoIterator<Item = RowDelta>) -> Result<Vec<Change>, WeightOutOfRange> {
        let mut changes = Vec::new();
        z.apply(&deltas.into_iter().collect::<Vec<_>>(), &mut changes)?;
        Ok(changes)
    }

    /// Builds a Z-set from `(canonical text, weight)` pairs.
    fn zset(rows: &[(&str, Weight)]) -> ZSet {
        let mut z = ZSet::new();
        apply(&mut z, rows.iter().enumerate().map(|(i, (text, weight))| RowDelta { origin: i as u32, ..delta(text, *weight) }))
            .unwrap();
        z
    }

    fn contents(z: &ZSet) -> BTreeMap<Identity, Weight> {
        z.iter().map(|row| (row.identity, row.weight)).collect()
    }

    fn model(rows: &[(&str, Weight)]) -> BTreeMap<Identity, Weight> {
        rows.iter().map(|&(text, weight)| (id(text), weight)).collect()
    }

    fn sum(a: &ZSet, b: &ZSet) -> ZSet {
        let mut total = a.clone();
        total.add_zset(b, 1, &mut Vec::new()).unwrap();
        total
    }

    #[test]
    fn adds_consolidate_and_drop_zero_weights() {
        let mut z = zset(&[("1", 2), ("2", 1), ("1", 1), ("3", 0)]);
        assert_eq!(contents(&z), model(&[("1", 3), ("2", 1)]));
        let changes = apply(&mut z, [RowDelta { origin: 7, ..delta("2", -1) }]).unwrap();
        assert_eq!(changes.len(), 1);
        assert!(changes[0].is_removal());
        assert_eq!(changes[0].origin, 7);
        assert_eq!(z.len(), 1);
        assert_eq!(z.hash(), z.recompute_hash());
        assert_eq!(z.row(changes[0].slot), None);
    }

    #[test]
    fn batches_report_one_change_per_row_with_the_first_origin() {
        let bytes = b"\"a\"\"b\"\"a\"\"c\"";
        let offsets = [0, 3, 6, 9, 12];
        let batch = RowBatch::new(Segments::new(bytes, &offsets).unwrap(), &[1, 2, 4, 0]).unwrap();
        let mut z = ZSet::new();
        let mut changes = Vec::new();
        z.add_batch(&batch, &mut changes).unwrap();
        let summary: Vec<(u32, Weight, Weight)> =
            changes.iter().map(|c| (c.origin, c.old_weight, c.new_weight)).collect();
        assert_eq!(summary, [(0, 0, 5), (1, 0, 2)]);
        assert_ne!(changes[0].slot, changes[1].slot);
    }

    #[test]
    fn rows_that_cancel_within_an_update_report_nothing() {
        let mut z = zset(&[("1", 1)]);
        let changes = apply(&mut z, [delta("2", 1), delta("1", 2), delta("2", -1), delta("1", -2)]).unwrap();
        assert!(changes.is_empty());
        assert_eq!(contents(&z), model(&[("1", 1)]));
        assert_eq!(z.hash(), z.recompute_hash());
        // The slot tentatively given to "2" went back to the free list.
        let changes = apply(&mut z, [delta("3", 1)]).unwrap();
        assert_eq!(changes[0].slot, 1);
    }

    #[test]
    fn freed_slots_are_reused_only_in_a_later_update() {
        let mut z = zset(&[("1", 1)]);
        let slot_of_1 = z.slot_of(id("1")).unwrap();
        let changes = apply(&mut z, [delta("1", -1), delta("2", 1)]).unwrap();
        assert_ne!(changes[0].slot, changes[1].slot);
        let changes = apply(&mut z, [delta("3", 1)]).unwrap();
        assert_eq!(changes[0].slot, slot_of_1);
    }

    #[test]
    fn out_of_range_updates_change_nothing() {
        let mut z = zset(&[("1", MAX_WEIGHT), ("2", 1)]);
        apply(&mut z, [delta("2", -1)]).unwrap(); // leaves a free slot
        let before = z.clone();
        let free_before = z.free_slots.clone();
        assert_eq!(apply(&mut z, [delta("2", 5), delta("4", 1), delta("5", 1), delta("1", 1)]), Err(WeightOutOfRange));
        assert_eq!(z, before);
        assert_eq!(contents(&z), contents(&before));
        assert_eq!(z.free_slots, free_before);
        assert_eq!(z.slot_bound(), before.slot_bound());
        assert_eq!(z.scale(2), Err(WeightOutOfRange));
        assert_eq!(contents(&z), contents(&before));
        assert_eq!(z.add_zset(&before, 2, &mut Vec::new()), Err(WeightOutOfRange));
        assert_eq!(contents(&z), contents(&before));
        // Intermediate sums may leave the range as long as the result does not.
        assert!(apply(&mut z, [delta("1", MAX_WEIGHT), delta("1", -MAX_WEIGHT - 1)]).is_ok());
        assert_eq!(z.weight(id("1")), MAX_WEIGHT - 1);
        assert_eq!(z.hash(), z.recompute_hash());
    }

    #[test]
    fn scaling() {
        let mut z = zset(&[("1", 2), ("2", -1)]);
        z.scale(-3).unwrap();
        assert_eq!(contents(&z), model(&[("1", -6), ("2", 3)]));
        assert_eq!(z.hash(), z.recompute_hash());
        z.scale(0).unwrap();
        assert!(z.is_empty());
        assert_eq!(z.hash(), MultisetHash::EMPTY);
    }

    #[test]
    fn adding_a_multiple_of_another_zset() {
        let mut z = zset(&[("1", 2), ("2", 1)]);
        let other = zset(&[("2", 1), ("3", 4)]);
        let mut changes = Vec::new();
        z.add_zset(&other, -1, &mut changes).unwrap();
        assert_eq!(contents(&z), model(&[("1", 2), ("3", -4)]));
        let origins: Vec<u32> = changes.iter().map(|c| c.origin).collect();
        assert_eq!(origins, [other.slot_of(id("2")).unwrap(), other.slot_of(id("3")).unwrap()]);
        assert_eq!(z.hash(), z.recompute_hash());
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
            let mut total = z.clone();
            total.add_zset(&z, -1, &mut Vec::new()).unwrap();
            prop_assert!(total.is_empty());
        }

        /// Against a plain map as the model, after any sequence of operations the
        /// contents agree and the incremental hash equals the recomputed one.
        #[test]
        fn incremental_hash_matches_recomputation(operations in proptest::collection::vec(arb_operation(), 0..20)) {
            let mut z = ZSet::new();
            let mut model: BTreeMap<Identity, Weight> = BTreeMap::new();
            for operation in operations {
                match operation {
                    Operation::Add(rows) => {
                        let mut seen_slots = std::collections::HashSet::new();
                        let changes = apply(&mut z, rows.iter().map(|&(i, weight)| RowDelta {
                            identity: id(ROW_POOL[i]),
                            weight,
                            origin: i as u32,
                        })).unwrap();
                        prop_assert!(changes.iter().all(|c| seen_slots.insert(c.slot)));
                        for change in &changes {
                            prop_assert_eq!(z.weight_at(change.slot), change.new_weight);
                        }
                        for (i, weight) in rows {
                            *model.entry(id(ROW_POOL[i])).or_default() += weight;
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
