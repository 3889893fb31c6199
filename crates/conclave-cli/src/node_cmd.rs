//! `conclave node` (run a node) and `conclave init-node` (create a node's identity files).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use conclave_node::transport::TlsIdentity;
use conclave_node::{Node, NodeConfig};
use conclave_protocol::IdentityKey;
use rand_core::OsRng;

/// Run a node until interrupted (Ctrl-C / SIGTERM).
#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// The node's configuration file (see `conclave init-node` and docs/node.md).
    #[arg(long)]
    pub config: PathBuf,
}

/// Create a node's identity key, TLS certificate and master key, and print its cluster entry.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The party index of the new node.
    #[arg(long)]
    pub index: u16,
    /// Directory for node.toml, identity.key, tls.crt, tls.key (created; must not hold them yet).
    #[arg(long)]
    pub dir: PathBuf,
    /// Where the node listens for peers.
    #[arg(long, default_value = "0.0.0.0:7100")]
    pub listen: String,
    /// The address other nodes reach it at (host:port).
    #[arg(long)]
    pub address: String,
    /// Also serve the client API (HTTPS with the node's certificate) on this address, e.g.
    /// `127.0.0.1:8100`; clients need a `[policy]` file that lists them (docs/api.md).
    #[arg(long)]
    pub api_listen: Option<String>,
    /// Where to write the store's master key (keep it away from the data directory, e.g. on
    /// another volume or in a secret manager; default: DIR/secrets/master.key).
    #[arg(long)]
    pub master_key: Option<PathBuf>,
}

/// Verify a node's audit log: every entry's hash, signature and chain, and the end of the log
/// against the head recorded in the node's store.
#[derive(Debug, clap::Args)]
pub struct AuditVerifyArgs {
    /// The node's configuration file.
    #[arg(long)]
    pub config: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn audit_verify(args: &AuditVerifyArgs) -> Result<()> {
    use conclave_node::config::MasterKeySource;
    let config = NodeConfig::load(&args.config).with_context(|| format!("configuration {}", args.config.display()))?;
    let master = match &config.master_key {
        MasterKeySource::File(p) => conclave_store::MasterKey::from_file(p),
        MasterKeySource::Env(v) => conclave_store::MasterKey::from_env(v),
    }
    .map_err(|e| anyhow::anyhow!("master key: {e}"))?;
    let owner = config.identity.public().to_bytes();
    let (head, head_note) = match conclave_store::RedbStore::open(&config.store_path(), &master, &owner) {
        Ok(store) => (
            conclave_node::audit::stored_head(&store).map_err(|e| anyhow::anyhow!("audit head: {e}"))?,
            "checked against the head in the store",
        ),
        Err(e) => {
            eprintln!("warning: cannot open the store ({e}); the end of the log is not checked against its head");
            (None, "head NOT checked (store unavailable, e.g. the node is running)")
        }
    };
    let path = config.data_dir.join("audit.log");
    let result = conclave_node::audit::verify_file(&path, &config.identity.public(), head);
    match (&result, args.json) {
        (Ok(v), true) => println!(
            "{}",
            serde_json::json!({"ok": true, "entries": v.entries, "head": hex::encode(v.head), "head_checked": head.is_some()})
        ),
        (Ok(v), false) => println!("audit log {}: {} entries verify; {head_note}", path.display(), v.entries),
        (Err(e), true) => println!("{}", serde_json::json!({"ok": false, "problem": e.problem})),
        (Err(_), false) => {}
    }
    result.map(|_| ()).map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn run(args: &NodeArgs) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONCLAVE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let config = NodeConfig::load(&args.config).with_context(|| format!("configuration {}", args.config.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("tokio runtime")?;
    let result = runtime.block_on(async {
        // Node::start consumes the configuration: keep what the API needs first.
        let api_config = config.api.clone();
        let tls = config.tls.clone();
        let node = Arc::new(Node::start(config).await?);
        eprintln!("conclave node {} listening on {}; Ctrl-C stops it", node.me(), node.local_addr());
        let api = match api_config {
            Some(cfg) => {
                let https = cfg.tls;
                let pin = hex::encode(tls.fingerprint());
                let handle = conclave_node::api::serve(node.clone(), cfg, Some(tls)).await?;
                if https {
                    eprintln!(
                        "client API on https://{} (certificate SHA-256 {pin}: clients pass it as --pin-sha256)",
                        handle.local_addr()
                    );
                } else {
                    eprintln!("client API on http://{} (plain HTTP, loopback only)", handle.local_addr());
                }
                Some(handle)
            }
            None => None,
        };
        wait_for_signal().await;
        eprintln!("stopping");
        if let Some(api) = api {
            api.shutdown().await;
        }
        // Operations started through the API run in their own tasks; give them a moment to let
        // go of the node, then stop it cleanly (or exit: everything committed is in the store).
        let mut node = node;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match Arc::try_unwrap(node) {
                Ok(n) => {
                    n.shutdown().await;
                    break;
                }
                Err(n) if std::time::Instant::now() < deadline => {
                    node = n;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(_) => {
                    eprintln!("operations still running after 10 s; exiting without waiting for them");
                    break;
                }
            }
        }
        Ok(())
    });
    // A safe-prime search may still run on the blocking pool: it holds nothing that needs
    // saving (a prime is stored only once found), so do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn write_new(path: &std::path::Path, contents: &str, secret: bool) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(path).with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    f.write_all(contents.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    f.sync_all().with_context(|| format!("syncing {}", path.display()))?;
    Ok(())
}

pub fn init(args: &InitArgs) -> Result<()> {
    if args.address.trim().is_empty() {
        bail!("--address must be host:port");
    }
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;
    let identity = IdentityKey::generate(&mut OsRng);
    let tls = TlsIdentity::generate_self_signed(&format!("conclave-node-{}", args.index))
        .map_err(|e| anyhow::anyhow!("TLS certificate: {e}"))?;
    let master = conclave_store::MasterKey::generate(&mut OsRng);
    let master_path = args.master_key.clone().unwrap_or_else(|| args.dir.join("secrets").join("master.key"));
    if let Some(parent) = master_path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    write_new(&args.dir.join("identity.key"), &hex::encode(identity.expose_seed()), true)?;
    write_new(&args.dir.join("tls.crt"), &tls.cert_pem(), false)?;
    write_new(&args.dir.join("tls.key"), &tls.key_pem(), true)?;
    write_new(&master_path, &master.to_hex(), true)?;
    let entry = format!(
        "[[parties]]\nindex = {}\naddress = \"{}\"\nidentity_public_key = \"{}\"\ntls_cert_sha256 = \"{}\"\n",
        args.index,
        args.address,
        hex::encode(identity.public().to_bytes()),
        hex::encode(tls.fingerprint())
    );
    let master_abs = std::path::absolute(&master_path).unwrap_or(master_path.clone());
    let api = match &args.api_listen {
        Some(a) => format!(
            "[api]\nlisten = \"{a}\"\n\n# Which client may do what: see docs/api.md and crates/conclave-node/src/policy.rs.\n\
             # [policy]\n# file = \"policy.toml\"\n\n"
        ),
        None => String::new(),
    };
    let config = format!(
        "[node]\nindex = {}\nlisten = \"{}\"\ndata_dir = \"data\"\nidentity_key = \"identity.key\"\ntls_cert = \"tls.crt\"\n\
         tls_key = \"tls.key\"\n\n[master_key]\nfile = \"{}\"\n\n{api}# Paste here the [[parties]] entry of every node, this one included:\n\n{entry}",
        args.index,
        args.listen,
        master_abs.display()
    );
    write_new(&args.dir.join("node.toml"), &config, false)?;
    println!("{entry}");
    eprintln!(
        "wrote {}/{{node.toml,identity.key,tls.crt,tls.key}} and the master key {}; \
         give the entry above to every other node",
        args.dir.display(),
        master_path.display()
    );
    Ok(())
}

/// Create a whole cluster on this machine (for trials and the demo): every node's identity,
/// certificate, master key, configuration and policy, plus one client credential.
#[derive(Debug, clap::Args)]
pub struct InitClusterArgs {
    /// How many nodes.
    #[arg(long, default_value_t = 3)]
    pub parties: u16,
    /// The directory to create (must not exist or be empty).
    #[arg(long)]
    pub dir: PathBuf,
    /// First peer-transport port; node i listens on base + i.
    #[arg(long, default_value_t = 7100)]
    pub peer_port: u16,
    /// First API port; node i serves its API on base + i.
    #[arg(long, default_value_t = 8100)]
    pub api_port: u16,
    /// Safe primes each node keeps ready for its next Paillier key (ECDSA aux-info); the nodes
    /// make them in the background (seconds of CPU each). 0: made when needed.
    #[arg(long, default_value_t = 2)]
    pub prime_pool: usize,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// What `conclave init` wrote.
#[derive(Debug, serde::Serialize)]
pub struct ClusterLayout {
    /// Each node's configuration file.
    pub configs: Vec<PathBuf>,
    /// The client's configuration (API addresses, pinned certificates, token).
    pub client_config: PathBuf,
}

/// What [`write_cluster`] writes: `parties` nodes on 127.0.0.1, node i listening for peers on
/// `peer_ports[i]` and serving its API on `api_ports[i]`.
pub struct ClusterSpec<'a> {
    pub dir: &'a std::path::Path,
    pub parties: u16,
    pub peer_ports: Vec<u16>,
    pub api_ports: Vec<u16>,
    /// Safe primes each node keeps ready (0: generated when a Paillier key is needed).
    pub prime_pool: usize,
    /// Presignatures each node keeps per ECDSA key (0: interactive signing only).
    pub presign_pool: usize,
    /// A round's deadline in seconds (default: the node's, 60).
    pub round_secs: Option<u64>,
}

pub fn init_cluster(args: &InitClusterArgs) -> Result<ClusterLayout> {
    if !(2..=64).contains(&args.parties) {
        bail!("--parties must be between 2 and 64");
    }
    let ports = |base: u16, flag: &str| -> Result<Vec<u16>> {
        (0..args.parties).map(|i| base.checked_add(i).with_context(|| format!("{flag} + {i} overflows"))).collect()
    };
    let spec = ClusterSpec {
        dir: &args.dir,
        parties: args.parties,
        peer_ports: ports(args.peer_port, "--peer-port")?,
        api_ports: ports(args.api_port, "--api-port")?,
        prime_pool: args.prime_pool,
        presign_pool: 0,
        round_secs: None,
    };
    let layout = write_cluster(&spec)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&layout).context("JSON")?);
    } else {
        println!("wrote a {}-node cluster in {}:", args.parties, args.dir.display());
        for c in &layout.configs {
            println!("  conclave node --config {}", c.display());
        }
        println!("client credential: {}", layout.client_config.display());
    }
    Ok(layout)
}

/// Writes every node's identity, certificate, master key, configuration and policy, and the
/// client's `client.toml` (with a fresh token) into `spec.dir`.
pub fn write_cluster(spec: &ClusterSpec<'_>) -> Result<ClusterLayout> {
    use rand_core::RngCore;
    use sha2::Digest;
    let n = usize::from(spec.parties);
    if !(2..=64).contains(&spec.parties) || spec.peer_ports.len() != n || spec.api_ports.len() != n {
        bail!("a cluster has 2 to 64 parties, each with a peer port and an API port");
    }
    if spec.dir.exists() && std::fs::read_dir(spec.dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        bail!("{} exists and is not empty", spec.dir.display());
    }
    let secrets = spec.dir.join("secrets");
    std::fs::create_dir_all(&secrets).with_context(|| format!("creating {}", secrets.display()))?;
    let mut token_bytes = [0u8; 32];
    OsRng.fill_bytes(&mut token_bytes);
    let token = hex::encode(token_bytes);
    let token_sha256 = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    let policy = format!(
        "# This node's own policy (see docs/node.md). `admin` was created by `conclave init`.\n\
         [[clients]]\nname = \"admin\"\ntoken_sha256 = \"{token_sha256}\"\n\n\
         [[rules]]\nclients = [\"admin\"]\nactions = [\"keygen\", \"sign\", \"refresh\", \"reshare\", \"read\"]\n"
    );
    let mut entries = String::new();
    let mut nodes = Vec::new();
    for (i, (peer_port, api_port)) in (0..spec.parties).zip(spec.peer_ports.iter().zip(&spec.api_ports)) {
        let home = spec.dir.join(format!("node-{i}"));
        std::fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
        let identity = IdentityKey::generate(&mut OsRng);
        let tls = TlsIdentity::generate_self_signed(&format!("conclave-node-{i}"))
            .map_err(|e| anyhow::anyhow!("TLS certificate: {e}"))?;
        write_new(&home.join("identity.key"), &hex::encode(identity.expose_seed()), true)?;
        write_new(&home.join("tls.crt"), &tls.cert_pem(), false)?;
        write_new(&home.join("tls.key"), &tls.key_pem(), true)?;
        write_new(&home.join("policy.toml"), &policy, false)?;
        let master = conclave_store::MasterKey::generate(&mut OsRng);
        write_new(&secrets.join(format!("node-{i}.key")), &master.to_hex(), true)?;
        entries.push_str(&format!(
            "\n[[parties]]\nindex = {i}\naddress = \"127.0.0.1:{peer_port}\"\nidentity_public_key = \"{}\"\ntls_cert_sha256 = \"{}\"\n",
            hex::encode(identity.public().to_bytes()),
            hex::encode(tls.fingerprint())
        ));
        nodes.push((i, home, *peer_port, *api_port, hex::encode(tls.fingerprint())));
    }
    let mut configs = Vec::new();
    let mut client =
        format!("# Client credential written by `conclave init`; keep it secret (mode 0600).\ntoken = \"{token}\"\n");
    for (i, home, peer_port, api_port, pin) in &nodes {
        let config = format!(
            "[node]\nindex = {i}\nlisten = \"127.0.0.1:{peer_port}\"\ndata_dir = \"data\"\nidentity_key = \"identity.key\"\n\
             tls_cert = \"tls.crt\"\ntls_key = \"tls.key\"\n\n[master_key]\nfile = \"../secrets/node-{i}.key\"\n\n\
             [api]\nlisten = \"127.0.0.1:{api_port}\"\n\n[policy]\nfile = \"policy.toml\"\n\n[prime_pool]\nsize = {}\n\n\
             [presign_pool]\nsize = {}\n{entries}",
            spec.prime_pool,
            spec.presign_pool
        );
        let config = match spec.round_secs {
            Some(secs) => format!("[timeouts]\nround_secs = {secs}\n\n{config}"),
            None => config,
        };
        let path = home.join("node.toml");
        write_new(&path, &config, false)?;
        configs.push(path);
        client.push_str(&format!(
            "\n[[nodes]]\nindex = {i}\nurl = \"https://127.0.0.1:{api_port}\"\ncert_sha256 = \"{pin}\"\n"
        ));
    }
    let client_config = spec.dir.join("client.toml");
    write_new(&client_config, &client, true)?;
    Ok(ClusterLayout { configs, client_config })
}
