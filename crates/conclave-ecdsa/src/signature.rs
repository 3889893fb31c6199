//! ECDSA signatures on the curves Conclave signs with.
//!
//! A signature leaves Conclave only low-S normalised (Bitcoin and Ethereum require it; it is
//! harmless elsewhere) and verified against the public key (SECURITY.md item 19). Encodings and
//! verification come from RustCrypto's `ecdsa` implementations, not from our own code.

use conclave_math::{Curve, Secp256k1, P256};
use ff::{Field, PrimeField};
use group::GroupEncoding;

/// An ECDSA signature `(r, s)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature<C: Curve> {
    /// `r = x(R) mod q`.
    pub r: C::Scalar,
    /// `s = k (m + r x) mod q`.
    pub s: C::Scalar,
}

/// Curves Conclave signs ECDSA on.
pub trait EcdsaCurve: Curve {
    /// `x(P) mod q`, and whether `x(P) ≥ q` (recovery id bit 1).
    fn x_mod_q(point: &Self::Point) -> (Self::Scalar, bool);
    /// Whether `y(P)` is odd (recovery id bit 0).
    fn y_is_odd(point: &Self::Point) -> bool;
    /// DER encoding of `(r, s)`.
    fn der(sig: &Signature<Self>) -> Option<Vec<u8>>;
    /// Verification of a signature over a 32-byte digest by the RustCrypto implementation.
    fn verify_prehash(public_key: &Self::Point, digest: &[u8; 32], sig: &Signature<Self>) -> bool;
    /// Whether `s` is in the upper half of the scalar field.
    fn is_high(s: &Self::Scalar) -> bool;
    /// Parses a strict-DER `SEQUENCE { r, s }` with `0 < r, s < q` (RustCrypto's parser).
    fn parse_der(der: &[u8]) -> Option<Signature<Self>>;
    /// Parses a SEC1 public key, compressed or uncompressed (for keys from outside Conclave:
    /// approvers, KMS verification); rejects off-curve points and the identity.
    fn parse_sec1(bytes: &[u8]) -> Option<Self::Point>;
}

/// `bits2int(digest) mod q` for a 256-bit digest and a 256-bit curve.
pub fn digest_scalar<C: Curve>(digest: &[u8; 32]) -> C::Scalar {
    let mut wide = [0u8; 64];
    wide[32..].copy_from_slice(digest);
    C::scalar_from_wide(&wide)
}

fn x_from_compressed<C: Curve>(point: &C::Point) -> (C::Scalar, bool) {
    let enc = point.to_bytes();
    let bytes = enc.as_ref();
    let mut wide = [0u8; 64];
    if let (Some(dst), Some(src)) = (wide.get_mut(32..), bytes.get(1..33)) {
        dst.copy_from_slice(src);
    }
    let reduced = C::scalar_from_wide(&wide);
    // x ≥ q exactly when the canonical encoding of x mod q differs from x.
    let overflow = C::encode_scalar(&reduced).as_slice() != bytes.get(1..33).unwrap_or_default();
    (reduced, overflow)
}

macro_rules! ecdsa_curve {
    ($curve:ty, $krate:ident) => {
        impl EcdsaCurve for $curve {
            fn x_mod_q(point: &Self::Point) -> (Self::Scalar, bool) {
                x_from_compressed::<Self>(point)
            }

            fn y_is_odd(point: &Self::Point) -> bool {
                <Self as Curve>::encode_point(point).first() == Some(&3)
            }

            fn der(sig: &Signature<Self>) -> Option<Vec<u8>> {
                let s = $krate::ecdsa::Signature::from_scalars(sig.r.to_repr(), sig.s.to_repr()).ok()?;
                Some(s.to_der().as_bytes().to_vec())
            }

            fn verify_prehash(public_key: &Self::Point, digest: &[u8; 32], sig: &Signature<Self>) -> bool {
                use $krate::ecdsa::signature::hazmat::PrehashVerifier;
                let Ok(vk) = $krate::ecdsa::VerifyingKey::from_affine(public_key.to_affine()) else {
                    return false;
                };
                let Ok(s) = $krate::ecdsa::Signature::from_scalars(sig.r.to_repr(), sig.s.to_repr()) else {
                    return false;
                };
                vk.verify_prehash(digest, &s).is_ok()
            }

            fn parse_der(der: &[u8]) -> Option<Signature<Self>> {
                let sig = $krate::ecdsa::Signature::from_der(der).ok()?;
                let (r, s) = sig.split_scalars();
                Some(Signature { r: *r, s: *s })
            }

            fn parse_sec1(bytes: &[u8]) -> Option<Self::Point> {
                let pk = $krate::PublicKey::from_sec1_bytes(bytes).ok()?;
                Some(pk.to_projective())
            }

            fn is_high(s: &Self::Scalar) -> bool {
                use $krate::elliptic_curve::scalar::IsHigh;
                bool::from(IsHigh::is_high(s))
            }
        }
    };
}

ecdsa_curve!(Secp256k1, k256);
ecdsa_curve!(P256, p256);

impl<C: EcdsaCurve> Signature<C> {
    /// The signature with `s` replaced by `q − s` when `s > q/2`, and whether it was.
    pub fn normalize_s(self) -> (Self, bool) {
        if C::is_high(&self.s) {
            (Self { r: self.r, s: -self.s }, true)
        } else {
            (self, false)
        }
    }

    /// DER `SEQUENCE { r, s }`.
    pub fn to_der(&self) -> Vec<u8> {
        C::der(self).unwrap_or_default()
    }

    /// `r ‖ s`, 32 bytes each, big-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = C::encode_scalar(&self.r);
        out.extend(C::encode_scalar(&self.s));
        out
    }

    /// Verifies over a digest (RustCrypto's verifier; rejects r or s equal to zero). Both
    /// halves of `s` are accepted, as ECDSA defines it (`k256` alone insists on low S; the
    /// Bitcoin rule is [`verify_der`]'s `require_low_s`).
    pub fn verify(&self, public_key: &C::Point, digest: &[u8; 32]) -> bool {
        let (low, _) = self.normalize_s();
        !bool::from(low.r.is_zero()) && !bool::from(low.s.is_zero()) && C::verify_prehash(public_key, digest, &low)
    }
}

/// Verifies a DER signature over `digest` (the path signatures from outside Conclave take).
/// With `require_low_s`, a signature with `s > q/2` is rejected (Bitcoin's rule).
pub fn verify_der<C: EcdsaCurve>(public_key: &C::Point, digest: &[u8; 32], der: &[u8], require_low_s: bool) -> bool {
    match C::parse_der(der) {
        Some(sig) => (!require_low_s || !C::is_high(&sig.s)) && sig.verify(public_key, digest),
        None => false,
    }
}

/// The recovery id (`v − 27` in Ethereum's legacy encoding) of a signature whose nonce point is
/// `big_r`, after low-S normalisation flipped `s` or not.
pub fn recovery_id<C: EcdsaCurve>(big_r: &C::Point, s_flipped: bool) -> u8 {
    let (_, overflow) = C::x_mod_q(big_r);
    u8::from(C::y_is_odd(big_r) ^ s_flipped) | (u8::from(overflow) << 1)
}

/// A plain (single-key) ECDSA signature for tests and reference: `(r, s)` from nonce `k`.
#[doc(hidden)]
pub fn sign_with_nonce_for_testing<C: EcdsaCurve>(
    x: &C::Scalar,
    k: &C::Scalar,
    digest: &[u8; 32],
) -> Option<(Signature<C>, u8)> {
    let big_r = C::mul_base(k);
    let (r, _) = C::x_mod_q(&big_r);
    let k_inv: Option<C::Scalar> = k.invert().into();
    let s = k_inv? * (digest_scalar::<C>(digest) + r * x);
    let (sig, flipped) = Signature::<C> { r, s }.normalize_s();
    Some((sig, recovery_id::<C>(&big_r, flipped)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn roundtrip<C: EcdsaCurve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for _ in 0..20 {
            let x = C::random_nonzero_scalar(&mut rng);
            let k = C::random_nonzero_scalar(&mut rng);
            let digest = [7u8; 32];
            let (sig, _) = sign_with_nonce_for_testing::<C>(&x, &k, &digest).unwrap();
            assert!(!C::is_high(&sig.s));
            let pk = C::mul_base(&x);
            assert!(sig.verify(&pk, &digest));
            assert!(!sig.verify(&pk, &[8u8; 32]));
            let high = Signature::<C> { r: sig.r, s: -sig.s };
            assert!(high.normalize_s().1);
            assert_eq!(high.normalize_s().0, sig);
            let der = sig.to_der();
            assert_eq!(der.first(), Some(&0x30));
        }
    }

    #[test]
    fn sign_verify_der() {
        roundtrip::<Secp256k1>();
        roundtrip::<P256>();
    }
}
