//! Side-by-side benchmark, in one run, of our proofs and the `paillier-zk` 0.4.3 crate (the
//! version `cggmp21` 0.6.3 depends on), on the same parameters: the 3072-bit fixture moduli,
//! secp256k1, ℓ = 256, ε = 512, ℓ′ = 1280, m = 128; prove and verify time (median of 5) and
//! proof size (both encoded alike: each integer as a 4-byte length, a sign byte and its
//! big-endian magnitude, each point 33 bytes). Then safe-prime generation (1536 bits): ours
//! on all cores against `fast-paillier` 0.1.1 (what `cggmp21` 0.6.3 calls), median of
//! `PRIMES` primes each.
//!
//! Ours is called as the protocols call it: the prover passes its own decryption key
//! (`prover_secret_key`) and the verifier verifies with its own (`verify_with_key`); the
//! one-time tables (the verifier's `s, t` for the prover, the prover's nonce tables, the
//! verifier's own `s, t mod p, q`) are built first and their times printed; Π^fac is also
//! reported with those tables included (aux-info proves it once per verifier).
//!
//! `cargo run --release -p conclave-zk --example bench_vs_peer`
//! (`-- --no-primes` skips the safe primes, `-- --only-primes` runs only them, `-- --primes N`
//! sets their count, `-- --skip-mod` leaves out Π^mod, `-- --skip-abort` the identifiable-abort
//! proofs.)
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
use conclave_paillier::{generate_safe_prime, Integer};
use conclave_zk::aff_g::{AffGProof, AffGStatement, AffGWitness};
use conclave_zk::aff_g_star::{AffGStarProof, AffGStarStatement, AffGStarWitness};
use conclave_zk::common::{integer_to_scalar, scalar_to_integer};
use conclave_zk::dec::{DecOpening, DecProof, DecStatement, DecWitness};
use conclave_zk::elog::{ElogProof, ElogStatement, ElogWitness};
use conclave_zk::enc_elg::{EncElgProof, EncElgStatement, EncElgWitness};
use conclave_zk::fac::{FacProof, FacWitness};
use conclave_zk::pi_mod::{ModProof, ModWitness};
use conclave_zk::rp::{ELL, ELL_PRIME, EPSILON};
use generic_ec::curves::Secp256k1 as PeerCurve;
use generic_ec::{Point, Scalar};
use paillier_zk::fast_paillier;
use paillier_zk::{
    group_element_vs_paillier_encryption_in_range as peer_log, no_small_factor as peer_fac,
    paillier_affine_operation_in_range as peer_aff, paillier_blum_modulus as peer_mod,
    paillier_encryption_in_range as peer_enc,
};
use rand_core::RngCore;
use sha2::Sha256;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

type C = Secp256k1;
const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Size of an integer in our wire encoding (length prefix, sign byte, magnitude).
fn isz(x: &Integer) -> usize {
    4 + 1 + x.significant_bits().div_ceil(8) as usize
}

const POINT: usize = 33;

struct Row {
    name: &'static str,
    prove: Duration,
    verify: Duration,
    size: usize,
}

fn measure<P>(
    name: &'static str,
    runs: usize,
    mut prove: impl FnMut() -> P,
    mut verify: impl FnMut(&P),
    size: impl Fn(&P) -> usize,
) -> Row {
    let (mut pt, mut vt, mut sz) = (vec![], vec![], 0);
    for _ in 0..runs {
        let s = Instant::now();
        let p = prove();
        pt.push(s.elapsed());
        let s = Instant::now();
        verify(&p);
        vt.push(s.elapsed());
        sz = size(&p);
    }
    Row { name, prove: median(pt), verify: median(vt), size: sz }
}

fn pair(ours: &Row, peer: &Row, note: &str) {
    let o = ours.prove + ours.verify;
    let p = peer.prove + peer.verify;
    println!(
        "| {} | {:.1} | {:.1} | {} | {} | {:.1} | {:.1} | {} | {:.2} | {} |",
        ours.name,
        ms(ours.prove),
        ms(ours.verify),
        ours.size,
        peer.name,
        ms(peer.prove),
        ms(peer.verify),
        peer.size,
        o.as_secs_f64() / p.as_secs_f64(),
        note
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let no_primes = args.iter().any(|a| a == "--no-primes");
    let only_primes = args.iter().any(|a| a == "--only-primes");
    let skip_mod = args.iter().any(|a| a == "--skip-mod");
    let skip_abort = args.iter().any(|a| a == "--skip-abort");
    let primes =
        args.iter().position(|a| a == "--primes").and_then(|i| args.get(i + 1)).map_or(5, |s| s.parse().unwrap());

    if only_primes {
        safe_primes(primes);
        return;
    }
    let f = fixture();
    let (p, q) = f.prover.expose_primes();
    let n = f.prover.encryption_key().modulus().clone();
    println!(
        "N_prover {} bits, N_verifier {} bits, N^ {} bits; secp256k1; l = {ELL}, eps = {EPSILON}, l' = {ELL_PRIME}; median of {RUNS}",
        n.significant_bits(),
        f.verifier.encryption_key().modulus().significant_bits(),
        f.rp.modulus().significant_bits()
    );
    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    println!("available cores: {threads}");
    // One-time precomputation for the verifier's ring-Pedersen parameters (built once per
    // verifier and reused by every proof addressed to it; in the protocol, when the first
    // proof to that verifier is made, i.e. in aux-info's Π^fac).
    let s = Instant::now();
    assert!(f.rp.precompute());
    let rp_tables = s.elapsed();
    println!("ring-Pedersen tables of the verifier (s, t mod N^, once per verifier): {:.1} ms", ms(rp_tables));
    // One-time precomputation of the prover's own key (nonce tables), once per key.
    let s = Instant::now();
    assert!(f.prover.precompute(&mut rng(3)));
    println!("nonce tables of the prover's own Paillier key (once per key): {:.1} ms", ms(s.elapsed()));
    // One-time precomputation of the verifier for its own (N^, s, t): s, t mod p and mod q.
    let s = Instant::now();
    assert!(f.verifier.precompute_ring_pedersen(&f.rp));
    let verifier_tables = s.elapsed();
    println!("verifier's own ring-Pedersen tables (s, t mod p, q; once per key): {:.1} ms\n", ms(verifier_tables));
    let mut r = rng(7);
    let shared_state = 2024u64;
    let q_order = conclave_zk::common::curve_order::<C>();

    // The peer's view of the same keys and ring-Pedersen parameters (no multiexp table, no CRT:
    // the defaults of cggmp21 0.6.3 unless the application precomputes them).
    let peer_aux = peer_aff::Aux {
        s: f.rp.s().clone(),
        t: f.rp.t().clone(),
        rsa_modulo: f.rp.modulus().clone(),
        multiexp: None,
        crt: None,
    };
    let peer_ek0 = fast_paillier::EncryptionKey::from_n(f.verifier.encryption_key().modulus().clone());
    let peer_ek1 = fast_paillier::EncryptionKey::from_n(n.clone());

    println!("| ours | prove ms | verify ms | bytes | peer (paillier-zk 0.4.3) | prove ms | verify ms | bytes | ours/peer (prove+verify) | statement |");
    println!("|---|---|---|---|---|---|---|---|---|---|");

    // Π^mod
    let t = ctx(conclave_zk::pi_mod::DOMAIN, 0, b"bench");
    let mod_runs = if skip_mod { 0 } else { RUNS };
    let ours = measure(
        "Π^mod",
        mod_runs,
        || ModProof::prove(&t, &n, &ModWitness::from_key(&f.prover), &mut r).unwrap(),
        |pr| pr.verify(&t, &n).unwrap(),
        |pr| pr.to_bytes().len(),
    );
    let mut pr_rng = rng(8);
    let data = peer_mod::Data { n: n.clone() };
    let pdata = peer_mod::PrivateData { p: p.clone(), q: q.clone() };
    let peer = measure(
        "Π^mod",
        mod_runs,
        || peer_mod::non_interactive::prove::<128, Sha256>(&shared_state, &data, &pdata, &mut pr_rng).unwrap(),
        |(c, pr)| peer_mod::non_interactive::verify::<128, Sha256>(&shared_state, &data, c, pr).unwrap(),
        |(c, pr)| isz(&c.w) + pr.points.iter().map(|x| isz(&x.x) + 2 + isz(&x.z)).sum::<usize>(),
    );
    if !skip_mod {
        pair(&ours, &peer, "same (peer 0.4.3 lacks some CGGMP24 checks)");
    }

    // Π^fac (against the verifier's ring-Pedersen parameters)
    let t = ctx(conclave_zk::fac::DOMAIN, 0, b"bench");
    let ours = measure(
        "Π^fac",
        RUNS,
        || FacProof::prove(&t, &n, &f.rp, &FacWitness::from_key(&f.prover), &mut r).unwrap(),
        |pr| pr.verify_with_key(&t, &n, &f.rp, Some(&f.verifier)).unwrap(),
        |pr| pr.to_bytes().len(),
    );
    let n_root = n.clone().sqrt();
    let fac_sec = peer_fac::SecurityParams { l: ELL as usize, epsilon: EPSILON as usize, q: q_order.clone() };
    let peer = measure(
        "Π^fac",
        RUNS,
        || {
            peer_fac::non_interactive::prove::<Sha256>(
                &shared_state,
                &peer_aux,
                peer_fac::Data { n: &n, n_root: &n_root },
                peer_fac::PrivateData { p, q },
                &fac_sec,
                &mut pr_rng,
            )
            .unwrap()
        },
        |pr| {
            peer_fac::non_interactive::verify::<Sha256>(
                &shared_state,
                &peer_aux,
                peer_fac::Data { n: &n, n_root: &n_root },
                &fac_sec,
                pr,
            )
            .unwrap()
        },
        // The peer's proof fields are private (no serde here): its size is estimated from the
        // ranges of its 11 integers (P, Q, A, B, T < N^; σ ∈ ±2^ℓ·N·N^; z1, z2 ∈ ±2^(ℓ+ε)·√N;
        // w1, w2 ∈ ±2^(ℓ+ε)·N^; v ∈ ±2^(ℓ+ε)·N·N^).
        |_| {
            let nb = n.significant_bits();
            let nh = f.rp.modulus().significant_bits();
            let sz = |bits: u32| 5 + bits.div_ceil(8) as usize;
            5 * sz(nh)
                + sz(ELL + nb + nh)
                + 2 * sz(ELL + EPSILON + nb / 2)
                + 2 * sz(ELL + EPSILON + nh)
                + sz(ELL + EPSILON + nb + nh)
        },
    );
    pair(&ours, &peer, "same (peer size estimated)");
    // Π^fac is proved once per verifier in aux-info, so there it also pays the one-time tables
    // (which every later presigning proof to that verifier reuses).
    let once = ours.prove + ours.verify + rp_tables + verifier_tables;
    let fac_once = Some(once.as_secs_f64() / (peer.prove + peer.verify).as_secs_f64());

    // Π^aff-g (N0 = verifier key, N1 = prover key)
    let ek0 = f.verifier.encryption_key();
    let ek1 = f.prover.encryption_key();
    let k = scalar_to_integer::<C>(SecretScalar::<C>::random(&mut r).expose_secret());
    let (kc, _) = ek0.encrypt(&mut r, &k).unwrap();
    let gamma = scalar_to_integer::<C>(SecretScalar::<C>::random(&mut r).expose_secret());
    let y = -(Integer::from(1) << (ELL_PRIME - 1)) + 987_654_321u32;
    let (ey, rho_d) = ek0.encrypt(&mut r, &y).unwrap();
    let d = ek0.add(&ek0.scalar_mul(&kc, &gamma).unwrap(), &ey).unwrap();
    let (fy, rho_y) = ek1.encrypt(&mut r, &y).unwrap();
    let x_pt = C::mul_base(&integer_to_scalar::<C>(&gamma));
    let st = AffGStatement::<C> { verifier_key: ek0, prover_key: ek1, rp: &f.rp, c: &kc, d: &d, y: &fy, x: x_pt };
    let wit = AffGWitness { x: &gamma, y: &y, rho: &rho_d, rho_y: &rho_y, prover_secret_key: Some(&f.prover) };
    let t = ctx(conclave_zk::aff_g::DOMAIN, 0, b"bench");
    let ours = measure(
        "Π^aff-g",
        RUNS,
        || AffGProof::prove(&t, &st, &wit, &mut r).unwrap(),
        |pr| pr.verify_with_key(&t, &st, Some(&f.verifier)).unwrap(),
        |pr| pr.to_bytes().len(),
    );
    let peer_x = Point::<PeerCurve>::generator() * peer_scalar(&gamma);
    let aff_sec = peer_aff::SecurityParams {
        l_x: ELL as usize,
        l_y: ELL_PRIME as usize,
        epsilon: EPSILON as usize,
        q: q_order.clone(),
    };
    let rho_d_i = rho_d.expose_secret().clone();
    let rho_y_i = rho_y.expose_secret().clone();
    let peer = measure(
        "Π^aff-g",
        RUNS,
        || {
            peer_aff::non_interactive::prove::<PeerCurve, Sha256>(
                &shared_state,
                &peer_aux,
                peer_aff::Data {
                    key0: &peer_ek0,
                    key1: &peer_ek1,
                    c: kc.as_integer(),
                    d: d.as_integer(),
                    y: fy.as_integer(),
                    x: &peer_x,
                },
                peer_aff::PrivateData { x: &gamma, y: &y, nonce: &rho_d_i, nonce_y: &rho_y_i },
                &aff_sec,
                &mut pr_rng,
            )
            .unwrap()
        },
        |(c, pr)| {
            peer_aff::non_interactive::verify::<PeerCurve, Sha256>(
                &shared_state,
                &peer_aux,
                peer_aff::Data {
                    key0: &peer_ek0,
                    key1: &peer_ek1,
                    c: kc.as_integer(),
                    d: d.as_integer(),
                    y: fy.as_integer(),
                    x: &peer_x,
                },
                c,
                &aff_sec,
                pr,
            )
            .unwrap()
        },
        |(c, pr)| {
            POINT
                + [&c.a, &c.b_y, &c.e, &c.s, &c.f, &c.t, &pr.z1, &pr.z2, &pr.z3, &pr.z4, &pr.w, &pr.w_y]
                    .iter()
                    .map(|x| isz(x))
                    .sum::<usize>()
        },
    );
    pair(&ours, &peer, "same");

    // Π^enc-elg (ours, CGGMP24 round 1) vs Π^enc (peer, CGGMP21 round 1)
    let x = scalar_to_integer::<C>(SecretScalar::<C>::random(&mut r).expose_secret());
    let (c, rho) = ek1.encrypt(&mut r, &x).unwrap();
    let a = SecretScalar::<C>::random(&mut r).public_point();
    let b = SecretScalar::<C>::random(&mut r);
    let st = EncElgStatement::<C> {
        key: ek1,
        rp: &f.rp,
        ciphertext: &c,
        a,
        b: b.public_point(),
        x: a * b.expose_secret() + C::mul_base(&integer_to_scalar::<C>(&x)),
    };
    let wit = EncElgWitness { x: &x, rho: &rho, b: &b, prover_secret_key: Some(&f.prover) };
    let t = ctx(conclave_zk::enc_elg::DOMAIN, 0, b"bench");
    let ours = measure(
        "Π^enc-elg",
        RUNS,
        || EncElgProof::prove(&t, &st, &wit, &mut r).unwrap(),
        |pr| pr.verify_with_key(&t, &st, Some(&f.verifier)).unwrap(),
        |pr| pr.to_bytes().len(),
    );
    let enc_sec = peer_enc::SecurityParams { l: ELL as usize, epsilon: EPSILON as usize, q: q_order.clone() };
    let rho_i = rho.expose_secret().clone();
    let peer = measure(
        "Π^enc",
        RUNS,
        || {
            peer_enc::non_interactive::prove::<Sha256>(
                &shared_state,
                &peer_aux,
                peer_enc::Data { key: &peer_ek1, ciphertext: c.as_integer() },
                peer_enc::PrivateData { plaintext: &x, nonce: &rho_i },
                &enc_sec,
                &mut pr_rng,
            )
            .unwrap()
        },
        |(cm, pr)| {
            peer_enc::non_interactive::verify::<Sha256>(
                &shared_state,
                &peer_aux,
                peer_enc::Data { key: &peer_ek1, ciphertext: c.as_integer() },
                cm,
                &enc_sec,
                pr,
            )
            .unwrap()
        },
        |(cm, pr)| [&cm.s, &cm.a, &cm.c, &pr.z1, &pr.z2, &pr.z3].iter().map(|x| isz(x)).sum(),
    );
    pair(&ours, &peer, "differs: ours adds the ElGamal commitment (B, X) of CGGMP24");

    // Π^elog (ours, CGGMP24) vs Π^log* (peer, CGGMP21): the same protocol role (Γ_i and Δ_i
    // consistent with what round 1 committed), different statements: ours is pure group
    // arithmetic against an ElGamal commitment, theirs is against a Paillier ciphertext.
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
    let t = ctx(conclave_zk::elog::DOMAIN, 0, b"bench");
    let ours = measure(
        "Π^elog",
        RUNS,
        || ElogProof::prove(&t, &st, &wit, &mut r),
        |pr| pr.verify(&t, &st).unwrap(),
        |pr| pr.to_bytes().len(),
    );
    let base = Point::<PeerCurve>::generator() * peer_scalar(&Integer::from(7));
    let peer_x = base * peer_scalar(&x);
    let log_sec = peer_log::SecurityParams { l: ELL as usize, epsilon: EPSILON as usize, q: q_order.clone() };
    let peer = measure(
        "Π^log*",
        RUNS,
        || {
            peer_log::non_interactive::prove::<PeerCurve, Sha256>(
                &shared_state,
                &peer_aux,
                peer_log::Data { key0: &peer_ek1, c: c.as_integer(), x: &peer_x, b: &base },
                peer_log::PrivateData { x: &x, nonce: &rho_i },
                &log_sec,
                &mut pr_rng,
            )
            .unwrap()
        },
        |(cm, pr)| {
            peer_log::non_interactive::verify::<PeerCurve, Sha256>(
                &shared_state,
                &peer_aux,
                peer_log::Data { key0: &peer_ek1, c: c.as_integer(), x: &peer_x, b: &base },
                cm,
                &log_sec,
                pr,
            )
            .unwrap()
        },
        |(cm, pr)| POINT + [&cm.s, &cm.a, &cm.d, &pr.z1, &pr.z2, &pr.z3].iter().map(|x| isz(x)).sum::<usize>(),
    );
    pair(&ours, &peer, "differs: ours vs an ElGamal commitment (group only), theirs vs a Paillier ciphertext");

    if let Some(r) = fac_once {
        println!(
            "\nΠ^fac including the one-time tables (verifier's s, t mod N^ for the prover, s, t mod p, q for the \
             verifier): ours/peer {r:.2}"
        );
    }
    if skip_abort {
        return;
    }
    // Ours only: the identifiable-abort proofs (no counterpart in paillier-zk 0.4.3 / cggmp21 0.6.3).
    println!("\nidentifiable-abort proofs (ours only; median of 3):");
    let wit = AffGStarWitness { x: &gamma, y: &y, rho: &rho_d, rho_y: &rho_y, prover_secret_key: Some(&f.prover) };
    let st = AffGStarStatement::<C> { verifier_key: ek0, prover_key: ek1, c: &kc, d: &d, y: &fy, x: x_pt };
    let t = ctx(conclave_zk::aff_g_star::DOMAIN, 0, b"bench");
    let row = measure(
        "Π^aff-g*",
        3,
        || AffGStarProof::prove(&t, &st, &wit, &mut r).unwrap(),
        |pr| pr.verify(&t, &st).unwrap(),
        |pr| pr.to_bytes().len(),
    );
    println!("| {} | prove {:.1} ms | verify {:.1} ms | {} bytes |", row.name, ms(row.prove), ms(row.verify), row.size);
    let (kk, _) = f.prover.encrypt(&mut r, &k).unwrap();
    let (dd, _) = f.prover.encrypt(&mut r, &y).unwrap();
    let opening = DecOpening::open(&f.prover, &kk, &gamma, &dd).unwrap();
    let st = DecStatement::<C> {
        key: ek1,
        k: &kk,
        x: x_pt,
        d: &dd,
        s: C::mul_base(&integer_to_scalar::<C>(opening.plaintext())),
        g: C::generator(),
        num_parties: 3,
    };
    let wit = DecWitness { x: &gamma, y: opening.plaintext(), rho: opening.nonce(), secret_key: Some(&f.prover) };
    let t = ctx(conclave_zk::dec::DOMAIN, 0, b"bench");
    let row = measure(
        "Π^dec",
        3,
        || DecProof::prove(&t, &st, &wit, &mut r).unwrap(),
        |pr| pr.verify(&t, &st).unwrap(),
        |pr| pr.to_bytes().len(),
    );
    println!("| {} | prove {:.1} ms | verify {:.1} ms | {} bytes |", row.name, ms(row.prove), ms(row.verify), row.size);

    if !no_primes {
        safe_primes(primes);
    }
}

/// Safe primes, 1536 bits: ours on all cores, the peer's (single-threaded) as cggmp21 calls it.
fn safe_primes(primes: usize) {
    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    println!("\nsafe primes, 1536 bits, median of {primes}:");
    let mut ours = vec![];
    let threads_nz = NonZeroUsize::new(threads).unwrap();
    for i in 0..primes {
        let s = Instant::now();
        let pr = generate_safe_prime(&mut rng(100 + i as u64), 1536, threads_nz).unwrap();
        ours.push(s.elapsed());
        assert_eq!(pr.significant_bits(), 1536);
        println!("  ours #{i}: {:.2} s", ours[i].as_secs_f64());
    }
    let mut peer = vec![];
    for i in 0..primes {
        let mut seeded = rng(200 + i as u64);
        let mut wrapper = RngWrap(&mut seeded);
        let s = Instant::now();
        let pr = fast_paillier::utils::generate_safe_prime(&mut wrapper, 1536);
        peer.push(s.elapsed());
        assert_eq!(pr.significant_bits(), 1536);
        println!("  peer #{i}: {:.2} s", peer[i].as_secs_f64());
    }
    let (mo, mp) = (median(ours), median(peer));
    println!(
        "| safe prime 1536 | ours ({threads} threads) {:.2} s | peer fast-paillier 0.1.1 (1 thread) {:.2} s | ours/peer {:.2} |",
        mo.as_secs_f64(),
        mp.as_secs_f64(),
        mo.as_secs_f64() / mp.as_secs_f64()
    );
}

fn peer_scalar(x: &Integer) -> Scalar<PeerCurve> {
    Scalar::from_be_bytes_mod_order(x.to_digits::<u8>(rug::integer::Order::Msf))
}

/// Passes a ChaCha generator to the peer's `impl RngCore` parameter.
struct RngWrap<'a, R: RngCore>(&'a mut R);

impl<R: RngCore> RngCore for RngWrap<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.try_fill_bytes(dest)
    }
}
