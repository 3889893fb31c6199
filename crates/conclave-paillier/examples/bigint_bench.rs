//! Backend comparison: GMP (through `rug`) against the constant-time pure-Rust `crypto-bigint`.
//!
//! Run with:
//!
//! ```text
//! \
//!   cargo run --release -p conclave-paillier --example bigint_bench
//! ```
//!
//! It times the three operations that dominate Paillier and safe-prime generation:
//! a 3072-bit modular exponentiation mod N, a 6144-bit modular exponentiation mod N^2 with a
//! 3072-bit exponent (encryption r^N, decryption c^lambda), and one Miller-Rabin round on a
//! 1536-bit candidate (one 1536-bit exponentiation). The moduli are random odd numbers of the
//! right size: the cost of modular exponentiation does not depend on primality.
#![allow(
    clippy::disallowed_methods,
    clippy::indexing_slicing,
    reason = "a benchmark binary reads the clock; the library never does"
)]

use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::{Encoding, Uint, U1536, U3072, U6144};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rug::integer::Order;
use rug::Integer;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A random integer of exactly `bits` bits (top bit set), odd if `odd`.
fn random_int(rng: &mut ChaCha20Rng, bits: u32, odd: bool) -> Integer {
    let mut bytes = vec![0u8; (bits as usize).div_ceil(8)];
    rng.fill_bytes(&mut bytes);
    let mut x = Integer::from_digits(&bytes, Order::Msf);
    x.keep_bits_mut(bits);
    x.set_bit(bits - 1, true);
    if odd {
        x.set_bit(0, true);
    }
    x
}

/// Big-endian bytes of `x`, left-padded to `len`.
fn be_bytes(x: &Integer, len: usize) -> Vec<u8> {
    let digits = x.to_digits::<u8>(Order::Msf);
    let mut out = vec![0u8; len - digits.len()];
    out.extend_from_slice(&digits);
    out
}

fn to_uint<const L: usize>(x: &Integer) -> Uint<L>
where
    Uint<L>: Encoding,
{
    Uint::<L>::from_be_slice(&be_bytes(x, L * 8))
}

/// Runs `f` `iters` times and returns the mean time per call.
fn time<F: FnMut()>(iters: u32, mut f: F) -> Duration {
    f(); // warm-up
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed() / iters
}

fn report(name: &str, d: Duration) {
    println!("{name:<58} {:>10.3} ms", d.as_secs_f64() * 1e3);
}

fn main() {
    let mut rng = ChaCha20Rng::from_seed([7u8; 32]);
    let iters = 20;

    // --- 3072-bit exponentiation mod N (3072-bit exponent) ---
    let n = random_int(&mut rng, 3072, true);
    let base = random_int(&mut rng, 3071, false);
    let exp = random_int(&mut rng, 3072, false);
    report(
        "rug pow_mod            3072-bit mod N, 3072-bit exp",
        time(iters, || {
            black_box(base.clone().pow_mod(&exp, &n).ok());
        }),
    );
    report(
        "rug secure_pow_mod     3072-bit mod N, 3072-bit exp",
        time(iters, || {
            black_box(base.clone().secure_pow_mod(&exp, &n));
        }),
    );
    let params = DynResidueParams::new(&to_uint::<{ U3072::LIMBS }>(&n));
    let b = DynResidue::new(&to_uint::<{ U3072::LIMBS }>(&base), params);
    let e = to_uint::<{ U3072::LIMBS }>(&exp);
    report(
        "crypto-bigint pow (ct) 3072-bit mod N, 3072-bit exp",
        time(iters, || {
            black_box(b.pow(&e));
        }),
    );

    // --- 6144-bit exponentiation mod N^2 (3072-bit exponent, as in r^N and c^lambda) ---
    let nn = Integer::from(n.square_ref());
    let base2 = random_int(&mut rng, 6143, false);
    report(
        "rug pow_mod            6144-bit mod N^2, 3072-bit exp",
        time(iters, || {
            black_box(base2.clone().pow_mod(&exp, &nn).ok());
        }),
    );
    report(
        "rug secure_pow_mod     6144-bit mod N^2, 3072-bit exp",
        time(iters, || {
            black_box(base2.clone().secure_pow_mod(&exp, &nn));
        }),
    );
    let params2 = DynResidueParams::new(&to_uint::<{ U6144::LIMBS }>(&nn));
    let b2 = DynResidue::new(&to_uint::<{ U6144::LIMBS }>(&base2), params2);
    let e2 = to_uint::<{ U6144::LIMBS }>(&exp);
    report(
        "crypto-bigint pow (ct) 6144-bit mod N^2, 3072-bit exp",
        time(5, || {
            black_box(b2.pow_bounded_exp(&e2, 3072));
        }),
    );

    // --- One Miller-Rabin round on a 1536-bit candidate: a^d mod p, d ~ 1535 bits ---
    let p = random_int(&mut rng, 1536, true);
    let d = Integer::from(&p - 1u32) >> 1u32;
    let a = random_int(&mut rng, 1535, false);
    report(
        "rug pow_mod            MR round, 1536-bit",
        time(100, || {
            black_box(a.clone().pow_mod(&d, &p).ok());
        }),
    );
    report(
        "rug secure_pow_mod     MR round, 1536-bit",
        time(100, || {
            black_box(a.clone().secure_pow_mod(&d, &p));
        }),
    );
    let params3 = DynResidueParams::new(&to_uint::<{ U1536::LIMBS }>(&p));
    let a3 = DynResidue::new(&to_uint::<{ U1536::LIMBS }>(&a), params3);
    let d3 = to_uint::<{ U1536::LIMBS }>(&d);
    report(
        "crypto-bigint pow (ct) MR round, 1536-bit",
        time(100, || {
            black_box(a3.pow(&d3));
        }),
    );

    // --- The library's Paillier operations on a fixture key (3072-bit N) ---
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/safe-primes-1536.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("(no {}: skipping the Paillier timings)", path.display());
        return;
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let hex = |v: &serde_json::Value| Integer::from_str_radix(v.as_str().unwrap_or(""), 16).unwrap_or_default();
    let pair = &json["pairs"][0];
    let Ok(dk) = conclave_paillier::DecryptionKey::from_safe_primes(hex(&pair["p"]), hex(&pair["q"])) else {
        println!("bad fixture");
        return;
    };
    let ek = dk.encryption_key().clone();
    let m = random_int(&mut rng, 3000, false);
    let Ok((c, nonce)) = ek.encrypt(&mut rng, &m) else {
        return;
    };
    report(
        "paillier encrypt, public key (r^N mod N^2, ct)",
        time(iters, || {
            black_box(ek.encrypt_with_nonce(&m, &nonce).ok());
        }),
    );
    report(
        "paillier encrypt, owner (CRT, ct)",
        time(iters, || {
            black_box(dk.encrypt_with_nonce(&m, &nonce).ok());
        }),
    );
    report(
        "paillier decrypt (CRT, ct)",
        time(iters, || {
            black_box(dk.decrypt(&c).ok());
        }),
    );
    report(
        "validate_ciphertext (range + gcd)",
        time(iters, || {
            black_box(ek.validate_ciphertext(c.as_integer()).ok());
        }),
    );
}
