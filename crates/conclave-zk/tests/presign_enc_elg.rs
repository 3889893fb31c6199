//! Π^enc-elg: honest proofs verify; each check rejects a proof that breaks it, with its own
//! error; proofs do not move to another session, prover or statement; decoding never panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "presign_common.rs"]
mod common;

use common::{ctx, fixture, non_unit, rng};
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Secp256k1, SecretScalar, Transcript, P256};
use conclave_paillier::{Ciphertext, Integer, Nonce};
use conclave_zk::common::scalar_to_integer;
use conclave_zk::enc_elg::{EncElgError, EncElgProof, EncElgStatement, EncElgWitness, DOMAIN};
use conclave_zk::rp::{ELL, EPSILON};
use proptest::prelude::*;

struct Case<C: Curve> {
    x: Integer,
    c: Ciphertext,
    rho: Nonce,
    b: SecretScalar<C>,
    a_pt: C::Point,
    b_pt: C::Point,
    x_pt: C::Point,
}

/// A statement for plaintext `x` (any size below N0).
fn case<C: Curve>(seed: u64, x: Integer) -> Case<C> {
    let f = fixture();
    let mut r = rng(seed);
    let (c, rho) = f.prover.encryption_key().encrypt(&mut r, &x).unwrap();
    let a = SecretScalar::<C>::random(&mut r);
    let b = SecretScalar::<C>::random(&mut r);
    let a_pt = a.public_point();
    let b_pt = b.public_point();
    let x_scalar = conclave_zk::common::integer_to_scalar::<C>(&x);
    let x_pt = a_pt * b.expose_secret() + C::mul_base(&x_scalar);
    Case { x, c, rho, b, a_pt, b_pt, x_pt }
}

fn honest_x<C: Curve>(seed: u64) -> Integer {
    let s = SecretScalar::<C>::random(&mut rng(seed + 1000));
    scalar_to_integer::<C>(s.expose_secret())
}

fn statement<'a, C: Curve>(k: &'a Case<C>) -> EncElgStatement<'a, C> {
    let f = fixture();
    EncElgStatement { key: f.prover.encryption_key(), rp: &f.rp, ciphertext: &k.c, a: k.a_pt, b: k.b_pt, x: k.x_pt }
}

/// Proves as presigning does: with the prover's own decryption key (fixed-base nonce tables
/// and CRT).
fn prove<C: Curve>(t: &Transcript, st: &EncElgStatement<'_, C>, k: &Case<C>, seed: u64) -> EncElgProof<C> {
    let wit = EncElgWitness { x: &k.x, rho: &k.rho, b: &k.b, prover_secret_key: Some(&fixture().prover) };
    EncElgProof::prove(t, st, &wit, &mut rng(seed)).unwrap()
}

fn honest<C: Curve>() {
    let k = case::<C>(1, honest_x::<C>(1));
    let st = statement(&k);
    let t = ctx(DOMAIN, 0, b"s1");
    let proof = prove(&t, &st, &k, 2);
    assert_eq!(proof.verify(&t, &st), Ok(()));
    assert_eq!(proof.verify_with_key(&t, &st, Some(&fixture().verifier)), Ok(()));
    let decoded = EncElgProof::<C>::from_bytes(&proof.to_bytes()).unwrap();
    assert_eq!(decoded, proof);
    assert_eq!(decoded.verify(&t, &st), Ok(()));
    // Negative plaintexts are in range too.
    let k = case::<C>(3, -honest_x::<C>(3));
    let st = statement(&k);
    assert_eq!(prove(&t, &st, &k, 4).verify(&t, &st), Ok(()));
    // Without the prover's key (public-key path), and with a key of another modulus (ignored).
    let f = fixture();
    for key in [None, Some(&f.verifier)] {
        let wit = EncElgWitness { x: &k.x, rho: &k.rho, b: &k.b, prover_secret_key: key };
        assert_eq!(EncElgProof::prove(&t, &st, &wit, &mut rng(5)).unwrap().verify(&t, &st), Ok(()));
    }
}

#[test]
fn honest_proofs_verify_secp256k1() {
    honest::<Secp256k1>();
}

#[test]
fn honest_proofs_verify_p256() {
    honest::<P256>();
}

#[test]
fn witness_debug_is_redacted() {
    let k = case::<Secp256k1>(5, honest_x::<Secp256k1>(5));
    let wit = EncElgWitness { x: &k.x, rho: &k.rho, b: &k.b, prover_secret_key: Some(&fixture().prover) };
    let s = format!("{wit:?}");
    assert!(s.contains("redacted"));
    assert!(!s.contains(&k.x.to_string_radix(16)));
}

#[test]
fn bound_to_session_prover_and_statement() {
    type C = Secp256k1;
    let k = case::<C>(6, honest_x::<C>(6));
    let st = statement(&k);
    let t = ctx(DOMAIN, 0, b"s1");
    let proof = prove(&t, &st, &k, 7);
    assert!(proof.verify(&ctx(DOMAIN, 0, b"s2"), &st).is_err(), "other session");
    assert!(proof.verify(&ctx(DOMAIN, 1, b"s1"), &st).is_err(), "other prover");
    // Same plaintext, other ciphertext.
    let other = case::<C>(8, k.x.clone());
    let st2 = EncElgStatement { ciphertext: &other.c, ..st };
    assert!(proof.verify(&t, &st2).is_err(), "other ciphertext");
    let st3 = EncElgStatement { a: st.a + C::generator(), ..st };
    assert!(proof.verify(&t, &st3).is_err(), "other ElGamal key");
    // Other ring-Pedersen parameters (the prover's own modulus as N̂).
    let f = fixture();
    let (rp2, _) = conclave_paillier::generate_ring_pedersen(&mut rng(9), &f.prover).unwrap();
    let st4 = EncElgStatement { rp: &rp2, ..st };
    assert!(proof.verify(&t, &st4).is_err(), "other ring-Pedersen parameters");
}

#[test]
fn each_check_rejects_with_its_own_error() {
    type C = Secp256k1;
    let f = fixture();
    let (p0, _) = f.prover.expose_primes();
    let (p1, _) = f.verifier.expose_primes();
    let n0 = f.prover.encryption_key().modulus().clone();
    let k = case::<C>(10, honest_x::<C>(10));
    let st = statement(&k);
    let t = ctx(DOMAIN, 0, b"s1");
    let proof = prove(&t, &st, &k, 11);
    assert_eq!(proof.verify(&t, &st), Ok(()));

    // (V1) A statement ciphertext outside Z*_{N0²} (a valid ciphertext of another key that
    // shares the factor p0 with N0).
    let foreign = f.verifier.encryption_key().validate_ciphertext(p0).unwrap();
    let bad_st = EncElgStatement { ciphertext: &foreign, ..st };
    assert_eq!(proof.verify(&t, &bad_st), Err(EncElgError::StatementCiphertext));

    let tamper = |g: &dyn Fn(&mut EncElgProof<C>)| {
        let mut p = proof.clone();
        g(&mut p);
        let plain = p.verify(&t, &st);
        // The verifier's CRT path (its own key of N̂) gives the same answer.
        assert_eq!(p.verify_with_key(&t, &st, Some(&fixture().verifier)), plain);
        plain
    };
    // (V2)–(V5) memberships.
    assert_eq!(tamper(&|p| p.s = non_unit(p1)), Err(EncElgError::SNotUnit));
    assert_eq!(tamper(&|p| p.s = Integer::ZERO), Err(EncElgError::SNotUnit));
    assert_eq!(tamper(&|p| p.t = non_unit(p1)), Err(EncElgError::TNotUnit));
    assert_eq!(tamper(&|p| p.t = f.rp.modulus().clone()), Err(EncElgError::TNotUnit));
    assert_eq!(tamper(&|p| p.d = non_unit(p0)), Err(EncElgError::DNotCiphertext));
    assert_eq!(
        tamper(&|p| p.d = f.prover.encryption_key().modulus_squared().clone()),
        Err(EncElgError::DNotCiphertext)
    );
    assert_eq!(tamper(&|p| p.z2 = non_unit(p0)), Err(EncElgError::Z2NotUnit));
    assert_eq!(tamper(&|p| p.z2 = n0.clone()), Err(EncElgError::Z2NotUnit));
    // (V7) Paillier equation: only z2 changes (z2 is in no other check).
    assert_eq!(tamper(&|p| p.z2 = Integer::from(&p.z2 * 2u32) % &n0), Err(EncElgError::PaillierEquation));
    // (V10) ring-Pedersen equation: only z3 changes.
    assert_eq!(tamper(&|p| p.z3 += 1u32), Err(EncElgError::RingPedersenEquation));
    // (V8) a proof for a statement whose X is not b·A + x·G: only the ElGamal equation fails.
    let st_x = EncElgStatement { x: st.x + C::generator(), ..st };
    assert_eq!(prove(&t, &st_x, &k, 12).verify(&t, &st_x), Err(EncElgError::ElGamalEquation));
    // (V9) a proof for a statement whose B is not b·G: only the nonce equation fails.
    let st_b = EncElgStatement { b: st.b + C::generator(), ..st };
    assert_eq!(prove(&t, &st_b, &k, 13).verify(&t, &st_b), Err(EncElgError::NonceEquation));
    // (V7) again, from the prover's side: a wrong nonce in the witness.
    let wrong_rho = Nonce::new(Integer::from(k.rho.expose_secret() + 1u32));
    let wit = EncElgWitness { x: &k.x, rho: &wrong_rho, b: &k.b, prover_secret_key: Some(&fixture().prover) };
    let p = EncElgProof::prove(&t, &st, &wit, &mut rng(14)).unwrap();
    assert_eq!(p.verify(&t, &st), Err(EncElgError::PaillierEquation));
}

#[test]
fn out_of_range_plaintext_is_rejected_by_the_range_check() {
    type C = Secp256k1;
    // x far beyond ±2^ℓ: every equation still holds, only z1 ∈ ±2^(ℓ+ε) fails.
    let x = (Integer::from(1) << (ELL + EPSILON + 64)) + 12345u32;
    let k = case::<C>(20, x);
    let st = statement(&k);
    let t = ctx(DOMAIN, 0, b"s1");
    let proof = prove(&t, &st, &k, 21);
    assert_eq!(proof.verify(&t, &st), Err(EncElgError::Z1OutOfRange));
    // The same proof with z1 nudged back into range fails the equations instead.
    let mut p = proof.clone();
    p.z1 = Integer::from(1) << (ELL + EPSILON);
    assert_eq!(p.verify(&t, &st), Err(EncElgError::PaillierEquation));
    // z1 just outside ±2^(ℓ+ε) on both sides.
    let mut p = proof.clone();
    p.z1 = (Integer::from(1) << (ELL + EPSILON)) + 1u32;
    assert_eq!(p.verify(&t, &st), Err(EncElgError::Z1OutOfRange));
    p.z1 = -p.z1.clone();
    assert_eq!(p.verify(&t, &st), Err(EncElgError::Z1OutOfRange));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = EncElgProof::<Secp256k1>::from_bytes(&bytes);
        let _ = EncElgProof::<P256>::from_bytes(&bytes);
    }

    #[test]
    fn decoding_mutated_proofs_never_panics(pos in 0usize..4096, byte in any::<u8>()) {
        let mut bytes = sample_bytes().clone();
        let i = pos % bytes.len();
        bytes[i] = byte;
        let _ = EncElgProof::<Secp256k1>::from_bytes(&bytes);
        bytes.truncate(i);
        let _ = EncElgProof::<Secp256k1>::from_bytes(&bytes);
    }
}

fn sample_bytes() -> &'static Vec<u8> {
    static B: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    B.get_or_init(|| {
        let k = case::<Secp256k1>(30, honest_x::<Secp256k1>(30));
        let st = statement(&k);
        prove(&ctx(DOMAIN, 0, b"s"), &st, &k, 31).to_bytes()
    })
}

/// A signed integer from arbitrary bytes (the first byte's low bit is the sign).
fn signed_from(bytes: &[u8]) -> Integer {
    let x = Integer::from_digits(bytes.get(1..).unwrap_or(&[]), rug::integer::Order::Msf);
    if bytes.first().is_some_and(|b| b & 1 == 1) {
        -x
    } else {
        x
    }
}

/// `x` with its magnitude cut to `bits` bits (sign kept).
fn cut(x: Integer, bits: u32) -> Integer {
    let neg = x.is_negative();
    let m = Integer::from(x.abs_ref()).keep_bits(bits);
    if neg {
        -m
    } else {
        m
    }
}

fn mutation_base() -> &'static (Case<Secp256k1>, EncElgProof<Secp256k1>) {
    static B: std::sync::OnceLock<(Case<Secp256k1>, EncElgProof<Secp256k1>)> = std::sync::OnceLock::new();
    B.get_or_init(|| {
        let k = case::<Secp256k1>(40, honest_x::<Secp256k1>(40));
        let p = prove(&ctx(DOMAIN, 0, b"m"), &statement(&k), &k, 41);
        (k, p)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any value in any integer field (cut to a plausible size): no panic, and the CRT
    /// verifier (own key of N̂) agrees with the plain one.
    #[test]
    fn verifier_paths_agree_on_mutated_proofs(field in 0usize..6, bytes in proptest::collection::vec(any::<u8>(), 0..1100)) {
        let f = fixture();
        let (k, proof) = mutation_base();
        let st = statement(k);
        let t = ctx(DOMAIN, 0, b"m");
        let ek = f.prover.encryption_key();
        let nh = f.rp.modulus();
        let v = signed_from(&bytes);
        let abs_mod = |m: &Integer| Integer::from(v.abs_ref()) % m;
        let mut p = proof.clone();
        match field {
            0 => p.s = abs_mod(nh),
            1 => p.d = abs_mod(ek.modulus_squared()),
            2 => p.t = abs_mod(nh),
            3 => p.z1 = cut(v, ELL + EPSILON),
            4 => p.z2 = abs_mod(ek.modulus()),
            _ => p.z3 = v,
        }
        let plain = p.verify(&t, &st);
        prop_assert_eq!(p.verify_with_key(&t, &st, Some(&f.verifier)), plain);
    }
}
