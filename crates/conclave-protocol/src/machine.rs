//! The one driver: a [`Protocol`] of pure rounds, run by the generic [`Machine`] behind the
//! [`StateMachine`] trait.
//!
//! A protocol only says, per round, what it expects ([`RoundInfo`]) and how to go from the
//! messages of a round to the next state ([`Protocol::proceed`]). The machine does everything
//! else, identically for every protocol:
//!
//! * it signs what the protocol sends and checks the signature of what it receives;
//! * its inbox rejects unknown senders, other protocols and sessions, misaddressed, unexpected
//!   and duplicate messages, and buffers a bounded number of messages for rounds to come;
//!   each rejection is a [`Culprit`];
//! * for rounds the protocol marks [`Delivery::Reliable`] it runs an **echo round**: every
//!   party sends everyone the digests and signatures of all broadcasts it received, and a
//!   mismatch yields third-party-verifiable equivocation evidence (SECURITY.md item 10);
//! * at the end of a round it either aborts with every culprit found in that round, or calls
//!   the protocol's pure round function;
//! * [`StateMachine::timeout`] turns every party still awaited into a [`Fault::Silent`] culprit.

use std::collections::BTreeMap;

use conclave_math::codec::{Decode, Encode, Reader, Writer, MAX_SEQUENCE};
use conclave_math::DecodeError;
use rand_core::CryptoRngCore;

use crate::envelope::{Envelope, MessageKind, SignedStatement};
use crate::fault::{push_culprit, Culprit, Evidence, Fault, ProtocolError};
use crate::identity::{IdentityKey, IdentityPublicKey};
use crate::ids::{PartyIndex, PartySet, RoundId, SessionId};

/// How many rounds ahead of the current one messages are buffered.
pub const MAX_ROUNDS_AHEAD: u16 = 2;

/// How a round's broadcast must be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Point-to-point copies; a sender may show different parties different values. Use only
    /// where a later check binds the value (e.g. a reveal checked against an echoed commitment).
    Plain,
    /// Reliable broadcast: the machine adds an echo round and aborts on any disagreement.
    Reliable,
}

/// What a round expects from every other party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundInfo {
    /// The round number (rounds of a protocol are 1, 2, 3, …).
    pub id: RoundId,
    /// Whether each party broadcasts, and how.
    pub broadcast: Option<Delivery>,
    /// Whether each party sends each other party a direct message.
    pub direct: bool,
}

impl RoundInfo {
    /// Whether the round has messages of `kind`.
    pub fn expects(&self, kind: MessageKind) -> bool {
        match kind {
            MessageKind::Broadcast => self.broadcast.is_some(),
            MessageKind::Direct => self.direct,
            MessageKind::Echo => self.broadcast == Some(Delivery::Reliable),
        }
    }
}

/// A message received and authenticated by the machine.
#[derive(Debug, Clone)]
pub struct Received {
    /// The protocol payload.
    pub payload: Vec<u8>,
    /// The sender's signed statement about it (evidence if the payload turns out bad).
    pub statement: SignedStatement,
}

/// All messages of one round, by sender (excluding our own).
#[derive(Debug, Default)]
pub struct RoundInput {
    /// Broadcasts (after the echo check for reliable rounds).
    pub broadcasts: BTreeMap<PartyIndex, Received>,
    /// Direct messages addressed to us.
    pub directs: BTreeMap<PartyIndex, Received>,
}

/// What a round sends.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Our broadcast payload, if the round has one.
    pub broadcast: Option<Vec<u8>>,
    /// One direct payload per other party, if the round has direct messages.
    pub direct: Vec<(PartyIndex, Vec<u8>)>,
}

/// The result of a round function.
#[derive(Debug)]
pub enum Step<P: Protocol> {
    /// The next state and the messages it sends.
    Next(P, Outbox),
    /// The protocol's output.
    Done(P::Output),
}

/// A protocol as pure rounds. Implementations do no I/O and keep no clock.
pub trait Protocol: Sized {
    /// What the protocol produces.
    type Output;
    /// Name and version, e.g. `conclave/dkg/v1`, bound into every envelope signature.
    const NAME: &'static str;
    /// What the current round expects.
    fn round(&self) -> RoundInfo;
    /// Consumes the current state and the round's messages.
    fn proceed(self, rng: &mut dyn CryptoRngCore, input: RoundInput) -> Result<Step<Self>, ProtocolError>;
}

/// A message to put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// `None`: every other party in the session; `Some(p)`: only `p`.
    pub to: Option<PartyIndex>,
    /// The encoded, signed [`Envelope`].
    pub bytes: Vec<u8>,
}

/// The interface every driver (simulator, tests, benchmarks, node) uses.
pub trait StateMachine {
    /// What a successful run produces.
    type Output;
    /// Our party index.
    fn me(&self) -> PartyIndex;
    /// The session this machine runs.
    fn session(&self) -> SessionId;
    /// The round currently running.
    fn current_round(&self) -> RoundId;
    /// Feeds `bytes` received from the authenticated peer `from`. Never panics; faults are
    /// recorded and reported when the round ends.
    fn handle(&mut self, rng: &mut dyn CryptoRngCore, from: PartyIndex, bytes: &[u8]);
    /// Messages to send, in order.
    fn take_outgoing(&mut self) -> Vec<Outgoing>;
    /// The parties whose messages the current round still waits for.
    fn awaiting(&self) -> Vec<PartyIndex>;
    /// Whether an output or error is ready (or was taken).
    fn is_finished(&self) -> bool;
    /// The result, once (later calls return `None`).
    fn take_output(&mut self) -> Option<Result<Self::Output, ProtocolError>>;
    /// The round deadline passed: every party still awaited becomes [`Fault::Silent`].
    fn timeout(&mut self);
}

/// Who we are in a session and whom we talk to.
#[derive(Debug)]
pub struct MachineConfig {
    /// Our index.
    pub me: PartyIndex,
    /// Everyone in the session, us included.
    pub parties: PartySet,
    /// The agreed session id.
    pub session: SessionId,
    /// Our long-term identity key.
    pub identity: IdentityKey,
    /// Every party's identity public key.
    pub peers: BTreeMap<PartyIndex, IdentityPublicKey>,
}

/// Why a machine could not be set up (the caller's mistake).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// We are not in the party set.
    #[error("{0} is not in the session's party set")]
    NotAMember(PartyIndex),
    /// A party has no identity key.
    #[error("no identity public key for {0}")]
    MissingPeerKey(PartyIndex),
    /// Our identity key does not match the one listed for us.
    #[error("our identity key differs from the one configured for {0}")]
    WrongOwnKey(PartyIndex),
}

impl MachineConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.parties.contains(self.me) {
            return Err(ConfigError::NotAMember(self.me));
        }
        for p in self.parties.iter() {
            if !self.peers.contains_key(&p) {
                return Err(ConfigError::MissingPeerKey(p));
            }
        }
        if self.peers.get(&self.me) != Some(&self.identity.public()) {
            return Err(ConfigError::WrongOwnKey(self.me));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Collect,
    Echo,
}

type SlotKey = (RoundId, MessageKind, PartyIndex);

#[derive(Debug)]
struct Slot {
    statement: SignedStatement,
    payload: Option<Vec<u8>>,
}

/// The generic driver of a [`Protocol`].
#[derive(Debug)]
pub struct Machine<P: Protocol> {
    cfg: MachineConfig,
    state: Option<P>,
    info: RoundInfo,
    phase: Phase,
    my_broadcast: Option<SignedStatement>,
    slots: BTreeMap<SlotKey, Slot>,
    culprits: Vec<Culprit>,
    outgoing: Vec<Outgoing>,
    output: Option<Result<P::Output, ProtocolError>>,
    finished: bool,
    /// A fault about a round already completed was found: abort now, since that round
    /// will never complete again to report it.
    late_fault: bool,
}

impl<P: Protocol> Machine<P> {
    /// Starts a machine in `state`, sending `outbox` as its first round's messages.
    pub fn start(
        cfg: MachineConfig,
        rng: &mut dyn CryptoRngCore,
        state: P,
        outbox: Outbox,
    ) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let info = state.round();
        let mut m = Self {
            cfg,
            state: Some(state),
            info,
            phase: Phase::Collect,
            my_broadcast: None,
            slots: BTreeMap::new(),
            culprits: Vec::new(),
            outgoing: Vec::new(),
            output: None,
            finished: false,
            late_fault: false,
        };
        if let Err(e) = m.send_round(outbox) {
            m.finish(Err(e));
        }
        m.advance(rng);
        Ok(m)
    }

    fn finish(&mut self, result: Result<P::Output, ProtocolError>) {
        self.state = None;
        self.output = Some(result);
        self.finished = true;
    }

    fn others(&self) -> Vec<PartyIndex> {
        self.cfg.parties.others(self.cfg.me).collect()
    }

    fn envelope(&self, kind: MessageKind, recipient: Option<PartyIndex>, payload: Vec<u8>) -> Envelope {
        Envelope::sign(
            &self.cfg.identity,
            self.cfg.me,
            P::NAME,
            self.cfg.session,
            self.info.id,
            kind,
            recipient,
            payload,
        )
    }

    /// Signs and queues the current round's outbox, checking it fits the round.
    fn send_round(&mut self, outbox: Outbox) -> Result<(), ProtocolError> {
        let others = self.others();
        if outbox.broadcast.is_some() != self.info.broadcast.is_some() {
            return Err(ProtocolError::Bug("round outbox broadcast does not match the round"));
        }
        let recipients: Vec<PartyIndex> = outbox.direct.iter().map(|(p, _)| *p).collect();
        if self.info.direct && recipients != others || !self.info.direct && !recipients.is_empty() {
            return Err(ProtocolError::Bug("round outbox direct messages do not match the round"));
        }
        self.my_broadcast = None;
        if let Some(payload) = outbox.broadcast {
            let env = self.envelope(MessageKind::Broadcast, None, payload);
            self.my_broadcast = Some(env.statement(self.cfg.me));
            if !others.is_empty() {
                self.outgoing.push(Outgoing { to: None, bytes: env.to_bytes() });
            }
        }
        for (to, payload) in outbox.direct {
            let env = self.envelope(MessageKind::Direct, Some(to), payload);
            self.outgoing.push(Outgoing { to: Some(to), bytes: env.to_bytes() });
        }
        Ok(())
    }

    fn blame(&mut self, c: Culprit) {
        push_culprit(&mut self.culprits, c);
    }

    /// The inbox: authenticates and files one message, or blames its sender.
    fn file(&mut self, from: PartyIndex, bytes: &[u8]) {
        let round = self.info.id;
        if from == self.cfg.me || !self.cfg.parties.contains(from) {
            return self.blame(Culprit::new(from, round, Fault::UnknownSender));
        }
        let Ok(env) = Envelope::from_bytes(bytes) else {
            return self.blame(Culprit::new(from, round, Fault::Malformed));
        };
        let Some(key) = self.cfg.peers.get(&from) else {
            return self.blame(Culprit::new(from, round, Fault::UnknownSender));
        };
        let statement = env.statement(from);
        if !statement.verify(key) {
            return self.blame(Culprit::new(from, env.round, Fault::BadSignature));
        }
        let at = env.round;
        if env.protocol != P::NAME {
            return self.blame(Culprit::with_message(from, at, Fault::WrongProtocol, statement));
        }
        if env.session != self.cfg.session {
            return self.blame(Culprit::with_message(from, at, Fault::WrongSession, statement));
        }
        if env.kind == MessageKind::Direct && env.recipient != Some(self.cfg.me) {
            return self.blame(Culprit::with_message(from, at, Fault::Misaddressed, statement));
        }
        let key = (env.round, env.kind, from);
        if at < round {
            self.late_fault = true;
        }
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
        if at < round {
            return self.blame(Culprit::with_message(from, at, Fault::UnexpectedMessage, statement));
        }
        if at == round && !self.info.expects(env.kind) {
            return self.blame(Culprit::with_message(from, at, Fault::UnexpectedMessage, statement));
        }
        if at.0 > round.0.saturating_add(MAX_ROUNDS_AHEAD) {
            return self.blame(Culprit::with_message(from, at, Fault::Flooding, statement));
        }
        self.slots.insert(key, Slot { statement, payload: Some(env.payload) });
    }

    fn has(&self, kind: MessageKind, from: PartyIndex) -> bool {
        self.slots.contains_key(&(self.info.id, kind, from))
    }

    fn missing(&self) -> Vec<PartyIndex> {
        if self.finished {
            return Vec::new();
        }
        self.others()
            .into_iter()
            .filter(|p| match self.phase {
                Phase::Collect => {
                    (self.info.broadcast.is_some() && !self.has(MessageKind::Broadcast, *p))
                        || (self.info.direct && !self.has(MessageKind::Direct, *p))
                }
                Phase::Echo => !self.has(MessageKind::Echo, *p),
            })
            .collect()
    }

    /// Runs rounds as far as the messages at hand allow.
    fn advance(&mut self, rng: &mut dyn CryptoRngCore) {
        while !self.finished && self.missing().is_empty() {
            match (self.phase, self.info.broadcast) {
                (Phase::Collect, Some(Delivery::Reliable)) => self.send_echo(),
                (Phase::Echo, _) => {
                    self.check_echoes();
                    self.complete_round(rng);
                }
                (Phase::Collect, _) => self.complete_round(rng),
            }
        }
    }

    fn send_echo(&mut self) {
        let mut entries = Vec::new();
        for p in self.cfg.parties.iter() {
            let st = if p == self.cfg.me {
                self.my_broadcast.as_ref()
            } else {
                self.slots.get(&(self.info.id, MessageKind::Broadcast, p)).map(|s| &s.statement)
            };
            if let Some(st) = st {
                entries.push(EchoEntry { party: p, digest: st.digest, signature: st.signature });
            }
        }
        if !self.others().is_empty() {
            let payload = EchoPayload { entries }.to_bytes();
            let env = self.envelope(MessageKind::Echo, None, payload);
            self.outgoing.push(Outgoing { to: None, bytes: env.to_bytes() });
        }
        self.phase = Phase::Echo;
    }

    /// Compares every echo with our own view of the round's broadcasts.
    fn check_echoes(&mut self) {
        let round = self.info.id;
        for k in self.others() {
            let Some(slot) = self.slots.get(&(round, MessageKind::Echo, k)) else { continue };
            let echo_statement = slot.statement.clone();
            let parsed = slot
                .payload
                .as_deref()
                .map(EchoPayload::from_bytes)
                .unwrap_or(Err(DecodeError::Truncated { needed: 0 }));
            let entries = match parsed {
                Ok(e) if e.entries.iter().map(|x| x.party).eq(self.cfg.parties.iter()) => e.entries,
                _ => {
                    self.blame(Culprit::with_message(k, round, Fault::Malformed, echo_statement));
                    continue;
                }
            };
            for entry in entries {
                let ours = if entry.party == self.cfg.me {
                    self.my_broadcast.clone()
                } else {
                    self.slots.get(&(round, MessageKind::Broadcast, entry.party)).map(|s| s.statement.clone())
                };
                let Some(ours) = ours else { continue };
                if ours.digest == entry.digest && ours.signature == entry.signature {
                    continue;
                }
                let theirs = SignedStatement { digest: entry.digest, signature: entry.signature, ..ours.clone() };
                let signer_key = self.cfg.peers.get(&entry.party);
                let authentic = signer_key.is_some_and(|key| theirs.verify(key));
                if authentic && (ours.digest == entry.digest || entry.party == self.cfg.me) {
                    // Another valid signature over the same content: no disagreement. Or a
                    // statement signed with our own key that we did not make: k relayed it
                    // faithfully, and our key is not k's fault (it shows our key is in other
                    // hands, which only a party that is itself malicious would see).
                    continue;
                }
                if authentic {
                    self.blame(Culprit {
                        party: entry.party,
                        round,
                        fault: Fault::Equivocation,
                        evidence: Evidence::Equivocation { first: Box::new(ours), second: Box::new(theirs) },
                    });
                } else {
                    self.blame(Culprit::with_message(k, round, Fault::ForgedEcho, echo_statement.clone()));
                }
            }
        }
    }

    fn complete_round(&mut self, rng: &mut dyn CryptoRngCore) {
        let round = self.info.id;
        // Messages of a kind this round does not have (buffered before the round began).
        let unexpected: Vec<SlotKey> =
            self.slots.keys().filter(|(r, kind, _)| *r == round && !self.info.expects(*kind)).copied().collect();
        for key in unexpected {
            if let Some(slot) = self.slots.get(&key) {
                let c = Culprit::with_message(key.2, round, Fault::UnexpectedMessage, slot.statement.clone());
                self.blame(c);
            }
        }
        if !self.culprits.is_empty() {
            let culprits = core::mem::take(&mut self.culprits);
            return self.finish(Err(ProtocolError::aborted(culprits)));
        }
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
        let Some(state) = self.state.take() else {
            return self.finish(Err(ProtocolError::Bug("machine has no state")));
        };
        match state.proceed(rng, input) {
            Ok(Step::Next(next, outbox)) => {
                let info = next.round();
                if info.id.0 != round.0.wrapping_add(1) {
                    return self.finish(Err(ProtocolError::Bug("rounds must be numbered consecutively")));
                }
                self.info = info;
                self.phase = Phase::Collect;
                self.state = Some(next);
                if let Err(e) = self.send_round(outbox) {
                    self.finish(Err(e));
                }
            }
            Ok(Step::Done(out)) => self.finish(Ok(out)),
            Err(e) => self.finish(Err(e)),
        }
    }
}

impl<P: Protocol> StateMachine for Machine<P> {
    type Output = P::Output;

    fn me(&self) -> PartyIndex {
        self.cfg.me
    }

    fn session(&self) -> SessionId {
        self.cfg.session
    }

    fn current_round(&self) -> RoundId {
        self.info.id
    }

    fn handle(&mut self, rng: &mut dyn CryptoRngCore, from: PartyIndex, bytes: &[u8]) {
        if self.finished {
            return;
        }
        self.file(from, bytes);
        if self.late_fault && !self.culprits.is_empty() {
            let culprits = core::mem::take(&mut self.culprits);
            return self.finish(Err(ProtocolError::aborted(culprits)));
        }
        self.advance(rng);
    }

    fn take_outgoing(&mut self) -> Vec<Outgoing> {
        core::mem::take(&mut self.outgoing)
    }

    fn awaiting(&self) -> Vec<PartyIndex> {
        self.missing()
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    fn take_output(&mut self) -> Option<Result<Self::Output, ProtocolError>> {
        self.output.take()
    }

    fn timeout(&mut self) {
        if self.finished {
            return;
        }
        for p in self.missing() {
            self.blame(Culprit::new(p, self.info.id, Fault::Silent));
        }
        let culprits = core::mem::take(&mut self.culprits);
        self.finish(Err(ProtocolError::aborted(culprits)));
    }
}

/// One line of an echo: what we received from `party` in the reliable round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoEntry {
    /// The broadcaster.
    pub party: PartyIndex,
    /// SHA-256 of its payload.
    pub digest: [u8; 32],
    /// Its signature over the statement.
    pub signature: [u8; 64],
}

/// The payload of an echo message: one entry per party of the session, in ascending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoPayload {
    /// The entries.
    pub entries: Vec<EchoEntry>,
}

impl Encode for EchoPayload {
    fn encode(&self, w: &mut Writer) {
        w.len(self.entries.len());
        for e in &self.entries {
            w.u16(e.party.0).fixed(&e.digest).fixed(&e.signature);
        }
    }
}

impl Decode for EchoPayload {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.len("echo entries", MAX_SEQUENCE, 98)?;
        let entries = (0..n)
            .map(|_| Ok(EchoEntry { party: PartyIndex(r.u16()?), digest: r.array()?, signature: r.array()? }))
            .collect::<Result<Vec<_>, DecodeError>>()?;
        Ok(Self { entries })
    }
}
