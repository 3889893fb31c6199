//! Π^aff-g: Paillier affine operation with group commitment in range (CGGMP24 §6.2, Fig. 15;
//! used in presigning round 2 for the MtA ciphertexts `D_{j,i}` (with `Γ_i`) and `D̂_{j,i}`
//! (with `X_i`)).
//!
//! Statement: the verifier's Paillier key `N_j` (called `N0`), the prover's key `N_i` (`N1`),
//! the verifier's ring-Pedersen parameters `(N̂, s, t)`, ciphertexts `C, D ∈ Z*_{N0²}`,
//! `Y ∈ Z*_{N1²}` and a point `X`. Witness: `x ∈ ±2^ℓ`, `y ∈ ±2^ℓ′`, `ρ ∈ Z*_{N0}`,
//! `ρ_y ∈ Z*_{N1}` with `D = C^x · enc_0(y; ρ)`, `Y = enc_1(y; ρ_y)`, `X = x·G`.
//! (Presigning passes `y = −β`: `D = γ⊙K ⊕ enc_0(−β)`, `F = enc_1(−β)`.)
//!
//! Prover: `α ← ±2^(ℓ+ε)`, `β ← ±2^(ℓ′+ε)`, `r ← Z*_{N0}`, `r_y ← Z*_{N1}`,
//! `γ, δ ← ±2^(ℓ+ε)·N̂`, `m, μ ← ±2^ℓ·N̂`; `A = C^α·enc_0(β; r)`, `B_x = α·G`,
//! `B_y = enc_1(β; r_y)`, `E = s^α t^γ`, `S = s^x t^m`, `F = s^β t^δ`, `T = s^y t^μ`;
//! challenge `e ∈ ±q`; `z1 = α + e·x`, `z2 = β + e·y`, `z3 = γ + e·m`, `z4 = δ + e·μ`,
//! `w = r·ρ^e mod N0`, `w_y = r_y·ρ_y^e mod N1`.
//!
//! Verifier: (V1–V3) `C, D ∈ Z*_{N0²}`, `Y ∈ Z*_{N1²}`; (V4) `A ∈ Z*_{N0²}`;
//! (V5) `B_y ∈ Z*_{N1²}`; (V6–V9) `E, S, F, T ∈ Z*_N̂`; (V10) `w ∈ Z*_{N0}`;
//! (V11) `w_y ∈ Z*_{N1}`; (V12) `z1 ∈ ±2^(ℓ+ε)`; (V13) `z2 ∈ ±2^(ℓ′+ε)`;
//! (V14) `C^z1·enc_0(z2; w) = A·D^e mod N0²`; (V15) `z1·G = B_x + e·X`;
//! (V16) `enc_1(z2; w_y) = B_y·Y^e mod N1²`; (V17) `s^z1 t^z3 = E·S^e mod N̂`;
//! (V18) `s^z2 t^z4 = F·T^e mod N̂`.

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::{Curve, DecodeError, SecretScalar, Transcript};
use conclave_paillier::{Ciphertext, DecryptionKey, EncryptionKey, Nonce, RingPedersenParams};
use rand_core::CryptoRngCore;
use rug::Integer;

use crate::common::{append_integer, challenge_signed, curve_order, integer_to_scalar, read_integer, write_integer};
use crate::rp::{
    append_paillier, append_rp, enc_fresh, enc_secret, in_range_bits, is_ciphertext, is_unit,
    paillier_equation_vartime, pow_public_exp_secret_base, pow_public_exp_secret_base_with, pow_secret_select,
    random_signed_bits, random_signed_scaled, random_unit, rp_commit_secret, rp_equation, ProveError, SecretInteger,
    ELL, ELL_PRIME, EPSILON, MAX_INTEGER_BITS,
};

/// Domain of the Π^aff-g transcript.
pub const DOMAIN: &str = "conclave/zk/aff-g/v1";

/// The public statement of Π^aff-g.
#[derive(Debug, Clone, Copy)]
pub struct AffGStatement<'a, C: Curve> {
    /// `N0`: the verifier's Paillier key (`C` and `D` are encrypted under it).
    pub verifier_key: &'a EncryptionKey,
    /// `N1`: the prover's Paillier key (`Y` is encrypted under it).
    pub prover_key: &'a EncryptionKey,
    /// `(N̂, s, t)`: the verifier's ring-Pedersen parameters.
    pub rp: &'a RingPedersenParams,
    /// `C` (the verifier's `K_j`).
    pub c: &'a Ciphertext,
    /// `D = C^x · enc_0(y; ρ)`.
    pub d: &'a Ciphertext,
    /// `Y = enc_1(y; ρ_y)`.
    pub y: &'a Ciphertext,
    /// `X = x·G`.
    pub x: C::Point,
}

/// The secret witness of Π^aff-g. `Debug` is redacted.
pub struct AffGWitness<'a> {
    /// `x ∈ ±2^ℓ`.
    pub x: &'a Integer,
    /// `y ∈ ±2^ℓ′`.
    pub y: &'a Integer,
    /// `ρ`, the nonce of `enc_0(y; ρ)` in `D`.
    pub rho: &'a Nonce,
    /// `ρ_y`, the nonce of `Y`.
    pub rho_y: &'a Nonce,
    /// The prover's own decryption key of `N1`, if at hand: `B_y` and `w_y` are then computed
    /// with the owner's fixed-base nonce tables and CRT (same proof, faster). Ignored if it is
    /// not the key of the statement's `N1`.
    pub prover_secret_key: Option<&'a DecryptionKey>,
}

impl core::fmt::Debug for AffGWitness<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AffGWitness(<redacted>)")
    }
}

/// A Π^aff-g proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffGProof<C: Curve> {
    /// `A = C^α · enc_0(β; r)`.
    pub a: Integer,
    /// `B_x = α·G`.
    pub b_x: C::Point,
    /// `B_y = enc_1(β; r_y)`.
    pub b_y: Integer,
    /// `E = s^α t^γ`.
    pub e: Integer,
    /// `S = s^x t^m`.
    pub s: Integer,
    /// `F = s^β t^δ`.
    pub f: Integer,
    /// `T = s^y t^μ`.
    pub t: Integer,
    /// `z1 = α + e·x`.
    pub z1: Integer,
    /// `z2 = β + e·y`.
    pub z2: Integer,
    /// `z3 = γ + e·m`.
    pub z3: Integer,
    /// `z4 = δ + e·μ`.
    pub z4: Integer,
    /// `w = r·ρ^e mod N0`.
    pub w: Integer,
    /// `w_y = r_y·ρ_y^e mod N1`.
    pub w_y: Integer,
}

/// Which check of Π^aff-g failed (one variant per check, numbered as in the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AffGError {
    /// (V1) Statement `C ∉ Z*_{N0²}`.
    #[error("Π^aff-g: statement ciphertext C not in Z*_(N0²)")]
    StatementC,
    /// (V2) Statement `D ∉ Z*_{N0²}`.
    #[error("Π^aff-g: statement ciphertext D not in Z*_(N0²)")]
    StatementD,
    /// (V3) Statement `Y ∉ Z*_{N1²}`.
    #[error("Π^aff-g: statement ciphertext Y not in Z*_(N1²)")]
    StatementY,
    /// (V4) `A ∉ Z*_{N0²}`.
    #[error("Π^aff-g: commitment A not in Z*_(N0²)")]
    ANotCiphertext,
    /// (V5) `B_y ∉ Z*_{N1²}`.
    #[error("Π^aff-g: commitment B_y not in Z*_(N1²)")]
    ByNotCiphertext,
    /// (V6) `E ∉ Z*_N̂`.
    #[error("Π^aff-g: commitment E not in Z*_N̂")]
    ENotUnit,
    /// (V7) `S ∉ Z*_N̂`.
    #[error("Π^aff-g: commitment S not in Z*_N̂")]
    SNotUnit,
    /// (V8) `F ∉ Z*_N̂`.
    #[error("Π^aff-g: commitment F not in Z*_N̂")]
    FNotUnit,
    /// (V9) `T ∉ Z*_N̂`.
    #[error("Π^aff-g: commitment T not in Z*_N̂")]
    TNotUnit,
    /// (V10) `w ∉ Z*_{N0}`.
    #[error("Π^aff-g: response w not in Z*_N0")]
    WNotUnit,
    /// (V11) `w_y ∉ Z*_{N1}`.
    #[error("Π^aff-g: response w_y not in Z*_N1")]
    WyNotUnit,
    /// (V12) `z1 ∉ ±2^(ℓ+ε)`.
    #[error("Π^aff-g: response z1 out of range ±2^(ℓ+ε)")]
    Z1OutOfRange,
    /// (V13) `z2 ∉ ±2^(ℓ′+ε)`.
    #[error("Π^aff-g: response z2 out of range ±2^(ℓ'+ε)")]
    Z2OutOfRange,
    /// (V14) `C^z1·enc_0(z2; w) ≠ A·D^e`.
    #[error("Π^aff-g: affine equation C^z1·enc0(z2; w) = A·D^e fails")]
    AffineEquation,
    /// (V15) `z1·G ≠ B_x + e·X`.
    #[error("Π^aff-g: group equation z1·G = B_x + e·X fails")]
    GroupEquation,
    /// (V16) `enc_1(z2; w_y) ≠ B_y·Y^e`.
    #[error("Π^aff-g: encryption equation enc1(z2; w_y) = B_y·Y^e fails")]
    EncryptionEquation,
    /// (V17) `s^z1 t^z3 ≠ E·S^e`.
    #[error("Π^aff-g: ring-Pedersen equation s^z1 t^z3 = E·S^e fails")]
    RingPedersenXEquation,
    /// (V18) `s^z2 t^z4 ≠ F·T^e`.
    #[error("Π^aff-g: ring-Pedersen equation s^z2 t^z4 = F·T^e fails")]
    RingPedersenYEquation,
}

struct FirstMessage<'p, C: Curve> {
    a: &'p Integer,
    b_x: &'p C::Point,
    b_y: &'p Integer,
    e: &'p Integer,
    s: &'p Integer,
    f: &'p Integer,
    t: &'p Integer,
}

fn challenge<C: Curve>(transcript: &Transcript, st: &AffGStatement<'_, C>, m: &FirstMessage<'_, C>) -> Integer {
    let mut t = transcript.clone();
    append_paillier(&mut t, "aff-g/n0", st.verifier_key);
    append_paillier(&mut t, "aff-g/n1", st.prover_key);
    append_rp(&mut t, st.rp);
    append_integer(&mut t, "aff-g/c", st.c.as_integer());
    append_integer(&mut t, "aff-g/d", st.d.as_integer());
    append_integer(&mut t, "aff-g/y", st.y.as_integer());
    t.append_point::<C>("aff-g/x", &st.x);
    append_integer(&mut t, "aff-g/A", m.a);
    t.append_point::<C>("aff-g/Bx", m.b_x);
    append_integer(&mut t, "aff-g/By", m.b_y);
    append_integer(&mut t, "aff-g/E", m.e);
    append_integer(&mut t, "aff-g/S", m.s);
    append_integer(&mut t, "aff-g/F", m.f);
    append_integer(&mut t, "aff-g/T", m.t);
    challenge_signed(&mut t, "aff-g/challenge", &curve_order::<C>())
}

impl<C: Curve> AffGProof<C> {
    /// Proves the statement with the witness. The witness is not checked against the
    /// statement (a wrong witness yields a proof that does not verify).
    pub fn prove(
        transcript: &Transcript,
        st: &AffGStatement<'_, C>,
        wit: &AffGWitness<'_>,
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Self, ProveError> {
        let bad = ProveError::InvalidInput;
        let n0 = st.verifier_key.modulus();
        let nn0 = st.verifier_key.modulus_squared();
        let n1 = st.prover_key.modulus();
        let rp = st.rp;
        let nh_bits = rp.modulus().significant_bits();
        let x_bits = wit.x.significant_bits().max(ELL) + 1;
        let y_bits = wit.y.significant_bits().max(ELL_PRIME) + 1;

        let alpha = random_signed_bits(rng, ELL + EPSILON);
        let beta = random_signed_bits(rng, ELL_PRIME + EPSILON);
        let r = random_unit(rng, n0);
        let gamma = random_signed_scaled(rng, ELL + EPSILON, rp.modulus());
        let delta = random_signed_scaled(rng, ELL + EPSILON, rp.modulus());
        let m = random_signed_scaled(rng, ELL, rp.modulus());
        let mu = random_signed_scaled(rng, ELL, rp.modulus());

        // C^α: the sign of α selects C or C^-1 (masked), raised to |α| with mpz_powm_sec.
        let c_alpha =
            pow_secret_select(st.c.as_integer(), alpha.expose(), ELL + EPSILON, nn0).ok_or(bad("C not a unit"))?;
        let enc_beta = enc_secret(st.verifier_key, beta.expose(), r.expose()).ok_or(bad("β does not fit N0"))?;
        let a = c_alpha * enc_beta % nn0;
        let alpha_scalar = SecretScalar::<C>::new(integer_to_scalar::<C>(alpha.expose()));
        let b_x = C::mul_base(alpha_scalar.expose_secret());
        let (b_y, r_y) =
            enc_fresh(rng, st.prover_key, wit.prover_secret_key, beta.expose()).ok_or(bad("β does not fit N1"))?;
        let wide = ELL + EPSILON + nh_bits + 1;
        let narrow = ELL + nh_bits + 1;
        let e_commit =
            rp_commit_secret(rp, alpha.expose(), ELL + EPSILON + 1, gamma.expose(), wide).ok_or(bad("α, γ"))?;
        let s = rp_commit_secret(rp, wit.x, x_bits, m.expose(), narrow).ok_or(bad("x, m"))?;
        let f =
            rp_commit_secret(rp, beta.expose(), ELL_PRIME + EPSILON + 1, delta.expose(), wide).ok_or(bad("β, δ"))?;
        let t_commit = rp_commit_secret(rp, wit.y, y_bits, mu.expose(), narrow).ok_or(bad("y, μ"))?;

        let first = FirstMessage::<C> { a: &a, b_x: &b_x, b_y: &b_y, e: &e_commit, s: &s, f: &f, t: &t_commit };
        let e = challenge::<C>(transcript, st, &first);

        let respond = |mask: &SecretInteger, secret: &Integer| {
            let prod = SecretInteger::new(Integer::from(&e * secret));
            Integer::from(mask.expose() + prod.expose())
        };
        let z1 = respond(&alpha, wit.x);
        let z2 = respond(&beta, wit.y);
        let z3 = respond(&gamma, m.expose());
        let z4 = respond(&delta, mu.expose());
        let rho_e = pow_public_exp_secret_base(rng, wit.rho.expose_secret(), &e, n0).ok_or(bad("ρ"))?;
        let w = Integer::from(r.expose() * &rho_e) % n0;
        let rho_y_e = pow_public_exp_secret_base_with(rng, wit.prover_secret_key, wit.rho_y.expose_secret(), &e, n1)
            .ok_or(bad("ρ_y"))?;
        let w_y = Integer::from(r_y.expose() * &rho_y_e) % n1;
        Ok(Self { a, b_x, b_y, e: e_commit, s, f, t: t_commit, z1, z2, z3, z4, w, w_y })
    }

    /// Verifies the proof against the statement in the context held by `transcript`.
    pub fn verify(&self, transcript: &Transcript, st: &AffGStatement<'_, C>) -> Result<(), AffGError> {
        self.verify_with_key(transcript, st, None)
    }

    /// As [`AffGProof::verify`], with the verifier's own decryption key: if it is the key of
    /// `N0`, (V14) computes `w^N0 mod N0²` by CRT ([`DecryptionKey::paillier_relation_holds`]);
    /// if it is the key of `N̂` (the verifier's own modulus, as in CGGMP24 aux-info), (V17) and
    /// (V18) are checked by CRT ([`DecryptionKey::ring_pedersen_relation_holds`]). A key of
    /// another modulus is ignored. Same checks, same errors, same result.
    pub fn verify_with_key(
        &self,
        transcript: &Transcript,
        st: &AffGStatement<'_, C>,
        verifier_key: Option<&DecryptionKey>,
    ) -> Result<(), AffGError> {
        let n0 = st.verifier_key.modulus();
        let n1 = st.prover_key.modulus();
        let n_hat = st.rp.modulus();

        if !is_ciphertext(st.c.as_integer(), st.verifier_key) {
            return Err(AffGError::StatementC);
        }
        if !is_ciphertext(st.d.as_integer(), st.verifier_key) {
            return Err(AffGError::StatementD);
        }
        if !is_ciphertext(st.y.as_integer(), st.prover_key) {
            return Err(AffGError::StatementY);
        }
        if !is_ciphertext(&self.a, st.verifier_key) {
            return Err(AffGError::ANotCiphertext);
        }
        if !is_ciphertext(&self.b_y, st.prover_key) {
            return Err(AffGError::ByNotCiphertext);
        }
        if !is_unit(&self.e, n_hat) {
            return Err(AffGError::ENotUnit);
        }
        if !is_unit(&self.s, n_hat) {
            return Err(AffGError::SNotUnit);
        }
        if !is_unit(&self.f, n_hat) {
            return Err(AffGError::FNotUnit);
        }
        if !is_unit(&self.t, n_hat) {
            return Err(AffGError::TNotUnit);
        }
        if !is_unit(&self.w, n0) {
            return Err(AffGError::WNotUnit);
        }
        if !is_unit(&self.w_y, n1) {
            return Err(AffGError::WyNotUnit);
        }
        if !in_range_bits(&self.z1, ELL + EPSILON) {
            return Err(AffGError::Z1OutOfRange);
        }
        if !in_range_bits(&self.z2, ELL_PRIME + EPSILON) {
            return Err(AffGError::Z2OutOfRange);
        }
        let first = FirstMessage::<C> {
            a: &self.a,
            b_x: &self.b_x,
            b_y: &self.b_y,
            e: &self.e,
            s: &self.s,
            f: &self.f,
            t: &self.t,
        };
        let e = challenge::<C>(transcript, st, &first);

        let neg_e = Integer::from(-&e);
        // (V14) (1 + z2·N0)·w^N0·C^z1·D^-e = A (mod N0²), one multi-exponentiation.
        // With our own key of N0: w^N0 by CRT (DecryptionKey::paillier_relation_holds).
        let others = [(st.c.as_integer(), &self.z1), (st.d.as_integer(), &neg_e)];
        let affine = match verifier_key.filter(|k| k.encryption_key() == st.verifier_key) {
            Some(dk) => dk.paillier_relation_holds(&self.z2, &self.w, &others, &self.a).unwrap_or(false),
            None => paillier_equation_vartime(st.verifier_key, &self.z2, &self.w, &others, &self.a),
        };
        if !affine {
            return Err(AffGError::AffineEquation);
        }
        if C::mul_base(&integer_to_scalar::<C>(&self.z1)) != self.b_x + st.x * integer_to_scalar::<C>(&e) {
            return Err(AffGError::GroupEquation);
        }
        // (V16) (1 + z2·N1)·w_y^N1·Y^-e = B_y (mod N1²).
        if !paillier_equation_vartime(st.prover_key, &self.z2, &self.w_y, &[(st.y.as_integer(), &neg_e)], &self.b_y) {
            return Err(AffGError::EncryptionEquation);
        }
        if !rp_equation(st.rp, verifier_key, &self.z1, &self.z3, &self.e, &self.s, &e) {
            return Err(AffGError::RingPedersenXEquation);
        }
        if !rp_equation(st.rp, verifier_key, &self.z2, &self.z4, &self.f, &self.t, &e) {
            return Err(AffGError::RingPedersenYEquation);
        }
        Ok(())
    }
}

impl<C: Curve> Encode for AffGProof<C> {
    fn encode(&self, w: &mut Writer) {
        write_integer(w, &self.a);
        w.point::<C>(&self.b_x);
        for x in
            [&self.b_y, &self.e, &self.s, &self.f, &self.t, &self.z1, &self.z2, &self.z3, &self.z4, &self.w, &self.w_y]
        {
            write_integer(w, x);
        }
    }
}

impl<C: Curve> Decode for AffGProof<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let a = read_integer(r, MAX_INTEGER_BITS)?;
        let b_x = r.point::<C>()?;
        let mut next = || read_integer(r, MAX_INTEGER_BITS);
        Ok(Self {
            a,
            b_x,
            b_y: next()?,
            e: next()?,
            s: next()?,
            f: next()?,
            t: next()?,
            z1: next()?,
            z2: next()?,
            z3: next()?,
            z4: next()?,
            w: next()?,
            w_y: next()?,
        })
    }
}
