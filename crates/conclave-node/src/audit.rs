//! The node's audit log (placeholder: the hash-chained log itself is being written on another
//! branch; this file only carries the entry type that `Node::audit` returns, identical to it, so
//! that the branch compiles. Take the other branch's file when merging).

use std::collections::BTreeMap;

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When (Unix milliseconds).
    pub unix_ms: u64,
    /// What happened: `node-started`, `request`, `joined`, `refused`, `aborted`, `failed`,
    /// `signature-released`, `key-created`, `aux-info-stored`, `presignature-stored`,
    /// `reshared`, `retired`.
    pub event: String,
    /// Public details (session id, key id, client, parties, culprits, reason; never secrets).
    pub details: BTreeMap<String, String>,
    /// Hex SHA-256 of the previous entry (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of this entry's canonical encoding.
    pub hash: String,
    /// Hex Ed25519 signature of `hash` by the node's identity key.
    pub signature: String,
}
