//! The demo runs and its JSON follows shared/demo-output.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::Command;

fn demo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_conclave")).arg("demo").args(args).output().expect("run conclave")
}

#[test]
fn demo_json_follows_the_contract() {
    let out = demo(&["--json", "--seed", "7"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    assert_eq!(v["conclave_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["cluster"]["parties"], 3);
    assert_eq!(v["cluster"]["threshold"], 2);
    assert_eq!(v["cluster"]["transport"], "in-process");
    // No signing protocol yet: no results, never fake ones.
    assert_eq!(v["results"].as_array().unwrap().len(), 0);
    let keys = v["keys"].as_array().unwrap();
    let curves: Vec<&str> = keys.iter().map(|k| k["curve"].as_str().unwrap()).collect();
    assert_eq!(curves, ["secp256k1", "p256", "ed25519"]);
    for k in keys {
        assert_eq!(k["verified"], true);
        let pk = hex::decode(k["public_key"].as_str().unwrap()).unwrap();
        assert_eq!(pk.len(), if k["curve"] == "ed25519" { 32 } else { 33 });
        assert!(k["timings_ms"]["keygen"].as_f64().unwrap() > 0.0);
        assert!(k["bytes_sent_per_party"]["keygen"].as_u64().unwrap() > 0);
        assert_eq!(k["key_id"].as_str().unwrap().len(), 64);
    }
    // Same seed, same keys.
    let again: serde_json::Value = serde_json::from_slice(&demo(&["--json", "--seed", "7"]).stdout).unwrap();
    assert_eq!(again["keys"][0]["public_key"], v["keys"][0]["public_key"]);
}

#[test]
fn demo_rejects_bad_parameters_with_a_clear_error() {
    let out = demo(&["--parties", "3", "--threshold", "4"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--threshold"));
    let out = demo(&["--parties", "0"]);
    assert!(!out.status.success());
}

#[test]
fn demo_readable_report() {
    let out = demo(&["--seed", "1", "--parties", "5", "--threshold", "3"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("secp256k1") && text.contains("ed25519") && text.contains("p256"));
    assert!(!text.contains('✗'));
}
