//! BIP-32 and SLIP-10 vectors: every non-hardened step, derived from the parent's public key
//! and chain code alone, gives the published child public key and chain code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use conclave_ecdsa::hd::{derive, DerivationPath, HdCurve};
use conclave_math::{Curve, Secp256k1, P256};

fn vectors(path: &str) -> serde_json::Value {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/");
    let text = std::fs::read_to_string(format!("{root}{path}"))
        .unwrap_or_else(|e| panic!("{root}{path}: {e} (shared/ must sit beside the checkout)"));
    serde_json::from_str(&text).unwrap()
}

fn check_chains<C: HdCurve>(chains: &[serde_json::Value]) -> usize {
    let mut checked = 0;
    for pair in chains.windows(2) {
        let (parent, child) = (&pair[0], &pair[1]);
        let last = child["path"].as_str().unwrap().rsplit('/').next().unwrap();
        if last.ends_with('\'') || last.ends_with('h') {
            continue;
        }
        let index: u32 = last.parse().unwrap();
        let pk = C::decode_point(&hex::decode(parent["public_key"].as_str().unwrap()).unwrap()).unwrap();
        let cc: [u8; 32] = hex::decode(parent["chain_code"].as_str().unwrap()).unwrap().try_into().unwrap();
        let d = derive::<C>(&pk, &cc, &DerivationPath::new(vec![index]).unwrap()).unwrap();
        assert_eq!(
            hex::encode(C::encode_point(&d.public_key)),
            child["public_key"].as_str().unwrap(),
            "{}",
            child["path"]
        );
        assert_eq!(hex::encode(d.chain_code), child["chain_code"].as_str().unwrap(), "{}", child["path"]);
        assert_eq!(d.public_key, pk + C::mul_base(&d.shift));
        checked += 1;
    }
    checked
}

#[test]
fn bip32_public_derivation() {
    let v = vectors("bip32/bip32_test_vectors.json");
    let mut checked = 0;
    for vector in v["vectors"].as_array().unwrap() {
        checked += check_chains::<Secp256k1>(vector["chains"].as_array().unwrap());
    }
    assert_eq!(checked, 6, "the six non-hardened steps of BIP-32 vectors 1-5");
}

#[test]
fn slip10_public_derivation_secp256k1_and_p256() {
    let v = vectors("slip10/slip10_test_vectors.json");
    let (mut k1, mut p256) = (0, 0);
    for vector in v["vectors"].as_array().unwrap() {
        let chains = vector["chains"].as_array().unwrap();
        match vector["curve"].as_str().unwrap() {
            "secp256k1" => k1 += check_chains::<Secp256k1>(chains),
            "nist256p1" => p256 += check_chains::<P256>(chains),
            _ => {}
        }
    }
    assert!(k1 >= 2 && p256 >= 2, "secp256k1 {k1}, nist256p1 {p256}");
}

#[test]
fn multi_level_shift_adds_up() {
    let v = vectors("bip32/bip32_test_vectors.json");
    // Vector 1: m/0'/1/2'/2/1000000000 — from m/0'/1/2' derive /2/1000000000 in one call.
    let chains = v["vectors"][0]["chains"].as_array().unwrap();
    let parent = &chains[3];
    let pk = Secp256k1::decode_point(&hex::decode(parent["public_key"].as_str().unwrap()).unwrap()).unwrap();
    let cc: [u8; 32] = hex::decode(parent["chain_code"].as_str().unwrap()).unwrap().try_into().unwrap();
    let d = derive::<Secp256k1>(&pk, &cc, &"m/2/1000000000".parse().unwrap()).unwrap();
    assert_eq!(hex::encode(Secp256k1::encode_point(&d.public_key)), chains[5]["public_key"].as_str().unwrap());
    assert_eq!(d.public_key, pk + Secp256k1::mul_base(&d.shift));
}
