//! A copy-on-write view of a store file, used to check the master key and owner before the
//! file is opened for writing.
//!
//! redb writes to the file as soon as it opens it (it marks the file "recovery required" and
//! rewrites its header on close, and repairs a file that was not closed cleanly). To refuse a
//! wrong master key or owner *without changing a byte of the file*, `RedbStore::open` first
//! opens the file through this backend: reads come from the file (opened read-only, and
//! locked as redb locks it), writes land in memory and are discarded when the database is
//! dropped.

use std::collections::BTreeMap;
use std::io;
use std::sync::Mutex;

use redb::backends::FileBackend;
use redb::StorageBackend;

const CHUNK: u64 = 4096;

#[derive(Debug)]
struct State {
    /// The length the database sees.
    len: u64,
    /// Bytes of the file below this offset are still valid (a shrink lowers it).
    base_valid: u64,
    /// Written chunks, by chunk index; each exactly `CHUNK` bytes.
    chunks: BTreeMap<u64, Vec<u8>>,
}

/// Reads from a locked, read-only file; keeps every write in memory.
#[derive(Debug)]
pub(crate) struct ReadOnlyOverlay {
    base: FileBackend,
    state: Mutex<State>,
}

fn bounds() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "overlay access out of bounds")
}

fn poisoned() -> io::Error {
    io::Error::other("overlay lock poisoned")
}

fn to_usize(x: u64) -> io::Result<usize> {
    usize::try_from(x).map_err(|_| bounds())
}

impl ReadOnlyOverlay {
    pub(crate) fn new(base: FileBackend) -> io::Result<Self> {
        let len = base.len()?;
        Ok(Self { base, state: Mutex::new(State { len, base_valid: len, chunks: BTreeMap::new() }) })
    }

    /// The current content of chunk `index` (from the overlay, else the file, else zeros).
    fn chunk_bytes(&self, state: &State, index: u64) -> io::Result<Vec<u8>> {
        if let Some(c) = state.chunks.get(&index) {
            return Ok(c.clone());
        }
        let start = index.checked_mul(CHUNK).ok_or_else(bounds)?;
        let mut out = vec![0u8; to_usize(CHUNK)?];
        let from_base = state.base_valid.saturating_sub(start).min(CHUNK);
        if from_base > 0 {
            let data = self.base.read(start, to_usize(from_base)?)?;
            out.get_mut(..data.len()).ok_or_else(bounds)?.copy_from_slice(&data);
        }
        Ok(out)
    }
}

impl StorageBackend for ReadOnlyOverlay {
    fn len(&self) -> io::Result<u64> {
        Ok(self.state.lock().map_err(|_| poisoned())?.len)
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let state = self.state.lock().map_err(|_| poisoned())?;
        let end = offset.checked_add(u64::try_from(len).map_err(|_| bounds())?).ok_or_else(bounds)?;
        if end > state.len {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"));
        }
        let mut out = Vec::with_capacity(len);
        let mut pos = offset;
        while pos < end {
            let index = pos / CHUNK;
            let within = pos % CHUNK;
            let take = (CHUNK - within).min(end - pos);
            if state.chunks.contains_key(&index) || pos.saturating_add(take) > state.base_valid {
                let chunk = self.chunk_bytes(&state, index)?;
                let part = chunk.get(to_usize(within)?..to_usize(within + take)?).ok_or_else(bounds)?;
                out.extend_from_slice(part);
            } else {
                out.extend_from_slice(&self.base.read(pos, to_usize(take)?)?);
            }
            pos += take;
        }
        Ok(out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        if len < state.len {
            state.base_valid = state.base_valid.min(len);
            let first_dropped = len.div_ceil(CHUNK);
            state.chunks.retain(|i, _| *i < first_dropped);
            let within = len % CHUNK;
            if within != 0 {
                if let Some(chunk) = state.chunks.get_mut(&(len / CHUNK)) {
                    chunk.get_mut(to_usize(within)?..).ok_or_else(bounds)?.fill(0);
                }
            }
        }
        state.len = len;
        Ok(())
    }

    fn sync_data(&self, _eventual: bool) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        let end = offset.checked_add(u64::try_from(data.len()).map_err(|_| bounds())?).ok_or_else(bounds)?;
        let mut pos = offset;
        let mut rest = data;
        while pos < end {
            let index = pos / CHUNK;
            let within = pos % CHUNK;
            let take = (CHUNK - within).min(end - pos);
            let mut chunk = self.chunk_bytes(&state, index)?;
            let (head, tail) = rest.split_at_checked(to_usize(take)?).ok_or_else(bounds)?;
            chunk.get_mut(to_usize(within)?..to_usize(within + take)?).ok_or_else(bounds)?.copy_from_slice(head);
            state.chunks.insert(index, chunk);
            rest = tail;
            pos += take;
        }
        if end > state.len {
            state.len = end;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn writes_stay_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let original: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::File::create(&path).unwrap().write_all(&original).unwrap();
        let file = std::fs::OpenOptions::new().read(true).open(&path).unwrap();
        let o = ReadOnlyOverlay::new(FileBackend::new(file).unwrap()).unwrap();
        assert_eq!(o.read(0, 10_000).unwrap(), original);
        o.write(4090, &[9u8; 20]).unwrap();
        let mut expect = original.clone();
        expect[4090..4110].fill(9);
        assert_eq!(o.read(0, 10_000).unwrap(), expect);
        assert_eq!(o.read(4095, 3).unwrap(), vec![9, 9, 9]);
        o.set_len(5000).unwrap();
        o.set_len(12_000).unwrap();
        let got = o.read(0, 12_000).unwrap();
        assert_eq!(&got[..5000], &expect[..5000]);
        assert!(got[5000..].iter().all(|b| *b == 0));
        o.write(11_000, &[1, 2, 3]).unwrap();
        assert_eq!(o.read(10_999, 5).unwrap(), vec![0, 1, 2, 3, 0]);
        assert!(o.read(11_999, 2).is_err());
        drop(o);
        assert_eq!(std::fs::read(&path).unwrap(), original);
    }
}
