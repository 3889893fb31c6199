//! The three signature schemes and their binding to the Zcash Foundation FROST ciphersuites.
//!
//! | scheme | ciphersuite (RFC 9591 / ZF) | key curve | signature | public key |
//! |---|---|---|---|---|
//! | [`Ed25519`] | FROST(Ed25519, SHA-512) (`frost-ed25519`) | [`conclave_math::Ed25519`] | RFC 8032, 64 bytes | 32 bytes |
//! | [`Secp256k1`] | FROST(secp256k1, SHA-256) (`frost-secp256k1`) | [`conclave_math::Secp256k1`] | `R` (33, SEC1) ‖ `z` (32) | 33 bytes, SEC1 compressed |
//! | [`Bip340`] | FROST(secp256k1, SHA-256)-TR (`frost-secp256k1-tr`) | [`conclave_math::Secp256k1`] | BIP-340, 64 bytes | 32 bytes, x-only (BIP-340) |

use core::fmt::Debug;

use conclave_math::Curve;
use frost_core::keys::{KeyPackage, PublicKeyPackage};
use frost_core::{Ciphersuite, Element, Signature, VerifyingKey};

use crate::error::SignError;
use crate::taproot;

/// Which scheme a signature belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchemeId {
    /// Threshold Ed25519 (FROST(Ed25519, SHA-512)); signatures are plain RFC 8032.
    Ed25519,
    /// FROST(secp256k1, SHA-256) as in RFC 9591 (not BIP-340).
    Secp256k1,
    /// BIP-340 Schnorr on secp256k1, optionally Taproot-tweaked (BIP-341).
    Bip340,
}

impl SchemeId {
    /// The stable name (as the CLI and the demo output use it).
    pub const fn name(self) -> &'static str {
        match self {
            SchemeId::Ed25519 => "ed25519",
            SchemeId::Secp256k1 => "frost-secp256k1",
            SchemeId::Bip340 => "schnorr-bip340",
        }
    }

    const fn tag(self) -> u64 {
        match self {
            SchemeId::Ed25519 => 1,
            SchemeId::Secp256k1 => 2,
            SchemeId::Bip340 => 3,
        }
    }

    pub(crate) const fn transcript_tag(self) -> u64 {
        self.tag()
    }
}

impl core::fmt::Display for SchemeId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A tweak of the group key applied inside the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tweak {
    /// Sign for the group key itself (for BIP-340: its x-only form, even Y).
    None,
    /// BIP-341 key-path spending: sign for the output key `Q = P + t·G` where `P` is the
    /// even-Y group key and `t = H_TapTweak(x(P) ‖ merkle_root)`. `merkle_root: None` is the
    /// key-path-only output BIP-341 recommends (commits to an unspendable script path).
    Taproot {
        /// The script tree's Merkle root, if there is one.
        merkle_root: Option<[u8; 32]>,
    },
}

/// A threshold Schnorr scheme: a FROST ciphersuite over one of our key curves.
pub trait Scheme: 'static + Copy + Debug + Default + Send + Sync {
    /// The curve our DKG produces keys on.
    type Curve: Curve;
    /// The Zcash Foundation ciphersuite doing the signing arithmetic.
    type Suite: Ciphersuite;
    /// Which scheme this is.
    const ID: SchemeId;
    /// Protocol name and version, bound into every envelope of a signing session.
    const PROTOCOL: &'static str;

    /// Our point as the ciphersuite's group element (same value).
    fn element(p: &<Self::Curve as Curve>::Point) -> Element<Self::Suite>;

    /// Our scalar as the ciphersuite's scalar (same value).
    fn scalar(s: &<Self::Curve as Curve>::Scalar) -> frost_core::Scalar<Self::Suite>;

    /// Applies `tweak` to the key packages (only [`Bip340`] supports a Taproot tweak).
    #[allow(clippy::type_complexity)]
    fn apply_tweak(
        key: KeyPackage<Self::Suite>,
        public: PublicKeyPackage<Self::Suite>,
        tweak: &Tweak,
    ) -> Result<(KeyPackage<Self::Suite>, PublicKeyPackage<Self::Suite>), SignError> {
        match tweak {
            Tweak::None => Ok((key, public)),
            Tweak::Taproot { .. } => Err(SignError::InvalidInput(format!("{} has no Taproot tweak", Self::ID))),
        }
    }

    /// The public key as the scheme publishes it.
    fn public_key_bytes(vk: &VerifyingKey<Self::Suite>) -> Result<Vec<u8>, SignError> {
        vk.serialize().map_err(|_| SignError::Bug("group key does not serialize"))
    }

    /// The signature as the scheme publishes it.
    fn signature_bytes(sig: &Signature<Self::Suite>) -> Result<Vec<u8>, SignError> {
        sig.serialize().map_err(|_| SignError::Bug("signature does not serialize"))
    }

    /// Verifies a published signature under a published public key (never panics).
    fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        let (Ok(vk), Ok(sig)) =
            (VerifyingKey::<Self::Suite>::deserialize(public_key), Signature::<Self::Suite>::deserialize(signature))
        else {
            return false;
        };
        vk.verify(message, &sig).is_ok()
    }
}

/// Threshold Ed25519: FROST(Ed25519, SHA-512); the signatures are standard RFC 8032 ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ed25519;

impl Scheme for Ed25519 {
    type Curve = conclave_math::Ed25519;
    type Suite = frost_ed25519::Ed25519Sha512;
    const ID: SchemeId = SchemeId::Ed25519;
    const PROTOCOL: &'static str = "conclave/frost-ed25519/v1";

    fn element(p: &curve25519_dalek::edwards::SubgroupPoint) -> curve25519_dalek::EdwardsPoint {
        (*p).into()
    }

    fn scalar(s: &curve25519_dalek::Scalar) -> curve25519_dalek::Scalar {
        *s
    }
}

/// FROST(secp256k1, SHA-256) exactly as RFC 9591 specifies it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Secp256k1;

impl Scheme for Secp256k1 {
    type Curve = conclave_math::Secp256k1;
    type Suite = frost_secp256k1::Secp256K1Sha256;
    const ID: SchemeId = SchemeId::Secp256k1;
    const PROTOCOL: &'static str = "conclave/frost-secp256k1/v1";

    fn element(p: &k256::ProjectivePoint) -> k256::ProjectivePoint {
        *p
    }

    fn scalar(s: &k256::Scalar) -> k256::Scalar {
        *s
    }
}

/// BIP-340 Schnorr signatures on secp256k1 (FROST with the BIP-340 challenge and even-Y
/// rules), with an optional BIP-341 Taproot tweak.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bip340;

impl Scheme for Bip340 {
    type Curve = conclave_math::Secp256k1;
    type Suite = frost_secp256k1_tr::Secp256K1Sha256TR;
    const ID: SchemeId = SchemeId::Bip340;
    const PROTOCOL: &'static str = "conclave/frost-bip340/v1";

    fn element(p: &k256::ProjectivePoint) -> k256::ProjectivePoint {
        *p
    }

    fn scalar(s: &k256::Scalar) -> k256::Scalar {
        *s
    }

    fn apply_tweak(
        key: KeyPackage<Self::Suite>,
        public: PublicKeyPackage<Self::Suite>,
        tweak: &Tweak,
    ) -> Result<(KeyPackage<Self::Suite>, PublicKeyPackage<Self::Suite>), SignError> {
        use frost_secp256k1_tr::keys::Tweak as _;
        match tweak {
            // Even-Y normalisation of the untweaked key happens inside the ciphersuite
            // (`pre_sign`, `pre_aggregate`, `pre_verify`).
            Tweak::None => Ok((key, public)),
            Tweak::Taproot { merkle_root } => {
                // Our own BIP-341 computation must agree with the ciphersuite's.
                let ours = taproot::output_key_for_point(&public.verifying_key().to_element(), merkle_root.as_ref())?;
                let key = key.tweak(merkle_root.as_ref());
                let public = public.tweak(merkle_root.as_ref());
                if Self::public_key_bytes(public.verifying_key())? != ours.output_key {
                    return Err(SignError::Bug("Taproot output keys disagree"));
                }
                Ok((key, public))
            }
        }
    }

    /// The x-only key (BIP-340): 32 bytes.
    fn public_key_bytes(vk: &VerifyingKey<Self::Suite>) -> Result<Vec<u8>, SignError> {
        let sec1 = vk.serialize().map_err(|_| SignError::Bug("group key does not serialize"))?;
        sec1.get(1..33).map(<[u8]>::to_vec).ok_or(SignError::Bug("group key encoding is not 33 bytes"))
    }

    /// BIP-340 verification of a 64-byte signature under a 32-byte x-only key.
    fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        let Ok(x): Result<[u8; 32], _> = public_key.try_into() else {
            return false;
        };
        // lift_x(x): the point with even Y (prefix 0x02); rejects x ≥ p and x not on the curve.
        let mut sec1 = [2u8; 33];
        if let Some(tail) = sec1.get_mut(1..) {
            tail.copy_from_slice(&x);
        }
        let (Ok(vk), Ok(sig)) =
            (VerifyingKey::<Self::Suite>::deserialize(&sec1), Signature::<Self::Suite>::deserialize(signature))
        else {
            return false;
        };
        vk.verify(message, &sig).is_ok()
    }
}

/// Verifies a signature of `scheme` (never panics).
pub fn verify(scheme: SchemeId, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    match scheme {
        SchemeId::Ed25519 => Ed25519::verify(public_key, message, signature),
        SchemeId::Secp256k1 => Secp256k1::verify(public_key, message, signature),
        SchemeId::Bip340 => Bip340::verify(public_key, message, signature),
    }
}
