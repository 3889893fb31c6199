//! Encrypted, transactional storage for a Conclave node.
