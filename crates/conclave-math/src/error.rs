//! Error types of the math layer. None of them carries secret material.

/// Why a byte string could not be decoded into a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the value was complete.
    #[error("input too short: needed {needed} more bytes")]
    Truncated {
        /// How many more bytes were needed.
        needed: usize,
    },
    /// Bytes were left after the value was complete.
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// A length or count field exceeds what this field allows.
    #[error("length {len} exceeds the limit {max} for {what}")]
    TooLong {
        /// The field whose length was too large.
        what: &'static str,
        /// The length found.
        len: usize,
        /// The largest length allowed.
        max: usize,
    },
    /// The bytes have the wrong length for this type.
    #[error("wrong length for {what}: expected {expected}, found {found}")]
    WrongLength {
        /// The type being decoded.
        what: &'static str,
        /// The expected length.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// The encoding is not the canonical encoding of any point on the curve.
    #[error("not a canonical encoding of a point on {curve}")]
    InvalidPoint {
        /// The curve name.
        curve: &'static str,
    },
    /// The point is the identity, which is not allowed here.
    #[error("identity point is not allowed on {curve}")]
    IdentityPoint {
        /// The curve name.
        curve: &'static str,
    },
    /// The point is not in the prime-order subgroup (Ed25519 torsion).
    #[error("point is not in the prime-order subgroup of {curve}")]
    NotInSubgroup {
        /// The curve name.
        curve: &'static str,
    },
    /// The scalar is not the canonical encoding of an integer below the group order.
    #[error("non-canonical scalar for {curve}")]
    InvalidScalar {
        /// The curve name.
        curve: &'static str,
    },
    /// A tag or enum discriminant has no meaning.
    #[error("unknown {what} tag {tag}")]
    UnknownTag {
        /// The field being decoded.
        what: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A value is syntactically valid but violates a structural rule.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The field being decoded.
        what: &'static str,
        /// What rule it broke.
        reason: &'static str,
    },
}

/// Errors of arithmetic helpers (caller mistakes, never peer input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MathError {
    /// Interpolation points are not pairwise distinct.
    #[error("interpolation points are not distinct")]
    DuplicatePoints,
    /// An interpolation point is zero, which would reveal the secret.
    #[error("interpolation point is zero")]
    ZeroPoint,
    /// The requested index is not in the set.
    #[error("index {0} is not in the interpolation set")]
    IndexOutOfRange(usize),
    /// A threshold outside `1..=n`, or a polynomial with no coefficient.
    #[error("invalid threshold {threshold} for {parties} parties")]
    InvalidThreshold {
        /// The threshold asked for.
        threshold: usize,
        /// The number of parties.
        parties: usize,
    },
    /// The set of values is empty.
    #[error("empty input")]
    Empty,
}
