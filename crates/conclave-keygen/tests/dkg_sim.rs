//! Honest DKG simulations for several (t, n) on every curve: all parties agree on the key,
//! every t shares reconstruct it, t − 1 shares do not.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::run_dkg;
use conclave_keygen::KeyShare;
use conclave_math::{Curve, Ed25519, Secp256k1, SecretScalar, P256};
use conclave_protocol::PartyIndex;
use conclave_testkit::reconstruct_secret;

/// All subsets of `items` of size `k` (at most `limit` of them, in lexicographic order).
fn subsets(items: &[PartyIndex], k: usize, limit: usize) -> Vec<Vec<PartyIndex>> {
    fn go(
        items: &[PartyIndex],
        k: usize,
        start: usize,
        cur: &mut Vec<PartyIndex>,
        out: &mut Vec<Vec<PartyIndex>>,
        limit: usize,
    ) {
        if out.len() >= limit {
            return;
        }
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..items.len() {
            cur.push(items[i]);
            go(items, k, i + 1, cur, out, limit);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    go(items, k, 0, &mut Vec::new(), &mut out, limit);
    out
}

fn honest_dkg<C: Curve>(t: u16, n: u16) {
    let (_, outcome) = run_dkg::<C>(t, n, u64::from(t) * 100 + u64::from(n), None, |s| s);
    let shares: Vec<KeyShare<C>> =
        outcome.results.into_values().map(|r| r.unwrap_or_else(|e| panic!("({t},{n}) on {}: {e}", C::ID))).collect();
    assert_eq!(shares.len(), usize::from(n));
    let first = &shares[0];
    for s in &shares {
        assert_eq!(s.public(), first.public(), "every party holds the same public data");
        assert_eq!(s.threshold(), t);
        assert_eq!(s.public().public_shares[&s.me()], s.expose_secret_share().public_point());
    }
    let y = first.public_key();
    let by_party: Vec<(PartyIndex, &SecretScalar<C>)> =
        shares.iter().map(|s| (s.me(), s.expose_secret_share())).collect();
    let parties: Vec<PartyIndex> = by_party.iter().map(|(p, _)| *p).collect();
    // Any t shares give the group key.
    for subset in subsets(&parties, usize::from(t), 40) {
        let chosen: Vec<_> = by_party.iter().filter(|(p, _)| subset.contains(p)).map(|(p, s)| (*p, *s)).collect();
        assert_eq!(reconstruct_secret::<C>(&chosen).public_point(), y, "subset {subset:?}");
    }
    // t − 1 shares do not.
    if t > 1 {
        for subset in subsets(&parties, usize::from(t - 1), 40) {
            let chosen: Vec<_> = by_party.iter().filter(|(p, _)| subset.contains(p)).map(|(p, s)| (*p, *s)).collect();
            assert_ne!(reconstruct_secret::<C>(&chosen).public_point(), y, "subset {subset:?}");
        }
    }
}

const CASES: [(u16, u16); 5] = [(1, 1), (2, 2), (2, 3), (3, 5), (5, 9)];

#[test]
fn dkg_secp256k1() {
    for (t, n) in CASES {
        honest_dkg::<Secp256k1>(t, n);
    }
}

#[test]
fn dkg_p256() {
    for (t, n) in CASES {
        honest_dkg::<P256>(t, n);
    }
}

#[test]
fn dkg_ed25519() {
    for (t, n) in CASES {
        honest_dkg::<Ed25519>(t, n);
    }
}

#[test]
fn one_of_three_gives_everyone_the_key() {
    honest_dkg::<Secp256k1>(1, 3);
}

#[test]
fn key_share_debug_shows_no_secret() {
    let (_, outcome) = run_dkg::<Secp256k1>(2, 3, 7, None, |s| s);
    for r in outcome.results.into_values() {
        let share = r.unwrap();
        let secret_hex = hex::encode(Secp256k1::encode_scalar(share.expose_secret_share().expose_secret()));
        let shown = format!("{share:?} {share:#?}");
        assert!(!shown.contains(&secret_hex), "{shown}");
        assert!(shown.contains("REDACTED"));
    }
}

#[test]
fn invalid_thresholds_are_the_callers_fault() {
    let mut rng = conclave_testkit::rng(1);
    let net = conclave_protocol::sim::Network::new(&mut rng, conclave_protocol::PartySet::range(3).unwrap());
    for t in [0u16, 4] {
        let err =
            conclave_keygen::dkg::start::<Secp256k1>(net.config(PartyIndex(0)).unwrap(), t, &mut rng).unwrap_err();
        assert!(matches!(err, conclave_keygen::KeygenError::InvalidInput(_)), "{err}");
    }
    // Not a member of the party set.
    let err = conclave_keygen::dkg::start::<Secp256k1>(
        conclave_protocol::MachineConfig { me: PartyIndex(9), ..net.config(PartyIndex(0)).unwrap() },
        2,
        &mut rng,
    )
    .unwrap_err();
    assert!(matches!(err, conclave_keygen::KeygenError::InvalidInput(_)), "{err}");
}
