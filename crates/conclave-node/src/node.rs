//! The node: one store, one transport, one dispatcher, and a task per session.
//!
//! Data flow: the transport yields authenticated frames → the dispatcher routes protocol frames
//! to the session they name (or holds them in the bounded early buffer until the session
//! starts) and control frames to the proposal logic → each session task drives one
//! [`StateMachine`](conclave_protocol::StateMachine) through [`crate::session::drive`] → outputs
//! are committed to the store before anyone is told about them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use conclave_ecdsa::hd::DerivationPath;
use conclave_ecdsa::presign::ThresholdCurve;
use conclave_ecdsa::{presign, sign, AuxInfo, EcdsaSignature, Presignature};
use conclave_frost::{SignRequest, ThresholdSignature};
use conclave_keygen::reshare::{self, ReshareInput, ReshareOutput, ReshareParams};
use conclave_keygen::{aux_info, dkg, KeyId, KeyShare, PublicKeyShare};
use conclave_math::{Curve, Ed25519, Secp256k1, P256};
use conclave_paillier::{DecryptionKey, PrimePool};
use conclave_protocol::{IdentityKey, IdentityPublicKey, MachineConfig, PartyIndex, PartySet, SessionId};
use conclave_store::{MasterKey, Op, RecordKind, RedbStore, Store};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::audit::{details, AuditLog};
use crate::config::{MasterKeySource, NodeConfig, Timeouts};
use crate::error::NodeError;
use crate::policy::{Action, Caller, Policy, Query};
use crate::request::{Control, EcdsaData, Request, Scheme};
use crate::session::{drive, drive_with, send_control, Hooks, Link, Role, SessionEvent};
use crate::transport::{Channel, EarlyBuffer, Inbound, Transport, TransportConfig, TransportStats};

/// Events a session's channel holds at most (early messages included).
const SESSION_QUEUE: usize = 8192;
/// Finished sessions remembered, so that their late messages are dropped instead of buffered.
const FINISHED_MEMORY: usize = 4096;
/// How long a party blamed as silent is avoided when the node picks signers.
const SILENT_PENALTY: Duration = Duration::from_secs(120);
/// Unauthenticated API requests recorded in the audit log per minute at most.
pub const UNAUTHENTICATED_PER_MINUTE: u32 = 10;
/// Pending hand-overs are looked at every this many background ticks (500 ms).
const RECEIPT_QUERY_TICKS: u64 = 2;
/// The first interval between two queries for one pending hand-over's receipt; it doubles.
const RECEIPT_QUERY_FIRST: Duration = Duration::from_secs(3);
/// The longest interval between two queries for one pending hand-over's receipt.
const RECEIPT_QUERY_MAX: Duration = Duration::from_secs(600);
/// Bits of each Paillier prime.
pub const PRIME_BITS: u32 = 1536;

/// Everything public about a key the node holds a share of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id.
    pub key_id: KeyId,
    /// The scheme it signs with.
    pub scheme: Scheme,
    /// Any `threshold` of `parties` sign.
    pub threshold: u16,
    /// The key holders.
    pub parties: PartySet,
    /// The group public key (SEC1 compressed, or 32 bytes for Ed25519).
    pub public_key: Vec<u8>,
    /// The BIP-32 chain code.
    pub chain_code: [u8; 32],
}

/// A signature released by a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureOutput {
    /// The scheme.
    pub scheme: Scheme,
    /// The key that signed.
    pub key_id: KeyId,
    /// The signers.
    pub signers: PartySet,
    /// The key the signature verifies under (ECDSA: SEC1 compressed, derived along the path;
    /// Ed25519: 32 bytes; FROST secp256k1: SEC1 compressed; BIP-340: x-only, tweaked for Taproot).
    pub public_key: Vec<u8>,
    /// ECDSA: `r ‖ s` (low-S); Schnorr: the scheme's encoding.
    pub signature: Vec<u8>,
    /// ECDSA only: DER encoding.
    pub der: Option<Vec<u8>>,
    /// ECDSA only: Ethereum's `v − 27`.
    pub recovery_id: Option<u8>,
    /// ECDSA only: the digest signed.
    pub digest: Option<[u8; 32]>,
}

/// What a session produced, as seen by the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOutput {
    /// A key share was stored.
    Key(KeyInfo),
    /// Aux-info for a party set was stored.
    AuxInfo,
    /// A presignature was stored in the pool.
    Presignature,
    /// A signature.
    Signature(SignatureOutput),
    /// A reshare committed (every party confirmed): the old key's share, if we held one, is
    /// retired; `new_key` is our share of the new sharing if we are in the new group.
    Reshared {
        /// The old key.
        old_key_id: KeyId,
        /// The new sharing (same public key), if we are in the new group.
        new_key: Option<KeyInfo>,
    },
}

/// Where a test stops a node abruptly, right after (or before) a persistence point.
#[cfg(feature = "fault-injection")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultPoint {
    /// After accepting a proposal (the node then stops answering: a node dying mid-session).
    AfterAccept,
    /// After a presignature was taken from the store, before the signing round is sent.
    AfterPresignatureTaken,
    /// After a DKG finished, before its key share is stored.
    BeforeKeyShareStored,
    /// After a key share was stored, before the session is reported finished.
    AfterKeyShareStored,
    /// Before an aux-info result is stored, wait two seconds: a slow participant (the node
    /// keeps running).
    SlowAuxInfoStore,
    /// In every reshare, withhold this node's round-2 echo (its last message) from the given
    /// party: that party sees the hand-over stall while the others commit it.
    WithholdReshareEcho(PartyIndex),
}

/// What a client asks to sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignData {
    /// ECDSA over a message hashed by the nodes.
    Message {
        /// The hash.
        hash: conclave_ecdsa::HashName,
        /// The message.
        message: Vec<u8>,
    },
    /// ECDSA over a caller's digest (always interactive).
    Digest([u8; 32]),
    /// Schnorr (Ed25519, FROST secp256k1, BIP-340) over a message.
    Schnorr {
        /// The message.
        message: Vec<u8>,
        /// BIP-340 only: the Taproot tweak (`Some(merkle_root)`).
        taproot: Option<Option<[u8; 32]>>,
    },
}

/// Sessions remembered for status queries.
const STATUS_MEMORY: usize = 1024;

/// Where a session is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Running.
    Running,
    /// Finished with an output.
    Succeeded,
    /// Failed; `culprits` are the parties blamed (index, fault), if any.
    Failed {
        /// The error.
        error: String,
        /// The parties blamed.
        culprits: Vec<(PartyIndex, String)>,
    },
}

/// A session as the node saw it (public data only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionStatus {
    /// The session id.
    pub id: SessionId,
    /// `keygen`, `aux-info`, `presign`, `sign-ecdsa`, `sign-schnorr`, `reshare`.
    pub kind: &'static str,
    /// The client that asked (`node` for maintenance).
    pub client: String,
    /// The proposing node.
    pub proposer: PartyIndex,
    /// The participants.
    pub participants: PartySet,
    /// Where it is.
    pub state: SessionState,
    /// When it started (Unix milliseconds).
    pub started_unix_ms: u64,
    /// How long it ran, once finished.
    pub duration_ms: Option<u64>,
    /// The key the session used (presign, sign), if any.
    pub key: Option<String>,
    /// Protocol bytes this node sent in the session (payload bytes per recipient; control
    /// messages not counted); set when the session ends.
    pub bytes_sent: u64,
}

#[derive(Default)]
struct Metrics {
    /// (kind, outcome) → count.
    sessions: BTreeMap<(&'static str, &'static str), u64>,
    /// kind → (sum of seconds, count) of finished sessions.
    latency: BTreeMap<&'static str, (f64, u64)>,
    refusals_sent: u64,
    /// Hand-overs finished from a peer's receipt after our session did not see them complete.
    handovers_recovered: u64,
}

pub(crate) fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

struct State {
    status: BTreeMap<SessionId, (SessionStatus, Instant)>,
    status_order: VecDeque<SessionId>,
    metrics: Metrics,
    sessions: BTreeMap<SessionId, mpsc::Sender<SessionEvent>>,
    finished: BTreeSet<SessionId>,
    finished_order: VecDeque<SessionId>,
    early: EarlyBuffer,
    /// When the first early frame of each held session arrived (for expiry).
    early_since: BTreeMap<SessionId, Instant>,
    keys: BTreeMap<KeyId, KeyInfo>,
    silent: BTreeMap<PartyIndex, Instant>,
    refilling: BTreeSet<KeyId>,
    /// Pending hand-overs: (interval, next time) of the query for their receipt.
    receipt_queries: BTreeMap<SessionId, (Duration, Instant)>,
    /// Pooled presignatures chosen for a request we propose, until its session ends.
    reserved_presignatures: BTreeSet<[u8; 32]>,
    /// Unauthenticated API requests: (minute start, recorded in it, left out since the last
    /// recorded one).
    unauthenticated: (Instant, u32, u64),
}

struct Inner {
    me: PartyIndex,
    seed: Zeroizing<[u8; 32]>,
    identities: BTreeMap<PartyIndex, IdentityPublicKey>,
    store: Arc<dyn Store>,
    transport: Transport,
    timeouts: Timeouts,
    presign_pool: usize,
    prime_pool: usize,
    max_sessions: usize,
    policy: Policy,
    audit: AuditLog,
    state: Mutex<State>,
    primes: Mutex<()>,
    /// Serializes finishing pending hand-overs from receipts.
    handover: Mutex<()>,
    /// Decoded aux-info by party set ([`aux_id`]); replaced when aux-info is run again.
    aux_cache: Mutex<BTreeMap<Vec<u8>, Arc<AuxInfo>>>,
    stop: Notify,
    #[cfg(feature = "fault-injection")]
    fault: Mutex<Option<FaultPoint>>,
}

impl core::fmt::Debug for Inner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inner").field("me", &self.me).finish_non_exhaustive()
    }
}

/// A running node.
#[derive(Debug)]
pub struct Node {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave our maps half-updated in a way that matters
    // more than stopping the node would; recover the guard.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Node {
    /// Opens the store, starts the transport and the background tasks.
    pub async fn start(config: NodeConfig) -> Result<Self, NodeError> {
        let store: Arc<dyn Store> = {
            let master = match &config.master_key {
                MasterKeySource::File(p) => MasterKey::from_file(p)?,
                MasterKeySource::Env(v) => MasterKey::from_env(v)?,
            };
            std::fs::create_dir_all(&config.data_dir)
                .map_err(|e| NodeError::Store(format!("cannot create {}: {e}", config.data_dir.display())))?;
            let owner = config.identity.public().to_bytes();
            Arc::new(RedbStore::open(&config.store_path(), &master, &owner)?)
        };
        Self::start_with_store(config, store).await
    }

    /// Starts a node on an already opened store (a server database, or a test's).
    pub async fn start_with_store(config: NodeConfig, store: Arc<dyn Store>) -> Result<Self, NodeError> {
        let seed = Zeroizing::new(config.identity.expose_seed());
        let audit = AuditLog::open(&config.data_dir, &config.identity.public(), store.as_ref())
            .map_err(|e| NodeError::Audit(e.to_string()))?;
        let identities = config.parties.iter().map(|(p, c)| (*p, c.identity)).collect();
        let peers = config.peer_specs();
        let tcfg = TransportConfig {
            me: config.me,
            listen: config.listen,
            identity: config.tls,
            peers,
            limits: config.limits.clone(),
            connect_timeout: config.timeouts.connect,
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
        };
        let (transport, inbound) = Transport::start(tcfg).await.map_err(|e| NodeError::Transport(e.to_string()))?;
        let inner = Arc::new(Inner {
            me: config.me,
            seed,
            identities,
            store,
            transport,
            timeouts: config.timeouts,
            presign_pool: config.presign_pool,
            prime_pool: config.prime_pool,
            max_sessions: config.max_sessions,
            audit,
            policy: config.policy.unwrap_or_else(|| {
                tracing::warn!(party = %config.me, "no [policy] file configured: every client request is refused");
                Policy::deny_all()
            }),
            state: Mutex::new(State {
                status: BTreeMap::new(),
                status_order: VecDeque::new(),
                metrics: Metrics::default(),
                sessions: BTreeMap::new(),
                finished: BTreeSet::new(),
                finished_order: VecDeque::new(),
                early: EarlyBuffer::new(&config.limits),
                early_since: BTreeMap::new(),
                keys: BTreeMap::new(),
                silent: BTreeMap::new(),
                refilling: BTreeSet::new(),
                receipt_queries: BTreeMap::new(),
                reserved_presignatures: BTreeSet::new(),
                unauthenticated: (Instant::now(), 0, 0),
            }),
            primes: Mutex::new(()),
            handover: Mutex::new(()),
            aux_cache: Mutex::new(BTreeMap::new()),
            stop: Notify::new(),
            #[cfg(feature = "fault-injection")]
            fault: Mutex::new(None),
        });
        inner.load_keys()?;
        inner.record("node-started", details([("party", inner.me.to_string())])).map_err(NodeError::Audit)?;
        let mut tasks = vec![tokio::spawn(dispatch(inner.clone(), inbound))];
        tasks.push(tokio::spawn(background(inner.clone())));
        tracing::info!(party = %inner.me, addr = %inner.transport.local_addr(), "node started");
        Ok(Self { inner, tasks })
    }

    /// Our party index.
    pub fn me(&self) -> PartyIndex {
        self.inner.me
    }

    /// Where the peer transport listens.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.inner.transport.local_addr()
    }

    /// The keys this node holds a share of.
    pub fn keys(&self) -> Vec<KeyInfo> {
        lock(&self.inner.state).keys.values().cloned().collect()
    }

    /// One key.
    pub fn key(&self, key_id: &KeyId) -> Option<KeyInfo> {
        lock(&self.inner.state).keys.get(key_id).cloned()
    }

    /// The transport's counters.
    pub fn transport_stats(&self) -> TransportStats {
        self.inner.transport.stats()
    }

    /// Frames dropped by the early buffer (sessions not started, beyond the bound).
    pub fn early_dropped(&self) -> u64 {
        lock(&self.inner.state).early.dropped()
    }

    /// Frames held in the early buffer now.
    pub fn early_held(&self) -> usize {
        lock(&self.inner.state).early.len()
    }

    /// Presignatures in the pool of `key_id` (any signer set).
    pub fn presignatures(&self, key_id: &KeyId) -> Result<usize, NodeError> {
        Ok(self.inner.store.list(RecordKind::Presignature, &key_id.0)?.len())
    }

    /// Safe primes ready for the next Paillier key.
    pub fn safe_primes(&self) -> Result<usize, NodeError> {
        Ok(self.inner.load_prime_pool()?.len())
    }

    /// Adds safe primes generated elsewhere (e.g. ahead of time by `conclave primes`) to the
    /// pool; each is checked before it is accepted.
    pub fn add_safe_primes(&self, primes: Vec<rug::Integer>) -> Result<usize, NodeError> {
        let _guard = lock(&self.inner.primes);
        let mut pool = self.inner.load_prime_pool()?;
        for p in primes {
            pool.push(p).map_err(|e| NodeError::InvalidRequest(format!("safe prime rejected: {e}")))?;
        }
        self.inner.store.put(RecordKind::SafePrimes, PRIME_POOL_ID, &pool.to_bytes())?;
        Ok(pool.len())
    }

    /// Sets a point where this node stops abruptly (tests only).
    #[cfg(feature = "fault-injection")]
    pub fn inject_fault(&self, point: FaultPoint) {
        *lock(&self.inner.fault) = Some(point);
    }

    /// Whether the node stopped (at a fault point, or by `shutdown`).
    pub fn is_stopped(&self) -> bool {
        self.tasks.iter().all(JoinHandle::is_finished)
    }

    /// Generates a key with `parties` (default: the whole cluster); for ECDSA also runs aux-info
    /// for the party set if this node has none for it.
    pub async fn keygen(
        &self,
        caller: &Caller,
        scheme: Scheme,
        threshold: u16,
        parties: Option<PartySet>,
    ) -> Result<KeyInfo, NodeError> {
        let parties = match parties {
            Some(p) => p,
            None => PartySet::new(self.inner.identities.keys().copied())
                .map_err(|_| NodeError::InvalidRequest("empty cluster".into()))?,
        };
        let request = Request::Keygen { scheme, threshold, parties: parties.clone() };
        self.inner.check_policy(caller, self.inner.me, &request)?;
        if scheme.is_ecdsa() && self.inner.load_aux(&parties).is_err() {
            self.run_aux_info(parties.clone()).await?;
        }
        match self.inner.propose_checked(caller, request).await? {
            SessionOutput::Key(k) => Ok(k),
            _ => Err(NodeError::Bug("keygen produced no key")),
        }
    }

    /// Runs aux-info (fresh Paillier keys and ring-Pedersen parameters) for `parties`.
    pub async fn run_aux_info(&self, parties: PartySet) -> Result<(), NodeError> {
        self.inner.propose(&Caller::node(), Request::AuxInfo { parties }).await.map(|_| ())
    }

    /// Makes one presignature for `key_id` with `signers` (default: the pool's signer set).
    pub async fn presign(&self, key_id: &KeyId, signers: Option<PartySet>) -> Result<(), NodeError> {
        let key = self.inner.key_info(key_id)?;
        let signers = match signers {
            Some(s) => s,
            None => pool_signers(&key)?,
        };
        self.inner.propose(&Caller::node(), Request::Presign { key_id: *key_id, signers }).await.map(|_| ())
    }

    /// Signs with `key_id`. `signers` default to us and the first healthy others.
    pub async fn sign(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        data: SignData,
        path: &[u32],
        signers: Option<PartySet>,
    ) -> Result<SignatureOutput, NodeError> {
        let key = self.inner.key_info(key_id)?;
        let signers = self.inner.choose_signers(&key, signers)?;
        let request = match (key.scheme.is_ecdsa(), data) {
            (true, SignData::Message { hash, message }) => {
                let data = EcdsaData::Message { hash, message };
                let presignature = if path.is_empty() { self.inner.pooled_presignature(&key, &signers)? } else { None };
                Request::SignEcdsa { key_id: *key_id, signers, path: path.to_vec(), data, presignature }
            }
            (true, SignData::Digest(d)) => Request::SignEcdsa {
                key_id: *key_id,
                signers,
                path: path.to_vec(),
                data: EcdsaData::Digest(d),
                presignature: None,
            },
            (false, SignData::Schnorr { message, taproot }) => {
                if !path.is_empty() {
                    return Err(NodeError::InvalidRequest("derivation paths are for ECDSA keys".into()));
                }
                if taproot.is_some() && key.scheme != Scheme::SchnorrBip340 {
                    return Err(NodeError::InvalidRequest("a Taproot tweak needs a schnorr-bip340 key".into()));
                }
                Request::SignSchnorr { key_id: *key_id, signers, message, taproot }
            }
            (true, _) => return Err(NodeError::InvalidRequest("an ECDSA key signs a message or a digest".into())),
            (false, _) => return Err(NodeError::InvalidRequest("a Schnorr key signs a message".into())),
        };
        let reserved = match &request {
            Request::SignEcdsa { presignature: Some(ps), .. } => Some(*ps),
            _ => None,
        };
        let result = self.inner.propose(caller, request).await;
        if let Some(ps) = reserved {
            // Used (or refused before use): in either case no longer ours to hand out.
            lock(&self.inner.state).reserved_presignatures.remove(&ps);
        }
        match result? {
            SessionOutput::Signature(s) => Ok(s),
            _ => Err(NodeError::Bug("signing produced no signature")),
        }
    }

    /// Hands `key_id` to `new_parties` with threshold `new_threshold` (same public key).
    /// `old_signers` default to the key's holders, which all deal. For an ECDSA key, aux-info is
    /// run for the new party set in the same operation if this node has none for it.
    pub async fn reshare(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        new_parties: PartySet,
        new_threshold: u16,
        old_signers: Option<PartySet>,
    ) -> Result<Option<KeyInfo>, NodeError> {
        let key = self.inner.key_info(key_id)?;
        let old_public = self.inner.public_record(&key).map_err(NodeError::Store)?;
        let request = Request::Reshare {
            scheme: key.scheme,
            old_public,
            old_signers: old_signers.unwrap_or_else(|| key.parties.clone()),
            new_parties: new_parties.clone(),
            new_threshold,
        };
        let new_key = match self.inner.propose(caller, request).await? {
            SessionOutput::Reshared { new_key, .. } => new_key,
            _ => return Err(NodeError::Bug("reshare produced no hand-over")),
        };
        if key.scheme.is_ecdsa() && new_parties.contains(self.inner.me) && self.inner.load_aux(&new_parties).is_err() {
            self.run_aux_info(new_parties).await?;
        }
        Ok(new_key)
    }

    /// Refreshes `key_id`: the same parties get fresh shares of the same key; for an ECDSA key
    /// the party set's aux-info (Paillier keys) is refreshed in the same operation when
    /// `with_aux` is set.
    pub async fn refresh(&self, caller: &Caller, key_id: &KeyId, with_aux: bool) -> Result<KeyInfo, NodeError> {
        let key = self.inner.key_info(key_id)?;
        let new = self
            .reshare(caller, key_id, key.parties.clone(), key.threshold, None)
            .await?
            .ok_or(NodeError::Bug("refresh left us without a share"))?;
        if with_aux && key.scheme.is_ecdsa() {
            self.run_aux_info(key.parties.clone()).await?;
        }
        Ok(new)
    }

    /// The client a bearer token belongs to, by this node's policy.
    pub fn authenticate_token(&self, token: &str) -> Option<Caller> {
        self.inner.policy.authenticate_token(token)
    }

    /// The client a TLS client certificate (its SHA-256) belongs to, by this node's policy.
    pub fn authenticate_cert(&self, cert_sha256: &[u8; 32]) -> Option<Caller> {
        self.inner.policy.authenticate_cert(cert_sha256)
    }

    /// Whether `caller` may read keys, sessions, pool status and the audit log.
    pub fn check_read(&self, caller: &Caller) -> Result<(), NodeError> {
        let q = Query { action: Action::Read, scheme: None, key_id: None, hash: None };
        self.inner.policy.check(caller, self.inner.me, &q).map_err(NodeError::PolicyRefused)
    }

    /// Audit entries from `from_seq` (1-based), at most `limit`.
    pub fn audit(&self, from_seq: u64, limit: usize) -> Result<Vec<crate::audit::AuditEntry>, NodeError> {
        self.inner.audit.read(from_seq, limit).map_err(NodeError::Audit)
    }

    /// Records a request refused for want of valid credentials. At most
    /// [`UNAUTHENTICATED_PER_MINUTE`] entries a minute (an unauthenticated flood must not grow
    /// the log or stall it on disk syncs); the next recorded entry counts the ones left out.
    pub fn audit_unauthenticated(&self, reason: &str, path: &str) {
        let suppressed = {
            let mut st = lock(&self.inner.state);
            let now = Instant::now();
            let (since, count, suppressed) = &mut st.unauthenticated;
            if now.duration_since(*since) >= Duration::from_secs(60) {
                *since = now;
                *count = 0;
            }
            if *count >= UNAUTHENTICATED_PER_MINUTE {
                *suppressed += 1;
                return;
            }
            *count += 1;
            std::mem::take(suppressed)
        };
        let mut d = details([("reason", reason.to_owned()), ("path", path.to_owned())]);
        if suppressed > 0 {
            d.insert("not_recorded_before".into(), suppressed.to_string());
        }
        if let Err(e) = self.inner.record("unauthenticated", d) {
            tracing::error!(party = %self.inner.me, error = %e, "audit log append failed");
        }
    }

    /// Recent sessions (at most the last 1024), newest last.
    pub fn sessions(&self) -> Vec<SessionStatus> {
        let st = lock(&self.inner.state);
        st.status_order.iter().filter_map(|id| st.status.get(id).map(|(s, _)| s.clone())).collect()
    }

    /// One recent session.
    pub fn session(&self, id: &SessionId) -> Option<SessionStatus> {
        lock(&self.inner.state).status.get(id).map(|(s, _)| s.clone())
    }

    /// The configured presignature pool size per ECDSA key.
    pub fn presign_pool_target(&self) -> usize {
        self.inner.presign_pool
    }

    /// Metrics in the Prometheus text exposition format.
    pub fn metrics_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let (sessions, latency, refusals, recovered, running, early_dropped, keys) = {
            let st = lock(&self.inner.state);
            (
                st.metrics.sessions.clone(),
                st.metrics.latency.clone(),
                st.metrics.refusals_sent,
                st.metrics.handovers_recovered,
                st.sessions.len(),
                st.early.dropped(),
                st.keys.values().filter(|k| k.scheme.is_ecdsa()).map(|k| k.key_id).collect::<Vec<_>>(),
            )
        };
        let _ = writeln!(
            out,
            "# HELP conclave_sessions_total Sessions by kind and outcome.\n# TYPE conclave_sessions_total counter"
        );
        for ((kind, outcome), n) in &sessions {
            let _ = writeln!(out, "conclave_sessions_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP conclave_session_seconds Duration of finished sessions.\n# TYPE conclave_session_seconds summary"
        );
        for (kind, (sum, count)) in &latency {
            let _ = writeln!(out, "conclave_session_seconds_sum{{kind=\"{kind}\"}} {sum}");
            let _ = writeln!(out, "conclave_session_seconds_count{{kind=\"{kind}\"}} {count}");
        }
        let _ = writeln!(out, "# TYPE conclave_sessions_running gauge\nconclave_sessions_running {running}");
        let _ = writeln!(out, "# TYPE conclave_refusals_sent_total counter\nconclave_refusals_sent_total {refusals}");
        let pending = self.inner.store.list(RecordKind::PendingKeyShare, &[]).map(|l| l.len()).unwrap_or(0);
        let _ = writeln!(
            out,
            "# HELP conclave_handovers_pending Reshares we confirmed but have not seen complete.\n\
             # TYPE conclave_handovers_pending gauge\nconclave_handovers_pending {pending}\n\
             # TYPE conclave_handovers_recovered_total counter\nconclave_handovers_recovered_total {recovered}"
        );
        let _ = writeln!(out, "# TYPE conclave_presignatures gauge");
        for k in keys {
            let n = self.presignatures(&k).unwrap_or(0);
            let _ = writeln!(out, "conclave_presignatures{{key=\"{k}\"}} {n}");
        }
        if let Ok(n) = self.safe_primes() {
            let _ = writeln!(out, "# TYPE conclave_safe_primes gauge\nconclave_safe_primes {n}");
        }
        let t = self.inner.transport.stats();
        let _ = writeln!(out, "# TYPE conclave_frames_dropped_total counter");
        let _ = writeln!(out, "conclave_frames_dropped_total{{reason=\"early_buffer_full\"}} {early_dropped}");
        let _ = writeln!(out, "conclave_frames_dropped_total{{reason=\"queue_full\"}} {}", t.queue_full_drops);
        let _ = writeln!(out, "conclave_frames_dropped_total{{reason=\"oversized\"}} {}", t.oversized_frames);
        let _ = writeln!(out, "conclave_frames_dropped_total{{reason=\"bad_frame\"}} {}", t.bad_frames);
        let _ = writeln!(out, "# TYPE conclave_frames_total counter");
        let _ = writeln!(out, "conclave_frames_total{{direction=\"in\"}} {}", t.frames_in);
        let _ = writeln!(out, "conclave_frames_total{{direction=\"out\"}} {}", t.frames_out);
        let _ = writeln!(
            out,
            "# TYPE conclave_rejected_handshakes_total counter\nconclave_rejected_handshakes_total {}",
            t.rejected_handshakes
        );
        out
    }

    /// Stops the node: background tasks end, running sessions end with `ShuttingDown`, the
    /// transport closes. Everything committed stays in the store.
    pub async fn shutdown(mut self) {
        self.inner.stop.notify_waiters();
        for t in self.tasks.drain(..) {
            t.abort();
            let _ = t.await;
        }
        let sessions: Vec<_> = std::mem::take(&mut lock(&self.inner.state).sessions).into_values().collect();
        drop(sessions);
        self.inner.transport.clone().shutdown().await;
        // Session tasks end once their channels close; wait for them to let go of the store so
        // that the node can be reopened at once (a safe-prime search is not waited for long).
        let deadline = Instant::now() + Duration::from_secs(10);
        while Arc::strong_count(&self.inner) > 1 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if Arc::strong_count(&self.inner) > 1 {
            tracing::warn!(party = %self.inner.me, "tasks still hold the node after 10 s; stopping without them");
        }
    }
}

const PRIME_POOL_ID: &[u8] = b"prime-pool";

/// The signer set a key's presignature pool is kept for: its first `t` parties.
fn pool_signers(key: &KeyInfo) -> Result<PartySet, NodeError> {
    PartySet::new(key.parties.iter().take(usize::from(key.threshold))).map_err(|_| NodeError::Bug("pool signer set"))
}

fn signers_digest(s: &PartySet) -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(b"conclave/node/signers/v1");
    for p in s.iter() {
        h.update(p.0.to_be_bytes());
    }
    let d = h.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
    out
}

fn presignature_id(key_id: &KeyId, signers: &PartySet, session: &[u8; 32]) -> Vec<u8> {
    let mut id = key_id.0.to_vec();
    id.extend_from_slice(&signers_digest(signers));
    id.extend_from_slice(session);
    id
}

/// Where the receipt of a committed hand-over is kept (under [`RecordKind::KeyMeta`]).
fn receipt_id(session: &SessionId) -> Vec<u8> {
    let mut id = b"handover-receipt/".to_vec();
    id.extend_from_slice(&session.0);
    id
}

fn aux_id(parties: &PartySet) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"conclave/node/aux-id/v1");
    for p in parties.iter() {
        h.update(p.0.to_be_bytes());
    }
    h.finalize().to_vec()
}

impl Inner {
    fn identity(&self) -> IdentityKey {
        IdentityKey::from_seed(&self.seed)
    }

    fn machine_config(&self, session: SessionId, parties: &PartySet) -> Result<MachineConfig, String> {
        let mut peers = BTreeMap::new();
        for p in parties.iter() {
            let id = self.identities.get(&p).ok_or_else(|| format!("{p} is not a member of this cluster"))?;
            peers.insert(p, *id);
        }
        Ok(MachineConfig { me: self.me, parties: parties.clone(), session, identity: self.identity(), peers })
    }

    fn key_info(&self, key_id: &KeyId) -> Result<KeyInfo, NodeError> {
        lock(&self.state)
            .keys
            .get(key_id)
            .cloned()
            .ok_or_else(|| NodeError::InvalidRequest(format!("unknown key {key_id}")))
    }

    fn load_keys(&self) -> Result<(), NodeError> {
        let mut keys = BTreeMap::new();
        for id in self.store.list(RecordKind::KeyShare, &[])? {
            let info = self.load_key_info(&id)?;
            keys.insert(info.key_id, info);
        }
        tracing::info!(party = %self.me, keys = keys.len(), "key shares loaded");
        lock(&self.state).keys = keys;
        Ok(())
    }

    fn load_key_info(&self, id: &[u8]) -> Result<KeyInfo, NodeError> {
        let record = self.store.get(RecordKind::KeyShare, id)?.ok_or(NodeError::Bug("listed key share vanished"))?;
        let (tag, rest) = record.split_first().ok_or_else(|| NodeError::Store("empty key share record".into()))?;
        let scheme = Scheme::from_record_tag(*tag).ok_or_else(|| NodeError::Store("unknown scheme tag".into()))?;
        Ok(match scheme {
            Scheme::EcdsaSecp256k1 | Scheme::FrostSecp256k1 | Scheme::SchnorrBip340 => {
                key_info(scheme, &decode_share::<Secp256k1>(rest)?)
            }
            Scheme::EcdsaP256 => key_info(scheme, &decode_share::<P256>(rest)?),
            Scheme::Ed25519 => key_info(scheme, &decode_share::<Ed25519>(rest)?),
        })
    }

    fn load_share<C: Curve>(&self, key_id: &KeyId) -> Result<KeyShare<C>, String> {
        let record = self
            .store
            .get(RecordKind::KeyShare, &key_id.0)
            .map_err(|e| format!("store: {e}"))?
            .ok_or_else(|| format!("no share of key {key_id}"))?;
        let rest = record.get(1..).ok_or("empty key share record")?;
        decode_share::<C>(rest).map_err(|e| e.to_string())
    }

    /// The aux-info of `parties`, decoded once and then shared by every session (decoding
    /// re-checks the safe primes, and the Paillier key's CRT and nonce tables are built on
    /// first use: neither should be paid per session).
    fn load_aux(&self, parties: &PartySet) -> Result<Arc<AuxInfo>, String> {
        self.load_aux_id(aux_id(parties))
    }

    fn load_aux_id(&self, id: Vec<u8>) -> Result<Arc<AuxInfo>, String> {
        if let Some(aux) = lock(&self.aux_cache).get(&id) {
            return Ok(aux.clone());
        }
        let record = self
            .store
            .get(RecordKind::AuxInfo, &id)
            .map_err(|e| format!("store: {e}"))?
            .ok_or("no aux-info for the key's party set")?;
        let aux = AuxInfo::from_record(&record).map(Arc::new).map_err(|e| format!("aux-info record: {e}"))?;
        lock(&self.aux_cache).insert(id, aux.clone());
        Ok(aux)
    }

    fn load_prime_pool(&self) -> Result<PrimePool, NodeError> {
        match self.store.get(RecordKind::SafePrimes, PRIME_POOL_ID)? {
            Some(bytes) => PrimePool::from_bytes(&bytes).map_err(|e| NodeError::Store(format!("prime pool: {e}"))),
            None => PrimePool::new(PRIME_BITS).map_err(|_| NodeError::Bug("prime pool size")),
        }
    }

    /// Our Paillier key for an aux-info run with `parties`. A run for a party set that already
    /// has aux-info is a refresh: always a new key. For a new party set we keep the key we
    /// already prove in another set's aux-info (a party's long-term key, as one key serves
    /// every key of a party set; fresh proofs are made in the new session), which saves
    /// generating two safe primes per staying party in a reshare to a new group.
    fn aux_info_key(&self, parties: &PartySet) -> Result<DecryptionKey, String> {
        let ours = aux_id(parties);
        if !matches!(self.store.get(RecordKind::AuxInfo, &ours), Ok(None)) {
            return self.paillier_key();
        }
        for id in self.store.list(RecordKind::AuxInfo, &[]).map_err(|e| format!("store: {e}"))? {
            if let Ok(aux) = self.load_aux_id(id) {
                let (p, q) = aux.decryption_key().expose_primes();
                if let Ok(dk) = DecryptionKey::from_safe_primes(p.clone(), q.clone()) {
                    tracing::info!(party = %self.me, "aux-info for a new party set: keeping our Paillier key");
                    return Ok(dk);
                }
            }
        }
        self.paillier_key()
    }

    /// Two safe primes for a new Paillier key: from the pool (durably removed), else generated.
    fn paillier_key(&self) -> Result<DecryptionKey, String> {
        let taken = {
            let _guard = lock(&self.primes);
            let mut pool = self.load_prime_pool().map_err(|e| e.to_string())?;
            let pair = match (pool.take(), pool.take()) {
                (Some(p), Some(q)) => Some((p, q)),
                _ => None,
            };
            if pair.is_some() {
                self.store.put(RecordKind::SafePrimes, PRIME_POOL_ID, &pool.to_bytes()).map_err(|e| e.to_string())?;
            }
            pair
        };
        let (p, q) = match taken {
            Some(pair) => pair,
            None => {
                tracing::info!(party = %self.me, "prime pool empty: generating two safe primes now");
                let threads = std::thread::available_parallelism().unwrap_or(std::num::NonZeroUsize::MIN);
                let p = conclave_paillier::generate_safe_prime(&mut OsRng, PRIME_BITS, threads)
                    .map_err(|e| e.to_string())?;
                let q = conclave_paillier::generate_safe_prime(&mut OsRng, PRIME_BITS, threads)
                    .map_err(|e| e.to_string())?;
                (p, q)
            }
        };
        DecryptionKey::from_safe_primes(p, q).map_err(|e| e.to_string())
    }

    fn choose_signers(&self, key: &KeyInfo, requested: Option<PartySet>) -> Result<PartySet, NodeError> {
        let t = usize::from(key.threshold);
        if let Some(s) = requested {
            if !s.contains(self.me) {
                return Err(NodeError::InvalidRequest(format!("the signer set must include this node ({})", self.me)));
            }
            if s.len() < t || s.iter().any(|p| !key.parties.contains(p)) {
                return Err(NodeError::InvalidRequest(format!(
                    "signers must be at least {t} of the key's parties {:?}",
                    key.parties.to_u16s()
                )));
            }
            return Ok(s);
        }
        if !key.parties.contains(self.me) {
            return Err(NodeError::InvalidRequest("this node holds no share of the key".into()));
        }
        let now = Instant::now();
        let silent: BTreeSet<PartyIndex> = {
            let mut st = lock(&self.state);
            st.silent.retain(|_, until| *until > now);
            st.silent.keys().copied().collect()
        };
        // Prefer the pool's signer set when it is healthy and includes us (it has presignatures).
        if let Ok(pool) = pool_signers(key) {
            if pool.contains(self.me) && pool.iter().all(|p| !silent.contains(&p)) {
                return Ok(pool);
            }
        }
        let mut chosen = vec![self.me];
        let others: Vec<PartyIndex> = key.parties.others(self.me).collect();
        for p in others.iter().filter(|p| !silent.contains(p)).chain(others.iter().filter(|p| silent.contains(p))) {
            if chosen.len() >= t {
                break;
            }
            chosen.push(*p);
        }
        PartySet::new(chosen).map_err(|_| NodeError::Bug("signer set"))
    }

    /// A pooled presignature for a request this node proposes, reserved for it. Only the
    /// pool's owner (the first party of its signer set, which also refills it) draws from the
    /// pool: two proposers drawing from one pool would pick the same presignature, and each
    /// would refuse the other's session after using it up (seen under load, issue 10). Within
    /// the owner, concurrent requests get different presignatures.
    fn pooled_presignature(&self, key: &KeyInfo, signers: &PartySet) -> Result<Option<[u8; 32]>, NodeError> {
        if pool_signers(key).ok().as_ref() != Some(signers) || signers.iter().next() != Some(self.me) {
            return Ok(None);
        }
        let mut prefix = key.key_id.0.to_vec();
        prefix.extend_from_slice(&signers_digest(signers));
        let ids = self.store.list(RecordKind::Presignature, &prefix)?;
        let mut st = lock(&self.state);
        let chosen = ids
            .iter()
            .filter_map(|id| id.get(40..72).and_then(|s| <[u8; 32]>::try_from(s).ok()))
            .find(|ps| !st.reserved_presignatures.contains(ps));
        if let Some(ps) = chosen {
            st.reserved_presignatures.insert(ps);
        }
        Ok(chosen)
    }

    fn new_session_id(&self) -> Result<SessionId, NodeError> {
        let counter = self.store.next_counter("session")?;
        let mut random = [0u8; 32];
        OsRng.fill_bytes(&mut random);
        let mut h = Sha256::new();
        h.update(b"conclave/node/session-id/v1");
        h.update(self.identity().public().to_bytes());
        h.update(counter.to_be_bytes());
        h.update(random);
        Ok(SessionId(h.finalize().into()))
    }

    fn record_start(&self, session: SessionId, request: &Request, caller: &Caller, proposer: PartyIndex) {
        let status = SessionStatus {
            id: session,
            kind: request.kind(),
            client: caller.name().to_owned(),
            proposer,
            participants: request.participants(),
            state: SessionState::Running,
            started_unix_ms: unix_ms(),
            duration_ms: None,
            key: request_details(request).remove("key"),
            bytes_sent: 0,
        };
        let mut st = lock(&self.state);
        st.status.insert(session, (status, Instant::now()));
        st.status_order.push_back(session);
        while st.status_order.len() > STATUS_MEMORY {
            if let Some(old) = st.status_order.pop_front() {
                st.status.remove(&old);
            }
        }
    }

    /// Records the protocol bytes a session sent (before [`Inner::finish`]).
    fn record_bytes(&self, session: SessionId, bytes_sent: &AtomicU64) {
        if let Some((status, _)) = lock(&self.state).status.get_mut(&session) {
            status.bytes_sent = bytes_sent.load(std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn record_end(&self, session: SessionId, request: &Request, result: &Result<SessionOutput, NodeError>) {
        let mut st = lock(&self.state);
        let kind = request.kind();
        let outcome = match result {
            Ok(_) => "succeeded",
            Err(NodeError::Aborted(_)) | Err(NodeError::Unidentified(_)) => "aborted",
            Err(NodeError::Refused { .. }) | Err(NodeError::Cancelled { .. }) | Err(NodeError::PolicyRefused(_)) => {
                "refused"
            }
            Err(_) => "failed",
        };
        *st.metrics.sessions.entry((kind, outcome)).or_default() += 1;
        if let Some((status, started)) = st.status.get_mut(&session) {
            let elapsed = started.elapsed();
            status.duration_ms = Some(elapsed.as_millis() as u64);
            status.state = match result {
                Ok(_) => SessionState::Succeeded,
                Err(e) => SessionState::Failed {
                    error: e.to_string(),
                    culprits: e.culprits().iter().map(|c| (c.party, format!("{:?}", c.fault))).collect(),
                },
            };
            let entry = st.metrics.latency.entry(kind).or_insert((0.0, 0));
            entry.0 += elapsed.as_secs_f64();
            entry.1 += 1;
        }
    }

    /// Registers a session: creates its channel and moves its early messages into it. Refuses a
    /// session id seen before (in memory, or durably in the store's session log).
    fn register(&self, session: SessionId) -> Result<mpsc::Receiver<SessionEvent>, String> {
        let (tx, rx) = mpsc::channel(SESSION_QUEUE);
        let early = {
            let mut st = lock(&self.state);
            if st.sessions.contains_key(&session) || st.finished.contains(&session) {
                return Err("session id already used".into());
            }
            if st.sessions.len() >= self.max_sessions {
                return Err(format!("busy: {} sessions running", st.sessions.len()));
            }
            st.sessions.insert(session, tx.clone());
            st.early_since.remove(&session);
            st.early.take_session(&session)
        };
        if let Err(e) = self.store.insert(RecordKind::SessionLog, &session.0, &[]) {
            self.unregister(session);
            return Err(match e {
                conclave_store::StoreError::AlreadyExists => "session id already used".into(),
                other => format!("store: {other}"),
            });
        }
        for Inbound { from, frame } in early {
            let ev = match frame.channel {
                Channel::Protocol => SessionEvent::Message(from, frame.payload),
                Channel::Control => match Control::from_bytes(&frame.payload) {
                    Ok(c) => SessionEvent::Control(from, c),
                    Err(_) => continue,
                },
            };
            let _ = tx.try_send(ev);
        }
        Ok(rx)
    }

    /// Marks a session we never started as finished (its held and later frames are dropped);
    /// does nothing to a session that runs.
    fn forget_unstarted(&self, session: SessionId) {
        let mut st = lock(&self.state);
        if !st.sessions.contains_key(&session) {
            Self::mark_finished(&mut st, session);
        }
    }

    fn unregister(&self, session: SessionId) {
        let mut st = lock(&self.state);
        st.sessions.remove(&session);
        Self::mark_finished(&mut st, session);
    }

    fn mark_finished(st: &mut State, session: SessionId) {
        st.early.drop_session(&session);
        st.early_since.remove(&session);
        if st.finished.insert(session) {
            st.finished_order.push_back(session);
            while st.finished_order.len() > FINISHED_MEMORY {
                if let Some(old) = st.finished_order.pop_front() {
                    st.finished.remove(&old);
                }
            }
        }
    }

    #[cfg(feature = "fault-injection")]
    fn fault_hit(&self, point: FaultPoint) -> bool {
        let hit = *lock(&self.fault) == Some(point);
        if hit {
            tracing::warn!(party = %self.me, ?point, "fault injected: node stops");
            self.stop.notify_waiters();
            tokio::spawn(self.transport.clone().shutdown());
        }
        hit
    }

    /// Proposes `request` to its other participants and runs our part.
    async fn propose(self: &Arc<Self>, caller: &Caller, request: Request) -> Result<SessionOutput, NodeError> {
        self.check_policy(caller, self.me, &request)?;
        self.propose_checked(caller, request).await
    }

    /// [`Inner::propose`] for a request whose policy check was done (and counted) already.
    async fn propose_checked(self: &Arc<Self>, caller: &Caller, request: Request) -> Result<SessionOutput, NodeError> {
        let participants = request.participants();
        if !participants.contains(self.me) {
            return Err(NodeError::InvalidRequest("this node must take part in the session it proposes".into()));
        }
        for p in participants.iter() {
            if !self.identities.contains_key(&p) {
                return Err(NodeError::InvalidRequest(format!("{p} is not a member of this cluster")));
            }
        }
        let session = self.new_session_id()?;
        let events = self.register(session).map_err(|reason| {
            if reason.starts_with("busy") {
                NodeError::Busy(self.max_sessions)
            } else {
                NodeError::InvalidRequest(reason)
            }
        })?;
        self.record_start(session, &request, caller, self.me);
        let mut d = request_details(&request);
        d.extend(details([("session", session.to_string()), ("client", caller.to_string())]));
        if let Err(e) = self.record("request", d) {
            self.unregister(session);
            return Err(NodeError::Audit(e));
        }
        let others: Vec<PartyIndex> = participants.others(self.me).collect();
        let bytes_sent = AtomicU64::new(0);
        let result = async {
            let machine_start = self.prepare_blocking(session, &request).await.map_err(NodeError::InvalidRequest)?;
            tracing::info!(party = %self.me, session = %session, kind = request.kind(), "proposing session");
            let proposal = Control::Propose { client: caller.name().to_owned(), request: request.clone() };
            for p in &others {
                send_control(&self.transport, *p, session, &proposal);
            }
            let role = Role::Proposer { pending: others.iter().copied().collect() };
            machine_start.run(self, events, role, &others, &bytes_sent).await
        }
        .await;
        self.record_bytes(session, &bytes_sent);
        self.unregister(session);
        self.finish(session, &request, result)
    }

    /// Answers a proposal from `from`.
    async fn join(self: Arc<Self>, from: PartyIndex, session: SessionId, caller: Caller, request: Request) {
        let participants = request.participants();
        let refuse = |reason: String| {
            let mut d = request_details(&request);
            d.extend(details([
                ("session", session.to_string()),
                ("client", caller.to_string()),
                ("proposer", from.to_string()),
                ("reason", reason.clone()),
            ]));
            if let Err(e) = self.record("refused", d) {
                tracing::error!(party = %self.me, error = %e, "audit log append failed");
            }
            tracing::info!(party = %self.me, session = %session, proposer = %from, %reason, "refusing session");
            lock(&self.state).metrics.refusals_sent += 1;
            // Frames of a refused session are dropped from now on (unless a session of that id
            // runs already: a proposal reusing a live id must not disturb it).
            self.forget_unstarted(session);
            send_control(&self.transport, from, session, &Control::Refuse(reason));
        };
        if !participants.contains(self.me) || !participants.contains(from) {
            return refuse("the proposer and this node must both be participants".into());
        }
        if let Err(e) = self.check_policy(&caller, from, &request) {
            // check_policy recorded the refusal.
            tracing::info!(party = %self.me, session = %session, proposer = %from, reason = %e, "refusing session");
            send_control(&self.transport, from, session, &Control::Refuse(e.to_string()));
            self.forget_unstarted(session);
            return;
        }
        if let Some(parties) = self.aux_needed(&request) {
            self.await_running_aux(&parties).await;
        }
        let events = match self.register(session) {
            Ok(rx) => rx,
            Err(reason) => return refuse(reason),
        };
        let machine_start = match self.prepare_blocking(session, &request).await {
            Ok(m) => m,
            Err(reason) => {
                self.unregister(session);
                return refuse(reason);
            }
        };
        let mut d = request_details(&request);
        d.extend(details([
            ("session", session.to_string()),
            ("client", caller.to_string()),
            ("proposer", from.to_string()),
        ]));
        if let Err(e) = self.record("joined", d) {
            self.unregister(session);
            return refuse(format!("audit log unavailable: {e}"));
        }
        send_control(&self.transport, from, session, &Control::Accept);
        self.record_start(session, &request, &caller, from);
        tracing::info!(party = %self.me, session = %session, proposer = %from, kind = request.kind(), "joined session");
        #[cfg(feature = "fault-injection")]
        if self.fault_hit(FaultPoint::AfterAccept) {
            return;
        }
        let others: Vec<PartyIndex> = participants.others(self.me).collect();
        let bytes_sent = AtomicU64::new(0);
        let result = machine_start.run(&self, events, Role::Participant { proposer: from }, &others, &bytes_sent).await;
        self.record_bytes(session, &bytes_sent);
        self.unregister(session);
        let _ = self.finish(session, &request, result);
    }

    /// Commits a session's output (already stored by the runner) and updates our view.
    fn finish(
        &self,
        session: SessionId,
        request: &Request,
        result: Result<SessionOutput, NodeError>,
    ) -> Result<SessionOutput, NodeError> {
        self.record_end(session, request, &result);
        let (event, mut d) = match &result {
            Ok(SessionOutput::Key(k)) => (
                "key-created",
                details([
                    ("key", k.key_id.to_string()),
                    ("scheme", k.scheme.to_string()),
                    ("threshold", k.threshold.to_string()),
                    ("parties", format!("{:?}", k.parties.to_u16s())),
                    ("public_key", hex::encode(&k.public_key)),
                ]),
            ),
            Ok(SessionOutput::Signature(sig)) => (
                "signature-released",
                details([
                    ("key", sig.key_id.to_string()),
                    ("signers", format!("{:?}", sig.signers.to_u16s())),
                    ("public_key", hex::encode(&sig.public_key)),
                    ("signature", hex::encode(&sig.signature)),
                    ("digest", sig.digest.map(hex::encode).unwrap_or_default()),
                ]),
            ),
            Ok(SessionOutput::Reshared { old_key_id, new_key }) => (
                "reshared",
                details([
                    ("retired_key", old_key_id.to_string()),
                    (
                        "new_key",
                        new_key
                            .as_ref()
                            .map(|k| k.key_id.to_string())
                            .unwrap_or_else(|| "none (left the group)".into()),
                    ),
                ]),
            ),
            Ok(SessionOutput::AuxInfo) => ("aux-info-stored", BTreeMap::new()),
            Ok(SessionOutput::Presignature) => ("presignature-stored", BTreeMap::new()),
            Err(e) if !e.culprits().is_empty() => (
                "aborted",
                details([
                    (
                        "culprits",
                        e.culprits()
                            .iter()
                            .map(|c| format!("{} in {} ({:?})", c.party, c.round, c.fault))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    ("error", e.to_string()),
                ]),
            ),
            Err(e) => ("failed", details([("error", e.to_string())])),
        };
        d.insert("session".into(), session.to_string());
        d.insert("kind".into(), request.kind().into());
        if let Err(e) = self.record(event, d) {
            tracing::error!(party = %self.me, session = %session, error = %e, "audit log append failed");
            if result.is_ok() {
                // Nothing is released that is not on record.
                return Err(NodeError::Audit(e));
            }
        }
        match &result {
            Ok(out) => {
                if let SessionOutput::Key(info) = out {
                    lock(&self.state).keys.insert(info.key_id, info.clone());
                }
                tracing::info!(party = %self.me, session = %session, kind = request.kind(), "session finished");
            }
            Err(e) => {
                let silent: Vec<PartyIndex> = e
                    .culprits()
                    .iter()
                    .filter(|c| matches!(c.fault, conclave_protocol::Fault::Silent))
                    .map(|c| c.party)
                    .collect();
                if !silent.is_empty() {
                    let until = Instant::now() + SILENT_PENALTY;
                    let mut st = lock(&self.state);
                    for p in silent {
                        st.silent.insert(p, until);
                    }
                }
                tracing::warn!(party = %self.me, session = %session, kind = request.kind(), error = %e, "session failed");
            }
        }
        result
    }

    /// The party set whose aux-info a request needs here (an ECDSA keygen, presigning or
    /// interactive signing), if any.
    fn aux_needed(&self, request: &Request) -> Option<PartySet> {
        match request {
            Request::Keygen { scheme, parties, .. } if scheme.is_ecdsa() => Some(parties.clone()),
            Request::Presign { key_id, .. } | Request::SignEcdsa { key_id, presignature: None, .. } => {
                lock(&self.state).keys.get(key_id).map(|k| k.parties.clone())
            }
            _ => None,
        }
    }

    /// Waits (at most one round timeout) while an aux-info session for `parties` is still
    /// running here. A proposer starts its ECDSA keygen as soon as its own aux-info finished; a
    /// participant may still be checking the last round's proofs, and must not refuse for that.
    async fn await_running_aux(&self, parties: &PartySet) {
        let deadline = Instant::now() + self.timeouts.round;
        loop {
            if matches!(self.store.get(RecordKind::AuxInfo, &aux_id(parties)), Ok(Some(_))) {
                return;
            }
            let running = lock(&self.state).status.values().any(|(s, _)| {
                s.kind == "aux-info" && s.participants == *parties && matches!(s.state, SessionState::Running)
            });
            if !running || Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// [`Inner::prepare`] on the blocking pool: it may generate safe primes (an empty pool) and
    /// computes the first round of a protocol (Paillier encryptions and proofs for presigning),
    /// which must not hold up the runtime's worker threads.
    async fn prepare_blocking(self: &Arc<Self>, session: SessionId, request: &Request) -> Result<MachineStart, String> {
        let inner = self.clone();
        let request = request.clone();
        tokio::task::spawn_blocking(move || inner.prepare(session, &request))
            .await
            .map_err(|_| "preparing the session failed (task panicked or was cancelled)".to_string())?
    }

    /// Checks a request against what this node holds and builds our machine for it. Consumes a
    /// pooled presignature durably (it is never usable again, whatever happens next).
    fn prepare(&self, session: SessionId, request: &Request) -> Result<MachineStart, String> {
        let cfg = self.machine_config(session, &request.participants())?;
        let mut rng = rand_chacha::ChaCha20Rng::from_rng(OsRng).map_err(|_| "system randomness unavailable")?;
        use rand_chacha::rand_core::SeedableRng;
        match request {
            Request::Keygen { scheme, threshold, parties } => {
                if *threshold == 0 || usize::from(*threshold) > parties.len() {
                    return Err(format!("threshold {threshold} is not in 1..={}", parties.len()));
                }
                if scheme.is_ecdsa() && !matches!(self.store.get(RecordKind::AuxInfo, &aux_id(parties)), Ok(Some(_))) {
                    // An ECDSA key without aux-info could never sign.
                    return Err("no aux-info for the key's party set".into());
                }
                Ok(match scheme {
                    Scheme::EcdsaSecp256k1 | Scheme::FrostSecp256k1 | Scheme::SchnorrBip340 => {
                        MachineStart::Keygen(*scheme, KeygenMachine::K256(start_dkg(cfg, *threshold, &mut rng)?))
                    }
                    Scheme::EcdsaP256 => {
                        MachineStart::Keygen(*scheme, KeygenMachine::P256(start_dkg(cfg, *threshold, &mut rng)?))
                    }
                    Scheme::Ed25519 => {
                        MachineStart::Keygen(*scheme, KeygenMachine::Ed(start_dkg(cfg, *threshold, &mut rng)?))
                    }
                })
            }
            Request::AuxInfo { parties } => {
                let dk = self.aux_info_key(parties)?;
                let m = aux_info::start(cfg, dk, &mut rng).map_err(|e| e.to_string())?;
                Ok(MachineStart::Aux(parties.clone(), Box::new(m)))
            }
            Request::Presign { key_id, signers } => {
                let key = self.check_signing(key_id, signers, true)?;
                let aux = self.load_aux(&key.parties)?;
                let path = DerivationPath::root();
                Ok(match key.scheme {
                    Scheme::EcdsaSecp256k1 => MachineStart::Presign(
                        *key_id,
                        signers.clone(),
                        PresignMachine::K256(
                            presign::start::<Secp256k1>(cfg, &self.load_share(key_id)?, aux, &path, &mut rng)
                                .map_err(|e| e.to_string())?,
                        ),
                    ),
                    Scheme::EcdsaP256 => MachineStart::Presign(
                        *key_id,
                        signers.clone(),
                        PresignMachine::P256(
                            presign::start::<P256>(cfg, &self.load_share(key_id)?, aux, &path, &mut rng)
                                .map_err(|e| e.to_string())?,
                        ),
                    ),
                    _ => return Err("not an ECDSA key".into()),
                })
            }
            Request::SignEcdsa { key_id, signers, path, data, presignature } => {
                let key = self.check_signing(key_id, signers, true)?;
                let signed = data.to_signed_data();
                let sign_machine = match presignature {
                    Some(ps) => {
                        if !path.is_empty() || matches!(data, EcdsaData::Digest(_)) {
                            return Err("a pooled presignature signs a message at the root path only".into());
                        }
                        let id = presignature_id(key_id, signers, ps);
                        let record = self
                            .store
                            .take(RecordKind::Presignature, &id)
                            .map_err(|e| format!("store: {e}"))?
                            .ok_or("presignature unavailable (unknown or already used)")?;
                        #[cfg(feature = "fault-injection")]
                        if self.fault_hit(FaultPoint::AfterPresignatureTaken) {
                            return Err("node stopped".into());
                        }
                        match key.scheme {
                            Scheme::EcdsaSecp256k1 => {
                                SignMachine::K256Pooled(start_pooled::<Secp256k1>(cfg, &record, &signed, &mut rng)?)
                            }
                            Scheme::EcdsaP256 => {
                                SignMachine::P256Pooled(start_pooled::<P256>(cfg, &record, &signed, &mut rng)?)
                            }
                            _ => return Err("not an ECDSA key".into()),
                        }
                    }
                    None => {
                        let aux = self.load_aux(&key.parties)?;
                        let path = Request::derivation_path(path)?;
                        match key.scheme {
                            Scheme::EcdsaSecp256k1 => SignMachine::K256(
                                sign::start_interactive::<Secp256k1>(
                                    cfg,
                                    &self.load_share(key_id)?,
                                    aux,
                                    &path,
                                    signed,
                                    &mut rng,
                                )
                                .map_err(|e| e.to_string())?,
                            ),
                            Scheme::EcdsaP256 => SignMachine::P256(
                                sign::start_interactive::<P256>(
                                    cfg,
                                    &self.load_share(key_id)?,
                                    aux,
                                    &path,
                                    signed,
                                    &mut rng,
                                )
                                .map_err(|e| e.to_string())?,
                            ),
                            _ => return Err("not an ECDSA key".into()),
                        }
                    }
                };
                Ok(MachineStart::SignEcdsa(key.scheme, *key_id, signers.clone(), sign_machine))
            }
            Request::Reshare { scheme, old_public, old_signers, new_parties, new_threshold } => {
                let params = ReshareParams {
                    old_signers: old_signers.clone(),
                    new_parties: new_parties.clone(),
                    new_threshold: *new_threshold,
                };
                Ok(match scheme {
                    Scheme::EcdsaSecp256k1 | Scheme::FrostSecp256k1 | Scheme::SchnorrBip340 => MachineStart::Reshare(
                        *scheme,
                        ReshareMachine::K256(self.start_reshare::<Secp256k1>(cfg, &params, old_public, &mut rng)?),
                    ),
                    Scheme::EcdsaP256 => MachineStart::Reshare(
                        *scheme,
                        ReshareMachine::P256(self.start_reshare::<P256>(cfg, &params, old_public, &mut rng)?),
                    ),
                    Scheme::Ed25519 => MachineStart::Reshare(
                        *scheme,
                        ReshareMachine::Ed(self.start_reshare::<Ed25519>(cfg, &params, old_public, &mut rng)?),
                    ),
                })
            }
            Request::SignSchnorr { key_id, signers, message, taproot } => {
                let key = self.check_signing(key_id, signers, false)?;
                let req = match taproot {
                    None => SignRequest::new(message.clone()),
                    Some(root) if key.scheme == Scheme::SchnorrBip340 => SignRequest::taproot(message.clone(), *root),
                    Some(_) => return Err("a Taproot tweak needs a schnorr-bip340 key".into()),
                };
                let m = match key.scheme {
                    Scheme::Ed25519 => SchnorrMachine::Ed(
                        conclave_frost::start::<conclave_frost::Ed25519>(
                            cfg,
                            &self.load_share(key_id)?,
                            &req,
                            &mut rng,
                        )
                        .map_err(|e| e.to_string())?,
                    ),
                    Scheme::FrostSecp256k1 => SchnorrMachine::K256(
                        conclave_frost::start::<conclave_frost::Secp256k1>(
                            cfg,
                            &self.load_share(key_id)?,
                            &req,
                            &mut rng,
                        )
                        .map_err(|e| e.to_string())?,
                    ),
                    Scheme::SchnorrBip340 => SchnorrMachine::Bip340(
                        conclave_frost::start::<conclave_frost::Bip340>(cfg, &self.load_share(key_id)?, &req, &mut rng)
                            .map_err(|e| e.to_string())?,
                    ),
                    _ => return Err("not a Schnorr key".into()),
                };
                Ok(MachineStart::SignSchnorr(key.scheme, *key_id, signers.clone(), m))
            }
        }
    }

    /// Checks a request against this node's policy. The node's own maintenance (aux-info,
    /// presignatures) needs no rule but may not be asked for by a client; everything else needs
    /// a rule allowing `caller`, proposed by `proposer`.
    fn check_policy(&self, caller: &Caller, proposer: PartyIndex, request: &Request) -> Result<(), NodeError> {
        let maintenance = matches!(request, Request::AuxInfo { .. } | Request::Presign { .. });
        if maintenance || caller.is_node() {
            return if maintenance && caller.is_node() {
                Ok(())
            } else {
                Err(NodeError::PolicyRefused(format!("`{caller}` cannot ask for a {} session", request.kind())))
            };
        }
        let query = self.query(request).map_err(NodeError::InvalidRequest)?;
        self.policy.check(caller, proposer, &query).map_err(|reason| {
            let mut d = request_details(request);
            d.extend(details([
                ("client", caller.to_string()),
                ("proposer", proposer.to_string()),
                ("reason", reason.clone()),
            ]));
            if let Err(e) = self.record("refused", d) {
                tracing::error!(party = %self.me, error = %e, "audit log append failed");
            }
            NodeError::PolicyRefused(reason)
        })
    }

    /// Appends an audit entry.
    fn record(&self, event: &str, details: BTreeMap<String, String>) -> Result<u64, String> {
        self.audit.append(&self.identity(), self.store.as_ref(), event, details)
    }

    /// The policy's view of a request.
    fn query(&self, request: &Request) -> Result<Query, String> {
        let scheme_of = |key_id: &KeyId| lock(&self.state).keys.get(key_id).map(|k| k.scheme);
        Ok(match request {
            Request::Keygen { scheme, .. } => {
                Query { action: Action::Keygen, scheme: Some(*scheme), key_id: None, hash: None }
            }
            Request::SignEcdsa { key_id, data, .. } => Query {
                action: Action::Sign,
                scheme: scheme_of(key_id),
                key_id: Some(*key_id),
                hash: Some(match data {
                    EcdsaData::Message { hash, .. } => hash.name().to_owned(),
                    EcdsaData::Digest(_) => "digest".to_owned(),
                }),
            },
            Request::SignSchnorr { key_id, .. } => {
                Query { action: Action::Sign, scheme: scheme_of(key_id), key_id: Some(*key_id), hash: None }
            }
            Request::Reshare { scheme, old_public, new_parties, new_threshold, .. } => {
                let (key_id, parties, threshold) = match scheme {
                    Scheme::EcdsaSecp256k1 | Scheme::FrostSecp256k1 | Scheme::SchnorrBip340 => {
                        public_summary::<Secp256k1>(old_public)?
                    }
                    Scheme::EcdsaP256 => public_summary::<P256>(old_public)?,
                    Scheme::Ed25519 => public_summary::<Ed25519>(old_public)?,
                };
                let refresh = &parties == new_parties && threshold == *new_threshold;
                Query {
                    action: if refresh { Action::Refresh } else { Action::Reshare },
                    scheme: Some(*scheme),
                    key_id: Some(key_id),
                    hash: None,
                }
            }
            Request::AuxInfo { .. } | Request::Presign { .. } => return Err("maintenance request".into()),
        })
    }

    /// The public record of a key we hold.
    fn public_record(&self, key: &KeyInfo) -> Result<Vec<u8>, String> {
        Ok(match key.scheme {
            Scheme::EcdsaSecp256k1 | Scheme::FrostSecp256k1 | Scheme::SchnorrBip340 => {
                self.load_share::<Secp256k1>(&key.key_id)?.public().to_record()
            }
            Scheme::EcdsaP256 => self.load_share::<P256>(&key.key_id)?.public().to_record(),
            Scheme::Ed25519 => self.load_share::<Ed25519>(&key.key_id)?.public().to_record(),
        })
    }

    /// Our part of a reshare: with our old share if we hold the key (its public data must be
    /// the proposal's), else with the proposal's public data (we are joining).
    fn start_reshare<C: Curve>(
        &self,
        cfg: MachineConfig,
        params: &ReshareParams,
        old_public: &[u8],
        rng: &mut rand_chacha::ChaCha20Rng,
    ) -> Result<conclave_protocol::Machine<reshare::Reshare<C>>, String> {
        let public = PublicKeyShare::<C>::from_record(old_public).map_err(|e| format!("old key's public data: {e}"))?;
        let held = lock(&self.state).keys.contains_key(&public.key_id);
        if held {
            let share = self.load_share::<C>(&public.key_id)?;
            if share.public() != &public {
                return Err("the proposal's public data of the key differs from ours".into());
            }
            reshare::start::<C>(cfg, params, ReshareInput::Holder(&share), rng).map_err(|e| e.to_string())
        } else {
            if params.old_signers.contains(self.me) {
                return Err(format!("this node holds no share of key {} to deal", public.key_id));
            }
            reshare::start::<C>(cfg, params, ReshareInput::Public(&public), rng).map_err(|e| e.to_string())
        }
    }

    /// Commits a hand-over in one transaction: our new share (if any) is inserted, our old
    /// share (if any) moves to the retired records, and the old key's pooled presignatures are
    /// deleted. Runs only once the protocol produced a receipt (every party confirmed).
    /// Commits a finished hand-over in one store transaction: the new share in, the old share
    /// retired, the old key's presignatures gone, the pending record (if any) gone, the receipt
    /// kept (to answer a party that asks for it). `recovered_from` names the party whose
    /// receipt finished a hand-over our session did not see complete.
    fn commit_reshare<C: Curve>(
        &self,
        scheme: Scheme,
        output: ReshareOutput<C>,
        recovered_from: Option<PartyIndex>,
    ) -> Result<SessionOutput, NodeError> {
        let receipt_ok = output.receipt().verify(&self.identities);
        if !receipt_ok {
            return Err(NodeError::Bug("hand-over receipt does not verify"));
        }
        let old_key_id = output.receipt().old_key_id;
        let session = output.receipt().session;
        let mut receipt_record = vec![scheme.record_tag()];
        receipt_record.extend_from_slice(&output.receipt().to_bytes());
        let mut ops = vec![
            Op::Delete { kind: RecordKind::PendingKeyShare, id: session.0.to_vec() },
            Op::Put { kind: RecordKind::KeyMeta, id: receipt_id(&session), plaintext: Zeroizing::new(receipt_record) },
        ];
        if let Some(old) = self.store.get(RecordKind::KeyShare, &old_key_id.0)? {
            ops.push(Op::Put { kind: RecordKind::RetiredKeyShare, id: old_key_id.0.to_vec(), plaintext: old });
            ops.push(Op::Delete { kind: RecordKind::KeyShare, id: old_key_id.0.to_vec() });
        }
        for id in self.store.list(RecordKind::Presignature, &old_key_id.0)? {
            ops.push(Op::Delete { kind: RecordKind::Presignature, id });
        }
        let new_key = match output {
            ReshareOutput::Share(share, _) => {
                let mut record = Zeroizing::new(vec![scheme.record_tag()]);
                record.extend_from_slice(&share.to_record());
                ops.push(Op::Put { kind: RecordKind::KeyShare, id: share.key_id().0.to_vec(), plaintext: record });
                Some(key_info(scheme, &share))
            }
            ReshareOutput::Retired(_) => None,
        };
        self.store.apply(ops)?;
        if let Some(from) = recovered_from {
            tracing::info!(party = %self.me, session = %session, from = %from, "hand-over finished from a peer's receipt");
            let mut d = details([
                ("session", session.to_string()),
                ("retired_key", old_key_id.to_string()),
                ("receipt_from", from.to_string()),
            ]);
            d.insert(
                "new_key".into(),
                new_key.as_ref().map(|k| k.key_id.to_string()).unwrap_or_else(|| "none (left the group)".into()),
            );
            if let Err(e) = self.record("reshared", d) {
                tracing::error!(party = %self.me, error = %e, "audit log append failed");
            }
        }
        {
            let mut st = lock(&self.state);
            if recovered_from.is_some() {
                st.metrics.handovers_recovered += 1;
            }
            st.receipt_queries.remove(&session);
            st.keys.remove(&old_key_id);
            if let Some(k) = &new_key {
                st.keys.insert(k.key_id, k.clone());
            }
        }
        Ok(SessionOutput::Reshared { old_key_id, new_key })
    }

    /// Runs a reshare session and commits its hand-over. If it fails after we confirmed, the
    /// pending hand-over stays in the store until a receipt finishes it: whether some other
    /// party committed cannot be decided from our side alone (a party silent towards us, or
    /// an abort notice, may hide a completed hand-over), so it is never dropped on a guess.
    async fn run_reshare<C: Curve>(
        self: &Arc<Self>,
        scheme: Scheme,
        machine: conclave_protocol::Machine<reshare::Reshare<C>>,
        link: &Link<'_>,
        events: mpsc::Receiver<SessionEvent>,
        role: Role,
        others: &[PartyIndex],
    ) -> Result<SessionOutput, NodeError> {
        let hooks = self.reshare_hooks(scheme);
        let output = drive_with(machine, link, events, role, others, self.timeouts.round, hooks).await?;
        self.commit_reshare(scheme, output, None)
    }

    /// The hooks of a reshare session: our confirmed hand-over is stored (sealed) before our
    /// confirmation leaves, so that a party from which the last messages are withheld can
    /// finish the hand-over later from a peer's receipt.
    fn reshare_hooks<C: Curve>(
        self: &Arc<Self>,
        scheme: Scheme,
    ) -> Hooks<'static, conclave_protocol::Machine<reshare::Reshare<C>>> {
        let inner = self.clone();
        let mut stored = false;
        #[cfg_attr(not(feature = "fault-injection"), allow(unused_mut))]
        let mut hooks: Hooks<'static, conclave_protocol::Machine<reshare::Reshare<C>>> =
            Hooks::before_send(Box::new(move |m| {
                if stored {
                    return Ok(());
                }
                if let Some(pending) = m.state().and_then(reshare::Reshare::pending) {
                    let mut record = Zeroizing::new(vec![scheme.record_tag()]);
                    record.extend_from_slice(&pending.to_record());
                    inner.store.put(RecordKind::PendingKeyShare, &pending.session.0, &record)?;
                    stored = true;
                }
                Ok(())
            }));
        #[cfg(feature = "fault-injection")]
        if let Some(FaultPoint::WithholdReshareEcho(victim)) = *lock(&self.fault) {
            hooks.withhold = Some(Box::new(move |to, bytes| {
                use conclave_math::codec::Decode;
                to == victim
                    && conclave_protocol::Envelope::from_bytes(bytes)
                        .is_ok_and(|e| e.kind == conclave_protocol::MessageKind::Echo && e.round.0 == 2)
            }));
        }
        hooks
    }

    /// Finishes a pending hand-over of `session` with a receipt `from` a peer, if it is the
    /// receipt of exactly the sharing we confirmed. Anything else is ignored (and logged).
    fn on_receipt(&self, from: PartyIndex, session: SessionId, bytes: &[u8]) {
        let _guard = lock(&self.handover);
        let record = match self.store.get(RecordKind::PendingKeyShare, &session.0) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => return tracing::error!(party = %self.me, error = %e, "store: pending hand-over unreadable"),
        };
        let (Some(tag), Some(rest)) = (record.first(), record.get(1..)) else { return };
        let result = match Scheme::from_record_tag(*tag) {
            Some(scheme @ (Scheme::EcdsaSecp256k1 | Scheme::FrostSecp256k1 | Scheme::SchnorrBip340)) => {
                self.finish_pending::<Secp256k1>(scheme, from, rest, bytes)
            }
            Some(scheme @ Scheme::EcdsaP256) => self.finish_pending::<P256>(scheme, from, rest, bytes),
            Some(scheme @ Scheme::Ed25519) => self.finish_pending::<Ed25519>(scheme, from, rest, bytes),
            None => Err("unknown scheme tag".into()),
        };
        if let Err(reason) = result {
            tracing::warn!(party = %self.me, session = %session, peer = %from, %reason, "receipt not used");
        }
    }

    fn finish_pending<C: Curve>(
        &self,
        scheme: Scheme,
        from: PartyIndex,
        pending: &[u8],
        receipt: &[u8],
    ) -> Result<(), String> {
        let pending =
            reshare::PendingHandover::<C>::from_record(pending).map_err(|e| format!("pending record: {e}"))?;
        let receipt = reshare::HandoverReceipt::<C>::from_bytes(receipt).map_err(|e| format!("receipt: {e}"))?;
        let output = pending
            .complete(receipt, &self.identities)
            .map_err(|_| "the receipt is not for the sharing we confirmed, or does not verify".to_string())?;
        self.commit_reshare(scheme, output, Some(from)).map(|_| ()).map_err(|e| e.to_string())
    }

    /// Asks every other party of each pending hand-over's session for its receipt.
    fn query_pending_receipts(&self) {
        let ids = match self.store.list(RecordKind::PendingKeyShare, &[]) {
            Ok(ids) => ids,
            Err(e) => return tracing::error!(party = %self.me, error = %e, "store: pending hand-overs unreadable"),
        };
        for id in ids {
            let Ok(session) = <[u8; 32]>::try_from(id.as_slice()).map(SessionId) else { continue };
            {
                // Still running, or asked recently: the interval doubles from 3 s up to 10 min.
                let mut st = lock(&self.state);
                if st.sessions.contains_key(&session) {
                    continue;
                }
                let now = Instant::now();
                let (interval, next) = st.receipt_queries.entry(session).or_insert((RECEIPT_QUERY_FIRST, now));
                if now < *next {
                    continue;
                }
                *next = now + *interval;
                *interval = (*interval * 2).min(RECEIPT_QUERY_MAX);
            }
            let parties = match self.pending_parties(&session) {
                Ok(p) => p,
                Err(reason) => {
                    tracing::error!(party = %self.me, session = %session, %reason, "pending hand-over unreadable");
                    continue;
                }
            };
            tracing::info!(party = %self.me, session = %session, "pending hand-over: asking the session's parties for its receipt");
            for p in parties.others(self.me) {
                send_control(&self.transport, p, session, &Control::ReceiptQuery);
            }
        }
    }

    fn pending_parties(&self, session: &SessionId) -> Result<PartySet, String> {
        let record = self
            .store
            .get(RecordKind::PendingKeyShare, &session.0)
            .map_err(|e| e.to_string())?
            .ok_or("pending hand-over vanished")?;
        let (tag, rest) = record.split_first().ok_or("empty record")?;
        Ok(match Scheme::from_record_tag(*tag).ok_or("unknown scheme tag")? {
            Scheme::EcdsaSecp256k1 | Scheme::FrostSecp256k1 | Scheme::SchnorrBip340 => {
                reshare::PendingHandover::<Secp256k1>::from_record(rest).map_err(|e| e.to_string())?.session_parties()
            }
            Scheme::EcdsaP256 => {
                reshare::PendingHandover::<P256>::from_record(rest).map_err(|e| e.to_string())?.session_parties()
            }
            Scheme::Ed25519 => {
                reshare::PendingHandover::<Ed25519>::from_record(rest).map_err(|e| e.to_string())?.session_parties()
            }
        })
    }

    /// Answers a peer's receipt query with the receipt we keep for `session`, if any.
    fn answer_receipt_query(&self, from: PartyIndex, session: SessionId) {
        match self.store.get(RecordKind::KeyMeta, &receipt_id(&session)) {
            Ok(Some(record)) => {
                if let Some(bytes) = record.get(1..) {
                    send_control(&self.transport, from, session, &Control::Receipt(bytes.to_vec()));
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!(party = %self.me, error = %e, "store: receipt unreadable"),
        }
    }

    fn check_signing(&self, key_id: &KeyId, signers: &PartySet, ecdsa: bool) -> Result<KeyInfo, String> {
        let key = lock(&self.state).keys.get(key_id).cloned().ok_or_else(|| format!("no share of key {key_id}"))?;
        if key.scheme.is_ecdsa() != ecdsa {
            return Err(format!("key {key_id} is a {} key", key.scheme));
        }
        if signers.len() < usize::from(key.threshold) || signers.iter().any(|p| !key.parties.contains(p)) {
            return Err(format!("signers must be at least {} of the key's parties", key.threshold));
        }
        Ok(key)
    }

    fn store_key<C: Curve>(&self, scheme: Scheme, share: &KeyShare<C>) -> Result<KeyInfo, NodeError> {
        let mut record = Zeroizing::new(vec![scheme.record_tag()]);
        record.extend_from_slice(&share.to_record());
        #[cfg(feature = "fault-injection")]
        if self.fault_hit(FaultPoint::BeforeKeyShareStored) {
            return Err(NodeError::ShuttingDown);
        }
        self.store.insert(RecordKind::KeyShare, &share.key_id().0, &record)?;
        #[cfg(feature = "fault-injection")]
        if self.fault_hit(FaultPoint::AfterKeyShareStored) {
            return Err(NodeError::ShuttingDown);
        }
        Ok(key_info(scheme, share))
    }
}

/// Public details of a request for the audit log (a message is recorded by its SHA-256).
fn request_details(request: &Request) -> BTreeMap<String, String> {
    let set = |p: &PartySet| format!("{:?}", p.to_u16s());
    let mut d = details([("kind", request.kind().to_owned())]);
    match request {
        Request::Keygen { scheme, threshold, parties } => {
            d.extend(details([
                ("scheme", scheme.to_string()),
                ("threshold", threshold.to_string()),
                ("parties", set(parties)),
            ]));
        }
        Request::AuxInfo { parties } => {
            d.insert("parties".into(), set(parties));
        }
        Request::Presign { key_id, signers } => {
            d.extend(details([("key", key_id.to_string()), ("signers", set(signers))]));
        }
        Request::SignEcdsa { key_id, signers, path, data, presignature } => {
            d.extend(details([
                ("key", key_id.to_string()),
                ("signers", set(signers)),
                ("path", format!("{path:?}")),
                ("presignature", presignature.map(hex::encode).unwrap_or_else(|| "interactive".into())),
            ]));
            match data {
                EcdsaData::Message { hash, message } => {
                    d.insert("hash".into(), hash.name().into());
                    d.insert("message_sha256".into(), hex::encode(Sha256::digest(message)));
                }
                EcdsaData::Digest(dg) => {
                    d.insert("digest".into(), hex::encode(dg));
                }
            }
        }
        Request::SignSchnorr { key_id, signers, message, taproot } => {
            d.extend(details([
                ("key", key_id.to_string()),
                ("signers", set(signers)),
                ("message_sha256", hex::encode(Sha256::digest(message))),
                ("taproot", format!("{}", taproot.is_some())),
            ]));
        }
        Request::Reshare { scheme, old_signers, new_parties, new_threshold, .. } => {
            d.extend(details([
                ("scheme", scheme.to_string()),
                ("old_signers", set(old_signers)),
                ("new_parties", set(new_parties)),
                ("new_threshold", new_threshold.to_string()),
            ]));
        }
    }
    d
}

fn public_summary<C: Curve>(record: &[u8]) -> Result<(KeyId, PartySet, u16), String> {
    let p = PublicKeyShare::<C>::from_record(record).map_err(|e| format!("old key's public data: {e}"))?;
    Ok((p.key_id, p.parties, p.threshold))
}

fn decode_share<C: Curve>(bytes: &[u8]) -> Result<KeyShare<C>, NodeError> {
    KeyShare::<C>::from_record(bytes).map_err(|e| NodeError::Store(format!("key share record: {e}")))
}

fn key_info<C: Curve>(scheme: Scheme, share: &KeyShare<C>) -> KeyInfo {
    let public = share.public();
    KeyInfo {
        key_id: share.key_id(),
        scheme,
        threshold: public.threshold,
        parties: public.parties.clone(),
        public_key: C::encode_point(&public.public_key),
        chain_code: public.chain_code,
    }
}

fn start_dkg<C: Curve>(
    cfg: MachineConfig,
    threshold: u16,
    rng: &mut rand_chacha::ChaCha20Rng,
) -> Result<conclave_protocol::Machine<dkg::Dkg<C>>, String> {
    dkg::start::<C>(cfg, threshold, rng).map_err(|e| e.to_string())
}

fn start_pooled<C: ThresholdCurve>(
    cfg: MachineConfig,
    record: &[u8],
    data: &conclave_ecdsa::SignedData,
    rng: &mut rand_chacha::ChaCha20Rng,
) -> Result<conclave_protocol::Machine<sign::Sign<C>>, String> {
    let ps = Presignature::<C>::from_record(record).map_err(|e| format!("presignature record: {e}"))?;
    sign::start::<C>(cfg, ps, data, rng).map_err(|e| e.to_string())
}

#[allow(clippy::large_enum_variant)] // built once per session and moved into its task
enum KeygenMachine {
    K256(conclave_protocol::Machine<dkg::Dkg<Secp256k1>>),
    P256(conclave_protocol::Machine<dkg::Dkg<P256>>),
    Ed(conclave_protocol::Machine<dkg::Dkg<Ed25519>>),
}

#[allow(clippy::large_enum_variant)] // built once per session and moved into its task
enum PresignMachine {
    K256(conclave_protocol::Machine<presign::Presign<Secp256k1>>),
    P256(conclave_protocol::Machine<presign::Presign<P256>>),
}

#[allow(clippy::large_enum_variant)] // built once per session and moved into its task
enum SignMachine {
    K256(conclave_protocol::Machine<sign::Interactive<Secp256k1>>),
    P256(conclave_protocol::Machine<sign::Interactive<P256>>),
    K256Pooled(conclave_protocol::Machine<sign::Sign<Secp256k1>>),
    P256Pooled(conclave_protocol::Machine<sign::Sign<P256>>),
}

#[allow(clippy::large_enum_variant)] // built once per session and moved into its task
enum ReshareMachine {
    K256(conclave_protocol::Machine<reshare::Reshare<Secp256k1>>),
    P256(conclave_protocol::Machine<reshare::Reshare<P256>>),
    Ed(conclave_protocol::Machine<reshare::Reshare<Ed25519>>),
}

#[allow(clippy::large_enum_variant)] // built once per session and moved into its task
enum SchnorrMachine {
    Ed(conclave_protocol::Machine<conclave_frost::Signing<conclave_frost::Ed25519>>),
    K256(conclave_protocol::Machine<conclave_frost::Signing<conclave_frost::Secp256k1>>),
    Bip340(conclave_protocol::Machine<conclave_frost::Signing<conclave_frost::Bip340>>),
}

/// A started machine and what to do with its output.
#[allow(clippy::large_enum_variant)] // built once per session and moved into its task
enum MachineStart {
    Keygen(Scheme, KeygenMachine),
    Aux(PartySet, Box<conclave_protocol::Machine<aux_info::AuxInfoProtocol>>),
    Presign(KeyId, PartySet, PresignMachine),
    SignEcdsa(Scheme, KeyId, PartySet, SignMachine),
    SignSchnorr(Scheme, KeyId, PartySet, SchnorrMachine),
    Reshare(Scheme, ReshareMachine),
}

impl MachineStart {
    async fn run(
        self,
        inner: &Arc<Inner>,
        events: mpsc::Receiver<SessionEvent>,
        role: Role,
        others: &[PartyIndex],
        bytes_sent: &AtomicU64,
    ) -> Result<SessionOutput, NodeError> {
        let t = &Link { transport: &inner.transport, bytes_sent };
        let timeout = inner.timeouts.round;
        match self {
            MachineStart::Keygen(scheme, m) => {
                let info = match m {
                    KeygenMachine::K256(m) => {
                        inner.store_key(scheme, &drive(m, t, events, role, others, timeout).await?)?
                    }
                    KeygenMachine::P256(m) => {
                        inner.store_key(scheme, &drive(m, t, events, role, others, timeout).await?)?
                    }
                    KeygenMachine::Ed(m) => {
                        inner.store_key(scheme, &drive(m, t, events, role, others, timeout).await?)?
                    }
                };
                Ok(SessionOutput::Key(info))
            }
            MachineStart::Aux(parties, m) => {
                let aux = drive(*m, t, events, role, others, timeout).await?;
                #[cfg(feature = "fault-injection")]
                if *lock(&inner.fault) == Some(FaultPoint::SlowAuxInfoStore) {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                inner.store.put(RecordKind::AuxInfo, &aux_id(&parties), &aux.to_record())?;
                lock(&inner.aux_cache).insert(aux_id(&parties), Arc::new(aux));
                Ok(SessionOutput::AuxInfo)
            }
            MachineStart::Presign(key_id, signers, m) => {
                let (session, record) = match m {
                    PresignMachine::K256(m) => {
                        let ps = drive(m, t, events, role, others, timeout).await?;
                        (ps.session(), ps.into_record())
                    }
                    PresignMachine::P256(m) => {
                        let ps = drive(m, t, events, role, others, timeout).await?;
                        (ps.session(), ps.into_record())
                    }
                };
                inner.store.insert(
                    RecordKind::Presignature,
                    &presignature_id(&key_id, &signers, &session.0),
                    &record,
                )?;
                Ok(SessionOutput::Presignature)
            }
            MachineStart::SignEcdsa(scheme, key_id, signers, m) => {
                let out = match m {
                    SignMachine::K256(m) => {
                        ecdsa_output(scheme, key_id, signers, drive(m, t, events, role, others, timeout).await?)
                    }
                    SignMachine::P256(m) => {
                        ecdsa_output(scheme, key_id, signers, drive(m, t, events, role, others, timeout).await?)
                    }
                    SignMachine::K256Pooled(m) => {
                        ecdsa_output(scheme, key_id, signers, drive(m, t, events, role, others, timeout).await?)
                    }
                    SignMachine::P256Pooled(m) => {
                        ecdsa_output(scheme, key_id, signers, drive(m, t, events, role, others, timeout).await?)
                    }
                };
                Ok(SessionOutput::Signature(out))
            }
            MachineStart::Reshare(scheme, m) => match m {
                ReshareMachine::K256(m) => inner.run_reshare(scheme, m, t, events, role, others).await,
                ReshareMachine::P256(m) => inner.run_reshare(scheme, m, t, events, role, others).await,
                ReshareMachine::Ed(m) => inner.run_reshare(scheme, m, t, events, role, others).await,
            },
            MachineStart::SignSchnorr(scheme, key_id, signers, m) => {
                let sig: ThresholdSignature = match m {
                    SchnorrMachine::Ed(m) => drive(m, t, events, role, others, timeout).await?,
                    SchnorrMachine::K256(m) => drive(m, t, events, role, others, timeout).await?,
                    SchnorrMachine::Bip340(m) => drive(m, t, events, role, others, timeout).await?,
                };
                Ok(SessionOutput::Signature(SignatureOutput {
                    scheme,
                    key_id,
                    signers,
                    public_key: sig.public_key,
                    signature: sig.signature,
                    der: None,
                    recovery_id: None,
                    digest: None,
                }))
            }
        }
    }
}

fn ecdsa_output<C: ThresholdCurve>(
    scheme: Scheme,
    key_id: KeyId,
    signers: PartySet,
    sig: EcdsaSignature<C>,
) -> SignatureOutput {
    SignatureOutput {
        scheme,
        key_id,
        signers,
        public_key: C::encode_point(&sig.public_key),
        signature: sig.signature.to_bytes(),
        der: Some(sig.signature.to_der()),
        recovery_id: Some(sig.recovery_id),
        digest: Some(sig.digest),
    }
}

/// Routes every inbound frame.
async fn dispatch(inner: Arc<Inner>, mut inbound: mpsc::Receiver<Inbound>) {
    loop {
        let msg = tokio::select! {
            m = inbound.recv() => m,
            _ = inner.stop.notified() => None,
        };
        let Some(msg) = msg else { break };
        let from = msg.from;
        let session = msg.frame.session;
        let target = {
            let mut st = lock(&inner.state);
            st.silent.remove(&from);
            st.sessions.get(&session).cloned()
        };
        match msg.frame.channel {
            Channel::Protocol => match target {
                Some(tx) => {
                    let _ = tx.send(SessionEvent::Message(from, msg.frame.payload)).await;
                }
                None => {
                    let mut st = lock(&inner.state);
                    if st.finished.contains(&session) {
                        // A late frame of a finished session.
                    } else if st.early.push(msg) {
                        st.early_since.entry(session).or_insert_with(Instant::now);
                    } else {
                        tracing::debug!(peer = %from, session = %session, "early frame dropped (buffer full)");
                    }
                }
            },
            Channel::Control => match Control::from_bytes(&msg.frame.payload) {
                Ok(Control::Propose { client, request }) => {
                    tokio::spawn(inner.clone().join(from, session, Caller::client(client), request));
                }
                Ok(Control::ReceiptQuery) => {
                    let i = inner.clone();
                    let _ = tokio::task::spawn_blocking(move || i.answer_receipt_query(from, session)).await;
                }
                Ok(Control::Receipt(bytes)) => {
                    let i = inner.clone();
                    let _ = tokio::task::spawn_blocking(move || i.on_receipt(from, session, &bytes)).await;
                }
                Ok(other) => match target {
                    Some(tx) => {
                        let _ = tx.send(SessionEvent::Control(from, other)).await;
                    }
                    None => {
                        // A cancel can overtake the proposal's processing: hold it like a
                        // protocol frame so the session sees it when it starts.
                        let mut st = lock(&inner.state);
                        if !st.finished.contains(&session) && st.early.push(msg) {
                            st.early_since.entry(session).or_insert_with(Instant::now);
                        }
                    }
                },
                Err(_) => tracing::debug!(peer = %from, "undecodable control message dropped"),
            },
        }
    }
}

/// Keeps the presignature pools and the prime pool filled.
async fn background(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut ticks: u64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = inner.stop.notified() => return,
        }
        expire_early(&inner);
        ticks = ticks.wrapping_add(1);
        if ticks % RECEIPT_QUERY_TICKS == 1 {
            let i = inner.clone();
            let _ = tokio::task::spawn_blocking(move || i.query_pending_receipts()).await;
        }
        if inner.presign_pool > 0 {
            refill_presignatures(&inner);
        }
        if inner.prime_pool > 0 {
            let have = inner.load_prime_pool().map(|p| p.len()).unwrap_or(usize::MAX);
            if have < inner.prime_pool {
                let i = inner.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    let threads = std::thread::available_parallelism().unwrap_or(std::num::NonZeroUsize::MIN);
                    if let Ok(p) = conclave_paillier::generate_safe_prime(&mut OsRng, PRIME_BITS, threads) {
                        let _guard = lock(&i.primes);
                        if let Ok(mut pool) = i.load_prime_pool() {
                            if pool.push(p).is_ok() {
                                let _ = i.store.put(RecordKind::SafePrimes, PRIME_POOL_ID, &pool.to_bytes());
                            }
                        }
                    }
                })
                .await;
            }
        }
    }
}

/// Drops held frames of sessions that did not start within two round deadlines: they belong to
/// sessions we refused, never heard of, or that a peer made up.
fn expire_early(inner: &Inner) {
    let max_age = inner.timeouts.round.saturating_mul(2);
    let mut st = lock(&inner.state);
    let expired: Vec<SessionId> =
        st.early_since.iter().filter(|(_, t)| t.elapsed() > max_age).map(|(s, _)| *s).collect();
    for s in expired {
        st.early.drop_session(&s);
        st.early_since.remove(&s);
    }
}

fn refill_presignatures(inner: &Arc<Inner>) {
    let keys: Vec<KeyInfo> = lock(&inner.state).keys.values().filter(|k| k.scheme.is_ecdsa()).cloned().collect();
    for key in keys {
        let Ok(signers) = pool_signers(&key) else { continue };
        // The pool of a key is refilled by the first party of its signer set.
        if signers.iter().next() != Some(inner.me) || inner.load_aux(&key.parties).is_err() {
            continue;
        }
        let mut prefix = key.key_id.0.to_vec();
        prefix.extend_from_slice(&signers_digest(&signers));
        let have = inner.store.list(RecordKind::Presignature, &prefix).map(|v| v.len()).unwrap_or(usize::MAX);
        if have >= inner.presign_pool || !lock(&inner.state).refilling.insert(key.key_id) {
            continue;
        }
        let i = inner.clone();
        tokio::spawn(async move {
            let r = i.propose(&Caller::node(), Request::Presign { key_id: key.key_id, signers }).await;
            if let Err(e) = r {
                tracing::warn!(party = %i.me, key = %key.key_id, error = %e, "presignature refill failed");
            }
            lock(&i.state).refilling.remove(&key.key_id);
        });
    }
}

impl Scheme {
    fn record_tag(self) -> u8 {
        match self {
            Scheme::EcdsaSecp256k1 => 1,
            Scheme::EcdsaP256 => 2,
            Scheme::Ed25519 => 3,
            Scheme::FrostSecp256k1 => 4,
            Scheme::SchnorrBip340 => 5,
        }
    }

    fn from_record_tag(t: u8) -> Option<Self> {
        Scheme::ALL.into_iter().find(|s| s.record_tag() == t)
    }
}
