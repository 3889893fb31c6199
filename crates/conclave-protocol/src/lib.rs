//! Conclave's sans-IO protocol engine.
//!
//! * [`ids`]: [`PartyIndex`], [`PartySet`], [`SessionId`], [`RoundId`].
//! * [`identity`]: long-term Ed25519 identity keys that sign every envelope.
//! * [`envelope`]: the signed wire envelope and the [`SignedStatement`] used as evidence.
//! * [`fault`]: [`Culprit`], [`Fault`], [`Evidence`], [`ProtocolError`].
//! * [`inbox`]: authentication and filing of incoming messages, each rejection a culprit.
//! * [`machine`]: the [`Protocol`] trait of pure rounds, the generic [`Machine`] driver with
//!   its inbox and echo broadcast, and the [`StateMachine`] trait every driver uses.
//! * `sim` (feature `sim`): the in-process multi-party simulator with fault injection.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

mod echo;
pub mod envelope;
pub mod fault;
pub mod identity;
pub mod ids;
pub mod inbox;
pub mod machine;
#[cfg(feature = "sim")]
pub mod sim;

pub use envelope::{Envelope, MessageKind, SignedStatement};
pub use fault::{Culprit, Evidence, Fault, ProtocolError};
pub use identity::{IdentityKey, IdentityPublicKey};
pub use ids::{PartyIndex, PartySet, RoundId, SessionId};
pub use inbox::AbortNotice;
pub use machine::{
    Delivery, Machine, MachineConfig, Outbox, Outgoing, Protocol, Received, RoundInfo, RoundInput, StateMachine, Step,
};
