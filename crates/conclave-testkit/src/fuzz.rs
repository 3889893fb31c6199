//! Machine-sequence fuzzing: feed one party's [`StateMachine`] a random sequence of messages —
//! recorded real envelopes (as sent, corrupted, truncated, re-signed with a changed payload,
//! or delivered as if from another sender), arbitrary bytes from any sender (a party or not),
//! and well-signed envelopes with arbitrary round, kind and payload — and check that it never
//! panics and always ends: it finishes by itself, or [`StateMachine::timeout`] finishes it, and
//! an error names culprits (never an internal [`ProtocolError::Bug`]).

use conclave_math::codec::{Decode, Encode};
use conclave_protocol::sim::{InFlight, Network};
use conclave_protocol::{Envelope, MessageKind, PartyIndex, ProtocolError, RoundId, StateMachine};
use proptest::prelude::*;
use rand_core::CryptoRngCore;

/// The real messages one party (the victim) received in an honest run.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The session's network (identity keys sign forged envelopes).
    pub net: Network,
    /// The protocol name carried by the envelopes.
    pub protocol: &'static str,
    /// The party whose machine is fuzzed.
    pub victim: PartyIndex,
    /// The messages it received, in order.
    pub messages: Vec<InFlight>,
}

impl Corpus {
    /// The messages to `victim` among `delivered`.
    pub fn new(net: Network, protocol: &'static str, victim: PartyIndex, delivered: &[InFlight]) -> Self {
        let messages = delivered.iter().filter(|m| m.to == victim).cloned().collect();
        Self { net, protocol, victim, messages }
    }

    fn pick(&self, k: usize) -> Option<&InFlight> {
        if self.messages.is_empty() {
            None
        } else {
            self.messages.get(k % self.messages.len())
        }
    }
}

/// One step of a fuzzed sequence.
#[derive(Debug, Clone)]
pub enum Op {
    /// Recorded message `k` (modulo the corpus size), from its real sender.
    Real(usize),
    /// Recorded message `k` with the byte at `pos` replaced by `val` (not re-signed).
    Flip {
        /// Which message.
        k: usize,
        /// Which byte (modulo the length).
        pos: usize,
        /// Its new value.
        val: u8,
    },
    /// Recorded message `k` cut to `cut` bytes (modulo the length).
    Cut {
        /// Which message.
        k: usize,
        /// Where to cut.
        cut: usize,
    },
    /// Recorded message `k` whose payload byte `pos` is XORed with `val` (or, with `cut`, the
    /// payload cut or extended), re-signed by its sender: a sender lying with its own key.
    Resign {
        /// Which message.
        k: usize,
        /// Which payload byte.
        pos: usize,
        /// XOR mask (0 keeps the byte).
        val: u8,
        /// Cut the payload to this length (modulo length + 1), or with `u8::MAX` extend it.
        cut: Option<usize>,
    },
    /// Recorded message `k` delivered as if from `from` (anyone, a party or not).
    Misroute {
        /// Which message.
        k: usize,
        /// The claimed authenticated sender.
        from: u16,
    },
    /// Arbitrary bytes from `from`.
    Raw {
        /// The authenticated sender.
        from: u16,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// An envelope signed by `from` (when it has an identity key) for this session and
    /// protocol, with arbitrary round, kind, recipient and payload.
    Forge {
        /// The sender (and signer).
        from: u16,
        /// The round.
        round: u16,
        /// 0 broadcast, 1 direct, 2 echo, 3 abort notice.
        kind: u8,
        /// For a direct message: addressed to the victim, or to `recipient`.
        recipient: Option<u16>,
        /// The payload.
        payload: Vec<u8>,
    },
}

/// A random [`Op`]; senders range over `0..=max_party` (include indices outside the session).
pub fn op(max_party: u16) -> impl Strategy<Value = Op> {
    let idx = any::<usize>();
    prop_oneof![
        4 => idx.prop_map(Op::Real),
        2 => (idx, any::<usize>(), any::<u8>()).prop_map(|(k, pos, val)| Op::Flip { k, pos, val }),
        1 => (idx, any::<usize>()).prop_map(|(k, cut)| Op::Cut { k, cut }),
        3 => (idx, any::<usize>(), 1u8..=255, proptest::option::weighted(0.3, any::<usize>()))
            .prop_map(|(k, pos, val, cut)| Op::Resign { k, pos, val, cut }),
        1 => (idx, 0..=max_party).prop_map(|(k, from)| Op::Misroute { k, from }),
        1 => (0..=max_party, proptest::collection::vec(any::<u8>(), 0..160)).prop_map(|(from, bytes)| Op::Raw { from, bytes }),
        2 => (
            0..=max_party,
            0u16..6,
            0u8..4,
            proptest::option::weighted(0.2, 0..=max_party),
            proptest::collection::vec(any::<u8>(), 0..160)
        )
            .prop_map(|(from, round, kind, recipient, payload)| Op::Forge { from, round, kind, recipient, payload }),
    ]
}

/// A random sequence of up to `max_len` ops.
pub fn ops(max_party: u16, max_len: usize) -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(max_party), 0..max_len)
}

fn resign(net: &Network, msg: &InFlight, f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let (Ok(mut env), Some(key)) = (Envelope::from_bytes(&msg.bytes), net.identity_key(msg.from)) else {
        return msg.bytes.clone();
    };
    f(&mut env.payload);
    env.resign(&key, msg.from);
    env.to_bytes()
}

/// The (sender, bytes) an op delivers, if any.
pub fn materialize(corpus: &Corpus, op: &Op) -> Option<(PartyIndex, Vec<u8>)> {
    let net = &corpus.net;
    match op {
        Op::Real(k) => corpus.pick(*k).map(|m| (m.from, m.bytes.clone())),
        Op::Flip { k, pos, val } => corpus.pick(*k).map(|m| {
            let mut b = m.bytes.clone();
            let n = b.len();
            if let Some(x) = b.get_mut(pos % n.max(1)) {
                *x = *val;
            }
            (m.from, b)
        }),
        Op::Cut { k, cut } => corpus.pick(*k).map(|m| {
            let n = m.bytes.len();
            (m.from, m.bytes.get(..cut % n.max(1)).unwrap_or_default().to_vec())
        }),
        Op::Resign { k, pos, val, cut } => corpus.pick(*k).map(|m| {
            let bytes = resign(net, m, |p| {
                match cut {
                    Some(c) if c % 7 == 0 => p.extend_from_slice(&[*val; 3]),
                    Some(c) => p.truncate(c % (p.len() + 1)),
                    None => {
                        let n = p.len();
                        if let Some(x) = p.get_mut(pos % n.max(1)) {
                            *x ^= *val;
                        }
                    }
                };
            });
            (m.from, bytes)
        }),
        Op::Misroute { k, from } => corpus.pick(*k).map(|m| (PartyIndex(*from), m.bytes.clone())),
        Op::Raw { from, bytes } => Some((PartyIndex(*from), bytes.clone())),
        Op::Forge { from, round, kind, recipient, payload } => {
            let from = PartyIndex(*from);
            let key = net.identity_key(from)?;
            let kind = match kind {
                0 => MessageKind::Broadcast,
                1 => MessageKind::Direct,
                2 => MessageKind::Echo,
                _ => MessageKind::Abort,
            };
            let recipient = (kind == MessageKind::Direct).then(|| recipient.map_or(corpus.victim, PartyIndex));
            let env = Envelope::sign(
                &key,
                from,
                corpus.protocol,
                net.session,
                RoundId(*round),
                kind,
                recipient,
                payload.clone(),
            );
            Some((from, env.to_bytes()))
        }
    }
}

/// Feeds `m` the messages of `ops`. Every call must return (no panic, no hang); messages
/// after the machine finished must be ignored.
pub fn feed<M: StateMachine>(m: &mut M, rng: &mut dyn CryptoRngCore, corpus: &Corpus, ops: &[Op]) {
    for op in ops {
        if let Some((from, bytes)) = materialize(corpus, op) {
            let finished = m.is_finished();
            m.handle(rng, from, &bytes);
            if finished {
                assert!(m.take_outgoing().is_empty(), "a finished machine sent something");
            }
        }
        let _ = m.take_outgoing();
        let _ = m.awaiting();
    }
}

/// Ends the run: times the machine out if it still waits, and checks that it finished with an
/// output — a success, or an error that names culprits (or reports another party's abort, or a
/// documented unidentified abort), never an internal error. Returns the result.
pub fn assert_ends<M: StateMachine>(m: &mut M) -> Result<M::Output, ProtocolError> {
    if !m.is_finished() {
        assert!(!m.awaiting().is_empty(), "an unfinished machine must be waiting for someone");
        m.timeout();
    }
    assert!(m.is_finished(), "timeout() must finish the machine");
    let out = m.take_output().unwrap_or_else(|| panic!("a finished machine must have an output"));
    assert!(m.take_output().is_none(), "the output is taken once");
    if let Err(e) = &out {
        assert!(!matches!(e, ProtocolError::Bug(_)), "peer input must never cause an internal error: {e}");
        if let ProtocolError::Aborted { culprits } = e {
            assert!(!culprits.is_empty(), "an abort names its culprits");
        }
    }
    out
}

/// The first `prefix` recorded messages in order (an honest start that reaches later rounds),
/// then `ops`.
pub fn with_prefix(corpus: &Corpus, prefix: usize, ops: &[Op]) -> Vec<Op> {
    (0..prefix.min(corpus.messages.len())).map(Op::Real).chain(ops.iter().cloned()).collect()
}

/// Every recorded message in order: the honest run again.
pub fn honest(corpus: &Corpus) -> Vec<Op> {
    (0..corpus.messages.len()).map(Op::Real).collect()
}
