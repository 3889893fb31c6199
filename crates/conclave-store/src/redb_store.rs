//! [`RedbStore`]: the default backend, one redb file per node.

use core::fmt;
use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use rand_core::{OsRng, RngCore};
use redb::backends::FileBackend;
use redb::{Builder, Database, DatabaseError, Durability, ReadableTable, StorageError, TableDefinition, TableError};
use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::format::{
    check_id, table_key, Sealer, COUNTERS_TABLE, COUNTER_TAG, FORMAT_VERSION, KEY_CHECK_ID, KEY_CHECK_PLAINTEXT,
    KEY_CHECK_TAG, MAX_COUNTER_NAME_LEN, MAX_ID_LEN, MAX_OWNER_LEN, META_FORMAT, META_KEY_CHECK, META_OWNER, META_SALT,
    META_TABLE, RECORDS_TABLE, SALT_LEN, TAKEN_TABLE,
};
use crate::kind::{Op, RecordKind};
use crate::master_key::MasterKey;
use crate::overlay::ReadOnlyOverlay;
use crate::Store;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new(META_TABLE);
const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new(RECORDS_TABLE);
const TAKEN: TableDefinition<&[u8], ()> = TableDefinition::new(TAKEN_TABLE);
const COUNTERS: TableDefinition<&str, &[u8]> = TableDefinition::new(COUNTERS_TABLE);

/// redb's page cache (it only ever holds ciphertext).
const CACHE_BYTES: usize = 16 << 20;

/// The embedded store: one redb file, every value sealed with XChaCha20-Poly1305, every
/// commit durable (fsync, two-phase commit) before the call returns.
///
/// `Debug` shows the path and owner only.
pub struct RedbStore {
    db: Database,
    sealer: Sealer,
    path: PathBuf,
}

impl fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbStore").field("path", &self.path).field("sealer", &self.sealer).finish()
    }
}

/// The store's metadata as read from the file (all public).
struct Meta {
    salt: [u8; SALT_LEN],
    owner: Vec<u8>,
    key_check: Vec<u8>,
}

fn builder() -> Builder {
    let mut b = Database::builder();
    b.set_cache_size(CACHE_BYTES);
    b
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

fn open_error(path: &Path) -> impl FnOnce(DatabaseError) -> StoreError + '_ {
    move |e| match e {
        DatabaseError::DatabaseAlreadyOpen => StoreError::AlreadyOpen { path: path.to_path_buf() },
        DatabaseError::Storage(StorageError::Io(io)) if io.kind() == io::ErrorKind::InvalidData => {
            StoreError::NotAStore { path: path.to_path_buf(), reason: "not a database file" }
        }
        other => StoreError::database("open")(other),
    }
}

fn auth_error(kind: RecordKind, id: &[u8]) -> StoreError {
    StoreError::RecordAuthentication { kind, id_hex: hex::encode(id) }
}

fn check_owner(owner: &[u8]) -> Result<(), StoreError> {
    if owner.is_empty() {
        return Err(StoreError::InvalidInput { reason: "empty owner" });
    }
    if owner.len() > MAX_OWNER_LEN {
        return Err(StoreError::InvalidInput { reason: "owner longer than 1024 bytes" });
    }
    Ok(())
}

fn check_counter_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > MAX_COUNTER_NAME_LEN {
        return Err(StoreError::InvalidInput { reason: "counter name must be 1 to 256 bytes" });
    }
    Ok(())
}

/// Reads the metadata; checks the format version and that every table exists.
fn read_meta(db: &Database, path: &Path) -> Result<Meta, StoreError> {
    let not_a_store = |reason| StoreError::NotAStore { path: path.to_path_buf(), reason };
    let txn = db.begin_read().map_err(StoreError::database("begin read"))?;
    let meta = match txn.open_table(META) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Err(not_a_store("no Conclave metadata")),
        Err(e) => return Err(StoreError::database("open metadata")(e)),
    };
    let get = |key: &str| -> Result<Vec<u8>, StoreError> {
        match meta.get(key).map_err(StoreError::database("read metadata"))? {
            Some(v) => Ok(v.value().to_vec()),
            None => Err(not_a_store("incomplete metadata")),
        }
    };
    let format = get(META_FORMAT)?;
    match format.as_slice() {
        [FORMAT_VERSION] => {}
        [found] => return Err(StoreError::UnsupportedFormat { found: *found, supported: FORMAT_VERSION }),
        _ => return Err(not_a_store("damaged format field")),
    }
    let salt: [u8; SALT_LEN] = get(META_SALT)?.try_into().map_err(|_| not_a_store("damaged salt"))?;
    let owner = get(META_OWNER)?;
    let key_check = get(META_KEY_CHECK)?;
    let tables =
        [txn.open_table(RECORDS).map(drop), txn.open_table(TAKEN).map(drop), txn.open_table(COUNTERS).map(drop)];
    for table in tables {
        match table {
            Ok(()) => {}
            Err(TableError::TableDoesNotExist(_)) => return Err(not_a_store("missing table")),
            Err(e) => return Err(StoreError::database("open table")(e)),
        }
    }
    Ok(Meta { salt, owner, key_check })
}

/// Checks the owner, derives the record key and checks it against the key-check record.
fn verify(meta: &Meta, master: &MasterKey, owner: &[u8]) -> Result<Sealer, StoreError> {
    if meta.owner != owner {
        return Err(StoreError::WrongOwner);
    }
    let sealer = Sealer::new(master, &meta.salt, owner)?;
    match sealer.open(KEY_CHECK_TAG, KEY_CHECK_ID, &meta.key_check) {
        Ok(pt) if pt.as_slice() == KEY_CHECK_PLAINTEXT => Ok(sealer),
        _ => Err(StoreError::WrongMasterKey),
    }
}

/// Opens a file for the verification pass: read-only, locked, every write kept in memory.
fn open_read_only(path: &Path) -> Result<Database, StoreError> {
    let file = OpenOptions::new().read(true).open(path).map_err(io_error(path))?;
    let backend = FileBackend::new(file).map_err(open_error(path))?;
    let overlay = ReadOnlyOverlay::new(backend).map_err(io_error(path))?;
    builder().create_with_backend(overlay).map_err(open_error(path))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io_error(dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Creates and initialises a store in a temporary file beside `path`, then links it into
/// place (failing harmlessly if another process created `path` meanwhile). A crash leaves
/// either no file at `path` or a complete store, never a half-initialised one.
fn create_new(path: &Path, master: &MasterKey, owner: &[u8]) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or(StoreError::InvalidInput { reason: "store path has no file name" })?
        .to_string_lossy()
        .into_owned();
    let mut suffix = [0u8; 8];
    OsRng.try_fill_bytes(&mut suffix).map_err(|_| StoreError::Rng)?;
    let tmp = dir.join(format!(".{name}.{}.creating", hex::encode(suffix)));
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&tmp).map_err(io_error(&tmp))?;
    let result = (|| {
        let db = builder().create_file(file).map_err(open_error(&tmp))?;
        initialise(&db, master, owner)?;
        drop(db);
        match fs::hard_link(&tmp, path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(path)(e)),
        }
        Ok(())
    })();
    let removed = fs::remove_file(&tmp);
    result?;
    removed.map_err(io_error(&tmp))?;
    sync_dir(&dir)
}

/// Writes the metadata and creates every table, in one durable commit.
fn initialise(db: &Database, master: &MasterKey, owner: &[u8]) -> Result<(), StoreError> {
    let mut salt = [0u8; SALT_LEN];
    OsRng.try_fill_bytes(&mut salt).map_err(|_| StoreError::Rng)?;
    let sealer = Sealer::new(master, &salt, owner)?;
    let key_check = sealer.seal(KEY_CHECK_TAG, KEY_CHECK_ID, KEY_CHECK_PLAINTEXT)?;
    let txn = begin_durable(db)?;
    {
        let mut meta = txn.open_table(META).map_err(StoreError::database("create tables"))?;
        let w = StoreError::database("write metadata");
        let entries: [(&str, &[u8]); 4] =
            [(META_FORMAT, &[FORMAT_VERSION]), (META_SALT, &salt), (META_OWNER, owner), (META_KEY_CHECK, &key_check)];
        for (k, v) in entries {
            if let Err(e) = meta.insert(k, v) {
                return Err(w(e));
            }
        }
        txn.open_table(RECORDS).map_err(StoreError::database("create tables"))?;
        txn.open_table(TAKEN).map_err(StoreError::database("create tables"))?;
        txn.open_table(COUNTERS).map_err(StoreError::database("create tables"))?;
    }
    txn.commit().map_err(StoreError::database("commit"))
}

/// A write transaction whose commit is on disk (fsync, two-phase) when `commit` returns.
fn begin_durable(db: &Database) -> Result<redb::WriteTransaction, StoreError> {
    let mut txn = db.begin_write().map_err(StoreError::database("begin write"))?;
    txn.set_durability(Durability::Immediate);
    txn.set_two_phase_commit(true);
    Ok(txn)
}

impl RedbStore {
    /// Opens or creates the store file. `owner` binds records to this node (the node's
    /// identity public key bytes, 1 to 1024 bytes).
    ///
    /// A new store is created with mode 0600 in a temporary file and linked into place once
    /// initialised. An existing store is first checked through a read-only, copy-on-write view
    /// of the file: a wrong master key ([`StoreError::WrongMasterKey`]), a file of another
    /// owner ([`StoreError::WrongOwner`]), an unknown format or a file that is not a store are
    /// refused before a single byte of the file is written.
    pub fn open(path: &Path, master: &MasterKey, owner: &[u8]) -> Result<Self, StoreError> {
        check_owner(owner)?;
        match fs::metadata(path) {
            Ok(m) if m.len() == 0 => {
                return Err(StoreError::NotAStore { path: path.to_path_buf(), reason: "empty file" });
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => create_new(path, master, owner)?,
            Err(e) => return Err(io_error(path)(e)),
        }
        {
            let view = open_read_only(path)?;
            let meta = read_meta(&view, path)?;
            verify(&meta, master, owner)?;
        }
        let db = builder().open(path).map_err(open_error(path))?;
        // Checked again on the file now held open (it could have been replaced in between).
        let meta = read_meta(&db, path)?;
        let sealer = verify(&meta, master, owner)?;
        Ok(Self { db, sealer, path: path.to_path_buf() })
    }

    /// The store file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn begin_write(&self) -> Result<redb::WriteTransaction, StoreError> {
        begin_durable(&self.db)
    }

    fn seal(&self, kind: RecordKind, id: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.sealer.seal(kind.tag(), id, plaintext)
    }

    fn open_record(&self, kind: RecordKind, id: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        self.sealer.open(kind.tag(), id, sealed).map_err(|_| auth_error(kind, id))
    }
}

/// What one operation of a batch does, with its value already sealed.
enum Prepared {
    Put { key: Vec<u8>, sealed: Vec<u8> },
    Insert { key: Vec<u8>, sealed: Vec<u8> },
    Delete { key: Vec<u8> },
}

impl Store for RedbStore {
    fn insert(&self, kind: RecordKind, id: &[u8], plaintext: &[u8]) -> Result<(), StoreError> {
        check_id(id)?;
        self.apply_prepared(vec![Prepared::Insert {
            key: table_key(kind.tag(), id),
            sealed: self.seal(kind, id, plaintext)?,
        }])
    }

    fn put(&self, kind: RecordKind, id: &[u8], plaintext: &[u8]) -> Result<(), StoreError> {
        check_id(id)?;
        self.apply_prepared(vec![Prepared::Put {
            key: table_key(kind.tag(), id),
            sealed: self.seal(kind, id, plaintext)?,
        }])
    }

    fn get(&self, kind: RecordKind, id: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        check_id(id)?;
        let key = table_key(kind.tag(), id);
        let txn = self.db.begin_read().map_err(StoreError::database("begin read"))?;
        let records = txn.open_table(RECORDS).map_err(StoreError::database("open records"))?;
        let taken = txn.open_table(TAKEN).map_err(StoreError::database("open tombstones"))?;
        if taken.get(key.as_slice()).map_err(StoreError::database("read tombstone"))?.is_some() {
            // A record under a tombstoned id (restored by someone with access to the file)
            // is never handed out.
            return Ok(None);
        }
        match records.get(key.as_slice()).map_err(StoreError::database("read record"))? {
            Some(v) => self.open_record(kind, id, v.value()).map(Some),
            None => Ok(None),
        }
    }

    fn list(&self, kind: RecordKind, prefix: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
        if prefix.len() > MAX_ID_LEN {
            return Err(StoreError::InvalidInput { reason: "prefix longer than 1024 bytes" });
        }
        let start = table_key(kind.tag(), prefix);
        let txn = self.db.begin_read().map_err(StoreError::database("begin read"))?;
        let records = txn.open_table(RECORDS).map_err(StoreError::database("open records"))?;
        let taken = txn.open_table(TAKEN).map_err(StoreError::database("open tombstones"))?;
        let mut ids = Vec::new();
        for item in records.range::<&[u8]>(start.as_slice()..).map_err(StoreError::database("list records"))? {
            let (k, _) = item.map_err(StoreError::database("list records"))?;
            let k = k.value();
            if !k.starts_with(&start) {
                break;
            }
            if taken.get(k).map_err(StoreError::database("read tombstone"))?.is_some() {
                continue;
            }
            if let Some(id) = k.get(1..) {
                ids.push(id.to_vec());
            }
        }
        Ok(ids)
    }

    fn delete(&self, kind: RecordKind, id: &[u8]) -> Result<bool, StoreError> {
        check_id(id)?;
        let key = table_key(kind.tag(), id);
        let txn = self.begin_write()?;
        let removed = {
            let mut records = txn.open_table(RECORDS).map_err(StoreError::database("open records"))?;
            let removed = records.remove(key.as_slice()).map_err(StoreError::database("delete record"))?.is_some();
            removed
        };
        if removed {
            txn.commit().map_err(StoreError::database("commit"))?;
        } else {
            txn.abort().map_err(StoreError::database("abort"))?;
        }
        Ok(removed)
    }

    fn take(&self, kind: RecordKind, id: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        check_id(id)?;
        let key = table_key(kind.tag(), id);
        let txn = self.begin_write()?;
        let plaintext = {
            let mut records = txn.open_table(RECORDS).map_err(StoreError::database("open records"))?;
            let mut taken = txn.open_table(TAKEN).map_err(StoreError::database("open tombstones"))?;
            if taken.get(key.as_slice()).map_err(StoreError::database("read tombstone"))?.is_some() {
                return Ok(None);
            }
            let sealed = match records.get(key.as_slice()).map_err(StoreError::database("read record"))? {
                Some(v) => v.value().to_vec(),
                None => return Ok(None),
            };
            // Authenticate before consuming: a damaged record stays for inspection.
            let plaintext = self.open_record(kind, id, &sealed)?;
            records.remove(key.as_slice()).map_err(StoreError::database("remove record"))?;
            taken.insert(key.as_slice(), ()).map_err(StoreError::database("write tombstone"))?;
            plaintext
        };
        // The removal and the tombstone are on disk before the plaintext leaves this function.
        txn.commit().map_err(StoreError::database("commit"))?;
        Ok(Some(plaintext))
    }

    fn apply(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        let mut prepared = Vec::with_capacity(ops.len());
        for op in &ops {
            prepared.push(match op {
                Op::Put { kind, id, plaintext } => {
                    check_id(id)?;
                    Prepared::Put { key: table_key(kind.tag(), id), sealed: self.seal(*kind, id, plaintext)? }
                }
                Op::Insert { kind, id, plaintext } => {
                    check_id(id)?;
                    Prepared::Insert { key: table_key(kind.tag(), id), sealed: self.seal(*kind, id, plaintext)? }
                }
                Op::Delete { kind, id } => {
                    check_id(id)?;
                    Prepared::Delete { key: table_key(kind.tag(), id) }
                }
            });
        }
        drop(ops);
        if prepared.is_empty() {
            return Ok(());
        }
        self.apply_prepared(prepared)
    }

    fn next_counter(&self, name: &str) -> Result<u64, StoreError> {
        check_counter_name(name)?;
        let id = name.as_bytes();
        let txn = self.begin_write()?;
        let next = {
            let mut counters = txn.open_table(COUNTERS).map_err(StoreError::database("open counters"))?;
            let current = match counters.get(name).map_err(StoreError::database("read counter"))? {
                None => 0,
                Some(v) => {
                    let bytes = self
                        .sealer
                        .open(COUNTER_TAG, id, v.value())
                        .map_err(|_| StoreError::CounterAuthentication { name: name.to_owned() })?;
                    let value: [u8; 8] = bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| StoreError::CounterAuthentication { name: name.to_owned() })?;
                    u64::from_be_bytes(value)
                }
            };
            let next = current.checked_add(1).ok_or_else(|| StoreError::CounterExhausted { name: name.to_owned() })?;
            let sealed = self.sealer.seal(COUNTER_TAG, id, &next.to_be_bytes())?;
            counters.insert(name, sealed.as_slice()).map_err(StoreError::database("write counter"))?;
            next
        };
        txn.commit().map_err(StoreError::database("commit"))?;
        Ok(next)
    }
}

impl RedbStore {
    /// Applies sealed operations in one durable transaction; any refusal aborts all of them.
    fn apply_prepared(&self, ops: Vec<Prepared>) -> Result<(), StoreError> {
        let txn = self.begin_write()?;
        {
            let mut records = txn.open_table(RECORDS).map_err(StoreError::database("open records"))?;
            let taken = txn.open_table(TAKEN).map_err(StoreError::database("open tombstones"))?;
            for op in &ops {
                match op {
                    Prepared::Put { key, sealed } | Prepared::Insert { key, sealed } => {
                        let key = key.as_slice();
                        let is_taken = taken.get(key).map_err(StoreError::database("read tombstone"))?.is_some();
                        let exists = matches!(op, Prepared::Insert { .. })
                            && records.get(key).map_err(StoreError::database("read record"))?.is_some();
                        if is_taken || exists {
                            return Err(StoreError::AlreadyExists);
                        }
                        records.insert(key, sealed.as_slice()).map_err(StoreError::database("write record"))?;
                    }
                    Prepared::Delete { key } => {
                        records.remove(key.as_slice()).map_err(StoreError::database("delete record"))?;
                    }
                }
            }
        }
        txn.commit().map_err(StoreError::database("commit"))
    }
}
