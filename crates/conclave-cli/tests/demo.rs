//! The demo runs and its JSON follows shared/demo-output.md: on nodes (the default: a loopback
//! cluster, everything through the HTTPS API) and in the simulator (`--in-process`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::Command;

fn demo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_conclave")).arg("demo").args(args).output().expect("run conclave")
}

fn check_result(r: &serde_json::Value) {
    let scheme = r["scheme"].as_str().unwrap();
    let pk = hex::decode(r["public_key"].as_str().unwrap()).unwrap();
    let sig = hex::decode(r["signature"].as_str().unwrap()).unwrap();
    let msg = hex::decode(r["message"].as_str().unwrap()).unwrap();
    assert_eq!(r["verified"], true, "{r}");
    assert_eq!(r["signers"].as_array().unwrap().len(), 2, "a 2-of-3 key signs with exactly 2 parties");
    assert_eq!(r["key_id"].as_str().unwrap().len(), 64);
    match scheme {
        "ecdsa-secp256k1" | "ecdsa-p256" => {
            assert_eq!(pk.len(), 33);
            assert_eq!(sig[0], 0x30, "DER");
            assert_eq!(r["hash"], "sha256");
            assert!(r["recovery_id"].as_u64().unwrap() <= 1);
            for phase in ["keygen", "aux_info", "presign", "sign"] {
                assert!(r["timings_ms"][phase].as_f64().unwrap() > 0.0, "{phase}");
                assert!(r["bytes_sent_per_party"][phase].as_u64().unwrap() > 0, "{phase}");
            }
        }
        "schnorr-bip340" => {
            assert_eq!((pk.len(), sig.len(), msg.len()), (32, 64, 32));
            assert_eq!(r["hash"], "none");
            assert!(r.get("recovery_id").is_none());
        }
        "ed25519" => {
            assert_eq!((pk.len(), sig.len()), (32, 64));
            assert_eq!(r["hash"], "none");
            assert!(r["verified_by"].as_array().unwrap().len() == 2, "ours and OpenSSL: {r}");
        }
        other => panic!("unexpected scheme {other}"),
    }
}

#[test]
fn demo_json_follows_the_contract() {
    let out = demo(&["--in-process", "--json", "--seed", "7"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    assert_eq!(v["conclave_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["cluster"]["parties"], 3);
    assert_eq!(v["cluster"]["threshold"], 2);
    assert_eq!(v["cluster"]["transport"], "in-process");
    let results = v["results"].as_array().unwrap();
    let schemes: Vec<&str> = results.iter().map(|r| r["scheme"].as_str().unwrap()).collect();
    assert_eq!(schemes, ["ecdsa-secp256k1", "ecdsa-p256", "schnorr-bip340", "schnorr-bip340", "ed25519"]);
    let tweaked: Vec<bool> = results.iter().map(|r| r["taproot_tweaked"].as_bool().unwrap()).collect();
    assert_eq!(tweaked, [false, false, false, true, false]);
    for r in results {
        check_result(r);
    }
    // ECDSA signatures were also accepted by OpenSSL.
    for r in &results[..2] {
        assert_eq!(r["verified_by"], serde_json::json!(["conclave", "openssl"]), "{r}");
    }
    for k in v["keys"].as_array().unwrap() {
        assert_eq!(k["verified"], true);
    }
    // The secp256k1 key was reshared from 2-of-3 to 3-of-5 and the new group signed under the
    // same public key.
    let r = &v["reshare"];
    assert_eq!(r["scheme"], "ecdsa-secp256k1");
    assert_eq!((r["before"]["parties"].as_u64(), r["before"]["threshold"].as_u64()), (Some(3), Some(2)));
    assert_eq!((r["after"]["parties"].as_u64(), r["after"]["threshold"].as_u64()), (Some(5), Some(3)));
    assert_eq!(r["before"]["public_key"], r["after"]["public_key"]);
    assert_eq!(r["before"]["public_key"], results[0]["public_key"]);
    assert_eq!(r["committed"], true);
    assert_eq!(r["after"]["verified"], true);
    assert_eq!(r["after"]["signers"].as_array().unwrap().len(), 3);
    assert_ne!(r["before"]["signature"], r["after"]["signature"]);
}

#[test]
fn demo_is_reproducible_with_a_seed() {
    let run = || -> serde_json::Value {
        serde_json::from_slice(
            &demo(&["--in-process", "--json", "--seed", "3", "--schemes", "ed25519,schnorr-bip340"]).stdout,
        )
        .unwrap()
    };
    let (a, b) = (run(), run());
    assert_eq!(a["results"][0]["public_key"], b["results"][0]["public_key"]);
    assert_eq!(a["results"].as_array().unwrap().len(), 3);
}

#[test]
fn demo_rejects_bad_parameters_with_a_clear_error() {
    let out = demo(&["--parties", "3", "--threshold", "4"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--threshold"));
    let out = demo(&["--parties", "0"]);
    assert!(!out.status.success());
    let out = demo(&["--schemes", "rsa"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scheme"));
    // Nodes draw their own randomness: a seed is for the simulator only.
    let out = demo(&["--seed", "1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--in-process"));
}

/// On nodes, Schnorr schemes only (no aux-info, so no safe primes: cheap in a debug build).
#[test]
fn demo_on_nodes_json_follows_the_contract() {
    let out = demo(&["--json", "--schemes", "ed25519,schnorr-bip340"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    assert_eq!(v["conclave_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["cluster"]["parties"], 3);
    assert_eq!(v["cluster"]["threshold"], 2);
    assert_eq!(v["cluster"]["transport"], "mtls-loopback");
    let results = v["results"].as_array().unwrap();
    let schemes: Vec<&str> = results.iter().map(|r| r["scheme"].as_str().unwrap()).collect();
    assert_eq!(schemes, ["schnorr-bip340", "schnorr-bip340", "ed25519"]);
    let tweaked: Vec<bool> = results.iter().map(|r| r["taproot_tweaked"].as_bool().unwrap()).collect();
    assert_eq!(tweaked, [false, true, false]);
    for r in results {
        check_result(r);
        // Times and traffic come from the nodes' session records.
        for phase in ["keygen", "sign"] {
            assert!(r["timings_ms"][phase].as_f64().is_some(), "{phase}: {r}");
            assert!(r["bytes_sent_per_party"][phase].as_u64().unwrap() > 0, "{phase}: {r}");
        }
    }
    assert_ne!(results[0]["public_key"], results[1]["public_key"], "the Taproot output key differs");
    for k in v["keys"].as_array().unwrap() {
        assert_eq!(k["verified"], true);
    }
    assert!(v.get("reshare").is_none(), "no ECDSA key, no reshare");
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 5, "two key generations and three signatures: {steps:?}");
}

#[test]
fn demo_readable_report_3_of_5() {
    let out = demo(&[
        "--in-process",
        "--seed",
        "1",
        "--parties",
        "5",
        "--threshold",
        "3",
        "--schemes",
        "ed25519,schnorr-bip340",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ed25519") && text.contains("schnorr-bip340"));
    assert!(text.contains("signers [0, 1, 4]"));
    assert!(!text.contains('✗'));
}
