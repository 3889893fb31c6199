//! The at-rest encoding of presignatures: presignatures made by a simulated presigning run
//! survive `into_record` / `from_record` (directly, and through the encrypted store's
//! single-use `take`) and still produce verifying signatures; tampered or foreign records are
//! refused; the decoder never panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::{aux_infos, keygen, signer_network};
use conclave_ecdsa::hd::{derive, DerivationPath};
use conclave_ecdsa::presign::{self, ThresholdCurve};
use conclave_ecdsa::{sign, HashName, Presignature, RecordError, SignedData};
use conclave_math::{Curve, CurveId, Secp256k1, P256};
use conclave_protocol::sim::{Network, Simulation};
use conclave_protocol::{PartyIndex, SessionId};
use conclave_store::{MasterKey, RecordKind, RedbStore, Store};
use proptest::prelude::*;
use rand_core::RngCore;

struct Run<C: ThresholdCurve> {
    presigs: BTreeMap<PartyIndex, Presignature<C>>,
    net: Network,
    rng: rand_chacha::ChaCha20Rng,
    expected_key: C::Point,
}

fn presign<C: ThresholdCurve>(t: u16, n: u16, signers: &[u16], path: &str, salt: u64) -> Run<C> {
    let keys = keygen::<C>(t, n, salt);
    let aux = aux_infos(n);
    let path: DerivationPath = path.parse().unwrap();
    let (net, mut rng) = signer_network(signers, salt + 1);
    let machines: BTreeMap<_, _> = net
        .parties
        .iter()
        .map(|p| (p, presign::start::<C>(net.config(p).unwrap(), &keys[&p], aux[&p].clone(), &path, &mut rng).unwrap()))
        .collect();
    let out = Simulation::new(net.clone(), machines, rng.next_u64()).run();
    let presigs = out.results.into_iter().map(|(p, r)| (p, r.unwrap())).collect();
    let first = &keys[&PartyIndex(signers[0])];
    let expected_key = derive::<C>(&first.public_key(), &first.public().chain_code, &path).unwrap().public_key;
    Run { presigs, net, rng, expected_key }
}

fn sign_all<C: ThresholdCurve>(
    presigs: BTreeMap<PartyIndex, Presignature<C>>,
    net: &Network,
    rng: &mut rand_chacha::ChaCha20Rng,
    expected_key: &C::Point,
) {
    let data = SignedData::Message { hash: HashName::Sha256, message: b"signed after a round trip at rest".to_vec() };
    let net2 = net.in_session(SessionId::random(rng));
    let machines: BTreeMap<_, _> = presigs
        .into_iter()
        .map(|(p, ps)| (p, sign::start::<C>(net2.config(p).unwrap(), ps, &data, rng).unwrap()))
        .collect();
    let out = Simulation::new(net2, machines, rng.next_u64()).run();
    for (p, r) in out.results {
        let s = r.unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(s.public_key, *expected_key);
        assert!(s.signature.verify(expected_key, &data.digest()));
    }
}

fn round_trip_then_sign<C: ThresholdCurve>(t: u16, n: u16, signers: &[u16], path: &str, salt: u64) {
    let Run { presigs, net, mut rng, expected_key } = presign::<C>(t, n, signers, path, salt);
    let mut restored = BTreeMap::new();
    for (p, ps) in presigs {
        let (session, key_id, set, path, public_key) =
            (ps.session(), ps.key_id(), ps.signers().clone(), ps.path().clone(), ps.public_key());
        let rec = ps.into_record();
        let back = Presignature::<C>::from_record(&rec).unwrap();
        assert_eq!(back.session(), session);
        assert_eq!(back.key_id(), key_id);
        assert_eq!(back.signers(), &set);
        assert_eq!(back.path(), &path);
        assert_eq!(back.public_key(), public_key);
        let again = Presignature::<C>::from_record(&rec).unwrap();
        assert_eq!(again.into_record(), rec, "the encoding is canonical");
        restored.insert(p, back);
    }
    sign_all(restored, &net, &mut rng, &expected_key);
}

#[test]
fn secp256k1_presignatures_survive_the_record_and_sign() {
    round_trip_then_sign::<Secp256k1>(2, 3, &[0, 2], "m/7/3", 100);
}

#[test]
fn p256_presignatures_survive_the_record_and_sign() {
    round_trip_then_sign::<P256>(2, 3, &[1, 2], "m", 110);
}

#[test]
fn presignatures_through_the_store_are_single_use() {
    let Run { presigs, net, mut rng, expected_key } = presign::<Secp256k1>(2, 3, &[0, 1], "m/1", 120);
    let dir = tempfile::tempdir().unwrap();
    let mut stores = BTreeMap::new();
    for (p, ps) in presigs {
        let key = MasterKey::generate(&mut rng);
        let owner = format!("node {}", p.0);
        let path = dir.path().join(format!("node-{}.redb", p.0));
        let store = RedbStore::open(&path, &key, owner.as_bytes()).unwrap();
        let id = ps.session().0;
        store.insert(RecordKind::Presignature, &id, &ps.into_record()).unwrap();
        drop(store);
        stores.insert(p, (path, key, owner, id));
    }
    let mut taken = BTreeMap::new();
    for (p, (path, key, owner, id)) in &stores {
        let store = RedbStore::open(path, key, owner.as_bytes()).unwrap();
        let rec = store.take(RecordKind::Presignature, id).unwrap().unwrap();
        assert!(store.take(RecordKind::Presignature, id).unwrap().is_none(), "second take");
        taken.insert(*p, Presignature::<Secp256k1>::from_record(&rec).unwrap());
    }
    sign_all(taken, &net, &mut rng, &expected_key);
    for (path, key, owner, id) in stores.values() {
        let store = RedbStore::open(path, key, owner.as_bytes()).unwrap();
        assert!(store.take(RecordKind::Presignature, id).unwrap().is_none(), "taken once, even after reopening");
    }
}

/// One secp256k1 record with signers {0, 2} and path m/7/3, made once per test binary.
fn sample() -> &'static (Vec<u8>, Vec<u8>) {
    static S: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    S.get_or_init(|| {
        let Run { mut presigs, .. } = presign::<Secp256k1>(2, 3, &[0, 2], "m/7/3", 130);
        let a = presigs.remove(&PartyIndex(0)).unwrap().into_record().to_vec();
        let b = presigs.remove(&PartyIndex(2)).unwrap().into_record().to_vec();
        (a, b)
    })
}

/// Offsets in the sample record (secp256k1, two signers, a path of depth 2).
struct Layout {
    me: usize,
    gamma: usize,
    deltas: usize,
    s: usize,
    secrets: usize,
}

fn layout() -> Layout {
    let point = Secp256k1::POINT_LEN;
    let header = 3;
    let signers = 4 + 2 * 2;
    let me = header + 32 + 32 + signers;
    let path = 4 + 4 * 2;
    let gamma = me + 2 + path + 2 * point;
    let deltas = gamma + point;
    let s = deltas + 4 + 2 * (2 + point);
    let secrets = s + 4 + 2 * (2 + point);
    Layout { me, gamma, deltas, s, secrets }
}

#[test]
fn tampered_and_foreign_records_are_refused() {
    let (rec, other) = sample();
    let l = layout();
    assert_eq!(rec.len(), l.secrets + 64);
    assert_eq!(&rec[l.me..l.me + 2], &[0, 0]);
    assert!(Presignature::<Secp256k1>::from_record(rec).is_ok());
    // Another curve, another record type, another version.
    assert_eq!(
        Presignature::<P256>::from_record(rec).unwrap_err(),
        RecordError::WrongCurve { expected: CurveId::P256, found: 1 }
    );
    let mut bad = rec.clone();
    bad[0] = 1;
    assert!(matches!(Presignature::<Secp256k1>::from_record(&bad), Err(RecordError::WrongType { found: 1, .. })));
    let mut bad = rec.clone();
    bad[1] = 9;
    assert_eq!(Presignature::<Secp256k1>::from_record(&bad).unwrap_err(), RecordError::UnsupportedVersion { found: 9 });
    // Every flip in Γ, in our own Δ and S, and in the secrets is refused.
    let own_delta = l.deltas + 4 + 2..l.deltas + 4 + 2 + 33;
    let own_s = l.s + 4 + 2..l.s + 4 + 2 + 33;
    for i in (l.gamma..l.gamma + 33).chain(own_delta).chain(own_s).chain(l.secrets..rec.len()) {
        for mask in [0x01u8, 0x80] {
            let mut bad = rec.clone();
            bad[i] ^= mask;
            assert!(Presignature::<Secp256k1>::from_record(&bad).is_err(), "byte {i} ^ {mask:#x} accepted");
        }
    }
    // Our index changed to the other signer's: our secrets do not match its Δ and S.
    let mut bad = rec.clone();
    bad[l.me + 1] = 2;
    assert_eq!(
        Presignature::<Secp256k1>::from_record(&bad).unwrap_err(),
        RecordError::Inconsistent("k·Γ does not match our Δ")
    );
    bad[l.me + 1] = 1;
    assert_eq!(
        Presignature::<Secp256k1>::from_record(&bad).unwrap_err(),
        RecordError::Inconsistent("our index is not among the signers")
    );
    // Party 2's secrets grafted onto party 0's record.
    let mut grafted = rec[..l.secrets].to_vec();
    grafted.extend_from_slice(&other[l.secrets..]);
    assert!(matches!(Presignature::<Secp256k1>::from_record(&grafted), Err(RecordError::Inconsistent(_))));
    // A hardened path index.
    let mut bad = rec.clone();
    bad[l.me + 2 + 4] |= 0x80;
    assert_eq!(Presignature::<Secp256k1>::from_record(&bad).unwrap_err(), RecordError::Inconsistent("derivation path"));
    // Truncated or extended.
    for len in 0..rec.len() {
        assert!(Presignature::<Secp256k1>::from_record(&rec[..len]).is_err(), "truncated to {len}");
    }
    let mut longer = rec.clone();
    longer.push(0);
    assert!(matches!(Presignature::<Secp256k1>::from_record(&longer), Err(RecordError::Malformed(_))));
    // No error message shows the secrets.
    let secret_hex = hex::encode(&rec[l.secrets..l.secrets + 16]);
    for i in [l.secrets, l.me + 1, 0] {
        let mut bad = rec.clone();
        bad[i] ^= 1;
        if let Err(e) = Presignature::<Secp256k1>::from_record(&bad) {
            assert!(!format!("{e} {e:?}").contains(&secret_hex));
        }
    }
}

#[test]
fn every_single_byte_flip_is_handled() {
    let (rec, _) = sample();
    for i in 0..rec.len() {
        let mut bad = rec.clone();
        bad[i] ^= 0x04;
        // Public fields the decoder cannot check (session, key id, R, others' Δ and S) may
        // decode; the store's AEAD protects them at rest. Nothing panics.
        let _ = Presignature::<Secp256k1>::from_record(&bad);
    }
}

proptest! {
    #[test]
    fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..500)) {
        let _ = Presignature::<Secp256k1>::from_record(&bytes);
        let _ = Presignature::<P256>::from_record(&bytes);
    }

    #[test]
    fn decoder_never_panics_on_mutations(flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..5)) {
        let (rec, _) = sample();
        let mut bad = rec.clone();
        for (pos, mask) in &flips {
            let i = pos % bad.len();
            bad[i] ^= mask;
        }
        let _ = Presignature::<Secp256k1>::from_record(&bad);
    }
}
