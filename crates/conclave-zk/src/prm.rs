//! Π^prm: proof that ring-Pedersen parameters `(N̂, s, t)` satisfy `s ∈ ⟨t⟩`, i.e.
//! `s = t^λ mod N̂` for a `λ` the prover knows (CGGMP24 "ring-Pedersen parameters"; the
//! Lockness spec `spec/main.tex` §"Π^prm"; `docs/spec/zk-aux.md` §4).
//!
//! `m = 128` parallel repetitions of a Schnorr-like proof with **binary** challenges: the
//! prover sends `A_i = t^{a_i}` for `a_i ← Z_{φ(N̂)}`; the challenge bits `e_i ∈ {0, 1}` come
//! from the transcript; the prover answers `z_i = a_i + e_i λ mod φ(N̂)`; the verifier checks
//! `t^{z_i} = A_i s^{e_i} (mod N̂)`. A single repetition with a large challenge is unsound
//! when the order of `t` is unknown (TSSHOCK c-split / c-guess): this module never accepts
//! one. The proof must carry exactly [`M`] commitments and [`M`] responses, or it neither
//! decodes nor verifies.
//!
//! # Parameters
//!
//! * [`M`] = 128 binary challenges (soundness error `2^-128`).

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::{DecodeError, Transcript};
use conclave_paillier::{DecryptionKey, Integer, RingPedersenParams, RingPedersenSecret};
use rand_core::CryptoRngCore;

use crate::common::{append_integer, challenge_bits, read_integer, write_integer};
use crate::pi_mod::{
    is_unit_vartime, pow_secret, pow_vartime, sample_below, AuxProveError, SecretInteger, MAX_MODULUS_BITS,
};

/// Domain of the Π^prm transcript (`Transcript::for_proof(DOMAIN, &ctx)`).
pub const DOMAIN: &str = "conclave/zk/prm/v1";

/// Number of repetitions, each with one binary challenge.
pub const M: usize = 128;

/// The witness of Π^prm: `λ` and `φ(N̂)`, and optionally the factorisation of `N̂` (a
/// decryption key with modulus `N̂`) for exponentiation by CRT. Borrowed; `Debug` is redacted.
#[derive(Clone, Copy)]
pub struct PrmWitness<'a> {
    secret: &'a RingPedersenSecret,
    key: Option<&'a DecryptionKey>,
}

impl core::fmt::Debug for PrmWitness<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PrmWitness(<redacted>)")
    }
}

impl<'a> PrmWitness<'a> {
    /// A witness from the ring-Pedersen secret alone.
    pub fn new(secret: &'a RingPedersenSecret) -> Self {
        Self { secret, key: None }
    }

    /// A witness that also knows the factorisation of `N̂` (about four times faster proving).
    /// The key is used only if its modulus is `N̂`.
    pub fn with_key(secret: &'a RingPedersenSecret, key: &'a DecryptionKey) -> Self {
        Self { secret, key: Some(key) }
    }
}

/// A Π^prm proof: `A_1, …, A_m` and `z_1, …, z_m`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrmProof {
    /// `A_i = t^{a_i} mod N̂`; exactly [`M`].
    pub commitments: Vec<Integer>,
    /// `z_i = a_i + e_i λ mod φ(N̂)`; exactly [`M`].
    pub responses: Vec<Integer>,
}

/// Which check of the Π^prm verifier failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrmError {
    /// Not exactly [`M`] commitments and [`M`] responses (e.g. a single large-challenge proof).
    #[error("proof has {commitments} commitments and {responses} responses, expected {M} each")]
    WrongRoundCount {
        /// Commitments found.
        commitments: usize,
        /// Responses found.
        responses: usize,
    },
    /// `A_i ∉ Z*_N̂`.
    #[error("A_{index} is not in Z*_N^")]
    CommitmentNotUnit {
        /// Round index.
        index: usize,
    },
    /// `z_i ∉ [0, N̂)`.
    #[error("z_{index} is not in [0, N^)")]
    ResponseOutOfRange {
        /// Round index.
        index: usize,
    },
    /// `t^{z_i} ≠ A_i s^{e_i} (mod N̂)`.
    #[error("t^z_{index} != A_{index} s^e_{index} mod N^")]
    Equation {
        /// Round index.
        index: usize,
    },
}

/// The `m` challenge bits, bound to the context (in `transcript`), `m`, the statement
/// `(N̂, s, t)` and all commitments.
pub fn challenges(transcript: &Transcript, params: &RingPedersenParams, commitments: &[Integer]) -> Vec<bool> {
    let mut t = transcript.clone();
    t.append_bytes("aux/proof", DOMAIN.as_bytes());
    t.append_u64("prm/m", M as u64);
    append_integer(&mut t, "prm/N", params.modulus());
    append_integer(&mut t, "prm/s", params.s());
    append_integer(&mut t, "prm/t", params.t());
    t.append_u64("prm/commitments", commitments.len() as u64);
    for a in commitments {
        append_integer(&mut t, "prm/A", a);
    }
    challenge_bits(&mut t, "prm/e", M)
}

impl PrmProof {
    /// Proves `s = t^λ mod N̂` for `params = (N̂, s, t)`.
    ///
    /// `transcript` must hold the proof context (`Transcript::for_proof(DOMAIN, &ctx)`). The
    /// exponentiations `t^{a_i}` are constant-time: with the key in the witness by CRT with
    /// comb tables of `t mod p`, `t mod q` ([`DecryptionKey::ring_pedersen_pow_t`]), otherwise
    /// `mpz_powm_sec`. Checks that `t^λ = s` first, so a wrong witness is the caller's error.
    pub fn prove(
        transcript: &Transcript,
        params: &RingPedersenParams,
        witness: &PrmWitness<'_>,
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Self, AuxProveError> {
        let (n_hat, s, t) = (params.modulus(), params.s(), params.t());
        let lambda = witness.secret.expose_lambda();
        let phi = witness.secret.expose_phi();
        let key = witness.key.filter(|k| k.encryption_key().modulus() == n_hat);
        let pow_t = |e: &Integer| -> Result<Integer, AuxProveError> {
            match key {
                // CRT with the constant-time comb tables of t mod p and t mod q.
                Some(k) => {
                    k.ring_pedersen_pow_t(params, e).map_err(|_| AuxProveError::Bug("CRT exponentiation failed"))
                }
                None => pow_secret(t, e, n_hat),
            }
        };
        if pow_t(lambda)? != *s {
            return Err(AuxProveError::InvalidWitness("t^lambda != s"));
        }
        let mut nonces = Vec::with_capacity(M);
        let mut commitments = Vec::with_capacity(M);
        for _ in 0..M {
            let a = SecretInteger::new(sample_below(rng, phi)?);
            commitments.push(pow_t(a.expose())?);
            nonces.push(a);
        }
        let bits = challenges(transcript, params, &commitments);
        let mut responses = Vec::with_capacity(M);
        for (a, e) in nonces.iter().zip(&bits) {
            // z = (a + e λ) mod φ without a secret-dependent branch on the wrap-around.
            let e_lambda = SecretInteger::new(Integer::from(lambda * u32::from(*e)));
            let sum = SecretInteger::new(Integer::from(a.expose() + e_lambda.expose()));
            responses.push(Integer::from(sum.expose().modulo_ref(phi)));
        }
        Ok(Self { commitments, responses })
    }

    /// Verifies the proof for `params = (N̂, s, t)` in the context held by `transcript`.
    ///
    /// `s, t ∈ Z*_N̂` and the size of `N̂` are guaranteed by [`RingPedersenParams::new`]. Checks,
    /// in order (docs/spec/zk-aux.md §4.4): exactly `M` commitments and responses; every
    /// `A_i ∈ Z*_N̂`; every `z_i ∈ [0, N̂)`; then `t^{z_i} = A_i s^{e_i} (mod N̂)` for every
    /// `i`, with the `M` challenge bits `e_i` from the transcript.
    pub fn verify(&self, transcript: &Transcript, params: &RingPedersenParams) -> Result<(), PrmError> {
        if self.commitments.len() != M || self.responses.len() != M {
            return Err(PrmError::WrongRoundCount {
                commitments: self.commitments.len(),
                responses: self.responses.len(),
            });
        }
        let (n_hat, s, t) = (params.modulus(), params.s(), params.t());
        for (index, (a, z)) in self.commitments.iter().zip(&self.responses).enumerate() {
            if !is_unit_vartime(a, n_hat) {
                return Err(PrmError::CommitmentNotUnit { index });
            }
            if z.is_negative() || *z >= *n_hat {
                return Err(PrmError::ResponseOutOfRange { index });
            }
        }
        let bits = challenges(transcript, params, &self.commitments);
        // t^z_i through the fixed-base tables of (N̂, s, t) (built here once; the same tables
        // serve every later proof addressed to this party). z_i < N̂ was checked above.
        let z_bits = n_hat.significant_bits();
        for (index, ((a, z), e)) in self.commitments.iter().zip(&self.responses).zip(&bits).enumerate() {
            let lhs = params.commit(&Integer::ZERO, 0, z, z_bits).ok().or_else(|| pow_vartime(t, z, n_hat));
            let rhs = if *e { Integer::from(a * s) % n_hat } else { a.clone() };
            if lhs.as_ref() != Some(&rhs) {
                return Err(PrmError::Equation { index });
            }
        }
        Ok(())
    }
}

impl Encode for PrmProof {
    fn encode(&self, w: &mut Writer) {
        w.len(self.commitments.len());
        for a in &self.commitments {
            write_integer(w, a);
        }
        w.len(self.responses.len());
        for z in &self.responses {
            write_integer(w, z);
        }
    }
}

/// Reads a sequence of exactly [`M`] integers of at most [`MAX_MODULUS_BITS`] bits.
fn read_exactly_m(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<Integer>, DecodeError> {
    // Each integer is at least a 4-byte length prefix and a sign byte.
    let count = r.len(what, M, 5)?;
    if count != M {
        return Err(DecodeError::Invalid { what, reason: "not exactly 128 entries" });
    }
    (0..count).map(|_| read_integer(r, MAX_MODULUS_BITS)).collect()
}

impl Decode for PrmProof {
    /// Decodes `count ‖ A^count ‖ count ‖ z^count`; both counts must be exactly [`M`], every
    /// integer at most [`MAX_MODULUS_BITS`] bits.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let commitments = read_exactly_m(r, "prm commitments")?;
        let responses = read_exactly_m(r, "prm responses")?;
        Ok(Self { commitments, responses })
    }
}
