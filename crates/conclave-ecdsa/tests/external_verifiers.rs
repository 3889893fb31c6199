//! Threshold ECDSA signatures checked by verifiers we did not write: the `openssl` command line
//! and Python's `cryptography` package (through `scripts/verify_ecdsa.py`).
//!
//! Signatures come from 2-of-3 keys (presigning, then signing with the presignature) on
//! secp256k1 and P-256: SHA-256 messages at the root key and along a derivation path, and an
//! Ethereum-style personal message hashed with Keccak-256 along a derivation path. Each is
//! paired with a negative control (one bit of `s` flipped, re-encoded as valid DER) that both
//! verifiers must reject.
//!
//! Public keys are handed over as DER `SubjectPublicKeyInfo` (RFC 5480), built here from the
//! uncompressed SEC1 point and a fixed per-curve prefix: the workspace enables neither `k256`'s
//! nor `p256`'s `pkcs8` feature, and an encoder we write ourselves is checked by both external
//! parsers anyway (the Python script also compares the parsed point with the SEC1 bytes).
//!
//! Missing tools are a failure, never a skip: run `scripts/setup`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{aux_infos, keygen, signer_network};
use conclave_ecdsa::hd::{derive, DerivationPath};
use conclave_ecdsa::presign::{self, ThresholdCurve};
use conclave_ecdsa::sign::{self, EcdsaSignature};
use conclave_ecdsa::signature::Signature;
use conclave_ecdsa::{HashName, SignedData};
use conclave_math::{Secp256k1, P256};
use conclave_protocol::sim::Simulation;
use conclave_protocol::{PartyIndex, SessionId};
use rand_core::RngCore;

/// A curve as the external verifiers name it, and its SPKI encoding.
trait External: ThresholdCurve {
    /// The curve's name in `cryptography` (`ec.SECP256K1().name`, `ec.SECP256R1().name`).
    const NAME: &'static str;
    /// DER of `SEQUENCE { AlgorithmIdentifier { id-ecPublicKey, namedCurve }, BIT STRING {`
    /// up to the first byte of a 65-byte uncompressed point.
    const SPKI_PREFIX: &'static [u8];
    /// The uncompressed SEC1 encoding `04 ‖ x ‖ y` (by RustCrypto).
    fn uncompressed(point: &Self::Point) -> Vec<u8>;
}

impl External for Secp256k1 {
    const NAME: &'static str = "secp256k1";
    // 30 56 | 30 10 | 06 07 2a8648ce3d0201 (id-ecPublicKey) | 06 05 2b8104000a (secp256k1)
    // | 03 42 00 (BIT STRING of 66 bytes, no unused bits)
    const SPKI_PREFIX: &'static [u8] = &[
        0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04,
        0x00, 0x0a, 0x03, 0x42, 0x00,
    ];
    fn uncompressed(point: &Self::Point) -> Vec<u8> {
        use k256::elliptic_curve::sec1::ToEncodedPoint;
        point.to_affine().to_encoded_point(false).as_bytes().to_vec()
    }
}

impl External for P256 {
    const NAME: &'static str = "secp256r1";
    // 30 59 | 30 13 | 06 07 2a8648ce3d0201 (id-ecPublicKey) | 06 08 2a8648ce3d030107
    // (prime256v1) | 03 42 00
    const SPKI_PREFIX: &'static [u8] = &[
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
        0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    fn uncompressed(point: &Self::Point) -> Vec<u8> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        point.to_affine().to_encoded_point(false).as_bytes().to_vec()
    }
}

fn spki_der<C: External>(point: &C::Point) -> Vec<u8> {
    let sec1 = C::uncompressed(point);
    assert_eq!(sec1.len(), 65, "uncompressed point");
    assert_eq!(sec1[0], 0x04);
    [C::SPKI_PREFIX, &sec1].concat()
}

fn pem(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let body: Vec<&str> = b64.as_bytes().chunks(64).map(|l| std::str::from_utf8(l).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", body.join("\n"))
}

/// One signature to check, with what every verifier must conclude.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    curve: &'static str,
    spki: Vec<u8>,
    sec1: Vec<u8>,
    hash: HashName,
    message: Vec<u8>,
    digest: [u8; 32],
    der: Vec<u8>,
    expect_valid: bool,
}

/// Presigns among `signers` of a fresh 2-of-3 key along `path`, signs `data`, and checks that
/// every signer released the same signature under the expected derived key.
fn threshold_sign<C: ThresholdCurve>(signers: &[u16], path: &str, data: &SignedData, salt: u64) -> EcdsaSignature<C> {
    let keys = keygen::<C>(2, 3, salt);
    let aux = aux_infos(3);
    let path: DerivationPath = path.parse().unwrap();
    let (net, mut rng) = signer_network(signers, salt + 1);
    let machines: BTreeMap<_, _> = net
        .parties
        .iter()
        .map(|p| (p, presign::start::<C>(net.config(p).unwrap(), &keys[&p], aux[&p].clone(), &path, &mut rng).unwrap()))
        .collect();
    let out = Simulation::new(net.clone(), machines, rng.next_u64()).run();
    let net = net.in_session(SessionId::random(&mut rng));
    let machines: BTreeMap<_, _> = out
        .results
        .into_iter()
        .map(|(p, r)| (p, sign::start::<C>(net.config(p).unwrap(), r.unwrap(), data, &mut rng).unwrap()))
        .collect();
    let out = Simulation::new(net, machines, rng.next_u64()).run();
    let sigs: Vec<EcdsaSignature<C>> =
        out.results.into_iter().map(|(p, r)| r.unwrap_or_else(|e| panic!("{p}: {e}"))).collect();
    assert!(sigs.windows(2).all(|w| w[0] == w[1]), "every signer releases the same signature");
    let first = &keys[&PartyIndex(signers[0])];
    let expected = derive::<C>(&first.public_key(), &first.public().chain_code, &path).unwrap().public_key;
    let sig = sigs.into_iter().next().unwrap();
    assert_eq!(sig.public_key, expected, "signature under the derived key");
    assert_eq!(sig.digest, data.digest());
    sig
}

/// The signature and its negative control (lowest bit of `s` flipped).
fn cases_for<C: External>(
    name: &str,
    signers: &[u16],
    path: &str,
    hash: HashName,
    message: &[u8],
    salt: u64,
) -> Vec<Case> {
    let data = SignedData::Message { hash, message: message.to_vec() };
    let sig = threshold_sign::<C>(signers, path, &data, salt);
    let der = sig.signature.to_der();
    assert!(!der.is_empty() && der[0] == 0x30, "DER signature");
    let mut s = C::encode_scalar(&sig.signature.s);
    *s.last_mut().unwrap() ^= 1;
    let flipped = Signature::<C> { r: sig.signature.r, s: C::decode_scalar(&s).unwrap() };
    let base = Case {
        name: format!("{name} ({}, {path}, {})", C::NAME, hash.name()),
        curve: C::NAME,
        spki: spki_der::<C>(&sig.public_key),
        sec1: C::encode_point(&sig.public_key),
        hash,
        message: message.to_vec(),
        digest: sig.digest,
        der,
        expect_valid: true,
    };
    let control = Case {
        name: format!("{} with one bit of s flipped", base.name),
        der: flipped.to_der(),
        expect_valid: false,
        ..base.clone()
    };
    vec![base, control]
}

/// An Ethereum `personal_sign` message (EIP-191 version 0x45).
fn ethereum_message(text: &[u8]) -> Vec<u8> {
    [format!("\x19Ethereum Signed Message:\n{}", text.len()).as_bytes(), text].concat()
}

/// Every case, computed once per test binary.
fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let msg = b"Conclave external verifier check";
        [
            cases_for::<Secp256k1>("root key", &[0, 1], "m", HashName::Sha256, msg, 7001),
            cases_for::<P256>("root key", &[1, 2], "m", HashName::Sha256, msg, 7002),
            cases_for::<P256>("derived key", &[0, 2], "m/1/2/3", HashName::Sha256, msg, 7003),
            cases_for::<Secp256k1>(
                "derived key, Ethereum message",
                &[0, 2],
                "m/44/60/0/0/7",
                HashName::Keccak256,
                &ethereum_message(b"transfer 1 ETH to the treasury"),
                7004,
            ),
        ]
        .concat()
    })
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}; run scripts/setup"))
}

fn describe(out: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn require_openssl() {
    match Command::new("openssl").arg("version").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("`openssl version` failed ({}); run scripts/setup", describe(&o)),
        Err(e) => panic!("the `openssl` command line is missing ({e}); run scripts/setup"),
    }
}

fn require_python_cryptography() {
    match Command::new("python3").args(["-c", "import cryptography"]).output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("the Python package `cryptography` is missing ({}); run scripts/setup", describe(&o)),
        Err(e) => panic!("python3 is missing ({e}); run scripts/setup"),
    }
}

fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("external_verifiers").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file_name(case: &Case) -> String {
    case.name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// OpenSSL's verdicts on a case: `dgst -sha256 -verify` over the message (SHA-256 cases), and
/// `pkeyutl -verify` over the digest (every case).
fn openssl_verdicts(case: &Case) -> Vec<(&'static str, Output)> {
    let dir = work_dir(&file_name(case));
    let key = dir.join("public.pem");
    let sig = dir.join("signature.der");
    let msg = dir.join("message.bin");
    let digest = dir.join("digest.bin");
    std::fs::write(&key, pem("PUBLIC KEY", &case.spki)).unwrap();
    std::fs::write(&sig, &case.der).unwrap();
    std::fs::write(&msg, &case.message).unwrap();
    std::fs::write(&digest, case.digest).unwrap();
    let mut verdicts = Vec::new();
    if case.hash == HashName::Sha256 {
        let out = run(Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(&key)
            .arg("-signature")
            .arg(&sig)
            .arg(&msg));
        verdicts.push(("openssl dgst -sha256 -verify", out));
    }
    let out = run(Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(&key)
        .arg("-in")
        .arg(&digest)
        .arg("-sigfile")
        .arg(&sig));
    verdicts.push(("openssl pkeyutl -verify", out));
    verdicts
}

#[test]
fn openssl_verifies_threshold_signatures() {
    require_openssl();
    for case in cases() {
        for (tool, out) in openssl_verdicts(case) {
            assert_eq!(
                out.status.success(),
                case.expect_valid,
                "{tool} on {}: expected {}\n{}",
                case.name,
                if case.expect_valid { "valid" } else { "invalid" },
                describe(&out)
            );
            // A rejection must be a verification failure, not an unreadable key or file.
            let said = String::from_utf8_lossy(&out.stdout);
            let verdict = if case.expect_valid { "Verified" } else { "Verification Failure" };
            assert!(
                said.to_lowercase().contains(&verdict.to_lowercase()),
                "{tool} on {}:\n{}",
                case.name,
                describe(&out)
            );
        }
    }
}

fn cases_json(cases: &[Case]) -> serde_json::Value {
    let list: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "curve": c.curve,
                "public_key_spki_der": hex::encode(&c.spki),
                "public_key_sec1": hex::encode(&c.sec1),
                "hash": c.hash.name(),
                "message": hex::encode(&c.message),
                "digest": hex::encode(c.digest),
                "signature_der": hex::encode(&c.der),
                "expect_valid": c.expect_valid,
            })
        })
        .collect();
    serde_json::json!({ "cases": list })
}

fn run_python_script(name: &str, cases: &[Case]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/verify_ecdsa.py");
    assert!(script.is_file(), "{} is missing", script.display());
    let file = work_dir("python").join(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_vec_pretty(&cases_json(cases)).unwrap()).unwrap();
    run(Command::new("python3").arg(&script).arg(&file))
}

#[test]
fn python_cryptography_verifies_threshold_signatures() {
    require_python_cryptography();
    let cases = cases();
    let out = run_python_script("cases", cases);
    assert!(out.status.success(), "scripts/verify_ecdsa.py rejected a case:\n{}", describe(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    let ok_lines = said.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(ok_lines, cases.len(), "one ok line per case:\n{said}");
    assert!(said.contains("rejected as expected"), "the negative controls ran:\n{said}");
}

#[test]
fn python_script_fails_on_a_bad_signature_claimed_valid() {
    // The script must be able to fail: a flipped signature presented as valid makes it exit 1.
    require_python_cryptography();
    let lie: Vec<Case> =
        cases().iter().filter(|c| !c.expect_valid).map(|c| Case { expect_valid: true, ..c.clone() }).collect();
    let out = run_python_script("lie", &lie);
    assert_eq!(out.status.code(), Some(1), "the script must report the failure:\n{}", describe(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(said.lines().filter(|l| l.starts_with("FAIL")).count(), lie.len(), "{said}");
}
