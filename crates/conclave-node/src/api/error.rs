//! Errors at the HTTP edge: every failure becomes a JSON [`ErrorBody`] with a stable code.
//! The caller's fault → 4xx with the reason; a peer's fault → 409/502 naming the party; ours →
//! 500 with no details (they go to the log).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use conclave_api::{CulpritView, ErrorBody, ErrorCode};

use crate::error::NodeError;

/// An error response.
#[derive(Debug)]
pub struct ApiError(pub ErrorBody);

impl ApiError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ErrorBody::new(code, message))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub(crate) fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    /// A 500 whose details are logged, never sent.
    pub(crate) fn internal(what: &dyn core::fmt::Display) -> Self {
        tracing::error!(error = %what, "internal error answering an API request");
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        match &e {
            NodeError::InvalidRequest(m) => Self::invalid(m.clone()),
            NodeError::PolicyRefused(m) => Self::new(ErrorCode::Forbidden, m.clone()),
            NodeError::Refused { party, .. } => {
                let mut b = ErrorBody::new(ErrorCode::Refused, e.to_string());
                b.refused_by = Some(party.0);
                Self(b)
            }
            NodeError::Cancelled { by, .. } => {
                let mut b = ErrorBody::new(ErrorCode::Refused, e.to_string());
                b.refused_by = Some(by.0);
                Self(b)
            }
            NodeError::Aborted(culprits) => {
                let mut b = ErrorBody::new(ErrorCode::Aborted, e.to_string());
                b.culprits = Some(
                    culprits
                        .iter()
                        .map(|c| CulpritView { party: c.party.0, round: Some(c.round.0), fault: c.fault.code().into() })
                        .collect(),
                );
                Self(b)
            }
            NodeError::Unidentified(_) => {
                let mut b = ErrorBody::new(ErrorCode::Aborted, e.to_string());
                b.culprits = Some(Vec::new());
                Self(b)
            }
            NodeError::Busy(_) => Self::new(ErrorCode::Busy, e.to_string()),
            NodeError::ShuttingDown => Self::new(ErrorCode::ShuttingDown, e.to_string()),
            // Store, transport, configuration, bugs (and any class added later): ours.
            _ => Self::internal(&e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = super::json_response(status, &self.0);
        if self.0.code == ErrorCode::Unauthenticated {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use conclave_protocol::{Culprit, Fault, PartyIndex, RoundId};

    use super::*;

    #[test]
    fn classes_map_to_codes_and_internal_details_stay_in() {
        let e = ApiError::from(NodeError::Aborted(vec![Culprit::new(PartyIndex(2), RoundId(3), Fault::InvalidProof)]));
        assert_eq!(e.0.code, ErrorCode::Aborted);
        assert_eq!(
            e.0.culprits.as_ref().unwrap()[0],
            CulpritView { party: 2, round: Some(3), fault: "invalid-proof".into() }
        );
        let e = ApiError::from(NodeError::Refused { party: PartyIndex(1), reason: "policy".into() });
        assert_eq!((e.0.code, e.0.refused_by), (ErrorCode::Refused, Some(1)));
        let e = ApiError::from(NodeError::Store("disk /secret/path failed".into()));
        assert_eq!(e.0.code, ErrorCode::Internal);
        assert!(!e.0.message.contains("secret"));
        let e = ApiError::from(NodeError::Bug("x"));
        assert_eq!(e.0.code.status(), 500);
        assert_eq!(ApiError::from(NodeError::PolicyRefused("no".into())).0.code, ErrorCode::Forbidden);
        assert_eq!(ApiError::from(NodeError::Busy(3)).0.code, ErrorCode::Busy);
        assert_eq!(ApiError::from(NodeError::ShuttingDown).0.code, ErrorCode::ShuttingDown);
        assert_eq!(ApiError::from(NodeError::InvalidRequest("x".into())).0.code, ErrorCode::InvalidRequest);
    }
}
