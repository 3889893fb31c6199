//! Π^fac: proof that `N = p q` has no small factor, with the verifier's ring-Pedersen
//! parameters `(N̂, s, t)` (CGGMP24 "no small factor proof"; the Lockness spec
//! `spec/main.tex` §"Π^fac"; `docs/spec/zk-aux.md` §3).
//!
//! Statement `N` (the prover's modulus) and the verifier's `(N̂, s, t)`; witness `p, q` with
//! `N = p q`. The proof shows `N = p q` with `p, q ∈ ±2^{ℓ+ε}·⌊√N⌋`, so neither factor is below
//! about `√N / 2^{ℓ+ε}` (CGGMP's "`p, q > 2^ℓ`" at the parameters below).
//!
//! Prover: samples `α, β ← ±2^{ℓ+ε}·√N`, `μ, ν ← ±2^ℓ·N̂`, `σ ← ±2^ℓ·N·N̂`,
//! `r ← ±2^{ℓ+ε}·N·N̂`, `x, y ← ±2^{ℓ+ε}·N̂`; sends `P = s^p t^μ`, `Q = s^q t^ν`,
//! `A = s^α t^x`, `B = s^β t^y`, `T = Q^α t^r` (mod `N̂`) and `σ`; with the challenge `e` it
//! answers `z1 = α + e p`, `z2 = β + e q`, `w1 = x + e μ`, `w2 = y + e ν`,
//! `v = r + e (σ − ν p)`.
//!
//! The verifier checks (one [`FacError`] variant each): `4ℓ <= bitlen(N) <= MAX_MODULUS_BITS`;
//! `P, Q, A, B, T ∈ Z*_N̂`; `z1, z2 ∈ ±2^{ℓ+ε}·⌊√N⌋`; `s^{z1} t^{w1} = A P^e`;
//! `s^{z2} t^{w2} = B Q^e`; `Q^{z1} t^v = T (s^N t^σ)^e` (mod `N̂`).
//!
//! # Parameters (the 128-bit level of SECURITY.md)
//!
//! * [`ELL`] `ℓ = 256`, [`EPSILON`] `ε = 512` (`ℓ′ = 1280` is for the range proofs of
//!   presigning, not used here);
//! * the challenge `e` is uniform in `[−2^ℓ, 2^ℓ]` ([`CHALLENGE_BITS`] = ℓ; the paper draws
//!   `e ← ±q`, the Lockness spec `e ← ±Q`; see the deviations in `docs/spec/zk-aux.md`);
//! * `√N` is `⌊√N⌋`, computed by prover and verifier alike from `N`.

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::{DecodeError, Transcript};
use conclave_paillier::{multi_pow_vartime, DecryptionKey, Integer, RingPedersenParams};
use rand_core::CryptoRngCore;

use crate::common::{append_integer, challenge_signed, read_integer, write_integer};
use crate::pi_mod::{is_unit_vartime, sample_signed, AuxProveError, SecretInteger, MAX_MODULUS_BITS};
use crate::rp::rp_equation;

/// Domain of the Π^fac transcript (`Transcript::for_proof(DOMAIN, &ctx)`).
pub const DOMAIN: &str = "conclave/zk/fac/v1";

/// `ℓ`: bit bound of the honest range (and of the challenge).
pub const ELL: u32 = 256;

/// `ε`: slack of the ranges.
pub const EPSILON: u32 = 512;

/// The challenge `e` is uniform in `[−2^CHALLENGE_BITS, 2^CHALLENGE_BITS]`.
pub const CHALLENGE_BITS: u32 = ELL;

/// Smallest `bitlen(N)` the verifier accepts: `4ℓ` (the revised paper's size check; the
/// 3071-bit floor is Π^mod's, on the same `N`).
pub const MIN_N_BITS: u32 = 4 * ELL;

/// Largest integer the decoder accepts for the commitments (`< N̂`).
const MAX_COMMITMENT_BITS: u32 = MAX_MODULUS_BITS;

/// Largest integer the decoder accepts for `σ` and the responses: far above every honest value
/// (the largest, `v`, has about `ℓ + ε + bitlen(N) + bitlen(N̂) + 2` bits).
const MAX_RESPONSE_BITS: u32 = 2 * MAX_MODULUS_BITS + ELL + EPSILON + 8;

/// The witness of Π^fac: the factors `p, q` of `N`. Borrowed; `Debug` is redacted.
#[derive(Clone, Copy)]
pub struct FacWitness<'a> {
    p: &'a Integer,
    q: &'a Integer,
}

impl core::fmt::Debug for FacWitness<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FacWitness(<redacted>)")
    }
}

impl<'a> FacWitness<'a> {
    /// A witness from two factors (checked against the statement by [`FacProof::prove`]).
    pub fn new(p: &'a Integer, q: &'a Integer) -> Self {
        Self { p, q }
    }

    /// The primes of a Paillier decryption key.
    pub fn from_key(dk: &'a DecryptionKey) -> Self {
        let (p, q) = dk.expose_primes();
        Self { p, q }
    }
}

/// A Π^fac proof: the first message `(P, Q, A, B, T, σ)` and the response
/// `(z1, z2, w1, w2, v)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacProof {
    /// `P = s^p t^μ mod N̂`.
    pub commit_p: Integer,
    /// `Q = s^q t^ν mod N̂`.
    pub commit_q: Integer,
    /// `A = s^α t^x mod N̂`.
    pub commit_a: Integer,
    /// `B = s^β t^y mod N̂`.
    pub commit_b: Integer,
    /// `T = Q^α t^r mod N̂`.
    pub commit_t: Integer,
    /// `σ ∈ ±2^ℓ·N·N̂`.
    pub sigma: Integer,
    /// `z1 = α + e p`.
    pub z1: Integer,
    /// `z2 = β + e q`.
    pub z2: Integer,
    /// `w1 = x + e μ`.
    pub w1: Integer,
    /// `w2 = y + e ν`.
    pub w2: Integer,
    /// `v = r + e (σ − ν p)`.
    pub v: Integer,
}

/// Which check of the Π^fac verifier failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FacError {
    /// `bitlen(N) < 4ℓ` (or `N <= 0`).
    #[error("modulus has {bits} bits, fewer than 4 * ell = {MIN_N_BITS}")]
    ModulusTooShort {
        /// Bits of `N`.
        bits: u32,
    },
    /// `bitlen(N)` above [`MAX_MODULUS_BITS`].
    #[error("modulus has {bits} bits, above the ceiling of {MAX_MODULUS_BITS}")]
    ModulusTooLarge {
        /// Bits of `N`.
        bits: u32,
    },
    /// `P ∉ Z*_N̂`.
    #[error("P is not in Z*_N^")]
    PNotUnit,
    /// `Q ∉ Z*_N̂`.
    #[error("Q is not in Z*_N^")]
    QNotUnit,
    /// `A ∉ Z*_N̂`.
    #[error("A is not in Z*_N^")]
    ANotUnit,
    /// `B ∉ Z*_N̂`.
    #[error("B is not in Z*_N^")]
    BNotUnit,
    /// `T ∉ Z*_N̂`.
    #[error("T is not in Z*_N^")]
    TNotUnit,
    /// `z1 ∉ ±2^{ℓ+ε}·⌊√N⌋`.
    #[error("z1 is outside +-2^(ell+eps) sqrt(N)")]
    Z1OutOfRange,
    /// `z2 ∉ ±2^{ℓ+ε}·⌊√N⌋`.
    #[error("z2 is outside +-2^(ell+eps) sqrt(N)")]
    Z2OutOfRange,
    /// `s^{z1} t^{w1} ≠ A P^e (mod N̂)`.
    #[error("s^z1 t^w1 != A P^e mod N^")]
    FirstEquation,
    /// `s^{z2} t^{w2} ≠ B Q^e (mod N̂)`.
    #[error("s^z2 t^w2 != B Q^e mod N^")]
    SecondEquation,
    /// `Q^{z1} t^v ≠ T (s^N t^σ)^e (mod N̂)`.
    #[error("Q^z1 t^v != T (s^N t^sigma)^e mod N^")]
    ThirdEquation,
}

/// The sampling bounds and the range bound, from `N` and `N̂`.
struct Bounds {
    /// `2^{ℓ+ε}·⌊√N⌋`: `α, β` and the range of `z1, z2`.
    alpha: Integer,
    /// `2^ℓ·N̂`: `μ, ν`.
    mu: Integer,
    /// `2^ℓ·N·N̂`: `σ`.
    sigma: Integer,
    /// `2^{ℓ+ε}·N·N̂`: `r`.
    r: Integer,
    /// `2^{ℓ+ε}·N̂`: `x, y`.
    x: Integer,
}

impl Bounds {
    fn new(n: &Integer, n_hat: &Integer) -> Self {
        let sqrt_n = Integer::from(n.sqrt_ref());
        let n_n_hat = Integer::from(n * n_hat);
        Self {
            alpha: sqrt_n << (ELL + EPSILON),
            mu: Integer::from(n_hat << ELL),
            sigma: Integer::from(&n_n_hat << ELL),
            r: n_n_hat << (ELL + EPSILON),
            x: Integer::from(n_hat << (ELL + EPSILON)),
        }
    }
}

/// The verifier's check on `N` alone (before `√N` is taken).
fn check_statement(n: &Integer) -> Result<(), FacError> {
    let bits = n.significant_bits();
    if *n <= 0 || bits < MIN_N_BITS {
        return Err(FacError::ModulusTooShort { bits });
    }
    if bits > MAX_MODULUS_BITS {
        return Err(FacError::ModulusTooLarge { bits });
    }
    Ok(())
}

/// The challenge `e ∈ [−2^ℓ, 2^ℓ]`, bound to the context (in `transcript`), the parameters,
/// the statement `(N, N̂, s, t)` and the first message `(P, Q, A, B, T, σ)`.
fn challenge(transcript: &Transcript, n: &Integer, aux: &RingPedersenParams, proof: &FacProof) -> Integer {
    let mut t = transcript.clone();
    t.append_bytes("aux/proof", DOMAIN.as_bytes());
    t.append_u64("fac/ell", u64::from(ELL));
    t.append_u64("fac/epsilon", u64::from(EPSILON));
    append_integer(&mut t, "fac/N", n);
    append_integer(&mut t, "fac/aux-N", aux.modulus());
    append_integer(&mut t, "fac/aux-s", aux.s());
    append_integer(&mut t, "fac/aux-t", aux.t());
    append_integer(&mut t, "fac/P", &proof.commit_p);
    append_integer(&mut t, "fac/Q", &proof.commit_q);
    append_integer(&mut t, "fac/A", &proof.commit_a);
    append_integer(&mut t, "fac/B", &proof.commit_b);
    append_integer(&mut t, "fac/T", &proof.commit_t);
    append_integer(&mut t, "fac/sigma", &proof.sigma);
    challenge_signed(&mut t, "fac/e", &(Integer::from(1) << CHALLENGE_BITS))
}

/// `|x| <= bound`.
fn in_range(x: &Integer, bound: &Integer) -> bool {
    x.as_abs().cmp(bound).is_le()
}

impl FacProof {
    /// Proves that `n = p q` has no small factor, towards the verifier whose ring-Pedersen
    /// parameters are `aux`.
    ///
    /// `transcript` must hold the proof context (`Transcript::for_proof(DOMAIN, &ctx)`). Checks
    /// only that `p q = n` with `p, q > 1` and that `n` passes the size checks: a prover with
    /// a bad factorisation gets a proof that the verifier rejects. All commitments are
    /// fixed-base products `s^a t^b` computed with the verifier's precomputed tables
    /// ([`RingPedersenParams::commit`]: constant-time in `a` and `b`, signed exponents shifted
    /// by a public offset); `T = Q^α t^r` is computed as `s^(qα) t^(να + r)`.
    pub fn prove(
        transcript: &Transcript,
        n: &Integer,
        aux: &RingPedersenParams,
        witness: &FacWitness<'_>,
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Self, AuxProveError> {
        let (p, q) = (witness.p, witness.q);
        if *p <= 1 || *q <= 1 || Integer::from(p * q) != *n {
            return Err(AuxProveError::InvalidWitness("p q != N"));
        }
        check_statement(n).map_err(|_| AuxProveError::InvalidStatement("modulus size"))?;
        let bounds = Bounds::new(n, aux.modulus());

        let alpha = SecretInteger::new(sample_signed(rng, &bounds.alpha)?);
        let beta = SecretInteger::new(sample_signed(rng, &bounds.alpha)?);
        let mu = SecretInteger::new(sample_signed(rng, &bounds.mu)?);
        let nu = SecretInteger::new(sample_signed(rng, &bounds.mu)?);
        let sigma = sample_signed(rng, &bounds.sigma)?;
        let r = SecretInteger::new(sample_signed(rng, &bounds.r)?);
        let x = SecretInteger::new(sample_signed(rng, &bounds.x)?);
        let y = SecretInteger::new(sample_signed(rng, &bounds.x)?);

        // Fixed-base commitments through the verifier's precomputed tables
        // (`RingPedersenParams::commit`, constant-time in the exponents); `T = Q^α t^r` is
        // computed as `s^(qα) t^(να + r)` (since `Q = s^q t^ν`), so no exponentiation of a
        // variable base is needed.
        let bits = |bound: &Integer| bound.significant_bits();
        let pq_bits = p.significant_bits().max(q.significant_bits());
        let commit = |x: &Integer, xb: u32, y: &Integer, yb: u32| {
            aux.commit(x, xb, y, yb).map_err(|_| AuxProveError::Bug("ring-Pedersen commitment"))
        };
        let commit_p = commit(p, pq_bits, mu.expose(), bits(&bounds.mu))?;
        let commit_q = commit(q, pq_bits, nu.expose(), bits(&bounds.mu))?;
        let commit_a = commit(alpha.expose(), bits(&bounds.alpha), x.expose(), bits(&bounds.x))?;
        let commit_b = commit(beta.expose(), bits(&bounds.alpha), y.expose(), bits(&bounds.x))?;
        let q_alpha = SecretInteger::new(Integer::from(q * alpha.expose()));
        let nu_alpha = SecretInteger::new(Integer::from(nu.expose() * alpha.expose()));
        let nu_alpha_r = SecretInteger::new(Integer::from(nu_alpha.expose() + r.expose()));
        let nu_alpha_r_bound = Integer::from(&bounds.mu * &bounds.alpha) + &bounds.r;
        let commit_t =
            commit(q_alpha.expose(), pq_bits + bits(&bounds.alpha), nu_alpha_r.expose(), bits(&nu_alpha_r_bound))?;
        let mut proof = Self {
            commit_p,
            commit_q,
            commit_a,
            commit_b,
            commit_t,
            sigma,
            z1: Integer::ZERO,
            z2: Integer::ZERO,
            w1: Integer::ZERO,
            w2: Integer::ZERO,
            v: Integer::ZERO,
        };
        let e = challenge(transcript, n, aux, &proof);
        proof.z1 = Integer::from(&e * p) + alpha.expose();
        proof.z2 = Integer::from(&e * q) + beta.expose();
        proof.w1 = Integer::from(&e * mu.expose()) + x.expose();
        proof.w2 = Integer::from(&e * nu.expose()) + y.expose();
        let nu_p = SecretInteger::new(Integer::from(nu.expose() * p));
        let sigma_minus = SecretInteger::new(Integer::from(&proof.sigma - nu_p.expose()));
        proof.v = Integer::from(&e * sigma_minus.expose()) + r.expose();
        Ok(proof)
    }

    /// Verifies the proof for the modulus `n` towards our ring-Pedersen parameters `aux`, in
    /// the context held by `transcript`.
    ///
    /// Checks, in order (docs/spec/zk-aux.md §3.4): `4ℓ <= bitlen(N) <= MAX_MODULUS_BITS`;
    /// `P, Q, A, B, T ∈ Z*_N̂`; `z1, z2 ∈ ±2^{ℓ+ε}·⌊√N⌋`; then the three equations.
    pub fn verify(&self, transcript: &Transcript, n: &Integer, aux: &RingPedersenParams) -> Result<(), FacError> {
        self.verify_with_key(transcript, n, aux, None)
    }

    /// As [`FacProof::verify`]; `verifier_key`, if it is the decryption key of `N̂` (our own
    /// modulus, as in CGGMP24 aux-info where `N̂ = N`), checks the three equations by CRT with
    /// [`DecryptionKey::ring_pedersen_relation_holds`] (the third as
    /// `s^(−N e) t^(v − σ e) Q^(z1) = T`). Same checks, same errors, same result.
    pub fn verify_with_key(
        &self,
        transcript: &Transcript,
        n: &Integer,
        aux: &RingPedersenParams,
        verifier_key: Option<&DecryptionKey>,
    ) -> Result<(), FacError> {
        check_statement(n)?;
        let (n_hat, s, t) = (aux.modulus(), aux.s(), aux.t());
        if !is_unit_vartime(&self.commit_p, n_hat) {
            return Err(FacError::PNotUnit);
        }
        if !is_unit_vartime(&self.commit_q, n_hat) {
            return Err(FacError::QNotUnit);
        }
        if !is_unit_vartime(&self.commit_a, n_hat) {
            return Err(FacError::ANotUnit);
        }
        if !is_unit_vartime(&self.commit_b, n_hat) {
            return Err(FacError::BNotUnit);
        }
        if !is_unit_vartime(&self.commit_t, n_hat) {
            return Err(FacError::TNotUnit);
        }
        let bounds = Bounds::new(n, n_hat);
        if !in_range(&self.z1, &bounds.alpha) {
            return Err(FacError::Z1OutOfRange);
        }
        if !in_range(&self.z2, &bounds.alpha) {
            return Err(FacError::Z2OutOfRange);
        }
        let e = challenge(transcript, n, aux, self);
        // s, t are units (RingPedersenParams checks it), P, Q, A, B, T were checked above, so
        // every (possibly negative) power below exists; a failure can only mean a mismatch.
        if !rp_equation(aux, verifier_key, &self.z1, &self.w1, &self.commit_a, &self.commit_p, &e) {
            return Err(FacError::FirstEquation);
        }
        if !rp_equation(aux, verifier_key, &self.z2, &self.w2, &self.commit_b, &self.commit_q, &e) {
            return Err(FacError::SecondEquation);
        }
        // Q^z1 t^v = T (s^N t^σ)^e  ⟺  s^(−N e) · t^(v − σ e) · Q^z1 = T.
        let s_exp = -Integer::from(n * &e);
        let t_exp = &self.v - Integer::from(&self.sigma * &e);
        let third = match verifier_key.filter(|k| k.encryption_key().modulus() == n_hat) {
            Some(dk) => dk
                .ring_pedersen_relation_holds(aux, &s_exp, &t_exp, &[(&self.commit_q, &self.z1)], &self.commit_t)
                .unwrap_or(false),
            None => multi_pow_vartime(&[(s, &s_exp), (t, &t_exp), (&self.commit_q, &self.z1)], n_hat)
                .is_some_and(|v| v == self.commit_t),
        };
        if !third {
            return Err(FacError::ThirdEquation);
        }
        Ok(())
    }
}

impl Encode for FacProof {
    fn encode(&self, w: &mut Writer) {
        for x in [
            &self.commit_p,
            &self.commit_q,
            &self.commit_a,
            &self.commit_b,
            &self.commit_t,
            &self.sigma,
            &self.z1,
            &self.z2,
            &self.w1,
            &self.w2,
            &self.v,
        ] {
            write_integer(w, x);
        }
    }
}

impl Decode for FacProof {
    /// Decodes the eleven integers `P, Q, A, B, T` (at most [`MAX_MODULUS_BITS`] bits each),
    /// `σ, z1, z2, w1, w2, v` (at most `2·MAX_MODULUS_BITS + ℓ + ε + 8` bits each).
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            commit_p: read_integer(r, MAX_COMMITMENT_BITS)?,
            commit_q: read_integer(r, MAX_COMMITMENT_BITS)?,
            commit_a: read_integer(r, MAX_COMMITMENT_BITS)?,
            commit_b: read_integer(r, MAX_COMMITMENT_BITS)?,
            commit_t: read_integer(r, MAX_COMMITMENT_BITS)?,
            sigma: read_integer(r, MAX_RESPONSE_BITS)?,
            z1: read_integer(r, MAX_RESPONSE_BITS)?,
            z2: read_integer(r, MAX_RESPONSE_BITS)?,
            w1: read_integer(r, MAX_RESPONSE_BITS)?,
            w2: read_integer(r, MAX_RESPONSE_BITS)?,
            v: read_integer(r, MAX_RESPONSE_BITS)?,
        })
    }
}
