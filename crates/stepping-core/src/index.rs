//! Ordered indexes: a Z-set's rows grouped by key bytes (spec §4), the groups
//! ordered by key and the rows of a group by identity (spec §2: "rows with equal
//! keys are ordered by their identity hash"). They back DBSP's indexed Z-sets —
//! joins look rows up by key, ordered outputs scan them — and are storage, not
//! algebra: an index holds row slots, while identities and weights stay in the
//! Z-set.
//!
//! Layout, chosen for the common operations (insert, remove, point lookup):
//! - every distinct key is a *group*: its bytes live in one shared arena (no
//!   allocation per key), and a [`ProbeMap`] from a 64-bit keyed hash of the
//!   bytes finds it (groups whose hashes collide are chained); batch inserts
//!   prefetch their probes;
//! - a group holds its first member inline and the others in a `Vec`, so the
//!   many indexes whose keys are (nearly) unique allocate nothing per row; per
//!   slot the index knows its group and its position there, so removal is a
//!   swap with the last member;
//! - members are sorted by identity lazily, the first time an ordered read
//!   visits the group after a change (point lookups for joins need no order);
//! - the key order itself (a `BTreeMap` from key bytes to group) is built on the
//!   first ordered scan and maintained from then on, so indexes that are only
//!   probed by key never pay for it.
//!
//! The index is told which rows exist (insert on a row's first non-zero weight,
//! remove when it returns to zero); weight changes in between do not touch it.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::ops::Bound;
use std::sync::OnceLock;

use crate::hash::Identity;
use crate::probe::ProbeMap;
use crate::zset::Slot;

type GroupId = u32;

/// "No group" / end of a hash chain / no member.
const NONE: u32 = u32::MAX;

/// Arena garbage below this many bytes is never compacted away.
const MIN_COMPACTION: usize = 1 << 16;

/// How many keys ahead a batch insert prefetches its hash-map probe.
const PREFETCH_AHEAD: usize = 8;

#[derive(Clone, Debug)]
struct Group {
    key_start: usize,
    key_len: u32,
    /// The next group whose key has the same hash.
    next: GroupId,
    /// Member 0 ([`NONE`] in a free group); members 1.. are `rest`.
    first: Slot,
    rest: Vec<Slot>,
    /// Members are in identity order.
    sorted: bool,
}

impl Group {
    fn len(&self) -> usize {
        if self.first == NONE {
            0
        } else {
            1 + self.rest.len()
        }
    }

    fn members(&self) -> Members<'_> {
        Members { first: (self.first != NONE).then_some(self.first), rest: &self.rest }
    }
}

/// The rows of one key: a member held inline and a slice of the others.
#[derive(Clone, Copy, Debug, Default)]
pub struct Members<'a> {
    first: Option<Slot>,
    rest: &'a [Slot],
}

impl<'a> Members<'a> {
    pub fn len(&self) -> usize {
        self.first.map_or(0, |_| 1 + self.rest.len())
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    pub fn iter(&self) -> impl Iterator<Item = Slot> + 'a {
        self.first.into_iter().chain(self.rest.iter().copied())
    }

    /// Member `at` (in the group's current order); panics past the end.
    pub fn get(&self, at: usize) -> Slot {
        if at == 0 {
            self.first.expect("a member")
        } else {
            self.rest[at - 1]
        }
    }

    /// Copies the members into `out` (exactly `len()` long).
    pub fn copy_to(&self, out: &mut [Slot]) {
        if let Some(first) = self.first {
            out[0] = first;
            out[1..].copy_from_slice(self.rest);
        }
    }

    pub fn to_vec(&self) -> Vec<Slot> {
        self.iter().collect()
    }
}

/// Where an ordered scan begins.
#[derive(Clone, Copy, Debug)]
pub enum ScanStart<'a> {
    /// At the first row.
    First,
    /// Just after the row with this key and identity (a cursor from an earlier scan;
    /// the row itself need not exist any more).
    After(&'a [u8], Identity),
}

#[derive(Clone)]
pub struct OrderedIndex {
    seed: u64,
    /// Key bytes of every group, back to back (freed groups leave garbage).
    arena: Vec<u8>,
    garbage: usize,
    groups: Vec<Group>,
    free_groups: Vec<GroupId>,
    /// Key hash → first group of its chain.
    heads: ProbeMap<u64>,
    /// Per slot: its group, or [`NONE`].
    group_of: Vec<GroupId>,
    /// Per slot: its position among the group's members.
    position: Vec<u32>,
    /// Key bytes → group, in key order; built on the first ordered scan.
    ordered: Option<BTreeMap<Box<[u8]>, GroupId>>,
    len: usize,
}

impl Default for OrderedIndex {
    fn default() -> Self {
        OrderedIndex {
            seed: process_seed(),
            arena: Vec::new(),
            garbage: 0,
            groups: Vec::new(),
            free_groups: Vec::new(),
            heads: ProbeMap::default(),
            group_of: Vec::new(),
            position: Vec::new(),
            ordered: None,
            len: 0,
        }
    }
}

impl std::fmt::Debug for OrderedIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderedIndex").field("rows", &self.len).field("keys", &self.key_count()).finish()
    }
}

/// A random seed for key hashes, fixed for the process: keys chosen to collide
/// cannot be prepared in advance.
fn process_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(0x5354_4550_5049_4e47);
        hasher.finish() | 1
    })
}

/// Folded 64×64→128 multiply (as in wyhash): the mixing step of [`key_hash`].
fn fold_mul(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// A fast keyed hash of key bytes, eight bytes at a time.
fn key_hash(seed: u64, key: &[u8]) -> u64 {
    const P0: u64 = 0xa076_1d64_78bd_642f;
    const P1: u64 = 0xe703_7ed1_a0b4_28db;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(P0);
    let mut words = key.chunks_exact(8);
    for word in &mut words {
        h = fold_mul(h ^ u64::from_le_bytes(word.try_into().expect("eight bytes")), P1);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        let mut padded = [0u8; 8];
        padded[..tail.len()].copy_from_slice(tail);
        h = fold_mul(h ^ u64::from_le_bytes(padded), P1);
    }
    fold_mul(h ^ P0, P1 ^ seed)
}

impl OrderedIndex {
    pub fn new() -> Self {
        OrderedIndex::default()
    }

    /// Number of indexed rows.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes allocated for the index, estimated in constant time (member vectors
    /// and the ordered view are counted roughly).
    pub fn allocated_bytes(&self) -> usize {
        let members = self.len - self.key_count().min(self.len);
        self.arena.capacity()
            + self.groups.capacity() * std::mem::size_of::<Group>()
            + (members + self.free_groups.capacity() + self.group_of.capacity() + self.position.capacity()) * 4
            + self.heads.allocated_bytes()
            + self.ordered.as_ref().map_or(0, |ordered| ordered.len() * 64)
    }

    /// Number of distinct keys.
    pub fn key_count(&self) -> usize {
        self.groups.len() - self.free_groups.len()
    }

    fn key_bytes(&self, group: GroupId) -> &[u8] {
        key_bytes(&self.arena, &self.groups[group as usize])
    }

    fn find(&self, hash: u64, key: &[u8]) -> Option<GroupId> {
        let mut group = self.heads.get(&hash)?;
        while group != NONE {
            if self.key_bytes(group) == key {
                return Some(group);
            }
            group = self.groups[group as usize].next;
        }
        None
    }

    fn group_with_key(&self, key: &[u8]) -> Option<GroupId> {
        self.find(key_hash(self.seed, key), key)
    }

    /// Indexes the row in `slot` under `key`, replacing the slot's previous entry if any.
    pub fn insert(&mut self, slot: Slot, key: &[u8]) {
        self.insert_batch(&[(slot, key)]);
    }

    /// Indexes many rows (each replacing its slot's previous entry, if any),
    /// prefetching the hash-map probes a few keys ahead.
    pub fn insert_batch(&mut self, rows: &[(Slot, &[u8])]) {
        // A row whose key equals the previous row's (one meter's reads) goes to
        // the same group: no hash, no probe.
        let repeats: Vec<bool> = (0..rows.len()).map(|k| k > 0 && rows[k].1 == rows[k - 1].1).collect();
        let hashes: Vec<u64> =
            rows.iter().zip(&repeats).map(|((_, key), &repeat)| if repeat { 0 } else { key_hash(self.seed, key) }).collect();
        if let Some(&(largest, _)) = rows.iter().max_by_key(|(slot, _)| *slot) {
            let bound = largest as usize + 1;
            if self.group_of.len() < bound {
                self.group_of.resize(bound, NONE);
                self.position.resize(bound, 0);
            }
        }
        let mut previous = NONE;
        for (k, &(slot, key)) in rows.iter().enumerate() {
            if let Some(ahead) = hashes.get(k + PREFETCH_AHEAD) {
                if !repeats[k + PREFETCH_AHEAD] {
                    self.heads.prefetch(ahead);
                }
            }
            self.remove(slot);
            // The previous row's group still holds that row, so removing `slot` cannot have freed it.
            let group = if repeats[k] { previous } else { self.group_for(hashes[k], key) };
            previous = group;
            let entry = &mut self.groups[group as usize];
            let at = entry.len();
            if at == 0 {
                entry.first = slot;
            } else {
                entry.rest.push(slot);
                entry.sorted = false;
            }
            self.group_of[slot as usize] = group;
            self.position[slot as usize] = at as u32;
            self.len += 1;
        }
    }

    /// The group of `key` (whose hash is `hash`), created if absent, with one
    /// probe of the hash map in the usual case.
    fn group_for(&mut self, hash: u64, key: &[u8]) -> GroupId {
        let OrderedIndex { arena, groups, free_groups, heads, .. } = self;
        let (head, created) = heads.get_or_insert_with(hash, || new_group(arena, groups, free_groups, key, NONE));
        let group = if created {
            head
        } else {
            let mut group = head;
            while group != NONE && key_bytes(arena, &groups[group as usize]) != key {
                group = groups[group as usize].next;
            }
            if group != NONE {
                return group;
            }
            // A colliding hash: chain the new group right after the head.
            let group = new_group(arena, groups, free_groups, key, groups[head as usize].next);
            groups[head as usize].next = group;
            group
        };
        if let Some(ordered) = &mut self.ordered {
            ordered.insert(key.into(), group);
        }
        group
    }

    /// Drops the row in `slot`; false if it was not indexed.
    pub fn remove(&mut self, slot: Slot) -> bool {
        let position = slot as usize;
        let group = match self.group_of.get(position) {
            Some(&group) if group != NONE => group,
            _ => return false,
        };
        self.group_of[position] = NONE;
        self.len -= 1;
        let at = self.position[position] as usize;
        let entry = &mut self.groups[group as usize];
        // Move the last member into the hole.
        let last = entry.rest.pop().unwrap_or(NONE);
        if last == NONE {
            entry.first = NONE; // it was the only member
        } else if last != slot {
            if at == 0 {
                entry.first = last;
            } else {
                entry.rest[at - 1] = last;
            }
            self.position[last as usize] = at as u32;
            entry.sorted = entry.rest.is_empty();
        }
        if entry.first == NONE {
            self.drop_group(group);
        }
        true
    }

    fn drop_group(&mut self, group: GroupId) {
        let (key_start, key_len, next) = {
            let entry = &self.groups[group as usize];
            (entry.key_start, entry.key_len as usize, entry.next)
        };
        let hash = key_hash(self.seed, &self.arena[key_start..key_start + key_len]);
        let head = self.heads.get(&hash).expect("a live group is in the map");
        if head == group {
            if next == NONE {
                self.heads.remove(&hash);
            } else {
                self.heads.insert(hash, next);
            }
        } else {
            let mut previous = head;
            while self.groups[previous as usize].next != group {
                previous = self.groups[previous as usize].next;
            }
            self.groups[previous as usize].next = next;
        }
        if let Some(ordered) = &mut self.ordered {
            ordered.remove(&self.arena[key_start..key_start + key_len]);
        }
        let entry = &mut self.groups[group as usize];
        entry.key_len = 0;
        entry.next = NONE;
        self.free_groups.push(group);
        self.garbage += key_len;
        if self.garbage > MIN_COMPACTION && self.garbage * 2 > self.arena.len() {
            self.compact_arena();
        }
    }

    /// Copies the live keys into a fresh arena.
    fn compact_arena(&mut self) {
        let mut arena = Vec::with_capacity(self.arena.len() - self.garbage);
        for group in &mut self.groups {
            if group.first != NONE {
                let start = arena.len();
                arena.extend_from_slice(&self.arena[group.key_start..group.key_start + group.key_len as usize]);
                group.key_start = start;
            }
        }
        self.arena = arena;
        self.garbage = 0;
    }

    pub fn clear(&mut self) {
        *self = OrderedIndex::new();
    }

    /// The key the row in `slot` is indexed under.
    pub fn key_of(&self, slot: Slot) -> Option<&[u8]> {
        match self.group_of.get(slot as usize) {
            Some(&group) if group != NONE => Some(self.key_bytes(group)),
            _ => None,
        }
    }

    /// Rows whose key is exactly `key`, in no particular order.
    pub fn lookup(&self, key: &[u8]) -> Members<'_> {
        match self.group_with_key(key) {
            Some(group) => self.groups[group as usize].members(),
            None => Members::default(),
        }
    }

    /// Rows whose key is exactly `key`, in identity order (`ids` are the Z-set's
    /// identities by slot).
    pub fn lookup_sorted(&mut self, key: &[u8], ids: &[Identity]) -> Members<'_> {
        match self.group_with_key(key) {
            Some(group) => {
                sort_group(&mut self.groups[group as usize], &mut self.position, ids);
                self.groups[group as usize].members()
            }
            None => Members::default(),
        }
    }

    /// Rows in index order (key bytes, then identity) whose key starts with
    /// `prefix`, from `start` on; `visit` gets each row's key and slot and
    /// returns false to stop.
    pub fn scan(
        &mut self,
        ids: &[Identity],
        start: ScanStart<'_>,
        prefix: &[u8],
        mut visit: impl FnMut(&[u8], Slot) -> bool,
    ) {
        if self.ordered.is_none() {
            let mut ordered = BTreeMap::new();
            for (group, entry) in self.groups.iter().enumerate() {
                if entry.first != NONE {
                    let key = &self.arena[entry.key_start..entry.key_start + entry.key_len as usize];
                    ordered.insert(Box::from(key), group as GroupId);
                }
            }
            self.ordered = Some(ordered);
        }
        let ordered = self.ordered.as_ref().expect("built above");
        let (from, after) = match start {
            ScanStart::First => (prefix, None),
            ScanStart::After(key, identity) => (key.max(prefix), (key >= prefix).then_some((key, identity))),
        };
        for (key, &group) in ordered.range::<[u8], _>((Bound::Included(from), Bound::Unbounded)) {
            if !key.starts_with(prefix) {
                return;
            }
            let entry = &mut self.groups[group as usize];
            sort_group(entry, &mut self.position, ids);
            let members = entry.members();
            let skip = match after {
                Some((after_key, after_id)) if **key == *after_key => {
                    // Members are sorted: binary search for the first identity past the cursor.
                    let (mut low, mut high) = (0, members.len());
                    while low < high {
                        let middle = (low + high) / 2;
                        if ids[members.get(middle) as usize] <= after_id {
                            low = middle + 1;
                        } else {
                            high = middle;
                        }
                    }
                    low
                }
                _ => 0,
            };
            for slot in members.iter().skip(skip) {
                if !visit(key, slot) {
                    return;
                }
            }
        }
    }
}

fn key_bytes<'a>(arena: &'a [u8], group: &Group) -> &'a [u8] {
    &arena[group.key_start..group.key_start + group.key_len as usize]
}

/// A new, empty group for `key` (reusing a free one), chained before `next`.
fn new_group(arena: &mut Vec<u8>, groups: &mut Vec<Group>, free_groups: &mut Vec<GroupId>, key: &[u8], next: GroupId) -> GroupId {
    let key_len = u32::try_from(key.len()).expect("an index key is shorter than 4 GiB");
    let key_start = arena.len();
    arena.extend_from_slice(key);
    match free_groups.pop() {
        Some(group) => {
            // The member vector keeps its allocation for reuse.
            let entry = &mut groups[group as usize];
            entry.key_start = key_start;
            entry.key_len = key_len;
            entry.next = next;
            entry.sorted = true;
            group
        }
        None => {
            let group = GroupId::try_from(groups.len()).ok().filter(|&g| g != NONE).expect("fewer than 2^32 - 1 keys");
            groups.push(Group { key_start, key_len, next, first: NONE, rest: Vec::new(), sorted: true });
            group
        }
    }
}

fn sort_group(group: &mut Group, position: &mut [u32], ids: &[Identity]) {
    if group.sorted {
        return;
    }
    let mut members = group.members().to_vec();
    members.sort_unstable_by_key(|&slot| ids[slot as usize]);
    for (at, &slot) in members.iter().enumerate() {
        position[slot as usize] = at as u32;
    }
    group.first = members[0];
    group.rest.clear();
    group.rest.extend_from_slice(&members[1..]);
    group.sorted = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Identities by slot: slot `i` has identity `ids[i]`.
    fn index(rows: &[(&str, u128)]) -> (OrderedIndex, Vec<Identity>) {
        let mut index = OrderedIndex::new();
        for (slot, (key, _)) in rows.iter().enumerate() {
            index.insert(slot as Slot, key.as_bytes());
        }
        (index, rows.iter().map(|&(_, id)| Identity::from(id)).collect())
    }

    fn scan_all(index: &mut OrderedIndex, ids: &[Identity], start: ScanStart<'_>, prefix: &str) -> Vec<Slot> {
        let mut out = Vec::new();
        index.scan(ids, start, prefix.as_bytes(), |_, slot| {
            out.push(slot);
            true
        });
        out
    }

    fn sorted(mut slots: Vec<Slot>) -> Vec<Slot> {
        slots.sort_unstable();
        slots
    }

    #[test]
    fn orders_by_key_then_identity() {
        let (mut index, ids) = index(&[("b", 20), ("a", 90), ("b", 10), ("ab", 0)]);
        assert_eq!(scan_all(&mut index, &ids, ScanStart::First, ""), [1, 3, 2, 0]);
    }

    #[test]
    fn identity_order_is_byte_order_of_the_identity() {
        // The high word decides: 0x01… sorts before 0xff… whatever the low bits.
        let high = 0xff00_0000_0000_0000_0000_0000_0000_0000u128;
        let (mut index, ids) = index(&[("k", high), ("k", 0x0100_0000_0000_0000_0000_0000_0000_ffffu128)]);
        assert_eq!(scan_all(&mut index, &ids, ScanStart::First, ""), [1, 0]);
        assert_eq!(index.lookup_sorted(b"k", &ids).to_vec(), [1, 0]);
    }

    #[test]
    fn point_lookup_and_prefix_scan() {
        let (mut index, ids) = index(&[("b", 2), ("a", 9), ("b", 1), ("ab", 0), ("c", 5)]);
        assert_eq!(sorted(index.lookup(b"b").to_vec()), [0, 2]);
        assert_eq!(index.lookup_sorted(b"b", &ids).to_vec(), [2, 0]);
        assert_eq!(index.lookup(b"a").to_vec(), [1]);
        assert!(index.lookup(b"z").is_empty());
        assert_eq!(scan_all(&mut index, &ids, ScanStart::First, "a"), [1, 3]);
        assert_eq!(scan_all(&mut index, &ids, ScanStart::First, "").len(), 5);
        assert!(scan_all(&mut index, &ids, ScanStart::First, "bb").is_empty());
        assert_eq!(index.key_count(), 4);
    }

    #[test]
    fn scans_resume_after_a_cursor() {
        let (mut index, ids) = index(&[("b", 2), ("a", 9), ("b", 1), ("ab", 0), ("c", 5), ("b", 3)]);
        let all = scan_all(&mut index, &ids, ScanStart::First, "");
        assert_eq!(all, [1, 3, 2, 0, 5, 4]);
        for (k, &slot) in all.iter().enumerate() {
            let key = index.key_of(slot).unwrap().to_vec();
            let rest = scan_all(&mut index, &ids, ScanStart::After(&key, ids[slot as usize]), "");
            assert_eq!(rest, all[k + 1..]);
        }
        // A cursor whose row is gone, and one between keys.
        index.remove(2);
        assert_eq!(scan_all(&mut index, &ids, ScanStart::After(b"b", Identity::from(1)), ""), [0, 5, 4]);
        assert_eq!(scan_all(&mut index, &ids, ScanStart::After(b"aa", Identity::from(0)), ""), [3, 0, 5, 4]);
        // With a prefix, a cursor before the prefix starts at the prefix.
        assert_eq!(scan_all(&mut index, &ids, ScanStart::After(b"a", Identity::from(99)), "b"), [0, 5]);
        assert_eq!(scan_all(&mut index, &ids, ScanStart::After(b"b", Identity::from(2)), "b"), [5]);
    }

    #[test]
    fn ordered_view_follows_later_changes() {
        let (mut index, ids) = index(&[("b", 2), ("a", 9), ("c", 1)]);
        assert_eq!(scan_all(&mut index, &ids, ScanStart::First, ""), [1, 0, 2]);
        let mut ids = ids;
        ids.push(Identity::from(0));
        index.insert(3, b"a");
        index.remove(0);
        assert_eq!(scan_all(&mut index, &ids, ScanStart::First, ""), [3, 1, 2]);
        index.insert(0, b"0");
        assert_eq!(scan_all(&mut index, &ids, ScanStart::First, ""), [0, 3, 1, 2]);
    }

    #[test]
    fn insert_replaces_and_remove_forgets() {
        let (mut index, ids) = index(&[("a", 1), ("b", 2)]);
        index.insert(0, b"c");
        assert_eq!(index.len(), 2);
        assert_eq!(index.key_of(0), Some(&b"c"[..]));
        assert_eq!(scan_all(&mut index, &ids, ScanStart::First, ""), [1, 0]);
        assert!(index.remove(1));
        assert!(!index.remove(1));
        assert!(!index.remove(40));
        assert_eq!(scan_all(&mut index, &ids, ScanStart::First, ""), [0]);
        assert_eq!(index.key_of(1), None);
        assert!(index.lookup(b"b").is_empty());
        index.clear();
        assert!(index.is_empty());
    }

    #[test]
    fn colliding_hashes_are_chained() {
        let mut index = OrderedIndex::new();
        let keys: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i; 1 + (i % 20) as usize]).collect();
        // Force every key into one chain by giving them the same hash.
        for (slot, key) in keys.iter().enumerate() {
            let group = index.group_for(42, key);
            index.group_of.resize(slot + 1, NONE);
            index.position.resize(slot + 1, 0);
            index.group_of[slot] = group;
            index.groups[group as usize].first = slot as Slot;
            index.len += 1;
        }
        assert_eq!(index.heads.len(), 1);
        for (slot, key) in keys.iter().enumerate() {
            assert_eq!(index.find(42, key).map(|g| index.groups[g as usize].members().to_vec()), Some(vec![slot as Slot]));
        }
        // Removing (which rehashes the real key) must still unlink from the forced chain:
        // give drop_group the real hash's chain by re-keying the head under it.
        let head = index.heads.get(&42).unwrap();
        for slot in (0..50).step_by(3) {
            // Move the chain to where drop_group will look for it.
            let real = key_hash(index.seed, &keys[slot]);
            let chain_head = index.heads.remove(&42).unwrap_or(head);
            index.heads.insert(real, chain_head);
            assert!(index.remove(slot as Slot));
            if let Some(after) = index.heads.remove(&real) {
                index.heads.insert(42, after);
            }
        }
        for (slot, key) in keys.iter().enumerate() {
            let found = index.find(42, key).is_some();
            assert_eq!(found, slot % 3 != 0, "slot {slot}");
        }
    }

    #[test]
    fn members_move_when_others_leave() {
        let ids: Vec<Identity> = (0..6u128).map(|i| Identity::from(100 - i)).collect();
        let mut index = OrderedIndex::new();
        for slot in 0..6 {
            index.insert(slot, b"k");
        }
        assert!(index.remove(0)); // the inline member: the last moves in
        assert!(index.remove(3));
        assert!(index.remove(5)); // the last member itself
        assert_eq!(sorted(index.lookup(b"k").to_vec()), [1, 2, 4]);
        assert_eq!(index.lookup_sorted(b"k", &ids).to_vec(), [4, 2, 1]);
        for slot in [4, 2, 1] {
            assert!(index.remove(slot));
        }
        assert!(index.lookup(b"k").is_empty());
        assert_eq!(index.key_count(), 0);
        index.insert(7, b"k");
        assert_eq!(index.lookup(b"k").to_vec(), [7]);
    }

    #[test]
    fn many_keys_compact_the_arena() {
        let mut index = OrderedIndex::new();
        let key = |i: u32| format!("key-{i:08}-{}", "x".repeat(40)).into_bytes();
        for slot in 0..20_000u32 {
            index.insert(slot, &key(slot));
        }
        for slot in 0..19_000u32 {
            index.remove(slot);
        }
        assert!(index.arena.len() < 20_000 * 53 / 2, "arena was compacted");
        for slot in 19_000..20_000u32 {
            assert_eq!(index.key_of(slot), Some(&key(slot)[..]));
            assert_eq!(index.lookup(&key(slot)).to_vec(), [slot]);
        }
        assert_eq!(index.key_count(), 1000);
    }
}
