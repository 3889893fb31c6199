//! Zero-knowledge proofs, one module per proof, each non-interactive through the typed
//! transcript of `conclave-math` bound to session, prover, round and the full statement.
//!
//! * [`sch`]: Π^sch, Schnorr proof of knowledge of a discrete logarithm.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod sch;
