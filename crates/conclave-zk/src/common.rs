//! Shared pieces of the integer (Paillier / ring-Pedersen) proofs: transcript absorption and
//! wire encoding of big integers, and challenge derivation.
//!
//! Integers are encoded as `sign (0 = non-negative, 1 = negative) ‖ big-endian magnitude`
//! with no leading zero byte (zero is the sign byte alone). Inside the transcript every item
//! is length-prefixed, so this minimal encoding is unambiguous; on the wire it sits in a
//! length-prefixed byte string whose maximum length each proof states.

use conclave_math::codec::{Reader, Writer};
use conclave_math::{Curve, CurveId, DecodeError, Transcript};
use ff::PrimeField;
use rug::integer::Order;
use rug::Integer;

/// The canonical byte encoding of an integer.
pub fn integer_bytes(x: &Integer) -> Vec<u8> {
    let mut out = vec![u8::from(x.is_negative())];
    out.extend(x.as_abs().to_digits::<u8>(Order::Msf));
    out
}

/// Parses [`integer_bytes`], rejecting non-canonical forms (leading zeros, negative zero,
/// unknown sign byte).
pub fn integer_from_bytes(bytes: &[u8]) -> Result<Integer, DecodeError> {
    let (sign, magnitude) = bytes.split_first().ok_or(DecodeError::Truncated { needed: 1 })?;
    if magnitude.first() == Some(&0) {
        return Err(DecodeError::Invalid { what: "integer", reason: "leading zero byte" });
    }
    let m = Integer::from_digits(magnitude, Order::Msf);
    match sign {
        0 => Ok(m),
        1 if m != 0 => Ok(-m),
        1 => Err(DecodeError::Invalid { what: "integer", reason: "negative zero" }),
        tag => Err(DecodeError::UnknownTag { what: "integer sign", tag: *tag }),
    }
}

/// Writes an integer as a length-prefixed byte string.
pub fn write_integer(w: &mut Writer, x: &Integer) {
    w.bytes(&integer_bytes(x));
}

/// Reads an integer of at most `max_bits` bits of magnitude.
pub fn read_integer(r: &mut Reader<'_>, max_bits: u32) -> Result<Integer, DecodeError> {
    let max_len = 1 + (max_bits as usize).div_ceil(8);
    let bytes = r.bytes("integer", max_len)?;
    let x = integer_from_bytes(bytes)?;
    if x.significant_bits() > max_bits {
        return Err(DecodeError::TooLong {
            what: "integer bits",
            len: x.significant_bits() as usize,
            max: max_bits as usize,
        });
    }
    Ok(x)
}

/// Absorbs an integer into the transcript.
pub fn append_integer(t: &mut Transcript, label: &'static str, x: &Integer) {
    t.append_bytes(label, &integer_bytes(x));
}

/// A challenge integer uniform in `[0, bound)` (rejection sampling over challenge bytes;
/// `bound` must be positive).
pub fn challenge_below(t: &mut Transcript, label: &'static str, bound: &Integer) -> Integer {
    if *bound <= 1 {
        return Integer::ZERO;
    }
    let bits = bound.significant_bits();
    let len = (bits as usize).div_ceil(8);
    let excess = (len * 8) as u32 - bits;
    loop {
        let mut buf = vec![0u8; len];
        t.challenge_bytes(label, &mut buf);
        if let Some(first) = buf.first_mut() {
            *first &= 0xffu8 >> excess;
        }
        let x = Integer::from_digits(&buf, Order::Msf);
        if x < *bound {
            return x;
        }
    }
}

/// A challenge integer uniform in `[-bound, bound]`.
pub fn challenge_signed(t: &mut Transcript, label: &'static str, bound: &Integer) -> Integer {
    let width = Integer::from(bound * 2u32) + 1u32;
    challenge_below(t, label, &width) - bound
}

/// `m` challenge bits.
pub fn challenge_bits(t: &mut Transcript, label: &'static str, m: usize) -> Vec<bool> {
    let mut buf = vec![0u8; m.div_ceil(8)];
    t.challenge_bytes(label, &mut buf);
    (0..m).map(|i| buf.get(i / 8).is_some_and(|b| (b >> (i % 8)) & 1 == 1)).collect()
}

/// The group order `q` of curve `C` as an integer.
pub fn curve_order<C: Curve>() -> Integer {
    // q − 1 is the largest scalar; its encoding is canonical.
    let q_minus_1 = -<C::Scalar as ff::Field>::ONE;
    scalar_to_integer::<C>(&q_minus_1) + 1u32
}

/// A scalar as the integer in `[0, q)` it represents.
pub fn scalar_to_integer<C: Curve>(s: &C::Scalar) -> Integer {
    let repr = s.to_repr();
    let bytes = repr.as_ref();
    match C::ID {
        CurveId::Ed25519 => Integer::from_digits(bytes, Order::Lsf),
        CurveId::Secp256k1 | CurveId::P256 => Integer::from_digits(bytes, Order::Msf),
    }
}

/// An integer (possibly negative or ≥ q) reduced modulo `q` into a scalar.
pub fn integer_to_scalar<C: Curve>(x: &Integer) -> C::Scalar {
    let q = curve_order::<C>();
    let (_, reduced) = <(Integer, Integer)>::from(x.div_rem_euc_ref(&q));
    let mut digits = reduced.to_digits::<u8>(Order::Lsf);
    digits.resize(C::SCALAR_LEN, 0);
    if C::ID != CurveId::Ed25519 {
        digits.reverse();
    }
    // `reduced < q`, so the canonical decoding cannot fail; fall back to zero defensively.
    C::decode_scalar(&digits).unwrap_or(<C::Scalar as ff::Field>::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn integer_encoding_roundtrips_and_is_canonical() {
        for x in [Integer::ZERO, Integer::from(1), Integer::from(-1), Integer::from(255), Integer::from(-65536)] {
            assert_eq!(integer_from_bytes(&integer_bytes(&x)).unwrap(), x);
        }
        assert!(integer_from_bytes(&[]).is_err());
        assert!(integer_from_bytes(&[0, 0, 1]).is_err());
        assert!(integer_from_bytes(&[1]).is_err());
        assert!(integer_from_bytes(&[2, 1]).is_err());
        let mut w = Writer::new();
        write_integer(&mut w, &Integer::from(1000));
        let bytes = w.into_bytes();
        assert!(read_integer(&mut Reader::new(&bytes), 8).is_err());
        assert_eq!(read_integer(&mut Reader::new(&bytes), 10).unwrap(), 1000);
    }

    #[test]
    fn challenges_are_in_range() {
        let mut t = Transcript::new("test");
        let bound = Integer::from(1000);
        for _ in 0..200 {
            let c = challenge_below(&mut t, "c", &bound);
            assert!(c >= 0 && c < bound);
            let s = challenge_signed(&mut t, "s", &bound);
            assert!(s >= -bound.clone() && s <= bound);
        }
        let bits = challenge_bits(&mut t, "b", 128);
        assert_eq!(bits.len(), 128);
        assert!(bits.iter().any(|b| *b) && bits.iter().any(|b| !*b));
    }

    #[test]
    fn scalar_integer_conversions() {
        use conclave_math::{Ed25519, Secp256k1, P256};
        fn check<C: Curve>(q_hex: &str) {
            let q = Integer::from_str_radix(q_hex, 16).unwrap();
            assert_eq!(curve_order::<C>(), q);
            for v in [0i64, 1, 2, 1 << 40, -1, -7] {
                let s = integer_to_scalar::<C>(&Integer::from(v));
                let back = scalar_to_integer::<C>(&s);
                assert_eq!(back, <(Integer, Integer)>::from(Integer::from(v).div_rem_euc_ref(&q)).1);
            }
            let big = Integer::from(&q * 3u32) + 5u32;
            assert_eq!(scalar_to_integer::<C>(&integer_to_scalar::<C>(&big)), 5);
            assert_eq!(integer_to_scalar::<C>(&Integer::from(5)), C::Scalar::from(5u64));
        }
        check::<Secp256k1>("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
        check::<P256>("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
        check::<Ed25519>("1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed");
    }

    proptest! {
        #[test]
        fn integer_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = integer_from_bytes(&bytes);
            let _ = read_integer(&mut Reader::new(&bytes), 256);
        }
    }
}
