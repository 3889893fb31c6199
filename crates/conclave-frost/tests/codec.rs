//! Wire decoders never panic on arbitrary bytes, and round-trip what they accept.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test code

use conclave_frost::msg::{Commit, Share};
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Ed25519, Secp256k1};
use proptest::prelude::*;

fn no_panic<C: Curve>(bytes: &[u8]) {
    if let Ok(c) = Commit::<C>::from_bytes(bytes) {
        assert_eq!(c.to_bytes(), bytes);
    }
    if let Ok(s) = Share::<C>::from_bytes(bytes) {
        assert_eq!(s.to_bytes(), bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        no_panic::<Ed25519>(&bytes);
        no_panic::<Secp256k1>(&bytes);
    }

    /// Valid messages with some bytes flipped: the decoders reject or round-trip, never panic.
    #[test]
    fn mutated_messages(seed in any::<u64>(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4), cut in any::<usize>()) {
        use rand_core::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        for bytes in [
            Commit::<Secp256k1> { signer: conclave_protocol::PartyIndex(3), request: [7; 32], hiding: Secp256k1::mul_base(&Secp256k1::random_nonzero_scalar(&mut rng)), binding: Secp256k1::generator() }.to_bytes(),
            Commit::<Ed25519> { signer: conclave_protocol::PartyIndex(1), request: [9; 32], hiding: Ed25519::mul_base(&Ed25519::random_nonzero_scalar(&mut rng)), binding: Ed25519::generator() }.to_bytes(),
            Share::<Secp256k1> { share: Secp256k1::random_scalar(&mut rng) }.to_bytes(),
            Share::<Ed25519> { share: Ed25519::random_scalar(&mut rng) }.to_bytes(),
        ] {
            let mut b = bytes.clone();
            for (i, x) in &flips {
                let n = b.len();
                b[i % n] ^= x;
            }
            no_panic::<Secp256k1>(&b);
            no_panic::<Ed25519>(&b);
            no_panic::<Secp256k1>(&bytes[..cut % bytes.len()]);
            no_panic::<Ed25519>(&bytes[..cut % bytes.len()]);
        }
    }
}

#[test]
fn round_trip() {
    let c = Commit::<Secp256k1> {
        signer: conclave_protocol::PartyIndex(2),
        request: [1; 32],
        hiding: Secp256k1::generator(),
        binding: Secp256k1::generator(),
    };
    assert_eq!(Commit::<Secp256k1>::from_bytes(&c.to_bytes()).unwrap(), c);
    assert_eq!(c.to_bytes().len(), 2 + 32 + 33 + 33);
}
