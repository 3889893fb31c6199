//! Dialling side: one task per peer that keeps one outbound connection up and writes the peer's
//! queue into it.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::frame::{Frame, FRAME_VERSION};
use super::{add, bump, until_shutdown, PeerSpec, Shared};

/// Frames written before a flush when the queue has more.
const WRITE_BATCH: usize = 64;

enum DialError {
    /// TCP connect failed or timed out: the peer is down or unreachable (not counted).
    Connect(String),
    /// The TLS handshake failed or the peer did not accept us (counted).
    Rejected(String),
}

impl fmt::Display for DialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialError::Connect(e) => write!(f, "connect: {e}"),
            DialError::Rejected(e) => write!(f, "handshake: {e}"),
        }
    }
}

enum LinkEnd {
    /// The transport is going away.
    QueueClosed,
    /// The connection is gone; dial again.
    Lost(String),
}

pub(crate) async fn run_link(
    shared: Arc<Shared>,
    peer: PeerSpec,
    connector: TlsConnector,
    server_name: ServerName<'static>,
    mut queue: mpsc::Receiver<Frame>,
    connected: watch::Sender<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    let link = async {
        let mut backoff = shared.backoff_initial;
        let mut was_connected = false;
        loop {
            match dial(&shared, &peer, &connector, &server_name).await {
                Ok(stream) => {
                    if was_connected {
                        bump(&shared.counters.reconnects);
                    }
                    was_connected = true;
                    backoff = shared.backoff_initial;
                    connected.send_replace(true);
                    tracing::info!(peer = peer.index.0, addr = %peer.addr, "outbound link up");
                    let end = pump(stream, &mut queue, &shared).await;
                    connected.send_replace(false);
                    match end {
                        LinkEnd::QueueClosed => return,
                        LinkEnd::Lost(why) => {
                            tracing::info!(peer = peer.index.0, addr = %peer.addr, reason = %why, "outbound link lost")
                        }
                    }
                }
                Err(e @ DialError::Rejected(_)) => {
                    bump(&shared.counters.rejected_handshakes);
                    tracing::warn!(peer = peer.index.0, addr = %peer.addr, error = %e, "outbound handshake failed");
                }
                Err(e @ DialError::Connect(_)) => {
                    tracing::debug!(peer = peer.index.0, addr = %peer.addr, error = %e, "peer unreachable");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2).min(shared.backoff_max);
        }
    };
    until_shutdown(&mut shutdown, link).await;
    connected.send_replace(false);
}

/// TCP connect, TLS handshake (server pinned), and the peer's acceptance byte, all within
/// `connect_timeout`. In TLS 1.3 the client finishes its handshake before the server has checked
/// the client certificate; waiting for the acceptance byte makes a refusal visible here instead
/// of losing the first frames.
async fn dial(
    shared: &Shared,
    peer: &PeerSpec,
    connector: &TlsConnector,
    server_name: &ServerName<'static>,
) -> Result<TlsStream<TcpStream>, DialError> {
    let handshake_started = AtomicBool::new(false);
    let attempt = async {
        let tcp = TcpStream::connect(peer.addr.as_str()).await.map_err(|e| DialError::Connect(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        handshake_started.store(true, Ordering::Relaxed);
        let mut stream =
            connector.connect(server_name.clone(), tcp).await.map_err(|e| DialError::Rejected(e.to_string()))?;
        let mut accept = [0u8; 1];
        stream.read_exact(&mut accept).await.map_err(|e| DialError::Rejected(format!("refused by the peer: {e}")))?;
        if accept != [FRAME_VERSION] {
            return Err(DialError::Rejected(format!(
                "peer answered {accept:?} instead of frame version {FRAME_VERSION}"
            )));
        }
        Ok(stream)
    };
    match tokio::time::timeout(shared.connect_timeout, attempt).await {
        Ok(result) => result,
        Err(_) if handshake_started.load(Ordering::Relaxed) => Err(DialError::Rejected("timed out".into())),
        Err(_) => Err(DialError::Connect("timed out".into())),
    }
}

/// Writes queued frames until the connection or the queue ends. The peer never sends anything
/// after its acceptance byte, so reading tells us promptly when it closes the connection.
async fn pump(stream: TlsStream<TcpStream>, queue: &mut mpsc::Receiver<Frame>, shared: &Shared) -> LinkEnd {
    let counters = &shared.counters;
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut probe = [0u8; 64];
    loop {
        let first = tokio::select! {
            biased;
            r = rd.read(&mut probe) => {
                return match r {
                    Ok(0) => LinkEnd::Lost("closed by the peer".into()),
                    Ok(_) => {
                        bump(&counters.bad_frames);
                        LinkEnd::Lost("unexpected data from the peer".into())
                    }
                    Err(e) => LinkEnd::Lost(e.to_string()),
                };
            }
            f = queue.recv() => match f {
                Some(f) => f,
                None => {
                    let _ = wr.shutdown().await;
                    return LinkEnd::QueueClosed;
                }
            },
        };
        let mut next = Some(first);
        let mut written = 0usize;
        while let Some(frame) = next.take() {
            if let Err(e) = write_frame(&mut wr, &frame).await {
                bump(&counters.lost_frames);
                return LinkEnd::Lost(e.to_string());
            }
            bump(&counters.frames_out);
            add(&counters.bytes_out, frame.wire_len());
            written = written.saturating_add(1);
            if written < WRITE_BATCH {
                next = queue.try_recv().ok();
            }
        }
        if let Err(e) = wr.flush().await {
            return LinkEnd::Lost(e.to_string());
        }
    }
}

async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, frame: &Frame) -> io::Result<()> {
    let bytes = frame.encode().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    w.write_all(&bytes).await
}
