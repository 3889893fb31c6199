//! Π^dec: honest proofs verify (for `δ_i` with base `G` and for a worst-case `χ_i` with base
//! `Γ`); the prover's opening of `K^x·D` is right; each check rejects a proof that breaks only
//! it, with its own error; proofs do not move to another session, prover or statement;
//! decoding never panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "presign_common.rs"]
mod common;

use common::{ctx, fixture, non_unit, rng};
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Secp256k1, SecretScalar, Transcript, P256};
use conclave_paillier::{Ciphertext, Integer};
use conclave_zk::common::{curve_order, integer_to_scalar, scalar_to_integer};
use conclave_zk::dec::{
    plaintext_bound_bits, DecError, DecOpening, DecProof, DecStatement, DecWitness, DOMAIN, MAX_PARTIES,
};
use conclave_zk::rp::{BINARY_CHALLENGES, ELL, ELL_PRIME, EPSILON};
use group::Group;
use proptest::prelude::*;
use rand_core::RngCore;
use std::sync::OnceLock;

type C = Secp256k1;

/// Number of parties of the simulated presigning.
const N: usize = 3;

/// The prover's side of an abort: `K = enc_0(k)`, `D = Π_j D_{i,j} · Π_j enc_0(β_{j,i})` with
/// `D_{i,j} = K^{x_j}·enc_0(−β_{i,j})` (the peers' MtA ciphertexts), `y = dec(K^x·D)`,
/// `S = y·g`.
struct Case {
    x: Integer,
    k: Integer,
    big_k: Ciphertext,
    d: Ciphertext,
    x_pt: <C as Curve>::Point,
    g: <C as Curve>::Point,
    s: <C as Curve>::Point,
    /// `y` as the sum of its parts (to check the opening).
    expected_y: Integer,
    opening: DecOpening,
}

/// A uniformly random integer in ±2^bits.
fn signed_bits(r: &mut impl RngCore, bits: u32) -> Integer {
    let mut bytes = vec![0u8; (bits as usize).div_ceil(8) + 1];
    r.fill_bytes(&mut bytes);
    let v = Integer::from_digits(&bytes, rug::integer::Order::Msf).keep_bits(bits + 1);
    v - (Integer::from(1) << bits)
}

fn random_scalar_integer(r: &mut impl RngCore) -> Integer {
    let mut r = rng(r.next_u64());
    scalar_to_integer::<C>(SecretScalar::<C>::random(&mut r).expose_secret())
}

/// `worst = false`: honest peers (`x_j < q`, `β ∈ ±2^ℓ′`). `worst = true`: every peer's
/// contribution at the edge of what its Π^aff-g proof lets through (`x_j = 2^(ℓ+ε)`,
/// `β_{i,j} = −2^(ℓ′+ε)`), and our own masks at `2^ℓ′`.
fn case(seed: u64, g: <C as Curve>::Point, worst: bool) -> Case {
    let f = fixture();
    let dk = &f.prover;
    let ek = dk.encryption_key();
    let mut r = rng(seed);
    let k = random_scalar_integer(&mut r);
    let x = random_scalar_integer(&mut r);
    let (big_k, _) = dk.encrypt(&mut r, &k).unwrap();
    let mut d: Option<Ciphertext> = None;
    let mut expected_y = Integer::from(&k * &x);
    let add = |c: Ciphertext, d: &mut Option<Ciphertext>| {
        *d = Some(match d.take() {
            None => c,
            Some(acc) => ek.add(&acc, &c).unwrap(),
        });
    };
    for _ in 1..N {
        let (x_j, beta_ij, beta_ji) = if worst {
            (
                Integer::from(1) << (ELL + EPSILON),
                -(Integer::from(1) << (ELL_PRIME + EPSILON)),
                Integer::from(1) << ELL_PRIME,
            )
        } else {
            (random_scalar_integer(&mut r), signed_bits(&mut r, ELL_PRIME), signed_bits(&mut r, ELL_PRIME))
        };
        let (enc_neg_beta, _) = dk.encrypt(&mut r, &Integer::from(-&beta_ij)).unwrap();
        let d_ij = ek.add(&ek.scalar_mul(&big_k, &x_j).unwrap(), &enc_neg_beta).unwrap();
        add(d_ij, &mut d);
        let (f_ji, _) = dk.encrypt(&mut r, &beta_ji).unwrap();
        add(f_ji, &mut d);
        expected_y += Integer::from(&k * &x_j) - &beta_ij + &beta_ji;
    }
    let d = d.unwrap();
    let opening = DecOpening::open(dk, &big_k, &x, &d).unwrap();
    let x_pt = C::mul_base(&integer_to_scalar::<C>(&x));
    let s = g * integer_to_scalar::<C>(&expected_y);
    Case { x, k, big_k, d, x_pt, g, s, expected_y, opening }
}

fn statement(k: &Case) -> DecStatement<'_, C> {
    DecStatement {
        key: fixture().prover.encryption_key(),
        k: &k.big_k,
        x: k.x_pt,
        d: &k.d,
        s: k.s,
        g: k.g,
        num_parties: N,
    }
}

fn prove(t: &Transcript, st: &DecStatement<'_, C>, k: &Case, seed: u64) -> DecProof<C> {
    let wit =
        DecWitness { x: &k.x, y: k.opening.plaintext(), rho: k.opening.nonce(), secret_key: Some(&fixture().prover) };
    DecProof::prove(t, st, &wit, &mut rng(seed)).unwrap()
}

/// One honest proof for `δ_i` (base `G`), shared by the tests.
fn honest() -> &'static (Case, DecProof<C>) {
    static H: OnceLock<(Case, DecProof<C>)> = OnceLock::new();
    H.get_or_init(|| {
        let k = case(1, C::generator(), false);
        let proof = prove(&ctx(DOMAIN, 0, b"s1"), &statement(&k), &k, 2);
        (k, proof)
    })
}

#[test]
fn honest_delta_proof_verifies() {
    let (k, proof) = honest();
    let t = ctx(DOMAIN, 0, b"s1");
    assert_eq!(proof.commitments.len(), BINARY_CHALLENGES);
    assert_eq!(proof.verify(&t, &statement(k)), Ok(()));
    let decoded = DecProof::<C>::from_bytes(&proof.to_bytes()).unwrap();
    assert_eq!(&decoded, proof);
}

#[test]
fn worst_case_chi_with_base_gamma_verifies() {
    // y beyond the paper's ±2^ℓ′ (even beyond ±2^(ℓ′+ε)) but within ±2^b: accepted.
    let gamma = C::mul_base(&integer_to_scalar::<C>(&Integer::from(123_456_789u64)));
    let k = case(3, gamma, true);
    let y = k.opening.plaintext();
    assert!(y.significant_bits() > ELL_PRIME + EPSILON, "y has {} bits", y.significant_bits());
    assert!(y.significant_bits() <= plaintext_bound_bits(N).unwrap());
    let st = statement(&k);
    let t = ctx(DOMAIN, 1, b"s1");
    assert_eq!(prove(&t, &st, &k, 4).verify(&t, &st), Ok(()));
}

#[test]
fn opening_recovers_plaintext_and_nonce() {
    let f = fixture();
    let (k, _) = honest();
    assert_eq!(k.opening.plaintext(), &k.expected_y);
    assert_eq!(integer_to_scalar::<C>(k.opening.plaintext()), integer_to_scalar::<C>(&k.expected_y));
    // enc_0(y; ρ) = K^x·D.
    let ek = f.prover.encryption_key();
    let kx_d = ek.add(&ek.scalar_mul(&k.big_k, &k.x).unwrap(), &k.d).unwrap();
    assert_eq!(ek.encrypt_with_nonce(k.opening.plaintext(), k.opening.nonce()).unwrap(), kx_d);
    // The opening does not leak through Debug.
    let s = format!("{:?}", k.opening);
    assert!(s.contains("redacted") && !s.contains(&k.expected_y.to_string_radix(16)));
    let wit = DecWitness { x: &k.x, y: &k.expected_y, rho: k.opening.nonce(), secret_key: None };
    assert!(format!("{wit:?}").contains("redacted"));
    // Another key opens the same integers to something else; a D that is not a ciphertext of
    // the key, or an x out of range, is refused.
    if let Ok(other) = DecOpening::open(&f.verifier, &k.big_k, &k.x, &k.d) {
        assert_ne!(other.plaintext(), &k.expected_y);
    }
    let (p0, _) = f.prover.expose_primes();
    let not_n0 = f.verifier.encryption_key().validate_ciphertext(p0).unwrap();
    assert!(DecOpening::open(&f.prover, &k.big_k, &k.x, &not_n0).is_err());
    let huge = Integer::from(1) << (ELL + EPSILON + 1);
    assert!(DecOpening::open(&f.prover, &k.big_k, &huge, &k.d).is_err());
    // k is what K encrypts (sanity of the fixture).
    assert_eq!(f.prover.decrypt(&k.big_k).unwrap(), k.k);
}

#[test]
fn plaintext_bound() {
    // b = ℓ′ + ε + ⌈log₂ n⌉ + 1.
    assert_eq!(plaintext_bound_bits(0), None);
    assert_eq!(plaintext_bound_bits(1), Some(1793));
    assert_eq!(plaintext_bound_bits(2), Some(1794));
    assert_eq!(plaintext_bound_bits(3), Some(1795));
    assert_eq!(plaintext_bound_bits(4), Some(1795));
    assert_eq!(plaintext_bound_bits(5), Some(1796));
    assert_eq!(plaintext_bound_bits(MAX_PARTIES), Some(1793 + 16));
    assert_eq!(plaintext_bound_bits(MAX_PARTIES + 1), None);
}

#[test]
fn bound_to_session_prover_and_statement() {
    let (k, proof) = honest();
    let st = statement(k);
    let t = ctx(DOMAIN, 0, b"s1");
    assert!(proof.verify(&ctx(DOMAIN, 0, b"s2"), &st).is_err(), "other session");
    assert!(proof.verify(&ctx(DOMAIN, 2, b"s1"), &st).is_err(), "other prover");
    assert!(proof.verify(&ctx("conclave/zk/aff-g-star/v1", 0, b"s1"), &st).is_err(), "other proof domain");
    let other = case(6, C::generator(), false);
    assert!(proof.verify(&t, &DecStatement { k: &other.big_k, ..st }).is_err(), "other K");
    assert!(proof.verify(&t, &DecStatement { d: &other.d, ..st }).is_err(), "other D");
    assert!(proof.verify(&t, &DecStatement { x: other.x_pt, ..st }).is_err(), "other X");
    assert!(proof.verify(&t, &DecStatement { s: other.s, ..st }).is_err(), "other S");
    assert!(proof.verify(&t, &DecStatement { g: k.g.double(), s: k.s.double(), ..st }).is_err(), "other g");
    assert!(proof.verify(&t, &DecStatement { num_parties: N + 1, ..st }).is_err(), "other n");
}

#[test]
fn each_check_rejects_with_its_own_error() {
    let f = fixture();
    let (p0, _) = f.prover.expose_primes();
    let n0 = f.prover.encryption_key().modulus().clone();
    let (k, proof) = honest();
    let st = statement(k);
    let t = ctx(DOMAIN, 0, b"s1");

    // (V1), (V2) statement ciphertexts outside Z*_{N0²}; (V3) identity base; (V4) party count.
    let not_n0 = f.verifier.encryption_key().validate_ciphertext(p0).unwrap();
    assert_eq!(proof.verify(&t, &DecStatement { k: &not_n0, ..st }), Err(DecError::StatementK));
    assert_eq!(proof.verify(&t, &DecStatement { d: &not_n0, ..st }), Err(DecError::StatementD));
    let identity = <<C as Curve>::Point as Group>::identity();
    assert_eq!(proof.verify(&t, &DecStatement { g: identity, s: identity, ..st }), Err(DecError::BaseIsIdentity));
    assert_eq!(proof.verify(&t, &DecStatement { num_parties: 0, ..st }), Err(DecError::PartyCount(0)));
    assert_eq!(
        proof.verify(&t, &DecStatement { num_parties: MAX_PARTIES + 1, ..st }),
        Err(DecError::PartyCount(MAX_PARTIES + 1))
    );

    let tamper = |g: &dyn Fn(&mut DecProof<C>)| {
        let mut p = proof.clone();
        g(&mut p);
        p.verify(&t, &st)
    };
    // (V5) not exactly m repetitions.
    let m = BINARY_CHALLENGES;
    assert_eq!(
        tamper(&|p| {
            p.commitments.truncate(1);
            p.responses.truncate(1);
        }),
        Err(DecError::RepetitionCount { commitments: 1, responses: 1 })
    );
    assert_eq!(
        tamper(&|p| p.commitments.push(p.commitments[0].clone())),
        Err(DecError::RepetitionCount { commitments: m + 1, responses: m })
    );
    // (V6), (V7) memberships, in a repetition other than the first.
    let j = 9;
    assert_eq!(tamper(&|p| p.commitments[j].a = non_unit(p0)), Err(DecError::ANotCiphertext { index: j }));
    assert_eq!(
        tamper(&|p| p.commitments[j].a = f.prover.encryption_key().modulus_squared().clone()),
        Err(DecError::ANotCiphertext { index: j })
    );
    assert_eq!(tamper(&|p| p.responses[j].nu = non_unit(p0)), Err(DecError::NuNotUnit { index: j }));
    assert_eq!(tamper(&|p| p.responses[j].nu = Integer::ZERO), Err(DecError::NuNotUnit { index: j }));
    // (V8), (V9) ranges, just past the boundary: z ∈ ±2^(ℓ+ε), w ∈ ±2^(b+ε) with b for n = 3.
    let edge = |bits: u32| (Integer::from(1) << bits) + 1u32;
    let w_bits = plaintext_bound_bits(N).unwrap() + EPSILON;
    assert_eq!(tamper(&|p| p.responses[j].z = edge(ELL + EPSILON)), Err(DecError::ZOutOfRange { index: j }));
    assert_eq!(tamper(&|p| p.responses[j].z = -edge(ELL + EPSILON)), Err(DecError::ZOutOfRange { index: j }));
    assert_eq!(tamper(&|p| p.responses[j].w = edge(w_bits)), Err(DecError::WOutOfRange { index: j }));
    assert_eq!(tamper(&|p| p.responses[j].w = -edge(w_bits)), Err(DecError::WOutOfRange { index: j }));
    // (V10) only ν_j changes: only the Paillier equation uses it.
    assert_eq!(
        tamper(&|p| p.responses[j].nu = Integer::from(&p.responses[j].nu * 2u32) % &n0),
        Err(DecError::PaillierEquation { index: j })
    );
    // z_j + q leaves z_j·G unchanged, but not K^{-z_j}: the Paillier equation catches it.
    let q = curve_order::<C>();
    assert_eq!(tamper(&|p| p.responses[j].z += &q), Err(DecError::PaillierEquation { index: j }));
    // A commitment changed: the challenge changes, some equation fails.
    assert!(tamper(&|p| p.commitments[j].b += C::generator()).is_err());
}

#[test]
fn x_equation_rejects_a_wrong_x() {
    // (V11) X ≠ x·G: the Paillier and S equations hold, z·G = C + e·X fails.
    let (k, _) = honest();
    let t = ctx(DOMAIN, 0, b"s1");
    let st = DecStatement { x: k.x_pt + C::generator(), ..statement(k) };
    assert!(matches!(prove(&t, &st, k, 12).verify(&t, &st), Err(DecError::XEquation { .. })));
}

#[test]
fn s_equation_rejects_a_wrong_s() {
    // (V12) S ≠ y·g (e.g. a party that lies about δ_i): only w·g = B + e·S fails.
    let (k, _) = honest();
    let t = ctx(DOMAIN, 0, b"s1");
    let st = DecStatement { s: k.s + k.g, ..statement(k) };
    assert!(matches!(prove(&t, &st, k, 13).verify(&t, &st), Err(DecError::SEquation { .. })));
}

#[test]
fn plaintext_beyond_the_bound_fails_the_range_check() {
    // (V9) from the prover's side: y = K^x·D's plaintext far beyond ±2^(b+ε); every equation
    // holds, only the range of w fails.
    let f = fixture();
    let (k, _) = honest();
    let big = (Integer::from(1) << (plaintext_bound_bits(N).unwrap() + EPSILON + 64)) + 5u32;
    let (d, _) = f.prover.encrypt(&mut rng(20), &big).unwrap();
    let opening = DecOpening::open(&f.prover, &k.big_k, &k.x, &d).unwrap();
    let y = Integer::from(&k.k * &k.x) + &big;
    assert_eq!(opening.plaintext(), &y);
    let s = k.g * integer_to_scalar::<C>(&y);
    let st = DecStatement { d: &d, s, ..statement(k) };
    let wit = DecWitness { x: &k.x, y: opening.plaintext(), rho: opening.nonce(), secret_key: Some(&f.prover) };
    let t = ctx(DOMAIN, 0, b"s1");
    let proof = DecProof::prove(&t, &st, &wit, &mut rng(21)).unwrap();
    assert!(matches!(proof.verify(&t, &st), Err(DecError::WOutOfRange { .. })));
}

fn sample_bytes() -> &'static Vec<u8> {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| honest().1.to_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = DecProof::<Secp256k1>::from_bytes(&bytes);
        let _ = DecProof::<P256>::from_bytes(&bytes);
        let mut prefixed = (BINARY_CHALLENGES as u32).to_be_bytes().to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = DecProof::<Secp256k1>::from_bytes(&prefixed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn decoding_mutated_proofs_never_panics(pos in 0usize..1 << 20, byte in any::<u8>()) {
        let mut bytes = sample_bytes().clone();
        let i = pos % bytes.len();
        bytes[i] = byte;
        let _ = DecProof::<Secp256k1>::from_bytes(&bytes);
        bytes.truncate(i);
        let _ = DecProof::<Secp256k1>::from_bytes(&bytes);
    }
}
