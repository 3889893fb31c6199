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

use conclave_math::codec::Encode;
use rand_core::CryptoRngCore;

pub use crate::echo::{EchoEntry, EchoPayload};
use crate::envelope::{Envelope, MessageKind, SignedStatement};
use crate::fault::{Culprit, Fault, ProtocolError};
use crate::identity::{IdentityKey, IdentityPublicKey};
use crate::ids::{PartyIndex, PartySet, RoundId, SessionId};
use crate::inbox::Inbox;
pub use crate::inbox::MAX_ROUNDS_AHEAD;

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
            MessageKind::Abort => false,
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

/// The generic driver of a [`Protocol`].
#[derive(Debug)]
pub struct Machine<P: Protocol> {
    identity: IdentityKey,
    session: SessionId,
    inbox: Inbox,
    state: Option<P>,
    info: RoundInfo,
    phase: Phase,
    my_broadcast: Option<SignedStatement>,
    outgoing: Vec<Outgoing>,
    output: Option<Result<P::Output, ProtocolError>>,
    finished: bool,
    /// Abort notices received from other parties.
    notices: Vec<crate::inbox::AbortNotice>,
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
            identity: cfg.identity,
            session: cfg.session,
            inbox: Inbox::new(P::NAME, cfg.me, cfg.parties, cfg.session, cfg.peers),
            state: Some(state),
            info,
            phase: Phase::Collect,
            my_broadcast: None,
            outgoing: Vec::new(),
            output: None,
            finished: false,
            notices: Vec::new(),
        };
        if let Err(e) = m.send_round(outbox) {
            m.finish(Err(e));
        }
        m.advance(rng);
        Ok(m)
    }

    /// The protocol's current state (`None` once finished): lets a driver look at what a
    /// round holds before its messages leave (a reshare's confirmed hand-over, for example).
    pub fn state(&self) -> Option<&P> {
        self.state.as_ref()
    }

    fn finish(&mut self, result: Result<P::Output, ProtocolError>) {
        if let Some(e) = result.as_ref().err().filter(|e| !matches!(e, ProtocolError::AbortedByPeer { .. })) {
            // Tell every other party we stopped and why: faults seen only by us (in direct
            // messages, or late) would otherwise make them blame us as silent.
            let payload = crate::inbox::AbortNotice::encode_payload(e.culprits());
            if !self.inbox.others().is_empty() {
                let env = self.envelope(MessageKind::Abort, None, payload);
                self.outgoing.push(Outgoing { to: None, bytes: env.to_bytes() });
            }
        }
        self.state = None;
        self.output = Some(result);
        self.finished = true;
    }

    fn abort(&mut self) {
        let culprits = self.inbox.take_culprits();
        self.finish(Err(ProtocolError::aborted(culprits)));
    }

    fn envelope(&self, kind: MessageKind, recipient: Option<PartyIndex>, payload: Vec<u8>) -> Envelope {
        Envelope::sign(&self.identity, self.inbox.me(), P::NAME, self.session, self.info.id, kind, recipient, payload)
    }

    /// Signs and queues the current round's outbox, checking it fits the round.
    fn send_round(&mut self, outbox: Outbox) -> Result<(), ProtocolError> {
        let others = self.inbox.others();
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
            self.my_broadcast = Some(env.statement(self.inbox.me()));
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

    fn missing(&self) -> Vec<PartyIndex> {
        if self.finished {
            return Vec::new();
        }
        let round = self.info.id;
        self.inbox
            .others()
            .into_iter()
            .filter(|p| match self.phase {
                Phase::Collect => {
                    (self.info.broadcast.is_some() && !self.inbox.has(round, MessageKind::Broadcast, *p))
                        || (self.info.direct && !self.inbox.has(round, MessageKind::Direct, *p))
                }
                Phase::Echo => !self.inbox.has(round, MessageKind::Echo, *p),
            })
            .collect()
    }

    /// Runs rounds as far as the messages at hand allow. If we then wait for a party that has
    /// told us it aborted, we stop too and report what it said, rather than waiting for a
    /// message that will not come and blaming it as silent. (Our own findings, when a round
    /// completes first, take precedence.)
    fn advance(&mut self, rng: &mut dyn CryptoRngCore) {
        self.run_rounds(rng);
        if self.finished {
            return;
        }
        let missing = self.missing();
        if let Some(notice) = self.notices.iter().find(|n| missing.contains(&n.reporter)) {
            if self.inbox.has_culprits() {
                // Our own findings come first.
                return self.abort();
            }
            let e = ProtocolError::AbortedByPeer {
                reporter: notice.reporter,
                round: notice.round,
                reported: notice.reported.clone(),
            };
            self.finish(Err(e));
        }
    }

    fn run_rounds(&mut self, rng: &mut dyn CryptoRngCore) {
        while !self.finished && self.missing().is_empty() {
            match (self.phase, self.info.broadcast) {
                (Phase::Collect, Some(Delivery::Reliable)) => self.send_echo(),
                (Phase::Echo, _) => {
                    crate::echo::check(&mut self.inbox, self.info.id, self.my_broadcast.as_ref());
                    self.complete_round(rng);
                }
                (Phase::Collect, _) => self.complete_round(rng),
            }
        }
    }

    fn send_echo(&mut self) {
        if !self.inbox.others().is_empty() {
            let payload = crate::echo::build(&self.inbox, self.info.id, self.my_broadcast.as_ref()).to_bytes();
            let env = self.envelope(MessageKind::Echo, None, payload);
            self.outgoing.push(Outgoing { to: None, bytes: env.to_bytes() });
        }
        self.phase = Phase::Echo;
    }

    fn complete_round(&mut self, rng: &mut dyn CryptoRngCore) {
        let round = self.info.id;
        self.inbox.blame_unexpected(&self.info);
        if self.inbox.has_culprits() {
            return self.abort();
        }
        let input = self.inbox.take_round(round);
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
        self.inbox.me()
    }

    fn session(&self) -> SessionId {
        self.session
    }

    fn current_round(&self) -> RoundId {
        self.info.id
    }

    fn handle(&mut self, rng: &mut dyn CryptoRngCore, from: PartyIndex, bytes: &[u8]) {
        if self.finished {
            return;
        }
        if let Some(notice) = self.inbox.file(from, bytes, &self.info) {
            self.notices.push(notice);
        }
        if self.inbox.has_late_fault() {
            // That round will not complete again to report it.
            return self.abort();
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
            self.inbox.blame(Culprit::new(p, self.info.id, Fault::Silent));
        }
        self.abort();
    }
}
