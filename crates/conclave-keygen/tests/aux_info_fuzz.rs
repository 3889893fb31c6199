//! Fuzzing of the aux-info protocol (issue 10, item 3):
//!
//! * its wire decoders (`AuxCommit`, `AuxReveal`, `AuxMod`, `AuxFac`) return errors, never
//!   panic, on arbitrary bytes and on mutations and truncations of real messages;
//! * one party's machine fed random sequences of recorded real envelopes (as sent, corrupted,
//!   truncated, re-signed with a changed payload, misrouted), arbitrary bytes from any sender
//!   and well-signed envelopes with arbitrary round, kind and payload never panics and ends:
//!   by itself, or when `timeout()` is called, with an error naming culprits.
//!
//! Two parties keep it affordable: each Π^prm, Π^mod and Π^fac costs a good fraction of a
//! second in a debug build, so the machine cases are few.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::OnceLock;

use conclave_keygen::aux_info::{self, AuxCommit, AuxFac, AuxInfoProtocol, AuxMod, AuxReveal};
use conclave_math::codec::Decode;
use conclave_paillier::{DecryptionKey, Integer};
use conclave_protocol::sim::Network;
use conclave_protocol::{Envelope, Machine, PartyIndex, PartySet};
use conclave_testkit::driver::{drive, party_rng, start_rng, DriverOptions};
use conclave_testkit::fuzz::{assert_ends, feed, honest, ops, with_prefix, Corpus};
use proptest::prelude::*;

const SEED: u64 = 0xa1;
const VICTIM: PartyIndex = PartyIndex(0);

fn key(k: usize) -> DecryptionKey {
    let (p, q) = conclave_testkit::safe_prime_pairs().swap_remove(k);
    DecryptionKey::from_safe_primes(Integer::from_str_radix(&p, 16).unwrap(), Integer::from_str_radix(&q, 16).unwrap())
        .unwrap()
}

fn start(net: &Network, p: PartyIndex) -> Machine<AuxInfoProtocol> {
    aux_info::start(net.config(p).unwrap(), key(usize::from(p.0)), &mut start_rng(SEED, p)).unwrap()
}

fn corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| {
        let mut rng = conclave_testkit::rng(0xa1);
        let net = Network::new(&mut rng, PartySet::range(2).unwrap());
        let machines = net.parties.iter().map(|p| (p, start(&net, p))).collect();
        let out = drive(&net, machines, DriverOptions { seed: SEED, ..DriverOptions::default() });
        assert!(out.results.values().all(Result::is_ok), "the recorded run is honest");
        Corpus::new(net, aux_info::PROTOCOL, VICTIM, &out.delivered)
    })
}

/// The payloads the victim received: commit, echo, reveal, Π^mod, Π^fac.
fn payloads() -> Vec<Vec<u8>> {
    corpus().messages.iter().map(|m| Envelope::from_bytes(&m.bytes).unwrap().payload).collect()
}

fn all_decoders(bytes: &[u8]) {
    let _ = AuxCommit::from_bytes(bytes);
    let _ = AuxReveal::from_bytes(bytes);
    let _ = AuxMod::from_bytes(bytes);
    let _ = AuxFac::from_bytes(bytes);
}

#[test]
fn real_payloads_decode_as_their_round_says() {
    let p = payloads();
    assert_eq!(p.len(), 5, "commit, echo, reveal, Π^mod broadcast, Π^fac direct");
    assert!(AuxCommit::from_bytes(&p[0]).is_ok());
    assert!(AuxReveal::from_bytes(&p[2]).is_ok());
    assert!(AuxMod::from_bytes(&p[3]).is_ok() || AuxMod::from_bytes(&p[4]).is_ok());
    assert!(AuxFac::from_bytes(&p[3]).is_ok() || AuxFac::from_bytes(&p[4]).is_ok());
}

#[test]
fn honest_replay_succeeds() {
    let c = corpus();
    let mut m = start(&c.net, VICTIM);
    feed(&mut m, &mut party_rng(SEED, VICTIM), c, &honest(c));
    assert!(assert_ends(&mut m).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        all_decoders(&bytes);
    }

    /// Mutations and truncations of real messages reach deeper into the decoders.
    #[test]
    fn mutated_real_messages_never_panic(which in 0usize..5, pos in any::<usize>(), val in any::<u8>(), cut in any::<usize>()) {
        let p = payloads();
        let sample = &p[which];
        let mut m = sample.clone();
        let k = pos % m.len();
        m[k] = val;
        all_decoders(&m);
        all_decoders(&sample[..cut % (sample.len() + 1)]);
    }
}

proptest! {
    // Few cases: a run that gets past round 2 proves and verifies Π^prm, Π^mod and Π^fac.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn aux_info_machine_never_panics_and_ends(prefix in 0usize..6, ops in ops(3, 16)) {
        let c = corpus();
        let mut m = start(&c.net, VICTIM);
        feed(&mut m, &mut party_rng(SEED, VICTIM), c, &with_prefix(c, prefix, &ops));
        let _ = assert_ends(&mut m);
    }
}
