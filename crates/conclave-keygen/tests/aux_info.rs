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

/// A random prime of `bits` bits, ≡ `residue` mod 4.
fn prime(rng: &mut impl RngCore, bits: u32, residue: u32) -> Integer {
    let mut bytes = vec![0u8; bits.div_ceil(8) as usize];
    rng.fill_bytes(&mut bytes);
    let mut x = Integer::from_str_radix(&hex::encode(&bytes), 16).unwrap();
    x.keep_bits_mut(bits);
    x.set_bit(bits - 1, true);
    loop {
        x.next_prime_mut();
        if x.mod_u(4) == residue {
            return x;
        }
    }
}

/// Aux-info with party 1 malicious: it runs the protocol with our own code but on a Paillier
/// key an honest party would never accept (all its proofs are computed by our prover over that
/// key); `adjust` may add tampering. Party 0 is honest.
fn run_malicious(
    salt: u64,
    bad: DecryptionKey,
    adjust: impl FnOnce(Sim) -> Sim,
) -> BTreeMap<PartyIndex, Result<conclave_keygen::AuxInfo, conclave_protocol::ProtocolError>> {
    let mut rng = conclave_testkit::rng(salt);
    let net = Network::new(&mut rng, PartySet::range(2).unwrap());
    let mut bad = Some(bad);
    let machines = net
        .parties
        .iter()
        .map(|p| {
            let dk = if p.0 == 1 { bad.take().unwrap() } else { key(0) };
            (p, aux_info::start(net.config(p).unwrap(), dk, &mut rng).unwrap())
        })
        .collect();
    adjust(Simulation::new(net, machines, rng.next_u64())).run().results
}

/// Known attacks on this layer (SECURITY.md items 1–4), injected through a malicious aux-info
/// party rather than into a proof alone: the honest party names it every time.
#[test]
fn known_paillier_attacks_through_a_malicious_aux_info_party_are_named() {
    let mut rng = conclave_testkit::rng(0xbad);
    // A modulus with a small factor (BitForge, TSSHOCK, CVE-2023-33241): N = p q with a
    // 256-bit p, both ≡ 3 mod 4 so N is a Blum integer of full size: Π^prm and Π^mod pass,
    // Π^fac must not.
    let small = prime(&mut rng, 256, 3);
    let large = prime(&mut rng, 2816, 3);
    let bad = DecryptionKey::from_primes_unchecked(small.clone(), large.clone()).unwrap();
    assert!(bad.encryption_key().modulus().significant_bits() >= 3071, "the size floor alone does not catch it");
    assert_blamed(&run_malicious(10, bad, |s| s), &[0], &[(1, Fault::InvalidProof)]);
    // (A non-Blum modulus cannot be sent this way: our prover refuses to prove Π^mod for it,
    // so the malicious machine aborts itself. A prime, even or short modulus has no
    // factorisation to build a key from. Those are refused by `EncryptionKey::from_modulus`
    // and Π^mod's checks, which the reveal check of round 2 calls: see conclave-zk's tests.)
    // Π^mod with w sharing a factor with N (the attacker knows p).
    let bad = DecryptionKey::from_primes_unchecked(small.clone(), large).unwrap();
    let results = run_malicious(12, bad, move |s| {
        let small = small.clone();
        s.intercept(Tamper::new(PartyIndex(1), 3, MessageKind::Broadcast, move |b| {
            let mut m = AuxMod::from_bytes(b).unwrap();
            m.psi.w = small.clone();
            m.to_bytes()
        }))
    });
    assert_blamed(&results, &[0], &[(1, Fault::InvalidProof)]);
}
