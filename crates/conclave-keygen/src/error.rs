//! Errors of key generation, in the three classes of DESIGN.md §5.

use conclave_protocol::machine::ConfigError;
use conclave_protocol::{Culprit, ProtocolError};

/// Why key generation did not produce a key share.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeygenError {
    /// The caller asked for something impossible (bad threshold, not a member, …).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// One or more peers misbehaved; see the culprits.
    #[error(transparent)]
    Aborted(ProtocolError),
    /// A bug in Conclave.
    #[error("internal error: {0}")]
    Bug(&'static str),
}

impl KeygenError {
    /// Everyone blamed (empty unless [`KeygenError::Aborted`]).
    pub fn culprits(&self) -> &[Culprit] {
        match self {
            KeygenError::Aborted(e) => e.culprits(),
            _ => &[],
        }
    }
}

impl From<ProtocolError> for KeygenError {
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::Bug(b) => KeygenError::Bug(b),
            other => KeygenError::Aborted(other),
        }
    }
}

impl From<ConfigError> for KeygenError {
    fn from(e: ConfigError) -> Self {
        KeygenError::InvalidInput(e.to_string())
    }
}
