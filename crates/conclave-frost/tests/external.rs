//! Our threshold signatures checked by verifiers we did not write:
//!
//! * Ed25519: Python `cryptography` (OpenSSL's Ed25519);
//! * BIP-340 (plain and Taproot-tweaked): Python `coincurve` (libsecp256k1's `schnorrsig`).
//!
//! The test fails (it does not skip) if a package is missing; install them with
//! `python3 -m pip install cryptography coincurve`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test code

mod common;

use common::{agreed, keygen, sign};
use conclave_frost::{Bip340, Ed25519, Scheme, SignRequest, ThresholdSignature};

const CHECK: &str = r#"
import json, sys
try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.exceptions import InvalidSignature
    from coincurve import PublicKeyXOnly
except ImportError as e:
    print("MISSING: %s" % e)
    sys.exit(3)
cases = json.load(open(sys.argv[1]))
for c in cases:
    pk, msg, sig = (bytes.fromhex(c[k]) for k in ("pk", "msg", "sig"))
    if c["scheme"] == "ed25519":
        try:
            Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg)
            ok = True
        except InvalidSignature:
            ok = False
    else:
        ok = PublicKeyXOnly(pk).verify(sig, msg)
    if ok != c["valid"]:
        print("MISMATCH %s: expected %s" % (c["name"], c["valid"]))
        sys.exit(1)
print("OK %d" % len(cases))
"#;

struct Case {
    name: String,
    scheme: &'static str,
    sig: ThresholdSignature,
    message: Vec<u8>,
    valid: bool,
}

fn threshold_signature<S: Scheme>(salt: u64, signers: &[u16], req: &SignRequest) -> ThresholdSignature {
    let mut rng = conclave_testkit::rng(salt);
    let keys = keygen::<S>(2, 3, &mut rng);
    let (_, out) = sign::<S>(&keys, signers, req, &mut rng, |s| s);
    agreed(&out, &req.message)
}

fn json_escape_hex(b: &[u8]) -> String {
    hex::encode(b)
}

#[test]
fn external_verifiers_accept_our_signatures() {
    let mut cases = Vec::new();
    let ed_msg = b"Conclave threshold Ed25519".to_vec();
    let ed = threshold_signature::<Ed25519>(1, &[0, 2], &SignRequest::new(ed_msg.clone()));
    let sighash = [0x42u8; 32];
    let plain = threshold_signature::<Bip340>(2, &[1, 2], &SignRequest::new(sighash));
    let key_path = threshold_signature::<Bip340>(3, &[0, 1], &SignRequest::taproot(sighash, None));
    let script = threshold_signature::<Bip340>(4, &[0, 1, 2], &SignRequest::taproot(sighash, Some([0xab; 32])));
    for (name, scheme, sig, msg) in [
        ("ed25519 2-of-3", "ed25519", ed, ed_msg),
        ("bip340 plain 2-of-3", "bip340", plain, sighash.to_vec()),
        ("bip340 taproot key-path 2-of-3", "bip340", key_path, sighash.to_vec()),
        ("bip340 taproot with script root 2-of-3", "bip340", script, sighash.to_vec()),
    ] {
        // A corrupted copy must be rejected by the same verifier.
        let mut bad = sig.clone();
        bad.signature[40] ^= 1;
        cases.push(Case { name: format!("{name} (tampered)"), scheme, sig: bad, message: msg.clone(), valid: false });
        cases.push(Case { name: name.to_string(), scheme, sig, message: msg, valid: true });
    }
    let body: Vec<String> = cases
        .iter()
        .map(|c| {
            format!(
                r#"{{"name":"{}","scheme":"{}","pk":"{}","msg":"{}","sig":"{}","valid":{}}}"#,
                c.name,
                c.scheme,
                json_escape_hex(&c.sig.public_key),
                json_escape_hex(&c.message),
                json_escape_hex(&c.sig.signature),
                c.valid
            )
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("conclave-frost-external-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("cases.json");
    std::fs::write(&input, format!("[{}]", body.join(","))).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(CHECK)
        .arg(&input)
        .output()
        .expect("python3 must be installed to run the external-verifier test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    if stdout.contains("MISSING") {
        panic!("{stdout}\nInstall the external verifiers: python3 -m pip install cryptography coincurve");
    }
    assert!(out.status.success() && stdout.starts_with("OK 8"), "external verifier failed:\n{stdout}\n{stderr}");
}
