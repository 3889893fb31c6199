//! A pool of safe primes, filled ahead of time and persisted in a versioned text format.
//!
//! # Format, version 1
//!
//! ASCII text, lines ended by `\n`, nothing else (no `\r`, no blank lines, no comments):
//!
//! ```text
//! conclave-safe-prime-pool v1
//! bits 1536
//! count 2
//! <p_1 in lowercase hex, exactly bits/4 digits>
//! <p_2 ...>
//! ```
//!
//! `bits` is a multiple of 8 between [`MIN_GENERATED_PRIME_BITS`] and [`MAX_PRIME_BITS`];
//! `count` is the number of primes that follow. On load each prime is checked to be a safe
//! prime of exactly `bits` bits, with its two top bits set, and the primes must be distinct.
//! The file holds **secret** key material: store it like a private key.

use crate::bigint::{wipe_integer, SecretInt};
use crate::error::PaillierError;
use crate::primes::{generate_safe_prime_secret, is_safe_prime, MAX_PRIME_BITS, MIN_GENERATED_PRIME_BITS};
use rand_core::CryptoRngCore;
use rug::Integer;
use std::num::NonZeroUsize;
use zeroize::{Zeroize, Zeroizing};

/// First line of a version-1 pool encoding.
const POOL_MAGIC_V1: &str = "conclave-safe-prime-pool v1";

/// Most primes a pool encoding may announce (bounds the work of a decoder).
pub const MAX_POOL_PRIMES: usize = 4096;

/// Safe primes of one size, ready to be turned into Paillier keys.
///
/// Every prime in the pool was checked to be a safe prime of exactly [`PrimePool::bits`] bits
/// with its two top bits set. Secret: zeroized on drop, `Debug` shows only the size and count.
pub struct PrimePool {
    bits: u32,
    primes: Vec<SecretInt>,
}

impl core::fmt::Debug for PrimePool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PrimePool").field("bits", &self.bits).field("len", &self.primes.len()).finish()
    }
}

impl zeroize::ZeroizeOnDrop for PrimePool {}

/// Checks that a size is allowed for a pool: a multiple of 8 within the generator's range.
fn check_bits(bits: u32) -> Result<(), PaillierError> {
    if !(MIN_GENERATED_PRIME_BITS..=MAX_PRIME_BITS).contains(&bits) || !bits.is_multiple_of(8) {
        return Err(PaillierError::InvalidParameter("pool prime size"));
    }
    Ok(())
}

impl PrimePool {
    /// An empty pool for primes of `bits` bits.
    ///
    /// Checks: `bits` is a multiple of 8 in `[MIN_GENERATED_PRIME_BITS, MAX_PRIME_BITS]`.
    pub fn new(bits: u32) -> Result<Self, PaillierError> {
        check_bits(bits)?;
        Ok(Self { bits, primes: Vec::new() })
    }

    /// Size of the pool's primes in bits.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Number of primes in the pool.
    pub fn len(&self) -> usize {
        self.primes.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.primes.is_empty()
    }

    /// Checks that `p` may join the pool: exactly `bits` bits, two top bits set, a safe
    /// prime, not already present.
    fn check_candidate(&self, p: &Integer) -> Result<(), PaillierError> {
        if p.significant_bits() != self.bits || !p.get_bit(self.bits.saturating_sub(2)) || !is_safe_prime(p) {
            return Err(PaillierError::NotSafePrime);
        }
        if self.primes.iter().any(|x| x.expose() == p) {
            return Err(PaillierError::Malformed("duplicate prime"));
        }
        Ok(())
    }

    /// Adds a prime produced elsewhere.
    ///
    /// Checks: `p` is a safe prime of exactly [`PrimePool::bits`] bits with its two top bits
    /// set, not already in the pool.
    pub fn push(&mut self, p: Integer) -> Result<(), PaillierError> {
        let p = SecretInt::new(p);
        self.check_candidate(p.expose())?;
        self.primes.push(p);
        Ok(())
    }

    /// Generates primes until the pool holds at least `target` of them, each with
    /// [`crate::generate_safe_prime`] on `threads` threads.
    ///
    /// Checks: `target <= MAX_POOL_PRIMES`.
    pub fn fill<R: CryptoRngCore + ?Sized>(
        &mut self,
        rng: &mut R,
        target: usize,
        threads: NonZeroUsize,
    ) -> Result<(), PaillierError> {
        if target > MAX_POOL_PRIMES {
            return Err(PaillierError::InvalidParameter("pool target too large"));
        }
        while self.primes.len() < target {
            let p = generate_safe_prime_secret(rng, self.bits, threads)?;
            if self.primes.iter().all(|x| x.expose() != p.expose()) {
                self.primes.push(p);
            }
        }
        Ok(())
    }

    /// Removes and returns one prime, or `None` if the pool is empty.
    pub fn take(&mut self) -> Option<Integer> {
        self.primes.pop().map(SecretInt::into_inner)
    }

    /// Removes two primes (kept secret).
    pub(crate) fn take_pair_secret(&mut self) -> Result<(SecretInt, SecretInt), PaillierError> {
        if self.primes.len() < 2 {
            return Err(PaillierError::PoolExhausted);
        }
        let p = self.primes.pop().ok_or(PaillierError::PoolExhausted)?;
        let q = self.primes.pop().ok_or(PaillierError::PoolExhausted)?;
        Ok((p, q))
    }

    /// Encodes the pool in the version-1 format (see the module documentation). The buffer
    /// is zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let digits = usize::try_from(self.bits / 4).unwrap_or(0);
        let mut out = Zeroizing::new(String::new());
        out.push_str(POOL_MAGIC_V1);
        out.push('\n');
        out.push_str(&format!("bits {}\ncount {}\n", self.bits, self.primes.len()));
        for p in &self.primes {
            let mut hex = Zeroizing::new(p.expose().to_string_radix(16));
            out.push_str(&"0".repeat(digits.saturating_sub(hex.len())));
            out.push_str(&hex);
            out.push('\n');
            hex.zeroize();
        }
        Zeroizing::new(core::mem::take(&mut *out).into_bytes())
    }

    /// Decodes a pool from the version-1 format.
    ///
    /// Checks: the magic line and version, `bits` (a multiple of 8 in the generator's range),
    /// `count <= MAX_POOL_PRIMES` and equal to the number of prime lines, each prime line
    /// exactly `bits / 4` lowercase hex digits, each prime a safe prime of exactly `bits` bits
    /// with its two top bits set, no duplicates, nothing after the last line.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PaillierError> {
        let text = core::str::from_utf8(bytes).map_err(|_| PaillierError::Malformed("not UTF-8"))?;
        let body = text.strip_suffix('\n').ok_or(PaillierError::Malformed("missing final newline"))?;
        let mut lines = body.split('\n');
        let magic = lines.next().ok_or(PaillierError::Malformed("empty"))?;
        if magic != POOL_MAGIC_V1 {
            if magic.starts_with("conclave-safe-prime-pool ") {
                return Err(PaillierError::UnsupportedVersion);
            }
            return Err(PaillierError::Malformed("not a prime pool"));
        }
        let bits = parse_field(lines.next(), "bits ")?;
        let bits = u32::try_from(bits).map_err(|_| PaillierError::Malformed("bits"))?;
        check_bits(bits)?;
        let count = parse_field(lines.next(), "count ")?;
        if count > MAX_POOL_PRIMES {
            return Err(PaillierError::Malformed("count too large"));
        }
        let digits = usize::try_from(bits / 4).unwrap_or(0);
        let mut pool = Self::new(bits)?;
        for line in lines.by_ref().take(count) {
            if line.len() != digits || !line.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return Err(PaillierError::Malformed("prime line"));
            }
            let mut p = Integer::from_str_radix(line, 16).map_err(|_| PaillierError::Malformed("prime line"))?;
            if let Err(e) = pool.check_candidate(&p) {
                wipe_integer(&mut p);
                return Err(e);
            }
            pool.primes.push(SecretInt::new(p));
        }
        if pool.primes.len() != count {
            return Err(PaillierError::Malformed("fewer primes than announced"));
        }
        if lines.next().is_some() {
            return Err(PaillierError::Malformed("trailing data"));
        }
        Ok(pool)
    }
}

/// Parses a `"<name><decimal>"` line: canonical decimal, no sign, no leading zeros, at most 9
/// digits.
fn parse_field(line: Option<&str>, name: &str) -> Result<usize, PaillierError> {
    let value = line.and_then(|l| l.strip_prefix(name)).ok_or(PaillierError::Malformed("missing header field"))?;
    let canonical = !value.is_empty()
        && value.len() <= 9
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'));
    if !canonical {
        return Err(PaillierError::Malformed("header field value"));
    }
    value.parse::<usize>().map_err(|_| PaillierError::Malformed("header field value"))
}
