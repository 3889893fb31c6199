//! Fuzzing of CGGMP24 presigning (issue 10, item 3):
//!
//! * its wire decoders (`Round1Broadcast`, `Round1Direct`, `Round2Broadcast`, `Round2Direct`,
//!   `Round3Broadcast`, `AbortBroadcast`) return errors, never panic, on arbitrary bytes and on
//!   mutations and truncations of real messages;
//! * one signer's machine fed random sequences of recorded real envelopes (as sent, corrupted,
//!   truncated, re-signed with a changed payload, misrouted), arbitrary bytes from any sender
//!   and well-signed envelopes with arbitrary round, kind and payload never panics and ends:
//!   by itself, or when `timeout()` is called, with an error naming culprits (or the
//!   documented unidentified abort), never an internal error.
//!
//! Two signers of a 2-of-3 key (fixture auxiliary data) keep it affordable; the machine cases
//! are few because the range proofs are slow in a debug build.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use common::{aux_infos, keygen, signer_network};
use conclave_ecdsa::hd::DerivationPath;
use conclave_ecdsa::presign::{
    self, AbortBroadcast, Presign, Round1Broadcast, Round1Direct, Round2Broadcast, Round2Direct, Round3Broadcast,
};
use conclave_ecdsa::AuxInfo;
use conclave_keygen::KeyShare;
use conclave_math::codec::Decode;
use conclave_math::{Secp256k1, P256};
use conclave_protocol::sim::Network;
use conclave_protocol::{Envelope, Machine, PartyIndex};
use conclave_testkit::driver::{drive, party_rng, start_rng, DriverOptions};
use conclave_testkit::fuzz::{assert_ends, feed, honest, ops, with_prefix, Corpus};
use proptest::prelude::*;

type C = Secp256k1;
const SEED: u64 = 0xe1;
const VICTIM: PartyIndex = PartyIndex(0);

struct Fixture {
    keys: BTreeMap<PartyIndex, KeyShare<C>>,
    aux: BTreeMap<PartyIndex, Arc<AuxInfo>>,
    corpus: Corpus,
}

fn start(
    f_keys: &BTreeMap<PartyIndex, KeyShare<C>>,
    aux: &BTreeMap<PartyIndex, Arc<AuxInfo>>,
    net: &Network,
    q: PartyIndex,
) -> Machine<Presign<C>> {
    presign::start::<C>(
        net.config(q).unwrap(),
        &f_keys[&q],
        aux[&q].clone(),
        &DerivationPath::root(),
        &mut start_rng(SEED, q),
    )
    .unwrap()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let keys = keygen::<C>(2, 3, 0xe1);
        let aux = aux_infos(3);
        let (net, _) = signer_network(&[0, 1], 0xe1);
        let machines = net.parties.iter().map(|q| (q, start(&keys, &aux, &net, q))).collect();
        let out = drive(&net, machines, DriverOptions { seed: SEED, ..DriverOptions::default() });
        assert!(out.results.values().all(Result::is_ok), "the recorded run is honest");
        let corpus = Corpus::new(net, presign::PROTOCOL, VICTIM, &out.delivered);
        Fixture { keys, aux, corpus }
    })
}

/// The payloads the victim received: R1 broadcast, R1 direct, echo, R2 broadcast, R2 direct,
/// R3 broadcast, echo (in delivery order).
fn payloads() -> Vec<Vec<u8>> {
    fixture().corpus.messages.iter().map(|m| Envelope::from_bytes(&m.bytes).unwrap().payload).collect()
}

fn all_decoders(bytes: &[u8]) {
    let _ = Round1Broadcast::<Secp256k1>::from_bytes(bytes);
    let _ = Round1Broadcast::<P256>::from_bytes(bytes);
    let _ = Round1Direct::<Secp256k1>::from_bytes(bytes);
    let _ = Round2Broadcast::<Secp256k1>::from_bytes(bytes);
    let _ = Round2Broadcast::<P256>::from_bytes(bytes);
    let _ = Round2Direct::<Secp256k1>::from_bytes(bytes);
    let _ = Round3Broadcast::<Secp256k1>::from_bytes(bytes);
    let _ = Round3Broadcast::<P256>::from_bytes(bytes);
    let _ = AbortBroadcast::<Secp256k1>::from_bytes(bytes);
    let _ = AbortBroadcast::<P256>::from_bytes(bytes);
}

#[test]
fn honest_replay_succeeds() {
    let f = fixture();
    let c = &f.corpus;
    assert_eq!(c.messages.len(), 7);
    let mut m = start(&f.keys, &f.aux, &c.net, VICTIM);
    feed(&mut m, &mut party_rng(SEED, VICTIM), c, &honest(c));
    assert!(assert_ends(&mut m).is_ok());
}

#[test]
fn abort_broadcast_prefixes_never_panic() {
    // An abort broadcast's header with each real payload as its republished message and proof.
    for p in payloads() {
        for tag in [1u8, 2, 3] {
            let mut b = vec![tag, 0, 0, 0, 1];
            b.extend_from_slice(&p);
            all_decoders(&b);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        all_decoders(&bytes);
    }

    /// Mutations and truncations of real messages reach deeper into the decoders.
    #[test]
    fn mutated_real_messages_never_panic(which in any::<usize>(), pos in any::<usize>(), val in any::<u8>(), cut in any::<usize>()) {
        let p = payloads();
        let sample = &p[which % p.len()];
        let mut m = sample.clone();
        let k = pos % m.len();
        m[k] = val;
        all_decoders(&m);
        all_decoders(&sample[..cut % (sample.len() + 1)]);
    }
}

proptest! {
    // Few cases: a run that gets through round 2 proves and verifies Π^aff-g.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn presign_machine_never_panics_and_ends(prefix in 0usize..8, ops in ops(3, 16)) {
        let f = fixture();
        let c = &f.corpus;
        let mut m = start(&f.keys, &f.aux, &c.net, VICTIM);
        feed(&mut m, &mut party_rng(SEED, VICTIM), c, &with_prefix(c, prefix, &ops));
        let _ = assert_ends(&mut m);
    }
}
