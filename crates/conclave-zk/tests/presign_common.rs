//! Shared fixtures of the presigning-proof tests (included by the `presign_*` test files
//! with `#[path]`; compiled on its own it holds no test).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use conclave_math::{ProofContext, Transcript};
use conclave_paillier::{generate_ring_pedersen, DecryptionKey, Integer, RingPedersenParams};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::sync::OnceLock;

/// Prover key, verifier key, verifier ring-Pedersen parameters.
#[derive(Debug)]
pub struct Fixture {
    pub prover: DecryptionKey,
    pub verifier: DecryptionKey,
    pub rp: RingPedersenParams,
}

/// The 1536-bit safe-prime pairs of `conclave-paillier/fixtures/safe-primes-1536.json`
/// (parsed by hand: the file is a flat list of `"p": "<hex>"`, `"q": "<hex>"`).
pub fn fixture_pairs() -> Vec<(Integer, Integer)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../conclave-paillier/fixtures/safe-primes-1536.json");
    let text = std::fs::read_to_string(path).unwrap();
    let hex_after = |key: &str| -> Vec<Integer> {
        text.match_indices(key)
            .map(|(i, _)| {
                let rest = &text[i + key.len()..];
                let start = rest.find('"').unwrap() + 1;
                let end = start + rest[start..].find('"').unwrap();
                Integer::from_str_radix(&rest[start..end], 16).unwrap()
            })
            .collect()
    };
    let ps = hex_after("\"p\":");
    let qs = hex_after("\"q\":");
    assert_eq!(ps.len(), qs.len());
    ps.into_iter().zip(qs).collect()
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut pairs = fixture_pairs();
        let (p1, q1) = pairs.swap_remove(1);
        let (p0, q0) = pairs.swap_remove(0);
        let prover = DecryptionKey::from_safe_primes(p0, q0).unwrap();
        let verifier = DecryptionKey::from_safe_primes(p1, q1).unwrap();
        let (rp, _) = generate_ring_pedersen(&mut rng(99), &verifier).unwrap();
        Fixture { prover, verifier, rp }
    })
}

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn ctx(domain: &'static str, prover: u16, session: &[u8]) -> Transcript {
    Transcript::for_proof(
        domain,
        &ProofContext { protocol: "conclave/presign-test", version: 1, session, round: 1, prover, parties: &[0, 1, 2] },
    )
}

/// A value of `(0, n)` that shares the factor `p` with `n` (so it is not in `Z*_n`).
pub fn non_unit(p: &Integer) -> Integer {
    Integer::from(p * 2u32)
}
