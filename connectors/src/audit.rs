//! The audit of natural persons' data (contract §4): every read is recorded on
//! `credit.audit.<role>` with the subject masked and a keyed pseudonym (`subject_ref`, hex
//! HMAC-SHA256 under the engine's audit key). A read is answered only once its record is
//! queued: the queue is bounded, and a full queue refuses the read (503 `not_ready`).

use std::path::Path;

use credence_engine::id::mask;
use credence_engine::SubjectKey;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Serialize;
use sha2::Sha256;
use tokio::sync::mpsc;

/// The audit key: 32 bytes, kept as hex in `<data>/audit.key` unless `--audit-key-file` names one.
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

impl AuditKey {
    /// Loads the key at `path`, or makes one there if `create` and the file is absent.
    pub fn load_or_create(path: &Path, create: bool) -> anyhow::Result<AuditKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mut key = [0u8; 32];
                hex::decode_to_slice(text.trim(), &mut key).map_err(|_| {
                    anyhow::anyhow!("{}: an audit key is 64 hex digits", path.display())
                })?;
                Ok(AuditKey(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                write_private(path, &hex::encode(key))?;
                Ok(AuditKey(key))
            }
            Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
        }
    }

    /// A fresh random key (for an in-process demo that keeps nothing).
    pub fn random() -> AuditKey {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        AuditKey(key)
    }

    /// Hex HMAC-SHA256 of `data` under the key.
    pub fn hmac_hex(&self, data: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }

    /// The pseudonym of a subject: HMAC of its normalised identifier.
    pub fn subject_ref(&self, key: SubjectKey) -> String {
        self.hmac_hex(key.text().as_str().as_bytes())
    }
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// One audit record.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AuditRecord {
    pub who: String,
    /// The role, which also names the NATS subject `credit.audit.<role>`.
    pub role: &'static str,
    pub subject: String,
    pub subject_ref: String,
    pub purpose: Option<String>,
    pub endpoint: String,
    pub at: String,
    pub outcome: String,
}

/// The queue to the audit publisher. Cloned into every handler that reads natural persons'
/// data; dropping every sender ends the publisher once it has drained.
#[derive(Clone, Debug)]
pub struct Auditor {
    key: AuditKey,
    tx: mpsc::Sender<AuditRecord>,
}

/// The audit queue was full or closed: the read must be refused.
#[derive(Debug, thiserror::Error)]
#[error("the audit trail cannot take the record now")]
pub struct AuditUnavailable;

impl Auditor {
    /// A bounded queue of `capacity` records and its receiving end (for the publisher).
    pub fn new(key: AuditKey, capacity: usize) -> (Auditor, mpsc::Receiver<AuditRecord>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Auditor { key, tx }, rx)
    }

    pub fn key(&self) -> &AuditKey {
        &self.key
    }

    /// Queues the record of a read of `subject`'s data; `Err` means: refuse the read.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        who: &str,
        role: &'static str,
        subject: SubjectKey,
        purpose: Option<&str>,
        endpoint: &str,
        at: String,
        outcome: &str,
    ) -> Result<(), AuditUnavailable> {
        let rec = AuditRecord {
            who: who.to_owned(),
            role,
            subject: mask(subject.text().as_str()),
            subject_ref: self.key.subject_ref(subject),
            purpose: purpose.map(str::to_owned),
            endpoint: endpoint.to_owned(),
            at,
            outcome: outcome.to_owned(),
        };
        self.tx.try_send(rec).map_err(|_| AuditUnavailable)
    }
}

/// One read of a natural person's data, as their access log shows it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct AccessEntry {
    pub at: String,
    pub who: String,
    pub role: String,
    pub purpose: Option<String>,
    pub endpoint: String,
    pub outcome: String,
}

/// Every audited read, indexed by `subject_ref`: built by a background reader of
/// `CREDIT_AUDIT` (from its start, so it survives restarts exactly as the stream does).
#[derive(Debug, Default)]
pub struct AccessLog {
    by_ref: std::sync::RwLock<std::collections::HashMap<String, Vec<AccessEntry>>>,
    /// Audit records read so far.
    pub records: std::sync::atomic::AtomicU64,
}

impl AccessLog {
    /// Adds one audit record (JSON as published); records without `subject_ref` are skipped.
    pub fn ingest(&self, payload: &[u8]) {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(payload) else {
            return;
        };
        let Some(r) = v.get("subject_ref").and_then(|r| r.as_str()) else {
            return;
        };
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
        let entry = AccessEntry {
            at: s("at"),
            who: s("who"),
            role: s("role"),
            purpose: v.get("purpose").and_then(|x| x.as_str()).map(str::to_owned),
            endpoint: s("endpoint"),
            outcome: s("outcome"),
        };
        self.by_ref
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(r.to_owned())
            .or_default()
            .push(entry);
        self.records
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Forgets everything (before the index is read again from the stream's start).
    pub fn clear(&self) {
        self.by_ref
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.records.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// The reads of the person with this pseudonym, oldest first.
    pub fn reads(&self, subject_ref: &str) -> Vec<AccessEntry> {
        self.by_ref
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(subject_ref)
            .cloned()
            .unwrap_or_default()
    }
}
