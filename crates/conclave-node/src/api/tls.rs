//! HTTPS for the client API: the node's own certificate (the one peers pin), TLS 1.3, the
//! `ring` provider, and an *optional* client certificate.
//!
//! Any client certificate is accepted at the TLS layer as long as the client proves it holds
//! its key (the handshake signature is verified); whether it names a client is decided after
//! the handshake, by its SHA-256 in the node's policy (`Node::authenticate_cert`). No CA, no
//! chain, no names: like the peer links, the pin is the trust decision.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::error::NodeError;
use crate::transport::tls::provider;
use crate::transport::TlsIdentity;

/// ALPN of the API.
const ALPN_HTTP1: &[u8] = b"http/1.1";

fn tls_err(e: impl core::fmt::Display) -> NodeError {
    NodeError::Transport(format!("API TLS: {e}"))
}

/// The server configuration of the API.
pub(crate) fn server_config(identity: &TlsIdentity) -> Result<Arc<rustls::ServerConfig>, NodeError> {
    let provider = provider();
    let cert = CertificateDer::from(identity.cert_der().to_vec());
    let key_pem = identity.key_pem();
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(tls_err)?;
    let verifier = Arc::new(OptionalClientCert { provider: provider.clone() });
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert], key)
        .map_err(tls_err)?;
    cfg.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    cfg.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    cfg.send_tls13_tickets = 0;
    Ok(Arc::new(cfg))
}

/// Asks for a client certificate, does not require one, accepts any whose key signs the
/// handshake.
#[derive(Debug)]
struct OptionalClientCert {
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for OptionalClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // The fingerprint is matched against the policy after the handshake.
        Ok(ClientCertVerified::assertion())
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
