//! CGGMP24 presigning: three rounds (plus identifiable-abort rounds when a joint check fails),
//! after which each signer holds a single-use
//! [`Presignature`] for one key, one signer set and one derivation path.
//!
//! | round | sends | delivery | checks |
//! |---|---|---|---|
//! | 1 | `K_i, G_i, Y_i, A_i, B_i`; Π^enc-elg ×2 to each `j` | reliable + direct | ciphertexts in `Z*_{N²}`, Π^enc-elg |
//! | 2 | `Γ_i`, Π^elog; MtA `D, F, D̂, F̂` + Π^aff-g ×2 to each `j` | plain (bound by `B_i`) + direct | Π^elog, Π^aff-g, ciphertexts |
//! | 3 | `δ_i, Δ_i, S_i`, Π^elog | reliable | Π^elog; `δ·G = ΣΔ_j`; `ΣS_j = δ·X` |
//! | 4 … 2+\|S\| | only if a joint check fails: republished round-2 direct messages, Π^dec (round 4); one Π^aff-g* per round | reliable | signatures of the republished messages; Π^dec; Π^aff-g* |
//!
//! The abort rounds (`round4`, spec steps 5.1–5.6) name every signer whose `δ_i` (or `χ_i`) or
//! MtA ciphertexts are inconsistent; they always end with an error.
//!
//! Shares are made additive over the signer set with Lagrange coefficients; a derivation
//! path's shift is added to the smallest signer's share (`docs/spec/ecdsa.md`).

mod msg;
mod record;
mod round1;
mod round2;
mod round3;
mod round4;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use msg::{
    AbortBroadcast, AbortCheck, Republished, Round1Broadcast, Round1Direct, Round2Broadcast, Round2Direct,
    Round3Broadcast,
};

use conclave_keygen::{KeyId, KeyShare};
use conclave_math::poly::{lagrange_at_zero, shamir_x};
use conclave_math::{ProofContext, SecretScalar, Transcript};
use conclave_protocol::{
    IdentityPublicKey, Machine, MachineConfig, PartyIndex, PartySet, Protocol, ProtocolError, RoundInfo, RoundInput,
    SessionId, Step,
};
use group::Group;
use rand_core::CryptoRngCore;
use zeroize::Zeroize;

use crate::error::SignError;
use crate::hd::{derive, DerivationPath, HdCurve};
use crate::signature::EcdsaCurve;
use conclave_keygen::AuxInfo;

/// Protocol name and version, bound into every envelope.
pub const PROTOCOL: &str = "conclave/presign/v1";

/// Curves threshold ECDSA runs on.
pub trait ThresholdCurve: EcdsaCurve + HdCurve {}
impl<C: EcdsaCurve + HdCurve> ThresholdCurve for C {}

/// Public parameters every round needs.
#[derive(Debug)]
pub(crate) struct Context<C: ThresholdCurve> {
    pub session: SessionId,
    pub signers: PartySet,
    pub signers_u16: Vec<u16>,
    pub me: PartyIndex,
    pub aux: Arc<AuxInfo>,
    /// Our additive share `λ_i·x_i` (plus the derivation shift if we are the first signer).
    pub x: SecretScalar<C>,
    /// Every signer's additive public share.
    pub big_x: BTreeMap<PartyIndex, C::Point>,
    /// The (derived) public key the signature will verify under.
    pub public_key: C::Point,
    pub path: DerivationPath,
    pub key_id: KeyId,
    /// For interactive signing: the signed data, bound into every proof.
    pub bound: Option<Vec<u8>>,
    /// The protocol name our envelopes carry (presigning, or interactive signing): the
    /// identifiable abort checks republished round-2 statements against it.
    pub envelope_protocol: &'static str,
    /// Every signer's identity public key (to authenticate republished messages).
    pub peers: BTreeMap<PartyIndex, IdentityPublicKey>,
}

impl<C: ThresholdCurve> Context<C> {
    /// The transcript of a proof made by `prover` in `round`: context, key id and path.
    pub fn transcript(&self, domain: &'static str, round: u16, prover: PartyIndex) -> Transcript {
        let mut t = Transcript::for_proof(
            domain,
            &ProofContext {
                protocol: "conclave/presign",
                version: 1,
                session: &self.session.0,
                round,
                prover: prover.0,
                parties: &self.signers_u16,
            },
        );
        t.append_bytes("key id", &self.key_id.0);
        let path: Vec<u8> = self.path.indices().iter().flat_map(|i| i.to_be_bytes()).collect();
        t.append_bytes("derivation path", &path);
        if let Some(bound) = &self.bound {
            t.append_bytes("signed data", bound);
        }
        t
    }

    pub fn others(&self) -> impl Iterator<Item = PartyIndex> + '_ {
        self.signers.others(self.me)
    }
}

/// A single-use presignature: not `Clone`, not serializable, consumed by signing, zeroized on
/// drop. It is bound to its key, signer set and derivation path.
///
/// Signing consumes it (this compiles):
///
/// ```no_run
/// use conclave_ecdsa::{presign::ThresholdCurve, sign, Presignature, SignedData};
/// fn once<C: ThresholdCurve>(
///     cfg: conclave_protocol::MachineConfig,
///     p: Presignature<C>,
///     data: &SignedData,
///     rng: &mut dyn rand_core::CryptoRngCore,
/// ) {
///     let _ = sign::start(cfg, p, data, rng);
/// }
/// ```
///
/// so it cannot be used twice:
///
/// ```compile_fail
/// use conclave_ecdsa::{presign::ThresholdCurve, sign, Presignature, SignedData};
/// fn twice<C: ThresholdCurve>(
///     a: conclave_protocol::MachineConfig,
///     b: conclave_protocol::MachineConfig,
///     p: Presignature<C>,
///     data: &SignedData,
///     rng: &mut dyn rand_core::CryptoRngCore,
/// ) {
///     let _ = sign::start(a, p, data, rng);
///     let _ = sign::start(b, p, data, rng);
/// }
/// ```
///
/// and it cannot be cloned:
///
/// ```compile_fail
/// use conclave_ecdsa::{presign::ThresholdCurve, Presignature};
/// fn copy<C: ThresholdCurve>(p: &Presignature<C>) -> Presignature<C> {
///     p.clone()
/// }
/// ```
pub struct Presignature<C: ThresholdCurve> {
    pub(crate) session: SessionId,
    pub(crate) key_id: KeyId,
    pub(crate) signers: PartySet,
    pub(crate) me: PartyIndex,
    pub(crate) path: DerivationPath,
    pub(crate) public_key: C::Point,
    /// `R = δ⁻¹·Γ`.
    pub(crate) big_r: C::Point,
    /// `Γ`, and every signer's `Δ_j = k_j·Γ` and `S_j = χ_j·Γ`, to check partial signatures.
    pub(crate) gamma: C::Point,
    pub(crate) big_deltas: BTreeMap<PartyIndex, C::Point>,
    pub(crate) big_s: BTreeMap<PartyIndex, C::Point>,
    pub(crate) k: SecretScalar<C>,
    pub(crate) chi: SecretScalar<C>,
}

impl<C: ThresholdCurve> Presignature<C> {
    /// The signers it was made for.
    pub fn signers(&self) -> &PartySet {
        &self.signers
    }

    /// The key it belongs to.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The derivation path it is bound to.
    pub fn path(&self) -> &DerivationPath {
        &self.path
    }

    /// The public key signatures made with it verify under.
    pub fn public_key(&self) -> C::Point {
        self.public_key
    }

    /// The session that produced it (its identifier in a presignature pool).
    pub fn session(&self) -> SessionId {
        self.session
    }
}

impl<C: ThresholdCurve> core::fmt::Debug for Presignature<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Presignature")
            .field("curve", &C::ID)
            .field("session", &self.session)
            .field("key_id", &self.key_id)
            .field("signers", &self.signers)
            .field("path", &self.path.to_string())
            .field("secrets", &"REDACTED")
            .finish_non_exhaustive()
    }
}

/// Presigning, one state per round.
#[derive(Debug)]
pub enum Presign<C: ThresholdCurve> {
    /// Waiting for round-1 messages.
    Round1(round1::State<C>),
    /// Waiting for round-2 messages.
    Round2(round2::State<C>),
    /// Waiting for round-3 messages.
    Round3(round3::State<C>),
    /// Identifiable abort (only entered when a joint check of round 3 fails): waiting for
    /// round `4 + r` of the abort proofs (rounds 4 … `2 + |S|`).
    Abort(Box<round4::State<C>>),
}

impl<C: ThresholdCurve> Protocol for Presign<C> {
    type Output = Presignature<C>;
    const NAME: &'static str = PROTOCOL;

    fn round(&self) -> RoundInfo {
        match self {
            Presign::Round1(_) => round1::INFO,
            Presign::Round2(_) => round2::INFO,
            Presign::Round3(_) => round3::INFO,
            Presign::Abort(s) => s.info(),
        }
    }

    fn proceed(self, rng: &mut dyn CryptoRngCore, input: RoundInput) -> Result<Step<Self>, ProtocolError> {
        match self {
            Presign::Round1(s) => s.proceed(rng, input).map(|(s, out)| Step::Next(Presign::Round2(s), out)),
            Presign::Round2(s) => s.proceed(rng, input).map(|(s, out)| Step::Next(Presign::Round3(s), out)),
            Presign::Round3(s) => s.proceed(rng, input).map(|next| match next {
                round3::Next::Done(p) => Step::Done(p),
                round3::Next::Abort(s, out) => Step::Next(Presign::Abort(s), out),
            }),
            Presign::Abort(s) => s.proceed(input).map(|(s, out)| Step::Next(Presign::Abort(Box::new(s)), out)),
        }
    }
}

/// Prepares the context: checks the inputs, makes shares additive over the signer set and
/// applies the derivation path.
pub(crate) fn context<C: ThresholdCurve>(
    cfg: &MachineConfig,
    key: &KeyShare<C>,
    aux: Arc<AuxInfo>,
    path: &DerivationPath,
    bound: Option<&crate::message::SignedData>,
) -> Result<Context<C>, SignError> {
    cfg.validate()?;
    let public = key.public();
    let signers = cfg.parties.clone();
    if cfg.me != key.me() || cfg.me != aux.me() {
        return Err(SignError::InvalidInput("key share, aux info and session disagree on our index".into()));
    }
    if signers.len() < usize::from(public.threshold) {
        return Err(SignError::InvalidInput(format!(
            "{} signers cannot sign with a {}-of-{} key",
            signers.len(),
            public.threshold,
            public.parties.len()
        )));
    }
    for p in signers.iter() {
        if !public.parties.contains(p) {
            return Err(SignError::InvalidInput(format!("{p} holds no share of this key")));
        }
        if aux.party(p).is_none() {
            return Err(SignError::InvalidInput(format!("no auxiliary data for {p}")));
        }
    }
    let derived = derive::<C>(&public.public_key, &public.chain_code, path)
        .map_err(|e| SignError::InvalidInput(e.to_string()))?;
    // Lagrange coefficients over the signer set turn Shamir shares into additive ones.
    let xs: Vec<C::Scalar> = signers.iter().map(|p| shamir_x::<C>(p.0)).collect();
    let first = signers.iter().next().ok_or(SignError::Bug("empty signer set"))?;
    let mut big_x = BTreeMap::new();
    let mut x = None;
    for (pos, p) in signers.iter().enumerate() {
        let lambda = lagrange_at_zero::<C>(&xs, pos).map_err(|_| SignError::Bug("signer x-coordinates"))?;
        let share = public.public_shares.get(&p).ok_or(SignError::Bug("missing public share"))?;
        let mut xp = *share * lambda;
        if p == first {
            xp += C::mul_base(&derived.shift);
        }
        big_x.insert(p, xp);
        if p == cfg.me {
            let mut mine = *key.expose_secret_share().expose_secret() * lambda;
            if p == first {
                mine += derived.shift;
            }
            x = Some(SecretScalar::<C>::new(mine));
            mine.zeroize();
        }
    }
    let x = x.ok_or(SignError::Bug("we are not a signer"))?;
    let sum = big_x.values().fold(C::Point::identity(), |acc, p| acc + p);
    if sum != derived.public_key || big_x.get(&cfg.me) != Some(&x.public_point()) {
        return Err(SignError::Bug("additive shares do not add up to the public key"));
    }
    let peers = cfg.peers.iter().filter(|(p, _)| signers.contains(**p)).map(|(p, k)| (*p, *k)).collect();
    Ok(Context {
        session: cfg.session,
        signers_u16: signers.to_u16s(),
        signers,
        me: cfg.me,
        aux,
        x,
        big_x,
        public_key: derived.public_key,
        path: path.clone(),
        key_id: key.key_id(),
        bound: bound.map(|b| b.binding_bytes()),
        envelope_protocol: if bound.is_some() { crate::sign::INTERACTIVE_PROTOCOL } else { PROTOCOL },
        peers,
    })
}

/// Checks the inputs and computes the first round (shared with interactive signing).
pub(crate) fn first_round<C: ThresholdCurve>(
    cfg: &MachineConfig,
    key: &KeyShare<C>,
    aux: Arc<AuxInfo>,
    path: &DerivationPath,
    bound: Option<&crate::message::SignedData>,
    rng: &mut dyn CryptoRngCore,
) -> Result<(Presign<C>, conclave_protocol::Outbox), SignError> {
    let ctx = context(cfg, key, aux, path, bound)?;
    let (state, outbox) = round1::start(ctx, rng)?;
    Ok((Presign::Round1(state), outbox))
}

/// Starts presigning among `cfg.parties` (the signer set) for `key` along `path`.
pub fn start<C: ThresholdCurve>(
    cfg: MachineConfig,
    key: &KeyShare<C>,
    aux: Arc<AuxInfo>,
    path: &DerivationPath,
    rng: &mut dyn CryptoRngCore,
) -> Result<Machine<Presign<C>>, SignError> {
    let (state, outbox) = first_round(&cfg, key, aux, path, None, rng)?;
    Ok(Machine::start(cfg, rng, state, outbox)?)
}
