//! Decoders of every reshare wire type return errors, never panic, on arbitrary bytes; and a
//! reshare machine fed arbitrary messages from any sender never panics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod reshare_support;

use conclave_keygen::reshare::{self, Accusation, Commitment, ReshareInput, ReshareParams, Share, Verdict};
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Ed25519, Secp256k1, P256};
use conclave_protocol::sim::Network;
use conclave_protocol::{Envelope, MessageKind, PartyIndex, RoundId, StateMachine};
use proptest::prelude::*;
use reshare_support::{dkg_keys, p, set};

fn all_decoders(bytes: &[u8]) {
    let _ = Commitment::<Secp256k1>::from_bytes(bytes);
    let _ = Commitment::<P256>::from_bytes(bytes);
    let _ = Commitment::<Ed25519>::from_bytes(bytes);
    let _ = Share::<Secp256k1>::from_bytes(bytes);
    let _ = Share::<P256>::from_bytes(bytes);
    let _ = Share::<Ed25519>::from_bytes(bytes);
    let _ = Verdict::from_bytes(bytes);
}

fn samples() -> Vec<Vec<u8>> {
    vec![
        Commitment::<Secp256k1> { coefficients: vec![Secp256k1::generator(), Secp256k1::generator()] }.to_bytes(),
        Commitment::<Ed25519> { coefficients: vec![Ed25519::generator()] }.to_bytes(),
        Verdict::Confirm { hash: [3; 32] }.to_bytes(),
        Verdict::Complaint {
            accusations: vec![Accusation { accused: PartyIndex(2), payload: vec![1; 32], signature: [7; 64] }],
        }
        .to_bytes(),
    ]
}

#[test]
fn wire_types_round_trip() {
    let c = Commitment::<P256> { coefficients: vec![P256::generator()] };
    assert_eq!(Commitment::<P256>::from_bytes(&c.to_bytes()).unwrap(), c);
    for v in [
        Verdict::Confirm { hash: [3; 32] },
        Verdict::Complaint {
            accusations: vec![Accusation { accused: PartyIndex(9), payload: vec![], signature: [1; 64] }],
        },
    ] {
        assert_eq!(Verdict::from_bytes(&v.to_bytes()).unwrap(), v);
    }
    // A complaint without accusations, an unknown tag and trailing bytes are rejected.
    assert!(Verdict::from_bytes(&Verdict::Complaint { accusations: vec![] }.to_bytes()).is_err());
    assert!(Verdict::from_bytes(&[3]).is_err());
    assert!(Verdict::from_bytes(&[Verdict::Confirm { hash: [0; 32] }.to_bytes(), vec![0]].concat()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        all_decoders(&bytes);
    }

    /// Mutations and truncations of real messages reach deeper into the decoders.
    #[test]
    fn mutated_real_messages_never_panic(which in 0usize..4, pos in 0usize..400, val in any::<u8>(), cut in 0usize..400) {
        let sample = samples()[which].clone();
        let mut m = sample.clone();
        let k = pos % m.len();
        m[k] = val;
        all_decoders(&m);
        all_decoders(&sample[..cut.min(sample.len())]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A reshare machine fed arbitrary (sender, bytes) pairs and well-signed envelopes with
    /// arbitrary payloads records culprits and never panics.
    #[test]
    fn machine_never_panics_on_arbitrary_input(
        msgs in proptest::collection::vec((0u16..6, 0u16..4, 0u8..3, proptest::collection::vec(any::<u8>(), 0..120)), 0..12)
    ) {
        let mut rng = conclave_testkit::rng(7);
        let old = dkg_keys::<Secp256k1>(2, &[0, 1, 2], &mut rng);
        let params = ReshareParams { old_signers: set(&[0, 1]), new_parties: set(&[1, 2, 3]), new_threshold: 2 };
        let net = Network::new(&mut rng, params.session_parties().unwrap());
        let mut m = reshare::start::<Secp256k1>(net.config(p(1)).unwrap(), &params, ReshareInput::Holder(&old[&p(1)]), &mut rng).unwrap();
        for (from, round, kind, payload) in msgs {
            let kind = [MessageKind::Broadcast, MessageKind::Direct, MessageKind::Echo][usize::from(kind)];
            // Raw bytes, and the same bytes as a well-signed payload of the sender.
            m.handle(&mut rng, PartyIndex(from), &payload);
            if let Some(key) = net.identity_key(PartyIndex(from)) {
                let recipient = (kind == MessageKind::Direct).then_some(p(1));
                let env = Envelope::sign(&key, PartyIndex(from), reshare::PROTOCOL, net.session, RoundId(round), kind, recipient, payload);
                m.handle(&mut rng, PartyIndex(from), &env.to_bytes());
            }
        }
        let _ = m.awaiting();
        m.timeout();
        prop_assert!(m.is_finished());
        prop_assert!(m.take_output().unwrap().is_err());
    }
}
