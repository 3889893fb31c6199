//! Threshold ECDSA for Conclave.
//!
//! * [`message`]: what is signed — a message with a named hash, hashed by Conclave.
//! * [`hd`]: BIP-32 / SLIP-10 public derivation from the group key and its chain code.
//! * [`presign`]: CGGMP24 presigning (three rounds) → single-use [`Presignature`].
//! * [`sign`]: one-round signing with a presignature, and interactive signing.
//! * [`signature`]: ECDSA signatures: low-S normalisation, DER, recovery id, verification.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod error;
pub mod hd;
pub mod message;
pub mod presign;
pub mod sign;
pub mod signature;

pub use conclave_keygen::{AuxInfo, PartyAux, RecordError};
pub use error::SignError;
pub use message::{HashName, SignedData};
pub use presign::Presignature;
pub use sign::EcdsaSignature;
