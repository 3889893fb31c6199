//! A malicious signer attacks a signing session; every honest signer aborts and names
//! exactly the culprit (SECURITY.md items 17 and 19).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test code

mod common;

use common::{honest, keygen, p, sign};
use conclave_frost::msg::{Commit, Share};
use conclave_frost::{Bip340, Ed25519, Scheme, Secp256k1, SignRequest};
use conclave_math::codec::{Decode, Encode};
use conclave_math::Curve;
use conclave_protocol::sim::adversary::{Duplicate, Silence, Tamper};
use conclave_protocol::{Evidence, Fault, MessageKind, PartyIndex};
use conclave_testkit::assert_blamed;
use ff::Field;
use group::Group;

const SIGNERS: [u16; 3] = [0, 2, 3];
const BAD: u16 = 2;

fn request<S: Scheme>() -> SignRequest {
    if S::ID == conclave_frost::SchemeId::Bip340 {
        SignRequest::taproot([9u8; 32], Some([1u8; 32]))
    } else {
        SignRequest::new(b"pay 1 BTC to Bob".to_vec())
    }
}

/// Runs a 3-of-4 key's signers {0, 2, 3} with `adversary` and checks the blame.
fn attack<S: Scheme, I: conclave_protocol::sim::Interceptor + 'static>(
    salt: u64,
    adversary: impl FnOnce() -> I,
    expected: &[(u16, Fault)],
) {
    let mut rng = conclave_testkit::rng(salt);
    let keys = keygen::<S>(3, 4, &mut rng);
    let (_, out) = sign::<S>(&keys, &SIGNERS, &request::<S>(), &mut rng, |s| s.intercept(adversary()));
    assert_blamed(&out.results, &honest(&SIGNERS, &[BAD]), expected);
    // Evidence: the culprit's signed message (no secrets), except for silence.
    for h in honest(&SIGNERS, &[BAD]) {
        let e = out.results[&p(h)].as_ref().unwrap_err();
        for c in e.culprits() {
            match c.fault {
                Fault::Silent => assert_eq!(c.evidence, Evidence::None),
                _ => assert!(matches!(c.evidence, Evidence::Message(_) | Evidence::Equivocation { .. })),
            }
        }
    }
}

fn commit<C: Curve>(f: impl Fn(&mut Commit<C>) + 'static) -> impl FnMut(&[u8]) -> Vec<u8> {
    move |bytes| {
        let mut c = Commit::<C>::from_bytes(bytes).unwrap();
        f(&mut c);
        c.to_bytes()
    }
}

fn tamper_commit<S: Scheme>(salt: u64, f: impl Fn(&mut Commit<S::Curve>) + 'static, fault: Fault) {
    attack::<S, _>(salt, || Tamper::new(p(BAD), 1, MessageKind::Broadcast, commit::<S::Curve>(f)), &[(BAD, fault)]);
}

/// A bad signature share (z_i + 1) is caught before aggregation and names its sender.
fn bad_share<S: Scheme>(salt: u64) {
    let f = |bytes: &[u8]| {
        let mut s = Share::<<S as Scheme>::Curve>::from_bytes(bytes).unwrap();
        s.share += <<S::Curve as Curve>::Scalar as Field>::ONE;
        s.to_bytes()
    };
    attack::<S, _>(salt, || Tamper::new(p(BAD), 2, MessageKind::Broadcast, f), &[(BAD, Fault::InvalidShare)]);
}

/// A share for different nonces than committed to: the commitment (consistently echoed)
/// was replaced by another valid point; the share no longer matches it.
fn bad_commitment<S: Scheme>(salt: u64) {
    tamper_commit::<S>(salt, |c| c.hiding += <S::Curve as Curve>::generator(), Fault::InvalidShare);
    tamper_commit::<S>(salt + 1, |c| c.binding = c.binding.double(), Fault::InvalidShare);
}

/// An identity commitment is rejected on receipt (RFC 9591 §5.2).
fn identity_commitment<S: Scheme>(salt: u64) {
    tamper_commit::<S>(salt, |c| c.binding = <S::Curve as Curve>::Point::identity(), Fault::InvalidValue);
    tamper_commit::<S>(salt + 1, |c| c.hiding = <S::Curve as Curve>::Point::identity(), Fault::InvalidValue);
}

/// The commitment claims another signer's identifier (a duplicate in the list), or one that
/// is not a signer.
fn duplicate_identifier<S: Scheme>(salt: u64) {
    tamper_commit::<S>(salt, |c| c.signer = PartyIndex(0), Fault::Duplicate);
    tamper_commit::<S>(salt + 1, |c| c.signer = PartyIndex(1), Fault::InvalidValue);
}

/// A second round-1 message from the same signer (the inbox's duplicate check), identical or
/// different (equivocation).
fn duplicate_message<S: Scheme>(salt: u64) {
    attack::<S, _>(
        salt,
        || Duplicate { from: p(BAD), round: 1, kind: MessageKind::Broadcast, f: Box::new(|b: &[u8]| b.to_vec()) },
        &[(BAD, Fault::Duplicate)],
    );
    attack::<S, _>(
        salt + 1,
        || Duplicate {
            from: p(BAD),
            round: 1,
            kind: MessageKind::Broadcast,
            f: Box::new(commit::<S::Curve>(|c| c.hiding += <S::Curve as Curve>::generator())),
        },
        &[(BAD, Fault::Equivocation)],
    );
}

/// A signer with a different request (message or tweak) is named before any share leaves.
fn different_request<S: Scheme>(salt: u64) {
    tamper_commit::<S>(salt, |c| c.request[0] ^= 1, Fault::InconsistentConfirmation);
}

/// Different commitments to different signers: the echo round convicts the sender.
fn equivocated_commitment<S: Scheme>(salt: u64) {
    attack::<S, _>(
        salt,
        || {
            Tamper::new(
                p(BAD),
                1,
                MessageKind::Broadcast,
                commit::<S::Curve>(|c| c.hiding += <S::Curve as Curve>::generator()),
            )
            .only_to(vec![p(0)])
        },
        &[(BAD, Fault::Equivocation)],
    );
}

/// A signer that stops sending is named silent (in the round it stopped).
fn silent_signer<S: Scheme>(salt: u64) {
    attack::<S, _>(salt, || Silence { party: p(BAD), from_round: 1 }, &[(BAD, Fault::Silent)]);
    attack::<S, _>(salt + 1, || Silence { party: p(BAD), from_round: 2 }, &[(BAD, Fault::Silent)]);
}

/// Bytes that do not decode as the round's message.
fn malformed<S: Scheme>(salt: u64) {
    attack::<S, _>(
        salt,
        || Tamper::new(p(BAD), 1, MessageKind::Broadcast, |b: &[u8]| b[..b.len() - 1].to_vec()),
        &[(BAD, Fault::Malformed)],
    );
    attack::<S, _>(
        salt + 1,
        || Tamper::new(p(BAD), 2, MessageKind::Broadcast, |_: &[u8]| vec![0xff; 32]),
        &[(BAD, Fault::Malformed)],
    );
}

macro_rules! for_schemes {
    ($name:ident, $salt:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn ed25519() {
                super::$name::<Ed25519>($salt);
            }
            #[test]
            fn secp256k1() {
                super::$name::<Secp256k1>($salt + 10);
            }
            #[test]
            fn bip340_taproot() {
                super::$name::<Bip340>($salt + 20);
            }
        }
    };
}

for_schemes!(bad_share, 100);
for_schemes!(bad_commitment, 200);
for_schemes!(identity_commitment, 300);
for_schemes!(duplicate_identifier, 400);
for_schemes!(duplicate_message, 500);
for_schemes!(different_request, 600);
for_schemes!(equivocated_commitment, 700);
for_schemes!(silent_signer, 800);
for_schemes!(malformed, 900);

/// Plain (untweaked) BIP-340: a bad share is named too (even-Y handling in verification).
#[test]
fn bip340_plain_bad_share() {
    let mut rng = conclave_testkit::rng(1000);
    let keys = keygen::<Bip340>(2, 3, &mut rng);
    let f = |bytes: &[u8]| {
        let mut s = Share::<conclave_math::Secp256k1>::from_bytes(bytes).unwrap();
        s.share = -s.share;
        s.to_bytes()
    };
    let (_, out) = sign::<Bip340>(&keys, &[0, 1, 2], &SignRequest::new([3u8; 32]), &mut rng, |s| {
        s.intercept(Tamper::new(p(1), 2, MessageKind::Broadcast, f))
    });
    assert_blamed(&out.results, &[0, 2], &[(1, Fault::InvalidShare)]);
}
