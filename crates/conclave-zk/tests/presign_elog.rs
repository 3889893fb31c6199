//! Π^elog: honest proofs verify; each equation rejects a proof that breaks it, with its own
//! error; proofs do not move to another session, prover or statement; decoding never panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "presign_common.rs"]
mod common;

use common::{ctx, rng};
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Ed25519, Secp256k1, SecretScalar, P256};
use conclave_zk::elog::{ElogError, ElogProof, ElogStatement, ElogWitness, DOMAIN};
use proptest::prelude::*;

struct Case<C: Curve> {
    lambda: SecretScalar<C>,
    y: SecretScalar<C>,
    st: ElogStatement<C>,
}

/// `L = λ·G`, `M = y·G + λ·X`, `Y = y·h` with a random ElGamal key `X` and base `h`.
fn case<C: Curve>(seed: u64) -> Case<C> {
    let mut r = rng(seed);
    let lambda = SecretScalar::<C>::random(&mut r);
    let y = SecretScalar::<C>::random(&mut r);
    let x = SecretScalar::<C>::random_nonzero(&mut r).public_point();
    let h = SecretScalar::<C>::random_nonzero(&mut r).public_point();
    let st = ElogStatement {
        l: lambda.public_point(),
        m: y.public_point() + x * lambda.expose_secret(),
        x,
        y: h * y.expose_secret(),
        h,
    };
    Case { lambda, y, st }
}

fn honest<C: Curve>() {
    let k = case::<C>(1);
    let t = ctx(DOMAIN, 0, b"s1");
    let wit = ElogWitness { lambda: &k.lambda, y: &k.y };
    let proof = ElogProof::prove(&t, &k.st, &wit, &mut rng(2));
    assert_eq!(proof.verify(&t, &k.st), Ok(()));
    let decoded = ElogProof::<C>::from_bytes(&proof.to_bytes()).unwrap();
    assert_eq!(decoded, proof);
    // With h = G (presigning round 2: Γ_i = γ_i·G).
    let mut k2 = case::<C>(3);
    k2.st.h = C::generator();
    k2.st.y = k2.y.public_point();
    let wit = ElogWitness { lambda: &k2.lambda, y: &k2.y };
    assert_eq!(ElogProof::prove(&t, &k2.st, &wit, &mut rng(4)).verify(&t, &k2.st), Ok(()));
}

#[test]
fn honest_proofs_verify_on_every_curve() {
    honest::<Secp256k1>();
    honest::<P256>();
    honest::<Ed25519>();
}

#[test]
fn witness_debug_is_redacted() {
    let k = case::<Secp256k1>(5);
    let s = format!("{:?}", ElogWitness { lambda: &k.lambda, y: &k.y });
    assert!(s.contains("redacted"));
}

#[test]
fn bound_to_session_prover_and_statement() {
    type C = Secp256k1;
    let k = case::<C>(6);
    let t = ctx(DOMAIN, 0, b"s1");
    let proof = ElogProof::prove(&t, &k.st, &ElogWitness { lambda: &k.lambda, y: &k.y }, &mut rng(7));
    assert!(proof.verify(&ctx(DOMAIN, 0, b"s2"), &k.st).is_err());
    assert!(proof.verify(&ctx(DOMAIN, 1, b"s1"), &k.st).is_err());
    let g = C::generator();
    for st in [
        ElogStatement { l: k.st.l + g, ..k.st },
        ElogStatement { m: k.st.m + g, ..k.st },
        ElogStatement { x: k.st.x + g, ..k.st },
        ElogStatement { y: k.st.y + g, ..k.st },
        ElogStatement { h: k.st.h + g, ..k.st },
    ] {
        assert!(proof.verify(&t, &st).is_err());
    }
}

#[test]
fn each_check_rejects_with_its_own_error() {
    type C = Secp256k1;
    let k = case::<C>(10);
    let t = ctx(DOMAIN, 0, b"s1");
    let wit = ElogWitness { lambda: &k.lambda, y: &k.y };
    let g = C::generator();
    // (V1) identity base.
    let st = ElogStatement {
        h: <<C as Curve>::Point as group::Group>::identity(),
        y: <<C as Curve>::Point as group::Group>::identity(),
        ..k.st
    };
    assert_eq!(ElogProof::prove(&t, &st, &wit, &mut rng(11)).verify(&t, &st), Err(ElogError::BaseIsIdentity));
    // (V2) L ≠ λ·G (L is in no other equation).
    let st = ElogStatement { l: k.st.l + g, ..k.st };
    assert_eq!(ElogProof::prove(&t, &st, &wit, &mut rng(12)).verify(&t, &st), Err(ElogError::LEquation));
    // (V3) M ≠ y·G + λ·X.
    let st = ElogStatement { m: k.st.m + g, ..k.st };
    assert_eq!(ElogProof::prove(&t, &st, &wit, &mut rng(13)).verify(&t, &st), Err(ElogError::MEquation));
    // (V4) Y ≠ y·h.
    let st = ElogStatement { y: k.st.y + g, ..k.st };
    assert_eq!(ElogProof::prove(&t, &st, &wit, &mut rng(14)).verify(&t, &st), Err(ElogError::YEquation));
    // Tampered responses: z breaks (V2) first, u breaks (V3) first.
    let proof = ElogProof::prove(&t, &k.st, &wit, &mut rng(15));
    let one = <<C as Curve>::Scalar as ff::Field>::ONE;
    assert_eq!(ElogProof { z: proof.z + one, ..proof.clone() }.verify(&t, &k.st), Err(ElogError::LEquation));
    assert_eq!(ElogProof { u: proof.u + one, ..proof.clone() }.verify(&t, &k.st), Err(ElogError::MEquation));
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = ElogProof::<Secp256k1>::from_bytes(&bytes);
        let _ = ElogProof::<P256>::from_bytes(&bytes);
        let _ = ElogProof::<Ed25519>::from_bytes(&bytes);
    }
}
