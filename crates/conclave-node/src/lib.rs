//! The Conclave node: holds this party's shares in an encrypted store, talks to the other
//! parties' nodes over mutually authenticated TLS 1.3, and drives every protocol through the one
//! [`StateMachine`](conclave_protocol::StateMachine) trait.
//!
//! A node library with a thin binary entry (`conclave node --config node.toml`). See
//! `docs/node.md` for the session flow, and [`config`] for the configuration file.

pub mod api;
pub mod audit;
pub mod config;
pub mod error;
mod node;
pub mod policy;
pub mod request;
mod session;
pub mod transport;

pub use config::{ConfigError, NodeConfig};
pub use error::NodeError;
#[cfg(feature = "fault-injection")]
pub use node::FaultPoint;
pub use node::{
    KeyInfo, Node, SessionOutput, SessionState, SessionStatus, SignData, SignatureOutput, PRIME_BITS,
    UNAUTHENTICATED_PER_MINUTE,
};
pub use policy::{Caller, Policy};
pub use request::Scheme;
