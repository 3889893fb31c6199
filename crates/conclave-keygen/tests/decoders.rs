//! Decoders of every DKG and engine wire type return errors, never panic, on arbitrary bytes;
//! and a DKG machine fed arbitrary messages from any sender never panics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use conclave_keygen::dkg::{self, Commit, Reveal, Share, Verdict};
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Ed25519, Secp256k1, P256};
use conclave_protocol::machine::EchoPayload;
use conclave_protocol::sim::Network;
use conclave_protocol::{Culprit, Envelope, Evidence, PartyIndex, PartySet, SignedStatement, StateMachine};
use proptest::prelude::*;

fn all_decoders(bytes: &[u8]) {
    let _ = Commit::from_bytes(bytes);
    let _ = Reveal::<Secp256k1>::from_bytes(bytes);
    let _ = Reveal::<P256>::from_bytes(bytes);
    let _ = Reveal::<Ed25519>::from_bytes(bytes);
    let _ = Share::<Secp256k1>::from_bytes(bytes);
    let _ = Share::<Ed25519>::from_bytes(bytes);
    let _ = Verdict::from_bytes(bytes);
    let _ = EchoPayload::from_bytes(bytes);
    let _ = Envelope::from_bytes(bytes);
    let _ = SignedStatement::from_bytes(bytes);
    let _ = Evidence::from_bytes(bytes);
    let _ = Culprit::from_bytes(bytes);
    let _ = PartySet::from_bytes(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        all_decoders(&bytes);
    }

    /// Mutations of real messages reach deeper into the decoders than random bytes do.
    #[test]
    fn mutated_real_messages_never_panic(pos in 0usize..400, val in any::<u8>(), cut in 0usize..400) {
        let reveal_bytes = sample_reveal();
        let mut m = reveal_bytes.clone();
        if !m.is_empty() {
            let k = pos % m.len();
            m[k] = val;
        }
        all_decoders(&m);
        all_decoders(&reveal_bytes[..cut.min(reveal_bytes.len())]);
    }

    /// A DKG machine fed arbitrary (sender, bytes) pairs records culprits and never panics.
    #[test]
    fn machine_never_panics_on_arbitrary_input(
        msgs in proptest::collection::vec((0u16..6, proptest::collection::vec(any::<u8>(), 0..300)), 0..20)
    ) {
        let mut rng = conclave_testkit::rng(3);
        let net = Network::new(&mut rng, PartySet::range(3).unwrap());
        let mut m = dkg::start::<Secp256k1>(net.config(PartyIndex(0)).unwrap(), 2, &mut rng).unwrap();
        for (from, bytes) in msgs {
            m.handle(&mut rng, PartyIndex(from), &bytes);
        }
        let _ = m.awaiting();
        m.timeout();
        prop_assert!(m.is_finished());
        prop_assert!(m.take_output().unwrap().is_err());
    }
}

fn sample_reveal() -> Vec<u8> {
    use conclave_math::Curve;
    let mut rng = conclave_testkit::rng(4);
    let x = conclave_math::SecretScalar::<Secp256k1>::random_nonzero(&mut rng);
    let t = conclave_math::Transcript::new("sample");
    let proof = conclave_zk::sch::SchProof::prove(&t, &x.public_point(), &x, &mut rng);
    Reveal::<Secp256k1> {
        coefficients: vec![Secp256k1::generator(), x.public_point()],
        rid: [1; 32],
        decommitment: [2; 32],
        proof,
    }
    .to_bytes()
}

#[test]
fn valid_envelopes_from_a_party_with_wrong_payloads_never_panic() {
    // Well-signed envelopes of the right session carrying garbage for every round and kind.
    let mut rng = conclave_testkit::rng(5);
    let net = Network::new(&mut rng, PartySet::range(3).unwrap());
    let key1 = net.identity_key(PartyIndex(1)).unwrap();
    for round in 0..5u16 {
        for kind in [
            conclave_protocol::MessageKind::Broadcast,
            conclave_protocol::MessageKind::Direct,
            conclave_protocol::MessageKind::Echo,
        ] {
            for payload in [vec![], vec![0u8; 5], vec![0xff; 200], sample_reveal()] {
                let mut m = dkg::start::<Secp256k1>(net.config(PartyIndex(0)).unwrap(), 2, &mut rng).unwrap();
                let recipient = (kind == conclave_protocol::MessageKind::Direct).then_some(PartyIndex(0));
                let env = Envelope::sign(
                    &key1,
                    PartyIndex(1),
                    dkg::PROTOCOL,
                    net.session,
                    conclave_protocol::RoundId(round),
                    kind,
                    recipient,
                    payload,
                );
                m.handle(&mut rng, PartyIndex(1), &env.to_bytes());
                m.timeout();
                assert!(m.take_output().unwrap().is_err());
            }
        }
    }
}
