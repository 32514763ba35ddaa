//! A small open-addressing hash map from already-uniform keys (row identities,
//! key hashes) to `u32` values, built for batches: a caller that knows the
//! next keys of its batch calls [`ProbeMap::prefetch`] a few rows ahead, so the
//! cache misses of a big table overlap instead of adding up. With a million
//! rows a probe is a trip to main memory; `std`'s map (hashbrown) makes two per
//! insert (control bytes, then the bucket) and cannot be prefetched from outside.
//!
//! Linear probing over entries that hold the whole key and the value, so a
//! probe usually reads one cache line; deletion shifts the following entries
//! back (no tombstones). The keys' own bits are the hash.

/// A key whose bits are already uniformly distributed (a hash).
pub trait ProbeKey: Copy + Eq {
    fn bits(&self) -> u64;
}

impl ProbeKey for u64 {
    fn bits(&self) -> u64 {
        *self
    }
}

/// Value marking an empty entry.
const EMPTY: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Entry<K> {
    key: K,
    value: u32,
}

#[derive(Clone)]
pub struct ProbeMap<K> {
    entries: Vec<Entry<K>>,
    len: usize,
}

impl<K: ProbeKey + Default> Default for ProbeMap<K> {
    fn default() -> Self {
        ProbeMap { entries: Vec::new(), len: 0 }
    }
}

/// Hints the CPU to load the cache line at `p`.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // Safety: prefetching is a hint and never faults, whatever the address.
    #[allow(unused_unsafe)]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

impl<K: ProbeKey + Default> ProbeMap<K> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn mask(&self) -> usize {
        self.entries.len().wrapping_sub(1)
    }

    fn home(&self, key: &K) -> usize {
        key.bits() as usize & self.mask()
    }

    /// Starts loading the entry where a probe for `key` begins.
    #[inline(always)]
    pub fn prefetch(&self, key: &K) {
        if !self.entries.is_empty() {
            prefetch(&self.entries[self.home(key)]);
        }
    }

    /// Position of `key`'s entry, if present.
    fn position(&self, key: &K) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut at = self.home(key);
        loop {
            let entry = &self.entries[at];
            if entry.value == EMPTY {
                return None;
            }
            if entry.key == *key {
                return Some(at);
            }
            at = (at + 1) & mask;
        }
    }

    pub fn get(&self, key: &K) -> Option<u32> {
        self.position(key).map(|at| self.entries[at].value)
    }

    /// The value of `key`, inserting `make()` first if absent; true if it was inserted.
    /// `make` must not return `u32::MAX`.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> u32) -> (u32, bool) {
        // At most half full: linear probing degrades quickly above that.
        if (self.len + 1) * 2 > self.entries.len() {
            self.grow();
        }
        let mask = self.mask();
        let mut at = self.home(&key);
        loop {
            let entry = &mut self.entries[at];
            if entry.value == EMPTY {
                let value = make();
                debug_assert_ne!(value, EMPTY);
                *entry = Entry { key, value };
                self.len += 1;
                return (value, true);
            }
            if entry.key == key {
                return (entry.value, false);
            }
            at = (at + 1) & mask;
        }
    }

    /// Sets `key`'s value (inserting it if absent). `value` must not be `u32::MAX`.
    pub fn insert(&mut self, key: K, value: u32) {
        match self.position(&key) {
            Some(at) => self.entries[at].value = value,
            None => {
                self.get_or_insert_with(key, || value);
            }
        }
    }

    /// Removes `key`; its value if it was present.
    pub fn remove(&mut self, key: &K) -> Option<u32> {
        let mut hole = self.position(key)?;
        let value = self.entries[hole].value;
        let mask = self.mask();
        // Backward-shift deletion: move later entries of the probe run into the
        // hole unless their home lies cyclically in (hole, at].
        let mut at = hole;
        loop {
            at = (at + 1) & mask;
            let entry = self.entries[at];
            if entry.value == EMPTY {
                break;
            }
            let home = self.home(&entry.key);
            let stays = if hole <= at { hole < home && home <= at } else { hole < home || home <= at };
            if !stays {
                self.entries[hole] = entry;
                hole = at;
            }
        }
        self.entries[hole].value = EMPTY;
        self.len -= 1;
        Some(value)
    }

    pub fn clear(&mut self) {
        *self = ProbeMap { entries: Vec::new(), len: 0 };
    }

    /// Bytes allocated for the table.
    pub fn allocated_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry<K>>()
    }

    fn grow(&mut self) {
        let capacity = (self.entries.len() * 2).max(16);
        let old = std::mem::replace(&mut self.entries, vec![Entry { key: K::default(), value: EMPTY }; capacity]);
        let mask = capacity - 1;
        for entry in old.into_iter().filter(|entry| entry.value != EMPTY) {
            let mut at = entry.key.bits() as usize & mask;
            while self.entries[at].value != EMPTY {
                at = (at + 1) & mask;
            }
            self.entries[at] = entry;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn insert_get_remove() {
        let mut map = ProbeMap::<u64>::default();
        assert_eq!(map.get(&5), None);
        assert_eq!(map.remove(&5), None);
        assert_eq!(map.get_or_insert_with(5, || 50), (50, true));
        assert_eq!(map.get_or_insert_with(5, || 51), (50, false));
        map.insert(5, 52);
        assert_eq!(map.get(&5), Some(52));
        assert_eq!(map.remove(&5), Some(52));
        assert!(map.is_empty());
    }

    /// Keys with only four distinct home positions, all at the end of the table:
    /// long probe runs that wrap around.
    fn crowded(key: u64) -> u64 {
        (key << 32) | (0xffff_ffff - key % 4)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Against std's map, with keys crowded into few home positions so that
        /// probe runs wrap around and deletions shift entries.
        #[test]
        fn behaves_like_a_hash_map(operations in proptest::collection::vec((any::<bool>(), 0u64..64, 0u32..1000), 0..400)) {
            let mut map = ProbeMap::<u64>::default();
            let mut model = HashMap::new();
            for (insert, key, value) in operations {
                let key = crowded(key);
                if insert {
                    map.insert(key, value);
                    model.insert(key, value);
                } else {
                    prop_assert_eq!(map.remove(&key), model.remove(&key));
                }
                prop_assert_eq!(map.len(), model.len());
            }
            for (key, value) in &model {
                prop_assert_eq!(map.get(key), Some(*value));
            }
            for key in 0u64..64 {
                let key = crowded(key);
                prop_assert_eq!(map.get(&key), model.get(&key).copied());
            }
        }
    }
}
