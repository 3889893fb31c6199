//! The at-rest encoding of a [`Presignature`] — **only for the node's encrypted store**
//! (`conclave-store`), where it is written once and read back with the store's single-use
//! `take`. [`Presignature::into_record`] consumes the presignature, so the single-use property
//! moves from the type system to the store's durable tombstone.
//!
//! Layout (codec of `conclave-math`): type tag 4, version, curve tag; session id, key id,
//! signer set, our index, derivation path (count + `u32` indices), public key, `R`, `Γ`,
//! every signer's `Δ_j` and `S_j` (index, point); then the secrets `k_i`, `χ_i`.

use conclave_keygen::record::{
    read_header, read_party_points, write_header, write_party_points, RecordError, PRESIGNATURE_RECORD,
};
use conclave_keygen::KeyId;
use conclave_math::codec::{Reader, Writer};
use conclave_math::{DecodeError, SecretScalar};
use conclave_protocol::{PartyIndex, PartySet, SessionId};
use zeroize::Zeroizing;

use super::{Presignature, ThresholdCurve};
use crate::hd::{DerivationPath, MAX_DEPTH};

impl<C: ThresholdCurve> Presignature<C> {
    /// Encodes the presignature — **only for the node's encrypted store** — and consumes it.
    /// The buffer is zeroized on drop; the presignature itself is zeroized as it is dropped
    /// here.
    pub fn into_record(self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::new();
        write_header(&mut w, PRESIGNATURE_RECORD, Some(C::ID));
        w.fixed(&self.session.0).fixed(&self.key_id.0).put(&self.signers).u16(self.me.0);
        w.len(self.path.indices().len());
        for i in self.path.indices() {
            w.u32(*i);
        }
        w.point::<C>(&self.public_key).point::<C>(&self.big_r).point::<C>(&self.gamma);
        write_party_points::<C>(&mut w, &self.big_deltas);
        write_party_points::<C>(&mut w, &self.big_s);
        // Both secrets in one exactly sized buffer, copied into the record last: no buffer
        // holding them is freed without being zeroized.
        let k = Zeroizing::new(C::encode_scalar(self.k.expose_secret()));
        let chi = Zeroizing::new(C::encode_scalar(self.chi.expose_secret()));
        let mut secrets = Zeroizing::new(Vec::with_capacity(k.len() + chi.len()));
        secrets.extend_from_slice(&k);
        secrets.extend_from_slice(&chi);
        w.fixed(&secrets);
        Zeroizing::new(w.into_bytes())
    }

    /// Decodes and re-validates [`Presignature::into_record`]: header and curve, signer set,
    /// our index among the signers, a non-hardened path of at most [`MAX_DEPTH`] levels,
    /// canonical non-identity points, `Δ_j` and `S_j` for exactly the signers, canonical
    /// secrets with `k_i·Γ = Δ_i` and `χ_i·Γ = S_i`.
    pub fn from_record(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut r = Reader::new(bytes);
        read_header(&mut r, PRESIGNATURE_RECORD, "presignature", Some(C::ID))?;
        let session = SessionId(r.array()?);
        let key_id = KeyId(r.array()?);
        let signers: PartySet = r.get()?;
        let me = PartyIndex(r.u16()?);
        let depth = r.len("derivation path", MAX_DEPTH, 4)?;
        let indices = (0..depth).map(|_| r.u32()).collect::<Result<Vec<u32>, DecodeError>>()?;
        let path = DerivationPath::new(indices).map_err(|_| RecordError::Inconsistent("derivation path"))?;
        let public_key = r.point::<C>()?;
        let big_r = r.point::<C>()?;
        let gamma = r.point::<C>()?;
        let big_deltas = read_party_points::<C>(&mut r, &signers, "Δ")?;
        let big_s = read_party_points::<C>(&mut r, &signers, "S")?;
        let k = SecretScalar::<C>::new(r.scalar::<C>()?);
        let chi = SecretScalar::<C>::new(r.scalar::<C>()?);
        r.finish()?;
        let (Some(my_delta), Some(my_s)) = (big_deltas.get(&me), big_s.get(&me)) else {
            return Err(RecordError::Inconsistent("our index is not among the signers"));
        };
        if gamma * k.expose_secret() != *my_delta {
            return Err(RecordError::Inconsistent("k·Γ does not match our Δ"));
        }
        if gamma * chi.expose_secret() != *my_s {
            return Err(RecordError::Inconsistent("χ·Γ does not match our S"));
        }
        Ok(Self { session, key_id, signers, me, path, public_key, big_r, gamma, big_deltas, big_s, k, chi })
    }
}
