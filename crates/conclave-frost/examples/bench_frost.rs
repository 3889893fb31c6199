//! Per-party time and bytes of a signing session: Conclave's driver (signed envelopes, echo
//! broadcast of the commitments, every share verified, final signature verified) beside the
//! Zcash Foundation crates used directly (no transport, no authentication), in the same run.
//!
//! `cargo run --release -p conclave-frost --example bench_frost [iterations]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
// The benchmark owns the clock; the protocol code it drives does not.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::time::Instant;

use conclave_frost::{Bip340, Ed25519, Scheme, Secp256k1, SignRequest};
use conclave_keygen::{dkg, KeyShare};
use conclave_math::Curve;
use conclave_protocol::sim::{add_compute, Network, Simulation};
use conclave_protocol::{PartyIndex, PartySet};
use frost_core::keys::{IdentifierList, KeyPackage};
use frost_core::Ciphersuite;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn keygen<S: Scheme>(t: u16, n: u16, rng: &mut ChaCha20Rng) -> BTreeMap<PartyIndex, KeyShare<S::Curve>> {
    let net = Network::new(rng, PartySet::range(n).unwrap());
    let mut machines = BTreeMap::new();
    for p in net.parties.iter() {
        machines.insert(p, dkg::start::<S::Curve>(net.config(p).unwrap(), t, rng).unwrap());
    }
    let out = Simulation::new(net, machines, rng.next_u64()).run();
    out.results.into_iter().map(|(p, r)| (p, r.unwrap())).collect()
}

/// Mean per-party (nanoseconds, bytes sent) of our driver, signers 0..t.
fn ours<S: Scheme>(t: u16, n: u16, iters: u32, rng: &mut ChaCha20Rng) -> (f64, f64) {
    let keys = keygen::<S>(t, n, rng);
    let signers = PartySet::range(t).unwrap();
    let req = SignRequest::new([0x42u8; 32]);
    let epoch = Instant::now();
    let (mut nanos, mut bytes) = (0u128, 0u128);
    for _ in 0..iters {
        let net = Network::new(rng, signers.clone());
        let mut machines = BTreeMap::new();
        let mut start_nanos = BTreeMap::new();
        for p in signers.iter() {
            let cfg = net.config(p).unwrap();
            let t0 = Instant::now();
            let m = conclave_frost::start::<S>(cfg, &keys[&p], &req, rng).unwrap();
            start_nanos.insert(p, t0.elapsed().as_nanos() as u64);
            machines.insert(p, m);
        }
        let mut out = Simulation::new(net, machines, rng.next_u64())
            .with_clock(Box::new(move || epoch.elapsed().as_nanos() as u64))
            .run();
        for (p, ns) in start_nanos {
            add_compute(&mut out.stats, p, ns);
        }
        for r in out.results.values() {
            assert!(r.is_ok());
        }
        for s in out.stats.values() {
            nanos += u128::from(s.compute_nanos);
            bytes += u128::from(s.bytes_sent);
        }
    }
    let div = f64::from(iters) * f64::from(t);
    (nanos as f64 / div, bytes as f64 / div)
}

/// Mean per-party (nanoseconds, bytes) of the ZF crates used directly: every signer commits,
/// signs and aggregates (each is its own coordinator, as in our driver). With
/// `verify_shares`, each signer also checks every share with `verify_signature_share`.
fn direct<C: Ciphersuite>(
    t: u16,
    n: u16,
    iters: u32,
    verify_shares: bool,
    point_len: usize,
    rng: &mut ChaCha20Rng,
) -> (f64, f64) {
    let (shares, public) =
        frost_core::keys::generate_with_dealer::<C, _>(n, t, IdentifierList::Default, &mut *rng).unwrap();
    let keys: BTreeMap<_, _> = shares.into_iter().map(|(id, s)| (id, KeyPackage::try_from(s).unwrap())).collect();
    let signers: Vec<_> = keys.keys().copied().take(usize::from(t)).collect();
    let msg = [0x42u8; 32];
    let mut nanos = 0u128;
    for _ in 0..iters {
        let mut nonces = BTreeMap::new();
        let mut commitments = BTreeMap::new();
        for id in &signers {
            let t0 = Instant::now();
            let (nn, c) = frost_core::round1::commit(keys[id].signing_share(), &mut *rng);
            nanos += t0.elapsed().as_nanos();
            nonces.insert(*id, nn);
            commitments.insert(*id, c);
        }
        let package = frost_core::SigningPackage::new(commitments, &msg);
        let mut sig_shares = BTreeMap::new();
        for id in &signers {
            let t0 = Instant::now();
            let z = frost_core::round2::sign(&package, &nonces[id], &keys[id]).unwrap();
            nanos += t0.elapsed().as_nanos();
            sig_shares.insert(*id, z);
        }
        for _ in &signers {
            let t0 = Instant::now();
            if verify_shares {
                for (id, z) in &sig_shares {
                    frost_core::verify_signature_share(
                        *id,
                        &public.verifying_shares()[id],
                        z,
                        &package,
                        public.verifying_key(),
                    )
                    .unwrap();
                }
            }
            let sig = frost_core::aggregate(&package, &sig_shares, &public).unwrap();
            nanos += t0.elapsed().as_nanos();
            std::hint::black_box(sig);
        }
    }
    // Raw values only: (D_i, E_i) and z_i to each other signer.
    let bytes = (usize::from(t) - 1) * (2 * point_len + 32);
    (nanos as f64 / (f64::from(iters) * f64::from(t)), bytes as f64)
}

fn row<S: Scheme>(t: u16, n: u16, iters: u32, rng: &mut ChaCha20Rng) {
    let len = <S::Curve as Curve>::POINT_LEN;
    let (ot, ob) = ours::<S>(t, n, iters, rng);
    let (dt, db) = direct::<S::Suite>(t, n, iters, false, len, rng);
    let (vt, _) = direct::<S::Suite>(t, n, iters, true, len, rng);
    println!(
        "| {:<14} | {t}-of-{n} | {:>8.0} | {:>6.0} | {:>8.0} | {:>8.0} | {:>5} | {:>5.2}x | {:>5.2}x |",
        S::ID.name(),
        ot / 1e3,
        ob,
        dt / 1e3,
        vt / 1e3,
        db,
        ot / dt,
        ot / vt
    );
}

/// Mean cost in µs of the fixed per-message work our engine and codec add.
fn unit_costs(rng: &mut ChaCha20Rng) {
    let n = 2000u32;
    let id = conclave_protocol::IdentityKey::from_seed(&[3u8; 32]);
    let pk = id.public();
    let msg = [5u8; 200];
    let t0 = Instant::now();
    let mut sig = [0u8; 64];
    for _ in 0..n {
        sig = std::hint::black_box(id.sign(&msg));
    }
    let sign = t0.elapsed().as_nanos() as f64 / f64::from(n) / 1e3;
    let t0 = Instant::now();
    for _ in 0..n {
        assert!(std::hint::black_box(pk.verify(&msg, &sig)));
    }
    let verify = t0.elapsed().as_nanos() as f64 / f64::from(n) / 1e3;
    let ed = conclave_math::Ed25519::encode_point(&conclave_math::Ed25519::mul_base(
        &conclave_math::Ed25519::random_nonzero_scalar(rng),
    ));
    let k1 = conclave_math::Secp256k1::encode_point(&conclave_math::Secp256k1::mul_base(
        &conclave_math::Secp256k1::random_nonzero_scalar(rng),
    ));
    let t0 = Instant::now();
    for _ in 0..n {
        std::hint::black_box(conclave_math::Ed25519::decode_point(&ed).unwrap());
    }
    let ed_ours = t0.elapsed().as_nanos() as f64 / f64::from(n) / 1e3;
    let t0 = Instant::now();
    for _ in 0..n {
        std::hint::black_box(
            frost_core::round1::NonceCommitment::<frost_ed25519::Ed25519Sha512>::deserialize(&ed).unwrap(),
        );
    }
    let ed_frost = t0.elapsed().as_nanos() as f64 / f64::from(n) / 1e3;
    let t0 = Instant::now();
    for _ in 0..n {
        std::hint::black_box(conclave_math::Secp256k1::decode_point(&k1).unwrap());
    }
    let k1_ours = t0.elapsed().as_nanos() as f64 / f64::from(n) / 1e3;
    println!(
        "unit costs (µs): envelope signature {sign:.1}, envelope verification {verify:.1}; \
         point decode ed25519 ours {ed_ours:.1} / frost {ed_frost:.1}, secp256k1 ours {k1_ours:.1}"
    );
}

fn main() {
    let iters: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    println!("per signer, mean of {iters} sessions; t signers of an n-party key; time in µs, bytes sent");
    println!("| scheme         | key    | ours µs  | ours B | frost µs | +verify  | raw B | ratio  | ratio+v |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (t, n) in [(2u16, 3u16), (3, 5)] {
        row::<Ed25519>(t, n, iters, &mut rng);
        row::<Secp256k1>(t, n, iters, &mut rng);
        row::<Bip340>(t, n, iters, &mut rng);
    }
    unit_costs(&mut rng);
    println!("frost µs: commit + sign + aggregate (aggregate verifies the signature; shares checked only on failure)");
    println!("+verify: the same plus verify_signature_share for every share before aggregating (what our driver does)");
}
