//! A second in-process driver beside `conclave_protocol::sim`, for the adversarial matrix and
//! the machine fuzz tests:
//!
//! * every party has its **own** seeded RNG ([`start_rng`] to start it, [`party_rng`] for its
//!   rounds), so one party's run can be replayed exactly, message for message, outside the
//!   driver (the fuzz tests start the victim again and feed it the recorded messages);
//! * the delivery order can be **shuffled** (a seeded random pending message is delivered
//!   next instead of the oldest), which reorders messages within a round and across rounds;
//! * chosen messages can be **held back past the deadline**: they are delivered only after the
//!   network went quiet and every waiting party timed out.
//!
//! Interceptors of `conclave_protocol::sim` (tamper, duplicate, …) work here too.

use std::collections::BTreeMap;

use conclave_protocol::sim::{InFlight, Interceptor, Network};
use conclave_protocol::{PartyIndex, ProtocolError, StateMachine};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// The RNG party `p` starts its machine with, in a run seeded with `seed`.
pub fn start_rng(seed: u64, p: PartyIndex) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed ^ (u64::from(p.0) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// The RNG party `p`'s machine handles its messages with, in a run seeded with `seed`.
pub fn party_rng(seed: u64, p: PartyIndex) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed ^ (u64::from(p.0) + 1).wrapping_mul(0xc2b2_ae3d_27d4_eb4f) ^ 0x0ddba11)
}

/// Which messages to hold back past the deadline.
pub type DelayFn = Box<dyn Fn(&InFlight) -> bool>;

/// How the driver delivers.
#[derive(Default)]
pub struct DriverOptions {
    /// Seeds every party's RNG and the delivery order.
    pub seed: u64,
    /// Deliver a random pending message next instead of the oldest.
    pub shuffle: bool,
    /// Messages for which this returns `true` are held back until every party has finished
    /// (after the deadline), then delivered.
    pub delay: Option<DelayFn>,
    /// Network adversaries, applied in order to every message sent.
    pub interceptors: Vec<Box<dyn Interceptor>>,
}

impl core::fmt::Debug for DriverOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DriverOptions")
            .field("seed", &self.seed)
            .field("shuffle", &self.shuffle)
            .field("delay", &self.delay.is_some())
            .field("interceptors", &self.interceptors.len())
            .finish()
    }
}

/// What a driven run gives back.
#[derive(Debug)]
pub struct DriverOutcome<O> {
    /// Every party's result.
    pub results: BTreeMap<PartyIndex, Result<O, ProtocolError>>,
    /// Every message delivered before the parties finished, in delivery order.
    pub delivered: Vec<InFlight>,
    /// The held-back messages, delivered after every party had finished.
    pub late: Vec<InFlight>,
    /// Parties that timed out, with whom they still awaited then.
    pub timed_out: BTreeMap<PartyIndex, Vec<PartyIndex>>,
}

/// Runs `machines` (started by the caller, ideally with [`start_rng`]) until every party has
/// finished: delivers messages, times out whoever waits when nothing is in flight, then
/// delivers the held-back messages (which must change nothing).
pub fn drive<M: StateMachine>(
    net: &Network,
    mut machines: BTreeMap<PartyIndex, M>,
    mut opts: DriverOptions,
) -> DriverOutcome<M::Output> {
    let mut rngs: BTreeMap<PartyIndex, ChaCha20Rng> = machines.keys().map(|p| (*p, party_rng(opts.seed, *p))).collect();
    let mut order = ChaCha20Rng::seed_from_u64(opts.seed ^ 0x005e_ed0f_0de5);
    let mut pending: Vec<InFlight> = Vec::new();
    let mut held: Vec<InFlight> = Vec::new();
    let mut delivered = Vec::new();
    let mut timed_out = BTreeMap::new();
    loop {
        for (p, m) in machines.iter_mut() {
            for out in m.take_outgoing() {
                let recipients: Vec<PartyIndex> = match out.to {
                    Some(to) => vec![to],
                    None => net.parties.others(*p).collect(),
                };
                for to in recipients {
                    let mut msgs = vec![InFlight { from: *p, to, bytes: out.bytes.clone() }];
                    for i in opts.interceptors.iter_mut() {
                        msgs = msgs.into_iter().flat_map(|x| i.intercept(net, x)).collect();
                    }
                    for x in msgs {
                        if opts.delay.as_ref().is_some_and(|d| d(&x)) {
                            held.push(x);
                        } else {
                            pending.push(x);
                        }
                    }
                }
            }
        }
        if !pending.is_empty() {
            let k = if opts.shuffle { (order.next_u64() % pending.len() as u64) as usize } else { 0 };
            let msg = pending.remove(k);
            if let (Some(m), Some(r)) = (machines.get_mut(&msg.to), rngs.get_mut(&msg.to)) {
                m.handle(r, msg.from, &msg.bytes);
            }
            delivered.push(msg);
            assert!(delivered.len() < 1_000_000, "the driver delivered a million messages: a livelock");
            continue;
        }
        let waiting: Vec<PartyIndex> = machines.iter().filter(|(_, m)| !m.is_finished()).map(|(p, _)| *p).collect();
        if waiting.is_empty() {
            break;
        }
        for p in waiting {
            if let Some(m) = machines.get_mut(&p) {
                timed_out.insert(p, m.awaiting());
                m.timeout();
                assert!(m.is_finished(), "{p} did not finish on timeout()");
            }
        }
    }
    let mut late = Vec::new();
    for msg in held {
        if let (Some(m), Some(r)) = (machines.get_mut(&msg.to), rngs.get_mut(&msg.to)) {
            m.handle(r, msg.from, &msg.bytes);
            assert!(m.take_outgoing().is_empty(), "a finished machine sent something on a late message");
        }
        late.push(msg);
    }
    let results = machines
        .iter_mut()
        .map(|(p, m)| {
            let r = m.take_output().unwrap_or_else(|| panic!("{p} finished without an output"));
            (*p, r)
        })
        .collect();
    DriverOutcome { results, delivered, late, timed_out }
}
