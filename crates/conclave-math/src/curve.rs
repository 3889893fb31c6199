//! One trait over the three curves Conclave signs with.
//!
//! Every decoder here is *validating and canonical*: a byte string decodes only if it is the
//! exact encoding this crate would produce for a valid value. Points are rejected when they
//! are off the curve, use a non-canonical coordinate or sign bit, are the identity, or (on
//! Ed25519) lie outside the prime-order subgroup. Scalars are rejected unless they encode an
//! integer strictly below the group order.

use core::fmt::Debug;

use ff::{Field, PrimeField};
use group::{Group, GroupEncoding};
use rand_core::CryptoRngCore;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::error::DecodeError;

/// A stable identifier of a curve, used on the wire and in transcripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CurveId {
    /// secp256k1 (Bitcoin, Ethereum).
    Secp256k1,
    /// NIST P-256 (secp256r1).
    P256,
    /// Edwards25519 (Ed25519), restricted to its prime-order subgroup.
    Ed25519,
}

impl CurveId {
    /// The canonical lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            CurveId::Secp256k1 => "secp256k1",
            CurveId::P256 => "p256",
            CurveId::Ed25519 => "ed25519",
        }
    }

    /// The byte used for this curve in wire encodings.
    pub const fn tag(self) -> u8 {
        match self {
            CurveId::Secp256k1 => 1,
            CurveId::P256 => 2,
            CurveId::Ed25519 => 3,
        }
    }

    /// Inverse of [`CurveId::tag`].
    pub fn from_tag(tag: u8) -> Result<Self, DecodeError> {
        match tag {
            1 => Ok(CurveId::Secp256k1),
            2 => Ok(CurveId::P256),
            3 => Ok(CurveId::Ed25519),
            tag => Err(DecodeError::UnknownTag { what: "curve", tag }),
        }
    }
}

impl core::fmt::Display for CurveId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A prime-order group Conclave can share keys on.
///
/// `Scalar` arithmetic and scalar multiplication of the backing crates are constant-time;
/// functions of this trait that are not end in `_vartime`.
pub trait Curve: 'static + Copy + Clone + Debug + Default + PartialEq + Eq + Send + Sync {
    /// Which curve this is.
    const ID: CurveId;
    /// Length of an encoded point.
    const POINT_LEN: usize;
    /// Length of an encoded scalar.
    const SCALAR_LEN: usize;

    /// Integers modulo the group order.
    type Scalar: PrimeField + ConstantTimeEq + Zeroize + Debug + Send + Sync;
    /// Group elements.
    type Point: Group<Scalar = Self::Scalar> + GroupEncoding + Copy + Debug + Eq + Send + Sync;

    /// The canonical encoding of a point (SEC1 compressed for the Weierstrass curves,
    /// RFC 8032 for Ed25519).
    fn encode_point(point: &Self::Point) -> Vec<u8> {
        point.to_bytes().as_ref().to_vec()
    }

    /// Decodes a point, rejecting every non-canonical, off-curve, identity or (Ed25519)
    /// small-order or torsioned encoding.
    fn decode_point(bytes: &[u8]) -> Result<Self::Point, DecodeError> {
        let mut repr = <Self::Point as GroupEncoding>::Repr::default();
        if repr.as_ref().len() != bytes.len() {
            return Err(DecodeError::WrongLength { what: "point", expected: repr.as_ref().len(), found: bytes.len() });
        }
        repr.as_mut().copy_from_slice(bytes);
        let point: Self::Point =
            Option::from(Self::Point::from_bytes(&repr)).ok_or(DecodeError::InvalidPoint { curve: Self::ID.name() })?;
        if bool::from(point.is_identity()) {
            return Err(DecodeError::IdentityPoint { curve: Self::ID.name() });
        }
        // Canonicality: the only accepted encoding is the one we would produce.
        if point.to_bytes().as_ref() != bytes {
            return Err(DecodeError::InvalidPoint { curve: Self::ID.name() });
        }
        Ok(point)
    }

    /// The canonical encoding of a scalar (big-endian for the Weierstrass curves,
    /// little-endian for Ed25519, as each curve's standards use).
    fn encode_scalar(scalar: &Self::Scalar) -> Vec<u8> {
        scalar.to_repr().as_ref().to_vec()
    }

    /// Decodes a scalar, rejecting encodings of integers not below the group order.
    fn decode_scalar(bytes: &[u8]) -> Result<Self::Scalar, DecodeError> {
        let mut repr = <Self::Scalar as PrimeField>::Repr::default();
        if repr.as_ref().len() != bytes.len() {
            return Err(DecodeError::WrongLength { what: "scalar", expected: repr.as_ref().len(), found: bytes.len() });
        }
        repr.as_mut().copy_from_slice(bytes);
        Option::from(Self::Scalar::from_repr(repr)).ok_or(DecodeError::InvalidScalar { curve: Self::ID.name() })
    }

    /// Reduces a 64-byte big-endian integer modulo the group order. With a uniformly random
    /// input the result is within 2^-256 of uniform.
    fn scalar_from_wide(bytes: &[u8; 64]) -> Self::Scalar {
        // Horner's rule in 64-bit limbs: constant-time field arithmetic, exact reduction.
        let two_64 = Self::Scalar::from(u64::MAX) + Self::Scalar::ONE;
        let mut acc = Self::Scalar::ZERO;
        for chunk in bytes.chunks_exact(8) {
            let mut limb = [0u8; 8];
            limb.copy_from_slice(chunk);
            acc = acc * two_64 + Self::Scalar::from(u64::from_be_bytes(limb));
        }
        acc
    }

    /// A uniformly random scalar.
    fn random_scalar(rng: &mut dyn CryptoRngCore) -> Self::Scalar {
        let mut wide = [0u8; 64];
        rng.fill_bytes(&mut wide);
        let s = Self::scalar_from_wide(&wide);
        wide.zeroize();
        s
    }

    /// A uniformly random non-zero scalar.
    fn random_nonzero_scalar(rng: &mut dyn CryptoRngCore) -> Self::Scalar {
        loop {
            let s = Self::random_scalar(rng);
            if !bool::from(s.is_zero()) {
                return s;
            }
        }
    }

    /// The standard generator.
    fn generator() -> Self::Point {
        Self::Point::generator()
    }

    /// `s · G`, constant-time in `s`.
    fn mul_base(s: &Self::Scalar) -> Self::Point {
        Self::Point::generator() * *s
    }
}

/// secp256k1 through RustCrypto's `k256`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Secp256k1;

impl Curve for Secp256k1 {
    const ID: CurveId = CurveId::Secp256k1;
    const POINT_LEN: usize = 33;
    const SCALAR_LEN: usize = 32;
    type Scalar = k256::Scalar;
    type Point = k256::ProjectivePoint;
}

/// NIST P-256 through RustCrypto's `p256`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct P256;

impl Curve for P256 {
    const ID: CurveId = CurveId::P256;
    const POINT_LEN: usize = 33;
    const SCALAR_LEN: usize = 32;
    type Scalar = p256::Scalar;
    type Point = p256::ProjectivePoint;
}

/// Ed25519's prime-order subgroup through `curve25519-dalek`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ed25519;

impl Curve for Ed25519 {
    const ID: CurveId = CurveId::Ed25519;
    const POINT_LEN: usize = 32;
    const SCALAR_LEN: usize = 32;
    type Scalar = curve25519_dalek::Scalar;
    type Point = curve25519_dalek::edwards::SubgroupPoint;

    // `SubgroupPoint::from_bytes` decompresses and keeps only torsion-free points, so every
    // small-order point but the identity (rejected by `decode_point`) and every point with a
    // torsion component fails there: no second check is needed.
}

/// Runs `$body` with `$C` bound to the curve type named by a [`CurveId`] value.
#[macro_export]
macro_rules! with_curve {
    ($id:expr, $C:ident => $body:expr) => {
        match $id {
            $crate::CurveId::Secp256k1 => {
                type $C = $crate::Secp256k1;
                $body
            }
            $crate::CurveId::P256 => {
                type $C = $crate::P256;
                $body
            }
            $crate::CurveId::Ed25519 => {
                type $C = $crate::Ed25519;
                $body
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn roundtrip<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for _ in 0..20 {
            let s = C::random_nonzero_scalar(&mut rng);
            let p = C::mul_base(&s);
            let enc = C::encode_point(&p);
            assert_eq!(enc.len(), C::POINT_LEN);
            assert_eq!(C::decode_point(&enc).unwrap(), p);
            let senc = C::encode_scalar(&s);
            assert_eq!(senc.len(), C::SCALAR_LEN);
            assert_eq!(C::decode_scalar(&senc).unwrap(), s);
        }
    }

    #[test]
    fn roundtrips() {
        roundtrip::<Secp256k1>();
        roundtrip::<P256>();
        roundtrip::<Ed25519>();
    }

    fn rejects_identity_and_garbage<C: Curve>() {
        let id = C::encode_point(&C::Point::identity());
        assert!(C::decode_point(&id).is_err());
        assert!(C::decode_point(&vec![0u8; C::POINT_LEN]).is_err());
        assert!(C::decode_point(&vec![0xffu8; C::POINT_LEN]).is_err());
        assert!(C::decode_point(&[]).is_err());
        assert!(matches!(C::decode_point(&vec![2u8; C::POINT_LEN + 1]), Err(DecodeError::WrongLength { .. })));
        // The all-ones scalar is above every one of these group orders.
        assert!(matches!(C::decode_scalar(&[0xffu8; 32]), Err(DecodeError::InvalidScalar { .. })));
    }

    #[test]
    fn rejects_identity_and_garbage_all_curves() {
        rejects_identity_and_garbage::<Secp256k1>();
        rejects_identity_and_garbage::<P256>();
        rejects_identity_and_garbage::<Ed25519>();
    }

    #[test]
    fn weierstrass_rejects_uncompressed_and_bad_tags() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let p = Secp256k1::mul_base(&Secp256k1::random_nonzero_scalar(&mut rng));
        let mut enc = Secp256k1::encode_point(&p);
        enc[0] = 4;
        assert!(Secp256k1::decode_point(&enc).is_err());
        enc[0] = 5;
        assert!(Secp256k1::decode_point(&enc).is_err());
        // x = field prime p (non-canonical, >= p) is rejected.
        let mut over = vec![2u8];
        over.extend(hex_literal("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f").iter());
        assert!(Secp256k1::decode_point(&over).is_err());
    }

    fn hex_literal(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn scalar_order_is_rejected() {
        // The group order n itself is not canonical.
        let n_k1 = hex_literal("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
        assert!(Secp256k1::decode_scalar(&n_k1).is_err());
        let mut n_minus_1 = n_k1.clone();
        n_minus_1[31] -= 1;
        assert!(Secp256k1::decode_scalar(&n_minus_1).is_ok());
        let n_p256 = hex_literal("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
        assert!(P256::decode_scalar(&n_p256).is_err());
        // ℓ for Ed25519, little-endian.
        let mut l = hex_literal("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
        assert!(Ed25519::decode_scalar(&l).is_err());
        l[0] -= 1;
        assert!(Ed25519::decode_scalar(&l).is_ok());
    }

    #[test]
    fn ed25519_rejects_small_order_and_torsion() {
        // The eight small-order points (canonical encodings) are all rejected.
        let small = [
            "0100000000000000000000000000000000000000000000000000000000000000",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000080",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        ];
        for s in small {
            assert!(Ed25519::decode_point(&hex_literal(s)).is_err(), "{s}");
        }
        // A prime-order point plus a torsion point is rejected.
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let p = Ed25519::mul_base(&Ed25519::random_nonzero_scalar(&mut rng));
        let torsion = curve25519_dalek::edwards::CompressedEdwardsY(hex_literal(small[4]).try_into().unwrap())
            .decompress()
            .unwrap();
        let mixed = curve25519_dalek::EdwardsPoint::from(p) + torsion;
        assert!(matches!(
            Ed25519::decode_point(mixed.compress().as_bytes()),
            Err(DecodeError::NotInSubgroup { .. }) | Err(DecodeError::InvalidPoint { .. })
        ));
        // Non-canonical y (y + p where y < 19) is rejected: y = 1 encoded as p + 1.
        let non_canonical = hex_literal("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        assert!(Ed25519::decode_point(&non_canonical).is_err());
    }

    #[test]
    fn wide_reduction_matches_reference() {
        // 2^256 mod n for secp256k1 equals 2^256 - n = 0x14551231950b75fc4402da1732fc9bebf.
        let mut wide = [0u8; 64];
        wide[31] = 1; // 2^256 in big-endian 64 bytes
        let s = Secp256k1::scalar_from_wide(&wide);
        let expected = hex_literal("000000000000000000000000000000014551231950b75fc4402da1732fc9bebf");
        assert_eq!(Secp256k1::encode_scalar(&s), expected);
    }
}
