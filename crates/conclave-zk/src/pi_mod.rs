//! Π^mod: proof that `N` is a Paillier–Blum modulus (CGGMP24 §6 / Fig. "Paillier–Blum modulus",
//! `docs/spec/zk-aux.md` §2), non-interactive through the typed transcript.
//!
//! Statement `N`; witness the primes `p, q ≡ 3 (mod 4)` with `N = p q`. The prover sends
//! `w ∈ Z*_N` with Jacobi symbol `(w/N) = −1`; the `m = 128` challenges `y_i ∈ Z*_N` come
//! from the transcript (context, parameters, `N`, `w`); for each the prover answers
//! `(x_i, a_i, b_i, z_i)` with `x_i^4 = (−1)^{a_i} w^{b_i} y_i` and `z_i^N = y_i (mod N)`.
//!
//! The verifier performs every check of the CGGMP24 revision (see [`ModError`], one variant
//! per check): the size floor, `N` odd, `N` not prime, `w ∈ Z*_N` (including
//! `gcd(w, N) = 1`, the check whose absence is CVE-2025-66016) with Jacobi symbol −1, exactly
//! `m` rounds, every `x_i, z_i ∈ Z*_N`, and both equations of every round.
//!
//! # Parameters (the 128-bit level of SECURITY.md)
//!
//! * [`M`] = 128 challenges (soundness error `2^-128`);
//! * [`MIN_MODULUS_BITS`] = 3071, the floor on `N`;
//! * [`MAX_MODULUS_BITS`] = 8192, the ceiling (bounds the verifier's work).
//!
//! This module also holds the small arithmetic helpers shared by the three aux-info proofs
//! (sampling, secret exponentiation, unit checks, [`AuxProveError`]).

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::{DecodeError, Transcript};
use conclave_paillier::{is_probable_prime_vartime, DecryptionKey, Integer};
use rand_core::CryptoRngCore;
use rug::integer::Order;
use zeroize::Zeroize;

use crate::common::{append_integer, challenge_below, read_integer, write_integer};

/// Domain of the Π^mod transcript (`Transcript::for_proof(DOMAIN, &ctx)`).
pub const DOMAIN: &str = "conclave/zk/mod/v1";

/// Number of challenges (rounds) `m`.
pub const M: usize = 128;

/// Smallest modulus accepted, in bits (SECURITY.md item 4).
pub const MIN_MODULUS_BITS: u32 = conclave_paillier::MIN_MODULUS_BITS;

/// Largest modulus accepted, in bits (bounds the verifier's work and the decoder).
pub const MAX_MODULUS_BITS: u32 = conclave_paillier::MAX_MODULUS_BITS;

/// Bound on rejection-sampling attempts for one value (a challenge `y_i` or the prover's
/// `w`). With an honest modulus one attempt almost always suffices; the bound only stops a
/// crafted modulus from making us loop.
const MAX_SAMPLING_ATTEMPTS: usize = 256;

/// Extra random bits drawn when sampling below a bound (statistical distance `2^-128`).
const SAMPLING_SLACK_BITS: u32 = 128;

// ---------------------------------------------------------------------------------------------
// Helpers shared by Π^mod, Π^fac and Π^prm.
// ---------------------------------------------------------------------------------------------

/// Why a prover could not produce a proof. Caller mistakes or a broken RNG; never a peer's
/// fault, and never carries secret material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuxProveError {
    /// The witness does not fit the statement (wrong primes, wrong shape).
    #[error("witness does not match the statement: {0}")]
    InvalidWitness(&'static str),
    /// The statement itself is unusable (e.g. a modulus of the wrong shape).
    #[error("invalid statement: {0}")]
    InvalidStatement(&'static str),
    /// Rejection sampling did not terminate (broken RNG).
    #[error("random sampling failed repeatedly")]
    SamplingFailed,
    /// An arithmetic precondition failed that the checks above should have excluded.
    #[error("internal arithmetic error: {0}")]
    Bug(&'static str),
}

/// Secret integers and their wiping come from `conclave-paillier`, shared by every proof.
pub(crate) use conclave_paillier::{wipe_integer, SecretInt as SecretInteger};

/// A uniform integer in `[0, bound)` (statistical distance `2^-128`): `bits(bound) + 128`
/// random bits reduced modulo `bound`.
pub(crate) fn sample_below(rng: &mut dyn CryptoRngCore, bound: &Integer) -> Result<Integer, AuxProveError> {
    if *bound <= 0 {
        return Err(AuxProveError::Bug("sampling bound must be positive"));
    }
    let bits = bound.significant_bits().saturating_add(SAMPLING_SLACK_BITS);
    let len = usize::try_from(bits.div_ceil(8)).map_err(|_| AuxProveError::Bug("bound too large"))?;
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    let mut wide = Integer::from_digits(&bytes, Order::Msf);
    bytes.zeroize();
    let r = Integer::from(wide.modulo_ref(bound));
    wipe_integer(&mut wide);
    Ok(r)
}

/// A uniform integer in `[-bound, bound]`.
pub(crate) fn sample_signed(rng: &mut dyn CryptoRngCore, bound: &Integer) -> Result<Integer, AuxProveError> {
    let width = Integer::from(bound * 2u32) + 1u32;
    let mut x = sample_below(rng, &width)?;
    x -= bound;
    Ok(x)
}

/// Whether `0 < x < n` and `gcd(x, n) = 1`. Variable-time: public inputs only.
pub(crate) fn is_unit_vartime(x: &Integer, n: &Integer) -> bool {
    *x > 0 && *x < *n && Integer::from(x.gcd_ref(n)) == 1
}

/// `base^exp mod modulus` for a secret exponent (or base), with GMP's side-channel-resilient
/// `mpz_powm_sec`. Checks: `modulus` odd and `> 1`, `exp >= 0`.
pub(crate) fn pow_secret(base: &Integer, exp: &Integer, modulus: &Integer) -> Result<Integer, AuxProveError> {
    if *modulus <= 1 || modulus.is_even() {
        return Err(AuxProveError::Bug("secret exponentiation needs an odd modulus > 1"));
    }
    if exp.is_negative() {
        return Err(AuxProveError::Bug("secret exponentiation needs a non-negative exponent"));
    }
    if exp.is_zero() {
        return Ok(Integer::from(1));
    }
    let mut b = Integer::from(base.modulo_ref(modulus));
    let r = Integer::from(b.secure_pow_mod_ref(exp, modulus));
    wipe_integer(&mut b);
    Ok(r)
}

/// `base^exp mod modulus` for public inputs (negative `exp` through the inverse). `None` when
/// `modulus <= 1` or the inverse does not exist. Variable-time.
pub(crate) fn pow_vartime(base: &Integer, exp: &Integer, modulus: &Integer) -> Option<Integer> {
    if *modulus <= 1 {
        return None;
    }
    base.pow_mod_ref(exp, modulus).map(Integer::from)
}

// ---------------------------------------------------------------------------------------------
// Π^mod.
// ---------------------------------------------------------------------------------------------

/// The witness of Π^mod: the primes `p, q ≡ 3 (mod 4)` of `N = p q`. Borrowed; `Debug` is
/// redacted.
#[derive(Clone, Copy)]
pub struct ModWitness<'a> {
    p: &'a Integer,
    q: &'a Integer,
}

impl core::fmt::Debug for ModWitness<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ModWitness(<redacted>)")
    }
}

impl<'a> ModWitness<'a> {
    /// A witness from two primes (checked against the statement by [`ModProof::prove`]).
    pub fn new(p: &'a Integer, q: &'a Integer) -> Self {
        Self { p, q }
    }

    /// The primes of a Paillier decryption key.
    pub fn from_key(dk: &'a DecryptionKey) -> Self {
        let (p, q) = dk.expose_primes();
        Self { p, q }
    }
}

/// One round of Π^mod: the answer `(x_i, a_i, b_i, z_i)` to challenge `y_i`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModRound {
    /// `x_i` with `x_i^4 = (−1)^{a_i} w^{b_i} y_i (mod N)`.
    pub x: Integer,
    /// `a_i`.
    pub a: bool,
    /// `b_i`.
    pub b: bool,
    /// `z_i` with `z_i^N = y_i (mod N)`.
    pub z: Integer,
}

/// A Π^mod proof: `w` and [`M`] rounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModProof {
    /// `w ∈ Z*_N` with Jacobi symbol −1.
    pub w: Integer,
    /// The answers, one per challenge; exactly [`M`].
    pub rounds: Vec<ModRound>,
}

/// Which check of the Π^mod verifier failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModError {
    /// `bitlen(N)` below [`MIN_MODULUS_BITS`] (or `N <= 0`).
    #[error("modulus has {bits} bits, below the floor of {MIN_MODULUS_BITS}")]
    ModulusTooSmall {
        /// Bits of `N`.
        bits: u32,
    },
    /// `bitlen(N)` above [`MAX_MODULUS_BITS`].
    #[error("modulus has {bits} bits, above the ceiling of {MAX_MODULUS_BITS}")]
    ModulusTooLarge {
        /// Bits of `N`.
        bits: u32,
    },
    /// `N` is even.
    #[error("modulus is even")]
    ModulusEven,
    /// `N` passed a probabilistic primality test.
    #[error("modulus is prime")]
    ModulusPrime,
    /// `w` not in `[1, N)`.
    #[error("w is not in [1, N)")]
    WOutOfRange,
    /// `gcd(w, N) ≠ 1` (CVE-2025-66016).
    #[error("w shares a factor with N")]
    WNotCoprime,
    /// The Jacobi symbol `(w/N)` is not −1.
    #[error("Jacobi symbol of w is not -1")]
    WJacobiNotMinusOne,
    /// The proof does not have exactly [`M`] rounds.
    #[error("proof has {found} rounds, expected {M}")]
    WrongRoundCount {
        /// Rounds found.
        found: usize,
    },
    /// The challenges could not be derived (a crafted modulus with very few units).
    #[error("challenge derivation failed")]
    ChallengeDerivation,
    /// `x_i ∉ Z*_N`.
    #[error("x_{index} is not in Z*_N")]
    XNotUnit {
        /// Round index.
        index: usize,
    },
    /// `z_i ∉ Z*_N`.
    #[error("z_{index} is not in Z*_N")]
    ZNotUnit {
        /// Round index.
        index: usize,
    },
    /// `z_i^N ≠ y_i (mod N)`.
    #[error("z_{index}^N != y_{index} mod N")]
    NthRootMismatch {
        /// Round index.
        index: usize,
    },
    /// `x_i^4 ≠ (−1)^{a_i} w^{b_i} y_i (mod N)`.
    #[error("x_{index}^4 != (-1)^a w^b y_{index} mod N")]
    FourthRootMismatch {
        /// Round index.
        index: usize,
    },
}

/// The verifier's checks on the statement alone: size floor and ceiling, odd, not prime.
fn check_statement(n: &Integer) -> Result<(), ModError> {
    let bits = n.significant_bits();
    if *n <= 0 || bits < MIN_MODULUS_BITS {
        return Err(ModError::ModulusTooSmall { bits });
    }
    if bits > MAX_MODULUS_BITS {
        return Err(ModError::ModulusTooLarge { bits });
    }
    if n.is_even() {
        return Err(ModError::ModulusEven);
    }
    if is_probable_prime_vartime(n) {
        return Err(ModError::ModulusPrime);
    }
    Ok(())
}

/// The challenges `y_1, …, y_m ∈ Z*_N` of Π^mod, derived from the transcript (which holds the
/// context), the parameters, the statement `N` and the prover's `w`.
///
/// Each `y_i` is drawn uniformly below `N` by rejection sampling and redrawn while it is not a
/// unit. Public so that tests can build (malicious) proofs.
pub fn challenges(transcript: &Transcript, n: &Integer, w: &Integer) -> Result<Vec<Integer>, ModError> {
    let mut t = transcript.clone();
    t.append_bytes("aux/proof", DOMAIN.as_bytes());
    t.append_u64("mod/m", M as u64);
    append_integer(&mut t, "mod/N", n);
    append_integer(&mut t, "mod/w", w);
    let mut ys = Vec::with_capacity(M);
    for _ in 0..M {
        let mut found = None;
        for _ in 0..MAX_SAMPLING_ATTEMPTS {
            let y = challenge_below(&mut t, "mod/y", n);
            if is_unit_vartime(&y, n) {
                found = Some(y);
                break;
            }
        }
        ys.push(found.ok_or(ModError::ChallengeDerivation)?);
    }
    Ok(ys)
}

/// Per-prime constants of the prover.
struct PrimePart<'a> {
    p: &'a Integer,
    /// `(p − 1) / 2`: Euler's criterion.
    half_order: SecretInteger,
    /// `((p + 1) / 4)^2 mod (p − 1)`: the principal fourth root of a residue.
    fourth_root_exp: SecretInteger,
    /// `N^-1 mod (p − 1)`: the `N`-th root.
    nth_root_exp: SecretInteger,
    /// Legendre symbol of `w` modulo `p` (+1 or −1).
    w_symbol: i8,
}

impl<'a> PrimePart<'a> {
    fn new(p: &'a Integer, n: &Integer, w: &Integer) -> Result<Self, AuxProveError> {
        let p_minus_1 = SecretInteger::new(Integer::from(p - 1u32));
        let half_order = SecretInteger::new(Integer::from(p_minus_1.expose() >> 1u32));
        let quarter = SecretInteger::new(Integer::from(p + 1u32) >> 2u32);
        let sq = SecretInteger::new(Integer::from(quarter.expose().square_ref()));
        let fourth_root_exp = SecretInteger::new(Integer::from(sq.expose().modulo_ref(p_minus_1.expose())));
        // The one modular inversion with a secret modulus (GMP's mpz_invert, not constant-time;
        // see docs/spec/zk-aux.md, deviations).
        let nth_root_exp = SecretInteger::new(
            n.invert_ref(p_minus_1.expose())
                .map(Integer::from)
                .ok_or(AuxProveError::InvalidWitness("gcd(N, phi(N)) != 1"))?,
        );
        let mut part = Self { p, half_order, fourth_root_exp, nth_root_exp, w_symbol: 1 };
        part.w_symbol = part.legendre(w)?;
        Ok(part)
    }

    /// The Legendre symbol of `x` modulo `p` by Euler's criterion (constant-time exponent).
    fn legendre(&self, x: &Integer) -> Result<i8, AuxProveError> {
        let r = pow_secret(x, self.half_order.expose(), self.p)?;
        if r == 1 {
            Ok(1)
        } else if r == Integer::from(self.p - 1u32) {
            Ok(-1)
        } else {
            Err(AuxProveError::InvalidWitness("value not a unit modulo a prime factor"))
        }
    }
}

/// `x mod p q` from `x_p = x mod p`, `x_q = x mod q` and `q^-1 mod p`.
fn crt(xp: &Integer, xq: &Integer, p: &Integer, q: &Integer, q_inv_p: &Integer) -> Integer {
    let mut h = Integer::from(xp - xq);
    h *= q_inv_p;
    let mut x = Integer::from(h.modulo_ref(p));
    wipe_integer(&mut h);
    x *= q;
    x += xq;
    x
}

impl ModProof {
    /// Proves that `n` is a Paillier–Blum modulus, knowing its primes.
    ///
    /// `transcript` must hold the proof context (`Transcript::for_proof(DOMAIN, &ctx)`).
    /// Checks the witness: `p q = n`, `p ≠ q`, both `≡ 3 (mod 4)`, `gcd(n, φ(n)) = 1`. All
    /// exponentiations with secret exponents are constant-time (`mpz_powm_sec`).
    pub fn prove(
        transcript: &Transcript,
        n: &Integer,
        witness: &ModWitness<'_>,
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Self, AuxProveError> {
        let (p, q) = (witness.p, witness.q);
        if *p <= 2 || *q <= 2 || Integer::from(p * q) != *n || p == q {
            return Err(AuxProveError::InvalidWitness("p q != N, or p = q"));
        }
        if p.mod_u(4) != 3 || q.mod_u(4) != 3 {
            return Err(AuxProveError::InvalidWitness("a prime is not 3 mod 4"));
        }
        // w: uniform in Z*_N with Jacobi symbol −1 (public value, variable-time is fine).
        let mut w = None;
        for _ in 0..MAX_SAMPLING_ATTEMPTS {
            let c = sample_below(rng, n)?;
            if is_unit_vartime(&c, n) && c.jacobi(n) == -1 {
                w = Some(c);
                break;
            }
        }
        let w = w.ok_or(AuxProveError::SamplingFailed)?;
        let ys = challenges(transcript, n, &w).map_err(|_| AuxProveError::SamplingFailed)?;

        let pp = PrimePart::new(p, n, &w)?;
        let qp = PrimePart::new(q, n, &w)?;
        if pp.w_symbol * qp.w_symbol != -1 {
            return Err(AuxProveError::Bug("w does not have Jacobi symbol -1"));
        }
        let q_inv_p = SecretInteger::new(pow_secret(q, &Integer::from(p - 2u32), p)?);

        let mut rounds = Vec::with_capacity(M);
        for y in &ys {
            let lp = pp.legendre(y)?;
            let lq = qp.legendre(y)?;
            // b = 1 iff y has different characters mod p and mod q; then w^b y has the same
            // character mod both, and a = 1 iff that character is −1 (−1 is a non-residue
            // modulo both Blum primes).
            let b = lp != lq;
            let char_p = if b { lp * pp.w_symbol } else { lp };
            let a = char_p == -1;
            let mut y_res = y.clone();
            if b {
                y_res = Integer::from(&y_res * &w) % n;
            }
            if a {
                y_res = Integer::from(n - &y_res);
            }
            let xp = SecretInteger::new(pow_secret(&y_res, pp.fourth_root_exp.expose(), p)?);
            let xq = SecretInteger::new(pow_secret(&y_res, qp.fourth_root_exp.expose(), q)?);
            let x = crt(xp.expose(), xq.expose(), p, q, q_inv_p.expose());
            let zp = SecretInteger::new(pow_secret(y, pp.nth_root_exp.expose(), p)?);
            let zq = SecretInteger::new(pow_secret(y, qp.nth_root_exp.expose(), q)?);
            let z = crt(zp.expose(), zq.expose(), p, q, q_inv_p.expose());
            rounds.push(ModRound { x, a, b, z });
        }
        Ok(Self { w, rounds })
    }

    /// Verifies the proof for the modulus `n` in the context held by `transcript`.
    ///
    /// Checks, in order (docs/spec/zk-aux.md §2.4): `MIN_MODULUS_BITS <= bitlen(N) <=
    /// MAX_MODULUS_BITS`; `N` odd; `N` not prime; `0 < w < N`; `gcd(w, N) = 1`; `(w/N) = −1`;
    /// exactly `M` rounds; then for each `i`: `x_i ∈ Z*_N`, `z_i ∈ Z*_N`, `z_i^N = y_i`,
    /// `x_i^4 = (−1)^{a_i} w^{b_i} y_i (mod N)`.
    pub fn verify(&self, transcript: &Transcript, n: &Integer) -> Result<(), ModError> {
        check_statement(n)?;
        if self.w <= 0 || self.w >= *n {
            return Err(ModError::WOutOfRange);
        }
        if Integer::from(self.w.gcd_ref(n)) != 1 {
            return Err(ModError::WNotCoprime);
        }
        // N is odd and positive here, as the Jacobi symbol needs.
        if self.w.jacobi(n) != -1 {
            return Err(ModError::WJacobiNotMinusOne);
        }
        if self.rounds.len() != M {
            return Err(ModError::WrongRoundCount { found: self.rounds.len() });
        }
        let ys = challenges(transcript, n, &self.w)?;
        let four = Integer::from(4);
        for (index, (round, y)) in self.rounds.iter().zip(&ys).enumerate() {
            if !is_unit_vartime(&round.x, n) {
                return Err(ModError::XNotUnit { index });
            }
            if !is_unit_vartime(&round.z, n) {
                return Err(ModError::ZNotUnit { index });
            }
            if pow_vartime(&round.z, n, n).as_ref() != Some(y) {
                return Err(ModError::NthRootMismatch { index });
            }
            let mut rhs = y.clone();
            if round.a {
                rhs = Integer::from(n - &rhs);
            }
            if round.b {
                rhs = Integer::from(&rhs * &self.w) % n;
            }
            if pow_vartime(&round.x, &four, n).as_ref() != Some(&rhs) {
                return Err(ModError::FourthRootMismatch { index });
            }
        }
        Ok(())
    }
}

/// Largest integer accepted by the decoders for `w`, `x_i`, `z_i`.
const MAX_ELEMENT_BITS: u32 = MAX_MODULUS_BITS;

impl Encode for ModProof {
    fn encode(&self, w: &mut Writer) {
        write_integer(w, &self.w);
        w.len(self.rounds.len());
        for round in &self.rounds {
            write_integer(w, &round.x);
            w.u8(u8::from(round.a)).u8(u8::from(round.b));
            write_integer(w, &round.z);
        }
    }
}

fn read_bit(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        tag => Err(DecodeError::UnknownTag { what: "mod proof bit", tag }),
    }
}

impl Decode for ModProof {
    /// Decodes `w ‖ count ‖ (x ‖ a ‖ b ‖ z)^count`; `count` must be exactly [`M`], integers at
    /// most [`MAX_MODULUS_BITS`] bits, `a, b ∈ {0, 1}`.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let w = read_integer(r, MAX_ELEMENT_BITS)?;
        // Each round is at least 2 length prefixes + 2 sign bytes + 2 bits = 12 bytes.
        let count = r.len("mod rounds", M, 12)?;
        if count != M {
            return Err(DecodeError::Invalid { what: "mod proof", reason: "not exactly 128 rounds" });
        }
        let mut rounds = Vec::with_capacity(M);
        for _ in 0..count {
            let x = read_integer(r, MAX_ELEMENT_BITS)?;
            let a = read_bit(r)?;
            let b = read_bit(r)?;
            let z = read_integer(r, MAX_ELEMENT_BITS)?;
            rounds.push(ModRound { x, a, b, z });
        }
        Ok(Self { w, rounds })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn helpers_refuse_bad_inputs_without_panicking() {
        let m = Integer::from(1009u32 * 1013u32);
        assert!(pow_secret(&Integer::from(3), &Integer::from(5), &Integer::from(100)).is_err());
        assert!(pow_secret(&Integer::from(3), &Integer::from(-5), &m).is_err());
        assert!(pow_secret(&Integer::from(3), &Integer::from(5), &Integer::from(1)).is_err());
        assert_eq!(pow_secret(&Integer::from(3), &Integer::ZERO, &m).unwrap(), 1);
        assert!(pow_vartime(&Integer::from(1009), &Integer::from(-1), &m).is_none());
        assert!(pow_vartime(&Integer::from(2), &Integer::from(1), &Integer::ZERO).is_none());
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        assert!(sample_below(&mut rng, &Integer::ZERO).is_err());
    }

    #[test]
    fn secret_power_matches_plain_power() {
        let m = Integer::from(1009u32 * 1013u32);
        let base = Integer::from(12345);
        assert_eq!(
            pow_secret(&base, &Integer::from(77), &m).unwrap(),
            pow_vartime(&base, &Integer::from(77), &m).unwrap()
        );
    }

    #[test]
    fn sampling_stays_in_range() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let bound = Integer::from(5);
        let mut seen = [false; 11];
        for _ in 0..500 {
            let x = sample_signed(&mut rng, &bound).unwrap();
            assert!(x >= -bound.clone() && x <= bound);
            seen[usize::try_from(x.to_i32().unwrap() + 5).unwrap()] = true;
        }
        assert!(seen.iter().all(|s| *s), "both ends of [-B, B] are reached");
        for _ in 0..100 {
            let x = sample_below(&mut rng, &bound).unwrap();
            assert!(x >= 0 && x < bound);
        }
    }

    #[test]
    fn unit_check() {
        let n = Integer::from(15);
        assert!(is_unit_vartime(&Integer::from(2), &n));
        for x in [0i32, 3, 5, 15, 16, -2] {
            assert!(!is_unit_vartime(&Integer::from(x), &n));
        }
    }
}
