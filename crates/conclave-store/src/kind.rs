//! Record kinds and batch operations.

use core::fmt;

use zeroize::Zeroizing;

/// What a record holds. Each kind has a stable one-byte tag, bound into every record's header
/// and associated data, so a record cannot be read back as another kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RecordKind {
    /// An active key share (tag 1).
    KeyShare,
    /// Auxiliary information: our Paillier key and the group's public parameters (tag 2).
    AuxInfo,
    /// A single-use presignature; read it with [`crate::Store::take`] (tag 3).
    Presignature,
    /// A key share produced by a reshare that is not yet active (tag 4).
    PendingKeyShare,
    /// A key share replaced by a reshare or refresh, kept until it is safe to delete (tag 5).
    RetiredKeyShare,
    /// Public metadata about a key (tag 6).
    KeyMeta,
    /// A session's log entry (tag 7).
    SessionLog,
    /// The node's pool of safe primes for its next Paillier keys (tag 8).
    SafePrimes,
}

impl RecordKind {
    /// Every kind, in tag order.
    pub const ALL: [RecordKind; 8] = [
        RecordKind::KeyShare,
        RecordKind::AuxInfo,
        RecordKind::Presignature,
        RecordKind::PendingKeyShare,
        RecordKind::RetiredKeyShare,
        RecordKind::KeyMeta,
        RecordKind::SessionLog,
        RecordKind::SafePrimes,
    ];

    /// The stable tag of this kind (1…8; tags from 0xf0 are reserved for the store itself).
    pub const fn tag(self) -> u8 {
        match self {
            RecordKind::KeyShare => 1,
            RecordKind::AuxInfo => 2,
            RecordKind::Presignature => 3,
            RecordKind::PendingKeyShare => 4,
            RecordKind::RetiredKeyShare => 5,
            RecordKind::KeyMeta => 6,
            RecordKind::SessionLog => 7,
            RecordKind::SafePrimes => 8,
        }
    }

    /// Inverse of [`RecordKind::tag`].
    pub fn from_tag(tag: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.tag() == tag)
    }

    /// A lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            RecordKind::KeyShare => "key-share",
            RecordKind::AuxInfo => "aux-info",
            RecordKind::Presignature => "presignature",
            RecordKind::PendingKeyShare => "pending-key-share",
            RecordKind::RetiredKeyShare => "retired-key-share",
            RecordKind::KeyMeta => "key-meta",
            RecordKind::SessionLog => "session-log",
            RecordKind::SafePrimes => "safe-primes",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One operation of an atomic batch ([`crate::Store::apply`]).
///
/// `Debug` shows kinds and ids only, never plaintext.
pub enum Op {
    /// Inserts or replaces a record (refused if the id was taken).
    Put {
        /// The kind.
        kind: RecordKind,
        /// The id.
        id: Vec<u8>,
        /// The plaintext (zeroized on drop).
        plaintext: Zeroizing<Vec<u8>>,
    },
    /// Deletes a record if present.
    Delete {
        /// The kind.
        kind: RecordKind,
        /// The id.
        id: Vec<u8>,
    },
    /// Inserts a new record; the whole batch fails with
    /// [`crate::StoreError::AlreadyExists`] if the id exists or was taken.
    Insert {
        /// The kind.
        kind: RecordKind,
        /// The id.
        id: Vec<u8>,
        /// The plaintext (zeroized on drop).
        plaintext: Zeroizing<Vec<u8>>,
    },
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (op, kind, id, len) = match self {
            Op::Put { kind, id, plaintext } => ("Put", kind, id, Some(plaintext.len())),
            Op::Insert { kind, id, plaintext } => ("Insert", kind, id, Some(plaintext.len())),
            Op::Delete { kind, id } => ("Delete", kind, id, None),
        };
        let mut s = f.debug_struct(op);
        s.field("kind", kind).field("id", &hex::encode(id));
        if let Some(len) = len {
            s.field("plaintext_len", &len);
        }
        s.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_stable_and_invertible() {
        let tags: Vec<u8> = RecordKind::ALL.iter().map(|k| k.tag()).collect();
        assert_eq!(tags, [1, 2, 3, 4, 5, 6, 7, 8]);
        for k in RecordKind::ALL {
            assert_eq!(RecordKind::from_tag(k.tag()), Some(k));
        }
        assert_eq!(RecordKind::from_tag(0), None);
        assert_eq!(RecordKind::from_tag(0xf0), None);
    }

    #[test]
    fn op_debug_hides_plaintext() {
        let op =
            Op::Put { kind: RecordKind::KeyShare, id: b"k".to_vec(), plaintext: Zeroizing::new(b"SECRET".to_vec()) };
        let shown = format!("{op:?}");
        assert!(!shown.contains("SECRET") && !shown.contains(&hex::encode(b"SECRET")), "{shown}");
    }
}
