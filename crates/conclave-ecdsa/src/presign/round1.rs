//! Round 1: encrypt and commit to the nonce shares (spec steps 1.1–1.4).

use std::collections::BTreeMap;

use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, SecretScalar};
use conclave_paillier::{Ciphertext, SecretInt};
use conclave_protocol::{
    Culprit, Delivery, Fault, Outbox, PartyIndex, ProtocolError, Received, RoundId, RoundInfo, RoundInput,
};
use conclave_zk::common::scalar_to_integer;
use conclave_zk::enc_elg::{self, EncElgProof, EncElgStatement, EncElgWitness};
use rand_core::CryptoRngCore;

use super::msg::{Round1Broadcast, Round1Direct};
use super::{round2, Context, ThresholdCurve};
use crate::error::SignError;

/// Round 1 expects a reliable broadcast and a direct message from every other signer.
pub(crate) const INFO: RoundInfo = RoundInfo { id: RoundId(1), broadcast: Some(Delivery::Reliable), direct: true };

/// A signer's round-1 values as everyone sees them, after the checks of step 2.1.
#[derive(Debug, Clone)]
pub(crate) struct Commitments<C: Curve> {
    pub k: Ciphertext,
    pub g: Ciphertext,
    pub y: C::Point,
    pub a: (C::Point, C::Point),
    pub b: (C::Point, C::Point),
}

/// Our secrets of round 1.
#[derive(Debug)]
pub(crate) struct Secrets<C: Curve> {
    pub k: SecretScalar<C>,
    pub gamma: SecretScalar<C>,
    pub a: SecretScalar<C>,
    pub b: SecretScalar<C>,
}

/// What we keep after round 1.
#[derive(Debug)]
pub struct State<C: ThresholdCurve> {
    ctx: Context<C>,
    secrets: Secrets<C>,
    mine: Commitments<C>,
}

fn bug(e: impl core::fmt::Debug) -> SignError {
    let _ = e;
    SignError::Bug("round 1 computation on our own values failed")
}

/// Steps 1.1–1.4.
pub(crate) fn start<C: ThresholdCurve>(
    ctx: Context<C>,
    rng: &mut dyn CryptoRngCore,
) -> Result<(State<C>, Outbox), SignError> {
    let own = ctx.aux.own().ok_or(SignError::Bug("no own aux entry"))?;
    let dk = ctx.aux.decryption_key();
    // 1.1 k_i, γ_i ← F_q; K_i = enc_i(k_i; ρ_i), G_i = enc_i(γ_i; ν_i).
    let k = SecretScalar::<C>::random(rng);
    let gamma = SecretScalar::<C>::random(rng);
    let k_int = SecretInt::new(scalar_to_integer::<C>(k.expose_secret()));
    let gamma_int = SecretInt::new(scalar_to_integer::<C>(gamma.expose_secret()));
    // Fresh nonces ρ_i, ν_i uniform in Z*_{N_i}, through our key's fixed-base tables.
    let (big_k, rho) = dk.encrypt(rng, k_int.expose()).map_err(bug)?;
    let (big_g, nu) = dk.encrypt(rng, gamma_int.expose()).map_err(bug)?;
    // 1.2 ElGamal key Y_i = y_i·G and commitments A_i, B_i.
    let y = SecretScalar::<C>::random(rng);
    let a = SecretScalar::<C>::random(rng);
    let b = SecretScalar::<C>::random(rng);
    let big_y = y.public_point();
    let big_a = (a.public_point(), big_y * a.expose_secret() + k.public_point());
    let big_b = (b.public_point(), big_y * b.expose_secret() + gamma.public_point());
    let mine = Commitments { k: big_k, g: big_g, y: big_y, a: big_a, b: big_b };
    // 1.3 Π^enc-elg for (K_i, A_i) and (G_i, B_i) under each verifier's parameters.
    let mut direct = Vec::new();
    for j in ctx.others() {
        let rp = &ctx.aux.party(j).ok_or(SignError::Bug("no aux entry"))?.rp;
        let t = ctx.transcript(enc_elg::DOMAIN, 1, ctx.me);
        let st_k = EncElgStatement::<C> { key: &own.ek, rp, ciphertext: &mine.k, a: big_y, b: big_a.0, x: big_a.1 };
        let psi_k = EncElgProof::prove(
            &t,
            &st_k,
            &EncElgWitness { x: k_int.expose(), rho: &rho, b: &a, prover_secret_key: Some(dk) },
            rng,
        )
        .map_err(bug)?;
        let st_g = EncElgStatement::<C> { key: &own.ek, rp, ciphertext: &mine.g, a: big_y, b: big_b.0, x: big_b.1 };
        let psi_g = EncElgProof::prove(
            &t,
            &st_g,
            &EncElgWitness { x: gamma_int.expose(), rho: &nu, b: &b, prover_secret_key: Some(dk) },
            rng,
        )
        .map_err(bug)?;
        direct.push((j, Round1Direct { psi_k, psi_g }.to_bytes()));
    }
    // 1.4 Broadcast.
    let broadcast = Round1Broadcast::<C> {
        k: mine.k.as_integer().clone(),
        g: mine.g.as_integer().clone(),
        y: big_y,
        a: big_a,
        b: big_b,
    };
    drop(y);
    let outbox = Outbox { broadcast: Some(broadcast.to_bytes()), direct };
    Ok((State { ctx, secrets: Secrets { k, gamma, a, b }, mine }, outbox))
}

/// Step 2.1 for one signer: decode, check ciphertexts and both Π^enc-elg.
fn check<C: ThresholdCurve>(
    ctx: &Context<C>,
    j: PartyIndex,
    b: &Received,
    d: &Received,
) -> Result<Commitments<C>, Culprit> {
    let round = INFO.id;
    let malformed = |r: &Received| Culprit::with_message(j, round, Fault::Malformed, r.statement.clone());
    let invalid = |r: &Received, f| Culprit::with_message(j, round, f, r.statement.clone());
    let msg = Round1Broadcast::<C>::from_bytes(&b.payload).map_err(|_| malformed(b))?;
    let proofs = Round1Direct::<C>::from_bytes(&d.payload).map_err(|_| malformed(d))?;
    let theirs = ctx.aux.party(j).ok_or_else(|| invalid(b, Fault::UnknownSender))?;
    let mine = ctx.aux.own().ok_or_else(|| invalid(b, Fault::UnknownSender))?;
    let big_k = theirs.ek.validate_ciphertext(&msg.k).map_err(|_| invalid(b, Fault::InvalidValue))?;
    let big_g = theirs.ek.validate_ciphertext(&msg.g).map_err(|_| invalid(b, Fault::InvalidValue))?;
    let t = ctx.transcript(enc_elg::DOMAIN, 1, j);
    let st_k =
        EncElgStatement::<C> { key: &theirs.ek, rp: &mine.rp, ciphertext: &big_k, a: msg.y, b: msg.a.0, x: msg.a.1 };
    // Our own decryption key (N̂ = our N) checks the ring-Pedersen equation by CRT.
    let dk = Some(ctx.aux.decryption_key());
    proofs.psi_k.verify_with_key(&t, &st_k, dk).map_err(|_| invalid(d, Fault::InvalidProof))?;
    let st_g =
        EncElgStatement::<C> { key: &theirs.ek, rp: &mine.rp, ciphertext: &big_g, a: msg.y, b: msg.b.0, x: msg.b.1 };
    proofs.psi_g.verify_with_key(&t, &st_g, dk).map_err(|_| invalid(d, Fault::InvalidProof))?;
    Ok(Commitments { k: big_k, g: big_g, y: msg.y, a: msg.a, b: msg.b })
}

impl<C: ThresholdCurve> State<C> {
    /// Steps 2.1–2.4: check round 1; send Γ_i with Π^elog and the MtA messages.
    pub(crate) fn proceed(
        self,
        rng: &mut dyn CryptoRngCore,
        input: RoundInput,
    ) -> Result<(round2::State<C>, Outbox), ProtocolError> {
        let mut culprits = Vec::new();
        let mut others = BTreeMap::new();
        for j in self.ctx.others() {
            let (Some(b), Some(d)) = (input.broadcasts.get(&j), input.directs.get(&j)) else {
                return Err(ProtocolError::Bug("round 1 input incomplete"));
            };
            match check(&self.ctx, j, b, d) {
                Ok(c) => {
                    others.insert(j, c);
                }
                Err(c) => culprits.push(c),
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        others.insert(self.ctx.me, self.mine);
        round2::start(self.ctx, self.secrets, others, rng)
    }
}
