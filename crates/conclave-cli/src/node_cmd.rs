//! `conclave node` (run a node) and `conclave init-node` (create a node's identity files).

use std::path::PathBuf;

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
    runtime.block_on(async {
        let node = Node::start(config).await?;
        eprintln!("conclave node {} listening on {}; Ctrl-C stops it", node.me(), node.local_addr());
        wait_for_signal().await;
        eprintln!("stopping");
        node.shutdown().await;
        Ok(())
    })
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
    let config = format!(
        "[node]\nindex = {}\nlisten = \"{}\"\ndata_dir = \"data\"\nidentity_key = \"identity.key\"\ntls_cert = \"tls.crt\"\n\
         tls_key = \"tls.key\"\n\n[master_key]\nfile = \"{}\"\n\n# Paste here the [[parties]] entry of every node, this one included:\n\n{entry}",
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
