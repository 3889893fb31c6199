//! Fixed-base (multi-)exponentiation with precomputed comb tables, constant-time in the
//! exponents.
//!
//! For a base `g` modulo `m` the table holds, for a spacing of `A` bits and `H` rows per group,
//! the rows `g_i = g^(2^(A·i))` and, for every group of `H` consecutive rows, all `2^H`
//! products of a subset of them (Lim–Lee comb). An exponent `e < 2^L` is read in columns:
//! column `j < A` of group `k` is the `H`-bit index made of the bits `A·(k·H + r) + j`,
//! `r < H`, of `e`, and
//!
//! ```text
//! g^e = Π_j ( Π_k T_k[column_j,k(e)] )^(2^j)
//! ```
//!
//! evaluated by Horner's rule from `j = A − 1` down to `0`: `A − 1` squarings and one
//! multiplication per group per column. Several bases modulo the same `m` share the
//! squarings ([`multi_pow`]).
//!
//! Constant time: the number of columns, groups and multiplications depends only on the public
//! bit bound given for each exponent; every table lookup reads the whole group table
//! ([`crate::mont::ct_select`]); the multiplications are the fixed-size Montgomery operations
//! of [`crate::mont`]. Signed exponents are shifted by a public offset in constant-time limb
//! arithmetic ([`signed_exponent_limbs`]); the correction `g^-offset` is a public value
//! (public tables only).

use std::sync::{Arc, Mutex};

use crate::error::PaillierError;
use crate::mont::{ct_select, limbs_of, MontModulus};
#[cfg(test)]
use rug::integer::Order;
use rug::Integer;
use subtle::{Choice, ConditionallySelectable};
use zeroize::Zeroize;

/// Column spacing `A` in bits (the number of squarings of one exponentiation).
pub(crate) const SPACING: u32 = 64;

/// Rows per group `H`: each group table has `2^H` entries.
pub(crate) const ROWS_PER_GROUP: u32 = 6;

/// Bits covered by one group table.
const GROUP_BITS: u32 = SPACING * ROWS_PER_GROUP;

/// A comb table of one base modulo a [`MontModulus`].
pub(crate) struct FixedBaseTable {
    modulus: Arc<MontModulus>,
    /// `groups[k]` holds `2^H` entries of `n` limbs (Montgomery form).
    groups: Vec<Vec<u64>>,
    /// Whether the base (hence every entry) is public: only then are the corrections of
    /// signed exponents computed (they need a variable-time inversion).
    public: bool,
    /// `g^(-3·2^b)` in Montgomery form, by `b`, computed on first use (public tables only).
    corrections: Mutex<Vec<(u32, Arc<Vec<u64>>)>>,
}

impl Drop for FixedBaseTable {
    fn drop(&mut self) {
        if !self.public {
            for g in &mut self.groups {
                g.zeroize();
            }
        }
    }
}

impl core::fmt::Debug for FixedBaseTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FixedBaseTable")
            .field("capacity_bits", &self.capacity_bits())
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl FixedBaseTable {
    /// Builds the table of `base` (reduced modulo `m`) for exponents of up to
    /// `capacity_bits` bits (rounded up to whole groups). `public` says whether `base` and
    /// `m` are public.
    ///
    /// Cost: `capacity_bits` squarings and `2^H − H − 1` multiplications per group.
    pub(crate) fn new(
        modulus: Arc<MontModulus>,
        base: &Integer,
        capacity_bits: u32,
        public: bool,
    ) -> Result<Self, PaillierError> {
        let n = modulus.limbs();
        let group_count = usize::try_from(capacity_bits.max(1).div_ceil(GROUP_BITS))
            .map_err(|_| PaillierError::Bug("table capacity"))?;
        let entries = 1usize << ROWS_PER_GROUP;
        let mut scratch = modulus.scratch();
        let mut row = modulus.to_mont(base)?;
        let mut tmp = vec![0u64; n];
        let mut groups = Vec::with_capacity(group_count);
        for _ in 0..group_count {
            let mut table = vec![0u64; entries * n];
            // Entry 0 is 1; entry 2^r is row r of the group; entry idx = entry(idx without
            // its top bit) · row(top bit).
            if let Some(first) = table.get_mut(..n) {
                first.copy_from_slice(modulus.one());
            }
            for r in 0..ROWS_PER_GROUP {
                let step = 1usize << r;
                for idx in step..2 * step {
                    let (done, todo) = table.split_at_mut(idx * n);
                    let low = done.get((idx - step) * n..(idx - step + 1) * n).unwrap_or(&[]);
                    if let Some(dst) = todo.get_mut(..n) {
                        if idx == step {
                            dst.copy_from_slice(&row);
                        } else {
                            modulus.mul(low, &row, dst, &mut scratch);
                        }
                    }
                }
                // Next row: row^(2^A).
                for _ in 0..SPACING {
                    modulus.sqr(&row, &mut tmp, &mut scratch);
                    core::mem::swap(&mut row, &mut tmp);
                }
            }
            groups.push(table);
        }
        row.zeroize();
        tmp.zeroize();
        scratch.zeroize();
        Ok(Self { modulus, groups, public, corrections: Mutex::new(Vec::new()) })
    }

    /// The largest exponent size, in bits, the table covers.
    pub(crate) fn capacity_bits(&self) -> u32 {
        u32::try_from(self.groups.len()).unwrap_or(0).saturating_mul(GROUP_BITS)
    }

    /// The modulus.
    pub(crate) fn modulus(&self) -> &Arc<MontModulus> {
        &self.modulus
    }

    /// Row `i` of the table, `g^(2^(A·i))`, if the table has it.
    fn row(&self, i: u32) -> Option<&[u64]> {
        let n = self.modulus.limbs();
        let group = self.groups.get(usize::try_from(i / ROWS_PER_GROUP).ok()?)?;
        let idx = 1usize << (i % ROWS_PER_GROUP);
        group.get(idx * n..(idx + 1) * n)
    }

    /// `g^(-3·2^b)` (Montgomery form) for a public table: `g^(2^b)` from row `⌊b/A⌋` by
    /// `b mod A` squarings, cubed and inverted (variable time; every value is public).
    fn correction(&self, b: u32) -> Result<Arc<Vec<u64>>, PaillierError> {
        if !self.public {
            return Err(PaillierError::Bug("signed exponents need a public table"));
        }
        if let Ok(cache) = self.corrections.lock() {
            if let Some((_, c)) = cache.iter().find(|(bits, _)| *bits == b) {
                return Ok(Arc::clone(c));
            }
        }
        let m = &self.modulus;
        let n = m.limbs();
        let row = self.row(b / SPACING).ok_or(PaillierError::Bug("exponent beyond the table"))?;
        let mut x = row.to_vec();
        let mut tmp = vec![0u64; n];
        let mut scratch = m.scratch();
        for _ in 0..(b % SPACING) {
            m.sqr(&x, &mut tmp, &mut scratch);
            core::mem::swap(&mut x, &mut tmp);
        }
        let modulus = m.modulus_integer();
        let g2b = m.to_integer(&x);
        let cube = Integer::from(g2b.pow_mod_ref(&Integer::from(3), &modulus).ok_or(PaillierError::Bug("pow"))?);
        let inv = cube.invert(&modulus).map_err(|_| PaillierError::NotInvertible("fixed base not a unit"))?;
        let c = Arc::new(m.to_mont(&inv)?);
        if let Ok(mut cache) = self.corrections.lock() {
            if cache.len() < 64 {
                cache.push((b, Arc::clone(&c)));
            }
        }
        Ok(c)
    }
}

/// The limbs (exactly `limbs` of them) of `x + 3·2^b` for a signed `x` with `|x| < 2^b`,
/// computed without a branch on the sign of `x`: `|x|` is negated in two's complement under a
/// mask and added to the offset. The result lies in `[2^(b+1), 2^(b+2))`.
///
/// Only the limb length of `|x|` (exported from GMP) is not hidden. Checks `|x| < 2^b` and
/// that `limbs` covers `b + 2` bits.
pub(crate) fn signed_exponent_limbs(x: &Integer, b: u32, limbs: usize) -> Result<Vec<u64>, PaillierError> {
    let needed = usize::try_from((b + 2).div_ceil(64)).map_err(|_| PaillierError::Bug("exponent size"))?;
    if limbs < needed || x.significant_bits() > b {
        return Err(PaillierError::Bug("secret exponent outside its bound"));
    }
    let mut mag = limbs_of(&x.as_abs(), limbs)?;
    let neg = Choice::from(u8::from(x.is_negative()));
    let mask = u64::conditional_select(&0, &u64::MAX, neg);
    // Two's complement of mag under the mask: (mag ^ mask) + (mask & 1).
    let mut carry = mask & 1;
    let mut offset = vec![0u64; limbs];
    // 3·2^b: bits b and b + 1.
    for bit in [b, b + 1] {
        if let Some(l) = offset.get_mut(usize::try_from(bit / 64).unwrap_or(usize::MAX)) {
            *l |= 1u64 << (bit % 64);
        }
    }
    let mut add_carry = 0u64;
    for (o, m) in offset.iter_mut().zip(&mag) {
        let t = u128::from(*m ^ mask) + u128::from(carry);
        carry = (t >> 64) as u64;
        let s = u128::from(*o) + u128::from(t as u64) + u128::from(add_carry);
        *o = s as u64;
        add_carry = (s >> 64) as u64;
    }
    mag.zeroize();
    Ok(offset)
}

/// One term `g^e` of a multi-exponentiation: the table of `g`, the exponent's limbs and the
/// public bound on its bit length (the number of bits read).
pub(crate) struct Term<'a> {
    pub table: &'a FixedBaseTable,
    pub exponent: &'a [u64],
    pub bits: u32,
}

/// Bit `pos` of the limb vector `e` (0 beyond its end). `pos` is public.
fn bit(e: &[u64], pos: u32) -> u64 {
    let limb = usize::try_from(pos / 64).ok().and_then(|i| e.get(i)).copied().unwrap_or(0);
    (limb >> (pos % 64)) & 1
}

/// `Π g_k^(e_k) mod m` (Montgomery form) for tables over the same modulus, in constant time
/// with respect to the exponents: `A − 1` squarings and `A·Σ⌈bits_k / (A·H)⌉` multiplications,
/// each after a full scan of one group table.
///
/// Checks: every table uses `m`, every bound fits its table.
pub(crate) fn multi_pow(m: &MontModulus, terms: &[Term<'_>]) -> Result<Vec<u64>, PaillierError> {
    let n = m.limbs();
    for t in terms {
        if !core::ptr::eq(t.table.modulus.as_ref(), m) {
            return Err(PaillierError::Bug("fixed-base terms over different moduli"));
        }
        if t.bits > t.table.capacity_bits() {
            return Err(PaillierError::Bug("exponent beyond the table"));
        }
    }
    let mut acc = m.one().to_vec();
    let mut tmp = vec![0u64; n];
    let mut sel = vec![0u64; n];
    let mut scratch = m.scratch();
    for j in (0..SPACING).rev() {
        if j + 1 < SPACING {
            m.sqr(&acc, &mut tmp, &mut scratch);
            core::mem::swap(&mut acc, &mut tmp);
        }
        for t in terms {
            let groups = t.bits.div_ceil(GROUP_BITS);
            for (k, table) in (0..groups).zip(&t.table.groups) {
                let mut idx = 0u64;
                for r in 0..ROWS_PER_GROUP {
                    idx |= bit(t.exponent, SPACING * (k * ROWS_PER_GROUP + r) + j) << r;
                }
                ct_select(table, n, idx, &mut sel);
                m.mul(&acc, &sel, &mut tmp, &mut scratch);
                core::mem::swap(&mut acc, &mut tmp);
            }
        }
    }
    tmp.zeroize();
    sel.zeroize();
    scratch.zeroize();
    Ok(acc)
}

/// `Π g_k^(x_k) mod m` for signed secret exponents `|x_k| < 2^(b_k)` over public tables:
/// each `x_k` is shifted to `x_k + 3·2^(b_k)` ([`signed_exponent_limbs`]), the product is
/// taken with [`multi_pow`], and the public corrections `g_k^(-3·2^(b_k))` are multiplied in.
/// Returns the integer result in `[0, m)`.
pub(crate) fn multi_pow_signed(
    m: &MontModulus,
    terms: &[(&FixedBaseTable, &Integer, u32)],
) -> Result<Integer, PaillierError> {
    let mut exps = Vec::with_capacity(terms.len());
    for (table, x, b) in terms {
        let bits = b.checked_add(2).ok_or(PaillierError::Bug("exponent size"))?;
        let limbs = usize::try_from(bits.div_ceil(64)).map_err(|_| PaillierError::Bug("exponent size"))?;
        exps.push((signed_exponent_limbs(x, *b, limbs)?, bits, *table));
    }
    let list: Vec<Term<'_>> = exps.iter().map(|(e, bits, table)| Term { table, exponent: e, bits: *bits }).collect();
    let mut acc = multi_pow(m, &list)?;
    let n = m.limbs();
    let mut tmp = vec![0u64; n];
    let mut scratch = m.scratch();
    for (table, _, b) in terms {
        let c = table.correction(*b)?;
        m.mul(&acc, &c, &mut tmp, &mut scratch);
        core::mem::swap(&mut acc, &mut tmp);
    }
    for (e, _, _) in &mut exps {
        e.zeroize();
    }
    let out = m.to_integer(&acc);
    acc.zeroize();
    tmp.zeroize();
    scratch.zeroize();
    Ok(out)
}

/// `g^e mod m` for a non-negative secret `e < 2^bits` (fixed `bits`), as an integer.
pub(crate) fn pow_unsigned(table: &FixedBaseTable, e: &Integer, bits: u32) -> Result<Integer, PaillierError> {
    if e.is_negative() || e.significant_bits() > bits {
        return Err(PaillierError::Bug("secret exponent outside its bound"));
    }
    let limbs = usize::try_from(bits.div_ceil(64)).map_err(|_| PaillierError::Bug("exponent size"))?;
    let mut el = limbs_of(e, limbs)?;
    let m = table.modulus();
    let mut acc = multi_pow(m, &[Term { table, exponent: &el, bits }])?;
    el.zeroize();
    let out = m.to_integer(&acc);
    acc.zeroize();
    Ok(out)
}

/// The integer with the given limbs (least significant first).
#[cfg(test)]
pub(crate) fn integer_of(limbs: &[u64]) -> Integer {
    Integer::from_digits(limbs, Order::Lsf)
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

    fn random_signed(rng: &mut ChaCha20Rng, bits: u32) -> Integer {
        let x = random_int(rng, bits);
        if rng.next_u32() & 1 == 1 {
            -x
        } else {
            x
        }
    }

    #[test]
    fn signed_exponent_offset() {
        for x in [0i64, 1, -1, 5, -5, (1 << 20) - 1, -(1 << 20) + 1] {
            let xi = Integer::from(x);
            let limbs = signed_exponent_limbs(&xi, 20, 1).unwrap();
            assert_eq!(integer_of(&limbs), xi + (Integer::from(3) << 20u32));
        }
        let big = (Integer::from(1) << 200u32) - 1u32;
        for x in [big.clone(), -big.clone()] {
            let limbs = signed_exponent_limbs(&x, 200, 4).unwrap();
            assert_eq!(integer_of(&limbs), x + (Integer::from(3) << 200u32));
        }
        assert!(signed_exponent_limbs(&Integer::from(1 << 20), 20, 1).is_err());
        assert!(signed_exponent_limbs(&Integer::from(1), 63, 1).is_err());
    }

    #[test]
    fn fixed_base_matches_pow() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for bits in [67u32, 1024] {
            let mut m = random_int(&mut rng, bits);
            m.set_bit(bits - 1, true);
            m.set_bit(0, true);
            let mm = Arc::new(MontModulus::new(&m).unwrap());
            let mut unit = || loop {
                let g = random_int(&mut rng, bits) % &m;
                if Integer::from(g.gcd_ref(&m)) == 1 {
                    break g;
                }
            };
            let (g, h) = (unit(), unit());
            let tg = FixedBaseTable::new(Arc::clone(&mm), &g, 1200, true).unwrap();
            let th = FixedBaseTable::new(Arc::clone(&mm), &h, 500, true).unwrap();
            assert!(tg.capacity_bits() >= 1200);
            // Unsigned, including 0, 1 and all-ones of the bound.
            for e in
                [Integer::from(0), Integer::from(1), (Integer::from(1) << 1100u32) - 1u32, random_int(&mut rng, 1100)]
            {
                let want = Integer::from(g.pow_mod_ref(&e, &m).unwrap());
                assert_eq!(pow_unsigned(&tg, &e, 1100).unwrap(), want);
            }
            // Signed pairs.
            for _ in 0..6 {
                let x = random_signed(&mut rng, 1000);
                let y = random_signed(&mut rng, 300);
                let want =
                    Integer::from(g.pow_mod_ref(&x, &m).unwrap()) * Integer::from(h.pow_mod_ref(&y, &m).unwrap()) % &m;
                assert_eq!(multi_pow_signed(&mm, &[(&tg, &x, 1000), (&th, &y, 300)]).unwrap(), want);
            }
            for (x, b) in
                [(Integer::from(0), 1u32), (Integer::from(-1), 1), ((Integer::from(1) << 1197u32) - 1u32, 1197)]
            {
                let want = Integer::from(g.pow_mod_ref(&x, &m).unwrap());
                assert_eq!(multi_pow_signed(&mm, &[(&tg, &x, b)]).unwrap(), want);
            }
            // Bounds are enforced.
            assert!(multi_pow_signed(&mm, &[(&tg, &Integer::from(4), 2)]).is_err());
            assert!(pow_unsigned(&th, &Integer::from(1), 5000).is_err());
            let other = Arc::new(MontModulus::new(&m).unwrap());
            assert!(multi_pow_signed(&other, &[(&tg, &Integer::from(1), 3)]).is_err());
        }
    }

    #[test]
    fn secret_tables_refuse_signed_exponents() {
        let m = Integer::from(1_000_003u32) * Integer::from(999_983u32);
        let mm = Arc::new(MontModulus::new(&m).unwrap());
        let t = FixedBaseTable::new(Arc::clone(&mm), &Integer::from(2), 100, false).unwrap();
        assert!(multi_pow_signed(&mm, &[(&t, &Integer::from(-3), 10)]).is_err());
        assert_eq!(pow_unsigned(&t, &Integer::from(10), 10).unwrap(), 1024);
    }
}
