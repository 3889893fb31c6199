//! Machine-sequence fuzzing of key resharing (issue 10, item 3): a staying holder's and a
//! joining party's machines are fed random sequences of recorded real envelopes (as sent,
//! corrupted, truncated, re-signed with a changed payload, misrouted), arbitrary bytes from
//! any sender and well-signed envelopes with arbitrary round, kind and payload. They never
//! panic, and they end: by themselves, or when `timeout()` is called, with an error naming
//! culprits (never an internal error).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod reshare_support;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use conclave_keygen::reshare::{self, Reshare, ReshareInput, ReshareParams};
use conclave_keygen::KeyShare;
use conclave_math::Secp256k1;
use conclave_protocol::sim::Network;
use conclave_protocol::{Machine, PartyIndex};
use conclave_testkit::driver::{drive, party_rng, start_rng, DriverOptions};
use conclave_testkit::fuzz::{assert_ends, feed, honest, ops, with_prefix, Corpus};
use proptest::prelude::*;
use reshare_support::{dkg_keys, p, set};

const SEED: u64 = 0x5e;

struct Fixture {
    old: BTreeMap<PartyIndex, KeyShare<Secp256k1>>,
    params: ReshareParams,
    /// Corpus of the staying holder 1 and of the joiner 3.
    holder: Corpus,
    joiner: Corpus,
}

fn start(
    f_old: &BTreeMap<PartyIndex, KeyShare<Secp256k1>>,
    params: &ReshareParams,
    net: &Network,
    q: PartyIndex,
) -> Machine<Reshare<Secp256k1>> {
    let public = f_old.values().next().unwrap().public().clone();
    let input = match f_old.get(&q) {
        Some(k) => ReshareInput::Holder(k),
        None => ReshareInput::Public(&public),
    };
    reshare::start::<Secp256k1>(net.config(q).unwrap(), params, input, &mut start_rng(SEED, q)).unwrap()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = conclave_testkit::rng(0x5e);
        let old = dkg_keys::<Secp256k1>(2, &[0, 1, 2], &mut rng);
        // 0 leaves, 1 and 2 stay, 3 joins; t′ = 2.
        let params = ReshareParams { old_signers: set(&[0, 1, 2]), new_parties: set(&[1, 2, 3]), new_threshold: 2 };
        let net = Network::new(&mut rng, params.session_parties().unwrap());
        let machines = net.parties.iter().map(|q| (q, start(&old, &params, &net, q))).collect();
        let out = drive(&net, machines, DriverOptions { seed: SEED, ..DriverOptions::default() });
        assert!(out.results.values().all(Result::is_ok), "the recorded run is honest");
        let holder = Corpus::new(net.clone(), reshare::PROTOCOL, p(1), &out.delivered);
        let joiner = Corpus::new(net, reshare::PROTOCOL, p(3), &out.delivered);
        Fixture { old, params, holder, joiner }
    })
}

#[test]
fn honest_replay_succeeds() {
    let f = fixture();
    for c in [&f.holder, &f.joiner] {
        let mut m = start(&f.old, &f.params, &c.net, c.victim);
        feed(&mut m, &mut party_rng(SEED, c.victim), c, &honest(c));
        assert!(assert_ends(&mut m).is_ok(), "{}", c.victim);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn reshare_holder_machine_never_panics_and_ends(prefix in 0usize..16, ops in ops(5, 24)) {
        let f = fixture();
        let c = &f.holder;
        let mut m = start(&f.old, &f.params, &c.net, c.victim);
        feed(&mut m, &mut party_rng(SEED, c.victim), c, &with_prefix(c, prefix, &ops));
        let _ = assert_ends(&mut m);
    }

    #[test]
    fn reshare_joiner_machine_never_panics_and_ends(prefix in 0usize..16, ops in ops(5, 24)) {
        let f = fixture();
        let c = &f.joiner;
        let mut m = start(&f.old, &f.params, &c.net, c.victim);
        feed(&mut m, &mut party_rng(SEED, c.victim), c, &with_prefix(c, prefix, &ops));
        let _ = assert_ends(&mut m);
    }
}
