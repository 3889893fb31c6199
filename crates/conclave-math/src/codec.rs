//! The canonical binary codec of every Conclave wire message.
//!
//! Fixed-width integers are big-endian; byte strings and sequences carry a `u32` length
//! prefix checked against a per-field limit *before* anything is allocated; points and
//! scalars have the fixed length of their curve and go through the validating decoders of
//! [`Curve`]. A message decodes only if every byte is consumed. Decoding never panics.

use crate::curve::Curve;
use crate::error::DecodeError;

/// Upper bound on any sequence length on the wire (parties, coefficients, entries).
pub const MAX_SEQUENCE: usize = 1 << 12;
/// Upper bound on any byte string on the wire (1 MiB).
pub const MAX_BYTES: usize = 1 << 20;

/// Appends canonical encodings to a buffer.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// A big-endian `u16`.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A big-endian `u32`.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A big-endian `u64`.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Bytes of a length known to both sides (no prefix).
    pub fn fixed(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }

    /// A length-prefixed byte string.
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.len(v.len());
        self.buf.extend_from_slice(v);
        self
    }

    /// A sequence length.
    pub fn len(&mut self, n: usize) -> &mut Self {
        // Lengths above u32::MAX are never produced by Conclave; saturate rather than wrap so a
        // bug cannot produce an ambiguous encoding.
        self.u32(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// A point in its curve's canonical encoding.
    pub fn point<C: Curve>(&mut self, p: &C::Point) -> &mut Self {
        let enc = C::encode_point(p);
        self.fixed(&enc)
    }

    /// A length-prefixed sequence of points.
    pub fn points<C: Curve>(&mut self, ps: &[C::Point]) -> &mut Self {
        self.len(ps.len());
        for p in ps {
            self.point::<C>(p);
        }
        self
    }

    /// A scalar in its curve's canonical encoding.
    pub fn scalar<C: Curve>(&mut self, s: &C::Scalar) -> &mut Self {
        let enc = C::encode_scalar(s);
        self.fixed(&enc)
    }

    /// Any encodable value.
    pub fn put<T: Encode + ?Sized>(&mut self, v: &T) -> &mut Self {
        v.encode(self);
        self
    }
}

/// Reads canonical encodings from a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Fails unless every byte was consumed.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes(self.buf.len()))
        }
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated { needed: n - self.buf.len() });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Takes an array of `N` bytes.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    /// A big-endian `u16`.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// A big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A sequence length of elements at least `min_elem` bytes long, at most `max`.
    ///
    /// Rejects lengths whose elements could not possibly fit in the remaining input, so a
    /// forged length never causes a large allocation.
    pub fn len(&mut self, what: &'static str, max: usize, min_elem: usize) -> Result<usize, DecodeError> {
        let n = usize::try_from(self.u32()?).unwrap_or(usize::MAX);
        if n > max {
            return Err(DecodeError::TooLong { what, len: n, max });
        }
        let need = n.saturating_mul(min_elem);
        if need > self.buf.len() {
            return Err(DecodeError::Truncated { needed: need - self.buf.len() });
        }
        Ok(n)
    }

    /// A length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let n = self.len(what, max, 1)?;
        self.take(n)
    }

    /// A point, validated by [`Curve::decode_point`].
    pub fn point<C: Curve>(&mut self) -> Result<C::Point, DecodeError> {
        C::decode_point(self.take(C::POINT_LEN)?)
    }

    /// A length-prefixed sequence of validated points.
    pub fn points<C: Curve>(&mut self) -> Result<Vec<C::Point>, DecodeError> {
        let n = self.len("points", MAX_SEQUENCE, C::POINT_LEN)?;
        (0..n).map(|_| self.point::<C>()).collect()
    }

    /// A scalar, validated by [`Curve::decode_scalar`].
    pub fn scalar<C: Curve>(&mut self) -> Result<C::Scalar, DecodeError> {
        C::decode_scalar(self.take(C::SCALAR_LEN)?)
    }

    /// Any decodable value.
    pub fn get<T: Decode>(&mut self) -> Result<T, DecodeError> {
        T::decode(self)
    }
}

/// A value with a canonical encoding.
pub trait Encode {
    /// Appends the encoding.
    fn encode(&self, w: &mut Writer);

    /// The encoding as a fresh byte vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.into_bytes()
    }
}

/// A value that can be decoded from its canonical encoding.
pub trait Decode: Sized {
    /// Reads the value; the reader may have bytes left.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decodes a complete byte string: every byte must be consumed.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

impl<const N: usize> Encode for [u8; N] {
    fn encode(&self, w: &mut Writer) {
        w.fixed(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.array()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secp256k1;
    use proptest::prelude::*;

    #[test]
    fn lengths_are_bounded_before_allocation() {
        let mut w = Writer::new();
        w.u32(u32::MAX);
        let bytes = w.into_bytes();
        assert!(matches!(Reader::new(&bytes).points::<Secp256k1>(), Err(DecodeError::TooLong { .. })));
        let mut w = Writer::new();
        w.u32(100);
        let bytes = w.into_bytes();
        assert!(matches!(Reader::new(&bytes).points::<Secp256k1>(), Err(DecodeError::Truncated { .. })));
    }

    #[test]
    fn trailing_bytes_rejected() {
        assert_eq!(<[u8; 2]>::from_bytes(&[1, 2, 3]), Err(DecodeError::TrailingBytes(1)));
        assert_eq!(<[u8; 2]>::from_bytes(&[1, 2]), Ok([1, 2]));
    }

    proptest! {
        #[test]
        fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut r = Reader::new(&bytes);
            let _ = r.points::<Secp256k1>();
            let mut r = Reader::new(&bytes);
            let _ = r.bytes("x", 64);
            let _ = r.scalar::<Secp256k1>();
            let _ = r.u64();
        }
    }
}
