//! The node's error type, sorted into the three classes of DESIGN.md §5.

use conclave_protocol::{Culprit, PartyIndex, ProtocolError};

/// Why a node operation failed. Never carries secret material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The caller's request cannot be served (unknown key, bad signer set, bad input).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// This node's policy does not allow the request.
    #[error("refused by this node's policy: {0}")]
    PolicyRefused(String),
    /// A participant refused to join the session.
    #[error("{party} refused the session: {reason}")]
    Refused {
        /// Who refused.
        party: PartyIndex,
        /// Its reason.
        reason: String,
    },
    /// The proposer cancelled the session.
    #[error("the session was cancelled by {by}: {reason}")]
    Cancelled {
        /// The proposer.
        by: PartyIndex,
        /// Its reason.
        reason: String,
    },
    /// The protocol aborted; the culprits are named.
    #[error("session aborted: {}", describe(.0))]
    Aborted(Vec<Culprit>),
    /// The protocol stopped without naming anyone (see the paper's limits in docs/threat-model.md).
    #[error("session aborted without an identified culprit: {0}")]
    Unidentified(String),
    /// Too many sessions are running.
    #[error("busy: {0} sessions running")]
    Busy(usize),
    /// The node is shutting down.
    #[error("the node is shutting down")]
    ShuttingDown,
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
    /// The audit log does not verify or cannot be written.
    #[error("audit log: {0}")]
    Audit(String),
    /// The transport failed to start.
    #[error("transport: {0}")]
    Transport(String),
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Our own fault.
    #[error("internal error: {0}")]
    Bug(&'static str),
}

fn describe(culprits: &[Culprit]) -> String {
    culprits.iter().map(|c| format!("{} in {} ({:?})", c.party, c.round, c.fault)).collect::<Vec<_>>().join("; ")
}

impl NodeError {
    /// Converts a protocol's error.
    pub(crate) fn from_protocol(e: ProtocolError) -> Self {
        let culprits = e.culprits().to_vec();
        if culprits.is_empty() {
            match e {
                ProtocolError::Bug(what) => NodeError::Bug(what),
                other => NodeError::Unidentified(other.to_string()),
            }
        } else {
            NodeError::Aborted(culprits)
        }
    }

    /// The parties blamed, if the session aborted.
    pub fn culprits(&self) -> &[Culprit] {
        match self {
            NodeError::Aborted(c) => c,
            _ => &[],
        }
    }
}

impl From<conclave_store::StoreError> for NodeError {
    fn from(e: conclave_store::StoreError) -> Self {
        NodeError::Store(e.to_string())
    }
}
