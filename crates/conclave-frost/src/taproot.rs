//! BIP-341 Taproot key tweaking, written from the BIP (independently of the ciphersuite's
//! implementation, which the signing protocol cross-checks against this one).
//!
//! `t = int(H_TapTweak(x(P) ‖ merkle_root))` (fail if `t ≥ n`), `Q = lift_x(x(P)) + t·G`
//! (fail if `Q` is the point at infinity); the output key is `x(Q)`, with the parity of
//! `y(Q)` kept for the script-path control block.

use k256::elliptic_curve::group::{Group, GroupEncoding};
use k256::elliptic_curve::PrimeField;
use k256::{ProjectivePoint, Scalar};
use sha2::{Digest, Sha256};

use crate::error::SignError;

/// A BIP-340 tagged hash: `SHA256(SHA256(tag) ‖ SHA256(tag) ‖ data)`.
pub fn tagged_hash(tag: &str, parts: &[&[u8]]) -> [u8; 32] {
    let tag_hash = Sha256::digest(tag.as_bytes());
    let mut h = Sha256::new();
    h.update(tag_hash);
    h.update(tag_hash);
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// A Taproot output key and how it was derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaprootOutput {
    /// `x(P)`, the internal key (x-only).
    pub internal_key: [u8; 32],
    /// `t`, big-endian.
    pub tweak: [u8; 32],
    /// `x(Q)`, the output key that goes into the `scriptPubKey` (`OP_1 <x(Q)>`).
    pub output_key: [u8; 32],
    /// Whether `y(Q)` is odd (the control block's parity bit).
    pub output_key_odd: bool,
}

/// `lift_x(x)`: the point with x-coordinate `x` and even Y, if there is one (`x < p`).
pub fn lift_x(x: &[u8; 32]) -> Option<ProjectivePoint> {
    let mut sec1 = [2u8; 33];
    sec1.get_mut(1..)?.copy_from_slice(x);
    let repr = k256::CompressedPoint::from(sec1);
    Option::from(ProjectivePoint::from_bytes(&repr)).filter(|p: &ProjectivePoint| !bool::from(p.is_identity()))
}

fn sec1(p: &ProjectivePoint) -> Option<(bool, [u8; 32])> {
    let bytes = p.to_bytes();
    let odd = match bytes.first()? {
        2 => false,
        3 => true,
        _ => return None,
    };
    let x: [u8; 32] = bytes.get(1..33)?.try_into().ok()?;
    Some((odd, x))
}

/// The Taproot output key for an x-only internal key.
pub fn output_key(internal_key: &[u8; 32], merkle_root: Option<&[u8; 32]>) -> Result<TaprootOutput, SignError> {
    let p = lift_x(internal_key)
        .ok_or_else(|| SignError::InvalidInput("internal key is not an x-coordinate on secp256k1".into()))?;
    let tweak = match merkle_root {
        Some(root) => tagged_hash("TapTweak", &[internal_key, root]),
        None => tagged_hash("TapTweak", &[internal_key]),
    };
    let t: Scalar = Option::from(Scalar::from_repr(tweak.into()))
        .ok_or_else(|| SignError::InvalidInput("TapTweak is not below the group order".into()))?;
    let q = p + ProjectivePoint::GENERATOR * t;
    let (output_key_odd, output_key) =
        sec1(&q).ok_or_else(|| SignError::InvalidInput("tweaked key is the point at infinity".into()))?;
    Ok(TaprootOutput { internal_key: *internal_key, tweak, output_key, output_key_odd })
}

/// The Taproot output key for a group key `P` (only `x(P)` matters, as BIP-341 says).
pub fn output_key_for_point(
    group_key: &ProjectivePoint,
    merkle_root: Option<&[u8; 32]>,
) -> Result<TaprootOutput, SignError> {
    let (_, x) = sec1(group_key).ok_or_else(|| SignError::InvalidInput("group key is the point at infinity".into()))?;
    output_key(&x, merkle_root)
}

/// `OP_1 <x(Q)>`: the segwit v1 `scriptPubKey` of an output key.
pub fn script_pubkey(output_key: &[u8; 32]) -> Vec<u8> {
    let mut s = vec![0x51, 0x20];
    s.extend_from_slice(output_key);
    s
}
