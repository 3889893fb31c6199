//! Cells of the adversarial matrix (`docs/adversarial-matrix.md`) for the DKG and the engine
//! (envelope, echo, abort notice) that `dkg_adversarial.rs` does not cover: every message
//! dropped, duplicated, replayed from another session and delayed past the deadline names its
//! sender; shuffled delivery changes nothing; an equivocated plain reveal is named; tampered
//! envelope version and signature bytes; abort notices tampered, forged, replayed, dropped,
//! duplicated and late.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use conclave_keygen::dkg::{self, Dkg, Reveal};
use conclave_math::codec::{Decode, Encode};
use conclave_math::Secp256k1;
use conclave_protocol::sim::adversary::{Tamper, TamperBytes};
use conclave_protocol::sim::Network;
use conclave_protocol::{
    AbortNotice, Culprit, Envelope, Fault, Machine, MessageKind, PartyIndex, PartySet, ProtocolError, RoundId,
    SessionId, StateMachine,
};
use conclave_testkit::driver::{start_rng, DriverOptions};
use conclave_testkit::matrix::{self, assert_all_ok, assert_named_or_done, Msg};
use conclave_testkit::{assert_blamed, assert_blamed_parties};

type C = Secp256k1;
const N: u16 = 4;
const T: u16 = 3;
const BAD: u16 = 1;
const HONEST: [u16; 3] = [0, 2, 3];

fn p(i: u16) -> PartyIndex {
    PartyIndex(i)
}

fn net(salt: u64) -> Network {
    Network::new(&mut conclave_testkit::rng(salt), PartySet::range(N).unwrap())
}

fn start(net: &Network, q: PartyIndex) -> Machine<Dkg<C>> {
    dkg::start::<C>(net.config(q).unwrap(), T, &mut start_rng(7, q)).unwrap()
}

/// Every message BAD sends: round 1 commit and its echo, round 2 reveal and share, round 3
/// verdict and its echo.
fn messages() -> [Msg; 6] {
    use MessageKind::*;
    [(1, Broadcast), (1, Echo), (2, Broadcast), (2, Direct), (3, Broadcast), (3, Echo)]
        .map(|(r, k)| Msg::new(BAD, r, k))
}

#[test]
fn dkg_dropped_messages_are_named_silent() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::dropped(&net(10 + k as u64), &start, m, 1);
        assert_blamed(&out.results, &HONEST, &[(BAD, Fault::Silent)]);
    }
}

#[test]
fn dkg_duplicated_messages_are_named() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::duplicated(&net(20 + k as u64), &start, m, 2);
        if m.round < 3 {
            assert_blamed(&out.results, &HONEST, &[(BAD, Fault::Duplicate)]);
        } else {
            // A copy of a last-round message that arrives after a party already has its key
            // changes nothing for it; every party still running names BAD.
            assert_named_or_done(&out.results, &HONEST, BAD, Fault::Duplicate);
        }
    }
}

#[test]
fn dkg_replayed_messages_are_named() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::replayed(&net(30 + k as u64), &start, m, 3);
        assert_blamed_parties(&out.results, &HONEST, &[BAD], Fault::WrongSession);
    }
}

#[test]
fn dkg_delayed_messages_are_named_silent() {
    for (k, m) in messages().into_iter().enumerate() {
        let out = matrix::delayed(&net(40 + k as u64), &start, m, 4);
        assert_blamed(&out.results, &HONEST, &[(BAD, Fault::Silent)]);
    }
}

#[test]
fn dkg_reordered_delivery_gives_everyone_the_same_key() {
    for seed in 0..4 {
        let out = matrix::shuffled(&net(50 + seed), &start, seed);
        assert_all_ok(&out);
        let keys: Vec<_> = out.results.values().map(|r| r.as_ref().unwrap().public().clone()).collect();
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "seed {seed}");
    }
}

#[test]
fn dkg_equivocated_reveal_is_named() {
    // Round 2 is a plain broadcast: parties 2 and 3 get a reveal that does not open the echoed
    // commitment, party 0 the real one. 2 and 3 accuse with BAD's signed reveal; everyone
    // re-checks it in round 3 and names BAD.
    let change = |b: &[u8]| {
        let mut r = Reveal::<C>::from_bytes(b).unwrap();
        r.rid[0] ^= 1;
        r.to_bytes()
    };
    let opts = DriverOptions {
        seed: 5,
        interceptors: vec![Box::new(Tamper::new(p(BAD), 2, MessageKind::Broadcast, change).only_to(vec![p(2), p(3)]))],
        ..DriverOptions::default()
    };
    let out = matrix::run(&net(60), &start, opts);
    assert_blamed(&out.results, &HONEST, &[(BAD, Fault::CommitmentMismatch)]);
}

#[test]
fn engine_envelope_version_and_signature_tampered() {
    // The version byte (not re-signed: a broken peer or the network).
    let version = TamperBytes {
        from: p(BAD),
        round: 1,
        kind: MessageKind::Broadcast,
        f: Box::new(|b| {
            let mut v = b.to_vec();
            v[0] = 2;
            v
        }),
    };
    let out = matrix::run(
        &net(70),
        &start,
        DriverOptions { seed: 6, interceptors: vec![Box::new(version)], ..DriverOptions::default() },
    );
    assert_blamed_parties(&out.results, &HONEST, &[BAD], Fault::Malformed);
    // The last signature byte.
    let signature = TamperBytes {
        from: p(BAD),
        round: 2,
        kind: MessageKind::Direct,
        f: Box::new(|b| {
            let mut v = b.to_vec();
            let last = v.len() - 1;
            v[last] ^= 1;
            v
        }),
    };
    let out = matrix::run(
        &net(71),
        &start,
        DriverOptions { seed: 6, interceptors: vec![Box::new(signature)], ..DriverOptions::default() },
    );
    assert_blamed_parties(&out.results, &HONEST, &[BAD], Fault::BadSignature);
}

/// A signed abort notice from `from` in `session`, naming party 3 silent.
fn notice(net: &Network, from: u16, session: SessionId, payload: Option<Vec<u8>>) -> Vec<u8> {
    let payload =
        payload.unwrap_or_else(|| AbortNotice::encode_payload(&[Culprit::new(p(3), RoundId(1), Fault::Silent)]));
    Envelope::sign(
        &net.identity_key(p(from)).unwrap(),
        p(from),
        dkg::PROTOCOL,
        session,
        RoundId(1),
        MessageKind::Abort,
        None,
        payload,
    )
    .to_bytes()
}

fn culprits_of(m: &mut Machine<Dkg<C>>) -> ProtocolError {
    if !m.is_finished() {
        m.timeout();
    }
    m.take_output().unwrap().unwrap_err()
}

#[test]
fn engine_abort_notice_faults() {
    let net = net(80);
    let mut rng = conclave_testkit::rng(80);
    // An authentic notice from a party we wait for: we stop and report it (nobody is blamed by us).
    let mut m = start(&net, p(0));
    m.handle(&mut rng, p(BAD), &notice(&net, BAD, net.session, None));
    match culprits_of(&mut m) {
        ProtocolError::AbortedByPeer { reporter, reported, .. } => {
            assert_eq!(reporter, p(BAD));
            assert_eq!(reported[0].party, p(3));
        }
        e => panic!("{e}"),
    }
    // Duplicated: the same result (a notice is not a round message; a second copy adds nothing).
    let mut m = start(&net, p(0));
    let n = notice(&net, BAD, net.session, None);
    m.handle(&mut rng, p(BAD), &n);
    m.handle(&mut rng, p(BAD), &n);
    assert!(matches!(culprits_of(&mut m), ProtocolError::AbortedByPeer { reporter, .. } if reporter == p(BAD)));
    // Tampered payload (signed): Malformed. Tampered bytes (not re-signed): BadSignature.
    for (bytes, fault) in [
        (notice(&net, BAD, net.session, Some(vec![0, 0, 0, 9])), Fault::Malformed),
        (
            {
                let mut b = notice(&net, BAD, net.session, None);
                let last = b.len() - 1;
                b[last] ^= 1;
                b
            },
            Fault::BadSignature,
        ),
    ] {
        let mut m = start(&net, p(0));
        m.handle(&mut rng, p(BAD), &bytes);
        let e = culprits_of(&mut m);
        // (The other parties, which sent nothing to this lone machine, are silent too.)
        assert!(e.culprits().iter().any(|c| c.party == p(BAD) && c.fault == fault), "{e}");
    }
    // Replayed from another session: WrongSession.
    let mut m = start(&net, p(0));
    m.handle(&mut rng, p(BAD), &notice(&net, BAD, SessionId([9; 32]), None));
    let e = culprits_of(&mut m);
    assert!(e.culprits().iter().any(|c| c.party == p(BAD) && c.fault == Fault::WrongSession), "{e}");
    // Another party's notice relayed as BAD's: its signature is not BAD's.
    let mut m = start(&net, p(0));
    m.handle(&mut rng, p(BAD), &notice(&net, 2, net.session, None));
    let e = culprits_of(&mut m);
    assert!(e.culprits().iter().any(|c| c.party == p(BAD) && c.fault == Fault::BadSignature), "{e}");
    // Dropped: we wait for the reporter and, at the deadline, name it silent.
    let mut m = start(&net, p(0));
    let e = culprits_of(&mut m);
    assert!(e.culprits().iter().any(|c| c.party == p(BAD) && c.fault == Fault::Silent), "{e}");
    // Late (after our deadline): ignored, the result stays.
    let mut m = start(&net, p(0));
    m.timeout();
    m.handle(&mut rng, p(BAD), &notice(&net, BAD, net.session, None));
    let e = m.take_output().unwrap().unwrap_err();
    assert!(e.culprits().iter().any(|c| c.party == p(BAD) && c.fault == Fault::Silent), "{e}");
}
