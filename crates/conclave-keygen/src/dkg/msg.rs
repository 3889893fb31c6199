//! Wire messages of the DKG. Every decoder validates points and scalars canonically and never
//! panics; the coefficient count of a reveal is checked by the round (so that a wrong count is
//! reported as threshold raising, not as garbage).

use conclave_math::codec::{Decode, Encode, Reader, Writer, MAX_BYTES, MAX_SEQUENCE};
use conclave_math::{Curve, DecodeError, SecretScalar};
use conclave_protocol::PartyIndex;
use conclave_zk::sch::SchProof;

/// Round 1 broadcast (reliable): the commitment `V_i` to the reveal of round 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// `V_i = H(context, i, t, A_i, rid_i, u_i)`.
    pub hash: [u8; 32],
}

impl Encode for Commit {
    fn encode(&self, w: &mut Writer) {
        w.fixed(&self.hash);
    }
}

impl Decode for Commit {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { hash: r.array()? })
    }
}

/// Round 2 broadcast (bound to the echoed commitment): the opened contribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reveal<C: Curve> {
    /// Feldman commitments `A_i = (a_{i,0}·G, …, a_{i,t-1}·G)`.
    pub coefficients: Vec<C::Point>,
    /// The party's contribution to the joint randomness (chain code).
    pub rid: [u8; 32],
    /// The decommitment nonce `u_i`.
    pub decommitment: [u8; 32],
    /// Π^sch proof of knowledge of `a_{i,0}`.
    pub proof: SchProof<C>,
}

impl<C: Curve> Encode for Reveal<C> {
    fn encode(&self, w: &mut Writer) {
        w.points::<C>(&self.coefficients).fixed(&self.rid).fixed(&self.decommitment).put(&self.proof);
    }
}

impl<C: Curve> Decode for Reveal<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { coefficients: r.points::<C>()?, rid: r.array()?, decommitment: r.array()?, proof: r.get()? })
    }
}

/// Round 2 direct message: the Shamir share `f_i(x_j)` for the recipient `j`.
#[derive(Debug)]
pub struct Share<C: Curve> {
    /// The share (secret; zeroized on drop).
    pub share: SecretScalar<C>,
}

impl<C: Curve> Encode for Share<C> {
    fn encode(&self, w: &mut Writer) {
        w.scalar::<C>(self.share.expose_secret());
    }
}

impl<C: Curve> Decode for Share<C> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { share: SecretScalar::new(r.scalar::<C>()?) })
    }
}

/// Which round-2 message an accusation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accused {
    /// The accused party's reveal broadcast.
    Reveal,
    /// The accused party's direct share to the accuser.
    Share,
}

/// One accusation: the accused party's signed round-2 message, which anyone can check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accusation {
    /// The accused party.
    pub accused: PartyIndex,
    /// Which message.
    pub message: Accused,
    /// The message payload as received. For a share this reveals one evaluation of the
    /// accused party's polynomial; the session is aborted, so it protects nothing any more.
    pub payload: Vec<u8>,
    /// The accused party's envelope signature over it.
    pub signature: [u8; 64],
}

/// Round 3 broadcast (reliable): confirm the run, or accuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Everything checked out; `hash` is the digest of every commitment of round 1.
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
                    w.u16(a.accused.0)
                        .u8(match a.message {
                            Accused::Reveal => 1,
                            Accused::Share => 2,
                        })
                        .bytes(&a.payload)
                        .fixed(&a.signature);
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
                let n = r.len("accusations", MAX_SEQUENCE, 71)?;
                if n == 0 {
                    return Err(DecodeError::Invalid { what: "complaint", reason: "no accusation" });
                }
                let accusations = (0..n)
                    .map(|_| {
                        let accused = PartyIndex(r.u16()?);
                        let message = match r.u8()? {
                            1 => Accused::Reveal,
                            2 => Accused::Share,
                            tag => return Err(DecodeError::UnknownTag { what: "accused message", tag }),
                        };
                        Ok(Accusation {
                            accused,
                            message,
                            payload: r.bytes("payload", MAX_BYTES)?.to_vec(),
                            signature: r.array()?,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Verdict::Complaint { accusations })
            }
            tag => Err(DecodeError::UnknownTag { what: "verdict", tag }),
        }
    }
}
