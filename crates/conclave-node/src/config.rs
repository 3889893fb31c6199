//! The node's configuration file (`node.toml`).
//!
//! ```toml
//! [node]
//! index = 0                      # our party index in the cluster
//! listen = "0.0.0.0:7100"        # peer transport (TLS 1.3, mutual authentication)
//! data_dir = "data"              # holds the store file; relative paths are relative to this file
//! identity_key = "identity.key"  # hex Ed25519 seed: signs every protocol message
//! tls_cert = "tls.crt"           # PEM certificate presented to peers (self-signed is fine: peers pin it)
//! tls_key = "tls.key"            # PEM private key of the certificate
//!
//! [master_key]                   # exactly one of `file` and `env`; never inside data_dir
//! file = "/etc/conclave/master.key"
//!
//! [timeouts]                     # optional; defaults shown
//! round_secs = 60                # a round's deadline: parties still awaited become Silent culprits
//! connect_secs = 5
//!
//! [presign_pool]                 # optional
//! size = 0                       # presignatures kept per ECDSA key (0: interactive signing only)
//!
//! [prime_pool]                   # optional
//! size = 2                       # safe primes kept ready for the next Paillier key
//!
//! [api]                          # optional: the client API (HTTPS with the node's certificate)
//! listen = "127.0.0.1:8100"
//!
//! [policy]                       # this node's own rules: which client may do what (docs/policy.md)
//! file = "policy.toml"
//!
//! [[parties]]                    # every member of the cluster, us included
//! index = 0
//! address = "node0.example:7100"
//! identity_public_key = "…64 hex…"
//! tls_cert_sha256 = "…64 hex…"   # SHA-256 of the party's certificate (DER)
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use conclave_protocol::{IdentityKey, IdentityPublicKey, PartyIndex};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::transport::{Limits, PeerSpec, TlsIdentity};

/// A configuration that cannot be used. Every variant names the setting or the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The TOML does not parse or has unknown or missing fields.
    #[error("{path}: {reason}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message (positions and field names, no secret values).
        reason: String,
    },
    /// A setting has an invalid value.
    #[error("setting `{setting}`: {reason}")]
    Invalid {
        /// The setting's name.
        setting: String,
        /// Why it is invalid.
        reason: String,
    },
}

fn invalid(setting: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { setting: setting.into(), reason: reason.into() }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    node: RawNode,
    master_key: RawMasterKey,
    #[serde(default)]
    timeouts: RawTimeouts,
    #[serde(default)]
    presign_pool: RawPresignPool,
    #[serde(default)]
    prime_pool: RawPrimePool,
    #[serde(default)]
    limits: RawLimits,
    api: Option<RawApi>,
    policy: Option<RawPolicy>,
    parties: Vec<RawParty>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    listen: String,
    /// Serve HTTPS with the node's TLS certificate (default true); clients may then also
    /// authenticate with a client certificate listed in the policy.
    #[serde(default = "default_true")]
    tls: bool,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    file: PathBuf,
}

/// The client API's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Where the HTTP API listens.
    pub listen: SocketAddr,
    /// HTTPS with the node's certificate (client certificates optional), or plain HTTP
    /// (only for a loopback address behind a TLS-terminating proxy).
    pub tls: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    index: u16,
    listen: String,
    data_dir: PathBuf,
    identity_key: PathBuf,
    tls_cert: PathBuf,
    tls_key: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMasterKey {
    file: Option<PathBuf>,
    env: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeouts {
    #[serde(default = "default_round_secs")]
    round_secs: u64,
    #[serde(default = "default_connect_secs")]
    connect_secs: u64,
}

impl Default for RawTimeouts {
    fn default() -> Self {
        Self { round_secs: default_round_secs(), connect_secs: default_connect_secs() }
    }
}

fn default_round_secs() -> u64 {
    60
}
fn default_connect_secs() -> u64 {
    5
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPresignPool {
    #[serde(default)]
    size: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrimePool {
    #[serde(default = "default_prime_pool")]
    size: usize,
}

impl Default for RawPrimePool {
    fn default() -> Self {
        Self { size: default_prime_pool() }
    }
}

fn default_prime_pool() -> usize {
    2
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_frame_bytes: Option<usize>,
    early_frames_per_peer: Option<usize>,
    early_bytes_per_peer: Option<usize>,
    max_sessions: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParty {
    index: u16,
    address: String,
    identity_public_key: String,
    tls_cert_sha256: String,
}

/// Where the master key of the store comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    /// A file holding the key as hex.
    File(PathBuf),
    /// An environment variable holding the key as hex.
    Env(String),
}

/// One member of the cluster.
#[derive(Debug, Clone)]
pub struct PartyConfig {
    /// Its index.
    pub index: PartyIndex,
    /// Where its peer transport listens.
    pub address: String,
    /// Its long-term identity key (verifies its protocol messages).
    pub identity: IdentityPublicKey,
    /// SHA-256 of its TLS certificate (DER).
    pub tls_cert_sha256: [u8; 32],
}

/// Timeouts of the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Deadline of one protocol round.
    pub round: Duration,
    /// TCP/TLS connection timeout.
    pub connect: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { round: Duration::from_secs(default_round_secs()), connect: Duration::from_secs(default_connect_secs()) }
    }
}

/// A loaded, validated node configuration.
pub struct NodeConfig {
    /// Our index.
    pub me: PartyIndex,
    /// The transport's listen address.
    pub listen: SocketAddr,
    /// The directory of the store file.
    pub data_dir: PathBuf,
    /// Our identity key.
    pub identity: IdentityKey,
    /// Our TLS certificate and key.
    pub tls: TlsIdentity,
    /// The store's master key source.
    pub master_key: MasterKeySource,
    /// Every member of the cluster, us included.
    pub parties: BTreeMap<PartyIndex, PartyConfig>,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Presignatures kept per ECDSA key.
    pub presign_pool: usize,
    /// Safe primes kept ready.
    pub prime_pool: usize,
    /// Transport limits.
    pub limits: Limits,
    /// Concurrent sessions at most (others are refused).
    pub max_sessions: usize,
    /// The client API, if enabled.
    pub api: Option<ApiConfig>,
    /// The node's own policy (which client may do what); `None`: every request is refused
    /// except the node's own maintenance (presignatures, aux-info).
    pub policy: Option<crate::policy::Policy>,
}

impl core::fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NodeConfig")
            .field("me", &self.me)
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("master_key", &self.master_key)
            .field("parties", &self.parties.keys().collect::<Vec<_>>())
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Zeroizing<String>, ConfigError> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| ConfigError::Read { path: path.to_owned(), reason: e.to_string() })
}

fn hex32(setting: &str, value: &str) -> Result<[u8; 32], ConfigError> {
    let bytes = hex::decode(value.trim()).map_err(|_| invalid(setting, "expected 64 hex characters"))?;
    bytes.try_into().map_err(|_| invalid(setting, "expected 64 hex characters (32 bytes)"))
}

impl NodeConfig {
    /// Reads and validates `path`; files it names are relative to its directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = read(path)?;
        let base = path.parent().map(Path::to_owned).unwrap_or_default();
        Self::parse(&text, &base).map_err(|e| match e {
            ConfigError::Syntax { reason, .. } => ConfigError::Syntax { path: path.to_owned(), reason },
            other => other,
        })
    }

    /// Parses a configuration; relative paths are resolved against `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Self, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Syntax { path: PathBuf::new(), reason: e.to_string() })?;
        let resolve = |p: &Path| if p.is_absolute() { p.to_owned() } else { base.join(p) };
        let me = PartyIndex(raw.node.index);
        let listen: SocketAddr = raw
            .node
            .listen
            .parse()
            .map_err(|_| invalid("node.listen", format!("`{}` is not an IP address and port", raw.node.listen)))?;
        let data_dir = resolve(&raw.node.data_dir);

        let seed_path = resolve(&raw.node.identity_key);
        let seed = read(&seed_path)?;
        let seed = Zeroizing::new(hex32("node.identity_key", &seed)?);
        let identity = IdentityKey::from_seed(&seed);

        let cert_path = resolve(&raw.node.tls_cert);
        let key_path = resolve(&raw.node.tls_key);
        let tls = TlsIdentity::from_pem(&read(&cert_path)?, &read(&key_path)?)
            .map_err(|e| invalid("node.tls_cert / node.tls_key", e.to_string()))?;

        let master_key = match (raw.master_key.file, raw.master_key.env) {
            (Some(f), None) => {
                let f = resolve(&f);
                if f.starts_with(&data_dir) {
                    return Err(invalid("master_key.file", "must not be inside node.data_dir (never beside the data)"));
                }
                MasterKeySource::File(f)
            }
            (None, Some(v)) if !v.is_empty() => MasterKeySource::Env(v),
            _ => return Err(invalid("master_key", "set exactly one of `file` and `env`")),
        };

        let mut parties = BTreeMap::new();
        for (i, p) in raw.parties.iter().enumerate() {
            let setting = |f: &str| format!("parties[{i}].{f}");
            let index = PartyIndex(p.index);
            let pk = hex32(&setting("identity_public_key"), &p.identity_public_key)?;
            let identity = IdentityPublicKey::from_bytes(&pk)
                .ok_or_else(|| invalid(setting("identity_public_key"), "not a valid Ed25519 public key"))?;
            let tls_cert_sha256 = hex32(&setting("tls_cert_sha256"), &p.tls_cert_sha256)?;
            if p.address.trim().is_empty() {
                return Err(invalid(setting("address"), "empty"));
            }
            let entry = PartyConfig { index, address: p.address.clone(), identity, tls_cert_sha256 };
            if parties.insert(index, entry).is_some() {
                return Err(invalid(setting("index"), format!("party {} is listed twice", p.index)));
            }
        }
        let own = parties.get(&me).ok_or_else(|| invalid("node.index", format!("{me} is not in [[parties]]")))?;
        if own.identity != identity.public() {
            return Err(invalid("node.identity_key", format!("does not match parties entry of {me}")));
        }
        if own.tls_cert_sha256 != tls.fingerprint() {
            return Err(invalid("node.tls_cert", format!("its SHA-256 differs from the parties entry of {me}")));
        }
        if parties.len() < 2 {
            return Err(invalid("parties", "a cluster needs at least two parties"));
        }
        let t = raw.timeouts;
        for (name, v) in [("round_secs", t.round_secs), ("connect_secs", t.connect_secs)] {
            if v == 0 || v > 86_400 {
                return Err(invalid(format!("timeouts.{name}"), "must be between 1 and 86400 seconds"));
            }
        }
        let mut limits = Limits::default();
        if let Some(v) = raw.limits.max_frame_bytes {
            if !(64 * 1024..=256 << 20).contains(&v) {
                return Err(invalid("limits.max_frame_bytes", "must be between 64 KiB and 256 MiB"));
            }
            limits.max_frame_bytes = v;
        }
        if let Some(v) = raw.limits.early_frames_per_peer {
            limits.early_frames_per_peer = v;
        }
        if let Some(v) = raw.limits.early_bytes_per_peer {
            limits.early_bytes_per_peer = v;
        }
        if raw.presign_pool.size > 1000 {
            return Err(invalid("presign_pool.size", "at most 1000"));
        }
        if raw.prime_pool.size > 64 {
            return Err(invalid("prime_pool.size", "at most 64"));
        }
        let api = match raw.api {
            Some(a) => {
                let listen: SocketAddr = a
                    .listen
                    .parse()
                    .map_err(|_| invalid("api.listen", format!("`{}` is not an IP address and port", a.listen)))?;
                if !a.tls && !listen.ip().is_loopback() {
                    return Err(invalid("api.tls", "plain HTTP is only allowed on a loopback address"));
                }
                Some(ApiConfig { listen, tls: a.tls })
            }
            None => None,
        };
        let policy = match raw.policy {
            Some(p) => {
                let path = resolve(&p.file);
                let text = read(&path)?;
                Some(crate::policy::Policy::parse(&text).map_err(|e| ConfigError::Syntax { path, reason: e })?)
            }
            None => None,
        };
        Ok(Self {
            api,
            policy,
            me,
            listen,
            data_dir,
            identity,
            tls,
            master_key,
            parties,
            timeouts: Timeouts {
                round: Duration::from_secs(t.round_secs),
                connect: Duration::from_secs(t.connect_secs),
            },
            presign_pool: raw.presign_pool.size,
            prime_pool: raw.prime_pool.size,
            limits,
            max_sessions: raw.limits.max_sessions.unwrap_or(256).max(1),
        })
    }

    /// The transport's view of the other parties.
    pub fn peer_specs(&self) -> Vec<PeerSpec> {
        self.parties
            .values()
            .filter(|p| p.index != self.me)
            .map(|p| PeerSpec { index: p.index, addr: p.address.clone(), cert_sha256: p.tls_cert_sha256 })
            .collect()
    }

    /// The store file.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("conclave.redb")
    }
}
