//! Conclave's mathematical foundation.
//!
//! * [`curve`]: one [`Curve`] trait over secp256k1, P-256 and Ed25519 with canonical,
//!   validating decoders for points and scalars.
//! * [`secret`]: [`SecretScalar`], zeroized on drop, redacted in `Debug`, compared in
//!   constant time.
//! * [`poly`]: secret polynomials, Shamir x-coordinates and Lagrange coefficients.
//! * [`vss`]: Feldman verifiable secret sharing commitments.
//! * [`transcript`]: the typed, length-prefixed, domain-separated Fiat–Shamir transcript.
//! * [`codec`]: the canonical binary wire codec shared by every Conclave message.
//!
//! This crate is sans-IO: it never touches the network, the file system, clocks or a
//! global random number generator. Randomness always comes in as an argument.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod codec;
pub mod curve;
pub mod error;
pub mod poly;
pub mod secret;
pub mod transcript;
pub mod vss;

pub use curve::{Curve, CurveId, Ed25519, Secp256k1, P256};
pub use error::{DecodeError, MathError};
pub use secret::SecretScalar;
pub use transcript::{ProofContext, Transcript};
