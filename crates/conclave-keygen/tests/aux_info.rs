//! The aux-info protocol: every party ends with the same public data (Paillier keys and
//! ring-Pedersen parameters, each proven by Π^mod, Π^fac and Π^prm) and its own decryption key;
//! a tampered reveal or proof names its sender.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use conclave_keygen::aux_info::{self, AuxFac, AuxMod, AuxReveal};
use conclave_math::codec::{Decode, Encode};
use conclave_paillier::{DecryptionKey, Integer};
use conclave_protocol::sim::adversary::Tamper;
use conclave_protocol::sim::{Network, Simulation};
use conclave_protocol::{Fault, MessageKind, PartyIndex, PartySet};
use conclave_testkit::assert_blamed;
use rand_core::RngCore;

fn key(k: usize) -> DecryptionKey {
    let (p, q) = conclave_testkit::safe_prime_pairs().swap_remove(k);
    DecryptionKey::from_safe_primes(Integer::from_str_radix(&p, 16).unwrap(), Integer::from_str_radix(&q, 16).unwrap())
        .unwrap()
}

type Sim = Simulation<conclave_protocol::Machine<aux_info::AuxInfoProtocol>>;

fn run(
    n: u16,
    salt: u64,
    adjust: impl FnOnce(Sim) -> Sim,
) -> BTreeMap<PartyIndex, Result<conclave_keygen::AuxInfo, conclave_protocol::ProtocolError>> {
    let mut rng = conclave_testkit::rng(salt);
    let net = Network::new(&mut rng, PartySet::range(n).unwrap());
    let machines = net
        .parties
        .iter()
        .map(|p| (p, aux_info::start(net.config(p).unwrap(), key(usize::from(p.0)), &mut rng).unwrap()))
        .collect();
    adjust(Simulation::new(net, machines, rng.next_u64())).run().results
}

#[test]
fn honest_run_gives_everyone_the_same_public_data() {
    let results = run(3, 1, |s| s);
    let infos: Vec<_> = results.into_values().map(|r| r.unwrap()).collect();
    for info in &infos {
        assert_eq!(info.parties(), infos[0].parties());
        assert_eq!(info.own().unwrap().ek, *info.decryption_key().encryption_key());
        assert_eq!(info.parties().len(), 3);
    }
    // The debug output never shows the primes.
    let shown = format!("{:?}", infos[0]);
    let (p, _) = infos[0].decryption_key().expose_primes();
    assert!(!shown.contains(&p.to_string_radix(16)));
}

#[test]
fn tampered_reveal_and_proofs_name_the_sender() {
    // A changed modulus does not open the commitment.
    // Two parties keep this test affordable: each Π^mod and Π^prm takes about a second.
    let results = run(2, 2, |s| {
        s.intercept(Tamper::new(PartyIndex(1), 2, MessageKind::Broadcast, |b| {
            let mut r = AuxReveal::from_bytes(b).unwrap();
            r.s += 1u32;
            r.to_bytes()
        }))
    });
    assert_blamed(&results, &[0], &[(1, Fault::CommitmentMismatch)]);
    // A broken Π^mod.
    let results = run(2, 3, |s| {
        s.intercept(Tamper::new(PartyIndex(1), 3, MessageKind::Broadcast, |b| {
            let mut m = AuxMod::from_bytes(b).unwrap();
            m.psi.w += 2u32;
            m.to_bytes()
        }))
    });
    assert_blamed(&results, &[0], &[(1, Fault::InvalidProof)]);
    // A broken Π^fac to every recipient.
    let results = run(2, 4, |s| {
        s.intercept(Tamper::new(PartyIndex(0), 3, MessageKind::Direct, |b| {
            let mut f = AuxFac::from_bytes(b).unwrap();
            f.phi.z1 += 1u32;
            f.to_bytes()
        }))
    });
    assert_blamed(&results, &[1], &[(0, Fault::InvalidProof)]);
}
