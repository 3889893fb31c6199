//! Round 2: check every reveal and share; confirm or accuse (spec steps 3.1–3.5).

use std::collections::BTreeMap;

use conclave_math::codec::{Decode, Encode};
use conclave_math::vss::{VssCommitment, VssError};
use conclave_math::{Curve, SecretScalar, Transcript};
use conclave_protocol::{Delivery, Fault, Outbox, PartyIndex, ProtocolError, RoundId, RoundInfo, RoundInput};
use group::Group;
use rand_core::CryptoRngCore;

use super::msg::{Accusation, Accused, Reveal, Share, Verdict};
use super::{round3, Context};

/// Round 2 expects a plain broadcast (bound by the echoed commitment) and a direct share
/// from everyone.
pub(crate) const INFO: RoundInfo = RoundInfo { id: RoundId(2), broadcast: Some(Delivery::Plain), direct: true };

/// A reveal that opened its commitment, has exactly `t` non-identity coefficients, and whose
/// proof of knowledge verified. Only [`check_reveal`] builds one.
#[derive(Debug, Clone)]
pub(crate) struct ValidReveal<C: Curve> {
    pub vss: VssCommitment<C>,
    pub rid: [u8; 32],
}

/// Steps 3.1–3.3 for one party's reveal.
pub(crate) fn check_reveal<C: Curve>(
    ctx: &Context,
    from: PartyIndex,
    commitment: &[u8; 32],
    payload: &[u8],
) -> Result<ValidReveal<C>, Fault> {
    let reveal = Reveal::<C>::from_bytes(payload).map_err(|_| Fault::Malformed)?;
    // 3.1 The reveal opens V_j.
    if ctx.commitment_hash::<C>(from, &reveal.coefficients, &reveal.rid, &reveal.decommitment) != *commitment {
        return Err(Fault::CommitmentMismatch);
    }
    // 3.2 Exactly t coefficients, none the identity (SECURITY.md item 12).
    let vss = VssCommitment::new(reveal.coefficients, usize::from(ctx.threshold)).map_err(|e| match e {
        VssError::WrongCoefficientCount { .. } => Fault::WrongThreshold,
        _ => Fault::InvalidValue,
    })?;
    // 3.3 Π^sch for A_{j,0}, bound to the session, j, t and A_j (SECURITY.md item 11).
    let transcript = ctx.proof_transcript::<C>(from, vss.points());
    reveal.proof.verify(&transcript, &vss.constant_term()).map_err(|_| Fault::InvalidProof)?;
    Ok(ValidReveal { vss, rid: reveal.rid })
}

/// Step 3.4 for one party's share to `recipient`: `f_j(x_recipient)·G = Σ_k A_{j,k} x^k`.
pub(crate) fn check_share<C: Curve>(
    vss: &VssCommitment<C>,
    recipient: PartyIndex,
    payload: &[u8],
) -> Result<SecretScalar<C>, Fault> {
    let share = Share::<C>::from_bytes(payload).map_err(|_| Fault::Malformed)?;
    if vss.verify_share(recipient.0, share.share.expose_secret()) {
        Ok(share.share)
    } else {
        Err(Fault::InvalidShare)
    }
}

/// The key material computed once every check passed.
#[derive(Debug)]
pub(crate) struct KeyMaterial<C: Curve> {
    pub secret_share: SecretScalar<C>,
    pub public_shares: BTreeMap<PartyIndex, C::Point>,
    pub public_key: C::Point,
    pub chain_code: [u8; 32],
}

/// What party `i` keeps after round 2.
#[derive(Debug)]
pub struct State<C: Curve> {
    ctx: Context,
    commitments: BTreeMap<PartyIndex, [u8; 32]>,
    coefficients: Vec<C::Point>,
    rid: [u8; 32],
    own_share: SecretScalar<C>,
}

impl<C: Curve> State<C> {
    pub(crate) fn new(
        ctx: Context,
        commitments: BTreeMap<PartyIndex, [u8; 32]>,
        coefficients: Vec<C::Point>,
        rid: [u8; 32],
        own_share: SecretScalar<C>,
    ) -> Self {
        Self { ctx, commitments, coefficients, rid, own_share }
    }

    /// Steps 3.1–3.5: check everything; compute the key if all is well; send the verdict.
    pub(crate) fn proceed(
        self,
        _rng: &mut dyn CryptoRngCore,
        input: RoundInput,
    ) -> Result<(round3::State<C>, Outbox), ProtocolError> {
        let ctx = self.ctx;
        let mut accusations = Vec::new();
        let mut reveals = BTreeMap::new();
        reveals.insert(
            ctx.me,
            ValidReveal {
                // Our own coefficients are trusted (an adversarial test party may hold more).
                vss: VssCommitment::new(self.coefficients.clone(), self.coefficients.len())
                    .map_err(|_| ProtocolError::Bug("own coefficients invalid"))?,
                rid: self.rid,
            },
        );
        let mut secret = self.own_share;
        for j in ctx.parties.others(ctx.me) {
            let (Some(b), Some(d), Some(v)) =
                (input.broadcasts.get(&j), input.directs.get(&j), self.commitments.get(&j))
            else {
                return Err(ProtocolError::Bug("round 2 input incomplete"));
            };
            let accuse = |message, r: &conclave_protocol::Received| Accusation {
                accused: j,
                message,
                payload: r.payload.clone(),
                signature: r.statement.signature,
            };
            match check_reveal::<C>(&ctx, j, v, &b.payload) {
                Err(_) => accusations.push(accuse(Accused::Reveal, b)),
                Ok(rev) => {
                    match check_share::<C>(&rev.vss, ctx.me, &d.payload) {
                        Ok(s) => secret.add_assign(&s),
                        Err(_) => accusations.push(accuse(Accused::Share, d)),
                    }
                    reveals.insert(j, rev);
                }
            }
            #[cfg(feature = "adversary")]
            if ctx.misbehaves(super::Misbehaviour::FalseComplaintAgainst(j)) {
                accusations.push(accuse(Accused::Share, d));
            }
        }
        let (verdict, key) = if accusations.is_empty() {
            let key = compute_key::<C>(&ctx, &reveals, secret)?;
            (Verdict::Confirm { hash: ctx.confirmation_hash(&self.commitments) }, Some(key))
        } else {
            (Verdict::Complaint { accusations }, None)
        };
        let outbox = Outbox { broadcast: Some(verdict.to_bytes()), direct: vec![] };
        Ok((round3::State::new(ctx, self.commitments, reveals, key, verdict), outbox))
    }
}

/// Step 3.5: `x_i = Σ_j f_j(x_i)`, `X_k = Σ_j A_j(x_k)`, `Y = Σ_j A_{j,0}`, chain code from
/// `rid = ⊕_j rid_j`.
fn compute_key<C: Curve>(
    ctx: &Context,
    reveals: &BTreeMap<PartyIndex, ValidReveal<C>>,
    secret: SecretScalar<C>,
) -> Result<KeyMaterial<C>, ProtocolError> {
    let t = usize::from(ctx.threshold);
    let mut aggregate = vec![C::Point::identity(); t];
    let mut rid = [0u8; 32];
    for rev in reveals.values() {
        for (acc, a) in aggregate.iter_mut().zip(rev.vss.points()) {
            *acc += a;
        }
        for (r, x) in rid.iter_mut().zip(rev.rid) {
            *r ^= x;
        }
    }
    let public_key = aggregate.first().copied().unwrap_or_else(C::Point::identity);
    if bool::from(public_key.is_identity()) {
        return Err(ProtocolError::Bug("group public key is the identity"));
    }
    let aggregate = VssCommitment::<C>::new(aggregate, t)
        .map_err(|_| ProtocolError::Bug("aggregate commitment has an identity coefficient"))?;
    let public_shares: BTreeMap<PartyIndex, C::Point> =
        ctx.parties.iter().map(|k| (k, aggregate.public_share(k.0))).collect();
    #[cfg(feature = "adversary")]
    let own_check = ctx.misbehaviour.is_none();
    #[cfg(not(feature = "adversary"))]
    let own_check = true;
    if own_check && public_shares.get(&ctx.me) != Some(&secret.public_point()) {
        return Err(ProtocolError::Bug("own share does not match the public share"));
    }
    let mut tr = Transcript::new("conclave/dkg/v1/chain-code");
    tr.append_bytes("session", &ctx.session.0);
    tr.append_bytes("rid", &rid);
    Ok(KeyMaterial { secret_share: secret, public_shares, public_key, chain_code: tr.digest("chain code") })
}
