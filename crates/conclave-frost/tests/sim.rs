//! Simulated signing sessions: every scheme, several (t, n), every signer subset of (2, 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test code

mod common;

use common::{agreed, keygen, sign};
use conclave_frost::{Bip340, Ed25519, Scheme, SchemeId, Secp256k1, SignRequest};
use conclave_math::Curve;
use k256::elliptic_curve::group::GroupEncoding;

fn subsets(n: u16, k: usize) -> Vec<Vec<u16>> {
    let mut out = Vec::new();
    for mask in 0u32..(1 << n) {
        if mask.count_ones() as usize == k {
            out.push((0..n).filter(|i| mask & (1 << i) != 0).collect());
        }
    }
    out
}

fn requests<S: Scheme>() -> Vec<SignRequest> {
    let msg = b"conclave frost test message".to_vec();
    match S::ID {
        SchemeId::Bip340 => vec![
            SignRequest::new([7u8; 32]),
            SignRequest::taproot([7u8; 32], None),
            SignRequest::taproot(msg.clone(), Some([0x5a; 32])),
        ],
        _ => vec![SignRequest::new(msg)],
    }
}

fn run<S: Scheme>(t: u16, n: u16, salt: u64, all_subsets: bool) {
    let mut rng = conclave_testkit::rng(salt);
    let keys = keygen::<S>(t, n, &mut rng);
    let sets: Vec<Vec<u16>> = if all_subsets {
        (usize::from(t)..=usize::from(n)).flat_map(|k| subsets(n, k)).collect()
    } else {
        // The first t, the last t, and everyone.
        vec![(0..t).collect(), (n - t..n).collect(), (0..n).collect()]
    };
    let group_key = keys.values().next().unwrap().public_key();
    for signers in sets {
        for req in requests::<S>() {
            let (_, out) = sign::<S>(&keys, &signers, &req, &mut rng, |s| s);
            let sig = agreed(&out, &req.message);
            // The key the signature verifies under is the group key (or its Taproot output key).
            let enc = <S::Curve as Curve>::encode_point(&group_key);
            match (S::ID, req.tweak) {
                (SchemeId::Bip340, conclave_frost::Tweak::None) => assert_eq!(sig.public_key, enc[1..]),
                (SchemeId::Bip340, conclave_frost::Tweak::Taproot { merkle_root }) => {
                    let x: [u8; 32] = enc[1..].try_into().unwrap();
                    let o = conclave_frost::taproot::output_key(&x, merkle_root.as_ref()).unwrap();
                    assert_eq!(sig.public_key, o.output_key);
                }
                _ => assert_eq!(sig.public_key, enc),
            }
            assert!(!sig.verify(b"another message"));
        }
    }
    let _ = group_key.to_bytes();
}

#[test]
fn ed25519_2_of_3_every_subset() {
    run::<Ed25519>(2, 3, 1, true);
}

#[test]
fn secp256k1_2_of_3_every_subset() {
    run::<Secp256k1>(2, 3, 2, true);
}

#[test]
fn bip340_2_of_3_every_subset() {
    run::<Bip340>(2, 3, 3, true);
}

#[test]
fn ed25519_3_of_5_and_5_of_9() {
    run::<Ed25519>(3, 5, 4, false);
    run::<Ed25519>(5, 9, 5, false);
}

#[test]
fn secp256k1_3_of_5_and_5_of_9() {
    run::<Secp256k1>(3, 5, 6, false);
    run::<Secp256k1>(5, 9, 7, false);
}

#[test]
fn bip340_3_of_5_and_5_of_9() {
    run::<Bip340>(3, 5, 8, false);
    run::<Bip340>(5, 9, 9, false);
}

/// Formatting a signer's machine (state, nonces, key package) shows no secret.
#[test]
fn debug_output_reveals_no_secret() {
    use conclave_protocol::sim::Network;
    use conclave_protocol::{PartyIndex, PartySet};
    let mut rng = conclave_testkit::rng(77);
    let keys = keygen::<Secp256k1>(2, 3, &mut rng);
    let net = Network::new(&mut rng, PartySet::range(2).unwrap());
    let me = PartyIndex(0);
    let m = conclave_frost::start::<Secp256k1>(
        net.config(me).unwrap(),
        &keys[&me],
        &SignRequest::new(b"x".to_vec()),
        &mut rng,
    )
    .unwrap();
    let dbg = format!("{m:?}");
    let secret = <Secp256k1 as Scheme>::Curve::encode_scalar(keys[&me].expose_secret_share().expose_secret());
    assert!(!dbg.contains(&hex::encode(&secret)), "{dbg}");
    assert!(!dbg.contains(&format!("{:?}", secret)), "{dbg}");
    assert!(dbg.contains("Nonces(<redacted>)"), "{dbg}");
}

/// The caller's mistakes are `InvalidInput`, before anything is sent.
#[test]
fn invalid_requests_are_refused() {
    use conclave_frost::SignError;
    use conclave_protocol::sim::Network;
    use conclave_protocol::{PartyIndex, PartySet};
    let mut rng = conclave_testkit::rng(78);
    let ed = keygen::<Ed25519>(2, 3, &mut rng);
    let k1 = keygen::<Secp256k1>(3, 4, &mut rng);
    let me = PartyIndex(0);
    let start_ed = |signers: Vec<u16>, req: SignRequest, rng: &mut rand_chacha::ChaCha20Rng| {
        let net = Network::new(rng, PartySet::new(signers.into_iter().map(PartyIndex)).unwrap());
        conclave_frost::start::<Ed25519>(net.config(me).unwrap(), &ed[&me], &req, rng).map(|_| ())
    };
    // Taproot tweak on Ed25519.
    assert!(matches!(
        start_ed(vec![0, 1], SignRequest::taproot(vec![1], None), &mut rng),
        Err(SignError::InvalidInput(_))
    ));
    // Fewer signers than the threshold.
    assert!(matches!(start_ed(vec![0], SignRequest::new(vec![1]), &mut rng), Err(SignError::InvalidInput(_))));
    // A signer without a share of the key.
    assert!(matches!(start_ed(vec![0, 1, 7], SignRequest::new(vec![1]), &mut rng), Err(SignError::InvalidInput(_))));
    // Someone else's key share.
    let net = Network::new(&mut rng, PartySet::range(3).unwrap());
    let r = conclave_frost::start::<Secp256k1>(
        net.config(me).unwrap(),
        &k1[&PartyIndex(1)],
        &SignRequest::new(vec![1]),
        &mut rng,
    );
    assert!(matches!(r, Err(SignError::InvalidInput(_))));
    // Taproot on plain FROST secp256k1.
    let r = conclave_frost::start::<Secp256k1>(
        net.config(me).unwrap(),
        &k1[&me],
        &SignRequest::taproot(vec![1], None),
        &mut rng,
    );
    assert!(matches!(r, Err(SignError::InvalidInput(_))));
}

/// The in-process helper the demo calls returns the agreed signature.
#[test]
fn sign_in_process_for_the_demo() {
    use conclave_protocol::PartySet;
    let mut rng = conclave_testkit::rng(79);
    let keys = keygen::<Bip340>(2, 3, &mut rng);
    let req = SignRequest::taproot([1u8; 32], None);
    let sig = conclave_frost::sim::sign_in_process::<Bip340>(
        &keys,
        &PartySet::new([common::p(0), common::p(2)]).unwrap(),
        &req,
        &mut rng,
    )
    .unwrap();
    assert!(sig.verify(&req.message));
    assert_eq!(sig.signature.len(), 64);
    assert_eq!(sig.public_key.len(), 32);
}
