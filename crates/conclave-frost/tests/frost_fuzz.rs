//! Machine-sequence fuzzing of FROST signing (issue 10, item 3): one signer's machine is fed
//! random sequences of recorded real envelopes (as sent, corrupted, truncated, re-signed with
//! a changed payload, misrouted), arbitrary bytes from any sender and well-signed envelopes
//! with arbitrary round, kind and payload. It never panics, and it ends: by itself, or when
//! `timeout()` is called, with an error naming culprits (never an internal error). A
//! signature it releases always verifies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test code

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::keygen;
use conclave_frost::signing::Signing;
use conclave_frost::{Bip340, Ed25519, Scheme, SignRequest};
use conclave_keygen::KeyShare;
use conclave_protocol::sim::Network;
use conclave_protocol::{Machine, PartyIndex, PartySet};
use conclave_testkit::driver::{drive, party_rng, start_rng, DriverOptions};
use conclave_testkit::fuzz::{assert_ends, feed, honest, ops, with_prefix, Corpus};
use proptest::prelude::*;

const SEED: u64 = 0xf5;
const VICTIM: PartyIndex = PartyIndex(0);

struct Fixture<S: Scheme> {
    keys: BTreeMap<PartyIndex, KeyShare<S::Curve>>,
    request: SignRequest,
    corpus: Corpus,
}

fn start<S: Scheme>(
    f_keys: &BTreeMap<PartyIndex, KeyShare<S::Curve>>,
    req: &SignRequest,
    net: &Network,
    q: PartyIndex,
) -> Machine<Signing<S>> {
    conclave_frost::start::<S>(net.config(q).unwrap(), &f_keys[&q], req, &mut start_rng(SEED, q)).unwrap()
}

fn record<S: Scheme>(salt: u64, request: SignRequest) -> Fixture<S> {
    let mut rng = conclave_testkit::rng(salt);
    let keys = keygen::<S>(2, 3, &mut rng);
    let net = Network::new(&mut rng, PartySet::range(3).unwrap());
    let machines = net.parties.iter().map(|q| (q, start::<S>(&keys, &request, &net, q))).collect();
    let out = drive(&net, machines, DriverOptions { seed: SEED, ..DriverOptions::default() });
    assert!(out.results.values().all(Result::is_ok), "the recorded run is honest");
    let corpus = Corpus::new(net, S::PROTOCOL, VICTIM, &out.delivered);
    Fixture { keys, request, corpus }
}

fn ed() -> &'static Fixture<Ed25519> {
    static F: OnceLock<Fixture<Ed25519>> = OnceLock::new();
    F.get_or_init(|| record::<Ed25519>(0xf5, SignRequest::new(b"fuzzed".to_vec())))
}

fn taproot() -> &'static Fixture<Bip340> {
    static F: OnceLock<Fixture<Bip340>> = OnceLock::new();
    F.get_or_init(|| record::<Bip340>(0xf6, SignRequest::taproot([7u8; 32], Some([1u8; 32]))))
}

fn run<S: Scheme>(f: &Fixture<S>, prefix: usize, ops: &[conclave_testkit::fuzz::Op]) {
    let c = &f.corpus;
    let mut m = start::<S>(&f.keys, &f.request, &c.net, VICTIM);
    feed(&mut m, &mut party_rng(SEED, VICTIM), c, &with_prefix(c, prefix, ops));
    if let Ok(sig) = assert_ends(&mut m) {
        assert!(sig.verify(&f.request.message), "a released signature verifies");
    }
}

#[test]
fn honest_replay_succeeds() {
    let f = ed();
    let c = &f.corpus;
    let mut m = start::<Ed25519>(&f.keys, &f.request, &c.net, VICTIM);
    feed(&mut m, &mut party_rng(SEED, VICTIM), c, &honest(c));
    assert!(assert_ends(&mut m).unwrap().verify(&f.request.message));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn frost_ed25519_machine_never_panics_and_ends(prefix in 0usize..7, ops in ops(4, 24)) {
        run(ed(), prefix, &ops);
    }

    #[test]
    fn frost_taproot_machine_never_panics_and_ends(prefix in 0usize..7, ops in ops(4, 24)) {
        run(taproot(), prefix, &ops);
    }
}
