#!/usr/bin/env python3
"""Verifies ECDSA signatures with the Python `cryptography` package (code Conclave did not write).

Usage: verify_ecdsa.py CASES.json

CASES.json is {"cases": [case, ...]}; each case has
  name                 a label for the output
  curve                "secp256k1" or "secp256r1"
  public_key_spki_der  hex of the DER SubjectPublicKeyInfo (RFC 5480)
  public_key_sec1      hex of the compressed SEC1 point the SPKI must contain
  hash                 "sha256": verify ECDSA-SHA256 over `message` (and check `digest`);
                       "keccak256": verify over the 32-byte `digest` with `Prehashed`
  message              hex of the signed message
  digest               hex of the 32-byte digest that was signed
  signature_der        hex of the DER-encoded (r, s)
  expect_valid         whether the signature must verify (false for negative controls)

Prints one line per case and exits 0 only if every outcome matches `expect_valid`:
1 if any case does not, 2 on unusable input, 3 if `cryptography` is not installed.
"""

import hashlib
import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
except ImportError as e:  # pragma: no cover - depends on the environment
    print(f"verify_ecdsa: the Python package `cryptography` is missing ({e}); run scripts/setup", file=sys.stderr)
    sys.exit(3)

CURVES = {"secp256k1", "secp256r1"}


class BadCase(Exception):
    """The case itself is inconsistent (not a verification outcome)."""


def load_key(case):
    key = serialization.load_der_public_key(bytes.fromhex(case["public_key_spki_der"]))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise BadCase("the SPKI does not hold an EC public key")
    if case["curve"] not in CURVES or key.curve.name != case["curve"]:
        raise BadCase(f"curve {key.curve.name} in the SPKI, {case['curve']} expected")
    sec1 = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    if sec1.hex() != case["public_key_sec1"].lower():
        raise BadCase("the SPKI holds another point than public_key_sec1")
    return key


def verifies(case):
    """Whether the signature verifies; raises BadCase on inconsistent input."""
    key = load_key(case)
    signature = bytes.fromhex(case["signature_der"])
    message = bytes.fromhex(case["message"])
    digest = bytes.fromhex(case["digest"])
    if len(digest) != 32:
        raise BadCase("digest is not 32 bytes")
    try:
        if case["hash"] == "sha256":
            if hashlib.sha256(message).digest() != digest:
                raise BadCase("digest is not SHA-256(message)")
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        elif case["hash"] == "keccak256":
            # Keccak-256 is not a `cryptography` hash; Prehashed only needs the digest size,
            # which SHA-256 shares. The digest itself comes from the case.
            key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        else:
            raise BadCase(f"unknown hash {case['hash']!r}")
    except InvalidSignature:
        return False
    return True


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        cases = json.load(f).get("cases", [])
    if not cases:
        print("verify_ecdsa: no cases", file=sys.stderr)
        return 2
    failures = 0
    for case in cases:
        name = case.get("name", "?")
        try:
            ok = verifies(case)
        except (BadCase, KeyError, ValueError) as e:
            print(f"FAIL {name}: {type(e).__name__}: {e}")
            failures += 1
            continue
        expected = bool(case["expect_valid"])
        if ok == expected:
            print(f"ok   {name}: {'verified' if ok else 'rejected'} as expected")
        else:
            print(f"FAIL {name}: {'verified' if ok else 'rejected'}, expected {'valid' if expected else 'invalid'}")
            failures += 1
    print(f"verify_ecdsa: {len(cases) - failures}/{len(cases)} cases as expected (cryptography)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
