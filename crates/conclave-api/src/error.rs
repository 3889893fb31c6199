//! The error body every failed request returns, and its stable codes.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code. Each code has exactly one HTTP status
/// ([`ErrorCode::status`]); new codes may be added, existing ones never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: the request is malformed or cannot be served (bad JSON, unknown field, unknown key in
    /// a body, bad signer set, wrong data for the key's scheme).
    InvalidRequest,
    /// 401: no credentials, or credentials that name no client of this node's policy.
    Unauthenticated,
    /// 403: this node's policy does not allow the client to do this.
    Forbidden,
    /// 404: no such route, key or session.
    NotFound,
    /// 405: the route exists with another method.
    MethodNotAllowed,
    /// 413: the request body is larger than the node accepts.
    PayloadTooLarge,
    /// 415: a request body that is not `application/json`.
    UnsupportedMediaType,
    /// 409: another node refused to take part (its policy, or its own checks), or the session
    /// was cancelled; `refused_by` names it.
    Refused,
    /// 502: the protocol aborted; `culprits` names the parties blamed (it may be empty when the
    /// protocol could not identify anyone).
    Aborted,
    /// 503: too many sessions are running; retry later.
    Busy,
    /// 503: the node is shutting down.
    ShuttingDown,
    /// 500: the node's own fault; details are in its log, never in the response.
    Internal,
}

impl ErrorCode {
    /// Every code (for documentation and tests).
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::InvalidRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Refused,
        ErrorCode::Aborted,
        ErrorCode::Busy,
        ErrorCode::ShuttingDown,
        ErrorCode::Internal,
    ];

    /// The HTTP status of this code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Refused => 409,
            ErrorCode::Aborted => 502,
            ErrorCode::Busy | ErrorCode::ShuttingDown => 503,
            ErrorCode::Internal => 500,
        }
    }

    /// The code as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::Refused => "refused",
            ErrorCode::Aborted => "aborted",
            ErrorCode::Busy => "busy",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::Internal => "internal",
        }
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A party blamed for an abort.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CulpritView {
    /// The party index.
    pub party: u16,
    /// The protocol round (absent where the node did not record it, e.g. in session history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u16>,
    /// The fault's stable kebab-case name (`silent`, `invalid-proof`, …).
    pub fault: String,
}

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The stable code.
    pub code: ErrorCode,
    /// A human-readable explanation (never secret; `internal` errors say nothing more).
    pub message: String,
    /// `aborted`: the parties blamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culprits: Option<Vec<CulpritView>>,
    /// `refused`: the party that refused (or cancelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_by: Option<u16>,
}

impl ErrorBody {
    /// An error with a code and a message only.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), culprits: None, refused_by: None }
    }
}

impl core::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.code.status(), self.message)?;
        if let Some(p) = self.refused_by {
            write!(f, " [refused by party {p}]")?;
        }
        if let Some(c) = &self.culprits {
            for c in c {
                match c.round {
                    Some(r) => write!(f, " [culprit: party {} in round {r}: {}]", c.party, c.fault)?,
                    None => write!(f, " [culprit: party {}: {}]", c.party, c.fault)?,
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_serialize_as_their_names() {
        for c in ErrorCode::ALL {
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", c.as_str()));
            assert!((400..600).contains(&c.status()));
        }
        let body = ErrorBody {
            code: ErrorCode::Aborted,
            message: "x".into(),
            culprits: Some(vec![CulpritView { party: 2, round: Some(1), fault: "silent".into() }]),
            refused_by: None,
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["code"], "aborted");
        assert_eq!(json["culprits"][0]["party"], 2);
        assert!(json.get("refused_by").is_none());
    }
}
