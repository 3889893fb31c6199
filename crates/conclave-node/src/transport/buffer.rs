//! [`EarlyBuffer`]: a pure, bounded holding area for frames of sessions that have not started
//! yet (a peer may be a round ahead of us). The session manager owns it; the transport does not
//! use it.

use std::collections::BTreeMap;

use conclave_protocol::{PartyIndex, SessionId};

use super::{Inbound, Limits};

/// Frames held for sessions that do not exist yet, bounded per sending peer by frame count and by
/// payload bytes ([`Limits::early_frames_per_peer`], [`Limits::early_bytes_per_peer`]).
#[derive(Debug)]
pub struct EarlyBuffer {
    max_frames_per_peer: usize,
    max_bytes_per_peer: usize,
    /// Frames per session, each list in arrival order.
    sessions: BTreeMap<SessionId, Vec<Inbound>>,
    /// (frames, payload bytes) held per peer.
    usage: BTreeMap<PartyIndex, (usize, usize)>,
    len: usize,
    dropped: u64,
    discarded: u64,
}

impl EarlyBuffer {
    /// An empty buffer with the bounds of `limits`.
    pub fn new(limits: &Limits) -> Self {
        Self {
            max_frames_per_peer: limits.early_frames_per_peer,
            max_bytes_per_peer: limits.early_bytes_per_peer,
            sessions: BTreeMap::new(),
            usage: BTreeMap::new(),
            len: 0,
            dropped: 0,
            discarded: 0,
        }
    }

    /// Holds `msg`. Returns false, and counts it in [`EarlyBuffer::dropped`], when its sender
    /// already has the maximum number of frames or bytes held (a frame bigger than the byte
    /// bound is always refused).
    pub fn push(&mut self, msg: Inbound) -> bool {
        let bytes = msg.frame.payload.len();
        let (frames, held) = self.usage.get(&msg.from).copied().unwrap_or((0, 0));
        let fits = frames < self.max_frames_per_peer
            && held.checked_add(bytes).is_some_and(|total| total <= self.max_bytes_per_peer);
        if !fits {
            self.dropped = self.dropped.saturating_add(1);
            return false;
        }
        self.usage.insert(msg.from, (frames.saturating_add(1), held.saturating_add(bytes)));
        self.len = self.len.saturating_add(1);
        self.sessions.entry(msg.frame.session).or_default().push(msg);
        true
    }

    /// Removes and returns the frames of `session`, in arrival order.
    pub fn take_session(&mut self, session: &SessionId) -> Vec<Inbound> {
        let taken = self.sessions.remove(session).unwrap_or_default();
        self.release(&taken);
        taken
    }

    /// Discards the frames of `session` (counted in [`EarlyBuffer::discarded`], not in
    /// [`EarlyBuffer::dropped`]).
    pub fn drop_session(&mut self, session: &SessionId) {
        let gone = self.sessions.remove(session).unwrap_or_default();
        self.release(&gone);
        self.discarded = self.discarded.saturating_add(u64::try_from(gone.len()).unwrap_or(u64::MAX));
    }

    fn release(&mut self, msgs: &[Inbound]) {
        for m in msgs {
            if let Some((frames, bytes)) = self.usage.get_mut(&m.from) {
                *frames = frames.saturating_sub(1);
                *bytes = bytes.saturating_sub(m.frame.payload.len());
                if *frames == 0 {
                    self.usage.remove(&m.from);
                }
            }
        }
        self.len = self.len.saturating_sub(msgs.len());
    }

    /// Frames refused by [`EarlyBuffer::push`] because a bound was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Frames discarded by [`EarlyBuffer::drop_session`].
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no frame is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Frames held from `peer`.
    pub fn held_from(&self, peer: PartyIndex) -> usize {
        self.usage.get(&peer).map_or(0, |u| u.0)
    }
}
