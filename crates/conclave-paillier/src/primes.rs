//! Primality tests and safe-prime generation.
//!
//! A safe prime is a prime `p = 2q + 1` with `q` prime too. For `p > 7` this forces
//! `p ≡ 3 (mod 4)` (`q` is odd), so every safe prime we produce is also a Blum prime.
//!
//! Generation ([`generate_safe_prime`]):
//! 1. draw a random odd `q` of `bits - 1` bits with its two top bits set (so `p = 2q + 1` has
//!    exactly `bits` bits and a product of two such primes has exactly `2 * bits` bits);
//! 2. sieve a window of candidates `q + 2j`, striking every `j` for which a small odd prime
//!    divides `q + 2j` **or** `2(q + 2j) + 1` (combined sieve over `q` and `p`); the residues
//!    of the window start are kept and advanced incrementally from one window to the next;
//! 3. on each survivor: a Miller–Rabin round to base 2 on `q`, then a Fermat test to base 2 on
//!    `p` (which, with `q` prime, proves `p` prime by Pocklington's criterion), then
//!    [`GENERATION_MR_ROUNDS`] Miller–Rabin rounds with random bases on `q`.
//!
//! All the exponentiations on candidates use the side-channel-resilient exponentiation: the
//! candidates that survive are secret key material.

use crate::bigint::{pow_mod_secret, random_below, random_bits, wipe_integer, SecretInt};
use crate::error::PaillierError;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_core::CryptoRngCore;
use rug::integer::IsPrime;
use rug::Integer;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use zeroize::Zeroize;

/// Odd primes below this bound are used in the sieve and in trial division.
const SIEVE_BOUND: u32 = 1 << 16;

/// Number of `q`-candidates (`q, q + 2, ...`) sieved at once.
const SIEVE_WINDOW: usize = 1 << 14;

/// Miller–Rabin rounds with random bases on `q` after the base-2 tests, during generation.
///
/// For random candidates of 1535 bits, 4 rounds already give an error below 2^-128
/// (Damgård–Landrock–Pomerance bounds, FIPS 186-5 table B.1); we use twice that.
pub const GENERATION_MR_ROUNDS: u32 = 8;

/// Repetitions passed to GMP's `mpz_probab_prime_p` when checking a given number: a
/// Baillie–PSW test plus `reps - 24` Miller–Rabin rounds with pseudo-random bases.
const GMP_PRIME_REPS: u32 = 40;

/// Smallest size accepted by [`generate_safe_prime`] (below it the sieve primes could equal
/// the candidates).
pub const MIN_GENERATED_PRIME_BITS: u32 = 64;

/// Largest size accepted by the generator and by the prime pool.
pub const MAX_PRIME_BITS: u32 = 8192;

/// Odd primes `3 ≤ s < SIEVE_BOUND`, by the sieve of Eratosthenes.
fn small_odd_primes() -> Vec<u32> {
    let n = SIEVE_BOUND as usize;
    let mut composite = vec![false; n];
    let mut out = Vec::new();
    for i in 3..n {
        if i % 2 == 0 || composite.get(i).copied().unwrap_or(true) {
            continue;
        }
        out.push(u32::try_from(i).unwrap_or(0));
        let mut j = i.saturating_mul(i);
        while j < n {
            if let Some(c) = composite.get_mut(j) {
                *c = true;
            }
            j += 2 * i;
        }
    }
    out
}

/// One Miller–Rabin round on odd `n > 3` to base `a` (reduced into `[2, n-2]` by the caller).
///
/// The exponentiation `a^d mod n` is side-channel resilient; the squarings that follow are
/// fixed in number (the 2-adic valuation of `n - 1`, which is public for a published prime
/// and leaks two bits at most for a secret one).
fn miller_rabin_round(n: &Integer, n_minus_1: &Integer, d: &Integer, s: u32, a: &Integer) -> bool {
    let Ok(mut x) = pow_mod_secret(a, d, n) else {
        return false;
    };
    let mut pass = x == 1 || x == *n_minus_1;
    for _ in 1..s {
        if pass {
            break;
        }
        x.square_mut();
        x %= n;
        pass = x == *n_minus_1;
    }
    wipe_integer(&mut x);
    pass
}

/// Splits `n - 1 = d * 2^s` for odd `n > 1`.
fn split_n_minus_1(n: &Integer) -> (Integer, Integer, u32) {
    let n_minus_1 = Integer::from(n - 1u32);
    let s = n_minus_1.find_one(0).unwrap_or(0);
    let d = Integer::from(&n_minus_1 >> s);
    (n_minus_1, d, s)
}

/// Miller–Rabin to base 2 on odd `n > 3` (side-channel resilient exponentiation).
fn miller_rabin_base2(n: &Integer) -> bool {
    let (n_minus_1, d, s) = split_n_minus_1(n);
    miller_rabin_round(n, &n_minus_1, &d, s, &Integer::from(2))
}

/// `rounds` Miller–Rabin rounds on odd `n > 3` with bases uniform in `[2, n - 2]`.
fn miller_rabin_random<R: CryptoRngCore + ?Sized>(rng: &mut R, n: &Integer, rounds: u32) -> bool {
    let (n_minus_1, d, s) = split_n_minus_1(n);
    let range = Integer::from(n - 3u32);
    for _ in 0..rounds {
        let Ok(mut a) = random_below(rng, &range) else {
            return false;
        };
        a += 2u32;
        let ok = miller_rabin_round(n, &n_minus_1, &d, s, &a);
        wipe_integer(&mut a);
        if !ok {
            return false;
        }
    }
    true
}

/// Whether some small odd prime `s < n` divides `n` (trial division up to 2^16).
fn has_small_factor(n: &Integer, small: &[u32]) -> bool {
    small.iter().any(|&s| *n > s && n.is_divisible_u(s))
}

/// Whether `n` is prime, for `0 <= n < 2^32`, by trial division.
fn is_small_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n.is_multiple_of(2) {
        return n == 2;
    }
    let mut f = 3u64;
    while f.saturating_mul(f) <= n {
        if n.is_multiple_of(f) {
            return false;
        }
        f += 2;
    }
    true
}

/// Probabilistic primality test for a **public** number: trial division, GMP's Baillie–PSW
/// test and 16 further Miller–Rabin rounds (`mpz_probab_prime_p` with 40 repetitions).
///
/// Variable-time: use it on public values only (for example to check that a peer's modulus
/// is *not* prime). Returns false for every `n < 2`.
pub fn is_probable_prime_vartime(n: &Integer) -> bool {
    if *n < 2 {
        return false;
    }
    n.is_probably_prime(GMP_PRIME_REPS) != IsPrime::No
}

/// The shared body of [`is_safe_prime`] for `p >= 2^32`; `small` lists the sieve primes.
fn is_large_safe_prime(p: &Integer, small: &[u32]) -> bool {
    // p ≡ 3 (mod 4): p odd and q = (p - 1) / 2 odd.
    if p.mod_u(4) != 3 {
        return false;
    }
    let q = Integer::from(p >> 1u32);
    if has_small_factor(p, small) || has_small_factor(&q, small) {
        return false;
    }
    // q prime: Miller–Rabin base 2 (side-channel resilient), then BPSW + MR by GMP.
    if !miller_rabin_base2(&q) || q.is_probably_prime(GMP_PRIME_REPS) == IsPrime::No {
        return false;
    }
    // p prime given q prime (Pocklington with the factor q > sqrt(p) of p - 1 and witness 2):
    // 2^(p-1) ≡ 1 (mod p) and gcd(2^2 - 1, p) = gcd(3, p) = 1 (trial division above).
    let p_minus_1 = Integer::from(p - 1u32);
    matches!(pow_mod_secret(&Integer::from(2), &p_minus_1, p), Ok(x) if x == 1)
}

/// Whether `p` is a safe prime: `p` prime and `q = (p - 1) / 2` prime.
///
/// Checks, for `p ≥ 2^32`: `p ≡ 3 (mod 4)`; neither `p` nor `q` has an odd prime factor below
/// 2^16; `q` passes a Miller–Rabin round to base 2 and GMP's Baillie–PSW test with 16 more
/// Miller–Rabin rounds; `2^(p-1) ≡ 1 (mod p)`, which with `q` prime proves `p` prime
/// (Pocklington). Smaller `p` are decided exactly by trial division. Any size is accepted: the
/// callers check sizes. The Baillie–PSW part is variable-time (see `docs/paillier.md`).
pub fn is_safe_prime(p: &Integer) -> bool {
    if let Some(small) = p.to_u64() {
        if small < (1u64 << 32) {
            return is_small_prime(small) && is_small_prime(small / 2);
        }
    }
    if p.is_negative() {
        return false;
    }
    is_large_safe_prime(p, &small_odd_primes())
}

/// Whether `p` is a prime with `p ≡ 3 (mod 4)` (a "Blum prime", the factors of a
/// Paillier–Blum modulus).
///
/// Checks: `p ≡ 3 (mod 4)`, no odd prime factor below 2^16 (unless `p` is that prime), a
/// Miller–Rabin round to base 2 and GMP's Baillie–PSW test with 16 more Miller–Rabin rounds.
/// The Baillie–PSW part is variable-time.
pub fn is_blum_prime(p: &Integer) -> bool {
    if let Some(small) = p.to_u64() {
        if small < (1u64 << 32) {
            return small % 4 == 3 && is_small_prime(small);
        }
    }
    if p.is_negative() || p.mod_u(4) != 3 {
        return false;
    }
    !has_small_factor(p, &small_odd_primes())
        && miller_rabin_base2(p)
        && p.is_probably_prime(GMP_PRIME_REPS) != IsPrime::No
}

/// Sieve state for one search thread.
struct Sieve {
    /// Odd sieve primes `s`.
    primes: Vec<u32>,
    /// `(2^-1 mod s, 4^-1 mod s)` for each sieve prime.
    inverses: Vec<(u32, u32)>,
    /// `q0 mod s` for the current window start `q0`.
    residues: Vec<u32>,
    /// Struck-out offsets of the current window.
    struck: Vec<bool>,
}

impl Sieve {
    fn new(q0: &Integer) -> Self {
        let primes = small_odd_primes();
        let inverses = primes
            .iter()
            .map(|&s| {
                let inv2 = s.div_ceil(2);
                let inv4 = u32::try_from((u64::from(inv2) * u64::from(inv2)) % u64::from(s)).unwrap_or(0);
                (inv2, inv4)
            })
            .collect();
        let residues = primes.iter().map(|&s| q0.mod_u(s)).collect();
        Self { primes, inverses, residues, struck: vec![false; SIEVE_WINDOW] }
    }

    /// Strikes every offset `j` of the window for which `s | q0 + 2j` or `s | 2(q0 + 2j) + 1`.
    fn sieve_window(&mut self) {
        self.struck.iter_mut().for_each(|b| *b = false);
        for ((&s, &(inv2, inv4)), &r) in self.primes.iter().zip(self.inverses.iter()).zip(self.residues.iter()) {
            let s64 = u64::from(s);
            let r64 = u64::from(r);
            // q0 + 2j ≡ 0  <=>  j ≡ -q0 / 2 (mod s)
            let j_q = ((s64 - r64) % s64) * u64::from(inv2) % s64;
            // 2 q0 + 4j + 1 ≡ 0  <=>  j ≡ -(2 q0 + 1) / 4 (mod s)
            let j_p = ((s64 - (2 * r64 + 1) % s64) % s64) * u64::from(inv4) % s64;
            for start in [j_q, j_p] {
                let mut j = usize::try_from(start).unwrap_or(usize::MAX);
                let step = usize::try_from(s).unwrap_or(usize::MAX);
                while let Some(b) = self.struck.get_mut(j) {
                    *b = true;
                    j = j.saturating_add(step);
                }
            }
        }
    }

    /// Moves the window start from `q0` to `q0 + 2 * SIEVE_WINDOW`, updating the residues.
    fn advance(&mut self) {
        let shift = 2 * SIEVE_WINDOW as u64;
        for (r, &s) in self.residues.iter_mut().zip(self.primes.iter()) {
            let next = (u64::from(*r) + shift) % u64::from(s);
            *r = u32::try_from(next).unwrap_or(0);
        }
    }
}

/// Draws an odd `q` of exactly `bits - 1` bits with its two top bits set.
fn random_q_start<R: CryptoRngCore + ?Sized>(rng: &mut R, bits: u32) -> Integer {
    let qbits = bits - 1;
    let mut q = random_bits(rng, qbits);
    q.set_bit(qbits - 1, true);
    q.set_bit(qbits - 2, true);
    q.set_bit(0, true);
    q
}

/// One search thread: returns a safe prime, or `None` when `stop` was raised by another
/// thread first.
fn search_thread<R: CryptoRngCore + ?Sized>(rng: &mut R, bits: u32, stop: &AtomicBool) -> Option<SecretInt> {
    let qbits = bits - 1;
    let mut q0 = random_q_start(rng, bits);
    let mut sieve = Sieve::new(&q0);
    let mut q = Integer::new();
    let mut p = Integer::new();
    let mut windows_left: u32 = 64;
    loop {
        sieve.sieve_window();
        for (j, struck) in sieve.struck.iter().enumerate() {
            if *struck {
                continue;
            }
            if stop.load(Ordering::Relaxed) {
                wipe_integer(&mut q0);
                wipe_integer(&mut q);
                wipe_integer(&mut p);
                return None;
            }
            q.clone_from(&q0);
            q += 2 * j as u64;
            if q.significant_bits() != qbits {
                // Ran past the top of the range: restart from a fresh random point.
                windows_left = 1;
                break;
            }
            if !miller_rabin_base2(&q) {
                continue;
            }
            p.clone_from(&q);
            p <<= 1u32;
            p += 1u32;
            let p_minus_1 = Integer::from(&p - 1u32);
            let fermat_p = matches!(pow_mod_secret(&Integer::from(2), &p_minus_1, &p), Ok(x) if x == 1);
            if fermat_p && miller_rabin_random(rng, &q, GENERATION_MR_ROUNDS) {
                wipe_integer(&mut q0);
                wipe_integer(&mut q);
                return Some(SecretInt::new(p));
            }
        }
        // Slide the window, or restart from a fresh random point now and then so that one
        // start does not dominate the search.
        windows_left = windows_left.saturating_sub(1);
        if windows_left == 0 {
            wipe_integer(&mut q0);
            q0 = random_q_start(rng, bits);
            sieve = Sieve::new(&q0);
            windows_left = 64;
        } else {
            q0 += 2 * SIEVE_WINDOW as u64;
            sieve.advance();
        }
    }
}

/// Generates a random safe prime `p = 2q + 1` of exactly `bits` bits, with its two top bits
/// set (so that the product of two has exactly `2 * bits` bits) and `p ≡ 3 (mod 4)`.
///
/// `threads` search threads run in parallel, each with its own ChaCha20 generator seeded
/// from `rng`; the first prime found wins. With more than one thread the result is not a
/// function of the seed alone (it depends on which thread finishes first).
///
/// Checks: `MIN_GENERATED_PRIME_BITS <= bits <= MAX_PRIME_BITS`.
pub fn generate_safe_prime<R: CryptoRngCore + ?Sized>(
    rng: &mut R,
    bits: u32,
    threads: NonZeroUsize,
) -> Result<Integer, PaillierError> {
    Ok(generate_safe_prime_secret(rng, bits, threads)?.into_inner())
}

/// [`generate_safe_prime`], keeping the result in a [`SecretInt`].
pub(crate) fn generate_safe_prime_secret<R: CryptoRngCore + ?Sized>(
    rng: &mut R,
    bits: u32,
    threads: NonZeroUsize,
) -> Result<SecretInt, PaillierError> {
    if !(MIN_GENERATED_PRIME_BITS..=MAX_PRIME_BITS).contains(&bits) {
        return Err(PaillierError::InvalidParameter("safe prime size out of range"));
    }
    let mut seeds = Vec::with_capacity(threads.get());
    for _ in 0..threads.get() {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        seeds.push(seed);
    }
    let stop = AtomicBool::new(false);
    let results: Vec<Option<SecretInt>> = std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .iter_mut()
            .map(|seed| {
                let mut thread_rng = ChaCha20Rng::from_seed(*seed);
                seed.zeroize();
                let stop = &stop;
                scope.spawn(move || {
                    let found = search_thread(&mut thread_rng, bits, stop);
                    if found.is_some() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    found
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(None)).collect()
    });
    results.into_iter().flatten().next().ok_or(PaillierError::Bug("no search thread returned a prime"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_primes_table() {
        let t = small_odd_primes();
        assert_eq!(t.first(), Some(&3));
        assert_eq!(t.len(), 6541);
        assert!(t.iter().all(|&s| is_small_prime(u64::from(s))));
    }

    #[test]
    fn small_safe_primes_exact() {
        let safe: Vec<u64> = (0..200).filter(|&n| is_safe_prime(&Integer::from(n))).collect();
        assert_eq!(safe, vec![5, 7, 11, 23, 47, 59, 83, 107, 167, 179]);
    }
}
