//! Threshold Schnorr signing for Conclave: FROST (RFC 9591) for Ed25519 and secp256k1, and
//! BIP-340 Schnorr with BIP-341 Taproot tweaks, with keys from Conclave's dealerless DKG.
//!
//! The signing arithmetic is the Zcash Foundation's audited `frost-core` family
//! (`frost-ed25519`, `frost-secp256k1`, `frost-secp256k1-tr`); the rounds are driven by
//! Conclave's engine ([`conclave_protocol::Machine`]): signed envelopes, echo broadcast of
//! the commitments, identifiable abort. See `docs/spec/frost.md` and `docs/frost.md`.
//!
//! * [`scheme`]: [`Ed25519`], [`Secp256k1`], [`Bip340`], [`Tweak`], [`verify`].
//! * [`signing`]: the protocol; [`start`] builds one signer's [`Machine`](conclave_protocol::Machine).
//! * [`taproot`]: BIP-341 output keys.
//! * [`msg`]: wire messages.
//! * `sim` (feature `sim`): in-process signing for the demo and benchmarks.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod error;
pub mod msg;
pub mod scheme;
pub mod signing;
#[cfg(feature = "sim")]
pub mod sim;
pub mod taproot;

pub use error::SignError;
pub use scheme::{verify, Bip340, Ed25519, Scheme, SchemeId, Secp256k1, Tweak};
pub use signing::{start, SignRequest, Signing, ThresholdSignature};
