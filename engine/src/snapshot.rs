//! The snapshot format: the whole store at one stream sequence, streamed through bincode 2
//! without a second copy of the state.
//!
//! ```text
//! magic "CREDSNAP" | header (format, last_seq, created_at, counters, model history,
//!                    item codes, interned texts, pending list changes, subject count)
//!                  | subject × count (key, records, arena) | CRC-32 of all before it (LE u32)
//! ```
//! Caches and the time index are derived: rebuilt on load, never stored.

use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bincode::config::{self, Configuration, Limit, LittleEndian, Varint};
use credence_models::Model;

use crate::eval::{evaluate, Cache, Judge};
use crate::id::SubjectKey;
use crate::intern::Interner;
use crate::store::{CounterValues, ListChange, Store};
use crate::subject::{Record, Subject};
use crate::time::Ts;

/// First bytes of every snapshot.
pub const MAGIC: &[u8; 8] = b"CREDSNAP";
/// The version of this layout; a reader refuses any other.
pub const FORMAT: u32 = 1;
/// The most bytes one decoded piece (header, subject) may claim: a corrupt length cannot make
/// the reader allocate without bound.
const LIMIT: usize = 512 * 1024 * 1024;

type Config = Configuration<LittleEndian, Varint, Limit<LIMIT>>;

fn cfg() -> Config {
    config::standard().with_limit::<LIMIT>()
}

/// Why a snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a Credence snapshot (bad magic)")]
    Magic,
    #[error("snapshot format {0} is not supported (this build reads {FORMAT})")]
    Format(u32),
    #[error("snapshot is corrupt: {0}")]
    Corrupt(String),
    #[error("snapshot checksum does not match: the file is damaged or truncated")]
    Checksum,
}

#[derive(Debug, bincode::Encode, bincode::Decode)]
struct Header {
    format: u32,
    last_seq: u64,
    created_at: Ts,
    counters: CounterValues,
    /// (stream sequence, model JSON) in history order.
    models: Vec<(u64, String)>,
    codes: Vec<String>,
    texts: Vec<String>,
    pending: Vec<ListChange>,
    subjects: u64,
    /// The model in force, for people reading a header.
    model_version: String,
}

/// What a snapshot's header says, without its subjects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub last_seq: u64,
    pub created_at: Ts,
    pub subjects: u64,
    pub counters: CounterValues,
    pub model_version: String,
}

/// A writer that checksums what passes through it.
struct CrcWriter<W: Write> {
    inner: W,
    crc: crc32fast::Hasher,
    bytes: u64,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that checksums what passes through it.
struct CrcReader<R: Read> {
    inner: R,
    crc: crc32fast::Hasher,
}

impl<R: Read> Read for CrcReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

fn enc<T: bincode::Encode, W: Write>(v: &T, w: &mut W) -> Result<(), SnapshotError> {
    bincode::encode_into_std_write(v, w, cfg())
        .map(|_| ())
        .map_err(|e| match e {
            bincode::error::EncodeError::Io { inner, .. } => SnapshotError::Io(inner),
            other => SnapshotError::Corrupt(other.to_string()),
        })
}

fn dec<T: bincode::Decode<()>, R: Read>(r: &mut R) -> Result<T, SnapshotError> {
    bincode::decode_from_std_read(r, cfg()).map_err(|e| match e {
        bincode::error::DecodeError::Io { inner, .. }
            if inner.kind() != std::io::ErrorKind::UnexpectedEof =>
        {
            SnapshotError::Io(inner)
        }
        bincode::error::DecodeError::Io { .. } => SnapshotError::Checksum,
        other => SnapshotError::Corrupt(other.to_string()),
    })
}

impl Store {
    /// Writes the whole store, consistent at its last sequence: the caller must hold back
    /// `apply` while this runs (checks may go on). `pending` are list changes computed but
    /// not yet published. Returns the bytes written.
    pub fn write_snapshot<W: Write>(
        &self,
        w: W,
        created_at: Ts,
        pending: &[ListChange],
    ) -> Result<u64, SnapshotError> {
        let mut w = CrcWriter {
            inner: w,
            crc: crc32fast::Hasher::new(),
            bytes: 0,
        };
        w.write_all(MAGIC)?;
        let history = self.model_history();
        let header = Header {
            format: FORMAT,
            last_seq: self.last_seq(),
            created_at,
            counters: self.counters(),
            models: history
                .iter()
                .map(|(seq, m)| (*seq, m.canonical_json()))
                .collect(),
            codes: self
                .codes
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .strings()
                .map(str::to_owned)
                .collect(),
            texts: self
                .texts
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .strings()
                .map(str::to_owned)
                .collect(),
            pending: pending.to_vec(),
            subjects: self.subjects.len() as u64,
            model_version: history
                .last()
                .map(|(_, m)| format!("{} {}", m.name, m.version))
                .unwrap_or_default(),
        };
        enc(&header, &mut w)?;
        let mut written = 0u64;
        for entry in self.subjects.iter() {
            let (records, arena) = entry.value().parts();
            enc(&(entry.key().to_bits(), records, arena), &mut w)?;
            written += 1;
        }
        if written != header.subjects {
            return Err(SnapshotError::Corrupt(
                "subjects changed while the snapshot was written".into(),
            ));
        }
        let crc = w.crc.clone().finalize();
        w.inner.write_all(&crc.to_le_bytes())?;
        w.flush()?;
        Ok(w.bytes + 4)
    }

    /// Reads a snapshot: the store (caches and time index rebuilt as of the snapshot's
    /// `created_at`, so that a later `tick(now)` reports what changed meanwhile) and the list
    /// changes that were pending.
    pub fn read_snapshot<R: Read>(r: R) -> Result<(Store, Vec<ListChange>), SnapshotError> {
        let mut r = CrcReader {
            inner: r,
            crc: crc32fast::Hasher::new(),
        };
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic).map_err(|_| SnapshotError::Magic)?;
        if &magic != MAGIC {
            return Err(SnapshotError::Magic);
        }
        let header: Header = dec(&mut r)?;
        if header.format != FORMAT {
            return Err(SnapshotError::Format(header.format));
        }
        let mut models = Vec::with_capacity(header.models.len());
        for (seq, json) in &header.models {
            let model = Model::from_json(json.as_bytes())
                .map_err(|e| SnapshotError::Corrupt(format!("model at seq {seq}: {e}")))?;
            models.push((*seq, Arc::new(model)));
        }
        let Some((_, first)) = models.first() else {
            return Err(SnapshotError::Corrupt("no model in the history".into()));
        };
        let store = Store::with_capacity(first.clone(), header.subjects.min(1 << 26) as usize);
        {
            let mut codes = Interner::from_strings(header.codes.clone());
            let mut judges = Vec::with_capacity(models.len());
            for (epoch, (seq, model)) in models.iter().enumerate() {
                judges.push(Arc::new(Judge::new(
                    model.clone(),
                    epoch as u32,
                    *seq,
                    |c| codes.intern(c) as u16,
                )));
            }
            *store.codes.write().unwrap_or_else(|e| e.into_inner()) = codes;
            store.set_history(judges);
        }
        *store.texts.write().unwrap_or_else(|e| e.into_inner()) =
            Interner::from_strings(header.texts.clone());
        for _ in 0..header.subjects {
            let (bits, records, arena): (u128, Vec<Record>, Vec<u8>) = dec(&mut r)?;
            let key = SubjectKey::from_bits(bits)
                .ok_or_else(|| SnapshotError::Corrupt("invalid subject key".into()))?;
            let subject = Subject::from_parts(records, arena).ok_or_else(|| {
                SnapshotError::Corrupt("subject records and arena disagree".into())
            })?;
            store.subjects.insert(key, subject);
        }
        let crc = r.crc.clone().finalize();
        let mut trailer = [0u8; 4];
        r.inner
            .read_exact(&mut trailer)
            .map_err(|_| SnapshotError::Checksum)?;
        if u32::from_le_bytes(trailer) != crc {
            return Err(SnapshotError::Checksum);
        }
        store.last_seq.store(header.last_seq, Ordering::Release);
        store
            .counters
            .events_applied
            .store(header.counters.events_applied, Ordering::Relaxed);
        store
            .counters
            .events_duplicate
            .store(header.counters.events_duplicate, Ordering::Relaxed);
        store
            .counters
            .events_rejected
            .store(header.counters.events_rejected, Ordering::Relaxed);
        store.rebuild_caches(header.created_at);
        Ok((store, header.pending))
    }

    /// Reads only a snapshot's header.
    pub fn snapshot_info<R: Read>(mut r: R) -> Result<SnapshotInfo, SnapshotError> {
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic).map_err(|_| SnapshotError::Magic)?;
        if &magic != MAGIC {
            return Err(SnapshotError::Magic);
        }
        let h: Header = dec(&mut r)?;
        Ok(SnapshotInfo {
            last_seq: h.last_seq,
            created_at: h.created_at,
            subjects: h.subjects,
            counters: h.counters,
            model_version: h.model_version,
        })
    }

    /// Evaluates every subject at `t` and rebuilds the time index and the in-effect count.
    pub fn rebuild_caches(&self, t: Ts) {
        let judge = self.judge();
        let mut in_effect = 0i64;
        let mut index = self.index.lock().unwrap_or_else(|e| e.into_inner());
        *index = Default::default();
        for mut e in self.subjects.iter_mut() {
            let key = *e.key();
            let a = evaluate(&judge, e.value(), t);
            let cache = Cache::from_assessment(&a, judge.epoch);
            in_effect += cache.in_effect as i64;
            index.update(key, Ts::MIN, cache.next_change);
            e.value_mut().cache = cache;
        }
        self.counters
            .records_in_effect
            .store(in_effect, Ordering::Relaxed);
        drop(index);
        self.rebuild_members();
    }
}
