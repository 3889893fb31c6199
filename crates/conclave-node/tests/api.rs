//! The client API over real HTTPS: a loopback cluster of three nodes, node 0 serving the API,
//! driven with the typed client of `conclave-api`. Authentication (token, client certificate,
//! none, wrong), key generation and signing (Ed25519, BIP-340 with Taproot; ECDSA P-256 in its
//! own test), signatures checked by verifiers we did not write (ed25519-dalek, k256, p256 and
//! OpenSSL on the served SPKI PEM), session history, metrics, the OpenAPI document against the
//! router, malformed input, the policy's 403 and a peer's refusal (409 with `refused_by`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::process::Command;

use conclave_api::{
    Client, ClientError, ClientOptions, CreateKeyRequest, DerivationPath, ErrorCode, HashAlg, Hex, KeyView,
    RefreshRequest, ReshareRequest, Scheme, SessionStateName, SignRequest, Taproot, Trust,
};
use hyper::Method;
use sha2::Digest;

const READER_TOKEN: &str = "reader-token";
const LONELY_TOKEN: &str = "lonely-token";
const BLIND_TOKEN: &str = "blind-token";
const NARROW_TOKEN: &str = "narrow-token";

fn token_hash(t: &str) -> String {
    hex::encode(sha2::Sha256::digest(t.as_bytes()))
}

/// Node 0's policy: `test` may do everything; `reader` may only read; `lonely` may sign here
/// but no other node knows it (so its sessions are refused by the peers); `certified`
/// authenticates with a client certificate and may read; `blind` may sign and refresh but not
/// read; `narrow` may sign with schnorr-bip340 keys only.
fn policy0(client_cert_sha256: &[u8; 32]) -> String {
    format!(
        r#"{allow}
[[clients]]
name = "reader"
token_sha256 = "{reader}"

[[clients]]
name = "lonely"
token_sha256 = "{lonely}"

[[clients]]
name = "certified"
cert_sha256 = "{cert}"

[[clients]]
name = "blind"
token_sha256 = "{blind}"

[[clients]]
name = "narrow"
token_sha256 = "{narrow}"

[[rules]]
clients = ["reader", "certified"]
actions = ["read"]

[[rules]]
clients = ["lonely"]
actions = ["sign", "read"]

[[rules]]
clients = ["blind"]
actions = ["sign", "refresh"]

[[rules]]
clients = ["narrow"]
actions = ["sign"]
schemes = ["schnorr-bip340"]
"#,
        allow = common::ALLOW_ALL_POLICY,
        reader = token_hash(READER_TOKEN),
        lonely = token_hash(LONELY_TOKEN),
        blind = token_hash(BLIND_TOKEN),
        narrow = token_hash(NARROW_TOKEN),
        cert = hex::encode(client_cert_sha256),
    )
}

fn api_error(r: Result<impl std::fmt::Debug, ClientError>) -> (u16, conclave_api::ErrorBody) {
    match r {
        Err(ClientError::Api { status, body }) => (status, body),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn assert_code<T: std::fmt::Debug>(r: Result<T, ClientError>, code: ErrorCode) -> conclave_api::ErrorBody {
    let (status, body) = api_error(r);
    assert_eq!((status, body.code), (code.status(), code), "{body}");
    body
}

/// OpenSSL reads the SPKI PEM; for Ed25519 it also verifies the signature with it.
fn openssl_check(dir: &Path, key: &KeyView, message: &[u8], signature: &[u8]) {
    let pem = key.spki_pem.as_ref().expect("spki_pem");
    let key_path = dir.join(format!("{}.pem", key.key_id));
    std::fs::write(&key_path, pem).unwrap();
    let out = Command::new("openssl").args(["pkey", "-pubin", "-noout", "-text", "-in"]).arg(&key_path).output();
    let Ok(out) = out else {
        eprintln!("openssl not found: SPKI checked by the Rust parsers only");
        return;
    };
    assert!(out.status.success(), "openssl pkey: {}", String::from_utf8_lossy(&out.stderr));
    let (msg_path, sig_path) = (dir.join("msg.bin"), dir.join("sig.bin"));
    std::fs::write(&msg_path, message).unwrap();
    std::fs::write(&sig_path, signature).unwrap();
    let verify = match key.scheme {
        Scheme::Ed25519 => Command::new("openssl")
            .args(["pkeyutl", "-verify", "-pubin", "-rawin", "-inkey"])
            .arg(&key_path)
            .arg("-in")
            .arg(&msg_path)
            .arg("-sigfile")
            .arg(&sig_path)
            .output()
            .unwrap(),
        _ => Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(&key_path)
            .arg("-signature")
            .arg(&sig_path)
            .arg(&msg_path)
            .output()
            .unwrap(),
    };
    assert!(
        verify.status.success(),
        "openssl verifies with the served SPKI: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// The served SPKI PEM, decoded by hand: the algorithm prefix and the key bytes.
fn spki_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_over_https() {
    let started = std::time::Instant::now();
    let client_identity = conclave_node::transport::TlsIdentity::generate_self_signed("api-client").unwrap();
    let (cluster, node0) = common::start_with_api(3, 30, 0, &policy0(&client_identity.fingerprint())).await;
    let tmp = tempfile::tempdir().unwrap();
    let test = node0.client(Some(common::TEST_TOKEN));

    // Health, unauthenticated, wrong token, a token in a wrong form.
    assert_eq!(test.health().await.unwrap().trim(), "ok");
    assert_code(node0.client(None).keys().await, ErrorCode::Unauthenticated);
    let b = assert_code(node0.client(Some("not-a-token")).keys().await, ErrorCode::Unauthenticated);
    assert!(b.message.contains("unknown token"), "{b}");
    let raw = node0.client(None).raw(Method::GET, "/v1/sessions", None).await.unwrap();
    assert_eq!(raw.status, 401);
    // Each refusal is on the audit record, with its reason and never the credential.
    let refusals: Vec<_> =
        node0.node.audit(1, usize::MAX).unwrap().into_iter().filter(|e| e.event == "unauthenticated").collect();
    assert_eq!(refusals.len(), 3, "{refusals:?}");
    assert!(refusals.iter().any(|e| e.details.get("reason").is_some_and(|r| r == "unknown token")));
    assert!(refusals.iter().any(|e| e.details.get("path").is_some_and(|p| p == "/v1/sessions")));
    assert!(!format!("{refusals:?}").contains("not-a-token"), "the token is not recorded");
    // A flood is recorded up to the per-minute bound only.
    for _ in 0..12 {
        assert_code(node0.client(Some("flood")).keys().await, ErrorCode::Unauthenticated);
    }
    let recorded = node0.node.audit(1, usize::MAX).unwrap().iter().filter(|e| e.event == "unauthenticated").count();
    assert_eq!(recorded, conclave_node::UNAUTHENTICATED_PER_MINUTE as usize);
    // A client that does not pin the node's certificate does not connect.
    let wrong_pin = Client::new(ClientOptions {
        token: Some(common::TEST_TOKEN.into()),
        trust: Trust::PinSha256([0; 32]),
        ..ClientOptions::new(node0.url.clone())
    })
    .unwrap();
    assert!(matches!(wrong_pin.keys().await, Err(ClientError::Transport(_))));
    // Trusting the node's certificate as a PEM "CA" file works too.
    let by_pem = Client::new(ClientOptions {
        token: Some(common::TEST_TOKEN.into()),
        trust: Trust::CaPem(std::fs::read_to_string(cluster.members[0].config_path.with_file_name("tls.crt")).unwrap()),
        ..ClientOptions::new(node0.url.clone())
    })
    .unwrap();
    assert!(by_pem.keys().await.unwrap().keys.is_empty());

    // Client certificates: a listed one authenticates; with a token of another client it is
    // refused; an unlisted one is no credential.
    let with_cert = |token: Option<&str>, id: &conclave_node::transport::TlsIdentity| {
        Client::new(ClientOptions {
            token: token.map(str::to_owned),
            trust: Trust::PinSha256(node0.pin),
            identity: Some(conclave_api::client::ClientIdentity {
                cert_pem: id.cert_pem(),
                key_pem: id.key_pem().to_string(),
            }),
            ..ClientOptions::new(node0.url.clone())
        })
        .unwrap()
    };
    assert!(with_cert(None, &client_identity).keys().await.is_ok());
    let b = assert_code(with_cert(Some(common::TEST_TOKEN), &client_identity).keys().await, ErrorCode::Unauthenticated);
    assert!(b.message.contains("different clients"), "{b}");
    let stranger = conclave_node::transport::TlsIdentity::generate_self_signed("stranger").unwrap();
    assert_code(with_cert(None, &stranger).keys().await, ErrorCode::Unauthenticated);
    assert!(with_cert(Some(common::TEST_TOKEN), &stranger).keys().await.is_ok(), "unlisted cert + valid token");

    // Malformed input: never a panic, always a JSON error with a code.
    let post = |body: &[u8], ct: &'static str| test.raw(Method::POST, "/v1/keys", Some((body.to_vec(), ct)));
    for (body, ct, code) in [
        (&b"{not json"[..], "application/json", ErrorCode::InvalidRequest),
        (br#"{"scheme":"ed25519","threshold":2,"extra":1}"#, "application/json", ErrorCode::InvalidRequest),
        (br#"{"scheme":"rsa","threshold":2}"#, "application/json", ErrorCode::InvalidRequest),
        (br#"{"scheme":"ed25519","threshold":-1}"#, "application/json", ErrorCode::InvalidRequest),
        (br#"[]"#, "application/json", ErrorCode::InvalidRequest),
        (br#"{"scheme":"ed25519","threshold":2}"#, "text/plain", ErrorCode::UnsupportedMediaType),
    ] {
        let r = post(body, ct).await.unwrap();
        let e: conclave_api::ErrorBody = serde_json::from_slice(&r.body).unwrap();
        assert_eq!((r.status, e.code), (code.status(), code), "{}: {e}", String::from_utf8_lossy(body));
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
    }
    let big = vec![b' '; conclave_api::MAX_REQUEST_BYTES + 1];
    let r = post(&big, "application/json").await.unwrap();
    assert_eq!(r.status, 413, "{}", String::from_utf8_lossy(&r.body));
    let r = test.raw(Method::GET, "/v1/nowhere", None).await.unwrap();
    assert_eq!(r.status, 404);
    let r = test.raw(Method::DELETE, "/v1/keys", None).await.unwrap();
    assert_eq!(r.status, 405);
    assert_code(test.key("00").await, ErrorCode::InvalidRequest);

    // The policy: `reader` may read but not generate keys.
    let reader = node0.client(Some(READER_TOKEN));
    assert!(reader.keys().await.is_ok());
    let b = assert_code(
        reader.create_key(&CreateKeyRequest { scheme: Scheme::Ed25519, threshold: 2, parties: None }).await,
        ErrorCode::Forbidden,
    );
    assert!(b.message.contains("reader"), "{b}");

    // Ed25519: generate, show (SPKI), sign, verify with ed25519-dalek and OpenSSL.
    let ed = test.create_key(&CreateKeyRequest { scheme: Scheme::Ed25519, threshold: 2, parties: None }).await.unwrap();
    assert_eq!((ed.threshold, ed.parties.clone()), (2, vec![0, 1, 2]));
    assert_eq!(ed.public_key.0.len(), 32);
    let ed_id = ed.key_id.to_string();
    let shown = test.key(&ed_id).await.unwrap();
    assert_eq!(shown, ed);
    let der = spki_der(ed.spki_pem.as_ref().unwrap());
    assert_eq!(&der[der.len() - 32..], ed.public_key.as_bytes(), "the SPKI holds the public key");
    let message = b"conclave api: ed25519".to_vec();
    let sig = test
        .sign(&ed_id, &SignRequest { message: Some(Hex(message.clone())), ..SignRequest::default() })
        .await
        .unwrap();
    assert_eq!(
        (sig.scheme, sig.key_id.clone(), sig.public_key.clone()),
        (Scheme::Ed25519, ed.key_id.clone(), ed.public_key.clone())
    );
    assert!(sig.signers.contains(&0) && sig.signers.len() >= 2);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&ed.public_key.to_array().unwrap()).unwrap();
    vk.verify_strict(&message, &ed25519_dalek::Signature::from_slice(sig.signature.as_bytes()).unwrap())
        .expect("ed25519-dalek verifies");
    openssl_check(tmp.path(), &ed, &message, sig.signature.as_bytes());
    // Wrong data for the scheme.
    let b = assert_code(
        test.sign(&ed_id, &SignRequest { digest: Some(Hex(vec![1; 32])), ..SignRequest::default() }).await,
        ErrorCode::InvalidRequest,
    );
    assert!(b.message.contains("message"), "{b}");
    assert_code(
        test.sign(
            &ed_id,
            &SignRequest {
                message: Some(Hex(vec![1])),
                path: Some(DerivationPath::Text("m/0/1".into())),
                ..SignRequest::default()
            },
        )
        .await,
        ErrorCode::InvalidRequest,
    );
    assert_code(test.sign(&"11".repeat(32), &SignRequest::default()).await, ErrorCode::NotFound);
    assert_code(
        test.sign(
            &ed_id,
            &SignRequest { message: Some(Hex(vec![1])), signers: Some(vec![1, 2]), ..Default::default() },
        )
        .await,
        ErrorCode::InvalidRequest,
    );

    // BIP-340 with a Taproot tweak, signers chosen by the client.
    let bip = test
        .create_key(&CreateKeyRequest { scheme: Scheme::SchnorrBip340, threshold: 2, parties: Some(vec![0, 1, 2]) })
        .await
        .unwrap();
    assert_eq!(bip.x_only.as_ref().unwrap().as_bytes(), &bip.public_key.as_bytes()[1..]);
    assert!(bip.spki_pem.is_none());
    let msg32 = [7u8; 32];
    let sig = test
        .sign(
            &bip.key_id.to_string(),
            &SignRequest {
                message: Some(Hex(msg32.to_vec())),
                taproot: Some(Taproot { merkle_root: Some(Hex(vec![3; 32])) }),
                signers: Some(vec![0, 2]),
                ..SignRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(sig.signers, vec![0, 2]);
    assert_ne!(&sig.public_key, bip.x_only.as_ref().unwrap(), "signed under the tweaked output key");
    let vk = k256::schnorr::VerifyingKey::from_bytes(sig.public_key.as_bytes()).unwrap();
    vk.verify_raw(&msg32, &k256::schnorr::Signature::try_from(sig.signature.as_bytes()).unwrap())
        .expect("k256 BIP-340 verifies");

    // `reader` may not sign.
    let b = assert_code(
        reader.sign(&ed_id, &SignRequest { message: Some(Hex(vec![1])), ..Default::default() }).await,
        ErrorCode::Forbidden,
    );
    assert!(b.message.contains("reader") && b.message.contains("sign"), "{b}");

    // Keys, pool, sessions, audit, metrics.
    let keys = reader.keys().await.unwrap().keys;
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().any(|k| k.key_id == ed.key_id && k.spki_pem.is_some()));
    let pool = reader.presignatures(&ed_id).await.unwrap();
    assert_eq!((pool.count, pool.target), (0, 0));
    let sessions = reader.sessions().await.unwrap().sessions;
    let signed: Vec<_> = sessions.iter().filter(|s| s.kind == "sign-schnorr").collect();
    assert_eq!(signed.len(), 2, "{sessions:?}");
    assert!(signed.iter().all(|s| s.client == "test" && s.state == SessionStateName::Succeeded && s.proposer == 0));
    assert!(sessions.iter().filter(|s| s.kind == "keygen").count() >= 2);
    let one = reader.session(&signed[0].session_id.to_string()).await.unwrap();
    assert_eq!(&one, signed[0]);
    assert_code(reader.session(&"22".repeat(32)).await, ErrorCode::NotFound);
    let audit = reader.audit(1, Some(10)).await.unwrap();
    assert!(audit.entries.len() <= 10 && audit.next >= 1);
    assert_code(reader.audit(1, Some(0)).await, ErrorCode::InvalidRequest);
    let r = reader.raw(Method::GET, "/v1/audit?bogus=1", None).await.unwrap();
    assert_eq!(r.status, 400);
    let metrics = node0.client(None).metrics().await.unwrap();
    assert!(metrics.contains("conclave_sessions_total{kind=\"sign-schnorr\",outcome=\"succeeded\"} 2"), "{metrics}");
    assert!(
        metrics
            .contains("conclave_api_requests_total{method=\"POST\",route=\"/v1/keys/{key_id}/sign\",status=\"200\"} 2"),
        "{metrics}"
    );

    // A peer refuses: `lonely` may sign on node 0, but nodes 1 and 2 have no rule for it.
    let events = |i: u16, event: &str| {
        let node = if i == 0 { &node0.node } else { cluster.node(i) };
        node.audit(1, usize::MAX).unwrap().iter().filter(|e| e.event == event).count()
    };
    let released_before: Vec<usize> = (0..3).map(|i| events(i, "signature-released")).collect();
    let refused_before = events(1, "refused");
    let lonely = node0.client(Some(LONELY_TOKEN));
    let b = assert_code(
        lonely
            .sign(&ed_id, &SignRequest { message: Some(Hex(vec![9])), signers: Some(vec![0, 1]), ..Default::default() })
            .await,
        ErrorCode::Refused,
    );
    assert_eq!(b.refused_by, Some(1), "{b}");
    assert!(b.message.contains("lonely"), "{b}");
    // Node 1 recorded its refusal, and no node released (or computed) a signature: node 1 never
    // sent its nonce commitment, so no signature share could be formed anywhere.
    assert_eq!(events(1, "refused"), refused_before + 1);
    let released_after: Vec<usize> = (0..3).map(|i| events(i, "signature-released")).collect();
    assert_eq!(released_after, released_before, "no signature left any node");
    // `narrow` may sign with BIP-340 keys only: an Ed25519 key is refused by the proposer's own
    // policy, with the reason, and the refusal is on record; no session starts.
    let narrow = node0.client(Some(NARROW_TOKEN));
    let refused_here = events(0, "refused");
    let b = assert_code(
        narrow.sign(&ed_id, &SignRequest { message: Some(Hex(vec![5])), ..Default::default() }).await,
        ErrorCode::Forbidden,
    );
    assert!(b.message.contains("narrow") && b.message.contains("ed25519"), "{b}");
    assert_eq!(events(0, "refused"), refused_here + 1);
    assert_eq!((0..3).map(|i| events(i, "signature-released")).collect::<Vec<_>>(), released_before);
    // `blind` may not read: whether a key exists is not its business. An unknown key gets a
    // refusal, not a 404 to probe with; `lonely` and `test` may read and get the 404.
    let blind = node0.client(Some(BLIND_TOKEN));
    let unknown = "11".repeat(32);
    let b = assert_code(
        blind.sign(&unknown, &SignRequest { message: Some(Hex(vec![9])), ..Default::default() }).await,
        ErrorCode::Forbidden,
    );
    assert!(!b.message.contains(&unknown), "{b}");
    assert_code(blind.refresh(&unknown, &RefreshRequest::default()).await, ErrorCode::Forbidden);
    assert_code(
        lonely.sign(&unknown, &SignRequest { message: Some(Hex(vec![9])), ..Default::default() }).await,
        ErrorCode::NotFound,
    );
    assert_code(test.refresh(&unknown, &RefreshRequest::default()).await, ErrorCode::NotFound);
    // …and `lonely` may not generate keys on node 0 itself.
    assert_code(
        lonely.create_key(&CreateKeyRequest { scheme: Scheme::Ed25519, threshold: 2, parties: None }).await,
        ErrorCode::Forbidden,
    );

    // Refresh through the API: a new key id, the same public key, and it signs.
    let refreshed = test.refresh(&ed_id, &RefreshRequest::default()).await.unwrap();
    assert_eq!(refreshed.old_key_id, ed.key_id);
    let new = refreshed.key.unwrap();
    assert_eq!(new.public_key, ed.public_key);
    let new_id = new.key_id.to_string();
    cluster.wait_for_key(&conclave_keygen::KeyId(new.key_id.to_array().unwrap())).await;
    let sig =
        test.sign(&new_id, &SignRequest { message: Some(Hex(message.clone())), ..Default::default() }).await.unwrap();
    vk_ed_verify(&ed.public_key, &message, sig.signature.as_bytes());
    assert_code(test.key(&ed_id).await, ErrorCode::NotFound);

    // Reshare the BIP-340 key to 3-of-3: same public key, new key id, the old one retired.
    let bip_id = bip.key_id.to_string();
    let reshared = test
        .reshare(&bip_id, &ReshareRequest { new_parties: vec![0, 1, 2], new_threshold: 3, old_signers: None })
        .await
        .unwrap();
    let new_bip = reshared.key.unwrap();
    assert_eq!((new_bip.threshold, &new_bip.public_key), (3, &bip.public_key));
    assert_ne!(new_bip.key_id, bip.key_id);
    cluster.wait_for_key(&conclave_keygen::KeyId(new_bip.key_id.to_array().unwrap())).await;
    let sig = test
        .sign(&new_bip.key_id.to_string(), &SignRequest { message: Some(Hex(msg32.to_vec())), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(sig.signers, vec![0, 1, 2]);
    k256::schnorr::VerifyingKey::from_bytes(new_bip.x_only.as_ref().unwrap().as_bytes())
        .unwrap()
        .verify_raw(&msg32, &k256::schnorr::Signature::try_from(sig.signature.as_bytes()).unwrap())
        .expect("k256 BIP-340 verifies after the reshare");
    assert_code(
        test.reshare(
            &new_bip.key_id.to_string(),
            &ReshareRequest { new_parties: vec![], new_threshold: 1, old_signers: None },
        )
        .await,
        ErrorCode::InvalidRequest,
    );

    // The OpenAPI document describes every route the router serves, and each of those routes
    // is really served (a request reaches a handler: no 404 "no such route", no 405).
    let doc = node0.client(None).openapi().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for (method, path) in conclave_node::api::served_routes() {
        assert!(doc["paths"][path][method.to_lowercase()].is_object(), "{method} {path} is documented");
        let concrete = path.replace("{key_id}", &new_id).replace("{session_id}", &"33".repeat(32));
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let body = (m == Method::POST).then(|| (b"{\"bogus\":1}".to_vec(), "application/json"));
        let r = test.raw(m, &concrete, body).await.unwrap();
        let text = String::from_utf8_lossy(&r.body);
        assert!(r.status != 405 && !text.contains("no such route"), "{method} {path}: {} {text}", r.status);
    }

    eprintln!("api_over_https: {:?}", started.elapsed());
    node0.shutdown().await;
    cluster.shutdown().await;
}

fn vk_ed_verify(pk: &Hex, message: &[u8], sig: &[u8]) {
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk.to_array().unwrap()).unwrap();
    vk.verify_strict(message, &ed25519_dalek::Signature::from_slice(sig).unwrap()).expect("ed25519-dalek verifies");
}

/// One ECDSA key through the API (aux-info with fixture primes): SPKI, a message signature
/// verified by p256 and OpenSSL, a derived-path signature and a caller's digest.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_ecdsa_p256() {
    let started = std::time::Instant::now();
    let (cluster, node0) = common::start_with_api(3, 300, 0, common::ALLOW_ALL_POLICY).await;
    // Fixture safe primes for the aux-info of every node (generating them takes seconds each).
    let pairs = conclave_testkit::safe_prime_pairs();
    for (k, node) in std::iter::once(&*node0.node).chain(cluster.nodes.iter().flatten()).enumerate() {
        let (p, q) = &pairs[(5 + k) % pairs.len()];
        let p = rug::Integer::from_str_radix(p, 16).unwrap();
        let q = rug::Integer::from_str_radix(q, 16).unwrap();
        node.add_safe_primes(vec![p, q]).unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let test = node0.client(Some(common::TEST_TOKEN));
    let key = test
        .create_key(&CreateKeyRequest { scheme: Scheme::EcdsaP256, threshold: 2, parties: Some(vec![0, 1]) })
        .await
        .unwrap();
    eprintln!("api_ecdsa_p256: key generated after {:?}", started.elapsed());
    assert_eq!(key.public_key.0.len(), 33);
    let unc = key.public_key_uncompressed.as_ref().unwrap();
    assert_eq!(unc.0.len(), 65);
    let id = key.key_id.to_string();
    let message = b"conclave api: ecdsa p-256".to_vec();
    let sig = test
        .sign(
            &id,
            &SignRequest { message: Some(Hex(message.clone())), ..Default::default() }, /* hash: sha256 by default */
        )
        .await
        .unwrap();
    {
        use p256::ecdsa::signature::Verifier;
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(unc.as_bytes()).unwrap();
        let s = p256::ecdsa::Signature::from_der(sig.der.as_ref().unwrap().as_bytes()).unwrap();
        vk.verify(&message, &s).expect("p256 verifies");
    }
    assert_eq!(sig.digest.as_ref().unwrap().as_bytes(), &sha2::Sha256::digest(&message)[..]);
    openssl_check(tmp.path(), &key, &message, sig.der.as_ref().unwrap().as_bytes());
    // A digest with a hash → 400.
    assert_code(
        test.sign(
            &id,
            &SignRequest { digest: Some(Hex(vec![1; 32])), hash: Some(HashAlg::Sha256), ..Default::default() },
        )
        .await,
        ErrorCode::InvalidRequest,
    );
    // A caller's digest under the child key m/0/1 (interactive).
    let digest = [5u8; 32];
    let sig = test
        .sign(
            &id,
            &SignRequest {
                digest: Some(Hex(digest.to_vec())),
                path: Some(DerivationPath::Text("m/0/1".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_ne!(sig.public_key, key.public_key, "signed under the derived key");
    {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(sig.public_key.as_bytes()).unwrap();
        let s = p256::ecdsa::Signature::from_slice(sig.signature.as_bytes()).unwrap();
        vk.verify_prehash(&digest, &s).expect("p256 verifies the digest signature");
    }
    eprintln!("api_ecdsa_p256: {:?}", started.elapsed());
    node0.shutdown().await;
    cluster.shutdown().await;
}
