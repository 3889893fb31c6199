//! Peer transport over real TLS on loopback: delivery, authentication of the sender, pinning in
//! both directions, malformed frames, reconnection, backpressure, and the EarlyBuffer.
//!
//! Nothing here depends on timing except the generous timeouts around awaits (`WAIT`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use conclave_node::transport::tls::{self, TlsIdentity};
use conclave_node::transport::{
    Channel, EarlyBuffer, Frame, FrameError, Inbound, Limits, PeerSpec, SendError, Transport, TransportConfig,
    TransportError, FRAME_VERSION, HEADER_LEN,
};
use conclave_protocol::{PartyIndex, SessionId};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::Receiver;

const WAIT: Duration = Duration::from_secs(20);

fn identity(name: &str) -> TlsIdentity {
    TlsIdentity::generate_self_signed(name).unwrap()
}

fn frame(session: u8, round: u16, payload: &[u8]) -> Frame {
    Frame { channel: Channel::Protocol, session: SessionId([session; 32]), round, payload: payload.to_vec() }
}

fn config(me: u16, identity: TlsIdentity, listen: SocketAddr, peers: Vec<PeerSpec>, limits: Limits) -> TransportConfig {
    TransportConfig {
        me: PartyIndex(me),
        listen,
        identity,
        peers,
        limits,
        connect_timeout: Duration::from_secs(5),
        backoff_initial: Duration::from_millis(10),
        backoff_max: Duration::from_millis(200),
    }
}

fn spec(index: u16, addr: SocketAddr, fp: [u8; 32]) -> PeerSpec {
    PeerSpec { index: PartyIndex(index), addr: addr.to_string(), cert_sha256: fp }
}

fn free_listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

/// A full-mesh cluster of `n` nodes on loopback; listeners are bound first so every node knows
/// every address.
async fn cluster(n: u16, limits: Limits) -> (Vec<TlsIdentity>, Vec<SocketAddr>, Vec<(Transport, Receiver<Inbound>)>) {
    let ids: Vec<TlsIdentity> = (0..n).map(|i| identity(&format!("party-{i}"))).collect();
    let listeners: Vec<_> = (0..n).map(|_| free_listener()).collect();
    let addrs: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
    let mut nodes = Vec::new();
    for (i, listener) in listeners.into_iter().enumerate() {
        let peers =
            (0..n as usize).filter(|j| *j != i).map(|j| spec(j as u16, addrs[j], ids[j].fingerprint())).collect();
        let cfg = config(i as u16, ids[i].clone(), addrs[i], peers, limits.clone());
        nodes.push(Transport::start_with_listener(cfg, listener).await.unwrap());
    }
    (ids, addrs, nodes)
}

async fn recv(rx: &mut Receiver<Inbound>) -> Inbound {
    tokio::time::timeout(WAIT, rx.recv()).await.expect("timed out waiting for a frame").expect("channel closed")
}

/// Waits (at most `WAIT`) until `cond` holds.
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Raw TLS client presenting `id`, pinning the server `server_fp`, past the acceptance byte.
async fn raw_client(
    id: &TlsIdentity,
    server_fp: [u8; 32],
    addr: SocketAddr,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let connector = tokio_rustls::TlsConnector::from(tls::client_config(id, server_fp).unwrap());
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut s =
        tokio::time::timeout(WAIT, connector.connect(tls::peer_server_name().unwrap(), tcp)).await.unwrap().unwrap();
    let mut accept = [0u8; 1];
    tokio::time::timeout(WAIT, s.read_exact(&mut accept)).await.unwrap().unwrap();
    assert_eq!(accept, [FRAME_VERSION]);
    s
}

/// Waits until the server closes `s` (EOF or error, never data).
async fn expect_closed(s: &mut tokio_rustls::client::TlsStream<TcpStream>) {
    let mut buf = [0u8; 16];
    match tokio::time::timeout(WAIT, s.read(&mut buf)).await.expect("connection was not closed") {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!("unexpected {n} bytes from the server"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_exchange_frames_with_authenticated_senders() {
    let (_, _, mut nodes) = cluster(3, Limits::default()).await;
    for i in 0..3u16 {
        for j in 0..3u16 {
            if i != j {
                // The payload lies about the sender; the transport must not care.
                let f = frame(i as u8, j, format!("I am party {}", (i + 1) % 3).as_bytes());
                nodes[i as usize].0.send(PartyIndex(j), f).unwrap();
            }
        }
    }
    for (j, (_, rx)) in nodes.iter_mut().enumerate() {
        let mut froms = Vec::new();
        for _ in 0..2 {
            let m = recv(rx).await;
            assert_eq!(m.frame.session, SessionId([m.from.0 as u8; 32]), "frame attributed to the wrong sender");
            assert_eq!(m.frame.round, j as u16);
            assert_eq!(m.frame.channel, Channel::Protocol);
            froms.push(m.from.0);
        }
        froms.sort();
        let expected: Vec<u16> = (0..3).filter(|i| *i != j as u16).collect();
        assert_eq!(froms, expected);
    }
    // Control frames, and order per link.
    for r in 0..50u16 {
        let f = Frame { channel: Channel::Control, session: SessionId([9; 32]), round: r, payload: vec![r as u8; 100] };
        nodes[0].0.send(PartyIndex(2), f).unwrap();
    }
    for r in 0..50u16 {
        let m = recv(&mut nodes[2].1).await;
        assert_eq!((m.from, m.frame.round, m.frame.channel), (PartyIndex(0), r, Channel::Control));
    }
    // The sender counts a frame after its write returns, which may be after it arrived.
    let t0 = nodes[0].0.clone();
    eventually("sender counts its 52 frames", || t0.stats().frames_out == 52).await;
    let s = t0.stats();
    assert_eq!(s.rejected_handshakes + s.bad_frames + s.oversized_frames + s.queue_full_drops, 0);
    assert_eq!(nodes[2].0.stats().frames_in, 52);
    for (t, _) in nodes {
        t.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_errors() {
    let limits = Limits { max_frame_bytes: 1000, ..Limits::default() };
    let (_, _, nodes) = cluster(2, limits).await;
    let t = &nodes[0].0;
    assert_eq!(t.send(PartyIndex(7), frame(1, 1, b"x")), Err(SendError::UnknownPeer));
    assert_eq!(t.send(PartyIndex(0), frame(1, 1, b"x")), Err(SendError::UnknownPeer), "ourselves");
    assert_eq!(t.send(PartyIndex(1), frame(1, 1, &[0; 1001])), Err(SendError::FrameTooLarge { len: 1001, max: 1000 }));
    let clone = t.clone();
    let (t0, _) = nodes.into_iter().next().unwrap();
    t0.shutdown().await;
    assert_eq!(clone.send(PartyIndex(1), frame(1, 1, b"x")), Err(SendError::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_configurations_are_refused() {
    let a = identity("a");
    let b = identity("b");
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let start = |cfg| async { Transport::start(cfg).await.map(|_| ()) };

    let me_as_peer = config(0, a.clone(), any, vec![spec(0, any, b.fingerprint())], Limits::default());
    assert!(matches!(start(me_as_peer).await, Err(TransportError::InvalidConfig(_))));
    let twice =
        config(0, a.clone(), any, vec![spec(1, any, b.fingerprint()), spec(1, any, [1; 32])], Limits::default());
    assert!(matches!(start(twice).await, Err(TransportError::InvalidConfig(_))));
    let same_pin = config(
        0,
        a.clone(),
        any,
        vec![spec(1, any, b.fingerprint()), spec(2, any, b.fingerprint())],
        Limits::default(),
    );
    assert!(matches!(start(same_pin).await, Err(TransportError::InvalidConfig(_))));
    let own_pin = config(0, a.clone(), any, vec![spec(1, any, a.fingerprint())], Limits::default());
    assert!(matches!(start(own_pin).await, Err(TransportError::InvalidConfig(_))));
    let zero = config(0, a.clone(), any, vec![], Limits { inbound_channel: 0, ..Limits::default() });
    assert!(matches!(start(zero).await, Err(TransportError::InvalidConfig(_))));

    // Bind failure names the address.
    let taken = free_listener();
    let addr = taken.local_addr().unwrap();
    let err = Transport::start(config(0, a, addr, vec![], Limits::default())).await.map(|_| ()).unwrap_err();
    assert!(matches!(err, TransportError::Bind { addr: a, .. } if a == addr));
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

/// A client whose certificate is not pinned is refused by the server, and counted on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_client_certificate_is_refused() {
    let (ids, addrs, mut nodes) = cluster(2, Limits::default()).await;
    // An impostor claiming to be party 0, with its own key.
    let rogue = identity("party-0");
    let rogue_cfg = config(
        0,
        rogue.clone(),
        "127.0.0.1:0".parse().unwrap(),
        vec![spec(1, addrs[1], ids[1].fingerprint())],
        Limits::default(),
    );
    let (rogue_t, _rogue_rx) = Transport::start(rogue_cfg).await.unwrap();
    rogue_t.send(PartyIndex(1), frame(1, 1, b"forged")).unwrap();

    let server = nodes[1].0.clone();
    eventually("server counts the rejected handshake", || server.stats().rejected_handshakes >= 1).await;
    eventually("impostor sees the refusal", || rogue_t.stats().rejected_handshakes >= 1).await;
    assert!(!rogue_t.is_connected(PartyIndex(1)));

    // Raw client too: the TLS 1.3 handshake completes on the client side, but no acceptance byte
    // ever comes and the connection is closed.
    let connector = tokio_rustls::TlsConnector::from(tls::client_config(&rogue, ids[1].fingerprint()).unwrap());
    let tcp = TcpStream::connect(addrs[1]).await.unwrap();
    if let Ok(mut s) = connector.connect(tls::peer_server_name().unwrap(), tcp).await {
        let mut b = [0u8; 1];
        let r = tokio::time::timeout(WAIT, s.read(&mut b)).await.unwrap();
        assert!(matches!(r, Ok(0) | Err(_)), "rogue client was accepted");
    }

    // The genuine party 0 still gets through, and only its frame arrives.
    nodes[0].0.send(PartyIndex(1), frame(2, 1, b"genuine")).unwrap();
    let m = recv(&mut nodes[1].1).await;
    assert_eq!((m.from, m.frame.payload.as_slice()), (PartyIndex(0), &b"genuine"[..]));
    assert_eq!(nodes[1].0.stats().frames_in, 1);
    assert!(nodes[1].1.try_recv().is_err());
    rogue_t.shutdown().await;
}

/// A server whose certificate is not the pinned one of the peer we dial is refused by us.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_server_certificate_is_refused() {
    let a = identity("party-0");
    let b = identity("party-1");
    let imposter = identity("party-1");
    // The impostor listens where party 1 should be; it would happily accept party 0.
    let imp_listener = free_listener();
    let imp_addr = imp_listener.local_addr().unwrap();
    let imp_cfg = config(
        1,
        imposter,
        imp_addr,
        vec![spec(0, "127.0.0.1:9".parse().unwrap(), a.fingerprint())],
        Limits::default(),
    );
    let (imp, mut imp_rx) = Transport::start_with_listener(imp_cfg, imp_listener).await.unwrap();

    let a_cfg =
        config(0, a, "127.0.0.1:0".parse().unwrap(), vec![spec(1, imp_addr, b.fingerprint())], Limits::default());
    let (a_t, _a_rx) = Transport::start(a_cfg).await.unwrap();
    a_t.send(PartyIndex(1), frame(3, 1, b"secret for party 1")).unwrap();
    eventually("client refuses the server certificate", || a_t.stats().rejected_handshakes >= 2).await;
    assert!(!a_t.is_connected(PartyIndex(1)));
    assert_eq!(a_t.stats().frames_out, 0);
    assert_eq!(imp.stats().frames_in, 0);
    assert!(imp_rx.try_recv().is_err());

    // Same with a raw connector pinned to party 1.
    let connector = tokio_rustls::TlsConnector::from(tls::client_config(&identity("x"), b.fingerprint()).unwrap());
    let tcp = TcpStream::connect(imp_addr).await.unwrap();
    let r = tokio::time::timeout(WAIT, connector.connect(tls::peer_server_name().unwrap(), tcp)).await.unwrap();
    let err = r.map(|_| ()).unwrap_err();
    assert!(err.to_string().to_lowercase().contains("certificate"), "{err}");
    a_t.shutdown().await;
    imp.shutdown().await;
}

/// A certificate presented with a key that is not its own (the attacker knows the pinned
/// certificate, which is public, but not the key).
#[derive(Debug)]
struct Forged(Arc<rustls::sign::CertifiedKey>);

impl Forged {
    fn new(cert_of: &TlsIdentity, key_of: &TlsIdentity) -> Arc<Self> {
        use rustls::pki_types::pem::PemObject;
        let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key_of.key_pem().as_bytes()).unwrap();
        let signer = tls::provider().key_provider.load_private_key(key).unwrap();
        let cert = rustls::pki_types::CertificateDer::from(cert_of.cert_der().to_vec());
        Arc::new(Forged(Arc::new(rustls::sign::CertifiedKey::new(vec![cert], signer))))
    }
}

impl rustls::client::ResolvesClientCert for Forged {
    fn resolve(&self, _: &[&[u8]], _: &[rustls::SignatureScheme]) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

impl rustls::server::ResolvesServerCert for Forged {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Pinned client certificate, wrong private key: the handshake signature check refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_client_certificate_without_its_key_is_refused() {
    let (id0, fp1, addr1, (server, mut rx), (two, _)) = node_with_raw_party_0(Limits::default()).await;
    let thief = identity("thief");
    let mut cfg = (*tls::client_config(&thief, fp1).unwrap()).clone();
    cfg.client_auth_cert_resolver = Forged::new(&id0, &thief);
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let tcp = TcpStream::connect(addr1).await.unwrap();
    if let Ok(Ok(mut s)) = tokio::time::timeout(WAIT, connector.connect(tls::peer_server_name().unwrap(), tcp)).await {
        let _ = s.write_all(&frame(1, 1, b"forged").encode().unwrap()).await;
        let _ = s.flush().await;
        let mut b = [0u8; 1];
        let r = tokio::time::timeout(WAIT, s.read(&mut b)).await.unwrap();
        assert!(matches!(r, Ok(0) | Err(_)), "forged client was accepted");
    }
    let srv = server.clone();
    eventually("server counts the forged handshake", || srv.stats().rejected_handshakes >= 1).await;
    assert_eq!(server.stats().frames_in, 0);
    assert!(rx.try_recv().is_err());
    server.shutdown().await;
    two.shutdown().await;
}

/// Pinned server certificate, wrong private key: the dialling node refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_server_certificate_without_its_key_is_refused() {
    let (a, b, thief) = (identity("party-0"), identity("party-1"), identity("thief"));
    let dir = tls::PeerDirectory::new([(PartyIndex(0), a.fingerprint())]).unwrap();
    let mut server_cfg = (*tls::server_config(&thief, dir).unwrap()).clone();
    server_cfg.cert_resolver = Forged::new(&b, &thief);
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            if let Ok(mut s) = acceptor.accept(tcp).await {
                let _ = s.write_all(&[FRAME_VERSION]).await;
                let _ = s.flush().await;
                let mut sink = Vec::new();
                let _ = s.read_to_end(&mut sink).await;
                assert!(sink.is_empty(), "a frame reached the forged server");
            }
        }
    });
    let cfg = config(0, a, "127.0.0.1:0".parse().unwrap(), vec![spec(1, addr, b.fingerprint())], Limits::default());
    let (t, _rx) = Transport::start(cfg).await.unwrap();
    t.send(PartyIndex(1), frame(1, 1, b"for party 1 only")).unwrap();
    let t2 = t.clone();
    eventually("client refuses the forged server", || t2.stats().rejected_handshakes >= 2).await;
    assert!(!t.is_connected(PartyIndex(1)));
    assert_eq!(t.stats().frames_out, 0);
    t.shutdown().await;
    fake.abort();
}

/// Unauthenticated connections cannot hold more than 64 handshakes; a silent one is cut at
/// `connect_timeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_handshakes_are_bounded() {
    let (ids, addrs, mut nodes) = cluster(2, Limits::default()).await;
    let server = nodes[1].0.clone();
    let mut idle = Vec::new();
    for _ in 0..64 {
        idle.push(TcpStream::connect(addrs[1]).await.unwrap());
    }
    let mut extra = TcpStream::connect(addrs[1]).await.unwrap();
    let mut b = [0u8; 1];
    let r = tokio::time::timeout(WAIT, extra.read(&mut b)).await.expect("extra connection not closed");
    assert!(matches!(r, Ok(0) | Err(_)));
    assert!(server.stats().rejected_handshakes >= 1);
    drop(idle);
    // Slots free again: genuine traffic gets through.
    nodes[0].0.send(PartyIndex(1), frame(1, 1, b"still here")).unwrap();
    let m = recv(&mut nodes[1].1).await;
    assert_eq!((m.from, m.frame.payload.as_slice()), (PartyIndex(0), &b"still here"[..]));
    let _ = ids;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connection_is_cut_at_the_handshake_timeout() {
    let id = identity("party-1");
    let mut cfg = config(1, id, "127.0.0.1:0".parse().unwrap(), vec![], Limits::default());
    cfg.connect_timeout = Duration::from_millis(200);
    let (t, _rx) = Transport::start(cfg).await.unwrap();
    let mut tcp = TcpStream::connect(t.local_addr()).await.unwrap();
    let mut b = [0u8; 1];
    let r = tokio::time::timeout(WAIT, tcp.read(&mut b)).await.expect("silent connection kept open");
    assert!(matches!(r, Ok(0) | Err(_)));
    let t2 = t.clone();
    eventually("timeout counted", || t2.stats().rejected_handshakes == 1).await;
    t.shutdown().await;
}

fn header(version: u8, channel: u8, len: u32) -> Vec<u8> {
    let mut h = vec![version, channel];
    h.extend_from_slice(&[5u8; 32]);
    h.extend_from_slice(&1u16.to_be_bytes());
    h.extend_from_slice(&len.to_be_bytes());
    assert_eq!(h.len(), HEADER_LEN);
    h
}

/// Party 1 as a real node; party 0 is played by the test with raw TLS connections (no node of
/// its own, so nothing else connects as party 0); party 2 is a real node.
async fn node_with_raw_party_0(
    limits: Limits,
) -> (TlsIdentity, [u8; 32], SocketAddr, (Transport, Receiver<Inbound>), (Transport, Receiver<Inbound>)) {
    let (id0, id1, id2) = (identity("party-0"), identity("party-1"), identity("party-2"));
    let (l1, l2) = (free_listener(), free_listener());
    let (a1, a2) = (l1.local_addr().unwrap(), l2.local_addr().unwrap());
    let nowhere: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let fp1 = id1.fingerprint();
    let peers1 = vec![spec(0, nowhere, id0.fingerprint()), spec(2, a2, id2.fingerprint())];
    let n1 = Transport::start_with_listener(config(1, id1, a1, peers1, limits.clone()), l1).await.unwrap();
    let n2 = Transport::start_with_listener(config(2, id2, a2, vec![spec(1, a1, fp1)], limits), l2).await.unwrap();
    (id0, fp1, a1, n1, n2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_close_the_connection_and_are_counted() {
    let limits = Limits { max_frame_bytes: 4096, ..Limits::default() };
    let (id0, fp1, addr1, (server, mut rx), (two, _)) = node_with_raw_party_0(limits).await;

    // Garbage (not even a header: 'G' is no version).
    let mut s = raw_client(&id0, fp1, addr1).await;
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nxxxxxxxxxxxxxxxxxxxxxxxx").await.unwrap();
    s.flush().await.unwrap();
    expect_closed(&mut s).await;
    assert_eq!(server.stats().bad_frames, 1);

    // Wrong version.
    let mut s = raw_client(&id0, fp1, addr1).await;
    s.write_all(&header(FRAME_VERSION + 1, 2, 3)).await.unwrap();
    s.write_all(b"abc").await.unwrap();
    s.flush().await.unwrap();
    expect_closed(&mut s).await;
    assert_eq!(server.stats().bad_frames, 2);

    // Unknown channel.
    let mut s = raw_client(&id0, fp1, addr1).await;
    s.write_all(&header(FRAME_VERSION, 9, 0)).await.unwrap();
    s.flush().await.unwrap();
    expect_closed(&mut s).await;
    assert_eq!(server.stats().bad_frames, 3);

    // Oversized: announced length above the limit (no payload is ever sent or allocated).
    let mut s = raw_client(&id0, fp1, addr1).await;
    s.write_all(&header(FRAME_VERSION, 2, 4097)).await.unwrap();
    s.flush().await.unwrap();
    expect_closed(&mut s).await;
    let mut s = raw_client(&id0, fp1, addr1).await;
    s.write_all(&header(FRAME_VERSION, 1, u32::MAX)).await.unwrap();
    s.flush().await.unwrap();
    expect_closed(&mut s).await;
    let st = server.stats();
    assert_eq!((st.oversized_frames, st.bad_frames, st.frames_in), (2, 3, 0));

    // A valid frame of the maximal size, then garbage: the valid one is delivered, then the
    // connection is closed.
    let mut s = raw_client(&id0, fp1, addr1).await;
    let good = frame(6, 2, &[1; 4096]).encode().unwrap();
    s.write_all(&good).await.unwrap();
    s.write_all(&[0xff; 50]).await.unwrap();
    s.flush().await.unwrap();
    let m = recv(&mut rx).await;
    assert_eq!((m.from, m.frame.round, m.frame.payload.len()), (PartyIndex(0), 2, 4096));
    expect_closed(&mut s).await;
    assert_eq!(server.stats().bad_frames, 4);

    // The node keeps working: for another peer, and for the same peer on a new connection.
    two.send(PartyIndex(1), frame(7, 3, b"from two")).unwrap();
    let m = recv(&mut rx).await;
    assert_eq!((m.from, m.frame.payload.as_slice()), (PartyIndex(2), &b"from two"[..]));
    let mut s = raw_client(&id0, fp1, addr1).await;
    s.write_all(&frame(7, 4, b"from zero").encode().unwrap()).await.unwrap();
    s.flush().await.unwrap();
    let m = recv(&mut rx).await;
    assert_eq!((m.from, m.frame.payload.as_slice()), (PartyIndex(0), &b"from zero"[..]));
    assert_eq!(server.stats().frames_in, 3);
    server.shutdown().await;
    two.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_inbound_connection_replaces_the_older() {
    let (id0, fp1, addr1, (server, mut rx), (two, _)) = node_with_raw_party_0(Limits::default()).await;
    let mut first = raw_client(&id0, fp1, addr1).await;
    first.write_all(&frame(1, 1, b"old").encode().unwrap()).await.unwrap();
    first.flush().await.unwrap();
    assert_eq!(recv(&mut rx).await.frame.payload, b"old");
    let mut second = raw_client(&id0, fp1, addr1).await;
    expect_closed(&mut first).await;
    second.write_all(&frame(1, 2, b"new").encode().unwrap()).await.unwrap();
    second.flush().await.unwrap();
    let m = recv(&mut rx).await;
    assert_eq!((m.from, m.frame.payload.as_slice()), (PartyIndex(0), &b"new"[..]));
    assert_eq!(server.stats().bad_frames, 0);
    server.shutdown().await;
    two.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_node_is_redialled_and_later_frames_arrive() {
    let (ids, addrs, nodes) = cluster(2, Limits::default()).await;
    let mut nodes = nodes.into_iter();
    let (a, mut a_rx) = nodes.next().unwrap();
    let (b, mut b_rx) = nodes.next().unwrap();
    a.send(PartyIndex(1), frame(1, 1, b"before")).unwrap();
    assert_eq!(recv(&mut b_rx).await.frame.payload, b"before");
    b.send(PartyIndex(0), frame(1, 1, b"hello a")).unwrap();
    assert_eq!(recv(&mut a_rx).await.frame.payload, b"hello a");
    assert_eq!(a.stats().reconnects, 0);

    b.shutdown().await;
    assert!(tokio::time::timeout(WAIT, b_rx.recv()).await.unwrap().is_none(), "inbound channel closes on shutdown");

    // Same identity, same port.
    let cfg = config(1, ids[1].clone(), addrs[1], vec![spec(0, addrs[0], ids[0].fingerprint())], Limits::default());
    let (b2, mut b2_rx) = Transport::start(cfg).await.unwrap();
    assert_eq!(b2.local_addr(), addrs[1]);
    let a2 = a.clone();
    eventually("party 0 redials the restarted party 1", || a2.stats().reconnects >= 1).await;
    assert!(tokio::time::timeout(WAIT, a.wait_connected(PartyIndex(1))).await.unwrap());

    a.send(PartyIndex(1), frame(2, 1, b"after")).unwrap();
    let m = recv(&mut b2_rx).await;
    assert_eq!((m.from, m.frame.payload.as_slice()), (PartyIndex(0), &b"after"[..]));
    b2.send(PartyIndex(0), frame(2, 1, b"back again")).unwrap();
    let m = recv(&mut a_rx).await;
    assert_eq!((m.from, m.frame.payload.as_slice()), (PartyIndex(1), &b"back again"[..]));
    a.shutdown().await;
    b2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_queue_while_the_peer_is_down() {
    let a_id = identity("party-0");
    let b_id = identity("party-1");
    let b_listener = free_listener();
    let b_addr = b_listener.local_addr().unwrap();
    drop(b_listener); // nobody listens there yet
    let a_cfg = config(
        0,
        a_id.clone(),
        "127.0.0.1:0".parse().unwrap(),
        vec![spec(1, b_addr, b_id.fingerprint())],
        Limits::default(),
    );
    let (a, _a_rx) = Transport::start(a_cfg).await.unwrap();
    for r in 0..10 {
        a.send(PartyIndex(1), frame(1, r, b"queued")).unwrap();
    }
    assert!(!a.is_connected(PartyIndex(1)));
    let b_cfg = config(1, b_id, b_addr, vec![spec(0, a.local_addr(), a_id.fingerprint())], Limits::default());
    let (b, mut b_rx) = Transport::start(b_cfg).await.unwrap();
    for r in 0..10 {
        assert_eq!(recv(&mut b_rx).await.frame.round, r);
    }
    assert_eq!(a.stats().reconnects, 0, "first connection is not a reconnect");
    a.shutdown().await;
    b.shutdown().await;
}

/// A peer floods a receiver that does not read: the receiver holds at most `inbound_channel + 1`
/// frames, the sender's queue fills and refuses the rest; nothing is lost that was accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_is_bounded_by_backpressure() {
    const N: u32 = 100_000;
    let limits = Limits { outbound_queue: 64, inbound_channel: 8, ..Limits::default() };
    let (_, _, nodes) = cluster(2, limits).await;
    let mut nodes = nodes.into_iter();
    let (a, _a_rx) = nodes.next().unwrap();
    let (b, mut b_rx) = nodes.next().unwrap();
    assert!(tokio::time::timeout(WAIT, a.wait_connected(PartyIndex(1))).await.unwrap());

    let (mut accepted, mut refused) = (0u32, 0u32);
    for i in 0..N {
        let f = Frame {
            channel: Channel::Protocol,
            session: SessionId([1; 32]),
            round: 0,
            payload: {
                let mut p = i.to_be_bytes().to_vec();
                p.resize(1024, 0);
                p
            },
        };
        match a.send(PartyIndex(1), f) {
            Ok(()) => accepted += 1,
            Err(SendError::QueueFull) => refused += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    eprintln!("flood: {accepted} accepted, {refused} refused");
    assert_eq!(accepted + refused, N);
    assert!(refused > 0, "100k frames of 1 KiB must overflow queue + socket buffers");
    assert_eq!(a.stats().queue_full_drops, u64::from(refused));
    // The receiver never held more than the channel plus the one frame waiting for room.
    assert!(b.stats().frames_in <= 8 + 1, "{:?}", b.stats());
    assert!(a.stats().frames_out <= u64::from(accepted));

    // Everything accepted arrives, in order, once the receiver reads.
    let mut last = None;
    for _ in 0..accepted {
        let m = recv(&mut b_rx).await;
        let seq = u32::from_be_bytes(m.frame.payload[..4].try_into().unwrap());
        assert!(last.is_none_or(|l| seq > l), "out of order");
        last = Some(seq);
    }
    assert_eq!(b.stats().frames_in, u64::from(accepted));
    assert_eq!(a.stats().lost_frames, 0);
    a.shutdown().await;
    b.shutdown().await;
}

// ---- EarlyBuffer -------------------------------------------------------------------------------

fn msg(from: u16, session: u8, round: u16, len: usize) -> Inbound {
    Inbound { from: PartyIndex(from), frame: frame(session, round, &vec![0; len]) }
}

#[test]
fn early_buffer_per_peer_frame_bound() {
    let limits = Limits { early_frames_per_peer: 3, early_bytes_per_peer: 1 << 20, ..Limits::default() };
    let mut b = EarlyBuffer::new(&limits);
    for r in 0..3 {
        assert!(b.push(msg(1, 1, r, 10)));
    }
    assert!(!b.push(msg(1, 2, 9, 10)), "fourth frame from party 1");
    assert!(b.push(msg(2, 2, 0, 10)), "party 2 has its own budget");
    assert_eq!((b.len(), b.dropped()), (4, 1));
    // Taking a session frees the budget.
    assert_eq!(b.take_session(&SessionId([1; 32])).len(), 3);
    assert!(b.push(msg(1, 2, 9, 10)));
    assert_eq!(b.held_from(PartyIndex(1)), 1);
}

#[test]
fn early_buffer_per_peer_byte_bound() {
    let limits = Limits { early_frames_per_peer: 100, early_bytes_per_peer: 1000, ..Limits::default() };
    let mut b = EarlyBuffer::new(&limits);
    assert!(b.push(msg(1, 1, 0, 600)));
    assert!(!b.push(msg(1, 1, 1, 401)), "would exceed 1000 bytes");
    assert!(b.push(msg(1, 1, 2, 400)), "exactly 1000 bytes");
    assert!(!b.push(msg(1, 1, 3, 1)));
    assert!(!b.push(msg(2, 1, 0, 1001)), "a single frame above the bound");
    assert!(b.push(msg(2, 1, 0, 1000)));
    assert_eq!((b.len(), b.dropped()), (3, 3));
}

#[test]
fn early_buffer_take_keeps_arrival_order_per_session() {
    let mut b = EarlyBuffer::new(&Limits::default());
    let order = [(2, 1, 5), (1, 2, 1), (1, 1, 3), (3, 1, 1), (2, 2, 2), (1, 1, 0)];
    for (from, session, round) in order {
        assert!(b.push(msg(from, session, round, 1)));
    }
    let got: Vec<(u16, u16)> = b.take_session(&SessionId([1; 32])).iter().map(|m| (m.from.0, m.frame.round)).collect();
    assert_eq!(got, vec![(2, 5), (1, 3), (3, 1), (1, 0)]);
    assert!(b.take_session(&SessionId([1; 32])).is_empty());
    assert_eq!(b.len(), 2);
    assert!(b.take_session(&SessionId([42; 32])).is_empty());
}

#[test]
fn early_buffer_drop_session_and_counting() {
    let limits = Limits { early_frames_per_peer: 2, ..Limits::default() };
    let mut b = EarlyBuffer::new(&limits);
    assert!(b.is_empty());
    assert!(b.push(msg(1, 1, 0, 5)));
    assert!(b.push(msg(1, 2, 0, 5)));
    assert!(!b.push(msg(1, 3, 0, 5)));
    assert!(!b.push(msg(1, 3, 1, 5)));
    assert_eq!(b.dropped(), 2);
    b.drop_session(&SessionId([1; 32]));
    assert_eq!((b.len(), b.discarded(), b.dropped()), (1, 1, 2));
    assert!(b.push(msg(1, 3, 0, 5)), "budget freed by drop_session");
    b.drop_session(&SessionId([2; 32]));
    b.drop_session(&SessionId([3; 32]));
    assert!(b.is_empty());
    assert_eq!(b.held_from(PartyIndex(1)), 0);
}

// ---- Frame decoding ----------------------------------------------------------------------------

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), max in 0usize..100) {
        match Frame::decode(&bytes, max) {
            Ok((f, used)) => {
                prop_assert!(used <= bytes.len());
                prop_assert!(f.payload.len() <= max);
                prop_assert_eq!(&f.encode().unwrap()[..], &bytes[..used]);
            }
            Err(FrameError::Oversized { len, max: m }) => prop_assert!(len > m),
            Err(_) => {}
        }
    }

    #[test]
    fn decoding_mutated_valid_frames_never_panics(
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        pos in 0usize..104,
        byte in any::<u8>(),
        cut in 0usize..104,
    ) {
        let mut bytes = frame(3, 7, &payload).encode().unwrap();
        if let Some(b) = bytes.get_mut(pos) {
            *b = byte;
        }
        bytes.truncate(cut);
        let _ = Frame::decode(&bytes, 64);
    }

    #[test]
    fn frames_round_trip(
        control in any::<bool>(),
        session in any::<[u8; 32]>(),
        round in any::<u16>(),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let f = Frame {
            channel: if control { Channel::Control } else { Channel::Protocol },
            session: SessionId(session),
            round,
            payload,
        };
        let bytes = f.encode().unwrap();
        prop_assert_eq!(Frame::decode(&bytes, 300).unwrap(), (f, bytes.len()));
    }
}

#[test]
fn identity_pem_round_trip_keeps_the_pin() {
    let id = identity("party-9");
    let again = TlsIdentity::from_pem(&id.cert_pem(), &id.key_pem()).unwrap();
    assert_eq!(again.fingerprint(), id.fingerprint());
    assert!(id.cert_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(id.key_pem().starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let shown = format!("{id:?}");
    assert!(!shown.contains(id.key_pem().lines().nth(1).unwrap()));
    let _ = Arc::new(id);
}

#[test]
fn starting_outside_a_tokio_runtime_is_an_error_not_a_panic() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let cfg = config(0, identity("a"), "127.0.0.1:0".parse().unwrap(), vec![], Limits::default());
    let mut fut = std::pin::pin!(Transport::start(cfg));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Err(TransportError::NoRuntime)) => {}
        other => panic!("expected NoRuntime, got {:?}", other.map(|r| r.map(|_| ()))),
    }
}
