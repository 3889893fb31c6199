//! Prove and verify time (median of 5) and proof size of Π^mod, Π^fac and Π^prm with 3072-bit
//! moduli from the conclave-paillier fixtures.
//!
//! Run: `cargo run --release -p conclave-zk --example bench_aux`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    reason = "benchmark driver outside the sans-IO library: reads the wall clock, a failure aborts the run"
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use conclave_math::codec::Encode;
use conclave_math::{ProofContext, Transcript};
use conclave_paillier::{generate_ring_pedersen, DecryptionKey, Integer};
use conclave_zk::fac::{self, FacProof, FacWitness};
use conclave_zk::pi_mod::{self, ModProof, ModWitness};
use conclave_zk::prm::{self, PrmProof, PrmWitness};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const RUNS: usize = 5;

fn keys() -> (DecryptionKey, DecryptionKey) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conclave-paillier/fixtures/safe-primes-1536.json");
    let text = std::fs::read_to_string(path).unwrap();
    let value = |line: &str| Integer::from_str_radix(line.split('"').nth(3).unwrap(), 16).unwrap();
    let ps: Vec<Integer> = text.lines().filter(|l| l.trim_start().starts_with("\"p\"")).map(value).collect();
    let qs: Vec<Integer> = text.lines().filter(|l| l.trim_start().starts_with("\"q\"")).map(value).collect();
    let a = DecryptionKey::from_safe_primes(ps[0].clone(), qs[0].clone()).unwrap();
    let b = DecryptionKey::from_safe_primes(ps[1].clone(), qs[1].clone()).unwrap();
    (a, b)
}

fn ctx(domain: &'static str) -> Transcript {
    Transcript::for_proof(
        domain,
        &ProofContext {
            protocol: "conclave/aux-info",
            version: 1,
            session: b"bench",
            round: 2,
            prover: 0,
            parties: &[0, 1, 2],
        },
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn report<P: Encode>(name: &str, prove: impl FnMut() -> P, verify: impl FnMut(&P)) {
    let (mut prove, mut verify) = (prove, verify);
    let mut prove_times = vec![];
    let mut verify_times = vec![];
    let mut size = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let proof = prove();
        prove_times.push(start.elapsed());
        let start = Instant::now();
        verify(&proof);
        verify_times.push(start.elapsed());
        size = proof.to_bytes().len();
    }
    println!(
        "{name:<8} prove {:>9.1} ms   verify {:>9.1} ms   size {size:>7} bytes",
        median(prove_times).as_secs_f64() * 1e3,
        median(verify_times).as_secs_f64() * 1e3,
    );
}

fn main() {
    let (prover, verifier) = keys();
    let mut rng = ChaCha20Rng::seed_from_u64(2024);
    let (aux, _) = generate_ring_pedersen(&mut rng, &verifier).unwrap();
    let (own, own_secret) = generate_ring_pedersen(&mut rng, &prover).unwrap();
    let n = prover.encryption_key().modulus().clone();
    println!(
        "aux-info proofs, N = {} bits, N^ = {} bits, m = {}, l = {}, eps = {}, median of {RUNS}",
        n.significant_bits(),
        aux.modulus().significant_bits(),
        pi_mod::M,
        fac::ELL,
        fac::EPSILON
    );

    let t = ctx(pi_mod::DOMAIN);
    report(
        "Pi^mod",
        || ModProof::prove(&t, &n, &ModWitness::from_key(&prover), &mut rng).unwrap(),
        |p| p.verify(&t, &n).unwrap(),
    );
    let mut rng = ChaCha20Rng::seed_from_u64(2025);
    let t = ctx(fac::DOMAIN);
    report(
        "Pi^fac",
        || FacProof::prove(&t, &n, &aux, &FacWitness::from_key(&prover), &mut rng).unwrap(),
        |p| p.verify_with_key(&t, &n, &aux, Some(&verifier)).unwrap(),
    );
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let t = ctx(prm::DOMAIN);
    report(
        "Pi^prm",
        || PrmProof::prove(&t, &own, &PrmWitness::with_key(&own_secret, &prover), &mut rng).unwrap(),
        |p| p.verify(&t, &own).unwrap(),
    );
    let mut rng = ChaCha20Rng::seed_from_u64(2027);
    report(
        "Pi^prm*",
        || PrmProof::prove(&t, &own, &PrmWitness::new(&own_secret), &mut rng).unwrap(),
        |p| p.verify(&t, &own).unwrap(),
    );
    println!("(Pi^prm* = prover without the factorisation of N^, no CRT)");
    println!(
        "(the first prove / verify of each also builds the fixed-base tables, once per parameter set and key; \
         the median leaves that run out)"
    );
}
