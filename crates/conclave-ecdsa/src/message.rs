//! What is signed: a message together with the name of the hash applied to it.
//!
//! Conclave hashes the message itself (SECURITY.md item 18): a presignature is only ever used
//! with a digest Conclave computed. A caller-supplied digest ([`SignedData::Prehashed`]) is
//! accepted only by interactive signing, where the presignature is generated after the digest
//! is fixed (CVE-2025-66017).

use sha2::{Digest, Sha256};
use sha3::Keccak256;

/// The hash applied to a message before ECDSA signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashName {
    /// SHA-256 (X.509, most HSM users, `ECDSA_SHA_256`).
    Sha256,
    /// Keccak-256 (Ethereum).
    Keccak256,
    /// SHA-256 applied twice (Bitcoin legacy and BIP-143 sighashes are themselves double SHA-256).
    DoubleSha256,
}

impl HashName {
    /// The stable name used in APIs and the demo output.
    pub fn name(self) -> &'static str {
        match self {
            HashName::Sha256 => "sha256",
            HashName::Keccak256 => "keccak256",
            HashName::DoubleSha256 => "double-sha256",
        }
    }

    /// Parses [`HashName::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "sha256" => Some(HashName::Sha256),
            "keccak256" => Some(HashName::Keccak256),
            "double-sha256" => Some(HashName::DoubleSha256),
            _ => None,
        }
    }

    /// The digest of `message`.
    pub fn digest(self, message: &[u8]) -> [u8; 32] {
        match self {
            HashName::Sha256 => Sha256::digest(message).into(),
            HashName::Keccak256 => Keccak256::digest(message).into(),
            HashName::DoubleSha256 => Sha256::digest(Sha256::digest(message)).into(),
        }
    }

    fn tag(self) -> u8 {
        match self {
            HashName::Sha256 => 1,
            HashName::Keccak256 => 2,
            HashName::DoubleSha256 => 3,
        }
    }
}

/// What a signing request signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedData {
    /// A message, hashed by Conclave with the named hash.
    Message {
        /// The hash.
        hash: HashName,
        /// The message bytes.
        message: Vec<u8>,
    },
    /// A 32-byte digest computed by the caller. Interactive signing only.
    Prehashed([u8; 32]),
}

impl SignedData {
    /// The 32-byte digest that ECDSA signs.
    pub fn digest(&self) -> [u8; 32] {
        match self {
            SignedData::Message { hash, message } => hash.digest(message),
            SignedData::Prehashed(d) => *d,
        }
    }

    /// A typed encoding for transcripts and audit records (kind, hash, message).
    pub fn binding_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            SignedData::Message { hash, message } => {
                out.push(1);
                out.push(hash.tag());
                out.extend_from_slice(&(message.len() as u64).to_be_bytes());
                out.extend_from_slice(message);
            }
            SignedData::Prehashed(d) => {
                out.push(2);
                out.extend_from_slice(d);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            hex::encode(HashName::Sha256.digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex::encode(HashName::Keccak256.digest(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(
            hex::encode(HashName::DoubleSha256.digest(b"hello")),
            "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50"
        );
        for h in [HashName::Sha256, HashName::Keccak256, HashName::DoubleSha256] {
            assert_eq!(HashName::from_name(h.name()), Some(h));
        }
        assert_eq!(HashName::from_name("md5"), None);
    }

    #[test]
    fn binding_distinguishes_hash_and_kind() {
        let a = SignedData::Message { hash: HashName::Sha256, message: b"x".to_vec() };
        let b = SignedData::Message { hash: HashName::Keccak256, message: b"x".to_vec() };
        let c = SignedData::Prehashed(a.digest());
        assert_ne!(a.binding_bytes(), b.binding_bytes());
        assert_ne!(a.binding_bytes(), c.binding_bytes());
        assert_eq!(a.digest(), c.digest());
    }
}
