//! The in-process simulator: runs every party of any [`StateMachine`] in one process with a
//! seeded RNG, delivers messages in a deterministic order, and lets tests play a malicious
//! party through [`Interceptor`]s (tamper, silence, duplicate, replay, equivocate).
//!
//! When no message is left in flight, every party that has not finished is told its deadline
//! passed ([`StateMachine::timeout`]), as the node's clock would.

use std::collections::{BTreeMap, VecDeque};

use conclave_math::codec::{Decode, Encode};
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRngCore, RngCore, SeedableRng};

use crate::envelope::{Envelope, MessageKind};
use crate::fault::ProtocolError;
use crate::identity::{IdentityKey, IdentityPublicKey};
use crate::ids::{PartyIndex, PartySet, RoundId, SessionId};
use crate::machine::{EchoPayload, MachineConfig, StateMachine};

/// The parties of a simulated session and their identity keys.
#[derive(Debug, Clone)]
pub struct Network {
    /// The session id.
    pub session: SessionId,
    /// Everyone taking part.
    pub parties: PartySet,
    seeds: BTreeMap<PartyIndex, [u8; 32]>,
    /// Every party's identity public key.
    pub public_keys: BTreeMap<PartyIndex, IdentityPublicKey>,
}

impl Network {
    /// Fresh identities and a fresh session id for `parties`.
    pub fn new(rng: &mut dyn CryptoRngCore, parties: PartySet) -> Self {
        let session = SessionId::random(rng);
        Self::with_session(rng, parties, session)
    }

    /// Fresh identities for `parties` in the given session.
    pub fn with_session(rng: &mut dyn CryptoRngCore, parties: PartySet, session: SessionId) -> Self {
        let mut seeds = BTreeMap::new();
        let mut public_keys = BTreeMap::new();
        for p in parties.iter() {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            public_keys.insert(p, IdentityKey::from_seed(&seed).public());
            seeds.insert(p, seed);
        }
        Self { session, parties, seeds, public_keys }
    }

    /// The same identities in another session (for replay tests).
    pub fn in_session(&self, session: SessionId) -> Self {
        Self { session, ..self.clone() }
    }

    /// The identity key of `p` (the simulator plays every party, malicious ones included).
    pub fn identity_key(&self, p: PartyIndex) -> Option<IdentityKey> {
        self.seeds.get(&p).map(IdentityKey::from_seed)
    }

    /// The machine configuration of party `me`.
    pub fn config(&self, me: PartyIndex) -> Option<MachineConfig> {
        Some(MachineConfig {
            me,
            parties: self.parties.clone(),
            session: self.session,
            identity: self.identity_key(me)?,
            peers: self.public_keys.clone(),
        })
    }
}

/// A message between two parties, as the network carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    /// Sender.
    pub from: PartyIndex,
    /// Recipient.
    pub to: PartyIndex,
    /// The encoded envelope.
    pub bytes: Vec<u8>,
}

impl InFlight {
    /// The decoded envelope, if it decodes.
    pub fn envelope(&self) -> Option<Envelope> {
        Envelope::from_bytes(&self.bytes).ok()
    }

    /// Whether this is the sender's message of `kind` in `round`.
    pub fn is(&self, from: PartyIndex, round: u16, kind: MessageKind) -> bool {
        self.from == from && self.envelope().is_some_and(|e| e.round == RoundId(round) && e.kind == kind)
    }
}

/// A network adversary: sees every message before delivery and decides what is delivered.
pub trait Interceptor {
    /// Returns the messages to deliver in place of `msg` (none to drop it).
    fn intercept(&mut self, net: &Network, msg: InFlight) -> Vec<InFlight>;
}

/// Rewrites the payload of a message and signs it again with the sender's key: what a
/// malicious sender can do with its own messages.
pub fn resign_payload(net: &Network, msg: &InFlight, f: &mut dyn FnMut(&[u8]) -> Vec<u8>) -> InFlight {
    let (Some(mut env), Some(key)) = (msg.envelope(), net.identity_key(msg.from)) else {
        return msg.clone();
    };
    env.payload = f(&env.payload);
    env.resign(&key, msg.from);
    InFlight { bytes: env.to_bytes(), ..msg.clone() }
}

/// Built-in adversaries.
pub mod adversary {
    use super::*;

    type PayloadFn = Box<dyn FnMut(&[u8]) -> Vec<u8>>;

    /// The sender changes its payload of `kind` in `round` (to every recipient, or only to
    /// `only_to`: equivocation) and signs the result.
    pub struct Tamper {
        /// The malicious sender.
        pub from: PartyIndex,
        /// The round.
        pub round: u16,
        /// The message kind.
        pub kind: MessageKind,
        /// Recipients that see the change (`None`: all).
        pub only_to: Option<Vec<PartyIndex>>,
        /// The change.
        pub f: PayloadFn,
        sent: Option<([u8; 32], [u8; 64])>,
    }

    impl core::fmt::Debug for Tamper {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "Tamper({}, round {}, {:?})", self.from, self.round, self.kind)
        }
    }

    impl Tamper {
        /// Tampers with every copy.
        pub fn new(from: PartyIndex, round: u16, kind: MessageKind, f: impl FnMut(&[u8]) -> Vec<u8> + 'static) -> Self {
            Self { from, round, kind, only_to: None, f: Box::new(f), sent: None }
        }

        /// Tampers only with the copies sent to `to` (equivocation).
        pub fn only_to(mut self, to: Vec<PartyIndex>) -> Self {
            self.only_to = Some(to);
            self
        }
    }

    impl Interceptor for Tamper {
        fn intercept(&mut self, net: &Network, msg: InFlight) -> Vec<InFlight> {
            let selected = self.only_to.as_ref().is_none_or(|v| v.contains(&msg.to));
            if selected && msg.is(self.from, self.round, self.kind) {
                let changed = resign_payload(net, &msg, &mut self.f);
                if self.kind == MessageKind::Broadcast && self.only_to.is_none() {
                    self.sent = changed.envelope().map(|e| (e.statement(self.from).digest, e.signature));
                }
                return vec![changed];
            }
            // A consistent liar also echoes its changed broadcast (otherwise its own echo
            // would convict it of equivocation instead).
            if let Some((digest, signature)) = self.sent {
                if msg.is(self.from, self.round, MessageKind::Echo) {
                    let mut patch = |bytes: &[u8]| match EchoPayload::from_bytes(bytes) {
                        Ok(mut echo) => {
                            for e in echo.entries.iter_mut().filter(|e| e.party == self.from) {
                                e.digest = digest;
                                e.signature = signature;
                            }
                            echo.to_bytes()
                        }
                        Err(_) => bytes.to_vec(),
                    };
                    return vec![resign_payload(net, &msg, &mut patch)];
                }
            }
            vec![msg]
        }
    }

    /// Changes raw envelope bytes without re-signing (a network attacker or a broken peer).
    pub struct TamperBytes {
        /// The sender whose messages are hit.
        pub from: PartyIndex,
        /// The round.
        pub round: u16,
        /// The message kind.
        pub kind: MessageKind,
        /// The change.
        pub f: PayloadFn,
    }

    impl core::fmt::Debug for TamperBytes {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "TamperBytes({}, round {}, {:?})", self.from, self.round, self.kind)
        }
    }

    impl Interceptor for TamperBytes {
        fn intercept(&mut self, _net: &Network, msg: InFlight) -> Vec<InFlight> {
            if msg.is(self.from, self.round, self.kind) {
                let bytes = (self.f)(&msg.bytes);
                vec![InFlight { bytes, ..msg }]
            } else {
                vec![msg]
            }
        }
    }

    /// A party goes silent from `from_round` on.
    #[derive(Debug)]
    pub struct Silence {
        /// The silent party.
        pub party: PartyIndex,
        /// The first round it does not send.
        pub from_round: u16,
    }

    impl Interceptor for Silence {
        fn intercept(&mut self, _net: &Network, msg: InFlight) -> Vec<InFlight> {
            let silenced = msg.from == self.party && msg.envelope().is_none_or(|e| e.round.0 >= self.from_round);
            if silenced {
                vec![]
            } else {
                vec![msg]
            }
        }
    }

    /// Delivers the sender's message of `kind` in `round` twice, the second time changed by
    /// `f` (identity for a plain duplicate) and re-signed.
    pub struct Duplicate {
        /// The sender.
        pub from: PartyIndex,
        /// The round.
        pub round: u16,
        /// The message kind.
        pub kind: MessageKind,
        /// The change applied to the second copy.
        pub f: PayloadFn,
    }

    impl core::fmt::Debug for Duplicate {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "Duplicate({}, round {}, {:?})", self.from, self.round, self.kind)
        }
    }

    impl Interceptor for Duplicate {
        fn intercept(&mut self, net: &Network, msg: InFlight) -> Vec<InFlight> {
            if msg.is(self.from, self.round, self.kind) {
                let second = resign_payload(net, &msg, &mut self.f);
                vec![msg, second]
            } else {
                vec![msg]
            }
        }
    }

    /// Replaces the sender's message of `kind` in `round` to each recipient with a recorded
    /// message (e.g. from another session).
    #[derive(Debug)]
    pub struct Replay {
        /// The sender.
        pub from: PartyIndex,
        /// The round.
        pub round: u16,
        /// The message kind.
        pub kind: MessageKind,
        /// Recorded bytes by recipient.
        pub recorded: BTreeMap<PartyIndex, Vec<u8>>,
    }

    impl Interceptor for Replay {
        fn intercept(&mut self, _net: &Network, msg: InFlight) -> Vec<InFlight> {
            if msg.is(self.from, self.round, self.kind) {
                if let Some(bytes) = self.recorded.get(&msg.to) {
                    return vec![InFlight { bytes: bytes.clone(), ..msg }];
                }
            }
            vec![msg]
        }
    }
}

/// Per-party traffic and compute counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartyStats {
    /// Messages sent (a broadcast counts once per recipient).
    pub messages_sent: u64,
    /// Bytes sent (a broadcast counts once per recipient).
    pub bytes_sent: u64,
    /// Time spent in this party's machine, in nanoseconds (zero without a clock).
    pub compute_nanos: u64,
}

/// What a simulation returns.
#[derive(Debug)]
pub struct SimOutcome<O> {
    /// Each party's result.
    pub results: BTreeMap<PartyIndex, Result<O, ProtocolError>>,
    /// Each party's counters.
    pub stats: BTreeMap<PartyIndex, PartyStats>,
    /// Every message delivered, in order (for replay tests).
    pub delivered: Vec<InFlight>,
    /// For each party that timed out: whom it was still awaiting ([`StateMachine::awaiting`]).
    pub awaiting_at_timeout: BTreeMap<PartyIndex, Vec<PartyIndex>>,
}

impl<O> SimOutcome<O> {
    /// The results of the given parties.
    pub fn results_of(&self, parties: &[PartyIndex]) -> Vec<&Result<O, ProtocolError>> {
        parties.iter().filter_map(|p| self.results.get(p)).collect()
    }
}

/// A monotonic clock reading in nanoseconds, supplied by the caller (the simulator reads no
/// clock of its own).
pub type Clock = Box<dyn Fn() -> u64>;

/// An in-process run of one protocol by every party.
pub struct Simulation<M: StateMachine> {
    net: Network,
    machines: BTreeMap<PartyIndex, M>,
    rng: ChaCha20Rng,
    interceptors: Vec<Box<dyn Interceptor>>,
    clock: Option<Clock>,
    max_deliveries: usize,
}

impl<M: StateMachine> core::fmt::Debug for Simulation<M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Simulation({} parties)", self.machines.len())
    }
}

impl<M: StateMachine> Simulation<M> {
    /// A simulation of `machines` on `net`, delivering with an RNG seeded by `seed`.
    pub fn new(net: Network, machines: BTreeMap<PartyIndex, M>, seed: u64) -> Self {
        Self {
            net,
            machines,
            rng: ChaCha20Rng::seed_from_u64(seed),
            interceptors: Vec::new(),
            clock: None,
            max_deliveries: 1_000_000,
        }
    }

    /// Adds an adversary.
    pub fn intercept(mut self, i: impl Interceptor + 'static) -> Self {
        self.interceptors.push(Box::new(i));
        self
    }

    /// Measures each party's compute time with `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    fn now(&self) -> u64 {
        self.clock.as_ref().map_or(0, |c| c())
    }

    fn collect(&mut self, queue: &mut VecDeque<InFlight>, stats: &mut BTreeMap<PartyIndex, PartyStats>) {
        let mut produced = Vec::new();
        for (p, m) in self.machines.iter_mut() {
            for out in m.take_outgoing() {
                let recipients: Vec<PartyIndex> = match out.to {
                    Some(to) => vec![to],
                    None => self.net.parties.others(*p).collect(),
                };
                for to in recipients {
                    produced.push(InFlight { from: *p, to, bytes: out.bytes.clone() });
                }
            }
        }
        for msg in produced {
            let mut msgs = vec![msg];
            for i in self.interceptors.iter_mut() {
                msgs = msgs.into_iter().flat_map(|m| i.intercept(&self.net, m)).collect();
            }
            for m in msgs {
                let s = stats.entry(m.from).or_default();
                s.messages_sent += 1;
                s.bytes_sent += m.bytes.len() as u64;
                queue.push_back(m);
            }
        }
    }

    /// Runs until every party has finished (timing out the stragglers when the network is
    /// quiet) and returns every party's result.
    pub fn run(mut self) -> SimOutcome<M::Output> {
        let mut stats: BTreeMap<PartyIndex, PartyStats> =
            self.machines.keys().map(|p| (*p, PartyStats::default())).collect();
        let mut queue = VecDeque::new();
        let mut delivered = Vec::new();
        let mut deliveries = 0usize;
        let mut awaiting_at_timeout = BTreeMap::new();
        loop {
            self.collect(&mut queue, &mut stats);
            if let Some(msg) = queue.pop_front() {
                deliveries += 1;
                if deliveries > self.max_deliveries {
                    break;
                }
                let start = self.now();
                if let Some(m) = self.machines.get_mut(&msg.to) {
                    m.handle(&mut self.rng, msg.from, &msg.bytes);
                }
                let spent = self.now().saturating_sub(start);
                if let Some(s) = stats.get_mut(&msg.to) {
                    s.compute_nanos += spent;
                }
                delivered.push(msg);
                continue;
            }
            // The network is quiet: whoever still waits times out.
            let waiting: Vec<PartyIndex> =
                self.machines.iter().filter(|(_, m)| !m.is_finished()).map(|(p, _)| *p).collect();
            if waiting.is_empty() {
                break;
            }
            for p in waiting {
                if let Some(m) = self.machines.get_mut(&p) {
                    awaiting_at_timeout.insert(p, m.awaiting());
                    m.timeout();
                }
            }
        }
        for (p, m) in self.machines.iter_mut() {
            if !m.is_finished() {
                awaiting_at_timeout.insert(*p, m.awaiting());
                m.timeout();
            }
        }
        let results = self
            .machines
            .iter_mut()
            .map(|(p, m)| (*p, m.take_output().unwrap_or(Err(ProtocolError::Bug("no output")))))
            .collect();
        SimOutcome { results, stats, delivered, awaiting_at_timeout }
    }
}

/// Adds `nanos` of start-up compute (e.g. the first round, computed outside the simulator) to
/// a party's counters.
pub fn add_compute(stats: &mut BTreeMap<PartyIndex, PartyStats>, p: PartyIndex, nanos: u64) {
    stats.entry(p).or_default().compute_nanos += nanos;
}

/// A deterministic RNG for a test or demo seed.
pub fn seeded_rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Draws a fresh seed from `rng` (to derive independent per-party RNGs).
pub fn next_seed(rng: &mut dyn RngCore) -> u64 {
    rng.next_u64()
}
