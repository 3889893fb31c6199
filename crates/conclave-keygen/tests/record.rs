//! At-rest encodings of key shares, public key shares and aux info: round trips on every
//! curve, every tampered byte of a key share refused, inconsistent fields refused, decoders
//! never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::run_dkg;
use conclave_keygen::record::{write_header, write_party_points, PUBLIC_KEY_SHARE_RECORD};
use conclave_keygen::{AuxError, AuxInfo, KeyShare, PartyAux, PublicKeyShare, RecordError};
use conclave_math::codec::Writer;
use conclave_math::{Curve, CurveId, DecodeError, Ed25519, Secp256k1, Transcript, P256};
use conclave_paillier::{generate_ring_pedersen, DecryptionKey, Integer, PaillierError};
use conclave_protocol::PartyIndex;
use proptest::prelude::*;

fn shares<C: Curve>(t: u16, n: u16, salt: u64) -> BTreeMap<PartyIndex, KeyShare<C>> {
    let (_, out) = run_dkg::<C>(t, n, salt, None, |s| s);
    out.results.into_iter().map(|(p, r)| (p, r.unwrap())).collect()
}

fn round_trip<C: Curve>(t: u16, n: u16, salt: u64) {
    for (p, share) in shares::<C>(t, n, salt) {
        let rec = share.to_record();
        let back = KeyShare::<C>::from_record(&rec).unwrap();
        assert_eq!(back.me(), p);
        assert_eq!(back.key_id(), share.key_id());
        assert_eq!(back.public(), share.public());
        assert_eq!(back.expose_secret_share(), share.expose_secret_share());
        assert_eq!(back.to_record(), rec, "the encoding is canonical");
        let public = share.public().to_record();
        assert_eq!(&PublicKeyShare::<C>::from_record(&public).unwrap(), share.public());
        // The secret is not in the public record; it is in the key-share record.
        let secret = C::encode_scalar(share.expose_secret_share().expose_secret());
        assert!(!public.windows(secret.len()).any(|w| w == secret.as_slice()));
        assert!(rec.windows(secret.len()).any(|w| w == secret.as_slice()));
    }
}

#[test]
fn key_shares_round_trip_on_every_curve() {
    round_trip::<Secp256k1>(2, 3, 1);
    round_trip::<P256>(2, 3, 2);
    round_trip::<Ed25519>(2, 3, 3);
    round_trip::<Secp256k1>(3, 5, 4);
    round_trip::<Ed25519>(3, 3, 5);
    round_trip::<P256>(1, 2, 6);
}

#[test]
fn wrong_curve_and_wrong_type_are_refused() {
    let share = shares::<Secp256k1>(2, 3, 7).remove(&PartyIndex(0)).unwrap();
    let rec = share.to_record();
    assert_eq!(
        KeyShare::<P256>::from_record(&rec).unwrap_err(),
        RecordError::WrongCurve { expected: CurveId::P256, found: 1 }
    );
    assert!(matches!(KeyShare::<Ed25519>::from_record(&rec), Err(RecordError::WrongCurve { .. })));
    assert!(matches!(PublicKeyShare::<Secp256k1>::from_record(&rec), Err(RecordError::WrongType { found: 1, .. })));
    let public = share.public().to_record();
    assert!(matches!(KeyShare::<Secp256k1>::from_record(&public), Err(RecordError::WrongType { found: 3, .. })));
    let mut future = rec.to_vec();
    future[1] = 2;
    assert_eq!(KeyShare::<Secp256k1>::from_record(&future).unwrap_err(), RecordError::UnsupportedVersion { found: 2 });
    assert!(matches!(AuxInfo::from_record(&rec), Err(RecordError::WrongType { found: 1, .. })));
}

fn every_tamper_refused<C: Curve>(salt: u64) {
    let share = shares::<C>(2, 3, salt).remove(&PartyIndex(1)).unwrap();
    let rec = share.to_record();
    for i in 0..rec.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bad = rec.to_vec();
            bad[i] ^= mask;
            assert!(KeyShare::<C>::from_record(&bad).is_err(), "{}: byte {i} ^ {mask:#x} accepted", C::ID);
        }
    }
    for len in 0..rec.len() {
        assert!(KeyShare::<C>::from_record(&rec[..len]).is_err(), "truncated to {len}");
    }
    let mut longer = rec.to_vec();
    longer.push(0);
    assert_eq!(KeyShare::<C>::from_record(&longer).unwrap_err(), RecordError::Malformed(DecodeError::TrailingBytes(1)));
}

#[test]
fn every_tampered_byte_of_a_key_share_is_refused() {
    every_tamper_refused::<Secp256k1>(8);
    every_tamper_refused::<P256>(9);
    every_tamper_refused::<Ed25519>(10);
}

#[test]
fn another_partys_index_is_refused() {
    let share = shares::<Secp256k1>(2, 3, 11).remove(&PartyIndex(0)).unwrap();
    let rec = share.to_record();
    let me_at = rec.len() - 32 - 2;
    assert_eq!(&rec[me_at..me_at + 2], &[0, 0]);
    let mut other = rec.to_vec();
    other[me_at + 1] = 2;
    assert_eq!(
        KeyShare::<Secp256k1>::from_record(&other).unwrap_err(),
        RecordError::Inconsistent("the secret share does not match our public share")
    );
    other[me_at + 1] = 9;
    assert_eq!(
        KeyShare::<Secp256k1>::from_record(&other).unwrap_err(),
        RecordError::Inconsistent("our index is not among the parties")
    );
    // The error never shows the secret.
    let secret = hex::encode(Secp256k1::encode_scalar(share.expose_secret_share().expose_secret()));
    let e = KeyShare::<Secp256k1>::from_record(&other).unwrap_err();
    assert!(!format!("{e} {e:?}").contains(&secret[..16]));
}

/// The key id as `conclave-keygen` computes it (replicated here so the test can forge records
/// whose key id is right but whose shares are not).
fn key_id<C: Curve>(
    threshold: u16,
    parties: &[u16],
    shares: &[C::Point],
    public_key: &C::Point,
    chain_code: &[u8; 32],
) -> [u8; 32] {
    let mut t = Transcript::new("conclave/key-id/v1");
    t.append_u64("curve", u64::from(C::ID.tag()));
    t.append_u64("threshold", u64::from(threshold));
    let idx: Vec<u8> = parties.iter().flat_map(|p| p.to_be_bytes()).collect();
    t.append_bytes("parties", &idx);
    t.append_points::<C>("public shares", shares);
    t.append_point::<C>("public key", public_key);
    t.append_bytes("chain code", chain_code);
    t.digest("key id")
}

fn forged_public<C: Curve>(
    public: &PublicKeyShare<C>,
    shares: BTreeMap<PartyIndex, C::Point>,
    threshold: u16,
) -> Vec<u8> {
    let parties = public.parties.to_u16s();
    let points: Vec<C::Point> = shares.values().copied().collect();
    let id = key_id::<C>(threshold, &parties, &points, &public.public_key, &public.chain_code);
    let mut w = Writer::new();
    write_header(&mut w, PUBLIC_KEY_SHARE_RECORD, Some(C::ID));
    w.u16(threshold).put(&public.parties);
    write_party_points::<C>(&mut w, &shares);
    w.point::<C>(&public.public_key).fixed(&public.chain_code).fixed(&id);
    w.into_bytes()
}

fn inconsistent_shares_refused<C: Curve>(salt: u64) {
    let share = shares::<C>(2, 4, salt).remove(&PartyIndex(0)).unwrap();
    let public = share.public();
    // Sanity: the forging helper reproduces the honest record.
    assert_eq!(forged_public::<C>(public, public.public_shares.clone(), 2), public.to_record());
    // One share moved off the polynomial, with a matching key id.
    let mut shares = public.public_shares.clone();
    let x3 = shares[&PartyIndex(3)];
    shares.insert(PartyIndex(3), x3 + C::generator());
    assert_eq!(
        PublicKeyShare::<C>::from_record(&forged_public::<C>(public, shares, 2)).unwrap_err(),
        RecordError::Inconsistent("public shares do not interpolate to the public key")
    );
    // A claimed threshold lower than the polynomial's degree.
    assert_eq!(
        PublicKeyShare::<C>::from_record(&forged_public::<C>(public, public.public_shares.clone(), 1)).unwrap_err(),
        RecordError::Inconsistent("public shares do not interpolate to the public key")
    );
    // Thresholds 0 and n + 1.
    for t in [0, 5] {
        assert_eq!(
            PublicKeyShare::<C>::from_record(&forged_public::<C>(public, public.public_shares.clone(), t)).unwrap_err(),
            RecordError::Inconsistent("threshold outside 1..=n")
        );
    }
    // A higher threshold is consistent with the same shares (a degree-1 polynomial is also of
    // degree at most 2): accepted, as the key id binds it.
    assert!(PublicKeyShare::<C>::from_record(&forged_public::<C>(public, public.public_shares.clone(), 3)).is_ok());
    // Shares keyed by other parties than the party set.
    let mut shifted = public.public_shares.clone();
    let last = shifted.remove(&PartyIndex(3)).unwrap();
    shifted.insert(PartyIndex(7), last);
    assert_eq!(
        PublicKeyShare::<C>::from_record(&forged_public::<C>(public, shifted, 2)).unwrap_err(),
        RecordError::Inconsistent("points are not keyed by exactly the parties")
    );
}

#[test]
fn inconsistent_public_shares_are_refused() {
    inconsistent_shares_refused::<Secp256k1>(12);
    inconsistent_shares_refused::<Ed25519>(13);
}

/// Trusted-set-up aux info for parties 0..n from the fixture primes (ring-Pedersen generation
/// is the slow part: built once).
fn aux_infos(n: u16) -> BTreeMap<PartyIndex, AuxInfo> {
    static PUBLIC: OnceLock<Vec<(Integer, Integer, PartyAux)>> = OnceLock::new();
    let all = PUBLIC.get_or_init(|| {
        let mut rng = conclave_testkit::rng(0x5eed);
        conclave_testkit::safe_prime_pairs()
            .into_iter()
            .take(4)
            .map(|(p, q)| {
                let p = Integer::from_str_radix(&p, 16).unwrap();
                let q = Integer::from_str_radix(&q, 16).unwrap();
                let dk = DecryptionKey::from_safe_primes(p.clone(), q.clone()).unwrap();
                let (rp, _) = generate_ring_pedersen(&mut rng, &dk).unwrap();
                (p, q, PartyAux { ek: dk.encryption_key().clone(), rp })
            })
            .collect()
    });
    let publics: BTreeMap<PartyIndex, PartyAux> =
        (0..n).map(|i| (PartyIndex(i), all[usize::from(i)].2.clone())).collect();
    (0..n)
        .map(|i| {
            let (p, q, _) = &all[usize::from(i)];
            let dk = DecryptionKey::from_safe_primes(p.clone(), q.clone()).unwrap();
            (PartyIndex(i), AuxInfo::new(PartyIndex(i), dk, publics.clone()).unwrap())
        })
        .collect()
}

#[test]
fn aux_info_round_trips() {
    for (p, aux) in aux_infos(3) {
        let rec = aux.to_record();
        let back = AuxInfo::from_record(&rec).unwrap();
        assert_eq!(back.me(), p);
        assert_eq!(back.parties(), aux.parties());
        assert_eq!(back.decryption_key().encryption_key(), aux.decryption_key().encryption_key());
        assert_eq!(back.decryption_key().expose_primes(), aux.decryption_key().expose_primes());
        assert_eq!(back.to_record(), rec, "the encoding is canonical");
    }
}

#[test]
fn tampered_aux_info_is_refused() {
    let infos = aux_infos(3);
    let rec = infos[&PartyIndex(0)].to_record();
    let other = infos[&PartyIndex(1)].to_record();
    // Header, our index, the party count.
    for (i, mask) in [(0usize, 1u8), (1, 1), (3, 1), (3, 2), (7, 1)] {
        let mut bad = rec.to_vec();
        bad[i] ^= mask;
        assert!(AuxInfo::from_record(&bad).is_err(), "byte {i}");
    }
    // Party 1's primes grafted onto party 0's public data: our modulus does not match.
    let primes_at = |r: &[u8]| {
        // Both primes are 1536-bit: two length-prefixed 384-digit hex strings at the end.
        r.len() - 2 * (4 + 384)
    };
    let mut grafted = rec[..primes_at(&rec)].to_vec();
    grafted.extend_from_slice(&other[primes_at(&other)..]);
    assert_eq!(AuxInfo::from_record(&grafted).unwrap_err(), RecordError::Aux(AuxError::OwnEntryMismatch));
    // A changed digit of a prime: not a safe prime any more.
    let mut bad = rec.to_vec();
    let digit = primes_at(&rec) + 4 + 200;
    bad[digit] = if bad[digit] == b'1' { b'3' } else { b'1' };
    assert_eq!(AuxInfo::from_record(&bad).unwrap_err(), RecordError::Paillier(PaillierError::NotSafePrime));
    // Upper-case or zero-padded hex is not canonical.
    let mut upper = rec.to_vec();
    let first_hex = primes_at(&rec) + 4;
    upper[first_hex] = upper[first_hex].to_ascii_uppercase();
    if upper[first_hex] != rec[first_hex] {
        assert!(matches!(AuxInfo::from_record(&upper), Err(RecordError::Malformed(_))));
    }
    // Our own entry's modulus changed: refused (not the product of our primes, or malformed).
    let mut bad_n = rec.to_vec();
    bad_n[2 + 2 + 4 + 2 + 4 + 100] ^= 0x10;
    assert!(AuxInfo::from_record(&bad_n).is_err());
    for len in (0..rec.len()).step_by(97) {
        assert!(AuxInfo::from_record(&rec[..len]).is_err(), "truncated to {len}");
    }
    let mut longer = rec.to_vec();
    longer.push(b'0');
    assert!(AuxInfo::from_record(&longer).is_err());
}

fn mutate(bytes: &[u8], flips: &[(usize, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (pos, mask) in flips {
        let i = pos % out.len();
        out[i] ^= mask;
    }
    out
}

fn sample_records() -> &'static (Vec<u8>, Vec<u8>, Vec<u8>) {
    static R: OnceLock<(Vec<u8>, Vec<u8>, Vec<u8>)> = OnceLock::new();
    R.get_or_init(|| {
        let k = shares::<Secp256k1>(2, 3, 14).remove(&PartyIndex(2)).unwrap();
        let e = shares::<Ed25519>(2, 3, 15).remove(&PartyIndex(2)).unwrap();
        (k.to_record().to_vec(), e.to_record().to_vec(), k.public().to_record())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = KeyShare::<Secp256k1>::from_record(&bytes);
        let _ = KeyShare::<P256>::from_record(&bytes);
        let _ = KeyShare::<Ed25519>::from_record(&bytes);
        let _ = PublicKeyShare::<Secp256k1>::from_record(&bytes);
        let _ = AuxInfo::from_record(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_mutated_records(flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..4)) {
        let (k1, ed, public) = sample_records();
        // (Flips that cancel each other give back the valid record.)
        let m = mutate(k1, &flips);
        prop_assert!(m == *k1 || KeyShare::<Secp256k1>::from_record(&m).is_err());
        let m = mutate(ed, &flips);
        prop_assert!(m == *ed || KeyShare::<Ed25519>::from_record(&m).is_err());
        let _ = PublicKeyShare::<Secp256k1>::from_record(&mutate(public, &flips));
    }

    #[test]
    fn decoders_never_panic_with_valid_headers(body in proptest::collection::vec(any::<u8>(), 0..300), tag in 1u8..=4) {
        let mut bytes = vec![tag, 1, 1];
        bytes.extend_from_slice(&body);
        let _ = KeyShare::<Secp256k1>::from_record(&bytes);
        let _ = PublicKeyShare::<Secp256k1>::from_record(&bytes);
        let mut aux = vec![2, 1];
        aux.extend_from_slice(&body);
        let _ = AuxInfo::from_record(&aux);
    }
}
