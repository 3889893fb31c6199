//! Fuzzing of ECDSA signing with a presignature (issue 10, item 3):
//!
//! * the `PartialSignature` decoder returns errors, never panics, on arbitrary bytes and on
//!   mutations of real messages;
//! * one signer's machine fed random sequences of recorded real envelopes (as sent, corrupted,
//!   truncated, re-signed with a changed payload, misrouted), arbitrary bytes from any sender
//!   and well-signed envelopes with arbitrary round, kind and payload never panics and ends:
//!   by itself, or when `timeout()` is called, with an error naming culprits. A signature it
//!   releases verifies.
//!
//! The victim's presignature is kept as its store record and restored for each case (a
//! presignature is single-use and not `Clone`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::sync::OnceLock;

use common::{aux_infos, keygen, signer_network};
use conclave_ecdsa::hd::DerivationPath;
use conclave_ecdsa::presign::{self, Presignature};
use conclave_ecdsa::sign::{self, PartialSignature, Sign};
use conclave_ecdsa::{HashName, SignedData};
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Secp256k1, P256};
use conclave_protocol::sim::Network;
use conclave_protocol::{Envelope, Machine, PartyIndex, SessionId};
use conclave_testkit::driver::{drive, party_rng, start_rng, DriverOptions};
use conclave_testkit::fuzz::{assert_ends, feed, honest, ops, with_prefix, Corpus};
use proptest::prelude::*;
use zeroize::Zeroizing;

type C = Secp256k1;
const SEED: u64 = 0xe2;
const VICTIM: PartyIndex = PartyIndex(0);

struct Fixture {
    /// The victim's presignature, as its store record.
    record: Zeroizing<Vec<u8>>,
    corpus: Corpus,
}

fn data() -> SignedData {
    SignedData::Message { hash: HashName::Sha256, message: b"fuzzed signing".to_vec() }
}

fn start(net: &Network, ps: Presignature<C>, q: PartyIndex) -> Machine<Sign<C>> {
    sign::start::<C>(net.config(q).unwrap(), ps, &data(), &mut start_rng(SEED, q)).unwrap()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let keys = keygen::<C>(2, 3, 0xe2);
        let aux = aux_infos(3);
        let (net, mut rng) = signer_network(&[0, 2], 0xe2);
        let machines = net
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
        let out = drive(&net, machines, DriverOptions { seed: SEED, ..DriverOptions::default() });
        let mut presigs: Vec<(PartyIndex, Presignature<C>)> =
            out.results.into_iter().map(|(q, r)| (q, r.expect("honest presigning"))).collect();
        let net = net.in_session(SessionId::random(&mut rng));
        let (_, victim_ps) = presigs.remove(0);
        let record = victim_ps.into_record();
        let mut machines: std::collections::BTreeMap<_, _> =
            presigs.into_iter().map(|(q, ps)| (q, start(&net, ps, q))).collect();
        machines.insert(VICTIM, start(&net, Presignature::<C>::from_record(&record).unwrap(), VICTIM));
        let out = drive(&net, machines, DriverOptions { seed: SEED, ..DriverOptions::default() });
        assert!(out.results.values().all(Result::is_ok), "the recorded run is honest");
        Fixture { record, corpus: Corpus::new(net, sign::PROTOCOL, VICTIM, &out.delivered) }
    })
}

fn victim() -> Machine<Sign<C>> {
    let f = fixture();
    start(&f.corpus.net, Presignature::<C>::from_record(&f.record).unwrap(), VICTIM)
}

fn decoders(bytes: &[u8]) {
    let _ = PartialSignature::<Secp256k1>::from_bytes(bytes);
    let _ = PartialSignature::<P256>::from_bytes(bytes);
}

#[test]
fn honest_replay_succeeds() {
    let c = &fixture().corpus;
    let mut m = victim();
    feed(&mut m, &mut party_rng(SEED, VICTIM), c, &honest(c));
    let sig = assert_ends(&mut m).unwrap();
    assert!(sig.signature.verify(&sig.public_key, &data().digest()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn partial_signature_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        decoders(&bytes);
        if let Ok(s) = PartialSignature::<Secp256k1>::from_bytes(&bytes) {
            prop_assert_eq!(s.to_bytes(), bytes);
        }
    }

    #[test]
    fn mutated_partial_signatures_never_panic(pos in 0usize..32, val in any::<u8>(), cut in 0usize..33) {
        let mut rng = conclave_testkit::rng(7);
        let real = PartialSignature::<Secp256k1> { sigma: Secp256k1::random_scalar(&mut rng) }.to_bytes();
        let mut m = real.clone();
        m[pos] = val;
        decoders(&m);
        decoders(&real[..cut]);
        let payload = Envelope::from_bytes(&fixture().corpus.messages[0].bytes).unwrap().payload;
        decoders(&payload[..cut.min(payload.len())]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn sign_machine_never_panics_and_ends(prefix in 0usize..2, ops in ops(3, 16)) {
        let f = fixture();
        let c = &f.corpus;
        let mut m = victim();
        feed(&mut m, &mut party_rng(SEED, VICTIM), c, &with_prefix(c, prefix, &ops));
        if let Ok(sig) = assert_ends(&mut m) {
            prop_assert!(sig.signature.verify(&sig.public_key, &data().digest()));
        }
    }
}
