//! `conclave demo`: an in-process group of parties runs the dealerless DKG on every curve,
//! checks the result, and reports timings and traffic. With `--json`, stdout carries exactly
//! one JSON object following `shared/demo-output.md`; progress goes to stderr.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use conclave_keygen::{dkg, KeyShare};
use conclave_math::{Curve, CurveId, Ed25519, Secp256k1, P256};
use conclave_protocol::sim::{Network, Simulation};
use conclave_protocol::PartySet;
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, RngCore, SeedableRng};
use serde::Serialize;

/// Options of `conclave demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of parties.
    #[arg(long, default_value_t = 3)]
    parties: u16,
    /// Signing threshold: any `threshold` parties can sign.
    #[arg(long, default_value_t = 2)]
    threshold: u16,
    /// Print one JSON object (shared/demo-output.md) instead of the readable report.
    #[arg(long)]
    json: bool,
    /// Seed the randomness for a reproducible run (demo only: never for real keys).
    #[arg(long)]
    seed: Option<u64>,
}

#[derive(Debug, Serialize)]
struct Output {
    conclave_version: &'static str,
    cluster: Cluster,
    /// Signatures appear here once a signing protocol exists; none are faked.
    results: Vec<serde_json::Value>,
    keys: Vec<KeyReport>,
}

#[derive(Debug, Serialize)]
struct Cluster {
    parties: u16,
    threshold: u16,
    transport: &'static str,
}

#[derive(Debug, Serialize)]
struct KeyReport {
    curve: &'static str,
    key_id: String,
    parties: Vec<u16>,
    threshold: u16,
    public_key: String,
    chain_code: String,
    /// Every party holds the same public data, and each secret share matches its public share.
    verified: bool,
    timings_ms: BTreeMap<&'static str, f64>,
    bytes_sent_per_party: BTreeMap<&'static str, u64>,
}

fn clock() -> Box<dyn Fn() -> u64> {
    let origin = Instant::now();
    Box::new(move || u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX))
}

/// Runs the DKG among `parties` with threshold `t` and reports on it.
fn keygen<C: Curve>(rng: &mut ChaCha20Rng, n: u16, t: u16) -> Result<KeyReport> {
    let parties = PartySet::range(n).context("party set")?;
    let net = Network::new(rng, parties.clone());
    let mut machines = BTreeMap::new();
    let mut start_nanos = BTreeMap::new();
    for p in parties.iter() {
        let cfg = net.config(p).context("simulated identity")?;
        let started = Instant::now();
        let m = dkg::start::<C>(cfg, t, rng)?;
        start_nanos.insert(p, started.elapsed().as_nanos() as u64);
        machines.insert(p, m);
    }
    let outcome = Simulation::new(net, machines, rng.next_u64()).with_clock(clock()).run();
    let mut shares: Vec<KeyShare<C>> = Vec::new();
    for (p, r) in outcome.results {
        shares.push(r.with_context(|| format!("{p} failed"))?);
    }
    let first = shares.first().context("no party")?;
    let verified = shares.iter().all(|s| {
        s.public() == first.public()
            && s.public().public_shares.get(&s.me()) == Some(&s.expose_secret_share().public_point())
    });
    if !verified {
        bail!("parties disagree on the key");
    }
    let per_party_ms: Vec<f64> = outcome
        .stats
        .iter()
        .map(|(p, s)| (s.compute_nanos + start_nanos.get(p).copied().unwrap_or(0)) as f64 / 1e6)
        .collect();
    let mean_ms = per_party_ms.iter().sum::<f64>() / per_party_ms.len().max(1) as f64;
    let bytes = outcome.stats.values().map(|s| s.bytes_sent).max().unwrap_or(0);
    Ok(KeyReport {
        curve: C::ID.name(),
        key_id: first.key_id().to_string(),
        parties: parties.to_u16s(),
        threshold: t,
        public_key: hex::encode(C::encode_point(&first.public_key())),
        chain_code: hex::encode(first.public().chain_code),
        verified,
        timings_ms: BTreeMap::from([("keygen", (mean_ms * 1000.0).round() / 1000.0)]),
        bytes_sent_per_party: BTreeMap::from([("keygen", bytes)]),
    })
}

/// Runs the demo.
pub fn run(args: &DemoArgs) -> Result<()> {
    let (n, t) = (args.parties, args.threshold);
    if n == 0 || n > 64 {
        bail!("--parties must be between 1 and 64 (got {n})");
    }
    if t == 0 || t > n {
        bail!("--threshold must be between 1 and --parties ({n}) (got {t})");
    }
    let seed = match args.seed {
        Some(s) => s,
        None => OsRng.next_u64(),
    };
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut keys = Vec::new();
    for curve in [CurveId::Secp256k1, CurveId::P256, CurveId::Ed25519] {
        eprintln!("· distributed key generation on {curve} ({t}-of-{n}, no dealer)…");
        let report = match curve {
            CurveId::Secp256k1 => keygen::<Secp256k1>(&mut rng, n, t),
            CurveId::P256 => keygen::<P256>(&mut rng, n, t),
            CurveId::Ed25519 => keygen::<Ed25519>(&mut rng, n, t),
        }
        .with_context(|| format!("key generation on {curve}"))?;
        keys.push(report);
    }
    let out = Output {
        conclave_version: env!("CARGO_PKG_VERSION"),
        cluster: Cluster { parties: n, threshold: t, transport: "in-process" },
        results: Vec::new(),
        keys,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_report(&out);
    }
    Ok(())
}

fn print_report(out: &Output) {
    println!("Conclave {} — local demo", out.conclave_version);
    println!(
        "{} parties in one process ({} transport), threshold {}: any {} of them can sign; no fewer can.",
        out.cluster.parties, out.cluster.transport, out.cluster.threshold, out.cluster.threshold
    );
    println!();
    println!("Distributed key generation (no dealer; the full private key never exists anywhere):");
    println!("  {:<10} {:<18} {:<68} {:>12} {:>12}", "curve", "key id", "group public key", "ms/party", "bytes/party");
    for k in &out.keys {
        println!(
            "  {:<10} {:<18} {:<68} {:>12.3} {:>12}",
            k.curve,
            format!("{}…", k.key_id.get(..16).unwrap_or(&k.key_id)),
            k.public_key,
            k.timings_ms.get("keygen").copied().unwrap_or(0.0),
            k.bytes_sent_per_party.get("keygen").copied().unwrap_or(0),
        );
    }
    println!();
    for k in &out.keys {
        println!(
            "  {} {}: every party holds the same public key and public shares; each secret share matches its public share",
            if k.verified { "✓" } else { "✗" },
            k.curve
        );
    }
    println!();
    println!("Signing is not part of this build yet: threshold ECDSA and FROST come next; no signature is shown rather than a fake one.");
}
