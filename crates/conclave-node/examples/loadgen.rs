//! Load generator: signatures per second and latency percentiles of a loopback Conclave cluster.
//!
//! ```text
//! cargo run --release -p conclave-node --example loadgen -- \
//!     [--schemes ecdsa-secp256k1,ecdsa-p256,ed25519,frost-secp256k1,schnorr-bip340] \
//!     [--concurrency 1,10,100] [--requests 100] [--max-seconds 60] \
//!     [--modes cold,warm] [--pool 100] [--warm-via 0,1] [--max-sessions N] [--round-secs 60] \
//!     [--request-timeout 120] [--json]
//! ```
//!
//! It starts three nodes in this process (2-of-3; real TLS 1.3 peer transport on 127.0.0.1, each
//! node with its own temporary store, identity, certificate and master key), each serving its
//! HTTPS client API, and drives signing **through the HTTPS API with the `conclave-api` client**
//! (what clients see: one TCP + TLS connection per request, bearer token, JSON). One key per
//! scheme is generated through the API.
//!
//! A *cell* is (scheme, mode, concurrency): `--requests` sign requests (each over its own
//! message) by `concurrency` workers, each sending its next request when the previous one has
//! answered. A cell is cut after `--max-seconds`: no request starts after that (requests already
//! sent are awaited, at most `--request-timeout` each); what was not started is reported.
//!
//! ECDSA runs in two modes, on two clusters:
//! - **cold**: `[presign_pool] size = 0`, every request is an interactive signing (presign +
//!   sign);
//! - **warm**: `[presign_pool] size = --pool`; before each cell the pool of the key is filled to
//!   that size (the node's own refill plus `Node::presign` calls from here) and the cell starts
//!   only when it is full. Requests go to nodes 0 and 1 (the pool's signer set; a request to
//!   node 2 would sign with {2, 0}, which has no pool). Which requests a presignature served is
//!   read from the proposers' audit logs afterwards; when the pool runs dry, requests fall back to
//!   interactive signing while the node refills the pool in the background.
//!
//! Schnorr schemes (ed25519, frost-secp256k1, schnorr-bip340) have no presignatures (FROST's
//! two rounds are the signing). Requests of Schnorr and cold cells go round-robin to all nodes.
//!
//! Every signature is verified after its cell (outside the timed window) by verifiers we did not
//! write: RustCrypto `k256` (ECDSA, BIP-340) and `p256`, `ed25519-dalek`, and for FROST
//! secp256k1 the Zcash Foundation `frost-secp256k1` verifier (through `conclave_frost::verify`).
//!
//! Paillier safe primes come from the test fixtures of `conclave-testkit` (public test data), so
//! that the run does not spend minutes generating 1536-bit safe primes. Never use them for keys.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use conclave_api::{
    Client, ClientError, ClientOptions, CreateKeyRequest, Hex, KeyView, Scheme, SignRequest, SignatureView, Trust,
};
use conclave_node::api::ApiHandle;
use conclave_node::transport::TlsIdentity;
use conclave_node::{Node, NodeConfig};
use conclave_protocol::IdentityKey;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Nodes in the cluster and the signing threshold.
const PARTIES: u16 = 3;
const THRESHOLD: u16 = 2;
/// The name of the load generator's client in every node's policy.
const CLIENT: &str = "loadgen";

// ---------------------------------------------------------------------------------------------
// Options

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    /// A Schnorr scheme: no presignatures.
    Schnorr,
    /// ECDSA without a pool: presign + sign per request.
    Cold,
    /// ECDSA with the pool filled before the cell.
    Warm,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Schnorr => "-",
            Mode::Cold => "cold",
            Mode::Warm => "warm",
        }
    }
}

#[derive(Clone, Debug)]
struct Options {
    schemes: Vec<Scheme>,
    concurrency: Vec<usize>,
    requests: usize,
    max_seconds: f64,
    /// ECDSA modes to run.
    modes: Vec<Mode>,
    /// The warm cluster's pool size (and the fill target before each warm cell).
    pool: usize,
    /// The nodes that receive the warm cells' requests.
    warm_via: Vec<usize>,
    /// `[limits] max_sessions` of every node (None: the node's default).
    max_sessions: Option<usize>,
    round_secs: u64,
    request_timeout: Duration,
    json: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            schemes: Scheme::ALL.to_vec(),
            concurrency: vec![1, 10, 100],
            requests: 100,
            max_seconds: 60.0,
            modes: vec![Mode::Cold, Mode::Warm],
            pool: 100,
            warm_via: vec![0, 1],
            max_sessions: None,
            round_secs: 60,
            request_timeout: Duration::from_secs(120),
            json: false,
        }
    }
}

const USAGE: &str = "usage: loadgen [--schemes a,b,..] [--concurrency 1,10,100] [--requests N] [--max-seconds S]
               [--modes cold,warm] [--pool P] [--warm-via 0,1] [--max-sessions M] [--round-secs R]
               [--request-timeout S] [--json]
schemes: ecdsa-secp256k1 ecdsa-p256 ed25519 frost-secp256k1 schnorr-bip340 (default: all)";

fn parse_scheme(s: &str) -> Result<Scheme, String> {
    Scheme::ALL.into_iter().find(|x| x.name() == s).ok_or_else(|| format!("unknown scheme `{s}`\n{USAGE}"))
}

fn parse_list<T>(v: &str, f: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(f).collect()
}

fn parse_num<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("{flag}: `{v}` is not a number"))
}

impl Options {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut o = Options::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            if flag == "--json" {
                o.json = true;
                continue;
            }
            if flag == "--help" || flag == "-h" {
                return Err(USAGE.into());
            }
            let value = match inline {
                Some(v) => v,
                None => args.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?,
            };
            match flag.as_str() {
                "--schemes" => o.schemes = parse_list(&value, parse_scheme)?,
                "--concurrency" => o.concurrency = parse_list(&value, |v| parse_num("--concurrency", v))?,
                "--requests" => o.requests = parse_num(&flag, &value)?,
                "--max-seconds" => o.max_seconds = parse_num(&flag, &value)?,
                "--modes" => {
                    o.modes = parse_list(&value, |m| match m {
                        "cold" => Ok(Mode::Cold),
                        "warm" => Ok(Mode::Warm),
                        other => Err(format!("--modes: `{other}` is not cold or warm")),
                    })?
                }
                "--pool" => o.pool = parse_num(&flag, &value)?,
                "--warm-via" => o.warm_via = parse_list(&value, |v| parse_num("--warm-via", v))?,
                "--max-sessions" => o.max_sessions = Some(parse_num(&flag, &value)?),
                "--round-secs" => o.round_secs = parse_num(&flag, &value)?,
                "--request-timeout" => o.request_timeout = Duration::from_secs(parse_num(&flag, &value)?),
                other => return Err(format!("unknown option `{other}`\n{USAGE}")),
            }
        }
        if o.schemes.is_empty() || o.concurrency.is_empty() || o.concurrency.contains(&0) {
            return Err(format!("--schemes and --concurrency need at least one value, concurrency ≥ 1\n{USAGE}"));
        }
        if o.requests == 0 || o.max_seconds.is_nan() || o.max_seconds <= 0.0 {
            return Err("--requests and --max-seconds must be positive".into());
        }
        if o.warm_via.is_empty() || o.warm_via.iter().any(|i| *i >= usize::from(PARTIES)) {
            return Err(format!("--warm-via: node indices below {PARTIES}"));
        }
        if o.modes.contains(&Mode::Warm) && o.pool == 0 {
            return Err("--pool must be at least 1 for warm cells".into());
        }
        o.schemes.dedup();
        o.modes.sort();
        o.modes.dedup();
        Ok(o)
    }

    fn has_ecdsa(&self) -> bool {
        self.schemes.iter().any(|s| is_ecdsa(*s))
    }
}

fn is_ecdsa(s: Scheme) -> bool {
    matches!(s, Scheme::EcdsaSecp256k1 | Scheme::EcdsaP256)
}

// ---------------------------------------------------------------------------------------------
// The cluster

/// Three nodes in this process, each serving the HTTPS API; the clients of their APIs.
struct LoadCluster {
    _dir: tempfile::TempDir,
    nodes: Vec<Arc<Node>>,
    apis: Vec<ApiHandle>,
    clients: Vec<Client>,
    /// How many fixture prime pairs were loaded (0: none).
    fixture_pairs: usize,
}

fn free_port() -> Result<u16, Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl LoadCluster {
    /// Writes the files of `PARTIES` nodes and starts them with their APIs. With `primes`, each
    /// node gets one fixture pair of safe primes (for its Paillier key).
    async fn start(opts: &Options, presign_pool: usize, primes: bool) -> Result<Self, Error> {
        let dir = tempfile::tempdir()?;
        // A fresh token per run: it is never printed; only its hash is in the policy.
        let mut token_bytes = [0u8; 32];
        OsRng.fill_bytes(&mut token_bytes);
        let token = hex::encode(token_bytes);
        let policy = format!(
            "[[clients]]\nname = \"{CLIENT}\"\ntoken_sha256 = \"{}\"\n\n[[rules]]\nclients = [\"{CLIENT}\"]\n\
             actions = [\"keygen\", \"sign\", \"read\"]\n",
            hex::encode(Sha256::digest(token.as_bytes()))
        );
        let mut entries = String::new();
        let mut homes = Vec::new();
        for i in 0..PARTIES {
            let home = dir.path().join(format!("node{i}"));
            std::fs::create_dir_all(home.join("secrets"))?;
            let identity = IdentityKey::generate(&mut OsRng);
            let tls = TlsIdentity::generate_self_signed(&format!("conclave-loadgen-{i}"))?;
            std::fs::write(home.join("identity.key"), hex::encode(identity.expose_seed()))?;
            std::fs::write(home.join("tls.crt"), tls.cert_pem())?;
            std::fs::write(home.join("tls.key"), tls.key_pem().as_str())?;
            let master = conclave_store::MasterKey::generate(&mut OsRng);
            std::fs::write(home.join("secrets/master.key"), master.to_hex().as_str())?;
            std::fs::write(home.join("policy.toml"), &policy)?;
            let port = free_port()?;
            let _ = write!(
                entries,
                "\n[[parties]]\nindex = {i}\naddress = \"127.0.0.1:{port}\"\nidentity_public_key = \"{}\"\n\
                 tls_cert_sha256 = \"{}\"\n",
                hex::encode(identity.public().to_bytes()),
                hex::encode(tls.fingerprint())
            );
            homes.push((i, home, port));
        }
        let limits = match opts.max_sessions {
            Some(m) => format!("[limits]\nmax_sessions = {m}\n\n"),
            None => String::new(),
        };
        let mut configs: Vec<PathBuf> = Vec::new();
        for (i, home, port) in &homes {
            let text = format!(
                "[node]\nindex = {i}\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"data\"\nidentity_key = \"identity.key\"\n\
                 tls_cert = \"tls.crt\"\ntls_key = \"tls.key\"\n\n[master_key]\nfile = \"secrets/master.key\"\n\n\
                 [timeouts]\nround_secs = {round}\nconnect_secs = 5\n\n[presign_pool]\nsize = {presign_pool}\n\n\
                 [prime_pool]\nsize = 0\n\n[api]\nlisten = \"127.0.0.1:{api}\"\n\n{limits}[policy]\nfile = \"policy.toml\"\n{entries}",
                round = opts.round_secs,
                api = free_port()?,
            );
            let path = home.join("node.toml");
            std::fs::write(&path, text)?;
            configs.push(path);
        }
        let mut nodes = Vec::new();
        let mut apis = Vec::new();
        let mut clients = Vec::new();
        for path in &configs {
            let cfg = NodeConfig::load(path)?;
            let api_cfg = cfg.api.clone().ok_or("the configuration has no [api] section")?;
            let tls = cfg.tls.clone();
            let pin = tls.fingerprint();
            let node = Arc::new(Node::start(cfg).await?);
            let api = conclave_node::api::serve(node.clone(), api_cfg, Some(tls)).await?;
            let client = Client::new(ClientOptions {
                token: Some(token.clone()),
                trust: Trust::PinSha256(pin),
                timeout: opts.request_timeout,
                ..ClientOptions::new(format!("https://{}", api.local_addr()))
            })?;
            nodes.push(node);
            apis.push(api);
            clients.push(client);
        }
        let mut fixture_pairs = 0;
        if primes {
            let pairs = conclave_testkit::safe_prime_pairs();
            fixture_pairs = pairs.len();
            for (k, node) in nodes.iter().enumerate() {
                let (p, q) = pairs.get(k % pairs.len().max(1)).ok_or("no fixture safe primes")?;
                let p = rug::Integer::from_str_radix(p, 16)?;
                let q = rug::Integer::from_str_radix(q, 16)?;
                node.add_safe_primes(vec![p, q])?;
            }
        }
        Ok(Self { _dir: dir, nodes, apis, clients, fixture_pairs })
    }

    fn client(&self, i: usize) -> Result<&Client, Error> {
        Ok(self.clients.get(i).ok_or("no such node")?)
    }

    fn node(&self, i: usize) -> Result<&Arc<Node>, Error> {
        Ok(self.nodes.get(i).ok_or("no such node")?)
    }

    /// Generates a 2-of-3 key through node 0's API and waits until every node lists it.
    async fn keygen(&self, scheme: Scheme) -> Result<(KeyView, Duration), Error> {
        let t0 = Instant::now();
        let key = self.client(0)?.create_key(&CreateKeyRequest { scheme, threshold: THRESHOLD, parties: None }).await?;
        let id = key.key_id.to_string();
        for c in &self.clients {
            let mut waited = Duration::ZERO;
            while c.key(&id).await.is_err() {
                if waited > Duration::from_secs(60) {
                    return Err(format!("{scheme:?}: a node does not list key {id} after 60 s").into());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                waited += Duration::from_millis(50);
            }
        }
        Ok((key, t0.elapsed()))
    }

    /// Stops the APIs, then the nodes.
    async fn shutdown(self) {
        for api in self.apis {
            api.shutdown().await;
        }
        for mut node in self.nodes {
            // A detached API task may still hold the node for a moment.
            for _ in 0..200 {
                match Arc::try_unwrap(node) {
                    Ok(n) => {
                        n.shutdown().await;
                        break;
                    }
                    Err(n) => node = n,
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

fn key_id(key: &KeyView) -> Result<conclave_keygen::KeyId, Error> {
    Ok(conclave_keygen::KeyId(key.key_id.to_array::<32>().ok_or("a key id is 32 bytes")?))
}

// ---------------------------------------------------------------------------------------------
// Metrics read from the nodes (in process) around a cell

/// `conclave_session_seconds_{sum,count}` of `kind`, summed over the nodes.
fn session_seconds(nodes: &[Arc<Node>], kind: &str) -> (f64, u64) {
    let (sum_name, count_name) = (
        format!("conclave_session_seconds_sum{{kind=\"{kind}\"}} "),
        format!("conclave_session_seconds_count{{kind=\"{kind}\"}} "),
    );
    let mut sum = 0.0;
    let mut count = 0;
    for n in nodes {
        for line in n.metrics_text().lines() {
            if let Some(v) = line.strip_prefix(&sum_name) {
                sum += v.trim().parse::<f64>().unwrap_or(0.0);
            } else if let Some(v) = line.strip_prefix(&count_name) {
                count += v.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    (sum, count)
}

/// Sessions running now, summed over the nodes.
fn running_sessions(nodes: &[Arc<Node>]) -> u64 {
    nodes
        .iter()
        .filter_map(|n| {
            n.metrics_text()
                .lines()
                .find_map(|l| l.strip_prefix("conclave_sessions_running ").and_then(|v| v.trim().parse::<u64>().ok()))
        })
        .sum()
}

/// Waits (at most `limit`) until no session runs on any node: sessions of the previous cell
/// (a client that gave up leaves its session running) or pool refills must not load the next.
async fn wait_idle(cluster: &LoadCluster, limit: Duration) -> Duration {
    let t0 = Instant::now();
    while running_sessions(&cluster.nodes) > 0 && t0.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    t0.elapsed()
}

/// CPU time of this process and of the machine (Linux `/proc`; zeros elsewhere).
struct CpuSample {
    /// utime + stime of this process, in clock ticks.
    process_ticks: u64,
    /// All CPUs: busy and total ticks.
    machine_busy: u64,
    machine_total: u64,
    cores: usize,
}

/// Clock ticks per second of `/proc` (USER_HZ; 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

impl CpuSample {
    fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name (which may hold spaces): state is field 3, utime 14,
        // stime 15.
        let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or("");
        let f: Vec<u64> = after.split_whitespace().skip(1).map(|v| v.parse().unwrap_or(0)).collect();
        let process_ticks = f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0);
        let all = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let cpu: Vec<u64> =
            all.lines().next().unwrap_or("").split_whitespace().skip(1).map(|v| v.parse().unwrap_or(0)).collect();
        // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
        let machine_total: u64 = cpu.iter().take(8).sum();
        let idle = cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0);
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Self { process_ticks, machine_busy: machine_total.saturating_sub(idle), machine_total, cores }
    }

    fn process_cores_since(&self, start: &Self, wall: Duration) -> f64 {
        let secs = self.process_ticks.saturating_sub(start.process_ticks) as f64 / TICKS_PER_SECOND;
        if wall.as_secs_f64() > 0.0 {
            secs / wall.as_secs_f64()
        } else {
            0.0
        }
    }

    fn machine_cores_since(&self, start: &Self) -> f64 {
        let total = self.machine_total.saturating_sub(start.machine_total);
        if total == 0 {
            return 0.0;
        }
        self.machine_busy.saturating_sub(start.machine_busy) as f64 / total as f64 * self.cores as f64
    }
}

/// Presignature sessions that finished, summed over the nodes (each is counted by both signers).
fn presign_sessions(nodes: &[Arc<Node>]) -> u64 {
    session_seconds(nodes, "presign").1
}

// ---------------------------------------------------------------------------------------------
// One cell

struct Sample {
    index: usize,
    message: Vec<u8>,
    latency: Duration,
    result: Result<SignatureView, (String, String)>,
}

/// What a failed request was, by kind: the API's error code, or the client's failure.
fn classify(e: &ClientError) -> (String, String) {
    let short = |s: String| s.chars().take(140).collect::<String>();
    match e {
        ClientError::Api { body, .. } => (body.code.as_str().to_owned(), short(body.message.clone())),
        ClientError::Timeout(d) => ("client_timeout".into(), format!("no answer within {d:?}")),
        ClientError::Transport(m) => ("transport".into(), short(m.clone())),
        ClientError::Http { status, text } => (format!("http_{status}"), short(text.clone())),
        ClientError::Decode(m) => ("decode".into(), short(m.clone())),
        other => ("client".into(), short(other.to_string())),
    }
}

/// The same request for every scheme: a message (ECDSA: hashed by the nodes with SHA-256, the
/// default `hash`; root path, so a pooled presignature may serve it).
fn sign_request(message: &[u8]) -> SignRequest {
    SignRequest { message: Some(Hex(message.to_vec())), ..SignRequest::default() }
}

/// Runs one cell: `requests` requests by `concurrency` workers to `targets` round-robin, no new
/// request after `max_time`. Returns the samples and the wall time of the cell.
async fn drive(
    targets: Vec<Client>,
    key: &KeyView,
    tag: &str,
    concurrency: usize,
    requests: usize,
    max_time: Duration,
) -> (Vec<Sample>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let targets = Arc::new(targets);
    let key_id = key.key_id.to_string();
    let start = Instant::now();
    let deadline = start + max_time;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(requests) {
        let (next, targets, key_id, tag) = (next.clone(), targets.clone(), key_id.clone(), tag.to_owned());
        workers.spawn(async move {
            let mut out = Vec::new();
            loop {
                if Instant::now() >= deadline {
                    break;
                }
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= requests {
                    break;
                }
                let Some(client) = targets.get(index % targets.len().max(1)) else { break };
                let message = format!("conclave loadgen {tag} request {index}").into_bytes();
                let req = sign_request(&message);
                let t0 = Instant::now();
                let result = client.sign(&key_id, &req).await.map_err(|e| classify(&e));
                out.push(Sample { index, message, latency: t0.elapsed(), result });
            }
            out
        });
    }
    let mut samples = Vec::new();
    while let Some(r) = workers.join_next().await {
        match r {
            Ok(s) => samples.extend(s),
            Err(e) => eprintln!("a load worker ended abnormally: {e}"),
        }
    }
    let wall = start.elapsed();
    samples.sort_by_key(|s| s.index);
    (samples, wall)
}

/// Checks a signature with verifiers we did not write, against the key from key generation.
fn verify(key: &KeyView, message: &[u8], sig: &SignatureView) -> Result<(), String> {
    let pk = key.public_key.as_bytes();
    let raw = sig.signature.as_bytes();
    match key.scheme {
        Scheme::EcdsaSecp256k1 => {
            use k256::ecdsa::signature::Verifier;
            let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(pk).map_err(|e| format!("k256 key: {e}"))?;
            let s = k256::ecdsa::Signature::from_slice(raw).map_err(|e| format!("k256 signature: {e}"))?;
            vk.verify(message, &s).map_err(|e| format!("k256 ECDSA (SHA-256) rejects: {e}"))?;
            if let Some(der) = &sig.der {
                let d = k256::ecdsa::Signature::from_der(der.as_bytes()).map_err(|e| format!("k256 DER: {e}"))?;
                if d != s {
                    return Err("DER and r‖s differ".into());
                }
            }
        }
        Scheme::EcdsaP256 => {
            use p256::ecdsa::signature::Verifier;
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(pk).map_err(|e| format!("p256 key: {e}"))?;
            let s = p256::ecdsa::Signature::from_slice(raw).map_err(|e| format!("p256 signature: {e}"))?;
            vk.verify(message, &s).map_err(|e| format!("p256 ECDSA (SHA-256) rejects: {e}"))?;
        }
        Scheme::Ed25519 => {
            let pk: [u8; 32] = pk.try_into().map_err(|_| "an Ed25519 key is 32 bytes")?;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).map_err(|e| format!("ed25519 key: {e}"))?;
            let s = ed25519_dalek::Signature::from_slice(raw).map_err(|e| format!("ed25519 signature: {e}"))?;
            vk.verify_strict(message, &s).map_err(|e| format!("ed25519-dalek rejects: {e}"))?;
        }
        Scheme::SchnorrBip340 => {
            let x = key.x_only.as_ref().ok_or("a schnorr-bip340 key has an x-only key")?;
            let vk = k256::schnorr::VerifyingKey::from_bytes(x.as_bytes()).map_err(|e| format!("BIP-340 key: {e}"))?;
            let s = k256::schnorr::Signature::try_from(raw).map_err(|e| format!("BIP-340 signature: {e}"))?;
            vk.verify_raw(message, &s).map_err(|e| format!("k256 BIP-340 rejects: {e}"))?;
        }
        Scheme::FrostSecp256k1 => {
            if !conclave_frost::verify(conclave_frost::SchemeId::Secp256k1, pk, message, raw) {
                return Err("frost-secp256k1 rejects".into());
            }
        }
        other => return Err(format!("no verifier for {other:?}")),
    }
    Ok(())
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// How the pool served a warm cell (from the proposers' audit logs).
#[derive(Clone, Debug, Default)]
struct PoolUse {
    /// Presignatures in node 0's pool when the cell started.
    at_start: usize,
    /// How long filling it took.
    fill: Duration,
    /// Successful requests signed with a pooled presignature / interactively.
    ok_pooled: usize,
    ok_interactive: usize,
    /// Failed requests that had named a pooled presignature / were interactive.
    failed_pooled: usize,
    failed_interactive: usize,
    /// Presignature sessions (refills) that finished during the cell.
    refills: u64,
}

#[derive(Clone, Debug)]
struct Cell {
    scheme: Scheme,
    mode: Mode,
    concurrency: usize,
    requested: usize,
    started: usize,
    ok: usize,
    /// Error kind → (count, first message).
    errors: BTreeMap<String, (usize, String)>,
    not_started: usize,
    wall: Duration,
    p50: Option<Duration>,
    p99: Option<Duration>,
    max: Option<Duration>,
    /// Mean duration of one signing session at one node (from the nodes' metrics).
    node_session_mean: Option<Duration>,
    verified: usize,
    verify_failures: Vec<String>,
    targets: Vec<usize>,
    pool: Option<PoolUse>,
    /// How long the cluster took to become idle (no session running) before the cell.
    idle_wait: Duration,
    /// CPU used during the cell, in cores: by this process (the three nodes and the clients),
    /// and by the whole machine (other work included).
    cpu_process: f64,
    cpu_machine: f64,
}

impl Cell {
    fn per_second(&self) -> f64 {
        let s = self.wall.as_secs_f64();
        if s > 0.0 {
            self.ok as f64 / s
        } else {
            0.0
        }
    }

    /// CPU time of this process (all three nodes and the clients) per signature: what the
    /// machine's load does not change much.
    fn cpu_per_signature(&self) -> Option<Duration> {
        (self.ok > 0).then(|| Duration::from_secs_f64(self.cpu_process * self.wall.as_secs_f64() / self.ok as f64))
    }

    fn error_count(&self) -> usize {
        self.errors.values().map(|(n, _)| *n).sum()
    }
}

struct CellPlan<'a> {
    cluster: &'a LoadCluster,
    key: &'a KeyView,
    mode: Mode,
    concurrency: usize,
    targets: Vec<usize>,
}

async fn run_cell(plan: CellPlan<'_>, opts: &Options, pool: Option<PoolUse>) -> Result<Cell, Error> {
    let CellPlan { cluster, key, mode, concurrency, targets } = plan;
    let kind = if is_ecdsa(key.scheme) { "sign-ecdsa" } else { "sign-schnorr" };
    let idle_wait = wait_idle(cluster, Duration::from_secs(300)).await;
    let cpu0 = CpuSample::now();
    let before = session_seconds(&cluster.nodes, kind);
    let presign_before = presign_sessions(&cluster.nodes);
    let clients = targets.iter().map(|i| cluster.client(*i).cloned()).collect::<Result<Vec<_>, _>>()?;
    let tag = format!("{}/{}/c{concurrency}/{:08x}", key.scheme.name(), mode.name(), OsRng.next_u32());
    let max_time = Duration::from_secs_f64(opts.max_seconds);
    let (samples, wall) = drive(clients, key, &tag, concurrency, opts.requests, max_time).await;
    let cpu1 = CpuSample::now();
    let after = session_seconds(&cluster.nodes, kind);
    let presign_after = presign_sessions(&cluster.nodes);

    let mut latencies = Vec::new();
    let mut errors: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut verified = 0;
    let mut verify_failures = Vec::new();
    for s in &samples {
        match &s.result {
            Ok(sig) => {
                latencies.push(s.latency);
                // Outside the timed window: every signature, by a verifier we did not write.
                match verify(key, &s.message, sig) {
                    Ok(()) => verified += 1,
                    Err(e) => verify_failures.push(format!("request {}: {e}", s.index)),
                }
            }
            Err((kind, message)) => {
                let e = errors.entry(kind.clone()).or_insert((0, message.clone()));
                e.0 += 1;
            }
        }
    }
    latencies.sort();
    let ok = latencies.len();
    let sessions = after.1.saturating_sub(before.1);
    let node_session_mean =
        (sessions > 0).then(|| Duration::from_secs_f64((after.0 - before.0).max(0.0) / sessions as f64));
    let pool = match pool {
        Some(mut p) => {
            p.refills = presign_after.saturating_sub(presign_before) / u64::from(THRESHOLD);
            classify_pool_use(cluster, &samples, &mut p)?;
            Some(p)
        }
        None => None,
    };
    Ok(Cell {
        scheme: key.scheme,
        mode,
        concurrency,
        requested: opts.requests,
        started: samples.len(),
        ok,
        not_started: opts.requests.saturating_sub(samples.len()),
        errors,
        wall,
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        max: latencies.last().copied(),
        node_session_mean,
        idle_wait,
        cpu_process: cpu1.process_cores_since(&cpu0, wall),
        cpu_machine: cpu1.machine_cores_since(&cpu0),
        verified,
        verify_failures,
        targets,
        pool,
    })
}

/// Reads the proposers' audit logs: which requests of the cell named a pooled presignature.
fn classify_pool_use(cluster: &LoadCluster, samples: &[Sample], p: &mut PoolUse) -> Result<(), Error> {
    let by_hash: BTreeMap<String, bool> =
        samples.iter().map(|s| (hex::encode(Sha256::digest(&s.message)), s.result.is_ok())).collect();
    let mut seen = BTreeSet::new();
    for node in &cluster.nodes {
        for e in node.audit(1, usize::MAX)? {
            if e.event != "request" || e.details.get("kind").map(String::as_str) != Some("sign-ecdsa") {
                continue;
            }
            let Some(h) = e.details.get("message_sha256") else { continue };
            let Some(ok) = by_hash.get(h) else { continue };
            if !seen.insert(h.clone()) {
                continue;
            }
            let pooled = e.details.get("presignature").is_some_and(|v| v != "interactive");
            match (ok, pooled) {
                (true, true) => p.ok_pooled += 1,
                (true, false) => p.ok_interactive += 1,
                (false, true) => p.failed_pooled += 1,
                (false, false) => p.failed_interactive += 1,
            }
        }
    }
    Ok(())
}

/// Fills the pool of `key` to `target` presignatures on node 0 (the pool's first signer): the
/// node's background refill plus two `Node::presign` calls at a time from here.
async fn fill_pool(cluster: &LoadCluster, key: &KeyView, target: usize, limit: Duration) -> Result<PoolUse, Error> {
    let t0 = Instant::now();
    let id = key_id(key)?;
    let node = cluster.node(0)?;
    loop {
        let have = node.presignatures(&id)?;
        if have >= target {
            return Ok(PoolUse { at_start: have, fill: t0.elapsed(), ..PoolUse::default() });
        }
        if t0.elapsed() > limit {
            return Err(
                format!("the pool of {} reached only {have} of {target} in {limit:?}", key.scheme.name()).into()
            );
        }
        if target - have >= 2 {
            let (a, b) = tokio::join!(node.presign(&id, None), node.presign(&id, None));
            a?;
            b?;
        } else {
            node.presign(&id, None).await?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The run

#[derive(Debug, Clone)]
struct Setup {
    what: String,
    took: Duration,
}

struct Report {
    cells: Vec<Cell>,
    setup: Vec<Setup>,
    /// The API round trip alone (new TCP + TLS connection, `GET /v1/health`), sorted.
    health: Vec<Duration>,
    fixture_pairs: usize,
    total: Duration,
}

fn progress(opts: &Options, line: &str) {
    if !opts.json {
        eprintln!("{line}");
    }
}

/// Runs every cell the options ask for.
async fn run(opts: &Options) -> Result<Report, Error> {
    let t_all = Instant::now();
    let mut cells = Vec::new();
    let mut setup = Vec::new();
    let ecdsa = opts.has_ecdsa();

    // Cluster A: no presignature pool. Schnorr cells and cold ECDSA cells.
    let want_cold = ecdsa && opts.modes.contains(&Mode::Cold);
    let schnorr: Vec<Scheme> = opts.schemes.iter().copied().filter(|s| !is_ecdsa(*s)).collect();
    let mut health = Vec::new();
    let mut fixture_pairs = 0;
    if !schnorr.is_empty() || want_cold {
        let t0 = Instant::now();
        let cluster = LoadCluster::start(opts, 0, want_cold).await?;
        fixture_pairs = fixture_pairs.max(cluster.fixture_pairs);
        setup.push(Setup { what: "start cluster (pool 0)".into(), took: t0.elapsed() });
        // The API round trip alone, for scale.
        for _ in 0..20 {
            let t = Instant::now();
            cluster.client(0)?.health().await?;
            health.push(t.elapsed());
        }
        health.sort();
        for scheme in opts.schemes.iter().copied().filter(|s| !is_ecdsa(*s) || want_cold) {
            let (key, took) = cluster.keygen(scheme).await?;
            let what = if is_ecdsa(scheme) { "keygen incl. aux-info" } else { "keygen" };
            setup.push(Setup { what: format!("{what} {}", scheme.name()), took });
            progress(opts, &format!("# {} key {} ready in {:.1} s", scheme.name(), key.key_id, took.as_secs_f64()));
            let mode = if is_ecdsa(scheme) { Mode::Cold } else { Mode::Schnorr };
            for &c in &opts.concurrency {
                let plan = CellPlan { cluster: &cluster, key: &key, mode, concurrency: c, targets: vec![0, 1, 2] };
                let cell = run_cell(plan, opts, None).await?;
                progress(opts, &format!("  {}", row(&cell)));
                cells.push(cell);
            }
        }
        cluster.shutdown().await;
    }

    // Cluster B: a presignature pool; warm ECDSA cells.
    if ecdsa && opts.modes.contains(&Mode::Warm) {
        let t0 = Instant::now();
        let cluster = LoadCluster::start(opts, opts.pool, true).await?;
        fixture_pairs = fixture_pairs.max(cluster.fixture_pairs);
        setup.push(Setup { what: format!("start cluster (pool {})", opts.pool), took: t0.elapsed() });
        let mut keys = Vec::new();
        for scheme in opts.schemes.iter().copied().filter(|s| is_ecdsa(*s)) {
            let (key, took) = cluster.keygen(scheme).await?;
            setup.push(Setup { what: format!("keygen incl. aux-info {} (pool cluster)", scheme.name()), took });
            progress(opts, &format!("# {} key {} ready in {:.1} s", scheme.name(), key.key_id, took.as_secs_f64()));
            keys.push(key);
        }
        for key in &keys {
            for &c in &opts.concurrency {
                // Each presignature takes seconds when the machine is busy; allow generously.
                let limit = Duration::from_secs(60 + 20 * opts.pool as u64);
                let pool = fill_pool(&cluster, key, opts.pool, limit).await?;
                progress(
                    opts,
                    &format!(
                        "# pool of {} filled to {} in {:.1} s",
                        key.scheme.name(),
                        pool.at_start,
                        pool.fill.as_secs_f64()
                    ),
                );
                let plan = CellPlan {
                    cluster: &cluster,
                    key,
                    mode: Mode::Warm,
                    concurrency: c,
                    targets: opts.warm_via.clone(),
                };
                let cell = run_cell(plan, opts, Some(pool)).await?;
                progress(opts, &format!("  {}", row(&cell)));
                cells.push(cell);
            }
        }
        cluster.shutdown().await;
    }
    Ok(Report { cells, setup, health, fixture_pairs, total: t_all.elapsed() })
}

// ---------------------------------------------------------------------------------------------
// Output

fn ms(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.1}", d.as_secs_f64() * 1e3)).unwrap_or_else(|| "-".into())
}

const HEADER: &str = "| scheme | mode | conc | done/asked | ok | errors | not started | sig/s | p50 ms | p99 ms | max ms | node session ms | CPU cores (process/machine) | CPU ms/sig | verified |";

fn row(c: &Cell) -> String {
    let errors = if c.error_count() == 0 {
        "0".to_owned()
    } else {
        c.errors.iter().map(|(k, (n, _))| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
    };
    format!(
        "| {} | {} | {} | {}/{} | {} | {} | {} | {:.2} | {} | {} | {} | {} | {:.2}/{:.2} | {} | {}/{} |",
        c.scheme.name(),
        c.mode.name(),
        c.concurrency,
        c.started,
        c.requested,
        c.ok,
        errors,
        c.not_started,
        c.per_second(),
        ms(c.p50),
        ms(c.p99),
        ms(c.max),
        ms(c.node_session_mean),
        c.cpu_process,
        c.cpu_machine,
        ms(c.cpu_per_signature()),
        c.verified,
        c.ok
    )
}

fn render(report: &Report, opts: &Options) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{HEADER}");
    let _ = writeln!(out, "|{}", "---|".repeat(HEADER.matches(" | ").count() + 1));
    for c in &report.cells {
        let _ = writeln!(out, "{}", row(c));
    }
    let _ = writeln!(out);
    let warm: Vec<&Cell> = report.cells.iter().filter(|c| c.pool.is_some()).collect();
    if !warm.is_empty() {
        let _ = writeln!(
            out,
            "Warm pool (pool size {}, filled before each cell; requests to nodes {:?}; from the proposers' audit logs):\n",
            opts.pool, opts.warm_via
        );
        let _ = writeln!(
            out,
            "| scheme | conc | pool at start | fill s | ok pooled | ok interactive | failed pooled | failed interactive | refills during cell |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
        for c in warm {
            if let Some(p) = &c.pool {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.1} | {} | {} | {} | {} | {} |",
                    c.scheme.name(),
                    c.concurrency,
                    p.at_start,
                    p.fill.as_secs_f64(),
                    p.ok_pooled,
                    p.ok_interactive,
                    p.failed_pooled,
                    p.failed_interactive,
                    p.refills
                );
            }
        }
        let _ = writeln!(out);
    }
    let mut any_errors = false;
    for c in &report.cells {
        for (kind, (n, first)) in &c.errors {
            if !any_errors {
                let _ = writeln!(out, "Errors (by kind, with the first message):");
                any_errors = true;
            }
            let _ = writeln!(out, "- {} {} c{}: {n} × {kind}: {first}", c.scheme.name(), c.mode.name(), c.concurrency);
        }
    }
    let cut: Vec<&Cell> = report.cells.iter().filter(|c| c.not_started > 0).collect();
    if cut.is_empty() {
        let _ = writeln!(out, "Cut: nothing (every cell sent all {} requests).", opts.requests);
    } else {
        let _ = writeln!(out, "Cut by --max-seconds {}:", opts.max_seconds);
        for c in cut {
            let _ = writeln!(
                out,
                "- {} {} c{}: {} of {} requests not started",
                c.scheme.name(),
                c.mode.name(),
                c.concurrency,
                c.not_started,
                c.requested
            );
        }
    }
    for c in report.cells.iter().filter(|c| c.idle_wait > Duration::from_secs(1)) {
        let _ = writeln!(
            out,
            "Waited {:.1} s before {} {} c{} until no session ran (sessions left by the previous cell, or refills).",
            c.idle_wait.as_secs_f64(),
            c.scheme.name(),
            c.mode.name(),
            c.concurrency
        );
    }
    for c in &report.cells {
        for f in &c.verify_failures {
            let _ = writeln!(out, "VERIFICATION FAILED {} {} c{}: {f}", c.scheme.name(), c.mode.name(), c.concurrency);
        }
    }
    let _ = writeln!(out, "\nAPI round trip alone (new TCP + TLS 1.3 connection, GET /v1/health, 20 sequential):");
    let _ =
        writeln!(out, "p50 {} ms, max {} ms", ms(percentile(&report.health, 50.0)), ms(report.health.last().copied()));
    let _ = writeln!(out, "\nSetup:");
    for s in &report.setup {
        let _ = writeln!(out, "- {}: {:.1} s", s.what, s.took.as_secs_f64());
    }
    let _ = writeln!(out, "Total: {:.1} s", report.total.as_secs_f64());
    out
}

fn to_json(report: &Report, opts: &Options) -> serde_json::Value {
    use serde_json::json;
    let msf = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1e3);
    let cells: Vec<serde_json::Value> = report
        .cells
        .iter()
        .map(|c| {
            json!({
                "scheme": c.scheme.name(),
                "mode": c.mode.name(),
                "concurrency": c.concurrency,
                "requested": c.requested,
                "started": c.started,
                "ok": c.ok,
                "errors": c.errors.iter().map(|(k, (n, m))| (k.clone(), json!({"count": n, "first": m}))).collect::<serde_json::Map<_, _>>(),
                "not_started": c.not_started,
                "wall_s": c.wall.as_secs_f64(),
                "signatures_per_s": c.per_second(),
                "p50_ms": msf(c.p50),
                "p99_ms": msf(c.p99),
                "max_ms": msf(c.max),
                "node_session_mean_ms": msf(c.node_session_mean),
                "idle_wait_s": c.idle_wait.as_secs_f64(),
                "cpu_cores_process": c.cpu_process,
                "cpu_cores_machine": c.cpu_machine,
                "cpu_ms_per_signature": msf(c.cpu_per_signature()),
                "verified": c.verified,
                "verify_failures": c.verify_failures,
                "target_nodes": c.targets,
                "pool": c.pool.as_ref().map(|p| json!({
                    "at_start": p.at_start, "fill_s": p.fill.as_secs_f64(), "ok_pooled": p.ok_pooled,
                    "ok_interactive": p.ok_interactive, "failed_pooled": p.failed_pooled,
                    "failed_interactive": p.failed_interactive, "refills_during_cell": p.refills,
                })),
            })
        })
        .collect();
    json!({
        "transport": "HTTPS client API (conclave-api client), one connection per request",
        "cluster": format!("{PARTIES} nodes in one process, threshold {THRESHOLD}, TLS 1.3 peer links on 127.0.0.1"),
        "safe_primes": if report.fixture_pairs > 0 { "conclave-testkit fixtures" } else { "none needed" },
        "options": {
            "requests": opts.requests, "max_seconds": opts.max_seconds, "concurrency": opts.concurrency,
            "pool": opts.pool, "warm_via": opts.warm_via, "max_sessions": opts.max_sessions, "round_secs": opts.round_secs,
        },
        "health_p50_ms": msf(percentile(&report.health, 50.0)),
        "cells": cells,
        "setup": report.setup.iter().map(|s| json!({"what": s.what, "s": s.took.as_secs_f64()})).collect::<Vec<_>>(),
        "total_s": report.total.as_secs_f64(),
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) if e == USAGE => {
            println!("{USAGE}");
            return Ok(());
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if !opts.json {
        println!(
            "Conclave node load: {PARTIES} nodes in this process ({THRESHOLD}-of-{PARTIES}), TLS 1.3 peer links on \
             127.0.0.1, requests through each node's HTTPS API (conclave-api client, one connection per request)."
        );
        println!(
            "{cores} cores seen; {} build; {} requests per cell, at most {} s per cell; max_sessions {}; round timeout {} s.",
            if cfg!(debug_assertions) { "DEBUG (numbers are not representative)" } else { "release" },
            opts.requests,
            opts.max_seconds,
            opts.max_sessions.map(|m| m.to_string()).unwrap_or_else(|| "node default (256)".into()),
            opts.round_secs
        );
        if opts.has_ecdsa() {
            println!(
                "Paillier safe primes: the public test fixtures of conclave-testkit (not generated here; never for real keys)."
            );
        }
        println!();
    }
    let report = run(&opts).await?;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&to_json(&report, &opts))?);
    } else {
        print!("{}", render(&report, &opts));
    }
    let failures: usize = report.cells.iter().map(|c| c.verify_failures.len()).sum();
    if failures > 0 {
        return Err(format!("{failures} signatures failed verification").into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse() {
        let o = Options::parse(
            [
                "--schemes",
                "ed25519,ecdsa-p256",
                "--concurrency=2,3",
                "--requests",
                "4",
                "--max-seconds",
                "1.5",
                "--json",
            ]
            .map(String::from),
        )
        .unwrap();
        assert_eq!(o.schemes, vec![Scheme::Ed25519, Scheme::EcdsaP256]);
        assert_eq!((o.concurrency.as_slice(), o.requests, o.max_seconds, o.json), (&[2, 3][..], 4, 1.5, true));
        assert!(Options::parse(["--schemes", "rsa"].map(String::from)).is_err());
        assert!(Options::parse(["--concurrency", "0"].map(String::from)).is_err());
        assert!(Options::parse(["--requests"].map(String::from)).is_err());
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&v, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&v[..1], 99.0), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&[], 50.0), None);
    }

    /// The load generator's core with tiny bounds (Ed25519 only: no Paillier work in a debug
    /// build), so that it cannot rot: a real cluster, real HTTPS, every signature verified.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tiny_ed25519_run() {
        let opts = Options {
            schemes: vec![Scheme::Ed25519],
            concurrency: vec![2],
            requests: 4,
            max_seconds: 120.0,
            ..Options::default()
        };
        let report = run(&opts).await.unwrap();
        assert_eq!(report.cells.len(), 1);
        let c = &report.cells[0];
        assert_eq!((c.started, c.ok, c.error_count(), c.not_started), (4, 4, 0, 0), "{:?}", c.errors);
        assert_eq!((c.verified, c.verify_failures.len()), (4, 0));
        assert!(c.p50.is_some() && c.p50 <= c.p99 && c.p99 <= c.max);
        assert!(c.node_session_mean.is_some(), "the nodes' session metrics moved");
        let text = render(&report, &opts);
        assert!(text.contains("| ed25519 | - | 2 | 4/4 | 4 | 0 | 0 |"), "{text}");
        assert!(c.cpu_process >= 0.0 && c.cpu_machine >= 0.0);
        let json = to_json(&report, &opts);
        assert_eq!(json["cells"][0]["ok"], 4);
    }
}
