//! The error type of the store. No variant ever carries secret bytes, plaintext or key
//! material: only kinds, ids (public), paths, variable names and static descriptions.

use std::path::PathBuf;

use crate::kind::RecordKind;

/// Everything that can go wrong with the store or the master key.
///
/// Classes (DESIGN.md §5): the caller's mistake ([`StoreError::InvalidInput`],
/// [`StoreError::AlreadyExists`], the master-key variants), a wrong or tampered file
/// ([`StoreError::WrongMasterKey`], [`StoreError::WrongOwner`],
/// [`StoreError::RecordAuthentication`], [`StoreError::NotAStore`], …), the environment
/// ([`StoreError::Io`], [`StoreError::Database`], [`StoreError::Rng`]) and our own fault
/// ([`StoreError::Bug`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A master key given as text is not 64 hex digits.
    #[error("invalid master key: {reason}")]
    InvalidMasterKey {
        /// What is wrong (never the content).
        reason: &'static str,
    },
    /// The master-key file could not be read or does not hold a key.
    #[error("master key file {}: {reason}", path.display())]
    MasterKeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong (an I/O error or a format problem; never the content).
        reason: String,
    },
    /// The master-key environment variable is unset or does not hold a key.
    #[error("master key variable {var}: {reason}")]
    MasterKeyEnv {
        /// The variable's name.
        var: String,
        /// What is wrong (never the value).
        reason: &'static str,
    },
    /// The store's key check failed: this is not the master key the store was created with
    /// (or the file's key-check data was altered). Nothing was written.
    #[error("wrong master key for this store (the key check failed)")]
    WrongMasterKey,
    /// The store file belongs to another node (another owner). Nothing was written.
    #[error("the store file belongs to another node")]
    WrongOwner,
    /// `insert` (or a `put`) of an id that exists, or that was taken and may never be
    /// written again.
    #[error("the record already exists or was taken")]
    AlreadyExists,
    /// A stored record does not authenticate under its kind and id for this node: it was
    /// altered, copied from another node's store, or moved to another id or kind.
    #[error("record {kind} {id_hex} failed authentication (altered, or copied from elsewhere)")]
    RecordAuthentication {
        /// The record's kind.
        kind: RecordKind,
        /// The record's id, in hex.
        id_hex: String,
    },
    /// A stored counter does not authenticate for this node.
    #[error("counter {name:?} failed authentication")]
    CounterAuthentication {
        /// The counter's name.
        name: String,
    },
    /// A counter reached `u64::MAX`.
    #[error("counter {name:?} is exhausted")]
    CounterExhausted {
        /// The counter's name.
        name: String,
    },
    /// An argument is out of range (empty or over-long id, owner or name; over-long record).
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: &'static str,
    },
    /// The file exists but is not a Conclave store (or its metadata is damaged).
    #[error("{} is not a Conclave store: {reason}", path.display())]
    NotAStore {
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: &'static str,
    },
    /// The store was written by a format version this build does not know.
    #[error("unsupported store format version {found} (this build reads version {supported})")]
    UnsupportedFormat {
        /// The version in the file.
        found: u8,
        /// The version this build reads and writes.
        supported: u8,
    },
    /// Another process (or another handle in this process) has the store open.
    #[error("{} is already open", path.display())]
    AlreadyOpen {
        /// The file.
        path: PathBuf,
    },
    /// A file-system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The embedded database reported an error.
    #[error("database error during {op}: {message}")]
    Database {
        /// What the store was doing.
        op: &'static str,
        /// The database's description of the error (it never sees plaintext).
        message: String,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Rng,
    /// An internal invariant failed: a bug in this crate.
    #[error("internal error: {0}")]
    Bug(&'static str),
}

impl StoreError {
    /// An error of the embedded database during `op`.
    pub(crate) fn database<E: Into<redb::Error>>(op: &'static str) -> impl FnOnce(E) -> StoreError {
        move |e| StoreError::Database { op, message: e.into().to_string() }
    }
}
