//! Blame: who caused an abort, in which round, why, and the evidence.
//!
//! Every abort of every Conclave protocol is reported as a list of [`Culprit`]s. Evidence holds
//! signed statements (digests and signatures), never a secret.

use core::fmt;

use conclave_math::codec::{Decode, Encode, Reader, Writer};
use conclave_math::DecodeError;

use crate::envelope::SignedStatement;
use crate::identity::IdentityPublicKey;
use crate::ids::{PartyIndex, RoundId};

/// What a party did wrong. [`Fault::code`] is the stable machine-readable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// Sent nothing for a round before the deadline.
    Silent,
    /// Sent a message although not a member of the session.
    UnknownSender,
    /// Sent bytes that do not decode as an envelope or as the round's message.
    Malformed,
    /// Sent an envelope whose signature does not verify under its identity key.
    BadSignature,
    /// Sent an envelope of another protocol.
    WrongProtocol,
    /// Sent an envelope of another session (a replay).
    WrongSession,
    /// Sent a message the round does not expect (wrong kind, or a round already over).
    UnexpectedMessage,
    /// Sent a direct message addressed to another party.
    Misaddressed,
    /// Sent a second message for the same round and kind.
    Duplicate,
    /// Sent messages too far ahead of the current round.
    Flooding,
    /// Signed two different broadcasts for the same round.
    Equivocation,
    /// Echoed a broadcast with a signature that is not the original sender's.
    ForgedEcho,
    /// Revealed a value that does not match its earlier commitment.
    CommitmentMismatch,
    /// Sent a zero-knowledge proof that does not verify.
    InvalidProof,
    /// Sent a secret share inconsistent with its public commitment.
    InvalidShare,
    /// Sent a VSS commitment with the wrong number of coefficients (threshold raising).
    WrongThreshold,
    /// Sent a value that decodes but is not acceptable (e.g. an identity point).
    InvalidValue,
    /// Accused another party without valid evidence.
    FalseComplaint,
    /// Confirmed a different view of the protocol than everyone else.
    InconsistentConfirmation,
    /// Sent a partial signature that does not verify against its presignature commitments.
    InvalidPartialSignature,
}

impl Fault {
    /// The stable machine-readable name (kebab-case).
    pub fn code(self) -> &'static str {
        match self {
            Fault::Silent => "silent",
            Fault::UnknownSender => "unknown-sender",
            Fault::Malformed => "malformed",
            Fault::BadSignature => "bad-signature",
            Fault::WrongProtocol => "wrong-protocol",
            Fault::WrongSession => "wrong-session",
            Fault::UnexpectedMessage => "unexpected-message",
            Fault::Misaddressed => "misaddressed",
            Fault::Duplicate => "duplicate",
            Fault::Flooding => "flooding",
            Fault::Equivocation => "equivocation",
            Fault::ForgedEcho => "forged-echo",
            Fault::CommitmentMismatch => "commitment-mismatch",
            Fault::InvalidProof => "invalid-proof",
            Fault::InvalidShare => "invalid-share",
            Fault::WrongThreshold => "wrong-threshold",
            Fault::InvalidValue => "invalid-value",
            Fault::FalseComplaint => "false-complaint",
            Fault::InconsistentConfirmation => "inconsistent-confirmation",
            Fault::InvalidPartialSignature => "invalid-partial-signature",
        }
    }

    /// Every fault kind (for documentation and exhaustive tests).
    pub const ALL: [Fault; 20] = [
        Fault::Silent,
        Fault::UnknownSender,
        Fault::Malformed,
        Fault::BadSignature,
        Fault::WrongProtocol,
        Fault::WrongSession,
        Fault::UnexpectedMessage,
        Fault::Misaddressed,
        Fault::Duplicate,
        Fault::Flooding,
        Fault::Equivocation,
        Fault::ForgedEcho,
        Fault::CommitmentMismatch,
        Fault::InvalidProof,
        Fault::InvalidShare,
        Fault::WrongThreshold,
        Fault::InvalidValue,
        Fault::FalseComplaint,
        Fault::InconsistentConfirmation,
        Fault::InvalidPartialSignature,
    ];

    fn tag(self) -> u8 {
        Fault::ALL.iter().position(|f| *f == self).map_or(0, |p| (p + 1) as u8)
    }

    fn from_tag(tag: u8) -> Result<Self, DecodeError> {
        usize::from(tag)
            .checked_sub(1)
            .and_then(|i| Fault::ALL.get(i).copied())
            .ok_or(DecodeError::UnknownTag { what: "fault", tag })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What supports an accusation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Evidence {
    /// Nothing beyond the local observation (e.g. silence, an unsigned or undecodable message).
    None,
    /// The accused party's signed statement about the offending message. With the message
    /// payload (which the accuser holds), anyone can re-run the failed check.
    Message(Box<SignedStatement>),
    /// Two different statements the accused signed for the same slot. Checkable by anyone
    /// with the accused party's identity public key, with nothing else.
    Equivocation {
        /// One statement.
        first: Box<SignedStatement>,
        /// A conflicting statement.
        second: Box<SignedStatement>,
    },
}

impl Evidence {
    /// Checks equivocation evidence against the accused party's identity key: both
    /// statements signed by `party`, the same protocol, session, round, kind and recipient,
    /// and different digests. Other evidence kinds need the payload and return `false`.
    pub fn proves_equivocation(&self, party: PartyIndex, key: &IdentityPublicKey) -> bool {
        match self {
            Evidence::Equivocation { first, second } => {
                first.sender == party
                    && second.sender == party
                    && first.protocol == second.protocol
                    && first.session == second.session
                    && first.round == second.round
                    && first.kind == second.kind
                    && first.recipient == second.recipient
                    && first.digest != second.digest
                    && first.verify(key)
                    && second.verify(key)
            }
            _ => false,
        }
    }
}

impl Encode for Evidence {
    fn encode(&self, w: &mut Writer) {
        match self {
            Evidence::None => {
                w.u8(0);
            }
            Evidence::Message(s) => {
                w.u8(1).put(s.as_ref());
            }
            Evidence::Equivocation { first, second } => {
                w.u8(2).put(first.as_ref()).put(second.as_ref());
            }
        }
    }
}

impl Decode for Evidence {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Evidence::None),
            1 => Ok(Evidence::Message(Box::new(r.get()?))),
            2 => Ok(Evidence::Equivocation { first: Box::new(r.get()?), second: Box::new(r.get()?) }),
            tag => Err(DecodeError::UnknownTag { what: "evidence", tag }),
        }
    }
}

/// A party blamed for an abort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Culprit {
    /// Who.
    pub party: PartyIndex,
    /// In which round.
    pub round: RoundId,
    /// What it did.
    pub fault: Fault,
    /// What shows it.
    pub evidence: Evidence,
}

impl Culprit {
    /// A culprit with no evidence beyond local observation.
    pub fn new(party: PartyIndex, round: RoundId, fault: Fault) -> Self {
        Self { party, round, fault, evidence: Evidence::None }
    }

    /// A culprit whose offending message is attached as evidence.
    pub fn with_message(party: PartyIndex, round: RoundId, fault: Fault, statement: SignedStatement) -> Self {
        Self { party, round, fault, evidence: Evidence::Message(Box::new(statement)) }
    }
}

impl fmt::Display for Culprit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.party, self.round, self.fault)
    }
}

impl Encode for Culprit {
    fn encode(&self, w: &mut Writer) {
        w.u16(self.party.0).u16(self.round.0).u8(self.fault.tag()).put(&self.evidence);
    }
}

impl Decode for Culprit {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            party: PartyIndex(r.u16()?),
            round: RoundId(r.u16()?),
            fault: Fault::from_tag(r.u8()?)?,
            evidence: r.get()?,
        })
    }
}

/// Adds `c` unless the same party is already blamed for the same fault.
pub fn push_culprit(culprits: &mut Vec<Culprit>, c: Culprit) {
    if !culprits.iter().any(|x| x.party == c.party && x.fault == c.fault) {
        culprits.push(c);
    }
}

/// How a protocol run ended without output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// One or more peers misbehaved; the session is over and must not be retried with them
    /// without review (SECURITY.md item 20).
    #[error("aborted by {}", DisplayCulprits(.culprits))]
    Aborted {
        /// Everyone blamed, sorted by party.
        culprits: Vec<Culprit>,
    },
    /// A check over everyone's contributions failed, and the procedure that names the party
    /// responsible is not part of this build (see `docs/spec-deviations.md`). The session is
    /// over; no output was produced.
    #[error("aborted in {round}: the joint check {check} failed; the culprit cannot be named yet")]
    Unidentified {
        /// The round whose output check failed.
        round: RoundId,
        /// The check.
        check: &'static str,
    },
    /// Another party aborted first and told us, naming `reported` (which we could not
    /// re-check: they concern messages only it saw). Nobody is blamed by us.
    #[error("{reporter} aborted in {round}, reporting: {}", DisplayCulprits(.reported))]
    AbortedByPeer {
        /// Who aborted.
        reporter: PartyIndex,
        /// In which round.
        round: RoundId,
        /// Whom it blamed, with its evidence.
        reported: Vec<Culprit>,
    },
    /// A local invariant failed: a bug in Conclave, not a peer's fault.
    #[error("internal error: {0}")]
    Bug(&'static str),
}

impl ProtocolError {
    /// An abort blaming `culprits` (sorted and deduplicated).
    pub fn aborted(mut culprits: Vec<Culprit>) -> Self {
        culprits.sort_by_key(|c| (c.party, c.round, c.fault));
        culprits.dedup_by(|a, b| a.party == b.party && a.fault == b.fault);
        ProtocolError::Aborted { culprits }
    }

    /// Everyone blamed (empty for a bug).
    pub fn culprits(&self) -> &[Culprit] {
        match self {
            ProtocolError::Aborted { culprits } => culprits,
            ProtocolError::Unidentified { .. } | ProtocolError::AbortedByPeer { .. } | ProtocolError::Bug(_) => &[],
        }
    }

    /// The set of blamed parties.
    pub fn culprit_parties(&self) -> Vec<PartyIndex> {
        let mut v: Vec<_> = self.culprits().iter().map(|c| c.party).collect();
        v.sort();
        v.dedup();
        v
    }
}

struct DisplayCulprits<'a>(&'a [Culprit]);

impl fmt::Display for DisplayCulprits<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, c) in self.0.iter().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}
