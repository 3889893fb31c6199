//! Shared test helpers: fixture loading and seeded RNGs.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation is a test failure"
)]

use conclave_paillier::{DecryptionKey, Integer};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::path::PathBuf;

/// The crate's own fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// `shared/vectors/paillier-fixtures`, beside the repository.
pub fn shared_vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/paillier-fixtures")
}

pub fn read_json(path: PathBuf) -> serde_json::Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn hex_int(v: &serde_json::Value) -> Integer {
    Integer::from_str_radix(v.as_str().unwrap(), 16).unwrap()
}

/// The 1536-bit safe-prime pairs of `fixtures/safe-primes-1536.json`.
pub fn fixture_pairs() -> Vec<(Integer, Integer)> {
    let json = read_json(fixtures_dir().join("safe-primes-1536.json"));
    assert_eq!(json["version"], 1);
    assert_eq!(json["bits"], 1536);
    json["pairs"].as_array().unwrap().iter().map(|pair| (hex_int(&pair["p"]), hex_int(&pair["q"]))).collect()
}

/// A Paillier key from fixture pair `i`.
pub fn fixture_key(i: usize) -> DecryptionKey {
    let (p, q) = fixture_pairs().swap_remove(i);
    DecryptionKey::from_safe_primes(p, q).unwrap()
}

/// A deterministic RNG; the seed is part of every assertion message that uses it.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}
