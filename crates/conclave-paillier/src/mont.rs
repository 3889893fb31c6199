//! Constant-time Montgomery arithmetic on fixed-length limb vectors.
//!
//! Every value modulo an `n`-limb odd modulus `m` is a vector of exactly `n` 64-bit limbs,
//! least significant first, in Montgomery form (`x·R mod m`, `R = 2^(64n)`), always reduced
//! below `m`. The operations below run a fixed sequence of instructions for a given `n`:
//! loops depend only on `n`, there is no branch and no memory index that depends on the
//! value of an operand (or of the modulus), and the one conditional step of Montgomery
//! multiplication (the final subtraction of `m`) is a masked selection over all limbs. This
//! is what GMP's `mpz` layer does not give (it strips leading zero limbs and has
//! value-dependent corrections); see `docs/paillier.md` §6 for the argument.
//!
//! The conversions into and out of Montgomery form (`to_mont`, `to_integer`) go through GMP
//! for the reduction of an arbitrary-size input; they are used on values that are public or
//! whose size is fixed by the caller, and they are documented as such where used.

use crate::bigint::wipe_integer;
use crate::error::PaillierError;
use rug::integer::Order;
use rug::Integer;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

/// Largest modulus handled, in limbs (16384 bits: `N²` for `N` up to 8192 bits).
pub(crate) const MAX_LIMBS: usize = 256;

/// `Σ x_i · y_(len−1−i)` (the second slice read backwards) as a three-limb value
/// `(low 128 bits, top limb)`, with two independent accumulators (even and odd terms) so that
/// the additions of consecutive products do not wait on each other.
#[inline(always)]
fn dot_rev(xs: &[u64], ys: &[u64]) -> (u128, u64) {
    let (mut a0, mut a1) = (0u128, 0u128);
    let (mut c0, mut c1) = (0u64, 0u64);
    let mut it = xs.iter().zip(ys.iter().rev());
    while let Some((x, y)) = it.next() {
        let (s, o) = a0.overflowing_add(u128::from(*x) * u128::from(*y));
        a0 = s;
        c0 += u64::from(o);
        let Some((x, y)) = it.next() else { break };
        let (s, o) = a1.overflowing_add(u128::from(*x) * u128::from(*y));
        a1 = s;
        c1 += u64::from(o);
    }
    let (s, o) = a0.overflowing_add(a1);
    (s, c0 + c1 + u64::from(o))
}

/// Adds a three-limb value into the accumulator `(acc, c2)`.
#[inline(always)]
fn acc_add(acc: &mut u128, c2: &mut u64, v: (u128, u64)) {
    let (s, o) = acc.overflowing_add(v.0);
    *acc = s;
    *c2 += v.1 + u64::from(o);
}

/// A Montgomery modulus: odd `m` of `n` limbs, `-m^-1 mod 2^64`, `R mod m`, `R² mod m`.
///
/// The modulus may be secret (a prime of our own key); every derived constant is wiped on
/// drop.
pub(crate) struct MontModulus {
    m: Vec<u64>,
    m0inv: u64,
    one: Vec<u64>,
    r2: Vec<u64>,
}

impl Drop for MontModulus {
    fn drop(&mut self) {
        self.m.zeroize();
        self.m0inv.zeroize();
        self.one.zeroize();
        self.r2.zeroize();
    }
}

impl core::fmt::Debug for MontModulus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MontModulus").field("limbs", &self.m.len()).finish_non_exhaustive()
    }
}

/// The limbs of a non-negative `x < 2^(64n)`, padded to exactly `n`.
pub(crate) fn limbs_of(x: &Integer, n: usize) -> Result<Vec<u64>, PaillierError> {
    if x.is_negative() {
        return Err(PaillierError::Bug("limbs_of: negative value"));
    }
    let mut v = x.to_digits::<u64>(Order::Lsf);
    if v.len() > n {
        v.zeroize();
        return Err(PaillierError::Bug("limbs_of: value too long"));
    }
    v.resize(n, 0);
    Ok(v)
}

impl MontModulus {
    /// Builds the context for an odd modulus `m > 1` of at most [`MAX_LIMBS`] limbs.
    pub(crate) fn new(m: &Integer) -> Result<Self, PaillierError> {
        if m.is_even() || *m <= 1 {
            return Err(PaillierError::Bug("Montgomery modulus must be odd and > 1"));
        }
        let n = usize::try_from(m.significant_bits().div_ceil(64)).map_err(|_| PaillierError::Bug("modulus size"))?;
        if n > MAX_LIMBS {
            return Err(PaillierError::Bug("Montgomery modulus too large"));
        }
        let limbs = limbs_of(m, n)?;
        let m0 = limbs.first().copied().unwrap_or(1);
        // Newton iteration for m0^-1 mod 2^64 (m0 odd): each step doubles the correct bits.
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(inv)));
        }
        let bits = u32::try_from(64 * n).map_err(|_| PaillierError::Bug("modulus size"))?;
        let mut r = Integer::from(1) << bits;
        r %= m;
        let one = limbs_of(&r, n)?;
        r.square_mut();
        r %= m;
        let r2 = limbs_of(&r, n)?;
        wipe_integer(&mut r);
        Ok(Self { m: limbs, m0inv: inv.wrapping_neg(), one, r2 })
    }

    /// Number of limbs `n`.
    pub(crate) fn limbs(&self) -> usize {
        self.m.len()
    }

    /// Montgomery form of 1 (`R mod m`).
    pub(crate) fn one(&self) -> &[u64] {
        &self.one
    }

    /// A scratch buffer of the size [`MontModulus::mul`] needs (`2n` limbs).
    pub(crate) fn scratch(&self) -> Vec<u64> {
        vec![0u64; 2 * self.m.len()]
    }

    /// `out = a·b·R^-1 mod m` for `a, b < m` (each exactly `n` limbs; `out` may not alias
    /// them; `scratch` has `2n` limbs): the product by columns (product scanning) with a
    /// three-limb accumulator, a column-wise Montgomery reduction, then one masked conditional
    /// subtraction. Constant-time in the values of `a`, `b` and `m`: every loop bound depends
    /// on `n` only.
    pub(crate) fn mul(&self, a: &[u64], b: &[u64], out: &mut [u64], scratch: &mut [u64]) {
        let n = self.m.len();
        let (t, _) = scratch.split_at_mut((2 * n).min(scratch.len()));
        let mut acc: u128 = 0;
        let mut c2: u64 = 0;
        for (k, tk) in t.iter_mut().enumerate() {
            let lo = k.saturating_sub(n - 1);
            let hi = k.min(n - 1);
            if lo <= hi {
                let xs = a.get(lo..=hi).unwrap_or(&[]);
                let ys = b.get(k - hi..=k - lo).unwrap_or(&[]);
                acc_add(&mut acc, &mut c2, dot_rev(xs, ys));
            }
            *tk = acc as u64;
            acc = (acc >> 64) | (u128::from(c2) << 64);
            c2 = 0;
        }
        self.reduce(t, out);
    }

    /// `out = a²·R^-1 mod m` (same contract as [`MontModulus::mul`]): off-diagonal column
    /// sums doubled, plus the diagonal squares.
    pub(crate) fn sqr(&self, a: &[u64], out: &mut [u64], scratch: &mut [u64]) {
        let n = self.m.len();
        let (t, _) = scratch.split_at_mut((2 * n).min(scratch.len()));
        let mut acc: u128 = 0;
        let mut c2: u64 = 0;
        for (k, tk) in t.iter_mut().enumerate() {
            let lo = k.saturating_sub(n - 1);
            let hi = k.min(n - 1);
            // Off-diagonal pairs i < j, i + j = k: i in [lo, (k-1)/2].
            let (mut sacc, mut s2) = (0u128, 0u64);
            if k >= 1 && lo <= (k - 1) / 2 {
                let top = (k - 1) / 2;
                let xs = a.get(lo..=top).unwrap_or(&[]);
                let ys = a.get(k - top..=k - lo).unwrap_or(&[]);
                (sacc, s2) = dot_rev(xs, ys);
            }
            // Double the off-diagonal sum (three limbs).
            s2 = (s2 << 1) | ((sacc >> 127) as u64);
            sacc <<= 1;
            let (s, o) = acc.overflowing_add(sacc);
            acc = s;
            c2 += s2 + u64::from(o);
            if k % 2 == 0 && k / 2 <= hi {
                let d = a.get(k / 2).copied().unwrap_or(0);
                let (s, o) = acc.overflowing_add(u128::from(d) * u128::from(d));
                acc = s;
                c2 += u64::from(o);
            }
            *tk = acc as u64;
            acc = (acc >> 64) | (u128::from(c2) << 64);
            c2 = 0;
        }
        self.reduce(t, out);
    }

    /// Column-wise Montgomery reduction of the `2n`-limb `t` (`t < m·R`) into `out`, then the
    /// masked subtraction of `m`. `t` is overwritten (quotient digits, then the difference).
    fn reduce(&self, t: &mut [u64], out: &mut [u64]) {
        let n = self.m.len();
        let (u, high) = t.split_at_mut(n.min(t.len()));
        let mut acc: u128 = 0;
        let mut c2: u64 = 0;
        // Columns 0..n: find u_k so that the column becomes 0.
        for k in 0..n {
            let (done, rest) = u.split_at_mut(k);
            let Some(uk) = rest.first_mut() else { break };
            let (s, o) = acc.overflowing_add(u128::from(*uk));
            acc = s;
            c2 += u64::from(o);
            let ms = self.m.get(1..=k).unwrap_or(&[]);
            acc_add(&mut acc, &mut c2, dot_rev(done, ms));
            let q = (acc as u64).wrapping_mul(self.m0inv);
            let (s, o) = acc.overflowing_add(u128::from(q) * u128::from(self.m.first().copied().unwrap_or(1)));
            acc = s;
            c2 += u64::from(o);
            *uk = q;
            acc = (acc >> 64) | (u128::from(c2) << 64);
            c2 = 0;
        }
        // Columns n..2n: the result limbs.
        for (k, (o_limb, tk)) in out.iter_mut().zip(high.iter()).enumerate() {
            let (s, o) = acc.overflowing_add(u128::from(*tk));
            acc = s;
            c2 += u64::from(o);
            // j in k+1..n, m index n+k-j in k+1..n (descending as j ascends).
            let us = u.get(k + 1..n).unwrap_or(&[]);
            let ms = self.m.get(k + 1..n).unwrap_or(&[]);
            acc_add(&mut acc, &mut c2, dot_rev(us, ms));
            *o_limb = acc as u64;
            acc = (acc >> 64) | (u128::from(c2) << 64);
            c2 = 0;
        }
        // The result is out + carry·R < 2m: keep out − m iff carry = 1 or out ≥ m (no borrow),
        // by a masked selection over all limbs. The difference goes into the (now unused) low
        // half of t.
        let carry_hi = acc as u64;
        let mut borrow = 0u64;
        for ((d, o), mi) in u.iter_mut().zip(out.iter()).zip(&self.m) {
            let v = u128::from(*o).wrapping_sub(u128::from(*mi)).wrapping_sub(u128::from(borrow));
            *d = v as u64;
            borrow = ((v >> 64) as u64) & 1;
        }
        let keep_diff = Choice::from((carry_hi | (borrow ^ 1)) as u8 & 1);
        for (o, d) in out.iter_mut().zip(u.iter()) {
            *o = u64::conditional_select(o, d, keep_diff);
        }
    }

    /// The Montgomery form of `x` (any non-negative integer; reduced modulo `m` with GMP
    /// first). The reduction's timing depends on the sizes of `x` and `m` only through GMP's
    /// division; callers pass public values or values of fixed size.
    pub(crate) fn to_mont(&self, x: &Integer) -> Result<Vec<u64>, PaillierError> {
        let n = self.m.len();
        let m = self.modulus_integer();
        let mut xr = Integer::from(x.modulo_ref(&m));
        let plain = limbs_of(&xr, n)?;
        wipe_integer(&mut xr);
        let mut out = vec![0u64; n];
        let mut scratch = self.scratch();
        self.mul(&plain, &self.r2, &mut out, &mut scratch);
        scratch.zeroize();
        Ok(out)
    }

    /// The integer in `[0, m)` represented by the Montgomery form `x`.
    pub(crate) fn to_integer(&self, x: &[u64]) -> Integer {
        let n = self.m.len();
        let mut unit = vec![0u64; n];
        if let Some(u) = unit.first_mut() {
            *u = 1;
        }
        let mut out = vec![0u64; n];
        let mut scratch = self.scratch();
        self.mul(x, &unit, &mut out, &mut scratch);
        scratch.zeroize();
        let r = Integer::from_digits(&out, Order::Lsf);
        out.zeroize();
        r
    }

    /// The modulus as an integer.
    pub(crate) fn modulus_integer(&self) -> Integer {
        Integer::from_digits(&self.m, Order::Lsf)
    }

    /// Constant-time equality of two Montgomery forms.
    pub(crate) fn ct_eq(&self, a: &[u64], b: &[u64]) -> Choice {
        let mut acc = Choice::from(u8::from(a.len() == b.len()));
        for (x, y) in a.iter().zip(b) {
            acc &= x.ct_eq(y);
        }
        acc
    }
}

/// `out = table[idx]` for a table of `entries` entries of `n` limbs each, reading every
/// entry (masked selection: the memory access pattern does not depend on `idx`).
pub(crate) fn ct_select(table: &[u64], n: usize, idx: u64, out: &mut [u64]) {
    out.fill(0);
    for (k, entry) in table.chunks_exact(n.max(1)).enumerate() {
        let hit = (k as u64).ct_eq(&idx);
        let mask = u64::conditional_select(&0, &u64::MAX, hit);
        for (o, e) in out.iter_mut().zip(entry) {
            *o |= e & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    fn random_int(rng: &mut ChaCha20Rng, bits: u32) -> Integer {
        let mut bytes = vec![0u8; bits.div_ceil(8) as usize];
        rng.fill_bytes(&mut bytes);
        let mut x = Integer::from_digits(&bytes, Order::Msf);
        x.keep_bits_mut(bits);
        x
    }

    fn check_modulus(m: &Integer, rng: &mut ChaCha20Rng, samples: usize) {
        let ctx = MontModulus::new(m).unwrap();
        let n = ctx.limbs();
        let mut scratch = ctx.scratch();
        let bits = m.significant_bits();
        let mut values = vec![Integer::from(0), Integer::from(1), Integer::from(m - 1u32), Integer::from(m - 2u32)];
        for _ in 0..samples {
            values.push(random_int(rng, bits) % m);
        }
        for a in &values {
            let am = ctx.to_mont(a).unwrap();
            assert_eq!(ctx.to_integer(&am), *a);
            for b in values.iter().take(8) {
                let bm = ctx.to_mont(b).unwrap();
                let mut out = vec![0u64; n];
                ctx.mul(&am, &bm, &mut out, &mut scratch);
                assert_eq!(ctx.to_integer(&out), Integer::from(a * b) % m, "mul mod {m}");
            }
            let mut out = vec![0u64; n];
            ctx.sqr(&am, &mut out, &mut scratch);
            assert_eq!(ctx.to_integer(&out), Integer::from(a * a) % m, "sqr mod {m}");
            let same = ctx.ct_eq(&am, &ctx.to_mont(a).unwrap());
            assert!(bool::from(same));
        }
    }

    #[test]
    fn montgomery_matches_gmp() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        // Small and edge-case moduli: one limb, top limb all ones, top limb 1, 2^k - 1.
        for m in [3u64, 5, 0xffff_ffff_ffff_ffc5, u64::MAX] {
            check_modulus(&Integer::from(m), &mut rng, 20);
        }
        check_modulus(&((Integer::from(1) << 128u32) - 1u32), &mut rng, 20);
        check_modulus(&((Integer::from(1) << 64u32) + 1u32), &mut rng, 20);
        check_modulus(&((Integer::from(1) << 3072u32) - 1u32), &mut rng, 10);
        for bits in [65u32, 127, 1536, 3071, 3072, 6144] {
            for _ in 0..3 {
                let mut m = random_int(&mut rng, bits);
                m.set_bit(bits - 1, true);
                m.set_bit(0, true);
                check_modulus(&m, &mut rng, 6);
            }
        }
    }

    #[test]
    fn constructor_refuses_bad_moduli() {
        assert!(MontModulus::new(&Integer::from(0)).is_err());
        assert!(MontModulus::new(&Integer::from(1)).is_err());
        assert!(MontModulus::new(&Integer::from(10)).is_err());
        assert!(MontModulus::new(&Integer::from(-7)).is_err());
        assert!(MontModulus::new(&((Integer::from(1) << (64 * MAX_LIMBS as u32 + 1)) + 1u32)).is_err());
    }

    #[test]
    fn select_reads_the_right_entry() {
        let n = 3;
        let table: Vec<u64> = (0..16 * n as u64).collect();
        let mut out = vec![0u64; n];
        for idx in 0..16u64 {
            ct_select(&table, n, idx, &mut out);
            assert_eq!(out, table[(idx as usize) * n..(idx as usize + 1) * n]);
        }
        ct_select(&table, n, 16, &mut out);
        assert_eq!(out, vec![0; n]);
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "an ignored timing test reads the clock; the library never does")]
mod timing {
    use super::*;
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;
    use std::time::Instant;

    fn best<F: FnMut()>(iters: u32, mut f: F) -> f64 {
        let mut best = f64::MAX;
        for _ in 0..7 {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            best = best.min(t.elapsed().as_secs_f64() * 1e6 / f64::from(iters));
        }
        best
    }

    #[test]
    #[ignore = "timing only: cargo test --release -p conclave-paillier mont_speed -- --ignored --nocapture"]
    fn mont_speed() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for bits in [1536u32, 3072, 6144] {
            let mut bytes = vec![0u8; bits as usize / 8];
            rng.fill_bytes(&mut bytes);
            let mut m = Integer::from_digits(&bytes, Order::Msf);
            m.set_bit(bits - 1, true);
            m.set_bit(0, true);
            let ctx = MontModulus::new(&m).unwrap();
            let n = ctx.limbs();
            let a = ctx.to_mont(&(Integer::from(&m - 12345u32))).unwrap();
            let b = ctx.to_mont(&(Integer::from(&m >> 3u32))).unwrap();
            let mut out = vec![0u64; n];
            let mut s = ctx.scratch();
            let mul = best(500, || {
                ctx.mul(&a, &b, &mut out, &mut s);
                std::hint::black_box(&out);
            });
            let sqr = best(500, || {
                ctx.sqr(&a, &mut out, &mut s);
                std::hint::black_box(&out);
            });

            let table = vec![7u64; 64 * n];
            let mut i = 0u64;
            let sel = best(500, || {
                i = (i + 1) % 64;
                ct_select(&table, n, i, &mut out);
                std::hint::black_box(&out);
            });
            let x = Integer::from(&m - 12345u32);
            let y = Integer::from(&m >> 3u32);
            let gmp_mulmod = best(500, || {
                let r = Integer::from(&x * &y) % &m;
                std::hint::black_box(&r);
            });
            let e = Integer::from(&m - 3u32);
            let sec = best(3, || {
                let r = Integer::from(x.secure_pow_mod_ref(&e, &m));
                std::hint::black_box(&r);
            }) / f64::from(bits);
            let var = best(3, || {
                let r = Integer::from(x.pow_mod_ref(&e, &m).unwrap());
                std::hint::black_box(&r);
            }) / f64::from(bits);
            println!(
                "{bits} bits: mont mul {mul:.2} us, sqr {sqr:.2} us, select(64) {sel:.2} us; gmp mul+mod {gmp_mulmod:.2} us, powm_sec {sec:.2} us/bit, powm {var:.2} us/bit"
            );
        }
    }
}
