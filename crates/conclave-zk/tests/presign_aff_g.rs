//! Π^aff-g: honest proofs verify; each check rejects a proof that breaks it, with its own
//! error; proofs do not move to another session, prover or statement; decoding never panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "presign_common.rs"]
mod common;

use common::{ctx, fixture, non_unit, rng};
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Secp256k1, SecretScalar, Transcript, P256};
use conclave_paillier::{Ciphertext, Integer, Nonce};
use conclave_zk::aff_g::{AffGError, AffGProof, AffGStatement, AffGWitness, DOMAIN};
use conclave_zk::common::{integer_to_scalar, scalar_to_integer};
use conclave_zk::rp::{ELL, ELL_PRIME, EPSILON};
use proptest::prelude::*;
use rand_core::RngCore;

struct Case<C: Curve> {
    x: Integer,
    y: Integer,
    rho: Nonce,
    rho_y: Nonce,
    c: Ciphertext,
    d: Ciphertext,
    big_y: Ciphertext,
    x_pt: C::Point,
}

/// A uniformly random integer in ±2^bits.
fn signed_bits(seed: u64, bits: u32) -> Integer {
    let mut r = rng(seed);
    let mut bytes = vec![0u8; (bits as usize).div_ceil(8) + 1];
    r.fill_bytes(&mut bytes);
    let v = Integer::from_digits(&bytes, rug::integer::Order::Msf);
    let v = v.keep_bits(bits + 1);
    v - (Integer::from(1) << bits)
}

/// `D = C^x · enc_0(y; ρ)`, `Y = enc_1(y; ρ_y)`, `X = x·G` (N0 = verifier, N1 = prover).
fn case<C: Curve>(seed: u64, x: Integer, y: Integer) -> Case<C> {
    let f = fixture();
    let ek0 = f.verifier.encryption_key();
    let ek1 = f.prover.encryption_key();
    let mut r = rng(seed);
    let k = scalar_to_integer::<C>(SecretScalar::<C>::random(&mut r).expose_secret());
    let (c, _) = ek0.encrypt(&mut r, &k).unwrap();
    let (enc_y, rho) = ek0.encrypt(&mut r, &y).unwrap();
    let d = ek0.add(&ek0.scalar_mul(&c, &x).unwrap(), &enc_y).unwrap();
    let (big_y, rho_y) = ek1.encrypt(&mut r, &y).unwrap();
    let x_pt = C::mul_base(&integer_to_scalar::<C>(&x));
    Case { x, y, rho, rho_y, c, d, big_y, x_pt }
}

fn honest_case<C: Curve>(seed: u64) -> Case<C> {
    let x = scalar_to_integer::<C>(SecretScalar::<C>::random(&mut rng(seed + 500)).expose_secret());
    // y = −β with β ∈ ±2^ℓ′, as presigning uses it.
    let y = -signed_bits(seed + 600, ELL_PRIME);
    case::<C>(seed, x, y)
}

fn statement<'a, C: Curve>(k: &'a Case<C>) -> AffGStatement<'a, C> {
    let f = fixture();
    AffGStatement {
        verifier_key: f.verifier.encryption_key(),
        prover_key: f.prover.encryption_key(),
        rp: &f.rp,
        c: &k.c,
        d: &k.d,
        y: &k.big_y,
        x: k.x_pt,
    }
}

/// Proves as presigning does: with the prover's own decryption key of `N1`.
fn prove<C: Curve>(t: &Transcript, st: &AffGStatement<'_, C>, k: &Case<C>, seed: u64) -> AffGProof<C> {
    let wit =
        AffGWitness { x: &k.x, y: &k.y, rho: &k.rho, rho_y: &k.rho_y, prover_secret_key: Some(&fixture().prover) };
    AffGProof::prove(t, st, &wit, &mut rng(seed)).unwrap()
}

fn honest<C: Curve>() {
    let k = honest_case::<C>(1);
    let st = statement(&k);
    let t = ctx(DOMAIN, 0, b"s1");
    let proof = prove(&t, &st, &k, 2);
    assert_eq!(proof.verify(&t, &st), Ok(()));
    assert_eq!(proof.verify_with_key(&t, &st, Some(&fixture().verifier)), Ok(()));
    let decoded = AffGProof::<C>::from_bytes(&proof.to_bytes()).unwrap();
    assert_eq!(decoded, proof);
    assert_eq!(decoded.verify(&t, &st), Ok(()));
    // Without the prover's key (public-key path), and with a key of another modulus (ignored).
    let f = fixture();
    for key in [None, Some(&f.verifier)] {
        let wit = AffGWitness { x: &k.x, y: &k.y, rho: &k.rho, rho_y: &k.rho_y, prover_secret_key: key };
        assert_eq!(AffGProof::prove(&t, &st, &wit, &mut rng(5)).unwrap().verify(&t, &st), Ok(()));
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
    let k = honest_case::<Secp256k1>(3);
    let wit = AffGWitness { x: &k.x, y: &k.y, rho: &k.rho, rho_y: &k.rho_y, prover_secret_key: None };
    let s = format!("{wit:?}");
    assert!(s.contains("redacted") && !s.contains(&k.x.to_string_radix(16)));
}

#[test]
fn bound_to_session_prover_and_statement() {
    type C = Secp256k1;
    let k = honest_case::<C>(4);
    let st = statement(&k);
    let t = ctx(DOMAIN, 0, b"s1");
    let proof = prove(&t, &st, &k, 5);
    assert!(proof.verify(&ctx(DOMAIN, 0, b"s2"), &st).is_err(), "other session");
    assert!(proof.verify(&ctx(DOMAIN, 2, b"s1"), &st).is_err(), "other prover");
    let other = honest_case::<C>(6);
    assert!(proof.verify(&t, &AffGStatement { c: &other.c, ..st }).is_err(), "other C");
    assert!(proof.verify(&t, &AffGStatement { d: &other.d, ..st }).is_err(), "other D");
    assert!(proof.verify(&t, &AffGStatement { y: &other.big_y, ..st }).is_err(), "other Y");
    assert!(proof.verify(&t, &AffGStatement { x: other.x_pt, ..st }).is_err(), "other X");
}

#[test]
fn each_check_rejects_with_its_own_error() {
    type C = Secp256k1;
    let f = fixture();
    let (p_prover, _) = f.prover.expose_primes();
    let (p_verifier, _) = f.verifier.expose_primes();
    let n0 = f.verifier.encryption_key().modulus().clone();
    let n1 = f.prover.encryption_key().modulus().clone();
    let k = honest_case::<C>(10);
    let st = statement(&k);
    let t = ctx(DOMAIN, 0, b"s1");
    let proof = prove(&t, &st, &k, 11);
    assert_eq!(proof.verify(&t, &st), Ok(()));

    // (V1)–(V3) statement ciphertexts outside their Z*_{N²} (valid ciphertexts of the other
    // key that share a factor with the right one).
    let not_n0 = f.prover.encryption_key().validate_ciphertext(p_verifier).unwrap();
    let not_n1 = f.verifier.encryption_key().validate_ciphertext(p_prover).unwrap();
    assert_eq!(proof.verify(&t, &AffGStatement { c: &not_n0, ..st }), Err(AffGError::StatementC));
    assert_eq!(proof.verify(&t, &AffGStatement { d: &not_n0, ..st }), Err(AffGError::StatementD));
    assert_eq!(proof.verify(&t, &AffGStatement { y: &not_n1, ..st }), Err(AffGError::StatementY));

    let tamper = |g: &dyn Fn(&mut AffGProof<C>)| {
        let mut p = proof.clone();
        g(&mut p);
        let plain = p.verify(&t, &st);
        // The verifier's CRT path (its own key of N̂) gives the same answer.
        assert_eq!(p.verify_with_key(&t, &st, Some(&fixture().verifier)), plain);
        plain
    };
    // (V4)–(V11) memberships of the commitments and the nonce responses.
    assert_eq!(tamper(&|p| p.a = non_unit(p_verifier)), Err(AffGError::ANotCiphertext));
    assert_eq!(tamper(&|p| p.a = Integer::ZERO), Err(AffGError::ANotCiphertext));
    assert_eq!(tamper(&|p| p.b_y = non_unit(p_prover)), Err(AffGError::ByNotCiphertext));
    assert_eq!(
        tamper(&|p| p.b_y = f.prover.encryption_key().modulus_squared().clone()),
        Err(AffGError::ByNotCiphertext)
    );
    assert_eq!(tamper(&|p| p.e = non_unit(p_verifier)), Err(AffGError::ENotUnit));
    assert_eq!(tamper(&|p| p.s = non_unit(p_verifier)), Err(AffGError::SNotUnit));
    assert_eq!(tamper(&|p| p.f = non_unit(p_verifier)), Err(AffGError::FNotUnit));
    assert_eq!(tamper(&|p| p.t = non_unit(p_verifier)), Err(AffGError::TNotUnit));
    assert_eq!(tamper(&|p| p.t = -Integer::from(1)), Err(AffGError::TNotUnit));
    assert_eq!(tamper(&|p| p.w = non_unit(p_verifier)), Err(AffGError::WNotUnit));
    assert_eq!(tamper(&|p| p.w_y = non_unit(p_prover)), Err(AffGError::WyNotUnit));
    assert_eq!(tamper(&|p| p.w_y = n1.clone()), Err(AffGError::WyNotUnit));
    // (V12), (V13) ranges, on the boundary.
    let edge = |bits: u32| (Integer::from(1) << bits) + 1u32;
    assert_eq!(tamper(&|p| p.z1 = edge(ELL + EPSILON)), Err(AffGError::Z1OutOfRange));
    assert_eq!(tamper(&|p| p.z1 = -edge(ELL + EPSILON)), Err(AffGError::Z1OutOfRange));
    assert_eq!(tamper(&|p| p.z2 = edge(ELL_PRIME + EPSILON)), Err(AffGError::Z2OutOfRange));
    assert_eq!(tamper(&|p| p.z2 = -edge(ELL_PRIME + EPSILON)), Err(AffGError::Z2OutOfRange));
    // (V14) only w changes: only the affine equation uses it.
    assert_eq!(tamper(&|p| p.w = Integer::from(&p.w * 2u32) % &n0), Err(AffGError::AffineEquation));
    // (V16) only w_y changes.
    assert_eq!(tamper(&|p| p.w_y = Integer::from(&p.w_y * 2u32) % &n1), Err(AffGError::EncryptionEquation));
    // (V17), (V18) only z3 / z4 change.
    assert_eq!(tamper(&|p| p.z3 += 1u32), Err(AffGError::RingPedersenXEquation));
    assert_eq!(tamper(&|p| p.z4 -= 1u32), Err(AffGError::RingPedersenYEquation));
    // (V15) a proof for a statement whose X is not x·G: only the group equation fails.
    let st_x = AffGStatement { x: st.x + C::generator(), ..st };
    assert_eq!(prove(&t, &st_x, &k, 12).verify(&t, &st_x), Err(AffGError::GroupEquation));
    // (V16) from the prover's side: Y encrypts another y.
    let other = case::<C>(13, k.x.clone(), Integer::from(&k.y + 1u32));
    let st_y = AffGStatement { y: &other.big_y, ..st };
    let wit =
        AffGWitness { x: &k.x, y: &k.y, rho: &k.rho, rho_y: &other.rho_y, prover_secret_key: Some(&fixture().prover) };
    let p = AffGProof::prove(&t, &st_y, &wit, &mut rng(14)).unwrap();
    assert_eq!(p.verify(&t, &st_y), Err(AffGError::EncryptionEquation));
}

#[test]
fn out_of_range_witnesses_are_rejected_by_the_range_checks() {
    type C = Secp256k1;
    let t = ctx(DOMAIN, 0, b"s1");
    // x beyond ±2^(ℓ+ε): all equations hold, only z1's range fails.
    let big_x = (Integer::from(1) << (ELL + EPSILON + 64)) + 7u32;
    let k = case::<C>(20, big_x, -signed_bits(21, ELL_PRIME));
    let st = statement(&k);
    assert_eq!(prove(&t, &st, &k, 22).verify(&t, &st), Err(AffGError::Z1OutOfRange));
    // y beyond ±2^(ℓ′+ε): only z2's range fails.
    let x = scalar_to_integer::<C>(SecretScalar::<C>::random(&mut rng(23)).expose_secret());
    let big_y = -((Integer::from(1) << (ELL_PRIME + EPSILON + 64)) + 9u32);
    let k = case::<C>(24, x, big_y);
    let st = statement(&k);
    assert_eq!(prove(&t, &st, &k, 25).verify(&t, &st), Err(AffGError::Z2OutOfRange));
}

fn sample_bytes() -> &'static Vec<u8> {
    static B: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    B.get_or_init(|| {
        let k = honest_case::<Secp256k1>(30);
        let st = statement(&k);
        prove(&ctx(DOMAIN, 0, b"s"), &st, &k, 31).to_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = AffGProof::<Secp256k1>::from_bytes(&bytes);
        let _ = AffGProof::<P256>::from_bytes(&bytes);
    }

    #[test]
    fn decoding_mutated_proofs_never_panics(pos in 0usize..16384, byte in any::<u8>()) {
        let mut bytes = sample_bytes().clone();
        let i = pos % bytes.len();
        bytes[i] = byte;
        let _ = AffGProof::<Secp256k1>::from_bytes(&bytes);
        bytes.truncate(i);
        let _ = AffGProof::<Secp256k1>::from_bytes(&bytes);
    }
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

fn mutation_base() -> &'static (Case<Secp256k1>, AffGProof<Secp256k1>) {
    static B: std::sync::OnceLock<(Case<Secp256k1>, AffGProof<Secp256k1>)> = std::sync::OnceLock::new();
    B.get_or_init(|| {
        let k = honest_case::<Secp256k1>(40);
        let p = prove(&ctx(DOMAIN, 0, b"m"), &statement(&k), &k, 41);
        (k, p)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any value in any integer field (cut to a plausible size so that the equations, not only
    /// the membership checks, are reached): no panic, and the CRT verifier (own key) agrees
    /// with the plain one.
    #[test]
    fn verifier_paths_agree_on_mutated_proofs(field in 0usize..12, bytes in proptest::collection::vec(any::<u8>(), 0..1100)) {
        let f = fixture();
        let (k, proof) = mutation_base();
        let st = statement(k);
        let t = ctx(DOMAIN, 0, b"m");
        let (nn0, n0, n1, nh) = (
            f.verifier.encryption_key().modulus_squared(),
            f.verifier.encryption_key().modulus(),
            f.prover.encryption_key().modulus(),
            f.rp.modulus(),
        );
        let nn1 = f.prover.encryption_key().modulus_squared();
        let v = signed_from(&bytes);
        let abs_mod = |m: &Integer| Integer::from(v.abs_ref()) % m;
        let mut p = proof.clone();
        match field {
            0 => p.a = abs_mod(nn0),
            1 => p.b_y = abs_mod(nn1),
            2 => p.e = abs_mod(nh),
            3 => p.s = abs_mod(nh),
            4 => p.f = abs_mod(nh),
            5 => p.t = abs_mod(nh),
            6 => p.z1 = cut(v, ELL + EPSILON),
            7 => p.z2 = cut(v, ELL_PRIME + EPSILON),
            8 => p.z3 = v,
            9 => p.z4 = v,
            10 => p.w = abs_mod(n0),
            _ => p.w_y = abs_mod(n1),
        }
        let plain = p.verify(&t, &st);
        prop_assert_eq!(p.verify_with_key(&t, &st, Some(&f.verifier)), plain);
    }
}
