//! TLS for peer links: TLS 1.3 only, the `ring` provider set explicitly, mutual authentication
//! against pinned certificate fingerprints (no public CA, no certificate chains, no names).
//!
//! * As a client we dial one particular peer, so the server verifier accepts exactly that peer's
//!   fingerprint: a node answering on the address of party 2 with the certificate of party 3 is
//!   refused.
//! * As a server we accept any of the pinned peer fingerprints; the fingerprint of the client
//!   certificate then decides which party is speaking ([`PeerDirectory`]).
//!
//! Both verifiers still check the TLS 1.3 handshake signature with the provider's algorithms
//! (`rustls::crypto::verify_tls13_signature`), so presenting a pinned certificate without its
//! private key fails. Validity dates, names and key usages are not checked: the pin is the trust
//! decision, and rotation is a configuration change.

use core::fmt;
use std::collections::BTreeMap;
use std::sync::Arc;

use conclave_protocol::PartyIndex;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::TransportError;

/// ALPN protocol id of peer links; a client offering anything else is refused.
pub const ALPN_PEER: &[u8] = b"conclave-peer/1";

/// Server name used for the (ignored) SNI/verification API; SNI is not sent.
pub const PEER_SERVER_NAME: &str = "conclave-peer";

/// SHA-256 of a DER certificate: the value peers pin.
pub fn fingerprint(cert_der: &[u8]) -> [u8; 32] {
    Sha256::digest(cert_der).into()
}

/// The crypto provider used for every peer link: `ring`, never a process-wide default.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Our certificate (DER) and private key. The key is zeroized on drop and never printed.
pub struct TlsIdentity {
    cert: CertificateDer<'static>,
    key: Zeroizing<PrivateKeyDer<'static>>,
    fingerprint: [u8; 32],
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("fingerprint", &hex::encode(self.fingerprint))
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Clone for TlsIdentity {
    fn clone(&self) -> Self {
        Self { cert: self.cert.clone(), key: Zeroizing::new(self.key.clone_key()), fingerprint: self.fingerprint }
    }
}

impl TlsIdentity {
    /// A fresh Ed25519 key and a self-signed certificate with `common_name` as subject CN.
    pub fn generate_self_signed(common_name: &str) -> Result<Self, TransportError> {
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
            .map_err(|e| TransportError::CertGeneration(e.to_string()))?;
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
        let cert = params.self_signed(&key_pair).map_err(|e| TransportError::CertGeneration(e.to_string()))?;
        let key = PrivateKeyDer::Pkcs8(key_pair.serialize_der().into());
        Self::new(cert.der().clone(), key)
    }

    /// Loads a certificate (exactly one `CERTIFICATE` block) and its private key (PKCS#8, SEC1
    /// or PKCS#1). Fails if either does not parse, if the key is not usable with the `ring`
    /// provider, or if the key does not belong to the certificate.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, TransportError> {
        use rustls::pki_types::pem::PemObject;
        let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TransportError::BadPem(format!("certificate: {e}")))?;
        let mut certs = certs.into_iter();
        let cert = match (certs.next(), certs.next()) {
            (Some(c), None) => c,
            (None, _) => return Err(TransportError::BadPem("no CERTIFICATE block found".into())),
            (Some(_), Some(_)) => {
                return Err(TransportError::BadPem("more than one certificate; give only our own".into()))
            }
        };
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| match e {
            rustls::pki_types::pem::Error::NoItemsFound => TransportError::BadPem("no PRIVATE KEY block found".into()),
            other => TransportError::BadPem(format!("private key: {other}")),
        })?;
        Self::new(cert, key)
    }

    fn new(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> Result<Self, TransportError> {
        let key = Zeroizing::new(key);
        // Loads the key with the provider and compares its public key with the certificate's.
        rustls::sign::CertifiedKey::from_der(vec![cert.clone()], key.clone_key(), &provider())
            .map_err(|e| TransportError::BadKey(e.to_string()))?;
        let fingerprint = fingerprint(&cert);
        Ok(Self { cert, key, fingerprint })
    }

    /// The certificate in PEM.
    pub fn cert_pem(&self) -> String {
        let mut out = String::new();
        pem_encode(&mut out, "CERTIFICATE", &self.cert);
        out
    }

    /// The private key in PEM (same encoding as loaded; PKCS#8 for generated keys).
    pub fn key_pem(&self) -> Zeroizing<String> {
        let label = match &*self.key {
            PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
            PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
            PrivateKeyDer::Pkcs8(_) => "PRIVATE KEY",
            _ => "PRIVATE KEY",
        };
        let mut out = Zeroizing::new(String::new());
        pem_encode(&mut out, label, self.key.secret_der());
        out
    }

    /// SHA-256 of the certificate DER: what peers pin.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// The certificate in DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert
    }
}

/// PEM with 64-column lines. The base64 mapping is branch- and table-free so that encoding a
/// private key does not leak it through the cache; `out` is reserved up front so the buffer
/// holding key material never reallocates (and leaves no unzeroized copy behind).
fn pem_encode(out: &mut String, label: &str, der: &[u8]) {
    let b64_len = der.len().div_ceil(3).saturating_mul(4);
    out.reserve(b64_len.saturating_add(b64_len / 64).saturating_add(2 * label.len()).saturating_add(40));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut col = 0usize;
    for chunk in der.chunks(3) {
        let mut b = [0u8; 3];
        for (slot, v) in b.iter_mut().zip(chunk) {
            *slot = *v;
        }
        let [b0, b1, b2] = b;
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let mut sextets = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        let emit = chunk.len().saturating_add(1);
        for (i, s) in sextets.iter().enumerate() {
            out.push(if i < emit { b64_char(*s) } else { '=' });
        }
        sextets.zeroize();
        b.zeroize();
        col = col.saturating_add(4);
        if col == 64 {
            out.push('\n');
            col = 0;
        }
    }
    if col != 0 {
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
}

/// Constant-time base64 digit for a value in 0..64.
fn b64_char(v: u32) -> char {
    // Masks are all-ones when the condition holds.
    let ge = |x: u32, k: u32| 0u32.wrapping_sub((x.wrapping_sub(k) >> 31) ^ 1);
    let mut c = v.wrapping_add(u32::from(b'A'));
    c = c.wrapping_add(ge(v, 26) & 6u32); // 'a' - 'A' - 26
    c = c.wrapping_sub(ge(v, 52) & 75u32); // 'a' + 26 - '0'
    c = c.wrapping_sub(ge(v, 62) & 15u32); // '0' + 10 - '+'
    c = c.wrapping_add(ge(v, 63) & 3u32); // '+' + 1 -> '/'
    char::from(c as u8)
}

/// The pinned peers, by certificate fingerprint.
#[derive(Clone, Debug, Default)]
pub struct PeerDirectory {
    by_fingerprint: BTreeMap<[u8; 32], PartyIndex>,
}

impl PeerDirectory {
    /// Builds the directory; a fingerprint may be pinned for one party only.
    pub fn new(pins: impl IntoIterator<Item = (PartyIndex, [u8; 32])>) -> Result<Self, TransportError> {
        let mut by_fingerprint = BTreeMap::new();
        for (party, fp) in pins {
            if let Some(other) = by_fingerprint.insert(fp, party) {
                return Err(TransportError::InvalidConfig(format!(
                    "{other} and {party} pin the same certificate {}",
                    hex::encode(fp)
                )));
            }
        }
        Ok(Self { by_fingerprint })
    }

    /// The party whose pinned certificate is `cert_der`, if any.
    pub fn party_of(&self, cert_der: &[u8]) -> Option<PartyIndex> {
        self.by_fingerprint.get(&fingerprint(cert_der)).copied()
    }
}

fn not_pinned() -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
}

fn tls12_refused() -> rustls::Error {
    rustls::Error::General("peer links accept TLS 1.3 only".into())
}

/// Server-certificate verifier for dialing one peer: accepts exactly one fingerprint.
#[derive(Debug)]
struct PinnedServerVerifier {
    expected: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if fingerprint(end_entity) == self.expected {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(not_pinned())
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(tls12_refused())
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

/// Client-certificate verifier for accepting: accepts any pinned peer fingerprint, requires a
/// certificate.
#[derive(Debug)]
struct PinnedClientVerifier {
    peers: PeerDirectory,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for PinnedClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        match self.peers.party_of(end_entity) {
            Some(_) => Ok(ClientCertVerified::assertion()),
            None => Err(not_pinned()),
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(tls12_refused())
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

fn tls_err(e: rustls::Error) -> TransportError {
    TransportError::Tls(e.to_string())
}

/// Client configuration for dialing the peer whose certificate has fingerprint `server_pin`.
pub fn client_config(
    identity: &TlsIdentity,
    server_pin: [u8; 32],
) -> Result<Arc<rustls::ClientConfig>, TransportError> {
    let provider = provider();
    let verifier = Arc::new(PinnedServerVerifier { expected: server_pin, provider: provider.clone() });
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![identity.cert.clone()], identity.key.clone_key())
        .map_err(tls_err)?;
    cfg.alpn_protocols = vec![ALPN_PEER.to_vec()];
    cfg.enable_sni = false;
    cfg.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(cfg))
}

/// Server configuration accepting exactly the clients in `peers`.
pub fn server_config(
    identity: &TlsIdentity,
    peers: PeerDirectory,
) -> Result<Arc<rustls::ServerConfig>, TransportError> {
    let provider = provider();
    let verifier = Arc::new(PinnedClientVerifier { peers, provider: provider.clone() });
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![identity.cert.clone()], identity.key.clone_key())
        .map_err(tls_err)?;
    cfg.alpn_protocols = vec![ALPN_PEER.to_vec()];
    cfg.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    cfg.send_tls13_tickets = 0;
    Ok(Arc::new(cfg))
}

/// The `ServerName` handed to the connector (verification ignores it; SNI is off).
pub fn peer_server_name() -> Result<ServerName<'static>, TransportError> {
    ServerName::try_from(PEER_SERVER_NAME).map_err(|e| TransportError::Tls(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_reference_alphabet() {
        const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (v, c) in STD.iter().enumerate() {
            assert_eq!(b64_char(v as u32), char::from(*c));
        }
        let mut s = String::new();
        pem_encode(&mut s, "X", b"foobar!");
        assert_eq!(s, "-----BEGIN X-----\nZm9vYmFyIQ==\n-----END X-----\n");
    }

    #[test]
    fn generated_identity_round_trips_through_pem() {
        let id = TlsIdentity::generate_self_signed("party-0").unwrap();
        let again = TlsIdentity::from_pem(&id.cert_pem(), &id.key_pem()).unwrap();
        assert_eq!(id.fingerprint(), again.fingerprint());
        assert_eq!(id.fingerprint(), fingerprint(id.cert_der()));
    }

    #[test]
    fn debug_is_redacted() {
        let id = TlsIdentity::generate_self_signed("party-0").unwrap();
        let dbg = format!("{id:?}");
        assert!(dbg.contains("redacted"));
        let key = id.key_pem();
        let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(!dbg.contains(&body[..16]));
    }

    #[test]
    fn mismatched_key_and_garbage_are_rejected() {
        let a = TlsIdentity::generate_self_signed("a").unwrap();
        let b = TlsIdentity::generate_self_signed("b").unwrap();
        assert!(matches!(TlsIdentity::from_pem(&a.cert_pem(), &b.key_pem()), Err(TransportError::BadKey(_))));
        assert!(matches!(TlsIdentity::from_pem("nothing", &a.key_pem()), Err(TransportError::BadPem(_))));
        assert!(matches!(TlsIdentity::from_pem(&a.cert_pem(), "nothing"), Err(TransportError::BadPem(_))));
        let two = format!("{}{}", a.cert_pem(), b.cert_pem());
        assert!(matches!(TlsIdentity::from_pem(&two, &a.key_pem()), Err(TransportError::BadPem(_))));
    }

    #[test]
    fn duplicate_pins_are_refused() {
        let r = PeerDirectory::new([(PartyIndex(1), [1; 32]), (PartyIndex(2), [1; 32])]);
        assert!(matches!(r, Err(TransportError::InvalidConfig(_))));
    }
}
