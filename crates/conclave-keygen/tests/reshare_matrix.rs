//! Cells of the adversarial matrix (`docs/adversarial-matrix.md`) for key resharing that
//! `reshare_adversarial.rs` does not cover: every message of an old signer and of a joining
//! party dropped, duplicated, replayed from another session and delayed past the deadline
//! names its sender; shuffled delivery changes nothing.
//!
//! Setting: a 2-of-3 key among {0, 1, 2} reshared by O = {0, 1, 2} to N′ = {1, 2, 3} with
//! t′ = 2: party 0 leaves, 1 and 2 stay, 3 joins.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod reshare_support;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use conclave_keygen::reshare::{self, Reshare, ReshareInput, ReshareParams};
use conclave_keygen::KeyShare;
use conclave_math::Secp256k1;
use conclave_protocol::sim::Network;
use conclave_protocol::{Fault, Machine, MessageKind, PartyIndex};
use conclave_testkit::assert_blamed;
use conclave_testkit::assert_blamed_parties;
use conclave_testkit::driver::start_rng;
use conclave_testkit::matrix::{self, assert_all_ok, assert_named_or_done, Msg};
use reshare_support::{dkg_keys, set};

type C = Secp256k1;
const ALL: [u16; 4] = [0, 1, 2, 3];

fn old() -> &'static BTreeMap<PartyIndex, KeyShare<C>> {
    static K: OnceLock<BTreeMap<PartyIndex, KeyShare<C>>> = OnceLock::new();
    K.get_or_init(|| dkg_keys::<C>(2, &[0, 1, 2], &mut conclave_testkit::rng(0x7e)))
}

fn params() -> ReshareParams {
    ReshareParams { old_signers: set(&[0, 1, 2]), new_parties: set(&[1, 2, 3]), new_threshold: 2 }
}

fn net(salt: u64) -> Network {
    Network::new(&mut conclave_testkit::rng(salt), params().session_parties().unwrap())
}

fn start(net: &Network, q: PartyIndex) -> Machine<Reshare<C>> {
    let public = old().values().next().unwrap().public().clone();
    let input = match old().get(&q) {
        Some(k) => ReshareInput::Holder(k),
        None => ReshareInput::Public(&public),
    };
    reshare::start::<C>(net.config(q).unwrap(), &params(), input, &mut start_rng(9, q)).unwrap()
}

fn honest(bad: u16) -> Vec<u16> {
    ALL.iter().copied().filter(|q| *q != bad).collect()
}

/// Every message of the leaving old signer 0 and of the joiner 3: round 1 commitment (empty
/// for the joiner), its echo, the direct sub-shares (empty where nothing is dealt), round 2
/// verdict and its echo.
fn messages() -> Vec<Msg> {
    use MessageKind::*;
    let mut v = Vec::new();
    for bad in [0u16, 3] {
        for (r, k) in [(1, Broadcast), (1, Echo), (1, Direct), (2, Broadcast), (2, Echo)] {
            v.push(Msg::new(bad, r, k));
        }
    }
    v
}

#[test]
fn reshare_dropped_messages_are_named_silent() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::dropped(&net(10 + k as u64), &start, m, 1);
        assert_blamed(&out.results, &honest(m.from), &[(m.from, Fault::Silent)]);
    }
}

#[test]
fn reshare_duplicated_messages_are_named() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::duplicated(&net(20 + k as u64), &start, m, 2);
        if m.round < 2 {
            assert_blamed(&out.results, &honest(m.from), &[(m.from, Fault::Duplicate)]);
        } else {
            // A copy arriving after a party finished the hand-over changes nothing for it.
            assert_named_or_done(&out.results, &honest(m.from), m.from, Fault::Duplicate);
        }
    }
}

#[test]
fn reshare_replayed_messages_are_named() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::replayed(&net(30 + k as u64), &start, m, 3);
        assert_blamed_parties(&out.results, &honest(m.from), &[m.from], Fault::WrongSession);
    }
}

#[test]
fn reshare_delayed_messages_are_named_silent() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::delayed(&net(40 + k as u64), &start, m, 4);
        assert_blamed(&out.results, &honest(m.from), &[(m.from, Fault::Silent)]);
    }
}

#[test]
fn reshare_reordered_delivery_gives_everyone_the_same_new_key() {
    for seed in 0..4 {
        let out = matrix::shuffled(&net(50 + seed), &start, seed);
        assert_all_ok(&out);
        let receipts: Vec<_> = out.results.values().map(|r| r.as_ref().unwrap().receipt().new_public.clone()).collect();
        assert!(receipts.windows(2).all(|w| w[0] == w[1]), "seed {seed}");
    }
}
