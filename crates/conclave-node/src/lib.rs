//! The Conclave node.

pub mod transport;
