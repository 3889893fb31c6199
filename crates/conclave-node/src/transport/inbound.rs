//! Accepting side: TLS handshake against the pinned peers, then one reader per connection.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conclave_protocol::PartyIndex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::frame::{Frame, FrameError, FrameHeader, FRAME_VERSION, HEADER_LEN};
use super::tls::PeerDirectory;
use super::{add, bump, lock, until_shutdown, Inbound, Shared};

/// At most this many inbound TLS handshakes run at once; further connections are closed at once
/// (unauthenticated clients cannot tie up more than this).
pub(crate) const MAX_PENDING_HANDSHAKES: usize = 64;

/// First allocation step for a payload; it then doubles, never beyond the announced length.
const PAYLOAD_CHUNK: usize = 64 * 1024;

/// What a connection's reader is told by newer connections of the same peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ctl {
    /// Keep reading.
    Run,
    /// A newer connection replaced this one: read no further frame, but deliver the one at hand.
    StopReading,
    /// Yet another connection arrived: give up at once, even a frame waiting for delivery.
    Abort,
}

type CtlSlot = Option<(u64, watch::Sender<Ctl>)>;

/// The live connections per peer: the current one and at most one older one finishing a delivery.
#[derive(Debug, Default)]
struct Registry {
    slots: Mutex<BTreeMap<PartyIndex, (CtlSlot, CtlSlot)>>,
}

impl Registry {
    fn register(self: &Arc<Self>, party: PartyIndex, id: u64) -> Registration {
        let (tx, rx) = watch::channel(Ctl::Run);
        let mut slots = lock(&self.slots);
        let (current, draining) = slots.entry(party).or_default();
        if let Some((_, older)) = draining.take() {
            older.send_replace(Ctl::Abort);
        }
        if let Some((old_id, old)) = current.take() {
            tracing::info!(peer = party.0, "newer connection replaces the previous one");
            old.send_replace(Ctl::StopReading);
            *draining = Some((old_id, old));
        }
        *current = Some((id, tx));
        Registration { registry: self.clone(), party, id, ctl: rx }
    }

    fn unregister(&self, party: PartyIndex, id: u64) {
        let mut slots = lock(&self.slots);
        if let Some((current, draining)) = slots.get_mut(&party) {
            for slot in [current, draining] {
                if slot.as_ref().is_some_and(|(i, _)| *i == id) {
                    *slot = None;
                }
            }
        }
        if slots.get(&party).is_some_and(|(c, d)| c.is_none() && d.is_none()) {
            slots.remove(&party);
        }
    }
}

struct Registration {
    registry: Arc<Registry>,
    party: PartyIndex,
    id: u64,
    ctl: watch::Receiver<Ctl>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.unregister(self.party, self.id);
    }
}

pub(crate) async fn run_listener(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    directory: Arc<PeerDirectory>,
    shared: Arc<Shared>,
    inbound_tx: mpsc::Sender<Inbound>,
    mut shutdown: watch::Receiver<bool>,
) {
    let registry = Arc::new(Registry::default());
    let handshakes = Arc::new(Semaphore::new(MAX_PENDING_HANDSHAKES));
    let mut conns = JoinSet::new();
    let mut next_id: u64 = 0;
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, remote)) => {
                let Ok(permit) = handshakes.clone().try_acquire_owned() else {
                    bump(&shared.counters.rejected_handshakes);
                    tracing::warn!(%remote, "too many pending handshakes; connection closed");
                    continue;
                };
                next_id = next_id.wrapping_add(1);
                let conn = Connection {
                    id: next_id,
                    remote,
                    acceptor: acceptor.clone(),
                    directory: directory.clone(),
                    registry: registry.clone(),
                    shared: shared.clone(),
                    inbound_tx: inbound_tx.clone(),
                };
                let mut stop = shutdown.clone();
                conns.spawn(async move {
                    until_shutdown(&mut stop, conn.serve(tcp, permit)).await;
                });
            }
            Err(e) => {
                // Typically out of file descriptors: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                until_shutdown(&mut shutdown, tokio::time::sleep(Duration::from_millis(100))).await;
            }
        }
    }
    drop(listener);
    // The connections saw the same shutdown signal; wait until their sockets are closed.
    while conns.join_next().await.is_some() {}
}

struct Connection {
    id: u64,
    remote: SocketAddr,
    acceptor: TlsAcceptor,
    directory: Arc<PeerDirectory>,
    registry: Arc<Registry>,
    shared: Arc<Shared>,
    inbound_tx: mpsc::Sender<Inbound>,
}

impl Connection {
    async fn serve(self, tcp: TcpStream, permit: OwnedSemaphorePermit) {
        let remote = self.remote;
        let _ = tcp.set_nodelay(true);
        let accepted = tokio::time::timeout(self.shared.connect_timeout, self.handshake(tcp)).await;
        drop(permit);
        let (mut stream, mut registration) = match accepted {
            Ok(Ok(ok)) => ok,
            Ok(Err(e)) => {
                bump(&self.shared.counters.rejected_handshakes);
                tracing::warn!(%remote, error = %e, "inbound handshake rejected");
                return;
            }
            Err(_) => {
                bump(&self.shared.counters.rejected_handshakes);
                tracing::warn!(%remote, "inbound handshake timed out");
                return;
            }
        };
        let party = registration.party;
        tracing::info!(peer = party.0, %remote, "inbound link up");
        self.read_frames(&mut stream, party, &mut registration.ctl).await;
        tracing::info!(peer = party.0, %remote, "inbound link closed");
    }

    /// TLS handshake, identification of the peer by its certificate, registration, acceptance
    /// byte.
    async fn handshake(&self, tcp: TcpStream) -> io::Result<(TlsStream<TcpStream>, Registration)> {
        let mut stream = self.acceptor.accept(tcp).await?;
        let party = {
            let (_, conn) = stream.get_ref();
            conn.peer_certificates().and_then(|certs| certs.first()).and_then(|cert| self.directory.party_of(cert))
        };
        // The verifier only accepts pinned certificates, so this is a second line of defence.
        let party = party.ok_or_else(|| io::Error::new(io::ErrorKind::PermissionDenied, "certificate not pinned"))?;
        let registration = self.registry.register(party, self.id);
        stream.write_all(&[FRAME_VERSION]).await?;
        stream.flush().await?;
        Ok((stream, registration))
    }

    async fn read_frames(&self, stream: &mut TlsStream<TcpStream>, party: PartyIndex, ctl: &mut watch::Receiver<Ctl>) {
        let remote = self.remote;
        let counters = &self.shared.counters;
        let max = self.shared.limits.max_frame_bytes;
        loop {
            let mut header = [0u8; HEADER_LEN];
            let got = tokio::select! {
                biased;
                _ = ctl.wait_for(|c| *c >= Ctl::StopReading) => return,
                r = read_header(stream, &mut header) => r,
            };
            match got {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::debug!(peer = party.0, %remote, error = %e, "inbound connection ended");
                    return;
                }
            }
            let header = match FrameHeader::decode(&header, max) {
                Ok(h) => h,
                Err(e @ FrameError::Oversized { .. }) => {
                    bump(&counters.oversized_frames);
                    tracing::warn!(peer = party.0, %remote, error = %e, "oversized frame; closing connection");
                    return;
                }
                Err(e) => {
                    bump(&counters.bad_frames);
                    tracing::warn!(peer = party.0, %remote, error = %e, "bad frame; closing connection");
                    return;
                }
            };
            let payload = tokio::select! {
                biased;
                _ = ctl.wait_for(|c| *c >= Ctl::StopReading) => return,
                r = read_payload(stream, header.payload_len) => r,
            };
            let payload = match payload {
                Ok(p) => p,
                Err(e) => {
                    tracing::debug!(peer = party.0, %remote, error = %e, "inbound connection ended inside a frame");
                    return;
                }
            };
            bump(&counters.frames_in);
            add(&counters.bytes_in, HEADER_LEN.saturating_add(payload.len()));
            let frame = Frame { channel: header.channel, session: header.session, round: header.round, payload };
            let msg = Inbound { from: party, frame };
            // Backpressure: wait for room in the inbound channel; meanwhile nothing more is read
            // from this connection, so a flooding peer only slows itself.
            let delivered = tokio::select! {
                biased;
                _ = ctl.wait_for(|c| *c >= Ctl::Abort) => return,
                r = self.inbound_tx.send(msg) => r,
            };
            if delivered.is_err() {
                return;
            }
        }
    }
}

/// Reads a full header. `Ok(false)`: the connection ended cleanly between two frames.
async fn read_header<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8; HEADER_LEN]) -> io::Result<bool> {
    let mut filled = 0usize;
    while filled < HEADER_LEN {
        let dst = buf.get_mut(filled..).unwrap_or_default();
        let n = r.read(dst).await?;
        if n == 0 {
            return if filled == 0 { Ok(false) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
        }
        filled = filled.saturating_add(n);
    }
    Ok(true)
}

/// Reads exactly `len` payload bytes (`len` is already bounded by `max_frame_bytes`). Memory
/// grows with the bytes actually received, never beyond `len`.
async fn read_payload<R: AsyncRead + Unpin>(r: &mut R, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    while buf.len() < len {
        if buf.len() == buf.capacity() {
            let target = len.min(buf.capacity().saturating_mul(2).max(PAYLOAD_CHUNK));
            buf.reserve_exact(target.saturating_sub(buf.len()));
        }
        let start = buf.len();
        buf.resize(buf.capacity().min(len), 0);
        let dst = buf.get_mut(start..).unwrap_or_default();
        r.read_exact(dst).await?;
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn payload_reader_reads_exactly_and_bounds_capacity() {
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut src = &data[..];
        let got = read_payload(&mut src, 150_000).await.unwrap();
        assert_eq!(got, data[..150_000]);
        assert!(got.capacity() <= 150_000);
        let mut short = &data[..10];
        assert!(read_payload(&mut short, 11).await.is_err());
    }

    #[tokio::test]
    async fn header_reader_distinguishes_clean_end() {
        let mut empty: &[u8] = &[];
        let mut buf = [0u8; HEADER_LEN];
        assert!(!read_header(&mut empty, &mut buf).await.unwrap());
        let mut partial: &[u8] = &[1, 2, 3];
        assert!(read_header(&mut partial, &mut buf).await.is_err());
    }

    #[test]
    fn registry_keeps_one_current_and_one_draining() {
        let reg = Arc::new(Registry::default());
        let p = PartyIndex(1);
        let a = reg.register(p, 1);
        let b = reg.register(p, 2);
        assert_eq!(*a.ctl.borrow(), Ctl::StopReading);
        let c = reg.register(p, 3);
        assert_eq!(*a.ctl.borrow(), Ctl::Abort);
        assert_eq!(*b.ctl.borrow(), Ctl::StopReading);
        assert_eq!(*c.ctl.borrow(), Ctl::Run);
        drop(a);
        drop(b);
        drop(c);
        assert!(lock(&reg.slots).is_empty());
    }
}
