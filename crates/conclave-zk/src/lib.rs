//! Zero-knowledge proofs, one module per proof, each non-interactive with the typed
//! transcript of `conclave-math`, bound to session, prover, round and the full statement.
//!
//! * [`sch`]: Π^sch, Schnorr proof of knowledge of a discrete logarithm.
//! * [`common`]: integer encoding and challenge derivation shared by the Paillier proofs.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod common;
pub mod sch;

// --- aux-info proofs (Π^mod, Π^fac, Π^prm): modules declared here ---
// --- end aux-info proofs ---

// --- presigning / signing / identifiable-abort proofs: modules declared here ---
// --- end presigning proofs ---
