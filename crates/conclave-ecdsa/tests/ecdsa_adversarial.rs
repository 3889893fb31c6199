//! A malicious signer attacks CGGMP24 presigning and signing field by field; every honest
//! signer that saw the bad message aborts and names exactly that signer with the right fault.
//!
//! Set-up: one 2-of-3 secp256k1 key and one set of auxiliary data (shared by every test through
//! `OnceLock`), all three parties sign, `P1` is malicious, `P0` and `P2` are honest. The
//! adversaries of `conclave_protocol::sim` re-sign what the liar changes, so each fault below
//! is one a signer can commit with its own, correctly authenticated messages.
//!
//! Who blames whom:
//!
//! * broadcasts (rounds 1 and 3 reliable, round 2 plain) and the signing round: every honest
//!   signer sees the same bad value and blames `P1` with the same fault;
//! * direct messages tampered towards everyone: each recipient blames `P1`;
//! * a direct message tampered towards `P2` only: `P2` blames `P1`, while `P0`, which saw
//!   nothing wrong, waits for `P2`'s next round and blames `P2` as silent (there is no
//!   complaint round; see [`round1_direct_tampered_towards_one_recipient`]);
//! * `δ_i` and `S_i` are covered by no proof of round 3, only by the joint checks `δ·G = ΣΔ_j`
//!   and `ΣS_j = δ·X`: the honest signers enter the identifiable-abort round 4. The liar's
//!   own machine (which holds its true values) saw the checks pass and stopped with a
//!   presignature, so the honest signers name it `Silent` in round 4; a liar that takes part
//!   in round 4 is convicted by its Π^dec (`tests/presign_abort.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use common::{aux_infos, keygen, signer_network};
use conclave_ecdsa::hd::DerivationPath;
use conclave_ecdsa::presign::{self, Presign, Round1Broadcast, Round1Direct, Round2Broadcast, Round2Direct};
use conclave_ecdsa::presign::{Presignature, Round3Broadcast};
use conclave_ecdsa::sign::{self, PartialSignature};
use conclave_ecdsa::{AuxInfo, EcdsaSignature, HashName, SignedData};
use conclave_keygen::KeyShare;
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Secp256k1};
use conclave_paillier::Integer;
use conclave_protocol::sim::adversary::{Silence, Tamper};
use conclave_protocol::sim::{InFlight, Interceptor, Network, SimOutcome, Simulation};
use conclave_protocol::{Evidence, Fault, Machine, MessageKind, PartyIndex, ProtocolError, RoundId, SessionId};
use conclave_testkit::{assert_blamed, assert_blamed_parties};
use group::Group;
use rand_core::RngCore;

type C = Secp256k1;
type Scalar = <C as Curve>::Scalar;
type Point = <C as Curve>::Point;

/// The malicious signer.
const BAD: u16 = 1;
/// The honest signers.
const HONEST: [u16; 2] = [0, 2];
/// Everyone signs with the 2-of-3 key.
const SIGNERS: [u16; 3] = [0, 1, 2];

fn p(i: u16) -> PartyIndex {
    PartyIndex(i)
}

type Fixture = (BTreeMap<PartyIndex, KeyShare<C>>, BTreeMap<PartyIndex, Arc<AuxInfo>>);

/// One key and one set of auxiliary data for the whole file.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| (keygen::<C>(2, 3, 0xad0), aux_infos(3)))
}

/// The malicious signer's Paillier modulus `N_1`.
fn bad_modulus() -> Integer {
    fixture().1[&p(BAD)].own().unwrap().ek.modulus().clone()
}

type PresignSim = Simulation<Machine<Presign<C>>>;

/// Runs presigning among all three signers with the adversary `adv` installed.
fn presign_run(salt: u64, adv: impl FnOnce(PresignSim) -> PresignSim) -> (Network, SimOutcome<Presignature<C>>) {
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
    let sim = Simulation::new(net.clone(), machines, rng.next_u64());
    (net, adv(sim).run())
}

type SignSim = Simulation<Machine<sign::Sign<C>>>;

fn message() -> SignedData {
    SignedData::Message { hash: HashName::Sha256, message: b"adversarial signing".to_vec() }
}

/// Honest presigning, then the signing round with the adversary `adv` installed.
fn sign_run(salt: u64, adv: impl FnOnce(SignSim) -> SignSim) -> SimOutcome<EcdsaSignature<C>> {
    let (net, out) = presign_run(salt, |s| s);
    let mut rng = conclave_testkit::rng(salt + 1);
    let net = net.in_session(SessionId::random(&mut rng));
    let machines: BTreeMap<_, _> = out
        .results
        .into_iter()
        .map(|(q, r)| {
            let ps = r.unwrap_or_else(|e| panic!("honest presigning failed at {q}: {e}"));
            (q, sign::start::<C>(net.config(q).unwrap(), ps, &message(), &mut rng).unwrap())
        })
        .collect();
    adv(Simulation::new(net, machines, rng.next_u64())).run()
}

/// Every party in `honest` blamed exactly `BAD` for `fault`, and in `round`.
fn assert_bad<O: core::fmt::Debug>(
    results: &BTreeMap<PartyIndex, Result<O, ProtocolError>>,
    honest: &[u16],
    round: u16,
    fault: Fault,
) {
    assert_blamed(results, honest, &[(BAD, fault)]);
    for h in honest {
        let e = results[&p(*h)].as_ref().unwrap_err();
        for c in e.culprits() {
            assert_eq!(c.round, RoundId(round), "party {h} blamed {c} in the wrong round");
        }
    }
}

/// A payload change that decodes the message as `M`, edits it, and encodes it again.
fn edit<M: Encode + Decode + 'static>(f: impl Fn(&mut M) + 'static) -> impl FnMut(&[u8]) -> Vec<u8> {
    move |bytes| {
        let mut m = M::from_bytes(bytes).unwrap();
        f(&mut m);
        m.to_bytes()
    }
}

/// The malicious signer changes its message of `kind` in presigning round `round` to every
/// recipient; both honest signers must blame it with `fault`.
fn presign_tamper(salt: u64, round: u16, kind: MessageKind, f: impl FnMut(&[u8]) -> Vec<u8> + 'static, fault: Fault) {
    let (_, out) = presign_run(salt, |s| s.intercept(Tamper::new(p(BAD), round, kind, f)));
    assert_bad(&out.results, &HONEST, round, fault);
}

fn g() -> Point {
    C::generator()
}

// ---------------------------------------------------------------------------------------------
// Round 1 broadcast: K, G, Y, A, B (reliable). A change to a value the Π^enc-elg statement
// covers fails the proof (the culprit's evidence is its signed direct message); a ciphertext
// outside Z*_{N²} is InvalidValue; bytes that do not decode are Malformed.

#[test]
fn round1_k() {
    presign_tamper(101, 1, MessageKind::Broadcast, edit::<Round1Broadcast<C>>(|m| m.k += 1), Fault::InvalidProof);
    // K = N_1: not a unit mod N_1² (gcd(K, N_1) = N_1).
    let n = bad_modulus();
    presign_tamper(
        102,
        1,
        MessageKind::Broadcast,
        edit::<Round1Broadcast<C>>(move |m| m.k = n.clone()),
        Fault::InvalidValue,
    );
}

#[test]
fn round1_g() {
    presign_tamper(103, 1, MessageKind::Broadcast, edit::<Round1Broadcast<C>>(|m| m.g += 1), Fault::InvalidProof);
    // G = N_1²: outside (0, N_1²).
    let nn = bad_modulus().square();
    presign_tamper(
        104,
        1,
        MessageKind::Broadcast,
        edit::<Round1Broadcast<C>>(move |m| m.g = nn.clone()),
        Fault::InvalidValue,
    );
}

#[test]
fn round1_y() {
    presign_tamper(106, 1, MessageKind::Broadcast, edit::<Round1Broadcast<C>>(|m| m.y += g()), Fault::InvalidProof);
    // The identity point does not decode (SECURITY.md item 14).
    presign_tamper(
        107,
        1,
        MessageKind::Broadcast,
        edit::<Round1Broadcast<C>>(|m| m.y = <Point as Group>::identity()),
        Fault::Malformed,
    );
}

#[test]
fn round1_a() {
    presign_tamper(108, 1, MessageKind::Broadcast, edit::<Round1Broadcast<C>>(|m| m.a.0 += g()), Fault::InvalidProof);
    presign_tamper(109, 1, MessageKind::Broadcast, edit::<Round1Broadcast<C>>(|m| m.a.1 += g()), Fault::InvalidProof);
}

#[test]
fn round1_b() {
    presign_tamper(110, 1, MessageKind::Broadcast, edit::<Round1Broadcast<C>>(|m| m.b.0 += g()), Fault::InvalidProof);
    presign_tamper(111, 1, MessageKind::Broadcast, edit::<Round1Broadcast<C>>(|m| m.b.1 += g()), Fault::InvalidProof);
}

#[test]
fn round1_broadcast_malformed() {
    presign_tamper(112, 1, MessageKind::Broadcast, |b| b[..b.len() - 1].to_vec(), Fault::Malformed);
}

// Round 1 direct: the two Π^enc-elg proofs.

#[test]
fn round1_proof_for_k() {
    presign_tamper(114, 1, MessageKind::Direct, edit::<Round1Direct<C>>(|m| m.psi_k.z1 += 1), Fault::InvalidProof);
}

#[test]
fn round1_proof_for_gamma() {
    presign_tamper(
        116,
        1,
        MessageKind::Direct,
        edit::<Round1Direct<C>>(|m| m.psi_g.w += Scalar::ONE),
        Fault::InvalidProof,
    );
}

#[test]
fn round1_direct_malformed() {
    presign_tamper(118, 1, MessageKind::Direct, |_| vec![1, 2, 3], Fault::Malformed);
}

#[test]
fn round1_direct_tampered_towards_one_recipient() {
    // Only P2 receives a bad proof. P2 blames P1 and sends every party an abort notice; P0 saw
    // valid messages, moves to round 2, and instead of waiting for P2 (and then blaming the
    // honest P2 as silent) stops with P2's report: P1, invalid proof in round 1.
    let (_, out) = presign_run(119, |s| {
        s.intercept(
            Tamper::new(p(BAD), 1, MessageKind::Direct, edit::<Round1Direct<C>>(|m| m.psi_k.z1 += 1))
                .only_to(vec![p(2)]),
        )
    });
    assert_bad(&out.results, &[2], 1, Fault::InvalidProof);
    match out.results[&p(0)].as_ref().unwrap_err() {
        ProtocolError::AbortedByPeer { reporter, reported, .. } => {
            assert_eq!(*reporter, p(2));
            assert_eq!(reported.len(), 1);
            assert_eq!(
                (reported[0].party, reported[0].fault, reported[0].round),
                (p(BAD), Fault::InvalidProof, RoundId(1))
            );
        }
        e => panic!("P0 should report P2's abort, got {e}"),
    }
}

#[test]
fn round1_equivocation() {
    // P1 shows P2 another round-1 broadcast than P0. The echo round catches it at both
    // honest parties, with evidence anyone holding P1's identity key can check.
    let (net, out) = presign_run(120, |s| {
        s.intercept(
            Tamper::new(p(BAD), 1, MessageKind::Broadcast, edit::<Round1Broadcast<C>>(|m| m.y += g()))
                .only_to(vec![p(2)]),
        )
    });
    assert_bad(&out.results, &HONEST, 1, Fault::Equivocation);
    assert_equivocation_evidence(&net, &out.results);
}

fn assert_equivocation_evidence<O: core::fmt::Debug>(
    net: &Network,
    results: &BTreeMap<PartyIndex, Result<O, ProtocolError>>,
) {
    let key = &net.public_keys[&p(BAD)];
    for h in HONEST {
        for c in results[&p(h)].as_ref().unwrap_err().culprits() {
            assert!(matches!(c.evidence, Evidence::Equivocation { .. }), "party {h}: {c}");
            assert!(c.evidence.proves_equivocation(p(BAD), key), "party {h}: evidence does not verify");
        }
    }
}

#[test]
fn round1_silent() {
    let (_, out) = presign_run(121, |s| s.intercept(Silence { party: p(BAD), from_round: 1 }));
    assert_bad(&out.results, &HONEST, 1, Fault::Silent);
}

/// Drops every echo message of one party (it sends its broadcast, then goes quiet).
#[derive(Debug)]
struct WithholdEcho(PartyIndex);

impl Interceptor for WithholdEcho {
    fn intercept(&mut self, _net: &Network, msg: InFlight) -> Vec<InFlight> {
        let echo = msg.from == self.0 && msg.envelope().is_some_and(|e| e.kind == MessageKind::Echo);
        if echo {
            vec![]
        } else {
            vec![msg]
        }
    }
}

#[test]
fn round1_echo_withheld() {
    let (_, out) = presign_run(122, |s| s.intercept(WithholdEcho(p(BAD))));
    assert_bad(&out.results, &HONEST, 1, Fault::Silent);
}

// ---------------------------------------------------------------------------------------------
// Round 2 broadcast: Γ_i and its Π^elog (plain delivery, bound to the echoed B_i).

#[test]
fn round2_gamma() {
    presign_tamper(201, 2, MessageKind::Broadcast, edit::<Round2Broadcast<C>>(|m| m.gamma += g()), Fault::InvalidProof);
}

#[test]
fn round2_gamma_proof() {
    presign_tamper(
        202,
        2,
        MessageKind::Broadcast,
        edit::<Round2Broadcast<C>>(|m| m.psi.z += Scalar::ONE),
        Fault::InvalidProof,
    );
}

#[test]
fn round2_broadcast_malformed() {
    presign_tamper(204, 2, MessageKind::Broadcast, |b| b[..b.len() - 2].to_vec(), Fault::Malformed);
}

// Round 2 direct: D, F, D̂, F̂ and the two Π^aff-g. A changed ciphertext that is still a unit
// fails its Π^aff-g; one outside Z*_{N²} of its key is InvalidValue.

#[test]
fn round2_d() {
    presign_tamper(205, 2, MessageKind::Direct, edit::<Round2Direct<C>>(|m| m.d += 1), Fault::InvalidProof);
    // D is encrypted under the recipient's key; 0 is outside (0, N²) for every key.
    presign_tamper(206, 2, MessageKind::Direct, edit::<Round2Direct<C>>(|m| m.d = Integer::new()), Fault::InvalidValue);
}

#[test]
fn round2_f() {
    presign_tamper(207, 2, MessageKind::Direct, edit::<Round2Direct<C>>(|m| m.f += 1), Fault::InvalidProof);
    // F is encrypted under the sender's key N_1: F = 2·N_1 is not a unit.
    let two_n = bad_modulus() * 2u32;
    presign_tamper(
        208,
        2,
        MessageKind::Direct,
        edit::<Round2Direct<C>>(move |m| m.f = two_n.clone()),
        Fault::InvalidValue,
    );
}

#[test]
fn round2_d_hat() {
    presign_tamper(209, 2, MessageKind::Direct, edit::<Round2Direct<C>>(|m| m.d_hat += 1), Fault::InvalidProof);
    // Above every 3072-bit modulus squared, below the wire limit.
    presign_tamper(
        210,
        2,
        MessageKind::Direct,
        edit::<Round2Direct<C>>(|m| m.d_hat = Integer::from(1) << 6200u32),
        Fault::InvalidValue,
    );
}

#[test]
fn round2_f_hat() {
    presign_tamper(211, 2, MessageKind::Direct, edit::<Round2Direct<C>>(|m| m.f_hat += 1), Fault::InvalidProof);
    let n = bad_modulus();
    presign_tamper(
        212,
        2,
        MessageKind::Direct,
        edit::<Round2Direct<C>>(move |m| m.f_hat = n.clone()),
        Fault::InvalidValue,
    );
}

#[test]
fn round2_aff_g_proof_for_gamma() {
    presign_tamper(213, 2, MessageKind::Direct, edit::<Round2Direct<C>>(|m| m.psi.z1 += 1), Fault::InvalidProof);
}

#[test]
fn round2_aff_g_proof_for_x() {
    presign_tamper(215, 2, MessageKind::Direct, edit::<Round2Direct<C>>(|m| m.psi_hat.w_y += 1), Fault::InvalidProof);
}

#[test]
fn round2_direct_malformed() {
    presign_tamper(217, 2, MessageKind::Direct, |b| b[..b.len() / 2].to_vec(), Fault::Malformed);
}

#[test]
fn round2_silent() {
    let (_, out) = presign_run(218, |s| s.intercept(Silence { party: p(BAD), from_round: 2 }));
    assert_bad(&out.results, &HONEST, 2, Fault::Silent);
}

// ---------------------------------------------------------------------------------------------
// Round 3 broadcast: δ_i, Δ_i, S_i and Π^elog (reliable).

#[test]
#[ignore = "slow with three signers (about 2 minutes each); the same attacks run with two signers in presign_abort.rs, which CI runs"]
fn round3_delta_is_named_in_the_abort_round() {
    // δ_i is covered by no proof: the joint check δ·G = ΣΔ_j fails and the honest signers run
    // the identifiable abort; the liar, which stopped after round 3, is named there.
    let (_, out) = presign_run(301, |s| {
        s.intercept(Tamper::new(
            p(BAD),
            3,
            MessageKind::Broadcast,
            edit::<Round3Broadcast<C>>(|m| m.delta += Scalar::ONE),
        ))
    });
    assert_bad(&out.results, &HONEST, 4, Fault::Silent);
}

#[test]
#[ignore = "slow with three signers (about 2 minutes each); the same attacks run with two signers in presign_abort.rs, which CI runs"]
fn round3_s_is_named_in_the_abort_round() {
    // S_i is covered by no proof: the joint check ΣS_j = δ·X fails and the honest signers run
    // the identifiable abort; the liar, which stopped after round 3, is named there.
    let (_, out) = presign_run(302, |s| {
        s.intercept(Tamper::new(p(BAD), 3, MessageKind::Broadcast, edit::<Round3Broadcast<C>>(|m| m.s += g())))
    });
    assert_bad(&out.results, &HONEST, 4, Fault::Silent);
}

#[test]
fn round3_big_delta() {
    presign_tamper(
        303,
        3,
        MessageKind::Broadcast,
        edit::<Round3Broadcast<C>>(|m| m.big_delta += g()),
        Fault::InvalidProof,
    );
}

#[test]
fn round3_proof() {
    presign_tamper(
        304,
        3,
        MessageKind::Broadcast,
        edit::<Round3Broadcast<C>>(|m| m.psi.u += Scalar::ONE),
        Fault::InvalidProof,
    );
}

#[test]
fn round3_malformed() {
    presign_tamper(305, 3, MessageKind::Broadcast, |b| [b, &[7u8][..]].concat(), Fault::Malformed);
}

#[test]
fn round3_equivocation() {
    let (net, out) = presign_run(306, |s| {
        s.intercept(
            Tamper::new(p(BAD), 3, MessageKind::Broadcast, edit::<Round3Broadcast<C>>(|m| m.delta += Scalar::ONE))
                .only_to(vec![p(0)]),
        )
    });
    assert_bad(&out.results, &HONEST, 3, Fault::Equivocation);
    assert_equivocation_evidence(&net, &out.results);
}

#[test]
fn round3_silent() {
    let (_, out) = presign_run(307, |s| s.intercept(Silence { party: p(BAD), from_round: 3 }));
    assert_bad(&out.results, &HONEST, 3, Fault::Silent);
}

// ---------------------------------------------------------------------------------------------
// Signing: σ_i, checked against σ_j·Γ = m·Δ_j + r·S_j.

#[test]
fn sign_sigma() {
    let out = sign_run(401, |s| {
        s.intercept(Tamper::new(
            p(BAD),
            1,
            MessageKind::Broadcast,
            edit::<PartialSignature<C>>(|m| m.sigma += Scalar::ONE),
        ))
    });
    assert_bad(&out.results, &HONEST, 1, Fault::InvalidPartialSignature);
}

#[test]
fn sign_sigma_malformed() {
    // 32 bytes of 0xff: not a canonical scalar (≥ q).
    let out = sign_run(402, |s| s.intercept(Tamper::new(p(BAD), 1, MessageKind::Broadcast, |_| vec![0xff; 32])));
    assert_bad(&out.results, &HONEST, 1, Fault::Malformed);
}

#[test]
fn sign_silent() {
    let out = sign_run(403, |s| s.intercept(Silence { party: p(BAD), from_round: 1 }));
    assert_bad(&out.results, &HONEST, 1, Fault::Silent);
}

#[test]
fn interactive_sign_sigma() {
    // Interactive signing: rounds 1–3 presign, round 4 signs.
    let (keys, aux) = fixture();
    let (net, mut rng) = signer_network(&SIGNERS, 404);
    let data = message();
    let machines: BTreeMap<_, _> = net
        .parties
        .iter()
        .map(|q| {
            let m = sign::start_interactive::<C>(
                net.config(q).unwrap(),
                &keys[&q],
                aux[&q].clone(),
                &DerivationPath::root(),
                data.clone(),
                &mut rng,
            )
            .unwrap();
            (q, m)
        })
        .collect();
    let out = Simulation::new(net, machines, rng.next_u64())
        .intercept(Tamper::new(p(BAD), 4, MessageKind::Broadcast, edit::<PartialSignature<C>>(|m| m.sigma = -m.sigma)))
        .run();
    assert_bad(&out.results, &HONEST, 4, Fault::InvalidPartialSignature);
    assert_blamed_parties(&out.results, &HONEST, &[BAD], Fault::InvalidPartialSignature);
}
