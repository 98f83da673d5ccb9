//! Snapshot files in `<data>/snapshots`: written to a temp file, fsynced, renamed, the
//! directory fsynced; the last two kept. On start the newest that checks out is restored; a
//! corrupt or truncated one falls back to the older, then to a full replay, with a warning.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use credence_engine::{ListChange, Store, Ts};

/// How many snapshots are kept.
pub const KEEP: usize = 2;

/// The snapshot directory of an instance.
#[derive(Clone, Debug)]
pub struct SnapshotDir {
    dir: PathBuf,
}

/// What writing a snapshot took.
#[derive(Clone, Debug)]
pub struct Written {
    pub path: PathBuf,
    pub seq: u64,
    pub bytes: u64,
    pub seconds: f64,
}

/// A restored store, where from, and the list changes that were pending.
pub struct Restored {
    pub store: Store,
    pub pending: Vec<ListChange>,
    pub path: PathBuf,
    pub seconds: f64,
}

impl SnapshotDir {
    pub fn new(data: &Path) -> anyhow::Result<SnapshotDir> {
        let dir = data.join("snapshots");
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(SnapshotDir { dir })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Snapshot files, newest (highest sequence) first.
    pub fn list(&self) -> Vec<(u64, PathBuf)> {
        let mut out: Vec<(u64, PathBuf)> = fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let seq = name
                    .strip_prefix("snapshot-")?
                    .strip_suffix(".bin")?
                    .parse()
                    .ok()?;
                Some((seq, e.path()))
            })
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse(e.0));
        out
    }

    /// Writes the store (the caller holds back `apply`), then keeps the last [`KEEP`].
    pub fn write(&self, store: &Store, now: Ts, pending: &[ListChange]) -> anyhow::Result<Written> {
        let started = Instant::now();
        let seq = store.last_seq();
        let path = self.dir.join(format!("snapshot-{seq:020}.bin"));
        let tmp = self.dir.join(format!(".snapshot-{seq:020}.tmp"));
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let bytes = store.write_snapshot(&mut w, now, pending)?;
        w.flush()?;
        let file = w
            .into_inner()
            .map_err(|e| anyhow::anyhow!("flushing the snapshot: {e}"))?;
        file.sync_all().context("fsync of the snapshot")?;
        drop(file);
        fs::rename(&tmp, &path).context("renaming the snapshot")?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .context("fsync of the snapshot directory")?;
        for (_, old) in self.list().into_iter().skip(KEEP) {
            let _ = fs::remove_file(old);
        }
        Ok(Written {
            path,
            seq,
            bytes,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Restores the newest snapshot that checks out; `None` if there is none (full replay).
    pub fn restore(&self) -> Option<Restored> {
        for (seq, path) in self.list() {
            let started = Instant::now();
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) => {
                    tracing::warn!(seq, error = %e, "snapshot unreadable; trying an older one");
                    continue;
                }
            };
            match Store::read_snapshot(BufReader::with_capacity(1 << 20, file)) {
                Ok((store, pending)) => {
                    return Some(Restored {
                        store,
                        pending,
                        path,
                        seconds: started.elapsed().as_secs_f64(),
                    });
                }
                Err(e) => {
                    tracing::warn!(seq, error = %e, file = %path.display(), "snapshot does not check out; falling back to an older one")
                }
            }
        }
        None
    }
}
