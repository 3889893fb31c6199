//! Shared helpers of the DKG integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(dead_code)]

use std::collections::BTreeMap;

use conclave_keygen::dkg::{self, Dkg, Misbehaviour};
use conclave_keygen::KeyShare;
use conclave_math::Curve;
use conclave_protocol::sim::{Network, SimOutcome, Simulation};
use conclave_protocol::{Machine, PartyIndex, PartySet};
use rand_core::RngCore;

/// Runs a t-of-n DKG among parties 0..n in the simulator; `adjust` adds adversaries;
/// `misbehaving` makes one party deviate from the protocol.
pub fn run_dkg<C: Curve>(
    t: u16,
    n: u16,
    salt: u64,
    misbehaving: Option<(u16, Misbehaviour)>,
    adjust: impl FnOnce(Simulation<Machine<Dkg<C>>>) -> Simulation<Machine<Dkg<C>>>,
) -> (Network, SimOutcome<KeyShare<C>>) {
    let mut rng = conclave_testkit::rng(salt);
    let net = Network::new(&mut rng, PartySet::range(n).unwrap());
    let out = run_on(&net, t, &mut rng, misbehaving, adjust);
    (net, out)
}

/// Runs the DKG on a given network.
pub fn run_on<C: Curve>(
    net: &Network,
    t: u16,
    rng: &mut rand_chacha::ChaCha20Rng,
    misbehaving: Option<(u16, Misbehaviour)>,
    adjust: impl FnOnce(Simulation<Machine<Dkg<C>>>) -> Simulation<Machine<Dkg<C>>>,
) -> SimOutcome<KeyShare<C>> {
    let mut machines = BTreeMap::new();
    for p in net.parties.iter() {
        let cfg = net.config(p).unwrap();
        let m = match misbehaving {
            Some((bad, how)) if bad == p.0 => dkg::start_misbehaving::<C>(cfg, t, rng, how),
            _ => dkg::start::<C>(cfg, t, rng),
        }
        .unwrap();
        machines.insert(p, m);
    }
    adjust(Simulation::new(net.clone(), machines, rng.next_u64())).run()
}

/// The parties other than `bad` among 0..n.
pub fn honest(n: u16, bad: &[u16]) -> Vec<u16> {
    (0..n).filter(|p| !bad.contains(p)).collect()
}

/// Party index shorthand.
pub fn p(i: u16) -> PartyIndex {
    PartyIndex(i)
}
