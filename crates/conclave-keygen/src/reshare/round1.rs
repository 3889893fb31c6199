//! Round 1: old signers deal sub-shares of `λ_i·x_i` (spec steps 1.1–1.4); on receipt, every
//! party checks every commitment and its own sub-shares and confirms or accuses (steps
//! 2.1–2.5).

use std::collections::BTreeMap;

use conclave_math::codec::{Decode, Encode};
use conclave_math::poly::{shamir_x, SecretPolynomial};
use conclave_math::vss::{VssCommitment, VssError};
use conclave_math::{Curve, SecretScalar};
use conclave_protocol::{Culprit, Delivery, Fault, Outbox, PartyIndex, ProtocolError, RoundId, RoundInfo, RoundInput};
use group::Group;
use rand_core::CryptoRngCore;

use super::msg::{Accusation, Commitment, Share, Verdict, EMPTY};
use super::{confirmation_hash, new_key_id, round2, Context};
use crate::error::KeygenError;
use crate::key_share::PublicKeyShare;

/// Round 1 expects a reliable broadcast and a direct message from everyone (empty where the
/// sender has nothing to say: see [`EMPTY`]).
pub(crate) const INFO: RoundInfo = RoundInfo { id: RoundId(1), broadcast: Some(Delivery::Reliable), direct: true };

/// What party `i` keeps after round 1's messages went out.
#[derive(Debug)]
pub struct State<C: Curve> {
    ctx: Context<C>,
    /// `A_i`, if we are an old signer.
    own_commitment: Option<Vec<C::Point>>,
    /// `f_i(x_i)`, if we are an old signer staying in the new group.
    own_subshare: Option<SecretScalar<C>>,
}

/// Steps 1.1–1.4. `deal` is `(x_i, λ_i)` for an old signer, `None` for everyone else.
pub(crate) fn start<C: Curve>(
    ctx: Context<C>,
    deal: Option<(&SecretScalar<C>, C::Scalar)>,
    rng: &mut dyn CryptoRngCore,
) -> Result<(State<C>, Outbox), KeygenError> {
    let others: Vec<PartyIndex> = ctx.parties.others(ctx.me).collect();
    let Some((old_share, lambda)) = deal else {
        // 1.4 Nothing to deal: an empty broadcast and empty direct messages.
        let outbox = Outbox {
            broadcast: Some(EMPTY.to_vec()),
            direct: others.into_iter().map(|j| (j, EMPTY.to_vec())).collect(),
        };
        return Ok((State { ctx, own_commitment: None, own_subshare: None }, outbox));
    };
    // 1.1 w_i = λ_i·x_i, our additive share of the secret over O.
    #[allow(unused_mut)]
    let mut w = SecretScalar::<C>::new(*old_share.expose_secret() * lambda);
    #[cfg(feature = "adversary")]
    if ctx.misbehaves(super::Misbehaviour::WrongSecret) {
        w = SecretScalar::new(*w.expose_secret() + C::Scalar::from(1u64));
    }
    // 1.2 f_i with exactly t′ coefficients and f_i(0) = w_i.
    #[allow(unused_mut)]
    let mut polynomial = SecretPolynomial::<C>::random(rng, usize::from(ctx.params.new_threshold), Some(&w))
        .map_err(|_| KeygenError::InvalidInput("the new threshold must be at least 1".into()))?;
    #[cfg(feature = "adversary")]
    if ctx.misbehaves(super::Misbehaviour::ExtraCoefficient) {
        polynomial.push_coefficient_for_testing(C::random_nonzero_scalar(rng));
    }
    // 1.3 A_i = (a_{i,k}·G)_k.
    let coefficients = polynomial.commit().points().to_vec();
    // 1.4 Broadcast A_i; f_i(x_j) to each new party j, empty to everyone else; keep f_i(x_i).
    let direct = others
        .into_iter()
        .map(|j| {
            let payload = if ctx.is_new(j) {
                Share::<C> { share: polynomial.evaluate(&shamir_x::<C>(j.0)) }.to_bytes()
            } else {
                EMPTY.to_vec()
            };
            (j, payload)
        })
        .collect();
    let own_subshare = ctx.is_new(ctx.me).then(|| polynomial.evaluate(&shamir_x::<C>(ctx.me.0)));
    let outbox = Outbox { broadcast: Some(Commitment::<C> { coefficients: coefficients.clone() }.to_bytes()), direct };
    Ok((State { ctx, own_commitment: Some(coefficients), own_subshare }, outbox))
}

/// Step 2.1 for one party's (echo-agreed) broadcast: an old signer's commitment has exactly
/// `t′` points, none the identity, and `A_{j,0} = λ_j·X_j`; anyone else's broadcast is empty.
pub(crate) fn check_broadcast<C: Curve>(
    ctx: &Context<C>,
    from: PartyIndex,
    payload: &[u8],
) -> Result<Option<VssCommitment<C>>, Fault> {
    if !ctx.is_old_signer(from) {
        return if payload.is_empty() { Ok(None) } else { Err(Fault::Malformed) };
    }
    let c = Commitment::<C>::from_bytes(payload).map_err(|_| Fault::Malformed)?;
    // Exactly t′ coefficients, none the identity (SECURITY.md item 12).
    let vss = VssCommitment::new(c.coefficients, usize::from(ctx.params.new_threshold)).map_err(|e| match e {
        VssError::WrongCoefficientCount { .. } => Fault::WrongThreshold,
        _ => Fault::InvalidValue,
    })?;
    // The commitments interpolate to the old key: each constant term is λ_j·X_j.
    if ctx.expected_constants.get(&from) != Some(&vss.constant_term()) {
        return Err(Fault::CommitmentMismatch);
    }
    Ok(Some(vss))
}

/// Steps 2.2 and 3.3 for one direct message from `sender` to `recipient`: an old signer's
/// sub-share for a new party satisfies `f_j(x_r)·G = Σ_k A_{j,k}·x_r^k`; any other direct
/// message is empty. `vss` is the sender's accepted commitment (if it is an old signer).
pub(crate) fn check_direct<C: Curve>(
    ctx: &Context<C>,
    vss: Option<&VssCommitment<C>>,
    sender: PartyIndex,
    recipient: PartyIndex,
    payload: &[u8],
) -> Result<Option<SecretScalar<C>>, Fault> {
    let vss = match vss {
        Some(v) if ctx.is_old_signer(sender) && ctx.is_new(recipient) => v,
        _ => return if payload.is_empty() { Ok(None) } else { Err(Fault::Malformed) },
    };
    let share = Share::<C>::from_bytes(payload).map_err(|_| Fault::Malformed)?;
    if vss.verify_share(recipient.0, share.share.expose_secret()) {
        Ok(Some(share.share))
    } else {
        Err(Fault::InvalidShare)
    }
}

impl<C: Curve> State<C> {
    /// Steps 2.1–2.5: check every commitment and every sub-share; compute the new public
    /// data; confirm or accuse.
    pub(crate) fn proceed(self, input: RoundInput) -> Result<(round2::State<C>, Outbox), ProtocolError> {
        let ctx = self.ctx;
        let me = ctx.me;
        // 2.1 Every commitment, as agreed by the echo round: public checks, so every honest
        // party reaches the same verdict and aborts at once on a failure.
        let mut commitments = BTreeMap::new();
        if let Some(a) = self.own_commitment {
            // Our own coefficients are trusted (an adversarial test party may hold more).
            let n = a.len();
            commitments.insert(me, VssCommitment::new(a, n).map_err(|_| ProtocolError::Bug("own commitment invalid"))?);
        }
        let mut culprits = Vec::new();
        for (j, msg) in &input.broadcasts {
            match check_broadcast(&ctx, *j, &msg.payload) {
                Ok(Some(vss)) => {
                    commitments.insert(*j, vss);
                }
                Ok(None) => {}
                Err(fault) => culprits.push(Culprit::with_message(*j, INFO.id, fault, msg.statement.clone())),
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        if commitments.keys().copied().ne(ctx.params.old_signers.iter()) {
            return Err(ProtocolError::Bug("round 1 commitments incomplete"));
        }
        // 2.2 Every direct message to us: sub-shares from old signers if we are new, else empty.
        let mut accusations = Vec::new();
        let mut secret = self.own_subshare.unwrap_or_else(SecretScalar::zero);
        for j in ctx.parties.others(me) {
            let Some(d) = input.directs.get(&j) else {
                return Err(ProtocolError::Bug("round 1 input incomplete"));
            };
            let accuse = || Accusation { accused: j, payload: d.payload.clone(), signature: d.statement.signature };
            match check_direct(&ctx, commitments.get(&j), j, me, &d.payload) {
                Ok(Some(s)) => secret.add_assign(&s),
                Ok(None) => {}
                Err(_) => accusations.push(accuse()),
            }
            #[cfg(feature = "adversary")]
            if ctx.misbehaves(super::Misbehaviour::FalseComplaintAgainst(j)) {
                accusations.push(accuse());
            }
        }
        // 2.3 The new public data (computable by everyone, whatever the sub-shares).
        let new_public = new_public_data(&ctx, &commitments)?;
        // 2.4 Our new share x′_j = Σ_i f_i(x_j) matches X′_j.
        let is_new = ctx.is_new(me);
        #[cfg(feature = "adversary")]
        let own_check = ctx.misbehaviour.is_none();
        #[cfg(not(feature = "adversary"))]
        let own_check = true;
        if own_check
            && is_new
            && accusations.is_empty()
            && new_public.public_shares.get(&me) != Some(&secret.public_point())
        {
            return Err(ProtocolError::Bug("own new share does not match its public share"));
        }
        // 2.5 Confirm H(…) or accuse.
        let points: BTreeMap<PartyIndex, Vec<C::Point>> =
            commitments.iter().map(|(p, v)| (*p, v.points().to_vec())).collect();
        let hash = confirmation_hash::<C>(&ctx.session, &ctx.old.key_id, &ctx.params, &points, &new_public);
        let (verdict, secret) = if accusations.is_empty() {
            (Verdict::Confirm { hash }, is_new.then_some(secret))
        } else {
            (Verdict::Complaint { accusations }, None)
        };
        let outbox = Outbox { broadcast: Some(verdict.to_bytes()), direct: vec![] };
        Ok((round2::State::new(ctx, commitments, new_public, hash, secret, verdict), outbox))
    }
}

/// Step 2.3: `Â = Σ_{i∈O} A_i` (coefficient-wise), `X′_k = Σ_m Â_m·x_k^m` for every new party
/// `k`, `Y′ = Â_0 = Σ_i λ_i·X_i = Y`; same chain code; new key id.
fn new_public_data<C: Curve>(
    ctx: &Context<C>,
    commitments: &BTreeMap<PartyIndex, VssCommitment<C>>,
) -> Result<PublicKeyShare<C>, ProtocolError> {
    let t = usize::from(ctx.params.new_threshold);
    let mut aggregate = vec![C::Point::identity(); t];
    for vss in commitments.values() {
        for (acc, a) in aggregate.iter_mut().zip(vss.points()) {
            *acc += a;
        }
    }
    #[cfg(feature = "adversary")]
    let own_check = ctx.misbehaviour.is_none();
    #[cfg(not(feature = "adversary"))]
    let own_check = true;
    if own_check && aggregate.first() != Some(&ctx.old.public_key) {
        return Err(ProtocolError::Bug("the checked commitments do not give the old public key"));
    }
    let aggregate = VssCommitment::<C>::new(aggregate, t)
        .map_err(|_| ProtocolError::Bug("aggregate commitment has an identity coefficient"))?;
    let public_shares: BTreeMap<PartyIndex, C::Point> =
        ctx.params.new_parties.iter().map(|k| (k, aggregate.public_share(k.0))).collect();
    let mut public = PublicKeyShare {
        key_id: ctx.old.key_id,
        threshold: ctx.params.new_threshold,
        parties: ctx.params.new_parties.clone(),
        public_shares,
        public_key: ctx.old.public_key,
        chain_code: ctx.old.chain_code,
    };
    public.key_id = new_key_id(&public);
    Ok(public)
}
