//! Shared machinery of the presigning / identifiable-abort proofs (CGGMP24): the security
//! parameters, ring-Pedersen commitments `s^x t^y mod N̂`, exponentiation with secret signed
//! exponents in constant time, Paillier encryption on the verifier's side, sampling, and the
//! membership checks (`Z*_N`, `Z*_{N²}`) every received value goes through.
//!
//! Secret exponents may be negative (the proofs work over the integers):
//! * ring-Pedersen commitments `s^x t^y` go through the verifier's precomputed comb tables
//!   ([`RingPedersenParams::commit`]): `x`, `y` are shifted by the public offsets `3·2^b` in
//!   constant-time limb arithmetic and the public corrections are multiplied in;
//! * a secret power of a public, non-fixed base (`C^α` of Π^aff-g, `pow_secret_select`)
//!   raises a masked choice of `base` or `base^-1` to `|x|` with `mpz_powm_sec`;
//! * nonces and `N`-th powers under the prover's own key come from its fixed-base tables
//!   ([`DecryptionKey::encrypt`]), and `ρ^e` under its own key by CRT.
//!
//! The verifiers take only public values; with their own decryption key (the key of `N̂`, and
//! of `N0` in Π^aff-g) they check the ring-Pedersen and Paillier equations by CRT
//! ([`DecryptionKey::ring_pedersen_relation_holds`], [`DecryptionKey::paillier_relation_holds`]),
//! otherwise by Straus multi-exponentiation ([`conclave_paillier::multi_pow_vartime`]).

use conclave_math::Transcript;
use conclave_paillier::{DecryptionKey, EncryptionKey, Nonce, RingPedersenParams};
use rand_core::CryptoRngCore;
use rug::integer::Order;
use rug::Integer;
use zeroize::Zeroize;

use crate::common::append_integer;

/// ℓ: bit bound of the honest plaintexts `k_i`, `γ_i`, `x_i` (CGGMP24: ℓ = 256 for 256-bit
/// curves; `2^ℓ ≥ q/2` is what the protocol needs).
pub const ELL: u32 = 256;

/// ε: slack of the range proofs; a proof shows `x ∈ ±2^(ℓ+ε)` for an honest `x ∈ ±2^ℓ`
/// (CGGMP24 at the 128-bit level: ε = 2ℓ = 512).
pub const EPSILON: u32 = 512;

/// ℓ′: bit bound of the MtA masks `β` (CGGMP24: ℓ′ = 5ℓ = 1280).
pub const ELL_PRIME: u32 = 1280;

/// m: number of binary challenges (parallel repetitions) of the setup-less proofs
/// (Π^aff-g*, Π^dec of the identifiable-abort rounds); soundness error `2^-m`.
pub const BINARY_CHALLENGES: usize = 128;

/// Largest modulus (Paillier or ring-Pedersen) a decoder accepts, in bits.
pub const MAX_MODULUS_BITS: u32 = conclave_paillier::MAX_MODULUS_BITS;

/// Bound, in bits, on every integer a proof decoder accepts (ciphertexts are below `N²`;
/// responses such as `γ + e·μ` are below `2^(ℓ+ε+1)·N̂ + 2^(2ℓ+1)·N̂`). Exact ranges are
/// checked by `verify`, not by the decoder.
pub const MAX_INTEGER_BITS: u32 = 2 * MAX_MODULUS_BITS + 2 * (ELL + EPSILON);

/// Why a prover could not produce a proof: its inputs do not fit the proof (a bug of the
/// caller, never a peer's fault). Carries no secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProveError {
    /// An input is outside what the proof supports (named).
    #[error("invalid prover input: {0}")]
    InvalidInput(&'static str),
}

pub(crate) use conclave_paillier::{wipe_integer as wipe, SecretInt as SecretInteger};

/// A uniformly random integer in `[0, bound)` (statistical distance ≤ 2^-128 from uniform).
/// Returns 0 for `bound ≤ 1`.
pub(crate) fn random_below(rng: &mut dyn CryptoRngCore, bound: &Integer) -> Integer {
    if *bound <= 1 {
        return Integer::ZERO;
    }
    let bits = bound.significant_bits() + 128;
    let mut bytes = vec![0u8; (bits as usize).div_ceil(8)];
    rng.fill_bytes(&mut bytes);
    let mut wide = Integer::from_digits(&bytes, Order::Msf);
    bytes.zeroize();
    let r = Integer::from(wide.modulo_ref(bound));
    wipe(&mut wide);
    r
}

/// A uniformly random integer in `±bound = [-bound, bound]`.
pub(crate) fn random_signed(rng: &mut dyn CryptoRngCore, bound: &Integer) -> SecretInteger {
    let width = Integer::from(bound * 2u32) + 1u32;
    let mut r = random_below(rng, &width);
    r -= bound;
    SecretInteger::new(r)
}

/// A uniformly random integer in `±2^bits`.
pub(crate) fn random_signed_bits(rng: &mut dyn CryptoRngCore, bits: u32) -> SecretInteger {
    random_signed(rng, &(Integer::from(1) << bits))
}

/// A uniformly random integer in `±(2^bits · n)`.
pub(crate) fn random_signed_scaled(rng: &mut dyn CryptoRngCore, bits: u32, n: &Integer) -> SecretInteger {
    random_signed(rng, &(Integer::from(n) << bits))
}

/// A uniformly random element of `Z*_n` (by rejection; `n` a valid modulus).
pub(crate) fn random_unit(rng: &mut dyn CryptoRngCore, n: &Integer) -> SecretInteger {
    loop {
        let r = random_below(rng, n);
        if r > 0 && is_unit(&r, n) {
            return SecretInteger::new(r);
        }
    }
}

/// `x ∈ Z*_n`: `0 < x < n` and `gcd(x, n) = 1` (public values only).
pub fn is_unit(x: &Integer, n: &Integer) -> bool {
    *x > 0 && x < n && Integer::from(x.gcd_ref(n)) == 1
}

/// `c ∈ Z*_{N²}` for the key `ek`: `0 < c < N²` and `gcd(c, N) = 1` (public values only).
pub fn is_ciphertext(c: &Integer, ek: &EncryptionKey) -> bool {
    *c > 0 && c < ek.modulus_squared() && Integer::from(c.gcd_ref(ek.modulus())) == 1
}

/// `|x| ≤ 2^bits`, the paper's `x ∈ ±2^bits`.
pub fn in_range_bits(x: &Integer, bits: u32) -> bool {
    let bound = Integer::from(1) << bits;
    x.as_abs().le(&bound)
}

/// `base^x mod m` for a public unit `base` and a secret signed exponent `x` with
/// `|x| ≤ 2^bound_bits`, with one `mpz_powm_sec` and no correction factor: the sign of `x`
/// selects, by a masked selection over a fixed number of limbs, between `base` and its public
/// inverse (each first lifted to `base + 2^64·m`, so both candidates have the same limb count
/// `n + 1`), which is then raised to `|x|`.
///
/// What the timing depends on: the limb counts of `m`, of the selected base (fixed) and of
/// `|x|`. For `x` uniform in `±2^b` (the masks α of the proofs) `|x|` has `⌈(b+1)/64⌉` limbs
/// except with probability about `2^-64`, so the sign never leaks and the length only in that
/// event. Returns `None` if `base` is not a unit modulo the odd `m`, or `|x| > 2^bound_bits`.
pub(crate) fn pow_secret_select(base: &Integer, x: &Integer, bound_bits: u32, m: &Integer) -> Option<Integer> {
    use subtle::{Choice, ConditionallySelectable};
    if m.is_even() || *m <= 1 || !in_range_bits(x, bound_bits) || !is_unit(base, m) {
        return None;
    }
    let inv = Integer::from(base.invert_ref(m)?);
    let lift = Integer::from(m << 64u32);
    let len = lift.significant_digits::<u64>() + 1;
    let digits = |v: &Integer| {
        let mut d = Integer::from(v + &lift).to_digits::<u64>(Order::Lsf);
        d.resize(len, 0);
        d
    };
    let (plus, minus) = (digits(base), digits(&inv));
    let neg = Choice::from(u8::from(x.is_negative()));
    let mut chosen: Vec<u64> = plus.iter().zip(&minus).map(|(a, b)| u64::conditional_select(a, b, neg)).collect();
    let mut selected = Integer::from_digits(&chosen, Order::Lsf);
    chosen.zeroize();
    let mut abs = Integer::from(x.abs_ref());
    let r = if abs.is_zero() { Integer::from(1) } else { Integer::from(selected.secure_pow_mod_ref(&abs, m)) };
    wipe(&mut abs);
    wipe(&mut selected);
    Some(r)
}

/// `base^e mod m` for a secret base and a public signed exponent `e`. A negative `e` uses a
/// blinded inverse `u·(base·u)^-1` (the value inverted is uniform, whatever `base` is).
pub(crate) fn pow_public_exp_secret_base(
    rng: &mut dyn CryptoRngCore,
    base: &Integer,
    e: &Integer,
    m: &Integer,
) -> Option<Integer> {
    if m.is_even() || *m <= 1 {
        return None;
    }
    if e.is_zero() {
        return Some(Integer::from(1));
    }
    let b = oriented_base(rng, base, e, m)?;
    let abs = Integer::from(e.abs_ref());
    Some(Integer::from(b.expose().secure_pow_mod_ref(&abs, m)))
}

/// The base to raise to `|e|`: `base mod m`, or for `e < 0` its inverse, computed blinded by a
/// random unit (`(base·u)^{-1}·u`) so that the inversion does not run on the secret alone.
fn oriented_base(rng: &mut dyn CryptoRngCore, base: &Integer, e: &Integer, m: &Integer) -> Option<SecretInteger> {
    if !e.is_negative() {
        return Some(SecretInteger::new(Integer::from(base.modulo_ref(m))));
    }
    let u = random_unit(rng, m);
    let blinded = Integer::from(base * u.expose()) % m;
    let inv = blinded.invert(m).ok()?;
    Some(SecretInteger::new(inv * u.expose() % m))
}

/// As [`pow_public_exp_secret_base`] modulo `N` of `key` when `key` is given and its `N` is
/// `m`: the (blinded-inverted, for `e < 0`) base is raised to `|e|` by CRT
/// ([`DecryptionKey::pow_mod_n`], `mpz_powm_sec` mod `p` and `q`).
pub(crate) fn pow_public_exp_secret_base_with(
    rng: &mut dyn CryptoRngCore,
    key: Option<&DecryptionKey>,
    base: &Integer,
    e: &Integer,
    m: &Integer,
) -> Option<Integer> {
    let Some(dk) = key.filter(|k| k.encryption_key().modulus() == m) else {
        return pow_public_exp_secret_base(rng, base, e, m);
    };
    if e.is_zero() {
        return Some(Integer::from(1));
    }
    let b = oriented_base(rng, base, e, m)?;
    let abs = Integer::from(e.abs_ref());
    dk.pow_mod_n(b.expose(), &abs).ok()
}

/// A fresh Paillier encryption of the secret `m` under `ek` with a fresh nonce: by the owner's
/// fixed-base tables ([`DecryptionKey::encrypt`]) when `key` is the decryption key of `ek`,
/// otherwise with a uniform nonce and the constant-time public-key encryption. Returns the
/// ciphertext and the nonce.
pub(crate) fn enc_fresh(
    rng: &mut dyn CryptoRngCore,
    ek: &EncryptionKey,
    key: Option<&DecryptionKey>,
    m: &Integer,
) -> Option<(Integer, SecretInteger)> {
    if let Some(dk) = key.filter(|k| k.encryption_key() == ek) {
        let (c, nonce) = dk.encrypt(rng, m).ok()?;
        return Some((c.into_integer(), SecretInteger::new(nonce.expose_secret().clone())));
    }
    let r = random_unit(rng, ek.modulus());
    let c = enc_secret(ek, m, r.expose())?;
    Some((c, r))
}

/// `base^e mod m` for public values (negative `e` inverts `base`); `None` if `base` is
/// not invertible.
pub(crate) fn pow_vartime(base: &Integer, e: &Integer, m: &Integer) -> Option<Integer> {
    base.clone().pow_mod(e, m).ok()
}

/// Ring-Pedersen commitment `s^x t^y mod N̂` to secret `x` (`|x| < 2^x_bits`) and `y`
/// (`|y| < 2^y_bits`), in constant time: [`RingPedersenParams::commit`] (fixed-base comb tables
/// of the verifier's `s`, `t`, built once per parameter set).
pub(crate) fn rp_commit_secret(
    rp: &RingPedersenParams,
    x: &Integer,
    x_bits: u32,
    y: &Integer,
    y_bits: u32,
) -> Option<Integer> {
    rp.commit(x, x_bits, y, y_bits).ok()
}

/// The verifier's check of a Paillier equation `enc(z; w) · Π b_i^(c_i) = target (mod N²)`
/// for public values, i.e. `(1 + z·N)·w^N·Π b_i^(c_i) = target`: one Straus
/// multi-exponentiation (`w^N` and the `b_i^(c_i)` share their squarings). `false` if a base
/// with a negative exponent is not invertible.
pub(crate) fn paillier_equation_vartime(
    ek: &EncryptionKey,
    z: &Integer,
    w: &Integer,
    others: &[(&Integer, &Integer)],
    target: &Integer,
) -> bool {
    let n = ek.modulus();
    let nn = ek.modulus_squared();
    let mut terms: Vec<(&Integer, &Integer)> = vec![(w, n)];
    terms.extend_from_slice(others);
    let Some(pows) = conclave_paillier::multi_pow_vartime(&terms, nn) else {
        return false;
    };
    let mut g = Integer::from(z.modulo_ref(n)) * n;
    g += 1u32;
    Integer::from(&pows * &g) % nn == *target
}

/// The verifier's ring-Pedersen equation `s^x t^y = A·B^e (mod N̂)` for public values: by CRT
/// with our own key when `key` is the decryption key of `N̂`
/// ([`DecryptionKey::ring_pedersen_relation_holds`]), otherwise as one Straus
/// multi-exponentiation `s^x t^y B^-e = A`. `false` on any arithmetic failure.
pub(crate) fn rp_equation(
    rp: &RingPedersenParams,
    key: Option<&DecryptionKey>,
    x: &Integer,
    y: &Integer,
    a: &Integer,
    b: &Integer,
    e: &Integer,
) -> bool {
    let n_hat = rp.modulus();
    if let Some(dk) = key.filter(|k| k.encryption_key().modulus() == n_hat) {
        let Some(target) = mul_pow_vartime(a, b, e, n_hat) else {
            return false;
        };
        return dk.ring_pedersen_relation_holds(rp, x, y, &[], &target).unwrap_or(false);
    }
    let neg_e = Integer::from(-e);
    conclave_paillier::multi_pow_vartime(&[(rp.s(), x), (rp.t(), y), (b, &neg_e)], n_hat).is_some_and(|v| v == *a)
}

/// `a · b^e mod m` for public values (verifier side).
pub(crate) fn mul_pow_vartime(a: &Integer, b: &Integer, e: &Integer, m: &Integer) -> Option<Integer> {
    Some(a * pow_vartime(b, e, m)? % m)
}

/// Paillier encryption `(1 + N)^m · r^N mod N²` of public `m` (any sign, taken mod `N`) with
/// public nonce `r` (verifier side; `r` is a response of the proof).
pub(crate) fn enc_vartime(ek: &EncryptionKey, m: &Integer, r: &Integer) -> Option<Integer> {
    let n = ek.modulus();
    let nn = ek.modulus_squared();
    let mut c = Integer::from(m.modulo_ref(n)) * n;
    c += 1u32;
    let rn = pow_vartime(r, n, nn)?;
    Some(c * rn % nn)
}

/// Paillier encryption of a secret `m` (`|m| < N`) with a secret nonce `r` (prover side;
/// `r^N` in constant time).
pub(crate) fn enc_secret(ek: &EncryptionKey, m: &Integer, r: &Integer) -> Option<Integer> {
    ek.encrypt_with_nonce(m, &Nonce::new(r.clone())).ok().map(|c| c.into_integer())
}

/// Absorbs a Paillier public key (its modulus).
pub(crate) fn append_paillier(t: &mut Transcript, label: &'static str, ek: &EncryptionKey) {
    append_integer(t, label, ek.modulus());
}

/// Absorbs ring-Pedersen parameters `(N̂, s, t)`.
pub(crate) fn append_rp(t: &mut Transcript, rp: &RingPedersenParams) {
    append_integer(t, "rp/n-hat", rp.modulus());
    append_integer(t, "rp/s", rp.s());
    append_integer(t, "rp/t", rp.t());
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn pow_secret_matches_vartime_for_all_signs() {
        let m = Integer::from(1_000_003u32) * Integer::from(999_983u32);
        let base = Integer::from(12345u32);
        for x in [-70_000i64, -65_536, -1, 0, 1, 65_535, 70_000] {
            let x = Integer::from(x);
            assert_eq!(pow_secret_select(&base, &x, 17, &m), pow_vartime(&base, &x, &m));
        }
        // Bound, unit and modulus checks.
        assert_eq!(pow_secret_select(&base, &Integer::from((1 << 17) + 1), 17, &m), None);
        assert_eq!(pow_secret_select(&Integer::from(1_000_003u32), &Integer::from(3), 17, &m), None);
        assert_eq!(pow_secret_select(&base, &Integer::from(3), 17, &Integer::from(1 << 20)), None);
        // A modulus whose top limb is all ones (the lifted candidates still fit n + 1 limbs).
        let big = (Integer::from(1) << 256u32) - 189u32;
        for x in [Integer::from(-1) << 200u32, Integer::from(12345) << 100u32] {
            assert_eq!(pow_secret_select(&base, &x, 210, &big), pow_vartime(&base, &x, &big));
        }
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for e in [-5i64, 0, 7] {
            let e = Integer::from(e);
            assert_eq!(pow_public_exp_secret_base(&mut rng, &base, &e, &m), pow_vartime(&base, &e, &m));
        }
    }

    #[test]
    fn ranges_and_units() {
        assert!(in_range_bits(&Integer::from(256), 8));
        assert!(in_range_bits(&Integer::from(-256), 8));
        assert!(!in_range_bits(&Integer::from(257), 8));
        assert!(!in_range_bits(&Integer::from(-257), 8));
        assert!(is_unit(&Integer::from(2), &Integer::from(15)));
        assert!(!is_unit(&Integer::from(3), &Integer::from(15)));
        assert!(!is_unit(&Integer::from(0), &Integer::from(15)));
        assert!(!is_unit(&Integer::from(15), &Integer::from(15)));
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        for _ in 0..100 {
            let r = random_signed_bits(&mut rng, 8);
            assert!(in_range_bits(r.expose(), 8));
        }
    }
}
