//! STUB (not committed): the API the transport helper builds.
#![allow(missing_docs, dead_code, unused_variables, missing_debug_implementations)]
use conclave_protocol::{PartyIndex, SessionId};
use std::time::Duration;
pub const FRAME_VERSION: u8 = 1;
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Control,
    Protocol,
}
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub channel: Channel,
    pub session: SessionId,
    pub round: u16,
    pub payload: Vec<u8>,
}
#[derive(Debug)]
pub struct Inbound {
    pub from: PartyIndex,
    pub frame: Frame,
}
#[derive(Debug)]
pub struct TlsIdentity;
impl TlsIdentity {
    pub fn generate_self_signed(common_name: &str) -> Result<Self, TransportError> {
        Ok(Self)
    }
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, TransportError> {
        Ok(Self)
    }
    pub fn cert_pem(&self) -> String {
        String::new()
    }
    pub fn key_pem(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new(String::new())
    }
    pub fn fingerprint(&self) -> [u8; 32] {
        [0; 32]
    }
}
#[derive(Clone, Debug)]
pub struct PeerSpec {
    pub index: PartyIndex,
    pub addr: String,
    pub cert_sha256: [u8; 32],
}
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_frame_bytes: usize,
    pub outbound_queue: usize,
    pub early_frames_per_peer: usize,
    pub early_bytes_per_peer: usize,
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
#[derive(Debug)]
pub struct TransportConfig {
    pub me: PartyIndex,
    pub listen: std::net::SocketAddr,
    pub identity: TlsIdentity,
    pub peers: Vec<PeerSpec>,
    pub limits: Limits,
    pub connect_timeout: Duration,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
}
#[derive(Clone, Debug)]
pub struct Transport;
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("x")]
    X,
}
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("unknown")]
    UnknownPeer,
    #[error("full")]
    QueueFull,
}
#[derive(Debug, Clone, Default)]
pub struct TransportStats {
    pub frames_in: u64,
    pub frames_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub rejected_handshakes: u64,
    pub bad_frames: u64,
    pub oversized_frames: u64,
    pub queue_full_drops: u64,
    pub reconnects: u64,
}
impl Transport {
    pub async fn start(
        cfg: TransportConfig,
    ) -> Result<(Transport, tokio::sync::mpsc::Receiver<Inbound>), TransportError> {
        Err(TransportError::X)
    }
    pub fn local_addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], 0).into()
    }
    pub fn send(&self, to: PartyIndex, frame: Frame) -> Result<(), SendError> {
        Ok(())
    }
    pub fn stats(&self) -> TransportStats {
        TransportStats::default()
    }
    pub async fn shutdown(self) {}
}
#[derive(Debug)]
pub struct EarlyBuffer;
impl EarlyBuffer {
    pub fn new(limits: &Limits) -> Self {
        Self
    }
    pub fn push(&mut self, msg: Inbound) -> bool {
        true
    }
    pub fn take_session(&mut self, session: &SessionId) -> Vec<Inbound> {
        vec![]
    }
    pub fn drop_session(&mut self, session: &SessionId) {}
    pub fn dropped(&self) -> u64 {
        0
    }
    pub fn len(&self) -> usize {
        0
    }
    pub fn is_empty(&self) -> bool {
        true
    }
}
