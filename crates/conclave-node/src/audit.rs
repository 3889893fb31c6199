//! The node's audit log: append-only, hash-chained, signed entries, one per decision.
//!
//! Each entry is one JSON line of `audit.log` in the data directory. Its `hash` is SHA-256 over a
//! length-prefixed encoding of (domain, seq, time, event, details, previous hash), and its
//! `signature` is the node's identity key's Ed25519 signature of that hash. So:
//!
//! - an **edited** entry no longer matches its hash (and a recomputed hash has no valid
//!   signature without the node's identity key);
//! - a **removed** or **reordered** entry breaks the sequence numbers and the chain of
//!   `prev_hash` values;
//! - a **truncated tail** is caught against the head (last sequence number and hash) that the node
//!   keeps in its encrypted, authenticated store and updates with every append.
//!
//! The node verifies the whole log when it starts and refuses to start if it does not verify;
//! `conclave audit verify --config node.toml` runs the same check offline.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use conclave_math::codec::Writer;
use conclave_protocol::{IdentityKey, IdentityPublicKey};
use conclave_store::{RecordKind, Store};
use sha2::{Digest, Sha256};

/// The store record holding the log's head.
const HEAD_ID: &[u8] = b"audit-head";
const DOMAIN: &str = "conclave/audit/v1";
const SIGNATURE_DOMAIN: &[u8] = b"conclave/audit-entry/v1";

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When (Unix milliseconds).
    pub unix_ms: u64,
    /// What happened: `node-started`, `request`, `joined`, `refused`, `aborted`, `failed`,
    /// `signature-released`, `key-created`, `aux-info-stored`, `presignature-stored`,
    /// `reshared`, `retired`.
    pub event: String,
    /// Public details (session id, key id, client, parties, culprits, reason; never secrets).
    pub details: BTreeMap<String, String>,
    /// Hex SHA-256 of the previous entry (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of this entry's canonical encoding.
    pub hash: String,
    /// Hex Ed25519 signature of `hash` by the node's identity key.
    pub signature: String,
}

fn entry_hash(seq: u64, unix_ms: u64, event: &str, details: &BTreeMap<String, String>, prev: &[u8; 32]) -> [u8; 32] {
    let mut w = Writer::new();
    w.bytes(DOMAIN.as_bytes()).u64(seq).u64(unix_ms).bytes(event.as_bytes()).len(details.len());
    for (k, v) in details {
        w.bytes(k.as_bytes()).bytes(v.as_bytes());
    }
    w.fixed(prev);
    Sha256::digest(w.into_bytes()).into()
}

fn signed_message(hash: &[u8; 32]) -> Vec<u8> {
    let mut m = SIGNATURE_DOMAIN.to_vec();
    m.extend_from_slice(hash);
    m
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok()?.try_into().ok()
}

/// Why a log does not verify: the first bad entry and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit log {path}: {problem}")]
pub struct AuditError {
    /// The log file.
    pub path: PathBuf,
    /// What is wrong (entry number, line, check).
    pub problem: String,
}

/// The result of a successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Entries checked.
    pub entries: u64,
    /// The last entry's hash (zeros for an empty log).
    pub head: [u8; 32],
}

/// Checks every line of the log at `path`: JSON shape, sequence, chain, hash and signature.
/// `expected_head`, if given, is the head the store recorded: the log must end exactly there.
pub fn verify_file(
    path: &Path,
    signer: &IdentityPublicKey,
    expected_head: Option<(u64, [u8; 32])>,
) -> Result<Verified, AuditError> {
    let err = |problem: String| AuditError { path: path.to_owned(), problem };
    let file = match std::fs::File::open(path) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(err(format!("cannot read: {e}"))),
    };
    let mut prev = [0u8; 32];
    let mut count = 0u64;
    if let Some(file) = file {
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line_no = i + 1;
            let line = line.map_err(|e| err(format!("line {line_no}: cannot read: {e}")))?;
            let e: AuditEntry =
                serde_json::from_str(&line).map_err(|e| err(format!("line {line_no}: not an audit entry: {e}")))?;
            let expected_seq = count + 1;
            if e.seq != expected_seq {
                return Err(err(format!(
                    "line {line_no}: entry {} where {expected_seq} was expected (an entry was removed or reordered)",
                    e.seq
                )));
            }
            if hex32(&e.prev_hash) != Some(prev) {
                return Err(err(format!("entry {}: its previous hash does not match entry {}", e.seq, count)));
            }
            let hash = entry_hash(e.seq, e.unix_ms, &e.event, &e.details, &prev);
            if hex32(&e.hash) != Some(hash) {
                return Err(err(format!("entry {}: its content does not match its hash (edited)", e.seq)));
            }
            let sig: Option<[u8; 64]> = hex::decode(&e.signature).ok().and_then(|b| b.try_into().ok());
            if !sig.is_some_and(|s| signer.verify(&signed_message(&hash), &s)) {
                return Err(err(format!("entry {}: the node's signature does not verify", e.seq)));
            }
            prev = hash;
            count = e.seq;
        }
    }
    if let Some((seq, head)) = expected_head {
        if seq != count || head != prev {
            return Err(err(format!(
                "the log ends at entry {count} but the node's store recorded entry {seq} as the last \
                 (entries were removed from the end, or the log was replaced)"
            )));
        }
    }
    Ok(Verified { entries: count, head: prev })
}

/// Reads the head recorded in the store.
pub fn stored_head(store: &dyn Store) -> Result<Option<(u64, [u8; 32])>, String> {
    let Some(b) = store.get(RecordKind::KeyMeta, HEAD_ID).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    if b.len() != 40 {
        return Err("malformed audit head record".into());
    }
    let (seq, hash) = b.split_at(8);
    let seq = u64::from_be_bytes(seq.try_into().map_err(|_| "audit head")?);
    Ok(Some((seq, hash.try_into().map_err(|_| "audit head")?)))
}

struct Head {
    seq: u64,
    hash: [u8; 32],
    file: std::fs::File,
}

/// An open audit log (the node's writer).
pub struct AuditLog {
    path: PathBuf,
    head: Mutex<Head>,
}

impl core::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuditLog").field("path", &self.path).finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens (or creates) the log in `dir`, verifying it completely against the head kept in
    /// `store`. A log that does not verify is an error: the node does not start on it.
    pub fn open(dir: &Path, signer: &IdentityPublicKey, store: &dyn Store) -> Result<Self, AuditError> {
        let path = dir.join("audit.log");
        let head = stored_head(store).map_err(|problem| AuditError { path: path.clone(), problem })?;
        // A head of 0 entries is the same as no head.
        let verified = verify_file(&path, signer, head.or(Some((0, [0; 32]))))?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| AuditError { path: path.clone(), problem: format!("cannot open for appending: {e}") })?;
        Ok(Self { path, head: Mutex::new(Head { seq: verified.entries, hash: verified.head, file }) })
    }

    /// Appends one entry: written and synced to the file, then the head is updated in the store.
    /// (A crash between the two leaves one entry past the stored head; the next start reports it.)
    pub fn append(
        &self,
        identity: &IdentityKey,
        store: &dyn Store,
        event: &str,
        details: BTreeMap<String, String>,
    ) -> Result<u64, String> {
        let mut head = self.head.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let seq = head.seq + 1;
        let unix_ms = crate::node::unix_ms();
        let hash = entry_hash(seq, unix_ms, event, &details, &head.hash);
        let entry = AuditEntry {
            seq,
            unix_ms,
            event: event.to_owned(),
            details,
            prev_hash: hex::encode(head.hash),
            hash: hex::encode(hash),
            signature: hex::encode(identity.sign(&signed_message(&hash))),
        };
        let mut line = serde_json::to_string(&entry).map_err(|e| format!("audit entry: {e}"))?;
        line.push('\n');
        head.file.write_all(line.as_bytes()).map_err(|e| format!("{}: {e}", self.path.display()))?;
        head.file.sync_data().map_err(|e| format!("{}: {e}", self.path.display()))?;
        let mut rec = seq.to_be_bytes().to_vec();
        rec.extend_from_slice(&hash);
        store.put(RecordKind::KeyMeta, HEAD_ID, &rec).map_err(|e| format!("audit head: {e}"))?;
        head.seq = seq;
        head.hash = hash;
        Ok(seq)
    }

    /// Entries from `from_seq` (1-based), at most `limit`.
    pub fn read(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, String> {
        // Hold the lock so that no half-written line is read.
        let _head = self.head.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let file = std::fs::File::open(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
        let mut out = Vec::new();
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|e| e.to_string())?;
            let e: AuditEntry = serde_json::from_str(&line).map_err(|e| e.to_string())?;
            if e.seq >= from_seq {
                out.push(e);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }
}

/// Builds a details map from pairs.
pub(crate) fn details<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_store::{MasterKey, RedbStore};
    use rand_core::OsRng;

    fn setup() -> (tempfile::TempDir, IdentityKey, RedbStore) {
        let dir = tempfile::tempdir().unwrap();
        let id = IdentityKey::generate(&mut OsRng);
        let store = RedbStore::open(&dir.path().join("s.redb"), &MasterKey::generate(&mut OsRng), b"owner").unwrap();
        (dir, id, store)
    }

    fn write_entries(dir: &Path, id: &IdentityKey, store: &RedbStore, n: u64) {
        let log = AuditLog::open(dir, &id.public(), store).unwrap();
        for i in 0..n {
            log.append(id, store, "request", details([("n", i.to_string())])).unwrap();
        }
    }

    fn lines(dir: &Path) -> Vec<String> {
        std::fs::read_to_string(dir.join("audit.log")).unwrap().lines().map(str::to_owned).collect()
    }

    fn rewrite(dir: &Path, lines: &[String]) {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(dir.join("audit.log"), text).unwrap();
    }

    #[test]
    fn a_clean_log_verifies_and_reopens() {
        let (dir, id, store) = setup();
        write_entries(dir.path(), &id, &store, 5);
        let head = stored_head(&store).unwrap();
        assert_eq!(verify_file(&dir.path().join("audit.log"), &id.public(), head).unwrap().entries, 5);
        write_entries(dir.path(), &id, &store, 2);
        let log = AuditLog::open(dir.path(), &id.public(), &store).unwrap();
        let all = log.read(1, 100).unwrap();
        assert_eq!(all.len(), 7);
        assert_eq!(log.read(6, 1).unwrap()[0].seq, 6);
    }

    #[test]
    fn edits_removals_reorders_and_truncation_are_detected() {
        let (dir, id, store) = setup();
        write_entries(dir.path(), &id, &store, 4);
        let orig = lines(dir.path());
        let path = dir.path().join("audit.log");
        let head = stored_head(&store).unwrap();
        let check = |l: &[String]| {
            rewrite(dir.path(), l);
            verify_file(&path, &id.public(), head).unwrap_err().problem
        };
        let mut edited = orig.clone();
        edited[1] = edited[1].replace("\"n\":\"1\"", "\"n\":\"9\"");
        assert!(check(&edited).contains("edited"));
        let mut removed = orig.clone();
        removed.remove(1);
        assert!(check(&removed).contains("removed or reordered"));
        let mut reordered = orig.clone();
        reordered.swap(1, 2);
        assert!(check(&reordered).contains("removed or reordered"));
        assert!(check(&orig[..3]).contains("removed from the end"));
        // The node refuses to start on a bad log.
        rewrite(dir.path(), &edited);
        assert!(AuditLog::open(dir.path(), &id.public(), &store).is_err());
        // Another key's signature does not verify.
        rewrite(dir.path(), &orig);
        let other = IdentityKey::generate(&mut OsRng);
        assert!(verify_file(&path, &other.public(), head).unwrap_err().problem.contains("signature"));
        assert!(verify_file(&path, &id.public(), head).is_ok());
    }
}
