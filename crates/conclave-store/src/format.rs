//! The on-disk format of the store: table names, the sealed-record layout, the associated data
//! and the key derivation. `docs/store.md` describes the same format in prose.
//!
//! A sealed record is
//!
//! ```text
//! magic "CNCL" (4) | format version (1) | kind tag (1) | nonce (24) | ciphertext | Poly1305 tag (16)
//! ```
//!
//! encrypted with XChaCha20-Poly1305 under the record key, with the associated data
//!
//! ```text
//! "conclave-store/record/v1" | header (6) | u32 len(owner) | owner | u32 len(id) | id
//! ```
//!
//! (lengths big-endian). The record key is `HKDF-SHA256(salt = store salt, ikm = master key,
//! info = "conclave-store/v1 record key" | u32 len(owner) | owner)`.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::error::StoreError;
use crate::master_key::MasterKey;

/// Magic bytes at the start of every sealed record.
pub const MAGIC: [u8; 4] = *b"CNCL";
/// The format version this build reads and writes (records and store metadata).
pub const FORMAT_VERSION: u8 = 1;
/// Header length: magic, version, kind tag.
pub const HEADER_LEN: usize = 6;
/// XChaCha20 nonce length.
pub const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// Smallest possible sealed record (empty plaintext).
pub const MIN_SEALED_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// Length of the per-store random salt.
pub const SALT_LEN: usize = 32;

/// Largest record id.
pub const MAX_ID_LEN: usize = 1024;
/// Largest owner (node identity) encoding.
pub const MAX_OWNER_LEN: usize = 1024;
/// Largest counter name.
pub const MAX_COUNTER_NAME_LEN: usize = 256;
/// Largest plaintext (64 MiB).
pub const MAX_PLAINTEXT_LEN: usize = 64 << 20;

/// Tag of the key-check record (in the metadata table).
pub const KEY_CHECK_TAG: u8 = 0xf0;
/// Tag of counter values (in the counters table).
pub const COUNTER_TAG: u8 = 0xf1;
/// The key-check record's id and plaintext.
pub const KEY_CHECK_ID: &[u8] = b"key-check";
pub(crate) const KEY_CHECK_PLAINTEXT: &[u8] = b"conclave-store key check v1";

/// Table names (redb): metadata (`&str -> &[u8]`), records and tombstones keyed by
/// `kind tag | id` (`&[u8] -> &[u8]`, `&[u8] -> ()`), counters (`&str -> &[u8]`).
pub const META_TABLE: &str = "conclave-store/meta";
/// See [`META_TABLE`].
pub const RECORDS_TABLE: &str = "conclave-store/records";
/// See [`META_TABLE`].
pub const TAKEN_TABLE: &str = "conclave-store/taken";
/// See [`META_TABLE`].
pub const COUNTERS_TABLE: &str = "conclave-store/counters";
/// Metadata keys: format version (1 byte), salt (32 bytes), owner, sealed key check.
pub const META_FORMAT: &str = "format";
/// See [`META_FORMAT`].
pub const META_SALT: &str = "salt";
/// See [`META_FORMAT`].
pub const META_OWNER: &str = "owner";
/// See [`META_FORMAT`].
pub const META_KEY_CHECK: &str = "key-check";

const AAD_DOMAIN: &[u8] = b"conclave-store/record/v1";
const KEY_INFO: &[u8] = b"conclave-store/v1 record key";

/// The parts of a sealed record, before authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedParts<'a> {
    /// The header (magic, version, kind tag).
    pub header: &'a [u8; HEADER_LEN],
    /// The format version.
    pub version: u8,
    /// The kind tag.
    pub tag: u8,
    /// The nonce.
    pub nonce: &'a [u8; NONCE_LEN],
    /// The ciphertext, without the Poly1305 tag.
    pub ciphertext: &'a [u8],
    /// The Poly1305 tag.
    pub mac: &'a [u8; TAG_LEN],
}

/// Why a sealed record was refused (before or during authentication).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Shorter than header, nonce and tag.
    #[error("sealed record too short")]
    TooShort,
    /// Wrong magic bytes.
    #[error("bad magic")]
    BadMagic,
    /// A format version this build does not know.
    #[error("unknown format version {0}")]
    UnknownVersion(u8),
    /// The kind tag differs from the kind being read.
    #[error("kind tag {found} where {expected} was expected")]
    WrongTag {
        /// The tag expected.
        expected: u8,
        /// The tag found.
        found: u8,
    },
    /// The AEAD tag does not verify (altered, or another key, owner, kind or id).
    #[error("authentication failed")]
    Authentication,
}

/// Splits a sealed record into its parts, checking lengths, magic and version. Never panics.
pub fn parse_sealed(bytes: &[u8]) -> Result<SealedParts<'_>, SealError> {
    let (header, rest) = bytes.split_first_chunk::<HEADER_LEN>().ok_or(SealError::TooShort)?;
    let (nonce, rest) = rest.split_first_chunk::<NONCE_LEN>().ok_or(SealError::TooShort)?;
    let (ciphertext, mac) = rest.split_last_chunk::<TAG_LEN>().ok_or(SealError::TooShort)?;
    let [m0, m1, m2, m3, version, tag] = *header;
    if [m0, m1, m2, m3] != MAGIC {
        return Err(SealError::BadMagic);
    }
    if version != FORMAT_VERSION {
        return Err(SealError::UnknownVersion(version));
    }
    Ok(SealedParts { header, version, tag, nonce, ciphertext, mac })
}

fn header(tag: u8) -> [u8; HEADER_LEN] {
    let [m0, m1, m2, m3] = MAGIC;
    [m0, m1, m2, m3, FORMAT_VERSION, tag]
}

fn push_len_prefixed(out: &mut Vec<u8>, v: &[u8]) {
    // Callers bound every length by `MAX_ID_LEN` / `MAX_OWNER_LEN`.
    out.extend_from_slice(&u32::try_from(v.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(v);
}

/// The associated data of a record: domain, header, owner and id.
pub fn associated_data(header: &[u8; HEADER_LEN], owner: &[u8], id: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_DOMAIN.len() + HEADER_LEN + 8 + owner.len() + id.len());
    aad.extend_from_slice(AAD_DOMAIN);
    aad.extend_from_slice(header);
    push_len_prefixed(&mut aad, owner);
    push_len_prefixed(&mut aad, id);
    aad
}

/// Encrypts and authenticates records for one store (one salt, one owner).
pub(crate) struct Sealer {
    aead: XChaCha20Poly1305,
    owner: Vec<u8>,
}

impl core::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sealer").field("owner", &hex::encode(&self.owner)).finish_non_exhaustive()
    }
}

impl Sealer {
    /// Derives the record key from the master key, the store's salt and the owner.
    pub(crate) fn new(master: &MasterKey, salt: &[u8; SALT_LEN], owner: &[u8]) -> Result<Self, StoreError> {
        let hk = Hkdf::<Sha256>::new(Some(salt), master.expose_secret());
        let mut info = Vec::with_capacity(KEY_INFO.len() + 4 + owner.len());
        info.extend_from_slice(KEY_INFO);
        push_len_prefixed(&mut info, owner);
        let mut key = Zeroizing::new([0u8; 32]);
        hk.expand(&info, key.as_mut()).map_err(|_| StoreError::Bug("HKDF output length"))?;
        let aead = XChaCha20Poly1305::new(&Key::from(*key));
        Ok(Self { aead, owner: owner.to_vec() })
    }

    /// Seals `plaintext` as a record of kind `tag` under `id`, with a fresh random nonce.
    pub(crate) fn seal(&self, tag: u8, id: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(StoreError::InvalidInput { reason: "record larger than 64 MiB" });
        }
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.try_fill_bytes(&mut nonce).map_err(|_| StoreError::Rng)?;
        self.seal_with_nonce(tag, id, plaintext, &nonce)
    }

    fn seal_with_nonce(
        &self,
        tag: u8,
        id: &[u8],
        plaintext: &[u8],
        nonce: &[u8; NONCE_LEN],
    ) -> Result<Vec<u8>, StoreError> {
        let header = header(tag);
        let aad = associated_data(&header, &self.owner, id);
        // One allocation of the final size: the plaintext is copied in once and encrypted in
        // place, so no buffer holding it is ever freed unencrypted.
        let mut out = Vec::with_capacity(MIN_SEALED_LEN + plaintext.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(nonce);
        out.extend_from_slice(plaintext);
        let body = out.get_mut(HEADER_LEN + NONCE_LEN..).ok_or(StoreError::Bug("sealed layout"))?;
        match self.aead.encrypt_in_place_detached(&XNonce::from(*nonce), &aad, body) {
            Ok(mac) => {
                out.extend_from_slice(&mac);
                Ok(out)
            }
            Err(_) => {
                out.zeroize();
                Err(StoreError::Bug("encryption failed"))
            }
        }
    }

    /// Authenticates and decrypts a record of kind `tag` under `id`. The plaintext is returned
    /// in a buffer zeroized on drop. Never panics on any input.
    pub(crate) fn open(&self, tag: u8, id: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let parts = parse_sealed(sealed)?;
        if parts.tag != tag {
            return Err(SealError::WrongTag { expected: tag, found: parts.tag });
        }
        let aad = associated_data(parts.header, &self.owner, id);
        let mut buf = Zeroizing::new(parts.ciphertext.to_vec());
        self.aead
            .decrypt_in_place_detached(&XNonce::from(*parts.nonce), &aad, buf.as_mut_slice(), &Tag::from(*parts.mac))
            .map_err(|_| SealError::Authentication)?;
        Ok(buf)
    }
}

/// Checks a record id.
pub(crate) fn check_id(id: &[u8]) -> Result<(), StoreError> {
    if id.is_empty() {
        return Err(StoreError::InvalidInput { reason: "empty record id" });
    }
    if id.len() > MAX_ID_LEN {
        return Err(StoreError::InvalidInput { reason: "record id longer than 1024 bytes" });
    }
    Ok(())
}

/// The key of a record or tombstone: kind tag, then id.
pub(crate) fn table_key(tag: u8, id: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + id.len());
    k.push(tag);
    k.extend_from_slice(id);
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sealer(owner: &[u8], salt: u8, key: u8) -> Sealer {
        let master = MasterKey::from_hex(&format!("{key:02x}").repeat(32)).unwrap();
        Sealer::new(&master, &[salt; SALT_LEN], owner).unwrap()
    }

    #[test]
    fn round_trip_and_bindings() {
        let s = sealer(b"node-a", 1, 7);
        let sealed = s.seal(3, b"id-1", b"hello").unwrap();
        assert_eq!(sealed.len(), MIN_SEALED_LEN + 5);
        assert_eq!(s.open(3, b"id-1", &sealed).unwrap().as_slice(), b"hello");
        // Another id, kind, owner, salt or key: refused.
        assert_eq!(s.open(3, b"id-2", &sealed), Err(SealError::Authentication));
        assert_eq!(s.open(4, b"id-1", &sealed), Err(SealError::WrongTag { expected: 4, found: 3 }));
        assert_eq!(sealer(b"node-b", 1, 7).open(3, b"id-1", &sealed), Err(SealError::Authentication));
        assert_eq!(sealer(b"node-a", 2, 7).open(3, b"id-1", &sealed), Err(SealError::Authentication));
        assert_eq!(sealer(b"node-a", 1, 8).open(3, b"id-1", &sealed), Err(SealError::Authentication));
        // Rewriting the header's kind tag is caught by the associated data.
        let mut moved = sealed.clone();
        moved[5] = 4;
        assert_eq!(s.open(4, b"id-1", &moved), Err(SealError::Authentication));
        // Every single-bit flip is refused.
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(s.open(3, b"id-1", &bad).is_err(), "flip at {i}");
        }
        // Fresh nonces: sealing twice differs.
        assert_ne!(s.seal(3, b"id-1", b"hello").unwrap(), sealed);
    }

    #[test]
    fn id_and_owner_boundaries_are_unambiguous() {
        // (owner "ab", id "c") and (owner "a", id "bc") must not share associated data.
        let h = header(1);
        assert_ne!(associated_data(&h, b"ab", b"c"), associated_data(&h, b"a", b"bc"));
    }

    proptest! {
        #[test]
        fn open_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), tag in any::<u8>()) {
            let s = sealer(b"node", 3, 9);
            let _ = parse_sealed(&bytes);
            prop_assert!(s.open(tag, b"id", &bytes).is_err());
        }

        #[test]
        fn header_prefixed_garbage_is_refused(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let s = sealer(b"node", 3, 9);
            let mut bytes = header(3).to_vec();
            bytes.extend_from_slice(&body);
            prop_assert!(s.open(3, b"id", &bytes).is_err());
        }
    }
}
