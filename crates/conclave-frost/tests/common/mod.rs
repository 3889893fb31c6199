//! Shared helpers of the signing tests: key shares from a simulated DKG, signing runs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test code

use std::collections::BTreeMap;

use conclave_frost::signing::Signing;
use conclave_frost::{Scheme, SignRequest, ThresholdSignature};
use conclave_keygen::dkg;
use conclave_keygen::KeyShare;
use conclave_protocol::sim::{Network, SimOutcome, Simulation};
use conclave_protocol::{Machine, PartyIndex, PartySet};
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;

/// A t-of-n key among parties 0..n from our DKG, run in the simulator.
pub fn keygen<S: Scheme>(t: u16, n: u16, rng: &mut ChaCha20Rng) -> BTreeMap<PartyIndex, KeyShare<S::Curve>> {
    let net = Network::new(rng, PartySet::range(n).unwrap());
    let mut machines = BTreeMap::new();
    for p in net.parties.iter() {
        machines.insert(p, dkg::start::<S::Curve>(net.config(p).unwrap(), t, rng).unwrap());
    }
    let out = Simulation::new(net, machines, rng.next_u64()).run();
    out.results.into_iter().map(|(p, r)| (p, r.expect("DKG succeeds"))).collect()
}

/// Runs signing among `signers`; `adjust` adds adversaries.
pub fn sign<S: Scheme>(
    keys: &BTreeMap<PartyIndex, KeyShare<S::Curve>>,
    signers: &[u16],
    request: &SignRequest,
    rng: &mut ChaCha20Rng,
    adjust: impl FnOnce(Simulation<Machine<Signing<S>>>) -> Simulation<Machine<Signing<S>>>,
) -> (Network, SimOutcome<ThresholdSignature>) {
    let net = Network::new(rng, PartySet::new(signers.iter().map(|i| PartyIndex(*i))).unwrap());
    let ms = conclave_frost::sim::machines::<S>(&net, keys, request, rng).unwrap();
    let out = adjust(Simulation::new(net.clone(), ms, rng.next_u64())).run();
    (net, out)
}

/// Every signer succeeded with the same, valid signature; returns it.
pub fn agreed(out: &SimOutcome<ThresholdSignature>, message: &[u8]) -> ThresholdSignature {
    let mut sigs = out.results.values().map(|r| r.as_ref().expect("signing succeeds").clone());
    let first = sigs.next().expect("at least one signer");
    for s in sigs {
        assert_eq!(s, first, "signers disagree");
    }
    assert!(first.verify(message), "signature verifies");
    first
}

/// Party index shorthand.
pub fn p(i: u16) -> PartyIndex {
    PartyIndex(i)
}

/// The parties other than `bad` among `signers`.
pub fn honest(signers: &[u16], bad: &[u16]) -> Vec<u16> {
    signers.iter().copied().filter(|p| !bad.contains(p)).collect()
}
