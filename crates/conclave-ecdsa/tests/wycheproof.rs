//! Our ECDSA verify path (strict DER parsing, optional low-S rule, verification) agrees with
//! every Project Wycheproof vector for secp256k1 and P-256 with SHA-256 ("acceptable" cases:
//! none in these files).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use conclave_ecdsa::message::HashName;
use conclave_ecdsa::signature::{verify_der, EcdsaCurve};
use conclave_math::{Secp256k1, P256};

fn run<C: EcdsaCurve>(file: &str, require_low_s: bool) -> (usize, usize) {
    let path = format!("{}/../../../shared/vectors/wycheproof/testvectors_v1/{file}", env!("CARGO_MANIFEST_DIR"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for g in v["testGroups"].as_array().unwrap() {
        assert_eq!(g["sha"], "SHA-256");
        let pk = C::parse_sec1(&hex::decode(g["publicKey"]["uncompressed"].as_str().unwrap()).unwrap());
        for t in g["tests"].as_array().unwrap() {
            let msg = hex::decode(t["msg"].as_str().unwrap()).unwrap();
            let sig = hex::decode(t["sig"].as_str().unwrap()).unwrap();
            let ok =
                pk.as_ref().is_some_and(|pk| verify_der::<C>(pk, &HashName::Sha256.digest(&msg), &sig, require_low_s));
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert!(ok, "{file} tcId {} ({}) should verify", t["tcId"], t["comment"]);
                    valid += 1;
                }
                "invalid" => {
                    assert!(!ok, "{file} tcId {} ({}) should not verify", t["tcId"], t["comment"]);
                    invalid += 1;
                }
                other => panic!("{file} tcId {}: result {other}", t["tcId"]),
            }
        }
    }
    (valid, invalid)
}

#[test]
fn secp256k1_sha256() {
    assert_eq!(run::<Secp256k1>("ecdsa_secp256k1_sha256_test.json", false), (168, 308));
}

#[test]
fn secp256k1_sha256_bitcoin_low_s() {
    assert_eq!(run::<Secp256k1>("ecdsa_secp256k1_sha256_bitcoin_test.json", true), (162, 301));
}

#[test]
fn p256_sha256() {
    assert_eq!(run::<P256>("ecdsa_secp256r1_sha256_test.json", false), (174, 310));
}
