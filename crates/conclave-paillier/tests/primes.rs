//! Safe-prime checks against known vectors, the generator on small sizes, and the prime pool.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation is a test failure"
)]

mod common;

use common::{fixture_pairs, fixtures_dir, hex_int, read_json, rng, shared_vectors_dir};
use conclave_paillier::{
    generate_safe_prime, is_blum_prime, is_probable_prime_vartime, is_safe_prime, Integer, PaillierError, PrimePool,
    MIN_GENERATED_PRIME_BITS,
};
use proptest::prelude::*;
use std::num::NonZeroUsize;

fn threads(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

#[test]
fn ing_safe_primes_pass_and_tampered_fail() {
    let json = read_json(shared_vectors_dir().join("ing-safe-primes.json"));
    let entries = json.as_array().unwrap();
    assert!(!entries.is_empty());
    for (i, e) in entries.iter().enumerate() {
        for (k, k_prim) in [("p", "p_prim"), ("q", "q_prim")] {
            let p = hex_int(&e[k]);
            let p_prim = hex_int(&e[k_prim]);
            assert_eq!(Integer::from(&p - 1u32) >> 1u32, p_prim, "entry {i} {k}");
            assert!(is_safe_prime(&p), "entry {i} {k} must be a safe prime");
            assert!(is_blum_prime(&p), "entry {i} {k} is also ≡ 3 mod 4");
            // Tampered values: p + 2, p + 4, p with a middle bit flipped, p' itself, 2p + 1.
            let mut flipped = p.clone();
            flipped.toggle_bit(517);
            for (what, bad) in [
                ("p+2", Integer::from(&p + 2u32)),
                ("p+4", Integer::from(&p + 4u32)),
                ("bit 517 flipped", flipped),
                ("p'", p_prim.clone()),
                ("2p+1", Integer::from(&p * 2u32) + 1u32),
            ] {
                assert!(!is_safe_prime(&bad), "entry {i} {k} tampered ({what}) accepted");
            }
        }
    }
}

#[test]
fn cggmp21_blum_primes_are_not_safe_primes() {
    let json = read_json(shared_vectors_dir().join("cggmp21-pregenerated_primes.json"));
    let bits = u32::try_from(json["bitsize"].as_u64().unwrap()).unwrap();
    let primes = json["primes"].as_array().unwrap();
    assert!(!primes.is_empty());
    for (i, entry) in primes.iter().enumerate() {
        assert_eq!(entry["radix"], 16);
        let p = hex_int(&entry["value"]);
        assert_eq!(p.significant_bits(), bits, "prime {i}");
        assert!(!is_safe_prime(&p), "prime {i} is not a safe prime");
        assert!(is_blum_prime(&p), "prime {i} is a prime ≡ 3 mod 4");
    }
}

#[test]
fn small_numbers() {
    for n in [-7i64, 0, 1, 2, 3, 4, 9, 13, 15, 21] {
        assert!(!is_safe_prime(&Integer::from(n)), "{n}");
    }
    for n in [5i64, 7, 11, 23, 47, 59, 83, 107, 167, 179, 2_147_483_783] {
        assert!(is_safe_prime(&Integer::from(n)), "{n}");
    }
    for n in [3i64, 7, 11, 19, 23, 31, 43] {
        assert!(is_blum_prime(&Integer::from(n)), "{n}");
    }
    for n in [-3i64, 0, 1, 2, 5, 13, 15, 27] {
        assert!(!is_blum_prime(&Integer::from(n)), "{n}");
    }
}

#[test]
fn composite_products_are_not_prime() {
    for (p, q) in fixture_pairs() {
        let n = Integer::from(&p * &q);
        assert!(!is_probable_prime_vartime(&n));
        assert!(!is_safe_prime(&n));
        assert!(!is_blum_prime(&n));
        assert!(is_probable_prime_vartime(&p));
    }
}

#[test]
fn fixture_primes_are_safe_primes() {
    for (p, q) in fixture_pairs() {
        for x in [&p, &q] {
            assert_eq!(x.significant_bits(), 1536);
            assert!(x.get_bit(1534), "two top bits set");
            assert!(is_safe_prime(x));
        }
    }
}

#[test]
fn generator_small_sizes_seeded() {
    for (seed, bits) in [(1u64, 64u32), (2, 128), (3, 256), (4, 512)] {
        let p = generate_safe_prime(&mut rng(seed), bits, threads(1)).unwrap();
        assert_eq!(p.significant_bits(), bits, "seed {seed}");
        assert!(p.get_bit(bits - 2), "seed {seed}: second top bit set");
        assert_eq!(p.mod_u(4), 3, "seed {seed}");
        assert!(is_safe_prime(&p), "seed {seed}");
        // One thread: a function of the seed.
        let again = generate_safe_prime(&mut rng(seed), bits, threads(1)).unwrap();
        assert_eq!(p, again, "seed {seed}");
    }
}

#[test]
fn generator_multithreaded() {
    let mut r = rng(5);
    let p = generate_safe_prime(&mut r, 384, threads(3)).unwrap();
    assert!(is_safe_prime(&p));
    assert_eq!(p.significant_bits(), 384);
}

#[test]
fn generator_rejects_bad_sizes() {
    for bits in [0, 1, 32, MIN_GENERATED_PRIME_BITS - 1, 8193, u32::MAX] {
        assert!(matches!(generate_safe_prime(&mut rng(6), bits, threads(1)), Err(PaillierError::InvalidParameter(_))));
    }
}

#[test]
#[ignore = "slow: generates a 1536-bit safe prime (a few seconds in release, longer in debug)"]
fn generator_1536_bits() {
    let p = generate_safe_prime(&mut rng(7), 1536, threads(2)).unwrap();
    assert_eq!(p.significant_bits(), 1536);
    assert!(is_safe_prime(&p));
}

fn fixture_pool_bytes() -> Vec<u8> {
    std::fs::read(fixtures_dir().join("prime-pool-1536.txt")).unwrap()
}

#[test]
fn pool_fixture_loads_and_round_trips() {
    let bytes = fixture_pool_bytes();
    let pool = PrimePool::from_bytes(&bytes).unwrap();
    assert_eq!(pool.bits(), 1536);
    assert_eq!(pool.len(), 2 * fixture_pairs().len());
    assert_eq!(&*pool.to_bytes(), bytes.as_slice());
}

#[test]
fn pool_rejects_tampering() {
    let good = String::from_utf8(fixture_pool_bytes()).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let first_prime = lines[3];
    // Change the last hex digit of the first prime (keeps it odd: ...7 -> ...5 etc.).
    let last = first_prime.chars().last().unwrap();
    let swapped = if last == 'f' { 'd' } else { 'f' };
    let tampered_prime = format!("{}{}", &first_prime[..first_prime.len() - 1], swapped);
    let cases: Vec<(&str, String)> = vec![
        ("prime changed", good.replacen(first_prime, &tampered_prime, 1)),
        ("version", good.replacen(" v1\n", " v2\n", 1)),
        ("magic", good.replacen("conclave", "concLave", 1)),
        ("count too big", good.replacen("count 8", "count 9", 1)),
        ("count too small", good.replacen("count 8", "count 7", 1)),
        ("count leading zero", good.replacen("count 8", "count 08", 1)),
        ("bits", good.replacen("bits 1536", "bits 1544", 1)),
        ("bits not multiple of 8", good.replacen("bits 1536", "bits 1537", 1)),
        ("uppercase hex", good.replacen(first_prime, &first_prime.to_uppercase(), 1)),
        ("no final newline", good.trim_end().to_string()),
        ("trailing line", format!("{good}\n")),
        ("crlf", good.replace('\n', "\r\n")),
        ("duplicate", good.replacen(lines[4], first_prime, 1)),
    ];
    for (what, bad) in cases {
        assert!(PrimePool::from_bytes(bad.as_bytes()).is_err(), "{what} accepted");
    }
    assert_eq!(
        PrimePool::from_bytes(good.replacen(" v1\n", " v2\n", 1).as_bytes()).unwrap_err(),
        PaillierError::UnsupportedVersion
    );
}

#[test]
fn pool_fill_take_and_round_trip_small() {
    let mut pool = PrimePool::new(128).unwrap();
    pool.fill(&mut rng(8), 5, threads(2)).unwrap();
    assert_eq!(pool.len(), 5);
    let bytes = pool.to_bytes();
    let mut loaded = PrimePool::from_bytes(&bytes).unwrap();
    assert_eq!(loaded.len(), 5);
    let p = loaded.take().unwrap();
    assert!(is_safe_prime(&p));
    assert_eq!(loaded.len(), 4);
    // A push of a non-safe prime, a prime of the wrong size, or a duplicate fails.
    assert!(loaded.push(Integer::from(&p + 2u32)).is_err());
    assert!(loaded.push(Integer::from(23)).is_err());
    loaded.push(p.clone()).unwrap();
    assert!(loaded.push(p).is_err());
    assert!(PrimePool::new(100).is_err());
    assert!(PrimePool::new(8).is_err());
    assert!(format!("{loaded:?}").contains("len: 5"));
}

#[test]
fn pool_empty_encoding() {
    let pool = PrimePool::new(1536).unwrap();
    let bytes = pool.to_bytes();
    let back = PrimePool::from_bytes(&bytes).unwrap();
    assert!(back.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pool_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = PrimePool::from_bytes(&bytes);
    }

    #[test]
    fn pool_decoder_never_panics_on_header_like_input(
        bits in "[0-9]{0,11}", count in "[0-9]{0,11}", body in "[0-9a-f\n]{0,80}"
    ) {
        let text = format!("conclave-safe-prime-pool v1\nbits {bits}\ncount {count}\n{body}");
        let _ = PrimePool::from_bytes(text.as_bytes());
    }
}
