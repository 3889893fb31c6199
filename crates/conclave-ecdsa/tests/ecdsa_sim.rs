//! Threshold ECDSA simulations: presign then sign, and interactive signing, for (2,2), (2,3)
//! (every signer subset) and (3,5) on both curves, with and without derivation paths. Every signature is
//! checked by RustCrypto's verifier (inside `Signature::verify`) and by recomputing the
//! expected derived public key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;

use common::{aux_infos, keygen, signer_network};
use conclave_ecdsa::hd::{derive, DerivationPath};
use conclave_ecdsa::presign::{self, ThresholdCurve};
use conclave_ecdsa::sign;
use conclave_ecdsa::{HashName, SignedData};
use conclave_math::{Secp256k1, P256};
use conclave_protocol::sim::Simulation;
use conclave_protocol::PartyIndex;
use rand_core::RngCore;

fn presign_then_sign<C: ThresholdCurve>(t: u16, n: u16, signers: &[u16], path: &str, salt: u64) {
    let keys = keygen::<C>(t, n, salt);
    let aux = aux_infos(n);
    let path: DerivationPath = path.parse().unwrap();
    let (net, mut rng) = signer_network(signers, salt + 1);
    let machines: BTreeMap<_, _> = net
        .parties
        .iter()
        .map(|p| (p, presign::start::<C>(net.config(p).unwrap(), &keys[&p], aux[&p].clone(), &path, &mut rng).unwrap()))
        .collect();
    let out = Simulation::new(net.clone(), machines, rng.next_u64()).run();
    let presigs: BTreeMap<_, _> = out.results.into_iter().map(|(p, r)| (p, r.unwrap())).collect();
    // Sign one message with the presignatures (a new session).
    let data = SignedData::Message { hash: HashName::Sha256, message: b"conclave test message".to_vec() };
    let net2 = net.in_session(conclave_protocol::SessionId::random(&mut rng));
    let machines: BTreeMap<_, _> = presigs
        .into_iter()
        .map(|(p, ps)| (p, sign::start::<C>(net2.config(p).unwrap(), ps, &data, &mut rng).unwrap()))
        .collect();
    let out = Simulation::new(net2, machines, rng.next_u64()).run();
    let first = &keys[&PartyIndex(signers[0])];
    let expected = derive::<C>(&first.public_key(), &first.public().chain_code, &path).unwrap().public_key;
    let mut sigs = Vec::new();
    for (p, r) in out.results {
        let s = r.unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(s.public_key, expected);
        assert!(s.signature.verify(&expected, &data.digest()));
        sigs.push(s);
    }
    assert!(sigs.windows(2).all(|w| w[0] == w[1]), "every signer outputs the same signature");
}

#[test]
fn secp256k1_2_of_3_every_subset() {
    for (k, signers) in [[0u16, 1], [0, 2], [1, 2]].iter().enumerate() {
        presign_then_sign::<Secp256k1>(2, 3, signers, "m", 10 + k as u64);
    }
}

#[test]
fn p256_2_of_3_every_subset() {
    for (k, signers) in [[0u16, 1], [0, 2], [1, 2]].iter().enumerate() {
        presign_then_sign::<P256>(2, 3, signers, "m", 40 + k as u64);
    }
}

#[test]
fn p256_2_of_3_with_derivation() {
    presign_then_sign::<P256>(2, 3, &[0, 2], "m/7/3", 20);
}

#[test]
fn two_of_two_on_both_curves() {
    presign_then_sign::<Secp256k1>(2, 2, &[0, 1], "m", 50);
    presign_then_sign::<P256>(2, 2, &[0, 1], "m/1", 51);
}

#[test]
fn secp256k1_3_of_5_three_signers_derived() {
    presign_then_sign::<Secp256k1>(3, 5, &[1, 3, 4], "m/44/0/5", 30);
}

#[test]
fn p256_3_of_5_three_signers() {
    presign_then_sign::<P256>(3, 5, &[0, 2, 4], "m", 60);
}

#[test]
fn interactive_signing_of_a_digest() {
    let keys = keygen::<Secp256k1>(2, 3, 40);
    let aux = aux_infos(3);
    let (net, mut rng) = signer_network(&[0, 1, 2], 41);
    let digest = HashName::Keccak256.digest(b"raw digest from the caller");
    let data = SignedData::Prehashed(digest);
    let machines: BTreeMap<_, _> = net
        .parties
        .iter()
        .map(|p| {
            let m = sign::start_interactive::<Secp256k1>(
                net.config(p).unwrap(),
                &keys[&p],
                aux[&p].clone(),
                &DerivationPath::root(),
                data.clone(),
                &mut rng,
            )
            .unwrap();
            (p, m)
        })
        .collect();
    let out = Simulation::new(net, machines, rng.next_u64()).run();
    let pk = keys[&PartyIndex(0)].public_key();
    for (p, r) in out.results {
        let s = r.unwrap_or_else(|e| panic!("{p}: {e}"));
        assert!(s.signature.verify(&pk, &digest));
        // Ethereum-style recovery with the recovery id gives the key back.
        let reference =
            k256::ecdsa::Signature::from_scalars(s.signature.r.to_bytes(), s.signature.s.to_bytes()).unwrap();
        let recovered = k256::ecdsa::VerifyingKey::recover_from_prehash(
            &digest,
            &reference,
            k256::ecdsa::RecoveryId::from_byte(s.recovery_id).unwrap(),
        )
        .unwrap();
        assert_eq!(recovered.as_affine(), &pk.to_affine());
    }
}

#[test]
fn raw_digest_with_a_stored_presignature_is_refused() {
    let keys = keygen::<Secp256k1>(2, 2, 50);
    let aux = aux_infos(2);
    let (net, mut rng) = signer_network(&[0, 1], 51);
    let machines: BTreeMap<_, _> = net
        .parties
        .iter()
        .map(|p| {
            let m = presign::start::<Secp256k1>(
                net.config(p).unwrap(),
                &keys[&p],
                aux[&p].clone(),
                &DerivationPath::root(),
                &mut rng,
            )
            .unwrap();
            (p, m)
        })
        .collect();
    let mut out = Simulation::new(net.clone(), machines, rng.next_u64()).run();
    let ps = out.results.remove(&PartyIndex(0)).unwrap().unwrap();
    let shown = format!("{ps:?}");
    assert!(shown.contains("REDACTED"));
    let err =
        sign::start::<Secp256k1>(net.config(PartyIndex(0)).unwrap(), ps, &SignedData::Prehashed([1; 32]), &mut rng)
            .unwrap_err();
    assert!(matches!(err, conclave_ecdsa::SignError::InvalidInput(_)), "{err}");
}

#[test]
fn too_few_signers_is_the_callers_fault() {
    let keys = keygen::<Secp256k1>(3, 3, 60);
    let aux = aux_infos(3);
    let (net, mut rng) = signer_network(&[0, 1], 61);
    let err = presign::start::<Secp256k1>(
        net.config(PartyIndex(0)).unwrap(),
        &keys[&PartyIndex(0)],
        aux[&PartyIndex(0)].clone(),
        &DerivationPath::root(),
        &mut rng,
    )
    .unwrap_err();
    assert!(matches!(err, conclave_ecdsa::SignError::InvalidInput(_)), "{err}");
}
