//! Dealerless distributed key generation (DKG), t-of-n, generic over the curve.
//!
//! The protocol, with the steps numbered as in `docs/spec/dkg.md`:
//!
//! | round | sends | delivery | checks |
//! |---|---|---|---|
//! | 1 | `Commit { V_i }` | reliable (echo) | echo agreement |
//! | 2 | `Reveal { A_i, rid_i, u_i, π_i }` + `Share { f_i(x_j) }` to each `j` | plain + direct | `V_i` opens, exactly `t` coefficients, Π^sch, Feldman share check |
//! | 3 | `Verdict::Confirm { H(V_1..V_n) }` or `Verdict::Complaint { evidence }` | reliable (echo) | every complaint re-checked by everyone |
//!
//! Every honest party sees the same round-1 and round-3 messages (echo broadcast), and every
//! accusation carries the accused party's signed message, so all honest parties reach the same
//! verdict: either the same key, or an abort naming the same culprits.

mod msg;
mod round1;
mod round2;
mod round3;

pub use msg::{Accusation, Accused, Commit, Reveal, Share, Verdict};

use std::collections::BTreeMap;

use conclave_math::{Curve, ProofContext, Transcript};
use conclave_protocol::{
    IdentityPublicKey, Machine, MachineConfig, PartyIndex, PartySet, Protocol, ProtocolError, RoundInfo, RoundInput,
    SessionId, Step,
};
use rand_core::CryptoRngCore;

use crate::error::KeygenError;
use crate::key_share::KeyShare;

/// Protocol name and version, bound into every envelope.
pub const PROTOCOL: &str = "conclave/dkg/v1";
const PROTOCOL_FAMILY: &str = "conclave/dkg";
const VERSION: u32 = 1;

/// Deviations a test can make a party commit, following the protocol otherwise
/// (feature `adversary`, never in production builds).
#[cfg(feature = "adversary")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Commit to and reveal a polynomial with `t + 1` coefficients (threshold raising).
    ExtraCoefficient,
    /// Accuse an honest party of sending a bad share, with its real (valid) signed share.
    FalseComplaintAgainst(PartyIndex),
}

/// The public parameters every round needs.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub session: SessionId,
    pub parties: PartySet,
    pub parties_u16: Vec<u16>,
    pub me: PartyIndex,
    pub threshold: u16,
    pub peers: BTreeMap<PartyIndex, IdentityPublicKey>,
    #[cfg(feature = "adversary")]
    pub misbehaviour: Option<Misbehaviour>,
}

impl Context {
    pub fn proof_context(&self, round: u16, prover: PartyIndex) -> ProofContext<'_> {
        ProofContext {
            protocol: PROTOCOL_FAMILY,
            version: VERSION,
            session: &self.session.0,
            round,
            prover: prover.0,
            parties: &self.parties_u16,
        }
    }

    /// `V_i = H(context(round 1, i), t, A_i, rid_i, u_i)`.
    pub fn commitment_hash<C: Curve>(
        &self,
        party: PartyIndex,
        coefficients: &[C::Point],
        rid: &[u8; 32],
        decommitment: &[u8; 32],
    ) -> [u8; 32] {
        let mut t = Transcript::for_proof("conclave/dkg/v1/commit", &self.proof_context(1, party));
        t.append_u64("threshold", u64::from(self.threshold));
        t.append_points::<C>("coefficients", coefficients);
        t.append_bytes("rid", rid);
        t.append_bytes("decommitment", decommitment);
        t.digest("commitment")
    }

    /// The transcript of party `prover`'s Π^sch for `a_{i,0}`: context of round 2, the
    /// threshold and the full coefficient commitment.
    pub fn proof_transcript<C: Curve>(&self, prover: PartyIndex, coefficients: &[C::Point]) -> Transcript {
        let mut t = Transcript::for_proof(conclave_zk::sch::DOMAIN, &self.proof_context(2, prover));
        t.append_u64("threshold", u64::from(self.threshold));
        t.append_points::<C>("coefficients", coefficients);
        t
    }

    /// `H(session, parties, t, V_1, …, V_n)`: what every party confirms in round 3.
    pub fn confirmation_hash(&self, commitments: &BTreeMap<PartyIndex, [u8; 32]>) -> [u8; 32] {
        let mut t = Transcript::new("conclave/dkg/v1/confirm");
        t.append_bytes("session", &self.session.0);
        let idx: Vec<u8> = self.parties_u16.iter().flat_map(|p| p.to_be_bytes()).collect();
        t.append_bytes("parties", &idx);
        t.append_u64("threshold", u64::from(self.threshold));
        for (p, v) in commitments {
            t.append_u64("party", u64::from(p.0));
            t.append_bytes("commitment", v);
        }
        t.digest("confirmation")
    }

    #[cfg(feature = "adversary")]
    pub fn misbehaves(&self, m: Misbehaviour) -> bool {
        self.misbehaviour == Some(m)
    }
}

/// The DKG's states, one per round.
#[derive(Debug)]
pub enum Dkg<C: Curve> {
    /// Waiting for every commitment.
    Round1(round1::State<C>),
    /// Waiting for every reveal and share.
    Round2(round2::State<C>),
    /// Waiting for every verdict.
    Round3(round3::State<C>),
}

impl<C: Curve> Protocol for Dkg<C> {
    type Output = KeyShare<C>;
    const NAME: &'static str = PROTOCOL;

    fn round(&self) -> RoundInfo {
        match self {
            Dkg::Round1(_) => round1::INFO,
            Dkg::Round2(_) => round2::INFO,
            Dkg::Round3(_) => round3::INFO,
        }
    }

    fn proceed(self, rng: &mut dyn CryptoRngCore, input: RoundInput) -> Result<Step<Self>, ProtocolError> {
        match self {
            Dkg::Round1(s) => s.proceed(rng, input).map(|(s, out)| Step::Next(Dkg::Round2(s), out)),
            Dkg::Round2(s) => s.proceed(rng, input).map(|(s, out)| Step::Next(Dkg::Round3(s), out)),
            Dkg::Round3(s) => s.proceed(input).map(Step::Done),
        }
    }
}

/// Starts a DKG for a `threshold`-of-`n` key among `cfg.parties`.
pub fn start<C: Curve>(
    cfg: MachineConfig,
    threshold: u16,
    rng: &mut dyn CryptoRngCore,
) -> Result<Machine<Dkg<C>>, KeygenError> {
    start_inner(cfg, threshold, rng, None)
}

/// Starts a DKG in which this party misbehaves as told (tests only).
#[cfg(feature = "adversary")]
pub fn start_misbehaving<C: Curve>(
    cfg: MachineConfig,
    threshold: u16,
    rng: &mut dyn CryptoRngCore,
    misbehaviour: Misbehaviour,
) -> Result<Machine<Dkg<C>>, KeygenError> {
    start_inner(cfg, threshold, rng, Some(misbehaviour))
}

#[cfg_attr(not(feature = "adversary"), allow(unused_variables))]
fn start_inner<C: Curve>(
    cfg: MachineConfig,
    threshold: u16,
    rng: &mut dyn CryptoRngCore,
    misbehaviour: Option<MisbehaviourOpt>,
) -> Result<Machine<Dkg<C>>, KeygenError> {
    cfg.validate()?;
    let n = cfg.parties.len();
    if threshold == 0 || usize::from(threshold) > n {
        return Err(KeygenError::InvalidInput(format!("threshold {threshold} is not in 1..={n}")));
    }
    let ctx = Context {
        session: cfg.session,
        parties: cfg.parties.clone(),
        parties_u16: cfg.parties.to_u16s(),
        me: cfg.me,
        threshold,
        peers: cfg.peers.clone(),
        #[cfg(feature = "adversary")]
        misbehaviour,
    };
    let (state, outbox) = round1::start::<C>(ctx, rng)?;
    Ok(Machine::start(cfg, rng, Dkg::Round1(state), outbox)?)
}

#[cfg(feature = "adversary")]
type MisbehaviourOpt = Misbehaviour;
#[cfg(not(feature = "adversary"))]
type MisbehaviourOpt = core::convert::Infallible;
