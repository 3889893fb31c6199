//! The error type of this crate.

/// Everything that can go wrong in this crate.
///
/// No variant carries a secret: only static descriptions and public sizes.
/// Variants fall into the three classes of the design guide: the caller's or a peer's bad input
/// (every variant but [`PaillierError::Bug`]), and our own fault ([`PaillierError::Bug`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaillierError {
    /// A modulus has fewer bits than the security floor.
    #[error("modulus has {bits} bits, at least {min} are required")]
    ModulusTooSmall {
        /// Bit length of the received modulus (public).
        bits: u32,
        /// The floor that was enforced.
        min: u32,
    },
    /// A modulus has more bits than this crate accepts (denial-of-service guard).
    #[error("modulus has {bits} bits, at most {max} are accepted")]
    ModulusTooLarge {
        /// Bit length of the received modulus (public).
        bits: u32,
        /// The ceiling that was enforced.
        max: u32,
    },
    /// A modulus is malformed (even, a perfect square, ...).
    #[error("invalid modulus: {0}")]
    InvalidModulus(&'static str),
    /// An integer lies outside the range its role allows.
    #[error("value out of range: {0}")]
    OutOfRange(&'static str),
    /// A value that must be a unit (coprime to the modulus) is not.
    #[error("value is not invertible: {0}")]
    NotInvertible(&'static str),
    /// A prime supplied as a safe prime is not one, or has the wrong size.
    #[error("not a safe prime of the required size")]
    NotSafePrime,
    /// The two primes of a key are equal.
    #[error("the two primes are equal")]
    EqualPrimes,
    /// A byte or text encoding could not be decoded.
    #[error("malformed encoding: {0}")]
    Malformed(&'static str),
    /// An encoding names a format version this build does not know.
    #[error("unsupported format version")]
    UnsupportedVersion,
    /// A parameter given by the caller is out of the supported range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(&'static str),
    /// The prime pool does not hold enough primes.
    #[error("prime pool exhausted")]
    PoolExhausted,
    /// Rejection sampling did not succeed within its bound (only with a broken RNG).
    #[error("sampling failed: the random source looks broken")]
    SamplingFailed,
    /// An internal invariant failed: a bug in this crate.
    #[error("internal error: {0}")]
    Bug(&'static str),
}
