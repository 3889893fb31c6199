//! Π^enc-elg: Paillier encryption in range with an ElGamal commitment (CGGMP24, Appendix A,
//! "range proof with El-Gamal commitment"; used in presigning round 1 for `K_i` / `A_i` and
//! `G_i` / `B_i`).
//!
//! Statement: the prover's Paillier key `N0`, the verifier's ring-Pedersen parameters
//! `(N̂, s, t)`, a ciphertext `C ∈ Z*_{N0²}` and points `A, B, X`. Witness: `x ∈ ±2^ℓ`,
//! `ρ ∈ Z*_{N0}` and a scalar `b` with `C = enc_0(x; ρ)`, `B = b·G`, `X = b·A + x·G`
//! (i.e. `(B, X)` is an ElGamal encryption of `x·G` under the key `A`).
//!
//! Prover: `α ← ±2^(ℓ+ε)`, `μ ← ±2^ℓ·N̂`, `r ← Z*_{N0}` (by the owner's fixed-base tables when
//! the witness carries the decryption key of `N0`), `β ← F_q`, `γ ← ±2^(ℓ+ε)·N̂`;
//! `S = s^x t^μ`, `D = enc_0(α; r)`, `Y = β·A + α·G`, `Z = β·G`, `T = s^α t^γ`;
//! challenge `e ∈ ±q`; `z1 = α + e·x`, `w = β + e·b mod q`, `z2 = r·ρ^e mod N0`,
//! `z3 = γ + e·μ`.
//!
//! Verifier (numbering of `docs/spec/zk-presign.md`): (V1) `C ∈ Z*_{N0²}`; (V2) `S ∈ Z*_N̂`;
//! (V3) `T ∈ Z*_N̂`; (V4) `D ∈ Z*_{N0²}`; (V5) `z2 ∈ Z*_{N0}`; (V6) `z1 ∈ ±2^(ℓ+ε)`;
//! (V7) `enc_0(z1; z2) = D·C^e mod N0²`; (V8) `z1·G + w·A = Y + e·X`; (V9) `w·G = Z + e·B`;
//! (V10) `s^z1 t^z3 = T·S^e mod N̂`.

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::{Curve, DecodeError, SecretScalar, Transcript};
use conclave_paillier::{Ciphertext, DecryptionKey, EncryptionKey, Nonce, RingPedersenParams};
use rand_core::CryptoRngCore;
use rug::Integer;

use crate::common::{append_integer, challenge_signed, curve_order, integer_to_scalar, read_integer, write_integer};
use crate::rp::{
    append_paillier, append_rp, enc_fresh, in_range_bits, is_ciphertext, is_unit, paillier_equation_vartime,
    pow_public_exp_secret_base_with, random_signed_bits, random_signed_scaled, rp_commit_secret, rp_equation,
    ProveError, SecretInteger, ELL, EPSILON, MAX_INTEGER_BITS,
};

/// Domain of the Π^enc-elg transcript.
pub const DOMAIN: &str = "conclave/zk/enc-elg/v1";

/// The public statement of Π^enc-elg.
#[derive(Debug, Clone, Copy)]
pub struct EncElgStatement<'a, C: Curve> {
    /// `N0`: the prover's Paillier key (`C` is encrypted under it).
    pub key: &'a EncryptionKey,
    /// `(N̂, s, t)`: the verifier's ring-Pedersen parameters.
    pub rp: &'a RingPedersenParams,
    /// `C = enc_0(x; ρ)`.
    pub ciphertext: &'a Ciphertext,
    /// `A`: the ElGamal public key (`a·G`).
    pub a: C::Point,
    /// `B = b·G`.
    pub b: C::Point,
    /// `X = b·A + x·G`.
    pub x: C::Point,
}

/// The secret witness of Π^enc-elg. `Debug` is redacted.
pub struct EncElgWitness<'a, C: Curve> {
    /// The plaintext `x ∈ ±2^ℓ`.
    pub x: &'a Integer,
    /// The encryption nonce `ρ` of `C`.
    pub rho: &'a Nonce,
    /// The ElGamal randomness `b`.
    pub b: &'a SecretScalar<C>,
    /// The prover's own decryption key of `N0`, if at hand: `D` and `z2` are then computed
    /// with the owner's fixed-base nonce tables and CRT (same proof, faster). Ignored if it is
    /// not the key of the statement's `N0`.
    pub prover_secret_key: Option<&'a DecryptionKey>,
}

impl<C: Curve> core::fmt::Debug for EncElgWitness<'_, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EncElgWitness(<redacted>)")
    }
}

/// A Π^enc-elg proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncElgProof<C: Curve> {
    /// `S = s^x t^μ mod N̂`.
    pub s: Integer,
    /// `D = enc_0(α; r)`.
    pub d: Integer,
    /// `Y = β·A + α·G`.
    pub y: C::Point,
    /// `Z = β·G`.
    pub z: C::Point,
    /// `T = s^α t^γ mod N̂`.
    pub t: Integer,
    /// `z1 = α + e·x`.
    pub z1: Integer,
    /// `w = β + e·b mod q`.
    pub w: C::Scalar,
    /// `z2 = r·ρ^e mod N0`.
    pub z2: Integer,
    /// `z3 = γ + e·μ`.
    pub z3: Integer,
}

/// Which check of Π^enc-elg failed (one variant per check, numbered as in the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncElgError {
    /// (V1) The statement's ciphertext `C` is not in `Z*_{N0²}`.
    #[error("Π^enc-elg: statement ciphertext C not in Z*_(N0²)")]
    StatementCiphertext,
    /// (V2) `S ∉ Z*_N̂`.
    #[error("Π^enc-elg: commitment S not in Z*_N̂")]
    SNotUnit,
    /// (V3) `T ∉ Z*_N̂`.
    #[error("Π^enc-elg: commitment T not in Z*_N̂")]
    TNotUnit,
    /// (V4) `D ∉ Z*_{N0²}`.
    #[error("Π^enc-elg: commitment D not in Z*_(N0²)")]
    DNotCiphertext,
    /// (V5) `z2 ∉ Z*_{N0}`.
    #[error("Π^enc-elg: response z2 not in Z*_N0")]
    Z2NotUnit,
    /// (V6) `z1 ∉ ±2^(ℓ+ε)`.
    #[error("Π^enc-elg: response z1 out of range ±2^(ℓ+ε)")]
    Z1OutOfRange,
    /// (V7) `enc_0(z1; z2) ≠ D·C^e`.
    #[error("Π^enc-elg: Paillier equation enc(z1; z2) = D·C^e fails")]
    PaillierEquation,
    /// (V8) `z1·G + w·A ≠ Y + e·X`.
    #[error("Π^enc-elg: ElGamal equation z1·G + w·A = Y + e·X fails")]
    ElGamalEquation,
    /// (V9) `w·G ≠ Z + e·B`.
    #[error("Π^enc-elg: nonce equation w·G = Z + e·B fails")]
    NonceEquation,
    /// (V10) `s^z1 t^z3 ≠ T·S^e`.
    #[error("Π^enc-elg: ring-Pedersen equation s^z1 t^z3 = T·S^e fails")]
    RingPedersenEquation,
}

/// Re-derives the challenge `e ∈ ±q` from the context, the full statement and the first
/// message.
fn challenge<C: Curve>(
    transcript: &Transcript,
    st: &EncElgStatement<'_, C>,
    s: &Integer,
    d: &Integer,
    y: &C::Point,
    z: &C::Point,
    t_commit: &Integer,
) -> Integer {
    let mut t = transcript.clone();
    append_paillier(&mut t, "enc-elg/n0", st.key);
    append_rp(&mut t, st.rp);
    append_integer(&mut t, "enc-elg/c", st.ciphertext.as_integer());
    t.append_point::<C>("enc-elg/a", &st.a);
    t.append_point::<C>("enc-elg/b", &st.b);
    t.append_point::<C>("enc-elg/x", &st.x);
    append_integer(&mut t, "enc-elg/S", s);
    append_integer(&mut t, "enc-elg/D", d);
    t.append_point::<C>("enc-elg/Y", y);
    t.append_point::<C>("enc-elg/Z", z);
    append_integer(&mut t, "enc-elg/T", t_commit);
    challenge_signed(&mut t, "enc-elg/challenge", &curve_order::<C>())
}

impl<C: Curve> EncElgProof<C> {
    /// Proves the statement with the witness. The witness is not checked against the
    /// statement (a wrong witness yields a proof that does not verify); `|x|` must be below
    /// `N0/2^(ε+ℓ+2)` for the arithmetic to be meaningful.
    pub fn prove(
        transcript: &Transcript,
        st: &EncElgStatement<'_, C>,
        wit: &EncElgWitness<'_, C>,
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Self, ProveError> {
        let n0 = st.key.modulus();
        let rp = st.rp;
        let n_hat_bits = rp.modulus().significant_bits();
        let x_bits = wit.x.significant_bits().max(ELL) + 1;
        let alpha = random_signed_bits(rng, ELL + EPSILON);
        let mu = random_signed_scaled(rng, ELL, rp.modulus());
        let beta = SecretScalar::<C>::random(rng);
        let gamma = random_signed_scaled(rng, ELL + EPSILON, rp.modulus());

        let bad = ProveError::InvalidInput;
        let s = rp_commit_secret(rp, wit.x, x_bits, mu.expose(), ELL + n_hat_bits + 1).ok_or(bad("x or μ"))?;
        let (d, r) = enc_fresh(rng, st.key, wit.prover_secret_key, alpha.expose()).ok_or(bad("α does not fit N0"))?;
        let alpha_scalar = SecretScalar::<C>::new(integer_to_scalar::<C>(alpha.expose()));
        let y = st.a * beta.expose_secret() + C::mul_base(alpha_scalar.expose_secret());
        let z = C::mul_base(beta.expose_secret());
        let t_commit =
            rp_commit_secret(rp, alpha.expose(), ELL + EPSILON + 1, gamma.expose(), ELL + EPSILON + n_hat_bits + 1)
                .ok_or(bad("α or γ"))?;

        let e = challenge::<C>(transcript, st, &s, &d, &y, &z, &t_commit);
        let e_scalar = integer_to_scalar::<C>(&e);
        let ex = SecretInteger::new(Integer::from(&e * wit.x));
        let z1 = Integer::from(alpha.expose() + ex.expose());
        let w = *beta.expose_secret() + e_scalar * wit.b.expose_secret();
        let rho_e = pow_public_exp_secret_base_with(rng, wit.prover_secret_key, wit.rho.expose_secret(), &e, n0)
            .ok_or(bad("ρ"))?;
        let z2 = Integer::from(r.expose() * &rho_e) % n0;
        let emu = SecretInteger::new(Integer::from(&e * mu.expose()));
        let z3 = Integer::from(gamma.expose() + emu.expose());
        Ok(Self { s, d, y, z, t: t_commit, z1, w, z2, z3 })
    }

    /// Verifies the proof against the statement in the context held by `transcript`.
    pub fn verify(&self, transcript: &Transcript, st: &EncElgStatement<'_, C>) -> Result<(), EncElgError> {
        self.verify_with_key(transcript, st, None)
    }

    /// As [`EncElgProof::verify`]; `verifier_key`, if it is the decryption key of `N̂` (the
    /// verifier's own modulus, as in CGGMP24 aux-info), checks (V10) by CRT with
    /// [`DecryptionKey::ring_pedersen_relation_holds`] instead of exponentiating modulo `N̂`.
    /// Same checks, same errors, same result.
    pub fn verify_with_key(
        &self,
        transcript: &Transcript,
        st: &EncElgStatement<'_, C>,
        verifier_key: Option<&DecryptionKey>,
    ) -> Result<(), EncElgError> {
        let n0 = st.key.modulus();
        let n_hat = st.rp.modulus();
        if !is_ciphertext(st.ciphertext.as_integer(), st.key) {
            return Err(EncElgError::StatementCiphertext);
        }
        if !is_unit(&self.s, n_hat) {
            return Err(EncElgError::SNotUnit);
        }
        if !is_unit(&self.t, n_hat) {
            return Err(EncElgError::TNotUnit);
        }
        if !is_ciphertext(&self.d, st.key) {
            return Err(EncElgError::DNotCiphertext);
        }
        if !is_unit(&self.z2, n0) {
            return Err(EncElgError::Z2NotUnit);
        }
        if !in_range_bits(&self.z1, ELL + EPSILON) {
            return Err(EncElgError::Z1OutOfRange);
        }
        let e = challenge::<C>(transcript, st, &self.s, &self.d, &self.y, &self.z, &self.t);
        let e_scalar = integer_to_scalar::<C>(&e);

        // (V7) (1 + z1·N0)·z2^N0·C^-e = D (mod N0²), one multi-exponentiation.
        if !paillier_equation_vartime(st.key, &self.z1, &self.z2, &[(st.ciphertext.as_integer(), &-e.clone())], &self.d)
        {
            return Err(EncElgError::PaillierEquation);
        }
        let z1_scalar = integer_to_scalar::<C>(&self.z1);
        if C::mul_base(&z1_scalar) + st.a * self.w != self.y + st.x * e_scalar {
            return Err(EncElgError::ElGamalEquation);
        }
        if C::mul_base(&self.w) != self.z + st.b * e_scalar {
            return Err(EncElgError::NonceEquation);
        }
        if !rp_equation(st.rp, verifier_key, &self.z1, &self.z3, &self.t, &self.s, &e) {
            return Err(EncElgError::RingPedersenEquation);
        }
        Ok(())
    }
}

impl<C: Curve> Encode for EncElgProof<C> {
    fn encode(&self, w: &mut Writer) {
        write_integer(w, &self.s);
        write_integer(w, &self.d);
        w.point::<C>(&self.y).point::<C>(&self.z);
        write_integer(w, &self.t);
        write_integer(w, &self.z1);
        w.scalar::<C>(&self.w);
        write_integer(w, &self.z2);
        write_integer(w, &self.z3);
    }
}

impl<C: Curve> Decode for EncElgProof<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            s: read_integer(r, MAX_INTEGER_BITS)?,
            d: read_integer(r, MAX_INTEGER_BITS)?,
            y: r.point::<C>()?,
            z: r.point::<C>()?,
            t: read_integer(r, MAX_INTEGER_BITS)?,
            z1: read_integer(r, MAX_INTEGER_BITS)?,
            w: r.scalar::<C>()?,
            z2: read_integer(r, MAX_INTEGER_BITS)?,
            z3: read_integer(r, MAX_INTEGER_BITS)?,
        })
    }
}
