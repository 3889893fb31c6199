//! The client commands: `conclave keygen`, `sign`, `pubkey`, `status`, `refresh`, `reshare`,
//! `sessions`, `audit` (and the older `keys …` forms). They speak to a node's HTTP API (never to
//! shares: DESIGN.md §2, invariant 5). Where to connect comes from `--config DIR/client.toml`
//! (written by `conclave init`) or from explicit flags, which win over the file.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use conclave_api::client::ClientIdentity;
use conclave_api::{
    Client, ClientError, ClientOptions, CreateKeyRequest, DerivationPath, HashAlg, Hex, KeyView, PresignaturePool,
    RefreshRequest, ReshareRequest, ReshareView, Scheme, SessionView, SignRequest, SignatureView, Taproot, Trust,
    HARDENED,
};
use serde::Serialize;

use crate::client_config::{ClientFile, Token};

/// The API address used when neither `--node` nor `--config` names one.
const DEFAULT_NODE: &str = "https://127.0.0.1:8100";

/// How to reach and authenticate to the node, and how to print.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// The cluster's client file (`DIR/client.toml`, written by `conclave init`): each node's URL
    /// and pinned certificate, and the token. Flags given explicitly win over the file.
    #[arg(long, env = "CONCLAVE_CONFIG")]
    pub config: Option<PathBuf>,
    /// With --config: the node to ask, by party index (default: the first node listed).
    #[arg(long, requires = "config")]
    pub node_index: Option<u16>,
    /// The node's API, `https://host:port` (default: from --config, else https://127.0.0.1:8100).
    #[arg(long, env = "CONCLAVE_NODE")]
    pub node: Option<String>,
    /// A bearer token listed (by its SHA-256) in the node's policy.
    #[arg(long, env = "CONCLAVE_TOKEN", hide_env_values = true)]
    pub token: Option<Token>,
    /// Trust the node's certificate by its SHA-256 (the `tls_cert_sha256` of its [[parties]] entry).
    #[arg(long, env = "CONCLAVE_PIN_SHA256", conflicts_with = "ca_cert")]
    pub pin_sha256: Option<String>,
    /// Trust the node's certificate by a PEM file: the node's own certificate, or its CA.
    #[arg(long, env = "CONCLAVE_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// A client certificate (PEM) listed (by its SHA-256) in the node's policy.
    #[arg(long, requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Give up after this many seconds (ECDSA key generation runs aux-info: minutes).
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    /// Print the machine-readable result (the API's JSON) on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `conclave keys …` (the older forms of `keygen` and `pubkey`).
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Generate a key with no dealer (ECDSA keys also run aux-info for the party set).
    Create(KeysCreateArgs),
    /// List the keys the node holds a share of.
    List(ClientOnly),
    /// Show one key (public key, SPKI PEM, x-only key, chain code).
    Show(KeyIdArgs),
    /// Show the presignature pool of an ECDSA key on the node.
    Presignatures(KeyIdArgs),
}

#[derive(Debug, clap::Args)]
pub struct ClientOnly {
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, clap::Args)]
pub struct KeysCreateArgs {
    /// ecdsa-secp256k1, ecdsa-p256, schnorr-bip340, ed25519 or frost-secp256k1.
    #[arg(long)]
    pub scheme: String,
    /// Any THRESHOLD of the parties sign.
    #[arg(long)]
    pub threshold: u16,
    /// The key holders, e.g. `0,1,2` (default: every node of the cluster).
    #[arg(long, value_delimiter = ',')]
    pub parties: Option<Vec<u16>>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, clap::Args)]
pub struct KeyIdArgs {
    /// The key id (hex).
    pub key_id: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// What to sign: exactly one of a hex message, a message file or (ECDSA) a digest.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct SignInput {
    /// The message, hex.
    #[arg(long)]
    pub message_hex: Option<String>,
    /// The message, read from a file (`-`: standard input).
    #[arg(long)]
    pub message_file: Option<PathBuf>,
    /// ECDSA only: a 32-byte digest, hex (always interactive signing).
    #[arg(long)]
    pub digest_hex: Option<String>,
}

/// `conclave pubkey`: a key's public forms.
#[derive(Debug, clap::Args)]
pub struct PubkeyArgs {
    /// The key id (hex).
    #[arg(long)]
    pub key: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `conclave status`: the node's health, keys, presignature pools and recent sessions.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// How many recent sessions to show.
    #[arg(long, default_value_t = 10)]
    pub sessions: usize,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The key id (hex).
    #[arg(long)]
    pub key: String,
    #[command(flatten)]
    pub input: SignInput,
    /// ECDSA messages: sha256 (the node's default), keccak256 or sha256d (double SHA-256);
    /// `none`: the message is signed as given (ECDSA: it must be a 32-byte digest).
    #[arg(long)]
    pub hash: Option<String>,
    /// ECDSA: a non-hardened derivation path, `m/0/1` (`m` is the key itself).
    #[arg(long)]
    pub path: Option<String>,
    /// The signers, party indices, e.g. `1,3` (default: the node's choice).
    #[arg(long, value_delimiter = ',')]
    pub signers: Option<Vec<u16>>,
    /// schnorr-bip340: sign under the Taproot-tweaked key (BIP-341).
    #[arg(long)]
    pub taproot: bool,
    /// With --taproot: the script tree's Merkle root, hex (default: key-path only).
    #[arg(long, requires = "taproot")]
    pub merkle_root: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, clap::Args)]
pub struct RefreshArgs {
    /// The key id (hex).
    #[arg(long)]
    pub key: String,
    /// ECDSA keys: also refresh the party set's aux-info (Paillier keys).
    #[arg(long)]
    pub with_aux: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, clap::Args)]
pub struct ReshareArgs {
    /// The key id (hex).
    #[arg(long)]
    pub key: String,
    /// The new key holders, e.g. `0,1,2,3,4`.
    #[arg(long = "parties", alias = "new-parties", value_delimiter = ',', required = true)]
    pub new_parties: Vec<u16>,
    /// The new threshold.
    #[arg(long = "threshold", alias = "new-threshold")]
    pub new_threshold: u16,
    /// The old holders that deal (default: all of them).
    #[arg(long, value_delimiter = ',')]
    pub old_signers: Option<Vec<u16>>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, clap::Args)]
pub struct SessionsArgs {
    /// One session id (hex); without it, the recent sessions.
    pub id: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `conclave audit`: read the node's audit log through its API.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    #[command(flatten)]
    pub list: AuditListArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// List entries (the default when no subcommand is given).
    List(AuditListArgs),
    /// Verify a node's audit log offline (hash chain, signatures, end of log against the
    /// store's head; run it on the node's machine, the node stopped for the head check).
    Verify(crate::node_cmd::AuditVerifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct AuditListArgs {
    /// The first entry (from 1).
    #[arg(long, default_value_t = 1)]
    pub from: u64,
    /// At most this many entries (at most 1000).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[command(flatten)]
    pub client: ClientArgs,
}

fn read_file(p: &PathBuf) -> Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
}

fn client(a: &ClientArgs) -> Result<Client> {
    client_and_url(a).map(|(c, _)| c)
}

/// The client for the node the arguments name, and that node's URL.
fn client_and_url(a: &ClientArgs) -> Result<(Client, String)> {
    let file = a.config.as_deref().map(ClientFile::load).transpose()?;
    let entry = file.as_ref().map(|f| f.node(a.node_index)).transpose()?;
    let trust = match (&a.pin_sha256, &a.ca_cert, entry) {
        (Some(pin), _, _) => {
            let b = hex::decode(pin.trim()).context("--pin-sha256 must be hex")?;
            Trust::PinSha256(b.try_into().map_err(|_| anyhow::anyhow!("--pin-sha256 must be 64 hex characters"))?)
        }
        (None, Some(path), _) => Trust::CaPem(read_file(path)?),
        (None, None, Some(e)) => Trust::PinSha256(e.cert_sha256),
        (None, None, None) => Trust::None,
    };
    let node = match (&a.node, entry) {
        (Some(n), _) => n.clone(),
        (None, Some(e)) => e.url.clone(),
        (None, None) => DEFAULT_NODE.to_owned(),
    };
    let token = a.token.clone().or_else(|| file.and_then(|f| f.token));
    let identity = match (&a.client_cert, &a.client_key) {
        (Some(c), Some(k)) => Some(ClientIdentity { cert_pem: read_file(c)?, key_pem: read_file(k)? }),
        _ => None,
    };
    let c = Client::new(ClientOptions {
        node: node.clone(),
        token: token.map(|t| t.expose().to_owned()),
        trust,
        identity,
        timeout: Duration::from_secs(a.timeout.max(1)),
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((c, node))
}

/// Runs one async call on a small runtime, with a ticking line on stderr while it runs (only
/// when stderr is a terminal).
fn run<T>(what: &str, fut: impl std::future::Future<Output = Result<T, ClientError>>) -> Result<T, ClientError> {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return Err(ClientError::Transport(format!("tokio runtime: {e}"))),
    };
    let tty = std::io::stderr().is_terminal();
    runtime.block_on(async {
        if !tty {
            return fut.await;
        }
        let started = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(120));
        let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
        tokio::pin!(fut);
        let mut i = 0usize;
        let out = loop {
            tokio::select! {
                r = &mut fut => break r,
                _ = tick.tick() => {
                    let f = frames.get(i % frames.len()).copied().unwrap_or('.');
                    eprint!("\r{f} {what}… {:.0}s ", started.elapsed().as_secs_f64());
                    let _ = std::io::stderr().flush();
                    i = i.wrapping_add(1);
                }
            }
        };
        eprint!("\r\x1b[2K");
        let _ = std::io::stderr().flush();
        out
    })
}

/// Writes to stdout; a closed pipe (`conclave … | head`) is not an error worth a panic.
fn stdout(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes()).and_then(|()| out.flush());
}

/// Prints `value` as JSON, or the human text.
fn emit<T: Serialize>(json: bool, value: &T, human: impl FnOnce(&T) -> String) -> Result<()> {
    if json {
        stdout(&format!("{}\n", serde_json::to_string_pretty(value)?));
    } else {
        stdout(&human(value));
    }
    Ok(())
}

/// Turns a client error into the command's error; with `--json` the node's error body is also
/// printed on stdout (`{"error": {...}}`).
fn fail(json: bool, e: ClientError) -> anyhow::Error {
    if json {
        if let Some(body) = e.body() {
            if let Ok(s) = serde_json::to_string_pretty(&serde_json::json!({ "error": body })) {
                stdout(&format!("{s}\n"));
            }
        }
    }
    anyhow::anyhow!("{e}")
}

fn key_text(k: &KeyView) -> String {
    let mut s = format!(
        "key {}\n  scheme      {}\n  threshold   {} of {:?}\n  public key  {}\n",
        k.key_id, k.scheme, k.threshold, k.parties, k.public_key
    );
    if let Some(u) = &k.public_key_uncompressed {
        s.push_str(&format!("  uncompressed {u}\n"));
    }
    if let Some(x) = &k.x_only {
        s.push_str(&format!("  x-only      {x}\n"));
    }
    s.push_str(&format!("  chain code  {}\n", k.chain_code));
    if let Some(p) = &k.spki_pem {
        s.push_str(p);
    }
    s
}

fn sig_text(s: &SignatureView) -> String {
    let mut out = format!(
        "signature   {}\n  scheme    {}\n  key       {}\n  verifies under {}\n  signers   {:?}\n",
        s.signature, s.scheme, s.key_id, s.public_key, s.signers
    );
    if let Some(d) = &s.der {
        out.push_str(&format!("  der       {d}\n"));
    }
    if let Some(r) = s.recovery_id {
        out.push_str(&format!("  recovery id {r}\n"));
    }
    if let Some(d) = &s.digest {
        out.push_str(&format!("  digest    {d}\n"));
    }
    out
}

fn session_line(s: &SessionView) -> String {
    let state = match (&s.state, &s.error) {
        (conclave_api::SessionStateName::Failed, Some(e)) => format!("failed: {e}"),
        (st, _) => format!("{st:?}").to_lowercase(),
    };
    let mut ms = s.duration_ms.map_or_else(|| "-".to_owned(), |d| format!("{d} ms"));
    if let Some(b) = s.bytes_sent {
        ms.push_str(&format!(", {b} bytes sent"));
    }
    let mut line = format!(
        "{}  {:<12} client={} proposer={} parties={:?} {} ({ms})\n",
        s.session_id, s.kind, s.client, s.proposer, s.participants, state
    );
    for c in &s.culprits {
        line.push_str(&format!("    culprit: party {} ({})\n", c.party, c.fault));
    }
    line
}

fn reshare_text(r: &ReshareView) -> String {
    match &r.key {
        Some(k) => format!("old key {} retired; new sharing:\n{}", r.old_key_id, key_text(k)),
        None => format!("old key {} retired; this node is not in the new group\n", r.old_key_id),
    }
}

/// Checks a comma-separated party list: not empty, no index twice.
fn party_list(flag: &str, v: &[u16]) -> Result<()> {
    if v.is_empty() {
        anyhow::bail!("{flag} lists no party");
    }
    for (i, p) in v.iter().enumerate() {
        if v.get(..i).is_some_and(|before| before.contains(p)) {
            anyhow::bail!("{flag}: party {p} is listed twice");
        }
    }
    Ok(())
}

/// `conclave keygen`.
pub fn keygen(a: &KeysCreateArgs) -> Result<()> {
    let scheme = Scheme::from_name(&a.scheme).ok_or_else(|| {
        anyhow::anyhow!("unknown scheme `{}` (one of: {})", a.scheme, Scheme::ALL.map(Scheme::name).join(", "))
    })?;
    if let Some(p) = &a.parties {
        party_list("--parties", p)?;
        if usize::from(a.threshold) > p.len() {
            anyhow::bail!("--threshold {} is larger than the {} parties of --parties", a.threshold, p.len());
        }
    }
    if a.threshold == 0 {
        anyhow::bail!("--threshold must be at least 1");
    }
    let c = client(&a.client)?;
    let req = CreateKeyRequest { scheme, threshold: a.threshold, parties: a.parties.clone() };
    let what = if scheme.is_ecdsa() { "generating the key (and aux-info)" } else { "generating the key" };
    let k = run(what, c.create_key(&req)).map_err(|e| fail(a.client.json, e))?;
    emit(a.client.json, &k, key_text)
}

/// `conclave pubkey`.
pub fn pubkey(a: &PubkeyArgs) -> Result<()> {
    let c = client(&a.client)?;
    let k = run("reading the key", c.key(&a.key)).map_err(|e| fail(a.client.json, e))?;
    emit(a.client.json, &k, key_text)
}

/// What `conclave status --json` prints.
#[derive(Debug, Serialize)]
struct StatusView {
    node: String,
    health: String,
    keys: Vec<KeyView>,
    presignature_pools: Vec<PresignaturePool>,
    sessions: Vec<SessionView>,
}

/// `conclave status`.
pub fn status(a: &StatusArgs) -> Result<()> {
    let (c, node) = client_and_url(&a.client)?;
    let json = a.client.json;
    let view = run("reading the node's status", async {
        let health = c.health().await?;
        let keys = c.keys().await?.keys;
        let mut pools = Vec::new();
        for k in keys.iter().filter(|k| k.scheme.is_ecdsa()) {
            pools.push(c.presignatures(&k.key_id.to_string()).await?);
        }
        let mut sessions = c.sessions().await?.sessions;
        let skip = sessions.len().saturating_sub(a.sessions);
        sessions.drain(..skip);
        Ok(StatusView { node, health: health.trim().to_owned(), keys, presignature_pools: pools, sessions })
    })
    .map_err(|e| fail(json, e))?;
    emit(json, &view, |v| {
        let mut s = format!("node {}: {}\n", v.node, v.health);
        s.push_str(&format!("keys ({}):\n", v.keys.len()));
        for k in &v.keys {
            s.push_str(&format!(
                "  {}  {:<16} {} of {:?}  {}\n",
                k.key_id, k.scheme, k.threshold, k.parties, k.public_key
            ));
        }
        for p in &v.presignature_pools {
            s.push_str(&format!("  presignatures of {}: {} (pool size {})\n", p.key_id, p.count, p.target));
        }
        s.push_str(&format!("recent sessions ({}):\n", v.sessions.len()));
        for x in &v.sessions {
            s.push_str("  ");
            s.push_str(&session_line(x));
        }
        s
    })
}

pub fn keys(cmd: &KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::Create(a) => keygen(a),
        KeysCommand::List(a) => {
            let c = client(&a.client)?;
            let list = run("listing keys", c.keys()).map_err(|e| fail(a.client.json, e))?;
            emit(a.client.json, &list, |l| {
                if l.keys.is_empty() {
                    return "no keys\n".into();
                }
                l.keys
                    .iter()
                    .map(|k| {
                        format!("{}  {:<16} {} of {:?}  {}\n", k.key_id, k.scheme, k.threshold, k.parties, k.public_key)
                    })
                    .collect()
            })
        }
        KeysCommand::Show(a) => {
            let c = client(&a.client)?;
            let k = run("reading the key", c.key(&a.key_id)).map_err(|e| fail(a.client.json, e))?;
            emit(a.client.json, &k, key_text)
        }
        KeysCommand::Presignatures(a) => {
            let c = client(&a.client)?;
            let p = run("reading the pool", c.presignatures(&a.key_id)).map_err(|e| fail(a.client.json, e))?;
            emit(a.client.json, &p, |p| {
                format!("key {}: {} presignatures (pool size {})\n", p.key_id, p.count, p.target)
            })
        }
    }
}

fn hex_arg(name: &str, s: &str) -> Result<Hex> {
    Hex::parse(s.trim().trim_start_matches("0x")).map_err(|e| anyhow::anyhow!("{name}: {e}"))
}

/// Parses a derivation path strictly: `m`, or `m/` and non-hardened decimal indices separated by
/// `/` (no spaces, no empty step, no sign, no leading zero).
pub fn parse_path_strict(s: &str) -> Result<Vec<u32>> {
    let rest = match s.strip_prefix('m') {
        Some("") => return Ok(Vec::new()),
        Some(r) => r.strip_prefix('/').with_context(|| format!("--path `{s}`: expected `m` or `m/0/1`"))?,
        None => anyhow::bail!("--path `{s}` must start with `m` (e.g. m/0/1)"),
    };
    rest.split('/')
        .map(|step| {
            if step.ends_with(['\'', 'h', 'H']) {
                anyhow::bail!(
                    "--path step `{step}` is hardened: only non-hardened derivation is possible with a shared key"
                );
            }
            if step.is_empty() || !step.bytes().all(|b| b.is_ascii_digit()) || (step.len() > 1 && step.starts_with('0'))
            {
                anyhow::bail!("--path step `{step}` is not a decimal index (expected e.g. m/0/1)");
            }
            match step.parse::<u32>() {
                Ok(i) if i < HARDENED => Ok(i),
                _ => anyhow::bail!("--path step `{step}` is too large (indices are below 2^31)"),
            }
        })
        .collect()
}

/// `--hash`: a hash the nodes apply, or none.
enum HashChoice {
    Alg(HashAlg),
    None,
}

fn parse_hash(h: &str) -> Result<HashChoice> {
    if h == "none" {
        return Ok(HashChoice::None);
    }
    HashAlg::from_name(h)
        .map(HashChoice::Alg)
        .ok_or_else(|| anyhow::anyhow!("unknown hash `{h}` (sha256, keccak256, sha256d or none)"))
}

pub fn sign(a: &SignArgs) -> Result<()> {
    // No prior look-up of the key (except for `--hash none`): a client may be allowed to sign
    // without being allowed to read; the node checks that the data fits the key's scheme.
    let hash = a.hash.as_deref().map(parse_hash).transpose()?;
    let path = a.path.as_deref().map(parse_path_strict).transpose()?;
    if let Some(s) = &a.signers {
        party_list("--signers", s)?;
    }
    if hash.is_some() && a.input.digest_hex.is_some() {
        anyhow::bail!("--hash applies to a message; --digest-hex is signed as given");
    }
    let c = client(&a.client)?;
    let mut req = SignRequest { signers: a.signers.clone(), ..SignRequest::default() };
    req.message = match (&a.input.message_hex, &a.input.message_file) {
        (Some(h), _) => Some(hex_arg("--message-hex", h)?),
        (None, Some(p)) if p.as_os_str() == "-" => {
            let mut b = Vec::new();
            std::io::stdin().read_to_end(&mut b).context("reading the message from standard input")?;
            Some(Hex(b))
        }
        (None, Some(p)) => Some(Hex(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?)),
        (None, None) => None,
    };
    req.digest = a.input.digest_hex.as_deref().map(|d| hex_arg("--digest-hex", d)).transpose()?;
    match hash {
        Some(HashChoice::Alg(h)) => req.hash = Some(h),
        Some(HashChoice::None) => {
            // ECDSA keys sign a 32-byte digest as given; Schnorr keys sign the message itself.
            let key = run("reading the key's scheme", c.key(&a.key)).map_err(|e| {
                anyhow::anyhow!("--hash none needs the key's scheme (a read permission): {e}; use --digest-hex for an ECDSA key, or leave --hash out for a Schnorr key")
            })?;
            if key.scheme.is_ecdsa() {
                let m = req.message.take().context("--hash none needs a message")?;
                if m.0.len() != 32 {
                    anyhow::bail!(
                        "--hash none with an ECDSA key: the message must be a 32-byte digest (got {} bytes)",
                        m.0.len()
                    );
                }
                req.digest = Some(m);
            }
        }
        None => {}
    }
    req.path = path.map(DerivationPath::Indices);
    if a.taproot {
        let merkle_root = a.merkle_root.as_deref().map(|m| hex_arg("--merkle-root", m)).transpose()?;
        req.taproot = Some(Taproot { merkle_root });
    }
    let sig = run("signing", c.sign(&a.key, &req)).map_err(|e| fail(a.client.json, e))?;
    emit(a.client.json, &sig, sig_text)
}

pub fn refresh(a: &RefreshArgs) -> Result<()> {
    let c = client(&a.client)?;
    let r = run("refreshing the shares", c.refresh(&a.key, &RefreshRequest { with_aux: a.with_aux }))
        .map_err(|e| fail(a.client.json, e))?;
    emit(a.client.json, &r, reshare_text)
}

pub fn reshare(a: &ReshareArgs) -> Result<()> {
    let c = client(&a.client)?;
    let req = ReshareRequest {
        new_parties: a.new_parties.clone(),
        new_threshold: a.new_threshold,
        old_signers: a.old_signers.clone(),
    };
    let r = run("resharing", c.reshare(&a.key, &req)).map_err(|e| fail(a.client.json, e))?;
    emit(a.client.json, &r, reshare_text)
}

pub fn sessions(a: &SessionsArgs) -> Result<()> {
    let c = client(&a.client)?;
    match &a.id {
        Some(id) => {
            let s = run("reading the session", c.session(id)).map_err(|e| fail(a.client.json, e))?;
            emit(a.client.json, &s, session_line)
        }
        None => {
            let l = run("reading sessions", c.sessions()).map_err(|e| fail(a.client.json, e))?;
            emit(a.client.json, &l, |l| {
                if l.sessions.is_empty() {
                    "no recent sessions\n".into()
                } else {
                    l.sessions.iter().map(session_line).collect()
                }
            })
        }
    }
}

pub fn audit(a: &AuditArgs) -> Result<()> {
    let list = match &a.command {
        Some(AuditCommand::List(l)) => l,
        Some(AuditCommand::Verify(v)) => return crate::node_cmd::audit_verify(v),
        None => &a.list,
    };
    let c = client(&list.client)?;
    let r =
        run("reading the audit log", c.audit(list.from, Some(list.limit))).map_err(|e| fail(list.client.json, e))?;
    emit(list.client.json, &r, |r| {
        let mut s: String = r
            .entries
            .iter()
            .map(|e| {
                let details: Vec<String> = e.details.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{:>6}  {}  {:<20} {}\n", e.seq, e.unix_ms, e.event, details.join(" "))
            })
            .collect();
        if r.entries.is_empty() {
            s.push_str("no entries\n");
        }
        s.push_str(&format!("next: --from {}\n", r.next));
        s
    })
}
