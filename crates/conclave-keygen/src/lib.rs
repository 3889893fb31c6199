//! Key generation for Conclave.
//!
//! * [`dkg`]: the dealerless distributed key generation (t-of-n, any curve), with
//!   commit-then-reveal, proofs of knowledge, Feldman VSS, echo broadcast, complaints with
//!   verifiable evidence and identifiable abort.
//! * [`aux`]: auxiliary data for threshold ECDSA (Paillier keys, ring-Pedersen parameters).
//! * [`key_share`]: the [`KeyShare`] a DKG produces.
//! * [`record`]: at-rest encodings of key shares and aux info, only for the node's encrypted
//!   store.
//! * [`reshare`]: key refresh and resharing to a new group and threshold, same public key.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod aux;
pub mod aux_info;
pub mod dkg;
pub mod error;
pub mod key_share;
pub mod record;
pub mod reshare;

pub use aux::{AuxError, AuxInfo, PartyAux};
pub use error::KeygenError;
pub use key_share::{KeyId, KeyShare, PublicKeyShare};
pub use record::RecordError;
