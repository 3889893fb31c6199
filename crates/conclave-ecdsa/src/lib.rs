//! Threshold ECDSA for Conclave.
//!
//! * [`message`]: what is signed — a message with a named hash, hashed by Conclave.
//! * [`hd`]: BIP-32 / SLIP-10 public derivation from the group key and its chain code.
//! * [`signature`]: ECDSA signatures: low-S normalisation, DER, recovery id, verification.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod hd;
pub mod message;
pub mod signature;
