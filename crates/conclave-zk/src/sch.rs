//! Π^sch: proof of knowledge of `x` such that `X = x·G`.
//!
//! Statement `X`; witness `x`. The prover samples `α`, sends `A = α·G` and
//! `z = α + e·x` where `e = H(context, extra statement, X, A)`. The verifier checks
//! `z·G = A + e·X` (CGGMP24 Fig. 22 / the constant-term proof of FROST KeyGen). The nonce
//! `α` is hedged: derived from fresh randomness *and* the witness through the transcript, so
//! neither a weak RNG nor a repeated one alone leaks `x`.

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::{Curve, DecodeError, SecretScalar, Transcript};
use rand_core::CryptoRngCore;
use zeroize::Zeroize;

/// Domain of the Π^sch transcript.
pub const DOMAIN: &str = "conclave/zk/sch/v1";

/// A Schnorr proof of knowledge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchProof<C: Curve> {
    /// `A = α·G`.
    pub commitment: C::Point,
    /// `z = α + e·x`.
    pub response: C::Scalar,
}

/// The one way a Π^sch proof fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Schnorr proof of knowledge does not verify: z·G ≠ A + e·X")]
pub struct SchError;

fn challenge<C: Curve>(mut t: Transcript, statement: &C::Point, commitment: &C::Point) -> C::Scalar {
    t.append_point::<C>("sch/statement", statement);
    t.append_point::<C>("sch/commitment", commitment);
    t.challenge_scalar::<C>("sch/challenge")
}

impl<C: Curve> SchProof<C> {
    /// Proves knowledge of `witness` for `statement = witness·G`.
    ///
    /// `transcript` must already hold the proof context and every other part of the public
    /// statement the proof is to be bound to.
    pub fn prove(
        transcript: &Transcript,
        statement: &C::Point,
        witness: &SecretScalar<C>,
        rng: &mut dyn CryptoRngCore,
    ) -> Self {
        let mut hedge = transcript.clone();
        let mut fresh = [0u8; 32];
        rng.fill_bytes(&mut fresh);
        hedge.append_bytes("sch/nonce-randomness", &fresh);
        let mut w = C::encode_scalar(witness.expose_secret());
        hedge.append_bytes("sch/nonce-witness", &w);
        w.zeroize();
        fresh.zeroize();
        let alpha = SecretScalar::<C>::new(hedge.challenge_scalar::<C>("sch/nonce"));
        let commitment = alpha.public_point();
        let e = challenge::<C>(transcript.clone(), statement, &commitment);
        let response = *alpha.expose_secret() + e * witness.expose_secret();
        Self { commitment, response }
    }

    /// Verifies the proof against `statement` in the context held by `transcript`.
    pub fn verify(&self, transcript: &Transcript, statement: &C::Point) -> Result<(), SchError> {
        let e = challenge::<C>(transcript.clone(), statement, &self.commitment);
        if C::mul_base(&self.response) == self.commitment + *statement * e {
            Ok(())
        } else {
            Err(SchError)
        }
    }
}

impl<C: Curve> Encode for SchProof<C> {
    fn encode(&self, w: &mut Writer) {
        w.point::<C>(&self.commitment).scalar::<C>(&self.response);
    }
}

impl<C: Curve> Decode for SchProof<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { commitment: r.point::<C>()?, response: r.scalar::<C>()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_math::{Ed25519, ProofContext, Secp256k1, P256};
    use ff::Field;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn ctx(prover: u16, session: &[u8]) -> Transcript {
        Transcript::for_proof(
            DOMAIN,
            &ProofContext { protocol: "test", version: 1, session, round: 1, prover, parties: &[0, 1, 2] },
        )
    }

    fn sch<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let x = SecretScalar::<C>::random_nonzero(&mut rng);
        let big_x = x.public_point();
        let t = ctx(0, b"s1");
        let proof = SchProof::<C>::prove(&t, &big_x, &x, &mut rng);
        assert_eq!(proof.verify(&t, &big_x), Ok(()));
        // Round-trips through the codec.
        assert_eq!(SchProof::<C>::from_bytes(&proof.to_bytes()).unwrap(), proof);
        // Another prover, session or statement: rejected.
        assert_eq!(proof.verify(&ctx(1, b"s1"), &big_x), Err(SchError));
        assert_eq!(proof.verify(&ctx(0, b"s2"), &big_x), Err(SchError));
        assert_eq!(proof.verify(&t, &(big_x + C::generator())), Err(SchError));
        // The verification equation with a changed response or commitment: rejected.
        let bad = SchProof::<C> { response: proof.response + C::Scalar::ONE, ..proof.clone() };
        assert_eq!(bad.verify(&t, &big_x), Err(SchError));
        let bad = SchProof::<C> { commitment: proof.commitment + C::generator(), ..proof };
        assert_eq!(bad.verify(&t, &big_x), Err(SchError));
    }

    #[test]
    fn sch_all_curves() {
        sch::<Secp256k1>();
        sch::<P256>();
        sch::<Ed25519>();
    }
}
