//! Known-answer vectors: RFC 9591 (FROST, intermediate values included), BIP-340 (our verify
//! path), BIP-341 (our Taproot tweak and the ciphersuite's).
//!
//! The vectors live in `../shared/vectors/` beside the repository checkout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test code

use std::collections::BTreeMap;

use conclave_frost::scheme::{Bip340, Scheme};
use conclave_frost::taproot;
use frost_core::keys::{KeyPackage, PublicKeyPackage, SigningShare, VerifyingShare};
use frost_core::round1::{Nonce, SigningNonces};
use frost_core::{Ciphersuite, Identifier, SigningPackage, VerifyingKey};
use rand_core::{CryptoRng, RngCore};
use serde_json::Value;

fn vectors_dir() -> String {
    format!("{}/../../../shared/vectors", env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    let full = format!("{}/{path}", vectors_dir());
    std::fs::read_to_string(&full)
        .unwrap_or_else(|e| panic!("cannot read {full}: {e} (shared/ must sit beside the checkout)"))
}

fn json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

/// An RNG that replays fixed bytes (the vectors' nonce randomness).
struct Replay(Vec<u8>);

impl RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        unimplemented!()
    }
    fn next_u64(&mut self) -> u64 {
        unimplemented!()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        assert!(self.0.len() >= dest.len(), "replay RNG exhausted");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl CryptoRng for Replay {}

/// Checks one RFC 9591 ciphersuite: shares, nonces (from the given randomness, through the
/// same `round1::commit` our signers call), commitments, binding-factor inputs and binding
/// factors, signature shares, share verification and the final signature.
fn rfc9591<C: Ciphersuite>(file: &str) {
    let v = json(file);
    let inputs = &v["inputs"];
    let min: u16 = v["config"]["MIN_PARTICIPANTS"].as_str().unwrap().parse().unwrap();
    let vk = VerifyingKey::<C>::deserialize(&hx(&inputs["group_public_key"])).unwrap();
    let message = hx(&inputs["message"]);

    let mut shares = BTreeMap::new();
    for s in inputs["participant_shares"].as_array().unwrap() {
        let id = Identifier::<C>::try_from(s["identifier"].as_u64().unwrap() as u16).unwrap();
        shares.insert(id, SigningShare::<C>::deserialize(&hx(&s["participant_share"])).unwrap());
    }
    // The shares are the given polynomial's evaluations at the identifiers.
    let secret = SigningShare::<C>::deserialize(&hx(&inputs["group_secret_key"])).unwrap();
    let coeffs: Vec<_> = std::iter::once(secret.to_scalar())
        .chain(
            inputs["share_polynomial_coefficients"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| SigningShare::<C>::deserialize(&hx(c)).unwrap().to_scalar()),
        )
        .collect();
    for (id, share) in &shares {
        assert_eq!(SigningShare::<C>::from_coefficients(&coeffs, *id), *share, "share of {id:?}");
    }
    let verifying_shares: BTreeMap<_, _> = shares.iter().map(|(id, s)| (*id, VerifyingShare::<C>::from(*s))).collect();
    let public = PublicKeyPackage::new(verifying_shares.clone(), vk, Some(min));

    // Round one.
    let mut nonces = BTreeMap::new();
    let mut commitments = BTreeMap::new();
    let round_one = v["round_one_outputs"]["outputs"].as_array().unwrap();
    for o in round_one {
        let id = Identifier::<C>::try_from(o["identifier"].as_u64().unwrap() as u16).unwrap();
        let share = shares[&id];
        let (hr, br) = (hx(&o["hiding_nonce_randomness"]), hx(&o["binding_nonce_randomness"]));
        // nonce_generate(secret) = H3(random_bytes || SerializeScalar(secret)).
        let h = Nonce::<C>::from_scalar(C::H3(&[hr.as_slice(), share.serialize().as_slice()].concat()));
        let b = Nonce::<C>::from_scalar(C::H3(&[br.as_slice(), share.serialize().as_slice()].concat()));
        assert_eq!(h.serialize(), hx(&o["hiding_nonce"]), "hiding nonce of {id:?}");
        assert_eq!(b.serialize(), hx(&o["binding_nonce"]), "binding nonce of {id:?}");
        // The function our signers call, fed the vector's randomness, gives the same nonces.
        let (n, c) = frost_core::round1::commit::<C, _>(&share, &mut Replay([hr, br].concat()));
        assert_eq!(n, SigningNonces::from_nonces(h, b));
        assert_eq!(c.hiding().serialize().unwrap(), hx(&o["hiding_nonce_commitment"]));
        assert_eq!(c.binding().serialize().unwrap(), hx(&o["binding_nonce_commitment"]));
        nonces.insert(id, n);
        commitments.insert(id, c);
    }
    let package = SigningPackage::new(commitments.clone(), &message);

    // Binding factors.
    let preimages: BTreeMap<_, _> = package.binding_factor_preimages(&vk, &[]).unwrap().into_iter().collect();
    let factors = frost_core::compute_binding_factor_list(&package, &vk, &[]).unwrap();
    for o in round_one {
        let id = Identifier::<C>::try_from(o["identifier"].as_u64().unwrap() as u16).unwrap();
        assert_eq!(preimages[&id], hx(&o["binding_factor_input"]), "binding factor input of {id:?}");
        assert_eq!(factors.get(&id).unwrap().serialize(), hx(&o["binding_factor"]), "binding factor of {id:?}");
    }

    // Round two: signature shares, each verified.
    let mut sig_shares = BTreeMap::new();
    for o in v["round_two_outputs"]["outputs"].as_array().unwrap() {
        let id = Identifier::<C>::try_from(o["identifier"].as_u64().unwrap() as u16).unwrap();
        let kp = KeyPackage::new(id, shares[&id], verifying_shares[&id], vk, min);
        let z = frost_core::round2::sign(&package, &nonces[&id], &kp).unwrap();
        assert_eq!(z.serialize(), hx(&o["sig_share"]), "signature share of {id:?}");
        frost_core::verify_signature_share(id, &verifying_shares[&id], &z, &package, &vk).unwrap();
        sig_shares.insert(id, z);
    }
    let sig = frost_core::aggregate(&package, &sig_shares, &public).unwrap();
    assert_eq!(sig.serialize().unwrap(), hx(&v["final_output"]["sig"]));
    vk.verify(&message, &sig).unwrap();
}

#[test]
fn rfc9591_ed25519_sha512() {
    rfc9591::<frost_ed25519::Ed25519Sha512>("rfc9591-frost/frost-ed25519-sha512.json");
    // And the final signature through our published verify path.
    let v = json("rfc9591-frost/frost-ed25519-sha512.json");
    assert!(conclave_frost::Ed25519::verify(
        &hx(&v["inputs"]["group_public_key"]),
        &hx(&v["inputs"]["message"]),
        &hx(&v["final_output"]["sig"])
    ));
}

#[test]
fn rfc9591_secp256k1_sha256() {
    rfc9591::<frost_secp256k1::Secp256K1Sha256>("rfc9591-frost/frost-secp256k1-sha256.json");
    let v = json("rfc9591-frost/frost-secp256k1-sha256.json");
    assert!(conclave_frost::Secp256k1::verify(
        &hx(&v["inputs"]["group_public_key"]),
        &hx(&v["inputs"]["message"]),
        &hx(&v["final_output"]["sig"])
    ));
}

#[test]
fn bip340_verify_vectors() {
    let csv = read("bip340/test-vectors.csv");
    let mut rows = 0;
    for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let (index, pk, msg, sig, result) = (f[0], f[2], f[4], f[5], f[6]);
        let (pk, msg, sig) = (hex::decode(pk).unwrap(), hex::decode(msg).unwrap(), hex::decode(sig).unwrap());
        let expected = result == "TRUE";
        assert_eq!(Bip340::verify(&pk, &msg, &sig), expected, "BIP-340 vector {index}: {line}");
        assert_eq!(conclave_frost::verify(conclave_frost::SchemeId::Bip340, &pk, &msg, &sig), expected);
        rows += 1;
    }
    assert_eq!(rows, 19);
}

fn merkle_root(v: &Value) -> Option<[u8; 32]> {
    (!v.is_null()).then(|| hx(v).try_into().unwrap())
}

#[test]
fn bip341_tweak_vectors() {
    use frost_secp256k1_tr::keys::Tweak as _;
    let v = json("bip341/wallet-test-vectors.json");
    let mut cases = 0;
    for case in v["scriptPubKey"].as_array().unwrap() {
        let internal: [u8; 32] = hx(&case["given"]["internalPubkey"]).try_into().unwrap();
        let root = merkle_root(&case["intermediary"]["merkleRoot"]);
        // Ours.
        let out = taproot::output_key(&internal, root.as_ref()).unwrap();
        assert_eq!(out.tweak.to_vec(), hx(&case["intermediary"]["tweak"]));
        assert_eq!(out.output_key.to_vec(), hx(&case["intermediary"]["tweakedPubkey"]));
        assert_eq!(taproot::script_pubkey(&out.output_key), hx(&case["expected"]["scriptPubKey"]));
        // The ciphersuite's, as the signing protocol applies it (to the public key package).
        let vk = frost_secp256k1_tr::VerifyingKey::deserialize(&[&[2u8][..], &internal].concat()).unwrap();
        let tweaked = frost_secp256k1_tr::keys::PublicKeyPackage::new(BTreeMap::new(), vk, None).tweak(root.as_ref());
        assert_eq!(Bip340::public_key_bytes(tweaked.verifying_key()).unwrap(), out.output_key.to_vec());
        cases += 1;
    }
    assert_eq!(cases, 7);
}

#[test]
fn bip341_key_path_vectors() {
    use frost_secp256k1_tr::keys::Tweak as _;
    let v = json("bip341/wallet-test-vectors.json");
    let mut cases = 0;
    for spend in v["keyPathSpending"].as_array().unwrap() {
        for input in spend["inputSpending"].as_array().unwrap() {
            let sk = hx(&input["given"]["internalPrivkey"]);
            let root = merkle_root(&input["given"]["merkleRoot"]);
            // The private-key side of the tweak (with BIP-340's even-Y negation), as the
            // signing protocol applies it to each share.
            let share = frost_secp256k1_tr::keys::SigningShare::deserialize(&sk).unwrap();
            let vs = frost_secp256k1_tr::keys::VerifyingShare::from(share);
            let vk = frost_secp256k1_tr::VerifyingKey::new(vs.to_element());
            let id = frost_secp256k1_tr::Identifier::try_from(1).unwrap();
            let kp = frost_secp256k1_tr::keys::KeyPackage::new(id, share, vs, vk, 1).tweak(root.as_ref());
            assert_eq!(kp.signing_share().serialize(), hx(&input["intermediary"]["tweakedPrivkey"]));
            let internal: [u8; 32] = hx(&input["intermediary"]["internalPubkey"]).try_into().unwrap();
            let out = taproot::output_key(&internal, root.as_ref()).unwrap();
            assert_eq!(out.tweak.to_vec(), hx(&input["intermediary"]["tweak"]));
            assert_eq!(Bip340::public_key_bytes(kp.verifying_key()).unwrap(), out.output_key.to_vec());
            // The expected witness signature verifies on the sighash under the output key.
            let witness = hx(&input["expected"]["witness"][0]);
            let sighash = hx(&input["intermediary"]["sigHash"]);
            assert!(Bip340::verify(&out.output_key, &sighash, &witness[..64]));
            cases += 1;
        }
    }
    assert_eq!(cases, 7);
}
