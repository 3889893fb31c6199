//! Round 2: Γ_i and the multiplicative-to-additive conversions (spec steps 2.2–2.4, 3.1).

use std::collections::BTreeMap;

use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, SecretScalar};
use conclave_paillier::{Ciphertext, Integer, Nonce, SecretInt};
use conclave_protocol::{
    Culprit, Delivery, Fault, Outbox, PartyIndex, ProtocolError, Received, RoundId, RoundInfo, RoundInput,
};
use conclave_zk::aff_g::{self, AffGProof, AffGStatement, AffGWitness};
use conclave_zk::common::scalar_to_integer;
use conclave_zk::elog::{self, ElogProof, ElogStatement, ElogWitness};
use conclave_zk::rp::ELL_PRIME;
use rand_core::CryptoRngCore;
use zeroize::Zeroize;

use super::msg::{Round2Broadcast, Round2Direct};
use super::round1::{Commitments, Secrets};
use super::{round3, Context, ThresholdCurve};

/// Round 2 expects a plain broadcast (Γ_j is bound to the echoed B_j by Π^elog) and a direct
/// message from every other signer.
pub(crate) const INFO: RoundInfo = RoundInfo { id: RoundId(2), broadcast: Some(Delivery::Plain), direct: true };

/// A uniformly random integer in `[−2^bits, 2^bits)` (the MtA masks β, β̂ of the paper).
fn random_signed(rng: &mut dyn CryptoRngCore, bits: u32) -> SecretInt {
    let mut bytes = vec![0u8; (bits as usize + 1).div_ceil(8)];
    rng.fill_bytes(&mut bytes);
    let excess = (bytes.len() * 8) as u32 - (bits + 1);
    if let Some(first) = bytes.first_mut() {
        *first &= 0xffu8 >> excess;
    }
    let v = Integer::from_digits(&bytes, rug::integer::Order::Msf);
    bytes.zeroize();
    SecretInt::new(v - (Integer::from(1) << bits))
}

/// Our MtA towards one other signer `j`: the masks and nonces (secret; wiped on drop) and the
/// ciphertexts we sent, kept for the identifiable abort (Π^aff-g* needs the whole witness).
#[derive(Debug)]
pub(crate) struct Masks {
    pub beta: SecretInt,
    pub beta_hat: SecretInt,
    /// Nonce of `enc_j(−β)` inside `D_{j,i}`, and of `F_{j,i} = enc_i(−β)`.
    pub s: Nonce,
    pub r: Nonce,
    /// The same for `D̂_{j,i}`, `F̂_{j,i}`.
    pub s_hat: Nonce,
    pub r_hat: Nonce,
    pub d: Ciphertext,
    pub f: Ciphertext,
    pub d_hat: Ciphertext,
    pub f_hat: Ciphertext,
}

/// What we keep after round 2.
#[derive(Debug)]
pub struct State<C: ThresholdCurve> {
    ctx: Context<C>,
    secrets: Secrets<C>,
    commitments: BTreeMap<PartyIndex, Commitments<C>>,
    gamma: C::Point,
    masks: BTreeMap<PartyIndex, Masks>,
}

fn bug<E>(_: E) -> ProtocolError {
    ProtocolError::Bug("round 2 computation on our own values failed")
}

/// Steps 2.2–2.4.
pub(crate) fn start<C: ThresholdCurve>(
    ctx: Context<C>,
    secrets: Secrets<C>,
    commitments: BTreeMap<PartyIndex, Commitments<C>>,
    rng: &mut dyn CryptoRngCore,
) -> Result<(State<C>, Outbox), ProtocolError> {
    let mine = commitments.get(&ctx.me).ok_or(ProtocolError::Bug("own commitments"))?;
    let own = ctx.aux.own().ok_or(ProtocolError::Bug("own aux"))?;
    let dk = ctx.aux.decryption_key();
    // 2.2 Γ_i = γ_i·G with Π^elog for (B_i, Y_i, Γ_i, G).
    let gamma = secrets.gamma.public_point();
    let st = ElogStatement::<C> { l: mine.b.0, m: mine.b.1, x: mine.y, y: gamma, h: C::generator() };
    let psi = ElogProof::prove(
        &ctx.transcript(elog::DOMAIN, 2, ctx.me),
        &st,
        &ElogWitness { lambda: &secrets.b, y: &secrets.gamma },
        rng,
    );
    let broadcast = Round2Broadcast::<C> { gamma, psi }.to_bytes();
    // 2.3 For each j: D_{j,i} = γ_i⊙K_j ⊕ enc_j(−β), F_{j,i} = enc_i(−β), the same with x_i, and
    // Π^aff-g for each under j's ring-Pedersen parameters.
    let gamma_int = SecretInt::new(scalar_to_integer::<C>(secrets.gamma.expose_secret()));
    let x_int = SecretInt::new(scalar_to_integer::<C>(ctx.x.expose_secret()));
    let big_x_me = ctx.big_x.get(&ctx.me).copied().ok_or(ProtocolError::Bug("own public share"))?;
    let mut direct = Vec::new();
    let mut masks = BTreeMap::new();
    for j in ctx.others() {
        let theirs = ctx.aux.party(j).ok_or(ProtocolError::Bug("aux entry"))?;
        let k_j = &commitments.get(&j).ok_or(ProtocolError::Bug("commitments"))?.k;
        let t = ctx.transcript(aff_g::DOMAIN, 2, ctx.me);
        let mta = |rng: &mut dyn CryptoRngCore,
                   secret: &Integer,
                   public: C::Point,
                   beta: &Integer|
         -> Result<_, ProtocolError> {
            let neg_beta = SecretInt::new(Integer::from(-beta));
            let s: Nonce = theirs.ek.sample_nonce(rng).map_err(bug)?;
            let scaled = theirs.ek.scalar_mul(k_j, secret).map_err(bug)?;
            let masked = theirs.ek.encrypt_with_nonce(neg_beta.expose(), &s).map_err(bug)?;
            let d: Ciphertext = theirs.ek.add(&scaled, &masked).map_err(bug)?;
            let (f, r): (Ciphertext, Nonce) = dk.encrypt(rng, neg_beta.expose()).map_err(bug)?;
            let st = AffGStatement::<C> {
                verifier_key: &theirs.ek,
                prover_key: &own.ek,
                rp: &theirs.rp,
                c: k_j,
                d: &d,
                y: &f,
                x: public,
            };
            let proof = AffGProof::prove(
                &t,
                &st,
                &AffGWitness { x: secret, y: neg_beta.expose(), rho: &s, rho_y: &r, prover_secret_key: Some(dk) },
                rng,
            )
            .map_err(bug)?;
            Ok((d, f, proof, s, r))
        };
        let beta = random_signed(rng, ELL_PRIME);
        let beta_hat = random_signed(rng, ELL_PRIME);
        let (d, f, psi, s, r) = mta(rng, gamma_int.expose(), gamma, beta.expose())?;
        let (d_hat, f_hat, psi_hat, s_hat, r_hat) = mta(rng, x_int.expose(), big_x_me, beta_hat.expose())?;
        let msg = Round2Direct::<C> {
            d: d.as_integer().clone(),
            f: f.as_integer().clone(),
            d_hat: d_hat.as_integer().clone(),
            f_hat: f_hat.as_integer().clone(),
            psi,
            psi_hat,
        };
        direct.push((j, msg.to_bytes()));
        masks.insert(j, Masks { beta, beta_hat, s, r, s_hat, r_hat, d, f, d_hat, f_hat });
    }
    let outbox = Outbox { broadcast: Some(broadcast), direct };
    Ok((State { ctx, secrets, commitments, gamma, masks }, outbox))
}

/// One signer's round-2 values after the checks of step 3.1, with its signed direct message
/// (republished by the identifiable abort).
#[derive(Debug)]
pub(crate) struct Checked<C: Curve> {
    pub gamma: C::Point,
    pub d: Ciphertext,
    pub d_hat: Ciphertext,
    pub f: Ciphertext,
    pub f_hat: Ciphertext,
    pub received: Received,
}

fn check<C: ThresholdCurve>(
    ctx: &Context<C>,
    mine: &Commitments<C>,
    theirs_c: &Commitments<C>,
    j: PartyIndex,
    b: &Received,
    dm: &Received,
) -> Result<Checked<C>, Culprit> {
    let round = INFO.id;
    let blame = |r: &Received, f| Culprit::with_message(j, round, f, r.statement.clone());
    let msg = Round2Broadcast::<C>::from_bytes(&b.payload).map_err(|_| blame(b, Fault::Malformed))?;
    let mta = Round2Direct::<C>::from_bytes(&dm.payload).map_err(|_| blame(dm, Fault::Malformed))?;
    // Γ_j with Π^elog against B_j.
    let st = ElogStatement::<C> { l: theirs_c.b.0, m: theirs_c.b.1, x: theirs_c.y, y: msg.gamma, h: C::generator() };
    msg.psi.verify(&ctx.transcript(elog::DOMAIN, 2, j), &st).map_err(|_| blame(b, Fault::InvalidProof))?;
    let own = ctx.aux.own().ok_or_else(|| blame(dm, Fault::UnknownSender))?;
    let theirs = ctx.aux.party(j).ok_or_else(|| blame(dm, Fault::UnknownSender))?;
    let big_x_j = ctx.big_x.get(&j).copied().ok_or_else(|| blame(dm, Fault::UnknownSender))?;
    let ct = |x: &Integer, ek: &conclave_paillier::EncryptionKey| {
        ek.validate_ciphertext(x).map_err(|_| blame(dm, Fault::InvalidValue))
    };
    let d = ct(&mta.d, &own.ek)?;
    let f = ct(&mta.f, &theirs.ek)?;
    let d_hat = ct(&mta.d_hat, &own.ek)?;
    let f_hat = ct(&mta.f_hat, &theirs.ek)?;
    let t = ctx.transcript(aff_g::DOMAIN, 2, j);
    for (dd, ff, x, proof) in [(&d, &f, msg.gamma, &mta.psi), (&d_hat, &f_hat, big_x_j, &mta.psi_hat)] {
        let st = AffGStatement::<C> {
            verifier_key: &own.ek,
            prover_key: &theirs.ek,
            rp: &own.rp,
            c: &mine.k,
            d: dd,
            y: ff,
            x,
        };
        // Our own decryption key (N̂ = our N) checks the ring-Pedersen equations by CRT.
        proof.verify_with_key(&t, &st, Some(ctx.aux.decryption_key())).map_err(|_| blame(dm, Fault::InvalidProof))?;
    }
    Ok(Checked { gamma: msg.gamma, d, d_hat, f, f_hat, received: dm.clone() })
}

impl<C: ThresholdCurve> State<C> {
    /// Steps 3.1–3.4: check round 2; compute Γ, Δ_i, δ_i, χ_i, S_i; prove Δ_i.
    pub(crate) fn proceed(
        self,
        rng: &mut dyn CryptoRngCore,
        input: RoundInput,
    ) -> Result<(round3::State<C>, Outbox), ProtocolError> {
        let mine = self.commitments.get(&self.ctx.me).ok_or(ProtocolError::Bug("own commitments"))?;
        let mut culprits = Vec::new();
        let mut checked = BTreeMap::new();
        for j in self.ctx.others() {
            let (Some(b), Some(d), Some(c)) =
                (input.broadcasts.get(&j), input.directs.get(&j), self.commitments.get(&j))
            else {
                return Err(ProtocolError::Bug("round 2 input incomplete"));
            };
            match check(&self.ctx, mine, c, j, b, d) {
                Ok(v) => {
                    checked.insert(j, v);
                }
                Err(c) => culprits.push(c),
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        round3::start(self.ctx, self.secrets, self.commitments, self.gamma, self.masks, checked, rng)
    }
}

/// The scalar `x mod q` of an integer.
pub(crate) fn to_scalar<C: Curve>(x: &Integer) -> SecretScalar<C> {
    SecretScalar::new(conclave_zk::common::integer_to_scalar::<C>(x))
}
