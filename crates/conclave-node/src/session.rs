//! The one driver of every protocol in the node: feeds a [`StateMachine`] the messages routed to
//! its session, sends what it produces, and turns a passed round deadline into `Silent`
//! culprits. Heavy steps (proof verification, Paillier work) run on tokio's blocking pool.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use conclave_protocol::{PartyIndex, RoundId, SessionId, StateMachine};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_core::OsRng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::NodeError;
use crate::request::Control;
use crate::transport::{Channel, Frame, Transport};

/// What the dispatcher routes to a running session.
#[derive(Debug)]
pub(crate) enum SessionEvent {
    /// A protocol message from an authenticated peer.
    Message(PartyIndex, Vec<u8>),
    /// A control message about this session from an authenticated peer.
    Control(PartyIndex, Control),
}

/// How a session relates to its proposal.
#[derive(Debug)]
pub(crate) enum Role {
    /// We proposed it: every other participant must accept; a refusal cancels it for everyone.
    Proposer { pending: BTreeSet<PartyIndex> },
    /// We joined `proposer`'s session: its cancellation ends ours.
    Participant { proposer: PartyIndex },
}

/// Runs before each batch of a machine's messages is sent.
pub(crate) type BeforeSend<'a, M> = Box<dyn FnMut(&M) -> Result<(), NodeError> + Send + 'a>;

/// Whether a protocol message (recipient, envelope bytes) must not be sent.
#[cfg(feature = "fault-injection")]
pub(crate) type Withhold<'a> = Box<dyn Fn(PartyIndex, &[u8]) -> bool + Send + Sync + 'a>;

/// What a caller of [`drive_with`] adds to the plain driver.
pub(crate) struct Hooks<'a, M> {
    /// Runs before each batch of the machine's messages is sent; an error ends the session
    /// with nothing sent (a reshare stores its confirmed hand-over here before confirming).
    pub before_send: BeforeSend<'a, M>,
    /// A protocol message this node must not send: fault injection in tests only.
    #[cfg(feature = "fault-injection")]
    pub withhold: Option<Withhold<'a>>,
}

impl<'a, M> Hooks<'a, M> {
    /// Hooks that run `before_send` and withhold nothing.
    pub fn before_send(before_send: BeforeSend<'a, M>) -> Self {
        Self {
            before_send,
            #[cfg(feature = "fault-injection")]
            withhold: None,
        }
    }
}

impl<M> Default for Hooks<'_, M> {
    fn default() -> Self {
        Self::before_send(Box::new(|_| Ok(())))
    }
}

/// Where a session sends its messages, and the count of protocol bytes it sent (payload bytes
/// per recipient, as the simulator counts them; control messages are not counted).
pub(crate) struct Link<'a> {
    pub(crate) transport: &'a Transport,
    pub(crate) bytes_sent: &'a AtomicU64,
}

/// Runs `machine` to its end.
pub(crate) async fn drive<M>(
    machine: M,
    link: &Link<'_>,
    events: mpsc::Receiver<SessionEvent>,
    role: Role,
    others: &[PartyIndex],
    round_timeout: Duration,
) -> Result<M::Output, NodeError>
where
    M: StateMachine + Send + 'static,
    M::Output: Send + 'static,
{
    drive_with(machine, link, events, role, others, round_timeout, Hooks::default()).await
}

/// [`drive`] with [`Hooks`].
pub(crate) async fn drive_with<M>(
    mut machine: M,
    link: &Link<'_>,
    mut events: mpsc::Receiver<SessionEvent>,
    mut role: Role,
    others: &[PartyIndex],
    round_timeout: Duration,
    mut hooks: Hooks<'_, M>,
) -> Result<M::Output, NodeError>
where
    M: StateMachine + Send + 'static,
    M::Output: Send + 'static,
{
    let transport = link.transport;
    let session = machine.session();
    let mut rng = ChaCha20Rng::from_rng(OsRng).map_err(|_| NodeError::Bug("system randomness unavailable"))?;
    let mut round = machine.current_round();
    let mut deadline = Instant::now() + round_timeout;
    loop {
        (hooks.before_send)(&machine)?;
        send_outgoing(&mut machine, link, session, others, &hooks);
        if machine.is_finished() {
            return match machine.take_output() {
                Some(Ok(out)) => Ok(out),
                Some(Err(e)) => Err(NodeError::from_protocol(e)),
                None => Err(NodeError::Bug("finished machine without output")),
            };
        }
        let now_round = machine.current_round();
        if now_round != round {
            round = now_round;
            deadline = Instant::now() + round_timeout;
        }
        tokio::select! {
            ev = events.recv() => match ev {
                Some(SessionEvent::Message(from, bytes)) => {
                    let mut child = ChaCha20Rng::from_rng(&mut rng).map_err(|_| NodeError::Bug("rng"))?;
                    machine = tokio::task::spawn_blocking(move || {
                        machine.handle(&mut child, from, &bytes);
                        machine
                    })
                    .await
                    .map_err(|_| NodeError::Bug("protocol step panicked"))?;
                }
                Some(SessionEvent::Control(from, msg)) => {
                    if let Some(err) = on_control(&mut role, from, msg) {
                        if let Role::Proposer { .. } = role {
                            let msg = Control::Cancel(err.to_string());
                            for p in others {
                                send_control(transport, *p, session, &msg);
                            }
                        }
                        return Err(err);
                    }
                }
                None => return Err(NodeError::ShuttingDown),
            },
            _ = tokio::time::sleep_until(deadline) => {
                machine = tokio::task::spawn_blocking(move || {
                    machine.timeout();
                    machine
                })
                .await
                .map_err(|_| NodeError::Bug("protocol timeout step panicked"))?;
                if !machine.is_finished() {
                    // The machine had nothing to blame (nobody awaited): give it one more round.
                    deadline = Instant::now() + round_timeout;
                }
            }
        }
    }
}

/// Applies a control message; `Some(error)` ends the session.
fn on_control(role: &mut Role, from: PartyIndex, msg: Control) -> Option<NodeError> {
    match (role, msg) {
        (Role::Proposer { pending }, Control::Accept) => {
            pending.remove(&from);
            None
        }
        (Role::Proposer { pending }, Control::Refuse(reason)) if pending.contains(&from) => {
            Some(NodeError::Refused { party: from, reason })
        }
        (Role::Participant { proposer }, Control::Cancel(reason)) if *proposer == from => {
            Some(NodeError::Cancelled { by: from, reason })
        }
        // Anything else (a late accept, a cancel from a non-proposer, a second proposal) is
        // ignored: it cannot change a session's outcome.
        _ => None,
    }
}

/// Sends one control message.
pub(crate) fn send_control(transport: &Transport, to: PartyIndex, session: SessionId, msg: &Control) {
    let frame = Frame { channel: Channel::Control, session, round: 0, payload: msg.to_bytes() };
    if let Err(e) = transport.send(to, frame) {
        tracing::warn!(session = %session, peer = %to, error = %e, "control message not queued");
    }
}

#[cfg_attr(not(feature = "fault-injection"), allow(unused_variables))]
fn send_outgoing<M: StateMachine>(
    machine: &mut M,
    link: &Link<'_>,
    session: SessionId,
    others: &[PartyIndex],
    hooks: &Hooks<'_, M>,
) {
    let round: RoundId = machine.current_round();
    for out in machine.take_outgoing() {
        let targets: Vec<PartyIndex> = match out.to {
            Some(p) => vec![p],
            None => others.to_vec(),
        };
        for to in targets {
            #[cfg(feature = "fault-injection")]
            if hooks.withhold.as_ref().is_some_and(|w| w(to, &out.bytes)) {
                tracing::warn!(session = %session, peer = %to, "fault injected: message withheld");
                continue;
            }
            let frame = Frame { channel: Channel::Protocol, session, round: round.0, payload: out.bytes.clone() };
            match link.transport.send(to, frame) {
                Ok(()) => {
                    link.bytes_sent.fetch_add(out.bytes.len() as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    // The peer will be blamed as silent by the others if this loses its message;
                    // that is the transport's failure, logged here.
                    tracing::warn!(session = %session, peer = %to, error = %e, "protocol message not queued");
                }
            }
        }
    }
}
