//! Signing with a presignature (one round), and interactive signing (presigning then signing
//! in one session, for one message fixed before the presignature exists).
//!
//! Each signer broadcasts `σ_i = k_i·m + r·χ_i`. Every partial signature is checked against the
//! presignature's commitments, `σ_j·Γ = m·Δ_j + r·S_j`, so a bad one names its sender; the sum
//! is low-S normalised and verified against the public key before it is released.

use std::sync::Arc;

use conclave_keygen::KeyShare;
use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::{Curve, DecodeError};
use conclave_protocol::{
    Culprit, Delivery, Fault, Machine, MachineConfig, Outbox, Protocol, ProtocolError, RoundId, RoundInfo, RoundInput,
    Step,
};
use rand_core::CryptoRngCore;

use crate::error::SignError;
use crate::hd::DerivationPath;
use crate::message::SignedData;
use crate::presign::{self, Presign, Presignature, ThresholdCurve};
use crate::signature::{digest_scalar, recovery_id, Signature};
use conclave_keygen::AuxInfo;

/// Protocol name of signing with a stored presignature.
pub const PROTOCOL: &str = "conclave/sign/v1";
/// Protocol name of interactive signing.
pub const INTERACTIVE_PROTOCOL: &str = "conclave/sign-interactive/v1";

/// The broadcast of the signing round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialSignature<C: Curve> {
    /// `σ_i = k_i·m + r·χ_i`.
    pub sigma: C::Scalar,
}

impl<C: Curve> Encode for PartialSignature<C> {
    fn encode(&self, w: &mut Writer) {
        w.scalar::<C>(&self.sigma);
    }
}

impl<C: Curve> Decode for PartialSignature<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { sigma: r.scalar::<C>()? })
    }
}

/// A released threshold ECDSA signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcdsaSignature<C: Curve> {
    /// `(r, s)`, low-S.
    pub signature: Signature<C>,
    /// Ethereum's `v − 27`.
    pub recovery_id: u8,
    /// The key it verifies under (derived along the presignature's path).
    pub public_key: C::Point,
    /// The digest signed.
    pub digest: [u8; 32],
}

/// The signing round.
#[derive(Debug)]
pub struct SignRound<C: ThresholdCurve> {
    round: RoundId,
    presignature: Presignature<C>,
    digest: [u8; 32],
    m: C::Scalar,
    r: C::Scalar,
    own_sigma: C::Scalar,
}

impl<C: ThresholdCurve> SignRound<C> {
    /// Consumes the presignature: computes `σ_i` for `data`.
    fn new(round: RoundId, presignature: Presignature<C>, data: &SignedData) -> (Self, Outbox) {
        let digest = data.digest();
        let m = digest_scalar::<C>(&digest);
        let (r, _) = C::x_mod_q(&presignature.big_r);
        let own_sigma = *presignature.k.expose_secret() * m + r * presignature.chi.expose_secret();
        let outbox = Outbox { broadcast: Some(PartialSignature::<C> { sigma: own_sigma }.to_bytes()), direct: vec![] };
        (Self { round, presignature, digest, m, r, own_sigma }, outbox)
    }

    fn info(&self) -> RoundInfo {
        RoundInfo { id: self.round, broadcast: Some(Delivery::Plain), direct: false }
    }

    /// Checks every partial signature, combines, normalises and verifies.
    fn finish(self, input: RoundInput) -> Result<EcdsaSignature<C>, ProtocolError> {
        let p = &self.presignature;
        let mut culprits = Vec::new();
        let mut sigma = self.own_sigma;
        for j in p.signers.others(p.me) {
            let (Some(msg), Some(big_delta), Some(big_s)) =
                (input.broadcasts.get(&j), p.big_deltas.get(&j), p.big_s.get(&j))
            else {
                return Err(ProtocolError::Bug("signing input incomplete"));
            };
            let blame = |f| Culprit::with_message(j, self.round, f, msg.statement.clone());
            match PartialSignature::<C>::from_bytes(&msg.payload) {
                Err(_) => culprits.push(blame(Fault::Malformed)),
                Ok(ps) if p.gamma * ps.sigma != *big_delta * self.m + *big_s * self.r => {
                    culprits.push(blame(Fault::InvalidPartialSignature))
                }
                Ok(ps) => sigma += ps.sigma,
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        let (signature, flipped) = Signature::<C> { r: self.r, s: sigma }.normalize_s();
        if !signature.verify(&p.public_key, &self.digest) {
            return Err(ProtocolError::Bug("every partial signature checked out but the signature does not verify"));
        }
        Ok(EcdsaSignature {
            signature,
            recovery_id: recovery_id::<C>(&p.big_r, flipped),
            public_key: p.public_key,
            digest: self.digest,
        })
    }
}

/// Signing with a stored presignature.
#[derive(Debug)]
pub struct Sign<C: ThresholdCurve>(SignRound<C>);

impl<C: ThresholdCurve> Protocol for Sign<C> {
    type Output = EcdsaSignature<C>;
    const NAME: &'static str = PROTOCOL;

    fn round(&self) -> RoundInfo {
        self.0.info()
    }

    fn proceed(self, _rng: &mut dyn CryptoRngCore, input: RoundInput) -> Result<Step<Self>, ProtocolError> {
        self.0.finish(input).map(Step::Done)
    }
}

/// Signs `data` with a presignature, consuming it. `data` must be a message with a named hash:
/// a caller-supplied digest can only be signed interactively (CVE-2025-66017).
pub fn start<C: ThresholdCurve>(
    cfg: MachineConfig,
    presignature: Presignature<C>,
    data: &SignedData,
    rng: &mut dyn CryptoRngCore,
) -> Result<Machine<Sign<C>>, SignError> {
    if matches!(data, SignedData::Prehashed(_)) {
        return Err(SignError::InvalidInput(
            "a caller-supplied digest can only be signed interactively, never with a stored presignature".into(),
        ));
    }
    if cfg.parties != presignature.signers || cfg.me != presignature.me {
        return Err(SignError::InvalidInput("the session's signers differ from the presignature's".into()));
    }
    let (round, outbox) = SignRound::new(RoundId(1), presignature, data);
    Ok(Machine::start(cfg, rng, Sign(round), outbox)?)
}

/// Interactive signing: presigning bound to the message, then the signing round.
#[derive(Debug)]
pub enum Interactive<C: ThresholdCurve> {
    /// Rounds 1–3, and presigning's identifiable-abort rounds 4 … `2 + |S|` when a joint
    /// check fails (they always end with an error, so no signing round follows them).
    Presign(Presign<C>, SignedData),
    /// Round 4 (only after presigning produced its presignature in round 3).
    Sign(SignRound<C>),
}

impl<C: ThresholdCurve> Protocol for Interactive<C> {
    type Output = EcdsaSignature<C>;
    const NAME: &'static str = INTERACTIVE_PROTOCOL;

    fn round(&self) -> RoundInfo {
        match self {
            Interactive::Presign(p, _) => p.round(),
            Interactive::Sign(s) => s.info(),
        }
    }

    fn proceed(self, rng: &mut dyn CryptoRngCore, input: RoundInput) -> Result<Step<Self>, ProtocolError> {
        match self {
            Interactive::Presign(p, data) => match p.proceed(rng, input)? {
                Step::Next(next, outbox) => Ok(Step::Next(Interactive::Presign(next, data), outbox)),
                Step::Done(presignature) => {
                    let (round, outbox) = SignRound::new(RoundId(4), presignature, &data);
                    Ok(Step::Next(Interactive::Sign(round), outbox))
                }
            },
            Interactive::Sign(s) => s.finish(input).map(Step::Done),
        }
    }
}

/// Runs presigning and signing for `data` among `cfg.parties`. The presignature is bound to
/// `data` (its digest enters every proof transcript) and never leaves the session, so `data`
/// may be a caller-supplied digest here.
pub fn start_interactive<C: ThresholdCurve>(
    cfg: MachineConfig,
    key: &KeyShare<C>,
    aux: Arc<AuxInfo>,
    path: &DerivationPath,
    data: SignedData,
    rng: &mut dyn CryptoRngCore,
) -> Result<Machine<Interactive<C>>, SignError> {
    let (state, outbox) = presign::first_round(&cfg, key, aux, path, Some(&data), rng)?;
    Ok(Machine::start(cfg, rng, Interactive::Presign(state, data), outbox)?)
}
