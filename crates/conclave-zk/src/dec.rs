//! Π^dec: setup-less proof of Paillier "decryption in the exponent" (CGGMP24, Appendix A,
//! Fig. 28 per the citation in `docs/spec/zk-presign.md` §1; used by the identifiable abort of
//! presigning: with base `g = G` and `S = δ_i·G` when `δ·G ≠ ΣΔ_j`, and with base `g = Γ` and
//! `S = S_i = χ_i·Γ` when the `S_j` are inconsistent).
//!
//! The proof is broadcast and checked by every party, so it uses no ring-Pedersen parameters:
//! `m = 128` ([`BINARY_CHALLENGES`]) parallel repetitions with binary challenges.
//!
//! Statement: the prover's Paillier key `N0`, ciphertexts `K, D ∈ Z*_{N0²}`, points `X`, `S`
//! and the base `g`, and the number of parties `n` (it sets the range of `y`, see below).
//! Witness: `x ∈ ±2^ℓ`, `y ∈ ±2^b` and `ρ ∈ Z*_{N0}` with `enc_0(y; ρ) = K^x·D mod N0²`,
//! `X = x·G` and `S = y·g`.
//!
//! Range of `y` ([`plaintext_bound_bits`]): the paper states `y ∈ ±2^ℓ′`, but the `y` of the
//! abort is `δ_i` (or `χ_i`) as an integer, `k_i·γ_i + Σ_{j≠i} dec(D_{i,j}) ± Σ_{j≠i} β_{j,i}`,
//! whose terms are as large as `2^(ℓ′+ε)` (the range Π^aff-g guarantees for a peer's mask).
//! Hence `b = ℓ′ + ε + ⌈log₂ n⌉ + 1` (derivation in `docs/spec/zk-presign.md` §9).
//!
//! Prover, for each `j < m`: `α_j ← ±2^(ℓ+ε)`, `β_j ← ±2^(b+ε)`, `r_j ← Z*_{N0}`;
//! `A_j = K^{−α_j}·enc_0(β_j; r_j)`, `B_j = β_j·g`, `C_j = α_j·G`. Challenge bits from the
//! transcript (context, statement, all commitments). `z_j = α_j + e_j·x`,
//! `w_j = β_j + e_j·y`, `ν_j = r_j·ρ^{e_j} mod N0`.
//!
//! Verifier (numbering of `docs/spec/zk-presign.md` §9): (V1) `K ∈ Z*_{N0²}`;
//! (V2) `D ∈ Z*_{N0²}`; (V3) `g ≠ 0`; (V4) `1 ≤ n ≤` [`MAX_PARTIES`]; (V5) exactly `m`
//! commitments and responses; for every `j`: (V6) `A_j ∈ Z*_{N0²}`; (V7) `ν_j ∈ Z*_{N0}`;
//! (V8) `z_j ∈ ±2^(ℓ+ε)`; (V9) `w_j ∈ ±2^(b+ε)`; then for every `j`:
//! (V10) `enc_0(w_j; ν_j)·K^{−z_j} = A_j·D^{e_j} mod N0²`; (V11) `z_j·G = C_j + e_j·X`;
//! (V12) `w_j·g = B_j + e_j·S`.
//!
//! The prover owns `N0`: [`DecOpening::open`] recovers `y` and `ρ` from `K^x·D` with its
//! decryption key, and the prover computes by CRT when the witness carries that key.

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::{Curve, DecodeError, SecretScalar, Transcript};
use conclave_paillier::{Ciphertext, DecryptionKey, EncryptionKey, Nonce};
use group::Group;
use rand_core::CryptoRngCore;
use rug::Integer;

use crate::aff_g_star::{
    batch_weights, mask_nonce, mul_if, multi_pow_vartime, read_repetitions, weight_of_ones, weighted_sum, FixedBasePow,
};
use crate::common::{append_integer, challenge_bits, integer_to_scalar, read_integer, write_integer};
use crate::rp::{
    append_paillier, enc_fresh, enc_vartime, in_range_bits, is_ciphertext, is_unit, pow_vartime, random_signed_bits,
    wipe, ProveError, SecretInteger, BINARY_CHALLENGES, ELL, ELL_PRIME, EPSILON, MAX_MODULUS_BITS,
};

/// Domain of the Π^dec transcript.
pub const DOMAIN: &str = "conclave/zk/dec/v1";

/// Largest number of parties `n` a statement may name (party indices are `u16`).
pub const MAX_PARTIES: usize = 1 << 16;

/// `b`, the bit bound of the plaintext `y` for `n` parties: `ℓ′ + ε + ⌈log₂ n⌉ + 1`
/// (`None` unless `1 ≤ n ≤` [`MAX_PARTIES`]). The responses `w_j` are checked against
/// `±2^(b+ε)`.
pub fn plaintext_bound_bits(num_parties: usize) -> Option<u32> {
    if num_parties == 0 || num_parties > MAX_PARTIES {
        return None;
    }
    let log_n = num_parties.next_power_of_two().trailing_zeros();
    Some(ELL_PRIME + EPSILON + log_n + 1)
}

/// The public statement of Π^dec.
#[derive(Debug, Clone, Copy)]
pub struct DecStatement<'a, C: Curve> {
    /// `N0`: the prover's Paillier key.
    pub key: &'a EncryptionKey,
    /// `K` (the prover's `K_i`).
    pub k: &'a Ciphertext,
    /// `X = x·G` (`Γ_i` for `δ_i`, `X_i` for `χ_i`).
    pub x: C::Point,
    /// `D`, with `enc_0(y; ρ) = K^x·D`.
    pub d: &'a Ciphertext,
    /// `S = y·g` (`δ_i·G`, or `S_i`).
    pub s: C::Point,
    /// The base `g` of `S` (`G`, or `Γ`).
    pub g: C::Point,
    /// `n`, the number of parties of the presigning (sets the range of `y`).
    pub num_parties: usize,
}

/// The secret witness of Π^dec. `Debug` is redacted.
pub struct DecWitness<'a> {
    /// `x ∈ ±2^ℓ` (`γ_i` or `x_i`).
    pub x: &'a Integer,
    /// `y ∈ ±2^b` (`δ_i` or `χ_i` as the integer decrypted from `K^x·D`).
    pub y: &'a Integer,
    /// `ρ`, with `enc_0(y; ρ) = K^x·D`.
    pub rho: &'a Nonce,
    /// The prover's decryption key (of `N0`), if at hand: the prover then computes by CRT
    /// (same result, faster). Ignored unless its modulus is `N0`.
    pub secret_key: Option<&'a DecryptionKey>,
}

impl core::fmt::Debug for DecWitness<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DecWitness(<redacted>)")
    }
}

/// The plaintext (signed) and the nonce of `K^x·D`, recovered with the decryption key: the
/// `y` and `ρ` of a [`DecWitness`]. Zeroized on drop; `Debug` is redacted.
pub struct DecOpening {
    y: SecretInteger,
    rho: Nonce,
}

impl core::fmt::Debug for DecOpening {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DecOpening(<redacted>)")
    }
}

impl DecOpening {
    /// Opens `c = K^x·D mod N0²` with the prover's key: `y` is the signed plaintext (in
    /// `±(N0−1)/2`), `ρ` the unique `ρ ∈ Z*_{N0}` with `c = (1+N0)^y·ρ^{N0}`, i.e.
    /// `ρ = c^{N0^{-1} mod λ(N0)} mod N0`. Everything secret is raised in constant time
    /// (`N0^{-1}` modulo `λ/2 = p′q′` by Euler's theorem, no secret-dependent inversion).
    ///
    /// Errors if `K` or `D` is not a ciphertext of `key`, or `|x| ≥ 2^(ℓ+ε)`.
    pub fn open(key: &DecryptionKey, k: &Ciphertext, x: &Integer, d: &Ciphertext) -> Result<Self, ProveError> {
        let bad = ProveError::InvalidInput;
        let ek = key.encryption_key();
        let (n, nn) = (ek.modulus(), ek.modulus_squared());
        if !is_ciphertext(k.as_integer(), ek) || !is_ciphertext(d.as_integer(), ek) {
            return Err(bad("K or D not a ciphertext of the key"));
        }
        let k_pow = FixedBasePow::new(k.as_integer(), nn, ELL + EPSILON, Some(key)).ok_or(bad("K not a unit"))?;
        let k_x = k_pow.pow(x).ok_or(bad("x out of range"))?;
        let c = ek.validate_ciphertext(&(k_x * d.as_integer() % nn)).map_err(|_| bad("K^x·D"))?;
        let y = SecretInteger::new(key.decrypt_signed(&c).map_err(|_| bad("decryption"))?);

        // λ(N)/2 = p′q′ with p = 2p′ + 1, q = 2q′ + 1 (safe primes).
        let (p, q) = key.expose_primes();
        let p1 = SecretInteger::new(Integer::from(p >> 1u32));
        let q1 = SecretInteger::new(Integer::from(q >> 1u32));
        let m = SecretInteger::new(Integer::from(p1.expose() * q1.expose()));
        // φ(p′q′) − 1 = (p′−1)(q′−1) − 1.
        let mut phi_m = Integer::from(p1.expose() - 1u32) * Integer::from(q1.expose() - 1u32);
        phi_m -= 1u32;
        let phi_m = SecretInteger::new(phi_m);
        if m.expose().is_even() || *m.expose() <= 1 {
            return Err(bad("key primes are not safe primes"));
        }
        // a = N^{-1} mod p′q′; d = a + p′q′·(a + 1) is odd and ≡ a, so d = N^{-1} mod 2p′q′.
        let a = SecretInteger::new(Integer::from(n.secure_pow_mod_ref(phi_m.expose(), m.expose())));
        let mut a_plus_1 = Integer::from(a.expose() + 1u32);
        let mut dexp = Integer::from(m.expose() * &a_plus_1);
        wipe(&mut a_plus_1);
        dexp += a.expose();
        let dexp = SecretInteger::new(dexp);
        let c_mod_n = Integer::from(c.as_integer().modulo_ref(n));
        let rho = Nonce::new(key.pow_mod_n(&c_mod_n, dexp.expose()).map_err(|_| bad("nonce"))?);
        let check = key.encrypt_with_nonce(y.expose(), &rho).map_err(|_| bad("nonce"))?;
        if check != c {
            return Err(bad("ciphertext does not open"));
        }
        Ok(Self { y, rho })
    }

    /// The plaintext `y` (secret).
    pub fn plaintext(&self) -> &Integer {
        self.y.expose()
    }

    /// The nonce `ρ` (secret).
    pub fn nonce(&self) -> &Nonce {
        &self.rho
    }
}

/// The first message of one repetition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecCommitment<C: Curve> {
    /// `A_j = K^{−α_j}·enc_0(β_j; r_j)`.
    pub a: Integer,
    /// `B_j = β_j·g`.
    pub b: C::Point,
    /// `C_j = α_j·G`.
    pub c: C::Point,
}

/// The response of one repetition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecResponse {
    /// `z_j = α_j + e_j·x`.
    pub z: Integer,
    /// `w_j = β_j + e_j·y`.
    pub w: Integer,
    /// `ν_j = r_j·ρ^{e_j} mod N0`.
    pub nu: Integer,
}

/// A Π^dec proof: exactly [`BINARY_CHALLENGES`] commitments and as many responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecProof<C: Curve> {
    /// The commitments `(A_j, B_j, C_j)`.
    pub commitments: Vec<DecCommitment<C>>,
    /// The responses `(z_j, w_j, ν_j)`.
    pub responses: Vec<DecResponse>,
}

/// Which check of Π^dec failed (one variant per check, numbered as in the spec; `index` is the
/// repetition `j`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecError {
    /// (V1) Statement `K ∉ Z*_{N0²}`.
    #[error("Π^dec: statement ciphertext K not in Z*_(N0²)")]
    StatementK,
    /// (V2) Statement `D ∉ Z*_{N0²}`.
    #[error("Π^dec: statement ciphertext D not in Z*_(N0²)")]
    StatementD,
    /// (V3) The base `g` is the identity.
    #[error("Π^dec: base g is the identity")]
    BaseIsIdentity,
    /// (V4) The number of parties is 0 or above [`MAX_PARTIES`].
    #[error("Π^dec: number of parties {0} out of range")]
    PartyCount(usize),
    /// (V5) Not exactly `m` commitments and `m` responses.
    #[error("Π^dec: {commitments} commitments and {responses} responses, expected {BINARY_CHALLENGES} each")]
    RepetitionCount {
        /// Commitments found.
        commitments: usize,
        /// Responses found.
        responses: usize,
    },
    /// (V6) `A_j ∉ Z*_{N0²}`.
    #[error("Π^dec: commitment A_{index} not in Z*_(N0²)")]
    ANotCiphertext {
        /// Repetition.
        index: usize,
    },
    /// (V7) `ν_j ∉ Z*_{N0}`.
    #[error("Π^dec: response ν_{index} not in Z*_N0")]
    NuNotUnit {
        /// Repetition.
        index: usize,
    },
    /// (V8) `z_j ∉ ±2^(ℓ+ε)`.
    #[error("Π^dec: response z_{index} out of range ±2^(ℓ+ε)")]
    ZOutOfRange {
        /// Repetition.
        index: usize,
    },
    /// (V9) `w_j ∉ ±2^(b+ε)`.
    #[error("Π^dec: response w_{index} out of range ±2^(b+ε)")]
    WOutOfRange {
        /// Repetition.
        index: usize,
    },
    /// (V10) `enc_0(w_j; ν_j)·K^{−z_j} ≠ A_j·D^{e_j}`.
    #[error("Π^dec: Paillier equation enc0(w; ν)·K^-z = A·D^e fails in repetition {index}")]
    PaillierEquation {
        /// Repetition.
        index: usize,
    },
    /// (V11) `z_j·G ≠ C_j + e_j·X`.
    #[error("Π^dec: equation z·G = C + e·X fails in repetition {index}")]
    XEquation {
        /// Repetition.
        index: usize,
    },
    /// (V12) `w_j·g ≠ B_j + e_j·S`.
    #[error("Π^dec: equation w·g = B + e·S fails in repetition {index}")]
    SEquation {
        /// Repetition.
        index: usize,
    },
}

fn challenge<C: Curve>(
    transcript: &Transcript,
    st: &DecStatement<'_, C>,
    commitments: &[DecCommitment<C>],
) -> (Transcript, Vec<bool>) {
    let mut t = transcript.clone();
    t.append_u64("dec/m", BINARY_CHALLENGES as u64);
    append_paillier(&mut t, "dec/n0", st.key);
    append_integer(&mut t, "dec/k", st.k.as_integer());
    append_integer(&mut t, "dec/d", st.d.as_integer());
    t.append_points::<C>("dec/x-s-g", &[st.x, st.s, st.g]);
    t.append_u64("dec/n", st.num_parties as u64);
    t.append_u64("dec/commitments", commitments.len() as u64);
    for c in commitments {
        append_integer(&mut t, "dec/A", &c.a);
        t.append_points::<C>("dec/B-C", &[c.b, c.c]);
    }
    let bits = challenge_bits(&mut t, "dec/challenge", BINARY_CHALLENGES);
    (t, bits)
}

impl<C: Curve> DecProof<C> {
    /// Proves the statement with the witness. The witness is not checked against the
    /// statement (a wrong witness yields a proof that does not verify).
    pub fn prove(
        transcript: &Transcript,
        st: &DecStatement<'_, C>,
        wit: &DecWitness<'_>,
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Self, ProveError> {
        let bad = ProveError::InvalidInput;
        let b_bits = plaintext_bound_bits(st.num_parties).ok_or(bad("number of parties"))?;
        let n0 = st.key.modulus();
        let nn0 = st.key.modulus_squared();
        if b_bits + EPSILON + 2 >= n0.significant_bits() {
            return Err(bad("N0 too small for the range of y"));
        }
        let key = wit.secret_key.filter(|k| k.encryption_key().modulus() == n0);
        let k_pow = FixedBasePow::new(st.k.as_integer(), nn0, ELL + EPSILON + 1, key).ok_or(bad("K not a unit"))?;

        let mut ephemerals = Vec::with_capacity(BINARY_CHALLENGES);
        let mut commitments = Vec::with_capacity(BINARY_CHALLENGES);
        for _ in 0..BINARY_CHALLENGES {
            let alpha = random_signed_bits(rng, ELL + EPSILON);
            let beta = random_signed_bits(rng, b_bits + EPSILON);
            let neg_alpha = SecretInteger::new(Integer::from(-alpha.expose()));
            let k_alpha = k_pow.pow(neg_alpha.expose()).ok_or(bad("α"))?;
            // A fresh nonce and its N0-th power: from our key's tables when we have it.
            let (enc_beta, r) = enc_fresh(rng, st.key, key, beta.expose()).ok_or(bad("β does not fit N0"))?;
            let a = k_alpha * enc_beta % nn0;
            let beta_scalar = SecretScalar::<C>::new(integer_to_scalar::<C>(beta.expose()));
            let alpha_scalar = SecretScalar::<C>::new(integer_to_scalar::<C>(alpha.expose()));
            let b = st.g * beta_scalar.expose_secret();
            let c = C::mul_base(alpha_scalar.expose_secret());
            commitments.push(DecCommitment { a, b, c });
            ephemerals.push((alpha, beta, r));
        }
        let (_, bits) = challenge::<C>(transcript, st, &commitments);

        let rho = wit.rho.expose_secret();
        let mut responses = Vec::with_capacity(BINARY_CHALLENGES);
        for ((alpha, beta, r), e) in ephemerals.iter().zip(&bits) {
            let (z, w) = if *e {
                (Integer::from(alpha.expose() + wit.x), Integer::from(beta.expose() + wit.y))
            } else {
                (alpha.expose().clone(), beta.expose().clone())
            };
            let nu = mask_nonce(r.expose(), rho, *e, n0);
            responses.push(DecResponse { z, w, nu });
        }
        drop(ephemerals);
        Ok(Self { commitments, responses })
    }

    /// Verifies the proof against the statement in the context held by `transcript`.
    pub fn verify(&self, transcript: &Transcript, st: &DecStatement<'_, C>) -> Result<(), DecError> {
        let n0 = st.key.modulus();
        let nn0 = st.key.modulus_squared();
        if !is_ciphertext(st.k.as_integer(), st.key) {
            return Err(DecError::StatementK);
        }
        if !is_ciphertext(st.d.as_integer(), st.key) {
            return Err(DecError::StatementD);
        }
        if bool::from(st.g.is_identity()) {
            return Err(DecError::BaseIsIdentity);
        }
        let b_bits = plaintext_bound_bits(st.num_parties).ok_or(DecError::PartyCount(st.num_parties))?;
        if self.commitments.len() != BINARY_CHALLENGES || self.responses.len() != BINARY_CHALLENGES {
            return Err(DecError::RepetitionCount {
                commitments: self.commitments.len(),
                responses: self.responses.len(),
            });
        }
        let reps = || self.commitments.iter().zip(&self.responses).enumerate();
        for (index, (com, resp)) in reps() {
            if !is_ciphertext(&com.a, st.key) {
                return Err(DecError::ANotCiphertext { index });
            }
            if !is_unit(&resp.nu, n0) {
                return Err(DecError::NuNotUnit { index });
            }
        }
        for (index, (_, resp)) in reps() {
            if !in_range_bits(&resp.z, ELL + EPSILON) {
                return Err(DecError::ZOutOfRange { index });
            }
            if !in_range_bits(&resp.w, b_bits + EPSILON) {
                return Err(DecError::WOutOfRange { index });
            }
        }
        let (mut t, bits) = challenge::<C>(transcript, st, &self.commitments);
        // (V11), (V12) per repetition (cheap group operations).
        for ((index, (com, resp)), e) in reps().zip(&bits) {
            let rhs = if *e { com.c + st.x } else { com.c };
            if C::mul_base(&integer_to_scalar::<C>(&resp.z)) != rhs {
                return Err(DecError::XEquation { index });
            }
            let rhs = if *e { com.b + st.s } else { com.b };
            if st.g * integer_to_scalar::<C>(&resp.w) != rhs {
                return Err(DecError::SEquation { index });
            }
        }
        // (V10): all repetitions in one random linear combination; if it fails, every
        // repetition on its own, to name the repetition that fails.
        for resp in &self.responses {
            for v in [&resp.z, &resp.w, &resp.nu] {
                append_integer(&mut t, "dec/response", v);
            }
        }
        let c = batch_weights(&mut t);
        if self.batch_holds(st, &bits, &c) {
            return Ok(());
        }
        for ((index, (com, resp)), e) in reps().zip(bits) {
            let lhs = enc_vartime(st.key, &resp.w, &resp.nu)
                .zip(pow_vartime(st.k.as_integer(), &Integer::from(-&resp.z), nn0))
                .map(|(a, b)| a * b % nn0);
            let rhs = mul_if(&com.a, st.d.as_integer(), e, nn0);
            if lhs.as_ref() != Some(&rhs) {
                return Err(DecError::PaillierEquation { index });
            }
        }
        Ok(())
    }

    /// The Paillier equation (V10) of all repetitions at once, with weights `c_j`:
    /// `enc_0(Σc_j w_j; Πν_j^{c_j})·K^{−Σc_j z_j} = ΠA_j^{c_j}·D^{Σ_{e_j=1} c_j} mod N0²`.
    fn batch_holds(&self, st: &DecStatement<'_, C>, bits: &[bool], c: &[Integer]) -> bool {
        let (n0, nn0) = (st.key.modulus(), st.key.modulus_squared());
        let sum_z = weighted_sum(c, self.responses.iter().map(|r| &r.z));
        let sum_w = weighted_sum(c, self.responses.iter().map(|r| &r.w));
        let ones = weight_of_ones(c, bits);
        let nu_terms: Vec<(&Integer, &Integer)> = self.responses.iter().map(|r| &r.nu).zip(c).collect();
        let a_terms: Vec<(&Integer, &Integer)> = self.commitments.iter().map(|x| &x.a).zip(c).collect();
        let nu = multi_pow_vartime(&nu_terms, n0);
        let a = multi_pow_vartime(&a_terms, nn0);
        let lhs = enc_vartime(st.key, &sum_w, &nu)
            .zip(pow_vartime(st.k.as_integer(), &Integer::from(-&sum_z), nn0))
            .map(|(x, y)| x * y % nn0);
        let rhs = pow_vartime(st.d.as_integer(), &ones, nn0).map(|d| d * a % nn0);
        lhs.is_some() && lhs == rhs
    }
}

impl<C: Curve> Encode for DecProof<C> {
    fn encode(&self, w: &mut Writer) {
        w.len(self.commitments.len());
        for c in &self.commitments {
            write_integer(w, &c.a);
            w.point::<C>(&c.b).point::<C>(&c.c);
        }
        w.len(self.responses.len());
        for r in &self.responses {
            for x in [&r.z, &r.w, &r.nu] {
                write_integer(w, x);
            }
        }
    }
}

impl<C: Curve> Decode for DecProof<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // An integer is at least a 4-byte length and a sign byte.
        read_repetitions(r, "dec commitments", 5 + 2 * C::POINT_LEN)?;
        let mut commitments = Vec::with_capacity(BINARY_CHALLENGES);
        for _ in 0..BINARY_CHALLENGES {
            let a = read_integer(r, 2 * MAX_MODULUS_BITS)?;
            let b = r.point::<C>()?;
            let c = r.point::<C>()?;
            commitments.push(DecCommitment { a, b, c });
        }
        read_repetitions(r, "dec responses", 15)?;
        let mut responses = Vec::with_capacity(BINARY_CHALLENGES);
        for _ in 0..BINARY_CHALLENGES {
            let mut next = || read_integer(r, MAX_MODULUS_BITS);
            responses.push(DecResponse { z: next()?, w: next()?, nu: next()? });
        }
        Ok(Self { commitments, responses })
    }
}
