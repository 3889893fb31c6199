//! Π^mod, Π^fac and Π^prm: honest proofs verify; each verification check, broken alone, is
//! rejected with its own error variant; proofs moved to another session, prover or statement
//! are rejected; the published attacks (small factor, prime / even modulus, `w` sharing a
//! factor with `N`, single large-challenge ring-Pedersen proof, modulus below the floor) are
//! rejected; decoders never panic.
//!
//! Keys come from the 1536-bit safe-prime fixtures of conclave-paillier (3072-bit moduli); no
//! prime is generated here. RNGs are seeded; the seed is in every proof-building helper.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation is a test failure"
)]

use std::path::PathBuf;
use std::sync::OnceLock;

use conclave_math::codec::{Decode, Encode, Writer};
use conclave_math::{ProofContext, Transcript};
use conclave_paillier::{generate_ring_pedersen, DecryptionKey, Integer, RingPedersenParams, RingPedersenSecret};
use conclave_zk::common::write_integer;
use conclave_zk::fac::{self, FacError, FacProof, FacWitness};
use conclave_zk::pi_mod::{self, ModError, ModProof, ModWitness};
use conclave_zk::prm::{self, PrmError, PrmProof, PrmWitness};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

// ------------------------------------------------------------------------------------------
// Fixtures.
// ------------------------------------------------------------------------------------------

fn fixture_pairs() -> Vec<(Integer, Integer)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conclave-paillier/fixtures/safe-primes-1536.json");
    let text = std::fs::read_to_string(&path).unwrap();
    // The file is `{"pairs": [{"p": "<hex>", "q": "<hex>"}, ...]}`; read the hex values of the
    // "p" and "q" fields in order.
    let value = |line: &str| -> Integer {
        let hex = line.split('"').nth(3).unwrap();
        Integer::from_str_radix(hex, 16).unwrap()
    };
    let ps: Vec<Integer> = text.lines().filter(|l| l.trim_start().starts_with("\"p\"")).map(value).collect();
    let qs: Vec<Integer> = text.lines().filter(|l| l.trim_start().starts_with("\"q\"")).map(value).collect();
    assert_eq!(ps.len(), qs.len());
    assert!(ps.len() >= 3);
    ps.into_iter().zip(qs).collect()
}

struct Fixture {
    /// The prover's key: statement `N` of Π^mod and Π^fac.
    prover: DecryptionKey,
    /// The verifier's key and ring-Pedersen parameters (the `N̂, s, t` of Π^fac).
    verifier: DecryptionKey,
    aux: RingPedersenParams,
    /// The prover's own ring-Pedersen parameters (statement of Π^prm).
    prover_rp: RingPedersenParams,
    prover_rp_secret: RingPedersenSecret,
    /// A third modulus, for "another statement".
    other: DecryptionKey,
    mod_proof: ModProof,
    fac_proof: FacProof,
    prm_proof: PrmProof,
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

const SESSION: &[u8] = b"aux-info session 1";

fn ctx(domain: &'static str, session: &[u8], prover: u16) -> Transcript {
    Transcript::for_proof(
        domain,
        &ProofContext { protocol: "conclave/aux-info", version: 1, session, round: 2, prover, parties: &[0, 1, 2] },
    )
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut pairs = fixture_pairs();
        let (p2, q2) = pairs.remove(2);
        let (p1, q1) = pairs.remove(1);
        let (p0, q0) = pairs.remove(0);
        let prover = DecryptionKey::from_safe_primes(p0, q0).unwrap();
        let verifier = DecryptionKey::from_safe_primes(p1, q1).unwrap();
        let other = DecryptionKey::from_safe_primes(p2, q2).unwrap();
        let mut r = rng(1);
        let (aux, _) = generate_ring_pedersen(&mut r, &verifier).unwrap();
        let (prover_rp, prover_rp_secret) = generate_ring_pedersen(&mut r, &prover).unwrap();
        let n = prover.encryption_key().modulus().clone();
        let mod_proof =
            ModProof::prove(&ctx(pi_mod::DOMAIN, SESSION, 0), &n, &ModWitness::from_key(&prover), &mut r).unwrap();
        let fac_proof =
            FacProof::prove(&ctx(fac::DOMAIN, SESSION, 0), &n, &aux, &FacWitness::from_key(&prover), &mut r).unwrap();
        let prm_proof = PrmProof::prove(
            &ctx(prm::DOMAIN, SESSION, 0),
            &prover_rp,
            &PrmWitness::with_key(&prover_rp_secret, &prover),
            &mut r,
        )
        .unwrap();
        Fixture { prover, verifier, aux, prover_rp, prover_rp_secret, other, mod_proof, fac_proof, prm_proof }
    })
}

fn n_of(dk: &DecryptionKey) -> Integer {
    dk.encryption_key().modulus().clone()
}

fn phi_of(dk: &DecryptionKey) -> Integer {
    let (p, q) = dk.expose_primes();
    Integer::from(p - 1u32) * Integer::from(q - 1u32)
}

// ------------------------------------------------------------------------------------------
// Π^mod.
// ------------------------------------------------------------------------------------------

fn mod_verify(proof: &ModProof, n: &Integer) -> Result<(), ModError> {
    proof.verify(&ctx(pi_mod::DOMAIN, SESSION, 0), n)
}

#[test]
fn mod_honest_proof_verifies_and_roundtrips() {
    let f = fixture();
    let n = n_of(&f.prover);
    assert_eq!(f.mod_proof.rounds.len(), pi_mod::M);
    assert_eq!(mod_verify(&f.mod_proof, &n), Ok(()));
    let bytes = f.mod_proof.to_bytes();
    assert_eq!(ModProof::from_bytes(&bytes).unwrap(), f.mod_proof);
    // A second proof of the same statement with other randomness also verifies.
    let again =
        ModProof::prove(&ctx(pi_mod::DOMAIN, SESSION, 0), &n, &ModWitness::from_key(&f.prover), &mut rng(7)).unwrap();
    assert_ne!(again.w, f.mod_proof.w);
    assert_eq!(mod_verify(&again, &n), Ok(()));
}

#[test]
fn mod_proof_moved_to_other_context_or_statement_is_rejected() {
    let f = fixture();
    let n = n_of(&f.prover);
    let p = &f.mod_proof;
    // Another session, prover, round/protocol or domain: other challenges, first z^N fails.
    assert_eq!(p.verify(&ctx(pi_mod::DOMAIN, b"other session", 0), &n), Err(ModError::NthRootMismatch { index: 0 }));
    assert_eq!(p.verify(&ctx(pi_mod::DOMAIN, SESSION, 1), &n), Err(ModError::NthRootMismatch { index: 0 }));
    assert_eq!(p.verify(&ctx(fac::DOMAIN, SESSION, 0), &n), Err(ModError::NthRootMismatch { index: 0 }));
    // Another modulus.
    assert!(p.verify(&ctx(pi_mod::DOMAIN, SESSION, 0), &n_of(&f.other)).is_err());
}

#[test]
fn mod_rejects_modulus_below_floor_and_above_ceiling() {
    let f = fixture();
    let (p, _) = f.prover.expose_primes();
    // A 2048-bit-class modulus (SECURITY.md item 4: Alpha-Rays small keys).
    let small = Integer::from(p * 3u32) * (Integer::from(p >> 1000u32) | 1u32);
    assert!(small.significant_bits() < 3071);
    assert!(matches!(mod_verify(&f.mod_proof, &small), Err(ModError::ModulusTooSmall { .. })));
    let huge = (Integer::from(1) << 8200u32) + 1u32;
    assert!(matches!(mod_verify(&f.mod_proof, &huge), Err(ModError::ModulusTooLarge { .. })));
    assert!(matches!(mod_verify(&f.mod_proof, &Integer::from(-15)), Err(ModError::ModulusTooSmall { .. })));
}

#[test]
fn mod_rejects_even_modulus() {
    let f = fixture();
    let even = n_of(&f.prover) * 2u32;
    assert_eq!(mod_verify(&f.mod_proof, &even), Err(ModError::ModulusEven));
}

/// 2^3217 − 1 is a Mersenne prime (3217 bits, ≡ 3 mod 4): a known prime above the floor.
fn mersenne_3217() -> Integer {
    (Integer::from(1) << 3217u32) - 1u32
}

#[test]
fn mod_rejects_prime_modulus_even_with_every_equation_satisfied() {
    // For a prime N ≡ 3 (mod 4), every y has y or −y a residue and squaring permutes the
    // residues, so a cheater can answer every challenge: only the primality check stops it
    // (cb-mpc #91).
    let n = mersenne_3217();
    assert!(n.is_probably_prime(30) != rug::integer::IsPrime::No);
    let t = ctx(pi_mod::DOMAIN, SESSION, 0);
    let w = Integer::from(&n - 2u32); // −2: (−1)(2), 2 is a residue mod a Mersenne prime.
    assert_eq!(w.jacobi(&n), -1);
    let ys = pi_mod::challenges(&t, &n, &w).unwrap();
    let n_minus_1 = Integer::from(&n - 1u32);
    let nth_exp = Integer::from(n.invert_ref(&n_minus_1).unwrap());
    let quarter = Integer::from(&n + 1u32) >> 2u32;
    let fourth_exp = Integer::from(quarter.square_ref()) % &n_minus_1;
    let rounds = ys
        .iter()
        .map(|y| {
            let a = y.jacobi(&n) == -1;
            let y_res = if a { Integer::from(&n - y) } else { y.clone() };
            let x = Integer::from(y_res.pow_mod_ref(&fourth_exp, &n).unwrap());
            let z = Integer::from(y.pow_mod_ref(&nth_exp, &n).unwrap());
            assert_eq!(Integer::from(x.pow_mod_ref(&Integer::from(4), &n).unwrap()), y_res);
            assert_eq!(&Integer::from(z.pow_mod_ref(&n, &n).unwrap()), y);
            pi_mod::ModRound { x, a, b: false, z }
        })
        .collect();
    let forged = ModProof { w, rounds };
    assert_eq!(forged.verify(&t, &n), Err(ModError::ModulusPrime));
}

#[test]
fn mod_rejects_w_out_of_range() {
    let f = fixture();
    let n = n_of(&f.prover);
    for w in [Integer::ZERO, Integer::from(-1), Integer::from(&f.mod_proof.w + &n), n.clone()] {
        let bad = ModProof { w, ..f.mod_proof.clone() };
        assert_eq!(mod_verify(&bad, &n), Err(ModError::WOutOfRange));
    }
}

#[test]
fn mod_rejects_w_sharing_a_factor_with_n_cve_2025_66016() {
    let f = fixture();
    let n = n_of(&f.prover);
    let (p, q) = f.prover.expose_primes();
    for w in [p.clone(), Integer::from(q * 5u32)] {
        let bad = ModProof { w, ..f.mod_proof.clone() };
        assert_eq!(mod_verify(&bad, &n), Err(ModError::WNotCoprime));
    }
}

#[test]
fn mod_rejects_w_with_jacobi_plus_one() {
    let f = fixture();
    let n = n_of(&f.prover);
    let w = Integer::from(f.mod_proof.w.square_ref()) % &n;
    assert_eq!(w.jacobi(&n), 1);
    let bad = ModProof { w, ..f.mod_proof.clone() };
    assert_eq!(mod_verify(&bad, &n), Err(ModError::WJacobiNotMinusOne));
}

#[test]
fn mod_demands_exactly_m_rounds() {
    let f = fixture();
    let n = n_of(&f.prover);
    let mut short = f.mod_proof.clone();
    short.rounds.pop();
    assert_eq!(mod_verify(&short, &n), Err(ModError::WrongRoundCount { found: 127 }));
    assert!(ModProof::from_bytes(&short.to_bytes()).is_err());
    let mut long = f.mod_proof.clone();
    long.rounds.push(long.rounds[0].clone());
    assert_eq!(mod_verify(&long, &n), Err(ModError::WrongRoundCount { found: 129 }));
    assert!(ModProof::from_bytes(&long.to_bytes()).is_err());
    let empty = ModProof { w: f.mod_proof.w.clone(), rounds: vec![] };
    assert_eq!(mod_verify(&empty, &n), Err(ModError::WrongRoundCount { found: 0 }));
}

#[test]
fn mod_rejects_x_not_in_unit_group() {
    let f = fixture();
    let n = n_of(&f.prover);
    let (p, _) = f.prover.expose_primes();
    // x + N has the same fourth power mod N: only the membership check is broken.
    let mut bad = f.mod_proof.clone();
    bad.rounds[3].x += &n;
    assert_eq!(mod_verify(&bad, &n), Err(ModError::XNotUnit { index: 3 }));
    for x in [Integer::ZERO, Integer::from(-1), p.clone()] {
        let mut bad = f.mod_proof.clone();
        bad.rounds[3].x = x;
        assert_eq!(mod_verify(&bad, &n), Err(ModError::XNotUnit { index: 3 }));
    }
}

#[test]
fn mod_rejects_z_not_in_unit_group() {
    let f = fixture();
    let n = n_of(&f.prover);
    let (_, q) = f.prover.expose_primes();
    // z + N has the same N-th power mod N: only the membership check is broken.
    let mut bad = f.mod_proof.clone();
    bad.rounds[9].z += &n;
    assert_eq!(mod_verify(&bad, &n), Err(ModError::ZNotUnit { index: 9 }));
    for z in [Integer::ZERO, -f.mod_proof.rounds[9].z.clone(), q.clone()] {
        let mut bad = f.mod_proof.clone();
        bad.rounds[9].z = z;
        assert_eq!(mod_verify(&bad, &n), Err(ModError::ZNotUnit { index: 9 }));
    }
}

#[test]
fn mod_rejects_wrong_nth_root() {
    let f = fixture();
    let n = n_of(&f.prover);
    let mut bad = f.mod_proof.clone();
    bad.rounds[5].z = Integer::from(&bad.rounds[5].z * 2u32) % &n;
    assert_eq!(mod_verify(&bad, &n), Err(ModError::NthRootMismatch { index: 5 }));
}

#[test]
fn mod_rejects_wrong_fourth_root() {
    let f = fixture();
    let n = n_of(&f.prover);
    let mut bad = f.mod_proof.clone();
    bad.rounds[7].x = Integer::from(&bad.rounds[7].x * 2u32) % &n;
    assert_eq!(mod_verify(&bad, &n), Err(ModError::FourthRootMismatch { index: 7 }));
    let mut bad = f.mod_proof.clone();
    bad.rounds[7].a = !bad.rounds[7].a;
    assert_eq!(mod_verify(&bad, &n), Err(ModError::FourthRootMismatch { index: 7 }));
    let mut bad = f.mod_proof.clone();
    bad.rounds[7].b = !bad.rounds[7].b;
    assert_eq!(mod_verify(&bad, &n), Err(ModError::FourthRootMismatch { index: 7 }));
    // The last round is checked too.
    let mut bad = f.mod_proof.clone();
    bad.rounds[127].x = Integer::from(&bad.rounds[127].x * 3u32) % &n;
    assert_eq!(mod_verify(&bad, &n), Err(ModError::FourthRootMismatch { index: 127 }));
}

#[test]
fn mod_prover_refuses_a_wrong_witness() {
    let f = fixture();
    let n = n_of(&f.prover);
    let (p, q) = f.prover.expose_primes();
    let (p2, _) = f.other.expose_primes();
    let t = ctx(pi_mod::DOMAIN, SESSION, 0);
    assert!(ModProof::prove(&t, &n, &ModWitness::new(p, p2), &mut rng(3)).is_err());
    assert!(ModProof::prove(&t, &Integer::from(p * p), &ModWitness::new(p, p), &mut rng(3)).is_err());
    // Debug output of the witness carries no secret.
    let dbg = format!("{:?}", ModWitness::new(p, q));
    assert!(!dbg.contains(&p.to_string()) && !dbg.contains(&p.to_string_radix(16)));
}

#[test]
fn mod_decoder_rejects_non_bits() {
    let f = fixture();
    let mut w = Writer::new();
    write_integer(&mut w, &f.mod_proof.w);
    w.len(pi_mod::M);
    for round in &f.mod_proof.rounds {
        write_integer(&mut w, &round.x);
        w.u8(2).u8(0);
        write_integer(&mut w, &round.z);
    }
    assert!(ModProof::from_bytes(&w.into_bytes()).is_err());
}

// ------------------------------------------------------------------------------------------
// Π^fac.
// ------------------------------------------------------------------------------------------

/// Verifies without and with the verifier's own key (CRT path); both must agree.
fn fac_verify(proof: &FacProof) -> Result<(), FacError> {
    fac_verify_for(proof, &n_of(&fixture().prover))
}

#[test]
fn fac_honest_proof_verifies_and_roundtrips() {
    let f = fixture();
    assert_eq!(fac_verify(&f.fac_proof), Ok(()));
    assert_eq!(FacProof::from_bytes(&f.fac_proof.to_bytes()).unwrap(), f.fac_proof);
}

#[test]
fn fac_proof_moved_to_other_context_or_statement_is_rejected() {
    let f = fixture();
    let n = n_of(&f.prover);
    let p = &f.fac_proof;
    assert_eq!(p.verify(&ctx(fac::DOMAIN, b"other session", 0), &n, &f.aux), Err(FacError::FirstEquation));
    assert_eq!(p.verify(&ctx(fac::DOMAIN, SESSION, 2), &n, &f.aux), Err(FacError::FirstEquation));
    assert_eq!(p.verify(&ctx(pi_mod::DOMAIN, SESSION, 0), &n, &f.aux), Err(FacError::FirstEquation));
    // Another prover modulus N.
    assert!(p.verify(&ctx(fac::DOMAIN, SESSION, 0), &n_of(&f.other), &f.aux).is_err());
    // Another verifier's ring-Pedersen parameters.
    assert!(p.verify(&ctx(fac::DOMAIN, SESSION, 0), &n, &f.prover_rp).is_err());
    // Same N̂ and t, another s.
    let (aux2, _) = generate_ring_pedersen(&mut rng(11), &f.verifier).unwrap();
    let mixed = RingPedersenParams::new(f.aux.modulus().clone(), aux2.s().clone(), f.aux.t().clone()).unwrap();
    assert!(p.verify(&ctx(fac::DOMAIN, SESSION, 0), &n, &mixed).is_err());
}

#[test]
fn fac_rejects_modulus_of_wrong_size() {
    let f = fixture();
    let short = (Integer::from(1) << 1000u32) + 1u32;
    assert!(matches!(fac_verify_for(&f.fac_proof, &short), Err(FacError::ModulusTooShort { .. })));
    assert!(matches!(fac_verify_for(&f.fac_proof, &Integer::from(-35)), Err(FacError::ModulusTooShort { .. })));
    let huge = (Integer::from(1) << 8200u32) + 1u32;
    assert!(matches!(fac_verify_for(&f.fac_proof, &huge), Err(FacError::ModulusTooLarge { .. })));
}

fn fac_verify_for(proof: &FacProof, n: &Integer) -> Result<(), FacError> {
    let f = fixture();
    let t = ctx(fac::DOMAIN, SESSION, 0);
    let plain = proof.verify(&t, n, &f.aux);
    assert_eq!(proof.verify_with_key(&t, n, &f.aux, Some(&f.verifier)), plain, "CRT verifier disagrees");
    // A key of another modulus is ignored.
    assert_eq!(proof.verify_with_key(&t, n, &f.aux, Some(&f.other)), plain);
    plain
}

#[test]
fn fac_rejects_commitments_outside_unit_group() {
    let f = fixture();
    let n_hat = f.aux.modulus();
    let (factor, _) = f.verifier.expose_primes();
    type Field = fn(&mut FacProof) -> &mut Integer;
    let cases: [(Field, FacError); 5] = [
        (|p| &mut p.commit_p, FacError::PNotUnit),
        (|p| &mut p.commit_q, FacError::QNotUnit),
        (|p| &mut p.commit_a, FacError::ANotUnit),
        (|p| &mut p.commit_b, FacError::BNotUnit),
        (|p| &mut p.commit_t, FacError::TNotUnit),
    ];
    for (field, expected) in cases {
        // + N̂: the same residue, only the membership check broken.
        let mut bad = f.fac_proof.clone();
        *field(&mut bad) += n_hat;
        assert_eq!(fac_verify(&bad), Err(expected));
        for v in [Integer::ZERO, Integer::from(-1), factor.clone()] {
            let mut bad = f.fac_proof.clone();
            *field(&mut bad) = v;
            assert_eq!(fac_verify(&bad), Err(expected));
        }
    }
}

#[test]
fn fac_rejects_z1_z2_out_of_range_with_equations_intact() {
    let f = fixture();
    // Adding a multiple of φ(N̂) keeps every power mod N̂, so the three equations still hold and
    // only the range check can catch it.
    let shift = phi_of(&f.verifier) << 1000u32;
    let mut bad = f.fac_proof.clone();
    bad.z1 += &shift;
    assert_eq!(fac_verify(&bad), Err(FacError::Z1OutOfRange));
    let mut bad = f.fac_proof.clone();
    bad.z1 -= &shift;
    assert_eq!(fac_verify(&bad), Err(FacError::Z1OutOfRange));
    let mut bad = f.fac_proof.clone();
    bad.z2 += &shift;
    assert_eq!(fac_verify(&bad), Err(FacError::Z2OutOfRange));
    // The bound is exactly 2^(ℓ+ε)·⌊√N⌋.
    let bound = Integer::from(n_of(&f.prover).sqrt_ref()) << (fac::ELL + fac::EPSILON);
    let mut edge = f.fac_proof.clone();
    edge.z2 = Integer::from(&bound + 1u32);
    assert_eq!(fac_verify(&edge), Err(FacError::Z2OutOfRange));
    edge.z2 = bound;
    assert_eq!(fac_verify(&edge), Err(FacError::SecondEquation));
}

#[test]
fn fac_rejects_each_broken_equation() {
    let f = fixture();
    let mut bad = f.fac_proof.clone();
    bad.w1 += 1u32;
    assert_eq!(fac_verify(&bad), Err(FacError::FirstEquation));
    let mut bad = f.fac_proof.clone();
    bad.w2 += 1u32;
    assert_eq!(fac_verify(&bad), Err(FacError::SecondEquation));
    let mut bad = f.fac_proof.clone();
    bad.v += 1u32;
    assert_eq!(fac_verify(&bad), Err(FacError::ThirdEquation));
    // Tampering with the first message changes the challenge.
    let mut bad = f.fac_proof.clone();
    bad.sigma += 1u32;
    assert_eq!(fac_verify(&bad), Err(FacError::FirstEquation));
    let mut bad = f.fac_proof.clone();
    bad.commit_t = Integer::from(&bad.commit_t * 4u32) % f.aux.modulus();
    assert!(fac_verify(&bad).is_err());
}

#[test]
fn fac_rejects_modulus_with_small_factor() {
    // BitForge / 6ix1een: N = 3 · M with M a 3072-bit composite. The honest prover algorithm
    // run on the factorisation (3, M) (or (M, 3)) yields a response out of range.
    let f = fixture();
    let big = n_of(&f.other);
    let three = Integer::from(3);
    let n = Integer::from(&big * 3u32);
    let t = ctx(fac::DOMAIN, SESSION, 0);
    let proof = FacProof::prove(&t, &n, &f.aux, &FacWitness::new(&three, &big), &mut rng(21)).unwrap();
    assert_eq!(proof.verify(&t, &n, &f.aux), Err(FacError::Z2OutOfRange));
    let proof = FacProof::prove(&t, &n, &f.aux, &FacWitness::new(&big, &three), &mut rng(22)).unwrap();
    assert_eq!(proof.verify(&t, &n, &f.aux), Err(FacError::Z1OutOfRange));
    // A factor of 600 bits (far above trial division, below √N / 2^(ℓ+ε)) is caught too (an
    // odd 600-bit number: Π^fac is about the sizes of the two factors, not their primality).
    let (p, _) = f.other.expose_primes();
    let small = Integer::from(p >> 936u32) | 1u32;
    let cofactor = Integer::from(&big * &big) >> 2600u32;
    let n = Integer::from(&small * &cofactor);
    let proof = FacProof::prove(&t, &n, &f.aux, &FacWitness::new(&small, &cofactor), &mut rng(23)).unwrap();
    assert_eq!(proof.verify(&t, &n, &f.aux), Err(FacError::Z2OutOfRange));
}

#[test]
fn fac_prover_refuses_a_wrong_witness() {
    let f = fixture();
    let n = n_of(&f.prover);
    let (p, q) = f.prover.expose_primes();
    let t = ctx(fac::DOMAIN, SESSION, 0);
    assert!(FacProof::prove(&t, &n, &f.aux, &FacWitness::new(p, p), &mut rng(3)).is_err());
    let dbg = format!("{:?}", FacWitness::new(p, q));
    assert!(!dbg.contains(&p.to_string()) && !dbg.contains(&p.to_string_radix(16)));
}

// ------------------------------------------------------------------------------------------
// Π^prm.
// ------------------------------------------------------------------------------------------

fn prm_verify(proof: &PrmProof) -> Result<(), PrmError> {
    proof.verify(&ctx(prm::DOMAIN, SESSION, 0), &fixture().prover_rp)
}

#[test]
fn prm_honest_proof_verifies_and_roundtrips() {
    let f = fixture();
    assert_eq!(f.prm_proof.commitments.len(), prm::M);
    assert_eq!(prm_verify(&f.prm_proof), Ok(()));
    assert_eq!(PrmProof::from_bytes(&f.prm_proof.to_bytes()).unwrap(), f.prm_proof);
    // Without the factorisation (no CRT) the proof is as valid.
    let slow = PrmProof::prove(
        &ctx(prm::DOMAIN, SESSION, 0),
        &f.prover_rp,
        &PrmWitness::new(&f.prover_rp_secret),
        &mut rng(5),
    )
    .unwrap();
    assert_eq!(prm_verify(&slow), Ok(()));
    // Both challenge values occur.
    let bits = prm::challenges(&ctx(prm::DOMAIN, SESSION, 0), &f.prover_rp, &f.prm_proof.commitments);
    assert!(bits.iter().any(|b| *b) && bits.iter().any(|b| !*b));
}

#[test]
fn prm_proof_moved_to_other_context_or_statement_is_rejected() {
    let f = fixture();
    let p = &f.prm_proof;
    assert!(matches!(p.verify(&ctx(prm::DOMAIN, b"other", 0), &f.prover_rp), Err(PrmError::Equation { .. })));
    assert!(matches!(p.verify(&ctx(prm::DOMAIN, SESSION, 1), &f.prover_rp), Err(PrmError::Equation { .. })));
    assert!(matches!(p.verify(&ctx(fac::DOMAIN, SESSION, 0), &f.prover_rp), Err(PrmError::Equation { .. })));
    // Other parameters: the verifier's (other modulus), and same N̂ with s and t swapped.
    assert!(p.verify(&ctx(prm::DOMAIN, SESSION, 0), &f.aux).is_err());
    let swapped =
        RingPedersenParams::new(f.prover_rp.modulus().clone(), f.prover_rp.t().clone(), f.prover_rp.s().clone())
            .unwrap();
    assert!(p.verify(&ctx(prm::DOMAIN, SESSION, 0), &swapped).is_err());
}

#[test]
fn prm_rejects_single_large_challenge_proof_tsshock() {
    // A Schnorr-style proof with one large challenge e (the shape broken by TSSHOCK c-split /
    // c-guess): A = t^a, z = a + e λ. Our format and verifier demand 128 binary challenges.
    let f = fixture();
    let n_hat = f.prover_rp.modulus();
    let lambda = f.prover_rp_secret.expose_lambda();
    let a = Integer::from(12345u32) << 2000u32;
    let big_a = Integer::from(f.prover_rp.t().pow_mod_ref(&a, n_hat).unwrap());
    let e = Integer::from(1) << 255u32;
    let z = a + Integer::from(&e * lambda);
    let single = PrmProof { commitments: vec![big_a], responses: vec![z] };
    assert_eq!(prm_verify(&single), Err(PrmError::WrongRoundCount { commitments: 1, responses: 1 }));
    assert!(PrmProof::from_bytes(&single.to_bytes()).is_err());
    // Other shapes: 127 rounds, mismatched counts, no rounds.
    let mut short = f.prm_proof.clone();
    short.commitments.pop();
    short.responses.pop();
    assert_eq!(prm_verify(&short), Err(PrmError::WrongRoundCount { commitments: 127, responses: 127 }));
    assert!(PrmProof::from_bytes(&short.to_bytes()).is_err());
    let mut uneven = f.prm_proof.clone();
    uneven.responses.push(Integer::from(1));
    assert!(matches!(prm_verify(&uneven), Err(PrmError::WrongRoundCount { .. })));
    assert!(PrmProof::from_bytes(&uneven.to_bytes()).is_err());
    let empty = PrmProof { commitments: vec![], responses: vec![] };
    assert!(matches!(prm_verify(&empty), Err(PrmError::WrongRoundCount { .. })));
}

#[test]
fn prm_rejects_guessing_forgery_for_s_outside_the_group_of_t() {
    // A cheater with s outside ⟨t⟩ (here s = −s_honest: t is a square and −1 is a non-residue
    // modulo both Blum primes, so −s is not a power of t) guesses each challenge bit, setting A_i = t^{z_i} s^{-g_i}. It passes round i only
    // if its guess g_i equals e_i: all 128 guesses are right with probability 2^-128.
    let f = fixture();
    let n_hat = f.prover_rp.modulus().clone();
    let s = Integer::from(&n_hat - f.prover_rp.s());
    let params = RingPedersenParams::new(n_hat.clone(), s.clone(), f.prover_rp.t().clone()).unwrap();
    let s_inv = Integer::from(s.invert_ref(&n_hat).unwrap());
    let mut commitments = vec![];
    let mut responses = vec![];
    for i in 0..prm::M {
        let z = Integer::from(i + 2) << 1500u32;
        let tz = Integer::from(params.t().pow_mod_ref(&z, &n_hat).unwrap());
        let guess = i % 2 == 0;
        commitments.push(if guess { Integer::from(&tz * &s_inv) % &n_hat } else { tz });
        responses.push(z);
    }
    let forged = PrmProof { commitments, responses };
    assert!(matches!(forged.verify(&ctx(prm::DOMAIN, SESSION, 0), &params), Err(PrmError::Equation { .. })));
}

#[test]
fn prm_rejects_commitment_outside_unit_group() {
    let f = fixture();
    let n_hat = f.prover_rp.modulus();
    let (factor, _) = f.prover.expose_primes();
    // A_3 + N̂: same residue, only the membership check broken (the challenge changes too, but
    // membership is checked first).
    let mut bad = f.prm_proof.clone();
    bad.commitments[3] += n_hat;
    assert_eq!(prm_verify(&bad), Err(PrmError::CommitmentNotUnit { index: 3 }));
    for v in [Integer::ZERO, Integer::from(-2), factor.clone()] {
        let mut bad = f.prm_proof.clone();
        bad.commitments[3] = v;
        assert_eq!(prm_verify(&bad), Err(PrmError::CommitmentNotUnit { index: 3 }));
    }
}

#[test]
fn prm_rejects_response_out_of_range_with_equation_intact() {
    let f = fixture();
    let phi = f.prover_rp_secret.expose_phi();
    // z + 2φ and z − φ have the same power of t: only the range check is broken.
    let mut bad = f.prm_proof.clone();
    bad.responses[2] += Integer::from(phi * 2u32);
    assert_eq!(prm_verify(&bad), Err(PrmError::ResponseOutOfRange { index: 2 }));
    let mut bad = f.prm_proof.clone();
    bad.responses[2] -= phi;
    assert_eq!(prm_verify(&bad), Err(PrmError::ResponseOutOfRange { index: 2 }));
}

#[test]
fn prm_rejects_broken_equation() {
    let f = fixture();
    let mut bad = f.prm_proof.clone();
    bad.responses[4] += 1u32;
    assert_eq!(prm_verify(&bad), Err(PrmError::Equation { index: 4 }));
    let mut bad = f.prm_proof.clone();
    bad.responses[127] += 1u32;
    assert_eq!(prm_verify(&bad), Err(PrmError::Equation { index: 127 }));
}

#[test]
fn prm_prover_refuses_a_wrong_witness() {
    let f = fixture();
    // The prover's secret does not match the verifier's parameters.
    let r = PrmProof::prove(&ctx(prm::DOMAIN, SESSION, 0), &f.aux, &PrmWitness::new(&f.prover_rp_secret), &mut rng(9));
    assert!(r.is_err());
    let dbg = format!("{:?}", PrmWitness::new(&f.prover_rp_secret));
    assert!(!dbg.contains(&f.prover_rp_secret.expose_lambda().to_string()));
}

// ------------------------------------------------------------------------------------------
// Decoders never panic.
// ------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = ModProof::from_bytes(&bytes);
        let _ = FacProof::from_bytes(&bytes);
        let _ = PrmProof::from_bytes(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_mutated_proofs(
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let f = fixture();
        for encoded in [f.mod_proof.to_bytes(), f.fac_proof.to_bytes(), f.prm_proof.to_bytes()] {
            let mut mutated = encoded.clone();
            let i = pos.index(mutated.len());
            mutated[i] = byte;
            let _ = ModProof::from_bytes(&mutated);
            let _ = FacProof::from_bytes(&mutated);
            let _ = PrmProof::from_bytes(&mutated);
            let truncated = &encoded[..cut.index(encoded.len())];
            prop_assert!(ModProof::from_bytes(truncated).is_err());
            prop_assert!(FacProof::from_bytes(truncated).is_err());
            prop_assert!(PrmProof::from_bytes(truncated).is_err());
        }
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any value in any integer field of Π^fac (commitments cut below N̂, z1/z2 into their
    /// range): no panic, and the CRT verifier (own key of N̂) agrees with the plain one.
    #[test]
    fn fac_verifier_paths_agree_on_mutated_proofs(field in 0usize..11, bytes in proptest::collection::vec(any::<u8>(), 0..1800)) {
        let f = fixture();
        let nh = f.aux.modulus();
        let v = signed_from(&bytes);
        let abs_mod = |m: &Integer| Integer::from(v.abs_ref()) % m;
        let range_bits = fac::ELL + fac::EPSILON + n_of(&f.prover).significant_bits() / 2 - 1;
        let mut p = f.fac_proof.clone();
        match field {
            0 => p.commit_p = abs_mod(nh),
            1 => p.commit_q = abs_mod(nh),
            2 => p.commit_a = abs_mod(nh),
            3 => p.commit_b = abs_mod(nh),
            4 => p.commit_t = abs_mod(nh),
            5 => p.sigma = v,
            6 => p.z1 = cut(v, range_bits),
            7 => p.z2 = cut(v, range_bits),
            8 => p.w1 = v,
            9 => p.w2 = v,
            _ => p.v = v,
        }
        // fac_verify asserts that both paths agree.
        let _ = fac_verify(&p);
    }
}
