//! Cells of the adversarial matrix (`docs/adversarial-matrix.md`) for CGGMP24 presigning and
//! signing that `ecdsa_adversarial.rs` does not cover: every message dropped, duplicated,
//! replayed from another session and delayed past the deadline names its sender; shuffled
//! delivery changes nothing; a round-2 broadcast (plain) and a partial signature (plain)
//! equivocated are named by the signers that got the bad copy.
//!
//! Presigning runs with two signers of a 2-of-3 key (three where equivocation needs two
//! recipients); signing restores the presignatures from their records for each run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use common::{aux_infos, keygen, signer_network};
use conclave_ecdsa::hd::DerivationPath;
use conclave_ecdsa::presign::{self, Presign, Presignature, Round2Broadcast};
use conclave_ecdsa::sign::{self, PartialSignature, Sign};
use conclave_ecdsa::{AuxInfo, HashName, SignedData};
use conclave_keygen::KeyShare;
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Secp256k1};
use conclave_protocol::sim::adversary::Tamper;
use conclave_protocol::sim::{InFlight, Network};
use conclave_protocol::{Fault, Machine, MessageKind, PartyIndex, ProtocolError, SessionId};
use conclave_testkit::driver::{drive, start_rng, DriverOptions};
use conclave_testkit::matrix::{self, assert_all_ok, assert_named_or_done, Msg};
use conclave_testkit::{assert_blamed, assert_blamed_parties};
use ff::Field;
use zeroize::Zeroizing;

type C = Secp256k1;
const BAD: u16 = 1;

type Fixture = (BTreeMap<PartyIndex, KeyShare<C>>, BTreeMap<PartyIndex, Arc<AuxInfo>>);

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| (keygen::<C>(2, 3, 0xad1), aux_infos(3)))
}

fn start_presign(net: &Network, q: PartyIndex) -> Machine<Presign<C>> {
    let (keys, aux) = fixture();
    presign::start::<C>(
        net.config(q).unwrap(),
        &keys[&q],
        aux[&q].clone(),
        &DerivationPath::root(),
        &mut start_rng(17, q),
    )
    .unwrap()
}

fn pnet(signers: &[u16], salt: u64) -> Network {
    signer_network(signers, salt).0
}

/// Every presigning message of BAD: round 1 broadcast, its echo and direct proofs; round 2
/// broadcast and direct MtA messages; round 3 broadcast and its echo.
fn presign_messages() -> [Msg; 7] {
    use MessageKind::*;
    [(1, Broadcast), (1, Echo), (1, Direct), (2, Broadcast), (2, Direct), (3, Broadcast), (3, Echo)]
        .map(|(r, k)| Msg::new(BAD, r, k))
}

fn presign_honest_run() -> &'static (Network, Vec<InFlight>) {
    static R: OnceLock<(Network, Vec<InFlight>)> = OnceLock::new();
    R.get_or_init(|| {
        let net = pnet(&[0, 1], 30);
        let out = matrix::run(&net, &start_presign, DriverOptions { seed: 3, ..DriverOptions::default() });
        assert_all_ok(&out);
        (net, out.delivered)
    })
}

#[test]
fn presign_dropped_messages_are_named_silent() {
    for (k, m) in presign_messages().into_iter().enumerate() {
        let out = matrix::dropped(&pnet(&[0, 1], 10 + k as u64), &start_presign, m, 1);
        assert_blamed(&out.results, &[0], &[(BAD, Fault::Silent)]);
    }
}

#[test]
fn presign_duplicated_messages_are_named() {
    for (k, m) in presign_messages().into_iter().enumerate() {
        let out = matrix::duplicated(&pnet(&[0, 1], 20 + k as u64), &start_presign, m, 2);
        if m.round < 3 {
            assert_blamed(&out.results, &[0], &[(BAD, Fault::Duplicate)]);
        } else {
            // A copy of a round-3 message after party 0 has its presignature changes nothing.
            let r = &out.results[&PartyIndex(0)];
            assert!(
                r.is_ok()
                    || r.as_ref()
                        .unwrap_err()
                        .culprits()
                        .iter()
                        .all(|c| c.party.0 == BAD && c.fault == Fault::Duplicate)
            );
        }
    }
}

#[test]
fn presign_replayed_messages_are_named() {
    let (net, delivered) = presign_honest_run();
    for m in presign_messages() {
        let out = matrix::replayed_from(net, &start_presign, m, 3, delivered);
        assert_blamed_parties(&out.results, &[0], &[BAD], Fault::WrongSession);
    }
}

#[test]
fn presign_delayed_messages_are_named_silent() {
    for (k, m) in presign_messages().into_iter().enumerate() {
        let out = matrix::delayed(&pnet(&[0, 1], 40 + k as u64), &start_presign, m, 4);
        assert_blamed(&out.results, &[0], &[(BAD, Fault::Silent)]);
    }
}

#[test]
fn presign_reordered_delivery_succeeds() {
    let out = matrix::shuffled(&pnet(&[0, 1], 50), &start_presign, 5);
    assert_all_ok(&out);
}

#[test]
fn presign_round2_broadcast_equivocation_is_named() {
    // Round 2 is a plain broadcast bound to the echoed B_i: P2 gets another Γ_1, whose Π^elog
    // fails; P0 got the real one and, instead of blaming P2 as silent, reports P2's abort.
    let net = pnet(&[0, 1, 2], 60);
    let change = |b: &[u8]| {
        let mut m = Round2Broadcast::<C>::from_bytes(b).unwrap();
        m.gamma += C::generator();
        m.to_bytes()
    };
    let opts = DriverOptions {
        seed: 6,
        interceptors: vec![Box::new(
            Tamper::new(PartyIndex(BAD), 2, MessageKind::Broadcast, change).only_to(vec![PartyIndex(2)]),
        )],
        ..DriverOptions::default()
    };
    let out = matrix::run(&net, &start_presign, opts);
    assert_blamed(&out.results, &[2], &[(BAD, Fault::InvalidProof)]);
    match out.results[&PartyIndex(0)].as_ref().unwrap_err() {
        ProtocolError::AbortedByPeer { reporter, reported, .. } => {
            assert_eq!(*reporter, PartyIndex(2));
            assert!(reported.iter().all(|c| c.party.0 == BAD && c.fault == Fault::InvalidProof));
        }
        e => panic!("P0 should report P2's abort, got {e}"),
    }
}

// ---- signing with a presignature ----

fn data() -> SignedData {
    SignedData::Message { hash: HashName::Sha256, message: b"matrix".to_vec() }
}

/// Three signers' presignatures (as records) and the network they were made on.
type Records = (Network, BTreeMap<PartyIndex, Zeroizing<Vec<u8>>>);

fn presignatures() -> &'static Records {
    static P: OnceLock<Records> = OnceLock::new();
    P.get_or_init(|| {
        let net = pnet(&[0, 1, 2], 70);
        let machines = net.parties.iter().map(|q| (q, start_presign(&net, q))).collect();
        let out = drive(&net, machines, DriverOptions { seed: 7, ..DriverOptions::default() });
        let records = out.results.into_iter().map(|(q, r)| (q, r.unwrap().into_record())).collect();
        (net, records)
    })
}

fn snet(salt: u64) -> Network {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&salt.to_be_bytes());
    presignatures().0.in_session(SessionId(s))
}

fn start_sign(net: &Network, q: PartyIndex) -> Machine<Sign<C>> {
    let ps = Presignature::<C>::from_record(&presignatures().1[&q]).unwrap();
    sign::start::<C>(net.config(q).unwrap(), ps, &data(), &mut start_rng(19, q)).unwrap()
}

const SIGN_HONEST: [u16; 2] = [0, 2];

#[test]
fn sign_whole_message_faults_are_named() {
    let m = Msg::new(BAD, 1, MessageKind::Broadcast);
    let out = matrix::dropped(&snet(1), &start_sign, m, 1);
    assert_blamed(&out.results, &SIGN_HONEST, &[(BAD, Fault::Silent)]);
    let out = matrix::delayed(&snet(2), &start_sign, m, 2);
    assert_blamed(&out.results, &SIGN_HONEST, &[(BAD, Fault::Silent)]);
    let out = matrix::replayed(&snet(3), &start_sign, m, 3);
    assert_blamed_parties(&out.results, &SIGN_HONEST, &[BAD], Fault::WrongSession);
    // The partial signature is BAD's only message: a copy reaching a signer that already
    // released the signature changes nothing; one reaching a signer still waiting is named.
    let out = matrix::duplicated(&snet(4), &start_sign, m, 4);
    let named = SIGN_HONEST.iter().filter(|h| out.results[&PartyIndex(**h)].is_err()).count();
    if named > 0 {
        assert_named_or_done(&out.results, &SIGN_HONEST, BAD, Fault::Duplicate);
    }
}

#[test]
fn sign_reordered_delivery_gives_the_same_signature() {
    for seed in 0..3 {
        let out = matrix::shuffled(&snet(10 + seed), &start_sign, seed);
        assert_all_ok(&out);
        let sigs: Vec<_> = out.results.values().map(|r| r.as_ref().unwrap().signature).collect();
        assert!(sigs.windows(2).all(|w| w[0] == w[1]));
    }
}

#[test]
fn sign_equivocated_partial_signature_is_named_by_its_recipient() {
    let bump = |b: &[u8]| {
        let mut s = PartialSignature::<C>::from_bytes(b).unwrap();
        s.sigma += <<C as Curve>::Scalar as Field>::ONE;
        s.to_bytes()
    };
    let opts = DriverOptions {
        seed: 5,
        interceptors: vec![Box::new(
            Tamper::new(PartyIndex(BAD), 1, MessageKind::Broadcast, bump).only_to(vec![PartyIndex(2)]),
        )],
        ..DriverOptions::default()
    };
    let out = matrix::run(&snet(20), &start_sign, opts);
    assert_blamed(&out.results, &[2], &[(BAD, Fault::InvalidPartialSignature)]);
    // P0 checked the real σ_1 against the presignature's commitments: its signature is valid.
    let sig = out.results[&PartyIndex(0)].as_ref().unwrap();
    assert!(sig.signature.verify(&sig.public_key, &data().digest()));
}
