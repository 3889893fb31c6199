//! Identifiers: parties, party sets, sessions, rounds.

use core::fmt;

use conclave_math::codec::{Decode, Encode, Reader, Writer, MAX_SEQUENCE};
use conclave_math::DecodeError;
use rand_core::CryptoRngCore;

/// A party's 0-based index in its key's party set. Its Shamir x-coordinate is `index + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartyIndex(pub u16);

impl fmt::Display for PartyIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "party {}", self.0)
    }
}

impl Encode for PartyIndex {
    fn encode(&self, w: &mut Writer) {
        w.u16(self.0);
    }
}

impl Decode for PartyIndex {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.u16()?))
    }
}

/// Why a set of parties is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartySetError {
    /// No party at all.
    #[error("a party set needs at least one party")]
    Empty,
    /// The same index twice.
    #[error("{0} appears twice")]
    Duplicate(PartyIndex),
    /// More parties than Conclave supports.
    #[error("{0} parties exceed the limit of {MAX_SEQUENCE}")]
    TooMany(usize),
}

/// A non-empty, sorted set of distinct parties (at most [`MAX_SEQUENCE`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartySet(Vec<PartyIndex>);

impl PartySet {
    /// Builds a set; rejects empty input and duplicates. The order of `parties` is irrelevant.
    pub fn new(parties: impl IntoIterator<Item = PartyIndex>) -> Result<Self, PartySetError> {
        let mut v: Vec<PartyIndex> = parties.into_iter().collect();
        if v.is_empty() {
            return Err(PartySetError::Empty);
        }
        if v.len() > MAX_SEQUENCE {
            return Err(PartySetError::TooMany(v.len()));
        }
        v.sort();
        if let Some(w) = v.windows(2).find(|w| w.first() == w.get(1)) {
            return Err(PartySetError::Duplicate(w.first().copied().unwrap_or(PartyIndex(0))));
        }
        Ok(Self(v))
    }

    /// The parties `0..n`.
    pub fn range(n: u16) -> Result<Self, PartySetError> {
        Self::new((0..n).map(PartyIndex))
    }

    /// Number of parties.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a party set is never empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `p` belongs to the set.
    pub fn contains(&self, p: PartyIndex) -> bool {
        self.0.binary_search(&p).is_ok()
    }

    /// Position of `p` in the sorted set.
    pub fn position(&self, p: PartyIndex) -> Option<usize> {
        self.0.binary_search(&p).ok()
    }

    /// The parties in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = PartyIndex> + '_ {
        self.0.iter().copied()
    }

    /// The parties other than `me`, in ascending order.
    pub fn others(&self, me: PartyIndex) -> impl Iterator<Item = PartyIndex> + '_ {
        self.0.iter().copied().filter(move |p| *p != me)
    }

    /// The parties as a slice.
    pub fn as_slice(&self) -> &[PartyIndex] {
        &self.0
    }

    /// The raw indices, as bound into transcripts.
    pub fn to_u16s(&self) -> Vec<u16> {
        self.0.iter().map(|p| p.0).collect()
    }
}

impl Encode for PartySet {
    fn encode(&self, w: &mut Writer) {
        w.len(self.0.len());
        for p in &self.0 {
            w.u16(p.0);
        }
    }
}

impl Decode for PartySet {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.len("party set", MAX_SEQUENCE, 2)?;
        let v = (0..n).map(|_| r.u16().map(PartyIndex)).collect::<Result<Vec<_>, _>>()?;
        if v.windows(2).any(|w| w.first() >= w.get(1)) {
            return Err(DecodeError::Invalid { what: "party set", reason: "not strictly ascending" });
        }
        PartySet::new(v).map_err(|_| DecodeError::Invalid { what: "party set", reason: "empty" })
    }
}

/// A 32-byte session id. Every run of every protocol has a fresh one that all parties agree on
/// before it starts; it is bound into every signature and every proof.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub [u8; 32]);

impl SessionId {
    /// A uniformly random session id.
    pub fn random(rng: &mut dyn CryptoRngCore) -> Self {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        Self(b)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", hex::encode(self.0))
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// A protocol round. Rounds of one protocol are numbered 1, 2, 3, …
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoundId(pub u16);

impl fmt::Display for RoundId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "round {}", self.0)
    }
}
