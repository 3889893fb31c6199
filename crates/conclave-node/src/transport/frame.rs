//! The peer wire format: one binary, versioned, length-prefixed frame per message.
//!
//! ```text
//! offset  size  field
//!      0     1  version      = FRAME_VERSION (1)
//!      1     1  channel      1 = Control, 2 = Protocol
//!      2    32  session id
//!     34     2  round        big-endian u16
//!     36     4  payload len  big-endian u32, at most the receiver's `max_frame_bytes`
//!     40     …  payload
//! ```
//!
//! The header is checked completely (version, channel, length against the bound) before a single
//! byte of payload is allocated.

use core::fmt;

use conclave_protocol::SessionId;

/// Version byte of the frame header this build speaks.
pub const FRAME_VERSION: u8 = 1;

/// Length of the fixed frame header in bytes.
pub const HEADER_LEN: usize = 40;

const CHANNEL_CONTROL: u8 = 1;
const CHANNEL_PROTOCOL: u8 = 2;

/// Which kind of traffic a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Session management between nodes (proposals, joins, refusals).
    Control,
    /// Messages of a running protocol (keygen, presign, sign, …).
    Protocol,
}

impl Channel {
    /// The channel's byte on the wire.
    pub fn to_byte(self) -> u8 {
        match self {
            Channel::Control => CHANNEL_CONTROL,
            Channel::Protocol => CHANNEL_PROTOCOL,
        }
    }

    /// Parses the channel byte.
    pub fn from_byte(b: u8) -> Result<Self, FrameError> {
        match b {
            CHANNEL_CONTROL => Ok(Channel::Control),
            CHANNEL_PROTOCOL => Ok(Channel::Protocol),
            other => Err(FrameError::BadChannel(other)),
        }
    }
}

/// One message between two nodes, bound to a session and a round.
///
/// `Debug` prints the payload's length only: payloads can carry protocol data that must not end
/// up in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// Control or protocol traffic.
    pub channel: Channel,
    /// The session the frame belongs to.
    pub session: SessionId,
    /// The round within the session.
    pub round: u16,
    /// The message itself (opaque to the transport).
    pub payload: Vec<u8>,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("channel", &self.channel)
            .field("session", &self.session)
            .field("round", &self.round)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// Why bytes are not a valid frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The version byte is not [`FRAME_VERSION`].
    #[error("unsupported frame version {0} (this node speaks {FRAME_VERSION})")]
    BadVersion(u8),
    /// The channel byte names no channel.
    #[error("unknown channel byte {0}")]
    BadChannel(u8),
    /// The announced payload length exceeds the bound.
    #[error("frame payload of {len} bytes exceeds the limit of {max} bytes")]
    Oversized {
        /// Announced (or attempted) payload length.
        len: u64,
        /// The bound in force.
        max: u64,
    },
    /// Fewer bytes than the header announces.
    #[error("truncated frame: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes a complete frame needs.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
}

/// A validated frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// The frame's channel.
    pub channel: Channel,
    /// The frame's session.
    pub session: SessionId,
    /// The frame's round.
    pub round: u16,
    /// Payload length in bytes; at most the `max_payload` the header was decoded with.
    pub payload_len: usize,
}

impl FrameHeader {
    /// Parses and validates a header. `max_payload` is the largest payload accepted; the length
    /// is checked against it here, before anyone allocates the payload.
    pub fn decode(bytes: &[u8; HEADER_LEN], max_payload: usize) -> Result<Self, FrameError> {
        let [version, channel, rest @ ..] = bytes;
        if *version != FRAME_VERSION {
            return Err(FrameError::BadVersion(*version));
        }
        let channel = Channel::from_byte(*channel)?;
        let (session, rest) = split_array::<32>(rest)?;
        let (round, rest) = split_array::<2>(rest)?;
        let (len, _) = split_array::<4>(rest)?;
        let len = u32::from_be_bytes(len);
        let max = max_payload.min(u32::MAX as usize);
        let payload_len =
            usize::try_from(len).map_err(|_| FrameError::Oversized { len: len.into(), max: max as u64 })?;
        if payload_len > max {
            return Err(FrameError::Oversized { len: len.into(), max: max as u64 });
        }
        Ok(FrameHeader { channel, session: SessionId(session), round: u16::from_be_bytes(round), payload_len })
    }

    /// Encodes the header.
    pub fn encode(&self) -> Result<[u8; HEADER_LEN], FrameError> {
        let len = u32::try_from(self.payload_len)
            .map_err(|_| FrameError::Oversized { len: self.payload_len as u64, max: u32::MAX.into() })?;
        let mut out = [0u8; HEADER_LEN];
        let mut w = out.iter_mut();
        let bytes = [FRAME_VERSION, self.channel.to_byte()]
            .into_iter()
            .chain(self.session.0)
            .chain(self.round.to_be_bytes())
            .chain(len.to_be_bytes());
        for (slot, b) in (&mut w).zip(bytes) {
            *slot = b;
        }
        Ok(out)
    }
}

fn split_array<const N: usize>(bytes: &[u8]) -> Result<([u8; N], &[u8]), FrameError> {
    let (head, rest) =
        bytes.split_at_checked(N).ok_or(FrameError::Truncated { needed: N as u64, available: bytes.len() as u64 })?;
    let head: [u8; N] =
        head.try_into().map_err(|_| FrameError::Truncated { needed: N as u64, available: bytes.len() as u64 })?;
    Ok((head, rest))
}

impl Frame {
    /// The frame's header.
    pub fn header(&self) -> FrameHeader {
        FrameHeader { channel: self.channel, session: self.session, round: self.round, payload_len: self.payload.len() }
    }

    /// Size of the frame on the wire (header plus payload).
    pub fn wire_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.payload.len())
    }

    /// Encodes the frame (header and payload). Fails only for a payload longer than `u32::MAX`.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let header = self.header().encode()?;
        let mut out = Vec::with_capacity(self.wire_len());
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.payload);
        Ok(out)
    }

    /// Decodes one frame from the start of `bytes`, accepting payloads of at most `max_payload`
    /// bytes. Returns the frame and the number of bytes it took. Never panics and never allocates
    /// more than the validated payload length.
    pub fn decode(bytes: &[u8], max_payload: usize) -> Result<(Frame, usize), FrameError> {
        let (header, rest) = split_array::<HEADER_LEN>(bytes)?;
        let header = FrameHeader::decode(&header, max_payload)?;
        let payload = rest.get(..header.payload_len).ok_or(FrameError::Truncated {
            needed: (HEADER_LEN as u64).saturating_add(header.payload_len as u64),
            available: bytes.len() as u64,
        })?;
        let frame =
            Frame { channel: header.channel, session: header.session, round: header.round, payload: payload.to_vec() };
        Ok((frame, HEADER_LEN.saturating_add(header.payload_len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Frame {
        Frame { channel: Channel::Protocol, session: SessionId([7; 32]), round: 0x0102, payload: b"hello".to_vec() }
    }

    #[test]
    fn layout_is_as_documented() {
        let bytes = sample().encode().unwrap();
        assert_eq!(bytes.len(), HEADER_LEN + 5);
        assert_eq!(bytes[0], FRAME_VERSION);
        assert_eq!(bytes[1], 2);
        assert_eq!(&bytes[2..34], &[7u8; 32]);
        assert_eq!(&bytes[34..36], &[1, 2]);
        assert_eq!(&bytes[36..40], &[0, 0, 0, 5]);
        assert_eq!(&bytes[40..], b"hello");
    }

    #[test]
    fn round_trip() {
        let f = sample();
        let mut bytes = f.encode().unwrap();
        bytes.extend_from_slice(b"next");
        let (g, used) = Frame::decode(&bytes, 1024).unwrap();
        assert_eq!(f, g);
        assert_eq!(used, HEADER_LEN + 5);
    }

    #[test]
    fn rejects_bad_header_fields() {
        let good = sample().encode().unwrap();
        let mut b = good.clone();
        b[0] = 2;
        assert_eq!(Frame::decode(&b, 1024), Err(FrameError::BadVersion(2)));
        let mut b = good.clone();
        b[1] = 0;
        assert_eq!(Frame::decode(&b, 1024), Err(FrameError::BadChannel(0)));
        assert_eq!(Frame::decode(&good, 4), Err(FrameError::Oversized { len: 5, max: 4 }));
        assert!(matches!(Frame::decode(&good[..44], 1024), Err(FrameError::Truncated { .. })));
        assert!(matches!(Frame::decode(&good[..10], 1024), Err(FrameError::Truncated { .. })));
    }

    #[test]
    fn huge_length_is_rejected_before_allocation() {
        let mut b = sample().encode().unwrap();
        b[36..40].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(Frame::decode(&b, 16 << 20), Err(FrameError::Oversized { len: u32::MAX.into(), max: 16 << 20 }));
    }

    #[test]
    fn debug_hides_payload() {
        let s = format!("{:?}", sample());
        assert!(s.contains("payload_len: 5"));
        assert!(!s.contains("104")); // 'h'
    }
}
