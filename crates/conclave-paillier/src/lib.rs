//! Big integers, safe primes, Paillier encryption with CRT and ring-Pedersen parameters.
//!
//! * Big integers are GMP's, through [`rug`] (re-exported as [`Integer`]); the measurement
//!   behind that choice is in `docs/paillier.md`. Every exponentiation with a secret base or
//!   exponent is constant-time: GMP's side-channel-resilient `mpz_powm_sec`, or, for fixed
//!   bases (ring-Pedersen `s, t`; the owner's nonce generators), comb tables evaluated with
//!   this crate's fixed-size Montgomery arithmetic (`docs/paillier.md` §6).
//! * [`generate_safe_prime`] finds safe primes `p = 2q + 1` with a combined sieve and
//!   Miller–Rabin tests on several threads; [`PrimePool`] stores them ahead of time;
//!   [`is_safe_prime`] and [`is_blum_prime`] check given primes.
//! * [`EncryptionKey`], [`DecryptionKey`], [`Ciphertext`], [`Nonce`]: Paillier with
//!   `N ≥` [`MIN_MODULUS_BITS`] bits, CRT decryption and the owner's CRT exponentiation.
//! * [`RingPedersenParams`] (with [`RingPedersenParams::commit`], `s^x t^y` through
//!   precomputed tables), [`RingPedersenSecret`], [`generate_ring_pedersen`].
//! * [`multi_pow_vartime`]: Straus multi-exponentiation for verifiers (public values only).
//!
//! The crate takes randomness as an argument and does no I/O; the only threads are the scoped
//! search threads of the prime generator.

mod bigint;
mod error;
mod fixed_base;
mod mont;
mod paillier;
mod pool;
mod primes;
mod ring_pedersen;

pub use bigint::{multi_pow_vartime, wipe_integer, SecretInt};
pub use error::PaillierError;
pub use paillier::{Ciphertext, DecryptionKey, EncryptionKey, Nonce, MAX_MODULUS_BITS, MIN_MODULUS_BITS, PRIME_BITS};
pub use pool::{PrimePool, MAX_POOL_PRIMES};
pub use primes::{
    generate_safe_prime, is_blum_prime, is_probable_prime_vartime, is_safe_prime, GENERATION_MR_ROUNDS, MAX_PRIME_BITS,
    MIN_GENERATED_PRIME_BITS,
};
pub use ring_pedersen::{generate_ring_pedersen, RingPedersenParams, RingPedersenSecret, TABLE_EXTRA_BITS};
pub use rug::Integer;
