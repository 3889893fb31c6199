//! Round 3: δ_i, Δ_i, S_i; then the presignature (spec steps 3.2–3.5, 4.1–4.4), or, when a
//! joint check fails, the first identifiable-abort round (steps 5.1–5.2, in `round4`).

use std::collections::BTreeMap;

use conclave_math::codec::{Decode, Encode};
use conclave_math::SecretScalar;
use conclave_protocol::{Culprit, Delivery, Fault, Outbox, PartyIndex, ProtocolError, RoundId, RoundInfo, RoundInput};
use conclave_zk::elog::{self, ElogProof, ElogStatement, ElogWitness};
use ff::Field;
use group::Group;
use rand_core::CryptoRngCore;

use super::msg::{AbortCheck, Round3Broadcast};
use super::round1::{Commitments, Secrets};
use super::round2::{to_scalar, Checked, Masks};
use super::{round4, Context, Presignature, ThresholdCurve};

/// Round 3 expects one reliable broadcast from every other signer.
pub(crate) const INFO: RoundInfo = RoundInfo { id: RoundId(3), broadcast: Some(Delivery::Reliable), direct: false };

/// What we keep after round 3. Besides the presignature's values, everything the identifiable
/// abort needs: our `γ_i`, our MtA masks and nonces (secret, wiped on drop), every `Γ_j`, and
/// the round-2 direct messages we received with their senders' signed statements.
#[derive(Debug)]
pub struct State<C: ThresholdCurve> {
    ctx: Context<C>,
    k: SecretScalar<C>,
    chi: SecretScalar<C>,
    gamma: C::Point,
    commitments: BTreeMap<PartyIndex, Commitments<C>>,
    own: (C::Scalar, C::Point, C::Point),
    abort: round4::Material<C>,
}

/// How round 3 ends.
#[derive(Debug)]
pub(crate) enum Next<C: ThresholdCurve> {
    /// The joint checks hold: the presignature.
    Done(Presignature<C>),
    /// A joint check failed: the first identifiable-abort round and its broadcast.
    Abort(Box<round4::State<C>>, Outbox),
}

fn bug<E>(_: E) -> ProtocolError {
    ProtocolError::Bug("round 3 computation on our own values failed")
}

/// Steps 3.2–3.5.
pub(crate) fn start<C: ThresholdCurve>(
    ctx: Context<C>,
    secrets: Secrets<C>,
    commitments: BTreeMap<PartyIndex, Commitments<C>>,
    own_gamma: C::Point,
    masks: BTreeMap<PartyIndex, Masks>,
    checked: BTreeMap<PartyIndex, Checked<C>>,
    rng: &mut dyn CryptoRngCore,
) -> Result<(State<C>, Outbox), ProtocolError> {
    let dk = ctx.aux.decryption_key();
    // 3.2 Γ = Σ_j Γ_j and Δ_i = k_i·Γ.
    let gamma = checked.values().fold(own_gamma, |acc, c| acc + c.gamma);
    let big_delta = gamma * secrets.k.expose_secret();
    // 3.3 α_{i,j} = dec_i(D_{i,j}), α̂_{i,j} = dec_i(D̂_{i,j});
    //     δ_i = γ_i k_i + Σ_j (α_{i,j} + β_{i,j}), χ_i = x_i k_i + Σ_j (α̂_{i,j} + β̂_{i,j}).
    let mut delta = *secrets.gamma.expose_secret() * secrets.k.expose_secret();
    let mut chi = *ctx.x.expose_secret() * secrets.k.expose_secret();
    for (j, c) in &checked {
        let m = masks.get(j).ok_or(ProtocolError::Bug("masks"))?;
        let alpha = to_scalar::<C>(&dk.decrypt_signed(&c.d).map_err(bug)?);
        let alpha_hat = to_scalar::<C>(&dk.decrypt_signed(&c.d_hat).map_err(bug)?);
        delta += *alpha.expose_secret() + to_scalar::<C>(m.beta.expose()).expose_secret();
        chi += *alpha_hat.expose_secret() + to_scalar::<C>(m.beta_hat.expose()).expose_secret();
    }
    let chi = SecretScalar::<C>::new(chi);
    // 3.4 S_i = χ_i·Γ.
    let big_s = gamma * chi.expose_secret();
    // 3.5 Π^elog for (A_i, Y_i, Δ_i, Γ).
    let mine = commitments.get(&ctx.me).ok_or(ProtocolError::Bug("own commitments"))?;
    let st = ElogStatement::<C> { l: mine.a.0, m: mine.a.1, x: mine.y, y: big_delta, h: gamma };
    let psi = ElogProof::prove(
        &ctx.transcript(elog::DOMAIN, 3, ctx.me),
        &st,
        &ElogWitness { lambda: &secrets.a, y: &secrets.k },
        rng,
    );
    let msg = Round3Broadcast::<C> { delta, big_delta, s: big_s, psi };
    let outbox = Outbox { broadcast: Some(msg.to_bytes()), direct: vec![] };
    let k = secrets.k.clone_secret();
    let mut gammas: BTreeMap<PartyIndex, C::Point> = checked.iter().map(|(j, c)| (*j, c.gamma)).collect();
    gammas.insert(ctx.me, own_gamma);
    let abort = round4::Material { gamma_i: secrets.gamma.clone_secret(), gammas, masks, checked };
    Ok((State { ctx, k, chi, gamma, commitments, own: (delta, big_delta, big_s), abort }, outbox))
}

impl<C: ThresholdCurve> State<C> {
    /// Steps 4.1–4.4: check every Δ_j; check δ·G = ΣΔ_j and ΣS_j = δ·X; output the
    /// presignature. If 4.2 or 4.4 fails, step 5.1: prove our values and enter the
    /// identifiable abort (every honest signer saw the same reliable round-3 broadcasts, so
    /// every honest signer takes the same branch).
    pub(crate) fn proceed(self, rng: &mut dyn CryptoRngCore, input: RoundInput) -> Result<Next<C>, ProtocolError> {
        let round = INFO.id;
        let mut culprits = Vec::new();
        let mut deltas = BTreeMap::from([(self.ctx.me, self.own.0)]);
        let mut big_deltas = BTreeMap::from([(self.ctx.me, self.own.1)]);
        let mut big_s = BTreeMap::from([(self.ctx.me, self.own.2)]);
        // 4.1 Π^elog for every Δ_j against A_j.
        for j in self.ctx.others() {
            let (Some(b), Some(c)) = (input.broadcasts.get(&j), self.commitments.get(&j)) else {
                return Err(ProtocolError::Bug("round 3 input incomplete"));
            };
            let blame = |f| Culprit::with_message(j, round, f, b.statement.clone());
            let Ok(msg) = Round3Broadcast::<C>::from_bytes(&b.payload) else {
                culprits.push(blame(Fault::Malformed));
                continue;
            };
            let st = ElogStatement::<C> { l: c.a.0, m: c.a.1, x: c.y, y: msg.big_delta, h: self.gamma };
            if msg.psi.verify(&self.ctx.transcript(elog::DOMAIN, 3, j), &st).is_err() {
                culprits.push(blame(Fault::InvalidProof));
                continue;
            }
            deltas.insert(j, msg.delta);
            big_deltas.insert(j, msg.big_delta);
            big_s.insert(j, msg.s);
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        // 4.2 δ = Σ δ_j with δ·G = Σ Δ_j; else identifiable abort for the δ_j (5.1).
        let delta = deltas.values().fold(C::Scalar::ZERO, |acc, d| acc + d);
        let sum_deltas = big_deltas.values().fold(C::Point::identity(), |acc, d| acc + d);
        if C::mul_base(&delta) != sum_deltas {
            return self.abort(AbortCheck::Delta, deltas, big_s, rng);
        }
        // 4.3 R = δ⁻¹·Γ.
        let delta_inv: Option<C::Scalar> = delta.invert().into();
        let delta_inv = delta_inv.ok_or(ProtocolError::Unidentified { round, check: "δ ≠ 0" })?;
        let big_r = self.gamma * delta_inv;
        // 4.4 Σ S_j = δ·X.
        let sum_s = big_s.values().fold(C::Point::identity(), |acc, s| acc + s);
        if sum_s != self.ctx.public_key * delta {
            return self.abort(AbortCheck::Chi, deltas, big_s, rng);
        }
        if bool::from(big_r.is_identity()) || bool::from(C::x_mod_q(&big_r).0.is_zero()) {
            return Err(ProtocolError::Unidentified { round, check: "x(R) ≠ 0" });
        }
        Ok(Next::Done(Presignature {
            session: self.ctx.session,
            key_id: self.ctx.key_id,
            signers: self.ctx.signers.clone(),
            me: self.ctx.me,
            path: self.ctx.path.clone(),
            public_key: self.ctx.public_key,
            big_r,
            gamma: self.gamma,
            big_deltas,
            big_s,
            k: self.k,
            chi: self.chi,
        }))
    }

    /// Step 5.1: a joint check failed; prove our values and send the first abort round.
    pub(super) fn abort(
        self,
        check: AbortCheck,
        deltas: BTreeMap<PartyIndex, C::Scalar>,
        big_s: BTreeMap<PartyIndex, C::Point>,
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Next<C>, ProtocolError> {
        let round3 = round4::Round3Values { gamma: self.gamma, deltas, big_s };
        let (state, outbox) = round4::start(self.ctx, check, self.commitments, round3, self.abort, rng)?;
        Ok(Next::Abort(Box::new(state), outbox))
    }
}
