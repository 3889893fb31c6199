//! Identifiable abort of presigning (spec steps 5.1–5.6), entered only when a joint check of
//! round 3 fails: `δ·G ≠ ΣΔ_j` (4.2) or `ΣS_j ≠ δ·X` (4.4).
//!
//! Every signer `P_i` republishes the round-2 direct messages it received (each with its
//! sender's signed statement, so anyone can authenticate it), proves with Π^dec that its
//! `δ_i` (base `G`) or `χ_i` (base `Γ`, `S = S_i`) is the decryption of
//! `K_i^x · Π_j D_{i,j}·F_{j,i}^{−1}`, and proves with Π^aff-g* that each `D_{j,i}/F_{j,i}`
//! (or `D̂/F̂`) it sent is well formed. All of this is broadcast reliably and checked by every
//! signer, so all honest signers name the same culprits.
//!
//! A Π^aff-g* proof is about 290 KB at 3072-bit moduli, so one is sent per round: round 4
//! carries the republished messages, Π^dec and the Π^aff-g* towards our first other signer;
//! round `3 + r` (`r = 2 … |S|−1`) the one towards our `r`-th other signer. Everything is
//! proved on entry (step 5.1), so no secret outlives round 3.

use std::collections::{BTreeMap, VecDeque};

use conclave_math::codec::{Decode, Encode, MAX_BYTES};
use conclave_math::{Curve, SecretScalar, Transcript};
use conclave_paillier::{Ciphertext, EncryptionKey, Integer};
use conclave_protocol::{
    Culprit, Delivery, Fault, MessageKind, Outbox, PartyIndex, ProtocolError, RoundId, RoundInfo, RoundInput,
};
use conclave_zk::aff_g_star::{self, AffGStarProof, AffGStarStatement, AffGStarWitness};
use conclave_zk::common::scalar_to_integer;
use conclave_zk::dec::{self, DecOpening, DecProof, DecStatement, DecWitness};
use rand_core::CryptoRngCore;

use super::msg::{AbortBroadcast, AbortCheck, Republished, Round2Direct};
use super::round1::Commitments;
use super::round2::{Checked, Masks};
use super::{Context, ThresholdCurve};

/// The first abort round.
const FIRST: u16 = 4;

/// What round 3 keeps for a possible abort (secrets wiped on drop).
#[derive(Debug)]
pub(crate) struct Material<C: ThresholdCurve> {
    /// Our `γ_i`.
    pub gamma_i: SecretScalar<C>,
    /// Every signer's `Γ_j` (ours included).
    pub gammas: BTreeMap<PartyIndex, C::Point>,
    /// Our masks, nonces and sent ciphertexts, by recipient.
    pub masks: BTreeMap<PartyIndex, Masks>,
    /// What each other signer sent us in round 2 (checked), with its signed statement.
    pub checked: BTreeMap<PartyIndex, Checked<C>>,
}

/// Everyone's round-3 values (after step 4.1).
#[derive(Debug)]
pub(crate) struct Round3Values<C: Curve> {
    /// `Γ = Σ Γ_j`.
    pub gamma: C::Point,
    /// Every `δ_j`.
    pub deltas: BTreeMap<PartyIndex, C::Scalar>,
    /// Every `S_j`.
    pub big_s: BTreeMap<PartyIndex, C::Point>,
}

/// The four MtA ciphertexts one signer sent another in round 2.
#[derive(Debug, Clone)]
struct Mta {
    d: Ciphertext,
    f: Ciphertext,
    d_hat: Ciphertext,
    f_hat: Ciphertext,
}

impl Mta {
    /// `(D, F)` of the check being re-run.
    fn pair(&self, check: AbortCheck) -> (&Ciphertext, &Ciphertext) {
        match check {
            AbortCheck::Delta => (&self.d, &self.f),
            AbortCheck::Chi => (&self.d_hat, &self.f_hat),
        }
    }
}

/// The state of abort round `round` (4 … `2 + |S|`). Holds no secret.
#[derive(Debug)]
pub struct State<C: ThresholdCurve> {
    ctx: Context<C>,
    check: AbortCheck,
    round: u16,
    commitments: BTreeMap<PartyIndex, Commitments<C>>,
    gammas: BTreeMap<PartyIndex, C::Point>,
    values: Round3Values<C>,
    /// `(recipient, sender)` → the MtA ciphertexts of round 2, as authenticated so far (ours
    /// as received; the others' from their republications in round 4).
    mta: BTreeMap<(PartyIndex, PartyIndex), Mta>,
    /// Our broadcasts of the abort rounds still to come.
    pending: VecDeque<Vec<u8>>,
}

fn bug<E>(_: E) -> ProtocolError {
    ProtocolError::Bug("identifiable abort: computation on our own values failed")
}

/// The statement's `X` and base `g` and `S` of a signer's Π^dec, and the `X` of its Π^aff-g*.
fn points<C: ThresholdCurve>(
    ctx: &Context<C>,
    check: AbortCheck,
    gammas: &BTreeMap<PartyIndex, C::Point>,
    values: &Round3Values<C>,
    i: PartyIndex,
) -> Option<(C::Point, C::Point, C::Point)> {
    match check {
        AbortCheck::Delta => Some((*gammas.get(&i)?, C::generator(), C::mul_base(values.deltas.get(&i)?))),
        AbortCheck::Chi => Some((*ctx.big_x.get(&i)?, values.gamma, *values.big_s.get(&i)?)),
    }
}

/// `H_i = Π_{j≠i} D_{i,j}·F_{j,i}^{−1} mod N_i²` (plaintext `Σ_j α_{i,j} + β_{i,j}`).
fn product<'a>(
    key: &EncryptionKey,
    pairs: impl Iterator<Item = (&'a Ciphertext, &'a Ciphertext)>,
) -> Option<Ciphertext> {
    let nn = key.modulus_squared();
    let mut acc = Integer::from(1);
    for (d, f) in pairs {
        let f_inv = Integer::from(f.as_integer().invert_ref(nn)?);
        acc = acc * d.as_integer() % nn;
        acc = acc * f_inv % nn;
    }
    key.validate_ciphertext(&acc).ok()
}

fn dec_transcript<C: ThresholdCurve>(ctx: &Context<C>, check: AbortCheck, prover: PartyIndex) -> Transcript {
    let mut t = ctx.transcript(dec::DOMAIN, FIRST, prover);
    t.append_bytes("abort check", check.label());
    t
}

fn aff_transcript<C: ThresholdCurve>(
    ctx: &Context<C>,
    check: AbortCheck,
    round: u16,
    prover: PartyIndex,
    recipient: PartyIndex,
) -> Transcript {
    let mut t = ctx.transcript(aff_g_star::DOMAIN, round, prover);
    t.append_bytes("abort check", check.label());
    t.append_u64("recipient", u64::from(recipient.0));
    t
}

/// Step 5.1: prove our `δ_i` (or `χ_i`) and every MtA we sent; returns the first abort round
/// with its broadcast (5.2), the later rounds' broadcasts queued.
pub(crate) fn start<C: ThresholdCurve>(
    ctx: Context<C>,
    check: AbortCheck,
    commitments: BTreeMap<PartyIndex, Commitments<C>>,
    values: Round3Values<C>,
    material: Material<C>,
    rng: &mut dyn CryptoRngCore,
) -> Result<(State<C>, Outbox), ProtocolError> {
    let me = ctx.me;
    let dk = ctx.aux.decryption_key();
    let own = ctx.aux.own().ok_or(ProtocolError::Bug("own aux"))?;
    let k_i = &commitments.get(&me).ok_or(ProtocolError::Bug("own commitments"))?.k;
    let (big_x, g, s) =
        points(&ctx, check, &material.gammas, &values, me).ok_or(ProtocolError::Bug("own round-3 values"))?;
    // x = γ_i (δ) or x_i (χ), as an integer in [0, q).
    let x_int = conclave_paillier::SecretInt::new(match check {
        AbortCheck::Delta => scalar_to_integer::<C>(material.gamma_i.expose_secret()),
        AbortCheck::Chi => scalar_to_integer::<C>(ctx.x.expose_secret()),
    });
    let others: Vec<PartyIndex> = ctx.others().collect();
    // H_i from what we received (D_{i,j}) and what we sent (F_{j,i}).
    let mut pairs = Vec::new();
    for j in &others {
        let (Some(c), Some(m)) = (material.checked.get(j), material.masks.get(j)) else {
            return Err(ProtocolError::Bug("round-2 values"));
        };
        let (d, f) = match check {
            AbortCheck::Delta => (&c.d, &m.f),
            AbortCheck::Chi => (&c.d_hat, &m.f_hat),
        };
        pairs.push((d, f));
    }
    let h = product(&own.ek, pairs.into_iter()).ok_or(ProtocolError::Bug("H_i"))?;
    // Π^dec: enc_i(y; ρ) = K_i^x·H_i, X = x·G, S = y·g.
    let opening = DecOpening::open(dk, k_i, x_int.expose(), &h).map_err(bug)?;
    let st = DecStatement::<C> { key: &own.ek, k: k_i, x: big_x, d: &h, s, g, num_parties: ctx.signers.len() };
    let wit = DecWitness { x: x_int.expose(), y: opening.plaintext(), rho: opening.nonce(), secret_key: Some(dk) };
    let dec_proof = DecProof::prove(&dec_transcript(&ctx, check, me), &st, &wit, rng).map_err(bug)?;
    drop(opening);
    // Π^aff-g* for each D_{j,i}/F_{j,i} (D̂/F̂) we sent, one per abort round.
    let mut payloads = VecDeque::new();
    let mut dec_proof = Some(dec_proof);
    for (r, j) in (1u16..).zip(&others) {
        let (Some(m), Some(theirs), Some(k_j)) =
            (material.masks.get(j), ctx.aux.party(*j), commitments.get(j).map(|c| &c.k))
        else {
            return Err(ProtocolError::Bug("MtA towards a signer"));
        };
        let (d, f, beta, s_nonce, r_nonce) = match check {
            AbortCheck::Delta => (&m.d, &m.f, &m.beta, &m.s, &m.r),
            AbortCheck::Chi => (&m.d_hat, &m.f_hat, &m.beta_hat, &m.s_hat, &m.r_hat),
        };
        let neg_beta = conclave_paillier::SecretInt::new(Integer::from(-beta.expose()));
        let st = AffGStarStatement::<C> { verifier_key: &theirs.ek, prover_key: &own.ek, c: k_j, d, y: f, x: big_x };
        let wit = AffGStarWitness {
            x: x_int.expose(),
            y: neg_beta.expose(),
            rho: s_nonce,
            rho_y: r_nonce,
            prover_secret_key: Some(dk),
        };
        let round = FIRST - 1 + r;
        let aff = AffGStarProof::prove(&aff_transcript(&ctx, check, round, me, *j), &st, &wit, rng).map_err(bug)?;
        let republished = if r == 1 {
            others
                .iter()
                .filter_map(|j| material.checked.get(j))
                .map(|c| Republished { statement: c.received.statement.clone(), payload: c.received.payload.clone() })
                .collect()
        } else {
            Vec::new()
        };
        let msg = AbortBroadcast::<C> { check, republished, dec: dec_proof.take(), aff };
        let bytes = msg.to_bytes();
        if bytes.len() > MAX_BYTES {
            return Err(ProtocolError::Bug("identifiable abort: broadcast exceeds the payload limit"));
        }
        payloads.push_back(bytes);
    }
    drop(material.masks);
    let first = payloads.pop_front().ok_or(ProtocolError::Bug("identifiable abort with no other signer"))?;
    // Our own view of the MtA values sent to us.
    let mta = material
        .checked
        .iter()
        .map(|(j, c)| {
            ((me, *j), Mta { d: c.d.clone(), f: c.f.clone(), d_hat: c.d_hat.clone(), f_hat: c.f_hat.clone() })
        })
        .collect();
    let state =
        State { ctx, check, round: FIRST, commitments, gammas: material.gammas, values, mta, pending: payloads };
    Ok((state, Outbox { broadcast: Some(first), direct: vec![] }))
}

/// Step 5.3 for one republished message: `P_j`'s round-2 direct message to `P_i`.
fn authenticate<C: ThresholdCurve>(ctx: &Context<C>, i: PartyIndex, j: PartyIndex, rep: &Republished) -> Option<Mta> {
    let st = &rep.statement;
    let key = ctx.peers.get(&j)?;
    let authentic = st.protocol == ctx.envelope_protocol
        && st.session == ctx.session
        && st.round == RoundId(2)
        && st.kind == MessageKind::Direct
        && st.sender == j
        && st.recipient == Some(i)
        && st.matches_payload(&rep.payload)
        && st.verify(key);
    if !authentic {
        return None;
    }
    let msg = Round2Direct::<C>::from_bytes(&rep.payload).ok()?;
    let n_i = &ctx.aux.party(i)?.ek;
    let n_j = &ctx.aux.party(j)?.ek;
    Some(Mta {
        d: n_i.validate_ciphertext(&msg.d).ok()?,
        f: n_j.validate_ciphertext(&msg.f).ok()?,
        d_hat: n_i.validate_ciphertext(&msg.d_hat).ok()?,
        f_hat: n_j.validate_ciphertext(&msg.f_hat).ok()?,
    })
}

impl<C: ThresholdCurve> State<C> {
    /// Abort round `round`: one reliable broadcast from every other signer.
    pub(crate) fn info(&self) -> RoundInfo {
        RoundInfo { id: RoundId(self.round), broadcast: Some(Delivery::Reliable), direct: false }
    }

    /// Steps 5.3–5.6 for this round.
    pub(crate) fn proceed(mut self, input: RoundInput) -> Result<(State<C>, Outbox), ProtocolError> {
        let round = RoundId(self.round);
        let first = self.round == FIRST;
        let mut culprits = Vec::new();
        let mut messages = BTreeMap::new();
        // 5.3 Decode; the same failed check; the first round's republished messages.
        for i in self.ctx.others() {
            let b = input.broadcasts.get(&i).ok_or(ProtocolError::Bug("abort round input incomplete"))?;
            let blame = |f| Culprit::with_message(i, round, f, b.statement.clone());
            let Ok(msg) = AbortBroadcast::<C>::from_bytes(&b.payload) else {
                culprits.push(blame(Fault::Malformed));
                continue;
            };
            if msg.check != self.check || msg.dec.is_some() != first || (!first && !msg.republished.is_empty()) {
                culprits.push(blame(Fault::InvalidValue));
                continue;
            }
            if first {
                let senders: Vec<PartyIndex> = self.ctx.signers.others(i).collect();
                if senders.len() != msg.republished.len() {
                    culprits.push(blame(Fault::InvalidValue));
                    continue;
                }
                let mut ok = true;
                for (j, rep) in senders.iter().zip(&msg.republished) {
                    match authenticate(&self.ctx, i, *j, rep) {
                        Some(m) => {
                            self.mta.insert((i, *j), m);
                        }
                        None => ok = false,
                    }
                }
                if !ok {
                    culprits.push(blame(Fault::InvalidValue));
                    continue;
                }
            }
            messages.insert(i, (msg, b));
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        for (i, (msg, b)) in &messages {
            let i = *i;
            if self.check_proofs(i, msg).is_none() {
                culprits.push(Culprit::with_message(i, round, Fault::InvalidProof, b.statement.clone()));
            }
        }
        if !culprits.is_empty() {
            return Err(ProtocolError::aborted(culprits));
        }
        // 5.6 Nobody caught yet: the next abort round, if any.
        let Some(next) = self.pending.pop_front() else {
            return Err(ProtocolError::Bug("a joint check of presigning failed but every abort proof verified"));
        };
        self.round += 1;
        Ok((self, Outbox { broadcast: Some(next), direct: vec![] }))
    }

    /// Steps 5.4 (first round: Π^dec) and 5.5 (Π^aff-g* towards `P_i`'s `r`-th other signer).
    /// `None` if a proof fails or a value it needs is missing.
    fn check_proofs(&self, i: PartyIndex, msg: &AbortBroadcast<C>) -> Option<()> {
        let ctx = &self.ctx;
        let (big_x, g, s) = points(ctx, self.check, &self.gammas, &self.values, i)?;
        let n_i = &ctx.aux.party(i)?.ek;
        let k_i = &self.commitments.get(&i)?.k;
        if let Some(proof) = &msg.dec {
            let pairs = ctx
                .signers
                .others(i)
                .map(|j| {
                    let d = self.mta.get(&(i, j))?.pair(self.check).0;
                    let f = self.mta.get(&(j, i))?.pair(self.check).1;
                    Some((d, f))
                })
                .collect::<Option<Vec<_>>>()?;
            let h = product(n_i, pairs.into_iter())?;
            let st = DecStatement::<C> { key: n_i, k: k_i, x: big_x, d: &h, s, g, num_parties: ctx.signers.len() };
            proof.verify(&dec_transcript(ctx, self.check, i), &st).ok()?;
        }
        let r = usize::from(self.round - FIRST);
        let j = ctx.signers.others(i).nth(r)?;
        let (d, f) = self.mta.get(&(j, i))?.pair(self.check);
        let st = AffGStarStatement::<C> {
            verifier_key: &ctx.aux.party(j)?.ek,
            prover_key: n_i,
            c: &self.commitments.get(&j)?.k,
            d,
            y: f,
            x: big_x,
        };
        msg.aff.verify(&aff_transcript(ctx, self.check, self.round, i, j), &st).ok()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    //! Completeness of the abort proofs: honest signers forced into the abort find every
    //! proof of the others valid (so nobody is blamed and the round ends in `Bug`), for both
    //! checks; and a republished message that is not what its sender signed is `InvalidValue`.
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use conclave_keygen::{dkg, AuxInfo, KeyShare, PartyAux};
    use conclave_math::codec::{Decode, Encode};
    use conclave_math::Secp256k1;
    use conclave_paillier::{generate_ring_pedersen, DecryptionKey, Integer};
    use conclave_protocol::sim::{Network, Simulation};
    use conclave_protocol::{
        Envelope, Fault, MessageKind, Outbox, PartyIndex, PartySet, Protocol, ProtocolError, Received, RoundId,
        RoundInput, Step,
    };
    use rand_core::RngCore;

    use super::super::msg::{AbortBroadcast, AbortCheck, Round3Broadcast};
    use super::super::round3::Next;
    use super::super::{first_round, Presign, PROTOCOL};
    use super::State;
    use crate::hd::DerivationPath;

    type C = Secp256k1;

    type Setup = (Network, BTreeMap<PartyIndex, KeyShare<C>>, BTreeMap<PartyIndex, Arc<AuxInfo>>);
    type AbortStates = (Network, BTreeMap<PartyIndex, (Box<State<C>>, Outbox)>);

    fn setup() -> Setup {
        let mut rng = conclave_testkit::rng(0xab5);
        let parties = PartySet::range(2).unwrap();
        let net = Network::new(&mut rng, parties.clone());
        let machines =
            net.parties.iter().map(|p| (p, dkg::start::<C>(net.config(p).unwrap(), 2, &mut rng).unwrap())).collect();
        let keys = Simulation::new(net.clone(), machines, rng.next_u64())
            .run()
            .results
            .into_iter()
            .map(|(p, r)| (p, r.unwrap()))
            .collect();
        let mut keys_aux = Vec::new();
        for (p, q) in conclave_testkit::safe_prime_pairs().into_iter().take(2) {
            let p = Integer::from_str_radix(&p, 16).unwrap();
            let q = Integer::from_str_radix(&q, 16).unwrap();
            let dk = DecryptionKey::from_safe_primes(p, q).unwrap();
            let (rp, _) = generate_ring_pedersen(&mut rng, &dk).unwrap();
            keys_aux.push((dk, rp));
        }
        let publics: BTreeMap<PartyIndex, PartyAux> = keys_aux
            .iter()
            .enumerate()
            .map(|(i, (dk, rp))| (PartyIndex(i as u16), PartyAux { ek: dk.encryption_key().clone(), rp: rp.clone() }))
            .collect();
        let aux = keys_aux
            .into_iter()
            .enumerate()
            .map(|(i, (dk, _))| {
                let me = PartyIndex(i as u16);
                (me, Arc::new(AuxInfo::new(me, dk, publics.clone()).unwrap()))
            })
            .collect();
        (net, keys, aux)
    }

    /// Every party's messages of `round`, signed, as each recipient's input.
    fn deliver(net: &Network, round: u16, outboxes: &BTreeMap<PartyIndex, Outbox>) -> BTreeMap<PartyIndex, RoundInput> {
        let mut inputs: BTreeMap<PartyIndex, RoundInput> =
            net.parties.iter().map(|q| (q, RoundInput::default())).collect();
        for (from, out) in outboxes {
            let key = net.identity_key(*from).unwrap();
            let sign = |kind, to, payload: &Vec<u8>| {
                let env = Envelope::sign(&key, *from, PROTOCOL, net.session, RoundId(round), kind, to, payload.clone());
                Received { statement: env.statement(*from), payload: payload.clone() }
            };
            for to in net.parties.others(*from) {
                if let Some(b) = &out.broadcast {
                    inputs.get_mut(&to).unwrap().broadcasts.insert(*from, sign(MessageKind::Broadcast, None, b));
                }
            }
            for (to, d) in &out.direct {
                inputs.get_mut(to).unwrap().directs.insert(*from, sign(MessageKind::Direct, Some(*to), d));
            }
        }
        inputs
    }

    /// Honest presigning up to round 3, then every signer forced into the abort for `check`.
    fn abort_states(check: AbortCheck, salt: u64) -> AbortStates {
        let (net, keys, aux) = setup();
        let mut rng = conclave_testkit::rng(salt);
        let mut states = BTreeMap::new();
        let mut outboxes = BTreeMap::new();
        for q in net.parties.iter() {
            let cfg = net.config(q).unwrap();
            let (s, o) =
                first_round(&cfg, &keys[&q], aux[&q].clone(), &DerivationPath::root(), None, &mut rng).unwrap();
            states.insert(q, s);
            outboxes.insert(q, o);
        }
        for round in 1..=2 {
            let mut inputs = deliver(&net, round, &outboxes);
            let mut next = BTreeMap::new();
            outboxes.clear();
            for (q, s) in states {
                match s.proceed(&mut rng, inputs.remove(&q).unwrap()).unwrap() {
                    Step::Next(s, o) => {
                        next.insert(q, s);
                        outboxes.insert(q, o);
                    }
                    Step::Done(_) => panic!("presigning ended early"),
                }
            }
            states = next;
        }
        let r3: BTreeMap<PartyIndex, Round3Broadcast<C>> = outboxes
            .iter()
            .map(|(q, o)| (*q, Round3Broadcast::from_bytes(o.broadcast.as_ref().unwrap()).unwrap()))
            .collect();
        let deltas: BTreeMap<_, _> = r3.iter().map(|(q, m)| (*q, m.delta)).collect();
        let big_s: BTreeMap<_, _> = r3.iter().map(|(q, m)| (*q, m.s)).collect();
        let out = states
            .into_iter()
            .map(|(q, s)| {
                let Presign::Round3(s) = s else { panic!("not in round 3") };
                match s.abort(check, deltas.clone(), big_s.clone(), &mut rng).unwrap() {
                    Next::Abort(s, o) => (q, (s, o)),
                    Next::Done(_) => panic!("no abort"),
                }
            })
            .collect();
        (net, out)
    }

    const ALL_VERIFIED: ProtocolError =
        ProtocolError::Bug("a joint check of presigning failed but every abort proof verified");

    #[test]
    fn honest_chi_abort_proofs_verify() {
        let (net, states) = abort_states(AbortCheck::Chi, 1);
        let outboxes: BTreeMap<_, _> =
            states.iter().map(|(q, (_, o))| (*q, Outbox { broadcast: o.broadcast.clone(), direct: vec![] })).collect();
        let mut inputs = deliver(&net, 4, &outboxes);
        for (q, (s, _)) in states {
            assert_eq!(s.info().id, RoundId(4));
            assert_eq!(s.proceed(inputs.remove(&q).unwrap()).unwrap_err(), ALL_VERIFIED, "party {q}");
        }
    }

    #[test]
    fn honest_delta_abort_proofs_verify_and_a_bad_republication_is_named() {
        let (net, states) = abort_states(AbortCheck::Delta, 2);
        let (p0, p1) = (PartyIndex(0), PartyIndex(1));
        let mut outboxes: BTreeMap<_, _> =
            states.iter().map(|(q, (_, o))| (*q, Outbox { broadcast: o.broadcast.clone(), direct: vec![] })).collect();
        // P0 receives P1's broadcast with its republished round-2 message changed.
        let honest = deliver(&net, 4, &outboxes);
        let b1 = outboxes.get_mut(&p1).unwrap().broadcast.as_mut().unwrap();
        let mut m = AbortBroadcast::<C>::from_bytes(b1).unwrap();
        let last = m.republished[0].payload.last_mut().unwrap();
        *last ^= 1;
        *b1 = m.to_bytes();
        let tampered = deliver(&net, 4, &outboxes);
        let mut states = states;
        let (s1, _) = states.remove(&p1).unwrap();
        assert_eq!(s1.proceed(honest.into_iter().find(|(q, _)| *q == p1).unwrap().1).unwrap_err(), ALL_VERIFIED);
        let (s0, _) = states.remove(&p0).unwrap();
        let e = s0.proceed(tampered.into_iter().find(|(q, _)| *q == p0).unwrap().1).unwrap_err();
        let culprits: Vec<_> = e.culprits().iter().map(|c| (c.party, c.round, c.fault)).collect();
        assert_eq!(culprits, vec![(p1, RoundId(4), Fault::InvalidValue)], "{e}");
    }
}
