//! Issue 7 on the ECDSA curves: the reshare scenarios — (2,3)→(3,5), (3,5)→(2,3),
//! (2,3)→(2,3) with one party replaced, and a refresh — on secp256k1 and P-256, each followed
//! by a real threshold ECDSA signature (CGGMP24 presign + sign) by `t′` parties of the new
//! group under the unchanged public key, checked by RustCrypto's verifier on the public key
//! the old group had. The auxiliary data is the tests' trusted set-up over parties `0..6`
//! (the reshare does not change it; a node runs aux-info for a new party set separately).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;

use common::{aux_infos, keygen};
use conclave_ecdsa::hd::DerivationPath;
use conclave_ecdsa::presign::{self, ThresholdCurve};
use conclave_ecdsa::{sign, HashName, SignedData};
use conclave_keygen::reshare::{self, ReshareInput, ReshareOutput, ReshareParams};
use conclave_keygen::KeyShare;
use conclave_math::{Secp256k1, P256};
use conclave_protocol::sim::{Network, Simulation};
use conclave_protocol::{PartyIndex, PartySet, SessionId};
use rand_core::RngCore;

fn set(v: &[u16]) -> PartySet {
    PartySet::new(v.iter().map(|i| PartyIndex(*i))).unwrap()
}

/// (name, old t, old n, old signers, new t, new parties).
type Scenario = (&'static str, u16, u16, &'static [u16], u16, &'static [u16]);

const SCENARIOS: [Scenario; 4] = [
    ("(2,3)→(3,5)", 2, 3, &[0, 2], 3, &[0, 1, 2, 3, 4]),
    ("(3,5)→(2,3)", 3, 5, &[0, 1, 2], 2, &[1, 3, 5]),
    ("(2,3)→(2,3), party 1 replaced by 3", 2, 3, &[0, 2], 2, &[0, 2, 3]),
    ("refresh (2,3)", 2, 3, &[0, 1, 2], 2, &[0, 1, 2]),
];

/// Reshares `old` with `params` in the simulator; the new group's shares.
fn reshare<C: ThresholdCurve>(
    old: &BTreeMap<PartyIndex, KeyShare<C>>,
    params: &ReshareParams,
    salt: u64,
) -> BTreeMap<PartyIndex, KeyShare<C>> {
    let mut rng = conclave_testkit::rng(salt);
    let net = Network::new(&mut rng, params.session_parties().unwrap());
    let public = old.values().next().unwrap().public().clone();
    let machines = net
        .parties
        .iter()
        .map(|q| {
            let input = match old.get(&q) {
                Some(k) => ReshareInput::Holder(k),
                None => ReshareInput::Public(&public),
            };
            (q, reshare::start::<C>(net.config(q).unwrap(), params, input, &mut rng).unwrap())
        })
        .collect();
    let out = Simulation::new(net.clone(), machines, rng.next_u64()).run();
    let mut shares = BTreeMap::new();
    for (q, r) in out.results {
        let r = r.unwrap_or_else(|e| panic!("reshare: {q} failed: {e}"));
        assert!(r.receipt().verify(&net.public_keys));
        if let ReshareOutput::Share(k, _) = r {
            shares.insert(q, k);
        }
    }
    assert_eq!(shares.keys().copied().collect::<Vec<_>>(), params.new_parties.iter().collect::<Vec<_>>());
    shares
}

/// Presigns and signs among `signers` with their `keys`; every signer's signature verifies
/// under `expected` (the old group's public key).
fn ecdsa_signs<C: ThresholdCurve>(
    keys: &BTreeMap<PartyIndex, KeyShare<C>>,
    signers: &[PartyIndex],
    expected: &C::Point,
    salt: u64,
) {
    let aux = aux_infos(6);
    let mut rng = conclave_testkit::rng(salt);
    let net = Network::new(&mut rng, PartySet::new(signers.iter().copied()).unwrap());
    let root = DerivationPath::root();
    let machines: BTreeMap<_, _> = net
        .parties
        .iter()
        .map(|p| (p, presign::start::<C>(net.config(p).unwrap(), &keys[&p], aux[&p].clone(), &root, &mut rng).unwrap()))
        .collect();
    let out = Simulation::new(net.clone(), machines, rng.next_u64()).run();
    let presigs: BTreeMap<_, _> = out.results.into_iter().map(|(p, r)| (p, r.unwrap())).collect();
    let data = SignedData::Message { hash: HashName::Sha256, message: b"signed by the new group".to_vec() };
    let net2 = net.in_session(SessionId::random(&mut rng));
    let machines: BTreeMap<_, _> = presigs
        .into_iter()
        .map(|(p, ps)| (p, sign::start::<C>(net2.config(p).unwrap(), ps, &data, &mut rng).unwrap()))
        .collect();
    for (p, r) in Simulation::new(net2, machines, rng.next_u64()).run().results {
        let s = r.unwrap_or_else(|e| panic!("signer {p}: {e}"));
        assert_eq!(&s.public_key, expected, "the unchanged public key");
        assert!(s.signature.verify(expected, &data.digest()), "signer {p}'s signature verifies");
    }
}

fn every_scenario<C: ThresholdCurve>(salt: u64) {
    for (i, (name, old_t, old_n, old_signers, new_t, new_parties)) in SCENARIOS.into_iter().enumerate() {
        let salt = salt + 10 * i as u64;
        let old = keygen::<C>(old_t, old_n, salt);
        let y = old.values().next().unwrap().public_key();
        let params =
            ReshareParams { old_signers: set(old_signers), new_parties: set(new_parties), new_threshold: new_t };
        let new = reshare::<C>(&old, &params, salt + 1);
        assert!(new.values().all(|k| k.public_key() == y && k.threshold() == new_t), "{name}");
        // The last t′ parties of the new group sign (a newcomer among them where there is one).
        let signers: Vec<PartyIndex> = new.keys().copied().skip(new.len() - usize::from(new_t)).collect();
        ecdsa_signs::<C>(&new, &signers, &y, salt + 2);
    }
}

#[test]
fn reshare_scenarios_then_ecdsa_on_secp256k1() {
    every_scenario::<Secp256k1>(700);
}

#[test]
fn reshare_scenarios_then_ecdsa_on_p256() {
    every_scenario::<P256>(800);
}
