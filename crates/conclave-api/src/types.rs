//! Request and response bodies. Requests refuse unknown fields (responses do not, so that a
//! newer node may add fields); optional fields may be omitted
//! (or `null`); byte strings are lowercase hex ([`Hex`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::CulpritView;
use crate::hex::Hex;

/// A signature scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Scheme {
    /// Threshold ECDSA (CGGMP24) on secp256k1.
    #[serde(rename = "ecdsa-secp256k1")]
    EcdsaSecp256k1,
    /// Threshold ECDSA (CGGMP24) on P-256.
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
    /// FROST Ed25519 (RFC 9591).
    #[serde(rename = "ed25519")]
    Ed25519,
    /// FROST secp256k1 (RFC 9591).
    #[serde(rename = "frost-secp256k1")]
    FrostSecp256k1,
    /// BIP-340 Schnorr (FROST), optionally Taproot-tweaked.
    #[serde(rename = "schnorr-bip340")]
    SchnorrBip340,
}

impl Scheme {
    /// Every scheme.
    pub const ALL: [Scheme; 5] =
        [Scheme::EcdsaSecp256k1, Scheme::EcdsaP256, Scheme::Ed25519, Scheme::FrostSecp256k1, Scheme::SchnorrBip340];

    /// The scheme's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::EcdsaSecp256k1 => "ecdsa-secp256k1",
            Scheme::EcdsaP256 => "ecdsa-p256",
            Scheme::Ed25519 => "ed25519",
            Scheme::FrostSecp256k1 => "frost-secp256k1",
            Scheme::SchnorrBip340 => "schnorr-bip340",
        }
    }

    /// Parses [`Scheme::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.name() == s)
    }

    /// Whether keys of this scheme sign with threshold ECDSA.
    pub fn is_ecdsa(self) -> bool {
        matches!(self, Scheme::EcdsaSecp256k1 | Scheme::EcdsaP256)
    }
}

impl core::fmt::Display for Scheme {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The hash an ECDSA message is signed under (computed by every node).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum HashAlg {
    /// SHA-256.
    #[serde(rename = "sha256")]
    Sha256,
    /// Keccak-256 (Ethereum).
    #[serde(rename = "keccak256")]
    Keccak256,
    /// SHA-256 applied twice (Bitcoin); `sha256d` is accepted as an alias.
    #[serde(rename = "double-sha256", alias = "sha256d")]
    DoubleSha256,
}

impl HashAlg {
    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "sha256",
            HashAlg::Keccak256 => "keccak256",
            HashAlg::DoubleSha256 => "double-sha256",
        }
    }

    /// Parses a name (or the alias `sha256d`).
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "sha256" => Some(HashAlg::Sha256),
            "keccak256" => Some(HashAlg::Keccak256),
            "double-sha256" | "sha256d" => Some(HashAlg::DoubleSha256),
            _ => None,
        }
    }
}

/// `POST /v1/keys`: generate a key with no dealer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// The scheme.
    pub scheme: Scheme,
    /// Any `threshold` of the parties sign.
    pub threshold: u16,
    /// The key holders (party indices); default: every node of the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parties: Option<Vec<u16>>,
}

/// A key the node holds a share of (public data only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    /// The key id (32 bytes).
    pub key_id: Hex,
    /// The scheme.
    pub scheme: Scheme,
    /// Any `threshold` of `parties` sign.
    pub threshold: u16,
    /// The key holders.
    pub parties: Vec<u16>,
    /// The group public key: SEC1 compressed (33 bytes), or 32 bytes for Ed25519.
    pub public_key: Hex,
    /// ECDSA keys: SEC1 uncompressed (65 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_uncompressed: Option<Hex>,
    /// ECDSA (secp256k1, P-256) and Ed25519 keys: the X.509 SubjectPublicKeyInfo in PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spki_pem: Option<String>,
    /// `schnorr-bip340` keys: the 32-byte x-only key (untweaked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_only: Option<Hex>,
    /// The BIP-32 chain code (32 bytes).
    pub chain_code: Hex,
}

/// `GET /v1/keys`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyList {
    /// Every key this node holds a share of.
    pub keys: Vec<KeyView>,
}

/// A BIP-32 derivation path: a list of non-hardened indices, or text such as `m/0/1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DerivationPath {
    /// `[0, 1]`.
    Indices(Vec<u32>),
    /// `"m/0/1"` (`"m"` is the key itself).
    Text(String),
}

/// The first hardened index; hardened derivation needs the whole secret and is not offered.
pub const HARDENED: u32 = 1 << 31;

impl DerivationPath {
    /// The indices, checked to be non-hardened.
    pub fn indices(&self) -> Result<Vec<u32>, String> {
        let v = match self {
            DerivationPath::Indices(v) => v.clone(),
            DerivationPath::Text(s) => parse_path(s)?,
        };
        if let Some(i) = v.iter().find(|i| **i >= HARDENED) {
            return Err(format!("path index {i} is hardened; only non-hardened derivation is possible"));
        }
        Ok(v)
    }
}

/// Parses `m/0/1` (or `m`, or `0/1`); hardened steps (`0'`, `0h`) are refused.
pub fn parse_path(s: &str) -> Result<Vec<u32>, String> {
    let s = s.trim();
    let rest = s.strip_prefix('m').map(|r| r.strip_prefix('/').unwrap_or(r)).unwrap_or(s);
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    rest.split('/')
        .map(|step| {
            if step.ends_with('\'') || step.ends_with('h') || step.ends_with('H') {
                return Err(format!("path step `{step}` is hardened; only non-hardened derivation is possible"));
            }
            let i: u32 = step.parse().map_err(|_| format!("path step `{step}` is not a number"))?;
            if i >= HARDENED {
                return Err(format!("path index {i} is hardened; only non-hardened derivation is possible"));
            }
            Ok(i)
        })
        .collect()
}

/// A BIP-341 Taproot tweak of a `schnorr-bip340` key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taproot {
    /// The script tree's Merkle root (32 bytes); absent for a key-path-only output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merkle_root: Option<Hex>,
}

/// `POST /v1/keys/{key_id}/sign`.
///
/// * ECDSA keys: `message` with `hash` (default `sha256`; the nodes hash it; a pooled
///   presignature may be used),
///   or `digest` (32 bytes; always interactive: the presignature is made after the digest is
///   fixed). `path` derives a non-hardened child key.
/// * Schnorr keys (`ed25519`, `frost-secp256k1`, `schnorr-bip340`): `message`; `taproot` for
///   `schnorr-bip340` only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Hex>,
    /// ECDSA with `message`: the hash (default `sha256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<HashAlg>,
    /// ECDSA: a 32-byte digest instead of a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Hex>,
    /// `schnorr-bip340`: sign under the Taproot-tweaked key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taproot: Option<Taproot>,
    /// ECDSA: a non-hardened derivation path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<DerivationPath>,
    /// The signers (party indices, this node included); default: the node's choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signers: Option<Vec<u16>>,
}

/// A released signature (verified by the node against the key before release).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureView {
    /// The key that signed.
    pub key_id: Hex,
    /// The scheme.
    pub scheme: Scheme,
    /// ECDSA: `r ‖ s` (64 bytes, low-S); Schnorr: the scheme's 64-byte encoding.
    pub signature: Hex,
    /// ECDSA: the DER encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub der: Option<Hex>,
    /// ECDSA: the recovery id (Ethereum's `v − 27`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_id: Option<u8>,
    /// The key the signature verifies under: ECDSA SEC1 compressed (derived along the path);
    /// Ed25519 32 bytes; FROST secp256k1 SEC1 compressed; BIP-340 x-only (tweaked for Taproot).
    pub public_key: Hex,
    /// ECDSA: the 32-byte digest signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Hex>,
    /// The parties that signed.
    pub signers: Vec<u16>,
}

/// `POST /v1/keys/{key_id}/refresh`: fresh shares of the same key for the same parties.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// ECDSA keys: also refresh the party set's aux-info (Paillier keys).
    #[serde(default)]
    pub with_aux: bool,
}

/// `POST /v1/keys/{key_id}/reshare`: move the key to another group (same public key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReshareRequest {
    /// The new key holders.
    pub new_parties: Vec<u16>,
    /// The new threshold.
    pub new_threshold: u16,
    /// The old holders that deal (at least the old threshold); default: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_signers: Option<Vec<u16>>,
}

/// The result of a refresh or reshare.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReshareView {
    /// The key before (its shares are retired).
    pub old_key_id: Hex,
    /// The new sharing (same public key, new key id), if this node is in the new group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyView>,
}

/// Where a session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStateName {
    /// Running.
    Running,
    /// Finished with an output.
    Succeeded,
    /// Failed (`error`, `culprits`).
    Failed,
}

/// A session as this node saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// The session id (32 bytes).
    pub session_id: Hex,
    /// `keygen`, `aux-info`, `presign`, `sign-ecdsa`, `sign-schnorr`, `reshare`.
    pub kind: String,
    /// The client that asked (`node` for the node's own maintenance).
    pub client: String,
    /// The proposing node.
    pub proposer: u16,
    /// The participants.
    pub participants: Vec<u16>,
    /// Where it is.
    pub state: SessionStateName,
    /// `failed`: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `failed`: the parties blamed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub culprits: Vec<CulpritView>,
    /// When it started (Unix milliseconds).
    pub started_unix_ms: u64,
    /// How long it ran, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The key a presign or sign session used (hex key id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Once finished: the protocol payload bytes this node sent in the session (each message
    /// counted once per recipient; control messages not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_sent: Option<u64>,
}

/// `GET /v1/sessions`: recent sessions (at most the last 1024), oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionList {
    /// The sessions.
    pub sessions: Vec<SessionView>,
}

/// `GET /v1/keys/{key_id}/presignatures`: the presignature pool of a key on this node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignaturePool {
    /// The key.
    pub key_id: Hex,
    /// Presignatures held now (any signer set).
    pub count: u64,
    /// The pool size the node keeps (0: interactive signing only).
    pub target: u64,
}

/// One entry of the node's audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When (Unix milliseconds).
    pub unix_ms: u64,
    /// What happened (`request`, `joined`, `refused`, `aborted`, `signature-released`, …).
    pub event: String,
    /// Public details (session id, key id, client, parties, culprits, reason).
    pub details: BTreeMap<String, String>,
    /// SHA-256 of the previous entry.
    pub prev_hash: Hex,
    /// SHA-256 of this entry.
    pub hash: Hex,
    /// The node's Ed25519 signature of `hash`.
    pub signature: Hex,
}

/// `GET /v1/audit?from=&limit=`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditList {
    /// The entries, in order.
    pub entries: Vec<AuditEntryView>,
    /// The `from` to ask for next (the last entry's `seq` + 1, or the request's `from`).
    pub next: u64,
}

/// The largest `limit` of `GET /v1/audit`.
pub const MAX_AUDIT_LIMIT: usize = 1000;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn requests_refuse_unknown_fields_and_parse_paths() {
        let r: SignRequest =
            serde_json::from_str(r#"{"message":"00ff","hash":"sha256d","path":"m/0/1","signers":[0,1]}"#).unwrap();
        assert_eq!(r.hash, Some(HashAlg::DoubleSha256));
        assert_eq!(r.path.unwrap().indices().unwrap(), vec![0, 1]);
        let r: SignRequest = serde_json::from_str(r#"{"digest":"00","path":[3,4]}"#).unwrap();
        assert_eq!(r.path.unwrap().indices().unwrap(), vec![3, 4]);
        assert!(serde_json::from_str::<SignRequest>(r#"{"mesage":"00"}"#).is_err());
        assert!(serde_json::from_str::<CreateKeyRequest>(r#"{"scheme":"rsa","threshold":2}"#).is_err());
        let k: CreateKeyRequest = serde_json::from_str(r#"{"scheme":"schnorr-bip340","threshold":2}"#).unwrap();
        assert_eq!(k.scheme, Scheme::SchnorrBip340);
        assert!(parse_path("m/0'").is_err());
        assert!(parse_path("m/2147483648").is_err());
        assert!(parse_path("m/x").is_err());
        assert_eq!(parse_path("m").unwrap(), Vec::<u32>::new());
        assert_eq!(parse_path("5/6").unwrap(), vec![5, 6]);
        assert!(DerivationPath::Indices(vec![HARDENED]).indices().is_err());
    }

    #[test]
    fn scheme_names_round_trip() {
        for s in Scheme::ALL {
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.name()));
            assert_eq!(Scheme::from_name(s.name()), Some(s));
        }
    }
}
