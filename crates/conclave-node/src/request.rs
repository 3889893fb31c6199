//! What a session does, and the control messages that propose it.
//!
//! A session starts when one node (the proposer) sends a [`Control::Propose`] with a
//! [`Request`] to every other participant. Each participant checks the request on its own
//! (does it hold the key, is it a participant, is the request well formed) and answers
//! [`Control::Accept`] or [`Control::Refuse`] with a reason; it starts its state machine when it
//! accepts. A refusal makes the proposer cancel the session for everyone.

use conclave_ecdsa::hd::DerivationPath;
use conclave_ecdsa::{HashName, SignedData};
use conclave_keygen::KeyId;
use conclave_math::codec::{Reader, Writer};
use conclave_math::DecodeError;
use conclave_protocol::{PartyIndex, PartySet};

/// A signature scheme a key is generated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    /// Threshold ECDSA (CGGMP24) on secp256k1.
    EcdsaSecp256k1,
    /// Threshold ECDSA (CGGMP24) on P-256.
    EcdsaP256,
    /// FROST Ed25519 (RFC 9591).
    Ed25519,
    /// FROST secp256k1 (RFC 9591).
    FrostSecp256k1,
    /// BIP-340 Schnorr (FROST), optionally with a Taproot tweak.
    SchnorrBip340,
}

impl Scheme {
    /// Every scheme.
    pub const ALL: [Scheme; 5] =
        [Scheme::EcdsaSecp256k1, Scheme::EcdsaP256, Scheme::Ed25519, Scheme::FrostSecp256k1, Scheme::SchnorrBip340];

    /// The scheme's stable name.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::EcdsaSecp256k1 => "ecdsa-secp256k1",
            Scheme::EcdsaP256 => "ecdsa-p256",
            Scheme::Ed25519 => "ed25519",
            Scheme::FrostSecp256k1 => "frost-secp256k1",
            Scheme::SchnorrBip340 => "schnorr-bip340",
        }
    }

    /// Parses a name from [`Scheme::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.name() == s)
    }

    /// Whether keys of this scheme need aux-info (Paillier keys) to sign.
    pub fn is_ecdsa(self) -> bool {
        matches!(self, Scheme::EcdsaSecp256k1 | Scheme::EcdsaP256)
    }

    fn tag(self) -> u8 {
        match self {
            Scheme::EcdsaSecp256k1 => 1,
            Scheme::EcdsaP256 => 2,
            Scheme::Ed25519 => 3,
            Scheme::FrostSecp256k1 => 4,
            Scheme::SchnorrBip340 => 5,
        }
    }

    fn from_tag(t: u8) -> Result<Self, DecodeError> {
        Self::ALL
            .into_iter()
            .find(|s| s.tag() == t)
            .ok_or(DecodeError::Invalid { what: "scheme", reason: "unknown or malformed" })
    }

    pub(crate) fn encode(self, w: &mut Writer) {
        w.u8(self.tag());
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::from_tag(r.u8()?)
    }
}

impl core::fmt::Display for Scheme {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// What an ECDSA session signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EcdsaData {
    /// A message hashed by every node with the named hash.
    Message {
        /// The hash.
        hash: HashName,
        /// The message.
        message: Vec<u8>,
    },
    /// A caller's 32-byte digest (interactive signing only: the presignature is made after the
    /// digest is fixed).
    Digest([u8; 32]),
}

impl EcdsaData {
    pub(crate) fn to_signed_data(&self) -> SignedData {
        match self {
            EcdsaData::Message { hash, message } => SignedData::Message { hash: *hash, message: message.clone() },
            EcdsaData::Digest(d) => SignedData::Prehashed(*d),
        }
    }
}

/// A session's purpose, agreed by every participant before it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Dealerless key generation among `parties`.
    Keygen {
        /// The scheme.
        scheme: Scheme,
        /// Any `threshold` of the parties sign.
        threshold: u16,
        /// The key holders.
        parties: PartySet,
    },
    /// Aux-info (Paillier keys, ring-Pedersen parameters and their proofs) for `parties`.
    AuxInfo {
        /// The party set.
        parties: PartySet,
    },
    /// A presignature for the pool of an ECDSA key.
    Presign {
        /// The key.
        key_id: KeyId,
        /// The signers it is made for.
        signers: PartySet,
    },
    /// ECDSA signing: with a pooled presignature (its presign session id) or interactively.
    SignEcdsa {
        /// The key.
        key_id: KeyId,
        /// The signers.
        signers: PartySet,
        /// Non-hardened BIP-32 path from the group key.
        path: Vec<u32>,
        /// What is signed.
        data: EcdsaData,
        /// The pooled presignature to consume, if any.
        presignature: Option<[u8; 32]>,
    },
    /// Key refresh or resharing: `old_signers` (at least the old threshold of the key's holders)
    /// hand the key to `new_parties` with threshold `new_threshold`; the public key stays.
    Reshare {
        /// The key's scheme.
        scheme: Scheme,
        /// The old key's public data (`PublicKeyShare::to_record`): joining parties hold no
        /// share and learn it from here; holders check it equals theirs.
        old_public: Vec<u8>,
        /// `O`.
        old_signers: PartySet,
        /// `N′`.
        new_parties: PartySet,
        /// `t′`.
        new_threshold: u16,
    },
    /// FROST / BIP-340 signing.
    SignSchnorr {
        /// The key.
        key_id: KeyId,
        /// The signers.
        signers: PartySet,
        /// The message.
        message: Vec<u8>,
        /// BIP-340 only: sign for the Taproot output key (`Some(merkle_root)`).
        taproot: Option<Option<[u8; 32]>>,
    },
}

impl Request {
    /// A short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Keygen { .. } => "keygen",
            Request::AuxInfo { .. } => "aux-info",
            Request::Presign { .. } => "presign",
            Request::SignEcdsa { .. } => "sign-ecdsa",
            Request::SignSchnorr { .. } => "sign-schnorr",
            Request::Reshare { .. } => "reshare",
        }
    }

    /// The parties that run the session (for a reshare: `O ∪ N′`).
    pub fn participants(&self) -> PartySet {
        match self {
            Request::Keygen { parties, .. } | Request::AuxInfo { parties } => parties.clone(),
            Request::Presign { signers, .. }
            | Request::SignEcdsa { signers, .. }
            | Request::SignSchnorr { signers, .. } => signers.clone(),
            Request::Reshare { old_signers, new_parties, .. } => {
                let mut all: Vec<PartyIndex> = old_signers.iter().chain(new_parties.iter()).collect();
                all.sort();
                all.dedup();
                // Both sets are valid party sets, so their union is one too (or too large,
                // which the decoder's bound on set sizes excludes).
                PartySet::new(all).unwrap_or_else(|_| old_signers.clone())
            }
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        match self {
            Request::Keygen { scheme, threshold, parties } => {
                w.u8(1);
                scheme.encode(w);
                w.u16(*threshold);
                encode_set(w, parties);
            }
            Request::AuxInfo { parties } => {
                w.u8(2);
                encode_set(w, parties);
            }
            Request::Presign { key_id, signers } => {
                w.u8(3).fixed(&key_id.0);
                encode_set(w, signers);
            }
            Request::SignEcdsa { key_id, signers, path, data, presignature } => {
                w.u8(4).fixed(&key_id.0);
                encode_set(w, signers);
                w.len(path.len());
                for i in path {
                    w.u32(*i);
                }
                match data {
                    EcdsaData::Message { hash, message } => {
                        w.u8(1).bytes(hash.name().as_bytes()).bytes(message);
                    }
                    EcdsaData::Digest(d) => {
                        w.u8(2).fixed(d);
                    }
                }
                match presignature {
                    Some(p) => w.u8(1).fixed(p),
                    None => w.u8(0),
                };
            }
            Request::Reshare { scheme, old_public, old_signers, new_parties, new_threshold } => {
                w.u8(6);
                scheme.encode(w);
                w.bytes(old_public);
                encode_set(w, old_signers);
                encode_set(w, new_parties);
                w.u16(*new_threshold);
            }
            Request::SignSchnorr { key_id, signers, message, taproot } => {
                w.u8(5).fixed(&key_id.0);
                encode_set(w, signers);
                w.bytes(message);
                match taproot {
                    None => w.u8(0),
                    Some(None) => w.u8(1),
                    Some(Some(root)) => w.u8(2).fixed(root),
                };
            }
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8()? {
            1 => {
                let scheme = Scheme::decode(r)?;
                let threshold = r.u16()?;
                let parties = decode_set(r)?;
                Request::Keygen { scheme, threshold, parties }
            }
            2 => Request::AuxInfo { parties: decode_set(r)? },
            3 => {
                let key_id = KeyId(r.array()?);
                Request::Presign { key_id, signers: decode_set(r)? }
            }
            4 => {
                let key_id = KeyId(r.array()?);
                let signers = decode_set(r)?;
                let n = r.len("path", 255, 4)?;
                let mut path = Vec::with_capacity(n);
                for _ in 0..n {
                    path.push(r.u32()?);
                }
                let data = match r.u8()? {
                    1 => {
                        let name = r.bytes("hash name", 64)?;
                        let hash = core::str::from_utf8(name)
                            .ok()
                            .and_then(HashName::from_name)
                            .ok_or(DecodeError::Invalid { what: "hash name", reason: "unknown or malformed" })?;
                        EcdsaData::Message {
                            hash,
                            message: r.bytes("message", conclave_math::codec::MAX_BYTES)?.to_vec(),
                        }
                    }
                    2 => EcdsaData::Digest(r.array()?),
                    _ => return Err(DecodeError::Invalid { what: "signed data", reason: "unknown or malformed" }),
                };
                let presignature = match r.u8()? {
                    0 => None,
                    1 => Some(r.array()?),
                    _ => {
                        return Err(DecodeError::Invalid { what: "presignature flag", reason: "unknown or malformed" })
                    }
                };
                Request::SignEcdsa { key_id, signers, path, data, presignature }
            }
            5 => {
                let key_id = KeyId(r.array()?);
                let signers = decode_set(r)?;
                let message = r.bytes("message", conclave_math::codec::MAX_BYTES)?.to_vec();
                let taproot = match r.u8()? {
                    0 => None,
                    1 => Some(None),
                    2 => Some(Some(r.array()?)),
                    _ => return Err(DecodeError::Invalid { what: "taproot flag", reason: "unknown or malformed" }),
                };
                Request::SignSchnorr { key_id, signers, message, taproot }
            }
            6 => {
                let scheme = Scheme::decode(r)?;
                let old_public = r.bytes("old public key share", conclave_math::codec::MAX_BYTES)?.to_vec();
                let old_signers = decode_set(r)?;
                let new_parties = decode_set(r)?;
                let new_threshold = r.u16()?;
                Request::Reshare { scheme, old_public, old_signers, new_parties, new_threshold }
            }
            _ => return Err(DecodeError::Invalid { what: "request kind", reason: "unknown or malformed" }),
        })
    }

    /// The derivation path of an ECDSA request, checked.
    pub(crate) fn derivation_path(path: &[u32]) -> Result<DerivationPath, String> {
        DerivationPath::new(path.to_vec()).map_err(|e| format!("derivation path: {e}"))
    }
}

fn encode_set(w: &mut Writer, s: &PartySet) {
    w.len(s.len());
    for p in s.iter() {
        w.u16(p.0);
    }
}

fn decode_set(r: &mut Reader<'_>) -> Result<PartySet, DecodeError> {
    let n = r.len("party set", usize::from(u16::MAX), 2)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(PartyIndex(r.u16()?));
    }
    PartySet::new(v).map_err(|_| DecodeError::Invalid { what: "party set", reason: "unknown or malformed" })
}

/// A message between nodes about sessions (not part of any protocol).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Control {
    /// The sender proposes the session (the frame's session id) for `request`, asked by
    /// `client` (as the sender authenticated it; `node` for its own maintenance).
    Propose {
        /// The client's policy name.
        client: String,
        /// What the session does.
        request: Request,
    },
    /// The sender joined the session.
    Accept,
    /// The sender refuses the session.
    Refuse(String),
    /// The proposer cancelled the session (a participant refused, or the proposal timed out).
    Cancel(String),
    /// The sender confirmed the hand-over of the reshare session (the frame's session id) but
    /// never saw it complete: does the recipient hold its receipt?
    ReceiptQuery,
    /// The hand-over receipt of the reshare session (the frame's session id), encoded by
    /// `HandoverReceipt::to_bytes` for the key's curve.
    Receipt(Vec<u8>),
}

/// Longest accepted hand-over receipt (a 1024-party session's is far below this).
pub const MAX_RECEIPT: usize = 4 << 20;

const CONTROL_VERSION: u8 = 1;
const MAX_REASON: usize = 1024;
const MAX_CLIENT: usize = 256;

impl Control {
    /// Encodes the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(CONTROL_VERSION);
        match self {
            Control::Propose { client, request } => {
                w.u8(1).bytes(client.as_bytes());
                request.encode(&mut w);
            }
            Control::Accept => {
                w.u8(2);
            }
            Control::Refuse(reason) => {
                w.u8(3).bytes(truncate(reason).as_bytes());
            }
            Control::Cancel(reason) => {
                w.u8(4).bytes(truncate(reason).as_bytes());
            }
            Control::ReceiptQuery => {
                w.u8(5);
            }
            Control::Receipt(bytes) => {
                w.u8(6).bytes(bytes);
            }
        }
        w.into_bytes()
    }

    /// Decodes a message; never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.u8()? != CONTROL_VERSION {
            return Err(DecodeError::Invalid { what: "control message version", reason: "unknown or malformed" });
        }
        let text = |r: &mut Reader<'_>| -> Result<String, DecodeError> {
            let b = r.bytes("reason", MAX_REASON)?;
            Ok(String::from_utf8_lossy(b).into_owned())
        };
        let msg = match r.u8()? {
            1 => {
                let client = core::str::from_utf8(r.bytes("client", MAX_CLIENT)?)
                    .map_err(|_| DecodeError::Invalid { what: "client", reason: "not UTF-8" })?
                    .to_owned();
                Control::Propose { client, request: Request::decode(&mut r)? }
            }
            2 => Control::Accept,
            3 => Control::Refuse(text(&mut r)?),
            4 => Control::Cancel(text(&mut r)?),
            5 => Control::ReceiptQuery,
            6 => Control::Receipt(r.bytes("receipt", MAX_RECEIPT)?.to_vec()),
            _ => return Err(DecodeError::Invalid { what: "control message kind", reason: "unknown or malformed" }),
        };
        r.finish()?;
        Ok(msg)
    }
}

fn truncate(s: &str) -> &str {
    if s.len() <= MAX_REASON {
        return s;
    }
    let mut end = MAX_REASON;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(v: &[u16]) -> PartySet {
        PartySet::new(v.iter().map(|i| PartyIndex(*i))).unwrap()
    }

    fn prop(request: Request) -> Control {
        Control::Propose { client: "app".into(), request }
    }

    #[test]
    fn control_round_trips() {
        let msgs = [
            prop(Request::Keygen { scheme: Scheme::Ed25519, threshold: 2, parties: set(&[0, 1, 2]) }),
            prop(Request::AuxInfo { parties: set(&[0, 1, 2]) }),
            prop(Request::Presign { key_id: KeyId([7; 32]), signers: set(&[0, 2]) }),
            prop(Request::SignEcdsa {
                key_id: KeyId([1; 32]),
                signers: set(&[1, 2]),
                path: vec![0, 5],
                data: EcdsaData::Message { hash: HashName::Keccak256, message: b"hi".to_vec() },
                presignature: Some([9; 32]),
            }),
            prop(Request::SignEcdsa {
                key_id: KeyId([1; 32]),
                signers: set(&[1, 2]),
                path: vec![],
                data: EcdsaData::Digest([3; 32]),
                presignature: None,
            }),
            prop(Request::SignSchnorr {
                key_id: KeyId([2; 32]),
                signers: set(&[0, 1]),
                message: vec![1, 2, 3],
                taproot: Some(Some([4; 32])),
            }),
            prop(Request::Reshare {
                scheme: Scheme::EcdsaP256,
                old_public: vec![1, 2, 3],
                old_signers: set(&[0, 1]),
                new_parties: set(&[1, 2, 3]),
                new_threshold: 2,
            }),
            Control::Accept,
            Control::Refuse("no".into()),
            Control::Cancel("because".into()),
            Control::ReceiptQuery,
            Control::Receipt(vec![6; 300]),
        ];
        for m in msgs {
            assert_eq!(Control::from_bytes(&m.to_bytes()).unwrap(), m);
        }
    }

    #[test]
    fn long_reasons_are_truncated_on_a_char_boundary() {
        let m = Control::Refuse("é".repeat(2000));
        let Control::Refuse(r) = Control::from_bytes(&m.to_bytes()).unwrap() else { panic!() };
        assert!(r.len() <= MAX_REASON);
    }

    proptest! {
        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Control::from_bytes(&bytes);
            let mut b = vec![CONTROL_VERSION, 1];
            b.extend_from_slice(&bytes);
            let _ = Control::from_bytes(&b);
        }
    }
}
