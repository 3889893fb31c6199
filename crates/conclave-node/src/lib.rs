//! The Conclave node.
