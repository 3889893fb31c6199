//! A malicious party attacks the DKG in every way the issue lists; every honest party aborts
//! and names exactly the culprit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;

use common::{honest, p, run_dkg, run_on};
use conclave_keygen::dkg::{Commit, Misbehaviour, Reveal, Share, Verdict};
use conclave_math::codec::{Decode, Encode};
use conclave_math::{Curve, Ed25519, Secp256k1, P256};
use conclave_protocol::machine::EchoPayload;
use conclave_protocol::sim::adversary::{Duplicate, Replay, Silence, Tamper, TamperBytes};
use conclave_protocol::sim::{InFlight, Interceptor, Network};
use conclave_protocol::{Evidence, Fault, MessageKind, SessionId};
use conclave_testkit::{assert_blamed, assert_blamed_parties};
use ff::Field;

const N: u16 = 4;
const T: u16 = 3;
const BAD: u16 = 1;

fn tamper_all<C: Curve>(round: u16, kind: MessageKind, f: impl FnMut(&[u8]) -> Vec<u8> + 'static, fault: Fault) {
    let (_, out) =
        run_dkg::<C>(T, N, 1000 + u64::from(round), None, |s| s.intercept(Tamper::new(p(BAD), round, kind, f)));
    assert_blamed(&out.results, &honest(N, &[BAD]), &[(BAD, fault)]);
}

fn reveal<C: Curve>(f: impl Fn(&mut Reveal<C>) + 'static) -> impl FnMut(&[u8]) -> Vec<u8> {
    move |bytes| {
        let mut r = Reveal::<C>::from_bytes(bytes).unwrap();
        f(&mut r);
        r.to_bytes()
    }
}

// ---- round 1: the commitment ----

fn commit_field<C: Curve>() {
    // The reveal does not open the changed commitment, and the liar's confirmation names
    // commitments that differ from everyone else's: both faults are its own.
    let (_, out) = run_dkg::<C>(T, N, 1001, None, |s| {
        s.intercept(Tamper::new(p(BAD), 1, MessageKind::Broadcast, |b| {
            let mut c = Commit::from_bytes(b).unwrap();
            c.hash[0] ^= 1;
            c.to_bytes()
        }))
    });
    assert_blamed(
        &out.results,
        &honest(N, &[BAD]),
        &[(BAD, Fault::CommitmentMismatch), (BAD, Fault::InconsistentConfirmation)],
    );
}

#[test]
fn round1_commitment_tampered() {
    commit_field::<Secp256k1>();
    commit_field::<P256>();
    commit_field::<Ed25519>();
}

#[test]
fn round1_commitment_malformed() {
    tamper_all::<Secp256k1>(1, MessageKind::Broadcast, |b| b[..31].to_vec(), Fault::Malformed);
}

// ---- round 2: every field of the reveal ----

fn reveal_fields<C: Curve>() {
    tamper_all::<C>(
        2,
        MessageKind::Broadcast,
        reveal::<C>(|r| r.coefficients[1] += C::generator()),
        Fault::CommitmentMismatch,
    );
    tamper_all::<C>(
        2,
        MessageKind::Broadcast,
        reveal::<C>(|r| r.coefficients[0] += C::generator()),
        Fault::CommitmentMismatch,
    );
    tamper_all::<C>(
        2,
        MessageKind::Broadcast,
        reveal::<C>(|r| r.coefficients.push(C::generator())),
        Fault::CommitmentMismatch,
    );
    tamper_all::<C>(2, MessageKind::Broadcast, reveal::<C>(|r| r.rid[3] ^= 1), Fault::CommitmentMismatch);
    tamper_all::<C>(2, MessageKind::Broadcast, reveal::<C>(|r| r.decommitment[0] ^= 1), Fault::CommitmentMismatch);
    tamper_all::<C>(
        2,
        MessageKind::Broadcast,
        reveal::<C>(|r| r.proof.commitment += C::generator()),
        Fault::InvalidProof,
    );
    tamper_all::<C>(
        2,
        MessageKind::Broadcast,
        reveal::<C>(|r| r.proof.response += C::Scalar::ONE),
        Fault::InvalidProof,
    );
    tamper_all::<C>(2, MessageKind::Broadcast, |b| [b, &[0u8][..]].concat(), Fault::Malformed);
}

#[test]
fn round2_reveal_fields_secp256k1() {
    reveal_fields::<Secp256k1>();
}

#[test]
fn round2_reveal_fields_p256() {
    reveal_fields::<P256>();
}

#[test]
fn round2_reveal_fields_ed25519() {
    reveal_fields::<Ed25519>();
}

fn share_field<C: Curve>() {
    let bump = |b: &[u8]| {
        let s = Share::<C>::from_bytes(b).unwrap();
        let bumped = *s.share.expose_secret() + C::Scalar::ONE;
        Share::<C> { share: conclave_math::SecretScalar::new(bumped) }.to_bytes()
    };
    tamper_all::<C>(2, MessageKind::Direct, bump, Fault::InvalidShare);
    // An inconsistent share to one party only: everyone still agrees on the culprit.
    let (_, out) = run_dkg::<C>(T, N, 77, None, |s| {
        s.intercept(Tamper::new(p(BAD), 2, MessageKind::Direct, bump).only_to(vec![p(3)]))
    });
    assert_blamed(&out.results, &honest(N, &[BAD]), &[(BAD, Fault::InvalidShare)]);
    tamper_all::<C>(2, MessageKind::Direct, |_| vec![0xff; 32], Fault::Malformed);
}

#[test]
fn round2_share_tampered() {
    share_field::<Secp256k1>();
    share_field::<P256>();
    share_field::<Ed25519>();
}

#[test]
fn threshold_raising_is_named() {
    for salt in [1u64, 2] {
        let (_, out) = run_dkg::<Secp256k1>(T, N, salt, Some((BAD, Misbehaviour::ExtraCoefficient)), |s| s);
        assert_blamed(&out.results, &honest(N, &[BAD]), &[(BAD, Fault::WrongThreshold)]);
    }
    let (_, out) = run_dkg::<Ed25519>(2, 3, 3, Some((BAD, Misbehaviour::ExtraCoefficient)), |s| s);
    assert_blamed(&out.results, &honest(3, &[BAD]), &[(BAD, Fault::WrongThreshold)]);
}

// ---- round 3: the verdict ----

#[test]
fn round3_confirmation_tampered() {
    tamper_all::<Secp256k1>(
        3,
        MessageKind::Broadcast,
        |b| match Verdict::from_bytes(b).unwrap() {
            Verdict::Confirm { mut hash } => {
                hash[5] ^= 1;
                Verdict::Confirm { hash }.to_bytes()
            }
            v => v.to_bytes(),
        },
        Fault::InconsistentConfirmation,
    );
    tamper_all::<Secp256k1>(3, MessageKind::Broadcast, |_| vec![9, 9], Fault::Malformed);
}

#[test]
fn false_complaint_names_the_accuser() {
    let (_, out) = run_dkg::<Secp256k1>(T, N, 5, Some((BAD, Misbehaviour::FalseComplaintAgainst(p(2)))), |s| s);
    assert_blamed(&out.results, &honest(N, &[BAD]), &[(BAD, Fault::FalseComplaint)]);
}

#[test]
fn forged_complaint_evidence_names_the_accuser() {
    // The accuser quotes a "share" the accused never signed.
    let forge = |b: &[u8]| {
        let _ = Verdict::from_bytes(b).unwrap();
        Verdict::Complaint {
            accusations: vec![conclave_keygen::dkg::Accusation {
                accused: p(2),
                message: conclave_keygen::dkg::Accused::Share,
                payload: vec![1; 32],
                signature: [7; 64],
            }],
        }
        .to_bytes()
    };
    tamper_all::<Secp256k1>(3, MessageKind::Broadcast, forge, Fault::FalseComplaint);
}

// ---- the echo rounds ----

fn echo_tamper(f: impl Fn(&mut EchoPayload) + 'static) -> impl FnMut(&[u8]) -> Vec<u8> {
    move |b| {
        let mut e = EchoPayload::from_bytes(b).unwrap();
        f(&mut e);
        e.to_bytes()
    }
}

#[test]
fn echo_fields_tampered() {
    for round in [1u16, 3] {
        tamper_all::<Secp256k1>(
            round,
            MessageKind::Echo,
            echo_tamper(|e| e.entries[2].digest[0] ^= 1),
            Fault::ForgedEcho,
        );
        tamper_all::<Secp256k1>(
            round,
            MessageKind::Echo,
            echo_tamper(|e| e.entries[0].signature[0] ^= 1),
            Fault::ForgedEcho,
        );
        tamper_all::<Secp256k1>(round, MessageKind::Echo, echo_tamper(|e| e.entries[0].party.0 = 9), Fault::Malformed);
        tamper_all::<Secp256k1>(
            round,
            MessageKind::Echo,
            echo_tamper(|e| {
                e.entries.pop();
            }),
            Fault::Malformed,
        );
    }
}

#[test]
fn equivocated_broadcast_is_proven() {
    for round in [1u16, 3] {
        let change = move |b: &[u8]| {
            let mut v = b.to_vec();
            let last = v.len() - 1;
            v[last] ^= 1;
            v
        };
        let (net, out) = run_dkg::<Secp256k1>(T, N, 40 + u64::from(round), None, |s| {
            s.intercept(Tamper::new(p(BAD), round, MessageKind::Broadcast, change).only_to(vec![p(2), p(3)]))
        });
        assert_blamed(&out.results, &honest(N, &[BAD]), &[(BAD, Fault::Equivocation)]);
        // The evidence convinces a third party holding only the identity public key.
        for h in honest(N, &[BAD]) {
            let err = out.results[&p(h)].as_ref().unwrap_err();
            let c = &err.culprits()[0];
            assert!(matches!(c.evidence, Evidence::Equivocation { .. }));
            assert!(c.evidence.proves_equivocation(p(BAD), &net.public_keys[&p(BAD)]));
            assert!(!c.evidence.proves_equivocation(p(BAD), &net.public_keys[&p(0)]));
        }
    }
}

// ---- silence, duplicates, replays, transport-level tampering ----

#[test]
fn silent_party_is_awaited_and_named() {
    for round in [1u16, 2, 3] {
        let (_, out) = run_dkg::<Secp256k1>(T, N, 60 + u64::from(round), None, |s| {
            s.intercept(Silence { party: p(BAD), from_round: round })
        });
        assert_blamed(&out.results, &honest(N, &[BAD]), &[(BAD, Fault::Silent)]);
        for h in honest(N, &[BAD]) {
            assert_eq!(out.awaiting_at_timeout[&p(h)], vec![p(BAD)], "round {round}");
        }
    }
}

#[test]
fn duplicate_messages_are_named() {
    // The same message twice.
    let (_, out) = run_dkg::<Secp256k1>(T, N, 70, None, |s| {
        s.intercept(Duplicate { from: p(BAD), round: 2, kind: MessageKind::Direct, f: Box::new(|b| b.to_vec()) })
    });
    assert_blamed(&out.results, &honest(N, &[BAD]), &[(BAD, Fault::Duplicate)]);
    // A second, different broadcast for the same round: equivocation, caught by the inbox.
    let (_, out) = run_dkg::<Secp256k1>(T, N, 71, None, |s| {
        s.intercept(Duplicate {
            from: p(BAD),
            round: 2,
            kind: MessageKind::Broadcast,
            f: Box::new(|b| [b, &[1u8][..]].concat()),
        })
    });
    assert_blamed(&out.results, &honest(N, &[BAD]), &[(BAD, Fault::Equivocation)]);
}

#[test]
fn replay_from_another_session_is_named() {
    let mut rng = conclave_testkit::rng(80);
    let net = Network::new(&mut rng, conclave_protocol::PartySet::range(N).unwrap());
    let first = run_on::<Secp256k1>(&net, T, &mut rng, None, |s| s);
    assert!(first.results.values().all(|r| r.is_ok()));
    let recorded: BTreeMap<_, _> = first
        .delivered
        .iter()
        .filter(|m| m.is(p(BAD), 1, MessageKind::Broadcast))
        .map(|m| (m.to, m.bytes.clone()))
        .collect();
    let second = net.in_session(SessionId([0x42; 32]));
    let out = run_on::<Secp256k1>(&second, T, &mut rng, None, |s| {
        s.intercept(Replay { from: p(BAD), round: 1, kind: MessageKind::Broadcast, recorded })
    });
    assert_blamed_parties(&out.results, &honest(N, &[BAD]), &[BAD], Fault::WrongSession);
}

#[test]
fn unsigned_changes_are_bad_signatures() {
    // A network attacker flips a payload byte without the sender's key.
    let (_, out) = run_dkg::<Secp256k1>(T, N, 90, None, |s| {
        s.intercept(TamperBytes {
            from: p(BAD),
            round: 2,
            kind: MessageKind::Broadcast,
            f: Box::new(|b| {
                let mut v = b.to_vec();
                let k = v.len() - 70;
                v[k] ^= 1;
                v
            }),
        })
    });
    assert_blamed_parties(&out.results, &honest(N, &[BAD]), &[BAD], Fault::BadSignature);
    // Garbage instead of an envelope.
    let (_, out) = run_dkg::<Secp256k1>(T, N, 91, None, |s| {
        s.intercept(TamperBytes {
            from: p(BAD),
            round: 1,
            kind: MessageKind::Broadcast,
            f: Box::new(|_| vec![1, 2, 3]),
        })
    });
    assert_blamed_parties(&out.results, &honest(N, &[BAD]), &[BAD], Fault::Malformed);
}

/// Rewrites envelope header fields and re-signs: the sender itself sends a well-signed
/// message for the wrong protocol, session, round, kind or recipient.
struct Header {
    round: u16,
    kind: MessageKind,
    edit: fn(&mut conclave_protocol::Envelope),
}

impl Interceptor for Header {
    fn intercept(&mut self, net: &Network, msg: InFlight) -> Vec<InFlight> {
        if !msg.is(p(BAD), self.round, self.kind) {
            return vec![msg];
        }
        let mut env = msg.envelope().unwrap();
        (self.edit)(&mut env);
        env.resign(&net.identity_key(p(BAD)).unwrap(), p(BAD));
        vec![InFlight { bytes: env.to_bytes(), ..msg }]
    }
}

#[test]
fn envelope_header_fields_tampered() {
    type Case = (u16, MessageKind, fn(&mut conclave_protocol::Envelope), Fault);
    let cases: [Case; 5] = [
        (1, MessageKind::Broadcast, |e| e.protocol = "conclave/other/v1".into(), Fault::WrongProtocol),
        (1, MessageKind::Broadcast, |e| e.session.0[0] ^= 1, Fault::WrongSession),
        (2, MessageKind::Direct, |e| e.recipient = Some(p(BAD)), Fault::Misaddressed),
        // A round-2 broadcast relabelled as round 1: a second round-1 broadcast.
        (2, MessageKind::Broadcast, |e| e.round = conclave_protocol::RoundId(1), Fault::Equivocation),
        // A round-3 verdict sent as a direct message.
        (
            3,
            MessageKind::Broadcast,
            |e| {
                e.kind = MessageKind::Direct;
                e.recipient = Some(p(0));
            },
            Fault::UnexpectedMessage,
        ),
    ];
    for (k, (round, kind, edit, fault)) in cases.into_iter().enumerate() {
        let (_, out) = run_dkg::<Secp256k1>(T, N, 100 + k as u64, None, |s| s.intercept(Header { round, kind, edit }));
        let blamers: Vec<u16> = if fault == Fault::UnexpectedMessage { vec![0] } else { honest(N, &[BAD]) };
        assert_blamed_parties(&out.results, &blamers, &[BAD], fault);
    }
}

#[test]
fn identity_point_in_reveal_is_malformed() {
    // The identity never decodes, so a reveal holding it is malformed.
    let with_identity = |b: &[u8]| {
        let r = Reveal::<Secp256k1>::from_bytes(b).unwrap();
        let mut bytes = r.to_bytes();
        // Overwrite the first coefficient (after the 4-byte count) with the identity encoding.
        bytes[4..4 + 33].copy_from_slice(&Secp256k1::encode_point(&<Secp256k1 as Curve>::Point::IDENTITY));
        bytes
    };
    tamper_all::<Secp256k1>(2, MessageKind::Broadcast, with_identity, Fault::Malformed);
}

#[test]
fn two_cheaters_are_both_named() {
    let bump = |b: &[u8]| {
        let s = Share::<Secp256k1>::from_bytes(b).unwrap();
        Share::<Secp256k1> {
            share: conclave_math::SecretScalar::new(*s.share.expose_secret() + <Secp256k1 as Curve>::Scalar::ONE),
        }
        .to_bytes()
    };
    let (_, out) = run_dkg::<Secp256k1>(3, 5, 120, None, |s| {
        s.intercept(Tamper::new(p(1), 2, MessageKind::Direct, bump)).intercept(Tamper::new(
            p(3),
            2,
            MessageKind::Broadcast,
            reveal::<Secp256k1>(|r| r.proof.response += <Secp256k1 as Curve>::Scalar::ONE),
        ))
    });
    assert_blamed(&out.results, &[0, 2, 4], &[(1, Fault::InvalidShare), (3, Fault::InvalidProof)]);
}
