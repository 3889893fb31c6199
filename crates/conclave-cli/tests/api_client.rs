//! The `conclave` binary end to end: two nodes made by `conclave init-node` and run by
//! `conclave node` (node 0 with the client API), then the client commands against node 0 with
//! `--json`: keys create / list / show, sign, sessions, audit, and the error output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "cli-test-token";

fn conclave() -> Command {
    Command::new(env!("CARGO_BIN_EXE_conclave"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Stops the node processes when the test ends, however it ends.
struct Nodes(Vec<Child>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    nodes: Nodes,
    url: String,
    pin: String,
    logs: Vec<PathBuf>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port()];
    let api_port = free_port();
    let mut entries = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let mut cmd = conclave();
        cmd.args(["init-node", "--index", &i.to_string(), "--dir"]).arg(dir.path().join(format!("node{i}"))).args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--address",
            &format!("127.0.0.1:{port}"),
        ]);
        if i == 0 {
            cmd.args(["--api-listen", &format!("127.0.0.1:{api_port}")]);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "init-node: {}", String::from_utf8_lossy(&out.stderr));
        entries.push(String::from_utf8(out.stdout).unwrap());
    }
    let pin = entries[0]
        .lines()
        .find_map(|l| l.strip_prefix("tls_cert_sha256 = \""))
        .map(|s| s.trim_end_matches('"').to_owned())
        .unwrap();
    let token_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(TOKEN.as_bytes()));
    let policy = format!(
        "[[clients]]\nname = \"cli\"\ntoken_sha256 = \"{token_sha256}\"\n\n[[rules]]\nclients = [\"cli\"]\n\
         actions = [\"keygen\", \"sign\", \"refresh\", \"reshare\", \"read\"]\n"
    );
    let mut children = Vec::new();
    let mut logs = Vec::new();
    for i in 0..2 {
        let home = dir.path().join(format!("node{i}"));
        let config = home.join("node.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        // The other node's entry, a policy, no background prime generation, short timeouts.
        text.push_str(&format!("\n{}\n", entries[1 - i]));
        text.push_str("[policy]\nfile = \"policy.toml\"\n\n[prime_pool]\nsize = 0\n\n[timeouts]\nround_secs = 30\nconnect_secs = 2\n");
        std::fs::write(&config, text).unwrap();
        std::fs::write(home.join("policy.toml"), &policy).unwrap();
        let log = home.join("node.log");
        let child = conclave()
            .args(["node", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        children.push(child);
        logs.push(log);
    }
    let url = format!("https://127.0.0.1:{api_port}");
    let s = Setup { _dir: dir, nodes: Nodes(children), url, pin, logs };
    // Wait until the API answers.
    let start = Instant::now();
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", api_port)).is_ok() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "the API did not come up: {}", s.log(0));
        std::thread::sleep(Duration::from_millis(100));
    }
    s
}

impl Setup {
    fn log(&self, i: usize) -> String {
        std::fs::read_to_string(&self.logs[i]).unwrap_or_default()
    }

    /// Runs a client command against node 0 (token from the environment, pin as a flag).
    fn run(&self, args: &[&str]) -> Output {
        conclave()
            .args(args)
            .args(["--node", &self.url, "--pin-sha256", &self.pin, "--json"])
            .env("CONCLAVE_TOKEN", TOKEN)
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "conclave {args:?} failed: {}{}\nnode 0 log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log(0)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn cli_against_a_running_node() {
    let started = Instant::now();
    let mut s = setup();
    let tmp = tempfile::tempdir().unwrap();

    let key = s.json(&["keys", "create", "--scheme", "ed25519", "--threshold", "2", "--parties", "0,1"]);
    let key_id = key["key_id"].as_str().unwrap().to_owned();
    assert_eq!(key["scheme"], "ed25519");
    assert!(key["spki_pem"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));

    let list = s.json(&["keys", "list"]);
    assert!(list["keys"].as_array().unwrap().iter().any(|k| k["key_id"] == key_id.as_str()), "{list}");
    let shown = s.json(&["keys", "show", &key_id]);
    assert_eq!(shown, key);

    let message = b"signed through the conclave CLI";
    let file = write(tmp.path(), "message.bin", message);
    let sig = s.json(&["sign", "--key", &key_id, "--message-file", file.to_str().unwrap()]);
    let pk: [u8; 32] = hex::decode(key["public_key"].as_str().unwrap()).unwrap().try_into().unwrap();
    let signature = hex::decode(sig["signature"].as_str().unwrap()).unwrap();
    ed25519_dalek::VerifyingKey::from_bytes(&pk)
        .unwrap()
        .verify_strict(message, &ed25519_dalek::Signature::from_slice(&signature).unwrap())
        .expect("ed25519-dalek verifies the CLI's signature");
    let sig2 = s.json(&["sign", "--key", &key_id, "--message-hex", &hex::encode(message)]);
    assert_eq!(sig2["public_key"], key["public_key"]);

    let sessions = s.json(&["sessions"]);
    let signed: Vec<_> =
        sessions["sessions"].as_array().unwrap().iter().filter(|x| x["kind"] == "sign-schnorr").collect();
    assert_eq!(signed.len(), 2, "{sessions}");
    let one = s.json(&["sessions", signed[0]["session_id"].as_str().unwrap()]);
    assert_eq!(&one, signed[0]);
    let audit = s.json(&["audit", "--from", "1"]);
    assert!(audit["entries"].is_array() && audit["next"].is_u64(), "{audit}");

    // Errors: the node's error body on stdout, a failing exit status.
    let out = s.run(&["keys", "show", &"00".repeat(32)]);
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "not_found", "{v}");
    let out = s.run(&["sign", "--key", &key_id, "--digest-hex", &"11".repeat(32)]);
    assert!(!out.status.success(), "an Ed25519 key refuses a digest");
    let out = conclave()
        .args(["keys", "list", "--node", &s.url, "--pin-sha256", &"ab".repeat(32), "--token", TOKEN])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a wrong pin does not connect");
    assert!(String::from_utf8_lossy(&out.stderr).contains("TLS"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = conclave().args(["keys", "list", "--node", &s.url, "--pin-sha256", &s.pin, "--json"]).output().unwrap();
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "unauthenticated", "{v}");

    // SIGTERM stops the node with the API cleanly.
    #[cfg(unix)]
    {
        let pid = s.nodes.0[0].id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let start = Instant::now();
        let status = loop {
            if let Some(st) = s.nodes.0[0].try_wait().unwrap() {
                break st;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "node 0 did not stop");
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(status.success(), "node 0 exit status {status}: {}", s.log(0));
    }
    eprintln!("cli_against_a_running_node: {:?}", started.elapsed());
}
