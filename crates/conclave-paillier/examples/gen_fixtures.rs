//! Regenerates the safe-prime test fixtures in `crates/conclave-paillier/fixtures/`.
//!
//! ```text
//! \
//!   cargo run --release -p conclave-paillier --example gen_fixtures -- [PAIRS] [BITS] [OUT_DIR]
//! ```
//!
//! Defaults: 4 pairs of 1536-bit safe primes, written to the crate's `fixtures/` folder as
//! `safe-primes-<BITS>.json` (pairs for fast tests) and `prime-pool-<BITS>.txt` (the same
//! primes in the `PrimePool` format). Randomness comes from the operating system. The output
//! is **public test data**: never use these primes for real keys.
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a command-line tool: it reads the OS RNG and the clock; the library never does"
)]

use conclave_paillier::{generate_safe_prime, is_safe_prime, PrimePool};
use rand_core::OsRng;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(serde::Serialize)]
struct Pair {
    p: String,
    q: String,
}

#[derive(serde::Serialize)]
struct Fixture {
    version: u32,
    note: &'static str,
    bits: u32,
    pairs: Vec<Pair>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pairs: usize = args.first().map_or(Ok(4), |s| s.parse())?;
    let bits: u32 = args.get(1).map_or(Ok(1536), |s| s.parse())?;
    let out_dir = args.get(2).map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"), PathBuf::from);
    let threads = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
    let mut pool = PrimePool::new(bits)?;
    let mut hex = Vec::new();
    let start = Instant::now();
    for i in 0..2 * pairs {
        let t = Instant::now();
        let p = generate_safe_prime(&mut OsRng, bits, threads)?;
        assert!(is_safe_prime(&p));
        eprintln!("prime {}/{}: {:.1} s ({} threads)", i + 1, 2 * pairs, t.elapsed().as_secs_f64(), threads);
        hex.push(p.to_string_radix(16));
        pool.push(p)?;
    }
    eprintln!("{} safe primes of {} bits in {:.1} s", 2 * pairs, bits, start.elapsed().as_secs_f64());
    let fixture = Fixture {
        version: 1,
        note: "PUBLIC TEST DATA for conclave-paillier tests; never use for real keys. \
               Regenerate with: cargo run --release -p conclave-paillier --example gen_fixtures",
        bits,
        pairs: hex.chunks(2).map(|c| Pair { p: c[0].clone(), q: c[1].clone() }).collect(),
    };
    std::fs::create_dir_all(&out_dir)?;
    let json_path = out_dir.join(format!("safe-primes-{bits}.json"));
    std::fs::write(&json_path, serde_json::to_string_pretty(&fixture)? + "\n")?;
    let pool_path = out_dir.join(format!("prime-pool-{bits}.txt"));
    std::fs::write(&pool_path, &*pool.to_bytes())?;
    eprintln!("wrote {} and {}", json_path.display(), pool_path.display());
    Ok(())
}
