//! Errors of threshold Schnorr signing, in the three classes of DESIGN.md §5.

use conclave_protocol::machine::ConfigError;
use conclave_protocol::{Culprit, ProtocolError};

/// Why signing did not produce a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The caller asked for something impossible (signer set not in the key, fewer signers
    /// than the threshold, a Taproot tweak on a scheme without one, …).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// One or more signers misbehaved; see the culprits.
    #[error(transparent)]
    Aborted(ProtocolError),
    /// A bug in Conclave (or an invariant of a dependency that did not hold).
    #[error("internal error: {0}")]
    Bug(&'static str),
}

impl SignError {
    /// Everyone blamed (empty unless [`SignError::Aborted`]).
    pub fn culprits(&self) -> &[Culprit] {
        match self {
            SignError::Aborted(e) => e.culprits(),
            _ => &[],
        }
    }
}

impl From<ProtocolError> for SignError {
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::Bug(b) => SignError::Bug(b),
            other => SignError::Aborted(other),
        }
    }
}

impl From<ConfigError> for SignError {
    fn from(e: ConfigError) -> Self {
        SignError::InvalidInput(e.to_string())
    }
}
