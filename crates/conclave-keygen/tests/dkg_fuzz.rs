//! Machine-sequence fuzzing of the DKG (issue 10, item 3): one party's machine is fed random
//! sequences of recorded real envelopes (as sent, corrupted, truncated, re-signed with a
//! changed payload, misrouted), arbitrary bytes from any sender and well-signed envelopes
//! with arbitrary round, kind and payload. It never panics, and it ends: by itself, or when
//! `timeout()` is called, with an error naming culprits (never an internal error).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::OnceLock;

use conclave_keygen::dkg::{self, Dkg};
use conclave_math::{Ed25519, Secp256k1};
use conclave_protocol::sim::Network;
use conclave_protocol::{Machine, PartyIndex, PartySet};
use conclave_testkit::driver::{drive, party_rng, start_rng, DriverOptions};
use conclave_testkit::fuzz::{assert_ends, feed, honest, ops, with_prefix, Corpus};
use proptest::prelude::*;

const SEED: u64 = 0xd1;
const VICTIM: PartyIndex = PartyIndex(0);

fn start<C: conclave_math::Curve>(net: &Network, p: PartyIndex) -> Machine<Dkg<C>> {
    dkg::start::<C>(net.config(p).unwrap(), 2, &mut start_rng(SEED, p)).unwrap()
}

fn record<C: conclave_math::Curve>(salt: u64) -> Corpus {
    let mut rng = conclave_testkit::rng(salt);
    let net = Network::new(&mut rng, PartySet::range(3).unwrap());
    let machines = net.parties.iter().map(|p| (p, start::<C>(&net, p))).collect();
    let out = drive(&net, machines, DriverOptions { seed: SEED, ..DriverOptions::default() });
    assert!(out.results.values().all(Result::is_ok), "the recorded run is honest");
    Corpus::new(net, dkg::PROTOCOL, VICTIM, &out.delivered)
}

fn secp() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| record::<Secp256k1>(0xd1))
}

fn ed() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| record::<Ed25519>(0xd2))
}

#[test]
fn honest_replay_succeeds() {
    // The harness replays the victim exactly: the recorded messages alone give it its key.
    let c = secp();
    let mut m = start::<Secp256k1>(&c.net, VICTIM);
    feed(&mut m, &mut party_rng(SEED, VICTIM), c, &honest(c));
    assert!(assert_ends(&mut m).is_ok());
    assert_eq!(c.messages.len(), 12, "2 peers × (commit, echo, reveal, share, verdict, echo)");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn dkg_machine_never_panics_and_ends(prefix in 0usize..13, ops in ops(4, 24)) {
        let c = secp();
        let mut m = start::<Secp256k1>(&c.net, VICTIM);
        feed(&mut m, &mut party_rng(SEED, VICTIM), c, &with_prefix(c, prefix, &ops));
        let _ = assert_ends(&mut m);
    }

    #[test]
    fn dkg_ed25519_machine_never_panics_and_ends(prefix in 0usize..13, ops in ops(4, 24)) {
        let c = ed();
        let mut m = start::<Ed25519>(&c.net, VICTIM);
        feed(&mut m, &mut party_rng(SEED, VICTIM), c, &with_prefix(c, prefix, &ops));
        let _ = assert_ends(&mut m);
    }
}
