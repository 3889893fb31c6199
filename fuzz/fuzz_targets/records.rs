//! Store record payloads: public key shares, key shares, aux info, presignatures.
#![no_main]

use conclave_ecdsa::Presignature;
use conclave_keygen::{AuxInfo, KeyShare, PublicKeyShare};
use conclave_math::{Ed25519, Secp256k1, P256};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = PublicKeyShare::<Secp256k1>::from_record(data);
    let _ = PublicKeyShare::<Ed25519>::from_record(data);
    let _ = KeyShare::<Secp256k1>::from_record(data);
    let _ = KeyShare::<P256>::from_record(data);
    let _ = AuxInfo::from_record(data);
    let _ = Presignature::<Secp256k1>::from_record(data);
    let _ = Presignature::<P256>::from_record(data);
});
