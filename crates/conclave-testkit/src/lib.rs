//! Test support for Conclave (never a dependency of production code).
//!
//! * [`rng`]: deterministic RNGs; the seed comes from `CONCLAVE_TEST_SEED` when set and is
//!   printed, so a failure can be replayed.
//! * [`reconstruct_secret`]: Lagrange interpolation of Shamir shares — the operation the
//!   product exists to prevent, available to tests only.
//! * [`assert_blamed`]: every honest party aborted and blamed exactly the expected parties.
//! * [`driver`]: a driver with per-party RNGs, shuffled delivery and messages held past the
//!   deadline (the adversarial matrix's reorder and delay cells).
//! * [`fuzz`]: machine-sequence fuzzing of any [`conclave_protocol::StateMachine`].
//! * [`matrix`]: whole-message faults (drop, duplicate, replay, reorder, delay) for any protocol.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod driver;
pub mod fuzz;
pub mod matrix;

use std::collections::{BTreeMap, BTreeSet};

use conclave_math::poly::{lagrange_at_zero, shamir_x};
use conclave_math::{Curve, SecretScalar};
use conclave_protocol::{Fault, PartyIndex, ProtocolError};
use ff::Field;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// A seeded RNG for a test. With `CONCLAVE_TEST_SEED=<u64>` in the environment, that seed
/// (mixed with `salt`) is used instead; the seed is printed (visible when the test fails).
pub fn rng(salt: u64) -> ChaCha20Rng {
    let base = std::env::var("CONCLAVE_TEST_SEED").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0x5eed);
    let seed = base ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    println!("test rng: CONCLAVE_TEST_SEED={base} salt={salt} (seed {seed})");
    ChaCha20Rng::seed_from_u64(seed)
}

/// Reconstructs `x = f(0)` from Shamir shares `(party index, share)` (x-coordinate
/// `index + 1`). Test-only: no production code path ever holds `t` shares.
pub fn reconstruct_secret<C: Curve>(shares: &[(PartyIndex, &SecretScalar<C>)]) -> SecretScalar<C> {
    let xs: Vec<C::Scalar> = shares.iter().map(|(p, _)| shamir_x::<C>(p.0)).collect();
    let mut acc = C::Scalar::ZERO;
    for (k, (_, s)) in shares.iter().enumerate() {
        acc += *s.expose_secret() * lagrange_at_zero::<C>(&xs, k).expect("distinct non-zero points");
    }
    SecretScalar::new(acc)
}

/// Asserts that every party in `honest` failed with an abort whose culprits are exactly
/// `expected` (party and fault; extra faults of the same party are allowed only if listed).
pub fn assert_blamed<O: core::fmt::Debug>(
    results: &BTreeMap<PartyIndex, Result<O, ProtocolError>>,
    honest: &[u16],
    expected: &[(u16, Fault)],
) {
    let want: BTreeSet<(PartyIndex, Fault)> = expected.iter().map(|(p, f)| (PartyIndex(*p), *f)).collect();
    for h in honest {
        let r = results.get(&PartyIndex(*h)).unwrap_or_else(|| panic!("no result for party {h}"));
        match r {
            Ok(o) => panic!("party {h} succeeded ({o:?}) but should have blamed {expected:?}"),
            Err(e) => {
                let got: BTreeSet<(PartyIndex, Fault)> = e.culprits().iter().map(|c| (c.party, c.fault)).collect();
                assert_eq!(got, want, "party {h} blamed {e}");
            }
        }
    }
}

/// Asserts that every party in `honest` blamed exactly the parties `expected` (any faults),
/// and that `fault` is among the faults named.
pub fn assert_blamed_parties<O: core::fmt::Debug>(
    results: &BTreeMap<PartyIndex, Result<O, ProtocolError>>,
    honest: &[u16],
    expected: &[u16],
    fault: Fault,
) {
    let want: BTreeSet<PartyIndex> = expected.iter().map(|p| PartyIndex(*p)).collect();
    for h in honest {
        match results.get(&PartyIndex(*h)).unwrap_or_else(|| panic!("no result for party {h}")) {
            Ok(o) => panic!("party {h} succeeded ({o:?}) but should have blamed {expected:?}"),
            Err(e) => {
                let got: BTreeSet<PartyIndex> = e.culprits().iter().map(|c| c.party).collect();
                assert_eq!(got, want, "party {h} blamed {e}");
                assert!(e.culprits().iter().any(|c| c.fault == fault), "party {h} blamed {e}, expected {fault}");
            }
        }
    }
}

/// The public 1536-bit safe-prime pairs of `fixtures/safe-primes-1536.json`, as hex strings
/// `(p, q)`. Public test data: never use them for real keys. Regenerate with
/// `cargo run --release -p conclave-paillier --example gen_fixtures -- 10 1536 crates/conclave-testkit/fixtures`.
pub fn safe_prime_pairs() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/safe-primes-1536.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
    v["pairs"]
        .as_array()
        .expect("pairs")
        .iter()
        .map(|p| (p["p"].as_str().expect("p").to_owned(), p["q"].as_str().expect("q").to_owned()))
        .collect()
}
