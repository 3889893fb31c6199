//! Honest reshare simulations on every curve: (2,3)→(3,5), (3,5)→(2,3), (2,3)→(2,3) with one
//! party replaced, and a refresh. The new group's shares interpolate to the old secret (same
//! public key), the new group signs under the unchanged key (FROST Ed25519, secp256k1 and
//! BIP-340; P-256 by reconstruction), and old and new shares do not mix.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod reshare_support;

use std::collections::BTreeMap;

use conclave_frost::Scheme;
use conclave_keygen::reshare::{self, HandoverReceipt, PendingHandover, ReshareInput, ReshareParams};
use conclave_keygen::{KeyShare, KeygenError};
use conclave_math::{Curve, Ed25519, Secp256k1, P256};
use conclave_protocol::sim::Network;
use conclave_protocol::{MachineConfig, PartyIndex};
use reshare_support::{dkg_keys, frost_signs, new_shares, p, run_reshare, secret_of, set, Scenario};

fn scenarios() -> Vec<(&'static str, Scenario)> {
    vec![
        (
            "(2,3)→(3,5)",
            Scenario {
                old_t: 2,
                old_parties: vec![0, 1, 2],
                old_signers: vec![0, 2],
                new_t: 3,
                new_parties: vec![0, 1, 2, 3, 4],
            },
        ),
        (
            // 0 and 2 leave, 1 stays as a signer, 3 stays without dealing, 5 joins.
            "(3,5)→(2,3)",
            Scenario {
                old_t: 3,
                old_parties: vec![0, 1, 2, 3, 4],
                old_signers: vec![0, 1, 2],
                new_t: 2,
                new_parties: vec![1, 3, 5],
            },
        ),
        (
            // Party 1 lost its share; 3 replaces it.
            "(2,3)→(2,3) replacing 1 by 3",
            Scenario {
                old_t: 2,
                old_parties: vec![0, 1, 2],
                old_signers: vec![0, 2],
                new_t: 2,
                new_parties: vec![0, 2, 3],
            },
        ),
        (
            "refresh (2,3)",
            Scenario {
                old_t: 2,
                old_parties: vec![0, 1, 2],
                old_signers: vec![0, 1, 2],
                new_t: 2,
                new_parties: vec![0, 1, 2],
            },
        ),
    ]
}

/// Runs one scenario and checks everything that does not need a signature scheme; returns
/// the old and new key shares.
fn reshare_case<C: Curve>(
    name: &str,
    sc: &Scenario,
    salt: u64,
) -> (BTreeMap<PartyIndex, KeyShare<C>>, BTreeMap<PartyIndex, KeyShare<C>>) {
    let mut rng = conclave_testkit::rng(salt);
    let old = dkg_keys::<C>(sc.old_t, &sc.old_parties, &mut rng);
    let params = sc.params();
    let (net, out) = run_reshare(&old, &params, &mut rng, None, |s| s);
    let new = new_shares(&net, &params, out);
    let old_public = old.values().next().unwrap().public().clone();
    let y = old_public.public_key;
    let old_secret = secret_of(&old, &old.keys().copied().take(usize::from(sc.old_t)).collect::<Vec<_>>());
    // Every new party holds the same public data: same key and chain code, new group.
    let first = new.values().next().unwrap().public().clone();
    assert_eq!(first.public_key, y, "{name} on {}: public key unchanged", C::ID);
    assert_eq!(first.chain_code, old_public.chain_code);
    assert_eq!(first.threshold, sc.new_t);
    assert_eq!(first.parties, set(&sc.new_parties));
    assert_ne!(first.key_id, old_public.key_id);
    for k in new.values() {
        assert_eq!(k.public(), &first);
        assert_eq!(first.public_shares[&k.me()], k.expose_secret_share().public_point());
    }
    // Any t′ new shares give the old secret; t′ − 1 do not.
    let ids: Vec<PartyIndex> = new.keys().copied().collect();
    let t = usize::from(sc.new_t);
    for who in [ids[..t].to_vec(), ids[ids.len() - t..].to_vec()] {
        assert_eq!(secret_of(&new, &who), old_secret, "{name} on {}: {who:?}", C::ID);
    }
    if t > 1 {
        assert_ne!(secret_of(&new, &ids[..t - 1]).public_point(), y);
    }
    // Old and new shares do not mix: a staying party's old share among new ones, or old shares
    // completed by a new share of another party, give nothing.
    if let Some(stay) = ids.iter().copied().find(|q| old.contains_key(q)) {
        let mut who: Vec<PartyIndex> = ids.iter().copied().filter(|q| *q != stay).take(t - 1).collect();
        who.push(stay);
        let mut mixed: Vec<(PartyIndex, &conclave_math::SecretScalar<C>)> =
            who.iter().filter(|q| **q != stay).map(|q| (*q, new[q].expose_secret_share())).collect();
        mixed.push((stay, old[&stay].expose_secret_share()));
        assert_ne!(conclave_testkit::reconstruct_secret::<C>(&mixed).public_point(), y, "{name}: mixed shares");
    }
    let old_ids: Vec<PartyIndex> = old.keys().copied().collect();
    if let Some(newcomer) = ids.iter().copied().find(|q| !old_ids[..usize::from(sc.old_t) - 1].contains(q)) {
        let mut mixed: Vec<(PartyIndex, &conclave_math::SecretScalar<C>)> =
            old_ids[..usize::from(sc.old_t) - 1].iter().map(|q| (*q, old[q].expose_secret_share())).collect();
        mixed.push((newcomer, new[&newcomer].expose_secret_share()));
        assert_ne!(conclave_testkit::reconstruct_secret::<C>(&mixed).public_point(), y, "{name}: mixed shares");
    }
    (old, new)
}

/// The scenario, then FROST signatures by the new group (first and last t′ parties) and by
/// the old group (its shares were never touched).
fn reshare_and_sign<S: Scheme>(salt: u64) {
    for (k, (name, sc)) in scenarios().into_iter().enumerate() {
        let (old, new) = reshare_case::<S::Curve>(name, &sc, salt + k as u64);
        let mut rng = conclave_testkit::rng(salt + 100 + k as u64);
        let ids: Vec<PartyIndex> = new.keys().copied().collect();
        let t = usize::from(sc.new_t);
        frost_signs::<S>(&new, &ids[..t], &mut rng);
        frost_signs::<S>(&new, &ids[ids.len() - t..], &mut rng);
        let old_ids: Vec<PartyIndex> = old.keys().copied().collect();
        frost_signs::<S>(&old, &old_ids[..usize::from(sc.old_t)], &mut rng);
    }
}

#[test]
fn reshare_secp256k1_frost_and_bip340() {
    reshare_and_sign::<conclave_frost::Secp256k1>(10);
    reshare_and_sign::<conclave_frost::Bip340>(20);
}

#[test]
fn reshare_ed25519_frost() {
    reshare_and_sign::<conclave_frost::Ed25519>(30);
}

#[test]
fn reshare_p256_by_reconstruction() {
    // No FROST ciphersuite for P-256 (its signatures are threshold ECDSA, which needs aux
    // info): the new shares are checked by interpolation to the old secret.
    for (k, (name, sc)) in scenarios().into_iter().enumerate() {
        reshare_case::<P256>(name, &sc, 40 + k as u64);
    }
}

#[test]
fn mixed_old_and_new_shares_do_not_sign() {
    // After a refresh, a signer with its old share and one with its new share cannot sign.
    let (_, sc) = scenarios().pop().unwrap();
    let (old, new) = reshare_case::<Secp256k1>("refresh", &sc, 50);
    let mut mixed = BTreeMap::new();
    let mut it_old = old.into_iter();
    let mut it_new = new.into_iter();
    let (a, ka) = it_old.next().unwrap();
    mixed.insert(a, ka);
    let (b, kb) = it_new.nth(1).unwrap();
    mixed.insert(b, kb);
    let mut rng = conclave_testkit::rng(51);
    let signers = conclave_protocol::PartySet::new([a, b]).unwrap();
    let request = conclave_frost::SignRequest::new(b"mixed".to_vec());
    let res = conclave_frost::sim::sign_in_process::<conclave_frost::Bip340>(&mixed, &signers, &request, &mut rng);
    assert!(res.is_err(), "a mixed signer set must not produce a signature");
}

#[test]
fn reshare_twice_and_sign() {
    // (2,3) → (3,5) → (2,3) among other parties: the key survives a chain of hand-overs.
    let mut rng = conclave_testkit::rng(60);
    let old = dkg_keys::<Ed25519>(2, &[0, 1, 2], &mut rng);
    let y = old[&p(0)].public_key();
    let params = ReshareParams { old_signers: set(&[1, 2]), new_parties: set(&[2, 3, 4, 5, 6]), new_threshold: 3 };
    let (net, out) = run_reshare(&old, &params, &mut rng, None, |s| s);
    let mid = new_shares(&net, &params, out);
    let params = ReshareParams { old_signers: set(&[3, 5, 6]), new_parties: set(&[0, 7, 8]), new_threshold: 2 };
    let (net, out) = run_reshare(&mid, &params, &mut rng, None, |s| s);
    let last = new_shares(&net, &params, out);
    assert_eq!(last[&p(7)].public_key(), y);
    frost_signs::<conclave_frost::Ed25519>(&last, &[p(0), p(8)], &mut rng);
}

#[test]
fn output_debug_shows_no_secret() {
    let (_, sc) = scenarios().remove(0);
    let mut rng = conclave_testkit::rng(70);
    let old = dkg_keys::<Secp256k1>(sc.old_t, &sc.old_parties, &mut rng);
    let (_, out) = run_reshare(&old, &sc.params(), &mut rng, None, |s| s);
    for r in out.results.into_values() {
        let r = r.unwrap();
        let shown = format!("{r:?} {r:#?}");
        if let Some(k) = r.into_key_share() {
            let secret_hex = hex::encode(Secp256k1::encode_scalar(k.expose_secret_share().expose_secret()));
            assert!(!shown.contains(&secret_hex), "{shown}");
            assert!(shown.contains("REDACTED"));
        }
    }
}

// ---- invalid inputs are the caller's fault ----

fn expect_invalid(r: Result<conclave_protocol::Machine<reshare::Reshare<Secp256k1>>, KeygenError>, what: &str) {
    match r {
        Err(KeygenError::InvalidInput(_)) => {}
        Err(e) => panic!("{what}: expected InvalidInput, got {e}"),
        Ok(_) => panic!("{what}: expected InvalidInput, got a machine"),
    }
}

#[test]
fn invalid_inputs_are_the_callers_fault() {
    let mut rng = conclave_testkit::rng(80);
    let old = dkg_keys::<Secp256k1>(2, &[0, 1, 2], &mut rng);
    let public = old[&p(0)].public().clone();
    let good = ReshareParams { old_signers: set(&[0, 1]), new_parties: set(&[0, 1, 2, 3]), new_threshold: 3 };
    let net = Network::new(&mut rng, good.session_parties().unwrap());
    let cfg = |q: u16| net.config(p(q)).unwrap();
    // Sanity: the good parameters start.
    assert!(reshare::start::<Secp256k1>(cfg(0), &good, ReshareInput::Holder(&old[&p(0)]), &mut rng).is_ok());
    assert!(reshare::start::<Secp256k1>(cfg(3), &good, ReshareInput::Public(&public), &mut rng).is_ok());
    // t′ out of range.
    for t in [0u16, 5] {
        let params = ReshareParams { new_threshold: t, ..good.clone() };
        expect_invalid(reshare::start(cfg(0), &params, ReshareInput::Holder(&old[&p(0)]), &mut rng), "t′ out of range");
    }
    // Fewer than t old signers (the session is {0, 1, 2, 3} with O = {0}).
    let params = ReshareParams { old_signers: set(&[0]), new_parties: set(&[0, 1, 2, 3]), new_threshold: 2 };
    expect_invalid(reshare::start(cfg(0), &params, ReshareInput::Holder(&old[&p(0)]), &mut rng), "|O| < t");
    // An old signer that holds no share of the old key (3 never held one).
    let params = ReshareParams { old_signers: set(&[0, 3]), new_parties: set(&[0, 1, 2]), new_threshold: 2 };
    expect_invalid(reshare::start(cfg(0), &params, ReshareInput::Holder(&old[&p(0)]), &mut rng), "O ⊄ old parties");
    // An old signer that gives only public data, or someone else's share.
    expect_invalid(reshare::start(cfg(1), &good, ReshareInput::Public(&public), &mut rng), "signer without share");
    expect_invalid(reshare::start(cfg(1), &good, ReshareInput::Holder(&old[&p(0)]), &mut rng), "another's share");
    // Inconsistent old public data.
    let mut bad = public.clone();
    *bad.public_shares.get_mut(&p(2)).unwrap() += Secp256k1::generator();
    expect_invalid(reshare::start(cfg(3), &good, ReshareInput::Public(&bad), &mut rng), "public share changed");
    let mut bad = public.clone();
    bad.threshold = 3;
    expect_invalid(reshare::start(cfg(3), &good, ReshareInput::Public(&bad), &mut rng), "threshold changed");
    let mut bad = public.clone();
    bad.public_key += Secp256k1::generator();
    expect_invalid(reshare::start(cfg(3), &good, ReshareInput::Public(&bad), &mut rng), "public key changed");
    // The session's parties are not O ∪ N′.
    let params = ReshareParams { old_signers: set(&[0, 1]), new_parties: set(&[0, 1, 2]), new_threshold: 2 };
    expect_invalid(reshare::start(cfg(0), &params, ReshareInput::Holder(&old[&p(0)]), &mut rng), "parties ≠ O ∪ N′");
    // Not a member.
    let outsider = MachineConfig { me: p(9), ..cfg(0) };
    expect_invalid(reshare::start(outsider, &good, ReshareInput::Holder(&old[&p(0)]), &mut rng), "not a member");
}

#[test]
fn receipts_are_transferable_evidence_and_forgeries_fail() {
    let (_, sc) = scenarios().remove(0);
    let mut rng = conclave_testkit::rng(90);
    let old = dkg_keys::<Secp256k1>(sc.old_t, &sc.old_parties, &mut rng);
    let (net, out) = run_reshare(&old, &sc.params(), &mut rng, None, |s| s);
    let receipt = out.results[&p(4)].as_ref().unwrap().receipt().clone();
    assert!(receipt.verify(&net.public_keys));
    // Another party's identity keys do not verify it.
    let other = Network::new(&mut rng, sc.params().session_parties().unwrap());
    assert!(!receipt.verify(&other.public_keys));
    // A changed public share, commitment, hash, holder or a missing confirmation: rejected.
    let mut r = receipt.clone();
    *r.new_public.public_shares.get_mut(&p(3)).unwrap() += Secp256k1::generator();
    assert!(!r.verify(&net.public_keys));
    let mut r = receipt.clone();
    r.commitments.get_mut(&p(0)).unwrap()[1] += Secp256k1::generator();
    assert!(!r.verify(&net.public_keys));
    let mut r = receipt.clone();
    r.confirmation[0] ^= 1;
    assert!(!r.verify(&net.public_keys));
    let mut r = receipt.clone();
    r.holder = p(0);
    assert!(!r.verify(&net.public_keys));
    let mut r = receipt;
    r.confirmations.remove(&p(1));
    assert!(!r.verify(&net.public_keys));
}

/// The pending hand-over a node stores before confirming (issue 7's withheld confirmation):
/// it survives the store's encoding, refuses a receipt of another sharing (and gives itself
/// back), and finishes with any other party's receipt to exactly what the session would have
/// given — a new share for a new party, a retirement for a leaving one.
#[test]
fn a_pending_hand_over_finishes_from_any_partys_receipt() {
    for (idx, who, other) in [(0usize, 4u16, 3u16), (1, 0, 5)] {
        let (name, sc) = scenarios().remove(idx);
        let mut rng = conclave_testkit::rng(91 + idx as u64);
        let old = dkg_keys::<Secp256k1>(sc.old_t, &sc.old_parties, &mut rng);
        let (net, out) = run_reshare(&old, &sc.params(), &mut rng, None, |s| s);
        let mut results = out.results;
        let mine = results.remove(&p(who)).unwrap().unwrap();
        let theirs = results[&p(other)].as_ref().unwrap().receipt().clone();
        let r = mine.receipt().clone();
        let new_public = r.new_public.clone();
        let pending = PendingHandover {
            session: r.session,
            old_key_id: r.old_key_id,
            old_signers: r.old_signers.clone(),
            confirmation: r.confirmation,
            new_public: new_public.clone(),
            share: mine.into_key_share(),
        };
        assert_eq!(pending.session_parties(), sc.params().session_parties().unwrap(), "{name}");
        let shown = format!("{pending:?}");
        if let Some(share) = &pending.share {
            let secret = hex::encode(Secp256k1::encode_scalar(share.expose_secret_share().expose_secret()));
            assert!(!shown.contains(&secret), "{name}: Debug shows no secret");
        }
        // The store's encoding round-trips; every changed byte is refused or decodes to
        // something else (never silently to the same record).
        let record = pending.to_record();
        let pending = PendingHandover::<Secp256k1>::from_record(&record).unwrap();
        assert_eq!(pending.to_record().as_slice(), record.as_slice(), "{name}");
        for i in 0..record.len() {
            let mut bad = record.to_vec();
            bad[i] ^= 1;
            if let Ok(p) = PendingHandover::<Secp256k1>::from_record(&bad) {
                assert_ne!(p.to_record().as_slice(), record.as_slice());
            }
        }
        assert!(PendingHandover::<Secp256k1>::from_record(&record[..record.len() - 1]).is_err());
        assert!(PendingHandover::<conclave_math::P256>::from_record(&record).is_err(), "wrong curve");
        // The receipt's wire encoding round-trips.
        let theirs = HandoverReceipt::<Secp256k1>::from_bytes(&theirs.to_bytes()).unwrap();
        assert_eq!(theirs.holder, p(other));
        assert!(HandoverReceipt::<Secp256k1>::from_bytes(&theirs.to_bytes()[1..]).is_err());
        // A receipt that does not verify, or is for another sharing, is refused.
        let mut forged = theirs.clone();
        forged.confirmation[0] ^= 1;
        let pending = *pending.complete(forged, &net.public_keys).unwrap_err();
        let foreign = Network::new(&mut rng, sc.params().session_parties().unwrap());
        let pending = *pending.complete(theirs.clone(), &foreign.public_keys).unwrap_err();
        // The other party's receipt finishes it.
        match (pending.complete(theirs, &net.public_keys).unwrap(), sc.new_parties.contains(&who)) {
            (reshare::ReshareOutput::Share(share, _), true) => {
                assert_eq!(share.public(), &new_public);
                assert_eq!(share.me(), p(who));
                assert_eq!(new_public.public_shares[&p(who)], share.expose_secret_share().public_point());
            }
            (reshare::ReshareOutput::Retired(receipt), false) => assert_eq!(receipt.holder, p(other)),
            (o, stays) => panic!("{name}: party {who} (stays: {stays}) got {o:?}"),
        }
    }
}
