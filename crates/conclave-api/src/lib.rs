//! The Conclave node's HTTP API, as both the node and its clients see it.
//!
//! * [`types`]: every request and response body (JSON through `serde`; requests refuse unknown
//!   fields; byte strings are lowercase hex).
//! * [`error`]: the error body and its stable machine-readable [`ErrorCode`]s.
//! * [`client`] (feature `client`, on by default): a typed async client over HTTPS that trusts the
//!   node's self-signed certificate by its SHA-256 pin or by a CA file, and authenticates with a
//!   bearer token and/or a client certificate.
//!
//! This crate knows nothing of the protocol crates: the node converts its domain types into
//! these wire types explicitly (DESIGN.md §2, invariant 6), and no secret ever has a wire type.
//! The endpoints are listed in `docs/api.md` and served by the node at `/openapi.json`.

pub mod error;
pub mod hex;
pub mod types;

#[cfg(feature = "client")]
pub mod client;

pub use error::{CulpritView, ErrorBody, ErrorCode};
pub use hex::Hex;
pub use types::*;

#[cfg(feature = "client")]
pub use client::{Client, ClientError, ClientOptions, Trust};

/// The largest request body the node accepts (bytes).
pub const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;
