//! Shared helpers of the ECDSA integration tests: keys from the simulated DKG, auxiliary data
//! from fixture primes (a trusted set-up, for tests only), and simulated signing runs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use conclave_ecdsa::presign::ThresholdCurve;
use conclave_keygen::{dkg, KeyShare};
use conclave_keygen::{AuxInfo, PartyAux};
use conclave_paillier::{generate_ring_pedersen, DecryptionKey, Integer};
use conclave_protocol::sim::{Network, Simulation};
use conclave_protocol::{PartyIndex, PartySet};
use rand_core::RngCore;

/// Public auxiliary data of fixture party `k` (built once per test binary: ring-Pedersen
/// generation is the slow part).
fn fixture_public(k: usize) -> (Integer, Integer, PartyAux) {
    static CACHE: OnceLock<Vec<(Integer, Integer, PartyAux)>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        let mut rng = conclave_testkit::rng(0xa0c);
        conclave_testkit::safe_prime_pairs()
            .into_iter()
            .map(|(p, q)| {
                let p = Integer::from_str_radix(&p, 16).unwrap();
                let q = Integer::from_str_radix(&q, 16).unwrap();
                let dk = DecryptionKey::from_safe_primes(p.clone(), q.clone()).unwrap();
                let (rp, _) = generate_ring_pedersen(&mut rng, &dk).unwrap();
                (p, q, PartyAux { ek: dk.encryption_key().clone(), rp })
            })
            .collect()
    });
    all[k].clone()
}

/// Trusted-set-up auxiliary data for parties `0..n` (test only).
pub fn aux_infos(n: u16) -> BTreeMap<PartyIndex, Arc<AuxInfo>> {
    let publics: BTreeMap<PartyIndex, PartyAux> =
        (0..n).map(|i| (PartyIndex(i), fixture_public(usize::from(i)).2)).collect();
    (0..n)
        .map(|i| {
            let (p, q, _) = fixture_public(usize::from(i));
            let dk = DecryptionKey::from_safe_primes(p, q).unwrap();
            // Build the key's fixed-base nonce tables now, from their own seeded RNG: otherwise
            // the first encryption draws them from the session's RNG, and a replay of a recorded
            // run (the fuzz tests) would see different randomness than the recording did.
            assert!(dk.precompute(&mut conclave_testkit::rng(0x7ab1e5 + u64::from(i))));
            (PartyIndex(i), Arc::new(AuxInfo::new(PartyIndex(i), dk, publics.clone()).unwrap()))
        })
        .collect()
}

/// Key shares of a t-of-n key from the simulated DKG.
pub fn keygen<C: ThresholdCurve>(t: u16, n: u16, salt: u64) -> BTreeMap<PartyIndex, KeyShare<C>> {
    let mut rng = conclave_testkit::rng(salt);
    let net = Network::new(&mut rng, PartySet::range(n).unwrap());
    let machines =
        net.parties.iter().map(|p| (p, dkg::start::<C>(net.config(p).unwrap(), t, &mut rng).unwrap())).collect();
    Simulation::new(net, machines, rng.next_u64()).run().results.into_iter().map(|(p, r)| (p, r.unwrap())).collect()
}

/// A network of `signers` whose identity keys are fresh.
pub fn signer_network(signers: &[u16], salt: u64) -> (Network, rand_chacha::ChaCha20Rng) {
    let mut rng = conclave_testkit::rng(salt);
    let set = PartySet::new(signers.iter().map(|i| PartyIndex(*i))).unwrap();
    (Network::new(&mut rng, set), rng)
}
