//! Cells of the adversarial matrix (`docs/adversarial-matrix.md`) for FROST signing that
//! `adversarial.rs` does not cover: every message dropped, replayed from another session,
//! duplicated and delayed past the deadline names its sender; shuffled delivery gives the
//! same signature; a share equivocated (plain round 2) is named by every signer that got the
//! bad copy, and a signer that got the good one releases a valid signature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test code

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::keygen;
use conclave_frost::msg::Share;
use conclave_frost::signing::Signing;
use conclave_frost::{Ed25519, SignRequest};
use conclave_keygen::KeyShare;
use conclave_math::codec::{Decode, Encode};
use conclave_math::Curve;
use conclave_protocol::sim::adversary::Tamper;
use conclave_protocol::sim::Network;
use conclave_protocol::{Fault, Machine, MessageKind, PartyIndex, PartySet};
use conclave_testkit::driver::{start_rng, DriverOptions};
use conclave_testkit::matrix::{self, assert_all_ok, assert_named_or_done, Msg};
use conclave_testkit::{assert_blamed, assert_blamed_parties};
use ff::Field;

type S = Ed25519;
const BAD: u16 = 1;
const HONEST: [u16; 2] = [0, 2];

fn keys() -> &'static BTreeMap<PartyIndex, KeyShare<<S as conclave_frost::Scheme>::Curve>> {
    static K: OnceLock<BTreeMap<PartyIndex, KeyShare<conclave_math::Ed25519>>> = OnceLock::new();
    K.get_or_init(|| keygen::<S>(2, 3, &mut conclave_testkit::rng(0xf7)))
}

fn request() -> SignRequest {
    SignRequest::new(b"matrix".to_vec())
}

fn net(salt: u64) -> Network {
    Network::new(&mut conclave_testkit::rng(salt), PartySet::range(3).unwrap())
}

fn start(net: &Network, q: PartyIndex) -> Machine<Signing<S>> {
    conclave_frost::start::<S>(net.config(q).unwrap(), &keys()[&q], &request(), &mut start_rng(11, q)).unwrap()
}

/// Round 1 commitment and its echo, round 2 share.
fn messages() -> [Msg; 3] {
    use MessageKind::*;
    [(1, Broadcast), (1, Echo), (2, Broadcast)].map(|(r, k)| Msg::new(BAD, r, k))
}

#[test]
fn frost_dropped_messages_are_named_silent() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::dropped(&net(10 + k as u64), &start, m, 1);
        assert_blamed(&out.results, &HONEST, &[(BAD, Fault::Silent)]);
    }
}

#[test]
fn frost_duplicated_messages_are_named() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::duplicated(&net(20 + k as u64), &start, m, 2);
        if m.round < 2 {
            assert_blamed(&out.results, &HONEST, &[(BAD, Fault::Duplicate)]);
        } else {
            assert_named_or_done(&out.results, &HONEST, BAD, Fault::Duplicate);
        }
    }
}

#[test]
fn frost_replayed_messages_are_named() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::replayed(&net(30 + k as u64), &start, m, 3);
        assert_blamed_parties(&out.results, &HONEST, &[BAD], Fault::WrongSession);
    }
}

#[test]
fn frost_delayed_messages_are_named_silent() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::delayed(&net(40 + k as u64), &start, m, 4);
        assert_blamed(&out.results, &HONEST, &[(BAD, Fault::Silent)]);
    }
}

#[test]
fn frost_reordered_delivery_gives_the_same_signature() {
    for seed in 0..4 {
        let out = matrix::shuffled(&net(50 + seed), &start, seed);
        assert_all_ok(&out);
        let sigs: Vec<_> = out.results.values().map(|r| r.as_ref().unwrap().clone()).collect();
        assert!(sigs.windows(2).all(|w| w[0] == w[1]) && sigs[0].verify(&request().message), "seed {seed}");
    }
}

#[test]
fn frost_equivocated_share_is_named_by_its_recipient() {
    let bump = |b: &[u8]| {
        let mut s = Share::<conclave_math::Ed25519>::from_bytes(b).unwrap();
        s.share += <<conclave_math::Ed25519 as Curve>::Scalar as Field>::ONE;
        s.to_bytes()
    };
    let opts = DriverOptions {
        seed: 5,
        interceptors: vec![Box::new(
            Tamper::new(PartyIndex(BAD), 2, MessageKind::Broadcast, bump).only_to(vec![PartyIndex(2)]),
        )],
        ..DriverOptions::default()
    };
    let out = matrix::run(&net(60), &start, opts);
    assert_blamed(&out.results, &[2], &[(BAD, Fault::InvalidShare)]);
    // Party 0 got the real share: its signature is valid (each share is checked on its own).
    assert!(out.results[&PartyIndex(0)].as_ref().unwrap().verify(&request().message));
}
