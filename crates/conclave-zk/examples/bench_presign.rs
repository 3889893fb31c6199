//! Prove / verify time and proof size of the presigning proofs (Π^enc-elg, Π^aff-g, Π^elog)
//! with 3072-bit moduli from the fixtures, median of 5 runs, secp256k1.
//!
//! `cargo run --release -p conclave-zk --example bench_presign`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    reason = "benchmark binary: measures wall-clock time, fails loudly"
)]

#[path = "../tests/presign_common.rs"]
mod common;

use common::{ctx, fixture, rng};
use conclave_math::codec::Encode;
use conclave_math::{Curve, Secp256k1, SecretScalar};
use conclave_paillier::Integer;
use conclave_zk::aff_g::{AffGProof, AffGStatement, AffGWitness};
use conclave_zk::common::{integer_to_scalar, scalar_to_integer};
use conclave_zk::elog::{ElogProof, ElogStatement, ElogWitness};
use conclave_zk::enc_elg::{EncElgProof, EncElgStatement, EncElgWitness};
use std::time::{Duration, Instant};

type C = Secp256k1;
const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn report(name: &str, prove: Vec<Duration>, verify: Vec<Duration>, size: usize) {
    println!(
        "{name:<12} prove {:>9.2} ms   verify {:>9.2} ms   size {:>6} bytes",
        median(prove).as_secs_f64() * 1e3,
        median(verify).as_secs_f64() * 1e3,
        size
    );
}

fn main() {
    let f = fixture();
    println!(
        "moduli: N_prover {} bits, N_verifier {} bits, N̂ {} bits; curve secp256k1; median of {RUNS}",
        f.prover.encryption_key().modulus().significant_bits(),
        f.verifier.encryption_key().modulus().significant_bits(),
        f.rp.modulus().significant_bits()
    );
    let mut r = rng(1);
    let t = ctx("bench", 0, b"bench-session");

    // Π^enc-elg
    let x = scalar_to_integer::<C>(SecretScalar::<C>::random(&mut r).expose_secret());
    let (c, rho) = f.prover.encryption_key().encrypt(&mut r, &x).unwrap();
    let a = SecretScalar::<C>::random(&mut r).public_point();
    let b = SecretScalar::<C>::random(&mut r);
    let st = EncElgStatement::<C> {
        key: f.prover.encryption_key(),
        rp: &f.rp,
        ciphertext: &c,
        a,
        b: b.public_point(),
        x: a * b.expose_secret() + C::mul_base(&integer_to_scalar::<C>(&x)),
    };
    let wit = EncElgWitness { x: &x, rho: &rho, b: &b, prover_secret_key: Some(&f.prover) };
    let (mut pt, mut vt, mut size) = (vec![], vec![], 0);
    for _ in 0..RUNS {
        let s = Instant::now();
        let proof = EncElgProof::prove(&t, &st, &wit, &mut r).unwrap();
        pt.push(s.elapsed());
        let s = Instant::now();
        proof.verify(&t, &st).unwrap();
        vt.push(s.elapsed());
        size = proof.to_bytes().len();
    }
    report("enc-elg", pt, vt, size);

    // Π^aff-g (N0 = verifier key, N1 = prover key)
    let ek0 = f.verifier.encryption_key();
    let ek1 = f.prover.encryption_key();
    let k = scalar_to_integer::<C>(SecretScalar::<C>::random(&mut r).expose_secret());
    let (kc, _) = ek0.encrypt(&mut r, &k).unwrap();
    let gamma = scalar_to_integer::<C>(SecretScalar::<C>::random(&mut r).expose_secret());
    let y = -(Integer::from(1) << 1279u32) + 987_654_321u32;
    let (ey, rho_d) = ek0.encrypt(&mut r, &y).unwrap();
    let d = ek0.add(&ek0.scalar_mul(&kc, &gamma).unwrap(), &ey).unwrap();
    let (fy, rho_y) = ek1.encrypt(&mut r, &y).unwrap();
    let st = AffGStatement::<C> {
        verifier_key: ek0,
        prover_key: ek1,
        rp: &f.rp,
        c: &kc,
        d: &d,
        y: &fy,
        x: C::mul_base(&integer_to_scalar::<C>(&gamma)),
    };
    let wit = AffGWitness { x: &gamma, y: &y, rho: &rho_d, rho_y: &rho_y, prover_secret_key: Some(&f.prover) };
    let (mut pt, mut vt, mut size) = (vec![], vec![], 0);
    for _ in 0..RUNS {
        let s = Instant::now();
        let proof = AffGProof::prove(&t, &st, &wit, &mut r).unwrap();
        pt.push(s.elapsed());
        let s = Instant::now();
        proof.verify(&t, &st).unwrap();
        vt.push(s.elapsed());
        size = proof.to_bytes().len();
    }
    report("aff-g", pt, vt, size);

    // Π^elog
    let lambda = SecretScalar::<C>::random(&mut r);
    let yy = SecretScalar::<C>::random(&mut r);
    let xk = SecretScalar::<C>::random(&mut r).public_point();
    let h = SecretScalar::<C>::random(&mut r).public_point();
    let st = ElogStatement::<C> {
        l: lambda.public_point(),
        m: yy.public_point() + xk * lambda.expose_secret(),
        x: xk,
        y: h * yy.expose_secret(),
        h,
    };
    let wit = ElogWitness { lambda: &lambda, y: &yy };
    let (mut pt, mut vt, mut size) = (vec![], vec![], 0);
    for _ in 0..RUNS {
        let s = Instant::now();
        let proof = ElogProof::prove(&t, &st, &wit, &mut r);
        pt.push(s.elapsed());
        let s = Instant::now();
        proof.verify(&t, &st).unwrap();
        vt.push(s.elapsed());
        size = proof.to_bytes().len();
    }
    report("elog", pt, vt, size);
}
