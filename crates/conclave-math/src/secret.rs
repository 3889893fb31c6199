//! Secret scalars: zeroized on drop, redacted in `Debug`, compared in constant time.

use core::fmt;
use core::marker::PhantomData;

use ff::Field;
use rand_core::CryptoRngCore;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::curve::Curve;

/// A scalar that must stay secret: a key share, a polynomial coefficient, a nonce.
///
/// * no `Clone` by accident leaking copies around: cloning is explicit (`clone_secret`);
/// * `Debug` prints only the curve;
/// * equality is constant-time;
/// * the value is overwritten with zero when dropped;
/// * the only way out is [`SecretScalar::expose_secret`].
pub struct SecretScalar<C: Curve> {
    value: C::Scalar,
    _curve: PhantomData<C>,
}

impl<C: Curve> SecretScalar<C> {
    /// Wraps a scalar that is secret from now on.
    pub fn new(value: C::Scalar) -> Self {
        Self { value, _curve: PhantomData }
    }

    /// A uniformly random secret scalar.
    pub fn random(rng: &mut dyn CryptoRngCore) -> Self {
        Self::new(C::random_scalar(rng))
    }

    /// A uniformly random non-zero secret scalar.
    pub fn random_nonzero(rng: &mut dyn CryptoRngCore) -> Self {
        Self::new(C::random_nonzero_scalar(rng))
    }

    /// The zero scalar (a starting point for sums).
    pub fn zero() -> Self {
        Self::new(C::Scalar::ZERO)
    }

    /// Borrows the secret value. Every call site is a place where the secret is used.
    pub fn expose_secret(&self) -> &C::Scalar {
        &self.value
    }

    /// An explicit copy of the secret.
    pub fn clone_secret(&self) -> Self {
        Self::new(self.value)
    }

    /// `self · G`, constant-time.
    pub fn public_point(&self) -> C::Point {
        C::mul_base(&self.value)
    }

    /// Adds another secret in place.
    pub fn add_assign(&mut self, other: &Self) {
        self.value += other.value;
    }

    /// Whether the scalar is zero (constant-time).
    pub fn is_zero(&self) -> Choice {
        self.value.is_zero()
    }
}

impl<C: Curve> fmt::Debug for SecretScalar<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretScalar<{}>(REDACTED)", C::ID.name())
    }
}

impl<C: Curve> ConstantTimeEq for SecretScalar<C> {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.value.ct_eq(&other.value)
    }
}

impl<C: Curve> PartialEq for SecretScalar<C> {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl<C: Curve> Eq for SecretScalar<C> {}

impl<C: Curve> Zeroize for SecretScalar<C> {
    fn zeroize(&mut self) {
        self.value.zeroize();
    }
}

impl<C: Curve> Drop for SecretScalar<C> {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl<C: Curve> ZeroizeOnDrop for SecretScalar<C> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ed25519, Secp256k1, P256};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn debug_is_redacted<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let s = SecretScalar::<C>::random_nonzero(&mut rng);
        let shown = format!("{s:?} {s:#?}");
        let bytes = C::encode_scalar(s.expose_secret());
        let hex_lower = hex::encode(&bytes);
        assert!(!shown.contains(&hex_lower), "{shown}");
        assert!(!shown.to_lowercase().contains(&hex_lower[..16]));
        // Neither as a decimal list of bytes.
        assert!(!shown.contains(&format!("{:?}", &bytes[..4])[1..]));
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn debug_never_shows_secret() {
        debug_is_redacted::<Secp256k1>();
        debug_is_redacted::<P256>();
        debug_is_redacted::<Ed25519>();
    }

    #[test]
    fn equality_and_zeroize() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let a = SecretScalar::<Secp256k1>::random_nonzero(&mut rng);
        let b = a.clone_secret();
        assert_eq!(a, b);
        let mut c = a.clone_secret();
        c.zeroize();
        assert!(bool::from(c.is_zero()));
        assert_ne!(a, c);
    }
}
