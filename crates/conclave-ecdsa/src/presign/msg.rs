//! Wire messages of presigning. Ciphertexts travel as integers and are checked to lie in
//! `Z*_{N²}` of the right key by the round that receives them (SECURITY.md item 6).

use conclave_math::codec::{Decode, Encode, Reader, Writer, MAX_BYTES, MAX_SEQUENCE};
use conclave_math::{Curve, DecodeError};
use conclave_paillier::{Integer, MAX_MODULUS_BITS};
use conclave_protocol::SignedStatement;
use conclave_zk::aff_g::AffGProof;
use conclave_zk::aff_g_star::AffGStarProof;
use conclave_zk::common::{read_integer, write_integer};
use conclave_zk::dec::DecProof;
use conclave_zk::elog::ElogProof;
use conclave_zk::enc_elg::EncElgProof;

/// Largest ciphertext accepted on the wire, in bits (`N² < 2^(2·MAX_MODULUS_BITS)`).
const MAX_CIPHERTEXT_BITS: u32 = 2 * MAX_MODULUS_BITS;

/// Round 1 broadcast (reliable): Paillier encryptions of `k_i` and `γ_i`, the ElGamal key
/// `Y_i`, and ElGamal commitments `A_i = (a_i·G, a_i·Y_i + k_i·G)`, `B_i = (b_i·G, b_i·Y_i + γ_i·G)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round1Broadcast<C: Curve> {
    /// `K_i = enc_i(k_i; ρ_i)`.
    pub k: Integer,
    /// `G_i = enc_i(γ_i; ν_i)`.
    pub g: Integer,
    /// `Y_i = y_i·G`.
    pub y: C::Point,
    /// `A_i`.
    pub a: (C::Point, C::Point),
    /// `B_i`.
    pub b: (C::Point, C::Point),
}

impl<C: Curve> Encode for Round1Broadcast<C> {
    fn encode(&self, w: &mut Writer) {
        write_integer(w, &self.k);
        write_integer(w, &self.g);
        w.point::<C>(&self.y).point::<C>(&self.a.0).point::<C>(&self.a.1).point::<C>(&self.b.0).point::<C>(&self.b.1);
    }
}

impl<C: Curve> Decode for Round1Broadcast<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            k: read_integer(r, MAX_CIPHERTEXT_BITS)?,
            g: read_integer(r, MAX_CIPHERTEXT_BITS)?,
            y: r.point::<C>()?,
            a: (r.point::<C>()?, r.point::<C>()?),
            b: (r.point::<C>()?, r.point::<C>()?),
        })
    }
}

/// Round 1 direct message to `P_j`: Π^enc-elg for `(K_i, A_i)` and `(G_i, B_i)` under `P_j`'s
/// ring-Pedersen parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round1Direct<C: Curve> {
    /// Proof for `k_i`.
    pub psi_k: EncElgProof<C>,
    /// Proof for `γ_i`.
    pub psi_g: EncElgProof<C>,
}

impl<C: Curve> Encode for Round1Direct<C> {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.psi_k).put(&self.psi_g);
    }
}

impl<C: Curve> Decode for Round1Direct<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { psi_k: r.get()?, psi_g: r.get()? })
    }
}

/// Round 2 broadcast: `Γ_i = γ_i·G` with Π^elog tying it to `B_i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round2Broadcast<C: Curve> {
    /// `Γ_i`.
    pub gamma: C::Point,
    /// Π^elog for `(B_i, Y_i, Γ_i, G)`.
    pub psi: ElogProof<C>,
}

impl<C: Curve> Encode for Round2Broadcast<C> {
    fn encode(&self, w: &mut Writer) {
        w.point::<C>(&self.gamma).put(&self.psi);
    }
}

impl<C: Curve> Decode for Round2Broadcast<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { gamma: r.point::<C>()?, psi: r.get()? })
    }
}

/// Round 2 direct message to `P_j`: the two multiplicative-to-additive conversions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round2Direct<C: Curve> {
    /// `D_{j,i} = γ_i ⊙ K_j ⊕ enc_j(−β_{i,j})`.
    pub d: Integer,
    /// `F_{j,i} = enc_i(−β_{i,j})`.
    pub f: Integer,
    /// `D̂_{j,i} = x_i ⊙ K_j ⊕ enc_j(−β̂_{i,j})`.
    pub d_hat: Integer,
    /// `F̂_{j,i} = enc_i(−β̂_{i,j})`.
    pub f_hat: Integer,
    /// Π^aff-g for `(D, F, Γ_i)`.
    pub psi: AffGProof<C>,
    /// Π^aff-g for `(D̂, F̂, X_i)`.
    pub psi_hat: AffGProof<C>,
}

impl<C: Curve> Encode for Round2Direct<C> {
    fn encode(&self, w: &mut Writer) {
        for x in [&self.d, &self.f, &self.d_hat, &self.f_hat] {
            write_integer(w, x);
        }
        w.put(&self.psi).put(&self.psi_hat);
    }
}

impl<C: Curve> Decode for Round2Direct<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            d: read_integer(r, MAX_CIPHERTEXT_BITS)?,
            f: read_integer(r, MAX_CIPHERTEXT_BITS)?,
            d_hat: read_integer(r, MAX_CIPHERTEXT_BITS)?,
            f_hat: read_integer(r, MAX_CIPHERTEXT_BITS)?,
            psi: r.get()?,
            psi_hat: r.get()?,
        })
    }
}

/// Round 3 broadcast (reliable): `δ_i`, `Δ_i = k_i·Γ`, `S_i = χ_i·Γ`, Π^elog tying `Δ_i` to `A_i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round3Broadcast<C: Curve> {
    /// `δ_i`.
    pub delta: C::Scalar,
    /// `Δ_i`.
    pub big_delta: C::Point,
    /// `S_i`.
    pub s: C::Point,
    /// Π^elog for `(A_i, Y_i, Δ_i, Γ)`.
    pub psi: ElogProof<C>,
}

impl<C: Curve> Encode for Round3Broadcast<C> {
    fn encode(&self, w: &mut Writer) {
        w.scalar::<C>(&self.delta).point::<C>(&self.big_delta).point::<C>(&self.s).put(&self.psi);
    }
}

impl<C: Curve> Decode for Round3Broadcast<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { delta: r.scalar::<C>()?, big_delta: r.point::<C>()?, s: r.point::<C>()?, psi: r.get()? })
    }
}

/// Which joint check of round 3 failed, and so which values the identifiable abort re-checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbortCheck {
    /// `δ·G ≠ ΣΔ_j` (step 4.2): every signer proves its `δ_i` and its `D_{j,i}, F_{j,i}`.
    Delta,
    /// `ΣS_j ≠ δ·X` (step 4.4): every signer proves its `χ_i` (`S_i`) and its `D̂_{j,i}, F̂_{j,i}`.
    Chi,
}

impl AbortCheck {
    fn tag(self) -> u8 {
        match self {
            AbortCheck::Delta => 1,
            AbortCheck::Chi => 2,
        }
    }

    /// The label bound into the abort proofs' transcripts.
    pub(crate) fn label(self) -> &'static [u8] {
        match self {
            AbortCheck::Delta => b"delta",
            AbortCheck::Chi => b"chi",
        }
    }
}

/// A round-2 direct message as its recipient received it: the payload and the sender's signed
/// statement (the envelope signature over the payload digest), so that anyone holding the
/// sender's identity key can authenticate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Republished {
    /// The sender's statement (round 2, direct, to the republisher).
    pub statement: SignedStatement,
    /// The [`Round2Direct`] payload.
    pub payload: Vec<u8>,
}

/// Broadcast (reliable) of the identifiable-abort round `3 + r` (`r = 1 … |S|−1`), sent only when
/// a joint check of round 3 fails (spec steps 5.1–5.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbortBroadcast<C: Curve> {
    /// The failed check (every honest signer sees the same one).
    pub check: AbortCheck,
    /// First abort round only (empty later): every round-2 direct message we received, one per
    /// other signer in ascending order.
    pub republished: Vec<Republished>,
    /// First abort round only: Π^dec for `δ_i` (base `G`) or `χ_i` (base `Γ`, `S = S_i`).
    pub dec: Option<DecProof<C>>,
    /// Π^aff-g* for our `D_{j,i}/F_{j,i}` (or `D̂/F̂`) towards our `r`-th other signer `j`.
    pub aff: AffGStarProof<C>,
}

impl<C: Curve> Encode for AbortBroadcast<C> {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.check.tag());
        w.len(self.republished.len());
        for r in &self.republished {
            w.put(&r.statement).bytes(&r.payload);
        }
        match &self.dec {
            Some(d) => w.u8(1).put(d),
            None => w.u8(0),
        };
        w.put(&self.aff);
    }
}

impl<C: Curve> Decode for AbortBroadcast<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let check = match r.u8()? {
            1 => AbortCheck::Delta,
            2 => AbortCheck::Chi,
            tag => return Err(DecodeError::UnknownTag { what: "abort check", tag }),
        };
        // A statement is at least 32 + 2 + 1 + 2 + 1 + 32 + 64 bytes and a length prefix.
        let n = r.len("republished messages", MAX_SEQUENCE, 140)?;
        let republished = (0..n)
            .map(|_| Ok(Republished { statement: r.get()?, payload: r.bytes("round-2 payload", MAX_BYTES)?.to_vec() }))
            .collect::<Result<Vec<_>, DecodeError>>()?;
        let dec = match r.u8()? {
            0 => None,
            1 => Some(r.get()?),
            tag => return Err(DecodeError::UnknownTag { what: "Π^dec presence", tag }),
        };
        Ok(Self { check, republished, dec, aff: r.get()? })
    }
}
