//! Big-integer helpers on top of GMP (through `rug`).
//!
//! Conventions used in the whole crate:
//! * every exponentiation in which the base or the exponent is secret goes through
//!   [`pow_mod_secret`] (GMP's `mpz_powm_sec`: same time and memory-access pattern for
//!   same-sized operands) or, for a fixed base, through the comb tables of
//!   `crate::fixed_base` (fixed-size Montgomery arithmetic of `crate::mont`);
//! * variable-time helpers end in `_vartime` and take public inputs only;
//! * secret integers live in [`SecretInt`], which overwrites its limbs on drop.

use crate::error::PaillierError;
use rand_core::CryptoRngCore;
use rug::integer::Order;
use rug::{Assign, Integer};
use zeroize::Zeroize;

/// Bits drawn beyond the modulus size when reducing a random number: the statistical
/// distance from uniform is at most 2^-128.
const SAMPLING_SLACK_BITS: u32 = 128;

/// Bound on rejection-sampling iterations: with a working RNG the chance of reaching it is
/// far below 2^-128.
const MAX_SAMPLING_ATTEMPTS: u32 = 256;

/// Overwrites all limbs of the allocation behind `x` (not only the used ones) with zeros,
/// then sets `x` to zero.
pub fn wipe_integer(x: &mut Integer) {
    let limbs = x.capacity().div_ceil(64);
    if limbs > 0 {
        let zeros = vec![0u64; limbs];
        // mpz_import writes `limbs` limbs into the existing allocation (it is large enough,
        // so GMP does not reallocate), then normalises the value to zero.
        x.assign_digits(&zeros, Order::Lsf);
    }
    x.assign(0);
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

/// A secret big integer: zeroized on drop, redacted in `Debug`, not `Clone`-able by
/// accident (cloning is explicit through [`SecretInt::duplicate`]).
pub struct SecretInt(Integer);

impl SecretInt {
    /// Wraps a secret value.
    pub fn new(x: Integer) -> Self {
        Self(x)
    }

    /// Borrows the secret value.
    pub fn expose(&self) -> &Integer {
        &self.0
    }

    /// Moves the secret out (the caller takes over its protection).
    pub fn into_inner(mut self) -> Integer {
        core::mem::take(&mut self.0)
    }
}

impl Zeroize for SecretInt {
    fn zeroize(&mut self) {
        wipe_integer(&mut self.0);
    }
}

impl Drop for SecretInt {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl core::fmt::Debug for SecretInt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretInt(<redacted>)")
    }
}

/// `base^exp mod modulus` for a secret base or exponent, with GMP's side-channel-resilient
/// exponentiation.
///
/// Checks: `modulus` odd and greater than 1, `exp >= 0`; `base` is reduced into
/// `[0, modulus)` first (a negative base is allowed). The running time depends on the sizes of
/// the operands (in limbs), not on their values. `exp = 0` returns 1 without exponentiating
/// (the exponent's size is all that leaks about it anyway).
pub(crate) fn pow_mod_secret(base: &Integer, exp: &Integer, modulus: &Integer) -> Result<Integer, PaillierError> {
    if modulus.is_even() || *modulus <= 1 {
        return Err(PaillierError::Bug("pow_mod_secret needs an odd modulus > 1"));
    }
    if exp.is_negative() {
        return Err(PaillierError::Bug("pow_mod_secret needs a non-negative exponent"));
    }
    if exp.is_zero() {
        return Ok(Integer::from(1));
    }
    let mut b = Integer::from(base.modulo_ref(modulus));
    let r = Integer::from(b.secure_pow_mod_ref(exp, modulus));
    wipe_integer(&mut b);
    Ok(r)
}

/// A uniformly random integer in `[0, bound)` (statistical distance below 2^-128), from
/// `bits(bound) + 128` random bits reduced modulo `bound`. Checks `bound > 0`.
pub(crate) fn random_below<R: CryptoRngCore + ?Sized>(rng: &mut R, bound: &Integer) -> Result<Integer, PaillierError> {
    if *bound <= 0 {
        return Err(PaillierError::Bug("random_below needs a positive bound"));
    }
    let bits = bound.significant_bits().saturating_add(SAMPLING_SLACK_BITS);
    let mut x = random_bits(rng, bits);
    let r = Integer::from(x.modulo_ref(bound));
    wipe_integer(&mut x);
    Ok(r)
}

/// A uniformly random integer in `[1, bound)`, by rejection of 0. Checks `bound > 1`.
pub(crate) fn random_nonzero_below<R: CryptoRngCore + ?Sized>(
    rng: &mut R,
    bound: &Integer,
) -> Result<Integer, PaillierError> {
    if *bound <= 1 {
        return Err(PaillierError::Bug("random_nonzero_below needs a bound > 1"));
    }
    for _ in 0..MAX_SAMPLING_ATTEMPTS {
        let x = random_below(rng, bound)?;
        if !x.is_zero() {
            return Ok(x);
        }
    }
    Err(PaillierError::SamplingFailed)
}

/// A uniformly random integer of at most `bits` bits.
pub(crate) fn random_bits<R: CryptoRngCore + ?Sized>(rng: &mut R, bits: u32) -> Integer {
    let len = usize::try_from(bits.div_ceil(8)).unwrap_or(0);
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    let mut x = Integer::from_digits(&bytes, Order::Msf);
    bytes.zeroize();
    x.keep_bits_mut(bits);
    x
}

/// Big-endian, minimal-length bytes of a non-negative integer (empty for zero).
pub(crate) fn to_be_bytes(x: &Integer) -> Vec<u8> {
    x.to_digits::<u8>(Order::Msf)
}

/// Big-endian bytes of a non-negative integer, left-padded with zeros to exactly `len` bytes.
///
/// Checks that the value fits; returns an error otherwise.
pub(crate) fn to_be_bytes_padded(x: &Integer, len: usize) -> Result<Vec<u8>, PaillierError> {
    if x.is_negative() {
        return Err(PaillierError::Bug("to_be_bytes_padded: negative value"));
    }
    let digits = x.to_digits::<u8>(Order::Msf);
    let pad = len.checked_sub(digits.len()).ok_or(PaillierError::Bug("to_be_bytes_padded: value too long"))?;
    let mut out = vec![0u8; pad];
    out.extend_from_slice(&digits);
    Ok(out)
}

/// Decodes a big-endian unsigned integer (any length, leading zeros allowed).
pub(crate) fn from_be_bytes(bytes: &[u8]) -> Integer {
    Integer::from_digits(bytes, Order::Msf)
}

/// Byte length of `bits` bits.
pub(crate) fn byte_len(bits: u32) -> usize {
    usize::try_from(bits.div_ceil(8)).unwrap_or(usize::MAX)
}

/// Whether `gcd(x, n) = 1`. Variable-time: public inputs only.
pub(crate) fn is_coprime_vartime(x: &Integer, n: &Integer) -> bool {
    Integer::from(x.gcd_ref(n)) == 1
}

/// `Π b_i^(e_i) mod m` for **public** bases and exponents (any sign; a negative exponent
/// inverts its base), by interleaved sliding windows (Straus): one chain of squarings for all
/// terms, so the squarings of the shorter exponents come for free. `None` if `m` is not odd
/// and above 1, or a base with a negative exponent is not invertible. Variable-time.
pub fn multi_pow_vartime(terms: &[(&Integer, &Integer)], m: &Integer) -> Option<Integer> {
    if m.is_even() || *m <= 1 {
        return None;
    }
    struct Prepared {
        /// Odd powers `b, b^3, …, b^(2^w − 1)`.
        odd: Vec<Integer>,
        /// `digits[i]`: the odd window value that ends at bit `i` (0 if none).
        digits: Vec<u32>,
    }
    let mut prepared = Vec::with_capacity(terms.len());
    let mut top = 0u32;
    for (b, e) in terms {
        if e.is_zero() {
            continue;
        }
        let base = if e.is_negative() { Integer::from(b.invert_ref(m)?) } else { Integer::from(b.modulo_ref(m)) };
        let e = e.as_abs();
        let bits = e.significant_bits();
        let w: u32 = match bits {
            0..=24 => 1,
            25..=80 => 2,
            81..=240 => 3,
            241..=672 => 4,
            673..=2000 => 5,
            _ => 6,
        };
        let sq = Integer::from(base.square_ref()) % m;
        let mut odd = Vec::with_capacity(1 << (w - 1));
        odd.push(base);
        for _ in 1..(1usize << (w - 1)) {
            let next = Integer::from(odd.last()? * &sq) % m;
            odd.push(next);
        }
        // Left-to-right sliding windows over |e|.
        let mut digits = vec![0u32; usize::try_from(bits).ok()?];
        let mut i = i64::from(bits) - 1;
        while i >= 0 {
            let iu = u32::try_from(i).ok()?;
            if !e.get_bit(iu) {
                i -= 1;
                continue;
            }
            let mut j = (i - i64::from(w) + 1).max(0);
            while !e.get_bit(u32::try_from(j).ok()?) {
                j += 1;
            }
            let mut val = 0u32;
            for k in (j..=i).rev() {
                val = (val << 1) | u32::from(e.get_bit(u32::try_from(k).ok()?));
            }
            *digits.get_mut(usize::try_from(j).ok()?)? = val;
            i = j - 1;
        }
        top = top.max(bits);
        prepared.push(Prepared { odd, digits });
    }
    let mut acc = Integer::from(1);
    for i in (0..usize::try_from(top).ok()?).rev() {
        if acc != 1 {
            acc.square_mut();
            acc %= m;
        }
        for p in &prepared {
            let d = p.digits.get(i).copied().unwrap_or(0);
            if d != 0 {
                acc *= p.odd.get(usize::try_from(d >> 1).ok()?)?;
                acc %= m;
            }
        }
    }
    Some(acc % m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn multi_pow_vartime_matches_separate_powers() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let m = (Integer::from(1) << 1024u32) - 105u32; // odd
        let mut random_signed = |bits: u32| {
            let x = random_bits(&mut rng, bits);
            if x.is_odd() {
                -x
            } else {
                x
            }
        };
        for sizes in [vec![1u32], vec![3000, 770, 256], vec![20, 100, 600, 2500], vec![64, 64]] {
            let bases: Vec<Integer> = (0..sizes.len()).map(|i| Integer::from(12345 + 2 * i) * 977u32).collect();
            let exps: Vec<Integer> = sizes.iter().map(|b| random_signed(*b)).collect();
            let terms: Vec<(&Integer, &Integer)> = bases.iter().zip(&exps).collect();
            let want = bases
                .iter()
                .zip(&exps)
                .fold(Integer::from(1), |acc, (b, e)| acc * Integer::from(b.pow_mod_ref(e, &m).unwrap()) % &m);
            assert_eq!(multi_pow_vartime(&terms, &m).unwrap(), want);
        }
        let zero = Integer::ZERO;
        let b = Integer::from(7);
        assert_eq!(multi_pow_vartime(&[(&b, &zero)], &m).unwrap(), 1);
        assert_eq!(multi_pow_vartime(&[], &m).unwrap(), 1);
        assert!(multi_pow_vartime(&[(&b, &Integer::from(1))], &Integer::from(10)).is_none());
        let bad = Integer::from(6);
        assert!(multi_pow_vartime(&[(&bad, &Integer::from(-1))], &Integer::from(9)).is_none());
        assert_eq!(multi_pow_vartime(&[(&bad, &Integer::from(2))], &Integer::from(9)).unwrap(), 0);
    }
}
