//! Π^aff-g*: honest proofs verify; each check rejects a proof that breaks only it, with its own
//! error; proofs do not move to another session, prover or statement; decoding never panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "presign_common.rs"]
mod common;

use common::{ctx, fixture, non_unit, rng};
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Secp256k1, SecretScalar, Transcript, P256};
use conclave_paillier::{Ciphertext, Integer, Nonce};
use conclave_zk::aff_g_star::{AffGStarError, AffGStarProof, AffGStarStatement, AffGStarWitness, DOMAIN};
use conclave_zk::common::{integer_to_scalar, scalar_to_integer};
use conclave_zk::rp::{BINARY_CHALLENGES, ELL, ELL_PRIME, EPSILON};
use proptest::prelude::*;
use rand_core::RngCore;
use std::sync::OnceLock;

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
    let v = Integer::from_digits(&bytes, rug::integer::Order::Msf).keep_bits(bits + 1);
    v - (Integer::from(1) << bits)
}

/// `D = C^x · enc_0(y; ρ)`, `Y = enc_1(y; ρ_y)`, `X = x·G` (N0 = verifier, N1 = prover), as
/// presigning builds `D_{j,i}` and `F_{j,i}` with `y = −β_{j,i}`.
fn case<C: Curve>(seed: u64) -> Case<C> {
    let f = fixture();
    let ek0 = f.verifier.encryption_key();
    let mut r = rng(seed);
    let x = scalar_to_integer::<C>(SecretScalar::<C>::random(&mut r).expose_secret());
    let y = -signed_bits(seed + 600, ELL_PRIME);
    let k = scalar_to_integer::<C>(SecretScalar::<C>::random(&mut r).expose_secret());
    let (c, _) = ek0.encrypt(&mut r, &k).unwrap();
    let (enc_y, rho) = ek0.encrypt(&mut r, &y).unwrap();
    let d = ek0.add(&ek0.scalar_mul(&c, &x).unwrap(), &enc_y).unwrap();
    let (big_y, rho_y) = f.prover.encrypt(&mut r, &y).unwrap();
    let x_pt = C::mul_base(&integer_to_scalar::<C>(&x));
    Case { x, y, rho, rho_y, c, d, big_y, x_pt }
}

fn statement<C: Curve>(k: &Case<C>) -> AffGStarStatement<'_, C> {
    let f = fixture();
    AffGStarStatement {
        verifier_key: f.verifier.encryption_key(),
        prover_key: f.prover.encryption_key(),
        c: &k.c,
        d: &k.d,
        y: &k.big_y,
        x: k.x_pt,
    }
}

fn prove<C: Curve>(t: &Transcript, st: &AffGStarStatement<'_, C>, k: &Case<C>, seed: u64) -> AffGStarProof<C> {
    let wit =
        AffGStarWitness { x: &k.x, y: &k.y, rho: &k.rho, rho_y: &k.rho_y, prover_secret_key: Some(&fixture().prover) };
    AffGStarProof::prove(t, st, &wit, &mut rng(seed)).unwrap()
}

/// One honest secp256k1 proof, shared by the tests (proving costs 128 repetitions).
fn honest() -> &'static (Case<Secp256k1>, AffGStarProof<Secp256k1>) {
    static H: OnceLock<(Case<Secp256k1>, AffGStarProof<Secp256k1>)> = OnceLock::new();
    H.get_or_init(|| {
        let k = case::<Secp256k1>(1);
        let proof = prove(&ctx(DOMAIN, 0, b"s1"), &statement(&k), &k, 2);
        (k, proof)
    })
}

#[test]
fn honest_proofs_verify_secp256k1() {
    let (k, proof) = honest();
    let st = statement(k);
    let t = ctx(DOMAIN, 0, b"s1");
    assert_eq!(proof.commitments.len(), BINARY_CHALLENGES);
    assert_eq!(proof.verify(&t, &st), Ok(()));
    let decoded = AffGStarProof::<Secp256k1>::from_bytes(&proof.to_bytes()).unwrap();
    assert_eq!(&decoded, proof);
}

#[test]
fn witness_debug_is_redacted() {
    let (k, _) = honest();
    let wit = AffGStarWitness { x: &k.x, y: &k.y, rho: &k.rho, rho_y: &k.rho_y, prover_secret_key: None };
    let s = format!("{wit:?}");
    assert!(s.contains("redacted") && !s.contains(&k.x.to_string_radix(16)));
}

#[test]
fn bound_to_session_prover_and_statement() {
    type C = Secp256k1;
    let f = fixture();
    let (k, proof) = honest();
    let st = statement(k);
    let t = ctx(DOMAIN, 0, b"s1");
    assert!(proof.verify(&ctx(DOMAIN, 0, b"s2"), &st).is_err(), "other session");
    assert!(proof.verify(&ctx(DOMAIN, 2, b"s1"), &st).is_err(), "other prover");
    assert!(proof.verify(&ctx("conclave/zk/aff-g/v1", 0, b"s1"), &st).is_err(), "other proof domain");
    let other = case::<C>(6);
    assert!(proof.verify(&t, &AffGStarStatement { c: &other.c, ..st }).is_err(), "other C");
    assert!(proof.verify(&t, &AffGStarStatement { d: &other.d, ..st }).is_err(), "other D");
    assert!(proof.verify(&t, &AffGStarStatement { y: &other.big_y, ..st }).is_err(), "other Y");
    assert!(proof.verify(&t, &AffGStarStatement { x: other.x_pt, ..st }).is_err(), "other X");
    let swapped = AffGStarStatement { verifier_key: f.prover.encryption_key(), ..st };
    assert!(proof.verify(&t, &swapped).is_err(), "other N0");
}

#[test]
fn each_check_rejects_with_its_own_error() {
    type C = Secp256k1;
    let f = fixture();
    let (p_prover, _) = f.prover.expose_primes();
    let (p_verifier, _) = f.verifier.expose_primes();
    let n0 = f.verifier.encryption_key().modulus().clone();
    let n1 = f.prover.encryption_key().modulus().clone();
    let (k, proof) = honest();
    let st = statement(k);
    let t = ctx(DOMAIN, 0, b"s1");

    // (V1)–(V3) statement ciphertexts outside their Z*_{N²}.
    let not_n0 = f.prover.encryption_key().validate_ciphertext(p_verifier).unwrap();
    let not_n1 = f.verifier.encryption_key().validate_ciphertext(p_prover).unwrap();
    assert_eq!(proof.verify(&t, &AffGStarStatement { c: &not_n0, ..st }), Err(AffGStarError::StatementC));
    assert_eq!(proof.verify(&t, &AffGStarStatement { d: &not_n0, ..st }), Err(AffGStarError::StatementD));
    assert_eq!(proof.verify(&t, &AffGStarStatement { y: &not_n1, ..st }), Err(AffGStarError::StatementY));

    let tamper = |g: &dyn Fn(&mut AffGStarProof<C>)| {
        let mut p = proof.clone();
        g(&mut p);
        p.verify(&t, &st)
    };
    // (V4) not exactly m repetitions (one fewer, one more, or mismatched).
    let m = BINARY_CHALLENGES;
    assert_eq!(
        tamper(&|p| {
            p.commitments.pop();
            p.responses.pop();
        }),
        Err(AffGStarError::RepetitionCount { commitments: m - 1, responses: m - 1 })
    );
    assert_eq!(
        tamper(&|p| p.responses.push(p.responses[0].clone())),
        Err(AffGStarError::RepetitionCount { commitments: m, responses: m + 1 })
    );
    // (V5)–(V8) memberships, in a repetition other than the first.
    let j = 5;
    assert_eq!(tamper(&|p| p.commitments[j].a = non_unit(p_verifier)), Err(AffGStarError::ANotCiphertext { index: j }));
    assert_eq!(tamper(&|p| p.commitments[j].a = Integer::ZERO), Err(AffGStarError::ANotCiphertext { index: j }));
    assert_eq!(tamper(&|p| p.commitments[j].b = non_unit(p_prover)), Err(AffGStarError::BNotCiphertext { index: j }));
    assert_eq!(
        tamper(&|p| p.commitments[j].b = f.prover.encryption_key().modulus_squared().clone()),
        Err(AffGStarError::BNotCiphertext { index: j })
    );
    assert_eq!(tamper(&|p| p.responses[j].w = non_unit(p_verifier)), Err(AffGStarError::WNotUnit { index: j }));
    assert_eq!(tamper(&|p| p.responses[j].w = -Integer::from(1)), Err(AffGStarError::WNotUnit { index: j }));
    assert_eq!(tamper(&|p| p.responses[j].lambda = non_unit(p_prover)), Err(AffGStarError::LambdaNotUnit { index: j }));
    assert_eq!(tamper(&|p| p.responses[j].lambda = n1.clone()), Err(AffGStarError::LambdaNotUnit { index: j }));
    // (V9), (V10) ranges, just past the boundary (the boundary itself is accepted).
    let edge = |bits: u32| (Integer::from(1) << bits) + 1u32;
    assert_eq!(tamper(&|p| p.responses[j].z = edge(ELL + EPSILON)), Err(AffGStarError::ZOutOfRange { index: j }));
    assert_eq!(tamper(&|p| p.responses[j].z = -edge(ELL + EPSILON)), Err(AffGStarError::ZOutOfRange { index: j }));
    assert_eq!(
        tamper(&|p| p.responses[j].z_prime = edge(ELL_PRIME + EPSILON)),
        Err(AffGStarError::ZPrimeOutOfRange { index: j })
    );
    assert_eq!(
        tamper(&|p| p.responses[j].z_prime = -edge(ELL_PRIME + EPSILON)),
        Err(AffGStarError::ZPrimeOutOfRange { index: j })
    );
    // (V11) only w_j changes: only the affine equation uses it.
    assert_eq!(
        tamper(&|p| p.responses[j].w = Integer::from(&p.responses[j].w * 2u32) % &n0),
        Err(AffGStarError::AffineEquation { index: j })
    );
    // (V13) only λ_j changes: only the encryption equation uses it.
    assert_eq!(
        tamper(&|p| p.responses[j].lambda = Integer::from(&p.responses[j].lambda * 2u32) % &n1),
        Err(AffGStarError::EncryptionEquation { index: j })
    );
    // A commitment changed: the challenge changes, some equation fails.
    assert!(tamper(&|p| p.commitments[j].r += C::generator()).is_err());
}

#[test]
fn group_equation_rejects_a_wrong_x() {
    // (V12) A proof for a statement whose X is not x·G: the Paillier equations hold, the group
    // equation fails in the first repetition with challenge bit 1.
    type C = Secp256k1;
    let (k, _) = honest();
    let t = ctx(DOMAIN, 0, b"s1");
    let st = AffGStarStatement { x: k.x_pt + C::generator(), ..statement(k) };
    let proof = prove(&t, &st, k, 12);
    assert!(matches!(proof.verify(&t, &st), Err(AffGStarError::GroupEquation { .. })));
}

fn sample_bytes() -> &'static Vec<u8> {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| honest().1.to_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = AffGStarProof::<Secp256k1>::from_bytes(&bytes);
        let _ = AffGStarProof::<P256>::from_bytes(&bytes);
        // A plausible prefix: the repetition count, then garbage.
        let mut prefixed = (BINARY_CHALLENGES as u32).to_be_bytes().to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = AffGStarProof::<Secp256k1>::from_bytes(&prefixed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn decoding_mutated_proofs_never_panics(pos in 0usize..1 << 20, byte in any::<u8>()) {
        let mut bytes = sample_bytes().clone();
        let i = pos % bytes.len();
        bytes[i] = byte;
        let _ = AffGStarProof::<Secp256k1>::from_bytes(&bytes);
        bytes.truncate(i);
        let _ = AffGStarProof::<Secp256k1>::from_bytes(&bytes);
    }
}
