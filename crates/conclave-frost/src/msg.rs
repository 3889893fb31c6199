//! Wire messages of a signing session, in Conclave's canonical codec. Points and scalars are
//! in the ciphersuite's own serialization (which is ours: SEC1 compressed for secp256k1,
//! RFC 8032 for Ed25519), decoded by the validating decoders of [`conclave_math::Curve`].
//! Decoders never panic.

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::{Curve, DecodeError};
use conclave_protocol::PartyIndex;

/// Round 1 broadcast (reliable): the signer's nonce commitments (RFC 9591 §5.1 `commit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit<C: Curve> {
    /// The signer this commitment is for. Must be the authenticated sender; it binds the
    /// entry of the commitment list (RFC 9591 `(identifier, D, E)`) to the sender.
    pub signer: PartyIndex,
    /// Digest of the signing request (session, scheme, key, signer set, message, tweak).
    pub request: [u8; 32],
    /// Hiding nonce commitment `D_i = d_i·G`.
    pub hiding: C::Point,
    /// Binding nonce commitment `E_i = e_i·G`.
    pub binding: C::Point,
}

impl<C: Curve> Encode for Commit<C> {
    fn encode(&self, w: &mut Writer) {
        w.u16(self.signer.0).fixed(&self.request).point::<C>(&self.hiding).point::<C>(&self.binding);
    }
}

impl<C: Curve> Decode for Commit<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            signer: PartyIndex(r.u16()?),
            request: r.array()?,
            hiding: r.point::<C>()?,
            binding: r.point::<C>()?,
        })
    }
}

/// Round 2 broadcast (plain: each copy is checked against the echoed commitments): the
/// signature share `z_i` (RFC 9591 §5.2 `sign`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share<C: Curve> {
    /// `z_i = d_i + e_i·ρ_i + λ_i·s_i·c`.
    pub share: C::Scalar,
}

impl<C: Curve> Encode for Share<C> {
    fn encode(&self, w: &mut Writer) {
        w.scalar::<C>(&self.share);
    }
}

impl<C: Curve> Decode for Share<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { share: r.scalar::<C>()? })
    }
}
