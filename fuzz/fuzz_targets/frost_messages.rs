//! FROST signing wire messages.
#![no_main]

use conclave_frost::msg::{Commit, Share};
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Ed25519, Secp256k1};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Commit::<Secp256k1>::from_bytes(data) {
        assert_eq!(c.to_bytes(), data);
    }
    if let Ok(c) = Commit::<Ed25519>::from_bytes(data) {
        assert_eq!(c.to_bytes(), data);
    }
    let _ = Share::<Secp256k1>::from_bytes(data);
    let _ = Share::<Ed25519>::from_bytes(data);
});
