//! Zero-knowledge proofs, one module per proof, each non-interactive with the typed
//! transcript of `conclave-math`, bound to session, prover, round and the full statement.
//!
//! * [`sch`]: Π^sch, Schnorr proof of knowledge of a discrete logarithm.
//! * [`common`]: integer encoding and challenge derivation shared by the Paillier proofs.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod common;
pub mod sch;

// --- aux-info proofs (Π^mod, Π^fac, Π^prm): modules declared here ---
// * [`pi_mod`]: Π^mod, Paillier–Blum modulus (m = 128 challenges, every CGGMP24 check).
// * [`fac`]: Π^fac, no small factor (ℓ = 256, ε = 512), towards ring-Pedersen parameters.
// * [`prm`]: Π^prm, ring-Pedersen parameters, m = 128 binary challenges.
pub mod fac;
pub mod pi_mod;
pub mod prm;
// --- end aux-info proofs ---

// --- presigning / signing / identifiable-abort proofs: modules declared here ---
// * enc_elg: Π^enc-elg, Paillier encryption in range with an ElGamal commitment (round 1).
// * aff_g: Π^aff-g, Paillier affine operation with group commitment in range (round 2).
// * elog: Π^elog, discrete log with an ElGamal commitment (rounds 2 and 3).
// * rp: parameters (ℓ, ℓ′, ε, m) and ring-Pedersen / constant-time helpers of these proofs.
// (spec: docs/spec/zk-presign.md)
pub mod aff_g;
pub mod aff_g_star;
pub mod dec;
pub mod elog;
pub mod enc_elg;
pub mod rp;
// --- end presigning proofs ---
