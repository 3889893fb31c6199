//! Wire messages of key resharing. Every decoder validates points and scalars canonically and
//! never panics; the coefficient count of a commitment is checked by the round (so that a wrong
//! count is reported as threshold raising, not as garbage).
//!
//! The sub-share an old signer sends a new party is the DKG's [`Share`] (one scalar).
//! Parties with nothing to send in a round send an empty payload (see [`EMPTY`]).

use conclave_math::codec::{Decode, Encode, Reader, Writer, MAX_BYTES, MAX_SEQUENCE};
use conclave_math::{Curve, DecodeError};
use conclave_protocol::PartyIndex;

pub use crate::dkg::Share;

/// The payload of a message a party has nothing to say in (a round-1 broadcast of a party
/// outside the old signers, a round-1 direct message to a party outside the new group). It is
/// signed like every other message, so that the engine's rounds stay uniform.
pub const EMPTY: &[u8] = &[];

/// Round 1 broadcast (reliable) of an old signer `i`: the Feldman commitment to `f_i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment<C: Curve> {
    /// `A_i = (a_{i,0}·G, …, a_{i,t′-1}·G)` with `A_{i,0} = λ_i·X_i`.
    pub coefficients: Vec<C::Point>,
}

impl<C: Curve> Encode for Commitment<C> {
    fn encode(&self, w: &mut Writer) {
        w.points::<C>(&self.coefficients);
    }
}

impl<C: Curve> Decode for Commitment<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { coefficients: r.points::<C>()? })
    }
}

/// One accusation: the accused party's signed round-1 direct message to the accuser, which
/// anyone can re-check against the accused party's (echo-agreed) commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accusation {
    /// The accused party.
    pub accused: PartyIndex,
    /// The direct message payload as received. For a sub-share this reveals one evaluation of
    /// the accused party's polynomial; the session is aborted, so it protects nothing any more
    /// (the old key is untouched and the new sharing is discarded).
    pub payload: Vec<u8>,
    /// The accused party's envelope signature over it.
    pub signature: [u8; 64],
}

/// Round 2 broadcast (reliable): confirm the hand-over, or accuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Everything checked out; `hash` binds the session, the old key, the new group and
    /// threshold, every commitment and every new public share.
    Confirm {
        /// The confirmation digest.
        hash: [u8; 32],
    },
    /// Something did not; the evidence for each accusation.
    Complaint {
        /// The accusations (at least one).
        accusations: Vec<Accusation>,
    },
}

impl Encode for Verdict {
    fn encode(&self, w: &mut Writer) {
        match self {
            Verdict::Confirm { hash } => {
                w.u8(1).fixed(hash);
            }
            Verdict::Complaint { accusations } => {
                w.u8(2).len(accusations.len());
                for a in accusations {
                    w.u16(a.accused.0).bytes(&a.payload).fixed(&a.signature);
                }
            }
        }
    }
}

impl Decode for Verdict {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => Ok(Verdict::Confirm { hash: r.array()? }),
            2 => {
                let n = r.len("accusations", MAX_SEQUENCE, 70)?;
                if n == 0 {
                    return Err(DecodeError::Invalid { what: "complaint", reason: "no accusation" });
                }
                let accusations = (0..n)
                    .map(|_| {
                        Ok(Accusation {
                            accused: PartyIndex(r.u16()?),
                            payload: r.bytes("payload", MAX_BYTES)?.to_vec(),
                            signature: r.array()?,
                        })
                    })
                    .collect::<Result<Vec<_>, DecodeError>>()?;
                Ok(Verdict::Complaint { accusations })
            }
            tag => Err(DecodeError::UnknownTag { what: "verdict", tag }),
        }
    }
}
