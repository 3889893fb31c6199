//! Feldman verifiable secret sharing.

use group::Group;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::curve::Curve;
use crate::error::DecodeError;
use crate::poly::shamir_x;

/// Commitments `(A_0, …, A_{t-1}) = (a_0·G, …, a_{t-1}·G)` to a sharing polynomial.
///
/// A value of this type built by [`VssCommitment::new`] has exactly the threshold's number of
/// coefficients and no identity element (SECURITY.md item 12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VssCommitment<C: Curve> {
    points: Vec<C::Point>,
}

/// Why a received VSS commitment is unacceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VssError {
    /// The commitment does not have exactly `threshold` coefficients (threshold raising).
    #[error("commitment has {found} coefficients, expected exactly {expected}")]
    WrongCoefficientCount {
        /// The threshold.
        expected: usize,
        /// The number received.
        found: usize,
    },
    /// A coefficient commitment is the identity element.
    #[error("coefficient {0} is the identity")]
    IdentityCoefficient(usize),
}

impl<C: Curve> VssCommitment<C> {
    /// Validates a received commitment: exactly `threshold` coefficients, none the identity.
    pub fn new(points: Vec<C::Point>, threshold: usize) -> Result<Self, VssError> {
        if points.len() != threshold {
            return Err(VssError::WrongCoefficientCount { expected: threshold, found: points.len() });
        }
        if let Some(k) = points.iter().position(|p| bool::from(p.is_identity())) {
            return Err(VssError::IdentityCoefficient(k));
        }
        Ok(Self { points })
    }

    /// Builds a commitment from our own polynomial without checks.
    pub(crate) fn from_points_unchecked(points: Vec<C::Point>) -> Self {
        Self { points }
    }

    /// The coefficient commitments.
    pub fn points(&self) -> &[C::Point] {
        &self.points
    }

    /// Number of coefficients.
    pub fn threshold(&self) -> usize {
        self.points.len()
    }

    /// `A_0`, the commitment to the shared secret.
    pub fn constant_term(&self) -> C::Point {
        self.points.first().copied().unwrap_or_else(C::Point::identity)
    }

    /// `Σ_k A_k · x^k`: the public image of the share at `x` (variable time; public data).
    pub fn evaluate_vartime(&self, x: &C::Scalar) -> C::Point {
        let mut acc = C::Point::identity();
        for a in self.points.iter().rev() {
            acc = acc * x + a;
        }
        acc
    }

    /// The public image of the share of the party with 0-based index `index`.
    pub fn public_share(&self, index: u16) -> C::Point {
        self.evaluate_vartime(&shamir_x::<C>(index))
    }

    /// Checks `share · G == Σ_k A_k · x_index^k`.
    pub fn verify_share(&self, index: u16, share: &C::Scalar) -> bool {
        C::mul_base(share) == self.public_share(index)
    }

    /// Decodes a commitment and validates it against `threshold`.
    pub fn decode_with_threshold(r: &mut Reader<'_>, threshold: usize) -> Result<Self, DecodeError> {
        let points = r.points::<C>()?;
        Self::new(points, threshold)
            .map_err(|_| DecodeError::Invalid { what: "vss commitment", reason: "wrong coefficient count or identity" })
    }
}

impl<C: Curve> Encode for VssCommitment<C> {
    fn encode(&self, w: &mut Writer) {
        w.points::<C>(&self.points);
    }
}

/// Decoding without a threshold: checks only the encoding; use [`VssCommitment::new`] or
/// [`VssCommitment::decode_with_threshold`] to validate the count.
impl<C: Curve> Decode for VssCommitment<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { points: r.points::<C>()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poly::SecretPolynomial;
    use crate::{Ed25519, Secp256k1, P256};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn vss<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let poly = SecretPolynomial::<C>::random(&mut rng, 3, None).unwrap();
        let com = poly.commit();
        let checked = VssCommitment::<C>::new(com.points().to_vec(), 3).unwrap();
        for i in 0..5u16 {
            let share = poly.evaluate(&shamir_x::<C>(i));
            assert!(checked.verify_share(i, share.expose_secret()));
            assert!(!checked.verify_share(i + 1, share.expose_secret()));
        }
        assert_eq!(
            VssCommitment::<C>::new(com.points().to_vec(), 2),
            Err(VssError::WrongCoefficientCount { expected: 2, found: 3 })
        );
        let mut with_id = com.points().to_vec();
        with_id[1] = C::Point::identity();
        assert_eq!(VssCommitment::<C>::new(with_id, 3), Err(VssError::IdentityCoefficient(1)));
        let bytes = checked.to_bytes();
        let back = VssCommitment::<C>::decode_with_threshold(&mut Reader::new(&bytes), 3).unwrap();
        assert_eq!(back, checked);
        assert!(VssCommitment::<C>::decode_with_threshold(&mut Reader::new(&bytes), 4).is_err());
    }

    #[test]
    fn vss_all_curves() {
        vss::<Secp256k1>();
        vss::<P256>();
        vss::<Ed25519>();
    }
}
