//! A malicious old or new party attacks the reshare in every way the issue lists; every honest
//! party aborts and names exactly the culprit, and after each abort (in round 1 or in round 2)
//! the old group still signs.
//!
//! Setting: a 2-of-3 key among {0, 1, 2} reshared by O = {0, 1, 2} to N′ = {1, 2, 3, 4} with
//! t′ = 3: party 0 leaves, 1 and 2 stay, 3 and 4 join.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod reshare_support;

use std::collections::BTreeMap;

use conclave_keygen::reshare::{Accusation, Commitment, Misbehaviour, Reshare, ReshareParams, Share, Verdict};
use conclave_keygen::KeyShare;
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Ed25519, Secp256k1, SecretScalar, P256};
use conclave_protocol::sim::adversary::{Silence, Tamper};
use conclave_protocol::sim::{SimOutcome, Simulation};
use conclave_protocol::{Evidence, Fault, Machine, MessageKind, PartyIndex, RoundId};
use conclave_testkit::assert_blamed;
use ff::Field;
use reshare_support::{dkg_keys, old_group_intact, p, run_reshare, set};

const ALL: [u16; 5] = [0, 1, 2, 3, 4];

fn params() -> ReshareParams {
    ReshareParams { old_signers: set(&[0, 1, 2]), new_parties: set(&[1, 2, 3, 4]), new_threshold: 3 }
}

fn honest(bad: &[u16]) -> Vec<u16> {
    ALL.iter().copied().filter(|q| !bad.contains(q)).collect()
}

type Adjust<C> = Box<dyn FnOnce(Simulation<Machine<Reshare<C>>>) -> Simulation<Machine<Reshare<C>>>>;

/// Runs the attack, checks the blame and that the old group is intact; returns the outcome.
fn attack<C: Curve>(
    salt: u64,
    misbehaving: Option<(u16, Misbehaviour)>,
    adjust: Adjust<C>,
    bad: &[u16],
    expected: &[(u16, Fault)],
) -> SimOutcome<conclave_keygen::reshare::ReshareOutput<C>> {
    let mut rng = conclave_testkit::rng(salt);
    let old: BTreeMap<PartyIndex, KeyShare<C>> = dkg_keys::<C>(2, &[0, 1, 2], &mut rng);
    let (_, out) = run_reshare(&old, &params(), &mut rng, misbehaving, adjust);
    assert_blamed(&out.results, &honest(bad), expected);
    // The abort left the old shares untouched: the old group signs.
    old_group_intact(&old, &mut rng);
    out
}

fn tamper<C: Curve>(from: u16, round: u16, kind: MessageKind, f: impl FnMut(&[u8]) -> Vec<u8> + 'static) -> Adjust<C> {
    Box::new(move |s| s.intercept(Tamper::new(p(from), round, kind, f)))
}

fn bump_share<C: Curve>(b: &[u8]) -> Vec<u8> {
    let s = Share::<C>::from_bytes(b).unwrap();
    Share::<C> { share: SecretScalar::new(*s.share.expose_secret() + C::Scalar::ONE) }.to_bytes()
}

// ---- round 1: the commitment (public checks; abort before any verdict) ----

fn commitment<C: Curve>(f: impl Fn(&mut Commitment<C>) + 'static) -> impl FnMut(&[u8]) -> Vec<u8> {
    move |b| {
        let mut c = Commitment::<C>::from_bytes(b).unwrap();
        f(&mut c);
        c.to_bytes()
    }
}

fn commitments_not_interpolating<C: Curve>(salt: u64) {
    // A consistent dealing of λ_1·x_1 + 1: its commitments do not interpolate to Y.
    attack::<C>(salt, Some((1, Misbehaviour::WrongSecret)), Box::new(|s| s), &[1], &[(1, Fault::CommitmentMismatch)]);
    // A_{0,0} changed on the wire (by the leaving party itself, re-signed).
    attack::<C>(
        salt + 1,
        None,
        tamper(0, 1, MessageKind::Broadcast, commitment::<C>(|c| c.coefficients[0] += C::generator())),
        &[0],
        &[(0, Fault::CommitmentMismatch)],
    );
}

#[test]
fn commitments_that_do_not_interpolate_to_the_old_key_are_named() {
    commitments_not_interpolating::<Secp256k1>(100);
    commitments_not_interpolating::<P256>(110);
    commitments_not_interpolating::<Ed25519>(120);
}

#[test]
fn raised_threshold_is_named() {
    attack::<Secp256k1>(
        130,
        Some((2, Misbehaviour::ExtraCoefficient)),
        Box::new(|s| s),
        &[2],
        &[(2, Fault::WrongThreshold)],
    );
    attack::<Ed25519>(
        131,
        Some((0, Misbehaviour::ExtraCoefficient)),
        Box::new(|s| s),
        &[0],
        &[(0, Fault::WrongThreshold)],
    );
    // Too few coefficients, on the wire.
    attack::<Secp256k1>(
        132,
        None,
        tamper(
            1,
            1,
            MessageKind::Broadcast,
            commitment::<Secp256k1>(|c| {
                c.coefficients.pop();
            }),
        ),
        &[1],
        &[(1, Fault::WrongThreshold)],
    );
}

#[test]
fn malformed_round1_broadcasts_are_named() {
    // Garbage from an old signer; a non-empty broadcast from a joining party.
    attack::<Secp256k1>(
        140,
        None,
        tamper(2, 1, MessageKind::Broadcast, |b| b[..b.len() - 1].to_vec()),
        &[2],
        &[(2, Fault::Malformed)],
    );
    attack::<Secp256k1>(141, None, tamper(3, 1, MessageKind::Broadcast, |_| vec![0]), &[3], &[(3, Fault::Malformed)]);
}

// ---- round 1: the sub-shares (private; judged through complaints in round 2) ----

fn inconsistent_subshare<C: Curve>(salt: u64) {
    // To every new party.
    attack::<C>(salt, None, tamper(0, 1, MessageKind::Direct, bump_share::<C>), &[0], &[(0, Fault::InvalidShare)]);
    // To one new party only: everyone still agrees on the culprit, with its signed message.
    let out = attack::<C>(
        salt + 1,
        None,
        Box::new(|s| s.intercept(Tamper::new(p(1), 1, MessageKind::Direct, bump_share::<C>).only_to(vec![p(4)]))),
        &[1],
        &[(1, Fault::InvalidShare)],
    );
    for h in honest(&[1]) {
        let err = out.results[&p(h)].as_ref().unwrap_err();
        let c = &err.culprits()[0];
        assert_eq!(c.round, RoundId(1));
        match &c.evidence {
            Evidence::Message(st) => {
                assert_eq!((st.sender, st.recipient, st.kind), (p(1), Some(p(4)), MessageKind::Direct));
            }
            e => panic!("expected the signed sub-share as evidence, got {e:?}"),
        }
    }
}

#[test]
fn subshare_inconsistent_with_its_commitment_is_named() {
    inconsistent_subshare::<Secp256k1>(200);
    inconsistent_subshare::<P256>(210);
    inconsistent_subshare::<Ed25519>(220);
}

#[test]
fn malformed_direct_messages_are_named() {
    // A sub-share that does not decode.
    attack::<Secp256k1>(
        230,
        None,
        tamper(2, 1, MessageKind::Direct, |_| vec![0xff; 32]),
        &[2],
        &[(2, Fault::Malformed)],
    );
    // A joining party sends something where it must send nothing.
    attack::<Secp256k1>(
        231,
        None,
        tamper(4, 1, MessageKind::Direct, |_| vec![1, 2, 3]),
        &[4],
        &[(4, Fault::Malformed)],
    );
    // An old signer sends a sub-share to the leaving party (which gets none).
    attack::<Secp256k1>(
        232,
        None,
        Box::new(|s| s.intercept(Tamper::new(p(1), 1, MessageKind::Direct, |_| vec![7; 32]).only_to(vec![p(0)]))),
        &[1],
        &[(1, Fault::Malformed)],
    );
}

// ---- silence ----

#[test]
fn silent_old_party_is_named() {
    for round in [1u16, 2] {
        let out = attack::<Secp256k1>(
            300 + u64::from(round),
            None,
            Box::new(move |s| s.intercept(Silence { party: p(0), from_round: round })),
            &[0],
            &[(0, Fault::Silent)],
        );
        for h in honest(&[0]) {
            assert_eq!(out.awaiting_at_timeout[&p(h)], vec![p(0)], "round {round}");
        }
    }
}

#[test]
fn silent_new_party_is_named() {
    for round in [1u16, 2] {
        let out = attack::<Ed25519>(
            310 + u64::from(round),
            None,
            Box::new(move |s| s.intercept(Silence { party: p(3), from_round: round })),
            &[3],
            &[(3, Fault::Silent)],
        );
        for h in honest(&[3]) {
            assert_eq!(out.awaiting_at_timeout[&p(h)], vec![p(3)], "round {round}");
        }
    }
}

// ---- round 2: a new party that refuses to confirm ----

#[test]
fn new_party_that_refuses_to_confirm_is_named() {
    // It confirms something else.
    let flip = |b: &[u8]| match Verdict::from_bytes(b).unwrap() {
        Verdict::Confirm { mut hash } => {
            hash[0] ^= 1;
            Verdict::Confirm { hash }.to_bytes()
        }
        v => v.to_bytes(),
    };
    attack::<Secp256k1>(
        400,
        None,
        tamper(3, 2, MessageKind::Broadcast, flip),
        &[3],
        &[(3, Fault::InconsistentConfirmation)],
    );
    // It complains about an honest old signer, quoting its valid sub-share.
    attack::<Secp256k1>(
        401,
        Some((4, Misbehaviour::FalseComplaintAgainst(p(1)))),
        Box::new(|s| s),
        &[4],
        &[(4, Fault::FalseComplaint)],
    );
    // It complains with forged evidence.
    let forge = |_: &[u8]| {
        Verdict::Complaint { accusations: vec![Accusation { accused: p(2), payload: vec![1; 32], signature: [7; 64] }] }
            .to_bytes()
    };
    attack::<Secp256k1>(402, None, tamper(4, 2, MessageKind::Broadcast, forge), &[4], &[(4, Fault::FalseComplaint)]);
    // It sends garbage.
    attack::<Secp256k1>(
        403,
        None,
        tamper(3, 2, MessageKind::Broadcast, |_| vec![9, 9]),
        &[3],
        &[(3, Fault::Malformed)],
    );
}

#[test]
fn leaving_party_cannot_block_silently() {
    // The leaving party also must confirm: its changed confirmation is named like any other.
    let flip = |b: &[u8]| {
        let mut v = b.to_vec();
        let last = v.len() - 1;
        v[last] ^= 1;
        v
    };
    attack::<Ed25519>(
        410,
        None,
        tamper(0, 2, MessageKind::Broadcast, flip),
        &[0],
        &[(0, Fault::InconsistentConfirmation)],
    );
}

// ---- equivocation ----

#[test]
fn equivocated_broadcast_is_proven() {
    for (round, bad) in [(1u16, 1u16), (2, 3)] {
        let change = move |b: &[u8]| {
            let mut v = b.to_vec();
            let last = v.len() - 1;
            v[last] ^= 1;
            v
        };
        let mut rng = conclave_testkit::rng(500 + u64::from(round));
        let old = dkg_keys::<Secp256k1>(2, &[0, 1, 2], &mut rng);
        let (net, out) = run_reshare(&old, &params(), &mut rng, None, |s| {
            s.intercept(Tamper::new(p(bad), round, MessageKind::Broadcast, change).only_to(vec![p(2), p(4)]))
        });
        assert_blamed(&out.results, &honest(&[bad]), &[(bad, Fault::Equivocation)]);
        for h in honest(&[bad]) {
            let c = &out.results[&p(h)].as_ref().unwrap_err().culprits()[0];
            assert!(c.evidence.proves_equivocation(p(bad), &net.public_keys[&p(bad)]), "round {round}");
        }
        old_group_intact(&old, &mut rng);
    }
}

#[test]
fn two_cheaters_are_both_named() {
    // A bad sub-share from 0 and a false complaint by 3 against 2.
    attack::<Secp256k1>(
        600,
        Some((3, Misbehaviour::FalseComplaintAgainst(p(2)))),
        tamper(0, 1, MessageKind::Direct, bump_share::<Secp256k1>),
        &[0, 3],
        &[(0, Fault::InvalidShare), (3, Fault::FalseComplaint)],
    );
}
