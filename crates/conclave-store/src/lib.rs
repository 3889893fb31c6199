//! Encrypted, transactional storage for a Conclave node.
//!
//! * [`Store`]: the interface the node codes against — records by kind and id, an atomic
//!   batch, a durable single-use [`Store::take`] for presignatures, durable monotonic
//!   counters.
//! * [`RedbStore`]: the default backend, one [redb](https://docs.rs/redb) file per node.
//! * [`MasterKey`]: the 32-byte key the record key is derived from; never stored in the file.
//! * [`format`]: the on-disk format (also described in `docs/store.md`).
//!
//! Every record value is sealed with XChaCha20-Poly1305 (fresh random 24-byte nonce per
//! write) under a key derived by HKDF-SHA256 from the master key and a random per-store salt,
//! with associated data binding the format version, the owner (the node's identity), the kind
//! and the id: a record copied from another node's file, or moved to another id or kind, is
//! refused with [`StoreError::RecordAuthentication`]. Every commit is durable (fsync,
//! two-phase) before the call returns. Plaintext buffers are zeroized.
//!
//! Record ids, kinds and counter names are stored in clear: they must not be secret.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

mod error;
pub mod format;
mod kind;
mod master_key;
mod overlay;
mod redb_store;

pub use error::StoreError;
pub use kind::{Op, RecordKind};
pub use master_key::{MasterKey, MASTER_KEY_LEN};
pub use redb_store::RedbStore;

use zeroize::Zeroizing;

/// The node's store. Every mutating call is durable when it returns `Ok`.
///
/// Ids are at most [`format::MAX_ID_LEN`] bytes and not empty; plaintexts at most
/// [`format::MAX_PLAINTEXT_LEN`] bytes. Ids, kinds and counter names are not encrypted.
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Inserts a new record; `Err(StoreError::AlreadyExists)` if the id exists or was ever
    /// taken. Durable on return.
    fn insert(&self, kind: RecordKind, id: &[u8], plaintext: &[u8]) -> Result<(), StoreError>;

    /// Inserts or replaces. Durable on return. An id that was taken can never be written again
    /// (`Err(StoreError::AlreadyExists)`).
    fn put(&self, kind: RecordKind, id: &[u8], plaintext: &[u8]) -> Result<(), StoreError>;

    /// The plaintext of a record, or `None` if absent (or taken).
    fn get(&self, kind: RecordKind, id: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError>;

    /// Ids of records of `kind` whose id starts with `prefix`, in byte order.
    fn list(&self, kind: RecordKind, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError>;

    /// Deletes a record; whether it existed. (No tombstone: use [`Store::take`] for
    /// single-use records.)
    fn delete(&self, kind: RecordKind, id: &[u8]) -> Result<bool, StoreError>;

    /// Single use: in ONE durable transaction removes the record and leaves a tombstone (the
    /// id can never be inserted again), committed to disk BEFORE the plaintext is returned.
    /// `Ok(None)` if absent or already taken. A record that fails authentication is not
    /// consumed (`Err(StoreError::RecordAuthentication)`).
    fn take(&self, kind: RecordKind, id: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError>;

    /// Applies all ops atomically, in order (e.g. activate a reshared key share and retire the
    /// old one). If any op is refused, none is applied.
    fn apply(&self, ops: Vec<Op>) -> Result<(), StoreError>;

    /// Durable monotonic counter per name: returns the next value (first call 1); the
    /// increment is committed before return, so values are never reused across restarts.
    fn next_counter(&self, name: &str) -> Result<u64, StoreError>;
}
