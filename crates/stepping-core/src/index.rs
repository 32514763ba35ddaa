//! Ordered indexes: a Z-set's rows ordered by (key bytes, canonical bytes), the
//! order spec §4 fixes for every store ("rows with equal keys are ordered by
//! their canonical bytes"). They back DBSP's indexed Z-sets — joins look rows up
//! by key, ordered outputs scan them — and are storage, not algebra: an index
//! holds row slots, while weights stay in the Z-set.
//!
//! The index is told which rows exist (insert on a row's first non-zero weight,
//! remove when it returns to zero); weight changes in between do not touch it.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use crate::zset::Slot;

/// A row's position in the order. Both byte strings are shared with the Z-set
/// and with the row's other index entries.
#[derive(Clone, Debug)]
struct IndexEntry {
    key: Arc<[u8]>,
    canonical: Arc<[u8]>,
}

/// The two byte strings an entry is ordered by, so that the tree can be probed
/// with borrowed bytes ([`Probe`]) instead of allocating an owned entry.
trait EntryBytes {
    fn key(&self) -> &[u8];
    fn canonical(&self) -> &[u8];
}

impl EntryBytes for IndexEntry {
    fn key(&self) -> &[u8] {
        &self.key
    }
    fn canonical(&self) -> &[u8] {
        &self.canonical
    }
}

struct Probe<'a> {
    key: &'a [u8],
    canonical: &'a [u8],
}

impl EntryBytes for Probe<'_> {
    fn key(&self) -> &[u8] {
        self.key
    }
    fn canonical(&self) -> &[u8] {
        self.canonical
    }
}

impl Ord for dyn EntryBytes + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(other.key()).then_with(|| self.canonical().cmp(other.canonical()))
    }
}

impl PartialOrd for dyn EntryBytes + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for dyn EntryBytes + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for dyn EntryBytes + '_ {}

impl<'a> Borrow<dyn EntryBytes + 'a> for IndexEntry {
    fn borrow(&self) -> &(dyn EntryBytes + 'a) {
        self
    }
}

// `Borrow` requires the owned order to agree with the borrowed one.
impl Ord for IndexEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self as &dyn EntryBytes).cmp(other as &dyn EntryBytes)
    }
}

impl PartialOrd for IndexEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for IndexEntry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for IndexEntry {}

#[derive(Clone, Debug, Default)]
pub struct OrderedIndex {
    entries: BTreeMap<IndexEntry, Slot>,
    /// Each indexed slot's entry, so rows can be removed by slot alone.
    entry_of_slot: Vec<Option<IndexEntry>>,
}

impl OrderedIndex {
    pub fn new() -> Self {
        OrderedIndex::default()
    }

    /// Number of indexed rows.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Indexes the row in `slot` under `key`, replacing the slot's previous entry if any.
    pub fn insert(&mut self, slot: Slot, key: Arc<[u8]>, canonical: Arc<[u8]>) {
        self.remove(slot);
        let entry = IndexEntry { key, canonical };
        let position = slot as usize;
        if self.entry_of_slot.len() <= position {
            self.entry_of_slot.resize(position + 1, None);
        }
        self.entry_of_slot[position] = Some(entry.clone());
        self.entries.insert(entry, slot);
    }

    /// Drops the row in `slot`; false if it was not indexed.
    pub fn remove(&mut self, slot: Slot) -> bool {
        match self.entry_of_slot.get_mut(slot as usize).and_then(Option::take) {
            Some(entry) => {
                self.entries.remove(&entry);
                true
            }
            None => false,
        }
    }

    pub fn clear(&mut self) {
        *self = OrderedIndex::new();
    }

    /// The key the row in `slot` is indexed under.
    pub fn key_of(&self, slot: Slot) -> Option<&Arc<[u8]>> {
        self.entry_of_slot.get(slot as usize)?.as_ref().map(|entry| &entry.key)
    }

    /// Rows whose key is exactly `key`, in canonical order.
    pub fn lookup<'a>(&'a self, key: &'a [u8]) -> impl Iterator<Item = Slot> + 'a {
        self.entries_from(key).take_while(move |(entry, _)| &*entry.key == key).map(|(_, &slot)| slot)
    }

    /// Rows whose key starts with `prefix`, in index order.
    pub fn prefix_scan<'a>(&'a self, prefix: &'a [u8]) -> impl Iterator<Item = Slot> + 'a {
        self.entries_from(prefix).take_while(move |(entry, _)| entry.key.starts_with(prefix)).map(|(_, &slot)| slot)
    }

    /// Every row, in index order.
    pub fn scan(&self) -> impl DoubleEndedIterator<Item = Slot> + '_ {
        self.entries.values().copied()
    }

    /// Entries from the first whose key is at least `key`.
    fn entries_from<'a>(&'a self, key: &'a [u8]) -> std::collections::btree_map::Range<'a, IndexEntry, Slot> {
        // The empty canonical text sorts before every row's.
        let start = Probe { key, canonical: &[] };
        self.entries
            .range::<dyn EntryBytes + 'a, _>((Bound::Included(&start as &(dyn EntryBytes + 'a)), Bound::Unbounded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Arc<[u8]> {
        Arc::from(s.as_bytes())
    }

    /// Slots 0.. with (key, canonical) pairs.
    fn index(rows: &[(&str, &str)]) -> OrderedIndex {
        let mut index = OrderedIndex::new();
        for (slot, (key, canonical)) in rows.iter().enumerate() {
            index.insert(slot as Slot, bytes(key), bytes(canonical));
        }
        index
    }

    #[test]
    fn orders_by_key_then_canonical_bytes() {
        let index = index(&[("b", "2"), ("a", "9"), ("b", "1"), ("ab", "0")]);
        assert_eq!(index.scan().collect::<Vec<_>>(), [1, 3, 2, 0]);
        assert_eq!(index.scan().rev().collect::<Vec<_>>(), [0, 2, 3, 1]);
    }

    #[test]
    fn point_lookup_and_prefix_scan() {
        let index = index(&[("b", "2"), ("a", "9"), ("b", "1"), ("ab", "0"), ("c", "5")]);
        assert_eq!(index.lookup(b"b").collect::<Vec<_>>(), [2, 0]);
        assert_eq!(index.lookup(b"a").collect::<Vec<_>>(), [1]);
        assert_eq!(index.lookup(b"z").count(), 0);
        assert_eq!(index.prefix_scan(b"a").collect::<Vec<_>>(), [1, 3]);
        assert_eq!(index.prefix_scan(b"").count(), 5);
        assert_eq!(index.prefix_scan(b"bb").count(), 0);
    }

    #[test]
    fn insert_replaces_and_remove_forgets() {
        let mut index = index(&[("a", "1"), ("b", "2")]);
        index.insert(0, bytes("c"), bytes("1"));
        assert_eq!(index.len(), 2);
        assert_eq!(index.key_of(0).map(|k| &k[..]), Some(&b"c"[..]));
        assert_eq!(index.scan().collect::<Vec<_>>(), [1, 0]);
        assert!(index.remove(1));
        assert!(!index.remove(1));
        assert!(!index.remove(40));
        assert_eq!(index.scan().collect::<Vec<_>>(), [0]);
        assert_eq!(index.key_of(1), None);
        index.clear();
        assert!(index.is_empty());
    }
}
