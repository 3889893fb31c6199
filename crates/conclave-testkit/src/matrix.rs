//! Whole-message faults of the adversarial matrix (`docs/adversarial-matrix.md`), for any
//! protocol: drop, duplicate, replay from another session, reorder (shuffled delivery) and
//! delay past the deadline of one party's message of one round and kind. Every run uses the
//! [`driver`](crate::driver), so every party has its own RNG and the runs are deterministic.

use std::collections::BTreeMap;

use conclave_protocol::sim::adversary::{Duplicate, Replay};
use conclave_protocol::sim::{InFlight, Interceptor, Network};
use conclave_protocol::{MessageKind, PartyIndex, SessionId, StateMachine};

use crate::driver::{drive, DriverOptions, DriverOutcome};

/// Starts party `p`'s machine on `net` (deterministically: use [`crate::driver::start_rng`]).
pub type Start<'a, M> = &'a dyn Fn(&Network, PartyIndex) -> M;

/// One party's message of one round and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg {
    /// The sender.
    pub from: u16,
    /// The round.
    pub round: u16,
    /// The kind.
    pub kind: MessageKind,
}

impl Msg {
    /// Shorthand.
    pub fn new(from: u16, round: u16, kind: MessageKind) -> Self {
        Self { from, round, kind }
    }

    /// Whether `m` is this message (to any recipient).
    pub fn matches(&self, m: &InFlight) -> bool {
        m.is(PartyIndex(self.from), self.round, self.kind)
    }
}

/// Drops every copy of a message.
#[derive(Debug)]
pub struct Drop(pub Msg);

impl Interceptor for Drop {
    fn intercept(&mut self, _net: &Network, msg: InFlight) -> Vec<InFlight> {
        if self.0.matches(&msg) {
            vec![]
        } else {
            vec![msg]
        }
    }
}

/// Runs every party of `net` with `opts`.
pub fn run<M: StateMachine>(net: &Network, start: Start<'_, M>, opts: DriverOptions) -> DriverOutcome<M::Output> {
    let machines: BTreeMap<PartyIndex, M> = net.parties.iter().map(|p| (p, start(net, p))).collect();
    drive(net, machines, opts)
}

fn with(seed: u64, i: impl Interceptor + 'static) -> DriverOptions {
    DriverOptions { seed, interceptors: vec![Box::new(i)], ..DriverOptions::default() }
}

/// The message is never delivered.
pub fn dropped<M: StateMachine>(net: &Network, start: Start<'_, M>, msg: Msg, seed: u64) -> DriverOutcome<M::Output> {
    run(net, start, with(seed, Drop(msg)))
}

/// The message is delivered twice, identical (re-signed by its sender, so the second copy is
/// authentic).
pub fn duplicated<M: StateMachine>(
    net: &Network,
    start: Start<'_, M>,
    msg: Msg,
    seed: u64,
) -> DriverOutcome<M::Output> {
    let d = Duplicate { from: PartyIndex(msg.from), round: msg.round, kind: msg.kind, f: Box::new(|b| b.to_vec()) };
    run(net, start, with(seed, d))
}

/// The message is replaced, for each recipient, by the same message of an honest run of the
/// same parties in another session.
pub fn replayed<M: StateMachine>(net: &Network, start: Start<'_, M>, msg: Msg, seed: u64) -> DriverOutcome<M::Output> {
    let first = run(net, start, DriverOptions { seed, ..DriverOptions::default() });
    replayed_from(net, start, msg, seed, &first.delivered)
}

/// [`replayed`], with the honest run's delivered messages given (to record it once).
pub fn replayed_from<M: StateMachine>(
    net: &Network,
    start: Start<'_, M>,
    msg: Msg,
    seed: u64,
    honest_run: &[InFlight],
) -> DriverOutcome<M::Output> {
    let recorded: BTreeMap<PartyIndex, Vec<u8>> =
        honest_run.iter().filter(|m| msg.matches(m)).map(|m| (m.to, m.bytes.clone())).collect();
    assert!(!recorded.is_empty(), "the honest run sent {msg:?}");
    let mut session = net.session;
    session.0[0] ^= 0x5a;
    let second = net.in_session(SessionId(session.0));
    let r = Replay { from: PartyIndex(msg.from), round: msg.round, kind: msg.kind, recorded };
    run(&second, start, with(seed, r))
}

/// The message is held back until every party finished (after the deadline), then delivered.
pub fn delayed<M: StateMachine>(net: &Network, start: Start<'_, M>, msg: Msg, seed: u64) -> DriverOutcome<M::Output> {
    let opts = DriverOptions { seed, delay: Some(Box::new(move |m| msg.matches(m))), ..DriverOptions::default() };
    let out = run(net, start, opts);
    assert!(!out.late.is_empty(), "{msg:?} was held back and delivered late");
    out
}

/// Every message is delivered in a random order (within and across rounds), seeded.
pub fn shuffled<M: StateMachine>(net: &Network, start: Start<'_, M>, seed: u64) -> DriverOutcome<M::Output> {
    run(net, start, DriverOptions { seed, shuffle: true, ..DriverOptions::default() })
}

/// Every party succeeded.
pub fn assert_all_ok<O: core::fmt::Debug>(out: &DriverOutcome<O>) {
    for (p, r) in &out.results {
        assert!(r.is_ok(), "{p} failed: {r:?}");
    }
}

/// Every party in `honest` either succeeded (it had finished before the fault reached it) or
/// blamed exactly `bad` with `fault`; at least one blamed it.
pub fn assert_named_or_done<O: core::fmt::Debug>(
    results: &BTreeMap<PartyIndex, Result<O, conclave_protocol::ProtocolError>>,
    honest: &[u16],
    bad: u16,
    fault: conclave_protocol::Fault,
) {
    let mut named = 0;
    for h in honest {
        match results.get(&PartyIndex(*h)) {
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                let got: Vec<(PartyIndex, conclave_protocol::Fault)> =
                    e.culprits().iter().map(|c| (c.party, c.fault)).collect();
                assert_eq!(got, vec![(PartyIndex(bad), fault)], "party {h}: {e}");
                named += 1;
            }
            None => panic!("no result for party {h}"),
        }
    }
    assert!(named > 0, "nobody named party {bad}");
}
