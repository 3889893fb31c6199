//! Cells of the adversarial matrix (`docs/adversarial-matrix.md`) for the aux-info protocol
//! that `aux_info.rs` does not cover: every message dropped, duplicated, replayed from another
//! session and delayed past the deadline names its sender; shuffled delivery changes nothing;
//! an equivocated round-1 commitment is proven by the echo round.
//!
//! Two parties (three for equivocation) keep it affordable: Π^prm, Π^mod and Π^fac cost a
//! good fraction of a second each in a debug build.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::OnceLock;

use conclave_keygen::aux_info::{self, AuxInfoProtocol};
use conclave_math::codec::Decode;
use conclave_paillier::{DecryptionKey, Integer};
use conclave_protocol::sim::adversary::Tamper;
use conclave_protocol::sim::{InFlight, Network};
use conclave_protocol::{Fault, Machine, MessageKind, PartyIndex, PartySet};
use conclave_testkit::driver::{start_rng, DriverOptions};
use conclave_testkit::matrix::{self, assert_all_ok, Msg};
use conclave_testkit::{assert_blamed, assert_blamed_parties};

const BAD: u16 = 1;

fn key(k: usize) -> DecryptionKey {
    let (p, q) = conclave_testkit::safe_prime_pairs().swap_remove(k);
    DecryptionKey::from_safe_primes(Integer::from_str_radix(&p, 16).unwrap(), Integer::from_str_radix(&q, 16).unwrap())
        .unwrap()
}

fn net(n: u16, salt: u64) -> Network {
    Network::new(&mut conclave_testkit::rng(salt), PartySet::range(n).unwrap())
}

fn start(net: &Network, q: PartyIndex) -> Machine<AuxInfoProtocol> {
    aux_info::start(net.config(q).unwrap(), key(usize::from(q.0)), &mut start_rng(13, q)).unwrap()
}

/// Round 1 commitment and its echo, round 2 reveal, round 3 Π^mod broadcast and Π^fac direct.
fn messages() -> [Msg; 5] {
    use MessageKind::*;
    [(1, Broadcast), (1, Echo), (2, Broadcast), (3, Broadcast), (3, Direct)].map(|(r, k)| Msg::new(BAD, r, k))
}

/// One honest two-party run (its messages are replayed into another session).
fn honest_run() -> &'static (Network, Vec<InFlight>) {
    static R: OnceLock<(Network, Vec<InFlight>)> = OnceLock::new();
    R.get_or_init(|| {
        let net = net(2, 30);
        let out = matrix::run(&net, &start, DriverOptions { seed: 3, ..DriverOptions::default() });
        assert_all_ok(&out);
        (net, out.delivered)
    })
}

#[test]
fn aux_info_dropped_messages_are_named_silent() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::dropped(&net(2, 10 + k as u64), &start, m, 1);
        assert_blamed(&out.results, &[0], &[(BAD, Fault::Silent)]);
    }
}

#[test]
fn aux_info_duplicated_messages_are_named() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::duplicated(&net(2, 20 + k as u64), &start, m, 2);
        if m.kind == MessageKind::Direct && m.round == 3 {
            // BAD's very last message: its copy arrives after party 0 has its output, and
            // changes nothing.
            assert!(out.results[&PartyIndex(0)].is_ok());
        } else {
            assert_blamed(&out.results, &[0], &[(BAD, Fault::Duplicate)]);
        }
    }
}

#[test]
fn aux_info_replayed_messages_are_named() {
    let (net, delivered) = honest_run();
    for m in messages() {
        let out = matrix::replayed_from(net, &start, m, 3, delivered);
        assert_blamed_parties(&out.results, &[0], &[BAD], Fault::WrongSession);
    }
}

#[test]
fn aux_info_delayed_messages_are_named_silent() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::delayed(&net(2, 40 + k as u64), &start, m, 4);
        assert_blamed(&out.results, &[0], &[(BAD, Fault::Silent)]);
    }
}

#[test]
fn aux_info_reordered_delivery_gives_everyone_the_same_data() {
    let out = matrix::shuffled(&net(2, 50), &start, 5);
    assert_all_ok(&out);
    let infos: Vec<_> = out.results.values().map(|r| r.as_ref().unwrap().parties().clone()).collect();
    assert_eq!(infos[0], infos[1]);
}

#[test]
fn aux_info_equivocated_commitment_is_proven() {
    let change = |b: &[u8]| {
        let mut v = b.to_vec();
        v[0] ^= 1;
        v
    };
    let net = net(3, 60);
    let opts = DriverOptions {
        seed: 6,
        interceptors: vec![Box::new(
            Tamper::new(PartyIndex(BAD), 1, MessageKind::Broadcast, change).only_to(vec![PartyIndex(2)]),
        )],
        ..DriverOptions::default()
    };
    let out = matrix::run(&net, &start, opts);
    assert_blamed(&out.results, &[0, 2], &[(BAD, Fault::Equivocation)]);
    for h in [0u16, 2] {
        let c = &out.results[&PartyIndex(h)].as_ref().unwrap_err().culprits()[0];
        assert!(c.evidence.proves_equivocation(PartyIndex(BAD), &net.public_keys[&PartyIndex(BAD)]));
    }
}

#[test]
fn aux_info_commitment_and_malformed_messages_are_named() {
    use MessageKind::*;
    let flip = |b: &[u8]| {
        let mut v = b.to_vec();
        v[0] ^= 1;
        v
    };
    let cut = |b: &[u8]| b[..b.len() - 1].to_vec();
    // A changed commitment V_1 is not opened by the reveal; every other message cut short
    // does not decode.
    type Edit = Box<dyn FnMut(&[u8]) -> Vec<u8>>;
    let cases: Vec<(u16, MessageKind, Edit, Fault)> = vec![
        (1, Broadcast, Box::new(flip), Fault::CommitmentMismatch),
        (1, Broadcast, Box::new(cut), Fault::Malformed),
        (2, Broadcast, Box::new(cut), Fault::Malformed),
        (3, Broadcast, Box::new(cut), Fault::Malformed),
        (3, Direct, Box::new(cut), Fault::Malformed),
    ];
    for (k, (round, kind, f, fault)) in cases.into_iter().enumerate() {
        let opts = DriverOptions {
            seed: 7,
            interceptors: vec![Box::new(Tamper::new(PartyIndex(BAD), round, kind, f))],
            ..DriverOptions::default()
        };
        let out = matrix::run(&net(2, 70 + k as u64), &start, opts);
        assert_blamed(&out.results, &[0], &[(BAD, fault)]);
    }
}

#[test]
fn aux_info_equivocated_reveal_is_named() {
    // Round 2 is plain, bound by the echoed V_1: party 2 gets a reveal that does not open it
    // and names BAD; party 0 got the real one and reports party 2's abort.
    let change = |b: &[u8]| {
        let mut r = conclave_keygen::aux_info::AuxReveal::from_bytes(b).unwrap();
        r.rho[0] ^= 1;
        conclave_math::codec::Encode::to_bytes(&r)
    };
    let opts = DriverOptions {
        seed: 8,
        interceptors: vec![Box::new(
            Tamper::new(PartyIndex(BAD), 2, MessageKind::Broadcast, change).only_to(vec![PartyIndex(2)]),
        )],
        ..DriverOptions::default()
    };
    let out = matrix::run(&net(3, 80), &start, opts);
    assert_blamed(&out.results, &[2], &[(BAD, Fault::CommitmentMismatch)]);
    match out.results[&PartyIndex(0)].as_ref().unwrap_err() {
        conclave_protocol::ProtocolError::AbortedByPeer { reporter, reported, .. } => {
            assert_eq!(*reporter, PartyIndex(2));
            assert!(reported.iter().all(|c| c.party.0 == BAD && c.fault == Fault::CommitmentMismatch));
        }
        e => panic!("party 0 should report party 2's abort, got {e}"),
    }
}
