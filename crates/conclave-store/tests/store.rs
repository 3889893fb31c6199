//! Behaviour of the redb store: round trips, insert-once, single-use take (across reopening),
//! atomic batches, counters, wrong key and wrong owner (file untouched), transplanted records,
//! no plaintext in the file, redacted `Debug`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use conclave_store::format::{RECORDS_TABLE, TAKEN_TABLE};
use conclave_store::{MasterKey, Op, RecordKind, RedbStore, Store, StoreError};
use proptest::prelude::*;
use rand_core::SeedableRng;
use redb::TableDefinition;
use zeroize::Zeroizing;

const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new(RECORDS_TABLE);
const TAKEN: TableDefinition<&[u8], ()> = TableDefinition::new(TAKEN_TABLE);

const OWNER: &[u8] = b"node-a identity public key";
const OTHER_OWNER: &[u8] = b"node-b identity public key";

fn key(seed: u64) -> MasterKey {
    MasterKey::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

fn store_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn open(path: &Path, k: &MasterKey) -> RedbStore {
    RedbStore::open(path, k, OWNER).unwrap()
}

#[test]
fn round_trips_for_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir, "node.redb");
    let k = key(1);
    let s = open(&path, &k);
    for kind in RecordKind::ALL {
        let pt = format!("plaintext of {kind}").into_bytes();
        s.insert(kind, b"id-1", &pt).unwrap();
        assert_eq!(s.get(kind, b"id-1").unwrap().unwrap().as_slice(), pt.as_slice());
    }
    // Same id under different kinds are different records.
    assert_eq!(s.get(RecordKind::KeyShare, b"id-1").unwrap().unwrap().as_slice(), b"plaintext of key-share");
    assert_eq!(s.get(RecordKind::KeyShare, b"missing").unwrap(), None);
    // put replaces; empty plaintext is allowed.
    s.put(RecordKind::KeyMeta, b"id-1", b"").unwrap();
    assert_eq!(s.get(RecordKind::KeyMeta, b"id-1").unwrap().unwrap().as_slice(), b"");
    s.put(RecordKind::KeyMeta, b"id-2", b"new").unwrap();
    assert_eq!(s.get(RecordKind::KeyMeta, b"id-2").unwrap().unwrap().as_slice(), b"new");
    // Survives reopening.
    drop(s);
    let s = open(&path, &k);
    assert_eq!(s.get(RecordKind::SessionLog, b"id-1").unwrap().unwrap().as_slice(), b"plaintext of session-log");
    // delete
    assert!(s.delete(RecordKind::SessionLog, b"id-1").unwrap());
    assert!(!s.delete(RecordKind::SessionLog, b"id-1").unwrap());
    assert_eq!(s.get(RecordKind::SessionLog, b"id-1").unwrap(), None);
    // A deleted (not taken) id can be inserted again.
    s.insert(RecordKind::SessionLog, b"id-1", b"again").unwrap();
}

#[test]
fn bad_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let k = key(2);
    let s = open(&store_path(&dir, "s"), &k);
    assert!(matches!(s.insert(RecordKind::KeyShare, b"", b"x"), Err(StoreError::InvalidInput { .. })));
    assert!(matches!(s.get(RecordKind::KeyShare, &[0u8; 1025]), Err(StoreError::InvalidInput { .. })));
    assert!(matches!(s.next_counter(""), Err(StoreError::InvalidInput { .. })));
    assert!(matches!(RedbStore::open(&store_path(&dir, "t"), &k, b""), Err(StoreError::InvalidInput { .. })));
    // An empty or foreign file is not a store.
    std::fs::write(store_path(&dir, "empty"), b"").unwrap();
    assert!(matches!(RedbStore::open(&store_path(&dir, "empty"), &k, OWNER), Err(StoreError::NotAStore { .. })));
    std::fs::write(store_path(&dir, "junk"), vec![7u8; 5000]).unwrap();
    assert!(matches!(RedbStore::open(&store_path(&dir, "junk"), &k, OWNER), Err(StoreError::NotAStore { .. })));
    // A redb file that is not a Conclave store.
    redb::Database::create(store_path(&dir, "other.redb")).unwrap();
    assert!(matches!(RedbStore::open(&store_path(&dir, "other.redb"), &k, OWNER), Err(StoreError::NotAStore { .. })));
}

#[test]
fn second_handle_is_refused_while_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir, "s");
    let k = key(3);
    let s = open(&path, &k);
    assert!(matches!(RedbStore::open(&path, &k, OWNER), Err(StoreError::AlreadyOpen { .. })));
    drop(s);
    open(&path, &k);
}

#[test]
fn insert_twice_fails() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&store_path(&dir, "s"), &key(4));
    s.insert(RecordKind::KeyShare, b"k", b"one").unwrap();
    assert!(matches!(s.insert(RecordKind::KeyShare, b"k", b"two"), Err(StoreError::AlreadyExists)));
    assert_eq!(s.get(RecordKind::KeyShare, b"k").unwrap().unwrap().as_slice(), b"one");
}

#[test]
fn take_is_single_use_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir, "s");
    let k = key(5);
    let s = open(&path, &k);
    s.insert(RecordKind::Presignature, b"p1", b"presig one").unwrap();
    s.insert(RecordKind::Presignature, b"p2", b"presig two").unwrap();
    assert_eq!(s.take(RecordKind::Presignature, b"p1").unwrap().unwrap().as_slice(), b"presig one");
    assert_eq!(s.take(RecordKind::Presignature, b"p1").unwrap(), None);
    assert_eq!(s.get(RecordKind::Presignature, b"p1").unwrap(), None);
    assert!(matches!(s.insert(RecordKind::Presignature, b"p1", b"again"), Err(StoreError::AlreadyExists)));
    assert!(matches!(s.put(RecordKind::Presignature, b"p1", b"again"), Err(StoreError::AlreadyExists)));
    let batch = vec![Op::Put {
        kind: RecordKind::Presignature,
        id: b"p1".to_vec(),
        plaintext: Zeroizing::new(b"again".to_vec()),
    }];
    assert!(matches!(s.apply(batch), Err(StoreError::AlreadyExists)));
    // Taking an absent id is None and leaves nothing behind.
    assert_eq!(s.take(RecordKind::Presignature, b"never").unwrap(), None);
    s.insert(RecordKind::Presignature, b"never", b"now").unwrap();
    // The tombstone is per kind.
    s.insert(RecordKind::SessionLog, b"p1", b"log").unwrap();
    assert_eq!(s.list(RecordKind::Presignature, b"").unwrap(), vec![b"never".to_vec(), b"p2".to_vec()]);
    drop(s);
    let s = open(&path, &k);
    assert_eq!(s.take(RecordKind::Presignature, b"p1").unwrap(), None);
    assert_eq!(s.get(RecordKind::Presignature, b"p1").unwrap(), None);
    assert!(matches!(s.insert(RecordKind::Presignature, b"p1", b"again"), Err(StoreError::AlreadyExists)));
    assert_eq!(s.take(RecordKind::Presignature, b"p2").unwrap().unwrap().as_slice(), b"presig two");
    drop(s);
    let s = open(&path, &k);
    assert_eq!(s.take(RecordKind::Presignature, b"p2").unwrap(), None);
}

#[test]
fn restored_ciphertext_under_a_tombstone_is_never_handed_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir, "s");
    let k = key(6);
    let s = open(&path, &k);
    s.insert(RecordKind::Presignature, b"p", b"once").unwrap();
    drop(s);
    let sealed = raw_get(&path, RecordKind::Presignature, b"p").unwrap();
    let s = open(&path, &k);
    s.take(RecordKind::Presignature, b"p").unwrap().unwrap();
    drop(s);
    // Someone with write access puts the old ciphertext back (but keeps the tombstone).
    raw_put(&path, RecordKind::Presignature, b"p", &sealed);
    let s = open(&path, &k);
    assert_eq!(s.get(RecordKind::Presignature, b"p").unwrap(), None);
    assert_eq!(s.take(RecordKind::Presignature, b"p").unwrap(), None);
    assert!(s.list(RecordKind::Presignature, b"").unwrap().is_empty());
}

#[test]
fn list_by_prefix_in_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&store_path(&dir, "s"), &key(7));
    for id in [&b"key/b/2"[..], b"key/a/1", b"key/b/1", b"kez", b"key/", b"ke", &[b'k', b'e', b'y', b'/', 0xff]] {
        s.insert(RecordKind::KeyMeta, id, b"x").unwrap();
    }
    s.insert(RecordKind::KeyShare, b"key/a/9", b"x").unwrap();
    s.insert(RecordKind::SessionLog, b"key/a/8", b"x").unwrap();
    let ids = s.list(RecordKind::KeyMeta, b"key/").unwrap();
    let expect: Vec<Vec<u8>> =
        vec![b"key/".to_vec(), b"key/a/1".to_vec(), b"key/b/1".to_vec(), b"key/b/2".to_vec(), b"key/\xff".to_vec()];
    assert_eq!(ids, expect);
    assert_eq!(s.list(RecordKind::KeyMeta, b"key/b/").unwrap(), vec![b"key/b/1".to_vec(), b"key/b/2".to_vec()]);
    assert_eq!(s.list(RecordKind::KeyMeta, b"").unwrap().len(), 7);
    assert_eq!(s.list(RecordKind::KeyShare, b"").unwrap(), vec![b"key/a/9".to_vec()]);
    assert!(s.list(RecordKind::AuxInfo, b"").unwrap().is_empty());
    assert!(s.list(RecordKind::KeyMeta, b"nothing").unwrap().is_empty());
}

#[test]
fn apply_is_atomic() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir, "s");
    let k = key(8);
    let s = open(&path, &k);
    s.insert(RecordKind::KeyShare, b"key-1", b"old share").unwrap();
    s.insert(RecordKind::PendingKeyShare, b"key-1", b"new share").unwrap();
    s.insert(RecordKind::KeyShare, b"key-2", b"other").unwrap();
    // A batch whose last op is refused changes nothing.
    let failing = vec![
        Op::Delete { kind: RecordKind::KeyShare, id: b"key-1".to_vec() },
        Op::Put {
            kind: RecordKind::RetiredKeyShare,
            id: b"key-1".to_vec(),
            plaintext: Zeroizing::new(b"old".to_vec()),
        },
        Op::Insert { kind: RecordKind::KeyShare, id: b"key-2".to_vec(), plaintext: Zeroizing::new(b"dup".to_vec()) },
    ];
    assert!(matches!(s.apply(failing), Err(StoreError::AlreadyExists)));
    assert_eq!(s.get(RecordKind::KeyShare, b"key-1").unwrap().unwrap().as_slice(), b"old share");
    assert_eq!(s.get(RecordKind::RetiredKeyShare, b"key-1").unwrap(), None);
    assert_eq!(s.get(RecordKind::KeyShare, b"key-2").unwrap().unwrap().as_slice(), b"other");
    // An invalid id anywhere refuses the batch before anything is written.
    let invalid = vec![
        Op::Delete { kind: RecordKind::KeyShare, id: b"key-1".to_vec() },
        Op::Delete { kind: RecordKind::KeyShare, id: Vec::new() },
    ];
    assert!(matches!(s.apply(invalid), Err(StoreError::InvalidInput { .. })));
    assert!(s.get(RecordKind::KeyShare, b"key-1").unwrap().is_some());
    // Activation: retire the old share, activate the pending one, in one transaction.
    let old = s.get(RecordKind::KeyShare, b"key-1").unwrap().unwrap();
    let new = s.get(RecordKind::PendingKeyShare, b"key-1").unwrap().unwrap();
    s.apply(vec![
        Op::Put { kind: RecordKind::RetiredKeyShare, id: b"key-1".to_vec(), plaintext: old },
        Op::Put { kind: RecordKind::KeyShare, id: b"key-1".to_vec(), plaintext: new },
        Op::Delete { kind: RecordKind::PendingKeyShare, id: b"key-1".to_vec() },
    ])
    .unwrap();
    drop(s);
    let s = open(&path, &k);
    assert_eq!(s.get(RecordKind::KeyShare, b"key-1").unwrap().unwrap().as_slice(), b"new share");
    assert_eq!(s.get(RecordKind::RetiredKeyShare, b"key-1").unwrap().unwrap().as_slice(), b"old share");
    assert_eq!(s.get(RecordKind::PendingKeyShare, b"key-1").unwrap(), None);
    s.apply(Vec::new()).unwrap();
}

#[test]
fn counters_are_monotonic_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir, "s");
    let k = key(9);
    let s = open(&path, &k);
    assert_eq!(s.next_counter("session").unwrap(), 1);
    assert_eq!(s.next_counter("session").unwrap(), 2);
    assert_eq!(s.next_counter("other").unwrap(), 1);
    drop(s);
    let s = open(&path, &k);
    assert_eq!(s.next_counter("session").unwrap(), 3);
    assert_eq!(s.next_counter("other").unwrap(), 2);
    let values: Vec<u64> = (0..20).map(|_| s.next_counter("session").unwrap()).collect();
    assert!(values.windows(2).all(|w| w[1] == w[0] + 1));
    assert_eq!(values[0], 4);
}

#[test]
fn wrong_master_key_is_refused_and_file_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir, "s");
    let k = key(10);
    let s = open(&path, &k);
    s.insert(RecordKind::KeyShare, b"k", b"share").unwrap();
    drop(s);
    let before = std::fs::read(&path).unwrap();
    let wrong = key(11);
    let e = RedbStore::open(&path, &wrong, OWNER).unwrap_err();
    assert!(matches!(e, StoreError::WrongMasterKey), "{e:?}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "a refused open must not write");
    // Another owner: refused, file untouched too (with the right key and with a wrong one).
    for key in [&k, &wrong] {
        let e = RedbStore::open(&path, key, OTHER_OWNER).unwrap_err();
        assert!(matches!(e, StoreError::WrongOwner), "{e:?}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
    // Nothing else was created beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // The right key still works.
    let s = open(&path, &k);
    assert_eq!(s.get(RecordKind::KeyShare, b"k").unwrap().unwrap().as_slice(), b"share");
}

#[test]
fn wrong_key_after_a_crash_does_not_repair_the_file() {
    // A file left "not closed cleanly" (a copy taken while the store was open) is repaired by
    // redb when opened; with the wrong key even that repair must not reach the file.
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir, "s");
    let k = key(12);
    let s = open(&path, &k);
    s.insert(RecordKind::KeyShare, b"k", b"share").unwrap();
    let copy = store_path(&dir, "copy");
    std::fs::copy(&path, &copy).unwrap();
    drop(s);
    let before = std::fs::read(&copy).unwrap();
    assert!(matches!(RedbStore::open(&copy, &key(13), OWNER), Err(StoreError::WrongMasterKey)));
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    let s = open(&copy, &k);
    assert_eq!(s.get(RecordKind::KeyShare, b"k").unwrap().unwrap().as_slice(), b"share");
}

fn raw_get(path: &Path, kind: RecordKind, id: &[u8]) -> Option<Vec<u8>> {
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_read().unwrap();
    let t = txn.open_table(RECORDS).unwrap();
    let mut key = vec![kind.tag()];
    key.extend_from_slice(id);
    let v = t.get(key.as_slice()).unwrap().map(|v| v.value().to_vec());
    v
}

fn raw_put(path: &Path, kind: RecordKind, id: &[u8], value: &[u8]) {
    raw_put_many(path, &[(kind, id.to_vec(), value.to_vec())]);
}

fn raw_put_many(path: &Path, entries: &[(RecordKind, Vec<u8>, Vec<u8>)]) {
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut t = txn.open_table(RECORDS).unwrap();
        for (kind, id, value) in entries {
            let mut key = vec![kind.tag()];
            key.extend_from_slice(id);
            t.insert(key.as_slice(), value.as_slice()).unwrap();
        }
    }
    txn.commit().unwrap();
}

fn raw_has_tombstone(path: &Path, kind: RecordKind, id: &[u8]) -> bool {
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_read().unwrap();
    let t = txn.open_table(TAKEN).unwrap();
    let mut key = vec![kind.tag()];
    key.extend_from_slice(id);
    let found = t.get(key.as_slice()).unwrap().is_some();
    found
}

#[test]
fn transplanted_records_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = store_path(&dir, "a");
    let b = store_path(&dir, "b");
    let c = store_path(&dir, "c");
    let k = key(14);
    // Same master key on both nodes: only the owner binding and the salt tell them apart.
    let sa = RedbStore::open(&a, &k, OWNER).unwrap();
    let sb = RedbStore::open(&b, &k, OTHER_OWNER).unwrap();
    // And a second store of the same owner with the same key (another salt).
    let sc = RedbStore::open(&c, &k, OWNER).unwrap();
    sa.insert(RecordKind::KeyShare, b"key-1", b"share of node a").unwrap();
    sb.insert(RecordKind::KeyShare, b"key-1", b"share of node b").unwrap();
    sc.insert(RecordKind::KeyShare, b"key-1", b"share of node a, second store").unwrap();
    drop((sa, sb, sc));
    assert!(!raw_has_tombstone(&a, RecordKind::KeyShare, b"key-1"));
    let from_a = raw_get(&a, RecordKind::KeyShare, b"key-1").unwrap();

    let auth = |e: StoreError, kind: RecordKind, id: &[u8]| match e {
        StoreError::RecordAuthentication { kind: k, id_hex } => {
            assert_eq!(k, kind);
            assert_eq!(id_hex, hex::encode(id));
        }
        other => panic!("expected RecordAuthentication, got {other:?}"),
    };
    // Into another node's file, same kind and id.
    raw_put(&b, RecordKind::KeyShare, b"key-1", &from_a);
    let sb = RedbStore::open(&b, &k, OTHER_OWNER).unwrap();
    auth(sb.get(RecordKind::KeyShare, b"key-1").unwrap_err(), RecordKind::KeyShare, b"key-1");
    drop(sb);
    // Into another store file of the same owner.
    raw_put(&c, RecordKind::KeyShare, b"key-1", &from_a);
    let sc = RedbStore::open(&c, &k, OWNER).unwrap();
    auth(sc.get(RecordKind::KeyShare, b"key-1").unwrap_err(), RecordKind::KeyShare, b"key-1");
    drop(sc);
    // Within the same file, under another id and under another kind.
    raw_put(&a, RecordKind::KeyShare, b"key-2", &from_a);
    raw_put(&a, RecordKind::RetiredKeyShare, b"key-1", &from_a);
    raw_put(&a, RecordKind::Presignature, b"key-1", &from_a);
    let sa = RedbStore::open(&a, &k, OWNER).unwrap();
    auth(sa.get(RecordKind::KeyShare, b"key-2").unwrap_err(), RecordKind::KeyShare, b"key-2");
    auth(sa.get(RecordKind::RetiredKeyShare, b"key-1").unwrap_err(), RecordKind::RetiredKeyShare, b"key-1");
    // take refuses it and does not consume it.
    auth(sa.take(RecordKind::Presignature, b"key-1").unwrap_err(), RecordKind::Presignature, b"key-1");
    drop(sa);
    assert!(!raw_has_tombstone(&a, RecordKind::Presignature, b"key-1"));
    assert!(raw_get(&a, RecordKind::Presignature, b"key-1").is_some());
    // The original is intact.
    let sa = RedbStore::open(&a, &k, OWNER).unwrap();
    assert_eq!(sa.get(RecordKind::KeyShare, b"key-1").unwrap().unwrap().as_slice(), b"share of node a");
}

#[test]
fn file_holds_no_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir, "s");
    let k = key(15);
    let secret: [u8; 32] = *b"SECRET-PLAINTEXT-0123456789abcde";
    let s = open(&path, &k);
    for i in 0..50u32 {
        let mut pt = secret.to_vec();
        pt.extend_from_slice(&i.to_be_bytes());
        s.insert(RecordKind::KeyShare, format!("share-{i}").as_bytes(), &pt).unwrap();
        s.put(RecordKind::AuxInfo, format!("aux-{i}").as_bytes(), &secret).unwrap();
        s.insert(RecordKind::Presignature, format!("pre-{i}").as_bytes(), &secret).unwrap();
    }
    for i in 0..25u32 {
        s.take(RecordKind::Presignature, format!("pre-{i}").as_bytes()).unwrap().unwrap();
        s.delete(RecordKind::AuxInfo, format!("aux-{i}").as_bytes()).unwrap();
    }
    s.next_counter("c").unwrap();
    let master_hex = k.to_hex();
    let check = |bytes: &[u8]| {
        let hex_lower = hex::encode(secret);
        let hex_upper = hex_lower.to_uppercase();
        assert!(!contains(bytes, &secret), "plaintext found in the file");
        assert!(!contains(bytes, &secret[..16]), "half of the plaintext found in the file");
        assert!(!contains(bytes, hex_lower.as_bytes()) && !contains(bytes, hex_upper.as_bytes()));
        assert!(!contains(bytes, master_hex.as_bytes()), "master key (hex) found in the file");
        let mut raw = [0u8; 32];
        hex::decode_to_slice(master_hex.as_str(), &mut raw).unwrap();
        assert!(!contains(bytes, &raw), "master key found in the file");
    };
    // While open, and after closing.
    check(&std::fs::read(&path).unwrap());
    drop(s);
    check(&std::fs::read(&path).unwrap());
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn debug_output_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir, "s");
    let k = key(16);
    let hex_key = k.to_hex();
    let shown = format!("{k:?} {k:#?}");
    assert_eq!(format!("{k:?}"), "MasterKey(<redacted>)");
    assert!(!shown.contains(&hex_key[..16]));
    let s = open(&path, &k);
    let shown = format!("{s:?} {s:#?}");
    assert!(!shown.to_lowercase().contains(&hex_key[..16]), "{shown}");
    // Errors: wrong key, missing file, bad hex in a file and in a variable.
    let errors = [
        RedbStore::open(&path, &key(17), OWNER).unwrap_err(),
        MasterKey::from_hex(&format!("{}zz", &hex_key[..62])).unwrap_err(),
        MasterKey::from_file(&dir.path().join("absent")).unwrap_err(),
    ];
    drop(s);
    let key_file = dir.path().join("master.key");
    std::fs::write(&key_file, format!("{}x\n", hex_key.as_str())).unwrap();
    let file_error = MasterKey::from_file(&key_file).unwrap_err();
    assert!(matches!(&file_error, StoreError::MasterKeyFile { path, .. } if path == &key_file));
    let var = "CONCLAVE_STORE_TEST_BAD_KEY";
    std::env::set_var(var, format!("{}x", hex_key.as_str()));
    let env_error = MasterKey::from_env(var).unwrap_err();
    assert!(env_error.to_string().contains(var));
    let unset = MasterKey::from_env("CONCLAVE_STORE_TEST_UNSET_VARIABLE").unwrap_err();
    for e in errors.iter().chain([&file_error, &env_error, &unset]) {
        let shown = format!("{e} {e:?}");
        assert!(!shown.to_lowercase().contains(&hex_key[..16]), "{shown}");
        assert!(!shown.to_lowercase().contains(&hex_key[40..56]), "{shown}");
    }
    // And the good paths.
    std::fs::write(&key_file, format!("{}\n", hex_key.as_str())).unwrap();
    let from_file = MasterKey::from_file(&key_file).unwrap();
    std::env::set_var(var, hex_key.as_str());
    let from_env = MasterKey::from_env(var).unwrap();
    assert_eq!(from_file.to_hex(), hex_key);
    assert_eq!(from_env.to_hex(), hex_key);
    std::env::remove_var(var);
    // A record-authentication error shows kind and id, nothing of the record.
    let e = StoreError::RecordAuthentication { kind: RecordKind::Presignature, id_hex: hex::encode(b"p") };
    assert_eq!(e.to_string(), "record presignature 70 failed authentication (altered, or copied from elsewhere)");
}

#[test]
fn store_is_usable_as_a_trait_object_across_threads() {
    let dir = tempfile::tempdir().unwrap();
    let s: std::sync::Arc<dyn Store> = std::sync::Arc::new(open(&store_path(&dir, "s"), &key(18)));
    for i in 0..8u8 {
        s.insert(RecordKind::Presignature, &[i], &[i; 4]).unwrap();
    }
    // Eight threads race to take the same eight presignatures: each is handed out once.
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..8u8).filter(|i| s.take(RecordKind::Presignature, &[*i]).unwrap().is_some()).count()
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 8);
    let counters: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || (0..10).map(|_| s.next_counter("n").unwrap()).collect::<Vec<_>>())
        })
        .collect();
    let mut all: Vec<u64> = counters.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort_unstable();
    assert_eq!(all, (1..=40).collect::<Vec<_>>());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Arbitrary bytes (and mutations of a valid record) stored as record values are refused
    /// with `RecordAuthentication`, never a panic, by `get` and `take`.
    #[test]
    fn arbitrary_record_bytes_never_panic(
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 1..8),
        flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..4),
        cut in any::<usize>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = store_path(&dir, "s");
        let k = key(19);
        let s = open(&path, &k);
        s.insert(RecordKind::Presignature, b"valid", b"a valid presignature record").unwrap();
        drop(s);
        let valid = raw_get(&path, RecordKind::Presignature, b"valid").unwrap();
        let mut mutated = valid.clone();
        for (pos, mask) in &flips {
            let i = pos % mutated.len();
            mutated[i] ^= mask;
        }
        let truncated = valid[..cut % valid.len()].to_vec();
        let mut entries: Vec<(RecordKind, Vec<u8>, Vec<u8>)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (RecordKind::Presignature, format!("junk-{i}").into_bytes(), v.clone()))
            .collect();
        entries.push((RecordKind::Presignature, b"mutated".to_vec(), mutated));
        entries.push((RecordKind::Presignature, b"truncated".to_vec(), truncated));
        raw_put_many(&path, &entries);
        let s = open(&path, &k);
        for (kind, id, _) in &entries {
            let got = s.get(*kind, id);
            prop_assert!(matches!(got, Err(StoreError::RecordAuthentication { .. })), "{:?}", got);
            let taken = s.take(*kind, id);
            prop_assert!(matches!(taken, Err(StoreError::RecordAuthentication { .. })), "{:?}", taken);
        }
        let taken = s.take(RecordKind::Presignature, b"valid").unwrap().unwrap();
        prop_assert_eq!(taken.as_slice(), b"a valid presignature record");
    }
}
