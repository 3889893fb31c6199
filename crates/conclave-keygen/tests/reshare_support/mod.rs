//! Shared helpers of the reshare tests: old keys from the DKG, reshare runs in the simulator,
//! reconstruction and FROST signing checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(dead_code)]

use std::collections::BTreeMap;

use conclave_frost::{Scheme, SignRequest};
use conclave_keygen::dkg;
use conclave_keygen::reshare::{self, Misbehaviour, Reshare, ReshareInput, ReshareOutput, ReshareParams};
use conclave_keygen::KeyShare;
use conclave_math::{Curve, SecretScalar};
use conclave_protocol::sim::{Network, SimOutcome, Simulation};
use conclave_protocol::{Machine, PartyIndex, PartySet};
use conclave_testkit::reconstruct_secret;
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;

/// Party index shorthand.
pub fn p(i: u16) -> PartyIndex {
    PartyIndex(i)
}

/// A party set from raw indices.
pub fn set(v: &[u16]) -> PartySet {
    PartySet::new(v.iter().map(|i| PartyIndex(*i))).unwrap()
}

/// A `t`-of-`parties` key from the DKG, run in the simulator.
pub fn dkg_keys<C: Curve>(t: u16, parties: &[u16], rng: &mut ChaCha20Rng) -> BTreeMap<PartyIndex, KeyShare<C>> {
    let net = Network::new(rng, set(parties));
    let mut machines = BTreeMap::new();
    for q in net.parties.iter() {
        machines.insert(q, dkg::start::<C>(net.config(q).unwrap(), t, rng).unwrap());
    }
    let out = Simulation::new(net, machines, rng.next_u64()).run();
    out.results.into_iter().map(|(q, r)| (q, r.expect("DKG succeeds"))).collect()
}

/// A reshare scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub old_t: u16,
    pub old_parties: Vec<u16>,
    pub old_signers: Vec<u16>,
    pub new_t: u16,
    pub new_parties: Vec<u16>,
}

impl Scenario {
    pub fn params(&self) -> ReshareParams {
        ReshareParams {
            old_signers: set(&self.old_signers),
            new_parties: set(&self.new_parties),
            new_threshold: self.new_t,
        }
    }
}

/// Runs a reshare of `old` in the simulator: every party of `O ∪ N′` that holds an old share
/// gives it, every other party the old public data. `misbehaving` makes one party deviate;
/// `adjust` adds network adversaries.
pub fn run_reshare<C: Curve>(
    old: &BTreeMap<PartyIndex, KeyShare<C>>,
    params: &ReshareParams,
    rng: &mut ChaCha20Rng,
    misbehaving: Option<(u16, Misbehaviour)>,
    adjust: impl FnOnce(Simulation<Machine<Reshare<C>>>) -> Simulation<Machine<Reshare<C>>>,
) -> (Network, SimOutcome<ReshareOutput<C>>) {
    let net = Network::new(rng, params.session_parties().unwrap());
    let public = old.values().next().unwrap().public().clone();
    let mut machines = BTreeMap::new();
    for q in net.parties.iter() {
        let input = match old.get(&q) {
            Some(k) => ReshareInput::Holder(k),
            None => ReshareInput::Public(&public),
        };
        let cfg = net.config(q).unwrap();
        let m = match misbehaving {
            Some((bad, how)) if bad == q.0 => reshare::start_misbehaving::<C>(cfg, params, input, rng, how),
            _ => reshare::start::<C>(cfg, params, input, rng),
        }
        .unwrap();
        machines.insert(q, m);
    }
    let seed = rng.next_u64();
    let out = adjust(Simulation::new(net.clone(), machines, seed)).run();
    (net, out)
}

/// The new key shares of a successful run (panics on any failure), after checking that every
/// party's output has the right shape and every receipt verifies.
pub fn new_shares<C: Curve>(
    net: &Network,
    params: &ReshareParams,
    out: SimOutcome<ReshareOutput<C>>,
) -> BTreeMap<PartyIndex, KeyShare<C>> {
    let mut shares = BTreeMap::new();
    for (q, r) in out.results {
        let r = r.unwrap_or_else(|e| panic!("{q} failed: {e}"));
        assert!(r.receipt().verify(&net.public_keys), "{q}'s receipt verifies");
        assert_eq!(r.receipt().holder, q);
        match r {
            ReshareOutput::Share(k, receipt) => {
                assert!(params.new_parties.contains(q), "{q} is not new but got a share");
                assert_eq!(k.public(), &receipt.new_public);
                shares.insert(q, k);
            }
            ReshareOutput::Retired(_) => assert!(!params.new_parties.contains(q), "{q} is new but got no share"),
        }
    }
    assert_eq!(shares.len(), params.new_parties.len());
    shares
}

/// The secret interpolated from the shares of `who` (test only).
pub fn secret_of<C: Curve>(keys: &BTreeMap<PartyIndex, KeyShare<C>>, who: &[PartyIndex]) -> SecretScalar<C> {
    let chosen: Vec<(PartyIndex, &SecretScalar<C>)> = who.iter().map(|q| (*q, keys[q].expose_secret_share())).collect();
    reconstruct_secret::<C>(&chosen)
}

/// Signs with FROST scheme `S` among `signers` and checks the signature verifies under `Y`.
pub fn frost_signs<S: Scheme>(
    keys: &BTreeMap<PartyIndex, KeyShare<S::Curve>>,
    signers: &[PartyIndex],
    rng: &mut ChaCha20Rng,
) {
    let message = b"conclave reshare test".to_vec();
    let request = SignRequest::new(message.clone());
    let signers = PartySet::new(signers.iter().copied()).unwrap();
    let sig = conclave_frost::sim::sign_in_process::<S>(keys, &signers, &request, rng)
        .unwrap_or_else(|e| panic!("signing by {signers:?} failed: {e}"));
    assert!(sig.verify(&message));
}

/// Any `t` of the old shares still give the old public key, and FROST still signs with them
/// (for the curves FROST supports): the old group is intact.
pub fn old_group_intact<C: Curve>(old: &BTreeMap<PartyIndex, KeyShare<C>>, rng: &mut ChaCha20Rng) {
    let first = old.values().next().unwrap();
    let t = usize::from(first.threshold());
    let who: Vec<PartyIndex> = old.keys().copied().take(t).collect();
    assert_eq!(secret_of(old, &who).public_point(), first.public_key());
    let any: &dyn core::any::Any = old;
    if let Some(k) = any.downcast_ref::<BTreeMap<PartyIndex, KeyShare<conclave_math::Secp256k1>>>() {
        frost_signs::<conclave_frost::Bip340>(k, &who, rng);
    } else if let Some(k) = any.downcast_ref::<BTreeMap<PartyIndex, KeyShare<conclave_math::Ed25519>>>() {
        frost_signs::<conclave_frost::Ed25519>(k, &who, rng);
    }
}
