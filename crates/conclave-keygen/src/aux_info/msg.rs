//! Wire messages of the aux-info protocol.

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::DecodeError;
use conclave_paillier::{Integer, MAX_MODULUS_BITS};
use conclave_zk::common::{read_integer, write_integer};
use conclave_zk::fac::FacProof;
use conclave_zk::pi_mod::ModProof;
use conclave_zk::prm::PrmProof;

/// Round 1 (reliable): the commitment `V_i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuxCommit {
    /// `V_i`.
    pub hash: [u8; 32],
}

impl Encode for AuxCommit {
    fn encode(&self, w: &mut Writer) {
        w.fixed(&self.hash);
    }
}

impl Decode for AuxCommit {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { hash: r.array()? })
    }
}

/// Round 2: the opened parameters and Π^prm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuxReveal {
    /// `N_i` (also `N̂_i`).
    pub n: Integer,
    /// `s_i`.
    pub s: Integer,
    /// `t_i`.
    pub t: Integer,
    /// Π^prm for `(N_i, s_i, t_i)`.
    pub prm: PrmProof,
    /// `ρ_i`, the party's share of the randomness bound into Π^mod and Π^fac.
    pub rho: [u8; 32],
    /// The decommitment nonce.
    pub u: [u8; 32],
}

impl Encode for AuxReveal {
    fn encode(&self, w: &mut Writer) {
        write_integer(w, &self.n);
        write_integer(w, &self.s);
        write_integer(w, &self.t);
        w.put(&self.prm).fixed(&self.rho).fixed(&self.u);
    }
}

impl Decode for AuxReveal {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            n: read_integer(r, MAX_MODULUS_BITS)?,
            s: read_integer(r, MAX_MODULUS_BITS)?,
            t: read_integer(r, MAX_MODULUS_BITS)?,
            prm: r.get()?,
            rho: r.array()?,
            u: r.array()?,
        })
    }
}

/// Round 3 broadcast: Π^mod for `N_i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuxMod {
    /// The proof.
    pub psi: ModProof,
}

impl Encode for AuxMod {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.psi);
    }
}

impl Decode for AuxMod {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { psi: r.get()? })
    }
}

/// Round 3 direct: Π^fac for `N_i` under the recipient's ring-Pedersen parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuxFac {
    /// The proof.
    pub phi: FacProof,
}

impl Encode for AuxFac {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.phi);
    }
}

impl Decode for AuxFac {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { phi: r.get()? })
    }
}
