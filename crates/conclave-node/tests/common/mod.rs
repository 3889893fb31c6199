//! A loopback cluster of separate node instances, each with its own store file, identity, TLS
//! certificate and master key, talking over real TLS on 127.0.0.1.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use conclave_keygen::KeyId;
use conclave_node::transport::TlsIdentity;
use conclave_node::{Node, NodeConfig, SignatureOutput};
use conclave_protocol::{IdentityKey, PartyIndex};
use rand_core::OsRng;
use rug::Integer;

/// The bearer token of the test client (`test`), allowed everything by [`ALLOW_ALL_POLICY`].
pub const TEST_TOKEN: &str = "conclave-test-token";

/// A policy allowing the client `test` every action (its token hash is SHA-256 of
/// [`TEST_TOKEN`]).
pub const ALLOW_ALL_POLICY: &str = r#"
[[clients]]
name = "test"
token_sha256 = "75a6efe1aeaf59c4dcfd34e1fc1d19f0b12fce772ebcb455748b6d3fedb4d8cc"

[[rules]]
clients = ["test"]
actions = ["keygen", "sign", "refresh", "reshare", "read"]
"#;

/// The test client.
pub fn caller() -> conclave_node::Caller {
    conclave_node::Caller::client("test")
}

/// Replaces node `i`'s policy file (takes effect when the node restarts).
pub fn write_policy(cluster: &Cluster, i: u16, policy: &str) {
    let m = &cluster.members[usize::from(i)];
    std::fs::write(m.config_path.with_file_name("policy.toml"), policy).unwrap();
}

/// One member's files.
pub struct Member {
    pub index: PartyIndex,
    pub config_path: PathBuf,
    pub data_dir: PathBuf,
}

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub members: Vec<Member>,
    pub nodes: Vec<Option<Node>>,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Each node's identity key, TLS certificate and master key in a fresh directory, and the
/// `[[parties]]` entries every configuration lists: `(dir, entries, [(index, home, port)])`.
fn write_identities(n: u16) -> (tempfile::TempDir, String, Vec<(u16, PathBuf, u16)>) {
    let dir = tempfile::tempdir().unwrap();
    let mut entries = String::new();
    let mut parts = Vec::new();
    for i in 0..n {
        let home = dir.path().join(format!("node{i}"));
        std::fs::create_dir_all(home.join("secrets")).unwrap();
        let identity = IdentityKey::generate(&mut OsRng);
        let tls = TlsIdentity::generate_self_signed(&format!("conclave-node-{i}")).unwrap();
        std::fs::write(home.join("identity.key"), hex::encode(identity.expose_seed())).unwrap();
        std::fs::write(home.join("tls.crt"), tls.cert_pem()).unwrap();
        std::fs::write(home.join("tls.key"), tls.key_pem().as_str()).unwrap();
        let master = conclave_store::MasterKey::generate(&mut OsRng);
        std::fs::write(home.join("secrets/master.key"), master.to_hex().as_str()).unwrap();
        let port = free_port();
        entries.push_str(&format!(
            "\n[[parties]]\nindex = {i}\naddress = \"127.0.0.1:{port}\"\nidentity_public_key = \"{}\"\ntls_cert_sha256 = \"{}\"\n",
            hex::encode(identity.public().to_bytes()),
            hex::encode(tls.fingerprint())
        ));
        parts.push((i, home, port));
    }
    (dir, entries, parts)
}

/// Writes configuration files for `n` parties and starts every node.
pub async fn start(n: u16, round_secs: u64, presign_pool: usize) -> Cluster {
    let (dir, entries, parts) = write_identities(n);
    let mut members = Vec::new();
    for (i, home, port) in parts {
        let text = format!(
            "[node]\nindex = {i}\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"data\"\nidentity_key = \"identity.key\"\n\
             tls_cert = \"tls.crt\"\ntls_key = \"tls.key\"\n\n[master_key]\nfile = \"secrets/master.key\"\n\n\
             [timeouts]\nround_secs = {round_secs}\nconnect_secs = 2\n\n[presign_pool]\nsize = {presign_pool}\n\n\
             [prime_pool]\nsize = 0\n\n[policy]\nfile = \"policy.toml\"\n{entries}"
        );
        std::fs::write(home.join("policy.toml"), ALLOW_ALL_POLICY).unwrap();
        let config_path = home.join("node.toml");
        std::fs::write(&config_path, text).unwrap();
        members.push(Member { index: PartyIndex(i), config_path, data_dir: home.join("data") });
    }
    let mut cluster = Cluster { dir, members, nodes: Vec::new() };
    for i in 0..n {
        let node = cluster.start_node(i).await;
        cluster.nodes.push(Some(node));
    }
    cluster
}

impl Cluster {
    pub async fn start_node(&self, i: u16) -> Node {
        let m = &self.members[usize::from(i)];
        let cfg = NodeConfig::load(&m.config_path).unwrap();
        Node::start(cfg).await.unwrap()
    }

    pub fn node(&self, i: u16) -> &Node {
        self.nodes[usize::from(i)].as_ref().expect("node running")
    }

    pub async fn stop(&mut self, i: u16) {
        if let Some(n) = self.nodes[usize::from(i)].take() {
            n.shutdown().await;
        }
    }

    pub async fn restart(&mut self, i: u16) {
        self.stop(i).await;
        let node = self.start_node(i).await;
        self.nodes[usize::from(i)] = Some(node);
    }

    pub fn store_file(&self, i: u16) -> PathBuf {
        self.members[usize::from(i)].data_dir.join("conclave.redb")
    }

    /// Gives every running node one pair of fixture safe primes (tests only: generating
    /// 1536-bit safe primes takes seconds each).
    pub fn preload_primes(&self, first_pair: usize) {
        let pairs = conclave_testkit::safe_prime_pairs();
        for (k, node) in self.nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            let (p, q) = &pairs[(first_pair + k) % pairs.len()];
            let p = Integer::from_str_radix(p, 16).unwrap();
            let q = Integer::from_str_radix(q, 16).unwrap();
            node.add_safe_primes(vec![p, q]).unwrap();
        }
    }

    /// Waits until every running node holds `key`.
    pub async fn wait_for_key(&self, key: &KeyId) {
        wait_until(Duration::from_secs(60), || self.nodes.iter().flatten().all(|n| n.key(key).is_some())).await;
    }

    pub async fn shutdown(mut self) {
        for i in 0..self.nodes.len() {
            self.stop(i as u16).await;
        }
    }
}

pub async fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "condition not reached within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Checks a signature with verifiers we did not write (RustCrypto's k256/p256 ECDSA and BIP-340,
/// ed25519-dalek), given what was signed.
pub fn verify_externally(sig: &SignatureOutput, message: &[u8]) {
    use conclave_node::Scheme;
    match sig.scheme {
        Scheme::EcdsaSecp256k1 => {
            use k256::ecdsa::signature::hazmat::PrehashVerifier;
            let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&sig.public_key).unwrap();
            let s = k256::ecdsa::Signature::from_der(sig.der.as_ref().unwrap()).unwrap();
            vk.verify_prehash(&sig.digest.unwrap(), &s).expect("k256 verifies");
            let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(message).into();
            assert_eq!(sig.digest.unwrap(), digest, "the nodes hashed the message with SHA-256");
        }
        Scheme::EcdsaP256 => {
            use p256::ecdsa::signature::Verifier;
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sig.public_key).unwrap();
            let s = p256::ecdsa::Signature::from_der(sig.der.as_ref().unwrap()).unwrap();
            vk.verify(message, &s).expect("p256 verifies the SHA-256 message signature");
        }
        Scheme::Ed25519 => {
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&sig.public_key.clone().try_into().unwrap()).unwrap();
            let s = ed25519_dalek::Signature::from_slice(&sig.signature).unwrap();
            vk.verify_strict(message, &s).expect("ed25519-dalek verifies");
        }
        Scheme::SchnorrBip340 => {
            // BIP-340 over the message bytes as given (k256's `Verifier` would SHA-256 them first).
            let vk = k256::schnorr::VerifyingKey::from_bytes(&sig.public_key).unwrap();
            let s = k256::schnorr::Signature::try_from(sig.signature.as_slice()).unwrap();
            vk.verify_raw(message, &s).expect("k256 BIP-340 verifies");
        }
        Scheme::FrostSecp256k1 => {
            // RFC 9591 FROST(secp256k1, SHA-256) has no verifier outside the ZF crates; ours
            // wraps frost-secp256k1's.
            assert!(conclave_frost::verify(
                conclave_frost::SchemeId::Secp256k1,
                &sig.public_key,
                message,
                &sig.signature
            ));
        }
    }
}

pub fn path_exists(p: &Path) -> bool {
    p.exists()
}

/// Node 0 of a cluster started by [`start_with_api`], serving the client API.
pub struct ApiNode {
    pub node: std::sync::Arc<Node>,
    pub api: conclave_node::api::ApiHandle,
    /// `https://127.0.0.1:port`.
    pub url: String,
    /// SHA-256 of node 0's certificate (what clients pin).
    pub pin: [u8; 32],
}

impl ApiNode {
    /// A client of the API with `token` (or none), pinning the node's certificate.
    pub fn client(&self, token: Option<&str>) -> conclave_api::Client {
        conclave_api::Client::new(conclave_api::ClientOptions {
            token: token.map(str::to_owned),
            trust: conclave_api::Trust::PinSha256(self.pin),
            ..conclave_api::ClientOptions::new(self.url.clone())
        })
        .unwrap()
    }

    /// Stops the API, then the node.
    pub async fn shutdown(self) {
        self.api.shutdown().await;
        let mut node = self.node;
        for _ in 0..200 {
            match std::sync::Arc::try_unwrap(node) {
                Ok(n) => return n.shutdown().await,
                Err(n) => node = n,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Like [`start`], but node 0 also serves the client API over HTTPS (an `[api]` section on a
/// free loopback port) with `policy0` as its policy file; the other nodes get
/// [`ALLOW_ALL_POLICY`]. Node 0 is not in `cluster.nodes` (its slot is `None`): it is the
/// returned [`ApiNode`].
pub async fn start_with_api(n: u16, round_secs: u64, presign_pool: usize, policy0: &str) -> (Cluster, ApiNode) {
    let (dir, entries, parts) = write_identities(n);
    let mut members = Vec::new();
    for (i, home, port) in parts {
        let api = if i == 0 { format!("[api]\nlisten = \"127.0.0.1:{}\"\n\n", free_port()) } else { String::new() };
        let text = format!(
            "[node]\nindex = {i}\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"data\"\nidentity_key = \"identity.key\"\n\
             tls_cert = \"tls.crt\"\ntls_key = \"tls.key\"\n\n[master_key]\nfile = \"secrets/master.key\"\n\n\
             [timeouts]\nround_secs = {round_secs}\nconnect_secs = 2\n\n[presign_pool]\nsize = {presign_pool}\n\n\
             [prime_pool]\nsize = 0\n\n{api}[policy]\nfile = \"policy.toml\"\n{entries}"
        );
        std::fs::write(home.join("policy.toml"), if i == 0 { policy0 } else { ALLOW_ALL_POLICY }).unwrap();
        let config_path = home.join("node.toml");
        std::fs::write(&config_path, text).unwrap();
        members.push(Member { index: PartyIndex(i), config_path, data_dir: home.join("data") });
    }
    let mut cluster = Cluster { dir, members, nodes: vec![None] };
    for i in 1..n {
        let node = cluster.start_node(i).await;
        cluster.nodes.push(Some(node));
    }
    let cfg = NodeConfig::load(&cluster.members[0].config_path).unwrap();
    let api_cfg = cfg.api.clone().expect("node 0 has an [api] section");
    let tls = cfg.tls.clone();
    let pin = tls.fingerprint();
    let node = std::sync::Arc::new(Node::start(cfg).await.unwrap());
    let api = conclave_node::api::serve(node.clone(), api_cfg, Some(tls)).await.unwrap();
    let url = format!("https://{}", api.local_addr());
    (cluster, ApiNode { node, api, url, pin })
}
