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
    pub fn file(&mut self, from: PartyIndex, bytes: &[u8], current: &RoundInfo) {
        let round = current.id;
        if from == self.me || !self.parties.contains(from) {
            return self.blame(Culprit::new(from, round, Fault::UnknownSender));
        }
        let Ok(env) = Envelope::from_bytes(bytes) else {
            return self.blame(Culprit::new(from, round, Fault::Malformed));
        };
        let Some(key) = self.peers.get(&from) else {
            return self.blame(Culprit::new(from, round, Fault::UnknownSender));
        };
        let statement = env.statement(from);
        if !statement.verify(key) {
            return self.blame(Culprit::new(from, env.round, Fault::BadSignature));
        }
        let at = env.round;
        if env.protocol != self.protocol {
            return self.blame(Culprit::with_message(from, at, Fault::WrongProtocol, statement));
        }
        if env.session != self.session {
            return self.blame(Culprit::with_message(from, at, Fault::WrongSession, statement));
        }
        if env.kind == MessageKind::Direct && env.recipient != Some(self.me) {
            return self.blame(Culprit::with_message(from, at, Fault::Misaddressed, statement));
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
            return self.blame(c);
        }
        if at < round || (at == round && !current.expects(env.kind)) {
            return self.blame(Culprit::with_message(from, at, Fault::UnexpectedMessage, statement));
        }
        if at.0 > round.0.saturating_add(MAX_ROUNDS_AHEAD) {
            return self.blame(Culprit::with_message(from, at, Fault::Flooding, statement));
        }
        self.slots.insert(key, Slot { statement, payload: Some(env.payload) });
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
                MessageKind::Echo => {}
            }
        }
        input
    }
}
