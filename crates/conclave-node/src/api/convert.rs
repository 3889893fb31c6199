//! Explicit conversions between the node's domain types and the API's wire types.

use base64::Engine as _;
use conclave_api as w;
use conclave_api::Hex;
use conclave_ecdsa::HashName;
use conclave_keygen::KeyId;
use conclave_protocol::{PartyIndex, PartySet, SessionId};

use super::error::ApiError;
use crate::audit::AuditEntry;
use crate::request::Scheme;
use crate::{KeyInfo, SessionState, SessionStatus, SignatureOutput};

pub(crate) fn scheme_from_wire(s: w::Scheme) -> Result<Scheme, ApiError> {
    Ok(match s {
        w::Scheme::EcdsaSecp256k1 => Scheme::EcdsaSecp256k1,
        w::Scheme::EcdsaP256 => Scheme::EcdsaP256,
        w::Scheme::Ed25519 => Scheme::Ed25519,
        w::Scheme::FrostSecp256k1 => Scheme::FrostSecp256k1,
        w::Scheme::SchnorrBip340 => Scheme::SchnorrBip340,
        other => return Err(ApiError::invalid(format!("scheme {other} is not served by this node"))),
    })
}

pub(crate) fn scheme_to_wire(s: Scheme) -> w::Scheme {
    match s {
        Scheme::EcdsaSecp256k1 => w::Scheme::EcdsaSecp256k1,
        Scheme::EcdsaP256 => w::Scheme::EcdsaP256,
        Scheme::Ed25519 => w::Scheme::Ed25519,
        Scheme::FrostSecp256k1 => w::Scheme::FrostSecp256k1,
        Scheme::SchnorrBip340 => w::Scheme::SchnorrBip340,
    }
}

pub(crate) fn hash_from_wire(h: w::HashAlg) -> Result<HashName, ApiError> {
    Ok(match h {
        w::HashAlg::Sha256 => HashName::Sha256,
        w::HashAlg::Keccak256 => HashName::Keccak256,
        w::HashAlg::DoubleSha256 => HashName::DoubleSha256,
        other => return Err(ApiError::invalid(format!("hash {} is not served by this node", other.name()))),
    })
}

pub(crate) fn party_set(what: &str, v: &[u16]) -> Result<PartySet, ApiError> {
    PartySet::new(v.iter().copied().map(PartyIndex)).map_err(|e| ApiError::invalid(format!("{what}: {e}")))
}

/// A 32-byte id from a path segment (hex).
pub(crate) fn id32(what: &str, s: &str) -> Result<[u8; 32], ApiError> {
    let b = hex::decode(s).map_err(|_| ApiError::invalid(format!("{what} must be 64 hex characters")))?;
    b.try_into().map_err(|_| ApiError::invalid(format!("{what} must be 64 hex characters (32 bytes)")))
}

pub(crate) fn key_id(s: &str) -> Result<KeyId, ApiError> {
    id32("key id", s).map(KeyId)
}

pub(crate) fn session_id(s: &str) -> Result<SessionId, ApiError> {
    id32("session id", s).map(SessionId)
}

/// DER prefixes of SubjectPublicKeyInfo for the keys we serve (RFC 5480, RFC 8410).
const SPKI_P256_PREFIX: &str = "3059301306072a8648ce3d020106082a8648ce3d030107034200";
const SPKI_SECP256K1_PREFIX: &str = "3056301006072a8648ce3d020106052b8104000a034200";
const SPKI_ED25519_PREFIX: &str = "302a300506032b6570032100";

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn spki_pem(prefix_hex: &str, key: &[u8]) -> String {
    let mut der = hex::decode(prefix_hex).unwrap_or_default();
    der.extend_from_slice(key);
    pem("PUBLIC KEY", &der)
}

fn uncompressed_secp256k1(sec1: &[u8]) -> Option<Vec<u8>> {
    use k256::elliptic_curve::sec1::ToEncodedPoint;
    let pk = k256::PublicKey::from_sec1_bytes(sec1).ok()?;
    Some(pk.to_encoded_point(false).as_bytes().to_vec())
}

fn uncompressed_p256(sec1: &[u8]) -> Option<Vec<u8>> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let pk = p256::PublicKey::from_sec1_bytes(sec1).ok()?;
    Some(pk.to_encoded_point(false).as_bytes().to_vec())
}

pub(crate) fn key_view(k: &KeyInfo) -> w::KeyView {
    let (uncompressed, spki, x_only) = match k.scheme {
        Scheme::EcdsaSecp256k1 => {
            let u = uncompressed_secp256k1(&k.public_key);
            let spki = u.as_deref().map(|u| spki_pem(SPKI_SECP256K1_PREFIX, u));
            (u, spki, None)
        }
        Scheme::EcdsaP256 => {
            let u = uncompressed_p256(&k.public_key);
            let spki = u.as_deref().map(|u| spki_pem(SPKI_P256_PREFIX, u));
            (u, spki, None)
        }
        Scheme::Ed25519 => (None, Some(spki_pem(SPKI_ED25519_PREFIX, &k.public_key)), None),
        Scheme::SchnorrBip340 => (None, None, k.public_key.get(1..33).map(<[u8]>::to_vec)),
        Scheme::FrostSecp256k1 => (None, None, None),
    };
    w::KeyView {
        key_id: Hex::from(k.key_id.0),
        scheme: scheme_to_wire(k.scheme),
        threshold: k.threshold,
        parties: k.parties.to_u16s(),
        public_key: Hex(k.public_key.clone()),
        public_key_uncompressed: uncompressed.map(Hex),
        spki_pem: spki,
        x_only: x_only.map(Hex),
        chain_code: Hex::from(k.chain_code),
    }
}

pub(crate) fn signature_view(s: &SignatureOutput) -> w::SignatureView {
    w::SignatureView {
        key_id: Hex::from(s.key_id.0),
        scheme: scheme_to_wire(s.scheme),
        signature: Hex(s.signature.clone()),
        der: s.der.clone().map(Hex),
        recovery_id: s.recovery_id,
        public_key: Hex(s.public_key.clone()),
        digest: s.digest.map(Hex::from),
        signers: s.signers.to_u16s(),
    }
}

/// `InvalidProof` → `invalid-proof` (the session history keeps the fault's Debug name; this is
/// the same kebab-case as `Fault::code`).
fn kebab(debug_name: &str) -> String {
    let mut out = String::new();
    for (i, c) in debug_name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn session_view(s: &SessionStatus) -> w::SessionView {
    let (state, error, culprits) = match &s.state {
        SessionState::Running => (w::SessionStateName::Running, None, Vec::new()),
        SessionState::Succeeded => (w::SessionStateName::Succeeded, None, Vec::new()),
        SessionState::Failed { error, culprits } => (
            w::SessionStateName::Failed,
            Some(error.clone()),
            culprits.iter().map(|(p, f)| w::CulpritView { party: p.0, round: None, fault: kebab(f) }).collect(),
        ),
    };
    w::SessionView {
        session_id: Hex::from(s.id.0),
        kind: s.kind.to_owned(),
        client: s.client.clone(),
        proposer: s.proposer.0,
        participants: s.participants.to_u16s(),
        state,
        error,
        culprits,
        started_unix_ms: s.started_unix_ms,
        duration_ms: s.duration_ms,
        key_id: s.key.clone(),
        // Counted as the session runs; reported once it has ended.
        bytes_sent: s.duration_ms.map(|_| s.bytes_sent),
    }
}

pub(crate) fn audit_view(e: &AuditEntry) -> w::AuditEntryView {
    // The log stores hex strings; a malformed one (never written by the node) is shown empty
    // rather than failing the whole listing: `conclave audit verify` reports it.
    let h = |s: &str| Hex::parse(s).unwrap_or_default();
    w::AuditEntryView {
        seq: e.seq,
        unix_ms: e.unix_ms,
        event: e.event.clone(),
        details: e.details.clone(),
        prev_hash: h(&e.prev_hash),
        hash: h(&e.hash),
        signature: h(&e.signature),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn kebab_matches_fault_codes() {
        for f in conclave_protocol::Fault::ALL {
            assert_eq!(kebab(&format!("{f:?}")), f.code());
        }
    }

    #[test]
    fn spki_prefixes_are_der_of_the_right_length() {
        for (prefix, key_len) in [(SPKI_P256_PREFIX, 65), (SPKI_SECP256K1_PREFIX, 65), (SPKI_ED25519_PREFIX, 32)] {
            let p = hex::decode(prefix).unwrap();
            assert_eq!(p[0], 0x30);
            assert_eq!(usize::from(p[1]), p.len() - 2 + key_len, "outer SEQUENCE length");
        }
        let pem = spki_pem(SPKI_ED25519_PREFIX, &[9u8; 32]);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n") && pem.ends_with("-----END PUBLIC KEY-----\n"));
    }
}
