//! The native core of stepping: incremental view maintenance after the DBSP paper
//! (Budiu et al., "DBSP: Automatic Incremental View Maintenance for Rich Query
//! Languages"), where every collection is a Z-set — a map from rows to integer
//! weights — and every change is a Z-set too.
//!
//! Layers, bottom up:
//! - [`weight`]: Z-set weights and their range;
//! - [`value`]: the value model and its canonical text (docs/encoding.md §1);
//! - [`hash`]: row identity and the multiset hash (§2, §3);
//! - [`key`]: the order-preserving key encoding of indexes (§4);
//! - [`probe`]: the prefetchable hash map behind Z-sets and indexes;
//! - [`batch`]: the batch layout of the JS boundary (concatenated bytes + offsets);
//! - [`zset`]: Z-set algebra keyed by identity (the paper's abelian group);
//! - [`index`]: ordered indexes over a Z-set's rows (storage, not algebra);
//! - [`indexed_zset`]: a Z-set kept together with its indexes;
//! - [`stored_form`]: the compact text the SQL stores keep for a row (storage, not algebra).
//!
//! The JS side keeps the row objects; this crate keeps, per row, its identity,
//! weight, key bytes per index and a compact `u32` slot that JS uses to find
//! its object.

pub mod batch;
pub mod hash;
pub mod index;
pub mod indexed_zset;
pub mod key;
pub mod probe;
pub mod stored_form;
pub mod value;
pub mod weight;
pub mod zset;
