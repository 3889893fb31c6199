//! Π^elog: discrete logarithm with an ElGamal commitment (CGGMP24, Appendix A; used in
//! presigning round 2 for `Γ_i` against `B_i`, and in round 3 for `Δ_i = k_i·Γ` against
//! `A_i`).
//!
//! Statement: points `L, M, X, Y, h`. Witness: scalars `λ, y` with `L = λ·G`,
//! `M = y·G + λ·X`, `Y = y·h` (`(L, M)` is an ElGamal encryption of `y·G` under the key `X`,
//! and `Y` is `y` times the base `h`).
//!
//! Prover: `α, m ← F_q`; `A = α·G`, `N = m·G + α·X`, `B = m·h`; challenge `e ∈ F_q`;
//! `z = α + e·λ`, `u = m + e·y`.
//!
//! Verifier: (V1) `h ≠ 0` (the identity as base would make (V4) vacuous);
//! (V2) `z·G = A + e·L`; (V3) `u·G + z·X = N + e·M`; (V4) `u·h = B + e·Y`.

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::{Curve, DecodeError, SecretScalar, Transcript};
use group::Group;
use rand_core::CryptoRngCore;

/// Domain of the Π^elog transcript.
pub const DOMAIN: &str = "conclave/zk/elog/v1";

/// The public statement of Π^elog.
#[derive(Debug, Clone, Copy)]
pub struct ElogStatement<C: Curve> {
    /// `L = λ·G`.
    pub l: C::Point,
    /// `M = y·G + λ·X`.
    pub m: C::Point,
    /// `X`: the ElGamal key.
    pub x: C::Point,
    /// `Y = y·h`.
    pub y: C::Point,
    /// `h`: the base of `Y`.
    pub h: C::Point,
}

/// The secret witness of Π^elog. `Debug` is redacted.
pub struct ElogWitness<'a, C: Curve> {
    /// `λ`.
    pub lambda: &'a SecretScalar<C>,
    /// `y`.
    pub y: &'a SecretScalar<C>,
}

impl<C: Curve> core::fmt::Debug for ElogWitness<'_, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ElogWitness(<redacted>)")
    }
}

/// A Π^elog proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElogProof<C: Curve> {
    /// `A = α·G`.
    pub a: C::Point,
    /// `N = m·G + α·X`.
    pub n: C::Point,
    /// `B = m·h`.
    pub b: C::Point,
    /// `z = α + e·λ`.
    pub z: C::Scalar,
    /// `u = m + e·y`.
    pub u: C::Scalar,
}

/// Which check of Π^elog failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ElogError {
    /// (V1) The base `h` is the identity.
    #[error("Π^elog: base h is the identity")]
    BaseIsIdentity,
    /// (V2) `z·G ≠ A + e·L`.
    #[error("Π^elog: equation z·G = A + e·L fails")]
    LEquation,
    /// (V3) `u·G + z·X ≠ N + e·M`.
    #[error("Π^elog: equation u·G + z·X = N + e·M fails")]
    MEquation,
    /// (V4) `u·h ≠ B + e·Y`.
    #[error("Π^elog: equation u·h = B + e·Y fails")]
    YEquation,
}

fn challenge<C: Curve>(
    transcript: &Transcript,
    st: &ElogStatement<C>,
    a: &C::Point,
    n: &C::Point,
    b: &C::Point,
) -> C::Scalar {
    let mut t = transcript.clone();
    t.append_points::<C>("elog/statement", &[st.l, st.m, st.x, st.y, st.h]);
    t.append_points::<C>("elog/commitment", &[*a, *n, *b]);
    t.challenge_scalar::<C>("elog/challenge")
}

impl<C: Curve> ElogProof<C> {
    /// Proves the statement with the witness (not checked against the statement).
    pub fn prove(
        transcript: &Transcript,
        st: &ElogStatement<C>,
        wit: &ElogWitness<'_, C>,
        rng: &mut dyn CryptoRngCore,
    ) -> Self {
        let alpha = SecretScalar::<C>::random(rng);
        let m = SecretScalar::<C>::random(rng);
        let a = C::mul_base(alpha.expose_secret());
        let n = C::mul_base(m.expose_secret()) + st.x * alpha.expose_secret();
        let b = st.h * m.expose_secret();
        let e = challenge::<C>(transcript, st, &a, &n, &b);
        let z = *alpha.expose_secret() + e * wit.lambda.expose_secret();
        let u = *m.expose_secret() + e * wit.y.expose_secret();
        Self { a, n, b, z, u }
    }

    /// Verifies the proof against the statement in the context held by `transcript`.
    pub fn verify(&self, transcript: &Transcript, st: &ElogStatement<C>) -> Result<(), ElogError> {
        if bool::from(st.h.is_identity()) {
            return Err(ElogError::BaseIsIdentity);
        }
        let e = challenge::<C>(transcript, st, &self.a, &self.n, &self.b);
        if C::mul_base(&self.z) != self.a + st.l * e {
            return Err(ElogError::LEquation);
        }
        if C::mul_base(&self.u) + st.x * self.z != self.n + st.m * e {
            return Err(ElogError::MEquation);
        }
        if st.h * self.u != self.b + st.y * e {
            return Err(ElogError::YEquation);
        }
        Ok(())
    }
}

impl<C: Curve> Encode for ElogProof<C> {
    fn encode(&self, w: &mut Writer) {
        w.point::<C>(&self.a).point::<C>(&self.n).point::<C>(&self.b).scalar::<C>(&self.z).scalar::<C>(&self.u);
    }
}

impl<C: Curve> Decode for ElogProof<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            a: r.point::<C>()?,
            n: r.point::<C>()?,
            b: r.point::<C>()?,
            z: r.scalar::<C>()?,
            u: r.scalar::<C>()?,
        })
    }
}
