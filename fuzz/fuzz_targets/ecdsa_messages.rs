//! CGGMP24 presigning and signing wire messages.
#![no_main]

use conclave_ecdsa::presign::{
    AbortBroadcast, Round1Broadcast, Round1Direct, Round2Broadcast, Round2Direct, Round3Broadcast,
};
use conclave_ecdsa::sign::PartialSignature;
use conclave_math::codec::Decode;
use conclave_math::{Secp256k1, P256};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Round1Broadcast::<Secp256k1>::from_bytes(data);
    let _ = Round1Broadcast::<P256>::from_bytes(data);
    let _ = Round1Direct::<Secp256k1>::from_bytes(data);
    let _ = Round2Broadcast::<Secp256k1>::from_bytes(data);
    let _ = Round2Direct::<Secp256k1>::from_bytes(data);
    let _ = Round3Broadcast::<Secp256k1>::from_bytes(data);
    let _ = Round3Broadcast::<P256>::from_bytes(data);
    let _ = AbortBroadcast::<Secp256k1>::from_bytes(data);
    let _ = PartialSignature::<Secp256k1>::from_bytes(data);
    let _ = PartialSignature::<P256>::from_bytes(data);
});
