//! A loopback cluster of three separate node instances over real TLS: key generation and
//! signing with every scheme, a restart that signs with the stored share, a node that stops
//! mid-session, crash points of signing and key generation, and a flooding peer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::time::Duration;

use conclave_ecdsa::HashName;
use conclave_node::{FaultPoint, NodeError, Scheme, SessionState, SignData};
use conclave_protocol::{Fault, PartyIndex, PartySet};

fn set(v: &[u16]) -> PartySet {
    PartySet::new(v.iter().map(|i| PartyIndex(*i))).unwrap()
}

fn data_for(scheme: Scheme, message: &[u8]) -> SignData {
    match scheme {
        Scheme::EcdsaSecp256k1 | Scheme::EcdsaP256 => {
            SignData::Message { hash: HashName::Sha256, message: message.to_vec() }
        }
        _ => SignData::Schnorr { message: message.to_vec(), taproot: None },
    }
}

/// Every scheme: keygen (2-of-3), sign, restart a node, sign again with its stored share.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keygen_and_sign_every_scheme_then_restart() {
    let mut cluster = common::start(3, 300, 0).await;
    cluster.preload_primes(0);
    // Node 1 stores its aux-info two seconds after node 0 (which then proposes the first ECDSA
    // keygen at once): node 1 must wait for it rather than refuse.
    cluster.node(1).inject_fault(FaultPoint::SlowAuxInfoStore);
    let mut keys = Vec::new();
    for scheme in Scheme::ALL {
        let key = cluster
            .node(0)
            .keygen(&common::caller(), scheme, 2, None)
            .await
            .unwrap_or_else(|e| panic!("{scheme}: {e}"));
        cluster.wait_for_key(&key.key_id).await;
        for i in 1..3 {
            assert_eq!(cluster.node(i).key(&key.key_id).as_ref(), Some(&key), "{scheme}: node {i} agrees");
        }
        let message = format!("conclave node test: {scheme}").into_bytes();
        let sig =
            cluster.node(0).sign(&common::caller(), &key.key_id, data_for(scheme, &message), &[], None).await.unwrap();
        common::verify_externally(&sig, &message);
        keys.push((scheme, key));
    }
    // A BIP-340 Taproot signature, by another proposer.
    let (_, bip340) = keys.iter().find(|(s, _)| *s == Scheme::SchnorrBip340).unwrap();
    let msg = [7u8; 32];
    let sig = cluster
        .node(2)
        .sign(
            &common::caller(),
            &bip340.key_id,
            SignData::Schnorr { message: msg.to_vec(), taproot: Some(None) },
            &[],
            None,
        )
        .await
        .unwrap();
    common::verify_externally(&sig, &msg);
    assert_ne!(sig.public_key, bip340.public_key[1..].to_vec(), "the tweaked output key differs from the group key");

    // Restart node 1: it reloads its shares from the store and signs with node 2.
    cluster.restart(1).await;
    for (scheme, key) in &keys {
        assert_eq!(cluster.node(1).key(&key.key_id).as_ref(), Some(key), "{scheme}: reloaded");
        let message = format!("after restart: {scheme}").into_bytes();
        let sig = cluster
            .node(1)
            .sign(&common::caller(), &key.key_id, data_for(*scheme, &message), &[], Some(set(&[1, 2])))
            .await
            .unwrap_or_else(|e| panic!("{scheme} after restart: {e}"));
        common::verify_externally(&sig, &message);
    }
    // An ECDSA refresh: fresh shares of the same key, aux-info kept; the new shares sign.
    let (_, kp) = keys.iter().find(|(s, _)| *s == Scheme::EcdsaP256).unwrap();
    let refreshed = cluster.node(0).refresh(&common::caller(), &kp.key_id, false).await.unwrap();
    assert_eq!(refreshed.public_key, kp.public_key);
    cluster.wait_for_key(&refreshed.key_id).await;
    let sig = cluster
        .node(1)
        .sign(&common::caller(), &refreshed.key_id, data_for(Scheme::EcdsaP256, b"refreshed"), &[], Some(set(&[0, 1])))
        .await
        .unwrap();
    common::verify_externally(&sig, b"refreshed");
    // ECDSA with a derivation path and with a caller's digest (interactive).
    let (_, k1) = keys.iter().find(|(s, _)| *s == Scheme::EcdsaSecp256k1).unwrap();
    let sig = cluster
        .node(2)
        .sign(&common::caller(), &k1.key_id, data_for(Scheme::EcdsaSecp256k1, b"derived"), &[0, 7], None)
        .await
        .unwrap();
    common::verify_externally(&sig, b"derived");
    assert_ne!(sig.public_key, k1.public_key, "signed under the derived child key");
    cluster.shutdown().await;
}

/// A node that accepts and then stops is named `Silent`; the next request is served by the
/// remaining quorum.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn node_stopped_mid_session_is_named_and_quorum_continues() {
    let mut cluster = common::start(3, 3, 0).await;
    let key = cluster.node(0).keygen(&common::caller(), Scheme::Ed25519, 2, None).await.unwrap();
    cluster.wait_for_key(&key.key_id).await;
    cluster.node(1).inject_fault(FaultPoint::AfterAccept);
    let err = cluster
        .node(0)
        .sign(&common::caller(), &key.key_id, data_for(Scheme::Ed25519, b"m"), &[], Some(set(&[0, 1])))
        .await
        .unwrap_err();
    let NodeError::Aborted(culprits) = &err else { panic!("expected an abort, got {err}") };
    assert!(culprits.iter().all(|c| c.party == PartyIndex(1) && c.fault == Fault::Silent), "{err}");
    assert!(!culprits.is_empty());
    // Default signers now avoid node 1.
    let sig = cluster
        .node(0)
        .sign(&common::caller(), &key.key_id, data_for(Scheme::Ed25519, b"next"), &[], None)
        .await
        .unwrap();
    assert_eq!(sig.signers, set(&[0, 2]));
    common::verify_externally(&sig, b"next");
    cluster.stop(1).await;
    cluster.shutdown().await;
}

/// Crash points of key generation: a share stored before the crash survives the restart; a
/// share not yet stored is absent (the key was never committed on that node).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keygen_crash_points() {
    let mut cluster = common::start(3, 5, 0).await;
    cluster.node(2).inject_fault(FaultPoint::AfterKeyShareStored);
    let key = cluster.node(0).keygen(&common::caller(), Scheme::SchnorrBip340, 2, None).await.unwrap();
    common::wait_until(Duration::from_secs(30), || cluster.node(2).is_stopped()).await;
    cluster.restart(2).await;
    assert_eq!(cluster.node(2).key(&key.key_id).as_ref(), Some(&key), "the committed share survived");
    let sig = cluster
        .node(2)
        .sign(&common::caller(), &key.key_id, data_for(Scheme::SchnorrBip340, b"x"), &[], Some(set(&[0, 2])))
        .await
        .unwrap();
    common::verify_externally(&sig, b"x");

    cluster.node(1).inject_fault(FaultPoint::BeforeKeyShareStored);
    let key2 = cluster.node(0).keygen(&common::caller(), Scheme::SchnorrBip340, 2, None).await.unwrap();
    common::wait_until(Duration::from_secs(30), || cluster.node(1).is_stopped()).await;
    cluster.restart(1).await;
    assert!(cluster.node(1).key(&key2.key_id).is_none(), "a share never stored is not reported");
    // The other two still sign with it.
    let sig = cluster
        .node(0)
        .sign(&common::caller(), &key2.key_id, data_for(Scheme::SchnorrBip340, b"y"), &[], Some(set(&[0, 2])))
        .await
        .unwrap();
    common::verify_externally(&sig, b"y");
    cluster.shutdown().await;
}

/// The presignature pool: filled in the background, consumed durably before the partial
/// signature leaves; a node crashing right after taking one never has it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn presignature_pool_and_crash_after_take() {
    let mut cluster = common::start(3, 300, 1).await;
    cluster.preload_primes(3);
    let key = cluster.node(0).keygen(&common::caller(), Scheme::EcdsaSecp256k1, 2, None).await.unwrap();
    cluster.wait_for_key(&key.key_id).await;
    // Node 0 refills the pool of signer set {0, 1}.
    common::wait_until(Duration::from_secs(240), || {
        cluster.node(0).presignatures(&key.key_id).unwrap() == 1
            && cluster.node(1).presignatures(&key.key_id).unwrap() == 1
    })
    .await;
    let sig = cluster
        .node(0)
        .sign(&common::caller(), &key.key_id, data_for(Scheme::EcdsaSecp256k1, b"pooled"), &[], None)
        .await
        .unwrap();
    common::verify_externally(&sig, b"pooled");
    // The pool refills; nodes 0 and 1 then sign at once with its signer set. Only the pool's
    // owner (node 0) draws from it; node 1 signs interactively. (Two proposers drawing from one
    // pool chose the same presignature, and each refused the other's session after using it up.)
    common::wait_until(Duration::from_secs(240), || {
        cluster.node(0).presignatures(&key.key_id).unwrap() == 1
            && cluster.node(1).presignatures(&key.key_id).unwrap() == 1
    })
    .await;
    let pair = set(&[0, 1]);
    let caller = common::caller();
    let (a, b) = tokio::join!(
        cluster.node(0).sign(
            &caller,
            &key.key_id,
            data_for(Scheme::EcdsaSecp256k1, b"at once 0"),
            &[],
            Some(pair.clone())
        ),
        cluster.node(1).sign(
            &caller,
            &key.key_id,
            data_for(Scheme::EcdsaSecp256k1, b"at once 1"),
            &[],
            Some(pair.clone())
        ),
    );
    common::verify_externally(&a.unwrap(), b"at once 0");
    common::verify_externally(&b.unwrap(), b"at once 1");
    // Then node 1 crashes right after taking the next pooled one.
    common::wait_until(Duration::from_secs(240), || {
        cluster.node(0).presignatures(&key.key_id).unwrap() == 1
            && cluster.node(1).presignatures(&key.key_id).unwrap() == 1
    })
    .await;
    cluster.node(1).inject_fault(FaultPoint::AfterPresignatureTaken);
    let err = cluster
        .node(0)
        .sign(&common::caller(), &key.key_id, data_for(Scheme::EcdsaSecp256k1, b"crash"), &[], Some(set(&[0, 1])))
        .await
        .unwrap_err();
    assert!(matches!(err, NodeError::Aborted(_) | NodeError::Refused { .. }), "{err}");
    cluster.restart(1).await;
    assert_eq!(cluster.node(1).presignatures(&key.key_id).unwrap(), 0, "the taken presignature is gone for good");
    // Signing goes on (interactive with node 2, or a fresh pooled one).
    let sig = cluster
        .node(0)
        .sign(&common::caller(), &key.key_id, data_for(Scheme::EcdsaSecp256k1, b"after"), &[], Some(set(&[0, 2])))
        .await
        .unwrap();
    common::verify_externally(&sig, b"after");
    cluster.shutdown().await;
}

/// Issue 7's withheld confirmation: node 2 withholds its last reshare message (its round-2
/// echo) from node 0. Nodes 1 and 2 see every confirmation and commit; node 0 times out,
/// names node 2 silent, and keeps its old share *and* the new share it confirmed (sealed, as a
/// pending hand-over). It then asks the session's parties for their receipt, checks it, and
/// commits too: the group ends on one sharing, and it signs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_withheld_confirmation_is_finished_from_a_peers_receipt() {
    let cluster = common::start(3, 3, 0).await;
    let old = cluster.node(1).keygen(&common::caller(), Scheme::Ed25519, 2, None).await.unwrap();
    cluster.wait_for_key(&old.key_id).await;
    cluster.node(2).inject_fault(FaultPoint::WithholdReshareEcho(PartyIndex(0)));
    let new = cluster.node(1).refresh(&common::caller(), &old.key_id, false).await.unwrap();
    assert_eq!(new.public_key, old.public_key);
    // Node 0's session failed (node 2 silent towards it) …
    common::wait_until(Duration::from_secs(30), || {
        cluster.node(0).sessions().iter().any(|s| {
            s.kind == "reshare"
                && matches!(&s.state, SessionState::Failed { culprits, .. } if culprits.iter().any(|(p, _)| *p == PartyIndex(2)))
        })
    })
    .await;
    // … and it still finishes the hand-over, from a peer's receipt.
    common::wait_until(Duration::from_secs(60), || {
        (0..3).all(|i| cluster.node(i).key(&new.key_id).is_some() && cluster.node(i).key(&old.key_id).is_none())
    })
    .await;
    let metrics = cluster.node(0).metrics_text();
    assert!(metrics.contains("conclave_handovers_recovered_total 1"), "{metrics}");
    assert!(metrics.contains("conclave_handovers_pending 0"), "{metrics}");
    let recovered = cluster.node(0).audit(1, usize::MAX).unwrap();
    assert!(
        recovered.iter().any(|e| e.event == "reshared" && e.details.contains_key("receipt_from")),
        "node 0 recorded the recovered hand-over"
    );
    // Node 0's new share signs with node 1's.
    let sig = cluster
        .node(0)
        .sign(&common::caller(), &new.key_id, data_for(Scheme::Ed25519, b"recovered"), &[], Some(set(&[0, 1])))
        .await
        .unwrap();
    common::verify_externally(&sig, b"recovered");
    cluster.shutdown().await;
}

/// Resharing at the node level: a 2-of-3 key among {0, 1, 2} moves to {1, 2, 3} with threshold
/// 2 (party 0 leaves, party 3 joins); then a refresh. The public key never changes; the old
/// key is retired on every holder; the new group signs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reshare_to_a_new_group_then_refresh() {
    let cluster = common::start(4, 30, 0).await;
    let old = cluster.node(1).keygen(&common::caller(), Scheme::Ed25519, 2, Some(set(&[0, 1, 2]))).await.unwrap();
    common::wait_until(Duration::from_secs(30), || (0..3).all(|i| cluster.node(i).key(&old.key_id).is_some())).await;
    let new = cluster
        .node(1)
        .reshare(&common::caller(), &old.key_id, set(&[1, 2, 3]), 2, Some(set(&[0, 1])))
        .await
        .unwrap()
        .expect("node 1 stays in the group");
    assert_eq!(new.public_key, old.public_key, "same public key");
    assert_eq!(new.parties, set(&[1, 2, 3]));
    assert_ne!(new.key_id, old.key_id);
    common::wait_until(Duration::from_secs(30), || {
        (1..4).all(|i| cluster.node(i).key(&new.key_id).is_some())
            && (0..4).all(|i| cluster.node(i).key(&old.key_id).is_none())
    })
    .await;
    assert!(cluster.node(0).keys().is_empty(), "the leaving party retired its share");
    let sig = cluster
        .node(3)
        .sign(&common::caller(), &new.key_id, data_for(Scheme::Ed25519, b"new group"), &[], Some(set(&[1, 3])))
        .await
        .unwrap();
    assert_eq!(sig.public_key, old.public_key);
    common::verify_externally(&sig, b"new group");
    // The old key is gone: signing with it is refused.
    let err = cluster
        .node(1)
        .sign(&common::caller(), &old.key_id, data_for(Scheme::Ed25519, b"old"), &[], None)
        .await
        .unwrap_err();
    assert!(matches!(err, NodeError::InvalidRequest(_)), "{err}");

    let refreshed = cluster.node(2).refresh(&common::caller(), &new.key_id, false).await.unwrap();
    assert_eq!(refreshed.public_key, old.public_key);
    common::wait_until(Duration::from_secs(30), || (1..4).all(|i| cluster.node(i).key(&refreshed.key_id).is_some()))
        .await;
    let sig = cluster
        .node(1)
        .sign(&common::caller(), &refreshed.key_id, data_for(Scheme::Ed25519, b"refreshed"), &[], Some(set(&[1, 2])))
        .await
        .unwrap();
    common::verify_externally(&sig, b"refreshed");
    cluster.shutdown().await;
}

/// Each node checks proposals against its own policy: a node whose policy does not allow the
/// client refuses, and the proposer reports the refusing party and its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_refuses_what_its_own_policy_does_not_allow() {
    let mut cluster = common::start(3, 10, 0).await;
    let key = cluster.node(0).keygen(&common::caller(), Scheme::Ed25519, 2, None).await.unwrap();
    cluster.wait_for_key(&key.key_id).await;
    // Node 2 allows the client keygen only.
    let keygen_only = common::ALLOW_ALL_POLICY
        .replace(r#"actions = ["keygen", "sign", "refresh", "reshare", "read"]"#, r#"actions = ["keygen"]"#);
    common::write_policy(&cluster, 2, &keygen_only);
    cluster.restart(2).await;
    let err = cluster
        .node(0)
        .sign(&common::caller(), &key.key_id, data_for(Scheme::Ed25519, b"m"), &[], Some(set(&[0, 2])))
        .await
        .unwrap_err();
    match &err {
        NodeError::Refused { party, reason } => {
            assert_eq!(*party, PartyIndex(2));
            assert!(reason.contains("test") && reason.contains("sign"), "{reason}");
        }
        other => panic!("expected a refusal, got {other}"),
    }
    // Node 1 still signs with node 0; an unknown client is refused by the proposer itself.
    let sig = cluster
        .node(0)
        .sign(&common::caller(), &key.key_id, data_for(Scheme::Ed25519, b"ok"), &[], Some(set(&[0, 1])))
        .await
        .unwrap();
    common::verify_externally(&sig, b"ok");
    let err = cluster
        .node(0)
        .sign(&conclave_node::Caller::client("mallory"), &key.key_id, data_for(Scheme::Ed25519, b"x"), &[], None)
        .await
        .unwrap_err();
    assert!(matches!(err, NodeError::PolicyRefused(_)), "{err}");
    // Every decision is in each node's audit log.
    let events = |i: u16| cluster.node(i).audit(1, 1000).unwrap().into_iter().map(|e| e.event).collect::<Vec<_>>();
    let n0 = events(0);
    for e in ["node-started", "request", "key-created", "signature-released", "refused"] {
        assert!(n0.iter().any(|x| x == e), "node 0 records {e}: {n0:?}");
    }
    let n2 = events(2);
    assert!(n2.iter().any(|x| x == "refused"), "node 2 records its refusal: {n2:?}");
    assert!(events(1).iter().any(|x| x == "joined"));
    // The log verifies offline against the node's identity key and the store's head.
    cluster.stop(1).await;
    let cfg = conclave_node::NodeConfig::load(&cluster.members[1].config_path).unwrap();
    let master = match &cfg.master_key {
        conclave_node::config::MasterKeySource::File(p) => conclave_store::MasterKey::from_file(p).unwrap(),
        conclave_node::config::MasterKeySource::Env(v) => conclave_store::MasterKey::from_env(v).unwrap(),
    };
    let store = conclave_store::RedbStore::open(&cfg.store_path(), &master, &cfg.identity.public().to_bytes()).unwrap();
    let head = conclave_node::audit::stored_head(&store).unwrap();
    let v = conclave_node::audit::verify_file(&cfg.data_dir.join("audit.log"), &cfg.identity.public(), head).unwrap();
    assert!(v.entries >= 3);
    drop(store);
    cluster.shutdown().await;
}

/// A known peer that floods frames for sessions that do not exist, and garbage control
/// messages: the node neither crashes nor holds more than its per-peer bound, and keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flooding_peer_is_bounded() {
    use conclave_node::transport::{Channel, Frame, Limits, PeerSpec, TlsIdentity, Transport, TransportConfig};
    use conclave_protocol::SessionId;
    let mut cluster = common::start(3, 2, 0).await;
    let key = cluster.node(0).keygen(&common::caller(), Scheme::Ed25519, 2, None).await.unwrap();
    cluster.wait_for_key(&key.key_id).await;
    // Node 2 is replaced by a flooder holding its TLS identity (a compromised peer).
    cluster.stop(2).await;
    let home = cluster.members[2].config_path.parent().unwrap().to_owned();
    let identity = TlsIdentity::from_pem(
        &std::fs::read_to_string(home.join("tls.crt")).unwrap(),
        &std::fs::read_to_string(home.join("tls.key")).unwrap(),
    )
    .unwrap();
    let cfg0 = conclave_node::NodeConfig::load(&cluster.members[0].config_path).unwrap();
    let p0 = &cfg0.parties[&PartyIndex(0)];
    let (flooder, _inbound) = Transport::start(TransportConfig {
        me: PartyIndex(2),
        listen: "127.0.0.1:0".parse().unwrap(),
        identity,
        peers: vec![PeerSpec { index: PartyIndex(0), addr: p0.address.clone(), cert_sha256: p0.tls_cert_sha256 }],
        limits: Limits::default(),
        connect_timeout: Duration::from_secs(2),
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
    })
    .await
    .unwrap();
    assert!(flooder.wait_connected(PartyIndex(0)).await);
    let limit = Limits::default().early_frames_per_peer;
    let mut sent = 0usize;
    let mut i = 0u64;
    while sent < 4 * limit {
        let mut session = [0u8; 32];
        session[..8].copy_from_slice(&i.to_be_bytes());
        i += 1;
        let (channel, payload) =
            if i % 10 == 0 { (Channel::Control, vec![0xff; 64]) } else { (Channel::Protocol, vec![7u8; 4096]) };
        match flooder.send(PartyIndex(0), Frame { channel, session: SessionId(session), round: 1, payload }) {
            Ok(()) => sent += 1,
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    common::wait_until(Duration::from_secs(60), || cluster.node(0).early_dropped() > 0).await;
    assert!(cluster.node(0).early_held() <= limit, "early buffer bounded: {}", cluster.node(0).early_held());
    // The node still serves the remaining quorum.
    let sig = cluster
        .node(0)
        .sign(&common::caller(), &key.key_id, data_for(Scheme::Ed25519, b"after flood"), &[], Some(set(&[0, 1])))
        .await
        .unwrap();
    common::verify_externally(&sig, b"after flood");
    // Frames of sessions that never start expire after two round deadlines.
    common::wait_until(Duration::from_secs(30), || cluster.node(0).early_held() == 0).await;
    flooder.shutdown().await;
    cluster.shutdown().await;
}

/// Many sessions at once: several signatures of one key in parallel, proposed by two nodes, and
/// a second key's signatures beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_sessions_at_once() {
    let cluster = common::start(3, 30, 0).await;
    let ed = cluster.node(0).keygen(&common::caller(), Scheme::Ed25519, 2, None).await.unwrap();
    let tr = cluster.node(1).keygen(&common::caller(), Scheme::SchnorrBip340, 2, None).await.unwrap();
    cluster.wait_for_key(&ed.key_id).await;
    cluster.wait_for_key(&tr.key_id).await;
    let cluster = std::sync::Arc::new(cluster);
    let mut jobs = tokio::task::JoinSet::new();
    for i in 0..12u16 {
        let (proposer, key, scheme) = match i % 3 {
            0 => (0u16, ed.key_id, Scheme::Ed25519),
            1 => (1, ed.key_id, Scheme::Ed25519),
            _ => (2, tr.key_id, Scheme::SchnorrBip340),
        };
        let signers = if proposer == 2 { set(&[1, 2]) } else { set(&[0, 1]) };
        let c = cluster.clone();
        jobs.spawn(async move {
            let message = format!("parallel {i}").into_bytes();
            let sig = c
                .node(proposer)
                .sign(&common::caller(), &key, data_for(scheme, &message), &[], Some(signers))
                .await
                .unwrap_or_else(|e| panic!("job {i}: {e}"));
            common::verify_externally(&sig, &message);
        });
    }
    let mut done = 0;
    while let Some(r) = jobs.join_next().await {
        r.unwrap();
        done += 1;
    }
    assert_eq!(done, 12);
    let running = cluster.node(0).sessions().iter().filter(|s| s.state == conclave_node::SessionState::Running).count();
    assert_eq!(running, 0);
    let Ok(cluster) = std::sync::Arc::try_unwrap(cluster) else { panic!("cluster still shared") };
    cluster.shutdown().await;
}
