//! The identifiable abort of presigning (`docs/spec/ecdsa.md` steps 5.1–5.6): a signer whose
//! `δ_i` or `S_i` breaks a joint check of round 3 is named by every honest signer.
//!
//! Two signers (`P0` honest, `P1` malicious) of a 2-of-2 secp256k1 key: each Π^aff-g* proof
//! costs ≈ 10 s here, and with two signers every signer proves one Π^aff-g* and one Π^dec.
//!
//! The liar's broadcast is changed by `Tamper`, which re-signs it and patches the liar's echo.
//! The liar's own machine still holds its true values, so on its own it would see the joint
//! check pass, stop with a presignature and leave `P0` to time out on it in the abort round
//! (`Fault::Silent`, see [`a_liar_that_stops_is_named_silent`]). A liar that keeps running
//! takes part in the abort round; to play one, [`ShowLiar`] also changes what the liar's machine
//! receives from `P0` (its own inbox: nobody else sees it), so that the liar's machine fails the
//! check too and sends its abort proofs, which then convict it (`Fault::InvalidProof`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use common::{aux_infos, keygen, signer_network};
use conclave_ecdsa::hd::DerivationPath;
use conclave_ecdsa::presign::{self, AbortBroadcast, AbortCheck, Presign, Presignature, Round3Broadcast};
use conclave_ecdsa::AuxInfo;
use conclave_keygen::KeyShare;
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Secp256k1};
use conclave_protocol::machine::EchoPayload;
use conclave_protocol::sim::adversary::Tamper;
use conclave_protocol::sim::{resign_payload, InFlight, Interceptor, Network, SimOutcome, Simulation};
use conclave_protocol::{Evidence, Fault, Machine, MessageKind, PartyIndex, ProtocolError, RoundId};
use rand_core::RngCore;

type C = Secp256k1;
type Scalar = <C as Curve>::Scalar;

const HONEST: u16 = 0;
const BAD: u16 = 1;
const SIGNERS: [u16; 2] = [0, 1];

fn p(i: u16) -> PartyIndex {
    PartyIndex(i)
}

type Fixture = (BTreeMap<PartyIndex, KeyShare<C>>, BTreeMap<PartyIndex, Arc<AuxInfo>>);

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| (keygen::<C>(2, 2, 0xab0), aux_infos(2)))
}

type PresignSim = Simulation<Machine<Presign<C>>>;

fn presign_run(salt: u64, adv: impl FnOnce(PresignSim) -> PresignSim) -> SimOutcome<Presignature<C>> {
    let (keys, aux) = fixture();
    let (net, mut rng) = signer_network(&SIGNERS, salt);
    let machines: BTreeMap<_, _> = net
        .parties
        .iter()
        .map(|q| {
            let m = presign::start::<C>(
                net.config(q).unwrap(),
                &keys[&q],
                aux[&q].clone(),
                &DerivationPath::root(),
                &mut rng,
            )
            .unwrap();
            (q, m)
        })
        .collect();
    adv(Simulation::new(net, machines, rng.next_u64())).run()
}

type Edit = Box<dyn FnMut(&[u8]) -> Vec<u8>>;

fn edit_round3(f: impl Fn(&mut Round3Broadcast<C>) + 'static) -> Edit {
    Box::new(move |bytes| {
        let mut m = Round3Broadcast::<C>::from_bytes(bytes).unwrap();
        f(&mut m);
        m.to_bytes()
    })
}

/// Changes `P0`'s round-3 broadcast as the liar's machine receives it (re-signed with `P0`'s
/// key, which the simulator holds) and `P0`'s echo to the liar to match: the liar's machine then
/// sees a joint check fail, as a liar that keeps running would act on. Nothing `P0` receives
/// changes.
struct ShowLiar {
    f: Edit,
    shown: Option<([u8; 32], [u8; 64])>,
}

impl Interceptor for ShowLiar {
    fn intercept(&mut self, net: &Network, msg: InFlight) -> Vec<InFlight> {
        if msg.to != p(BAD) {
            return vec![msg];
        }
        if msg.is(p(HONEST), 3, MessageKind::Broadcast) {
            let changed = resign_payload(net, &msg, &mut self.f);
            self.shown = changed.envelope().map(|e| (e.statement(p(HONEST)).digest, e.signature));
            return vec![changed];
        }
        if let Some((digest, signature)) = self.shown {
            if msg.is(p(HONEST), 3, MessageKind::Echo) {
                let mut patch = |bytes: &[u8]| {
                    let mut echo = EchoPayload::from_bytes(bytes).unwrap();
                    for e in echo.entries.iter_mut().filter(|e| e.party == p(HONEST)) {
                        e.digest = digest;
                        e.signature = signature;
                    }
                    echo.to_bytes()
                };
                return vec![resign_payload(net, &msg, &mut patch)];
            }
        }
        vec![msg]
    }
}

/// The rounds of every envelope delivered.
fn rounds(out: &SimOutcome<Presignature<C>>) -> Vec<u16> {
    let mut r: Vec<u16> = out.delivered.iter().filter_map(|m| m.envelope()).map(|e| e.round.0).collect();
    r.sort();
    r.dedup();
    r
}

/// `P0` blamed exactly `P1` for `fault` in round 4, with `P1`'s signed round-4 broadcast (of the
/// `check` abort) as evidence when `P1` sent one.
fn assert_named(out: &SimOutcome<Presignature<C>>, fault: Fault, check: Option<AbortCheck>) {
    let e = out.results[&p(HONEST)].as_ref().unwrap_err();
    let ProtocolError::Aborted { culprits } = e else { panic!("P0: expected an abort naming P1, got {e}") };
    assert_eq!(culprits.len(), 1, "P0 blamed {e}");
    let c = &culprits[0];
    assert_eq!((c.party, c.round, c.fault), (p(BAD), RoundId(4), fault), "P0 blamed {e}");
    if let Some(check) = check {
        let Evidence::Message(st) = &c.evidence else { panic!("no message evidence: {c:?}") };
        assert_eq!((st.sender, st.round, st.kind), (p(BAD), RoundId(4), MessageKind::Broadcast));
        // The evidence is the liar's abort broadcast, for the check that failed.
        let sent = out
            .delivered
            .iter()
            .filter(|m| m.from == p(BAD) && m.to == p(HONEST))
            .filter_map(|m| m.envelope())
            .find(|e| e.round == RoundId(4) && e.kind == MessageKind::Broadcast)
            .expect("P1's round-4 broadcast");
        assert!(st.matches_payload(&sent.payload));
        let msg = AbortBroadcast::<C>::from_bytes(&sent.payload).unwrap();
        assert_eq!(msg.check, check);
        assert_eq!(msg.republished.len(), 1);
        assert!(msg.dec.is_some());
    }
}

#[test]
fn honest_run_has_no_abort_round() {
    let out = presign_run(0xab1, |s| s);
    for q in SIGNERS {
        assert!(out.results[&p(q)].is_ok(), "P{q}: {:?}", out.results[&p(q)]);
    }
    assert_eq!(rounds(&out), vec![1, 2, 3]);
}

#[test]
fn a_wrong_delta_is_named_by_its_proof() {
    let out = presign_run(0xab2, |s| {
        s.intercept(Tamper::new(p(BAD), 3, MessageKind::Broadcast, edit_round3(|m| m.delta += Scalar::ONE)))
            .intercept(ShowLiar { f: edit_round3(|m| m.delta += Scalar::ONE), shown: None })
    });
    assert_eq!(rounds(&out), vec![1, 2, 3, 4]);
    assert_named(&out, Fault::InvalidProof, Some(AbortCheck::Delta));
}

#[test]
fn a_wrong_s_is_named_by_its_proof() {
    let g = <C as Curve>::generator();
    let out = presign_run(0xab3, |s| {
        s.intercept(Tamper::new(p(BAD), 3, MessageKind::Broadcast, edit_round3(move |m| m.s += g)))
            .intercept(ShowLiar { f: edit_round3(move |m| m.s += g), shown: None })
    });
    assert_eq!(rounds(&out), vec![1, 2, 3, 4]);
    assert_named(&out, Fault::InvalidProof, Some(AbortCheck::Chi));
}

#[test]
fn a_liar_that_stops_is_named_silent() {
    // The liar's machine sees its true δ_1, finishes with a presignature and sends nothing in
    // round 4; P0 runs the abort round alone and names it when the round times out.
    let out = presign_run(0xab4, |s| {
        s.intercept(Tamper::new(p(BAD), 3, MessageKind::Broadcast, edit_round3(|m| m.delta += Scalar::ONE)))
    });
    assert!(out.results[&p(BAD)].is_ok());
    assert_named(&out, Fault::Silent, None);
}
