//! The signed envelope every protocol message travels in.
//!
//! ```text
//! version u8 = 1 ‖ protocol (bytes ≤ 64) ‖ session [32] ‖ round u16 ‖ kind u8
//!   ‖ recipient (u16, direct messages only) ‖ payload (bytes) ‖ signature [64]
//! ```
//!
//! The envelope carries **no sender field**: the sender is the authenticated peer the
//! transport received it from (DESIGN.md invariant 3). The signature is the sender's
//! identity-key signature over a [`SignedStatement`]: protocol, session, round, kind, sender,
//! recipient and the SHA-256 digest of the payload. Because the statement holds only a
//! digest, a third party can check evidence of a message without seeing its payload.

use conclave_math::codec::{Decode, Encode, Reader, Writer, MAX_BYTES};
use conclave_math::DecodeError;
use sha2::{Digest, Sha256};

use crate::identity::{IdentityKey, IdentityPublicKey};
use crate::ids::{PartyIndex, RoundId, SessionId};

const ENVELOPE_VERSION: u8 = 1;
const MAX_PROTOCOL_NAME: usize = 64;
const STATEMENT_DOMAIN: &[u8] = b"conclave/envelope/v1";

/// What kind of message an envelope holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageKind {
    /// Sent to every other party.
    Broadcast,
    /// Sent to one party only.
    Direct,
    /// The echo of a reliable broadcast round (digests and signatures of what was received).
    Echo,
    /// A notice, sent to every party, that the sender aborted the session, with its culprits
    /// and their evidence. Accepted in any round.
    Abort,
}

impl MessageKind {
    fn tag(self) -> u8 {
        match self {
            MessageKind::Broadcast => 1,
            MessageKind::Direct => 2,
            MessageKind::Echo => 3,
            MessageKind::Abort => 4,
        }
    }

    fn from_tag(tag: u8) -> Result<Self, DecodeError> {
        match tag {
            1 => Ok(MessageKind::Broadcast),
            2 => Ok(MessageKind::Direct),
            3 => Ok(MessageKind::Echo),
            4 => Ok(MessageKind::Abort),
            tag => Err(DecodeError::UnknownTag { what: "message kind", tag }),
        }
    }

    /// A stable lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Broadcast => "broadcast",
            MessageKind::Direct => "direct",
            MessageKind::Echo => "echo",
            MessageKind::Abort => "abort",
        }
    }
}

/// SHA-256 of a payload.
pub fn payload_digest(payload: &[u8]) -> [u8; 32] {
    Sha256::digest(payload).into()
}

/// What a sender's signature on an envelope asserts. Contains no payload, only its digest,
/// so it can travel as evidence without revealing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedStatement {
    /// Protocol name.
    pub protocol: String,
    /// Session id.
    pub session: SessionId,
    /// Round.
    pub round: RoundId,
    /// Message kind.
    pub kind: MessageKind,
    /// The party that signed.
    pub sender: PartyIndex,
    /// The recipient of a direct message.
    pub recipient: Option<PartyIndex>,
    /// SHA-256 of the payload.
    pub digest: [u8; 32],
    /// The sender's Ed25519 signature over [`SignedStatement::signing_bytes`].
    pub signature: [u8; 64],
}

impl SignedStatement {
    /// The exact bytes the sender signs.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(STATEMENT_DOMAIN)
            .bytes(self.protocol.as_bytes())
            .fixed(&self.session.0)
            .u16(self.round.0)
            .u8(self.kind.tag())
            .u16(self.sender.0);
        match self.recipient {
            Some(r) => w.u8(1).u16(r.0),
            None => w.u8(0),
        };
        w.fixed(&self.digest);
        w.into_bytes()
    }

    /// Whether `key` signed this statement.
    pub fn verify(&self, key: &IdentityPublicKey) -> bool {
        key.verify(&self.signing_bytes(), &self.signature)
    }

    /// Whether `payload` is the payload this statement is about.
    pub fn matches_payload(&self, payload: &[u8]) -> bool {
        payload_digest(payload) == self.digest
    }
}

impl Encode for SignedStatement {
    fn encode(&self, w: &mut Writer) {
        w.bytes(self.protocol.as_bytes())
            .fixed(&self.session.0)
            .u16(self.round.0)
            .u8(self.kind.tag())
            .u16(self.sender.0);
        match self.recipient {
            Some(r) => w.u8(1).u16(r.0),
            None => w.u8(0),
        };
        w.fixed(&self.digest).fixed(&self.signature);
    }
}

impl Decode for SignedStatement {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let protocol = decode_protocol(r)?;
        let session = SessionId(r.array()?);
        let round = RoundId(r.u16()?);
        let kind = MessageKind::from_tag(r.u8()?)?;
        let sender = PartyIndex(r.u16()?);
        let recipient = decode_recipient(r, kind)?;
        Ok(Self { protocol, session, round, kind, sender, recipient, digest: r.array()?, signature: r.array()? })
    }
}

fn decode_protocol(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let raw = r.bytes("protocol name", MAX_PROTOCOL_NAME)?;
    String::from_utf8(raw.to_vec()).map_err(|_| DecodeError::Invalid { what: "protocol name", reason: "not UTF-8" })
}

fn decode_recipient(r: &mut Reader<'_>, kind: MessageKind) -> Result<Option<PartyIndex>, DecodeError> {
    let recipient = match r.u8()? {
        0 => None,
        1 => Some(PartyIndex(r.u16()?)),
        tag => return Err(DecodeError::UnknownTag { what: "recipient", tag }),
    };
    if recipient.is_some() != (kind == MessageKind::Direct) {
        return Err(DecodeError::Invalid {
            what: "envelope",
            reason: "direct messages, and only they, name a recipient",
        });
    }
    Ok(recipient)
}

/// A message on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Protocol name (e.g. `conclave/dkg/v1`).
    pub protocol: String,
    /// Session id.
    pub session: SessionId,
    /// Round.
    pub round: RoundId,
    /// Message kind.
    pub kind: MessageKind,
    /// Recipient, for direct messages only.
    pub recipient: Option<PartyIndex>,
    /// The protocol message.
    pub payload: Vec<u8>,
    /// The sender's signature over the statement.
    pub signature: [u8; 64],
}

impl Envelope {
    /// Builds and signs an envelope from `sender`.
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        key: &IdentityKey,
        sender: PartyIndex,
        protocol: &str,
        session: SessionId,
        round: RoundId,
        kind: MessageKind,
        recipient: Option<PartyIndex>,
        payload: Vec<u8>,
    ) -> Self {
        let mut env =
            Self { protocol: protocol.to_owned(), session, round, kind, recipient, payload, signature: [0u8; 64] };
        env.resign(key, sender);
        env
    }

    /// Signs the envelope again (after a change) as `sender`.
    pub fn resign(&mut self, key: &IdentityKey, sender: PartyIndex) {
        let statement = self.statement(sender);
        self.signature = key.sign(&statement.signing_bytes());
    }

    /// The statement this envelope's signature is about, given the authenticated sender.
    pub fn statement(&self, sender: PartyIndex) -> SignedStatement {
        SignedStatement {
            protocol: self.protocol.clone(),
            session: self.session,
            round: self.round,
            kind: self.kind,
            sender,
            recipient: self.recipient,
            digest: payload_digest(&self.payload),
            signature: self.signature,
        }
    }
}

impl Encode for Envelope {
    fn encode(&self, w: &mut Writer) {
        w.u8(ENVELOPE_VERSION)
            .bytes(self.protocol.as_bytes())
            .fixed(&self.session.0)
            .u16(self.round.0)
            .u8(self.kind.tag());
        match self.recipient {
            Some(r) => w.u8(1).u16(r.0),
            None => w.u8(0),
        };
        w.bytes(&self.payload).fixed(&self.signature);
    }
}

impl Decode for Envelope {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u8()?;
        if version != ENVELOPE_VERSION {
            return Err(DecodeError::UnknownTag { what: "envelope version", tag: version });
        }
        let protocol = decode_protocol(r)?;
        let session = SessionId(r.array()?);
        let round = RoundId(r.u16()?);
        let kind = MessageKind::from_tag(r.u8()?)?;
        let recipient = decode_recipient(r, kind)?;
        let payload = r.bytes("payload", MAX_BYTES)?.to_vec();
        Ok(Self { protocol, session, round, kind, recipient, payload, signature: r.array()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn sign_verify_roundtrip() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let key = IdentityKey::generate(&mut rng);
        let env = Envelope::sign(
            &key,
            PartyIndex(3),
            "p",
            SessionId([7; 32]),
            RoundId(2),
            MessageKind::Direct,
            Some(PartyIndex(1)),
            b"hello".to_vec(),
        );
        let back = Envelope::from_bytes(&env.to_bytes()).unwrap();
        assert_eq!(back, env);
        let st = back.statement(PartyIndex(3));
        assert!(st.verify(&key.public()));
        assert!(st.matches_payload(b"hello"));
        // Another claimed sender, another key: the signature does not verify.
        assert!(!back.statement(PartyIndex(2)).verify(&key.public()));
        let other = IdentityKey::generate(&mut rng);
        assert!(!st.verify(&other.public()));
        assert_eq!(SignedStatement::from_bytes(&st.to_bytes()).unwrap(), st);
    }

    #[test]
    fn recipient_must_match_kind() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let key = IdentityKey::generate(&mut rng);
        let mut env = Envelope::sign(
            &key,
            PartyIndex(0),
            "p",
            SessionId([0; 32]),
            RoundId(1),
            MessageKind::Broadcast,
            None,
            vec![],
        );
        env.recipient = Some(PartyIndex(1));
        assert!(Envelope::from_bytes(&env.to_bytes()).is_err());
    }

    proptest! {
        #[test]
        fn envelope_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = Envelope::from_bytes(&bytes);
            let _ = SignedStatement::from_bytes(&bytes);
        }
    }
}
