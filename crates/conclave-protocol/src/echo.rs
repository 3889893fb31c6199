//! Echo broadcast: after a reliable round's broadcasts are in, every party sends everyone the
//! digest and signature of each broadcast it received; any disagreement is caught here.
//!
//! A differing digest that carries the broadcaster's valid signature proves the broadcaster
//! signed two different messages ([`Fault::Equivocation`], evidence checkable by anyone with
//! its identity key). A differing entry without a valid signature is the echoer's forgery
//! ([`Fault::ForgedEcho`]).

use conclave_math::codec::{Decode, Encode, Reader, Writer, MAX_SEQUENCE};
use conclave_math::DecodeError;

use crate::envelope::{MessageKind, SignedStatement};
use crate::fault::{Culprit, Evidence, Fault};
use crate::ids::{PartyIndex, RoundId};
use crate::inbox::Inbox;

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

/// Our echo of `round`: our own broadcast and every broadcast received.
pub(crate) fn build(inbox: &Inbox, round: RoundId, mine: Option<&SignedStatement>) -> EchoPayload {
    let entries = inbox
        .parties()
        .iter()
        .filter_map(|p| {
            let st = if p == inbox.me() { mine } else { inbox.statement(round, MessageKind::Broadcast, p) };
            st.map(|st| EchoEntry { party: p, digest: st.digest, signature: st.signature })
        })
        .collect();
    EchoPayload { entries }
}

/// Compares every echo of `round` in the inbox with our own view, blaming as described above.
pub(crate) fn check(inbox: &mut Inbox, round: RoundId, mine: Option<&SignedStatement>) {
    let mut found = Vec::new();
    for k in inbox.others() {
        let Some(echo_statement) = inbox.statement(round, MessageKind::Echo, k).cloned() else { continue };
        let parsed = inbox.payload(round, MessageKind::Echo, k).map(EchoPayload::from_bytes);
        let entries = match parsed {
            Some(Ok(e)) if e.entries.iter().map(|x| x.party).eq(inbox.parties().iter()) => e.entries,
            _ => {
                found.push(Culprit::with_message(k, round, Fault::Malformed, echo_statement));
                continue;
            }
        };
        for entry in entries {
            let ours = if entry.party == inbox.me() {
                mine.cloned()
            } else {
                inbox.statement(round, MessageKind::Broadcast, entry.party).cloned()
            };
            let Some(ours) = ours else { continue };
            if ours.digest == entry.digest && ours.signature == entry.signature {
                continue;
            }
            let theirs = SignedStatement { digest: entry.digest, signature: entry.signature, ..ours.clone() };
            let authentic = inbox.peer_key(entry.party).is_some_and(|key| theirs.verify(key));
            if authentic && (ours.digest == entry.digest || entry.party == inbox.me()) {
                // Another valid signature over the same content: no disagreement. Or a
                // statement signed with our own key that we did not make: k relayed it
                // faithfully, and our key is not k's fault (only a party that is itself
                // malicious would see this).
                continue;
            }
            if authentic {
                found.push(Culprit {
                    party: entry.party,
                    round,
                    fault: Fault::Equivocation,
                    evidence: Evidence::Equivocation { first: Box::new(ours), second: Box::new(theirs) },
                });
            } else {
                found.push(Culprit::with_message(k, round, Fault::ForgedEcho, echo_statement.clone()));
            }
        }
    }
    for c in found {
        inbox.blame(c);
    }
}
