//! Secret polynomials, Shamir x-coordinates and Lagrange coefficients.

use ff::Field;
use rand_core::CryptoRngCore;
use zeroize::Zeroize;

use crate::curve::Curve;
use crate::error::MathError;
use crate::secret::SecretScalar;
use crate::vss::VssCommitment;

/// The Shamir x-coordinate of the party with 0-based index `index`: `index + 1`.
///
/// It is never zero modulo the group order (every order here exceeds 2^16 + 1), and distinct
/// indices give distinct coordinates.
pub fn shamir_x<C: Curve>(index: u16) -> C::Scalar {
    C::Scalar::from(u64::from(index) + 1)
}

/// A polynomial with secret coefficients `a_0 + a_1 x + … + a_{t-1} x^{t-1}`.
///
/// A threshold-`t` sharing uses exactly `t` coefficients (degree `t - 1`).
pub struct SecretPolynomial<C: Curve> {
    coefficients: Vec<C::Scalar>,
}

impl<C: Curve> SecretPolynomial<C> {
    /// A random polynomial with `threshold` coefficients and the given constant term (or a
    /// random one).
    pub fn random(
        rng: &mut dyn CryptoRngCore,
        threshold: usize,
        constant: Option<&SecretScalar<C>>,
    ) -> Result<Self, MathError> {
        if threshold == 0 {
            return Err(MathError::InvalidThreshold { threshold, parties: 0 });
        }
        let mut coefficients = Vec::with_capacity(threshold);
        coefficients.push(match constant {
            Some(c) => *c.expose_secret(),
            None => C::random_scalar(rng),
        });
        for _ in 1..threshold {
            coefficients.push(C::random_scalar(rng));
        }
        Ok(Self { coefficients })
    }

    /// Number of coefficients (the threshold).
    pub fn threshold(&self) -> usize {
        self.coefficients.len()
    }

    /// The constant term (the shared secret).
    pub fn constant(&self) -> SecretScalar<C> {
        SecretScalar::new(self.coefficients.first().copied().unwrap_or(C::Scalar::ZERO))
    }

    /// `f(x)` by Horner's rule, constant-time in the coefficients.
    pub fn evaluate(&self, x: &C::Scalar) -> SecretScalar<C> {
        let mut acc = C::Scalar::ZERO;
        for c in self.coefficients.iter().rev() {
            acc = acc * x + c;
        }
        SecretScalar::new(acc)
    }

    /// The Feldman commitment `(a_0·G, …, a_{t-1}·G)`.
    pub fn commit(&self) -> VssCommitment<C> {
        VssCommitment::from_points_unchecked(self.coefficients.iter().map(C::mul_base).collect())
    }

    /// Test and adversary support: appends a coefficient, raising the degree.
    #[doc(hidden)]
    pub fn push_coefficient_for_testing(&mut self, c: C::Scalar) {
        self.coefficients.push(c);
    }
}

impl<C: Curve> core::fmt::Debug for SecretPolynomial<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SecretPolynomial<{}>(t = {}, REDACTED)", C::ID.name(), self.coefficients.len())
    }
}

impl<C: Curve> Drop for SecretPolynomial<C> {
    fn drop(&mut self) {
        for c in self.coefficients.iter_mut() {
            c.zeroize();
        }
    }
}

/// The Lagrange coefficient at zero of the point `xs[i]` over the set `xs`:
/// `λ_i = Π_{j≠i} x_j / (x_j − x_i)`.
///
/// Fails if the points are not pairwise distinct, one is zero, or `i` is out of range.
/// Public inputs only (x-coordinates are public); runs in variable time over the set size.
pub fn lagrange_at_zero<C: Curve>(xs: &[C::Scalar], i: usize) -> Result<C::Scalar, MathError> {
    let xi = *xs.get(i).ok_or(MathError::IndexOutOfRange(i))?;
    let mut num = C::Scalar::ONE;
    let mut den = C::Scalar::ONE;
    for (j, xj) in xs.iter().enumerate() {
        if bool::from(xj.is_zero()) {
            return Err(MathError::ZeroPoint);
        }
        if j == i {
            continue;
        }
        let diff = *xj - xi;
        if bool::from(diff.is_zero()) {
            return Err(MathError::DuplicatePoints);
        }
        num *= xj;
        den *= diff;
    }
    let inv: Option<C::Scalar> = den.invert().into();
    Ok(num * inv.ok_or(MathError::DuplicatePoints)?)
}

/// Interpolates `f(0)` from points `(xs[k], ys[k])` in the exponent: `Σ λ_k · Y_k`.
pub fn interpolate_points_at_zero<C: Curve>(xs: &[C::Scalar], ys: &[C::Point]) -> Result<C::Point, MathError> {
    if xs.is_empty() || xs.len() != ys.len() {
        return Err(MathError::Empty);
    }
    let mut acc = C::Point::identity_point();
    for (k, y) in ys.iter().enumerate() {
        acc += *y * lagrange_at_zero::<C>(xs, k)?;
    }
    Ok(acc)
}

/// Small extension so generic code can name the identity without importing `group`.
trait IdentityPoint {
    fn identity_point() -> Self;
}

impl<P: group::Group> IdentityPoint for P {
    fn identity_point() -> Self {
        P::identity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ed25519, Secp256k1, P256};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn shamir_roundtrip<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let secret = SecretScalar::<C>::random_nonzero(&mut rng);
        let poly = SecretPolynomial::<C>::random(&mut rng, 3, Some(&secret)).unwrap();
        let ids = [0u16, 2, 4];
        let xs: Vec<_> = ids.iter().map(|&i| shamir_x::<C>(i)).collect();
        let mut sum = C::Scalar::ZERO;
        for (k, x) in xs.iter().enumerate() {
            sum += *poly.evaluate(x).expose_secret() * lagrange_at_zero::<C>(&xs, k).unwrap();
        }
        assert_eq!(SecretScalar::<C>::new(sum), secret);
        // Two shares do not give the secret.
        let xs2 = &xs[..2];
        let mut sum2 = C::Scalar::ZERO;
        for (k, x) in xs2.iter().enumerate() {
            sum2 += *poly.evaluate(x).expose_secret() * lagrange_at_zero::<C>(xs2, k).unwrap();
        }
        assert_ne!(SecretScalar::<C>::new(sum2), secret);
        // In the exponent.
        let ys: Vec<_> = xs.iter().map(|x| poly.evaluate(x).public_point()).collect();
        assert_eq!(interpolate_points_at_zero::<C>(&xs, &ys).unwrap(), secret.public_point());
    }

    #[test]
    fn shamir_all_curves() {
        shamir_roundtrip::<Secp256k1>();
        shamir_roundtrip::<P256>();
        shamir_roundtrip::<Ed25519>();
    }

    #[test]
    fn lagrange_rejects_bad_sets() {
        let x1 = shamir_x::<Secp256k1>(0);
        let x2 = shamir_x::<Secp256k1>(1);
        assert_eq!(lagrange_at_zero::<Secp256k1>(&[x1, x1], 0), Err(MathError::DuplicatePoints));
        assert_eq!(
            lagrange_at_zero::<Secp256k1>(&[x1, <Secp256k1 as Curve>::Scalar::ZERO], 0),
            Err(MathError::ZeroPoint)
        );
        assert_eq!(lagrange_at_zero::<Secp256k1>(&[x1, x2], 2), Err(MathError::IndexOutOfRange(2)));
        assert_eq!(lagrange_at_zero::<Secp256k1>(&[x1], 0), Ok(<Secp256k1 as Curve>::Scalar::ONE));
    }

    #[test]
    fn polynomial_debug_is_redacted() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let poly = SecretPolynomial::<Secp256k1>::random(&mut rng, 2, None).unwrap();
        let hex_c0 = hex::encode(Secp256k1::encode_scalar(poly.constant().expose_secret()));
        let shown = format!("{poly:?}");
        assert!(!shown.contains(&hex_c0));
        assert!(shown.contains("REDACTED"));
    }
}
