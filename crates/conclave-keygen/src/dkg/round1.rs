//! Round 1: sample the contribution, commit to it (spec steps 1.1–1.4).

use std::collections::BTreeMap;

use conclave_math::codec::{Decode, Encode};
use conclave_math::poly::{shamir_x, SecretPolynomial};
use conclave_math::Curve;
use conclave_protocol::{Culprit, Delivery, Fault, Outbox, PartyIndex, ProtocolError, RoundId, RoundInfo, RoundInput};
use rand_core::CryptoRngCore;

use super::msg::{Commit, Reveal, Share};
use super::{round2, Context};
use crate::error::KeygenError;

/// Round 1 expects one reliable broadcast from everyone.
pub(crate) const INFO: RoundInfo = RoundInfo { id: RoundId(1), broadcast: Some(Delivery::Reliable), direct: false };

/// What party `i` keeps after round 1.
#[derive(Debug)]
pub struct State<C: Curve> {
    ctx: Context,
    polynomial: SecretPolynomial<C>,
    coefficients: Vec<C::Point>,
    rid: [u8; 32],
    decommitment: [u8; 32],
    commitment: [u8; 32],
}

/// Steps 1.1–1.4: sample `f_i` with `t` coefficients, `rid_i` and `u_i`; broadcast
/// `V_i = H(ctx, i, t, A_i, rid_i, u_i)`.
pub(crate) fn start<C: Curve>(ctx: Context, rng: &mut dyn CryptoRngCore) -> Result<(State<C>, Outbox), KeygenError> {
    // 1.1 f_i(x) = a_{i,0} + … + a_{i,t-1} x^{t-1}, uniformly random.
    #[allow(unused_mut)]
    let mut polynomial = SecretPolynomial::<C>::random(rng, usize::from(ctx.threshold), None)
        .map_err(|_| KeygenError::InvalidInput("threshold must be at least 1".into()))?;
    #[cfg(feature = "adversary")]
    if ctx.misbehaves(super::Misbehaviour::ExtraCoefficient) {
        polynomial.push_coefficient_for_testing(C::random_nonzero_scalar(rng));
    }
    // 1.2 A_i = (a_{i,k}·G)_k.
    let coefficients = polynomial.commit().points().to_vec();
    // 1.3 rid_i and the decommitment nonce u_i.
    let mut rid = [0u8; 32];
    rng.fill_bytes(&mut rid);
    let mut decommitment = [0u8; 32];
    rng.fill_bytes(&mut decommitment);
    // 1.4 V_i.
    let commitment = ctx.commitment_hash::<C>(ctx.me, &coefficients, &rid, &decommitment);
    let outbox = Outbox { broadcast: Some(Commit { hash: commitment }.to_bytes()), direct: vec![] };
    Ok((State { ctx, polynomial, coefficients, rid, decommitment, commitment }, outbox))
}

impl<C: Curve> State<C> {
    /// Steps 2.1–2.3: record every (echo-agreed) commitment; reveal, prove and share.
    pub(crate) fn proceed(
        self,
        rng: &mut dyn CryptoRngCore,
        input: RoundInput,
    ) -> Result<(round2::State<C>, Outbox), ProtocolError> {
        let ctx = self.ctx;
        // 2.1 Every V_j, as agreed by the echo round.
        let mut commitments = BTreeMap::new();
        commitments.insert(ctx.me, self.commitment);
        let mut culprits = Vec::new();
        for (j, msg) in input.broadcasts {
            match Commit::from_bytes(&msg.payload) {
                Ok(c) => {
                    commitments.insert(j, c.hash);
                }
                Err(_) => culprits.push(Culprit::with_message(j, INFO.id, Fault::Malformed, msg.statement)),
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        // 2.2 Π^sch for a_{i,0}, bound to the session, our index, t and A_i.
        let transcript = ctx.proof_transcript::<C>(ctx.me, &self.coefficients);
        let constant = self.polynomial.constant();
        let statement = constant.public_point();
        let proof = conclave_zk::sch::SchProof::prove(&transcript, &statement, &constant, rng);
        let reveal = Reveal::<C> {
            coefficients: self.coefficients.clone(),
            rid: self.rid,
            decommitment: self.decommitment,
            proof,
        };
        // 2.3 f_i(x_j) to each j; keep f_i(x_i).
        let direct: Vec<(PartyIndex, Vec<u8>)> = ctx
            .parties
            .others(ctx.me)
            .map(|j| (j, Share::<C> { share: self.polynomial.evaluate(&shamir_x::<C>(j.0)) }.to_bytes()))
            .collect();
        let own_share = self.polynomial.evaluate(&shamir_x::<C>(ctx.me.0));
        let outbox = Outbox { broadcast: Some(reveal.to_bytes()), direct };
        let state = round2::State::new(ctx, commitments, self.coefficients, self.rid, own_share);
        Ok((state, outbox))
    }
}
