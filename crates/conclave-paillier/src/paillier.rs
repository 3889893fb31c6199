//! Paillier encryption with `g = 1 + N`, decryption and owner-side exponentiation by CRT.
//!
//! * [`EncryptionKey`]: the public modulus `N` (at least [`MIN_MODULUS_BITS`] bits) and `N^2`.
//! * [`DecryptionKey`]: the two safe primes and CRT constants; secret, zeroized on drop.
//! * [`Ciphertext`]: an element of `Z*_{N^2}`, obtained only by encryption, by a homomorphic
//!   operation or by [`EncryptionKey::validate_ciphertext`].
//! * [`Nonce`]: the encryption randomness `r ∈ Z*_N`; secret, zeroized on drop.
//!
//! Plaintexts are integers `m` with `|m| < N`, taken modulo `N`. [`DecryptionKey::decrypt`]
//! returns the representative in `[0, N)`, [`DecryptionKey::decrypt_signed`] the one in
//! `[-(N-1)/2, (N-1)/2]`.

use std::sync::{Arc, OnceLock};

use crate::bigint::{
    byte_len, from_be_bytes, is_coprime_vartime, pow_mod_secret, random_below, random_nonzero_below, to_be_bytes,
    to_be_bytes_padded, wipe_integer, SecretInt,
};
use crate::error::PaillierError;
use crate::fixed_base::{multi_pow, pow_unsigned, FixedBaseTable, Term};
use crate::mont::{limbs_of, MontModulus};
use crate::pool::PrimePool;
use crate::primes::is_safe_prime;
use crate::ring_pedersen::RingPedersenParams;
use rand_core::CryptoRngCore;
use rug::Integer;
use subtle::Choice;
use zeroize::Zeroize;

/// Smallest Paillier (or ring-Pedersen) modulus accepted anywhere, in bits: the 128-bit
/// security level of CGGMP24.
pub const MIN_MODULUS_BITS: u32 = 3071;

/// Largest modulus accepted, in bits (bounds the work a peer can make us do).
pub const MAX_MODULUS_BITS: u32 = 8192;

/// Size of each prime of a freshly generated modulus, in bits.
pub const PRIME_BITS: u32 = 1536;

/// Checks the public shape of a modulus: odd, `MIN_MODULUS_BITS <= bits <= MAX_MODULUS_BITS`,
/// not a perfect square. Shared with the ring-Pedersen parameters.
pub(crate) fn check_modulus(n: &Integer) -> Result<(), PaillierError> {
    if n.is_negative() {
        return Err(PaillierError::InvalidModulus("negative"));
    }
    let bits = n.significant_bits();
    if bits < MIN_MODULUS_BITS {
        return Err(PaillierError::ModulusTooSmall { bits, min: MIN_MODULUS_BITS });
    }
    if bits > MAX_MODULUS_BITS {
        return Err(PaillierError::ModulusTooLarge { bits, max: MAX_MODULUS_BITS });
    }
    if n.is_even() {
        return Err(PaillierError::InvalidModulus("even"));
    }
    if n.is_perfect_square() {
        return Err(PaillierError::InvalidModulus("perfect square"));
    }
    Ok(())
}

/// A Paillier public key: the modulus `N` and `N^2`.
///
/// Constructing one checks only the public shape of `N` (see
/// [`EncryptionKey::from_modulus`]); a peer's key must also come with the Π^mod and Π^fac
/// proofs (in `conclave-zk`) before it is trusted.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptionKey {
    n: Integer,
    nn: Integer,
}

impl core::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EncryptionKey").field("bits", &self.n.significant_bits()).finish_non_exhaustive()
    }
}

impl EncryptionKey {
    /// Builds a public key from a modulus `N`.
    ///
    /// Checks: `N` odd, not a perfect square, and `MIN_MODULUS_BITS <= bitlen(N) <=
    /// MAX_MODULUS_BITS`. It does not (cannot) check that `N` is a product of two large
    /// primes: that is what Π^mod and Π^fac are for.
    pub fn from_modulus(n: Integer) -> Result<Self, PaillierError> {
        check_modulus(&n)?;
        let nn = Integer::from(n.square_ref());
        Ok(Self { n, nn })
    }

    /// Decodes a public key from the big-endian bytes of `N`.
    ///
    /// Checks: canonical encoding (non-empty, no leading zero byte), at most
    /// `MAX_MODULUS_BITS` bits, then everything [`EncryptionKey::from_modulus`] checks.
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Self, PaillierError> {
        match bytes.first() {
            None => return Err(PaillierError::Malformed("empty modulus")),
            Some(0) => return Err(PaillierError::Malformed("leading zero byte")),
            Some(_) => {}
        }
        if bytes.len() > byte_len(MAX_MODULUS_BITS) {
            return Err(PaillierError::ModulusTooLarge {
                bits: u32::try_from(bytes.len().saturating_mul(8)).unwrap_or(u32::MAX),
                max: MAX_MODULUS_BITS,
            });
        }
        Self::from_modulus(from_be_bytes(bytes))
    }

    /// The minimal big-endian encoding of `N` (the inverse of [`EncryptionKey::from_be_bytes`]).
    pub fn to_be_bytes(&self) -> Vec<u8> {
        to_be_bytes(&self.n)
    }

    /// The modulus `N`.
    pub fn modulus(&self) -> &Integer {
        &self.n
    }

    /// `N^2`.
    pub fn modulus_squared(&self) -> &Integer {
        &self.nn
    }

    /// Bit length of `N`.
    pub fn bits(&self) -> u32 {
        self.n.significant_bits()
    }

    /// Length in bytes of an encoded ciphertext (the byte length of `N^2`).
    pub fn ciphertext_len(&self) -> usize {
        byte_len(self.nn.significant_bits())
    }

    /// Accepts a received ciphertext.
    ///
    /// Checks: `0 < c < N^2` and `gcd(c, N) = 1`, i.e. `c ∈ Z*_{N^2}`. (Whether `c` encrypts
    /// what its sender claims is for the accompanying zero-knowledge proof.)
    pub fn validate_ciphertext(&self, c: &Integer) -> Result<Ciphertext, PaillierError> {
        if *c <= 0 || *c >= self.nn {
            return Err(PaillierError::OutOfRange("ciphertext not in (0, N^2)"));
        }
        if !is_coprime_vartime(c, &self.n) {
            return Err(PaillierError::NotInvertible("ciphertext not coprime to N"));
        }
        Ok(Ciphertext(c.clone()))
    }

    /// Decodes a ciphertext from exactly [`EncryptionKey::ciphertext_len`] big-endian bytes.
    ///
    /// Checks: the exact length, then everything [`EncryptionKey::validate_ciphertext`]
    /// checks.
    pub fn decode_ciphertext(&self, bytes: &[u8]) -> Result<Ciphertext, PaillierError> {
        if bytes.len() != self.ciphertext_len() {
            return Err(PaillierError::Malformed("ciphertext length"));
        }
        self.validate_ciphertext(&from_be_bytes(bytes))
    }

    /// Encodes a ciphertext as exactly [`EncryptionKey::ciphertext_len`] big-endian bytes.
    ///
    /// Checks: `c < N^2` (a ciphertext of another, larger key is refused).
    pub fn encode_ciphertext(&self, c: &Ciphertext) -> Result<Vec<u8>, PaillierError> {
        self.check_ours(c)?;
        to_be_bytes_padded(&c.0, self.ciphertext_len())
    }

    /// Samples an encryption nonce uniformly from `[1, N)` (outside `Z*_N` only with
    /// negligible probability for a well-formed `N`; [`EncryptionKey::encrypt_with_nonce`]
    /// checks it anyway).
    pub fn sample_nonce<R: CryptoRngCore + ?Sized>(&self, rng: &mut R) -> Result<Nonce, PaillierError> {
        Ok(Nonce(SecretInt::new(random_nonzero_below(rng, &self.n)?)))
    }

    /// Checks `|m| < N` and returns `m mod N` as a secret.
    fn reduce_plaintext(&self, m: &Integer) -> Result<SecretInt, PaillierError> {
        if m.cmp_abs(&self.n).is_ge() {
            return Err(PaillierError::OutOfRange("plaintext not in (-N, N)"));
        }
        Ok(SecretInt::new(Integer::from(m.modulo_ref(&self.n))))
    }

    /// Checks `0 < r < N` for a nonce.
    fn check_nonce(&self, nonce: &Nonce) -> Result<(), PaillierError> {
        let r = nonce.0.expose();
        if *r <= 0 || *r >= self.n {
            return Err(PaillierError::OutOfRange("nonce not in (0, N)"));
        }
        Ok(())
    }

    /// `(1 + m N) * rn mod N^2` where `rn = r^N mod N^2`, and the check that the result lies
    /// in `Z*_{N^2}` (it does not when `gcd(r, N) != 1`).
    fn finish_encryption(&self, m: &SecretInt, rn: &SecretInt) -> Result<Ciphertext, PaillierError> {
        let mut c = Integer::from(m.expose() * &self.n);
        c += 1u32;
        c *= rn.expose();
        c %= &self.nn;
        if !is_coprime_vartime(&c, &self.n) {
            return Err(PaillierError::NotInvertible("nonce not coprime to N"));
        }
        Ok(Ciphertext(c))
    }

    /// Encrypts `m` with the caller's nonce `r`: `c = (1 + N)^m * r^N mod N^2`.
    ///
    /// Checks: `|m| < N` (`m` is taken mod `N`), `0 < r < N`, and that the result lies in
    /// `Z*_{N^2}` (which fails exactly when `gcd(r, N) != 1`). `r^N` is computed with the
    /// side-channel-resilient exponentiation (the nonce is secret).
    pub fn encrypt_with_nonce(&self, m: &Integer, nonce: &Nonce) -> Result<Ciphertext, PaillierError> {
        let m = self.reduce_plaintext(m)?;
        self.check_nonce(nonce)?;
        let rn = SecretInt::new(pow_mod_secret(nonce.0.expose(), &self.n, &self.nn)?);
        self.finish_encryption(&m, &rn)
    }

    /// Encrypts `m` with a fresh nonce drawn from `rng`, and returns the ciphertext with the
    /// nonce (needed by the proofs of correct encryption).
    ///
    /// Checks: as [`EncryptionKey::encrypt_with_nonce`].
    pub fn encrypt<R: CryptoRngCore + ?Sized>(
        &self,
        rng: &mut R,
        m: &Integer,
    ) -> Result<(Ciphertext, Nonce), PaillierError> {
        let nonce = self.sample_nonce(rng)?;
        let c = self.encrypt_with_nonce(m, &nonce)?;
        Ok((c, nonce))
    }

    /// Checks that a ciphertext is below `N^2` (so that it can belong to this key).
    fn check_ours(&self, c: &Ciphertext) -> Result<(), PaillierError> {
        if c.0 >= self.nn {
            return Err(PaillierError::OutOfRange("ciphertext of another key"));
        }
        Ok(())
    }

    /// Homomorphic addition: `a * b mod N^2` encrypts the sum of the plaintexts (mod `N`).
    ///
    /// Checks: both ciphertexts below `N^2`.
    pub fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext, PaillierError> {
        self.check_ours(a)?;
        self.check_ours(b)?;
        let c = Integer::from(&a.0 * &b.0) % &self.nn;
        Ok(Ciphertext(c))
    }

    /// Homomorphic multiplication by an integer `k` (any sign, may be secret):
    /// `c^k mod N^2` encrypts `k * m mod N`.
    ///
    /// Checks: `c` below `N^2`. For `k < 0`, `c` is inverted first (it is public). The
    /// exponentiation by `|k|` is side-channel resilient; the sign of `k` and its size in limbs
    /// are not hidden.
    pub fn scalar_mul(&self, c: &Ciphertext, k: &Integer) -> Result<Ciphertext, PaillierError> {
        self.check_ours(c)?;
        let base = if k.is_negative() {
            Integer::from(
                c.0.invert_ref(&self.nn).ok_or(PaillierError::NotInvertible("ciphertext not invertible mod N^2"))?,
            )
        } else {
            c.0.clone()
        };
        let mut abs_k = Integer::from(k.abs_ref());
        let r = pow_mod_secret(&base, &abs_k, &self.nn);
        wipe_integer(&mut abs_k);
        Ok(Ciphertext(r?))
    }
}

/// A Paillier ciphertext, an element of `Z*_{N^2}` for the key it was made or validated with.
///
/// Obtained only from encryption, a homomorphic operation, or
/// [`EncryptionKey::validate_ciphertext`] / [`EncryptionKey::decode_ciphertext`].
#[derive(Clone, PartialEq, Eq)]
pub struct Ciphertext(Integer);

impl core::fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Ciphertext({:x})", self.0)
    }
}

impl Ciphertext {
    /// The ciphertext as an integer in `(0, N^2)`.
    pub fn as_integer(&self) -> &Integer {
        &self.0
    }

    /// Consumes the ciphertext and returns its integer.
    pub fn into_integer(self) -> Integer {
        self.0
    }
}

/// Encryption randomness `r`, secret: anyone who knows it can decrypt the ciphertext.
///
/// Zeroized on drop; `Debug` is redacted; read it through [`Nonce::expose_secret`].
pub struct Nonce(SecretInt);

impl core::fmt::Debug for Nonce {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Nonce(<redacted>)")
    }
}

impl zeroize::ZeroizeOnDrop for Nonce {}

impl Nonce {
    /// Wraps a caller-chosen nonce. It is checked (`0 < r < N`, `gcd(r, N) = 1`) when used.
    pub fn new(r: Integer) -> Self {
        Self(SecretInt::new(r))
    }

    /// The secret value of the nonce.
    pub fn expose_secret(&self) -> &Integer {
        self.0.expose()
    }
}

/// A Paillier private key: two distinct safe primes `p, q` of at least
/// `MIN_MODULUS_BITS / 2` bits each (see [`DecryptionKey::from_safe_primes`]) and the CRT
/// constants derived from them.
///
/// Zeroized on drop; `Debug` is redacted; no `Clone`, no serialisation. The primes are
/// reachable only through [`DecryptionKey::expose_primes`].
pub struct DecryptionKey {
    ek: EncryptionKey,
    p: SecretInt,
    q: SecretInt,
    /// `p^2`, `q^2`.
    pp: SecretInt,
    qq: SecretInt,
    /// `p - 1`, `q - 1`.
    p_minus_1: SecretInt,
    q_minus_1: SecretInt,
    /// `(-q)^-1 mod p` and `(-p)^-1 mod q`: the decryption constants for `g = 1 + N`.
    hp: SecretInt,
    hq: SecretInt,
    /// `q^-1 mod p`: CRT recombination mod `N`.
    q_inv_p: SecretInt,
    /// `(q^2)^-1 mod p^2`: CRT recombination mod `N^2`.
    qq_inv_pp: SecretInt,
    /// Fixed-base tables for encryption with a fresh nonce (built on first use; `None` if
    /// building failed, then the CRT path is used).
    nonce_tables: OnceLock<Option<NonceTables>>,
    /// Comb tables of our own ring-Pedersen bases `s, t` modulo `p` and `q` (for verifying
    /// proofs addressed to us), built on first use for the first parameters seen.
    rp_tables: OnceLock<Option<OwnRpTables>>,
}

/// Our own ring-Pedersen bases `s`, `t` modulo one prime `P` (secret data: the modulus is
/// secret).
struct OwnRpPrime {
    modulus: Arc<MontModulus>,
    s: FixedBaseTable,
    t: FixedBaseTable,
}

impl OwnRpPrime {
    fn build(prime: &SecretInt, exp_bits: u32, s: &Integer, t: &Integer) -> Result<Self, PaillierError> {
        let modulus = Arc::new(MontModulus::new(prime.expose())?);
        let sp = SecretInt::new(Integer::from(s.modulo_ref(prime.expose())));
        let tp = SecretInt::new(Integer::from(t.modulo_ref(prime.expose())));
        Ok(Self {
            s: FixedBaseTable::new(Arc::clone(&modulus), sp.expose(), exp_bits, false)?,
            t: FixedBaseTable::new(Arc::clone(&modulus), tp.expose(), exp_bits, false)?,
            modulus,
        })
    }
}

/// [`OwnRpPrime`] for both primes, and the public `(s, t)` they were built for.
struct OwnRpTables {
    s: Integer,
    t: Integer,
    p: OwnRpPrime,
    q: OwnRpPrime,
}

/// Bound on the random draws when looking for a generator of `Z*_p` (each draw succeeds with
/// probability about 1/2).
const MAX_GENERATOR_ATTEMPTS: u32 = 256;

/// The owner's tables for one prime `P` of `N = P·Q`: a generator `g` of `Z*_P` and
/// `Ω = g^N mod P²`, each with a comb table (secret data, wiped on drop).
///
/// For `k` uniform in `[0, P − 1)`, `r_P = g^k mod P` is uniform in `Z*_P`, and since `x^N mod
/// P²` depends only on `x mod P` (`(x + jP)^N ≡ x^N mod P²` as `P | N`),
/// `r^N mod P² = (g^k)^N = Ω^k mod P²` for every `r ≡ r_P (mod P)`. So a fresh nonce and its
/// `N`-th power cost two fixed-base exponentiations with a `bitlen(P)`-bit exponent (one mod
/// `P`, one mod `P²`) instead of a `bitlen(N)`-bit exponentiation mod `P²`.
struct PrimeNonceTables {
    g: FixedBaseTable,
    omega: FixedBaseTable,
    exp_bits: u32,
}

impl PrimeNonceTables {
    fn build<R: CryptoRngCore + ?Sized>(
        rng: &mut R,
        prime: &SecretInt,
        prime_sq: &SecretInt,
        prime_minus_1: &SecretInt,
        n: &Integer,
    ) -> Result<Self, PaillierError> {
        let p = prime.expose();
        // A generator of Z*_P for the safe prime P = 2P' + 1: g ∈ [2, P − 2] with
        // g^P' = −1 (then ord(g) = 2P'). Random candidates, so the number of attempts does not
        // depend on P.
        let half = SecretInt::new(Integer::from(prime_minus_1.expose() >> 1u32));
        let minus_one = SecretInt::new(Integer::from(p - 1u32));
        let range = SecretInt::new(Integer::from(p - 3u32));
        let mut generator = None;
        for _ in 0..MAX_GENERATOR_ATTEMPTS {
            let g = SecretInt::new(random_below(rng, range.expose())? + 2u32);
            let t = SecretInt::new(pow_mod_secret(g.expose(), half.expose(), p)?);
            if t.expose() == minus_one.expose() {
                generator = Some(g);
                break;
            }
        }
        let g = generator.ok_or(PaillierError::SamplingFailed)?;
        let omega = SecretInt::new(pow_mod_secret(g.expose(), n, prime_sq.expose())?);
        let exp_bits = prime_minus_1.expose().significant_bits();
        let mod_p = Arc::new(MontModulus::new(p)?);
        let mod_pp = Arc::new(MontModulus::new(prime_sq.expose())?);
        Ok(Self {
            g: FixedBaseTable::new(mod_p, g.expose(), exp_bits, false)?,
            omega: FixedBaseTable::new(mod_pp, omega.expose(), exp_bits, false)?,
            exp_bits,
        })
    }

    /// `(r_P, r^N mod P²)` for a fresh `k` uniform in `[0, P − 1)` (statistical distance
    /// 2^-128): both by constant-time fixed-base exponentiation with the same `k`.
    fn sample<R: CryptoRngCore + ?Sized>(
        &self,
        rng: &mut R,
        prime_minus_1: &SecretInt,
    ) -> Result<(SecretInt, SecretInt), PaillierError> {
        let k = SecretInt::new(random_below(rng, prime_minus_1.expose())?);
        let r = SecretInt::new(pow_unsigned(&self.g, k.expose(), self.exp_bits)?);
        let rn = SecretInt::new(pow_unsigned(&self.omega, k.expose(), self.exp_bits)?);
        Ok((r, rn))
    }
}

/// The owner's nonce tables for both primes.
struct NonceTables {
    p: PrimeNonceTables,
    q: PrimeNonceTables,
}

impl core::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DecryptionKey").field("encryption_key", &self.ek).field("primes", &"<redacted>").finish()
    }
}

impl zeroize::ZeroizeOnDrop for DecryptionKey {}

/// `a^-1 mod m` for prime-power `m` with group order `order`, as `a^(order - 1) mod m`
/// (side-channel resilient); checks the result and fails if `a` is not a unit.
fn invert_secret(a: &Integer, order: &Integer, m: &Integer) -> Result<SecretInt, PaillierError> {
    let e = Integer::from(order - 1u32);
    let inv = SecretInt::new(pow_mod_secret(a, &e, m)?);
    let check = Integer::from(a * inv.expose()) % m;
    if check != 1 {
        return Err(PaillierError::NotInvertible("value not a unit modulo a prime power"));
    }
    Ok(inv)
}

impl DecryptionKey {
    /// Builds a private key from two safe primes.
    ///
    /// Checks: `p != q`; each of `p` and `q` is a safe prime ([`crate::is_safe_prime`]) of at
    /// least `MIN_MODULUS_BITS / 2` bits; `N = p q` passes the checks of
    /// [`EncryptionKey::from_modulus`] (in particular at least `MIN_MODULUS_BITS` bits).
    pub fn from_safe_primes(p: Integer, q: Integer) -> Result<Self, PaillierError> {
        let p = SecretInt::new(p);
        let q = SecretInt::new(q);
        let min_prime_bits = MIN_MODULUS_BITS.div_ceil(2);
        for x in [&p, &q] {
            let bits = x.expose().significant_bits();
            if bits < min_prime_bits || bits > MAX_MODULUS_BITS / 2 || !is_safe_prime(x.expose()) {
                return Err(PaillierError::NotSafePrime);
            }
        }
        if p.expose() == q.expose() {
            return Err(PaillierError::EqualPrimes);
        }
        Self::from_checked_primes(p, q)
    }

    /// A private key from two distinct primes that need not be safe nor of any size, as long
    /// as `N = p q` passes [`EncryptionKey::from_modulus`]: what a malicious party would use
    /// (a modulus with a small factor, a non-Blum modulus). Tests that play a malicious party
    /// only (feature `adversary`); honest parties use [`DecryptionKey::from_safe_primes`].
    #[cfg(feature = "adversary")]
    pub fn from_primes_unchecked(p: Integer, q: Integer) -> Result<Self, PaillierError> {
        if p == q {
            return Err(PaillierError::EqualPrimes);
        }
        Self::from_checked_primes(SecretInt::new(p), SecretInt::new(q))
    }

    /// Builds a private key from the next two primes of `pool`.
    ///
    /// Checks: the pool holds at least two primes; then as
    /// [`DecryptionKey::from_safe_primes`]. The two primes are removed from the pool.
    pub fn from_pool(pool: &mut PrimePool) -> Result<Self, PaillierError> {
        let (p, q) = pool.take_pair_secret()?;
        if p.expose() == q.expose() {
            return Err(PaillierError::EqualPrimes);
        }
        let min_prime_bits = MIN_MODULUS_BITS.div_ceil(2);
        if p.expose().significant_bits() < min_prime_bits || q.expose().significant_bits() < min_prime_bits {
            return Err(PaillierError::NotSafePrime);
        }
        // The pool checked that both are safe primes when they entered it.
        Self::from_checked_primes(p, q)
    }

    fn from_checked_primes(p: SecretInt, q: SecretInt) -> Result<Self, PaillierError> {
        let n = Integer::from(p.expose() * q.expose());
        let ek = EncryptionKey::from_modulus(n)?;
        let pp = SecretInt::new(Integer::from(p.expose().square_ref()));
        let qq = SecretInt::new(Integer::from(q.expose().square_ref()));
        let p_minus_1 = SecretInt::new(Integer::from(p.expose() - 1u32));
        let q_minus_1 = SecretInt::new(Integer::from(q.expose() - 1u32));
        // Group orders: |Z*_p| = p - 1, |Z*_{p^2}| = p (p - 1).
        let order_pp = SecretInt::new(Integer::from(p.expose() * p_minus_1.expose()));
        let neg_q = SecretInt::new(Integer::from(p.expose() - q.expose()));
        let neg_p = SecretInt::new(Integer::from(q.expose() - p.expose()));
        let neg_q_mod_p = SecretInt::new(Integer::from(neg_q.expose().modulo_ref(p.expose())));
        let neg_p_mod_q = SecretInt::new(Integer::from(neg_p.expose().modulo_ref(q.expose())));
        let hp = invert_secret(neg_q_mod_p.expose(), p_minus_1.expose(), p.expose())?;
        let hq = invert_secret(neg_p_mod_q.expose(), q_minus_1.expose(), q.expose())?;
        let q_mod_p = SecretInt::new(Integer::from(q.expose().modulo_ref(p.expose())));
        let q_inv_p = invert_secret(q_mod_p.expose(), p_minus_1.expose(), p.expose())?;
        let qq_mod_pp = SecretInt::new(Integer::from(qq.expose().modulo_ref(pp.expose())));
        let qq_inv_pp = invert_secret(qq_mod_pp.expose(), order_pp.expose(), pp.expose())?;
        Ok(Self {
            ek,
            p,
            q,
            pp,
            qq,
            p_minus_1,
            q_minus_1,
            hp,
            hq,
            q_inv_p,
            qq_inv_pp,
            nonce_tables: OnceLock::new(),
            rp_tables: OnceLock::new(),
        })
    }

    /// The public key.
    pub fn encryption_key(&self) -> &EncryptionKey {
        &self.ek
    }

    /// The secret primes `(p, q)`: the named door out, for the encrypted store and the
    /// provers of Π^mod / Π^fac / Π^prm.
    pub fn expose_primes(&self) -> (&Integer, &Integer) {
        (self.p.expose(), self.q.expose())
    }

    /// `φ(N) = (p - 1)(q - 1)`, secret.
    pub(crate) fn phi(&self) -> SecretInt {
        SecretInt::new(Integer::from(self.p_minus_1.expose() * self.q_minus_1.expose()))
    }

    /// Decrypts by CRT: `m_p = L_p(c^(p-1) mod p^2) * (-q)^-1 mod p` (and the same mod `q`),
    /// recombined into `m ∈ [0, N)`.
    ///
    /// Checks: `c < N^2` (a ciphertext of another key is refused). The exponentiations are
    /// side-channel resilient.
    pub fn decrypt(&self, c: &Ciphertext) -> Result<Integer, PaillierError> {
        self.ek.check_ours(c)?;
        let mp = self.decrypt_half(c, &self.p, &self.pp, &self.p_minus_1, &self.hp)?;
        let mq = self.decrypt_half(c, &self.q, &self.qq, &self.q_minus_1, &self.hq)?;
        // m = m_q + q * ((m_p - m_q) * q^-1 mod p)
        let mut h = Integer::from(mp.expose() - mq.expose());
        h *= self.q_inv_p.expose();
        let mut h2 = Integer::from(h.modulo_ref(self.p.expose()));
        wipe_integer(&mut h);
        h2 *= self.q.expose();
        h2 += mq.expose();
        Ok(h2)
    }

    /// `L_r(c^(r-1) mod r^2) * h_r mod r` for one prime `r`.
    fn decrypt_half(
        &self,
        c: &Ciphertext,
        r: &SecretInt,
        rr: &SecretInt,
        r_minus_1: &SecretInt,
        hr: &SecretInt,
    ) -> Result<SecretInt, PaillierError> {
        let mut x = pow_mod_secret(&c.0, r_minus_1.expose(), rr.expose())?;
        x -= 1u32;
        x /= r.expose();
        x *= hr.expose();
        let m = SecretInt::new(Integer::from(x.modulo_ref(r.expose())));
        wipe_integer(&mut x);
        Ok(m)
    }

    /// Decrypts to the representative in `[-(N-1)/2, (N-1)/2]` (the signed plaintexts used by
    /// CGGMP's range proofs). Checks: as [`DecryptionKey::decrypt`].
    pub fn decrypt_signed(&self, c: &Ciphertext) -> Result<Integer, PaillierError> {
        let mut m = self.decrypt(c)?;
        let half = Integer::from(self.ek.modulus() >> 1u32);
        if m > half {
            m -= self.ek.modulus();
        }
        Ok(m)
    }

    /// `x^e mod N^2` by CRT (mod `p^2` and `q^2`, recombined): the owner's fast
    /// exponentiation. Side-channel resilient in `x` and `e`.
    ///
    /// Checks: `0 <= x < N^2`; for `e < 0`, that `x` is a unit (then `x^-1` is raised to
    /// `-e`). The sign of `e` and its size are not hidden.
    pub fn pow_mod_nn(&self, x: &Integer, e: &Integer) -> Result<Integer, PaillierError> {
        if x.is_negative() || *x >= *self.ek.modulus_squared() {
            return Err(PaillierError::OutOfRange("base not in [0, N^2)"));
        }
        let order_pp = SecretInt::new(Integer::from(self.p.expose() * self.p_minus_1.expose()));
        let order_qq = SecretInt::new(Integer::from(self.q.expose() * self.q_minus_1.expose()));
        let xp = self.pow_half(x, e, &self.pp, &order_pp)?;
        let xq = self.pow_half(x, e, &self.qq, &order_qq)?;
        Ok(crt_combine(&xp, &xq, &self.pp, &self.qq, &self.qq_inv_pp))
    }

    /// `x^e mod N` by CRT (mod `p` and `q`, recombined). Side-channel resilient in `x` and
    /// `e`.
    ///
    /// Checks: `0 <= x < N`; for `e < 0`, that `x` is a unit. The sign of `e` and its size are
    /// not hidden.
    pub fn pow_mod_n(&self, x: &Integer, e: &Integer) -> Result<Integer, PaillierError> {
        if x.is_negative() || *x >= *self.ek.modulus() {
            return Err(PaillierError::OutOfRange("base not in [0, N)"));
        }
        let xp = self.pow_half(x, e, &self.p, &self.p_minus_1)?;
        let xq = self.pow_half(x, e, &self.q, &self.q_minus_1)?;
        Ok(crt_combine(&xp, &xq, &self.p, &self.q, &self.q_inv_p))
    }

    /// `x^e mod m` where `m` is a prime power with group order `order`.
    fn pow_half(&self, x: &Integer, e: &Integer, m: &SecretInt, order: &SecretInt) -> Result<SecretInt, PaillierError> {
        let xm = SecretInt::new(Integer::from(x.modulo_ref(m.expose())));
        if e.is_negative() {
            let inv = invert_secret(xm.expose(), order.expose(), m.expose())?;
            let abs_e = SecretInt::new(Integer::from(e.abs_ref()));
            Ok(SecretInt::new(pow_mod_secret(inv.expose(), abs_e.expose(), m.expose())?))
        } else {
            Ok(SecretInt::new(pow_mod_secret(xm.expose(), e, m.expose())?))
        }
    }

    /// Encrypts with the caller's nonce, computing `r^N` by CRT (about twice as fast as
    /// [`EncryptionKey::encrypt_with_nonce`], same result).
    ///
    /// Checks: as [`EncryptionKey::encrypt_with_nonce`].
    pub fn encrypt_with_nonce(&self, m: &Integer, nonce: &Nonce) -> Result<Ciphertext, PaillierError> {
        let m = self.ek.reduce_plaintext(m)?;
        self.ek.check_nonce(nonce)?;
        let rn = self.nth_power(nonce.0.expose())?;
        self.ek.finish_encryption(&m, &rn)
    }

    /// `w^N mod N²` for `0 < w < N` by CRT, with a shortcut per prime `P` of `N = P·Q`:
    /// `w^N mod P²` depends only on `a = w mod P`, and equals the Teichmüller lift of
    /// `a^Q mod P`, i.e. `(a^(Q mod (P−1)) mod P)^P mod P²` (the `P`-th power kills the
    /// `1 + P·Z` part of `Z*_{P²}` and is the identity on its `(P−1)`-th roots of unity).
    /// Cost per prime: a `bitlen(P)`-bit exponentiation mod `P` and one mod `P²`, both with
    /// `mpz_powm_sec`, instead of a `bitlen(N)`-bit exponentiation mod `P²`.
    fn nth_power(&self, w: &Integer) -> Result<SecretInt, PaillierError> {
        let half = |prime: &SecretInt, prime_sq: &SecretInt, prime_minus_1: &SecretInt, other: &SecretInt| {
            let a = SecretInt::new(Integer::from(w.modulo_ref(prime.expose())));
            let e = SecretInt::new(Integer::from(other.expose().modulo_ref(prime_minus_1.expose())));
            let u = SecretInt::new(pow_mod_secret(a.expose(), e.expose(), prime.expose())?);
            Ok::<_, PaillierError>(SecretInt::new(pow_mod_secret(u.expose(), prime.expose(), prime_sq.expose())?))
        };
        let xp = half(&self.p, &self.pp, &self.p_minus_1, &self.q)?;
        let xq = half(&self.q, &self.qq, &self.q_minus_1, &self.p)?;
        Ok(SecretInt::new(crt_combine(&xp, &xq, &self.pp, &self.qq, &self.qq_inv_pp)))
    }

    /// Checks, for public values, whether `(1 + z·N) · w^N · Π b_i^(c_i) ≡ target (mod N²)`,
    /// i.e. `enc(z; w) · Π b_i^(c_i) = target`: the verifier's side of a Paillier equation
    /// under our own key. `w^N mod N²` is computed by CRT with the shortcut of
    /// [`DecryptionKey::encrypt_with_nonce`] (constant-time GMP exponentiations modulo the
    /// secret primes); the other factors are public and taken with one variable-time Straus
    /// multi-exponentiation. Every intermediate that is not public goes through `mpz_powm_sec`
    /// (and GMP's reductions modulo `P`, `P − 1`, as in decryption); the values compared are
    /// public.
    ///
    /// Checks: `0 < w < N`, `gcd(w, N) = 1`; bases with negative exponents invertible mod
    /// `N²` (otherwise the relation is reported false).
    pub fn paillier_relation_holds(
        &self,
        z: &Integer,
        w: &Integer,
        others: &[(&Integer, &Integer)],
        target: &Integer,
    ) -> Result<bool, PaillierError> {
        let n = self.ek.modulus();
        let nn = self.ek.modulus_squared();
        if *w <= 0 || w >= n || !is_coprime_vartime(w, n) {
            return Err(PaillierError::NotInvertible("nonce not in Z*_N"));
        }
        let Some(public) = crate::bigint::multi_pow_vartime(others, nn) else {
            return Ok(false);
        };
        let wn = self.nth_power(w)?;
        let mut g = Integer::from(z.modulo_ref(n)) * n;
        g += 1u32;
        let lhs = Integer::from(&public * wn.expose()) % nn * g % nn;
        Ok(lhs == Integer::from(target.modulo_ref(nn)))
    }

    /// The nonce tables, built on first use with randomness from `rng`.
    fn nonce_tables<R: CryptoRngCore + ?Sized>(&self, rng: &mut R) -> Option<&NonceTables> {
        self.nonce_tables
            .get_or_init(|| {
                let n = self.ek.modulus();
                let p = PrimeNonceTables::build(rng, &self.p, &self.pp, &self.p_minus_1, n).ok()?;
                let q = PrimeNonceTables::build(rng, &self.q, &self.qq, &self.q_minus_1, n).ok()?;
                Some(NonceTables { p, q })
            })
            .as_ref()
    }

    /// Builds the fixed-base tables used by [`DecryptionKey::encrypt`] and
    /// [`DecryptionKey::fresh_nonce`] now (otherwise their first call does): a generator `g_p`
    /// of `Z*_p`, `g_p^N mod p²` and the same for `q`, with their comb tables (secret; wiped on
    /// drop). About `2·bitlen(N)` squarings and two exponentiations mod `p²`, `q²`, once.
    /// Returns whether the tables exist.
    pub fn precompute<R: CryptoRngCore + ?Sized>(&self, rng: &mut R) -> bool {
        self.nonce_tables(rng).is_some()
    }

    /// A fresh nonce `r` uniform in `Z*_N` (statistical distance 2^-128) together with
    /// `r^N mod N²`: `r ≡ g_p^(k_p) (mod p)`, `r^N ≡ (g_p^N)^(k_p) (mod p²)` for `k_p` uniform
    /// in `[0, p − 1)` (and the same mod `q`), each a constant-time fixed-base exponentiation
    /// with a `bitlen(p)`-bit exponent, recombined by CRT. Falls back to sampling `r` and the
    /// CRT exponentiation if the tables cannot be built.
    pub fn fresh_nonce<R: CryptoRngCore + ?Sized>(&self, rng: &mut R) -> Result<(Nonce, SecretInt), PaillierError> {
        if let Some(t) = self.nonce_tables(rng) {
            let (rp, rnp) = t.p.sample(rng, &self.p_minus_1)?;
            let (rq, rnq) = t.q.sample(rng, &self.q_minus_1)?;
            let r = crt_combine(&rp, &rq, &self.p, &self.q, &self.q_inv_p);
            let rn = crt_combine(&rnp, &rnq, &self.pp, &self.qq, &self.qq_inv_pp);
            return Ok((Nonce(SecretInt::new(r)), SecretInt::new(rn)));
        }
        let nonce = self.ek.sample_nonce(rng)?;
        let rn = SecretInt::new(self.pow_mod_nn(nonce.0.expose(), self.ek.modulus())?);
        Ok((nonce, rn))
    }

    fn build_own_rp(&self, rp: &RingPedersenParams) -> Result<OwnRpTables, PaillierError> {
        let (s, t) = (rp.s(), rp.t());
        Ok(OwnRpTables {
            s: s.clone(),
            t: t.clone(),
            p: OwnRpPrime::build(&self.p, self.p_minus_1.expose().significant_bits(), s, t)?,
            q: OwnRpPrime::build(&self.q, self.q_minus_1.expose().significant_bits(), s, t)?,
        })
    }

    /// Checks, for ring-Pedersen parameters `rp` over our own modulus (`N̂ = N`), whether
    ///
    /// ```text
    /// s^x · t^y · Π b_i^(c_i) ≡ target (mod N)
    /// ```
    ///
    /// for public integers `x, y, c_i` (any sign), public units `b_i ∈ Z*_N` and a public
    /// `target`: the verifier's side of the ring-Pedersen equations of the range proofs
    /// addressed to us. By CRT: modulo each prime `P` every exponent is reduced modulo `P − 1`
    /// (Fermat), `s^x t^y mod P` is taken from comb tables of `s` and `t` modulo `P` (built
    /// once, for the first parameters seen) and `b_i^(c_i) mod P` with `mpz_powm_sec`; the two
    /// comparisons are constant-time and combined before the answer is returned, so the time
    /// does not tell which prime a false relation fails for. The values that depend on `p, q`
    /// go only through fixed-size Montgomery arithmetic and `mpz_powm_sec`, apart from GMP's
    /// reductions `x mod (P − 1)`, `target mod P` (as in decryption).
    ///
    /// Checks: `rp` is over our modulus, `b_i ∈ Z*_N`.
    pub fn ring_pedersen_relation_holds(
        &self,
        rp: &RingPedersenParams,
        x: &Integer,
        y: &Integer,
        others: &[(&Integer, &Integer)],
        target: &Integer,
    ) -> Result<bool, PaillierError> {
        let n = self.ek.modulus();
        if rp.modulus() != n {
            return Err(PaillierError::Bug("ring-Pedersen parameters over another modulus"));
        }
        for (b, _) in others {
            if b.is_negative() || *b >= n || !is_coprime_vartime(b, n) {
                return Err(PaillierError::NotInvertible("base not in Z*_N"));
            }
        }
        self.with_own_rp(rp, |tables| {
            let target = Integer::from(target.modulo_ref(n));
            let hold_p = Self::relation_mod_prime(&tables.p, &self.p, &self.p_minus_1, x, y, others, &target)?;
            let hold_q = Self::relation_mod_prime(&tables.q, &self.q, &self.q_minus_1, x, y, others, &target)?;
            Ok(bool::from(hold_p & hold_q))
        })
    }

    /// Runs `f` with the comb tables of our own ring-Pedersen parameters `rp`: the cached ones
    /// (built on first use) if they are for exactly these `s, t`, else tables built for this
    /// call.
    fn with_own_rp<R>(
        &self,
        rp: &RingPedersenParams,
        f: impl FnOnce(&OwnRpTables) -> Result<R, PaillierError>,
    ) -> Result<R, PaillierError> {
        match self.rp_tables.get_or_init(|| self.build_own_rp(rp).ok()) {
            Some(t) if t.s == *rp.s() && t.t == *rp.t() => f(t),
            _ => f(&self.build_own_rp(rp)?),
        }
    }

    /// Builds now the tables of our own ring-Pedersen parameters `rp` (over our modulus) that
    /// [`DecryptionKey::ring_pedersen_relation_holds`] and [`DecryptionKey::ring_pedersen_pow_t`]
    /// otherwise build on first use: comb tables of `s mod p`, `t mod p`, `s mod q`,
    /// `t mod q` (secret; wiped with the key). Returns whether tables for exactly these `s, t`
    /// are cached.
    pub fn precompute_ring_pedersen(&self, rp: &RingPedersenParams) -> bool {
        if rp.modulus() != self.ek.modulus() {
            return false;
        }
        let cached = self.rp_tables.get_or_init(|| self.build_own_rp(rp).ok());
        cached.as_ref().is_some_and(|t| t.s == *rp.s() && t.t == *rp.t())
    }

    /// `t^a mod N` for our own ring-Pedersen parameters `rp` (over our modulus) and a secret
    /// `a ≥ 0` (the Π^prm prover's commitments): by CRT, `a` reduced modulo `P − 1` and
    /// `t^a mod P` from the constant-time comb table of `t mod P` (the tables of
    /// [`DecryptionKey::ring_pedersen_relation_holds`]).
    ///
    /// Checks: `rp` is over our modulus, `a ≥ 0`.
    pub fn ring_pedersen_pow_t(&self, rp: &RingPedersenParams, a: &Integer) -> Result<Integer, PaillierError> {
        if rp.modulus() != self.ek.modulus() {
            return Err(PaillierError::Bug("ring-Pedersen parameters over another modulus"));
        }
        if a.is_negative() {
            return Err(PaillierError::Bug("negative secret exponent"));
        }
        let half = |tab: &OwnRpPrime, prime_minus_1: &SecretInt| -> Result<SecretInt, PaillierError> {
            let bits = prime_minus_1.expose().significant_bits();
            let e = SecretInt::new(Integer::from(a.modulo_ref(prime_minus_1.expose())));
            Ok(SecretInt::new(pow_unsigned(&tab.t, e.expose(), bits)?))
        };
        self.with_own_rp(rp, |tables| {
            let xp = half(&tables.p, &self.p_minus_1)?;
            let xq = half(&tables.q, &self.q_minus_1)?;
            Ok(crt_combine(&xp, &xq, &self.p, &self.q, &self.q_inv_p))
        })
    }

    fn relation_mod_prime(
        tables: &OwnRpPrime,
        prime: &SecretInt,
        prime_minus_1: &SecretInt,
        x: &Integer,
        y: &Integer,
        others: &[(&Integer, &Integer)],
        target: &Integer,
    ) -> Result<Choice, PaillierError> {
        let m = &tables.modulus;
        let n = m.limbs();
        let bits = prime_minus_1.expose().significant_bits();
        let limbs = usize::try_from(bits.div_ceil(64)).map_err(|_| PaillierError::Bug("size"))?;
        let reduce = |e: &Integer| -> Result<Vec<u64>, PaillierError> {
            let mut r = Integer::from(e.modulo_ref(prime_minus_1.expose()));
            let l = limbs_of(&r, limbs);
            wipe_integer(&mut r);
            l
        };
        let mut xe = reduce(x)?;
        let mut ye = reduce(y)?;
        let mut acc = multi_pow(
            m,
            &[Term { table: &tables.s, exponent: &xe, bits }, Term { table: &tables.t, exponent: &ye, bits }],
        )?;
        xe.zeroize();
        ye.zeroize();
        let mut tmp = vec![0u64; n];
        let mut scratch = m.scratch();
        for (b, c) in others {
            let mut ce = Integer::from(c.modulo_ref(prime_minus_1.expose()));
            let mut bp = Integer::from(b.modulo_ref(prime.expose()));
            let mut pw = pow_mod_secret(&bp, &ce, prime.expose())?;
            let mut pm = m.to_mont(&pw)?;
            m.mul(&acc, &pm, &mut tmp, &mut scratch);
            core::mem::swap(&mut acc, &mut tmp);
            for v in [&mut ce, &mut bp, &mut pw] {
                wipe_integer(v);
            }
            pm.zeroize();
        }
        let mut want = m.to_mont(target)?;
        let eq = m.ct_eq(&acc, &want);
        for v in [&mut acc, &mut tmp, &mut scratch, &mut want] {
            v.zeroize();
        }
        Ok(eq)
    }

    /// Encrypts with a fresh nonce and returns the ciphertext and the nonce; the nonce and
    /// `r^N` come from [`DecryptionKey::fresh_nonce`] (fixed-base tables, about 5× faster than
    /// the CRT path of [`DecryptionKey::encrypt_with_nonce`]). Checks: `|m| < N` and that the
    /// result lies in `Z*_{N^2}`.
    pub fn encrypt<R: CryptoRngCore + ?Sized>(
        &self,
        rng: &mut R,
        m: &Integer,
    ) -> Result<(Ciphertext, Nonce), PaillierError> {
        let m = self.ek.reduce_plaintext(m)?;
        let (nonce, rn) = self.fresh_nonce(rng)?;
        let c = self.ek.finish_encryption(&m, &rn)?;
        Ok((c, nonce))
    }
}

/// CRT recombination: the `x mod (a b)` with `x ≡ xa (mod a)`, `x ≡ xb (mod b)`, given
/// `b^-1 mod a`: `x = xb + b * ((xa - xb) * b^-1 mod a)`.
fn crt_combine(xa: &SecretInt, xb: &SecretInt, a: &SecretInt, b: &SecretInt, b_inv_a: &SecretInt) -> Integer {
    let mut h = Integer::from(xa.expose() - xb.expose());
    h *= b_inv_a.expose();
    let mut x = Integer::from(h.modulo_ref(a.expose()));
    wipe_integer(&mut h);
    x *= b.expose();
    x += xb.expose();
    x
}
