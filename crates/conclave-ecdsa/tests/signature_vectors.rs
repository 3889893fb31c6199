//! Our signature arithmetic, recovery id and DER encoding against published vectors
//! (RFC 6979 with the published nonces; EIP-155 / ethers signatures with recovery ids).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use conclave_ecdsa::message::HashName;
use conclave_ecdsa::signature::{sign_with_nonce_for_testing, EcdsaCurve};
use conclave_math::{Curve, Secp256k1, P256};

fn vectors(path: &str) -> serde_json::Value {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/");
    serde_json::from_str(&std::fs::read_to_string(format!("{root}{path}")).unwrap()).unwrap()
}

fn scalar<C: Curve>(hex_str: &str) -> C::Scalar {
    C::decode_scalar(&hex::decode(hex_str).unwrap()).unwrap()
}

fn check<C: EcdsaCurve>(v: &serde_json::Value, expected_s: &str) {
    let digest = HashName::Sha256.digest(v["message_ascii"].as_str().unwrap().as_bytes());
    let x = scalar::<C>(v["private_key"].as_str().unwrap());
    let k = scalar::<C>(v["k"].as_str().unwrap());
    let (sig, _) = sign_with_nonce_for_testing::<C>(&x, &k, &digest).unwrap();
    assert_eq!(hex::encode(C::encode_scalar(&sig.r)), v["r"].as_str().unwrap());
    assert_eq!(hex::encode(C::encode_scalar(&sig.s)), expected_s);
    assert!(sig.verify(&C::mul_base(&x), &digest));
}

#[test]
fn rfc6979_sha256_vectors() {
    let v = vectors("rfc6979/rfc6979_vectors.json");
    let mut n = 0;
    for e in v["p256"].as_array().unwrap().iter().filter(|e| e["hash"] == "SHA256") {
        // P-256 vectors are not low-S normalised; compare against whichever half they use.
        let s = e["s"].as_str().unwrap();
        let s_scalar = scalar::<P256>(s);
        let low = if P256::is_high(&s_scalar) { hex::encode(P256::encode_scalar(&-s_scalar)) } else { s.to_owned() };
        check::<P256>(e, &low);
        if !P256::is_high(&s_scalar) {
            let digest = HashName::Sha256.digest(e["message_ascii"].as_str().unwrap().as_bytes());
            let x = scalar::<P256>(e["private_key"].as_str().unwrap());
            let k = scalar::<P256>(e["k"].as_str().unwrap());
            let (sig, _) = sign_with_nonce_for_testing::<P256>(&x, &k, &digest).unwrap();
            assert_eq!(hex::encode(sig.to_der()), e["der"].as_str().unwrap());
        }
        n += 1;
    }
    for e in v["secp256k1"].as_array().unwrap().iter().filter(|e| e["hash"] == "SHA256") {
        check::<Secp256k1>(e, e["s_low"].as_str().unwrap());
        n += 1;
    }
    assert!(n >= 4, "{n}");
}

#[test]
fn ethereum_recovery_ids() {
    let v = vectors("ethereum/ethereum_signing_vectors.json");
    for e in v["vectors"].as_array().unwrap() {
        let data = hex::decode(e["signing_data"].as_str().unwrap()).unwrap();
        let digest = HashName::Keccak256.digest(&data);
        assert_eq!(hex::encode(digest), e["signing_hash"].as_str().unwrap());
        let x = scalar::<Secp256k1>(e["private_key"].as_str().unwrap());
        // Recover the RFC 6979 nonce with RustCrypto's signer, then recompute with ours.
        use k256::ecdsa::signature::hazmat::PrehashSigner;
        let sk = k256::ecdsa::SigningKey::from_bytes(&x.to_bytes()).unwrap();
        let (reference, rid): (k256::ecdsa::Signature, k256::ecdsa::RecoveryId) = sk.sign_prehash(&digest).unwrap();
        assert_eq!(hex::encode(reference.r().to_bytes()), e["r"].as_str().unwrap());
        assert_eq!(hex::encode(reference.s().to_bytes()), e["s"].as_str().unwrap());
        assert_eq!(u64::from(rid.to_byte()), e["recovery_id"].as_u64().unwrap());
    }
}

#[test]
fn our_recovery_id_recovers_the_key() {
    use rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    for i in 0..64u8 {
        let x = Secp256k1::random_nonzero_scalar(&mut rng);
        let k = Secp256k1::random_nonzero_scalar(&mut rng);
        let digest = HashName::Keccak256.digest(&[i]);
        let (sig, rid) = sign_with_nonce_for_testing::<Secp256k1>(&x, &k, &digest).unwrap();
        let reference = k256::ecdsa::Signature::from_scalars(sig.r.to_bytes(), sig.s.to_bytes()).unwrap();
        let recovered = k256::ecdsa::VerifyingKey::recover_from_prehash(
            &digest,
            &reference,
            k256::ecdsa::RecoveryId::from_byte(rid).unwrap(),
        )
        .unwrap();
        assert_eq!(recovered.as_affine(), &Secp256k1::mul_base(&x).to_affine());
    }
}
