//! `conclave demo`. By default it runs on real nodes (`demo_nodes.rs`: a cluster on loopback,
//! everything through the HTTPS API). With `--in-process` (this file), an in-process group of
//! parties in the protocol simulator generates keys with no dealer, runs the ECDSA auxiliary
//! set-up, signs with every scheme, verifies each signature with our verifier and with OpenSSL,
//! and reports per-party time and traffic. With `--json`, stdout carries exactly one JSON object
//! following `shared/demo-output.md`; progress goes to stderr.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _, Result};
use clap::Args;
use conclave_ecdsa::hd::DerivationPath;
use conclave_ecdsa::presign::{self, ThresholdCurve};
use conclave_ecdsa::{sign, HashName, SignedData};
use conclave_frost::{Bip340, Ed25519 as FrostEd25519, Scheme, SignRequest};
use conclave_keygen::reshare::{self, ReshareInput, ReshareParams};
use conclave_keygen::{aux_info, dkg, AuxInfo, KeyShare};
use conclave_math::{Curve, Ed25519, Secp256k1, P256};
use conclave_paillier::{generate_safe_prime, DecryptionKey, Integer, PRIME_BITS};
use conclave_protocol::sim::{Network, Simulation};
use conclave_protocol::{MachineConfig, PartyIndex, PartySet, ProtocolError, StateMachine};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, RngCore, SeedableRng};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub(crate) const ALL_SCHEMES: [&str; 4] = ["ecdsa-secp256k1", "ecdsa-p256", "schnorr-bip340", "ed25519"];

/// Options of `conclave demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of parties holding the keys (the reshare adds two more nodes).
    #[arg(long, default_value_t = 3)]
    pub(crate) parties: u16,
    /// Signing threshold: any `threshold` parties can sign.
    #[arg(long, default_value_t = 2)]
    pub(crate) threshold: u16,
    /// Print one JSON object (shared/demo-output.md) instead of the readable report.
    #[arg(long)]
    pub(crate) json: bool,
    /// With --in-process: seed the randomness for a reproducible run (demo only: never for
    /// real keys; nodes always draw their own randomness).
    #[arg(long, requires = "in_process")]
    pub(crate) seed: Option<u64>,
    /// Comma-separated schemes to run (default: all): ecdsa-secp256k1, ecdsa-p256,
    /// schnorr-bip340 (plain and Taproot-tweaked), ed25519.
    #[arg(long, value_delimiter = ',')]
    pub(crate) schemes: Option<Vec<String>>,
    /// Skip resharing the secp256k1 key to a larger group.
    #[arg(long)]
    pub(crate) no_reshare: bool,
    /// Run the parties in one process through the protocol simulator instead of on nodes.
    #[arg(long)]
    pub(crate) in_process: bool,
    /// Write the demo cluster into DIR (must not exist or be empty) and keep it, instead of a
    /// temporary directory removed at the end.
    #[arg(long, conflicts_with = "in_process")]
    pub(crate) dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Output {
    pub(crate) conclave_version: &'static str,
    pub(crate) cluster: Cluster,
    pub(crate) results: Vec<SchemeResult>,
    pub(crate) keys: Vec<KeyReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reshare: Option<ReshareReport>,
    /// On nodes: each step through the API, with its sessions (time and traffic).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) steps: Vec<crate::demo_nodes::StepReport>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ReshareReport {
    pub(crate) scheme: &'static str,
    pub(crate) before: GroupSignature,
    pub(crate) after: GroupSignature,
    /// Every party of both groups confirmed the hand-over (signed receipts verify).
    pub(crate) committed: bool,
    pub(crate) timings_ms: BTreeMap<&'static str, f64>,
    pub(crate) bytes_sent_per_party: BTreeMap<&'static str, u64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct GroupSignature {
    pub(crate) parties: u16,
    pub(crate) threshold: u16,
    pub(crate) public_key: String,
    pub(crate) signature: String,
    pub(crate) message: String,
    pub(crate) signers: Vec<u16>,
    pub(crate) verified: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Cluster {
    pub(crate) parties: u16,
    pub(crate) threshold: u16,
    pub(crate) transport: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct SchemeResult {
    pub(crate) scheme: &'static str,
    pub(crate) key_id: String,
    pub(crate) signers: Vec<u16>,
    pub(crate) public_key: String,
    pub(crate) message: String,
    pub(crate) hash: &'static str,
    pub(crate) signature: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) recovery_id: Option<u8>,
    pub(crate) taproot_tweaked: bool,
    /// Our verifier accepted it, and so did OpenSSL where OpenSSL supports the scheme.
    pub(crate) verified: bool,
    /// Verifiers that accepted the signature (ours first).
    pub(crate) verified_by: Vec<&'static str>,
    pub(crate) timings_ms: BTreeMap<&'static str, f64>,
    pub(crate) bytes_sent_per_party: BTreeMap<&'static str, u64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct KeyReport {
    pub(crate) curve: &'static str,
    pub(crate) key_id: String,
    pub(crate) parties: Vec<u16>,
    pub(crate) threshold: u16,
    pub(crate) public_key: String,
    pub(crate) chain_code: String,
    /// Every party holds the same public data, and each secret share matches its public share.
    pub(crate) verified: bool,
    pub(crate) timings_ms: BTreeMap<&'static str, f64>,
    pub(crate) bytes_sent_per_party: BTreeMap<&'static str, u64>,
}

/// Per-party cost of one protocol run.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    ms: f64,
    bytes: u64,
}

fn clock() -> Box<dyn Fn() -> u64> {
    let origin = Instant::now();
    Box::new(move || u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX))
}

/// Runs one protocol among `net.parties` in the simulator; returns every party's output and
/// the mean per-party compute time and the largest per-party traffic.
fn simulate<M: StateMachine>(
    net: &Network,
    rng: &mut ChaCha20Rng,
    mut start: impl FnMut(PartyIndex, MachineConfig, &mut ChaCha20Rng) -> Result<M>,
) -> Result<(BTreeMap<PartyIndex, M::Output>, Cost)> {
    let mut machines = BTreeMap::new();
    let mut start_nanos = BTreeMap::new();
    for p in net.parties.iter() {
        let cfg = net.config(p).context("simulated identity")?;
        let t0 = Instant::now();
        machines.insert(p, start(p, cfg, rng)?);
        start_nanos.insert(p, t0.elapsed().as_nanos() as u64);
    }
    let outcome = Simulation::new(net.clone(), machines, rng.next_u64()).with_clock(clock()).run();
    let mut outputs = BTreeMap::new();
    for (p, r) in outcome.results {
        outputs.insert(p, r.map_err(|e: ProtocolError| anyhow!("{p}: {e}"))?);
    }
    let per_party: Vec<f64> = outcome
        .stats
        .iter()
        .map(|(p, s)| (s.compute_nanos + start_nanos.get(p).copied().unwrap_or(0)) as f64 / 1e6)
        .collect();
    let ms = per_party.iter().sum::<f64>() / per_party.len().max(1) as f64;
    let bytes = outcome.stats.values().map(|s| s.bytes_sent).max().unwrap_or(0);
    Ok((outputs, Cost { ms, bytes }))
}

pub(crate) fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// Distributed key generation; checks every party holds the same public data.
fn keygen<C: Curve>(
    rng: &mut ChaCha20Rng,
    n: u16,
    t: u16,
) -> Result<(BTreeMap<PartyIndex, KeyShare<C>>, KeyReport, Cost)> {
    let net = Network::new(rng, PartySet::range(n)?);
    let (shares, cost) = simulate(&net, rng, |_, cfg, rng| Ok(dkg::start::<C>(cfg, t, rng)?))?;
    let first = shares.values().next().context("no party")?;
    let verified = shares.values().all(|s| {
        s.public() == first.public()
            && s.public().public_shares.get(&s.me()) == Some(&s.expose_secret_share().public_point())
    });
    if !verified {
        bail!("parties disagree on the key");
    }
    let report = KeyReport {
        curve: C::ID.name(),
        key_id: first.key_id().to_string(),
        parties: net.parties.to_u16s(),
        threshold: t,
        public_key: hex::encode(C::encode_point(&first.public_key())),
        chain_code: hex::encode(first.public().chain_code),
        verified,
        timings_ms: BTreeMap::from([("keygen", round3(cost.ms))]),
        bytes_sent_per_party: BTreeMap::from([("keygen", cost.bytes)]),
    };
    Ok((shares, report, cost))
}

/// Each party's Paillier primes, kept by the demo so that a party staying in a new group reuses
/// its key (a node keeps its Paillier key; only the group's aux-info is run again).
type Primes = BTreeMap<PartyIndex, (Integer, Integer)>;

/// Safe primes for every party that has none yet, then the aux-info protocol.
fn aux_setup(
    rng: &mut ChaCha20Rng,
    n: u16,
    json: bool,
    primes: &mut Primes,
) -> Result<(BTreeMap<PartyIndex, Arc<AuxInfo>>, Cost)> {
    let threads = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
    let mut keys = BTreeMap::new();
    let t0 = Instant::now();
    let mut generated = 0u32;
    for p in (0..n).map(PartyIndex) {
        let (prime_p, prime_q) = match primes.entry(p) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                if !json {
                    eprintln!("  · {p}: two {PRIME_BITS}-bit safe primes…");
                }
                generated += 1;
                let prime_p = generate_safe_prime(rng, PRIME_BITS, threads)?;
                let prime_q = generate_safe_prime(rng, PRIME_BITS, threads)?;
                e.insert((prime_p, prime_q))
            }
        };
        keys.insert(p, DecryptionKey::from_safe_primes(prime_p.clone(), prime_q.clone())?);
    }
    let prime_ms = t0.elapsed().as_secs_f64() * 1000.0 / f64::from(generated.max(1));
    let net = Network::new(rng, PartySet::range(n)?);
    let (aux, cost) = simulate(&net, rng, |p, cfg, rng| {
        let dk = keys.remove(&p).context("prime pair")?;
        Ok(aux_info::start(cfg, dk, rng)?)
    })?;
    Ok((aux.into_iter().map(|(p, a)| (p, Arc::new(a))).collect(), Cost { ms: cost.ms + prime_ms, bytes: cost.bytes }))
}

/// The signer set of a demo: the first `t − 1` parties and the last one.
pub(crate) fn signer_set(n: u16, t: u16) -> Result<PartySet> {
    let mut v: Vec<PartyIndex> = (0..t.saturating_sub(1)).map(PartyIndex).collect();
    v.push(PartyIndex(n - 1));
    Ok(PartySet::new(v)?)
}

/// SubjectPublicKeyInfo (DER) of a public key, for OpenSSL.
fn spki(scheme: &str, key: &[u8]) -> Option<Vec<u8>> {
    let prefix = match scheme {
        "ecdsa-secp256k1" => "3036301006072a8648ce3d020106052b8104000a032200",
        "ecdsa-p256" => "3039301306072a8648ce3d020106082a8648ce3d030107032200",
        "ed25519" => "302a300506032b6570032100",
        _ => return None,
    };
    let mut der = hex::decode(prefix).ok()?;
    der.extend_from_slice(key);
    Some(der)
}

/// Verifies with the `openssl` command (`None` if OpenSSL is not installed or has no verifier
/// for the scheme). ECDSA is checked over the digest; Ed25519 over the message.
pub(crate) fn openssl_verify(scheme: &str, key: &[u8], signed: &[u8], signature: &[u8]) -> Option<bool> {
    let der = spki(scheme, key)?;
    Command::new("openssl").arg("version").output().ok().filter(|o| o.status.success())?;
    let dir = std::env::temp_dir().join(format!("conclave-demo-{}-{}", std::process::id(), OsRng.next_u32()));
    std::fs::create_dir_all(&dir).ok()?;
    let (kf, sf, mf) = (dir.join("key.der"), dir.join("sig"), dir.join("data"));
    let written = std::fs::write(&kf, der).and(std::fs::write(&sf, signature)).and(std::fs::write(&mf, signed));
    let mut cmd = Command::new("openssl");
    cmd.args(["pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey"]).arg(&kf).arg("-sigfile").arg(&sf);
    if scheme == "ed25519" {
        cmd.arg("-rawin");
    }
    cmd.arg("-in").arg(&mf);
    let ok = written.is_ok() && cmd.output().map(|o| o.status.success()).unwrap_or(false);
    let _ = std::fs::remove_dir_all(&dir);
    Some(ok)
}

pub(crate) fn verdict(ours: bool, openssl: Option<bool>) -> (bool, Vec<&'static str>) {
    let mut by = Vec::new();
    if ours {
        by.push("conclave");
    }
    if openssl == Some(true) {
        by.push("openssl");
    }
    (ours && openssl != Some(false), by)
}

/// Threshold ECDSA: presign, then sign one SHA-256 message.
#[allow(clippy::too_many_arguments)]
fn ecdsa<C: ThresholdCurve>(
    scheme: &'static str,
    rng: &mut ChaCha20Rng,
    keys: &BTreeMap<PartyIndex, KeyShare<C>>,
    aux: &BTreeMap<PartyIndex, Arc<AuxInfo>>,
    signers: &PartySet,
    keygen_cost: Cost,
    aux_cost: Cost,
) -> Result<SchemeResult> {
    let message = format!("Conclave demo: {scheme} signature by a threshold group").into_bytes();
    let data = SignedData::Message { hash: HashName::Sha256, message: message.clone() };
    let path = DerivationPath::root();
    let net = Network::new(rng, signers.clone());
    let (presigs, presign_cost) = simulate(&net, rng, |p, cfg, rng| {
        let key = keys.get(&p).context("key share")?;
        let a = aux.get(&p).context("aux info")?.clone();
        Ok(presign::start::<C>(cfg, key, a, &path, rng)?)
    })?;
    let mut presigs = presigs;
    let net = net.in_session(conclave_protocol::SessionId::random(rng));
    let (sigs, sign_cost) = simulate(&net, rng, |p, cfg, rng| {
        let ps = presigs.remove(&p).context("presignature")?;
        Ok(sign::start::<C>(cfg, ps, &data, rng)?)
    })?;
    let sig = sigs.values().next().context("no signature")?;
    if sigs.values().any(|s| s != sig) {
        bail!("signers released different signatures");
    }
    let key = keys.values().next().context("key")?;
    let public_key = C::encode_point(&sig.public_key);
    let der = sig.signature.to_der();
    let ours = sig.signature.verify(&sig.public_key, &data.digest());
    let (verified, verified_by) = verdict(ours, openssl_verify(scheme, &public_key, &data.digest(), &der));
    Ok(SchemeResult {
        scheme,
        key_id: key.key_id().to_string(),
        signers: signers.to_u16s(),
        public_key: hex::encode(public_key),
        message: hex::encode(&message),
        hash: "sha256",
        signature: hex::encode(der),
        recovery_id: Some(sig.recovery_id),
        taproot_tweaked: false,
        verified,
        verified_by,
        timings_ms: BTreeMap::from([
            ("keygen", round3(keygen_cost.ms)),
            ("aux_info", round3(aux_cost.ms)),
            ("presign", round3(presign_cost.ms)),
            ("sign", round3(sign_cost.ms)),
        ]),
        bytes_sent_per_party: BTreeMap::from([
            ("keygen", keygen_cost.bytes),
            ("aux_info", aux_cost.bytes),
            ("presign", presign_cost.bytes),
            ("sign", sign_cost.bytes),
        ]),
    })
}

/// Reshares `keys` (t-of-n) to a new group of n2 parties with threshold t2, runs aux-info for
/// the new group, and signs with t2 of the new parties under the unchanged public key.
fn reshare_and_sign(
    rng: &mut ChaCha20Rng,
    keys: &BTreeMap<PartyIndex, KeyShare<Secp256k1>>,
    before: &SchemeResult,
    (n, t): (u16, u16),
    (n2, t2): (u16, u16),
    primes: &mut Primes,
    json: bool,
) -> Result<ReshareReport> {
    let public = keys.values().next().context("key")?.public().clone();
    let params = ReshareParams {
        old_signers: PartySet::new(before.signers.iter().map(|p| PartyIndex(*p)))?,
        new_parties: PartySet::range(n2)?,
        new_threshold: t2,
    };
    let net = Network::new(rng, params.session_parties()?);
    let (outputs, reshare_cost) = simulate(&net, rng, |p, cfg, rng| {
        let input = match keys.get(&p) {
            Some(k) => ReshareInput::Holder(k),
            None => ReshareInput::Public(&public),
        };
        Ok(reshare::start::<Secp256k1>(cfg, &params, input, rng)?)
    })?;
    let committed = outputs.values().all(|o| o.receipt().verify(&net.public_keys));
    let new_keys: BTreeMap<PartyIndex, KeyShare<Secp256k1>> =
        outputs.into_iter().filter_map(|(p, o)| o.into_key_share().map(|k| (p, k))).collect();
    if new_keys.len() != usize::from(n2) {
        bail!("not every new party received a share");
    }
    let (aux, aux_cost) = aux_setup(rng, n2, json, primes)?;
    let signers = signer_set(n2, t2)?;
    let after = ecdsa::<Secp256k1>("ecdsa-secp256k1", rng, &new_keys, &aux, &signers, reshare_cost, aux_cost)?;
    if after.public_key != before.public_key {
        bail!("the public key changed in the reshare");
    }
    let group = |r: &SchemeResult, parties: u16, threshold: u16| GroupSignature {
        parties,
        threshold,
        public_key: r.public_key.clone(),
        signature: r.signature.clone(),
        message: r.message.clone(),
        signers: r.signers.clone(),
        verified: r.verified,
    };
    Ok(ReshareReport {
        scheme: "ecdsa-secp256k1",
        before: group(before, n, t),
        committed,
        timings_ms: BTreeMap::from([
            ("reshare", round3(reshare_cost.ms)),
            ("aux_info", round3(aux_cost.ms)),
            ("presign", after.timings_ms.get("presign").copied().unwrap_or(0.0)),
            ("sign", after.timings_ms.get("sign").copied().unwrap_or(0.0)),
        ]),
        bytes_sent_per_party: BTreeMap::from([
            ("reshare", reshare_cost.bytes),
            ("aux_info", aux_cost.bytes),
            ("presign", after.bytes_sent_per_party.get("presign").copied().unwrap_or(0)),
            ("sign", after.bytes_sent_per_party.get("sign").copied().unwrap_or(0)),
        ]),
        after: group(&after, n2, t2),
    })
}

/// Threshold Schnorr (FROST) for one request.
fn frost<S: Scheme>(
    scheme: &'static str,
    rng: &mut ChaCha20Rng,
    keys: &BTreeMap<PartyIndex, KeyShare<S::Curve>>,
    signers: &PartySet,
    request: &SignRequest,
    keygen_cost: Cost,
) -> Result<SchemeResult> {
    let net = Network::new(rng, signers.clone());
    let (sigs, cost) = simulate(&net, rng, |p, cfg, rng| {
        let key = keys.get(&p).context("key share")?;
        Ok(conclave_frost::start::<S>(cfg, key, request, rng)?)
    })?;
    let sig = sigs.values().next().context("no signature")?;
    if sigs.values().any(|s| s != sig) {
        bail!("signers released different signatures");
    }
    let ours = sig.verify(&request.message);
    let (verified, verified_by) =
        verdict(ours, openssl_verify(scheme, &sig.public_key, &request.message, &sig.signature));
    let key = keys.values().next().context("key")?;
    Ok(SchemeResult {
        scheme,
        key_id: key.key_id().to_string(),
        signers: signers.to_u16s(),
        public_key: hex::encode(&sig.public_key),
        message: hex::encode(&request.message),
        hash: "none",
        signature: hex::encode(&sig.signature),
        recovery_id: None,
        taproot_tweaked: !matches!(request.tweak, conclave_frost::Tweak::None),
        verified,
        verified_by,
        timings_ms: BTreeMap::from([("keygen", round3(keygen_cost.ms)), ("sign", round3(cost.ms))]),
        bytes_sent_per_party: BTreeMap::from([("keygen", keygen_cost.bytes), ("sign", cost.bytes)]),
    })
}

/// Runs the demo: on nodes, or with `--in-process` in the simulator.
/// Checks `--threshold` against `--parties` (whose own range each demo checks) and gives the
/// schemes asked for (default: all), refusing an unknown one.
pub(crate) fn checked_schemes(args: &DemoArgs) -> Result<Vec<String>> {
    let (n, t) = (args.parties, args.threshold);
    if t == 0 || t > n {
        bail!("--threshold must be between 1 and --parties ({n}) (got {t})");
    }
    let schemes: Vec<String> =
        args.schemes.clone().unwrap_or_else(|| ALL_SCHEMES.iter().map(|s| s.to_string()).collect());
    if let Some(bad) = schemes.iter().find(|s| !ALL_SCHEMES.contains(&s.as_str())) {
        bail!("unknown scheme {bad:?}; known: {}", ALL_SCHEMES.join(", "));
    }
    Ok(schemes)
}

pub fn run(args: &DemoArgs) -> Result<()> {
    if !args.in_process {
        return crate::demo_nodes::run(args);
    }
    let (n, t) = (args.parties, args.threshold);
    if n == 0 || n > 10 {
        bail!("--parties must be between 1 and 10 (got {n})");
    }
    let schemes = checked_schemes(args)?;
    let want = |s: &str| schemes.iter().any(|x| x == s);
    let seed = args.seed.unwrap_or_else(|| OsRng.next_u64());
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let signers = signer_set(n, t)?;
    let progress = |msg: &str| {
        if !args.json {
            eprintln!("· {msg}");
        }
    };
    let mut results = Vec::new();
    let mut keys_out = Vec::new();

    let ecdsa_wanted = want("ecdsa-secp256k1") || want("ecdsa-p256");
    let mut primes = Primes::new();
    let aux = if ecdsa_wanted {
        progress(&format!("auxiliary set-up for threshold ECDSA: Paillier keys and proofs for {n} parties…"));
        Some(aux_setup(&mut rng, n, args.json, &mut primes)?)
    } else {
        None
    };
    let mut reshare_report = None;
    if want("ecdsa-secp256k1") {
        progress(&format!("ecdsa-secp256k1: key generation ({t}-of-{n}, no dealer), presigning, signing…"));
        let (keys, report, kc) = keygen::<Secp256k1>(&mut rng, n, t)?;
        let (aux, ac) = aux.as_ref().context("aux")?;
        let before = ecdsa::<Secp256k1>("ecdsa-secp256k1", &mut rng, &keys, aux, &signers, kc, *ac)?;
        if !args.no_reshare {
            let (n2, t2) = (n + 2, t + 1);
            progress(&format!(
                "ecdsa-secp256k1: resharing the key from {t}-of-{n} to {t2}-of-{n2}, then signing with the new group…"
            ));
            reshare_report =
                Some(reshare_and_sign(&mut rng, &keys, &before, (n, t), (n2, t2), &mut primes, args.json)?);
        }
        results.push(before);
        keys_out.push(report);
    }
    if want("ecdsa-p256") {
        progress(&format!("ecdsa-p256: key generation ({t}-of-{n}), presigning, signing…"));
        let (keys, report, kc) = keygen::<P256>(&mut rng, n, t)?;
        let (aux, ac) = aux.as_ref().context("aux")?;
        results.push(ecdsa::<P256>("ecdsa-p256", &mut rng, &keys, aux, &signers, kc, *ac)?);
        keys_out.push(report);
    }
    if want("schnorr-bip340") {
        progress(&format!("schnorr-bip340: key generation ({t}-of-{n}), FROST signing, plain and Taproot…"));
        let (keys, report, kc) = keygen::<Secp256k1>(&mut rng, n, t)?;
        let sighash: [u8; 32] = Sha256::digest(b"Conclave demo: BIP-340 message").into();
        results.push(frost::<Bip340>("schnorr-bip340", &mut rng, &keys, &signers, &SignRequest::new(sighash), kc)?);
        let request = SignRequest::taproot(sighash, None);
        results.push(frost::<Bip340>("schnorr-bip340", &mut rng, &keys, &signers, &request, kc)?);
        keys_out.push(report);
    }
    if want("ed25519") {
        progress(&format!("ed25519: key generation ({t}-of-{n}), FROST signing…"));
        let (keys, report, kc) = keygen::<Ed25519>(&mut rng, n, t)?;
        let request = SignRequest::new(b"Conclave demo: Ed25519 signature by a threshold group".to_vec());
        results.push(frost::<FrostEd25519>("ed25519", &mut rng, &keys, &signers, &request, kc)?);
        keys_out.push(report);
    }
    let out = Output {
        conclave_version: env!("CARGO_PKG_VERSION"),
        cluster: Cluster { parties: n, threshold: t, transport: "in-process" },
        results,
        keys: keys_out,
        reshare: reshare_report,
        steps: Vec::new(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_report(&out);
    }
    let reshare_ok = out.reshare.as_ref().is_none_or(|r| r.committed && r.after.verified && r.before.verified);
    if out.results.iter().any(|r| !r.verified) || out.keys.iter().any(|k| !k.verified) || !reshare_ok {
        bail!("a signature or key failed verification");
    }
    Ok(())
}

/// The signatures of a demo run and its reshare, as the readable report lists them.
pub(crate) fn print_signatures(out: &Output, committed: &str) {
    for r in &out.results {
        let tweak = if r.taproot_tweaked { " (Taproot-tweaked)" } else { "" };
        println!("{}{tweak} — signers {:?}", r.scheme, r.signers);
        println!("  public key  {}", r.public_key);
        println!(
            "  message     {}{}",
            r.message,
            if r.hash == "none" { String::new() } else { format!(" ({} applied)", r.hash) }
        );
        println!("  signature   {}", r.signature);
        if let Some(v) = r.recovery_id {
            println!("  recovery id {v}");
        }
        println!(
            "  {} verified by: {}",
            if r.verified { "✓" } else { "✗" },
            if r.verified_by.is_empty() { "nobody".to_owned() } else { r.verified_by.join(", ") }
        );
    }
    if let Some(r) = &out.reshare {
        println!(
            "{} reshared from {}-of-{} to {}-of-{} ({}):",
            r.scheme,
            r.before.threshold,
            r.before.parties,
            r.after.threshold,
            r.after.parties,
            if r.committed { committed } else { "NOT committed" }
        );
        println!("  public key  {} (unchanged)", r.after.public_key);
        println!("  new signers {:?}: signature {}", r.after.signers, r.after.signature);
        println!("  {} verified", if r.after.verified { "✓" } else { "✗" });
    }
}

fn print_report(out: &Output) {
    println!("Conclave {} — local demo", out.conclave_version);
    println!(
        "{} parties in one process, threshold {}: any {} of them can sign, no fewer; the full private key never exists.",
        out.cluster.parties, out.cluster.threshold, out.cluster.threshold
    );
    println!();
    print_signatures(out, "hand-over committed: every party signed its confirmation");
    println!();
    println!("Per-party cost (mean compute time, largest traffic):");
    println!("  {:<30} {:>12} {:>12} {:>12} {:>12}", "scheme", "keygen", "aux_info", "presign", "sign");
    for r in &out.results {
        let cell = |k: &str| match (r.timings_ms.get(k), r.bytes_sent_per_party.get(k)) {
            (Some(ms), Some(b)) => format!("{ms:.1}ms/{}K", b.div_ceil(1024)),
            _ => "—".to_owned(),
        };
        let name = format!("{}{}", r.scheme, if r.taproot_tweaked { " (taproot)" } else { "" });
        println!(
            "  {:<30} {:>12} {:>12} {:>12} {:>12}",
            name,
            cell("keygen"),
            cell("aux_info"),
            cell("presign"),
            cell("sign")
        );
    }
    println!("  (aux_info includes generating each party's two 1536-bit safe primes; it is done once per group.)");
}
