//! End to end, as the README tells a new user: `conclave init --parties 3`, three
//! `conclave node` processes, `conclave keygen` and `conclave sign` with `--config
//! DIR/client.toml`, the signature checked by a verifier we did not write (ed25519-dalek); then
//! one node stopped and a 2-of-3 signature still produced by the other two; then the stopped
//! node restarted and signing with it again. Ed25519 only, to stay fast in a debug build.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn conclave() -> Command {
    Command::new(env!("CARGO_BIN_EXE_conclave"))
}

/// A base port such that base..base+n are free on 127.0.0.1 (init numbers ports base + i).
fn free_port_range(n: u16) -> u16 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let seed = u64::from(std::process::id()).wrapping_mul(1_000_003) ^ u64::from(nanos);
    for attempt in 0..200u64 {
        let base = 20_000 + ((seed.wrapping_mul(7919).wrapping_add(attempt * 104_729)) % 40_000) as u16;
        let held: Vec<_> = (0..n).map_while(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).ok()).collect();
        if held.len() == usize::from(n) {
            return base;
        }
    }
    panic!("no free port range");
}

/// The node processes; all are killed when the test ends, however it ends.
struct Nodes {
    children: Vec<Option<Child>>,
    logs: Vec<PathBuf>,
    configs: Vec<PathBuf>,
}

impl Nodes {
    fn start(&mut self, i: usize) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.logs[i]).unwrap();
        let child = conclave()
            .arg("node")
            .arg("--config")
            .arg(&self.configs[i])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start conclave node");
        self.children[i] = Some(child);
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn logs(&self) -> String {
        self.logs
            .iter()
            .enumerate()
            .map(|(i, p)| format!("--- node {i} ---\n{}", std::fs::read_to_string(p).unwrap_or_default()))
            .collect()
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
    }
}

fn wait_for_port(port: u16, nodes: &mut Nodes) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(60), "API port {port} never opened\n{}", nodes.logs());
        for c in nodes.children.iter_mut().flatten() {
            if let Ok(Some(status)) = c.try_wait() {
                panic!("a node exited ({status})\n{}", nodes.logs());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run_ok(cmd: &mut Command, nodes: &Nodes) -> serde_json::Value {
    let out: Output = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        nodes.logs()
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{cmd:?}: stdout is not JSON ({e})"))
}

fn sign(client: &Path, key: &str, message: &[u8], signers: &str, via: u16, nodes: &Nodes) -> serde_json::Value {
    run_ok(
        conclave()
            .arg("sign")
            .arg("--config")
            .arg(client)
            .args(["--node-index", &via.to_string(), "--key", key, "--message-hex", &hex::encode(message)])
            .args(["--signers", signers, "--json"]),
        nodes,
    )
}

/// Checks an Ed25519 signature with ed25519-dalek (RFC 8032, strict).
fn check_signature(sig: &serde_json::Value, public_key: &[u8; 32], message: &[u8], signers: &[u16]) {
    assert_eq!(sig["scheme"], "ed25519");
    assert_eq!(sig["public_key"].as_str().unwrap(), hex::encode(public_key));
    let got: Vec<u16> = sig["signers"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u16).collect();
    assert_eq!(got, signers);
    let bytes = hex::decode(sig["signature"].as_str().unwrap()).unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(public_key).unwrap();
    let s = ed25519_dalek::Signature::from_slice(&bytes).unwrap();
    vk.verify_strict(message, &s).expect("ed25519-dalek accepts the signature");
}

#[test]
fn readme_flow_three_node_processes_keygen_sign_stop_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    // One range of six free ports: peers on the first three, APIs on the last three.
    let peer_base = free_port_range(6);
    let api_base = peer_base + 3;
    let out = conclave()
        .args(["init", "--parties", "3", "--dir"])
        .arg(&dir)
        .args(["--peer-port", &peer_base.to_string(), "--api-port", &api_base.to_string()])
        // No background safe primes: an Ed25519 key needs no Paillier key.
        .args(["--prime-pool", "0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "init: {}", String::from_utf8_lossy(&out.stderr));
    let client = dir.join("client.toml");
    assert!(client.exists());

    let mut nodes = Nodes {
        children: (0..3).map(|_| None).collect(),
        logs: (0..3).map(|i| tmp.path().join(format!("node-{i}.log"))).collect(),
        configs: (0..3).map(|i| dir.join(format!("node-{i}/node.toml"))).collect(),
    };
    for i in 0..3 {
        nodes.start(i);
    }
    for i in 0..3 {
        wait_for_port(api_base + i, &mut nodes);
    }

    // keygen through node 0, with the file's token and pinned certificate.
    let key = run_ok(
        conclave().arg("keygen").arg("--config").arg(&client).args([
            "--scheme",
            "ed25519",
            "--threshold",
            "2",
            "--json",
        ]),
        &nodes,
    );
    assert_eq!(key["scheme"], "ed25519");
    assert_eq!(key["threshold"], 2);
    assert_eq!(key["parties"], serde_json::json!([0, 1, 2]));
    let key_id = key["key_id"].as_str().unwrap().to_owned();
    let public_key: [u8; 32] = hex::decode(key["public_key"].as_str().unwrap()).unwrap().try_into().unwrap();

    // Every node holds its share: `pubkey` through node 2 shows the same key.
    let shown = run_ok(
        conclave().arg("pubkey").arg("--config").arg(&client).args(["--node-index", "2", "--key", &key_id, "--json"]),
        &nodes,
    );
    assert_eq!(shown["public_key"], key["public_key"]);
    assert!(shown["spki_pem"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));

    let message = b"Conclave end-to-end: signed by three node processes".to_vec();
    let sig = sign(&client, &key_id, &message, "0,2", 0, &nodes);
    check_signature(&sig, &public_key, &message, &[0, 2]);

    // Node 2 stops; nodes 0 and 1 still sign (2 of 3).
    nodes.kill(2);
    let message = b"Conclave end-to-end: node 2 is down".to_vec();
    let sig = sign(&client, &key_id, &message, "0,1", 0, &nodes);
    check_signature(&sig, &public_key, &message, &[0, 1]);

    // Node 2 comes back with its store and signs again (asked through its own API).
    nodes.start(2);
    wait_for_port(api_base + 2, &mut nodes);
    let message = b"Conclave end-to-end: node 2 is back".to_vec();
    let sig = sign(&client, &key_id, &message, "1,2", 2, &nodes);
    check_signature(&sig, &public_key, &message, &[1, 2]);

    // The status command sees the key and the three signing sessions on node 1.
    let status =
        run_ok(conclave().arg("status").arg("--config").arg(&client).args(["--node-index", "1", "--json"]), &nodes);
    assert_eq!(status["keys"][0]["key_id"], key["key_id"]);
    let signs = status["sessions"].as_array().unwrap().iter().filter(|s| s["kind"] == "sign-schnorr").count();
    assert_eq!(signs, 2, "node 1 took part in two of the three signatures: {status}");
}
