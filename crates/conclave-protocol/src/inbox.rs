//! The inbox: authenticates every incoming message, files it by (round, kind, sender), and
//! turns every rejection into a [`Culprit`].
//!
//! Rejected: senders outside the session (or ourselves), bytes that are not an envelope, bad
//! signatures, other protocols, other sessions (replays), direct messages for someone else,
//! messages for rounds already over or for kinds the current round does not have, messages too
//! far ahead, and a second message for the same slot (a different broadcast is equivocation,
//! with both signed statements as evidence).

use std::collections::BTreeMap;

use conclave_math::codec::Decode;

use crate::envelope::{Envelope, MessageKind, SignedStatement};
use crate::fault::{push_culprit, Culprit, Evidence, Fault};
use crate::identity::IdentityPublicKey;
use crate::ids::{PartyIndex, PartySet, RoundId, SessionId};
use crate::machine::{Received, RoundInfo, RoundInput};

/// How many rounds ahead of the current one messages are buffered.
pub const MAX_ROUNDS_AHEAD: u16 = 2;

type SlotKey = (RoundId, MessageKind, PartyIndex);

#[derive(Debug)]
struct Slot {
    statement: SignedStatement,
    /// Taken when the round is handed to the protocol; the statement stays for duplicate checks.
    payload: Option<Vec<u8>>,
}

/// An authentic notice from `reporter` that it aborted the session, naming `reported`.
///
/// The receiver cannot re-check the reporter's findings (they concern messages only the
/// reporter saw), so it does not adopt them as its own culprits: it stops, and reports who said
/// what ([`crate::ProtocolError::AbortedByPeer`]) instead of later blaming the reporter as silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbortNotice {
    /// Who aborted.
    pub reporter: PartyIndex,
    /// The round it was in.
    pub round: RoundId,
    /// The culprits it named, with their evidence.
    pub reported: Vec<Culprit>,
    /// The reporter's signed statement about the notice.
    pub statement: SignedStatement,
}

impl AbortNotice {
    /// The payload of an abort notice: the reporter's culprits.
    pub fn encode_payload(culprits: &[Culprit]) -> Vec<u8> {
        let mut w = conclave_math::codec::Writer::new();
        w.len(culprits.len());
        for c in culprits {
            w.put(c);
        }
        w.into_bytes()
    }

    fn decode_payload(_from: PartyIndex, payload: &[u8]) -> Result<Vec<Culprit>, conclave_math::DecodeError> {
        let mut r = conclave_math::codec::Reader::new(payload);
        let n = r.len("culprits", conclave_math::codec::MAX_SEQUENCE, 6)?;
        let v = (0..n).map(|_| r.get::<Culprit>()).collect::<Result<Vec<_>, _>>()?;
        r.finish()?;
        Ok(v)
    }
}

/// Messages received in one session, by (round, kind, sender), and the faults seen so far.
#[derive(Debug)]
pub struct Inbox {
    protocol: &'static str,
    me: PartyIndex,
    parties: PartySet,
    session: SessionId,
    peers: BTreeMap<PartyIndex, IdentityPublicKey>,
    slots: BTreeMap<SlotKey, Slot>,
    culprits: Vec<Culprit>,
    late_fault: bool,
}

impl Inbox {
    /// An empty inbox for `protocol` in `session`.
    pub fn new(
        protocol: &'static str,
        me: PartyIndex,
        parties: PartySet,
        session: SessionId,
        peers: BTreeMap<PartyIndex, IdentityPublicKey>,
    ) -> Self {
        Self { protocol, me, parties, session, peers, slots: BTreeMap::new(), culprits: Vec::new(), late_fault: false }
    }

    /// Our index.
    pub fn me(&self) -> PartyIndex {
        self.me
    }

    /// The session's parties.
    pub fn parties(&self) -> &PartySet {
        &self.parties
    }

    /// The parties other than us.
    pub fn others(&self) -> Vec<PartyIndex> {
        self.parties.others(self.me).collect()
    }

    /// The identity public key of `p`.
    pub fn peer_key(&self, p: PartyIndex) -> Option<&IdentityPublicKey> {
        self.peers.get(&p)
    }

    /// Records a fault (once per party and fault kind).
    pub fn blame(&mut self, c: Culprit) {
        push_culprit(&mut self.culprits, c);
    }

    /// Whether any fault was recorded.
    pub fn has_culprits(&self) -> bool {
        !self.culprits.is_empty()
    }

    /// Whether a recorded fault concerns a round that is already over.
    pub fn has_late_fault(&self) -> bool {
        self.late_fault && self.has_culprits()
    }

    /// Takes every recorded fault.
    pub fn take_culprits(&mut self) -> Vec<Culprit> {
        core::mem::take(&mut self.culprits)
    }

    /// Authenticates and files `bytes` from the authenticated peer `from` while `current` runs.
    /// An authentic abort notice of this session is returned instead of filed.
    pub fn file(&mut self, from: PartyIndex, bytes: &[u8], current: &RoundInfo) -> Option<AbortNotice> {
        self.file_inner(from, bytes, current)
    }

    fn file_inner(&mut self, from: PartyIndex, bytes: &[u8], current: &RoundInfo) -> Option<AbortNotice> {
        let round = current.id;
        if from == self.me || !self.parties.contains(from) {
            self.blame(Culprit::new(from, round, Fault::UnknownSender));
            return None;
        }
        let Ok(env) = Envelope::from_bytes(bytes) else {
            self.blame(Culprit::new(from, round, Fault::Malformed));
            return None;
        };
        let Some(key) = self.peers.get(&from) else {
            self.blame(Culprit::new(from, round, Fault::UnknownSender));
            return None;
        };
        let statement = env.statement(from);
        if !statement.verify(key) {
            self.blame(Culprit::new(from, env.round, Fault::BadSignature));
            return None;
        }
        let at = env.round;
        if env.protocol != self.protocol {
            self.blame(Culprit::with_message(from, at, Fault::WrongProtocol, statement));
            return None;
        }
        if env.session != self.session {
            self.blame(Culprit::with_message(from, at, Fault::WrongSession, statement));
            return None;
        }
        if env.kind == MessageKind::Abort {
            return match AbortNotice::decode_payload(from, &env.payload) {
                Ok(reported) => Some(AbortNotice { reporter: from, round: at, reported, statement }),
                Err(_) => {
                    self.blame(Culprit::with_message(from, at, Fault::Malformed, statement));
                    None
                }
            };
        }
        if env.kind == MessageKind::Direct && env.recipient != Some(self.me) {
            self.blame(Culprit::with_message(from, at, Fault::Misaddressed, statement));
            return None;
        }
        if at < round {
            self.late_fault = true;
        }
        let key = (env.round, env.kind, from);
        if let Some(existing) = self.slots.get(&key) {
            let c = if existing.statement.digest != statement.digest && env.kind != MessageKind::Direct {
                Culprit {
                    party: from,
                    round: at,
                    fault: Fault::Equivocation,
                    evidence: Evidence::Equivocation {
                        first: Box::new(existing.statement.clone()),
                        second: Box::new(statement),
                    },
                }
            } else {
                Culprit::with_message(from, at, Fault::Duplicate, statement)
            };
            self.blame(c);
            return None;
        }
        if at < round || (at == round && !current.expects(env.kind)) {
            self.blame(Culprit::with_message(from, at, Fault::UnexpectedMessage, statement));
            return None;
        }
        if at.0 > round.0.saturating_add(MAX_ROUNDS_AHEAD) {
            self.blame(Culprit::with_message(from, at, Fault::Flooding, statement));
            return None;
        }
        self.slots.insert(key, Slot { statement, payload: Some(env.payload) });
        None
    }

    /// Whether the message of `kind` from `from` in `round` is here.
    pub fn has(&self, round: RoundId, kind: MessageKind, from: PartyIndex) -> bool {
        self.slots.contains_key(&(round, kind, from))
    }

    /// The signed statement of a filed message.
    pub fn statement(&self, round: RoundId, kind: MessageKind, from: PartyIndex) -> Option<&SignedStatement> {
        self.slots.get(&(round, kind, from)).map(|s| &s.statement)
    }

    /// The payload of a filed message not yet handed over.
    pub fn payload(&self, round: RoundId, kind: MessageKind, from: PartyIndex) -> Option<&[u8]> {
        self.slots.get(&(round, kind, from)).and_then(|s| s.payload.as_deref())
    }

    /// Blames every sender of a message filed for `current` whose kind it does not have
    /// (buffered before the round's shape was known).
    pub fn blame_unexpected(&mut self, current: &RoundInfo) {
        let unexpected: Vec<(PartyIndex, SignedStatement)> = self
            .slots
            .iter()
            .filter(|((r, kind, _), _)| *r == current.id && !current.expects(*kind))
            .map(|((_, _, from), slot)| (*from, slot.statement.clone()))
            .collect();
        for (from, st) in unexpected {
            self.blame(Culprit::with_message(from, current.id, Fault::UnexpectedMessage, st));
        }
    }

    /// Hands the broadcasts and direct messages of `round` to the protocol.
    pub fn take_round(&mut self, round: RoundId) -> RoundInput {
        let mut input = RoundInput::default();
        for ((r, kind, from), slot) in self.slots.iter_mut() {
            if *r != round {
                continue;
            }
            let Some(payload) = slot.payload.take() else { continue };
            let received = Received { payload, statement: slot.statement.clone() };
            match kind {
                MessageKind::Broadcast => {
                    input.broadcasts.insert(*from, received);
                }
                MessageKind::Direct => {
                    input.directs.insert(*from, received);
                }
                MessageKind::Echo | MessageKind::Abort => {}
            }
        }
        input
    }
}
