//! Row identity and the multiset hash (spec §2 and §3).
//!
//! A row's identity is MurmurHash3_x86_128 (seed 0) of its canonical bytes, read
//! as the big-endian number `h1‖h2‖h3‖h4`. A Z-set's multiset hash is
//! `Σ weight × identity mod 2^128`: a group homomorphism from Z-sets to ℤ/2^128,
//! so — like every linear operator in DBSP — it is maintained from changes alone.
//!
//! MurmurHash3 is implemented here rather than taken from the `murmur3` crate,
//! whose released version hashes only through `io::Read` (a copy and a
//! `Result` per row on the hot path); that crate serves as a test oracle.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use crate::weight::Weight;

const C1: u32 = 0x239b_961b;
const C2: u32 = 0xab0e_9789;
const C3: u32 = 0x38b3_4ae5;
const C4: u32 = 0xa1e3_8b93;

/// MurmurHash3_x86_128 as in Austin Appleby's reference `MurmurHash3.cpp`;
/// returns the words `[h1, h2, h3, h4]`.
pub fn murmur3_x86_128(data: &[u8], seed: u32) -> [u32; 4] {
    let [mut h1, mut h2, mut h3, mut h4] = [seed; 4];
    let mix_k1 = |k: u32| k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    let mix_k2 = |k: u32| k.wrapping_mul(C2).rotate_left(16).wrapping_mul(C3);
    let mix_k3 = |k: u32| k.wrapping_mul(C3).rotate_left(17).wrapping_mul(C4);
    let mix_k4 = |k: u32| k.wrapping_mul(C4).rotate_left(18).wrapping_mul(C1);

    let blocks = data.chunks_exact(16);
    let tail = blocks.remainder();
    for block in blocks {
        let [k1, k2, k3, k4] = words(block);
        h1 ^= mix_k1(k1);
        h1 = h1.rotate_left(19).wrapping_add(h2).wrapping_mul(5).wrapping_add(0x561c_cd1b);
        h2 ^= mix_k2(k2);
        h2 = h2.rotate_left(17).wrapping_add(h3).wrapping_mul(5).wrapping_add(0x0bca_a747);
        h3 ^= mix_k3(k3);
        h3 = h3.rotate_left(15).wrapping_add(h4).wrapping_mul(5).wrapping_add(0x96cd_1c35);
        h4 ^= mix_k4(k4);
        h4 = h4.rotate_left(13).wrapping_add(h1).wrapping_mul(5).wrapping_add(0x32ac_3b17);
    }

    // The tail is read as zero-padded words; a word is mixed in only if the
    // tail reaches into it.
    let mut padded = [0u8; 16];
    padded[..tail.len()].copy_from_slice(tail);
    let [k1, k2, k3, k4] = words(&padded);
    if tail.len() > 12 {
        h4 ^= mix_k4(k4);
    }
    if tail.len() > 8 {
        h3 ^= mix_k3(k3);
    }
    if tail.len() > 4 {
        h2 ^= mix_k2(k2);
    }
    if !tail.is_empty() {
        h1 ^= mix_k1(k1);
    }

    // The reference mixes in the length as a 32-bit integer (truncated beyond 4 GiB).
    let len = data.len() as u32;
    h1 ^= len;
    h2 ^= len;
    h3 ^= len;
    h4 ^= len;
    let combine = |[h1, h2, h3, h4]: [u32; 4]| {
        let h1 = h1.wrapping_add(h2).wrapping_add(h3).wrapping_add(h4);
        [h1, h2.wrapping_add(h1), h3.wrapping_add(h1), h4.wrapping_add(h1)]
    };
    let [h1, h2, h3, h4] = combine([h1, h2, h3, h4]);
    combine([fmix32(h1), fmix32(h2), fmix32(h3), fmix32(h4)])
}

fn words(block: &[u8]) -> [u32; 4] {
    let word = |i: usize| u32::from_le_bytes(block[i..i + 4].try_into().expect("four bytes"));
    [word(0), word(4), word(8), word(12)]
}

fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// A row's 128-bit identity: `h1‖h2‖h3‖h4` of its canonical bytes, big-endian.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Identity(u128);

impl Identity {
    pub fn of_canonical(canonical: &[u8]) -> Self {
        let [h1, h2, h3, h4] = murmur3_x86_128(canonical, 0);
        Identity((u128::from(h1) << 96) | (u128::from(h2) << 64) | (u128::from(h3) << 32) | u128::from(h4))
    }

    pub fn as_u128(self) -> u128 {
        self.0
    }

    /// The 16 bytes `h1‖h2‖h3‖h4`, each word big-endian (the SQL stores' id column).
    pub fn to_be_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }
}

impl From<u128> for Identity {
    fn from(bits: u128) -> Self {
        Identity(bits)
    }
}

/// 32 lowercase hex digits.
impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({self})")
    }
}

/// Identities are already uniform: 64 of their bits are as good as all of them.
/// (Z-sets and indexes key their own [`crate::probe::ProbeMap`]s by identity bits directly.)
impl Hash for Identity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0 as u64);
    }
}

/// `Σ weight × identity mod 2^128` over a Z-set's rows.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct MultisetHash(u128);

impl MultisetHash {
    /// The hash of the empty Z-set.
    pub const EMPTY: MultisetHash = MultisetHash(0);

    /// The hash of the Z-set holding just `identity` with `weight`.
    pub fn of_row(identity: Identity, weight: Weight) -> Self {
        // A negative weight as u128 is its residue mod 2^128.
        MultisetHash((i128::from(weight) as u128).wrapping_mul(identity.0))
    }

    /// The hash of `factor ×` the Z-set (the hash is linear).
    pub fn scaled(self, factor: Weight) -> Self {
        MultisetHash(self.0.wrapping_mul(i128::from(factor) as u128))
    }

    pub fn as_u128(self) -> u128 {
        self.0
    }
}

impl FromIterator<(Identity, Weight)> for MultisetHash {
    fn from_iter<I: IntoIterator<Item = (Identity, Weight)>>(rows: I) -> Self {
        rows.into_iter()
            .map(|(identity, weight)| MultisetHash::of_row(identity, weight))
            .fold(MultisetHash::EMPTY, Add::add)
    }
}

impl Add for MultisetHash {
    type Output = MultisetHash;
    fn add(self, other: MultisetHash) -> MultisetHash {
        MultisetHash(self.0.wrapping_add(other.0))
    }
}

impl AddAssign for MultisetHash {
    fn add_assign(&mut self, other: MultisetHash) {
        *self = *self + other;
    }
}

impl Neg for MultisetHash {
    type Output = MultisetHash;
    fn neg(self) -> MultisetHash {
        MultisetHash(self.0.wrapping_neg())
    }
}

impl Sub for MultisetHash {
    type Output = MultisetHash;
    fn sub(self, other: MultisetHash) -> MultisetHash {
        self + -other
    }
}

impl SubAssign for MultisetHash {
    fn sub_assign(&mut self, other: MultisetHash) {
        *self = *self - other;
    }
}

/// 32 lowercase hex digits.
impl fmt::Display for MultisetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for MultisetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MultisetHash({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// SMHasher's verification value for MurmurHash3_x86_128: hash the keys
    /// `[0]`, `[0,1]`, … `[0..255]` with seeds 256, 255, … 1, then hash the
    /// concatenated outputs (little-endian words) with seed 0.
    #[test]
    fn smhasher_verification_value() {
        let key: Vec<u8> = (0..=255).collect();
        let mut outputs = Vec::with_capacity(16 * 256);
        for i in 0..256 {
            for word in murmur3_x86_128(&key[..i], 256 - i as u32) {
                outputs.extend(word.to_le_bytes());
            }
        }
        let [h1, ..] = murmur3_x86_128(&outputs, 0);
        assert_eq!(h1, 0xB3EC_E62A);
    }

    #[test]
    fn empty_input_with_seed_zero_hashes_to_zero() {
        assert_eq!(Identity::of_canonical(b"").to_string(), "0".repeat(32));
    }

    #[test]
    fn identity_words_are_big_endian() {
        let identity = Identity::of_canonical(b"null");
        let [h1, h2, h3, h4] = murmur3_x86_128(b"null", 0);
        assert_eq!(identity.to_string(), format!("{h1:08x}{h2:08x}{h3:08x}{h4:08x}"));
        assert_eq!(identity.to_be_bytes()[..4], h1.to_be_bytes());
    }

    #[test]
    fn multiset_hash_is_linear() {
        let a = Identity::of_canonical(b"1");
        let b = Identity::of_canonical(b"2");
        let h = MultisetHash::of_row(a, 3) + MultisetHash::of_row(b, -2);
        assert_eq!(h - MultisetHash::of_row(b, -2), MultisetHash::of_row(a, 3));
        assert_eq!(-MultisetHash::of_row(a, 1), MultisetHash::of_row(a, -1));
        assert_eq!(h.scaled(-1), -h);
        assert_eq!(MultisetHash::of_row(a, 0), MultisetHash::EMPTY);
        assert_eq!(MultisetHash::of_row(Identity::from(1), -1).to_string(), "f".repeat(32));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The `murmur3` crate returns the words as `h4‖h3‖h2‖h1`.
        #[test]
        fn agrees_with_the_murmur3_crate(data in proptest::collection::vec(any::<u8>(), 0..80), seed in any::<u32>()) {
            let oracle = murmur3::murmur3_x86_128(&mut data.as_slice(), seed).unwrap();
            let [h1, h2, h3, h4] = murmur3_x86_128(&data, seed);
            let expected = [oracle as u32, (oracle >> 32) as u32, (oracle >> 64) as u32, (oracle >> 96) as u32];
            prop_assert_eq!([h1, h2, h3, h4], expected);
        }
    }
}
