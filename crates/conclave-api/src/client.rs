//! A typed async client of the node's API.
//!
//! HTTPS over `tokio-rustls` (TLS 1.3, the `ring` provider, never a process-wide default) with
//! `hyper` 1, one connection per request. The node's certificate is normally self-signed, so the
//! client trusts it by its SHA-256 pin ([`Trust::PinSha256`]) or by a PEM file that holds it or
//! the CA that issued it ([`Trust::CaPem`]); there is no implicit trust in public CAs. Requests
//! authenticate with a bearer token, a client certificate, or both.
//!
//! ```no_run
//! # async fn demo() -> Result<(), conclave_api::ClientError> {
//! use conclave_api::{Client, ClientOptions, CreateKeyRequest, Scheme, Trust};
//! let client = Client::new(ClientOptions {
//!     token: Some("…".into()),
//!     trust: Trust::PinSha256([0u8; 32]),
//!     ..ClientOptions::new("https://127.0.0.1:8100")
//! })?;
//! let key = client.create_key(&CreateKeyRequest { scheme: Scheme::Ed25519, threshold: 2, parties: None }).await?;
//! println!("{}", key.key_id);
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ErrorBody;
use crate::hex::Hex;
use crate::types::*;

/// The largest response body the client reads.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The node answered with an error body (its stable code, message, culprits, refuser).
    #[error("{body}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: ErrorBody,
    },
    /// The node answered with an unexpected status and no error body.
    #[error("HTTP {status}: {text}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        text: String,
    },
    /// The options are unusable (bad URL, unreadable PEM, missing trust for HTTPS).
    #[error("client configuration: {0}")]
    Config(String),
    /// Connecting, TLS or HTTP failed.
    #[error("connection to the node: {0}")]
    Transport(String),
    /// The call took longer than the client's timeout.
    #[error("no answer from the node within {0:?}")]
    Timeout(Duration),
    /// A success body that does not parse.
    #[error("unexpected response body: {0}")]
    Decode(String),
}

impl ClientError {
    /// The node's error body, if it sent one.
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            ClientError::Api { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// How the client trusts the node's HTTPS certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// The SHA-256 of the node's certificate (DER): its `tls_cert_sha256` in the cluster
    /// configuration.
    PinSha256([u8; 32]),
    /// A PEM file's certificates: the node's own certificate (matched exactly), or a CA that
    /// issued it (full WebPKI verification, including the host name).
    CaPem(String),
    /// No HTTPS trust configured: only `http://` URLs work.
    None,
}

/// A client certificate and its private key, in PEM.
#[derive(Clone)]
pub struct ClientIdentity {
    /// The certificate chain (first: the client's own certificate).
    pub cert_pem: String,
    /// The private key (PKCS#8, SEC1 or PKCS#1).
    pub key_pem: String,
}

impl core::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientIdentity").field("key_pem", &"<redacted>").finish_non_exhaustive()
    }
}

/// How to reach and authenticate to a node.
#[derive(Clone)]
pub struct ClientOptions {
    /// `https://host:port` (or `http://` for a loopback node without TLS).
    pub node: String,
    /// A bearer token of a client in the node's policy.
    pub token: Option<String>,
    /// How to trust the node's certificate.
    pub trust: Trust,
    /// A client certificate (its SHA-256 listed in the node's policy).
    pub identity: Option<ClientIdentity>,
    /// How long one call may take (key generation with aux-info takes minutes).
    pub timeout: Duration,
}

impl core::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("node", &self.node)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("trust", &self.trust)
            .field("identity", &self.identity)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ClientOptions {
    /// Options for `node` with no credentials, no trust and a 10-minute timeout.
    pub fn new(node: impl Into<String>) -> Self {
        Self { node: node.into(), token: None, trust: Trust::None, identity: None, timeout: Duration::from_secs(600) }
    }
}

/// A raw response (status and body), for callers that look at both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// A client of one node.
#[derive(Clone)]
pub struct Client {
    host: String,
    port: u16,
    authority: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    server_name: Option<ServerName<'static>>,
    token: Option<String>,
    timeout: Duration,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("authority", &self.authority)
            .field("https", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

fn config_err(e: impl core::fmt::Display) -> ClientError {
    ClientError::Config(e.to_string())
}

/// Checks that `id` is hex (so it cannot change the request path) and returns it lowercased.
fn id_segment(what: &str, id: &str) -> Result<String, ClientError> {
    Hex::parse(id).map(|h| h.to_string()).map_err(|e| ClientError::Config(format!("{what} `{id}`: {e}")))
}

impl Client {
    /// Builds a client; nothing is sent yet.
    pub fn new(options: ClientOptions) -> Result<Self, ClientError> {
        let uri: Uri = options.node.trim_end_matches('/').parse().map_err(|e| config_err(format!("node URL: {e}")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(config_err("node URL must start with https:// or http://")),
        };
        if uri.path_and_query().is_some_and(|p| p.as_str() != "/" && !p.as_str().is_empty()) {
            return Err(config_err("node URL must be scheme://host:port with no path"));
        }
        let authority = uri.authority().ok_or_else(|| config_err("node URL has no host"))?.to_string();
        let host_raw = uri.host().ok_or_else(|| config_err("node URL has no host"))?;
        let host = host_raw.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let (tls, server_name) = if https {
            let cfg = tls_config(&options.trust, options.identity.as_ref())?;
            let name = ServerName::try_from(host.clone()).map_err(|e| config_err(format!("node host: {e}")))?;
            (Some(cfg), Some(name))
        } else {
            (None, None)
        };
        Ok(Self { host, port, authority, tls, server_name, token: options.token, timeout: options.timeout })
    }

    /// Sends one request and returns the raw response.
    pub async fn raw(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> Result<RawResponse, ClientError> {
        let fut = self.raw_inner(method, path_and_query, body);
        tokio::time::timeout(self.timeout, fut).await.map_err(|_| ClientError::Timeout(self.timeout))?
    }

    async fn raw_inner(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> Result<RawResponse, ClientError> {
        let mut req = Request::builder().method(method).uri(path_and_query).header(HOST, &self.authority);
        req = req.header(ACCEPT, "application/json");
        if let Some(t) = &self.token {
            let mut v = HeaderValue::from_str(&format!("Bearer {t}"))
                .map_err(|_| config_err("the token has characters not allowed in a header"))?;
            v.set_sensitive(true);
            req = req.header(AUTHORIZATION, v);
        }
        let body = match body {
            Some((bytes, content_type)) => {
                req = req.header(CONTENT_TYPE, content_type);
                Full::new(Bytes::from(bytes))
            }
            None => Full::new(Bytes::new()),
        };
        let req = req.body(body).map_err(|e| config_err(format!("request: {e}")))?;
        let transport = |e: &dyn core::fmt::Display| ClientError::Transport(e.to_string());
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| ClientError::Transport(format!("connect {}:{}: {e}", self.host, self.port)))?;
        let _ = tcp.set_nodelay(true);
        let response = match (&self.tls, &self.server_name) {
            (Some(cfg), Some(name)) => {
                let stream = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| ClientError::Transport(format!("TLS: {e}")))?;
                send(TokioIo::new(stream), req).await?
            }
            _ => send(TokioIo::new(tcp), req).await?,
        };
        let status = response.status().as_u16();
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| transport(&format!("reading the response: {e}")))?
            .to_bytes()
            .to_vec();
        Ok(RawResponse { status, content_type, body })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, ClientError> {
        let body = match body {
            Some(b) => Some((serde_json::to_vec(b).map_err(config_err)?, "application/json")),
            None => None,
        };
        let r = self.raw(method, path, body).await?;
        decode(r)
    }

    /// `POST /v1/keys`: generates a key with no dealer.
    pub async fn create_key(&self, req: &CreateKeyRequest) -> Result<KeyView, ClientError> {
        self.call(Method::POST, "/v1/keys", Some(req)).await
    }

    /// `GET /v1/keys`.
    pub async fn keys(&self) -> Result<KeyList, ClientError> {
        self.call(Method::GET, "/v1/keys", None::<&()>).await
    }

    /// `GET /v1/keys/{key_id}`.
    pub async fn key(&self, key_id: &str) -> Result<KeyView, ClientError> {
        let path = format!("/v1/keys/{}", id_segment("key id", key_id)?);
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `POST /v1/keys/{key_id}/sign`.
    pub async fn sign(&self, key_id: &str, req: &SignRequest) -> Result<SignatureView, ClientError> {
        let path = format!("/v1/keys/{}/sign", id_segment("key id", key_id)?);
        self.call(Method::POST, &path, Some(req)).await
    }

    /// `POST /v1/keys/{key_id}/refresh`.
    pub async fn refresh(&self, key_id: &str, req: &RefreshRequest) -> Result<ReshareView, ClientError> {
        let path = format!("/v1/keys/{}/refresh", id_segment("key id", key_id)?);
        self.call(Method::POST, &path, Some(req)).await
    }

    /// `POST /v1/keys/{key_id}/reshare`.
    pub async fn reshare(&self, key_id: &str, req: &ReshareRequest) -> Result<ReshareView, ClientError> {
        let path = format!("/v1/keys/{}/reshare", id_segment("key id", key_id)?);
        self.call(Method::POST, &path, Some(req)).await
    }

    /// `GET /v1/keys/{key_id}/presignatures`.
    pub async fn presignatures(&self, key_id: &str) -> Result<PresignaturePool, ClientError> {
        let path = format!("/v1/keys/{}/presignatures", id_segment("key id", key_id)?);
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `GET /v1/sessions`.
    pub async fn sessions(&self) -> Result<SessionList, ClientError> {
        self.call(Method::GET, "/v1/sessions", None::<&()>).await
    }

    /// `GET /v1/sessions/{id}`.
    pub async fn session(&self, id: &str) -> Result<SessionView, ClientError> {
        let path = format!("/v1/sessions/{}", id_segment("session id", id)?);
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `GET /v1/audit?from=&limit=`.
    pub async fn audit(&self, from: u64, limit: Option<usize>) -> Result<AuditList, ClientError> {
        let path = match limit {
            Some(l) => format!("/v1/audit?from={from}&limit={l}"),
            None => format!("/v1/audit?from={from}"),
        };
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// `GET /metrics` (Prometheus text).
    pub async fn metrics(&self) -> Result<String, ClientError> {
        text(self.raw(Method::GET, "/metrics", None).await?)
    }

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<String, ClientError> {
        text(self.raw(Method::GET, "/healthz", None).await?)
    }

    /// `GET /openapi.json`.
    pub async fn openapi(&self) -> Result<serde_json::Value, ClientError> {
        self.call(Method::GET, "/openapi.json", None::<&()>).await
    }
}

async fn send<I>(io: I, req: Request<Full<Bytes>>) -> Result<hyper::Response<hyper::body::Incoming>, ClientError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(io).await.map_err(|e| ClientError::Transport(format!("HTTP: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender.send_request(req).await.map_err(|e| ClientError::Transport(format!("HTTP: {e}")))
}

fn error_of(r: &RawResponse) -> ClientError {
    match serde_json::from_slice::<ErrorBody>(&r.body) {
        Ok(body) => ClientError::Api { status: r.status, body },
        Err(_) => {
            let text: String = String::from_utf8_lossy(&r.body).chars().take(500).collect();
            ClientError::Http { status: r.status, text }
        }
    }
}

fn decode<T: DeserializeOwned>(r: RawResponse) -> Result<T, ClientError> {
    if !(200..300).contains(&r.status) {
        return Err(error_of(&r));
    }
    serde_json::from_slice(&r.body).map_err(|e| ClientError::Decode(e.to_string()))
}

fn text(r: RawResponse) -> Result<String, ClientError> {
    if !(200..300).contains(&r.status) {
        return Err(error_of(&r));
    }
    String::from_utf8(r.body).map_err(|e| ClientError::Decode(e.to_string()))
}

/// The SHA-256 of a DER certificate (what `--pin-sha256` names).
pub fn cert_sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Parses the certificates of a PEM text.
pub fn pem_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_err(format!("certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(config_err("no CERTIFICATE block in the PEM"));
    }
    Ok(certs)
}

fn tls_config(trust: &Trust, identity: Option<&ClientIdentity>) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = match trust {
        Trust::PinSha256(pin) => NodeVerifier { pins: vec![*pin], webpki: None, provider: provider.clone() },
        Trust::CaPem(pem) => {
            let certs = pem_certs(pem)?;
            let pins = certs.iter().map(|c| cert_sha256(c)).collect();
            let mut roots = rustls::RootCertStore::empty();
            let (added, _ignored) = roots.add_parsable_certificates(certs);
            let webpki = if added > 0 {
                rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .ok()
            } else {
                None
            };
            NodeVerifier { pins, webpki, provider: provider.clone() }
        }
        Trust::None => {
            return Err(config_err(
                "HTTPS needs a trust decision for the node's certificate: a SHA-256 pin (--pin-sha256) \
                 or a PEM file (--ca-cert)",
            ))
        }
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(config_err)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut cfg = match identity {
        Some(id) => {
            let certs = pem_certs(&id.cert_pem)?;
            let key = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes())
                .map_err(|e| config_err(format!("client key PEM: {e}")))?;
            builder.with_client_auth_cert(certs, key).map_err(|e| config_err(format!("client certificate: {e}")))?
        }
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Accepts the node's certificate if its SHA-256 is pinned, or else if it verifies under the
/// given roots (WebPKI, with the host name). The handshake signature is always checked, so a
/// copied certificate without its private key is refused.
#[derive(Debug)]
struct NodeVerifier {
    pins: Vec<[u8; 32]>,
    webpki: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for NodeVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.pins.contains(&cert_sha256(end_entity)) {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.webpki {
            Some(w) => w.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now),
            None => Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_and_trust_are_checked() {
        let ok = |u: &str, t: Trust| Client::new(ClientOptions { trust: t, ..ClientOptions::new(u) });
        assert!(ok("http://127.0.0.1:8100", Trust::None).is_ok());
        assert!(matches!(ok("https://127.0.0.1:8100", Trust::None), Err(ClientError::Config(_))));
        assert!(ok("https://127.0.0.1:8100/", Trust::PinSha256([1; 32])).is_ok());
        assert!(ok("https://[::1]:8100", Trust::PinSha256([1; 32])).is_ok());
        assert!(matches!(ok("ftp://x", Trust::None), Err(ClientError::Config(_))));
        assert!(matches!(ok("https://x:1/v1", Trust::PinSha256([1; 32])), Err(ClientError::Config(_))));
        assert!(matches!(ok("https://x:1", Trust::CaPem("junk".into())), Err(ClientError::Config(_))));
        assert!(matches!(id_segment("key id", "../etc"), Err(ClientError::Config(_))));
        assert_eq!(id_segment("key id", "AB").unwrap(), "ab");
        let dbg = format!("{:?}", ClientOptions { token: Some("s3cret".into()), ..ClientOptions::new("http://x") });
        assert!(!dbg.contains("s3cret"));
    }
}
