//! Paillier: round trips, homomorphic properties, CRT against plain computation, validation,
//! decoders on arbitrary bytes, redacted `Debug`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation is a test failure"
)]

mod common;

use common::{fixture_key, fixture_pairs, hex_int, read_json, rng, shared_vectors_dir};
use conclave_paillier::{
    generate_ring_pedersen, Ciphertext, DecryptionKey, EncryptionKey, Integer, Nonce, PaillierError, PrimePool,
    RingPedersenParams, MIN_MODULUS_BITS,
};
use proptest::prelude::*;
use rand_chacha::rand_core::RngCore;
use std::sync::OnceLock;

/// Keys are built once per test binary (each build checks both safe primes).
fn key(i: usize) -> &'static DecryptionKey {
    static KEYS: OnceLock<Vec<DecryptionKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| (0..2).map(fixture_key).collect());
    &keys[i]
}

fn random_below(r: &mut impl RngCore, bound: &Integer) -> Integer {
    let mut bytes = vec![0u8; (bound.significant_bits() as usize).div_ceil(8) + 16];
    r.fill_bytes(&mut bytes);
    Integer::from_digits(&bytes, rug::integer::Order::Msf) % bound
}

#[test]
fn key_shape() {
    let dk = key(0);
    let ek = dk.encryption_key();
    let (p, q) = dk.expose_primes();
    assert_eq!(*ek.modulus(), Integer::from(p * q));
    assert_eq!(*ek.modulus_squared(), Integer::from(ek.modulus().square_ref()));
    assert_eq!(ek.bits(), 3072);
    assert!(ek.bits() >= MIN_MODULUS_BITS);
    assert_eq!(ek.ciphertext_len(), 768);
    let back = EncryptionKey::from_be_bytes(&ek.to_be_bytes()).unwrap();
    assert_eq!(&back, ek);
}

#[test]
fn round_trip_public_and_owner_encryption() {
    let dk = key(0);
    let ek = dk.encryption_key();
    let n = ek.modulus().clone();
    let mut r = rng(100);
    let samples = [
        Integer::from(0),
        Integer::from(1),
        Integer::from(&n - 1u32),
        Integer::from(-1),
        Integer::from(1u32 - &n),
        random_below(&mut r, &n),
    ];
    for m in samples {
        let (c, nonce) = ek.encrypt(&mut r, &m).unwrap();
        let m_mod = Integer::from(m.modulo_ref(&n));
        assert_eq!(dk.decrypt(&c).unwrap(), m_mod);
        // Same nonce: the owner's CRT encryption gives the same ciphertext.
        assert_eq!(dk.encrypt_with_nonce(&m, &nonce).unwrap(), c);
        assert_eq!(ek.encrypt_with_nonce(&m, &nonce).unwrap(), c);
        // Encoding round trip.
        let bytes = ek.encode_ciphertext(&c).unwrap();
        assert_eq!(bytes.len(), ek.ciphertext_len());
        assert_eq!(ek.decode_ciphertext(&bytes).unwrap(), c);
        // Encryption formula: (1 + N)^m r^N mod N^2.
        let nn = ek.modulus_squared();
        let expected = Integer::from(&n + 1u32).pow_mod(&m_mod, nn).unwrap()
            * nonce.expose_secret().clone().pow_mod(&n, nn).unwrap()
            % nn;
        assert_eq!(*c.as_integer(), expected);
    }
}

#[test]
fn decrypt_signed_centres() {
    let dk = key(1);
    let ek = dk.encryption_key();
    let mut r = rng(101);
    let half = Integer::from(ek.modulus() >> 1u32);
    for m in [Integer::from(-5), Integer::from(7), half.clone(), -half.clone()] {
        let (c, _) = dk.encrypt(&mut r, &m).unwrap();
        assert_eq!(dk.decrypt_signed(&c).unwrap(), m);
    }
}

#[test]
fn owner_fresh_nonce_encryption_matches_the_formula() {
    let dk = key(0);
    let ek = dk.encryption_key();
    let n = ek.modulus();
    let nn = ek.modulus_squared();
    let mut r = rng(105);
    assert!(dk.precompute(&mut r));
    let mut nonces = Vec::new();
    for m in [Integer::from(0), Integer::from(1), Integer::from(-1), Integer::from(n - 1u32), random_below(&mut r, n)] {
        let (c, nonce) = dk.encrypt(&mut r, &m).unwrap();
        let rv = nonce.expose_secret();
        // The nonce is a unit below N, the ciphertext is (1 + N)^m r^N mod N^2 for it, and both
        // the public and the CRT encryption with that nonce give the same ciphertext.
        assert!(*rv > 0 && rv < n);
        assert_eq!(Integer::from(rv.gcd_ref(n)), 1);
        let m_mod = Integer::from(m.modulo_ref(n));
        let expected = Integer::from(n + 1u32).pow_mod(&m_mod, nn).unwrap() * rv.clone().pow_mod(n, nn).unwrap() % nn;
        assert_eq!(*c.as_integer(), expected);
        assert_eq!(ek.encrypt_with_nonce(&m, &nonce).unwrap(), c);
        assert_eq!(dk.decrypt(&c).unwrap(), m_mod);
        // fresh_nonce gives the N-th power alongside.
        let (nonce2, rn) = dk.fresh_nonce(&mut r).unwrap();
        assert_eq!(*rn.expose(), nonce2.expose_secret().clone().pow_mod(n, nn).unwrap());
        nonces.push(rv.clone());
        nonces.push(nonce2.expose_secret().clone());
    }
    // Fresh nonces differ and are spread over Z*_N (not stuck in a subgroup): both residue
    // symbols occur mod p and mod q.
    let (p, q) = dk.expose_primes();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 10);
    for prime in [p, q] {
        let symbols: Vec<i32> = nonces.iter().map(|x| x.legendre(prime)).collect();
        assert!(symbols.contains(&1) && symbols.contains(&-1));
    }
    // Plaintext range is still checked.
    assert!(dk.encrypt(&mut r, n).is_err());
}

#[test]
fn homomorphic_add_and_scalar_mul() {
    let dk = key(0);
    let ek = dk.encryption_key();
    let n = ek.modulus().clone();
    let mut r = rng(102);
    let a = random_below(&mut r, &n);
    let b = random_below(&mut r, &n);
    let (ca, _) = ek.encrypt(&mut r, &a).unwrap();
    let (cb, _) = ek.encrypt(&mut r, &b).unwrap();
    let sum = ek.add(&ca, &cb).unwrap();
    assert_eq!(dk.decrypt(&sum).unwrap(), Integer::from(&a + &b) % &n);
    for k in [
        Integer::from(0),
        Integer::from(1),
        Integer::from(3),
        Integer::from(-1),
        Integer::from(-12345),
        random_below(&mut r, &n),
        Integer::from(1) << 4000u32,
    ] {
        let ck = ek.scalar_mul(&ca, &k).unwrap();
        let expected = Integer::from(&a * &k).modulo(&n);
        assert_eq!(dk.decrypt(&ck).unwrap(), expected, "k = {k}");
        ek.validate_ciphertext(ck.as_integer()).unwrap();
    }
    // Ciphertexts of another (larger) key are refused.
    let big = key(1).encryption_key();
    let (cbig, _) = big.encrypt(&mut r, &a).unwrap();
    if cbig.as_integer() >= ek.modulus_squared() {
        assert!(ek.add(&ca, &cbig).is_err());
        assert!(dk.decrypt(&cbig).is_err());
    }
}

#[test]
fn crt_exponentiation_equals_plain() {
    let dk = key(0);
    let ek = dk.encryption_key();
    let n = ek.modulus();
    let nn = ek.modulus_squared();
    let mut r = rng(103);
    for _ in 0..4 {
        let x = random_below(&mut r, nn);
        let e = random_below(&mut r, &(Integer::from(1) << 3100u32));
        let plain = x.clone().pow_mod(&e, nn).unwrap();
        assert_eq!(dk.pow_mod_nn(&x, &e).unwrap(), plain);
        let neg = Integer::from(-&e);
        assert_eq!(dk.pow_mod_nn(&x, &neg).unwrap(), x.clone().pow_mod(&neg, nn).unwrap());
        let xn = random_below(&mut r, n);
        assert_eq!(dk.pow_mod_n(&xn, &e).unwrap(), xn.clone().pow_mod(&e, n).unwrap());
        assert_eq!(dk.pow_mod_n(&xn, &neg).unwrap(), xn.clone().pow_mod(&neg, n).unwrap());
    }
    // Edge cases: exponent 0 and 1, bases 0 and 1.
    let x = random_below(&mut r, nn);
    assert_eq!(dk.pow_mod_nn(&x, &Integer::from(0)).unwrap(), 1);
    assert_eq!(dk.pow_mod_nn(&x, &Integer::from(1)).unwrap(), x);
    assert_eq!(dk.pow_mod_nn(&Integer::from(0), &Integer::from(5)).unwrap(), 0);
    assert_eq!(dk.pow_mod_nn(&Integer::from(1), &Integer::from(-5)).unwrap(), 1);
    // Out-of-range bases and non-invertible bases with negative exponents are errors.
    assert!(dk.pow_mod_nn(nn, &Integer::from(2)).is_err());
    assert!(dk.pow_mod_nn(&Integer::from(-1), &Integer::from(2)).is_err());
    assert!(dk.pow_mod_n(n, &Integer::from(2)).is_err());
    let (p, _) = dk.expose_primes();
    assert!(dk.pow_mod_nn(p, &Integer::from(-1)).is_err());
    assert!(dk.pow_mod_n(&Integer::from(0), &Integer::from(-1)).is_err());
}

#[test]
fn validate_ciphertext_rejects_non_units() {
    let dk = key(0);
    let ek = dk.encryption_key();
    let (p, q) = dk.expose_primes();
    let n = ek.modulus();
    let nn = ek.modulus_squared();
    let bad = [
        ("0", Integer::from(0)),
        ("-1", Integer::from(-1)),
        ("N^2", nn.clone()),
        ("N^2 + 1", Integer::from(nn + 1u32)),
        ("p", p.clone()),
        ("3p", Integer::from(p * 3u32)),
        ("q", q.clone()),
        ("p^2", Integer::from(p.square_ref())),
        ("N", n.clone()),
        ("N^2 - N", Integer::from(nn - n)),
    ];
    for (what, c) in bad {
        assert!(ek.validate_ciphertext(&c).is_err(), "{what} accepted");
        let len = ek.ciphertext_len();
        if !c.is_negative() && (c.significant_bits() as usize).div_ceil(8) <= len {
            let mut bytes = vec![0u8; len - (c.significant_bits() as usize).div_ceil(8)];
            bytes.extend(c.to_digits::<u8>(rug::integer::Order::Msf));
            assert!(ek.decode_ciphertext(&bytes).is_err(), "{what} decoded");
        }
    }
    assert!(ek.validate_ciphertext(&Integer::from(1)).is_ok());
    assert!(ek.validate_ciphertext(&Integer::from(nn - 1u32)).is_ok());
    assert!(ek.decode_ciphertext(&[1u8; 10]).is_err());
    assert!(ek.decode_ciphertext(&vec![1u8; ek.ciphertext_len() + 1]).is_err());
}

#[test]
fn encryption_rejects_bad_inputs() {
    let dk = key(0);
    let ek = dk.encryption_key();
    let (p, _) = dk.expose_primes();
    let n = ek.modulus();
    let m = Integer::from(5);
    assert!(matches!(ek.encrypt(&mut rng(104), n), Err(PaillierError::OutOfRange(_))));
    assert!(ek.encrypt(&mut rng(104), &Integer::from(-n)).is_err());
    for bad_nonce in [Integer::from(0), n.clone(), Integer::from(-1)] {
        assert!(ek.encrypt_with_nonce(&m, &Nonce::new(bad_nonce.clone())).is_err());
        assert!(dk.encrypt_with_nonce(&m, &Nonce::new(bad_nonce)).is_err());
    }
    // A nonce sharing a factor with N would give a ciphertext outside Z*_{N^2}.
    assert!(matches!(ek.encrypt_with_nonce(&m, &Nonce::new(p.clone())), Err(PaillierError::NotInvertible(_))));
    assert!(dk.encrypt_with_nonce(&m, &Nonce::new(p.clone())).is_err());
}

#[test]
fn key_construction_checks() {
    let pairs = fixture_pairs();
    let (p, q) = pairs[0].clone();
    assert_eq!(DecryptionKey::from_safe_primes(p.clone(), p.clone()).unwrap_err(), PaillierError::EqualPrimes);
    assert_eq!(
        DecryptionKey::from_safe_primes(Integer::from(&p + 2u32), q.clone()).unwrap_err(),
        PaillierError::NotSafePrime
    );
    // Blum primes that are not safe primes are refused.
    let blum = read_json(shared_vectors_dir().join("cggmp21-pregenerated_primes.json"));
    let b0 = hex_int(&blum["primes"][0]["value"]);
    let b1 = hex_int(&blum["primes"][1]["value"]);
    assert_eq!(DecryptionKey::from_safe_primes(b0.clone(), b1.clone()).unwrap_err(), PaillierError::NotSafePrime);
    // 1024-bit safe primes give a 2048-bit modulus: below the floor.
    let ing = read_json(shared_vectors_dir().join("ing-safe-primes.json"));
    let (ip, iq) = (hex_int(&ing[0]["p"]), hex_int(&ing[0]["q"]));
    assert!(DecryptionKey::from_safe_primes(ip.clone(), iq.clone()).is_err());
    let small_n = Integer::from(&ip * &iq);
    let bits = small_n.significant_bits();
    assert!((2047..=2048).contains(&bits));
    assert_eq!(
        EncryptionKey::from_modulus(small_n).unwrap_err(),
        PaillierError::ModulusTooSmall { bits, min: MIN_MODULUS_BITS }
    );
    // Even, square, negative, too large.
    let n = Integer::from(&p * &q);
    assert!(EncryptionKey::from_modulus(Integer::from(&n + 1u32)).is_err());
    assert!(EncryptionKey::from_modulus(Integer::from(p.square_ref())).is_err());
    assert!(EncryptionKey::from_modulus(Integer::from(-&n)).is_err());
    assert!(EncryptionKey::from_modulus((Integer::from(1) << 9000u32) + 1u32).is_err());
    // Byte decoding: empty, leading zero.
    assert!(EncryptionKey::from_be_bytes(&[]).is_err());
    let mut bytes = vec![0u8];
    bytes.extend(n.to_digits::<u8>(rug::integer::Order::Msf));
    assert!(EncryptionKey::from_be_bytes(&bytes).is_err());
    assert!(EncryptionKey::from_be_bytes(&bytes[1..]).is_ok());
}

#[test]
fn key_from_pool() {
    let bytes = std::fs::read(common::fixtures_dir().join("prime-pool-1536.txt")).unwrap();
    let mut pool = PrimePool::from_bytes(&bytes).unwrap();
    let before = pool.len();
    let dk = DecryptionKey::from_pool(&mut pool).unwrap();
    assert_eq!(pool.len(), before - 2);
    let (c, _) = dk.encrypt(&mut rng(105), &Integer::from(42)).unwrap();
    assert_eq!(dk.decrypt(&c).unwrap(), 42);
    let mut empty = PrimePool::new(1536).unwrap();
    assert_eq!(DecryptionKey::from_pool(&mut empty).unwrap_err(), PaillierError::PoolExhausted);
    // Primes that are too small for a 3072-bit modulus are refused.
    let mut small = PrimePool::new(128).unwrap();
    small.fill(&mut rng(106), 2, std::num::NonZeroUsize::MIN).unwrap();
    assert!(DecryptionKey::from_pool(&mut small).is_err());
}

#[test]
fn ring_pedersen_commit_equals_plain_powers() {
    let dk = key(1);
    let (params, _) = generate_ring_pedersen(&mut rng(108), dk).unwrap();
    let n = params.modulus().clone();
    let plain = |x: &Integer, y: &Integer| {
        params.s().clone().pow_mod(x, &n).unwrap() * params.t().clone().pow_mod(y, &n).unwrap() % &n
    };
    let mut r = rng(109);
    let mut signed = |bits: u32| {
        let x = random_below(&mut r, &(Integer::from(1) << bits));
        if x.is_odd() {
            -x
        } else {
            x
        }
    };
    // Fresh clone: the tables are built by the first commit and shared with the original.
    let copy = params.clone();
    let edge = |bits: u32| (Integer::from(1) << bits) - 1u32;
    let cases = vec![
        (Integer::from(0), 1u32, Integer::from(0), 1u32),
        (Integer::from(1), 1, Integer::from(-1), 1),
        (edge(257), 257, -edge(3329), 3329),
        (-edge(769), 769, edge(3841), 3841),
        (signed(1793), 1793, signed(3841), 3841),
        (signed(3840), 3841, signed(6914), 6915),
        // Beyond the tables (4096 + 1024 and 2·3072 + 1024 bits): the GMP fallback.
        (signed(5000), 5000, signed(9000), 9000),
    ];
    for (x, xb, y, yb) in cases {
        assert_eq!(copy.commit(&x, xb, &y, yb).unwrap(), plain(&x, &y), "bounds {xb}, {yb}");
    }
    assert!(params.precompute());
    // A zero bound leaves the base out: commit(0, 0, y, b) = t^y.
    let y = signed(3072);
    assert_eq!(params.commit(&Integer::ZERO, 0, &y, 3072).unwrap(), plain(&Integer::ZERO, &y));
    assert!(params.commit(&Integer::from(1), 0, &y, 3072).is_err());
    // Exponents outside their stated bounds are refused.
    assert!(params.commit(&Integer::from(2), 1, &Integer::from(0), 1).is_err());
    assert!(params.commit(&Integer::from(0), 1, &Integer::from(-4), 2).is_err());
}

#[test]
fn own_paillier_relation_by_crt() {
    let dk = key(0);
    let ek = dk.encryption_key();
    let n = ek.modulus().clone();
    let nn = ek.modulus_squared().clone();
    let mut r = rng(114);
    let (c, _) = ek.encrypt(&mut r, &Integer::from(77)).unwrap();
    let (d, _) = ek.encrypt(&mut r, &Integer::from(-5)).unwrap();
    let (c, d) = (c.into_integer(), d.into_integer());
    for (z, w, c_exp, d_exp) in [
        (Integer::from(0), Integer::from(1), Integer::from(0), Integer::from(0)),
        (Integer::from(-3), Integer::from(&n - 1u32), Integer::from(1), Integer::from(-1)),
        (
            random_below(&mut r, &(Integer::from(1) << 1800u32)) - (Integer::from(1) << 1799u32),
            random_below(&mut r, &n),
            random_below(&mut r, &(Integer::from(1) << 770u32)) - (Integer::from(1) << 769u32),
            -random_below(&mut r, &(Integer::from(1) << 256u32)),
        ),
    ] {
        // target = (1 + zN) w^N C^c D^d mod N².
        let g = (Integer::from(z.modulo_ref(&n)) * &n + 1u32) % &nn;
        let target = g * w.clone().pow_mod(&n, &nn).unwrap() % &nn * c.clone().pow_mod(&c_exp, &nn).unwrap() % &nn
            * d.clone().pow_mod(&d_exp, &nn).unwrap()
            % &nn;
        let others = [(&c, &c_exp), (&d, &d_exp)];
        assert!(dk.paillier_relation_holds(&z, &w, &others, &target).unwrap());
        // The same through the public check.
        assert_eq!(
            ek.encrypt_with_nonce(&z, &Nonce::new(w.clone())).unwrap().into_integer()
                * conclave_paillier::multi_pow_vartime(&others, &nn).unwrap()
                % &nn,
            target
        );
        let z1 = Integer::from(&z + 1u32);
        assert!(!dk.paillier_relation_holds(&z1, &w, &others, &target).unwrap());
        let c1 = Integer::from(&c_exp + 1u32);
        assert!(!dk.paillier_relation_holds(&z, &w, &[(&c, &c1), (&d, &d_exp)], &target).unwrap());
        // Another nonce with the same residue mod p only: false.
        let (p, _) = dk.expose_primes();
        let w2 = Integer::from(&w + p) % &n;
        if Integer::from(w2.gcd_ref(&n)) == 1 {
            assert!(!dk.paillier_relation_holds(&z, &w2, &others, &target).unwrap());
        }
    }
    // w outside Z*_N is refused.
    let (p, _) = dk.expose_primes();
    assert!(dk.paillier_relation_holds(&Integer::from(0), p, &[], &Integer::from(1)).is_err());
    assert!(dk.paillier_relation_holds(&Integer::from(0), &n, &[], &Integer::from(1)).is_err());
    assert!(dk.paillier_relation_holds(&Integer::from(0), &Integer::from(0), &[], &Integer::from(1)).is_err());
}

#[test]
fn own_ring_pedersen_relation_by_crt() {
    let dk = key(1);
    let n = dk.encryption_key().modulus().clone();
    let (params, _) = generate_ring_pedersen(&mut rng(110), dk).unwrap();
    let (other_params, _) = generate_ring_pedersen(&mut rng(111), dk).unwrap();
    let mut r = rng(112);
    let mut signed = |bits: u32| {
        let x = random_below(&mut r, &(Integer::from(1) << bits));
        if x.is_odd() {
            -x
        } else {
            x
        }
    };
    let b = Integer::from(123_456_789u32);
    for rp in [&params, &other_params, &params] {
        let plain = |x: &Integer, y: &Integer, c: &Integer| {
            rp.s().clone().pow_mod(x, &n).unwrap()
                * rp.t().clone().pow_mod(y, &n).unwrap()
                * b.clone().pow_mod(c, &n).unwrap()
                % &n
        };
        for (x, y, c) in [
            (Integer::from(0), Integer::from(0), Integer::from(0)),
            (Integer::from(-1), Integer::from(1), Integer::from(-1)),
            (signed(770), signed(3842), signed(300)),
            (signed(3328), signed(6914), signed(2306)),
        ] {
            let target = plain(&x, &y, &c);
            assert!(dk.ring_pedersen_relation_holds(rp, &x, &y, &[(&b, &c)], &target).unwrap());
            // Same relation without the extra base: holds iff b^c = 1.
            let without = dk.ring_pedersen_relation_holds(rp, &x, &y, &[], &target).unwrap();
            assert_eq!(without, b.clone().pow_mod(&c, &n).unwrap() == 1);
            // Off by a factor of 2 (mod N), or by one in an exponent: false.
            let wrong = Integer::from(&target * 2u32) % &n;
            assert!(!dk.ring_pedersen_relation_holds(rp, &x, &y, &[(&b, &c)], &wrong).unwrap());
            let y1 = Integer::from(&y + 1u32);
            assert!(!dk.ring_pedersen_relation_holds(rp, &x, &y1, &[(&b, &c)], &target).unwrap());
            // A target that only agrees modulo p: still false.
            let (p, _) = dk.expose_primes();
            let half = Integer::from(&target + p) % &n;
            assert!(!dk.ring_pedersen_relation_holds(rp, &x, &y, &[(&b, &c)], &half).unwrap());
        }
    }
    // t^a by CRT equals the plain power; negative exponents are refused.
    for a in [Integer::from(0), Integer::from(1), random_below(&mut rng(115), &(Integer::from(1) << 3100u32))] {
        for rp in [&params, &other_params] {
            assert_eq!(dk.ring_pedersen_pow_t(rp, &a).unwrap(), rp.t().clone().pow_mod(&a, &n).unwrap());
        }
    }
    assert!(dk.ring_pedersen_pow_t(&params, &Integer::from(-1)).is_err());
    // Parameters over another modulus, or a non-unit extra base: errors.
    let (foreign, _) = generate_ring_pedersen(&mut rng(113), key(0)).unwrap();
    let one = Integer::from(1);
    assert!(dk.ring_pedersen_relation_holds(&foreign, &one, &one, &[], &one).is_err());
    assert!(dk.ring_pedersen_pow_t(&foreign, &one).is_err());
    let (p, _) = dk.expose_primes();
    assert!(dk.ring_pedersen_relation_holds(&params, &one, &one, &[(p, &one)], &one).is_err());
}

#[test]
fn ring_pedersen_generation_and_validation() {
    let dk = key(1);
    let n = dk.encryption_key().modulus().clone();
    let (params, secret) = generate_ring_pedersen(&mut rng(107), dk).unwrap();
    assert_eq!(*params.modulus(), n);
    let (p, q) = dk.expose_primes();
    assert_eq!(*secret.expose_phi(), Integer::from(p - 1u32) * Integer::from(q - 1u32));
    // s = t^λ mod N̂, and t is a square (t^(φ/2)... checked through its Legendre symbols).
    assert_eq!(params.t().clone().pow_mod(secret.expose_lambda(), &n).unwrap(), *params.s());
    assert_eq!(params.t().legendre(p), 1);
    assert_eq!(params.t().legendre(q), 1);
    let back = RingPedersenParams::from_bytes(&params.to_bytes()).unwrap();
    assert_eq!(back, params);
    let s = params.s().clone();
    let t = params.t().clone();
    let bad = [
        ("s = 1", n.clone(), Integer::from(1), t.clone()),
        ("t = 1", n.clone(), s.clone(), Integer::from(1)),
        ("t = 0", n.clone(), s.clone(), Integer::from(0)),
        ("t = N", n.clone(), s.clone(), n.clone()),
        ("t = N - 1", n.clone(), s.clone(), Integer::from(&n - 1u32)),
        ("s = p", n.clone(), p.clone(), t.clone()),
        ("t = 2q", n.clone(), s.clone(), Integer::from(q * 2u32)),
        ("N even", Integer::from(&n + 1u32), s.clone(), t.clone()),
        ("N small", Integer::from(p * 3u32), Integer::from(4), Integer::from(9)),
    ];
    for (what, nh, s, t) in bad {
        assert!(RingPedersenParams::new(nh, s, t).is_err(), "{what} accepted");
    }
    let mut bytes = params.to_bytes();
    bytes.push(0);
    assert!(RingPedersenParams::from_bytes(&bytes).is_err());
}

#[test]
fn secrets_are_redacted_in_debug() {
    let dk = key(0);
    let (p, q) = dk.expose_primes();
    let (params, secret) = generate_ring_pedersen(&mut rng(108), dk).unwrap();
    let (_, nonce) = dk.encryption_key().encrypt(&mut rng(109), &Integer::from(9)).unwrap();
    let pool =
        PrimePool::from_bytes(&std::fs::read(common::fixtures_dir().join("prime-pool-1536.txt")).unwrap()).unwrap();
    let texts = [
        format!("{dk:?}"),
        format!("{dk:#?}"),
        format!("{nonce:?}"),
        format!("{secret:?}"),
        format!("{pool:?}"),
        format!("{params:?}"),
        format!("{:?}", dk.encryption_key()),
    ];
    // Long enough prefixes of every secret, in the usual radixes.
    let mut needles = Vec::new();
    for x in [p, q, nonce.expose_secret(), secret.expose_lambda(), secret.expose_phi()] {
        for radix in [10, 16] {
            let s = x.to_string_radix(radix);
            needles.push(s[..16].to_string());
            needles.push(s[s.len() - 16..].to_string());
        }
    }
    for text in &texts {
        for needle in &needles {
            assert!(!text.contains(needle.as_str()), "secret leaked in {text}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encryption_key_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1200)) {
        let _ = EncryptionKey::from_be_bytes(&bytes);
    }

    #[test]
    fn ciphertext_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 760..776)) {
        let ek = key(0).encryption_key();
        if let Ok(c) = ek.decode_ciphertext(&bytes) {
            prop_assert_eq!(bytes.len(), ek.ciphertext_len());
            prop_assert!(c.as_integer() < ek.modulus_squared());
        }
    }

    #[test]
    fn ring_pedersen_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1600)) {
        let _ = RingPedersenParams::from_bytes(&bytes);
    }

    #[test]
    fn ring_pedersen_decoder_on_mutated_encodings(idx in 0usize..2400, byte in any::<u8>(), cut in 0usize..2400) {
        static GOOD: OnceLock<Vec<u8>> = OnceLock::new();
        let good = GOOD.get_or_init(|| {
            generate_ring_pedersen(&mut rng(110), key(0)).unwrap().0.to_bytes()
        });
        let mut bytes = good.clone();
        let i = idx % bytes.len();
        bytes[i] = byte;
        let _ = RingPedersenParams::from_bytes(&bytes);
        let _ = RingPedersenParams::from_bytes(&good[..cut.min(good.len())]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn round_trip_arbitrary_plaintexts(seed in any::<u64>(), m_bytes in proptest::collection::vec(any::<u8>(), 0..384)) {
        let dk = key(0);
        let ek = dk.encryption_key();
        let m = Integer::from_digits(&m_bytes, rug::integer::Order::Msf) % ek.modulus();
        let (c, _) = ek.encrypt(&mut rng(seed), &m).unwrap();
        prop_assert_eq!(dk.decrypt(&c).unwrap(), m);
    }
}

/// A signed integer from arbitrary bytes (the first byte's low bit is the sign).
fn signed_from(bytes: &[u8]) -> Integer {
    let x = Integer::from_digits(bytes.get(1..).unwrap_or(&[]), rug::integer::Order::Msf);
    if bytes.first().is_some_and(|b| b & 1 == 1) {
        -x
    } else {
        x
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The owner's CRT checks and the tables take any integers without panicking, and agree
    /// with the plain computation whenever they answer.
    #[test]
    fn crt_checks_never_panic_and_agree(
        x in proptest::collection::vec(any::<u8>(), 0..1000),
        y in proptest::collection::vec(any::<u8>(), 0..1000),
        b in proptest::collection::vec(any::<u8>(), 0..400),
        c in proptest::collection::vec(any::<u8>(), 0..100),
        target in proptest::collection::vec(any::<u8>(), 0..800),
    ) {
        static RP: OnceLock<RingPedersenParams> = OnceLock::new();
        let dk = key(1);
        let rp = RP.get_or_init(|| generate_ring_pedersen(&mut rng(120), dk).unwrap().0);
        let n = rp.modulus();
        let nn = dk.encryption_key().modulus_squared();
        let (x, y, b, c, target) = (signed_from(&x), signed_from(&y), signed_from(&b), signed_from(&c), signed_from(&target));
        let others = [(&b, &c)];
        if let Ok(holds) = dk.ring_pedersen_relation_holds(rp, &x, &y, &others, &target) {
            let plain = rp.s().clone().pow_mod(&x, n).unwrap() * rp.t().clone().pow_mod(&y, n).unwrap() % n
                * b.clone().pow_mod(&c, n).unwrap() % n;
            prop_assert_eq!(holds, plain == Integer::from(target.modulo_ref(n)));
        }
        if let Ok(holds) = dk.paillier_relation_holds(&x, &y, &others, &target) {
            let want = conclave_paillier::multi_pow_vartime(&others, nn).map(|o| {
                dk.encryption_key().encrypt_with_nonce(&Integer::from(x.modulo_ref(dk.encryption_key().modulus())), &Nonce::new(y.clone())).unwrap().into_integer() * o % nn
            });
            prop_assert_eq!(holds, want.is_some_and(|w| w == Integer::from(target.modulo_ref(nn))));
        }
        let _ = dk.ring_pedersen_pow_t(rp, &x);
        let xb = x.significant_bits();
        let yb = y.significant_bits();
        if let Ok(v) = rp.commit(&x, xb, &y, yb) {
            prop_assert_eq!(v, rp.s().clone().pow_mod(&x, n).unwrap() * rp.t().clone().pow_mod(&y, n).unwrap() % n);
        }
        prop_assert!(rp.commit(&x, xb.saturating_sub(1), &y, yb).is_err() || x.is_zero());
        let _ = conclave_paillier::multi_pow_vartime(&[(&x, &y), (&b, &c)], &target);
    }
}

/// The unused-import guard: `Ciphertext` is part of the public API used by downstream code.
#[allow(dead_code)]
fn _api(c: Ciphertext) -> Integer {
    c.into_integer()
}
