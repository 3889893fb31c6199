//! `conclave demo` on real nodes: writes a cluster into a directory (as `conclave init` does),
//! starts every node in this process (each with its own encrypted store, mutually authenticated
//! TLS 1.3 between nodes on 127.0.0.1, and its HTTPS API on loopback), then does everything
//! through the API with the typed client: key generation, signing on every scheme, the reshare
//! of the secp256k1 key to a larger group and a signature by the new group. Each signature is
//! checked by our verifier and, where OpenSSL has one, by OpenSSL. Times and traffic come from
//! the nodes' own session records (`GET /v1/sessions/{id}`: duration and protocol bytes sent).
//!
//! The nodes start with empty prime pools: every Paillier key is made from fresh safe primes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use conclave_api::{
    Client, ClientError, ClientOptions, CreateKeyRequest, ErrorCode, HashAlg, Hex, KeyView, ReshareRequest, Scheme,
    SessionView, SignRequest, SignatureView, Taproot, Trust,
};
use conclave_ecdsa::signature::{verify_der, EcdsaCurve};
use conclave_math::{Secp256k1, P256};
use conclave_node::{Node, NodeConfig};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::client_config::ClientFile;
use crate::demo::{
    checked_schemes, openssl_verify, print_signatures, round3, signer_set, verdict, Cluster, DemoArgs, GroupSignature,
    KeyReport, Output, ReshareReport, SchemeResult,
};

/// How long the demo waits for one API call or for a presignature.
const CALL_TIMEOUT: Duration = Duration::from_secs(900);

/// One step of the demo (one or more API calls) and the sessions that ran during it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepReport {
    pub(crate) step: String,
    /// Wall-clock time of the step as the client saw it.
    pub(crate) wall_ms: f64,
    pub(crate) sessions: Vec<SessionCost>,
}

/// A finished session: its duration on the proposing node and the most protocol bytes one
/// participant sent in it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SessionCost {
    pub(crate) kind: String,
    pub(crate) session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) key_id: Option<String>,
    pub(crate) participants: Vec<u16>,
    pub(crate) duration_ms: f64,
    /// The largest `bytes_sent` any participant reports (absent if a participant's record
    /// could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_bytes_sent: Option<u64>,
}

/// A line of progress on stderr (not with `--json`, which keeps stderr for errors); while a
/// step runs and stderr is a terminal, a ticker shows the elapsed time.
struct Progress {
    quiet: bool,
    tty: bool,
    current: Arc<Mutex<(String, Instant)>>,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        let tty = std::io::stderr().is_terminal();
        Progress { quiet, tty, current: Arc::new(Mutex::new((String::new(), Instant::now()))) }
    }

    fn step(&self, what: &str) {
        if self.quiet {
            return;
        }
        if self.tty {
            eprint!("\r\x1b[2K");
        }
        eprintln!("· {what}");
        if let Ok(mut c) = self.current.lock() {
            *c = (what.to_owned(), Instant::now());
        }
    }

    /// Starts the ticker (terminals only); it stops when the returned handle is aborted.
    fn ticker(&self) -> Option<tokio::task::JoinHandle<()>> {
        if self.quiet || !self.tty {
            return None;
        }
        let current = self.current.clone();
        Some(tokio::spawn(async move {
            let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let mut i = 0usize;
            loop {
                tokio::time::sleep(Duration::from_millis(150)).await;
                let line = current.lock().map(|c| (c.0.clone(), c.1.elapsed().as_secs_f64())).ok();
                if let Some((what, secs)) = line {
                    let f = frames.get(i % frames.len()).copied().unwrap_or('.');
                    eprint!("\r\x1b[2K  {f} {what} {secs:.0}s");
                    let _ = std::io::stderr().flush();
                }
                i = i.wrapping_add(1);
            }
        }))
    }

    fn clear(&self) {
        if !self.quiet && self.tty {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}

/// The nodes and their API clients.
struct NodeCluster {
    running: Vec<(Arc<Node>, conclave_node::api::ApiHandle)>,
    clients: Vec<Client>,
}

/// Loopback ports nobody listens on now (bound once, then released).
fn free_ports(n: usize) -> Result<Vec<u16>> {
    let listeners: Vec<std::net::TcpListener> =
        (0..n).map(|_| std::net::TcpListener::bind("127.0.0.1:0")).collect::<Result<_, _>>().context("free port")?;
    listeners.iter().map(|l| Ok(l.local_addr().context("free port")?.port())).collect()
}

async fn start_cluster(dir: &Path, total: u16) -> Result<NodeCluster> {
    let ports = free_ports(2 * usize::from(total))?;
    let (peer_ports, api_ports) = ports.split_at(usize::from(total));
    let layout = crate::node_cmd::write_cluster(&crate::node_cmd::ClusterSpec {
        dir,
        parties: total,
        peer_ports: peer_ports.to_vec(),
        api_ports: api_ports.to_vec(),
        // Fresh safe primes, made when a Paillier key is needed.
        prime_pool: 0,
        // One presignature per ECDSA key, made in the background after key generation.
        presign_pool: 1,
        // Fresh safe primes take a while on a small machine: a party still generating its
        // primes must not be taken for a silent one.
        round_secs: Some(600),
    })?;
    let file = ClientFile::load(&layout.client_config)?;
    let token = file.token.clone().context("client.toml has no token")?;
    let mut running = Vec::new();
    for path in &layout.configs {
        let config = NodeConfig::load(path).with_context(|| format!("configuration {}", path.display()))?;
        let api_config = config.api.clone().context("the demo's node configuration has an [api] section")?;
        let tls = config.tls.clone();
        let node = Arc::new(Node::start(config).await.with_context(|| format!("starting {}", path.display()))?);
        let api = conclave_node::api::serve(node.clone(), api_config, Some(tls)).await.context("starting the API")?;
        running.push((node, api));
    }
    let mut clients = Vec::new();
    for i in 0..total {
        let entry = file.node(Some(i))?;
        let c = Client::new(ClientOptions {
            node: entry.url.clone(),
            token: Some(token.expose().to_owned()),
            trust: Trust::PinSha256(entry.cert_sha256),
            identity: None,
            timeout: CALL_TIMEOUT,
        })
        .map_err(|e| anyhow!("API client for node {i}: {e}"))?;
        clients.push(c);
    }
    Ok(NodeCluster { running, clients })
}

async fn stop_cluster(cluster: NodeCluster) {
    let mut nodes = Vec::new();
    for (node, api) in cluster.running {
        api.shutdown().await;
        nodes.push(node);
    }
    for mut node in nodes {
        // Operations started through the API hold the node until they end: give them a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match Arc::try_unwrap(node) {
                Ok(n) => {
                    n.shutdown().await;
                    break;
                }
                Err(n) if Instant::now() < deadline => {
                    node = n;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(_) => break,
            }
        }
    }
}

fn api_err(what: &str) -> impl Fn(ClientError) -> anyhow::Error + '_ {
    move |e| anyhow!("{what}: {e}")
}

/// Runs the steps and keeps the record of sessions.
struct Demo<'a> {
    clients: &'a [Client],
    progress: &'a Progress,
    /// Sessions of node 0 already attributed to a step.
    seen: BTreeSet<String>,
    /// Every finished session, by id.
    sessions: BTreeMap<String, SessionCost>,
    steps: Vec<StepReport>,
}

impl<'a> Demo<'a> {
    fn c0(&self) -> Result<&'a Client> {
        self.clients.first().context("no node")
    }

    /// Runs one step and records the sessions node 0 finished during it.
    async fn step<T>(&mut self, name: String, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        self.progress.step(&name);
        let t0 = Instant::now();
        let out = fut.await?;
        let wall_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let sessions = self.collect().await?;
        self.steps.push(StepReport { step: name, wall_ms: round3(wall_ms), sessions });
        Ok(out)
    }

    /// The sessions node 0 finished since the last call, with every participant's traffic.
    async fn collect(&mut self) -> Result<Vec<SessionCost>> {
        let list = self.c0()?.sessions().await.map_err(api_err("listing sessions"))?;
        let mut out = Vec::new();
        for s in list.sessions {
            let id = s.session_id.to_string();
            if s.duration_ms.is_none() || self.seen.contains(&id) {
                continue;
            }
            self.seen.insert(id.clone());
            let cost = self.cost(&s).await;
            self.sessions.insert(id, cost.clone());
            out.push(cost);
        }
        Ok(out)
    }

    async fn cost(&self, s: &SessionView) -> SessionCost {
        let id = s.session_id.to_string();
        let mut max: Option<u64> = Some(0);
        for p in &s.participants {
            // A participant records the end of a session after the proposer does (seconds later
            // at the end of an aux-info, whose last round is each party checking the proofs).
            let mut bytes = None;
            if let Some(c) = self.clients.get(usize::from(*p)) {
                let t0 = Instant::now();
                while t0.elapsed() < Duration::from_secs(120) {
                    match c.session(&id).await {
                        Ok(v) if v.bytes_sent.is_some() => {
                            bytes = v.bytes_sent;
                            break;
                        }
                        Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                        // Never started there (or forgotten): no count to report.
                        Err(_) => break,
                    }
                }
            }
            max = match (max, bytes) {
                (Some(m), Some(b)) => Some(m.max(b)),
                _ => None,
            };
        }
        SessionCost {
            kind: s.kind.clone(),
            session_id: id,
            key_id: s.key_id.clone(),
            participants: s.participants.clone(),
            duration_ms: s.duration_ms.map_or(0.0, |d| d as f64),
            max_bytes_sent: max,
        }
    }

    /// The session of `kind` (for `key`, if given) recorded in the last step.
    fn last_step_session(&self, kind: &str, key: Option<&str>) -> Option<SessionCost> {
        self.steps
            .last()?
            .sessions
            .iter()
            .find(|s| s.kind == kind && key.is_none_or(|k| s.key_id.as_deref() == Some(k)))
            .cloned()
    }

    /// Waits until node 0 holds a presignature of `key`; returns the session that made it.
    async fn presignature(&mut self, scheme: &str, key: &str) -> Result<Option<SessionCost>> {
        let c0 = self.c0()?;
        let key_owned = key.to_owned();
        self.step(format!("{scheme}: presignature (made in the background by the pool)"), async move {
            let t0 = Instant::now();
            loop {
                let pool = c0.presignatures(&key_owned).await.map_err(api_err("presignature pool"))?;
                if pool.count > 0 {
                    return Ok(());
                }
                if t0.elapsed() > CALL_TIMEOUT {
                    bail!("no presignature for {key_owned} after {} s", CALL_TIMEOUT.as_secs());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await?;
        // The pool shows the presignature a moment before its session is recorded as ended.
        let find =
            |d: &Self| d.sessions.values().find(|s| s.kind == "presign" && s.key_id.as_deref() == Some(key)).cloned();
        for _ in 0..100 {
            if let Some(s) = find(self) {
                return Ok(Some(s));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            let more = self.collect().await?;
            if let Some(step) = self.steps.last_mut() {
                step.sessions.extend(more);
            }
        }
        Ok(None)
    }
}

fn put(
    timings: &mut BTreeMap<&'static str, f64>,
    bytes: &mut BTreeMap<&'static str, u64>,
    phase: &'static str,
    s: Option<&SessionCost>,
) {
    if let Some(s) = s {
        timings.insert(phase, s.duration_ms);
        // Omitted, not faked, when a participant's count could not be read.
        if let Some(b) = s.max_bytes_sent {
            bytes.insert(phase, b);
        }
    }
}

/// A key as `c`'s node reports it; a node that ends a session a moment after the proposer may
/// not hold it yet, so a missing key is asked for again for a few seconds.
async fn key_on(c: &Client, key_id: &str) -> Result<KeyView> {
    let t0 = Instant::now();
    loop {
        match c.key(key_id).await {
            Ok(k) => return Ok(k),
            Err(e)
                if t0.elapsed() < Duration::from_secs(10)
                    && e.body().is_some_and(|b| b.code == ErrorCode::NotFound) =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(anyhow!("reading key {key_id} on every holder: {e}")),
        }
    }
}

/// Checks that every holder's node reports the same public data for `key`.
async fn key_report(clients: &[Client], key: &KeyView, keygen: Option<&SessionCost>) -> Result<KeyReport> {
    let mut verified = true;
    for p in &key.parties {
        let c = clients.get(usize::from(*p)).context("party without a node")?;
        let k = key_on(c, &key.key_id.to_string()).await?;
        verified &= k.public_key == key.public_key
            && k.chain_code == key.chain_code
            && k.threshold == key.threshold
            && k.parties == key.parties;
    }
    let (mut timings_ms, mut bytes_sent_per_party) = (BTreeMap::new(), BTreeMap::new());
    put(&mut timings_ms, &mut bytes_sent_per_party, "keygen", keygen);
    Ok(KeyReport {
        curve: match key.scheme {
            Scheme::EcdsaP256 => "p256",
            Scheme::Ed25519 => "ed25519",
            _ => "secp256k1",
        },
        key_id: key.key_id.to_string(),
        parties: key.parties.clone(),
        threshold: key.threshold,
        public_key: key.public_key.to_string(),
        chain_code: key.chain_code.to_string(),
        verified,
        timings_ms,
        bytes_sent_per_party,
    })
}

/// Verifies an ECDSA signature of `message` (SHA-256) with our verifier (low S required) and
/// OpenSSL; the digest is computed here, not taken from the node.
fn check_ecdsa(scheme: Scheme, key: &KeyView, sig: &SignatureView, message: &[u8]) -> (bool, Vec<&'static str>) {
    let digest: [u8; 32] = Sha256::digest(message).into();
    let Some(der) = &sig.der else { return (false, Vec::new()) };
    let ours = sig.public_key == key.public_key
        && sig.digest.as_ref().is_none_or(|d| d.0 == digest)
        && match scheme {
            Scheme::EcdsaSecp256k1 => Secp256k1::parse_sec1(&sig.public_key.0)
                .is_some_and(|pk| verify_der::<Secp256k1>(&pk, &digest, &der.0, true)),
            _ => P256::parse_sec1(&sig.public_key.0).is_some_and(|pk| verify_der::<P256>(&pk, &digest, &der.0, true)),
        };
    verdict(ours, openssl_verify(scheme.name(), &sig.public_key.0, &digest, &der.0))
}

/// Verifies a Schnorr signature; for BIP-340 the key must be the key's x-only key, or its
/// Taproot output key (computed here) when `taproot`.
fn check_schnorr(key: &KeyView, sig: &SignatureView, message: &[u8], taproot: bool) -> (bool, Vec<&'static str>) {
    use conclave_frost::SchemeId;
    let (id, expected) = match key.scheme {
        Scheme::Ed25519 => (SchemeId::Ed25519, Some(key.public_key.0.clone())),
        _ => {
            let x_only: Option<[u8; 32]> = key.x_only.as_ref().and_then(|x| x.0.clone().try_into().ok());
            let expected = match (x_only, taproot) {
                (Some(x), true) => conclave_frost::taproot::output_key(&x, None).ok().map(|o| o.output_key.to_vec()),
                (Some(x), false) => Some(x.to_vec()),
                (None, _) => None,
            };
            (SchemeId::Bip340, expected)
        }
    };
    let ours = expected.as_deref() == Some(sig.public_key.0.as_slice())
        && conclave_frost::verify(id, &sig.public_key.0, message, &sig.signature.0);
    verdict(ours, openssl_verify(key.scheme.name(), &sig.public_key.0, message, &sig.signature.0))
}

fn result(
    key: &KeyView,
    sig: &SignatureView,
    message: &[u8],
    hash: &'static str,
    taproot_tweaked: bool,
    (verified, verified_by): (bool, Vec<&'static str>),
    (timings_ms, bytes_sent_per_party): (BTreeMap<&'static str, f64>, BTreeMap<&'static str, u64>),
) -> SchemeResult {
    let is_ecdsa = key.scheme.is_ecdsa();
    SchemeResult {
        scheme: key.scheme.name(),
        key_id: key.key_id.to_string(),
        signers: sig.signers.clone(),
        public_key: sig.public_key.to_string(),
        message: hex::encode(message),
        hash,
        // The contract's ECDSA encoding is DER.
        signature: if is_ecdsa {
            sig.der.as_ref().map(Hex::to_string).unwrap_or_default()
        } else {
            sig.signature.to_string()
        },
        recovery_id: if is_ecdsa { sig.recovery_id } else { None },
        taproot_tweaked,
        verified,
        verified_by,
        timings_ms,
        bytes_sent_per_party,
    }
}

fn parties(range: std::ops::Range<u16>) -> Vec<u16> {
    range.collect()
}

/// An ECDSA key: key generation (with aux-info for a new party set), a presignature from the
/// pool, and a signature of a SHA-256 message by the pool's signer set.
async fn ecdsa(demo: &mut Demo<'_>, scheme: Scheme, n: u16, t: u16) -> Result<(KeyView, SchemeResult, KeyReport)> {
    let c0 = demo.c0()?;
    let req = CreateKeyRequest { scheme, threshold: t, parties: Some(parties(0..n)) };
    let key = demo
        .step(
            format!("{scheme}: key generation {t}-of-{n}, no dealer (ECDSA: aux-info first, with fresh safe primes)"),
            async { c0.create_key(&req).await.map_err(api_err("key generation")) },
        )
        .await?;
    let keygen = demo.last_step_session("keygen", None);
    let aux = demo.sessions.values().find(|s| s.kind == "aux-info" && s.participants == key.parties).cloned();
    let key_id = key.key_id.to_string();
    let presign = demo.presignature(scheme.name(), &key_id).await?;
    let message = format!("Conclave demo: {scheme} signature by a threshold group").into_bytes();
    let signers: Vec<u16> = key.parties.iter().copied().take(usize::from(t)).collect();
    let sig = sign_step(
        demo,
        &key_id,
        format!("{scheme}: sign with parties {signers:?} (SHA-256 message)"),
        SignRequest {
            message: Some(Hex(message.clone())),
            hash: Some(HashAlg::Sha256),
            signers: Some(signers),
            ..SignRequest::default()
        },
    )
    .await?;
    let sign = demo.last_step_session("sign-ecdsa", Some(&key_id));
    let (mut timings, mut bytes) = (BTreeMap::new(), BTreeMap::new());
    put(&mut timings, &mut bytes, "keygen", keygen.as_ref());
    put(&mut timings, &mut bytes, "aux_info", aux.as_ref());
    put(&mut timings, &mut bytes, "presign", presign.as_ref());
    put(&mut timings, &mut bytes, "sign", sign.as_ref());
    let check = check_ecdsa(scheme, &key, &sig, &message);
    let r = result(&key, &sig, &message, "sha256", false, check, (timings, bytes));
    let report = key_report(demo.clients, &key, keygen.as_ref()).await?;
    Ok((key, r, report))
}

async fn sign_step(demo: &mut Demo<'_>, key_id: &str, name: String, req: SignRequest) -> Result<SignatureView> {
    let c0 = demo.c0()?;
    demo.step(name, async { c0.sign(key_id, &req).await.map_err(api_err("signing")) }).await
}

/// A FROST key (`ed25519` or `schnorr-bip340`) and its signatures: the plain one, and for
/// BIP-340 also one under the Taproot-tweaked key.
async fn frost(demo: &mut Demo<'_>, scheme: Scheme, n: u16, t: u16) -> Result<(Vec<SchemeResult>, KeyReport)> {
    let c0 = demo.c0()?;
    let req = CreateKeyRequest { scheme, threshold: t, parties: Some(parties(0..n)) };
    let key = demo
        .step(format!("{scheme}: key generation {t}-of-{n}, no dealer"), async {
            c0.create_key(&req).await.map_err(api_err("key generation"))
        })
        .await?;
    let keygen = demo.last_step_session("keygen", None);
    let key_id = key.key_id.to_string();
    let signers = signer_set(n, t)?.to_u16s();
    let message: Vec<u8> = match scheme {
        Scheme::Ed25519 => b"Conclave demo: Ed25519 signature by a threshold group".to_vec(),
        _ => Sha256::digest(b"Conclave demo: BIP-340 message").to_vec(),
    };
    let tweaks: &[bool] = if scheme == Scheme::SchnorrBip340 { &[false, true] } else { &[false] };
    let mut out = Vec::new();
    for &taproot in tweaks {
        let what = if taproot { " under the Taproot-tweaked key" } else { "" };
        let sig = sign_step(
            demo,
            &key_id,
            format!("{scheme}: sign with parties {signers:?}{what}"),
            SignRequest {
                message: Some(Hex(message.clone())),
                taproot: taproot.then(Taproot::default),
                signers: Some(signers.clone()),
                ..SignRequest::default()
            },
        )
        .await?;
        let sign = demo.last_step_session("sign-schnorr", Some(&key_id));
        let (mut timings, mut bytes) = (BTreeMap::new(), BTreeMap::new());
        put(&mut timings, &mut bytes, "keygen", keygen.as_ref());
        put(&mut timings, &mut bytes, "sign", sign.as_ref());
        let check = check_schnorr(&key, &sig, &message, taproot);
        out.push(result(&key, &sig, &message, "none", taproot, check, (timings, bytes)));
    }
    Ok((out, key_report(demo.clients, &key, keygen.as_ref()).await?))
}

/// Reshares the secp256k1 key from t-of-n to (t+1)-of-(n+2) and signs with the new group.
async fn reshare(demo: &mut Demo<'_>, key: &KeyView, before: &SchemeResult, n: u16, t: u16) -> Result<ReshareReport> {
    let (n2, t2) = (n + 2, t + 1);
    let c0 = demo.c0()?;
    let req = ReshareRequest { new_parties: parties(0..n2), new_threshold: t2, old_signers: None };
    let key_id = key.key_id.to_string();
    let view = demo
        .step(
            format!(
                "ecdsa-secp256k1: reshare {t}-of-{n} → {t2}-of-{n2} (same public key), then aux-info for the new group"
            ),
            async { c0.reshare(&key_id, &req).await.map_err(api_err("reshare")) },
        )
        .await?;
    let reshare = demo.last_step_session("reshare", None);
    let new_key = view.key.context("node 0 is in the new group but got no new key")?;
    let aux = demo.sessions.values().find(|s| s.kind == "aux-info" && s.participants == new_key.parties).cloned();
    let new_id = new_key.key_id.to_string();
    // Committed: every node of the new group holds the new sharing of the same public key.
    let mut committed = new_key.public_key == key.public_key && new_key.threshold == t2;
    for c in demo.clients.iter().take(usize::from(n2)) {
        let k = key_on(c, &new_id).await?;
        committed &= k.public_key == key.public_key && k.threshold == t2 && k.parties == new_key.parties;
    }
    let presign = demo.presignature("ecdsa-secp256k1 (new group)", &new_id).await?;
    let message = format!("Conclave demo: ecdsa-secp256k1 signature by the new {t2}-of-{n2} group").into_bytes();
    let signers: Vec<u16> = new_key.parties.iter().copied().take(usize::from(t2)).collect();
    let sig = sign_step(
        demo,
        &new_id,
        format!("ecdsa-secp256k1: the new group signs with parties {signers:?}"),
        SignRequest {
            message: Some(Hex(message.clone())),
            hash: Some(HashAlg::Sha256),
            signers: Some(signers.clone()),
            ..SignRequest::default()
        },
    )
    .await?;
    let sign = demo.last_step_session("sign-ecdsa", Some(&new_id));
    let (verified, _) = check_ecdsa(Scheme::EcdsaSecp256k1, &new_key, &sig, &message);
    let (mut timings_ms, mut bytes_sent_per_party) = (BTreeMap::new(), BTreeMap::new());
    put(&mut timings_ms, &mut bytes_sent_per_party, "reshare", reshare.as_ref());
    put(&mut timings_ms, &mut bytes_sent_per_party, "aux_info", aux.as_ref());
    put(&mut timings_ms, &mut bytes_sent_per_party, "presign", presign.as_ref());
    put(&mut timings_ms, &mut bytes_sent_per_party, "sign", sign.as_ref());
    Ok(ReshareReport {
        scheme: "ecdsa-secp256k1",
        before: GroupSignature {
            parties: n,
            threshold: t,
            public_key: before.public_key.clone(),
            signature: before.signature.clone(),
            message: before.message.clone(),
            signers: before.signers.clone(),
            verified: before.verified,
        },
        after: GroupSignature {
            parties: n2,
            threshold: t2,
            public_key: sig.public_key.to_string(),
            signature: sig.der.as_ref().map(Hex::to_string).unwrap_or_default(),
            message: hex::encode(&message),
            signers: sig.signers.clone(),
            verified,
        },
        committed,
        timings_ms,
        bytes_sent_per_party,
    })
}

/// Everything the demo does once the nodes run.
async fn scenario(
    demo: &mut Demo<'_>,
    n: u16,
    t: u16,
    want: &dyn Fn(&str) -> bool,
    reshare_too: bool,
) -> Result<Output> {
    let mut results = Vec::new();
    let mut keys = Vec::new();
    let mut reshare_report = None;
    let mut secp = None;
    if want("ecdsa-secp256k1") {
        let (key, r, k) = ecdsa(demo, Scheme::EcdsaSecp256k1, n, t).await?;
        secp = Some((key, results.len()));
        results.push(r);
        keys.push(k);
    }
    if want("ecdsa-p256") {
        let (_, r, k) = ecdsa(demo, Scheme::EcdsaP256, n, t).await?;
        results.push(r);
        keys.push(k);
    }
    if want("schnorr-bip340") {
        let (r, k) = frost(demo, Scheme::SchnorrBip340, n, t).await?;
        results.extend(r);
        keys.push(k);
    }
    if want("ed25519") {
        let (r, k) = frost(demo, Scheme::Ed25519, n, t).await?;
        results.extend(r);
        keys.push(k);
    }
    if let (true, Some((key, i))) = (reshare_too, &secp) {
        let before = results.get(*i).context("secp256k1 result")?;
        reshare_report = Some(reshare(demo, key, before, n, t).await?);
    }
    Ok(Output {
        conclave_version: env!("CARGO_PKG_VERSION"),
        cluster: Cluster { parties: n, threshold: t, transport: "mtls-loopback" },
        results,
        keys,
        reshare: reshare_report,
        steps: demo.steps.clone(),
    })
}

/// Runs the demo on nodes.
pub fn run(args: &DemoArgs) -> Result<()> {
    let (n, t) = (args.parties, args.threshold);
    if !(2..=10).contains(&n) {
        bail!("--parties must be between 2 and 10 on nodes (got {n}); --in-process also runs 1 party");
    }
    let schemes = checked_schemes(args)?;
    let want = |s: &str| schemes.iter().any(|x| x == s);
    let reshare_too = want("ecdsa-secp256k1") && !args.no_reshare;
    let total = if reshare_too { n + 2 } else { n };
    if std::env::var_os("CONCLAVE_LOG").is_some() {
        let filter = tracing_subscriber::EnvFilter::try_from_env("CONCLAVE_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    }
    let (_tmp, dir): (Option<tempfile::TempDir>, PathBuf) = match &args.dir {
        Some(d) => (None, d.clone()),
        None => {
            let tmp = tempfile::Builder::new().prefix("conclave-demo-").tempdir().context("temporary directory")?;
            let path = tmp.path().join("cluster");
            (Some(tmp), path)
        }
    };
    // Each node runs on this runtime; a node makes its safe primes on a worker thread, so keep
    // enough workers for the transport and the API to stay responsive meanwhile.
    let workers = usize::from(total) * 2 + 2;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let progress = Progress::new(args.json);
    let started = Instant::now();
    let outcome = runtime.block_on(async {
        progress.step(&format!(
            "writing a {total}-node cluster into {} and starting the nodes (TLS 1.3 between nodes, HTTPS API)",
            dir.display()
        ));
        let cluster = start_cluster(&dir, total).await?;
        let ticker = progress.ticker();
        let mut demo = Demo {
            clients: &cluster.clients,
            progress: &progress,
            seen: BTreeSet::new(),
            sessions: BTreeMap::new(),
            steps: Vec::new(),
        };
        let out = scenario(&mut demo, n, t, &want, reshare_too).await;
        if let Some(t) = ticker {
            t.abort();
        }
        progress.clear();
        stop_cluster(cluster).await;
        out
    });
    // A safe-prime search may still run on the blocking pool: it holds nothing to save.
    runtime.shutdown_timeout(Duration::from_secs(1));
    let out = outcome?;
    let total_secs = started.elapsed().as_secs_f64();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_report(&out, total, total_secs, args.dir.as_deref());
    }
    let reshare_ok = out.reshare.as_ref().is_none_or(|r| r.committed && r.after.verified && r.before.verified);
    if out.results.iter().any(|r| !r.verified) || out.keys.iter().any(|k| !k.verified) || !reshare_ok {
        bail!("a signature or key failed verification");
    }
    Ok(())
}

fn kib(b: Option<u64>) -> String {
    match b {
        Some(b) if b >= 10 * 1024 => format!("{} KiB", b.div_ceil(1024)),
        Some(b) => format!("{b} B"),
        None => "—".to_owned(),
    }
}

fn secs(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

fn print_report(out: &Output, total: u16, total_secs: f64, kept: Option<&Path>) {
    println!("Conclave {} — demo on real nodes", out.conclave_version);
    println!(
        "{total} nodes on 127.0.0.1, each with its own encrypted store; mutual TLS 1.3 between nodes; every step \
         through the HTTPS API. Keys: {t}-of-{n} (any {t} of parties {:?} sign; the full private key never exists).",
        (0..out.cluster.parties).collect::<Vec<u16>>(),
        n = out.cluster.parties,
        t = out.cluster.threshold,
    );
    println!();
    println!("{:<92} {:>9}", "step (sessions: time on the proposing node, most protocol bytes one party sent)", "wall");
    for s in &out.steps {
        println!("{:<92} {:>9}", s.step, secs(s.wall_ms));
        for x in &s.sessions {
            let key = x.key_id.as_deref().map(|k| format!(" key {}…", k.get(..8).unwrap_or(k))).unwrap_or_default();
            println!(
                "    {:<12} parties {:<16} {:>9} {:>10}{key}",
                x.kind,
                format!("{:?}", x.participants),
                secs(x.duration_ms),
                kib(x.max_bytes_sent)
            );
        }
    }
    println!(
        "{:<92} {:>9}",
        "total (from start-up to the last signature, shutdown excluded)",
        format!("{total_secs:.1} s")
    );
    println!();
    print_signatures(out, "every new holder has its share of the same key");
    if let Some(dir) = kept {
        println!();
        println!(
            "The cluster is kept in {}: `conclave node --config {}/node-0/node.toml` …",
            dir.display(),
            dir.display()
        );
    }
}
