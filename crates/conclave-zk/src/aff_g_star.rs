//! Π^aff-g*: setup-less Paillier affine operation with group commitment in range (CGGMP24,
//! Appendix A, Fig. 27 per the citation in `docs/spec/zk-presign.md` §1; used by the
//! identifiable abort of presigning, one proof per `D_{j,i} / F_{j,i}` (with `Γ_i`) or per
//! `D̂_{j,i} / F̂_{j,i}` (with `X_i`)).
//!
//! The proof is broadcast and checked by every party, so it uses no ring-Pedersen parameters:
//! `m = 128` ([`BINARY_CHALLENGES`]) parallel repetitions with binary challenges
//! `e_j ∈ {0, 1}` (soundness error `2^-m`).
//!
//! Statement (as Π^aff-g without `(N̂, s, t)`): the verifier's Paillier key `N_j` (called
//! `N0`), the prover's key `N_i` (`N1`), ciphertexts `C, D ∈ Z*_{N0²}`, `Y ∈ Z*_{N1²}` and a
//! point `X`. Witness: `x ∈ ±2^ℓ`, `y ∈ ±2^ℓ′`, `ρ ∈ Z*_{N0}`, `ρ_y ∈ Z*_{N1}` with
//! `D = C^x · enc_0(y; ρ)`, `Y = enc_1(y; ρ_y)`, `X = x·G`. (Presigning passes `y = −β`, as
//! for Π^aff-g: `D = γ⊙K ⊕ enc_0(−β)`, `F = enc_1(−β)`; no sign flip inside the proof.)
//!
//! Prover, for each `j < m`: `α_j ← ±2^(ℓ+ε)`, `β_j ← ±2^(ℓ′+ε)`, `r_j ← Z*_{N0}`,
//! `s_j ← Z*_{N1}`; `A_j = C^{α_j}·enc_0(β_j; r_j)`, `R_j = α_j·G`, `B_j = enc_1(β_j; s_j)`.
//! Challenge bits `e_0 … e_{m−1}` from the transcript (context, statement, all commitments).
//! `z_j = α_j + e_j·x`, `z′_j = β_j + e_j·y`, `w_j = r_j·ρ^{e_j} mod N0`,
//! `λ_j = s_j·ρ_y^{e_j} mod N1`.
//!
//! Verifier (numbering of `docs/spec/zk-presign.md` §8): (V1–V3) `C, D ∈ Z*_{N0²}`,
//! `Y ∈ Z*_{N1²}`; (V4) exactly `m` commitments and `m` responses; for every `j`:
//! (V5) `A_j ∈ Z*_{N0²}`; (V6) `B_j ∈ Z*_{N1²}`; (V7) `w_j ∈ Z*_{N0}`; (V8) `λ_j ∈ Z*_{N1}`;
//! (V9) `z_j ∈ ±2^(ℓ+ε)`; (V10) `z′_j ∈ ±2^(ℓ′+ε)`; then for every `j`:
//! (V11) `C^{z_j}·enc_0(z′_j; w_j) = A_j·D^{e_j} mod N0²`; (V12) `z_j·G = R_j + e_j·X`;
//! (V13) `enc_1(z′_j; λ_j) = B_j·Y^{e_j} mod N1²`.
//!
//! Cost: every repetition needs one full `r^N0` (verifier's key, no CRT) and one `s^N1` (by CRT
//! when the witness carries the prover's decryption key) on the prover's side, and two full
//! `N`-th powers on the verifier's side; the proof is about 128 times the size of one
//! repetition (≈ 290 KB at 3072-bit moduli). It is sent only when presigning aborts.

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::{Curve, DecodeError, SecretScalar, Transcript};
use conclave_paillier::{Ciphertext, DecryptionKey, EncryptionKey, Nonce};
use rand_core::CryptoRngCore;
use rug::integer::Order;
use rug::Integer;

use crate::common::{append_integer, challenge_bits, integer_to_scalar, read_integer, write_integer};
use crate::rp::{
    append_paillier, enc_fresh, enc_vartime, in_range_bits, is_ciphertext, is_unit, pow_vartime, random_signed_bits,
    random_unit, wipe, ProveError, BINARY_CHALLENGES, ELL, ELL_PRIME, EPSILON, MAX_MODULUS_BITS,
};

/// Domain of the Π^aff-g* transcript.
pub const DOMAIN: &str = "conclave/zk/aff-g-star/v1";

/// The public statement of Π^aff-g*.
#[derive(Debug, Clone, Copy)]
pub struct AffGStarStatement<'a, C: Curve> {
    /// `N0`: the verifier's Paillier key (`C` and `D` are encrypted under it).
    pub verifier_key: &'a EncryptionKey,
    /// `N1`: the prover's Paillier key (`Y` is encrypted under it).
    pub prover_key: &'a EncryptionKey,
    /// `C` (the verifier's `K_j`).
    pub c: &'a Ciphertext,
    /// `D = C^x · enc_0(y; ρ)`.
    pub d: &'a Ciphertext,
    /// `Y = enc_1(y; ρ_y)`.
    pub y: &'a Ciphertext,
    /// `X = x·G`.
    pub x: C::Point,
}

/// The secret witness of Π^aff-g*. `Debug` is redacted.
pub struct AffGStarWitness<'a> {
    /// `x ∈ ±2^ℓ`.
    pub x: &'a Integer,
    /// `y ∈ ±2^ℓ′`.
    pub y: &'a Integer,
    /// `ρ`, the nonce of `enc_0(y; ρ)` in `D`.
    pub rho: &'a Nonce,
    /// `ρ_y`, the nonce of `Y`.
    pub rho_y: &'a Nonce,
    /// The prover's own decryption key (of `N1`), if at hand: `enc_1` is then computed by CRT
    /// (same result, faster). Ignored unless its modulus is `N1`.
    pub prover_secret_key: Option<&'a DecryptionKey>,
}

impl core::fmt::Debug for AffGStarWitness<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AffGStarWitness(<redacted>)")
    }
}

/// The first message of one repetition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffGStarCommitment<C: Curve> {
    /// `A_j = C^{α_j}·enc_0(β_j; r_j)`.
    pub a: Integer,
    /// `R_j = α_j·G`.
    pub r: C::Point,
    /// `B_j = enc_1(β_j; s_j)`.
    pub b: Integer,
}

/// The response of one repetition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffGStarResponse {
    /// `z_j = α_j + e_j·x`.
    pub z: Integer,
    /// `z′_j = β_j + e_j·y`.
    pub z_prime: Integer,
    /// `w_j = r_j·ρ^{e_j} mod N0`.
    pub w: Integer,
    /// `λ_j = s_j·ρ_y^{e_j} mod N1`.
    pub lambda: Integer,
}

/// A Π^aff-g* proof: exactly [`BINARY_CHALLENGES`] commitments and as many responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffGStarProof<C: Curve> {
    /// The commitments `(A_j, R_j, B_j)`.
    pub commitments: Vec<AffGStarCommitment<C>>,
    /// The responses `(z_j, z′_j, w_j, λ_j)`.
    pub responses: Vec<AffGStarResponse>,
}

/// Which check of Π^aff-g* failed (one variant per check, numbered as in the spec; `index` is
/// the repetition `j`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AffGStarError {
    /// (V1) Statement `C ∉ Z*_{N0²}`.
    #[error("Π^aff-g*: statement ciphertext C not in Z*_(N0²)")]
    StatementC,
    /// (V2) Statement `D ∉ Z*_{N0²}`.
    #[error("Π^aff-g*: statement ciphertext D not in Z*_(N0²)")]
    StatementD,
    /// (V3) Statement `Y ∉ Z*_{N1²}`.
    #[error("Π^aff-g*: statement ciphertext Y not in Z*_(N1²)")]
    StatementY,
    /// (V4) Not exactly `m` commitments and `m` responses.
    #[error("Π^aff-g*: {commitments} commitments and {responses} responses, expected {BINARY_CHALLENGES} each")]
    RepetitionCount {
        /// Commitments found.
        commitments: usize,
        /// Responses found.
        responses: usize,
    },
    /// (V5) `A_j ∉ Z*_{N0²}`.
    #[error("Π^aff-g*: commitment A_{index} not in Z*_(N0²)")]
    ANotCiphertext {
        /// Repetition.
        index: usize,
    },
    /// (V6) `B_j ∉ Z*_{N1²}`.
    #[error("Π^aff-g*: commitment B_{index} not in Z*_(N1²)")]
    BNotCiphertext {
        /// Repetition.
        index: usize,
    },
    /// (V7) `w_j ∉ Z*_{N0}`.
    #[error("Π^aff-g*: response w_{index} not in Z*_N0")]
    WNotUnit {
        /// Repetition.
        index: usize,
    },
    /// (V8) `λ_j ∉ Z*_{N1}`.
    #[error("Π^aff-g*: response λ_{index} not in Z*_N1")]
    LambdaNotUnit {
        /// Repetition.
        index: usize,
    },
    /// (V9) `z_j ∉ ±2^(ℓ+ε)`.
    #[error("Π^aff-g*: response z_{index} out of range ±2^(ℓ+ε)")]
    ZOutOfRange {
        /// Repetition.
        index: usize,
    },
    /// (V10) `z′_j ∉ ±2^(ℓ′+ε)`.
    #[error("Π^aff-g*: response z'_{index} out of range ±2^(ℓ'+ε)")]
    ZPrimeOutOfRange {
        /// Repetition.
        index: usize,
    },
    /// (V11) `C^{z_j}·enc_0(z′_j; w_j) ≠ A_j·D^{e_j}`.
    #[error("Π^aff-g*: affine equation C^z·enc0(z'; w) = A·D^e fails in repetition {index}")]
    AffineEquation {
        /// Repetition.
        index: usize,
    },
    /// (V12) `z_j·G ≠ R_j + e_j·X`.
    #[error("Π^aff-g*: group equation z·G = R + e·X fails in repetition {index}")]
    GroupEquation {
        /// Repetition.
        index: usize,
    },
    /// (V13) `enc_1(z′_j; λ_j) ≠ B_j·Y^{e_j}`.
    #[error("Π^aff-g*: encryption equation enc1(z'; λ) = B·Y^e fails in repetition {index}")]
    EncryptionEquation {
        /// Repetition.
        index: usize,
    },
}

/// `base^x mod m` for one public base and many secret signed exponents `|x| < 2^bits`, in
/// constant time with respect to `x`: as `rp::pow_secret` (`base^(x + 3·2^bits)` with GMP's
/// `mpz_powm_sec`, times the public correction `base^(−3·2^bits)`), but the correction is
/// computed once for all `m` repetitions, and the exponentiation runs by CRT when the owner's
/// decryption key of `m = N²` is given.
pub(crate) struct FixedBasePow<'a> {
    base: &'a Integer,
    modulus: &'a Integer,
    bits: u32,
    offset: Integer,
    correction: Integer,
    key: Option<&'a DecryptionKey>,
}

impl<'a> FixedBasePow<'a> {
    /// `key`, if given, must be the decryption key whose `N²` is `modulus` (checked; otherwise
    /// it is not used). `None` if `base` is not a unit modulo the odd `modulus`.
    pub(crate) fn new(
        base: &'a Integer,
        modulus: &'a Integer,
        bits: u32,
        key: Option<&'a DecryptionKey>,
    ) -> Option<Self> {
        if modulus.is_even() || *modulus <= 1 || bits > 2 * MAX_MODULUS_BITS || !is_unit(base, modulus) {
            return None;
        }
        let offset = Integer::from(3u32) << bits;
        let correction = pow_vartime(base, &Integer::from(-&offset), modulus)?;
        let key = key.filter(|k| k.encryption_key().modulus_squared() == modulus);
        Some(Self { base, modulus, bits, offset, correction, key })
    }

    /// `base^x mod m`; `None` if `|x| ≥ 2^bits`.
    pub(crate) fn pow(&self, x: &Integer) -> Option<Integer> {
        if x.significant_bits() > self.bits {
            return None;
        }
        let mut shifted = Integer::from(x + &self.offset);
        let raised = match self.key {
            Some(k) => k.pow_mod_nn(self.base, &shifted).ok(),
            None => Some(Integer::from(self.base.secure_pow_mod_ref(&shifted, self.modulus))),
        };
        wipe(&mut shifted);
        Some(raised? * &self.correction % self.modulus)
    }
}

/// Paillier encryption of a secret `m` with a secret nonce `r` (`r^N` in constant time), by
/// CRT when `key` is the decryption key of `ek`.
pub(crate) fn enc_secret_with(
    ek: &EncryptionKey,
    key: Option<&DecryptionKey>,
    m: &Integer,
    r: &Integer,
) -> Option<Integer> {
    let nonce = Nonce::new(r.clone());
    let c = match key.filter(|k| k.encryption_key().modulus() == ek.modulus()) {
        Some(k) => k.encrypt_with_nonce(m, &nonce),
        None => ek.encrypt_with_nonce(m, &nonce),
    };
    c.ok().map(Ciphertext::into_integer)
}

/// `r·ρ^e mod n` for a public bit `e`.
pub(crate) fn mask_nonce(r: &Integer, rho: &Integer, e: bool, n: &Integer) -> Integer {
    if e {
        Integer::from(r * rho) % n
    } else {
        r.clone()
    }
}

/// `a·b^e mod m` for a public bit `e` (verifier side).
pub(crate) fn mul_if(a: &Integer, b: &Integer, e: bool, m: &Integer) -> Integer {
    if e {
        Integer::from(a * b) % m
    } else {
        a.clone()
    }
}

/// The transcript after the statement and all commitments, and the `m` challenge bits drawn
/// from it (the transcript continues into [`batch_weights`]).
fn challenge<C: Curve>(
    transcript: &Transcript,
    st: &AffGStarStatement<'_, C>,
    commitments: &[AffGStarCommitment<C>],
) -> (Transcript, Vec<bool>) {
    let mut t = transcript.clone();
    t.append_u64("aff-g*/m", BINARY_CHALLENGES as u64);
    append_paillier(&mut t, "aff-g*/n0", st.verifier_key);
    append_paillier(&mut t, "aff-g*/n1", st.prover_key);
    append_integer(&mut t, "aff-g*/c", st.c.as_integer());
    append_integer(&mut t, "aff-g*/d", st.d.as_integer());
    append_integer(&mut t, "aff-g*/y", st.y.as_integer());
    t.append_point::<C>("aff-g*/x", &st.x);
    t.append_u64("aff-g*/commitments", commitments.len() as u64);
    for c in commitments {
        append_integer(&mut t, "aff-g*/A", &c.a);
        t.append_point::<C>("aff-g*/R", &c.r);
        append_integer(&mut t, "aff-g*/B", &c.b);
    }
    let bits = challenge_bits(&mut t, "aff-g*/challenge", BINARY_CHALLENGES);
    (t, bits)
}

/// Bits of a batching weight: a batch accepts a proof whose repetitions do not all hold with
/// probability at most `2^-128` (every prime factor of the moduli exceeds `2^128`, which
/// Π^fac guarantees for registered keys; see `docs/spec/zk-presign.md` §10).
pub(crate) const BATCH_WEIGHT_BITS: u32 = 128;

/// The `m` batching weights `c_j ∈ [1, 2^128]` of the verifier, drawn from the transcript
/// that already holds the statement, the commitments, the challenge and all responses.
pub(crate) fn batch_weights(t: &mut Transcript) -> Vec<Integer> {
    let len = (BATCH_WEIGHT_BITS as usize).div_ceil(8);
    let mut buf = vec![0u8; len * BINARY_CHALLENGES];
    t.challenge_bytes("batch-weights", &mut buf);
    buf.chunks(len).map(|c| Integer::from_digits(c, Order::Msf) + 1u32).collect()
}

/// `Π b_j^{c_j} mod m` for public bases and non-negative exponents (Straus' interleaved
/// square-and-multiply: one squaring per exponent bit for all bases together).
pub(crate) fn multi_pow_vartime(terms: &[(&Integer, &Integer)], m: &Integer) -> Integer {
    let bits = terms.iter().map(|(_, e)| e.significant_bits()).max().unwrap_or(0);
    let bases: Vec<Integer> = terms.iter().map(|(b, _)| Integer::from(b.modulo_ref(m))).collect();
    let mut acc = Integer::from(1);
    for i in (0..bits).rev() {
        acc.square_mut();
        acc %= m;
        for ((_, e), b) in terms.iter().zip(&bases) {
            if e.get_bit(i) {
                acc *= b;
                acc %= m;
            }
        }
    }
    acc
}

/// `Σ_j c_j·v_j` over the integers.
pub(crate) fn weighted_sum<'a>(weights: &[Integer], values: impl Iterator<Item = &'a Integer>) -> Integer {
    weights.iter().zip(values).fold(Integer::ZERO, |acc, (c, v)| acc + Integer::from(c * v))
}

/// `Σ_{j: e_j = 1} c_j`.
pub(crate) fn weight_of_ones(weights: &[Integer], bits: &[bool]) -> Integer {
    weights.iter().zip(bits).filter(|(_, e)| **e).fold(Integer::ZERO, |acc, (c, _)| acc + c)
}

impl<C: Curve> AffGStarProof<C> {
    /// Proves the statement with the witness. The witness is not checked against the
    /// statement (a wrong witness yields a proof that does not verify).
    pub fn prove(
        transcript: &Transcript,
        st: &AffGStarStatement<'_, C>,
        wit: &AffGStarWitness<'_>,
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Self, ProveError> {
        let bad = ProveError::InvalidInput;
        let n0 = st.verifier_key.modulus();
        let nn0 = st.verifier_key.modulus_squared();
        let n1 = st.prover_key.modulus();
        let c_pow = FixedBasePow::new(st.c.as_integer(), nn0, ELL + EPSILON + 1, None).ok_or(bad("C not a unit"))?;

        let mut ephemerals = Vec::with_capacity(BINARY_CHALLENGES);
        let mut commitments = Vec::with_capacity(BINARY_CHALLENGES);
        for _ in 0..BINARY_CHALLENGES {
            let alpha = random_signed_bits(rng, ELL + EPSILON);
            let beta = random_signed_bits(rng, ELL_PRIME + EPSILON);
            let r = random_unit(rng, n0);
            let c_alpha = c_pow.pow(alpha.expose()).ok_or(bad("α"))?;
            let enc_beta =
                enc_secret_with(st.verifier_key, None, beta.expose(), r.expose()).ok_or(bad("β does not fit N0"))?;
            let a = c_alpha * enc_beta % nn0;
            let alpha_scalar = SecretScalar::<C>::new(integer_to_scalar::<C>(alpha.expose()));
            let r_point = C::mul_base(alpha_scalar.expose_secret());
            // Under our own key N1: a fresh nonce and its N1-th power from the key's tables.
            let (b, s) =
                enc_fresh(rng, st.prover_key, wit.prover_secret_key, beta.expose()).ok_or(bad("β does not fit N1"))?;
            commitments.push(AffGStarCommitment { a, r: r_point, b });
            ephemerals.push((alpha, beta, r, s));
        }
        let (_, bits) = challenge::<C>(transcript, st, &commitments);

        let rho = wit.rho.expose_secret();
        let rho_y = wit.rho_y.expose_secret();
        let mut responses = Vec::with_capacity(BINARY_CHALLENGES);
        for ((alpha, beta, r, s), e) in ephemerals.iter().zip(&bits) {
            let (z, z_prime) = if *e {
                (Integer::from(alpha.expose() + wit.x), Integer::from(beta.expose() + wit.y))
            } else {
                (alpha.expose().clone(), beta.expose().clone())
            };
            let w = mask_nonce(r.expose(), rho, *e, n0);
            let lambda = mask_nonce(s.expose(), rho_y, *e, n1);
            responses.push(AffGStarResponse { z, z_prime, w, lambda });
        }
        drop(ephemerals);
        Ok(Self { commitments, responses })
    }

    /// Verifies the proof against the statement in the context held by `transcript`.
    pub fn verify(&self, transcript: &Transcript, st: &AffGStarStatement<'_, C>) -> Result<(), AffGStarError> {
        let n0 = st.verifier_key.modulus();
        let nn0 = st.verifier_key.modulus_squared();
        let n1 = st.prover_key.modulus();
        let nn1 = st.prover_key.modulus_squared();

        if !is_ciphertext(st.c.as_integer(), st.verifier_key) {
            return Err(AffGStarError::StatementC);
        }
        if !is_ciphertext(st.d.as_integer(), st.verifier_key) {
            return Err(AffGStarError::StatementD);
        }
        if !is_ciphertext(st.y.as_integer(), st.prover_key) {
            return Err(AffGStarError::StatementY);
        }
        if self.commitments.len() != BINARY_CHALLENGES || self.responses.len() != BINARY_CHALLENGES {
            return Err(AffGStarError::RepetitionCount {
                commitments: self.commitments.len(),
                responses: self.responses.len(),
            });
        }
        let reps = || self.commitments.iter().zip(&self.responses).enumerate();
        for (index, (com, resp)) in reps() {
            if !is_ciphertext(&com.a, st.verifier_key) {
                return Err(AffGStarError::ANotCiphertext { index });
            }
            if !is_ciphertext(&com.b, st.prover_key) {
                return Err(AffGStarError::BNotCiphertext { index });
            }
            if !is_unit(&resp.w, n0) {
                return Err(AffGStarError::WNotUnit { index });
            }
            if !is_unit(&resp.lambda, n1) {
                return Err(AffGStarError::LambdaNotUnit { index });
            }
        }
        for (index, (_, resp)) in reps() {
            if !in_range_bits(&resp.z, ELL + EPSILON) {
                return Err(AffGStarError::ZOutOfRange { index });
            }
            if !in_range_bits(&resp.z_prime, ELL_PRIME + EPSILON) {
                return Err(AffGStarError::ZPrimeOutOfRange { index });
            }
        }
        let (mut t, bits) = challenge::<C>(transcript, st, &self.commitments);
        // (V12) per repetition (cheap group operations).
        for ((index, (com, resp)), e) in reps().zip(&bits) {
            let rhs = if *e { com.r + st.x } else { com.r };
            if C::mul_base(&integer_to_scalar::<C>(&resp.z)) != rhs {
                return Err(AffGStarError::GroupEquation { index });
            }
        }
        // (V11), (V13): all repetitions in one random linear combination; if it fails, every
        // repetition on its own, to name the check and the repetition that fail.
        for resp in &self.responses {
            for v in [&resp.z, &resp.z_prime, &resp.w, &resp.lambda] {
                append_integer(&mut t, "aff-g*/response", v);
            }
        }
        let c = batch_weights(&mut t);
        if self.batch_holds(st, &bits, &c) {
            return Ok(());
        }
        for ((index, (com, resp)), e) in reps().zip(bits) {
            let lhs = pow_vartime(st.c.as_integer(), &resp.z, nn0)
                .zip(enc_vartime(st.verifier_key, &resp.z_prime, &resp.w))
                .map(|(a, b)| a * b % nn0);
            let rhs = mul_if(&com.a, st.d.as_integer(), e, nn0);
            if lhs.as_ref() != Some(&rhs) {
                return Err(AffGStarError::AffineEquation { index });
            }
            let lhs = enc_vartime(st.prover_key, &resp.z_prime, &resp.lambda);
            let rhs = mul_if(&com.b, st.y.as_integer(), e, nn1);
            if lhs.as_ref() != Some(&rhs) {
                return Err(AffGStarError::EncryptionEquation { index });
            }
        }
        Ok(())
    }

    /// The Paillier equations (V11) and (V13) of all repetitions at once, with weights `c_j`:
    /// `C^{Σc_j z_j}·enc_0(Σc_j z′_j; Πw_j^{c_j}) = ΠA_j^{c_j}·D^{Σ_{e_j=1} c_j} mod N0²` and
    /// `enc_1(Σc_j z′_j; Πλ_j^{c_j}) = ΠB_j^{c_j}·Y^{Σ_{e_j=1} c_j} mod N1²`.
    fn batch_holds(&self, st: &AffGStarStatement<'_, C>, bits: &[bool], c: &[Integer]) -> bool {
        let (n0, nn0) = (st.verifier_key.modulus(), st.verifier_key.modulus_squared());
        let (n1, nn1) = (st.prover_key.modulus(), st.prover_key.modulus_squared());
        let sum_z = weighted_sum(c, self.responses.iter().map(|r| &r.z));
        let sum_z_prime = weighted_sum(c, self.responses.iter().map(|r| &r.z_prime));
        let ones = weight_of_ones(c, bits);
        fn pairs<'a>(v: impl Iterator<Item = &'a Integer>, c: &'a [Integer]) -> Vec<(&'a Integer, &'a Integer)> {
            v.zip(c).collect()
        }

        let w = multi_pow_vartime(&pairs(self.responses.iter().map(|r| &r.w), c), n0);
        let a = multi_pow_vartime(&pairs(self.commitments.iter().map(|x| &x.a), c), nn0);
        let lhs = pow_vartime(st.c.as_integer(), &sum_z, nn0)
            .zip(enc_vartime(st.verifier_key, &sum_z_prime, &w))
            .map(|(x, y)| x * y % nn0);
        let rhs = pow_vartime(st.d.as_integer(), &ones, nn0).map(|d| d * a % nn0);
        if lhs.is_none() || lhs != rhs {
            return false;
        }
        let lambda = multi_pow_vartime(&pairs(self.responses.iter().map(|r| &r.lambda), c), n1);
        let b = multi_pow_vartime(&pairs(self.commitments.iter().map(|x| &x.b), c), nn1);
        let lhs = enc_vartime(st.prover_key, &sum_z_prime, &lambda);
        let rhs = pow_vartime(st.y.as_integer(), &ones, nn1).map(|y| y * b % nn1);
        lhs.is_some() && lhs == rhs
    }
}

/// Bound, in bits, on the ciphertexts of the proof on the wire (`< N²`).
const MAX_CIPHERTEXT_BITS: u32 = 2 * MAX_MODULUS_BITS;

/// Reads the length of a sequence of repetitions, which must be exactly `m` (each entry is at
/// least `min_entry` bytes long).
pub(crate) fn read_repetitions(r: &mut Reader<'_>, what: &'static str, min_entry: usize) -> Result<(), DecodeError> {
    let count = r.len(what, BINARY_CHALLENGES, min_entry)?;
    if count != BINARY_CHALLENGES {
        return Err(DecodeError::Invalid { what, reason: "not exactly 128 repetitions" });
    }
    Ok(())
}

impl<C: Curve> Encode for AffGStarProof<C> {
    fn encode(&self, w: &mut Writer) {
        w.len(self.commitments.len());
        for c in &self.commitments {
            write_integer(w, &c.a);
            w.point::<C>(&c.r);
            write_integer(w, &c.b);
        }
        w.len(self.responses.len());
        for z in &self.responses {
            for x in [&z.z, &z.z_prime, &z.w, &z.lambda] {
                write_integer(w, x);
            }
        }
    }
}

impl<C: Curve> Decode for AffGStarProof<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // An integer is at least a 4-byte length and a sign byte.
        read_repetitions(r, "aff-g* commitments", 10 + C::POINT_LEN)?;
        let mut commitments = Vec::with_capacity(BINARY_CHALLENGES);
        for _ in 0..BINARY_CHALLENGES {
            let a = read_integer(r, MAX_CIPHERTEXT_BITS)?;
            let r_point = r.point::<C>()?;
            let b = read_integer(r, MAX_CIPHERTEXT_BITS)?;
            commitments.push(AffGStarCommitment { a, r: r_point, b });
        }
        read_repetitions(r, "aff-g* responses", 20)?;
        let mut responses = Vec::with_capacity(BINARY_CHALLENGES);
        for _ in 0..BINARY_CHALLENGES {
            let mut next = || read_integer(r, MAX_MODULUS_BITS);
            responses.push(AffGStarResponse { z: next()?, z_prime: next()?, w: next()?, lambda: next()? });
        }
        Ok(Self { commitments, responses })
    }
}
