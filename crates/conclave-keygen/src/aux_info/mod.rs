//! The aux-info protocol (CGGMP24 §"auxiliary information", LFDT spec "Provisioning"): every
//! party publishes its Paillier modulus `N_i` and ring-Pedersen parameters `(N_i, s_i, t_i)`
//! (`N̂_i = N_i`, as CGGMP does), and proves them sound: Π^prm for `(s_i, t_i)`, Π^mod for `N_i`
//! and, towards every other party, Π^fac for `N_i` (SECURITY.md items 1–4).
//!
//! | round | sends | delivery | checks |
//! |---|---|---|---|
//! | 1 | `V_i = H(ctx, N_i, s_i, t_i, ψ̂_i, ρ_i, u_i)` | reliable (echo) | echo agreement |
//! | 2 | `N_i, s_i, t_i, ψ̂_i (Π^prm), ρ_i, u_i` | plain (bound by `V_i`) | opens `V_i`, `N_i` ≥ 3071 bits, parameters valid, Π^prm |
//! | 3 | `ψ_i` (Π^mod, bound to `ρ = ⊕ρ_j`) + `φ_{i,j}` (Π^fac under `P_j`'s parameters) to each `j` | plain + direct | Π^mod, Π^fac |
//!
//! The Paillier key comes in ready-made (from the node's safe-prime pool): prime generation is
//! slow and never runs inside a round.

mod msg;

use std::collections::BTreeMap;

use conclave_math::codec::{Decode, Encode};
use conclave_math::{ProofContext, Transcript};
use conclave_paillier::{generate_ring_pedersen, DecryptionKey, EncryptionKey, RingPedersenParams, RingPedersenSecret};
use conclave_protocol::{
    Culprit, Delivery, Fault, Machine, MachineConfig, Outbox, PartyIndex, PartySet, Protocol, ProtocolError, Received,
    RoundId, RoundInfo, RoundInput, SessionId, Step,
};
use conclave_zk::fac::{self, FacProof, FacWitness};
use conclave_zk::pi_mod::{self, ModProof, ModWitness};
use conclave_zk::prm::{self, PrmProof, PrmWitness};
use rand_core::CryptoRngCore;

pub use msg::{AuxCommit, AuxFac, AuxMod, AuxReveal};

use crate::aux::{AuxInfo, PartyAux};
use crate::error::KeygenError;

/// Protocol name and version.
pub const PROTOCOL: &str = "conclave/aux-info/v1";

const R1: RoundInfo = RoundInfo { id: RoundId(1), broadcast: Some(Delivery::Reliable), direct: false };
const R2: RoundInfo = RoundInfo { id: RoundId(2), broadcast: Some(Delivery::Plain), direct: false };
const R3: RoundInfo = RoundInfo { id: RoundId(3), broadcast: Some(Delivery::Plain), direct: true };

#[derive(Debug)]
struct Context {
    session: SessionId,
    parties: PartySet,
    parties_u16: Vec<u16>,
    me: PartyIndex,
}

impl Context {
    fn transcript(&self, domain: &'static str, round: u16, prover: PartyIndex) -> Transcript {
        Transcript::for_proof(
            domain,
            &ProofContext {
                protocol: "conclave/aux-info",
                version: 1,
                session: &self.session.0,
                round,
                prover: prover.0,
                parties: &self.parties_u16,
            },
        )
    }

    /// `V_i`.
    fn commitment(&self, prover: PartyIndex, reveal: &AuxReveal) -> [u8; 32] {
        let mut t = self.transcript("conclave/aux-info/v1/commit", 1, prover);
        t.append_bytes("reveal", &reveal.to_bytes());
        t.digest("commitment")
    }
}

/// The aux-info protocol's states.
#[derive(Debug)]
pub enum AuxInfoProtocol {
    /// Waiting for every commitment.
    Round1(Box<Round1>),
    /// Waiting for every reveal.
    Round2(Box<Round2>),
    /// Waiting for every Π^mod and Π^fac.
    Round3(Box<Round3>),
}

/// After round 1.
#[derive(Debug)]
pub struct Round1 {
    ctx: Context,
    dk: DecryptionKey,
    reveal: AuxReveal,
}

/// After round 2.
#[derive(Debug)]
pub struct Round2 {
    ctx: Context,
    dk: DecryptionKey,
    reveal: AuxReveal,
    commitments: BTreeMap<PartyIndex, [u8; 32]>,
}

/// After round 3.
#[derive(Debug)]
pub struct Round3 {
    ctx: Context,
    dk: DecryptionKey,
    parties: BTreeMap<PartyIndex, PartyAux>,
    rho: [u8; 32],
}

fn bug<E>(_: E) -> ProtocolError {
    ProtocolError::Bug("aux-info computation on our own values failed")
}

impl Protocol for AuxInfoProtocol {
    type Output = AuxInfo;
    const NAME: &'static str = PROTOCOL;

    fn round(&self) -> RoundInfo {
        match self {
            AuxInfoProtocol::Round1(_) => R1,
            AuxInfoProtocol::Round2(_) => R2,
            AuxInfoProtocol::Round3(_) => R3,
        }
    }

    fn proceed(self, rng: &mut dyn CryptoRngCore, input: RoundInput) -> Result<Step<Self>, ProtocolError> {
        match self {
            AuxInfoProtocol::Round1(s) => s.proceed(input),
            AuxInfoProtocol::Round2(s) => s.proceed(input, rng),
            AuxInfoProtocol::Round3(s) => s.proceed(input).map(Step::Done),
        }
    }
}

/// Starts the aux-info protocol with our Paillier key `dk` (from the safe-prime pool).
pub fn start(
    cfg: MachineConfig,
    dk: DecryptionKey,
    rng: &mut dyn CryptoRngCore,
) -> Result<Machine<AuxInfoProtocol>, KeygenError> {
    cfg.validate()?;
    let ctx =
        Context { session: cfg.session, parties_u16: cfg.parties.to_u16s(), parties: cfg.parties.clone(), me: cfg.me };
    // 1.1 Ring-Pedersen parameters over our own modulus: t = r², s = t^λ; Π^prm.
    let (rp, secret): (RingPedersenParams, RingPedersenSecret) =
        generate_ring_pedersen(rng, &dk).map_err(|e| KeygenError::InvalidInput(format!("Paillier key: {e}")))?;
    let prm = PrmProof::prove(&ctx.transcript(prm::DOMAIN, 1, ctx.me), &rp, &PrmWitness::with_key(&secret, &dk), rng)
        .map_err(|_| KeygenError::Bug("Π^prm on our own parameters"))?;
    drop(secret);
    // 1.2 ρ_i, u_i; V_i.
    let mut rho = [0u8; 32];
    rng.fill_bytes(&mut rho);
    let mut u = [0u8; 32];
    rng.fill_bytes(&mut u);
    let reveal = AuxReveal { n: rp.modulus().clone(), s: rp.s().clone(), t: rp.t().clone(), prm, rho, u };
    let commitment = ctx.commitment(ctx.me, &reveal);
    let outbox = Outbox { broadcast: Some(AuxCommit { hash: commitment }.to_bytes()), direct: vec![] };
    let state = AuxInfoProtocol::Round1(Box::new(Round1 { ctx, dk, reveal }));
    Ok(Machine::start(cfg, rng, state, outbox)?)
}

impl Round1 {
    /// 2.1 Record every (echo-agreed) V_j; reveal.
    fn proceed(self, input: RoundInput) -> Result<Step<AuxInfoProtocol>, ProtocolError> {
        let mut culprits = Vec::new();
        let mut commitments = BTreeMap::from([(self.ctx.me, self.ctx.commitment(self.ctx.me, &self.reveal))]);
        for (j, msg) in input.broadcasts {
            match AuxCommit::from_bytes(&msg.payload) {
                Ok(c) => {
                    commitments.insert(j, c.hash);
                }
                Err(_) => culprits.push(Culprit::with_message(j, R1.id, Fault::Malformed, msg.statement)),
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        let outbox = Outbox { broadcast: Some(self.reveal.to_bytes()), direct: vec![] };
        let next = Round2 { ctx: self.ctx, dk: self.dk, reveal: self.reveal, commitments };
        Ok(Step::Next(AuxInfoProtocol::Round2(Box::new(next)), outbox))
    }
}

/// Steps 3.1–3.3 for one party's reveal.
fn check_reveal(
    ctx: &Context,
    j: PartyIndex,
    commitment: &[u8; 32],
    msg: &Received,
) -> Result<(PartyAux, [u8; 32]), Culprit> {
    let blame = |f| Culprit::with_message(j, R2.id, f, msg.statement.clone());
    let reveal = AuxReveal::from_bytes(&msg.payload).map_err(|_| blame(Fault::Malformed))?;
    // 3.1 The reveal opens V_j.
    if ctx.commitment(j, &reveal) != *commitment {
        return Err(blame(Fault::CommitmentMismatch));
    }
    // 3.2 N_j of at least 3071 bits; (N̂_j = N_j, s_j, t_j) well formed.
    let ek = EncryptionKey::from_modulus(reveal.n.clone()).map_err(|_| blame(Fault::InvalidValue))?;
    let rp = RingPedersenParams::new(reveal.n, reveal.s, reveal.t).map_err(|_| blame(Fault::InvalidValue))?;
    // 3.3 Π^prm.
    reveal.prm.verify(&ctx.transcript(prm::DOMAIN, 1, j), &rp).map_err(|_| blame(Fault::InvalidProof))?;
    Ok((PartyAux { ek, rp }, reveal.rho))
}

impl Round2 {
    /// Steps 3.1–3.5: check reveals; ρ = ⊕ρ_j; Π^mod and Π^fac.
    fn proceed(self, input: RoundInput, rng: &mut dyn CryptoRngCore) -> Result<Step<AuxInfoProtocol>, ProtocolError> {
        let ctx = self.ctx;
        let mut culprits = Vec::new();
        let own = PartyAux {
            ek: self.dk.encryption_key().clone(),
            rp: RingPedersenParams::new(self.reveal.n.clone(), self.reveal.s.clone(), self.reveal.t.clone())
                .map_err(bug)?,
        };
        let mut parties = BTreeMap::from([(ctx.me, own)]);
        let mut rho = self.reveal.rho;
        for j in ctx.parties.others(ctx.me) {
            let (Some(msg), Some(v)) = (input.broadcasts.get(&j), self.commitments.get(&j)) else {
                return Err(ProtocolError::Bug("aux-info round 2 input incomplete"));
            };
            match check_reveal(&ctx, j, v, msg) {
                Ok((aux, rho_j)) => {
                    parties.insert(j, aux);
                    for (r, x) in rho.iter_mut().zip(rho_j) {
                        *r ^= x;
                    }
                }
                Err(c) => culprits.push(c),
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        // 3.4 Π^mod for N_i, bound to ρ.
        let n = self.dk.encryption_key().modulus().clone();
        let mut t = ctx.transcript(pi_mod::DOMAIN, 3, ctx.me);
        t.append_bytes("rho", &rho);
        let psi = ModProof::prove(&t, &n, &ModWitness::from_key(&self.dk), rng).map_err(bug)?;
        // 3.5 Π^fac for N_i under each other party's ring-Pedersen parameters.
        let mut direct = Vec::new();
        for j in ctx.parties.others(ctx.me) {
            let rp_j = &parties.get(&j).ok_or(ProtocolError::Bug("aux entry"))?.rp;
            let mut t = ctx.transcript(fac::DOMAIN, 3, ctx.me);
            t.append_bytes("rho", &rho);
            let phi = FacProof::prove(&t, &n, rp_j, &FacWitness::from_key(&self.dk), rng).map_err(bug)?;
            direct.push((j, AuxFac { phi }.to_bytes()));
        }
        let outbox = Outbox { broadcast: Some(AuxMod { psi }.to_bytes()), direct };
        let next = Round3 { ctx, dk: self.dk, parties, rho };
        Ok(Step::Next(AuxInfoProtocol::Round3(Box::new(next)), outbox))
    }
}

impl Round3 {
    /// Steps 4.1–4.2: verify every Π^mod and the Π^fac addressed to us.
    fn proceed(self, input: RoundInput) -> Result<AuxInfo, ProtocolError> {
        let ctx = &self.ctx;
        let own_rp = &self.parties.get(&ctx.me).ok_or(ProtocolError::Bug("own aux"))?.rp;
        let mut culprits = Vec::new();
        for j in ctx.parties.others(ctx.me) {
            let (Some(b), Some(d), Some(aux)) = (input.broadcasts.get(&j), input.directs.get(&j), self.parties.get(&j))
            else {
                return Err(ProtocolError::Bug("aux-info round 3 input incomplete"));
            };
            let n_j = aux.ek.modulus();
            let mut t = ctx.transcript(pi_mod::DOMAIN, 3, j);
            t.append_bytes("rho", &self.rho);
            match AuxMod::from_bytes(&b.payload) {
                Err(_) => culprits.push(Culprit::with_message(j, R3.id, Fault::Malformed, b.statement.clone())),
                Ok(m) if m.psi.verify(&t, n_j).is_err() => {
                    culprits.push(Culprit::with_message(j, R3.id, Fault::InvalidProof, b.statement.clone()))
                }
                Ok(_) => {}
            }
            let mut t = ctx.transcript(fac::DOMAIN, 3, j);
            t.append_bytes("rho", &self.rho);
            match AuxFac::from_bytes(&d.payload) {
                Err(_) => culprits.push(Culprit::with_message(j, R3.id, Fault::Malformed, d.statement.clone())),
                // Our own key (N̂ = our N) checks the equations by CRT.
                Ok(f) if f.phi.verify_with_key(&t, n_j, own_rp, Some(&self.dk)).is_err() => {
                    culprits.push(Culprit::with_message(j, R3.id, Fault::InvalidProof, d.statement.clone()))
                }
                Ok(_) => {}
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        AuxInfo::new(ctx.me, self.dk, self.parties).map_err(bug)
    }
}
