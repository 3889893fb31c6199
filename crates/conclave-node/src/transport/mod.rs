//! Peer transport: mutually authenticated TLS 1.3 links between the nodes of a cluster, carrying
//! binary, versioned, size-limited [`Frame`]s.
//!
//! Connection model (see `docs/transport.md`):
//!
//! * Every node dials every peer for its **outbound** traffic: one connection per peer, with
//!   reconnection and exponential backoff; frames wait in a bounded per-peer queue while the link
//!   is down. [`Transport::send`] never blocks.
//! * Every node **accepts** connections for its inbound traffic. The fingerprint of the client
//!   certificate decides which [`PartyIndex`] the frames come from ([`Inbound::from`]); a newer
//!   connection from the same peer replaces the older one.
//! * Received frames go to one bounded channel; a connection's reader waits for room in it, so
//!   a flooding peer only slows itself down.
//!
//! Delivery is at most once and in order per link: a frame written to a connection that dies
//! may be lost (there are no acknowledgements); the protocols' timeouts handle that.

pub mod buffer;
pub mod frame;
pub mod tls;

mod inbound;
mod outbound;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use conclave_protocol::PartyIndex;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

pub use buffer::EarlyBuffer;
pub use frame::{Channel, Frame, FrameError, FrameHeader, FRAME_VERSION, HEADER_LEN};
pub use tls::TlsIdentity;

/// A frame received from an authenticated peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    /// The peer whose pinned certificate authenticated the connection the frame came on; never
    /// a field of the payload.
    pub from: PartyIndex,
    /// The frame.
    pub frame: Frame,
}

/// One peer of the cluster.
#[derive(Clone, Debug)]
pub struct PeerSpec {
    /// The peer's party index.
    pub index: PartyIndex,
    /// Where it listens, `host:port`.
    pub addr: String,
    /// SHA-256 of its certificate (DER): the pin.
    pub cert_sha256: [u8; 32],
}

/// Resource bounds of the transport. Every field must be non-zero.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest accepted payload of one frame, in bytes (header excluded); at most `u32::MAX`.
    pub max_frame_bytes: usize,
    /// Frames queued per peer for sending; beyond it [`Transport::send`] fails with
    /// [`SendError::QueueFull`].
    pub outbound_queue: usize,
    /// [`EarlyBuffer`]: frames held per peer.
    pub early_frames_per_peer: usize,
    /// [`EarlyBuffer`]: payload bytes held per peer.
    pub early_bytes_per_peer: usize,
    /// Capacity (in frames) of the channel of received frames.
    pub inbound_channel: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 16 << 20,
            outbound_queue: 1024,
            early_frames_per_peer: 256,
            early_bytes_per_peer: 32 << 20,
            inbound_channel: 1024,
        }
    }
}

/// Everything [`Transport::start`] needs.
#[derive(Debug)]
pub struct TransportConfig {
    /// Our own party index.
    pub me: PartyIndex,
    /// Address to listen on (port 0 picks a free port; see [`Transport::local_addr`]).
    pub listen: SocketAddr,
    /// Our certificate and key.
    pub identity: TlsIdentity,
    /// The other parties (not `me`), each with a distinct index and a distinct pin.
    pub peers: Vec<PeerSpec>,
    /// Resource bounds.
    pub limits: Limits,
    /// Bound on TCP connect plus TLS handshake plus acceptance, in both directions.
    pub connect_timeout: Duration,
    /// First delay between two connection attempts to a peer.
    pub backoff_initial: Duration,
    /// Largest delay between two connection attempts (the delay doubles up to it).
    pub backoff_max: Duration,
}

/// Why the transport (or an identity) could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from the configuration.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A certificate or key in PEM could not be read.
    #[error("bad PEM: {0}")]
    BadPem(String),
    /// The private key is not usable or does not belong to the certificate.
    #[error("unusable private key or key does not match the certificate: {0}")]
    BadKey(String),
    /// Generating a self-signed certificate failed.
    #[error("cannot generate a certificate: {0}")]
    CertGeneration(String),
    /// The configuration is inconsistent (zero limit, duplicate peer or pin, …).
    #[error("invalid transport configuration: {0}")]
    InvalidConfig(String),
    /// Building the TLS configuration failed.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// Not called from within a Tokio runtime.
    #[error("the transport must be started within a Tokio runtime")]
    NoRuntime,
}

/// Why [`Transport::send`] did not queue a frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The destination is not a configured peer (sending to ourselves included).
    #[error("unknown peer")]
    UnknownPeer,
    /// The peer's outbound queue is full (counted in `queue_full_drops`); the frame is dropped.
    #[error("outbound queue of the peer is full")]
    QueueFull,
    /// The payload exceeds `max_frame_bytes`.
    #[error("frame payload of {len} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// Payload length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The transport has shut down.
    #[error("transport is shut down")]
    Closed,
}

/// A snapshot of the transport's counters (all monotonic since start).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportStats {
    /// Complete, valid frames received.
    pub frames_in: u64,
    /// Frames written to an outbound connection.
    pub frames_out: u64,
    /// Wire bytes (header plus payload) of `frames_in`.
    pub bytes_in: u64,
    /// Wire bytes (header plus payload) of `frames_out`.
    pub bytes_out: u64,
    /// TLS handshakes that failed, inbound or outbound: certificate not pinned (or not the
    /// pinned one of the dialled peer), bad signature, TLS error, timeout during the handshake,
    /// refusal by the peer, or over the limit of concurrent inbound handshakes.
    pub rejected_handshakes: u64,
    /// Frames with a bad version or channel byte, and unexpected data on an outbound link; each
    /// closed its connection.
    pub bad_frames: u64,
    /// Frames announcing a payload above `max_frame_bytes`; each closed its connection.
    pub oversized_frames: u64,
    /// [`Transport::send`] calls refused with [`SendError::QueueFull`].
    pub queue_full_drops: u64,
    /// Outbound links re-established after a previous link to the same peer was lost.
    pub reconnects: u64,
    /// Frames taken from an outbound queue whose write failed (the connection was lost).
    pub lost_frames: u64,
}

#[derive(Debug, Default)]
struct Counters {
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    rejected_handshakes: AtomicU64,
    bad_frames: AtomicU64,
    oversized_frames: AtomicU64,
    queue_full_drops: AtomicU64,
    reconnects: AtomicU64,
    lost_frames: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

fn add(c: &AtomicU64, n: usize) {
    c.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
}

impl Counters {
    fn snapshot(&self) -> TransportStats {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TransportStats {
            frames_in: r(&self.frames_in),
            frames_out: r(&self.frames_out),
            bytes_in: r(&self.bytes_in),
            bytes_out: r(&self.bytes_out),
            rejected_handshakes: r(&self.rejected_handshakes),
            bad_frames: r(&self.bad_frames),
            oversized_frames: r(&self.oversized_frames),
            queue_full_drops: r(&self.queue_full_drops),
            reconnects: r(&self.reconnects),
            lost_frames: r(&self.lost_frames),
        }
    }
}

/// What the background tasks share.
#[derive(Debug)]
struct Shared {
    me: PartyIndex,
    limits: Limits,
    counters: Counters,
    connect_timeout: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
}

/// Locks a mutex, recovering from poisoning (the data are plain maps that stay consistent).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `fut` unless the transport shuts down first (or is dropped).
async fn until_shutdown<F: Future>(shutdown: &mut watch::Receiver<bool>, fut: F) -> Option<F::Output> {
    tokio::select! {
        biased;
        _ = shutdown.wait_for(|stop| *stop) => None,
        out = fut => Some(out),
    }
}

#[derive(Debug)]
struct Link {
    queue: mpsc::Sender<Frame>,
    connected: watch::Receiver<bool>,
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    links: BTreeMap<PartyIndex, Link>,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Option<JoinSet<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Every task stops when the last handle goes away; dropping the JoinSet aborts the rest.
        self.shutdown.send_replace(true);
    }
}

/// Handle to a running transport. Cheap to clone; the transport stops when [`Transport::shutdown`]
/// is called or the last handle is dropped.
#[derive(Clone, Debug)]
pub struct Transport {
    inner: Arc<Inner>,
}

/// How long [`Transport::shutdown`] waits for tasks to finish before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn validate(cfg: &TransportConfig) -> Result<(), TransportError> {
    let bad = |m: String| Err(TransportError::InvalidConfig(m));
    let l = &cfg.limits;
    for (name, v) in [
        ("max_frame_bytes", l.max_frame_bytes),
        ("outbound_queue", l.outbound_queue),
        ("early_frames_per_peer", l.early_frames_per_peer),
        ("early_bytes_per_peer", l.early_bytes_per_peer),
        ("inbound_channel", l.inbound_channel),
    ] {
        if v == 0 {
            return bad(format!("limit {name} must not be zero"));
        }
    }
    if u32::try_from(l.max_frame_bytes).is_err() {
        return bad(format!("max_frame_bytes {} exceeds the frame format's u32 length", l.max_frame_bytes));
    }
    if cfg.connect_timeout.is_zero() || cfg.backoff_initial.is_zero() {
        return bad("connect_timeout and backoff_initial must be positive".into());
    }
    if cfg.backoff_max < cfg.backoff_initial {
        return bad("backoff_max is below backoff_initial".into());
    }
    let mut seen = BTreeMap::new();
    for p in &cfg.peers {
        if p.index == cfg.me {
            return bad(format!("{} is ourselves and cannot be a peer", p.index));
        }
        if seen.insert(p.index, ()).is_some() {
            return bad(format!("{} is listed twice", p.index));
        }
        if p.cert_sha256 == cfg.identity.fingerprint() {
            return bad(format!("{} pins our own certificate", p.index));
        }
    }
    Ok(())
}

impl Transport {
    /// Validates the configuration, binds the listener, and starts accepting and dialling.
    /// Returns the handle and the channel of received frames.
    pub async fn start(cfg: TransportConfig) -> Result<(Transport, mpsc::Receiver<Inbound>), TransportError> {
        tokio::runtime::Handle::try_current().map_err(|_| TransportError::NoRuntime)?;
        // Check everything before binding, so that a bad configuration never holds the port.
        validate(&cfg)?;
        tls::PeerDirectory::new(cfg.peers.iter().map(|p| (p.index, p.cert_sha256)))?;
        let listener =
            TcpListener::bind(cfg.listen).await.map_err(|source| TransportError::Bind { addr: cfg.listen, source })?;
        Self::start_on(cfg, listener)
    }

    /// Like [`Transport::start`], on a listener bound beforehand (`cfg.listen` is then only
    /// used in messages). Useful to learn every node's address before any node starts, as a
    /// loopback cluster on port 0 needs.
    pub async fn start_with_listener(
        cfg: TransportConfig,
        listener: std::net::TcpListener,
    ) -> Result<(Transport, mpsc::Receiver<Inbound>), TransportError> {
        tokio::runtime::Handle::try_current().map_err(|_| TransportError::NoRuntime)?;
        let bind_err = |source| TransportError::Bind { addr: cfg.listen, source };
        listener.set_nonblocking(true).map_err(bind_err)?;
        let listener = TcpListener::from_std(listener).map_err(bind_err)?;
        Self::start_on(cfg, listener)
    }

    fn start_on(
        cfg: TransportConfig,
        listener: TcpListener,
    ) -> Result<(Transport, mpsc::Receiver<Inbound>), TransportError> {
        validate(&cfg)?;
        let directory = tls::PeerDirectory::new(cfg.peers.iter().map(|p| (p.index, p.cert_sha256)))?;
        let server_config = tls::server_config(&cfg.identity, directory.clone())?;
        let server_name = tls::peer_server_name()?;
        let mut client_configs = Vec::with_capacity(cfg.peers.len());
        for p in &cfg.peers {
            client_configs.push((p.clone(), tls::client_config(&cfg.identity, p.cert_sha256)?));
        }
        let local_addr = listener.local_addr().map_err(|source| TransportError::Bind { addr: cfg.listen, source })?;

        let shared = Arc::new(Shared {
            me: cfg.me,
            limits: cfg.limits,
            counters: Counters::default(),
            connect_timeout: cfg.connect_timeout,
            backoff_initial: cfg.backoff_initial,
            backoff_max: cfg.backoff_max,
        });
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (inbound_tx, inbound_rx) = mpsc::channel(shared.limits.inbound_channel);
        let mut tasks = JoinSet::new();
        tasks.spawn(inbound::run_listener(
            listener,
            tokio_rustls::TlsAcceptor::from(server_config),
            Arc::new(directory),
            shared.clone(),
            inbound_tx,
            shutdown_rx.clone(),
        ));
        let mut links = BTreeMap::new();
        for (peer, client_config) in client_configs {
            let (queue_tx, queue_rx) = mpsc::channel(shared.limits.outbound_queue);
            let (connected_tx, connected_rx) = watch::channel(false);
            links.insert(peer.index, Link { queue: queue_tx, connected: connected_rx });
            tasks.spawn(outbound::run_link(
                shared.clone(),
                peer,
                tokio_rustls::TlsConnector::from(client_config),
                server_name.clone(),
                queue_rx,
                connected_tx,
                shutdown_rx.clone(),
            ));
        }
        tracing::info!(me = cfg.me.0, %local_addr, peers = links.len(), "peer transport listening");
        let inner = Inner { shared, local_addr, links, shutdown: shutdown_tx, tasks: Mutex::new(Some(tasks)) };
        Ok((Transport { inner: Arc::new(inner) }, inbound_rx))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// Our own party index.
    pub fn me(&self) -> PartyIndex {
        self.inner.shared.me
    }

    /// Non-blocking: queues `frame` for `to`. The queue is bounded per peer; when it is full the
    /// frame is dropped, counted, and [`SendError::QueueFull`] returned.
    pub fn send(&self, to: PartyIndex, frame: Frame) -> Result<(), SendError> {
        let max = self.inner.shared.limits.max_frame_bytes;
        if frame.payload.len() > max {
            return Err(SendError::FrameTooLarge { len: frame.payload.len(), max });
        }
        let link = self.inner.links.get(&to).ok_or(SendError::UnknownPeer)?;
        match link.queue.try_send(frame) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                bump(&self.inner.shared.counters.queue_full_drops);
                Err(SendError::QueueFull)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SendError::Closed),
        }
    }

    /// Whether the outbound link to `peer` is currently up (authenticated and accepted).
    pub fn is_connected(&self, peer: PartyIndex) -> bool {
        self.inner.links.get(&peer).is_some_and(|l| *l.connected.borrow())
    }

    /// Waits until the outbound link to `peer` is up. Returns false for an unknown peer or when
    /// the transport shuts down first. Wrap it in a timeout.
    pub async fn wait_connected(&self, peer: PartyIndex) -> bool {
        let Some(link) = self.inner.links.get(&peer) else {
            return false;
        };
        let mut connected = link.connected.clone();
        let mut shutdown = self.inner.shutdown.subscribe();
        until_shutdown(&mut shutdown, connected.wait_for(|up| *up)).await.is_some_and(|r| r.is_ok())
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> TransportStats {
        self.inner.shared.counters.snapshot()
    }

    /// Stops listening, closes every connection and waits for the background tasks to end (the
    /// listening port is free again when this returns). Frames still queued are dropped. Other
    /// clones of the handle see [`SendError::Closed`] afterwards.
    pub async fn shutdown(self) {
        self.inner.shutdown.send_replace(true);
        let tasks = lock(&self.inner.tasks).take();
        if let Some(mut tasks) = tasks {
            let drained =
                tokio::time::timeout(SHUTDOWN_GRACE, async { while tasks.join_next().await.is_some() {} }).await;
            if drained.is_err() {
                tracing::warn!("transport tasks did not stop in time; aborting them");
                tasks.shutdown().await;
            }
        }
        tracing::info!(me = self.inner.shared.me.0, "peer transport shut down");
    }
}
