//! Key refresh and resharing: the holders of a key hand it to a new group (new parties, new
//! threshold) without changing the public key. Generic over the curve, so it serves ECDSA
//! (secp256k1, P-256), BIP-340 and Ed25519 keys alike.
//!
//! The protocol, with the steps numbered as in `docs/spec/reshare.md`:
//!
//! | round | sends | delivery | checks |
//! |---|---|---|---|
//! | 1 | old signer `i`: `Commitment { A_i }` + `Share { f_i(x_j) }` to each new `j`; everyone else: empty | reliable (echo) + direct | exactly `t′` coefficients, no identity, `A_{i,0} = λ_i·X_i`, Feldman share check |
//! | 2 | `Verdict::Confirm { H(…, A_i …, X′_k …) }` or `Verdict::Complaint { evidence }` | reliable (echo) | every complaint re-checked by everyone; every confirmation the same |
//!
//! Party indices are stable node identities: the old key's parties and the new group are
//! subsets of one index space, and a party's Shamir x-coordinate is `index + 1` in both. The
//! session's party set is `O ∪ N′`: the old signers `O` (any ≥ t holders of the old key) and
//! the new parties `N′`. A party may stay (in both), leave (only in `O`) or join (only in
//! `N′`). A refresh is a reshare to the same parties and threshold.
//!
//! The old [`KeyShare`] is only borrowed: the protocol never changes it, and until the output
//! (every party confirmed the same new sharing) the old group can still sign. The output
//! carries a [`HandoverReceipt`] with every other party's signed confirmation: the
//! transferable evidence that the hand-over committed, after which old shares may be retired.

mod msg;
mod round1;
mod round2;

pub use msg::{Accusation, Commitment, Share, Verdict, EMPTY};

use std::collections::BTreeMap;

use conclave_math::codec::Encode;
use conclave_math::poly::{interpolate_points_at_zero, lagrange_at_zero, shamir_x};
use conclave_math::{Curve, Transcript};
use conclave_protocol::envelope::payload_digest;
use conclave_protocol::{
    IdentityPublicKey, Machine, MachineConfig, MessageKind, PartyIndex, PartySet, Protocol, ProtocolError, RoundInfo,
    RoundInput, SessionId, SignedStatement, Step,
};
use rand_core::CryptoRngCore;

use crate::error::KeygenError;
use crate::key_share::{KeyId, KeyShare, PublicKeyShare};

/// Protocol name and version, bound into every envelope.
pub const PROTOCOL: &str = "conclave/reshare/v1";

/// Deviations a test can make a party commit, following the protocol otherwise
/// (feature `adversary`, never in production builds).
#[cfg(feature = "adversary")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// An old signer shares with `t′ + 1` coefficients (threshold raising), consistently.
    ExtraCoefficient,
    /// An old signer shares `λ_i·x_i + 1` instead of `λ_i·x_i`, consistently (its commitments
    /// do not interpolate to the old public key).
    WrongSecret,
    /// Accuse an honest old signer of sending a bad sub-share, quoting its real (valid) one.
    FalseComplaintAgainst(PartyIndex),
}

/// What every party of a reshare session must be given identically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReshareParams {
    /// `O`: the holders of the old key that deal (at least the old threshold of them).
    pub old_signers: PartySet,
    /// `N′`: the parties of the new group.
    pub new_parties: PartySet,
    /// `t′`: the new threshold, `1 ≤ t′ ≤ |N′|`.
    pub new_threshold: u16,
}

impl ReshareParams {
    /// A refresh of `key`: the same parties and threshold, every holder dealing.
    pub fn refresh<C: Curve>(key: &PublicKeyShare<C>) -> Self {
        Self { old_signers: key.parties.clone(), new_parties: key.parties.clone(), new_threshold: key.threshold }
    }

    /// `O ∪ N′`, the session's party set (fails only if the union has too many parties).
    pub fn session_parties(&self) -> Result<PartySet, KeygenError> {
        let mut all: Vec<PartyIndex> = self.old_signers.iter().chain(self.new_parties.iter()).collect();
        all.sort();
        all.dedup();
        PartySet::new(all).map_err(|e| KeygenError::InvalidInput(e.to_string()))
    }
}

/// What this party brings to the session.
#[derive(Debug, Clone, Copy)]
pub enum ReshareInput<'a, C: Curve> {
    /// Our share of the old key. Required for an old signer; a holder outside `O` that stays
    /// in the new group may give it too (only its public part is used then).
    Holder(&'a KeyShare<C>),
    /// A joining party holds no share: the old key's public data (public key, every old
    /// public share, old threshold, chain code), which must be the same for every party.
    Public(&'a PublicKeyShare<C>),
}

impl<C: Curve> ReshareInput<'_, C> {
    fn public(&self) -> &PublicKeyShare<C> {
        match self {
            ReshareInput::Holder(k) => k.public(),
            ReshareInput::Public(p) => p,
        }
    }
}

/// The transferable evidence that a hand-over committed: every other party of the session
/// signed a confirmation of the same new sharing. Old shares may be retired once a party holds
/// a receipt (any party's receipt convinces anyone with the parties' identity keys: see
/// [`HandoverReceipt::verify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverReceipt<C: Curve> {
    /// The session.
    pub session: SessionId,
    /// The old key's id.
    pub old_key_id: KeyId,
    /// `O`.
    pub old_signers: PartySet,
    /// The new group's public data (same public key and chain code, new threshold, parties,
    /// public shares and key id).
    pub new_public: PublicKeyShare<C>,
    /// Every old signer's commitment `A_i`.
    pub commitments: BTreeMap<PartyIndex, Vec<C::Point>>,
    /// The confirmation digest every party signed.
    pub confirmation: [u8; 32],
    /// The holder of this receipt (its own confirmation is implicit).
    pub holder: PartyIndex,
    /// Every other party's signed round-2 statement, whose payload is `Confirm(confirmation)`.
    pub confirmations: BTreeMap<PartyIndex, SignedStatement>,
}

impl<C: Curve> HandoverReceipt<C> {
    /// Checks the receipt with the identity keys of the session's parties: the confirmation
    /// digest is recomputed from the receipt's public data, and every party but the holder
    /// signed `Confirm` of it in this session.
    pub fn verify(&self, peers: &BTreeMap<PartyIndex, IdentityPublicKey>) -> bool {
        let params = ReshareParams {
            old_signers: self.old_signers.clone(),
            new_parties: self.new_public.parties.clone(),
            new_threshold: self.new_public.threshold,
        };
        let expected =
            confirmation_hash::<C>(&self.session, &self.old_key_id, &params, &self.commitments, &self.new_public);
        if expected != self.confirmation
            || self.commitments.keys().copied().ne(self.old_signers.iter())
            || self.new_public.key_id != new_key_id(&self.new_public)
        {
            return false;
        }
        let digest = payload_digest(&Verdict::Confirm { hash: self.confirmation }.to_bytes());
        let Ok(parties) = params.session_parties() else { return false };
        parties.contains(self.holder)
            && parties.others(self.holder).all(|p| {
                let (Some(st), Some(key)) = (self.confirmations.get(&p), peers.get(&p)) else { return false };
                st.protocol == PROTOCOL
                    && st.session == self.session
                    && st.round == round2::INFO.id
                    && st.kind == MessageKind::Broadcast
                    && st.sender == p
                    && st.recipient.is_none()
                    && st.digest == digest
                    && st.verify(key)
            })
            && self.confirmations.keys().all(|p| parties.contains(*p) && *p != self.holder)
    }
}

/// A hand-over we confirmed but have not seen complete: the new sharing we confirmed and, if we
/// are in the new group, our new share. Kept (sealed, in the node's store) from the moment our
/// confirmation leaves until a receipt for the session arrives, so that a party from which
/// the last messages were withheld can still finish the hand-over the others committed
/// (spec step 3.6). Not `Clone`; `Debug` shows public data only.
#[derive(Debug)]
pub struct PendingHandover<C: Curve> {
    /// The session.
    pub session: SessionId,
    /// The old key's id.
    pub old_key_id: KeyId,
    /// `O`.
    pub old_signers: PartySet,
    /// The confirmation digest we signed.
    pub confirmation: [u8; 32],
    /// The new group's public data we confirmed.
    pub new_public: PublicKeyShare<C>,
    /// Our new share, if we are in the new group.
    pub share: Option<KeyShare<C>>,
}

impl<C: Curve> PendingHandover<C> {
    /// The session's parties, `O ∪ N′`: who may hold a receipt.
    pub fn session_parties(&self) -> PartySet {
        let mut all: Vec<PartyIndex> = self.old_signers.iter().chain(self.new_public.parties.iter()).collect();
        all.sort_unstable();
        all.dedup();
        // Both sets are non-empty, so their union is a valid party set.
        PartySet::new(all).unwrap_or_else(|_| self.new_public.parties.clone())
    }

    /// Finishes the hand-over with `receipt` (held by any party of the session): the receipt
    /// must verify under the parties' identity keys and be for exactly the sharing we
    /// confirmed. Gives what the session would have given us; on a mismatch, gives the pending
    /// hand-over back untouched.
    pub fn complete(
        self,
        receipt: HandoverReceipt<C>,
        peers: &BTreeMap<PartyIndex, IdentityPublicKey>,
    ) -> Result<ReshareOutput<C>, Box<Self>> {
        let matches = receipt.session == self.session
            && receipt.old_key_id == self.old_key_id
            && receipt.old_signers == self.old_signers
            && receipt.confirmation == self.confirmation
            && receipt.new_public == self.new_public
            && receipt.verify(peers);
        if !matches {
            return Err(Box::new(self));
        }
        Ok(match self.share {
            Some(share) => ReshareOutput::Share(share, receipt),
            None => ReshareOutput::Retired(receipt),
        })
    }
}

/// What a successful reshare gives a party.
#[derive(Debug)]
pub enum ReshareOutput<C: Curve> {
    /// We are in the new group: our new share, and the receipt (if we also held an old share,
    /// it may now be retired).
    Share(KeyShare<C>, HandoverReceipt<C>),
    /// We left the group: the receipt; our old share may be retired.
    Retired(HandoverReceipt<C>),
}

impl<C: Curve> ReshareOutput<C> {
    /// The receipt.
    pub fn receipt(&self) -> &HandoverReceipt<C> {
        match self {
            ReshareOutput::Share(_, r) | ReshareOutput::Retired(r) => r,
        }
    }

    /// The new key share, if we are in the new group.
    pub fn into_key_share(self) -> Option<KeyShare<C>> {
        match self {
            ReshareOutput::Share(k, _) => Some(k),
            ReshareOutput::Retired(_) => None,
        }
    }
}

/// The public parameters every round needs.
#[derive(Debug, Clone)]
pub(crate) struct Context<C: Curve> {
    pub session: SessionId,
    /// `O ∪ N′`.
    pub parties: PartySet,
    pub me: PartyIndex,
    pub params: ReshareParams,
    /// The old key's public data (checked consistent at start).
    pub old: PublicKeyShare<C>,
    /// `λ_i·X_i` for every old signer `i`: the constant term its commitment must have.
    pub expected_constants: BTreeMap<PartyIndex, C::Point>,
    pub peers: BTreeMap<PartyIndex, IdentityPublicKey>,
    #[cfg(feature = "adversary")]
    pub misbehaviour: Option<Misbehaviour>,
}

impl<C: Curve> Context<C> {
    pub fn is_old_signer(&self, p: PartyIndex) -> bool {
        self.params.old_signers.contains(p)
    }

    pub fn is_new(&self, p: PartyIndex) -> bool {
        self.params.new_parties.contains(p)
    }

    #[cfg(feature = "adversary")]
    pub fn misbehaves(&self, m: Misbehaviour) -> bool {
        self.misbehaviour == Some(m)
    }
}

/// `H("conclave/reshare/v1/confirm", sid, old key id, O, N′, t′, A_i for i ∈ O, X′_k for
/// k ∈ N′, Y, chain code, new key id)`.
pub(crate) fn confirmation_hash<C: Curve>(
    session: &SessionId,
    old_key_id: &KeyId,
    params: &ReshareParams,
    commitments: &BTreeMap<PartyIndex, Vec<C::Point>>,
    new_public: &PublicKeyShare<C>,
) -> [u8; 32] {
    let mut t = Transcript::new("conclave/reshare/v1/confirm");
    t.append_u64("curve", u64::from(C::ID.tag()));
    t.append_bytes("session", &session.0);
    t.append_bytes("old key id", &old_key_id.0);
    t.append_bytes("old signers", &indices(&params.old_signers));
    t.append_bytes("new parties", &indices(&params.new_parties));
    t.append_u64("new threshold", u64::from(params.new_threshold));
    for (p, a) in commitments {
        t.append_u64("old signer", u64::from(p.0));
        t.append_points::<C>("commitment", a);
    }
    for (p, x) in &new_public.public_shares {
        t.append_u64("new party", u64::from(p.0));
        t.append_point::<C>("public share", x);
    }
    t.append_point::<C>("public key", &new_public.public_key);
    t.append_bytes("chain code", &new_public.chain_code);
    t.append_bytes("new key id", &new_public.key_id.0);
    t.digest("confirmation")
}

fn indices(parties: &PartySet) -> Vec<u8> {
    parties.iter().flat_map(|p| p.0.to_be_bytes()).collect()
}

fn new_key_id<C: Curve>(p: &PublicKeyShare<C>) -> KeyId {
    PublicKeyShare::<C>::compute_key_id(p.threshold, &p.parties, &p.public_shares, &p.public_key, &p.chain_code)
}

/// The reshare's states, one per round.
#[derive(Debug)]
pub enum Reshare<C: Curve> {
    /// Waiting for every commitment and sub-share.
    Round1(round1::State<C>),
    /// Waiting for every verdict.
    Round2(round2::State<C>),
}

impl<C: Curve> Protocol for Reshare<C> {
    type Output = ReshareOutput<C>;
    const NAME: &'static str = PROTOCOL;

    fn round(&self) -> RoundInfo {
        match self {
            Reshare::Round1(_) => round1::INFO,
            Reshare::Round2(_) => round2::INFO,
        }
    }

    fn proceed(self, _rng: &mut dyn CryptoRngCore, input: RoundInput) -> Result<Step<Self>, ProtocolError> {
        match self {
            Reshare::Round1(s) => s.proceed(input).map(|(s, out)| Step::Next(Reshare::Round2(s), out)),
            Reshare::Round2(s) => s.proceed(input).map(Step::Done),
        }
    }
}

impl<C: Curve> Reshare<C> {
    /// The hand-over we confirmed, once our confirmation is about to leave (round 2), else
    /// `None`. A node stores it before sending that confirmation.
    pub fn pending(&self) -> Option<PendingHandover<C>> {
        match self {
            Reshare::Round1(_) => None,
            Reshare::Round2(s) => s.pending(),
        }
    }
}

/// Starts party `cfg.me`'s part in a reshare with `params` (the same on every party).
///
/// `cfg.parties` must be `O ∪ N′`. An old signer gives [`ReshareInput::Holder`]; a party
/// outside `O` may give [`ReshareInput::Public`]. Fails with [`KeygenError::InvalidInput`] if
/// `t′` is out of range, `O` has fewer than `t` parties or a party that holds no old share,
/// an old signer has no share, or the old public data is inconsistent.
pub fn start<C: Curve>(
    cfg: MachineConfig,
    params: &ReshareParams,
    input: ReshareInput<'_, C>,
    rng: &mut dyn CryptoRngCore,
) -> Result<Machine<Reshare<C>>, KeygenError> {
    start_inner(cfg, params, input, rng, None)
}

/// Starts a reshare in which this party misbehaves as told (tests only).
#[cfg(feature = "adversary")]
pub fn start_misbehaving<C: Curve>(
    cfg: MachineConfig,
    params: &ReshareParams,
    input: ReshareInput<'_, C>,
    rng: &mut dyn CryptoRngCore,
    misbehaviour: Misbehaviour,
) -> Result<Machine<Reshare<C>>, KeygenError> {
    start_inner(cfg, params, input, rng, Some(misbehaviour))
}

#[cfg(feature = "adversary")]
type MisbehaviourOpt = Misbehaviour;
#[cfg(not(feature = "adversary"))]
type MisbehaviourOpt = core::convert::Infallible;

#[cfg_attr(not(feature = "adversary"), allow(unused_variables))]
fn start_inner<C: Curve>(
    cfg: MachineConfig,
    params: &ReshareParams,
    input: ReshareInput<'_, C>,
    rng: &mut dyn CryptoRngCore,
    misbehaviour: Option<MisbehaviourOpt>,
) -> Result<Machine<Reshare<C>>, KeygenError> {
    let invalid = |s: String| Err(KeygenError::InvalidInput(s));
    cfg.validate()?;
    // 0.1 The session's parties are exactly O ∪ N′.
    if cfg.parties != params.session_parties()? {
        return invalid("the session's parties must be the old signers and the new parties".into());
    }
    // 0.2 1 ≤ t′ ≤ n′.
    let n_new = params.new_parties.len();
    if params.new_threshold == 0 || usize::from(params.new_threshold) > n_new {
        return invalid(format!("new threshold {} is not in 1..={n_new}", params.new_threshold));
    }
    // 0.3 The old public data is consistent.
    let old = input.public();
    check_old_public(old)?;
    // 0.4 O ⊆ old parties, |O| ≥ t.
    if let Some(p) = params.old_signers.iter().find(|p| !old.parties.contains(*p)) {
        return invalid(format!("old signer {p} holds no share of the old key"));
    }
    if params.old_signers.len() < usize::from(old.threshold) {
        return invalid(format!("{} old signers, but the old key needs {}", params.old_signers.len(), old.threshold));
    }
    // 0.5 An old signer brings its share, which matches its public share.
    let holder = match input {
        ReshareInput::Holder(k) => {
            if k.me() != cfg.me {
                return invalid(format!("the key share belongs to {}, not {}", k.me(), cfg.me));
            }
            if old.public_shares.get(&cfg.me) != Some(&k.expose_secret_share().public_point()) {
                return invalid("our old share does not match our old public share".into());
            }
            Some(k)
        }
        ReshareInput::Public(_) => None,
    };
    let dealer = match (params.old_signers.contains(cfg.me), holder) {
        (true, Some(k)) => Some(k),
        (true, None) => return invalid(format!("old signer {} must give its key share", cfg.me)),
        (false, _) => None,
    };
    // 0.6 λ_i·X_i for every old signer.
    let xs: Vec<C::Scalar> = params.old_signers.iter().map(|p| shamir_x::<C>(p.0)).collect();
    let mut expected_constants = BTreeMap::new();
    let mut own_lambda = None;
    for (k, p) in params.old_signers.iter().enumerate() {
        let lambda = lagrange_at_zero::<C>(&xs, k).map_err(|_| KeygenError::Bug("Lagrange over O failed"))?;
        let x = old.public_shares.get(&p).ok_or(KeygenError::Bug("old signer without public share"))?;
        expected_constants.insert(p, *x * lambda);
        if p == cfg.me {
            own_lambda = Some(lambda);
        }
    }
    let ctx = Context {
        session: cfg.session,
        parties: cfg.parties.clone(),
        me: cfg.me,
        params: params.clone(),
        old: old.clone(),
        expected_constants,
        peers: cfg.peers.clone(),
        #[cfg(feature = "adversary")]
        misbehaviour,
    };
    let deal = match (dealer, own_lambda) {
        (Some(k), Some(lambda)) => Some((k.expose_secret_share(), lambda)),
        (None, _) => None,
        (Some(_), None) => return Err(KeygenError::Bug("old signer without Lagrange coefficient")),
    };
    let (state, outbox) = round1::start::<C>(ctx, deal, rng)?;
    Ok(Machine::start(cfg, rng, Reshare::Round1(state), outbox)?)
}

/// Step 0.3: the key id is the digest of the data, every party has a public share, and the
/// public shares lie on one polynomial of degree `< t` whose value at zero is `Y`.
fn check_old_public<C: Curve>(old: &PublicKeyShare<C>) -> Result<(), KeygenError> {
    let bad = |why: &str| Err(KeygenError::InvalidInput(format!("inconsistent old public data: {why}")));
    if old.key_id != new_key_id(old) {
        return bad("the key id is not the digest of the key's public data");
    }
    if old.public_shares.keys().copied().ne(old.parties.iter()) {
        return bad("public shares do not match the parties");
    }
    let t = usize::from(old.threshold);
    if t == 0 || t > old.parties.len() {
        return bad("threshold out of range");
    }
    // Interpolating the first t shares gives Y, and so does each further share with the first
    // t − 1 (the degree-(t−1) polynomials through them then agree at t points: they are one).
    let shares: Vec<(C::Scalar, C::Point)> = old.public_shares.iter().map(|(p, x)| (shamir_x::<C>(p.0), *x)).collect();
    let (base, rest) = shares.split_at(t.min(shares.len()));
    let (head, _) = base.split_at(t.saturating_sub(1));
    let mut sets: Vec<Vec<(C::Scalar, C::Point)>> = vec![base.to_vec()];
    sets.extend(rest.iter().map(|s| head.iter().copied().chain(core::iter::once(*s)).collect()));
    for set in sets {
        let (xs, ys): (Vec<C::Scalar>, Vec<C::Point>) = set.into_iter().unzip();
        match interpolate_points_at_zero::<C>(&xs, &ys) {
            Ok(y) if y == old.public_key => {}
            _ => return bad("the public shares do not interpolate to the public key with the threshold"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use conclave_math::poly::SecretPolynomial;
    use conclave_math::{Ed25519, Secp256k1};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;

    /// Public data of a `t`-of-`n` sharing with a correct key id.
    fn public<C: Curve>(t: u16, n: u16, bend: Option<u16>) -> PublicKeyShare<C> {
        let mut rng = ChaCha20Rng::seed_from_u64(u64::from(t) * 10 + u64::from(n));
        let f = SecretPolynomial::<C>::random(&mut rng, usize::from(t), None).unwrap();
        let parties = PartySet::range(n).unwrap();
        let mut public_shares: BTreeMap<PartyIndex, C::Point> =
            parties.iter().map(|p| (p, f.evaluate(&shamir_x::<C>(p.0)).public_point())).collect();
        if let Some(b) = bend {
            *public_shares.get_mut(&PartyIndex(b)).unwrap() += C::generator();
        }
        let mut p = PublicKeyShare {
            key_id: KeyId([0; 32]),
            threshold: t,
            parties,
            public_shares,
            public_key: f.constant().public_point(),
            chain_code: [5; 32],
        };
        p.key_id = new_key_id(&p);
        p
    }

    fn old_public_data_is_checked<C: Curve>() {
        for (t, n) in [(1, 1), (1, 3), (2, 3), (3, 5)] {
            assert!(check_old_public(&public::<C>(t, n, None)).is_ok(), "({t},{n})");
            // A public share off the polynomial, with a key id that matches the bad data.
            for b in 0..n {
                if n > t || t == 1 {
                    let r = check_old_public(&public::<C>(t, n, Some(b)));
                    assert!(matches!(r, Err(KeygenError::InvalidInput(_))), "({t},{n}) bent at {b}");
                }
            }
        }
        // A stale key id.
        let mut p = public::<C>(2, 3, None);
        p.chain_code[0] ^= 1;
        assert!(matches!(check_old_public(&p), Err(KeygenError::InvalidInput(_))));
    }

    #[test]
    fn old_public_data_is_checked_all_curves() {
        old_public_data_is_checked::<Secp256k1>();
        old_public_data_is_checked::<Ed25519>();
    }

    #[test]
    fn session_parties_is_the_union() {
        let params = ReshareParams {
            old_signers: PartySet::new([PartyIndex(0), PartyIndex(2)]).unwrap(),
            new_parties: PartySet::new([PartyIndex(2), PartyIndex(5)]).unwrap(),
            new_threshold: 1,
        };
        assert_eq!(params.session_parties().unwrap(), PartySet::new([0, 2, 5].map(PartyIndex)).unwrap());
    }
}
