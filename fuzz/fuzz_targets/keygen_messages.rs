//! DKG, aux-info and reshare wire messages, on every curve.
#![no_main]

use conclave_keygen::{aux_info, dkg, reshare};
use conclave_math::codec::Decode;
use conclave_math::{Ed25519, Secp256k1, P256};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dkg::Commit::from_bytes(data);
    let _ = dkg::Reveal::<Secp256k1>::from_bytes(data);
    let _ = dkg::Reveal::<P256>::from_bytes(data);
    let _ = dkg::Reveal::<Ed25519>::from_bytes(data);
    let _ = dkg::Share::<Secp256k1>::from_bytes(data);
    let _ = dkg::Share::<Ed25519>::from_bytes(data);
    let _ = dkg::Verdict::from_bytes(data);
    let _ = aux_info::AuxCommit::from_bytes(data);
    let _ = aux_info::AuxReveal::from_bytes(data);
    let _ = aux_info::AuxMod::from_bytes(data);
    let _ = aux_info::AuxFac::from_bytes(data);
    let _ = reshare::Commitment::<Secp256k1>::from_bytes(data);
    let _ = reshare::Commitment::<P256>::from_bytes(data);
    let _ = reshare::Commitment::<Ed25519>::from_bytes(data);
    let _ = reshare::Verdict::from_bytes(data);
});
